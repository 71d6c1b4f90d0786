"""RegularizedRegressor against scikit-learn where the models coincide.

Both sides run at tol=1e-10; coefficients must agree to rtol 1e-5 and
atol 1e-8 (float64) on three problems, with and without sample weights,
without intercept and with positive coefficients.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge

from skreg import RegularizedRegressor

from ._datasets import DATASETS, alpha_max, load

TOL = 1e-10


def _weights(n, rng):
    return rng.uniform(0.2, 3.0, n)


def _reference(penalty, alpha, l1_ratio, fit_intercept, positive, sw_sum):
    common = dict(fit_intercept=fit_intercept, positive=positive)
    if penalty == "l1":
        return Lasso(alpha=alpha, tol=TOL, max_iter=200_000, **common)
    if penalty == "elasticnet":
        return ElasticNet(
            alpha=alpha, l1_ratio=l1_ratio, tol=TOL, max_iter=200_000, **common
        )
    if penalty == "l2":
        return Ridge(alpha=alpha * sw_sum, solver="cholesky" if not positive
                     else "lbfgs", tol=TOL, max_iter=200_000, **common)  # fmt: skip
    return LinearRegression(**common)


CASES = [
    # penalty, alpha as a fraction of alpha_max (l2: absolute)
    ("l1", 0.05),
    ("elasticnet", 0.05),
    ("l2", 0.01),
]


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("penalty,scale", CASES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_sklearn(dataset, penalty, scale, weighted, fit_intercept):
    X, y = load(dataset)
    rng = np.random.default_rng(1)
    sw = _weights(len(y), rng) if weighted else None
    sw_sum = len(y) if sw is None else sw.sum()
    alpha = scale if penalty == "l2" else scale * alpha_max(X, y, sw, fit_intercept)
    ours = RegularizedRegressor(
        penalty=penalty, alpha=alpha, l1_ratio=0.5, fit_intercept=fit_intercept,
        tol=TOL, max_iter=200_000,
    ).fit(X, y, sample_weight=sw)  # fmt: skip
    ref = _reference(penalty, alpha, 0.5, fit_intercept, False, sw_sum)
    ref.fit(X, y, sample_weight=sw)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-8)
    assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_positive_matches_sklearn(dataset, penalty):
    X, y = load(dataset)
    alpha = 0.02 * alpha_max(X, y)
    ours = RegularizedRegressor(
        penalty=penalty, alpha=alpha, positive=True, tol=TOL, max_iter=200_000
    ).fit(X, y)
    ref = _reference(penalty, alpha, 0.5, True, True, len(y)).fit(X, y)
    assert np.all(ours.coef_ >= 0)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dataset", ["diabetes", "tall"])
def test_no_penalty_matches_linear_regression(dataset):
    X, y = load(dataset)
    ours = RegularizedRegressor(penalty=None).fit(X, y)
    ref = LinearRegression().fit(X, y)
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-8)
    assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7)


def test_no_penalty_wide_gives_minimum_norm_solution():
    X, y = load("correlated_wide")
    ours = RegularizedRegressor(penalty=None).fit(X, y)
    ref = LinearRegression().fit(X, y)  # lstsq: the minimum-norm solution
    assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.predict(X), y, atol=1e-6)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_float32_matches_sklearn_float32(dataset, penalty):
    X, y = load(dataset)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    alpha = 0.01 if penalty == "l2" else 0.05 * alpha_max(X, y)
    ours = RegularizedRegressor(penalty=penalty, alpha=alpha, tol=1e-6).fit(X32, y32)
    assert ours.coef_.dtype == np.float32
    assert ours.predict(X32).dtype == np.float32
    # float32 cannot reach the float64 tolerances: compare with the exact
    # float64 solution at the precision float32 arithmetic allows.
    ref = _reference(penalty, alpha, 0.5, True, False, len(y)).fit(X, y)
    scale = np.abs(ref.coef_).max()
    assert_allclose(ours.coef_, ref.coef_, rtol=2e-3, atol=2e-3 * scale)
