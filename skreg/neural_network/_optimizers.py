"""In-place optimizer steps on the flat parameter vector (Numba kernels).

All parameters of the network live in one flat, C-contiguous vector
``theta``: the weight matrices first (each C-ordered, ``(n_in, n_out)``),
then the biases. One call updates every parameter and, when ``max_norm > 0``,
then rescales each unit's incoming weight vector (a column of a weight
matrix) to norm at most ``max_norm``. ``w_offsets``, ``w_rows`` and
``w_cols`` (int64) locate the weight matrices in ``theta``.

The update rules are scikit-learn's ``AdamOptimizer`` and ``SGDOptimizer``.
"""

import math

import numpy as np

from skreg._numba import jit


@jit(error_model="numpy")
def apply_max_norm(theta, w_offsets, w_rows, w_cols, max_norm):
    """Rescale every column of every weight matrix to norm <= ``max_norm``."""
    for layer in range(w_offsets.shape[0]):
        off = w_offsets[layer]
        rows = w_rows[layer]
        cols = w_cols[layer]
        norms = np.zeros(cols)
        for r in range(rows):
            base = off + r * cols
            for c in range(cols):
                norms[c] += theta[base + c] * theta[base + c]
        for c in range(cols):
            nrm = math.sqrt(norms[c])
            norms[c] = max_norm / nrm if nrm > max_norm else 1.0
        for r in range(rows):
            base = off + r * cols
            for c in range(cols):
                if norms[c] != 1.0:
                    theta[base + c] *= norms[c]


@jit(error_model="numpy")
def adam_step(theta, grad, m, v, lr_t, beta_1, beta_2, epsilon,
              w_offsets, w_rows, w_cols, max_norm):
    """Adam: ``m, v`` moving moments; ``lr_t`` includes the bias correction.

    Pass the scalars in the dtype of ``theta`` so that float32 updates stay in
    float32 (and vectorize).
    """
    c1 = 1 - beta_1
    c2 = 1 - beta_2
    for i in range(theta.shape[0]):
        g = grad[i]
        mi = beta_1 * m[i] + c1 * g
        vi = beta_2 * v[i] + c2 * g * g
        m[i] = mi
        v[i] = vi
        theta[i] -= lr_t * mi / (np.sqrt(vi) + epsilon)
    if max_norm > 0.0:
        apply_max_norm(theta, w_offsets, w_rows, w_cols, max_norm)


@jit(error_model="numpy")
def sgd_step(theta, grad, velocity, lr, momentum, nesterov,
             w_offsets, w_rows, w_cols, max_norm):
    """SGD with (Nesterov) momentum, as scikit-learn's ``SGDOptimizer``."""
    for i in range(theta.shape[0]):
        g = grad[i]
        vel = momentum * velocity[i] - lr * g
        velocity[i] = vel
        if nesterov:
            theta[i] += momentum * vel - lr * g
        else:
            theta[i] += vel
    if max_norm > 0.0:
        apply_max_norm(theta, w_offsets, w_rows, w_cols, max_norm)
