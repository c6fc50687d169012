"""Regularization paths over ``lam``, and the two rules built on them.

A *gate path* fits the gates at an increasing geometric sequence of
``lam`` values, each point warm-started from the previous one (dense to
sparse, so that gates only close). Two rules read a path:

``lam="auto"`` (:func:`select_by_ebic`)
    For each size 1, 2, ... take the best support found (the path's own, or
    the survival ranking's top features, polished by the swap search of
    ``_splice.py``), refit it (no shrinkage) and keep the one with the
    lowest extended BIC of Chen & Chen (2008)::

        EBIC = deviance + df * log(n) + 2 * gamma * log(C(p, s))

    with ``s`` the support size, ``df = s * q``, ``deviance`` equal to
    ``n * sum_j log(RSS_j / n)`` for squared loss (so the noise level enters
    through the RSS) or twice the negative log-likelihood for log loss, and
    ``gamma = clip(1 - log(n) / (2 log(p)), 0, 1)``, Chen & Chen's
    consistency bound ``1 - 1/(2 kappa)`` for ``p = n**kappa``: plain BIC
    when p is small against n, a heavier price per feature when p is large.

exact ``k`` (:func:`survival_ranking`, :func:`k_path_start`)
    Walk the path (for a linear head from where ~3k gates stay open) until
    at most ``k`` gates are open and keep the ``k`` features that stayed
    open longest (ties broken by the probability of being open at the point
    where they closed); the estimators then polish them by swaps.

Torch, numpy, scipy and the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from ._engine import THETA_MAX, data_term, default_ops, profiled, set_vertex, vertex_path
from ._refit import refit_linear_head
from ._train import train_gates
from .nn.hard_concrete import gate_moments, prob_nonzero

__all__ = [
    "PathPoint",
    "ebic",
    "ebic_gamma",
    "gate_path",
    "lam_grid",
    "max_support_size",
    "select_by_ebic",
    "survival_ranking",
]


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


def max_support_size(n_samples, n_features):
    """Largest support EBIC may choose: ``n / (log(log n) * log p)``.

    The bound on the model size used in sure independence screening and by
    abess; beyond it the refit nearly interpolates and the criterion is
    meaningless (``log RSS -> -inf``). At least 1.
    """
    if n_samples < 3 or n_features < 2:
        return max(1, min(n_samples - 1, n_features))
    loglog = max(math.log(math.log(n_samples)), 1.0)
    return max(1, int(n_samples / (loglog * math.log(n_features))))


def lam_grid(n_lams=16, lam_min=1e-4, lam_max=0.5):
    """Increasing geometric grid of ``lam`` values."""
    return np.geomspace(lam_min, lam_max, n_lams)


#: Sizes in a row whose polished support does not lower the lowest EBIC
#: so far before lam="auto"'s search over sizes stops.
_PATIENCE = 3


def marginal_gains(problem):
    """Loss reduction of each feature alone, ``|dloss/dB_j|^2 / (4 kappa d_j)`` at ``B = 0``.

    Exact for squared loss (the squared correlation with the target, over
    the number of outputs); for a log loss the reduction of one Newton step
    under the curvature bound ``kappa``. Constant columns gain 0.
    """
    from ._splice import _residual_correlations

    grad2 = _residual_correlations(problem)
    ops = default_ops(problem)
    d = ops.to_host(data_term(problem, ops).d)
    kappa = problem.datafit.noise_curvature
    return np.where(d > 0, grad2 / (4 * kappa * np.maximum(d, 1e-300)), 0.0)


#: The exact-k path of a linear head starts where about this many times k
#: gates would stay open by their marginal loss reduction.
K_START_FACTOR = 3


def k_path_start(problem, k, layout=None):
    """First ``lam`` of an exact-``k`` path: where ~``min(3 k, p - 1)`` gates stay open.

    A gate is worth keeping while its loss reduction exceeds ``lam`` (for an
    orthogonal design exactly, see ``_engine.py``); the reduction of feature
    ``j`` alone is ``|dloss/dB_j|^2 / (4 kappa d_j)`` at ``B = 0``. The path
    starts at the ``min(K_START_FACTOR * k, p - 1)``-th largest of these,
    so its points are spent near size ``k`` instead of on closing the many
    gates that no ranking near ``k`` needs (diabetes, k=4: 8 path points
    instead of 12, same exhaustive-optimum hits). Returns None when that
    leaves no more than ``k`` gates or is not above the default grid's 1e-4.

    With a :class:`skl0._groups.GroupLayout`, ``k`` counts groups and a
    group's gain is the sum of its columns' over its cost (its price is
    ``lam`` times its cost).
    """
    gain = marginal_gains(problem)
    if layout is not None:
        gain = np.bincount(layout.index, weights=gain, minlength=layout.n_groups)
        gain = gain / np.maximum(layout.costs, 1e-12)
    m = min(K_START_FACTOR * k, gain.size - 1)
    if m <= k:
        return None
    lam = float(np.sort(gain)[::-1][m - 1])
    return lam if 1e-4 < lam < 0.25 else None


@dataclass
class PathPoint:
    """One point of a gate path."""

    lam: float
    support: np.ndarray
    prob_open: np.ndarray
    loss: float
    n_iter: int
    log_alpha: torch.Tensor
    head_state: dict = field(default_factory=dict)


#: The early stop of a warm-started path point: the state at entry counts as
#: the first check, so a point whose mask and E[open gates] (within 0.05)
#: do not move over 5 steps ends there (see :func:`train_gates`).
WARM_STOP = dict(check_every=5, tol=0.05, patience=1, compare_start=True)


class _VertexRecorder:
    """Path points at vertices (open gates at ``THETA_MAX``, closed at ``-THETA_MAX``).

    What :func:`gate_path`'s ``record`` would read from the modules after
    :func:`skl0._engine.set_vertex`, computed from the mask and the
    effective weights ``B``: ``log_alpha``, ``prob_open`` and ``E[z]`` take
    one of two values per gate, and ``W = B / E[z]``.
    """

    def __init__(self, gate, head):
        ref = gate.log_alpha.detach()
        ends = torch.tensor([THETA_MAX, -THETA_MAX], dtype=ref.dtype, device=ref.device)
        with torch.no_grad():
            prob = prob_nonzero(ends, gate.temperature, gate.gamma, gate.zeta)
        self.prob = prob.cpu().double().numpy()
        self.mean = gate_moments(ends.cpu().double().numpy(), gate.temperature,
                                 gate.gamma, gate.zeta)[0]
        self.ref, self.weight = ref, head.weight.detach()
        self.state = {k: v.detach().clone() for k, v in head.state_dict().items()}

    def point(self, lam, mask, B, value, n_iter):
        theta = torch.where(torch.as_tensor(mask, device=self.ref.device),
                            THETA_MAX, -THETA_MAX).to(self.ref.dtype)
        W = B / np.where(mask, self.mean[0], self.mean[1])[:, None]
        state = dict(self.state)
        state["weight"] = torch.as_tensor(W, dtype=self.weight.dtype,
                                          device=self.weight.device).reshape(self.weight.shape)
        return PathPoint(lam, np.flatnonzero(mask), np.where(mask, self.prob[0], self.prob[1]),
                         value, n_iter, theta, state)


def gate_path(
    problem, gate, head, lams, *, max_iter, learning_rate, alpha, generator,
    stop_size=0, tol=0.05, batch_size=None, callback=None, step_callback=None,
    budgets=None, warm_stop=None,
):
    """Fit the gates along ``lams`` (increasing), warm-starting each point.

    A linear head's points are each solved to convergence by the gate
    engine (at most ``max_iter`` L-BFGS-B iterations; ``budgets`` and the
    early-stop settings do not apply). For an MLP head (Adam on sampled
    gates) the first point takes up to ``max_iter`` steps, each later one up to a
    third (or up to ``budgets[i]`` steps, when given); a point ends early
    once its mask and expected number of open gates stand still (``tol``,
    see :func:`train_gates`; ``warm_stop``, a dict of ``check_every``,
    ``tol``, ``patience`` and ``compare_start``, overrides that test for
    the points after the first). The walk stops once at most
    ``stop_size`` gates are open (groups, for a gate with a ``layout``).

    Returns
    -------
    list of PathPoint
    """
    points = []
    layout = getattr(gate, "layout", None)  # a GroupGate counts groups

    def record(lam, value, n_iter):
        """Keep the gate and head as a point; True once the walk may stop."""
        with torch.no_grad():
            support = np.flatnonzero(gate.mask().cpu().numpy())
            probs = gate.prob_open().cpu().double().numpy()
        points.append(PathPoint(
            float(lam), support, probs, value, n_iter, gate.log_alpha.detach().clone(),
            {k_: v.detach().clone() for k_, v in head.state_dict().items()},
        ))
        if callback is not None:
            callback(len(points) - 1, float(lam), support.size)
        return (support.size if layout is None else layout.count(support)) <= stop_size

    if profiled(problem, head) and layout is None:
        # Squared loss from a Gram matrix: exact vertex solutions, one
        # objective for the whole path, no search where lam stays inside
        # the previous vertex's interval of optimality. A vertex's gate and
        # head follow from (mask, B) alone, so its point is built from them
        # (no round trip through the modules per point); the modules are
        # set once, at the last point.
        vertex = _VertexRecorder(gate, head)
        last = None
        for lam, mask, B, value, n_moves in vertex_path(
            problem, gate, head, lams, alpha=alpha
        ):
            last = (mask, B)
            if step_callback is not None:
                step_callback(n_moves, value, int(mask.sum()))
            points.append(vertex.point(float(lam), mask, B, value, n_moves))
            if callback is not None:
                callback(len(points) - 1, float(lam), points[-1].support.size)
            if points[-1].support.size <= stop_size:
                break
        if last is not None:
            set_vertex(gate, head, *last)
        if points and points[-1].support.size <= stop_size:
            return points
    for i, lam in enumerate(lams):
        if i < len(points):
            continue  # solved by the vertex path
        iters = max_iter if i == 0 else max(1, max_iter // 3)
        if budgets is not None:
            iters = int(budgets[i])
        if getattr(head, "is_linear", False):
            iters = max_iter  # L-BFGS-B iterations: each point is solved to convergence
        stop = dict(check_every=10, tol=tol)
        if i > 0 and warm_stop is not None:
            stop.update(warm_stop)
        res = train_gates(
            problem, gate, head, lam=float(lam), max_iter=iters,
            learning_rate=learning_rate, alpha=alpha, generator=generator,
            batch_size=batch_size, callback=step_callback, **stop,
        )
        if record(lam, res.loss_curve[-1], res.n_iter):
            break
    return points


def survival_ranking(points):
    """Order features by how long they stay open along a path.

    Returns the feature indices, most persistent first: the primary key is
    the last path index at which a feature was open, the secondary key its
    probability of being open at the first point where it was closed.
    """
    p = points[0].prob_open.size
    last_open = np.full(p, -1)
    tie = np.zeros(p)
    for i, pt in enumerate(points):
        open_now = np.zeros(p, dtype=bool)
        open_now[pt.support] = True
        last_open[open_now] = i
        closing = ~open_now & (last_open == i - 1)
        tie[closing] = pt.prob_open[closing]
    final = points[-1]
    still_open = last_open == len(points) - 1
    tie[still_open] = final.prob_open[still_open]
    return np.lexsort((-tie, -last_open))


def _deviance(problem, head, loss):
    n = problem.n_samples
    if problem.datafit.supports_gram:
        with torch.no_grad():
            if problem.kind == "gram":
                V = head.weight
                mse = problem.yy - 2 * (V * problem.c).sum(0) + (V * (problem.G @ V)).sum(0)
            else:
                ones = torch.ones_like(problem.mean)
                pred = problem.predict(head, ones)
                mse = (problem.w[:, None] * (pred - problem.Y) ** 2).sum(0)
        mse = torch.clamp(mse, min=torch.finfo(mse.dtype).tiny)
        # A datafit that stands for another loss through a quadratic model
        # (the Dask classifier's IRLS step) maps the mean squared error to
        # that loss's deviance.
        deviance = getattr(problem.datafit, "gram_deviance", None)
        if deviance is not None:
            return float(deviance(mse))
        return float(n * torch.log(mse).sum())
    return 2.0 * n * loss


def select_by_ebic(problem, points, alpha):
    """Score the best support found at each size by EBIC and keep the lowest.

    The candidates of a size ``s`` are the path's supports of that size
    and, for squared loss, their best-subset polish (:func:`skl0._splice.splice`,
    which only lowers the refitted RSS at the same size): EBIC charges the
    same price to every support of one size, so the lowest-RSS support found
    at each size is the only one it can prefer. Each candidate is refitted
    (no shrinkage) once.

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
    from ._splice import make_refits, shared_refits, swap_search

    n, p, q = problem.n_samples, problem.n_features, problem.datafit.n_outputs
    p_all = problem.n_candidates  # all columns when the problem was screened
    s_max = max_support_size(n, p_all)
    cache, criteria = {}, []

    refits = shared_refits(problem, alpha)  # shared between sizes
    # A Gram problem's candidates are scored from the refits' own weights in
    # numpy; only the chosen support's head is built (at the end).
    gram = problem.kind == "gram" and getattr(problem.datafit, "gram_deviance", None) is None
    if gram:
        yy = problem.yy.detach().cpu().double().numpy().reshape(-1)
        tiny = torch.finfo(problem.G.dtype).tiny

    def score(support, state=None, loss=None, run_refits=None):
        """EBIC of ``support``; ``state``/``loss``: its refit, when already made."""
        key = support.tobytes()
        if key not in cache:
            if gram:
                if state is None:
                    state, loss = refits.fit(support)
                mse = yy
                if support.size:
                    beta = state[0]
                    G_SS = refits.G.take(support, 0).take(support, 1)
                    mse = yy - 2 * (beta * refits.c[support]).sum(0) + (beta * (G_SS @ beta)).sum(0)
                deviance = float(n * np.log(np.maximum(mse, tiny)).sum())
                head = (refits, state)  # the head, built if chosen
            else:
                if state is None:
                    head, loss = refit_linear_head(problem, support, alpha=alpha)
                else:
                    head = run_refits.head(problem, support, state)
                deviance = _deviance(problem, head, loss)
            cache[key] = (ebic(deviance, support.size, n, p_all, q), head, support)
        return cache[key][0]

    for pt in points:
        criteria.append(score(pt.support) if pt.support.size <= s_max else math.inf)
    if not cache:  # every point too large: fall back to the sparsest one
        pt = min(points, key=lambda pt_: pt_.support.size)
        head, _ = refit_linear_head(problem, pt.support, alpha=alpha)
        return pt, head, criteria
    by_size = {}
    for i, pt in enumerate(points):
        if math.isfinite(criteria[i]) and (
            pt.support.size not in by_size or criteria[i] < criteria[by_size[pt.support.size]]
        ):
            by_size[pt.support.size] = i
    best = (min(criteria), int(np.argmin(criteria)), points[int(np.argmin(criteria))].support)
    # Sizes 1, 2, ... up to the largest admissible one (at most the path's
    # largest support), until _PATIENCE sizes in a row fail to lower the
    # lowest EBIC of the polished supports (EBIC along the best subsets
    # falls, then rises); a size the walk stepped over (a jump from above
    # s_max to below it included) starts from the survival ranking's top
    # features.
    ranking = survival_ranking(points)
    top = min(s_max, max(pt.support.size for pt in points), p - 1)

    def report_point(size):
        # The path's own point of this size, else the nearest denser one (whose
        # open gates most likely include a polished support's features), so
        # that lam_ and feature_importances_ come from that point.
        if size in by_size:
            return by_size[size]
        return min(range(len(points)), key=lambda j: (
            points[j].support.size < size, abs(points[j].support.size - size)))

    def start(size):
        i = report_point(size)
        return points[i].support if size in by_size else np.sort(ranking[:size])

    def polish(size):
        nonlocal best
        run_refits = make_refits(problem, alpha) if refits is None else refits
        support, state, loss = swap_search(problem, start(size), alpha, refits=run_refits)
        support = np.asarray(support, dtype=np.int64)
        value = score(support, state, loss, run_refits)
        if value < best[0]:
            best = (value, report_point(size), support)
        return value

    misses, lowest = 0, math.inf
    for size in range(1, top + 1):
        value = polish(size)
        misses = 0 if value < lowest else misses + 1
        lowest = min(lowest, value)
        if misses >= _PATIENCE:
            break
    value, i, support = best
    chosen = replace(points[i], support=support)
    head = cache[support.tobytes()][1]
    if isinstance(head, tuple):
        head = head[0].head(problem, support, head[1])
    return chosen, head, criteria
