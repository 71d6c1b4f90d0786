"""Cross-validated alpha selection: RegularizedRegressorCV against scikit-learn.

Problems (issue 3):
  - L1, AR(1) rho=0.9, n=500, p=2000, 100 alphas, the same 5 folds:
    RegularizedRegressorCV(penalty="l1") vs LassoCV (and celer's LassoCV when
    installed);
  - elastic net, same data, l1_ratio=(0.5, 0.9, 1.0): vs ElasticNetCV;
  - L2, n=20000, p=300, 50 alphas, leave-one-out (cv=None): vs RidgeCV with the
    same alphas (times n_samples, its scale).
Both sides use their default tolerance (tol=1e-4, the same duality-gap
criterion), one thread for the folds (n_jobs=None). Each row: median of 5
fits after a warm-up fit, the chosen alpha, and the mean CV error at it.
Results go to benchmarks/results/cv.md.

Run: ``python benchmarks/bench_cv.py [--quick]``.
"""

import argparse
import pathlib
import warnings

import numpy as np
from _common import ar1_design, machine_description, sparse_target, timed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNetCV, LassoCV, RidgeCV
from sklearn.model_selection import KFold

from skreg import RegularizedRegressorCV

RESULTS = pathlib.Path(__file__).parent / "results" / "cv.md"


def cv_error(est):
    """Mean CV error at the chosen alpha, whatever the estimator's layout."""
    if hasattr(est, "cv_results_") and isinstance(est.cv_results_, dict):
        res = est.cv_results_  # skreg
        best = np.argmin(res["mean_test_mse"])
        return res["mean_test_mse"][best]
    if hasattr(est, "mse_path_"):
        return float(np.min(np.mean(est.mse_path_, axis=-1)))
    if hasattr(est, "best_score_"):  # RidgeCV: negative MSE
        return -est.best_score_
    return float("nan")


def cases(quick):
    rng = np.random.default_rng(0)
    n, p = (250, 1000) if quick else (500, 2000)
    X = ar1_design(n, p, 0.9, rng)
    y = sparse_target(X, 50, rng)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    lasso = {
        "skreg": RegularizedRegressorCV(penalty="l1", alphas=100, cv=folds),
        "sklearn": LassoCV(alphas=100, cv=folds),
    }
    try:
        import celer

        lasso["celer"] = celer.LassoCV(n_alphas=100, cv=folds)
    except ImportError:
        pass
    except TypeError as exc:  # celer 0.7 passes n_alphas, gone from sklearn 1.9
        print(f"celer.LassoCV left out: {exc}")
    yield f"L1, AR(1) 0.9 {n}x{p}, 100 alphas, 5 folds", X, y, lasso
    ratios = (0.5, 0.9, 1.0)
    yield (f"elastic net l1_ratio={ratios}, {n}x{p}, 100 alphas, 5 folds", X, y, {
        "skreg": RegularizedRegressorCV(penalty="elasticnet", l1_ratio=ratios,
                                        alphas=100, cv=folds),
        "sklearn": ElasticNetCV(l1_ratio=ratios, alphas=100, cv=folds),
    })  # fmt: skip
    n, p = (5000, 300) if quick else (20000, 300)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 5 * rng.standard_normal(n)
    alphas = np.geomspace(1e-4, 10, 50)
    yield f"L2 leave-one-out, {n}x{p}, 50 alphas", X, y, {
        "skreg": RegularizedRegressorCV(penalty="l2", alphas=alphas, cv=None),
        "sklearn": RidgeCV(alphas=alphas * n),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    rows = []
    for name, X, y, estimators in cases(args.quick):
        results = {}
        for solver, est in estimators.items():
            first, median, fitted = timed(lambda est=est, X=X, y=y: est.fit(X, y))
            alpha = fitted.alpha_ / (len(y) if solver == "sklearn" and
                                     isinstance(fitted, RidgeCV) else 1)  # fmt: skip
            results[solver] = (median, first, alpha, cv_error(fitted))
            print(f"{name} {solver}: {median:.3f}s alpha={alpha:.4g}", flush=True)
        ref = results["sklearn"][0]
        for solver, (median, first, alpha, err) in results.items():
            rows.append((name, solver, median, first, alpha, err, median / ref))
    lines = ["# Cross-validation: skreg vs scikit-learn (and celer)", ""]
    lines += machine_description()
    lines += [
        "",
        "Time: median of 5 fits after a warm-up fit (first fit: the warm-up, Numba "
        "cache load included). Same folds on both sides; default tol=1e-4; "
        "n_jobs=None. alpha in skreg's scale (RidgeCV's divided by n_samples). "
        "CV error: mean held-out MSE at the chosen alpha (leave-one-out for L2).",
        "",
        "| problem | solver | time (s) | first fit (s) | chosen alpha | CV error "
        "| time / scikit-learn |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, solver, median, first, alpha, err, ratio in rows:
        lines.append(f"| {name} | {solver} | {median:.3f} | {first:.3f} "
                     f"| {alpha:.4g} | {err:.5g} | {ratio:.3f} |")  # fmt: skip
    lines.append("")
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
