"""L0 penalties and sparsity statistics over any module tree.

These functions walk ``model.modules()`` and find every
:class:`~skl0.nn.HardConcreteGate`, whether it sits inside an ``L0Linear`` /
``L0Conv2d`` or stands alone (``FeatureGate``, ``SampleGate``), so a model can
mix gated layers freely. Penalties are differentiable tensors to add to the
loss; the report reads the deterministic gates only.
"""

from __future__ import annotations

import pandas as pd
import torch

from .._checks import check_number
from .._numpydoc import Entry, document
from ._docs import NN
from .gates import FeatureGate, HardConcreteGate, SampleGate, hard_concrete_gates
from .layers import _L0LayerMixin

__all__ = ["l0_penalty", "l0l2_penalty", "sparsity_report"]


def _zero_like_params(model):
    for p in model.parameters():
        return p.new_zeros(())
    return torch.zeros(())


@document(NN)
def l0_penalty(model):
    """Expected number of open gates in ``model`` (Louizos et al. eq. 12).

    The sum of ``P(gate != 0)`` over every Hard Concrete gate in the module
    tree, of every kind. Add ``lam * l0_penalty(model)`` to the loss.

    %(parameters)s

    Returns
    -------
    torch.Tensor
        A differentiable scalar; zero when the model has no gates.

    See Also
    --------
    l0l2_penalty : Adds the expected L2 norm of the gated weights.

    Examples
    --------
    >>> from torch import nn
    >>> from skl0.nn import FeatureGate, L0Linear, l0_penalty
    >>> model = nn.Sequential(FeatureGate(4, init_prob=0.5),
    ...                       L0Linear(4, 2, gate="output", init_sparsity=0.5))
    >>> round(l0_penalty(model).item(), 4)  # 0.5 * 4 + 0.5 * 2
    3.0
    """
    total = _zero_like_params(model)
    for gate in hard_concrete_gates(model):
        total = total + gate.expected_l0()
    return total


def _check_strength(name, value):
    return check_number(name, value, lambda v: v >= 0, "a finite float >= 0")


@document(
    NN,
    l0=Entry("l0", "float", "Cost of one open gate (the paper's ``lambda``), >= 0."),
    l2=Entry("l2", "float", "Weight decay strength (the paper's ``lambda_2``), >= 0."),
)
def l0l2_penalty(model, l0=1.0, l2=1.0):
    """Expected L0 count plus expected L2 norm of the gated weights.

    Following Louizos et al. (2017), eq. 14-15, each gated parameter
    ``theta_j`` adds ``l2 / 2 * theta_j**2 * P(z_j != 0)``: its square counts
    only with the probability that its gate is open, so closing a gate also
    removes its weight decay. The L0 term charges each gate ``l0 * P(z != 0)``
    once, however many weights it covers (an input, output or channel gate
    of a layer); with one gate per weight the two readings agree (the
    paper's group-sparsity experiments charge a group by its size instead).
    In total::

        l0 * sum_gates P(z != 0) + l2 / 2 * sum_params P(z_j != 0) * theta_j**2

    The L0 term counts every gate (bare ``FeatureGate``/``SampleGate``
    included); the L2 term covers the weights of ``L0Linear``/``L0Conv2d``
    (and their bias under ``gate="output"``). Ungated parameters are left to
    the optimizer's ``weight_decay``.

    %(parameters)s

    Returns
    -------
    torch.Tensor
        A differentiable scalar.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import L0Linear, l0l2_penalty
    >>> layer = L0Linear(2, 1, bias=False, init_sparsity=0.5)
    >>> with torch.no_grad():
    ...     _ = layer.weight.fill_(2.0)
    >>> l0l2_penalty(layer, l0=1.0, l2=1.0).item()  # (4 / 2 + 1) * 0.5 * 2
    3.0
    """
    l0 = _check_strength("l0", l0)
    l2 = _check_strength("l2", l2)
    total = l0 * l0_penalty(model)
    if l2 > 0:
        for module in model.modules():
            if isinstance(module, _L0LayerMixin):
                total = total + 0.5 * l2 * module.expected_l2()
    return total


_BARE_GATE_KIND = {FeatureGate: "features", SampleGate: "records"}


def _gate_row(name, module, gate):
    with torch.no_grad():
        n_gates = gate.log_alpha.numel()
        open_gates = int(gate.mask().sum())
        expected = float(gate.expected_l0())
    if isinstance(module, _L0LayerMixin):
        with torch.no_grad():
            n_params, kept = module.parameter_counts()
        mode = module.gate
    else:  # a bare gate: it gates features or records, not parameters
        n_params, kept = n_gates, open_gates
        # (subclasses too: a HybridGate is a SampleGate of records)
        mode = next((kind for cls, kind in _BARE_GATE_KIND.items()
                     if isinstance(module, cls)), "custom")
    return {
        "layer": name or "(root)",
        "type": type(module).__name__,
        "gate": mode,
        "n_gates": n_gates,
        "open_gates": open_gates,
        "expected_l0": expected,
        "n_params": n_params,
        "kept_params": kept,
        "frac_kept": kept / n_params,
    }


@document(
    NN,
    as_frame=Entry("as_frame", "bool", """\
Return a :class:`pandas.DataFrame`; ``False`` gives a list of dicts."""),
)
def sparsity_report(model, as_frame=True):
    """Per-layer gate statistics from the deterministic gates.

    One row per ``L0Linear`` / ``L0Conv2d`` and per gate that is not part of
    such a layer (``FeatureGate``, ``SampleGate``). Counts use the
    deterministic gates (eq. 13), so they do not depend on ``train()`` /
    ``eval()`` mode or on noise.

    %(parameters)s

    Returns
    -------
    pandas.DataFrame or list of dict
        Columns: ``layer`` (qualified name), ``type``, ``gate`` (what one
        gate switches off: ``"weight"``, ``"input"`` or ``"output"`` for a
        layer, ``"features"`` / ``"records"`` for a ``FeatureGate`` /
        ``SampleGate``, ``"custom"`` for another bare gate), ``n_gates``,
        ``open_gates``,
        ``expected_l0`` (sum of ``P(gate != 0)``), ``n_params`` (weights and
        bias; for a bare gate, the features or records it gates),
        ``kept_params`` (those whose gate is open) and ``frac_kept``.

    Examples
    --------
    >>> from torch import nn
    >>> from skl0.nn import L0Linear, sparsity_report
    >>> model = nn.Sequential(L0Linear(4, 3, gate="input"), nn.ReLU(),
    ...                       L0Linear(3, 2))
    >>> report = sparsity_report(model)
    >>> print(report[["layer", "gate", "n_gates", "n_params"]].to_string(index=False))
    layer   gate  n_gates  n_params
        0  input        4        15
        2 weight        6         8
    """
    modules = list(model.named_modules())
    owned = {id(m.l0_gate) for _, m in modules if isinstance(m, _L0LayerMixin)}
    rows = []
    for name, module in modules:  # tree order
        if isinstance(module, _L0LayerMixin):
            rows.append(_gate_row(name, module, module.l0_gate))
        elif isinstance(module, HardConcreteGate) and id(module) not in owned:
            rows.append(_gate_row(name, module, module))
    if as_frame:
        columns = [
            "layer",
            "type",
            "gate",
            "n_gates",
            "open_gates",
            "expected_l0",
            "n_params",
            "kept_params",
            "frac_kept",
        ]
        return pd.DataFrame(rows, columns=columns)
    return rows
