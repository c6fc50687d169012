"""Selection rules of the nonlinear (MLP) heads: the validated path and exact ``k``.

A network has no parameter count, so no information criterion scores its
path; held-out loss does. :func:`validated_path` fits the gate path on
``1 - validation_fraction`` of the rows and scores every point by the
mean task loss of its deterministic gates on the rest; the *validated*
point is the sparsest one whose held-out loss is within one standard error
(of the per-sample losses) of the best.

``lam="auto"`` keeps the validated point's support. Exact ``k``
(:func:`nonlinear_k_support`) fills its slots in three tiers:

1. the validated support (the columns that lower held-out loss), most
   persistent first;
2. with ``keep_redundant`` (the default for MLP heads), the columns that
   carry the signal already taken: associated with the columns taken at a
   family-wise 5% level (:func:`skl0._relevance.redundancy_ranking`);
3. the rest in the order their gates survive along the path.

Survival alone is the rule that failed (issue 16): past the few columns it
needs, a network's last gates to close are as likely noise columns it
fitted to the sample as relevant ones. Tiers 1 and 2 take no column on the
strength of the training loss alone.

Torch, numpy and the standard library only.
"""

from __future__ import annotations

import numpy as np
import torch

from ._auto import gate_path, lam_grid, survival_ranking
from ._relevance import redundancy_ranking

__all__ = ["nonlinear_k_support", "one_se_point", "validated_path"]


def one_se_point(points, scores):
    """Index of the sparsest point within one standard error of the best held-out loss."""
    best = min(range(len(points)), key=lambda i: scores[i][0])
    bound = scores[best][0] + scores[best][1]
    return min(
        (i for i in range(len(points)) if scores[i][0] <= bound),
        key=lambda i: (points[i].support.size, scores[i][0]),
    )


def held_out_scores(val, gate, head, points):
    """(mean, standard error) of the per-sample held-out loss of each point."""
    scores = []
    for pt in points:
        with torch.no_grad():
            gate.log_alpha.copy_(pt.log_alpha)
            head.load_state_dict(pt.head_state)
            losses = val.sample_losses(head, gate.deterministic())
        n_val = losses.numel()
        mean = float(losses.mean())
        se = float(losses.std()) / max(n_val, 1) ** 0.5 if n_val > 1 else 0.0
        scores.append((mean, se))
    return scores


def validated_path(train, val, gate, head, *, max_iter, common, report=None):
    """Gate path on ``train`` scored on ``val``: (points, scores, validated index)."""
    points = gate_path(
        train, gate, head, lam_grid(), max_iter=max_iter, step_callback=report, **common
    )
    scores = held_out_scores(val, gate, head, points)
    return points, scores, one_se_point(points, scores)


def nonlinear_k_support(problem, points, validated, k, keep_redundant):
    """The ``k`` columns of an MLP head's exact ``k`` (module docstring).

    Returns them in the order they were taken.
    """
    order = survival_ranking(points)
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    first = sorted(points[validated].support.tolist(), key=lambda j: rank[j])[:k]
    if keep_redundant:
        return redundancy_ranking(problem, order, k, first=first)
    rest = [int(j) for j in order if j not in set(first)]
    return np.asarray((first + rest)[:k], dtype=np.intp)
