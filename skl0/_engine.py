"""The gate engine of linear heads: a deterministic objective, solved by vertex search, IRLS or L-BFGS-B.

With independent Hard Concrete gates ``z_j`` on the standardized features
and head weights ``W`` (p x q), the prediction is ``f = Xs (z * W) + b``.
Write ``B = E[z] * W`` for the expected effective weights and
``h_j = E[z_j]^2 / E[z_j^2]`` (:func:`skl0.nn.signal_fraction`). Then
``E f = Xs B + b`` and ``Var(f_ik) = sum_j xs_ij^2 (1 / h_j - 1) B_jk^2``,
so for squared loss the expectation over the gates is exact (Louizos et
al. 2017 sample it instead)::

    E || y - f ||^2_w = || y - Xs B - b ||^2_w + sum_j (1 / h_j - 1) d_j ||B_j||^2

with ``d_j = sum_i w_i xs_ij^2 = (X'WX)_jj``. For the log losses the same
right-hand side with ``kappa = 1/8`` (binary) or ``1/4`` (softmax) in
front of the sum is Boehning's upper bound on the expected loss (see
``_datafits.py``). The engine minimises::

    F(h, B, b) = loss(Xs B + b) + kappa sum_j (1 / h_j - 1) d_j ||B_j||^2
                 + alpha ||B||^2 + lam sum_j h_j,        h_j in [h(-8), h(8)]

a smooth, *deterministic* function: no noise is drawn, so the selected
support does not depend on ``random_state``, and a quasi-Newton method
(scipy's L-BFGS-B) needs a few to tens of iterations per path point where
Adam on sampled gates needed hundreds of steps.

The L0 price of a gate is ``lam * h_j``, not eq. 12's ``lam * P(z_j != 0)``:
both are 0 for a closed and 1 for an open gate, but between the two only
``h`` makes each gate's objective monotone for an orthogonal design
(``F_j = (lam - d_j B_j^2) h_j``: the gate runs to open or closed as hard
thresholding at ``lam`` would, with no barrier in between). With
``P(z != 0)`` and the exact expected loss, both ends are local minima for
every ``lam`` between 0.46 and 3.9 times the gate's loss reduction, so a
deterministic solver never closes a gate that the data once opened. The
solver works in ``h`` directly (well conditioned at both ends): jointly
with ``V = B / h`` and ``b`` (:meth:`skl0._objective.GateObjective.host_fun`), or, for
Gram problems of at most 4096 features, in ``h`` alone with ``B`` solved
out (:class:`skl0._vertex._ProfiledGram`). There ``F`` is concave along each gate
(unless ``alpha`` outweighs a column's correlation with the open ones), so
its minima are vertices, every gate fully open or closed: an exact flip
search over vertices (:meth:`skl0._vertex._ProfiledGram.vertex_search`) finds one, and
L-BFGS-B runs only where that vertex is not a KKT point. A binary log
loss on small or wide data starts from Newton steps (IRLS) whose quadratic models
are such Gram problems (:func:`skl0._irls._irls_vertex_start`), and so does a
multinomial one outside the estimators' own walks, whose weights Newton's
method then solves with the gates held at the start's vertex
(:func:`skl0._irls._softmax_vertex_newton`; L-BFGS-B only where that is not a KKT
point). The gate's ``log_alpha`` is ``h``'s inverse
(:func:`skl0.nn.log_alpha_for_signal`) and ``W = B / E[z]``, so
``prob_open``, the eq. 13 test-time gate and the mask read as for any
gate.

The arithmetic runs on numpy/scipy in float64 when the data is on the CPU
(``X`` itself is never copied or upcast: products are formed in ``X``'s
dtype) and on torch tensors on the data's device otherwise (the same code
through the :class:`skl0._objective.TorchOps` namespace; only the parameter vector
travels to the host for L-BFGS-B).

This module holds the solves (:func:`solve_gates`, :func:`vertex_gates`)
and the Gram paths (:func:`vertex_path`). Below it, each importing none
of the ones above: :mod:`skl0._irls` (the log losses' Newton starts),
:mod:`skl0._refit_newton` (the refits' Newton and L-BFGS-B solvers, which
IRLS borrows), :mod:`skl0._host_design` (the standardized X as the
host-side solves read it), :mod:`skl0._objective` (``F``, its gradient,
the array namespaces), :mod:`skl0._vertex` (the exact vertex search of
Gram problems, numpy only) and :mod:`skl0._threads` (a small fit's
thread limits).

Torch, numpy and scipy only; no scikit-learn here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import OptimizeResult, minimize

from . import _host_design, _irls, _vertex
from ._host_design import _HostDesign
from ._objective import THETA_MAX, GateObjective, gate_bounds
from ._threads import blas_threads
from ._vertex import _FTOL, _GTOL, _dead_gates, _ProfiledGram
from .nn.hard_concrete import gate_moments, log_alpha_for_signal, signal_fraction

__all__ = ["profiled", "set_vertex", "solve_gates", "vertex_gates", "vertex_path"]


# Gram problems with at most this many features are solved in h alone
# (:class:`skl0._vertex._ProfiledGram`: a vertex search over the open columns' ridge
# system, pivoted or refactored at each round); larger ones jointly in (h, V, b) by
# L-BFGS-B, O(p^2 q) per evaluation. At every width measured, 600 to 4096
# columns, the vertex search reached lower objectives and ran paths faster
# (n = 2p, 10 true features: a 30-point path 0.21 vs 0.73 s at p=600 and
# 6.9 vs 15.7 s at p=4096; one fit at lam=0.01 or k=10 from 0.7x to 1.35x
# the joint solve's time, most of it forming X'X either way; the same on
# held-out designs, rho 0.8, seeds 1-3 at p=1000 and 1-2 at p=2000: lower
# objectives, paths 1.6-2.4x faster), so
# the limit is the memory one of the p x p statistics (the value of
# _problem.GRAM_MAX_FEATURES, which imports this module through _train;
# tests/test_engine.py checks the two agree): the search holds a few p x p
# float64 arrays besides G.
_PROFILE_MAX_FEATURES = 4096


# In exact k's walk (past _IRLS_COLD_OPEN columns) a cold start opens at most
# this many gates per selected one: the walk's first lam is placed where about
# 3k gates stay open (skl0._gate_path.k_path_start), and each open gate's Gram
# column is p numbers kept through the step (512 of them: 78 MB at p=2e4,
# where the 40000 x 20000 text-like CSR X is 99 MB). At 128 gates the
# supports of k=20 on three 40000 x 20000 text_like sets (seeds 5, 100, 101)
# were the same as at 512 (session 47).
_IRLS_K_COLD_OPEN = 8


# A warm IRLS start at a path point (``compete`` of :func:`solve_gates`: a
# point of l0_path, of the CV estimators' paths, of the automatic head's
# linear path) has the cold start of a fixed-lam fit run beside it, and the
# lower true F goes on. Session 49 first ran it only where the warm start
# left its open set as it was (d4ed718): on the held-out sets of
# benchmarks/warm_path.py that gave the same paths on 12 of 20 at
# 0.53-1.01x the CPU time, but left points above the cold fits on the
# others (up to 0.019 on make_classification 2000 x 100), and on digits,
# whose warm starts still moved a few gates, 8 of 16 points up to 0.75
# above (3, up to 0.026, with the cold start at every warm point).
_COLD_COMPETES = True


# Past the host copy's size, IRLS (on X itself, :class:`skl0._host_design._HostDesign`) starts
# binary log losses with at most this many rows per column: where the
# labels can be separated by a few hundred columns and warm-started
# L-BFGS-B in (h, V, b) keeps the huge weights of the separable points
# (16-point paths at n=3000, p=2000 and n=300, p=2e4 kept 31-620 columns
# at objectives up to 3.6 times the empty model's). With more rows per column
# the separable regime is rare (Candes & Sur 2020: the logistic MLE exists
# below p / n = 1/2 without signal, lower with it) and the joint solve
# is cheaper: exact k at n=1e5, p=1e3 took 2.0 / 4.5 CPU s against IRLS's
# 5.3 / 7.1 (seeds 0 / 1).
_IRLS_ROWS_PER_COLUMN = 4


# The estimators' own walks take no multinomial start; the binary one in
# exact k's walks wherever the other solves take it, and in lam="auto"'s
# within the host copy (HOST_COPY_MAX_NUMBERS). Until session 47 both
# walks kept it to at most 512 columns within the host copy: with
# refit=True each walk point ends once its gates settle, and when the wide
# start was added (3a93e40) the joint solve was ~4x cheaper there (n=3000,
# p=2000, lam="auto": 3.5 against 15 CPU s). The engine has changed since:
# on that development set (seed 0) the joint solve took 10.0 CPU s and
# 1944 iterations against IRLS's 6.7 s and 50, with the same support. On
# held-out sets (benchmarks/revision_ab.py --cases binary_wide, seeds
# 930-931) exact k took 0.34-0.71x the CPU time with the same supports;
# lam="auto" 0.51-0.87x within the host copy but 0.65-1.34x past it (X
# read itself: each IRLS step forms its Gram columns anew from X, where the
# warm joint solve needs few iterations a point), so it keeps the joint
# solve there.
# The multinomial start in the walks kept digits k=20 at the same held-out
# accuracy (0.956, every split the same) in 3.6 against 4.4 s, but the
# gates-only ranking (refit=False) fell on one split of five (0.818
# against 0.956): vertex solutions close many gates at one lam, and the
# ranking's tie-break by P(open) has nothing to go on.


#: With ``settle > 0`` (the walks of refitted estimators, whose supports are
#: refitted anyway) the IRLS start ends once its open set has stood still
#: for this many steps, and its point is the solution: the remaining Newton
#: steps, about two thirds of them on breast cancer, only converged the
#: weights.
_IRLS_SETTLE_STEPS = 2


#: A multinomial IRLS start at a warm point of a path outside the
#: estimators' walks (``solve_gates``' ``compete``: ``l0_path``, the CV
#: estimators' paths, the automatic head's linear path), and the cold start
#: that competes there, hands over to L-BFGS-B once its open set has stood
#: still for this many steps (the count of ``_IRLS_SETTLE_STEPS``, not
#: tuned). From there the isotropic model's steps only converge the weights
#: on a fixed set, at a linear rate, and L-BFGS-B polished every start
#: anyway: without this stop 127 of the 164 starts of a 5-class
#: ``L0ClassifierCV()`` on 3000 x 100 ran to the 30-step cap. A path's first
#: point (a cold start with no competitor) keeps the whole start: handed
#: over, iris's ended 5% above L-BFGS-B alone with scipy 1.11. So does a
#: single fixed-``lam`` solve: there L-BFGS-B from the handed-over weights
#: took longer (iris at ``lam=0.01`` 2.3x the CPU time, the same support;
#: docs/gates.md, "The multinomial start hands over at path points").
_IRLS_SOFTMAX_HANDOVER = _IRLS_SETTLE_STEPS


#: A row problem's solve may end once every gate has sat at a bound, with the
#: same gates open, for this many L-BFGS-B iterations (``solve_gates``'s
#: ``settle``): the weights are then refitted on the support anyway.
SETTLE_ITERATIONS = 10


def solve_gates(problem, gate, head, lam, *, alpha, max_iter, ops=None, check=None,
                sample_rows=False, settle=0, walk=False, compete=False):
    """Minimise :class:`skl0._objective.GateObjective` from the gate's and head's current values.

    ``gate.log_alpha``, ``head.weight`` and (for row problems) ``head.bias``
    are read as the starting point and overwritten with the solution, so a
    path warm-starts by calling this at increasing ``lam``.

    Parameters
    ----------
    problem : GramProblem or DirectProblem
    gate : skl0.nn.FeatureGate
    head : LinearHead
    lam, alpha : float
    max_iter : int
        L-BFGS-B iterations at most (the vertex search of a profiled Gram
        problem ends by itself, after at most ``4 p + 10`` accepted moves).
    ops : NumpyOps or TorchOps or None
    check : callable or None
        ``check(value, iteration)`` on the first and the final objective
        (the finiteness check of the training core).
    sample_rows : bool
        A cold start of a log loss on many rows first solves on every
        ``s``-th row (:func:`_warm_start_rows`). For a start at a ``lam``
        that keeps few gates open (the exact-``k`` path's first point): at
        a small ``lam`` the sample's solution opens gates that fit its own
        noise, and the solve on all rows then took longer from it than
        from the cold start (the 16-point ``lam="auto"`` walk at n=1e5,
        p=1e3: 951 against 498 iterations).
    settle : int
        With ``settle > 0``, the L-BFGS-B solve of a row problem ends once
        every gate has been at a bound of the box, with the same gates
        open, for ``settle`` consecutive iterations (the weights are then
        not converged: for callers that refit them on the support). On the
        logistic benchmark (n=1e5, p=1e3, k=10) the gates settled within
        6-127 iterations of the row sample's solve and did not move in the
        solve on all rows, which then took 18-104 more passes over X to
        converge the weights alone. A binary IRLS start (small or wide
        data) then ends once its open set has stood still for
        ``_IRLS_SETTLE_STEPS`` Newton steps, and its point is the solution
        (no L-BFGS-B). 0 solves to convergence.
    walk : False, "auto" or an int
        A point of an estimator's own ``lam="auto"`` walk, or of exact
        ``k``'s (``walk`` is then ``k``): the start before L-BFGS-B has a
        narrower scope there (:func:`_vertex_start`), and a cold IRLS start
        opens at most ``_IRLS_K_COLD_OPEN * k`` gates in exact ``k``'s.
    compete : bool
        A point of a path outside these walks (``l0_path``, the CV
        estimators' folds and final paths, the automatic head's linear
        path), after its first: a warm IRLS start then has the cold start
        of a fixed-``lam`` fit run beside it (``_COLD_COMPETES``), and
        the start of lower ``F`` goes on to
        L-BFGS-B (the steps of both count in ``n_iter``): past the point
        where the open columns separate the labels, the previous point's
        large weights make every gate look expensive to close in the IRLS
        model, and 16-point paths kept the same support over up to 8 points
        at objectives up to 0.52 above the cold fits' (0.78 on digits,
        whose warm starts still moved a few gates;
        ``benchmarks/warm_path.py``). Not the solves an estimator starts
        from a support it chose (a fixed ``lam``'s flip polish, whose cold
        start is the fit's own first solve; ``lam="auto"``'s gates at its
        chosen support, which are to be solved next to it). At its warm
        points a multinomial IRLS start, and its cold competitor, hand over
        to L-BFGS-B once their open set has stood still for
        ``_IRLS_SOFTMAX_HANDOVER`` steps. A warm start that no IRLS step
        lowers (a point whose weights are already solved: a multinomial
        point's by the Newton polish, a binary point's where its open set
        stays) meets the cold start all the same, at its own ``F``.

    Returns
    -------
    n_iter : int
    curve : list of float
        The objective after each iteration (flips of the vertex search, then
        L-BFGS-B iterations; the last entry at the solution, and a single
        entry when the start already was the solution).
    """
    n_sub = 0
    rows = _warm_start_rows(problem, head) if sample_rows else None
    if rows is not None:
        # Many more rows than columns: solve on every stride-th row first (a
        # few times cheaper per evaluation), then from there on all rows.
        n_sub, _ = solve_gates(problem.subset(rows), gate, head, lam, alpha=alpha,
                               max_iter=max_iter, ops=ops, settle=settle, walk=walk,
                               compete=compete)
    # A GroupGate (skl0._group_gate) has one gate per group of columns and a
    # price per gate; the solve then runs in the group coordinates.
    obj = GateObjective(problem, lam, alpha, ops, layout=getattr(gate, "layout", None))
    p, q, ng = obj.p, obj.q, obj.n_gates
    hc = (gate.temperature, gate.gamma, gate.zeta)
    theta = gate.log_alpha.detach().cpu().double().numpy().clip(-THETA_MAX, THETA_MAX)
    m, _ = gate_moments(theta, *hc)
    lo, hi = gate_bounds(gate)
    h0 = signal_fraction(theta, *hc).clip(lo, hi)
    B0 = obj.expand(m)[:, None] * head.weight.detach().cpu().double().numpy()
    profiled = problem.kind == "gram" and p <= _PROFILE_MAX_FEATURES
    if profiled:
        # h = 0 is a closed gate with B_j = 0 exactly (the profiled
        # objective is continuous there, see _ProfiledGram), so the box
        # reaches it and a gate closed at the previous path point restarts
        # there: the factorisation then only spans the open gates.
        lo = 0.0
        h0[theta <= -THETA_MAX] = 0.0
    if problem.kind == "gram" and not B0.any():
        # A cold start opens every gate: at the small lam where a path
        # starts, the solver then only has to close gates.
        h0 = np.full(ng, hi)
    dead = _dead_gates(obj.ops.to_host(obj.term.d), obj.layout, obj.lam)
    h0[dead] = lo  # (their bounds below hold them there)
    n_moves = 0
    if profiled:
        fun_of, x0 = _ProfiledGram(obj), h0
    else:
        parts = [h0, (B0 / obj.expand(h0)[:, None]).ravel()]
        if obj.term.fits_intercept:
            parts.append(head.bias.detach().cpu().double().numpy())
        fun_of, x0 = obj.host_fun, np.concatenate(parts)
    bounds = ([(lo, lo) if dead_g else (lo, hi) for dead_g in dead]
              + [(None, None)] * (x0.size - ng))
    last = {}

    def fun(x):
        value, grad = fun_of(x)
        if not (math.isfinite(value) and np.isfinite(grad).all()):
            if not last and check is not None:
                check(value if not math.isfinite(value) else math.nan, 0)  # the start
            # Let the line search back off; a non-finite solution is caught below.
            return math.inf, np.zeros_like(grad)
        last["f"] = value
        return value, grad

    curve = []
    with blas_threads(problem):
        res = None
        if profiled:
            # Minima lie at vertices (see _ProfiledGram.vertex_search): search
            # them by exact flips from the rounded start; L-BFGS-B then only
            # runs where the vertex is not a KKT point of the box (an interior
            # h can be optimal when alpha is large).
            try:
                mask, moves = fun_of.vertex_search(h0 >= 0.5 * hi, hi)
                n_moves, curve = len(moves), list(moves)
                x0 = np.where(mask, hi, 0.0)
                res = _kkt_point(fun, x0, lo, hi)
            except np.linalg.LinAlgError:
                pass  # non-finite statistics: L-BFGS-B's checks report them
        start_kind = None if res is not None or profiled else _vertex_start(
            problem, obj, head, walk)
        if start_kind is not None:
            # A log loss on small or wide data: Newton-type (IRLS) steps,
            # each an exact vertex search on a quadratic model, bring the
            # start next to the solution; L-BFGS-B then only polishes it.
            priced = walk in (False, "auto")
            cold = (_irls._IRLS_COLD_OPEN if priced
                    else min(_irls._IRLS_COLD_OPEN, _IRLS_K_COLD_OPEN * int(walk)))
            b0 = head.bias.detach().cpu().double().numpy()

            def irls_start(mask, B, b, share=False):
                return _irls._irls_vertex_start(
                    problem, obj, start_kind, mask, B, b, lo, hi,
                    settle=_IRLS_SETTLE_STEPS if settle > 0 and start_kind == "irls" else 0,
                    cold_open=cold, priced=priced, share=share,
                    handover=(_IRLS_SOFTMAX_HANDOVER if start_kind == "softmax" and compete
                              and (share or B.any()) else 0))

            start = irls_start(h0 >= 0.5 * hi, B0, b0)
            # A warm start that no step lowers (None: its weights already
            # solved at its vertex, as the Newton polish below leaves a
            # multinomial path's point, or as the previous point leaves a
            # binary one's whose open set stays: the weights on a fixed open
            # set do not depend on lam) still meets the cold start, at its
            # own F. (Binary starts were left out: their zero step then read
            # an ulp lower or higher, and that decided whether the cold start
            # ran at all. On breast cancer, a fold of L0ClassifierCV(cv=3,
            # n_lams=5) kept 12 features at an F 0.027 above the cold start's
            # 6 where X's moments came 1 ulp apart, prepared by torch.)
            polish = start_kind == "softmax" and _SOFTMAX_VERTEX_NEWTON  # (below)
            if compete and B0.any() and _COLD_COMPETES:
                # A warm start may be a local solution the path carried
                # along (see ``compete`` above): the cold start of a fixed-lam
                # fit competes, and the lower true F goes on to the polish.
                cold_start = irls_start(np.zeros(ng, dtype=bool), np.zeros_like(B0),
                                        np.zeros_like(b0), share=True)
                if cold_start is not None:
                    if start is None:
                        start = (x0, 0, [fun(x0)[0]], False)
                    best = min(start, cold_start, key=lambda s: s[2][-1])  # (a tie: the warm)
                    start = (best[0], start[1] + cold_start[1], best[2], best[3])
            if start is not None:
                x0, n_moves, values, settled = start
                curve = list(values)
                res = _kkt_point(fun, x0, lo, hi, settled=settled)
                if res is None and polish:
                    # The start's weights converge by Newton's method at its
                    # vertex; a KKT point there needs no L-BFGS-B.
                    polished = _irls._softmax_vertex_newton(problem, obj, x0, lo, hi,
                                                      _HostDesign(problem))
                    if polished is not None:
                        x0, n_newton = polished
                        n_moves += n_newton
                        res = _kkt_point(fun, x0, lo, hi)
        if res is None:
            res = minimize(
                fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                callback=_iteration_callback(curve, last, ng, lo, hi, settle),
                options={"maxiter": int(max_iter), "gtol": _GTOL, "ftol": _FTOL},
            )
    value = float(res.fun)
    n_iter = int(res.nit) + n_moves + n_sub
    if check is not None:
        check(value, n_iter)
    if curve:
        curve[-1] = value
    else:
        curve.append(value)
    h = res.x[:ng]
    if profiled:
        B, b = fun_of.weights(h), None
    else:
        hcol = obj.expand(h)
        B, b = hcol[:, None] * res.x[ng : ng + p * q].reshape(p, q), res.x[ng + p * q :]
    _set_gates(gate, head, log_alpha_for_signal(h, *hc).clip(-THETA_MAX, THETA_MAX), B,
               obj.expand)
    if obj.term.fits_intercept:
        with torch.no_grad():
            head.bias.copy_(torch.as_tensor(b, dtype=head.bias.dtype))
    return n_iter, curve


def vertex_gates(problem, gate, head, support, lam, *, alpha):
    """The logits :func:`solve_gates` gives ``gate`` from the vertex with ``support`` open, or None.

    Where ``problem`` is :func:`profiled` and ``gate`` has one gate per
    column, that solve, started at a vertex whose weights are not all
    zero, is a vertex search from it (:meth:`skl0._vertex._ProfiledGram.vertex_search`)
    that ends at a KKT point of the box or goes on by L-BFGS-B. This is
    that search, the same test of its end (:func:`_kkt_point`) and the
    same logits, in numpy only, for a caller that reads the gates alone:
    the head is not touched (its weights would be the vertex's ridge
    solution). None where the search does not end at a KKT point, where
    its statistics are not finite, or where this does not apply; the
    caller then solves with :func:`solve_gates`. After a :func:`vertex_path`
    on ``problem`` (same ``alpha`` and gate bounds) the search runs on that
    path's objective and reads the vertices it kept (the same numbers).
    """
    if not profiled(problem, head) or getattr(gate, "layout", None) is not None:
        return None
    hi = gate_bounds(gate)[1]
    # The last vertex path's objective on ``problem`` at this alpha and
    # h_open, with the vertices it ended at (kept where they depend on
    # their open gates alone: vertex_path): the search reads those it
    # reaches instead of making them again.
    path = problem.__dict__.get("_path_vertices")
    if path is not None and path[0] == (float(alpha), hi):
        fun_of, known = path[1], path[2]
        fun_of.lam = float(lam)
    else:
        fun_of, known = _ProfiledGram(GateObjective(problem, lam, alpha)), None
    mask = np.zeros(fun_of.c.shape[0], dtype=bool)
    mask[support] = True
    try:
        mask, _ = fun_of.vertex_search(mask, hi, known=known)
    except np.linalg.LinAlgError:
        return None
    h = np.where(mask, hi, 0.0)
    value, grad = fun_of(h)
    if not (math.isfinite(value) and np.isfinite(grad).all()):
        return None
    if _kkt_point(lambda x: (value, grad), h, 0.0, hi) is None:
        return None
    return log_alpha_for_signal(h, gate.temperature, gate.gamma, gate.zeta).clip(
        -THETA_MAX, THETA_MAX)


def _set_gates(gate, head, theta, B, expand=None):
    """``gate.log_alpha = theta`` and ``head.weight = B / E[z]`` (``expand``: groups to columns)."""
    m, _ = gate_moments(theta, gate.temperature, gate.gamma, gate.zeta)
    if expand is not None:
        m = expand(m)
    with torch.no_grad():
        gate.log_alpha.copy_(torch.as_tensor(theta, dtype=gate.log_alpha.dtype))
        head.weight.copy_(torch.as_tensor(B / m[:, None], dtype=head.weight.dtype))


def _iteration_callback(curve, last, n_gates, lo, hi, settle):
    """L-BFGS-B's callback in :func:`solve_gates`: record the objective; with
    ``settle > 0``, stop once every gate has sat at ``lo`` or ``hi`` with the
    same gates open for ``settle`` consecutive iterations."""
    state = {"mask": None, "still": 0}

    def callback(xk):
        curve.append(last["f"])
        if settle <= 0:
            return
        h = xk[:n_gates]
        mask = h >= hi
        if ((h <= lo) | mask).all() and state["mask"] is not None and (
            mask == state["mask"]).all():
            state["still"] += 1
        else:
            state["still"] = 0
        state["mask"] = mask
        if state["still"] >= settle:
            raise StopIteration  # scipy >= 1.11: minimize returns the current iterate

    return callback


#: Cold solves of row problems of at least this many numbers start from the
#: solution on every ``stride``-th row, ``stride = min(WARM_START_STRIDE, n //
#: (WARM_START_ROWS_PER_COLUMN * p))``, when that stride is at least 2.
WARM_START_MIN_NUMBERS = _host_design.HOST_COPY_MAX_NUMBERS
WARM_START_STRIDE = 8
WARM_START_ROWS_PER_COLUMN = 16


def _warm_start_rows(problem, head):
    """The rows (a slice) of the subsample :func:`solve_gates` starts from, or None.

    Every ``stride``-th row: a deterministic sample that is a view of a
    dense X (no copy), with n / stride >= ``WARM_START_ROWS_PER_COLUMN`` p
    rows.
    """
    if problem.kind != "rows" or not getattr(head, "is_linear", False):
        return None
    if head.weight.detach().any():
        return None  # a warm start (a path's next point) is already near its solution
    n, p = problem.X.shape
    stride = min(WARM_START_STRIDE, n // (WARM_START_ROWS_PER_COLUMN * max(p, 1)))
    if n * p < WARM_START_MIN_NUMBERS or stride < 2:
        return None
    rows = slice(None, None, stride)
    if not float(problem.w[rows].sum()) > 0:
        return None  # sample weights that vanish on the sampled rows
    return rows


def _vertex_start(problem, obj, head, walk=False):
    """Which start :func:`solve_gates` takes before L-BFGS-B on a row problem, or None.

    ``"irls"`` for a binary log loss, ``"softmax"`` for a multinomial one
    (the two models of :func:`skl0._irls._irls_vertex_start`): on a
    CPU problem of a linear head, dense or sparse, whose host copy fits or
    with at most ``_IRLS_ROWS_PER_COLUMN`` rows per column. In an
    estimator's own walk (``walk`` the ``k`` of exact ``k``, or ``"auto"``
    for ``lam="auto"``) never the multinomial start, and in a ``"auto"``
    walk the binary one only within the host copy.
    """
    from ._datafits import BinaryLogLoss, MultinomialLogLoss

    if problem.kind != "rows":
        return None  # (a Gram problem has no X: squared loss past the profiled size)
    kind = ("irls" if isinstance(problem.datafit, BinaryLogLoss)
            else "softmax" if isinstance(problem.datafit, MultinomialLogLoss) else None)
    X = problem.X
    dense = problem.host is None and X.layout == torch.strided
    if (kind is None or obj.layout is not None or not getattr(head, "is_linear", False)
            or not (dense or problem.host is not None)
            or problem.mean.device.type != "cpu"):
        return None
    n, p = X.shape
    fits = n * p <= _host_design.HOST_COPY_MAX_NUMBERS
    if not (fits or n <= _IRLS_ROWS_PER_COLUMN * p):
        return None
    if (walk and kind == "softmax") or (walk == "auto" and not fits):
        return None
    return kind


#: After a multinomial IRLS start, :func:`solve_gates` converges the weights
#: at the start's vertex by Newton's method (:func:`skl0._irls._softmax_vertex_newton`),
#: and L-BFGS-B runs only where the result is not a KKT point of the box.
#: L-BFGS-B alone had to converge them in the joint coordinates (h, V, b),
#: where the closed gates' V are nearly free: ~130 iterations a polish,
#: up to its cap of 300, with the open set fixed throughout. False: the
#: code path before it (``benchmarks/vertex_newton.py`` compares the two).
_SOFTMAX_VERTEX_NEWTON = True


def profiled(problem, head):
    """Whether a path on ``problem`` can run by :func:`vertex_path`."""
    return (getattr(head, "is_linear", False) and problem.kind == "gram"
            and problem.n_features <= _PROFILE_MAX_FEATURES)


def vertex_path(problem, gate, head, lams, *, alpha):
    """Solutions of a profiled Gram problem along increasing ``lams``, by vertex search.

    What :func:`solve_gates` computes at each ``lam`` in turn (warm-started
    from the previous solution), without its per-point set-up: one
    :class:`skl0._vertex._ProfiledGram` serves the whole path, and a ``lam`` inside the
    interval over which the previous vertex stays the solution
    (:meth:`skl0._vertex._ProfiledGram._stable_interval`) costs no search at all; one
    outside it starts from the previous vertex's pivoted system
    (:class:`skl0._linalg.PivotedSystem`: ``A_SS^-1``, the weights, the
    closed gates' residual correlations and Schur complements), which does
    not depend on ``lam``, and moves by pivoting it where a few gates flip
    (see :meth:`skl0._vertex._ProfiledGram.vertex_search`). Each yielded vertex's
    weights are those of a Cholesky factorisation of its open columns.
    ``gate`` and ``head`` give the start and are left unchanged.

    Yields
    ------
    lam : float
    mask : ndarray of bool
        The open gates.
    B : ndarray of shape (p, q)
        Effective weights (rows of closed gates are 0). A ``lam`` kept at
        the previous vertex gets the same ``mask`` and ``B`` arrays as the
        previous one (read them, do not write them).
    value : float
        The objective ``F`` at the solution.
    n_moves : int
        Accepted flips (0 when the previous solution was kept).

    The generator ends early, before the next ``lam``, when its vertex is
    not a KKT point of the box or the statistics are not finite: the caller
    goes on from the last yielded point with :func:`solve_gates`, whose
    L-BFGS-B and finiteness checks handle those cases.
    """
    fun_of = _ProfiledGram(GateObjective(problem, lams[0] if len(lams) else 0.0, alpha))
    hc = (gate.temperature, gate.gamma, gate.zeta)
    theta = gate.log_alpha.detach().cpu().double().numpy().clip(-THETA_MAX, THETA_MAX)
    h_open = gate_bounds(gate)[1]
    # Without pivots (at most 51 columns) a vertex's factor, weights, loss and
    # flip statistics depend on its open gates alone: the vertices the
    # searches end at are kept with the objective for vertex_gates (lam="auto"'s
    # solve at the chosen support, which often ends at one of them).
    known = None
    if fun_of.c.shape[0] ** 3 <= _vertex._PIVOT_OVERHEAD:
        known = {}
        problem.__dict__["_path_vertices"] = ((float(alpha), h_open), fun_of, known)
    if head.weight.detach().any():
        mask = (signal_fraction(theta, *hc) >= 0.5 * h_open) & (theta > -THETA_MAX)
    else:
        mask = np.ones(theta.size, dtype=bool)  # a cold start opens every gate
    stable, S, B_S, loss = (math.inf, -math.inf), None, None, None
    vertex = None  # (mask, B) of the current vertex, yielded at each of its lams
    for lam in lams:
        lam = float(lam)
        n_moves = 0
        if not stable[0] <= lam <= stable[1]:
            fun_of.lam = lam
            try:
                mask, moves = fun_of.vertex_search(mask, h_open)
            except np.linalg.LinAlgError:
                return
            if fun_of.stable is None or not fun_of.stable[0] <= lam <= fun_of.stable[1]:
                return  # not a KKT vertex (or the search was cut short)
            stable = fun_of.stable
            S, B_S, loss = fun_of.solution
            n_moves = len(moves)
            if known is not None:
                key, kept = fun_of._last_vertex
                known[key[0]] = kept
            vertex = None
        value = loss + lam * h_open * S.size
        if not math.isfinite(value):
            return
        if vertex is None:
            B = np.zeros_like(fun_of.c)
            B[S] = B_S
            vertex = (mask.copy(), B)
        yield lam, *vertex, value, n_moves


def set_vertex(gate, head, mask, B, expand=None):
    """Put ``gate`` and ``head`` at a vertex: open gates at ``THETA_MAX``, closed at ``-THETA_MAX``.

    As :func:`solve_gates` leaves them (``W = B / E[z]``; ``expand`` maps
    one gate per group to the columns, as in :func:`_set_gates`).
    """
    _set_gates(gate, head, np.where(mask, THETA_MAX, -THETA_MAX), B, expand)


def _kkt_point(fun, x, lo, hi, settled=False):
    """``x`` as the solution when its projected gradient (box ``[lo, hi]``) is below ``_GTOL``.

    L-BFGS-B's own first test, without its set-up cost (a path point whose
    vertex search already ended at a KKT point). Returns an object with
    L-BFGS-B's result fields, or None when ``x`` is not a KKT point.
    ``settled``: an IRLS start whose gates have settled (``settle > 0``),
    taken as the solution whatever its gradient, if its objective is finite.
    """
    value, grad = fun(x)
    if not math.isfinite(value):
        return None
    if settled:
        return OptimizeResult(x=x, fun=value, nit=0)
    pg = np.where(x <= lo, np.minimum(grad, 0.0), np.where(x >= hi, np.maximum(grad, 0.0), grad))
    if np.abs(pg).max(initial=0.0) > _GTOL:
        return None
    return OptimizeResult(x=x, fun=value, nit=0)

