"""The one module that imports scikit-learn's private helpers.

A scikit-learn release that moves one of these touches only this file.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "Interval",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "transformer_input_indices",
    "validate_data",
    "validate_params",
]


def transformer_input_indices(column_transformer):
    """``{name: input column indices}`` of a fitted ``ColumnTransformer`` (private in sklearn)."""
    return column_transformer._transformer_to_input_indices
