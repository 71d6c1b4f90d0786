"""Penalty math in one place: proximal step, duality gap, optimality scores.

Every solver minimizes, over ``w`` (the intercept is profiled out by implicit
centring, see :mod:`skreg.linear_model._data`)::

    P(w) = 1/2 * sum_i d_i * r_i**2 + l1 * ||w||_1 + l2 / 2 * ||w||_2**2

with ``d = sample_weight / sum(sample_weight)``, residual ``r = y - X w - b``
and ``l1 = alpha * l1_ratio``, ``l2 = alpha * (1 - l1_ratio)``. With
``positive=True`` the coefficients are also constrained to ``w >= 0``.

The solvers share the functions below, so a change to the penalty is a
change here and nowhere else. They work on the *correlation vector*
``g = Xc^T D r`` (``Xc`` the implicitly centred design, ``D = diag(d)``),
which is the negative gradient of the data-fit term.
"""

import numpy as np

from skreg._numba import jit

__all__ = [
    "l1_l2_strengths",
    "prox_enet",
    "duality_gap",
    "kkt_violation",
    "gap_safe_screen",
]


def l1_l2_strengths(penalty, alpha, l1_ratio):
    """Split ``alpha`` into the L1 and L2 strengths of ``penalty``.

    Returns
    -------
    l1, l2 : float
        ``alpha * r`` and ``alpha * (1 - r)`` with ``r = 1`` for "l1",
        ``0`` for "l2", ``l1_ratio`` for "elasticnet"; both 0 for None.
    """
    if penalty is None:
        return 0.0, 0.0
    ratio = {"l1": 1.0, "l2": 0.0, "elasticnet": float(l1_ratio)}[penalty]
    return float(alpha) * ratio, float(alpha) * (1.0 - ratio)


@jit
def prox_enet(z, curvature, l1, l2, positive):
    """Minimizer over ``v`` of ``curvature/2 (v - z/curvature)**2 + pen(v)``.

    That is ``soft_threshold(z, l1) / (curvature + l2)``, clipped at 0 when
    ``positive``; ``z`` is the coordinate's linear term.
    """
    if positive:
        if z <= l1:
            return 0.0
        return (z - l1) / (curvature + l2)
    if z > l1:
        return (z - l1) / (curvature + l2)
    if z < -l1:
        return (z + l1) / (curvature + l2)
    return 0.0


@jit
def duality_gap(g, w, quad, l1, l2, positive, curvature):
    """Primal objective and duality gap at ``w``.

    Parameters
    ----------
    g : ndarray of shape (n_features,)
        ``Xc^T D r``, the correlation of each feature with the residual.
    w : ndarray of shape (n_features,)
        Current coefficients (restricted to the same features as ``g``;
        the coefficients of the other features must be zero).
    quad : float
        ``r^T D r``, for the residual ``r = yc - Xc w``.
    l1, l2 : float
        Penalty strengths.
    positive : bool
        Non-negativity constraint.
    curvature : ndarray of shape (n_features,)
        ``diag(Xc^T D Xc)``, used only without any penalty.

    Returns
    -------
    primal : float
    gap : float
        The smallest of the valid gaps below (each is an upper bound on
        ``primal - min P``):

        * ``l1 > 0``: the Lasso dual at the rescaled residual
          ``theta = c * [D^1/2 r; -sqrt(l2) w]`` with ``c`` making it
          feasible (the elastic net seen as a Lasso on augmented data; the
          same certificate as scikit-learn's coordinate descent);
        * ``l2 > 0``: the Fenchel dual at ``theta = D^1/2 r``, with the
          conjugate ``ST(u, l1)**2 / (2 l2)`` of the penalty;
        * no penalty: the problem has no bounded dual certificate, so the
          gap is replaced by the sum of the exact decreases of one
          coordinate-wise step, ``sum_j a_j delta_j**2 / 2`` (zero exactly
          at a stationary point).

    Notes
    -----
    The textbook formulas contain ``yc^T D r``, which is large and cancels
    against ``r^T D r``; we substitute ``yc^T D r = r^T D r + w^T g`` so
    that the gap keeps its precision down to tiny tolerances.
    """
    l1_norm = 0.0
    w_norm2 = 0.0
    wg = 0.0
    for j in range(w.shape[0]):
        l1_norm += abs(w[j])
        w_norm2 += w[j] * w[j]
        wg += w[j] * g[j]
    primal = 0.5 * quad + l1 * l1_norm + 0.5 * l2 * w_norm2
    gap = np.inf
    if l1 > 0.0:
        dual_norm = 0.0
        for j in range(w.shape[0]):
            u = g[j] - l2 * w[j]
            if not positive:
                u = abs(u)
            if u > dual_norm:
                dual_norm = u
        c = 1.0 if dual_norm <= l1 else l1 / dual_norm
        gap = (0.5 * (1.0 - c) ** 2 * quad + 0.5 * (1.0 + c * c) * l2 * w_norm2
               - c * wg + l1 * l1_norm)  # fmt: skip
    if l2 > 0.0:
        conj = 0.0
        for j in range(w.shape[0]):
            u = g[j] - l1 if positive else abs(g[j]) - l1
            if u > 0.0:
                conj += u * u
        gap_fenchel = -wg + l1 * l1_norm + 0.5 * l2 * w_norm2 + conj / (2.0 * l2)
        gap = min(gap, gap_fenchel)
    if l1 == 0.0 and l2 == 0.0:
        gap = 0.0
        for j in range(w.shape[0]):
            a = curvature[j]
            if a > 0.0:
                new = w[j] + g[j] / a
                if positive and new < 0.0:
                    new = 0.0
                delta = new - w[j]
                gap += 0.5 * a * delta * delta
    # Rounding can make a converged gap slightly negative.
    return primal, max(gap, 0.0)


@jit
def kkt_violation(g, w, l1, l2, positive, out):
    """Distance of ``-grad`` to the subdifferential of the penalty, per feature.

    ``out[j]`` is zero exactly when feature ``j`` satisfies the optimality
    (KKT) condition; working sets are ranked by it.
    """
    for j in range(w.shape[0]):
        u = g[j] - l2 * w[j]
        if w[j] != 0.0:
            sign = 1.0 if w[j] > 0.0 else -1.0
            out[j] = abs(u - l1 * sign)
        elif positive:
            out[j] = max(u - l1, 0.0)
        else:
            out[j] = max(abs(u) - l1, 0.0)


@jit
def gap_safe_screen(g, w, quad, l1, l2, positive, curvature, keep, primal_bound):
    """Features the gap-safe sphere test cannot prove zero at the optimum.

    The dual optimum lies within ``sqrt(2 gap)`` of any feasible dual point
    ``theta`` (the Lasso dual of the augmented problem is 1-strongly
    concave), where ``gap`` is the primal value of *any* point minus the
    dual value of ``theta``. Feature ``j`` is zero at the optimum if
    ``|x_j^T theta| + sqrt(2 gap) ||x_j|| < l1``; the augmented column has
    ``||x_j||^2 = a_j + l2``. ``theta`` is the rescaled residual of
    :func:`duality_gap` at ``w`` and ``gap`` its Lasso-dual gap, recomputed
    here, or ``primal_bound`` (the primal value of another point, ``inf``
    if none) minus the dual value when that is smaller. Sets ``keep[j]`` and
    returns the number of features kept.

    ``g`` may hold, for features with ``w[j] == 0``, upper bounds on
    ``|x_j^T D r|`` instead of the correlations: ``theta`` (scaled down
    further) stays feasible and the test only gets more cautious.

    Near the optimum the sphere shrinks to nothing and an active feature
    sits exactly on the boundary ``|x_j^T theta| = l1``, where rounding
    decides. So the test keeps a relative margin of 1e-10, and never
    discards a feature whose coefficient is currently non-zero (coordinate
    descent zeroes it itself if it must be).
    """
    p = w.shape[0]
    dual_norm = 0.0
    l1_norm = 0.0
    w_norm2 = 0.0
    wg = 0.0
    for j in range(p):
        u = g[j] - l2 * w[j]
        dual_norm = max(dual_norm, u if positive else abs(u))
        l1_norm += abs(w[j])
        w_norm2 += w[j] * w[j]
        wg += w[j] * g[j]
    c = 1.0 if dual_norm <= l1 else l1 / dual_norm
    gap = (0.5 * (1.0 - c) ** 2 * quad + 0.5 * (1.0 + c * c) * l2 * w_norm2
           - c * wg + l1 * l1_norm)  # fmt: skip
    primal = 0.5 * quad + l1 * l1_norm + 0.5 * l2 * w_norm2
    if primal_bound < primal:  # a better point: same dual value, smaller gap
        gap -= primal - primal_bound
    radius = np.sqrt(2.0 * max(gap, 0.0))
    n_kept = 0
    for j in range(p):
        u = g[j] - l2 * w[j]
        corr = c * u if positive else c * abs(u)
        bound = corr + radius * np.sqrt(curvature[j] + l2)
        keep[j] = w[j] != 0.0 or bound >= l1 * (1.0 - 1e-10)
        n_kept += keep[j]
    return n_kept
