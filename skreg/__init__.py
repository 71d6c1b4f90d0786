"""skreg: scikit-learn-compatible regularized estimators on Numba kernels."""

from skreg.linear_model import RegularizedRegressor, regularization_path

__all__ = ["RegularizedRegressor", "regularization_path"]
__version__ = "0.1.0.dev0"
