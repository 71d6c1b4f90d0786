"""Several targets: RegularizedRegressor fits each column of a 2-d ``y`` on its
own, as scikit-learn's Lasso, ElasticNet, Ridge and LinearRegression do;
RegularizedRegressorCV takes several with ridge candidates only (one alpha
for all, as RidgeCV), one otherwise, like LassoCV."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skreg import RegularizedRegressor, RegularizedRegressorCV


def _targets(n=60, p=8, k=3, seed=0):
    """Targets of different scales and offsets, one of them pure noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    Y = np.column_stack([
        X @ rng.uniform(-2, 2, p) + 1.5 + 0.3 * rng.standard_normal(n),
        100.0 * (X[:, :3] @ [1.0, -2.0, 0.5]) - 40.0,
        rng.standard_normal(n),
    ][:k])  # fmt: skip
    return X, Y


# penalty, solver, keyword arguments, scikit-learn's equivalent (alpha scaled)
CASES = [
    ("l1", "cd", {"alpha": 0.05}, lambda a, n: Lasso(alpha=a, tol=1e-12,
                                                     max_iter=100_000)),
    ("elasticnet", "cd", {"alpha": 0.05, "l1_ratio": 0.3},
     lambda a, n: ElasticNet(alpha=a, l1_ratio=0.3, tol=1e-12, max_iter=100_000)),
    ("l1", "gd", {"alpha": 0.05}, lambda a, n: Lasso(alpha=a, tol=1e-12,
                                                     max_iter=100_000)),
    ("l2", "cholesky", {"alpha": 0.1}, lambda a, n: Ridge(alpha=a * n)),
    ("l2", "cd", {"alpha": 0.1}, lambda a, n: Ridge(alpha=a * n)),
    (None, "cholesky", {}, lambda a, n: LinearRegression()),
]  # fmt: skip


# without a penalty, p > n has no unique solution: n > p only
@pytest.mark.parametrize(
    ("penalty", "solver", "kwargs", "reference", "shape"),
    [(*case, shape) for case in CASES for shape in [(60, 8), (20, 30)]
     if case[0] is not None or shape[0] > shape[1]],
)  # fmt: skip
def test_targets_match_scikit_learn(penalty, solver, kwargs, reference, shape):
    X, Y = _targets(*shape)
    est = RegularizedRegressor(penalty=penalty, solver=solver, tol=1e-12,
                               max_iter=100_000, **kwargs).fit(X, Y)  # fmt: skip
    ref = reference(kwargs.get("alpha", 0.0), X.shape[0]).fit(X, Y)
    assert est.coef_.shape == ref.coef_.shape == (3, X.shape[1])
    assert est.intercept_.shape == (3,)
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-7 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6,
                    atol=1e-7 * np.abs(Y).max())  # fmt: skip
    assert_allclose(est.predict(X), ref.predict(X), rtol=1e-6,
                    atol=1e-6 * np.abs(Y).max())  # fmt: skip
    assert len(est.n_iter_) == 3 and all(isinstance(i, int) for i in est.n_iter_)
    assert est.dual_gap_.shape == (3,)


@pytest.mark.parametrize(
    ("penalty", "solver", "sparse"),
    [("l1", "cd", False), ("l1", "cd", True), ("elasticnet", "gd", False),
     ("elasticnet", "gd", True), ("l2", "cd", True), ("l2", "cholesky", False)],
)  # fmt: skip
def test_each_target_is_its_own_fit(penalty, solver, sparse):
    """The model of column k is the model fitted on column k alone: same
    coefficients, intercept, gap and epochs, with sample weights. The
    iterative solvers see exactly the numbers of a 1-d fit (bit for bit);
    "cholesky" solves for all the columns at once, which changes the last
    bits of the products."""
    X, Y = _targets()
    X[np.abs(X) < 0.8] = 0.0
    X = sp.csc_matrix(X) if sparse else X
    sw = np.random.default_rng(1).uniform(0.2, 3.0, X.shape[0])
    params = dict(penalty=penalty, solver=solver, alpha=0.05, tol=1e-10,
                  max_iter=100_000)  # fmt: skip
    est = RegularizedRegressor(**params).fit(X, Y, sample_weight=sw)
    for k in range(Y.shape[1]):
        one = RegularizedRegressor(**params).fit(X, Y[:, k], sample_weight=sw)
        if solver == "cholesky":
            assert_allclose(est.coef_[k], one.coef_, rtol=1e-12, atol=1e-13)
            assert_allclose(est.intercept_[k], one.intercept_, rtol=1e-12)
        else:
            assert_array_equal(est.coef_[k], one.coef_)
            assert est.intercept_[k] == one.intercept_
            assert est.dual_gap_[k] == one.dual_gap_
        assert est.n_iter_[k] == one.n_iter_
        assert est.dual_gap_[k] <= 1e-10 * np.average(
            (Y[:, k] - np.average(Y[:, k], weights=sw)) ** 2, weights=sw
        )


def test_column_vector_is_one_target():
    """y of shape (n, 1) gives the attributes and predictions of a 1-d y, as
    scikit-learn's Lasso does (coef_ of shape (n_features,), 1-d predict)."""
    X, Y = _targets(k=1)
    est2 = RegularizedRegressor(penalty="l1", alpha=0.05).fit(X, Y)
    est1 = RegularizedRegressor(penalty="l1", alpha=0.05).fit(X, Y[:, 0])
    assert est2.coef_.shape == (X.shape[1],)
    assert isinstance(est2.intercept_, float) and isinstance(est2.n_iter_, int)
    assert isinstance(est2.dual_gap_, float)
    assert_array_equal(est2.coef_, est1.coef_)
    assert est2.predict(X).shape == (X.shape[0],)
    assert Lasso(alpha=0.05).fit(X, Y).predict(X).shape == (X.shape[0],)


def test_float32_targets():
    X, Y = _targets()
    est = RegularizedRegressor(penalty="l1", alpha=0.05).fit(
        X.astype(np.float32), Y.astype(np.float32)
    )
    assert est.coef_.dtype == np.float32 and est.coef_.shape == (3, X.shape[1])
    ref = RegularizedRegressor(penalty="l1", alpha=0.05, tol=1e-10).fit(X, Y)
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=1e-3, atol=1e-3 * scale)
    assert est.predict(X.astype(np.float32)).dtype == np.float32


def test_warm_start_with_several_targets():
    X, Y = _targets()
    est = RegularizedRegressor(penalty="l1", alpha=0.05, warm_start=True,
                               tol=1e-10).fit(X, Y)  # fmt: skip
    first = est.coef_.copy()
    epochs = est.fit(X, Y).n_iter_  # from the solution: converged at once
    assert_allclose(est.coef_, first, rtol=1e-8, atol=1e-10)
    cold = RegularizedRegressor(penalty="l1", alpha=0.05, tol=1e-10).fit(X, Y)
    assert all(w <= c for w, c in zip(epochs, cold.n_iter_, strict=True))
    # another number of targets: the old coefficients do not fit, cold start
    est.fit(X, Y[:, :2])
    assert_allclose(est.coef_, cold.coef_[:2], rtol=1e-8, atol=1e-10)


def test_convergence_warning_names_the_target():
    X, Y = _targets()
    Y[:, 1] = X[:, 0] + 1e-3 * X[:, 1]  # an easy target and two harder ones
    with pytest.warns(ConvergenceWarning, match="did not converge on target"):
        RegularizedRegressor(penalty="l1", alpha=1e-4, max_iter=1,
                             tol=1e-12).fit(X, Y)  # fmt: skip


def test_inputs_unchanged_and_bad_targets():
    X, Y = _targets()
    X0, Y0 = X.copy(), Y.copy()
    RegularizedRegressor(penalty="elasticnet", alpha=0.05).fit(X, Y)
    RegularizedRegressor(penalty="l2").fit(X, Y)
    assert_array_equal(X, X0)
    assert_array_equal(Y, Y0)
    with pytest.raises(ValueError, match=r"shape=\(60, 0\)"):
        RegularizedRegressor().fit(X, np.empty((X.shape[0], 0)))
    Y[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RegularizedRegressor().fit(X, Y)


def test_cv_takes_one_target_except_ridge():
    X, Y = _targets()
    for est in [RegularizedRegressorCV(penalty="l1", alphas=5),
                RegularizedRegressorCV(penalty=["l1", "l2"], alphas=5, cv=3),
                RegularizedRegressorCV(penalty="l2", alphas=5, cv=None,
                                       l1_ratio=0.5).set_params(
                                           penalty=["l2", "elasticnet"])]:  # fmt: skip
        with pytest.raises(ValueError, match="several targets only with ridge "
                                             r"\(every candidate penalty 'l2'\), "
                                             "but y has 3 columns"):
            est.fit(X, Y)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        col = RegularizedRegressorCV(penalty="l1", alphas=5, cv=3).fit(X, Y[:, :1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        flat = RegularizedRegressorCV(penalty="l1", alphas=5, cv=3).fit(X, Y[:, 0])
    assert_array_equal(col.coef_, flat.coef_)
    assert col.alpha_ == flat.alpha_
    assert not RegularizedRegressorCV().__sklearn_tags__().target_tags.multi_output
    for cv in [None, 3]:
        assert RegularizedRegressorCV(
            penalty="l2", cv=cv
        ).__sklearn_tags__().target_tags.multi_output


def _ridge_fold_mse(X, Y, folds, alphas, sample_weight=None):
    """Held-out MSE per alpha and fold of scikit-learn's multi-target Ridge
    (averaged over the samples, weighted, and the targets), each fold at
    skreg's alpha scale (Ridge's alpha = alpha * the fold's weight sum)."""
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    out = np.empty((len(alphas), len(folds)))
    for k, (train, test) in enumerate(folds):
        for a, alpha in enumerate(alphas):
            ridge = Ridge(alpha=alpha * sw[train].sum(), solver="svd").fit(
                X[train], Y[train], sample_weight=sw[train])
            err = (Y[test] - ridge.predict(X[test])) ** 2
            out[a, k] = np.average(err.mean(axis=1), weights=sw[test])
    return out


@pytest.mark.parametrize("shape", [(60, 8), (24, 30)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_kfold_ridge_targets_match_ridge_on_each_fold(shape, weighted):
    """k-fold CV of ridge with several targets: the held-out errors are
    those of scikit-learn's Ridge on each fold, one alpha is chosen for all
    targets (the smallest mean error), and the refit is Ridge's at it."""
    X, Y = _targets(*shape)
    sw = (np.random.default_rng(5).uniform(0.2, 3.0, X.shape[0]) if weighted
          else None)  # fmt: skip
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    alphas = np.logspace(-3, 1, 9)
    est = RegularizedRegressorCV(penalty="l2", alphas=alphas, cv=folds).fit(
        X, Y, sample_weight=sw)
    ref = _ridge_fold_mse(X, Y, folds, alphas[::-1], sw)  # decreasing, as ours
    assert_allclose(est.mse_path_, ref, rtol=1e-8)
    assert est.alpha_ == alphas[::-1][np.argmin(ref.mean(axis=1))]
    total = X.shape[0] if sw is None else sw.sum()
    refit = Ridge(alpha=est.alpha_ * total, solver="svd").fit(X, Y, sample_weight=sw)
    assert est.coef_.shape == (3, X.shape[1])
    assert_allclose(est.coef_, refit.coef_, rtol=1e-7, atol=1e-10)
    assert_allclose(est.intercept_, refit.intercept_, rtol=1e-7, atol=1e-10)
    assert est.predict(X).shape == Y.shape


def test_kfold_ridge_targets_score_as_ridgecv():
    """With a scorer, every target's predictions are scored at once, as
    RidgeCV with cv set does (R^2 averaged over the targets): equal folds
    make both alpha scales agree (Ridge's alpha = ours * n_train)."""
    X, Y = _targets(60, 8)
    folds = list(KFold(3).split(X))  # 40 training samples in each
    alphas = np.logspace(-3, 1, 9)
    est = RegularizedRegressorCV(penalty="l2", alphas=alphas, cv=folds,
                                 scoring="r2").fit(X, Y)  # fmt: skip
    ref = RidgeCV(alphas=alphas * 40, cv=folds, scoring="r2").fit(X, Y)
    assert_allclose(est.alpha_ * 40, ref.alpha_, rtol=1e-12)
    assert_allclose(est.score_path_.mean(axis=-1).max(), ref.best_score_,
                    rtol=1e-9)  # fmt: skip


def test_kfold_ridge_targets_positive():
    """positive=True (coordinate descent for each target): the refit is
    the multi-target RegularizedRegressor at the chosen alpha, and the
    held-out errors are those of per-target fits on the folds."""
    X, Y = _targets(60, 8)
    folds = list(KFold(3).split(X))
    alphas = np.logspace(-2, 0, 4)
    est = RegularizedRegressorCV(penalty="l2", alphas=alphas, cv=folds,
                                 positive=True, tol=1e-10).fit(X, Y)  # fmt: skip
    assert np.all(est.coef_ >= 0)
    one = RegularizedRegressor(penalty="l2", alpha=est.alpha_, positive=True,
                               tol=1e-10).fit(X, Y)  # fmt: skip
    assert_allclose(est.coef_, one.coef_, rtol=1e-6, atol=1e-9)
    train, test = folds[1]
    alpha = alphas[::-1][2]
    fold = RegularizedRegressor(penalty="l2", alpha=alpha, positive=True,
                                tol=1e-10).fit(X[train], Y[train])  # fmt: skip
    err = ((Y[test] - fold.predict(X[test])) ** 2).mean()
    assert_allclose(est.mse_path_[2, 1], err, rtol=1e-6)


@pytest.mark.parametrize("shape", [(60, 8), (20, 30)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("scoring", [None, "r2"])
def test_leave_one_out_ridge_targets_match_ridgecv(shape, scoring):
    """One alpha for all the targets, as RidgeCV (alpha_per_target=False):
    same alpha, coefficients, and leave-one-out squared errors (RidgeCV's
    cv_results_ averaged over the targets)."""
    X, Y = _targets(*shape)
    n = X.shape[0]
    alphas = np.logspace(-4, 1, 12)
    est = RegularizedRegressorCV(penalty="l2", cv=None, alphas=alphas,
                                 scoring=scoring).fit(X, Y)  # fmt: skip
    ref = RidgeCV(alphas=alphas * n, scoring=scoring,
                  store_cv_results=scoring is None).fit(X, Y)  # fmt: skip
    assert_allclose(est.alpha_ * n, ref.alpha_, rtol=1e-12)
    assert est.coef_.shape == ref.coef_.shape == (3, X.shape[1])
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)
    assert est.predict(X).shape == Y.shape
    assert est.n_iter_ == [1, 1, 1] and est.dual_gap_.shape == (3,)
    if scoring is None:
        # ours: (n_alphas, n_samples) in decreasing alpha; RidgeCV's:
        # (n_samples, n_targets, n_alphas) in the given (increasing) order
        expected = ref.cv_results_.mean(axis=1).T[::-1]
        assert_allclose(est.mse_path_, expected, rtol=1e-7, atol=1e-10 * expected.max())
    else:
        assert_allclose(est.score_path_.max(), ref.best_score_, rtol=1e-10)
    # each target's coefficients are those of a ridge fit at the chosen alpha
    for k in range(3):
        one = RegularizedRegressor(penalty="l2", alpha=est.alpha_).fit(X, Y[:, k])
        assert_allclose(est.coef_[k], one.coef_, rtol=1e-9, atol=1e-12)


def test_leave_one_out_ridge_targets_with_sample_weight():
    X, Y = _targets()
    sw = np.random.default_rng(3).uniform(0.2, 3.0, X.shape[0])
    alphas = np.logspace(-4, 1, 12)
    est = RegularizedRegressorCV(penalty="l2", cv=None, alphas=alphas).fit(
        X, Y, sample_weight=sw)
    ref = RidgeCV(alphas=alphas * sw.sum()).fit(X, Y, sample_weight=sw)
    assert_allclose(est.alpha_ * sw.sum(), ref.alpha_, rtol=1e-12)
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9 * scale)


def test_leave_one_out_ridge_column_vector():
    """y of shape (n, 1) with leave-one-out ridge: a single target, no warning."""
    X, Y = _targets(k=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        col = RegularizedRegressorCV(penalty="l2", cv=None, alphas=8).fit(X, Y)
    flat = RegularizedRegressorCV(penalty="l2", cv=None, alphas=8).fit(X, Y[:, 0])
    assert col.coef_.shape == (X.shape[1],) and isinstance(col.intercept_, float)
    assert col.alpha_ == flat.alpha_
    assert_allclose(col.coef_, flat.coef_, rtol=1e-12)
    assert col.predict(X).shape == (X.shape[0],)


def test_several_targets_in_a_grid_search():
    """In a Pipeline inside GridSearchCV, scored by the R^2 averaged over the
    targets, as scikit-learn's Ridge is."""
    X, Y = _targets(n=90)
    grid = {"reg__alpha": [1e-3, 1e-1, 10.0]}
    ours = GridSearchCV(Pipeline([("scale", StandardScaler()),
                                  ("reg", RegularizedRegressor(penalty="l2"))]),
                        grid, cv=3).fit(X, Y)  # fmt: skip
    grid_ref = {"reg__alpha": [a * 60 for a in grid["reg__alpha"]]}  # n_train = 60
    ref = GridSearchCV(Pipeline([("scale", StandardScaler()), ("reg", Ridge())]),
                       grid_ref, cv=3).fit(X, Y)  # fmt: skip
    assert_allclose(ours.cv_results_["mean_test_score"],
                    ref.cv_results_["mean_test_score"], rtol=1e-10)  # fmt: skip
    assert ours.predict(X).shape == Y.shape


@pytest.mark.parametrize("shape", [(60, 8), (20, 30)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("scoring", [None, "r2"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_leave_one_out_alpha_per_target_matches_ridgecv(shape, scoring, weighted):
    """alpha_per_target=True with leave-one-out: RidgeCV's alpha for each
    target, its coefficients, and its per-target leave-one-out errors or
    best scores."""
    X, Y = _targets(*shape)
    sw = (np.random.default_rng(4).uniform(0.2, 3.0, X.shape[0]) if weighted
          else None)  # fmt: skip
    total = X.shape[0] if sw is None else sw.sum()
    alphas = np.logspace(-4, 1, 12)
    est = RegularizedRegressorCV(penalty="l2", cv=None, alphas=alphas,
                                 scoring=scoring, alpha_per_target=True).fit(
        X, Y, sample_weight=sw)  # fmt: skip
    ref = RidgeCV(alphas=alphas * total, scoring=scoring, alpha_per_target=True,
                  store_cv_results=scoring is None and sw is None).fit(
        X, Y, sample_weight=sw)  # fmt: skip
    assert est.alpha_.shape == (3,)
    assert_allclose(est.alpha_ * total, ref.alpha_, rtol=1e-12)
    # the three targets do not all choose the same alpha here
    assert len(np.unique(est.alpha_)) > 1
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9 * scale)
    if scoring is None and sw is None:
        # ours: (n_alphas, n_samples, n_targets) in decreasing alpha;
        # RidgeCV's: (n_samples, n_targets, n_alphas), increasing
        expected = np.transpose(ref.cv_results_, (2, 0, 1))[::-1]
        assert_allclose(est.mse_path_, expected, rtol=1e-7,
                        atol=1e-10 * expected.max())  # fmt: skip
    elif scoring is not None:
        assert est.score_path_.shape == (12, 1, 3)
        # (1e-8: p > n at the smallest alpha is ill-conditioned for both)
        assert_allclose(est.score_path_.max(axis=(0, 1)), ref.best_score_, rtol=1e-8)
    # each target's refit is a ridge fit at its own alpha
    for k in range(3):
        one = RegularizedRegressor(penalty="l2", alpha=est.alpha_[k]).fit(
            X, Y[:, k], sample_weight=sw)
        assert_allclose(est.coef_[k], one.coef_, rtol=1e-9, atol=1e-12 * scale)


@pytest.mark.parametrize("scoring", [None, "r2"])
@pytest.mark.parametrize("positive", [False, True])
def test_kfold_alpha_per_target_is_each_target_on_its_own(scoring, positive):
    """alpha_per_target=True with k folds: each target gets the alpha, path
    and refit of a single-target search on the same folds (and, for the
    held-out errors, scikit-learn's Ridge on each fold)."""
    X, Y = _targets(60, 8)
    sw = np.random.default_rng(6).uniform(0.2, 3.0, X.shape[0])
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    alphas = np.logspace(-3, 1, 9)
    kw = dict(penalty="l2", cv=folds, alphas=alphas, scoring=scoring,
              positive=positive, tol=1e-10)  # fmt: skip
    est = RegularizedRegressorCV(alpha_per_target=True, **kw).fit(
        X, Y, sample_weight=sw)
    assert est.mse_path_.shape == (9, 4, 3)
    assert len(np.unique(est.alpha_)) > 1
    for k in range(3):
        one = RegularizedRegressorCV(**kw).fit(X, Y[:, k], sample_weight=sw)
        assert est.alpha_[k] == one.alpha_
        assert_allclose(est.mse_path_[..., k], one.mse_path_, rtol=1e-9)
        if scoring is not None:
            assert_allclose(est.score_path_[..., k], one.score_path_, rtol=1e-9)
        assert_allclose(est.coef_[k], one.coef_, rtol=1e-7, atol=1e-10)
        assert_allclose(est.intercept_[k], one.intercept_, rtol=1e-7, atol=1e-10)
    if not positive:
        ref = _ridge_fold_mse(X, Y, folds, alphas[::-1], sw)  # targets' mean
        assert_allclose(est.mse_path_.mean(axis=-1), ref, rtol=1e-8)
    assert est.n_iter_ == [int(i) for i in est.n_iter_] and len(est.n_iter_) == 3
    assert est.dual_gap_.shape == est.intercept_.shape == (3,)
    # the summary is over the targets' mean errors
    assert_allclose(est.cv_results_["mean_test_mse"],
                    est.mse_path_.mean(axis=(1, 2)), rtol=1e-12)  # fmt: skip
    assert est.predict(X).shape == Y.shape


def test_alpha_per_target_needs_ridge_and_ignores_one_target(capsys):
    X, Y = _targets(60, 8)
    est = RegularizedRegressorCV(penalty="l2", cv=3, alphas=8, verbose=1,
                                 alpha_per_target=True).fit(X, Y)  # fmt: skip
    shown = ", ".join(f"{a:.4g}" for a in est.alpha_)
    assert f"alpha=[{shown}]" in capsys.readouterr().out
    with pytest.raises(ValueError, match="alpha_per_target=True .* 'l2'"):
        RegularizedRegressorCV(penalty=["l2", "l1"], alpha_per_target=True).fit(
            X, Y[:, 0])
    # one target: the usual scalar alpha, as RidgeCV
    a = RegularizedRegressorCV(penalty="l2", cv=None, alphas=8,
                               alpha_per_target=True).fit(X, Y[:, 0])  # fmt: skip
    b = RegularizedRegressorCV(penalty="l2", cv=None, alphas=8).fit(X, Y[:, 0])
    assert isinstance(a.alpha_, float) and a.alpha_ == b.alpha_
    assert_array_equal(a.mse_path_, b.mse_path_)
    # float32: the dtypes of the refit's attributes do not depend on cv
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    for cv in [None, 3]:
        est = RegularizedRegressorCV(penalty="l2", cv=cv, alphas=5,
                                     alpha_per_target=True).fit(X32, Y32)  # fmt: skip
        assert est.coef_.dtype == np.float32
        assert est.intercept_.dtype == est.dual_gap_.dtype == np.float64
