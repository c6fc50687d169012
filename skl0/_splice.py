"""Splicing: a best-subset polish of a fixed-size support (squared loss).

Zhu, Wen, Zhu, Zhang & Wang (2020), "A polynomial algorithm for
best-subset selection problem", PNAS 117(52) -- the algorithm behind abess.
For the current support ``A`` (refitted by least squares) and standardized
columns, the *backward sacrifice* of ``j in A`` (loss increase if dropped)
is ``beta_j^2`` and the *forward sacrifice* of ``j not in A`` (loss
decrease if added) is ``d_j^2`` with ``d_j = x_j' W r`` the weighted
correlation with the residual. For ``c = 1..C`` the ``c`` least useful
active features are swapped for the ``c`` most promising inactive ones;
the best swap that lowers the refitted loss is kept, until none does.

The gates supply the starting support; splicing only ever lowers the loss
at the same size, so it cannot undo a good L0 solution.
"""

from __future__ import annotations

import numpy as np
import torch

from ._refit import refit_linear_head

__all__ = ["splice", "splice_from_starts", "screening_start"]


def _residual_correlations(problem, head):
    """``|d_j|^2`` summed over outputs, from the gradient of the loss in V."""
    weight = head.weight.detach().clone().requires_grad_(True)
    ones = torch.ones_like(problem.mean)
    with torch.enable_grad():
        if hasattr(problem, "G"):
            V = weight
            loss = (-2 * (V * problem.c).sum() + (V * (problem.G @ V)).sum())
        else:
            scale = ones / problem.std
            pred = problem.X @ (scale[:, None] * weight) - (problem.mean * scale) @ weight
            loss = (problem.w[:, None] * (pred + head.bias.detach() - problem.Y) ** 2).sum()
        (grad,) = torch.autograd.grad(loss, weight)
    return (grad**2).sum(1).cpu().double().numpy()


def splice(problem, support, alpha=0.0, max_swap=None, max_rounds=50, rtol=1e-7):
    """Polish ``support`` by swaps that lower the refitted squared loss.

    Parameters
    ----------
    problem : GramProblem or DirectProblem with squared loss
    support : array of int
    alpha : float
        Ridge penalty of the refit.
    max_swap : int or None
        Largest number of features exchanged at once (default: all of them,
        up to the number of inactive features).
    max_rounds : int
    rtol : float
        Relative loss decrease a swap must achieve.

    Returns
    -------
    support : ndarray of int (sorted)
    head : LinearHead (refitted)
    loss : float
    """
    support = np.sort(np.asarray(support, dtype=np.int64))
    head, loss = refit_linear_head(problem, support, alpha=alpha)
    p, k = problem.n_features, support.size
    if k == 0 or k == p:
        return support, head, loss
    C = min(k, p - k) if max_swap is None else min(max_swap, k, p - k)
    for _ in range(max_rounds):
        beta2 = (head.weight.detach()[torch.as_tensor(support, device=head.weight.device)] ** 2)
        xi = beta2.sum(1).cpu().double().numpy()
        zeta = _residual_correlations(problem, head)
        zeta[support] = -np.inf
        weakest = support[np.argsort(xi, kind="stable")]
        strongest = np.argsort(-zeta, kind="stable")
        best = None
        for c in range(1, C + 1):
            cand = np.sort(np.concatenate([weakest[c:], strongest[:c]]))
            h, l_ = refit_linear_head(problem, cand, alpha=alpha)
            if l_ < loss * (1 - rtol) - 1e-12 and (best is None or l_ < best[2]):
                best = (cand, h, l_)
        if best is None:
            break
        support, head, loss = best
    return support, head, loss


def screening_start(problem, k):
    """The ``k`` features most correlated with the target (abess's start)."""
    from ._heads import LinearHead

    head = LinearHead(problem.n_features, problem.datafit.n_outputs)
    head = head.to(device=problem.mean.device, dtype=problem.mean.dtype)
    corr = _residual_correlations(problem, head)
    return np.sort(np.argsort(-corr, kind="stable")[:k])


def splice_from_starts(problem, starts, alpha=0.0):
    """Splice from each start and keep the lowest refitted loss.

    Returns ``(support, head, loss)`` of the best run.
    """
    best = None
    seen = set()
    for start in starts:
        key = np.sort(start).tobytes()
        if key in seen:
            continue
        seen.add(key)
        out = splice(problem, start, alpha=alpha)
        if best is None or out[2] < best[2]:
            best = out
    return best
