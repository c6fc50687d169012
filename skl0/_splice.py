"""Splicing: a best-subset polish of a fixed-size support (any datafit).

Zhu, Wen, Zhu, Zhang & Wang (2020), "A polynomial algorithm for
best-subset selection problem", PNAS 117(52) -- the algorithm behind abess.
For the current support ``A`` (refitted by least squares), the *backward
sacrifice* of ``j in A`` is the loss increase if it is dropped and the
*forward sacrifice* of ``j not in A`` the loss decrease if it is added:
exact from the statistics of a Gram problem (:func:`_sacrifices`), and
``beta_j^2`` and ``d_j^2`` (``d_j = x_j' W r``, the weighted correlation
with the residual) on row problems, as abess computes them, except a
multinomial log loss on small CPU data, whose Wald and score statistics
(second order, the Hessian's Schur complement) are in
:mod:`skl0._splice_multinomial`. For ``c = 1..C`` the ``c`` least useful
active features are swapped for the ``c`` most promising inactive ones;
the best swap that lowers the refitted loss is kept, until none does.

The gates supply the starting support; splicing only ever lowers the loss
at the same size, so it cannot undo a good L0 solution.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math

import numpy as np
import torch
from scipy.linalg.blas import dger

from ._datafits import BinaryLogLoss
from ._elementwise import sigmoid
from ._linalg import cholesky_inverse, inverse_and_product, quadratic_screen
from ._objective import NumpyOps, data_term, default_ops, gram_mse, logistic_loss
from ._problem import GramProblem
from ._refit import (
    _DENSE_SUPPORT_NUMBERS,
    _binary_ridge,
    newton_binary,
    newton_binary_batch,
    refit_linear_head,
    ridge_jitter,
    ridge_refit,
    support_head,
)
from ._splice_multinomial import (
    ForwardBySacrifice,
    MultinomialRefits,
    RefitFloors,
    StandardizedRows,
)

__all__ = ["exhaustive_search", "forward_start", "forward_step", "penalised_flips",
           "screening_order", "screening_start", "search_from_starts", "splice",
           "splice_from_starts", "swap_search"]

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

# A Gram problem's search at one size scores every support of that size
# (exhaustive_search) when there are at most this many: one batched solve
# takes about 1 us a support, and the swap search from exact k's three
# starts about 0.45 ms (p = 10 to 20, sizes 2 to p/2, one thread), so up
# to here the exact best subset costs no more than the search.
_EXHAUSTIVE_MAX_SUPPORTS = 256
# A Gram swap search that finds no better exchange among a round's
# candidates (the sacrifices' C multi-swaps and _SWAP_IN single swaps)
# scores every single swap, in one batched solve, where there are at most
# _EXHAUSTIVE_MAX_SUPPORTS of them (k (p - k): every size of up to 32
# columns), and goes on from the best one that lowers the loss. The
# forward sacrifice ranks a column by what it adds to the whole support,
# so a column that replaces a correlated active one (x13 for x14 at
# rho = 0.8) can rank below _SWAP_IN, and the search stopped one swap
# short of a lower loss: on fresh designs of 5-18 columns (Toeplitz rho
# 0.5-0.95, t3 noise, make_regression with effective_rank, wine, linnerud
# and breast-cancer columns regressed on others; seeds 700-709, 1310
# sizes) exact k missed the best subset at 24 sizes, 10 of them one swap
# away, now 9 (benchmarks/fresh_subset.py --only regression, whose rows
# without this scan show the 24). The end is then a local optimum of single swaps,
# and no run ends higher than before. Not on larger problems: scoring up
# to 2^18 numbers of blocks (k = 10 of 200 columns) took 1.6x (k = 10)
# and 2.0x (lam="auto") the CPU time on 1000 x 200, with the same supports.
# A binary log loss's search (_BinaryRefits, exact k's second-order refits
# and lam="auto"'s first-order ones) does the same where the single swaps'
# refits also hold at most _BINARY_EXHAUSTIVE_NUMBERS numbers of X
# (k (p - k) swaps x n rows x k). Its rounds try the three strongest
# inactive columns against every active one but the weakest, which meets
# only the first (the c = 1 multi-swap), and a column that replaces a
# correlated active one may rank lower still: on fresh designs of 10-14
# columns and 100-400 rows (logistic Toeplitz rho 0.5-0.95, wine class 0
# against the rest, breast-cancer columns, near-duplicate columns; seeds
# 710-719; benchmarks/fresh_subset.py --only binary) exact k missed the best subset at 11
# of 931 sizes, 10 of them one swap away (swap-ins ranked 2nd to 8th),
# now 1 (a two-swap local optimum past the cap), and lam="auto"'s EBIC
# lay more than 0.5 above the exhaustive minimum on 5 of 80 sets, now 0.
# Without the cap of numbers (every k (p - k) <= 256) breast cancer k = 5
# and the 600 x 40 sets' lam="auto" took 1.7-2.2x and 3.3-6.3x the CPU
# time with the same supports; with it 0.98-1.04x and 1.07-1.15x
# (benchmarks/revision_ab.py --base 190cdb4 --cases binary).

#: The most block positions (supports x size x size) that :func:`_all_support_blocks`
#: keeps for one ``(p, size)``: 512 KiB, so its 64 entries hold at most 32 MiB.
#: Larger ones (``size`` near ``p``: 256 supports of 255 columns are 133 MB)
#: are formed at each call, as their solve's own blocks are.
_KEPT_BLOCKS_MAX = 2**16

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

# Exact k on a binary log loss (second-order refits) scores every support
# too where, besides that cap, all of them hold at most this many numbers
# of X (supports x rows x k): batched Newton refits cost about 0.1 ms a
# support on 150 rows. There (150 x 10, k <= 4) the fit cost 1.0-1.2x the
# swap search's and reached the best subset at 72 of 72 sizes against 62
# (benchmarks/binary_subset.py, held-out seeds 100-111); past it the cost
# grew faster than the search's (300 x 12, k = 3: 1.6x; 1000 x 16, k = 2:
# 3.2x), so the swap search stays there.
_BINARY_EXHAUSTIVE_NUMBERS = 1 << 17

# A multinomial log loss's swap search (MultinomialRefits: exact k's
# penalised refits at ridge max(alpha, 1/(2n)) and lam="auto"'s at alpha)
# scores every single swap likewise (_scores_all_swaps) where their refits
# hold at most this many numbers of X times classes (k (p - k) swaps x n
# rows x k x K). Its rounds try one swap-in, and the score statistic may
# rank the column that replaces a correlated active one (or, at k = 1, the
# best single column) below the first: on fresh designs of 4-10 columns,
# 120-400 rows and 3-4 classes (multinomial Toeplitz rho 0.5 and 0.9, wine
# 10 of 13 columns, iris, make_classification; seeds 720-729,
# benchmarks/fresh_subset.py --only multinomial, whose ablation row is the
# search without this scan) exact k missed the best subset at 6 of 560
# sizes, 5 of them one swap away (k = 1 among them), now 1 (a two-swap
# local optimum), and lam="auto"'s EBIC lay 1.04 above the exhaustive
# minimum on 1 of 70 sets, now on none by more than 0.001. Each refit is a Newton solve of
# (k + 1) K coefficients: 2^18 took 1.1-1.6x the CPU time on wine (k = 2..5,
# 1.57x at lam="auto"), 2^15 0.98-1.09x (lam="auto" 1.06x) with the same
# supports, and still covers every miss found (the largest, 150 rows, k =
# 3 of 10, 3 classes: 28350). Digits (1797 x 64, 10 classes: 1.1e6 at
# k = 1) and larger problems are past it.
_MULTINOMIAL_SWAPS_NUMBERS = 1 << 15

# Exact k's squared-loss search, once its starts have ended where no single
# swap lowers the loss, scores every exchange of two features of the best
# end for two others (C(k, 2) C(p - k, 2) of them) where there are at most
# this many, every size of up to 20 columns, and goes on from the best one
# that lowers the loss (_leave_by_pairs). Those ends were the misses left
# by the single-swap scan: on the development seeds 700-709 of
# benchmarks/fresh_subset.py (the ablation row "without the pair-swap
# scan") exact k missed the best subset at 9 of 1310 sizes, now at 1. The pairs are scored from the refit's inverse
# (_GramRefits.pair_swap_losses: 0.4 ms for p = 18, k = 9, against 1.3 ms
# for a solve each), and exact k then cost 1.07-1.13x the CPU time on
# sets of 12-18 columns (every k, interleaved in one process). Not in
# lam="auto"'s search at each size, which cost 1.1-1.3x with it and whose
# EBIC was already at the exhaustive minimum on every development set,
# and not for log losses: binary and multinomial scans with budgets of
# numbers of X like the single swaps' (2^17 and 2^15, or 2^20 and 2^19),
# in exact k and lam="auto" alike, cost 1.03-1.55x the CPU time on seeds
# 710-729 and found no lower loss than the single-swap scan's end there.
# In exact k alone, at 2^20 and 2^19, they found none on seeds 710-729 and
# 720-729 either; on seeds 900-909 the binary one reached the best subset
# at 3 more of 929 sizes (the multinomial one at none of 560), but exact k
# then cost 1.27-1.86x on binary sets of 13-14 columns (every k); at 2^17
# it cost 0.98-1.02x there and covered none of those 3 sizes.
_PAIR_SWAPS_MAX = 2048

# A log loss's search (MultinomialRefits and _BinaryRefits, exact k's and
# lam="auto"'s at each size), once its starts have ended, scores every
# other support of the best end's size by the second-order model of the
# refit objective at that end (screen_losses), where there are at most
# _EXHAUSTIVE_MAX_SUPPORTS of them, and past that every single and pair
# swap of the end where there are at most _PAIR_SWAPS_MAX (for two classes
# since session 41, for more since session 42: _END_SWAPS_NUMBERS below)
# (_screen_count); where the model takes at most _SCREEN_NUMBERS
# multiply-adds (its Hessian over every column, n ((p + 1) K)^2, and a
# solve of order (k + 1) K for each candidate, m ((k + 1) K)^3 / 3; K = 1
# for two classes), it refits the _SCREEN_REFITS it ranks lowest and goes
# on from the best one that lowers the loss (_leave_by_screen). The single
# swaps' scan (_MULTINOMIAL_SWAPS_NUMBERS) leaves the supports whose best
# subset lies two exchanges away, and those where its cap of numbers keeps
# it from running (250 rows, k = 4 of 10, 3 classes: 72000 > 2^15): on
# seeds 900-909 of benchmarks/fresh_subset.py --only multinomial exact k
# missed the best subset at 7 of 560 sizes (5 of 70 sets under 90% of the
# sizes) and lam="auto"'s EBIC lay 7.3 above the exhaustive minimum on 2 of
# 70 sets (make_classification 250 x 10, seed 909: [3 4 6] against
# [2 4 7]). The model at the end ranked every such best subset first.
# Tuned on the development seeds 720-729: from the ends of the search
# without the single-swap scan the best subset ranked 0-3 among the
# other supports (3 once, at k = 1, where that scan scores every swap),
# from the shipped search's ends first, so two refits; exact k then missed
# none of 560 sizes there (1 without the screen). Reported on seeds 900-909
# (560 of 560 sizes; lam="auto" within 0.5 of the exhaustive EBIC on 70 of
# 70 sets) and on 1000-1009, held out from every choice (560 of 560 against
# 553 without it, 0 sets under 90% against 6). Interleaved in one process
# (fresh_subset.py --only multinomial,clusters --seeds 1005 --cost 3),
# exact k (every k) took 1.00-1.08x the CPU time and lam="auto"
# 1.00-1.13x. On the clusters family (make_classification with two
# clusters a class, seeds 1100-1119), which no choice looked at, exact k
# missed 0 of 180 sizes against 7 without the screen, and lam="auto"'s
# EBIC gap passed 0.5 on 0 of 20 sets against 5 (by up to 6.3). The
# cap of numbers keeps a screen to about 2 ms, a few refits' time (every
# size of those families is within it, at most 2.3e6; 3400 rows of 10
# columns and 3 classes at k = 5 are at it, and 340 rows of 10 columns and
# 10 classes, whose 252 solves of order 60 took 8.7 ms, are past it).
# Two classes: session 40 found exact k's three misses on the binary seeds
# 900-909 at two-swap local optima (13-14 columns, k = 4 and 6: more than
# 256 supports), where the model ranked the best subset first among the
# end's 252-357 single and pair swaps; so past 256 supports the binary
# screen scores those. With the same two refits, exact k missed 0 of 931
# sizes on the development seeds 710-719 (1 without the screen), 0 of 929
# on 900-909 (3) and 1 of 930 on 1000-1009 (2; the one left is three
# exchanges away), at 1.01-1.11x exact k's CPU time and 1.02-1.09x
# lam="auto"'s (--only binary,redundant --seeds 1005 --cost 3). On a family
# no choice looked at (--only redundant: make_classification 150 x 12, 4
# informative columns and 3 linear combinations of them, seeds
# 1200-1219) it missed 14 of 220 sizes against 26 without it (3 of 20
# sets under 90% of the sizes against 7), and lam="auto"'s EBIC passed 0.5
# above the exhaustive minimum on 0 of 20 sets against 5: there the model
# of nearly collinear columns ranked some best pair swaps 3rd to 61st, and
# some best subsets lie three exchanges away.
_SCREEN_REFITS = 2
_SCREEN_NUMBERS = 1 << 22

# Where the screen's candidates are the end's single and pair swaps (past
# 256 supports), its single swaps are refitted, every one, where their
# refits hold at most this many numbers of X times classes (k (p - k)
# swaps x n rows x k x K; a binary search's own scan has refitted them
# already where there are at most 256, at the same cap), beside the _SCREEN_REFITS pairs and singles
# the model ranks lowest: in exact k's search, and in lam="auto"'s at the
# chosen size and its two neighbours (leave_by_single_swaps; at every size
# it cost 1.15-1.29x lam="auto"'s CPU time). Session 42: on multinomial
# designs of 13 columns (benchmarks/fresh_subset.py --only wider:
# make_classification 200 x 13 with 3 classes, multinomial Toeplitz rho
# 0.8, all of wine's columns; development seeds 1300-1309), where the
# screen had not run for more than two classes past 256 supports, exact k
# missed the best subset at 13 of 360 sizes and lam="auto"'s EBIC lay
# 1.2-3.1 above the exhaustive minimum on 4 of 30 sets. The pair screen
# alone left 1 size and 3 sets: two of them wine, nearly separable, where
# the best support of 3 lay one swap from the end (loss 0.064 against
# 0.109) but the model ranked it 35th and 40th of 165, and the search's
# own single-swap scan stops at _MULTINOMIAL_SWAPS_NUMBERS (there 40500);
# with the singles refitted, 0 and 0. Raising that cap to 2^17 instead
# fixed the same cases but cost 1.03-1.13x on the 10-column families,
# where it found nothing. Held out (--seeds 1400-1409, and --only
# four-classes: 300 x 14 with 4 classes, seeds 1500-1509) exact k missed 0
# of 360 and 2 of 130 sizes against 11 and 6 with session 41's screen, and
# lam="auto"'s gap passed 0.5 on 1 of 30 and 0 of 10 sets against 3 and 4;
# refitting the singles changed nothing there. Against session 41's
# screen exact k took 1.03-1.09x the CPU time and lam="auto" 1.09-1.23x
# (--only wider,four-classes --seeds 1405 --cost 3).
_END_SWAPS_NUMBERS = 1 << 17


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
        strongest, C)`` (:func:`_swap_candidates`' arguments and the
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
    as :class:`skl0._refit.SparseColumns` past that), and the cached
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
        :func:`skl0._refit.newton_binary_batch` from the same warm starts
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


def splice(problem, support, alpha=0.0, max_swap=None, max_rounds=50, rtol=1e-7, refits=None):
    """Polish ``support`` by swaps that lower the refitted loss.

    Parameters
    ----------
    problem : GramProblem or DirectProblem (any datafit; the refits are
        those of :func:`make_refits`: a log loss on small CPU data (or on
        a larger sparse CPU X, read through its entries) refits
        each candidate in numpy, Newton's method for two classes and
        L-BFGS-B for more, otherwise by :func:`refit_linear_head`,
        warm-started from the current head)
    support : array of int
    alpha : float
        Ridge penalty of the refit.
    max_swap : int or None
        Largest number of features exchanged at once (default: all of them,
        up to the number of inactive features).
    max_rounds : int
    rtol : float
        Relative loss decrease a swap must achieve.
    refits : object or None
        The refits of another splice on the same problem and ``alpha``, to
        share (:func:`shared_refits`: those cached by support).

    Returns
    -------
    support : ndarray of int (sorted)
    head : LinearHead (refitted)
    loss : float
    """
    if refits is None:
        refits = make_refits(problem, alpha)
    support, state, loss = swap_search(problem, support, max_swap, max_rounds, rtol,
                                       refits=refits)
    return support, refits.head(problem, support, state), loss


def swap_search(problem, support, max_swap=None, max_rounds=50, rtol=1e-7, *, refits, ends=None):
    """:func:`splice` without building the head: ``(support, refit state, loss)``.

    The ridge ``alpha`` of the refits is ``refits``' own. ``ends``: a dict
    shared by searches of one problem with the same settings (:func:`splice_from_starts`). The search is deterministic, so
    a run that reaches a support from which an earlier run went on to
    converge ends where that one did; ``ends`` maps each support a
    converged run passed through to its end.
    """
    support = np.sort(np.asarray(support, dtype=np.int64))
    state, loss = refits.fit(support)
    p, k = problem.n_features, support.size
    if k == 0 or k == p:
        return support, state, loss
    C = min(k, p - k) if max_swap is None else min(max_swap, k, p - k)
    passed = []
    for _ in range(max_rounds):
        key = support.tobytes()
        if ends is not None and key in ends:
            end = ends[key]
            for key_ in passed:
                ends[key_] = end
            return end
        passed.append(key)
        weakest, strongest = _ranked(refits, state, support)
        cands = _swap_candidates(support, weakest, strongest, C,
                                 min(getattr(refits, "swap_in", 1), p - k))
        bar = loss * (1 - rtol) - 1e-12  # a swap is taken only below it
        states, scores = _candidate_losses(refits, cands, cutoff=bar,
                                           base=(support, state, weakest, strongest, C))
        better = np.flatnonzero(scores < bar)
        if not better.size and _scores_all_swaps(refits, p, k):
            cands = _all_single_swaps(support, p)
            states, scores = _candidate_losses(refits, cands, cutoff=bar)
            better = np.flatnonzero(scores < bar)
        best = None
        if better.size:
            i = better[np.argmin(scores[better])]  # the first of equal losses
            best = (cands[i], None if states is None else states[i], scores[i])
        if best is None:
            if ends is not None:  # converged: every support passed leads here
                for key_ in passed:
                    ends[key_] = (support, state, loss)
            break
        support, state, loss = best
        if state is None:
            state, loss = refits.fit(support)
    return support, state, loss


def penalised_flips(problem, support, lam, refits, max_size=None, max_rounds=50, rtol=1e-7,
                    swaps=None):
    """Single flips on ``refitted loss + lam |S|``, each refitted: ``(support, state, loss)``.

    Each round refits the support without each of its few (3) weakest
    features and with each of the few strongest inactive ones (by
    ``refits``' sacrifices; at the empty support by the screening order),
    and keeps the flip that lowers the objective most, until none does (a
    refit that cannot beat the current objective or the best flip so far
    may be left unfinished: :func:`_candidate_losses`' ``cutoff``);
    ``max_size`` caps the additions (a fixed ``lam``'s cap ``k``). The
    moves a log loss's IRLS vertex search judges on quadratic models,
    checked on the loss itself (a local search on a fixed price per
    feature, as L0Learn's follows its coordinate descent: Hazimeh &
    Mazumder 2020, "Fast best subset selection", Operations Research
    68(5)). ``swaps``: refits of the same loss (e.g. ``refits`` itself, or
    exact ``k``'s second-order binary ones), by which, where no single flip
    improves, the support's size is searched for a lower loss at the same
    price: every support of that size where there are few
    (:func:`exhaustive_search`), else exact ``k``'s swap search
    (:func:`swap_search`); after a successful one the flips resume, until
    neither moves (the swaps are that paper's local search, section 3).
    """
    support, state, loss = _single_flips(problem, support, lam, refits, max_size, max_rounds, rtol)
    if swaps is None:
        return support, state, loss
    for _ in range(max_rounds):
        if not 0 < support.size < problem.n_features:
            break
        found = exhaustive_search(problem, swaps, support.size)
        moved, moved_state, moved_loss = (
            found if found is not None else swap_search(problem, support, refits=swaps))
        if not moved_loss < loss * (1 - rtol) - 1e-12:
            break
        support, state, loss = _single_flips(problem, moved, lam, refits, max_size, max_rounds,
                                             rtol, start=(moved_state, moved_loss))
    return support, state, loss


def _single_flips(problem, support, lam, refits, max_size, max_rounds, rtol, start=None):
    """:func:`penalised_flips`' single flips from ``support`` (``start``: its refit, when at hand)."""
    support = np.sort(np.asarray(support, dtype=np.int64))
    p = problem.n_features
    max_size = p if max_size is None else min(int(max_size), p)
    state, loss = refits.fit(support) if start is None else start
    for _ in range(max_rounds):
        k = support.size
        groups = []
        if k:
            weakest, strongest = _ranked(refits, state, support)
            groups.append(np.array([np.delete(support, np.searchsorted(support, j))
                                    for j in weakest[:_SWAP_IN]]))
        else:
            strongest = screening_order(problem)
        if k < max_size:
            adds = strongest[: min(_SWAP_IN, p - k)]
            groups.append(np.sort(np.column_stack(
                [np.broadcast_to(support, (adds.size, k)), adds]), axis=1))
        best = None
        for cands in groups:
            # Only a value below the current objective and the best so far
            # counts: the refits may leave the others unfinished.
            bar = (loss + lam * k) * (1 - rtol) - 1e-12
            if best is not None:
                bar = min(bar, best[0])
            states, losses = _candidate_losses(refits, cands, cutoff=bar - lam * cands.shape[1])
            values = losses + lam * cands.shape[1]
            i = int(np.argmin(values))
            if best is None or values[i] < best[0]:
                best = (values[i], cands[i], None if states is None else states[i], losses[i])
        if best is None or not best[0] < (loss + lam * k) * (1 - rtol) - 1e-12:
            break
        _, support, state, loss = best
        if state is None:
            state, loss = refits.fit(support)
    return support, state, loss


def _ranked(refits, state, support):
    """``(weakest, strongest)``: the support by backward sacrifice, the rest by forward sacrifice."""
    xi, zeta = refits.sacrifices(state, support)
    zeta = np.array(zeta, dtype=np.float64)
    zeta[support] = -np.inf
    return support[np.argsort(xi, kind="stable")], np.argsort(-zeta, kind="stable")


def _candidate_losses(refits, cands, cutoff=None, base=None):
    """``(states, losses)`` of the supports in the rows of ``cands``.

    Refits that score a batch at once (Gram: ``losses``) return no states
    (the search refits only the winner); others refit each row.
    ``cutoff``: the caller keeps only the lowest loss, and only below
    ``cutoff``; batched refits (:meth:`_BinaryRefits.fit_many`) may then
    report a support that cannot win as ``(None, inf)``. ``base``: the
    swap search's round, for refits that score its exchanges from the
    current refit (:meth:`_GramRefits.losses`).
    """
    if hasattr(refits, "losses"):
        return None, refits.losses(cands, base=base, cutoff=cutoff)
    if hasattr(refits, "fit_many"):
        states, losses = zip(*refits.fit_many(cands, cutoff=cutoff))
    else:
        states, losses = zip(*(refits.fit(cand) for cand in cands))
    return states, np.array(losses, dtype=np.float64)


def _scores_all_swaps(refits, p, k):
    """Whether a converged round of :func:`swap_search` scores every single swap.

    At most ``_EXHAUSTIVE_MAX_SUPPORTS`` of them, ``k (p - k)``: Gram
    refits, binary log-loss refits (:class:`_BinaryRefits`) where their
    columns also hold at most ``_BINARY_EXHAUSTIVE_NUMBERS`` numbers of X
    (``k (p - k) n k``), and multinomial ones (:class:`MultinomialRefits`)
    where they hold at most ``_MULTINOMIAL_SWAPS_NUMBERS`` numbers of X
    times classes (``k (p - k) n k K``).
    """
    if k * (p - k) > _EXHAUSTIVE_MAX_SUPPORTS:
        return False
    if isinstance(refits, _GramRefits):
        return True
    if isinstance(refits, MultinomialRefits):
        return k * (p - k) * refits.n_rows * k * refits.q <= _MULTINOMIAL_SWAPS_NUMBERS
    return (isinstance(refits, _BinaryRefits)
            and k * (p - k) * refits.n_rows * k <= _BINARY_EXHAUSTIVE_NUMBERS)


def _pair_swaps(p, k):
    """The number of exchanges of two features of a support of ``k`` for two of the other ``p - k``."""
    return (k * (k - 1) // 2) * ((p - k) * (p - k - 1) // 2)


def _scores_pair_swaps(refits, p, k):
    """Whether the best end of a swap search is left by pair swaps (:func:`_leave_by_pairs`).

    Gram refits (squared loss) with at most ``_PAIR_SWAPS_MAX`` pair swaps
    (:func:`_pair_swaps`), which they score by updates
    (:meth:`_GramRefits.pair_swap_losses`). Their searches have then
    scored every single swap too: ``C(k, 2) C(p - k, 2) <= 2048`` bounds
    ``k (p - k)`` by 128, within :func:`_scores_all_swaps`' 256.
    """
    return isinstance(refits, _GramRefits) and 0 < _pair_swaps(p, k) <= _PAIR_SWAPS_MAX


def _screens_supports(refits, p, k):
    """Whether the best end of a swap search is left by the second-order screen (:func:`_leave_by_screen`).

    Multinomial and binary log-loss refits (:class:`MultinomialRefits`,
    :class:`_BinaryRefits`) with few candidates (:func:`_screen_count`),
    whose model (a Hessian over every column, a solve for each candidate)
    takes at most ``_SCREEN_NUMBERS`` multiply-adds.
    """
    m = _screen_count(refits, p, k)
    if m is None:
        return False
    q = refits.q
    cost = refits.n_rows * ((p + 1) * q) ** 2 + m * ((k + 1) * q) ** 3 // 3
    return cost <= _SCREEN_NUMBERS


def _screen_count(refits, p, k):
    """How many supports the screen scores from one of ``k`` of ``p`` columns, or None where it does not run.

    Every other support of the size where there are at most
    ``_EXHAUSTIVE_MAX_SUPPORTS``; else every single and pair swap where
    there are at most ``_PAIR_SWAPS_MAX`` (:func:`_screen_candidates`).
    """
    if not isinstance(refits, (MultinomialRefits, _BinaryRefits)) or not 0 < k < p:
        return None
    if _screens_every_support(p, k):
        return math.comb(p, k) - 1
    swaps = k * (p - k) + _pair_swaps(p, k)
    return swaps if swaps <= _PAIR_SWAPS_MAX else None


def _end_singles(refits, p, k):
    """How many single swaps of a screened end :func:`_leave_by_screen` refits instead of ranking.

    Where the screen's candidates are the single and pair swaps, all
    ``k (p - k)`` singles (the first rows of :func:`_screen_candidates`)
    where their refits hold at most ``_END_SWAPS_NUMBERS`` numbers of X
    times classes (``k (p - k) n k K``, ``K = 1`` for two classes); else 0.
    """
    if _screens_every_support(p, k):
        return 0
    m = k * (p - k)
    return m if m * refits.n_rows * k * refits.q <= _END_SWAPS_NUMBERS else 0


def _screens_every_support(p, k):
    """Whether the screen's candidates are every other support of ``k`` of ``p`` columns (at most
    ``_EXHAUSTIVE_MAX_SUPPORTS``), not the single and pair swaps."""
    return math.comb(p, k) <= _EXHAUSTIVE_MAX_SUPPORTS


def _screen_candidates(support, p):
    """The supports :func:`_leave_by_screen` scores from ``support``: every other one of its size
    (:func:`_screens_every_support`), else every single and pair swap."""
    if _screens_every_support(p, support.size):
        cands = _all_supports(p, support.size)
        return cands[~(cands == support).all(1)]
    return np.vstack([_all_single_swaps(support, p), _all_pair_swaps(support, p)])


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


def _all_single_swaps(support, p):
    """Every exchange of one feature of ``support`` for one of the other ``p - k`` columns, as sorted rows."""
    k = support.size
    inactive = np.setdiff1d(np.arange(p), support)
    cands = np.broadcast_to(support, (inactive.size, k, k)).copy()
    cands[:, np.arange(k), np.arange(k)] = inactive[:, None]
    cands = cands.reshape(-1, k)
    cands.sort(axis=1)
    return cands


def _swap_candidates(support, weakest, strongest, C, n_in):
    """One round's exchanges as rows of sorted indices (each of ``support.size``).

    First the ``c`` weakest features swapped for the ``c`` strongest
    inactive ones, ``c = 1 .. C``; then single swaps of any active feature
    but the weakest for one of the ``n_in`` strongest inactive ones: the
    exchange that the sacrifices' order misses when the feature to drop is
    not the weakest on its own (correlated designs). ``n_in`` is the
    refits' ``swap_in``: a few where a refit is cheap and the sacrifices
    exact (Gram), one where each refit costs passes over the rows
    (binary, multinomial and other row refits).
    """
    k = support.size
    multi = np.empty((C, k), dtype=np.int64)
    for c in range(1, C + 1):
        multi[c - 1, : k - c] = weakest[c:]
        multi[c - 1, k - c:] = strongest[:c]
    singles = np.broadcast_to(support, (n_in, k - 1, k)).copy()
    singles[:, np.arange(k - 1), np.searchsorted(support, weakest[1:])] = strongest[:n_in, None]
    cands = np.concatenate([multi, singles.reshape(-1, k)])
    cands.sort(axis=1)
    return cands


def make_refits(problem, alpha):
    """The refits :func:`splice` uses on ``problem``.

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
    (:func:`exhaustive_search`); the refitted head is the row problem's
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
    """Refits of ``refits``' own loss that search a size well, for :func:`penalised_flips`' swaps, or None.

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


def screening_order(problem):
    """Every feature, most correlated with the target first (abess's screening)."""
    return np.argsort(-_residual_correlations(problem), kind="stable")


def screening_start(problem, k):
    """The ``k`` features most correlated with the target (abess's start)."""
    return np.sort(screening_order(problem)[:k])


def forward_start(problem, k, alpha=0.0, refits=None):
    """``k`` features by forward stepwise selection.

    Each step adds the feature with the largest gain of ``refits`` (default
    the Gram problem's): on a Gram problem the exact loss decrease (the
    forward sacrifice of :class:`_GramRefits`, a Schur complement), on a
    multinomial log loss its second-order (score test) value
    (:class:`skl0._splice_multinomial.MultinomialRefits`). A third start
    for the swap search, beside the gates' choice and screening, that
    follows the features' joint contribution on correlated designs. One
    refit and one sacrifice evaluation per step.
    """
    if refits is None:
        refits = _GramRefits(problem, alpha)
    support = np.zeros(0, dtype=np.int64)
    for _ in range(min(k, problem.n_features)):
        support = forward_step(refits, support)
    return support


def forward_step(refits, support):
    """``support`` (sorted) and the feature with the largest forward gain of ``refits``."""
    gains = np.array(refits.forward_gains(support), dtype=np.float64)
    gains[support] = -np.inf
    return np.sort(np.append(support, int(np.argmax(gains))))


def exhaustive_search(problem, refits, size):
    """The lowest refitted loss over every support of ``size`` columns, when that is cheap.

    For the exact refits of a Gram problem (:class:`_GramRefits`), whose
    batched solves (:meth:`_GramRefits.solved_losses`) score each support in about
    a microsecond, and for exact ``k``'s binary log-loss refits on small
    data (:class:`_BinaryRefits` with ``second_order``, refitted by batched
    Newton, :meth:`_BinaryRefits.fit_many`) when all the supports hold at
    most ``_BINARY_EXHAUSTIVE_NUMBERS`` numbers of X together: when there are
    at most ``_EXHAUSTIVE_MAX_SUPPORTS`` supports of ``size`` columns
    (every size of diabetes' 10 columns), they are all scored, and the
    best subset is found, not searched for.
    Returns ``(support, state, loss)`` as :func:`swap_search` does (ties
    go to the first support in lexicographic order), or None where this
    does not apply (other refits, or too many supports).
    """
    p = problem.n_features
    gram = isinstance(refits, _GramRefits)
    binary = isinstance(refits, _BinaryRefits) and refits.second_order
    if not (gram or binary) or not 0 < size <= p:
        return None
    n_supports = math.comb(p, size)
    if n_supports > _EXHAUSTIVE_MAX_SUPPORTS or (
            binary and n_supports * refits.n_rows * size > _BINARY_EXHAUSTIVE_NUMBERS):
        return None
    cands = _all_supports(p, size)
    if binary:
        fits = refits.fit_many(cands, cutoff=math.inf)  # only the lowest loss is kept
        losses = np.array([loss for _, loss in fits])
    else:
        # Nearly all of them are new: looking each up in the cache cost more than solving it.
        keep = refits.G.shape[1] == p and n_supports * size * size <= _KEPT_BLOCKS_MAX
        losses = refits.solved_losses(cands, _all_support_blocks(p, size) if keep else None)
    best = int(np.argmin(losses))
    if not math.isfinite(losses[best]):  # a NaN or -inf there: non-finite losses never win
        best = int(np.argmin(np.where(np.isfinite(losses), losses, np.inf)))
    support = cands[best].copy()  # (the rows are shared between fits)
    state, loss = fits[best] if binary else refits.fit(support)
    return support, state, loss


@functools.lru_cache(maxsize=64)
def _all_supports(p, size):
    """Every support of ``size`` of ``p`` columns, one a row in lexicographic order (read-only).

    Kept between calls: :func:`exhaustive_search` asks for the same few
    (``p``, ``size``) at every fit of a small design (diabetes' ten sizes),
    and building them from ``itertools.combinations`` cost about as much as
    solving them. At most ``_EXHAUSTIVE_MAX_SUPPORTS`` rows each.
    """
    cands = np.array(list(itertools.combinations(range(p), size)), dtype=np.int64)
    cands.flags.writeable = False
    return cands


@functools.lru_cache(maxsize=64)
def _all_support_blocks(p, size):
    """:func:`_block_positions` of :func:`_all_supports` ``(p, size)`` in a ``p x p`` matrix (read-only).

    Kept beside them for :func:`exhaustive_search`, which gathers the same
    blocks at every fit of a small design (forming the positions cost a
    tenth of each size's solve on diabetes); only for at most
    ``_KEPT_BLOCKS_MAX`` positions (else each fit with another ``p`` kept
    up to 133 MB).
    """
    positions = _block_positions(_all_supports(p, size), p)
    positions.flags.writeable = False
    return positions


def _block_positions(cands, n_columns):
    """Flat positions of each row's block ``M[S][:, S]`` in a matrix of ``n_columns`` columns, ``(m, s, s)``."""
    return cands[:, :, None] * n_columns + cands[:, None, :]


def splice_from_starts(problem, starts, alpha=0.0, refits=None):
    """Splice from each start and keep the lowest refitted loss.

    ``refits``: those of :func:`shared_refits`, when the caller made them
    already (e.g. for :func:`forward_start`), or None to make them here.
    Returns ``(support, head, loss)`` of the best run; only its head is
    built.
    """
    if refits is None:
        refits = shared_refits(problem, alpha)
    support, state, loss, run_refits = search_from_starts(problem, starts, alpha, refits,
                                                          pairs=True)
    return support, run_refits.head(problem, support, state), loss


def search_from_starts(problem, starts, alpha, refits, ends=None, pairs=False):
    """:func:`swap_search` from each distinct start: ``(support, state, loss, refits)`` of the lowest loss.

    ``refits`` shared by the runs (:func:`shared_refits`), or None to make
    each run its own. ``ends``: the searches' shared memory of converged
    runs (:func:`swap_search`), a new one when None (shared refits only).
    ``pairs``: the lowest end is then left by pair swaps where they are
    few (:func:`_leave_by_pairs`; exact k's search). A log-loss search's
    lowest end is left by the second-order screen (:func:`_leave_by_screen`),
    with every single swap refitted where :func:`_end_singles` allows it
    in exact k's (``pairs``).
    """
    if ends is None and refits is not None:
        ends = {}  # runs share a search only with shared refits
    best, seen = None, set()
    for start in starts:
        key = np.sort(start).tobytes()
        if key in seen:
            continue
        seen.add(key)
        run_refits = make_refits(problem, alpha) if refits is None else refits
        out = swap_search(problem, start, refits=run_refits, ends=ends)
        if best is None or out[2] < best[2]:
            best = (*out, run_refits)
    *found, run_refits = best
    if pairs:
        found = _leave_by_pairs(problem, found, run_refits, ends)
    found = _leave_by_screen(problem, found, run_refits, ends, singles=pairs)
    return (*found, run_refits)


def _leave_by_pairs(problem, found, refits, ends):
    """The best swap search's end ``(support, state, loss)``, left by pair swaps where few.

    Where :func:`_scores_pair_swaps` allows it, every exchange of two
    features for two others is scored; the search goes on from the best
    one that lowers the loss (a single-swap search from there, with
    ``ends``), until no pair swap does (:func:`_leave_end`).
    """
    p = problem.n_features
    if not _scores_pair_swaps(refits, p, found[0].size):
        return found

    def moves(support, state, bar):
        scores = refits.pair_swap_losses(support, state, cutoff=bar)
        return scores, lambda i: _all_pair_swaps(support, p, np.array([i]))[0]

    return _leave_end(problem, found, refits, ends, moves)


def _leave_by_screen(problem, found, refits, ends, singles=False):
    """The best swap search's end ``(support, state, loss)``, left by the second-order screen where it applies.

    Where :func:`_screens_supports` allows it, the candidates of
    :func:`_screen_candidates` (every other support of the end's size, or
    its single and pair swaps) are scored by the second-order model of the
    refit objective at the end (:meth:`MultinomialRefits.screen_losses`,
    :meth:`_BinaryRefits.screen_losses`); the
    ``_SCREEN_REFITS`` it ranks lowest are refitted, with (``singles``)
    every single swap where :func:`_end_singles` says so, and the search
    goes on from the best one that lowers the loss (a swap search from
    there, with ``ends``), until none does (:func:`_leave_end`).
    """
    p, k = problem.n_features, found[0].size
    if not _screens_supports(refits, p, k):
        return found
    singles = np.arange(_end_singles(refits, p, k) if singles else 0)

    def moves(support, state, bar):
        cands = _screen_candidates(support, p)
        model = refits.screen_losses(support, state, cands)
        ranked = np.argsort(model, kind="stable")[:_SCREEN_REFITS]
        rows = ranked[np.isfinite(model[ranked])]  # (inf: not ranked)
        if singles.size:
            rows = np.union1d(singles, rows)
        if not rows.size:
            return np.zeros(0), None
        top = cands[rows]
        return _candidate_losses(refits, top, cutoff=bar)[1], top.__getitem__

    return _leave_end(problem, found, refits, ends, moves)


def leave_by_single_swaps(problem, found, refits, ends):
    """The end ``found`` ``(support, state, loss)`` of a log-loss search, left by the screen with
    every single swap refitted where :func:`_end_singles` allows it (else ``found``).

    ``lam="auto"``'s second look at the sizes around its pick
    (:func:`skl0._criteria.select_by_ebic`), whose searches screen the
    single swaps with the pairs.
    """
    if not _screens_supports(refits, problem.n_features, found[0].size) or not _end_singles(
            refits, problem.n_features, found[0].size):
        return found
    return _leave_by_screen(problem, found, refits, ends, singles=True)


def _leave_end(problem, found, refits, ends, moves, max_rounds=50, rtol=1e-7):
    """Leave a search's end ``found`` by ``moves`` while one lowers the loss: the new end.

    ``moves(support, state, bar) -> (scores, pick)``: the losses of the
    moves from ``support`` (those at or above ``bar`` may be reported
    higher, or inf) and ``pick(i)``, the support that move ``i`` reaches.
    The search goes on from the lowest move below ``bar`` (a swap search
    from there, with ``ends``) until none is below it.
    """
    support, state, loss = found
    for _ in range(max_rounds):
        bar = loss * (1 - rtol) - 1e-12
        scores, pick = moves(support, state, bar)
        better = np.flatnonzero(scores < bar)
        if not better.size:
            break
        moved = swap_search(problem, pick(better[np.argmin(scores[better])]), refits=refits,
                            ends=ends)
        if not moved[2] < bar:  # (a search from a lower loss only lowers it further)
            break
        support, state, loss = moved
    return support, state, loss
