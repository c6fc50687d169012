"""l0-python's penalty functions, temperature scheduler and tracker.

The sums walk ``model.modules()`` as l0-python does (any module with a
``get_l0_penalty`` method counts); ``TemperatureScheduler`` is a front for
the skl0.nn schedules, ``update_temperatures`` for
:func:`skl0.nn.set_temperature` and ``PenaltyTracker`` for
:class:`skl0.nn.PenaltyTracker`.
"""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_number
from .._numpydoc import Entry, document
from ..nn import schedules as _schedules
from ..nn._docs import NN
from ..nn.gates import hard_concrete_gates
from ..nn.penalties import _zero_like_params
from ..nn.tracking import PenaltyTracker as _PenaltyTracker

__all__ = [
    "compute_l0_penalty",
    "compute_l2_penalty",
    "compute_l0l2_penalty",
    "get_sparsity_stats",
    "get_active_parameter_count",
    "TemperatureScheduler",
    "update_temperatures",
    "PenaltyTracker",
]


_L0_LAMBDA = Entry(
    "l0_lambda", "float", "Weight of :func:`compute_l0_penalty`.", default=1e-3, shown="1e-3"
)
_L2_LAMBDA = Entry(
    "l2_lambda", "float", "Weight of :func:`compute_l2_penalty`.", default=1e-4, shown="1e-4"
)


@document(NN)
def compute_l0_penalty(model):
    """Sum of ``get_l0_penalty()`` over the modules that have it.

    %(parameters)s

    Returns
    -------
    torch.Tensor
        The expected number of open gates of the gated layers.

    Examples
    --------
    >>> from skl0.l0 import L0Linear, compute_l0_penalty
    >>> layer = L0Linear(2, 2, init_sparsity=0.5)
    >>> round(compute_l0_penalty(layer).item(), 4)  # 4 * sigmoid(0.5 * log(11))
    3.0734
    """
    total = _zero_like_params(model)
    for module in model.modules():
        if hasattr(module, "get_l0_penalty"):
            total = total + module.get_l0_penalty()
    return total


@document(NN)
def compute_l2_penalty(model):
    """Sum of squares of every trainable parameter named ``*weight*``.

    Gate logits are left out: l0-python also sums its ``weight_gates``
    logits (their name contains "weight"), skl0.l0 does not.

    %(parameters)s

    Returns
    -------
    torch.Tensor
        The sum, differentiable; 0 when no parameter qualifies.

    Examples
    --------
    >>> from skl0.l0 import L0Linear, compute_l2_penalty
    >>> layer = L0Linear(2, 2)
    >>> bool(compute_l2_penalty(layer) == (layer.weight.detach() ** 2).sum())
    True
    """
    gate_params = {id(p) for g in hard_concrete_gates(model) for p in g.parameters()}
    total = _zero_like_params(model)
    for name, param in model.named_parameters():
        if "weight" in name and param.requires_grad and id(param) not in gate_params:
            total = total + (param**2).sum()
    return total


@document(NN, l0_lambda=_L0_LAMBDA, l2_lambda=_L2_LAMBDA)
def compute_l0l2_penalty(model, l0_lambda=1e-3, l2_lambda=1e-4):
    """``l0_lambda * compute_l0_penalty + l2_lambda * compute_l2_penalty``.

    %(parameters)s

    Returns
    -------
    torch.Tensor
        The weighted sum of the two penalties, differentiable.

    Examples
    --------
    >>> from skl0.l0 import L0Linear, compute_l0_penalty, compute_l0l2_penalty
    >>> layer = L0Linear(2, 2, init_sparsity=0.5)
    >>> bool(compute_l0l2_penalty(layer, 1.0, 0.0) == compute_l0_penalty(layer))
    True
    """
    # A negative weight rewarded open gates (or large weights), a NaN one made
    # the loss NaN; a tensor (a scheduled weight) is the caller's to keep sane.
    for name, value in (("l0_lambda", l0_lambda), ("l2_lambda", l2_lambda)):
        if not isinstance(value, torch.Tensor):
            check_number(name, value, lambda v: v >= 0, "a finite weight >= 0")
    return l0_lambda * compute_l0_penalty(model) + l2_lambda * compute_l2_penalty(model)


@document(NN)
def get_sparsity_stats(model):
    """Per-layer ``sparsity``, ``active_params`` and ``total_params``.

    One entry per module with both ``get_sparsity`` and ``get_l0_penalty``.

    %(parameters)s

    Returns
    -------
    dict of str to dict

    Examples
    --------
    >>> from skl0.l0 import L0Linear, get_sparsity_stats
    >>> stats = get_sparsity_stats(L0Linear(2, 2, init_sparsity=0.5))
    >>> stats[""]["total_params"], round(stats[""]["active_params"], 4)
    (4, 3.0734)
    """
    stats = {}
    for name, module in model.named_modules():
        if hasattr(module, "get_sparsity") and hasattr(module, "get_l0_penalty"):
            active = module.get_l0_penalty().item()
            sparsity = module.get_sparsity()
            if hasattr(module, "weight"):
                total = module.weight.numel()
            elif hasattr(module, "gates") and hasattr(module.gates, "gate_size"):
                total = int(np.prod(module.gates.gate_size))
            else:
                total = active / (1 - sparsity)
            stats[name] = {
                "sparsity": sparsity,
                "active_params": active,
                "total_params": total,
            }
    return stats


def get_active_parameter_count(model):
    """Sum over the layers of ``int(get_l0_penalty())`` (each truncated).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    int

    Examples
    --------
    >>> from skl0.l0 import L0Linear, get_active_parameter_count
    >>> get_active_parameter_count(L0Linear(2, 2, init_sparsity=0.5))  # int(3.07)
    3
    """
    return sum(
        int(m.get_l0_penalty().item())
        for m in model.modules()
        if hasattr(m, "get_l0_penalty")
    )


_SCHEDULES = {
    "linear": _schedules.LinearTemperature,
    "exponential": _schedules.ExponentialTemperature,
    "cosine": _schedules.CosineTemperature,
}


class TemperatureScheduler:
    """Temperature by epoch, from ``initial_temp`` to ``final_temp``.

    Parameters
    ----------
    initial_temp : float, default=2.0
    final_temp : float, default=0.1
    anneal_epochs : int, default=100
    schedule : {"exponential", "linear", "cosine"}, default="exponential"

    Examples
    --------
    >>> from skl0.l0 import TemperatureScheduler
    >>> s = TemperatureScheduler(1.0, 0.25, anneal_epochs=2)
    >>> [s.get_temperature(e) for e in range(4)]
    [1.0, 0.5, 0.25, 0.25]
    """

    def __init__(
        self,
        initial_temp=2.0,
        final_temp=0.1,
        anneal_epochs=100,
        schedule="exponential",
    ):
        if schedule not in _SCHEDULES:
            raise ValueError(
                f"Unknown schedule type: {schedule!r}; pass 'linear', "
                "'exponential' or 'cosine'."
            )
        positive = (lambda v: v > 0, "a temperature > 0, e.g. 0.1")
        check_number("initial_temp", initial_temp, *positive)
        check_number("final_temp", final_temp, *positive)
        check_number("anneal_epochs", anneal_epochs, lambda v: v >= 0,
                     "a number of epochs >= 0 (0: final_temp from the start)")
        self.initial_temp = initial_temp
        self.final_temp = final_temp
        self.anneal_epochs = anneal_epochs
        self.schedule = schedule
        # skl0.nn's schedule for its curve, read at progress = epoch / anneal_epochs
        # (its own steps are whole numbers; l0-python's epochs may be fractions).
        self._schedule = _SCHEDULES[schedule](initial_temp, final_temp, 1)

    def get_temperature(self, epoch):
        """The temperature at ``epoch`` (a number >= 0; fractions anneal within an epoch), a float.

        The skl0.nn schedule's curve (the same formulas as l0-python's) at
        ``progress = epoch / anneal_epochs``; ``final_temp`` from
        ``anneal_epochs`` on.
        """
        epoch = check_number("epoch", epoch, lambda v: v >= 0, "an epoch number >= 0")
        if epoch >= self.anneal_epochs:
            return self.final_temp
        return float(self._schedule._interpolate(epoch / self.anneal_epochs))


def update_temperatures(model, temperature):
    """Set the temperature of every Hard Concrete gate in ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    temperature : float
        New temperature (> 0).

    Examples
    --------
    >>> from skl0.l0 import L0Linear, update_temperatures
    >>> layer = L0Linear(2, 2)
    >>> update_temperatures(layer, 0.5)
    >>> layer.l0_gate.temperature
    0.5
    """
    _schedules.set_temperature(model, temperature)


class PenaltyTracker(_PenaltyTracker):
    """Named metric histories with l0-python's method names.

    A :class:`skl0.nn.PenaltyTracker` (which adds ``log_model``,
    ``to_frame`` and ``plot``).

    Examples
    --------
    >>> from skl0.l0 import PenaltyTracker
    >>> tracker = PenaltyTracker()
    >>> for v in (1.0, 3.0):
    ...     tracker.log("l0", v)
    >>> tracker.get_stats("l0")["mean"], tracker.get_history("l0")
    (2.0, [1.0, 3.0])
    """

    def get_history(self, name):
        """The values logged under ``name`` (a list)."""
        return self.history[name]

    def get_stats(self, name):
        """``mean``, ``std``, ``min``, ``max``, ``last`` of ``name`` ({} if none)."""
        return self.stats(name)

    def save_to_csv(self, filepath):
        """Write the history to a CSV file, one column per name."""
        self.to_frame().to_csv(filepath, index=False)

    def plot_history(self, metrics=None, save_path=None):
        """Plot the histories, one panel per metric ("Step" against "Value").

        ``metrics`` None or empty plots every name, as in l0-python; the
        figure is saved to ``save_path``, or shown when it is None.
        """
        from ..plot import _pyplot

        plt = _pyplot("PenaltyTracker.plot_history")
        axes = self.plot(metrics or None)
        for ax in axes:
            ax.set_xlabel("Step")
            ax.set_ylabel("Value")
        fig = axes[0].figure
        fig.tight_layout()
        if save_path:
            fig.savefig(save_path)
        else:
            plt.show()
