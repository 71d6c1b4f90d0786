"""Dense data kernels shared by the linear solvers: implicit centring.

With an intercept, the least-squares intercept for fixed ``w`` is
``b(w) = y_mean - X_mean @ w`` (weighted means). Substituting it gives a
problem in ``w`` alone on the centred data ``Xc = X - X_mean`` and
``yc = y - y_mean``. We never form ``Xc``: a column of it is ``x_j - m_j``,
so every product with ``Xc`` costs the same as one with ``X`` plus a scalar
per column. Without an intercept ``X_mean`` and ``y_mean`` are zero.

Conventions for the arrays these kernels take:

* ``X`` is F-contiguous (columns are contiguous), float32 or float64;
* ``d`` are the normalized sample weights (``sum(d) == 1``). When
  ``uniform`` is true every weight equals ``d[0]`` and the kernels skip the
  per-sample multiplication;
* accumulations are carried out in float64 whatever the data dtype.
"""


from skreg._numba import REDUCTION_FLAGS, jit
from skreg.linear_model._penalties import prox_enet

__all__ = [
    "column_moments",
    "residual",
    "correlation",
    "weighted_sq_norm",
    "dense_cd_epoch",
]


@jit(fastmath=REDUCTION_FLAGS)
def column_moments(X, d, uniform, center, means, curvature):
    """Weighted column means (if ``center``) and ``diag(Xc^T D Xc)``.

    Two passes per column (mean, then centred second moment), which avoids
    the cancellation of ``E[x^2] - E[x]^2`` on columns with a large mean.
    """
    n, p = X.shape
    for j in range(p):
        m = 0.0
        if center:
            if uniform:
                for i in range(n):
                    m += X[i, j]
                m *= d[0]
            else:
                for i in range(n):
                    m += d[i] * X[i, j]
        means[j] = m
        acc = 0.0
        if uniform:
            for i in range(n):
                t = X[i, j] - m
                acc += t * t
            acc *= d[0]
        else:
            for i in range(n):
                t = X[i, j] - m
                acc += d[i] * t * t
        curvature[j] = acc


@jit(fastmath=REDUCTION_FLAGS)
def residual(X, y, y_mean, X_mean, w, out):
    """``out = yc - Xc @ w``, reading only the columns where ``w != 0``."""
    n = X.shape[0]
    offset = -y_mean
    for j in range(w.shape[0]):
        offset += X_mean[j] * w[j]
    for i in range(n):
        out[i] = y[i] + offset
    for j in range(w.shape[0]):
        wj = w[j]
        if wj != 0.0:
            for i in range(n):
                out[i] -= X[i, j] * wj


@jit(fastmath=REDUCTION_FLAGS)
def correlation(X, r, d, uniform, features, out):
    """``out[k] = Xc[:, features[k]]^T D r`` for a residual with ``sum(d r) = 0``.

    The centring term ``X_mean[j] * sum(d r)`` vanishes for such a residual,
    so the raw columns suffice.
    """
    for k in range(features.shape[0]):
        out[k] = _column_dot(X, features[k], r, d, uniform)


@jit(fastmath=REDUCTION_FLAGS)
def _column_dot(X, j, r, d, uniform):
    """``x_j^T D r``."""
    acc = 0.0
    if uniform:
        for i in range(X.shape[0]):
            acc += X[i, j] * r[i]
        return acc * d[0]
    for i in range(X.shape[0]):
        acc += X[i, j] * (d[i] * r[i])
    return acc


@jit(fastmath=REDUCTION_FLAGS)
def weighted_sq_norm(r, d, uniform):
    """``r^T D r``."""
    acc = 0.0
    if uniform:
        for i in range(r.shape[0]):
            acc += r[i] * r[i]
        return acc * d[0]
    for i in range(r.shape[0]):
        acc += d[i] * r[i] * r[i]
    return acc


@jit(fastmath=REDUCTION_FLAGS)
def dense_cd_epoch(X, d, uniform, X_mean, curvature, w, r, ws, order, l1, l2,
                   positive):  # fmt: skip
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
        acc = _column_dot(X, j, r, d, uniform)
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
