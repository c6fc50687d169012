"""One Hard Concrete gate per group of columns (``groups=`` / ``feature_costs=``).

Kept apart from :mod:`skl0._groups` (the layout, numpy only), which a
fitted model's pickle names: this module imports torch.
"""

from __future__ import annotations

import torch

from .nn import FeatureGate

__all__ = ["GroupGate"]


class GroupGate(FeatureGate):
    """One Hard Concrete gate per group, read as column gates.

    ``log_alpha`` has one entry per group; :meth:`sample`,
    :meth:`deterministic`, :meth:`mask` and :meth:`prob_open` return one
    value per column (the group's), and :meth:`expected_l0` is
    ``sum_g costs[g] P(open_g)``.

    Parameters
    ----------
    layout : GroupLayout
    init_prob, temperature : float
        As for :class:`skl0.nn.FeatureGate`.
    """

    def __init__(self, layout, init_prob=0.9, temperature=2.0 / 3.0):
        # Made in float32 and cast by the caller (.to), whatever torch's
        # default dtype: a set_default_dtype(torch.float64) started the gates
        # at another rounding of log_alpha, and the fit went elsewhere.
        super().__init__(layout.n_groups, init_prob=init_prob, temperature=temperature,
                         dtype=torch.float32)
        self.layout = layout
        self.register_buffer("index", torch.as_tensor(layout.index, dtype=torch.long))
        # The costs in float64 (the layout's), so that the caller's .to(dtype)
        # rounds them once to the fit's precision: a float32 buffer cast up
        # gave a float64 fit costs rounded to float32.
        self.register_buffer("costs", torch.as_tensor(layout.costs, dtype=torch.float64))

    def group_prob_open(self):
        """``P(gate != 0)`` per group; differentiable."""
        return super().prob_open()

    def group_mask(self):
        """Boolean mask of the open groups."""
        return (super().deterministic() > 0).detach()

    def prob_open(self):
        return super().prob_open()[self.index]

    def expected_l0(self):
        return (self.costs.to(self.log_alpha.dtype) * super().prob_open()).sum()

    def deterministic(self):
        return super().deterministic()[self.index]

    def sample(self, sample_shape=(), generator=None):
        return super().sample(sample_shape, generator)[..., self.index]
