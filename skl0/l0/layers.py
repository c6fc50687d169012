"""l0-python's layers over the skl0.nn layers.

``L0Linear``, ``L0Conv2d`` and ``L0DepthwiseConv2d`` are the skl0.nn layers
of the same names with l0-python's signatures, defaults, initialisation and
gates (a :class:`skl0.l0.HardConcrete`), so their output is l0-python's and
skl0.nn's tools (``l0_penalty``, ``sparsity_report``, ``prune``) work on
them. ``SparseMLP`` and ``prune_model`` are l0-python's helpers.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_number
from ..nn import layers as _nn
from ..nn.gates import HardConcreteGate
from ..nn.penalties import l0_penalty
from ._compat import _RenamedState
from .distributions import HardConcrete

__all__ = ["L0Linear", "L0Conv2d", "L0DepthwiseConv2d", "SparseMLP", "prune_model"]


def _init_weight_bias(layer):
    nn.init.kaiming_normal_(layer.weight, mode="fan_out")
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def _set_gate(layer, gate, use_l2=False):
    layer.l0_gate = gate.to(device=layer.weight.device)
    layer.use_l2 = use_l2
    layer._install_state_renames()


class _L0Methods:
    """l0-python's per-layer methods."""

    def _gate_name(self):
        """l0-python's name of this layer's gate (``weight_gates`` or ``channel_gates``)."""
        return "weight_gates"

    def __setattr__(self, name, value):
        # l0-python code swaps a gate by assigning it (``layer.weight_gates =
        # HardConcrete(...)``). That name is a view of ``l0_gate`` here, and
        # torch would register the new gate as a second child the layer never
        # uses, so the assignment replaces ``l0_gate`` instead.
        if name in ("weight_gates", "channel_gates") and name == self._gate_name():
            if not isinstance(value, HardConcreteGate):
                raise TypeError(
                    f"{name} must be a skl0.l0.HardConcrete (a skl0.nn.HardConcreteGate), "
                    f"got {type(value).__name__}."
                )
            shape = tuple(self.l0_gate.log_alpha.shape)
            if tuple(value.log_alpha.shape) != shape:
                raise ValueError(
                    f"{name} has gate_size {tuple(value.log_alpha.shape)}, but this layer "
                    f"needs {shape}; pass HardConcrete(*{shape}, ...)."
                )
            name = "l0_gate"
        super().__setattr__(name, value)

    def forward(self, input):  # l0-python's name: layer(input=x) works
        """The gated layer's output (the argument is named ``input``, as in l0-python)."""
        return super().forward(input)

    def get_l0_penalty(self):
        """Expected number of open gates of this layer."""
        return self.l0_gate.get_penalty()

    def get_l2_penalty(self):
        """``sum(weight ** 2)`` when ``use_l2`` is True, else 0."""
        if not self.use_l2:
            return torch.tensor(0.0, device=self.weight.device)
        return (self.weight**2).sum()

    def get_sparsity(self):
        """``1 - mean P(gate != 0)`` over this layer's gates."""
        return self.l0_gate.get_sparsity()


class L0Linear(_L0Methods, _RenamedState, _nn.L0Linear):
    """A linear layer with one gate per weight, as in l0-python.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default=True
    temperature : float, default=0.5
    init_sparsity : float, default=0.5
        Gate logits start at ``logit(1 - init_sparsity)``.
    use_l2 : bool, default=False
        Whether :meth:`get_l2_penalty` returns ``sum(weight ** 2)``.

    Attributes
    ----------
    weight_gates : HardConcrete
        The ``(out_features, in_features)`` gates (``l0_gate`` of the
        skl0.nn layer).

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import L0Linear
    >>> layer = L0Linear(4, 2)
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 2])
    >>> sorted(layer.state_dict())
    ['bias', 'weight', 'weight_gates.qz_logits']
    """

    _state_renames = (("l0_gate.", "weight_gates."),)

    def __init__(
        self,
        in_features,
        out_features,
        bias=True,
        temperature=0.5,
        init_sparsity=0.5,
        use_l2=False,
    ):
        super().__init__(
            in_features,
            out_features,
            bias,
            init_sparsity=init_sparsity,
            temperature=temperature,
            gate="weight",
        )
        gate = HardConcrete(
            out_features,
            in_features,
            temperature=temperature,
            init_mean=1.0 - init_sparsity,
        )
        _set_gate(self, gate, use_l2)

    @property
    def weight_gates(self):
        return self.l0_gate

    def reset_parameters(self):
        """Kaiming-normal weights (``fan_out``) and zero bias, as l0-python; the gates keep their logits."""
        _init_weight_bias(self)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class L0Conv2d(_L0Methods, _RenamedState, _nn.L0Conv2d):
    """A 2-D convolution with per-weight or per-channel gates, as in l0-python.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of int
    stride, padding : int or tuple of int, default=1 and 0
    bias : bool, default=True
    temperature : float, default=0.5
    init_sparsity : float, default=0.5
    structured : bool, default=False
        One gate per output channel (``channel_gates``) instead of one per
        weight (``weight_gates``, shape ``(out, in * kH * kW)``). The bias
        is never gated.
    use_l2 : bool, default=False

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import L0Conv2d
    >>> conv = L0Conv2d(3, 4, 3)
    >>> tuple(conv.weight_gates.qz_logits.shape)
    (4, 27)
    >>> conv(torch.ones(1, 3, 5, 5)).shape
    torch.Size([1, 4, 3, 3])
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        bias=True,
        temperature=0.5,
        init_sparsity=0.5,
        structured=False,
        use_l2=False,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            bias=bias,
            init_sparsity=init_sparsity,
            temperature=temperature,
            gate="output" if structured else "weight",
        )
        self.structured = structured
        kh, kw = self.kernel_size
        if structured:
            gate = HardConcrete(
                out_channels, temperature=temperature, init_mean=1.0 - init_sparsity
            )
            self._state_renames = (("l0_gate.", "channel_gates."),)
        else:
            gate = HardConcrete(
                out_channels,
                in_channels * kh * kw,
                temperature=temperature,
                init_mean=1.0 - init_sparsity,
            )
            self._state_renames = (("l0_gate.", "weight_gates."),)
        _set_gate(self, gate, use_l2)

    @property
    def bias_gated(self):
        return False

    def _gate_name(self):
        return "channel_gates" if self.__dict__.get("structured") else "weight_gates"

    @property
    def weight_gates(self):
        if self.structured:
            raise AttributeError("a structured L0Conv2d has channel_gates")
        return self.l0_gate

    @property
    def channel_gates(self):
        if not self.structured:
            raise AttributeError("an unstructured L0Conv2d has weight_gates")
        return self.l0_gate

    def reset_parameters(self):
        """Kaiming-normal weights (``fan_out``) and zero bias, as l0-python; the gates keep their logits."""
        _init_weight_bias(self)


class L0DepthwiseConv2d(_L0Methods, _RenamedState, _nn.L0DepthwiseConv2d):
    """A depthwise convolution with one gate per input channel, as in l0-python.

    The gates scale the input channels, so a closed channel still outputs
    its bias (the bias is not gated). The filters are the layer's own
    ``weight`` and ``bias`` (l0-python keeps them in a ``depthwise_conv``
    child; state dicts use that name).

    Parameters
    ----------
    in_channels : int
    kernel_size : int or tuple of int
    stride, padding : int or tuple of int, default=1 and 0
    bias : bool, default=True
    temperature : float, default=0.5
    init_sparsity : float, default=0.5

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import L0DepthwiseConv2d
    >>> L0DepthwiseConv2d(8, 3)(torch.ones(2, 8, 6, 6)).shape
    torch.Size([2, 8, 4, 4])
    """

    _state_renames = (
        ("l0_gate.", "channel_gates."),
        ("weight", "depthwise_conv.weight"),
        ("bias", "depthwise_conv.bias"),
    )

    def __init__(
        self,
        in_channels,
        kernel_size,
        stride=1,
        padding=0,
        bias=True,
        temperature=0.5,
        init_sparsity=0.5,
    ):
        super().__init__(
            in_channels,
            kernel_size,
            stride,
            padding,
            bias=bias,
            init_sparsity=init_sparsity,
            temperature=temperature,
        )
        gate = HardConcrete(
            in_channels, temperature=temperature, init_mean=1.0 - init_sparsity
        )
        _set_gate(self, gate)

    @property
    def bias_gated(self):
        return False

    def _gate_name(self):
        return "channel_gates"

    @property
    def channel_gates(self):
        return self.l0_gate


class SparseMLP(nn.Module):
    """Three ``L0Linear`` layers with ReLU between them, as in l0-python.

    Parameters
    ----------
    input_dim : int, default=784
    hidden_dim : int, default=256
    output_dim : int, default=10
    init_sparsity : float, default=0.5
    temperature : float, default=0.5
    use_l2 : bool, default=False

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import SparseMLP
    >>> SparseMLP(12, 8, 3)(torch.ones(5, 3, 4)).shape  # inputs are flattened
    torch.Size([5, 3])
    """

    def __init__(
        self,
        input_dim=784,
        hidden_dim=256,
        output_dim=10,
        init_sparsity=0.5,
        temperature=0.5,
        use_l2=False,
    ):
        super().__init__()
        kw = {
            "init_sparsity": init_sparsity,
            "temperature": temperature,
            "use_l2": use_l2,
        }
        self.fc1 = L0Linear(input_dim, hidden_dim, **kw)
        self.fc2 = L0Linear(hidden_dim, hidden_dim, **kw)
        self.fc3 = L0Linear(hidden_dim, output_dim, **kw)
        self.use_l2 = use_l2

    def forward(self, x):
        x = x.reshape(x.size(0), -1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)

    def get_l0_loss(self):
        """Expected number of open gates over all layers."""
        return l0_penalty(self)

    def get_l2_loss(self):
        """Sum of the layers' ``get_l2_penalty`` (0 unless ``use_l2``)."""
        total = self.fc1.weight.new_zeros(())
        if self.use_l2:
            for layer in (self.fc1, self.fc2, self.fc3):
                total = total + layer.get_l2_penalty()
        return total

    def get_sparsity_stats(self):
        """``{layer name: {"sparsity", "active_params"}}`` for each layer."""
        return {
            name: {
                "sparsity": m.get_sparsity(),
                "active_params": m.get_l0_penalty().item(),
            }
            for name, m in self.named_modules()
            if isinstance(m, _L0Methods)
        }


def prune_model(model, threshold=0.05):
    """Zero, in place, the weights whose ``P(gate != 0) <= threshold``.

    Puts ``model`` in eval mode and returns it. Works on every gated layer
    of skl0.l0 and skl0.nn (l0-python's own function fails on
    ``L0DepthwiseConv2d``); a gated bias (skl0.nn output gates) is zeroed
    with its gate. For a smaller model with the same eval output, use
    :func:`skl0.nn.prune`.

    Parameters
    ----------
    model : torch.nn.Module
    threshold : float, default=0.05
        In ``[0, 1)``: a weight is kept where ``P(gate != 0) > threshold``.

    Returns
    -------
    torch.nn.Module
        ``model`` itself.

    Examples
    --------
    >>> import torch
    >>> from skl0.l0 import L0Linear, prune_model
    >>> layer = L0Linear(3, 2)
    >>> with torch.no_grad():
    ...     _ = layer.weight_gates.qz_logits[0].fill_(-10.0)
    >>> prune_model(layer).weight[0].abs().sum().item()
    0.0
    """
    # NaN compared False with every probability and zeroed the whole model;
    # 1 or more zeroed it too (no probability exceeds 1).
    check_number("threshold", threshold, lambda v: 0 <= v < 1,
                 "a probability in [0, 1), e.g. 0.05: weights whose P(gate != 0) is at "
                 "most threshold are zeroed")
    model.eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, _nn._L0LayerMixin):
                keep = (module.l0_gate.prob_open() > threshold).to(module.weight.dtype)
                module.weight.mul_(module._broadcast(keep))
                if module.bias is not None and module.bias_gated:
                    module.bias.mul_(keep)
            else:
                _prune_custom(module, threshold)
    return model


def _prune_custom(module, threshold):
    """A user's own layer built as l0-python's are: a ``weight`` beside a
    ``weight_gates`` gate of the same number of entries (masked entry by
    entry) or a ``channel_gates`` gate per output channel (the first axis of
    ``weight``), which l0-python's ``prune_model`` finds by these names."""
    weight = getattr(module, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return
    for name in ("weight_gates", "channel_gates"):
        gate = module._modules.get(name)
        if isinstance(gate, HardConcreteGate):
            keep = (gate.prob_open() > threshold).to(weight.dtype)
            if name == "weight_gates":
                keep = keep.reshape(weight.shape)
            else:
                keep = keep.reshape(-1, *([1] * (weight.ndim - 1)))
            weight.mul_(keep)
            return
