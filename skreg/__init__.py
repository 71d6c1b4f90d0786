"""skreg: scikit-learn-compatible regularized estimators on Numba kernels."""

from skreg.linear_model import (
    RegularizedRegressor,
    RegularizedRegressorCV,
    regularization_path,
)
from skreg.neural_network import DropoutMLPClassifier

__all__ = [
    "DropoutMLPClassifier",
    "RegularizedRegressor",
    "RegularizedRegressorCV",
    "regularization_path",
]
__version__ = "0.1.0.dev0"
