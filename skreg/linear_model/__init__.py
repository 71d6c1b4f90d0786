"""Regularized linear regression."""

from skreg.linear_model._path import regularization_path
from skreg.linear_model._regressor import RegularizedRegressor

__all__ = ["RegularizedRegressor", "regularization_path"]
