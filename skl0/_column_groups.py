"""Group labels from a fitted ``ColumnTransformer``: one group per original column."""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.utils.validation import check_is_fitted

from ._compat import transformer_input_indices

__all__ = ["groups_from_column_transformer"]


def _owner(out_name, inputs):
    """The input column an output column comes from: the longest input name it starts with."""
    best = None
    for name in inputs:
        if out_name.startswith(name) and (best is None or len(name) > len(best)):
            best = name
    return best


def groups_from_column_transformer(column_transformer):
    """One group label per output column of a fitted ``ColumnTransformer``.

    Each output column is labelled with the original (input) column it was
    made from, so that a selector with ``groups=`` keeps or drops an
    original column as a whole: the 0/1 columns of a one-hot encoded
    ``colour`` share the label ``"colour"``, and ``k`` counts original
    columns. An output column is traced to its input by the transformer's
    ``get_feature_names_out`` (an output name starting with an input's name,
    as ``OneHotEncoder``, scalers, imputers and their pipelines name them);
    a transformer that mixes its inputs (``PCA`` over several columns) gives
    all its outputs one group, labelled with the transformer's name.
    ``"passthrough"`` columns are groups of their own.

    Parameters
    ----------
    column_transformer : sklearn.compose.ColumnTransformer
        Fitted.

    Returns
    -------
    groups : ndarray of str, shape (n_output_features,)
        The label of each column of ``column_transformer.transform(X)``.

    Notes
    -----
    Inside ``GridSearchCV`` the transformer is refitted on each fold, and
    the labels must match its width there too: give ``OneHotEncoder`` its
    ``categories`` (or make sure every level occurs in every fold), else
    the selector reports the mismatch.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.compose import ColumnTransformer
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> from skl0 import groups_from_column_transformer
    >>> X = pd.DataFrame({"colour": ["red", "blue", "red"], "size": [1.0, 2.0, 3.0]})
    >>> ct = ColumnTransformer([("cat", OneHotEncoder(), ["colour"])],
    ...                        remainder="passthrough").fit(X)
    >>> groups_from_column_transformer(ct).tolist()
    ['colour', 'colour', 'size']
    """
    if not isinstance(column_transformer, ColumnTransformer):
        raise TypeError(
            f"groups_from_column_transformer expects a fitted ColumnTransformer, got "
            f"{type(column_transformer).__name__}; pass the 'enc' step of your pipeline "
            "after fitting it."
        )
    check_is_fitted(column_transformer)
    ct = column_transformer
    n_in = ct.n_features_in_
    in_names = (
        [str(c) for c in ct.feature_names_in_] if hasattr(ct, "feature_names_in_")
        else [f"x{i}" for i in range(n_in)]
    )
    indices = transformer_input_indices(ct)
    labels = []
    for name, trans, _ in ct.transformers_:
        idx = np.asarray(indices.get(name, []), dtype=np.int64)
        if isinstance(trans, str) and trans == "drop" or idx.size == 0:
            continue
        inputs = [in_names[i] for i in idx]
        if isinstance(trans, str) and trans == "passthrough":
            labels += inputs
            continue
        outs = [str(o) for o in trans.get_feature_names_out(np.asarray(inputs, dtype=object))]
        if len(inputs) == 1:
            labels += inputs * len(outs)
            continue
        owners = [_owner(o, inputs) for o in outs]
        labels += [o if o is not None else name for o in owners]
    width = len(ct.get_feature_names_out())
    if len(labels) != width:
        raise ValueError(
            f"Could not trace the {width} output columns of the ColumnTransformer to its "
            f"inputs (traced {len(labels)}); pass groups= yourself, one label per output "
            "column."
        )
    return np.asarray(labels, dtype=object).astype(str)
