"""l0-python's standalone gates: ``L0Gate``, ``SampleGate``, ``FeatureGate``,
``HybridGate``.

Each holds a :class:`skl0.l0.HardConcrete` (a skl0.nn gate) as ``gates``;
the random half of ``HybridGate`` is :func:`skl0.nn.add_random`.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import torch
from torch import nn

from .._checks import check_int, check_int_type
from ..nn.hybrid import add_random
from .distributions import HardConcrete

__all__ = ["L0Gate", "SampleGate", "FeatureGate", "HybridGate"]


def _check_count(name, value, minimum, what):
    """``value`` as an int >= ``minimum``: a TypeError if it is not an integer
    (a bool included), else ``check_int``'s ValueError if it is too small."""
    check_int_type(name, value)
    return check_int(name, value, minimum, what)


class L0Gate(nn.Module):
    """One gate per item (sample, feature, ...), as in l0-python.

    Parameters
    ----------
    size : int
        Number of items.
    temperature : float, default=0.5
        Hard Concrete temperature.
    init_mean : float, default=0.5
        Initial logit is ``logit(init_mean)``.

    Attributes
    ----------
    gates : HardConcrete
        The gates.

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import L0Gate
    >>> gate = L0Gate(3, init_mean=0.9).eval()
    >>> gate.apply_gates(torch.ones(3, 2), dim=0).shape
    torch.Size([3, 2])
    >>> gate.get_active_indices().tolist()
    [0, 1, 2]
    """

    def __init__(self, size, temperature=0.5, init_mean=0.5):
        super().__init__()
        _check_count("size", size, 1, "the number of gates")
        self.size = size
        self.temperature = temperature
        self.init_mean = init_mean
        self.gates = HardConcrete(size, temperature=temperature, init_mean=init_mean)

    def get_gates(self):
        """Gate values: sampled in training mode, median gates in eval mode."""
        return self.gates()

    def apply_gates(self, x, dim=0):
        """Multiply ``x`` by the gates along dimension ``dim``."""
        shape = [1] * x.dim()
        shape[dim] = -1
        return x * self.get_gates().view(shape)

    def get_penalty(self):
        """Expected number of open gates."""
        return self.gates.get_penalty()

    def get_active_indices(self, threshold=0.5):
        """Indices of the items whose gate value exceeds ``threshold``.

        In training mode the gate values are a fresh sample.
        """
        return self._active_indices(threshold)

    def _active_indices(self, threshold=0.5, generator=None):
        with torch.no_grad():
            gates = self.gates.gates((), generator)
            return torch.where(gates > threshold)[0]


class SampleGate(L0Gate):
    """Gates for choosing records, starting at ``logit(target/n)``.

    Parameters
    ----------
    n_samples : int
        Number of records.
    target_samples : int
        Intended number of kept records, ``0 < target_samples < n_samples``;
        the initial mean is ``target_samples / n_samples``.
    temperature : float, default=0.25

    Examples
    --------
    In eval mode a gate keeps its record when its median value is above 0.5:

    >>> from skl0.l0 import SampleGate
    >>> gate = SampleGate(10, target_samples=9).eval()
    >>> gate.get_active_indices().tolist() == list(range(10))
    True
    """

    def __init__(self, n_samples, target_samples, temperature=0.25):
        _check_count("n_samples", n_samples, 1, "the number of records")
        check_int_type("target_samples", target_samples)
        if not 0 < target_samples < n_samples:
            raise ValueError(
                f"target_samples={target_samples!r} is invalid for n_samples={n_samples!r}; "
                "pass 0 < target_samples < n_samples (the gates start at their ratio)."
            )
        super().__init__(
            size=n_samples,
            temperature=temperature,
            init_mean=target_samples / n_samples,
        )
        self.n_samples = n_samples
        self.target_samples = target_samples

    def select_samples(self, data):
        """``(data[kept], kept)`` for the records with a gate above 0.5."""
        indices = self.get_active_indices()
        return data[indices], indices

    def select_weighted_samples(self, data, weights):
        """Records whose gated weight ``weights * gate`` exceeds 1e-8.

        Returns
        -------
        selected_data, selected_weights, indices : torch.Tensor
            The kept rows, their gated weights and their indices.
        """
        gated = weights * self.get_gates()
        indices = torch.where(gated > 1e-8)[0]
        return data[indices], gated[indices], indices


class FeatureGate(L0Gate):
    """Gates for choosing features, starting at ``logit(min(max/n, 0.99))``.

    Parameters
    ----------
    n_features : int
    max_features : int
        Intended number of kept features, in ``[1, n_features]``.
    temperature : float, default=0.1

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import FeatureGate
    >>> gate = FeatureGate(4, max_features=4).eval()
    >>> x, names = gate.select_features_with_names(torch.ones(2, 4), list("abcd"))
    >>> names
    ['a', 'b', 'c', 'd']
    """

    def __init__(self, n_features, max_features, temperature=0.1):
        _check_count("n_features", n_features, 1, "the number of features")
        _check_count("max_features", max_features, 1, "the intended number of kept features")
        if max_features > n_features:
            raise ValueError(
                f"max_features={max_features!r} is invalid for n_features={n_features!r}; "
                "pass at most n_features (the intended number of kept features)."
            )
        super().__init__(
            size=n_features,
            temperature=temperature,
            init_mean=min(max_features / n_features, 0.99),
        )
        self.n_features = n_features
        self.max_features = max_features

    def select_features(self, data):
        """``(data[..., kept], kept)`` for the features with a gate above 0.5."""
        indices = self.get_active_indices()
        return data[..., indices], indices

    def select_features_with_names(self, data, feature_names):
        """Like :meth:`select_features`, with the kept names instead of indices."""
        selected, indices = self.select_features(data)
        return selected, [feature_names[i] for i in indices.tolist()]

    def get_feature_importance(self):
        """``P(gate != 0)`` of each feature (no gradient)."""
        with torch.no_grad():
            return self.gates.get_active_prob()


class HybridGate(nn.Module):
    """Records chosen by L0 gates plus records drawn at random, as in l0-python.

    Parameters
    ----------
    n_items : int
    l0_fraction : float, default=0.25
        Share of ``target_items`` meant for the gates, in [0, 1]; the gates
        start at ``int(target_items * l0_fraction)`` records, which must be
        at least 1 and below ``n_items``.
    random_fraction : float, default=0.75
        Share of ``target_items`` drawn at random; the two shares add up to
        at most 1.
    target_items : int or None, default=None
        Total intended, at most ``n_items``; ``None`` (or 0) means
        ``int(0.2 * n_items)``.
    temperature : float, default=0.25

    Examples
    --------
    Of 40 records, a quarter (10) go to the gates and 30 are drawn at random:

    >>> import torch
    >>> from skl0.l0 import HybridGate
    >>> gate = HybridGate(100, target_items=40).eval()
    >>> data, idx, kind = gate.select(torch.arange(100.0), random_seed=0)
    >>> int((kind == "random").sum())
    30
    """

    def __init__(
        self,
        n_items,
        l0_fraction=0.25,
        random_fraction=0.75,
        target_items=None,
        temperature=0.25,
    ):
        super().__init__()
        _check_count("n_items", n_items, 1, "the number of records")
        for name, share in (("l0_fraction", l0_fraction), ("random_fraction", random_fraction)):
            if isinstance(share, bool) or not isinstance(share, Real) or not 0 <= share <= 1:
                raise ValueError(f"{name}={share!r} is invalid; pass a float in [0, 1].")
        if target_items is not None:
            _check_count("target_items", target_items, 0, "the number of records to keep")
            if target_items > n_items:
                raise ValueError(
                    f"target_items={target_items!r} is invalid for n_items={n_items!r}; "
                    "pass at most n_items, or None for int(0.2 * n_items)."
                )
        if l0_fraction + random_fraction > 1.0:
            raise ValueError(
                f"l0_fraction={l0_fraction!r} and random_fraction={random_fraction!r} "
                "add up to more than 1; pass shares that sum to at most 1."
            )
        self.n_items = n_items
        self.l0_fraction = l0_fraction
        self.random_fraction = random_fraction
        self.target_items = target_items or int(n_items * 0.2)
        self.n_l0 = int(self.target_items * l0_fraction)
        self.n_random = int(self.target_items * random_fraction)
        if not 0 < self.n_l0 < n_items:  # SampleGate's condition, in this class's terms
            raise ValueError(
                f"target_items={self.target_items!r} and l0_fraction={l0_fraction!r} give the "
                f"gates int(target_items * l0_fraction) = {self.n_l0} of n_items={n_items!r} "
                "records; pass them so that this is at least 1 and below n_items."
            )
        self.l0_gate = SampleGate(
            n_samples=n_items, target_samples=self.n_l0, temperature=temperature
        )

    def select(self, data, random_seed=None):
        """Gated records plus ``n_random`` drawn at random from the rest.

        Parameters
        ----------
        data : torch.Tensor of shape (n_items, ...)
        random_seed : int or None, default=None
            Seeds a local generator for the gate sample (training mode) and
            the random draw; torch's global random state is not touched.
            ``None`` uses torch's default generator.

        Returns
        -------
        selected_data : torch.Tensor
        indices : torch.Tensor of int64
            Sorted indices of the selected items.
        selection_type : ndarray of str
            ``"l0"`` or ``"random"`` for each selected item.
        """
        generator = None
        if random_seed is not None:
            generator = torch.Generator().manual_seed(int(random_seed))
        chosen = self.l0_gate._active_indices(0.5, generator)
        indices, from_gate = add_random(
            chosen.cpu(), self.n_items, self.n_random, generator
        )
        kind = np.where(from_gate.numpy(), "l0", "random").astype("<U6")
        indices = indices.to(data.device)
        return data[indices], indices, kind

    def get_penalty(self):
        """L0 penalty of the gated part."""
        return self.l0_gate.get_penalty()
