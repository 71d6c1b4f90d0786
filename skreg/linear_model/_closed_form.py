"""Closed-form ridge and least squares through the normal equations.

Solves ``(Xc^T D Xc + l2 I) w = Xc^T D yc`` (primal, when
``n_samples >= n_features``) or, through the push-through identity,
``w = Xc^T D^1/2 (D^1/2 Xc Xc^T D^1/2 + l2 I)^-1 D^1/2 yc`` (dual, when
``n_features > n_samples``). The centred Gram matrix is accumulated over
blocks of rows (or columns), each centred in a small buffer, so no centred
copy of ``X`` is made and no precision is lost to ``E[x^2] - E[x]^2``.

Without a penalty (``l2 == 0``) a singular system gets the minimum-norm
least-squares solution, as :class:`sklearn.linear_model.LinearRegression`
returns.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy import linalg

__all__ = [
    "ridge_closed_form",
    "ridge_closed_form_targets",
    "centered_gram",
    "ridge_spectrum",
    "ridge_spectra",
]

# Rows (or columns) centred at a time: at most this many, and at most a
# sixteenth of the matrix, so that the buffer stays small beside X while
# BLAS still runs at full speed on it.
_BLOCK = 2048


def _block_size(length):
    return max(64, min(_BLOCK, length // 16))


def centered_gram(X, d, uniform, X_mean, y, y_mean):
    """``(Xc^T D Xc, Xc^T D yc)`` in the dtype of ``X``.

    ``y`` may have several columns (shape (n_samples, n_targets), with
    ``y_mean`` of shape (n_targets,)): ``Xc^T D yc`` then has one column per
    target, and the Gram matrix is computed once.

    The fast way is one symmetric rank-k update on the raw data followed by
    the rank-one correction ``- m m^T``; it loses about
    ``log10(max_j (1 + m_j**2 / var_j))`` digits to cancellation. When that
    loss would exceed 1e-13 relative (float64) or 1e-6 (float32), the Gram
    matrix is recomputed from row blocks centred in a small buffer.
    """
    dtype = X.dtype
    m = X_mean.astype(dtype)
    y_mean = np.asarray(y_mean, dtype=dtype)
    if sp.issparse(X):
        dX = X.multiply(d.astype(dtype)[:, None]).tocsc()
        gram = np.asarray((X.T @ dX).toarray(), dtype=dtype)
        rhs = np.asarray(dX.T @ y, dtype=dtype)
    elif uniform:
        gram = (X.T @ X) * dtype.type(d[0])  # BLAS syrk: X.T @ X is symmetric
        rhs = X.T @ (y * dtype.type(d[0]))
    else:
        gram, rhs = _blocked_gram(X, np.zeros_like(m), np.sqrt(d).astype(dtype), y, 0)
    raw_diag = np.diag(gram).copy()
    gram -= np.outer(m, m)
    rhs -= np.multiply.outer(m, y_mean)
    var = np.diag(gram)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(var > 0, raw_diag / var, 1.0)
    limit = (1e-13 if dtype == np.float64 else 1e-6) / np.finfo(dtype).eps
    if np.max(loss, initial=1.0) > limit:
        gram, rhs = _blocked_gram(X, m, np.sqrt(d).astype(dtype), y, y_mean)
    return gram, rhs


def _blocked_gram(X, m, sqrt_d, y, y_mean):
    """``((X - m)^T D (X - m), (X - m)^T D (y - y_mean))`` over row blocks."""
    n, p = X.shape
    X = X.tocsr() if sp.issparse(X) else X
    gram = np.zeros((p, p), dtype=X.dtype)
    rhs = np.zeros((p,) + y.shape[1:], dtype=X.dtype)
    sqrt_d_y = sqrt_d.reshape((n,) + (1,) * (y.ndim - 1))  # broadcast over targets
    step = _block_size(n)
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        block = _dense(X[rows]) - m
        block *= sqrt_d[rows, None]
        gram += block.T @ block
        rhs += block.T @ (sqrt_d_y[rows] * (y[rows] - y_mean))
    return gram, rhs


def _centered_kernel(X, X_mean, sqrt_d):
    """``D^1/2 Xc Xc^T D^1/2`` accumulated over column blocks."""
    n, p = X.shape
    kernel = np.zeros((n, n), dtype=X.dtype)
    step = _block_size(p)
    for start in range(0, p, step):
        cols = slice(start, min(start + step, p))
        block = _dense(X[:, cols]) - X_mean[cols].astype(X.dtype)
        block *= sqrt_d[:, None]
        kernel += block @ block.T
    return kernel


def _dense(block):
    return block.toarray() if sp.issparse(block) else block


def _solve_psd(A, b, ridge):
    """Solve ``A x = b`` for PSD ``A``; minimum-norm least squares if singular."""
    if ridge > 0.0:
        A.flat[:: A.shape[0] + 1] += ridge
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", linalg.LinAlgWarning)
            return linalg.solve(A, b, assume_a="pos", overwrite_a=True)
    except (linalg.LinAlgError, linalg.LinAlgWarning):
        # Only reachable without a penalty (or with a negligible one): the
        # system is singular, and lstsq gives its minimum-norm solution.
        return linalg.lstsq(A, b, cond=None, lapack_driver="gelsd")[0]


def ridge_closed_form(problem, l2):
    """Minimizer of ``1/2 ||yc - Xc w||_D^2 + l2/2 ||w||^2``.

    Parameters
    ----------
    problem : skreg.linear_model._base.Problem
        With its Gram matrix when ``n_samples >= n_features``.
    l2 : float

    Returns
    -------
    w : ndarray of shape (n_features,), dtype of ``X``
    """
    return ridge_closed_form_targets([problem], l2)[:, 0]


def ridge_closed_form_targets(problems, l2):
    """:func:`ridge_closed_form` for problems that differ only in ``y``.

    ``problems`` come from one call of
    :func:`~skreg.linear_model._base.prepare_problems` (same ``X``, weights
    and Gram matrix): the system is factorized once and solved for all the
    targets together. Returns an array of shape (n_features, n_targets).
    """
    P = problems[0]
    dtype = P.X.dtype
    if P.gram is not None:
        rhs = np.stack([Q.Xty for Q in problems], axis=1)
        W = _solve_psd(P.gram.copy(), rhs, l2)
    else:
        sqrt_d = np.sqrt(P.d).astype(dtype)
        kernel = _centered_kernel(P.X, P.X_mean, sqrt_d)
        yc = np.stack([Q.y - dtype.type(Q.y_mean) for Q in problems], axis=1)
        dual = _solve_psd(kernel, sqrt_d[:, None] * yc, l2)
        V = (sqrt_d[:, None] * dual).astype(dtype)
        W = P.X.T @ V - np.multiply.outer(P.X_mean.astype(dtype), V.sum(axis=0))
    return np.asarray(W, dtype=dtype).reshape(P.X.shape[1], len(problems))


def ridge_spectrum(problem):
    """Eigen-decomposition serving every L2 strength at once.

    Returns ``(eigvals, basis, proj_y, dual)``. Primal (``n >= p``):
    ``Xc^T D Xc = V diag(eigvals) V^T`` with ``basis = V`` and
    ``proj_y = V^T Xc^T D yc``. Dual (``p > n``):
    ``D^1/2 Xc Xc^T D^1/2 = U diag(eigvals) U^T`` with ``basis = U`` and
    ``proj_y = U^T D^1/2 yc``. Then for any ``l2``::

        primal: w = V (proj_y / (eigvals + l2))
        dual:   w = Xc^T D^1/2 U (proj_y / (eigvals + l2))
    """
    return ridge_spectra([problem])[0]


def ridge_spectra(problems):
    """:func:`ridge_spectrum` of problems that differ only in ``y`` (from
    :func:`~skreg.linear_model._base.prepare_problems`): one decomposition,
    one ``proj_y`` per problem."""
    P = problems[0]
    dtype = P.X.dtype
    if P.gram is not None or P.X.shape[0] >= P.X.shape[1]:
        if P.gram is not None:
            gram = P.gram
            rhs = np.stack([Q.Xty for Q in problems], axis=1)
        else:
            Y = np.stack([Q.y for Q in problems], axis=1)
            y_means = np.array([Q.y_mean for Q in problems])
            gram, rhs = centered_gram(P.X, P.d, P.uniform, P.X_mean, Y, y_means)
        eigvals, basis = linalg.eigh(gram)
        dual = False
    else:
        sqrt_d = np.sqrt(P.d).astype(dtype)
        eigvals, basis = linalg.eigh(_centered_kernel(P.X, P.X_mean, sqrt_d))
        rhs = np.stack([sqrt_d * (Q.y - dtype.type(Q.y_mean)) for Q in problems],
                       axis=1)  # fmt: skip
        dual = True
    eigvals = np.maximum(eigvals, 0.0)
    proj = basis.T @ rhs
    return [(eigvals, basis, np.ascontiguousarray(proj[:, k]), dual)
            for k in range(len(problems))]  # fmt: skip


def ridge_path(problem, l2s, spectrum=None):
    """Ridge coefficients for every ``l2`` in ``l2s``: shape (n_features, n).

    ``spectrum`` is :func:`ridge_spectrum`'s result, when already computed.
    """
    P = problem
    eigvals, basis, proj_y, dual = spectrum or ridge_spectrum(P)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = proj_y[:, None] / (eigvals[:, None] + np.asarray(l2s)[None, :])
    # l2 = 0 on a singular direction: the minimum-norm solution ignores it
    scaled[~np.isfinite(scaled)] = 0.0
    coefs = basis @ scaled
    if dual:
        v = np.sqrt(P.d)[:, None] * coefs
        coefs = P.X.T @ v - P.X_mean[:, None] * v.sum(axis=0)
    return np.asarray(coefs, dtype=P.X.dtype)


def ridge_loo_errors(problem, l2s, spectrum=None, leverage=None):
    """Leave-one-out squared errors of ridge for every ``l2``, in closed form.

    For a linear smoother the leave-one-out residual is ``r_i / (1 - h_ii)``
    with ``h_ii`` the leverage of sample ``i`` (the intercept contributes
    ``d_i``). One eigendecomposition serves every ``l2``; the residuals and
    leverages of all ``l2`` are computed together, block of rows by block of
    rows, with matrix products. ``spectrum`` is :func:`ridge_spectrum`'s
    result, when already computed. ``leverage``, an array of shape
    (n_alphas, n_samples), receives the leverages ``h_ii`` when given.

    Returns
    -------
    errors : ndarray of shape (n_alphas, n_samples)
        ``n * d_i * e_i**2``: squared leave-one-out errors, times the
        relative weight of the sample (1 without weights), so that their
        mean is the weighted leave-one-out mean squared error.
    """
    P = problem
    n = P.X.shape[0]
    l2s = np.asarray(l2s, dtype=np.float64)
    eigvals, basis, proj_y, dual = spectrum or ridge_spectrum(P)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = 1.0 / (eigvals[:, None] + l2s[None, :])  # (k, n_alphas)
    shrink[~np.isfinite(shrink)] = 0.0
    d = P.d
    errors = np.empty((len(l2s), n))
    step = _block_size(n) if not dual else n
    X = P.X.tocsr() if sp.issparse(P.X) else P.X  # row blocks
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        if dual:
            # D^1/2 Xc Xc^T D^1/2 = U L U^T: leverage sum_k U_ik^2 L_k/(L_k+l2),
            # scaled residual sum_k U_ik proj_k l2/(L_k+l2)
            U = basis[rows]
            lev = (U * U) @ (eigvals[:, None] * shrink)
            scaled_res = U @ (proj_y[:, None] * l2s[None, :] * shrink)
            sq = scaled_res**2  # = d_i r_i^2
        else:
            # Xc V: the centred rows in the eigenbasis
            proj = np.asarray(X[rows] @ basis, dtype=np.float64) - P.X_mean @ basis
            lev = d[rows, None] * ((proj * proj) @ shrink)
            fitted = proj @ (proj_y[:, None] * shrink)
            res = (np.asarray(P.y[rows], dtype=np.float64) - P.y_mean)[:, None] - fitted
            sq = d[rows, None] * res**2
        if P.fit_intercept:
            lev = lev + d[rows, None]
        if leverage is not None:
            leverage[:, rows] = lev.T
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = sq / (1.0 - lev) ** 2
        errors[:, rows] = (n * loo).T
    return errors


def ridge_loo_predictions(problem, l2s, spectrum=None, leverage=None):
    """Leave-one-out predictions of ridge for every ``l2``: shape
    (n_samples, n_alphas).

    ``y_i - r_i / (1 - h_ii)``, with ``r_i`` the residual of the fit on all
    the data (from :func:`ridge_path`'s coefficients) and ``h_ii`` the
    leverages of :func:`ridge_loo_errors` (``leverage``, when that has
    already filled it). A sample of zero weight has no leverage and gets the
    prediction of the full fit, which its removal does not change.
    """
    P = problem
    spectrum = spectrum or ridge_spectrum(P)
    lev = leverage
    if lev is None:
        lev = np.empty((len(l2s), P.X.shape[0]))
        ridge_loo_errors(P, l2s, spectrum, leverage=lev)
    coefs = np.asarray(ridge_path(P, l2s, spectrum), dtype=np.float64)
    intercepts = P.y_mean - P.X_mean @ coefs
    fitted = np.asarray(P.X @ coefs, dtype=np.float64) + intercepts[None, :]
    y = np.asarray(P.y, dtype=np.float64)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return y - (y - fitted) / (1.0 - lev.T)
