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

Torch, numpy, scipy and the standard library only.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ._auto import gate_path, lam_grid, survival_ranking
from ._relevance import redundancy_ranking

__all__ = [
    "AUTO_HIDDEN",
    "linear_residuals",
    "nonlinear_k_support",
    "nonlinearity_test",
    "one_se_point",
    "validated_path",
]


def one_se_point(points, scores):
    """Index of the sparsest point within one standard error of the best held-out loss."""
    best = min(range(len(points)), key=lambda i: scores[i][0])
    bound = scores[best][0] + scores[best][1]
    return min(
        (i for i in range(len(points)) if scores[i][0] <= bound),
        key=lambda i: (points[i].support.size, scores[i][0]),
    )


def held_out_scores(val, gate, head, points):
    """(mean, standard error) of the per-sample held-out loss of each point.

    Weighted by the sample weights, with the total weight as the number of
    samples (frequency weights: a weight of 3 counts as 3 repeated rows).
    """
    scores = []
    for pt in points:
        with torch.no_grad():
            gate.log_alpha.copy_(pt.log_alpha)
            head.load_state_dict(pt.head_state)
            losses = val.sample_losses(head, gate.deterministic()).reshape(-1)
            w = val.w / val.w.sum()
            mean = float((w * losses).sum())
            var = float((w * (losses - mean) ** 2).sum())
        n_val = float(val.n_samples)
        se = (var / n_val) ** 0.5 if n_val > 1 else 0.0
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


# --------------------------------------------------------------------- automatic head

#: The MLP head ``hidden_layer_sizes="auto"`` tries: the issue-16 reference
#: head (one hidden layer of 64 units, the estimator's activation).
AUTO_HIDDEN = (64,)

#: Most columns the nonlinearity test forms pairwise products of (its cost
#: is two products of size n x m x m).
NONLINEARITY_MAX_COLUMNS = 1024

#: Family-wise level of the nonlinearity test (as the filling rule's).
NONLINEARITY_LEVEL = 0.05


def nonlinearity_test(X, R, sw, level=NONLINEARITY_LEVEL):
    """Score test of a fitted linear model against second-order terms.

    ``R`` (n, q) holds the linear model's residuals (targets minus fitted
    values, or one-hot labels minus probabilities). Under a well-specified
    linear (or logistic) model, ``E[r | x] = 0``, so every product
    ``r * z_i * z_j`` of the residual with two standardized columns (squares
    included) has mean 0. Each mean is divided by its heteroscedasticity-
    robust standard error; the largest ``|t|`` over all ``q m (m + 1) / 2``
    of them is compared with the normal ``1 - level / (2 M)`` quantile
    (Bonferroni over the ``M`` terms). Curvature (``(x2 - 0.5)^2``) and
    interactions with no marginal signal (``1[x0 x1 > 0]``) both show up.

    With more than ``NONLINEARITY_MAX_COLUMNS`` columns, the products are
    formed among those whose squares alone are most associated with the
    residuals (an interaction of two columns without such a signal can then
    be missed).

    Returns
    -------
    statistic, threshold : float
        The largest ``|t|`` and the Bonferroni threshold; the linear model
        is rejected when ``statistic > threshold``.
    """
    from scipy.stats import norm

    w = np.asarray(sw, dtype=np.float64)
    w = w / w.sum()
    if sp.issparse(X):
        X = X.toarray()
    X = np.asarray(X, dtype=np.float64)
    mean = w @ X
    std = np.sqrt(np.maximum(w @ (X - mean) ** 2, 0.0))
    keep = std > 1e-12 * np.maximum(np.abs(mean), 1.0)
    Z = (X[:, keep] - mean[keep]) / std[keep]
    R = np.asarray(R, dtype=np.float64).reshape(len(R), -1)
    if Z.shape[1] > NONLINEARITY_MAX_COLUMNS:
        Z2 = Z * Z
        t_sq = np.abs((w[:, None] * R).T @ Z2) / np.sqrt(((w * w)[:, None] * R * R).T @ (Z2 * Z2))
        top = np.argsort(-np.nanmax(t_sq, axis=0))[:NONLINEARITY_MAX_COLUMNS]
        Z = Z[:, top]
    m = Z.shape[1]
    if m == 0:
        return 0.0, np.inf
    iu = np.triu_indices(m)
    Z2 = Z * Z
    best = 0.0
    for c in range(R.shape[1]):
        r = R[:, c]
        num = Z.T @ ((w * r)[:, None] * Z)
        var = Z2.T @ ((w * w * r * r)[:, None] * Z2)
        t = np.abs(num[iu]) / np.sqrt(np.maximum(var[iu], 1e-300))
        best = max(best, float(np.max(t)))
    n_terms = R.shape[1] * iu[0].size
    return best, float(norm.isf(level / (2 * n_terms)))


def linear_residuals(estimator, X, Y, classifier):
    """Targets minus the fitted linear estimator's fitted values (one-hot for classes)."""
    d = estimator._decision(X)
    d = d.reshape(len(d), -1)
    if not classifier:
        return np.asarray(Y, dtype=np.float64).reshape(len(d), -1) - d
    if d.shape[1] == 1:
        return np.asarray(Y, dtype=np.float64).reshape(-1, 1) - 1.0 / (1.0 + np.exp(-d))
    d = d - d.max(axis=1, keepdims=True)
    proba = np.exp(d)
    proba /= proba.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(d)), np.asarray(Y, dtype=np.intp)] = 1.0
    return onehot - proba
