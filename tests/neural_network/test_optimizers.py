"""The in-place optimizer kernels against scikit-learn's optimizers."""

import numpy as np
import pytest
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from skreg.neural_network import _optimizers as O
from skreg.neural_network._classifier import _Net

SIZES = [5, 4, 3]


def _flat(rng):
    theta = rng.standard_normal(5 * 4 + 4 * 3 + 4 + 3)
    return theta, _Net(theta, SIZES)


def _no_max_norm(net):
    return net.w_offsets, net.w_rows, net.w_cols, 0.0


def test_adam_matches_sklearn():
    rng = np.random.default_rng(0)
    theta, net = _flat(rng)
    ref_params = [p.copy() for p in net.coefs + net.intercepts]
    ref = AdamOptimizer(ref_params, learning_rate_init=0.01)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    grad = np.empty_like(theta)
    gnet = _Net(grad, SIZES)
    for t in range(1, 6):
        grad[:] = rng.standard_normal(theta.size)
        ref.update_params(ref_params, [g.copy() for g in gnet.coefs + gnet.intercepts])
        lr_t = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        O.adam_step(theta, grad, m, v, net.n_weights, 0.0, 0.0, lr_t, 0.9, 0.999, 1e-8,
                    *_no_max_norm(net))
        for mine, theirs in zip(net.coefs + net.intercepts, ref_params, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_matches_sklearn(nesterov):
    rng = np.random.default_rng(1)
    theta, net = _flat(rng)
    ref_params = [p.copy() for p in net.coefs + net.intercepts]
    ref = SGDOptimizer(ref_params, learning_rate_init=0.05, momentum=0.8,
                       nesterov=nesterov)
    velocity = np.zeros_like(theta)
    grad = np.empty_like(theta)
    gnet = _Net(grad, SIZES)
    for _ in range(5):
        grad[:] = rng.standard_normal(theta.size)
        ref.update_params(ref_params, [g.copy() for g in gnet.coefs + gnet.intercepts])
        O.sgd_step(theta, grad, velocity, net.n_weights, 0.0, 0.0, 0.05, 0.8, nesterov,
                   *_no_max_norm(net))
        for mine, theirs in zip(net.coefs + net.intercepts, ref_params, strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_max_norm_holds_after_every_update(solver):
    rng = np.random.default_rng(2)
    theta, net = _flat(rng)
    theta *= 3
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    c = 1.5
    for _ in range(10):
        grad = rng.standard_normal(theta.size) * 5
        biases = theta[net.n_weights:].copy()
        if solver == "adam":
            O.adam_step(theta, grad, m, v, net.n_weights, 0.0, 0.0, 0.1, 0.9, 0.999,
                        1e-8,
                        net.w_offsets, net.w_rows, net.w_cols, c)
        else:
            O.sgd_step(theta, grad, m, net.n_weights, 0.0, 0.0, 0.1, 0.9, True,
                       net.w_offsets, net.w_rows, net.w_cols, c)
        for W in net.coefs:
            assert np.all(np.linalg.norm(W, axis=0) <= c * (1 + 1e-12))
        # the biases moved (they are updated) but are never clipped
        assert not np.allclose(theta[net.n_weights:], biases)


def test_max_norm_is_a_column_projection():
    rng = np.random.default_rng(3)
    theta, net = _flat(rng)
    theta *= 2
    expected = [W / np.maximum(1.0, np.linalg.norm(W, axis=0) / 1.2)
                for W in net.coefs]
    biases = [b.copy() for b in net.intercepts]
    O.apply_max_norm(theta, net.w_offsets, net.w_rows, net.w_cols, 1.2)
    for W, E in zip(net.coefs, expected, strict=True):
        np.testing.assert_allclose(W, E, rtol=1e-12)
    for b, e in zip(net.intercepts, biases, strict=True):
        np.testing.assert_array_equal(b, e)


@pytest.mark.parametrize("l1", [0.05, 0.0])  # the kernels branch on l1 == 0
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fused_penalty_equals_penalized_gradient(solver, l1):
    """The penalty added inside the step equals a step on the gradient plus
    alpha * w + l1 * sign(w) on the weights (biases unpenalized)."""
    rng = np.random.default_rng(4)
    theta, net = _flat(rng)
    grad = rng.standard_normal(theta.size)
    alpha = 0.3
    penalized = grad.copy()
    w = theta[: net.n_weights]
    penalized[: net.n_weights] += alpha * w + l1 * np.sign(w)
    a, b = theta.copy(), theta.copy()
    sa = [np.zeros_like(theta), np.zeros_like(theta)]
    sb = [np.zeros_like(theta), np.zeros_like(theta)]
    for _ in range(3):
        if solver == "adam":
            O.adam_step(a, grad, *sa, net.n_weights, alpha, l1, 0.01, 0.9, 0.999,
                        1e-8, *_no_max_norm(net))
            O.adam_step(b, penalized, *sb, net.n_weights, 0.0, 0.0, 0.01, 0.9,
                        0.999, 1e-8, *_no_max_norm(net))
        else:
            O.sgd_step(a, grad, sa[0], net.n_weights, alpha, l1, 0.01, 0.9, True,
                       *_no_max_norm(net))
            O.sgd_step(b, penalized, sb[0], net.n_weights, 0.0, 0.0, 0.01, 0.9,
                       True, *_no_max_norm(net))
        penalized[: net.n_weights] = grad[: net.n_weights] + alpha * b[
            : net.n_weights] + l1 * np.sign(b[: net.n_weights])
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
