"""Prediction heads that sit behind the feature gates.

A head maps raw ``X`` to predictions with its first affine layer applied to
the standardized, gated features *without forming them*: with per-feature
``scale = z / std`` and ``shift = mean * z / std``::

    ((X - mean) / std * z) @ W = X @ (scale[:, None] * W) - shift @ W

so X is never copied or rescaled, dense or sparse.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LinearHead"]


def _gated_affine(X, scale, shift, weight, bias):
    Wg = scale[:, None] * weight
    if X.is_sparse or X.layout in (torch.sparse_csr, torch.sparse_csc):
        out = torch.sparse.mm(X, Wg) if X.is_sparse else X @ Wg
    else:
        out = X @ Wg
    return out - shift @ weight + bias


class LinearHead(nn.Module):
    """Linear head on standardized features: ``pred = x_std @ W + b``.

    Parameters
    ----------
    n_features : int
    n_outputs : int
    """

    is_linear = True

    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_features, n_outputs))
        self.bias = nn.Parameter(torch.zeros(n_outputs))

    def forward(self, X, scale, shift):
        return _gated_affine(X, scale, shift, self.weight, self.bias)

    def l2(self):
        """Squared L2 norm of the weights (the intercept is not penalised)."""
        return (self.weight**2).sum()

    def feature_weights(self):
        """(p, q) weights through which each input feature acts."""
        return self.weight
