"""The one module that imports scikit-learn's private helpers.

A scikit-learn release that moves one of these touches only this file.
"""

import inspect
import weakref
from numbers import Integral

from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import _raise_for_params, _routing_enabled
from sklearn.utils.validation import (
    _check_sample_weight,
    _get_feature_names,
    validate_data,
)

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
    "cached_param_names",
    "feature_names_of_columns",
    "scorer_with_labels",
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


def scorer_with_labels(scorer, classes):
    """``scorer`` with ``labels=classes`` where its metric takes ``labels``, else ``scorer``.

    What ``LogisticRegressionCV`` does to score a fold whose held-out rows
    lack a class (``neg_log_loss`` then needs to be told every class). It
    reads the private fields of scikit-learn's scorers (``_score_func``,
    ``_sign``, ``_response_method``, ``_kwargs``); a scorer without them,
    or one already given ``labels``, is returned as it is.
    """
    func = getattr(scorer, "_score_func", None)
    kwargs = dict(getattr(scorer, "_kwargs", {}))
    if (func is None or not hasattr(scorer, "_response_method") or "labels" in kwargs
            or "labels" not in inspect.signature(func).parameters):
        return scorer
    return make_scorer(func, greater_is_better=scorer._sign > 0,
                       response_method=scorer._response_method, labels=classes, **kwargs)


def feature_names_of_columns(columns):
    """``feature_names_in_`` for a table with these column labels, by scikit-learn's rule.

    All strings: the names (an object array); no strings: None; strings
    mixed with other labels: scikit-learn's ``TypeError``. For tables that
    scikit-learn's validation does not read itself (a Dask DataFrame).
    """
    import pandas as pd

    return _get_feature_names(pd.DataFrame(columns=pd.Index(list(columns), dtype=object)))


#: The parameter names of each ``__init__`` met by :func:`cached_param_names`
#: (weak keys: a class made and dropped, as in tests, takes its entry along).
_PARAM_NAMES = weakref.WeakKeyDictionary()


def cached_param_names(cls):
    """scikit-learn's ``BaseEstimator._get_param_names`` of ``cls``, formed once per ``__init__``.

    Installed as the classmethod of the estimators that
    :func:`skl0._params.hyperparameters` makes: scikit-learn forms the names
    with ``inspect.signature`` at every ``get_params``, which every ``fit``
    calls (parameter validation), about 40 us of a 2.3 ms diabetes fit. The
    key is the ``__init__`` function itself, so a subclass with an
    ``__init__`` of its own gets its own names. A new list each call, as
    scikit-learn returns.
    """
    init = cls.__init__
    names = _PARAM_NAMES.get(init)
    if names is None:
        names = tuple(BaseEstimator._get_param_names.__func__(cls))
        _PARAM_NAMES[init] = names
    return list(names)
