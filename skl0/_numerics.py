"""Numerical safety: exact rescaling of extreme columns, and a last finiteness check.

Standardization makes the scale of a feature irrelevant in exact
arithmetic, but not in float32: the moments of a column near ``1e30``
overflow (``x * x``), and a column near ``1e-30`` underflows or falls under
the floor below which a column counts as constant. Dividing such a column
by a power of two near its largest magnitude is exact (no bit of any value
changes but the exponent), so extreme columns become ordinary ones while
ordinary data is never touched or copied; the fitted coefficients are
mapped back by the same factors.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "NonFiniteLossError",
    "check_finite_layers",
    "column_extremes",
    "weighted_extremes",
    "column_scale",
    "column_shift",
    "divide_columns",
    "power_of_two_scale",
    "subtract_columns",
    "target_moments",
]

# Columns whose largest |value| lies inside [2**-16, 2**16] are left alone:
# their float32 squares neither overflow nor underflow, and their spread
# stays far above the constant-column floor (~1e-6 in float32).
LOW, HIGH = 2.0**-16, 2.0**16


class NonFiniteLossError(FloatingPointError):
    """Raised when the training objective becomes NaN or infinite, or blows up.

    (Defined here, not in ``_train``, so that checking a fitted model's
    layers does not import torch; ``skl0._train`` exports the same class.)
    """


# The largest power of two that is a float64 (2**1024 would be infinite).
_MAX_EXP = np.finfo(np.float64).maxexp - 1


def power_of_two_scale(amax):
    """``2**e`` with ``amax = m * 2**e``, ``0.5 <= m < 1``; 1 where ``amax`` is 0 or not finite.

    ``e`` is capped at 1023 so the scale stays finite: an ``amax`` of
    ``2**1023`` (~9e307) or more gets ``2**1023`` and lands in ``[1, 2)``.
    """
    amax = np.asarray(amax, dtype=np.float64)
    ok = np.isfinite(amax) & (amax > 0)
    _, exp = np.frexp(np.where(ok, amax, 1.0))
    return np.where(ok, np.ldexp(1.0, np.minimum(exp, _MAX_EXP)), 1.0)


def column_extremes(X):
    """Column minima and maxima of a numpy array or scipy sparse matrix, in X's dtype.

    A sparse matrix's implicit zeros count. One pass of each reduction,
    shared by :func:`column_scale` and the constant-column rule
    (``skl0._problem.constant_columns``): on n=1e6, p=100 each pair costs
    about a quarter of a second.
    """
    if sp.issparse(X):
        return (np.asarray(X.min(axis=0).todense()).ravel(),
                np.asarray(X.max(axis=0).todense()).ravel())
    if (isinstance(X, np.ndarray) and 1 < X.shape[1] <= NARROW_COLUMNS and X.shape[0] > 0
            and X.flags.c_contiguous):
        return _narrow_extremes(X)
    return np.min(X, axis=0), np.max(X, axis=0)


def weighted_extremes(X, sw):
    """:func:`column_extremes` of the rows of positive weight (``inf``, ``-inf`` where none).

    A weight of 0 is a row left out, as in ``fit``: a weightless row's 1e20
    set the column's units, in which the others' spread fell to ~1e-22.
    The one rule of the streams (``partial_fit``), the CV estimators' fold
    sums and ``fit`` (whose weightless rows hold a weighted row's values).
    """
    pos = np.asarray(sw) > 0
    if pos.all():
        return column_extremes(X)
    if not pos.any():
        return np.full(X.shape[1], np.inf), np.full(X.shape[1], -np.inf)
    return column_extremes(X[np.flatnonzero(pos)])


#: Row-major X of at most this many columns has its extremes taken from
#: transposed copies of blocks of rows (:func:`_narrow_extremes`).
NARROW_COLUMNS = 16
#: Numbers per transposed block (256 KiB of float64: it stays in cache).
_NARROW_BLOCK = 1 << 15


def _narrow_extremes(X):
    """:func:`column_extremes` of a C-contiguous dense ``X`` with few columns, faster.

    numpy reduces ``axis=0`` of a row-major array one row at a time, at a
    fixed cost per row whatever its length: on diabetes (442 x 10) the
    minima and maxima took 29 us, and 2.8 ms at 50000 x 10. Each block of
    rows is copied transposed into one buffer and reduced along its
    contiguous rows instead (7 us and 0.5 ms). Minima and maxima are
    exact, so the values are numpy's whatever the order (a zero's sign
    aside, which nothing reads: 0.0 == -0.0); NaN propagates as there.
    """
    n, p = X.shape
    rows = max(1, _NARROW_BLOCK // p)
    buf = np.empty((p, min(rows, n)), dtype=X.dtype)
    lo = hi = None
    for start in range(0, n, rows):
        block = X[start : start + rows]
        XT = buf[:, : block.shape[0]]
        np.copyto(XT, block.T)
        b_lo, b_hi = XT.min(axis=1), XT.max(axis=1)
        if lo is None:
            lo, hi = b_lo, b_hi
        else:
            np.minimum(lo, b_lo, out=lo)
            np.maximum(hi, b_hi, out=hi)
    return lo, hi


def column_scale(X, low=LOW, high=HIGH, extremes=None):
    """Per-column powers of two for :func:`divide_columns`, or ``None``.

    Columns whose largest magnitude is outside ``[low, high]`` get the power
    of two that brings it into ``[0.5, 1)``; the others get 1. Returns
    ``None`` when no column needs scaling (the common case), so the caller
    makes no copy.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    extremes : (minima, maxima) or None
        X's :func:`column_extremes`, when the caller has them.

    Returns
    -------
    scale : ndarray of shape (n_features,) or None
    """
    if X.shape[0] == 0 or X.shape[1] == 0:
        return None
    # max |x| from the two reductions: np.abs(X) would copy all of X.
    lo, hi = column_extremes(X) if extremes is None else extremes
    amax = np.maximum(hi, -lo).astype(np.float64)
    extreme = (amax > 0) & np.isfinite(amax) & ((amax < low) | (amax > high))
    if not extreme.any():
        return None
    return np.where(extreme, power_of_two_scale(amax), 1.0)


@np.errstate(under="ignore")  # values far below the unit round to subnormals or 0 (expected)
def divide_columns(X, scale):
    """``X / scale`` column-wise as a new array of X's dtype; ``X`` is not modified.

    Exact, since ``scale`` holds powers of two. A sparse ``X`` comes back as
    CSR with the same pattern (explicit zeros included). ``scale=None``
    returns ``X`` itself.
    """
    if scale is None:
        return X
    if sp.issparse(X):
        out = X.tocsr(copy=True)
        out.data = (out.data / scale[out.indices]).astype(X.dtype, copy=False)
        return out
    return np.divide(X, scale, dtype=np.float64).astype(X.dtype, copy=False)


# A column whose |mean| exceeds its spread by more than this factor is
# shifted by its mean before the data meet the computation dtype: in the
# products ``X @ v - mean @ v`` of a direct problem, log10(|mean| / std)
# digits cancel (7 digits in float32; 16 in float64, hence the larger bar).
SHIFT_RATIO = {"float32": 16.0, "float64": 2.0**20}


def column_shift(mean, std, dtype):
    """Per-column offsets to subtract before computing in ``dtype``, or ``None``.

    Columns with ``|mean| > SHIFT_RATIO * std`` (a Unix timestamp within a
    day, a latitude within a city) get their mean; the others 0. ``None``
    (no copy of X) when no column needs it.

    Parameters
    ----------
    mean, std : ndarray of shape (n_features,)
        Weighted column means and spreads, float64.
    dtype : {"float32", "float64"}

    Returns
    -------
    shift : ndarray of shape (n_features,) or None
    """
    far = np.abs(mean) > SHIFT_RATIO[dtype] * std
    if not far.any():
        return None
    return np.where(far, mean, 0.0)


def subtract_columns(X, shift):
    """``X - shift`` column-wise as a new dense array of X's dtype (float64 arithmetic).

    ``shift=None`` returns ``X`` itself; ``X`` is never modified.
    """
    if shift is None:
        return X
    return np.subtract(X, shift, dtype=np.float64).astype(X.dtype, copy=False)


def target_moments(Ys, w):
    """Weighted mean and spread of scaled targets, the spread floored to 1 where it is round-off.

    ``Ys``: the targets of the rows of positive weight, in their power-of-two
    unit (:func:`power_of_two_scale` of their largest magnitude), shape
    ``(n, q)``; ``w``: those rows' weights over the total weight. A spread
    within float64's round-off of the values' magnitude (a constant target)
    is set to 1, so that the target standardizes to zeros (exact zeros for
    an exactly constant one, whose mean is its value). The rule of
    ``L0Regressor.fit`` and of ``partial_fit``'s stochastic mode.
    """
    mean = w @ Ys
    # An exactly constant output's mean is its value (the weighted sum of
    # 120 copies of 0.625 is not exactly 0.625): it standardizes to exact
    # zeros, which an MLP head's lam="auto" reads as a constant target.
    constant = np.all(Ys == Ys[:1], axis=0)
    mean[constant] = Ys[0, constant]
    std = np.sqrt(w @ (Ys - mean) ** 2)
    std[std <= np.finfo(float).eps * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean, std


def check_finite_layers(layers):
    """Raise :class:`NonFiniteLossError` if an exported weight or bias is NaN or infinite.

    The last guard before a fit returns: a model that would predict NaN is
    an error, never a result.
    """
    for i, (W, b) in enumerate(layers):
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise NonFiniteLossError(
                f"The fitted model has non-finite weights (NaN or infinity) in layer {i}; "
                "training diverged. Lower learning_rate_init, raise alpha, or check X "
                "and y for extreme values."
            )
    return layers
