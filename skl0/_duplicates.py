"""Exactly duplicated columns of X: which copies a fit sets aside.

Two columns that hold the same values in every row are the same feature
to the fit (they standardize alike), and left to themselves the solvers
chose between them by round-off (diabetes with column 8 appended again
kept the copy at ``k=4`` and the original at ``k=2``). A fit therefore
selects among the first copies only (:func:`later_copies`) and reports
the later ones as not selected: the lowest index wins, for every ``k``,
``lam``, head and path.

Only exact equality counts (``==`` value by value, so ``-0.0`` equals
``0.0``): a column that differs in one row, or equals another only up to
a scale or an offset, is a column of its own. Constant columns are left
to the constant-column rule (they standardize to zeros and carry no
signal). Numpy, scipy and torch only.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ._numerics import column_extremes

__all__ = ["later_copies"]

#: Rows compared in the first step, and the most in one: the candidate
#: columns are read a block of rows at a time, each block eight times the
#: last, and columns that already differ drop out before the next (distinct
#: columns of equal extremes, such as 0/1 indicators, mostly part within
#: the first block).
_FIRST_ROWS, _MAX_ROWS = 64, 1 << 15
#: The most values in one block (16 MB of float64).
_BLOCK_ELEMENTS = 1 << 21
#: A CSC X's block is cut from its row slice (a C scan of all its entries,
#: ~1.2 ns each) when it has at most this many entries per candidate column,
#: else column by column (~10 us each): at 20000 x 1000 0/1 columns, 5%
#: filled, 1.3 against 10 ms.
_SCAN_PER_COLUMN = 8000


def _extremes(X):
    """Column minima and maxima (:func:`skl0._numerics.column_extremes`, or a torch tensor's)."""
    if torch.is_tensor(X):
        return X.amin(0).cpu().numpy(), X.amax(0).cpu().numpy()
    return column_extremes(X)


def _refine(ids, keys):
    """Split the classes ``ids`` by ``keys`` (one hashable per column); new ids from 0."""
    seen = {}
    return np.array([seen.setdefault((i, k), len(seen)) for i, k in zip(ids.tolist(), keys)],
                    dtype=np.int64)


def _block_keys(X, start, rows, cols):
    """One key (bytes) per column of ``cols``: equal where they agree on rows ``start:start + rows``."""
    if torch.is_tensor(X):
        idx = torch.as_tensor(cols, device=X.device)
        return _dense_keys(X[start : start + rows].index_select(1, idx).cpu().numpy())
    if sp.issparse(X) and (X.format == "csr" or X.nnz <= _SCAN_PER_COLUMN * len(cols)):
        # (never densified: each column's entries in these rows; a CSC
        # X's row slice scans all its entries, in C)
        B = X[start : start + rows][:, cols].tocsc()
        B.sum_duplicates()
        B.eliminate_zeros()  # (an explicit zero, or -0.0, as an implicit one)
        return [B.indices[a:b].tobytes() + B.data[a:b].tobytes()
                for a, b in zip(B.indptr[:-1].tolist(), B.indptr[1:].tolist())]
    if sp.issparse(X):  # CSC (sorted indices), few columns: each one's entries in these rows
        stop = min(start + rows, X.shape[0])
        out = np.zeros((stop - start, cols.size), dtype=X.dtype)
        for c, j in enumerate(cols.tolist()):
            a, b = X.indptr[j], X.indptr[j + 1]
            lo, hi = a + np.searchsorted(X.indices[a:b], [start, stop])
            np.add.at(out[:, c], X.indices[lo:hi] - start, X.data[lo:hi])
        return _dense_keys(out)
    return _dense_keys(X[start : start + rows, cols])


def _dense_keys(block):
    block = np.ascontiguousarray(block.T) + 0.0  # (+ 0.0: -0.0 as 0.0)
    return [row.tobytes() for row in block]


def later_copies(X, extremes=None):
    """Boolean mask of the columns equal, row by row, to a column before them; None if none.

    ``X``: a numpy array, a scipy sparse matrix (implicit zeros count) or a
    dense torch tensor, finite. ``extremes``: X's column minima and maxima
    (numpy) where the caller has them: columns are compared only within
    groups of equal extremes (not constant), so X without such a pair
    costs a sort of ``p`` pairs; the candidates are then compared a block
    of rows at a time (growing, each at most ``_BLOCK_ELEMENTS`` values;
    a CSR X is never densified), each block only for the columns still alike.
    """
    n, p = X.shape
    if p < 2 or n == 0:
        return None
    lo, hi = _extremes(X) if extremes is None else extremes
    order = np.lexsort((hi, lo))
    lo, hi = np.asarray(lo)[order], np.asarray(hi)[order]
    # (constant columns, lo == hi: left to their own rule)
    same = (lo[1:] == lo[:-1]) & (hi[1:] == hi[:-1]) & (lo[1:] != hi[1:])
    if not same.any():
        return None
    # Classes of candidate columns (equal extremes), refined block by block.
    run = np.concatenate([[0], np.cumsum(~same)])  # run id in sorted order
    in_run = np.zeros(p, dtype=bool)
    in_run[order[1:][same]] = True
    in_run[order[:-1][same]] = True
    cols = np.flatnonzero(in_run)  # increasing: the first of a class is the lowest index
    ids = np.empty(p, dtype=np.int64)
    ids[order] = run
    ids = ids[cols]
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsc()
        if not X.has_sorted_indices:
            X = X.sorted_indices()
    start, size = 0, _FIRST_ROWS
    while start < n:
        alike = np.bincount(ids)[ids] > 1
        cols, ids = cols[alike], ids[alike]
        if not cols.size:
            return None
        rows = min(size, max(_FIRST_ROWS, _BLOCK_ELEMENTS // cols.size))
        ids = _refine(ids, _block_keys(X, start, rows, cols))
        start, size = start + rows, min(8 * size, _MAX_ROWS)
    _, first = np.unique(ids, return_index=True)
    later = np.ones(cols.size, dtype=bool)
    later[first] = False
    if not later.any():
        return None
    mask = np.zeros(p, dtype=bool)
    mask[cols[later]] = True
    return mask
