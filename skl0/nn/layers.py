"""Torch layers whose weights are switched on and off by Hard Concrete gates.

``L0Linear`` gates single weights, whole input columns or whole output rows;
``L0Conv2d`` gates whole output channels or single filter weights;
``L0DepthwiseConv2d`` is a depthwise convolution with one gate per channel. Each layer owns one
:class:`~skl0.nn.HardConcreteGate` child (``l0_gate``) and never computes a
Hard Concrete formula itself. In ``train()`` mode a forward pass samples the
gates (one draw shared by the batch); in ``eval()`` mode it uses the
deterministic gates of eq. 13, so the output is noise free.
"""

from __future__ import annotations

import math
from numbers import Real

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.modules.utils import _pair
from torch.nn.utils import skip_init

from .._checks import check_int
from .._numpydoc import Entry, document
from ._docs import GATE_ATTRIBUTES, NN
from .gates import HardConcreteGate, _module_device, _sum_dtype
from .hard_concrete import BETA, GAMMA, ZETA

__all__ = ["L0Linear", "L0Conv2d", "L0DepthwiseConv2d"]

# The gate modes of each layer, and what one gate switches off in each.
_LINEAR_GATES = {
    "weight": "one gate per weight", "input": "one per input feature",
    "output": "one per output unit",
}
_CONV_GATES = {"output": "one gate per output channel", "weight": "one gate per filter weight"}


def _check_gate_mode(gate, modes):
    if gate not in modes:
        choices = ", ".join(f"{mode!r} ({what})" for mode, what in modes.items())
        raise ValueError(f"gate={gate!r} is not supported; pass one of {choices}.")


def _check_init_sparsity(init_sparsity):
    if (
        isinstance(init_sparsity, bool)
        or not isinstance(init_sparsity, Real)
        or not math.isfinite(init_sparsity)
        or not 0 < init_sparsity < 1
    ):
        raise ValueError(
            f"init_sparsity={init_sparsity!r} is invalid; pass the initial "
            "expected fraction of closed gates, a float strictly between 0 and 1 "
            "(e.g. 0.1)."
        )
    return float(init_sparsity)


def _make_gate(
    shape, init_sparsity, temperature, gamma, zeta, generator, device, dtype
):
    init_sparsity = _check_init_sparsity(init_sparsity)
    gate = HardConcreteGate(shape, 1.0 - init_sparsity, temperature, gamma, zeta,
                            device=device, dtype=dtype)  # (it checks temperature, gamma, zeta)
    gate.generator = generator  # (the gate checks it)
    return gate


class _L0LayerMixin:
    """What L0Linear and L0Conv2d share: gate plumbing, folding, statistics.

    Subclasses define ``_broadcast(z)``, which shapes gate values to
    multiply ``weight``, ``_layer_forward(x, weight, bias)``, the torch layer's
    computation, and ``_plain_layer(**kw)``, the plain layer of the same shape.
    """

    @property
    def bias_gated(self):
        """Whether the bias is switched off with its gate (output gates)."""
        return self.gate == "output"

    @property
    def generator(self):
        """``torch.Generator`` for the gate noise (``None``: torch's default)."""
        return self.l0_gate.generator

    @generator.setter
    def generator(self, generator):
        self.l0_gate.generator = generator  # checked by the gate, as the constructor checks it

    def gated_parameters(self, z=None):
        """Weight and bias multiplied by gate values ``z``.

        Parameters
        ----------
        z : torch.Tensor or None, default=None
            Gate values shaped like ``l0_gate.log_alpha``; ``None`` draws them
            as ``forward`` does (sampled in train mode, deterministic in eval).

        Returns
        -------
        weight, bias : torch.Tensor, torch.Tensor or None
        """
        z = self.l0_gate.gates() if z is None else z
        weight = self.weight * self._broadcast(z)
        bias = self.bias
        if bias is not None and self.bias_gated:
            bias = bias * z
        return weight, bias

    def folded_parameters(self):
        """Weight and bias with the deterministic gates (eq. 13) multiplied in.

        A plain layer holding these computes exactly the eval-mode output.
        """
        with torch.no_grad():
            weight, bias = self.gated_parameters(self.l0_gate.deterministic())
        return weight.detach().clone(), None if bias is None else bias.detach().clone()

    def weight_mask(self):
        """Boolean mask, shaped like ``weight``, of weights with an open gate.

        Uses the deterministic gates only: independent of ``train()`` /
        ``eval()`` mode and of noise.
        """
        return self._broadcast(self.l0_gate.mask()).expand_as(self.weight)

    def expected_l2(self):
        """Expected squared L2 norm of the gated parameters (Louizos et al. eq. 14).

        Each gated parameter's square is weighted by ``P(gate != 0)`` (eq. 12):
        ``sum_j P(z_j != 0) * theta_j**2``. A bias is included only when its
        gate switches it off (``gate="output"``). Differentiable in both the
        weights and ``log_alpha``. Summed in float32 at least, as
        :meth:`HardConcreteGate.expected_l0` is.
        """
        prob = self.l0_gate.prob_open()
        dtype = _sum_dtype(prob.dtype)
        total = (self._broadcast(prob) * self.weight.pow(2)).sum(dtype=dtype)
        if self.bias is not None and self.bias_gated:
            total = total + (prob * self.bias.pow(2)).sum(dtype=dtype)
        return total

    def parameter_counts(self):
        """``(n_params, kept_params)``: weights and bias, and those left on.

        ``kept_params`` counts parameters whose deterministic gate is open
        (an ungated bias is always kept); ``log_alpha`` is not counted.
        """
        mask = self.l0_gate.mask()
        n_params = self.weight.numel()
        kept = int(self.weight_mask().sum())
        if self.bias is not None:
            n_params += self.bias.numel()
            kept += int(mask.sum()) if self.bias_gated else self.bias.numel()
        return n_params, kept

    def _attach_gate(self, l0_gate, gate, init_sparsity):
        self.gate = gate
        self.init_sparsity = float(init_sparsity)
        self.l0_gate = l0_gate

    def reset_parameters(self):
        """Re-draw the weights and set every gate back to ``1 - init_sparsity``."""
        super().reset_parameters()
        if "l0_gate" in self._modules:
            self.l0_gate.reset_parameters()

    def forward(self, x):
        weight, bias = self.gated_parameters()
        return self._layer_forward(x, weight, bias)

    def to_plain(self):
        """The plain torch layer (``Linear``, ``Conv2d``) computing this layer's eval output.

        Made without its random initialisation (``torch.nn.utils.skip_init``,
        the weights are copied in), so torch's global random state is left
        as it was.
        """
        plain = self._plain_layer(
            bias=self.bias is not None, device=self.weight.device, dtype=self.weight.dtype
        )
        weight, bias = self.folded_parameters()
        return copy_into(plain, weight, bias, self)

    def extra_repr(self):
        return super().extra_repr() + (
            f", gate={self.gate!r}, init_sparsity={self.init_sparsity:g}"
        )


def copy_into(new, weight, bias, old):
    """``new`` (a plain layer made by ``skip_init``) holding ``weight`` and ``bias``, as ``old`` is.

    Its mode (train or eval) and its parameters' ``requires_grad`` are
    ``old``'s (:func:`keep_frozen`). Shared by :meth:`to_plain` and
    :func:`skl0.nn.prune`'s sliced layers.
    """
    with torch.no_grad():
        new.weight.copy_(weight)
        if bias is not None:
            new.bias.copy_(bias)
    return keep_frozen(new, old).train(old.training)


def keep_frozen(new, old):
    """Give ``new``'s weight and bias the ``requires_grad`` of ``old``'s (a frozen layer stays frozen)."""
    for name in ("weight", "bias"):
        theirs, ours = getattr(old, name, None), getattr(new, name, None)
        if isinstance(theirs, torch.Tensor) and isinstance(ours, torch.Tensor):
            ours.requires_grad_(theirs.requires_grad)
    return new


@document(
    NN,
    gate_attributes=GATE_ATTRIBUTES,
    in_features=Entry("in_features", "int", "Size of each input sample."),
    out_features=Entry("out_features", "int", "Size of each output sample."),
    bias=Entry("bias", "bool", "Learn an additive bias."),
    gate=Entry("gate", '{"weight", "input", "output"}', """\
What one gate switches off: a single weight, an input column or an
output row (with its bias)."""),
)
class L0Linear(_L0LayerMixin, nn.Linear):
    """A linear layer with Hard Concrete gates on weights, inputs or outputs.

    ``y = x @ (W * z)^T + b`` where ``z`` holds one gate per weight
    (``gate="weight"``), per input feature, closing whole columns of ``W``
    (``gate="input"``), or per output unit, closing whole rows of ``W`` and
    their bias (``gate="output"``). Add ``skl0.nn.l0_penalty(model)`` to the
    loss to push gates shut; ``skl0.nn.prune`` then removes them.

    %(parameters)s

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (out_features, in_features)
        Weights before gating.
    bias : torch.nn.Parameter of shape (out_features,) or None
    l0_gate : HardConcreteGate
        The gates: shape ``(out_features, in_features)``, ``(in_features,)``
        or ``(out_features,)`` for the three modes.
    %(gate_attributes)s

    See Also
    --------
    L0Conv2d : Gates on output channels of a convolution.
    skl0.nn.prune : Remove closed gates, giving smaller plain layers.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import L0Linear
    >>> layer = L0Linear(4, 3, gate="input", init_sparsity=0.25)
    >>> round((1 - layer.l0_gate.prob_open().mean()).item(), 6)
    0.25
    >>> layer.eval()(torch.ones(2, 4)).shape
    torch.Size([2, 3])
    >>> tuple(layer.weight_mask().shape)
    (3, 4)
    """

    def __init__(
        self,
        in_features,
        out_features,
        bias=True,
        init_sparsity=0.1,
        temperature=BETA,
        gate="weight",
        gamma=GAMMA,
        zeta=ZETA,
        generator=None,
        device=None,
        dtype=None,
    ):
        _check_gate_mode(gate, _LINEAR_GATES)
        device = _module_device(device)  # "auto" as the gates take it, for both
        in_features = check_int("in_features", in_features, 1)
        out_features = check_int("out_features", out_features, 1)
        shape = {
            "weight": (out_features, in_features),
            "input": (in_features,),
            "output": (out_features,),
        }[gate]
        l0_gate = _make_gate(
            shape, init_sparsity, temperature, gamma, zeta, generator, device, dtype
        )
        super().__init__(in_features, out_features, bias, device=device, dtype=dtype)
        self._attach_gate(l0_gate, gate, init_sparsity)

    def _broadcast(self, z):
        if self.gate == "input":
            return z.unsqueeze(0)
        if self.gate == "output":
            return z.unsqueeze(1)
        return z

    def _layer_forward(self, x, weight, bias):
        return F.linear(x, weight, bias)

    def _plain_layer(self, **kw):
        return skip_init(nn.Linear, self.in_features, self.out_features, **kw)


_CONV = Entry("in_channels, out_channels", "int", """\
Channels in the input and produced by the convolution.""")
_AS_IN_CONV = "As in :class:`torch.nn.Conv2d`."


@document(
    NN,
    gate_attributes=GATE_ATTRIBUTES,
    channels=_CONV,
    conv=Entry("kernel_size, stride, padding, dilation, groups, bias, padding_mode", "", _AS_IN_CONV),
    gate=Entry("gate", '{"output", "weight"}', """\
What one gate switches off: an output channel (its filter and bias)
or a single filter weight."""),
)
class L0Conv2d(_L0LayerMixin, nn.Conv2d):
    """A 2-D convolution with Hard Concrete gates on output channels or weights.

    With ``gate="output"`` (the default) a closed gate switches off a whole
    filter and its bias (structured sparsity), so :func:`skl0.nn.prune` can
    drop the channel and shrink both this convolution and the layer reading
    its output (with ``groups=1``; a grouped convolution's closed channels
    are folded to zeros). With ``gate="weight"`` every filter weight has its own gate
    (unstructured sparsity; the bias is not gated): closed weights become
    exact zeros. A filter whose weights are all closed still outputs its
    bias, a constant; inside an ``nn.Sequential`` :func:`skl0.nn.prune`
    removes it when that constant, through the modules in between, is zero,
    or when it can be folded into the next layer's bias (the next layer is
    an ``nn.Linear`` or a convolution without padding, with no pooling
    between). Otherwise the filter stays: with zero padding the next
    convolution sees zeros at the borders, not the constant.

    %(parameters)s

    Attributes
    ----------
    weight : torch.nn.Parameter
        Filters before gating, ``(out_channels, in_channels / groups, kH, kW)``.
    bias : torch.nn.Parameter of shape (out_channels,) or None
    l0_gate : HardConcreteGate
        One gate per output channel (shape ``(out_channels,)``) or per
        weight (shaped like ``weight``).
    %(gate_attributes)s

    See Also
    --------
    L0Linear : Gates for fully connected layers.
    L0DepthwiseConv2d : A depthwise convolution with channel gates.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import L0Conv2d
    >>> conv = L0Conv2d(3, 8, kernel_size=3, padding=1, init_sparsity=0.5)
    >>> conv.eval()(torch.ones(1, 3, 5, 5)).shape
    torch.Size([1, 8, 5, 5])
    >>> tuple(conv.l0_gate.log_alpha.shape)
    (8,)
    >>> tuple(L0Conv2d(3, 8, kernel_size=3, gate="weight").l0_gate.log_alpha.shape)
    (8, 3, 3, 3)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        init_sparsity=0.1,
        temperature=BETA,
        gamma=GAMMA,
        zeta=ZETA,
        gate="output",
        generator=None,
        device=None,
        dtype=None,
    ):
        in_channels = check_int("in_channels", in_channels, 1)
        out_channels = check_int("out_channels", out_channels, 1)
        _check_gate_mode(gate, _CONV_GATES)
        device = _module_device(device)  # "auto" as the gates take it, for both
        if gate == "output":
            shape = (out_channels,)
        else:
            groups_ = check_int("groups", groups, 1)
            shape = (out_channels, max(in_channels // groups_, 1), *_pair(kernel_size))
        l0_gate = _make_gate(
            shape,
            init_sparsity,
            temperature,
            gamma,
            zeta,
            generator,
            device,
            dtype,
        )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )
        self._attach_gate(l0_gate, gate, init_sparsity)

    def _broadcast(self, z):
        if self.gate == "output":
            return z.view(-1, 1, 1, 1)
        return z.reshape(self.weight.shape)

    def _layer_forward(self, x, weight, bias):
        return self._conv_forward(x, weight, bias)

    def _plain_layer(self, **kw):
        return skip_init(
            nn.Conv2d, self.in_channels, self.out_channels, self.kernel_size, self.stride,
            self.padding, self.dilation, self.groups, padding_mode=self.padding_mode, **kw,
        )


@document(
    NN,
    gate_attributes=GATE_ATTRIBUTES,
    channels=Entry("channels", "int", "Channels in the input and the output."),
    conv=Entry("kernel_size, stride, padding, dilation, bias, padding_mode", "", _AS_IN_CONV),
)
class L0DepthwiseConv2d(L0Conv2d):
    """A depthwise 2-D convolution with one Hard Concrete gate per channel.

    Every channel is convolved with its own filter (``groups=channels``), as
    in MobileNet-style blocks; a closed gate switches off that channel's
    filter and bias, so the channel's output is exactly zero.

    %(parameters)s

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (channels, 1, kH, kW)
    bias : torch.nn.Parameter of shape (channels,) or None
    l0_gate : HardConcreteGate
        One gate per channel.
    %(gate_attributes)s

    See Also
    --------
    L0Conv2d : The general convolution with gates.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import L0DepthwiseConv2d
    >>> conv = L0DepthwiseConv2d(4, kernel_size=3, padding=1)
    >>> conv.eval()(torch.ones(2, 4, 6, 6)).shape
    torch.Size([2, 4, 6, 6])
    >>> tuple(conv.weight.shape), conv.groups
    ((4, 1, 3, 3), 4)
    """

    def __init__(
        self,
        channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias=True,
        padding_mode="zeros",
        init_sparsity=0.1,
        temperature=BETA,
        gamma=GAMMA,
        zeta=ZETA,
        generator=None,
        device=None,
        dtype=None,
    ):
        channels = check_int("channels", channels, 1)
        super().__init__(
            channels,
            channels,
            kernel_size,
            stride,
            padding,
            dilation,
            channels,
            bias,
            padding_mode,
            init_sparsity=init_sparsity,
            temperature=temperature,
            gamma=gamma,
            zeta=zeta,
            gate="output",
            generator=generator,
            device=device,
            dtype=dtype,
        )
