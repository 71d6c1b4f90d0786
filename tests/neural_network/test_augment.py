"""Augmentation kernels against a NumPy reference; noise statistics."""

import numpy as np
import pytest

from skreg._numba import readonly_view
from skreg.neural_network import _augment as A


def _reference(img, dy, dx, flip):
    """Flip horizontally, then shift with zero fill (h, w, c image)."""
    if flip:
        img = img[:, ::-1]
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    rs, re = max(dy, 0), h + min(dy, 0)
    cs, ce = max(dx, 0), w + min(dx, 0)
    out[rs:re, cs:ce] = img[rs - dy : re - dy, cs - dx : ce - dx]
    return out


@pytest.mark.parametrize("shape", [(4, 5, 1), (3, 4, 2)])
def test_gather_shift_flip_matches_numpy(shape):
    rng = np.random.default_rng(0)
    h, w, c = shape
    n = 30
    X = rng.random((n, h * w * c))
    Y = rng.random((n, 2))
    sw = rng.random(n)
    idx = rng.permutation(n)[:18].astype(np.int64)
    shifts = np.column_stack([
        rng.integers(-1, 2, 18), rng.integers(-1, 2, 18), rng.integers(0, 2, 18)
    ]).astype(np.int64)
    Xb, Yb, swb = np.empty((18, X.shape[1])), np.empty((18, 2)), np.empty(18)
    total = A.gather_shift_flip(readonly_view(X), readonly_view(Y), readonly_view(sw),
                                readonly_view(idx), readonly_view(shifts), h, w, c,
                                Xb, Yb, swb)
    for i, r in enumerate(idx):
        expected = _reference(X[r].reshape(h, w, c), *shifts[i])
        np.testing.assert_array_equal(Xb[i].reshape(h, w, c), expected)
    np.testing.assert_array_equal(Yb, Y[idx])
    np.testing.assert_allclose(total, sw[idx].sum())


def test_no_shift_no_flip_is_a_gather():
    rng = np.random.default_rng(1)
    X = rng.random((5, 6))
    idx = np.array([3, 1], dtype=np.int64)
    Xb = np.empty((2, 6))
    A.gather_shift_flip(readonly_view(X), readonly_view(X[:, :1].copy()),
                        readonly_view(np.ones(5)), readonly_view(idx),
                        readonly_view(np.zeros((2, 3), np.int64)), 2, 3, 1,
                        Xb, np.empty((2, 1)), np.empty(2))
    np.testing.assert_array_equal(Xb, X[idx])


def test_add_noise_statistics():
    rng = np.random.default_rng(2)
    X = np.full((500, 40), 3.0)
    A.add_noise(X, readonly_view(rng.standard_normal(X.shape)), 0.25)
    n = X.size
    assert abs(X.mean() - 3.0) < 4 * 0.25 / np.sqrt(n)
    # sample standard deviation of a normal: se ~ sigma / sqrt(2 n)
    assert abs(X.std() - 0.25) < 4 * 0.25 / np.sqrt(2 * n)
