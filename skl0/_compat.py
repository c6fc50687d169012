"""The one module that imports scikit-learn's private helpers.

A scikit-learn release that moves one of these touches only this file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import validate_data

__all__ = ["_fit_context", "Interval", "Options", "StrOptions", "validate_data"]
