"""exp, log1p and the sigmoid of large float64 arrays on the host, by the faster of numpy's and torch's kernels.

numpy vectorizes its float64 ``exp`` and ``log1p`` only with AVX-512
(scipy's ``expit``, the sigmoid, is scalar code everywhere); on an AVX2 CPU
each number costs about 5 ns. torch's CPU kernels (SLEEF, errors within 1
ulp) vectorize the same functions with AVX2: on this project's 2-core AVX2
machine ``exp`` and the sigmoid of 17970 float64 numbers (digits' logits)
took 0.3-0.4x the time of numpy's and scipy's, from about 1000 numbers on,
and ``log1p`` 0.5-0.6x from about 8000 (``benchmarks/elementwise.py``). The
multinomial refits' objective (:func:`skl0._refit_newton.softmax_objective`)
spent about 40% of its time in ``exp``. On an AVX-512 CPU numpy's own
kernels are the faster ones instead: on a 2-core AMD EPYC with AVX-512
(session 60) numpy's ``exp`` took 0.26-0.49x torch's time at 1024 to 100000
numbers and its ``log1p`` 0.31-0.50x, while scipy's sigmoid stayed 1.8-4x
slower than torch's. So ``exp`` and ``log1p`` keep numpy's kernels where
numpy runs its AVX-512 code (:data:`_NUMPY_AVX512`: the CPU has AVX-512
at the Skylake-X level and numpy was built with such a target; a fact of
the machine, not a timing, so that a fit's numbers do not depend on the
load), and the sigmoid always takes the rule below. Where the rule below
would have handed an array to torch, numpy's kernel then runs with its
over- and underflow warnings silenced, so that the functions warn the same
on either kind of CPU.

Otherwise each function takes torch's kernel for a C-contiguous, writeable
float64 ndarray of at least ``_TORCH_MIN_SIZE`` numbers (``log1p``:
``_TORCH_MIN_SIZE_LOG1P``), and an ``out`` of the same shape and dtype when
given, where torch runs its CPU operations on one thread
(``torch.get_num_threads() == 1`` in the calling thread: every small CPU
fit, which sets it while it lasts (:func:`skl0._threads.blas_threads`), and
any fit under ``OMP_NUM_THREADS=1`` or ``torch.set_num_threads(1)``);
numpy's or scipy's function otherwise. With more threads torch splits even
2000 numbers across them, and between the fits' BLAS calls their wake-ups
cost more than the kernel saves: the multinomial tests of
``tests/test_engine.py`` took 32 s instead of 21 s with torch's two threads
on this 2-core machine, and 22 s with one. The values agree
with numpy's to an ulp or two; torch raises no floating-point warnings, so
neither do these functions (numpy's under- and overflows here are the
benign ones the callers silence anyway).

numpy-only modules (:mod:`skl0._rows`, :mod:`skl0._blocks`, which Dask
workers import without torch) keep numpy's functions; the row softmax and
log-sum-exp here are :mod:`skl0._rows`' with this module's :func:`exp`.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit as _expit

from . import _rows

__all__ = ["exp", "log1p", "row_logsumexp", "row_softmax", "sigmoid"]

#: The smallest array :func:`exp` and :func:`sigmoid` hand to torch: below
#: it torch's per-call cost (about 4 us) exceeds what its kernel saves
#: (``benchmarks/elementwise.py``: exp of 512 float64 numbers 3.9 us with
#: numpy against 4.2 us, of 1024 6.2 against 5.0 us).
_TORCH_MIN_SIZE = 1024
#: :func:`log1p`'s: torch's kernel gains less (1024 numbers 6.1 us with numpy
#: against 7.4 us, 4096 23.6 against 22.5 us, 8192 78 against 51 us).
_TORCH_MIN_SIZE_LOG1P = 8192

#: numpy's build targets that hold its AVX-512 float64 ``exp`` and ``log1p``
#: (Skylake-X's subset or later; numpy 2.4 names the level ``X86_V4``).
_AVX512_TARGETS = frozenset({"AVX512_SKX", "AVX512_CLX", "AVX512_CNL", "AVX512_ICL",
                             "AVX512_SPR", "X86_V4"})


def numpy_cpu_module():
    """numpy's ``_multiarray_umath``, which holds ``__cpu_features__`` (this CPU's
    extensions) and ``__cpu_dispatch__`` / ``__cpu_baseline__`` (numpy's build
    targets); None where numpy has no such module."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # (numpy < 2)
        try:
            from numpy.core import _multiarray_umath as umath
        except ImportError:
            return None
    return umath


def _numpy_runs_avx512():
    """Whether numpy's float64 ``exp`` and ``log1p`` run its AVX-512 kernels on this CPU.

    The CPU must report AVX-512 at the Skylake-X level (``AVX512_SKX``:
    ``log1p``'s SVML kernel needs it, ``exp``'s the ``AVX512F`` it holds),
    and numpy must have been built with such a dispatch target (or have
    it as its baseline). False where numpy does not say.
    """
    umath = numpy_cpu_module()
    if umath is None:
        return False
    features = getattr(umath, "__cpu_features__", {})
    built = set(getattr(umath, "__cpu_dispatch__", ())) | set(
        getattr(umath, "__cpu_baseline__", ()))
    return bool(features.get("AVX512_SKX")) and bool(built & _AVX512_TARGETS)


#: :func:`exp` and :func:`log1p` keep numpy's kernels (see the module's text).
_NUMPY_AVX512 = _numpy_runs_avx512()


def _apply(numpy_fn, torch_fn, a, out, min_size=_TORCH_MIN_SIZE):
    """``numpy_fn(a, out=out)``, or ``torch_fn`` on the same memory where the rule above allows.

    ``torch_fn`` None (numpy's AVX-512 kernels): ``numpy_fn`` there too, with
    its over- and underflow warnings silenced, so that a fit warns the same
    on either kind of CPU.
    """
    if (type(a) is not np.ndarray or a.size < min_size or a.dtype != np.float64
            or not (a.flags.c_contiguous and a.flags.writeable)
            or torch.get_num_threads() != 1
            or out is not None and (type(out) is not np.ndarray or out.shape != a.shape
                                    or out.dtype != a.dtype
                                    or not (out.flags.c_contiguous and out.flags.writeable))):
        return numpy_fn(a) if out is None else numpy_fn(a, out=out)
    if out is None:
        out = np.empty_like(a)
    if torch_fn is None:  # numpy's AVX-512 kernel, as quiet as torch's would have been
        with np.errstate(over="ignore", under="ignore"):
            numpy_fn(a, out=out)
    else:
        torch_fn(torch.from_numpy(a), out=torch.from_numpy(out))
    return out


def exp(a, out=None):
    """``np.exp(a, out=out)``: the exponential of each entry."""
    return _apply(np.exp, None if _NUMPY_AVX512 else torch.exp, a, out)


def log1p(a, out=None):
    """``np.log1p(a, out=out)``: ``log(1 + a)`` of each entry."""
    return _apply(np.log1p, None if _NUMPY_AVX512 else torch.log1p, a, out,
                  _TORCH_MIN_SIZE_LOG1P)


def sigmoid(a, out=None):
    """``scipy.special.expit(a, out=out)``: ``1 / (1 + exp(-a))`` of each entry."""
    return _apply(_expit, torch.sigmoid, a, out)


def row_logsumexp(F):
    """:func:`skl0._rows.row_logsumexp` with this module's :func:`exp`."""
    return _rows.row_logsumexp(F, exp=exp)


def row_softmax(F, overwrite=False):
    """:func:`skl0._rows.row_softmax` with this module's :func:`exp`."""
    return _rows.row_softmax(F, overwrite, exp=exp)
