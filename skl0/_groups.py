"""Groups of columns and feature costs: one gate per group, priced per group.

A :class:`GroupLayout` maps the ``p`` columns of X to ``G`` groups
(``index[j]`` is the group of column ``j``; groups are numbered in the
order of their first column) and gives each group a price multiplier
``costs[g]``. A :class:`skl0._group_gate.GroupGate` holds one Hard Concrete gate per group
and reads, to every caller that works in columns (the problems, the gate
path, the exported attributes), as the column gates ``z_cols =
z_groups[index]``; its expected L0 is ``sum_g costs[g] P(open_g)``. The
gate engine (``_engine.py``) works in the group coordinates directly.

Numpy only, no torch (the gate is in :mod:`skl0._group_gate`): a fitted
model with ``groups`` or ``feature_costs`` keeps its :class:`GroupLayout`,
and unpickling it must not import torch. No scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GroupLayout", "check_groups_order", "engine_layout", "resolve_groups"]


@dataclass(frozen=True)
class GroupLayout:
    """Which group each column belongs to, and what each group costs.

    Attributes
    ----------
    index : ndarray of shape (n_features,), dtype=int64
        Group number of each column (0..G-1, by first appearance).
    labels : ndarray of shape (n_groups,)
        The user's label of each group.
    costs : ndarray of shape (n_groups,)
        Price multiplier of each group's gate, mean 1 over the groups
        (all ones without ``feature_costs``).
    raw_costs : ndarray of shape (n_groups,) or None
        The costs as given (per group), before scaling; None without costs.
    """

    index: np.ndarray
    labels: np.ndarray
    costs: np.ndarray
    raw_costs: np.ndarray | None = None

    @property
    def n_groups(self):
        return self.labels.size

    @property
    def sizes(self):
        """Number of columns of each group."""
        return np.bincount(self.index, minlength=self.n_groups)

    @property
    def is_identity(self):
        """One column per group, in column order (costs only)."""
        return self.n_groups == self.index.size

    def columns(self, groups):
        """Sorted column indices of ``groups`` (group numbers)."""
        keep = np.zeros(self.n_groups, dtype=bool)
        keep[np.asarray(groups, dtype=np.int64)] = True
        return np.flatnonzero(keep[self.index])

    def groups_of(self, support):
        """Sorted group numbers that have a column in ``support``."""
        return np.unique(self.index[np.asarray(support, dtype=np.int64)])

    def count(self, support):
        """Number of groups that have a column in ``support``."""
        return self.groups_of(support).size

    def group_order(self, column_order):
        """Groups in the order their first column appears in ``column_order``."""
        g = self.index[np.asarray(column_order, dtype=np.int64)]
        _, first = np.unique(g, return_index=True)
        return g[np.sort(first)]

    def cost(self, groups):
        """Total scaled cost of ``groups``."""
        return float(self.costs[np.asarray(groups, dtype=np.int64)].sum())


def _is_missing(label):
    if label is None:
        return True
    import pandas as pd

    try:
        return bool(pd.isna(label)) if np.ndim(label) == 0 else False  # NaN, pd.NA, NaT
    except (TypeError, ValueError):
        return False


def _label_kind(label):
    """What ``groups`` labels may mix: numbers (int and float alike), text, or another type."""
    if isinstance(label, (bool, np.bool_)):
        return "bool"
    if isinstance(label, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(label, (str, np.str_)):
        return "str"
    return type(label).__name__


def _flat_groups_example(nested, p):
    """The flat ``groups`` to suggest for a nested one (see :func:`resolve_groups`).

    One entry is a wrapped row of labels (``[[0, 0, 1]]``): its labels.
    Several are read as the columns of each group (skglm's and group-lasso
    packages' form, ``[[0, 1], [2, 3, 4]]``): the flat labels when they are
    the positions ``0..p-1`` once each, else how to build them. (The first
    entry alone, ``[0, 1]``, had been suggested for those: a wrong fix.)
    """
    if len(nested) == 1:
        return f", e.g. groups={np.ravel(nested[0]).tolist()[:p]!r}"
    members = [np.ravel(entry).tolist() for entry in nested]
    flat = [c for cols in members for c in cols]
    if (len(flat) == p and all(isinstance(c, (int, np.integer)) and not isinstance(c, bool)
                               for c in flat) and sorted(flat) == list(range(p))):
        labels = np.empty(p, dtype=np.int64)
        for g, cols in enumerate(members):
            labels[cols] = g
        return (f"; if each entry lists the columns of one group, that is "
                f"groups={labels.tolist()!r}")
    return ("; if each entry lists the columns of one group, build it as group_of = "
            "{c: g for g, cols in enumerate(groups) for c in cols}; groups = "
            "[group_of[c] for c in X.columns] (range(X.shape[1]) for column positions)")


def check_groups_order(groups, feature_names):
    """Refuse a pandas Series of ``groups`` keyed by X's column names in another order.

    ``groups`` is read by position, one label per column of X. A Series
    indexed by the column names (``pd.Series({"age": "demo", ...})``) in
    another order than X's columns gave its labels to the wrong columns,
    silently. In X's order (a table of feature metadata indexed by name),
    or indexed by anything else, it is read by position as before.
    ``feature_names``: X's ``feature_names_in_`` (None: X has no names).
    """
    import sys

    pd = sys.modules.get("pandas")  # (a Series implies pandas is imported)
    if feature_names is None or pd is None or not isinstance(groups, pd.Series):
        return
    names = [str(c) for c in feature_names]
    index = groups.index.tolist()
    if len(index) != len(names) or index == names or set(index) != set(names):
        return
    raise ValueError(
        f"groups is a pandas Series indexed by X's column names, but in another order "
        f"(it starts {index[:3]!r}, X's columns {names[:3]!r}); groups is read by "
        "position, one label per column of X, so its labels would go to other columns. "
        "Pass groups=groups[X.columns] (or groups.reindex(X.columns))."
    )


def resolve_groups(groups, feature_costs, n_features, feature_names=None):
    """Validate ``groups`` and ``feature_costs`` against X's width.

    Returns a :class:`GroupLayout`, or None when both are None. Which
    layouts are the column-level fit is :func:`engine_layout`'s to say.
    ``feature_names``: X's column names, where it has them
    (:func:`check_groups_order`).

    ``feature_costs`` is one non-negative number per column (a group costs
    the sum of its columns), one per group (in the order of the groups'
    first columns; the same thing without ``groups``), or a dict from group
    label (column index without ``groups``) to cost. The costs are scaled
    to mean 1 over the groups, so that ``lam`` keeps its meaning.
    """
    p = int(n_features)
    if groups is None and feature_costs is None:
        return None
    check_groups_order(groups, feature_names)
    if groups is None:
        index, labels = np.arange(p, dtype=np.int64), np.arange(p)
    else:
        if isinstance(groups, dict):  # (np.asarray made it "groups has shape ()")
            lists = any(isinstance(v, (list, tuple, set, np.ndarray)) for v in groups.values())
            fix = ("if it maps each group to its columns, build group_of = {c: g for g, cols "
                   "in groups.items() for c in cols}; groups = [group_of[c] for c in "
                   "X.columns] (range(X.shape[1]) for column positions)" if lists else
                   "if it maps each column to its group, pass groups=[groups[c] for c in "
                   "X.columns]")
            raise ValueError(
                f"groups is a dict ({len(groups)} keys), but skl0 reads groups as one label "
                f"per column of X, in X's order ({p} columns); {fix}."
            )
        if isinstance(groups, (list, tuple)) and groups and isinstance(groups[0],
                                                                   (list, np.ndarray)):
            raise ValueError(
                f"groups is a nested sequence ({len(groups)} entries, the first a "
                f"{type(groups[0]).__name__} of {len(groups[0])}), but X has {p} columns; "
                f"pass a flat sequence of one group label per column of X"
                f"{_flat_groups_example(groups, p)}."
            )
        # Lists keep each label's type: np.asarray([1, "1"]) would make both "1".
        if isinstance(groups, (list, tuple)):
            arr = np.empty(len(groups), dtype=object)
            for j, g in enumerate(groups):  # (a label may itself be a tuple)
                arr[j] = g
        else:
            arr = np.asarray(groups)
        if arr.ndim != 1 or arr.shape[0] != p:
            raise ValueError(
                f"groups has shape {arr.shape}, but X has {p} columns; pass one group "
                f"label per column of X (an array-like of length {p}), e.g. "
                "groups_from_column_transformer(fitted_column_transformer)."
            )
        missing = [j for j, g in enumerate(arr.tolist()) if _is_missing(g)]
        if missing:
            raise ValueError(
                f"groups holds missing labels (None, NaN, pd.NA or NaT) at columns "
                f"{missing[:5]}; give every column a group label (a column of its own "
                "gets a label of its own, e.g. its index)."
            )
        kinds = sorted({_label_kind(g) for g in arr.tolist()})
        if len(kinds) > 1:
            raise ValueError(
                f"groups mixes labels of different kinds ({', '.join(kinds)}), e.g. 1 and "
                "'1', which would be read as one group or fail to sort; give labels of "
                "one kind, e.g. [str(g) for g in groups]."
            )
        if arr.dtype == object and kinds[0] in ("number", "str", "bool"):
            arr = np.asarray(arr.tolist())  # a plain dtype for np.unique
        try:
            uniq, first, inv = np.unique(arr, return_index=True, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                f"groups labels must be mutually comparable (all str or all int): {exc}. "
                "Convert them with e.g. [str(g) for g in groups]."
            ) from exc
        order = np.argsort(first, kind="stable")  # groups numbered by first column
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        index = rank[inv.reshape(-1)].astype(np.int64)
        labels = uniq[order]
    n_groups = labels.size
    if feature_costs is None:
        return GroupLayout(index, labels, np.ones(n_groups))
    raw = _resolve_costs(feature_costs, index, labels, p, by_column=groups is None)
    if raw.sum() <= 0:
        raise ValueError(
            "feature_costs are all zero; give at least one feature a positive cost (the "
            "costs are relative prices: only their ratios matter)."
        )
    return GroupLayout(index, labels, raw / raw.mean(), raw)


def engine_layout(layout):
    """The layout the gates and the selection work with: None for a column-level fit.

    One column per group at equal prices (equal costs without groups, or
    groups of one column each, without costs or with equal ones) is the fit
    without groups or costs:
    the costs' scale is divided out, so every gate is priced ``lam``. The
    column-level engine runs it: its selection (the exhaustive sizes,
    forward starts and second-order swaps of exact ``k``, the per-size
    polish of ``lam="auto"``, screening when p > n) is the better one, and
    ``groups=list(X.columns)``, which keys ``feature_costs`` by name, then
    changes nothing else. ``group_labels_`` and ``group_support_`` are
    still reported from ``layout``.
    """
    if layout is not None and layout.is_identity and np.all(layout.costs == layout.costs[0]):
        return None
    return layout


def _series_as_dict(costs, labels):
    """A pandas Series of costs as the dict of its labels, unless they are only positions.

    Its labels, not its order, say which cost is whose (as every Series
    ``SparseCalibrator`` takes is aligned): read by position, a Series keyed
    by group label in another order priced the wrong groups, silently. An
    index that holds exactly the group ``labels`` is read by label (also
    integer labels ``0..n-1``, as ``costs.groupby(...).sum()`` gives them);
    the default index ``0..n-1`` of other labels is read by position.
    """
    import sys

    pd = sys.modules.get("pandas")  # (a Series implies pandas is imported)
    if pd is None or not isinstance(costs, pd.Series):
        return costs
    if costs.index.has_duplicates:
        dup = costs.index[costs.index.duplicated()].unique().tolist()
        raise ValueError(f"feature_costs as a Series has repeated labels {dup[:5]}; give "
                         "each group (or column) one cost.")
    if set(costs.index.tolist()) != set(labels.tolist()) and costs.index.equals(
            pd.RangeIndex(len(costs))):
        return costs.to_numpy()
    return costs.to_dict()


def _resolve_costs(feature_costs, index, labels, p, by_column):
    n_groups = labels.size
    feature_costs = _series_as_dict(feature_costs, labels)
    if isinstance(feature_costs, dict):
        keys = {k: v for k, v in feature_costs.items()}
        known = set(labels.tolist())
        absent = [g for g in labels.tolist() if g not in keys]
        unknown = [k for k in keys if k not in known]
        if by_column and (absent or unknown):  # no groups: keys are column indices
            raise ValueError(
                f"feature_costs as a dict (or a labelled Series) maps column indices "
                f"0..{p - 1} to costs (without "
                f"groups), but its keys {list(keys)[:5]} do not cover them; pass "
                "groups=list(X.columns) to key the costs by column name, or an array "
                "with one cost per column."
            )
        if absent:
            raise ValueError(
                f"feature_costs has no cost for the groups {absent[:5]}; give a cost "
                "for every group label (or pass an array with one cost per column)."
            )
        if unknown:
            raise ValueError(
                f"feature_costs has costs for {unknown[:5]}, which are not group labels "
                f"(the labels are {labels.tolist()[:5]}...); drop them or fix their names."
            )
        values = np.array([keys[g] for g in labels.tolist()], dtype=object)
        per_group = True
    else:
        values = np.asarray(feature_costs, dtype=object)
        if values.ndim != 1 or values.shape[0] not in (p, n_groups):
            # (one column per group, e.g. without groups: one count, not "p or p")
            sizes = (f"{p} non-negative numbers, one per column" if n_groups == p else
                     f"{p} (one per column) or {n_groups} (one per group) non-negative "
                     "numbers")
            raise ValueError(f"feature_costs has shape {values.shape}; pass {sizes}.")
        per_group = values.shape[0] == n_groups
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"feature_costs must be numbers: {exc}. Pass non-negative floats."
        ) from exc
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        # Where: the column (an array of one cost per column, or no groups), else
        # the group label (a dict or Series names its keys, not their positions).
        j = int(bad[0])
        where = (f"for group {labels.tolist()[j]!r}" if per_group and not by_column
                 else f"at column {j}")
        raise ValueError(
            f"feature_costs must be finite and non-negative; got {float(values[j])!r} "
            f"{where}. Pass 0 for a free feature and a positive price for the others."
        )
    if per_group:
        return values
    return np.bincount(index, weights=values, minlength=n_groups)


def __getattr__(name):
    # GroupGate (a torch module) lives in skl0._group_gate so that this module
    # stays torch-free; a partial_fit stream pickled when it lived here still loads.
    if name == "GroupGate":
        from ._group_gate import GroupGate

        return GroupGate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

