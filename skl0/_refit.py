"""Debiasing refit of a linear head on the selected features (gates fixed open).

The L0 penalty picks the features; the refit removes the shrinkage and the
fractional deterministic gates, so ``coef_`` is the plain (ridge-``alpha``)
least-squares or maximum-likelihood fit on the kept columns. The log
losses' numpy solvers (Newton's method, L-BFGS-B) are
:mod:`skl0._refit_newton`; an MLP head is refitted by Adam
(:func:`refit_nonlinear_head`).
"""

from __future__ import annotations

import numpy as np
import torch

from ._datafits import BinaryLogLoss, MultinomialLogLoss
from ._heads import LinearHead
from ._host_design import SMALL_SPARSE_NUMBERS
from ._linalg import cholesky, cholesky_solve
from ._objective import NumpyOps, data_term, gram_mse
from ._refit_newton import (
    SparseColumns,
    _lbfgsb,
    binary_objective,
    newton_binary,
    ridge_jitter,
    softmax_refit,
)
from ._train import make_adam

__all__ = [
    "gram_refit_weights",
    "refit_linear_head",
    "refit_nonlinear_head",
    "ridge_refit",
    "support_head",
]


def support_head(problem, S, W, b=None):
    """A :class:`LinearHead` with rows ``W`` on the columns ``S`` and intercept ``b``.

    ``W`` holds ``S.size`` rows of the ``q`` outputs (any shape of that
    size), ``b`` the ``q`` intercepts (None: zero); numpy or torch, cast to
    the problem's device and dtype. The head of a swap search's refit state.
    """
    ref = problem.mean
    p, q = problem.n_features, problem.datafit.n_outputs
    head = LinearHead(p, q, device=ref.device, dtype=ref.dtype)
    with torch.no_grad():
        if S.size and isinstance(W, np.ndarray) and W.dtype.itemsize <= 8:
            # numpy rows (the refits'): placed in float64 zeros on the host,
            # then cast and moved in one copy; a cast goes value by value,
            # so the weights are those of the indexed write below (~6 of
            # its ~20 us, in every small fit).
            full = np.zeros((p, q))
            full[S] = W.reshape(S.size, q)
            head.weight.copy_(torch.from_numpy(full))
        elif S.size:
            head.weight[torch.as_tensor(S, device=ref.device)] = torch.as_tensor(
                W, device=ref.device, dtype=ref.dtype).reshape(S.size, q)
        if b is not None:
            head.bias.copy_(torch.as_tensor(b, device=ref.device, dtype=ref.dtype).reshape(q))
    return head


#: A log loss's refit on the columns ``S`` of a sparse X makes them dense
#: (:meth:`DirectProblem.columns`) while they hold at most this many numbers
#: (8 MB in float64, the dense copy a small sparse X gets:
#: ``_host_design.SMALL_SPARSE_NUMBERS``); past it it reads them as
#: :class:`skl0._refit_newton.SparseColumns`. ``lam="auto"`` refits every path point of up to
#: ``max_support_size`` columns: on a 20000 x 2000 CSR X of density 1%
#: (4.7 MB) a 371-column point's dense columns were 57 MB, 12 times X.
_DENSE_SUPPORT_NUMBERS = SMALL_SPARSE_NUMBERS


def _standardized_columns(problem, support, solver=None):
    """The standardized columns ``support`` of ``problem`` for a refit.

    :class:`skl0._refit_newton.SparseColumns` for a log loss's refit in numpy (``solver``) on a
    sparse X whose columns would hold more than ``_DENSE_SUPPORT_NUMBERS``
    numbers dense; otherwise dense (:meth:`DirectProblem.columns`).
    """
    host = getattr(problem, "host", None)
    if (solver == "numpy" and host is not None and isinstance(problem.datafit, _LOG_LOSSES)
            and host.shape[0] * support.numel() > _DENSE_SUPPORT_NUMBERS):
        # (A multinomial refit of so many numbers is never Newton's,
        # softmax_newton_applies, whose Hessian reads dense columns.)
        def numpy(t):
            return t.detach().cpu().double().numpy()

        S = support.cpu().numpy()
        return SparseColumns(host, S, numpy(problem.mean[support]), numpy(problem.std[support]))
    return problem.columns(support)


def refit_linear_head(problem, support, alpha=0.0, max_iter=200, init=None, solver=None):
    """Refit a :class:`LinearHead` on ``support`` with all gates at 1.

    Squared loss is solved in closed form from the weighted normal
    equations (in float64 numpy on the CPU for a Gram problem:
    :func:`ridge_refit`); the log losses iteratively (``solver``:
    ``"numpy"``, in float64, Newton's method for a binary loss on at most
    ``_NEWTON_MAX_COLUMNS`` columns and for a small multinomial one
    (:func:`skl0._refit_newton.softmax_newton_applies`), scipy's L-BFGS-B otherwise, the
    default on the CPU; ``"torch"``, torch's L-BFGS with a strong-Wolfe
    line search, the default elsewhere), started from zero or, with
    ``init`` (a full-size :class:`LinearHead`, e.g. the refit of a
    neighbouring support), from its rows on ``support`` and its intercept.
    The numpy solver reads the columns of a sparse X as
    :class:`skl0._refit_newton.SparseColumns` where dense they would hold more than
    ``_DENSE_SUPPORT_NUMBERS`` numbers.

    Parameters
    ----------
    problem : DirectProblem or GramProblem
    support : array-like of int
        The columns refitted; the others' rows stay zero.
    alpha : float
        Ridge penalty on the weights (not on the intercept).
    max_iter : int
        Iterations of the log losses' solver at most.
    init : LinearHead or None
        Starting point of the log losses' solver.
    solver : {"numpy", "torch"} or None
        The log losses' solver; None picks by the problem's device.

    Returns
    -------
    head : LinearHead
        Full-size head whose rows outside ``support`` are exactly zero.
    loss : float
        Task loss (without penalties) of the refitted head.
    """
    p = problem.n_features
    q = problem.datafit.n_outputs
    ref = problem.mean
    head = LinearHead(p, q, device=ref.device, dtype=ref.dtype)
    idx = torch.as_tensor(support, device=ref.device)
    ones = torch.ones(p, device=ref.device, dtype=ref.dtype)
    if idx.numel() == 0:
        if problem.datafit.supports_gram:
            with torch.no_grad():
                return head, float(problem.loss(head, ones))
    if problem.kind == "gram" and idx.numel() > 0 and ref.device.type == "cpu":
        # The CPU's small ridge solve, shared with the swap search's refits.
        term = data_term(problem, NumpyOps())
        S = idx.numpy()
        W = gram_refit_weights(problem, term, S, alpha)  # the loss of the head as stored
        with torch.no_grad():
            head.weight[idx] = torch.as_tensor(W, dtype=ref.dtype)
        G_SS = term.G.take(S, 0).take(S, 1)
        yy = problem.yy.detach().cpu().double().numpy()
        return head, float(gram_mse(yy, term.c[S], G_SS, W).sum()) / term.q
    if problem.datafit.supports_gram and idx.numel() > 0:
        if problem.kind == "gram":
            G, c = problem.G[idx][:, idx], problem.c[idx]
        else:
            G, c = problem.column_gram(idx)
        jitter = torch.finfo(G.dtype).eps * 10 * torch.clamp(G.diagonal().mean(), min=1.0)
        eye = torch.eye(G.shape[0], device=G.device, dtype=G.dtype)
        V = torch.linalg.solve(G + (2 * alpha + jitter) * eye, c)
        with torch.no_grad():
            head.weight[idx] = V
        with torch.no_grad():
            return head, float(problem.loss(head, ones))
    # Log losses (and the empty set): L-BFGS on the kept columns only.
    if solver is None:
        solver = "numpy" if ref.device.type == "cpu" else "torch"
    Xs = _standardized_columns(problem, idx, solver) if idx.numel() else None
    if solver == "numpy" and isinstance(problem.datafit, _LOG_LOSSES):
        W, b = _lbfgs_numpy(Xs, problem, alpha, max_iter, idx, init)
        with torch.no_grad():
            head.weight[idx] = torch.as_tensor(W, dtype=ref.dtype)
            head.bias.copy_(torch.as_tensor(b, dtype=ref.dtype))
        return head, _support_loss(problem, head, idx, Xs)
    W = torch.zeros(idx.numel(), q, device=ref.device, dtype=ref.dtype)
    b = torch.zeros(q, device=ref.device, dtype=ref.dtype)
    if init is not None:
        with torch.no_grad():
            W.copy_(init.weight[idx])
            b.copy_(init.bias)
    W.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.LBFGS(
        [W, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
        tolerance_grad=1e-7, tolerance_change=1e-10,
    )

    def closure():
        opt.zero_grad()
        pred = Xs @ W + b if Xs is not None else b.expand(problem.w.shape[0], q)
        loss = problem.datafit(pred, problem.Y, problem.w)
        if alpha:
            loss = loss + alpha * (W**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        head.weight[idx] = W.detach()
        head.bias.copy_(b.detach())
    return head, _support_loss(problem, head, idx, Xs)


def _support_loss(problem, head, idx, Xs):
    """Task loss of a refitted ``head`` whose rows off ``idx`` are zero.

    From the standardized support columns ``Xs`` (n x k, already formed by
    the refit) instead of a product with all p columns of X, most of them
    multiplied by zero: on n=1e5, p=1e3 that product was a quarter of an
    exact-k fit's time.
    """
    with torch.no_grad():
        if Xs is None:
            return float(problem.loss(head, torch.ones_like(problem.mean)))
        if isinstance(Xs, SparseColumns):
            f = Xs @ head.weight[idx].double().cpu().numpy()
            pred = torch.as_tensor(f, device=head.bias.device).to(head.bias.dtype) + head.bias
            return float(problem.datafit(pred, problem.Y, problem.w))
        return float(problem.datafit(Xs @ head.weight[idx] + head.bias, problem.Y, problem.w))


_LOG_LOSSES = (BinaryLogLoss, MultinomialLogLoss)


def ridge_refit(G, c, S, alpha, jitter):
    """Least squares on the columns ``S`` from Gram statistics, numpy float64.

    Solves ``(G_SS + (2 alpha + jitter) I) B = c_S`` by Cholesky; returns
    the factor and ``B_S``. The closed-form refit of
    :func:`refit_linear_head` on the CPU and the swap search's refits.
    """
    H = G.take(S, 0).take(S, 1)  # (a new C-ordered array: reshape gives a view)
    H.reshape(-1)[:: S.size + 1] += 2 * alpha + jitter
    try:
        factor = cholesky(H)
    except np.linalg.LinAlgError:
        factor = _dependent_columns_factor(H, jitter)
    return factor, cholesky_solve(factor, c[S])


def _dependent_columns_factor(H, jitter):
    """Cholesky factor of ``H`` plus the least diagonal ``jitter * 10**i`` (i = 1 .. 11) that makes it one.

    Where the columns of a support are linearly dependent (``x3 = x1 + x2``,
    or more columns than the rank of X) and ``alpha`` is 0 or tiny,
    ``G_SS`` is singular and its rounding (float32 statistics, or sums of
    many columns) can leave it negative definite by more than ``jitter``:
    the factorisation failed with LAPACK's "not positive definite". The
    larger diagonal gives the ridge solution on that support (its fit is
    the least-squares one to that ridge). Called only when the plain
    factorisation fails, so other refits are unchanged.
    """
    n = H.shape[0]
    for i in range(1, 12):
        A = H.copy()
        A.reshape(-1)[:: n + 1] += jitter * 10.0**i
        try:
            return cholesky(A)
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError(
        f"the ridge system of a support of {n} columns is not positive definite even with "
        f"{jitter * 1e11:.3g} added to its diagonal (are X's values finite?); pass a larger "
        "alpha (the default is 1e-4)")


def gram_refit_weights(problem, term, S, alpha):
    """The weights on ``S`` of :func:`refit_linear_head` for a Gram problem on the CPU.

    :func:`ridge_refit` on the host statistics ``term`` (``data_term(problem,
    NumpyOps())``), rounded to the problem's dtype as the head stores them,
    returned in float64: the ``(S.size, q)`` rows of the refitted head's weight.
    """
    V = ridge_refit(term.G, term.c, S, alpha, ridge_jitter(term.G.diagonal()[S]))[1]
    dtype = torch.empty(0, dtype=problem.mean.dtype).numpy().dtype
    return np.asarray(V, dtype=dtype).astype(np.float64).reshape(S.size, -1)


def _lbfgs_numpy(Xs, problem, alpha, max_iter, idx, init):
    """Logistic / multinomial maximum likelihood (+ ``alpha`` ridge): Newton's method or scipy's L-BFGS-B.

    The CPU solver of :func:`refit_linear_head` (:func:`skl0._refit_newton.newton_binary`,
    :func:`skl0._refit_newton.softmax_refit`): the same objective as the
    torch L-BFGS below, in float64 with analytic gradients, which avoids
    torch's per-iteration Python overhead (several times faster on the
    small problems a refit is). Returns ``(W, b)`` as float64 arrays.
    """
    w = problem.w.detach().cpu().double().numpy()
    n, q = w.shape[0], problem.datafit.n_outputs
    if Xs is None:
        X = np.zeros((n, 0))
    else:
        X = Xs if isinstance(Xs, SparseColumns) else Xs.detach().cpu().double().numpy()
    s = X.shape[1]
    Y = problem.Y.detach().cpu().numpy()
    multinomial = isinstance(problem.datafit, MultinomialLogLoss)
    if multinomial:
        labels = Y.reshape(-1).astype(np.intp)
    else:
        y = Y.reshape(-1).astype(np.float64)

    x0 = np.zeros(s * q + q)
    if init is not None:
        x0[: s * q] = init.weight.detach()[idx].cpu().double().numpy().ravel()
        x0[s * q :] = init.bias.detach().cpu().double().numpy()
    if multinomial:
        x = softmax_refit(X, labels, w, alpha, q, x0, max_iter)
    else:
        x = newton_binary(X, y, w, alpha, x0, max_iter) if s <= _NEWTON_MAX_COLUMNS else None
        if x is None:
            x = _lbfgsb(binary_objective(X, y, w, alpha), x0, max_iter)
    return x[: s * q].reshape(s, q), x[s * q :]


# Binary refits on at most this many columns use Newton's method (an
# (s+1) x (s+1) Cholesky per iteration, ~6 iterations) instead of L-BFGS-B
# (~20 evaluations plus scipy's per-call set-up): the swap search of a log
# loss refits every candidate support, and these refits were its cost.
_NEWTON_MAX_COLUMNS = 128


def refit_nonlinear_head(problem, head, mask, *, max_iter, learning_rate, alpha, validation=None):
    """Retrain a nonlinear head in place with the gates fixed to ``mask``.

    Warm-starts from the head's current weights (the first layer's rows
    are multiplied by the mask, so dropped features stay dropped). With a
    ``validation`` pair ``(train, val)`` of problems it trains on ``train``
    and keeps the weights of the step with the lowest validation loss
    (checked every 10 steps), scikit-learn's ``early_stopping``.
    """
    fit_on, val = (problem, None) if validation is None else validation
    with torch.no_grad():
        head.weight.mul_(mask[:, None])
    if hasattr(fit_on, "column_subset") and hasattr(head, "weights"):
        # Train on the kept columns alone (the dropped rows of the first
        # layer are zero and stay zero): the same fit at k / p of the cost.
        cols = torch.nonzero(mask).flatten()
        full = head.weights[0]
        head.weights[0] = torch.nn.Parameter(full.detach()[cols].clone())
        sub_val = None if val is None else val.column_subset(cols)
        ones = torch.ones(cols.numel(), device=mask.device, dtype=mask.dtype)
        try:
            _refit_loop(fit_on.column_subset(cols), sub_val, head, ones, max_iter,
                        learning_rate, alpha)
        finally:
            with torch.no_grad():
                W = torch.zeros_like(full)
                W[cols] = head.weights[0].detach()
            head.weights[0] = torch.nn.Parameter(W)
        return head
    _refit_loop(fit_on, val, head, mask, max_iter, learning_rate, alpha)
    return head


def _refit_loop(fit_on, val, head, mask, max_iter, learning_rate, alpha):
    params = [p_ for p_ in head.parameters() if p_.requires_grad]
    opt = make_adam(params, learning_rate)
    best, best_state = float("inf"), None
    for it in range(max_iter):
        loss = fit_on.loss(head, mask)
        if alpha:
            loss = loss + alpha * head.l2()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            head.weight.grad.mul_(mask[:, None])  # dropped rows stay exactly 0
        opt.step()
        if val is not None and ((it + 1) % 10 == 0 or it + 1 == max_iter):
            with torch.no_grad():
                v = float(val.loss(head, mask))
            if v < best:
                best = v
                best_state = {k_: t.detach().clone() for k_, t in head.state_dict().items()}
    if best_state is not None:
        head.load_state_dict(best_state)
    return head
