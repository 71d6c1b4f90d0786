"""Sparse (CSC) counterparts of the dense kernels in ``_data``.

The intercept is handled without centring the matrix: the residual is kept
as ``r = r_base + offset`` with a dense ``r_base`` and a scalar ``offset``.
A coordinate step ``r -= delta * (x_j - m_j)`` then touches only the
non-zeros of column ``j`` (``r_base``) plus one scalar (``offset +=
delta * m_j``), so a pass costs ``O(nnz)`` whatever the means.

Arrays: ``values``, ``indices``, ``indptr`` of a CSC matrix with sorted
indices; ``values`` float32 or float64, index arrays int32 (int64 only for
matrices too large for int32).
"""

from skreg._numba import REDUCTION_FLAGS, jit
from skreg.linear_model._penalties import prox_enet

__all__ = [
    "sparse_column_moments",
    "sparse_residual",
    "sparse_correlation",
    "sparse_cd_epoch",
    "sparse_sq_norm",
]


@jit(fastmath=REDUCTION_FLAGS)
def sparse_column_moments(values, indices, indptr, n, d, uniform, center, means,
                          curvature):  # fmt: skip
    """Weighted means and ``diag(Xc^T D Xc)`` of a CSC matrix.

    ``sum_i d_i (x_ij - m_j)^2`` splits into the stored entries and the
    implicit zeros, ``m_j^2 * (1 - sum_{stored} d_i)``: exact, no
    cancellation.
    """
    for j in range(indptr.shape[0] - 1):
        m = 0.0
        w_stored = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            di = d[0] if uniform else d[indices[k]]
            m += di * values[k]
            w_stored += di
        if not center:
            m = 0.0
        means[j] = m
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            di = d[0] if uniform else d[indices[k]]
            t = values[k] - m
            acc += di * t * t
        curvature[j] = acc + m * m * max(1.0 - w_stored, 0.0)


@jit(fastmath=REDUCTION_FLAGS)
def sparse_residual(values, indices, indptr, y, y_mean, X_mean, w, r_base, offset):
    """``r_base = y - y_mean - X w`` and ``offset[0] = X_mean @ w``."""
    for i in range(y.shape[0]):
        r_base[i] = y[i] - y_mean
    shift = 0.0
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            shift += X_mean[j] * wj
            for k in range(indptr[j], indptr[j + 1]):
                r_base[indices[k]] -= values[k] * wj
    offset[0] = shift


@jit(fastmath=REDUCTION_FLAGS)
def sparse_correlation(values, indices, indptr, r_base, offset, d, uniform,
                       features, out):  # fmt: skip
    """``out[k] = x_j^T D r`` for ``j = features[k]``, ``r = r_base + offset``."""
    for k in range(features.shape[0]):
        out[k] = _column_dot(values, indices, indptr, features[k], r_base, offset[0],
                             d, uniform)  # fmt: skip


@jit(fastmath=REDUCTION_FLAGS)
def _column_dot(values, indices, indptr, j, r_base, offset, d, uniform):
    """``x_j^T D (r_base + offset)`` over the stored entries of column ``j``."""
    acc = 0.0
    if uniform:
        for t in range(indptr[j], indptr[j + 1]):
            acc += values[t] * r_base[indices[t]]
        total = 0.0
        if offset != 0.0:
            for t in range(indptr[j], indptr[j + 1]):
                total += values[t]
        return d[0] * (acc + offset * total)
    for t in range(indptr[j], indptr[j + 1]):
        i = indices[t]
        acc += values[t] * d[i] * (r_base[i] + offset)
    return acc


@jit(fastmath=REDUCTION_FLAGS)
def sparse_cd_epoch(values, indices, indptr, d, uniform, X_mean, curvature, w,
                    r_base, offset, ws, order, l1, l2, positive):  # fmt: skip
    """One pass of coordinate updates on a CSC matrix (see ``_cd.cd_epoch``)."""
    dw_max = 0.0
    w_max = 0.0
    for k in range(order.shape[0]):
        j = ws[order[k]]
        a = curvature[j]
        if a == 0.0:
            continue
        acc = _column_dot(values, indices, indptr, j, r_base, offset[0], d, uniform)
        old = w[j]
        w[j] = prox_enet(acc + a * old, a, l1, l2, positive)
        delta = w[j] - old
        if delta != 0.0:
            for t in range(indptr[j], indptr[j + 1]):
                r_base[indices[t]] -= delta * values[t]
            offset[0] += delta * X_mean[j]
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max


@jit(fastmath=REDUCTION_FLAGS)
def sparse_sq_norm(r_base, offset, d, uniform):
    """``r^T D r`` for ``r = r_base + offset``."""
    acc = 0.0
    c = offset[0]
    if uniform:
        for i in range(r_base.shape[0]):
            acc += (r_base[i] + c) * (r_base[i] + c)
        return acc * d[0]
    for i in range(r_base.shape[0]):
        acc += d[i] * (r_base[i] + c) * (r_base[i] + c)
    return acc
