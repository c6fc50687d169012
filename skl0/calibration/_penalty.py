"""Penalties on the weights: L0 (with a size controller) and an L2 pull.

* The L0 penalty is ``lam * E[number of kept records]``, the sum of the
  Hard Concrete ``P(gate != 0)`` from :class:`skl0.nn.SampleGate`.
* :class:`SizeController` turns ``lam`` into a dual variable when a record
  count ``k`` is asked for: a target count that falls from the initial
  expected count to ``k`` (in log space, along a half cosine) over the
  first part of training, and a proportional-integral dual-ascent step on
  ``log(lam)`` that raises ``lam`` while the expected count is above the
  target and lowers it while below. The update stays on the device (no
  host synchronisation per step).
* :func:`log_pull` is ``mean((log w - log w_ref) ** 2)`` over the records,
  the L2 pull toward the reference weights on the log scale.
"""

from __future__ import annotations

import math

import torch

__all__ = ["SizeController", "log_pull"]


def log_pull(log_w, ref_log_w, n=None):
    """``sum((log_w - ref_log_w) ** 2) / n``: the L2 pull on the log scale.

    ``n`` defaults to the number of entries (the mean); the gated stage
    passes all ``N`` records while only the unpruned ones are given.
    """
    d = log_w - ref_log_w
    return torch.dot(d, d) / (d.numel() if n is None else n)


class SizeController:
    """Dual ascent on ``lam`` so that ``E[L0]`` reaches ``k``.

    A proportional-integral controller in log space: with
    ``gap = E[L0] / target - 1`` (clipped to ``[-1, 1]``),
    ``I += step_size * gap`` and ``lam = exp(I + gain * gap)``. The integral
    term is plain dual ascent on ``log lam``; the proportional term damps
    the overshoot that Adam's momentum on the gates would otherwise cause.

    Parameters
    ----------
    lam : torch.Tensor
        Initial ``lam`` (a 0-d positive tensor on the device); updated in place.
    k : int
        Number of records to keep.
    start : float
        Expected number of kept records at initialisation.
    n_anneal : int
        Steps over which the target count falls from ``start`` to ``k``.
    step_size : float, default=0.05
        Integral gain.
    gain : float, default=2.0
        Proportional gain.
    """

    def __init__(self, lam, k, start, n_anneal, step_size=0.05, gain=2.0):
        self.lam, self.k = lam, float(k)
        self.start = max(float(start), self.k)
        self.n_anneal = max(int(n_anneal), 1)
        self.step_size, self.gain = step_size, gain
        self.integral = torch.log(lam.clamp_min(torch.finfo(lam.dtype).tiny))

    def target(self, step):
        """Target count at ``step``: from ``start`` down to ``k`` in log space.

        The path is a half cosine, so it slows down as it reaches ``k`` and
        the gates' momentum does not carry the count far below ``k``.
        """
        frac = 0.5 - 0.5 * math.cos(math.pi * min(step / self.n_anneal, 1.0))
        return math.exp((1 - frac) * math.log(self.start) + frac * math.log(self.k))

    def update(self, step, expected_l0):
        """One dual step given the current (detached) ``E[L0]``."""
        gap = (expected_l0 / self.target(step) - 1.0).clamp(-1.0, 1.0)
        self.integral.add_(self.step_size * gap)
        self.lam.copy_(torch.exp(self.integral + self.gain * gap))
