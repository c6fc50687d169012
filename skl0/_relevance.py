"""All-relevant completion of an exact-``k`` ranking (``keep_redundant=True``).

A loss-minimising selector is *minimal-optimal*: once it holds columns that
carry the signal, a column that is a (near-)linear combination of them
lowers the loss by nothing, so its gate closes as early as that of a pure
noise column, and the remaining slots of an exact ``k`` go to whichever
noise columns happened to fit the sample. An *all-relevant* selection
(Nilsson et al. 2007; Boruta, Kursa & Rudnicki 2010) keeps such redundant
columns: they are associated with the target through the signal already
chosen.

:func:`redundancy_ranking` builds the ``k`` columns greedily: first the
columns of ``first`` (for an MLP head, the support whose held-out loss the
path validated), then, at each step, the unselected column best explained
by the columns already taken if that association is *significant*, and
otherwise the next column in the gate path's persistence order. With
uncorrelated columns each step takes a noise column with probability at
most 5%, so the result is mostly the persistence order itself (the level
is per step: over the ``k - m`` steps of an exact ``k`` those chances add
up, 25% over 20 free slots in a Gaussian simulation).

The threshold is derived, not tuned: the usual F test that a column's
regression on the ``m`` columns taken explains anything,
``F = (R^2 / m) / ((1 - R^2) / (n - m - 1))``, at a family-wise level of
5% over the ``p - m`` candidates (Bonferroni): the column is taken when
``F`` exceeds the ``1 - 0.05 / (p - m)`` quantile of ``F(m, n - m - 1)``.
``p`` counts every column of the data, also when the fit ran on a
screened subset (p > n): the screening kept the columns most associated
with ``y``, a data-chosen part of the whole family, and counting only the
kept ones let 75-85% of such fits take a noise column. For Gaussian
columns a column unrelated to the chosen ones then passes with
probability at most 0.05 over the search step, whatever ``n``, ``m`` or
``p``. The F distribution is exact only for Gaussian columns: Bonferroni
reads it far in its tail (``0.05 / p``), where the sample correlations of
skewed or sparse columns are heavier-tailed, so on such columns the level
is exceeded (in simulations at n=300, p=200: 9% for exponential columns,
19% for Bernoulli(0.1) indicators, nearly always for Bernoulli(0.02)).
A column that carries part of the chosen signal passes as soon as ``n``
is large enough to see it. (Issue 4's rule, adjusted R^2 >= 0.5, was justified on
one benchmark task; it missed redundant columns that one chosen column
explains only partly, which are exactly the ones the cascade needs.)

R^2 is formed from weighted inner products of standardized columns, by
Gram-Schmidt in the Gram metric: one pass over X per chosen column, no
copy of X. Torch, numpy and the standard library only.
"""

from __future__ import annotations

import numpy as np
import torch

from ._problem import weighted_sums

__all__ = ["association_threshold", "redundancy_ranking", "signal_carriers"]

#: Family-wise level of the test that a column carries the chosen signal.
REDUNDANCY_LEVEL = 0.05


def association_threshold(n, m, n_candidates, level=REDUNDANCY_LEVEL):
    """Smallest R^2 on ``m`` chosen columns that is significant at ``level``.

    Inverts ``F = (R^2 / m) / ((1 - R^2) / (n - m - 1))`` at the
    ``1 - level / n_candidates`` quantile of ``F(m, n - m - 1)``
    (Bonferroni over the candidates). Returns 1.0 (nothing qualifies) when
    ``m < 1`` or ``n - m - 1 < 1``.

    Parameters
    ----------
    n : float
        Number of samples.
    m : int
        Number of (linearly independent) columns already taken.
    n_candidates : int
        Number of columns tested at this step.
    level : float
        Family-wise level over the candidates.

    Returns
    -------
    float
        The R^2 threshold, in ``(0, 1]``.
    """
    from scipy.stats import f as f_dist

    d2 = n - m - 1.0
    if d2 < 1 or m < 1:
        return 1.0
    crit = float(f_dist.isf(level / max(n_candidates, 1), m, d2))
    return crit * m / (crit * m + d2)


def _host_array(t):
    return t.detach().cpu().double().numpy()


class _GramRows:
    """Weighted inner products ``<z_s, z_j>_w`` of standardized columns."""

    def __init__(self, problem):
        self.problem = problem
        G = getattr(problem, "G", None)
        if G is not None:  # GramProblem: the statistics are already there
            self.G = G
            self.diag = _host_array(torch.diagonal(G))
            return
        self.G = None
        self.diag = self._diagonal()

    def _diagonal(self):
        pr = self.problem
        mean, std = _host_array(pr.mean), _host_array(pr.std)
        w = _host_array(pr.w)
        if pr.host is not None:  # scipy CSR: E_w[x] and E_w[x^2] by scipy
            ex, ex2 = weighted_sums(pr.host, w)
        else:  # dense: squares in blocks of rows (no X-sized temporary)
            ex, ex2 = (_host_array(a) for a in weighted_sums(pr.X, pr.w))
        total = w.sum()
        var = ex2 - 2 * mean * ex + mean * mean * total
        return np.maximum(var, 0.0) / (std * std)

    def row(self, s):
        """The inner products of column ``s`` with every column, float64."""
        if self.G is not None:
            return _host_array(self.G[s])
        pr = self.problem
        cols = torch.as_tensor([s], device=pr.mean.device)
        u = (pr.columns(cols)[:, 0] * pr.w).to(pr.mean.dtype)
        if pr.host is not None:
            xu = np.asarray(pr.host.T @ _host_array(u)).ravel()
        else:
            xu = _host_array(pr.X.T @ u)
        return (xu - _host_array(pr.mean) * float(u.sum())) / _host_array(pr.std)


def redundancy_ranking(problem, order, k, first=(), level=REDUNDANCY_LEVEL):
    """``k`` columns: ``first``, then at each step a carrier of their signal, else the next of ``order``.

    Parameters
    ----------
    problem : DirectProblem or GramProblem
        Supplies the standardized, weighted columns.
    order : ndarray of int or None
        Every feature, most persistent first (:func:`survival_ranking`).
        ``None``: stop (with fewer than ``k`` columns) once no unselected
        column is a significant carrier (:func:`signal_carriers`).
    k : int
    first : sequence of int
        Columns taken first, in this order (at most ``k`` of them).
    level : float
        Family-wise level of the test that an unselected column is
        associated with the columns taken (:func:`association_threshold`).

    Returns
    -------
    ndarray of int
        The ``k`` chosen columns (fewer only when ``order`` is None) in the
        order they were taken.
    """
    p = problem.n_features
    # The Bonferroni family: every column of the data, screened or not.
    p_all = problem.n_candidates
    k = int(min(k, p))
    n = float(problem.n_samples)
    gram = _GramRows(problem)
    diag = gram.diag
    live = diag > 1e-8 * max(float(diag.max(initial=0.0)), 1e-300)
    explained = np.zeros(p)  # squared projections on the chosen columns' span
    basis = []  # each: the inner products of one orthonormal direction with all columns
    taken = np.zeros(p, dtype=bool)
    chosen = []
    pos = 0
    order = None if order is None else np.asarray(order)
    first = [int(j) for j in first][:k]
    while len(chosen) < k:
        m = len(chosen)
        pick = None
        if m < len(first):
            pick = first[m]
        elif basis:
            r2 = np.where(live, explained / np.where(live, diag, 1.0), 0.0)
            r2[taken] = -np.inf
            j = int(np.argmax(r2))
            if r2[j] >= association_threshold(n, len(basis), p_all - m, level):
                pick = j
        if pick is None:
            if order is None:
                break
            while taken[order[pos]]:
                pos += 1
            pick = int(order[pos])
        taken[pick] = True
        chosen.append(pick)
        if not live[pick]:
            continue
        resid = gram.row(pick)
        for b in basis:
            resid = resid - b[pick] * b
        norm2 = diag[pick] - explained[pick]
        if norm2 > 1e-6 * diag[pick]:  # otherwise already in the span
            b = resid / np.sqrt(norm2)
            basis.append(b)
            explained = np.minimum(explained + b * b, diag)
    return np.asarray(chosen, dtype=np.intp)


def signal_carriers(problem, first, level=REDUNDANCY_LEVEL):
    """``first``, then every column that carries their signal (no fixed number).

    The all-relevant completion of a selection that chose its own size
    (``lam="auto"`` of an MLP head): the greedy search of
    :func:`redundancy_ranking` without a ``k`` to fill, ending when no
    unselected column is associated with the columns taken at the
    family-wise ``level``. With uncorrelated columns it returns ``first``.

    Parameters
    ----------
    problem : DirectProblem or GramProblem
        Supplies the standardized, weighted columns.
    first : sequence of int
        The selection, taken first in this order.
    level : float
        Family-wise level of the test (:func:`association_threshold`).

    Returns
    -------
    ndarray of int
        ``first``, then the carriers in the order they were taken.
    """
    return redundancy_ranking(problem, None, problem.n_features, first=first, level=level)
