"""``SparseCalibrator``: the scikit-learn shell around the calibration core."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from .._base import SupportMixin, keep_state_on_failure
from .._checks import check_frame
from .._compat import _fit_context, validate_data
from .._device import grad_enabled, make_generator, resolve_device, resolve_dtype
from .._params import hyperparameters
from .._train import NonFiniteLossError
from .._warn import warn
from ..nn import SampleGate
from ._datafit import RelativeSquaredError, target_coefficients
from ._operator import TotalsOperator
from ._params import ATTRIBUTES, CALIBRATOR, PARAMS
from ._progress import Progress
from ._solver import fit_gated, polish, select_records
from ._validation import (
    best_common_factor,
    check_finite_matrix,
    check_reachable,
    check_record_weights,
    check_target_groups,
    check_target_weights,
    check_targets,
    check_value_range,
    check_weight_range,
    default_target_names,
)

__all__ = ["SparseCalibrator"]

# fit warns when a kept selection misses a target by more than this
# relative error (calibration that fails should say so).
MISSED_TARGET = 0.5


def _new_gate(n, device, dtype):
    """``n`` record gates on ``device`` in ``dtype``, started in float32 and cast.

    Explicitly float32 rather than torch's default dtype, so a caller's
    ``torch.set_default_dtype(torch.float64)`` does not change the start,
    and with it the fit, of a given ``random_state``.
    """
    return SampleGate(n, dtype=torch.float32).to(device=device, dtype=dtype)


@hyperparameters(CALIBRATOR, attributes=ATTRIBUTES, table=PARAMS)
class SparseCalibrator(SupportMixin, BaseEstimator):
    """Pick a small weighted subset of records that reproduces population totals.

    Survey calibration adjusts record weights so that weighted sums of the
    records match known totals (people per region and age band, income per
    region, ...). ``SparseCalibrator`` also decides which records to keep:
    each weight is ``weight_i = exp(log_w_i) * z_i`` with ``z_i`` a Hard
    Concrete gate (:class:`skl0.nn.SampleGate`, Louizos et al. 2017), so
    weights are non-negative by construction and exactly zero where a gate
    is closed. It minimises

    ``sum_j c_j * ((M.T @ weight - targets)_j / scale_j) ** 2
    + lam * E[number of kept records] + l2 * pull``

    by Adam in torch (CPU or CUDA), with ``M`` kept sparse. With ``k`` set,
    ``lam`` is tuned by dual ascent so that the expected count falls to
    ``k``, and the ``k`` records with the highest gate probabilities are
    kept. Finally the weights of the kept records are refitted alone (gates
    fixed) to cut the remaining error.

    Read more in ``docs/calibration.md``.

    %(parameters)s

    %(attributes)s

    See Also
    --------
    skl0.calibration.make_survey : Synthetic survey to try it on.
    skl0.nn.SampleGate : The record gates.

    Examples
    --------
    >>> from skl0.calibration import SparseCalibrator, make_survey
    >>> M, targets, w0, names = make_survey(n_records=2000, n_regions=3,
    ...                                     n_age_bands=4, n_income_brackets=3,
    ...                                     noise=0.0, random_state=0)
    >>> cal = SparseCalibrator(k=200, max_iter=300, random_state=0)
    >>> cal = cal.fit(M, targets, sample_weight=w0)
    >>> cal.n_records_kept_, int((cal.weights_ > 0).sum())
    (200, 200)
    >>> bool(abs(cal.relative_errors_).mean() < 0.01)
    True
    """

    # -- validation -------------------------------------------------------------

    def _validate_inputs(self, M, targets, sample_weight):
        # A DataFrame's column labels, strings or not (feature_names_in_ is
        # set for all-string ones only), to align a targets Series with.
        columns = getattr(M, "columns", None)
        # Duplicated names, text and date/time columns named, with the fix
        # (numpy's "could not convert string to float" and narwhals'
        # DuplicateError named neither M nor the fix).
        check_frame(M, name="M")
        M = validate_data(
            self,
            M,
            reset=True,
            accept_sparse=("csr", "csc", "coo"),
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,
            ensure_min_features=1,
        )
        check_finite_matrix(M)
        n_records, n_targets = M.shape
        names = None if columns is None else np.asarray(list(columns), dtype=object)
        w0 = check_record_weights(sample_weight, n_records)
        if targets is None:  # keep the totals the records have now
            targets = np.asarray(M.T @ w0, dtype=np.float64).ravel()
        targets, names = check_targets(targets, n_targets, names)
        # A Series of target_weights or target_groups is aligned like targets;
        # with no target names (array targets, array or sparse M) only the
        # default index 0..Q-1 is accepted, by position.
        target_weights = check_target_weights(self.target_weights, n_targets, names)
        groups = check_target_groups(self.target_groups, n_targets, names)
        if names is None:
            names = default_target_names(n_targets)
        if self.k is not None and self.k > n_records:
            raise ValueError(
                f"k={self.k} is larger than the {n_records} records (rows) of M; pass "
                f"k <= {n_records}, or k=None to let lam decide."
            )
        if self.k is not None and self.lam == 0:
            # The dual ascent works on log(lam): from 0 it started at the
            # float's tiniest value and never climbed back within max_iter,
            # so the gates were never penalised toward k.
            raise ValueError(
                f"lam=0 with k={self.k}: with k set, lam is the starting point of a "
                "dual ascent on log(lam), which cannot start from 0; pass lam > 0 "
                "(the default 1e-6 serves), or k=None for no penalty."
            )
        check_reachable(M, targets, names)
        return M, targets, w0, names, target_weights, groups

    # -- fit ----------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, M, targets=None, sample_weight=None):
        """Choose the records to keep and their weights.

        Parameters
        ----------
        M : {ndarray, scipy sparse matrix, pandas.DataFrame} of shape \
(n_records, n_targets)
            ``M[i, j]`` is what record ``i`` adds to total ``j`` per unit of
            weight. Sparse input stays sparse (CSR on the device). A
            DataFrame's columns name the targets.
        targets : array-like or pandas.Series of shape (n_targets,) or None, \
default=None
            Population totals. A Series indexed by target names is aligned
            to the columns of a DataFrame ``M`` by label (a default
            ``0..Q-1`` index that names none of them: by position); with an
            array or sparse ``M`` it is read by position and its index,
            unless the default ``0..Q-1``, names the targets. ``None``: the totals the
            records have now, ``M.T @ sample_weight``, so that the fit thins
            the records while keeping their totals.
        sample_weight : array-like of shape (n_records,) or None, default=None
            Initial (design) weights, > 0; the weights start from them
            (rescaled by one common factor that best fits the totals) and
            ``l2`` pulls toward them. ``None`` means all ones.

        Returns
        -------
        self : SparseCalibrator
            The fitted calibrator.
        """
        with keep_state_on_failure(self), grad_enabled():
            return self._fit_unguarded(M, targets, sample_weight)

    def _fit_unguarded(self, M, targets, sample_weight):
        M, targets, w0, names, target_weights, groups = self._validate_inputs(
            M, targets, sample_weight
        )
        n_records = M.shape[0]
        device = resolve_device(self.device)
        dtype = resolve_dtype(self.dtype, M)
        generator = make_generator(self.random_state, device)
        op = TotalsOperator(M, device, dtype)

        # (a contiguous copy first: torch cannot read negative-stride views)
        as_t = lambda a: torch.tensor(np.ascontiguousarray(a), device=device, dtype=dtype)
        scales = np.abs(targets)
        zero = scales == 0
        coef = target_coefficients(len(targets), target_weights, groups)
        if zero.any():
            # A zero target is scaled by its size under the calibrated
            # starting weights: w0 times the factor that best fits the other
            # targets, so that the units of sample_weight (ones or 50s) do
            # not change how much it counts.
            scales[zero] = 1.0
            level = best_common_factor(M, w0, targets, scales, np.where(zero, 0.0, coef))
            size = level * np.asarray(abs(M).T @ w0, dtype=np.float64).ravel()
            scales[zero] = np.where(size[zero] > 0, size[zero], 1.0)
        check_value_range(M, targets, scales, dtype)
        datafit = RelativeSquaredError(as_t(targets), as_t(scales), as_t(coef))
        # Start from the initial weights times the one factor that best fits,
        # found in float64 on the host (totals of 1e20 square past float32).
        factor = best_common_factor(M, w0, targets, scales, coef)
        # The l2 pull's reference is that same calibrated level (times
        # N / kept in the solver): toward the raw design weights, a level
        # the totals cannot have, the pull and the data fit would fight and
        # close gates until no record is left.
        ref_log_w = as_t(np.log(w0) + math.log(factor))
        check_weight_range(np.exp(np.log(w0) + math.log(factor)), dtype)
        log_w = ref_log_w

        progress = Progress(self.verbose, self.max_iter + self.polish_iter)
        try:
            log_w, log_alpha, gated_curve, self.lam_ = fit_gated(
                op,
                datafit,
                log_w,
                lambda n: _new_gate(n, device, dtype),
                lam=self.lam,
                k=self.k,
                l2=self.l2,
                ref_log_w=ref_log_w,
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                prune_tol=self.prune_tol,
                generator=generator,
                callback=progress.gated,
            )
            gate = _new_gate(n_records, device, dtype)
            with torch.no_grad():
                gate.log_alpha.copy_(log_alpha)
            kept, start, prob = select_records(gate, log_w, self.k)
            n_kept = progress.n_kept = kept.numel()
            ref_kept = ref_log_w[kept] + (
                math.log(n_records / n_kept) if n_kept else 0.0
            )
            v, polish_curve = polish(
                op.restrict(kept.cpu().numpy()),
                datafit,
                start,
                l2=self.l2,
                ref_log_w=ref_kept,
                max_iter=self.polish_iter if n_kept else 0,
                learning_rate=self.learning_rate,
                callback=progress.polish,
            )
        finally:
            progress.close()

        weights = np.zeros(n_records)
        # exp(-700) > 0 in float64: a kept record never ends at an exact zero.
        weights[kept.cpu().numpy()] = np.exp(
            np.maximum(v.cpu().numpy().astype(np.float64), -700)
        )
        loss_curve = torch.cat([gated_curve, polish_curve]).cpu().numpy()
        if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(loss_curve))):
            raise NonFiniteLossError(
                "Calibration diverged: the loss or the weights became NaN or infinite "
                f"(learning_rate={self.learning_rate!r}). Lower learning_rate, or check "
                "M and targets for extreme values."
            )
        self._set_fitted(weights, M, targets, scales, names, prob)
        self.loss_curve_ = loss_curve
        self.n_iter_ = int(self.loss_curve_.shape[0])
        worst = int(np.argmax(np.abs(self.relative_errors_)))
        if self.n_records_kept_ and abs(self.relative_errors_[worst]) > MISSED_TARGET:
            warn(
                f"Calibration missed its targets: the relative error of "
                f"{names[worst]!r} is {self.relative_errors_[worst]:+.3g} (more than "
                f"{MISSED_TARGET:.0%}). Raise max_iter or polish_iter, keep more records "
                "(k), or lower l2; see calibration_report_.",
            )
        if self.n_records_kept_ == 0:
            warn(
                f"No record was kept with lam={self.lam!r}; every weight is 0. "
                "Pass a smaller lam, or k to keep exactly k records.",
            )
        return self

    def _set_fitted(self, weights, M, targets, scales, names, prob):
        self.weights_ = weights
        self.support_ = weights > 0
        self.n_records_kept_ = int(self.support_.sum())
        self.gate_probs_ = prob.cpu().numpy().astype(np.float64)
        self.totals_ = np.asarray(M.T @ weights, dtype=np.float64).ravel()
        self.relative_errors_ = (self.totals_ - targets) / scales
        self.calibration_report_ = pd.DataFrame(
            {
                "target": targets,
                "achieved": self.totals_,
                "relative_error": self.relative_errors_,
            },
            index=pd.Index(list(names), name="name"),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # M stays sparse (CSR on the device)
        return tags
