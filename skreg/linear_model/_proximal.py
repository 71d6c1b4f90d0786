"""Accelerated proximal gradient (FISTA) for the penalized least squares.

An independent second solver: it shares with coordinate descent only the
penalty math of :mod:`skreg.linear_model._penalties` (proximal step and
duality gap) and the design tuple of :class:`skreg.linear_model._cd.Design`
(dense products go to BLAS, sparse ones are loops over the CSC columns), so
the tests can cross-check the two.

The smooth part ``1/2 ||r||_D^2 + l2/2 ||w||^2`` has a gradient that is
Lipschitz with constant ``L = lambda_max(Xc^T D Xc) + l2``; the proximal step
of ``l1 ||w||_1`` (with ``w >= 0`` when ``positive``) is a soft threshold.
Momentum is restarted whenever it points against the last step (the
gradient restart of O'Donoghue & Candes, 2015), which restores linear
convergence on strongly convex problems.
"""

import numpy as np

from skreg._numba import jit
from skreg.linear_model._cd import SPARSE
from skreg.linear_model._penalties import duality_gap, prox_enet

__all__ = ["fista", "lipschitz_constant"]


@jit
def _centered_matvec(kind, design, X_mean, v, out):
    """``out = Xc @ v`` for a dense or sparse design."""
    X, values, indices, indptr, _, _ = design
    if kind == SPARSE:
        out[:] = 0.0
        for j in range(v.shape[0]):
            vj = v[j]
            if vj != 0.0:
                for k in range(indptr[j], indptr[j + 1]):
                    out[indices[k]] += values[k] * vj
    else:
        out[:] = np.dot(X, v)
    shift = 0.0
    for j in range(v.shape[0]):
        shift += X_mean[j] * v[j]
    for i in range(out.shape[0]):
        out[i] -= shift


@jit
def _centered_rmatvec(kind, design, X_mean, d, u, du, out):
    """``out = Xc^T D u``; ``du`` is a work buffer of the data dtype."""
    X, values, indices, indptr, _, _ = design
    for i in range(u.shape[0]):
        du[i] = d[i] * u[i]
    if kind == SPARSE:
        for j in range(out.shape[0]):
            acc = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                acc += values[k] * du[indices[k]]
            out[j] = acc
    else:
        out[:] = np.dot(X.T, du)
    total = du.sum()
    for j in range(out.shape[0]):
        out[j] -= X_mean[j] * total


@jit
def lipschitz_constant(kind, design, n, X_mean, d, n_iter=100, rtol=1e-6):
    """Largest eigenvalue of ``Xc^T D Xc`` by power iteration.

    Starts from the all-ones direction and stops when the Rayleigh quotient
    changes by less than ``rtol``; the estimate is inflated by 1% because
    power iteration approaches the top eigenvalue from below and an
    underestimated ``L`` makes proximal gradient diverge.
    """
    p = X_mean.shape[0]
    dtype = design[1].dtype
    v = np.empty(p, dtype=dtype)
    v[:] = 1.0 / np.sqrt(p)
    Xv = np.empty(n, dtype=dtype)
    g = np.empty(p, dtype=dtype)
    du = np.empty(n, dtype=dtype)
    lam = 0.0
    for _ in range(n_iter):
        _centered_matvec(kind, design, X_mean, v, Xv)
        _centered_rmatvec(kind, design, X_mean, d, Xv, du, g)
        norm = np.sqrt((g * g).sum())
        if norm == 0.0:
            return 0.0
        new = (v * g).sum()
        v[:] = g / norm
        if abs(new - lam) <= rtol * new:
            lam = new
            break
        lam = new
    return 1.01 * lam


@jit
def fista(
    kind, design, y, d, y_mean, X_mean, curvature, w, l1, l2, positive,
    lipschitz, max_iter, tol, check_every=10,
):  # fmt: skip
    """FISTA with gradient restart; ``w`` is the starting point, updated in place.

    Returns the number of iterations and the duality gap at ``w``.
    """
    n = y.shape[0]
    p = w.shape[0]
    dtype = w.dtype
    if lipschitz + l2 == 0.0:  # every column is constant: w = 0 is optimal
        w[:] = 0.0
        return 0, 0.0
    step = 1.0 / (lipschitz + l2)
    z = w.copy()
    w_prev = w.copy()
    r = np.empty(n, dtype=dtype)
    g = np.empty(p, dtype=dtype)
    du = np.empty(n, dtype=dtype)
    yc = (y - y_mean).astype(dtype)
    t = 1.0
    gap = np.inf
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        # gradient step at the extrapolated point z, then the proximal step
        _centered_matvec(kind, design, X_mean, z, r)
        r[:] = yc - r
        _centered_rmatvec(kind, design, X_mean, d, r, du, g)
        w_prev[:] = w
        for j in range(p):
            zj = z[j] + step * (g[j] - l2 * z[j])
            w[j] = prox_enet(zj / step, 1.0 / step, l1, 0.0, positive)
        # restart when the momentum points against the step just taken
        ascent = 0.0
        for j in range(p):
            ascent += (z[j] - w[j]) * (w[j] - w_prev[j])
        if ascent > 0.0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        t = t_next
        for j in range(p):
            z[j] = w[j] + beta * (w[j] - w_prev[j])
        if n_iter % check_every == 0 or it == max_iter - 1:
            _centered_matvec(kind, design, X_mean, w, r)
            r[:] = yc - r
            _centered_rmatvec(kind, design, X_mean, d, r, du, g)
            quad = (d * r * r).sum()
            # correlations in float64, as everywhere else (one compiled
            # duality_gap per dtype of w)
            _, gap = duality_gap(g.astype(np.float64), w, quad, l1, l2, positive,
                                 curvature)  # fmt: skip
            if gap <= tol:
                break
    return n_iter, gap
