"""The one module that imports scikit-learn's private helpers.

A scikit-learn release that moves one of these touches only this file.
"""

import inspect
from numbers import Integral

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import _check_sample_weight, validate_data

#: ``_check_sample_weight(..., **ALLOW_ZERO_WEIGHTS)`` accepts weights that are
#: all zero (a stream's chunk with nothing to learn): recent scikit-learn
#: refuses them unless told, older versions never did.
ALLOW_ZERO_WEIGHTS = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters else {}
)

__all__ = [
    "ALLOW_ZERO_WEIGHTS",
    "IntInterval",
    "Interval",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_raise_for_params",
    "_routing_enabled",
    "transformer_input_indices",
    "validate_data",
    "validate_params",
]


class IntInterval(Interval):
    """``Interval(Integral, left, right, closed=...)`` that refuses bools.

    scikit-learn's integer interval takes ``True`` as 1 (``bool`` is an
    ``Integral``), so ``n_lams=True`` or ``k=True`` passed validation. The
    message says so: "must be an int (not a bool) in the range [1, inf)".
    """

    def __init__(self, left, right, *, closed):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)

    def __str__(self):
        return super().__str__().replace("an int", "an int (not a bool)", 1)


def transformer_input_indices(column_transformer):
    """``{name: input column indices}`` of a fitted ``ColumnTransformer`` (private in sklearn)."""
    return column_transformer._transformer_to_input_indices
