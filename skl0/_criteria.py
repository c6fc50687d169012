"""How a point or a support is chosen from a gate path: EBIC and the CV rules.

``lam="auto"`` (:func:`select_by_ebic`)
    For each size 1, 2, ... take the best support found (the path's own, or
    the survival ranking's top features, polished by the swap search of
    ``_splice.py``), refit it (no shrinkage) and keep the one with the
    lowest extended BIC of Chen & Chen (2008)::

        EBIC = deviance + df * log(n) + 2 * gamma * log(C(p, s))

    with ``s`` the support size, ``df = s * q`` (``q`` outputs, ``K - 1``
    for ``K`` classes: :func:`df_per_feature`), ``deviance`` equal to
    ``n * sum_j log(RSS_j / n)`` for squared loss (so the noise level enters
    through the RSS) or twice the negative log-likelihood for log loss, and
    ``gamma = clip(1 - log(n) / (2 log(p)), 0, 1)``, Chen & Chen's
    consistency bound ``1 - 1/(2 kappa)`` for ``p = n**kappa``: plain BIC
    when p is small against n, a heavier price per feature when p is large.

The CV estimators choose a grid point from the mean fold scores
(:func:`choose_index`: ``"best"`` or ``"one_se"``).

Torch, numpy and the standard library only (the swap search of
``_splice.py`` is imported where it is used).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from ._gate_path import survival_ranking
from ._objective import gram_mse
from ._refit import refit_linear_head

__all__ = ["choose_index", "df_per_feature", "ebic", "ebic_gamma", "max_support_size",
           "first_feature_price", "select_by_ebic", "support_ebic", "whole_samples"]


def ebic_gamma(n_samples, n_features):
    """Chen & Chen's ``gamma = 1 - 1 / (2 kappa)`` with ``p = n**kappa``, in [0, 1]."""
    if n_features <= 1 or n_samples <= 1:
        return 0.0
    kappa = math.log(n_features) / math.log(n_samples)
    return float(min(1.0, max(0.0, 1.0 - 1.0 / (2.0 * kappa))))


def ebic(deviance, n_selected, n_samples, n_features, n_outputs=1, gamma=None):
    """Extended BIC of a model with ``n_selected`` of ``n_features`` features."""
    if gamma is None:
        gamma = ebic_gamma(n_samples, n_features)
    log_binom = (
        math.lgamma(n_features + 1)
        - math.lgamma(n_selected + 1)
        - math.lgamma(n_features - n_selected + 1)
    )
    return deviance + n_selected * n_outputs * math.log(n_samples) + 2 * gamma * log_binom


def df_per_feature(datafit):
    """Free coefficients one kept feature adds: ``q`` outputs, ``K - 1`` for ``K`` classes.

    A multinomial model is unchanged by a common shift of a feature's ``K``
    class coefficients, so EBIC charges ``K - 1`` (as the binary model's
    one); squared loss charges one per output.
    """
    return getattr(datafit, "df_per_feature", datafit.n_outputs)


def whole_samples(n_samples):
    """``floor(n_samples)``, with a float sum's round-off taken as the whole number.

    ``n_samples`` is a total sample weight: weights rescaled to mean 1
    (``w / w.mean()``) sum to ``99.99999999999999`` for 100 rows about one
    time in five, which ``int`` took for 99 (fewer screened columns than the
    unweighted fit's, or a square X screened at all).
    """
    return int(math.floor(n_samples * (1.0 + 1e-9)))


def max_support_size(n_samples, n_features):
    """Largest support EBIC may choose: ``n / (log(log n) * log p)``, at most ``n - 2``.

    The bound on the model size used in sure independence screening and by
    abess (``log log n`` taken as at least 1, so below ``n = e**e``, about
    15, it is ``n / log p``); beyond it the refit nearly interpolates and the
    criterion is meaningless (``log RSS -> -inf``). At most ``n - 2``: the
    refit of ``s`` features has ``s + 1`` coefficients with its intercept,
    and with ``s = n - 1`` it interpolates exactly (``RSS = 0``), which
    EBIC scored best whatever the features (4 rows, 3 columns and
    ``y = x0 + noise``: every column kept; the group search already
    charged such supports ``inf``). At least 1 (with 2 rows that one
    feature interpolates too).
    """
    return support_size_cap(n_samples, n_features)[0]


def support_size_cap(n_samples, n_features):
    """:func:`max_support_size` and the rule that set it.

    The rule is ``"formula"`` (``n / (log log n * log p)``), ``"rows"``
    (``n - 2``), ``"features"`` (``p``) or ``"floor"`` (both bounds below
    one feature, which is always considered).
    """
    n_whole = whole_samples(n_samples)
    if n_samples < 3 or n_features < 2:
        bound, rule = ((n_whole - 2, "rows") if n_whole - 2 <= n_features
                       else (n_features, "features"))
    else:
        loglog = max(math.log(math.log(n_samples)), 1.0)
        formula = int(n_samples / (loglog * math.log(n_features)))
        bound, rule = (formula, "formula") if formula < n_whole - 2 else (n_whole - 2, "rows")
    return (bound, rule) if bound >= 1 else (1, "floor")


#: The starts of lam="auto"'s polish at each size, as exact k's: the path's
#: support of that size, screening and forward stepwise selection
#: (benchmarks/ebic_search.py's ablation keeps only the first).
_POLISH_STARTS = ("path", "screening", "forward")

#: Majorize-minimize rounds of lam="auto"'s polish on several squared-loss
#: outputs (each a swap search on reweighted outputs); a cap, rarely reached.
_BALANCE_ROUNDS = 20

#: Sizes in a row whose polished support does not lower the lowest EBIC
#: so far before lam="auto"'s search over sizes stops.
_PATIENCE = 3


def _deviance(problem, head, loss):
    n = problem.n_samples
    if problem.datafit.supports_gram:
        with torch.no_grad():
            if problem.kind == "gram":
                mse = gram_mse(problem.yy, problem.c, problem.G, head.weight)
            else:
                ones = torch.ones_like(problem.mean)
                pred = problem.predict(head, ones)
                mse = (problem.w[:, None] * (pred - problem.Y) ** 2).sum(0)
        mse = torch.clamp(mse, min=torch.finfo(mse.dtype).tiny)
        return _mse_deviance(problem, mse.double().cpu().numpy())
    return 2.0 * n * loss


def several_mse_outputs(problem):
    """Whether EBIC's deviance of ``problem`` is ``n sum_k log(mse_k)`` over several outputs.

    Then it is not the summed MSE that the swap searches lower, and the
    per-size polish takes majorize-minimize rounds (``_BALANCE_ROUNDS``).
    """
    return (problem.kind == "gram" and problem.yy.numel() > 1
            and getattr(problem.datafit, "gram_deviance", None) is None)


#: Floor of a squared-loss fit's per-output MSE in EBIC's deviance, relative to
#: the empty model's: a noiseless target's MSE is round-off there, and
#: ``n log(mse)`` read round-off as signal. With ``alpha=1e-10`` (or 0),
#: ``y = 3 x0 - 2 x5 + 7`` on 100 rows kept ``[0 3 5 6 8 9]``: the
#: supersets' round-off MSEs differed by orders of magnitude. (The default
#: ``alpha=1e-4``'s ridge bias, about ``1e-8`` of the variance, is above it:
#: on X 200 x 5 with ``X[:, 4] = X[:, 0]`` and ``y = x0 + 2 x1`` exactly,
#: ``lam="auto"`` keeps the copy, whose split coefficient lowers the ridge
#: refit's MSE from about 1.1e-8 to 0.89e-8 of the variance, 43 deviance units
#: against a feature's price of log(200) = 5.3. That gain is the ridge's, not
#: round-off; a floor above it would need a constant no rule gives, and would
#: flatten genuine fits of R^2 above 1 - 1e-8, so it is left: alpha=0 keeps
#: one of the copies there.)
_MSE_FLOOR = 1e-10


def _null_mse(problem):
    """Per-output weighted MSE of the intercept alone (numpy float64, read-only).

    Formed once per problem (kept in its ``__dict__``, as its engine terms
    are): a row problem's EBIC scores every candidate by
    :func:`_mse_deviance`, which read the empty model's MSE each time.
    """
    cached = problem.__dict__.get("_null_mse")
    if cached is not None:
        return cached
    if problem.kind == "gram":
        null = problem.yy.detach().double().cpu().numpy()
    else:
        with torch.no_grad():
            Y, w = problem.Y.double(), problem.w.double()
            Yc = Y - (w[:, None] * Y).sum(0) / w.sum()
            null = ((w[:, None] * Yc * Yc).sum(0) / w.sum()).cpu().numpy()
    null = np.array(null)  # its own copy: not a view of the problem's tensors
    null.flags.writeable = False
    problem.__dict__["_null_mse"] = null
    return null


def _mse_deviance(problem, mse, null_mse=None):
    """Deviance of a squared-loss fit from its per-output weighted MSE (numpy, clamped > 0).

    ``n sum_k log(mse_k)``, each ``mse_k`` at least ``_MSE_FLOOR`` times the
    empty model's (``null_mse``: :func:`_null_mse`, when at hand); a datafit
    that stands for another loss through a quadratic model (the Dask
    classifier's IRLS step) maps the mean squared error to that loss's
    deviance instead.
    """
    deviance = getattr(problem.datafit, "gram_deviance", None)
    if deviance is not None:
        return float(deviance(mse))
    if null_mse is None:
        null_mse = _null_mse(problem)
    mse = np.maximum(mse, _MSE_FLOOR * null_mse)
    return float(problem.n_samples * np.log(mse).sum())


def support_ebic(problem, support, alpha, fitted=None):
    """EBIC of the ridge-``alpha`` refit of ``support``, and that refit's head.

    ``p`` is ``problem.n_candidates`` (every column of a screened problem).
    ``fitted``: ``(head, loss)`` of that refit, when at hand. How
    :func:`select_by_ebic` scores a row problem's candidates.
    """
    head, loss = refit_linear_head(problem, support, alpha=alpha) if fitted is None else fitted
    value = ebic(_deviance(problem, head, loss), support.size, problem.n_samples,
                 problem.n_candidates, df_per_feature(problem.datafit))
    return value, head


def first_feature_price(problem):
    """What EBIC charges the first feature: ``q log n + 2 gamma log p`` (over all candidates)."""
    n, p = problem.n_samples, problem.n_candidates
    return ebic(0.0, 1, n, p, df_per_feature(problem.datafit)) - ebic(0.0, 0, n, p)


def select_by_ebic(problem, points, alpha):
    """Score the best support found at each size by EBIC and keep the lowest.

    The candidates of a size ``s`` are the path's supports of that size
    and their best-subset polish (:func:`skl0._splice.swap_search`, which
    only lowers the refitted loss at the same size), started, as exact
    ``k``'s, from the path's support of that size (or the survival
    ranking's top ``s``), from screening and, for Gram and multinomial
    problems, from forward stepwise selection: EBIC charges the same price
    to every support of one size, so the lowest-loss support found at each
    size is the only one it can prefer. Where a Gram problem has few
    supports of a size (at most 256: every size of 10 columns), all of them
    are scored instead (:func:`skl0._splice.exhaustive_search`), so the
    best subset of that size is a candidate; a log-loss search's best end
    is screened by the second-order model of the other supports of its
    size, or of its single and pair swaps (:func:`skl0._splice._leave_by_screen`);
    in the second case the single swaps of the ends at the chosen size and
    its two neighbours are then refitted, every one, where that is cheap
    (:func:`skl0._splice.leave_by_single_swaps`), and again around a new
    pick until its size stands. With several squared-loss outputs
    the loss the search lowers (the summed MSE) is not the deviance
    (``n sum_k log mse_k``), so the search is repeated on outputs weighted
    by ``1 / mse_k`` of the support found, a majorize-minimize step on the
    deviance, until the support stops moving. The sizes are searched upwards
    until ``_PATIENCE`` sizes in a row fail to lower the lowest EBIC, or, on
    a Gram problem, until no size left can beat the best one
    (:func:`_size_floors`). The empty model is scored too. Each candidate is
    refitted (no shrinkage) once; a Gram problem's are scored from the
    refits' own weights, and only the chosen support's head is built.

    Returns
    -------
    best : PathPoint
        The path point of the chosen size, with ``support`` replaced by the
        chosen support.
    head : LinearHead
        The refitted head of the chosen support.
    criteria : list of float
        EBIC per path point (of its own support).
    """
    # _splice imports _refit, as this module does
    from ._splice import (
        exhaustive_search,
        forward_step,
        leave_by_single_swaps,
        screening_order,
        search_from_starts,
        swap_search,
    )
    from ._splice_refits import shared_refits

    n, p, q = problem.n_samples, problem.n_features, df_per_feature(problem.datafit)
    p_all = problem.n_candidates  # all columns when the problem was screened
    s_max = max_support_size(n, p_all)
    gamma = ebic_gamma(n, p_all)  # (ebic's own, formed once)
    cache, criteria = {}, []

    refits = shared_refits(problem, alpha)  # shared between sizes
    # A Gram problem's candidates are scored from the refits' own weights in
    # numpy; only the chosen support's head is built (at the end).
    gram = problem.kind == "gram"
    if gram:
        tiny = torch.finfo(problem.G.dtype).tiny
        null_mse = _null_mse(problem)  # the deviance's floor, the same for every candidate

    def score(support, state=None, loss=None, run_refits=None):
        """EBIC of ``support``; ``state``/``loss``: its refit, when already made."""
        key = support.tobytes()
        if key not in cache:
            if gram:
                if state is None:
                    state, loss = refits.fit(support)
                mse = refits.output_mse(support, state)
                deviance = _mse_deviance(problem, np.maximum(mse, tiny), null_mse)
                value = ebic(deviance, support.size, n, p_all, q, gamma)
                head = (refits, state)  # the head, built if chosen
            elif state is not None and not problem.datafit.supports_gram:
                # A log loss's deviance is its refit's loss: the head is
                # built only if this support is chosen (as a Gram problem's).
                value = ebic(_deviance(problem, None, loss), support.size, n, p_all, q, gamma)
                head = (run_refits, state)
            else:
                fitted = None if state is None else (run_refits.head(problem, support, state),
                                                     loss)
                value, head = support_ebic(problem, support, alpha, fitted)
            cache[key] = (value, head, support)
        return cache[key][0]

    for pt in points:
        criteria.append(score(pt.support) if pt.support.size <= s_max else math.inf)
    # (Where every point is past s_max, the empty model and the polished
    # sizes below are the candidates: the choice never passes s_max.)
    by_size = {}
    for i, pt in enumerate(points):
        if math.isfinite(criteria[i]) and (
            pt.support.size not in by_size or criteria[i] < criteria[by_size[pt.support.size]]
        ):
            by_size[pt.support.size] = i
    best = (min(criteria), int(np.argmin(criteria)), points[int(np.argmin(criteria))].support)
    # The empty model, whether or not the path reached it (reported at the
    # sparsest point).
    empty = np.zeros(0, dtype=np.int64)
    if score(empty) < best[0]:
        sparsest = min(range(len(points)), key=lambda j: points[j].support.size)
        best = (score(empty), sparsest, empty)
    # Sizes 1, 2, ... up to the largest admissible one, until _PATIENCE
    # sizes in a row fail to lower the lowest EBIC of the polished supports
    # (EBIC along the best subsets falls, then rises); a size the walk
    # stepped over (a jump from above s_max to below it included) starts
    # from the survival ranking's top features. Not only up to the path's
    # largest support: the path's first lam (1e-4 of the target's variance)
    # closes features that EBIC keeps at large n (its price per feature,
    # about log(n) / n of the variance, is below 1e-4 from n ~ 1e5), so the
    # search goes on past it while EBIC still falls (n=4e5, p=6, five
    # features worth 6.4e-5 each: the path's densest point kept 1, and the
    # pick, EBIC 613, was 40 above the best subset's, of 5).
    top = min(s_max, p)
    # The survival ranking and screening's order are starts of a searched
    # size only: formed on first use (a size scored exhaustively needs
    # neither, and every size of 10 columns is).
    @functools.cache
    def ranking():
        return survival_ranking(points)

    @functools.cache
    def screened():
        return screening_order(problem)

    def report_point(size):
        # The path's own point of this size, else the nearest denser one (whose
        # open gates most likely include a polished support's features), so
        # that lam_ and feature_importances_ come from that point.
        if size in by_size:
            return by_size[size]
        return min(range(len(points)), key=lambda j: (
            points[j].support.size < size, abs(points[j].support.size - size)))

    def start(size):
        if size in by_size:
            return points[by_size[size]].support
        return np.sort(ranking()[:size])

    # Exact k's other two starts, grown one size at a time: screening (the
    # features most correlated with the target) and, where the refits rank
    # additions exactly or to second order (Gram, multinomial), forward
    # stepwise selection, whose supports are nested.
    screening = "screening" in _POLISH_STARTS
    forward = (np.zeros(0, dtype=np.int64)
               if "forward" in _POLISH_STARTS and getattr(refits, "forward", False) else None)
    ends = None if refits is None else {}  # shared by the sizes' searches
    searched = {}  # size -> the end of its search (support, state, loss, refits)

    def polish(size):
        nonlocal best, forward
        if size == p:  # one support of this size, every column: nothing to search
            value = score(np.arange(p, dtype=np.int64))
            if value < best[0]:
                best = (value, report_point(size), np.arange(p, dtype=np.int64))
            return value
        found = exhaustive_search(problem, refits, size)
        if found is not None:  # few supports of this size: every one scored
            (support, state, loss), run_refits = found, refits
        else:
            starts = [start(size)]
            if screening:
                starts.append(np.sort(screened()[:size]))
            if forward is not None:
                while forward.size < size:  # (sizes scored exhaustively skipped it)
                    forward = forward_step(refits, forward)
                starts.append(forward)
            support, state, loss, run_refits = search_from_starts(
                problem, starts, alpha, refits, ends)
        support = np.asarray(support, dtype=np.int64)
        if found is None:
            searched[size] = (support, state, loss, run_refits)
        if balance:
            support, state, loss = balanced(support, state, loss)
        value = score(support, state, loss, run_refits)
        if value < best[0]:
            best = (value, report_point(size), support)
        return value

    # Several squared-loss outputs: the deviance n sum_k log(mse_k) is not
    # the summed MSE the swap search lowers. log is concave, so
    # sum_k log mse_k(S) <= sum_k log mse_k(S0) + sum_k mse_k(S) / mse_k(S0) - q:
    # a search on the outputs weighted by 1 / mse_k(S0) that lowers the
    # weighted sum from S0 lowers the deviance too (a majorize-minimize
    # step), repeated from each new support until the support stops moving.
    balance = several_mse_outputs(problem)

    def balanced(support, state, loss):
        for _ in range(_BALANCE_ROUNDS):
            weights = 1.0 / np.maximum(refits.output_mse(support, state), tiny)
            weighted = refits.with_output_weights(weights / weights.mean())
            moved = swap_search(problem, support, refits=weighted)[0]
            if np.array_equal(moved, support):
                break
            moved_state, moved_loss = refits.fit(moved)
            if score(moved, moved_state, moved_loss) >= score(support, state, loss):
                break
            support, state, loss = moved, moved_state, moved_loss
        return support, state, loss

    # Once a size fails to lower the lowest EBIC, the sizes left are
    # searched only while one of them could still beat the best: no
    # support of size s scores below EBIC's price of s plus the deviance of
    # all columns' least squares (:func:`_size_floors`), so the sizes whose
    # floor is not below the best are skipped without changing the choice
    # (diabetes: the floors of sizes 7 to 10 are above size 5's EBIC).
    floors = None
    misses, lowest = 0, math.inf
    for size in range(1, top + 1):
        value = polish(size)
        misses = 0 if value < lowest else misses + 1
        lowest = min(lowest, value)
        if misses >= _PATIENCE:
            break
        if misses and gram and size < top:
            if floors is None:
                floors = _size_floors(problem, refits, top, null_mse)
            if floors is not False and floors[size + 1:].min() >= best[0]:
                break
    # A second look around the pick. The searches above screen a log-loss
    # end's single swaps with its pairs (exact k's refit every one, where
    # few: skl0._splice._end_singles); at the chosen size and its two
    # neighbours they are refitted now, and again around a new pick, until
    # the pick's size stands. (Refitting them at every size cost
    # 1.15-1.29x lam="auto"'s CPU time on 13-column multinomial designs,
    # session 42.)
    looked = set()
    while not balance:
        size = best[2].size
        around = [z for z in (size - 1, size, size + 1) if z in searched and z not in looked]
        if not around:
            break
        for z in around:
            looked.add(z)
            support, state, loss, run_refits = searched[z]
            moved, state, moved_loss = leave_by_single_swaps(
                problem, (support, state, loss), run_refits, ends)
            if moved_loss < loss:  # (swap_search's supports: sorted int64, as score keys them)
                value = score(moved, state, moved_loss, run_refits)
                if value < best[0]:
                    best = (value, report_point(z), moved)
    value, i, support = best
    chosen = points[i].with_support(support)
    head = cache[support.tobytes()][1]
    if isinstance(head, tuple):
        head = head[0].head(problem, support, head[1])
    return chosen, head, criteria


#: Largest number of columns whose least squares :func:`_size_floors` forms
#: (an eigendecomposition of the Gram matrix: about 0.2 ms at 64 columns).
_FLOOR_MAX_FEATURES = 64


def _size_floors(problem, refits, top, null_mse):
    """Lower bounds of EBIC per support size ``0..top`` on a Gram problem, or False.

    Any support's refit (``refits``: :class:`skl0._splice_refits._GramRefits`) has
    per-output MSE at least that of the least squares on all columns (a
    superset, unpenalised), so its deviance is at least that MSE's and its
    EBIC at least the size's price above it. The MSE is formed from the
    eigendecomposition of the Gram matrix of the columns with spread, less
    ``1e-6`` of each output's total (round-off of the refits' MSE and of
    this solve, at a condition number of at most ``1e8``, is far below).
    False where this does not apply: more than ``_FLOOR_MAX_FEATURES``
    columns, an ill-conditioned Gram matrix, or a deviance other than
    ``n sum_k log(mse_k)``.
    """
    if (getattr(problem.datafit, "gram_deviance", None) is not None
            or getattr(refits, "G", None) is None
            or refits.G.shape[0] > _FLOOR_MAX_FEATURES):
        return False
    live = refits.G.diagonal() > 0
    if not live.any():
        return False
    e, V = np.linalg.eigh(refits.G[np.ix_(live, live)])
    if not e[0] > 1e-8 * e[-1]:
        return False
    proj = V.T @ refits.c[live]
    mse = refits.yy_k - (proj * proj / e[:, None]).sum(0) - 1e-6 * refits.yy_k
    mse = np.maximum(mse, torch.finfo(problem.G.dtype).tiny)
    deviance = _mse_deviance(problem, mse, null_mse)
    n, p_all, q = problem.n_samples, problem.n_candidates, df_per_feature(problem.datafit)
    gamma = ebic_gamma(n, p_all)
    return np.array([ebic(deviance, s, n, p_all, q, gamma) for s in range(top + 1)])


def choose_index(mean, std, n_features, n_splits, selection):
    """Index of the chosen path point.

    ``"best"``: the highest mean score. ``"one_se"``: among the points whose
    mean score is at least ``best - std[best] / sqrt(n_splits - 1)`` (one
    standard error of the best mean, with the fold standard deviation taken
    over ``n_splits - 1`` degrees of freedom), the one with the fewest
    features. Ties go to the higher score, then to the larger ``lam`` (the
    later index). NaN scores never win.
    """
    mean = np.where(np.isnan(mean), -np.inf, mean)
    best = max(range(len(mean)), key=lambda i: (mean[i], -n_features[i], i))
    if selection == "best" or n_splits < 2:
        return best
    bound = mean[best] - std[best] / np.sqrt(n_splits - 1)
    candidates = [i for i in range(len(mean)) if mean[i] >= bound]
    return min(candidates, key=lambda i: (n_features[i], -mean[i], -i))
