"""Shared scikit-learn shell of the L0 estimators.

``__init__`` stores; ``fit`` validates, moves data to the device, calls the
training core, and exports numpy attributes. Task differences (target
encoding, datafit, output transform) are small hooks in the subclasses.

torch and the training core (``_engine``, ``_gate_path``, ``_problem``,
...) are not imported at the top: :func:`bind_training` binds them here
on the first fit. A fitted model is numpy arrays predicted by
:mod:`skl0._layers`, so unpickling one and predicting imports neither
(a fresh process that loads a model and predicts: about 0.85 CPU s and
185 MB, against 1.66 s and 365 MB with torch).
"""

from __future__ import annotations

import functools
import os
import threading
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted

from ._checks import (
    check_frame,
    check_k_fits,
    check_missing_labels,
    is_count,
    is_dask_collection,
)
from ._compat import _check_sample_weight, _fit_context, validate_data
from ._layers import forward, predict_forward
from ._numerics import (
    NonFiniteLossError,
    column_extremes,
    column_scale,
    column_shift,
    divide_columns,
    subtract_columns,
)
from ._params import ESTIMATOR, document_fit, hyperparameters
from ._progress import progress
from ._warn import held_result, reissue, warn

__all__ = [
    "BaseL0",
    "check_weight_scale",
    "check_weight_scale_from",
    "check_weight_total",
    "keep_state_on_failure",
]

_training_bound = False


def bind_training():
    """Import torch and the training core into this module's namespace, once.

    The estimators' methods that train read these names as globals (a
    function-level import costs about 1 us a statement, and a fit ran 40 of
    them: 1.06x a diabetes fit's CPU time in a fresh process). Every way into
    them binds first: ``FitMixin.fit``, :func:`fresh_fit` (``BaseL0._fit``:
    the CV folds and ``l0_path``) and ``partial_fit``
    (:func:`skl0._streaming.partial_fit`); :func:`_as_tensor` and
    :func:`_prepare_on_host` are reached only through them.
    """
    # (each name here is a global of this module that ruff checks like any other)
    global torch, first_feature_price, max_support_size, support_ebic, whole_samples
    global draw_seed, grad_enabled, make_generator, resolve_device, resolve_dtype
    global seeded_generator, later_copies, SMALL_SPARSE_NUMBERS, blas_threads, fit_threads
    global marginal_gains
    global engine_layout, resolve_groups, LinearHead, MLPHead, AUTO_HIDDEN
    global linear_residuals, nonlinearity_test
    global GRAM_MAX_FEATURES, DirectProblem, GramProblem, PreparedX, host_prepared
    global prepare_on_device, prepares_on_device, second_moments, sparse_to_torch, weighted_moments
    global refit_linear_head, refit_nonlinear_head, gram_of_rows
    global Settings, gate_and_head, select, validation_split, run_walk
    global _training_bound
    if _training_bound:
        return
    import torch

    from ._criteria import (
        first_feature_price,
        max_support_size,
        support_ebic,
        whole_samples,
    )
    from ._device import (
        draw_seed,
        grad_enabled,
        make_generator,
        resolve_device,
        resolve_dtype,
        seeded_generator,
    )
    from ._duplicates import later_copies
    from ._gate_path import marginal_gains
    from ._groups import engine_layout, resolve_groups
    from ._heads import LinearHead, MLPHead
    from ._host_design import SMALL_SPARSE_NUMBERS
    from ._nonlinear import AUTO_HIDDEN, linear_residuals, nonlinearity_test
    from ._problem import (
        GRAM_MAX_FEATURES,
        DirectProblem,
        GramProblem,
        PreparedX,
        host_prepared,
        prepare_on_device,
        prepares_on_device,
        second_moments,
        sparse_to_torch,
        weighted_moments,
    )
    from ._refit import refit_linear_head, refit_nonlinear_head
    from ._selection import Settings, gate_and_head, select, validation_split
    from ._splice_refits import gram_of_rows
    from ._threads import blas_threads, fit_threads
    from ._walk import run_walk
    _training_bound = True

# Most columns kept by screening (p > n), see BaseL0._screened_columns.
_SCREEN_MAX = 256

# Most rounds of iterated screening after the first screened fit
# (BaseL0._fit_rescreened); a cap, each round runs only while it lowers the
# criterion.
_RESCREEN_ROUNDS = 3


# Rows per training step of an MLP head under batch_size=None (the whole
# batch when there are fewer rows).
_MLP_BATCH_ROWS = 512


def positive_strides(a):
    """``a``, or its contiguous copy when it is a numpy view with a negative stride.

    ``X[::-1]``, ``np.flip(X)`` and pandas' ``df[["b", "a"]]`` are such
    views: torch cannot wrap them, and numpy sums them in another order
    than their copy. The fits copy them once validated, so that a view fits
    exactly as its copy (not to round-off) on every machine's kernels.
    """
    if isinstance(a, np.ndarray) and any(s < 0 for s in a.strides):
        return np.ascontiguousarray(a)
    return a


#: X's column names for the messages of a fit on a validated array without
#: them: set by a selector or a CV estimator around the fit of its estimator
#: or of a fold (:func:`naming_columns`), read by ``_column_names``. A context
#: variable, not an attribute set on the estimator from outside: each thread
#: (a CV's fold jobs) sees only the names set in it.
_MESSAGE_NAMES = ContextVar("skl0_message_names", default=None)


@contextmanager
def naming_columns(names):
    """Within the block, messages of fits on arrays name X's columns by ``names``."""
    token = _MESSAGE_NAMES.set(names)
    try:
        yield
    finally:
        _MESSAGE_NAMES.reset(token)


class RawWeightOverflow(ValueError):
    """A kept column's weight is finite standardized but overflows float64 in X's units.

    Raised by :meth:`BaseL0._check_raw_weights`; the CV estimators' folds
    catch it to score such a model in the fit's own column units
    (:class:`skl0._cv._HeldOutScores`).
    """


class ValidatedRows:
    """Rows of an X that a CV estimator validated whole (on the host, or its device copy).

    What its folds' fits on the device and its final fit take instead of
    X: their validation is skipped (X, y and the feature names were
    validated with the whole). A marker rather than any tensor, so that a
    torch tensor passed to ``fit`` by a user is validated as any other
    array-like.
    ``owned``: the rows are the fit's own copy (a fold's gathered rows),
    which the scale and the shift may overwrite; otherwise (the CV
    estimator's copy, shared by its folds) they are left as they are.
    ``statistics``: the rows' sums (:class:`skl0._fold_stats.RowStatistics`),
    from which a regressor's Gram problem is built instead of from the rows
    (which may then be a stand-in holding only their shape).
    """

    def __init__(self, rows, owned=False, statistics=None):
        self.rows, self.owned, self.statistics = rows, owned, statistics


def _as_tensor(X, device, dtype):
    """X as a tensor, sharing memory when dtype and device allow (``dtype=None``: X's).

    skl0 never writes into X, so torch's warning about read-only arrays
    (memory maps) is silenced rather than paid for with a copy. A view with
    a negative stride, which torch cannot wrap, is copied (:func:`positive_strides`).
    """
    X = positive_strides(X)
    if isinstance(X, np.ndarray) and X.flags.writeable:  # (no warning to silence)
        X = torch.as_tensor(X, device=device)
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            X = torch.as_tensor(X, device=device)
    return X if dtype is None else X.to(dtype)


def _prepare_on_host(X, w, device, dtype):
    """Dense numpy ``X`` prepared on the host for a problem on ``device`` (a :class:`PreparedX`).

    Extreme columns (|x| near 1e30 or 1e-30) are divided by exact powers
    of two so float32 moments neither overflow nor underflow; one pass of
    min and max serves that scale and the constant columns (exact powers of
    two keep constant columns constant). The moments are then formed in
    float64 from X as given (shared, not copied), from centred rows;
    columns far from zero relative to their spread are shifted by their
    mean (a copy of X, made only then), so that the computation dtype keeps
    their spread. :func:`skl0._problem.prepare_on_device` is the same on an
    accelerator.
    """
    extremes = column_extremes(X)
    const = extremes[0] == extremes[1]
    scale = column_scale(X, extremes=extremes)
    X = divide_columns(X, scale)
    mean64, std64, var = weighted_moments(X, w, const=const, second=True)
    shift = column_shift(mean64, std64, str(dtype).removeprefix("torch."))
    if shift is not None:
        X = subtract_columns(X, shift)
        mean64 = mean64 - shift
    Xt = _as_tensor(X, device, dtype)
    # The mask holds for the tensor when it is X itself, neither cast nor
    # shifted (rounding could make nearly equal values equal); otherwise
    # GramProblem tests its own data again.
    same = shift is None and Xt.device.type == "cpu" and np.may_share_memory(Xt.numpy(), X)
    return PreparedX(Xt, scale, shift, mean64, std64, var, const,
                     gram_const=const if same else None, extremes=extremes)


class _StepReporter:
    """Adapts train_gates' ``callback(iteration, loss, n_open)`` to a progress bar."""

    def __init__(self, bar):
        self.bar, self.last = bar, 0

    def __call__(self, iteration, loss, n_open):
        step = iteration - self.last if iteration > self.last else iteration
        self.last = iteration
        self.bar.update(step, loss=loss, open=n_open)


def checks_params_each_call(method):
    """Check the estimator's parameters at every call of ``partial_fit``, as ``fit`` does.

    scikit-learn's ``_fit_context`` checks them only on an unfitted
    estimator's first ``partial_fit`` call, while ``set_params`` may come
    between calls. Placed outside ``_fit_context``, so that it reads the
    caller's ``skip_parameter_validation`` (inside, the nested-skip
    preference has set it) and, as there, checks nothing under it.
    """
    import functools

    from sklearn import get_config

    @functools.wraps(method)
    def wrapper(estimator, *args, **kwargs):
        if not get_config()["skip_parameter_validation"]:
            estimator._validate_params()
        return method(estimator, *args, **kwargs)

    return wrapper


@contextmanager
def keep_state_on_failure(estimator):
    """Restore the estimator's attributes if ``fit`` raises (or is interrupted).

    A failed or interrupted fit leaves a previously fitted estimator exactly
    as it was, and an unfitted one unfitted.
    """
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


@contextmanager
def fresh_fit(estimator):
    """The frame of every ``fit``: from nothing, and all or nothing.

    The fitted attributes of an earlier fit are dropped first, as
    scikit-learn's ``fit`` starts afresh (those that only some fits set,
    ``n_screened_``, ``validation_scores_``, ``head_selection_``, would
    otherwise survive a refit that does not set them); a failed or
    interrupted fit restores them (:func:`keep_state_on_failure`); a fit
    that succeeds ends any ``partial_fit`` stream.
    """
    bind_training()
    with keep_state_on_failure(estimator), grad_enabled():
        for name in [a for a in vars(estimator) if a.endswith("_") and not a.startswith("_")]:
            delattr(estimator, name)
        yield
    vars(estimator).pop("_stream", None)


def unit_weights(X):
    """``_check_sample_weight(None, X, dtype=np.float64)``: float64 ones, one per row of ``X``.

    Without its namespace and dtype checks (~13 us a fit), which a weight
    that was not given does not need.
    """
    return np.ones(X.shape[0], dtype=np.float64)


def check_weight_total(sw, name="sample_weight"):
    """Refuse weights whose total overflows float64 (it would normalise them all to 0)."""
    with np.errstate(over="ignore"):
        total = sw.sum()
    if np.all(np.isfinite(sw)) and not np.isfinite(total):
        raise ValueError(
            f"{name} sums to {total} (its largest value is {sw.max():.3g}): the total "
            f"overflows float64. Divide {name} by a common factor first, e.g. "
            f"w = {name} / {name}.max(); w = w / w.mean()."
        )


# lam="auto" warns when the mean positive weight is outside this range:
# the weights then count as that many times more (or fewer) samples.
_WEIGHT_SCALE = (0.5, 2.0)


def check_weight_scale(sw, rule, class_weighted=False):
    """Warn when ``rule`` would read rescaled weights as more or fewer samples.

    scikit-learn's convention, which skl0 follows: a sample weight is a
    frequency (a weight of 3 is 3 repeated rows), so the information
    criterion's n (and the tests' sample sizes) is the total weight, and
    weights all 10 count ten times the rows: the penalty per feature falls,
    a test's standard errors shrink, and more features are kept.
    Relative weights (survey design weights, importance weights) should be
    rescaled to mean 1 first; this warns when the mean positive weight is
    outside [0.5, 2].
    ``class_weighted``: ``sw`` holds a classifier's ``class_weight`` times
    its ``sample_weight``, and the message says so.
    """
    positive = sw[sw > 0]
    mean = float(positive.mean()) if positive.size else 1.0
    check_weight_scale_from(mean, positive.size, float(sw.sum()), rule, class_weighted)


def check_weight_scale_from(mean, n_positive, total, rule, class_weighted=False):
    """:func:`check_weight_scale` from the weights' summaries (a Dask fit's pass)."""
    if _WEIGHT_SCALE[0] <= mean <= _WEIGHT_SCALE[1]:
        return
    what, fix = "sample_weight", "pass sample_weight / sample_weight.mean()"
    if class_weighted:
        what = "sample_weight times class_weight"
        fix = ("rescale them so that the products average about 1 (class_weight="
               "'balanced' keeps sample_weight's total)")
    warn(
        f"{rule} reads {what} as frequencies (a weight of 3 counts as 3 "
        f"repeated rows): their mean is {mean:.3g}, so the {n_positive} weighted rows "
        f"count as {total:.4g} samples and the selection depends on the "
        f"weights' scale. If the weights are relative (survey design or importance "
        f"weights), {fix}; if they count repeated rows, this is what you want.",
    )


def names_unchecked_nonfinite(fit):
    """Decorator of a ``fit(X, y, ...)`` or ``partial_fit``: name the NaN that validation let through.

    Under ``sklearn.config_context(assume_finite=True)`` scikit-learn's
    validation skips its finiteness check, and a NaN or infinity in ``X``
    or ``y`` ended the fit in :class:`NonFiniteLossError` ("training
    diverged. Lower learning_rate_init, raise alpha, ...", "values too large
    for the dtype"): advice for another cause. When a fit fails so under
    that setting, ``X`` and ``y`` are checked as validation would have (on
    the failure path only: the setting still saves the pass over them) and
    scikit-learn's own ``ValueError`` is raised, saying that the setting
    skipped the check; otherwise the error is raised as it was.
    """

    @functools.wraps(fit)
    def naming(self, X, y, *args, **kwargs):
        try:
            return fit(self, X, y, *args, **kwargs)
        except NonFiniteLossError as err:
            _raise_if_unchecked_nonfinite(self, X, y, err)
            raise

    return naming


def _raise_if_unchecked_nonfinite(estimator, X, y, err):
    from sklearn import config_context, get_config
    from sklearn.utils import check_array

    if not get_config()["assume_finite"] or is_dask_collection(X):
        return
    for name, values in (("X", X), ("y", y)):
        if name == "y" and np.asarray(values).dtype.kind not in "fc":
            continue  # class labels (a NaN label is refused before the fit)
        try:
            with config_context(assume_finite=False):
                check_array(values, accept_sparse=True, ensure_2d=False, dtype=None,
                            ensure_all_finite=True, input_name=name,
                            estimator=type(estimator).__name__)
        except ValueError as found:
            if "NaN" not in str(found) and "infinity" not in str(found):
                continue  # (X passed the fit's validation: not expected)
            raise ValueError(
                f"{found}\nsklearn's assume_finite=True skipped the check that refuses it "
                "before the fit, which then failed on it. Remove or replace those values, "
                "or fit outside sklearn.config_context(assume_finite=True) to have them "
                "refused up front."
            ) from err


class FitMixin:
    """The one ``fit`` of the estimators and the selectors.

    A Dask collection goes to the function of :mod:`skl0._dask` that
    ``_fit_dask`` names, where the class names one (statistics or IRLS
    passes on the cluster, see docs/scale.md); anything else to ``_fit``,
    which leaves the estimator as it was if it fails.
    """

    _fit_dask = None

    @_fit_context(prefer_skip_nested_validation=True)
    @names_unchecked_nonfinite
    @document_fit
    def fit(self, X, y, sample_weight=None):
        """Select the features of ``X`` for ``y`` and fit the model on them.

        The CV estimators first cross-validate the path over ``lams``, then
        fit all the data at the chosen point.

        %(fit_parameters)s

        Returns
        -------
        self : object
            The fitted estimator.
        """
        bind_training()
        if self._fit_dask is not None and is_dask_collection(X):
            from . import _dask

            return getattr(_dask, self._fit_dask)(self, X, y, sample_weight)
        return self._fit(X, y, sample_weight)


def streamable(estimator):
    """``available_if`` check: the CV estimators choose ``lam`` by refitting, so they cannot stream."""
    return getattr(estimator, "_supports_partial_fit", True)


def scores_dask_rows(score):
    """Decorator of an estimator's ``score(X, y, sample_weight=None)``: for a
    Dask ``X`` it is :func:`skl0._dask_rows.score_rows` (per-block sums on the
    cluster, the predictions not gathered), else ``score`` itself (its name
    and docstring kept)."""

    @functools.wraps(score)
    def dask_or_in_memory(self, X, y, sample_weight=None):
        if is_dask_collection(X):
            from ._dask_rows import score_rows

            return score_rows(self, X, y, sample_weight)
        return score(self, X, y, sample_weight)

    return dask_or_in_memory


class SupportMixin:
    """``get_support`` over the fitted boolean mask ``support_``."""

    def get_support(self, indices=False):
        """Mask or indices of what the fit kept: features, or records for a calibrator.

        Parameters
        ----------
        indices : bool, default=False
            Return integer indices instead of a boolean mask.

        Returns
        -------
        ndarray
            ``support_`` or ``np.flatnonzero(support_)``.
        """
        check_is_fitted(self, "support_")
        return np.flatnonzero(self.support_) if indices else self.support_.copy()


@hyperparameters(ESTIMATOR)
class BaseL0(FitMixin, SupportMixin, BaseEstimator):
    """Base class of the gated estimators; not for direct use.

    ``__init__`` and ``_parameter_constraints`` come from the table of
    hyperparameters, :data:`skl0._params.PARAMS`.
    """

    # ----------------------------------------------------------------- hooks
    def _encode_targets(self, y):
        """Return (encoded targets as ndarray, datafit); set target attributes."""
        raise NotImplementedError

    def _target_tensor(self, Y, device, dtype):
        return torch.as_tensor(Y, device=device, dtype=dtype)

    def _fit_weights(self, Y, sw):
        """The weights the fit uses: ``sw``, times the class weights of a classifier."""
        return sw

    # ------------------------------------------------------------------ fit
    def _validate_fit_data(self, X, y, sample_weight):
        """Validated ``X, y``, the weights, and the :class:`_FitPlan` of what was learnt of X's rows.

        The plan's ``rows_owned``, ``row_statistics`` (rows a CV estimator
        passes as :class:`skl0._problem.ValidatedRows`) and
        ``finite_unchecked`` (a dense X bound for an accelerator, whose
        extremes formed there tell whether it is finite).
        """
        if isinstance(X, ValidatedRows):
            # Rows of an X that a CV estimator validated whole and holds on
            # its device (its folds, its final fit), with y validated too.
            plan = _FitPlan(rows_owned=X.owned, row_statistics=X.statistics)
            X = X.rows
            self.n_features_in_ = X.shape[1]
        else:
            check_frame(X)
            check_missing_labels(y)
            device = self._device_for_shape(getattr(X, "shape", None))
            defer = device is not None and not host_prepared(device)
            X, y = validate_data(
                self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                multi_output=True, ensure_min_samples=2, y_numeric=False,
                ensure_all_finite=not defer,
            )
            X, y = positive_strides(X), positive_strides(y)
            if defer and sp.issparse(X):  # (sparse: scipy's moments, on the host)
                assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
                defer = False
            # Dense X bound for an accelerator: its extremes, formed there,
            # tell whether it is finite (a pass over X on the host saved).
            plan = _FitPlan(finite_unchecked=defer)
        if sample_weight is None:  # ones, finite, with a positive total: scikit-learn's
            sw = unit_weights(X)
        else:
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                      ensure_non_negative=True)
            check_weight_total(sw)
            if not np.all(np.isfinite(sw)) or sw.sum() <= 0:
                raise ValueError(
                    "sample_weight must be finite and not all zero; got a total weight of "
                    f"{sw.sum()!r}. Pass positive weights for at least one sample."
                )
        self._groups_layout = resolve_groups(self.groups, self.feature_costs, X.shape[1],
                                             getattr(self, "feature_names_in_", None))
        self._layout = engine_layout(self._groups_layout)
        self._k_fit = check_k_fits(self.k, self.groups, self._groups_layout, X.shape[1],
                                   getattr(self, "lam", "auto"))  # (the CV forms have no lam)
        return X, y, sw, plan

    def _weightless_rows_neutral(self, X, sw, plan):
        """X with each row of zero weight replaced by the first row of positive weight, and ``plan``.

        A weight of 0 is a row left out (scikit-learn's convention), but such
        a row's values still set X's power-of-two column units and extremes:
        diabetes with 1e20 in one column of a weightless row fitted that
        column at ~1e-22 of its spread (coefficients 610 off the fit without
        the row), and a square past float64's range made its zero-weighted
        sums NaN. Copying a weighted row over it leaves every weighted sum as
        it was (``0 * x`` is 0 either way) and the extremes those of the
        weighted rows, where dropping the rows would also change the fit's
        shape (and with it round-off: scikit-learn's check that weights equal
        repeated rows compares fits with the weightless rows present). Costs
        a copy of X, only when some weight is 0. ``plan`` (the fit's
        :class:`_FitPlan`) is returned with the copy's facts: rows of its own,
        checked finite.
        """
        if sw.all() or not (isinstance(X, np.ndarray) or torch.is_tensor(X) or sp.issparse(X)):
            # (a CV fold whose problem comes from shared sums has no rows to
            # read, only their stand-in; its sums and extremes skip weightless
            # rows themselves: RowStatistics)
            return X, plan
        if plan.finite_unchecked:  # (every row is checked, as validation would)
            assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
            plan = replace(plan, finite_unchecked=False)
        rows = np.arange(X.shape[0])
        rows[sw == 0] = int(np.argmax(sw > 0))
        if torch.is_tensor(X):  # (rows a CV estimator holds)
            plan = replace(plan, rows_owned=True)
            return X.index_select(0, torch.as_tensor(rows, device=X.device)), plan
        return X[rows], plan

    def _device_for_shape(self, shape):
        """The device a fit of an X of ``shape`` will use, or None where that is not yet known.

        For :meth:`_validate_fit_data`, before X is converted: None for an X
        without a 2-d shape (a list), or where ``device`` is refused (the
        fit says so after validation, as before).
        """
        if shape is None or len(shape) != 2:
            return None
        try:
            return resolve_device(self.device, numbers=int(shape[0]) * int(shape[1]))
        except (ValueError, TypeError):
            return None

    @property
    def _k(self):
        """``k`` as the fit reads it: at most the columns (or groups) of X (:func:`check_k_fits`)."""
        return vars(self).get("_k_fit", self.k) if self.k is not None else None

    def _fit(self, X, y, sample_weight=None, walk=None):
        """Validate, build the problem, select, refit and export.

        ``walk`` (a :class:`skl0._walk.Walk`) replaces the estimator's own
        selection by a walk over its grid whose points ``walk.reader``
        reads (``l0_path``, the cross-validated estimators).
        """
        with fresh_fit(self):
            self._fit_unguarded(X, y, sample_weight, walk)
        return self

    def _fit_unguarded(self, X, y, sample_weight, walk=None):
        X, y, sw, plan = self._validate_fit_data(X, y, sample_weight)
        device = resolve_device(self.device, numbers=X.shape[0] * X.shape[1])
        # Small data: the whole fit on one BLAS and one torch thread, its
        # preparation too (X's moments came out an ulp apart with the BLAS
        # thread count, and an MLP head's training grew that into another model).
        with fit_threads(X.shape[0] * X.shape[1], device):
            return self._fit_validated(X, y, sw, plan, device, walk)

    def _fit_validated(self, X, y, sw, plan, device, walk):
        """:meth:`_fit_unguarded` from the validated data on: encode, weigh, fit, install."""
        Y, datafit = self._encode_targets(y, sw)
        sw = self._fit_weights(Y, sw)
        X, plan = self._weightless_rows_neutral(X, sw, plan)
        if isinstance(self.hidden_layer_sizes, str):  # "auto" (the only string allowed)
            if walk is None and self.lam != "auto":
                # The held-out comparison of the heads runs along the path of
                # lam="auto" (with or without k); a fixed lam has none, also
                # with k as its cap (that walk holds out no rows: the MLP fit
                # then crashed with an AttributeError).
                cap = "" if self.k is None else f" (k={self.k} only caps it)"
                fix = "pass lam='auto'" + ("" if self.k is None else f" (k={self.k} then "
                                           f"keeps exactly {self.k} features)")
                raise ValueError(
                    f"hidden_layer_sizes='auto' chooses the head by held-out loss along "
                    f"the path of lam='auto' (with or without k), not at a fixed "
                    f"lam={self.lam!r}{cap}; {fix}, or a head: "
                    "hidden_layer_sizes=() (linear) or e.g. (64,)."
                )
            return self._fit_auto_head(X, Y, sw, datafit, device, walk, plan)
        plan = self._fit_plan(plan)  # (its hidden sizes checked before any work)
        self._install(self._fit_on_device(X, Y, sw, datafit, device, walk, plan))
        self.hidden_layer_sizes_ = plan.hidden
        return self

    def _fit_auto_head(self, X, Y, sw, datafit, device, walk, plan):
        """``hidden_layer_sizes="auto"``: the linear head unless held-out loss prefers an MLP.

        1. Fit with the linear head (the answer whenever the signal is linear).
        2. Test its residuals for second-order structure
           (:func:`skl0._nonlinear.nonlinearity_test`, family-wise 5%); no
           evidence, no MLP: the cost is the linear fit and the test.
        3. Otherwise fit with an MLP head (``AUTO_HIDDEN``); its validated
           path also walks a linear head's path on the same training rows,
           and the MLP is kept only if its best held-out loss beats the
           linear path's best by more than one standard error (the
           one-standard-error rule across heads: ties go to the simpler).

        A walk (``l0_path``) keeps the linear head. ``hidden_layer_sizes_``
        holds the choice, ``head_selection_`` the numbers behind it. Each
        head's fit is told its head by a :class:`_FitPlan` and returns a
        :class:`_FitRecord`; only the chosen one is set on the estimator.
        """
        info = {}
        # One seed for both heads' fits: random_state=None takes one draw from
        # numpy's global RNG per fit, as documented (the MLP fit drew a second).
        # An int draws the same seed each time, so its fits are unchanged.
        # Each head's fit is a record (_FitRecord) that sets nothing on the
        # estimator; only the chosen one is installed.
        seed = draw_seed(self.random_state)
        fitted, said = held_result(self._fit_on_device, X, Y, sw, datafit, device, walk,
                                   replace(plan, hidden=(), seed=seed))
        chosen = ()
        if walk is None:
            R = linear_residuals(self, fitted.layers, X, Y, is_classifier(self))
            stat, threshold = nonlinearity_test(X, R, sw)
            info = {"nonlinearity_statistic": stat, "nonlinearity_threshold": threshold}
            if stat > threshold:
                mlp_fitted, mlp_said = held_result(
                    self._fit_on_device, X, Y, sw, datafit, device, walk,
                    replace(plan, hidden=AUTO_HIDDEN, seed=seed, compare_heads=True))
                lin, mlp, mlp_se = mlp_fitted.head_losses
                info.update(linear_held_out_loss=lin, mlp_held_out_loss=mlp,
                            mlp_held_out_se=mlp_se)
                if mlp + mlp_se < lin:
                    chosen, fitted, said = AUTO_HIDDEN, mlp_fitted, mlp_said
        self._install(fitted)
        # The chosen head's fit speaks, once: the other's warnings (the same
        # weight-scale warning among them) are about a model that was
        # discarded.
        reissue(said)
        self.hidden_layer_sizes_ = chosen
        self.head_selection_ = info
        return self

    def _fit_on_device(self, X, Y, sw, datafit, device, walk, plan):
        """Build the problem of validated ``X`` on ``device`` and fit it: the :class:`_FitRecord`.

        ``plan``: the :class:`_FitPlan` of this fit. Sets X's column units
        (``_x_scale``, ``_x_shift``) on the estimator, nothing of the fit.
        """
        dtype = resolve_dtype(self.dtype, X)
        gen = make_generator(self.random_state, device) if plan.seed is None else (
            seeded_generator(plan.seed, device))  # (the automatic head's fits share one draw)
        w_np = sw / sw.sum()
        w = torch.as_tensor(w_np, device=device, dtype=dtype)
        Yt = self._target_tensor(Y, device, dtype)
        n, p = X.shape
        use_gram = (
            datafit.supports_gram and n > p and plan.linear
            and (not sp.issparse(X) or p <= GRAM_MAX_FEATURES)
        )
        if use_gram and sp.issparse(X) and n * p <= SMALL_SPARSE_NUMBERS:
            # A Gram problem keeps only X's statistics: from a small sparse X
            # (8 MB at most when dense) they come faster, and the same as for
            # the dense array, from a dense copy.
            X = X.toarray()
        statistics = plan.row_statistics
        if statistics is not None and use_gram:
            # A CV regressor's fold (or final fit): the problem from sums its
            # CV formed for all folds in one pass over X (skl0._fold_stats).
            problem = statistics.gram_problem(self, datafit, dtype, device)
            self._mark_copies(problem, X, (statistics.lo, statistics.hi), walk)
            return self._fit_prepared(problem, sw, datafit, gen, walk, plan)
        if sp.issparse(X):  # never densified: moments and Gram by scipy
            problem, extremes = self._sparse_problem(X, Yt, w, w_np, datafit, device, dtype,
                                                     use_gram)
            self._mark_copies(problem, X, extremes, walk)
            return self._fit_prepared(problem, sw, datafit, gen, walk, plan)
        if prepares_on_device(X, device):
            # Dense X crosses to the accelerator once, as given; its
            # extremes, scale, moments and shift are formed there.
            if torch.is_tensor(X):  # (rows a CV estimator holds: ValidatedRows)
                prep = prepare_on_device(X, w_np, dtype, owned=plan.rows_owned)
            else:  # a copy of its own off the CPU (on the CPU, as_tensor shares X's memory)
                # (no name kept for the copy: where prep.X is a cast of it,
                # it is freed before the solve, as the host path's was)
                prep = prepare_on_device(_as_tensor(X, device, None), w_np, dtype,
                                         owned=device.type != "cpu")
            if plan.finite_unchecked and not prep.finite:
                # scikit-learn's own error, as validation would have raised it.
                assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
        else:
            prep = _prepare_on_host(X, w_np, device, dtype)
        self._x_scale, self._x_shift = prep.scale, prep.shift
        mean = torch.as_tensor(prep.mean64, device=device, dtype=dtype)
        std = torch.as_tensor(prep.std64, device=device, dtype=dtype)
        if use_gram:
            problem = GramProblem(prep.X, Yt, w, mean, std, datafit, const=prep.gram_const)
        else:
            # The standardized columns' second moments come with the moments
            # (a pass over X saved: 0.49 of a 3.4 CPU s exact-k logistic fit
            # at n=1e5, p=1e3).
            problem = DirectProblem(prep.X, Yt, w, mean, std, datafit, second_moments=(
                second_moments(prep.var, prep.mean64, mean, std, prep.const)))
        self._mark_copies(problem, X, prep.extremes, walk)
        return self._fit_prepared(problem, sw, datafit, gen, walk, plan)

    def _mark_copies(self, problem, X, extremes, walk):
        """Set ``problem.later_copies``: X's columns equal to an earlier one (:mod:`skl0._duplicates`).

        The fit then selects among the first copies only (:meth:`_fit_built`),
        so an exact duplicate is never kept in place of the column before
        it. Not looked for in a cross-validation fold's fit (its points are
        only scored: a copy predicts as its original) nor with ``groups``
        or ``feature_costs`` (a copy may sit in another group, or cost less).
        Rows of zero weight hold a weighted row's values by now
        (:meth:`_weightless_rows_neutral`), so two columns that differ only
        there are copies, as in the fit without those rows.
        """
        problem.later_copies = None
        if (walk is not None and not walk.export) or getattr(self, "_layout", None) is not None:
            return
        problem.later_copies = later_copies(X, extremes)

    def _sparse_problem(self, X, Yt, w, w_np, datafit, device, dtype, use_gram):
        """The problem of a scipy sparse ``X``, never densified: moments and Gram by scipy.

        Returned with X's column extremes (before any scale).
        """
        # Extreme columns (|x| near 1e30 or 1e-30) are divided by exact powers
        # of two so float32 moments neither overflow nor underflow; _export
        # maps the coefficients back (see _numerics). One pass of min and max
        # serves the scale and the constant columns.
        extremes = column_extremes(X)
        const = extremes[0] == extremes[1]
        self._x_scale = column_scale(X, extremes=extremes)
        self._x_shift = None
        X = divide_columns(X, self._x_scale)
        if not (X.format == "csc" and X.has_canonical_format):
            X = X.tocsr()
        # (a canonical CSC X gives its moments as it is, the same numbers as
        # its CSR copy, which is made after them rather than beside their own)
        mean64, std64, var = weighted_moments(X, w_np, const=const, second=True)
        mean, std = (torch.as_tensor(a, device=device, dtype=dtype) for a in (mean64, std64))
        if use_gram:  # (a CSC X too: the statistics need no CSR copy of it)
            return GramProblem(X, Yt, w, mean, std, datafit, const=const), extremes
        # A canonical float64 CSC X (the caller's, or its validated copy, alive
        # through the fit either way) is kept beside the CSR host: a large one's
        # swap search reads its columns (skl0._splice_multinomial._SparseStandardized)
        # without a CSC copy of its own.
        csc = X if X.format == "csc" and X.dtype == np.float64 else None
        X = X.tocsr()
        problem = DirectProblem(sparse_to_torch(X, device, dtype), Yt, w, mean, std, datafit,
                                host=X, second_moments=second_moments(var, mean64, mean, std,
                                                                      const), host_csc=csc)
        return problem, extremes

    def _fit_prepared(self, problem, sw, datafit, gen, walk, plan):
        """The :class:`_FitRecord` of a fit of a built ``problem`` with weights ``sw``."""
        # scikit-learn's convention: a weight counts as that many repetitions
        # of the sample, so the information criterion's n is the total weight.
        problem.n_samples = float(sw.sum())
        if walk is not None:
            return self._fit_built(problem, datafit, gen, walk, plan)
        rule = self._weight_counting_rule(problem, int(np.count_nonzero(sw)))
        if rule is not None:
            check_weight_scale(sw, rule=rule, class_weighted=self._class_weighted)
            return self._fit_built(problem, datafit, gen, walk, plan)
        # A rule met only on the way (exact k's multinomial ranking, reached
        # with a number lam when the cap binds) warns there.
        return self._fit_built(problem, datafit, gen, walk,
                               replace(plan, count_weights=self._weights_counter(sw)))

    @property
    def _class_weighted(self):
        """Whether the fit's weights hold a classifier's ``class_weight`` (for the messages)."""
        return getattr(self, "class_weight", None) is not None

    def _weights_counter(self, sw):
        """A :attr:`_FitPlan.count_weights` for weights ``sw``: warns as :func:`check_weight_scale`
        for the first rule met in the fit's selection (once a fit)."""
        unread = [sw]

        def count(rule):
            if unread:
                check_weight_scale(unread.pop(), rule=rule, class_weighted=self._class_weighted)

        return count

    def _fit_built(self, problem, datafit, gen, walk=None, plan=None):
        """Select on a built problem, on the screened columns where ``fit`` screens them.

        Returns the :class:`_FitRecord` (:meth:`_install` sets it). Shared
        with ``partial_fit``'s exact mode, whose problem from the sums is
        screened as ``fit`` on the same rows would be. ``plan``: the
        :class:`_FitPlan`, by default the estimator's own (:meth:`_fit_plan`).
        """
        plan = self._fit_plan() if plan is None else plan
        cols = None if walk is not None else self._screened_columns(problem, plan)
        later = self._copies_set_aside(problem, walk)
        if cols is not None:
            if later is not None:
                cols = cols[~later[cols]]
            return self._fit_rescreened(problem, cols, datafit, gen, later, plan)
        if later is not None:
            return self._fit_columns(problem, np.flatnonzero(~later), datafit, gen, walk, plan)
        return self._fit_record(problem, datafit, gen, walk, plan=plan)

    def _copies_set_aside(self, problem, walk):
        """The later copies of exactly duplicated columns that the selection does not see, or None.

        ``problem.later_copies`` (:meth:`_mark_copies`), less the first of
        them where ``k`` asks for more columns than X has distinct ones:
        those slots go to the lowest-index copies. A path over ``ks`` sets
        them all aside (its points past the distinct columns keep those
        columns, fewer than ``k``): releasing copies for its largest ``k``
        let its smaller ones keep a copy in place of its original.
        """
        later = getattr(problem, "later_copies", None)
        if later is None:
            return None
        need = 0 if walk is not None else (self._k or 0)
        short = need - int((~later).sum())
        if short > 0:
            later = later.copy()
            later[np.flatnonzero(later)[:short]] = False
        return later if later.any() else None

    def _weight_counting_rule(self, problem=None, n_positive=None):
        """The rule of this fit whose sample size is the total weight, or None.

        scikit-learn's convention makes a weight a count of repeated rows,
        so every statistical rule that reads a sample size reads the total
        weight: ``lam="auto"``'s information criterion (linear head) or
        validated point (MLP head: a paired test on the held-out rows),
        exact ``k`` on an MLP head (the same validated point) or with
        ``keep_redundant=True`` (its F test), and
        ``hidden_layer_sizes="auto"``'s nonlinearity test; given the built
        ``problem`` and the number of rows of positive weight, also a linear
        exact ``k`` on more columns than samples (the screening of
        :meth:`_screened_columns`). A multinomial exact ``k`` ranks its
        supports at a ridge of ``1 / (2n)`` (:func:`skl0._splice_refits.selection_refits`):
        it warns where it is reached (:meth:`_weights_counter`). Otherwise a
        fit at a given ``lam``, or a linear exact ``k``, reads no sample
        size. Called in a fit of the estimator's own selection (not a walk
        over a given grid: l0_path, the CV estimators).
        """
        if isinstance(self.hidden_layer_sizes, str):
            return "hidden_layer_sizes='auto'"
        if self.k is None:
            return "lam='auto'" if self.lam == "auto" else None
        if not self._is_linear():
            return f"k={self.k} with an MLP head"
        return self._linear_k_rule(problem, n_positive)

    def _linear_k_rule(self, problem=None, n_positive=None):
        """:meth:`_weight_counting_rule` for exact ``k`` on a linear head (also a stream's)."""
        # (keep_redundant orders the slots of column-level exact k; over
        # groups it does not apply, nor does its F test)
        layout = getattr(self, "_layout", None)
        if self._asks_keep_redundant() and layout is None:
            return f"k={self.k} with keep_redundant=True"
        if problem is None or layout is not None or self.lam != "auto":
            return None
        if problem.kind == "gram" and (problem.n_rows is None
                                       or problem.n_rows > problem.n_features):
            return None  # never screened (_screened_columns)
        # Screened at the total weight's n, or at that of weights of mean 1.
        n = min(whole_samples(problem.n_samples), n_positive)
        return f"k={self.k} on more columns than samples" if problem.n_features > n else None

    def _screened_columns(self, problem, plan):
        """Columns kept by screening (sorted), or None to use them all.

        With more columns than rows, a linear head, and ``lam="auto"`` (with
        or without ``k``), the gates see only the ``m`` columns with the largest
        marginal loss reduction (sure independence screening, Fan & Lv
        2008), ``m = max(min(n // 2, 256), 2 s_max, 3 k)`` with ``s_max`` the largest
        support EBIC considers. On the screened columns n > m, so squared
        loss trains from their X'X; the information criterion still counts
        all p columns. (``n // 2`` was chosen on seeds 0-4 of the selection
        benchmark's p > n tasks: SIS's ``n / log n`` lost true features on
        the correlated "hard" task, F1 0.52 against 0.66 for exact k, and
        ``n - 1`` was slower and no better; the cap of 256 keeps the
        per-iteration Cholesky of the screened X'X small: at n=1000,
        p=2e4, ``lam="auto"`` took 12 s with 500 columns, ~1 s with 256.)

        A Gram problem is screened only when built from sums of no more
        rows than columns (``partial_fit``: ``n_rows``), as ``fit`` on those
        rows would screen; ``fit`` itself forms X'X only from more rows.
        """
        gram = problem.kind == "gram"
        if (gram and (problem.n_rows is None or problem.n_rows > problem.n_features)
                or getattr(self, "_layout", None) is not None):
            # Groups and costs: the gates see every column (screening ranks
            # single columns).
            return None
        # n is the total sample weight (scikit-learn's frequency weights, as
        # the information criterion counts it), so that a weighted fit and
        # one on repeated rows screen alike (weights rescaled to mean 1 whose
        # sum falls a round-off short of the row count as the unweighted fit).
        n, p = whole_samples(problem.n_samples), problem.n_features
        if p <= n or not plan.linear or self.lam != "auto":
            # A number lam, also with k as its cap: the fit at lam sees every
            # column, so that it stands as the plain fit at lam does when it
            # keeps k or fewer.
            return None
        m = max(min(n // 2, _SCREEN_MAX), 2 * max_support_size(problem.n_samples, p),
                3 * (self._k or 0))
        if m >= p:
            return None
        gain = marginal_gains(problem)
        return np.sort(np.argsort(-gain, kind="stable")[:m])

    def _fit_rescreened(self, problem, cols, datafit, gen, later, plan):
        """:meth:`_fit_screened`, then iterated screening while it lowers EBIC by a feature's price.

        Marginal screening misses a column whose own correlation with the
        target is masked by the others' (at n=30, p=200 and
        ``y = 3 x0 - 2 x1 + 1.5 x2 + noise``, ``k=3`` kept ``[0, 1, 36]`` on 7
        of 20 seeds: x2 was not among the 15 screened, and the residual sum
        of squares was 190 times the true support's). As in iterated sure
        independence screening (Fan & Lv 2008, section 4.2), the columns are
        then ranked again by their gain on the residuals of the chosen
        support's refit (:func:`skl0._gate_path.marginal_gains` at that
        model), and the selection runs again on the support and the best of
        the others, as many columns as before, at most ``_RESCREEN_ROUNDS``
        times. A round is run only when some column left out gains more on
        those residuals than every screened column the fit did not keep (a
        check of the columns left out, as glmnet's strong rules check
        theirs: Tibshirani et al. 2012, JRSS B 74(2), section 5), and under
        ``lam="auto"`` only when the column of largest gain outside the
        support, added to it, lowers EBIC by more than
        :func:`skl0._criteria.first_feature_price` (a round that only
        exchanges columns is then missed: 1 of 20 held-out seeds there).

        A round's fit is kept only when its support's EBIC (over all ``p``
        columns; at exact ``k``, where both have ``k`` columns, its
        deviance) is lower by more than that price, ``q log n + 2 gamma log
        p``: the round's columns were picked for how well they fit the
        residuals, and smaller gains are that selection's (on development
        seeds 0-9 of the masked design above and of the selection
        benchmark's reg2000 and hard tasks, rounds that admitted noise
        lowered EBIC by 0.01-0.72 of the price, the recoveries by 14-16;
        kept at any lower value, ``lam="auto"`` on reg2000 lost F1 0.963 ->
        0.910 on held-out seeds 100-104, and exact ``k`` on hard lost R^2
        0.318 -> 0.275 on the development seeds).

        ``later``: the copies of duplicated columns set aside
        (:meth:`_copies_set_aside`), which no round brings in; ``plan``: the
        :class:`_FitPlan`. Returns the kept round's :class:`_FitRecord`,
        its ``n_iter`` all rounds' steps (:meth:`_install` sets it).
        """
        p = problem.n_features
        # Each fit's warnings are held back: only the kept fit's reach the user
        # (a replaced fit's size-cap warning did, for a model below the cap).
        # A round's fit is a record (_FitRecord): none is set on the estimator
        # here.
        fitted, said = held_result(self._fit_screened, problem, cols, datafit, gen, plan)
        n_iter = fitted.n_iter
        margin = first_feature_price(problem)  # what a round must lower EBIC by
        now = None  # the kept fit's EBIC, once a round needs it
        for _ in range(_RESCREEN_ROUNDS):
            support = np.flatnonzero(fitted.support)
            head, _ = refit_linear_head(problem, support, alpha=self.alpha)
            gain = marginal_gains(problem, head)
            left_out = np.ones(p, dtype=bool)
            left_out[cols] = False
            passed = ~left_out
            if later is not None:
                left_out &= ~later
            passed[support] = False  # screened, seen by the fit and not kept
            if not left_out.any() or gain[left_out].max() <= (
                    gain[passed].max() if passed.any() else 0.0):
                break
            order = np.argsort(-gain, kind="stable")
            if later is not None:
                order = order[~later[order]]
            others = order[~np.isin(order, support)]
            if now is None:
                now = self._screened_ebic(problem, support, datafit)
            if self._k is None:  # lam="auto": only if the round's best column, added, passes it
                added = self._screened_ebic(problem, np.sort(np.append(support, others[0])),
                                            datafit)
                if not added < now - margin:
                    break
            new = np.sort(np.concatenate([support, others[: cols.size - support.size]]))
            trial, round_said = held_result(self._fit_screened, problem, new, datafit, gen,
                                            plan)
            n_iter += trial.n_iter
            after = self._screened_ebic(problem, np.flatnonzero(trial.support), datafit)
            if not after < now - margin:  # (equal: the first fit stands)
                break
            cols, said, now, fitted = new, round_said, after, trial
        reissue(said)
        return replace(fitted, n_iter=n_iter)

    def _screened_ebic(self, problem, support, datafit):
        """EBIC over all ``p`` columns of ``support``'s refit, on its own columns only."""
        sub = self._column_problem(problem, support, datafit)
        return support_ebic(sub, np.arange(support.size), self.alpha)[0]

    @staticmethod
    def _column_problem(problem, cols, datafit, gram=True):
        """``problem`` on the columns ``cols`` (from X'X where more rows than columns and
        ``gram``), counting every column as a candidate."""
        idx = torch.as_tensor(cols, device=problem.mean.device)
        sub = problem.column_subset(idx)
        if (gram and sub.kind == "rows" and datafit.supports_gram
                and sub.X.shape[0] > cols.size):
            sub = gram_of_rows(sub)
        sub.n_samples, sub.n_candidates = problem.n_samples, problem.n_features
        return sub

    def _fit_screened(self, problem, cols, datafit, gen, plan):
        """:meth:`_fit_columns` on the screened columns, its record counting them."""
        return replace(self._fit_columns(problem, cols, datafit, gen, None, plan),
                       n_screened=int(cols.size))

    def _fit_columns(self, problem, cols, datafit, gen, walk, plan):
        """The :class:`_FitRecord` of a fit on the columns ``cols`` only, over all of them.

        The screened columns, or the first copies of duplicated ones
        (:meth:`_copies_set_aside`): the others get no support, importance
        or weight, and an exported walk's path (:class:`skl0.L0Path`) none.
        Nothing of the fit is set on the estimator (:meth:`_install` sets
        the record), and no column units are swapped into it: the export
        takes those of ``cols``.
        """
        p = problem.n_features
        sub = self._column_problem(problem, cols, datafit, gram=plan.linear)
        fitted = self._fit_record(sub, datafit, gen, walk, cols=cols, plan=plan)
        if walk is not None and hasattr(walk.result, "prob_open"):  # (PathReader: an L0Path)
            path = walk.result
            support = np.zeros((len(path.support), p), dtype=bool)
            support[:, cols] = path.support
            prob_open = np.zeros((len(path.prob_open), p))
            prob_open[:, cols] = path.prob_open
            walk.result = replace(path, support=support, prob_open=prob_open)
        return fitted.widened(cols, p)

    def _fit_problem(self, problem, datafit, gen, walk=None):
        """Select on a built problem, refit, export; shared with ``partial_fit``."""
        return self._install(self._fit_record(problem, datafit, gen, walk))

    def _fit_record(self, problem, datafit, gen, walk=None, cols=None, plan=None):
        """Select on a built problem, refit and export it: the :class:`_FitRecord`.

        The record is not set on the estimator (:meth:`_install` sets it; a
        walk's reader may still score points through it: the CV folds').
        With ``walk``, the selection is :func:`skl0._walk.run_walk` over its
        grid (no screening: a path reports on every column); with
        ``walk.export=False`` (a cross-validation fold) nothing is refitted
        or exported after it. ``cols``: X's columns that ``problem`` holds
        (:meth:`_fit_columns`), whose units the exported layers take.
        ``plan``: the :class:`_FitPlan`, by default the estimator's own.
        """
        plan = self._fit_plan() if plan is None else plan
        if self._asks_keep_redundant() and getattr(self, "_layout", None) is not None:
            warn(
                "keep_redundant=True has no effect with groups or unequal feature_costs: "
                "exact k then chooses whole groups (or priced columns) by the gates and "
                "their swap search, without the F test that orders its slots. Drop "
                "keep_redundant, or drop groups and feature_costs to use it.",
            )
        elif self._asks_keep_redundant() and self._k is None and (
            self.lam != "auto" or plan.linear
        ):
            warn(
                f"keep_redundant=True has no effect with k=None (lam={self.lam!r}) "
                f"and {'a linear' if plan.linear else 'an MLP'} head: it orders "
                "the k slots of an exact-k selection and completes the held-out "
                "validated support of an MLP head's lam='auto'. Set k or drop "
                "keep_redundant.",
            )
        mean, std = problem.mean, problem.std
        device, dtype = mean.device, mean.dtype
        p, q = problem.n_features, datafit.n_outputs
        gate, head = gate_and_head(problem, self._make_head(p, q, gen, device, dtype,
                                                            plan.hidden),
                                   getattr(self, "_layout", None), self.init_prob,
                                   self.temperature)
        batch_size = self.batch_size
        if batch_size is None and not head.is_linear:
            # An MLP head has no X'X shortcut: each step is a pass over the
            # rows. Past a few hundred rows a step costs more without
            # ranking the gates better (docs/heads.md).
            batch_size = _MLP_BATCH_ROWS
        common = dict(
            alpha=self.alpha, generator=gen, learning_rate=self.learning_rate_init,
            batch_size=batch_size,
        )
        with progress(self.verbose, None, type(self).__name__) as bar, blas_threads(problem):
            # (verbose=0: no per-step callback; the points and steps skip the
            # counts they would pass it)
            reporter = _StepReporter(bar) if bar.shows else None
            if walk is None:
                chosen = select(problem, gate, head, {**common, "report": reporter},
                                self._selection_settings(head, plan))
            else:
                chosen = run_walk(self, walk, problem, gate, head, {**common, "report": reporter})
            support, refitted = chosen.support, chosen.refitted
            # A solve whose start already is its solution takes no step but
            # still makes the one pass that confirms it (scikit-learn's
            # estimators report n_iter_ >= 1).
            fitted = _FitRecord(chosen.lam, max(int(chosen.n_iter), 1), chosen.loss_curve,
                                chosen.validation_scores, chosen.head_losses)
            if walk is not None and not walk.export:
                return fitted  # a fold's fit: its walk's result is all that is read
            mask = torch.zeros(p, device=device, dtype=dtype)
            mask[torch.as_tensor(support, device=device, dtype=torch.long)] = 1
            if self.refit:
                if refitted is not None and datafit.supports_gram:
                    head = refitted
                elif head.is_linear:
                    # A log loss's refits along the selection were warm-started
                    # from their neighbours: the exported model is refitted
                    # from zero, so it depends on the support alone.
                    head = refit_linear_head(problem, support, alpha=self.alpha)[0]
                else:
                    refit_nonlinear_head(
                        problem, head, mask, max_iter=self.max_iter,
                        learning_rate=self.learning_rate_init, alpha=self.alpha,
                        validation=(validation_split(problem, gen, self.validation_fraction)
                                    if self.early_stopping else None),
                    )
                z = mask
            else:
                z = gate.deterministic().detach() * mask  # exact zeros off-support

        kept = np.zeros(p, dtype=bool)
        kept[support] = True
        fitted = replace(fitted, support=kept,
                         importances=gate.prob_open().detach().cpu().double().numpy(),
                         layers=self._export_layers(head, z, mean, std, kept, cols))
        if self.alpha == 0 and head.is_linear and (walk is None or walk.warn_unbounded):
            self._warn_if_no_minimum(problem, head, z, fitted)
        if not kept.any() and (walk is None or walk.warn_empty):
            warn(self._empty_message(walk, head, fitted.lam))
        return fitted

    def _install(self, fitted):
        """Set a :class:`_FitRecord` on the estimator: its fitted attributes and model."""
        self.lam_, self.n_iter_, self.loss_curve_ = fitted.lam, fitted.n_iter, fitted.loss_curve
        if fitted.validation_scores is not None:
            self.validation_scores_ = fitted.validation_scores
        if fitted.support is None:  # a fold's fit
            return self
        self.support_, self.feature_importances_ = fitted.support, fitted.importances
        self._export_groups()
        self._set_layers(fitted.layers)
        if fitted.n_screened is not None:
            self.n_screened_ = fitted.n_screened
        return self

    def _warn_if_no_minimum(self, problem, head, z, fitted):
        """``alpha=0``, a linear head: warn where the exported model's loss has no minimum.

        ``fitted``: the :class:`_FitRecord` of that model (not yet set).

        A no-op here (least squares always has one); the classifier's
        override tests for classes separated by the selected features.
        """

    def _empty_message(self, walk, head, lam):
        """The warning of a fit that kept no feature at ``lam``, with the fix that applies to it."""
        start = f"No feature was selected (lam={lam:.3g}); the model predicts the intercept only."
        if walk is not None or self.lam != "auto":
            return f"{start} Lower lam or set k to keep features."
        if head.is_linear:
            return (f"{start} lam='auto' found no support whose information criterion "
                    "beats the intercept alone; set k (or a number lam) to keep features.")
        return (f"{start} No point of lam='auto''s path predicted the held-out rows "
                "(validation_fraction) better than the intercept alone: if the network "
                f"is still learning, raise max_iter (={self.max_iter}); set k to keep "
                "features anyway.")

    def _export_groups(self):
        """``group_labels_``, ``group_support_`` (and remove them for a fit without ``groups``)."""
        layout = getattr(self, "_groups_layout", None)
        if layout is None or self.groups is None:
            vars(self).pop("group_labels_", None)
            vars(self).pop("group_support_", None)
            return
        self.group_labels_ = layout.labels.copy()
        self.group_support_ = np.zeros(layout.n_groups, dtype=bool)
        self.group_support_[layout.index[self.support_]] = True

    def _show_refit(self, problem, support, head):
        """Make the estimator predict with ``head`` refitted on ``support``.

        For readers of a walk that score each point's model (the folds of
        the cross-validated estimators).
        """
        p = problem.n_features
        self.support_ = np.zeros(p, dtype=bool)
        self.support_[support] = True
        z = torch.zeros(p, device=problem.mean.device, dtype=problem.mean.dtype)
        z[torch.as_tensor(support, device=z.device, dtype=torch.long)] = 1
        self._export(head, z, problem.mean, problem.std)

    def _hidden_sizes(self):
        """The hidden layers of this fit: ``"auto"`` resolves per fit (linear outside one).

        A tuple of Python ints, each checked: ``(8.7,)`` fitted 8 units and
        reported 8.7, and ``(nan,)`` or ``((4,),)`` failed with int()'s errors.
        """
        if isinstance(self.hidden_layer_sizes, str):
            return ()
        sizes = tuple(self.hidden_layer_sizes)
        if not all(is_count(h) for h in sizes):
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} must hold positive "
                "integers (units per layer), e.g. (32,) or (64, 16), or be () for a "
                "linear head, or 'auto'."
            )
        return tuple(int(h) for h in sizes)

    def _is_linear(self):
        return len(self._hidden_sizes()) == 0

    def _fit_plan(self, base=None):
        """The :class:`_FitPlan` of a fit of this estimator's own head (linear for ``"auto"``).

        ``base``: the plan :meth:`_validate_fit_data` made (the facts of X's rows).
        """
        return replace(_FitPlan() if base is None else base, hidden=self._hidden_sizes())

    def _make_head(self, p, q, gen, device=None, dtype=None, hidden=None):
        """A new head for ``p`` features and ``q`` outputs: ``hidden`` sizes (default the estimator's)."""
        sizes = self._hidden_sizes() if hidden is None else hidden  # (checked there)
        if not sizes:
            return LinearHead(p, q, device=device, dtype=dtype)
        init = torch.Generator().manual_seed(int(gen.initial_seed()))
        # drawn on the CPU, then moved (.to of None and None leaves it there)
        return MLPHead(p, sizes, q, self.activation, generator=init).to(device=device, dtype=dtype)

    def _selection_settings(self, head, plan):
        """This fit's :class:`skl0._selection.Settings`, for ``head`` (linear or MLP) and ``plan``."""
        return Settings(
            lam=self.lam, k=self._k, k_param=self.k, refit=self.refit, alpha=self.alpha,
            max_iter=self.max_iter, layout=getattr(self, "_layout", None),
            keep_redundant=self._keeps_redundant(head),
            validation_fraction=self.validation_fraction, init_prob=self.init_prob,
            temperature=self.temperature, classifier=is_classifier(self),
            compare_heads=plan.compare_heads, count_weights=plan.count_weights,
        )

    def _asks_keep_redundant(self):
        """Whether ``keep_redundant`` is set true by the user (``True``, ``np.True_``), not "auto"."""
        return not isinstance(self.keep_redundant, str) and bool(self.keep_redundant)

    def _keeps_redundant(self, head):
        """keep_redundant resolved: ``"auto"`` is True for MLP heads, False for linear ones."""
        if self.keep_redundant == "auto":
            return not head.is_linear
        return bool(self.keep_redundant)

    def _export(self, head, z, mean, std):
        """Set the model of ``head`` gated by ``z`` (:meth:`_export_layers`) on the estimator.

        For the readers that score a point's model through the estimator
        (:meth:`_show_refit`) and the fits that export from their own state
        (``partial_fit``, dask); a fit's own export goes through
        :meth:`_fit_record` and :meth:`_install`.
        """
        self._set_layers(self._export_layers(head, z, mean, std, self.support_))

    def _set_layers(self, layers):
        """Predict with the raw-unit ``layers``; one layer (a linear head) is also ``coef_``."""
        self._layers, self._activation = layers, self.activation
        if len(layers) == 1:
            self._set_linear(layers[0][0].T, layers[0][1])

    def _export_layers(self, head, z, mean, std, support, cols=None):
        """Fold standardization and gates into numpy layers; keep no torch state.

        First layer: ``W1 * (z / std)`` row-wise and ``b1 - (mean z / std) @ W1``,
        so prediction is ``X @ W1' + b1'`` on raw X (rows off the boolean
        ``support`` are 0). ``cols``: X's columns that the head's rows are
        (a fit on some of them, :meth:`_fit_columns`), or None for all.
        """
        def np64(t):
            return t.detach().cpu().double().numpy()

        if head.is_linear:
            weights, biases = [np64(head.weight)], [np64(head.bias)]
        else:
            weights = [np64(W) for W in head.weights]
            biases = [np64(b) for b in head.biases]
        return self._raw_layers(weights, biases, np64(z), np64(mean), np64(std), support, cols)

    def _raw_layers(self, weights, biases, z, mean, std, support, cols=None):
        """The head's numpy layers on raw X, in the task's output units (see :meth:`_export_layers`).

        ``z``, ``mean`` and ``std`` are float64 arrays over the standardized
        columns; rows of the first layer outside the boolean ``support`` are 0.
        ``cols``: X's columns that those are, or None for all of them.
        """
        x_shift, x_scale = getattr(self, "_x_shift", None), getattr(self, "_x_scale", None)
        if cols is not None:
            x_shift = None if x_shift is None else x_shift[cols]
            x_scale = None if x_scale is None else x_scale[cols]
        if x_shift is not None:  # back from shifted columns
            mean = mean + x_shift
        if x_scale is not None:
            mean, std = mean * x_scale, std * x_scale
        weights, biases = list(weights), list(biases)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            scale = z / std
            W1 = weights[0] * scale[:, None]
        W1[~support] = 0.0
        if not np.isfinite(W1).all():
            self._check_raw_weights(W1, weights[0], std, cols)
        biases[0] = biases[0] - (mean * scale) @ weights[0]
        weights[0] = W1
        return self._output_layers(list(zip(weights, biases)))

    def _check_raw_weights(self, raw, standardized, std, cols=None):
        """Refuse kept columns whose weights are finite standardized but overflow in X's units.

        A column whose values are about 1e-310 (subnormal floats) has a
        weight near ``1 / 1e-310`` per unit of X, past float64's 1.8e308: the
        fit itself was fine, but no raw-unit model can hold it (this was
        reported as "training diverged", with the wrong advice).
        """
        bad = np.flatnonzero(~np.isfinite(raw).all(axis=1) & np.isfinite(standardized).all(axis=1))
        if not bad.size:
            return
        names = self._column_names()
        j = int(bad[0])
        column = j if cols is None else int(cols[j])  # (a fit on some of X's columns)
        name = (repr(str(names[column])) if names is not None and column < len(names)
                else str(column))
        raise RawWeightOverflow(
            f"The coefficient of X's column {name} does not fit in float64 in X's units: that "
            f"column's spread is {std[j]:.3g}, so a coefficient of about 1 / {std[j]:.3g} per "
            "unit of X is needed. Rescale that column (e.g. multiply it by 1e20, or put a "
            "sklearn.preprocessing.StandardScaler before the estimator) and fit again."
        )

    def _column_names(self):
        """X's column names for messages, or None.

        ``feature_names_in_``, else the names of the frame that a selector or
        a CV estimator validated before fitting this estimator (its
        ``estimator_``, a fold's) on the array (:func:`naming_columns`).
        """
        names = getattr(self, "feature_names_in_", None)
        return names if names is not None else _MESSAGE_NAMES.get()

    def _output_layers(self, layers):
        """Hook: map the last layer to the task's output units."""
        return layers

    def _set_linear(self, coef, intercept):
        raise NotImplementedError

    # ---------------------------------------------------------------- query
    def _decision(self, X):
        check_is_fitted(self, "support_")
        check_frame(X)  # text, date/time columns and LazyFrames named as in fit
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=False
        )
        return predict_forward(self._layers, self._activation, X)

    def _forward(self, X):
        """The model's output on already validated ``X`` (a tensor: rows a CV estimator holds)."""
        return forward(self._layers, self._activation, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.sparse = True
        return tags


@dataclass(frozen=True)
class _FitRecord:
    """What one fit sets on the estimator, made before it is set (:meth:`BaseL0._install`).

    ``lam``, ``n_iter``, ``loss_curve``, ``validation_scores`` and
    ``head_losses`` are the selection's; ``support`` (boolean),
    ``importances`` and the raw-unit ``layers`` (one for a linear head) the
    exported model's, None for a cross-validation fold's fit,
    which exports none; ``n_screened`` the columns screening kept, None
    where it kept all. Iterated screening compares its rounds' records and
    sets only the kept one.
    """

    lam: float
    n_iter: int
    loss_curve: list
    validation_scores: object = None
    head_losses: object = None
    support: np.ndarray | None = None
    importances: np.ndarray | None = None
    layers: list | None = None
    n_screened: int | None = None

    def widened(self, cols, p):
        """The record of a fit on X's columns ``cols``, over all ``p``: the others unselected, weight 0."""
        if self.support is None:
            return self
        support = np.zeros(p, dtype=bool)
        support[cols] = self.support
        importances = np.zeros(p)
        importances[cols] = self.importances
        W, b = self.layers[0]
        W_full = np.zeros((p, W.shape[1]), dtype=W.dtype)
        W_full[cols] = W
        return replace(self, support=support, importances=importances,
                       layers=[(W_full, b), *self.layers[1:]])


def _counts_nothing(rule):
    """:attr:`_FitPlan.count_weights` where no rule met on the way counts the weights."""


@dataclass(frozen=True)
class _FitPlan:
    """What one fit is told beside its problem, passed down it (:meth:`BaseL0._fit_on_device`).

    Instead of attributes set on the estimator for the fit's duration.
    ``hidden``: the hidden layer sizes of the head it trains, ``()`` for a
    linear head. ``seed``: None seeds the fit from ``random_state``
    (:func:`make_generator`); an int seeds it as given
    (``hidden_layer_sizes="auto"``: one draw for both heads' fits).
    ``compare_heads``: the MLP fit of ``"auto"``, whose validated path also
    walks a linear head's on the same training rows
    (:class:`skl0._selection.Settings`); its record's ``head_losses``.
    ``count_weights``: where the weights' scale is checked only if the
    selection meets a rule that counts them (:meth:`BaseL0._weights_counter`),
    ``Settings.count_weights``. Of X's rows (:meth:`BaseL0._validate_fit_data`):
    ``rows_owned``, rows held on a device that the fit may overwrite (a CV
    estimator's copy, or the fit's own copy of them);
    ``row_statistics``, the sums a CV estimator formed for all its folds
    in one pass (:mod:`skl0._fold_stats`); ``finite_unchecked``, a dense X
    whose finiteness its extremes on the device are to tell.
    """

    hidden: tuple = ()
    seed: int | None = None
    compare_heads: bool = False
    count_weights: object = _counts_nothing
    rows_owned: bool = False
    row_statistics: object = None
    finite_unchecked: bool = False

    @property
    def linear(self):
        return not self.hidden


#: Warm-up fits: CPython 3.11 specializes ("quickens") a function's bytecode
#: once it has been called 8 times, so a function called once per fit is
#: quickened only by the eighth fit.
_WARM_UP_FITS = 8

_training_ready = False
_training_lock = threading.Lock()


def _new_training_lock():
    """A fork's child gets a free lock: one held by another thread at the fork
    (inside :func:`prepare_training`) would never be released there, and the
    child's first ``from skl0 import ...`` would hang."""
    global _training_lock
    _training_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_training_lock)


def prepare_training():
    """Import the training core (torch included) and warm it up, once per process.

    ``skl0.L0Regressor`` and the other public estimators call this when
    they are first looked up (``from skl0 import L0Regressor``), so a
    user's first fit is as fast as the next ones. This module and the
    estimators' own modules import neither torch nor the training code:
    unpickling a fitted model (which names ``skl0._regressor.L0Regressor``)
    and predicting with it needs only numpy, scipy and scikit-learn, and a
    ``fit`` there imports what it needs when it starts (:func:`bind_training`).
    """
    global _training_ready
    with _training_lock:
        if _training_ready:
            return
        from ._classifier import L0Classifier
        from ._regressor import L0Regressor

        warm_up(L0Regressor(k=2, random_state=0))
        warm_up(L0Classifier(k=2, random_state=0), classify=True)
        _training_ready = True


def warm_up(estimator, n_features=6, classify=False):
    """Fit ``estimator`` a few times on a tiny seeded table (:func:`prepare_training`).

    torch, LAPACK and scikit-learn's validation pay for the first call of
    each operation in a process (dispatch tables, kernel choice, lazy
    imports): the first diabetes fit cost 1.75 times the second. Fits
    here keep a user's first fit as fast as the next ones
    (``_WARM_UP_FITS`` of them, on 6 columns with ``k=2`` so that the swap
    search's single swaps run too: about 60 ms added to the seconds that
    importing torch takes). Diabetes k=4, first / second fit over 7 fresh
    processes: median 1.22 with three fits of a 3-column ``k=1`` table,
    1.11 with eight of this one.

    The fits issue no warnings, and none are silenced here:
    ``warnings.catch_warnings`` changes the filters of every thread, so
    another thread's warnings were dropped during the warm-up, and one
    whose own ``catch_warnings`` block spanned it restored "ignore" for the
    whole process (``test_warm_up_fits_leave_the_process_warning_filters_alone``).
    """
    rng = np.random.RandomState(0)
    X = rng.standard_normal((24, n_features))
    y = X[:, 0] + 0.1 * rng.standard_normal(24)
    if classify:
        y = (y > 0).astype(int)
    for _ in range(_WARM_UP_FITS):
        estimator.fit(X, y)
