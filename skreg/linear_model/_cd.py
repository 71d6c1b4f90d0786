"""Coordinate descent for the penalized least squares, on three backends.

The same solver runs on a dense ``X`` (``_data``), a sparse CSC ``X``
(``_sparse``) or a precomputed Gram matrix (``_gram``); the backend only
changes how a coordinate step, the correlations ``g = Xc^T D r`` and
``r^T D r`` are computed. Its *state* is the residual for the data
backends and ``g`` itself for the Gram backend.

The compiled part (:func:`cd_subproblem`) runs epochs of coordinate updates
on a *working set* of features, with Anderson extrapolation of the
iterates and an exact line search along the last epoch's move. The
driver :func:`enet_coordinate_descent` is plain Python: it computes the
full duality gap, stops, discards the features that gap-safe screening
proves to be zero, picks the next working set from the features that
violate the optimality conditions most, and (``precompute="auto"``)
switches to the Gram backend once the epochs have cost more than building
the Gram matrix would. Once the support has (nearly) stopped changing, a
Newton step on it (:func:`_polish`) solves the smooth problem that remains
in one linear solve, where coordinate descent on strongly correlated
columns would need many epochs.

The objective, the proximal step and the duality gap are in
:mod:`skreg.linear_model._penalties`.
"""

import contextlib

import numpy as np

from skreg._numba import jit, readonly_view
from skreg._threads import single_blas_thread
from skreg.linear_model._closed_form import centered_gram
from skreg.linear_model._data import (
    correlation,
    dense_cd_epoch,
    residual,
    weighted_sq_norm,
)
from skreg.linear_model._gram import gram_cd_epoch, gram_correlation
from skreg.linear_model._penalties import (
    duality_gap,
    gap_safe_screen,
    kkt_violation,
)
from skreg.linear_model._sparse import (
    sparse_cd_epoch,
    sparse_correlation,
    sparse_residual,
    sparse_sq_norm,
)

__all__ = ["enet_coordinate_descent", "cd_path", "secant_guess", "Design",
           "DENSE", "SPARSE", "GRAM", "kernel_blas_threads"]

DENSE, SPARSE, GRAM = 0, 1, 2
# Anderson extrapolation combines this many successive iterates (every
# _ANDERSON_K + 1 epochs). Measured against 5 (celer's and skglm's choice)
# and 3 on this project's benchmarks, in paired fits: 2 was never slower,
# and faster on the elastic net of (b) (1.25x), on (b') (1.11x), (c) (1.06x)
# and the cross-validated paths (1.18x L1, 1.08x elastic net): on a warm
# start, epochs are few, and a cheap extrapolation every third epoch beats
# a better one every sixth.
_ANDERSON_K = 2
# After each extrapolation (accepted or not), an exact line search along the
# last epoch's move (see _line_search), up to this many times that move.
_LINE_SEARCH_CAP = 100.0
# Epochs over the non-zero features only, between two full epochs.
_ACTIVE_EPOCHS = 4
# A subproblem with a looser tolerance than the final one checks its gap
# every this many epochs (one with the final tolerance needs a small update
# too, so it checks only after such an epoch: see cd_subproblem).
_CHECK_EVERY = 10
# The first working set holds at least this many features. Every growth of
# the set costs a full pass over X (the correlations that rank the next set);
# starting from 100 rather than 10 saves three or four of them, while an
# epoch over 100 features stays far cheaper than such a pass.
_WS_MIN = 100
# precompute="auto" builds the Gram matrix once the epochs have read
# n * p^2 / _GRAM_SPEEDUP entries of X, i.e. once they have cost about as
# much as the Gram matrix (the ski-rental rule: never more than twice the
# better of the two choices). The symmetric rank-k update that builds it
# (n p^2 / 2 multiply-adds) runs roughly this much faster per entry than a
# coordinate-descent pass, which is bound by memory (measured here: 25 ms
# for 5000 x 500, where epochs cost about 2 ns per entry read).
_GRAM_SPEEDUP = 100.0
# The Newton steps' matrix products and Cholesky factorization run about
# this much faster per multiply-add than an epoch per entry read (measured
# here: 20-30 with two BLAS threads; the constant errs on the cautious side).
_POLISH_SPEEDUP = 16.0
# ... and together they may cost at most this share of the epochs' work.
_POLISH_SHARE = 0.25


class Design:
    """The design matrix as the kernels take it, for one backend.

    ``arrays`` is the tuple ``(X, values, indices, indptr, G, q)``; the
    entries a backend does not use are empty arrays of the right type, so
    that one compiled kernel serves every backend of a dtype.
    """

    def __init__(self, kind, dtype, X=None, sparse=None, gram=None):
        empty1 = readonly_view(np.empty(0, dtype=dtype))
        if X is None:
            # (2, 2) in Fortran order is F- but not C-contiguous; an empty
            # (or single-row) array is both, and Numba would type it as C,
            # compiling a second variant of every kernel
            X = readonly_view(np.zeros((2, 2), dtype=dtype, order="F"))
        elif not X.flags.f_contiguous:  # a C-ordered X would compile anew
            raise ValueError("The dense kernels take an F-contiguous X.")
        if sparse is None:
            idx = readonly_view(np.empty(0, dtype=np.int32))
            values, indices, indptr = empty1, idx, idx
        else:
            values, indices, indptr = sparse
        if gram is None:
            G, q = readonly_view(np.empty((0, 0), dtype=dtype)), empty1
        else:
            G, q = gram
        self.kind = kind
        self.arrays = (X, values, indices, indptr, G, q)


@jit
def _epoch(kind, design, d, uniform, X_mean, curvature, w, state, offset, ws,
           order, l1, l2, positive):  # fmt: skip
    X, values, indices, indptr, G, _ = design
    if kind == DENSE:
        return dense_cd_epoch(X, d, uniform, X_mean, curvature, w, state, ws,
                              order, l1, l2, positive)  # fmt: skip
    if kind == SPARSE:
        return sparse_cd_epoch(values, indices, indptr, d, uniform, X_mean,
                               curvature, w, state, offset, ws, order, l1, l2,
                               positive)  # fmt: skip
    return gram_cd_epoch(G, curvature, w, state, ws, order, l1, l2, positive)


@jit
def _refresh(kind, design, y, y_mean, X_mean, w, state, offset):
    """Recompute the state exactly from ``w`` (rounding drifts over epochs)."""
    X, values, indices, indptr, G, q = design
    if kind == DENSE:
        residual(X, y, y_mean, X_mean, w, state)
        offset[0] = 0.0
    elif kind == SPARSE:
        sparse_residual(values, indices, indptr, y, y_mean, X_mean, w, state, offset)
    else:
        gram_correlation(G, q, w, state)


@jit
def _correlation_and_quad(kind, design, d, uniform, y_scale, w, state, offset,
                          features, out):  # fmt: skip
    """``out[k] = g[features[k]]``; returns ``r^T D r``."""
    X, values, indices, indptr, G, q = design
    if kind == DENSE:
        correlation(X, state, d, uniform, features, out)
        return weighted_sq_norm(state, d, uniform)
    if kind == SPARSE:
        sparse_correlation(values, indices, indptr, state, offset, d, uniform,
                           features, out)  # fmt: skip
        return sparse_sq_norm(state, offset, d, uniform)
    for k in range(features.shape[0]):
        out[k] = state[features[k]]
    # r^T D r = yc^T D yc - w^T q - w^T g, over the support only
    quad = y_scale
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            quad -= w[j] * (q[j] + state[j])
    return max(quad, 0.0)


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
def _combine(c, states, offsets, out, offset_out):
    """``out = sum_m c[m] states[m]`` (and the same for the offsets)."""
    out[:] = 0.0
    offset_out[0] = 0.0
    for m in range(c.shape[0]):
        cm = c[m]
        for i in range(out.shape[0]):
            out[i] += cm * states[m, i]
        offset_out[0] += cm * offsets[m]


@jit
def _penalty_value(w, l1, l2):
    s1 = 0.0
    s2 = 0.0
    for j in range(w.shape[0]):
        s1 += abs(w[j])
        s2 += w[j] * w[j]
    return l1 * s1 + 0.5 * l2 * s2


@jit
def _objective_at(kind, design, d, uniform, y_scale, w, state, offset, l1, l2):
    """The objective at ``w``, from its state (no correlations computed)."""
    quad = _correlation_and_quad(kind, design, d, uniform, y_scale, w, state,
                                 offset, np.empty(0, dtype=np.int64),
                                 np.empty(0))  # fmt: skip
    return 0.5 * quad + _penalty_value(w, l1, l2)


@jit
def _line_search(kind, design, d, uniform, w, state, offset, ws, w_prev,
                 state_prev, offset_prev, l1, l2, delta, dstate):  # fmt: skip
    """Exact line search along the last epoch's move ``w - w_prev`` (on
    ``ws``, with the state ``state_prev`` of ``w_prev``), in place.

    Where coordinate descent converges slowly (a large support of
    correlated features), the successive moves point the same way and
    shrink by a constant factor, which the step along them takes in one go.
    Up to the first coefficient that the line would bring to zero, the
    objective along it is a quadratic in the step ``t``, minimized in closed
    form from ``r^T D dr`` and ``dr^T D dr`` (``dr`` the residual's move;
    on the Gram backend from the correlations). The step stops short of that
    coefficient and of ``_LINE_SEARCH_CAP``, so zero and non-zero
    coefficients stay so. No step when a coefficient became zero in the
    last epoch (the move is then not one of a settled support). Returns
    whether it moved.
    """
    nws = ws.shape[0]
    t_max = _LINE_SEARCH_CAP
    slope = 0.0  # the penalty's derivative along the line, at t = 0
    curv = 0.0  # and its second derivative
    size = 0.0  # the sum of the slope's terms' magnitudes (for its rounding)
    moving = False
    for k in range(nws):
        j = ws[k]
        wj = np.float64(w[j])  # in float64: the margin below is 1e-9
        dk = wj - np.float64(w_prev[k])
        delta[k] = dk
        if dk == 0.0:
            continue
        if wj == 0.0:
            return False
        moving = True
        term = (l1 if wj > 0.0 else -l1) * dk + l2 * wj * dk
        slope += term
        size += abs(term)
        curv += l2 * dk * dk
        if (dk < 0.0) != (wj < 0.0):  # towards zero: stop short of it
            t_max = min(t_max, -wj / dk * (1.0 - 1e-9))
    if not moving:
        return False
    n_state = state.shape[0]
    for i in range(n_state):
        dstate[i] = state[i] - state_prev[i]
    doffset = offset[0] - offset_prev
    if kind == GRAM:  # the state is g = q - G w: loss'(0) = -delta^T g
        for k in range(nws):
            j = ws[k]
            slope -= delta[k] * state[j]
            size += abs(delta[k] * state[j])
            curv -= delta[k] * dstate[j]  # delta^T G delta
    else:  # the residual is state + offset
        a = 0.0
        b = 0.0
        for i in range(n_state):
            dr = dstate[i] + doffset
            di = d[0] if uniform else d[i]
            term = di * (state[i] + offset[0]) * dr
            a += term
            size += abs(term)
            b += di * dr * dr
        slope += a
        curv += b
    # a slope within the rounding of its terms (the state is stored in the
    # data's dtype) is no direction: the step would move w at random
    eps = np.finfo(state.dtype).eps
    if not (slope < -1000.0 * eps * size and curv > 0.0):
        return False
    t = min(-slope / curv, t_max)
    for k in range(nws):
        w[ws[k]] += t * delta[k]
    for i in range(n_state):
        state[i] += t * dstate[i]
    offset[0] += t * doffset
    return True


@jit
def _fresh_state(kind, design, y, y_mean, X_mean, w):
    """The state (and offset) of ``w``, computed from scratch."""
    # in the dtype of w, as in the solver (one compiled _refresh per dtype)
    state = np.empty(y.shape[0] if kind != GRAM else w.shape[0], dtype=w.dtype)
    offset = np.zeros(1)
    _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
    return state, offset


@jit
def _dual_value(kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature,
                w, l1, l2, positive):  # fmt: skip
    """The dual objective at the dual point that ``w`` gives (a lower bound
    on the optimum of the problem with ``l1``, ``l2``, wherever ``w`` is)."""
    p = w.shape[0]
    state, offset = _fresh_state(kind, design, y, y_mean, X_mean, w)
    g = np.empty(p)
    quad = _correlation_and_quad(kind, design, d, uniform, y_scale, w, state,
                                 offset, np.arange(p), g)  # fmt: skip
    primal, gap = duality_gap(g, w, quad, l1, l2, positive, curvature)
    return primal - gap


@jit
def cd_subproblem(
    kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w, state,
    offset, ws, l1, l2, positive, max_epochs, tol, final_tol, tol_update, rng,
    random_order, anderson, max_updates, dual_floor,
):  # fmt: skip
    """Coordinate descent restricted to the features ``ws`` until it converges.

    Converged means that the subproblem's duality gap is at most ``tol``
    and, when ``tol`` is the final tolerance ``final_tol``, scikit-learn's
    criterion that the last full epoch changed no coefficient by more than
    ``tol_update * max|w|``. An epoch over the non-zero coefficients counts
    as full for that criterion when the full epoch before it did not change
    which coefficients are zero (the zero ones did not move then, and those
    are the updates it leaves out): the solver need not wait for the next
    full epoch, which saves about 8% of the epochs along a lasso path.
    An accepted extrapolation breaks that chain only if it changed which
    coefficients are zero (breaking it at every accepted extrapolation
    cost 4% more epochs on the LassoCV benchmark's fold paths: paired
    fold-path time 0.97 without, lasso, and 0.95, elastic net).
    ``w`` and the state are updated in place; coefficients outside ``ws``
    are zero and stay so. A full epoch over
    ``ws`` is followed by ``_ACTIVE_EPOCHS`` epochs over its non-zero
    coefficients only. Every ``_ANDERSON_K + 1`` epochs the last iterates
    are extrapolated; the extrapolated point is kept only if it lowers the
    objective. Then the objective is minimized exactly along the last
    epoch's move (:func:`_line_search`), while that move is larger than
    the rounding: late on a path, on a large support of correlated
    features, the moves shrink by a nearly constant factor and both the
    update criterion and the gap wait for them (LassoCV benchmark: fold
    paths 7213 -> 6120 epochs, paired time 0.89 lasso; 0.94 and 0.97 for
    the elastic net at l1_ratio 0.9 and 0.5). It also stops once it has
    made ``max_updates`` coordinate updates (the caller's budget before it
    switches to the Gram backend).

    The gap is measured against the better of the dual point of the
    current residual and ``dual_floor``, a dual value of the whole problem
    (-inf if none): the whole problem's optimum is at most the
    subproblem's, so it bounds that too. Along a path, that floor (the
    previous solution's dual point) would certify most subproblems at the
    first epoch whose updates are small, where the current residual's dual
    point still misses the tolerance by 2-50% (LassoCV benchmark: 93% of
    those failed checks), and the epochs that waited for it are saved.

    Returns the number of epochs run, the subproblem's gap, the relative
    size ``max|delta| / max|w|`` of the updates of the last epoch that counts
    as full and the number of coordinate updates made.
    """
    nws = ws.shape[0]
    K = _ANDERSON_K
    history = np.zeros((K + 1, nws))
    # the states of the same iterates: the state is affine in w, so that of
    # an affine combination of iterates is the same combination of states
    state_history = np.zeros((K + 1, state.shape[0]), dtype=state.dtype)
    offset_history = np.zeros(K + 1)
    U = np.empty((K, nws))
    c = np.empty(K)
    w_ws = np.empty(nws, dtype=w.dtype)
    w_acc = np.zeros_like(w)
    state_acc = np.empty_like(state)
    offset_acc = np.zeros(1)
    delta = np.empty(nws)
    dstate = np.empty_like(state)
    rel_floor = np.sqrt(np.finfo(state.dtype).eps)
    g = np.empty(nws)
    order = np.arange(nws)
    nonzero = np.empty(nws, dtype=np.int64)
    was_nz = np.empty(nws, dtype=np.bool_)
    stable = False  # the last full epoch left the support unchanged
    curv_ws = np.empty(nws)
    for k in range(nws):
        curv_ws[k] = curvature[ws[k]]
    gap = np.inf
    rel_update = np.inf
    n_epochs = 0
    n_updates = 0  # coordinate updates, for the caller's cost accounting
    for epoch in range(max_epochs):
        # Between full epochs, _ACTIVE_EPOCHS epochs only over the features
        # that are non-zero (glmnet's active-set cycling): the others are
        # mostly zero at the optimum, and the full epochs let them enter.
        full = random_order or epoch % (_ACTIVE_EPOCHS + 1) == 0
        if random_order:
            for k in range(nws):
                order[k] = rng.integers(0, nws)
        if full:
            for k in range(nws):
                was_nz[k] = w[ws[k]] != 0.0
            dw_max, w_max = _epoch(kind, design, d, uniform, X_mean, curvature, w,
                                   state, offset, ws, order, l1, l2,
                                   positive)  # fmt: skip
            rel_update = dw_max / w_max if w_max > 0.0 else 0.0
            n_updates += nws
            stable = True
            for k in range(nws):
                if was_nz[k] != (w[ws[k]] != 0.0):
                    stable = False
                    break
        else:
            n_nz = 0
            for k in range(nws):
                if w[ws[k]] != 0.0:
                    nonzero[n_nz] = k
                    n_nz += 1
            dw_max, w_max = _epoch(kind, design, d, uniform, X_mean, curvature, w,
                                   state, offset, ws, nonzero[:n_nz], l1, l2,
                                   positive)  # fmt: skip
            n_updates += n_nz
            if stable:
                rel_update = dw_max / w_max if w_max > 0.0 else 0.0
        n_epochs = epoch + 1
        if anderson:
            slot = epoch % (K + 1)
            for k in range(nws):
                history[slot, k] = w[ws[k]]
            state_history[slot] = state
            offset_history[slot] = offset[0]
            if slot == K:
                for m in range(K):
                    for k in range(nws):
                        U[m, k] = history[m + 1, k] - history[m, k]
                if _anderson_weights(U, c):
                    w_acc[:] = 0.0
                    clipped = False
                    for k in range(nws):
                        v = 0.0
                        for m in range(K):
                            v += c[m] * history[m + 1, k]
                        if positive and v < 0.0:
                            v = 0.0
                            clipped = True
                        w_acc[ws[k]] = v
                    if clipped:  # no longer the combination: from scratch
                        _refresh(kind, design, y, y_mean, X_mean, w_acc,
                                 state_acc, offset_acc)  # fmt: skip
                    else:  # O(K n) instead of a product with X
                        _combine(c, state_history[1:], offset_history[1:],
                                 state_acc, offset_acc)  # fmt: skip
                    if _objective_at(kind, design, d, uniform, y_scale, w_acc,
                                     state_acc, offset_acc, l1, l2) < _objective_at(
                        kind, design, d, uniform, y_scale, w, state, offset, l1, l2
                    ):
                        for k in range(nws):
                            j = ws[k]
                            if (w[j] != 0.0) != (w_acc[j] != 0.0):
                                # the support moved: the zero coefficients
                                # must be updated again before an epoch
                                # over the others counts as full
                                stable = False
                            w[j] = w_acc[j]
                        state[:] = state_acc
                        offset[0] = offset_acc[0]
                if rel_update > rel_floor:
                    # only while the updates are large: at moves of the
                    # order of the rounding, the objective is flat along
                    # them and the steps would only add noise
                    _line_search(kind, design, d, uniform, w, state, offset, ws,
                                 history[K - 1], state_history[K - 1],
                                 offset_history[K - 1], l1, l2, delta,
                                 dstate)  # fmt: skip
        small_update = (full or stable) and rel_update <= tol_update
        # With the final tolerance, only an epoch with a small update can end
        # the subproblem, so only such an epoch pays for the gap (a pass over
        # the working set): the periodic checks were a third of all checks
        # on the LassoCV benchmark's paths, and could never stop them.
        loose = tol > final_tol
        periodic = loose and n_epochs % _CHECK_EVERY == 0
        if small_update or periodic or epoch == max_epochs - 1:
            quad = _correlation_and_quad(kind, design, d, uniform, y_scale, w, state,
                                         offset, ws, g)  # fmt: skip
            for k in range(nws):
                w_ws[k] = w[ws[k]]
            primal, gap = duality_gap(g, w_ws, quad, l1, l2, positive, curv_ws)
            gap = min(gap, primal - dual_floor)
            # The update criterion is scikit-learn's final check; subproblems
            # solved to a looser tolerance than the final one skip it.
            if gap <= tol and (small_update or loose):
                break
        if n_updates >= max_updates:
            break
    return n_epochs, gap, rel_update, n_updates


def enet_coordinate_descent(
    design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w, l1, l2,
    positive, max_iter, tol, tol_update, rng, random_order=False,
    working_set=True, screening=True, anderson=True, precompute="auto",
    polish=True, w_guess=None, dual_hint=None,
):  # fmt: skip
    """Minimize the penalized least squares of ``_penalties`` by coordinate descent.

    Parameters
    ----------
    design : Design
        ``X`` (dense F-contiguous or sparse CSC) or its Gram matrix.
    y : ndarray of shape (n_samples,)
    d : ndarray of shape (n_samples,)
        Normalized sample weights.
    uniform : bool
        All weights equal (``d[0]``).
    y_mean, y_scale : float
        Weighted mean of ``y`` and ``yc^T D yc``.
    X_mean, curvature : ndarray of shape (n_features,)
        See :func:`skreg.linear_model._data.column_moments`.
    w : ndarray of shape (n_features,)
        Starting point; updated in place.
    l1, l2 : float
    positive : bool
    max_iter : int
        Maximum number of epochs (passes over the current working set or,
        between full passes, over its non-zero coefficients).
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
    working_set, screening, anderson, polish : bool
        Switch the accelerations off (for testing and benchmarks);
        ``anderson`` covers the extrapolation and the line search after it.
        ``polish``: Newton steps on the support (see :func:`_polish`).
    precompute : "auto" or bool
        With a dense design and ``n_samples > n_features``: True switches to
        the Gram backend at once, "auto" when the epochs have cost more than
        the Gram matrix would, False never.
    w_guess : ndarray of shape (n_features,), default=None
        A second starting point (a path's prediction of the solution): the
        solver starts from whichever of ``w`` and ``w_guess`` has the lower
        objective. The dual point of ``w`` still serves the stopping test:
        the gap is measured against the best dual value seen, since the
        residual of a point closer to the solution does not always give the
        better dual point.
    dual_hint : tuple of ndarrays ``(g, w_hint, quad, state, offset, exact)``, \
            default=None
        Buffers that a path passes from one solve to the next, of shapes
        (n_features,), (n_features,), (1,), (n_samples,) (dense and sparse
        designs; any size on the Gram backend, which does not use it), (1,)
        and (n_features,) (int32, 1 for exact). On entry, if ``quad[0]`` is finite, they
        describe ``w_hint``, an iterate of the previous solve on the same
        data: ``quad[0]`` its ``r^T D r``, ``state`` and ``offset`` its
        state, and ``g`` the correlations ``Xc^T D r`` of every feature
        where ``exact``, elsewhere (features with a zero coefficient) an
        upper bound on their absolute value. They give the dual value of
        that point at this solve's penalties without a pass over ``X`` (with
        ``w_guess``, in place of ``w``'s), screen features before the first
        pass and rank the first working set. On return they hold the same
        for this solve's last pass (``quad[0]`` is NaN if none could be
        stored).

    Returns
    -------
    n_iter : int
        Epochs run.
    gap : float
        Duality gap at the returned ``w``.
    design : Design
        The design used at the end (the Gram backend if it was switched to,
        so that a path can reuse it).
    """
    p = w.shape[0]
    n = y.shape[0]
    dtype = w.dtype
    kind = design.kind
    if dual_hint is None:
        dual_hint = (np.empty(0), np.empty(0, dtype=dtype), np.full(1, np.nan),
                     np.empty(0, dtype=dtype), np.zeros(1),
                     np.empty(0, dtype=np.int32))
    dual_floor = -np.inf  # the best dual value known, for the stopping test
    state_ready = w_guess is not None
    if state_ready:
        state, offset = _fresh_state(kind, design.arrays, y, y_mean, X_mean, w)
        w_guess = np.ascontiguousarray(w_guess, dtype=dtype)
        dual_floor = _take_guess(
            kind, design.arrays, y, d, uniform, y_mean, y_scale, X_mean, curvature,
            w, state, offset, w_guess,
            *_fresh_state(kind, design.arrays, y, y_mean, X_mean, w_guess), l1,
            l2, positive, *dual_hint[:3],
        )  # fmt: skip
    # True forces the Gram matrix whatever the shape; "auto" only when n > p
    can_gram = (kind == DENSE and precompute is not False
                and (n > p or precompute is True))  # fmt: skip
    if can_gram and precompute is True:
        design, kind = _gram_design(design, d, uniform, X_mean, y, y_mean), GRAM
    # "auto": switch after the epochs have read n p^2 / _GRAM_SPEEDUP entries
    gram_work = p * p / _GRAM_SPEEDUP * n if can_gram and kind == DENSE else np.inf
    n_iter = 0
    while True:
        if not state_ready:
            state = np.empty(p if kind == GRAM else n, dtype=dtype)
            offset = np.zeros(1)
        with kernel_blas_threads(kind):
            epochs, gap, wants_gram = cd_solve(
                kind, design.arrays, y, d, uniform, y_mean, y_scale, X_mean,
                curvature, w, state, offset, state_ready, l1, l2, positive,
                max_iter - n_iter, tol, tol_update, rng, random_order,
                working_set, screening, anderson, polish, gram_work, dual_floor,
                *dual_hint,
            )  # fmt: skip
        n_iter += epochs
        if not wants_gram:
            return n_iter, gap, design
        design, kind = _gram_design(design, d, uniform, X_mean, y, y_mean), GRAM
        gram_work = np.inf
        state_ready = False  # the Gram backend's state is another one


@jit
def _support_gram(kind, design, d, uniform, X_mean, support, cache, cached_pos):
    """``Xc_S^T D Xc_S`` (float64) for the features ``support``.

    Gram backend: read from ``G``. Dense: the entries between features of
    the last support (``cache``, with ``cached_pos[j]`` the row of feature
    ``j`` in it, -1 if absent) are copied, only the rows of new features
    are computed, by BLAS from their centred, weighted columns.
    """
    X, _, _, _, G, _ = design
    k = support.shape[0]
    out = np.empty((k, k))
    if kind == GRAM:
        for a in range(k):
            for b in range(k):
                out[a, b] = G[support[a], support[b]]
        return out
    new = np.empty(k, dtype=np.int64)
    n_new = 0
    for a in range(k):
        pa = cached_pos[support[a]]
        if pa < 0:
            new[n_new] = a
            n_new += 1
            continue
        for b in range(k):
            pb = cached_pos[support[b]]
            if pb >= 0:
                out[a, b] = cache[pa, pb]
    if n_new == 0:
        return out
    n = X.shape[0]
    sqrt_d = np.empty(n)
    for i in range(n):
        sqrt_d[i] = np.sqrt(d[0] if uniform else d[i])
    cols = np.empty((k, n))  # row c: column support[c], centred, times sqrt(d)
    for c in range(k):
        j = support[c]
        m = X_mean[j]
        for i in range(n):
            cols[c, i] = (X[i, j] - m) * sqrt_d[i]
    fresh = np.dot(cols[new[:n_new]], cols.T)  # (n_new, k)
    for t in range(n_new):
        a = new[t]
        for b in range(k):
            out[a, b] = fresh[t, b]
            out[b, a] = fresh[t, b]
    return out


@jit
def _cholesky_solve(A, b):
    """``A^{-1} b`` for a symmetric positive definite ``A``; None if it is not."""
    try:
        L = np.linalg.cholesky(A)
    except Exception:  # noqa: BLE001 - not positive definite: no step
        return None
    k = b.shape[0]
    z = np.empty(k)
    for a in range(k):  # L z = b
        s = b[a]
        for c in range(a):
            s -= L[a, c] * z[c]
        z[a] = s / L[a, a]
    v = np.empty(k)
    for a in range(k - 1, -1, -1):  # L^T v = z
        s = z[a]
        for c in range(a + 1, k):
            s -= L[c, a] * v[c]
        v[a] = s / L[a, a]
    return v


@jit
def _polish(kind, design, y, d, uniform, y_mean, y_scale, X_mean, w, state,
            offset, g, active, l1, l2, positive, primal, cache,
            cached_pos):  # fmt: skip
    """Newton step on the current support and signs.

    Where the support ``S`` and the signs ``s`` of the solution are known,
    the problem is smooth and its minimizer solves the linear system
    ``(Xc_S^T D Xc_S + l2 I) v = Xc_S^T D yc - l1 s``. Coordinate descent
    needs many epochs to get there when the columns of ``S`` are strongly
    correlated; one solve does it. ``w`` moves from its value towards ``v``
    (the full step first; if a coefficient would change sign, it stops at
    zero, and the step is halved a few times; last, the segment on which no
    sign changes, where the objective is this smooth quadratic and
    decreases towards its minimizer). A step is kept only if the objective
    decreased. ``g`` holds
    ``Xc^T D r`` for the features ``active``; ``primal`` is the objective
    at ``w``. ``w`` and the state are updated in place.

    ``cache`` and ``cached_pos`` hold the Gram matrix of the last support
    (see :func:`_support_gram`); ``cached_pos`` is updated in place. Returns
    whether the step helped, and the Gram matrix of this support (the next
    call's ``cache``).
    """
    m = active.shape[0]
    support = np.empty(m, dtype=np.int64)
    rhs = np.empty(m)
    w_s = np.empty(m)  # the coefficients before the step
    k = 0
    for t in range(m):
        j = active[t]
        if w[j] != 0.0:
            support[k] = j
            w_s[k] = w[j]
            rhs[k] = g[t] - l1 * (1.0 if w[j] > 0.0 else -1.0)
            k += 1
    support, rhs, w_s = support[:k], rhs[:k], w_s[:k]
    gram = _support_gram(kind, design, d, uniform, X_mean, support, cache,
                         cached_pos)  # fmt: skip
    for j in range(cached_pos.shape[0]):
        cached_pos[j] = -1
    for a in range(k):
        cached_pos[support[a]] = a
    A = gram.copy()
    rhs += A @ w_s  # Xc_S^T D yc = g_S + A w_S
    scale = 0.0
    for a in range(k):
        A[a, a] += l2
        scale = max(scale, A[a, a])
    for a in range(k):  # a relative ridge of 1e-12 keeps the solve defined
        A[a, a] += 1e-12 * scale
    v = _cholesky_solve(A, rhs)
    if v is None:
        return False, gram
    for a in range(k):
        if not np.isfinite(v[a]):
            return False, gram
    # The largest step on which no coefficient changes sign ...
    segment = 1.0
    for a in range(k):
        if v[a] * w_s[a] <= 0.0:
            segment = min(segment, w_s[a] / (w_s[a] - v[a]))
    # ... then, if it is short, projected steps (coefficients that would
    # change sign stop at zero), halved until one lowers the objective.
    step = 1.0
    for attempt in range(5):
        if attempt == 4 or step <= segment:
            step = segment
        for a in range(k):
            new = w_s[a] + step * (v[a] - w_s[a])
            if (new > 0.0) != (w_s[a] > 0.0):
                new = 0.0
            w[support[a]] = new
        _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
        if _objective_at(kind, design, d, uniform, y_scale, w, state, offset, l1,
                         l2) < primal:  # fmt: skip
            return True, gram
        if step == segment:
            break
        step *= 0.5
    for a in range(k):
        w[support[a]] = w_s[a]
    _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
    return False, gram


@jit
def _working_set(g, w_act, active, l1, l2, positive, violation):
    """The features of ``active`` to solve on, sorted: the support, and
    room for the features about to enter, by decreasing KKT violation
    (computed into ``violation`` from the correlations ``g``)."""
    m = active.shape[0]
    kkt_violation(g, w_act, l1, l2, positive, violation)
    n_support = 0
    n_violating = 0
    for k in range(m):
        if w_act[k] != 0.0:
            violation[k] = np.inf
            n_support += 1
        elif violation[k] > 0.0:
            n_violating += 1
    # The support, and room for the features about to enter: as many as
    # violate the optimality conditions, at least a quarter and at most all
    # of the support's size (twice the support from a cold start, where most
    # features violate them; a little more than the support from a warm
    # start, where few do). The set grows as the support does, and always
    # contains it.
    extra = min(n_support, max(n_violating, n_support // 4))
    ws_size = min(m, max(_WS_MIN, n_support + extra))
    if ws_size == m:
        return active
    # The ws_size largest violations, by a selection rather than a sort
    # (O(m); the sort took twice as long as a pass over X): the threshold
    # is the ws_size-th largest value, and ties with it are taken in the
    # order of ``active``, so that the set comes out sorted.
    threshold = np.partition(violation, m - ws_size)[m - ws_size]
    n_ties = ws_size
    for k in range(m):
        n_ties -= violation[k] > threshold
    ws = np.empty(ws_size, dtype=np.int64)
    t = 0
    for k in range(m):
        v = violation[k]
        if v > threshold or (v == threshold and n_ties > 0):
            if v == threshold:
                n_ties -= 1
            ws[t] = active[k]
            t += 1
    return ws


@jit
def _drop_screened(kind, design, y, y_mean, X_mean, w, state, offset, active,
                   keep):  # fmt: skip
    """``active[keep]``; the coefficients of the others, proved zero at the
    optimum, are set to zero (and the state recomputed if one was not)."""
    out = np.empty(active.shape[0], dtype=np.int64)
    refresh = False
    k = 0
    for t in range(active.shape[0]):
        if keep[t]:
            out[k] = active[t]
            k += 1
        elif w[active[t]] != 0.0:
            w[active[t]] = 0.0
            refresh = True
    if refresh:
        _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
    return out[:k]


@jit
def _update_hint(kind, d, uniform, curvature, active, g, w, quad, state, offset,
                 complete, hint_g, hint_w, hint_quad, hint_state, hint_offset,
                 hint_exact):  # fmt: skip
    """Store the point of a pass (``g`` the correlations of the features
    ``active``, ``complete`` if those are all the non-constant ones) as the
    dual hint that the next solve of a path starts from.

    ``hint_g`` gets the correlations of every feature at ``w``: exact for
    the features of the pass (and on the Gram backend, whose state holds them
    all); for the others, screened out, an upper bound on their absolute
    value, ``|g_j(r_hint)| + ||x_j - m_j||_D ||r - r_hint||_D`` from the
    previous hint (Cauchy-Schwarz), which the dual point and the screening
    accept in place of ``|g_j|`` for a zero coefficient (``hint_exact``
    tells the two kinds apart). Without a previous hint to bound them from,
    the hint is marked invalid (``hint_quad`` NaN).
    """
    p = w.shape[0]
    if kind == GRAM:
        for j in range(p):
            hint_g[j] = state[j]
        hint_exact[:] = 1
    elif complete:
        hint_g[:] = 0.0  # constant columns: zero correlation
        hint_exact[:] = 1
    elif np.isfinite(hint_quad[0]) and hint_state.shape[0] == state.shape[0]:
        dist2 = 0.0  # ||r - r_hint||_D^2 (the residual is state + offset)
        shift = offset[0] - hint_offset[0]
        for i in range(state.shape[0]):
            diff = state[i] - hint_state[i] + shift
            dist2 += (d[0] if uniform else d[i]) * diff * diff
        dist = np.sqrt(dist2)
        for j in range(p):
            if curvature[j] > 0.0:
                hint_g[j] = abs(hint_g[j]) + np.sqrt(curvature[j]) * dist
                hint_exact[j] = 0
            else:
                hint_g[j] = 0.0
                hint_exact[j] = 1
    else:
        hint_quad[0] = np.nan
        return
    if kind != GRAM:
        for k in range(active.shape[0]):
            hint_g[active[k]] = g[k]
            hint_exact[active[k]] = 1
        if hint_state.shape[0] == state.shape[0]:
            hint_state[:] = state
            hint_offset[0] = offset[0]
    hint_w[:] = w
    hint_quad[0] = quad


@jit
def cd_solve(
    kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w, state,
    offset, state_ready, l1, l2, positive, max_iter, tol, tol_update, rng,
    random_order, working_set, screening, anderson, polish, gram_work,
    dual_floor, hint_g, hint_w, hint_quad, hint_state, hint_offset, hint_exact,
):  # fmt: skip
    """The outer loop of :func:`enet_coordinate_descent`, compiled.

    ``state`` and ``offset`` (shape (1,)) receive the state of ``w``; if
    ``state_ready``, they hold it already on entry.

    Returns the epochs run, the gap, and whether it stopped early because
    the epochs have cost ``gram_work`` matrix entries (the caller then
    switches to the Gram backend and calls again from the current ``w``).
    The gap returned and tested is measured against the best dual value
    seen: ``dual_floor`` (-inf if none) and those of the iterates.
    ``hint_g``, ``hint_w``, ``hint_quad``, ``hint_state``, ``hint_offset``,
    ``hint_exact`` are the ``dual_hint`` of :func:`enet_coordinate_descent` (empty: not
    kept): on entry, a point of a previous solve on the same data, which
    screens features before any pass; on return, the last pass's (see
    :func:`_update_hint`).
    """
    p = w.shape[0]
    n = y.shape[0]
    n_active = 0
    for j in range(p):
        if curvature[j] > 0.0:
            n_active += 1
        elif w[j] != 0.0:
            w[j] = 0.0  # constant columns never move
            state_ready = False
    if not state_ready:
        _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
    active = np.empty(n_active, dtype=np.int64)
    k = 0
    for j in range(p):
        if curvature[j] > 0.0:
            active[k] = j
            k += 1
    keep_hint = hint_w.shape[0] == p
    hint_ok = keep_hint and np.isfinite(hint_quad[0])
    # The previous solve of a path left the correlations of its solution:
    # they rank the features for the first working set well enough, which
    # saves the pass over all the features at the start point.
    hint_ws = hint_ok and working_set and l1 > 0.0
    if n_active == 0:  # no column varies: w = 0 is the solution
        if keep_hint:
            hint_quad[0] = np.nan
        return 0, 0.0, False
    g = np.empty(p)
    w_act = np.empty(p, dtype=w.dtype)
    curv_act = np.empty(p)
    violation = np.empty(p)
    keep = np.empty(p, dtype=np.bool_)
    if hint_ok and screening and l1 > 0.0 and kind != GRAM:
        # Sequential screening: the previous solve's dual point, with the
        # primal value at the start point, proves features zero before the
        # first pass, which then reads only the others. (On the Gram
        # backend a pass costs O(p) and the hint is always exact.)
        for k in range(n_active):
            g[k] = hint_g[active[k]]
            w_act[k] = hint_w[active[k]]
            curv_act[k] = curvature[active[k]]
        primal = _objective_at(kind, design, d, uniform, y_scale, w, state, offset,
                               l1, l2)  # fmt: skip
        n_kept = gap_safe_screen(g[:n_active], w_act[:n_active], hint_quad[0], l1,
                                 l2, positive, curv_act[:n_active],
                                 keep[:n_active], primal)  # fmt: skip
        if n_kept < n_active:
            active = _drop_screened(kind, design, y, y_mean, X_mean, w, state,
                                    offset, active, keep)  # fmt: skip
    last_support = np.zeros(p, dtype=np.bool_)
    just_polished = False
    polish_spent = 0.0
    cache = np.empty((0, 0))  # the Gram matrix of the last polished support
    cached_pos = np.full(p, -1, dtype=np.int64)
    n_iter = 0
    gap = np.inf
    rel_update = np.inf
    work = 0.0  # matrix entries read by the epochs so far
    use_ws = working_set and l1 > 0.0
    if hint_ws:
        m = active.shape[0]
        for k in range(m):
            # a bound is no correlation to rank by: those features were
            # screened out at the hint, far from entering
            g[k] = hint_g[active[k]] if hint_exact[active[k]] != 0 else 0.0
            w_act[k] = w[active[k]]
        # (all of them when screening left few: still solved to the final
        # tolerance at once, rather than after a pass and a looser subproblem)
        ws = _working_set(g[:m], w_act[:m], active, l1, l2, positive,
                          violation[:m])  # fmt: skip
        max_updates = (gram_work - work) / (p if kind == GRAM else n) + 1.0
        epochs, _, rel_update, n_updates = cd_subproblem(
            kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w,
            state, offset, ws, l1, l2, positive, max_iter, tol, tol, tol_update,
            rng, random_order, anderson, max_updates, dual_floor,
        )  # fmt: skip
        n_iter += epochs
        work += n_updates * (p if kind == GRAM else n)
        _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
    while True:
        m = active.shape[0]
        quad = _correlation_and_quad(kind, design, d, uniform, y_scale, w, state,
                                     offset, active, g[:m])  # fmt: skip
        for k in range(m):
            w_act[k] = w[active[k]]
            curv_act[k] = curvature[active[k]]
        primal, gap = duality_gap(g[:m], w_act[:m], quad, l1, l2, positive,
                                  curv_act[:m])  # fmt: skip
        if keep_hint:
            _update_hint(kind, d, uniform, curvature, active, g[:m], w, quad,
                         state, offset, m == n_active, hint_g, hint_w, hint_quad,
                         hint_state, hint_offset, hint_exact)  # fmt: skip
        if l1 > 0.0 or l2 > 0.0:  # gap = primal - dual (not without a penalty)
            dual_floor = max(dual_floor, primal - gap)
            certified = primal - dual_floor
        else:
            certified = gap
        if (certified <= tol and rel_update <= tol_update) or n_iter >= max_iter:
            gap = certified
            break
        # Newton step on the support once it has (nearly) stopped changing;
        # not twice in a row ...
        n_supp = 0
        n_changed = 0
        n_new = 0  # support features outside the cached support Gram
        for k in range(m):
            nz = w_act[k] != 0.0
            n_supp += nz
            n_changed += nz != last_support[active[k]]
            last_support[active[k]] = nz
            n_new += nz and cached_pos[active[k]] < 0
        same = n_changed <= max(1, n_supp // 50)
        # ... and only while the Newton steps have cost less in all than a
        # quarter of the epochs: where coordinate descent converges well
        # (the support found early, the gap falling fast), a Newton step
        # saves fewer epochs than it costs. The cost (in units of
        # entries read by the epochs) counts the new rows of the support
        # Gram (k_new k n) and the solve (k^3 / 3, counted as k^2 n / 3 >= it
        # on the dense backend, so that a weighted sample and its repeated
        # rows take the same steps).
        k = float(n_supp)
        if kind == GRAM:
            polish_cost = k * k * k / 3.0 / _POLISH_SPEEDUP
        else:
            polish_cost = (n_new + k / 3.0) * k * n / _POLISH_SPEEDUP
        affordable = polish_spent + polish_cost <= _POLISH_SHARE * work
        if (polish and l1 > 0.0 and kind != SPARSE and not just_polished
                and same and n_supp > 0 and affordable):
            just_polished = True
            polish_spent += polish_cost
            helped, cache = _polish(kind, design, y, d, uniform, y_mean, y_scale,
                                    X_mean, w, state, offset, g[:m], active, l1,
                                    l2, positive, primal, cache,
                                    cached_pos)  # fmt: skip
            if helped:
                continue
        just_polished = False
        if screening and l1 > 0.0:
            n_kept = gap_safe_screen(g[:m], w_act[:m], quad, l1, l2, positive,
                                     curv_act[:m], keep[:m], np.inf)  # fmt: skip
            if n_kept < m:
                k = 0
                for t in range(m):
                    if keep[t]:
                        g[k] = g[t]
                        w_act[k] = w_act[t]
                        k += 1
                active = _drop_screened(kind, design, y, y_mean, X_mean, w, state,
                                        offset, active, keep)  # fmt: skip
                m = k
        if use_ws:
            ws = _working_set(g[:m], w_act[:m], active, l1, l2, positive,
                              violation[:m])  # fmt: skip
            tol_in = max(0.3 * gap, tol)
        else:
            ws = active
            tol_in = tol
        final_tol = tol
        if certified <= tol:
            # Already certified (by an earlier dual point): the epochs only
            # have to meet the update criterion, and cannot undo the
            # certificate since they only lower the objective.
            tol_in = final_tol = np.inf
        if work > gram_work:
            return n_iter, gap, True
        # the epochs stop when they reach the cost of the Gram matrix
        max_updates = (gram_work - work) / (p if kind == GRAM else n) + 1.0
        epochs, _, rel_update, n_updates = cd_subproblem(
            kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w,
            state, offset, ws, l1, l2, positive, max_iter - n_iter, tol_in,
            final_tol, tol_update, rng, random_order, anderson, max_updates,
            dual_floor,
        )  # fmt: skip
        n_iter += epochs
        work += n_updates * (p if kind == GRAM else n)
        _refresh(kind, design, y, y_mean, X_mean, w, state, offset)
        if final_tol == np.inf and rel_update <= tol_update:
            # certified before these epochs, which only lowered the
            # objective, and now the update criterion holds too: done,
            # without another pass over all the features
            gap = _objective_at(kind, design, d, uniform, y_scale, w, state,
                                offset, l1, l2) - dual_floor  # fmt: skip
            if gap <= tol:
                break
    return n_iter, gap, False


@jit
def _take_guess(kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature,
                w, state, offset, guess, guess_state, guess_offset, l1, l2,
                positive, hint_g, hint_w, hint_quad):  # fmt: skip
    """Move ``w`` to ``guess`` (in place) if the guess has the lower objective.

    ``state`` and ``offset`` hold the state of ``w`` and follow it;
    ``guess_state`` and ``guess_offset`` that of ``guess``. Returns the dual
    value that the old ``w`` certifies (-inf if ``w`` is kept, or without a
    penalty): its dual point may still be better than the guess's (see
    :func:`_dual_floor`).
    """
    if _objective_at(kind, design, d, uniform, y_scale, guess, guess_state,
                     guess_offset, l1, l2) >= _objective_at(
        kind, design, d, uniform, y_scale, w, state, offset, l1, l2
    ):  # fmt: skip
        return -np.inf
    dual_floor = _dual_floor(kind, design, y, d, uniform, y_mean, y_scale, X_mean,
                             curvature, w, l1, l2, positive, hint_g, hint_w,
                             hint_quad)  # fmt: skip
    w[:] = guess
    state[:] = guess_state
    offset[0] = guess_offset[0]
    return dual_floor


@jit
def _dual_floor(kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w,
                l1, l2, positive, hint_g, hint_w, hint_quad):  # fmt: skip
    """The dual value that ``w`` certifies at ``l1``, ``l2`` (-inf without a
    penalty): from the hint if there is one, else from a pass over ``X``."""
    if l1 == 0.0 and l2 == 0.0:
        return -np.inf
    if hint_w.shape[0] == w.shape[0] and np.isfinite(hint_quad[0]):
        primal, gap = duality_gap(hint_g, hint_w, hint_quad[0], l1, l2, positive,
                                  curvature)  # fmt: skip
        return primal - gap
    return _dual_value(kind, design, y, d, uniform, y_mean, y_scale, X_mean,
                       curvature, w, l1, l2, positive)  # fmt: skip


@jit
def secant_guess(w0, w1, a0, a1, a2):
    """Predict the solution at ``a2`` from those at ``a0`` and ``a1`` (``a0 != a1``).

    Where the support and the signs do not change, the lasso solution is
    affine in alpha: the secant through the last two solutions is exact
    (and close for the elastic net). Coefficients that are zero stay zero,
    and those the secant would carry across zero stop there, where they
    leave the support.
    """
    t = (a2 - a1) / (a1 - a0)
    out = np.empty_like(w1)
    for j in range(w1.shape[0]):
        v = w1[j] + (w1[j] - w0[j]) * t
        out[j] = v if (v > 0.0 and w1[j] > 0.0) or (v < 0.0 and w1[j] < 0.0) else 0.0
    return out


@jit
def _move_coordinate(kind, design, X_mean, j, delta, state, offset):
    """Update the state (and offset) for ``w[j] += delta``."""
    X, values, indices, indptr, G, _ = design
    if kind == DENSE:
        m = X_mean[j]
        for i in range(state.shape[0]):
            state[i] -= delta * (X[i, j] - m)
    elif kind == SPARSE:
        for t in range(indptr[j], indptr[j + 1]):
            state[indices[t]] -= delta * values[t]
        offset[0] += delta * X_mean[j]
    else:
        for i in range(state.shape[0]):
            state[i] -= delta * G[j, i]


@jit
def _secant_state(kind, design, X_mean, w0, w1, guess, t, state0, offset0,
                  state1, offset1, out, offset_out):  # fmt: skip
    """The state of :func:`secant_guess`'s ``guess`` from those of ``w0`` and
    ``w1``, without a product with ``X``.

    The state is affine in ``w``: that of the secant point
    ``w1 + t (w1 - w0)`` is ``s1 + t (s1 - s0)``; the coefficients the guess
    set to zero instead (see :func:`secant_guess`) are then moved one column
    at a time. The guess's other entries are the secant's, rounded to the
    dtype of ``w``, a difference below the rounding of the states.
    """
    for i in range(out.shape[0]):
        out[i] = state1[i] + t * (state1[i] - state0[i])
    offset_out[0] = offset1[0] + t * (offset1[0] - offset0[0])
    for j in range(w1.shape[0]):
        v = w1[j] + (w1[j] - w0[j]) * t
        if guess[j] == 0.0 and v != 0.0:
            _move_coordinate(kind, design, X_mean, j, -v, out, offset_out)


@jit
def cd_path(kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, l1s,
            l2s, alphas, positive, max_iter, tol, tol_update, rng, random_order,
            working_set, screening, anderson, polish, coefs, gaps,
            n_iters):  # fmt: skip
    """Solve for every ``(l1s[k], l2s[k])`` in turn, warm-started: a path.

    ``coefs[k]`` (shape ``(n_alphas, n_features)``, C order), ``gaps[k]``
    and ``n_iters[k]`` receive the solution, its gap and its epochs. Each
    solve starts from the previous solution or, where its objective is
    lower, from the secant through the previous two (:func:`secant_guess`;
    ``alphas`` are only used there), and takes the previous solve's last
    correlations as a dual point (the ``dual_hint`` of
    :func:`enet_coordinate_descent`). One compiled call for the whole path:
    no interpreter work between the solves. The backend does not change
    along the path (no switch to the Gram matrix: a path that wants it
    precomputes it).
    """
    n_alphas, p = coefs.shape
    n = y.shape[0]
    w = np.zeros(p, dtype=coefs.dtype)
    hint_g = np.empty(p)
    hint_w = np.empty(p, dtype=coefs.dtype)
    hint_quad = np.full(1, np.nan)
    # the state of w, kept from one solve to the next (cd_solve leaves it
    # exact), so that neither the comparison with the guess nor the next
    # solve recomputes it
    state = np.empty(p if kind == GRAM else n, dtype=coefs.dtype)
    offset = np.zeros(1)
    hint_state = np.empty_like(state)
    hint_offset = np.zeros(1)
    hint_exact = np.empty(p, dtype=np.int32)  # flags: int32, not bool (kernel args)
    # the state of the previous solution, and that of the secant guess
    prev_state = np.empty_like(state)
    prev_offset = np.zeros(1)
    guess_state = np.empty_like(state)
    guess_offset = np.zeros(1)
    for k in range(n_alphas):
        dual_floor = -np.inf
        secant = k >= 2 and alphas[k - 1] != alphas[k - 2]
        if secant:
            guess = secant_guess(coefs[k - 2], w, alphas[k - 2], alphas[k - 1],
                                 alphas[k])  # fmt: skip
            t = (alphas[k] - alphas[k - 1]) / (alphas[k - 1] - alphas[k - 2])
            _secant_state(kind, design, X_mean, coefs[k - 2], w, guess, t,
                          prev_state, prev_offset, state, offset, guess_state,
                          guess_offset)  # fmt: skip
        prev_state[:] = state  # the state of coefs[k - 1], for the next secant
        prev_offset[0] = offset[0]
        if secant:
            dual_floor = _take_guess(kind, design, y, d, uniform, y_mean, y_scale,
                                     X_mean, curvature, w, state, offset, guess,
                                     guess_state, guess_offset, l1s[k], l2s[k],
                                     positive, hint_g, hint_w,
                                     hint_quad)  # fmt: skip
        n_iters[k], gaps[k], _ = cd_solve(
            kind, design, y, d, uniform, y_mean, y_scale, X_mean, curvature, w,
            state, offset, k > 0, l1s[k], l2s[k], positive, max_iter, tol,
            tol_update, rng, random_order, working_set, screening, anderson,
            polish, np.inf, dual_floor, hint_g, hint_w, hint_quad, hint_state,
            hint_offset, hint_exact,
        )  # fmt: skip
        coefs[k] = w


def kernel_blas_threads(kind):
    """The BLAS threads for a solve on backend ``kind`` (a context manager).

    On the Gram backend the kernels' BLAS calls are small (systems the size
    of the support) and follow NumPy's product that built ``G``: one thread,
    which avoids waiting for NumPy's spinning worker (see
    :mod:`skreg._threads`; the Gram solve of bench_linear's problem (c): 7
    ms, against 7 to 110 ms). On the data backends the support's Gram
    matrix is a product with ``n_samples`` rows, which keeps its threads
    (one thread made problem (b') 8% slower).
    """
    return single_blas_thread() if kind == GRAM else contextlib.nullcontext()


def _gram_design(design, d, uniform, X_mean, y, y_mean):
    """The Gram backend for a dense design (built with BLAS, in numpy)."""
    X = design.arrays[0]
    G, q = centered_gram(X, d, uniform, X_mean, y, y_mean)
    G = readonly_view(np.ascontiguousarray(G))
    return Design(GRAM, X.dtype, gram=(G, readonly_view(q)))
