"""skreg: scikit-learn-compatible regularized estimators on Numba kernels."""

from skreg.linear_model import RegularizedRegressor

__all__ = ["RegularizedRegressor"]
__version__ = "0.1.0.dev0"
