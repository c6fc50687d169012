"""l0-python's API on skl0: switch by changing ``import l0`` to ``import skl0.l0``.

The modules mirror those of PolicyEngine's ``l0`` package (published as
``l0-python``): :mod:`~skl0.l0.distributions`, :mod:`~skl0.l0.gates`,
:mod:`~skl0.l0.layers`, :mod:`~skl0.l0.penalties`, :mod:`~skl0.l0.sparse`
and :mod:`~skl0.l0.calibration`, with the same names, signatures, defaults
and numbers. Underneath is skl0: the gates are :mod:`skl0.nn` gates (the
one Hard Concrete implementation), the layers are skl0.nn layers and the
calibration runs on skl0's calibration core. Where skl0.l0 differs from
l0-python, and what the native skl0 equivalent of each name is, is listed
in ``docs/migrating.md``.
"""

# The names below are re-exported through __all__, which is composed from the
# modules' own lists (one list per name), so a linter cannot see them used.
# ruff: noqa: F401
from . import calibration, distributions, gates, layers, penalties, sparse
from .calibration import SparseCalibrationWeights
from .distributions import HardConcrete
from .gates import FeatureGate, HybridGate, L0Gate, SampleGate
from .layers import L0Conv2d, L0DepthwiseConv2d, L0Linear, SparseMLP, prune_model
from .penalties import (
    PenaltyTracker,
    TemperatureScheduler,
    compute_l0_penalty,
    compute_l0l2_penalty,
    compute_l2_penalty,
    get_active_parameter_count,
    get_sparsity_stats,
    update_temperatures,
)
from .sparse import SparseL0Linear

# l0-python's top-level names: those of its modules, in its order.
__all__ = [
    *distributions.__all__, *layers.__all__, *sparse.__all__, *calibration.__all__,
    *gates.__all__, *penalties.__all__,
]
