"""scikit-learn's estimator checks on RegularizedRegressorCV, no expected failures.

The iterative candidates run to convergence (tight ``tol``, large
``max_iter``): the sample-weight equivalence checks compare weighted and
repeated data through the whole cross-validation, down to the smallest alpha
of a 45 x 30 problem, which needs about 2000 epochs. Stopped early, the two
fits stop at different points (scikit-learn passes the same check by running
exactly ``max_iter=5`` epochs on both sides).
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import RegularizedRegressorCV


@parametrize_with_checks(
    [
        RegularizedRegressorCV(penalty="l1", alphas=5, cv=3, tol=1e-10,
                               max_iter=100_000),
        RegularizedRegressorCV(l1_ratio=(0.5, 1.0), alphas=4, cv=3, tol=1e-10,
                               max_iter=100_000),
        RegularizedRegressorCV(penalty="l2", alphas=5, cv=None),
        RegularizedRegressorCV(penalty="l2", alphas=5, cv=3, alpha_per_target=True),
        RegularizedRegressorCV(penalty=["l1", "l2"], alphas=4, cv=3, tol=1e-10,
                               max_iter=100_000),
    ]
)
def test_sklearn_compatible_cv_estimator(estimator, check):
    check(estimator)
