"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import RegularizedRegressor

ESTIMATORS = [
    RegularizedRegressor(penalty=None),
    RegularizedRegressor(penalty="l1", alpha=0.01),
    RegularizedRegressor(penalty="l2"),
    RegularizedRegressor(penalty="elasticnet", alpha=0.01),
    RegularizedRegressor(penalty="l1", alpha=0.01, solver="gd"),
    RegularizedRegressor(penalty="l2", solver="cd", positive=True),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
