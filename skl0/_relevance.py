"""All-relevant completion of an exact-``k`` ranking (``keep_redundant=True``).

A loss-minimising selector is *minimal-optimal*: once it holds columns that
carry the signal, a column that is a (near-)linear combination of them
lowers the loss by nothing, so its gate closes as early as that of a pure
noise column, and the remaining slots of an exact ``k`` go to whichever
noise columns happened to fit the sample. An *all-relevant* selection
(Nilsson et al. 2007; Boruta, Kursa & Rudnicki 2010) keeps such redundant
columns: they are associated with the target through the signal already
chosen.

:func:`redundancy_ranking` builds the ``k`` columns greedily from the gate
path's persistence order: at each step it takes the unselected column best
explained by the columns already taken, if its adjusted R^2 on them is at
least ``threshold`` (0.5: more of its variance is a copy of the chosen
signal than not), and otherwise the next column in persistence order. With
uncorrelated columns nothing reaches the threshold and the result is the
persistence order itself; the adjusted R^2 (``1 - (1 - R^2)(n - 1)/(n - m
- 1)`` on ``m`` chosen columns) is about 0 for a column unrelated to them,
whatever ``m``, so chance fits do not qualify.

R^2 is formed from weighted inner products of standardized columns, by
Gram-Schmidt in the Gram metric: one pass over X per chosen column, no
copy of X. Torch, numpy and the standard library only.
"""

from __future__ import annotations

import numpy as np
import torch

from ._problem import weighted_sums

__all__ = ["redundancy_ranking"]

#: Adjusted R^2 on the chosen columns above which a column counts as a
#: redundant copy of the chosen signal.
REDUNDANCY_THRESHOLD = 0.5


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


def redundancy_ranking(problem, order, k, threshold=REDUNDANCY_THRESHOLD):
    """``k`` columns from a persistence ``order``, redundant copies first.

    Parameters
    ----------
    problem : DirectProblem or GramProblem
        Supplies the standardized, weighted columns.
    order : ndarray of int
        Every feature, most persistent first (:func:`survival_ranking`).
    k : int
    threshold : float
        Adjusted R^2 on the chosen columns from which an unselected column
        is taken before the next one in ``order``.

    Returns
    -------
    ndarray of int
        The ``k`` chosen columns in the order they were taken.
    """
    p = problem.n_features
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
    order = np.asarray(order)
    while len(chosen) < k:
        m = len(chosen)
        pick = None
        if basis and n - m - 1 > 0:
            r2 = np.where(live, explained / np.where(live, diag, 1.0), 0.0)
            adj = 1.0 - (1.0 - r2) * (n - 1.0) / (n - m - 1.0)
            adj[taken] = -np.inf
            j = int(np.argmax(adj))
            if adj[j] >= threshold:
                pick = j
        if pick is None:
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
