"""The numpy solvers of the refits' log losses: Newton's method (one support or a batch), L-BFGS-B.

A refit on a support is a strictly convex problem in the head's weights:
the binary log loss (:func:`newton_binary`, batched over candidate
supports by :func:`newton_binary_batch`) and the multinomial one
(:func:`newton_softmax`, :func:`newton_softmax_batch`; L-BFGS-B past
Newton's size, :func:`softmax_refit`), each at a ridge ``alpha``, on the
standardized columns (a dense float64 copy, or a sparse X read through
:class:`SparseColumns`). The debiasing refits of :mod:`skl0._refit`, the
swap search's refits (:mod:`skl0._splice_refits`,
:mod:`skl0._splice_multinomial`) and the multinomial start's Newton at its
vertex (:mod:`skl0._irls`) call them.

numpy and scipy only (a sparse X is read as scipy CSR); nothing of the
training loop, so the engine's layers may import this module.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._blocks import softmax_hessian, softmax_hessian_terms
from ._elementwise import exp, row_softmax, sigmoid
from ._lbfgsb import lbfgsb
from ._linalg import cholesky, cholesky_solve, unwhiten, whiten
from ._objective import logistic_loss, softplus
from ._rows import skinny_columns, skinny_matmul

__all__ = [
    "binary_objective",
    "newton_binary",
    "newton_binary_batch",
    "newton_softmax",
    "newton_softmax_batch",
    "RefitStopped",
    "SparseColumns",
    "ridge_jitter",
    "softmax_definite",
    "softmax_loss",
    "softmax_newton_applies",
    "softmax_objective",
    "softmax_refit",
]

def centred_rmatmul(A, r, mean, std):
    """``((A - mean) / std).T @ r`` for a scipy sparse ``A`` and a dense ``r`` of shape (n,) or (n, k).

    The centring and scaling are applied to the product, so ``A`` stays
    sparse (:class:`SparseColumns`, and the multinomial refits' reading of
    a large sparse X, :class:`skl0._splice_multinomial._SparseStandardized`).
    """
    out = np.asarray(A.T @ r)
    if out.ndim == 1:
        return (out - mean * r.sum()) / std
    return (out - np.multiply.outer(mean, r.sum(0))) / std[:, None]


class SparseColumns:
    """The standardized columns ``(X[:, S] - mean) / std`` of a scipy sparse X, never made dense.

    What a log loss's refit reads of them: ``Xs @ V``, ``Xs.T @ R`` and a
    binary Hessian's ``Xs' diag(d) Xs`` (:meth:`weighted_gram`), from the sparse
    columns ``X[:, S]`` (float64 CSR, ``nnz`` numbers where the dense ones
    are ``n |S|``), with the centring and scaling applied to the products,
    as :class:`skl0._host_design._HostDesign` reads a large X. The same values
    as the dense columns' products up to round-off (a different order of
    summation), except where a column's mean is large against its spread
    (a column stored in almost every row, offset far from zero): the
    centred ``X' D X`` then cancels, a relative error of about
    ``eps (mean / std)^2`` in the Hessian only (Newton's steps, not its
    fixed point).
    """

    def __init__(self, host, S, mean, std):
        A = host[:, S]
        self.A = (A if A.format == "csr" else A.tocsr()).astype(np.float64, copy=False)
        self.mean, self.std = mean, std
        self.shape = self.A.shape
        self.T = _TransposedColumns(self)

    def __matmul__(self, v):
        u = v / (self.std if v.ndim == 1 else self.std[:, None])
        return self.A @ u - self.mean @ u

    def rmatmul(self, r):
        """``Xs.T @ r`` (``r`` of shape (n,) or (n, k))."""
        return centred_rmatmul(self.A, r, self.mean, self.std)

    def weighted_gram(self, d):
        """``Xs' diag(d) Xs`` and ``Xs' d`` (float64), the binary refit's Hessian blocks."""
        A = self.A
        Ad = A.copy()
        Ad.data *= np.repeat(d, np.diff(A.indptr))
        G = (A.T @ Ad).toarray()
        xd = np.asarray(Ad.sum(axis=0)).ravel()
        m, sd = self.mean, float(d.sum())
        G -= np.multiply.outer(m, xd)
        G -= np.multiply.outer(xd, m)
        G += sd * np.multiply.outer(m, m)
        G /= np.multiply.outer(self.std, self.std)
        return G, (xd - sd * m) / self.std


class _TransposedColumns:
    """``Xs.T`` of :class:`SparseColumns` (``Xs.T @ r``)."""

    def __init__(self, columns):
        self.columns = columns
        self.shape = columns.shape[::-1]

    def __matmul__(self, r):
        return self.columns.rmatmul(r)


#: float64's machine epsilon (a numpy scalar, as ``np.finfo`` gives it), looked up once.
_EPS64 = np.finfo(np.float64).eps


def ridge_jitter(diagonal):
    """The refit's diagonal jitter: ``10 eps max(mean(diagonal), 1)`` (float64).

    ``diagonal`` (m, d): the jitters of ``m`` diagonals, an array.
    """
    jitter = _EPS64 * 10 * np.maximum(np.mean(diagonal, axis=-1), 1.0)
    return float(jitter) if np.ndim(jitter) == 0 else jitter


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def softmax_loss(F, labels, w):
    """The weighted multinomial log loss of logits ``F`` and the class probabilities (numpy).

    ``sum_i w_i (logsumexp(F_i) - F_i,labels_i)`` and ``P = softmax(F)``
    by rows, for the swap search's refits
    (:class:`skl0._splice_multinomial.MultinomialRefits`; the refits'
    objective, :func:`softmax_objective`, reduces over the classes of
    transposed logits instead). The log-sum-exp
    is by hand, with the row reductions of :mod:`skl0._rows`: scipy's
    ``logsumexp`` costs ~1 ms a call in argument handling (most of a small
    refit's time on digits), and numpy's reductions along the short class
    axis most of a large one's.
    """
    lse, P = row_softmax(F)
    return float(w @ (lse - F[np.arange(F.shape[0]), labels])), P


def softmax_objective(X, labels, w, alpha, q):
    """``x = (W, b) -> (value, gradient)`` of the weighted multinomial log loss plus ``alpha ||W||^2``.

    ``X`` (n, s) float64 standardized columns, ``labels`` class indices in
    ``0 .. q-1``, ``w`` weights summing to one; ``x`` holds ``W`` (s, q)
    row-major, then ``b`` (q). The objective of every multinomial refit on
    the CPU.

    The labels' part of the loss, ``sum_i w_i F_i,labels_i``, is linear in
    ``(W, b)``: its coefficients ``C = (w X)' Y`` and ``c = w' Y`` (``Y`` the
    one-hot labels) are formed once, so an evaluation is two products with
    X, one ``exp`` and reductions over the classes (about a third of the
    time of the direct form at n=2e4 rows).

    The logits are formed transposed, ``F'`` (q, n) in row-major order, so
    that the reductions over the classes (the maximum, the sum) and the
    division by the sum run along whole rows of n numbers rather than along
    the short class axis (:mod:`skl0._rows`' loops over strided columns).
    With at most ``_SKINNY_MAX`` classes the products are one BLAS
    matrix-vector product per class (:func:`skl0._rows.skinny_matmul`'s
    rule); with more, the intercept is a row of ones under ``X'`` (formed
    once), so that one matrix product gives the logits and one the whole
    gradient, and the weights multiply the probabilities. On digits
    (n=1797, 10 classes, 14 columns) an evaluation took 75 us instead of
    115 with numpy's reductions along the class axis; these refits are the
    cost of ``lam="auto"``'s swap search.
    """
    n, s = X.shape
    a, sq = s + 1, s * q
    onehot = np.zeros((n, q))
    onehot[np.arange(n), labels] = 1.0
    if isinstance(X, SparseColumns):
        # Products with the sparse columns (no dense or weighted copy of
        # them); the weights multiply the probabilities, as below.
        C, c = X.T @ (onehot * w[:, None]), w @ onehot

        def objective(x):
            W, b = x[:sq].reshape(s, q), x[sq:]
            FT = np.ascontiguousarray((X @ W).T)
            FT += b[:, None]
            lse = _class_softmax(FT, w)  # FT now holds w_i P_ic
            grad = np.empty(sq + q)
            grad_W = grad[:sq].reshape(s, q)
            grad_W[:] = X.T @ FT.T
            grad_W -= C
            grad_W += (2.0 * alpha) * W
            np.sum(FT, axis=1, out=grad[sq:])
            grad[sq:] -= c
            value = float(w @ lse) - float(np.vdot(C, W)) - float(c @ b)
            return value + alpha * float(np.vdot(W, W)), grad

        return objective
    if skinny_columns(X, q):
        Xw = X * w[:, None]
        C, c = skinny_matmul(Xw.T, onehot), w @ onehot

        def objective(x):
            W, b = x[:sq].reshape(s, q), x[sq:]
            FT = np.empty((q, n))
            for j in range(q):
                np.dot(X, W[:, j], out=FT[j])
            FT += b[:, None]
            lse = _class_softmax(FT)
            grad = np.empty(sq + q)
            grad_W = grad[:sq].reshape(s, q)
            for j in range(q):
                grad_W[:, j] = Xw.T @ FT[j]
            grad_W -= C
            grad_W += (2.0 * alpha) * W
            np.dot(FT, w, out=grad[sq:])
            grad[sq:] -= c
            value = float(w @ lse) - float(np.vdot(C, W)) - float(c @ b)
            return value + alpha * float(np.vdot(W, W)), grad

        return objective

    # Z' = [X, 1]' (a, n): the intercept is Z's last column, so that one
    # product gives the logits with it and one the gradient of (W, b), the
    # (a, q) matrix x is. Z' replaces the weighted copy (w X) of X: the
    # weights multiply the probabilities (q numbers a row) instead.
    ZT = np.empty((a, n))
    ZT[:s] = X.T
    ZT[s] = 1.0
    C = ZT @ (onehot * w[:, None])

    def objective(x):
        Wb = x.reshape(a, q)
        W = Wb[:s]
        FT = Wb.T @ ZT
        lse = _class_softmax(FT, w)  # FT now holds w_i P_ic
        grad = np.dot(ZT, FT.T)
        grad -= C
        grad[:s] += (2.0 * alpha) * W
        value = float(w @ lse) - float(np.vdot(C, Wb)) + alpha * float(np.vdot(W, W))
        return value, grad.ravel()

    return objective


def _class_softmax(FT, w=None):
    """The softmax of each column of ``FT`` (q, n) in place; returns the columns' log-sum-exp.

    With ``w`` (n,), column ``i`` is left as ``w_i`` times its softmax (one
    multiplication by ``w / total`` instead of a division and a product).
    ``FT`` (m, q, n): the logits of ``m`` supports, ``(m, n)`` returned.
    """
    top = FT.max(axis=-2)
    FT -= top[..., None, :]
    exp(FT, out=FT)
    total = FT.sum(axis=-2)
    lse = np.log(total)
    lse += top
    if w is None:
        FT /= total[..., None, :]
    else:
        FT *= np.divide(w, total, out=total)[..., None, :]
    return lse


#: Multinomial refits of ``s`` columns, ``n`` rows and ``q`` classes use
#: Newton's method (:func:`newton_softmax`) instead of L-BFGS-B when
#: ``n (s+1) q <= _SOFTMAX_NEWTON_ROWS`` and the Hessian costs at most
#: ``n ((s+1) q)^2 <= _SOFTMAX_NEWTON_MAX`` multiplications. On small
#: near-separable data a refit took ~40 L-BFGS-B evaluations, most of their
#: time scipy's per-call overhead, against ~8 Newton steps (wine
#: ``lam="auto"`` 0.57x the time, iris 0.95x); from ~500 rows a Newton step
#: costs several evaluations and the two were level (``make_classification``
#: with 500 and 1500 rows, digits' first 3 or 5 classes), and past the
#: second bound (digits, 10 classes) the Hessian costs more than the
#: evaluations it saves. Chosen on iris, wine and digits' first 3 / 5
#: classes; the held-out ``make_classification`` sets are in
#: ``docs/heads.md``.
_SOFTMAX_NEWTON_ROWS = 1 << 14


_SOFTMAX_NEWTON_MAX = 1 << 20


def softmax_newton_applies(n, s, q):
    """Whether :func:`softmax_refit` solves ``s`` columns of ``n`` rows and ``q`` classes by Newton."""
    return n * (s + 1) * q <= _SOFTMAX_NEWTON_ROWS and n * ((s + 1) * q) ** 2 <= _SOFTMAX_NEWTON_MAX


def newton_softmax(X, labels, w, alpha, q, x0, max_iter, stop=None):
    """Newton's method with backtracking for the ridge-``alpha`` multinomial log loss.

    ``x = (W, b)`` and the value and gradient as in :func:`softmax_objective`.
    The Hessian is ``H[(u, c), (v, d)] = sum_i w_i z_iu z_iv (delta_cd P_ic -
    P_ic P_id)`` over ``Z = [X, 1]`` (:func:`skl0._blocks.softmax_hessian`),
    plus ``2 alpha`` on ``W`` and the mean curvature along the class sums
    where the loss is flat (:func:`softmax_definite`). The loop is
    :func:`_newton`'s (``stop`` as there). Returns None when a factorisation
    fails (then L-BFGS-B solves it).
    """
    n, s = X.shape
    a = s + 1
    objective = softmax_objective(X, labels, w, alpha, q)
    Z = np.empty((n, a))
    Z[:, :s] = X
    Z[:, s] = 1.0

    def hessian(x, _):
        # The Dask fit's Hessian on its workers' pieces (skl0._blocks).
        P = row_softmax(Z @ x.reshape(a, q), overwrite=True)[1]
        return softmax_definite(softmax_hessian(*softmax_hessian_terms(Z, P, w), q), s, q, alpha)

    return _newton(lambda x: (*objective(x), None), hessian, x0, max_iter, stop=stop)


def softmax_definite(H, s, q, alpha):
    """The multinomial log loss's Hessian ``H`` on ``s`` columns made the ridge objective's, positive definite (in place).

    ``H`` of order ``(s + 1) q``, in the order of ``x = (W, b)`` (W
    row-major, then the ``q`` intercepts). Adds ``2 alpha`` on ``W``'s
    diagonal (``alpha`` a number, or one per column: the gate solve's
    ridges, :func:`skl0._irls._softmax_vertex_newton`), and along the
    class sums where the loss is flat (the intercepts', and those of the
    rows of ``W`` without a ridge: there ``H`` and the gradient vanish, so
    Newton's step is unchanged) the mean curvature, then
    :func:`ridge_jitter`. The Hessian of :func:`newton_softmax` and the
    preconditioner of the swap search's refits
    (:meth:`skl0._splice_multinomial.MultinomialRefits._curvature`).
    ``H`` (m, (s + 1) q, (s + 1) q): the Hessians of ``m`` supports, each
    made so (:func:`newton_softmax_batch`).
    """
    ridge = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (s,))
    Hd = np.einsum("...jj->...j", H)  # a writable view of the diagonal(s)
    mu = np.asarray(Hd.mean(axis=-1) / q)
    Hd[..., : s * q] += 2.0 * np.repeat(ridge, q)
    for u in [*np.flatnonzero(ridge <= 0), s]:
        H[..., u * q : (u + 1) * q, u * q : (u + 1) * q] += mu[..., None, None]
    Hd += np.asarray(ridge_jitter(Hd))[..., None]
    return H


#: :func:`newton_softmax_batch` takes supports in chunks whose per-support
#: row products (``n (s + 1) q`` numbers each, the Hessian's) hold at most
#: this many numbers together (16 MB).
_SOFTMAX_BATCH_NUMBERS = 1 << 21


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def newton_softmax_batch(Xs, cands, labels, w, alpha, q, x0, max_iter, bound=None,
                         penalised=False):
    """:func:`newton_softmax` on the supports in the rows of ``cands`` at once.

    ``Xs`` (n, p) the standardized columns, ``cands`` (m, s) column indices
    (every support of one size), ``x0`` (m, (s + 1) q) the starts in
    :func:`softmax_objective`'s order. Each support follows
    :func:`_newton`'s own iterates (the same value, gradient, Hessian as
    :func:`softmax_definite` makes it, step, backtracking and convergence
    tests, one step length per support), so the results are
    :func:`newton_softmax`'s up to the round-off of batched products; the
    Python work of a step is paid once for the batch instead of once per
    support, which on small data was most of a refit's cost (wine's
    ``lam="auto"`` makes about 300 of them, a few Newton steps each).

    ``bound``: None (every support is solved), or a number: only the
    supports whose loss at the optimum may lie below both ``bound`` and
    the lowest objective any support of the batch has reached are wanted
    (a swap search keeps the lowest loss below its current one). From
    the ``_DROP_AFTER``-th step on a support stops being solved once its
    objective less ``_DROP_MARGIN`` times its Newton
    decrement (less ``2 alpha ||W||^2`` at the current point where the loss
    leaves the ridge out, ``penalised=False``) lies above that bound: the
    rule of :meth:`skl0._splice_multinomial.MultinomialRefits._stop_above`
    for one refit, which compares with the losses of the refits before it.

    Returns ``(x, ok, floor)``: ``ok[i]`` is False where a Hessian was not
    positive definite or a step not finite (the caller solves that support
    alone, where L-BFGS-B takes over), ``floor[i]`` the lower bound on
    support ``i``'s loss where the rule stopped it (``x[i]`` is then not
    its optimum), else ``-inf``.
    """
    m, s = cands.shape
    n = Xs.shape[0]
    a, sq = s + 1, s * q
    x = np.array(x0, dtype=np.float64).reshape(m, a * q)
    ok = np.ones(m, dtype=bool)
    floor = np.full(m, -math.inf)
    onehot = np.zeros((n, q))
    onehot[np.arange(n), labels] = 1.0
    ZT = np.empty((m, a, n))  # each support's Z' = [X_S, 1]'
    ZT[:, :s] = np.moveaxis(np.take(Xs, cands, axis=1), 0, -1)
    ZT[:, s] = 1.0
    C = np.matmul(ZT, onehot * w[:, None])  # the labels' linear part, (m, a, q)

    def terms(Zb, Cb, x_):
        Wb = x_.reshape(-1, a, q)
        FT = np.matmul(Wb.transpose(0, 2, 1), Zb)  # logits, classes along rows (k, q, n)
        lse = _class_softmax(FT)  # FT now holds the probabilities
        grad = np.matmul(Zb, (FT * w).transpose(0, 2, 1))
        grad -= Cb
        W = Wb[:, :s]
        grad[:, :s] += (2.0 * alpha) * W
        value = lse @ w - np.einsum("iuc,iuc->i", Cb, Wb)
        if alpha:  # (0 * inf is NaN where a separating step left ||W||^2 inf)
            value = value + alpha * np.einsum("iuc,iuc->i", W, W)
        return value, grad.reshape(-1, a * q), FT

    def hessians(Zb, PT):
        UU, D = softmax_hessian_terms(Zb.transpose(0, 2, 1), PT.transpose(0, 2, 1), w)
        H = softmax_definite(softmax_hessian(UU, D, q), s, q, alpha)
        return H, _definite(H)

    live, Zl, Cl = np.arange(m), ZT, C
    value, grad, prob = terms(Zl, Cl, x)

    def keep_only(keep, *arrays):
        return tuple(arr[keep] for arr in arrays)

    def trial(rows, x_):
        # (a trial point far out, alpha=0 on separable rows, may overflow the
        # logits: its inf / NaN value fails the line search, as in _newton)
        with np.errstate(over="ignore", invalid="ignore"):
            return terms(Zl[rows], Cl[rows], x_)

    for steps in range(max_iter):
        H, good = hessians(Zl, prob)
        if not good.all():
            ok[live[~good]] = False
            live, Zl, Cl, value, grad, prob, H = keep_only(good, live, Zl, Cl, value, grad,
                                                            prob, H)
            if not live.size:
                break
        step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        finite = np.isfinite(step).all(1)
        if not finite.all():
            ok[live[~finite]] = False
            live, Zl, Cl, value, grad, prob, step = keep_only(finite, live, Zl, Cl, value,
                                                               grad, prob, step)
            if not live.size:
                break
        decrement = np.einsum("ij,ij->i", grad, step)
        if bound is not None and steps >= _DROP_AFTER:
            bound = min(bound, float(value.min()))  # attained: above its optimum's loss
            low = value - _DROP_MARGIN * decrement
            if not penalised:
                low = low - 2.0 * alpha * np.einsum("ij,ij->i", x[live, :sq], x[live, :sq])
            drop = low > bound
            if drop.any():
                floor[live[drop]] = low[drop]
                live, Zl, Cl, value, grad, prob, step, decrement = keep_only(
                    ~drop, live, Zl, Cl, value, grad, prob, step, decrement)
                if not live.size:
                    break
        move, new_value, new_grad, new_prob = _newton_batch_step(
            x, live, value, grad, prob, step, decrement, trial)
        live, Zl, Cl = live[move], Zl[move], Cl[move]
        value, grad, prob = new_value[move], new_grad[move], new_prob[move]
        if not live.size:
            break
    ok &= np.isfinite(x).all(1)
    return x, ok, floor


class RefitStopped(Exception):
    """A refit left unfinished by its ``stop`` test; ``floor`` is the lower bound it reached."""

    def __init__(self, floor):
        super().__init__(floor)
        self.floor = float(floor)


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def softmax_refit(X, labels, w, alpha, q, x0, max_iter, curvature=None, stop=None):
    """Ridge-``alpha`` multinomial maximum likelihood from ``x0``; returns ``x``.

    Small problems (:func:`softmax_newton_applies`) by Newton's method
    (:func:`newton_softmax`; ``curvature`` is then not read), the others
    by scipy's L-BFGS-B.

    ``curvature``: None, or a symmetric positive definite approximation
    ``H`` of the objective's Hessian in the order of ``x``, or a callable
    that returns one (called only when L-BFGS-B runs) (e.g. the
    Hessian at a neighbouring support's refit, as the swap search has:
    :class:`skl0._splice_multinomial.MultinomialRefits`). L-BFGS-B then
    runs in the variables ``u`` of ``x = x0 + L^-T u`` (``H = L L'``), in
    which the problem is close to the identity near ``x0`` (each
    evaluation two triangular solves with ``L``). The
    multinomial objective on correlated columns is ill conditioned, and
    L-BFGS-B's limited memory only slowly learns its curvature: on digits
    a refit took ~130 evaluations from a warm start, even from 99% of the
    way to the optimum ~80, and ~30 so preconditioned. The tolerances
    are the same (on the gradient in ``u``); a preconditioned run that
    reaches ``max_iter`` is redone unpreconditioned from ``x0``.

    ``stop``: None, or ``stop(value, decrement, x, newton) -> float or
    None``, called with the objective, ``g' H^-1 g`` and the point at each
    step of the Newton run (``newton=True``: ``H`` the exact Hessian, so
    the Newton decrement) and at each evaluation of the preconditioned
    run (``newton=False``: ``H`` the preconditioner, the squared gradient
    in ``u``); a number ends the refit by raising :class:`RefitStopped`
    with it as ``floor`` (the swap search's refits that cannot win). The
    unpreconditioned run is not stopped.
    """
    if softmax_newton_applies(X.shape[0], X.shape[1], q):
        x = newton_softmax(X, labels, w, alpha, q, x0, max_iter,
                           stop=None if stop is None else functools.partial(stop, newton=True))
        if x is not None and np.all(np.isfinite(x)):
            return x
    objective = softmax_objective(X, labels, w, alpha, q)
    if callable(curvature):
        curvature = curvature()
    if curvature is not None:
        try:
            factor = cholesky(curvature)  # (its strict upper triangle is not read)
        except np.linalg.LinAlgError:
            factor = None
        if factor is not None:
            # x = x0 + L^-T u, and the gradient in u is L^-1 g: two triangular
            # solves an evaluation (forming L^-1 cost ~1 ms a refit on digits).
            def whitened(u):
                x = x0 + unwhiten(factor, u)
                value, grad = objective(x)
                grad = whiten(factor, grad)
                floor = None if stop is None else stop(value, float(grad @ grad), x, False)
                if floor is not None:
                    raise RefitStopped(floor)
                return value, grad

            u, nit = _lbfgsb_result(whitened, np.zeros_like(x0), max_iter)
            if nit < max_iter and np.all(np.isfinite(u)):
                return x0 + unwhiten(factor, u)
    return _lbfgsb(objective, x0, max_iter)


def _lbfgsb(objective, x0, max_iter):
    """Minimise ``objective`` (value, gradient) from ``x0`` by scipy's L-BFGS-B; returns ``x``.

    The tolerances of every CPU log-loss refit.
    """
    return _lbfgsb_result(objective, x0, max_iter)[0]


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def _lbfgsb_result(objective, x0, max_iter):
    """:func:`_lbfgsb`'s ``(x, nit)``: scipy's L-BFGS-B (:func:`skl0._lbfgsb.lbfgsb`)."""
    return lbfgsb(objective, x0, max_iter, gtol=1e-7, ftol=1e-12)


def binary_objective(X, y, w, alpha):
    """``x = (W, b) -> (value, gradient)`` of the weighted logistic loss plus ``alpha ||W||^2``.

    ``X`` (n, s) float64 standardized columns, ``y`` in {0, 1}, ``w``
    weights summing to one; the objective of every binary refit on the CPU.
    """
    terms = _binary_terms(X, y, w, alpha)
    return lambda x: terms(x)[:2]


def _binary_terms(X, y, w, alpha):
    """:func:`binary_objective` that also returns ``sigmoid(X W + b)`` (for Newton's Hessian)."""
    s = X.shape[1]

    def terms(x):
        f = X @ x[:s] + x[s]
        loss = logistic_loss(f, y, w)
        prob = sigmoid(f)
        G = w * (prob - y)
        return (loss + alpha * float(x[:s] @ x[:s]),
                np.concatenate([X.T @ G + 2.0 * alpha * x[:s], [G.sum()]]), prob)

    return terms


# The rules of Newton's method in the refits (_newton, and per support in
# newton_binary_batch): converged when the decrement g'H^-1 g is below
# _NEWTON_CONVERGED of the value; a step that no longer lowers the value is
# still taken when the decrement is below _NEWTON_ROUNDOFF of it; steps are
# halved until they achieve _ARMIJO of the predicted decrease, down to
# _SMALLEST_STEP. A binary Hessian gets _HESSIAN_JITTER of its largest
# diagonal entry on its diagonal.
_NEWTON_CONVERGED, _NEWTON_ROUNDOFF = 2e-14, 1e-12
_ARMIJO, _SMALLEST_STEP = 0.25, 1e-10


_HESSIAN_JITTER = 1e-12


# newton_binary_batch with a cutoff leaves a support unsolved once its
# objective less _DROP_MARGIN times its Newton decrement (and less its ridge
# term) lies above the best objective reached, from its _DROP_AFTER-th
# Newton step on. On breast cancer (k = 2..29 on two 455-row subsets, the
# development set) the loss still to come was up to 1.97 decrements at the
# first two steps (the quadratic model is poor where a swapped-in column
# starts at 0) and up to 1.16 from the third on, where no support whose
# loss would have won was dropped at a margin of 2; 3 leaves room. Every
# support chosen on 215 held-out make_classification fits (seeds 300-329)
# and on the development fits is the exact search's (benchmarks/
# refit_stops.py). The multinomial Newton refits of small problems
# (MultinomialRefits.fit_many) use the same rule: on iris and wine (two 80%
# row subsets each, lam="auto" and k = 1, 2, 3, 5, 8; 740 refits, 6232
# steps) the objective still to come was up to 1.89 decrements at the
# second step and up to 1.44 from the third on (gaps below 1e-10 of the
# value, round-off of converged refits, left out).
_DROP_MARGIN = 3.0


_DROP_AFTER = 2


# newton_binary_batch given Hessians H0 near its starts (the swap search's:
# at the support the round's starts come from) takes them for its first
# _CHORD_STEPS steps instead of forming each support's own, and Newton's
# from the first step at which the rule above may stop a support: that
# rule's margin was measured on Newton's decrement. By H0's decrement the
# loss still to come at step 2 reached 2.77 decrements (breast cancer,
# k = 3..25 on 455 rows), where by Newton's it stayed within 1.29 on those
# and on 1000 x 200 and 600 x 100 make_classification sets (k = 20..100).
# Where most candidates stop at step 2 (a round of exact k = 100 of 200
# columns refits ~200), this halves the Hessians formed. At that step the
# stop is first tested by H0's decrement at _CHORD_DROP_MARGIN; a candidate
# it stops needs no Hessian of its own, the others are tested by Newton's.
# By H0's decrement the loss still to come at step 2 was at most 1.51 on
# held-out sets (make_classification, 300 x 40, 600 x 100, 1000 x 200,
# seeds 300-305, k = 16, 25, p / 2); a review found 3.31 (full breast
# cancer, k = 16) and 4.01 (120 x 40, class_sep=2, seed 500, k = 16), 99%
# of its stops below 1.41. The margin is twice the largest seen. Since the
# ridge term at H0's step is not the optimum's, the test is no bound on a
# support's loss (the review found the value so formed above it for 7% of
# the stops): those it stops keep no floor.
_CHORD_STEPS = _DROP_AFTER


_CHORD_DROP_MARGIN = 8.0


def _binary_ridge(s, alpha):
    """The ridge on the diagonal of a binary refit's Hessian: ``2 alpha`` on ``W``, none on ``b``."""
    ridge = np.full(s + 1, 2.0 * alpha)
    ridge[s] = 0.0
    return ridge


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def newton_binary(X, y, w, alpha, x0, max_iter):
    """Newton's method with backtracking for the weighted, ridge-penalised logistic loss.

    ``x = (W, b)`` as in :func:`skl0._refit._lbfgs_numpy`; the value and gradient are
    those of :func:`binary_objective`, whose probabilities at the accepted
    point also give the Hessian ``Z'Z``, ``Z = diag(sqrt(w p (1 - p))) [X, 1]``
    (BLAS syrk; the column of ones is handled apart, so no copy of X is
    made), by the loop of :func:`_newton`. Returns None when the Hessian is
    not positive definite (then L-BFGS-B solves it).
    """
    s = X.shape[1]
    ridge = _binary_ridge(s, alpha)
    H = np.empty((s + 1, s + 1))

    def hessian(x, prob):
        if isinstance(X, SparseColumns):  # (from the sparse columns, never dense)
            curv = w * prob * (1.0 - prob)
            H[:s, :s], H[:s, s] = X.weighted_gram(curv)
            H[s, :s] = H[:s, s]
            H[s, s] = curv.sum()
            H.flat[:: s + 2] += ridge + _HESSIAN_JITTER * max(float(H.diagonal().max()), 1e-300)
            return H
        # The intercept's row and column of H without an [X, 1] copy of X;
        # Z is freed before the line search (at n=1e6 each is 170 MB).
        root = np.sqrt(w * prob * (1.0 - prob))
        Z = X * root[:, None]
        H[:s, :s] = Z.T @ Z
        H[:s, s] = H[s, :s] = Z.T @ root
        H[s, s] = root @ root
        del Z
        H.flat[:: s + 2] += ridge + _HESSIAN_JITTER * max(float(H.diagonal().max()), 1e-300)
        return H

    return _newton(_binary_terms(X, y, w, alpha), hessian, x0, max_iter)


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def newton_binary_batch(XT, y, w, alpha, x0, max_iter, cutoff=None, H0=None):
    """:func:`newton_binary` on ``m`` supports of one size at once.

    ``XT`` (m, s, n): each support's standardized columns as rows; ``x0``
    (m, s + 1) the starts. Each support follows :func:`_newton`'s own
    iterates (the same value, gradient, Hessian, step and backtracking,
    one ``t`` per support), so the results are :func:`newton_binary`'s up
    to the round-off of batched products; the Python work of an iteration
    is paid once for the batch instead of once per support, which on small
    data was most of a refit's cost (the swap search scores about ten
    candidates a round). Returns ``(x, ok)``: ``ok[i]`` is False where
    a Hessian was not positive definite (``x[i]`` is then meaningless and
    the caller solves that support alone).

    ``cutoff``: only the supports whose training log loss at the optimum
    (:meth:`_BinaryRefits._store`'s loss, the penalised objective less its
    ridge term) may lie below both ``cutoff`` and the lowest objective any
    support of the batch has reached are wanted (a search that keeps the
    lowest loss below its current one). From its ``_DROP_AFTER``-th step
    on, a support stops being solved once its objective less
    ``_DROP_MARGIN`` times its Newton decrement ``g'H^-1 g`` and less its
    ridge term at the Newton point lies above that bound. Newton's
    quadratic model predicts the remaining decrease as half the decrement;
    for a self-concordant function whose decrement is below 0.68^2 the gap
    to the optimum is at most the decrement (Boyd & Vandenberghe 2004,
    section 9.6.3). The logistic loss is not self-concordant, so the margin
    is measured, not proven (the constants' comment). Returns ``(x, ok,
    floor)``: ``floor[i]`` is that lower bound on support ``i``'s loss
    where it stopped so (``x[i]`` is then not its optimum), else ``-inf``;
    without ``cutoff`` every ``floor`` is ``-inf``.

    ``H0`` (m, s + 1, s + 1) or None: Hessians near the starts (without
    the ridge), taken for the first ``_CHORD_STEPS`` steps instead of
    forming each support's own (the chord method; :meth:`skl0._splice.
    _BinaryRefits.fit_many` gathers them from the Hessian at the support
    the starts come from). From then on the steps are Newton's; with a
    ``cutoff``, the stop's first test (at step ``_CHORD_STEPS``) is made by
    ``H0``'s decrement at ``_CHORD_DROP_MARGIN``, so a support it stops
    forms no Hessian at all; such a support's ``floor`` is NaN (left
    unsolved, with no bound on its loss).
    """
    m, s, _ = XT.shape
    x = np.array(x0, dtype=np.float64)
    ok = np.ones(m, dtype=bool)
    floor = np.full(m, -math.inf)
    bound = math.inf if cutoff is None else float(cutoff)
    ridge = _binary_ridge(s, alpha)

    def terms(Xb, x_):
        f = np.matmul(x_[:, None, :s], Xb)[:, 0, :] + x_[:, s:]
        e = exp(-np.abs(f))  # softplus(f) and expit(f) from one exponential
        prob = np.where(f >= 0, 1.0, e) / (1.0 + e)
        G = w * (prob - y)
        loss = (softplus(f, e) - y * f) @ w
        grad = np.empty_like(x_)
        grad[:, :s] = np.matmul(Xb, G[:, :, None])[:, :, 0] + 2.0 * alpha * x_[:, :s]
        grad[:, s] = G.sum(1)
        # (no ridge term at alpha=0: a step towards a separating direction can
        # leave ||W||^2 inf, and 0 * inf is NaN, with numpy's "invalid value" warning)
        return loss + (alpha * np.einsum("ij,ij->i", x_[:, :s], x_[:, :s]) if alpha else 0.0), \
            grad, prob

    def penalise(H):
        """Add the ridge and the jitter to the diagonals of the Hessians ``H``, in place."""
        Hd = np.einsum("ijj->ij", H)  # a writable view of the diagonals
        Hd += ridge + _HESSIAN_JITTER * np.maximum(Hd.max(1), 1e-300)[:, None]

    def lowest(step, decrement, margin, or_here=False):
        """The stop's value: the objective less ``margin`` decrements and the ridge term at
        the step's point (``or_here``: the larger of that and the current point's)."""
        ahead = x[live, :s] - step[:, :s]
        ridge = np.einsum("ij,ij->i", ahead, ahead)
        if or_here:
            ridge = np.maximum(ridge, np.einsum("ij,ij->i", x[live, :s], x[live, :s]))
        return value - margin * decrement - (alpha * ridge if alpha else 0.0)

    def hessians(Xb, prob):
        # X' D X as (X D) X' against a transposed view of X, which BLAS reads
        # as is: a rows-last copy of X per batch cost more than the products
        # (0.70-0.85x the CPU time of exact k=20 on breast cancer and four
        # 600 x 40 make_classification sets, identical results:
        # benchmarks/revision_ab.py --base ad4312e --cases binary).
        curv = w * prob * (1.0 - prob)
        H = np.empty((Xb.shape[0], s + 1, s + 1))
        H[:, :s, :s] = np.matmul(Xb * curv[:, None, :], Xb.transpose(0, 2, 1))
        H[:, :s, s] = H[:, s, :s] = np.matmul(Xb, curv[:, :, None])[:, :, 0]
        H[:, s, s] = curv.sum(1)
        penalise(H)
        return H, _definite(H)

    live, Xl = np.arange(m), XT
    value, grad, prob = terms(Xl, x)
    if H0 is not None:
        H0 = np.array(H0, dtype=np.float64)
        penalise(H0)
        try:
            np.linalg.cholesky(H0)
        except np.linalg.LinAlgError:  # (rare) the supports' own Hessians instead
            H0 = None
    for steps in range(max_iter):
        if H0 is not None and steps < _CHORD_STEPS:
            H = H0[live]
        else:
            if H0 is not None and cutoff is not None and steps == _CHORD_STEPS:
                # The stop's test first by H0's decrement at its wider margin:
                # those it rules out need no Hessian of their own. Its value
                # less that margin is no bound on the loss (the ridge term at
                # H0's step is not the optimum's), so they are reported
                # without one (NaN) and not skipped by a later call; the
                # larger of the ridge terms here and at that step is taken.
                step = np.linalg.solve(H0[live], grad[:, :, None])[:, :, 0]
                decrement = np.einsum("ij,ij->i", grad, step)
                bound = min(bound, float(value.min()))
                drop = lowest(step, decrement, _CHORD_DROP_MARGIN, or_here=True) > bound
                if drop.any():
                    floor[live[drop]] = np.nan
                    keep = ~drop
                    live, Xl, value, grad, prob = (
                        a[keep] for a in (live, Xl, value, grad, prob))
                    if not live.size:
                        break
            H, good = hessians(Xl, prob)
            if not good.all():
                ok[live[~good]] = False
                live, Xl, value, grad, prob, H = (
                    a[good] for a in (live, Xl, value, grad, prob, H))
                if not live.size:
                    break
        step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        finite = np.isfinite(step).all(1)
        if not finite.all():  # (alpha=0, a separating direction: solved alone, as a failed Hessian)
            ok[live[~finite]] = False
            live, Xl, value, grad, prob, step = (
                a[finite] for a in (live, Xl, value, grad, prob, step))
            if not live.size:
                break
        decrement = np.einsum("ij,ij->i", grad, step)
        if cutoff is not None:
            bound = min(bound, float(value.min()))  # attained: above its optimum's loss
            low = lowest(step, decrement, _DROP_MARGIN) if steps >= _DROP_AFTER else None
            drop = None if low is None else low > bound
            if drop is not None and drop.any():
                floor[live[drop]] = low[drop]
                keep = ~drop
                live, Xl, value, grad, prob, step, decrement = (
                    a[keep] for a in (live, Xl, value, grad, prob, step, decrement))
                if not live.size:
                    break
        move, new_value, new_grad, new_prob = _newton_batch_step(
            x, live, value, grad, prob, step, decrement,
            lambda rows, x_: terms(Xl[rows], x_))
        if move.all():
            value, grad, prob = new_value, new_grad, new_prob
        else:
            live, Xl = live[move], Xl[move]
            value, grad, prob = new_value[move], new_grad[move], new_prob[move]
        if not live.size:
            break
    return x, ok, floor


def _definite(H):
    """Which of the symmetric matrices ``H`` (m, d, d) are positive definite (Cholesky's test).

    The batched Newtons' Hessians: one factorisation of the batch, and only
    when it fails (rare) one per matrix, to find those solved alone.
    """
    good = np.ones(H.shape[0], dtype=bool)
    try:
        np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        for i in range(H.shape[0]):
            try:
                np.linalg.cholesky(H[i])
            except np.linalg.LinAlgError:
                good[i] = False
    return good


def _newton_batch_step(x, live, value, grad, state, step, decrement, trial):
    """One step of :func:`_newton` for each live support of a batch (the batched Newtons').

    ``x`` holds every support's point (updated in place), ``live`` the rows
    of the supports still solved, ``value``, ``grad``, ``state``, ``step``
    and ``decrement`` theirs; ``trial(rows, x_rows)`` gives ``(value,
    gradient, state)`` of the live supports ``rows`` (an index array, or
    every one: ``slice(None)``) at the points ``x_rows``. As in
    :func:`_newton`: a support whose decrement shows convergence takes the
    full step and is done; the others halve their step until it achieves a
    quarter of the decrease the quadratic model predicts, and one whose
    step no longer lowers its value stops, taking the full step where the
    decrement is at the value's round-off. Returns ``(move, value, grad,
    state)``: which live supports go on, and the new terms of every live one
    (read those of ``move``).
    """
    scale = np.maximum(np.abs(value), 1e-12)
    done = decrement <= _NEWTON_CONVERGED * scale
    if done.any():
        x[live[done]] -= step[done]
    search = (~done).nonzero()[0]
    t = np.ones(live.size)
    if search.size == live.size:  # (every support steps: no gather, no scatter)
        new_value, new_grad, new_state = trial(slice(None), x[live] - step)
    else:
        new_value, new_grad, new_state = value.copy(), np.empty_like(grad), np.empty_like(state)
        if search.size:
            new_value[search], new_grad[search], new_state[search] = trial(
                search, x[live[search]] - step[search])
    while search.size:
        passed = ((new_value[search]
                   <= value[search] - _ARMIJO * t[search] * decrement[search])
                  | (t[search] < _SMALLEST_STEP))
        search = search[~passed]
        if search.size:
            t[search] *= 0.5
            new_value[search], new_grad[search], new_state[search] = trial(
                search, x[live[search]] - t[search, None] * step[search])
    stalled = ~done & ~(new_value < value)
    tiny = stalled & (decrement <= _NEWTON_ROUNDOFF * scale)
    if tiny.any():
        x[live[tiny]] -= step[tiny]
    move = ~done & ~stalled
    x[live[move]] -= t[move, None] * step[move]
    return move, new_value, new_grad, new_state


def _newton(terms, hessian, x0, max_iter, stop=None):
    """Newton's method with backtracking from ``x0`` (the refits' shared loop).

    ``terms(x)`` gives ``(value, gradient, state)`` and ``hessian(x, state)``
    a symmetric positive definite Hessian there. Each step is halved until
    it achieves a quarter of the decrease the quadratic model predicts.
    Stops when the Newton decrement ``g' H^-1 g`` falls below 2e-14
    relative to the value, after taking that last full step (in Newton's
    quadratic range it is exact to round-off: it leaves ``x`` ~1e-11 from
    the optimum instead of up to ``sqrt(decrement / smallest curvature)``,
    1e-6 at a ridge of 1e-4), when a step no longer lowers the value (also
    taking it when the decrement is below 1e-12 of the value, where the
    value's own round-off hides the decrease), or after ``max_iter`` steps.
    Returns None when a factorisation fails.

    ``stop``: None, or ``stop(value, decrement, x) -> float or None``, called
    at each step before it is taken; a number ends the run by raising
    :class:`RefitStopped` with it as ``floor``.
    """
    x = x0.copy()
    value, grad, state = terms(x)
    for _ in range(max_iter):
        try:
            step = cholesky_solve(cholesky(hessian(x, state)), grad)
        except np.linalg.LinAlgError:
            return None
        decrement = float(grad @ step)
        floor = None if stop is None else stop(value, decrement, x)
        if floor is not None:
            raise RefitStopped(floor)
        if decrement <= _NEWTON_CONVERGED * max(abs(value), 1e-12):
            x = x - step
            break
        t = 1.0
        while True:
            new_x = x - t * step
            # (a trial point far out, alpha=0 on separable rows, may overflow the
            # logits: its inf / NaN value fails the test and the step is halved)
            with np.errstate(over="ignore", invalid="ignore"):
                new_value, new_grad, new_state = terms(new_x)
            if new_value <= value - _ARMIJO * t * decrement or t < _SMALLEST_STEP:
                break
            t *= 0.5
        if not new_value < value:
            if decrement <= _NEWTON_ROUNDOFF * max(abs(value), 1e-12):
                # The decrease the step promises is at the value's round-off
                # (a sum over rows): the full step, as at convergence above.
                # Stopping here left x where the gradient was still 1e-10,
                # 1e-6 from the optimum at a ridge of 1e-4.
                x = x - step
            break
        x, value, grad, state = new_x, new_value, new_grad, new_state
    return x
