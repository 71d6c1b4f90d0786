"""Gap-safe screening never discards a feature that is non-zero at the optimum."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skreg.linear_model._base import prepare_problem, solve
from skreg.linear_model._penalties import gap_safe_screen, l1_l2_strengths


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(5, 40),
    p=st.integers(2, 60),
    rho=st.floats(0.0, 0.95),
    frac=st.floats(0.01, 0.9),
    l1_ratio=st.sampled_from([1.0, 0.7, 0.2]),
    positive=st.booleans(),
    fit_intercept=st.booleans(),
    step=st.floats(0.0, 1.0),
)
def test_screening_is_safe(seed, n, p, rho, frac, l1_ratio, positive, fit_intercept,
                           step):  # fmt: skip
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] = rho * X[:, :-1] + np.sqrt(1 - rho**2) * X[:, 1:]
    y = X[:, : min(3, p)] @ rng.standard_normal(min(3, p)) + rng.standard_normal(n)
    P = prepare_problem(np.asfortranarray(X), y, None, fit_intercept)
    Xc = X - P.X_mean
    yc = y - P.y_mean
    corr = Xc.T @ (P.d * yc)
    top = (np.max(corr) if positive else np.max(np.abs(corr))) / l1_ratio
    if top <= 0:
        return
    penalty = "l1" if l1_ratio == 1.0 else "elasticnet"
    l1, l2 = l1_l2_strengths(penalty, frac * top, l1_ratio)
    w_opt, *_ = solve(P, l1, l2, "cd", positive, np.zeros(p), 10**6, 1e-14,
                      np.random.default_rng(0), screening=False)  # fmt: skip
    # screen from points between 0 and the optimum, some of the optimum's
    # non-zeros still at zero (as along a solve), and from the optimum itself
    mask = rng.random(p) < 0.5
    for w in (step * w_opt * mask, w_opt):
        r = yc - Xc @ w
        g = Xc.T @ (P.d * r)
        keep = np.empty(p, dtype=np.bool_)
        gap_safe_screen(g, w, float(P.d @ (r * r)), l1, l2, positive, P.curvature,
                        keep, np.inf)  # fmt: skip
        lost = (~keep) & (np.abs(w_opt) > 1e-10)
        assert not lost.any(), (w, np.flatnonzero(lost), w_opt)
    # at the optimum the gap, hence the safe sphere, is tiny: every zero
    # feature with a clear KKT margin is discarded (the test is also sharp)
    u = g - l2 * w
    margin = u if positive else np.abs(u)
    clear = (w_opt == 0) & (margin < 0.9 * l1)
    assert not (keep & clear).any(), np.flatnonzero(keep & clear)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(8, 40),
    p=st.integers(20, 80),
    rho=st.floats(0.0, 0.95),
    l1_ratio=st.sampled_from([1.0, 0.7, 0.2]),
    positive=st.booleans(),
    weighted=st.booleans(),
    sparse=st.booleans(),
)
def test_sequential_screening_along_a_path_is_safe(
    seed, n, p, rho, l1_ratio, positive, weighted, sparse
):
    # Along a path, each solve screens features with the previous solve's
    # dual point (and bounds on the correlations it did not compute) before
    # its first pass. A feature wrongly discarded would leave the path's
    # solution further from the optimum (found here by a solve without
    # screening, to 1e-14) than the tolerance the path reports meeting.
    import scipy.sparse as sparse_matrices

    from skreg import regularization_path

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, 1:] = rho * X[:, :-1] + np.sqrt(1 - rho**2) * X[:, 1:]
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0.0
    y = X[:, :5] @ rng.standard_normal(5) + 0.3 * rng.standard_normal(n)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    penalty = "l1" if l1_ratio == 1.0 else "elasticnet"
    tol = 1e-8
    Xk = sparse_matrices.csc_matrix(X) if sparse else np.asfortranarray(X)
    try:
        path = regularization_path(Xk, y, penalty=penalty, l1_ratio=l1_ratio,
                                   alphas=30, eps=1e-3, sample_weight=sw,
                                   positive=positive, tol=tol,
                                   max_iter=10**5)  # fmt: skip
    except ValueError:  # y constant on the positive side: no grid
        return
    P = prepare_problem(Xk, y, sw, True)
    Xc = X - P.X_mean
    yc = y - P.y_mean

    def objective(w, l1, l2):
        r = yc - Xc @ w
        return 0.5 * P.d @ (r * r) + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w

    for k, alpha in enumerate(path.alphas):
        l1, l2 = l1_l2_strengths(penalty, alpha, l1_ratio)
        w = path.coefs[:, k]
        w_star, *_ = solve(P, l1, l2, "cd", positive, w, 10**6, 1e-14,
                           np.random.default_rng(0), screening=False)  # fmt: skip
        subopt = objective(w, l1, l2) - objective(w_star, l1, l2)
        rounding = 1e-12 * P.y_scale
        assert path.dual_gaps[k] <= tol * P.y_scale, k
        assert subopt <= path.dual_gaps[k] + rounding, (k, subopt)
