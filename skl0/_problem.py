"""Data on the device, seen through internal standardization.

A *problem* owns the training tensors and computes the task loss of a head
under a gate vector ``z``. Two kinds share one interface (``loss``):

- :class:`DirectProblem` evaluates the head on X (dense or sparse), O(n p)
  per step for a linear head;
- :class:`GramProblem` is for squared loss with a linear head: it keeps the
  standardized ``X'WX`` and ``X'Wy`` so a step costs O(p^2 q), not O(n p).

Torch only; no scikit-learn here.
"""

from __future__ import annotations

import torch

__all__ = ["DirectProblem", "GramProblem", "weighted_moments"]


def weighted_moments(X, w):
    """Weighted column means and standard deviations (w sums to one).

    Constant columns get std 1 so that they standardize to zeros (and carry
    no signal) instead of dividing by zero.
    """
    mean = w @ X
    var = w @ (X * X) - mean * mean
    std = torch.sqrt(torch.clamp(var, min=0.0))
    tiny = torch.finfo(X.dtype).eps * torch.clamp(mean.abs(), min=1.0) * 10
    std = torch.where(std > tiny, std, torch.ones_like(std))
    return mean, std


class DirectProblem:
    """Task loss evaluated on the data: ``datafit(head(X, z), Y, w)``."""

    def __init__(self, X, Y, w, mean, std, datafit):
        self.X, self.Y, self.w = X, Y, w
        self.mean, self.std = mean, std
        self.datafit = datafit
        self.n_features = X.shape[1]
        self.n_samples = X.shape[0]

    def predict(self, head, z):
        scale = z / self.std
        return head(self.X, scale, self.mean * scale)

    def loss(self, head, z):
        return self.datafit(self.predict(head, z), self.Y, self.w)

    def sample_losses(self, head, z):
        """Unweighted task loss of every row (for validation scores)."""
        return self.datafit.pointwise(self.predict(head, z), self.Y)

    def subset(self, rows):
        """The same problem on ``rows`` (same standardization, weights renormalised)."""
        w = self.w[rows]
        sub = DirectProblem(self.X[rows], self.Y[rows], w / w.sum(), self.mean, self.std, self.datafit)
        sub.n_samples = self.n_samples * float(w.sum())
        return sub


class GramProblem:
    """Squared loss of a linear head from sufficient statistics.

    With ``Xs`` the standardized X, ``Yc`` the centred targets and weights
    ``w`` summing to one: ``G = Xs' diag(w) Xs``, ``c = Xs' diag(w) Yc``,
    ``yy = sum(w Yc^2)``; for effective weights ``V = z * W`` the loss is
    ``(yy - 2 <V, c> + <V, G V>) / q``. The optimal intercept is zero.
    """

    def __init__(self, X, Y, w, mean, std, datafit):
        Xw = X * w[:, None]
        G = X.t() @ Xw - torch.outer(mean, mean)
        self.G = G / torch.outer(std, std)
        self.c = (Xw.t() @ Y) / std[:, None]
        self.yy = (w[:, None] * Y * Y).sum(0)
        self.mean, self.std = mean, std
        self.datafit = datafit
        self.n_features = X.shape[1]
        self.n_samples = X.shape[0]

    def loss(self, head, z):
        V = z[:, None] * head.weight
        q = V.shape[1]
        return (self.yy.sum() - 2 * (V * self.c).sum() + (V * (self.G @ V)).sum()) / q
