"""Exact k, the swap polish and the information criterion over groups of columns.

The column versions live in ``_gate_path.py`` and ``_splice.py``; these take a
:class:`skl0._groups.GroupLayout` and count, swap and price whole groups:

- :func:`splice_groups`: the best-subset polish with groups as the units
  swapped (a swap exchanges an open group for a closed one; the sacrifice
  of a group is the exact change of dropping or adding it for squared loss,
  :meth:`skl0._splice_refits._GramRefits.group_sacrifices`, otherwise the sum of its
  columns' sacrifices), minimising the
  refitted loss plus ``lam_cost`` times the total cost of the kept groups
  (0 without costs; with costs, exact k passes the ``lam`` at which k groups
  stayed open, so that of two near-equal sets the cheaper one wins).
- :func:`select_groups_by_ebic`: ``lam="auto"``: for each number of groups
  the best set found, scored by the extended BIC with the group's columns
  counted as parameters and ``log C(G, s)`` over groups.

Torch, numpy and the standard library only.
"""

from __future__ import annotations

import math

import numpy as np

from ._criteria import (
    _BALANCE_ROUNDS,
    _deviance,
    df_per_feature,
    ebic_gamma,
    max_support_size,
    several_mse_outputs,
)
from ._gate_path import survival_ranking
from ._refit import refit_linear_head
from ._splice import _BINARY_EXHAUSTIVE_NUMBERS, _EXHAUSTIVE_MAX_SUPPORTS, _all_supports
from ._splice_refits import (
    _SECOND_ORDER_MAX_NUMBERS,
    _BinaryRefits,
    _GramRefits,
    _numbers,
    _RowRefits,
)

__all__ = ["exhaustive_groups", "group_ranking", "select_groups_by_ebic", "splice_groups"]

# Closed groups (the largest forward sacrifices) tried in single swaps
# against every open one, each round (as _splice_refits._SWAP_IN).
_SWAP_IN = 3


def group_ranking(layout, points):
    """Groups ordered by how long they stay open along a path (most persistent first)."""
    return layout.group_order(survival_ranking(points))


#: The group swap search's round cap and relative improvement a move must make.
_MAX_ROUNDS, _RTOL = 50, 1e-7


def splice_groups(problem, layout, groups, alpha=0.0, lam_cost=0.0, max_rounds=_MAX_ROUNDS,
                  rtol=_RTOL, prices=None, refits=None):
    """Polish the open ``groups`` by swaps of whole groups.

    Minimises the refitted loss plus ``lam_cost`` times the kept groups'
    ``prices`` (default the layout's feature costs). ``refits``: the
    column refits to use (default a new ``_GramRefits`` or ``_RowRefits``
    at ``alpha``; e.g. output-weighted ones).

    Returns
    -------
    groups : ndarray of int (sorted group numbers)
    head : LinearHead (refitted on their columns)
    loss : float (refitted loss, without the cost term)
    """
    if refits is None:
        refits = (_GramRefits if problem.kind == "gram" else _RowRefits)(problem, alpha)
    prices = layout.costs if prices is None else np.asarray(prices, dtype=np.float64)
    groups, cols, state, loss = _group_swap_search(problem, layout, groups, refits, lam_cost,
                                                   prices, max_rounds, rtol)
    return groups, refits.head(problem, cols, state), loss


def _group_swap_search(problem, layout, groups, refits, lam_cost, prices, max_rounds, rtol):
    """:func:`splice_groups`' search: ``(groups, columns, refit state, loss)``, no head built."""
    gram = isinstance(refits, _GramRefits)  # (also a row problem's, from its X'WX)
    n_groups = layout.n_groups
    groups = np.sort(np.asarray(groups, dtype=np.int64))
    k = groups.size

    def fit(gs):
        cols = layout.columns(gs)
        state, loss = refits.fit(cols)
        return cols, state, loss, loss + lam_cost * float(prices[gs].sum())

    cols, state, loss, value = fit(groups)
    if k == 0 or k == n_groups:
        return groups, cols, state, loss
    C = min(k, n_groups - k)
    for _ in range(max_rounds):
        if gram:  # exact values of whole groups
            back, fwd = refits.group_sacrifices(state, cols, layout)
        else:  # the columns' values, summed per group
            xi, zeta = refits.sacrifices(state, cols)
            back = np.bincount(layout.index[cols], weights=xi, minlength=n_groups)
            fwd = np.bincount(layout.index, weights=zeta, minlength=n_groups)
        # Cost-aware order: a group's usefulness net of its price.
        back = back - lam_cost * prices
        fwd = fwd - lam_cost * prices
        fwd[groups] = -np.inf
        weakest = groups[np.argsort(back[groups], kind="stable")]
        strongest = np.argsort(-fwd, kind="stable")[: n_groups - k]
        cands = [np.concatenate([weakest[c:], strongest[:c]]) for c in range(1, C + 1)]
        for i in strongest[: min(_SWAP_IN if gram else 1, n_groups - k)]:
            cands += [np.where(groups == j, i, groups) for j in weakest[1:]]
        best = None
        for cand in cands:
            cand = np.sort(cand)
            out = fit(cand)
            if out[3] < value - rtol * abs(value) - 1e-12 and (best is None or out[3] < best[1][3]):
                best = (cand, out)
        if best is None:
            break
        groups, (cols, state, loss, value) = best
    return groups, cols, state, loss


def exhaustive_groups(problem, layout, k, alpha=0.0, lam_cost=0.0, refits=None):
    """Exact ``k`` over groups when every set of ``k`` groups is cheap to refit: ``(groups, head)`` or None.

    The group counterpart of :func:`skl0._splice.exhaustive_search`: where
    there are at most ``_EXHAUSTIVE_MAX_SUPPORTS`` (256) sets of ``k``
    groups, each is refitted and the one of lowest refitted loss plus
    ``lam_cost`` times its groups' cost (the swap search's objective) is
    returned, so exact ``k`` over few groups is the best subset of groups,
    not a local optimum of the swaps (on 12 random layouts of 9 groups
    the group swap search stopped above it at 3 of 60 sizes for squared
    loss and 4 of 24 for a binary log loss). Applies to squared loss from
    a Gram matrix (``refits``: a row problem's :func:`skl0._splice_refits.row_gram_refits`,
    or the Gram problem's own) and to a binary log loss on an X of at most
    ``_SECOND_ORDER_MAX_NUMBERS`` numbers whose sets hold at most
    ``_BINARY_EXHAUSTIVE_NUMBERS`` numbers of X together (the columns' rule,
    refitted by :class:`skl0._splice_refits._BinaryRefits`' Newton solve, the
    ridge-``alpha`` logistic MLE); None elsewhere. Ties go to the first set
    in lexicographic order.
    """
    n_groups = layout.n_groups
    if not 0 < k < n_groups:
        return None
    n_sets = math.comb(n_groups, k)
    if n_sets > _EXHAUSTIVE_MAX_SUPPORTS:
        return None
    if refits is None and problem.kind == "gram":
        refits = _GramRefits(problem, alpha)
    elif refits is None and _BinaryRefits.applies(problem):
        widest = int(np.sort(layout.sizes)[::-1][:k].sum())
        if (_numbers(problem) > _SECOND_ORDER_MAX_NUMBERS
                or n_sets * int(problem.X.shape[0]) * widest > _BINARY_EXHAUSTIVE_NUMBERS):
            return None
        refits = _BinaryRefits(problem, alpha)
    if not isinstance(refits, (_GramRefits, _BinaryRefits)):
        return None
    prices = layout.costs
    best = None
    for gs in _all_supports(n_groups, k):  # (read-only rows, shared between fits)
        cols = layout.columns(gs)
        state, loss = refits.fit(cols)
        value = loss + lam_cost * float(prices[gs].sum())
        if best is None or value < best[0]:
            best = (value, gs, cols, state)
    _, groups, cols, state = best
    return groups.copy(), refits.head(problem, cols, state)


def _log_binom(n, k):
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def group_ranks(problem, layout):
    """Numerical rank of each group's standardized columns: the coefficients it adds.

    A one-hot group of ``L`` levels has ``L`` columns but rank ``L - 1``
    once centred (the indicators sum to one, which the intercept already
    spans), so EBIC charges it ``L - 1`` per output, not ``L``. Computed
    once per fit from the group's weighted Gram block (the Gram problem's
    own, or the rows' standardized columns).
    """
    import torch

    ranks = layout.sizes.astype(np.int64)
    G = getattr(problem, "G", None)
    for g in np.flatnonzero(ranks > 1):
        cols = layout.columns(np.array([g]))
        if G is not None:
            A = G[cols][:, cols].detach().cpu().double().numpy()
        else:
            Z = problem.columns(torch.as_tensor(cols, device=problem.mean.device))
            Z = Z.detach().cpu().double().numpy()
            w = problem.w.detach().cpu().double().numpy()
            A = Z.T @ (w[:, None] * Z)
        eig = np.linalg.eigvalsh((A + A.T) / 2)
        ranks[g] = int((eig > 1e-9 * cols.size * max(float(eig.max()), 1e-300)).sum())
    return ranks


def _balanced_group_polish(problem, layout, start, prices, plain):
    """The group polish of several squared-loss outputs, on EBIC's own deviance.

    ``n sum_k log(mse_k)`` lies below its tangent at the start's per-output
    ``m_k``, ``n sum_k mse_k / m_k`` (plus a constant), with equality
    there: the swap search on outputs weighted by ``1 / m_k``, at the rank
    price ``log(n) / (n q)`` per coefficient, lowers EBIC whenever it
    lowers that tangent (a majorize-minimize step), and is repeated from
    the groups it reaches until they stop moving. Returns ``(groups, head,
    loss)`` of the unweighted refit.
    """
    n, q = problem.n_samples, plain.yy_k.size
    tiny = np.finfo(np.float64).tiny
    lam_cost = math.log(n) / (n * q)
    groups = np.sort(np.asarray(start, dtype=np.int64))
    for _ in range(_BALANCE_ROUNDS):
        mse = plain.output_mse(layout.columns(groups))
        weighted = plain.with_output_weights(1.0 / np.maximum(mse, tiny))
        moved = _group_swap_search(problem, layout, groups, weighted, lam_cost, prices,
                                   _MAX_ROUNDS, _RTOL)[0]
        if np.array_equal(moved, groups):
            break
        groups = moved
    cols = layout.columns(groups)
    state, loss = plain.fit(cols)
    return groups, plain.head(problem, cols, state), loss


def select_groups_by_ebic(problem, layout, points, alpha):
    """``lam="auto"`` over groups: the lowest extended BIC among the best set of each size.

    ``EBIC = deviance + df log(n) + 2 gamma log C(G, s)`` with ``s`` the
    number of kept groups, ``df`` the summed ranks of their columns
    (:func:`group_ranks`: ``L - 1`` for a one-hot group of ``L`` levels)
    times the coefficients per column (:func:`skl0._criteria.df_per_feature`), and
    ``gamma`` from ``n`` and the number of groups ``G``. The empty model
    (``s = 0``) is scored too, and so is every path point's own set of
    groups up to the criterion's cap. The sizes run from 1 up to that cap
    (the set of every group, the one set of size ``G``, scored as it is),
    past the path's largest set, until 3 sizes in a row do not lower EBIC.

    Returns
    -------
    best : PathPoint
        The path point reported (``lam_``, importances), with ``support``
        replaced by the chosen groups' columns.
    head : LinearHead
        The refitted head of that support.
    """
    n, q = problem.n_samples, df_per_feature(problem.datafit)
    n_groups = layout.n_groups
    ranks = group_ranks(problem, layout)
    gamma = ebic_gamma(n, n_groups)
    s_max = min(max_support_size(n, n_groups), n_groups)
    # The columns' own cap too: the kept groups' summed rank at most the
    # support size EBIC considers over the columns. Without it, groups of 5
    # columns with unequal costs (100 rows, 20 groups) kept 19 groups, 95
    # columns, whose near-interpolating fit EBIC scored best.
    rank_max = max_support_size(n, layout.index.size)
    cache = {}

    def score(groups, head=None, loss=None):
        key = np.sort(groups).tobytes()
        if key not in cache:
            cols = layout.columns(groups)
            rank = int(ranks[np.asarray(groups, dtype=np.int64)].sum())
            if cols.size * q >= n - 1 or rank > rank_max:
                cache[key] = (math.inf, None, cols)
                return math.inf
            if head is None:
                head, loss = refit_linear_head(problem, cols, alpha=alpha)
            df = rank * q
            value = (_deviance(problem, head, loss) + df * math.log(n)
                     + 2 * gamma * _log_binom(n_groups, groups.size))
            cache[key] = (value, head, cols)
        return cache[key][0]

    point_groups = [layout.groups_of(pt.support) for pt in points]
    sizes = [g.size for g in point_groups]
    ranking = group_ranking(layout, points)
    # Every admissible size, not only up to the path's largest set: the
    # path's first lam closes groups that EBIC keeps on a high-R^2 target
    # (as select_by_ebic's columns; y = 10 x0 + 0.08 (x2 + ... + x5), n=2000,
    # 3 groups of 2: the path kept group 0 alone, 6.8 above the minimum of
    # all 3). The set of every group is that size's one set: scored as it is.
    top = s_max
    # The empty model is a candidate too (pure noise: no group pays its way),
    # reported at the sparsest point.
    empty = np.zeros(0, dtype=np.int64)
    best = (score(empty), int(np.argmin(sizes)), empty)
    misses, lowest = 0, best[0]
    # At a fixed number of groups EBIC still prices their ranks: the polish
    # minimises loss + lam_cost * rank, EBIC's own trade-off (for a log loss
    # exactly, deviance = 2 n loss; for squared loss to first order around
    # the start's mean squared error m0, n log(mse) ~ n mse / m0).
    prices, lam_cost = ranks * q, math.log(n) / (2.0 * n)
    # Several squared-loss outputs: the deviance is n sum_k log(mse_k), which
    # the polish linearises per output (_balanced_group_polish).
    balance = several_mse_outputs(problem)
    if balance:
        plain = _GramRefits(problem, alpha)
    for size in range(1, top + 1):
        at = [i for i, s in enumerate(sizes) if s == size]
        if at:
            report, start = at[0], point_groups[at[0]]
        else:
            report = min(range(len(points)), key=lambda j: (sizes[j] < size, abs(sizes[j] - size)))
            start = np.sort(ranking[:size])
        if size == n_groups:
            groups = np.arange(n_groups, dtype=np.int64)
            head = loss = None
        elif balance:
            groups, head, loss = _balanced_group_polish(problem, layout, start, prices,
                                                        plain)
        else:
            if problem.datafit.supports_gram:
                m0 = refit_linear_head(problem, layout.columns(start), alpha=alpha)[1]
                lam_cost = max(m0, 0.0) * math.log(n) / (n * q)
            groups, head, loss = splice_groups(problem, layout, start, alpha=alpha,
                                               lam_cost=lam_cost, prices=prices)
        value = score(groups, head, loss)
        if value < best[0]:
            best = (value, report, groups)
        misses = 0 if value < lowest else misses + 1
        lowest = min(lowest, value)
        if misses >= 3:
            break
    # Every path point's own groups up to the criterion's cap, as
    # select_by_ebic scores the path's supports (after the polished sets,
    # which win ties).
    cap = max_support_size(n, n_groups)
    for i, groups in enumerate(point_groups):
        if groups.size <= cap:
            value = score(groups)
            if value < best[0]:
                best = (value, i, groups)
    if not math.isfinite(best[0]):
        i = int(np.argmin(sizes))
        head, _ = refit_linear_head(problem, points[i].support, alpha=alpha)
        return points[i], head
    value, i, groups = best
    entry = cache[np.sort(groups).tobytes()]
    return points[i].with_support(entry[2]), entry[1]
