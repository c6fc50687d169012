"""Remove closed gates: a smaller plain model with the same eval-mode output.

:func:`prune` works on a deep copy in three passes:

1. Fold. Every ``L0Linear`` / ``L0Conv2d`` becomes a plain ``nn.Linear`` /
   ``nn.Conv2d`` whose weights carry the deterministic gates (eq. 13), so
   single closed weights are exact zeros; a ``FeatureGate`` becomes a
   :class:`FixedScale`, folded into the next ``nn.Linear`` when it is one.
2. Shrink chains. In an ``nn.Sequential``, two layers linked through
   modules that act per unit (elementwise activations, dropout, batch norm,
   pooling, a final ``nn.Flatten`` between a convolution and a linear layer)
   share their hidden units. A unit goes when nothing reads it (its
   column in the next layer is zero), or when it is constant (its row in the
   previous layer is zero) and either its constant output, carried through
   the modules between, is zero, or it can be folded into the next layer's
   bias: the next layer is an ``nn.Linear`` or a convolution without
   padding, and no pooling lies between. Otherwise a constant unit stays
   (with zero padding, or a pool's border, the next layer does not see the
   constant everywhere). Both layers lose the unit; repeated until nothing
   changes.
3. Select inputs. Input columns or channels that are zero in every row of a
   layer (a closed input gate with no layer before it) are dropped with an
   :class:`IndexSelect` in front of a smaller layer; this applies to the
   layers of every ``nn.Sequential`` and to ``model`` itself.

Other layers outside an ``nn.Sequential`` keep their shapes after step 1,
and so do grouped convolutions (``L0DepthwiseConv2d``, ``L0Conv2d`` with
``groups > 1``): their closed channels are folded to zeros, not removed.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import skip_init

from .gates import FeatureGate
from .layers import _L0LayerMixin, copy_into, keep_frozen

__all__ = ["prune", "IndexSelect", "FixedScale"]

# Modules that map each unit (feature or channel) on its own and in eval mode
# treat every value of a unit the same way.
_ELEMENTWISE = (
    nn.Identity, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU,
    nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardsigmoid,
    nn.Hardswish, nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid,
    nn.Softshrink, nn.Hardshrink, nn.Threshold, nn.Dropout, nn.Dropout1d,
    nn.Dropout2d, nn.AlphaDropout, nn.FeatureAlphaDropout,
)  # fmt: skip
# Spatial pools keep a channel that is zero everywhere at zero.
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


class IndexSelect(nn.Module):
    """Keep the entries ``index`` of dimension ``dim`` (``x.index_select``).

    ``prune`` puts it in front of a layer whose other input columns or
    channels are switched off.

    Parameters
    ----------
    dim : int
        Dimension to select along: ``-1`` for features, ``-3`` for channels.
    index : sequence of int
        Positions to keep.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import IndexSelect
    >>> IndexSelect(-1, [0, 2])(torch.tensor([[1.0, 2.0, 3.0]]))
    tensor([[1., 3.]])
    """

    def __init__(self, dim, index):
        super().__init__()
        self.dim = dim
        self.register_buffer("index", torch.as_tensor(index, dtype=torch.long))

    def forward(self, x):
        return x.index_select(self.dim, self.index)

    def extra_repr(self):
        return f"dim={self.dim}, n_kept={self.index.numel()}"


class FixedScale(nn.Module):
    """Multiply the last dimension by fixed factors: a frozen ``FeatureGate``.

    Parameters
    ----------
    scale : torch.Tensor
        One factor per feature (a buffer, not trained).

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import FixedScale
    >>> FixedScale(torch.tensor([1.0, 0.0]))(torch.ones(1, 2))
    tensor([[1., 0.]])
    """

    def __init__(self, scale):
        super().__init__()
        self.register_buffer("scale", torch.as_tensor(scale))

    def forward(self, x):
        return x * self.scale

    def extra_repr(self):
        return f"n_features={self.scale.numel()}"


def _is_linear(m):
    return type(m) is nn.Linear


def _is_conv(m):
    return type(m) is nn.Conv2d and m.groups == 1


def _n_units(layer):
    return layer.out_features if _is_linear(layer) else layer.out_channels


def _slice_layer(layer, rows=None, cols=None):
    """A new plain layer keeping output units ``rows`` and inputs ``cols``."""
    weight, bias = layer.weight, layer.bias
    if rows is not None:
        weight = weight[rows]
        bias = None if bias is None else bias[rows]
    if cols is not None:
        weight = weight[:, cols]
    kw = {"bias": bias is not None, "device": weight.device, "dtype": weight.dtype}
    if _is_linear(layer):
        new = skip_init(nn.Linear, weight.shape[1], weight.shape[0], **kw)
    else:
        new = skip_init(
            nn.Conv2d, weight.shape[1], weight.shape[0], layer.kernel_size, layer.stride,
            layer.padding, layer.dilation, 1, padding_mode=layer.padding_mode, **kw,
        )  # fmt: skip
    return copy_into(new, weight, bias, layer)


def _slice_batchnorm(bn, keep):
    new = type(bn)(
        len(keep), bn.eps, bn.momentum, bn.affine, bn.track_running_stats,
        device=bn.running_mean.device, dtype=bn.running_mean.dtype,
    )  # fmt: skip
    with torch.no_grad():
        new.running_mean.copy_(bn.running_mean[keep])
        new.running_var.copy_(bn.running_var[keep])
        new.num_batches_tracked.copy_(bn.num_batches_tracked)
        if bn.affine:
            new.weight.copy_(bn.weight[keep])
            new.bias.copy_(bn.bias[keep])
    return keep_frozen(new, bn).train(bn.training)


def _fold_gates(module):
    """Step 1: L0 layers -> plain layers, FeatureGate -> FixedScale."""
    if isinstance(module, _L0LayerMixin):
        return module.to_plain()
    if isinstance(module, FeatureGate):
        return FixedScale(module.deterministic().detach().clone())
    for name, child in list(module.named_children()):
        new = _fold_gates(child)
        if new is not child:
            setattr(module, name, new)
    return module


def _passthrough(m, conv, flattened, n):
    """How a module between two linked layers treats the units, or None."""
    if isinstance(m, _ELEMENTWISE) or (type(m) is nn.PReLU and m.num_parameters == 1):
        return "elementwise"
    if flattened:
        return None
    if conv:
        if isinstance(m, _POOLS):
            return "pool"
        if type(m) is nn.Flatten and m.start_dim == 1 and m.end_dim == -1:
            return "flatten"
    bn_type = nn.BatchNorm2d if conv else nn.BatchNorm1d
    if type(m) is bn_type and m.num_features == n and m.running_mean is not None:
        return "batchnorm"
    return None


def _find_link(mods, i):
    """``(j, path, flattened)`` when ``mods[i]`` feeds layer ``mods[j]``."""
    producer = mods[i]
    conv, n = _is_conv(producer), _n_units(producer)
    flattened, path = False, []
    for j in range(i + 1, len(mods)):
        m = mods[j]
        if _is_linear(m) and (not conv or flattened):
            if m.in_features % n == 0 and (flattened or m.in_features == n):
                return j, path, flattened
            return None
        if _is_conv(m) and conv and not flattened and m.in_channels == n:
            return j, path, False
        kind = _passthrough(m, conv, flattened, n)
        if kind is None:
            return None
        flattened = flattened or kind == "flatten"
        path.append((j, kind))
    return None


def _propagate(mods, path, value, conv):
    """Push each unit's constant through the path; flag spatially constant ones."""
    ok = torch.ones_like(value, dtype=torch.bool)
    shape = (1, -1, 1, 1) if conv else (1, -1)
    for j, kind in path:
        if kind == "pool":  # a border average of a non-zero constant varies
            ok &= value == 0
        elif kind != "flatten":
            value = mods[j](value.reshape(shape)).reshape(-1)
    return value, ok


def _no_padding(conv):
    pad = conv.padding
    return pad == "valid" or (not isinstance(pad, str) and all(p == 0 for p in pad))


def _shrink_link(seq, i, j, path, flattened):
    """Drop the hidden units between ``seq[i]`` and ``seq[j]`` that do not matter."""
    mods = list(seq)
    producer, consumer = mods[i], mods[j]
    conv, n = _is_conv(producer), _n_units(producer)
    row_dead = (producer.weight.reshape(n, -1) == 0).all(1)
    if producer.bias is None:
        value = producer.weight.new_zeros(n)
    else:
        value = producer.bias.detach().clone()
    value, ok = _propagate(mods, path, value, conv)
    w = consumer.weight
    w_units = w.reshape(w.shape[0], n, -1)  # (out, unit, columns of the unit)
    foldable = _is_linear(consumer) or _no_padding(consumer)
    col_dead = (w_units == 0).all(2).all(0)
    remove = col_dead | (row_dead & ok & ((value == 0) | foldable))
    if remove.all():  # keep one unit so that no layer is empty
        remove[0] = False
    if not remove.any():
        return False
    fold = remove & ~col_dead & (value != 0)
    if fold.any():
        shift = (w_units[:, fold, :].sum(2) * value[fold]).sum(1)
        if consumer.bias is None:
            consumer.bias = nn.Parameter(torch.zeros_like(shift))
        consumer.bias.add_(shift)
    keep = (~remove).nonzero().flatten()
    group = w_units.shape[2] if _is_linear(consumer) else 1
    cols = (keep[:, None] * group + torch.arange(group, device=keep.device)).flatten()
    seq[i] = _slice_layer(producer, rows=keep)
    for k, kind in path:
        if kind == "batchnorm":
            seq[k] = _slice_batchnorm(mods[k], keep)
    seq[j] = _slice_layer(consumer, cols=cols if _is_linear(consumer) else keep)
    return True


def _shrink_sequential(seq):
    """Step 2 on one ``nn.Sequential``."""
    for i in range(len(seq) - 1):  # fold a frozen FeatureGate into the next Linear
        scale, nxt = seq[i], seq[i + 1]
        if (
            isinstance(scale, FixedScale)
            and _is_linear(nxt)
            and scale.scale.shape == (nxt.in_features,)
        ):
            nxt.weight.mul_(scale.scale)
            seq[i] = nn.Identity()
    changed = True
    while changed:
        changed = False
        for i in range(len(seq)):
            if _is_linear(seq[i]) or _is_conv(seq[i]):
                link = _find_link(list(seq), i)
                if link is not None and _shrink_link(seq, i, *link):
                    changed = True


def _select_inputs(layer):
    """Step 3: ``IndexSelect`` + smaller layer when some inputs are unused."""
    if not (_is_linear(layer) or _is_conv(layer)):
        return layer
    w = layer.weight
    dead = (w.transpose(0, 1).reshape(w.shape[1], -1) == 0).all(1)
    if not dead.any() or dead.all():
        return layer
    keep = (~dead).nonzero().flatten()
    dim = -1 if _is_linear(layer) else -3
    return nn.Sequential(IndexSelect(dim, keep), _slice_layer(layer, cols=keep))


def _is_plain_sequential(m):
    return isinstance(m, nn.Sequential) and type(m).forward is nn.Sequential.forward


def prune(model):
    """A smaller, gate-free copy of ``model`` with the same eval-mode output.

    Closed gates are removed: whole rows, columns or channels shrink the
    ``nn.Linear`` / ``nn.Conv2d`` layers (fewer parameters, faster
    inference; a grouped or depthwise convolution keeps its channels, its
    closed ones folded to zeros), the layer after a removed unit loses the
    matching input when both sit in one ``nn.Sequential`` (with elementwise activations,
    dropout, batch norm, pooling or a flatten in between), and single closed
    weights become exact zeros. Gate values are folded into the weights, so
    the result computes the deterministic (eval-mode) output of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        A model with ``L0Linear``, ``L0Conv2d``, ``L0DepthwiseConv2d`` and
        ``FeatureGate`` modules.
        It is not modified.

    Returns
    -------
    torch.nn.Module
        A deep copy in eval mode made of plain torch modules (plus
        :class:`IndexSelect` / :class:`FixedScale` where needed). Layers
        outside an ``nn.Sequential`` keep their shapes, except that ``model``
        itself, when it is a gated layer, loses its closed inputs through
        an :class:`IndexSelect` in front; ``SampleGate`` and bare
        ``HardConcreteGate`` modules are left as they are.

    See Also
    --------
    sparsity_report : Per-layer counts of open gates.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skl0.nn import L0Linear, prune
    >>> model = nn.Sequential(L0Linear(6, 8, gate="output"), nn.ReLU(),
    ...                       L0Linear(8, 2, gate="input")).eval()
    >>> with torch.no_grad():
    ...     _ = model[0].l0_gate.log_alpha[:5].fill_(-10.0)  # close 5 units
    >>> small = prune(model)
    >>> small[0].out_features, small[2].in_features
    (3, 3)
    >>> x = torch.randn(4, 6)
    >>> torch.testing.assert_close(small(x), model(x))
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}; pass "
            "the network holding the L0 layers."
        )
    pruned = copy.deepcopy(model).eval()
    with torch.no_grad():
        pruned = _fold_gates(pruned)
        sequentials = [m for m in pruned.modules() if _is_plain_sequential(m)]
        for seq in sequentials:
            _shrink_sequential(seq)
        for seq in sequentials:
            for i in range(len(seq)):
                seq[i] = _select_inputs(seq[i])
        pruned = _select_inputs(pruned)
    return pruned.eval()
