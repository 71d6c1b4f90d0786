"""Small regression problems shared by the linear-model tests."""

import numpy as np
from sklearn.datasets import load_diabetes


def ar1_design(n_samples, n_features, rho, rng):
    """Gaussian design whose columns have correlation ``rho ** |i - j|``."""
    X = np.empty((n_samples, n_features))
    X[:, 0] = rng.standard_normal(n_samples)
    scale = np.sqrt(1.0 - rho**2)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + scale * rng.standard_normal(n_samples)
    return X


def sparse_target(X, n_nonzero, rng, noise=0.5):
    """``y = X w + noise`` with ``n_nonzero`` spread-out non-zero coefficients."""
    w = np.zeros(X.shape[1])
    support = np.linspace(0, X.shape[1] - 1, n_nonzero).astype(int)
    w[support] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(1, 3, n_nonzero)
    return X @ w + 3.0 + noise * rng.standard_normal(X.shape[0])


def load(name):
    """``(X, y)`` of one of the named problems."""
    rng = np.random.default_rng(0)
    if name == "diabetes":
        return load_diabetes(return_X_y=True)
    if name == "correlated_wide":  # p > n, AR(1) with rho = 0.8
        X = ar1_design(60, 120, 0.8, rng)
        return X, sparse_target(X, 8, rng)
    if name == "tall":  # n >> p, columns with offsets and unequal scales
        X = rng.standard_normal((2000, 12)) * rng.uniform(0.5, 3, 12) + 5.0
        return X, sparse_target(X, 5, rng)
    raise ValueError(name)


DATASETS = ["diabetes", "correlated_wide", "tall"]


def alpha_max(X, y, sample_weight=None, fit_intercept=True):
    """Smallest alpha at which the Lasso solution is all zeros."""
    d = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    d = d / d.sum()
    Xc = X - d @ X if fit_intercept else X
    yc = y - d @ y if fit_intercept else y
    return np.max(np.abs(Xc.T @ (d * yc)))
