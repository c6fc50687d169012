"""Dask collections as row blocks, and the predict side of a fitted model on them.

:class:`RowBlocks` pairs X's, y's and the weights' row blocks;
:func:`map_rows`, :func:`score_rows` and :func:`select_columns` are
``predict`` / ``score`` / ``transform`` of a Dask X. Nothing here imports
torch, so a model unpickled in a fresh process predicts on Dask data
without it (the fits on Dask collections are :mod:`skl0._dask`).
"""

from __future__ import annotations

import math

import numpy as np

from ._blocks import _block_stats, _merge_all, _merge_moments, _sum_all, _union, _unique
from ._checks import is_dask_collection
from ._compat import feature_names_of_columns
from ._warn import warn

__all__ = ["RowBlocks", "map_rows", "score_rows", "select_columns"]


def _is_frame(obj):
    return hasattr(obj, "npartitions") and hasattr(obj, "map_partitions")


def _compute_tree(parts, merge, fan=8, *lead):
    """``merge(*lead, *group)`` over delayed ``parts``, ``fan`` at a time as a
    tree on the cluster; the one merged result."""
    import dask

    while len(parts) > 1:
        parts = [dask.delayed(merge)(*lead, *parts[i : i + fan])
                 for i in range(0, len(parts), fan)]
    (out,) = dask.compute(parts[0])
    return out


# --------------------------------------------------------------- the data


class RowBlocks:
    """X, y and sample weights as aligned lists of delayed row blocks."""

    def __init__(self, X, y, sample_weight):
        import dask.array as da

        self.names = None
        frame = _is_frame(X) and hasattr(X, "columns")
        if frame:
            self._check_frame(X)
            # scikit-learn's rule, as in memory: string names only (integer
            # column labels were kept as feature_names_in_ [0, 1, ...]).
            self.names = feature_names_of_columns(X.columns)
            self.dtype = (np.float32 if all(d == np.float32 for d in X.dtypes)
                          else np.float64)
            aligned = _is_frame(y) and y.npartitions == X.npartitions and (
                sample_weight is None
                or (_is_frame(sample_weight) and sample_weight.npartitions == X.npartitions))
            if aligned:
                self.n_features = len(X.columns)
                self.x_parts = list(X.to_delayed())
                self.y_parts = list(y.to_delayed())
                self.w_parts = (None if sample_weight is None
                                else list(sample_weight.to_delayed()))
                self.y_ndim = y.ndim
                self.y = y
                return
            X = X.to_dask_array(lengths=True)
        elif not hasattr(X, "chunks"):
            raise TypeError(f"X is a {type(X).__name__}; pass a dask array or DataFrame.")
        if X.ndim != 2:
            raise ValueError(
                f"X must be 2-D (n_samples, n_features); got a dask array of shape "
                f"{X.shape}. Reshape it, e.g. X.reshape(-1, 1) for a single feature."
            )
        if any(math.isnan(c) for c in X.chunks[0]):
            raise ValueError(
                "X has unknown chunk sizes (NaN in X.chunks); call "
                "X.compute_chunk_sizes() first, or pass the DataFrame itself."
            )
        if not frame:
            kind = np.dtype(X.dtype).kind
            if kind not in "fiub":
                raise ValueError(
                    f"X has dtype {X.dtype}; skl0 needs numbers. Convert it, e.g. "
                    "X.astype('float64')."
                )
            self.dtype = np.float32 if X.dtype == np.float32 else np.float64
        X = X.rechunk({1: -1})  # rows are split, columns never
        rows = X.chunks[0]
        self.n_features = X.shape[1]

        def rows_like(a, name):
            if _is_frame(a):
                a = a.to_dask_array(lengths=True)
            elif not is_dask_collection(a):
                a = np.asarray(a)
            if a.shape[0] != X.shape[0]:
                raise ValueError(
                    f"{name} has {a.shape[0]} rows but X has {X.shape[0]}; pass one "
                    f"{name} value per row of X."
                )
            if not is_dask_collection(a):
                a = da.from_array(a, chunks=(rows,) + a.shape[1:])
            return a.rechunk((rows,) + tuple(-1 for _ in a.shape[1:]))

        y = rows_like(y, "y")
        self.y_ndim = y.ndim
        self.y = y
        self.x_parts = list(X.to_delayed().ravel())
        self.y_parts = list(y.to_delayed().ravel())
        self.w_parts = (None if sample_weight is None
                        else list(rows_like(sample_weight, "sample_weight").to_delayed().ravel()))

    @classmethod
    def paired(cls, X, y, sample_weight):
        """Blocks of a Dask array ``X`` with unknown row counts, paired with ``y``'s by position.

        For :func:`score_rows`, which needs no row count: ``y`` (and the
        weights) must be Dask arrays split into as many row blocks (as
        ``df.to_dask_array()`` of one DataFrame gives); each block pair's
        lengths are checked where it is scored.
        """
        self = cls.__new__(cls)
        self.names = None
        X = X.rechunk({1: -1})
        self.n_features = X.shape[1]
        n_blocks = X.numblocks[0]
        parts = {}
        for name, a in (("y", y), ("sample_weight", sample_weight)):
            if a is None:
                continue
            if _is_frame(a):
                a = a.to_dask_array()
            if not (is_dask_collection(a) and hasattr(a, "numblocks")
                    and a.numblocks[0] == n_blocks):
                raise ValueError(
                    f"X has unknown chunk sizes (NaN in X.chunks), so {name} must be a Dask "
                    f"array or Series split into the same {n_blocks} row blocks (e.g. both "
                    "from one DataFrame); or call X.compute_chunk_sizes() first."
                )
            if a.ndim > 1:
                a = a.rechunk({i: -1 for i in range(1, a.ndim)})
            parts[name] = list(a.to_delayed().ravel())
        self.x_parts = list(X.to_delayed().ravel())
        self.y_parts = parts["y"]
        self.w_parts = parts.get("sample_weight")
        return self

    @staticmethod
    def _check_frame(X):
        import pandas as pd

        cols = pd.Index(X.columns)
        dup = cols[cols.duplicated()].unique().tolist()
        if dup:
            raise ValueError(
                f"X has duplicated column names {dup[:5]!r}; give every column a unique "
                "name so features can be told apart."
            )
        text = [c for c, d in zip(cols, X.dtypes)
                if not (pd.api.types.is_numeric_dtype(d) or pd.api.types.is_bool_dtype(d))]
        if text:
            raise ValueError(
                f"X has non-numeric columns {text[:5]!r}; skl0 needs numbers. Encode "
                "them first (e.g. dask_ml's Categorizer and DummyEncoder) or drop them."
            )

    def per_block(self, func, *lead, **kwargs):
        """Delayed ``func(*lead, x, y, w, **kwargs)``, one per block."""
        import dask

        return [
            dask.delayed(func)(*lead, xb, yb, None if self.w_parts is None else self.w_parts[i],
                               **kwargs)
            for i, (xb, yb) in enumerate(zip(self.x_parts, self.y_parts))
        ]

    def reduce(self, **kwargs):
        """Merged :func:`_block_stats` of all blocks, computed on the cluster."""
        return _compute_tree(self.per_block(_block_stats, **kwargs), _merge_all)

    def sum_blocks(self, func, **kwargs):
        """Key-by-key sum of ``func(x, y, w, **kwargs)`` over the blocks, on the cluster."""
        return _compute_tree(self.per_block(func, **kwargs), _sum_all)

    def labels(self, limit=None):
        """Sorted distinct values of y, or None when there are more than ``limit``."""
        return _labels(self.y_parts, limit)


def _labels(y_parts, limit=None):
    """Sorted distinct values of the delayed blocks ``y_parts`` (None past ``limit``)."""
    import dask

    parts = [dask.delayed(_unique)(yb, limit) for yb in y_parts]
    return _compute_tree(parts, _union, 16, limit)


@np.errstate(under="ignore")  # the squares of columns near 1e-160: benign underflow


# --------------------------------------------------------------- predict side


def _check_columns(est, X):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    p = X.shape[1] if not _is_frame(X) else len(X.columns)
    if p != est.n_features_in_:
        raise ValueError(
            f"X has {p} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    names = getattr(est, "feature_names_in_", None)
    if _is_frame(X) and names is not None and list(X.columns) != list(names):
        raise ValueError(
            "The feature names of X differ from those seen in fit; pass the columns "
            f"{list(names)[:5]}... in the same order."
        )


def map_rows(func, est, X, n_out, dtype):
    """``func`` (numpy rows in, rows out) applied lazily to each row block of ``X``.

    ``n_out=None`` gives a 1-D result, else ``(n_samples, n_out)``. A Dask
    DataFrame gives a Dask array with unknown chunk sizes (its partitions'
    lengths are not computed).
    """
    _check_columns(est, X)
    shape = (0,) if n_out is None else (0, n_out)
    meta = np.empty(shape, dtype=dtype)

    def on_block(block):
        # An empty block (a filtered partition) has no rows to predict:
        # scikit-learn's validation would refuse it.
        return np.empty(shape, dtype=dtype) if block.shape[0] == 0 else func(block)

    if _is_frame(X):
        return X.map_partitions(on_block, meta=meta)
    X = X.rechunk({1: -1})
    if n_out is None:
        return X.map_blocks(on_block, drop_axis=1, dtype=dtype, meta=meta)
    return X.map_blocks(on_block, chunks=(X.chunks[0], (n_out,)), dtype=dtype, meta=meta)


@np.errstate(under="ignore")  # tiny targets, and ldexp to their unit: benign underflow
def _score_block(est, X, y, w, classifier):
    """Sums for :func:`score_rows` of one block (runs on a worker, with the estimator)."""
    if X.shape[0] == 0:  # an empty block (a filtered partition) adds nothing
        if classifier:
            return {"W": 0.0, "hit": 0.0}
        q = 1 if np.ndim(y) < 2 else np.shape(y)[1]
        zero = np.zeros(q)
        return {"W": 0.0, "e": np.zeros(q, dtype=int), "my": zero, "yy": zero, "sse": zero}
    pred = est.predict(X)
    n = len(pred)
    for name, a in (("y", y), ("sample_weight", w)):
        if a is not None and len(a) != n:  # (blocks paired by position, RowBlocks.paired)
            raise ValueError(
                f"a block of X has {n} rows but its block of {name} has {len(a)}; pass "
                f"{name} split into the same row blocks as X (e.g. both from one DataFrame)."
            )
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    if classifier:
        return {"W": float(w.sum()), "hit": float(w @ (pred == np.asarray(y).ravel()))}
    Y = np.asarray(y, dtype=np.float64).reshape(n, -1)
    P = np.asarray(pred, dtype=np.float64).reshape(Y.shape)
    # On y / 2**e (exact), 2**e near max|y| per output, as r2_of: squares of
    # targets near 1e200 stay finite; blocks of different e merge exactly.
    e = np.frexp(np.where(np.isfinite(Y).all(0), np.abs(Y).max(0, initial=0.0), 1.0))[1]
    Y, P = np.ldexp(Y, -e), np.ldexp(P, -e)
    W = float(w.sum())
    mean = w @ Y / W if W > 0 else np.zeros(Y.shape[1])
    return {"W": W, "e": e, "my": mean, "yy": w @ (Y - mean) ** 2, "sse": w @ (Y - P) ** 2}


@np.errstate(under="ignore")  # (ldexp down to the common unit: benign underflow)
def _rescaled(part, e):
    """A regression block's weight, mean and sums of squares on ``y / 2**e``."""
    d = part["e"] - e
    return {"W": part["W"], "my": np.ldexp(part["my"], d), "yy": np.ldexp(part["yy"], 2 * d),
            "sse": np.ldexp(part["sse"], 2 * d)}


def _score_merge(*parts):
    if "hit" in parts[0]:
        return _sum_all(*parts)
    out = parts[0]
    for b in parts[1:]:
        e = np.maximum(out["e"], b["e"])
        a_, b_ = _rescaled(out, e), _rescaled(b, e)
        out = {**_merge_moments(a_, b_), "e": e, "sse": a_["sse"] + b_["sse"]}
    return out


def score_rows(est, X, y, sample_weight=None):
    """``score`` of a Dask ``X``: accuracy or R^2 from per-block sums on the cluster.

    The predictions are made block by block on the workers and never
    gathered; one number comes back. An ``X`` with unknown chunk sizes
    (``df.to_dask_array()``, ``df.values``) is scored as ``predict`` reads
    it, its blocks paired with ``y``'s by position. R^2 follows :func:`skl0._regressor.r2_of`
    (scikit-learn's ``r2_score``, uniform over outputs, ``force_finite``).
    """
    import dask

    _check_columns(est, X)
    if not _is_frame(X) and any(math.isnan(c) for c in X.chunks[0]):
        data = RowBlocks.paired(X, y, sample_weight)  # e.g. df.to_dask_array()
    else:
        data = RowBlocks(X, y, sample_weight)
    classifier = hasattr(est, "classes_")
    model = dask.delayed(est, pure=True)
    s = _compute_tree(data.per_block(_score_block, model, classifier=classifier), _score_merge)
    if not s["W"] > 0:
        raise ValueError(
            f"sample_weight must not sum to zero; got a total of {s['W']!r}. Pass positive "
            "weights for at least one sample."
        )
    if classifier:
        return s["hit"] / s["W"]
    from ._regressor import r2_from_sums

    return r2_from_sums(s["sse"], s["yy"])


def select_columns(sel, X):
    """``transform`` of a Dask collection: the selected columns, lazily."""
    _check_columns(sel, X)
    idx = np.flatnonzero(sel.get_support())
    if idx.size == 0:
        warn(
            "No features were selected: either the data is too noisy or the selection "
            "test too strict.",
        )
    if _is_frame(X):
        return X[[X.columns[i] for i in idx]]
    return X[:, idx]
