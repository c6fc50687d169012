"""How the swap search scores a candidate support: refits of the squared and binary log losses.

:mod:`skl0._splice` decides which supports to try (sacrifices, swaps, the
scans of every single or pair swap, exhaustive sizes, the starts); the
objects here refit each candidate and give its loss, with the sacrifices
that rank the next round's exchanges:

- :class:`_GramRefits`: a Gram problem (or a row problem's ``X'WX``),
  closed-form ridge refits batched over candidates, updates of the
  current refit for large supports, and the exact sacrifices;
- :class:`_BinaryRefits`: a binary log loss on a host copy of X, batched
  Newton refits, second-order sacrifices on small designs;
- :class:`_RowRefits`: any other row problem, one refit per candidate and
  abess's first-order sacrifices.

The multinomial log loss's refits are :mod:`skl0._splice_multinomial`.
:func:`make_refits`, :func:`shared_refits` and :func:`selection_refits`
choose among them. The candidate encodings that the refits and the search
share (:func:`_all_pair_swaps`, :func:`_block_positions`) live here, below
the search.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from scipy.linalg.blas import dger

from ._datafits import BinaryLogLoss
from ._elementwise import sigmoid
from ._linalg import cholesky_inverse, inverse_and_product, quadratic_screen
from ._objective import NumpyOps, data_term, default_ops, gram_mse, logistic_loss
from ._problem import GramProblem
from ._refit import _DENSE_SUPPORT_NUMBERS, refit_linear_head, ridge_refit, support_head
from ._refit_newton import (
    _binary_ridge,
    newton_binary,
    newton_binary_batch,
    ridge_jitter,
)
from ._splice_multinomial import (
    ForwardBySacrifice,
    MultinomialRefits,
    RefitFloors,
    StandardizedRows,
)

__all__ = ["make_refits", "same_loss_refits", "selection_refits", "shared_refits"]

# Inactive features (the largest forward sacrifices) tried in single swaps
# against every active one, each round.
_SWAP_IN = 3


# The most numbers of X (rows x columns x supports) that one batched binary
# refit (_BinaryRefits.fit_many) holds, 2 MB: enough for a round's ten or
# so candidates on a few thousand rows, where per-call overhead is the cost;
# past it the supports are refitted one by one, as their arithmetic then is
# (in batches of one where a cutoff may stop them early: on 5000-20000 rows,
# exact k = 20-60, 0.72-0.79x the CPU time of solving each to its optimum,
# the same supports and coefficients).
_BATCH_NUMBERS = 1 << 18


# Batched binary refits of supports of at least this size take the chord
# Hessians of _BinaryRefits._chord_hessians for their first steps. Those
# Hessians are the round's support's: where a swap makes rows less
# confidently fitted they understate the curvature, and the chord steps
# are halved more often (breast cancer lam="auto": 549 halvings against
# 59, and 1.06-1.13x the CPU time). A Hessian of s columns costs about
# s / 2 evaluations of the loss and gradient; on the development designs
# (breast cancer and 600 x 40 make_classification, seeds 0 and 1, exact
# k = 4..25) the chord steps cost 0.82-1.23x below 16 columns and
# 0.78-1.02x from 16 on.
_CHORD_MIN_SIZE = 16


# Exact k's search on a binary log loss ranks by second-order sacrifices,
# tries _SWAP_IN columns in single swaps and adds a forward stepwise start
# where X holds at most this many numbers (_BinaryRefits, second_order):
# more Newton refits a round, k more for the start, and one (n, p, k)
# product. On designs of 1500-7500 numbers (breast-cancer subsets,
# make_classification) it found supports of lower loss in most changed
# cases; at n=1000, p=100, k=10 (seeds 100-102) it changed no support and
# cost 1.7-1.85x, at logit500 (2000 x 500) the same supports at 1.5x. So
# the first-order search stays past 2^15 numbers (breast cancer's 569 x 30
# is under it).
_SECOND_ORDER_MAX_NUMBERS = 1 << 15


# From this support size on, a Gram swap search round scores its exchanges
# by updates of the current refit (_GramRefits.losses with base) instead of
# one batched solve: one thread, p = 400, a round's ~4k candidates, the
# updates cost 1.7x the solve at k = 24, 1.1x at 32, 0.43x at 48, 0.07x
# at 128 (about 0.6 ms of Python a round, against k^3 solves).
_UPDATE_MIN_SIZE = 40


# Exact k's swap search on a row problem of squared loss (no more rows than
# columns: p = n, a number lam capped by k with p > n, or a screened subset
# at least as wide as the rows) refits each candidate from X'WX, formed
# once (n p^2 / 2 multiply-adds, 32 MB at 2048 columns), instead of from
# its columns (n k^2 and about a millisecond of torch a refit, 2k and more
# refits a round): where p <= 2048 and n p^2 <= 4 n k^3 + 2^28, i.e. the
# Gram costs less than about two rounds of row refits, or little at all
# (2^28: about 0.1 CPU s). Measured (seed 100, one thread, against
# session 26's rows): n = p = 2000, k = 100: 5.5 s against 40-43 s; k = 10
# stays on rows (the Gram alone would double that 0.25 s fit).
_ROW_GRAM_MAX_FEATURES = 2048


_ROW_GRAM_FREE = 1 << 28


def _residual_correlations(problem, head=None):
    """``|dloss/dB_j|^2`` summed over outputs at the head's weights (any datafit).

    ``head=None``: at ``B = 0, b = 0`` (the empty model), without building
    a torch head. For squared loss ``dloss/dB_j`` is ``-2 d_j / q`` with
    ``d_j = x_j' W r``.
    """
    ops = default_ops(problem)
    term = data_term(problem, ops)
    q = problem.datafit.n_outputs
    W, b = ((np.zeros((problem.n_features, q)), np.zeros(q)) if head is None
            else (head.weight.detach(), head.bias.detach()))
    bias = ops.float_array(b) if term.fits_intercept else 0.0
    _, dB, _ = term.value_grad(ops.float_array(W), bias)
    return (ops.to_host(dB) ** 2).sum(1)


class _GramRefits:
    """Refits and sacrifices of a Gram problem, in numpy float64.

    With ``H = G_AA + 2 alpha I`` the refit is ``beta = H^-1 c_A`` and the
    sacrifices are exact: dropping ``j`` raises the refitted loss by
    ``beta_j^2 / (H^-1)_jj`` and adding ``j`` lowers it by
    ``r_j^2 / (G_jj - G_jA H^-1 G_Aj)`` with ``r = c - G_:A beta`` (summed
    over outputs, up to the factor ``1 / q``). On correlated columns these
    differ much from the orthogonal-design values ``beta_j^2`` and ``r_j^2``
    that row problems use: two correlated features with large opposite
    coefficients cost little to drop.
    """

    cached = True
    swap_in = _SWAP_IN
    forward = True  # exact gains: forward stepwise selection is a start worth trying

    def __init__(self, problem, alpha):
        ops = NumpyOps()
        term = data_term(problem, ops)
        self.G, self.c, self.yy, self.q = term.G, term.c, term.yy, term.q
        self.yy_k = ops.float_array(problem.yy).reshape(-1)  # per output; yy is their sum
        self.alpha = float(alpha)
        self.jitter = ridge_jitter(term.d)
        self.ridge = 2 * self.alpha + self.jitter  # the diagonal every refit adds to G_SS
        self.cache = {}

    def fit(self, S):
        """``((beta, factor), loss)`` of the refit on ``S``; each support is solved once."""
        key = S.tobytes()
        if key not in self.cache:
            self.cache[key] = self._fit(S)
        return self.cache[key]

    def _fit(self, S):
        if S.size == 0:
            return None, self.yy / self.q
        factor, beta = ridge_refit(self.G, self.c, S, self.alpha, self.jitter)
        # (G_SS + ridge I) beta = c_S, so 2 beta'c_S - beta'G_SS beta (the
        # explained sum of squares) is beta'c_S + ridge ||beta||^2.
        ridge = self.ridge
        fit = float(np.vdot(beta, self.c[S])) + ridge * float(np.vdot(beta, beta))
        loss = (self.yy - fit) / self.q
        return (beta, factor), loss

    def losses(self, cands, base=None, cutoff=None):
        """Refitted losses of the supports in the rows of ``cands``, in one batched solve.

        What :meth:`fit` returns as its loss for each (the same ridge and
        formula), without a Python-level factorisation per support: the
        swap search scores a round's candidates with it and refits only
        the one it accepts. Supports solved before come from the cache.

        ``base``: the swap search's round, ``(support, state, weakest,
        strongest, C)`` (:func:`skl0._splice._swap_candidates`' arguments and the
        support's refit), whose rows are exchanges from ``support``. They
        are then scored from the refit's inverse instead of a ``k x k``
        solve each (where :meth:`_updates_apply`: from ``k =
        _UPDATE_MIN_SIZE`` on, below which the batched solve is faster, and
        on a well-conditioned ``H``): the first ``C`` rows by
        :meth:`_chain_losses`, the single swaps by
        :meth:`_single_swap_losses`. Of the rows scored so, those within
        ``1e-6`` of the lowest score, or of ``cutoff`` (the caller keeps only
        the lowest, and only below ``cutoff``), are solved again, and again
        around the new lowest score until it is a solve's: which row is
        lowest and whether it passes ``cutoff`` are decided by the solves,
        as without ``base``.
        """
        out = np.array([self.cache[key][1] if key in self.cache else np.nan
                        for key in map(np.ndarray.tobytes, cands)])
        todo = np.isnan(out)
        if not todo.any():
            return out
        if base is None or not self._updates_apply(base[0]):
            out[todo] = self.solved_losses(cands[todo])
            return out
        support, state, weakest, strongest, C = base
        Hinv = cholesky_inverse(state[1])  # (both scorings start from it)
        updated = np.zeros(out.size, dtype=bool)
        if todo[:C].any():
            chain = self._chain_losses(support, state, Hinv, weakest, strongest, C,
                                       cands[C - 1])
            if chain is not None:
                out[:C] = np.where(todo[:C], chain, out[:C])
                updated[:C] = todo[:C]
                todo[:C] = False
        rows = np.flatnonzero(todo)
        if rows.size:
            out[rows], updated[rows] = self._single_swap_losses(cands[rows], support, state,
                                                                Hinv)
        return self._solve_near_lowest(out, updated, cutoff, cands.__getitem__)

    def _solve_near_lowest(self, out, updated, cutoff, rows_of):
        """``out`` with the ``updated`` rows near its lowest score (or ``cutoff``) solved.

        Rows scored by updates within ``1e-6`` of the lowest score, or of
        ``cutoff``, are solved again, and again around the new lowest
        score until it is a solve's: which row is lowest, and whether it
        passes ``cutoff``, are decided by solves. ``rows_of(indices)``: those
        rows' supports.
        """
        while True:  # until every row near the lowest (solved) score is solved
            lowest = float(out.min())
            tol = 1e-6 * abs(lowest) + 1e-12 * self.yy / self.q
            limit = lowest + 2 * tol if cutoff is None else min(lowest + 2 * tol, cutoff + tol)
            again = np.flatnonzero(updated & (out <= limit))
            if not again.size:
                return out
            out[again] = self.solved_losses(rows_of(again))
            updated[again] = False

    def pair_swap_losses(self, support, state, cutoff=None):
        """Losses of the rows of :func:`_all_pair_swaps` of ``support`` (refit ``state``), by updates.

        Each row drops two columns ``R = {a, b}`` of ``support`` and adds two
        others ``N = {i, j}``. From ``H^-1`` (``H = G_SS + ridge I``) the
        refit without ``R`` is a rank-two downdate (``T = S - R``:
        ``H_T^-1 = (H^-1)_TT - (H^-1)_TR ((H^-1)_RR)^-1 (H^-1)_RT`` and
        ``beta_T`` likewise from ``beta``); bordering it with ``N`` (``A =
        G_TN``, ``W = H_T^-1 A``) has the 2 x 2 Schur complement ``Sigma =
        G_NN + ridge I - A'W``, the new coefficients ``b_N = Sigma^-1 (c_N -
        A'beta_T)`` and ``beta_T - W b_N``; the loss is :meth:`fit`'s formula
        on them. The terms shared by the rows of one ``R`` (``W``, ``A'beta_T``
        and the products of ``W`` for every inactive column) are formed
        once, so the ``C(k, 2) C(p - k, 2)`` rows cost a few array
        operations instead of a solve each, and only the rows solved are
        formed as supports. Rows near the lowest score or ``cutoff`` are
        solved again (:meth:`_solve_near_lowest`), and so is every row whose
        ``Sigma`` is nearly singular; where :meth:`_conditioned` fails, every
        row is solved.
        """
        p = self.G.shape[0]
        if not self._conditioned(support):
            return self.solved_losses(_all_pair_swaps(support, p))
        k, ridge = support.size, self.ridge
        beta = state[0]  # (k, q)
        Hinv = cholesky_inverse(state[1])
        inactive = np.setdiff1d(np.arange(p), support)
        R, T = _pair_positions(k)
        HRR = Hinv[R[:, :, None], R[:, None, :]]  # (o, 2, 2)
        HTR = Hinv[T[:, :, None], R[:, None, :]]  # (o, k-2, 2)
        M = np.linalg.solve(HRR, np.swapaxes(HTR, 1, 2))  # (o, 2, k-2): HRR^-1 H_RT
        HTinv = Hinv[T[:, :, None], T[:, None, :]] - HTR @ M
        betaT = beta[T] - np.swapaxes(M, 1, 2) @ beta[R]  # (o, k-2, q)
        A = self.G[np.ix_(support, inactive)][T]  # (o, k-2, m): G_Tm for each inactive m
        W = HTinv @ A  # (o, k-2, m)
        Wt = np.swapaxes(W, 1, 2)
        cT, cN = self.c[support][T], self.c[inactive]  # (o, k-2, q), (m, q)
        r = cN[None] - np.swapaxes(A, 1, 2) @ betaT  # (o, m, q)
        Sig = (self.G[np.ix_(inactive, inactive)] + ridge * np.eye(inactive.size)
               - np.swapaxes(A, 1, 2) @ W)  # (o, m, m)
        WtW, WtB, Wtc = Wt @ W, Wt @ betaT, Wt @ cT
        base_fit = (betaT * cT).sum((1, 2)) + ridge * (betaT * betaT).sum((1, 2))  # (o,)
        i, j = np.triu_indices(inactive.size, 1)
        s11, s22, s12 = Sig[:, i, i], Sig[:, j, j], Sig[:, i, j]  # (o, n)
        det = s11 * s22 - s12 * s12
        ri, rj = r[:, i], r[:, j]  # (o, n, q)
        bi = (s22[..., None] * ri - s12[..., None] * rj) / det[..., None]
        bj = (s11[..., None] * rj - s12[..., None] * ri) / det[..., None]
        bb_i, bb_j = (bi * bi).sum(-1), (bj * bj).sum(-1)
        # beta_T' = beta_T - W_i b_i - W_j b_j: its products with c_T and with itself.
        fit = (base_fit[:, None]
               + ((cN[i] - Wtc[:, i] - 2 * ridge * WtB[:, i]) * bi).sum(-1)
               + ((cN[j] - Wtc[:, j] - 2 * ridge * WtB[:, j]) * bj).sum(-1)
               + ridge * ((WtW[:, i, i] + 1) * bb_i + (WtW[:, j, j] + 1) * bb_j
                          + 2 * WtW[:, i, j] * (bi * bj).sum(-1)))
        out = ((self.yy - fit) / self.q).reshape(-1)
        diag = self.G.diagonal()[inactive] + ridge
        good = (det > 1e-9 * diag[i] * diag[j]).reshape(-1)

        def rows_of(idx):
            return _all_pair_swaps(support, p, idx)

        rest = np.flatnonzero(~good)
        if rest.size:
            out[rest] = self.solved_losses(rows_of(rest))
        return self._solve_near_lowest(out, good, cutoff, rows_of)

    def _conditioned(self, support):
        """:meth:`_updates_apply`'s conditioning bound on ``H = G_SS + ridge I``, at any size."""
        ridge = self.ridge
        return float(self.G.diagonal()[support].sum()) + ridge <= 1e7 * ridge

    def _updates_apply(self, support):
        """Whether :meth:`losses` scores exchanges from ``support`` by updates.

        From ``_UPDATE_MIN_SIZE`` columns on, and where ``H = G_SS + ridge I``
        is well conditioned: ``cond(H) <= (trace(G_SS) + ridge) / ridge`` at
        most ``1e7``, so the updates keep about nine digits (at the default
        ``alpha=1e-4``, up to ~1000 standardized columns). With a ridge of
        about zero (``alpha=0``) and nearly equal columns the updates were
        off by up to 4e-3 and changed the search's moves.
        """
        return support.size >= _UPDATE_MIN_SIZE and self._conditioned(support)

    def _chain_losses(self, support, state, Hinv, weakest, strongest, C, last):
        """Losses of ``support`` with ``weakest[:c]`` exchanged for ``strongest[:c]``, ``c = 1..C``.

        One exchange after another from the refit of ``support``
        (``state``, and ``Hinv``, its ``H^-1``, which is not written): each
        drops column ``i`` from the inverse ``H^-1`` and
        the coefficients (``H^-1 - h h' / h_ii``, ``beta - h beta_i / h_ii``
        with ``h = H^-1 e_i``) and borders them with the new column ``j``
        in its place (``u = H^-1 a``, ``s = G_jj + ridge - a'u``: the
        inverse gains ``u u' / s`` and the border ``-u / s``, ``1 / s``; the
        coefficients ``-u b_j`` and ``b_j = (c_j - a'beta) / s``), two
        rank-one BLAS updates of a ``k x k`` matrix where a solve would cost
        ``k^3``. Each loss is :meth:`fit`'s formula on the coefficients.
        Round-off accumulates along the chain: when the last one's loss is
        not within ``1e-9`` of a solve of ``last`` (its support, sorted),
        None is returned and the caller solves them all.
        """
        beta = state[0]
        ridge = self.ridge
        Hinv = Hinv.T.copy(order="F")  # symmetric; Fortran order for dger in place
        B = np.array(beta, dtype=np.float64, order="C")
        cols = support.copy()
        slots = np.searchsorted(support, weakest[:C])
        out = np.empty(C)
        for c in range(C):
            i, j = slots[c], strongest[c]
            h = Hinv[:, i].copy()
            dger(-1.0 / h[i], h, h, a=Hinv, overwrite_a=1)
            B -= np.outer(h, B[i] / h[i])
            Hinv[i, :], Hinv[:, i], B[i] = 0.0, 0.0, 0.0
            cols[i] = j
            a = self.G[cols, j]
            a[i] = 0.0
            u = Hinv @ a
            s = self.G[j, j] + ridge - a @ u
            b = (self.c[j] - a @ B) / s
            dger(1.0 / s, u, u, a=Hinv, overwrite_a=1)
            Hinv[i, :], Hinv[:, i] = -u / s, -u / s
            Hinv[i, i] = 1.0 / s
            B -= np.outer(u, b)
            B[i] = b
            fit = float(np.vdot(B, self.c[cols])) + ridge * float(np.vdot(B, B))
            out[c] = (self.yy - fit) / self.q
        solved = float(self.solved_losses(last[None])[0])
        if not abs(out[-1] - solved) <= 1e-9 * abs(solved) + 1e-12 * self.yy / self.q:
            return None
        return out

    def _single_swap_losses(self, cands, support, state, Hinv):
        """``(losses, updated)`` of the rows of ``cands``: ``updated`` marks those scored by update.

        A row that drops one column ``i`` of ``support`` (``k`` columns,
        refit ``beta = H^-1 c_S`` with ``H = G_SS + ridge I``, ``Hinv`` its
        ``H^-1``) and adds one column ``j`` is refitted from ``H^-1``: with ``h = H^-1 e_i``,
        ``a = G_Sj``, ``w = H^-1 a``, the refit without ``i`` is
        ``beta - h beta_i / h_ii`` (its ``i``-th entry zero); adding ``j``
        then has the Schur complement ``s = G_jj + ridge - a'w + w_i^2 / h_ii``
        and the coefficient ``(c_j - a'beta + w_i beta_i / h_ii) / s``, and the
        other coefficients move by ``-(w - h w_i / h_ii)`` times it (the
        bordered inverse, block elimination). The refit's coefficients are
        formed, and its loss is :meth:`fit`'s formula on them. Rows that
        exchange more columns, and single swaps whose ``s`` is below
        ``1e-9 (G_jj + ridge)`` (``j`` nearly a combination of the kept
        columns, where the update loses digits), are solved.
        """
        out = np.empty(cands.shape[0])
        inside = np.isin(cands, support)
        single = (~inside).sum(1) == 1
        rest = np.flatnonzero(~single)
        rows = np.flatnonzero(single)
        updated = np.zeros(cands.shape[0], dtype=bool)
        if rows.size:
            beta = state[0]
            S_rows = cands[rows]
            j = S_rows[~inside[rows]]  # the added column of each row, in row order
            pos = np.searchsorted(support, j + int(support.sum()) - S_rows.sum(1))  # the dropped
            ridge = self.ridge
            J, jx = np.unique(j, return_inverse=True)
            A = self.G[np.ix_(support, J)]
            W = Hinv @ A
            diag = self.G[J, J] + ridge
            s0 = diag - (A * W).sum(0)
            rho0 = self.c[J] - A.T @ beta
            h = Hinv[:, pos].T  # (m, k): column i of H^-1 for each row
            hii = Hinv.diagonal()[pos]
            w_i = W[pos, jx]
            s = s0[jx] + w_i * w_i / hii
            beta_i = beta[pos]  # (m, q)
            b_j = (rho0[jx] + (w_i / hii)[:, None] * beta_i) / s[:, None]
            U = W[:, jx].T - h * (w_i / hii)[:, None]
            B = beta[None] - h[:, :, None] * (beta_i / hii[:, None])[:, None, :]
            B -= U[:, :, None] * b_j[:, None, :]
            B[np.arange(rows.size), pos] = 0.0
            fit = (np.einsum("mkq,kq->m", B, self.c[support]) + (b_j * self.c[j]).sum(1)
                   + ridge * ((B * B).sum((1, 2)) + (b_j * b_j).sum(1)))
            good = s > 1e-9 * diag[jx]
            out[rows[good]] = (self.yy - fit[good]) / self.q
            updated[rows[good]] = True
            rest = np.sort(np.concatenate([rest, rows[~good]]))
        if rest.size:
            out[rest] = self.solved_losses(cands[rest])
        return out, updated

    def solved_losses(self, cands, positions=None):
        """:meth:`losses` of every row of ``cands``, solved without looking in the cache.

        ``positions``: the flat positions of the rows' blocks ``G_SS`` in
        ``G`` (:func:`_block_positions`), when the caller keeps them.
        """
        m, k = cands.shape
        if k == 0:
            return np.full(m, self.yy / self.q)
        ridge = self.ridge
        # The blocks G_SS by their flat positions in G: one gather, several
        # times faster than indexing G by rows and columns.
        if positions is None:
            positions = _block_positions(cands, self.G.shape[1])
        H = self.G.take(positions)
        H.reshape(m, k * k)[:, :: k + 1] += ridge  # each block's diagonal (a strided view)
        C = self.c[cands]
        beta = np.linalg.solve(H, C)
        fit = (beta * C).sum((1, 2)) + ridge * (beta * beta).sum((1, 2))
        return (self.yy - fit) / self.q

    def sacrifices(self, state, S):
        beta, factor = state
        GA = self.G[:, S]
        Hinv_diag, GAH = inverse_and_product(factor, GA)
        back = (beta * beta).sum(1) / np.maximum(Hinv_diag, 1e-300)
        r = self.c - GA @ beta
        resid = self.G.diagonal() - (GAH * GA).sum(1)
        resid = np.maximum(resid, 1e-12 * max(float(self.G.diagonal().max()), 1e-300))
        return back, (r * r).sum(1) / resid

    def group_sacrifices(self, state, S, layout):
        """:meth:`sacrifices` of whole groups: ``(back, forward)``, one value per group.

        The block versions of the column values (the group search's ranking,
        :func:`skl0._group_select.splice_groups`): dropping kept group ``g``
        costs ``tr(beta_g' (H^-1)_gg^-1 beta_g)`` and adding another gains
        ``tr(r_g' S_g^-1 r_g)``, ``S_g = G_gg + ridge I - G_gS H^-1 G_Sg`` the
        Schur complement of the kept columns at ``g``'s in the refit's ridge
        system (with ``r = c - G_:S beta``): the exact changes of the
        penalised objective ``yy - c_T' (G_TT + ridge I)^-1 c_T``, in the units
        of :meth:`sacrifices`. A group of one column gets :meth:`sacrifices`'
        own values (whose forward one leaves the ridge out). Summing the
        columns' values instead counts a group's correlated columns as if each
        came alone. Groups not in ``S`` with no spread get 0.
        """
        beta, factor = state
        idx = layout.index
        ridge = self.ridge
        GA = self.G[:, S]
        Hinv = cholesky_inverse(factor)
        GAH = GA @ Hinv
        r = self.c - GA @ beta
        back, fwd = np.zeros(layout.n_groups), np.zeros(layout.n_groups)
        floor = 1e-12 * max(float(self.G.diagonal().max()), 1e-300)
        kept = np.zeros(layout.n_groups, dtype=bool)
        kept[idx[S]] = True
        order = np.argsort(idx, kind="stable")  # the columns, group by group
        sizes = np.bincount(idx, minlength=layout.n_groups)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        pos = np.full(idx.size, -1)
        pos[S] = np.arange(S.size)
        # Groups of one column: the columns' own values (no solve).
        ones = np.flatnonzero(sizes == 1)
        if ones.size:
            cols = order[starts[ones]]
            on = kept[ones]
            P = pos[cols[on]]
            back[ones[on]] = (beta[P] * beta[P]).sum(1) / np.maximum(Hinv[P, P], 1e-300)
            C = cols[~on]
            resid = self.G[C, C] - (GAH[C] * GA[C]).sum(1)
            fwd[ones[~on]] = (r[C] * r[C]).sum(1) / np.maximum(resid, floor)
        # Larger groups of one size at once: their columns as rows of a matrix.
        for size in np.unique(sizes[sizes > 1]):
            gs = np.flatnonzero(sizes == size)
            cols = order[starts[gs][:, None] + np.arange(size)]
            out = kept[gs]
            if out.any():  # kept: (H^-1)_gg^-1 against beta_g
                P = pos[cols[out]]
                B = beta[P]
                M = Hinv[P[:, :, None], P[:, None, :]]
                back[gs[out]] = (B * np.linalg.solve(M, B)).sum((1, 2))
            if (~out).any():  # others: the Schur complement S_g against r_g
                C = cols[~out]
                A = self.G[C[:, :, None], C[:, None, :]] - GAH[C] @ GA[C].transpose(0, 2, 1)
                d = np.arange(size)
                # With the refit's ridge, as the refit of S + g has it: the block
                # of a one-hot group (centred columns summing to zero) is
                # singular without it.
                A[:, d, d] += ridge
                A[:, d, d] = np.maximum(A[:, d, d], floor)
                R = r[C]
                try:
                    fwd[gs[~out]] = (R * np.linalg.solve(A, R)).sum((1, 2))
                except np.linalg.LinAlgError:  # one block singular to round-off: each alone
                    for i, g in enumerate(gs[~out]):
                        fwd[g] = float((R[i] * np.linalg.lstsq(A[i], R[i], rcond=None)[0]).sum())
        return back, fwd

    def forward_gains(self, S):
        """The exact loss decrease of adding each column to ``S``."""
        if S.size == 0:
            return (self.c * self.c).sum(1) / np.maximum(self.G.diagonal(), 1e-300)
        state, _ = self.fit(S)
        return self.sacrifices(state, S)[1]

    def head(self, problem, S, state):
        """The refitted head of ``S`` from the refit's own ``beta``."""
        return support_head(problem, S, state[0] if S.size else None)

    def output_mse(self, S, state=None):
        """Per-output weighted MSE of the refit on ``S`` (``state``: that refit, when at hand).

        ``yy_k - 2 beta_k' c_k + beta_k' G_SS beta_k`` (:func:`skl0._objective.gram_mse`)
        from the refit's own ``beta``, in the units of ``yy_k``.
        """
        if S.size == 0:
            return self.yy_k.copy()
        beta = (self.fit(S)[0] if state is None else state)[0]
        return gram_mse(self.yy_k, self.c[S], self.G.take(S, 0).take(S, 1), beta)

    def with_output_weights(self, weights):
        """These refits with output ``k`` scaled by ``sqrt(weights[k])`` (a new cache).

        Their loss is ``sum_k weights_k RSS_k / q`` (``RSS_k`` in the units
        of ``yy_k``): the swap search then minimises a weighted sum of the
        outputs' errors instead of the plain sum. Each output's refit is
        unchanged, only scaled.
        """
        new = copy.copy(self)
        new.c = self.c * np.sqrt(weights)
        new.yy_k = self.yy_k * weights
        new.yy = float(new.yy_k.sum())
        new.cache = {}
        return new


class _BinaryRefits(ForwardBySacrifice, RefitFloors, StandardizedRows):
    """Refits and sacrifices of a binary log loss on small CPU data, in numpy.

    The standardized X is formed once in float64 (a dense X of at most
    ``_host_design.HOST_COPY_MAX_NUMBERS`` numbers, a sparse one of at most
    ``_host_design.SMALL_SPARSE_NUMBERS`` when dense: :func:`skl0._host_design.host_copy_fits`;
    the copy the IRLS start of the gate engine uses, see
    :func:`skl0._host_design.standardized_host`) and each candidate support is refitted by
    the Newton solve that :func:`skl0._refit.refit_linear_head` uses
    (the ridge-``alpha`` logistic MLE), warm-started from the support last
    accepted, without torch in the loop; refits are cached by support,
    since the swap candidates of one round recur in the next and across
    starts. The sacrifices are those of :class:`_RowRefits` (``beta_j^2``
    and the squared loss gradient), or with ``second_order=True`` (exact
    ``k``'s search on an X of at most ``_SECOND_ORDER_MAX_NUMBERS``
    numbers, :func:`selection_refits`) the second-order changes of the
    loss: the Wald statistic ``beta_j^2 / (2 [H^-1]_jj)`` to drop ``j`` and
    the score statistic ``g_j^2 / (2 (H_jj - H_jA H_AA^-1 H_Aj))`` to add
    it (the efficient information, as :class:`MultinomialRefits`), which
    follow the joint fit of correlated columns; those searches also try
    ``_SWAP_IN`` inactive columns in single swaps and start from forward
    stepwise selection too (``forward``).

    A sparse X too large for that copy (at most
    ``_splice_multinomial._SPARSE_ROWS_CLASSES_MAX`` rows:
    :func:`skl0._splice_multinomial.sparse_design_applies`) is read through
    its stored entries instead, as :class:`MultinomialRefits` reads it
    (:class:`skl0._splice_multinomial._SparseStandardized`; ``sparse``):
    the same statistics up to round-off, each support's columns dense while
    they hold at most ``skl0._refit._DENSE_SUPPORT_NUMBERS`` numbers (read
    as :class:`skl0._refit_newton.SparseColumns` past that), and the cached
    refits keep their coefficients only, not their ``n`` logits (formed
    again for a support whose sacrifices are asked for).
    """

    cached = True
    #: Coefficients per column (one output), as :class:`MultinomialRefits`' ``q`` classes.
    q = 1
    datafit_class = BinaryLogLoss

    def __init__(self, problem, alpha, second_order=False):
        # A larger sparse X is read through its entries (_SparseStandardized),
        # else the IRLS start's dense copy, if it made one.
        self._read_rows(problem)
        self.y = problem.Y.detach().cpu().double().numpy().reshape(-1)
        self.w = problem.w.detach().cpu().double().numpy()
        self.alpha, self.problem = float(alpha), problem
        self.start = (np.zeros(self.shape[1]), 0.0)  # the last accepted (W, b)
        self._base = None  # (A, v, H_jA or None) of the last sacrifices, at the start's support
        self.cache = {}
        self.floors = {}  # lower bounds on the losses of supports fit_many left unsolved
        self.second_order = bool(second_order)
        # Read by swap_search and exact k (_base): one swap-in and no
        # forward start unless second order.
        self.swap_in = _SWAP_IN if self.second_order else 1
        self.forward = self.second_order

    def _columns(self, S):
        """The standardized columns ``S`` for a refit (a sparse X's: ``refit_columns``)."""
        return self.Xs[:, S] if self.sparse is None else self.sparse.refit_columns(S)

    def fit(self, S):
        key = S.tobytes()
        if key not in self.cache:
            X = self._columns(S)
            x = newton_binary(X, self.y, self.w, self.alpha, self._x0(S), 200)
            if x is None:  # not positive definite: the general refit
                head, _ = refit_linear_head(self.problem, S, alpha=self.alpha)
                x = np.concatenate([head.weight.detach().double().numpy()[S, 0],
                                    head.bias.detach().double().numpy()])
            self._store(key, X, x)
        return self.cache[key]

    @np.errstate(under="ignore")  # (the losses' exp(-|f|): benign underflow)
    def fit_many(self, cands, cutoff=None):
        """:meth:`fit` of each row of ``cands`` (supports of one size): ``[(state, loss), ...]``.

        The supports not cached yet are solved together by
        :func:`skl0._refit_newton.newton_binary_batch` from the same warm starts
        as :meth:`fit`, in batches of at most ``_BATCH_NUMBERS`` numbers
        of X (of one support where one alone fills a batch, so that the
        cutoff still applies); a support whose Hessian was not positive
        definite, and every support when one alone fills a batch and there
        is no cutoff, goes through :meth:`fit`.
        ``cutoff``: only the lowest loss matters, and only below ``cutoff``
        (a search's argmin): a support that Newton's decrement shows cannot
        get below both (``newton_binary_batch``'s ``cutoff``) is left
        unsolved and uncached, as ``(None, inf)``.
        """
        keys = [c.tobytes() for c in cands]
        todo = [i for i, key in enumerate(keys) if key not in self.cache]
        dropped = set()
        if cutoff is not None:
            bound = self._opening_bound(keys, cutoff)
            dropped = {keys[i] for i in todo if self._ruled_out(keys[i], bound)}
            todo = [i for i in todo if keys[i] not in dropped]
        n, s = self.shape[0], cands.shape[1]
        per = max(1, _BATCH_NUMBERS // max(1, n * s))
        # (a sparse X's supports batched while their columns are read dense)
        dense = self.sparse is None or n * s <= _DENSE_SUPPORT_NUMBERS
        if s and (per > 1 or cutoff is not None) and len(todo) > 1 and dense:
            chord = self._chord_hessians(cands[todo]) if s >= _CHORD_MIN_SIZE else None
            for lo in range(0, len(todo), per):
                block = cands[todo[lo:lo + per]]
                # each support's columns as rows, reused for its logits
                if self.sparse is None:
                    Xb = self.Xs.T[block]
                else:  # (the block's own columns, dense)
                    used = np.unique(block)
                    Xb = self.sparse.columns(used).T[np.searchsorted(used, block)]
                x0 = np.empty((len(block), s + 1))  # each row _x0(S)
                x0[:, :s] = self.start[0][block]
                x0[:, s] = self.start[1]
                x, ok, floor = newton_binary_batch(
                    Xb, self.y, self.w, self.alpha, x0, 200,
                    cutoff=None if cutoff is None else bound,
                    H0=None if chord is None else chord(block))
                for S, XS, xi, good, low in zip(block, Xb, x, ok, floor):
                    key = S.tobytes()
                    if math.isnan(low):  # left by the chord test: no bound to keep
                        dropped.add(key)
                    elif low > -math.inf:
                        dropped.add(key)
                        self._left_at(key, low)
                    elif good:
                        self._store(key, XS.T, xi)
                        if cutoff is not None:
                            bound = min(bound, self.cache[key][1])
        return [(None, math.inf) if key in dropped else self.fit(S)
                for S, key in zip(cands, keys)]

    def _x0(self, S):
        return np.concatenate([self.start[0][S], [self.start[1]]])

    def _chord_hessians(self, cands):
        """Hessians for the first Newton steps of the supports ``cands``, or None.

        :meth:`sacrifices` at a support ``A`` (the warm starts' base) keep
        the row weights ``v`` of the loss's Hessian at ``A``'s refit. The
        Hessian of ``[X_U, 1]`` there, ``U`` the columns of ``A`` and of
        the candidates, is formed once for all of them: second-order
        sacrifices have already formed every column against ``[X_A, 1]``
        (``H_jA``), leaving the block of the columns ``N`` not in ``A``
        (``n |N|^2``), else ``n |U|^2``. Returns ``block -> (m, s + 1,
        s + 1)``, each support's ``[X_S, 1]`` Hessian at ``A``'s refit,
        gathered from it, where each support's own costs ``n s^2`` at
        every step.
        """
        if self._base is None:
            return None
        A, v, H_jA = self._base
        k, p = A.size, self.shape[1]
        in_A = np.zeros(p, dtype=bool)
        in_A[A] = True
        new = np.unique(cands[~in_A[cands]])
        U = np.concatenate([A, new])
        pos = np.full(p + 1, -1, dtype=np.intp)
        pos[U] = np.arange(U.size)
        pos[p] = U.size  # the intercept
        H = np.empty((U.size + 1, U.size + 1))
        if H_jA is None and self.sparse is not None:  # (from the entries, never dense)
            u = U.size
            H[:u, :u], H[:u, u] = self.sparse.weighted_gram(U, v)
            H[u, :u] = H[:u, u]
            H[u, u] = v.sum()
        elif H_jA is None:
            Z = np.column_stack([self.Xs[:, U], np.ones(self.Xs.shape[0])])
            H[:] = Z.T @ (Z * v[:, None])
        else:
            H[: U.size, :k] = H_jA[U, :k]
            H[: U.size, U.size] = H_jA[U, k]
            H[:k, k: U.size] = H[k: U.size, :k].T
            if self.sparse is None:
                XN = self.Xs[:, new]
                H[k: U.size, k: U.size] = XN.T @ (XN * v[:, None])
            else:
                H[k: U.size, k: U.size] = self.sparse.weighted_gram(new, v)[0]
            H[U.size, :] = H[:, U.size]
            H[U.size, U.size] = v.sum()

        def gather(block):
            idx = pos[np.column_stack([block, np.full(len(block), p)])]
            return H[idx[:, :, None], idx[:, None, :]]

        return gather

    @np.errstate(under="ignore")  # (the loss's exp(-|f|))
    def _store(self, key, X, x):
        f = X @ x[:-1] + x[-1]
        # (a sparse X's refits keep no logits: n numbers each, hundreds of supports)
        self.cache[key] = ((x[:-1], x[-1], f if self.sparse is None else None),
                           logistic_loss(f, self.y, self.w))

    def _logits(self, state, S):
        """The refit ``state``'s logits on ``S`` (kept, or formed again for a sparse X)."""
        W, b, f = state
        return f if f is not None else self._columns(S) @ W + b

    def sacrifices(self, state, S):
        W, b, _ = state
        f = self._logits(state, S)
        self.start = (np.zeros(self.shape[1]), b)
        self.start[0][S] = W
        prob = sigmoid(f)
        v = self.w * prob * (1.0 - prob)  # the Hessian's row weights
        self._base = (S, v, None)  # the Hessian at the starts' base (_chord_hessians)
        g = self._rmatmul(self.w * (prob - self.y))  # d loss / d W_j, every column
        if not self.second_order:
            return W * W, g * g
        k = S.size
        Zv = np.empty((self.shape[0], k + 1))
        Zv[:, :k] = self._dense_columns(S) * v[:, None]
        Zv[:, k] = v
        H_jA = self._rmatmul(Zv)  # (p, k + 1): every column against [X_S, 1]
        self._base = (S, v, H_jA)  # the Hessian at the starts' base (_chord_hessians)
        H_AA = np.empty((k + 1, k + 1))
        H_AA[:k] = H_jA[S]
        H_AA[k] = Zv.sum(0)
        H_jj = (np.einsum("ij,ij,i->j", self.Xs, self.Xs, v) if self.sparse is None
                else self.sparse.squares_rmatmul(v[:, None])[:, 0])
        jitter = ridge_jitter(H_jj)
        H_AA[np.diag_indices(k + 1)] += _binary_ridge(k, self.alpha) + jitter
        Hinv = np.linalg.inv(H_AA)
        # Drop j: Wald statistic of W_j (the loss change to second order).
        back = 0.5 * W * W / np.maximum(Hinv.diagonal()[:k], 1e-300)
        # Add j: score statistic with the efficient information (Schur complement).
        schur = H_jj - np.einsum("ja,ab,jb->j", H_jA, Hinv, H_jA) + 2.0 * self.alpha + jitter
        schur = np.maximum(schur, 1e-12 * max(float(H_jj.max()), 1e-300))
        return np.maximum(back, 0.0), 0.5 * g * g / schur

    def screen_losses(self, S, state, cands):
        """The second-order model, at the refit ``state`` on ``S``, of the refit objective on each row of ``cands``.

        As :meth:`MultinomialRefits.screen_losses`, for the ridge-``alpha``
        logistic loss: its gradient and Hessian ``[X, 1]' diag(v) [X, 1]``
        (``v`` the rows' ``w p (1 - p)``, plus ``2 alpha`` on the weights)
        over every column, by :func:`quadratic_screen`.
        """
        W, b, _ = state
        p = self.shape[1]
        prob = sigmoid(self._logits(state, S))
        v = self.w * prob * (1.0 - prob)
        # (sparse: every column dense, which the screen's cost cap keeps small)
        Xs = self._all_columns()
        Xv = Xs * v[:, None]  # (the intercept's row and column from sums, no [X, 1] copy)
        H = np.empty((p + 1, p + 1))
        H[:p, :p] = Xs.T @ Xv
        H[:p, p] = H[p, :p] = Xv.sum(0)
        H[p, p] = v.sum()
        H[np.diag_indices(p + 1)] += _binary_ridge(p, self.alpha) + ridge_jitter(H.diagonal())
        x = np.zeros(p + 1)
        x[S] = W
        x[p] = b
        r = self.w * (prob - self.y)
        g = np.append(Xs.T @ r, r.sum())
        g[:p] += (2.0 * self.alpha) * x[:p]
        F = np.column_stack([cands, np.full(cands.shape[0], p)])
        return quadratic_screen(H, g, x, F)

    def head(self, problem, S, state):
        return support_head(problem, S, state[0], state[1])


class _RowRefits:
    """Refits (:func:`refit_linear_head`, warm-started) and approximate
    sacrifices (``beta_j^2`` and the squared loss gradient, as abess) of a
    row problem, any datafit."""

    def __init__(self, problem, alpha):
        self.problem, self.alpha, self.last = problem, alpha, None

    def fit(self, S):
        head, loss = refit_linear_head(self.problem, S, alpha=self.alpha, init=self.last)
        return head, loss

    def sacrifices(self, head, S):
        self.last = head
        beta = head.weight.detach()[torch.as_tensor(S, device=head.weight.device)].double()
        return (beta**2).sum(1).cpu().numpy(), _residual_correlations(self.problem, head)

    def head(self, problem, S, state):
        return state


def _pair_positions(k):
    """``(R, T)`` of a support of ``k``: each pair of positions ``a < b`` and the other ``k - 2``.

    Row ``o`` of ``R`` is the ``o``-th pair in ``np.triu_indices(k, 1)``'s
    order, row ``o`` of ``T`` the positions it keeps, increasing.
    """
    a, b = np.triu_indices(k, 1)
    keep = np.ones((a.size, k), dtype=bool)
    keep[np.arange(a.size), a] = False
    keep[np.arange(a.size), b] = False
    return np.column_stack([a, b]), np.broadcast_to(np.arange(k), keep.shape)[keep].reshape(
        a.size, k - 2)


def _all_pair_swaps(support, p, rows=None):
    """Every exchange of two features of ``support`` for two of the other ``p - k`` columns, as sorted rows.

    In the order of the pairs of positions dropped (:func:`_pair_positions`),
    then of the pairs ``i < j`` of positions among the other columns
    (``np.triu_indices``); ``rows``: only those rows of it.
    """
    inactive = np.setdiff1d(np.arange(p), support)
    T = _pair_positions(support.size)[1]
    i, j = np.triu_indices(inactive.size, 1)
    if rows is None:
        rows = np.arange(T.shape[0] * i.size)
    out_pair, in_pair = np.divmod(rows, i.size)
    cands = np.column_stack([support[T[out_pair]], inactive[i[in_pair]], inactive[j[in_pair]]])
    cands.sort(axis=1)
    return cands


def make_refits(problem, alpha):
    """The refits :func:`skl0._splice.splice` uses on ``problem``.

    Those with ``cached = True`` (Gram problems, binary and multinomial log
    losses on small CPU data or on a larger sparse CPU X read through its
    entries, refitted in numpy) may be shared between splices of one
    problem and ``alpha``.
    """
    if problem.kind == "gram":
        return _GramRefits(problem, alpha)
    if _BinaryRefits.applies(problem):
        return _BinaryRefits(problem, alpha)
    if MultinomialRefits.applies(problem):
        return MultinomialRefits(problem, alpha)
    return _RowRefits(problem, alpha)


def shared_refits(problem, alpha):
    """Refits that several splices of ``problem`` may share (cached by support), or None.

    Row refits other than the binary and multinomial ones of
    :func:`make_refits` keep a warm start of their own run, so each splice
    makes its own.
    """
    refits = make_refits(problem, alpha)
    return refits if getattr(refits, "cached", False) else None


def selection_refits(problem, alpha, size=None):
    """The shared refits of the exact-``k`` swap search (:func:`shared_refits`'s rule).

    A multinomial log loss on small CPU data, or on a larger sparse CPU X
    (:class:`skl0._splice_multinomial.MultinomialRefits`, reading such an X
    through its entries: :func:`skl0._splice_multinomial.sparse_design_applies`) is instead ranked
    by the penalised objective of a refit with ridge ``max(alpha, 1 / (2 n))``:
    ``1 / (2 n)`` is scikit-learn's ``LogisticRegression(C=1)`` penalty
    ``||W||^2 / 2`` in this per-sample-mean scale, on standardized columns
    (``n = problem.n_samples``, the total sample weight, as there).
    With ``K - 1`` coefficients per column, an almost unpenalised training
    loss (``alpha = 1e-4``) favours pixels whose coefficients fit noise;
    the default classifier's own objective does not (issue 16: digits, on
    development splits). The selection's criterion only: the exported
    head is refitted at ``alpha``. A binary log loss on an X of at most
    ``_SECOND_ORDER_MAX_NUMBERS`` numbers gets :class:`_BinaryRefits` with
    ``second_order=True`` (the same criterion, the training log loss of the
    ``alpha`` refit, with second-order sacrifices, three swap-ins and a
    forward start). Gram problems are unchanged. A squared loss on a row
    problem (no more rows than columns) is searched as a Gram problem is,
    from its X'WX, where that costs less than the rows' refits of support
    size ``size`` (``_ROW_GRAM_MAX_FEATURES``): exact sacrifices, three
    swap-ins, a forward start and, for few supports, all of them
    (:func:`skl0._splice.exhaustive_search`); the refitted head is the row problem's
    least squares on the support, as :func:`refit_linear_head` gives it.
    ``size``: the ``k`` searched (None: as the rows' refits).
    """
    if MultinomialRefits.applies(problem):
        ridge = max(float(alpha), 0.5 / problem.n_samples)
        return MultinomialRefits(problem, ridge, penalised=True)
    if _BinaryRefits.applies(problem) and _numbers(problem) <= _SECOND_ORDER_MAX_NUMBERS:
        return _BinaryRefits(problem, alpha, second_order=True)
    gram = row_gram_refits(problem, alpha, size)
    return gram if gram is not None else shared_refits(problem, alpha)


def row_gram_refits(problem, alpha, size):
    """:class:`_GramRefits` of a row problem of squared loss from its X'WX, or None.

    For a search over supports of up to ``size`` columns, where forming
    X'WX costs less than the rows' refits (``_ROW_GRAM_MAX_FEATURES``):
    the refits of :func:`selection_refits` and of the group searches with
    ``k`` (:func:`skl0._group_select.splice_groups`), made once per fit.
    None for other problems and datafits.
    """
    return (_GramRefits(gram_of_rows(problem, float64=True), alpha)
            if _row_gram_pays(problem, size) else None)


def _row_gram_pays(problem, size):
    """Whether exact ``size``'s search on the row problem ``problem`` refits from X'WX (see ``_ROW_GRAM_MAX_FEATURES``).

    Only for supports of fewer columns than rows: from ``n`` columns on,
    ``X_S'WX_S`` is singular, and the rows' refits solve it.
    """
    if not (problem.kind == "rows" and problem.datafit.supports_gram and size is not None
            and problem.n_features <= _ROW_GRAM_MAX_FEATURES):
        return False
    n, p = int(problem.X.shape[0]), problem.n_features
    return size < n and n * p * p <= 4 * n * size**3 + _ROW_GRAM_FREE


def gram_of_rows(problem, float64=False):
    """The Gram problem of the row problem ``problem`` (same columns, rows, weights and targets).

    ``float64``: keep the statistics in float64 whatever the problem's dtype
    (the swap search's, :func:`row_gram_refits`: a float32 X'WX, rounded to
    6e-8, moved a 49-column refit on 50 rows from the least squares of its
    columns, training MSE 0.6 against 2e-9 at ``alpha=0``); else in the
    problem's dtype, as a fit on those columns would form them (screened
    fits, ``BaseL0._column_problem``).
    """
    def cast(t):
        return t.to(torch.float64) if float64 else t

    gram = GramProblem(problem.host if problem.host is not None else problem.X,
                       cast(problem.Y), cast(problem.w), cast(problem.mean), cast(problem.std),
                       problem.datafit)
    gram.n_samples, gram.n_candidates = problem.n_samples, problem.n_candidates
    return gram


def same_loss_refits(problem, refits, alpha):
    """Refits of ``refits``' own loss that search a size well, for :func:`skl0._splice.penalised_flips`' swaps, or None.

    A binary log loss on an X of at most ``_SECOND_ORDER_MAX_NUMBERS``
    numbers gets exact ``k``'s second-order :class:`_BinaryRefits` (the same
    refits, sharing ``refits``' cache, with second-order ranking, three
    swap-ins and exhaustive scoring of small sizes). Others get None (no
    swaps): on the multinomial sets of ``benchmarks/engine.py --only
    fixedlam`` the swap search at the flips' refits moved no fixed-``lam``
    fit to a lower objective and cost up to 2.5x the flips' time (digits'
    first 600 images: 0.94 -> 2.4 s), and a multinomial's exact ``k``
    compares supports by another objective (:func:`selection_refits`).
    """
    if not isinstance(refits, _BinaryRefits):
        return None
    upgraded = selection_refits(problem, alpha)
    if not (isinstance(upgraded, _BinaryRefits) and upgraded.second_order):
        return None
    upgraded.cache, upgraded.floors = refits.cache, refits.floors
    return upgraded


def _numbers(problem):
    """Rows times columns of ``problem``'s X."""
    return int(problem.X.shape[0]) * int(problem.n_features)


def _block_positions(cands, n_columns):
    """Flat positions of each row's block ``M[S][:, S]`` in a matrix of ``n_columns`` columns, ``(m, s, s)``."""
    return cands[:, :, None] * n_columns + cands[:, None, :]
