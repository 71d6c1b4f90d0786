"""RegularizedRegressorCV: alpha, l1_ratio and penalty chosen by cross-validation."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import column_or_1d, validate_data

from skreg._threads import single_blas_thread
from skreg.linear_model._base import (
    LinearPredictorMixin,
    check_weights,
    prepare_problems,
    problem_gap,
    target_attributes,
)
from skreg.linear_model._closed_form import (
    ridge_loo_errors,
    ridge_loo_predictions,
    ridge_path,
    ridge_spectra,
)
from skreg.linear_model._data import fortran_layout, take_rows
from skreg.linear_model._path import (
    alpha_grid,
    path_on_problem,
    use_gram,
    warn_unconverged,
)
from skreg.linear_model._penalties import l1_l2_strengths
from skreg.linear_model._regressor import RegularizedRegressor

__all__ = ["RegularizedRegressorCV"]

_PENALTIES = ("l1", "l2", "elasticnet")


class RegularizedRegressorCV(LinearPredictorMixin, RegressorMixin, BaseEstimator):
    """:class:`RegularizedRegressor` with the penalty chosen by cross-validation.

    For every candidate penalty (``penalty`` and, for "elasticnet", each
    ``l1_ratio``) the whole :func:`regularization_path` is computed on each
    training fold, warm-started from one alpha to the next, and scored on the
    held-out fold. The candidate and alpha with the best mean score are then
    refitted on all the data. Folds run in parallel with ``n_jobs`` (threads:
    the compiled kernels release the GIL; a ``joblib.parallel_backend``
    context, e.g. dask, is honoured).

    With ``cv=None`` and only "l2" candidates, leave-one-out errors for every
    alpha come in closed form from one eigendecomposition, as in
    :class:`~sklearn.linear_model.RidgeCV`. With only "l2" candidates (any
    ``cv``) it also takes several targets (``y`` of shape (n_samples,
    n_targets)) and, like RidgeCV, picks one alpha for all of them: the one
    with the smallest held-out squared error averaged over the samples and
    the targets (RidgeCV with ``cv`` set scores by R^2 unless told
    otherwise), or with ``alpha_per_target=True`` one alpha for each target.
    Candidates with an L1 part take one target, as
    :class:`~sklearn.linear_model.LassoCV` does.

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"} or list of them, default="elasticnet"
        Candidate penalties; a list lets the cross-validation choose among
        them (the shared alpha scale makes them comparable).
    l1_ratio : float or sequence of float, default=(0.1, 0.5, 0.9, 1.0)
        Candidate L1 shares of "elasticnet", each in ``[0, 1]``.
    alphas : int or array-like, default=100
        Number of alphas on each candidate's log-spaced grid (from its
        ``alpha_max`` down to ``eps * alpha_max``, computed on all the data),
        or the alphas themselves, all ``> 0``.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the grids.
    cv : int, cross-validation generator, iterable or None, default=5
        As in scikit-learn: an int is the number of folds of a
        :class:`~sklearn.model_selection.KFold`. None: leave-one-out in
        closed form when every candidate is "l2", 5-fold otherwise. An
        iterable yields ``(train, test)`` pairs of index arrays (or boolean
        masks of length ``n_samples``).
    scoring : str, callable or None, default=None
        Score to maximize on the held-out folds; None minimizes the (weighted)
        mean squared error.
    n_jobs : int or None, default=None
        Folds computed in parallel (threads). None means 1 unless in a
        :func:`joblib.parallel_backend` context.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    max_iter : int, default=1000
        Maximum coordinate-descent epochs per alpha.
    tol : float, default=1e-4
        Relative duality-gap tolerance per alpha (see
        :class:`RegularizedRegressor`).
    precompute : "auto" or bool, default="auto"
        Use the Gram matrix of each training fold ("auto": when it has more
        samples than features and is dense).
    verbose : int, default=0
        Print one line per fold (and for the refit) when positive.
    alpha_per_target : bool, default=False
        With several targets, choose an alpha for each target on its own
        held-out error (or score), as RidgeCV's ``alpha_per_target``; the
        refit then uses each target's alpha. Needs every candidate penalty
        to be "l2"; unlike RidgeCV, it works with any ``cv``, not only
        leave-one-out. No effect with a single target.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen penalty strength (one per target with
        ``alpha_per_target=True`` and several targets).
    l1_ratio_ : float
        The chosen L1 share (1.0 for "l1", 0.0 for "l2").
    penalty_ : str
        The chosen penalty.
    alphas_ : ndarray of shape (n_alphas,) or (n_candidates, n_alphas)
        The grid of each candidate (one row per candidate when there are
        several), in decreasing order.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or \
            (n_candidates, n_alphas, n_folds)
        Held-out mean squared error of each alpha on each fold (averaged
        over the targets when there are several, unless
        ``alpha_per_target=True``, which adds a last axis of length
        n_targets); with leave-one-out, each sample is a fold and the
        entries are its squared leave-one-out errors.
    score_path_ : ndarray, same shape as ``mse_path_``
        Held-out ``scoring`` values, only when ``scoring`` is given (with
        several targets, the scorer sees all of them at once, as in
        RidgeCV; with ``alpha_per_target=True`` it sees each target on its
        own, and a last axis of length n_targets is added). With
        leave-one-out (``cv=None``), as in RidgeCV, the scorer is applied
        once per alpha to all the leave-one-out predictions together, and
        the fold axis has length 1.
    cv_results_ : dict of ndarray
        One entry per (candidate, alpha) pair, ready for a DataFrame or a
        plot: "penalty", "l1_ratio", "alpha", "mean_test_mse",
        "std_test_mse", "split{k}_test_mse" (and the same with "score" when
        ``scoring`` is given), "rank_test"; with ``alpha_per_target=True``,
        of the errors and scores averaged over the targets.
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients of the refitted model (one row per target when ``y``
        has several columns).
    intercept_ : float or ndarray of shape (n_targets,)
        Its intercept.
    n_iter_ : int or list of int
        Epochs of the refit (1 for the closed form).
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap of the refit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit, when ``X`` had string column
        names.

    See Also
    --------
    RegularizedRegressor : The estimator refitted with the chosen parameters.
    regularization_path : The path computed on each fold.
    sklearn.linear_model.LassoCV : The same search for "l1".
    sklearn.linear_model.ElasticNetCV : The same search for "elasticnet".
    sklearn.linear_model.RidgeCV : Leave-one-out search for "l2".

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import RegularizedRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = RegularizedRegressorCV(penalty="l1", alphas=30).fit(X, y)
    >>> reg.penalty_, reg.mse_path_.shape
    ('l1', (30, 5))
    >>> bool(reg.alpha_ < reg.alphas_[0])
    True
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions(set(_PENALTIES)), list, tuple],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set()), callable, str, None],
        "n_jobs": [Integral, None],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "precompute": ["boolean", StrOptions({"auto"})],
        "verbose": ["verbose"],
        "alpha_per_target": ["boolean"],
    }

    def __init__(
        self,
        penalty="elasticnet",
        l1_ratio=(0.1, 0.5, 0.9, 1.0),
        alphas=100,
        eps=1e-3,
        cv=5,
        scoring=None,
        n_jobs=None,
        fit_intercept=True,
        positive=False,
        max_iter=1000,
        tol=1e-4,
        precompute="auto",
        verbose=0,
        alpha_per_target=False,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.precompute = precompute
        self.verbose = verbose
        self.alpha_per_target = alpha_per_target

    def _candidates(self):
        """The (penalty, l1_ratio) pairs to compare."""
        penalties = [self.penalty] if isinstance(self.penalty, str) else self.penalty
        if len(penalties) == 0:
            raise ValueError("penalty must name at least one penalty.")
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        if ratios.size == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
            raise ValueError(
                f"l1_ratio must be one or more values in [0, 1], got {self.l1_ratio!r}."
            )
        out = []
        for penalty in penalties:
            if penalty not in _PENALTIES:
                raise ValueError(
                    f"penalty entries must be in {_PENALTIES}, got {penalty!r}."
                )
            if penalty == "elasticnet":
                out += [("elasticnet", float(r)) for r in ratios]
            else:
                out.append((penalty, 1.0 if penalty == "l1" else 0.0))
        return out

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Choose the penalty by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values. Several targets only when every candidate is
            "l2"; otherwise a column vector is accepted with a
            ``DataConversionWarning``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, used in the fits and in the held-out errors.
        **params : dict
            Passed to the ``split`` method of the cross-validation generator
            (for example ``groups``).

        Returns
        -------
        self : RegularizedRegressorCV
            The fitted estimator.
        """
        candidates = self._candidates()
        loo = self._leave_one_out()
        if self.alpha_per_target and not self._ridge_only():
            raise ValueError(
                "alpha_per_target=True chooses one alpha per target, which "
                "needs every candidate penalty to be 'l2' (the estimator fits "
                f"several targets only with ridge); got penalty={self.penalty!r}."
            )
        X, y = validate_data(self, X, y, accept_sparse="csc",
                             dtype=[np.float64, np.float32], y_numeric=True,
                             multi_output=True)  # fmt: skip
        if y.ndim == 2 and not self._ridge_only():
            if y.shape[1] != 1:
                raise ValueError(
                    f"RegularizedRegressorCV fits several targets only with "
                    f"ridge (every candidate penalty 'l2'), but y has "
                    f"{y.shape[1]} columns. Choose alpha for each target with "
                    "sklearn.multioutput.MultiOutputRegressor("
                    "RegularizedRegressorCV()), or fit all of them with one "
                    "alpha with RegularizedRegressor."
                )
            y = column_or_1d(y, warn=True)  # a column vector: warn as scikit-learn
        # coordinate descent reads columns; the closed-form leave-one-out
        # takes X in any layout, so the caller's X is not copied for it
        if not loo:
            X = fortran_layout(X)
        sample_weight = check_weights(sample_weight, X)
        n_samples = X.shape[0]
        # as RidgeCV: one alpha per target only when there are several
        per_target = bool(self.alpha_per_target) and y.ndim == 2 and y.shape[1] > 1
        if loo and n_samples < 2:
            raise ValueError(
                "cv=None (leave-one-out) needs at least 2 samples, got "
                f"n_samples={n_samples}."
            )
        if loo and self.positive:
            raise ValueError(
                "cv=None (leave-one-out in closed form) cannot enforce "
                "positive=True; pass cv=5 or another splitter."
            )
        # one problem per target (leave-one-out ridge may have several)
        problems = prepare_problems(X, y.reshape(n_samples, -1), sample_weight,
                                    self.fit_intercept,
                                    gram=use_gram(X, self.precompute))  # fmt: skip
        full = problems[0]
        # leave-one-out: one decomposition gives the errors and the "l2" grid
        spectra = ridge_spectra(problems) if loo else None
        grids = self._alpha_grids(full, candidates, spectra and spectra[0])
        scorer = None if self.scoring is None else check_scoring(
            self, scoring=self.scoring
        )
        if loo:
            targets = list(zip(problems, spectra, strict=True))
            errors = []
            n_scored = len(targets) if per_target else 1
            scores = (None if scorer is None
                      else np.empty((*grids.shape, 1, n_scored)))  # fmt: skip
            lev = None if scorer is None else np.empty(grids.shape[1:] + (n_samples,))
            for c, grid in enumerate(grids):
                # squared errors averaged over the targets (their mean over
                # the samples is RidgeCV's criterion for one shared alpha),
                # or each target's with alpha_per_target
                errs = [ridge_loo_errors(P, grid, S, leverage=lev)
                        for P, S in targets]  # fmt: skip
                if per_target:
                    errors.append(np.stack(errs, axis=-1))
                else:
                    errors.append(errs[0] if len(errs) == 1 else np.mean(errs, axis=0))
                if scorer is not None:
                    # as RidgeCV: the scorer sees all leave-one-out predictions
                    # at once (a score per sample would mean nothing for r2),
                    # of every target or, with alpha_per_target, of each
                    preds = np.stack([ridge_loo_predictions(P, grid, S, leverage=lev)
                                      for P, S in targets], axis=1)  # fmt: skip
                    if y.ndim == 1:
                        preds = preds[:, 0]
                    for t in range(n_scored):
                        pt, yt = (preds[:, t], y[:, t]) if per_target else (preds, y)
                        scores[c, :, 0, t] = [self._score_predictions(
                            scorer, pt[..., a], yt, sample_weight)
                            for a in range(grid.shape[0])]  # fmt: skip
            mse = np.stack(errors)
            if scores is not None and not per_target:
                scores = scores[..., 0]
        else:
            cv = check_cv(5 if self.cv is None else self.cv)
            n_splits = cv.get_n_splits(X, y, **params)
            if isinstance(n_splits, Integral) and n_splits > n_samples:
                raise ValueError(
                    f"cv={self.cv!r} asks for {n_splits} folds but X has only "
                    f"{n_samples} samples."
                )
            folds = [(_fold_rows(train, n_samples), _fold_rows(test, n_samples))
                     for train, test in cv.split(X, y, **params)]  # fmt: skip
            # One BLAS thread for the folds: their products (predictions,
            # the support Gram matrices of the Newton steps) are small, and
            # two-thread BLAS only adds hand-overs between the cores (217
            # paired fits of the L1 benchmark, 500 x 2000: same time when
            # the VM's two vCPUs share a cache, 0.436 vs 0.461 s when they
            # do not); with n_jobs > 1 it also keeps BLAS from taking the
            # cores that the folds run on.
            with single_blas_thread():
                results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                    delayed(self._fold)(X, y, sample_weight, train, test,
                                        candidates, grids, scorer, k,
                                        len(folds), per_target)  # fmt: skip
                    for k, (train, test) in enumerate(folds)
                )
            # each solve's duality gap against its tolerance
            warn_unconverged("RegularizedRegressorCV (cross-validation paths)",
                             np.stack([r[2] for r in results]), 1.0,
                             self.max_iter)  # fmt: skip
            # folds last; with alpha_per_target, then the targets
            mse = np.stack([r[0] for r in results], axis=2)
            scores = None if scorer is None else np.stack(
                [r[1] for r in results], axis=2
            )
        # mse: (n_candidates, n_alphas, n_folds), with alpha_per_target
        # (n_candidates, n_alphas, n_folds, n_targets)
        crit = -scores if scores is not None else mse
        single = len(candidates) == 1
        if per_target:
            mean = crit.mean(axis=2)  # (n_candidates, n_alphas, n_targets)
            flat = np.nanargmin(mean.reshape(-1, mean.shape[-1]), axis=0)
            cands, steps = np.unravel_index(flat, mean.shape[:2])
            # every candidate is "l2" (checked above)
            self.penalty_, self.l1_ratio_ = candidates[cands[0]]
            self.alpha_ = grids[cands, steps].astype(np.float64)
            mse_mean = mse.mean(axis=-1)
            scores_mean = None if scores is None else scores.mean(axis=-1)
        else:
            mean = crit.mean(axis=-1)
            best = np.unravel_index(np.nanargmin(mean), mean.shape)
            self.penalty_, self.l1_ratio_ = candidates[best[0]]
            self.alpha_ = float(grids[best[0]][best[1]])
            mse_mean, scores_mean = mse, scores
        self.alphas_ = grids[0] if single else grids
        self.mse_path_ = mse[0] if single else mse
        if scores is not None:
            self.score_path_ = scores[0] if single else scores
        # a summary per (candidate, alpha): over the targets' mean errors
        self.cv_results_ = _summary(candidates, grids, mse_mean, scores_mean)
        t0 = time.perf_counter()
        if loo:  # the decomposition behind the errors gives the refit too
            self._refit_from_spectra(problems, spectra)
        else:
            self._refit(X, y, sample_weight, per_target)
        if self.verbose:
            print(f"[RegularizedRegressorCV] refit penalty={self.penalty_!r} "
                  f"l1_ratio={self.l1_ratio_:g} alpha={_alpha_text(self.alpha_)} "
                  f"in {time.perf_counter() - t0:.2f}s")  # fmt: skip
        return self

    def _refit(self, X, y, sample_weight, per_target):
        """Refit on all the data: one fit, or with ``per_target`` one per
        distinct chosen alpha (on the targets that chose it)."""
        if not per_target:
            refit = self._refit_one(X, y, sample_weight, self.alpha_)
            self.coef_ = refit.coef_
            self.intercept_ = refit.intercept_
            self.n_iter_ = refit.n_iter_
            self.dual_gap_ = refit.dual_gap_
            return
        n_targets = y.shape[1]
        coef = np.empty((n_targets, X.shape[1]), dtype=X.dtype)
        intercept = np.empty(n_targets)  # float64, as RegularizedRegressor's
        gaps = np.empty(n_targets)
        n_iter = [0] * n_targets
        for alpha in np.unique(self.alpha_):
            cols = np.flatnonzero(self.alpha_ == alpha)
            refit = self._refit_one(X, y[:, cols], sample_weight, float(alpha))
            # one column gives a single target's attributes (1-d coef_)
            coef[cols] = refit.coef_.reshape(len(cols), -1)
            intercept[cols] = refit.intercept_
            gaps[cols] = refit.dual_gap_
            for t, it in zip(cols, np.atleast_1d(refit.n_iter_), strict=True):
                n_iter[t] = int(it)
        self.coef_, self.intercept_, self.n_iter_, self.dual_gap_ = (
            coef, intercept, n_iter, gaps
        )

    def _refit_one(self, X, y, sample_weight, alpha):
        # The refit's ConvergenceWarning is re-issued under this estimator's
        # name and at the caller's line (not RegularizedRegressor's, in here)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            refit = RegularizedRegressor(
                penalty=self.penalty_, alpha=alpha, l1_ratio=self.l1_ratio_,
                fit_intercept=self.fit_intercept, positive=self.positive,
                max_iter=self.max_iter, tol=self.tol, precompute=self.precompute,
            ).fit(X, y, sample_weight=sample_weight)  # fmt: skip
        for record in caught:
            message = str(record.message)
            if issubclass(record.category, ConvergenceWarning):
                message = message.replace(
                    "RegularizedRegressor did not converge",
                    f"RegularizedRegressorCV: the refit on all the data "
                    f"(penalty={self.penalty_!r}, alpha={alpha:.4g}) did "
                    f"not converge", 1,
                )  # fmt: skip
            # 5: past _refit_one, _refit, fit and scikit-learn's _fit_context
            warnings.warn(message, record.category, stacklevel=5)
        return refit

    def _refit_from_spectra(self, problems, spectra):
        """Ridge at ``alpha_`` (each target's, with ``alpha_per_target``)
        from the eigendecomposition of the LOO errors."""
        alphas = np.broadcast_to(self.alpha_, len(problems))
        l2s = [l1_l2_strengths(self.penalty_, a, self.l1_ratio_)[1] for a in alphas]
        coefs = [ridge_path(P, [l2], S)[:, 0]
                 for P, S, l2 in zip(problems, spectra, l2s, strict=True)]  # fmt: skip
        gaps = [problem_gap(P, w, 0.0, l2, False)
                for P, w, l2 in zip(problems, coefs, l2s, strict=True)]  # fmt: skip
        self.coef_, self.intercept_, self.n_iter_, self.dual_gap_ = (
            target_attributes(problems, coefs, [1] * len(problems), gaps)
        )

    def _ridge_only(self):
        """Whether every candidate penalty is "l2", the case with several
        targets. Safe on parameters not validated yet (the tags may be read
        before ``fit``)."""
        penalty = self.penalty
        penalties = penalty if isinstance(penalty, list | tuple) else [penalty]
        return all(pen == "l2" for pen in penalties)

    def _leave_one_out(self):
        """Whether ``fit`` uses closed-form leave-one-out (``cv=None`` and
        every candidate "l2")."""
        return self.cv is None and self._ridge_only()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = self._ridge_only()
        return tags

    def _alpha_grids(self, problem, candidates, spectrum=None):
        if isinstance(self.alphas, Integral):
            return np.stack([alpha_grid(problem, pen, r, self.alphas, self.eps,
                                        spectrum)
                             for pen, r in candidates])  # fmt: skip
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if alphas.size == 0:
            raise ValueError("alphas must not be empty.")
        if not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
            raise ValueError(f"alphas must be finite and > 0, got {self.alphas!r}.")
        return np.tile(np.sort(alphas)[::-1], (len(candidates), 1))

    def _fold(self, X, y, sample_weight, train, test, candidates, grids, scorer,
              k, n_folds, per_target=False):  # fmt: skip
        """Held-out errors (and scores) of every candidate path on one fold:
        arrays of shape (n_candidates, n_alphas), over the targets' mean, or
        with ``per_target`` (n_candidates, n_alphas, n_targets)."""
        t0 = time.perf_counter()
        X_train = take_rows(X, train)
        sw_train = None if sample_weight is None else sample_weight[train]
        if sw_train is not None and not sw_train.sum() > 0:
            raise ValueError(f"Fold {k}: the training samples' weights sum to 0.")
        # one problem per target (several only with ridge candidates)
        gram = use_gram(X_train, self.precompute)
        problems = prepare_problems(X_train, y[train].reshape(len(train), -1),
                                    sw_train, self.fit_intercept, gram)  # fmt: skip
        X_test, y_test = take_rows(X, test), y[test]
        Y_test = np.asarray(y_test, dtype=np.float64).reshape(len(test), -1)
        sw_test = None if sample_weight is None else sample_weight[test]
        n_targets = len(problems)
        mse = np.empty((*grids.shape, n_targets))  # each target's
        # each solve's duality gap over its tolerance (tol times its y_scale)
        gaps = np.empty(grids.shape)
        n_scored = n_targets if per_target else 1
        scores = None if scorer is None else np.empty((*grids.shape, n_scored))
        for c, (penalty, l1_ratio) in enumerate(candidates):
            closed_form = penalty == "l2" and not self.positive and len(problems) > 1
            spectra = ridge_spectra(problems) if closed_form else [None] * len(problems)
            gaps[c] = 0.0
            paths = []  # every target's path, for the scorer only
            for t, (P, S) in enumerate(zip(problems, spectra, strict=True)):
                coefs, intercepts, gap, _ = path_on_problem(
                    P, penalty, l1_ratio, grids[c], self.positive, self.max_iter,
                    self.tol, spectrum=S,
                )  # fmt: skip
                # only the features non-zero somewhere on the path (a few
                # hundred of the 2000 of a lasso path) enter the predictions
                support = np.flatnonzero(coefs.any(axis=1))
                if support.size < coefs.shape[0]:
                    pred = X_test[:, support] @ coefs[support] + intercepts
                else:
                    pred = X_test @ coefs + intercepts
                if sp.issparse(pred):  # pragma: no cover - X_test @ dense is dense
                    pred = pred.toarray()
                mse[c, :, t] = np.average((Y_test[:, t, None] - pred) ** 2, axis=0,
                                          weights=sw_test)  # fmt: skip
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = np.where(gap > 0, gap / (self.tol * P.y_scale), 0.0)
                gaps[c] = np.maximum(gaps[c], rel)
                if scorer is not None:
                    paths.append((coefs, intercepts))
            if scorer is not None:
                # every target at once (as RidgeCV), or each on its own
                groups = ([[t] for t in range(n_targets)] if per_target
                          else [list(range(n_targets))])  # fmt: skip
                for g, cols in enumerate(groups):
                    yg = y_test[:, cols[0]] if per_target else y_test
                    scores[c, :, g] = [self._score_one(
                        scorer, X_test, yg, sw_test,
                        np.stack([paths[t][0][:, a] for t in cols]),
                        np.array([paths[t][1][a] for t in cols]),
                    ) for a in range(grids.shape[1])]  # fmt: skip
        if self.verbose:
            print(f"[RegularizedRegressorCV] fold {k + 1}/{n_folds}: "
                  f"{len(candidates)} path(s) of {grids.shape[1]} alphas in "
                  f"{time.perf_counter() - t0:.2f}s")  # fmt: skip
        if not per_target:  # the held-out squared error over the targets
            mse = mse.mean(axis=-1)
            scores = None if scores is None else scores[..., 0]
        return mse, scores, gaps

    def _score_one(self, scorer, X, y, sample_weight, coef, intercept):
        """The scorer on the linear model ``coef`` (n_targets, n_features),
        ``intercept`` (n_targets,); one target is given as a 1-D model."""
        model = RegularizedRegressor(fit_intercept=self.fit_intercept)
        if y.ndim == 1:
            model.coef_, model.intercept_ = coef[0], float(intercept[0])
        else:
            model.coef_, model.intercept_ = coef, intercept
        model.n_features_in_ = X.shape[1]
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return scorer(model, X, y, **kwargs)

    @staticmethod
    def _score_predictions(scorer, predictions, y, sample_weight):
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return scorer(_Predictions(), predictions, y, **kwargs)


class _Predictions(RegressorMixin, BaseEstimator):
    """Stands in for a model whose predictions are already known: a scorer
    called as ``scorer(_Predictions(), predictions, y)`` scores them."""

    def predict(self, X):
        return X


def _alpha_text(alpha):
    """``alpha_`` for a message: a number, or one per target."""
    if np.ndim(alpha) == 0:
        return f"{alpha:.4g}"
    return "[" + ", ".join(f"{a:.4g}" for a in alpha) + "]"


def _fold_rows(rows, n_samples):
    """A fold's rows as an index array. scikit-learn's splitters give
    indices; an iterable passed as ``cv`` may give boolean masks, which
    LassoCV also takes."""
    rows = np.asarray(rows)
    if rows.dtype == np.bool_:
        if rows.shape != (n_samples,):
            raise ValueError(
                f"cv: a boolean fold mask must have shape ({n_samples},) for X "
                f"with {n_samples} samples, got shape {rows.shape}."
            )
        return np.flatnonzero(rows)
    return rows


def _summary(candidates, grids, mse, scores):
    """Flatten the paths into a GridSearchCV-like ``cv_results_`` dict."""
    n_alphas = grids.shape[1]
    out = {
        "penalty": np.repeat([c[0] for c in candidates], n_alphas),
        "l1_ratio": np.repeat([c[1] for c in candidates], n_alphas),
        "alpha": grids.ravel(),
        "mean_test_mse": mse.mean(axis=-1).ravel(),
        "std_test_mse": mse.std(axis=-1).ravel(),
    }
    if mse.shape[-1] <= 50:  # one column per fold; not per leave-one-out sample
        for k in range(mse.shape[-1]):
            out[f"split{k}_test_mse"] = mse[..., k].ravel()
    key = out["mean_test_mse"]
    if scores is not None:
        out["mean_test_score"] = scores.mean(axis=-1).ravel()
        out["std_test_score"] = scores.std(axis=-1).ravel()
        for k in range(scores.shape[-1]):
            out[f"split{k}_test_score"] = scores[..., k].ravel()
        key = -out["mean_test_score"]
    out["rank_test"] = np.argsort(np.argsort(key, kind="stable"), kind="stable") + 1
    return out
