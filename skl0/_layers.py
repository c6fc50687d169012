"""The numpy forward pass of a fitted estimator's exported layers.

``fit`` folds the standardization, the gates and the head into plain
numpy layers ``[(W, b), ...]`` on raw ``X`` (``BaseL0._export``); these
functions apply them. Nothing here imports torch, so a fitted model that
is unpickled predicts without importing it (see ``skl0._base``).
"""

from __future__ import annotations

import sys

import numpy as np
import scipy.sparse as sp

__all__ = ["forward", "later_layers", "numpy_forward", "predict_forward", "read_rows"]

_ACTIVATIONS = {
    "identity": lambda a: a,
    "logistic": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
}


def later_layers(h, layers, activation):
    """The layers after the first, in numpy, on the first layer's output ``h``."""
    act = _ACTIVATIONS[activation]
    for W, b in layers:
        h = act(h) @ W + b
    return h


def numpy_forward(layers, activation, X):
    """Predict with exported ``[(W, b), ...]`` numpy layers: no torch, no GPU."""
    return later_layers(X @ layers[0][0] + layers[0][1], layers[1:], activation)


def forward(layers, activation, X):
    """The exported layers' output on validated ``X``: numpy, or a tensor a CV estimator holds.

    A tensor (the held-out rows a CV estimator keeps on its device) goes to
    :func:`skl0._heads.tensor_forward`; there is none unless torch is imported.
    """
    torch = sys.modules.get("torch")
    if torch is not None and torch.is_tensor(X):
        from ._heads import tensor_forward

        return tensor_forward(layers, activation, X)
    return numpy_forward(layers, activation, X)


def read_rows(W0):
    """The rows of the first layer's weights that are not all zero: the columns of X it reads."""
    return np.flatnonzero(np.any(W0 != 0, axis=1))


def predict_forward(layers, activation, X):
    """:func:`numpy_forward` for ``predict``: an X not in the layers' dtype is not promoted whole.

    ``X @ W0`` with a float32 X and the float64 layers promoted all of X
    to a float64 temporary (twice a dense X's bytes: 81.6 MB for a 40 MB
    X with 3 of 50 columns selected; a float64 copy of a sparse X's
    values); here only the columns the first layer reads (the selected
    ones) are taken and promoted. The arithmetic is float64, as before:
    the same terms, summed in another order for a dense X (the products
    of a sparse X are summed row by row in column order, so only the
    zero terms are left out).

    A dense float64 X is read whole (:func:`numpy_forward`) unless few of
    its columns are selected: at most one in 64 of a C-ordered X's
    (1000 x 20000 with 10 selected: 100x fewer multiplications), at most
    one in 6 of a Fortran-ordered X's (whole columns). Those
    predictions sum the same non-zero terms in another order, so they may
    differ from ``X @ coef_ + intercept_`` in the last bits.
    """
    W0, b0 = layers[0]
    dense = isinstance(X, np.ndarray)
    if not (dense or sp.issparse(X)):
        return numpy_forward(layers, activation, X)
    rows = read_rows(W0)
    if rows.size == X.shape[1]:  # (all of X is read: promoted whole, as before)
        return numpy_forward(layers, activation, X)
    if X.dtype == W0.dtype and not (
            dense and rows.size * (_GATHER_FRACTION_F if X.flags.f_contiguous
                                   else _GATHER_FRACTION) <= X.shape[1]):
        return numpy_forward(layers, activation, X)
    return later_layers(X[:, rows] @ W0[rows] + b0, layers[1:], activation)


#: predict on a dense float64 X takes the selected columns alone when at
#: most one in this many is selected (C order), one in _GATHER_FRACTION_F
#: (Fortran order, whose columns are contiguous). Gather / whole-product
#: time, numpy on one thread, X of 2e7 numbers: C order at 1/16 1.15-1.82x
#: and 1/24 0.77-1.41x (p = 96-6000, seed 7; 1/16 had been chosen on one
#: noisy run), at 1/64 0.28-0.71x (p = 480, 800); F order at 1/4 1.07-1.13x,
#: 1/6 0.49-0.59x (p = 200-12000, seed 11). Held out (seed 17, other p):
#: benchmarks/predict_gather.py, its table in docs/scale.md.
_GATHER_FRACTION = 64
_GATHER_FRACTION_F = 6
