"""Refits and second-order sacrifices of a multinomial log loss, for the swap search.

The row problems' sacrifices (:class:`skl0._splice_refits._RowRefits`) are abess's
orthogonal-design values: ``sum_c beta_jc^2`` to drop ``j``, the squared
gradient to add it. For a multinomial head on correlated columns (image
pixels) they rank badly: neighbouring pixels with large opposite
coefficients cost little to drop, and a pixel that carries what the
support already explains has a large gradient but adds nothing. The swap
search then stalls where a better support is one exchange away.

Here both are the likelihood's own second-order statistics at the refit
on ``S`` (the multinomial analogue of the Gram problem's exact
sacrifices, :class:`skl0._splice_refits._GramRefits`):

- dropping ``j in S`` raises the loss by about the Wald statistic
  ``theta_j' [(H^-1)_jj]^-1 theta_j / 2``;
- adding ``j not in S`` lowers it by about the score statistic
  ``g_j' (H_jj - H_jA H_AA^-1 H_Aj)^-1 g_j / 2``,

with ``H`` the Hessian of the weighted mean log loss (plus the ridge),
``A`` the support and the intercept, ``g`` the gradient and ``theta`` the
coefficients in the reference-class parametrisation (class ``K`` fixed at
0: the softmax is invariant to a common shift of a column's ``K``
coefficients, so the full Hessian is singular; both statistics are
invariant to the choice of reference class). Each candidate swap is still
refitted before it is accepted; these statistics only order the
candidates. The same Hessian blocks (extended to all ``K`` classes) precondition
those refits where they run by L-BFGS-B (:meth:`MultinomialRefits._curvature`):
L-BFGS-B alone took ~130 evaluations a refit on digits, ~57 so. Small
problems (:func:`skl0._refit_newton.softmax_newton_applies`) are refitted by
Newton's method instead and need no preconditioner; a round's candidates
are then refitted together (:func:`skl0._refit_newton.newton_softmax_batch`,
from :meth:`MultinomialRefits.fit_many`), each along its own Newton
iterates.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp

from ._blocks import softmax_hessian, softmax_hessian_terms
from ._datafits import MultinomialLogLoss
from ._host_design import host_copy_fits, small_sparse, standardized_host
from ._linalg import inverse_root, quadratic_screen
from ._refit import _DENSE_SUPPORT_NUMBERS, support_head
from ._refit_newton import (
    _DROP_AFTER,
    _DROP_MARGIN,
    _SOFTMAX_BATCH_NUMBERS,
    RefitStopped,
    SparseColumns,
    centred_rmatmul,
    newton_softmax_batch,
    ridge_jitter,
    softmax_definite,
    softmax_loss,
    softmax_newton_applies,
    softmax_refit,
)

__all__ = ["MultinomialRefits"]

# MultinomialRefits.fit_many with a cutoff ends a preconditioned refit once,
# after its _STOP_AFTER-th evaluation, its objective less _STOP_MARGIN times
# g' H^-1 g (H the preconditioner) lies above the best loss before it. On
# digits' development splits 200-202 (k=20; 1685 refits, 55 428 evaluations)
# the objective still to come was up to 0.7 of g' H^-1 g at the first
# evaluation and up to 19.4 at later ones (where the gradient is small and
# the preconditioner, the Hessian at another support, is off); margins of 2
# to 50 dropped no refit whose support would have won, and 20 left 73% of
# the evaluations unneeded. Held-out splits and families:
# benchmarks/refit_stops.py. A Newton refit (small problems: exact Hessian,
# g' H^-1 g the Newton decrement) stops by the binary refits' rule instead
# (skl0._refit_newton._DROP_MARGIN, _DROP_AFTER).
_STOP_MARGIN = 20.0
_STOP_AFTER = 3

#: Largest array (in numbers) the Hessian blocks may take; past it the
#: sacrifices fall back to abess's orthogonal-design values.
_HESSIAN_MAX = 1 << 22

#: MultinomialRefits.sacrifices keeps the statistics and Hessian blocks of its
#: last _KEPT_SUPPORTS supports (_KEPT_SUPPORTS_SPARSE, below, where it reads
#: a sparse X's entries; at most _KEPT_NUMBERS numbers of blocks
#: together, 64 MB; the newest always), so that a support asked for again at
#: the same refit costs no pass over the rows. lam="auto"'s polish asks for
#: each size's forward support twice: first in the swap search from it, then
#: in the forward step to the next size, after the rounds of that search and
#: of the starts searched after it (17 of 72 calls on a 3000 x 100
#: make_classification set of 30 classes, 17 of 79 with 10 classes, the
#: blocks most of such a fit's time; 16 of 198 on digits, where 4 kept
#: supports missed 2 of them and 8 none).
_KEPT_SUPPORTS = 8
_KEPT_NUMBERS = 1 << 23

#: A sparse X read through its entries (_SparseStandardized) keeps the newest
#: support's statistics and blocks only. There a support's blocks (p (s + 1)
#: K^2 numbers) are large beside X's stored entries, while forming them again
#: is a pass over those entries: on the --memory 3-class set of
#: benchmarks/sparse_classification.py (20000 x 2000, 1% non-zeros, the
#: development case) k=20 found none of its 27 supports kept either way and
#: lam="auto" 7 of 24 with 1 kept support as with 8, at the same CPU time and a
#: numpy peak of 8.4x and 5.6x X instead of 12.9x and 7.3x. On text_like sets
#: not looked at before (5000 x 3000 / 4 classes, 8000 x 2000 / 3; seeds 103,
#: 104), k=20 and lam="auto": the same supports at 0.98-1.02x the CPU time,
#: peaks 0.38-0.48x; 3000 x 8000 / 3 (seed 102) is screened to 320 columns
#: copied dense, which keep 8 as before (benchmarks/sparse_classification.py
#: --memory and --kept, session 46).
_KEPT_SUPPORTS_SPARSE = 1


def _all_classes(Hm):
    """Blocks ``(..., m, m)`` over the reference classes ``c, d < K`` extended to all ``K = m + 1``.

    Each row's ``delta_cd P_c - P_c P_d`` sums to zero over ``d``, so class
    ``K``'s row and column are minus the sums of the others.
    """
    m = Hm.shape[-1]
    H = np.empty(Hm.shape[:-2] + (m + 1, m + 1))
    H[..., :m, :m] = Hm
    H[..., :m, m] = -Hm.sum(-1)
    H[..., m, :m] = -Hm.sum(-2)
    H[..., m, m] = Hm.sum((-2, -1))
    return H


class ForwardBySacrifice:
    """``forward_gains`` of refits whose forward sacrifices rank additions to second order."""

    def forward_gains(self, S):
        """The add gains at the refit on ``S`` (forward stepwise selection)."""
        state, _ = self.fit(S)
        return self.sacrifices(state, S)[1]


class RefitFloors:
    """The bookkeeping of ``fit_many(cands, cutoff)`` for refits cached by support.

    A support that a cutoff left unsolved is not cached; the lower bound on
    its loss that stopped it is kept in ``floors``, so that a later call
    skips it while that bound lies above the call's own (the cutoff and
    the cached losses of its candidates).
    """

    def _opening_bound(self, keys, cutoff):
        """The cutoff, lowered by the cached losses among ``keys`` (reached ones)."""
        return min([float(cutoff)] + [self.cache[key][1] for key in keys if key in self.cache])

    def _ruled_out(self, key, bound):
        """Whether the uncached support ``key`` is known to lie above ``bound``."""
        return key not in self.cache and self.floors.get(key, -math.inf) > bound

    def _left_at(self, key, floor):
        """Keep ``floor``, a lower bound on the loss of the support ``key`` left unsolved."""
        self.floors[key] = max(self.floors.get(key, -math.inf), float(floor))


class _SparseStandardized:
    """The standardized columns ``(X - mean) / std`` of a sparse CPU X, never made dense whole.

    What :class:`MultinomialRefits` and :class:`skl0._splice_refits._BinaryRefits`
    read of their X when a dense float64
    copy (:func:`skl0._host_design.standardized_host`) would exceed
    ``skl0._host_design.SMALL_SPARSE_NUMBERS`` numbers: the dense standardized
    columns of a support (``n x s``), and the products of all the
    standardized columns' transpose, or of their squares', with a dense
    array of rows, from the sparse entries and the columns' means (each a
    scipy product over the stored entries plus a rank-one correction, in
    float64). The squares use the stored entries' ``x (x - 2 m)``, so that
    ``sum_i (x_ij - m_j)^2 v_i = sum_stored x (x - 2 m) v + m^2 sum_i v_i``.
    """

    def __init__(self, problem):
        self.mean = problem.mean.detach().cpu().double().numpy()
        self.std = problem.std.detach().cpu().double().numpy()
        X = problem.host.tocsr().astype(np.float64, copy=False)  # (read, never written)
        if not X.has_canonical_format:  # (the squares need each entry once)
            X = X.copy()
            X.sum_duplicates()
        self.csr = X
        # (the fit's canonical float64 CSC X where it kept one: the same entries)
        csc = problem.host_csc
        self.csc = csc if csc is not None and csc.shape == X.shape else X.tocsc()
        self.shape = X.shape

    @functools.cached_property
    def squares(self):
        """The entries' ``x (x - 2 m)`` on X's index arrays (shared), formed when first read
        (the second-order statistics; a binary search of first order never reads them)."""
        X = self.csr
        return sp.csr_matrix(
            (X.data * (X.data - 2.0 * self.mean[X.indices]), X.indices, X.indptr), shape=X.shape)

    def columns(self, S, rows=None):
        """The dense standardized columns ``S`` (of the ``rows``, a slice), a new float64 array."""
        every = _every_row(rows, self.shape[0])
        out = (self.csc[:, S] if every else self.csr[rows][:, S]).toarray()
        out -= self.mean[S]
        out /= self.std[S]
        return out

    def refit_columns(self, S, dense=False):
        """The standardized columns ``S`` for a refit: dense (n, len(S)) float64 while they
        hold at most ``skl0._refit._DENSE_SUPPORT_NUMBERS`` numbers (or ``dense``), else
        :class:`skl0._refit_newton.SparseColumns` (the rule of
        :func:`skl0._refit.refit_linear_head`'s columns)."""
        if dense or self.shape[0] * len(S) <= _DENSE_SUPPORT_NUMBERS:
            return self.columns(S)
        return SparseColumns(self.csr, S, self.mean[S], self.std[S])

    def weighted_gram(self, cols, v):
        """``Xs_cols' diag(v) Xs_cols`` and ``Xs_cols' v`` from the entries, never dense
        (:meth:`skl0._refit_newton.SparseColumns.weighted_gram`)."""
        return SparseColumns(self.csr, cols, self.mean[cols], self.std[cols]).weighted_gram(v)

    def rmatmul(self, T, rows=None):
        """``Xs[rows].T @ T`` (p, t) for a dense ``T`` (rows, t); ``rows`` a slice, or None for all."""
        return centred_rmatmul(_rows(self.csr, rows), T, self.mean, self.std)

    def squares_rmatmul(self, V, rows=None):
        """``(Xs[rows] ** 2).T @ V`` (p, t) for a dense ``V`` (rows, t); ``rows`` as :meth:`rmatmul`'s."""
        out = np.asarray(_rows(self.squares, rows).T @ V)
        out += np.multiply.outer(self.mean * self.mean, V.sum(0))
        out /= (self.std * self.std)[:, None]
        return out


def _every_row(rows, n):
    """Whether ``rows`` (a slice or None) takes all ``n`` rows in order."""
    return rows is None or (rows.start in (None, 0) and rows.stop in (None, n)
                            and rows.step in (None, 1))


def _rows(A, rows):
    """The ``rows`` (a slice or None) of the CSR ``A``: ``A`` itself for all of them (scipy's
    ``A[:]`` is a copy of every entry)."""
    return A if _every_row(rows, A.shape[0]) else A[rows]


#: A sparse X too large for the dense copy is read through its entries
#: (:class:`_SparseStandardized`) where its rows times classes are at most
#: this many. Set in session 44, when the multinomial refits cached each
#: support's fitted probabilities (n x K numbers, 1 MB here; a search
#: refits tens to hundreds of supports); since session 45 a sparse X's
#: refits keep their coefficients only, but a round still keeps its rows'
#: Hessian weights (n x K(K-1)/2 numbers) and each refit forms n x K
#: probabilities. Past it the generic row refits
#: (:class:`skl0._splice_refits._RowRefits`) keep none. The binary refits
#: (:class:`skl0._splice_refits._BinaryRefits`, K = 1 here: at most 131072 rows)
#: keep no logits of a sparse X's refits either.
#: At 20000 x 2000 with 1% non-zeros and 3 classes (a 4.7 MB CSR X) the
#: default fit's numpy peak is 5.6x X (26 MB) and k=20's 8.4x (39 MB; 7.3x
#: and 12.9x before _KEPT_SUPPORTS_SPARSE), against 2.8x with the row
#: refits, at 0.70x and 0.35x their CPU time;
#: with 2 classes 3.0x and 3.3x against 3.0x and 2.8x, at 0.74x and 0.63x
#: (benchmarks/sparse_classification.py --memory; the default's 3.0x was 4.0x
#: until session 46, when the reading was made with the refits, not on first read).
_SPARSE_ROWS_CLASSES_MAX = 1 << 17


def sparse_standardized(problem):
    """``problem``'s :class:`_SparseStandardized`: the one alive, if any, else a new one.

    The refits of one fit that are alive together (a fixed ``lam``'s flips
    and the search in them) share it: each reading holds a CSC copy of X's
    entries (a binary fit at a fixed ``lam`` on a CSC X of 12 MB held two).
    The problem keeps a weak reference only, so that a reading is freed
    with the last refits that read it: kept for the whole fit, the flips'
    reading sat beside the gate path's later points (a 40000 x 20000
    text-like ``lam="auto"`` fit peaked at 213 MB against 144 MB).
    """
    cache = problem.__dict__.setdefault("_engine_terms", {})
    ref = cache.get("sparse")
    reading = None if ref is None else ref()
    if reading is None:
        reading = _SparseStandardized(problem)
        # (held by the refits that read it, not by the problem: one made for a
        # fixed lam's flips is freed before the gate path's later points)
        cache["sparse"] = weakref.ref(reading)
    return reading


def sparse_design_applies(problem):
    """Whether :class:`MultinomialRefits` and :class:`skl0._splice_refits._BinaryRefits` read ``problem``'s X as :class:`_SparseStandardized`.

    A CPU row problem whose X is sparse and too large for the dense copy
    (:func:`skl0._host_design.small_sparse`), with at most
    ``_SPARSE_ROWS_CLASSES_MAX`` rows times classes.
    """
    return (problem.kind == "rows" and problem.host is not None
            and problem.mean.device.type == "cpu" and not small_sparse(problem)
            and problem.host.shape[0] * problem.datafit.n_outputs <= _SPARSE_ROWS_CLASSES_MAX)


class StandardizedRows:
    """The standardized X a log loss's numpy refits read, and what they ask of it.

    The dense float64 copy of small CPU data
    (:func:`skl0._host_design.standardized_host`, ``Xs``), or a larger sparse
    X's stored entries (:func:`sparse_standardized`, ``sparse``, where
    :func:`sparse_design_applies`); the other is None. ``datafit_class``:
    the log loss the refits serve (:meth:`applies`).
    """

    datafit_class = None

    def _read_rows(self, problem):
        # A sparse X's reading is made on first use, not here: select_by_ebic
        # makes its refits before it scores the path's points, whose refits
        # read their own columns; the reading's CSC copy of X's entries beside
        # them raised a 20000 x 250 CSR X's default fit from 1.90x to 2.18x
        # X's size at its peak.
        self._sparse_of = problem if sparse_design_applies(problem) else None
        self._sparse = None
        self.Xs = standardized_host(problem) if self._sparse_of is None else None

    @property
    def sparse(self):
        """The :class:`_SparseStandardized` reading of a large sparse X (made on first read),
        or None where the refits read the dense copy ``Xs``."""
        if self._sparse is None and self._sparse_of is not None:
            self._sparse = sparse_standardized(self._sparse_of)
        return self._sparse

    @classmethod
    def applies(cls, problem):
        return (isinstance(problem.datafit, cls.datafit_class)
                and (host_copy_fits(problem, sparse=True) or sparse_design_applies(problem)))

    @property
    def shape(self):
        """``(n, p)`` of the standardized X."""
        return self.Xs.shape if self._sparse_of is None else self._sparse_of.host.shape

    @property
    def n_rows(self):
        return self.shape[0]

    def _rmatmul(self, r):
        """``Xs.T @ r`` for a dense ``r`` (n,) or (n, t)."""
        return self.Xs.T @ r if self.sparse is None else self.sparse.rmatmul(r)

    def _dense_columns(self, S):
        """The standardized columns ``S`` as a dense (n, len(S)) float64 array (few columns)."""
        return self.Xs[:, S] if self.sparse is None else self.sparse.columns(S)

    def _all_columns(self):
        """Every standardized column, dense (a sparse X's made dense: small problems only)."""
        return self.Xs if self.sparse is None else self.sparse.columns(np.arange(self.shape[1]))


class MultinomialRefits(ForwardBySacrifice, RefitFloors, StandardizedRows):
    """Refits (numpy, warm-started, cached by support: Newton's method on small
    problems, else L-BFGS-B preconditioned by the Hessian at the last
    accepted refit; :func:`skl0._refit_newton.softmax_refit`) and second-order
    sacrifices of a multinomial log loss on small CPU data.

    The standardized X is the float64 copy of
    :func:`skl0._host_design.standardized_host` (at most
    ``skl0._host_design.HOST_COPY_MAX_NUMBERS`` numbers of a dense X, or a
    sparse X small enough to copy dense, as :class:`skl0._splice_refits._BinaryRefits`
    takes it: :func:`skl0._host_design.host_copy_fits`), so a small sparse X
    is searched as the same data dense (wine's ``lam="auto"`` kept 3
    columns from a CSR copy and 4 from the array before). A larger sparse
    X of at most ``_SPARSE_ROWS_CLASSES_MAX`` rows times classes is read
    through its stored entries instead (:class:`_SparseStandardized`,
    :func:`sparse_design_applies`; ``sparse``): the same statistics up to
    round-off, each support's columns dense while they hold at most
    ``skl0._refit._DENSE_SUPPORT_NUMBERS`` numbers and read sparse past
    that (:class:`skl0._refit_newton.SparseColumns`). ``fit`` returns
    ``((W, b, P), loss)`` with ``P`` the fitted class probabilities (None
    for a sparse X's, formed again where they are read) and
    ``loss`` the weighted mean log loss without the ridge, as
    :class:`skl0._splice_refits._BinaryRefits` does for two classes, or with it
    (``penalised=True``: the objective the refit minimises, the criterion
    of :func:`skl0._splice_refits.selection_refits`).
    """

    cached = True
    #: Inactive columns tried in single swaps each round. One, as for the
    #: other row problems: each refit is an L-BFGS-B solve over the rows (the
    #: digits fit's cost), and three gave the same supports' quality there
    #: at more refits.
    swap_in = 1
    #: The gains are good enough for forward stepwise selection.
    forward = True
    datafit_class = MultinomialLogLoss

    def __init__(self, problem, alpha, max_iter=200, penalised=False):
        # A larger sparse X is read through its entries (_SparseStandardized):
        # the same statistics, up to round-off, without the dense copy.
        self._read_rows(problem)
        self.labels = problem.Y.detach().cpu().numpy().reshape(-1).astype(np.intp)
        self.w = problem.w.detach().cpu().double().numpy()
        self.q = problem.datafit.n_outputs
        self.alpha, self.max_iter = float(alpha), max_iter
        self.penalised = penalised
        n, p = self.shape
        self.onehot = np.zeros((n, self.q))
        self.onehot[np.arange(n), self.labels] = 1.0
        self.start = (np.zeros((p, self.q)), np.zeros(self.q))  # the last accepted (W, b)
        self.cache = {}
        self.floors = {}  # lower bounds on the losses of supports fit_many left unsolved
        self.round = None  # the Hessian blocks at the last accepted refit (_curvature)
        self.kept = OrderedDict()  # sacrifices' recent results by support (_KEPT_SUPPORTS)

    def _columns(self, S):
        """The standardized columns ``S`` for a refit: dense (n, len(S)) float64, or
        :class:`skl0._refit_newton.SparseColumns` where a sparse X's would hold more than
        ``skl0._refit._DENSE_SUPPORT_NUMBERS`` numbers dense (the rule of
        :func:`skl0._refit.refit_linear_head`'s columns; never for Newton's
        small refits, whose Hessian reads them dense)."""
        if self.sparse is None:
            return self.Xs[:, S]
        return self.sparse.refit_columns(
            S, dense=softmax_newton_applies(self.n_rows, len(S), self.q))

    def fit(self, S, stop=None):
        key = S.tobytes()
        if key not in self.cache:
            q = self.q
            X = self._columns(S)
            x0 = np.concatenate([self.start[0][S].ravel(), self.start[1]])
            x = softmax_refit(X, self.labels, self.w, self.alpha, q, x0, self.max_iter,
                              curvature=lambda: self._curvature(S), stop=stop)
            return self._store(key, S, x, X)
        return self.cache[key]

    def fit_many(self, cands, cutoff=None):
        """:meth:`fit` of each row of ``cands``: ``[(state, loss), ...]``.

        ``cutoff``: only the lowest loss matters, and only below ``cutoff``
        (the swap search's argmin). A preconditioned L-BFGS-B refit then
        ends once, after its ``_STOP_AFTER``-th evaluation, its objective
        less ``_STOP_MARGIN`` times ``g' H^-1 g`` (``H`` the preconditioner,
        the Hessian at the accepted support's refit), and less twice the
        ridge term at the point where the loss leaves the ridge out (not
        ``penalised``), lies above both ``cutoff`` and the lowest loss of
        the supports before it; a Newton refit (small problems) likewise
        from its ``_DROP_AFTER``-th step with ``_DROP_MARGIN`` times its
        Newton decrement, the binary refits' rule. A stopped refit is
        reported as ``(None, inf)``, uncached, and that lower bound is kept,
        so that a later call skips it while the bound stays above.
        """
        if cutoff is None:
            return [self.fit(S) for S in cands]
        keys = [S.tobytes() for S in cands]
        bound = self._opening_bound(keys, cutoff)
        cands = np.asarray(cands)
        if (cands.ndim == 2 and len(cands) > 1
                and softmax_newton_applies(self.n_rows, cands.shape[1], self.q)):
            return self._fit_batch(cands, keys, bound)
        out = []
        for S, key in zip(cands, keys):
            if self._ruled_out(key, bound):
                out.append((None, math.inf))
                continue
            try:
                state, loss = self.fit(S, stop=self._stop_above(bound, S.size * self.q))
            except RefitStopped as stopped:
                self._left_at(key, stopped.floor)
                out.append((None, math.inf))
                continue
            out.append((state, loss))
            bound = min(bound, loss)
        return out

    def _fit_batch(self, cands, keys, bound):
        """:meth:`fit_many` with a cutoff where Newton's method refits every support (small data).

        The supports neither cached nor ruled out by a kept floor are
        refitted together (:func:`skl0._refit_newton.newton_softmax_batch`, in
        chunks of ``_SOFTMAX_BATCH_NUMBERS``), with the same stop rule as
        one refit's (:meth:`_stop_above`) against the lowest objective the
        batch has reached as well as the cutoff, the cached losses and the
        losses of the chunks before; a support whose Hessian failed is
        refitted alone (:meth:`fit`, where L-BFGS-B takes over). The same
        results as one refit after another up to round-off, in fewer numpy
        calls: the winner is the same, but a support that cannot win may be
        stopped where, refitted alone before a better one, it was finished.
        """
        n, s, q = self.n_rows, cands.shape[1], self.q
        out = [None] * len(keys)
        todo = {}  # key -> the positions asking for it
        for i, key in enumerate(keys):
            if key in self.cache:
                out[i] = self.cache[key]
            elif self._ruled_out(key, bound):
                out[i] = (None, math.inf)
            else:
                todo.setdefault(key, []).append(i)
        first = [at[0] for at in todo.values()]
        chunk = max(1, _SOFTMAX_BATCH_NUMBERS // (n * (s + 1) * q))
        for c0 in range(0, len(first), chunk):
            rows = first[c0 : c0 + chunk]
            batch = cands[rows]
            x0 = np.concatenate([self.start[0][batch].reshape(len(rows), s * q),
                                 np.broadcast_to(self.start[1], (len(rows), q))], axis=1)
            if self.sparse is None:
                X, at = self.Xs, batch
            else:  # the batch's own columns, dense (the Newton bound keeps n small)
                used = np.unique(batch)
                X, at = self.sparse.columns(used), np.searchsorted(used, batch)
            x, ok, floor = newton_softmax_batch(
                X, at, self.labels, self.w, self.alpha, q, x0, self.max_iter,
                bound=bound, penalised=self.penalised)
            for j, i in enumerate(rows):
                key, S = keys[i], batch[j]
                if not ok[j]:
                    try:
                        result = self.fit(S, stop=self._stop_above(bound, s * q))
                    except RefitStopped as stopped:
                        self._left_at(key, stopped.floor)
                        result = (None, math.inf)
                elif floor[j] > -math.inf:
                    self._left_at(key, floor[j])
                    result = (None, math.inf)
                else:
                    result = self._store(key, S, x[j])
                for at in todo[key]:
                    out[at] = result
                if result[0] is not None:
                    bound = min(bound, result[1])
        return out

    def _store(self, key, S, x, X=None):
        """Cache the refit ``x`` (in :func:`skl0._refit_newton.softmax_objective`'s order) on ``S``
        (``X``: its columns, when at hand): its ``((W, b, P), loss)``."""
        q, s = self.q, S.size
        W, b = x[: s * q].reshape(s, q), x[s * q :]
        loss, P = softmax_loss((self._columns(S) if X is None else X) @ W + b, self.labels, self.w)
        if self.penalised:
            loss += self.alpha * float((W * W).sum())
        # (a sparse X's refits keep no probabilities: n x K numbers each, tens
        # to hundreds of supports; _probabilities forms them again, the same)
        self.cache[key] = ((W, b, P if self.sparse is None else None), loss)
        return self.cache[key]

    def _probabilities(self, state, S):
        """The refit ``state``'s fitted class probabilities on ``S`` (kept, or formed again
        as :meth:`_store` formed them, for a sparse X)."""
        W, b, P = state
        if P is None:
            P = softmax_loss(self._columns(S) @ W + b, self.labels, self.w)[1]
        return P

    def _stop_above(self, bound, sq):
        """:func:`skl0._refit_newton.softmax_refit`'s ``stop`` for a refit that wins only below ``bound``.

        ``sq``: the number of coefficients in ``W`` (the ridge's share of
        ``x``). A Newton run (exact Hessian) follows the binary refits'
        rule, ``_DROP_MARGIN`` decrements from its ``_DROP_AFTER``-th step
        (:func:`skl0._refit_newton.newton_binary_batch`); a preconditioned
        L-BFGS-B run ``_STOP_MARGIN`` after its ``_STOP_AFTER``-th evaluation.
        """
        calls = {True: 0, False: 0}

        def stop(value, decrement, x, newton):
            calls[newton] += 1
            margin, after = (_DROP_MARGIN, _DROP_AFTER) if newton else (_STOP_MARGIN, _STOP_AFTER)
            floor = value - margin * decrement
            if not self.penalised:  # the loss is the objective less its ridge term
                floor -= 2.0 * self.alpha * float(x[:sq] @ x[:sq])
            return floor if calls[newton] > after and floor > bound else None

        return stop

    def sacrifices(self, state, S):
        """``(back, gain)``: the Wald and score statistics at the refit ``state`` on ``S``.

        Also makes ``state`` the warm start of the refits that follow and its
        Hessian blocks their preconditioner's (``round``, :meth:`_curvature`).
        Those of the last ``_KEPT_SUPPORTS`` supports are kept
        (``_KEPT_SUPPORTS_SPARSE`` on a sparse X read through its entries): asked again
        for the same ``S`` and ``state`` (the refits' cached one), the
        statistics and blocks are those kept, not formed again (the same
        numbers; the row weights ``V`` are formed again, as before, and the
        pairs of new columns start empty, as in a new round).
        """
        W, b, _ = state
        P = self._probabilities(state, S)
        p = self.shape[1]
        self.start = (np.zeros((p, self.q)), b)
        self.start[0][S] = W
        self.round = None
        key = S.tobytes()
        kept = self.kept.get(key)
        if kept is not None and all(x is y for x, y in zip(kept[0], state)):
            self.kept.move_to_end(key)
            _, back, gain, blocks = kept
            if blocks is not None:
                self.round = dict(blocks, S=S.copy(), pairs={},
                                  V=(np.concatenate(list(self._row_pairs(P, S.size + 1)[1])),
                                     self._pair_index()[1]))
            return back.copy(), gain.copy()
        back, gain = self._sacrifices(W, b, P, S)
        blocks = None if self.round is None else {
            name: self.round[name] for name in ("AA", "jA", "jj")}
        self._keep(key, (state, back, gain, blocks))
        return back.copy(), gain.copy()

    def _keep(self, key, entry):
        """Keep ``entry`` for :meth:`sacrifices`, dropping the oldest past ``_KEPT_SUPPORTS``
        (``_KEPT_SUPPORTS_SPARSE`` for a sparse X read through its entries) / ``_KEPT_NUMBERS``."""
        self.kept[key] = entry
        self.kept.move_to_end(key)

        def numbers(entry):
            return 0 if entry[3] is None else sum(x.size for x in entry[3].values())

        most = _KEPT_SUPPORTS if self._sparse_of is None else _KEPT_SUPPORTS_SPARSE
        while len(self.kept) > 1 and (
                len(self.kept) > most
                or sum(numbers(e) for e in self.kept.values()) > _KEPT_NUMBERS):
            self.kept.popitem(last=False)

    def _sacrifices(self, W, b, P, S):
        """:meth:`sacrifices` formed from the rows (and ``round`` with them)."""
        p = self.shape[1]
        m = self.q - 1
        R = self.w[:, None] * (P - self.onehot)  # d loss / d logits
        # reference-class gradient, (p, m)
        g = self._rmatmul(R)[:, :m]
        if p * m * m * (S.size + 1) > _HESSIAN_MAX:
            return (W * W).sum(1), (g * g).sum(1)
        H_AA, H_jA, H_jj, V = self._hessian_blocks(P, S)
        if V is not None:
            # The preconditioners' blocks, in (column, column, class, class)
            # order and with class K's rows and columns (_curvature).
            a0 = S.size + 1
            self.round = {
                "S": S.copy(), "V": V, "pairs": {},
                "AA": _all_classes(H_AA.reshape(a0, m, a0, m).transpose(0, 2, 1, 3)),
                "jA": _all_classes(H_jA.reshape(p, m, a0, m).transpose(0, 2, 1, 3)),
                "jj": _all_classes(H_jj),
            }
        a = S.size + 1
        diag = np.concatenate([H_AA.diagonal(), H_jj.reshape(p, -1)[:, :: m + 1].ravel()])
        jitter = ridge_jitter(diag)
        ridge = np.full(a * m, 2 * self.alpha + jitter)
        ridge[S.size * m :] = jitter  # the intercept is not penalised
        H_AA[np.diag_indices(a * m)] += ridge
        # Through L^-1 (potrf, trtri: 2/3 (a m)^3 multiplications, a third of
        # an LU inverse's): each block of H^-1 and each form h' H^-1 h is a
        # product of columns of L^-1 (at a fixed small lam's full support, 201
        # x 9 coefficients, the inverse was most of a flip round's time).
        Li = inverse_root(H_AA)
        # Drop j: Wald statistic of its m reference-class coefficients.
        theta = W[:, :m] - W[:, m:]
        k = S.size
        Lk = Li[:, : k * m].reshape(a * m, k, m)
        blocks = np.einsum("rtc,rtd->tcd", Lk, Lk)  # the diagonal blocks of H^-1
        back = 0.5 * np.einsum("tc,tc->t", theta, np.linalg.solve(blocks, theta[..., None])[..., 0])
        # Add j: score statistic with the efficient information (Schur
        # complement), for the inactive columns only (the callers rank those).
        out = np.setdiff1d(np.arange(p), S, assume_unique=True)
        gain = np.zeros(p)
        if out.size:
            Y = (H_jA[out].reshape(-1, a * m) @ Li.T).reshape(out.size, m, a * m)
            schur = H_jj[out] - np.einsum("jcx,jdx->jcd", Y, Y)
            schur += (2 * self.alpha + jitter) * np.eye(m)
            floor = 1e-12 * max(float(np.abs(H_jj).max()), 1e-300)
            schur += floor * np.eye(m)
            gout = g[out]
            gain[out] = 0.5 * np.einsum("jc,jc->j", gout,
                                        np.linalg.solve(schur, gout[..., None])[..., 0])
        return np.maximum(back, 0.0), np.maximum(gain, 0.0)

    def _curvature(self, S):
        """The Hessian (all ``q`` classes, in ``x``'s order) on ``S`` at the last accepted refit, or None.

        The preconditioner of :func:`skl0._refit_newton.softmax_refit`: a swap
        candidate's refit starts from the accepted support's weights, near
        which that support's fitted probabilities give the curvature. Its
        blocks between columns of the accepted support and any column are
        those :meth:`sacrifices` formed (over the reference classes ``c <
        K``; class ``K``'s follow from them); those between two columns new
        to ``S`` are formed here (once a round). Made the ridge objective's
        and positive definite by :func:`skl0._refit_newton.softmax_definite`. None before the first :meth:`sacrifices` or when that
        skipped the blocks (large problems).
        """
        rnd = self.round
        if rnd is None or S.size == 0:
            return None
        q, S0 = self.q, rnd["S"]
        a0, a = S0.size + 1, S.size + 1
        pos = np.searchsorted(S0, S)
        kept = pos < S0.size
        kept[kept] = S0[pos[kept]] == S[kept]
        old, new = np.flatnonzero(kept), np.flatnonzero(~kept)
        old_at = np.append(old, S.size)  # the intercept is last in both
        old_from = np.append(pos[old], a0 - 1)
        new_cols = S[new]
        H = np.empty((a, a, q, q))  # blocks (u, v, c, d)
        H[np.ix_(old_at, old_at)] = rnd["AA"][np.ix_(old_from, old_from)]
        if new.size:
            cross = rnd["jA"][np.ix_(new_cols, old_from)]
            H[np.ix_(new, old_at)] = cross
            H[np.ix_(old_at, new)] = cross.transpose(1, 0, 3, 2)
            if new.size > 1:
                H[np.ix_(new, new)] = self._new_pairs(new_cols)
            else:
                H[new, new] = rnd["jj"][new_cols]
        H = H.transpose(0, 2, 1, 3).reshape(a * q, a * q)
        return softmax_definite(H, S.size, q, self.alpha)

    def _new_pairs(self, cols):
        """Blocks ``sum_i w_i x_ij x_ik V_i`` (len, len, K, K) between columns new to the round's support.

        Formed once a round for each pair (the multi-swaps' incoming sets
        nest), from the rows' symmetric blocks' pairs ``c <= d`` (``V``).
        """
        rnd = self.round
        pairs, (V, tri) = rnd["pairs"], rnd["V"]
        todo = [j for j in cols if (j, j) not in pairs]
        if todo:
            known = sorted({j for j, _ in pairs} | set(todo))
            Xt, Xk = self._dense_columns(todo), self._dense_columns(known)
            n, t = V.shape
            T = (V[:, :, None] * Xt[:, None, :]).reshape(n, -1)
            B = (Xk.T @ T).reshape(len(known), t, len(todo))[:, tri]  # (known, m, m, todo)
            B = _all_classes(B.transpose(0, 3, 1, 2))  # (known, todo, K, K)
            for r, j in enumerate(todo):
                for c, k in enumerate(known):
                    pairs[(j, k)] = B[c, r]
                    pairs[(k, j)] = B[c, r].T
        return np.array([[pairs[(j, k)] for k in cols] for j in cols])

    def _hessian_blocks(self, P, S):
        """``H_AA`` (a m, a m), ``H_jA`` (p, m, a m), ``H_jj`` (p, m, m) of the mean log loss, and ``V``.

        ``A`` is ``S`` then the intercept (``a = |S| + 1`` columns of
        ``Z = [X_S, 1]``); ``H[(u, c), (v, d)] = sum_i w_i z_iu z_iv
        (delta_cd P_ic - P_ic P_id)`` over classes ``c, d < K``. ``V`` is
        ``(Vt, tri)``: ``Vt`` (n, m (m + 1) / 2) holds each row's
        ``w_i (delta_cd P_ic - P_ic P_id)`` for the pairs ``c <= d`` and
        ``tri`` (m, m) the pair of each ``(c, d)`` (for :meth:`_new_pairs`),
        or ``V`` is None past ``_HESSIAN_MAX`` numbers. Rows
        are taken in blocks so that no temporary exceeds ``_HESSIAN_MAX``
        numbers.
        """
        n, p = self.shape
        m, a = self.q - 1, S.size + 1
        # Each row's block is symmetric in (c, d): the products run over the
        # m (m + 1) / 2 pairs c <= d only (``tri`` maps (c, d) to its pair),
        # and H_AA's rows are H_jA's rows of S plus the intercept's, the
        # column sums (about 0.4x the multiplications on digits, k=20).
        t, tri = self._pair_index()
        H_jA = np.zeros((p, t * a))
        H_bA = np.zeros(t * a)  # the intercept's row
        H_jj = np.zeros((p, t))
        keep = n * m * m <= _HESSIAN_MAX
        Vs = []
        blocks, pair_weights = self._row_pairs(P, a)
        for rows, Vt in zip(blocks, pair_weights):
            if self.sparse is None:
                X = self.Xs[rows]
                Z = np.hstack([X[:, S], np.ones((X.shape[0], 1))])
            else:  # (the block's rows of the support's columns only, dense)
                Z = self.sparse.columns(S, rows)
                Z = np.hstack([Z, np.ones((Z.shape[0], 1))])
            T = (Vt[:, :, None] * Z[:, None, :]).reshape(-1, t * a)
            if self.sparse is None:
                H_jA += X.T @ T
                H_jj += (X * X).T @ Vt
            else:
                H_jA += self.sparse.rmatmul(T, rows)
                H_jj += self.sparse.squares_rmatmul(Vt, rows)
            H_bA += T.sum(0)
            if keep:
                Vs.append(Vt)
        # (pair, v) -> (c, d, v) -> (c, v, d)
        H_jA = H_jA.reshape(p, t, a)[:, tri].transpose(0, 1, 3, 2)  # (p, m, a, m)
        H_AA = np.concatenate([H_jA[S], H_bA.reshape(t, a)[tri].transpose(0, 2, 1)[None]])
        return (H_AA.reshape(a * m, a * m), H_jA.reshape(p, m, a * m), H_jj[:, tri],
                ((np.concatenate(Vs), tri) if keep else None))

    def _pair_index(self):
        """``(t, tri)``: the number of class pairs ``c <= d < K`` and each ``(c, d)``'s pair (m, m)."""
        m = self.q - 1
        iu = np.triu_indices(m)
        t = iu[0].size
        tri = np.empty((m, m), dtype=np.intp)
        tri[iu] = tri[iu[1], iu[0]] = np.arange(t)
        return t, tri

    def _row_pairs(self, P, a):
        """``(blocks, weights)``: :meth:`_hessian_blocks`' blocks of rows (slices) and each one's ``Vt``, lazily.

        A block's ``Vt`` (rows, m (m + 1) / 2) holds each row's ``w_i
        (delta_cd P_ic - P_ic P_id)`` for the pairs ``c <= d``; the blocks
        hold at most ``_HESSIAN_MAX / (m^2 a)`` rows, for a support of ``a
        - 1`` columns.
        """
        n, m = P.shape[0], self.q - 1
        iu = np.triu_indices(m)
        step = max(1, _HESSIAN_MAX // (m * m * a))
        blocks = [slice(lo, min(n, lo + step)) for lo in range(0, n, step)]

        def weights():
            for rows in blocks:
                Pm = P[rows, :m]
                V = -self.w[rows, None, None] * Pm[:, :, None] * Pm[:, None, :]
                V[:, np.arange(m), np.arange(m)] += self.w[rows, None] * Pm
                yield V[:, iu[0], iu[1]]

        return blocks, weights()

    def screen_losses(self, S, state, cands):
        """The second-order model, at the refit ``state`` on ``S``, of the refit objective on each row of ``cands``.

        ``cands`` (m, s): supports of one size. With ``x*`` the refit's
        coefficients on every column and the intercept (0 off ``S``), ``g``
        and ``H`` the objective's gradient and Hessian there over all ``p``
        columns (all ``K`` classes, made positive definite along the flat
        class sums by :func:`skl0._refit_newton.softmax_definite`, where ``g``
        vanishes), a support ``T`` is scored by the minimum of the quadratic
        model ``g'd + d'H d / 2`` over the steps ``d`` that leave
        ``x* + d`` on ``T`` and the intercept: with ``u`` the part of ``x*``
        off them (``S``'s columns not in ``T``) and ``c = g_F - (H u)_F``
        on their coordinates ``F``, ``-g'u + u'H u / 2 - c' H_FF^-1 c / 2``.
        A support one or two exchanges from ``S`` is scored from the same
        Hessian as one far away, so this ranks the candidates; the returned
        values are the model's changes from ``S``'s objective (``S`` itself
        scores 0, up to ``g``'s round-off). One pass over the rows forms
        ``H`` (``n ((p + 1) K)^2`` multiply-adds); each support costs a
        solve of order ``(s + 1) K``.
        """
        W, b, _ = state
        P = self._probabilities(state, S)
        n, p = self.shape
        q, a = self.q, p + 1
        Z = np.empty((n, a))
        # (sparse: every column dense, which the screen's cost cap keeps small)
        Z[:, :p] = self._all_columns()
        Z[:, p] = 1.0
        H = softmax_definite(softmax_hessian(*softmax_hessian_terms(Z, P, self.w), q),
                             p, q, self.alpha)
        x = np.zeros((a, q))
        x[S] = W
        x[p] = b
        g = Z.T @ (self.w[:, None] * (P - self.onehot))
        g[:p] += (2.0 * self.alpha) * x[:p]
        m, s = cands.shape
        classes = np.arange(q)
        F = np.concatenate([(cands[:, :, None] * q + classes).reshape(m, s * q),
                            np.broadcast_to(p * q + classes, (m, q))], axis=1)
        return quadratic_screen(H, g.ravel(), x.ravel(), F)

    def head(self, problem, S, state):
        return support_head(problem, S, state[0], state[1])
