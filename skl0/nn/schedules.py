"""Temperature schedules for Hard Concrete gates, and a helper to apply them.

A schedule is a callable ``step -> temperature`` (exponential, linear or
cosine). Call ``set_temperature(model, schedule(step))`` once per optimizer
step to anneal every gate in the model; lower temperatures give gates closer
to 0/1.
"""

from __future__ import annotations

import math

from .._checks import check_int
from .._numpydoc import document
from ._docs import NN
from .gates import hard_concrete_gates
from .hard_concrete import GAMMA, ZETA, check_hard_concrete_params

__all__ = [
    "TemperatureSchedule",
    "ExponentialTemperature",
    "LinearTemperature",
    "CosineTemperature",
    "set_temperature",
]


def _check_temperature(name, value):
    try:
        return check_hard_concrete_params(value, GAMMA, ZETA)[0]
    except ValueError as exc:
        raise ValueError(
            f"{name}={value!r} is not a valid temperature: {exc}"
        ) from None


@document(NN)
class TemperatureSchedule:
    """Base class: a temperature moving from ``start`` to ``end`` in ``n_steps``.

    Subclasses define ``_interpolate(fraction)`` for ``fraction`` in [0, 1].
    Steps past ``n_steps`` keep the ``end`` temperature.

    %(parameters)s

    Examples
    --------
    A schedule of your own, as a subclass (here: a step down at half way):

    >>> from skl0.nn import TemperatureSchedule
    >>> class StepTemperature(TemperatureSchedule):
    ...     def _interpolate(self, fraction):
    ...         return self.start if fraction < 0.5 else self.end
    >>> schedule = StepTemperature(1.0, 0.5, n_steps=10)
    >>> schedule(0), schedule(4), schedule(5), schedule(99)
    (1.0, 1.0, 0.5, 0.5)
    """

    def __init__(self, start, end, n_steps):
        self.start = _check_temperature("start", start)
        self.end = _check_temperature("end", end)
        self.n_steps = check_int("n_steps", n_steps, 1, "the number of annealing steps")

    def __call__(self, step):
        step = check_int("step", step, 0, "the step number")
        return self._interpolate(min(step, self.n_steps) / self.n_steps)

    def _interpolate(self, fraction):
        raise NotImplementedError

    def __repr__(self):
        return (
            f"{type(self).__name__}(start={self.start:g}, end={self.end:g}, "
            f"n_steps={self.n_steps})"
        )


@document(NN)
class ExponentialTemperature(TemperatureSchedule):
    """Geometric annealing: ``start * (end / start) ** (step / n_steps)``.

    %(parameters)s

    See Also
    --------
    LinearTemperature : Straight-line annealing.
    set_temperature : Apply a temperature to every gate of a model.

    Examples
    --------
    >>> from skl0.nn import ExponentialTemperature
    >>> schedule = ExponentialTemperature(1.0, 0.25, n_steps=2)
    >>> [schedule(step) for step in range(4)]
    [1.0, 0.5, 0.25, 0.25]
    """

    def _interpolate(self, fraction):
        if fraction >= 1:
            return self.end
        return self.start * (self.end / self.start) ** fraction


@document(NN)
class LinearTemperature(TemperatureSchedule):
    """Straight-line annealing from ``start`` to ``end`` over ``n_steps``.

    %(parameters)s

    Examples
    --------
    >>> from skl0.nn import LinearTemperature
    >>> schedule = LinearTemperature(1.0, 0.5, n_steps=2)
    >>> [schedule(step) for step in range(3)]
    [1.0, 0.75, 0.5]
    """

    def _interpolate(self, fraction):
        if fraction >= 1:
            return self.end  # exactly, not start + (end - start)
        return self.start + fraction * (self.end - self.start)


@document(NN)
class CosineTemperature(TemperatureSchedule):
    """Half-cosine annealing: ``end + (start - end) * (1 + cos(pi * step / n_steps)) / 2``.

    Flat at both ends and steepest half way, so the gates keep a high
    temperature (smooth gradients) longer than with the exponential
    schedule and settle slowly at the end.

    %(parameters)s

    See Also
    --------
    ExponentialTemperature : Geometric annealing.
    LinearTemperature : Straight-line annealing.

    Examples
    --------
    >>> from skl0.nn import CosineTemperature
    >>> schedule = CosineTemperature(1.0, 0.5, n_steps=10)
    >>> schedule(0), schedule(5), schedule(10), schedule(99)
    (1.0, 0.75, 0.5, 0.5)
    """

    def _interpolate(self, fraction):
        if fraction >= 1:
            return self.end
        return self.end + (self.start - self.end) * (1 + math.cos(math.pi * fraction)) / 2


@document(NN)
def set_temperature(model, temperature):
    """Set the temperature of every Hard Concrete gate in ``model``.

    Covers the gates of ``L0Linear`` / ``L0Conv2d`` and bare gates alike. The
    value is checked for each gate (``check_hard_concrete_params``) before
    any gate changes. Masks and deterministic gates do not depend on the
    temperature; sampling and ``P(gate != 0)`` do.

    Parameters
    ----------
    model : torch.nn.Module
    temperature : float
        New temperature ``beta`` (> 0), e.g. ``schedule(step)``.

    %(n_gates_updated)s

    Examples
    --------
    >>> from torch import nn
    >>> from skl0.nn import ExponentialTemperature, L0Linear, set_temperature
    >>> model = nn.Sequential(L0Linear(3, 4), nn.ReLU(), L0Linear(4, 1))
    >>> schedule = ExponentialTemperature(1.0, 0.5, n_steps=100)
    >>> set_temperature(model, schedule(100))
    2
    >>> model[0].l0_gate.temperature
    0.5
    """
    gates = hard_concrete_gates(model)
    for gate in gates:
        check_hard_concrete_params(temperature, gate.gamma, gate.zeta)
    for gate in gates:
        gate.set_temperature(temperature)
    return len(gates)
