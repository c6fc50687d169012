"""Exact vertex search of a Gram problem's objective with the weights profiled out.

For a Gram problem (squared loss from ``X'X``, or an IRLS step's quadratic
model of a log loss) the objective ``F(h, B)`` of :mod:`skl0._engine` is,
for fixed gates ``h``, a ridge problem in the effective weights ``B``.
:class:`_ProfiledGram` solves ``B`` out and works in the ``p`` gate
coordinates alone; along each gate ``F`` is then concave (unless ``alpha``
outweighs the column's correlation with the open ones), so its minima lie
at vertices, every gate fully open or closed, and
:meth:`_ProfiledGram.vertex_search` finds one by exact flips: each flip's
change of ``F`` is read off a Cholesky factor of the open columns' ridge
system, or off that system pivoted on the flipped gates
(:class:`skl0._linalg.PivotedSystem`) where pivoting costs less.

:mod:`skl0._engine` builds the objective and calls this module: its fixed-
``lam`` solve (:func:`skl0._engine.solve_gates`), its paths
(:func:`skl0._engine.vertex_path`) and its IRLS starts. This module reads
the objective (:class:`skl0._objective.GateObjective`) through its attributes
(the Gram term, ``ops``, ``q``, ``alpha``, ``lam``, and ``layout`` with its
group maps) and imports nothing of the engine.

numpy and scipy's LAPACK only; no torch, no scikit-learn.
"""

from __future__ import annotations

import math

import numpy as np

from ._linalg import (
    PivotedSystem,
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    inverse_diagonal_and_forms,
)

__all__ = ["gate_ridge"]


# L-BFGS-B's stopping rule (skl0._engine's solves), whose gradient tolerance
# the vertex search's KKT test shares: projected gradient below _GTOL or relative
# decrease of F below _FTOL (F is about 1 for the intercept-only model).
_GTOL = 1e-6
_FTOL = 1e-10


# The vertex search makes a batch of flips by pivoting its open set's system
# (:class:`skl0._linalg.PivotedSystem`) where that takes fewer
# multiplications than refactoring, while the pivots' summed round-off
# growth since the last factorisation stays within _PIVOT_DRIFT (about
# 1e4 x 2.2e-16 = 2e-12 relative error; a single pivot's growth is at most
# about 4e3 with the gate ridge of standardized columns); a vertex reached
# by pivots is refactored for its weights, and where those differ from the
# pivoted ones by more than _PIVOT_RTOL of their largest entry the
# statistics are made again from the factorisation and the search goes on.
_PIVOT_DRIFT = 1e4
_PIVOT_RTOL = 1e-8
# A pivot's fixed cost (its dozens of numpy calls, about 20 us) in
# multiplications: below about 20 open gates of 200, and on small designs
# such as diabetes (p = 10) always, a factorisation is the cheaper move.
_PIVOT_OVERHEAD = 1.4e5


def _pivot_pays(p, s, d, s_new):
    """Whether pivoting ``d`` gates of ``s`` open (``s_new`` after) beats a factorisation.

    Multiplications (and, as many, the calls' overhead) of a pivot of the
    system on the ``d`` flipped gates against a Cholesky factorisation of
    the ``s_new`` open columns and the closed columns' forms.
    """
    return 4 * p * d * (s + d) + _PIVOT_OVERHEAD <= s_new * s_new * (2 * p - s_new)


def gate_ridge(kd, h, alpha):
    """The ridge ``F`` charges an effective weight behind a gate at ``h``: ``kd (1 / h - 1) + alpha``.

    ``kd`` is the loss's noise curvature times the column's second moment
    (``kappa d_j`` of :mod:`skl0._engine`'s ``F``), ``1 / h - 1`` the Hard
    Concrete gate's ``Var(z w) / E[z w]^2`` (:func:`skl0.nn.signal_fraction`).
    Arrays or numbers, elementwise.
    """
    return kd * (1.0 / h - 1.0) + alpha


def _dead_gates(d, layout, lam):
    """Gates whose columns all lack spread (``d == 0``), at a positive price: closed from the start.

    ``d`` holds the columns' squared norms, ``layout`` maps them to gates
    (None: one per column). Such a column lowers no loss, so at any
    positive price its gate's optimum is closed; a solve from an open start
    left it open where the price, at ``lam = 1e-12``, sat within the
    vertex search's round-off tolerance or below L-BFGS-B's gradient
    tolerance. The one rule of the joint solve's bounds
    (:func:`skl0._engine.solve_gates`) and of every vertex search's start.
    """
    live = np.asarray(d) > 0
    costs = 1.0
    if layout is not None:
        costs = layout.costs
        if not layout.is_identity:
            live = np.bincount(layout.index, weights=live, minlength=layout.n_groups) > 0
    return ~live & (lam * np.asarray(costs) > 0)


def _gram_rows(G, J):
    """``G[J, :]`` as a new C-ordered array (a dense G, or a lazy one's columns ``J``).

    A lazy Gram matrix (:class:`skl0._host_design._LazyGram`, the IRLS steps'
    quadratic models) forms its columns on demand; it is any ``G`` that is
    not an ndarray.
    """
    return G.take(J, 0) if isinstance(G, np.ndarray) else G.columns(J).T


def _gram_block(G, rows, cols):
    """``G[rows][:, cols]`` as a new array (a dense G, or a lazy one's :meth:`block`)."""
    if not isinstance(G, np.ndarray):
        return G.block(rows, cols)
    return G.take(rows, 0).take(cols, 1)


class _ProfiledGram:
    """``F`` of a Gram problem as a function of ``h`` alone, ``B`` solved out.

    For fixed ``h`` the objective is a ridge problem in ``B``:
    ``(G + diag(d (1/h - 1) + q alpha)) B = c``, and then
    ``F(h) = (yy - <c, B>) / q + lam sum(h)`` with
    ``dF/dh_j = lam - d_j ||B_j||^2 / (q h_j^2)`` (the envelope theorem).
    One Cholesky factorisation per evaluation; L-BFGS-B then works in the
    p gate coordinates only, where the weights no longer have to follow the
    closing gates (about a third of the iterations of the joint solve on
    the benchmark's small designs).

    ``h_j = 0`` is allowed: as ``h_j -> 0`` the ridge grows like ``d_j / h_j``,
    so ``B_j = h_j r_j / d_j + O(h_j^2)`` with ``r_j = c_j - (G B)_j`` the
    residual correlation of the other columns. ``F`` is continuous there
    with ``B_j = 0``, and the gradient's limit is
    ``lam - ||r_j||^2 / (q d_j)``: minus the loss reduction of opening the
    gate, the test of a screening rule. The factorisation spans the gates
    with ``h_j > 0`` only, so a point where most gates are closed costs
    O(s^3 + p s) for ``s`` open gates, not O(p^3).
    """

    def __init__(self, obj, G=None, c=None, yy=None, d=None, q=None):
        """From the objective's Gram term, or from given statistics.

        ``G``, ``c``, ``yy``, ``d`` (the ridge coefficients of ``1/h - 1``)
        and ``q`` replace the term's when given: the quadratic models of
        the IRLS start (:func:`skl0._irls._irls_vertex_start`).
        """
        ops = obj.ops
        term = obj.term if G is None else None
        self.G = ops.to_host(term.G) if G is None else G
        self.c = ops.to_host(term.c) if c is None else c
        self.yy = term.yy if yy is None else yy
        self.q = obj.q if q is None else q
        self.d = ops.to_host(term.d) if d is None else d
        # A constant column (d = 0, zero row of G) gets a unit ridge: B = 0.
        self.base = self.q * obj.alpha + (self.d <= 0)
        self.lam = obj.lam
        self.obj = obj  # expand / reduce / price of groups and costs
        self._last_vertex = None  # (key, its factor or pivoted system, weights, statistics)
        self._stable, self._stable_of = None, None  # the property stable, formed on first read
        self._search_terms = None  # vertex_search's lam-free terms: (h_open, ridge, diagonal, ...)
        self.start_vertex = None  # vertex_search's start, with keep_start

    @property
    def stable(self):
        """:meth:`_stable_interval` of the vertex the last :meth:`vertex_search` ended at
        (None when it ended elsewhere), formed on first read: only a path reads it
        (:func:`skl0._engine.vertex_path`), not the IRLS steps' searches."""
        if self._stable is None and self._stable_of is not None:
            self._stable = self._stable_interval(*self._stable_of)
        return self._stable

    def _solve(self, S, ridge):
        """Cholesky factor of ``G_SS + diag(ridge)`` and the weights ``B_S`` it gives."""
        A = _gram_block(self.G, S, S)
        A.flat[:: S.size + 1] += ridge
        L = cholesky(A)
        return L, cholesky_solve(L, self.c[S])

    def weights(self, h):
        """``B`` at ``h`` (rows of closed gates, ``h_j = 0``, are 0).

        At the vertex the last :meth:`vertex_search` ended at (open gates at
        its ``h_open``), the search's own ``B_S`` is taken: the same
        factorisation of the same numbers, not made again (the solves that
        check that vertex and read its weights after the search).
        """
        h = self.obj.expand(h)
        B = np.zeros_like(self.c)
        S = (h > 0).nonzero()[0]
        if S.size:
            memo = self._last_vertex
            if (memo is not None and memo[1][0].size == S.size and (memo[1][0] == S).all()
                    and (h[S] == memo[0][1]).all()):
                B[S] = memo[1][2]
            else:
                B[S] = self._solve(S, gate_ridge(self.d[S], h[S], self.base[S]))[1]
        return B

    def vertex_search(self, mask, h_open, max_moves=None, known=None, max_open=None,
                      keep_start=False):
        """Exact descent over the vertices ``h in {0, h_open}^p`` from ``mask``.

        Along one gate, with the others fixed, ``F`` is
        ``lam h_j - (R_j / q) h_j / (d_j + e_j h_j)`` (a Schur complement of
        the ridge system), where ``e_j = q alpha - rho_j`` and ``rho_j >= 0`` is
        the part of ``d_j`` that the other open columns explain: concave in
        ``h_j`` unless ``rho_j < q alpha``. So the minima of ``F`` over the box
        lie at vertices (for ``alpha = 0`` exactly), and a vertex where no
        single flip lowers ``F`` satisfies the box's KKT conditions. Each
        round evaluates every flip exactly: dropping open ``j`` raises the
        loss by ``||B_j||^2 / (q (A^-1)_jj)``, adding closed ``j`` lowers it by
        ``||r_j||^2 / (q s_j)`` (``r`` the residual correlation, ``s_j`` the
        Schur complement of ``A`` at ``j``), against ``lam h_open`` per gate.
        All improving flips are tried at once, then the better half of
        them, down to the single best flip (which always improves); a batch
        is kept only if it achieves half the decrease its flips predict one
        by one, so a warm start a few independent flips away takes a few
        rounds while interacting flips are made one at a time.

        A vertex reached by a factorisation (Cholesky of the open columns'
        ridge system) reads its statistics off the factor (``diag(A^-1)``
        and the closed columns' forms). A batch of ``|D|`` flips from
        ``s`` open gates to ``s'`` is instead priced by an order-``|D|``
        inverse and, when kept, made by pivoting the open set's system
        (:class:`skl0._linalg.PivotedSystem`, built from the factor on the
        first such batch, O(p (s + |D|) |D|) a pivot) wherever
        ``4 p |D| (s + |D|) + _PIVOT_OVERHEAD <= s'^2 (2 p - s')``: fewer
        multiplications than a factorisation and the forms, a pivot's
        numpy calls counted as ``_PIVOT_OVERHEAD`` of them (so never when
        ``p <= 52``); the statistics are then read off the system. The
        pivots' round-off growth is summed, and past ``_PIVOT_DRIFT`` the
        next move is factorised. A vertex the search ends at by pivots is
        factorised once more for its weights (the numbers a search of
        factorisations gives) and, should the pivoted weights differ from
        them by more than ``_PIVOT_RTOL`` of their largest entry, its
        statistics are made again from that factor and the search goes on.

        ``known``: vertices this objective's searches ended at before (by
        mask, :func:`skl0._engine.vertex_path`'s, at this ``h_open``, without pivots), or
        the start vertex of a path's cold IRLS starts (``keep_start``),
        whose factor, weights, loss and flip statistics are read instead of
        made again when the search reaches one.

        ``max_open``: the most gates a move may leave open (the IRLS
        steps' bound on their Gram columns, :func:`skl0._irls._irls_max_open`): a
        round's opening flips are cut to the best that fit, and the search
        ends where only openings would lower ``F`` (a vertex optimal among
        those of at most ``max_open`` open gates, not a KKT point).

        ``keep_start``: keep the start vertex's factor, weights, loss and
        flip statistics (``lam``-free) as :attr:`start_vertex`, a
        ``(mask bytes, vertex)`` entry of ``known``, which a later search of
        the same model (a path's cold IRLS starts, :func:`skl0._irls._cold_start_model`)
        takes instead of making them again (None when the start came from
        ``_last_vertex`` or ``known``).

        Returns
        -------
        mask : ndarray of bool
            Open gates of the vertex reached.
        values : list of float
            ``F`` after each accepted move (one entry per move).
        """
        layout = self.obj.layout
        G, c, q = self.G, self.c, self.q
        # The terms that do not depend on lam, formed once for the searches
        # of a path (one per lam that leaves the previous vertex's interval):
        # the ridge at h_open, the diagonal of the ridge system, the columns
        # with spread and, without a layout, the gates that may stay open at
        # a positive price (``~_dead_gates``, whose one lam-dependent factor
        # is then ``lam > 0``).
        terms = self._search_terms
        if terms is None or terms[0] != h_open:
            ridge = gate_ridge(self.d, h_open, self.base)
            terms = self._search_terms = (h_open, ridge, G.diagonal() + ridge, self.d > 0,
                                          None if layout is not None
                                          else ~_dead_gates(self.d, None, 1.0))
        _, ridge, a, live, alive = terms
        # Columns (or groups) without spread are closed at any positive price.
        if alive is not None and self.lam > 0:
            mask = np.asarray(mask, dtype=bool) & alive
        else:
            mask = np.asarray(mask, dtype=bool) & ~_dead_gates(self.d, layout, self.lam)
        if layout is not None and not layout.is_identity:
            return self._group_vertex_search(mask, h_open, max_moves)
        # The price of opening each gate (per column with feature costs).
        price = np.full(mask.size, self.lam * h_open)
        if layout is not None:
            price *= layout.costs
        max_moves = 4 * mask.size + 10 if max_moves is None else max_moves
        self._stable, self._stable_of = None, None
        self.start_vertex = None

        def factor(m):
            """Open gates, Cholesky factor, weights, ``F`` and the loss at vertex ``m``."""
            kept = known.get(m.tobytes()) if known else None
            if kept is not None:
                S, (L, _), B, loss, _ = kept
                return S, L, B, (loss + float(price[S].sum()) if S.size else loss), loss
            S = m.nonzero()[0]  # (np.flatnonzero's result, without its wrappers)
            if not S.size:
                return S, None, c[:0], self.yy / q, self.yy / q
            L, B = self._solve(S, ridge[S])
            loss = (self.yy - float(np.vdot(c[S], B))) / q
            return S, L, B, loss + float(price[S].sum()), loss

        def rows(J):
            return _gram_rows(G, J)

        def flip(m):
            """:func:`factor`'s tuple at vertex ``m``, or, a few flips away, with a pivot of
            the system (:meth:`PivotedSystem.trial`) in place of the factor and no weights."""
            nonlocal system
            D = (m != mask).nonzero()[0]
            d, s = D.size, S.size
            s_new = s + d - 2 * int(mask[D].sum())
            if _pivot_pays(p, s, d, s_new):
                if system is None:
                    system = PivotedSystem(rows, ridge, a, c, S, L, B)
                out = D[mask[D]]
                t = system.trial(out, D[~mask[D]] if out.size < d else out[:0])
                if system.drift + t[1] <= _PIVOT_DRIFT:
                    loss = (self.yy - fit - t[0]) / q
                    return None, t, None, loss + float(price @ m), loss
            return factor(m)

        def flip_statistics(m, S, L, B):
            """Closed gates, and each flip's loss change: ``lam``-free at a vertex."""
            nonlocal system
            drop_cost = add_gain = r2 = None
            C = (~m & live).nonzero()[0]
            s = S.size
            if system is None and pivots and values and _pivot_pays(p, s, 1, s):
                # After a factorised move, where the next single flip would be
                # a pivot: the system now (its build reads the same inverse as
                # the forms below). Not at the start: a cold start's first
                # batch closes most gates, by a factorisation.
                system = PivotedSystem(rows, ridge, a, c, S, L, B)
            if system is not None:  # read off the pivoted system
                if S.size:
                    drop_cost = _row_sq(B) / (q * system.hd[S])
                if C.size:
                    r2 = _row_sq(system.residuals(C))
                    add_gain = r2 / (q * np.maximum(system.hd[C], 1e-12 * a[C]))
                return C, drop_cost, add_gain, r2
            if S.size:
                GCS = _gram_block(G, C, S)  # (a new array)
                if C.size:
                    r = c[C] - GCS @ B
                # (its forms overwrite GCS: no second array of its size)
                M_diag, forms = inverse_diagonal_and_forms(L, GCS, overwrite=True)
                del GCS
                drop_cost = _row_sq(B) / (q * M_diag)
            if C.size:
                aC = a[C]
                if S.size:
                    schur = aC - forms
                else:
                    r, schur = c[C], aC
                schur = np.maximum(schur, 1e-12 * aC)
                r2 = _row_sq(r)
                add_gain = r2 / (q * schur)
            return C, drop_cost, add_gain, r2

        # The vertex a previous search ended at (a path's last point) comes
        # with its factor or pivoted system and its flip statistics, which
        # do not depend on lam (a system is updated in place from here on).
        memo, self._last_vertex = self._last_vertex, None
        if memo is not None and memo[0] == (mask.tobytes(), h_open):
            S, (L, system), B, loss, stats = memo[1]
            value = loss + float(price[S].sum())
        else:
            S, L, B, value, loss = factor(mask)
            system, stats = None, None
        p = mask.size
        # Where even a factorisation of every column costs less than a pivot's
        # calls (p^3 <= _PIVOT_OVERHEAD: p <= 51), the moves are factorised
        # (at p = 52 and 53 no move passes flip's test either: none before 54).
        pivots = p * p * p > _PIVOT_OVERHEAD
        fit = float(np.vdot(c[S], B)) if pivots else 0.0
        values = []
        while len(values) < max_moves:
            if stats is None:
                kept = known.get(mask.tobytes()) if known else None
                stats = flip_statistics(mask, S, L, B) if kept is None else kept[4]
                if keep_start and not values and kept is None and system is None:
                    self.start_vertex = (mask.tobytes(), (S, (L, None), B, loss, stats))
            C, drop_cost, add_gain, r2 = stats
            delta = np.zeros(p)
            if S.size:
                delta[S] = drop_cost - price[S]
            if C.size:
                delta[C] = price[C] - add_gain
            tol = 1e-12 * max(abs(value), 1.0)
            moves = (delta < -tol).nonzero()[0]
            if max_open is not None and moves.size:
                opens = ~mask[moves]
                room = max(max_open - S.size, 0)
                if opens.sum() > room:
                    best = moves[opens][np.argsort(delta[moves[opens]], kind="stable")[:room]]
                    moves = np.concatenate([moves[~opens], best])
            if not moves.size:
                if L is None and system is not None:
                    # Reached by pivots: the weights of a factorisation, as
                    # a search of factorisations gives them (and the loss: of
                    # no open gate, yy / q), and a check of the pivots'
                    # round-off (where it shows, the statistics are made
                    # again from the factor and the search goes on).
                    _, L, B, value, loss = factor(mask)
                    big = float(np.abs(B).max(initial=0.0))
                    if float(np.abs(system.weights(S) - B).max(initial=0.0)) > _PIVOT_RTOL * big:
                        system, stats = None, None
                        fit = float(np.vdot(c[S], B))
                        continue  # (a factor and no system: the statistics are made afresh)
                    if S.size:
                        drop_cost = _row_sq(B) / (q * system.hd[S])
                        stats = (C, drop_cost, add_gain, r2)
                if layout is None:  # one price for every gate (vertex_path's case)
                    self._stable_of = (S, B, drop_cost, C, r2, add_gain, h_open)
                    self.solution = (S, B, loss)
                self._last_vertex = ((mask.tobytes(), h_open), (S, (L, system), B, loss, stats))
                break
            trial, new = _flip_batch(mask, moves, delta, value, flip if pivots else factor)
            if not new[3] < value - tol:
                break  # the best single flip no longer improves (round-off)
            mask = trial
            if new[0] is None:  # a pivot
                S = mask.nonzero()[0]
                system.commit(new[1])
                fit += new[1][0]
                L, B = None, system.weights(S)
            else:
                S, L, B, _, _ = new
                system = None
                if pivots:
                    fit = float(np.vdot(c[S], B))
            value, loss = new[3], new[4]
            stats = None
            values.append(value)
        return mask, values

    def _stable_interval(self, S, B, drop_cost, C, r2, add_gain, h_open):
        """``lam`` range over which the vertex (open gates ``S``) stays the solution.

        The weights ``B`` of a vertex do not depend on ``lam``, and every
        flip's change of ``F`` is ``+-(loss change - lam h_open)``: the vertex
        stays flip-optimal while ``lam h_open`` lies between the largest gain
        of opening a closed gate and the smallest cost of closing an open
        one, and a KKT point of the box while the gradient's sign
        conditions hold (open gates ``lam <= d_j ||B_j||^2 / (q h_open^2)``,
        closed ones ``lam >= ||r_j||^2 / (q d_j)``, each within the
        solver's gradient tolerance). Inside this interval a path point
        needs no search at all.
        """
        q, d = self.q, self.d
        hi = math.inf
        if S.size:
            kkt = d[S] * _row_sq(B) / (q * h_open * h_open) + _GTOL
            hi = float(min(drop_cost.min() / h_open, kkt.min()))
        lo = 0.0
        if C.size:
            kkt = r2 / (q * d[C]) - _GTOL
            lo = float(max(add_gain.max() / h_open, kkt.max(), 0.0))
        return lo, hi

    def __call__(self, h):
        if self.obj.layout is not None:
            return self._group_call(h)
        B = self.weights(h)
        value = (self.yy - float(np.vdot(self.c, B))) / self.q + self.lam * float(h.sum())
        S = h > 0
        grad = np.full(h.shape, self.lam)
        grad[S] -= self.d[S] * _row_sq(B[S]) / (self.q * h[S] * h[S])
        C = ~S & (self.d > 0)
        if C.any():
            r = self.c[C] - (self.G @ B)[C]
            grad[C] -= _row_sq(r) / (self.q * self.d[C])
        return value, grad


    def _group_call(self, hg):
        """:meth:`_ProfiledGram.__call__` with one ``h`` per group (and per-gate prices)."""
        obj = self.obj
        h = obj.expand(hg)
        B = self.weights(hg)
        value = (self.yy - float(np.vdot(self.c, B))) / self.q + obj.price(hg)
        S = h > 0
        grad = np.zeros(h.shape)
        grad[S] -= self.d[S] * _row_sq(B[S]) / (self.q * h[S] * h[S])
        C = ~S & (self.d > 0)
        if C.any():
            r = self.c[C] - (self.G @ B)[C]
            grad[C] -= _row_sq(r) / (self.q * self.d[C])
        return value, obj.reduce(grad) + obj.price_grad()


    def _group_vertex_search(self, gmask, h_open, max_moves=None):
        """:meth:`vertex_search` over groups: each move opens or closes a whole group.

        Dropping open group ``g`` raises the loss by
        ``tr(B_g' (M_gg)^-1 B_g) / q`` (``M`` the inverse of the open
        columns' ridge system) and adding closed group ``g`` lowers it by
        ``tr(r_g' S_g^-1 r_g) / q`` with ``S_g`` the block Schur complement
        of the open columns in ``A`` at ``g``'s columns: the block versions
        of the single-gate flips, priced ``lam h_open costs_g``. Batches are
        tried and accepted as in :meth:`vertex_search`.
        """
        layout = self.obj.layout
        G, c, q, idx = self.G, self.c, self.q, layout.index
        n_groups = layout.n_groups
        price = self.lam * h_open * layout.costs
        ridge = gate_ridge(self.d, h_open, self.base)
        members = [np.flatnonzero(idx == g) for g in range(n_groups)]
        live = np.array([bool((self.d[cols] > 0).any()) for cols in members])
        single = layout.sizes == 1  # flipped by the scalar formulas, all at once
        first = np.array([cols[0] for cols in members])
        blocks = [None if single[g] else G.take(cols, 0).take(cols, 1) + np.diag(ridge[cols])
                  for g, cols in enumerate(members)]
        a = G.diagonal() + ridge
        gmask = np.asarray(gmask, dtype=bool).copy()
        max_moves = 4 * n_groups + 10 if max_moves is None else max_moves

        def factor(gm):
            S = np.flatnonzero(gm[idx])
            if not S.size:
                return S, None, c[:0], self.yy / q
            L, B = self._solve(S, ridge[S])
            return S, L, B, (self.yy - float(np.vdot(c[S], B))) / q + float(price[gm].sum())

        S, L, B, value = factor(gmask)
        values = []
        while len(values) < max_moves:
            delta = np.zeros(n_groups)
            M = cholesky_inverse(L) if S.size else None
            col_open = gmask[idx]
            # Closed columns at once: residual correlations r and G_CS M.
            C = np.flatnonzero(~col_open & live[idx])
            if S.size:
                GCS = G.take(C, 0).take(S, 1)
                r_all, T = c[C] - GCS @ B, GCS @ M
            else:
                GCS, r_all, T = None, c[C], None
            pos_c = np.full(idx.size, -1)
            pos_c[C] = np.arange(C.size)
            # One-column groups: the scalar flips of vertex_search, vectorized.
            gs = np.flatnonzero(gmask & single)
            if gs.size:
                P = np.searchsorted(S, first[gs])
                delta[gs] = _row_sq(B[P]) / (q * M.diagonal()[P]) - price[gs]
            gs = np.flatnonzero(~gmask & single & live)
            if gs.size:
                j, P = first[gs], pos_c[first[gs]]
                sch = a[j] - (np.einsum("ij,ij->i", T[P], GCS[P]) if S.size else 0.0)
                sch = np.maximum(sch, 1e-12 * a[j])
                delta[gs] = price[gs] - _row_sq(r_all[P]) / (q * sch)
            for g in np.flatnonzero(~single & (gmask | live)):
                cols = members[g]
                if gmask[g]:
                    P = np.searchsorted(S, cols)
                    Bg = B[P]
                    gain = float((Bg * np.linalg.solve(M[np.ix_(P, P)], Bg)).sum())
                    delta[g] = gain / q - price[g]
                else:
                    P = pos_c[cols]
                    r = r_all[P]
                    A = blocks[g] - T[P] @ GCS[P].T if S.size else blocks[g].copy()
                    A.flat[:: cols.size + 1] += 1e-12 * max(float(A.diagonal().max()), 1e-300)
                    delta[g] = price[g] - float((r * np.linalg.solve(A, r)).sum()) / q
            tol = 1e-12 * max(abs(value), 1.0)
            moves = np.flatnonzero(delta < -tol)
            if not moves.size:
                break
            trial, new = _flip_batch(gmask, moves, delta, value, factor)
            if not new[3] < value - tol:
                break
            gmask = trial
            S, L, B, value = new
            values.append(value)
        return gmask, values


def _flip_batch(mask, moves, delta, value, factor):
    """Flip the improving ``moves`` together: ``(trial mask, factor(trial))``.

    The flips are taken best first (lowest ``delta``), and a batch is
    accepted only if it delivers half the decrease its flips predict one by
    one; otherwise it is halved: interacting flips (two correlated columns
    that each look redundant) are then taken apart. A single flip is always
    tried; the caller accepts it only if it lowers ``value``.
    """
    moves = moves[np.argsort(delta[moves], kind="stable")]
    while True:
        trial = mask.copy()
        trial[moves] = ~trial[moves]
        new = factor(trial)
        if new[3] <= value + 0.5 * delta[moves].sum() or moves.size == 1:
            return trial, new
        moves = moves[: moves.size // 2]


def _row_sq(A):
    """Squared Euclidean norm of each row of a 2-d array."""
    return A[:, 0] * A[:, 0] if A.shape[1] == 1 else np.einsum("ij,ij->i", A, A)
