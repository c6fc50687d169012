"""Small dense symmetric positive definite solves with little call overhead.

scipy's ``cho_factor``/``cho_solve`` spend ~30 us per call in argument
checks; the engine and the splice polish call them thousands of times on
matrices of a few to a few hundred rows, where that overhead, not the
arithmetic, was the cost. These call LAPACK's ``potrf``/``potrs`` directly
(~5 us for a 10 x 10 system).

Also the row reductions of the softmax losses: numpy's reduction along a
short last axis costs ~30 ns a row (``F.max(axis=1)`` took 0.6 ms at
n=2e4 rows of 3 logits, most of a multinomial refit's evaluation); a loop
over the columns and a product with a vector of ones cost ~1 ns an element.
And products with two or three columns (:func:`skinny_matmul`): OpenBLAS's
matrix product took up to 1.8x the time of one matrix-vector product per
column (a three-class fit's logits and gradients).

numpy/scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import dsymm
from scipy.linalg.lapack import dpotrf, dpotri, dpotrs

__all__ = [
    "cholesky", "cholesky_inverse", "cholesky_solve", "inverse_and_product",
    "row_logsumexp", "row_max", "row_sum", "skinny_matmul",
]


def cholesky(A):
    """Lower Cholesky factor of the SPD float64 matrix ``A`` (``A`` is not modified).

    The strict upper triangle of the result is not cleared (the solves
    below never read it). Raises :class:`numpy.linalg.LinAlgError` when
    ``A`` is not positive definite.
    """
    L, info = dpotrf(A, lower=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(
            f"matrix is not positive definite (LAPACK potrf info={info})")
    return L


def cholesky_solve(L, B):
    """Solve ``A X = B`` from ``L = cholesky(A)`` (``B`` a vector or matrix)."""
    X, info = dpotrs(L, B, lower=1)
    if info != 0:  # only on an invalid argument
        raise ValueError(f"LAPACK potrs failed (info={info})")
    return X


def cholesky_inverse(L):
    """``A^-1`` from ``L = cholesky(A)`` (symmetric, both triangles filled).

    For blocks of the inverse (the group search); the single-gate searches
    need only :func:`inverse_and_product`.
    """
    Ainv, info = dpotri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular factor (LAPACK potri info={info})")
    return np.tril(Ainv) + np.tril(Ainv, -1).T


def inverse_and_product(L, C):
    """``diag(A^-1)`` and ``C @ A^-1`` from ``L = cholesky(A)``.

    What the flip and swap searches need of the inverse, without forming
    its upper triangle: ``potri`` fills the lower one and BLAS ``symm``
    reads only that (about a third of :func:`cholesky_inverse`'s cost on
    10 x 10 systems, where copying triangles dominated).
    """
    Ainv, info = dpotri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular factor (LAPACK potri info={info})")
    diag = Ainv.diagonal().copy()
    if C.shape[0] == 0:
        return diag, np.zeros_like(C)
    return diag, dsymm(1.0, Ainv, C, side=1, lower=1)


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


def row_logsumexp(F):
    """``log(sum_j exp(F_ij))`` of each row, shifted by the row maximum as scipy's ``logsumexp``.

    A row whose maximum is not finite is shifted by 0, as scipy does (an
    all ``-inf`` row gives ``-inf``, a row with ``+inf`` gives ``+inf``).
    """
    top = row_max(F)
    top[~np.isfinite(top)] = 0.0
    with np.errstate(divide="ignore"):
        return np.log(row_sum(np.exp(F - top[:, None]))) + top


#: Products of a dense array of at most ``_SKINNY_MAX_BYTES`` with 2 to
#: ``_SKINNY_MAX`` columns run column by column.
_SKINNY_MAX = 3
_SKINNY_MAX_BYTES = 1 << 23


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
    q = B.shape[1] if B.ndim == 2 else 0
    if not (isinstance(A, np.ndarray) and 2 <= q <= _SKINNY_MAX
            and A.nbytes <= _SKINNY_MAX_BYTES):
        return A @ B
    out = np.empty((A.shape[0], q), dtype=np.result_type(A, B), order="F")
    for j in range(q):
        np.dot(A, B[:, j], out=out[:, j])
    return out
