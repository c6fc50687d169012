"""Input checks that name the problem and the fix, run before scikit-learn's validation.

scikit-learn's own messages for a table with text in it ("could not
convert string to float: 'x'") or with a repeated column name ("Expected
unique column names") name neither the columns nor what to do. These
checks look at a DataFrame's column names and dtypes only (no copy, no
pass over numeric data) and raise a ``ValueError`` that does.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from numbers import Integral, Real

from ._warn import warn

__all__ = [
    "MAX_AUTO_CLASSES", "SingleValueTarget", "check_dense_target", "check_fold_classes",
    "class_weights", "weigh_classes",
    "check_frame", "check_int",
    "check_int_type", "check_k_fits", "check_missing_labels", "check_number", "check_real_type",
    "infer_task", "is_count", "is_dask_collection", "numeric_target",
]


def is_count(value):
    """Whether ``value`` is an integer >= 1 (a Python or numpy int, not a bool).

    For checks that word their own message (hidden layer sizes, plot shapes);
    :func:`check_int` raises a standard one.
    """
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def check_k_fits(k, groups, layout, n_features, lam="auto"):
    """``k`` as a fit reads it: at most the number of groups (with ``groups``) or of columns.

    A larger ``k`` is read as that number, with a UserWarning: under
    ``lam="auto"`` it keeps them all, as scikit-learn's ``SelectKBest``
    does; beside a number ``lam`` (``k`` a cap) the cap no longer binds and
    ``lam`` alone selects. Meta-estimators hand an estimator fewer columns
    than its ``k`` (``BaggingClassifier(max_features=2)``, ``RFE`` below
    ``k``, ``SequentialFeatureSelector`` from one column). The one rule of
    ``fit``, ``partial_fit`` and the Dask fit; ``layout`` is the resolved
    :class:`skl0._groups.GroupLayout` (or None). Returns None for ``k=None``.
    """
    if k is None:
        return None
    if groups is not None and layout is not None:
        limit, what = layout.n_groups, f"the number of groups (n_groups={layout.n_groups})"
    else:
        limit, what = n_features, f"the number of features in X (n_features={n_features})"
    if k > limit:
        if isinstance(lam, str):
            kept = f"all {limit} are kept, as scikit-learn's SelectKBest does"
        else:
            kept = (f"as a cap on lam={float(lam):g} it does not bind, and lam alone selects "
                    f"(up to all {limit})")
        warn(
            f"k={k} is larger than {what}; {kept}. Pass k <= {limit}, or k=None to let lam "
            "decide."
        )
        return limit
    return k


# task="auto": whole-number targets with more distinct values than this are
# read as quantities (a count, a price), not as class labels.
MAX_AUTO_CLASSES = 20


def check_number(name, value, ok, fix, prefix=""):
    """``value`` as a float if it is a finite real number (not a bool) for which ``ok`` holds.

    Otherwise a ValueError ``"{prefix}{name}={value!r} is invalid; pass {fix}."``.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or not ok(value):
        raise ValueError(f"{prefix}{name}={value!r} is invalid; pass {fix}.")
    return float(value)


def check_int(name, value, minimum, what=""):
    """``value`` as an int >= ``minimum``; else a ValueError naming ``name``.

    ``what`` says what the number counts. ``True`` is not an integer here.
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        meaning = f"{what}, " if what else ""
        raise ValueError(
            f"{name}={value!r} is invalid; pass {meaning}an integer >= {minimum}."
        )
    return int(value)


def check_int_type(name, value):
    """A TypeError naming ``name`` and ``value`` unless ``value`` is an integer.

    For callers that check the range themselves (``check_scalar``'s bounds,
    a maximum set by another argument): ``check_scalar`` takes ``True`` for
    the integer 1, and a string would otherwise fail later in a comparison
    that names neither. ``numpy`` integers pass.
    """
    _check_number_type(name, value, Integral, "an integer")


def check_real_type(name, value):
    """:func:`check_int_type` for a real number (``True`` is not 1.0 either)."""
    _check_number_type(name, value, Real, "a number")


def _check_number_type(name, value, kind, words):
    if isinstance(value, bool) or not isinstance(value, kind):
        got = "a bool" if isinstance(value, bool) else type(value).__name__
        raise TypeError(f"{name}={value!r} is invalid; pass {words}, not {got}.")


def is_dask_collection(obj):
    """True for a Dask array, DataFrame or Series (without importing dask otherwise)."""
    if not type(obj).__module__.startswith("dask"):
        return False
    import dask

    return dask.is_dask_collection(obj)


def _quote(names, limit=5):
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _has_text(column):
    """True if a pandas column holds strings (object, string or text-category dtype)."""
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _has_text(pd.Series(dtype.categories))
    arrow = getattr(dtype, "pyarrow_dtype", None)  # pd.ArrowDtype
    if arrow is not None:
        import pyarrow as pa

        if pa.types.is_dictionary(arrow):  # pyarrow's categorical
            arrow = arrow.value_type
        return (pa.types.is_string(arrow) or pa.types.is_large_string(arrow)
                or pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow))
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return bool(column.map(lambda v: isinstance(v, (str, bytes))).any())
    return False


# What pandas.api.types.infer_dtype calls an object column of dates, times,
# time spans, periods or intervals.
_TEMPORAL_VALUES = frozenset({"datetime64", "datetime", "date", "timedelta64", "timedelta",
                              "time", "period", "interval"})


def _temporal_kind(column):
    """The dtype, in words, of a pandas date, time-span, period or interval column, else None.

    Covers numpy's and pandas' own dtypes (tz-aware included), pyarrow-backed
    ones (``timestamp``, ``date32``, ``time64``, ``duration``, ...) and object
    columns of ``datetime.date`` / ``datetime.time`` / ``Timedelta`` values.
    """
    import pandas as pd

    dtype = column.dtype
    arrow = getattr(dtype, "pyarrow_dtype", None)
    if arrow is not None:
        import pyarrow as pa

        interval = getattr(pa.types, "is_interval", lambda _: False)(arrow)
        return str(dtype) if pa.types.is_temporal(arrow) or interval else None
    if pd.api.types.is_object_dtype(dtype):
        kind = pd.api.types.infer_dtype(column, skipna=True)
        return f"object ({kind} values)" if kind in _TEMPORAL_VALUES else None
    temporal = (pd.api.types.is_datetime64_any_dtype(dtype)
                or pd.api.types.is_timedelta64_dtype(dtype)
                or isinstance(dtype, (pd.PeriodDtype, pd.IntervalDtype)))
    return str(dtype) if temporal else None


def check_frame(X, name="X"):
    """Refuse a DataFrame with duplicated column names, text, date/time or interval columns.

    pandas and polars DataFrames are checked; anything else passes untouched
    (numpy and sparse input get scikit-learn's checks). scikit-learn itself
    would read a polars date column as its microseconds since 1970 and fit it.

    Parameters
    ----------
    X : object
    name : str, default="X"
        What to call ``X`` in the message.

    Raises
    ------
    ValueError
        Naming the duplicated, text, date/time or interval columns and the fix
        (or, for a polars LazyFrame, asking for ``.collect()``).
    """
    polars = type(X).__module__.split(".")[0] == "polars"
    # (the type's name first: hasattr(X, "schema") on a LazyFrame resolves its
    # schema, and polars warns that this may be expensive)
    if polars and type(X).__name__ == "LazyFrame":  # (numpy's "setting an array element ...")
        raise ValueError(
            f"{name} is a polars LazyFrame, a query not yet run; pass {name}.collect(), "
            "the DataFrame it computes."
        )
    if polars and hasattr(X, "schema"):
        _check_polars_frame(X, name)
        return
    columns = getattr(X, "columns", None)
    # (hasattr on the type: on a pandas frame hasattr(X, "dtypes") builds the
    # dtypes Series, read again below; is_unique before duplicated(), which
    # built three Index objects: 200 of a 1-row DataFrame predict's 1160 us.)
    if columns is None or not hasattr(type(X), "dtypes") or not hasattr(X, "iloc"):
        return
    if not columns.is_unique:
        dup = columns[columns.duplicated()].unique().tolist()
        raise ValueError(
            f"{name} has duplicated column names {_quote(dup)}; give every column a "
            f"unique name (e.g. {name}.columns = [f'{{c}}_{{i}}' for i, c in "
            f"enumerate({name}.columns)]) so its columns can be told apart."
        )
    import numpy as np

    # Only columns of other dtypes than numpy's numbers and booleans are
    # read one by one (a float frame of 2e4 columns took 1.4 s here).
    others = [i for i, dtype in enumerate(X.dtypes)
              if not (isinstance(dtype, np.dtype) and dtype.kind in "biufc")]
    text = [i for i in others if _has_text(X.iloc[:, i])]
    if text:
        example = next((v for v in X.iloc[:, text[0]] if isinstance(v, (str, bytes))), None)
        _refuse_text(name, [columns[i] for i in text], example,
                     "OneHotEncoder in a ColumnTransformer")
    kinds = [(columns[i], _temporal_kind(X.iloc[:, i])) for i in others]
    temporal = [(c, kind) for c, kind in kinds if kind is not None]
    if temporal:
        _refuse_temporal(
            name, temporal,
            "to seconds since a reference time ((col - col.min()).dt.total_seconds()), "
            "to calendar features such as col.dt.month, or intervals to their midpoints "
            "(col.array.mid)",
        )


def _check_polars_frame(X, name):
    """:func:`check_frame` for a polars DataFrame (whose column names are unique)."""
    schema = list(X.schema.items())
    temporal = [(c, dtype) for c, dtype in schema if dtype.is_temporal()]
    text = [c for c, dtype in schema
            if not (dtype.is_numeric() or dtype.is_temporal()
                    or str(dtype) in ("Boolean", "Null"))]
    if text:
        values = X.get_column(text[0]).drop_nulls().head(1).to_list()
        example = values[0] if values and isinstance(values[0], (str, bytes)) else None
        _refuse_text(name, text, example,
                     "OneHotEncoder in a ColumnTransformer (or X.to_dummies())")
    if temporal:
        _refuse_temporal(
            name, temporal,
            "to seconds since a reference time "
            "((pl.col(c) - pl.col(c).min()).dt.total_seconds()), to calendar features "
            "such as pl.col(c).dt.month()",
        )


def _refuse_text(name, text, example, encoder):
    seen = "" if example is None else f" (e.g. {example!r} in column {text[0]!r})"
    raise ValueError(
        f"{name} has non-numeric columns {_quote(text)}{seen}; skl0 needs numbers. "
        f"Encode them first, e.g. with sklearn.preprocessing.{encoder}, or drop them."
    )


def _refuse_temporal(name, temporal, conversions):
    (first, dtype) = temporal[0]
    raise ValueError(
        f"{name} has date/time or interval columns {_quote([c for c, _ in temporal])} "
        f"(e.g. dtype {dtype} of column {first!r}); skl0 needs numbers. Convert them "
        f"first, e.g. {conversions}, or drop them."
    )


def check_dense_target(y, name="y"):
    """Refuse a scipy sparse target with a message that says what to pass instead.

    scikit-learn's validation with ``multi_output=True`` passes a sparse
    ``y`` through; a classifier then read it as a 0-d array ("y should be a
    1d array, got an array of shape () instead"), the selector under
    ``task="auto"`` failed on an ``IndexError`` and a regressor on "setting
    an array element with a sequence". ``LogisticRegression`` refuses it
    (a ``TypeError`` asking for ``.toarray()``); so does skl0, naming the
    multilabel case.

    Raises
    ------
    TypeError
        Naming the shape and the fix.
    """
    import scipy.sparse as sp

    if sp.issparse(y):
        raise TypeError(
            f"{name} is a scipy sparse matrix of shape {y.shape}; skl0 takes a dense "
            f"{name}. Pass {name}.toarray() (a classifier takes one column of labels: for "
            "a multilabel indicator matrix, fit one classifier per column)."
        )


def check_missing_labels(y, name="y", where=""):
    """Refuse missing values (None, NaN, ``pd.NA``, ``NaT``) in a non-numeric target.

    A scipy sparse target is refused first (:func:`check_dense_target`):
    every fit runs this check before scikit-learn's validation.

    scikit-learn finds NaN in a numeric ``y`` itself ("Input y contains
    NaN"), but in an object or string ``y`` it compares the array with
    itself, which raises pandas' "boolean value of NA is ambiguous" on
    ``pd.NA`` and a sort error on ``None``: neither names ``y`` or the fix.
    Numeric targets (numpy or pandas numeric dtypes, but for pandas'
    nullable ``"boolean"``, whose values are labels) pass untouched, with
    no pass over their values.

    ``where`` replaces "the first at row i" (the row inside ``y``) in the
    message, for a block of a larger target.

    Raises
    ------
    ValueError
        Naming how many labels are missing, the first row, and the fix.
    """
    import numpy as np
    import pandas as pd

    if y is None:
        return  # scikit-learn's "requires y" message
    check_dense_target(y, name)
    if not hasattr(y, "dtype") and not hasattr(y, "dtypes"):
        y = np.asarray(y)  # a list: numbers, or labels (object)
    dtypes = [y.dtype] if hasattr(y, "dtype") else list(y.dtypes)
    if all(not isinstance(d, (pd.CategoricalDtype, pd.BooleanDtype))
           and pd.api.types.is_numeric_dtype(d) for d in dtypes):
        # (pandas' nullable "boolean" holds labels, and its pd.NA reached
        # scikit-learn's "Input y contains NaN", which names no fix)
        return  # scikit-learn's finiteness check reports these
    missing = np.asarray(pd.isna(y.to_numpy() if hasattr(y, "to_numpy") else y))
    if missing.ndim and missing.any():
        rows = np.flatnonzero(missing.reshape(missing.shape[0], -1).any(axis=1))
        raise ValueError(
            f"{name} has {rows.size} missing label{'s' if rows.size > 1 else ''} (None, NaN "
            f"or pd.NA), {where or f'the first at row {rows[0]}'}; drop those rows (e.g. keep = "
            f"{name}.notna()) or fill them before fitting."
        )


def _is_temporal_target(y):
    """Whether ``y`` holds dates, times or time spans (numpy dtype, or objects: tz-aware)."""
    import numpy as np
    import pandas as pd

    kind = getattr(getattr(y, "dtype", None), "kind", None)
    if kind in ("m", "M"):
        return True
    if kind != "O":
        return False
    values = np.ravel(np.asarray(y))[:1000]
    return pd.api.types.infer_dtype(values, skipna=True) in _TEMPORAL_VALUES


def numeric_target(y, who):
    """``y`` as a float64 array, or a ValueError that points class labels to the classifier."""
    import numpy as np

    dtype = getattr(y, "dtype", None)
    if _is_temporal_target(y):
        # numpy reads dates as nanoseconds since 1970 (about 1.6e18): the fit
        # ran on those without a word, as X's date columns are refused.
        raise ValueError(
            f"y holds dates or times (dtype {dtype}); {who} needs numbers. Convert y "
            "first, e.g. to seconds since a reference time ((y - y.min()) / "
            "np.timedelta64(1, 's')), or to calendar features such as the year."
        )
    try:
        return np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        # numpy names a numpy string by its repr (np.str_('lo')): the value as written.
        text = re.sub(r"np\.(?:str_|bytes_)\((.*?)\)", r"\1", str(exc))
        q = np.shape(y)[1] if np.ndim(y) == 2 else 1
        if q > 1:  # (a classifier, which that advice led to, takes one column of labels)
            raise ValueError(
                f"y must be numeric for {who}, but {text}. y has {q} columns: for class "
                "labels fit one L0Classifier (or L0FeatureSelector with "
                "task='classification') per column (y[:, j], or y.iloc[:, j] of a "
                "DataFrame): a classifier takes one column of labels."
            ) from exc
        raise ValueError(
            f"y must be numeric for {who}, but {text}. For class labels use "
            "L0Classifier (or L0FeatureSelector with task='classification')."
        ) from exc


def class_weights(class_weight, classes, codes=None, sw=None):
    """The weight of each of ``classes`` (an array in their order) under ``class_weight``.

    ``class_weight``: ``None`` (all 1), ``"balanced"`` (``total / (K *
    class_total)`` from ``sw``'s totals over the class ``codes``, as
    scikit-learn's ``compute_class_weight`` with ``sample_weight``; a class
    without weight gets 1, which multiplies nothing) or ``{label: weight}``,
    checked: every weight positive and finite, and a label that is not a
    class refused unless every class has one (scikit-learn's rule, which
    lets a dict made on all of ``y`` serve a part of it).
    """
    import numpy as np

    def plain(value):  # np.int64(5) -> 5 in the messages
        return value.item() if isinstance(value, np.generic) else value

    K = len(classes)
    if class_weight is None:
        return np.ones(K)
    if isinstance(class_weight, str):  # "balanced" (the only string allowed)
        totals = np.bincount(codes, weights=sw, minlength=K)
        out = np.ones(K)
        present = totals > 0
        out[present] = totals.sum() / (K * totals[present])
        return out
    labels = classes.tolist()
    out = np.ones(K)
    unweighted = []
    for i, c in enumerate(labels):
        if c in class_weight:
            out[i] = class_weight[c]
        else:
            unweighted.append(c)
    bad = [(c, v) for c, v in class_weight.items()
           if not isinstance(v, Real) or isinstance(v, bool) or not (math.isfinite(v) and v > 0)]
    if bad:
        c, v = map(plain, bad[0])
        raise ValueError(
            f"class_weight[{c!r}]={v!r}: each class weight must be a positive, finite "
            "number. To leave a class out, drop its rows from X and y instead."
        )
    if unweighted and K - len(unweighted) != len(class_weight):
        known = set(labels)
        unknown = [plain(c) for c in class_weight if c not in known]
        raise ValueError(
            f"class_weight has label(s) {unknown!r} that are not classes of y "
            f"{labels!r}; key it by y's labels (a class left out weighs 1)."
        )
    return out


def weigh_classes(sw, class_weight, classes, codes, whole=True):
    """``sw`` times each row's class weight (``codes``: the rows' class numbers), checked.

    Returns the products and the classes' weights (:func:`class_weights`).

    The products must be finite with a finite total: extreme class weights
    times sample weights overflowed float64, and the fit failed inside with
    a bare ``OverflowError`` (``ZeroDivisionError`` in ``partial_fit``).
    ``whole``: the rows are all of ``fit``'s, of which two classes must keep
    a positive weight (products that underflow to 0 can take one away); a
    ``partial_fit`` chunk may hold a single class.
    """
    import numpy as np

    per_class = class_weights(class_weight, classes, codes, sw)
    with np.errstate(over="ignore", under="ignore"):  # (both are refused below)
        out = sw * per_class[codes]
        total = out.sum()
    if not (np.all(np.isfinite(out)) and np.isfinite(total)):
        raise ValueError(
            f"sample_weight times class_weight={class_weight!r} overflows float64 (largest "
            f"product {out.max():.3g}, total {total:.3g}); divide the class weights (or "
            "sample_weight) by a common factor, e.g. by their largest, so that the products "
            "average about 1."
        )
    if whole:
        kept = np.bincount(codes, weights=out, minlength=len(classes)) > 0
        if np.count_nonzero(kept) < 2:
            raise ValueError(
                f"sample_weight times class_weight={class_weight!r} is 0 on every sample of "
                f"class(es) {classes[~kept].tolist()!r} (the products underflow float64), so "
                "only one class carries weight; divide sample_weight by its smallest positive "
                "value, or use class weights nearer 1."
            )
    return out, per_class


def label_column(y):
    """A classifier's ``y`` as one 1-d column of labels, as its ``fit`` reads it.

    A column vector ``(n, 1)`` is ravelled with scikit-learn's
    ``DataConversionWarning``; more columns are refused
    (:func:`several_label_columns`). ``fit``, ``partial_fit`` and the Dask
    fit read labels by this one rule.
    """
    import numpy as np

    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warn("A column-vector y was passed when a 1d array was expected; it was "
             "ravelled.", DataConversionWarning)
        y = y.ravel()
    if y.ndim != 1:
        raise several_label_columns(*y.shape[:2]) if y.ndim == 2 else ValueError(
            f"y should be a 1d array, got an array of shape {y.shape} instead.")
    return y


def several_label_columns(n, q):
    """The ValueError for ``q > 1`` columns of labels given to a classifier (``n`` rows)."""
    return ValueError(
        f"y should be a 1d array, got an array of shape ({n}, {q}) instead. A classifier "
        "takes one column of labels; for several targets fit one classifier per column."
    )


class SingleValueTarget(ValueError):
    """:func:`infer_task`'s refusal of a numeric ``y`` of one whole-number value (the CLI words it)."""


def numbers_of_object_array(y):
    """``y`` as numbers where it is an object array of numbers; any other ``y`` as given.

    Numbers in an object array (a pandas Series of dtype object, the
    Decimals of a SQL NUMERIC column; not booleans) become an int64 array
    where all are integers, else float64: ``task="auto"`` reads them by
    the numeric rule, and a classifier fitted on them gets labels that
    scikit-learn's target checks accept (an object array of numbers is
    "unknown" to them). An int past float64's range leaves ``y`` as given.
    """
    import numpy as np

    if not (isinstance(y, np.ndarray) and y.dtype.kind == "O" and y.size):
        return y
    if not all(isinstance(v, (Real, Decimal)) and not isinstance(v, (bool, np.bool_))
               for v in y.flat):
        return y
    try:
        if all(isinstance(v, Integral) for v in y.flat):
            return y.astype(np.int64)
        return y.astype(np.float64)
    except (OverflowError, ValueError):
        return y


def infer_task(y):
    """``task="auto"``: ``"classification"`` or ``"regression"`` for the target ``y``.

    Class labels are text, booleans or categories, or whole numbers (integer
    or float dtype, or numbers in an object array) taking at most
    ``MAX_AUTO_CLASSES`` distinct values;
    every other target, including whole-number quantities with many values
    (counts, prices in cents) and all multi-output targets, is a
    regression target. Pass ``task=`` explicitly to override. A numeric ``y``
    of one whole-number value is refused (a ValueError naming
    ``task='regression'``): it is neither a classification target nor,
    by this rule, a regression one.

    Parameters
    ----------
    y : array-like or pandas.Series

    Returns
    -------
    str
    """
    import numpy as np
    import pandas as pd
    from sklearn.utils.multiclass import type_of_target

    if isinstance(y, pd.Series) and isinstance(y.dtype, pd.CategoricalDtype):
        return "classification"
    arr = numbers_of_object_array(np.asarray(y))
    if _is_temporal_target(arr):  # (tz-aware dates are objects): the regressor refuses them
        return "regression"
    if arr.dtype == bool or arr.dtype.kind in "OUSb":
        return "classification" if arr.ndim == 1 or arr.shape[1] == 1 else "regression"
    with np.errstate(invalid="ignore"):  # (its test y == y.astype(int) casts NaN, inf, 1e300)
        kind = type_of_target(arr, input_name="y")
    if kind not in ("binary", "multiclass"):
        return "regression"
    values = np.unique(arr)
    if values.size == 1:
        # A constant: neither rule can tell one class from a constant quantity.
        raise SingleValueTarget(
            f"y holds a single class ({values[0].item()!r}); a classifier needs at least 2 classes "
            "in y. task='auto' reads a y of whole numbers as class labels: for a constant "
            "regression target pass task='regression'."
        )
    return "classification" if values.size <= MAX_AUTO_CLASSES else "regression"


def check_fold_classes(y, sample_weight, splits, cv):
    """Refuse cross-validation folds whose training rows hold a single class.

    A classifier fitted on one fold would otherwise fail with a message
    about ``y`` as a whole ("y holds a single class") that does not say it
    was one fold of ``cv``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)
        Rows of weight 0 do not count.
    splits : list of (train, test) index arrays
    cv : object
        The ``cv`` parameter, for the message.

    Raises
    ------
    ValueError
        Naming the fold, its class, the rare class and the fix.
    """
    import numpy as np

    y = np.asarray(y)
    if y.ndim != 1:
        return
    labels, counts = np.unique(y[sample_weight > 0], return_counts=True)
    labels = labels.tolist()  # plain Python labels in the message
    for i, (train, _) in enumerate(splits):
        train = np.asarray(train)
        present = np.unique(y[train][sample_weight[train] > 0]).tolist()
        if len(present) < 2:
            rare = labels[np.argmin(counts)]
            raise ValueError(
                f"Fold {i + 1} of {len(splits)} of cv={cv!r} has a single class "
                f"({present[0] if present else 'none'!r}) in its training rows; the "
                f"rarest class, {rare!r}, has {counts.min()} sample(s) in y. A classifier "
                "needs at least 2 classes in every fold: pass a stratified splitter "
                "(cv=StratifiedKFold(n_splits) or an int, which stratifies for "
                "classifiers), fewer folds, or more samples of the rare class."
            )
