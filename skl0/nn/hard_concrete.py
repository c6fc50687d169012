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

The first two moments have no closed form, but the survival function of
``z`` does (from eq. 10, with ``L = log u - log(1 - u)`` logistic)::

    P(z > t) = sigmoid(log_alpha - beta * logit((t - gamma) / (zeta - gamma))),  0 <= t < 1

so ``E[z] = int_0^1 P(z > t) dt`` and ``E[z^2] = int_0^1 2 t P(z > t) dt``
are integrals of a smooth function over ``[0, 1]``, computed here by
Gauss-Legendre quadrature (:func:`gate_moments`). They turn the expected
squared loss of gated weights into a deterministic function of
``log_alpha`` (no sampling noise).

And at test time a deterministic gate is used (eq. 13)::

    z_hat = min(1, max(0, sigmoid(log_alpha) * (zeta - gamma) + gamma))

Every gate, layer and estimator in skl0 calls the functions of this module.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from numbers import Real

import numpy as np
import torch
from scipy.special import expit

from .._checks import check_number
from .._numpydoc import document
from ._docs import NN

__all__ = [
    "HardConcrete",
    "BETA",
    "GAMMA",
    "ZETA",
    "check_hard_concrete_params",
    "log_alpha_for_prob",
    "prob_nonzero",
    "deterministic_gate",
    "median_gate",
    "sample_gate",
    "gate_moments",
    "signal_fraction",
    "log_alpha_for_signal",
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
    prefix = "The Hard Concrete parameter "
    return (
        check_number("temperature", temperature, lambda v: v > 0, "a float > 0, e.g. 2/3", prefix),
        check_number("gamma", gamma, lambda v: v < 0, "a float < 0, e.g. -0.1", prefix),
        check_number("zeta", zeta, lambda v: v > 1, "a float > 1, e.g. 1.1", prefix),
    )


# torch.compiler.is_compiling (torch >= 2.3); before it, compiled code takes
# the cached path below (Dynamo then warns that it ignores the cache).
_is_compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None) or (
    lambda: False)

# The free functions below run once per training step: their check is
# cached per parameter set (typed, so that temperature=True is not taken
# for a cached 1.0).
_checked_numbers = lru_cache(maxsize=64, typed=True)(check_hard_concrete_params)


def _number(value):
    """A one-element tensor or array as its float (checked by value); anything else as is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value.reshape(()))  # (NumPy 2 refuses float() of a 1-d array)
    return value


def _check(temperature, gamma, zeta):
    """:func:`check_hard_concrete_params` for the free functions, cached per parameter set.

    Returns the values the functions go on with: a one-element tensor (as
    a schedule may hold) is checked by its value and returned as given, so
    :func:`prob_nonzero` and :func:`sample_gate` keep gradients through it;
    a one-element numpy array (no gradient to keep) is returned as its
    float, so that it neither changes the result's dtype nor meets a
    tensor in numpy. :func:`gate_moments` and :func:`signal_fraction` read
    the parameters as numbers (their quadrature tables are cached per
    value): no gradient reaches a tensor ``temperature`` there.
    """
    if _is_compiling():
        # Traced by torch.compile: the check itself, uncached (Dynamo ignores
        # an lru_cache and warned of "potential silent incorrectness" on
        # every first compile of a gated model); its branches on the numbers
        # run once, at trace time.
        numbers = (_number(temperature), _number(gamma), _number(zeta))
        check_hard_concrete_params(*numbers)
        return tuple(value if isinstance(value, torch.Tensor) else number
                     for value, number in zip((temperature, gamma, zeta), numbers))
    if type(temperature) is float and type(gamma) is float and type(zeta) is float:
        _checked_numbers(temperature, gamma, zeta)  # (the common case, without the below)
        return temperature, gamma, zeta
    numbers = (_number(temperature), _number(gamma), _number(zeta))
    try:
        hash(numbers)
    except TypeError:  # a list, say: not cacheable, and the check names it
        check_hard_concrete_params(*numbers)
    else:
        _checked_numbers(*numbers)
    return tuple(value if isinstance(value, torch.Tensor) else number
                 for value, number in zip((temperature, gamma, zeta), numbers))


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
    return _log_alpha(prob, temperature, gamma, zeta)


def _log_alpha(prob, temperature, gamma, zeta):
    """:func:`log_alpha_for_prob` of checked arguments (the three parameters as floats)."""
    return math.log(prob) - math.log1p(-prob) + temperature * math.log(-gamma / zeta)


@document(NN)
def prob_nonzero(log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA):
    """Closed-form probability that each gate is non-zero (eq. 12).

    ``P(z != 0) = sigmoid(log_alpha - beta * log(-gamma / zeta))``; its sum is
    the expected L0 norm of the gated parameters.

    Parameters
    ----------
    %(hard_concrete_args)s

    Returns
    -------
    torch.Tensor or ndarray
        Same type and shape as ``log_alpha``; differentiable for tensors.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import prob_nonzero
    >>> [round(p, 4) for p in prob_nonzero(torch.tensor([-2.0, 0.0, 2.0])).tolist()]
    [0.401, 0.8318, 0.9734]
    """
    temperature, gamma, zeta = _check(temperature, gamma, zeta)
    sigmoid = torch.sigmoid if isinstance(log_alpha, torch.Tensor) else expit
    return sigmoid(log_alpha - temperature * math.log(-gamma / zeta))


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
    _, gamma, zeta = _check(BETA, gamma, zeta)
    return torch.clamp(torch.sigmoid(log_alpha) * (zeta - gamma) + gamma, 0.0, 1.0)


def median_gate(log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA):
    """Median of the Hard Concrete gate: a temperature-aware test-time gate.

    ``s = sigmoid((L + log_alpha) / beta)`` with ``L`` logistic (median 0)
    is monotone in ``L``, and so is the stretch and clip of eq. 10; the
    median of ``z`` is therefore
    ``clamp(sigmoid(log_alpha / beta) * (zeta - gamma) + gamma, 0, 1)``.
    It is the same curve as :func:`deterministic_gate` (eq. 13) evaluated at
    ``log_alpha / beta``. It is non-zero exactly where ``P(z != 0) > 1/2``
    (eq. 12), and it moves with the temperature, which eq. 13 does not.
    ``l0-python`` uses it as its eval-mode gate (calling it the mean), so
    :mod:`skl0.l0` does too.

    Parameters
    ----------
    log_alpha : torch.Tensor
    temperature, gamma, zeta : float

    Returns
    -------
    torch.Tensor
        Values in [0, 1].

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import median_gate, sample_gate
    >>> la = torch.tensor([-1.0, 0.3, 2.0])
    >>> z = sample_gate(la, generator=torch.Generator().manual_seed(0), shape=(20001, 3))
    >>> bool(((z.median(0).values - median_gate(la)).abs() < 0.02).all())
    True
    """
    temperature, gamma, zeta = _check(temperature, gamma, zeta)
    return deterministic_gate(log_alpha / temperature, gamma, zeta)


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
    generator : torch.Generator or None, default=None
        Source of the uniform noise; ``None`` uses torch's default
        generator. Pass the caller's generator to keep fits reproducible
        without touching torch's global RNG.
    shape : tuple of int or None, default=None
        Sample shape; ``None`` means ``log_alpha.shape``. Leading extra
        dimensions draw independent gates per row (e.g. per sample): it
        must end with ``log_alpha.shape`` (a ValueError otherwise).

    Returns
    -------
    torch.Tensor
        Gates in [0, 1] with exact zeros and ones, in ``log_alpha``'s dtype.
        In float16 and bfloat16 the noise and the sample are computed in
        float32 and the gates then rounded, so their distribution is the
        one of eq. 10 up to that rounding (noise drawn in bfloat16 biased
        ``E[z]`` by about 0.002).

    Raises
    ------
    ValueError
        If ``shape`` does not end with ``log_alpha.shape``, or ``generator``
        is on another device than ``log_alpha`` (torch draws the noise on
        ``log_alpha``'s device, with a generator of that device).

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
    temperature, gamma, zeta = _check(temperature, gamma, zeta)
    shape = log_alpha.shape if shape is None else _sample_shape(shape, log_alpha.shape)
    _check_generator_device(generator, log_alpha.device)
    # Half precision cannot hold the noise: bfloat16 has 8 bits of
    # mantissa, so u (and log u - log(1 - u)) came out on a coarse grid and
    # E[z] was off by ~0.002. Compute in float32 at least, round at the end.
    dtype = torch.promote_types(log_alpha.dtype, torch.float32)
    u = torch.rand(shape, generator=generator, device=log_alpha.device, dtype=dtype)
    u = u.clamp(_EPS, 1.0 - _EPS)
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha.to(dtype)) / temperature)
    return torch.clamp(s * (zeta - gamma) + gamma, 0.0, 1.0).to(log_alpha.dtype)


def _sample_shape(shape, gate_shape):
    """``shape`` as a ``torch.Size`` when it ends with ``gate_shape``; else a ValueError."""
    try:
        size = torch.Size(shape)
    except TypeError:
        size = None
    n = len(gate_shape)
    if size is None or len(size) < n or size[len(size) - n:] != gate_shape:
        raise ValueError(
            f"shape={shape!r} is invalid for log_alpha of shape {tuple(gate_shape)}: the sample "
            f"shape is sample_shape + log_alpha.shape, so it must end with "
            f"{tuple(gate_shape)}; pass e.g. {(10,) + tuple(gate_shape)} for 10 draws of "
            "every gate, or None for one."
        )
    return size


def _check_generator_device(generator, device):
    """A ValueError naming ``generator`` when it cannot draw noise on ``device``."""
    if generator is None or device.type == "meta":  # (meta tensors take any generator)
        return
    gen_device = torch.device(generator.device)
    if gen_device.type != device.type:
        raise ValueError(
            f"generator is on device {str(gen_device)!r} but log_alpha is on "
            f"{str(device)!r}; torch draws the gate noise on log_alpha's device, with a "
            f"generator of that device. Give the gates one there, e.g. "
            f"skl0.nn.set_generator(module, torch.Generator(device={device.type!r})"
            ".manual_seed(0)) (or pass generator= on that device), or move the module "
            f"to {str(gen_device)!r}."
        )


# Gauss-Legendre nodes for the moment integrals: the integrand is analytic
# on [0, 1], so 32 nodes give E[z] and E[z^2] to ~1e-12 at the default
# temperature (tests/test_hard_concrete.py checks them against Monte Carlo
# and against 2000-node quadrature for temperatures 0.1 to 2).
_N_NODES = 32


@lru_cache(maxsize=16)
def _quadrature(temperature, gamma, zeta, n_nodes=_N_NODES):
    """Nodes ``beta * logit((t - gamma) / (zeta - gamma))`` and the weights of
    ``int_0^1 f dt`` and ``int_0^1 2 t f dt`` (numpy float64)."""
    check_hard_concrete_params(temperature, gamma, zeta)  # once per parameter set (cached)
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    t, w = (x + 1) / 2, w / 2
    u = (t - gamma) / (zeta - gamma)
    return temperature * (np.log(u) - np.log1p(-u)), w, 2 * t * w


@document(NN)
def gate_moments(log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA, derivatives=False):
    """``E[z]`` and ``E[z^2]`` of Hard Concrete gates, deterministic in ``log_alpha``.

    Quadrature of the survival function ``P(z > t)`` (see the module
    docstring): ``E[z] = int_0^1 P(z > t) dt``, ``E[z^2] = int_0^1 2t P(z > t) dt``.
    ``Var[z] = E[z^2] - E[z]^2``. Works on torch tensors (differentiable in
    ``log_alpha``, any device) and on numpy arrays; ``temperature``,
    ``gamma`` and ``zeta`` are read as numbers (a tensor temperature gets
    no gradient here, unlike in :func:`prob_nonzero`).

    Parameters
    ----------
    %(hard_concrete_args)s
    derivatives : bool, default=False
        Also return ``dE[z]/dlog_alpha`` and ``dE[z^2]/dlog_alpha``
        (elementwise), for solvers with hand-written gradients.

    Returns
    -------
    mean, second : same type and shape as ``log_alpha``
        ``E[z]`` and ``E[z^2]``; with ``derivatives`` also their derivatives.

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import gate_moments, sample_gate
    >>> la = torch.tensor([-1.0, 0.0, 3.0], dtype=torch.float64)
    >>> m, s = gate_moments(la)
    >>> z = sample_gate(la, generator=torch.Generator().manual_seed(0), shape=(200000, 3))
    >>> bool(((z.mean(0) - m).abs() < 3e-3).all())
    True
    >>> bool(((z.pow(2).mean(0) - s).abs() < 3e-3).all())
    True
    """
    # Checked before float(), which read True as 1.0 and failed unnamed on 'a'.
    temperature, gamma, zeta = _check(temperature, gamma, zeta)
    nodes, w1, w2 = _quadrature(float(temperature), float(gamma), float(zeta))
    if isinstance(log_alpha, torch.Tensor):
        kw = dict(device=log_alpha.device, dtype=log_alpha.dtype)
        nodes, w1, w2 = (torch.as_tensor(a, **kw) for a in (nodes, w1, w2))
        Q = torch.sigmoid(log_alpha.unsqueeze(-1) - nodes)
    else:
        Q = expit(np.asarray(log_alpha)[..., None] - nodes)
    mean, second = Q @ w1, Q @ w2
    if not derivatives:
        return mean, second
    dQ = Q * (1 - Q)
    return mean, second, dQ @ w1, dQ @ w2


@lru_cache(maxsize=16)
def _signal_table(temperature, gamma, zeta):
    check_hard_concrete_params(temperature, gamma, zeta)
    theta = np.linspace(-16.0, 16.0, 6401)
    m, s = gate_moments(theta, temperature, gamma, zeta)
    return m * m / s, theta


def signal_fraction(log_alpha, temperature=BETA, gamma=GAMMA, zeta=ZETA):
    """``h = E[z]^2 / E[z^2]``: the share of a gated weight's signal that survives.

    For a weight ``w`` behind a gate ``z``, ``E[z w] = E[z] w`` and
    ``Var(z w) / E[z w]^2 = 1 / h - 1``: the expected squared loss of
    gated weights depends on the gate's distribution only through ``h``
    (see ``skl0/_engine.py``). ``h`` is 0 for a closed gate and 1 for an
    open one, like ``P(z != 0)``, and increases with ``log_alpha``.

    Parameters
    ----------
    log_alpha : torch.Tensor or ndarray
    temperature, gamma, zeta : float
        Read as numbers: no gradient reaches a tensor ``temperature``.

    Returns
    -------
    Same type and shape as ``log_alpha``, in [0, 1]: exactly 0 (and
    gradient 0) where the gate is so far closed (``log_alpha`` below about
    -100 in float32, -700 in float64) that both moments underflow to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skl0.nn import signal_fraction, log_alpha_for_signal
    >>> h = signal_fraction(np.array([-4.0, 0.0, 4.0]))
    >>> [round(v, 4) for v in h.tolist()]
    [0.0394, 0.6281, 0.9859]
    >>> np.allclose(log_alpha_for_signal(h), [-4.0, 0.0, 4.0], atol=1e-3)
    True
    """
    m, s = gate_moments(log_alpha, temperature, gamma, zeta)
    # h -> 0 as the gate closes; 0/0 once both moments underflow (then m = 0
    # too). Dividing by at least the smallest normal number gives 0 there,
    # with gradient 0, and changes nothing where s is a normal number.
    if isinstance(s, torch.Tensor):
        return m * m / s.clamp_min(torch.finfo(s.dtype).tiny)
    return m * m / np.maximum(s, np.finfo(np.result_type(s, np.float32)).tiny)


def log_alpha_for_signal(h, temperature=BETA, gamma=GAMMA, zeta=ZETA):
    """Inverse of :func:`signal_fraction` on numpy arrays (``log_alpha`` in [-16, 16]).

    Monotone interpolation in a table of 6401 points; ``h`` outside the
    table's range maps to its ends.

    Parameters
    ----------
    h : array-like of float
        Signal fractions in (0, 1].
    temperature, gamma, zeta : float
        Hard Concrete parameters.

    Returns
    -------
    log_alpha : ndarray of float64

    Examples
    --------
    >>> from skl0.nn import log_alpha_for_signal, signal_fraction
    >>> la = log_alpha_for_signal([0.5, 0.9])
    >>> [round(float(v), 3) for v in signal_fraction(la)]
    [0.5, 0.9]
    """
    temperature, gamma, zeta = _check(temperature, gamma, zeta)
    table, theta = _signal_table(float(temperature), float(gamma), float(zeta))
    return np.interp(np.asarray(h, dtype=np.float64), table, theta)


class HardConcrete:
    """Hard Concrete distribution over gates in [0, 1].

    A light object in the style of ``torch.distributions``: it holds
    ``log_alpha`` (a tensor, possibly a ``Parameter``) and the three shape
    parameters, and exposes reparameterized sampling, the probability of a
    non-zero gate, the moments (``mean`` and ``variance``, as a
    ``torch.distributions.Distribution`` has them) and the deterministic
    test-time gate (:meth:`deterministic`, which is not the mean).

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
    >>> d.deterministic().tolist()
    [0.5, 0.5, 0.5]
    >>> d = HardConcrete(torch.tensor([2.0]))
    >>> round(float(d.deterministic()), 3), round(float(d.mean), 3)  # test-time gate, E[z]
    (0.957, 0.857)
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

    def moments(self):
        """``(E[z], E[z^2])`` per gate, by quadrature (:func:`gate_moments`)."""
        return gate_moments(self.log_alpha, self.temperature, self.gamma, self.zeta)

    @property
    def mean(self):
        """``E[z]`` per gate, by quadrature (:func:`gate_moments`)."""
        return self.moments()[0]

    @property
    def variance(self):
        """``Var[z] = E[z^2] - E[z]^2`` per gate, by quadrature (:func:`gate_moments`).

        Floored at 0: for gates nearly always open the difference cancels,
        and float32 left 10 of 601 gates at ``log_alpha`` in [-30, 30]
        slightly negative (their square root NaN).
        """
        mean, second = self.moments()
        return (second - mean * mean).clamp_min(0)

    def deterministic(self):
        """Deterministic test-time gate (eq. 13): ``clamp(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``.

        This is the gate a fitted model uses at predict time; it is not
        ``E[z]`` (:attr:`mean`).
        """
        return deterministic_gate(self.log_alpha, self.gamma, self.zeta)

    def mean_gate(self):
        """Deprecated name of :meth:`deterministic` (eq. 13); it never returned ``E[z]``.

        .. deprecated:: 0.1.1
            Use :meth:`deterministic` for the test-time gate, or :attr:`mean`
            for ``E[z]``. ``mean_gate`` will be removed in 0.3.
        """
        warnings.warn(
            "HardConcrete.mean_gate() returns the deterministic test-time gate "
            "(eq. 13), not E[z]; it was renamed deterministic() and will be removed "
            "in 0.3. Use HardConcrete.deterministic() for the test-time gate or "
            "HardConcrete.mean for E[z].",
            FutureWarning,
            stacklevel=2,
        )
        return self.deterministic()

    def __repr__(self):
        return (
            f"HardConcrete(n_gates={self.log_alpha.numel()}, "
            f"temperature={self.temperature:g}, gamma={self.gamma:g}, zeta={self.zeta:g})"
        )


# The inversion table of the default parameters, which every estimator fit
# with the default temperature reads, is built on import (~6 ms) rather
# than inside the first fit of a process.
_signal_table(BETA, GAMMA, ZETA)
