"""Every warning skreg gives points at the user's line (the call of fit,
partial_fit or regularization_path), not at skreg's or scikit-learn's code:
that is where a user looks, and what ``warnings.filterwarnings(module=...)``
matches."""

import warnings

import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning

from skreg import (
    DropoutMLPClassifier,
    RegularizedRegressor,
    RegularizedRegressorCV,
    regularization_path,
)

X_clf, y_clf = load_iris(return_X_y=True)
X_reg, y_reg = load_diabetes(return_X_y=True)

CASES = {
    "mlp max_iter": (
        ConvergenceWarning,
        lambda: DropoutMLPClassifier(max_iter=2, random_state=0).fit(X_clf, y_clf),
    ),
    "mlp batch_size fit": (
        UserWarning,
        lambda: DropoutMLPClassifier(max_iter=2, batch_size=1000,
                                     random_state=0).fit(X_clf, y_clf),
    ),
    "mlp batch_size partial_fit": (
        UserWarning,
        lambda: DropoutMLPClassifier(batch_size=1000, random_state=0).partial_fit(
            X_clf, y_clf, classes=[0, 1, 2]),
    ),
    "regressor max_iter": (
        ConvergenceWarning,
        lambda: RegularizedRegressor(penalty="l1", alpha=1e-6, max_iter=1,
                                     tol=1e-12).fit(X_reg, y_reg),
    ),
    "cv paths max_iter": (
        ConvergenceWarning,
        lambda: RegularizedRegressorCV(penalty="l1", alphas=3, max_iter=1,
                                       tol=1e-12).fit(X_reg, y_reg),
    ),
    "path max_iter": (
        ConvergenceWarning,
        lambda: regularization_path(X_reg, y_reg, alphas=3, max_iter=1, tol=1e-12),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_warning_points_at_the_caller(case):
    category, call = CASES[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, f"no {category.__name__} for {case}"
    assert {w.filename for w in ours} == {__file__}, [
        (w.filename, w.lineno, str(w.message)[:60]) for w in ours
    ]
