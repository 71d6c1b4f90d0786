"""regularization_path: solutions for a grid of penalty strengths."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_X_y

from skreg.linear_model._base import check_weights, prepare_problem
from skreg.linear_model._cd import cd_path, kernel_blas_threads
from skreg.linear_model._cd import secant_guess as _cd_secant
from skreg.linear_model._closed_form import ridge_path, ridge_spectrum
from skreg.linear_model._data import fortran_layout
from skreg.linear_model._penalties import l1_l2_strengths

__all__ = ["regularization_path", "alpha_grid", "warn_unconverged"]


def alpha_max(problem, penalty, l1_ratio, spectrum=None):
    """Smallest ``alpha`` at which every coefficient is zero (L1 and elastic net).

    ``max_j |Xc_j^T D yc| / l1_ratio``. For "l2", which never zeroes the
    coefficients, the top of the grid is ten times the largest eigenvalue of
    ``Xc^T D Xc``, where the solution has shrunk to a tenth or less; it is
    read from ``spectrum`` (:func:`~skreg.linear_model._closed_form.ridge_spectrum`'s
    result) when the caller has it.
    """
    P = problem
    if penalty == "l2":
        eigvals = (spectrum or ridge_spectrum(P))[0]
        return 10.0 * float(eigvals.max(initial=0.0))
    if P.gram is not None:  # the very numbers the Gram solver compares with
        corr = P.Xty
    else:
        yc = np.asarray(P.y, dtype=np.float64) - P.y_mean
        dy = P.d * yc
        corr = P.X.T @ dy - P.X_mean * dy.sum()
    ratio = 1.0 if penalty == "l1" else l1_ratio
    return float(np.max(np.abs(corr), initial=0.0)) / ratio


def alpha_grid(problem, penalty, l1_ratio, n_alphas, eps, spectrum=None):
    """``n_alphas`` log-spaced values from ``alpha_max`` to ``eps * alpha_max``
    (``spectrum``: see :func:`alpha_max`)."""
    if penalty == "elasticnet" and l1_ratio == 0.0:
        raise ValueError(
            "An alpha grid cannot be built for l1_ratio=0: with no L1 part no "
            "alpha sets every coefficient to zero, so there is no alpha_max. "
            "Pass the alphas explicitly, or use penalty='l2' (its grid comes "
            "from the spectrum of X)."
        )
    top = alpha_max(problem, penalty, l1_ratio, spectrum)
    if top <= np.finfo(float).tiny:  # y is constant: any alpha gives w = 0
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(top, top * eps, num=n_alphas)


def path_on_problem(problem, penalty, l1_ratio, alphas, positive=False,
                    max_iter=1000, tol=1e-4, rng=None, spectrum=None):  # fmt: skip
    """Solve ``problem`` for each alpha in ``alphas`` (descending), warm-started.

    Returns ``(coefs, intercepts, dual_gaps, n_iters)`` with ``coefs`` of
    shape (n_features, n_alphas), in any memory layout. The whole path is
    one compiled call (:func:`~skreg.linear_model._cd.cd_path`). The backend
    is the problem's: a path that should run on the Gram matrix
    (``precompute``, see :func:`use_gram`) gets a problem that carries it
    (``prepare_problem(..., gram=True)``); the path never switches. A "l2"
    path without ``positive`` is the closed form for every alpha, from
    ``spectrum`` when given (see
    :func:`~skreg.linear_model._closed_form.ridge_spectrum`).
    """
    P = problem
    p = P.n_features
    alphas = np.asarray(alphas, dtype=np.float64)
    gaps = np.zeros(len(alphas))
    n_iters = np.zeros(len(alphas), dtype=np.int64)
    if penalty == "l2" and not positive:
        coefs = ridge_path(P, alphas, spectrum)
        n_iters[:] = 1
    else:
        rng = np.random.default_rng(0) if rng is None else rng
        strengths = np.array([l1_l2_strengths(penalty, a, l1_ratio) for a in alphas],
                             dtype=np.float64).reshape(-1, 2)  # fmt: skip
        l1s, l2s = np.ascontiguousarray(strengths.T)
        rows = np.zeros((len(alphas), p), dtype=P.X.dtype)  # coefs.T, C order
        design = P.design
        with kernel_blas_threads(design.kind):
            cd_path(design.kind, design.arrays, P.y, P.d, P.uniform, P.y_mean,
                    P.y_scale, P.X_mean, P.curvature, l1s, l2s, alphas, positive,
                    max_iter, tol * P.y_scale, tol, rng,
                    False,  # random_order: cyclic
                    True, True, True, True,  # working sets, screening, Anderson, polish
                    rows, gaps, n_iters)  # fmt: skip
        coefs = rows.T  # a view: the caller copies if it needs C order
    intercepts = P.y_mean - P.X_mean @ coefs.astype(np.float64, copy=False)
    return coefs, intercepts, gaps, n_iters


def secant_guess(w0, w1, alphas):
    """:func:`~skreg.linear_model._cd.secant_guess` at ``alphas = (a0, a1, a2)``;
    None when ``a0 == a1`` (no direction)."""
    a0, a1, a2 = (float(a) for a in alphas)
    if a1 == a0:
        return None
    w1 = np.ascontiguousarray(w1)
    return _cd_secant(np.ascontiguousarray(w0, dtype=w1.dtype), w1, a0, a1, a2)


def use_gram(X, precompute):
    """Whether a path on ``X`` should precompute the Gram matrix."""
    if sp.issparse(X) or precompute is False:
        return False
    n, p = X.shape
    return bool(precompute is True or n > p)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "penalty": [StrOptions({"l1", "l2", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "sample_weight": ["array-like", None],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "precompute": ["boolean", StrOptions({"auto"})],
    },
    prefer_skip_nested_validation=True,
)
def regularization_path(
    X,
    y,
    *,
    penalty="l1",
    l1_ratio=0.5,
    alphas=100,
    eps=1e-3,
    sample_weight=None,
    fit_intercept=True,
    positive=False,
    max_iter=1000,
    tol=1e-4,
    precompute="auto",
):
    """Solutions of :class:`RegularizedRegressor` along a grid of alphas.

    Each alpha starts from the previous, larger ones (warm start): from the
    secant through the last two solutions (exact while the support and the
    signs do not change) when it has the lower objective, and the previous
    solution's dual point counts towards the stopping test. Gap-safe
    screening runs at each alpha from that point, so features known to be
    zero are dropped before any pass. With more
    samples than features the Gram matrix is computed once and serves the
    whole path. For ``penalty="l2"`` one eigendecomposition of the
    (centred, weighted) Gram or kernel matrix gives every alpha in closed
    form.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Target values.
    penalty : {"l1", "l2", "elasticnet"}, default="l1"
        The penalty, with the objective of :class:`RegularizedRegressor`.
    l1_ratio : float, default=0.5
        L1 share of the "elasticnet" penalty.
    alphas : int or array-like, default=100
        The penalty strengths, or how many to put on a log-spaced grid from
        ``alpha_max`` (the smallest alpha giving all-zero coefficients; for
        "l2", ten times the largest eigenvalue of the centred Gram matrix
        divided by ``n_samples``) down to ``eps * alpha_max``. Solved from
        the largest to the smallest.
    eps : float, default=1e-3
        Length of the grid, ``alpha_min / alpha_max``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights ``s`` of the objective.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    max_iter : int, default=1000
        Maximum epochs of coordinate descent per alpha.
    tol : float, default=1e-4
        Relative duality-gap tolerance per alpha, as in
        :class:`RegularizedRegressor`.
    precompute : "auto" or bool, default="auto"
        Use the Gram matrix: "auto" when ``n_samples > n_features`` and ``X``
        is dense.

    Returns
    -------
    path : Bunch
        With attributes ``alphas`` (n_alphas,), in decreasing order;
        ``coefs`` (n_features, n_alphas); ``intercepts`` (n_alphas,);
        ``dual_gaps`` (n_alphas,), on the objective's scale; ``n_iters``
        (n_alphas,), epochs per alpha (1 for the closed form).

    See Also
    --------
    RegularizedRegressorCV : Chooses alpha along this path by cross-validation.
    sklearn.linear_model.enet_path : The same path, for "l1" and "elasticnet".

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import regularization_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> path = regularization_path(X, y, penalty="l1", alphas=5)
    >>> path.coefs.shape
    (10, 5)
    >>> [int((path.coefs[:, k] != 0).sum()) for k in range(5)]
    [0, 4, 7, 9, 10]
    """
    X, y = check_X_y(X, y, accept_sparse="csc", dtype=[np.float64, np.float32],
                     y_numeric=True)  # fmt: skip
    X = fortran_layout(X)  # the solvers read columns
    sample_weight = check_weights(sample_weight, X)
    problem = prepare_problem(X, y, sample_weight, fit_intercept,
                              gram=use_gram(X, precompute))  # fmt: skip
    spectrum = None  # ridge: one decomposition for the grid and the path
    if penalty == "l2" and not positive:
        spectrum = ridge_spectrum(problem)
    if isinstance(alphas, Integral):
        alphas = alpha_grid(problem, penalty, l1_ratio, alphas, eps, spectrum)
    else:
        alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if alphas.size == 0 or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
            raise ValueError(
                "alphas must be a non-empty array of finite non-negative "
                f"values, got {alphas!r}."
            )
    coefs, intercepts, gaps, n_iters = path_on_problem(
        problem, penalty, l1_ratio, alphas, positive, max_iter, tol,
        np.random.default_rng(check_random_state(0).randint(2**31)), spectrum,
    )
    warn_unconverged("regularization_path", gaps, tol * problem.y_scale, max_iter)
    return Bunch(alphas=alphas, coefs=np.ascontiguousarray(coefs),
                 intercepts=intercepts, dual_gaps=gaps, n_iters=n_iters)  # fmt: skip


def warn_unconverged(who, gaps, tol_abs, max_iter, stacklevel=4):
    """One ConvergenceWarning when some solves of a path stopped at
    ``max_iter`` with a duality gap above ``tol_abs`` (broadcast against
    ``gaps``). The default ``stacklevel`` points at the caller of a public
    function wrapped by scikit-learn's parameter validation."""
    gaps = np.asarray(gaps)
    bad = gaps > tol_abs
    if bad.any():
        with np.errstate(divide="ignore"):
            ratio = np.max(gaps / tol_abs)
        warnings.warn(
            f"{who}: {int(bad.sum())} of {gaps.size} solves did not converge "
            f"within max_iter={max_iter} epochs (the largest duality gap is "
            f"{ratio:.3g} times the tolerance). Increase max_iter, increase "
            "tol, or scale the features (for example with StandardScaler).",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
