"""Parallelism, processes and global state, as a scikit-learn or torch user meets them.

joblib's backends (loky, threading) give the n_jobs=1 results; fits in
concurrent threads give the sequential ones; a fit leaves torch's and
numpy's process-wide settings as it found them (thread counts included,
also when fits run at once in threads or are interrupted); a forked child
fits and predicts as its parent does; skl0.l0's fits train whatever the
caller's grad mode.
"""

import multiprocessing
import os
import signal
import sys
import threading
import time
import types
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from joblib import parallel_config
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info, threadpool_limits

import skl0._progress as progress
import skl0._threads as thread_limits
from skl0 import (
    L0Classifier,
    L0FeatureSelector,
    L0Regressor,
    L0RegressorCV,
    l0_path,
)


def _data(seed, n=120, p=8):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    y = X[:, seed % 3 : seed % 3 + 3] @ [1.5, -2.0, 1.0] + 0.5 * rng.randn(n)
    return X, y


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def _small_problem():
    # What blas_threads reads of a problem: a small dense CPU one.
    return types.SimpleNamespace(n_features=5, n_samples=50, kind="rows",
                                 mean=torch.zeros(5))


class _ProcessBlas:
    """A BLAS library's one thread count for the whole process, as threadpoolctl sets it."""

    def __init__(self):
        self.num_threads = 2

    def limit(self, *, limits, user_api):
        return _Limiter(self, limits)


class _Limiter:
    # threadpoolctl's limiter: saves the count it finds, restores that one.
    def __init__(self, blas, limits):
        self.blas, self.saved = blas, blas.num_threads
        blas.num_threads = limits

    def restore_original_limits(self):
        self.blas.num_threads = self.saved

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.restore_original_limits()


def test_concurrent_blas_limits_restore_the_thread_count(monkeypatch):
    """Two fits in threads entering the one-BLAS-thread limit at once restore the count.

    The BLAS thread count is the process's: each fit set its own limit, so
    when both read the count (2) before either limited it, the second saved
    the first's limit (1) and, leaving last, put that back: BLAS ran on one
    thread for the rest of the process (seen with L0RegressorCV(n_jobs=4)
    within 30 fits, without OMP_NUM_THREADS). The interleaving is forced
    here: A limits only once B has read the count (or after 0.5 s), B only
    after A; A's fit ends first.
    """
    blas = _ProcessBlas()
    in_limit, b_read, a_limited = threading.Event(), threading.Event(), threading.Event()

    def limit(**kwargs):
        if threading.current_thread().name == "A":
            in_limit.set()
            b_read.wait(0.5)  # (B never gets here when the fits share one limit)
            out = blas.limit(**kwargs)
            a_limited.set()
        else:
            b_read.set()
            a_limited.wait(2)
            out = blas.limit(**kwargs)
        return out

    monkeypatch.setattr(thread_limits, "_CONTROLLER", types.SimpleNamespace(limit=limit))
    monkeypatch.setattr(thread_limits, "_BLAS", types.SimpleNamespace(lib_controllers=[blas]))
    entered = {name: threading.Event() for name in "AB"}
    leave = {name: threading.Event() for name in "AB"}

    def fit(name):
        with thread_limits.blas_threads(_small_problem()):
            entered[name].set()
            leave[name].wait(5)

    threads = {name: threading.Thread(target=fit, args=(name,), name=name) for name in "AB"}
    threads["A"].start()
    assert in_limit.wait(5)
    threads["B"].start()
    assert entered["A"].wait(5) and entered["B"].wait(5)
    assert blas.num_threads == 1
    leave["A"].set()
    threads["A"].join(5)
    assert blas.num_threads == 1  # B's fit still runs, on one thread
    leave["B"].set()
    threads["B"].join(5)
    assert blas.num_threads == 2


def test_threaded_cv_fits_leave_the_blas_thread_count():
    with threadpool_limits(limits=2, user_api="blas"):
        start = _blas_threads()
        X, y = _data(0)
        for seed in range(3):
            L0RegressorCV(cv=3, n_jobs=3, random_state=seed).fit(X, y)
        assert _blas_threads() == start


def test_an_interrupted_fit_restores_the_blas_thread_count(monkeypatch):
    def interrupt(self, *args, **kwargs):
        raise KeyboardInterrupt

    X, y = _data(1)
    est = L0Regressor(lam="auto", random_state=0, verbose=1).fit(*_data(2))
    coef = est.coef_.copy()
    for cls in (progress._Silent, progress._Bar):
        monkeypatch.setattr(cls, "update", interrupt)
    with threadpool_limits(limits=2, user_api="blas"):
        start = _blas_threads()
        with torch.no_grad():
            with pytest.raises(KeyboardInterrupt):
                est.fit(X, y)
            assert not torch.is_grad_enabled()  # the caller's mode, back
        assert _blas_threads() == start
    np.testing.assert_array_equal(est.coef_, coef)  # the earlier model, as it was


def _global_state():
    return dict(
        torch_rng=torch.get_rng_state(), numpy_rng=np.random.get_state()[1].copy(),
        numpy_pos=np.random.get_state()[2], dtype=torch.get_default_dtype(),
        threads=torch.get_num_threads(), interop=torch.get_num_interop_threads(),
        grad=torch.is_grad_enabled(), deterministic=torch.are_deterministic_algorithms_enabled(),
        matmul=torch.get_float32_matmul_precision(), blas=_blas_threads(),
        errstate=np.geterr(), filters=list(warnings.filters),
    )


def _same_state(a, b):
    return {k for k in a if not (torch.equal(a[k], b[k]) if torch.is_tensor(a[k])
                                 else np.array_equal(a[k], b[k]))}


@pytest.mark.parametrize("fit", [
    lambda X, y: L0Regressor(k=3, random_state=0).fit(X, y),
    lambda X, y: L0Regressor(lam="auto", random_state=0).fit(X, y),
    lambda X, y: L0Classifier(lam=0.01, hidden_layer_sizes=(4,), max_iter=20,
                              random_state=0).fit(X, y > 0),
    lambda X, y: L0RegressorCV(cv=3, n_jobs=2, random_state=0).fit(X, y),
    lambda X, y: L0Classifier(lam=0.01, random_state=0).partial_fit(X, y > 0, classes=[0, 1]),
    lambda X, y: l0_path(X, y, random_state=0),
], ids=["k", "auto", "mlp", "cv-threads", "partial_fit", "l0_path"])
def test_a_fit_leaves_the_process_wide_settings(fit):
    X, y = _data(3)
    with threadpool_limits(limits=2, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (an MLP head's short run warns)
        fit(X, y)  # (torch's first use of some kernels imports sympy, which adds a filter)
        before = _global_state()
        fit(X, y)
        assert not _same_state(before, _global_state())


def test_search_backends_give_the_sequential_results():
    X, y = _data(4)
    pipe = Pipeline([("sel", L0FeatureSelector(random_state=0)), ("clf", LogisticRegression())])
    grid = {"sel__k": [2, 4], "sel__lam": [1e-3, 1e-1]}
    results = {}
    # (loky with n_jobs=2 gives them too, checked by hand: its workers'
    # start, importing torch, takes about 10 s here)
    for backend, n_jobs in (("loky", 1), ("threading", 2)):
        with parallel_config(backend=backend):
            search = GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs).fit(X, y > 0)
            scores = cross_val_score(L0Regressor(lam="auto", random_state=0), X, y, cv=3,
                                     n_jobs=n_jobs)
        results[backend, n_jobs] = (search.cv_results_["mean_test_score"], scores)
    first = results["loky", 1]
    for key, (grid_scores, cv_scores) in results.items():
        np.testing.assert_array_equal(grid_scores, first[0], err_msg=str(key))
        np.testing.assert_array_equal(cv_scores, first[1], err_msg=str(key))


_MAKERS = [
    lambda X, y, s: L0Regressor(k=3, random_state=s).fit(X, y).coef_,
    lambda X, y, s: L0Classifier(k=3, random_state=s).fit(X, y > 0).coef_,
    lambda X, y, s: L0Classifier(lam=0.02, hidden_layer_sizes=(4,), max_iter=25,
                                 random_state=s).fit(X, y > 0).predict_proba(X),
    lambda X, y, s: L0RegressorCV(cv=3, n_jobs=2, random_state=s).fit(X, y).coef_,
]


def test_fits_in_concurrent_threads_match_sequential_fits():
    jobs = [(m, s) for m in range(len(_MAKERS)) for s in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seq = [_MAKERS[m](*_data(s), s) for m, s in jobs]
        with ThreadPoolExecutor(4) as pool:
            par = list(pool.map(lambda job: _MAKERS[job[0]](*_data(job[1]), job[1]), jobs))
    for job, a, b in zip(jobs, seq, par):
        np.testing.assert_array_equal(a, b, err_msg=str(job))


@contextmanager
def torch_threads(n):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("make", [
    lambda: L0Regressor(hidden_layer_sizes=(8,), k=3, max_iter=60, random_state=0),
    lambda: L0Classifier(k=3, random_state=0),
], ids=["mlp", "multinomial"])
def test_a_small_fit_runs_torch_on_one_thread_whatever_its_count(make, monkeypatch):
    """A small CPU fit sets torch's thread count to 1 in its thread while it lasts.

    Seen from inside the fit (a linear head's solver, an MLP head's Adam),
    and by its result: the same predictions to the bit with 1 and 2 torch threads (with
    2 an MLP head's fit took twice the CPU time, and its predictions
    differed in the last bits). The count is back after the fit.
    """
    X, y = _data(4, n=300, p=12)
    if "Classifier" in type(make()).__name__:
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))  # 3 classes
    import skl0._train as train

    seen = []
    for name in ("solve_gates", "make_adam"):  # (a linear head's solver, an MLP head's Adam)
        def spy(*args, _real=getattr(train, name), **kwargs):
            seen.append(torch.get_num_threads())
            return _real(*args, **kwargs)

        monkeypatch.setattr(train, name, spy)
    predictions = []
    for n in (1, 2):
        with torch_threads(n):
            model = make().fit(X, y)
            assert torch.get_num_threads() == n
        predictions.append(model.predict_proba(X) if hasattr(model, "predict_proba")
                           else model.predict(X))
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("make", [
    lambda: L0Regressor(hidden_layer_sizes=(8,), k=3, max_iter=5, random_state=0),
    lambda: L0Classifier(hidden_layer_sizes=(8,), k=3, max_iter=5, random_state=0),
    lambda: L0RegressorCV(cv=3, n_lams=4),
], ids=["mlp regressor", "mlp classifier", "cv"])
def test_a_small_fit_gives_the_same_numbers_whatever_the_blas_thread_count(make, monkeypatch):
    """A small CPU fit runs on one BLAS thread from its validated X on, preparation included.

    X's moments were formed before the solve's one-thread limit: with two
    BLAS threads OpenBLAS splits the products' sums between them, and
    on 1000 x 500 rows the moments came out an ulp apart, which an MLP
    head's training grew into another model (a held-out probability of
    0.65 instead of 0.83 on 2000 x 500 Madelon-style rows). The problem's
    moments and the predictions (read on one thread) are now the same to
    the bit with one and two BLAS threads.
    """
    rng = np.random.default_rng(0)
    n, p = 1000, 500
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, p) + 10.0 * rng.normal(size=p)
    y = X[:, 0] - X[:, 1] + rng.normal(size=n)
    if "Classifier" in type(make()).__name__:
        y = (y > np.median(y)).astype(int)
    est_class = type(make())
    seen = []

    def spy(self, problem, *args, _real=est_class._fit_record, **kwargs):
        seen.append((problem.mean.numpy().copy(), problem.std.numpy().copy()))
        return _real(self, problem, *args, **kwargs)

    monkeypatch.setattr(est_class, "_fit_record", spy)
    runs = []
    for threads in (1, 2):
        seen.clear()
        with threadpool_limits(threads, user_api="blas"):
            model = make().fit(X, y)
        with threadpool_limits(1, user_api="blas"):
            runs.append((list(seen), model.predict(X[:50])))
    (moments_1, pred_1), (moments_2, pred_2) = runs
    assert len(moments_1) == len(moments_2) >= 1
    for (mean_1, std_1), (mean_2, std_2) in zip(moments_1, moments_2):
        np.testing.assert_array_equal(mean_1, mean_2)
        np.testing.assert_array_equal(std_1, std_2)
    np.testing.assert_array_equal(pred_1, pred_2)


def _fit_in_child(seed):
    X, y = _data(seed)
    return L0Classifier(k=3, random_state=seed).fit(X, y > 0).coef_


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_a_forked_child_fits_as_its_parent():
    # (after torch ran on several threads in the parent, a forked child's
    # torch may hang in GNU OpenMP: the docs' advice, torch.set_num_threads(1)
    # first in the child, is what this test's one thread stands for)
    X, y = _data(5)
    parent = L0Classifier(k=3, random_state=5).fit(X, y > 0)
    with torch_threads(1), multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_fit_in_child, (5,)).get(timeout=60)
    np.testing.assert_array_equal(child, parent.coef_)


def test_clone_refit_and_set_params_give_the_fresh_fit():
    X, y = _data(6)
    est = L0Regressor(k=3, random_state=0).fit(X, y)
    again = clone(est).fit(X, y)
    np.testing.assert_array_equal(est.coef_, again.coef_)
    est.set_params(k=2).fit(X, y)
    np.testing.assert_array_equal(est.coef_, L0Regressor(k=2, random_state=0).fit(X, y).coef_)


def _l0_models():
    from skl0.l0 import SparseCalibrationWeights, SparseL0Linear

    rng = np.random.RandomState(0)
    X = sp.random(60, 10, density=0.4, random_state=0, format="csr")
    M = sp.random(8, 30, density=0.5, random_state=1, format="csr")
    return [
        (lambda: SparseL0Linear(10, seed=0), X, X @ rng.randn(10)),
        (lambda: SparseCalibrationWeights(30, seed=0), M, M @ np.ones(30)),
    ]


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_l0_fits_train_inside_no_grad_and_inference_mode(mode):
    # As the estimators' fit: torch's "element 0 of tensors does not require
    # grad" before, for both of skl0.l0's fits.
    for make, X, y in _l0_models():
        torch.manual_seed(0)
        plain = make().fit(X, y, epochs=5).predict(X)
        model = make()
        torch.manual_seed(0)
        with mode():
            model.fit(X, y, epochs=5)
            assert not torch.is_grad_enabled()  # the caller's mode, back
        torch.testing.assert_close(model.predict(X), plain, rtol=0, atol=0)


def test_l0_fit_after_a_predict_in_inference_mode():
    # predict under torch.inference_mode() cached X (or M's operator) as
    # inference tensors, and the next fit on the same matrix raised
    # "Inference tensors cannot be saved for backward".
    for make, X, y in _l0_models():
        torch.manual_seed(0)
        plain = make().fit(X, y, epochs=5).predict(X)
        model = make()
        with torch.inference_mode():
            model.predict(X)
        torch.manual_seed(0)
        torch.testing.assert_close(model.fit(X, y, epochs=5).predict(X), plain, rtol=0, atol=0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_wait_on_the_parents_blas_limit():
    # The shared limit's lock and count are the process's: a fork while
    # another thread held the lock (inside a fit's entry) gave a child
    # whose next small fit waited for ever. The child starts afresh.
    X, y = _data(0)
    with thread_limits._LIMIT_LOCK:  # another thread's fit, entering, at the fork
        pid = os.fork()
        if pid == 0:  # the child: one fit, then out, whatever happens
            code = 1
            try:
                torch.set_num_threads(1)  # (torch's own advice after a fork)
                L0Regressor(k=2, random_state=0).fit(X, y)
                code = 0
            finally:
                os._exit(code)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's fit waited on the parent's lock")
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_during_the_warm_up_leaves_the_child_a_free_lock():
    # A fork while another thread is inside prepare_training (holding its
    # lock) gave a child whose first `from skl0 import ...` waited for ever
    # on that lock; the child now starts with a free one.
    import skl0._base as base

    with base._training_lock:  # (as a thread inside the warm-up holds it)
        pid = os.fork()
        if pid == 0:  # the child: exit at once, with the lock's state as the code
            os._exit(0 if base._training_lock.acquire(timeout=2) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
