"""DropoutMLPClassifier: gradients (finite differences), parity with
scikit-learn's MLPClassifier, training semantics, API and bad input."""

import doctest
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_softmax
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from skreg._numba import readonly_view
from skreg.neural_network import DropoutMLPClassifier
from skreg.neural_network import _classifier as C
from skreg.neural_network import _kernels as K

ACTS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": expit,
}


@pytest.fixture(scope="module")
def data3():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    return X, y


def _quiet(**kw):
    return DropoutMLPClassifier(**kw)


def _fit_quiet(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


# ---------------------------------------------------------------------------
# gradient of the whole loss against finite differences (masks held fixed)

def _unpack(theta, sizes):
    """The documented layout: weight matrices (C order) first, then biases."""
    Ws, bs, o = [], [], 0
    for r, c in zip(sizes[:-1], sizes[1:], strict=True):
        Ws.append(theta[o : o + r * c].reshape(r, c))
        o += r * c
    for c in sizes[1:]:
        bs.append(theta[o : o + c])
        o += c
    return Ws, bs


def _reference_objective(theta, sizes, X, Y, sw, act, masks, softmax, alpha, l1):
    Ws, bs = _unpack(theta, sizes)
    A = X
    for W, b, (U, p) in zip(Ws[:-1], bs[:-1], masks, strict=True):
        A = ACTS[act](A @ W + b)
        if U is not None:
            A = A * (U >= K.dropout_threshold(p)[0]) * K.dropout_threshold(p)[1]
    Z = A @ Ws[-1] + bs[-1]
    if softmax:
        ce = -(Y * log_softmax(Z, axis=1)).sum(axis=1)
    else:  # log(1 + exp(z)) - y z, accurate where expit(z) rounds to 1
        ce = (np.logaddexp(0, Z) - Y * Z).sum(axis=1)
    w = np.concatenate([W.ravel() for W in Ws])
    return np.sum(sw * ce) / sw.sum() + 0.5 * alpha * w @ w + l1 * np.abs(w).sum()


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("alpha, l1", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.2), (0.1, 0.05)])
def test_gradient_matches_finite_differences(act, task, alpha, l1):
    rng = np.random.default_rng(hash((act, task, alpha, l1)) % 2**32)
    n, sizes_h, dropouts = 11, [5, 4], [0.3, 0.5]
    n_out = {"binary": 1, "multiclass": 3, "multilabel": 3}[task]
    sizes = [4, *sizes_h, n_out]
    X = rng.standard_normal((n, 4))
    if task == "multiclass":
        Y = np.eye(3)[rng.integers(0, 3, n)]
    else:
        Y = rng.integers(0, 2, (n, n_out)).astype(float)
    sw = rng.random(n) + 0.1
    sw[3] = 0.0
    softmax = task == "multiclass"
    theta = rng.standard_normal(C._layout(sizes)[-1])
    net = C._Net(theta, sizes)
    grad = C._Net(np.empty_like(theta), sizes)
    masks = [K.dropout_threshold(p) for p in dropouts]
    ws = C._Workspace(sizes, n, np.float64, masks, (0, 1.0), 0.0, ())
    bv = ws.views(n)
    for U, (thr, _) in zip(bv.U, masks, strict=True):
        K.draw_mask(rng, U, thr)
    bv.Xb[:], bv.Yb[:], bv.swb[:] = X, Y, sw
    penalty = (grad.theta[: net.n_weights], net.theta[: net.n_weights], alpha, l1)
    code = K.ACTIVATION_CODES[act]
    loss = C._loss_grad(net, grad, bv, code, masks, 1.0 / sw.sum(), softmax,
                        penalty, None)

    ref_masks = [(U.copy(), p) for U, p in zip(bv.U, dropouts, strict=True)]
    args = (sizes, X, Y, sw, act, ref_masks, softmax, alpha, l1)
    J = _reference_objective(theta.copy(), *args)
    w = theta[: net.n_weights]
    np.testing.assert_allclose(
        loss / sw.sum() + 0.5 * alpha * w @ w + l1 * np.abs(w).sum(), J, rtol=1e-12)
    eps = 1e-6
    fd = np.empty_like(theta)
    for i in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[i] += eps
        tm[i] -= eps
        fd[i] = (_reference_objective(tp, *args) - _reference_objective(tm, *args)) / (
            2 * eps)
    np.testing.assert_allclose(grad.theta, fd, rtol=1e-5, atol=1e-7)
    # some units were really dropped, so the masks took part
    assert any((U < thr).any() for U, (thr, _) in zip(bv.U, masks, strict=True))


# ---------------------------------------------------------------------------
# parity with scikit-learn's MLPClassifier (no dropout, full batch)

@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("act", ["relu", "tanh", "logistic"])
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_matches_sklearn_mlp_full_batch(solver, act, task, data3):
    X, y = data3
    if task == "binary":
        y = y % 2
    elif task == "multilabel":
        X, y = make_multilabel_classification(n_samples=80, n_features=6,
                                              n_classes=3, random_state=0)
        X = X / X.max()
    sw = np.random.default_rng(0).integers(0, 4, len(y)).astype(float)
    if task == "multilabel":
        sw = None  # MLPClassifier supports it, but keep one plain case
    common = dict(hidden_layer_sizes=(7, 5), activation=act, solver=solver,
                  alpha=0.05, batch_size=len(y), shuffle=False, tol=0.0,
                  n_iter_no_change=100, learning_rate_init=0.01, momentum=0.8,
                  random_state=0, warm_start=True, max_iter=1)
    ref = _fit_quiet(MLPClassifier(**common), X, y, sample_weight=sw)
    ours = _fit_quiet(DropoutMLPClassifier(dropout=0.0, **common), X, y,
                      sample_weight=sw)
    ours.coefs_ = [W.copy() for W in ref.coefs_]
    ours.intercepts_ = [b.copy() for b in ref.intercepts_]
    ref.set_params(max_iter=8)
    ours.set_params(max_iter=8)
    _fit_quiet(ref, X, y, sample_weight=sw)
    _fit_quiet(ours, X, y, sample_weight=sw)
    assert ours.n_iter_ == ref.n_iter_ == 8
    for a, b in zip(ours.coefs_ + ours.intercepts_, ref.coefs_ + ref.intercepts_,
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.out_activation_ == ref.out_activation_
    assert ours.n_outputs_ == ref.n_outputs_
    assert ours.n_layers_ == ref.n_layers_
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


def test_initialization_follows_glorot_bounds(data3):
    X, y = data3
    clf = DropoutMLPClassifier(hidden_layer_sizes=(50,), max_iter=1,
                               learning_rate_init=1e-12, random_state=0)
    _fit_quiet(clf, X, y)
    W = clf.coefs_[0]
    bound = np.sqrt(6 / (6 + 50))
    assert np.abs(W).max() <= bound * (1 + 1e-6)
    # uniform on [-bound, bound]: variance bound**2 / 3
    assert abs(W.var() - bound**2 / 3) < 4 * bound**2 * np.sqrt(4 / 45 / W.size)


# ---------------------------------------------------------------------------
# training semantics

def test_same_random_state_same_model(data3):
    X, y = data3
    kw = dict(hidden_layer_sizes=(8, 6), dropout=(0.3, 0.2), input_dropout=0.1,
              input_noise=0.1, max_iter=5, batch_size=16)
    a = _fit_quiet(DropoutMLPClassifier(random_state=3, **kw), X, y)
    b = _fit_quiet(DropoutMLPClassifier(random_state=3, **kw), X, y)
    c = _fit_quiet(DropoutMLPClassifier(random_state=4, **kw), X, y)
    for wa, wb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype, data3):
    X, y = data3
    clf = _fit_quiet(DropoutMLPClassifier(max_iter=3, random_state=0),
                     X.astype(dtype), y)
    assert all(W.dtype == dtype for W in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X.astype(dtype)).dtype == dtype
    # float64 data on a float32 model is cast, not refused
    assert clf.predict(X).shape == y.shape


def test_float32_training_tracks_float64(data3):
    X, y = data3
    kw = dict(hidden_layer_sizes=(10,), dropout=0.2, max_iter=20, random_state=0)
    a = _fit_quiet(DropoutMLPClassifier(**kw), X.astype(np.float32), y)
    b = _fit_quiet(DropoutMLPClassifier(**kw), X, y)
    # same draws, same algorithm: only rounding separates the two
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=2e-3)


def test_prediction_is_deterministic_and_without_dropout(data3):
    X, y = data3
    clf = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(9,), dropout=0.5,
                                          max_iter=5, random_state=0), X, y)
    P1, P2 = clf.predict_proba(X), clf.predict_proba(X)
    np.testing.assert_array_equal(P1, P2)
    # reference forward pass with the full network, no rescaling
    H = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)
    Z = H @ clf.coefs_[1] + clf.intercepts_[1]
    np.testing.assert_allclose(clf.predict_log_proba(X), log_softmax(Z, axis=1),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(P1.sum(axis=1), 1.0)


def test_predict_log_proba_finite_where_proba_underflows(data3):
    X, y = data3
    clf = _fit_quiet(DropoutMLPClassifier(max_iter=2, random_state=0), X, y)
    clf.intercepts_[-1][:] = [0.0, 900.0, -900.0]
    P = clf.predict_proba(X)
    assert np.any(P == 0)
    L = clf.predict_log_proba(X)
    assert np.all(np.isfinite(L))
    H = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)
    Z = H @ clf.coefs_[1] + clf.intercepts_[1]
    np.testing.assert_allclose(L, log_softmax(Z, axis=1), rtol=1e-12)


def test_monte_carlo_dropout(data3):
    X, y = data3
    clf = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(30,), dropout=0.5,
                                          max_iter=20, random_state=0), X, y)
    mean, std = clf.predict_proba_mc(X, n_passes=200, random_state=0)
    mean2, std2 = clf.predict_proba_mc(X, n_passes=200, random_state=0)
    np.testing.assert_array_equal(mean, mean2)
    np.testing.assert_array_equal(std, std2)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0)
    assert np.all(std > 0)
    # the spread is that of single stochastic passes: check against a direct
    # NumPy simulation of the same distribution (independent masks)
    rng = np.random.default_rng(1)
    sims = []
    for _ in range(400):
        H = np.maximum(X @ clf.coefs_[0] + clf.intercepts_[0], 0)
        H = H * (rng.random(H.shape) >= 0.5) * 2.0
        sims.append(np.exp(log_softmax(H @ clf.coefs_[1] + clf.intercepts_[1],
                                       axis=1)))
    sims = np.array(sims)
    se = sims.std(axis=0) / np.sqrt(200)
    assert np.mean(np.abs(mean - sims.mean(axis=0)) < 5 * se + 1e-3) > 0.99
    no_dropout = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(30,),
                                                 dropout=0.0, max_iter=5,
                                                 random_state=0), X, y)
    mean0, std0 = no_dropout.predict_proba_mc(X, n_passes=3)
    np.testing.assert_allclose(mean0, no_dropout.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal(std0, 0.0)


def test_partial_fit_continues_optimizer_state(data3):
    X, y = data3
    kw = dict(hidden_layer_sizes=(8,), dropout=0.3, batch_size=32, random_state=0)
    a = DropoutMLPClassifier(**kw)
    a.partial_fit(X, y, classes=np.unique(y))
    a.partial_fit(X, y)
    # two partial_fit calls are two epochs of one fit: same draws, same
    # optimizer state (Adam's moments and step count carried over)
    b = DropoutMLPClassifier(max_iter=2, tol=0.0, **kw)
    _fit_quiet(b, X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-14)
    assert a.n_iter_ == 2 and a.t_ == 2 * len(y)
    assert a._optimizer_state["t"] == 2 * int(np.ceil(len(y) / 32))
    # restarting the optimizer (fit with warm_start) gives a different model
    c = DropoutMLPClassifier(max_iter=1, warm_start=True, **kw)
    _fit_quiet(c, X, y)
    c._rng = a._rng  # not the point here: isolate the optimizer state
    assert not np.allclose(_fit_quiet(c, X, y).coefs_[0], a.coefs_[0])


def test_warm_start(data3):
    X, y = data3
    clf = DropoutMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                               warm_start=True)
    _fit_quiet(clf, X, y)
    before = [W.copy() for W in clf.coefs_]
    clf.set_params(learning_rate_init=1e-12, max_iter=2)
    _fit_quiet(clf, X, y)
    for W, B in zip(clf.coefs_, before, strict=True):
        np.testing.assert_allclose(W, B, atol=1e-9)
    # as MLPClassifier: n_iter_ counts this fit, loss_curve_ goes on
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 7
    # without warm_start a refit starts again from the initialization
    clf.set_params(warm_start=False, learning_rate_init=1e-3, max_iter=5)
    fresh = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                            random_state=0), X, y)
    _fit_quiet(clf, X, y)
    np.testing.assert_array_equal(clf.coefs_[0], fresh.coefs_[0])
    with pytest.raises(ValueError, match="same classes|not in"):
        clf.set_params(warm_start=True)
        clf.fit(X, np.where(y == 2, 7, y))


def test_early_stopping_restores_best_weights():
    X, y = load_digits(return_X_y=True)
    X = X[:500] / 16
    y = y[:500]
    kw = dict(hidden_layer_sizes=(20,), early_stopping=True, validation_fraction=0.3,
              learning_rate_init=0.05, random_state=0)
    a = DropoutMLPClassifier(n_iter_no_change=4, max_iter=100, **kw).fit(X, y)
    scores = a.validation_scores_
    best = int(np.argmax(scores))
    assert best < len(scores) - 1, "the last epoch was the best: test is vacuous"
    assert a.best_validation_score_ == max(scores)
    assert a.best_loss_ is None
    # the same fit stopped right at the best epoch: identical draws so far
    b = _fit_quiet(DropoutMLPClassifier(n_iter_no_change=100, max_iter=best + 1,
                                        **kw), X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.loss_curve_, b.loss_curve_)


def test_continue_without_early_stopping(data3):
    X, y = data3
    clf = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(8,), max_iter=3,
                                          early_stopping=True, n_iter_no_change=50,
                                          random_state=0), X, y)
    assert clf.best_loss_ is None and len(clf.validation_scores_) == 3
    clf.set_params(early_stopping=False, warm_start=True)
    _fit_quiet(clf, X, y)
    assert clf.best_loss_ == min(clf.loss_curve_[3:])
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == 7


def test_stops_on_training_loss(data3):
    X, y = data3
    clf = DropoutMLPClassifier(hidden_layer_sizes=(10,), dropout=0.0, tol=1.0,
                               n_iter_no_change=3, random_state=0).fit(X, y)
    # epoch 1 improves on inf; epochs 2-5 do not improve by tol=1: the count
    # exceeds n_iter_no_change=3 after epoch 5
    assert clf.n_iter_ == 5
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_stochastic_training_stops_on_windowed_mean_loss(data3):
    """With dropout the epoch loss is noisy: the rule compares the means of
    the last two windows of n_iter_no_change epochs (needs 2 k epochs)."""
    X, y = data3
    clf = DropoutMLPClassifier(hidden_layer_sizes=(10,), dropout=0.3, tol=1.0,
                               n_iter_no_change=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 6
    curve = clf.loss_curve_
    assert np.mean(curve[-3:]) > np.mean(curve[:3]) - 1.0
    # with a small tol it goes on while the window mean decreases
    clf = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(10,), dropout=0.3,
                                          tol=1e-4, n_iter_no_change=3,
                                          max_iter=40, random_state=0), X, y)
    curve = clf.loss_curve_
    for e in range(6, clf.n_iter_):
        assert np.mean(curve[e - 3 : e]) <= np.mean(curve[e - 6 : e - 3]) - 1e-4


def test_max_norm_holds_after_every_epoch(data3):
    X, y = data3
    clf = DropoutMLPClassifier(hidden_layer_sizes=(12, 6), max_norm=0.5,
                               learning_rate_init=0.05, batch_size=10, random_state=0)
    for _ in range(5):
        clf.partial_fit(X * 10, y, classes=np.unique(y))
        for W in clf.coefs_:
            assert np.linalg.norm(W, axis=0).max() <= 0.5 * (1 + 1e-6)
    free = DropoutMLPClassifier(hidden_layer_sizes=(12, 6), learning_rate_init=0.05,
                                batch_size=10, random_state=0)
    for _ in range(5):
        free.partial_fit(X * 10, y, classes=np.unique(y))
    assert max(np.linalg.norm(W, axis=0).max() for W in free.coefs_) > 0.5


def test_class_weight_is_a_sample_weight(data3):
    X, y = data3
    kw = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    cw = {0: 2.0, 1: 0.5, 2: 1.0}
    a = _fit_quiet(DropoutMLPClassifier(class_weight=cw, **kw), X, y,
                   sample_weight=np.full(len(y), 3.0))
    b = _fit_quiet(DropoutMLPClassifier(**kw), X, y,
                   sample_weight=3.0 * np.array([cw[v] for v in y]))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)
    bal = compute_class_weight("balanced", classes=np.unique(y[:90]), y=y[:90])
    c = _fit_quiet(DropoutMLPClassifier(class_weight="balanced", **kw), X[:90], y[:90])
    d = _fit_quiet(DropoutMLPClassifier(**kw), X[:90], y[:90],
                   sample_weight=bal[y[:90]])
    np.testing.assert_allclose(c.coefs_[0], d.coefs_[0], rtol=1e-12)


def test_zero_weight_batches_are_skipped(data3):
    X, y = data3
    sw = np.ones(len(y))
    sw[:60] = 0.0
    kw = dict(hidden_layer_sizes=(6,), dropout=0.0, batch_size=30, shuffle=False,
              random_state=0)
    a = DropoutMLPClassifier(**kw).partial_fit(X, y, classes=[0, 1, 2],
                                               sample_weight=sw)
    b = DropoutMLPClassifier(**kw).partial_fit(X[60:], y[60:], classes=[0, 1, 2])
    assert np.all(np.isfinite(a.coefs_[0]))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)
    np.testing.assert_allclose(a.loss_, b.loss_, rtol=1e-12)
    assert a._optimizer_state["t"] == 2


def test_l1_gives_small_weights_and_l2_shrinks(data3):
    X, y = data3
    kw = dict(hidden_layer_sizes=(10,), dropout=0.0, max_iter=150,
              learning_rate_init=0.05, random_state=0)
    plain = _fit_quiet(DropoutMLPClassifier(alpha=0.0, **kw), X, y)
    l2 = _fit_quiet(DropoutMLPClassifier(alpha=50.0, **kw), X, y)
    l1 = _fit_quiet(DropoutMLPClassifier(alpha=0.0, l1=5.0, **kw), X, y)
    norm = lambda m: sum(np.sum(W**2) for W in m.coefs_)  # noqa: E731
    assert norm(l2) < 0.5 * norm(plain)
    assert np.mean(np.abs(l1.coefs_[0]) < 1e-2) > np.mean(
        np.abs(plain.coefs_[0]) < 1e-2)


def test_augmentation_and_noise_do_not_touch_inputs():
    X, y = load_digits(return_X_y=True)
    X = np.ascontiguousarray(X[:300] / 16, dtype=np.float32)
    y = y[:300]
    X0, y0 = X.copy(), y.copy()
    sw = np.ones(300)
    clf = DropoutMLPClassifier(hidden_layer_sizes=(20,), input_dropout=0.2,
                               input_noise=0.1, augment=("shift", "flip"),
                               image_shape=(8, 8), max_iter=30,
                               learning_rate_init=0.01, random_state=0)
    _fit_quiet(clf, X, y, sample_weight=sw)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sw, 1.0)
    assert clf.score(X, y) > 0.3


def test_multilabel():
    X, Y = make_multilabel_classification(n_samples=150, n_features=8, n_classes=4,
                                          random_state=0)
    clf = _fit_quiet(DropoutMLPClassifier(hidden_layer_sizes=(20,), dropout=0.2,
                                          max_iter=50, random_state=0), X / X.max(), Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    P = clf.predict_proba(X / X.max())
    assert P.shape == (150, 4)
    np.testing.assert_array_equal(clf.predict(X / X.max()), (P > 0.5).astype(int))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X / X.max())), P,
                               rtol=1e-10)


def test_binary_problem(data3):
    X, y = data3
    labels = np.array(["no", "yes"])[y % 2]
    clf = _fit_quiet(DropoutMLPClassifier(max_iter=20, random_state=0), X, labels)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    P = clf.predict_proba(X)
    assert P.shape == (len(y), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[P.argmax(axis=1)])


def test_verbose_prints_one_line_per_epoch(data3, capsys):
    X, y = data3
    _fit_quiet(DropoutMLPClassifier(max_iter=3, verbose=True, random_state=0,
                                    early_stopping=True, n_iter_no_change=50), X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Iter")]
    assert len(lines) == 3
    assert "loss = " in lines[0] and "validation score = " in lines[0]
    assert "time = " in lines[0]


# ---------------------------------------------------------------------------
# API: pipeline, grid search, pickle, pandas, docstring example

def test_pipeline_grid_search_pickle(data3):
    X, y = data3
    pipe = make_pipeline(StandardScaler(), DropoutMLPClassifier(
        hidden_layer_sizes=(10,), max_iter=30, learning_rate_init=0.02,
        random_state=0))
    grid = GridSearchCV(pipe, {"dropoutmlpclassifier__dropout": [0.0, 0.3],
                               "dropoutmlpclassifier__alpha": [1e-4, 1.0]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.5
    clone = pickle.loads(pickle.dumps(grid.best_estimator_))
    np.testing.assert_array_equal(clone.predict_proba(X),
                                  grid.best_estimator_.predict_proba(X))
    # the unpickled model can keep training
    clone[-1].partial_fit(clone[0].transform(X), y)


def test_pandas_input(data3):
    pd = pytest.importorskip("pandas")
    X, y = data3
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = _fit_quiet(DropoutMLPClassifier(max_iter=5, random_state=0), df,
                     pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        from_array = clf.predict(X)
    np.testing.assert_array_equal(clf.predict(df), from_array)
    # early stopping scores its validation split internally: no warning
    # about feature names in every epoch
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        DropoutMLPClassifier(max_iter=3, early_stopping=True, random_state=0).fit(
            df, pd.Series(y)
        )


# ---------------------------------------------------------------------------
# sparse X: kept sparse, each batch expanded to dense rows


def _sparse_digits():
    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16.0  # about half of the pixels are 0
    return X, y[:400]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "csr_array"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dropout": 0.0, "solver": "sgd"},
        {"input_dropout": 0.2, "max_norm": 2.0},
        {"input_noise": 0.1},
        {"augment": ("shift", "flip"), "image_shape": (8, 8)},
        {"early_stopping": True, "validation_fraction": 0.2},
        {"dtype": np.float32},
    ],
    ids=lambda o: "-".join(o) or "defaults",
)
def test_sparse_input_fits_the_same_model(fmt, options):
    X, y = _sparse_digits()
    options = dict(options)
    dtype = options.pop("dtype", np.float64)
    X = X.astype(dtype)
    Xs = (sp.csr_array(X) if fmt == "csr_array" else sp.csr_matrix(X)).asformat(
        fmt.removesuffix("_array"))
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    kw = dict(hidden_layer_sizes=(20,), max_iter=4, batch_size=64, random_state=0,
              **options)
    dense = _fit_quiet(DropoutMLPClassifier(**kw), X, y, sample_weight=sw)
    sparse = _fit_quiet(DropoutMLPClassifier(**kw), Xs, y, sample_weight=sw)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    perturbed = any(k in options for k in ("input_dropout", "input_noise", "augment"))
    for a, b in zip(sparse.coefs_ + sparse.intercepts_,
                    dense.coefs_ + dense.intercepts_, strict=True):
        assert a.dtype == dtype
        if perturbed:
            # the batches are the dense rows bit for bit, so is the training
            np.testing.assert_array_equal(a, b)
        else:
            # the first layer multiplies the sparse rows: another rounding
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=rtol)
    assert sparse.validation_scores_ == dense.validation_scores_
    np.testing.assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(X),
                               rtol=rtol, atol=rtol * 1e-3)
    assert sparse.predict_proba(Xs).dtype == dtype
    np.testing.assert_array_equal(sparse.predict(Xs), dense.predict(X))
    assert sparse.score(Xs, y) == dense.score(X, y)


def test_sparse_partial_fit_monte_carlo_and_caller_data():
    X, y = _sparse_digits()
    Xs = sp.csr_matrix(X)
    Xs.indices = Xs.indices.astype(np.int64)  # converted for the kernel, not here
    Xs.indptr = Xs.indptr.astype(np.int64)
    before = (Xs.data.copy(), Xs.indices.copy(), Xs.indptr.copy())
    kw = dict(hidden_layer_sizes=(16,), input_dropout=0.1, random_state=0)
    dense, sparse = DropoutMLPClassifier(**kw), DropoutMLPClassifier(**kw)
    classes = np.unique(y)
    for chunk in (slice(0, 200), slice(200, 400)):
        dense.partial_fit(X[chunk], y[chunk], classes=classes)
        sparse.partial_fit(Xs[chunk], y[chunk], classes=classes)
    for a, b in zip(sparse.coefs_, dense.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    # Monte-Carlo dropout (input dropout on): the same masks, the same passes
    mean_s, std_s = sparse.predict_proba_mc(Xs[:7], n_passes=6, random_state=3)
    mean_d, std_d = dense.predict_proba_mc(X[:7], n_passes=6, random_state=3)
    np.testing.assert_allclose(mean_s, mean_d, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(std_s, std_d, rtol=1e-10, atol=1e-15)
    assert std_s.max() > 0
    for after, was in zip((Xs.data, Xs.indices, Xs.indptr), before, strict=True):
        np.testing.assert_array_equal(after, was)
        assert after.dtype == was.dtype


@pytest.mark.parametrize("hidden", [(6, 5), ()])
def test_sparse_batch_gradient_is_the_dense_one(hidden, data3):
    # the gradient of the dense batch is checked against finite differences
    # above; the sparse first-layer products must give the same
    X, y = data3
    X = X * (X > 0.3)
    Xs = sp.csr_matrix(X)
    Y = np.eye(3)[y]
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    sizes = [X.shape[1], *hidden, 3]
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(C._layout(sizes)[-1]) * 0.5
    net = C._Net(theta, sizes)
    idx = np.array([5, 0, 17, 17, 42, 99, 3], dtype=np.int64)
    masks = [(0, 1.0)] * len(hidden)
    grads = []
    for sparse in (False, True):
        ws = C._Workspace(sizes, len(idx), np.float64, masks, (0, 1.0), 0.0, False)
        bv = ws.views(len(idx))
        bv.Yb[...], bv.swb[...] = Y[idx], sw[idx]
        bv.Xb[...] = 0.0 if sparse else X[idx]  # unused with the sparse rows
        batch = (Xs.data, Xs.indices, Xs.indptr, idx) if sparse else None
        grad = C._Net(np.empty_like(theta), sizes)
        loss = C._loss_grad(net, grad, bv, K.ACTIVATION_CODES["relu"], masks,
                            1.0 / sw[idx].sum(), True, None, None,
                            tuple(readonly_view(a) for a in batch) if batch else None)
        grads.append((loss, grad.theta.copy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-13)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-12, atol=1e-14)


def test_sparse_nan_is_rejected():
    X, y = _sparse_digits()
    Xs = sp.csr_matrix(X)
    Xs.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DropoutMLPClassifier(max_iter=1).fit(Xs, y)


def test_early_stopping_split_without_weight(data3):
    X, y = data3
    clf = DropoutMLPClassifier(max_iter=3, early_stopping=True, random_state=0)
    # the weight on one sample only: one of the two parts has none of it
    for k in range(4):
        sw = np.zeros(len(y))
        sw[k] = 1.0
        with pytest.raises(ValueError, match="part of the early-stopping split "
                           "has zero total sample weight"):  # fmt: skip
            clf.fit(X, y, sample_weight=sw)


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(C.DropoutMLPClassifier, "DropoutMLPClassifier",
                            globs={}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


# ---------------------------------------------------------------------------
# bad input

@pytest.mark.parametrize(
    "params, message",
    [
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(dropout=[0.2, 1.0], hidden_layer_sizes=(3, 3)), "dropout must be in"),
        (dict(dropout=[0.2, 0.1]), "dropout has 2 values but there are 1"),
        (dict(input_dropout=1.0), "input_dropout"),
        (dict(hidden_layer_sizes=(5, 0)), "a hidden layer of size 0 has no units"),
        (dict(hidden_layer_sizes=0), "hidden_layer_sizes.*range \\[1, inf\\)"),
        (dict(hidden_layer_sizes=(5.0,)), "an entry of type float"),
        (dict(activation="softplus"), "activation"),
        (dict(solver="lbfgs"), "solver"),
        (dict(augment="shift"), "requires image_shape"),
        (dict(augment="rotate", image_shape=(2, 3)), "augment"),
        (dict(image_shape=(2, 2)), r"image_shape=\(2, 2\) has 4 pixels but X has 6"),
        (dict(image_shape=(2, 0, 3)), "image_shape must be"),
        (dict(max_norm=0.0), "max_norm"),
        (dict(alpha=-1.0), "alpha"),
        (dict(l1=-1.0), "l1"),
        (dict(class_weight="auto"), "class_weight"),
    ],
)
def test_bad_parameters(params, message, data3):
    X, y = data3
    with pytest.raises(ValueError, match=message):
        DropoutMLPClassifier(**params).fit(X, y)


def test_bad_data(data3):
    X, y = data3
    clf = DropoutMLPClassifier(max_iter=2)
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xnan, y)
    Xinf = X.copy()
    Xinf[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clf.fit(Xinf, y)
    with pytest.raises(ValueError, match="at least 2 classes.*only one class"):
        clf.fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="non-zero"):
        clf.fit(X, y, sample_weight=np.zeros(len(y)))


def test_bad_partial_fit(data3):
    X, y = data3
    with pytest.raises(ValueError, match="classes must be passed"):
        DropoutMLPClassifier().partial_fit(X, y)
    # labels outside `classes` on the first call: an error, and nothing fitted
    fresh = DropoutMLPClassifier()
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in classes"):
        fresh.partial_fit(X, np.where(y == 2, 5, y), classes=[0, 1, 2])
    assert not hasattr(fresh, "classes_")
    with pytest.raises(ValueError, match=r"labels \['1'\] that are not in classes"):
        fresh.partial_fit(X, y.astype(str), classes=["0", "2"])
    clf = DropoutMLPClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[5\] that are not in classes"):
        clf.partial_fit(X, np.where(y == 2, 5, y))
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 3\] is not the same"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    clf.partial_fit(X, y, classes=[2, 0, 1])  # the same classes, in any order
    with pytest.raises(ValueError, match="X has 5 features"):
        clf.partial_fit(X[:, :5], y)
    with pytest.raises(ValueError, match="early_stopping"):
        DropoutMLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="balanced"):
        DropoutMLPClassifier(class_weight="balanced").partial_fit(
            X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="n_passes"):
        clf.predict_proba_mc(X, n_passes=0)
