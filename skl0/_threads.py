"""Thread limits of a small CPU fit: one BLAS thread and one torch thread while it lasts.

A small fit's work is many tiny BLAS calls and torch kernels; on more than
one thread each call pays for waking the others, which costs more than the
arithmetic (see :func:`blas_threads`). The BLAS count is the process's, so
fits running at once in threads share one counted limit; torch's count is
the calling thread's, so each thread saves and restores its own.

Used by the estimators' fits (:mod:`skl0._base`) around the engine's
solves (:func:`blas_threads`) and, on small data, around the whole fit
(:func:`fit_threads`); threadpoolctl, scipy.linalg (for its BLAS) and
torch only.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, nullcontext

# scipy.linalg loads scipy's own BLAS (the engine's LAPACK and BLAS calls
# run on it, not on numpy's): imported before the controller below is made,
# so that the controller finds it whatever order the caller imported in.
import scipy.linalg  # noqa: F401
import torch
from threadpoolctl import ThreadpoolController

__all__ = ["blas_threads", "fit_threads"]


# Below this many numbers in the data (X, or G for a Gram problem) the
# solve runs with one BLAS thread: L-BFGS-B's own updates are tiny BLAS
# calls, and on a busy machine a multi-threaded BLAS spends milliseconds
# per call waking its threads (measured: 2 ms per iteration on a 61-variable
# problem with the other core busy, 20 us with one thread).
_ONE_THREAD_BELOW = 1 << 22


# Made on import, not in the first fit: finding the loaded BLAS libraries
# cost ~35 ms on the AVX2 machine (1-5 ms on session 60's; numpy's,
# scipy's and torch's are all loaded by now).
_CONTROLLER = ThreadpoolController()
_BLAS = _CONTROLLER.select(user_api="blas")


def blas_threads(problem):
    """One BLAS and one torch thread for a small CPU problem (a context manager), else no change.

    torch's intra-op threads too: with two of them (the default on this
    2-core machine) an MLP head's fit on diabetes took twice the CPU time
    and no less wall time (1.98 and 2.34 CPU s against 0.94 and 0.96, wall
    1.00-1.18 s against 0.93-0.95; 600 digits with 32 hidden units 1.07
    against 0.47-0.55 CPU s), torch splitting even 2000 numbers between its
    threads; and :mod:`skl0._elementwise` takes torch's vectorized kernels
    only on one thread.
    """
    p = problem.n_features
    return fit_threads(p * p if problem.kind == "gram" else problem.n_samples * p,
                       problem.mean.device)


def fit_threads(numbers, device):
    """:func:`blas_threads` for a whole fit of ``numbers`` numbers of X on ``device``: its preparation too.

    One BLAS and one torch thread from the validated X on (the targets'
    encoding, X's moments and scale, the automatic head's residual test,
    the CV folds' shared sums) when X is on the CPU and holds fewer than
    ``_ONE_THREAD_BELOW`` numbers; no change otherwise. A multi-threaded
    BLAS splits a matrix-vector product's sums between its threads, so the
    moments that :func:`blas_threads` left outside its limit came out an ulp
    apart with the thread count, and an MLP head's training grew that into
    another model (2000 x 500 Madelon-style rows, ``hidden_layer_sizes=(64,)``:
    a held-out probability of 0.83 with one BLAS thread, 0.65 with two).
    Below that size the problem's own solve runs on one thread as well
    (``p * p <= n * p``), so the whole fit now gives the same numbers
    whatever the thread counts. Larger data keeps its threads for the
    passes over X.
    """
    if torch.device(device).type != "cpu" or numbers >= _ONE_THREAD_BELOW:
        return nullcontext()
    return _one_thread()


@contextmanager
def _one_thread():
    with _one_blas_thread(), _one_torch_thread():
        yield


# The BLAS thread count is the process's, not a thread's: fits running at
# once in threads (a CV's folds, GridSearchCV's threading backend) share one
# limit. The first to enter sets it and the last to leave restores it.
# Each setting its own left BLAS at one thread for good when two read the
# count before either limited it and the second restored the first's limit
# last (L0RegressorCV(n_jobs=4): within 30 fits).
_LIMIT_LOCK = threading.Lock()
_limit = {"users": 0, "limiter": None}


def _reset_after_fork():
    """A forked child's count and lock start afresh.

    The child has none of the parent's other threads: a count of fits they
    were running would never come back to 0, and a lock one of them held
    at the fork would never be released (the child's next fit would wait
    for ever).
    """
    global _LIMIT_LOCK
    _LIMIT_LOCK = threading.Lock()
    _limit.update(users=0, limiter=None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# torch's intra-op thread count is the calling thread's (OpenMP's per-thread
# setting, which torch.set_num_threads writes): each thread limits and
# restores its own, once however deeply the limits nest. (The process-wide
# count a new thread starts from is written too; each thread puts back what
# it read.)
_TORCH_LIMIT = threading.local()


@contextmanager
def _one_torch_thread():
    depth = getattr(_TORCH_LIMIT, "depth", 0)
    if depth == 0:
        _TORCH_LIMIT.saved = torch.get_num_threads()
        if _TORCH_LIMIT.saved != 1:
            torch.set_num_threads(1)
    _TORCH_LIMIT.depth = depth + 1
    try:
        yield
    finally:
        _TORCH_LIMIT.depth -= 1
        if _TORCH_LIMIT.depth == 0 and _TORCH_LIMIT.saved != 1:
            torch.set_num_threads(_TORCH_LIMIT.saved)


@contextmanager
def _one_blas_thread():
    with _LIMIT_LOCK:
        if _limit["users"] == 0 and any(
            lib.num_threads != 1 for lib in _BLAS.lib_controllers
        ):  # (else already one thread: OMP_NUM_THREADS=1, a joblib worker)
            _limit["limiter"] = _CONTROLLER.limit(limits=1, user_api="blas")
        _limit["users"] += 1
    try:
        yield
    finally:
        with _LIMIT_LOCK:
            _limit["users"] -= 1
            if _limit["users"] == 0 and _limit["limiter"] is not None:
                _limit["limiter"].restore_original_limits()
                _limit["limiter"] = None
