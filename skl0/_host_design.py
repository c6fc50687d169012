"""The standardized X of a CPU row problem as the host-side solves read it.

IRLS (:mod:`skl0._irls`) and the swap search's numpy refits (``_splice``,
``_splice_multinomial``, ``_refit``) read a row problem's standardized
design on the host: a float64 copy ``Xs`` where it is small
(:func:`standardized_host`, :func:`host_copy_fits`; a small sparse X made
dense, :func:`small_sparse`), otherwise X itself with the centring and
scaling applied to the products (:class:`_HostDesign`). An IRLS step's
quadratic model reads its Gram matrix a column at a time
(:class:`_LazyGram`). Blocks of rows and columns bound the temporaries.

numpy, scipy and torch (reading the problem's tensors) only.
"""

from __future__ import annotations

import numpy as np
import torch

from ._objective import NumpyOps
from ._rows import transposed_matmul, weighted_squares

__all__ = ["host_copy_fits", "small_sparse", "standardized_host"]


#: The largest dense X whose standardized float64 copy the host-side solves
#: make (32 MB): IRLS starts for binary log losses and the swap search's
#: numpy refits (``_splice``).
HOST_COPY_MAX_NUMBERS = 1 << 22


def standardized_host(problem):
    """The standardized dense X of a CPU problem as float64 numpy, formed once per problem.

    A sparse X (only a :func:`small_sparse` one is passed here) is made
    dense. Shared by the IRLS start and the swap search's numpy refits of
    log losses (one copy).
    """
    cache = problem.__dict__.setdefault("_engine_terms", {})
    if "Xs" not in cache:
        mean = problem.mean.detach().cpu().double().numpy()
        std = problem.std.detach().cpu().double().numpy()
        if problem.host is not None:  # a small sparse X (see small_sparse)
            X = problem.host.toarray().astype(np.float64, copy=False)
        else:
            X = problem.X.detach().cpu().double().numpy()
        cache["Xs"] = (X - mean) / std
    return cache["Xs"]


#: A sparse X whose dense float64 copy holds at most this many numbers
#: (8 MB) is copied dense for the host-side solves (IRLS, the binary swap
#: search's refits): scipy's sparse-sparse products cost several times
#: BLAS's dense ones at such sizes, whatever the density.
SMALL_SPARSE_NUMBERS = 1 << 20


def small_sparse(problem):
    """Whether ``problem`` has a sparse host X small enough for a dense host copy."""
    return (problem.host is not None
            and problem.host.shape[0] * problem.host.shape[1] <= SMALL_SPARSE_NUMBERS)


def host_copy_fits(problem, sparse=False):
    """Whether a row problem's numpy solves may use :func:`standardized_host`.

    A CPU row problem (not Gram) whose X is dense and strided with at most
    ``HOST_COPY_MAX_NUMBERS`` numbers or, with ``sparse=True``, sparse and
    :func:`small_sparse`: the swap search's numpy refits (binary and
    multinomial log losses).
    """
    if problem.kind == "gram" or problem.mean.device.type != "cpu":
        return False
    if problem.host is not None:  # sparse: copied dense only when small
        return sparse and small_sparse(problem)
    return (problem.X.layout == torch.strided
            and problem.X.shape[0] * problem.X.shape[1] <= HOST_COPY_MAX_NUMBERS)


#: Numbers per block of rows when :class:`_HostDesign` squares X itself
#: (a 4 MB float64 block and its square).
_RAW_BLOCK_NUMBERS = 1 << 19


#: Numbers per block of rows when :class:`_HostDesign` sums the weighted
#: squares of its standardized copy ``Xs`` (a 512 KB block stays in cache:
#: 0.4-0.9x the time of 4 MB blocks, 0.4-0.8x that of one ``np.einsum``,
#: on 569 x 30 to 20000 x 50, single-threaded).
_SQUARES_BLOCK_NUMBERS = 1 << 16


#: Numbers in the ``p x m`` Gram columns of a sparse X that
#: :meth:`_HostDesign.columns` forms at once (4 MB; all ``m`` the vertex
#: search asked for at once, up to 512, until session 37: 82 MB and three
#: products' temporaries at n=1000, p=2e4).
_COLUMN_BLOCK_NUMBERS = 1 << 19


class _HostDesign:
    """The standardized X of a CPU row problem, as IRLS reads it.

    Two forms, one interface (``matvec``, ``rmatvec``, ``weighted``,
    ``columns``), all in float64 results:

    - a dense X of at most ``HOST_COPY_MAX_NUMBERS`` numbers, or a sparse
      one of at most ``SMALL_SPARSE_NUMBERS`` numbers when dense: the
      standardized float64 copy ``Xs`` (:func:`standardized_host`), formed
      once per problem;
    - a larger X: ``X`` itself (:meth:`skl0._objective.NumpyOps.data_matrix`: a view of a
      dense one, the scipy matrix behind a sparse one), never copied, upcast
      or densified; products in its dtype (:meth:`skl0._objective.NumpyOps.matmul`,
      :meth:`skl0._objective.NumpyOps.rmatmul`) with the centring and scaling applied to the
      gathered columns and to the p-sized results (a sparse X's Gram
      columns: to the sparse product with its stored entries), and a dense
      X's squares formed in blocks of rows.
    """

    def __init__(self, problem):
        self.mean = problem.mean.detach().cpu().double().numpy()
        self.std = problem.std.detach().cpu().double().numpy()
        self.Xs = self.X = self.squares = None
        self._sums = None  # (D, X' D, D' (X * X)) of a large sparse X, for the last D
        if small_sparse(problem) or host_copy_fits(problem):
            self.Xs = standardized_host(problem)
            if self.Xs.size <= _SQUARES_BLOCK_NUMBERS:  # (small: one block of squares)
                cache = problem.__dict__["_engine_terms"]  # (standardized_host's)
                if "Xs2" not in cache:
                    cache["Xs2"] = self.Xs * self.Xs
                self.squares = cache["Xs2"]
        else:
            self.X = NumpyOps.data_matrix(problem)

    def _scale(self, A):
        """``A / std`` along the rows (A of shape (p,) or (p, k))."""
        return A / (self.std if A.ndim == 1 else self.std[:, None])

    def matvec(self, B):
        if self.Xs is not None:
            return self.Xs @ B
        v = self._scale(B)
        return NumpyOps.matmul(self.X, v) - self.mean @ v

    def rmatvec(self, r):
        if self.Xs is not None:
            return self.Xs.T @ r
        # Xs' r = (X' r - mean (1' r)') / std, in place on the fresh product
        # (no temporaries of its size: p x m for the Gram columns)
        out = NumpyOps.rmatmul(self.X, r)
        _subtract_outer(out, self.mean, r.sum(0))
        out /= self.std if out.ndim == 1 else self.std[:, None]
        return out

    def weighted(self, D):
        """``Xs' D`` and the diagonal of ``Xs' diag(D) Xs``."""
        if self.Xs is not None:
            rows = max(1, _SQUARES_BLOCK_NUMBERS // max(self.Xs.shape[1], 1))
            if rows >= self.Xs.shape[0] and self.squares is not None:
                # One block (weighted_squares' sums) of squares formed once per problem.
                out = np.zeros(self.Xs.shape[1])
                out += D @ self.squares
                return self.Xs.T @ D, out
            return self.Xs.T @ D, weighted_squares(self.Xs, D, rows)
        X = self.X
        if not isinstance(X, np.ndarray):  # sparse: from the sums of X and X^2
            raw, sq = self._sparse_sums(D)
            xD = raw - self.mean * D.sum(0)  # (rmatvec's centring)
            xD /= self.std
            m, sD = self.mean, float(D.sum())
            return xD, (sq - 2.0 * m * raw + sD * m * m) / (self.std * self.std)
        xD = self.rmatvec(D)
        rows = max(1, _RAW_BLOCK_NUMBERS // max(X.shape[1], 1))
        return xD, weighted_squares(X, D, rows, self.mean, self.std)

    def _sparse_sums(self, D):
        """``X' D`` and ``D' (X * X)`` of a large sparse X in one pass over its entries
        (:func:`skl0._problem.weighted_sums`), kept for the last ``D``: an IRLS
        step's :meth:`weighted` and :meth:`columns` read the same ``D``."""
        if self._sums is None or self._sums[0] is not D:
            from ._problem import weighted_sums

            self._sums = (D, *weighted_sums(self.X, D))
        return self._sums[1:]

    def column_blocks(self, M):
        """``M`` split into the blocks :meth:`columns` forms at once.

        A sparse X's in blocks of at most ``_COLUMN_BLOCK_NUMBERS`` numbers
        of their ``p x m`` Gram columns (at least 2 columns a block); a
        dense X's (its own size bounds them) whole.
        """
        if self.Xs is not None or isinstance(self.X, np.ndarray):
            return [M]
        size = max(2, _COLUMN_BLOCK_NUMBERS // max(self.X.shape[1], 1))
        return np.split(M, range(size, M.size, size))

    def columns(self, D, M):
        """``Xs' diag(D) Xs[:, M]`` of shape ``(p, len(M))``, a new array.

        A large sparse X's from its stored entries: ``X' diag(D) X[:, M]``
        is a sparse product, one pass over X's entries to gather the
        columns ``M`` and then the entries of the rows where they are
        non-zero (against ``m`` passes over every entry of X for the
        product with dense, centred columns: 27 against 72 ms for 13
        columns of a 40000 x 20000 text-like X of 8.6e6 entries, scratch
        timing), then centred and scaled, ``(X' D X_M - (X' D) mean_M' -
        mean (D' X_M - sD mean_M)') / (std std_M')``, as
        :meth:`weighted`'s diagonal is. Each column's numbers are the same
        whatever the other columns of ``M`` (:meth:`column_blocks`):
        scipy's sparse product sums each column on its own, in the order
        of X's stored entries.
        """
        if self.Xs is not None:
            return transposed_matmul(self.Xs, self.Xs[:, M] * D[:, None])
        X = self.X
        if isinstance(X, np.ndarray):
            Z = X[:, M] - self.mean[M]  # D times the standardized columns (float64), in place
            Z /= self.std[M]
            Z *= D[:, None]
            return self.rmatvec(Z)
        raw = self._sparse_sums(D)[0]
        S = X[:, M].tocsc()  # the columns' stored entries, scaled by D (in X's dtype)
        S.data = (S.data * D[S.indices]).astype(X.dtype, copy=False)
        dX = np.asarray(S.sum(0, dtype=np.float64)).ravel() - self.mean[M] * D.sum(0)
        A = np.asarray((S.T @ X).toarray(), dtype=np.float64)  # (m, p)
        del S
        _subtract_outer(A, self.mean[M], raw)  # (in place: no m x p temporaries)
        _subtract_outer(A, dX, self.mean)
        A /= self.std[M][:, None]
        A /= self.std
        return A.T


def _subtract_outer(A, u, v):
    """``A -= np.multiply.outer(u, v)`` in blocks of rows (no temporary of A's size).

    A 1-D ``A`` with a number ``v``: ``A -= u * v``.
    """
    if A.ndim == 1:
        A -= u * v
        return
    rows = max(1, _RAW_BLOCK_NUMBERS // max(A.shape[1], 1))
    for start in range(0, A.shape[0], rows):
        A[start : start + rows] -= np.multiply.outer(u[start : start + rows], v)


class _LazyGram:
    """``scale (Xs' D Xs - xD xD' / sD)``, ``xD = Xs' D``, formed a column at a time.

    The Gram matrix of an IRLS step's quadratic model (the intercept
    profiled out), as its vertex search reads it: the diagonal, and the
    columns of the gates that are or become open. A step whose search
    visits ``s`` columns costs O(n p s) instead of the O(n p^2) of the
    whole matrix (on a path, most points keep few gates open). The formed
    columns are the rows of one growing ``(capacity, p)`` buffer (the
    matrix is symmetric), so a block of them is a copy of whole rows, and
    ``G[rows][:, cols]`` a gather within those rows, returned as the
    transpose (Fortran order, which LAPACK and BLAS take as they are):
    gathered as columns of a ``(p, capacity)`` buffer, strided reads, the
    blocks of a wide problem's search cost more than its arithmetic.
    """

    def __init__(self, design, D, scale):
        self.design, self.D, self.scale = design, D, scale
        self.xD, diag = design.weighted(D)
        self.sD = float(D.sum())
        # (sD is 0 where every row's curvature has underflowed, rows separated at
        # alpha=0: the caller then stops before reading the diagonal; no warning)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._diag = scale * (diag - self.xD * self.xD / self.sD)
        p = self._diag.size
        self.slot = np.full(p, -1, dtype=np.intp)  # column j is buf[slot[j]]
        self.buf = np.empty((0, p))
        self.n_cols = 0

    def diagonal(self):
        return self._diag

    def _slots(self, J):
        """Buffer slots of the columns ``J``, forming the missing ones."""
        J = np.asarray(J, dtype=np.intp)
        slots = self.slot[J]
        absent = slots < 0
        if absent.any():  # (np.unique only then: most calls find every column formed)
            missing = J[absent]
            if missing.size > 1 and not (missing[1:] > missing[:-1]).all():
                missing = np.unique(missing)  # (the searches' own J are sorted and distinct)
            end = self.n_cols + missing.size
            if end > self.buf.shape[0]:
                # Grown by half (old and new buffers are alive at once: 2.5
                # times the old one, 3 times when it doubled), before the
                # columns are formed.
                grown = np.empty((max(end, self.buf.shape[0] + self.buf.shape[0] // 2),
                                  self.buf.shape[1]))
                grown[: self.n_cols] = self.buf[: self.n_cols]
                self.buf = grown
                del grown
            for cols in self.design.column_blocks(missing):
                block = self.design.columns(self.D, cols)
                _subtract_outer(block, self.xD, self.xD[cols] / self.sD)
                block *= self.scale
                self.buf[self.n_cols : self.n_cols + cols.size] = block.T
                del block
                self.slot[cols] = np.arange(self.n_cols, self.n_cols + cols.size)
                self.n_cols += cols.size
            slots = self.slot[J]
        return slots

    def columns(self, J):
        """The columns ``J`` as a ``(p, len(J))`` array (Fortran order)."""
        slots = self._slots(J)
        return self.buf.take(slots, axis=0).T

    def block(self, rows, cols):
        """``G[rows][:, cols]`` as a new array (Fortran order).

        Gathered a few buffer rows at a time: the whole ``(len(cols), p)``
        rows taken first were a second copy of the block's size, or larger
        (a search's ``G[S][:, S]`` took its ``s`` whole rows, 82 MB at
        ``s = 512``, ``p = 2e4``).
        """
        slots = self._slots(cols)  # (may replace the buffer)
        rows = np.asarray(rows, dtype=np.intp)
        out = np.empty((slots.size, rows.size))
        step = max(1, _SQUARES_BLOCK_NUMBERS // max(self.buf.shape[1], 1))
        for start in range(0, slots.size, step):
            # (mode="clip": the rows are valid, and take's "raise" writes to a
            # buffer of out's block first)
            self.buf.take(slots[start : start + step], axis=0).take(
                rows, axis=1, out=out[start : start + step], mode="clip")
        return out.T
