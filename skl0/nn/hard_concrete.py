"""The Hard Concrete distribution: the one place where its formulas live.

Louizos, Welling & Kingma (2017), "Learning Sparse Neural Networks through
L0 Regularization", arXiv:1712.01312. Equation numbers below refer to that
paper.

A Hard Concrete gate ``z`` in ``[0, 1]`` is a binary Concrete variable
``s`` stretched to the interval ``(gamma, zeta)`` and clipped to ``[0, 1]``
(eq. 10)::

    u ~ U(0, 1)
    s = sigmoid((log u - log(1 - u) + log_alpha) / beta)
    s_bar = s * (zeta - gamma) + gamma
    z = min(1, max(0, s_bar))

The clipping puts point masses on exactly 0 and exactly 1, so the expected
number of non-zero gates is differentiable in ``log_alpha`` (eq. 12)::

    P(z != 0) = sigmoid(log_alpha - beta * log(-gamma / zeta))

and at test time a deterministic gate is used (eq. 13)::

    z_hat = min(1, max(0, sigmoid(log_alpha) * (zeta - gamma) + gamma))

Every gate, layer and estimator in skl0 calls the functions of this module.
"""

from __future__ import annotations

import math
from numbers import Real

import torch

__all__ = [
    "HardConcrete",
    "BETA",
    "GAMMA",
    "ZETA",
    "check_hard_concrete_params",
    "log_alpha_for_prob",
    "prob_nonzero",
    "deterministic_gate",
    "sample_gate",
]

#: Default temperature ``beta`` (the paper's choice, section 4).
BETA = 2.0 / 3.0
#: Default lower end of the stretched interval ``gamma`` (paper: -0.1).
GAMMA = -0.1
#: Default upper end of the stretched interval ``zeta`` (paper: 1.1).
ZETA = 1.1

# Keep u away from 0 and 1 so that log(u) and log(1 - u) stay finite.
_EPS = 1e-6


def check_hard_concrete_params(temperature, gamma, zeta):
    """Validate Hard Concrete parameters, raising ``ValueError`` with the fix.

    Parameters
    ----------
    temperature : float
        The temperature ``beta``; must be > 0.
    gamma : float
        Lower end of the stretched interval; must be < 0.
    zeta : float
        Upper end of the stretched interval; must be > 1.

    Returns
    -------
    (temperature, gamma, zeta) : tuple of float
        The values as Python floats.
    """
    checks = (
        ("temperature", temperature, lambda v: v > 0, "a float > 0, e.g. 2/3"),
        ("gamma", gamma, lambda v: v < 0, "a float < 0, e.g. -0.1"),
        ("zeta", zeta, lambda v: v > 1, "a float > 1, e.g. 1.1"),
    )
    for name, value, ok, fix in checks:
        if (
            isinstance(value, bool)
            or not isinstance(value, Real)
            or not math.isfinite(value)
            or not ok(value)
        ):
            raise ValueError(
                f"The Hard Concrete parameter {name}={value!r} is invalid; pass {fix}."
            )
    return float(temperature), float(gamma), float(zeta)


def log_alpha_for_prob(prob, temperature=BETA, gamma=GAMMA, zeta=ZETA):
    """Return the ``log_alpha`` at which ``P(z != 0)`` equals ``prob``.

    This inverts eq. 12: ``log_alpha = logit(prob) + beta * log(-gamma / zeta)``.

    Parameters
    ----------
    prob : float
        Probability in (0, 1) that the gate is non-zero.
    temperature, gamma, zeta : float
        Hard Concrete parameters.

    Returns
    -------
    log_alpha : float

    Examples
    --------
    >>> from skl0.nn import log_alpha_for_prob, prob_nonzero
    >>> import torch
    >>> la = log_alpha_for_prob(0.9)
    >>> round(float(prob_nonzero(torch.tensor(la))), 6)
    0.9
    """
    if isinstance(prob, bool) or not isinstance(prob, Real) or not 0 < prob < 1:
        raise ValueError(
            f"The initial open probability {prob!r} is invalid; pass a float "
            "strictly between 0 and 1, e.g. 0.9."
        )
    temperature, gamma, zeta = check_hard_concrete_params(temperature, gamma, zeta)
    return math.log(prob) - math.log1p(-prob) + temperature * math.log(-gamma / zeta)


def prob_nonzero(log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA):
    """Closed-form probability that each gate is non-zero (eq. 12).

    ``P(z != 0) = sigmoid(log_alpha - beta * log(-gamma / zeta))``; its sum is
    the expected L0 norm of the gated parameters.

    Parameters
    ----------
    log_alpha : torch.Tensor
        Gate location parameters.
    temperature, gamma, zeta : float
        Hard Concrete parameters.

    Returns
    -------
    torch.Tensor
        Same shape as ``log_alpha``, differentiable.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import prob_nonzero
    >>> [round(p, 4) for p in prob_nonzero(torch.tensor([-2.0, 0.0, 2.0])).tolist()]
    [0.401, 0.8318, 0.9734]
    """
    return torch.sigmoid(log_alpha - temperature * math.log(-gamma / zeta))


def deterministic_gate(log_alpha, gamma=GAMMA, zeta=ZETA):
    """Deterministic test-time gate (eq. 13).

    ``z_hat = clamp(sigmoid(log_alpha) * (zeta - gamma) + gamma, 0, 1)``.

    Parameters
    ----------
    log_alpha : torch.Tensor
    gamma, zeta : float

    Returns
    -------
    torch.Tensor
        Values in [0, 1]; exactly 0 where the gate is closed.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import deterministic_gate
    >>> deterministic_gate(torch.tensor([-5.0, 0.0, 5.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return torch.clamp(torch.sigmoid(log_alpha) * (zeta - gamma) + gamma, 0.0, 1.0)


def sample_gate(
    log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA, generator=None, shape=None
):
    """Draw reparameterized Hard Concrete gates (eq. 10).

    Parameters
    ----------
    log_alpha : torch.Tensor
        Gate location parameters; gradients flow to it.
    temperature, gamma, zeta : float
        Hard Concrete parameters.
    generator : torch.Generator or None
        Source of the uniform noise. Pass the caller's generator to keep
        fits reproducible without touching torch's global RNG.
    shape : tuple of int or None
        Sample shape; defaults to ``log_alpha.shape``. Leading extra
        dimensions draw independent gates per row (e.g. per sample).

    Returns
    -------
    torch.Tensor
        Gates in [0, 1] with exact zeros and ones.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import sample_gate
    >>> g = torch.Generator().manual_seed(0)
    >>> z = sample_gate(torch.zeros(4), generator=g, shape=(2, 4))  # 2 rows of 4 gates
    >>> z.shape, bool(((z >= 0) & (z <= 1)).all())
    (torch.Size([2, 4]), True)
    >>> torch.equal(z, sample_gate(torch.zeros(4), generator=torch.Generator().manual_seed(0),
    ...                            shape=(2, 4)))
    True
    """
    shape = log_alpha.shape if shape is None else torch.Size(shape)
    u = torch.rand(
        shape, generator=generator, device=log_alpha.device, dtype=log_alpha.dtype
    )
    u = u.clamp(_EPS, 1.0 - _EPS)
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha) / temperature)
    return torch.clamp(s * (zeta - gamma) + gamma, 0.0, 1.0)


class HardConcrete:
    """Hard Concrete distribution over gates in [0, 1].

    A light object in the style of ``torch.distributions``: it holds
    ``log_alpha`` (a tensor, possibly a ``Parameter``) and the three shape
    parameters, and exposes reparameterized sampling, the probability of a
    non-zero gate and the deterministic test-time gate.

    Parameters
    ----------
    log_alpha : torch.Tensor
        Location parameters, one per gate.
    temperature : float, default=2/3
        Temperature ``beta`` (> 0). Lower values give gates closer to binary.
    gamma : float, default=-0.1
        Lower end of the stretched interval (< 0).
    zeta : float, default=1.1
        Upper end of the stretched interval (> 1).

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import HardConcrete
    >>> d = HardConcrete(torch.zeros(3))
    >>> g = torch.Generator().manual_seed(0)
    >>> z = d.rsample(generator=g)
    >>> bool(((z >= 0) & (z <= 1)).all())
    True
    >>> d.mean_gate().tolist()
    [0.5, 0.5, 0.5]
    """

    def __init__(self, log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA):
        self.temperature, self.gamma, self.zeta = check_hard_concrete_params(
            temperature, gamma, zeta
        )
        self.log_alpha = log_alpha

    def rsample(self, sample_shape=(), generator=None):
        """Reparameterized sample of shape ``sample_shape + log_alpha.shape``."""
        shape = torch.Size(sample_shape) + self.log_alpha.shape
        return sample_gate(
            self.log_alpha, self.temperature, self.gamma, self.zeta, generator, shape
        )

    def prob_nonzero(self):
        """``P(z != 0)`` per gate (eq. 12)."""
        return prob_nonzero(self.log_alpha, self.temperature, self.gamma, self.zeta)

    def mean_gate(self):
        """Deterministic test-time gate (eq. 13)."""
        return deterministic_gate(self.log_alpha, self.gamma, self.zeta)

    def __repr__(self):
        return (
            f"HardConcrete(n_gates={self.log_alpha.numel()}, "
            f"temperature={self.temperature:g}, gamma={self.gamma:g}, zeta={self.zeta:g})"
        )
