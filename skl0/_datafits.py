"""Task losses ("datafits"): small objects, one per task.

Each datafit maps predictions ``pred`` of shape (n, q), encoded targets
``Y`` and sample weights ``w`` (normalised to sum to one) to the weighted
mean loss. Targets are encoded by the datafit's ``encode``.

For the deterministic gate objective (``_engine.py``) each datafit also
gives its value and gradient in plain array operations (``value_grad``,
numpy or torch through an ``ops`` namespace) and ``noise_curvature``: a
bound ``kappa`` on half the loss's second derivative in the prediction, so
that for gate noise of variance ``Var(f)`` around the mean prediction
``mu``::

    E[loss(f)] <= loss(mu) + kappa * Var(f)

with equality for squared loss (``kappa = 1 / q``: the loss is averaged
over outputs) and Boehning's (1992) bound for the log losses (logistic
``loss'' <= 1/4``, so ``kappa = 1/8``; softmax Hessian
``<= (I - 11'/K) / 2``, so ``kappa = 1/4`` summed over classes).
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

    @property
    def noise_curvature(self):
        return 1.0 / self.n_outputs

    def targets(self, Y, ops):
        """``Y`` as the float (n, q) array that ``value_grad`` takes."""
        return ops.float_array(Y)

    def value_grad(self, pred, Y, w, ops):
        """Weighted mean loss and its gradient in ``pred``."""
        r = pred - Y
        wr = w[:, None] * r
        return float((wr * r).sum()) / self.n_outputs, (2.0 / self.n_outputs) * wr


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

    noise_curvature = 1.0 / 8.0

    def targets(self, Y, ops):
        return ops.float_array(Y).reshape(-1)

    def value_grad(self, pred, y, w, ops):
        f = pred[:, 0]
        loss = float((w * (ops.softplus(f) - y * f)).sum())
        return loss, (w * (ops.sigmoid(f) - y))[:, None]


class MultinomialLogLoss:
    """Weighted mean cross-entropy for ``n_classes`` classes (softmax)."""

    name = "log_loss"
    supports_gram = False

    def __init__(self, n_classes):
        self.n_outputs = n_classes
        # Free coefficients per kept feature (what an information criterion
        # charges): the softmax is unchanged by a common shift of a
        # feature's K class coefficients.
        self.df_per_feature = n_classes - 1

    def __call__(self, pred, Y, w):
        return (w * F.cross_entropy(pred, Y, reduction="none")).sum()

    def pointwise(self, pred, Y):
        return F.cross_entropy(pred, Y, reduction="none")

    noise_curvature = 1.0 / 4.0

    def targets(self, Y, ops):
        """Class indices as a one-hot float (n, K) array."""
        return ops.one_hot(Y, self.n_outputs)

    def value_grad(self, pred, onehot, w, ops):
        lse = ops.logsumexp_rows(pred)
        loss = float((w * (lse - ops.sum_rows(pred * onehot))).sum())
        return loss, w[:, None] * (ops.exp(pred - lse[:, None]) - onehot)
