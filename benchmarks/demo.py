"""skreg next to scikit-learn: same solutions, test R², fit times.

``RegularizedRegressor`` with each penalty is fitted next to its scikit-learn
counterpart on the same 75/25 split (``random_state=0``):

* ``"l1"``         vs ``Lasso(alpha)``
* ``"elasticnet"`` vs ``ElasticNet(alpha, l1_ratio)``
* ``"l2"``         vs ``Ridge(alpha * n_train)`` (Ridge sums, skreg averages)
* ``None``         vs ``LinearRegression()``

on (i) the diabetes data shipped with scikit-learn and (ii) a synthetic
problem with AR(1) correlated features (rho=0.9, n=500, p=200, 20 non-zero
coefficients). ``alpha`` is a fixed fraction (0.001 and 0.01) of
``alpha_max = max |Xc^T yc| / n_train``, the smallest alpha giving ``w = 0``
for the Lasso. Fit times are the median of 5 fits after one warm-up fit, so
Numba compilation is excluded; the first fits are reported in a note. BLAS
runs on one thread.

Run with ``make demo`` or ``.venv/bin/python benchmarks/demo.py``.
"""

import time

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from skreg import RegularizedRegressor

TOL, MAX_ITER, L1_RATIO, N_REPEATS = 1e-8, 100_000, 0.5, 5


def correlated_problem(n=500, p=200, n_nonzero=20, rho=0.9, snr=5.0, seed=0):
    """Gaussian design with AR(1) correlation ``corr(x_j, x_k) = rho**|j-k|``."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = np.empty((n, p))
    X[:, 0] = Z[:, 0]
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    w = np.zeros(p)
    support = rng.choice(p, n_nonzero, replace=False)
    w[support] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(0.5, 2.0, n_nonzero)
    signal = X @ w
    y = 3.0 + signal + rng.standard_normal(n) * signal.std() / snr
    return X, y


def pairs(alpha, n_train):
    """(penalty, skreg estimator, scikit-learn estimator) for each penalty."""
    kw = {"tol": TOL, "max_iter": MAX_ITER}
    ours = lambda penalty: RegularizedRegressor(  # noqa: E731
        penalty=penalty, alpha=alpha, l1_ratio=L1_RATIO, **kw
    )
    return [
        ("l1", ours("l1"), Lasso(alpha=alpha, **kw)),
        ("elasticnet", ours("elasticnet"), ElasticNet(alpha, l1_ratio=L1_RATIO, **kw)),
        ("l2", ours("l2"), Ridge(alpha=alpha * n_train, **kw)),
        ("None", ours(None), LinearRegression()),
    ]


def timed_fits(est, X, y):
    """Time of the first fit and median time of the next N_REPEATS, in ms."""
    times = []
    for _ in range(N_REPEATS + 1):
        start = time.perf_counter()
        est.fit(X, y)
        times.append(1e3 * (time.perf_counter() - start))
    return times[0], float(np.median(times[1:]))


def main():
    X_d, y_d = load_diabetes(return_X_y=True)
    datasets = [
        ("diabetes", X_d, y_d, 0.001),
        ("ar1-corr", *correlated_problem(), 0.01),
    ]
    header = (
        f"{'dataset':<10} {'penalty':<11} {'alpha':>9} {'max|dcoef|':>10} "
        f"{'R2 skreg':>9} {'R2 sklearn':>10} {'ms skreg':>9} {'ms sklearn':>10}"
    )
    print(header)
    print("-" * len(header))
    first_fits = []
    for name, X, y, fraction in datasets:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
        n_train = X_tr.shape[0]
        Xc, yc = X_tr - X_tr.mean(axis=0), y_tr - y_tr.mean()
        alpha = fraction * np.max(np.abs(Xc.T @ yc)) / n_train
        for penalty, ours, theirs in pairs(alpha, n_train):
            first, t_ours = timed_fits(ours, X_tr, y_tr)
            _, t_theirs = timed_fits(theirs, X_tr, y_tr)
            first_fits.append(f"{name}/{penalty} {first:.0f}")
            diff = np.max(np.abs(ours.coef_ - theirs.coef_))
            print(
                f"{name:<10} {penalty:<11} {alpha:>9.3g} {diff:>10.2e} "
                f"{ours.score(X_te, y_te):>9.4f} {theirs.score(X_te, y_te):>10.4f} "
                f"{t_ours:>9.2f} {t_theirs:>10.2f}"
            )
    fractions = ", ".join(f"{d[0]} {d[-1]:g}" for d in datasets)
    print(f"\nalpha / alpha_max: {fractions}; tol={TOL:g}, max_iter={MAX_ITER},")
    print(f"l1_ratio={L1_RATIO}; ms = median of {N_REPEATS} fits after a warm-up fit.")
    print("Note: first skreg fits (Numba compilation or cache load), ms:")
    print("  " + ", ".join(first_fits))


if __name__ == "__main__":
    # Single-threaded BLAS on both sides: on a small, busy machine threaded
    # BLAS makes the direct solves' times erratic (tens of ms for p=200).
    with threadpool_limits(limits=1, user_api="blas"):
        main()
