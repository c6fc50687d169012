"""skl0: L0 regularization with Hard Concrete gates for scikit-learn.

Estimators: :class:`L0Regressor`, :class:`L0Classifier`,
:class:`L0FeatureSelector`. Torch building blocks: :mod:`skl0.nn`.
"""

from ._classifier import L0Classifier
from ._regressor import L0Regressor
from ._selector import L0FeatureSelector

__version__ = "0.1.0"

__all__ = ["L0Classifier", "L0Regressor", "L0FeatureSelector", "__version__"]
