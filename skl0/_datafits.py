"""Task losses ("datafits"): small objects, one per task.

Each datafit maps predictions ``pred`` of shape (n, q), encoded targets
``Y`` and sample weights ``w`` (normalised to sum to one) to the weighted
mean loss. Targets are encoded by the datafit's ``encode``.
"""

from __future__ import annotations

import torch.nn.functional as F

__all__ = ["SquaredLoss", "BinaryLogLoss", "MultinomialLogLoss"]


class SquaredLoss:
    """Weighted mean squared error, averaged over outputs.

    Targets are standardized by the estimator, so the loss of the
    intercept-only model is 1 and ``lam`` is measured in fractions of the
    target's variance.
    """

    name = "squared_error"
    supports_gram = True

    def __init__(self, n_outputs=1):
        self.n_outputs = n_outputs

    def __call__(self, pred, Y, w):
        return (w[:, None] * (pred - Y) ** 2).sum() / self.n_outputs

    def pointwise(self, pred, Y):
        """Unweighted loss of each sample."""
        return ((pred - Y) ** 2).mean(1)

    def deviance(self, pred, Y, w, n):
        """Per-output residual sums of squares scaled to ``n`` samples."""
        return n * (w[:, None] * (pred - Y) ** 2).sum(0)


class BinaryLogLoss:
    """Weighted mean logistic loss for two classes (one output logit)."""

    name = "log_loss"
    supports_gram = False
    n_outputs = 1

    def __call__(self, pred, Y, w):
        f = pred.reshape(-1)
        # log(1 + e^f) - y f, the logistic loss written with a stable softplus
        # (torch's fused kernel is slow on the strided column view).
        return (w * (F.softplus(f) - Y * f)).sum()

    def pointwise(self, pred, Y):
        f = pred.reshape(-1)
        return F.softplus(f) - Y * f

    def deviance(self, pred, Y, w, n):
        return 2 * n * self(pred, Y, w).reshape(1)


class MultinomialLogLoss:
    """Weighted mean cross-entropy for ``n_classes`` classes (softmax)."""

    name = "log_loss"
    supports_gram = False

    def __init__(self, n_classes):
        self.n_outputs = n_classes

    def __call__(self, pred, Y, w):
        return (w * F.cross_entropy(pred, Y, reduction="none")).sum()

    def pointwise(self, pred, Y):
        return F.cross_entropy(pred, Y, reduction="none")

    def deviance(self, pred, Y, w, n):
        return 2 * n * self(pred, Y, w).reshape(1)
