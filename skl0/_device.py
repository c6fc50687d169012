"""Device strings and random generators, resolved late (inside ``fit``).

Importable without scikit-learn (``skl0.nn`` checks its ``device=`` here);
:func:`make_generator` imports it when called.
"""

from __future__ import annotations

import functools
import numbers
from contextlib import contextmanager

import numpy as np
import torch

__all__ = [
    "device_available", "draw_seed", "grad_enabled", "make_generator", "resolve_device",
    "resolve_dtype", "seeded_generator",
]

#: An estimator's ``device="auto"`` takes CUDA only for an X of more than
#: this many numbers (rows x columns, 2^22): below it the fit runs on the
#: CPU, where the engine's float64 host solves apply (the IRLS starts and
#: the swap search's second-order numpy refits take X up to
#: ``skl0._host_design.HOST_COPY_MAX_NUMBERS``, the same 2^22) and where a small
#: fit's many short steps do not wait on kernel launches. On an H200, the
#: test suite's small binary fits chose supports of higher refitted loss
#: under CUDA (the torch refits of large data: first-order sacrifices) than
#: the CPU's search, which reaches the exhaustive best subset there.
AUTO_CUDA_MIN_NUMBERS = 1 << 22


def resolve_device(device, numbers=None):
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` into a ``torch.device``.

    ``"auto"`` picks CUDA when it is available, else the CPU; given
    ``numbers`` (the size of an estimator's X), CUDA only for more than
    ``AUTO_CUDA_MIN_NUMBERS`` of them. Asking for CUDA
    where there is none, for a CUDA index beyond the devices present, or for
    a device type whose backend is absent here (``"mps"``, ``"meta"``, ...)
    raises a ``ValueError`` that says so.
    """
    if device in (None, "auto"):
        small = numbers is not None and numbers <= AUTO_CUDA_MIN_NUMBERS
        return torch.device("cuda" if torch.cuda.is_available() and not small else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a device torch knows; pass 'auto', 'cpu', "
            "'cuda' or 'cuda:N'."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine; pass device='cpu' or device='auto'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist; pass an index "
                f"below {torch.cuda.device_count()}."
            )
    elif dev.type != "cpu":
        # torch parses many device types (mps, xpu, meta, xla, ...); only
        # those with a backend that is present here can hold tensors and
        # a generator, and none of them is tested in skl0.
        if not device_available(dev):
            raise ValueError(
                f"device={device!r} is not available on this machine; skl0 runs on "
                "'cpu' and 'cuda'. Pass device='cpu', 'cuda', 'cuda:N' or 'auto'."
            )
        from ._warn import warn

        warn(f"device={device!r} is untested in skl0.")
    return dev


def device_available(device):
    """Whether this machine can hold tensors and a generator on ``device`` (device or string).

    The CPU always; CUDA (and an index below the devices present) where it
    is available; another type where torch's backend for it says so.
    """
    dev = torch.device(device)
    if dev.type == "cpu":
        return True
    if dev.type == "cuda":
        return torch.cuda.is_available() and (
            dev.index is None or dev.index < torch.cuda.device_count())
    is_available = getattr(getattr(torch, dev.type, None), "is_available", None)
    return bool(is_available is not None and is_available())


def draw_seed(random_state):
    """The seed :func:`make_generator` draws from ``random_state`` (one draw)."""
    from sklearn.utils import check_random_state

    if isinstance(random_state, numbers.Integral):  # (check_random_state's RandomState(int))
        return _seed_of_int(int(random_state))
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@functools.lru_cache(maxsize=64)
def _seed_of_int(seed):
    """:func:`draw_seed` of the int ``seed``: a fresh ``RandomState(seed)``'s first draw, kept.

    Making that ``RandomState`` cost about 0.2 ms (numpy seeds its bit
    generator from the OS before the legacy seeding), a twentieth of a
    ``lam="auto"`` fit on diabetes; the draw depends on ``seed`` alone.
    """
    return int(np.random.RandomState(seed).randint(np.iinfo(np.int32).max))


def make_generator(random_state, device):
    """A local ``torch.Generator`` on ``device`` seeded from ``random_state``.

    Never touches torch's global RNG. ``random_state=None`` draws the seed
    from numpy's global RNG (one draw), as scikit-learn estimators do; an
    int or a ``RandomState`` leaves numpy's global state alone.
    docs/reliability.md states the same; tests/test_trust.py checks both.
    """
    return seeded_generator(draw_seed(random_state), device)


def seeded_generator(seed, device):
    """A local ``torch.Generator`` on ``device`` seeded with the int ``seed``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def resolve_dtype(dtype, X=None):
    """Map ``"float32" | "float64"`` to the torch dtype; ``None`` follows ``X``.

    ``dtype=None`` is scikit-learn's convention: compute in the input's
    floating dtype, float32 for float32 ``X`` and float64 for everything
    else (float64, and integer or float16 input that validation turned into
    float64).
    """
    if dtype is None:
        # (X: a numpy or scipy array, or a tensor of rows a CV estimator holds)
        f32 = X is not None and X.dtype in (np.float32, torch.float32)
        return torch.float32 if f32 else torch.float64
    return {"float32": torch.float32, "float64": torch.float64}[dtype]


@contextmanager
def grad_enabled():
    """Autograd on for a fit, whatever the caller's mode.

    A fit called inside ``torch.no_grad()`` or ``torch.inference_mode()``
    (common right after computing embeddings) would otherwise fail with
    torch's "element 0 of tensors does not require grad"; the caller's mode
    is back in force when the fit returns. The estimators' fits and
    :mod:`skl0.l0`'s (which import nothing of the estimators) use it.
    """
    with torch.inference_mode(False), torch.enable_grad():
        yield
