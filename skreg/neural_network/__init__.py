"""Neural-network estimators: the dropout multilayer perceptron."""

from skreg.neural_network._classifier import DropoutMLPClassifier

__all__ = ["DropoutMLPClassifier"]
