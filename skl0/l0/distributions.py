"""``HardConcrete``: l0-python's gate distribution as a skl0.nn gate.

The formulas are those of :mod:`skl0.nn.hard_concrete` (sampling, eq. 10;
``P(gate != 0)``, eq. 12); this module only keeps l0-python's parameter
names (``qz_logits``, ``stretch``, ``init_mean``), its defaults, its
initialisation ``qz_logits = logit(init_mean)``, its clamp of the logits
to ``[-20, 20]`` and its eval-mode gate, the median of the gate
(:func:`skl0.nn.median_gate`).
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_int_type, check_number
from ..nn.gates import HardConcreteGate
from ..nn.hard_concrete import check_hard_concrete_params, median_gate
from ._compat import logit

__all__ = ["HardConcrete"]


class HardConcrete(HardConcreteGate):
    """Hard Concrete gates with learnable logits, as in l0-python.

    A :class:`skl0.nn.HardConcreteGate` under l0-python's names, so
    ``skl0.nn.l0_penalty``, ``set_temperature`` and ``sparsity_report`` see
    it too.

    Parameters
    ----------
    input_dim : int
        Size of the first gate dimension.
    output_dim : int or None, default=None
        Size of the second dimension, for a matrix of gates.
    temperature : float, default=0.5
        Temperature ``beta`` (> 0).
    stretch : float, default=0.1
        The gate is stretched to ``(-stretch, 1 + stretch)`` before clipping.
    init_mean : float or None, default=0.5
        Sets every logit to ``log(init_mean / (1 - init_mean))``; ``None``
        leaves them at 0. ``P(gate != 0)`` is then not ``init_mean`` (see
        docs/migrating.md).

    Attributes
    ----------
    qz_logits : torch.nn.Parameter of shape gate_size
        The gate logits ``log_alpha``.
    log_alpha : torch.Tensor
        ``qz_logits`` clamped to ``[-LOG_ALPHA_BOUND, LOG_ALPHA_BOUND]``
        (read-only); every formula uses it.
    gate_size : tuple of int
    gamma, zeta : float
        ``-stretch`` and ``1 + stretch``.

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import HardConcrete
    >>> gate = HardConcrete(4, temperature=0.5, init_mean=0.8)
    >>> round(gate.qz_logits[0].item(), 4)  # logit(0.8)
    1.3863
    >>> round(gate.get_penalty().item(), 2)  # 4 * P(gate != 0)
    3.72
    >>> gate.eval()().shape
    torch.Size([4])
    """

    #: Logits are clamped to this bound before every formula.
    LOG_ALPHA_BOUND: float = 20.0
    #: Uniform noise is kept in ``[eps, 1 - eps]`` (skl0.nn's constant).
    _UNIFORM_EPS: float = 1e-6

    def __init__(
        self,
        input_dim,
        output_dim=None,
        temperature=0.5,
        stretch=0.1,
        init_mean=0.5,
    ):
        nn.Module.__init__(self)
        # HardConcrete(0) made an empty gate without a word (L0Gate(0) is refused)
        check_int_type("input_dim", input_dim)
        check_int("input_dim", input_dim, 1, "the number of gates (first dimension)")
        if output_dim is not None:
            check_int_type("output_dim", output_dim)
            check_int("output_dim", output_dim, 1, "the gates' second dimension, or None")
        if output_dim is None:
            self.gate_size = (input_dim,)
        else:
            self.gate_size = (input_dim, output_dim)
        temperature = check_number("temperature", temperature, lambda v: v > 0,
                                   "a float > 0, e.g. 0.5")
        stretch = check_number("stretch", stretch, lambda v: v > 0, "a float > 0, e.g. 0.1")
        self.temperature, self.gamma, self.zeta = check_hard_concrete_params(
            temperature, -stretch, 1.0 + stretch
        )
        self.stretch = stretch
        self.init_mean = init_mean
        self.init_prob = init_mean
        self.generator = None
        self.qz_logits = nn.Parameter(torch.zeros(self.gate_size))
        self.reset_parameters()

    @property
    def log_alpha(self):
        return self.qz_logits.clamp(-self.LOG_ALPHA_BOUND, self.LOG_ALPHA_BOUND)

    def reset_parameters(self, init_prob=None):
        """Set every logit to ``logit(init_mean)`` (nothing when it is None)."""
        mean = self.init_mean if init_prob is None else init_prob
        if mean is not None:
            with torch.no_grad():
                self.qz_logits.fill_(logit(mean))

    def deterministic(self):
        """Eval-mode gates: the median of each gate (temperature-aware)."""
        return median_gate(self.log_alpha, self.temperature, self.gamma, self.zeta)

    def forward(self, input_shape=None):
        """Sampled gates in training mode, median gates in eval mode.

        Parameters
        ----------
        input_shape : tuple of int or None, default=None
            When longer than the gate shape, trailing singleton dimensions
            are added so the gates broadcast (e.g. over a convolution's
            height and width).
        """
        gates = self.gates()
        if input_shape is not None:
            for _ in range(len(input_shape) - gates.dim()):
                gates = gates.unsqueeze(-1)
        return gates

    def _sample_gates(self):
        return self.sample()

    def _deterministic_gates(self):
        return self.deterministic()

    def get_penalty(self):
        """Expected number of non-zero gates (eq. 12), differentiable."""
        return self.expected_l0()

    def get_active_prob(self):
        """``P(gate != 0)`` of each gate (eq. 12)."""
        return self.prob_open()

    def get_sparsity(self):
        """``1 - mean P(gate != 0)``, a float."""
        with torch.no_grad():
            return 1.0 - self.prob_open().mean().item()

    @torch.no_grad()
    def get_num_active(self):
        """Number of gates with ``P(gate != 0) > 0.5``."""
        return int((self.prob_open() > 0.5).sum().item())

    def extra_repr(self):
        return (
            f"gate_size={self.gate_size}, temperature={self.temperature}, "
            f"stretch={self.stretch}, init_mean={self.init_mean}"
        )
