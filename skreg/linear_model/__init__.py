"""Regularized linear regression."""

from skreg.linear_model._cv import RegularizedRegressorCV
from skreg.linear_model._path import regularization_path
from skreg.linear_model._regressor import RegularizedRegressor

__all__ = ["RegularizedRegressor", "RegularizedRegressorCV", "regularization_path"]
