"""Sparse X: the same solutions as dense X, without densifying."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import Lasso

from skreg import RegularizedRegressor

from ._datasets import alpha_max


def _sparse_problem(n=300, p=80, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csc", random_state=seed,
                  data_rvs=lambda k: rng.standard_normal(k) + 2.0)  # fmt: skip
    w = np.zeros(p)
    w[:8] = rng.standard_normal(8) * 3
    y = X @ w + 1.5 + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("solver", ["cd", "gd"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_equals_dense(solver, penalty, fit_intercept, weighted):
    X, y = _sparse_problem()
    sw = np.random.default_rng(1).uniform(0.2, 2, len(y)) if weighted else None
    alpha = 0.05 * alpha_max(X.toarray(), y, sw, fit_intercept)
    params = dict(penalty=penalty, alpha=alpha, solver=solver,
                  fit_intercept=fit_intercept, tol=1e-14, max_iter=100_000)  # fmt: skip
    dense = RegularizedRegressor(**params).fit(X.toarray(), y, sample_weight=sw)
    sparse = RegularizedRegressor(**params).fit(X, y, sample_weight=sw)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-7, atol=1e-8)
    assert_allclose(sparse.predict(X), dense.predict(X.toarray()), rtol=1e-7)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_formats_and_sklearn_parity(fmt):
    X, y = _sparse_problem(seed=3)
    alpha = 0.02 * alpha_max(X.toarray(), y)
    ours = RegularizedRegressor(penalty="l1", alpha=alpha, tol=1e-10).fit(
        X.asformat(fmt), y
    )
    ref = Lasso(alpha=alpha, tol=1e-10, max_iter=100_000).fit(X.tocsc(), y)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


def test_positive_sparse():
    X, y = _sparse_problem(seed=4)
    alpha = 0.02 * alpha_max(X.toarray(), y)
    ours = RegularizedRegressor(penalty="l1", alpha=alpha, positive=True,
                                tol=1e-10).fit(X, y)  # fmt: skip
    ref = Lasso(alpha=alpha, positive=True, tol=1e-10, max_iter=100_000).fit(X, y)
    assert np.all(ours.coef_ >= 0)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)


def test_sparse_is_not_densified():
    rng = np.random.default_rng(0)
    n, p = 20_000, 2_000
    X = sp.random(n, p, density=0.002, format="csc", random_state=0, dtype=np.float64)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    reg = RegularizedRegressor(penalty="l1", alpha=1e-4)
    reg.fit(X[:100], y[:100])  # compile outside the measurement
    tracemalloc.start()
    reg.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    dense_bytes = n * p * 8
    assert peak < 0.05 * dense_bytes, peak / dense_bytes
    assert np.count_nonzero(reg.coef_) > 0


def test_cholesky_refuses_sparse():
    X, y = _sparse_problem()
    with pytest.raises(TypeError, match="solver='cholesky' does not accept sparse"):
        RegularizedRegressor(solver="cholesky").fit(X, y)
    reg = RegularizedRegressor(penalty="l2").fit(X, y)  # "auto" picks "cd"
    assert reg.solver_ == "cd"
