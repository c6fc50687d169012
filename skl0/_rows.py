"""Row reductions and narrow products of the softmax losses, with little per-row cost.

numpy's reduction along a short last axis costs ~30 ns a row
(``F.max(axis=1)`` took 0.6 ms at n=2e4 rows of 3 logits, most of a
multinomial refit's evaluation); a loop over the columns and a product with
a vector of ones cost ~1 ns an element. And products with two or three
columns (:func:`skinny_matmul`): OpenBLAS's matrix product took up to 1.8x
the time of one matrix-vector product per column (a three-class fit's
logits and gradients).

numpy only, so that the Dask workers' block statistics
(:mod:`skl0._blocks`) can use them without importing scipy or torch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["row_logsumexp", "row_max", "row_softmax", "row_sum", "skinny_columns", "skinny_matmul"]


#: Up to this many columns :func:`row_max` loops over the columns; wider
#: arrays (many classes) take numpy's reduction, whose per-row cost is then small.
_ROW_LOOP_MAX = 64


def row_max(F):
    """Largest entry of each row of the 2-d float array ``F`` (NaN propagates)."""
    if not 0 < F.shape[1] <= _ROW_LOOP_MAX:
        return F.max(axis=1)
    top = F[:, 0].copy()
    for j in range(1, F.shape[1]):
        np.maximum(top, F[:, j], out=top)
    return top


def row_sum(F):
    """Sum of each row of the 2-d float array ``F`` (a BLAS product with ones)."""
    return F @ np.ones(F.shape[1], dtype=F.dtype)


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def row_logsumexp(F, exp=np.exp):
    """``log(sum_j exp(F_ij))`` of each row, shifted by the row maximum as scipy's ``logsumexp``.

    A row whose maximum is not finite is shifted by 0, as scipy does (an
    all ``-inf`` row gives ``-inf``, a row with ``+inf`` gives ``+inf``).
    ``exp``: the exponential, ``np.exp`` or one with its signature
    (:func:`skl0._elementwise.exp`, in modules that import torch).
    """
    top = row_max(F)
    top[~np.isfinite(top)] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(row_sum(exp(F - top[:, None]))) + top


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def row_softmax(F, overwrite=False, exp=np.exp):
    """``(log-sum-exp, softmax probabilities)`` of each row of the 2-d float array ``F``.

    Shifted by the row maximum; with ``overwrite`` the probabilities are
    formed in ``F`` itself (no new n x q array). The softmax losses' form
    on (n, q) logits: the refits' loss (:func:`skl0._refit_newton.softmax_loss`)
    and the Dask blocks'. The refits' objective
    (:func:`skl0._refit_newton.softmax_objective`) forms the logits transposed,
    (q, n), and reduces along its rows (no loop over columns). ``exp`` as
    :func:`row_logsumexp`'s.
    """
    top = row_max(F)
    P = np.subtract(F, top[:, None], out=F if overwrite else None)
    exp(P, out=P)
    total = row_sum(P)
    P /= total[:, None]
    return np.log(total) + top, P


#: Products of a dense array of at most ``_SKINNY_MAX_BYTES`` with 2 to
#: ``_SKINNY_MAX`` columns run column by column.
_SKINNY_MAX = 3
_SKINNY_MAX_BYTES = 1 << 23


def skinny_columns(A, q):
    """Whether :func:`skinny_matmul` takes ``A`` times ``q`` columns one column at a time."""
    return isinstance(A, np.ndarray) and 2 <= q <= _SKINNY_MAX and A.nbytes <= _SKINNY_MAX_BYTES


def skinny_matmul(A, B):
    """``A @ B`` (``A`` a 2-d array, ``B`` with few columns) as one BLAS matrix-vector product per column.

    For 2 or 3 columns of ``B`` and an ``A`` that stays in cache (at most
    8 MB): OpenBLAS's general product of (1747 x 300) by (300 x 3) took
    150-300 us, three matrix-vector products 85-165 us (the transposed
    product 110 against 155). With four columns, or an ``A`` read from
    memory once per column, the general product was as fast or faster; it
    is used there, and for any other ``A`` (a scipy sparse matrix). The
    result (Fortran order) has the dtype ``A @ B`` would have.
    """
    if not skinny_columns(A, B.shape[1] if B.ndim == 2 else 0):
        return A @ B
    q = B.shape[1]
    out = np.empty((A.shape[0], q), dtype=np.result_type(A, B), order="F")
    for j in range(q):
        np.dot(A, B[:, j], out=out[:, j])
    return out


#: :func:`transposed_matmul` forms ``A' B`` as ``(B' A)'`` from this many
#: numbers of ``A`` on (a dense C-ordered ``A``).
_TRANSPOSED_MIN_NUMBERS = 1 << 17


def transposed_matmul(A, B):
    """``A.T @ B`` for a 2-d array ``A`` (n x p) and ``B`` (n x m, several columns).

    For a C-ordered ``A`` of at least ``_TRANSPOSED_MIN_NUMBERS`` numbers,
    as ``(B.T @ A).T`` (a view, Fortran order): the same sums, but
    OpenBLAS's product with the transposed operand on the left ran at
    about half the speed on such shapes, single-threaded (n=5000, p=300,
    m=5-20: 4.6-6.2 ms against 1.9-3.4; n=1000, p=1000: 0.5-0.7x the time;
    level with it below ~2e5 numbers). Otherwise ``A.T @ B``; a vector
    ``B`` always so (one matrix-vector product either way).
    """
    if (B.ndim == 2 and B.shape[1] > 1 and isinstance(A, np.ndarray) and A.flags.c_contiguous
            and A.size >= _TRANSPOSED_MIN_NUMBERS):
        return (B.T @ A).T
    return A.T @ B


def weighted_squares(A, D, block_rows, mean=None, std=None):
    """``D @ (Z * Z)`` with ``Z = (A - mean) / std`` (``A`` itself without them): weighted sums of squares.

    In blocks of ``block_rows`` rows, each standardized in float64 when
    ``mean`` and ``std`` are given (``A`` itself is never converted whole)
    and reduced by one BLAS matrix-vector product on its squares
    (0.6-0.8x ``np.einsum("i,ij,ij->j", D, A, A)``'s time on 150 x 10 to
    20000 x 50, single-threaded).
    """
    out = np.zeros(A.shape[1])
    for start in range(0, A.shape[0], block_rows):
        Z = A[start : start + block_rows]
        if mean is not None:
            Z = (Z - mean) / std  # float64 block
        out += D[start : start + block_rows] @ (Z * Z)
    return out
