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
with ``V = B / h`` and ``b`` (:meth:`GateObjective.host_fun`), or, for
Gram problems of at most 4096 features, in ``h`` alone with ``B`` solved
out (:class:`skl0._vertex._ProfiledGram`). There ``F`` is concave along each gate
(unless ``alpha`` outweighs a column's correlation with the open ones), so
its minima are vertices, every gate fully open or closed: an exact flip
search over vertices (:meth:`skl0._vertex._ProfiledGram.vertex_search`) finds one, and
L-BFGS-B runs only where that vertex is not a KKT point. A binary log
loss on small or wide data starts from Newton steps (IRLS) whose quadratic models
are such Gram problems (:func:`_irls_vertex_start`), and so does a
multinomial one outside the estimators' own walks, whose weights Newton's
method then solves with the gates held at the start's vertex
(:func:`_softmax_vertex_newton`; L-BFGS-B only where that is not a KKT
point). The gate's ``log_alpha`` is ``h``'s inverse
(:func:`skl0.nn.log_alpha_for_signal`) and ``W = B / E[z]``, so
``prob_open``, the eq. 13 test-time gate and the mask read as for any
gate.

The arithmetic runs on numpy/scipy in float64 when the data is on the CPU
(``X`` itself is never copied or upcast: products are formed in ``X``'s
dtype) and on torch tensors on the data's device otherwise (the same code
through the :class:`TorchOps` namespace; only the parameter vector
travels to the host for L-BFGS-B).

The vertex search itself is :mod:`skl0._vertex` (numpy only, below this
module); a small fit's thread limits are :mod:`skl0._threads`.

Torch, numpy and scipy only; no scikit-learn here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import OptimizeResult, minimize

from . import _vertex
from ._elementwise import exp, log1p, row_logsumexp, row_softmax, sigmoid
from ._heads import csr_transpose
from ._rows import (
    row_sum,
    skinny_columns,
    skinny_matmul,
    transposed_matmul,
    weighted_squares,
)
from ._threads import blas_threads
from ._vertex import _FTOL, _GTOL, _dead_gates, _ProfiledGram, gate_ridge
from .nn.hard_concrete import gate_moments, log_alpha_for_signal, signal_fraction

__all__ = [
    "NumpyOps", "TorchOps", "GateObjective", "data_term", "gate_bounds",
    "profiled", "set_vertex", "solve_gates", "vertex_path", "THETA_MAX",
]

#: Box of the solve, as ``log_alpha``: the bounds of ``h`` are
#: ``h(-8) = 7.6e-4`` (closed: P(z != 0) < 2e-3) and ``h(8) = 0.9997``.
THETA_MAX = 8.0

# Gram problems with at most this many features are solved in h alone
# (:class:`_ProfiledGram`: a vertex search over the open columns' ridge
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

# Binary log losses start from IRLS over vertices (:func:`_irls_vertex_start`)
# whenever the standardized host copy of X fits (HOST_COPY_MAX_NUMBERS). A
# cold start opens every gate when p <= this, otherwise this many with the
# largest marginal gains: the quadratic models' Gram columns are formed
# only for gates that are or become open, O(n p) each, so the first steps
# cost O(n p m), not the O(n p^2) of all gates. (Not capped by n, which
# would make a weight of 2 and a repeated row open different gates.)
_IRLS_COLD_OPEN = 512

# In exact k's walk (past _IRLS_COLD_OPEN columns) a cold start opens at most
# this many gates per selected one: the walk's first lam is placed where about
# 3k gates stay open (skl0._gate_path.k_path_start), and each open gate's Gram
# column is p numbers kept through the step (512 of them: 78 MB at p=2e4,
# where the 40000 x 20000 text-like CSR X is 99 MB). At 128 gates the
# supports of k=20 on three 40000 x 20000 text_like sets (seeds 5, 100, 101)
# were the same as at 512 (session 47).
_IRLS_K_COLD_OPEN = 8

# Past _IRLS_COLD_OPEN columns an IRLS step's vertex search keeps at most
# this many numbers of Gram columns open: max(_IRLS_COLD_OPEN, this / p)
# gates (:func:`_irls_max_open`). Each open gate's column is p numbers, and
# the search otherwise opened as many as its model asked for: on a
# separable 1000 x 20000 CSR of 1% non-zeros (2.3 MB) the model at
# lam=1e-4 opened about 5800 gates at once, and the fit's numpy peak was
# 3.2 GB (session 48). L-BFGS-B then polishes from the capped start.
_IRLS_OPEN_NUMBERS = 1 << 22

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

# Past the host copy's size, IRLS (on X itself, :class:`_HostDesign`) starts
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


class NumpyOps:
    """Array operations of the engine on numpy / scipy (CPU, float64)."""

    name = "numpy"

    @staticmethod
    def float_array(a):
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        return np.asarray(a, dtype=np.float64)

    @classmethod
    def one_hot(cls, Y, n_classes):
        idx = np.asarray(cls.float_array(Y), dtype=np.intp).reshape(-1)
        out = np.zeros((idx.size, n_classes))
        out[np.arange(idx.size), idx] = 1.0
        return out

    sigmoid = staticmethod(sigmoid)
    exp = staticmethod(exp)

    @staticmethod
    def softplus(f):
        return softplus(f)

    logsumexp_rows = staticmethod(row_logsumexp)
    sum_rows = staticmethod(row_sum)

    @staticmethod
    def matmul(X, B):
        """``X @ B`` in X's dtype (X is not upcast), returned as float64."""
        return np.asarray(skinny_matmul(X, B.astype(X.dtype, copy=False)), dtype=np.float64)

    @staticmethod
    def rmatmul(X, R, XT=None):
        """``X.T @ R`` in X's dtype, returned as float64.

        ``XT``: ``X.T`` where the caller keeps it (a scipy sparse X's
        transpose is a new matrix object, ~35 us to make; the product is
        the same).
        """
        R = R.astype(X.dtype, copy=False)
        XT = X.T if XT is None else XT
        if R.ndim == 2 and not skinny_columns(XT, R.shape[1]):
            out = transposed_matmul(X, R) if isinstance(X, np.ndarray) else XT @ R
            return np.asarray(out, dtype=np.float64)
        return np.asarray(skinny_matmul(XT, R), dtype=np.float64)

    @staticmethod
    def from_host(a):
        return a

    @staticmethod
    def to_host(a):
        return np.asarray(a, dtype=np.float64)

    @staticmethod
    def data_matrix(problem):
        """X on the host: the scipy matrix behind a sparse X, else a numpy view."""
        if problem.host is not None:
            return problem.host
        return problem.X.detach().cpu().numpy()


class TorchOps:
    """The same operations on torch tensors (float64) on ``device``."""

    name = "torch"

    def __init__(self, device):
        self.device = torch.device(device)

    def float_array(self, a):
        return torch.as_tensor(a, device=self.device).to(torch.float64)

    def one_hot(self, Y, n_classes):
        idx = torch.as_tensor(Y, device=self.device).long().reshape(-1)
        return F.one_hot(idx, n_classes).to(torch.float64)

    sigmoid = staticmethod(torch.sigmoid)
    exp = staticmethod(torch.exp)
    softplus = staticmethod(F.softplus)

    @staticmethod
    def logsumexp_rows(a):
        return torch.logsumexp(a, 1)

    @staticmethod
    def sum_rows(a):
        return a.sum(1)

    @staticmethod
    def matmul(X, B):
        return (X @ B.to(X.dtype)).to(torch.float64)

    @staticmethod
    def rmatmul(X, R, XT=None):
        """``X.T @ R`` as float64 (a sparse X's transpose: ``XT``, else kept on X)."""
        if XT is None:
            XT = csr_transpose(X) if X.layout == torch.sparse_csr else X.t()
        return (XT @ R.to(X.dtype)).to(torch.float64)

    def from_host(self, a):
        return torch.as_tensor(a, device=self.device, dtype=torch.float64)

    @staticmethod
    def to_host(a):
        return a.detach().cpu().double().numpy()

    @staticmethod
    def data_matrix(problem):
        return problem.X


def default_ops(problem):
    """numpy on the CPU, torch on any other device."""
    device = problem.mean.device
    return NumpyOps() if device.type == "cpu" else TorchOps(device)


def gram_mse(yy, c, G, V):
    """Per-output weighted MSE ``yy - 2 <V, c> + <V, G V>`` of a Gram problem's weights ``V`` (torch or numpy)."""
    return yy - 2 * (V * c).sum(0) + (V * (G @ V)).sum(0)


class _GramTerm:
    """Squared loss of effective weights ``B`` from ``G = Xs'WXs``, ``c = Xs'WYc``."""

    fits_intercept = False

    def __init__(self, problem, ops):
        self.G = ops.float_array(problem.G)
        self.c = ops.float_array(problem.c)
        self.yy = float(ops.float_array(problem.yy).sum())
        self.q = problem.c.shape[1]
        self.d = self.G.diagonal() * 1.0  # a copy, not a view

    def value_grad(self, B, b):
        GB = self.G @ B
        loss = (self.yy - 2 * float((B * self.c).sum()) + float((B * GB).sum())) / self.q
        return loss, (2.0 / self.q) * (GB - self.c), None


#: Bytes of X per block of :class:`_RowTerm`'s fused product (an L3-sized block).
FUSED_BLOCK_BYTES = 1 << 22


class _RowTerm:
    """The datafit on the rows: ``pred = X (B / std) - (mean / std) B + b``."""

    fits_intercept = True

    def __init__(self, problem, ops):
        self.ops = ops
        self.X = ops.data_matrix(problem)
        self.datafit = problem.datafit
        self.Y = problem.datafit.targets(problem.Y, ops)
        self.w = ops.float_array(problem.w)
        std = ops.float_array(problem.std)
        self.inv = 1.0 / std
        self.shift = ops.float_array(problem.mean) * self.inv
        self.d = ops.float_array(problem.column_second_moments())
        # A dense host X of more than one block is read once per evaluation:
        # each block's product and transposed product run while it is in
        # cache (about 20% less time than two passes over X at n=1e5, p=1e3).
        self.rows = None  # rows per block, or None: one pass of each product
        # A scipy sparse X's transpose, made once (each evaluation's X' R
        # reads it; a torch sparse X keeps its own: csr_transpose).
        self.XT = None if isinstance(self.X, (np.ndarray, torch.Tensor)) else self.X.T
        if isinstance(self.X, np.ndarray):
            rows = max(64, FUSED_BLOCK_BYTES // max(self.X.shape[1] * self.X.itemsize, 1))
            if self.X.shape[0] > rows:
                self.rows = rows

    def _blocks(self):
        """``(X, Y, w)`` of each block of rows: the whole problem when not fused."""
        if self.rows is None:
            yield self.X, self.Y, self.w
            return
        for a in range(0, self.X.shape[0], self.rows):
            block = slice(a, a + self.rows)
            yield self.X[block], self.Y[block], self.w[block]

    @np.errstate(under="ignore")  # tiny residuals and probabilities: benign underflow
    def value_grad(self, B, b):
        ops = self.ops
        Bs, sB = B * self.inv[:, None], self.shift @ B
        if self.rows is None:  # one pass (the sums below from 0.0 as theirs)
            loss, R = self.datafit.value_grad(ops.matmul(self.X, Bs) - sB + b, self.Y, self.w,
                                              ops)
            rsum, XtR = 0.0 + R.sum(0), 0.0 + ops.rmatmul(self.X, R, self.XT)
            return 0.0 + loss, XtR * self.inv[:, None] - self.shift[:, None] * rsum, rsum
        loss, rsum, XtR = 0.0, 0.0, 0.0
        for Xb, Yb, wb in self._blocks():
            part, R = self.datafit.value_grad(ops.matmul(Xb, Bs) - sB + b, Yb, wb, ops)
            loss += part
            rsum = rsum + R.sum(0)
            XtR = XtR + ops.rmatmul(Xb, R)
        dB = XtR * self.inv[:, None] - self.shift[:, None] * rsum
        return loss, dB, rsum


def data_term(problem, ops=None):
    """The task loss of effective weights ``B`` on ``problem`` (cached per backend).

    ``data_term(problem).value_grad(B, b)`` gives ``(loss, dloss/dB, dloss/db)``
    (``db`` is None for Gram problems, whose intercept is 0).
    """
    ops = default_ops(problem) if ops is None else ops
    cache = problem.__dict__.setdefault("_engine_terms", {})
    if ops.name not in cache:
        cache[ops.name] = (_GramTerm if problem.kind == "gram" else _RowTerm)(problem, ops)
    return cache[ops.name]


def gate_bounds(gate):
    """``(h_min, h_max)``: the signal fractions of ``gate``'s box, ``log_alpha = -+THETA_MAX``.

    A closed and an open gate as the solves leave them (the vertices).
    """
    params = (gate.temperature, gate.gamma, gate.zeta)
    if all(type(v) is float for v in params):  # (as the gates store them)
        return _gate_bounds(*params)
    return _gate_bounds.__wrapped__(*params)


@functools.lru_cache(maxsize=16)
def _gate_bounds(temperature, gamma, zeta):
    """:func:`gate_bounds` of these Hard Concrete parameters, kept (each solve and path asks)."""
    lo, hi = signal_fraction(np.array([-THETA_MAX, THETA_MAX]), temperature, gamma, zeta)
    return float(lo), float(hi)


class GateObjective:
    """``F(h, B, b)`` of the module docstring with its gradient.

    Parameters
    ----------
    problem : GramProblem or DirectProblem
    lam : float
        Price of an open gate.
    alpha : float
        Ridge penalty on ``B`` (not on the intercept).
    ops : NumpyOps or TorchOps or None
        Where the arithmetic runs (default: :func:`default_ops`).
    """

    def __init__(self, problem, lam, alpha, ops=None, layout=None):
        self.ops = default_ops(problem) if ops is None else ops
        self.term = data_term(problem, self.ops)
        self.kd = problem.datafit.noise_curvature * self.term.d
        self.lam, self.alpha = float(lam), float(alpha)
        self.p, self.q = problem.n_features, problem.datafit.n_outputs
        # Groups and costs (skl0._groups.GroupLayout): one h per group,
        # h_cols = h[index], priced lam * sum_g costs_g h_g. None: one gate
        # per column at price lam (the code below is then unchanged).
        self.layout = layout
        self.n_gates = self.p if layout is None else layout.n_groups

    def expand(self, h):
        """Group values (host) -> column values (host)."""
        return h if self.layout is None or self.layout.is_identity else h[self.layout.index]

    def reduce(self, g):
        """Column gradients (host) -> group gradients (host): the chain rule of :meth:`expand`."""
        if self.layout is None or self.layout.is_identity:
            return g
        return np.bincount(self.layout.index, weights=g, minlength=self.n_gates)

    def price(self, h):
        """``lam`` times the (cost-weighted) sum of the gate values ``h`` (host)."""
        if self.layout is None:
            return self.lam * float(h.sum())
        return self.lam * float(self.layout.costs @ h)

    def price_grad(self):
        return self.lam if self.layout is None else self.lam * self.layout.costs

    def split(self, x):
        """Host vector -> (h, V, b) on the backend (on numpy, views of ``x``)."""
        p, pq, fits = self.p, self.p * self.q, self.term.fits_intercept
        h, V, b = x[:p], x[p : p + pq], (x[p + pq :] if fits else 0.0)
        if self.ops.name != "numpy":  # (numpy's from_host returns its argument)
            from_host = self.ops.from_host
            h, V, b = from_host(h), from_host(V), (from_host(b) if fits else 0.0)
        return h, V.reshape(p, self.q), b

    def join(self, g_h, g_V, db):
        """The gradient's parts on the backend -> one host vector (:meth:`split`'s inverse)."""
        fits = self.term.fits_intercept
        if self.ops.name != "numpy":  # (on numpy the parts are float64 arrays already)
            to_host = self.ops.to_host
            g_h, g_V, db = to_host(g_h), to_host(g_V), (to_host(db) if fits else None)
        parts = [g_h, g_V.ravel()]
        if fits:
            parts.append(db)
        return np.concatenate(parts)

    def __call__(self, h, B, b):
        """Return ``(F, dF/dh, dF/dB, dF/db, data loss)``."""
        loss, dB, db = self.term.value_grad(B, b)
        B2 = (B * B).sum(1)
        ridge = gate_ridge(self.kd, h, self.alpha)
        value = loss + float((ridge * B2).sum()) + self.lam * float(h.sum())
        g_h = self.lam - self.kd * B2 / (h * h)
        return value, g_h, dB + 2.0 * ridge[:, None] * B, db, loss

    def host_fun(self, x):
        """``(F, gradient)`` in the solver's coordinates ``(h, V, b)``, ``B = h V``.

        For fixed ``V`` the objective of an orthogonal design is linear in
        ``h``, and for fixed ``h`` quadratic in ``V``: no curved valley
        between a closing gate's ``h`` and its weight, as ``(h, B)`` has
        (``B^2 / h``). Written without ``1 / h``: the gate term is
        ``(kappa d_j (h_j - h_j^2) + alpha h_j^2) ||V_j||^2``, smooth down to
        ``h_j = 0`` (a closed gate, ``B_j = 0`` exactly).
        """
        if self.layout is not None:
            return self._group_host_fun(x)
        h, V, b = self.split(x)
        B = h[:, None] * V
        loss, dB, db = self.term.value_grad(B, b)
        V2 = (V * V).sum(1)
        coef = self.kd * (h - h * h) + self.alpha * h * h
        value = loss + float((coef * V2).sum()) + self.lam * float(h.sum())
        g_h = self.lam + (dB * V).sum(1) + (self.kd * (1.0 - 2.0 * h) + 2.0 * self.alpha * h) * V2
        g_V = h[:, None] * dB + 2.0 * coef[:, None] * V
        return value, self.join(g_h, g_V, db)

    def _group_host_fun(self, x):
        """:meth:`host_fun` with one ``h`` per group: ``x = (h_groups, V, b)``."""
        ng, p, q, ops = self.n_gates, self.p, self.q, self.ops
        hg = x[:ng]
        h = ops.from_host(self.expand(hg))
        V = ops.from_host(x[ng : ng + p * q]).reshape(p, q)
        b = ops.from_host(x[ng + p * q :]) if self.term.fits_intercept else 0.0
        B = h[:, None] * V
        loss, dB, db = self.term.value_grad(B, b)
        V2 = (V * V).sum(1)
        coef = self.kd * (h - h * h) + self.alpha * h * h
        value = loss + float((coef * V2).sum()) + self.price(hg)
        g_h = (dB * V).sum(1) + (self.kd * (1.0 - 2.0 * h) + 2.0 * self.alpha * h) * V2
        g_V = h[:, None] * dB + 2.0 * coef[:, None] * V
        parts = [self.reduce(ops.to_host(g_h)) + self.price_grad(), ops.to_host(g_V).ravel()]
        if self.term.fits_intercept:
            parts.append(ops.to_host(db))
        return value, np.concatenate(parts)


#: A row problem's solve may end once every gate has sat at a bound, with the
#: same gates open, for this many L-BFGS-B iterations (``solve_gates``'s
#: ``settle``): the weights are then refitted on the support anyway.
SETTLE_ITERATIONS = 10


def solve_gates(problem, gate, head, lam, *, alpha, max_iter, ops=None, check=None,
                sample_rows=False, settle=0, walk=False, compete=False):
    """Minimise :class:`GateObjective` from the gate's and head's current values.

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
        ``_IRLS_SOFTMAX_HANDOVER`` steps. A multinomial warm start that no
        IRLS step lowers (a point whose weights the Newton polish solved)
        meets the cold start all the same, at its own ``F``.

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
            cold = (_IRLS_COLD_OPEN if priced
                    else min(_IRLS_COLD_OPEN, _IRLS_K_COLD_OPEN * int(walk)))
            b0 = head.bias.detach().cpu().double().numpy()

            def irls_start(mask, B, b, share=False):
                return _irls_vertex_start(
                    problem, obj, start_kind, mask, B, b, lo, hi,
                    settle=_IRLS_SETTLE_STEPS if settle > 0 and start_kind == "irls" else 0,
                    cold_open=cold, priced=priced, share=share,
                    handover=(_IRLS_SOFTMAX_HANDOVER if start_kind == "softmax" and compete
                              and (share or B.any()) else 0))

            start = irls_start(h0 >= 0.5 * hi, B0, b0)
            # A multinomial warm start that no step lowers (its weights
            # already solved at its vertex, as the Newton polish below leaves
            # a path's point) still meets the cold start, at its own F.
            polish = start_kind == "softmax" and _SOFTMAX_VERTEX_NEWTON  # (below)
            if (start is not None or polish) and compete and B0.any() and _COLD_COMPETES:
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
                    polished = _softmax_vertex_newton(problem, obj, x0, lo, hi,
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
    zero, is a vertex search from it (:meth:`_ProfiledGram.vertex_search`)
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


#: The largest dense X whose standardized float64 copy the host-side solves
#: make (32 MB): IRLS starts for binary log losses and the swap search's
#: numpy refits (``_splice``).
HOST_COPY_MAX_NUMBERS = 1 << 22


def softplus(f, e=None):
    """``log(1 + e^f)`` elementwise (numpy), without overflow.

    As ``max(f, 0) + log1p(e^-|f|)``: the same values as
    ``np.logaddexp(0, f)`` to a few ulps at about a fifth of its cost.
    ``e``: ``exp(-|f|)``, when the caller has it (for the sigmoid too).
    """
    if e is None:
        e = exp(-np.abs(f))
    return np.maximum(f, 0.0) + log1p(e)


def logistic_loss(f, y, w):
    """``sum_i w_i (log(1 + e^f_i) - y_i f_i)``, the weighted binary log loss of logits ``f`` (numpy)."""
    return float(w @ (softplus(f) - y * f))


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
WARM_START_MIN_NUMBERS = HOST_COPY_MAX_NUMBERS
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
    (the two models of :func:`_irls_vertex_start`): on a
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
    fits = n * p <= HOST_COPY_MAX_NUMBERS
    if not (fits or n <= _IRLS_ROWS_PER_COLUMN * p):
        return None
    if (walk and kind == "softmax") or (walk == "auto" and not fits):
        return None
    return kind


def standardized_host(problem):
    """The standardized dense X of a CPU problem as float64 numpy, formed once per problem.

    A sparse X (only a :func:`small_sparse` one is passed here) is made
    dense. Shared by the IRLS start and the swap search's numpy refits of
    log losses (one copy).
    """
    cache = problem.__dict__.setdefault("_engine_terms", {})
    if "Xs" not in cache:
        mean = problem.mean.detach().cpu().double().numpy()
        std = problem.std.detach().cpu().double().numpy()
        if problem.host is not None:  # a small sparse X (see small_sparse)
            X = problem.host.toarray().astype(np.float64, copy=False)
        else:
            X = problem.X.detach().cpu().double().numpy()
        cache["Xs"] = (X - mean) / std
    return cache["Xs"]


#: A sparse X whose dense float64 copy holds at most this many numbers
#: (8 MB) is copied dense for the host-side solves (IRLS, the binary swap
#: search's refits): scipy's sparse-sparse products cost several times
#: BLAS's dense ones at such sizes, whatever the density.
SMALL_SPARSE_NUMBERS = 1 << 20


def small_sparse(problem):
    """Whether ``problem`` has a sparse host X small enough for a dense host copy."""
    return (problem.host is not None
            and problem.host.shape[0] * problem.host.shape[1] <= SMALL_SPARSE_NUMBERS)


def host_copy_fits(problem, sparse=False):
    """Whether a row problem's numpy solves may use :func:`standardized_host`.

    A CPU row problem (not Gram) whose X is dense and strided with at most
    ``HOST_COPY_MAX_NUMBERS`` numbers or, with ``sparse=True``, sparse and
    :func:`small_sparse`: the swap search's numpy refits (binary and
    multinomial log losses).
    """
    if problem.kind == "gram" or problem.mean.device.type != "cpu":
        return False
    if problem.host is not None:  # sparse: copied dense only when small
        return sparse and small_sparse(problem)
    return (problem.X.layout == torch.strided
            and problem.X.shape[0] * problem.X.shape[1] <= HOST_COPY_MAX_NUMBERS)


#: Numbers per block of rows when :class:`_HostDesign` squares X itself
#: (a 4 MB float64 block and its square).
_RAW_BLOCK_NUMBERS = 1 << 19

#: Numbers per block of rows when :class:`_HostDesign` sums the weighted
#: squares of its standardized copy ``Xs`` (a 512 KB block stays in cache:
#: 0.4-0.9x the time of 4 MB blocks, 0.4-0.8x that of one ``np.einsum``,
#: on 569 x 30 to 20000 x 50, single-threaded).
_SQUARES_BLOCK_NUMBERS = 1 << 16

#: Numbers in the ``p x m`` Gram columns of a sparse X that
#: :meth:`_HostDesign.columns` forms at once (4 MB; all ``m`` the vertex
#: search asked for at once, up to 512, until session 37: 82 MB and three
#: products' temporaries at n=1000, p=2e4).
_COLUMN_BLOCK_NUMBERS = 1 << 19


class _HostDesign:
    """The standardized X of a CPU row problem, as IRLS reads it.

    Two forms, one interface (``matvec``, ``rmatvec``, ``weighted``,
    ``columns``), all in float64 results:

    - a dense X of at most ``HOST_COPY_MAX_NUMBERS`` numbers, or a sparse
      one of at most ``SMALL_SPARSE_NUMBERS`` numbers when dense: the
      standardized float64 copy ``Xs`` (:func:`standardized_host`), formed
      once per problem;
    - a larger X: ``X`` itself (:meth:`NumpyOps.data_matrix`: a view of a
      dense one, the scipy matrix behind a sparse one), never copied, upcast
      or densified; products in its dtype (:meth:`NumpyOps.matmul`,
      :meth:`NumpyOps.rmatmul`) with the centring and scaling applied to the
      gathered columns and to the p-sized results (a sparse X's Gram
      columns: to the sparse product with its stored entries), and a dense
      X's squares formed in blocks of rows.
    """

    def __init__(self, problem):
        self.mean = problem.mean.detach().cpu().double().numpy()
        self.std = problem.std.detach().cpu().double().numpy()
        self.Xs = self.X = self.squares = None
        self._sums = None  # (D, X' D, D' (X * X)) of a large sparse X, for the last D
        if small_sparse(problem) or host_copy_fits(problem):
            self.Xs = standardized_host(problem)
            if self.Xs.size <= _SQUARES_BLOCK_NUMBERS:  # (small: one block of squares)
                cache = problem.__dict__["_engine_terms"]  # (standardized_host's)
                if "Xs2" not in cache:
                    cache["Xs2"] = self.Xs * self.Xs
                self.squares = cache["Xs2"]
        else:
            self.X = NumpyOps.data_matrix(problem)

    def _scale(self, A):
        """``A / std`` along the rows (A of shape (p,) or (p, k))."""
        return A / (self.std if A.ndim == 1 else self.std[:, None])

    def matvec(self, B):
        if self.Xs is not None:
            return self.Xs @ B
        v = self._scale(B)
        return NumpyOps.matmul(self.X, v) - self.mean @ v

    def rmatvec(self, r):
        if self.Xs is not None:
            return self.Xs.T @ r
        # Xs' r = (X' r - mean (1' r)') / std, in place on the fresh product
        # (no temporaries of its size: p x m for the Gram columns)
        out = NumpyOps.rmatmul(self.X, r)
        _subtract_outer(out, self.mean, r.sum(0))
        out /= self.std if out.ndim == 1 else self.std[:, None]
        return out

    def weighted(self, D):
        """``Xs' D`` and the diagonal of ``Xs' diag(D) Xs``."""
        if self.Xs is not None:
            rows = max(1, _SQUARES_BLOCK_NUMBERS // max(self.Xs.shape[1], 1))
            if rows >= self.Xs.shape[0] and self.squares is not None:
                # One block (weighted_squares' sums) of squares formed once per problem.
                out = np.zeros(self.Xs.shape[1])
                out += D @ self.squares
                return self.Xs.T @ D, out
            return self.Xs.T @ D, weighted_squares(self.Xs, D, rows)
        X = self.X
        if not isinstance(X, np.ndarray):  # sparse: from the sums of X and X^2
            raw, sq = self._sparse_sums(D)
            xD = raw - self.mean * D.sum(0)  # (rmatvec's centring)
            xD /= self.std
            m, sD = self.mean, float(D.sum())
            return xD, (sq - 2.0 * m * raw + sD * m * m) / (self.std * self.std)
        xD = self.rmatvec(D)
        rows = max(1, _RAW_BLOCK_NUMBERS // max(X.shape[1], 1))
        return xD, weighted_squares(X, D, rows, self.mean, self.std)

    def _sparse_sums(self, D):
        """``X' D`` and ``D' (X * X)`` of a large sparse X in one pass over its entries
        (:func:`skl0._problem.weighted_sums`), kept for the last ``D``: an IRLS
        step's :meth:`weighted` and :meth:`columns` read the same ``D``."""
        if self._sums is None or self._sums[0] is not D:
            from ._problem import weighted_sums

            self._sums = (D, *weighted_sums(self.X, D))
        return self._sums[1:]

    def column_blocks(self, M):
        """``M`` split into the blocks :meth:`columns` forms at once.

        A sparse X's in blocks of at most ``_COLUMN_BLOCK_NUMBERS`` numbers
        of their ``p x m`` Gram columns (at least 2 columns a block); a
        dense X's (its own size bounds them) whole.
        """
        if self.Xs is not None or isinstance(self.X, np.ndarray):
            return [M]
        size = max(2, _COLUMN_BLOCK_NUMBERS // max(self.X.shape[1], 1))
        return np.split(M, range(size, M.size, size))

    def columns(self, D, M):
        """``Xs' diag(D) Xs[:, M]`` of shape ``(p, len(M))``, a new array.

        A large sparse X's from its stored entries: ``X' diag(D) X[:, M]``
        is a sparse product, one pass over X's entries to gather the
        columns ``M`` and then the entries of the rows where they are
        non-zero (against ``m`` passes over every entry of X for the
        product with dense, centred columns: 27 against 72 ms for 13
        columns of a 40000 x 20000 text-like X of 8.6e6 entries, scratch
        timing), then centred and scaled, ``(X' D X_M - (X' D) mean_M' -
        mean (D' X_M - sD mean_M)') / (std std_M')``, as
        :meth:`weighted`'s diagonal is. Each column's numbers are the same
        whatever the other columns of ``M`` (:meth:`column_blocks`):
        scipy's sparse product sums each column on its own, in the order
        of X's stored entries.
        """
        if self.Xs is not None:
            return transposed_matmul(self.Xs, self.Xs[:, M] * D[:, None])
        X = self.X
        if isinstance(X, np.ndarray):
            Z = X[:, M] - self.mean[M]  # D times the standardized columns (float64), in place
            Z /= self.std[M]
            Z *= D[:, None]
            return self.rmatvec(Z)
        raw = self._sparse_sums(D)[0]
        S = X[:, M].tocsc()  # the columns' stored entries, scaled by D (in X's dtype)
        S.data = (S.data * D[S.indices]).astype(X.dtype, copy=False)
        dX = np.asarray(S.sum(0, dtype=np.float64)).ravel() - self.mean[M] * D.sum(0)
        A = np.asarray((S.T @ X).toarray(), dtype=np.float64)  # (m, p)
        del S
        _subtract_outer(A, self.mean[M], raw)  # (in place: no m x p temporaries)
        _subtract_outer(A, dX, self.mean)
        A /= self.std[M][:, None]
        A /= self.std
        return A.T


def _subtract_outer(A, u, v):
    """``A -= np.multiply.outer(u, v)`` in blocks of rows (no temporary of A's size).

    A 1-D ``A`` with a number ``v``: ``A -= u * v``.
    """
    if A.ndim == 1:
        A -= u * v
        return
    rows = max(1, _RAW_BLOCK_NUMBERS // max(A.shape[1], 1))
    for start in range(0, A.shape[0], rows):
        A[start : start + rows] -= np.multiply.outer(u[start : start + rows], v)


class _LazyGram:
    """``scale (Xs' D Xs - xD xD' / sD)``, ``xD = Xs' D``, formed a column at a time.

    The Gram matrix of an IRLS step's quadratic model (the intercept
    profiled out), as its vertex search reads it: the diagonal, and the
    columns of the gates that are or become open. A step whose search
    visits ``s`` columns costs O(n p s) instead of the O(n p^2) of the
    whole matrix (on a path, most points keep few gates open). The formed
    columns are the rows of one growing ``(capacity, p)`` buffer (the
    matrix is symmetric), so a block of them is a copy of whole rows, and
    ``G[rows][:, cols]`` a gather within those rows, returned as the
    transpose (Fortran order, which LAPACK and BLAS take as they are):
    gathered as columns of a ``(p, capacity)`` buffer, strided reads, the
    blocks of a wide problem's search cost more than its arithmetic.
    """

    def __init__(self, design, D, scale):
        self.design, self.D, self.scale = design, D, scale
        self.xD, diag = design.weighted(D)
        self.sD = float(D.sum())
        # (sD is 0 where every row's curvature has underflowed, rows separated at
        # alpha=0: the caller then stops before reading the diagonal; no warning)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._diag = scale * (diag - self.xD * self.xD / self.sD)
        p = self._diag.size
        self.slot = np.full(p, -1, dtype=np.intp)  # column j is buf[slot[j]]
        self.buf = np.empty((0, p))
        self.n_cols = 0

    def diagonal(self):
        return self._diag

    def _slots(self, J):
        """Buffer slots of the columns ``J``, forming the missing ones."""
        J = np.asarray(J, dtype=np.intp)
        slots = self.slot[J]
        absent = slots < 0
        if absent.any():  # (np.unique only then: most calls find every column formed)
            missing = J[absent]
            if missing.size > 1 and not (missing[1:] > missing[:-1]).all():
                missing = np.unique(missing)  # (the searches' own J are sorted and distinct)
            end = self.n_cols + missing.size
            if end > self.buf.shape[0]:
                # Grown by half (old and new buffers are alive at once: 2.5
                # times the old one, 3 times when it doubled), before the
                # columns are formed.
                grown = np.empty((max(end, self.buf.shape[0] + self.buf.shape[0] // 2),
                                  self.buf.shape[1]))
                grown[: self.n_cols] = self.buf[: self.n_cols]
                self.buf = grown
                del grown
            for cols in self.design.column_blocks(missing):
                block = self.design.columns(self.D, cols)
                _subtract_outer(block, self.xD, self.xD[cols] / self.sD)
                block *= self.scale
                self.buf[self.n_cols : self.n_cols + cols.size] = block.T
                del block
                self.slot[cols] = np.arange(self.n_cols, self.n_cols + cols.size)
                self.n_cols += cols.size
            slots = self.slot[J]
        return slots

    def columns(self, J):
        """The columns ``J`` as a ``(p, len(J))`` array (Fortran order)."""
        slots = self._slots(J)
        return self.buf.take(slots, axis=0).T

    def block(self, rows, cols):
        """``G[rows][:, cols]`` as a new array (Fortran order).

        Gathered a few buffer rows at a time: the whole ``(len(cols), p)``
        rows taken first were a second copy of the block's size, or larger
        (a search's ``G[S][:, S]`` took its ``s`` whole rows, 82 MB at
        ``s = 512``, ``p = 2e4``).
        """
        slots = self._slots(cols)  # (may replace the buffer)
        rows = np.asarray(rows, dtype=np.intp)
        out = np.empty((slots.size, rows.size))
        step = max(1, _SQUARES_BLOCK_NUMBERS // max(self.buf.shape[1], 1))
        for start in range(0, slots.size, step):
            # (mode="clip": the rows are valid, and take's "raise" writes to a
            # buffer of out's block first)
            self.buf.take(slots[start : start + step], axis=0).take(
                rows, axis=1, out=out[start : start + step], mode="clip")
        return out.T


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
    (:meth:`_ProfiledGram.vertex_search`, at most ``_IRLS_STEP_MOVES``
    moves past ``_IRLS_COLD_OPEN`` columns) gives the next open set and
    weights. ``kind`` (:func:`_vertex_start`):

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
    the weights were still moving; :func:`solve_gates` then takes the
    point as it is). ``handover > 0`` (:func:`solve_gates` passes it to
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


#: After a multinomial IRLS start, :func:`solve_gates` converges the weights
#: at the start's vertex by Newton's method (:func:`_softmax_vertex_newton`),
#: and L-BFGS-B runs only where the result is not a KKT point of the box.
#: L-BFGS-B alone had to converge them in the joint coordinates (h, V, b),
#: where the closed gates' V are nearly free: ~130 iterations a polish,
#: up to its cap of 300, with the open set fixed throughout. False: the
#: code path before it (``benchmarks/vertex_newton.py`` compares the two).
_SOFTMAX_VERTEX_NEWTON = True
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
    intercepts, solved here by Newton's method (:func:`skl0._refit._newton`,
    the exact Hessian :func:`skl0._blocks.softmax_hessian` plus the ridge)
    with the closed columns' tiny weights held as an offset of the logits.
    The closed columns' ``V`` then get the value that zeroes their
    gradient, as at the end of the start. Returns ``(x, steps)``, the
    point in the same coordinates and the number of Newton steps, or None
    where it does not apply (a Hessian of more than ``_VERTEX_NEWTON_MAX``
    multiply-adds, open columns of more than ``HOST_COPY_MAX_NUMBERS``
    numbers, a gate between the bounds) or a factorisation fails.
    :func:`solve_gates` takes the point as the solution if it is a KKT
    point of the box, else L-BFGS-B goes on from it.
    """
    from ._blocks import softmax_hessian, softmax_hessian_terms
    from ._refit import _newton, softmax_definite

    p, q, ng = obj.p, obj.q, obj.n_gates
    Y = np.asarray(obj.term.Y, dtype=np.float64)
    n = Y.shape[0]
    h = obj.expand(x[:ng])
    S, C = np.flatnonzero(h >= hi), np.flatnonzero(h < hi)
    s, a = S.size, S.size + 1
    if (n * (a * q) ** 2 > _VERTEX_NEWTON_MAX or n * a > HOST_COPY_MAX_NUMBERS
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
    cold competitors of a path's warm points (:func:`solve_gates`) form
    them once, at the first, and reuse them (the same numbers, not
    approximated). Kept on the problem for the rest of its path (a Gram
    matrix and a factor of order ``p <= 512``, up to 2 MB each): a
    fixed-``lam`` fit and a path's first point, which start cold once, keep
    nothing, and free the first model's columns before the second step's
    are formed.
    Returns the dict that :func:`_irls_vertex_start` fills (``"model"``:
    ``(D, R, X'R, G)``; ``"known"``: the vertex search's start as its
    ``known`` vertices take it, see
    :meth:`_ProfiledGram.vertex_search`'s ``keep_start``), kept on the
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


def profiled(problem, head):
    """Whether a path on ``problem`` can run by :func:`vertex_path`."""
    return (getattr(head, "is_linear", False) and problem.kind == "gram"
            and problem.n_features <= _PROFILE_MAX_FEATURES)


def vertex_path(problem, gate, head, lams, *, alpha):
    """Solutions of a profiled Gram problem along increasing ``lams``, by vertex search.

    What :func:`solve_gates` computes at each ``lam`` in turn (warm-started
    from the previous solution), without its per-point set-up: one
    :class:`_ProfiledGram` serves the whole path, and a ``lam`` inside the
    interval over which the previous vertex stays the solution
    (:meth:`_ProfiledGram._stable_interval`) costs no search at all; one
    outside it starts from the previous vertex's pivoted system
    (:class:`skl0._linalg.PivotedSystem`: ``A_SS^-1``, the weights, the
    closed gates' residual correlations and Schur complements), which does
    not depend on ``lam``, and moves by pivoting it where a few gates flip
    (see :meth:`_ProfiledGram.vertex_search`). Each yielded vertex's
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

