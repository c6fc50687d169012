"""Fitting on Dask arrays and DataFrames: statistics where the data lives.

Nothing is gathered. A fit reads the rows block by block on the workers
and brings back only small results:

- **squared loss, linear head** (:class:`L0Regressor`): one pass computes,
  per block of rows, the total weight, the weighted column means and the
  centred ``X'WX``, ``X'WY`` and ``Y'WY`` in float64 (from sub-blocks of
  about 2 MB), and merges the blocks pairwise with Chan et al.'s update
  for centred sums (no cancellation from a large column mean). The p x p
  result goes into the same :class:`~skl0._problem.GramProblem` and the
  same selection as ``fit`` and ``partial_fit`` on in-memory data, so the
  fitted model equals the in-memory one up to float round-off.
- **binary log loss, linear head** (:class:`L0Classifier`): iteratively
  reweighted least squares. Each outer iteration is one distributed pass
  at the current coefficients, returning the working weights' statistics
  (``X'VX``, ``X'Vz`` with ``v = w p (1 - p)`` and the working response
  ``z``), the log loss and its quadratic model's offset. The selection
  (exact ``k``, ``lam`` or ``lam="auto"``) runs on that quadratic model of
  the log loss, and the coefficients take one Newton step on the chosen
  support (ridge ``alpha`` on standardized coefficients, as the in-memory
  refit). At a fixed point (support unchanged, coefficients still) they
  are the in-memory refit's maximum-likelihood coefficients on that
  support. ``lam`` is in units of mean log loss, as in memory;
  ``lam="auto"`` scores supports by the extended BIC of the log loss's
  quadratic model (exact at the current point, second order elsewhere).
- **multinomial log loss** (K > 2 classes, :class:`L0Classifier`): one
  pass for the weighted Gram matrix, shared by every later quadratic model
  through Boehning's bound on the softmax Hessian; then one pass per outer
  iteration for the loss, the gradient and the exact Hessian on the current
  support (see :func:`_fit_multinomial`).
- **MLP heads**: one pass computes the standardization of all the rows
  (weight, column means and sums of squares, y's moments: the squared-loss
  pass with the diagonal alone, see :func:`_stream_start`); then the
  blocks are streamed through ``partial_fit``'s stochastic mode with it,
  joined on the client into whole mini-batches of ``batch_size`` rows
  (200 by default), in epochs until at least ``max_iter`` Adam steps (see
  :func:`_stream_blocks`); the client holds about one block and one
  mini-batch, never the whole of X.

``predict``, ``decision_function``, ``predict_proba`` and ``transform``
return lazy Dask collections (``map_blocks`` / ``map_partitions``);
``score`` sums per-block counts on the cluster: those, and the row blocks
(:class:`RowBlocks`), are in :mod:`skl0._dask_rows`, which does not
import torch.

The workers run the numpy-only functions of :mod:`skl0._blocks`. Numpy and
torch here; dask is imported only when a dask collection is passed (the
``dask`` extra).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._base import check_weight_scale_from, fresh_fit
from ._blocks import (
    _column_min_max,
    _min_max_merge,
    _softmax_block,
    softmax_hessian,
)
from ._checks import (
    MAX_AUTO_CLASSES,
    check_k_fits,
    infer_task,
    is_dask_collection,
    several_label_columns,
)
from ._dask_rows import (
    RowBlocks,
    _compute_tree,
    _is_frame,
    _labels,
    map_rows,
    score_rows,
    select_columns,
)
from ._datafits import SquaredLoss
from ._device import make_generator, resolve_device, resolve_dtype
from ._groups import engine_layout, resolve_groups
from ._heads import LinearHead
from ._linalg import cholesky, cholesky_solve
from ._numerics import column_scale, power_of_two_scale
from ._problem import GRAM_MAX_FEATURES
from ._streaming import StreamStart, _exponent, _Moments
from ._streaming import partial_fit as _partial_fit
from ._warn import held, warn

__all__ = [
    "fit_classifier",
    "fit_regressor",
    "fit_selector",
    "is_dask_collection",
    "map_rows",
    "score_rows",
    "select_columns",
]

# Rows an MLP head's Dask fit joins small blocks into before a partial_fit
# call under batch_size=None (its stochastic mode's default mini-batch).
_STREAM_BATCH = 200

# Outer IRLS passes of the classifier at most (Newton converges in ~5-10).
_IRLS_MAX_PASSES = 30
# IRLS stops when the support is unchanged and no standardized coefficient
# moved by more than this (the step after is then ~1e-16: Newton's square).
_IRLS_TOL = 1e-8


# A Dask fit refuses columns whose largest magnitude is below this (2**-500):
# their squares, summed in float64 on the workers, would come near the
# subnormals (2**-1022) and lose digits; in memory they are rescaled first.
_TINY_COLUMN = 2.0**-500


def _column_ranges(data, s):
    """(min, max) per column for the constant-column rule of ``weighted_moments``
    and the power-of-two column units of :func:`_in_column_units`.

    Only columns whose spread is at most ~1e-4 of their magnitude can be
    constant; their exact ranges take one more (cheap) pass over those
    columns alone, and only when there is any. Other columns get the range
    ``mean -+ spread``: not a point (the spread is more than 1e-4 of the
    mean; ``mean -+ 1`` was a point past 2**53, a column of nanoseconds
    since 1970 read as constant and dropped), and of the columns' magnitude,
    which is all their units need.
    """
    import dask

    mean = s["mx"]
    sd = np.sqrt(np.maximum(_diagonal(s["xx"]) / s["W"], 0.0))
    suspect = np.flatnonzero(sd <= 1e-4 * np.maximum(np.abs(mean), 1.0))
    lo, hi = mean - sd, mean + sd
    if suspect.size:
        w_parts = data.w_parts or [None] * len(data.x_parts)
        parts = [dask.delayed(_column_min_max)(xb, suspect, wb)
                 for xb, wb in zip(data.x_parts, w_parts)]
        mn, mx = _compute_tree(parts, _min_max_merge, 16)
        lo[suspect], hi[suspect] = mn, mx
    amax = np.maximum(np.abs(lo), np.abs(hi))
    tiny = np.flatnonzero((amax > 0) & (amax < _TINY_COLUMN))
    if tiny.size:
        # (Such columns are suspect: their ranges are exact.) The blocks' float64
        # sums of squares near 1e-300 lose digits to subnormals, silently (the
        # coefficients of a 1e-160 column were 1e-4 to 10% off, at 1e-170 the
        # fit failed with a message blaming NaN).
        cols = tiny.tolist() if data.names is None else [data.names[j] for j in tiny]
        raise ValueError(
            f"X's column(s) {cols[:5]!r} hold no value larger than {_TINY_COLUMN:.3g} in "
            f"magnitude (largest {amax[tiny].max():.3g}): a Dask fit sums their squares in "
            "float64, where they underflow. Multiply those columns by a power of two, e.g. "
            "2.0**500, which changes only their coef_ (by that factor), or fit in memory "
            "(X.compute()), which rescales them itself."
        )
    return lo, hi


def _in_column_units(moments):
    """Put ``moments`` in the power-of-two column units of ``fit``; returns them (or None).

    As in memory (:func:`skl0._numerics.column_scale`), a column whose
    largest magnitude lies outside ``[2**-16, 2**16]`` is divided by a power
    of two near it (exact), so the spread floor of the standardization reads
    it in its own unit: a column near 1e-30 had its spread floored to
    nothing (no feature). The magnitude comes from :func:`_column_ranges`;
    any power of two gives the same standardized problem, exactly.
    """
    scale = column_scale(np.empty((1, moments.x_min.size)),
                         extremes=(moments.x_min, moments.x_max))
    if scale is not None:
        moments.rescale(_exponent(scale) - 1, np.zeros(moments.syy.size, dtype=np.intc))
    return scale


def _standardization(moments, dtype):
    """``moments.standardization(dtype)`` in the columns' own units: (mean, std, const)."""
    scale = _in_column_units(moments)
    mean, std, const = moments.standardization(dtype)
    if scale is not None:
        mean, std = mean * scale, std * scale
    return mean, std, const


def _diagonal(xx):
    """The diagonal of centred sums ``xx`` (p x p, or its diagonal already)."""
    return xx if np.ndim(xx) == 1 else np.diag(xx)


def _check_stats(est, s, p, gram=True):
    """Refuse what a pass's statistics ``s`` show cannot be fitted (``gram``: a linear head's)."""
    if s["n"] < 2:
        raise ValueError(f"X has {s['n']} row(s); fitting needs at least 2 samples.")
    if gram and s["n"] <= p:
        raise ValueError(
            f"X has {s['n']} rows and {p} columns: a Dask fit needs more rows than columns "
            "(it selects from the p x p statistics). Data this small fits in memory: pass "
            "X.compute() and y.compute()."
        )
    if s["negative"]:
        raise ValueError("sample_weight has negative values; pass non-negative weights.")
    if not s["total_w"] > 0:
        raise ValueError(
            f"sample_weight must be finite and not all zero; got a total weight of "
            f"{s['total_w']!r}. Pass positive weights for at least one sample."
        )
    large = ("or values whose squares overflow float64, past about 1e154 in magnitude")
    cols = np.flatnonzero(~(np.isfinite(s["mx"]) & np.isfinite(_diagonal(s["xx"]))))
    if cols.size:
        names = getattr(est, "feature_names_in_", None)
        which = cols.tolist() if names is None else [names[j] for j in cols]
        raise ValueError(
            f"X's column(s) {which[:5]!r} contain NaN or infinity ({large}); drop or impute "
            "the rows that hold NaN or infinity, e.g. X[da.isfinite(X).all(axis=1)], and "
            "divide columns that large by a power of two (e.g. X * 2.0**-500), or fit in "
            "memory (X.compute()), which rescales them."
        )
    if not (np.all(np.isfinite(s["my"])) and np.all(np.isfinite(s["yy"]))):
        raise ValueError(
            f"y contains NaN or infinity ({large}); drop those rows, e.g. with "
            "da.isfinite(y), and divide a y that large by a power of two (e.g. 2.0**-500)."
        )
    finite = all(np.all(np.isfinite(s[k])) for k in ("xx", "xy")) and math.isfinite(s["loss"])
    if not finite:
        raise ValueError(
            f"X, y or sample_weight contains NaN or infinity ({large}); drop or impute "
            "those rows, e.g. with X[da.isfinite(X).all(axis=1)], before fitting, or fit in "
            "memory (X.compute())."
        )


def _check_head(est):
    """Refuse ``hidden_layer_sizes="auto"``: its choice reads the rows in memory.

    The automatic head tests the linear fit's residuals against the squares
    and products of the columns and compares held-out losses; a Dask fit
    has neither (it used to fit the linear head without a word).
    """
    if isinstance(est.hidden_layer_sizes, str):
        raise ValueError(
            f"hidden_layer_sizes={est.hidden_layer_sizes!r} is not available on Dask "
            "collections: choosing the head tests the linear fit's residuals and compares "
            "held-out losses, which needs the rows in memory. Pass hidden_layer_sizes=() "
            "for the linear head (fitted from statistics on the cluster) or a head such as "
            "(64,) (its blocks are streamed), or fit in memory (X.compute(), y.compute()) "
            "to let 'auto' choose."
        )


def _prepare(est, X, y, sample_weight):
    """Blocks of the data, with ``n_features_in_`` / ``feature_names_in_`` set."""
    _check_head(est)
    try:
        import dask  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a dask object implies dask
        raise ImportError("Fitting on Dask collections needs dask: pip install skl0[dask]") from exc
    data = RowBlocks(X, y, sample_weight)
    p = data.n_features
    est.n_features_in_ = p
    if data.names is not None:
        est.feature_names_in_ = data.names
    else:
        vars(est).pop("feature_names_in_", None)
    est._groups_layout = resolve_groups(est.groups, est.feature_costs, p, data.names)
    est._layout = engine_layout(est._groups_layout)
    est._k_fit = check_k_fits(getattr(est, "k", None), est.groups, est._groups_layout, p,
                              getattr(est, "lam", "auto"))
    if est._is_linear() and p > GRAM_MAX_FEATURES:
        raise ValueError(
            f"X has {p} columns; a Dask fit keeps p x p float64 statistics, at most "
            f"{GRAM_MAX_FEATURES} columns ({GRAM_MAX_FEATURES ** 2 * 8 // 2**20} MiB). Screen "
            "the columns first (e.g. keep the few thousand with the largest |X'y| "
            "correlation, one cheap pass) and fit on those; see docs/scale.md."
        )
    return data


def _fit_guard(fit):
    def wrapped(est, X, y, sample_weight=None):
        with fresh_fit(est):
            fit(est, X, y, sample_weight)
            # (an MLP head's stream sets it too; "auto" is refused by _check_head)
            est.hidden_layer_sizes_ = est._hidden_sizes()
        return est

    wrapped.__doc__ = fit.__doc__
    return wrapped


def _stream_start(est, data, classes=None):
    """An MLP head's standardization from all the rows: one pass of moments.

    The pass of the linear fits (:func:`_block_stats`, merged by Chan's
    update), with the columns' sums of squares alone (``diagonal``), then
    the rules of the in-memory fit: power-of-two column units
    (:func:`_in_column_units`), spreads floored and constant columns found
    as ``weighted_moments`` does (exactly, :func:`_column_ranges`), and for
    a regression y's unit, mean and spread as :func:`target_moments`.
    """
    s = data.reduce(classes=classes, diagonal=True)
    _check_stats(est, s, data.n_features, gram=False)
    p, q = s["xy"].shape
    moments = _Moments.from_centred(s["W"], s["mx"], s["xx"], np.zeros(q), np.zeros((p, q)),
                                    np.zeros(q), _column_ranges(data, s),
                                    (np.zeros(q), np.zeros(q)))
    x_scale = _in_column_units(moments)
    x_mean, x_std, _ = moments.standardization(np.dtype(data.dtype).name)  # columns' units
    if classes is not None:
        return StreamStart(x_scale, x_mean, x_std, s["total_w"])
    with np.errstate(under="ignore"):  # (targets near 1e-160: benign)
        y_scale = power_of_two_scale(s["y_absmax"])
        y_mean, y_min = s["my"] / y_scale, s["y_min"] / y_scale
        y_std = np.sqrt(np.maximum(s["yy"] / s["W"], 0.0)) / y_scale
    constant = s["y_min"] == s["y_max"]  # its mean is its value: exact zeros (target_moments)
    y_mean = np.where(constant, y_min, y_mean)
    flat = constant | (y_std <= np.finfo(float).eps * np.maximum(np.abs(y_mean), 1.0))
    y_std = np.where(flat, 1.0, y_std)
    return StreamStart(x_scale, x_mean, x_std, s["total_w"], y_scale, s["y_absmax"], y_mean,
                       y_std)


def _stream_blocks(est, data, classes=None):
    """MLP heads: ``partial_fit``'s stochastic mode over the blocks, a few rows on the client
    at a time.

    The standardization is all the rows' (:func:`_stream_start`); blocks
    smaller than a mini-batch (``batch_size``, default 200 rows) are joined
    on the client until they hold one, so that no Adam step sees fewer rows
    because of the chunking; whole passes over the blocks follow one another
    until they have taken at least ``max_iter`` Adam steps (one pass when
    the first takes that many).
    """
    start = _stream_start(est, data, classes)
    vars(est).pop("_stream", None)
    rows = est.batch_size or _STREAM_BATCH
    while True:
        for Xb, Yb, Wb in _joined_blocks(data, classes, rows):
            _partial_fit(est, Xb, Yb, Wb, classes=classes, classifier=classes is not None,
                         start=None if hasattr(est, "_stream") else start)
        if not hasattr(est, "_stream"):
            raise ValueError(
                "X has 0 rows (every block is empty); fitting needs at least 2 samples.")
        if est.n_iter_ >= est.max_iter:
            return


def _joined_blocks(data, classes, rows):
    """(X, y, sample_weight) of consecutive blocks' rows, in whole mini-batches of ``rows``.

    Each piece holds a multiple of ``rows`` rows (what is left over joins
    the next blocks), the last of a pass what remains; so the mini-batches
    are the same size however the rows are chunked. Blocks are computed a
    few at a time when they are small (one task per block cost more than
    its rows on 1-row blocks); the client holds about one block and one
    mini-batch of rows. Empty blocks are skipped.
    """
    import dask

    held, n, at, many = [], 0, 0, 1
    total = len(data.x_parts)
    while at < total:
        idx = range(at, min(at + many, total))
        at = idx.stop
        got = dask.compute(*[(data.x_parts[i], data.y_parts[i],
                              None if data.w_parts is None else data.w_parts[i]) for i in idx])
        size = sum(Xb.shape[0] for Xb, _, _ in got)
        # the next ones: about a mini-batch of rows of blocks like these (64 at most)
        many = int(np.clip(rows * len(got) // max(size, 1), 1, 64))
        for Xb, Yb, Wb in got:
            if Xb.shape[0] == 0:  # (a partition a filter emptied adds nothing)
                continue
            if classes is not None and np.ndim(Yb) == 2:
                # One column of labels (_check_labels_1d refused more): read as
                # labels, as the linear Dask fit does, without partial_fit's
                # column-vector warning on every block.
                Yb = Yb.iloc[:, 0] if hasattr(Yb, "iloc") else np.ravel(Yb)
            held.append((Xb, Yb, Wb))
            n += Xb.shape[0]
            if n >= rows:
                whole = n - n % rows
                piece = _join(held)
                yield tuple(_rows(a, slice(whole)) for a in piece)
                held = [tuple(_rows(a, slice(whole, None)) for a in piece)] if whole < n else []
                n -= whole
    if held:
        yield _join(held)


def _rows(a, which):
    """Rows ``which`` (a slice) of an array, a pandas object or None, by position."""
    return None if a is None else a.iloc[which] if hasattr(a, "iloc") else a[which]


def _join(blocks):
    """One (X, y, sample_weight) of the rows of ``blocks``, in order."""
    if len(blocks) == 1:
        return blocks[0]

    def cat(parts):
        if parts[0] is None:
            return None
        if hasattr(parts[0], "iloc"):
            import pandas as pd

            return pd.concat(parts)
        return np.concatenate([np.asarray(a) for a in parts])

    return tuple(cat(list(parts)) for parts in zip(*blocks))


def _check_weight_scale(est, s, total):
    """The in-memory fit's weight-scale warning, from a pass's weight summaries.

    Where a rule of ``est`` reads the total weight as its sample size
    (:meth:`skl0._base.BaseL0._weight_counting_rule`), as the in-memory
    fit checks it: ``lam="auto"`` and ``keep_redundant=True``. The two
    exact-``k`` rules it checks given the built problem do not apply here:
    a Dask fit needs more rows than columns (a Gram problem, which is never
    screened, in memory either), and its multinomial exact ``k`` ranks
    supports on Boehning's bound (a Gram problem) without the in-memory
    refits' ``1 / (2 n)`` ridge (:func:`skl0._splice_refits.selection_refits`), so
    neither reads the weights' scale (the same fit at any scale:
    ``test_weight_scale_warnings_are_those_of_the_rules_a_dask_fit_reads``).
    """
    rule = est._weight_counting_rule()
    if rule is not None:
        check_weight_scale_from(s["w_pos"] / max(s["n_pos"], 1), s["n_pos"], total, rule)


@_fit_guard
def fit_regressor(est, X, y, sample_weight=None):
    """``L0Regressor.fit`` on Dask collections (see the module docstring)."""
    data = _prepare(est, X, y, sample_weight)
    p = data.n_features
    bad = [dt for dt in _column_dtypes(data.y) if _kind(dt) not in "fiub"]
    if data.y_ndim == 2 and bad:
        raise ValueError(f"y must be numeric for {type(est).__name__}; got dtype {bad[0]}.")
    if not est._is_linear():
        _stream_blocks(est, data)
        return
    s = data.reduce()
    _check_stats(est, s, p)
    q = s["my"].shape[0]
    # exact: powers of two; max|y| over the rows of positive weight, as in
    # memory (weightless rows' targets add nothing: _blocks._block_stats)
    scale = power_of_two_scale(s["y_absmax"])
    moments = _Moments.from_centred(
        s["W"], s["mx"], s["xx"], s["my"] / scale, s["xy"] / scale, s["yy"] / scale**2,
        _column_ranges(data, s), (s["y_min"] / scale, s["y_max"] / scale),
    )
    dtype = resolve_dtype(est.dtype, data)
    device = resolve_device(est.device)
    datafit = SquaredLoss(q)
    est._x_scale = _in_column_units(moments)
    problem, y_mean, y_std, est._x_shift = moments.problem(datafit, dtype, device)
    est._y_ndim = data.y_ndim
    est._y_mean, est._y_std = y_mean * scale, y_std * scale
    _check_weight_scale(est, s, s["total_w"])
    est._fit_problem(problem, datafit, make_generator(est.random_state, device))


class _QuadraticLogLoss(SquaredLoss):
    """Squared loss standing for a log loss through its IRLS quadratic model.

    The Gram problem's mean squared error ``mse`` (working response,
    standardized) maps back to the log loss's deviance, so that
    ``lam="auto"``'s extended BIC charges features against the log
    likelihood, as in memory.
    """

    def __init__(self, n, loss, r0, unit):
        super().__init__(1)
        self.n, self.loss, self.r0, self.unit = n, loss, r0, unit

    def gram_deviance(self, mse):
        return 2.0 * self.n * (self.loss + 0.5 * (self.unit * float(mse.sum()) - self.r0))


def _lost_trial(trial, tried, rejected):
    """Back to the point a support change left, and its support, until it converges.

    The new support ``tried`` stopped improving (or converged) above that
    point's loss: the quadratic model's choice lost on the exact loss, and
    joins ``rejected`` (never proposed again). Returns ``(coef, intercept,
    support, B, fixed, trial)`` for the IRLS loop.
    """
    rejected.add(tried.tobytes())
    coef, intercept, _, support, B = trial
    return coef, intercept, support, B, support, None


@np.errstate(under="ignore")  # columns near 1e-160: their squares underflow (benign)
def _newton_on_support(s, support, mean, std, n, alpha):
    """One IRLS (Newton) step of the ridge-penalised logistic loss on ``support``.

    Solves ``(M / n + 2 alpha I) B = c / n`` in standardized coordinates,
    ``M`` and ``c`` the working weights' centred sums; returns standardized
    ``B``, and the raw coefficients and intercept.
    """
    p = mean.shape[0]
    coef = np.zeros(p)
    B = np.zeros(support.size)
    if support.size:
        sd = std[support]
        M = s["xx"][np.ix_(support, support)] / n / np.outer(sd, sd)
        c = s["xy"][support, 0] / n / sd
        M[np.diag_indices_from(M)] += 2.0 * alpha + 1e-12 * max(float(M.diagonal().max()), 1e-300)
        B = np.linalg.solve(M, c)
        coef[support] = B / sd
    intercept = float(s["my"][0] - s["mx"] @ coef)
    return B, coef, intercept


def _select_quadratic(est, params, problem, datafit, device, x_units, y_ndim, y_mean, y_std):
    """The selection on a quadratic model of the log loss: a scratch
    :class:`L0Regressor` (``params``) fitted on ``problem``, its warnings
    dropped (the quadratic model's are not the user's). ``x_units`` is the
    problem's ``(x_shift, x_scale)``."""
    from ._regressor import L0Regressor

    scratch = L0Regressor(**params)
    scratch._layout = est._layout  # groups / feature_costs, as in memory
    scratch._k_fit = est._k_fit  # k as the fit reads it (at most the columns or groups)
    (scratch._x_shift, scratch._x_scale), scratch._y_ndim = x_units, y_ndim
    scratch._y_mean, scratch._y_std = y_mean, y_std
    held(scratch._fit_problem, problem, datafit, make_generator(est.random_state, device))
    return scratch


def _check_labels_1d(y):
    """Refuse a y of several columns, as scikit-learn's ``column_or_1d`` does in memory.

    (Its blocks were raveled, and the error said that y's blocks had twice
    X's rows.) One column is read as labels, as in memory.
    """
    if y.ndim != 2:
        return
    q = len(y.columns) if _is_frame(y) else y.shape[1]
    if q == 1:
        return
    n = y.shape[0] if isinstance(y.shape[0], int) and not _is_frame(y) else "n_samples"
    raise several_label_columns(n, q)


@_fit_guard
def fit_classifier(est, X, y, sample_weight=None):
    """``L0Classifier.fit`` on Dask collections (see the module docstring)."""
    if est.class_weight is not None:
        raise ValueError(
            f"class_weight={est.class_weight!r} is not supported for a Dask X: pass the "
            "class weights as sample_weight instead, e.g. sample_weight=y.map_blocks(lambda "
            "b: np.vectorize(lambda c: weights.get(c, 1.0))(b)) for a dict of class "
            "weights (times any sample weights), or fit in memory."
        )
    data = _prepare(est, X, y, sample_weight)
    p = data.n_features
    _check_labels_1d(data.y)
    classes = data.labels()
    if classes.dtype.kind in "fc" and not np.isfinite(classes).all():
        kind = "NaN" if np.isnan(classes).any() else "infinity"
        raise ValueError(f"Input y contains {kind}.")  # (as validation says in memory)
    if classes.size == 0:  # (a linear fit's pass would say so; an MLP head's stream reads none)
        raise ValueError("X has 0 rows (every block is empty); fitting needs at least 2 samples.")
    if classes.size < 2:
        raise ValueError(
            f"y holds a single class ({classes.tolist()[0]!r}); a classifier needs at least "
            "2 classes in y."
        )
    est.classes_ = classes
    if not est._is_linear():
        _stream_blocks(est, data, classes)
        return
    dtype = resolve_dtype(est.dtype, data)
    device = resolve_device(est.device)
    params = est.get_params()  # a new dict: ours to change
    params["verbose"] = 0
    del params["class_weight"]  # (None here) the scratch regressors have none
    if classes.size > 2:
        _fit_multinomial(est, data, classes, dtype, device, params)
        return
    coef, intercept = np.zeros(p), 0.0
    prev = None  # (coef, intercept, loss, support, B) of the last accepted point
    losses, scratch, support, B, n_pass = [], None, None, None, 0
    converged = False
    # A change of support that raised the loss is put on trial: Newton steps
    # on the new support alone until it beats the point it left (then the
    # selection goes on) or stops improving (then that point and its
    # support are restored, Newton steps on it run to convergence, and the
    # selection runs again there, never proposing a rejected support: the
    # quadratic model's choice lost on the exact loss). ``trial`` is (coef,
    # intercept, loss, support, B) of the point left; ``fixed`` the support
    # the steps keep without selecting.
    trial, fixed, trial_loss, rejected = None, None, math.inf, set()
    while n_pass < _IRLS_MAX_PASSES:
        s = data.reduce(classes=classes, coef=coef, intercept=intercept)
        n_pass += 1
        _check_stats(est, s, p)
        N = s["total_w"]
        loss = s["loss"] / N
        if prev is None:
            if s["y_min"][0] == s["y_max"][0]:
                kept = classes[int(s["y_min"][0])]
                raise ValueError(
                    f"sample_weight is zero on every sample but those of class {kept!r}; a "
                    "classifier needs at least 2 classes with positive weight."
                )
            # At coef = 0 the working weights are w / 4: these are the
            # sample-weighted moments, the standardization of the fit.
            x_range = _column_ranges(data, s)
            mean, std, _ = _standardization(_Moments.from_centred(
                s["W"], s["mx"], s["xx"], s["my"], s["xy"], s["yy"],
                x_range, (s["y_min"], s["y_max"])), dtype)
            _check_weight_scale(est, s, N)
        elif (loss > prev[2] + 1e-12 * max(1.0, abs(prev[2])) and n_pass < _IRLS_MAX_PASSES
              and np.array_equal(support, prev[3])):
            # A full Newton step on the same support raised the loss: halve
            # it (one more pass). Not across a change of support: the average
            # of two supports' coefficients has the columns of both (k + 1
            # under k), a loss no k-column point reaches.
            coef, intercept = (coef + prev[0]) / 2, (intercept + prev[1]) / 2
            continue
        if trial is not None:
            if loss <= trial[2]:
                trial, fixed = None, None  # the new support won: select again
            elif loss >= trial_loss - 1e-12 * max(1.0, abs(trial_loss)):
                coef, intercept, support, B, fixed, trial = _lost_trial(trial, fixed, rejected)
                prev = (coef, intercept, math.inf, support, B)
                continue
            else:
                trial_loss = loss
        elif (prev is not None and np.isfinite(prev[2]) and not np.array_equal(support, prev[3])
              and loss > prev[2] + 1e-12 * max(1.0, abs(prev[2]))):
            trial, fixed, trial_loss = prev, support, loss
        losses.append(loss)
        unit = s["W"] / N * (s["yy"][0] / s["W"])  # log loss per unit of the model's mse
        datafit = _QuadraticLogLoss(N, loss, s["r0"] / N, unit)
        moments = _Moments.from_centred(
            s["W"], s["mx"], s["xx"], s["my"], s["xy"], s["yy"], x_range,
            (s["my"] - 1.0, s["my"] + 1.0))  # the working response is never constant
        x_scale = _in_column_units(moments)
        problem, y_mean, y_std, x_shift = moments.problem(datafit, dtype, device)
        problem.n_samples = N
        lam = params["lam"] if params["lam"] == "auto" else 2.0 * float(params["lam"]) / unit
        if fixed is None or scratch is None:
            scratch = _select_quadratic(est, {**params, "lam": lam}, problem, datafit, device,
                                        (x_shift, x_scale), 1, y_mean, y_std)
            new_support = np.flatnonzero(scratch.support_)
            if support is not None and new_support.tobytes() in rejected:
                new_support = support  # lost its trial already: stay
        else:
            new_support = fixed
        new_B, new_coef, new_intercept = _newton_on_support(s, new_support, mean, std, N,
                                                            est.alpha)
        same = support is not None and np.array_equal(new_support, support)
        moved = np.max(np.abs(new_B - B)) if same and new_B.size else 0.0
        prev = (coef, intercept, loss, np.zeros(0, np.int64) if support is None else support, B)
        support, B, coef, intercept = new_support, new_B, new_coef, new_intercept
        if same and moved <= _IRLS_TOL:
            if trial is not None:  # the new support's optimum: above the point it left
                coef, intercept, support, B, fixed, trial = _lost_trial(trial, fixed, rejected)
                prev = (coef, intercept, math.inf, support, B)
                continue
            if fixed is not None:  # the restored support converged: select again there
                fixed = None
                continue
            converged = True
            break
    head = LinearHead(p, 1).to(torch.float64)
    with torch.no_grad():
        head.weight.zero_()
        head.weight[support, 0] = torch.as_tensor(B)
        head.bias.fill_(intercept + float(mean @ coef))  # standardized intercept
    _export_classifier(
        est, scratch, support, head, mean, std, lam=float(scratch.lam_) * unit / 2.0,
        n_pass=n_pass, losses=losses, converged=converged,
        how=f"{_IRLS_MAX_PASSES} passes over X (IRLS)",
    )


class _BoundLogLoss(SquaredLoss):
    """Squared loss over K outputs standing for the multinomial log loss.

    Through Boehning's bound ``(I - 11'/K) / 2`` on the softmax Hessian, the
    log loss near the current point is bounded by a least-squares problem
    with K outputs sharing one Gram matrix; its mean squared error ``mse``
    (per output, working responses on one common scale) maps back to the
    deviance of that bound, equal to the log loss's at the current point.
    """

    def __init__(self, n_outputs, n, loss, r0, unit):
        super().__init__(n_outputs)
        self.n, self.loss, self.r0, self.unit = n, loss, r0, unit
        self.df_per_feature = n_outputs - 1  # as MultinomialLogLoss

    def gram_deviance(self, mse):
        return 2.0 * self.n * (self.loss + self.unit * float(mse.sum()) - self.r0)


def _contrasts(K):
    """K x (K - 1) orthonormal basis of the vectors whose entries sum to zero."""
    Q, _ = np.linalg.qr(np.eye(K)[:, 1:] - 1.0 / K)
    return Q


def _softmax_newton(st, support, coef, intercept, N, alpha):
    """Newton step of the ridge-penalised multinomial loss on ``support``.

    ``st`` holds the exact Hessian's pieces on ``support`` and the intercept
    (``UU``, ``D``) and the gradient; the step is taken in the coordinates
    of the class-sum-zero subspace (where the softmax Hessian is definite
    and where the in-memory refit's solution lies). Returns the change of
    ``coef[support]`` and of ``intercept``.
    """
    K = intercept.size
    h = support.size
    H = softmax_hessian(st["UU"], st["D"], K) / N
    ridge = np.zeros((h + 1, K))
    ridge[:h] = 2.0 * alpha
    H[np.diag_indices_from(H)] += ridge.ravel()
    neg_grad = np.vstack([st["g"][support] / N - 2.0 * alpha * coef[support],
                          st["gsum"][None, :] / N])
    T = np.kron(np.eye(h + 1), _contrasts(K))
    Hr = T.T @ H @ T
    Hr[np.diag_indices_from(Hr)] += 1e-12 * max(float(Hr.diagonal().max()), 1e-300)
    step = (T @ np.linalg.solve(Hr, T.T @ neg_grad.ravel())).reshape(h + 1, K)
    return step[:h], step[h]


# The exact Hessian on the support costs ((s + 1) K)^2 per row; past this
# size the multinomial fit takes bound steps (no Hessian) instead, and
# ends once Boehning's step on an unchanged support would move no
# coefficient by more than _IRLS_TOL. On an unchanged support the steps
# are L-BFGS steps with Boehning's bound as the initial Hessian
# (_BoundLBFGS): the bound's own steps converge linearly, slowly where the
# class probabilities are far from uniform (10 classes, 26 kept columns:
# 125 passes to a 3e-7 gap to the in-memory refit, past the 60-pass cap).
_NEWTON_MAX_PARAMETERS = 256
_SOFTMAX_MAX_PASSES = 60
_BOUND_LBFGS_MEMORY = 10


def _bound_matrix(G, support, alpha):
    """``G_SS + 4 alpha I`` (plus a 1e-12 relative jitter): twice Boehning's bound on ``support``'s coefficients."""
    M = G[np.ix_(support, support)]
    M[np.diag_indices_from(M)] += 4.0 * alpha + 1e-12 * max(float(M.diagonal().max()), 1e-300)
    return M


class _BoundLBFGS:
    """L-BFGS on one support with Boehning's bound ``B`` as its initial Hessian.

    ``x`` is ``(coef[support], intercept)`` flattened; on the coefficients
    ``B = M / 2`` for every class (``M`` of :func:`_bound_matrix`: the
    least-squares problem the bound step solves), on the intercepts ``I / 2``. With no
    stored pairs the direction is the bound's own step ``-B^-1 grad``; each
    pass on the same support adds the pair (change of ``x``, change of the
    gradient), and the two-loop recursion (Nocedal & Wright, Algorithm 7.4)
    turns the bound's linear rate into L-BFGS's.
    """

    def __init__(self, support, M):
        self.support, self.pairs, self.last = support, [], None
        self.factor = cholesky(M)

    def bound_step(self, v, K):
        """``-B^-1 v`` (the bound's step for gradient ``v``)."""
        h = self.support.size
        out = np.empty_like(v)
        out[: h * K] = -2.0 * cholesky_solve(self.factor, v[: h * K].reshape(h, K)).ravel()
        out[h * K :] = -2.0 * v[h * K :]
        return out

    def direction(self, x, grad, K):
        """The L-BFGS direction at ``x`` (after storing the pair from the last call)."""
        if self.last is not None:
            s_, y_ = x - self.last[0], grad - self.last[1]
            if _BOUND_LBFGS_MEMORY and float(s_ @ y_) > 1e-12 * float(y_ @ y_):
                # (s'y > 0 holds on a convex loss but for round-off)
                self.pairs = (self.pairs + [(s_, y_)])[-_BOUND_LBFGS_MEMORY:]
        self.last = (x, grad)
        q = grad.copy()
        alphas = []
        for s_, y_ in reversed(self.pairs):
            a = float(s_ @ q) / float(y_ @ s_)
            alphas.append(a)
            q -= a * y_
        r = -self.bound_step(q, K)
        for (s_, y_), a in zip(self.pairs, reversed(alphas)):
            b = float(y_ @ r) / float(y_ @ s_)
            r += (a - b) * s_
        return -r


def _fit_multinomial(est, data, classes, dtype, device, params):
    """Multinomial log loss on Dask collections: one distributed pass per outer iteration.

    Pass 1 gives the weighted Gram matrix of X (once: it is shared by every
    later quadratic model) and the gradient at the intercept-only model.
    Each later pass, at the current coefficients, returns the log loss, the
    gradient ``X~'W(Y - P)`` for every column, and the exact Hessian on the
    current support. The selection (exact ``k``, ``lam``, ``lam="auto"``)
    runs on Boehning's quadratic bound of the log loss around the current
    point: a K-output least-squares problem with the shared Gram matrix
    and working responses ``Z = X~ coef + intercept + 2 (Y - P)``. The
    coefficients then take a Newton step (exact Hessian) when the support
    is the current one (past ``_NEWTON_MAX_PARAMETERS`` an L-BFGS step from
    the bound, :class:`_BoundLBFGS`), else the bound's minimiser on the new
    support.
    A fixed point is the in-memory refit's ridge-penalised multinomial
    maximum likelihood on its support.
    """
    from ._problem import GramProblem

    p, K = data.n_features, classes.size
    s = data.reduce(classes=classes, onehot=True)
    _check_stats(est, s, p)
    absent = classes[s["y_max"] < 1]
    if absent.size:
        raise ValueError(
            f"sample_weight is zero on every sample of class(es) {absent.tolist()!r}; a Dask "
            f"fit of the {K}-class log loss needs positive weight in every class. Drop "
            "those rows (and their label), or give them a positive weight."
        )
    N = s["total_w"]
    moments = _Moments.from_centred(s["W"], s["mx"], s["xx"], s["my"], s["xy"], s["yy"],
                                    _column_ranges(data, s), (s["y_min"], s["y_max"]))
    x_scale = _in_column_units(moments)
    mean, std, const = moments.standardization(dtype)
    base, _, _, x_shift = moments.problem(SquaredLoss(K), dtype, device)
    if x_scale is not None:  # (the passes over X read its own units)
        mean, std = mean * x_scale, std * x_scale
    keep = (~const).astype(np.float64)
    with np.errstate(under="ignore"):  # (columns near 1e-160: benign underflow)
        G = s["xx"] / N / np.outer(std, std) * np.outer(keep, keep)
    _check_weight_scale(est, s, N)
    alpha = float(est.alpha)

    def t(a):
        return torch.as_tensor(a, device=device, dtype=dtype)

    # Start: the intercept-only maximum likelihood (log class shares); pass 1
    # already holds its statistics.
    share = s["my"]
    intercept = np.log(share) - np.log(share).mean()
    coef = np.zeros((p, K))
    st = {"loss": -N * float(share @ np.log(share)), "g": s["xy"] / std[:, None] * keep[:, None],
          "gsum": np.zeros(K), "r2": s["yy"].copy()}
    n_pass, losses, hess, prev = 1, [], None, None
    converged, newton, bound_only, support_now = False, False, False, None
    accelerated, lbfgs = False, None
    while True:
        loss = st["loss"] / N
        objective = loss + alpha * float((coef * coef).sum())
        if (newton or accelerated) and objective > prev[2] + 1e-12 * max(1.0, abs(prev[2])):
            # A Newton or L-BFGS step raised the objective: halve it (one more
            # pass); L-BFGS starts again from the bound.
            coef, intercept = (coef + prev[0]) / 2, (intercept + prev[1]) / 2
            lbfgs = None
        else:
            losses.append(loss)
            g = st["g"] / N
            var_r = np.maximum(st["r2"] / N - (st["gsum"] / N) ** 2, 0.0)
            c = G @ coef + 2.0 * g
            var_z = np.maximum(np.einsum("jk,jk->k", coef, G @ coef + 4.0 * g) + 4.0 * var_r,
                               0.0)
            sigma2 = max(float(var_z.mean()), 1e-300)
            unit = sigma2 / 4.0  # mean log loss per unit of one output's mse
            datafit = _BoundLogLoss(K, N, loss, float(var_r.sum()), unit)
            problem = GramProblem.from_statistics(base.G, t(c / np.sqrt(sigma2)),
                                                  t(var_z / sigma2), base.mean, base.std,
                                                  datafit, N)
            lam = params["lam"] if params["lam"] == "auto" else float(params["lam"]) / (K * unit)
            scratch = _select_quadratic(est, {**params, "lam": lam, "alpha": 2.0 * alpha},
                                        problem, datafit, device, (x_shift, x_scale), 2,
                                        np.zeros(K),
                                        np.full(K, np.sqrt(sigma2)))
            support = np.flatnonzero(scratch.support_)
            newton = hess is not None and np.array_equal(support, hess)
            accelerated = False
            prev = (coef, intercept, objective)
            new = np.zeros((p, K))
            if newton:
                d_coef, d_icpt = _softmax_newton(st, support, coef, intercept, N, alpha)
                new[support] = coef[support] + d_coef
                intercept = intercept + d_icpt
                moved = max(np.abs(d_coef).max(initial=0.0), np.abs(d_icpt).max())
            elif bound_only and support.size and np.array_equal(support, support_now):
                # Too many parameters for the Hessian: an L-BFGS step on the
                # same support, from the bound (whose own step, if tiny, ends
                # the fit).
                if lbfgs is None or not np.array_equal(lbfgs.support, support):
                    lbfgs = _BoundLBFGS(support, _bound_matrix(G, support, alpha))
                x = np.concatenate([coef[support].ravel(), intercept])
                grad = np.concatenate([(2.0 * alpha * coef[support] - g[support]).ravel(),
                                       -st["gsum"] / N])
                moved = float(np.abs(lbfgs.bound_step(grad, K)).max())
                x = x + lbfgs.direction(x, grad, K)
                new[support] = x[: support.size * K].reshape(support.size, K)
                intercept = x[support.size * K :]
                accelerated = True
            else:  # the bound's minimiser on the new support
                if support.size:
                    new[support] = np.linalg.solve(_bound_matrix(G, support, alpha), c[support])
                d_icpt = 2.0 * st["gsum"] / N
                intercept = intercept + d_icpt
                moved = np.inf
            coef = new
            if moved <= _IRLS_TOL:
                converged = True
                break
        if n_pass >= _SOFTMAX_MAX_PASSES:
            break
        support_now = np.flatnonzero(np.any(coef != 0, axis=1))
        bound_only = (support_now.size + 1) * K > _NEWTON_MAX_PARAMETERS
        hess = None if bound_only else support_now
        st = data.sum_blocks(_softmax_block, classes=classes, mean=mean, std=std, coef=coef,
                             intercept=intercept, hess=hess)
        n_pass += 1
        if not math.isfinite(st["loss"]):
            raise ValueError(
                "The multinomial log loss became non-finite on the cluster; the data may "
                "be separable: raise alpha (e.g. alpha=1e-2)."
            )
    head = LinearHead(p, K).to(torch.float64)
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(coef))
        head.bias.copy_(torch.as_tensor(intercept))
    _export_classifier(
        est, scratch, support, head, mean, std, lam=float(scratch.lam_) * K * unit,
        n_pass=n_pass, losses=losses, converged=converged,
        how=f"{_SOFTMAX_MAX_PASSES} passes over X",
    )


def _export_classifier(est, scratch, support, head, mean, std, *, lam, n_pass, losses,
                       converged, how):
    """Fitted attributes of a Dask classifier fit from its final head (standardized units).

    ``lam`` is in units of the mean log loss; ``scratch`` is the estimator
    whose selections ran on the quadratic models (its gate probabilities
    are reported).
    """
    if not converged:
        from sklearn.exceptions import ConvergenceWarning

        warn(
            f"The Dask fit of L0Classifier did not converge in {how}: the support or the "
            "coefficients still moved. The data may be separable: raise alpha "
            "(e.g. alpha=1e-2).",
            ConvergenceWarning,
        )
    p = head.weight.shape[0]
    est.support_ = np.zeros(p, dtype=bool)
    est.support_[support] = True
    est.feature_importances_ = scratch.feature_importances_
    est._export_groups()
    est.lam_ = lam
    est.n_iter_ = n_pass
    est.loss_curve_ = losses
    est._x_shift, est._x_scale = None, None
    t = torch.as_tensor
    est._export(head, t(est.support_.astype(np.float64)), t(mean), t(std))
    if not support.size:
        warn(
            f"No feature was selected (lam={est.lam_:.3g}); the model predicts the "
            "intercept only. Lower lam or set k to keep features.",
        )


def fit_selector(sel, X, y, sample_weight=None):
    """``L0FeatureSelector.fit`` on Dask collections: the task from y's values, then the fit."""
    with fresh_fit(sel):  # nothing of an earlier fit survives (group_labels_, ...)
        _check_head(sel)  # before task="auto" reads y
        task = sel.task
        if task == "auto":
            task = _infer_task(y)
        cls = sel._estimators[task]
        est = cls(**sel._estimator_params(cls))
        est.fit(X, y, sample_weight=sample_weight)
        sel.n_features_in_ = est.n_features_in_
        if hasattr(est, "feature_names_in_"):
            sel.feature_names_in_ = est.feature_names_in_
        sel._take_fitted(est)  # the attributes the in-memory fit takes
    return sel


def _column_dtypes(y):
    """The dtype of each column of a Dask DataFrame ``y``, or ``[y.dtype]``."""
    import pandas as pd

    dtypes = getattr(y, "dtypes", None)
    return list(dtypes) if isinstance(dtypes, pd.Series) else [y.dtype]


def _kind(dtype):
    """A numpy dtype's kind; pandas extension dtypes (string, Int64, boolean,
    Float64) have one too; a categorical counts as labels ("O")."""
    return "O" if hasattr(dtype, "categories") else getattr(dtype, "kind", "O")


def _infer_task(y):
    """``task="auto"`` on a Dask y: the rule of :func:`skl0._checks.infer_task`.

    Only y's distinct values are gathered, and only up to
    ``MAX_AUTO_CLASSES + 1`` of them. An in-memory y (numpy, pandas, a
    list) beside a Dask X is read as ``fit`` reads it in memory.
    """
    if not is_dask_collection(y):
        return infer_task(y)
    dtypes = _column_dtypes(y)
    if len(dtypes) != 1 or (not _is_frame(y) and getattr(y, "ndim", 1) == 2
                            and y.shape[1] != 1):
        return "regression"
    if _kind(dtypes[0]) in "OUSb":
        return "classification"
    y_parts = list(y.to_delayed().ravel()) if not _is_frame(y) else list(y.to_delayed())
    levels = _labels(y_parts, limit=MAX_AUTO_CLASSES)
    return "regression" if levels is None else infer_task(levels)


# ------------------------------------------------------------- lazy output
