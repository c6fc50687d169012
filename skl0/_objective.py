"""The gate engine's deterministic objective ``F(h, B, b)``, its gradient and array namespaces.

``F`` is the expected loss over independent Hard Concrete gates (exact for
squared loss, Boehning's bound for the log losses) plus ``alpha ||B||^2``
and the price ``lam sum_j h_j``; :mod:`skl0._engine`'s docstring derives
it. :class:`GateObjective` evaluates it from a problem's data term (rows,
:class:`_RowTerm`, or Gram statistics, :class:`_GramTerm`) through
:class:`NumpyOps` (float64 on the CPU) or :class:`TorchOps` (the data's
device). The solvers that minimise it are :mod:`skl0._engine` (L-BFGS-B,
the solves and paths), :mod:`skl0._vertex` (exact vertex search of Gram
problems) and :mod:`skl0._irls` (Newton starts of the log losses).

Torch, numpy and scipy only; no scikit-learn here.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from ._elementwise import exp, log1p, row_logsumexp, sigmoid
from ._heads import csr_transpose
from ._rows import (
    row_sum,
    skinny_columns,
    skinny_matmul,
    transposed_matmul,
)
from ._vertex import gate_ridge
from .nn.hard_concrete import signal_fraction

__all__ = ["NumpyOps", "TorchOps", "GateObjective", "data_term", "gate_bounds", "THETA_MAX"]


#: Box of the solve, as ``log_alpha``: the bounds of ``h`` are
#: ``h(-8) = 7.6e-4`` (closed: P(z != 0) < 2e-3) and ``h(8) = 0.9997``.
THETA_MAX = 8.0


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
