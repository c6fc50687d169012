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
from scipy.linalg.blas import dgemm, dsymm, dtrmm, dtrsv
from scipy.linalg.lapack import dgetrf, dgetri, dpotrf, dpotri, dpotrs, dtrtri

__all__ = ["PivotedSystem", "cholesky", "cholesky_inverse", "cholesky_solve",
           "inverse_and_product", "inverse_diagonal_and_forms", "inverse_root",
           "quadratic_screen", "whiten", "unwhiten"]


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


#: Rows per block of :func:`_clear_upper` (and the order below which it
#: calls ``np.tril`` once instead).
_CLEAR_ROWS = 64


def _clear_upper(A):
    """``A`` with its strict upper triangle zeroed: in place from order ``_CLEAR_ROWS`` on.

    ``np.tril`` made a second array of ``A``'s size: at a vertex search's
    cold start on 2000 columns, a fifth of the search's peak. By blocks of
    rows: the part right of a block's diagonal square is filled whole and
    the square through a triangular mask (0.4-0.9x the time of a row at a
    time at orders 64-2000, seed 0; 0.63-0.98x at orders 90-3000, seed 23,
    not used to choose the 64 rows). Small orders keep ``np.tril`` (one call).
    """
    n = A.shape[0]
    if n < _CLEAR_ROWS:
        return np.tril(A)
    upper = ~np.tri(_CLEAR_ROWS, dtype=bool)
    for r0 in range(0, n, _CLEAR_ROWS):
        r1 = min(n, r0 + _CLEAR_ROWS)
        A[r0:r1, r1:] = 0.0
        np.copyto(A[r0:r1, r0:r1], 0.0, where=upper[: r1 - r0, : r1 - r0])
    return A


def inverse_diagonal_and_forms(L, C, overwrite=False):
    """``diag(A^-1)`` and the quadratic forms ``c_i' A^-1 c_i`` of the rows of ``C``, from ``L = cholesky(A)``.

    What the vertex search reads of the inverse (drop costs and the Schur
    complements of closed columns). Small orders by
    :func:`inverse_and_product`; from ``_TRIANGULAR_MIN_ORDER`` on as the
    squared norms of the columns of ``L^-1`` and of the rows of ``C L^-T``
    (``C L^-T`` formed in ``C`` itself with ``overwrite=True``, where ``C``
    is Fortran-ordered).
    """
    if L.shape[0] < _TRIANGULAR_MIN_ORDER:
        diag, CM = inverse_and_product(L, C)
        return diag, np.einsum("ij,ij->i", CM, C)
    Li, info = dtrtri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular factor (LAPACK trtri info={info})")
    Li = _clear_upper(Li)  # (potrf leaves L's strict upper triangle as it was)
    diag = np.einsum("ij,ij->j", Li, Li)
    if C.shape[0] == 0:
        return diag, np.zeros(0)
    Y = dtrmm(1.0, Li, C, side=1, lower=1, trans_a=1, overwrite_b=overwrite)  # C L^-T
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
            return _clear_upper(Li)  # (potrf leaves L's strict upper triangle as it was)
    except np.linalg.LinAlgError:
        pass
    e, Q = np.linalg.eigh((A + A.T) / 2)
    e = np.maximum(e, 1e-12 * max(float(e.max()), 1e-300))
    return Q.T / np.sqrt(e)[:, None]


class PivotedSystem:
    """A ridge system ``A = G + diag(ridge)`` pivoted on an open set ``S``, updated as ``S`` changes.

    The principal pivot transform ``H`` of the bordered matrix
    ``[[A, c], [c', .]]`` on ``S`` holds what a vertex search reads at the
    vertex ``S``: ``H_SS = A_SS^-1``, ``H_Sc = -B`` (``B = A_SS^-1 c_S``),
    ``H_Cc = r = c_C - A_CS B`` (the residual correlations of the closed
    columns ``C``) and, on the diagonal of ``H_CC``, their Schur
    complements ``a_j - A_jS A_SS^-1 A_Sj``. Kept are the columns
    ``H[:, S]`` and ``H[:, c]`` (the rows of :attr:`W`, ``(k + s, p)``) and
    the diagonal of ``H`` (:attr:`hd`: ``(A_SS^-1)_jj`` of the open gates,
    the Schur complements of the closed ones).

    Flipping the gates ``D`` (closing open ones, opening closed ones)
    pivots ``H`` on ``D``: with ``P = H_DD`` (order ``|D|``),
    ``H'_xy = H_xy - H_xD P^-1 H_Dy``, ``H'_xD = H_xD P^-1``,
    ``H'_Dy = -P^-1 H_Dy``, ``H'_DD = P^-1`` (pivot transforms compose:
    pivoting ``H`` on ``D`` is pivoting ``[[A, c], [c', .]]`` on
    ``S xor D``). That costs O(p (s + |D|) |D|), plus O(p s) per opened
    gate for its column of ``H``, instead of a factorisation and the
    closed columns' forms, O(s^3 + (p - s) s^2); and a trial batch's change
    of ``tr(c_S' B)``, ``tr(H_cD P^-1 H_Dc)``, only an order-``|D|``
    inverse (:meth:`trial`): a rejected batch leaves ``H`` as it was.

    Round-off grows with each pivot by about ``a_j / s_j`` (``s_j`` the
    Schur complement of gate ``j`` against the other open columns: the
    collinearity the pivot brings in or takes out); :attr:`drift` sums
    these growth factors since the factorisation the system was built
    from, for the caller to refactor when it passes a budget.

    Parameters
    ----------
    rows : callable
        ``rows(J)``: the rows ``G[J, :]`` as a new ``(len(J), p)`` array.
    ridge, a : ndarray of shape (p,)
        ``A = G + diag(ridge)`` and the diagonal of ``A``.
    c : ndarray of shape (p, k)
    S : ndarray of int
        The open set, sorted.
    L, B
        ``cholesky(A_SS)`` and ``A_SS^-1 c_S`` (anything and a ``(0, k)``
        array for an empty ``S``).
    """

    def __init__(self, rows, ridge, a, c, S, L, B):
        p, k = c.shape
        s = S.size
        self.rows, self.ridge, self.a, self.k, self.drift = rows, ridge, a, k, 0.0
        self.W = W = np.empty((k + max(s + 8, min(2 * s, p)), p))
        self.slot = np.full(p, -1, dtype=np.intp)  # gate j is row slot[j] of W
        self.gate = np.full(W.shape[0], -1, dtype=np.intp)  # and row i holds gate[i]
        self.slot[S] = np.arange(k, k + s)
        self.gate[k : k + s] = S
        self.n = k + s  # rows in use
        self.sign = np.ones(p)  # -1 open, +1 closed: H_yx = sign_x sign_y H_xy
        self.sign[S] = -1.0
        W[:k] = c.T
        self.hd = a.copy()
        if s:
            M, info = dpotri(L, lower=1)  # A_SS^-1, lower triangle
            if info != 0:
                raise np.linalg.LinAlgError(f"singular factor (LAPACK potri info={info})")
            W[:k, S] = -B.T
            WS = W[k : k + s]
            C = (self.sign > 0).nonzero()[0]
            if C.size:
                GsC = rows(S)[:, C]
                W[:k, C] -= B.T @ GsC
                T = dsymm(1.0, M, GsC.T, side=1, lower=1)  # A_CS A_SS^-1
                WS[:, C] = T.T
                self.hd[C] -= np.einsum("ij,ji->i", T, GsC)
            if S[-1] == s - 1:  # (S = 0..s-1: every gate open, a cold start)
                np.copyto(WS[:, :s], M.T)
                np.copyto(WS[:, :s], M, where=np.tri(s, dtype=bool))
            else:
                WS[:, S] = np.where(np.tri(s, dtype=bool), M, M.T)
            self.hd[S] = M.diagonal()
        self._cache = np.full(p, -1, dtype=np.intp)  # opened gates' columns of H: trial
        self._cached = None

    def _columns(self, J):
        """``H[:, J]'`` of closed gates ``J``: ``A[J, :]`` on the closed columns, less ``A_JS H[:, S]'``."""
        pos = self._cache[J]
        if self._cached is not None and (pos >= 0).all():
            return self._cached[pos]
        k, n = self.k, self.n
        # (float64 and C order: the product below writes into R in place)
        R = np.require(self.rows(J), dtype=np.float64, requirements=["C", "W"])
        R[np.arange(J.size), J] += self.ridge[J]
        if n > k:
            open_ = self.gate[k:n]
            R_S = R[:, open_]
            R[:, open_] = 0.0
            dgemm(-1.0, self.W[k:n].T, R_S.T, 1.0, R.T, overwrite_c=1)  # R -= R_S W_S
        if self._cached is not None:
            self._cache[:] = -1
        self._cache[J] = np.arange(J.size)
        self._cached = R
        return R

    def trial(self, out, into):
        """The pivot that closes the open gates ``out`` and opens the closed ``into``.

        Returns ``(fit change, growth, pivot)``: ``tr(c_S' B)`` changes by
        the first, the second is the pivot's round-off growth (the largest
        ``a_j |P_jj|`` of a gate it closes and ``a_j |P^-1_jj|`` of one it
        opens: ``a_j (A_SS^-1)_jj`` and ``a_j / s_j`` when it flips one
        gate), and the third goes to :meth:`commit`. ``H`` is not changed.
        """
        W, k = self.W, self.k
        if not into.size:
            U, D = W[self.slot[out]], out
        elif not out.size:
            U, D = self._columns(into), into
        else:
            U = np.concatenate([W[self.slot[out]], self._columns(into)])
            D = np.concatenate([out, into])
        P = U[:, D].T
        if D.size == 1:
            Pinv = 1.0 / P
            growth = float(self.a[D[0]] * abs(P[0, 0] if out.size else Pinv[0, 0]))
        else:
            lu, piv, info = dgetrf(P)
            if info == 0:
                Pinv, info = dgetri(lu, piv)
            if info != 0:
                raise np.linalg.LinAlgError(f"singular pivot (LAPACK getrf/getri info={info})")
            g = np.abs(Pinv.diagonal()) * self.a[D]
            g[: out.size] = np.abs(P.diagonal()[: out.size]) * self.a[out]
            growth = float(g.max())
        WcD = W[:k, D]
        HcD = WcD * self.sign[D]  # H_cD (c is never pivoted)
        fit = float(np.vdot(HcD @ Pinv, WcD))
        return fit, growth, (out, into, D, U, Pinv)

    def commit(self, trial):
        """Pivot on the flips of ``trial`` (from :meth:`trial` at the current ``S``)."""
        _, growth, (out, into, D, U, Pinv) = trial
        W, slot, gate, sign = self.W, self.slot, self.gate, self.sign
        for j in out:  # the closed gates' rows go: the last row takes each place
            i, last = slot[j], self.n - 1
            if i != last:
                W[i] = W[last]
                gate[i] = gate[last]
                slot[gate[i]] = i
            slot[j], gate[last] = -1, -1
            self.n = last
        n = self.n
        Y = W[:n, D] @ Pinv.T
        dgemm(-1.0, U.T, Y.T, 1.0, W[:n].T, overwrite_c=1)  # W -= Y U
        W[:n, D] = -Y
        # H'_xx = H_xx - H_xD P^-1 H_Dx, H_Dx = sign_x sign_D H_xD'
        self.hd -= sign * (((Pinv * sign[D]).T @ U) * U).sum(0)
        self.hd[D] = Pinv.diagonal()
        sign[D] = -sign[D]
        if into.size:
            PT = Pinv.T[out.size :]
            end = n + into.size
            if end > W.shape[0]:
                grown = np.empty((max(end, 2 * W.shape[0]), W.shape[1]))
                grown[:n] = W[:n]
                self.W = W = grown
                self.gate = gate = np.concatenate(
                    [gate, np.full(W.shape[0] - gate.size, -1, dtype=np.intp)])
            W[n:end] = PT @ U
            W[n:end, D] = PT
            slot[into] = np.arange(n, end)
            gate[n:end] = into
            self.n = end
        self.drift += growth
        if self._cached is not None:
            self._cache[:] = -1
            self._cached = None

    def weights(self, S):
        """``B = A_SS^-1 c_S`` of the open gates ``S``, ``(s, k)``."""
        return -self.W[: self.k, S].T

    def residuals(self, C):
        """``r_C = c_C - A_CS B`` of closed gates ``C``, ``(|C|, k)``."""
        return self.W[: self.k, C].T


def quadratic_screen(H, g, x, F):
    """The minimum of ``g'd + d'H d / 2`` over the steps ``d`` that leave ``x + d`` on the coordinates ``F[i]``, for each row ``i``.

    ``H`` (d, d) symmetric positive definite, ``g`` and ``x`` (d,), ``F``
    (m, f) coordinate indices (each row distinct). With ``u`` the part of
    ``x`` off ``F[i]`` (the step takes it to 0) and ``c = g_F - (H u)_F``,
    the minimum is ``-g'u + u'H u / 2 - c' H_FF^-1 c / 2`` (the free part
    of the step is ``-H_FF^-1 c``): the second-order screen of
    :meth:`skl0._splice_multinomial.MultinomialRefits.screen_losses` and of
    the binary refits' (:meth:`skl0._splice_refits._BinaryRefits.screen_losses`).
    A value that is not finite (a block singular to working precision) is
    returned as inf: that row is not ranked.
    """
    m = F.shape[0]
    rows = np.arange(m)[:, None]
    u = np.broadcast_to(x, (m, x.size)).copy()
    u[rows, F] = 0.0
    Hu = u @ H
    c = g[F] - Hu[rows, F]
    with np.errstate(all="ignore"):
        try:
            step = np.linalg.solve(H[F[:, :, None], F[:, None, :]], c[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # (an exactly singular block: no ranking at all)
            return np.full(m, np.inf)
        value = (-(u @ g) + 0.5 * np.einsum("ij,ij->i", u, Hu)
                 - 0.5 * np.einsum("ij,ij->i", c, step))
    value[~np.isfinite(value)] = np.inf
    return value
