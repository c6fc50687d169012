"""l0-python's ``SparseCalibrationWeights`` on skl0's calibration core.

The matrix products run on :class:`skl0.calibration._operator.TotalsOperator`
(sparse CSR, both orientations kept, no densification), the loss is
:class:`skl0.calibration._datafit.RelativeSquaredError` and the gates come
from :mod:`skl0.nn.hard_concrete`. What stays l0-python's: the
parameterisation (``log_weight``, ``log_alpha`` as module parameters), the
initialisation, the loss (summed, not averaged, with a ``y + 1`` scale for
``loss_type="relative"``), the L2 term on the weights, and the Adam loop
over ``epochs``. For exact-``k`` record selection, a relative error scaled
by ``|target|`` and a final refit of the kept weights, use
:class:`skl0.calibration.SparseCalibrator`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from .._adam import Adam
from .._checks import check_int, check_number
from ..calibration._datafit import RelativeSquaredError
from ..calibration._operator import TotalsOperator
from ..calibration._validation import check_target_groups
from ._compat import _as_scipy, _ClampedGates, _same_matrix, trains

__all__ = ["SparseCalibrationWeights"]


def _per_record(value, n, name, device, clamp=False):
    """``value`` (a scalar, numpy scalars and 0-d arrays included, or ``n`` values) as a tensor."""
    if torch.is_tensor(value):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise ValueError(f"{name} array must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} holds NaN or infinite values; pass finite values (a scalar or "
            f"one per record, shape ({n},))."
        )
    t = torch.as_tensor(arr, dtype=torch.float32, device=device)
    return t.clamp(1e-6, 1 - 1e-6) if clamp else t


def _group_coefficients(n_targets, target_groups, normalize_groups, multipliers):
    """l0-python's per-target loss weights (numpy float64)."""
    if multipliers is not None and target_groups is None:
        raise ValueError("group_multipliers requires target_groups to be set")
    coef = np.ones(n_targets)
    if target_groups is None:
        return coef
    groups = np.asarray(target_groups).ravel()
    if groups.shape[0] != n_targets:
        raise ValueError(
            f"target_groups has {groups.shape[0]} labels but M has {n_targets} rows "
            f"(targets); pass one group label per row of M (len == {n_targets})."
        )
    # Missing labels (a NaN was a group of its own, a None raised numpy's
    # "'<' not supported") and labels of kinds that cannot be sorted beside
    # each other: SparseCalibrator's checks and messages.
    check_target_groups(groups, n_targets)
    if normalize_groups:
        _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
        coef = 1.0 / counts[inverse.ravel()]
    if multipliers is not None and not isinstance(multipliers, Mapping):
        raise ValueError(
            f"group_multipliers is a {type(multipliers).__name__}; pass a dict from "
            "group label to its loss multiplier, e.g. {label: 2.0}."
        )
    for gid, mult in (multipliers or {}).items():
        mask = groups == gid
        if not mask.any():
            raise ValueError(f"group_multipliers key {gid} not found in target_groups")
        # A negative multiplier made the objective unbounded below (the fit
        # chased a loss of -inf); a NaN one diverged with a message blaming lr.
        check_number(f"group_multipliers[{gid!r}]", mult, lambda v: v >= 0,
                     "a finite multiplier >= 0 (0 drops that group's terms)")
        coef[mask] *= mult
    return coef


class SparseCalibrationWeights(_ClampedGates, nn.Module):
    """Non-negative, L0-sparse calibration weights, as in l0-python.

    ``weights = exp(log_weight) * z`` with one Hard Concrete gate ``z`` per
    record; ``M @ weights`` should match the targets ``y``. ``M`` is
    targets x records (the transpose of
    :class:`skl0.calibration.SparseCalibrator`'s input).

    Parameters
    ----------
    n_features : int
        Number of records (weights).
    beta : float, default=2/3
        Hard Concrete temperature.
    gamma, zeta : float, default=-0.1 and 1.1
    init_keep_prob : float or array-like of shape (n_features,), default=0.5
        ``log_alpha`` starts at ``logit(init_keep_prob)`` (clipped to
        ``[1e-6, 1 - 1e-6]``) plus jitter.
    init_weights : float, array-like of shape (n_features,) or None, default=None
        Initial weights; ``None`` means 1.
    log_weight_jitter_sd : float, default=0.0
        Sd of the noise added to ``log_weight`` at the start of :meth:`fit`.
    log_alpha_jitter_sd : float, default=0.01
        Sd of the noise added to ``log_alpha`` at construction.
    device : str or torch.device, default="cpu"
    use_gates : bool, default=True
        ``False`` gives plain positive weights ``exp(log_weight)``.
    seed : int or None, default=None
        Seeds the two jitters (a local generator); ``None`` uses torch's
        global generator. The gate noise of :meth:`fit` always comes from
        torch's global generator, as in l0-python.

    Attributes
    ----------
    log_weight, log_alpha : torch.nn.Parameter of shape (n_features,)
    loss_curve_ : torch.Tensor of shape (epochs,)
        Objective at each epoch of the last :meth:`fit`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from skl0.l0 import SparseCalibrationWeights
    >>> M = sp.random(5, 40, density=0.5, format="csr", random_state=0)
    >>> y = M @ np.ones(40)
    >>> model = SparseCalibrationWeights(40, seed=0)
    >>> model = model.fit(M, y, lambda_l0=1e-4, lr=0.2, epochs=500, loss_type="relative")
    >>> bool(np.abs(model.predict(M).numpy() / y - 1).mean() < 0.1)
    True
    """

    def __init__(
        self,
        n_features,
        beta=2 / 3,
        gamma=-0.1,
        zeta=1.1,
        init_keep_prob=0.5,
        init_weights=None,
        log_weight_jitter_sd=0.0,
        log_alpha_jitter_sd=0.01,
        device="cpu",
        use_gates=True,
        seed=None,
    ):
        super().__init__()
        self._store_gate_settings(n_features, beta, gamma, zeta, device, seed)
        # A negative or NaN sd fell through "sd > 0" to no jitter without a word.
        for name, sd in (("log_weight_jitter_sd", log_weight_jitter_sd),
                         ("log_alpha_jitter_sd", log_alpha_jitter_sd)):
            check_number(name, sd, lambda v: v >= 0, "a standard deviation >= 0 (0: no jitter)")
        self.log_weight_jitter_sd = log_weight_jitter_sd
        self.log_alpha_jitter_sd = log_alpha_jitter_sd
        self.use_gates = use_gates
        w = (
            torch.ones(n_features, device=self.device)
            if init_weights is None
            else _per_record(init_weights, n_features, "init_weights", self.device)
        )
        if bool((w < 0).any()):
            raise ValueError(
                f"init_weights holds negative values (smallest {float(w.min()):g}); the "
                "weights are exp(log_weight) >= 0, so pass non-negative starting weights."
            )
        self.log_weight = nn.Parameter(torch.log(w + 1e-8))
        p = _per_record(
            init_keep_prob, n_features, "init_keep_prob", self.device, clamp=True
        )
        mu = torch.log(p / (1 - p))
        if log_alpha_jitter_sd > 0:
            noise = torch.randn(
                n_features, generator=self._generator, device=self.device
            )
            mu = mu + log_alpha_jitter_sd * noise
        self.log_alpha = nn.Parameter(mu)
        self._cached_M = None
        self._cached_op = None

    # -- gates and weights ---------------------------------------------------

    def get_weights(self, deterministic=False):
        """``exp(log_weight) * gates`` (sampled unless ``deterministic``)."""
        w = torch.exp(self.log_weight)
        if not self.use_gates:
            return w
        gates = (
            self.get_deterministic_gates() if deterministic else self._sample_gates()
        )
        return w * gates

    def _operator(self, M):
        """The totals operator of ``M`` (targets x records), cached for the same contents.

        The cache holds a private copy of ``M`` and is reused only while
        ``M`` still equals it, so a matrix edited in place (``M.data *= 2``)
        or another matrix of the same size gets its own operator. A torch
        tensor (dense or sparse) is read as the scipy matrix it holds.
        """
        M = _as_scipy("M", M)
        if M.ndim != 2 or M.shape[1] != self.n_features:
            raise ValueError(
                f"M has shape {M.shape}, but this model has n_features={self.n_features} "
                f"weights; pass M as targets x records with {self.n_features} columns (one "
                "per record), or build the model with n_features=M.shape[1]."
            )
        if self._cached_op is None or not _same_matrix(M, self._cached_M):
            with torch.inference_mode(False):  # (as SparseL0Linear's cached X)
                self._cached_op = TotalsOperator(
                    sp.csr_matrix(M.T), self.device, torch.float32
                )
            self._cached_M = M.copy()
        return self._cached_op

    def forward(self, M, deterministic=False):
        """``M @ weights``: the achieved totals, shape (n_targets,)."""
        return self._operator(M).totals(self.get_weights(deterministic=deterministic))

    # -- penalties and summaries ---------------------------------------------

    def get_l2_penalty(self):
        """``sum(exp(log_weight) ** 2)``."""
        return (torch.exp(self.log_weight) ** 2).sum()

    def get_sparsity(self):
        """Share of records whose prediction-time gate is exactly 0."""
        with torch.no_grad():
            return (self.get_deterministic_gates() == 0).float().mean().item()

    def get_active_weights(self):
        """``{"indices", "values", "count"}`` of the non-zero weights."""
        with torch.no_grad():
            weights = self.get_weights(deterministic=True)
            active = weights > 0
            return {
                "indices": torch.where(active)[0],
                "values": weights[active],
                "count": active.sum().item(),
            }

    # -- fit -----------------------------------------------------------------

    @trains
    def fit(
        self,
        M,
        y,
        lambda_l0=0.01,
        lambda_l2=0.0,
        lr=0.01,
        epochs=1000,
        loss_type="mse",
        verbose=False,
        verbose_freq=100,
        target_groups=None,
        normalize_groups=True,
        group_multipliers=None,
    ):
        """Adam on l0-python's objective for ``epochs`` steps.

        ``sum_j c_j * r_j ** 2 + lambda_l0 * E[L0] + lambda_l2 * sum(w ** 2)``
        with ``r = (y - M @ weights) / (y + 1)`` (``loss_type="relative"``)
        or ``y - M @ weights`` (``"mse"``), and ``c_j`` 1, or
        ``1 / size of j's group`` with ``target_groups`` and
        ``normalize_groups``, times ``group_multipliers[group]``.

        Parameters
        ----------
        M : scipy sparse matrix or array, ndarray, or torch tensor (dense or
            sparse, any float dtype) of shape (n_targets, n_features)
        y : array-like of shape (n_targets,)
        lambda_l0 : float, default=0.01
        lambda_l2 : float, default=0.0
        lr : float, default=0.01
        epochs : int, default=1000
        loss_type : {"mse", "relative"}, default="mse"
        verbose : bool, default=False
        verbose_freq : int, default=100
        target_groups : array-like of shape (n_targets,) or None, default=None
        normalize_groups : bool, default=True
        group_multipliers : dict or None, default=None

        Returns
        -------
        self
        """
        if loss_type not in ("mse", "relative"):
            raise ValueError(
                f"loss_type={loss_type!r} is invalid; pass 'mse' or 'relative'."
            )
        epochs = check_int("epochs", epochs, 0, "a number of Adam steps")
        check_number("lr", lr, lambda v: v >= 0, "a step size >= 0, e.g. 0.01 (0 evaluates the objective)")
        for name, value in (("lambda_l0", lambda_l0), ("lambda_l2", lambda_l2)):
            check_number(name, value, lambda v: v >= 0, "a penalty >= 0")
        if verbose:
            check_int("verbose_freq", verbose_freq, 1, "epochs between reports")
        if torch.is_tensor(M):
            M = _as_scipy("M", M)
        y_np = np.asarray(y, dtype=np.float64).ravel()
        n_targets = M.shape[0] if hasattr(M, "shape") else len(M)
        if y_np.size != n_targets:
            raise ValueError(
                f"y has {y_np.size} entries but M has {n_targets} rows (targets); pass "
                "one target total per row of M."
            )
        if not np.isfinite(y_np).all():
            raise ValueError(
                f"y contains {int((~np.isfinite(y_np)).sum())} NaN or infinite value(s); "
                "pass finite target totals."
            )
        if loss_type == "relative" and (y_np == -1).any():
            j = int(np.flatnonzero(y_np == -1)[0])
            raise ValueError(
                f"y[{j}]=-1.0 with loss_type='relative': that loss divides each error "
                "by y + 1, which is 0 there; pass loss_type='mse', or drop that target "
                "(its row of M and its entry of y)."
            )
        coef = _group_coefficients(
            len(y_np), target_groups, normalize_groups, group_multipliers
        )
        as_t = lambda a: torch.as_tensor(a, dtype=torch.float32, device=self.device)
        scales = y_np + 1 if loss_type == "relative" else np.ones_like(y_np)
        datafit = RelativeSquaredError(as_t(y_np), as_t(scales), as_t(coef))
        op = self._operator(M)
        values = M.tocoo().data if sp.issparse(M) else np.asarray(M, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(
                f"M contains {int((~np.isfinite(values)).sum())} NaN or infinite "
                "value(s); every entry of M must be finite. Replace missing "
                "contributions by 0 before calling fit."
            )
        # A fit that diverges leaves the parameters (and loss_curve_) as they were.
        saved = (self.log_weight.detach().clone(), self.log_alpha.detach().clone(),
                 vars(self).get("loss_curve_"))
        try:
            if self.log_weight_jitter_sd > 0:
                with torch.no_grad():
                    noise = torch.randn(
                        self.log_weight.shape, generator=self._generator, device=self.device
                    )
                    self.log_weight.add_(self.log_weight_jitter_sd * noise)
            return self._train(op, datafit, y_np, lambda_l0, lambda_l2, lr, epochs,
                               verbose, verbose_freq)
        except BaseException:
            with torch.no_grad():
                self.log_weight.copy_(saved[0])
                self.log_alpha.copy_(saved[1])
            if saved[2] is None:
                vars(self).pop("loss_curve_", None)
            else:
                self.loss_curve_ = saved[2]
            raise

    def _train(self, op, datafit, y_np, lambda_l0, lambda_l2, lr, epochs, verbose,
               verbose_freq):
        optimizer = Adam([self.log_weight, self.log_alpha], lr)  # torch.optim.Adam's (skl0._adam)
        losses = torch.empty(epochs, device=self.device)
        for epoch in range(epochs):
            data_loss = datafit(op.totals(self.get_weights()))
            l0 = self.get_l0_penalty()
            loss = data_loss + lambda_l0 * l0
            if lambda_l2 > 0:
                loss = loss + lambda_l2 * self.get_l2_penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[epoch] = loss.detach()
            if verbose and (epoch + 1) % verbose_freq == 0:
                self._report(epoch, op, y_np, loss)
        self.loss_curve_ = losses
        # Checked once, after the loop (no host synchronisation per epoch).
        if not (bool(torch.isfinite(losses).all()) and bool(torch.isfinite(self.log_weight).all())
                and bool(torch.isfinite(self.log_alpha).all())):
            from .._train import NonFiniteLossError

            raise NonFiniteLossError(
                f"Calibration diverged: the loss or the weights became NaN or infinite "
                f"(lr={lr!r}). Lower lr, or check M, y and init_weights for extreme values."
            )
        return self

    def _report(self, epoch, op, y, loss):
        with torch.no_grad():
            achieved = op.totals(self.get_weights(deterministic=True)).cpu().numpy()
            count = self.get_active_weights()["count"]
        err = np.abs((y - achieved) / (y + 1))
        print(
            f"Epoch {epoch + 1:4d}: mean_error={err.mean():.4%}, "
            f"max_error={err.max():.1%}, total_loss={loss.item():.3f}, "
            f"active={count:4d}/{self.n_features} "
            f"({100 * (1 - count / self.n_features):.1f}% sparse)"
        )

    def predict(self, M):
        """``M @ weights`` with the prediction-time gates (no gradient)."""
        with torch.no_grad():
            return self.forward(M, deterministic=True)
