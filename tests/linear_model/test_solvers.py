"""The solvers against each other and against the optimality conditions."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import ElasticNet

from skreg import RegularizedRegressor
from skreg.linear_model._base import prepare_problem, solve
from skreg.linear_model._cd import (
    _LINE_SEARCH_CAP,
    GRAM,
    _correlation_and_quad,
    _fresh_state,
    _line_search,
    _polish,
    _refresh,
    _secant_state,
    _support_gram,
    enet_coordinate_descent,
    secant_guess,
)
from skreg.linear_model._data import correlation, fortran_layout, take_rows
from skreg.linear_model._penalties import duality_gap, l1_l2_strengths

from ._datasets import DATASETS, alpha_max, load


def _fit(X, y, sw=None, **params):
    params = {"tol": 1e-12, "max_iter": 500_000, **params}
    return RegularizedRegressor(**params).fit(X, y, sample_weight=sw)


def _kkt_residual(X, y, reg, sw=None):
    """Largest violation of the elastic-net optimality conditions.

    At the optimum, with ``g = Xc^T D r``: ``g_j - l2 w_j = l1 sign(w_j)``
    where ``w_j != 0``, and ``|g_j| <= l1`` where ``w_j == 0`` (``g_j <= l1``
    with ``positive``); a fitted intercept makes ``sum(d r) = 0``.
    """
    d = np.ones(len(y)) if sw is None else sw
    d = d / d.sum()
    l1, l2 = l1_l2_strengths(reg.penalty, reg.alpha, reg.l1_ratio)
    r = y - X @ reg.coef_ - reg.intercept_
    g = X.T @ (d * r)
    w = reg.coef_
    nz = w != 0
    viol = np.zeros_like(w)
    viol[nz] = np.abs(g[nz] - l2 * w[nz] - l1 * np.sign(w[nz]))
    zero_g = g[~nz] if reg.positive else np.abs(g[~nz])
    viol[~nz] = np.maximum(zero_g - l1, 0.0)
    return max(viol.max(), abs(d @ r) if reg.fit_intercept else 0.0)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("weighted", [False, True])
def test_l2_solvers_agree(dataset, weighted):
    X, y = load(dataset)
    sw = np.random.default_rng(3).uniform(0.5, 2, len(y)) if weighted else None
    # FISTA's coefficients converge more slowly than its gap: a smaller tol
    tols = {"cholesky": 1e-4, "cd": 1e-12, "gd": 1e-16}
    fits = [_fit(X, y, sw, penalty="l2", alpha=0.05, solver=s, tol=t)
            for s, t in tols.items()]  # fmt: skip
    for other in fits[1:]:
        assert_allclose(other.coef_, fits[0].coef_, rtol=1e-6, atol=1e-7)
        assert_allclose(other.intercept_, fits[0].intercept_, rtol=1e-6)
    scale = np.abs(X).max() * np.abs(y).max()
    assert _kkt_residual(X, y, fits[0], sw) < 1e-9 * scale


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("positive", [False, True])
def test_cd_and_gd_agree_and_satisfy_kkt(dataset, penalty, positive):
    X, y = load(dataset)
    alpha = 0.03 * alpha_max(X, y)
    cd = _fit(X, y, penalty=penalty, alpha=alpha, solver="cd", positive=positive)
    gd = _fit(X, y, penalty=penalty, alpha=alpha, solver="gd", positive=positive,
              tol=1e-14)  # fmt: skip
    assert_allclose(gd.coef_, cd.coef_, rtol=1e-5, atol=1e-6)
    assert_allclose(gd.intercept_, cd.intercept_, rtol=1e-6, atol=1e-7)
    scale = np.abs(X).max() * np.abs(y).max()
    for reg in (cd, gd):
        assert _kkt_residual(X, y, reg) < 1e-6 * scale
        assert reg.dual_gap_ <= 1e-12 * np.var(y)


_REFERENCES = {}  # (penalty, dataset) -> plain CD and scikit-learn's solution


def _references(penalty, dataset):
    """Plain coordinate descent (dense, no acceleration) and scikit-learn's
    ElasticNet at tight tolerance, computed once per test session."""
    key = (penalty, dataset)
    if key not in _REFERENCES:
        X, y = load(dataset)
        alpha = 0.02 * alpha_max(X, y) / (1.0 if penalty == "l1" else 0.5)
        l1, l2 = l1_l2_strengths(penalty, alpha, 0.5)
        problem = prepare_problem(np.asfortranarray(X), y, None, True)
        w_plain, *_ = solve(problem, l1, l2, "cd", False, np.zeros(X.shape[1]),
                            10**6, 1e-13, np.random.default_rng(0),
                            working_set=False, screening=False, anderson=False,
                            polish=False)  # fmt: skip
        ref = ElasticNet(alpha=alpha, l1_ratio=1.0 if penalty == "l1" else 0.5,
                         tol=1e-14, max_iter=10**6).fit(X, y)  # fmt: skip
        _REFERENCES[key] = (alpha, w_plain, ref.coef_)
    return _REFERENCES[key]


@pytest.mark.parametrize("dataset", ["correlated_wide", "tall"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("design", ["dense", "gram", "sparse"])
@pytest.mark.parametrize("working_set", [True, False])
@pytest.mark.parametrize("screening", [True, False])
@pytest.mark.parametrize("anderson", [True, False])
@pytest.mark.parametrize("polish", [True, False])
def test_cd_accelerations_do_not_change_the_solution(dataset, penalty, design,
                                                     working_set, screening,
                                                     anderson, polish):  # fmt: skip
    # every variant against plain CD and against scikit-learn
    X, y = load(dataset)
    alpha, w_plain, w_sklearn = _references(penalty, dataset)
    assert_allclose(w_plain, w_sklearn, rtol=1e-6, atol=1e-9)
    Xd = sp.csc_matrix(X) if design == "sparse" else np.asfortranarray(X)
    problem = prepare_problem(Xd, y, None, True, gram=design == "gram")
    l1, l2 = l1_l2_strengths(penalty, alpha, 0.5)
    w, n_iter, gap, tol_abs = solve(
        problem, l1, l2, "cd", False, np.zeros(X.shape[1]), 10**6, 1e-13,
        np.random.default_rng(0), working_set=working_set, screening=screening,
        anderson=anderson, polish=polish,
    )
    assert gap <= tol_abs
    assert_allclose(w, w_plain, rtol=1e-6, atol=1e-9)
    assert_allclose(w, w_sklearn, rtol=1e-6, atol=1e-9)


def _kernel_state(problem, w):
    """The solver's state at ``w``: design, state, offset, features, g, quad."""
    P, design = problem, problem.design
    n, p = P.X.shape
    state = np.empty(p if P.gram is not None else n)  # g or the residual
    offset = np.zeros(1)
    _refresh(design.kind, design.arrays, P.y, P.y_mean, P.X_mean, w, state, offset)
    active = np.arange(p)
    g = np.empty(p)
    quad = _correlation_and_quad(design.kind, design.arrays, P.d, P.uniform,
                                 P.y_scale, w, state, offset, active, g)  # fmt: skip
    return design, state, offset, active, g, quad


def _empty_cache(w):
    """No support Gram cached yet (the last two arguments of _polish)."""
    return np.empty((0, 0)), np.full(w.shape[0], -1, dtype=np.int64)


@pytest.mark.parametrize("dataset", ["correlated_wide", "tall"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("gram", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_polish_step_lands_on_the_solution(dataset, penalty, positive, gram,
                                           weighted):  # fmt: skip
    # From a point with the support and signs of the solution, the Newton
    # step of _polish solves the smooth problem on that support: it must
    # land on the solution found by many epochs of coordinate descent.
    X, y = load(dataset)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else None
    problem = prepare_problem(np.asfortranarray(X), y, sw, True, gram=gram)
    l1, l2 = l1_l2_strengths(penalty, 0.01 * alpha_max(X, y), 0.5)
    rng = np.random.default_rng(0)
    w_star, *_ = solve(problem, l1, l2, "cd", positive, np.zeros(X.shape[1]),
                       10**6, 1e-14, rng, polish=False)  # fmt: skip
    assert np.count_nonzero(w_star) >= 1
    w = w_star * np.random.default_rng(1).uniform(0.9, 1.1, w_star.shape)
    P = problem
    design, state, offset, active, g, quad = _kernel_state(problem, w)
    primal, _ = duality_gap(g, w, quad, l1, l2, positive, P.curvature)
    helped, _ = _polish(design.kind, design.arrays, P.y, P.d, P.uniform,
                        P.y_mean, P.y_scale, P.X_mean, w, state, offset, g,
                        active, l1, l2, positive, primal,
                        *_empty_cache(w))  # fmt: skip
    assert helped
    assert_allclose(w, w_star, rtol=1e-7, atol=1e-10 * np.abs(w_star).max())
    # the state was updated with w
    expected = np.empty_like(state)
    _refresh(design.kind, design.arrays, P.y, P.y_mean, P.X_mean, w, expected,
             np.zeros(1))  # fmt: skip
    assert_allclose(state, expected, rtol=0, atol=1e-12 * np.abs(y).max())


@pytest.mark.parametrize("weighted", [False, True])
def test_support_gram_reuses_the_cached_entries(weighted):
    # The Gram matrix of a support built from the last support's (shared
    # features copied, the rows of new features computed) equals the one
    # computed from scratch, and both equal Xc_S^T D Xc_S from numpy.
    X, y = load("correlated_wide")
    sw = np.random.default_rng(3).uniform(0.2, 3.0, len(y)) if weighted else None
    P = prepare_problem(np.asfortranarray(X), y, sw, True)
    design, p = P.design, X.shape[1]
    old = np.array([1, 4, 5, 9, 20], dtype=np.int64)
    new = np.array([0, 4, 9, 11, 20, 33], dtype=np.int64)  # 3 shared, 3 new
    empty, no_pos = np.empty((0, 0)), np.full(p, -1, dtype=np.int64)
    cache = _support_gram(design.kind, design.arrays, P.d, P.uniform, P.X_mean,
                          old, empty, no_pos)  # fmt: skip
    pos = no_pos.copy()
    pos[old] = np.arange(old.size)
    reused = _support_gram(design.kind, design.arrays, P.d, P.uniform, P.X_mean,
                           new, cache, pos)  # fmt: skip
    d = np.full(len(y), 1.0 / len(y)) if sw is None else sw / sw.sum()
    Xc = X[:, new] - d @ X[:, new]
    assert_allclose(reused, Xc.T @ (d[:, None] * Xc), rtol=1e-12, atol=1e-14)
    assert_allclose(reused, _support_gram(design.kind, design.arrays, P.d,
                                          P.uniform, P.X_mean, new, empty,
                                          no_pos), rtol=1e-13)  # fmt: skip


def test_polish_keeps_the_point_when_the_step_does_not_help():
    X, y = load("correlated_wide")
    problem = prepare_problem(np.asfortranarray(X), y, None, True)
    l1, _ = l1_l2_strengths("l1", 0.05 * alpha_max(X, y), 1.0)
    rng = np.random.default_rng(0)
    w_star, *_ = solve(problem, l1, 0.0, "cd", False, np.zeros(X.shape[1]),
                       10**6, 1e-14, rng)  # fmt: skip
    P = problem
    design, state, offset, active, g, quad = _kernel_state(problem, w_star)
    # a claimed objective below the optimum: no step can beat it
    primal = duality_gap(g, w_star, quad, l1, 0.0, False, P.curvature)[0] - 1.0
    w = w_star.copy()
    helped, _ = _polish(design.kind, design.arrays, P.y, P.d, P.uniform,
                        P.y_mean, P.y_scale, P.X_mean, w, state, offset, g,
                        active, l1, 0.0, False, primal,
                        *_empty_cache(w))  # fmt: skip
    assert not helped
    assert_array_equal(w, w_star)


def test_random_selection_converges_and_is_reproducible():
    X, y = load("correlated_wide")
    alpha = 0.05 * alpha_max(X, y)
    cyclic = _fit(X, y, penalty="l1", alpha=alpha)
    a = _fit(X, y, penalty="l1", alpha=alpha, selection="random", random_state=7)
    b = _fit(X, y, penalty="l1", alpha=alpha, selection="random", random_state=7)
    assert_allclose(a.coef_, cyclic.coef_, rtol=1e-6, atol=1e-9)
    assert_allclose(a.coef_, b.coef_, rtol=0, atol=0)
    assert a.n_iter_ == b.n_iter_


def test_no_penalty_iterative_solvers_match_closed_form():
    X, y = load("tall")
    ref = _fit(X, y, penalty=None)
    for solver in ("cd", "gd"):
        reg = _fit(X, y, penalty=None, solver=solver, tol=1e-16)
        assert_allclose(reg.coef_, ref.coef_, rtol=1e-6, atol=1e-7)


def test_zero_alpha_l1_is_least_squares():
    X, y = load("tall")
    ref = _fit(X, y, penalty=None)
    reg = _fit(X, y, penalty="l1", alpha=0.0, solver="cd", tol=1e-14)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-6)


def test_alpha_above_alpha_max_gives_zero_coefficients():
    X, y = load("diabetes")
    amax = alpha_max(X, y)
    reg = RegularizedRegressor(penalty="l1", alpha=1.0001 * amax).fit(X, y)
    assert np.all(reg.coef_ == 0)
    assert reg.intercept_ == pytest.approx(y.mean())
    reg = RegularizedRegressor(penalty="l1", alpha=0.99 * amax).fit(X, y)
    assert np.count_nonzero(reg.coef_) == 1


def test_constant_feature_gets_zero_coefficient():
    X, y = load("tall")
    X = np.column_stack([X, np.full(len(y), 4.0)])
    for solver in ("cd", "gd"):
        reg = _fit(X, y, penalty="l1", alpha=0.01, solver=solver)
        assert reg.coef_[-1] == 0.0


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_backend_matches_data_backend(penalty, weighted, fit_intercept):
    X, y = load("tall")  # n >> p, columns with offsets: the Gram case
    sw = np.random.default_rng(5).uniform(0.2, 2, len(y)) if weighted else None
    alpha = 0.01 * alpha_max(X, y, sw, fit_intercept)
    fits = {
        pre: _fit(X, y, sw, penalty=penalty, alpha=alpha, precompute=pre,
                  fit_intercept=fit_intercept, tol=1e-12)  # fmt: skip
        for pre in (True, False, "auto")
    }
    for pre in (True, "auto"):
        assert_allclose(fits[pre].coef_, fits[False].coef_, rtol=1e-7, atol=1e-10)
        assert_allclose(fits[pre].intercept_, fits[False].intercept_, rtol=1e-9)
    assert _kkt_residual(X, y, fits[True], sw) < 1e-8 * np.abs(X).max() * np.abs(
        y
    ).max()


@pytest.mark.parametrize("dataset", ["tall", "correlated_wide"])
def test_precompute_true_and_false_force_the_backend(dataset, monkeypatch):
    from skreg.linear_model import _cd

    calls = []
    original = _cd._gram_design
    monkeypatch.setattr(_cd, "_gram_design",
                        lambda *a: calls.append(1) or original(*a))  # fmt: skip
    X, y = load(dataset)
    alpha = 0.05 * alpha_max(X, y)
    fits = {}
    for pre in (True, False):
        calls.clear()
        fits[pre] = _fit(X, y, penalty="l1", alpha=alpha, precompute=pre, tol=1e-12)
        assert len(calls) == (1 if pre else 0), (pre, calls)
    assert_allclose(fits[True].coef_, fits[False].coef_, rtol=1e-7, atol=1e-10)


def test_cd_starts_from_the_better_of_two_points():
    X, y = load("correlated_wide")
    P = prepare_problem(np.asfortranarray(X), y, None, True)
    l1, _ = l1_l2_strengths("l1", 0.05 * alpha_max(X, y), 1.0)
    rng = np.random.default_rng(0)
    w_star, *_ = solve(P, l1, 0.0, "cd", False, np.zeros(X.shape[1]), 10**6,
                       1e-14, rng)  # fmt: skip
    w0 = np.zeros(X.shape[1])
    plain = solve(P, l1, 0.0, "cd", False, w0, 10**6, 1e-8, rng)
    # a useless guess is ignored: the very same run as without it
    bad = solve(P, l1, 0.0, "cd", False, w0, 10**6, 1e-8, rng, w_guess=w0 + 1e3)
    assert_array_equal(bad[0], plain[0])
    assert bad[1] == plain[1]
    # the solution itself as the guess: converged after a single epoch
    good = solve(P, l1, 0.0, "cd", False, w0, 10**6, 1e-8, rng, w_guess=w_star)
    assert good[1] == 1
    assert_allclose(good[0], w_star, rtol=1e-7, atol=1e-10)
    assert good[2] <= good[3]


@pytest.mark.parametrize("rho, alpha_fraction, switches",
                         [(0.95, 1e-3, True), (0.0, 0.5, False)])  # fmt: skip
def test_auto_precompute_switches_only_when_the_epochs_cost_a_gram(
    rho, alpha_fraction, switches
):
    # n >> p. Correlated columns at a small alpha: coordinate descent needs
    # many epochs, and "auto" moves to the Gram backend once they have cost
    # about as much as the Gram matrix. Independent columns near alpha_max:
    # a few epochs suffice, cheaper than the Gram matrix, and it stays.
    rng = np.random.default_rng(0)
    n, p = 3000, 300
    X = np.empty((n, p), order="F")
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):  # AR(1) across the columns
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    y = X[:, ::30] @ rng.standard_normal(10) + rng.standard_normal(n)
    P = prepare_problem(X, y, None, True)
    l1, _ = l1_l2_strengths("l1", alpha_fraction * alpha_max(X, y), 1.0)
    w = np.zeros(p)
    _, _, design = enet_coordinate_descent(
        P.design, P.y, P.d, P.uniform, P.y_mean, P.y_scale, P.X_mean,
        P.curvature, w, l1, 0.0, False, 10**6, 1e-8 * P.y_scale, 1e-8,
        np.random.default_rng(0), precompute="auto",
    )  # fmt: skip
    assert (design.kind == GRAM) is switches


def _reference_epoch(Xc, d, w, r, features, l1, l2):
    """One-at-a-time coordinate descent in NumPy (lasso / elastic net)."""
    for j in features:
        a = d @ Xc[:, j] ** 2
        if a == 0.0:
            continue
        z = Xc[:, j] @ (d * r) + a * w[j]
        new = np.sign(z) * max(abs(z) - l1, 0.0) / (a + l2)
        r -= (new - w[j]) * Xc[:, j]
        w[j] = new


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_ws", [7, 8])  # the pairs, and a last single one
def test_dense_epoch_follows_one_at_a_time_updates(weighted, n_ws):
    # The dense epoch takes coordinates two at a time (one pass for both
    # correlations and their cross product); its iterates must be those of
    # plain coordinate descent, in the same order, on the centred data.
    from skreg.linear_model._data import dense_cd_epoch

    rng = np.random.default_rng(7)
    n, p = 40, 12
    X = np.asfortranarray(rng.standard_normal((n, p)) + 3.0)  # a mean to centre
    X[:, 5] = 1.0  # a constant column: zero curvature, never moves
    y = X[:, :4] @ [1.5, -2.0, 0.5, 1.0] + rng.standard_normal(n)
    d = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    d /= d.sum()
    X_mean = d @ X
    Xc = X - X_mean
    curvature = d @ Xc**2
    ws = rng.permutation(p)[:n_ws].astype(np.int64)
    order = rng.permutation(n_ws).astype(np.int64)
    l1, l2 = 0.05, 0.01
    w = np.zeros(p)
    w[ws[:3]] = [0.3, -0.2, 0.1]
    r = (y - d @ y) - Xc @ w
    w_ref, r_ref = w.copy(), r.copy()
    for _ in range(4):
        dense_cd_epoch(X, d, not weighted, X_mean, curvature, w, r, ws, order,
                       l1, l2, False)  # fmt: skip
        _reference_epoch(Xc, d, w_ref, r_ref, ws[order], l1, l2)
    assert np.count_nonzero(w) >= 3
    assert_allclose(w, w_ref, rtol=1e-12, atol=1e-13)
    assert_allclose(r, r_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_take_rows_matches_numpy_indexing(dtype):
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.standard_normal((13, 5)).astype(dtype))
    before = X.copy()
    for rows in ([3, 0, 12, 3], np.array([], dtype=np.int64), [-1, -13, 2],
                 np.arange(13)[::-2], rng.random(13) < 0.5, np.int32([4, 5])):
        out = take_rows(X, rows)
        assert out.flags.f_contiguous and out.dtype == dtype
        assert_array_equal(out, X[np.asarray(rows)])
    assert_array_equal(X, before)
    for bad in ([13], [-14]):
        with pytest.raises(IndexError, match="out of range for 13 rows"):
            take_rows(X, bad)
    with pytest.raises(IndexError, match="boolean row mask"):
        take_rows(X, np.ones(12, dtype=bool))
    # other layouts and sparse matrices: NumPy's / SciPy's indexing
    C = np.ascontiguousarray(X)
    assert_array_equal(take_rows(C, [2, 1]), C[[2, 1]])
    S = sp.csc_matrix(X)
    assert_array_equal(take_rows(S, [2, 1]).toarray(), X[[2, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3), (63, 65), (1025, 3), (1500, 7)])
def test_fortran_layout_copies_c_ordered_data_exactly(dtype, shape):
    rng = np.random.default_rng(0)
    X = rng.standard_normal(shape).astype(dtype)  # C order
    before = X.copy()
    out = fortran_layout(X)
    assert out.flags.f_contiguous and out.dtype == dtype
    assert not np.shares_memory(out, X)
    assert_array_equal(out, X)
    assert_array_equal(X, before)
    F = np.asfortranarray(X)
    assert fortran_layout(F) is F  # already in the layout: no copy
    S = sp.csc_matrix(X)
    assert fortran_layout(S) is S  # sparse: the solvers read CSC as it is
    strided = X[::2, ::3]
    assert_array_equal(fortran_layout(strided), strided)
    assert fortran_layout(strided).flags.f_contiguous


def test_c_and_f_ordered_input_give_the_same_fit():
    X, y = load("diabetes")
    Xc, Xf = np.ascontiguousarray(X), np.asfortranarray(X)
    for params in ({"penalty": "l1", "alpha": 0.01}, {"penalty": "l1", "solver": "gd"}):
        a = RegularizedRegressor(**params).fit(Xc, y)
        b = RegularizedRegressor(**params).fit(Xf, y)
        assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_features", [1, 4, 7, 13])
def test_correlation_kernel_matches_numpy(dtype, weighted, n_features):
    # The kernel takes the columns four at a time, then one at a time: every
    # remainder, any order of the features, a repeated feature, and both
    # weightings must give x_j^T D r (accumulated in float64; unweighted
    # float32 products are rounded to float32 first).
    rng = np.random.default_rng(n_features)
    X = np.asfortranarray(rng.standard_normal((37, n_features)).astype(dtype))
    r = rng.standard_normal(37).astype(dtype)
    d = rng.random(37) if weighted else np.full(1, 0.25)
    features = rng.permutation(n_features)
    features = np.concatenate([features, features[:2]]).astype(np.int64)
    out = np.empty(features.shape[0])
    correlation(X, r, d, not weighted, features, out)
    Dr = (d if weighted else d[0]) * r.astype(np.float64)
    expected = X.astype(np.float64)[:, features].T @ Dr
    tol = 1e-6 if dtype == np.float32 else 1e-12
    assert_allclose(out, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", ["dense", "sparse", "gram"])
def test_secant_state_equals_the_state_computed_from_scratch(dtype, backend):
    # A path gets the state of its secant guess as the affine combination of
    # the states of the last two solutions, then moves the coefficients the
    # guess set to zero; on every backend it must be the state that a
    # product with X gives.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 12)) + 1.0  # a mean: the offsets matter
    if backend == "sparse":
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.4), dtype=dtype)
    else:
        X = np.asfortranarray(X, dtype=dtype)
    y = rng.standard_normal(60).astype(dtype)
    P = prepare_problem(X, y, rng.uniform(0.5, 2.0, 60), True,
                        gram=backend == "gram")  # fmt: skip
    design = P.design
    w0 = np.array([1.0, -0.5, 0.3, 0.0, 0.8, 0.0, 0.4, 0.5, 0.0, 0.6, 0.0, 0.1])
    w1 = np.array([0.2, -0.7, 0.0, 0.5, 0.9, 0.0, 0.5, 0.2, 0.0, 0.5, 0.0, 0.1])
    w0, w1 = w0.astype(dtype), w1.astype(dtype)
    guess = secant_guess(w0, w1, 1.0, 0.9, 0.8)  # t = 1
    # crossing zero (0, 7), leaving the support (2), entering it (3)
    assert guess[0] == guess[2] == guess[7] == 0.0 and guess[3] != 0.0

    def state(w):
        s, o = _fresh_state(design.kind, design.arrays, P.y, P.y_mean, P.X_mean, w)
        return s, o

    (s0, o0), (s1, o1), (expected, expected_offset) = map(state, (w0, w1, guess))
    out, offset = np.empty_like(s0), np.zeros(1)
    _secant_state(design.kind, design.arrays, P.X_mean, w0, w1, guess, 1.0, s0,
                  o0, s1, o1, out, offset)  # fmt: skip
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(out + offset[0], expected + expected_offset[0], rtol=tol,
                    atol=tol)  # fmt: skip



def _objective64(P, X, w, l1, l2):
    """The objective at ``w``, in float64 from X itself (not from the
    kernels' states)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    w = np.asarray(w, dtype=np.float64)
    r = (np.asarray(P.y, np.float64) - P.y_mean) - (X.astype(np.float64) - P.X_mean) @ w
    return 0.5 * P.d @ (r * r) + l1 * np.abs(w).sum() + 0.5 * l2 * (w @ w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backend", ["dense", "sparse", "gram"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("weighted", [False, True])
def test_line_search_minimizes_along_the_last_move(dtype, backend, penalty,
                                                   weighted):  # fmt: skip
    """_line_search against the optimum and against a bounded 1-d search
    of the objective computed from X: (1) from two points on a line through
    the solution with its support and signs, the step lands on the
    solution; (2) along a random move it stops at the minimum of the
    objective on the line, short of the first coefficient it would zero; (3)
    no step after a coefficient has become zero. The state follows w."""
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(7)
    X = rng.standard_normal((80, 15)) + 0.5
    X[:, 1] = 0.8 * X[:, 0] + 0.2 * X[:, 1]  # correlated: a slow direction
    w_true = np.zeros(15)
    w_true[:6] = [2.0, -1.5, 1.0, 0.7, -0.5, 0.3]
    y = (X @ w_true + 0.3 * rng.standard_normal(80)).astype(dtype)
    if backend == "sparse":
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.7), dtype=dtype)
    else:
        X = np.asfortranarray(X, dtype=dtype)
    sw = rng.uniform(0.5, 2.0, 80) if weighted else None
    P = prepare_problem(X, y, sw, True, gram=backend == "gram")
    l1, l2 = l1_l2_strengths(penalty, 0.1 * alpha_max(X, y), 0.5)
    w_star, *_ = solve(P, l1, l2, "cd", False, np.zeros(15), 10**5,
                       1e-5 if dtype == np.float32 else 1e-14,
                       np.random.default_rng(0), polish=False)  # fmt: skip
    support = w_star != 0
    assert 3 <= support.sum() < 15
    design = P.design
    ws = np.arange(15)

    def run(w_prev, w):
        w_prev, w = w_prev.astype(dtype), w.astype(dtype)
        s_prev, o_prev = _fresh_state(design.kind, design.arrays, P.y, P.y_mean,
                                      P.X_mean, w_prev)  # fmt: skip
        state, offset = _fresh_state(design.kind, design.arrays, P.y, P.y_mean,
                                     P.X_mean, w)  # fmt: skip
        out = w.copy()
        moved = _line_search(design.kind, design.arrays, P.d, P.uniform, out,
                             state, offset, ws, w_prev, s_prev, o_prev[0], l1, l2,
                             np.empty(15), np.empty_like(state))  # fmt: skip
        fresh, fresh_offset = _fresh_state(design.kind, design.arrays, P.y,
                                           P.y_mean, P.X_mean, out)  # fmt: skip
        tol = 1e-4 if dtype == np.float32 else 1e-10
        scale = np.abs(fresh).max()
        if backend == "gram":
            assert_allclose(state, fresh, rtol=0, atol=tol * scale)
        else:  # the residual, state + offset
            assert_allclose(state + offset[0], fresh + fresh_offset[0], rtol=0,
                            atol=tol * scale)  # fmt: skip
        return moved, out.astype(np.float64), w.astype(np.float64)

    # (1) the line through the solution, with its support and signs
    e = np.where(support, 0.2 * w_star * rng.uniform(-1, 1, 15), 0.0)
    moved, out, _ = run(w_star + e, w_star + 0.6 * e)
    assert moved
    tol = 2e-3 if dtype == np.float32 else 1e-8
    assert_allclose(out, w_star, rtol=0, atol=tol * np.abs(w_star).max())
    # (2) from a point on the support, the last move a third of the way to
    # the solution (a descent direction: the objective is convex), one
    # coefficient of the wrong sign in the second case (the line crosses
    # zero there, and the step stops short of it): the minimum of the
    # objective computed from X on the line, up to that point
    k0 = np.flatnonzero(support)[0]
    for flip in [False, True]:
        w = w_star * np.where(support, rng.uniform(0.6, 1.4, 15), 0.0)
        if flip:
            w[k0] = -0.3 * w_star[k0]
        w32 = w.astype(dtype).astype(np.float64)
        w_prev = w32 - (w_star - w32) / 3.0
        delta = w32 - w_prev.astype(dtype).astype(np.float64)
        towards = (delta != 0) & (np.sign(delta) != np.sign(w32))
        t_max = min([_LINE_SEARCH_CAP, *(-w32[towards] / delta[towards])])
        assert (t_max < 3.0) == flip
        line = minimize_scalar(
            lambda t, w32=w32, delta=delta: _objective64(P, X, w32 + t * delta,
                                                          l1, l2),
            bounds=(0.0, t_max), method="bounded", options={"xatol": 1e-12},
        )  # fmt: skip
        moved, out, _ = run(w_prev, w32)
        assert moved
        f0 = _objective64(P, X, w32, l1, l2)
        f_out = _objective64(P, X, out, l1, l2)
        rel = 1e-5 if dtype == np.float32 else 1e-9
        assert f_out < f0 and f_out <= line.fun + rel * abs(f0)
        assert_array_equal(np.sign(out), np.sign(w32))  # zeros stay zero too
    # (3) a coefficient that became zero in the last epoch: no step
    w_prev = w_star + e
    w = w_star + 0.6 * e
    j = np.flatnonzero(support)[0]
    w[j] = 0.0
    moved, out, before = run(w_prev, w)
    assert not moved
    assert_array_equal(out, before)
