"""The record-by-target matrix ``M`` on the device, and ``M.T @ w`` with a gradient.

Calibration only ever needs two products: the totals ``M.T @ w`` (forward)
and ``M @ g`` (the gradient of the loss with respect to the weights, given
the gradient ``g`` with respect to the totals). For sparse input both are
sparse CSR matrix-vector products, so ``M`` is kept twice, as CSR of ``M``
and CSR of ``M.T``, with 32-bit indices where they fit; autograd never sees
the sparse tensor. A dense ``M`` stays dense and uses plain autograd.

Nothing here densifies a sparse ``M``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["TotalsOperator"]

# Below this many stored entries, a CPU matrix-vector product runs on one
# thread (torch's own grain size for parallel loops).
_SMALL_NNZ = 32768


def _torch_csr(A, device, dtype):
    """scipy CSR matrix -> torch sparse CSR tensor (int32 indices when they fit)."""
    A = sp.csr_matrix(A)
    if not A.has_canonical_format:  # sort indices, sum duplicates, on a copy
        A = A.copy()
        A.sum_duplicates()
    itype = np.int32 if max(A.nnz, max(A.shape)) < np.iinfo(np.int32).max else np.int64
    to = {"device": device}
    crow = torch.from_numpy(A.indptr.astype(itype, copy=False)).to(**to)
    col = torch.from_numpy(A.indices.astype(itype, copy=False)).to(**to)
    val = torch.from_numpy(np.asarray(A.data)).to(device=device, dtype=dtype)
    return _csr(crow, col, val, A.shape)


def _csr(crow, col, val, shape):
    with warnings.catch_warnings():  # "sparse CSR support is in beta state"
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, col, val, shape, check_invariants=False)


class _SparseTotals(torch.autograd.Function):
    """``totals = MT @ w`` whose backward is ``M @ grad_totals``."""

    @staticmethod
    def forward(ctx, w, MT, M):
        ctx.M = M
        return torch.mv(MT, w)

    @staticmethod
    def backward(ctx, grad_totals):
        return torch.mv(ctx.M, grad_totals.contiguous()), None, None


class _EntryTotals(torch.autograd.Function):
    """``totals = M.T @ w`` from the entries ``(row, col, val)`` of ``M``.

    Used on the CPU for small ``M``: a gather and an ``index_add_`` run on
    one thread, whereas MKL's sparse matrix-vector product wakes every
    OpenMP thread, which costs far more than the product itself when the
    machine is busy.
    """

    @staticmethod
    def forward(ctx, w, row, col, val, n_targets):
        ctx.save_for_backward(row, col, val)
        ctx.n_records = w.shape[0]
        out = torch.zeros(n_targets, dtype=w.dtype, device=w.device)
        return out.index_add_(0, col, val * torch.gather(w, 0, row))

    @staticmethod
    def backward(ctx, grad_totals):
        row, col, val = ctx.saved_tensors
        grad = torch.zeros(ctx.n_records, dtype=val.dtype, device=val.device)
        grad.index_add_(0, row, val * torch.gather(grad_totals, 0, col))
        return grad, None, None, None, None


class TotalsOperator:
    """``M`` placed on a device, computing totals ``M.T @ w`` differentiably.

    Parameters
    ----------
    M : ndarray or scipy sparse matrix of shape (n_records, n_targets)
        Validated, finite matrix. A sparse matrix is converted to CSR
        (no densification); an ndarray is kept dense. On the CPU, a sparse
        matrix with fewer than 32768 stored entries is kept as its entries
        and multiplied by gather and ``index_add_`` on one thread.
    device : torch.device
    dtype : torch.dtype

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, torch
    >>> from skl0.calibration._operator import TotalsOperator
    >>> op = TotalsOperator(sp.csr_matrix(np.eye(3)), torch.device("cpu"),
    ...                     torch.float64)
    >>> op.totals(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, M, device, dtype):
        self.device, self.dtype = device, dtype
        self.shape = M.shape
        self.sparse = sp.issparse(M)
        if self.sparse:
            M = sp.csr_matrix(M)
        self._host = M  # kept to restrict rows for the polish, never densified
        self._entries = None
        if self.sparse and device.type == "cpu" and M.nnz < _SMALL_NNZ:
            coo = M.tocoo()
            self._entries = tuple(
                torch.from_numpy(np.asarray(a)).to(device=device, dtype=t)
                for a, t in (
                    (coo.row, torch.int64),
                    (coo.col, torch.int64),
                    (coo.data, dtype),
                )
            )
        elif self.sparse:
            self._M = _torch_csr(M, device, dtype)
            self._MT = _torch_csr(M.T, device, dtype)
        else:
            # torch cannot read a negative-stride view (M[::-1]): a contiguous copy
            self._dense = torch.tensor(np.ascontiguousarray(M), device=device, dtype=dtype)

    def totals(self, w):
        """``M.T @ w``, differentiable in ``w``."""
        if self._entries is not None:
            return _EntryTotals.apply(w, *self._entries, self.shape[1])
        if self.sparse:
            return _SparseTotals.apply(w, self._MT, self._M)
        return w @ self._dense

    def restrict(self, rows):
        """A new operator on the records ``rows`` only (integer indices)."""
        rows = np.asarray(rows)
        return TotalsOperator(self._host[rows], self.device, self.dtype)
