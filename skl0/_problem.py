"""Data on the device, seen through internal standardization.

A *problem* owns the training tensors and computes the task loss of a head
under a gate vector ``z``. Two kinds share one interface (``loss``):

- :class:`DirectProblem` evaluates the head on X (dense, or a torch sparse
  CSR tensor that is never densified), O(n p) per step for a linear head,
  or O(batch p) with mini-batches;
- :class:`GramProblem` is for squared loss with a linear head: it keeps the
  standardized ``X'WX`` and ``X'Wy`` so a step costs O(p^2 q), not O(n p).

Torch, numpy and scipy only; no scikit-learn here.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

from ._heads import select_columns
from ._numerics import column_extremes, column_scale, column_shift

__all__ = [
    "DirectProblem",
    "GramProblem",
    "PreparedX",
    "block_rows",
    "host_prepared",
    "prepare_on_device",
    "prepares_on_device",
    "row_scaled",
    "tensor_extremes",
    "second_moments",
    "sparse_to_torch",
    "weighted_cross",
    "weighted_moments",
    "weighted_sums",
]

#: Bytes per block of rows when accumulating moments and X'WX (here and in
#: partial_fit): the temporaries stay near 16 MB whatever the width of X.
BLOCK_BYTES = 1 << 24
_BLOCK_ELEMENTS = BLOCK_BYTES // 4  # float32 blocks
#: numpy's float64 work blocks (the centred rows of the moments and of the
#: Gram statistics): BLOCK_BYTES each, in one buffer reused block after block.
_F64_BLOCK_ELEMENTS = BLOCK_BYTES // 8

#: The widest X whose p x p float64 Gram statistics are formed (128 MiB at
#: 4096): a sparse X in fit, partial_fit's exact mode, a Dask fit. Beyond
#: it the statistics cost more memory than they save time.
GRAM_MAX_FEATURES = 4096


def block_rows(X, elements=_BLOCK_ELEMENTS):
    """Rows per block so that a block of ``X`` holds about ``elements`` numbers."""
    return max(1, elements // max(X.shape[1], 1))


def _f64_buffer(X):
    """One float64 work buffer of ``BLOCK_BYTES`` for the row blocks of numpy ``X``, and its rows.

    The blocks' centred copies go into it one after the other, so a pass
    over X adds one 16 MB block to memory, whatever X's dtype (a new array
    per block, and its temporaries, held two or three 32 MB blocks at once).
    """
    rows = block_rows(X, _F64_BLOCK_ELEMENTS)
    return np.empty((min(rows, X.shape[0]), X.shape[1])), rows


def weighted_sums(X, w):
    """``w @ X`` and ``w @ (X * X)``, the squares formed in blocks of rows.

    ``X`` is a torch tensor (with torch ``w``) or a scipy sparse matrix (with
    numpy ``w``, numpy results); no X-sized temporary is made either way
    (a canonical CSR or CSC matrix's sums in blocks of its stored entries,
    :func:`_sparse_weighted_sums`; any other sparse X's through ``X.T @ w``
    and ``X.multiply(X)``, copies of its entries).
    """
    if sp.issparse(X):
        if X.format in ("csr", "csc") and X.has_canonical_format:
            return _sparse_weighted_sums(X, np.asarray(w, dtype=np.float64))
        return np.asarray(X.T @ w).ravel(), np.asarray(X.multiply(X).T @ w).ravel()
    sq = torch.zeros(X.shape[1], device=X.device, dtype=X.dtype)
    rows = block_rows(X)
    for start in range(0, X.shape[0], rows):
        Xb = X[start : start + rows]
        sq += w[start : start + rows] @ (Xb * Xb)
    return w @ X, sq


def sparse_to_torch(A, device, dtype):
    """A scipy CSR matrix as a torch sparse CSR tensor (indices shared, values cast)."""
    A = A.tocsr()
    with warnings.catch_warnings():  # torch labels CSR support "beta"; it is what we need
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.as_tensor(A.indptr, dtype=torch.int64),
            torch.as_tensor(A.indices, dtype=torch.int64),
            torch.as_tensor(A.data).to(dtype),
            size=A.shape,
            device=device,
            check_invariants=False,  # scipy has already validated the structure
        )


def constant_columns(X):
    """Boolean mask of the columns whose values are all equal (exactly).

    Dense torch tensors give a torch mask; numpy arrays and scipy sparse
    matrices (implicit zeros counted) give a numpy mask.
    """
    host = sp.issparse(X) or isinstance(X, np.ndarray)
    if X.shape[0] == 0:
        return np.zeros(X.shape[1], dtype=bool) if host else torch.zeros(
            X.shape[1], dtype=torch.bool, device=X.device)
    if host:
        lo, hi = column_extremes(X)
        return hi == lo
    return X.amax(0) == X.amin(0)


#: Stored entries per pass of the sparse helpers below (:func:`_entry_blocks`,
#: :func:`row_scaled`): their float64 temporaries stay near 2 MB each, whatever nnz.
_SPARSE_BLOCK_ENTRIES = 1 << 18


def _entry_blocks(X):
    """Blocks of whole rows (CSR) or columns (CSC) of ``X``, about ``_SPARSE_BLOCK_ENTRIES``
    stored entries each (at least one row or column).

    Yields ``(j0, j1, a, b, local)``: rows or columns ``j0 .. j1 - 1``, whose
    entries are ``X.data[a:b]``, and each entry's row or column less ``j0``.
    """
    major, ptr = X.shape[0] if X.format == "csr" else X.shape[1], X.indptr
    j0 = 0
    while j0 < major:
        j1 = int(np.searchsorted(ptr, ptr[j0] + _SPARSE_BLOCK_ENTRIES, side="right")) - 1
        j1 = min(max(j1, j0 + 1), major)
        yield j0, j1, ptr[j0], ptr[j1], np.repeat(np.arange(j1 - j0), np.diff(ptr[j0 : j1 + 1]))
        j0 = j1


def _sparse_weighted_sums(X, w):
    """``w @ X`` and ``w @ (X * X)`` of a canonical CSR or CSC ``X``, in float64.

    ``X.multiply(X)`` copied every entry of X (its data, indices and
    pointers: 99 MB for a 40000 x 20000 text-like CSR X, at each IRLS step
    of a binary fit), and ``X.T @ w`` a float32 X's data as float64; the
    blocks of :func:`_entry_blocks` bound the temporaries. (Canonical: with
    duplicate entries the square of a sum is not the sum of squares.)
    """
    p = X.shape[1]
    xw, sq = np.zeros(p), np.zeros(p)
    rows = X.format == "csr"
    for j0, j1, a, b, local in _entry_blocks(X):
        x = X.data[a:b]
        wx = x * (w[j0:j1][local] if rows else w[X.indices[a:b]])
        wxx = wx * x
        if rows:
            xw += np.bincount(X.indices[a:b], weights=wx, minlength=p)
            sq += np.bincount(X.indices[a:b], weights=wxx, minlength=p)
        else:
            xw[j0:j1] = np.bincount(local, weights=wx, minlength=j1 - j0)
            sq[j0:j1] = np.bincount(local, weights=wxx, minlength=j1 - j0)
    return xw, sq


def _sparse_centred_squares(X, w, mean):
    """``sum_i w_i (x_ij - mean_j)^2`` per column of a scipy sparse ``X`` (float64).

    The stored entries are centred one by one; the implicit zeros of column
    ``j`` add ``mean_j^2`` times their total weight. Nothing is densified.
    Whole columns at a time, about ``_SPARSE_BLOCK_ENTRIES`` entries each:
    a column's sums are those of one pass (``np.bincount`` adds its entries
    in order, from zero), and the temporaries (the entries' columns, weights
    and deviations, five arrays of nnz numbers at once, 3.7 times a CSR X)
    stay block-sized.
    """
    X = X.tocsc()
    p = X.shape[1]
    sq, w_stored = np.zeros(p), np.zeros(p)
    for j0, j1, a, b, cols in _entry_blocks(X):
        wv = w[X.indices[a:b]]
        dev = X.data[a:b].astype(np.float64) - mean[j0:j1][cols]
        sq[j0:j1] = np.bincount(cols, weights=wv * dev * dev, minlength=j1 - j0)
        w_stored[j0:j1] = np.bincount(cols, weights=wv, minlength=j1 - j0)
    return sq + mean * mean * np.maximum(w.sum() - w_stored, 0.0)


def row_scaled(X, w):
    """``X.multiply(w[:, None]).tocsr()`` of a scipy sparse ``X``: each row times its weight.

    For a canonical CSR X (sorted indices, no duplicates: what the fits
    pass) the product shares X's index arrays and forms only its values,
    in blocks of about ``_SPARSE_BLOCK_ENTRIES`` entries: the same matrix,
    value for value, where scipy's product went through a COO copy with
    row and column arrays (2 times X at its peak). A canonical CSC X is
    scaled as stored and then converted (no CSR copy of X itself). Any
    other X takes scipy's.
    """
    if X.format == "csc" and X.has_canonical_format:
        # Scaled as stored, then converted: the CSR copy of X, scaled (the
        # conversion of a canonical matrix keeps each row's order).
        data = np.empty(X.data.shape, dtype=np.result_type(X.data.dtype, w.dtype))
        for a in range(0, X.nnz, _SPARSE_BLOCK_ENTRIES):
            b = a + _SPARSE_BLOCK_ENTRIES
            np.multiply(X.data[a:b], w[X.indices[a:b]], out=data[a:b])
        return type(X)((data, X.indices, X.indptr), shape=X.shape).tocsr()
    if not (X.format == "csr" and X.has_canonical_format):
        return X.multiply(w[:, None]).tocsr()
    ptr = X.indptr
    data = np.empty(X.data.shape, dtype=np.result_type(X.data.dtype, w.dtype))
    rows = max(1, _SPARSE_BLOCK_ENTRIES * X.shape[0] // max(X.nnz, 1))
    for r0 in range(0, X.shape[0], rows):
        r1 = min(r0 + rows, X.shape[0])
        a, b = ptr[r0], ptr[r1]
        np.multiply(X.data[a:b], np.repeat(w[r0:r1], np.diff(ptr[r0 : r1 + 1])), out=data[a:b])
    return type(X)((data, X.indices, X.indptr), shape=X.shape)


def second_moments(var, mean64, mean, std, const=None):
    """``sum_i w_i xs_ij^2`` (``w`` summing to one) of the columns as a problem standardizes them.

    ``var`` and ``mean64``: the weighted variances and float64 means of
    :func:`weighted_moments` (``second=True``), computed on the problem's
    own rows and weights; ``mean`` and ``std``: the problem's tensors (in
    its dtype). As ``sum w (x - m)^2 = var + (mean64 - m)^2`` for any shift
    ``m``, this equals :meth:`DirectProblem.column_second_moments`' pass
    over X (1 up to the dtype's rounding of mean and std, the variance
    where a tiny spread kept std 1) without it; ``const`` (X's constant
    columns) get 0.
    """
    m = mean.detach().double().cpu().numpy()
    sd = std.detach().double().cpu().numpy()
    out = (var + (mean64 - m) ** 2) / (sd * sd)  # var >= 0: sums of squares
    if const is not None:
        out[const] = 0.0
    return torch.as_tensor(out, device=mean.device)


@np.errstate(under="ignore")  # values far below the unit round to subnormals or 0 (expected)
def weighted_moments(X, w, out_dtype=None, const=None, second=False):
    """Weighted column means and standard deviations (``w`` sums to one).

    ``X`` is a torch tensor, or a numpy array or scipy sparse matrix (then
    ``w`` is numpy and float64 numpy arrays come back: on small host data
    numpy's per-call cost is a fraction of torch's). Both moments are
    accumulated in float64 and the
    spread is formed from centred values (two passes over the rows in
    blocks), so a column with a large offset and a small spread (a Unix
    timestamp within one day) keeps its spread; the results come back in
    ``out_dtype`` (torch; default X's dtype). Constant columns get std 1 so
    that they standardize to zeros (and carry no signal) instead of
    dividing by zero; an exactly constant column gets its value as mean, so
    it standardizes to exact zeros (a weighted mean can be off by
    round-off). ``const``: X's :func:`constant_columns`, when the caller has
    them (a pass over X saved). ``second``: also return the weighted
    variances (float64, numpy or torch as the means; about the float64 means
    before constant columns take their value), from which
    :func:`second_moments` forms what
    :meth:`DirectProblem.column_second_moments` would compute from X again.
    """
    const = constant_columns(X) if const is None else const
    if sp.issparse(X):
        w = np.asarray(w, dtype=np.float64)
        total = w.sum()
        mean = np.asarray(X.T @ w, dtype=np.float64).ravel() / total
        sq = _sparse_centred_squares(X, w, mean) / total
        std = np.sqrt(np.maximum(sq, 0.0))
        tiny = np.finfo(X.dtype).eps * np.maximum(np.abs(mean), 1.0) * 10
        std = np.where(std > tiny, std, 1.0)
        if const.any():
            first = np.asarray(X[0].todense(), dtype=np.float64).ravel()
            mean = np.where(const, first, mean)
            std = np.where(const, 1.0, std)
        return (mean, std, sq) if second else (mean, std)
    if isinstance(X, np.ndarray):
        w = np.asarray(w, dtype=np.float64)
        total = w.sum()
        mean = np.zeros(X.shape[1])
        sq = np.zeros(X.shape[1])
        buf, rows = _f64_buffer(X)
        for start in range(0, X.shape[0], rows):
            Xb = X[start : start + rows]
            if Xb.dtype != np.float64:
                Xb = buf[: Xb.shape[0]]
                np.copyto(Xb, X[start : start + rows])
            mean += w[start : start + rows] @ Xb
        mean /= total
        for start in range(0, X.shape[0], rows):
            Xb = buf[: min(rows, X.shape[0] - start)]
            np.subtract(X[start : start + rows], mean, out=Xb)
            np.multiply(Xb, Xb, out=Xb)
            sq += w[start : start + rows] @ Xb
        sq /= total
        std = np.sqrt(np.maximum(sq, 0.0))
        tiny = np.finfo(X.dtype).eps * np.maximum(np.abs(mean), 1.0) * 10
        std = np.where(std > tiny, std, 1.0)
        if X.shape[0] > 0:
            mean = np.where(const, X[0], mean)
            std = np.where(const, 1.0, std)
        return (mean, std, sq) if second else (mean, std)
    out_dtype = X.dtype if out_dtype is None else out_dtype
    w = torch.as_tensor(w, device=X.device).to(torch.float64)
    total = w.sum()
    mean = torch.zeros(X.shape[1], device=X.device, dtype=torch.float64)
    sq = torch.zeros_like(mean)
    rows = block_rows(X)
    for start in range(0, X.shape[0], rows):
        mean += w[start : start + rows] @ X[start : start + rows].to(torch.float64)
    mean = mean / total
    for start in range(0, X.shape[0], rows):
        Xb = X[start : start + rows].to(torch.float64) - mean
        sq += w[start : start + rows] @ (Xb * Xb)
    sq = sq / total
    std = torch.sqrt(torch.clamp(sq, min=0.0))
    tiny = torch.finfo(X.dtype).eps * torch.clamp(mean.abs(), min=1.0) * 10
    std = torch.where(std > tiny, std, torch.ones_like(std))
    if X.shape[0] > 0:
        mean = torch.where(const, X[0].to(torch.float64), mean)
        std = torch.where(const, torch.ones_like(std), std)
    if second:
        return mean.to(out_dtype), std.to(out_dtype), sq
    return mean.to(out_dtype), std.to(out_dtype)


#: Device types whose fits prepare a dense numpy X on the host (numpy's
#: blocks, :func:`weighted_moments`): the CPU, where X already is. On any
#: other device X is copied there as given and prepared there
#: (:func:`prepare_on_device`). Tests empty it to run that path on the CPU.
HOST_PREPARED_DEVICES = ("cpu",)


def host_prepared(device):
    """Whether fits on ``device`` prepare a dense numpy X on the host (``HOST_PREPARED_DEVICES``)."""
    return device.type in HOST_PREPARED_DEVICES


def prepares_on_device(X, device):
    """Whether a fit on ``device`` prepares ``X`` by :func:`prepare_on_device` (else on the host).

    A dense tensor always (rows that a CV estimator holds on its device);
    a dense numpy array on a device not in ``HOST_PREPARED_DEVICES``; a
    scipy sparse matrix never (its moments and statistics come from scipy).
    """
    if sp.issparse(X):
        return False
    return torch.is_tensor(X) or not host_prepared(device)


def tensor_extremes(X):
    """Column minima and maxima of a dense tensor, and whether all of X is finite.

    A NaN makes its column's extremes NaN and an infinity is one of them,
    so the extremes are finite exactly when X is: one ``amin`` and one
    ``amax`` answer both (the host's :func:`skl0._numerics.column_extremes`
    and scikit-learn's finiteness check, where X is on an accelerator).
    """
    lo, hi = X.amin(0), X.amax(0)
    return lo, hi, bool(torch.isfinite(lo).all() and torch.isfinite(hi).all())


class PreparedX:
    """Dense X ready for a problem, and how it was changed (the host's or the device's way).

    ``X``: the tensor in the computation dtype; ``scale`` and ``shift``:
    the per-column powers of two X was divided by and the offsets then
    subtracted (numpy, or ``None`` for none), which the estimator's export
    maps back; ``mean64``, ``std64``, ``var``: the float64 moments of the
    scaled and shifted columns (numpy, as :func:`weighted_moments` with
    ``second=True``); ``const``: X's constant columns (numpy mask);
    ``gram_const``: ``const`` where it also holds for the tensor (X itself,
    neither cast nor shifted, so that :class:`GramProblem` need not test
    it again), else None; ``finite``: whether every value of X is finite;
    ``extremes``: the column minima and maxima of X as given (numpy), or None.
    """

    def __init__(self, X, scale, shift, mean64, std64, var, const, gram_const=None,
                 finite=True, extremes=None):
        self.X, self.scale, self.shift = X, scale, shift
        self.mean64, self.std64, self.var, self.const = mean64, std64, var, const
        self.gram_const, self.finite, self.extremes = gram_const, finite, extremes


def _columnwise(X, values, op, in_place=False):
    """``op(X, values)`` column-wise in float64, as a tensor of X's dtype, in blocks of rows.

    The device's form of :func:`skl0._numerics.divide_columns` and
    :func:`skl0._numerics.subtract_columns` (the same float64 arithmetic,
    one block of float64 rows at a time). Into a new tensor, or with
    ``in_place`` into ``X`` itself (a copy the caller owns: no second
    X-sized tensor on the device).
    """
    v = torch.as_tensor(values, device=X.device, dtype=torch.float64)
    out = X if in_place else torch.empty_like(X)
    rows = block_rows(X)
    for start in range(0, X.shape[0], rows):
        out[start : start + rows] = op(X[start : start + rows].to(torch.float64), v).to(X.dtype)
    return out


def prepare_on_device(X, w, dtype, owned=False):
    """Dense ``X`` (a tensor in its own dtype, on the fit's device) prepared for a problem there.

    The steps of the host's preparation (``_BaseL0._fit_on_device``),
    run where X already is, so that X crosses to an accelerator once and
    the host reads it no more: column extremes (one ``amin`` and one
    ``amax``; they give the constant columns and the powers of two of
    :func:`skl0._numerics.column_scale`), the float64 moments of
    :func:`weighted_moments` on the scaled columns, the offsets of
    :func:`skl0._numerics.column_shift`, then the cast to ``dtype``. On
    the host these passes over X took most of a GPU fit: on an H200 at
    n=1e6, p=1000 (float32), 7.2 of a 9.3 s ``L0Regressor`` fit (the
    moments 5.8 s, the extremes 1.4 s, numpy on one thread) and, repeated
    for every fold's rows, 25 of a 50 s ``L0RegressorCV``. ``w``: the
    weights (summing to one), numpy. ``owned``: X is the caller's own copy
    (a numpy X's copy to the device, a fold's gathered rows), which the
    scale and the shift may then overwrite; otherwise (X shared with the
    caller's data, or a CV estimator's copy that every fold reads) they
    make a new tensor. Returns a :class:`PreparedX`;
    one with ``finite=False`` and nothing else when X holds a NaN or an
    infinity (the fit's validation left that check to these extremes).
    """
    n, p = X.shape
    if n and p:
        lo, hi, finite = tensor_extremes(X)
        if not finite:  # (the caller raises scikit-learn's error)
            return PreparedX(X, None, None, None, None, None, None, finite=False)
        extremes = (lo.cpu().numpy(), hi.cpu().numpy())
        const_t = lo == hi
    else:
        extremes, const_t = None, torch.zeros(p, dtype=torch.bool, device=X.device)
    scale = column_scale(X, extremes=extremes)  # (reads only X's shape, given the extremes)
    if scale is not None:
        X = _columnwise(X, scale, torch.div, owned)  # exact: powers of two
        owned = True
    mean, std, var = weighted_moments(X, w, out_dtype=torch.float64, const=const_t, second=True)
    mean64, std64, var = (t.cpu().numpy() for t in (mean, std, var))
    shift = column_shift(mean64, std64, str(dtype).removeprefix("torch."))
    if shift is not None:
        X = _columnwise(X, shift, torch.sub, owned)
        mean64 = mean64 - shift
    return PreparedX(X.to(dtype), scale, shift, mean64, std64, var, const_t.cpu().numpy(),
                     extremes=extremes)


class DirectProblem:
    """Task loss evaluated on the data: ``datafit(head(X, z), Y, w)``.

    ``host`` is the scipy CSR matrix behind a sparse ``X`` (for row and
    column slicing, which torch's CSR tensors lack); ``None`` for dense X.
    ``host_csc``: the same entries as a canonical float64 CSC matrix, where
    the fit has one alive anyway (a CSC X the caller passed, or its
    validated copy), which the swap searches of a large sparse X read
    (:class:`skl0._splice_multinomial._SparseStandardized`) instead of
    making a CSC copy of their own; else None.
    """

    #: What the gate engine reads: the rows (``_objective._RowTerm``).
    kind = "rows"

    def __init__(self, X, Y, w, mean, std, datafit, host=None, second_moments=None,
                 host_csc=None):
        self.X, self.Y, self.w = X, Y, w
        self.mean, self.std = mean, std
        self.datafit = datafit
        self.host = host
        self.host_csc = host_csc
        if second_moments is not None:
            # Known when the standardization was computed on these rows and
            # weights (weighted_moments(second=True)): a pass over X saved.
            self._second_moments = torch.as_tensor(
                second_moments, device=mean.device, dtype=torch.float64)
        self.n_features = X.shape[1]
        self.n_samples = X.shape[0]
        #: Columns the selection chooses among (more than n_features on a
        #: screened problem; the information criterion counts these).
        self.n_candidates = self.n_features

    def predict(self, head, z):
        scale = z / self.std
        return head(self.X, scale, self.mean * scale)

    def loss(self, head, z):
        return self.datafit(self.predict(head, z), self.Y, self.w)

    def sample_losses(self, head, z):
        """Unweighted task loss of every row (for validation scores)."""
        return self.datafit.pointwise(self.predict(head, z), self.Y)

    def column_second_moments(self):
        """``sum_i w_i xs_ij^2`` per standardized column (float64, cached).

        1 for every non-constant column of the problem the standardization
        was computed on, 0 for constant ones; other values on a subset of
        the rows (a CV fold). Centred in blocks of rows in float64, so a
        large offset does not cancel the spread.
        """
        cached = getattr(self, "_second_moments", None)
        if cached is not None:
            return cached
        mean = self.mean.detach().double()
        std = self.std.detach().double()
        if self.host is not None:
            # Centred entry by entry: expanding the square (sum w x^2 -
            # 2 m sum w x + m^2) lost a 1e6-offset column's spread to
            # cancellation (0.9987 for 1).
            w = self.w.detach().cpu().double().numpy()
            out = torch.as_tensor(_sparse_centred_squares(self.host, w, mean.cpu().numpy()))
        else:
            out = torch.zeros_like(mean)
            w = self.w.detach().double()
            rows = block_rows(self.X)
            for start in range(0, self.X.shape[0], rows):
                Xb = self.X[start : start + rows].double() - mean
                out += w[start : start + rows] @ (Xb * Xb)
        out = torch.clamp(out.to(mean.device) / (std * std), min=0.0)
        self._second_moments = out
        return out

    def columns(self, cols):
        """Dense standardized columns ``cols`` (n x len(cols))."""
        if self.host is not None:
            idx = cols.cpu().numpy()
            Xc = torch.as_tensor(self.host[:, idx].toarray(), device=self.mean.device)
            Xc = Xc.to(self.mean.dtype)
        else:
            # index_select: torch's X[:, cols] gathers 4-5x slower on the CPU.
            Xc = select_columns(self.X, cols)
        if Xc.dtype != self.mean.dtype:
            return (Xc - self.mean[cols]) / self.std[cols]
        # In place on the fresh copy: one n x k array instead of three at once.
        return Xc.sub_(self.mean[cols]).div_(self.std[cols])

    def column_gram(self, cols):
        """``Xs' W Xs`` and ``Xs' W Y`` for the standardized columns ``cols``.

        A sparse host is never densified: the products are formed by scipy
        in float64 and centred afterwards, so the refit of a support of k
        columns needs O(k^2) memory, not O(n k).
        """
        if self.host is None:
            Xs = self.columns(cols)
            Xw = Xs * self.w[:, None]
            return Xs.t() @ Xw, Xw.t() @ self.Y
        idx = cols.cpu().numpy()
        Xc = self.host[:, idx].astype(np.float64)
        w = self.w.detach().cpu().double().numpy()
        Y = self.Y.detach().cpu().double().numpy()
        Xw = Xc.multiply(w[:, None]).tocsr()
        sx = np.asarray(Xw.sum(axis=0)).ravel()
        m = self.mean[cols].detach().cpu().double().numpy()
        s = self.std[cols].detach().cpu().double().numpy()
        G = (Xc.T @ Xw).toarray() - np.outer(m, sx) - np.outer(sx, m) + w.sum() * np.outer(m, m)
        c = np.asarray(Xw.T @ Y) - np.outer(m, w @ Y)

        def t(a):
            return torch.as_tensor(a, device=self.mean.device, dtype=self.mean.dtype)

        return t(G / np.outer(s, s)), t(c / s[:, None])

    def column_subset(self, cols):
        """The same problem on the columns ``cols`` only (a copy of those columns).

        A refit with the gates fixed touches only the kept columns; training
        on them alone costs ``k / p`` of a step on the whole of X.
        """
        if self.host is not None:
            host = self.host[:, cols.cpu().numpy()].tocsr()
            X = sparse_to_torch(host, self.mean.device, self.mean.dtype)
        else:
            host, X = None, select_columns(self.X, cols)
        known = getattr(self, "_second_moments", None)  # the same rows and weights
        sub = DirectProblem(X, self.Y, self.w, self.mean[cols], self.std[cols], self.datafit, host,
                            second_moments=None if known is None else known[cols])
        sub.n_samples = self.n_samples
        sub.n_candidates = self.n_candidates
        return sub

    def subset(self, rows, renormalise=True):
        """The same problem on ``rows`` (same standardization).

        ``rows``: a torch index tensor (the rows are copied) or a slice (a
        dense X is then a view, no copy). With ``renormalise`` the weights
        are rescaled to sum to one and ``n_samples`` to the rows' share of
        the total.
        """
        w = self.w[rows]
        share = float(w.sum())
        sub = self._rows(rows, w / share if renormalise else w)
        sub.n_samples = self.n_samples * share
        return sub

    def _rows(self, rows, w):
        """The problem on ``rows`` with weights ``w`` (``n_samples`` left as the rows')."""
        if self.host is not None:
            host = self.host[rows if isinstance(rows, slice) else rows.cpu().numpy()]
            X = sparse_to_torch(host, self.mean.device, self.mean.dtype)
        elif isinstance(rows, slice):
            host, X = None, self.X[rows]
        else:
            host, X = None, self.X.index_select(0, rows)
        return DirectProblem(X, self.Y[rows], w, self.mean, self.std, self.datafit, host)

    def batches(self, batch_size, generator):
        """Endless shuffled mini-batches (epochs drawn with ``generator``).

        Each batch keeps the full-data weights, rescaled by ``n / batch`` so
        that its loss is an unbiased estimate of the full weighted loss.
        """
        n = self.X.shape[0]
        while True:
            perm = torch.randperm(n, generator=generator, device=generator.device)
            perm = perm.to(self.w.device)
            for start in range(0, n, batch_size):
                rows = perm[start : start + batch_size]
                yield self._rows(rows, self.w[rows] * (n / rows.numel()))


@np.errstate(under="ignore")  # tiny weights times values round to subnormals or 0 (expected)
def weighted_cross(Xb, wb, Yb):
    """``Xb' diag(wb) Xb`` and ``Xb' diag(wb) Yb`` of a block of rows (float64).

    ``Xb`` must be a new float64 array: it is overwritten. Weights are >= 0
    (sample weights are checked so): with ``Z = diag(sqrt wb) Xb`` the Gram
    part is ``Z'Z``, which numpy hands to BLAS syrk (half of gemm's work, and
    exactly symmetric). Negative weights take the general product.
    """
    if not bool((wb >= 0).all()):
        Xw = Xb * wb[:, None]
        return Xb.T @ Xw, Xw.T @ Yb
    root = np.sqrt(wb)[:, None]
    Xb *= root
    return Xb.T @ Xb, Xb.T @ (Yb * root)


def _gram_blocks(X, w, Y, mean):
    """Centred ``(X - mean)' diag(w) (X - mean)`` and ``(X - mean)' diag(w) Y`` in float64.

    Dense ``X`` is centred block by block of rows before the products, so a
    column with a large offset and a small spread does not lose its spread
    to cancellation; a sparse ``X`` (never densified) is centred afterwards,
    in float64.
    """
    if sp.issparse(X):
        Xw = row_scaled(X, w)
        sx = np.asarray(Xw.sum(axis=0), dtype=np.float64).ravel()
        G = (X.T @ Xw).toarray().astype(np.float64)
        G += w.sum() * np.outer(mean, mean) - np.outer(mean, sx) - np.outer(sx, mean)
        c = np.asarray(Xw.T @ Y, dtype=np.float64) - np.outer(mean, w @ Y)
        return G, c
    if isinstance(X, np.ndarray):
        G = np.zeros((X.shape[1], X.shape[1]))
        c = np.zeros((X.shape[1], Y.shape[1]))
        buf, rows = _f64_buffer(X)
        for start in range(0, X.shape[0], rows):
            Xb = buf[: min(rows, X.shape[0] - start)]
            np.subtract(X[start : start + rows], mean, out=Xb)  # (weighted_cross overwrites it)
            G_b, c_b = weighted_cross(Xb, w[start : start + rows], Y[start : start + rows])
            G += G_b
            c += c_b
        return G, c
    p = X.shape[1]
    f64 = torch.float64
    w, Y, mean = w.to(f64), Y.to(f64), mean.to(device=X.device, dtype=f64)
    G = torch.zeros(p, p, device=X.device, dtype=f64)
    c = torch.zeros(p, Y.shape[1], device=X.device, dtype=f64)
    rows = block_rows(X)
    for start in range(0, X.shape[0], rows):
        Xb = X[start : start + rows].to(f64) - mean
        Xw = Xb * w[start : start + rows, None]
        G += Xb.t() @ Xw
        c += Xw.t() @ Y[start : start + rows]
    return G, c


class GramProblem:
    """Squared loss of a linear head from sufficient statistics.

    With ``Xs`` the standardized X, ``Yc`` the centred targets and weights
    ``w`` summing to one: ``G = Xs' diag(w) Xs``, ``c = Xs' diag(w) Yc``,
    ``yy = sum(w Yc^2)``; for effective weights ``V = z * W`` the loss is
    ``(yy - 2 <V, c> + <V, G V>) / q``. The optimal intercept is zero.
    ``X'WX`` is accumulated in float64 from centred blocks of rows, so no
    copy of X is made and a large column offset costs no digits;
    ``X`` may also be a scipy sparse matrix (then the statistics are formed
    by scipy and moved to the device).
    """

    #: What the gate engine reads: the statistics (``_objective._GramTerm``).
    kind = "gram"

    def __init__(self, X, Y, w, mean, std, datafit, const=None):
        if sp.issparse(X) or X.device.type == "cpu":
            # Host data: the statistics in numpy (scipy for sparse X), whose
            # per-call cost on small data is a fraction of torch's.
            def host(t):
                return t.detach().cpu().double().numpy()

            Xh = X if sp.issparse(X) else X.numpy()
            G, c = _gram_blocks(Xh, host(w), host(Y), host(mean))
            s64 = host(std)
            G, c = G / np.outer(s64, s64), c / s64[:, None]
            const = constant_columns(Xh) if const is None else const
            # A constant column standardizes to exact zeros; its statistics
            # are round-off (sum(w) is 1 only to rounding): zero them outright.
            G[const], G[:, const], c[const] = 0.0, 0.0, 0.0
            self.G = torch.as_tensor(G, device=mean.device).to(mean.dtype)
            self.c = torch.as_tensor(c, device=mean.device).to(mean.dtype)
        else:
            G, c = _gram_blocks(X, w, Y, mean)
            s64 = std.to(torch.float64)
            self.G = (G / torch.outer(s64, s64)).to(mean.dtype)
            self.c = (c / s64[:, None]).to(mean.dtype)
            const = constant_columns(X)
            if bool(const.any()):
                keep = (~const).to(mean.dtype)
                self.G = self.G * torch.outer(keep, keep)
                self.c = self.c * keep[:, None]
        self.yy = (w[:, None] * Y * Y).sum(0)
        self.mean, self.std = mean, std
        self.datafit = datafit
        self.n_features = X.shape[1]
        self.n_samples = X.shape[0]
        self.n_rows = X.shape[0]  # fit forms X'X only from more rows than columns
        self.n_candidates = self.n_features

    def column_subset(self, cols):
        """The same problem on the columns ``cols`` only (blocks of the statistics)."""
        sub = GramProblem.from_statistics(
            self.G.index_select(0, cols).index_select(1, cols), self.c.index_select(0, cols),
            self.yy, self.mean[cols], self.std[cols], self.datafit, self.n_samples,
            n_rows=self.n_rows)
        sub.n_candidates = self.n_candidates
        return sub

    @classmethod
    def from_statistics(cls, G, c, yy, mean, std, datafit, n_samples, n_rows=None):
        """A problem from already standardized statistics (``partial_fit``'s path).

        ``G``, ``c`` and ``yy`` are as in the class description (weights
        summing to one), with constant columns already zeroed. ``n_rows``:
        the rows summed (``partial_fit``), which decide screening as in
        ``fit``; None where they were not counted (the Dask pass).
        """
        self = cls.__new__(cls)
        self.G, self.c, self.yy = G, c, yy
        self.mean, self.std = mean, std
        self.datafit = datafit
        self.n_features = G.shape[0]
        self.n_samples = n_samples
        self.n_rows = n_rows
        self.n_candidates = self.n_features
        return self

    def loss(self, head, z):
        V = z[:, None] * head.weight
        q = V.shape[1]
        return (self.yy.sum() - 2 * (V * self.c).sum() + (V * (self.G @ V)).sum()) / q

