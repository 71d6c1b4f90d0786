"""Numba kernels of the dropout MLP: fused elementwise passes around BLAS.

Plain functions on plain, C-contiguous float32 or float64 arrays. The matrix
products are done by the caller with ``np.matmul(..., out=...)`` (BLAS); the
kernels here do everything elementwise in one pass over each buffer:

* :func:`bias_act_dropout` -- forward: add the bias, apply the activation,
  drop units whose uniform draw is below ``p`` and scale the kept ones by
  ``1 / (1 - p)`` (inverted dropout), in place;
* :func:`act_derivative` -- backward: multiply the back-propagated gradient by
  the derivative of the (dropped-out) activation and sum it over the batch
  for the bias gradient;
* :func:`output_loss_delta` -- output layer: bias, log-softmax or
  log-sigmoid, weighted cross-entropy and its gradient;
* :func:`log_proba` -- log-probabilities for prediction (finite where the
  probabilities underflow);
* :func:`gather_rows`, :func:`add_penalty_grad`, :func:`penalty_value`;
* :func:`draw_mask` -- dropout draws from the generator's raw bits, as few
  bits per unit as the drop probability needs.

Activation codes: 0 identity, 1 relu, 2 tanh, 3 logistic.
"""

import math

import numpy as np

from skreg._numba import jit

IDENTITY, RELU, TANH, LOGISTIC = 0, 1, 2, 3
ACTIVATION_CODES = {
    "identity": IDENTITY, "relu": RELU, "tanh": TANH, "logistic": LOGISTIC,
}


@jit(error_model="numpy")
def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@jit(error_model="numpy")
def _log_sigmoid(z):
    # log(1 / (1 + exp(-z))), stable for both signs
    if z >= 0:
        return -math.log1p(math.exp(-z))
    return z - math.log1p(math.exp(z))


@jit(error_model="numpy")
def _activate(z, act):
    if act == RELU:
        return z if z > 0 else 0.0
    if act == TANH:
        return math.tanh(z)
    if act == LOGISTIC:
        return _sigmoid(z)
    return z


MASK_LEVELS = 65536  # dropout draws are uint16: p is rounded to a multiple of 2**-16


def dropout_threshold(p):
    """``(threshold, scale)`` of drop probability ``p`` for the kernels.

    A unit is dropped when its uint16 draw is below ``threshold``, i.e. with
    probability ``q = threshold / 65536`` (``p`` rounded to a multiple of
    ``2**-16``); kept units are scaled by ``scale = 1 / (1 - q)`` so that the
    expectation is unchanged. ``threshold = 0`` means no dropout.
    """
    threshold = min(int(round(float(p) * MASK_LEVELS)), MASK_LEVELS - 1)
    return threshold, MASK_LEVELS / (MASK_LEVELS - threshold)


def mask_bits(threshold):
    """Random bits per unit that :func:`draw_mask` spends for ``threshold``:
    1, 2, 4 or 16.

    The comparison ``U >= threshold`` only needs the draws' leading
    ``16 - z`` bits, ``z`` the number of trailing zero bits of
    ``threshold``: one bit for ``p = 0.5`` (threshold ``2**15``), two for
    0.25 or 0.75, three for 0.125. That count is rounded up to 1, 2 or 4, and
    above 4 to all 16: spreading a word's bits over units pays only for 16
    or more units per word (0.2 needs 16; ``threshold = 0``, no dropout,
    gets 16 too).
    """
    if threshold <= 0:
        return 16
    needed = 16 - ((threshold & -threshold).bit_length() - 1)
    for k in (1, 2, 4):
        if needed <= k:
            return k
    return 16


def draw_mask(rng, U, threshold):
    """Fill the uint16 array ``U`` with draws from ``rng`` for ``threshold``
    (in place); returns ``U``.

    Each unit gets ``k = mask_bits(threshold)`` uniform bits, placed at the
    top of its uint16 (the low ``16 - k`` bits are zero), so that
    ``U >= threshold`` holds with probability exactly ``threshold / 65536``,
    as with 16 uniform bits: the threshold is a multiple of ``2**(16 - k)``.
    The bits are the generator's raw 64-bit output, ``64 // k`` units per
    word, lowest bits first. With 16 bits that is the words' uint16 view;
    with one bit (``p = 0.5``) it takes 16 times fewer words: for 128 x 256
    units, 10 instead of about 40 us.
    """
    k = mask_bits(threshold)
    per_word = 64 // k
    flat = U.reshape(-1)
    words = rng.bit_generator.random_raw((flat.size + per_word - 1) // per_word)
    if k == 16:
        flat[:] = words.view(np.uint16)[: flat.size]
    else:
        _spread_bits(words, flat, k)
    return U


@jit
def _spread_bits(words, out, k):
    """``out[w * per + q]`` = bits ``q * k`` to ``q * k + k - 1`` of
    ``words[w]``, shifted to the top of the uint16 (``per = 64 // k``)."""
    per = 64 // k
    n = out.shape[0]
    mask = np.uint64((1 << k) - 1)
    up = np.uint64(16 - k)
    shifts = np.empty(per, np.uint64)
    for q in range(per):
        shifts[q] = np.uint64(q * k)
    full = n // per
    # rows of ``per`` units, one per word: the inner loop has no index
    # arithmetic and vectorizes (6 instead of 43 us for 32768 one-bit units)
    rows = out[: full * per].reshape(full, per)
    for w in range(full):
        word = words[w]
        row = rows[w]
        for q in range(per):
            row[q] = np.uint16(((word >> shifts[q]) & mask) << up)
    for q in range(n - full * per):
        out[full * per + q] = np.uint16(((words[full] >> shifts[q]) & mask) << up)


@jit(error_model="numpy")
def bias_act_dropout(Z, b, act, U, threshold, scale):
    """In place ``Z <- mask * act(Z + b) * scale`` with ``mask = U >= threshold``.

    ``U`` (uint16) holds the dropout draws, of the shape of ``Z``; it is read
    only when ``threshold > 0`` (see :func:`dropout_threshold`), so any 2-d
    uint16 array can be passed then. ``scale`` is in the dtype of ``Z``.

    Every unit is computed and the mask then selects the result or zero: a
    branch on the random mask would be mispredicted half of the time (for
    relu in float32, 67 instead of 6 us for 128 x 256, ten times the pass
    without dropout), while the select is vectorized. A dropped unit is an
    exact zero even where the activation overflows.
    """
    n, k = Z.shape
    zero = Z.dtype.type(0)
    if threshold == 0:
        if act == RELU:
            for i in range(n):
                for j in range(k):
                    z = Z[i, j] + b[j]
                    Z[i, j] = z if z > zero else zero
        else:
            for i in range(n):
                for j in range(k):
                    Z[i, j] = _activate(Z[i, j] + b[j], act)
    elif act == RELU:
        for i in range(n):
            for j in range(k):
                z = Z[i, j] + b[j]
                a = z * scale if z > zero else zero
                Z[i, j] = a if U[i, j] >= threshold else zero
    else:
        for i in range(n):
            for j in range(k):
                a = _activate(Z[i, j] + b[j], act) * scale
                Z[i, j] = a if U[i, j] >= threshold else zero


@jit(error_model="numpy")
def act_derivative(D, A, act, U, threshold, scale, grad_b):
    """In place ``D <- D * d(A)/dZ``; ``grad_b <- D.sum(axis=0)``.

    ``A`` is the output of :func:`bias_act_dropout` for the same ``U``,
    ``threshold`` and ``scale`` (in the dtype of ``D``): the derivative is
    recovered from it (``act(Z) = A / scale`` for kept units); dropped units
    get a zero gradient. As in the forward pass, the mask selects rather
    than branches.
    """
    n, k = D.shape
    zero = D.dtype.type(0)
    one = D.dtype.type(1)  # a literal 1 would make float32 arithmetic float64
    keep = one / scale
    for j in range(k):
        grad_b[j] = zero
    if act == RELU:
        # no draws needed: a dropped unit has A = 0, where the derivative is
        # 0 anyway (which saves reading U)
        for i in range(n):
            for j in range(k):
                d = D[i, j] * (scale if A[i, j] > zero else zero)
                D[i, j] = d
                grad_b[j] += d
        return
    for i in range(n):
        for j in range(k):
            a = A[i, j] * keep
            if act == TANH:
                d = scale * (one - a * a)
            elif act == LOGISTIC:
                d = scale * a * (one - a)
            else:
                d = scale
            g = D[i, j] * d
            if threshold > 0:
                g = g if U[i, j] >= threshold else zero
            D[i, j] = g
            grad_b[j] += g


@jit(error_model="numpy")
def dropout_inplace(X, U, threshold, scale):
    """Inverted dropout of ``X`` in place (input dropout), draws ``U``."""
    n, k = X.shape
    for i in range(n):
        for j in range(k):
            if U[i, j] < threshold:
                X[i, j] = 0.0
            else:
                X[i, j] *= scale


@jit(error_model="numpy")
def output_loss_delta(Z, b, Y, sw, inv_sw_sum, softmax, D, grad_b):
    """Output layer: loss and gradient with respect to the pre-activation.

    ``Z`` holds ``H @ W`` (bias not added), ``Y`` the one-hot (softmax) or 0/1
    indicator (logistic) targets, ``sw`` the sample weights. Writes
    ``D = sw_i * (P - Y) * inv_sw_sum`` and ``grad_b = D.sum(axis=0)``;
    returns ``sum_i sw_i * CE_i`` (float64). The softmax is
    ``exp(z - max) / sum(exp(z - max))``, as in scikit-learn; each
    exponential is computed once, kept in ``D`` until the sum is known.
    """
    n, k = Z.shape
    loss = 0.0
    zero = Z.dtype.type(0)
    one = Z.dtype.type(1)
    for j in range(k):
        grad_b[j] = zero
    for i in range(n):
        w = sw[i]
        c = w * inv_sw_sum
        z_row, y_row, d_row = Z[i], Y[i], D[i]
        ce = 0.0
        if softmax:
            m = z_row[0] + b[0]
            for j in range(1, k):
                m = max(m, z_row[j] + b[j])
            s = zero
            for j in range(k):
                e = math.exp(z_row[j] + b[j] - m)
                d_row[j] = e
                s += e
            lse = m + math.log(s)
            for j in range(k):
                y = y_row[j]
                ce += y * (lse - (z_row[j] + b[j]))
                d = c * (d_row[j] / s - y)
                d_row[j] = d
                grad_b[j] += d
        else:
            for j in range(k):
                z = z_row[j] + b[j]
                y = y_row[j]
                ce -= y * _log_sigmoid(z) + (one - y) * _log_sigmoid(-z)
                d = c * (_sigmoid(z) - y)
                d_row[j] = d
                grad_b[j] += d
        if w != zero:
            loss += w * ce
    return loss


@jit(error_model="numpy")
def log_proba(Z, softmax, binary, out):
    """Log-probabilities from output logits ``Z`` (bias included).

    softmax: log-softmax by row; binary (one logistic output): the two
    columns ``log(1 - p), log(p)``; otherwise (multilabel) ``log(p)``.
    """
    n, k = Z.shape
    for i in range(n):
        if softmax:
            m = -np.inf
            for j in range(k):
                if Z[i, j] > m:
                    m = Z[i, j]
            s = 0.0
            for j in range(k):
                s += math.exp(Z[i, j] - m)
            lse = m + math.log(s)
            for j in range(k):
                out[i, j] = Z[i, j] - lse
        elif binary:
            out[i, 0] = _log_sigmoid(-Z[i, 0])
            out[i, 1] = _log_sigmoid(Z[i, 0])
        else:
            for j in range(k):
                out[i, j] = _log_sigmoid(Z[i, j])


@jit(error_model="numpy")
def gather_rows(X, Y, sw, idx, Xb, Yb, swb):
    """``Xb, Yb, swb = X[idx], Y[idx], sw[idx]``; returns ``swb.sum()``."""
    n = idx.shape[0]
    # Rows are copied two at a time, in one loop: two streams from memory
    # hide more of the latency of the random rows of a large X than one
    # (about 25% faster for float64 rows of 784 features). Explicit loops
    # over 1-d row views are about twice as fast as ``Xb[i, :] = X[r, :]``.
    for i in range(0, n - 1, 2):
        x0, x1 = X[idx[i]], X[idx[i + 1]]
        xb0, xb1 = Xb[i], Xb[i + 1]
        for j in range(x0.shape[0]):
            xb0[j] = x0[j]
            xb1[j] = x1[j]
    if n % 2:
        x0, xb0 = X[idx[n - 1]], Xb[n - 1]
        for j in range(x0.shape[0]):
            xb0[j] = x0[j]
    return gather_targets(Y, sw, idx, Yb, swb)


@jit(error_model="numpy")
def gather_rows_sparse(data, indices, indptr, Y, sw, idx, Xb, Yb, swb):
    """:func:`gather_rows` for a CSR ``X`` given by ``data, indices,
    indptr``: its rows ``idx`` are written densely into ``Xb`` (zeros, and
    duplicate entries summed in storage order, as ``X.toarray()`` does, so
    that the batch is bitwise the one of the dense matrix). Returns
    ``swb.sum()``."""
    for i in range(idx.shape[0]):
        r = idx[i]
        xb = Xb[i]
        for j in range(xb.shape[0]):
            xb[j] = 0.0
        for k in range(indptr[r], indptr[r + 1]):
            xb[indices[k]] += data[k]
    return gather_targets(Y, sw, idx, Yb, swb)


@jit(error_model="numpy")
def gather_targets(Y, sw, idx, Yb, swb):
    """``Yb, swb = Y[idx], sw[idx]``; returns ``swb.sum()``."""
    total = 0.0
    for i in range(idx.shape[0]):
        r = idx[i]
        y_row, yb_row = Y[r], Yb[i]
        for j in range(y_row.shape[0]):
            yb_row[j] = y_row[j]
        swb[i] = sw[r]
        total += sw[r]
    return total


@jit(error_model="numpy")
def add_penalty_grad(grad, theta, alpha, l1):
    """``grad += alpha * theta + l1 * sign(theta)`` (flat weight segment)."""
    for i in range(theta.shape[0]):
        t = theta[i]
        g = alpha * t
        if t > 0:
            g += l1
        elif t < 0:
            g -= l1
        grad[i] += g


@jit(error_model="numpy")
def penalty_value(theta, alpha, l1):
    """``alpha / 2 * ||theta||^2 + l1 * |theta|_1`` in float64."""
    sq = 0.0
    ab = 0.0
    for i in range(theta.shape[0]):
        t = theta[i]
        sq += t * t
        ab += abs(t)
    return 0.5 * alpha * sq + l1 * ab


# ---------------------------------------------------------------------------
# the first layer's products for a batch of rows of a CSR X (no dense batch)


@jit(error_model="numpy")
def sparse_rows_matmul(data, indices, indptr, idx, W, Z):
    """``Z = X[idx] @ W`` for the CSR ``X = (data, indices, indptr)``: each
    stored entry adds its multiple of a row of ``W`` (cost ``nnz * W.shape[1]``
    instead of ``len(idx) * n_features * W.shape[1]``)."""
    for i in range(idx.shape[0]):
        r = idx[i]
        z = Z[i]
        for j in range(z.shape[0]):
            z[j] = 0.0
        for k in range(indptr[r], indptr[r + 1]):
            x = data[k]
            w = W[indices[k]]
            for j in range(z.shape[0]):
                z[j] += x * w[j]


@jit(error_model="numpy")
def sparse_rows_t_matmul(data, indices, indptr, idx, D, G):
    """``G = X[idx].T @ D`` for the CSR ``X = (data, indices, indptr)``: ``G``
    is zeroed, then each stored entry adds its multiple of a row of ``D`` to
    the row of ``G`` of its feature."""
    for f in range(G.shape[0]):
        g = G[f]
        for j in range(g.shape[0]):
            g[j] = 0.0
    for i in range(idx.shape[0]):
        r = idx[i]
        d = D[i]
        for k in range(indptr[r], indptr[r + 1]):
            x = data[k]
            g = G[indices[k]]
            for j in range(d.shape[0]):
                g[j] += x * d[j]
