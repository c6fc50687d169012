"""Group labels from a fitted ``ColumnTransformer``: one group per original column."""

from __future__ import annotations

import re

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.utils.validation import check_is_fitted

from ._compat import transformer_input_indices

__all__ = ["groups_from_column_transformer"]


# The prefix of the names of MissingIndicator's outputs (one per input with
# missing values): "missingindicator_age" flags the column "age".
_INDICATOR = "missingindicator_"

# A power after a term of PolynomialFeatures' output names: "x0^2".
_POWER = re.compile(r"\^\d+")


def _owner(out_name, names):
    """The input column an output column comes from, or None when it is not one input's.

    ``names``: the transformer's input names, longest first
    (:func:`_longest_first`). The longest input name the output's name
    starts with, followed by its end or a character that is not a letter
    or digit; but an output whose name joins terms of several inputs
    (``PolynomialFeatures``' ``"x0 x1"``: space-separated, each term an
    input name, ``^`` a power) mixes them, and belongs to none.
    """
    terms = _terms(out_name, names, 0, {})
    if terms is not None and len(set(terms)) > 1:
        return None
    if out_name.startswith(_INDICATOR) and out_name[len(_INDICATOR):] in names:
        return out_name[len(_INDICATOR):]  # SimpleImputer(add_indicator=True)'s flag of one input
    return next((name for name in names
                 if out_name.startswith(name) and _ends_a_name(out_name, len(name))), None)


def _longest_first(inputs):
    """The distinct input names, longest first (equal lengths in their order)."""
    return sorted(dict.fromkeys(inputs), key=len, reverse=True)


def _ends_a_name(out_name, i):
    """Whether an input name may end at position ``i`` of ``out_name``.

    At the end or before a character that is not a letter or digit
    (``"age"``, ``"age_sp_0"``, ``"x0^2"``): PCA's ``"pca0"`` does not
    start with the input ``"p"``, whose name it only happens to begin with.
    """
    return i == len(out_name) or not out_name[i].isalnum()


def _terms(out_name, names, i, memo):
    """The input names (longest first in ``names``) that ``out_name[i:]`` joins, or None.

    ``out_name[i:]`` read as terms separated by single spaces, each an input
    name with an optional power (``"^2"``). Input names may hold spaces
    themselves (breast cancer's ``"mean radius"``), so the split is by
    the names, not by the spaces: ``"mean radius mean texture"`` joins
    ``"mean radius"`` and ``"mean texture"``. ``memo`` holds each position's
    answer, so names made of other names (``"a"``, ``"a a"``) cost one
    reading of each position, not one per way of splitting the words.
    """
    if i in memo:
        return memo[i]
    memo[i] = None
    for name in names:
        if not out_name.startswith(name, i):
            continue
        j = i + len(name)
        power = _POWER.match(out_name, j)
        if power is not None:
            j = power.end()
        if j == len(out_name):
            memo[i] = [name]
            break
        if out_name[j] == " ":
            rest = _terms(out_name, names, j + 1, memo)
            if rest is not None:
                memo[i] = [name] + rest
                break
    return memo[i]


def _outputs_per_input(trans):
    """Each input's number of outputs of a (pipeline ending in a) ``OneHotEncoder``, else None.

    Its outputs are its inputs' levels, input by input; counting them from
    the fitted encoder (its private ``_n_features_outs``, which its own
    ``get_feature_names_out`` reads) traces an output such as ``a_b_c`` to
    ``a`` (level ``b_c``) or to ``a_b`` (level ``c``) without guessing from
    the names.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    if isinstance(trans, Pipeline):
        trans = trans.steps[-1][1]  # earlier steps (imputers) keep the columns
    counts = getattr(trans, "_n_features_outs", None) if isinstance(trans, OneHotEncoder) else None
    return None if counts is None else [int(c) for c in counts]


def groups_from_column_transformer(column_transformer):
    """One group label per output column of a fitted ``ColumnTransformer``.

    Each output column is labelled with the original (input) column it was
    made from, so that a selector with ``groups=`` keeps or drops an
    original column as a whole: the 0/1 columns of a one-hot encoded
    ``colour`` share the label ``"colour"``, and ``k`` counts original
    columns. An output column is traced to its input by the transformer's
    ``get_feature_names_out`` (an output name starting with an input's name,
    as scalers, imputers and their pipelines name them; a ``OneHotEncoder``'s
    outputs are counted per input from the fitted encoder, so that input
    names that prefix each other, ``a`` and ``a_b``, are told apart); an
    output that mixes its inputs (``PCA`` over several columns, or
    ``PolynomialFeatures``' ``"x0 x1"``, also where the input names hold
    spaces) is labelled with the transformer's
    name, followed by ``" (mixed)"`` where that name is also an input
    column's (so the mix is not grouped with that column). A
    ``SimpleImputer(add_indicator=True)``'s missing-value flag of a column
    (``"missingindicator_age"``) is labelled with that column.
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
        counts = _outputs_per_input(trans)
        if counts is not None and len(counts) == len(inputs) and sum(counts) == len(outs):
            labels += [name_ for name_, c in zip(inputs, counts) for _ in range(c)]
            continue
        names = _longest_first(inputs)
        owners = [_owner(o, names) for o in outs]
        mixed = name
        while mixed in in_names:  # a mix is not the input column of the same name
            mixed = f"{mixed} (mixed)"
        labels += [o if o is not None else mixed for o in owners]
    width = len(ct.get_feature_names_out())
    if len(labels) != width:
        raise ValueError(
            f"Could not trace the {width} output columns of the ColumnTransformer to its "
            f"inputs (traced {len(labels)}); pass groups= yourself, one label per output "
            "column."
        )
    return np.asarray(labels, dtype=object).astype(str)
