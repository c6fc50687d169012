"""Selection rules of the nonlinear (MLP) heads: the validated path and exact ``k``.

A network has no parameter count, so no information criterion scores its
path; held-out loss does. :func:`validated_path` fits the gate path on
``1 - validation_fraction`` of the rows and scores every point by the
mean task loss of its deterministic gates on the rest; the *validated*
point is the sparsest one whose held-out loss is not significantly worse
than the best's (:func:`validated_point`: a paired test of the per-sample
losses at family-wise 5% over the points compared). The empty model (the
intercept fitted on the training rows) is compared too, as the sparsest
candidate: a path whose every point keeps columns that lower no held-out
loss validates no column.

``lam="auto"`` keeps the validated point's support, and with
``keep_redundant`` (the default for MLP heads) every column that carries
its signal (tier 2 below, with no ``k`` to fill). Exact ``k``
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

from ._gate_path import gate_path, lam_grid, survival_ranking
from ._layers import forward
from ._problem import block_rows
from ._relevance import redundancy_ranking

__all__ = [
    "AUTO_HIDDEN",
    "empty_model_losses",
    "held_out_scores",
    "linear_residuals",
    "nonlinear_k_support",
    "nonlinearity_test",
    "validated_path",
    "validated_point",
]


def held_out_scores(val, gate, head, points, return_losses=False):
    """(mean, standard error) of the per-sample held-out loss of each point.

    Weighted by the sample weights, with the total weight as the number of
    samples (frequency weights: a weight of 3 counts as 3 repeated rows).
    With ``return_losses``, ``(scores, losses, w, n_val)``: also the
    (points, rows) float64 array of per-sample losses, the normalized row
    weights and ``val.n_samples`` (:func:`validated_point`'s arguments).
    """
    scores, rows = [], []
    w = val.w / val.w.sum()
    n_val = float(val.n_samples)
    for pt in points:
        with torch.no_grad():
            gate.log_alpha.copy_(pt.log_alpha)
            head.load_state_dict(pt.head_state)
            losses = val.sample_losses(head, gate.deterministic()).reshape(-1)
            mean = float((w * losses).sum())
            var = float((w * (losses - mean) ** 2).sum())
        se = (var / n_val) ** 0.5 if n_val > 1 else 0.0
        scores.append((mean, se))
        if return_losses:
            rows.append(losses.detach().to(torch.float64).cpu().numpy())
    if not return_losses:
        return scores
    return scores, np.asarray(rows), w.detach().to(torch.float64).cpu().numpy(), n_val


#: Family-wise level of the validated point's comparisons (as the filling
#: rule's and the nonlinearity test's).
VALIDATION_LEVEL = 0.05


def validated_point(sizes, losses, w, n_val, level=VALIDATION_LEVEL):
    """Index of the sparsest point not significantly worse than the best.

    ``sizes``: each point's number of open gates; ``losses`` (points,
    rows): their per-sample held-out losses.

    The best point has the lowest weighted mean held-out loss. Point ``i``
    is compared with it by the mean of the per-sample differences
    ``loss_i - loss_best`` over the same held-out rows (a paired test, so
    the rows' shared difficulty cancels), divided by that mean's standard
    error; ``i`` is admissible unless this ``z`` exceeds the normal
    ``1 - level / (K - 1)`` quantile, one-sided, with ``K`` the number of
    distinct points (distinct rows of ``losses``). The best is chosen on
    the same rows, so this is Hsu's multiple comparisons with the best
    (Hsu 1996, ch. 4), whose family is the ``K - 1`` comparisons of the
    truly best point with every other one: Bonferroni over the points
    sparser than the best alone let a sparsest point as good as the rest
    be rejected 7-9% of the time at a nominal 5%. Among admissible points
    the sparsest is validated (ties: lower loss).

    The one-standard-error rule this replaces compared every point with
    the minimum of ``m`` noisy losses using the best point's own standard
    error: the minimum is biased low (its point won a draw among many whose
    heads differ only by training noise), so a point that fitted noise
    columns and drew a lucky held-out loss kept them (Friedman #1,
    ``lam="auto"``: 14 columns instead of 5 on one seed in five). The
    paired z with the multiplicity of the comparison is the test that
    question asks.
    """
    from scipy.stats import norm

    means = losses @ w
    best = int(np.argmin(means))
    sizes = np.asarray(sizes)
    sparser = np.flatnonzero(sizes < sizes[best])
    if sparser.size == 0:
        return best
    diff = losses[sparser] - losses[best]
    dmean = diff @ w
    dvar = np.maximum(((diff - dmean[:, None]) ** 2) @ w, 0.0)
    se = np.sqrt(dvar / n_val) if n_val > 1 else np.zeros(sparser.size)
    distinct = np.unique(losses, axis=0).shape[0]
    crit = float(norm.isf(level / max(distinct - 1, 1)))
    ok = [best] + [int(i) for i, d, e in zip(sparser, dmean, se) if d <= 0 or d <= crit * e]
    return min(ok, key=lambda i: (sizes[i], means[i]))


#: Adam steps of the validated path as shares of ``max_iter``: the dense
#: first point, then each of the warm-started points (16 points: about
#: 2 * max_iter steps in all).
FIRST_POINT_SHARE, POINT_SHARE = 1 / 3, 1 / 9


def validated_path_budgets(n_points, max_iter):
    """Adam steps per point of the validated path (at most; a point may stop earlier).

    Along the path the gates close gradually as ``lam`` grows (each point
    warm-starts from the last; no point had converged within the former
    ``max_iter / 3`` steps), so the walk is one annealing run whose length,
    not each point's convergence, orders the gates. The steps were most of
    an MLP fit's time. On development seeds 200-204 of the five issue-16
    benchmark tasks this budget (a third of the former one: ``max_iter``
    steps for the first point and ``max_iter / 3`` for each other) kept
    every exact-``k`` selection, where a quarter of the former budget lost
    a column on two seeds; on held-out seeds 100-104 it lost one column on
    3 of the 25 task-seeds (docs/heads.md).
    """
    first = max(1, round(FIRST_POINT_SHARE * max_iter))
    later = max(1, round(POINT_SHARE * max_iter))
    return [first] + [later] * (n_points - 1)


def validated_path(train, val, gate, head, *, max_iter, common, report=None):
    """Gate path on ``train`` scored on ``val``: (points, scores, validated index).

    The validated index is None where the empty model is validated: the
    intercept alone, fitted on ``train`` (:func:`empty_model_losses`), is
    compared with the points as a point of no open gate. On pure noise
    (n=100, p=6) every point of an MLP head's path kept all 6 columns
    (the warm-started points, on a network that had fitted the noise at
    the first, closed none up to ``lam`` = 0.5), and ``lam="auto"`` kept
    them at a held-out R^2 of -4.
    """
    lams = lam_grid()
    points = gate_path(
        train, gate, head, lams, max_iter=max_iter, step_callback=report,
        budgets=validated_path_budgets(len(lams), max_iter), **common
    )
    scores, losses, w, n_val = held_out_scores(val, gate, head, points, return_losses=True)
    sizes = [pt.support.size for pt in points]
    if min(sizes) > 0:
        losses = np.vstack([losses, empty_model_losses(train, val)])
        sizes.append(0)
    chosen = validated_point(sizes, losses, w, n_val)
    return points, scores, (chosen if chosen < len(points) else None)


def empty_model_losses(train, val):
    """Per-sample losses on ``val`` of the intercept-only model fitted on ``train``."""
    from ._refit import refit_linear_head

    head, _ = refit_linear_head(train, np.zeros(0, dtype=np.intp))
    with torch.no_grad():
        closed = torch.zeros(val.n_features, device=val.mean.device, dtype=val.mean.dtype)
        losses = val.sample_losses(head, closed).reshape(-1)
    return losses.detach().to(torch.float64).cpu().numpy()


def nonlinear_k_support(problem, points, validated, k, keep_redundant):
    """The ``k`` columns of an MLP head's exact ``k`` (module docstring).

    ``validated``: the validated point's index, or None for the empty
    model (tier 1 is then empty). Returns them in the order they were taken.
    """
    order = survival_ranking(points)
    rank = np.empty(order.size, dtype=np.intp)
    rank[order] = np.arange(order.size)
    validated = [] if validated is None else points[validated].support.tolist()
    first = sorted(validated, key=lambda j: rank[j])[:k]
    if keep_redundant:
        return redundancy_ranking(problem, order, k, first=first)
    taken = set(first)
    rest = [int(j) for j in order if j not in taken]
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

# Float64 elements of the nonlinearity test's row chunks (2 MB temporaries).
_CHUNK_ELEMENTS = 1 << 18


def nonlinearity_test(X, R, sw, level=NONLINEARITY_LEVEL):
    """Score test of a fitted linear model against second-order terms.

    ``R`` (n, q) holds the linear model's residuals (targets minus fitted
    values, or one-hot labels minus probabilities). Under a well-specified
    linear (or logistic) model, ``E[r | x] = 0``, so every product
    ``r * z_i * z_j`` of the residual with two standardized columns (squares
    included) has mean 0. Each mean is divided by its heteroscedasticity-
    robust standard error; the largest ``|t|`` over all ``q m (m + 1) / 2``
    of them is compared with the normal ``1 - level / (2 M)`` quantile
    (Bonferroni over the ``M`` terms). Sample weights count repeated rows,
    as everywhere in skl0. Curvature (``(x2 - 0.5)^2``) and
    interactions with no marginal signal (``1[x0 x1 > 0]``) both show up.

    With more than ``NONLINEARITY_MAX_COLUMNS`` columns, the products are
    formed among those whose squares alone are most associated with the
    residuals (an interaction of two columns without such a signal can then
    be missed). ``M`` still counts the terms of all the columns: the
    screening looked at the same residuals and kept the largest squares'
    statistics, so the terms it keeps are a data-chosen part of that whole
    family, and only the whole family's count bounds the level (counting
    the kept terms alone rejected 14% of pure-noise residuals at a nominal
    5%, 4 of 40 columns kept).

    Returns
    -------
    statistic, threshold : float
        The largest ``|t|`` and the Bonferroni threshold; the linear model
        is rejected when ``statistic > threshold``.
    """
    from scipy.stats import norm

    w = np.asarray(sw, dtype=np.float64)
    w = w / w.sum()
    # One float64 copy of X, centred (a column far from 0 keeps its spread);
    # in place where the conversion already copied X (sparse, not float64).
    Z = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    own = sp.issparse(X) or (isinstance(X, np.ndarray) and not np.may_share_memory(Z, X))
    mean = w @ Z
    Z = np.subtract(Z, mean, out=Z if own else None)
    std = np.sqrt(np.maximum(w @ (Z * Z), 0.0))
    keep = std > 1e-12 * np.maximum(np.abs(mean), 1.0)
    # The kept columns standardized straight into float32 (the float64
    # quotient rounded once, as astype would), a few rows at a time: no
    # float64 copy of them. Column-major, as Z[:, keep] was.
    Zf = np.empty((len(Z), np.count_nonzero(keep)), dtype=np.float32, order="F")
    rows = block_rows(Z, _CHUNK_ELEMENTS)
    for a in range(0, len(Z), rows):
        np.divide(Z[a : a + rows, keep], std[keep], out=Zf[a : a + rows])
    Z = Zf
    R = np.asarray(R, dtype=np.float64).reshape(len(R), -1)
    Z2 = Z * Z
    # Weights count repeated rows (scikit-learn's frequency weights, as the
    # rest of the package reads them): a mean sum_i w_i a_i over sum(sw)
    # rows has variance sum_i vw_i a_i^2 with vw = w / sum(sw), so weight 2
    # everywhere and every row twice give the same t. (The survey sandwich
    # sum_i w_i^2 a_i^2 gave them t ratios sqrt(2) apart.)
    vw = w / float(np.sum(sw))
    n_columns = Z.shape[1]  # the family of terms, screened or not
    if Z.shape[1] > NONLINEARITY_MAX_COLUMNS:
        t_sq = np.abs((w[:, None] * R).T @ Z2) / np.sqrt((vw[:, None] * R * R).T @ (Z2 * Z2))
        top = np.argsort(-np.nanmax(t_sq, axis=0))[:NONLINEARITY_MAX_COLUMNS]
        Z, Z2 = Z[:, top], Z2[:, top]
    m = Z.shape[1]
    if m == 0:
        return 0.0, np.inf
    # The two m x m products are the test's cost (n m^2 each; with the
    # linear head's fit they made hidden_layer_sizes="auto" 4-5 times the
    # linear head's time at n=500, p=2000): they are formed in float32,
    # half the time, with the weights scaled to mean 1 (the t ratio is
    # unchanged) so that no product underflows. A t statistic compared with
    # a threshold near 5 needs no more digits.
    ws, wv = w * Z.shape[0], vw * float(Z.shape[0]) ** 2  # n w and n^2 vw: the same t
    best = 0.0
    for c in range(R.shape[1]):
        r = R[:, c]
        num = Z.T @ ((ws * r).astype(np.float32)[:, None] * Z)
        var = Z2.T @ ((wv * r * r).astype(np.float32)[:, None] * Z2)
        # symmetric in (i, j): the max over the whole matrix is the max
        # over the m (m + 1) / 2 distinct terms
        t = np.abs(num) / np.sqrt(np.maximum(var, np.float32(1e-30)))
        best = max(best, float(np.max(t)))
    n_terms = R.shape[1] * n_columns * (n_columns + 1) // 2
    return best, float(norm.isf(level / (2 * n_terms)))


def linear_residuals(estimator, layers, X, Y, classifier):
    """Targets minus a linear fit's fitted values (one-hot for classes).

    ``layers``: the fit's raw-unit model (its :class:`skl0._base._FitRecord`'s
    ``layers``, not yet set on ``estimator``, which gives the targets'
    units). ``X`` is the fit's X, already validated.

    ``Y`` is the target as the estimator's ``_encode_targets`` encoded it:
    class indices, or for a regressor ``y`` standardized per output, so the
    regressor's decision (in ``y``'s units) is standardized the same way
    and the residuals are ``(y - fitted) / y_std``. (The test is invariant
    to that scale; subtracting the raw decision from the standardized ``y``
    left a multiple of ``y`` itself in the residuals, which on a skewed
    design rejected exactly linear models.)
    """
    # X is the fit's validated X (no column names): the forward pass alone,
    # as predict's validation warned that X "does not have valid feature
    # names" on every fit of a DataFrame.
    d = forward(layers, estimator.activation, X)
    d = d.reshape(len(d), -1)
    if not classifier:
        fitted = (d - estimator._y_mean) / estimator._y_std
        return np.asarray(Y, dtype=np.float64).reshape(len(d), -1) - fitted
    if d.shape[1] == 1:
        return np.asarray(Y, dtype=np.float64).reshape(-1, 1) - 1.0 / (1.0 + np.exp(-d))
    d = d - d.max(axis=1, keepdims=True)
    proba = np.exp(d)
    proba /= proba.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(d)), np.asarray(Y, dtype=np.intp)] = 1.0
    return onehot - proba
