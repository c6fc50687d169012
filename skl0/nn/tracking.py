"""Training curves of penalties and gate counts: :class:`PenaltyTracker`."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import torch

from .gates import hard_concrete_gates
from .penalties import l0_penalty

__all__ = ["PenaltyTracker"]


class PenaltyTracker:
    """Record scalar metrics (penalties, open gates, losses) during training.

    Call :meth:`log` with any named value, or :meth:`log_model` once per
    step to record the model's expected L0 count (``l0_penalty``), its
    number of open gates (deterministic gates) and the gates' temperature.

    Attributes
    ----------
    history : dict of str to list of float
        Values logged so far, by name, in order.

    Examples
    --------
    >>> from skl0.nn import L0Linear, PenaltyTracker
    >>> tracker = PenaltyTracker()
    >>> layer = L0Linear(3, 2, init_sparsity=0.5)
    >>> tracker.log_model(layer)
    >>> tracker.log("loss", 1.5)
    >>> round(tracker.history["l0_penalty"][-1], 4), tracker.history["open_gates"][-1]
    (3.0, 6.0)
    >>> tracker.stats("loss")["last"]
    1.5
    """

    def __init__(self):
        self.history = defaultdict(list)

    def log(self, name, value):
        """Append ``value`` (a number or a one-element tensor) to ``name``."""
        if isinstance(value, torch.Tensor):
            value = value.detach().item()
        self.history[name].append(value)

    def log_model(self, model):
        """Log ``l0_penalty``, ``open_gates`` and ``temperature`` of ``model``.

        ``temperature`` is the mean over the model's gates; nothing is
        logged under it when the model has no gate.
        """
        gates = hard_concrete_gates(model)
        with torch.no_grad():
            self.log("l0_penalty", float(l0_penalty(model)))
            self.log("open_gates", float(sum(int(g.mask().sum()) for g in gates)))
        if gates:
            self.log("temperature", float(np.mean([g.temperature for g in gates])))

    def stats(self, name):
        """``mean``, ``std``, ``min``, ``max`` and ``last`` of ``name``'s values.

        Returns an empty dict when nothing was logged under ``name``.
        """
        values = self.history.get(name, [])
        if not values:
            return {}
        arr = np.asarray(values, dtype=np.float64)
        return {
            "mean": float(arr.mean()),
            "std": float(arr.std()),
            "min": float(arr.min()),
            "max": float(arr.max()),
            "last": values[-1],
        }

    def to_frame(self):
        """The history as a :class:`pandas.DataFrame`, one column per name.

        Shorter columns are padded with NaN at the end.
        """
        return pd.DataFrame(
            {k: pd.Series(v, dtype=float) for k, v in self.history.items()}
        )

    def plot(self, names=None, axes=None):
        """Plot each named history against the step (matplotlib).

        Parameters
        ----------
        names : list of str or None, default=None
            What to plot; ``None`` plots every name.
        axes : sequence of matplotlib Axes or None, default=None
            One per name; ``None`` makes a new figure with one row per name.

        Returns
        -------
        list of matplotlib Axes

        Raises
        ------
        ValueError
            When there is nothing to plot (no name logged, or ``names`` empty).
        """
        from ..plot import _pyplot

        plt = _pyplot("PenaltyTracker.plot")
        names = list(self.history) if names is None else list(names)
        if not names:
            raise ValueError(
                "nothing to plot: no values were logged (or names is empty); call "
                "log(name, value) or log_model(model) first, or pass the names to plot."
            )
        if axes is None:
            _, axes = plt.subplots(
                len(names), 1, figsize=(8, 2.5 * max(len(names), 1)), squeeze=False
            )
            axes = axes[:, 0]
        for ax, name in zip(axes, names):
            ax.plot(self.history[name])
            ax.set_title(name)
            ax.set_xlabel("step")
            ax.grid(True)
        return list(axes)

    def clear(self):
        """Forget every logged value."""
        self.history.clear()
