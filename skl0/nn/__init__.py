"""Torch building blocks for L0 regularization with Hard Concrete gates.

Everything here rests on :mod:`skl0.nn.hard_concrete`, the only copy of the
Hard Concrete formulas (Louizos, Welling & Kingma 2017, arXiv:1712.01312).
"""

from .gates import FeatureGate, HardConcreteGate, SampleGate
from .hard_concrete import (
    BETA,
    GAMMA,
    ZETA,
    HardConcrete,
    deterministic_gate,
    log_alpha_for_prob,
    prob_nonzero,
    sample_gate,
)

__all__ = [
    "BETA",
    "GAMMA",
    "ZETA",
    "HardConcrete",
    "HardConcreteGate",
    "FeatureGate",
    "SampleGate",
    "deterministic_gate",
    "log_alpha_for_prob",
    "prob_nonzero",
    "sample_gate",
]
