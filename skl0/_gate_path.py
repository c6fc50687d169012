"""Regularization paths over ``lam``: the gate path and the exact-``k`` ranking.

A *gate path* fits the gates at an increasing geometric sequence of
``lam`` values, each point warm-started from the previous one (dense to
sparse, so that gates only close); ``l0_path``, the CV estimators,
``lam="auto"`` and exact ``k`` all walk one. How a point or a support is
chosen from a path (EBIC, the CV rules) lives in ``_criteria.py``.

exact ``k`` (:func:`survival_ranking`, :func:`k_path_start`)
    Walk the path (for a linear head from where ~3k gates stay open) until
    at most ``k`` gates are open and keep the ``k`` features that stayed
    open longest (ties broken by the probability of being open at the point
    where they closed); the estimators then polish them by swaps.

Torch, numpy, scipy and the standard library only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._engine import profiled, set_vertex, vertex_path
from ._objective import THETA_MAX, data_term, default_ops, gate_bounds
from ._train import train_gates
from ._vertex import gate_ridge
from .nn.hard_concrete import gate_moments, prob_nonzero

__all__ = ["PathPoint", "flip_polish", "flip_refits", "gate_path", "k_path_start", "lam_grid",
           "marginal_gains", "open_gates", "open_support_gates", "set_support_vertex",
           "survival_ranking"]


def open_gates(gate):
    """Sorted indices of the gates open at prediction time (``gate.mask()``).

    A path point's support, and what every reader of a fitted gate
    compares with it.
    """
    return np.flatnonzero(gate.mask().cpu().numpy())


def lam_grid(n_lams=16, lam_min=1e-4, lam_max=0.5):
    """Increasing geometric grid of ``lam`` values."""
    lo = math.log(lam_min)
    step = (math.log(lam_max) - lo) / (n_lams - 1) if n_lams > 1 else 0.0
    grid = np.exp(lo + step * np.arange(n_lams))
    if n_lams > 1:  # the ends exactly, as np.geomspace (a few times its speed)
        grid[0], grid[-1] = lam_min, lam_max
    elif n_lams == 1:
        grid[0] = lam_min
    return grid


def marginal_gains(problem, head=None):
    """Loss reduction of each feature alone, ``|dloss/dB_j|^2 / (4 kappa d_j)`` at ``B = 0``.

    Exact for squared loss (the squared correlation with the target, over
    the number of outputs); for a log loss the reduction of one Newton step
    under the curvature bound ``kappa``. Constant columns gain 0. ``head``:
    at its weights instead (the gain of each column added alone to that
    model, its residuals' correlation for squared loss).
    """
    from ._splice_refits import _residual_correlations

    grad2 = _residual_correlations(problem, head)
    ops = default_ops(problem)
    d = ops.to_host(data_term(problem, ops).d)
    kappa = problem.datafit.noise_curvature
    return np.where(d > 0, grad2 / (4 * kappa * np.maximum(d, 1e-300)), 0.0)


#: The exact-k path of a linear head starts where about this many times k
#: gates would stay open by their marginal loss reduction.
K_START_FACTOR = 3
#: ... and at most here, half the default grid's top (a larger estimate
#: is lowered to it; it used to send the path to the default grid's 1e-4).
K_START_MAX = 0.25


def k_path_start(problem, k, layout=None):
    """First ``lam`` of an exact-``k`` path: where ~``3 k`` gates stay open.

    A gate is worth keeping while its loss reduction exceeds ``lam`` (for an
    orthogonal design exactly, see ``_engine.py``); the reduction of feature
    ``j`` alone is ``|dloss/dB_j|^2 / (4 kappa d_j)`` at ``B = 0``. The path
    starts at the ``K_START_FACTOR * k``-th largest of these, so its points
    are spent near size ``k`` instead of on closing the many gates that no
    ranking near ``k`` needs. Returns None (the default grid, from 1e-4)
    when ``3 k`` reaches ``p - 1``: such a start would open (nearly) every
    gate anyway, and on correlated columns, whose marginal gains overstate
    what each adds to the others, it opened fewer than ``k`` and the path
    had to start again lower (diabetes, k=4: always). Also None when the
    start is not above the default grid's first point, 1e-4. A start above
    ``K_START_MAX`` is lowered to it, which leaves the grid room below its
    top (0.5) and opens more gates than the estimate, not fewer (strong,
    correlated columns: on breast cancer the 3rd and 6th largest gains lie
    above it, and ``k`` = 1 or 2 used to start the default grid from 1e-4
    instead, with 23 of 30 gates open).

    With a :class:`skl0._groups.GroupLayout`, ``k`` counts groups and a
    group's gain is the sum of its columns' over its cost (its price is
    ``lam`` times its cost).
    """
    m = K_START_FACTOR * k
    if m >= (problem.n_features if layout is None else layout.n_groups) - 1:
        return None
    gain = marginal_gains(problem)
    if layout is not None:
        gain = np.bincount(layout.index, weights=gain, minlength=layout.n_groups)
        gain = gain / np.maximum(layout.costs, 1e-12)
    lam = float(np.sort(gain)[::-1][m - 1])
    return min(lam, K_START_MAX) if lam > 1e-4 else None


class PathPoint:
    """One point of a gate path.

    ``lam``, ``support`` (open gates), ``prob_open``, ``loss`` (the
    objective there) and ``n_iter``; ``log_alpha`` and ``head_state`` are
    the gate's logits and the head's ``state_dict`` at the point. A point
    recorded from a vertex (:class:`_VertexRecorder`) makes those two
    torch objects, its ``prob_open`` and its linear head's ``weight`` (a
    float64 array in ``weights``, None for other points) on first access
    (only the chosen point's gate and head are ever read, and a path's
    ``prob_open`` only by some readers); its deterministic gates are 1 on
    ``support`` and 0 elsewhere. ``opened`` is the point's own open gates:
    its ``support``, kept by :meth:`with_support` (what ``open_gates`` reads
    from a gate set to the point's ``log_alpha``).
    """

    __slots__ = ("lam", "support", "opened", "loss", "n_iter", "_prob_open", "_weights",
                 "_log_alpha", "_head_state", "_vertex")

    def __init__(self, lam, support, prob_open, loss, n_iter, log_alpha=None,
                 head_state=None, vertex=None, weights=None):
        self.lam, self.support, self.opened, self._prob_open = lam, support, support, prob_open
        self.loss, self.n_iter = loss, n_iter
        self._log_alpha, self._head_state = log_alpha, head_state
        if vertex is None and head_state is None:
            self._head_state = {}
        # A vertex's (_Vertex): the gate, head, probabilities and weights made
        # from it on first access; its weights until with_support.
        self._vertex = vertex
        self._weights = _OF_VERTEX if vertex is not None else weights

    def __repr__(self):
        return (f"PathPoint(lam={self.lam!r}, support={self.support!r}, loss={self.loss!r}, "
                f"n_iter={self.n_iter!r})")

    def with_support(self, support):
        """A copy of the point with another ``support`` (the same gate and head state).

        Its ``weights`` are None: they were the vertex's, on the old support;
        ``opened`` stays the point's own open gates.
        """
        out = object.__new__(PathPoint)
        for name in PathPoint.__slots__:
            setattr(out, name, getattr(self, name))
        out.support, out._weights = support, None
        return out

    @property
    def prob_open(self):
        """Each gate's probability of being open at this point (float64 array)."""
        if self._prob_open is None and self._vertex is not None:
            self._prob_open = self._vertex.prob_open
        return self._prob_open

    @property
    def weights(self):
        """A vertex's linear head ``weight`` (float64 array), else None."""
        return self._vertex.weights if self._weights is _OF_VERTEX else self._weights

    @property
    def log_alpha(self):
        """The gate's logits at this point (a torch tensor)."""
        if self._log_alpha is None and self._vertex is not None:
            self._log_alpha = self._vertex.log_alpha()
        return self._log_alpha

    @property
    def head_state(self):
        """The head's ``state_dict`` at this point."""
        if self._head_state is None and self._vertex is not None:
            self._head_state = self._vertex.head_state()
        return self._head_state


#: A vertex point's ``weights`` before :meth:`PathPoint.with_support`: its vertex's.
_OF_VERTEX = object()


#: The early stop of a warm-started path point: the state at entry counts as
#: the first check, so a point whose mask and E[open gates] (within 0.05)
#: do not move over 5 steps ends there (see :func:`train_gates`).
WARM_STOP = dict(check_every=5, tol=0.05, patience=1, compare_start=True)


class _VertexRecorder:
    """Path points at vertices (open gates at ``THETA_MAX``, closed at ``-THETA_MAX``).

    What :func:`gate_path`'s ``record`` would read from the modules after
    :func:`skl0._engine.set_vertex`, computed from the mask and the
    effective weights ``B`` (:class:`_Vertex`): ``log_alpha``,
    ``prob_open`` and ``E[z]`` take one of two values per gate, and
    ``W = B / E[z]``.
    """

    def __init__(self, gate, head):
        ref = gate.log_alpha.detach()
        ends = np.array([THETA_MAX, -THETA_MAX])
        self.prob = prob_nonzero(ends, gate.temperature, gate.gamma, gate.zeta)
        self.mean = gate_moments(ends, gate.temperature, gate.gamma, gate.zeta)[0]
        self.ref, self.weight = ref, head.weight.detach()
        # (The weight is each vertex's own: not copied here, its key kept in place.)
        self.state = {k: None if k == "weight" else v.detach().clone()
                      for k, v in head.state_dict().items()}
        self._last = None  # (mask, B, support, _Vertex): the previous point's vertex

    def point(self, lam, mask, B, value, n_iter):
        # Points at one vertex (vertex_path yields the same mask and B
        # arrays for them) share its support and _Vertex.
        last = self._last
        if last is None or last[0] is not mask or last[1] is not B:
            last = self._last = (mask, B, np.flatnonzero(mask), _Vertex(self, mask, B))
        return PathPoint(lam, last[2], None, value, n_iter, vertex=last[3])


class _Vertex:
    """What the points at one vertex read, made on first access and shared by them.

    ``prob_open`` and ``weights`` (``W = B / E[z]``) are made once; each
    point makes its own ``log_alpha`` and ``head_state`` from them.
    """

    __slots__ = ("recorder", "mask", "B", "_prob_open", "_weights")

    def __init__(self, recorder, mask, B):
        self.recorder, self.mask, self.B = recorder, mask, B
        self._prob_open = self._weights = None

    @property
    def prob_open(self):
        if self._prob_open is None:
            prob = self.recorder.prob
            self._prob_open = np.where(self.mask, prob[0], prob[1])
        return self._prob_open

    @property
    def weights(self):
        if self._weights is None:
            mean = self.recorder.mean
            self._weights = self.B / np.where(self.mask, mean[0], mean[1])[:, None]
        return self._weights

    def log_alpha(self):
        return vertex_logits(self.mask, self.recorder.ref)

    def head_state(self):
        weight = self.recorder.weight
        state = dict(self.recorder.state)
        state["weight"] = torch.as_tensor(self.weights, dtype=weight.dtype,
                                          device=weight.device).reshape(weight.shape)
        return state


def flip_refits(problem, gate, head, alpha):
    """The refits :func:`flip_polish` uses on ``problem``, or None where it does not apply.

    A linear head on a log loss whose refits are cached (small CPU data,
    or a larger sparse CPU X read through its entries:
    :func:`skl0._splice_refits.shared_refits`), without groups or feature costs
    (whose prices are not one ``lam`` per column). A Gram problem's vertex
    search already prices every flip exactly. A multinomial loss's flips
    compare the gate objective at each support's vertex (open gates at
    their upper bound ``h_max``): the loss of a refit with the ridge
    ``alpha + c d (1 / h_max - 1)`` that the objective charges open
    weights there (``c`` the loss's noise curvature, ``d`` the columns'
    second moment, 1 once standardized), that ridge included
    (``penalised``). By the training loss alone, on 750 rows of 200
    columns and 10 classes at ``lam=0.001``, the flips took 195 columns
    to 167, the gates solved again from there ended higher than before
    (0.379 against 0.370), and the flips' 33 s were discarded.
    """
    # (_splice_refits imports _refit, which imports _train: imported here)
    from ._splice_multinomial import MultinomialRefits
    from ._splice_refits import shared_refits

    if (not getattr(head, "is_linear", False) or getattr(gate, "layout", None) is not None
            or problem.kind == "gram"):
        return None
    refits = shared_refits(problem, alpha)
    if isinstance(refits, MultinomialRefits):
        d = problem.column_second_moments().cpu().numpy()
        d = float(d[d > 0].mean()) if (d > 0).any() else 0.0
        ridge = gate_ridge(problem.datafit.noise_curvature * d, gate_bounds(gate)[1], alpha)
        refits = MultinomialRefits(problem, ridge, penalised=True)
    return refits


def vertex_logits(mask, like):
    """A vertex's logits as a tensor like ``like``: ``THETA_MAX`` where ``mask``, ``-THETA_MAX`` elsewhere.

    (As :func:`skl0._engine.set_vertex` sets them, in numpy there.)
    """
    return torch.where(torch.as_tensor(mask, device=like.device), THETA_MAX,
                       -THETA_MAX).to(like.dtype)


def _gate_mask(gate, support):
    """The gates of ``support``'s columns (one per group for a ``GroupGate``), as a bool mask."""
    layout = getattr(gate, "layout", None)  # a GroupGate: one gate per group
    mask = np.zeros(gate.log_alpha.numel(), dtype=bool)
    mask[support if layout is None else layout.groups_of(support)] = True
    return mask


def open_support_gates(gate, support):
    """Set ``gate``'s logits to ``support``'s vertex: ``THETA_MAX`` on it, ``-THETA_MAX`` elsewhere.

    The gates that an exact-``k`` model refitted on ``support`` applies
    (fully open on it, closed elsewhere), so that ``feature_importances_``
    (eq. 12 at these logits: 0.9999 and 0.0017) ranks the kept features
    first, as ``support_`` does.
    """
    with torch.no_grad():
        gate.log_alpha.copy_(vertex_logits(_gate_mask(gate, support), gate.log_alpha))


def set_support_vertex(gate, head, support, refitted):
    """Put ``gate`` and ``head`` at ``support``'s vertex, with the refitted head's weights and intercept.

    Open gates on ``support`` (closed elsewhere, :func:`skl0._engine.set_vertex`):
    the start of a gate solve from a support chosen outside the solve.
    """
    layout = getattr(gate, "layout", None)
    mask = _gate_mask(gate, support)
    set_vertex(gate, head, mask, refitted.weight.detach().cpu().double().numpy(),
               expand=None if layout is None else (lambda m: m[layout.index]))
    with torch.no_grad():
        head.bias.copy_(refitted.bias)


def flip_polish(problem, gate, head, support, lam, value, refits, solve, max_size=None,
                swaps=None):
    """Move the gates to a better vertex where exact flips from ``support`` find one.

    A log loss's gate solve judges each open/closed flip on quadratic
    models of the loss (the IRLS start) or follows the joint solve from a
    warm start, and both can stop where a single flip, refitted, lowers
    ``F``: a column that separates the classes is underrated by the model
    at ``B = 0``, and a walk's point with large weights on near-separable
    data cannot close a gate by small steps. From ``support``
    :func:`skl0._splice.penalised_flips` takes the refitted flips that lower
    the loss plus ``lam`` per feature (at most ``max_size`` features; with
    ``swaps``, refits of the same loss, also the best support of the same
    size where no flip improves);
    ``solve()`` (a :class:`skl0._train.TrainResult`) then solves the gates
    again from the vertex it ends at. Returns that result when its
    objective is below ``value`` (the gates and head stay there), else None
    (they are put back).
    """
    from ._splice import penalised_flips

    found, state, _ = penalised_flips(problem, support, lam, refits, max_size=max_size,
                                      swaps=swaps)
    if np.array_equal(found, support):
        return None
    saved = (gate.log_alpha.detach().clone(),
             {k_: v.detach().clone() for k_, v in head.state_dict().items()})
    set_support_vertex(gate, head, found, refits.head(problem, found, state))
    res = solve()
    moved = int(gate.mask().sum())
    if res.loss_curve[-1] < value and (max_size is None or moved <= max_size):
        return res
    with torch.no_grad():  # not lower: the first solution stands
        gate.log_alpha.copy_(saved[0])
    head.load_state_dict(saved[1])
    return None


def gate_path(
    problem, gate, head, lams, *, max_iter, learning_rate, alpha, generator,
    stop_size=0, tol=0.05, batch_size=None, callback=None, step_callback=None,
    budgets=None, warm_stop=None, sample_first=False, settle=0, walk=False, flips=False,
    leave_at_last=True,
):
    """Fit the gates along ``lams`` (increasing), warm-starting each point.

    A linear head's points are each solved to convergence by the gate
    engine (at most ``max_iter`` L-BFGS-B iterations, or until the gates
    settle with ``settle``; ``budgets`` and the
    early-stop settings do not apply); outside the estimators' own walks,
    a warm log-loss point also tries the cold start of a fixed-``lam`` fit
    and goes on from the lower objective (:func:`skl0._engine.solve_gates`). For an MLP head (Adam on sampled
    gates) the first point takes up to ``max_iter`` steps, each later one up to a
    third (or up to ``budgets[i]`` steps, when given); a point ends early
    once its mask and expected number of open gates stand still (``tol``,
    see :func:`train_gates`; ``warm_stop``, a dict of ``check_every``,
    ``tol``, ``patience`` and ``compare_start``, overrides that test for
    the points after the first). The walk stops once at most
    ``stop_size`` gates are open (groups, for a gate with a ``layout``).
    ``sample_first``: the first point of a linear head on many rows starts
    from the solution on a sample of the rows (``solve_gates``'s
    ``sample_rows``; for a first ``lam`` that keeps few gates open).
    ``settle``: a linear head's row-problem points end once their gates
    have settled (:func:`skl0._engine.solve_gates`), for callers that refit
    the weights on each support. ``walk`` (False, ``"auto"`` or exact ``k``'s
    ``k``): the path is an estimator's own ``lam="auto"`` or exact-``k`` walk
    (:func:`skl0._engine.solve_gates`).
    ``flips``: where :func:`flip_refits` applies (a log loss on small CPU
    data), check every point against exact single flips
    (:func:`flip_polish`): for a walk whose survival ranking is the
    selection (``refit=False``). ``leave_at_last=False``: a caller that
    puts the modules at a point of its own choosing next
    (:func:`skl0._walk.run_walk`) may find them anywhere once the path has
    ended; a Gram path that ends at its vertices then skips setting them at
    the last one. A multinomial walk's joint solve stops at local minima on near-separable data (iris's kept 4 columns at every
    ``lam``, at F 2.07 at ``lam=0.5`` where the empty model has 1.10: its
    large weights lock the gates open).

    Returns
    -------
    list of PathPoint
    """
    points = []
    layout = getattr(gate, "layout", None)  # a GroupGate counts groups

    def record(lam, value, n_iter):
        """Keep the gate and head as a point; True once the walk may stop."""
        with torch.no_grad():
            support = open_gates(gate)
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
        # set once, at the last point: where the solves below start from
        # it, or the caller reads them (leave_at_last).
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
        ended = (points and points[-1].support.size <= stop_size) or len(points) >= len(lams)
        if last is not None and (leave_at_last or not ended):
            set_vertex(gate, head, *last)
        if ended:
            return points
    refits = flip_refits(problem, gate, head, alpha) if flips else None
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

        def solve(compete=False):
            return train_gates(
                problem, gate, head, lam=float(lam), max_iter=iters,
                learning_rate=learning_rate, alpha=alpha, generator=generator,
                batch_size=batch_size, callback=step_callback,
                sample_rows=sample_first and i == 0, settle=settle, walk=walk,
                compete=compete, **stop,
            )

        # (A point of a path outside the estimators' walks: its warm start
        # competes with a cold one. Not flip_polish's solve from a vertex
        # it chose, whose cold start is this point's first solve's.)
        res = solve(compete=walk is False)
        n_iter = res.n_iter
        if refits is not None:
            support = open_gates(gate)
            better = flip_polish(problem, gate, head, support, float(lam),
                                 res.loss_curve[-1], refits, solve)
            if better is not None:
                res, n_iter = better, n_iter + better.n_iter
        if record(lam, res.loss_curve[-1], n_iter):
            break
    return points


def survival_ranking(points):
    """Order features by how long they stay open along a path.

    Returns the feature indices, most persistent first: the primary key is
    the last path index at which a feature was open, the secondary key its
    probability of being open at the first point where it was closed.
    """
    p, m = points[0].prob_open.size, len(points)
    # The last index open (-1: never); the tie is the probability at the
    # point after it (the one where the feature closed for good; the first
    # point for one never open), or at the last point for one still open.
    # (One pass over a points x features table, not a loop over the points.)
    sizes = [pt.support.size for pt in points]
    rows = np.repeat(np.arange(m), sizes)
    last_open = np.full(p, -1)
    np.maximum.at(last_open, np.concatenate([pt.support for pt in points]) if rows.size
                  else np.zeros(0, dtype=np.int64), rows)
    at = np.minimum(last_open + 1, m - 1)
    probs = np.stack([pt.prob_open for pt in points])
    tie = probs[at, np.arange(p)].astype(np.float64)
    return np.lexsort((-tie, -last_open))
