"""skl0: L0 regularization with Hard Concrete gates for scikit-learn.

Estimators: :class:`L0Regressor`, :class:`L0Classifier`,
:class:`L0FeatureSelector`. Torch building blocks: :mod:`skl0.nn`.
"""

from ._classifier import L0Classifier
from ._column_groups import groups_from_column_transformer
from ._cv import L0ClassifierCV, L0RegressorCV
from ._path import L0Path, l0_path
from ._regressor import L0Regressor
from ._selector import L0FeatureSelector
from ._selector_cv import L0FeatureSelectorCV

__version__ = "0.1.0"

__all__ = [
    "L0Classifier",
    "L0ClassifierCV",
    "L0FeatureSelector",
    "L0FeatureSelectorCV",
    "L0Path",
    "L0Regressor",
    "L0RegressorCV",
    "__version__",
    "groups_from_column_transformer",
    "l0_path",
]
