"""RegularizedRegressor as an estimator: validation, dtypes, copies, behaviour
and scikit-learn integration (the solvers' accuracy is tested elsewhere)."""

import pickle
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skreg import RegularizedRegressor

from ._datasets import alpha_max, load

SOLVERS = ["cd", "gd", "cholesky"]


def _problem(n=40, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.uniform(-2, 2, p) + 1.5 + 0.3 * rng.standard_normal(n)
    return X, y


def _unchanged(*pairs):
    for after, before in pairs:
        if before is None:
            continue
        if sp.issparse(before):
            assert_array_equal(after.toarray(), before.toarray())
        else:
            assert_array_equal(np.asarray(after), np.asarray(before))


# --------------------------------------------------------------------------
# 1. Bad input
# --------------------------------------------------------------------------


def _bad_fit_inputs():
    X, y = _problem()
    n = len(y)
    nan_X = X.copy()
    nan_X[3, 1] = np.nan
    inf_X = X.copy()
    inf_X[0, 0] = np.inf
    nan_y = y.copy()
    nan_y[5] = np.nan
    str_X = X.astype(object)
    str_X[2, 3] = "a"
    # id: (params, X, y, sample_weight, error, match)
    return {
        "nan_X": ({}, nan_X, y, None, ValueError, "Input X contains NaN"),
        "inf_X": ({}, inf_X, y, None, ValueError, "Input X contains infinity"),
        "nan_y": ({}, X, nan_y, None, ValueError, "Input y contains NaN"),
        "empty_X": ({}, X[:0], y[:0], None, ValueError, r"0 sample\(s\)"),
        "no_features": ({}, X[:, :0], y, None, ValueError, r"0 feature\(s\)"),
        "1d_X": ({}, X[:, 0], y, None, ValueError, "Expected 2D array"),
        "length_mismatch": (
            {}, X, y[:-1], None, ValueError, "inconsistent numbers of samples",
        ),
        "strings_X": (
            {}, str_X, y, None, ValueError, "could not convert string",
        ),
        "complex_X": (
            {}, X.astype(complex), y, None, ValueError, "Complex data not supported"
        ),
        "negative_alpha": ({"alpha": -0.1}, X, y, None, ValueError, "'alpha'"),
        "l1_ratio_below": ({"l1_ratio": -0.1}, X, y, None, ValueError, "'l1_ratio'"),
        "l1_ratio_above": ({"l1_ratio": 1.1}, X, y, None, ValueError, "'l1_ratio'"),
        "unknown_penalty": ({"penalty": "l3"}, X, y, None, ValueError, "'penalty'"),
        "unknown_solver": ({"solver": "sgd"}, X, y, None, ValueError, "'solver'"),
        "max_iter_0": ({"max_iter": 0}, X, y, None, ValueError, "'max_iter'"),
        "tol_0": ({"tol": 0.0}, X, y, None, ValueError, "'tol'"),
        "tol_negative": ({"tol": -1e-3}, X, y, None, ValueError, "'tol'"),
        "cholesky_l1": (
            {"solver": "cholesky", "penalty": "l1"}, X, y, None, ValueError,
            r"solver.*penalty",
        ),
        "cholesky_positive": (
            {"solver": "cholesky", "positive": True}, X, y, None, ValueError,
            r"cholesky.*positive",
        ),
        "negative_weight": (
            {}, X, y, np.r_[-1.0, np.ones(n - 1)], ValueError,
            "Negative values.*sample_weight",
        ),
        "weight_length": (
            {}, X, y, np.ones(n - 3), ValueError, r"sample_weight\.shape",
        ),
        "weight_sum_zero": (
            {}, X, y, np.zeros(n), ValueError, "(sample_weight|[Ss]ample weights)",
        ),
        "sparse_X_cholesky": ({"solver": "cholesky"}, sp.csr_matrix(X), y, None,
                              TypeError, "cholesky.*sparse"),
    }  # fmt: skip


BAD_FIT = _bad_fit_inputs()


@pytest.mark.parametrize("case", list(BAD_FIT))
def test_bad_fit_input_raises_and_leaves_data_alone(case):
    params, X, y, sw, error, match = BAD_FIT[case]
    copies = [a.copy() if a is not None else None for a in (X, y, sw)]
    reg = RegularizedRegressor(**params)
    with pytest.raises(error, match=match):
        reg.fit(X, y, sample_weight=sw)
    _unchanged(*zip((X, y, sw), copies, strict=True))
    assert not hasattr(reg, "coef_")


def test_predict_with_other_number_of_features():
    X, y = _problem()
    reg = RegularizedRegressor().fit(X, y)
    X_bad = X[:, :3].copy()
    before = X_bad.copy()
    with pytest.raises(ValueError, match="X has 3 features.*expecting 5"):
        reg.predict(X_bad)
    _unchanged((X_bad, before))


def test_predict_before_fit():
    X, _ = _problem()
    before = X.copy()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        RegularizedRegressor().predict(X)
    _unchanged((X, before))


# --------------------------------------------------------------------------
# 2. Input types
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_in_float32_out(solver):
    X, y = _problem()
    X32 = X.astype(np.float32)
    reg = RegularizedRegressor(solver=solver, alpha=0.1).fit(X32, y)
    assert reg.coef_.dtype == np.float32
    assert reg.predict(X32).dtype == np.float32
    assert isinstance(reg.intercept_, float)
    ref = RegularizedRegressor(solver=solver, alpha=0.1).fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.int32, bool])
def test_other_dtypes_give_float64(solver, dtype):
    X, y = _problem()
    Xd = (X > 0) if dtype is bool else (X * 4).astype(dtype)
    reg = RegularizedRegressor(solver=solver, alpha=0.1).fit(Xd, y)
    assert reg.coef_.dtype == np.float64
    assert reg.predict(Xd).dtype == np.float64
    ref = RegularizedRegressor(solver=solver, alpha=0.1).fit(Xd.astype(np.float64), y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-12, atol=1e-12)


def test_pandas_input():
    X, y = _problem()
    columns = [f"feat_{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    ys = pd.Series(y, name="target")
    reg = RegularizedRegressor(penalty="l1", alpha=0.01).fit(df, ys)
    assert list(reg.feature_names_in_) == columns
    assert reg.n_features_in_ == X.shape[1]
    ref = RegularizedRegressor(penalty="l1", alpha=0.01).fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-12)
    assert_allclose(reg.predict(df), ref.predict(X), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "feature names" warning
        reg.predict(df)


# --------------------------------------------------------------------------
# 3. The caller's data is never written to
# --------------------------------------------------------------------------


def _layouts(X, tmp_path):
    yield "C", np.ascontiguousarray(X)
    yield "F", np.asfortranarray(X)
    readonly = X.copy()
    readonly.flags.writeable = False
    yield "readonly", readonly
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    yield "memmap", np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _flags(a):
    return a.flags.c_contiguous, a.flags.f_contiguous, a.flags.writeable


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_caller_data_is_not_written(solver, weighted, tmp_path):
    X, y = _problem(60, 6)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(y)) if weighted else None
    penalty = "l2" if solver == "cholesky" else "elasticnet"
    params = dict(penalty=penalty, alpha=0.05, solver=solver, tol=1e-8)
    ref = RegularizedRegressor(**params).fit(X.copy(), y.copy(), sample_weight=sw)
    for name, Xl in _layouts(X, tmp_path):
        X_before, y_before = np.array(Xl, copy=True), y.copy()
        sw_before = None if sw is None else sw.copy()
        flags = _flags(Xl)
        reg = RegularizedRegressor(**params).fit(Xl, y, sample_weight=sw)
        _unchanged((Xl, X_before), (y, y_before), (sw, sw_before))
        assert _flags(Xl) == flags, name
        assert_allclose(reg.coef_, ref.coef_, rtol=1e-10, atol=1e-12, err_msg=name)
        assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-10, err_msg=name)
        assert_allclose(reg.predict(Xl), ref.predict(X), rtol=1e-10, err_msg=name)


# --------------------------------------------------------------------------
# 4. Copies of X during fit
# --------------------------------------------------------------------------


def _peak_fit_memory(reg, X, y, sw):
    # Compile (or load from the cache) before measuring.
    clone(reg).fit(X[:50].copy(order="K"), y[:50])
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        reg.fit(X, y, sample_weight=sw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@pytest.fixture(scope="module")
def big_problem():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4000, 300))
    y = X[:, :10] @ rng.uniform(1, 2, 10) + rng.standard_normal(4000)
    return X, y


@pytest.mark.parametrize(
    "order,solver,penalty,limit",
    [
        ("F", "cd", "l1", 0.5),  # no copy at all
        ("C", "cholesky", "l2", 0.5),  # Gram accumulated over small row blocks
        ("C", "cd", "l1", 1.5),  # exactly one copy, to Fortran order
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_copies_of_X(big_problem, order, solver, penalty, limit, weighted):
    X, y = big_problem
    X = np.asarray(X, order=order)
    sw = np.linspace(0.5, 2.0, len(y)) if weighted else None
    reg = RegularizedRegressor(penalty=penalty, alpha=0.1, solver=solver)
    peak = _peak_fit_memory(reg, X, y, sw)
    assert peak < limit * X.nbytes, (
        f"peak traced memory during fit {peak / X.nbytes:.2f} * X.nbytes, "
        f"expected < {limit}"
    )


# --------------------------------------------------------------------------
# 5. Behaviour
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["cd", "gd"])
def test_warm_start(solver):
    X, y = load("correlated_wide")
    alpha = 0.02 * alpha_max(X, y)
    reg = RegularizedRegressor(
        penalty="l1", alpha=alpha, solver=solver, tol=1e-8, max_iter=100_000,
        warm_start=True,
    )  # fmt: skip
    reg.fit(X, y)
    cold_iter, cold_coef = reg.n_iter_, reg.coef_.copy()
    reg.fit(X, y)
    assert reg.n_iter_ < cold_iter
    cold = clone(reg).set_params(warm_start=False).fit(X, y)
    assert cold.n_iter_ == cold_iter
    assert_allclose(reg.coef_, cold_coef, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("solver", ["cd", "gd"])
def test_convergence_warning_mentions_max_iter(solver):
    X, y = load("correlated_wide")
    reg = RegularizedRegressor(
        penalty="l1", alpha=0.02 * alpha_max(X, y), solver=solver, max_iter=1,
        tol=1e-10,
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        reg.fit(X, y)
    assert reg.n_iter_ == 1


@pytest.mark.parametrize("solver", SOLVERS)
def test_fit_returns_self(solver):
    X, y = _problem()
    reg = RegularizedRegressor(solver=solver)
    assert reg.fit(X, y) is reg


@pytest.mark.parametrize(
    "penalty,positive,expected",
    [
        ("l2", False, "cholesky"),
        (None, False, "cholesky"),
        ("l1", False, "cd"),
        ("elasticnet", False, "cd"),
        ("l2", True, "cd"),
        ("l1", True, "cd"),
    ],
)
def test_auto_solver_resolution(penalty, positive, expected):
    X, y = _problem()
    reg = RegularizedRegressor(penalty=penalty, positive=positive, alpha=0.1)
    assert reg.fit(X, y).solver_ == expected
    assert reg.solver == "auto"


# cholesky solves only None and "l2": the other pairs are errors, tested above
SOLVER_PENALTY = [(s, p) for s in SOLVERS for p in (None, "l2", "l1", "elasticnet")
                  if s != "cholesky" or p in (None, "l2")]  # fmt: skip


@pytest.mark.parametrize("solver,penalty", SOLVER_PENALTY)
def test_n_iter_and_dual_gap(solver, penalty):
    X, y = _problem()
    reg = RegularizedRegressor(penalty=penalty, alpha=0.1, solver=solver).fit(X, y)
    assert isinstance(reg.n_iter_, int) and reg.n_iter_ >= 1
    assert np.isfinite(reg.dual_gap_) and reg.dual_gap_ >= 0
    assert reg.solver_ == solver
    if solver == "cholesky":
        assert reg.n_iter_ == 1


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_intercept(solver, weighted):
    X, y = _problem(50, 4)
    X = X + np.array([3.0, -2.0, 0.0, 10.0])
    sw = np.random.default_rng(1).uniform(0.1, 3, len(y)) if weighted else None
    reg = RegularizedRegressor(alpha=0.1, solver=solver, tol=1e-10).fit(
        X, y, sample_weight=sw
    )
    expected = np.average(y - X @ reg.coef_, weights=sw)
    assert reg.intercept_ == pytest.approx(expected, rel=1e-9, abs=1e-10)
    no_icpt = RegularizedRegressor(alpha=0.1, solver=solver, fit_intercept=False)
    no_icpt.fit(X, y, sample_weight=sw)
    assert no_icpt.intercept_ == 0.0
    assert_allclose(no_icpt.predict(X), X @ no_icpt.coef_, rtol=1e-12)


def _weighted_problem():
    X, y = _problem(30, 6, seed=4)
    sw = np.random.default_rng(4).integers(0, 4, len(y))
    return X, y, sw


@pytest.mark.parametrize("penalty", ["l1", "l2", "elasticnet"])
def test_integer_weights_equal_repeated_rows(penalty):
    X, y, sw = _weighted_problem()
    params = dict(penalty=penalty, alpha=0.05, tol=1e-12, max_iter=100_000)
    weighted = RegularizedRegressor(**params).fit(X, y, sample_weight=sw)
    repeated = RegularizedRegressor(**params).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8, atol=1e-8)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "solver,penalty", [(s, p) for s, p in SOLVER_PENALTY if p is not None]
)
def test_unit_and_scaled_weights_change_nothing(solver, penalty):
    X, y, sw = _weighted_problem()
    sw = sw + 0.5
    params = dict(penalty=penalty, alpha=0.05, solver=solver, tol=1e-12,
                  max_iter=100_000)  # fmt: skip
    plain = RegularizedRegressor(**params).fit(X, y)
    ones = RegularizedRegressor(**params).fit(X, y, sample_weight=np.ones(len(y)))
    assert_allclose(ones.coef_, plain.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(ones.intercept_, plain.intercept_, rtol=1e-10)
    weighted = RegularizedRegressor(**params).fit(X, y, sample_weight=sw)
    scaled = RegularizedRegressor(**params).fit(X, y, sample_weight=7.3 * sw)
    assert_allclose(scaled.coef_, weighted.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(scaled.intercept_, weighted.intercept_, rtol=1e-8)
    # and the weights matter at all
    assert not np.allclose(weighted.coef_, plain.coef_, rtol=1e-6)


# --------------------------------------------------------------------------
# 6. scikit-learn integration
# --------------------------------------------------------------------------


def test_grid_search_over_penalties():
    X, y = load_diabetes(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("reg", RegularizedRegressor())])
    grid = {
        "reg__penalty": ["l1", "l2", "elasticnet"],
        "reg__alpha": [0.01, 0.1, 1.0],
        "reg__l1_ratio": [0.2, 0.8],
    }
    search = GridSearchCV(pipe, grid, cv=5).fit(X, y)
    best = search.best_params_
    assert set(best) == set(grid)
    for key, values in grid.items():
        assert best[key] in values
    assert search.best_score_ > 0.4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.predict(X).shape == y.shape


def test_cross_val_score():
    X, y = load_diabetes(return_X_y=True)
    scores = cross_val_score(RegularizedRegressor(penalty="l1", alpha=0.1), X, y, cv=5)
    assert scores.shape == (5,)
    assert np.all(np.isfinite(scores))
    assert scores.mean() > 0.3


def test_clone_pickle_and_params():
    X, y = load_diabetes(return_X_y=True)
    params = dict(
        penalty="elasticnet", alpha=0.05, l1_ratio=0.3, solver="cd", tol=1e-6,
        max_iter=500, selection="random", random_state=3,
    )  # fmt: skip
    reg = RegularizedRegressor(**params).fit(X, y)
    cloned = clone(reg)
    assert not hasattr(cloned, "coef_")
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    assert cloned.get_params() == reg.get_params()
    restored = pickle.loads(pickle.dumps(reg))
    assert_array_equal(restored.predict(X), reg.predict(X))
    assert_array_equal(restored.coef_, reg.coef_)
    all_params = reg.get_params()
    for key, value in params.items():
        assert all_params[key] == value
    other = RegularizedRegressor().set_params(**all_params)
    assert other.get_params() == all_params
    assert RegularizedRegressor().set_params(alpha=3.0).alpha == 3.0


# --------------------------------------------------------------------------
# 7. The objective across penalties
# --------------------------------------------------------------------------


def test_l2_is_ridge_with_alpha_times_weight_sum():
    X, y = _problem(50, 5)
    sw = np.random.default_rng(3).uniform(0.5, 4.0, len(y))
    a = 0.3
    ours = RegularizedRegressor(penalty="l2", alpha=a).fit(X, y, sample_weight=sw)
    ref = Ridge(alpha=a * sw.sum(), solver="cholesky").fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8)


def test_docstring_example():
    X, y = load_diabetes(return_X_y=True)
    reg = RegularizedRegressor(penalty="l1", alpha=0.1).fit(X, y)
    assert int((reg.coef_ != 0).sum()) == 7
    assert round(reg.score(X, y), 3) == 0.509
