"""An estimator's own selection: the gate path for a fixed ``lam``, exact ``k`` or ``lam="auto"``, and the support chosen on it.

:func:`select` is what ``BaseL0.fit`` runs on its built problem (a walk
over a given grid, for :func:`skl0.l0_path` and the CV estimators, is
:func:`skl0._walk.run_walk` instead). It reads the fit's settings from a
:class:`Settings` made by the estimator, leaves the gate (and the head,
unless a refitted head replaces it) at the chosen point, and returns a
:class:`Selection`: the support, the refitted head where one was made on
the way, and what the estimator reports (``lam_``, ``n_iter_``,
``loss_curve_``, the held-out scores of an MLP head). Nothing is set on
the estimator.

Torch, numpy and the standard library at import (scikit-learn's
``ConvergenceWarning`` is imported where an MLP head's fixed-``lam`` solve
raises it); the warnings go through :mod:`skl0._warn`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._criteria import select_by_ebic, support_size_cap
from ._engine import SETTLE_ITERATIONS, vertex_gates
from ._gate_path import (
    WARM_STOP,
    flip_polish,
    flip_refits,
    gate_path,
    k_path_start,
    lam_grid,
    marginal_gains,
    open_gates,
    open_support_gates,
    set_support_vertex,
    survival_ranking,
)
from ._group_gate import GroupGate
from ._group_select import (
    exhaustive_groups,
    group_ranking,
    select_groups_by_ebic,
    splice_groups,
)
from ._heads import LinearHead
from ._nonlinear import held_out_scores, nonlinear_k_support, validated_path
from ._objective import THETA_MAX
from ._relevance import redundancy_ranking, signal_carriers
from ._splice import (
    exhaustive_search,
    forward_start,
    screening_start,
    splice_from_starts,
)
from ._splice_multinomial import MultinomialRefits
from ._splice_refits import row_gram_refits, same_loss_refits, selection_refits
from ._train import train_gates
from ._warn import warn
from .nn import FeatureGate

__all__ = ["Selection", "Settings", "gate_and_head", "select", "validation_split"]

# Points of the lam path for exact k (16 from 1e-4 to 0.5, as lam="auto"):
# each point of a linear head costs a few L-BFGS-B iterations and the swap
# search polishes the ranking (32 points gave the same exhaustive-optimum
# hits on diabetes and a correlated design, at twice the time); an MLP
# head's steps cost a pass over the rows each, and its ranking only has to
# order the columns the network needs (keep_redundant completes the rest).
_K_PATH_POINTS_LINEAR, _K_PATH_POINTS_MLP = 16, 16


def _convergence_warning():
    # scikit-learn's ConvergenceWarning, which users filter by: imported
    # where it is raised, so that the module itself needs no scikit-learn.
    from sklearn.exceptions import ConvergenceWarning

    return ConvergenceWarning


@dataclass(frozen=True)
class Settings:
    """What one fit's selection reads of its estimator, resolved for the fit.

    ``lam``: a number or ``"auto"``; ``k``: the fit's ``k`` (at most the
    columns or groups of X) or None, and ``k_param`` the user's, for
    messages; ``layout``: the engine's groups or feature costs, or None;
    ``keep_redundant``: resolved for the fit's head; ``classifier``: for
    the messages that name the CV estimator; ``compare_heads``: an MLP
    fit of ``hidden_layer_sizes="auto"``, which also scores a linear
    head's path on its held-out rows; ``count_weights(rule)``: the
    estimator's warning where a rule that reads a sample size is met.
    """

    lam: float | str
    k: int | None
    k_param: Any
    refit: bool
    alpha: float
    max_iter: int
    layout: Any
    keep_redundant: bool
    validation_fraction: float
    init_prob: float
    temperature: float
    classifier: bool = False
    compare_heads: bool = False
    count_weights: Callable[[str], None] = lambda rule: None

    def size(self, support):
        """Size of a support as ``k`` counts it: columns, or groups with ``groups``."""
        return support.size if self.layout is None else self.layout.count(support)


@dataclass
class Selection:
    """A selection's outcome: the support and what the estimator reports of it.

    ``refitted``: the head refitted on ``support`` where the selection made
    one (else None); ``validation_scores``: an MLP head's held-out score of
    each point; ``head_losses``: under ``Settings.compare_heads``, (the
    linear path's best held-out loss, the MLP's, its standard error).
    """

    support: np.ndarray
    refitted: Any
    lam: float
    n_iter: int
    loss_curve: list
    validation_scores: list | None = None
    head_losses: tuple | None = None


def gate_and_head(problem, head, layout, init_prob, temperature):
    """A fresh gate (per column, or per group of ``layout``) beside ``head``.

    ``head`` is already on ``problem``'s device and dtype (made there by
    the estimator's ``_make_head``); the gate is made there too. Every fit
    makes its gate here, a walk's (:mod:`skl0._walk`) as well.
    """
    device, dtype = problem.mean.device, problem.mean.dtype
    if layout is None:
        gate = FeatureGate._for_fit(problem.n_features, init_prob, temperature, device, dtype)
    else:
        gate = GroupGate(layout, init_prob=init_prob,
                         temperature=temperature).to(device=device, dtype=dtype)
    if problem.datafit.supports_gram and head.is_linear:
        # Targets and (virtually) features are centred, so the optimal
        # intercept is exactly 0; training it would only let Adam turn
        # round-off gradients into full-size steps.
        head.bias.requires_grad_(False)
    return gate, head


def validation_split(problem, gen, fraction):
    """(train, validation) sub-problems: ``fraction`` of the weight held out (``validation_fraction``).

    A row's side is drawn from its *content* (a random projection of its
    standardized features and target, folded into [0, 1): the same rows
    for X in any units), and the cut is a weighted
    quantile of that draw: identical rows land on the same side, so a
    weight of 3 splits exactly as 3 repeated rows (scikit-learn's
    frequency weights), and a duplicated row never sits on both sides.
    """
    n = problem.X.shape[0]
    n_val = max(1, int(round(fraction * n)))
    if n - n_val < 2:
        # At least one row is held out, so 2 samples cannot be split
        # whatever the fraction: lowering it is the fix only from 3.
        fix = ("lower it (below {:.3g}) or pass more data".format((n - 1.5) / n)
               if n >= 3 else "pass at least 3 samples (one is held out), or use the "
               "linear head, hidden_layer_sizes=()")
        raise ValueError(
            f"validation_fraction={fraction} leaves fewer than 2 "
            f"of the {n} samples for training; {fix}."
        )
    dtype, device = problem.mean.dtype, problem.mean.device
    # (float32 whatever torch's default dtype, which must not change the draw)
    g = torch.randn(problem.n_features + problem.Y.reshape(n, -1).shape[1], 1,
                    generator=gen, device=gen.device, dtype=torch.float32)
    # In float64: frac(|v| 997) of float32 sums of raw columns (prices of
    # 1e4) past 2^24 had few distinct values, and the ties held out many
    # times validation_fraction of the rows. (Row blocks: no float64 copy of X.)
    g = g.to(device=device, dtype=torch.float64)
    gx, gy = g[: problem.n_features], g[problem.n_features:]
    # The projection of the standardized rows, (X - mean) / std: the
    # draw, and so the fit, is the same for a column in other units (a
    # column times 2 held out other rows, and an MLP head's predictions
    # moved by a fifth of y's spread). A constant column adds nothing.
    std = problem.std.to(device=device, dtype=torch.float64)
    gx = gx / torch.where(std > 0, std, torch.ones_like(std))[:, None]
    shift = problem.mean.to(device=device, dtype=torch.float64) @ gx
    Y = problem.Y.reshape(n, -1).to(torch.float64)
    if dtype == torch.float64 or problem.X.layout != torch.strided:
        v = problem.X.to(torch.float64) @ gx
    else:
        v = torch.cat([problem.X[i:i + 65536].to(torch.float64) @ gx
                       for i in range(0, n, 65536)])
    v = v.reshape(-1) - shift + (Y @ gy).reshape(-1)
    u = torch.frac(torch.abs(v) * 997.0)
    order = torch.argsort(u)
    # In float64, and past the fraction by more than round-off: where
    # validation_fraction times the total weight is a whole number (0.1
    # of 170 rows), the cumulated share lands on the fraction itself,
    # and its last bit (1/170 + 1/170 or 2/170) put a weight-2 row and
    # its two repeats on different sides of the cut.
    wd = problem.w.to(torch.float64)
    cum = torch.cumsum(wd[order], 0) / wd.sum()
    tol = 4 * torch.finfo(problem.w.dtype).eps + n * torch.finfo(torch.float64).eps
    past = torch.nonzero(cum > fraction * (1 + tol)).reshape(-1)
    cut = u[order[past[0]]] if past.numel() else u.max()
    val = torch.nonzero(u < cut).reshape(-1)
    if val.numel() == 0 or float(problem.w[val].sum()) <= 0:  # one heavy row: its group
        val = torch.nonzero(u <= cut).reshape(-1)
    if val.numel() == 0 or n - val.numel() < 2 or float(problem.w[val].sum()) <= 0:
        val = order[:n_val]  # degenerate draws (few distinct rows): by position
    train_mask = torch.ones(n, dtype=torch.bool, device=device)
    train_mask[val] = False
    return problem.subset(torch.nonzero(train_mask).reshape(-1)), problem.subset(val)


def select(problem, gate, head, common, settings):
    """Train the gates and choose the support; returns a :class:`Selection`.

    Leaves ``gate`` at the chosen point, and ``head`` too unless the
    selection's ``refitted`` head is returned with ``refit=True``: the
    estimator then replaces ``head`` (by that head, or for a log loss by a
    refit from zero). ``common``: the solves' shared keywords, with
    ``report`` (the progress callback, or None) among them. The support
    is sorted.
    """
    s = settings
    common = dict(common)
    report = common.pop("report", None)
    start = None
    n_iter = 0
    if s.lam != "auto":
        # A fixed lam's support is the solve's own: solved to convergence
        # (a gate that sat open for ten iterations of the wine data's
        # solve closed later, as the weights converged).
        res = train_gates(
            problem, gate, head, lam=float(s.lam), max_iter=s.max_iter,
            callback=report, **common,
        )
        if not res.settled:  # an MLP head's Adam steps: a budget, not a solve
            warn(
                f"The selected features were still changing at the end of "
                f"max_iter={s.max_iter} Adam steps (lam={float(s.lam):g}): the open "
                "gates at the last step differ from those at the check before it (one "
                "every 25 steps), or the run was too short to have one. Raise max_iter "
                "(or lower learning_rate_init) for a settled selection.",
                _convergence_warning(),
            )
        support = open_gates(gate)
        if s.k is None or s.size(support) <= s.k:
            fixed = Selection(support, None, float(s.lam), res.n_iter, res.loss_curve)
            return _polish_fixed_lam(problem, gate, head, fixed, common, report, s)
        # k is the most features lam may keep (as SelectFromModel's
        # max_features beside its threshold): lam kept more, so the walk
        # of exact k goes on from lam until at most k gates are open.
        start, n_iter = float(s.lam), res.n_iter
    exact_k = s.k is not None
    # The walks of exact k and lam="auto" refit the weights on each
    # candidate support and polish it by swaps (exact k) or per size
    # (EBIC): a row problem's point may end once its gates have settled
    # at their bounds (solve_gates' settle), without converging the
    # weights.
    settle = SETTLE_ITERATIONS if s.refit and head.is_linear else 0
    if not head.is_linear and start is None:  # (a lam cap walks on from lam below)
        return _select_by_validation(problem, gate, head, common, report, s)
    # Exact k with an MLP head: a warm point that already stands still
    # ends after 5 steps (same F1, ~30% fewer steps on the benchmark's
    # tasks); lam="auto" keeps the longer points, which EBIC scores.
    warm_stop = WARM_STOP if exact_k and head.is_linear else None
    n_lams = 16
    if exact_k:
        n_lams = _K_PATH_POINTS_LINEAR if head.is_linear else _K_PATH_POINTS_MLP
    capped = start is not None
    layout = s.layout
    if not capped:
        start = (k_path_start(problem, s.k, layout)
                 if exact_k and head.is_linear else None)
    init = None if start is None or capped else (  # for a restart only
        gate.log_alpha.detach().clone(),
        {k_: v.detach().clone() for k_, v in head.state_dict().items()})
    while True:
        grid = lam_grid(n_lams=n_lams, lam_min=start or 1e-4,
                        lam_max=max(0.5, 100 * start) if capped else 0.5)
        points = gate_path(
            problem, gate, head, grid,
            max_iter=s.max_iter, stop_size=s.k if exact_k else 0,
            step_callback=report, warm_stop=warm_stop,
            # The exact-k start keeps ~3k gates open: few enough for a
            # solve on a sample of the rows to start the first point.
            sample_first=exact_k and start is not None and not capped, settle=settle,
            walk=s.k if exact_k else "auto", flips=not s.refit,
            # The modules are set below from the chosen point (the gate's
            # logits, the head's state or the refit that replaces it), so
            # a Gram path ended at its vertices leaves them as they are.
            leave_at_last=False, **common,
        )
        n_iter += sum(pt.n_iter for pt in points)
        if capped or start is None or s.size(points[0].support) >= s.k:
            break
        # The start was past the k-th gate to close (correlated columns
        # share their marginal gains): start ten times lower, from scratch.
        start = start / 10 if start / 10 > 1e-4 else None
        with torch.no_grad():
            gate.log_alpha.copy_(init[0])
        head.load_state_dict(init[1])
    loss_curve = [pt.loss for pt in points]
    refitted, resolve_at_support = None, False
    if exact_k and layout is not None:
        chosen = next((pt for pt in points if s.size(pt.support) <= s.k), points[-1])
        support, refitted = _select_groups(problem, layout, points, chosen, head, s)
    elif exact_k:
        chosen = next((pt for pt in points if pt.support.size <= s.k), points[-1])
        order = survival_ranking(points)
        if s.keep_redundant:
            # All-relevant: columns the chosen ones explain come before
            # less persistent ones (no best-subset polish, which would
            # swap them back out for the loss's minimal set).
            support = np.sort(redundancy_ranking(problem, order, s.k))
        else:
            support = np.sort(order[: s.k])
        if head.is_linear and s.refit and not s.keep_redundant:
            # Best-subset polish from the gates' choice, from screening and
            # (Gram problems, log loss on small data) from forward stepwise
            # selection, whose gains are exact or second order there. A
            # multinomial log loss is ranked at the ridge of
            # LogisticRegression(C=1) at least (selection_refits). A Gram
            # problem with few supports of size k scores them all instead,
            # and so does a small binary log loss (exhaustive_search); a
            # small log loss's search screens them (or the end's single
            # and pair swaps, refitting every single swap where cheap)
            # by a second-order model at its end (_leave_by_screen).
            refits = selection_refits(problem, s.alpha, s.k)
            if isinstance(refits, MultinomialRefits):
                s.count_weights(f"k={s.k_param} with {refits.q} classes")
            found = exhaustive_search(problem, refits, s.k)  # few supports: all
            if found is not None:
                support, refitted = found[0], refits.head(problem, found[0], found[1])
            else:
                starts = [support, screening_start(problem, s.k)]
                if getattr(refits, "forward", False):
                    starts.append(forward_start(problem, s.k, s.alpha, refits=refits))
                support, refitted, _ = splice_from_starts(
                    problem, starts, alpha=s.alpha, refits=refits)
    elif layout is not None:
        chosen, refitted = select_groups_by_ebic(problem, layout, points, s.alpha)
        support = chosen.support
        resolve_at_support = s.refit and head.is_linear
    else:
        chosen, refitted, _ = select_by_ebic(problem, points, s.alpha)
        support = chosen.support
        _warn_at_size_cap(problem, support.size, s)
        resolve_at_support = s.refit and head.is_linear
    if exact_k and s.refit:
        # The support is the swap search's (or the k most persistent
        # gates'), which the point at lam_ may not hold open (iris k=2
        # read all 4 columns open, breast cancer k=8 four kept columns
        # closed): the gates reported are those the refitted model
        # applies, open on the support and closed elsewhere.
        open_support_gates(gate, support)
    elif not resolve_at_support or np.array_equal(chosen.opened, support):
        # (else gates_at_support sets every gate, from the support: the
        # point's logits, a tensor made per read, would not be read)
        with torch.no_grad():
            gate.log_alpha.copy_(chosen.log_alpha)
    if refitted is None or not s.refit:  # else the estimator's refit replaces it
        head.load_state_dict(chosen.head_state)
    if resolve_at_support:
        gates_at_support(problem, gate, head, support, refitted, chosen.lam, common, s,
                         opened=chosen.opened)
    return Selection(support, refitted, chosen.lam, n_iter, loss_curve)


def gates_at_support(problem, gate, head, support, refitted, lam, common, settings,
                     opened=None):
    """``lam="auto"``: leave the gates at ``lam``'s solution started from the chosen support.

    The per-size polish may choose features that the reported path
    point had closed: the breast cancer quick start kept 3 columns, 2 of
    them at P(open) 0.002 there. When the point's open gates are not the
    support, the gates are solved again at ``lam`` (the fit's ``lam_``)
    from the support's vertex (its open gates at the refitted weights), so
    that ``feature_importances_`` is the probability that each gate is open
    at ``lam_`` next to the chosen support: typically about 1 on it, and
    about 1 off it where ``lam_`` would also open a feature the
    criterion did not keep. The exported model is the refit on the
    support either way. (Exact ``k`` reports the refitted model's gates
    instead, open on the support: its ``lam_`` is where the walk first
    had at most ``k`` gates open, which may price a kept feature out,
    e.g. diabetes ``k=4``, so a solve there would close it again.)

    Only the gates are read afterwards (``feature_importances_``), so a
    row problem's solve ends once they have settled
    (``SETTLE_ITERATIONS`` L-BFGS-B iterations at their bounds with the
    same gates open, as the walk's points do) instead of converging the
    discarded weights as well: on wine this solve took as long as the
    16 points of the walk together.
    """
    # ``opened``: the open gates of the point the gates were taken from
    # (``PathPoint.opened``), which the gate would show (as the points read
    # it), when the caller has it.
    open_now = open_gates(gate) if opened is None else opened
    if np.array_equal(open_now, support):
        return
    if problem.datafit.supports_gram and refitted.weight.detach().any():
        # The refitted head replaces ``head`` (the estimator's refit), so
        # only the gates are wanted: a profiled Gram problem's solve from
        # the support's vertex is a vertex search, made in numpy without
        # setting the modules there first (the same logits). (Weights
        # all zero: the solve starts cold instead, as below.)
        theta = vertex_gates(problem, gate, head, support, lam, alpha=settings.alpha)
        if theta is not None:
            with torch.no_grad():
                gate.log_alpha.copy_(torch.as_tensor(theta, dtype=gate.log_alpha.dtype))
            return
    set_support_vertex(gate, head, support, refitted)
    train_gates(problem, gate, head, lam=lam, max_iter=settings.max_iter,
                settle=SETTLE_ITERATIONS, **common)


def _polish_fixed_lam(problem, gate, head, fixed, common, report, settings):
    """A fixed ``lam``'s support, moved to a better vertex where exact flips find one.

    A log loss's gate solve starts from IRLS over vertices, whose
    vertex search judges each open/closed flip on a quadratic model of
    the loss. That model underrates a column that separates the
    classes: iris at ``lam=0.5`` ended at the empty model (F 1.10)
    where one petal column has 0.65. :func:`skl0._gate_path.flip_polish`
    refits the few most promising single flips exactly and takes them
    while the refitted loss plus ``lam`` per feature falls (at most
    ``k`` features when ``k`` caps ``lam``); the gates are then solved
    again from that vertex, and that solution is kept when its
    objective is lower than the first's (where
    :func:`skl0._gate_path.flip_refits` applies: log losses on small
    CPU data, without groups or feature costs). ``fixed``: the solve's
    :class:`Selection`, returned with the polish's support and steps.
    """
    refits = flip_refits(problem, gate, head, settings.alpha)
    if refits is None:
        return fixed
    lam = fixed.lam
    res = flip_polish(
        problem, gate, head, fixed.support, lam, fixed.loss_curve[-1], refits,
        lambda: train_gates(problem, gate, head, lam=lam, max_iter=settings.max_iter,
                            callback=report, **common),
        max_size=settings.k, swaps=same_loss_refits(problem, refits, settings.alpha))
    if res is None:
        return fixed
    fixed.n_iter += res.n_iter
    fixed.loss_curve = list(fixed.loss_curve) + list(res.loss_curve)
    fixed.support = open_gates(gate)
    return fixed


def _select_groups(problem, layout, points, chosen, head, settings):
    """Exact k over groups: the k most persistent groups, polished by group swaps.

    With costs the polish minimises the refitted loss plus ``lam``
    (of the point where k groups stayed open) times the kept groups'
    cost, the gates' own objective: between two near-equally useful
    groups the cheaper one is kept. Returns (column support, refitted
    head or None).
    """
    k, alpha = settings.k, settings.alpha
    order = group_ranking(layout, points)
    groups = np.sort(order[:k])
    if not (head.is_linear and settings.refit):  # (keep_redundant does not apply to groups)
        return layout.columns(groups), None
    lam_cost = chosen.lam if layout.raw_costs is not None else 0.0
    starts = [groups]
    gain = marginal_gains(problem)
    ggain = np.bincount(layout.index, weights=gain, minlength=layout.n_groups)
    ggain = ggain - lam_cost * layout.costs
    starts.append(np.sort(np.argsort(-ggain, kind="stable")[:k]))
    # A row problem of squared loss: both searches refit from its X'WX
    # where that costs less than the rows' refits (as exact k's columns).
    largest = int(np.sort(layout.sizes)[::-1][:k].sum())
    refits = row_gram_refits(problem, alpha, largest)
    # Few sets of k groups (squared loss, a small binary log loss): all
    # of them scored, as exact k's columns are (exhaustive_search).
    found = exhaustive_groups(problem, layout, k, alpha, lam_cost,
                              refits=refits if problem.kind == "rows" else None)
    if found is not None:
        return layout.columns(found[0]), found[1]
    best = None
    for start in starts:
        out = splice_groups(problem, layout, start, alpha=alpha, lam_cost=lam_cost,
                            refits=refits)
        value = out[2] + lam_cost * layout.cost(out[0])
        if best is None or value < best[0]:
            best = (value, out)
    groups, refitted, _ = best[1]
    return layout.columns(groups), refitted


def _warn_at_size_cap(problem, size, settings):
    """Warn when lam="auto" chose the largest support its criterion admits."""
    n, p = problem.n_samples, problem.n_candidates
    cap, rule = support_size_cap(n, p)
    if size < cap or size >= p:  # (every feature kept: none left to be relevant)
        return
    cv = "L0ClassifierCV" if settings.classifier else "L0RegressorCV"
    rule = {
        "rows": f"n - 2 = {cap}: one more, with the intercept, would interpolate",
        "formula": f"n / (log log n * log p) = {cap}",
        "features": f"p = {cap}",
        "floor": ("one feature is always considered, though with these n and p "
                  "the bound min(n / (log log n * log p), n - 2) is below 1"),
    }[rule]
    warn(
        f"lam='auto' kept {size} features, the most its information criterion "
        f"considers with n={n:.4g} samples and p={p} features "
        f"({rule}); more of them may be relevant. Pass k "
        f"to keep a given number (e.g. k={min(2 * cap, p)}), or choose lam by "
        f"cross-validation with {cv} (or L0FeatureSelectorCV), which has no such cap.",
    )


def _select_by_validation(problem, gate, head, common, report, settings):
    """Nonlinear heads: ``lam="auto"`` by held-out loss, or exact ``k``.

    The gate path is fitted on ``1 - validation_fraction`` of the rows;
    each point is scored by the mean task loss of its deterministic
    gates on the held-out rows, and the sparsest point not significantly
    worse than the best (paired test of the per-sample losses at
    family-wise 5%, :func:`skl0._nonlinear.validated_point`) is
    *validated*; the empty model is compared too, and where it is
    validated ``lam="auto"`` keeps no column (its gates closed at the
    last ``lam``). ``lam="auto"`` keeps its support (information
    criteria need a parameter count, which a network does not have);
    exact ``k`` fills its slots from it (:mod:`skl0._nonlinear`).
    """
    s = settings
    train, val = validation_split(problem, common["generator"], s.validation_fraction)
    points, scores, chosen = validated_path(
        train, val, gate, head, max_iter=s.max_iter, common=common, report=report
    )
    head_losses = None
    if not bool(problem.Y.any()):
        # A constant regression target (standardized to zeros): every
        # support predicts it, and the empty model is the sparsest. The
        # held-out test compared the networks' round-off-sized losses
        # (4e-8 against the empty model's 3e-4, with no spread) and
        # kept every column of X.
        chosen = None
    if s.compare_heads:
        best = min(scores)
        head_losses = (_linear_held_out_loss(train, val, common, s), *best)
    support = np.zeros(0, dtype=np.intp) if chosen is None else points[chosen].support
    layout = s.layout
    if s.k is not None and layout is not None:
        # Groups: whole groups in the order their columns are taken
        # (validated support first, then gate survival).
        order = nonlinear_k_support(problem, points, chosen, problem.n_features, False)
        support = layout.columns(np.sort(layout.group_order(order)[: s.k]))
    elif s.k is not None:
        support = np.sort(nonlinear_k_support(
            problem, points, chosen, s.k, s.keep_redundant))
    elif layout is None and s.keep_redundant:
        # lam="auto", all-relevant: the validated support and every
        # column that carries its signal (as exact k's second tier).
        support = np.sort(signal_carriers(problem, support))
    empty = chosen is None and s.k is None
    if s.k is not None:
        # lam_ and the gates reported: the first point with at most k open
        chosen = next((i for i, pt in enumerate(points) if s.size(pt.support) <= s.k),
                      len(points) - 1)
    elif empty:  # the empty model: the last lam, every gate closed
        chosen = len(points) - 1
    pt = points[chosen]
    if s.k is not None and s.refit:
        # As a linear head's exact k: the gates the refitted network
        # applies (the point at lam_ may hold other columns open).
        open_support_gates(gate, support)
    else:
        with torch.no_grad():
            gate.log_alpha.copy_(pt.log_alpha)
            if empty:
                gate.log_alpha.fill_(-THETA_MAX)
    head.load_state_dict(pt.head_state)
    return Selection(support, None, pt.lam, sum(p_.n_iter for p_ in points),
                     [p_.loss for p_ in points], validation_scores=[s_[0] for s_ in scores],
                     head_losses=head_losses)


def _linear_held_out_loss(train, val, common, settings):
    """Best held-out loss along a linear head's path on the same rows (auto head)."""
    gate, head = gate_and_head(
        train, LinearHead(train.n_features, train.datafit.n_outputs,
                          device=train.mean.device, dtype=train.mean.dtype),
        settings.layout, settings.init_prob, settings.temperature)
    points = gate_path(train, gate, head, lam_grid(), max_iter=settings.max_iter, **common)
    return min(held_out_scores(val, gate, head, points))[0]
