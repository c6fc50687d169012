"""Torch building blocks for L0 regularization with Hard Concrete gates.

Everything here rests on :mod:`skl0.nn.hard_concrete`, the only copy of the
Hard Concrete formulas (Louizos, Welling & Kingma 2017, arXiv:1712.01312).

- gates: ``HardConcreteGate``, ``FeatureGate``, ``SampleGate``,
  ``HybridGate`` (gated records plus a random draw);
- layers: ``L0Linear`` (gates on weights, inputs or outputs), ``L0Conv2d``
  (gates on output channels or weights), ``L0DepthwiseConv2d``;
- penalties over any module tree: ``l0_penalty``, ``l0l2_penalty``,
  ``sparsity_report``; training curves: ``PenaltyTracker``;
- temperature schedules: ``ExponentialTemperature``, ``LinearTemperature``,
  ``CosineTemperature``, ``set_temperature``; reproducible noise:
  ``set_generator``;
- ``prune``: a smaller plain model with the same eval-mode output.
"""

from .gates import (
    FeatureGate,
    HardConcreteGate,
    SampleGate,
    hard_concrete_gates,
    set_generator,
)
from .hard_concrete import (
    BETA,
    GAMMA,
    ZETA,
    HardConcrete,
    deterministic_gate,
    gate_moments,
    log_alpha_for_prob,
    log_alpha_for_signal,
    median_gate,
    prob_nonzero,
    sample_gate,
    signal_fraction,
)
from .hybrid import HybridGate, add_random
from .layers import L0Conv2d, L0DepthwiseConv2d, L0Linear
from .penalties import l0_penalty, l0l2_penalty, sparsity_report
from .pruning import FixedScale, IndexSelect, prune
from .schedules import (
    CosineTemperature,
    ExponentialTemperature,
    LinearTemperature,
    TemperatureSchedule,
    set_temperature,
)
from .tracking import PenaltyTracker

__all__ = [
    "BETA",
    "GAMMA",
    "ZETA",
    "HardConcrete",
    "HardConcreteGate",
    "FeatureGate",
    "SampleGate",
    "HybridGate",
    "add_random",
    "deterministic_gate",
    "median_gate",
    "log_alpha_for_prob",
    "prob_nonzero",
    "sample_gate",
    "gate_moments",
    "signal_fraction",
    "log_alpha_for_signal",
    "hard_concrete_gates",
    "set_generator",
    "L0Linear",
    "L0Conv2d",
    "L0DepthwiseConv2d",
    "l0_penalty",
    "l0l2_penalty",
    "sparsity_report",
    "PenaltyTracker",
    "prune",
    "IndexSelect",
    "FixedScale",
    "TemperatureSchedule",
    "ExponentialTemperature",
    "LinearTemperature",
    "CosineTemperature",
    "set_temperature",
]
