"""Shared plumbing of :mod:`skl0.l0`: checkpoint key names, the logit init and
the clamped gates of the two sparse models.

l0-python names the gate module of a layer ``weight_gates`` or
``channel_gates`` and its parameter ``qz_logits``; the skl0.nn layers call
the gate ``l0_gate``. :class:`_RenamedState` writes state dicts under the
l0-python names and reads either, so checkpoints move both ways.
"""

from __future__ import annotations

import functools
import math
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch

from .._checks import check_int, check_number
from .._device import grad_enabled, resolve_device
from ..nn.gates import _PicklableGenerators
from ..nn.hard_concrete import median_gate, prob_nonzero, sample_gate

__all__ = [
    "logit", "trains", "_ClampedGates", "_RenamedState", "_as_scipy", "_same_matrix",
]


def logit(p, name="init_mean"):
    """``log(p / (1 - p))``: l0-python's initial gate logit for a mean ``p``.

    Note that this sets ``log_alpha`` itself, so ``P(gate != 0)`` is not
    ``p`` (skl0.nn inverts eq. 12 of Louizos et al. instead). A ``p`` outside
    (0, 1) raises a ValueError naming the argument ``name``.
    """
    if not 0 < p < 1:
        raise ValueError(
            f"{name}={p!r} is invalid; pass an initial gate mean strictly between 0 and 1 "
            "(its logit log(p / (1 - p)) starts the gates)."
        )
    return math.log(p / (1 - p))


def trains(fit):
    """``fit`` with autograd on, whatever the caller's mode (a decorator).

    :func:`skl0._device.grad_enabled`, as around the estimators' ``fit``:
    inside ``torch.no_grad()`` or ``torch.inference_mode()`` (common right
    after an evaluation) the fit raised torch's "element 0 of tensors does
    not require grad"; the caller's mode is back in force when it returns.
    """
    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        with grad_enabled():
            return fit(self, *args, **kwargs)

    return wrapper


def _as_scipy(name, M, dtype=None):
    """``M`` (scipy sparse, array-like, or a torch tensor dense or sparse) as a scipy matrix.

    A torch tensor is read on the host as the matrix it holds (a sparse one
    as float64 CSR, duplicates summed). A dense input must be 2-d: scipy's
    own message for a 3-d one ("CSR arrays don't yet support 3D") named
    neither the argument nor the fix. A 1-d input stays one row, as scipy
    reads it.
    """
    if torch.is_tensor(M):
        M = M.detach().cpu()
        if M.layout != torch.strided:
            return _scipy_from_sparse_tensor(name, M)
        M = M.to(torch.float64).numpy()
    if sp.issparse(M):
        return M
    M = np.asarray(M, dtype=dtype)
    if M.ndim > 2:
        raise ValueError(
            f"{name} has {M.ndim} dimensions (shape {M.shape}); pass a 2-d matrix "
            "(a scipy sparse matrix, an ndarray or a torch tensor)."
        )
    return sp.csr_matrix(M)


def _scipy_from_sparse_tensor(name, t):
    """The sparse host tensor ``t`` (any sparse layout) as a float64 scipy CSR matrix."""
    coo = (t if t.layout == torch.sparse_coo else t.to_sparse_coo()).coalesce()
    if coo.sparse_dim() != 2 or coo.dense_dim() != 0:
        raise ValueError(
            f"{name} is a torch sparse tensor of shape {tuple(t.shape)} (sparse_dim "
            f"{coo.sparse_dim()}, dense_dim {coo.dense_dim()}), not a matrix; pass a "
            "2-d torch or scipy sparse matrix."
        )
    rows, cols = coo.indices().numpy()
    values = coo.values().to(torch.float64).numpy()
    return sp.csr_matrix((values, (rows, cols)), shape=tuple(coo.shape))


def _same_matrix(M, cached):
    """True when the scipy sparse ``M`` holds exactly what ``cached`` holds (same layout)."""
    if cached is None or M.format != cached.format or M.shape != cached.shape:
        return False
    parts = ("row", "col", "data") if M.format == "coo" else ("indptr", "indices", "data")
    if M.format not in ("coo", "csr", "csc"):
        return False
    return all(np.array_equal(getattr(M, a), getattr(cached, a)) for a in parts)


class _ClampedGates(_PicklableGenerators):
    """Mixin of ``SparseL0Linear`` and ``SparseCalibrationWeights``: one gate
    per feature (or record) as the module's own ``log_alpha``, clamped to
    ``+-LOG_ALPHA_BOUND`` before every formula, as in l0-python."""

    #: ``log_alpha`` is clamped to this bound before every formula.
    LOG_ALPHA_BOUND: float = 20.0

    def _store_gate_settings(self, n_features, beta, gamma, zeta, device, seed):
        """The constructor arguments both models share, and the seeded generator."""
        self.n_features = int(check_int("n_features", n_features, 1,
                                        "the number of features (or records)"))
        self.beta = check_number("beta", beta, lambda v: v > 0, "a temperature > 0, e.g. 2/3")
        self.gamma = check_number("gamma", gamma, lambda v: v < 0, "a float < 0, e.g. -0.1")
        self.zeta = check_number("zeta", zeta, lambda v: v > 1, "a float > 1, e.g. 1.1")
        self.device = resolve_device(device)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, Integral)):
            raise ValueError(f"seed={seed!r} is invalid; pass an integer seed or None.")
        self.seed = seed
        self._generator = (
            None if seed is None else torch.Generator(device=self.device).manual_seed(int(seed))
        )

    def _clamped_log_alpha(self):
        return self.log_alpha.clamp(-self.LOG_ALPHA_BOUND, self.LOG_ALPHA_BOUND)

    def _sample_gates(self):
        """Sampled Hard Concrete gates (eq. 10), torch's global generator."""
        return sample_gate(self._clamped_log_alpha(), self.beta, self.gamma, self.zeta)

    def get_deterministic_gates(self):
        """Prediction-time gates: the median of each gate."""
        return median_gate(self._clamped_log_alpha(), self.beta, self.gamma, self.zeta)

    def get_l0_penalty(self):
        """Expected number of open gates, kept features or records (eq. 12)."""
        return prob_nonzero(
            self._clamped_log_alpha(), self.beta, self.gamma, self.zeta
        ).sum()


class _RenamedState:
    """Mixin: state dict keys under l0-python's names.

    ``_state_renames`` is a tuple of ``(skl0 prefix, l0-python prefix)``
    pairs, relative to the module, e.g. ``("l0_gate.", "weight_gates.")``.
    """

    _state_renames: tuple = ()

    def _install_state_renames(self):
        self._register_state_dict_hook(_to_original_names)
        self._register_load_state_dict_pre_hook(_from_original_names, with_module=True)

    def _renames(self):
        return self._state_renames


def _rename_keys(state_dict, prefix, pairs):
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix) :]
        for old, new in pairs:
            if rest.startswith(old):
                state_dict[prefix + new + rest[len(old) :]] = state_dict.pop(key)
                break


def _to_original_names(module, state_dict, prefix, local_metadata):
    _rename_keys(state_dict, prefix, module._renames())


def _from_original_names(module, state_dict, prefix, *args):
    _rename_keys(state_dict, prefix, [(b, a) for a, b in module._renames()])
