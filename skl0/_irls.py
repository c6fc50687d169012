"""IRLS over vertices: the Newton starts of the log losses' gate solves.

Each step of :func:`_irls_vertex_start` replaces the loss by its quadratic
model at the current weights (binary: the Newton model; multinomial:
Boehning's isotropic bound), a Gram problem whose gates the vertex search
of :mod:`skl0._vertex` solves exactly, and damps the step on the true
objective (:func:`_damped_step`). After a multinomial start Newton's
method solves the weights with the gates held at its vertex
(:func:`_softmax_vertex_newton`). :func:`skl0._engine.solve_gates`
decides where a start runs and hands its point to L-BFGS-B where it is
not a KKT point.

numpy, scipy and torch only; no scikit-learn here.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from . import _host_design
from ._blocks import softmax_hessian, softmax_hessian_terms
from ._elementwise import row_softmax, sigmoid
from ._host_design import _HostDesign, _LazyGram
from ._objective import logistic_loss
from ._refit_newton import _newton, softmax_definite
from ._rows import row_sum
from ._vertex import _FTOL, _ProfiledGram, gate_ridge

__all__ = ["_irls_vertex_start", "_softmax_vertex_newton"]


# Binary log losses start from IRLS over vertices (:func:`_irls_vertex_start`)
# whenever the standardized host copy of X fits (HOST_COPY_MAX_NUMBERS). A
# cold start opens every gate when p <= this, otherwise this many with the
# largest marginal gains: the quadratic models' Gram columns are formed
# only for gates that are or become open, O(n p) each, so the first steps
# cost O(n p m), not the O(n p^2) of all gates. (Not capped by n, which
# would make a weight of 2 and a repeated row open different gates.)
_IRLS_COLD_OPEN = 512


# Past _IRLS_COLD_OPEN columns an IRLS step's vertex search keeps at most
# this many numbers of Gram columns open: max(_IRLS_COLD_OPEN, this / p)
# gates (:func:`_irls_max_open`). Each open gate's column is p numbers, and
# the search otherwise opened as many as its model asked for: on a
# separable 1000 x 20000 CSR of 1% non-zeros (2.3 MB) the model at
# lam=1e-4 opened about 5800 gates at once, and the fit's numpy peak was
# 3.2 GB (session 48). L-BFGS-B then polishes from the capped start.
_IRLS_OPEN_NUMBERS = 1 << 22


# Accepted moves of the vertex search in one IRLS step at most: the next
# step's model moves anyway, so searching each model to its end is wasted
# where many gates flip (a separable path's first points, ~620 of 2000
# gates open at n=3000: ~50 single flips a step, one O(p s^2) round each).
# A 16-point path there took 27 CPU s uncapped, 18.9 / 13.9 / 11.3 / 8.7 s
# with 32 / 16 / 8 / 4 moves, every point from lam=1e-3 on the same; 8
# leaves up to 240 moves over the 30 steps. Only past _IRLS_COLD_OPEN
# columns: on narrower data a round is cheap and the capped search needed
# more Newton steps (breast cancer lam="auto" 80 -> 103 ms).
_IRLS_STEP_MOVES = 8


# The halvings of an IRLS step (:func:`_damped_step`) end once convexity
# shows that none left can lower F to the current value by more than this
# fraction of it: not a tuned constant but room for round-off, whose
# relative size in a sum of n rows' log losses is ~1e-13 (tripled by the
# extrapolation to t = 0), so a bound this close to the value is not
# trusted and the halvings go on as before.
_HALVING_SLACK = 1e-9


def _damped_step(B, b, step, trial, value, gb, xD, sD, true_F):
    """An IRLS step to the vertex ``trial``, halved (up to 10 times) until ``F`` is no higher.

    ``B + step`` on the open gates of ``trial`` (0 elsewhere), the intercept
    moved by its Newton step ``-(gb + xD'(dB)) / sD`` given that change.
    Returns ``(B, b, F, extra)`` (``extra`` the second output of ``true_F``)
    or None when no halving lowers ``F`` to ``value``.

    Along the step ``F`` is convex in its length ``t`` (the log loss and
    the ridge are convex in ``(B, b)``, both affine in ``t``, and the price
    of the open set ``trial`` is fixed), so once ``F(t)`` and ``F(2t)`` are
    known every shorter step has ``F >= 2 F(t) - F(2t)`` (the chord through
    them, extended to ``t = 0``, lies below ``F`` there). Where that bound
    already lies above ``value`` (by more than ``_HALVING_SLACK`` of it, for
    the evaluations' round-off), the halvings left cannot succeed and are
    not made: the result is the same. A vertex whose closed gates cost more
    at the current weights than their price saves (most of the model's
    vertices that the true ``F`` rejects) so costs two evaluations instead
    of eleven.
    """
    on = trial if B.ndim == 1 else trial[:, None]
    longer = None  # F at the previous (twice as long) step
    for _half in range(11):
        B_try = np.where(on, B + step, 0.0)
        b_try = b - (gb + xD @ (B_try - B)) / sD
        new_value, extra = true_F(trial, B_try, b_try)
        if new_value <= value:
            return B_try, b_try, new_value, extra
        if (longer is not None and math.isfinite(longer) and math.isfinite(new_value)
                and 2.0 * new_value - longer > value + _HALVING_SLACK * max(abs(value), 1.0)):
            return None
        longer = new_value
        step = 0.5 * step
    return None


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def _irls_vertex_start(problem, obj, kind, mask, B, b, lo, hi, max_steps=30, settle=0,
                       cold_open=_IRLS_COLD_OPEN, priced=False, share=False, handover=0):
    """A start for the joint solve of a log loss: IRLS over vertices.

    At the current ``(B, b)`` the log loss is replaced by a second-order
    model with row weights ``D`` (the intercept profiled out), which makes
    ``F`` a Gram problem in ``B`` with the gate objective's own ridge
    ``kappa d_j (1 / h_j - 1) + alpha``; its vertex search
    (:meth:`skl0._vertex._ProfiledGram.vertex_search`, at most ``_IRLS_STEP_MOVES``
    moves past ``_IRLS_COLD_OPEN`` columns) gives the next open set and
    weights. ``kind`` (:func:`skl0._engine._vertex_start`):

    ``"irls"``
        A binary log loss: Newton's model, ``D = w p (1 - p)``.
    ``"softmax"``
        A multinomial log loss, K columns of weights sharing one Gram
        matrix: the row curvature ``diag(p_i) - p_i p_i'`` is replaced by
        ``w_i (1 - ||p_i||^2) / (K - 1)`` times the identity, its mean
        eigenvalue on the contrasts (exact for K = 2), which, unlike
        Boehning's fixed ``I / 2``, vanishes on rows the model already
        classifies with confidence (with the fixed bound the steps from a
        separable point's huge weights barely moved: 30 steps lowered ``F``
        from 6.30 to 5.53 where the empty model's is 1.2; the trace itself,
        an upper bound, overstated what closing a gate costs, and a path
        point kept 3 columns above the empty model).

    A step is kept when it lowers the true ``F`` at its vertex (halved up
    to 10 times on the new open set otherwise, then a step on the current
    open set, :func:`_damped_step`); the loop ends when the open set stands
    still and the weights stop moving (the softmax model converges
    linearly: there a relative decrease below ``_FTOL`` ends it, and
    L-BFGS-B polishes), or when no step lowers ``F`` (round-off once the
    weights have converged, or a failed factorisation): the last accepted
    step is then the start. With ``settle > 0`` the loop also ends once
    the open set has stood still for ``settle`` steps (``settled``: only
    the weights were still moving; :func:`skl0._engine.solve_gates` then takes the
    point as it is). ``handover > 0`` (:func:`skl0._engine.solve_gates` passes it to
    softmax starts): the loop ends once the open set has stood still for
    ``handover`` steps, not settled (L-BFGS-B converges the weights from
    there). ``cold_open``: the most gates a cold start (``B = 0``)
    opens past ``_IRLS_COLD_OPEN`` columns (:func:`_cold_mask`); with
    ``priced``, only those among them whose own Newton step on the first
    model lowers it by more than their price ``lam (hi - lo)``:
    ``|g_j|^2 / (2 (H_jj + 2 rho_j))`` with ``g`` the loss's gradient, ``H``
    the model's curvature (the intercept profiled out) and ``rho_j`` the
    open gate's ridge (the gates a forward step from the empty model could
    open one at a time; the search opens others as it needs). Past
    ``_IRLS_COLD_OPEN`` columns each step's search keeps at most
    :func:`_irls_max_open` gates open. ``share``: a cold start that takes
    its first model and that model's start vertex from the problem's
    earlier cold starts, or leaves them there for later ones
    (:func:`_cold_start_model`: the competitors of a path). Returns
    ``(x, n_steps, values, settled)``, ``x`` in the joint solver's
    coordinates (closed gates at ``h = lo``), ``values`` the true ``F``
    after each step, or None when the first step fails.
    """
    design = _HostDesign(problem)
    term = obj.term
    Y, w = np.asarray(term.Y, dtype=np.float64), np.asarray(term.w, dtype=np.float64)
    kd, alpha, lam = np.asarray(obj.kd, dtype=np.float64), obj.alpha, obj.lam
    p = mask.size
    ridge_open = gate_ridge(kd, hi, alpha)  # an open gate's ridge (the same at every evaluation)
    if kind == "irls":
        B, b, ftol = B[:, 0].copy(), float(b[0]), 1e-15

        def evaluate(m, Bv, bv):
            """``F`` at the vertex ``m`` with weights ``(Bv, bv)``, and the fitted logits."""
            f = design.matvec(Bv) + bv
            loss = logistic_loss(f, Y, w)
            n_open = int(m.sum())  # closed gates sit at h = lo: they pay lam lo each
            return loss + float((ridge_open * Bv * Bv)[m].sum()) + (
                lam * (hi * n_open + lo * (m.size - n_open))), f

        def curvature(f):
            """The model's row weights ``D`` and the loss's residuals at logits ``f``."""
            prob = sigmoid(f)
            return w * prob * (1.0 - prob), w * (prob - Y)
    else:
        B, b, ftol = np.array(B, dtype=np.float64), np.array(b, dtype=np.float64), _FTOL

        def evaluate(m, Bv, bv):
            """``F`` at the vertex ``m`` with weights ``(Bv, bv)``, and the probabilities."""
            f = design.matvec(Bv) + bv
            fy = row_sum(f * Y)
            lse, P = row_softmax(f, overwrite=True)
            n_open = int(m.sum())
            return (float(w @ (lse - fy)) + float((ridge_open * (Bv * Bv).sum(1))[m].sum())
                    + lam * (hi * n_open + lo * (p - n_open))), P

        def curvature(P):
            return (w * np.maximum(1.0 - (P * P).sum(1), 0.0) / (P.shape[1] - 1),
                    w[:, None] * (P - Y))

    mask = np.asarray(mask, dtype=bool).copy()
    # (D, R, X'R, G or None): the first step's model where the cold start
    # formed it (at B = 0 the logits, so the model, do not depend on the mask).
    first = None
    shared = _cold_start_model(problem, kind, alpha, hi, lo, kd, B, b) if share else None
    if not B.any():
        # A cold start opens every gate, or the _IRLS_COLD_OPEN with the
        # largest marginal loss reduction |X_j' r|^2 at B = 0 (the columns are
        # standardized); the search opens others as it needs.
        # With ``priced``, of those only the gates whose own Newton step pays
        # their price, |g_j|^2 / (2 (H_jj + 2 rho_j)) = |g_j|^2 / (4 (G_jj + rho_j))
        # with G = H / 2 the step's _LazyGram (a gate that does not is ranked
        # -inf: left closed).
        def gain():
            nonlocal first
            D, R = curvature(evaluate(mask, B, b)[1])
            g = design.rmatvec(R)
            g2 = (g * g).reshape(p, -1).sum(1)
            G = None
            if priced:
                G = _LazyGram(design, D, 0.5)
                with np.errstate(divide="ignore", invalid="ignore"):
                    drop = g2 / (4.0 * (G.diagonal() + ridge_open))
                g2 = np.where(drop > lam * (hi - lo), g2, -np.inf)  # (NaN: a dead column)
            first = (D, R, g, G)
            return g2

        mask = _cold_mask(p, gain, cold_open)
    B[~mask] = 0.0
    value, state = evaluate(mask, B, b)
    max_moves, max_open = ((_IRLS_STEP_MOVES, _irls_max_open(p)) if p > _IRLS_COLD_OPEN
                           else (None, None))
    values, still, settled = [], 0, False
    for _ in range(max_steps):
        G = prof = None  # (the last step's Gram columns go before this step's are formed)
        opening = shared is not None and not values  # (a path's shared first model)
        if opening:
            if "model" not in shared:
                D, R = curvature(state)
                shared["model"] = (D, R, design.rmatvec(R), _LazyGram(design, D, 0.5))
            D, R, XR, G = shared["model"]
        elif first is not None:
            (D, R, XR, G), first = first, None
        else:
            (D, R), XR = curvature(state), None
        # Model: 1/2 B' H B - (H B0 - gB)' B, H = X'DX - xD xD' / sD (the
        # intercept profiled out); as yy - 2 c'B + B' G B with G = H / 2.
        if G is None:
            G = _LazyGram(design, D, 0.5)  # its columns as the vertex search reads them
        if not G.sD > 0:
            break
        db = R.sum(0)
        gB = (design.rmatvec(R) if XR is None else XR) - np.multiply.outer(G.xD, db / G.sD)
        S0 = np.flatnonzero(np.any((B != 0.0).reshape(p, -1), axis=1))
        c = (0.5 * (2.0 * (G.columns(S0) @ B[S0]) - gB)).reshape(p, -1)
        prof = _ProfiledGram(obj, G=G, c=c, yy=0.0, d=kd, q=1)
        # An opened gate moves from h = lo to h = hi: its price is lam (hi - lo).
        prof.lam = lam * (hi - lo) / hi
        kept = None
        # (The shared start vertex: read as a vertex the search knows.)
        known = shared.get("known") if opening else None
        try:
            new_mask, _ = prof.vertex_search(mask, hi, max_moves=max_moves, max_open=max_open,
                                             known=known, keep_start=opening and not known)
            if prof.start_vertex is not None:
                shared["known"] = dict([prof.start_vertex])
            # The model's vertex; if the true F disagrees, a step on the
            # current open set (a convex problem: Newton's step descends).
            for trial in [new_mask] + ([mask] if (new_mask != mask).any() else []):
                W = prof.weights(np.where(trial, hi, 0.0))
                kept = _damped_step(B, b, (W[:, 0] if B.ndim == 1 else W) - B, trial, value,
                                    db, G.xD, G.sD, evaluate)
                if kept is not None:
                    new_mask = trial
                    break
        except np.linalg.LinAlgError:
            kept = None
        if kept is None:
            break
        B_try, b_try, new_value, state_try = kept
        moved = float(np.abs(B_try - B).max(initial=0.0))
        same = bool((new_mask == mask).all())
        improved = value - new_value
        mask, B, b, value, state = new_mask, B_try, b_try, new_value, state_try
        values.append(value)
        if same and (moved < 1e-9 or improved <= ftol * max(abs(value), 1.0)):
            break
        still = still + 1 if same else 0
        if settle and still >= settle:
            settled = True  # the open set stood still: only the weights were moving
            break
        if handover and still >= handover:
            break  # (L-BFGS-B converges the weights on it, faster than these steps)
    if not values:
        return None
    # Closed gates sit at h = lo with the V that zeroes their gradient.
    closed_V = _closed_gate_weights(design.rmatvec(curvature(state)[1]), kd, alpha, lo)
    V = np.where(mask if B.ndim == 1 else mask[:, None], B / hi, closed_V)
    h = np.where(mask, hi, lo)
    return np.concatenate([h, V.ravel(), np.atleast_1d(b)]), len(values), values, settled


#: ... when its Hessian, ``n ((s + 1) K)^2`` multiply-adds for ``s`` open
#: columns of ``n`` rows and ``K`` classes, costs at most this many.
_VERTEX_NEWTON_MAX = 1 << 30


#: Its Hessian's row terms (``n (s + 1) K`` numbers) a block of rows at most (16 MB).
_VERTEX_NEWTON_BLOCK = 1 << 21


#: Newton steps at most (the loop ends at convergence, in 3-15 measured).
_VERTEX_NEWTON_STEPS = 50


#: Rounds of the closed columns' weights against the open ones' (see the function).
_VERTEX_NEWTON_ROUNDS = 4


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def _softmax_vertex_newton(problem, obj, x, lo, hi, design):
    """Newton's method on the weights of a multinomial solve, its gates held at their vertex.

    ``x`` is a point of the joint solve (:func:`_irls_vertex_start`'s end:
    every gate at ``lo`` or ``hi``). With the gates fixed, ``F`` is the
    multinomial log loss of ``B = h V`` plus the ridge
    ``gate_ridge(kappa d_j, h_j, alpha) ||B_j||^2`` of each column (the gate
    term ``(kappa d_j (h_j - h_j^2) + alpha h_j^2) ||V_j||^2`` in ``B``): a
    strictly convex problem in the open columns' weights and the
    intercepts, solved here by Newton's method (:func:`skl0._refit_newton._newton`,
    the exact Hessian :func:`skl0._blocks.softmax_hessian` plus the ridge)
    with the closed columns' tiny weights held as an offset of the logits.
    The closed columns' ``V`` then get the value that zeroes their
    gradient, as at the end of the start. Returns ``(x, steps)``, the
    point in the same coordinates and the number of Newton steps, or None
    where it does not apply (a Hessian of more than ``_VERTEX_NEWTON_MAX``
    multiply-adds, open columns of more than ``HOST_COPY_MAX_NUMBERS``
    numbers, a gate between the bounds) or a factorisation fails.
    :func:`skl0._engine.solve_gates` takes the point as the solution if it is a KKT
    point of the box, else L-BFGS-B goes on from it.
    """

    p, q, ng = obj.p, obj.q, obj.n_gates
    Y = np.asarray(obj.term.Y, dtype=np.float64)
    n = Y.shape[0]
    h = obj.expand(x[:ng])
    S, C = np.flatnonzero(h >= hi), np.flatnonzero(h < hi)
    s, a = S.size, S.size + 1
    if (n * (a * q) ** 2 > _VERTEX_NEWTON_MAX
            or n * a > _host_design.HOST_COPY_MAX_NUMBERS
            or not np.all(h[C] <= lo)):
        return None
    V = x[ng : ng + p * q].reshape(p, q)
    kd = np.asarray(obj.kd, dtype=np.float64)
    rho = gate_ridge(kd[S], hi, obj.alpha)
    w = np.asarray(obj.term.w, dtype=np.float64)
    Z = np.empty((n, a))
    # The open columns, standardized (gathered from X where the design
    # keeps no copy: a large or sparse X), and the intercept's ones.
    Z[:, :s] = (design.Xs[:, S] if design.Xs is not None else
                problem.columns(torch.as_tensor(S)).detach().cpu().double().numpy())
    Z[:, s] = 1.0
    closed_V, closed = V[C], np.zeros((p, q))

    def closed_logits():
        """The closed columns' logits, held while the open weights are solved."""
        closed[C] = lo * closed_V
        return design.matvec(closed)

    offset = closed_logits()
    ridge2 = np.concatenate([np.repeat(2.0 * rho, q), np.zeros(q)])  # d^2 ridge / d z^2
    rows = max(1, _VERTEX_NEWTON_BLOCK // (a * q))
    steps = 0

    def logits(z):
        f = Z @ z.reshape(a, q)
        f += offset
        return f

    def terms(z):
        f = logits(z)
        fy = row_sum(f * Y)
        lse, P = row_softmax(f, overwrite=True)
        W = z[: s * q].reshape(s, q)
        grad = (Z.T @ (w[:, None] * (P - Y))).ravel() + ridge2 * z
        return float(w @ (lse - fy)) + float(rho @ (W * W).sum(1)), grad, P

    def hessian(z, P):
        nonlocal steps
        steps += 1
        # The loss's Hessian summed over blocks of rows (its terms' n (s+1) K
        # numbers a block at most), made the ridge objective's.
        UU = D = 0.0
        for i in range(0, n, rows):
            uu, d = softmax_hessian_terms(Z[i : i + rows], P[i : i + rows], w[i : i + rows])
            UU, D = UU + uu, D + d
        return softmax_definite(softmax_hessian(UU, D, q), s, q, rho)

    z = np.concatenate([(hi * V[S]).ravel(), x[ng + p * q :]])
    for _ in range(_VERTEX_NEWTON_ROUNDS):
        z = _newton(terms, hessian, z, _VERTEX_NEWTON_STEPS)
        if z is None:
            return None
        # The closed columns' V that zeroes their gradient at the new logits
        # (as at the end of the start); their B = lo V moves the logits by
        # about lo / (2 kappa d_j) times the change of their gradient, so
        # the open weights are solved again for the new offset until the
        # closed ones stand still (a contraction by about 1e-3 a round).
        P = row_softmax(logits(z), overwrite=True)[1]
        new_V = _closed_gate_weights(design.rmatvec(w[:, None] * (P - Y))[C], kd[C],
                                     obj.alpha, lo)
        moved = lo * float(np.abs(new_V - closed_V).max(initial=0.0))
        closed_V = new_V
        if moved <= 1e-13:
            break
        offset = closed_logits()
    V = np.empty((p, q))
    V[S], V[C] = z[: s * q].reshape(s, q) / hi, closed_V
    return np.concatenate([x[:ng], V.ravel(), z[s * q :]]), steps


def _closed_gate_weights(dB, kd, alpha, lo):
    """The ``V`` of gates closed at ``h = lo`` that zeroes their gradient, given the rest.

    ``-dB_j / (2 (kappa d_j (1 - lo) + alpha lo))``, ``dB`` (p,) or (p, q)
    the loss's gradient in their ``B`` (``B_j = lo V_j`` is then tiny);
    ``kd`` their ``kappa d``. Where an IRLS start and the Newton polish
    leave the closed gates.
    """
    scale = 2.0 * np.maximum(kd * (1.0 - lo) + alpha * lo, 1e-300)
    return -dB / (scale if dB.ndim == 1 else scale[:, None])


def _cold_start_model(problem, kind, alpha, hi, lo, kd, B, b):
    """What the first step of a cold IRLS start shares with the path's other cold starts.

    A cold start (``B = 0``, ``b = 0``) on at most ``_IRLS_COLD_OPEN``
    columns opens every gate, and its first quadratic model (taken at
    logits 0) and that model's start vertex (the factor of every open
    column and the flip statistics there) do not depend on ``lam``: the
    cold competitors of a path's warm points (:func:`skl0._engine.solve_gates`) form
    them once, at the first, and reuse them (the same numbers, not
    approximated). Kept on the problem for the rest of its path (a Gram
    matrix and a factor of order ``p <= 512``, up to 2 MB each): a
    fixed-``lam`` fit and a path's first point, which start cold once, keep
    nothing, and free the first model's columns before the second step's
    are formed.
    Returns the dict that :func:`_irls_vertex_start` fills (``"model"``:
    ``(D, R, X'R, G)``; ``"known"``: the vertex search's start as its
    ``known`` vertices take it, see
    :meth:`skl0._vertex._ProfiledGram.vertex_search`'s ``keep_start``), kept on the
    problem for these settings (one entry: other settings replace it), or
    None where the start is not such a cold start.
    """
    if kd.shape[0] > _IRLS_COLD_OPEN or B.any() or np.any(b):
        return None
    key = (kind, float(alpha), float(hi), float(lo), kd.tobytes())
    cached = problem.__dict__.get("_cold_start_model")
    if cached is None or cached[0] != key:
        cached = problem.__dict__["_cold_start_model"] = (key, {})
    return cached[1]


def _irls_max_open(p):
    """The most gates an IRLS step's vertex search keeps open past ``_IRLS_COLD_OPEN``
    columns: ``_IRLS_COLD_OPEN``, or as many Gram columns of ``p`` numbers as
    ``_IRLS_OPEN_NUMBERS`` holds where that is more (which caps nothing up to
    ``p = 2048``)."""
    return max(_IRLS_COLD_OPEN, _IRLS_OPEN_NUMBERS // max(p, 1))


def _cold_mask(p, gain, most=_IRLS_COLD_OPEN):
    """The gates a cold start opens: all when ``p <= _IRLS_COLD_OPEN``, else the
    ``most`` with the largest ``gain()`` (called only then), of those whose
    gain is finite (``-inf``: left closed).

    Not capped by the number of rows: a sample weight of 2 and a repeated
    row must open the same gates.
    """
    mask = np.zeros(p, dtype=bool)
    if p <= _IRLS_COLD_OPEN:
        mask[:] = True
    else:
        g = gain()
        mask[np.argsort(-g, kind="stable")[:min(most, int(np.isfinite(g).sum()))]] = True
    return mask
