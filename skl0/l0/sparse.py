"""l0-python's ``SparseL0Linear``: a gated linear model on scipy sparse input.

Gates come from :mod:`skl0.nn.hard_concrete` (sampling, ``P(gate != 0)``,
the median gate for prediction); the training loop is l0-python's (Adam on
the mean squared error plus ``lambda_reg`` times the expected L0 count).
For scikit-learn-style sparse regression with exact-``k`` selection, see
:class:`skl0.L0Regressor`, which takes sparse ``X`` too.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from .._adam import Adam
from .._checks import check_int, check_number
from ._compat import _as_scipy, _ClampedGates, _same_matrix, logit, trains

__all__ = ["SparseL0Linear"]


class SparseL0Linear(_ClampedGates, nn.Module):
    """L0-gated linear regression for scipy sparse ``X``, as in l0-python.

    ``y = X @ (weight * z) + bias`` with one Hard Concrete gate ``z`` per
    feature. ``X`` stays sparse (a cached torch COO tensor).

    Parameters
    ----------
    n_features : int
    fit_intercept : bool, default=True
    beta : float, default=2/3
        Hard Concrete temperature.
    gamma, zeta : float, default=-0.1 and 1.1
        Stretch limits.
    init_keep_prob : float, default=0.5
        ``log_alpha`` starts at ``logit(init_keep_prob)`` plus N(0, 0.01^2)
        jitter.
    device : str or torch.device, default="cpu"
    seed : int or None, default=None
        Seeds the jitter of ``log_alpha`` (a local generator); ``None``
        uses torch's global generator.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_features,)
    bias : torch.nn.Parameter of shape (1,) or None
    log_alpha : torch.nn.Parameter of shape (n_features,)

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, torch
    >>> from skl0.l0 import SparseL0Linear
    >>> X = sp.random(50, 6, density=0.5, format="csr", random_state=0)
    >>> y = X @ np.array([2.0, 0, 0, -1.0, 0, 0])
    >>> model = SparseL0Linear(6, seed=0).fit(X, y, epochs=20)
    >>> model.predict(X).shape
    torch.Size([50])
    """

    def __init__(
        self,
        n_features,
        fit_intercept=True,
        beta=2 / 3,
        gamma=-0.1,
        zeta=1.1,
        init_keep_prob=0.5,
        device="cpu",
        seed=None,
    ):
        super().__init__()
        self._store_gate_settings(n_features, beta, gamma, zeta, device, seed)
        self.fit_intercept = fit_intercept
        self.weight = nn.Parameter(torch.zeros(n_features, device=self.device))
        if fit_intercept:
            self.bias = nn.Parameter(torch.zeros(1, device=self.device))
        else:
            self.register_parameter("bias", None)
        noise = torch.randn(n_features, generator=self._generator, device=self.device)
        self.log_alpha = nn.Parameter(logit(init_keep_prob, "init_keep_prob") + 0.01 * noise)
        self._cached_X_torch = None
        self._cached_X_shape = None
        self._cached_X = None  # a copy of the matrix the cache was built from

    def _convert_sparse_to_torch(self, X_sparse):
        """scipy sparse -> torch COO tensor, cached for the same contents.

        l0-python reused its copy for any matrix of the same shape and
        number of non-zeros, so ``predict(X_test)`` returned the
        predictions of the training matrix; as ``SparseCalibrationWeights``,
        the cache here keeps a private copy of ``X`` and holds only while
        ``X`` still equals it (not after an edit in place).
        """
        # Torch (dense or sparse): its scipy copy; a dense array: CSR, as
        # SparseCalibrationWeights takes.
        X_sparse = _as_scipy("X_sparse", X_sparse, np.float64)
        self._check_width(X_sparse)
        if self._cached_X_torch is not None and _same_matrix(X_sparse, self._cached_X):
            return self._cached_X_torch
        coo = sp.coo_matrix(X_sparse)
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        # A normal tensor also under torch.inference_mode() (a predict's):
        # the cached inference tensor made the next fit raise "Inference
        # tensors cannot be saved for backward".
        with torch.inference_mode(False):
            X_torch = torch.sparse_coo_tensor(
                indices.to(self.device),
                torch.as_tensor(coo.data, dtype=torch.float32, device=self.device),
                coo.shape,
                check_invariants=False,
            ).coalesce()
        self._cached_X_torch = X_torch
        self._cached_X_shape = X_sparse.shape
        self._cached_X = X_sparse.copy()
        return X_torch

    def _check_width(self, X):
        if X.ndim != 2:
            raise ValueError(
                f"X_sparse has {X.ndim} dimensions (shape {tuple(X.shape)}); pass a 2-d "
                "matrix (a scipy sparse matrix, an ndarray or a torch tensor)."
            )
        if X.shape[1] != self.n_features:
            raise ValueError(
                f"X_sparse has {X.shape[1]} columns, but this model "
                f"has n_features={self.n_features}; pass X with one column per feature "
                f"(shape (n_samples, {self.n_features})), or build the model with "
                "n_features=X.shape[1]."
            )

    def forward(self, X, deterministic=False):
        """``X @ (weight * gates) + bias`` for scipy sparse, dense or torch ``X`` (a torch ``X`` cast to the weights' dtype)."""
        if torch.is_tensor(X):
            self._check_width(X)
            X = X.to(device=self.device, dtype=self.weight.dtype)
        else:
            X = self._convert_sparse_to_torch(X)
        gates = (
            self.get_deterministic_gates() if deterministic else self._sample_gates()
        )
        y = torch.sparse.mm(X, (self.weight * gates).unsqueeze(1)).squeeze(1)
        if self.bias is not None:
            y = y + self.bias
        return y

    def get_sparsity(self):
        """Share of features whose prediction-time gate is below 0.01."""
        with torch.no_grad():
            return (self.get_deterministic_gates() < 0.01).float().mean().item()

    def get_selected_features(self, threshold=0.01):
        """Indices of the features whose prediction-time gate exceeds ``threshold``."""
        with torch.no_grad():
            return torch.where(self.get_deterministic_gates() > threshold)[0]

    @trains
    def fit(
        self,
        X_sparse,
        y,
        lambda_reg=0.01,
        lr=0.01,
        epochs=1000,
        verbose=False,
        verbose_freq=100,
    ):
        """Adam on ``mean((y - X @ (w * z) - b) ** 2) + lambda_reg * E[L0]``.

        The weights restart from N(0, 0.1^2) draws (torch's global
        generator) and the bias from ``mean(y)``; the gates continue from
        their current ``log_alpha``.

        Parameters
        ----------
        X_sparse : scipy sparse matrix or array, ndarray, or torch tensor (dense or
            sparse, any float dtype) of shape (n_samples, n_features)
            A dense array is converted to CSR. Another number of columns than
            ``n_features`` raises a ValueError.
        y : array-like or torch.Tensor of shape (n_samples,) or (n_samples, 1)
            Finite targets, one per row of ``X_sparse`` (else a ValueError).
        lambda_reg : float, default=0.01
            Finite, >= 0.
        lr : float, default=0.01
            Finite, >= 0.
        epochs : int, default=1000
            An integer >= 0.
        verbose : bool, default=False
        verbose_freq : int, default=100

        Returns
        -------
        self

        Raises
        ------
        ValueError
            For the arguments above out of range, an ``X_sparse`` with no rows
            or with NaN or infinity.
        skl0._train.NonFiniteLossError
            When the loss or the parameters become NaN or infinite (too large
            an ``lr``, or ``X_sparse`` / ``y`` of extreme size); a fit that
            raises leaves ``weight``, ``bias`` and ``log_alpha`` as they were.
        """
        # As SparseCalibrationWeights.fit: epochs=-1 trained nothing without a
        # word, epochs=1.5 raised Python's range() error, and a NaN lambda_reg
        # trained to NaN weights.
        epochs = check_int("epochs", epochs, 0, "a number of Adam steps")
        check_number("lr", lr, lambda v: v >= 0,
                     "a step size >= 0, e.g. 0.01 (0 evaluates the objective)")
        check_number("lambda_reg", lambda_reg, lambda v: v >= 0, "a penalty >= 0")
        if verbose:
            check_int("verbose_freq", verbose_freq, 1, "epochs between reports")
        y = torch.as_tensor(np.asarray(y, dtype=np.float64) if not torch.is_tensor(y) else y)
        y = y.detach().reshape(-1).to(device=self.device, dtype=torch.float32)
        X = self._convert_sparse_to_torch(X_sparse)
        if X.shape[0] == 0:  # mean(y) of no rows started the bias at NaN
            raise ValueError(
                f"X_sparse has no rows (shape {tuple(X.shape)}); pass at least one sample."
            )
        if y.numel() != X.shape[0]:
            raise ValueError(
                f"y has {y.numel()} entries but X_sparse has {X.shape[0]} rows; pass one "
                "target per row of X_sparse."
            )
        n_bad = int((~torch.isfinite(y)).sum())
        if n_bad:
            raise ValueError(f"y contains {n_bad} NaN or infinite value(s); pass finite targets.")
        n_bad = int((~torch.isfinite(X.values())).sum())
        if n_bad:  # (trained to NaN weights and predictions before)
            raise ValueError(
                f"X_sparse contains {n_bad} NaN or infinite value(s); every entry must be "
                "finite. Impute or drop them before calling fit."
            )
        # A fit that diverges leaves the parameters as they were.
        saved = [p.detach().clone() for p in self.parameters()]
        try:
            return self._train(X, y, lambda_reg, lr, epochs, verbose, verbose_freq)
        except BaseException:
            with torch.no_grad():
                for p, old in zip(self.parameters(), saved):
                    p.copy_(old)
            raise

    def _train(self, X, y, lambda_reg, lr, epochs, verbose, verbose_freq):
        with torch.no_grad():
            nn.init.normal_(self.weight, 0, 0.1)
            if self.bias is not None:
                self.bias.fill_(y.mean())
        params = [self.weight, self.log_alpha]
        if self.bias is not None:
            params.append(self.bias)
        optimizer = Adam(params, lr)  # torch.optim.Adam's update (skl0._adam)
        losses = torch.empty(epochs, device=self.device)
        for epoch in range(epochs):
            mse = (y - self.forward(X)).pow(2).mean()
            l0 = self.get_l0_penalty()
            loss = mse + lambda_reg * l0
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[epoch] = loss.detach()
            if verbose and (epoch + 1) % verbose_freq == 0:
                n_active = int((self.get_deterministic_gates() > 0.01).sum())
                print(
                    f"Epoch {epoch + 1:4d}: loss={loss.item():.4f}, "
                    f"mse={mse.item():.4f}, l0={l0.item():.2f}, active={n_active}"
                )
        # Checked once, after the loop (no host synchronisation per epoch):
        # a diverged fit returned NaN weights and predictions without a word.
        if not (bool(torch.isfinite(losses).all())
                and all(bool(torch.isfinite(p).all()) for p in self.parameters())):
            from .._train import NonFiniteLossError

            raise NonFiniteLossError(
                f"SparseL0Linear diverged: the loss or the weights became NaN or infinite "
                f"(lr={lr!r}). Lower lr, or rescale X_sparse and y (e.g. to unit "
                "variance)."
            )
        return self

    def predict(self, X_sparse):
        """Predictions with the prediction-time gates (no gradient)."""
        with torch.no_grad():
            return self.forward(X_sparse, deterministic=True)
