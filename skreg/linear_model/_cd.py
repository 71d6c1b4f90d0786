"""Coordinate descent for the penalized least-squares problem.

The compiled part (:func:`cd_epoch`, :func:`cd_subproblem`) runs epochs of
coordinate updates on a *working set* of features, with Anderson
extrapolation of the iterates. The driver :func:`enet_coordinate_descent`
is plain Python: it computes the full duality gap, stops, discards features
that gap-safe screening proves to be zero, and picks the next working set
from the features that violate the optimality conditions most.

The objective, the proximal step and the duality gap are in
:mod:`skreg.linear_model._penalties`; the centring trick that handles the
intercept without a centred copy of ``X`` in :mod:`skreg.linear_model._data`.
"""

import numpy as np

from skreg._numba import REDUCTION_FLAGS, jit
from skreg.linear_model._data import (
    correlation,
    residual,
    weighted_sq_norm,
)
from skreg.linear_model._penalties import duality_gap, kkt_violation, prox_enet

__all__ = ["enet_coordinate_descent"]

# Anderson extrapolation combines this many successive iterates.
_ANDERSON_K = 5
# The subproblem's gap is checked every this many epochs.
_CHECK_EVERY = 10
# The first working set holds at least this many features.
_WS_MIN = 10


@jit(fastmath=REDUCTION_FLAGS)
def cd_epoch(X, d, uniform, X_mean, curvature, w, r, ws, order, l1, l2, positive):
    """One pass of coordinate updates over ``ws[order[k]]``, in place.

    Each update minimizes the objective exactly in one coefficient::

        w_j <- prox((x_j - m_j)^T D r + a_j w_j, a_j) ,  a_j = ||x_j - m_j||_D^2

    and updates the residual ``r -= delta * (x_j - m_j)``, which keeps the
    intercept at its optimum for the new ``w``. Returns the largest
    ``|delta|`` and the largest ``|w_j|`` of the pass.
    """
    n = X.shape[0]
    dw_max = 0.0
    w_max = 0.0
    for k in range(order.shape[0]):
        j = ws[order[k]]
        a = curvature[j]
        if a == 0.0:
            continue
        acc = 0.0
        if uniform:
            for i in range(n):
                acc += X[i, j] * r[i]
            acc *= d[0]
        else:
            for i in range(n):
                acc += X[i, j] * (d[i] * r[i])
        old = w[j]
        w[j] = prox_enet(acc + a * old, a, l1, l2, positive)
        delta = w[j] - old  # as stored, so r stays consistent with w
        if delta != 0.0:
            m = X_mean[j]
            for i in range(n):
                r[i] -= delta * (X[i, j] - m)
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max


@jit
def _anderson_weights(U, out):
    """Weights ``c`` (summing to 1) minimizing ``||c^T U||``; False if singular.

    Solves ``(U U^T + eps I) z = 1`` by Cholesky, ``c = z / sum(z)``.
    """
    K = U.shape[0]
    C = U @ U.T
    scale = 0.0
    for k in range(K):
        scale = max(scale, C[k, k])
    if scale == 0.0:
        return False
    for k in range(K):
        C[k, k] += 1e-10 * scale
    L = np.zeros_like(C)
    for i in range(K):
        for j in range(i + 1):
            s = C[i, j]
            for m in range(j):
                s -= L[i, m] * L[j, m]
            if i == j:
                if s <= 0.0:
                    return False
                L[i, i] = np.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
    z = np.ones(K)
    for i in range(K):  # forward then backward substitution
        s = z[i]
        for m in range(i):
            s -= L[i, m] * z[m]
        z[i] = s / L[i, i]
    for i in range(K - 1, -1, -1):
        s = z[i]
        for m in range(i + 1, K):
            s -= L[m, i] * z[m]
        z[i] = s / L[i, i]
    total = z.sum()
    if total == 0.0 or not np.isfinite(total):
        return False
    for k in range(K):
        out[k] = z[k] / total
    return True


@jit
def _penalty_value(w, l1, l2):
    s1 = 0.0
    s2 = 0.0
    for j in range(w.shape[0]):
        s1 += abs(w[j])
        s2 += w[j] * w[j]
    return l1 * s1 + 0.5 * l2 * s2


@jit
def cd_subproblem(
    X, y, d, uniform, y_mean, X_mean, curvature, w, r, ws,
    l1, l2, positive, max_epochs, tol, final_tol, tol_update, rng, random_order,
    anderson,
):  # fmt: skip
    """Coordinate descent restricted to the features ``ws`` until it converges.

    Converged means that the subproblem's duality gap is at most ``tol``
    and, when ``tol`` is the final tolerance ``final_tol``, scikit-learn's
    criterion that the last epoch changed no coefficient by more than
    ``tol_update * max|w|``. ``w`` and ``r`` are updated in place;
    coefficients outside ``ws`` are zero and stay so. Every
    ``_ANDERSON_K + 1`` epochs the last iterates are extrapolated; the
    extrapolated point is kept only if it lowers the objective.

    Returns the number of epochs run, the subproblem's gap and the relative
    size ``max|delta| / max|w|`` of the last epoch's updates.
    """
    nws = ws.shape[0]
    K = _ANDERSON_K
    history = np.zeros((K + 1, nws))
    U = np.empty((K, nws))
    c = np.empty(K)
    w_ws = np.empty(nws, dtype=w.dtype)
    w_acc = np.zeros_like(w)
    r_acc = np.empty_like(r)
    g = np.empty(nws)
    order = np.arange(nws)
    curv_ws = np.empty(nws)
    for k in range(nws):
        curv_ws[k] = curvature[ws[k]]
    gap = np.inf
    rel_update = np.inf
    n_epochs = 0
    for epoch in range(max_epochs):
        if random_order:
            for k in range(nws):
                order[k] = rng.integers(0, nws)
        dw_max, w_max = cd_epoch(
            X, d, uniform, X_mean, curvature, w, r, ws, order, l1, l2, positive
        )
        rel_update = dw_max / w_max if w_max > 0.0 else 0.0
        n_epochs = epoch + 1
        if anderson:
            slot = epoch % (K + 1)
            for k in range(nws):
                history[slot, k] = w[ws[k]]
            if slot == K:
                for m in range(K):
                    for k in range(nws):
                        U[m, k] = history[m + 1, k] - history[m, k]
                if _anderson_weights(U, c):
                    w_acc[:] = 0.0
                    for k in range(nws):
                        v = 0.0
                        for m in range(K):
                            v += c[m] * history[m + 1, k]
                        if positive and v < 0.0:
                            v = 0.0
                        w_acc[ws[k]] = v
                    residual(X, y, y_mean, X_mean, w_acc, r_acc)
                    q_acc = weighted_sq_norm(r_acc, d, uniform)
                    q_cur = weighted_sq_norm(r, d, uniform)
                    if 0.5 * q_acc + _penalty_value(w_acc, l1, l2) < (
                        0.5 * q_cur + _penalty_value(w, l1, l2)
                    ):
                        for k in range(nws):
                            w[ws[k]] = w_acc[ws[k]]
                        r[:] = r_acc
        small_update = rel_update <= tol_update
        if small_update or n_epochs % _CHECK_EVERY == 0 or epoch == max_epochs - 1:
            correlation(X, r, d, uniform, ws, g)
            quad = weighted_sq_norm(r, d, uniform)
            for k in range(nws):
                w_ws[k] = w[ws[k]]
            _, gap = duality_gap(g, w_ws, quad, l1, l2, positive, curv_ws)
            # The update criterion is scikit-learn's final check; subproblems
            # solved to a looser tolerance than the final one skip it.
            if gap <= tol and (small_update or tol > final_tol):
                break
    return n_epochs, gap, rel_update


def enet_coordinate_descent(
    X, y, d, uniform, y_mean, X_mean, curvature, w, l1, l2, positive,
    max_iter, tol, tol_update, rng, random_order=False, working_set=True,
    screening=True, anderson=True,
):  # fmt: skip
    """Minimize the penalized least squares of ``_penalties`` by coordinate descent.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), F-contiguous
    y : ndarray of shape (n_samples,)
    d : ndarray of shape (n_samples,)
        Normalized sample weights.
    uniform : bool
        All weights equal (``d[0]``).
    y_mean : float
    X_mean, curvature : ndarray of shape (n_features,)
        See :func:`skreg.linear_model._data.column_moments`.
    w : ndarray of shape (n_features,)
        Starting point; updated in place.
    l1, l2 : float
    positive : bool
    max_iter : int
        Maximum number of epochs (passes over the current working set).
    tol : float
        Absolute tolerance on the duality gap.
    tol_update : float
        Relative tolerance on the coefficient updates: as in scikit-learn,
        the solver stops only once an epoch changes no coefficient by more
        than ``tol_update * max|w|`` *and* the gap is at most ``tol``.
    rng : numpy.random.Generator
        Used when ``random_order``.
    random_order : bool
        Draw coordinates uniformly at random ("random" selection).
    working_set, screening, anderson : bool
        Switch the accelerations off (for testing and benchmarks).

    Returns
    -------
    n_iter : int
        Epochs run.
    gap : float
        Duality gap at the returned ``w``.
    """
    n, p = X.shape
    r = np.empty(n, dtype=X.dtype)
    residual(X, y, y_mean, X_mean, w, r)
    active = np.flatnonzero(curvature > 0)  # constant columns never move
    w[curvature == 0] = 0.0
    if active.size == 0:  # no column varies: w = 0 is the solution
        return 0, 0.0
    g = np.empty(p)
    score = np.empty(p)
    n_iter = 0
    gap = np.inf
    rel_update = np.inf
    use_ws = working_set and (l1 > 0.0)
    while True:
        correlation(X, r, d, uniform, active, g[: len(active)])
        g_act = g[: len(active)]
        w_act = w[active]
        quad = weighted_sq_norm(r, d, uniform)
        _, gap = duality_gap(g_act, w_act, quad, l1, l2, positive, curvature[active])
        if (gap <= tol and rel_update <= tol_update) or n_iter >= max_iter:
            break
        if screening and l1 > 0.0:
            keep = _gap_safe_keep(g_act, w_act, quad, l1, l2, positive,
                                  curvature[active])  # fmt: skip
            if not keep.all():
                dropped = active[~keep]
                if np.any(w[dropped] != 0.0):
                    w[dropped] = 0.0
                    residual(X, y, y_mean, X_mean, w, r)
                active = active[keep]
                g_act, w_act = g_act[keep], w_act[keep]
        if use_ws:
            violation = score[: len(active)]
            kkt_violation(g_act, w_act, l1, l2, positive, violation)
            violation[w_act != 0.0] = np.inf
            n_support = int(np.count_nonzero(w_act))
            # Twice the support: room for the features about to enter. The
            # set grows as the support does, and always contains it.
            ws_size = min(len(active), max(_WS_MIN, 2 * n_support))
            if ws_size < len(active):
                top = np.argpartition(-violation, ws_size - 1)[:ws_size]
                ws = np.sort(active[top])
            else:
                ws = active
            tol_in = max(0.3 * gap, tol)
        else:
            ws = active
            tol_in = tol
        epochs, _, rel_update = cd_subproblem(
            X, y, d, uniform, y_mean, X_mean, curvature, w, r, ws.astype(np.int64),
            l1, l2, positive, max_iter - n_iter, tol_in, tol, tol_update, rng,
            random_order, anderson,
        )  # fmt: skip
        n_iter += epochs
        # Recompute the residual exactly: it drifts by rounding over epochs.
        residual(X, y, y_mean, X_mean, w, r)
    return n_iter, gap


def _gap_safe_keep(g, w, quad, l1, l2, positive, curvature):
    """Features that the gap-safe sphere test cannot prove zero at the optimum.

    The dual optimum lies within ``sqrt(2 gap)`` of any feasible dual point
    ``theta`` (the Lasso dual of the augmented problem is 1-strongly
    concave). Feature ``j`` is zero at the optimum if
    ``|x_j^T theta| + sqrt(2 gap) ||x_j|| < l1`` for every such point; the
    augmented column has ``||x_j||^2 = a_j + l2``. The gap used here must
    be the Lasso-dual gap at the same ``theta``.
    """
    u = g - l2 * w
    dual_norm = np.max(u) if positive else np.max(np.abs(u))
    c = 1.0 if dual_norm <= l1 else l1 / dual_norm
    gap_lasso = (0.5 * (1.0 - c) ** 2 * quad + 0.5 * (1.0 + c * c) * l2 * (w @ w)
                 - c * (w @ g) + l1 * np.abs(w).sum())  # fmt: skip
    radius = np.sqrt(2.0 * max(gap_lasso, 0.0))
    corr = c * u if positive else c * np.abs(u)
    return corr + radius * np.sqrt(curvature + l2) >= l1
