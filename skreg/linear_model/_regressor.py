"""RegularizedRegressor: the estimator layer (validation, defaults, attributes)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from skreg.linear_model._base import (
    LinearPredictorMixin,
    check_weights,
    prepare_problems,
    resolve_solver,
    solve_targets,
    target_attributes,
)
from skreg.linear_model._data import fortran_layout
from skreg.linear_model._penalties import l1_l2_strengths

__all__ = ["RegularizedRegressor"]


class RegularizedRegressor(LinearPredictorMixin, RegressorMixin, BaseEstimator):
    """Linear least squares with an L1, L2 or elastic-net penalty, or none.

    One objective for every penalty, so that ``alpha`` means the same thing
    whichever ``penalty`` a grid search picks::

        1 / (2 * sum(s)) * sum_i s_i * (y_i - x_i @ w - b) ** 2
            + alpha * (r * ||w||_1 + (1 - r) / 2 * ||w||_2 ** 2)

    where ``s`` is ``sample_weight`` (ones if None) and ``r = 1`` for
    ``"l1"``, ``0`` for ``"l2"`` and ``l1_ratio`` for ``"elasticnet"``;
    ``penalty=None`` is ordinary least squares. The intercept ``b`` is not
    penalized. Consequently ``penalty="l1"`` is :class:`~sklearn.linear_model.Lasso`
    with the same ``alpha``, ``"elasticnet"`` is
    :class:`~sklearn.linear_model.ElasticNet` with the same ``alpha`` and
    ``l1_ratio``, and ``"l2"`` is :class:`~sklearn.linear_model.Ridge` with
    ``alpha * sum(s)`` (``alpha * n_samples`` without weights).

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"} or None, default="l2"
        The penalty on the coefficients.
    alpha : float, default=1.0
        Penalty strength, ``>= 0``. With ``alpha=0`` the problem is ordinary
        least squares, best solved with ``penalty=None``.
    l1_ratio : float, default=0.5
        The L1 share ``r`` of an ``"elasticnet"`` penalty, in ``[0, 1]``.
        Ignored by the other penalties.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept. It is handled inside the solvers by
        implicit centring: no centred copy of ``X`` is made.
    solver : {"auto", "cd", "gd", "cholesky"}, default="auto"
        - "cd": coordinate descent (cyclic or random, see ``selection``) on
          working sets of features, with gap-safe screening, Anderson
          extrapolation, line searches along the last epoch's move and, on
          dense ``X``, a Newton step once the support
          has settled; any penalty; dense or sparse ``X``.
        - "gd": accelerated proximal gradient (FISTA with restarts); any
          penalty; dense or sparse ``X``.
        - "cholesky": closed form through the normal equations (primal when
          ``n_samples >= n_features``, dual otherwise); only
          ``penalty=None`` or ``"l2"``, ``positive=False`` and dense ``X``.
        - "auto": "cholesky" where it applies, "cd" otherwise.
    max_iter : int, default=1000
        Maximum number of epochs ("cd", passes over the working set) or
        iterations ("gd").
    tol : float, default=1e-4
        The iterative solvers stop when the duality gap is at most
        ``tol * sum_i s_i (y_i - y_mean) ** 2 / sum(s)`` (the weighted variance
        of ``y``; its weighted mean square when ``fit_intercept=False``).
        This is scikit-learn's scaling for Lasso and ElasticNet; as there,
        "cd" also waits for an epoch that changes no coefficient by more than
        ``tol`` times the largest coefficient. Without a
        penalty there is no dual certificate, and the gap is replaced by the
        decrease one more pass of exact coordinate steps would achieve.
    warm_start : bool, default=False
        Start the iterative solvers from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative ("cd" and "gd").
    selection : {"cyclic", "random"}, default="cyclic"
        Order of the coordinate updates in "cd": in turn, or drawn uniformly
        at random (with replacement) from a generator seeded by
        ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seeds the coordinate draws when ``selection="random"``.
    precompute : "auto" or bool, default="auto"
        Run "cd" on the Gram matrix ``X^T X`` (dense ``X`` only, as in
        scikit-learn): True from the start whatever the shape of ``X``,
        "auto" (with more samples than features) as soon as the passes over
        ``X`` have cost more than computing it would, False never.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients ``w``; float32 when ``X`` is float32, else float64. One
        row per target when ``y`` has several columns.
    intercept_ : float or ndarray of shape (n_targets,)
        The intercept ``b`` (0.0 when ``fit_intercept=False``).
    n_iter_ : int or list of int
        Epochs ("cd") or iterations ("gd") run, per target when ``y`` has
        several columns; 1 for "cholesky".
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, on the objective's scale (compare it with
        ``tol`` times the variance of ``y``). Computed for "cholesky" too, as
        a check of the direct solve.
    solver_ : str
        The solver used ("auto" resolved).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` had string column
        names.

    See Also
    --------
    sklearn.linear_model.Lasso : L1 penalty, same ``alpha``.
    sklearn.linear_model.ElasticNet : elastic net, same ``alpha`` and ``l1_ratio``.
    sklearn.linear_model.Ridge : L2 penalty with ``alpha * n_samples``.

    Notes
    -----
    With several targets (``y`` of shape (n_samples, n_targets)) each column
    is fitted on its own, as scikit-learn's Lasso, ElasticNet and Ridge do:
    the penalty does not couple the targets (that would be a multi-task
    penalty), and the tolerance applies to each target's gap and variance.
    The moments of ``X`` (and, for "cholesky", the factorization) are
    computed once for all of them. A ``y`` of shape (n_samples, 1) gives the
    attributes of a single target, as there.

    ``X`` is converted at most once: to float64 unless it is float32, and to
    Fortran order for the iterative solvers. A C-ordered float array is used
    as is by "cholesky".

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import RegularizedRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = RegularizedRegressor(penalty="l1", alpha=0.1).fit(X, y)
    >>> int((reg.coef_ != 0).sum())
    7
    >>> round(reg.score(X, y), 3)
    0.509
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "cd", "gd", "cholesky"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "warm_start": ["boolean"],
        "positive": ["boolean"],
        "selection": [StrOptions({"cyclic", "random"})],
        "random_state": ["random_state"],
        "precompute": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        penalty="l2",
        alpha=1.0,
        l1_ratio=0.5,
        fit_intercept=True,
        solver="auto",
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        selection="cyclic",
        random_state=None,
        precompute="auto",
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.selection = selection
        self.random_state = random_state
        self.precompute = precompute

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse matrices (converted to CSC) are solved
            without densifying by "cd" and "gd".
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values; each column of a 2-d ``y`` is fitted separately.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``s`` of the objective.

        Returns
        -------
        self : RegularizedRegressor
            The fitted estimator.
        """
        solver = resolve_solver(self.solver, self.penalty, self.positive,
                                sp.issparse(X))  # fmt: skip
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csc",
            dtype=[np.float64, np.float32],
            y_numeric=True,
            multi_output=True,
        )
        if solver != "cholesky":
            X = fortran_layout(X)  # the iterative solvers read columns
        sample_weight = check_weights(sample_weight, X)
        gram = solver == "cholesky" and X.shape[0] >= X.shape[1]
        Y = y.reshape(y.shape[0], -1)
        n_targets = Y.shape[1]
        problems = prepare_problems(X, Y, sample_weight, self.fit_intercept, gram)
        l1, l2 = l1_l2_strengths(self.penalty, self.alpha, self.l1_ratio)
        n_features = X.shape[1]
        coef = getattr(self, "coef_", None) if self.warm_start else None
        if coef is not None and coef.size == n_targets * n_features:
            w0s = np.reshape(coef, (n_targets, n_features))
        else:
            w0s = np.zeros((n_targets, n_features))
        seed = check_random_state(self.random_state).randint(2**31)
        rng = np.random.default_rng(seed)
        options = {"precompute": self.precompute} if solver == "cd" else {}
        results = solve_targets(
            problems, l1, l2, solver, self.positive, w0s, self.max_iter, self.tol,
            rng, random_order=self.selection == "random", **options,
        )  # fmt: skip
        for k, (_, n_iter, gap, tol_abs) in enumerate(results):
            if solver != "cholesky" and gap > tol_abs:
                which = f" on target {k}" if n_targets > 1 else ""
                warnings.warn(
                    f"RegularizedRegressor did not converge{which}: after "
                    f"{n_iter} {'epochs' if solver == 'cd' else 'iterations'} "
                    f"(max_iter={self.max_iter}) the duality gap is {gap:.3e}, "
                    f"above the tolerance {tol_abs:.3e}. Increase max_iter, "
                    "increase tol, or scale the features (for example with "
                    "StandardScaler).",
                    ConvergenceWarning,
                    stacklevel=3,  # the caller of fit, past sklearn's _fit_context
                )
        coefs, n_iters, gaps, _ = zip(*results, strict=True)
        self.coef_, self.intercept_, self.n_iter_, self.dual_gap_ = (
            target_attributes(problems, coefs, n_iters, gaps)
        )
        self.solver_ = solver
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
