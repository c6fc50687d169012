"""``SparseCalibrator``: the scikit-learn shell around the calibration core."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from .._base import SupportMixin, grad_enabled, keep_state_on_failure
from .._compat import Interval, StrOptions, _fit_context, validate_data
from .._device import make_generator, resolve_device, resolve_dtype
from .._train import NonFiniteLossError
from ..nn import SampleGate
from ._datafit import RelativeSquaredError, target_coefficients
from ._operator import TotalsOperator
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
    check_weight_range,
    default_target_names,
)

__all__ = ["SparseCalibrator"]

# fit warns when a kept selection misses a target by more than this
# relative error (calibration that fails should say so).
MISSED_TARGET = 0.5


class SparseCalibrator(SupportMixin, BaseEstimator):
    """Pick a small weighted subset of records that reproduces population totals.

    Survey calibration adjusts record weights so that weighted sums of the
    records match known totals (people per region and age band, income per
    region, ...). ``SparseCalibrator`` also decides which records to keep:
    each weight is ``weight_i = exp(log_w_i) * z_i`` with ``z_i`` a Hard
    Concrete gate (:class:`skl0.nn.SampleGate`, Louizos et al. 2017), so
    weights are non-negative by construction and exactly zero where a gate
    is closed. It minimises

    ``mean_j c_j * ((M.T @ weight - targets)_j / scale_j) ** 2
    + lam * E[number of kept records] + l2 * pull``

    by Adam in torch (CPU or CUDA), with ``M`` kept sparse. With ``k`` set,
    ``lam`` is tuned by dual ascent so that the expected count falls to
    ``k``, and the ``k`` records with the highest gate probabilities are
    kept. Finally the weights of the kept records are refitted alone (gates
    fixed) to cut the remaining error.

    Read more in ``docs/calibration.md``.

    Parameters
    ----------
    k : int or None, default=None
        Number of records to keep, exactly. ``None`` lets ``lam`` decide.
    lam : float, default=1e-6
        Penalty per kept record, in units of the loss (a mean squared
        relative error). Ignored as a fixed value when ``k`` is set; it
        is then only the starting point of the dual ascent.
    target_weights : array-like of shape (n_targets,) or None, default=None
        Non-negative importance of each target in the loss.
    target_groups : array-like of shape (n_targets,) or None, default=None
        Group label of each target; each group's squared errors are
        averaged, so every group counts alike however many targets it has.
    l2 : float, default=0.0
        Strength of an L2 pull of ``log(weight_i)`` toward
        ``log(a * initial_weight_i * N / n_kept)``, averaged over records:
        ``a`` is the one common factor that best fits the totals (where
        the weights start), and ``N / n_kept`` scales the reference up so
        the kept records carry the dropped ones' share. A pull on the log
        (relative) scale, so a weight twice its reference costs as much as
        one half of it. On its own (``lam=0``) it keeps every record.
    max_iter : int, default=1000
        Gradient steps of the gated stage.
    polish_iter : int, default=300
        Gradient steps of the final refit of the kept records' weights
        (0 skips it).
    learning_rate : float, default=0.1
        Adam step size for log-weights and gate parameters.
    prune_tol : float, default=0.05
        During training, records whose ``P(gate != 0)`` falls below
        ``prune_tol`` leave the computation for good, so later steps cost
        less (never fewer than ``k`` stay). Such records have a closed
        deterministic gate already. 0 keeps every record in every step.
    device : str, default="auto"
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``. Asking for CUDA without it raises a ``ValueError``.
    dtype : {"float32", "float64"} or None, default=None
        Floating point type of the computation; ``None`` follows ``M``
        (float32 for a float32 ``M``, else float64), as scikit-learn does.
    random_state : int, RandomState instance or None, default=None
        Seeds a local ``torch.Generator`` for the gate noise; torch's global
        random state is never touched. ``None`` draws the seed from numpy's
        global RNG (one draw per fit, as scikit-learn does); an int or a
        ``RandomState`` leaves numpy's global state alone.
    verbose : int, default=0
        0 is silent; 1 shows a tqdm progress bar with the loss and the
        number of kept records (periodic prints when tqdm is missing).

    Attributes
    ----------
    weights_ : ndarray of shape (n_records,)
        Calibrated weights, >= 0, exactly 0 for dropped records.
    support_ : ndarray of bool of shape (n_records,)
        True for kept records (``weights_ > 0``).
    n_records_kept_ : int
        Number of kept records (``k`` when ``k`` is set).
    gate_probs_ : ndarray of shape (n_records,)
        ``P(gate != 0)`` of each record at the end of the gated stage.
    totals_ : ndarray of shape (n_targets,)
        Achieved totals ``M.T @ weights_``.
    relative_errors_ : ndarray of shape (n_targets,)
        ``(totals_ - targets) / scale``: the relative error of each target
        (for a zero target the scale is its total under the initial
        weights).
    calibration_report_ : pandas.DataFrame
        One row per target, indexed by target name (the columns of a
        DataFrame ``M``, the index of a Series ``targets``, else
        ``target_0``, ...), with columns ``target``, ``achieved`` and
        ``relative_error``.
    lam_ : float
        ``lam`` at the end of the gated stage (tuned when ``k`` is set).
    n_iter_ : int
        Gradient steps run (gated stage plus polish).
    loss_curve_ : ndarray of shape (n_iter,)
        Objective at each step: the gated stage, then the polish.
    n_features_in_ : int
        Number of targets ``Q`` (columns of ``M``).
    feature_names_in_ : ndarray of shape (n_features_in,)
        Target names, when ``M`` is a DataFrame with string columns.

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

    _parameter_constraints: ClassVar[dict] = {
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "lam": [Interval(Real, 0, None, closed="left")],
        "target_weights": ["array-like", None],
        "target_groups": ["array-like", None],
        "l2": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "polish_iter": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "prune_tol": [Interval(Real, 0, 1, closed="left")],
        "device": [StrOptions({"auto", "cpu"}), str],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        k=None,
        *,
        lam=1e-6,
        target_weights=None,
        target_groups=None,
        l2=0.0,
        max_iter=1000,
        polish_iter=300,
        learning_rate=0.1,
        prune_tol=0.05,
        device="auto",
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.k = k
        self.lam = lam
        self.target_weights = target_weights
        self.target_groups = target_groups
        self.l2 = l2
        self.max_iter = max_iter
        self.polish_iter = polish_iter
        self.learning_rate = learning_rate
        self.prune_tol = prune_tol
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # -- validation -------------------------------------------------------------

    def _validate_inputs(self, M, targets, sample_weight):
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
        names = getattr(self, "feature_names_in_", None)
        w0 = check_record_weights(sample_weight, n_records)
        if targets is None:  # keep the totals the records have now
            targets = np.asarray(M.T @ w0, dtype=np.float64).ravel()
        targets, names = check_targets(targets, n_targets, names)
        if names is None:
            names = default_target_names(n_targets)
        if self.k is not None and self.k > n_records:
            raise ValueError(
                f"k={self.k} is larger than the {n_records} records (rows) of M; pass "
                f"k <= {n_records}, or k=None to let lam decide."
            )
        check_reachable(M, targets, names)
        target_weights = check_target_weights(self.target_weights, n_targets)
        groups = check_target_groups(self.target_groups, n_targets)
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
            to the columns of a DataFrame ``M``. ``None``: the totals the
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

        as_t = lambda a: torch.tensor(a, device=device, dtype=dtype)
        scales = np.abs(targets)
        zero = scales == 0
        if zero.any():  # a zero target: scale by its size under the initial weights
            size = np.asarray(abs(M).T @ w0, dtype=np.float64).ravel()
            scales[zero] = np.where(size[zero] > 0, size[zero], 1.0)
        coef = target_coefficients(len(targets), target_weights, groups)
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
                lambda n: SampleGate(n).to(device=device, dtype=dtype),
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
            gate = SampleGate(n_records).to(device=device, dtype=dtype)
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
            warnings.warn(
                f"Calibration missed its targets: the relative error of "
                f"{names[worst]!r} is {self.relative_errors_[worst]:+.3g} (more than "
                f"{MISSED_TARGET:.0%}). Raise max_iter or polish_iter, keep more records "
                "(k), or lower l2; see calibration_report_.",
                UserWarning,
                stacklevel=2,
            )
        if self.n_records_kept_ == 0:
            warnings.warn(
                f"No record was kept with lam={self.lam!r}; every weight is 0. "
                "Pass a smaller lam, or k to keep exactly k records.",
                UserWarning,
                stacklevel=2,
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
