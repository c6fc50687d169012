"""Small dense symmetric positive definite solves with little call overhead.

scipy's ``cho_factor``/``cho_solve`` spend ~30 us per call in argument
checks; the engine and the splice polish call them thousands of times on
matrices of a few to a few hundred rows, where that overhead, not the
arithmetic, was the cost. These call LAPACK's ``potrf``/``potrs`` directly
(~5 us for a 10 x 10 system). The row reductions and narrow products of
the softmax losses are in :mod:`skl0._rows`.

numpy/scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import dsymm, dtrmm, dtrsv
from scipy.linalg.lapack import dpotrf, dpotri, dpotrs, dtrtri

__all__ = ["cholesky", "cholesky_inverse", "cholesky_solve", "inverse_and_product",
           "inverse_diagonal_and_forms", "inverse_root", "whiten", "unwhiten"]


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


def whiten(L, g):
    """``L^-1 g`` for the vector ``g`` from ``L = cholesky(A)`` (BLAS ``trsv``; ``g`` is not modified)."""
    return dtrsv(L, g, lower=1)


def unwhiten(L, u):
    """``L^-T u`` for the vector ``u`` from ``L = cholesky(A)`` (BLAS ``trsv``; ``u`` is not modified)."""
    return dtrsv(L, u, lower=1, trans=1)


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


#: From this order on, :func:`inverse_diagonal_and_forms` goes through
#: ``L^-1`` (``trtri`` then a triangular product: s^3/3 + m s^2
#: multiplications) instead of ``A^-1`` (``potri`` then ``symm``: 2 s^3/3 +
#: 2 m s^2). Single-threaded, 1.4-1.7x faster for s = 256-600 and m =
#: 500-1700; level with it at s = 100-200; slower below (more calls).
_TRIANGULAR_MIN_ORDER = 256


def inverse_diagonal_and_forms(L, C):
    """``diag(A^-1)`` and the quadratic forms ``c_i' A^-1 c_i`` of the rows of ``C``, from ``L = cholesky(A)``.

    What the vertex search reads of the inverse (drop costs and the Schur
    complements of closed columns). Small orders by
    :func:`inverse_and_product`; from ``_TRIANGULAR_MIN_ORDER`` on as the
    squared norms of the columns of ``L^-1`` and of the rows of ``C L^-T``.
    """
    if L.shape[0] < _TRIANGULAR_MIN_ORDER:
        diag, CM = inverse_and_product(L, C)
        return diag, np.einsum("ij,ij->i", CM, C)
    Li, info = dtrtri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular factor (LAPACK trtri info={info})")
    Li = np.tril(Li)  # (potrf leaves L's strict upper triangle as it was)
    diag = np.einsum("ij,ij->j", Li, Li)
    if C.shape[0] == 0:
        return diag, np.zeros(0)
    Y = dtrmm(1.0, Li, C, side=1, lower=1, trans_a=1)  # C L^-T
    return diag, np.einsum("ij,ij->i", Y, Y)


def inverse_root(A):
    """A factor ``R`` with ``A^-1 = R' R`` of the symmetric matrix ``A`` (not modified).

    ``L^-1`` from ``L = cholesky(A)`` (``potrf`` then ``trtri``: about a
    third of the multiplications of an LU inverse), so that any block of
    ``A^-1`` and any form ``c' A^-1 c`` is a product of columns of ``R``.
    Where ``A`` is not numerically positive definite, ``diag(e)^-1/2 Q'``
    from its eigendecomposition, the eigenvalues floored at ``1e-12`` times
    the largest (the inverse of the nearest positive definite matrix).
    """
    try:
        Li, info = dtrtri(cholesky(A), lower=1)
        if info == 0:
            return np.tril(Li)  # (potrf leaves L's strict upper triangle as it was)
    except np.linalg.LinAlgError:
        pass
    e, Q = np.linalg.eigh((A + A.T) / 2)
    e = np.maximum(e, 1e-12 * max(float(e.max()), 1e-300))
    return Q.T / np.sqrt(e)[:, None]
