"""Training-time input augmentation (Numba kernels): image shifts and flips,
Gaussian input noise.

The random draws (shifts, flip flags, noise) are made by the caller from the
estimator's ``np.random.Generator`` and passed in.
"""

from skreg._numba import jit


@jit(error_model="numpy")
def gather_shift_flip(X, Y, sw, idx, shifts, h, w, c, Xb, Yb, swb):
    """Gather the rows ``idx`` of ``X, Y, sw`` while shifting / flipping images.

    Each row of ``X`` is an image of shape ``(h, w, c)`` flattened in C order.
    ``shifts[i] = (dy, dx, flip)`` for batch row ``i``: the image is first
    flipped horizontally when ``flip`` is nonzero, then moved by ``dy`` rows
    and ``dx`` columns (``-1, 0, 1``); vacated pixels are set to 0.
    Returns ``swb.sum()``.
    """
    total = 0.0
    for i in range(idx.shape[0]):
        r = idx[i]
        dy = shifts[i, 0]
        dx = shifts[i, 1]
        flip = shifts[i, 2] != 0
        for row in range(h):
            src_row = row - dy
            for col in range(w):
                src_col = col - dx
                out = (row * w + col) * c
                if src_row < 0 or src_row >= h or src_col < 0 or src_col >= w:
                    for ch in range(c):
                        Xb[i, out + ch] = 0.0
                    continue
                if flip:
                    src_col = w - 1 - src_col
                src = (src_row * w + src_col) * c
                for ch in range(c):
                    Xb[i, out + ch] = X[r, src + ch]
        Yb[i, :] = Y[r, :]
        swb[i] = sw[r]
        total += sw[r]
    return total


@jit(error_model="numpy")
def add_noise(X, noise, sigma):
    """``X += sigma * noise`` in place (``noise`` is standard normal)."""
    n, k = X.shape
    for i in range(n):
        for j in range(k):
            X[i, j] += sigma * noise[i, j]
