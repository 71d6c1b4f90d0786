"""regularization_path and RegularizedRegressorCV against scikit-learn."""

import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV, enet_path
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import RegularizedRegressor, RegularizedRegressorCV, regularization_path
from skreg.linear_model._base import prepare_problem, solve
from skreg.linear_model._closed_form import ridge_loo_predictions
from skreg.linear_model._path import secant_guess
from skreg.linear_model._penalties import l1_l2_strengths

from ._datasets import load


@pytest.mark.parametrize("dataset", ["diabetes", "correlated_wide", "tall"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_matches_enet_path(dataset, l1_ratio):
    X, y = load(dataset)
    penalty = "l1" if l1_ratio == 1.0 else "elasticnet"
    ours = regularization_path(X, y, penalty=penalty, l1_ratio=l1_ratio, alphas=20,
                               eps=1e-2, tol=1e-12, max_iter=100_000)  # fmt: skip
    Xc, yc = X - X.mean(0), y - y.mean()
    alphas, coefs, _ = enet_path(Xc, yc, l1_ratio=l1_ratio, alphas=ours.alphas,
                                 tol=1e-12, max_iter=100_000)  # fmt: skip
    assert_allclose(ours.alphas, alphas)
    assert_allclose(ours.coefs, coefs, rtol=1e-5, atol=1e-7)
    assert_allclose(ours.intercepts, y.mean() - X.mean(0) @ ours.coefs, rtol=1e-10)
    # the first alpha of the grid is alpha_max: every coefficient is zero
    assert np.all(ours.coefs[:, 0] == 0)
    assert np.count_nonzero(ours.coefs[:, 1]) > 0


@pytest.mark.parametrize("dataset", ["diabetes", "correlated_wide", "tall"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_positive_path_matches_enet_path_and_single_fits(dataset, penalty):
    # positive=True takes coordinate descent for every penalty, "l2" included
    # (the closed form cannot enforce it): the compiled path against
    # scikit-learn's enet_path where it has the model (L1 / elastic net) and
    # against single fits for all three.
    X, y = load(dataset)
    l1_ratio = {"l1": 1.0, "elasticnet": 0.5, "l2": 0.0}[penalty]
    alphas = [1.0, 0.3, 0.1, 0.03, 0.01] if penalty == "l2" else 8
    path = regularization_path(X, y, penalty=penalty, l1_ratio=0.5, alphas=alphas,
                               eps=1e-2, positive=True, tol=1e-12,
                               max_iter=100_000)  # fmt: skip
    assert np.all(path.coefs >= 0) and np.count_nonzero(path.coefs) > 0
    if penalty != "l2":
        Xc, yc = X - X.mean(0), y - y.mean()
        _, coefs, _ = enet_path(Xc, yc, l1_ratio=l1_ratio, alphas=path.alphas,
                                positive=True, tol=1e-12,
                                max_iter=100_000)  # fmt: skip
        assert_allclose(path.coefs, coefs, rtol=1e-5, atol=1e-7)
    for k in (1, len(path.alphas) - 1):
        ref = RegularizedRegressor(penalty=penalty, alpha=path.alphas[k],
                                   l1_ratio=0.5, positive=True, tol=1e-12,
                                   max_iter=100_000).fit(X, y)  # fmt: skip
        assert_allclose(path.coefs[:, k], ref.coef_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dataset", ["diabetes", "correlated_wide"])
def test_l2_path_matches_single_fits(dataset):
    X, y = load(dataset)
    path = regularization_path(X, y, penalty="l2", alphas=[1.0, 0.1, 0.01])
    for k, alpha in enumerate(path.alphas):
        ref = RegularizedRegressor(penalty="l2", alpha=alpha).fit(X, y)
        assert_allclose(path.coefs[:, k], ref.coef_, rtol=1e-8, atol=1e-10)
        assert path.intercepts[k] == pytest.approx(ref.intercept_, rel=1e-10)


def test_path_with_weights_matches_single_fits():
    X, y = load("tall")
    sw = np.random.default_rng(0).uniform(0.1, 3, len(y))
    path = regularization_path(X, y, penalty="elasticnet", alphas=[0.5, 0.05],
                               sample_weight=sw, tol=1e-12)  # fmt: skip
    for k, alpha in enumerate(path.alphas):
        ref = RegularizedRegressor(penalty="elasticnet", alpha=alpha, tol=1e-12)
        ref.fit(X, y, sample_weight=sw)
        assert_allclose(path.coefs[:, k], ref.coef_, rtol=1e-6, atol=1e-9)


def test_unconverged_paths_warn_once():
    X, y = load("correlated_wide")
    with pytest.warns(ConvergenceWarning, match=r"regularization_path: \d+ of 10 "
                      "solves did not converge within max_iter=2") as record:
        path = regularization_path(X, y, alphas=10, max_iter=2)
    assert len(record) == 1 and record[0].filename == __file__
    assert np.any(path.dual_gaps > 1e-4 * np.var(y))
    with pytest.warns(ConvergenceWarning) as record:
        RegularizedRegressorCV(penalty="l1", alphas=10, cv=3, max_iter=2).fit(X, y)
    # one for the fold paths, one for the refit: both name the CV estimator
    # and point here
    messages = [str(r.message) for r in record]
    assert len(record) == 2, messages
    assert re.match(r"RegularizedRegressorCV \(cross-validation paths\): \d+ of "
                    r"30 solves", messages[0])  # fmt: skip
    assert messages[1].startswith("RegularizedRegressorCV: the refit on all the "
                                  "data (penalty='l1', alpha=")  # fmt: skip
    assert all(r.filename == __file__ for r in record)
    # converged: silent
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        regularization_path(X, y, alphas=10)
        RegularizedRegressorCV(penalty="l1", alphas=10, cv=3).fit(X, y)


def test_path_rejects_bad_alphas():
    X, y = load("diabetes")
    with pytest.raises(ValueError, match="alphas must be a non-empty array"):
        regularization_path(X, y, alphas=[])
    with pytest.raises(ValueError, match="alphas must be a non-empty array"):
        regularization_path(X, y, alphas=[0.1, -1.0])
    with pytest.raises(ValueError, match="penalty"):
        regularization_path(X, y, penalty="l3")
    # l1_ratio=0 is a valid penalty, but it has no alpha_max to start a grid
    with pytest.raises(ValueError, match="grid cannot be built for l1_ratio=0"):
        regularization_path(X, y, penalty="elasticnet", l1_ratio=0.0, alphas=5)
    path = regularization_path(X, y, penalty="elasticnet", l1_ratio=0.0,
                               alphas=[1.0, 0.1], tol=1e-12)  # fmt: skip
    ref = RegularizedRegressor(penalty="l2", alpha=0.1).fit(X, y)
    assert_allclose(path.coefs[:, 1], ref.coef_, rtol=1e-6)


def _grid_step(alphas):
    return np.exp(np.abs(np.diff(np.log(alphas))).max())


@pytest.mark.parametrize("dataset", ["diabetes", "correlated_wide"])
def test_cv_matches_lasso_cv(dataset):
    X, y = load(dataset)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    ours = RegularizedRegressorCV(penalty="l1", alphas=30, cv=folds, tol=1e-8,
                                  max_iter=100_000).fit(X, y)  # fmt: skip
    ref = LassoCV(alphas=ours.alphas_, cv=folds, tol=1e-8, max_iter=100_000).fit(X, y)
    step = _grid_step(ours.alphas_)
    assert ref.alpha_ / step * 0.999 <= ours.alpha_ <= ref.alpha_ * step * 1.001
    assert_allclose(ours.alphas_, ref.alphas_)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-3, atol=1e-3)


def test_cv_takes_boolean_fold_masks_as_lasso_cv():
    X, y = load("diabetes")
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    masks = []
    for train, _ in folds:
        m = np.zeros(len(y), dtype=bool)
        m[train] = True
        masks.append((m, ~m))
    est = RegularizedRegressorCV(penalty="l1", alphas=20)
    by_index = clone(est).set_params(cv=folds).fit(X, y)
    by_mask = clone(est).set_params(cv=masks).fit(X, y)
    assert by_mask.alpha_ == by_index.alpha_
    assert_allclose(by_mask.mse_path_, by_index.mse_path_, rtol=1e-12)
    ref = LassoCV(alphas=by_mask.alphas_, cv=masks).fit(X, y)
    assert_allclose(by_mask.mse_path_, ref.mse_path_, rtol=1e-3)
    short = [(m[:-1], t[:-1]) for m, t in masks]
    with pytest.raises(ValueError, match=r"boolean fold mask must have shape \(442,\)"):
        clone(est).set_params(cv=short).fit(X, y)


def test_cv_matches_elastic_net_cv():
    X, y = load("diabetes")
    folds = list(KFold(4, shuffle=True, random_state=1).split(X))
    ratios = (0.5, 0.9, 1.0)
    ours = RegularizedRegressorCV(l1_ratio=ratios, alphas=20, cv=folds, tol=1e-8,
                                  max_iter=100_000).fit(X, y)  # fmt: skip
    ref = ElasticNetCV(l1_ratio=ratios, alphas=20, cv=folds, tol=1e-8,
                       max_iter=100_000).fit(X, y)  # fmt: skip
    assert_allclose(ours.alphas_, ref.alphas_)
    assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert ours.l1_ratio_ == ref.l1_ratio_
    step = _grid_step(ours.alphas_[0])
    assert ref.alpha_ / step * 0.999 <= ours.alpha_ <= ref.alpha_ * step * 1.001
    assert ours.penalty_ == "elasticnet"


@pytest.mark.parametrize("dataset", ["diabetes", "tall", "correlated_wide"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_absolute_error"])
def test_l2_leave_one_out_matches_ridge_cv(dataset, fit_intercept, scoring):
    X, y = load(dataset)
    n = len(y)
    alphas = np.geomspace(1e-4, 10, 12)
    ours = RegularizedRegressorCV(penalty="l2", alphas=alphas, cv=None,
                                  fit_intercept=fit_intercept,
                                  scoring=scoring).fit(X, y)  # fmt: skip
    ref = RidgeCV(alphas=alphas * n, fit_intercept=fit_intercept, scoring=scoring,
                  store_cv_results=scoring is None).fit(X, y)  # fmt: skip
    assert ours.alpha_ * n == pytest.approx(ref.alpha_, rel=1e-12)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-10)
    if scoring is None:
        # alphas_ are in decreasing order; RidgeCV keeps the order it was given
        assert_allclose(ours.mse_path_[::-1].T, ref.cv_results_, rtol=1e-7,
                        atol=1e-12)  # fmt: skip
        return
    # As RidgeCV, the scorer sees all leave-one-out predictions of an alpha
    # at once (a score per sample would mean nothing for r2).
    assert ours.score_path_.shape == (12, 1)
    assert ours.score_path_.max() == pytest.approx(ref.best_score_, rel=1e-8)
    res = ours.cv_results_
    assert res["alpha"][np.argmax(res["mean_test_score"])] == ours.alpha_


@pytest.mark.parametrize("dataset", ["tall", "correlated_wide"])  # primal, dual
def test_leave_one_out_predictions_are_refits_without_the_sample(dataset):
    # the closed form against n honest refits, weights (one of them 0) and
    # intercept included
    X, y = load(dataset)
    X, y = X[:30], y[:30]
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    sw[3] = 0.0
    problem = prepare_problem(X, y, sw, True)
    l2s = np.array([0.5, 0.01])
    preds = ridge_loo_predictions(problem, l2s)
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        for a, l2 in enumerate(l2s):
            # the objective is normalized by the total weight: dropping sample
            # i rescales it, which the refit's alpha must follow
            alpha = l2 * sw.sum() / sw[keep].sum()
            fit = RegularizedRegressor(penalty="l2", alpha=alpha).fit(
                X[keep], y[keep], sample_weight=sw[keep]
            )
            assert preds[i, a] == pytest.approx(fit.predict(X[i : i + 1])[0],
                                                rel=1e-8, abs=1e-10)  # fmt: skip


@pytest.mark.parametrize("dataset", ["tall", "correlated_wide"])
def test_l2_leave_one_out_refit_equals_single_fit(dataset):
    # the refit comes from the eigendecomposition behind the LOO errors: it
    # must be the ridge solution at alpha_, weights included
    X, y = load(dataset)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    cv = RegularizedRegressorCV(penalty="l2", alphas=8, cv=None).fit(
        X, y, sample_weight=sw
    )
    single = RegularizedRegressor(penalty="l2", alpha=cv.alpha_).fit(
        X, y, sample_weight=sw
    )
    assert_allclose(cv.coef_, single.coef_, rtol=1e-8, atol=1e-11)
    assert cv.intercept_ == pytest.approx(single.intercept_, rel=1e-8, abs=1e-11)
    assert 0.0 <= cv.dual_gap_ <= 1e-8 * np.var(y)


def test_cv_chooses_among_penalties():
    X, y = load("correlated_wide")  # a sparse truth: the L1 family should win
    reg = RegularizedRegressorCV(penalty=["l2", "l1"], alphas=20, cv=5).fit(X, y)
    assert reg.penalty_ == "l1"
    assert reg.alphas_.shape == (2, 20) and reg.mse_path_.shape == (2, 20, 5)
    res = reg.cv_results_
    assert len(res["alpha"]) == 40
    best = np.argmin(res["mean_test_mse"])
    assert res["rank_test"][best] == 1
    assert res["alpha"][best] == reg.alpha_ and res["penalty"][best] == "l1"


def test_cv_scoring_and_parallel_folds_agree():
    X, y = load_diabetes(return_X_y=True)
    a = RegularizedRegressorCV(penalty="l1", alphas=15, cv=4).fit(X, y)
    b = RegularizedRegressorCV(penalty="l1", alphas=15, cv=4, n_jobs=2,
                               scoring="neg_mean_squared_error").fit(X, y)  # fmt: skip
    assert_allclose(b.score_path_, -a.mse_path_, rtol=1e-10)
    assert a.alpha_ == b.alpha_
    assert_allclose(a.coef_, b.coef_)


def test_cv_in_pipeline_and_grid_search():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), RegularizedRegressorCV(alphas=10, cv=3))
    pipe.fit(X, y)
    assert pipe.score(X, y) > 0.45
    search = GridSearchCV(
        make_pipeline(StandardScaler(), RegularizedRegressor()),
        {"regularizedregressor__penalty": ["l1", "l2"],
         "regularizedregressor__alpha": [0.1, 1.0]},
        cv=3,
    ).fit(X, y)  # fmt: skip
    assert search.best_score_ > 0.4


def test_cv_verbose_prints_progress(capsys):
    X, y = load("tall")
    RegularizedRegressorCV(penalty="l1", alphas=5, cv=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "fold 1/2" in out and "fold 2/2" in out and "refit" in out


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alphas": []}, "alphas must not be empty"),
        ({"alphas": [0.1, 0.0]}, "alphas must be finite and > 0"),
        ({"alphas": [0.1, -2.0]}, "alphas must be finite and > 0"),
        ({"l1_ratio": (0.5, 1.2)}, "l1_ratio must be one or more values in"),
        ({"l1_ratio": (0.0, 0.5)}, "grid cannot be built for l1_ratio=0"),
        ({"penalty": ["l1", "l3"]}, "penalty entries must be in"),
        ({"penalty": []}, "penalty must name at least one penalty"),
        ({"cv": 50}, "asks for 50 folds but X has only 40 samples"),
        ({"eps": 0.0}, "eps"),
    ],
)
def test_cv_bad_parameters(params, match):
    X, y = load("tall")
    X, y = X[:40], y[:40]
    X_before, y_before = X.copy(), y.copy()
    with pytest.raises(ValueError, match=match):
        RegularizedRegressorCV(**params).fit(X, y)
    assert_allclose(X, X_before, rtol=0, atol=0)
    assert_allclose(y, y_before, rtol=0, atol=0)


def test_secant_guess_is_exact_while_the_support_is_fixed():
    # On diabetes every feature is active at the small alphas of the grid
    # and the lasso solution is affine in alpha there: the secant through
    # two solutions predicts the third to the solver's accuracy.
    X, y = load("diabetes")
    alphas = np.array([2e-4, 1.5e-4, 1e-4])
    path = regularization_path(X, y, alphas=alphas, tol=1e-14, max_iter=10**6)
    assert np.all(path.coefs != 0)
    assert np.all(np.sign(path.coefs[:, :1]) == np.sign(path.coefs))
    guess = secant_guess(path.coefs[:, 0], path.coefs[:, 1], path.alphas)
    assert_allclose(guess, path.coefs[:, 2], rtol=1e-7)


def test_secant_guess_keeps_zeros_and_stops_at_zero():
    w0 = np.array([0.0, 1.0, 2.0, 3.0, -1.0])
    w1 = np.array([0.0, 0.0, 1.0, 3.5, -0.5])
    # alpha steps of equal length: the secant adds w1 - w0
    guess = secant_guess(w0, w1, np.array([3.0, 2.0, 1.0]))
    # feature 1 left the support; feature 2 would cross zero (1 -> 0 is
    # where it stops); 3 and 4 follow the line
    assert_allclose(guess, [0.0, 0.0, 0.0, 4.0, 0.0])
    w1[2] = 1.5
    assert_allclose(secant_guess(w0, w1, np.array([3.0, 2.0, 1.0]))[2], 1.0)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("backend", ["dense", "sparse", "gram"])
def test_path_gaps_bound_the_suboptimality(penalty, backend):
    # The gaps a path reports (measured against the best dual point seen,
    # which may come from the previous alpha's solution) are upper bounds
    # on the suboptimality, and below the tolerance.
    X, y = load("tall" if backend == "gram" else "correlated_wide")
    if backend == "sparse":
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    tol = 1e-4
    path = regularization_path(X, y, penalty=penalty, alphas=15, eps=1e-2, tol=tol)
    Xk = X if backend == "sparse" else np.asfortranarray(X)
    problem = prepare_problem(Xk, y, None, True, gram=backend == "gram")
    for k, alpha in enumerate(path.alphas):
        l1, l2 = l1_l2_strengths(penalty, alpha, 0.5)
        w_star, *_ = solve(problem, l1, l2, "cd", False, path.coefs[:, k], 10**6,
                           1e-14, np.random.default_rng(0))  # fmt: skip
        subopt = _objective(problem, path.coefs[:, k], l1, l2) - _objective(
            problem, w_star, l1, l2)
        rounding = 1e-12 * problem.y_scale
        assert -rounding <= subopt <= path.dual_gaps[k] + rounding
        assert path.dual_gaps[k] <= tol * problem.y_scale


@pytest.mark.parametrize("backend", ["dense", "sparse", "gram"])
def test_dual_hint_holds_the_correlations_of_its_point(backend):
    # A path passes each solve's last correlations to the next one, whose
    # stopping test uses them as a dual point (instead of a pass over X) and
    # which screens features with them before its first pass. They must be
    # r^T D r and the state at the stored coefficients, the exact
    # correlations of the features of the last pass and upper bounds on the
    # absolute correlations of the others (screened out, zero), and give a
    # lower bound on the next problem's optimum.
    from skreg.linear_model._penalties import duality_gap

    X, y = load("tall" if backend == "gram" else "correlated_wide")
    if backend == "sparse":
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    Xk = X if backend == "sparse" else np.asfortranarray(X)
    P = prepare_problem(Xk, y, None, True, gram=backend == "gram")
    p = X.shape[1]
    n = X.shape[0]
    hint = (np.empty(p), np.empty(p), np.full(1, np.nan), np.empty(n), np.zeros(1),
            np.empty(p, dtype=np.int32))
    l1 = 0.05 * np.abs(P.X.T @ (P.d * (P.y - P.y_mean))).max()
    w, *_ = solve(P, 1.1 * l1, 0.0, "cd", False, np.zeros(p), 10**4, 1e-4,
                  np.random.default_rng(0), dual_hint=hint)  # fmt: skip
    # the next solve of a path screens with the hint before its first pass
    solve(P, l1, 0.0, "cd", False, w, 10**4, 1e-4, np.random.default_rng(0),
          dual_hint=hint)  # fmt: skip
    g, w_hint, quad, state, offset, exact = hint
    exact = exact.astype(bool)
    # the passes skipped the screened features (not on the Gram backend,
    # whose state holds every correlation)
    assert (~exact).any() == (backend != "gram")
    assert np.isfinite(quad[0]) and np.count_nonzero(w_hint) > 0
    r = (P.y - P.y_mean) - (P.X @ w_hint - P.X_mean @ w_hint)
    Xc_r = P.X.T @ (P.d * r) - P.X_mean * (P.d @ r)
    scale = np.abs(Xc_r).max()
    assert_allclose(g[exact], Xc_r[exact], rtol=1e-9, atol=1e-9 * scale)
    assert exact[w_hint != 0].all()
    bounded = g[~exact] >= np.abs(Xc_r[~exact]) - 1e-9 * scale
    assert (w_hint[~exact] == 0).all() and bounded.all()
    assert_allclose(quad[0], P.d @ (r * r), rtol=1e-9)
    if backend != "gram":  # the residual is state + offset
        assert_allclose(state + offset[0], r, rtol=1e-9, atol=1e-9 * np.abs(r).max())
    # the dual value of that point at other penalties bounds their optimum,
    # closely for the next alpha of a path
    for l1_next, l2_next, closeness in [(0.8 * l1, 0.0, 0.98),
                                        (0.4 * l1, 0.4 * l1, 0.0)]:
        primal, gap = duality_gap(g, w_hint, quad[0], l1_next, l2_next, False,
                                  P.curvature)  # fmt: skip
        w_star, *_ = solve(P, l1_next, l2_next, "cd", False, w_hint, 10**6,
                           1e-14, np.random.default_rng(0))  # fmt: skip
        optimum = _objective(P, w_star, l1_next, l2_next)
        assert closeness * optimum <= primal - gap <= optimum + 1e-12 * P.y_scale


def _objective(problem, w, l1, l2):
    P = problem
    r = (P.y - P.y_mean) - (P.X @ w - P.X_mean @ w)
    return 0.5 * P.d @ (r * r) + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w


def test_l2_leave_one_out_takes_x_in_any_layout_without_copying_it():
    # The closed form reads X in any memory layout: a C-ordered X gives the
    # same result as its Fortran copy, and the fit does not copy it (the
    # coordinate-descent estimators need columns and do copy).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 60))
    y = X @ rng.standard_normal(60) + rng.standard_normal(4000)
    alphas = np.geomspace(1e-3, 10, 8)
    est = RegularizedRegressorCV(penalty="l2", alphas=alphas, cv=None)
    ref = clone(est).fit(np.asfortranarray(X), y)
    est.fit(X[:100], y[:100])  # compile and warm up before measuring
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        est.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * X.nbytes
    assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    assert_allclose(est.mse_path_, ref.mse_path_, rtol=1e-10,
                    atol=1e-12 * ref.mse_path_.max())  # BLAS summation order


def test_path_with_repeated_alphas_warns_nothing():
    X, y = load("diabetes")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = regularization_path(X, y, alphas=[1.0, 0.5, 0.5, 0.5, 0.1])
    # The three solves at alpha = 0.5 (the later ones warm-started from the
    # earlier) are each within its duality gap of the optimum, so their
    # objectives agree within the larger gap; the gaps meet the tolerance.
    def objective(k):
        r = y - X @ path.coefs[:, k] - path.intercepts[k]
        return 0.5 * np.mean(r**2) + 0.5 * np.abs(path.coefs[:, k]).sum()

    assert np.all(path.dual_gaps <= 1e-4 * np.var(y))
    for k in (2, 3):
        bound = max(path.dual_gaps[1], path.dual_gaps[k])
        assert abs(objective(k) - objective(1)) <= bound
        assert_allclose(path.coefs[:, k], path.coefs[:, 1], rtol=1e-4)


@pytest.mark.parametrize("shape", [(80, 12), (12, 30)], ids=["primal", "dual"])
@pytest.mark.parametrize("several", [False, True])
def test_ridge_grid_and_errors_share_one_decomposition(monkeypatch, shape, several):
    """With an int ``alphas``, the "l2" grid (from the largest eigenvalue) and
    the leave-one-out errors or the path come from one eigendecomposition,
    for one target or several."""
    from skreg.linear_model import _closed_form

    calls = []
    eigh = _closed_form.linalg.eigh

    def counting_eigh(*args, **kwargs):
        calls.append(1)
        return eigh(*args, **kwargs)

    monkeypatch.setattr(_closed_form.linalg, "eigh", counting_eigh)
    rng = np.random.default_rng(0)
    X = rng.standard_normal(shape)
    y = rng.standard_normal((shape[0], 3) if several else shape[0])
    RegularizedRegressorCV(penalty="l2", cv=None, alphas=20).fit(X, y)
    assert len(calls) == 1
    if not several:
        calls.clear()
        path = regularization_path(X, y, penalty="l2", alphas=20)
        assert len(calls) == 1
        ref = regularization_path(X, y, penalty="l2", alphas=path.alphas)
        assert_allclose(path.coefs, ref.coefs, rtol=1e-12, atol=1e-14)
