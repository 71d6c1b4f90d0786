"""Regularized linear regression."""

from skreg.linear_model._regressor import RegularizedRegressor

__all__ = ["RegularizedRegressor"]
