"""Gate modules built on the one Hard Concrete implementation.

``HardConcreteGate`` owns a tensor of ``log_alpha`` parameters and knows how
to sample gates (training), give the deterministic gate (evaluation), and
report ``P(gate != 0)``. ``FeatureGate`` multiplies the last dimension of its
input (one gate per input feature); ``SampleGate`` returns one gate per
record, for selecting rows.
"""

from __future__ import annotations

import hashlib
import operator
import weakref

import torch
from torch import nn

from .._checks import check_number
from .._device import device_available, resolve_device
from .._numpydoc import document
from .._warn import warn
from ._docs import NN
from .hard_concrete import (
    BETA,
    GAMMA,
    ZETA,
    _log_alpha,
    check_hard_concrete_params,
    deterministic_gate,
    log_alpha_for_prob,
    prob_nonzero,
    sample_gate,
)

__all__ = [
    "HardConcreteGate",
    "FeatureGate",
    "SampleGate",
    "hard_concrete_gates",
    "set_generator",
]


def _check_generator(generator):
    """``generator`` unless it is neither None nor a ``torch.Generator`` (a ValueError)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(
            f"generator={generator!r} is not a torch.Generator; pass e.g. "
            "torch.Generator().manual_seed(0), or None for torch's default."
        )
    return generator


#: The records of the generators that one pickling or copy is writing, by
#: ``id``: a record lives only while that operation's memo holds it.
_RECORDS = weakref.WeakValueDictionary()


class _GeneratorRecord:
    """What pickle keeps of a ``torch.Generator``: its device, state and initial seed.

    torch 2.1 (and other older releases) cannot pickle or deep-copy a
    Generator at all; this record restores an equal, separate one
    (:class:`_PicklableGenerators`). Modules that share one generator
    (``set_generator`` over a model) get one record (:meth:`of`), which
    pickle's and deepcopy's memo keep as one object, and that restores one
    generator: the copies share it as the originals did (a record per
    module gave each gate its own copy of the stream, so gates of one
    shape drew the same noise at every step).

    A generator saved on a device this machine lacks (a CUDA generator
    loaded where there is no CUDA) is restored as a CPU generator seeded
    with the original's ``initial_seed()``, with a warning (:meth:`restore`):
    loading never fails because of the generator.
    """

    __slots__ = ("device", "state", "initial_seed", "_source", "_restored", "__weakref__")

    def __init__(self, device, state, source=None, initial_seed=None):
        self.device, self.state, self.initial_seed = device, state, initial_seed
        self._source, self._restored = source, None

    @classmethod
    def of(cls, generator):
        """The record of ``generator``, the same one for every module of one pickling or copy."""
        record = _RECORDS.get(id(generator))
        state = generator.get_state()
        if (record is None or record._source is not generator
                or not torch.equal(record.state, state)):
            record = cls(str(generator.device), state, generator, generator.initial_seed())
            _RECORDS[id(generator)] = record
        return record

    def __reduce__(self):
        # Not the source generator. (Records pickled before the initial seed
        # was kept have two arguments; they still load.)
        return (_GeneratorRecord, (self.device, self.state, None, self.initial_seed))

    def restore(self):
        """The generator this record stands for (one per record, however many modules read it).

        On the recorded device when this machine has it; otherwise a CPU
        generator seeded with the original's ``initial_seed()`` (for a record
        without one, a seed computed from the saved state), and a warning:
        the saved stream cannot continue on another device (a CUDA state is
        not a CPU state), so the noise differs from the original's, but
        loading the same file twice gives the same generator.
        """
        if self._restored is None:
            if device_available(self.device):
                self._restored = torch.Generator(device=self.device)
                self._restored.set_state(self.state)
            else:
                seed, source = self.initial_seed, "the original's initial_seed()"
                if seed is None:  # a record written before the seed was kept
                    digest = hashlib.sha256(self.state.numpy().tobytes()).digest()
                    seed = int.from_bytes(digest[:8], "little") >> 1
                    source = "a number computed from the saved state"
                self._restored = torch.Generator().manual_seed(int(seed))
                warn(
                    f"A torch.Generator saved on device {self.device!r} cannot be made on "
                    "this machine (that device is not available here); the loaded module "
                    f"gets a CPU generator seeded with {source} "
                    "instead, so its gate noise is not the original's stream. Move the "
                    "module to the CPU (map_location='cpu' or .cpu()) to train it here, "
                    "or give it another generator with skl0.nn.set_generator(module, "
                    "torch.Generator(device=...).manual_seed(...))."
                )
        return self._restored


class _PicklableGenerators:
    """Mixin for modules whose attributes hold a ``torch.Generator``.

    ``pickle``, ``copy.deepcopy`` and ``torch.save`` then keep each
    generator as a new one with the same device and state (an independent
    stream that draws what the original would), on every torch version
    skl0 supports; modules that shared a generator share its copy.
    """

    def __getstate__(self):
        return {k: _GeneratorRecord.of(v) if isinstance(v, torch.Generator) else v
                for k, v in self.__dict__.items()}

    def __setstate__(self, state):
        super().__setstate__({k: v.restore() if isinstance(v, _GeneratorRecord) else v
                              for k, v in state.items()})


def _module_device(device):
    """The ``device=`` of a gate or gated layer as torch's modules take it.

    ``None`` stays None (torch's default device) and ``"meta"`` (shapes
    without storage, for deferred initialisation) passes as torch's layers
    take it; ``"auto"`` is CUDA when it is available, else the CPU (the
    estimators also weigh the size of X); a device this machine cannot use
    (``"gpu"``, CUDA where there is none) is a ValueError that names it
    (:func:`resolve_device`).
    """
    if device is None or (isinstance(device, (str, torch.device)) and str(device) == "meta"):
        return device
    return resolve_device(device)


def _check_not_scalar(name, shape):
    """``shape`` unless it is ``()`` or has a size below 1: a feature or record gate gates
    at least one axis, with at least one gate."""
    sizes = _check_shape(shape)
    if sizes == () or min(sizes) < 1:
        raise ValueError(f"{name}={shape!r} is invalid; pass the number of gates, an integer >= 1.")
    return shape


def _size(value):
    """``operator.index(value)``, except that a bool is not a size (a TypeError)."""
    if isinstance(value, bool):  # operator.index(True) is 1
        raise TypeError
    return operator.index(value)


def _check_shape(shape):
    """``shape`` as a tuple of Python ints; any integer type (``np.int64(3)``) is accepted.

    ``True`` and ``False`` are not, as ``L0Linear(True, 2)`` is not.
    """
    try:
        return (_size(shape),)
    except TypeError:
        pass
    try:
        return tuple(_size(s) for s in shape)
    except TypeError:
        raise TypeError(
            f"Gate shape {shape!r} must be an integer or a tuple of integers (not bools), "
            "e.g. 3 or (4, 3)."
        ) from None


class HardConcreteGate(_PicklableGenerators, nn.Module):
    """A tensor of Hard Concrete gates with learnable ``log_alpha``.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the gate tensor.
    init_prob : float, default=0.9
        Initial probability that each gate is non-zero (eq. 12 of Louizos
        et al. 2017 is inverted to set ``log_alpha``), strictly in (0, 1).
    temperature : float, default=2/3
        Temperature ``beta`` (> 0).
    gamma : float, default=-0.1
        Lower stretch limit (< 0).
    zeta : float, default=1.1
        Upper stretch limit (> 1).
    device, dtype : optional
        Where ``log_alpha`` is made, as torch's own modules take them
        (torch's defaults when None); ``device="auto"`` is CUDA when it is
        available, else the CPU. A device this machine cannot use
        (``"gpu"``, CUDA where there is none) raises a ValueError naming it.

    Attributes
    ----------
    log_alpha : torch.nn.Parameter
        Gate location parameters.
    generator : torch.Generator or None
        Noise source used by :meth:`gates` in training mode when no
        generator is passed; ``None`` uses torch's default generator.
        Checked when set (anything else is a ValueError); it must be on
        ``log_alpha``'s device when gates are sampled.

    Examples
    --------
    >>> from skl0.nn import HardConcreteGate
    >>> gate = HardConcreteGate(4, init_prob=0.8)
    >>> [round(p, 6) for p in gate.prob_open().tolist()]
    [0.8, 0.8, 0.8, 0.8]
    """

    def __init__(self, shape, init_prob=0.9, temperature=BETA, gamma=GAMMA, zeta=ZETA, *,
                 device=None, dtype=None):
        super().__init__()
        self.temperature, self.gamma, self.zeta = check_hard_concrete_params(
            temperature, gamma, zeta
        )
        shape = _check_shape(shape)
        if any(s < 1 for s in shape):
            raise ValueError(
                f"Gate shape {shape} must have positive sizes; pass sizes >= 1, e.g. 3 or (4, 3)."
            )
        device = _module_device(device)
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(
                f"dtype={dtype!r} is not a floating torch dtype; pass torch.float32, "
                "torch.float64 or None (torch's default)."
            )
        _check_init_prob(init_prob)
        self.init_prob = init_prob
        la = log_alpha_for_prob(init_prob, self.temperature, self.gamma, self.zeta)
        self.log_alpha = nn.Parameter(torch.full(shape, la, device=device, dtype=dtype))
        self.generator = None

    def __setattr__(self, name, value):
        if name == "generator":  # checked when set, not at the next forward
            _check_generator(value)
        super().__setattr__(name, value)

    def reset_parameters(self, init_prob=None):
        """Set every gate's open probability back to ``init_prob``."""
        prob = self.init_prob if init_prob is None else init_prob
        la = log_alpha_for_prob(prob, self.temperature, self.gamma, self.zeta)
        with torch.no_grad():
            self.log_alpha.fill_(la)

    def set_temperature(self, temperature):
        """Set the temperature ``beta`` after checking it (must be > 0).

        The temperature changes sampling and :meth:`prob_open` (eq. 12), not
        the deterministic gate (eq. 13), so masks do not move.
        """
        checked = check_hard_concrete_params(temperature, self.gamma, self.zeta)
        self.temperature = checked[0]

    def prob_open(self):
        """``P(gate != 0)`` per gate (eq. 12); differentiable."""
        return prob_nonzero(self.log_alpha, self.temperature, self.gamma, self.zeta)

    def expected_l0(self):
        """Expected number of non-zero gates: the sum of :meth:`prob_open`.

        Summed in float32 at least: in float16 a sum past 65504 is ``inf``
        (a 512 x 256 weight-gated layer), and bfloat16 rounds it to 3
        significant digits. The result is float32 for half-precision gates.
        """
        return self.prob_open().sum(dtype=_sum_dtype(self.log_alpha.dtype))

    def deterministic(self):
        """Deterministic gate values in [0, 1] (eq. 13)."""
        return deterministic_gate(self.log_alpha, self.gamma, self.zeta)

    def mask(self):
        """Boolean mask of gates whose deterministic value is non-zero.

        Does not depend on ``train()`` / ``eval()`` mode or on any noise.
        """
        return (self.deterministic() > 0).detach()

    def sample(self, sample_shape=(), generator=None):
        """Draw reparameterized gates of shape ``sample_shape + shape`` (eq. 10)."""
        gen = self.generator if generator is None else generator
        shape = torch.Size(sample_shape) + self.log_alpha.shape
        return sample_gate(
            self.log_alpha, self.temperature, self.gamma, self.zeta, gen, shape
        )

    def gates(self, sample_shape=(), generator=None):
        """Sampled gates in training mode, deterministic gates in eval mode.

        Of shape ``sample_shape + shape`` in both: in eval mode the
        deterministic gates repeated (a view), so code that averages over
        the samples (``z.mean(0)``) reads the same in either mode.
        """
        if self.training:
            return self.sample(sample_shape, generator)
        z = self.deterministic()
        return z.expand(torch.Size(sample_shape) + z.shape)

    def extra_repr(self):
        return (
            f"shape={tuple(self.log_alpha.shape)}, temperature={self.temperature:g}, "
            f"gamma={self.gamma:g}, zeta={self.zeta:g}"
        )


def _sum_dtype(dtype):
    """The dtype that a penalty over gates of ``dtype`` is summed in: float32 at least."""
    return torch.promote_types(dtype, torch.float32)


def _check_init_prob(init_prob):
    """Refuse an ``init_prob`` outside (0, 1), naming it (both gate constructors)."""
    check_number("init_prob", init_prob, lambda v: 0 < v < 1, "the initial probability "
                 "that a gate is open, a float strictly between 0 and 1, e.g. 0.9")


class FeatureGate(HardConcreteGate):
    """One Hard Concrete gate per input feature, applied to the last dimension.

    In training mode ``forward`` draws one gate vector shared by the whole
    batch (or one per row with ``per_sample=True``); in eval mode it uses the
    deterministic gates of eq. 13.

    Parameters
    ----------
    n_features : int
        Number of input features ``p``.
    init_prob : float, default=0.9
        Initial probability that each gate is open.
    temperature, gamma, zeta : float
        Hard Concrete parameters, see :class:`HardConcreteGate`.
    per_sample : bool, default=False
        Draw an independent gate vector for every row of the input.
    device, dtype : optional
        Where the gate's parameters are made (torch's defaults when None).

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import FeatureGate
    >>> gate = FeatureGate(3, init_prob=0.5).eval()
    >>> gate(torch.ones(2, 3)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features,
        init_prob=0.9,
        temperature=BETA,
        gamma=GAMMA,
        zeta=ZETA,
        per_sample=False,
        *,
        device=None,
        dtype=None,
    ):
        super().__init__(_check_not_scalar("n_features", n_features), init_prob, temperature,
                         gamma, zeta, device=device, dtype=dtype)
        self.per_sample = per_sample

    @classmethod
    def _for_fit(cls, n_features, init_prob, temperature, device, dtype):
        """``FeatureGate(n_features, init_prob, temperature, device=device, dtype=dtype)``, faster.

        The gate of an estimator's fit, which passes a count ``n_features``
        >= 1, a ``torch.device`` and a floating dtype: the same module (the
        same attributes in the same order, the same ``log_alpha``), with
        ``init_prob`` and ``temperature`` (the estimator's parameters)
        checked as there. Its attributes are written to the new module's
        ``__dict__`` and ``_parameters`` directly: ``nn.Module.__setattr__``
        first looks each name up among parameters, buffers and submodules,
        which a new gate has none of (and global parameter-registration
        hooks are not run for this module, which lives only inside the
        fit). 28 -> 10 us of a 3.5 ms diabetes fit.
        """
        self = cls.__new__(cls)
        nn.Module.__init__(self)
        state = self.__dict__
        state["temperature"], state["gamma"], state["zeta"] = check_hard_concrete_params(
            temperature, GAMMA, ZETA)
        _check_init_prob(init_prob)
        state["init_prob"] = init_prob
        la = _log_alpha(init_prob, state["temperature"], state["gamma"], state["zeta"])
        self._parameters["log_alpha"] = nn.Parameter(
            torch.full((n_features,), la, device=device, dtype=dtype))
        state["generator"] = None
        state["per_sample"] = False
        return self

    @property
    def n_features(self):
        return self.log_alpha.shape[0]

    def extra_repr(self):
        return super().extra_repr() + (", per_sample=True" if self.per_sample else "")

    def forward(self, x, generator=None):
        shape = self.log_alpha.shape  # (n_features,), or a gate per entry of trailing axes
        if x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
            raise ValueError(
                f"FeatureGate has n_features={self.n_features} (gates of shape "
                f"{tuple(shape)}), but its input has shape {tuple(x.shape)}; pass an input "
                f"whose trailing dimensions are {tuple(shape)} (one column per gate)."
            )
        if self.training and self.per_sample:
            z = self.sample(x.shape[:x.ndim - len(shape)], generator)  # one per leading index
        else:
            z = self.gates((), generator)
        return x * z


class SampleGate(HardConcreteGate):
    """One Hard Concrete gate per record (row), for selecting samples.

    ``forward()`` returns the gate vector of length ``n_samples`` (sampled
    in training mode, deterministic in eval mode); multiply it into
    per-record weights or losses.

    Parameters
    ----------
    n_samples : int
        Number of records.
    init_prob : float, default=0.9
        Initial probability that each record is kept.
    temperature, gamma, zeta : float
        Hard Concrete parameters, see :class:`HardConcreteGate`.
    device, dtype : optional
        Where the gate's parameters are made (torch's defaults when None).

    Examples
    --------
    >>> from skl0.nn import SampleGate
    >>> gate = SampleGate(5).eval()
    >>> gate().shape
    torch.Size([5])
    """

    def __init__(self, n_samples, init_prob=0.9, temperature=BETA, gamma=GAMMA, zeta=ZETA, *,
                 device=None, dtype=None):
        super().__init__(_check_not_scalar("n_samples", n_samples), init_prob, temperature,
                         gamma, zeta, device=device, dtype=dtype)

    def forward(self, generator=None):
        return self.gates((), generator)


def hard_concrete_gates(module):
    """Every :class:`HardConcreteGate` in a module tree, each once.

    Includes the gates inside L0 layers and bare ``FeatureGate`` /
    ``SampleGate`` modules; ``module`` itself counts when it is a gate.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    list of HardConcreteGate

    Examples
    --------
    >>> from torch import nn
    >>> from skl0.nn import FeatureGate, hard_concrete_gates
    >>> len(hard_concrete_gates(nn.Sequential(FeatureGate(3), nn.Linear(3, 1))))
    1
    """
    return [m for m in module.modules() if isinstance(m, HardConcreteGate)]


@document(NN)
def set_generator(module, generator):
    """Make every gate in ``module`` draw its noise from ``generator``.

    One seeded ``torch.Generator`` then makes training reproducible without
    touching torch's global random state (``torch.manual_seed``). Not for
    gates inside ``torch.utils.checkpoint``: its recomputation in
    ``backward`` restores torch's default RNG state only, so the gates
    would draw new noise there and get the gradients of other draws.

    Parameters
    ----------
    module : torch.nn.Module
    generator : torch.Generator or None
        ``None`` goes back to torch's default generator.

    %(n_gates_updated)s

    Examples
    --------
    >>> import torch
    >>> from skl0.nn import FeatureGate, set_generator
    >>> gate = FeatureGate(3)
    >>> set_generator(gate, torch.Generator().manual_seed(0))
    1
    """
    _check_generator(generator)
    gates = hard_concrete_gates(module)
    for gate in gates:
        gate.generator = generator
    return len(gates)
