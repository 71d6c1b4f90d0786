"""The bridge between the estimators and the solvers.

:func:`prepare_problem` turns validated arrays into what every solver takes
(normalized weights, weighted means, column curvatures, the tolerance scale);
:func:`solve` picks the solver and runs it. Estimators, the path and the
cross-validation all go through these two functions.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skreg._numba import readonly_sparse_arrays, readonly_view
from skreg.linear_model._cd import (
    DENSE,
    GRAM,
    SPARSE,
    Design,
    enet_coordinate_descent,
)
from skreg.linear_model._closed_form import (
    _block_size,
    centered_gram,
    ridge_closed_form_targets,
)
from skreg.linear_model._data import column_moments
from skreg.linear_model._penalties import duality_gap
from skreg.linear_model._proximal import fista, lipschitz_constant
from skreg.linear_model._sparse import sparse_column_moments

__all__ = [
    "Problem",
    "prepare_problem",
    "prepare_problems",
    "solve",
    "solve_targets",
    "target_attributes",
    "SOLVERS",
    "LinearPredictorMixin",
    "check_weights",
]

SOLVERS = ("auto", "cd", "gd", "cholesky")


@dataclass(frozen=True)
class Problem:
    """A least-squares problem ready for the kernels (see ``_data``)."""

    X: np.ndarray  # read-only view, float32 or float64; or a CSC matrix
    y: np.ndarray  # read-only, dtype of X
    d: np.ndarray  # normalized sample weights, float64
    uniform: bool
    y_mean: float
    X_mean: np.ndarray  # float64
    curvature: np.ndarray  # diag(Xc^T D Xc), float64
    y_scale: float  # sum_i d_i yc_i**2, the unit of the tolerance
    fit_intercept: bool
    gram: np.ndarray | None = None  # Xc^T D Xc, when precomputed
    Xty: np.ndarray | None = None  # Xc^T D yc, with gram

    @property
    def n_features(self):
        return self.X.shape[1]

    def intercept(self, w):
        """The optimal intercept for ``w``: ``y_mean - X_mean @ w`` (0 without
        an intercept, where both means are 0)."""
        return float(self.y_mean - self.X_mean @ w)

    @property
    def design(self):
        """The :class:`~skreg.linear_model._cd.Design` of the kernels."""
        dtype = self.X.dtype
        if self.gram is not None:
            return Design(GRAM, dtype, gram=(readonly_view(self.gram),
                                             readonly_view(self.Xty)))  # fmt: skip
        if sp.issparse(self.X):
            X = self.X
            return Design(SPARSE, dtype, sparse=(X.data, X.indices, X.indptr))
        return Design(DENSE, dtype, X=self.X)


def prepare_problem(X, y, sample_weight, fit_intercept, gram=False):
    """Weighted moments of a validated ``(X, y, sample_weight)``.

    ``X`` must already be float32 or float64, F-contiguous unless only the
    closed form will use it, or a CSC matrix; ``y`` is cast to its dtype.
    With ``gram`` the centred Gram matrix is computed too (and gives the
    curvatures). Nothing the caller passed is written to.
    """
    y = np.asarray(y)
    return prepare_problems(X, y.reshape(y.shape[0], 1), sample_weight,
                            fit_intercept, gram)[0]  # fmt: skip


def prepare_problems(X, Y, sample_weight, fit_intercept, gram=False):
    """:func:`prepare_problem` for each column of ``Y`` (n_samples, n_targets).

    The problems share ``X``, the weights, the moments of ``X`` and the Gram
    matrix, which are computed once; each has its own ``y`` (contiguous),
    ``y_mean``, ``y_scale`` and ``Xty``.
    """
    n = X.shape[0]
    if sample_weight is None:
        d = np.full(n, 1.0 / n)
        uniform = True
    else:
        sw = np.asarray(sample_weight, dtype=np.float64)
        d = sw / sw.sum()
        uniform = bool(np.all(sw == sw[0]))
    X = _readonly_csc(X) if sp.issparse(X) else readonly_view(X)
    Y = np.asarray(Y, dtype=X.dtype)
    # each target's y and mean exactly as a fit on that column alone has them
    ys = [readonly_view(np.ascontiguousarray(Y[:, k])) for k in range(Y.shape[1])]
    y_means = [float(d @ y) if fit_intercept else 0.0 for y in ys]
    X_mean = np.empty(X.shape[1])
    curvature = np.empty(X.shape[1])
    G = Xty = None
    if gram:
        X_mean[:] = d @ X if fit_intercept else 0.0
        G, Xty = centered_gram(X, d, uniform, X_mean, Y, np.array(y_means))
        curvature[:] = np.diag(G)
    elif sp.issparse(X):
        sparse_column_moments(X.data, X.indices, X.indptr, X.shape[0], d, uniform,
                              fit_intercept, X_mean, curvature)  # fmt: skip
    elif X.flags.f_contiguous:
        column_moments(X, d, uniform, fit_intercept, X_mean, curvature)
    else:  # the dual closed form takes X in any layout; the kernel wants columns
        _column_moments_blocked(X, d, fit_intercept, X_mean, curvature)
    problems = []
    for k, (y, y_mean) in enumerate(zip(ys, y_means, strict=True)):
        yc = y - y_mean
        y_scale = float(d @ (yc * yc))
        problems.append(Problem(X, y, d, uniform, y_mean, X_mean, curvature,
                                y_scale, fit_intercept, G,
                                None if Xty is None else Xty[:, k].copy()))  # fmt: skip
    return problems


def _readonly_csc(X):
    """A CSC matrix with sorted indices whose arrays are read-only views
    (see :func:`skreg._numba.readonly_sparse_arrays`)."""
    X = X.tocsc()  # no copy when already CSC
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    out = sp.csc_matrix(X.shape, dtype=X.dtype)
    out.data, out.indices, out.indptr = readonly_sparse_arrays(X)
    return out


def problem_gap(problem, w, l1, l2, positive):
    """Duality gap of ``problem`` at ``w`` (one pass over ``X``)."""
    P = problem
    w64 = w.astype(np.float64)
    if P.gram is not None and l1 == 0.0:
        # g = Xc^T D yc - G w costs O(p^2); r^T D r enters only the primal
        # value, not the gaps without L1, so its cancellation-prone Gram
        # form is harmless here.
        g = P.Xty - P.gram @ w
        quad = P.y_scale - float(w64 @ P.Xty) - float(w64 @ g)
    else:  # numpy rather than the kernels: X may be in any memory layout here
        r = (P.y - P.y_mean) - (P.X @ w - P.X_mean @ w)
        dr = P.d * r
        g = P.X.T @ dr - P.X_mean * dr.sum()
        quad = float(dr @ r)
    g = np.asarray(g, dtype=np.float64)
    return float(duality_gap(g, w64, quad, l1, l2, positive, P.curvature)[1])


def _column_moments_blocked(X, d, center, means, curvature):
    """:func:`column_moments` in numpy, over row blocks, for any layout."""
    means[:] = d @ X if center else 0.0
    curvature[:] = 0.0
    block = _block_size(X.shape[0])
    for start in range(0, X.shape[0], block):
        rows = slice(start, start + block)
        centred = X[rows] - means.astype(X.dtype)
        curvature += d[rows] @ (centred * centred)


def resolve_solver(solver, penalty, positive, sparse=False):
    """The solver "auto" stands for, or an error for an impossible pair."""
    if solver == "cholesky":
        if sparse:
            raise TypeError(
                "solver='cholesky' does not accept sparse X; use solver='cd' "
                "or 'gd', which solve sparse problems without densifying."
            )
        if penalty not in (None, "l2"):
            raise ValueError(
                f"solver='cholesky' solves only penalty=None or penalty='l2', "
                f"got penalty={penalty!r}; use solver='cd' or 'gd'."
            )
        if positive:
            raise ValueError(
                "solver='cholesky' cannot enforce positive=True; use "
                "solver='cd' or 'gd'."
            )
        return solver
    if solver == "auto":
        closed_form = penalty in (None, "l2") and not positive and not sparse
        return "cholesky" if closed_form else "cd"
    return solver


def solve(problem, l1, l2, solver, positive, w0, max_iter, tol, rng,
          random_order=False, **cd_options):  # fmt: skip
    """Run ``solver`` ("cd", "gd" or "cholesky") on ``problem``.

    ``tol`` is relative: the solver stops when the duality gap is at most
    ``tol * problem.y_scale`` ("cd" also waits, as scikit-learn does, for an
    epoch whose largest coefficient change is at most ``tol * max|w|``).

    Returns
    -------
    w : ndarray of shape (n_features,)
    n_iter : int
        Epochs ("cd") or iterations ("gd"); 1 for "cholesky".
    gap : float
        Duality gap at ``w``.
    tol_abs : float
        The absolute tolerance used.
    """
    return solve_targets([problem], l1, l2, solver, positive, [w0], max_iter, tol,
                         rng, random_order, **cd_options)[0]  # fmt: skip


def solve_targets(problems, l1, l2, solver, positive, w0s, max_iter, tol, rng,
                  random_order=False, **cd_options):  # fmt: skip
    """:func:`solve` for each of ``problems`` (from :func:`prepare_problems`),
    started from ``w0s[k]``; a list of :func:`solve`'s results.

    The penalties act on each target's coefficients separately, so the
    targets are independent problems; "cholesky" factorizes their common
    matrix once for all of them.
    """
    if solver == "cholesky":
        W = ridge_closed_form_targets(problems, l2)
        results = []
        for k, P in enumerate(problems):
            w = np.ascontiguousarray(W[:, k])
            results.append((w, 1, problem_gap(P, w, l1, l2, positive), tol * P.y_scale))
        return results
    return [_solve_iterative(P, l1, l2, solver, positive, w0, max_iter, tol, rng,
                             random_order, **cd_options)
            for P, w0 in zip(problems, w0s, strict=True)]  # fmt: skip


def target_attributes(problems, coefs, n_iters, gaps):
    """``(coef_, intercept_, n_iter_, dual_gap_)`` of the fits ``coefs`` of
    ``problems`` (one per target): those of a single target when there is
    one (``y`` 1-d or a column vector, as scikit-learn's Lasso), else one
    row / entry per target."""
    intercepts = [P.intercept(w) for P, w in zip(problems, coefs, strict=True)]
    if len(problems) == 1:
        return coefs[0], intercepts[0], n_iters[0], float(gaps[0])
    return np.stack(coefs), np.array(intercepts), list(n_iters), np.array(gaps)


def _solve_iterative(problem, l1, l2, solver, positive, w0, max_iter, tol, rng,
                     random_order, **cd_options):  # fmt: skip
    """:func:`solve` with "cd" or "gd"."""
    P = problem
    tol_abs = tol * P.y_scale
    w = np.array(w0, dtype=P.X.dtype, order="C", copy=True)
    if solver == "cd":
        n_iter, gap, _ = enet_coordinate_descent(
            P.design, P.y, P.d, P.uniform, P.y_mean, P.y_scale, P.X_mean,
            P.curvature, w, l1, l2, positive, max_iter, tol_abs, tol, rng,
            random_order, **cd_options,
        )  # fmt: skip
    elif solver == "gd":
        design = P.design
        lipschitz = lipschitz_constant(design.kind, design.arrays, P.X.shape[0],
                                       P.X_mean, P.d)  # fmt: skip
        n_iter, gap = fista(
            design.kind, design.arrays, P.y, P.d, P.y_mean, P.X_mean, P.curvature,
            w, l1, l2, positive, lipschitz, max_iter, tol_abs,
        )  # fmt: skip
    else:  # pragma: no cover - guarded by parameter validation
        raise ValueError(f"Unknown solver {solver!r}.")
    return w, int(n_iter), float(gap), tol_abs


def check_weights(sample_weight, X):
    """Validated float64 sample weights (None stays None); their sum must be > 0."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                         ensure_non_negative=True)  # fmt: skip
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight must have a positive sum.")
    return sample_weight


class LinearPredictorMixin:
    """``predict`` and input tags shared by the fitted linear models."""

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            ``X @ coef_.T + intercept_``, in the dtype of ``X`` (float32 or
            float64); one column per target when the model was fitted on
            several.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32], reset=False)  # fmt: skip
        coef = self.coef_.astype(X.dtype, copy=False)
        return np.asarray(X @ coef.T) + np.asarray(self.intercept_, dtype=X.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
