"""Tests of the forward / backward / loss kernels against NumPy / SciPy
references and dropout statistics."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_softmax, xlogy

from skreg._numba import readonly_view
from skreg.neural_network import _kernels as K

ACTS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": expit,
}


def _mask(rng, shape, p):
    thr, scale = K.dropout_threshold(p)
    U = K.draw_mask(rng, np.empty(shape, np.uint16), thr)
    return U, thr, scale


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("p", [0.0, 0.3])
def test_bias_act_dropout_matches_numpy(dtype, act, p):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((7, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    U, thr, scale = _mask(rng, Z.shape, p)
    expected = ACTS[act](Z.astype(np.float64) + b) * (U >= thr) * scale
    out = Z.copy()
    K.bias_act_dropout(out, readonly_view(b), K.ACTIVATION_CODES[act],
                       readonly_view(U), thr, dtype(scale))
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("p", [0.0, 0.4])
def test_act_derivative_matches_finite_differences(act, p):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((6, 4))
    Z[np.abs(Z) < 1e-3] = 0.5  # stay away from the relu kink
    b = np.zeros(4)
    G = rng.standard_normal((6, 4))
    U, thr, scale = _mask(rng, Z.shape, p)
    code = K.ACTIVATION_CODES[act]

    def forward(z):
        out = z.copy()
        K.bias_act_dropout(out, readonly_view(b), code, readonly_view(U), thr, scale)
        return out

    A = forward(Z)
    eps = 1e-6
    fd = (forward(Z + eps) - forward(Z - eps)) / (2 * eps)  # elementwise map
    D = G.copy()
    grad_b = np.empty(4)
    K.act_derivative(D, readonly_view(A), code, readonly_view(U), thr, scale, grad_b)
    np.testing.assert_allclose(D, G * fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad_b, D.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_fraction_and_expectation(p):
    """The dropped fraction is within 4 standard deviations of p, and the
    expected value of a unit is unchanged by inverted dropout."""
    rng = np.random.default_rng(2)
    n, k = 400, 250
    Z = np.full((n, k), 0.7)
    U, thr, scale = _mask(rng, Z.shape, p)
    K.bias_act_dropout(Z, readonly_view(np.zeros(k)), K.IDENTITY,
                       readonly_view(U), thr, scale)
    dropped = np.mean(Z == 0)
    sd = np.sqrt(p * (1 - p) / Z.size)
    assert abs(dropped - p) < 4 * sd
    # E[mask * scale * x] = x: the mean of the outputs estimates 0.7
    sd_mean = 0.7 * scale * np.sqrt(p * (1 - p) / Z.size)
    assert abs(Z.mean() - 0.7) < 4 * sd_mean
    # kept units are exactly x / (1 - p) (p is rounded to 2**-16 at most)
    np.testing.assert_allclose(Z[Z != 0], 0.7 / (1 - p), rtol=1e-4)


def test_pre_activation_expectation_unchanged():
    """Inverted dropout leaves E[H_dropped @ W] equal to H @ W."""
    rng = np.random.default_rng(3)
    H = rng.random((1, 50))
    W = rng.standard_normal((50, 3))
    n_draws = 20000
    Hrep = np.repeat(H, n_draws, axis=0)
    U, thr, scale = _mask(rng, Hrep.shape, 0.5)
    K.bias_act_dropout(Hrep, readonly_view(np.zeros(50)), K.IDENTITY,
                       readonly_view(U), thr, scale)
    Zs = Hrep @ W
    se = Zs.std(axis=0) / np.sqrt(n_draws)
    assert np.all(np.abs(Zs.mean(axis=0) - (H @ W)[0]) < 4 * se)


def test_dropout_threshold():
    assert K.dropout_threshold(0.0) == (0, 1.0)
    thr, scale = K.dropout_threshold(0.5)
    assert thr == 32768 and scale == 2.0
    thr, _ = K.dropout_threshold(0.999999)
    assert thr == 65535


def test_draw_mask_is_uniform():
    rng = np.random.default_rng(4)
    # size not a multiple of 4; 13107 (p = 0.2) takes all 16 bits
    U = K.draw_mask(rng, np.empty((301, 7), np.uint16), 13107)
    counts = np.bincount(U.ravel() >> 12, minlength=16)
    expected = U.size / 16
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 45  # chi-square with 15 dof: P(> 45) ~ 1e-4


@pytest.mark.parametrize("p, bits", [(0.5, 1), (0.25, 2), (0.75, 2), (0.125, 4),
                                     (0.0625, 4), (0.9375, 4), (2**-5, 16),
                                     (0.2, 16), (0.0, 16)])
def test_mask_bits(p, bits):
    thr, _ = K.dropout_threshold(p)
    assert K.mask_bits(thr) == bits
    # the threshold is a multiple of the draws' step: U >= thr stays exact
    assert thr % (1 << (16 - bits)) == 0


@pytest.mark.parametrize("p", [0.5, 0.25, 0.75, 0.125, 0.2])
@pytest.mark.parametrize("shape", [(128, 256), (13, 7), (1, 3)])
def test_draw_mask_bits_layout(p, shape):
    """Unit i takes bits (i % per) * k ... of word i // per, lowest first,
    shifted to the top of its uint16: checked against np.unpackbits."""
    thr, _ = K.dropout_threshold(p)
    k = K.mask_bits(thr)
    per = 64 // k
    n = int(np.prod(shape))
    U = K.draw_mask(np.random.default_rng(7), np.empty(shape, np.uint16), thr)
    words = np.random.default_rng(7).bit_generator.random_raw(-(-n // per))
    bits = np.unpackbits(words.astype("<u8").view(np.uint8), bitorder="little")
    fields = bits.reshape(-1, k) @ (1 << np.arange(k))  # k-bit fields in order
    expected = (fields[:n] << (16 - k)).astype(np.uint16).reshape(shape)
    np.testing.assert_array_equal(U, expected)


@pytest.mark.parametrize("p", [0.5, 0.25, 0.75, 0.125, 0.875])
def test_draw_mask_drop_fraction(p):
    """The fraction dropped is within 4 standard deviations of p, and every
    one of the 2**k levels is equally likely (chi-square)."""
    thr, _ = K.dropout_threshold(p)
    k = K.mask_bits(thr)
    U = K.draw_mask(np.random.default_rng(8), np.empty((500, 301), np.uint16), thr)
    n = U.size
    assert abs((U < thr).mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    counts = np.bincount(U.ravel() >> (16 - k), minlength=2**k)
    assert counts.size == 2**k
    chi2 = np.sum((counts - n / 2**k) ** 2 / (n / 2**k))
    assert chi2 < {1: 15.1, 2: 21.1, 4: 37.7}[k]  # P(> .) ~ 1e-4 at 2**k - 1 dof


@pytest.mark.parametrize("softmax, k", [(True, 4), (False, 1), (False, 4)])
def test_output_loss_delta_matches_reference(softmax, k):
    rng = np.random.default_rng(5)
    n = 9
    Z = rng.standard_normal((n, k)) * 3
    b = rng.standard_normal(k)
    if softmax:
        Y = np.eye(k)[rng.integers(0, k, n)]
    else:
        Y = rng.integers(0, 2, (n, k)).astype(float)
    sw = rng.random(n)
    sw[2] = 0.0
    inv = 1.0 / sw.sum()
    D = np.empty((n, k))
    grad_b = np.empty(k)
    loss = K.output_loss_delta(readonly_view(Z), readonly_view(b), readonly_view(Y),
                               readonly_view(sw), inv, softmax, D, grad_b)
    L = Z + b
    if softmax:
        ce = -(Y * log_softmax(L, axis=1)).sum(axis=1)
        P = np.exp(log_softmax(L, axis=1))
    else:
        P = expit(L)
        ce = -(xlogy(Y, P) + xlogy(1 - Y, 1 - P)).sum(axis=1)
    np.testing.assert_allclose(loss, np.sum(sw * ce), rtol=1e-12)
    np.testing.assert_allclose(D, (P - Y) * sw[:, None] * inv, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(grad_b, D.sum(axis=0), rtol=1e-12)


def test_log_proba_is_finite_where_proba_underflows():
    Z = np.array([[0.0, 1000.0, -1000.0], [2.0, 1.0, 0.5]])
    out = np.empty_like(Z)
    K.log_proba(readonly_view(Z), True, False, out)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, log_softmax(Z, axis=1), rtol=1e-12)
    z = np.array([[-800.0], [0.3], [800.0]])
    out = np.empty((3, 2))
    K.log_proba(readonly_view(z), False, True, out)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:, 1], -np.logaddexp(0, -z[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(out[:, 0], -np.logaddexp(0, z[:, 0]), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gather_rows_sparse_matches_toarray(dtype, index_dtype):
    rng = np.random.default_rng(7)
    # row 0 has unsorted indices and a duplicate entry (summed by toarray),
    # row 2 is empty; the rest random
    data = np.array([0.5, -1.25, 2.0, 0.75, 3.0, -0.5, 1.5, 0.25], dtype=dtype)
    indices = np.array([4, 1, 4, 0, 2, 3, 1, 4], dtype=index_dtype)
    indptr = np.array([0, 3, 5, 5, 8], dtype=index_dtype)
    X = sp.csr_matrix((data, indices, indptr), shape=(4, 5))
    Y = rng.random((4, 3)).astype(dtype)
    sw = rng.random(4).astype(dtype)
    for idx in ([0, 2, 3], [2, 2], [3, 0, 1, 0], []):
        idx = np.array(idx, dtype=np.int64)
        k = idx.shape[0]
        # stale values in the buffers must be overwritten
        Xb, Yb, swb = (np.full((k, 5), 9.0, dtype), np.full((k, 3), 9.0, dtype),
                       np.full(k, 9.0, dtype))
        total = K.gather_rows_sparse(
            *(readonly_view(a) for a in (data, indices, indptr, Y, sw, idx)),
            Xb, Yb, swb)
        np.testing.assert_array_equal(Xb, X[idx].toarray())
        np.testing.assert_array_equal(Yb, Y[idx])
        np.testing.assert_array_equal(swb, sw[idx])
        np.testing.assert_allclose(total, sw[idx].sum(dtype=np.float64), rtol=1e-6)
    assert X[[0]].toarray()[0, 4] == 2.5  # the duplicate entry is summed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_row_products_match_scipy(dtype, index_dtype):
    rng = np.random.default_rng(8)
    R = sp.random(29, 12, density=0.3, format="csr", random_state=1, dtype=dtype)
    # row 0: a duplicate entry and unsorted indices (kept as given: no
    # sum_duplicates); row 1: empty; then random rows
    data = np.concatenate([np.array([0.75, -1.5, 2.0], dtype), R.data - dtype(0.5)])
    indices = np.concatenate([[5, 1, 5], R.indices]).astype(index_dtype)
    indptr = np.concatenate([[0, 3, 3], R.indptr[1:] + 3]).astype(index_dtype)
    X = sp.csr_matrix((data, indices, indptr), shape=(31, 12))
    assert not X.has_canonical_format
    parts = tuple(readonly_view(a) for a in (data, indices, indptr))
    W = rng.standard_normal((12, 7)).astype(dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    for idx in ([0, 1, 1, 30], [2], [], list(range(31))):
        idx = np.array(idx, dtype=np.int64)
        D = rng.standard_normal((len(idx), 7)).astype(dtype)
        Z = np.full((len(idx), 7), 9.0, dtype)  # stale values are overwritten
        K.sparse_rows_matmul(*parts, readonly_view(idx), readonly_view(W), Z)
        np.testing.assert_allclose(Z, X[idx].toarray() @ W, rtol=rtol, atol=rtol)
        G = np.full((12, 7), 9.0, dtype)
        K.sparse_rows_t_matmul(*parts, readonly_view(idx), readonly_view(D), G)
        np.testing.assert_allclose(G, X[idx].toarray().T @ D, rtol=rtol, atol=rtol)


def test_gather_rows_and_penalty():
    rng = np.random.default_rng(6)
    X = rng.random((10, 3))
    Y = rng.random((10, 2))
    sw = rng.random(10)
    # rows are copied in pairs: an odd and an even count, and a repeated row
    for idx in ([4, 0, 9], [4, 0, 9, 9], [7]):
        idx = np.array(idx, dtype=np.int64)
        k = idx.shape[0]
        Xb, Yb, swb = np.empty((k, 3)), np.empty((k, 2)), np.empty(k)
        total = K.gather_rows(readonly_view(X), readonly_view(Y), readonly_view(sw),
                              readonly_view(idx), Xb, Yb, swb)
        np.testing.assert_array_equal(Xb, X[idx])
        np.testing.assert_array_equal(Yb, Y[idx])
        np.testing.assert_array_equal(swb, sw[idx])
        np.testing.assert_allclose(total, sw[idx].sum())
    theta = rng.standard_normal(20)
    grad = rng.standard_normal(20)
    expected = grad + 0.3 * theta + 0.2 * np.sign(theta)
    K.add_penalty_grad(grad, readonly_view(theta), 0.3, 0.2)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    np.testing.assert_allclose(
        K.penalty_value(readonly_view(theta), 0.3, 0.2),
        0.15 * theta @ theta + 0.2 * np.abs(theta).sum(), rtol=1e-12)
