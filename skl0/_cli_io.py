"""Files and columns for the ``skl0`` command line: read, check, write.

Every problem a user can fix is raised as :class:`UsageError` with a
one-line message that names the file or column and says what to do; the
command line prints it and exits with status 2.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._checks import _temporal_kind

# Defined with the parser, which answers --help without importing pandas.
from .cli import TABLE_FORMATS, TABLE_SUFFIXES, UsageError, check_exists

__all__ = [
    "UsageError",
    "read_table",
    "check_output_path",
    "feature_matrix",
    "read_targets",
    "write_table",
    "one_line",
    "fit_quietly",
    "quote_list",
]

LIST_SUFFIXES = (".txt", ".json")


def check_device(device):
    """``--device`` checked before any work, its error in the command line's words."""
    from ._device import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        # resolve_device speaks of the Python parameter (device='cuda').
        raise UsageError(re.sub(r"device='([^']*)'", r"--device \1", str(exc))) from None


def one_line(exc):
    """The first line of an exception's message (its type name if empty)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def quote_list(names, limit=8):
    """``'a', 'b' and 3 more``: a short, quoted list for a message."""
    names = [str(n) for n in names]
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _suffix(path, allowed):
    name = str(path).lower()
    return next((s for s in allowed if name.endswith(s)), None)


def read_table(path, what="DATA", header="infer", dtype=None):
    """Read a CSV, TSV (by extension, ``.gz`` allowed for CSV) or Parquet file.

    ``header=None`` reads a CSV/TSV whose first line is data, not names;
    ``dtype=str`` reads its fields as text (not used for Parquet, which
    stores its types).
    """
    p = Path(path)
    suffix = _suffix(p, TABLE_SUFFIXES)
    if suffix is None:
        raise UsageError(
            f"cannot read {what} file '{path}': its name must end in {TABLE_FORMATS} (the "
            "extension picks the format)"
        )
    check_exists(p, what)
    if not p.is_file():
        raise UsageError(f"{what} path '{path}' is not a file")
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        else:
            frame = pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",", header=header,
                                dtype=dtype)
    except ImportError as exc:  # no Parquet engine
        raise UsageError(
            f"cannot read '{path}': {one_line(exc)} (pip install pyarrow)"
        ) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # parser errors are ValueErrors
        raise UsageError(f"cannot read {what} file '{path}': {one_line(exc)}") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise UsageError(f"{what} file '{path}' holds no data rows or no columns")
    if header == "infer" and suffix not in (".parquet", ".pq"):
        # pandas renames a repeated name ("y", "y" -> "y", "y.1"): a repeated
        # target would then be a feature. The names as written in the file:
        raw = pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",", header=None, nrows=1,
                          dtype=str, keep_default_na=False).iloc[0].tolist()
        dup = sorted({c for c in raw if raw.count(c) > 1})
        if dup:
            raise UsageError(
                f"{what} file '{path}' has duplicated column names {quote_list(dup)}; "
                "rename them so that each column has its own name"
            )
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _same_file(a, b):
    try:
        return Path(a).resolve() == Path(b).resolve() or Path(a).samefile(b)
    except OSError:  # one of them does not exist
        return False


def check_output_path(path, allowed, what="OUT", inputs=(), force=False):
    """Return the output suffix, or raise before any work (and before any fit) is done.

    Refused: an unknown extension; a path that resolves to one of the
    ``inputs`` (even with ``force``: the input would be lost); an existing
    file unless ``force``; a folder; a missing or read-only folder; a
    Parquet output without a Parquet engine.
    """
    suffix = _suffix(path, allowed)
    if suffix is None:
        raise UsageError(
            f"cannot write {what} '{path}': its name must end in "
            + ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        )
    for source in inputs:
        if source is not None and _same_file(path, source):
            raise UsageError(
                f"{what} '{path}' is the input file '{source}'; write to another file "
                "(skl0 never overwrites its input)"
            )
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"cannot write {what} '{path}': it is a folder; name a file")
    if target.exists() and not force:
        raise UsageError(
            f"{what} '{path}' already exists; pass --force to overwrite it, or choose "
            "another name"
        )
    parent = target.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {what} '{path}': folder '{parent}' does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write {what} '{path}': folder '{parent}' is not writable")
    if suffix in (".parquet", ".pq"):
        try:
            pd.io.parquet.get_engine("auto")
        except ImportError as exc:
            raise UsageError(
                f"cannot write {what} '{path}': {one_line(exc)} (pip install pyarrow)"
            ) from None
    return suffix


def _check_columns(frame, columns, what):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{what} {quote_list(missing)} not found; the columns are "
            f"{quote_list(frame.columns)}"
        )


# --one-hot refuses a text column with more distinct values than this, or
# with more than 20 that are (nearly) all different (an identifier): its
# dense 0/1 table would hold rows x values numbers (8,000 unique ids: 2 GB).
MAX_ONE_HOT_LEVELS = 1000


def _check_cardinality(X, text):
    n = len(X)
    for name in text:
        levels = int(X[name].nunique(dropna=True))
        if levels > MAX_ONE_HOT_LEVELS or (levels > 20 and levels > n / 2):
            size = n * levels * 8 / 2**20
            raise UsageError(
                f"--one-hot: column '{name}' has {levels} distinct values in {n} rows"
                f"{' (an identifier?)' if levels > n / 2 else ''}; one-hot encoding it would "
                f"add {levels} columns ({size:,.0f} MiB); --drop it, or encode it yourself "
                f"first (--one-hot expands columns with at most {MAX_ONE_HOT_LEVELS} "
                "values, and at most half as many values as rows)"
            )


def _one_hot(X, text):
    """``X`` with the ``text`` columns expanded into 0/1 columns, and the group labels.

    A ``ColumnTransformer`` (numeric columns passed through first, then one
    ``OneHotEncoder`` over the text columns, names ``column_value`` as
    ``pandas.get_dummies`` gives them, a missing value all zeros); the
    group of each output column, its original column, comes from
    :func:`skl0.groups_from_column_transformer`.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    from ._column_groups import groups_from_column_transformer

    numeric = [c for c in X.columns if c not in text]
    categories = []
    for name in text:
        levels = list(pd.unique(X[name].dropna()))
        try:
            levels = sorted(levels)
        except TypeError:
            pass
        categories.append(levels)
    ct = ColumnTransformer(
        [("num", "passthrough", numeric),
         ("cat", OneHotEncoder(categories=categories, handle_unknown="ignore",
                               sparse_output=False, dtype=float), text)],
        verbose_feature_names_out=False,
    )
    with warnings.catch_warnings():  # a missing value is an unknown level: all zeros
        warnings.filterwarnings("ignore", message="Found unknown categories")
        values = ct.fit_transform(X)
    encoded = pd.DataFrame(values, columns=ct.get_feature_names_out(), index=X.index)
    for name in numeric:
        encoded[name] = X[name]  # keep the numeric columns' dtype and missing values
    return encoded, groups_from_column_transformer(ct)


def _check_encoded_names(X, text, target):
    """Refuse a one-hot column name ``name_level`` that another column or the target has.

    The encoded table would hold two columns of one name (scikit-learn's
    encoder raises), or the written output would put the target over a feature.
    """
    taken = {str(c) for c in X.columns if c not in text} | {str(target)}
    seen, clash = set(), []
    for name in text:
        try:
            levels = pd.unique(X[name].dropna())
        except TypeError:  # lists or arrays in a cell (a Parquet list column)
            raise UsageError(
                f"column '{name}' holds values that are not labels (lists or arrays); "
                "--one-hot encodes text or categories only: --drop it"
            ) from None
        for level in levels:
            new = f"{name}_{level}"
            if new in taken or new in seen:
                clash.append(new)
            seen.add(new)
    if clash:
        raise UsageError(
            f"--one-hot would make columns named {quote_list(sorted(set(clash)))}, a name "
            "that another column or the target already has; rename that column first"
        )


def feature_matrix(frame, target, drop=(), one_hot=False, dropna=False, with_groups=False):
    """Split ``frame`` into numeric features ``X`` and the target ``y``.

    Non-numeric feature columns are refused (one line listing them) unless
    ``one_hot``, which expands each into 0/1 columns ``name_value``.
    Missing values are refused unless ``dropna``, which drops those rows.
    Returns ``(X, y, notes)``; ``notes`` are lines worth telling the user.
    With ``with_groups``: ``(X, y, notes, groups)``, ``groups`` the original
    column of each column of ``X`` (None when nothing was one-hot encoded).
    """
    _check_columns(frame, [target], "target column")
    _check_columns(frame, list(drop), "--drop column")
    X = frame.drop(columns=[target, *drop])
    y = frame[target]
    try:
        y.nunique()  # the task, the split and the report count its values
    except TypeError:  # lists or arrays in a cell (a Parquet list column)
        raise UsageError(
            f"target '{target}' holds values that are not labels or numbers (lists or "
            "arrays); pass a --target column of numbers or labels"
        ) from None
    if X.shape[1] == 0:
        raise UsageError(f"no feature columns left besides the target '{target}'")
    notes = []
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if text and not one_hot:
        # Dates, times and time spans (typed in a Parquet file) are not
        # labels: --one-hot made a column per distinct date, or refused
        # them as an identifier.
        temporal = [c for c in text if _temporal_kind(X[c]) is not None]
        others = [c for c in text if c not in temporal]
        parts = []
        if others:
            parts.append(f"non-numeric feature columns: {quote_list(others)}; pass "
                         "--one-hot to expand them into 0/1 columns, or --drop them")
        if temporal:
            parts.append(f"date/time feature columns: {quote_list(temporal)}; convert them "
                         "to numbers first (e.g. days since a reference date, or the "
                         "month), or --drop them")
        raise UsageError("; ".join(parts))
    # Missing values before any encoding: one-hot would turn a missing text
    # value into a row of zeros, neither refused nor dropped.
    has_na = X.isna().any(axis=0)
    bad = [*X.columns[has_na.to_numpy()], *([target] if y.isna().any() else [])]
    if bad and not dropna:
        raise UsageError(
            f"columns with missing values: {quote_list(bad)}; pass --dropna to drop "
            "those rows, or fill them first"
        )
    if bad:
        keep = ~(X.isna().any(axis=1) | y.isna())
        notes.append(f"dropped {int((~keep).sum())} rows with missing values")
        X, y = X.loc[keep], y.loc[keep]
        if len(y) < 2:
            raise UsageError("fewer than 2 rows are left after --dropna")
    groups = None
    if text:
        _check_encoded_names(X, text, target)
        _check_cardinality(X, text)
        X, groups = _one_hot(X, text)
        notes.append(f"one-hot encoded {quote_list(text)} into {X.shape[1]} columns in all")
    inf = [c for c in X.columns if not np.isfinite(X[c].to_numpy(dtype=float)).all()]
    if inf:
        raise UsageError(f"columns with infinite values: {quote_list(inf)}; fix or --drop them")
    if pd.api.types.is_numeric_dtype(y) and not np.isfinite(y.to_numpy(dtype=float)).all():
        raise UsageError(
            f"the target '{target}' has infinite values; fix or drop those rows"
        )
    return (X, y, notes, groups) if with_groups else (X, y, notes)


def read_targets(path, columns=None):
    """Targets as a Series name -> total, from a wide or a long file.

    Wide: one row, one column per target, under a header line of names.
    Long: two columns, the first holding target names, the second their
    totals; its header line is optional (a first line whose second field
    is a number is read as a target, not as a header). Names are read as
    text as written: ``01`` stays ``01`` and ``2020`` is the name ``"2020"``.

    ``columns``, the columns of M where known, settles the one layout both
    readings fit: a header line over a single ``name,value`` line whose
    name looks like a number (``name,value`` then ``01,5``) is that one
    long target when ``01`` is a column of M and the two header names are
    not both columns; otherwise it is read as wide.
    """
    headerless = _headerless_pairs(path)
    # Every field as text: names that look like numbers keep their digits
    # ("01" is not 1); the totals are converted below.
    tf = read_table(path, what="TARGETS", header=None if headerless else "infer", dtype=str)
    # Two columns over several rows can only be name,value pairs, even when
    # the names look like numbers (targets named after columns "2020", "2021").
    if tf.shape[1] == 2 and (headerless or tf.shape[0] > 1 or not _numbers(tf.iloc[:, 0])
                             or _long_by_columns(tf, columns)):
        names, values = tf.iloc[:, 0].astype(str), tf.iloc[:, 1]
        if not headerless and tf.shape[0] > 1 and _wide_with_rows(tf, columns):
            raise UsageError(
                f"TARGETS file '{path}' has a header naming columns of M "
                f"({quote_list(list(tf.columns))}) over {tf.shape[0]} rows of numbers; a "
                "wide TARGETS file holds one row of totals under those names (keep one "
                "row), a long one two columns name,value"
            )
    elif tf.shape[0] == 1:
        names, values = pd.Series(tf.columns), tf.iloc[0].reset_index(drop=True)
    else:
        raise UsageError(
            f"TARGETS file '{path}' has {tf.shape[0]} rows and {tf.shape[1]} columns; "
            "give one row with a column per target, or two columns name,value"
        )
    numbers = pd.to_numeric(values, errors="coerce")
    bad = list(names[numbers.isna().to_numpy() | ~np.isfinite(numbers.to_numpy(float))])
    if bad:
        raise UsageError(f"targets that are not finite numbers in '{path}': {quote_list(bad)}")
    dup = list(names[names.duplicated()].unique())
    if dup:
        raise UsageError(f"targets given more than once in '{path}': {quote_list(dup)}")
    return pd.Series(numbers.to_numpy(dtype=float), index=pd.Index(names.to_numpy()))


def _wide_with_rows(tf, columns):
    """True when a two-column ``tf`` read as name,value is rather a wide table of several rows.

    Its header names two columns of M and its first column holds no name of
    M but numbers: "targets that are not columns of M: '1', '2'" named the
    numbers as if they were targets.
    """
    if columns is None:
        return False
    names = {str(c) for c in columns}
    return ({str(c) for c in tf.columns} <= names and _numbers(tf.iloc[:, 0])
            and not any(str(v) in names for v in tf.iloc[:, 0]))


def _long_by_columns(tf, columns):
    """True when one header line over one row reads as a long target by M's ``columns``.

    ``name,value`` then ``01,5``: wide, it names two targets ``name`` and
    ``value``; long, one target ``01``. The reading whose names M has wins.
    """
    if columns is None or tf.shape != (1, 2) or not _is_number(tf.iat[0, 1]):
        return False
    names = {str(c) for c in columns}
    return str(tf.iat[0, 0]) in names and not {str(c) for c in tf.columns} <= names


def _headerless_pairs(path):
    """True for a CSV/TSV whose first line is ``name,number``: name,value lines with no header."""
    suffix = _suffix(path, TABLE_SUFFIXES)
    if suffix in (None, ".parquet", ".pq") or not Path(path).is_file():
        return False
    try:
        first = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", header=None, nrows=1,
                            dtype=str)
    except (OSError, ValueError, UnicodeDecodeError):
        return False  # read_table reports it
    # The first field may look like a number too: targets named "2020", "01".
    return first.shape[1] == 2 and _is_number(first.iat[0, 1])


def _numbers(column):
    """True when every value of ``column`` (numbers, or text) is a number."""
    if pd.api.types.is_numeric_dtype(column):
        return True
    return bool(pd.to_numeric(column, errors="coerce").notna().all())


def _is_number(text):
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def write_table(frame, path, suffix):
    """Write a DataFrame as CSV, TSV or Parquet, chosen by ``suffix``."""
    try:
        if suffix in (".parquet", ".pq"):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    except ImportError as exc:
        raise UsageError(f"cannot write '{path}': {one_line(exc)} (pip install pyarrow)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot write '{path}': {one_line(exc)}") from None


def _json_safe(value):
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_list(path, suffix, features, info):
    """Write the selected names: one per line (.txt), or with ``info`` (.json)."""
    if suffix == ".txt":
        text = "".join(f"{name}\n" for name in features)
    else:
        text = json.dumps(_json_safe({**info, "features": list(features)}), indent=2,
                          allow_nan=False) + "\n"
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write '{path}': {one_line(exc)}") from None


def cli_words(text, options):
    """``text`` with each parameter name of ``options`` written as its command-line option.

    ``learning_rate=0.5`` becomes ``--learning-rate 0.5`` and a bare
    ``learning_rate`` ``--learning-rate``: the estimators' messages name
    their Python parameters.
    """
    for name, option in (options or {}).items():
        text = re.sub(rf"\b{re.escape(name)}=", f"{option} ", text)
        text = re.sub(rf"(?<![-\w]){re.escape(name)}\b", option, text)
    return text


def fit_quietly(estimator, prog, *args, options=None, **kwargs):
    """Fit, turning a ValueError or a diverged fit into a one-line UsageError.

    Warnings become lines on stderr. ``NonFiniteLossError`` is a
    ``FloatingPointError``; its message already says what to change.
    ``options`` maps parameter names of the estimator to the command-line
    options that set them (:func:`cli_words`), for the messages.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator.fit(*args, **kwargs)
        except (ValueError, FloatingPointError) as exc:
            raise UsageError(cli_words(one_line(exc), options)) from None
    seen = set()
    for w in caught:
        text = cli_words(one_line(w.message), options)
        if text not in seen:
            seen.add(text)
            print(f"{prog}: warning: {text}", file=sys.stderr)
    return estimator
