"""``partial_fit``: fitting from chunks of rows (an iterator, a memory map).

Two modes, fixed on the first call:

- **exact** (:class:`L0Regressor` with a linear head and at most
  ``GRAM_MAX_FEATURES`` features): each call adds the chunk's weighted sums
  of ``x``, ``x x'``, ``x y'``, ``y``, ``y^2`` and the total weight to running
  float64 statistics, then re-runs the whole selection of ``fit`` (gate
  path, EBIC or ``k``, least-squares refit) on a :class:`GramProblem` built
  from them, from the same starting point and seed as ``fit``. The result
  depends on the rows seen so far, not on how they were split into chunks:
  ``partial_fit`` over chunks selects what ``fit`` selects on the
  concatenated rows. A call costs O(rows p^2) for the statistics plus a
  selection whose steps cost O(p^2), whatever the number of rows seen.
  The gates are deliberately not warm-started from the previous call: a
  warm start would make the selection depend on the chunking. The
  power-of-two units of extreme columns and of ``y`` (see ``_numerics``)
  are those of ``fit`` on the rows seen so far (``y``'s from the rows of
  positive weight, as in ``fit``: weightless rows add nothing to the sums,
  whatever their targets): when a chunk holds larger values than the
  earlier ones, the units grow and the sums are rescaled exactly (powers
  of two), so a first chunk near 1 and a later one near 1e160 neither
  overflow nor differ from ``fit``.
- **stochastic** (:class:`L0Classifier`, nonlinear heads, and regressors
  with more features): the standardization is fixed from the first chunk
  (the target's unit, mean and spread from its rows of positive weight),
  or given before it (:class:`StreamStart`: a Dask fit's, of all the rows);
  each call is one shuffled pass over the chunk in mini-batches of
  ``batch_size`` rows (default ``min(200, rows)``, as
  :class:`~sklearn.neural_network.MLPClassifier`), with the gates, head,
  Adam state, ``lam`` multiplier and random generator kept between calls.
  ``lam="auto"`` prices an open gate by the extended BIC of the rows seen
  so far, ``(log N + 2 gamma log p) / (2 N)`` in units of mean log-loss
  (``N`` the total sample weight; for squared loss the price is scaled by
  the running mean loss, the Gaussian likelihood's version), so the price
  falls as evidence accumulates. There is no debiasing refit: the exported
  model is the trained head behind the deterministic gates. Sample weights
  are normalised within each chunk: a chunk's total weight changes only
  ``N``, not its steps.

``set_params`` between calls: ``k`` and ``lam`` apply from the next call
(``k`` is checked as ``fit`` checks it, against the first call's groups),
and so do ``alpha``, ``learning_rate_init``, ``temperature`` and
``batch_size`` in the stochastic mode (the exact mode re-runs the whole
selection with the current settings on every call). ``init_prob`` and
``random_state`` only set the stochastic mode's start, and ``dtype`` is the
first call's in both modes.
``groups`` and ``feature_costs`` (the gates and their prices) and the head
(hidden sizes, activation) are the first call's: a later call with other
values raises a ValueError naming them and leaves the estimator as it was.

Torch state between calls lives on the CPU, so a partially fitted
estimator pickles and moves between devices like a fitted one.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.multiclass import check_classification_targets

from ._adam import Adam
from ._base import (
    _as_tensor,
    bind_training,
    check_weight_scale,
    check_weight_total,
    keep_state_on_failure,
    positive_strides,
)
from ._checks import (
    check_frame,
    check_k_fits,
    check_missing_labels,
    label_column,
    numeric_target,
    weigh_classes,
)
from ._compat import ALLOW_ZERO_WEIGHTS, _check_sample_weight, validate_data
from ._criteria import ebic_gamma
from ._datafits import BinaryLogLoss, MultinomialLogLoss, SquaredLoss
from ._device import grad_enabled, make_generator, resolve_device, resolve_dtype
from ._gate_path import open_gates
from ._group_gate import GroupGate
from ._groups import engine_layout, resolve_groups
from ._numerics import (
    column_scale,
    column_shift,
    divide_columns,
    power_of_two_scale,
    subtract_columns,
    target_moments,
    weighted_extremes,
)
from ._problem import (
    BLOCK_BYTES,
    GRAM_MAX_FEATURES,
    DirectProblem,
    GramProblem,
    block_rows,
    row_scaled,
    sparse_to_torch,
    weighted_cross,
    weighted_moments,
)
from ._train import _check_finite, adam_steps
from .nn import FeatureGate

__all__ = ["ClassTargets", "RegressionTargets", "StreamStart", "partial_fit"]

_DEFAULT_BATCH = 200  # rows per step when batch_size=None (MLPClassifier's "auto")
_BLOCK_ELEMENTS = BLOCK_BYTES // 8  # float64 blocks of a dense chunk's rows


# ----------------------------------------------------------------- targets


class RegressionTargets:
    """Real targets in a power-of-two unit near ``max|y|`` over the rows of positive weight.

    The unit is set by the first chunk; the exact mode raises it (see
    :meth:`widen`) when a later chunk holds larger targets. As in ``fit``,
    only rows of positive weight count: weightless rows (whose targets may
    be 1e300) neither set the unit nor enter a sum, and are encoded as 0.
    """

    def __init__(self, estimator, y, sw):
        Y = self._raw(y)
        estimator._y_ndim = np.ndim(y)
        self.n_outputs = Y.shape[1]
        # Over the weighted rows seen, as fit's unit (0 where there is none:
        # such a first chunk is refused by the step that follows).
        self.amax = np.max(np.abs(Y[sw > 0]), axis=0, initial=0.0)
        self.scale = power_of_two_scale(self.amax)

    @staticmethod
    def _raw(y):
        y = numeric_target(y, "a regressor")
        return y.reshape(len(y), -1)

    def _checked(self, estimator, y):
        Y = self._raw(y)
        if Y.shape[1] != self.n_outputs or np.ndim(y) != estimator._y_ndim:
            raise ValueError(
                f"y has {Y.shape[1]} target(s) (ndim {np.ndim(y)}) but the first call to "
                f"partial_fit had {self.n_outputs} (ndim {estimator._y_ndim}); pass y "
                "of the same shape in every call."
            )
        return Y

    def scaled(self, estimator, y, sw):
        """``Y / scale`` as an (n, q) float64 array, after checking q; 0 on weightless rows."""
        Y = self._checked(estimator, y)
        pos = sw > 0
        if not pos.all():  # (their y / scale could overflow: 0 * inf is NaN in the sums)
            Y = np.where(pos[:, None], Y, 0.0)
        return Y / self.scale

    def widen(self, estimator, y, sw):
        """Raise the unit to ``fit``'s for the rows seen so far and ``y``; returns the steps.

        The steps are the powers of two (integers >= 0) by which each
        output's unit grew; the caller rescales what it summed by them.
        Only the rows of positive weight count, as in ``fit``.
        """
        Y = self._checked(estimator, y)[sw > 0]
        amax = np.maximum(getattr(self, "amax", self.scale / 2), np.max(np.abs(Y), axis=0,
                                                                         initial=0.0))
        scale = np.maximum(power_of_two_scale(amax), self.scale)
        steps = _exponent(scale) - _exponent(self.scale)
        self.amax, self.scale = amax, scale
        return steps

    def datafit(self):
        return SquaredLoss(self.n_outputs)

    def fix_standardization(self, estimator, y, sw, start=None):
        """Mean and std of the first chunk's rows of positive weight, used for every later chunk.

        With ``start`` (a :class:`StreamStart`), those of all the rows, in its unit.
        """
        if start is not None:
            self.amax, self.scale = start.y_amax, start.y_scale
            mean, std = start.y_mean, start.y_std
        else:
            pos = sw > 0
            mean, std = target_moments(self.scaled(estimator, y, sw)[pos], sw[pos] / sw.sum())
        self.mean, self.std = mean, std
        estimator._y_mean, estimator._y_std = mean * self.scale, std * self.scale

    def encode(self, estimator, y, sw):
        Ys = self.scaled(estimator, y, sw)
        Y = (Ys - self.mean) / self.std
        Y[~(sw > 0)] = 0.0  # weightless rows: 0, as in fit
        return Y

    def tensor(self, estimator, Y, device, dtype):
        return torch.as_tensor(Y, device=device, dtype=dtype)


def _missing_or_infinite(labels):
    """Whether the array ``labels`` holds None, NaN, ``pd.NA`` or infinity."""
    if labels.dtype.kind in "fc":
        return not np.isfinite(labels).all()
    if labels.dtype.kind == "O":
        import pandas as pd

        return bool(pd.isna(labels).any()) or any(
            isinstance(v, float) and math.isinf(v) for v in labels.ravel())
    return False


class ClassTargets:
    """Class labels: ``classes`` given on the first call, checked on every call."""

    def __init__(self, estimator, y, classes):
        self.from_fit = classes is None and hasattr(estimator, "classes_")
        if classes is None:  # after fit, a new stream keeps fit's classes (as SGDClassifier)
            classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: all the class "
                "labels the stream may hold, e.g. classes=np.unique(y_all)."
            )
        classes = np.asarray(classes)
        if _missing_or_infinite(classes):
            # (None or pd.NA: a sort error from np.unique; NaN: a class that
            # no chunk can hold, y's NaN being refused, was kept)
            raise ValueError(
                f"classes={classes.tolist()!r} holds a missing label (None, NaN, pd.NA) or "
                "infinity, which no label of y may be; pass the labels alone, e.g. "
                "classes=np.unique(y_all)."
            )
        classes = np.unique(classes)
        if classes.size < 2:
            raise ValueError(
                f"classes={classes.tolist()!r} holds fewer than 2 labels; a classifier "
                "needs at least 2 classes."
            )
        estimator.classes_ = classes
        self.n_outputs = 1 if classes.size == 2 else classes.size

    def check_classes(self, estimator, classes):
        if classes is not None and not np.array_equal(np.unique(classes), estimator.classes_):
            raise ValueError(
                f"classes={np.unique(classes).tolist()!r} differs from the classes "
                f"{estimator.classes_.tolist()!r} of the first call to partial_fit; pass "
                "the same classes or none after the first call."
            )

    def datafit(self):
        return BinaryLogLoss() if self.n_outputs == 1 else MultinomialLogLoss(self.n_outputs)

    def fix_standardization(self, estimator, y, sw, start=None):
        pass

    def encode(self, estimator, y, sw=None):
        # As fit (n, q labels passed check_classification_targets as multilabel
        # and failed inside torch: "The size of tensor a (2) must match ...").
        y = label_column(y)
        check_classification_targets(y)
        classes = estimator.classes_
        unseen = np.setdiff1d(np.unique(y), classes)
        if unseen.size:
            source = ("the classes_ of the earlier fit, which a new stream keeps unless "
                      "its first call passes classes" if getattr(self, "from_fit", False)
                      else "given on the first call to partial_fit")
            raise ValueError(
                f"y holds label(s) {unseen.tolist()!r} that are not in classes="
                f"{classes.tolist()!r}, {source}; pass every label of the stream in classes "
                "on the first call."
            )
        codes = np.searchsorted(classes, y)
        return codes.astype(np.float64) if self.n_outputs == 1 else codes

    def tensor(self, estimator, Y, device, dtype):
        return estimator._target_tensor(Y, device, dtype)


# ----------------------------------------------------------------- exact mode


class _Moments:
    """Running float64 weighted sums of a stream of (X, Y) chunks.

    Dense chunks are shifted by the first chunk's weighted means before the
    products are summed (so the centred statistics do not lose digits to a
    large mean); sparse chunks are not shifted, to stay sparse, unless the
    stream began with a dense chunk: they are then densified a block of rows
    at a time and shifted as dense ones (their sums were added unshifted to
    shifted ones: a dense chunk, then a sparse one, gave another model than
    ``fit``, and could select a column of large mean).
    """

    def __init__(self, X, Y, sw):
        p, q = X.shape[1], Y.shape[1]
        w = sw / sw.sum()
        if sp.issparse(X):
            self.x_shift = np.zeros(p)
        else:
            self.x_shift = np.asarray(w @ X, dtype=np.float64)
        self.y_shift = w @ Y
        self.weight = 0.0
        self.rows = 0  # fit's choice between X'X and the rows reads the row count
        self.sx, self.sxx, self.sxy = np.zeros(p), np.zeros((p, p)), np.zeros((p, q))
        self.sy, self.syy = np.zeros(q), np.zeros(q)
        self.x_min, self.x_max = np.full(p, np.inf), np.full(p, -np.inf)
        self.y_min, self.y_max = np.full(q, np.inf), np.full(q, -np.inf)

    @classmethod
    def from_centred(cls, weight, x_mean, xx, y_mean, xy, yy, x_range, y_range):
        """Sums already centred on their own weighted means (the Dask pass's result).

        ``xx``, ``xy`` and ``yy`` are ``sum_i w_i (x_i - x_mean)(x_i - x_mean)'``
        and so on, in float64 (``xx`` may be its diagonal alone, enough for
        :meth:`standardization`, not for :meth:`problem`); ``x_range`` and
        ``y_range`` are (min, max) pairs of arrays. :meth:`problem` then builds the same problem that
        :meth:`add` would have led to on the same rows. The y statistics
        are in the target's unit, for a regression ``fit``'s (from the rows
        of positive weight): the constant-target floor of :meth:`problem`
        is relative to it.
        """
        self = cls.__new__(cls)
        p, q = xy.shape
        self.x_shift, self.y_shift = np.asarray(x_mean, np.float64), np.asarray(y_mean, np.float64)
        self.weight = float(weight)
        self.rows = None  # not counted: the problem is solved from X'X as it stands
        self.sx, self.sxx, self.sxy = np.zeros(p), np.asarray(xx), np.asarray(xy)
        self.sy, self.syy = np.zeros(q), np.asarray(yy)
        self.x_min, self.x_max = x_range
        self.y_min, self.y_max = y_range
        return self

    @np.errstate(under="ignore")  # values far below the unit round to subnormals or 0 (expected)
    def rescale(self, dx, dy):
        """Every sum in units ``2**dx`` (columns) and ``2**dy`` (outputs) times larger.

        Exact but for underflow: dividing by a power of two changes only
        exponents, so the sums equal those of the rows divided by the new
        units (what ``fit`` on the same rows sums).
        """
        dx, dy = np.asarray(dx, np.intc), np.asarray(dy, np.intc)
        self.x_shift, self.sx = np.ldexp(self.x_shift, -dx), np.ldexp(self.sx, -dx)
        self.x_min, self.x_max = np.ldexp(self.x_min, -dx), np.ldexp(self.x_max, -dx)
        self.sxx = np.ldexp(self.sxx, -(2 * dx if self.sxx.ndim == 1  # (a diagonal)
                                         else dx[:, None] + dx[None, :]))
        self.sxy = np.ldexp(self.sxy, -(dx[:, None] + dy[None, :]))
        self.y_shift, self.sy = np.ldexp(self.y_shift, -dy), np.ldexp(self.sy, -dy)
        self.y_min, self.y_max = np.ldexp(self.y_min, -dy), np.ldexp(self.y_max, -dy)
        self.syy = np.ldexp(self.syy, -2 * dy)

    def add(self, X, Y, sw):
        self.weight += float(sw.sum())
        self.rows += X.shape[0]
        Yc = Y - self.y_shift
        Yw = Yc * sw[:, None]
        self.sy += Yw.sum(0)
        self.syy += (Yw * Yc).sum(0)
        kept = Y[sw > 0]
        if kept.shape[0]:
            self.y_min = np.minimum(self.y_min, kept.min(0))
            self.y_max = np.maximum(self.y_max, kept.max(0))
        if X.shape[0] == 0:
            return
        sparse = sp.issparse(X)
        if sparse and not self.x_shift.any():
            # X' (CSR) of a canonical CSC chunk is X itself: X' Xw without
            # scipy's CSC copy of Xw (each sum over the rows in the same order)
            XT = X.T.astype(np.float64, copy=False) if (
                X.format == "csc" and X.has_canonical_format) else None
            X = X.tocsr().astype(np.float64, copy=False)  # (never modified)
            Xw = row_scaled(X, np.asarray(sw, dtype=np.float64))  # (shares X's indices)
            self.sx += np.asarray(Xw.sum(0)).ravel()
            self.sxx += ((X.T if XT is None else XT) @ Xw).toarray()
            del XT
            self.sxy += np.asarray(Xw.T @ Yc)
            del Xw
            lo, hi = weighted_extremes(X, sw)  # (of the rows of positive weight, as fit's)
            self.x_min, self.x_max = np.minimum(self.x_min, lo), np.maximum(self.x_max, hi)
            return
        if sparse:  # shifted sums: dense blocks of the chunk's rows
            X = X.tocsr()
        rows = block_rows(X, _BLOCK_ELEMENTS)
        for a in range(0, X.shape[0], rows):
            Xb = X[a : a + rows].toarray() if sparse else X[a : a + rows]
            lo, hi = weighted_extremes(Xb, sw[a : a + rows])  # (as fit's: weighted rows)
            self.x_min, self.x_max = np.minimum(self.x_min, lo), np.maximum(self.x_max, hi)
            # A new float64 block: never an in-place shift of the caller's
            # rows (a float64 X, or a writable memory map, would be changed).
            Xb = np.subtract(Xb, self.x_shift, dtype=np.float64)
            self.sx += sw[a : a + rows] @ Xb
            G_b, c_b = weighted_cross(Xb, sw[a : a + rows], Yc[a : a + rows])
            self.sxx += G_b
            self.sxy += c_b

    def standardization(self, dtype):
        """Float64 column means and spreads by the rule of ``weighted_moments``, and constant columns.

        A spread below ``dtype``'s round-off of the mean is no spread;
        exactly constant columns centre on their value.
        """
        W = self.weight
        mx = self.sx / W
        mean = self.x_shift + mx
        sxx = self.sxx if self.sxx.ndim == 1 else np.diag(self.sxx)  # (from_centred's diagonal)
        sd = np.sqrt(np.maximum(sxx / W - mx * mx, 0.0))
        tiny = np.finfo(np.dtype(str(dtype).removeprefix("torch."))).eps * np.maximum(
            np.abs(mean), 1.0) * 10
        const = self.x_min == self.x_max
        std = np.where((sd > tiny) & ~const, sd, 1.0)
        mean = np.where(const, self.x_min, mean)
        return mean, std, const

    def problem(self, datafit, dtype, device, floor_dtype=None):
        """(GramProblem, y_mean, y_std, x_shift) of the rows seen so far.

        ``floor_dtype``: the dtype whose round-off floors the spreads
        (:meth:`standardization`), ``dtype`` (the computation's) by default;
        a CV fold passes its X's, as ``fit``'s ``weighted_moments`` floors.
        """
        W = self.weight
        mx, my = self.sx / W, self.sy / W
        cov = self.sxx / W - np.outer(mx, mx)
        mean, std, const = self.standardization(dtype if floor_dtype is None else floor_dtype)
        y_mean = self.y_shift + my
        y_var = np.maximum(self.syy / W - my * my, 0.0)
        y_std = np.sqrt(y_var)
        flat = (self.y_min == self.y_max) | (
            y_std <= np.finfo(float).eps * np.maximum(np.abs(y_mean), 1.0)
        )
        y_std = np.where(flat, 1.0, y_std)
        G = cov / np.outer(std, std)
        c = (self.sxy / W - np.outer(mx, my)) / std[:, None] / y_std[None, :]
        keep = (~const).astype(np.float64)
        G, c = G * np.outer(keep, keep), c * keep[:, None]
        yy = y_var / y_std**2

        def t(a):
            return torch.as_tensor(a, device=device, dtype=dtype)

        # The problem's means are cast to ``dtype``: a column far from zero
        # relative to its spread is exported through a float64 shift instead
        # (as fit does), so float32 does not round a timestamp's mean.
        shift = column_shift(mean, std, str(dtype).removeprefix("torch."))
        centre = mean if shift is None else mean - shift
        problem = GramProblem.from_statistics(t(G), t(c), t(yy), t(centre), t(std), datafit, W,
                                               n_rows=self.rows)
        return problem, y_mean, y_std, shift


# ------------------------------------------------------------ stochastic mode


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _ic_price(datafit, n, p, mean_loss):
    """``lam`` that makes an open gate cost what the extended BIC charges a feature."""
    n = max(n, 2.0)
    per_feature = (math.log(n) + 2 * ebic_gamma(n, p) * math.log(max(p, 2))) / n
    if datafit.name == "squared_error":  # Gaussian deviance n log(mse): d/dmse = n / mse
        return per_feature * max(mean_loss, 1e-12)
    return per_feature / 2  # log-loss deviance is 2 n times the mean loss


class _SGDState:
    """Gates, head, optimizer and generator between calls (all on the CPU)."""

    def __init__(self, estimator, X, sw, p, q, device, dtype, start=None):
        if start is not None:  # all the rows' (a Dask fit's moments pass)
            mean, std = start.x_mean, start.x_std
        elif sp.issparse(X):
            mean, std = weighted_moments(X.tocsr(), sw / sw.sum())
        else:
            mean, std = weighted_moments(np.asarray(X, dtype=np.float64), sw / sw.sum())
        self.mean, self.std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        # Dense columns far from zero relative to their spread are shifted
        # by the first chunk's mean before every chunk meets ``dtype`` (as in
        # fit; see _numerics.column_shift).
        self.shift = None if sp.issparse(X) else column_shift(
            self.mean, self.std, str(dtype).removeprefix("torch."))
        estimator._x_shift = self.shift
        gen = make_generator(estimator.random_state, device)
        layout = getattr(estimator, "_layout", None)
        if layout is None:
            # In float32, then cast: torch's default dtype must not move the
            # start (a set_default_dtype(torch.float64) changed the fit).
            self.gate = FeatureGate(p, init_prob=estimator.init_prob,
                                    temperature=estimator.temperature,
                                    dtype=torch.float32).to(dtype=dtype)
        else:  # one gate per group, priced by its cost
            self.gate = GroupGate(layout, init_prob=estimator.init_prob,
                                  temperature=estimator.temperature).to(dtype=dtype)
        self.head = estimator._make_head(p, q, gen).to(dtype=dtype)
        self.gen_state = gen.get_state()
        self.opt_state = None
        self.mean_loss = 1.0
        self.n_iter = 0
        self.loss_curve = []

    def train(self, estimator, problem, device, weight_seen):
        """One shuffled pass over the chunk; returns the mean objective."""
        gate, head = self.gate.to(device), self.head.to(device)
        gate.set_temperature(estimator.temperature)  # set_params between calls applies
        params = [gate.log_alpha, *head.parameters()]
        opt = Adam(params, estimator.learning_rate_init)  # (torch.optim.Adam's defaults)
        if self.opt_state is not None:
            opt.load_state_dict(self.opt_state)
            # load_state_dict restores the saved learning rate too: without
            # this, set_params(learning_rate_init=...) between calls was ignored.
            for group in opt.param_groups:
                group["lr"] = estimator.learning_rate_init
        gen = torch.Generator(device=device)
        gen.set_state(self.gen_state)
        n, p = problem.X.shape
        bs = estimator.batch_size or min(_DEFAULT_BATCH, n)
        steps = math.ceil(n / bs)
        batches = problem.batches(bs, gen) if bs < n else None
        gate.train()
        total = 0.0
        if estimator.lam == "auto" or estimator._k is not None:
            def lam():  # the price of a gate by the evidence so far
                return _ic_price(problem.datafit, weight_seen, p, self.mean_loss)
        else:
            lam = float(estimator.lam)
        run = adam_steps(problem, gate, head, opt, lam=lam, alpha=estimator.alpha,
                         generator=gen, batches=batches)
        for _, (obj, data, _, lam_t) in zip(range(steps), run):
            value = float(obj)
            _check_finite(value, self.n_iter + 1, lam_t)
            total += value
            self.mean_loss = 0.9 * self.mean_loss + 0.1 * float(data)
            self.n_iter += 1
        self.lam_used = lam_t
        self.loss_curve.append(total / steps)
        self.gen_state = gen.get_state()
        self.opt_state = _to_cpu(opt.state_dict())
        return gate, head

    def park(self):
        """Move the modules back to the CPU (picklable, device-independent)."""
        self.gate, self.head = self.gate.cpu(), self.head.cpu()


class StreamStart:
    """The standardization of all the rows, for a stream told it before its first chunk.

    A Dask fit with an MLP head computes it in one pass of moments over the
    blocks (:func:`skl0._dask._stream_start`), so that the model does not
    depend on which rows the first block holds. ``x_scale``: the columns'
    power-of-two units (:func:`column_scale`, or None); ``x_mean``,
    ``x_std``: float64 in those units, by the rule of ``weighted_moments``;
    ``weight``: the total sample weight, the ``N`` of ``lam="auto"``'s price
    (a stream that passes over the rows several times counts them once);
    for a regression ``y_scale``, ``y_amax`` and ``y_mean``, ``y_std`` in
    that unit, by the rule of :func:`target_moments`.
    """

    def __init__(self, x_scale, x_mean, x_std, weight, y_scale=None, y_amax=None, y_mean=None,
                 y_std=None):
        self.x_scale, self.x_mean, self.x_std, self.weight = x_scale, x_mean, x_std, weight
        self.y_scale, self.y_amax, self.y_mean, self.y_std = y_scale, y_amax, y_mean, y_std


class _Stream:
    def __init__(self, mode, targets, head_config=None):
        self.mode, self.targets = mode, targets
        self.moments = self.sgd = None
        self.weight = 0.0
        self.total_weight = None  # a StreamStart's: the N of the price, fixed
        # The head the first call chose (hidden sizes, activation): a later
        # call with other settings would train one head and export another.
        self.head_config = head_config


def _head_config(estimator):
    sizes = estimator._hidden_sizes()
    return sizes, (estimator.activation if sizes else None)  # a linear head has none


# ---------------------------------------------------------------- the call


def _validate_chunk(estimator, X, y, sample_weight, first):
    check_frame(X)
    check_missing_labels(y)
    X, y = validate_data(
        estimator, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
        multi_output=True, ensure_min_samples=1, y_numeric=False, reset=first,
    )
    X, y = positive_strides(X), positive_strides(y)
    # A chunk whose weights are all zero adds nothing (the steps below say so,
    # and a first chunk so is refused there with the fix).
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True,
                              **ALLOW_ZERO_WEIGHTS)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight must be finite; pass finite, non-negative weights.")
    check_weight_total(sw)
    layout = resolve_groups(estimator.groups, estimator.feature_costs, X.shape[1],
                            getattr(estimator, "feature_names_in_", None))
    if first:
        estimator._groups_layout, estimator._layout = layout, engine_layout(layout)
    elif not _same_layout(layout, getattr(estimator, "_groups_layout", estimator._layout)):
        # The gates (one per group) and their prices were set up by the first call.
        raise ValueError(
            f"groups={_short(estimator.groups)} / feature_costs={_short(estimator.feature_costs)} "
            f"changed since the first partial_fit call ({_describe(estimator._groups_layout)}), "
            "whose gates this stream trains; set them back, or call fit (or a new estimator) "
            "to start again."
        )
    # k is checked on every call: set_params(k=...) between calls applies.
    estimator._k_fit = check_k_fits(estimator.k, estimator.groups, estimator._groups_layout,
                                    X.shape[1], getattr(estimator, "lam", "auto"))
    return X, y, sw


def _same_layout(a, b):
    if a is None or b is None:
        return a is b
    return (np.array_equal(a.index, b.index) and a.labels.tolist() == b.labels.tolist()
            and np.array_equal(a.costs, b.costs))


def _describe(layout):
    if layout is None:
        return "no groups or feature costs"
    if layout.is_identity and layout.raw_costs is not None:
        return "a cost per column"
    return f"{layout.n_groups} groups"


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def partial_fit(estimator, X, y, sample_weight=None, *, classes=None, classifier=False,
                start=None):
    """Add one chunk of rows to ``estimator``'s fit (see the module docstring).

    ``start``: a :class:`StreamStart` for the first call of a stochastic
    stream (a Dask fit's), whose standardization then is that of all the
    rows, not the first chunk's.
    """
    bind_training()  # (a model unpickled in a fresh process has not trained yet)
    with keep_state_on_failure(estimator), grad_enabled():
        return _partial_fit(estimator, X, y, sample_weight, classes, classifier, start)


def _partial_fit(estimator, X, y, sample_weight, classes, classifier, start=None):
    old = getattr(estimator, "_stream", None)
    first = old is None
    X, y, sw = _validate_chunk(estimator, X, y, sample_weight, first)
    p = X.shape[1]
    if first:
        targets = (ClassTargets(estimator, y, classes) if classifier
                   else RegressionTargets(estimator, y, sw))
        exact = not classifier and estimator._is_linear() and p <= GRAM_MAX_FEATURES
        stream = _Stream("exact" if exact else "stochastic", targets, _head_config(estimator))
        # dtype=None: the first chunk's floating dtype, for the whole stream.
        stream.dtype = resolve_dtype(estimator.dtype, X)
        if start is not None:
            if exact:  # (the exact mode's sums are the whole data's already)
                raise AssertionError("a StreamStart is for the stochastic mode")
            stream.total_weight = start.weight
        estimator._x_scale = (column_scale(X, extremes=weighted_extremes(X, sw))
                              if start is None else start.x_scale)
        estimator._x_shift = None
    else:
        stream = copy.deepcopy(old)  # a failed call leaves the old state untouched
        if stream.head_config is not None and _head_config(estimator) != stream.head_config:
            sizes, activation = stream.head_config
            first = (f"hidden layers {sizes}, activation {activation!r}" if sizes
                     else "a linear head: no hidden layers, so no activation")
            raise ValueError(
                f"hidden_layer_sizes={estimator.hidden_layer_sizes!r} / activation="
                f"{estimator.activation!r} changed since the first partial_fit call "
                f"({first}), whose head this stream "
                "trains; set them back, or call fit (or a new estimator) to start again."
            )
        if classifier:
            stream.targets.check_classes(estimator, classes)
        if stream.mode == "exact":
            _widen_scales(estimator, stream, X, y, sw)
    if classifier and estimator.class_weight is not None:
        sw = _stream_class_weights(estimator, stream, y, sw)
    X = divide_columns(X, estimator._x_scale)
    device = resolve_device(estimator.device)
    dtype = stream.dtype
    if first:  # a new stream: what only fit sets does not describe it
        for name in ("n_screened_", "validation_scores_", "head_selection_"):
            vars(estimator).pop(name, None)
    if stream.mode == "exact":
        _exact_step(estimator, stream, X, y, sw, device, dtype)
    else:
        if estimator.k is None and estimator.lam == "auto":  # N in the price of a gate
            check_weight_scale(sw, rule="lam='auto'", class_weighted=estimator._class_weighted)
        _stochastic_step(estimator, stream, X, y, sw, device, dtype, first, start)
    estimator._stream = stream
    estimator.hidden_layer_sizes_ = estimator._hidden_sizes()  # "auto": linear here
    return estimator


def _stream_class_weights(estimator, stream, y, sw):
    """``sw`` times each row's weight from ``class_weight``'s dict (``"balanced"`` is refused)."""
    if isinstance(estimator.class_weight, str):
        raise ValueError(
            "class_weight='balanced' needs the class totals of all the rows, which "
            "partial_fit does not see; pass a dict, e.g. class_weight=dict(zip(classes, "
            "sklearn.utils.class_weight.compute_class_weight('balanced', classes=classes, "
            "y=y_sample))) from the labels of all the rows or of a large enough sample."
        )
    codes = stream.targets.encode(estimator, y).astype(np.intp)  # checks the labels first
    return weigh_classes(sw, estimator.class_weight, estimator.classes_, codes, whole=False)[0]


def _exponent(scale):
    """``e + 1`` for each power of two ``2**e`` in ``scale`` (differences are what count)."""
    return np.frexp(np.asarray(scale, np.float64))[1]


def _widen_scales(estimator, stream, X, y, sw):
    """Raise the column and target units to ``fit``'s on every row seen so far (exact mode).

    The first chunk set them; a later chunk with larger values (a column
    near 1e160 where the first held ones near 1) would overflow the float64
    sums in the old units. The units are powers of two, so the sums so far
    are rescaled exactly and the stream still equals ``fit`` on all rows.
    """
    moments = stream.moments
    old = estimator._x_scale
    old = np.ones(X.shape[1]) if old is None else old
    lo, hi = weighted_extremes(X, sw)
    seen = (moments.x_min * old, moments.x_max * old)  # back in X's units: exact
    new = column_scale(X, extremes=(np.minimum(lo, seen[0]), np.maximum(hi, seen[1])))
    new = np.maximum(np.ones(X.shape[1]) if new is None else new, old)
    dx = _exponent(new) - _exponent(old)
    dy = stream.targets.widen(estimator, y, sw)
    if dx.any() or dy.any():
        moments.rescale(dx, dy)
        estimator._x_scale = None if np.all(new == 1.0) else new


def _exact_step(estimator, stream, X, y, sw, device, dtype):
    Ys = stream.targets.scaled(estimator, y, sw)
    if stream.moments is None:
        if sw.sum() <= 0:
            raise ValueError(
                "The first chunk's sample_weight sums to 0; pass positive weights for at "
                "least one sample of the first chunk."
            )
        stream.moments = _Moments(X, Ys, sw)
    stream.moments.add(X, Ys, sw)
    stream.weight = stream.moments.weight
    datafit = stream.targets.datafit()
    problem, y_mean, y_std, estimator._x_shift = stream.moments.problem(datafit, dtype, device)
    # The rules of fit that read the total weight as n (the chunk's weights
    # tell their scale, as fit's do).
    if estimator.k is None:
        rule = "lam='auto'" if estimator.lam == "auto" else None
    else:
        rule = estimator._linear_k_rule(problem, problem.n_rows)
    if rule is not None:
        check_weight_scale(sw, rule=rule, class_weighted=estimator._class_weighted)
    scale = stream.targets.scale
    estimator._y_mean, estimator._y_std = y_mean * scale, y_std * scale
    gen = make_generator(estimator.random_state, device)
    vars(estimator).pop("n_screened_", None)  # a stream that grew past p rows
    estimator._install(estimator._fit_built(problem, datafit, gen))


def _stochastic_step(estimator, stream, X, y, sw, device, dtype, first, start=None):
    targets = stream.targets
    if first:
        if sw.sum() <= 0 and start is None:
            raise ValueError(
                "The first chunk's sample_weight sums to 0; pass positive weights for at "
                "least one sample of the first chunk."
            )
        targets.fix_standardization(estimator, y, sw, start)
        stream.sgd = _SGDState(estimator, X, sw, X.shape[1], targets.n_outputs, device, dtype,
                               start)
    Y = targets.encode(estimator, y, sw)
    if sw.sum() <= 0:  # nothing to learn from this chunk
        return
    stream.weight += float(sw.sum())
    state = stream.sgd
    shift = getattr(state, "shift", None)
    mean = torch.as_tensor(state.mean if shift is None else state.mean - shift,
                           device=device, dtype=dtype)
    std = torch.as_tensor(state.std, device=device, dtype=dtype)
    w = torch.as_tensor(sw / sw.sum(), device=device, dtype=dtype)
    Yt = targets.tensor(estimator, Y, device, dtype)
    if sp.issparse(X) and shift is not None:
        # A stream that began dense trains on rows shifted by its first
        # chunk's means: a sparse chunk is densified and shifted alike (its
        # rows, unshifted, were standardized with the shifted means: losses
        # of 1e6 on a column of mean 1e8).
        X = X.toarray()
    if sp.issparse(X):
        X = X.tocsr()
        problem = DirectProblem(sparse_to_torch(X, device, dtype), Yt, w, mean, std,
                                targets.datafit(), host=X)
    else:
        problem = DirectProblem(_as_tensor(subtract_columns(X, shift), device, dtype), Yt, w,
                                mean, std, targets.datafit())
    total = getattr(stream, "total_weight", None)  # (None in a stream pickled before it)
    seen = stream.weight if total is None else total
    gate, head = state.train(estimator, problem, device, seen)
    with torch.no_grad():
        layout = getattr(estimator, "_layout", None)
        if estimator._k is not None:
            order = torch.argsort(gate.log_alpha, descending=True)[: estimator._k]
            support = np.sort(order.cpu().numpy())
            if layout is not None:  # log_alpha is per group
                support = layout.columns(support)
        else:
            support = open_gates(gate)
        mask = torch.zeros(X.shape[1], device=device, dtype=dtype)
        mask[torch.as_tensor(support, device=device, dtype=torch.long)] = 1
        z = gate.deterministic() * mask
    estimator.support_ = np.zeros(X.shape[1], dtype=bool)
    estimator.support_[support] = True
    estimator.feature_importances_ = gate.prob_open().detach().cpu().double().numpy()
    estimator.lam_ = float(state.lam_used)
    estimator.n_iter_ = state.n_iter
    estimator.loss_curve_ = list(state.loss_curve)
    estimator._export_groups()
    estimator._export(head, z, mean, std)
    state.park()
