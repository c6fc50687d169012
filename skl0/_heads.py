"""Prediction heads that sit behind the feature gates.

A head maps raw ``X`` to predictions with its first affine layer applied to
the standardized, gated features *without forming them*: with per-feature
``scale = z / std`` and ``shift = mean * z / std``::

    ((X - mean) / std * z) @ W = X @ (scale[:, None] * W) - shift @ W

so X is never copied or rescaled, dense or sparse.
"""

from __future__ import annotations

import torch
from torch import nn

from ._layers import later_layers, numpy_forward, read_rows

__all__ = ["LinearHead", "MLPHead", "numpy_forward", "select_columns", "tensor_forward"]


def csr_transpose(X):
    """``X.T`` of a torch sparse CSR tensor, as CSR, formed once and kept on ``X``.

    torch transposes and re-sorts X on every call (about 50 times the cost
    of the product itself at n=1e6, p=1e4).
    """
    XT = getattr(X, "_skl0_transpose", None)
    if XT is None:
        XT = X.t().to_sparse_csr()
        X._skl0_transpose = XT
    return XT


class _CSRMatmul(torch.autograd.Function):
    """``X @ W`` for a sparse CSR ``X`` whose backward reuses a cached ``X.T``.

    torch's own backward transposes and re-sorts X on every step (about 50
    times the cost of the product itself at n=1e6, p=1e4); the transpose is
    formed once here and kept on the tensor.
    """

    @staticmethod
    def forward(ctx, X, W):
        ctx.X = X
        return X @ W

    @staticmethod
    def backward(ctx, grad):
        return None, csr_transpose(ctx.X) @ grad


#: A dense product on the CPU reads only the columns whose gate is non-zero
#: when at most this share of them is: gathering them costs one pass over
#: their entries, the product then ``h`` passes fewer over the closed ones.
OPEN_COLUMNS_SHARE = 0.75


def select_columns(X, cols):
    """``X[:, cols]`` of a dense tensor, C-contiguous, without copying the rest of X.

    ``X.index_select(1, cols)`` first makes a column-major X (a
    Fortran-ordered numpy array, whose tensor shares its memory)
    contiguous: a full copy of X for every support read (an 80 MB X added
    80 MB to a classifier's fit). Its transpose is row-major, so the
    columns are gathered from it as rows, then laid out as
    ``index_select`` would give them (the same values, the same layout).
    """
    if X.dim() == 2 and X.layout == torch.strided and X.stride(0) == 1 and X.shape[1] > 1:
        return X.t().index_select(0, cols).t().contiguous()
    return X.index_select(1, cols)


def _open_columns(X, scale):
    """Indices of the non-zero ``scale`` entries when reading only them pays, else None.

    A sampled Hard Concrete gate is exactly 0 with positive probability,
    and where it is 0 neither the output nor any gradient depends on the
    column (the clamp of eq. 10 passes no gradient to ``log_alpha``; the
    weight row is multiplied by 0), so dropping it is exact. Only dense
    ``X`` on the CPU: finding the indices synchronises a GPU.
    """
    if X.layout != torch.strided or X.device.type != "cpu" or scale.dim() != 1:
        return None
    cols = torch.nonzero(scale).reshape(-1)
    return cols if cols.numel() <= OPEN_COLUMNS_SHARE * scale.numel() else None


def _gated_affine(X, scale, shift, weight, bias):
    cols = _open_columns(X, scale)
    if cols is not None:
        W = weight.index_select(0, cols)
        out = select_columns(X, cols) @ (scale.index_select(0, cols)[:, None] * W)
        return out - shift.index_select(0, cols) @ W + bias
    Wg = scale[:, None] * weight
    if X.layout == torch.sparse_csr and Wg.requires_grad:
        out = _CSRMatmul.apply(X, Wg)
    elif X.is_sparse or X.layout in (torch.sparse_csr, torch.sparse_csc):
        out = torch.sparse.mm(X, Wg) if X.is_sparse else X @ Wg
    else:
        out = X @ Wg
    return out - shift @ weight + bias


class LinearHead(nn.Module):
    """Linear head on standardized features: ``pred = x_std @ W + b``.

    Parameters
    ----------
    n_features : int
    n_outputs : int
    device, dtype : optional
        Where the (zero) parameters are made; torch's defaults when None.
    """

    is_linear = True

    def __init__(self, n_features, n_outputs, *, device=None, dtype=None):
        super().__init__()
        # Registered directly, as nn.Module.__setattr__ ends up doing for a
        # new module (whose names it first looks up among its parameters,
        # buffers and submodules; global registration hooks are not run for
        # this internal module): 14 -> 9 us, twice in a small fit.
        self._parameters["weight"] = nn.Parameter(
            torch.zeros(n_features, n_outputs, device=device, dtype=dtype))
        self._parameters["bias"] = nn.Parameter(torch.zeros(n_outputs, device=device, dtype=dtype))

    def forward(self, X, scale, shift):
        return _gated_affine(X, scale, shift, self.weight, self.bias)

    def l2(self):
        """Squared L2 norm of the weights (the intercept is not penalised)."""
        return (self.weight**2).sum()


_ACTIVATIONS = {
    "identity": lambda t: t,
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


class MLPHead(nn.Module):
    """Multi-layer perceptron behind the gates (scikit-learn's MLP names).

    The first layer is the gated affine map on standardized features; the
    hidden layers use ``activation``; the last layer is linear.

    Parameters
    ----------
    n_features : int
    hidden_layer_sizes : tuple of int
    n_outputs : int
    activation : {"identity", "logistic", "tanh", "relu"}
    generator : torch.Generator
        Source of the initial weights (Kaiming-uniform, as ``nn.Linear``).
    """

    is_linear = False

    def __init__(self, n_features, hidden_layer_sizes, n_outputs, activation="relu", generator=None):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes, n_outputs]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        # Drawn in float32 whatever torch's default dtype (then cast by the
        # caller): a set_default_dtype(torch.float64) drew other weights from
        # the same seed.
        f32 = torch.float32
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / fan_in**0.5
            w = (torch.rand(fan_in, fan_out, generator=generator, dtype=f32) * 2 - 1) * bound
            b = (torch.rand(fan_out, generator=generator, dtype=f32) * 2 - 1) * bound
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
        self.activation = activation

    @property
    def weight(self):
        """First-layer weights, (p, h): the rows the gates act on."""
        return self.weights[0]

    def forward(self, X, scale, shift):
        act = _ACTIVATIONS[self.activation]
        weights, biases = list(self.weights), list(self.biases)  # (slicing builds new lists)
        h = _gated_affine(X, scale, shift, weights[0], biases[0])
        for W, b in zip(weights[1:], biases[1:]):
            h = act(h) @ W + b
        return h

    def l2(self):
        return sum((W**2).sum() for W in self.weights)


def tensor_forward(layers, activation, X):
    """:func:`numpy_forward` on a dense tensor ``X``: its first layer where X is, a numpy result.

    For the held-out rows that a CV estimator keeps on its device: only
    the first layer's non-zero rows (the selected columns) read X, so a
    score reads ``|support|`` columns, not all of them, and X never
    crosses back to the host; the first layer's output (rows x hidden
    units) goes on in numpy. The arithmetic is numpy_forward's (X's dtype
    promoted with the layers', float64), up to the order of the sums.
    """
    import numpy as np

    W0, b0 = layers[0]
    rows = read_rows(W0)
    dtype = torch.promote_types(X.dtype, torch.from_numpy(np.asarray(W0)).dtype)
    W = torch.as_tensor(W0[rows], device=X.device, dtype=dtype)
    idx = torch.as_tensor(rows, device=X.device, dtype=torch.long)
    h = (select_columns(X, idx).to(dtype) @ W).cpu().numpy() + b0
    return later_layers(h, layers[1:], activation)
