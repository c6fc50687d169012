"""Splicing: a best-subset polish of a fixed-size support (any datafit).

Zhu, Wen, Zhu, Zhang & Wang (2020), "A polynomial algorithm for
best-subset selection problem", PNAS 117(52) -- the algorithm behind abess.
For the current support ``A`` (refitted by least squares), the *backward
sacrifice* of ``j in A`` is the loss increase if it is dropped and the
*forward sacrifice* of ``j not in A`` the loss decrease if it is added:
exact from the statistics of a Gram problem
(:meth:`skl0._splice_refits._GramRefits.sacrifices`), and
``beta_j^2`` and ``d_j^2`` (``d_j = x_j' W r``, the weighted correlation
with the residual) on row problems, as abess computes them, except a
multinomial log loss on small CPU data, whose Wald and score statistics
(second order, the Hessian's Schur complement) are in
:mod:`skl0._splice_multinomial`. For ``c = 1..C`` the ``c`` least useful
active features are swapped for the ``c`` most promising inactive ones;
the best swap that lowers the refitted loss is kept, until none does.

The gates supply the starting support; splicing only ever lowers the loss
at the same size, so it cannot undo a good L0 solution.

This module decides which supports to try; the refits that score them
(and give the sacrifices) are :mod:`skl0._splice_refits` (squared and
binary log losses, any row problem) and :mod:`skl0._splice_multinomial`.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from ._splice_multinomial import MultinomialRefits
from ._splice_refits import (
    _SWAP_IN,
    _all_pair_swaps,
    _BinaryRefits,
    _block_positions,
    _GramRefits,
    _residual_correlations,
    make_refits,
    shared_refits,
)

__all__ = ["exhaustive_search", "forward_start", "forward_step", "penalised_flips",
           "screening_order", "screening_start", "search_from_starts", "splice",
           "splice_from_starts", "swap_search"]


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


def splice(problem, support, alpha=0.0, max_swap=None, max_rounds=50, rtol=1e-7, refits=None):
    """Polish ``support`` by swaps that lower the refitted loss.

    Parameters
    ----------
    problem : GramProblem or DirectProblem (any datafit; the refits are
        those of :func:`skl0._splice_refits.make_refits`: a log loss on small CPU data (or on
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
        share (:func:`skl0._splice_refits.shared_refits`: those cached by support).

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
    ``cutoff``; batched refits (:meth:`skl0._splice_refits._BinaryRefits.fit_many`) may then
    report a support that cannot win as ``(None, inf)``. ``base``: the
    swap search's round, for refits that score its exchanges from the
    current refit (:meth:`skl0._splice_refits._GramRefits.losses`).
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
    refits, binary log-loss refits (:class:`skl0._splice_refits._BinaryRefits`) where their
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
    (:meth:`skl0._splice_refits._GramRefits.pair_swap_losses`). Their searches have then
    scored every single swap too: ``C(k, 2) C(p - k, 2) <= 2048`` bounds
    ``k (p - k)`` by 128, within :func:`_scores_all_swaps`' 256.
    """
    return isinstance(refits, _GramRefits) and 0 < _pair_swaps(p, k) <= _PAIR_SWAPS_MAX


def _screens_supports(refits, p, k):
    """Whether the best end of a swap search is left by the second-order screen (:func:`_leave_by_screen`).

    Multinomial and binary log-loss refits (:class:`MultinomialRefits`,
    :class:`skl0._splice_refits._BinaryRefits`) with few candidates (:func:`_screen_count`),
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
    forward sacrifice of :class:`skl0._splice_refits._GramRefits`, a Schur complement), on a
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

    For the exact refits of a Gram problem
    (:class:`skl0._splice_refits._GramRefits`), whose batched solves
    (:meth:`skl0._splice_refits._GramRefits.solved_losses`) score each
    support in about a microsecond, and for exact ``k``'s binary log-loss refits on small
    data (:class:`skl0._splice_refits._BinaryRefits` with ``second_order``, refitted by batched
    Newton, :meth:`skl0._splice_refits._BinaryRefits.fit_many`) when all the supports hold at
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
    count = math.comb(p, size)
    # (fromiter over the flattened tuples: half the time of np.array of their
    # list, e.g. 15 ms instead of 30 for p=19, size 8, on the first fit)
    cands = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(p), size)),
                        dtype=np.int64, count=count * size).reshape(count, size)
    cands.flags.writeable = False
    return cands


@functools.lru_cache(maxsize=64)
def _all_support_blocks(p, size):
    """The block positions in a ``p x p`` matrix of :func:`_all_supports` ``(p, size)`` (read-only).

    :func:`skl0._splice_refits._block_positions` of those supports, kept
    beside them for :func:`exhaustive_search`, which gathers the same blocks
    at every fit of a small design (forming the positions cost a tenth of
    each size's solve on diabetes); only for at most ``_KEPT_BLOCKS_MAX``
    positions (else each fit with another ``p`` kept up to 133 MB).
    """
    positions = _block_positions(_all_supports(p, size), p)
    positions.flags.writeable = False
    return positions


def splice_from_starts(problem, starts, alpha=0.0, refits=None):
    """Splice from each start and keep the lowest refitted loss.

    ``refits``: those of :func:`skl0._splice_refits.shared_refits`, when the caller made them
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

    ``refits`` shared by the runs (:func:`skl0._splice_refits.shared_refits`), or None to make
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
    :meth:`skl0._splice_refits._BinaryRefits.screen_losses`); the
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
