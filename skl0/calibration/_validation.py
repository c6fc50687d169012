"""Input checks for sparse calibration; every error says what to pass instead.

None of these functions modifies its inputs; a sparse ``M`` stays sparse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "best_common_factor",
    "check_finite_matrix",
    "check_reachable",
    "check_record_weights",
    "check_target_groups",
    "check_target_weights",
    "check_targets",
    "check_value_range",
    "check_weight_range",
    "default_target_names",
]


def default_target_names(n_targets):
    """``["target_0", "target_1", ...]``."""
    return np.asarray([f"target_{j}" for j in range(n_targets)], dtype=object)


def check_finite_matrix(M):
    """Raise if ``M`` (ndarray or scipy sparse) holds NaN or infinity."""
    values = M.data if sp.issparse(M) else M
    bad = ~np.isfinite(values)
    if bad.any():
        kind = "NaN" if np.isnan(values[bad]).any() else "infinity"
        raise ValueError(
            f"M contains {int(bad.sum())} {kind} value(s); every entry of M must be "
            "finite. Replace missing contributions by 0 (or drop those records) "
            "before calling fit."
        )


def _plural(what):
    """``"record (row)"`` -> ``"records (rows)"``, ``"target column"`` -> ``"target columns"``."""
    if what.endswith(")"):
        noun, aside = what[:-1].split(" (")
        return f"{noun}s ({aside}s)"
    return what + "s"


def _as_1d_float(name, values, length, what):
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must hold numbers, one per {what}, but converting it to float "
            f"failed ({exc}); pass a 1-d array, list or Series of numbers."
        ) from exc
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional, got an array of shape {arr.shape}; "
            f"pass one value per {what}."
        )
    if arr.shape[0] != length:
        raise ValueError(
            f"{name} has {arr.shape[0]} entries but M has {length} {_plural(what)}; "
            f"pass exactly one value per {what} (len({name}) == {length})."
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) (first at "
            f"position {int(np.flatnonzero(bad)[0])}); pass finite numbers only."
        )
    return arr


def _refuse_unaligned(name, values, noun):
    """A dict names its targets but has no order: ask for the Series that aligns it.

    So does a DataFrame of one row (the command line's wide TARGETS file),
    whose row is that Series ("must be one-dimensional, got shape (1, Q)").
    """
    if hasattr(values, "columns") and hasattr(values, "iloc") and len(values) == 1:
        raise ValueError(
            f"{name} is a DataFrame of one row; pass that row, {name}.iloc[0], a Series "
            "indexed by the target names."
        )
    if isinstance(values, dict):
        raise ValueError(
            f"{name} is a dict; pass a pandas Series, pd.Series({name}) (one {noun} "
            "per target name, aligned to the columns of a DataFrame M, else to the "
            "index of a targets Series), or an array in the order of M's columns."
        )


def _is_series(values):
    return hasattr(values, "index") and hasattr(values, "to_numpy")


def _range_from_zero(index):
    """Whether ``index`` is pandas' own default, a ``RangeIndex`` from 0 by 1."""
    import pandas as pd

    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _default_index(index):
    """Whether ``index`` is the default ``0..n-1`` (labels nothing).

    pandas' ``RangeIndex`` from 0, or integers equal to ``0..n-1`` in order
    (``pd.Index([0, 1, 2])``: its labels are its positions).
    """
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return _range_from_zero(index)
    values = np.asarray(index)
    return (values.dtype.kind in "iu"
            and np.array_equal(values, np.arange(values.size)))


def _align_series(name, series, names, noun):
    """The values of the Series ``name``, in the order of ``names`` (the target names).

    Aligned by label when ``names`` is given, unless the index is the
    default ``0..Q-1`` that labels none of them (a Series of values only):
    then by position. Without ``names`` (array targets and an array or
    sparse ``M``) only that default index is read, by position; any other
    index is refused, since its labels name no target.
    """
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()].unique().tolist()
        raise ValueError(
            f"{name} has repeated labels, e.g. {dup[:3]}; give each {noun} once."
        )
    index = np.asarray(series.index, dtype=object)
    default = _default_index(series.index)
    if names is None:
        if not default:
            shown = str(index[:3].tolist())
            shown = shown[:-1] + ", ...]" if len(index) > 3 else shown
            raise ValueError(
                f"{name} is a Series labelled {shown}, but the targets have no names "
                "to align it with (M is an array or sparse matrix and targets is not a "
                f"labelled Series); pass {name} as an array in the order of M's "
                "columns, or name the targets: a DataFrame M, or a targets Series "
                f"indexed by the labels {name} uses."
            )
    elif not (default and not set(index) & set(names)):
        given, known = set(index), set(names)
        missing = [n for n in names if n not in given]
        if missing:
            raise ValueError(
                f"{name} has no value for {len(missing)} column(s) of M, e.g. "
                f"{missing[:3]}; pass a Series indexed by every target name (the "
                "columns of a DataFrame M, else the index of a targets Series)."
            )
        extra = [v for v in index if v not in known]
        if extra:  # a value given but never used (a typo'd name?)
            raise ValueError(
                f"{name} holds {len(extra)} {noun}(s) with no column of that name in "
                f"M, e.g. {extra[:3]}; drop them from {name}, or name "
                "the targets with them (the columns of a DataFrame M, else the index "
                "of a targets Series)."
            )
        series = series.reindex(names)
    return series.to_numpy()  # (converted, with a message, by the caller)


def check_targets(targets, n_targets, names=None):
    """Targets as a float64 array, aligned to ``names`` if both are named.

    Parameters
    ----------
    targets : array-like or pandas.Series of shape (Q,)
    n_targets : int
        Number of columns of ``M``.
    names : ndarray or None
        Column labels of ``M`` (from a DataFrame, strings or not), if any.

    Returns
    -------
    targets : ndarray of shape (Q,)
    names : ndarray or None
        ``names``, or, when ``M`` had none, the Series' index unless it is
        the default ``0..Q-1`` (strings, integers or any other labels).

    A Series is aligned to ``names`` by label unless its index is the
    default ``0..Q-1`` that labels none of them (a Series of values
    only): then, as an array, by position.
    """
    _refuse_unaligned("targets", targets, "total")
    if _is_series(targets):
        # Only pandas' own default index (a RangeIndex from 0) leaves the
        # targets unnamed: integer ids 0..Q-1 (pd.Series(dict), sort_index())
        # name them, so labelled weights and groups align to those ids.
        if names is None and not _range_from_zero(targets.index):
            names = np.asarray(targets.index, dtype=object)
        targets = _align_series("targets", targets, names, "total")
    return _as_1d_float("targets", targets, n_targets, "target column"), names


def check_record_weights(sample_weight, n_records):
    """Initial weights: ones by default, else finite and strictly positive."""
    if sample_weight is None:
        return np.ones(n_records)
    w = _as_1d_float("sample_weight", sample_weight, n_records, "record (row)")
    if (w <= 0).any():
        i = int(np.flatnonzero(w <= 0)[0])
        raise ValueError(
            "sample_weight must be strictly positive, but "
            f"sample_weight[{i}]={float(w[i])!r} is a zero or negative weight; drop "
            "records whose initial weight is <= 0 from M and sample_weight first."
        )
    return w


def check_target_weights(target_weights, n_targets, names=None):
    """Per-target importance: ones by default, else finite, >= 0, not all 0.

    A Series is aligned to the target ``names`` as in :func:`check_targets`.
    """
    if target_weights is None:
        return np.ones(n_targets)
    _refuse_unaligned("target_weights", target_weights, "weight")
    if _is_series(target_weights):
        target_weights = _align_series("target_weights", target_weights, names, "weight")
    w = _as_1d_float("target_weights", target_weights, n_targets, "target column")
    if (w < 0).any() or not (w > 0).any():
        raise ValueError(
            "target_weights must be >= 0 with at least one > 0, got min="
            f"{float(w.min())!r}, max={float(w.max())!r}; pass non-negative importances."
        )
    return w


def check_target_groups(target_groups, n_targets, names=None):
    """Group labels, one per target, or None.

    A Series is aligned to the target ``names`` as in :func:`check_targets`.
    """
    if target_groups is None:
        return None
    _refuse_unaligned("target_groups", target_groups, "group label")
    labelled = _is_series(target_groups)
    if labelled:
        target_groups = _align_series("target_groups", target_groups, names, "label")
    groups = np.asarray(target_groups)
    if groups.ndim != 1 or groups.shape[0] != n_targets:
        raise ValueError(
            f"target_groups has shape {groups.shape} but M has {n_targets} target "
            f"columns; pass one group label per target (len == {n_targets})."
        )
    # Missing labels first, whatever their kind (None, NaN, pd.NA, NaT): sorting
    # them beside strings failed with a message about mixed kinds instead.
    import pandas as pd

    missing = np.flatnonzero(pd.isna(groups))
    if missing.size:
        i = int(missing[0])
        # A Series was aligned to the target names: name the target, not
        # its position after the alignment.
        where = f"[{names[i]!r}]" if labelled and names is not None else f"[{i}]"
        # The value as read, not as written: pandas stores a None as NaN in
        # a str, numeric or categorical Series (pd.Series(["a", None]) holds
        # nan), so the message says it is missing rather than "is nan" alone.
        raise ValueError(
            f"target_groups{where} is missing (read as {groups[i]}; {missing.size} "
            "missing label(s) in all); give every target a group label (None, NaN, "
            "pd.NA and NaT are not labels, and pandas stores a None as NaN in a "
            "str, numeric or categorical Series)."
        )
    try:  # the labels are grouped by sorting them
        np.unique(groups)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in groups.tolist()})
        raise ValueError(
            f"target_groups mixes labels that cannot be compared ({', '.join(kinds)}); "
            "pass labels of one kind, e.g. all strings or all integers."
        ) from None
    return groups


def _column_extremes(M):
    if sp.issparse(M):
        M = sp.csc_matrix(M)  # shares the caller's arrays when M is CSC already
        if not M.has_canonical_format:  # min/max sum duplicates in place: on a copy
            M = M.copy()
        return (
            np.asarray(M.min(axis=0).toarray()).ravel(),
            np.asarray(M.max(axis=0).toarray()).ravel(),
        )
    if M.shape[0] == 0:
        return np.zeros(M.shape[1]), np.zeros(M.shape[1])
    return M.min(axis=0), M.max(axis=0)


def check_reachable(M, targets, names):
    """Raise for a target that no non-negative weighting of the records reaches.

    A non-zero total whose column in ``M`` is all zero, a negative total whose
    column is all >= 0, and a positive total whose column is all <= 0.
    """
    col_min, col_max = _column_extremes(M)
    problems = (
        (
            (col_min == 0) & (col_max == 0) & (targets != 0),
            "its column of M is all zero",
        ),
        ((col_min >= 0) & (targets < 0), "its column of M has no negative entry"),
        ((col_max <= 0) & (targets > 0), "its column of M has no positive entry"),
    )
    for bad, why in problems:
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"target {names[j]!r} (column {j}) = {float(targets[j])!r} cannot be "
                f"reached by non-negative weights because {why} ({int(bad.sum())} such "
                "target(s) in all); fix that target or its column of M, or drop "
                "that column from M and its entry from targets."
            )


def best_common_factor(M, w0, targets, scales, coefficients):
    """The factor ``a >= 0`` that makes ``a * (M.T @ w0)`` fit the targets best.

    The closed-form least-squares factor of the relative squared error,
    computed in float64 on the host with the totals normalised first, so
    design weights of 1e20 or totals of 1e25 neither overflow nor lose the
    factor (float32 squares overflow past ~1e19). 1 when nothing is
    measured (every total 0).
    """
    totals = np.asarray(M.T @ np.asarray(w0, dtype=np.float64), dtype=np.float64).ravel()
    x, y = totals / scales, np.asarray(targets, dtype=np.float64) / scales
    norm = np.max(np.abs(x))
    if not np.isfinite(norm) or norm == 0:
        return 1.0
    x = x / norm
    den = float(np.dot(coefficients, x * x))
    if den <= 0:
        return 1.0
    factor = float(np.dot(coefficients, x * y)) / den / norm
    return factor if np.isfinite(factor) and factor > 0 else 1.0


def _dtype_room(dtype):
    """``(smallest, largest)`` magnitude ``dtype`` holds with a factor 1e4 of room each way, and its name."""
    import torch

    finfo = torch.finfo(dtype)
    return finfo.tiny * 1e4, finfo.max / 1e4, str(dtype).removeprefix("torch.")


#: Elements per block when :func:`_abs_range` scans an array (8 MB float64 temporaries).
_RANGE_BLOCK = 1 << 20


def _abs_range(values):
    """Smallest non-zero and largest ``|value|`` of an array or sparse matrix, in blocks.

    Without a float64 copy of the whole of ``M``: each block's ``abs`` is
    taken in the array's own dtype. ``(inf, 0)`` when every value is 0.
    """
    v = values.data if sp.issparse(values) else np.asarray(values)
    rows = v.reshape(v.shape[0], -1) if v.ndim > 1 else v.reshape(-1, 1)
    step = max(1, _RANGE_BLOCK // max(rows.shape[1], 1))
    lo, hi = np.inf, 0.0
    for i in range(0, rows.shape[0], step):
        a = np.abs(rows[i : i + step])
        a = a[a > 0]
        if a.size:
            lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
    return lo, hi


def check_value_range(M, targets, scales, dtype):
    """Refuse entries of ``M``, targets or their scales that ``dtype`` cannot hold.

    In float32 an entry past ~3e38 becomes infinite and one below ~1e-38
    (non-zero) loses its precision, and every loss is then NaN: the
    divergence message would blame ``learning_rate``. Checked with the
    same room as :func:`check_weight_range` (a factor 1e4 each way).
    """
    import torch

    small, large, name = _dtype_room(dtype)
    for what, v in (("M", M), ("targets", targets), ("the targets' scales", scales)):
        lo, hi = _abs_range(v)
        if hi > 0 and (hi > large or lo < small):
            raise ValueError(
                f"{what} holds values from {lo:.3g} to {hi:.3g}, beyond what "
                f"dtype={name!r} holds with room to compute (about {small:.0e} "
                f"to {large:.0e}); "
                + ("pass dtype='float64', or " if dtype != torch.float64 else "")
                + "express M and the targets in other units."
            )


def check_weight_range(weights, dtype):
    """Refuse starting weights that ``dtype`` cannot hold (their logarithms are trained)."""
    small, large, name = _dtype_room(dtype)
    hi, lo = float(np.max(weights)), float(np.min(weights))
    if hi > large or lo < small:
        raise ValueError(
            f"The weights that fit these totals reach {hi:.3g} (smallest {lo:.3g}), beyond "
            f"what dtype={name!r} holds with room to train; pass dtype='float64', or "
            "express M or the targets in larger units (e.g. thousands)."
        )
