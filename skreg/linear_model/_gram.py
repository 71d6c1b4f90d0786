"""Gram-matrix kernels: coordinate descent that never reads ``X``.

With ``G = Xc^T D Xc`` and ``q = Xc^T D yc`` precomputed (``O(n p^2)``
once, by BLAS), the state of coordinate descent is the correlation vector
``g = q - G w`` instead of the residual: a coordinate step costs ``O(p)``
instead of ``O(n)``, and ``r^T D r = yc^T D yc - w^T q - w^T g``. Worth it
when ``n_samples`` is well above ``n_features``, and across a path, where
the same ``G`` serves every alpha.
"""

from skreg._numba import REDUCTION_FLAGS, jit
from skreg.linear_model._penalties import prox_enet

__all__ = ["gram_correlation", "gram_cd_epoch"]


@jit(fastmath=REDUCTION_FLAGS)
def gram_correlation(G, q, w, out):
    """``out = q - G w``, reading only the columns where ``w != 0``."""
    p = q.shape[0]
    for i in range(p):
        out[i] = q[i]
    for j in range(p):
        wj = w[j]
        if wj != 0.0:
            for i in range(p):
                out[i] -= G[j, i] * wj


@jit(fastmath=REDUCTION_FLAGS)
def gram_cd_epoch(G, curvature, w, g, ws, order, l1, l2, positive):
    """One pass of coordinate updates keeping ``g = q - G w`` (see ``cd_epoch``)."""
    p = g.shape[0]
    dw_max = 0.0
    w_max = 0.0
    for k in range(order.shape[0]):
        j = ws[order[k]]
        a = curvature[j]
        if a == 0.0:
            continue
        old = w[j]
        w[j] = prox_enet(g[j] + a * old, a, l1, l2, positive)
        delta = w[j] - old
        if delta != 0.0:
            for i in range(p):  # G is symmetric: row j (C order) is column j
                g[i] -= delta * G[j, i]
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max
