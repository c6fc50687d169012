"""Hybrid record selection: records chosen by L0 gates plus a random draw.

A pure L0 selection keeps the records that fit best, which can leave parts
of the population without any record; adding records drawn uniformly at
random from the rest keeps coverage and lowers the selection's bias.
:class:`HybridGate` is a :class:`~skl0.nn.SampleGate` that does both;
:func:`add_random` is the random half on its own.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from .gates import SampleGate
from .hard_concrete import BETA, GAMMA, ZETA

__all__ = ["HybridGate", "add_random"]


def add_random(chosen, n_items, n_random, generator=None):
    """Add up to ``n_random`` items drawn at random from those not ``chosen``.

    Parameters
    ----------
    chosen : torch.Tensor of int64
        Indices already selected (each once), in ``[0, n_items)``; any
        integer dtype. A boolean mask or floats are a ValueError (for a
        mask, pass ``mask.nonzero().squeeze(1)``).
    n_items : int
        Number of items to choose from.
    n_random : int
        Number of further items to draw without replacement; fewer when
        fewer are left.
    generator : torch.Generator or None, default=None
        Source of the draw (a CPU generator); ``None`` uses torch's default.

    Returns
    -------
    indices : torch.Tensor of int64
        The chosen and the drawn indices together, sorted.
    from_chosen : torch.Tensor of bool
        For each entry of ``indices``, whether it was in ``chosen``.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import add_random
    >>> idx, first = add_random(torch.tensor([4, 1]), 10, 3,
    ...                         generator=torch.Generator().manual_seed(0))
    >>> len(idx), int(first.sum()), {1, 4} <= set(idx.tolist())
    (5, 2, True)
    """
    n_items = check_int("n_items", n_items, 0, "the number of items to choose from")
    n_random = check_int("n_random", n_random, 0, "the number of items to draw at random")
    chosen = torch.as_tensor(chosen)
    dtype = chosen.dtype
    if chosen.numel() and (dtype == torch.bool or dtype.is_floating_point or dtype.is_complex):
        fix = ("for a boolean mask of the chosen items pass mask.nonzero().squeeze(1), the "
               "indices of its True entries" if dtype == torch.bool else
               "pass integer indices (e.g. chosen.long() when they are whole numbers)")
        raise ValueError(
            f"chosen has dtype {dtype}, but it must hold the integer indices of the chosen "
            f"items (it would be read as indices); {fix}."
        )
    chosen = chosen.to(torch.long).reshape(-1).cpu()
    if chosen.numel() and (chosen.min() < 0 or chosen.max() >= n_items):
        bad = chosen[(chosen < 0) | (chosen >= n_items)][0].item()
        raise ValueError(
            f"chosen holds the index {bad}, outside [0, n_items={n_items}); pass indices "
            f"of the {n_items} items, each in 0..{n_items - 1}."
        )
    free = torch.ones(n_items, dtype=torch.bool)
    free[chosen] = False
    if n_items - int(free.sum()) != chosen.numel():  # (a count, not a sort)
        raise ValueError(
            f"chosen holds repeated indices ({chosen.tolist()[:10]}); pass each chosen "
            "item once, e.g. torch.unique(chosen)."
        )
    available = torch.nonzero(free).squeeze(1)
    n_draw = min(int(n_random), available.numel())
    drawn = available[torch.randperm(available.numel(), generator=generator)[:n_draw]]
    indices, order = torch.sort(torch.cat([chosen, drawn]))
    from_chosen = order < chosen.numel()
    return indices, from_chosen


class HybridGate(SampleGate):
    """Keep the records whose gate is open, plus ``n_random`` drawn at random.

    The gates train like those of :class:`~skl0.nn.SampleGate` (add
    :meth:`expected_l0` to the loss); :meth:`select` then returns the
    records whose deterministic gate (eq. 13) is open together with
    ``n_random`` others drawn uniformly from the rest.

    Parameters
    ----------
    n_samples : int
        Number of records.
    n_random : int
        Records drawn at random on top of the gated ones (>= 0).
    init_prob : float, default=0.9
        Initial probability that each record's gate is open.
    temperature, gamma, zeta : float
        Hard Concrete parameters, see :class:`~skl0.nn.HardConcreteGate`.
    device, dtype : optional
        Where the gate's parameters are made (torch's defaults when None).

    See Also
    --------
    add_random : The random half of the selection.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import HybridGate
    >>> gate = HybridGate(100, n_random=10, init_prob=0.05)
    >>> with torch.no_grad():
    ...     _ = gate.log_alpha[:5].fill_(5.0)  # open five gates
    >>> idx, from_gate = gate.select(torch.Generator().manual_seed(0))
    >>> len(idx), int(from_gate.sum())
    (15, 5)
    """

    def __init__(
        self,
        n_samples,
        n_random,
        init_prob=0.9,
        temperature=BETA,
        gamma=GAMMA,
        zeta=ZETA,
        *,
        device=None,
        dtype=None,
    ):
        n_random = check_int("n_random", n_random, 0, "the number of records to draw at random")
        super().__init__(n_samples, init_prob, temperature, gamma, zeta,
                         device=device, dtype=dtype)
        self.n_random = n_random

    def select(self, generator=None):
        """Indices of the selected records and whether each came from a gate.

        Parameters
        ----------
        generator : torch.Generator or None, default=None
            Source of the random draw; ``None`` uses torch's default.

        Returns
        -------
        indices : torch.Tensor of int64
            Sorted indices of the kept records.
        from_gate : torch.Tensor of bool
            True where the record's gate is open, False where it was drawn.
        """
        chosen = torch.nonzero(self.mask()).squeeze(1)
        return add_random(chosen, self.log_alpha.shape[0], self.n_random, generator)

    def extra_repr(self):
        return super().extra_repr() + f", n_random={self.n_random}"
