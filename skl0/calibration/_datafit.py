"""The data fit: weighted mean squared relative error of the totals.

``loss(totals) = sum_j c_j * ((totals_j - targets_j) / scale_j) ** 2``

* ``scale_j = |targets_j|``, so a total of 1e9 and one of 1e2 count alike;
  for a zero target, ``scale_j`` is the size of that total under the
  calibrated starting weights (``a |M|.T @ w0``, ``a`` the factor by which
  ``w0`` best fits the non-zero targets), or 1 if that is zero too.
* ``c_j`` sums to one over the targets when every ``target_weights`` is 1:
  ``c_j = target_weights_j / Q`` without groups, and
  ``c_j = target_weights_j / (n_groups * size of j's group)`` with
  ``target_groups``, so that every group counts alike however many
  targets it has.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["RelativeSquaredError", "target_coefficients"]


def target_coefficients(n_targets, target_weights=None, target_groups=None):
    """Per-target loss coefficients ``c_j`` (numpy, sums to 1 for unit weights).

    Parameters
    ----------
    n_targets : int
    target_weights : ndarray of shape (n_targets,) or None
        Non-negative importance of each target.
    target_groups : array-like of shape (n_targets,) or None
        Group label of each target.

    Returns
    -------
    ndarray of shape (n_targets,)

    Examples
    --------
    >>> from skl0.calibration._datafit import target_coefficients
    >>> target_coefficients(3, target_groups=["a", "a", "b"]).tolist()
    [0.25, 0.25, 0.5]
    """
    weights = np.ones(n_targets) if target_weights is None else target_weights
    if target_groups is None:
        return weights / n_targets
    _, inverse, counts = np.unique(
        np.asarray(target_groups), return_inverse=True, return_counts=True
    )
    return weights / (len(counts) * counts[inverse.ravel()])


class RelativeSquaredError:
    """Weighted squared relative error of totals against targets.

    Parameters
    ----------
    targets : torch.Tensor of shape (Q,)
    scales : torch.Tensor of shape (Q,)
        Positive divisor of each error (see the module docstring).
    coefficients : torch.Tensor of shape (Q,)
        Non-negative weight ``c_j`` of each squared relative error.
    """

    def __init__(self, targets, scales, coefficients):
        self.targets = targets
        self.inv_scales = 1.0 / scales
        self.coefficients = coefficients

    def relative_errors(self, totals):
        """Signed relative errors ``(totals - targets) / scale``."""
        return (totals - self.targets) * self.inv_scales

    def __call__(self, totals):
        r = self.relative_errors(totals)
        return torch.dot(self.coefficients, r * r)
