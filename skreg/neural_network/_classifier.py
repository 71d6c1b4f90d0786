"""DropoutMLPClassifier: the estimator layer (validation, attributes, training
loop). The numerical work is done by BLAS (``np.matmul`` with ``out=``) and by
the Numba kernels of ``_kernels``, ``_optimizers`` and ``_augment``.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skreg._numba import readonly_sparse_arrays, readonly_view
from skreg.neural_network import _augment, _kernels, _optimizers

_AUGMENTATIONS = ("shift", "flip")


def _layout(layer_sizes):
    """Offsets of the weight matrices and biases in the flat parameter vector."""
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    sizes = [r * c for r, c in shapes]
    w_offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n_weights = int(sum(sizes))
    b_offsets = n_weights + np.concatenate(
        [[0], np.cumsum(layer_sizes[1:])[:-1]]
    ).astype(np.int64)
    n_params = n_weights + int(sum(layer_sizes[1:]))
    return shapes, w_offsets, b_offsets, n_weights, n_params


class _Net:
    """Views of a flat parameter (or gradient) vector as per-layer arrays.

    ``theta`` holds the weight matrices (C order) first, then the biases, so
    that one kernel call updates all parameters and the weight penalty applies
    to the leading ``n_weights`` entries.
    """

    def __init__(self, theta, layer_sizes):
        shapes, w_off, b_off, n_weights, n_params = _layout(layer_sizes)
        self.theta = theta
        self.layer_sizes = list(layer_sizes)
        self.n_weights = n_weights
        self.coefs = [
            theta[o : o + r * c].reshape(r, c)
            for o, (r, c) in zip(w_off, shapes, strict=True)
        ]
        self.intercepts = [
            theta[o : o + c] for o, (_, c) in zip(b_off, shapes, strict=True)
        ]
        self.intercepts_ro = [readonly_view(b) for b in self.intercepts]
        self.w_offsets = w_off
        self.w_rows = np.array([r for r, _ in shapes], dtype=np.int64)
        self.w_cols = np.array([c for _, c in shapes], dtype=np.int64)


class _BatchViews:
    """The workspace buffers cut to a batch of ``nb`` rows (cached per ``nb``)."""

    def __init__(self, ws, nb):
        self.Xb = ws.Xb[:nb]
        self.Yb = ws.Yb[:nb]
        self.swb = ws.swb[:nb]
        self.H = [h[:nb] for h in ws.H]
        self.H_ro = [readonly_view(h) for h in self.H]
        self.D = [d[:nb] for d in ws.D]
        self.U = [u[:nb] if u.shape[0] > 1 else u for u in ws.U]
        self.U_ro = [readonly_view(u) for u in self.U]
        self.U_in = ws.U_in[:nb] if ws.U_in.shape[0] > 1 else ws.U_in
        self.U_in_ro = readonly_view(self.U_in)
        self.noise = ws.noise[:nb]
        self.shifts = ws.shifts[:nb]
        # transposed inputs of each weight matrix, for the weight gradients
        self.A_T = [self.Xb.T] + [h.T for h in self.H[:-1]]


class _Workspace:
    """All per-batch buffers of one fit, allocated once."""

    def __init__(self, layer_sizes, batch_size, dtype, masks, input_mask,
                 input_noise, augment, dense_input=True):
        bs = batch_size
        # no dense input batch when the rows of a sparse X are multiplied in
        # place (it would be batch_size x n_features)
        self.Xb = np.empty((bs, layer_sizes[0] if dense_input else 0), dtype)
        self.Yb = np.empty((bs, layer_sizes[-1]), dtype)
        self.swb = np.empty(bs, dtype)
        self.H = [np.empty((bs, k), dtype) for k in layer_sizes[1:]]
        self.D = [np.empty((bs, k), dtype) for k in layer_sizes[1:]]
        dummy = np.zeros((1, 1), np.uint16)
        self.U = [
            np.empty((bs, k), np.uint16) if thr > 0 else dummy
            for k, (thr, _) in zip(layer_sizes[1:-1], masks, strict=True)
        ]
        self.U_in = np.empty(self.Xb.shape, np.uint16) if input_mask[0] > 0 else dummy
        self.noise = np.empty(self.Xb.shape if input_noise > 0 else (0, 0), dtype)
        self.shifts = np.zeros((bs if augment else 0, 3), np.int64)
        self._views = {}

    def views(self, nb):
        if nb not in self._views:
            self._views[nb] = _BatchViews(self, nb)
        return self._views[nb]


def _product(A, W, out, sparse_batch):
    """``out = A @ W``; with ``sparse_batch = (data, indices, indptr, idx)``
    (first layer only), ``A`` is instead the rows ``idx`` of that CSR X."""
    if sparse_batch is None:
        np.matmul(A, W, out=out)
    else:
        _kernels.sparse_rows_matmul(*sparse_batch, readonly_view(W), out)


def _forward(net, bv, act, masks, rng, sparse_batch=None):
    """Forward pass of a training batch: hidden activations in ``bv.H``, output
    logits without bias in ``bv.H[-1]``. ``masks`` holds the ``(threshold,
    scale)`` pair of each hidden layer. Draws fresh dropout masks from
    ``rng``; with ``rng=None`` the draws already in ``bv.U`` are used. With
    ``sparse_batch`` (see :func:`_product`) the input rows are those of a CSR
    X and ``bv.Xb`` is not used."""
    A = bv.Xb
    for layer, (thr, scale) in enumerate(masks):
        Z = bv.H[layer]
        _product(A, net.coefs[layer], Z, sparse_batch if layer == 0 else None)
        if thr > 0 and rng is not None:
            _kernels.draw_mask(rng, bv.U[layer], thr)
        _kernels.bias_act_dropout(
            Z, net.intercepts_ro[layer], act, bv.U_ro[layer], thr, scale
        )
        A = Z
    _product(A, net.coefs[-1], bv.H[-1], sparse_batch if not masks else None)


def _backward(net, grad, bv, act, masks, inv_sw_sum, softmax, sparse_batch=None):
    """Gradient of ``sum_i sw_i * CE_i * inv_sw_sum`` into the ``grad`` views;
    returns ``sum_i sw_i * CE_i``. ``sparse_batch`` as for :func:`_forward`."""
    n_layers = len(net.coefs)
    loss = _kernels.output_loss_delta(
        bv.H[-1], net.intercepts_ro[-1], bv.Yb, bv.swb, inv_sw_sum, softmax,
        bv.D[-1], grad.intercepts[-1],
    )
    for layer in range(n_layers - 1, -1, -1):
        D = bv.D[layer]
        if layer == 0 and sparse_batch is not None:
            _kernels.sparse_rows_t_matmul(*sparse_batch, readonly_view(D),
                                          grad.coefs[0])
        else:
            np.matmul(bv.A_T[layer], D, out=grad.coefs[layer])
        if layer > 0:
            np.matmul(D, net.coefs[layer].T, out=bv.D[layer - 1])
            thr, scale = masks[layer - 1]
            _kernels.act_derivative(
                bv.D[layer - 1], bv.H_ro[layer - 1], act, bv.U_ro[layer - 1],
                thr, scale, grad.intercepts[layer - 1],
            )
    return loss


def _loss_grad(net, grad, bv, act, masks, inv_sw_sum, softmax, penalty, rng,
               sparse_batch=None):
    """Loss and gradient of one batch (rows of ``bv``) into ``grad``.

    The gradient is that of ``inv_sw_sum * sum_i sw_i * CE_i`` plus, with
    ``penalty = (grad_w, theta_w, alpha_eff, l1_eff)``, of the penalties
    ``alpha_eff / 2 * ||W||^2 + l1_eff * |W|`` (weights only). Fresh dropout
    masks are drawn from ``rng`` (``None``: the draws in ``bv.U`` are kept).
    Returns ``sum_i sw_i * CE_i``. Training passes ``penalty=None`` and lets
    the optimizer kernel add the penalty gradient in its own pass. With
    ``sparse_batch`` (see :func:`_product`), the input rows are those of a
    CSR X, multiplied without a dense batch.
    """
    _forward(net, bv, act, masks, rng, sparse_batch)
    loss = _backward(net, grad, bv, act, masks, inv_sw_sum, softmax, sparse_batch)
    if penalty is not None:
        _kernels.add_penalty_grad(*penalty)
    return loss


def _as_dtype(X, dtype):
    """``X`` (validated: an array or a CSR matrix) in ``dtype``; arrays
    C-contiguous. No copy when it already is."""
    if sp.issparse(X):
        return X.astype(dtype, copy=False)
    return np.ascontiguousarray(X, dtype=dtype)


def _check_labels(y, binarizer, what):
    """Raise if ``y`` has labels (or label columns) that the fitted
    ``binarizer`` does not know; ``what`` names its classes in the message."""
    classes = binarizer.classes_
    if binarizer.y_type_.startswith("multilabel"):
        if y.ndim != 2 or y.shape[1] != len(classes):
            raise ValueError(
                f"y must be a label indicator matrix with {len(classes)} columns."
            )
        return
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            f"y contains labels {unknown.tolist()} that are not in "
            f"{what} {classes.tolist()}."
        )


class DropoutMLPClassifier(ClassifierMixin, BaseEstimator):
    r"""Multilayer perceptron classifier with dropout, L1 / L2 / max-norm
    regularization and input augmentation.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier` (same
    parameter names and defaults where the concept exists, same fitted
    attributes) trained with Adam or SGD on Numba kernels. Dropout is inverted
    dropout: at training time each hidden unit (and, with ``input_dropout``,
    each input feature) is dropped with its probability ``p`` and the kept
    ones are scaled by ``1 / (1 - p)``, so prediction uses the full network
    without any rescaling.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The number of units of each hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.

    dropout : float or array-like of shape (n_layers - 2,), default=0.5
        Drop probability of the hidden units, in [0, 1): one value for all
        hidden layers or one per hidden layer.

    input_dropout : float, default=0.0
        Drop probability of the input features, in [0, 1).

    alpha : float, default=1e-4
        Strength of the L2 penalty on the weights (not the biases), on the
        full-data scale of the objective (see Notes).

    l1 : float, default=0.0
        Strength of the L1 penalty on the weights, on the same scale.

    max_norm : float, default=None
        When set, after every update each unit's incoming weight vector is
        rescaled to Euclidean norm at most ``max_norm``.

    input_noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the inputs at
        training time (fresh noise for every batch of every epoch). Scale the
        inputs first.

    augment : {None, "shift", "flip"} or tuple of them, default=None
        Image augmentation at training time, fresh every epoch: "shift" moves
        each image by up to one pixel in each direction (vacated pixels are 0),
        "flip" flips it horizontally with probability 1/2. Requires
        ``image_shape``. A sparse X is made dense for it.

    image_shape : tuple (h, w) or (h, w, c), default=None
        Shape of the images stored in the rows of X (C order, channels last);
        ``h * w * c`` must equal ``n_features``.

    solver : {"adam", "sgd"}, default="adam"
        The stochastic optimizer.

    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of the "sgd" solver, as in MLPClassifier.

    learning_rate_init : float, default=1e-3
        The initial learning rate.

    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.

    momentum : float, default=0.9
        Momentum of the "sgd" solver, in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether the "sgd" solver uses Nesterov's momentum.

    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    max_iter : int, default=200
        Maximum number of epochs.

    tol : float, default=1e-4
        Tolerance of the stopping rule. As in MLPClassifier, training stops
        when the training loss (or, with ``early_stopping``, the validation
        score) has not improved by at least ``tol`` for ``n_iter_no_change``
        consecutive epochs. When training is stochastic (dropout, input
        noise or augmentation) the loss of a single epoch is noisy and its
        minimum is biased low, so the training-loss rule compares instead the
        mean loss of the last ``n_iter_no_change`` epochs with that of the
        ``n_iter_no_change`` epochs before: training stops when it has not
        decreased by ``tol``.

    n_iter_no_change : int, default=10
        See ``tol``.

    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when the validation accuracy stops improving and restore the
        weights of the best epoch.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.

    shuffle : bool, default=True
        Whether to shuffle the samples every epoch.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied with ``sample_weight``; "balanced"
        uses ``n_samples / (n_classes * np.bincount(y))``.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialization, the shuffling, the validation split,
        the dropout masks and the augmentation. An int gives identical models
        on identical data.

    warm_start : bool, default=False
        Reuse the weights of the previous fit as initialization (the optimizer
        state is reset).

    verbose : bool, default=False
        Print one line per epoch: loss, validation score, time.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    loss_ : float
        The objective ``J`` (see Notes) of the last epoch: the weighted mean
        cross-entropy over its batches plus the penalties.

    best_loss_ : float or None
        The smallest ``loss_`` seen; None with ``early_stopping``.

    loss_curve_ : list of float
        ``loss_`` of every epoch.

    validation_scores_ : list of float or None
        Validation accuracy of every epoch with ``early_stopping``, else None.

    best_validation_score_ : float or None
        The best validation accuracy with ``early_stopping``, else None.

    t_ : int
        Number of training samples seen by the solver.

    coefs_ : list of ndarray
        ``coefs_[i]`` of shape ``(n_units_i, n_units_{i+1})`` is the weight
        matrix of layer ``i``.

    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape ``(n_units_{i+1},)`` is the bias vector of
        layer ``i + 1``.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when X has string column names.

    n_iter_ : int
        Number of epochs run by the last ``fit`` (a warm-started fit counts
        from 0 again, as in MLPClassifier); each ``partial_fit`` adds one.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units: 1 for binary problems, else the number of
        classes (or labels).

    out_activation_ : str
        "softmax" (multiclass) or "logistic" (binary, multilabel).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The scikit-learn multilayer
        perceptron (no dropout, no L1, no max-norm, no class weights).
    sklearn.linear_model.LogisticRegression : A linear classifier.

    Notes
    -----
    With sample weights :math:`s_i` (``sample_weight`` times the class
    weights), the objective minimized is

    .. math::

        J = \frac{1}{\sum_i s_i} \sum_i s_i \, \mathrm{CE}_i
            + \frac{\alpha}{2 \sum_i s_i} \sum \|W\|_2^2
            + \frac{l_1}{\sum_i s_i} \sum |W|

    where :math:`\mathrm{CE}_i` is the cross-entropy of sample :math:`i` and
    the penalties run over the weight matrices (not the biases). Each
    minibatch step uses the unbiased estimate of :math:`\nabla J` that
    replaces the data term by the weighted mean over the batch, so the
    strength of the penalties does not depend on the batch size (it is
    MLPClassifier's ``alpha`` scale with full-batch training). A batch whose
    weights are all zero is skipped. With ``partial_fit`` the sums run over
    the data of the call.

    Dropout is applied to the hidden units (``dropout``) and the input
    features (``input_dropout``) at training time only; ``predict_proba_mc``
    keeps it on at prediction time (Monte-Carlo dropout).

    Float32 input is trained in float32 with float32 weights.

    Sparse X (any scipy.sparse format; used as CSR) stays sparse: the first
    layer multiplies the stored entries of each minibatch's rows, at a cost
    proportional to their number. The model is that of the dense array up to
    rounding. When the inputs are perturbed (``input_dropout``,
    ``input_noise``) each minibatch is made dense first, and augmentation
    makes the whole X dense.

    References
    ----------
    N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and R.
    Salakhutdinov, "Dropout: a simple way to prevent neural networks from
    overfitting", JMLR 15 (2014).

    Y. Gal and Z. Ghahramani, "Dropout as a Bayesian approximation", ICML
    (2016).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skreg.neural_network import DropoutMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> clf = DropoutMLPClassifier(hidden_layer_sizes=(64,), dropout=0.2,
    ...                            max_iter=30, random_state=0).fit(X, y)
    >>> clf.predict(X[:5])
    array([0, 1, 2, 3, 4])
    >>> bool(clf.score(X, y) > 0.9)
    True
    >>> mean, std = clf.predict_proba_mc(X[:2], n_passes=20, random_state=0)
    >>> mean.shape, std.shape
    ((2, 10), (2, 10))
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like", Interval(Integral, 1, None, closed="left")
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "dropout": ["array-like", Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "augment": [StrOptions(set(_AUGMENTATIONS)), tuple, list, None],
        "image_shape": [tuple, list, None],
        "solver": [StrOptions({"adam", "sgd"})],
        "batch_size": [
            StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.5,
        input_dropout=0.0,
        alpha=1e-4,
        l1=0.0,
        max_norm=None,
        input_noise=0.0,
        augment=None,
        image_shape=None,
        solver="adam",
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        class_weight=None,
        random_state=None,
        warm_start=False,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.alpha = alpha
        self.l1 = l1
        self.max_norm = max_norm
        self.input_noise = input_noise
        self.augment = augment
        self.image_shape = image_shape
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.class_weight = class_weight
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ------------------------------------------------------------------
    # validation helpers

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        for s in sizes:
            if not isinstance(s, Integral | np.integer) or isinstance(s, bool):
                raise ValueError(
                    "hidden_layer_sizes must be positive integers, got "
                    f"{self.hidden_layer_sizes!r} (an entry of type "
                    f"{type(s).__name__})."
                )
            if s < 1:
                raise ValueError(
                    "hidden_layer_sizes must be positive integers (a hidden "
                    f"layer of size {s} has no units), got "
                    f"{self.hidden_layer_sizes!r}."
                )
        return [int(s) for s in sizes]

    def _dropouts(self, n_hidden):
        p = self.dropout
        if np.ndim(p) == 0:
            values = [float(p)] * n_hidden
        else:
            values = [float(v) for v in np.ravel(p)]
            if len(values) != n_hidden:
                raise ValueError(
                    f"dropout has {len(values)} values but there are {n_hidden} "
                    "hidden layers; pass one value, or one per hidden layer."
                )
        for v in values:
            if not 0.0 <= v < 1.0:
                raise ValueError(
                    f"dropout must be in [0, 1), got {self.dropout!r}."
                )
        return values

    def _augmentations(self, n_features):
        aug = self.augment
        if aug is None:
            aug = ()
        elif isinstance(aug, str):
            aug = (aug,)
        aug = tuple(aug)
        for a in aug:
            if a not in _AUGMENTATIONS:
                raise ValueError(
                    f"augment must be None, 'shift', 'flip' or a tuple of them, "
                    f"got {self.augment!r}."
                )
        if self.image_shape is None:
            if aug:
                raise ValueError(
                    f"augment={self.augment!r} requires image_shape=(h, w) or "
                    "(h, w, c)."
                )
            return aug, None
        shape = tuple(self.image_shape)
        if (
            len(shape) not in (2, 3)
            or not all(isinstance(s, Integral | np.integer) and s > 0 for s in shape)
        ):
            raise ValueError(
                f"image_shape must be (h, w) or (h, w, c) of positive integers, "
                f"got {self.image_shape!r}."
            )
        if len(shape) == 2:
            shape = (*shape, 1)
        if int(np.prod(shape)) != n_features:
            raise ValueError(
                f"image_shape={self.image_shape!r} has {int(np.prod(shape))} "
                f"pixels but X has {n_features} features."
            )
        return aug, tuple(int(s) for s in shape)

    def _validate_input(self, X, y, reset):
        X, y = validate_data(
            self, X, y, reset=reset, multi_output=True, accept_sparse="csr",
            dtype=[np.float64, np.float32], order="C",
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _set_classes(self, y, classes):
        """Fit the label binarizer (on ``classes`` when given, except for
        multilabel y) after checking ``y`` against it; nothing is set when
        a check fails."""
        check_classification_targets(y)
        binarizer = LabelBinarizer()
        if type_of_target(y).startswith("multilabel"):
            binarizer.fit(y)
        elif classes is not None:
            binarizer.fit(np.asarray(classes))
            _check_labels(y, binarizer, "classes")
        else:
            binarizer.fit(y)
        if len(binarizer.classes_) < 2:
            raise ValueError(
                "DropoutMLPClassifier needs samples of at least 2 classes in y; "
                f"got only one class: {binarizer.classes_[0]!r}."
            )
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_

    def _sample_weights(self, y, sample_weight, X, multilabel, incremental):
        sw = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        if self.class_weight is not None:
            if multilabel:
                raise ValueError("class_weight is not supported for multilabel y.")
            if incremental and isinstance(self.class_weight, str):
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit "
                    "(the class frequencies of one chunk are not those of the "
                    "data); compute the weights with "
                    "sklearn.utils.class_weight.compute_class_weight and pass "
                    "them as a dict."
                )
            cw = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            sw = sw * cw[np.searchsorted(self.classes_, y)].astype(X.dtype)
        return sw

    # ------------------------------------------------------------------
    # fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to X and y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a label indicator matrix (multilabel).

        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative sample weights, multiplied with the class weights.

        Returns
        -------
        self : DropoutMLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False, classes=None)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over X and y, keeping the weights and optimizer state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a label indicator matrix (multilabel).

        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call (except for
            multilabel y). Later calls may omit it; when given, it must be
            the same set of classes.

        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative sample weights, multiplied with the class weights.

        Returns
        -------
        self : DropoutMLPClassifier
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, incremental, classes):
        hidden = self._hidden_sizes()
        dropouts = self._dropouts(len(hidden))
        fitted = hasattr(self, "coefs_")
        first_pass = not fitted or (not self.warm_start and not incremental)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True.")
        X, y = self._validate_input(X, y, reset=first_pass)
        augment, image_shape = self._augmentations(X.shape[1])
        if augment and sp.issparse(X):
            X = X.toarray()  # shifts and flips move pixels: images are dense

        if first_pass:
            if incremental and classes is None and not type_of_target(
                y
            ).startswith("multilabel"):
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            self._set_classes(y, classes if incremental else None)
        else:
            X = _as_dtype(X, self.coefs_[0].dtype)
            check_classification_targets(y)
            if incremental and classes is not None:
                given = np.unique(np.asarray(classes))
                if not np.array_equal(given, self.classes_):
                    raise ValueError(
                        f"classes={given.tolist()} is not the same as on the "
                        f"first call to partial_fit: {self.classes_.tolist()}."
                    )
            _check_labels(
                y,
                self._label_binarizer,
                "classes" if incremental else "the classes of the first fit",
            )
            layer_sizes = [X.shape[1], *hidden, self.n_outputs_]
            old = [c.shape[0] for c in self.coefs_] + [self.n_outputs_]
            if old != layer_sizes:
                raise ValueError(
                    f"The network of the previous fit has layer sizes {old}; "
                    f"it cannot be continued with {layer_sizes} "
                    "(hidden_layer_sizes or n_features changed)."
                )
        multilabel = self._label_binarizer.y_type_.startswith("multilabel")
        dtype = X.dtype
        Y = np.ascontiguousarray(self._label_binarizer.transform(y), dtype=dtype)
        sw = self._sample_weights(y, sample_weight, X, multilabel, incremental)
        if not np.isfinite(sw.sum()) or sw.sum() <= 0:
            raise ValueError(
                "The sample weights (times the class weights) sum to zero: "
                "there is nothing to fit."
            )
        n_outputs = Y.shape[1]
        layer_sizes = [X.shape[1], *hidden, n_outputs]

        if fitted and not first_pass:
            rng = self._rng if incremental else None
        else:
            rng = None
        if rng is None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            rng = np.random.default_rng(seed)
        self._rng = rng

        if first_pass:
            self.n_outputs_ = n_outputs
            self.n_layers_ = len(layer_sizes)
            self.out_activation_ = (
                "softmax" if n_outputs > 1 and not multilabel else "logistic"
            )
            theta = self._init_theta(layer_sizes, dtype, rng)
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.validation_scores_ = None
                self.best_validation_score_ = None
                self.best_loss_ = np.inf
            self._optimizer_state = None
        else:
            theta = np.concatenate(
                [c.ravel() for c in self.coefs_] + [b.ravel() for b in self.intercepts_]
            ).astype(dtype, copy=False)
            if not incremental:
                self.n_iter_ = 0  # as MLPClassifier: epochs of this call
                self._optimizer_state = None
                self._no_improvement_count = 0
                if self.early_stopping:
                    self.validation_scores_ = self.validation_scores_ or []
                    self.best_validation_score_ = -np.inf
            if not self.early_stopping and self.best_loss_ is None:
                # continued without early stopping after a fit with it
                self.best_loss_ = np.inf
        net = _Net(theta, layer_sizes)
        self.coefs_ = net.coefs
        self.intercepts_ = net.intercepts

        state = self._optimizer_state
        if (
            state is None
            or state["solver"] != self.solver
            or state["m"].size != theta.size
        ):
            # "m" is Adam's first moment or SGD's velocity
            state = {
                "solver": self.solver, "t": 0, "lr": float(self.learning_rate_init),
                "m": np.zeros_like(theta), "v": np.zeros_like(theta),
            }
        self._optimizer_state = state

        early_stopping = self.early_stopping and not incremental
        X_val = y_val = sw_val = None
        if early_stopping:
            stratify = None if multilabel else y
            idx_train, idx_val = train_test_split(
                np.arange(X.shape[0]), test_size=self.validation_fraction,
                random_state=int(rng.integers(np.iinfo(np.int32).max)),
                stratify=stratify,
            )
            X_val, y_val, sw_val = X[idx_val], y[idx_val], sw[idx_val]
            X, Y, sw = X[idx_train], Y[idx_train], sw[idx_train]
            for part, weights in (("training", sw), ("validation", sw_val)):
                if weights.sum() <= 0:
                    raise ValueError(
                        f"The {part} part of the early-stopping split has zero "
                        "total sample weight; give more samples a non-zero "
                        "weight or change validation_fraction."
                    )

        self._train(
            net, X, Y, sw, dropouts, augment, image_shape, rng,
            n_epochs=1 if incremental else self.max_iter,
            incremental=incremental, val=(X_val, y_val, sw_val),
        )
        if not np.isfinite(theta).all():
            raise ValueError(
                "Training produced non-finite weights; the input data may "
                "contain large values and need to be scaled."
            )
        return self

    def _init_theta(self, layer_sizes, dtype, rng):
        """Glorot-uniform initialization, as MLPClassifier."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        theta = np.empty(_layout(layer_sizes)[-1], dtype=dtype)
        net = _Net(theta, layer_sizes)
        for W, b in zip(net.coefs, net.intercepts, strict=True):
            bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
            W[...] = rng.uniform(-bound, bound, W.shape)
            b[...] = rng.uniform(-bound, bound, b.shape)
        return theta

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} larger than the number of "
                f"samples ({n_samples}); it is clipped to {n_samples}.",
                UserWarning,
                # the caller of fit / partial_fit: past _batch_size, _train,
                # _fit, the public method and scikit-learn's _fit_context
                stacklevel=6,
            )
        return min(self.batch_size, n_samples)

    def _train(self, net, X, Y, sw, dropouts, augment, image_shape, rng,
               n_epochs, incremental, val):
        n_samples = X.shape[0]
        dtype = X.dtype
        bs = self._batch_size(n_samples)
        ft = dtype.type  # scalars in the dtype of the arrays: float32 stays float32
        masks = [
            (thr, ft(scale)) for thr, scale in map(_kernels.dropout_threshold, dropouts)
        ]
        thr_in, scale_in = _kernels.dropout_threshold(self.input_dropout)
        scale_in = ft(scale_in)
        Y_ro, sw_ro = readonly_view(Y), readonly_view(sw)
        # validated: a CSR matrix or an array
        X_ro = readonly_sparse_arrays(X) if sp.issparse(X) else readonly_view(X)
        # a CSR X enters the first layer's products directly, unless the
        # inputs themselves are perturbed (then each batch is made dense)
        sparse_products = (
            isinstance(X_ro, tuple) and thr_in == 0 and self.input_noise == 0
        )
        sparse_batch = None
        ws = _Workspace(net.layer_sizes, bs, dtype, masks, (thr_in, scale_in),
                        self.input_noise, augment, dense_input=not sparse_products)
        grad = _Net(np.empty_like(net.theta), net.layer_sizes)
        sw_sum = float(sw.sum(dtype=np.float64))
        alpha_eff = ft(self.alpha / sw_sum)
        l1_eff = ft(self.l1 / sw_sum)
        nw = net.n_weights
        theta_w_ro = readonly_view(net.theta[:nw])
        act = _kernels.ACTIVATION_CODES[self.activation]
        softmax = self.out_activation_ == "softmax"
        sigma = ft(self.input_noise)
        shift = "shift" in augment
        flip = "flip" in augment
        max_norm = ft(self.max_norm) if self.max_norm is not None else ft(0.0)
        state = self._optimizer_state
        adam = self.solver == "adam"
        b1, b2, eps = ft(self.beta_1), ft(self.beta_2), ft(self.epsilon)
        momentum = ft(self.momentum)
        nesterov = bool(self.nesterovs_momentum)
        lr_schedule = self.learning_rate
        X_val, y_val, sw_val = val
        stochastic = (
            any(thr > 0 for thr, _ in masks) or thr_in > 0 or sigma > 0 or bool(augment)
        )
        if not incremental or not hasattr(self, "_window_start"):
            self._window_start = len(self.loss_curve_)
        opt_args = (net.w_offsets, net.w_rows, net.w_cols, max_norm)
        penalty = (nw, alpha_eff, l1_eff)
        best_theta = None

        for _ in range(n_epochs):
            t0 = time.perf_counter()
            order = rng.permutation(n_samples) if self.shuffle else np.arange(n_samples)
            order = readonly_view(order)
            loss_sum = 0.0
            for start in range(0, n_samples, bs):
                idx = order[start : start + bs]
                nb = idx.shape[0]
                bv = ws.views(nb)
                if augment:
                    draws = bv.shifts
                    if shift:
                        draws[:, :2] = rng.integers(-1, 2, size=(nb, 2))
                    if flip:
                        draws[:, 2] = rng.integers(0, 2, size=nb)
                    batch_sw = _augment.gather_shift_flip(
                        X_ro, Y_ro, sw_ro, idx, readonly_view(draws), *image_shape,
                        bv.Xb, bv.Yb, bv.swb,
                    )
                elif sparse_products:  # CSR rows multiplied where they are
                    batch_sw = _kernels.gather_targets(Y_ro, sw_ro, idx, bv.Yb, bv.swb)
                    sparse_batch = (*X_ro, idx)
                elif isinstance(X_ro, tuple):  # CSR with perturbed inputs: made dense
                    batch_sw = _kernels.gather_rows_sparse(
                        *X_ro, Y_ro, sw_ro, idx, bv.Xb, bv.Yb, bv.swb
                    )
                else:
                    batch_sw = _kernels.gather_rows(
                        X_ro, Y_ro, sw_ro, idx, bv.Xb, bv.Yb, bv.swb
                    )
                self.t_ += nb
                if batch_sw <= 0:
                    continue  # all weights zero: nothing to learn from
                if sigma > 0:
                    rng.standard_normal(dtype=dtype, out=bv.noise)
                    _augment.add_noise(bv.Xb, readonly_view(bv.noise), sigma)
                if thr_in > 0:
                    _kernels.draw_mask(rng, bv.U_in, thr_in)
                    _kernels.dropout_inplace(bv.Xb, bv.U_in_ro, thr_in, scale_in)
                # the penalty gradient is added by the optimizer kernel (one
                # pass over the parameters instead of two)
                loss_sum += _loss_grad(net, grad, bv, act, masks, ft(1.0 / batch_sw),
                                       softmax, None, rng, sparse_batch)
                if adam:
                    state["t"] += 1
                    t = state["t"]
                    lr_t = ft(state["lr"] * np.sqrt(1.0 - self.beta_2**t)
                              / (1.0 - self.beta_1**t))
                    _optimizers.adam_step(net.theta, grad.theta, state["m"], state["v"],
                                          *penalty, lr_t, b1, b2, eps, *opt_args)
                else:
                    _optimizers.sgd_step(net.theta, grad.theta, state["m"], *penalty,
                                         ft(state["lr"]), momentum, nesterov,
                                         *opt_args)
            self.n_iter_ += 1
            penalty_value = _kernels.penalty_value(theta_w_ro, alpha_eff, l1_eff)
            self.loss_ = float(loss_sum / sw_sum + penalty_value)
            self.loss_curve_.append(self.loss_)
            if not adam and lr_schedule == "invscaling":
                state["lr"] = (
                    float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                )

            stop = False
            if X_val is not None:
                score = accuracy_score(y_val, self._labels(self._network_logits(X_val)),
                                       sample_weight=sw_val)
                self.validation_scores_.append(float(score))
                if score < self.best_validation_score_ + self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if score > self.best_validation_score_:
                    self.best_validation_score_ = float(score)
                    best_theta = net.theta.copy()
            elif stochastic:
                # the loss of one epoch is noisy (its own masks / noise): compare
                # the means of the last two windows of n_iter_no_change epochs
                k = self.n_iter_no_change
                curve = self.loss_curve_[self._window_start :]
                plateau = len(curve) >= 2 * k and (
                    np.mean(curve[-k:]) > np.mean(curve[-2 * k : -k]) - self.tol
                )
                self._no_improvement_count = k + 1 if plateau else 0
                self.best_loss_ = min(self.best_loss_, self.loss_)
            else:
                if self.loss_ > self.best_loss_ - self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                self.best_loss_ = min(self.best_loss_, self.loss_)
            if self.verbose:
                val_msg = (
                    f", validation score = {self.validation_scores_[-1]:.6f}"
                    if X_val is not None else ""
                )
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}{val_msg}, "
                      f"time = {time.perf_counter() - t0:.3f}s")
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if X_val is not None else "Training loss"
                if stochastic and X_val is None:
                    what = "Mean training loss"
                msg = (f"{what} did not improve more than tol={self.tol} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
                if not adam and lr_schedule == "adaptive" and state["lr"] > 1e-6:
                    state["lr"] /= 5.0
                    self._no_improvement_count = 0
                    self._window_start = len(self.loss_curve_)
                    if self.verbose:
                        print(f"{msg} Setting learning rate to {state['lr']:f}")
                else:
                    if self.verbose:
                        print(f"{msg} Stopping.")
                    stop = True
            if stop:
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Stochastic optimizer: maximum iterations ({self.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=5,  # past _train, _fit, fit and _fit_context
                )
        if best_theta is not None:
            net.theta[:] = best_theta

    # ------------------------------------------------------------------
    # prediction

    def _logits(self, X, rng=None):
        """Output logits; with ``rng``, a stochastic pass with dropout on."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr",
                          dtype=[np.float64, np.float32])
        return self._network_logits(X, rng)

    def _network_logits(self, X, rng=None):
        """:meth:`_logits` of a validated array (the validation split)."""
        dtype = self.coefs_[0].dtype
        A = _as_dtype(X, dtype)
        act = _kernels.ACTIVATION_CODES[self.activation]
        n_hidden = len(self.coefs_) - 1
        dropouts = self._dropouts(n_hidden) if rng is not None else [0.0] * n_hidden
        dummy = readonly_view(np.zeros((1, 1), np.uint16))
        thr_in, scale_in = _kernels.dropout_threshold(self.input_dropout)
        if rng is not None and thr_in > 0:
            A = A.toarray() if sp.issparse(A) else A.copy()
            U = _kernels.draw_mask(rng, np.empty(A.shape, np.uint16), thr_in)
            _kernels.dropout_inplace(A, readonly_view(U), thr_in, dtype.type(scale_in))
        for layer, (W, b) in enumerate(
            zip(self.coefs_[:-1], self.intercepts_[:-1], strict=True)
        ):
            # sparse @ dense is dense (C order from scipy; made sure of)
            Z = np.ascontiguousarray(A @ W) if sp.issparse(A) else np.matmul(A, W)
            thr, scale = _kernels.dropout_threshold(dropouts[layer])
            U = dummy
            if thr > 0:
                U = readonly_view(
                    _kernels.draw_mask(rng, np.empty(Z.shape, np.uint16), thr)
                )
            _kernels.bias_act_dropout(
                Z, readonly_view(b), act, U, thr, dtype.type(scale)
            )
            A = Z
        W = self.coefs_[-1]
        Z = np.ascontiguousarray(A @ W) if sp.issparse(A) else np.matmul(A, W)
        Z += self.intercepts_[-1]
        return Z

    def _log_proba_from_logits(self, Z):
        softmax = self.out_activation_ == "softmax"
        binary = not softmax and len(self.classes_) == 2 and Z.shape[1] == 1
        out = np.empty((Z.shape[0], 2 if binary else Z.shape[1]), dtype=Z.dtype)
        _kernels.log_proba(readonly_view(Z), softmax, binary, out)
        return out

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels (a label indicator matrix for multilabel y).
        """
        return self._labels(self._logits(X))

    def _labels(self, Z):
        """Predicted labels from the output logits."""
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(Z, axis=1)]
        if self._label_binarizer.y_type_.startswith("multilabel"):
            return self._label_binarizer.inverse_transform((Z > 0).astype(np.float64))
        return self.classes_[(Z[:, 0] > 0).astype(np.intp)]

    def predict_log_proba(self, X):
        """Log of the class probabilities, computed as a log-softmax (or
        log-sigmoid): finite where the probabilities underflow to 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return self._log_proba_from_logits(self._logits(X))

    def predict_proba(self, X):
        """Class probabilities (no dropout: the deterministic network).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        return np.exp(self.predict_log_proba(X))

    def predict_proba_mc(self, X, n_passes=50, random_state=None):
        """Monte-Carlo dropout: class probabilities over stochastic passes.

        Runs ``n_passes`` forward passes with the training-time dropout masks
        (``dropout`` and ``input_dropout``, freshly drawn for each pass; no
        noise or augmentation) and returns the mean and the standard deviation
        of the predicted probabilities (Gal and Ghahramani, 2016). The mean is
        an approximation of the predictive distribution, the standard
        deviation a measure of the model's uncertainty. With no dropout every
        pass is the deterministic network (standard deviation 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        n_passes : int, default=50
            Number of stochastic forward passes.

        random_state : int, RandomState instance or None, default=None
            Seeds the dropout masks.

        Returns
        -------
        mean : ndarray of shape (n_samples, n_classes)
            Mean of the class probabilities over the passes.

        std : ndarray of shape (n_samples, n_classes)
            Their standard deviation over the passes.
        """
        if not isinstance(n_passes, Integral) or n_passes < 1:
            raise ValueError(f"n_passes must be a positive integer, got {n_passes!r}.")
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        mean = m2 = None
        for k in range(1, n_passes + 1):  # Welford's running mean and variance
            P = np.exp(self._log_proba_from_logits(self._logits(X, rng)))
            P = P.astype(np.float64)
            if mean is None:
                mean, m2 = P, np.zeros_like(P)
                continue
            delta = P - mean
            mean += delta / k
            m2 += delta * (P - mean)
        return mean, np.sqrt(m2 / n_passes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags
