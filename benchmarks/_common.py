"""Shared helpers for the benchmark scripts in this folder.

Selection metrics against a known support, timing, held-out scoring of a
selected column set, optional-peer imports, and markdown tables. The
scripts (``selection.py`` and later nonlinear / CV / scale benchmarks)
import this module as ``_common``; it puts the repository root on
``sys.path`` so that they benchmark the checkout they live in even when
skl0 is not installed.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

__all__ = [
    "REPO_ROOT",
    "support_metrics",
    "heldout_score",
    "Timer",
    "record_warnings",
    "try_import",
    "environment_lines",
    "mean_std",
    "markdown_table",
    "Selection",
    "MethodResult",
    "summarize",
    "splice_only_support",
]


# --------------------------------------------------------------------------- metrics


def support_metrics(mask, support, n_features=None):
    """Precision, recall and F1 of a selected set against the true support.

    Parameters
    ----------
    mask : array-like of bool of shape (n_features,) or array-like of int
        The selection, as a boolean mask or as column indices.
    support : array-like of int
        Indices of the truly informative features.
    n_features : int, optional
        Needed only when ``mask`` is given as indices.

    Returns
    -------
    dict with keys ``precision``, ``recall``, ``f1``, ``n_selected``.
        An empty selection has precision 0 (and F1 0), not NaN, so that
        averages over seeds stay defined.
    """
    mask = np.asarray(mask)
    if mask.dtype != bool:
        idx = mask.astype(int)
        mask = np.zeros(n_features if n_features is not None else idx.max() + 1, bool)
        mask[idx] = True
    truth = np.zeros(mask.shape[0], bool)
    truth[np.asarray(support, int)] = True
    tp = int((mask & truth).sum())
    n_sel = int(mask.sum())
    precision = tp / n_sel if n_sel else 0.0
    recall = tp / int(truth.sum()) if truth.any() else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_selected": n_sel}


def heldout_score(X_train, y_train, X_test, y_test, mask, task):
    """Score a plain linear model refit on the selected columns only.

    R^2 of ``LinearRegression`` for ``task="regression"``, accuracy of
    ``LogisticRegression()`` (sklearn defaults, max_iter raised) for
    ``task="classification"``. An empty selection scores the
    intercept-only model (mean / majority class).
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression

    mask = np.asarray(mask, bool)
    if not mask.any():
        model = DummyRegressor() if task == "regression" else DummyClassifier()
        return float(model.fit(X_train, y_train).score(X_test, y_test))
    if task == "regression":
        model = LinearRegression()
    else:
        model = LogisticRegression(max_iter=1000)
    model.fit(X_train[:, mask], y_train)
    return float(model.score(X_test[:, mask], y_test))


# --------------------------------------------------------------------------- running


class Timer:
    """Wall-clock (``time.perf_counter``) and CPU time of a block.

    ``cpu_seconds`` is this process's CPU time (all its threads). On a
    machine shared with other jobs the wall time of a short fit swings with
    their load (a 0.2 s fit took 0.16 to 0.36 s); the CPU time of a
    single-threaded run (``OMP_NUM_THREADS=1``) is what the fit itself costs.

    >>> with Timer() as t:
    ...     _ = sum(range(10))
    >>> t.seconds >= 0 and t.cpu_seconds >= 0
    True
    """

    def __enter__(self):
        self._start, self._cpu = time.perf_counter(), time.process_time()
        self.seconds = self.cpu_seconds = float("nan")
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self.cpu_seconds = time.process_time() - self._cpu
        return False


class record_warnings(warnings.catch_warnings):
    """Collect warnings raised inside the block, counted by category name.

    >>> import warnings
    >>> with record_warnings() as w:
    ...     warnings.warn("x", UserWarning)
    >>> dict(w.counts)
    {'UserWarning': 1}
    """

    def __init__(self):
        super().__init__(record=True)
        self.counts = Counter()

    def __enter__(self):
        self._log = super().__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        for w in self._log:
            self.counts[w.category.__name__] += 1
        return super().__exit__(*exc)


_IMPORT_CACHE: dict = {}


def try_import(name):
    """Import an optional peer; return ``(module, None)`` or ``(None, reason)``."""
    if name not in _IMPORT_CACHE:
        try:
            _IMPORT_CACHE[name] = (importlib.import_module(name), None)
        except Exception as exc:  # ImportError, or a broken install of the peer
            _IMPORT_CACHE[name] = (None, f"{type(exc).__name__}: {exc}")
    return _IMPORT_CACHE[name]


def _version(dist):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "missing"


def _vector_unit():
    """The widest vector extension numpy reports for this CPU, and the loaded BLAS cores.

    Timings and round-off differ between AVX2 and AVX-512 machines (the
    project's machines have been both; ``skl0._elementwise`` chooses its
    kernels by it), so the tables say which one they come from.
    """
    from skl0._elementwise import numpy_cpu_module

    features = getattr(numpy_cpu_module(), "__cpu_features__", {})
    simd = next((name for key, name in (("AVX512_SKX", "AVX-512"), ("AVX2", "AVX2"),
                                        ("ASIMD", "ASIMD")) if features.get(key)),
                "SIMD unknown")
    threadpoolctl, _ = try_import("threadpoolctl")
    if threadpoolctl is not None:
        cores = sorted({str(info["architecture"]) for info in threadpoolctl.threadpool_info()
                        if info.get("user_api") == "blas" and info.get("architecture")})
        if cores:
            simd += f" (BLAS core {'/'.join(cores)})"
    return simd


def environment_lines(packages=("numpy", "scikit-learn", "torch")):
    """One-line descriptions of the machine and of installed package versions."""
    psutil, _ = try_import("psutil")
    cpu = f"{os.cpu_count()} logical CPUs"
    mem = ""
    if psutil is not None:
        cpu += f" ({psutil.cpu_count(logical=False)} physical)"
        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    torch, _ = try_import("torch")
    threads = f", torch threads {torch.get_num_threads()}" if torch is not None else ""
    if hasattr(os, "getloadavg"):  # other jobs on the machine inflate every fit time
        threads += f", load average {os.getloadavg()[0]:.1f} at start"
    versions = ", ".join(f"{p} {_version(p)}" for p in packages)
    return [
        f"machine: {platform.machine()} {platform.system()}, {cpu}{mem}, {_vector_unit()}"
        f"{threads}",
        f"python {platform.python_version()}; {versions}",
    ]


# --------------------------------------------------------------------------- results


@dataclass
class Selection:
    """One row's outcome on one seed: a boolean mask over the features.

    ``name`` None means the method's own row name; ``note`` is counted in
    the row's notes column.
    """

    name: str | None
    mask: np.ndarray
    note: str = ""


@dataclass
class MethodResult:
    """Per-seed measurements of one table row."""

    name: str
    f1: list = field(default_factory=list)
    precision: list = field(default_factory=list)
    recall: list = field(default_factory=list)
    score: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    n_selected: list = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)

    def add(self, metrics, score, seconds):
        self.f1.append(metrics["f1"])
        self.precision.append(metrics["precision"])
        self.recall.append(metrics["recall"])
        self.n_selected.append(metrics["n_selected"])
        self.score.append(score)
        self.seconds.append(seconds)

    @property
    def n_ok(self):
        return len(self.f1)


def mean_std(values, fmt="{:.3f}", with_std=True):
    """``"mean ± std"`` over seeds (``"-"`` if empty)."""
    values = np.asarray(values, float)
    if values.size == 0:
        return "-"
    text = fmt.format(values.mean())
    if with_std and values.size > 1:
        text += " ± " + fmt.format(values.std(ddof=1))
    return text


def markdown_table(headers, rows, align=None):
    """A GitHub markdown table; ``align`` is a string of ``l``/``r`` per column."""
    align = align or "l" + "r" * (len(headers) - 1)
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]

    def line(cells):
        out = []
        for c, w, a in zip(cells, widths, align):
            out.append(c.rjust(w) if a == "r" else c.ljust(w))
        return "| " + " | ".join(out) + " |"

    sep = ["-" * (w - 1) + ":" if a == "r" else "-" * w for w, a in zip(widths, align)]
    return "\n".join([line(headers), "| " + " | ".join(sep) + " |", *map(line, rows)])


def row_notes(r, n_seeds):
    """The notes cell of a ``MethodResult`` row: counted notes, failed seeds first."""
    notes = [f"{k} x{v}" if v > 1 else k for k, v in sorted(r.notes.items())]
    if r.n_ok and r.n_ok < n_seeds:
        notes.insert(0, f"{r.n_ok}/{n_seeds} seeds ok")
    return "; ".join(notes)


def summarize(results, score_name, n_seeds):
    """Markdown table of ``MethodResult`` rows: means over seeds."""
    headers = ["method", "F1", "precision", "recall", score_name, "fit s", "# selected", "notes"]
    rows = []
    for r in results:
        rows.append([
            r.name,
            mean_std(r.f1),
            mean_std(r.precision, with_std=False),
            mean_std(r.recall, with_std=False),
            mean_std(r.score, with_std=False),
            mean_std(r.seconds, fmt="{:.2f}"),
            mean_std(r.n_selected, fmt="{:.1f}", with_std=False),
            row_notes(r, n_seeds),
        ])
    return markdown_table(headers, rows, align="lrrrrrrl")


# --------------------------------------------------------------------------- ablation


def splice_only_support(X, y, k, task):
    """skl0's best-subset polish alone: abess's screening start, then splicing.

    The ablation row of the gate engine: the estimator's own validation,
    standardization and problem set-up (a walk over an empty grid, so that
    no gate is trained and every column is kept), then
    :func:`skl0._splice.splice_from_starts` from the ``k`` columns most
    correlated with the target. Returns a boolean mask.
    """
    import warnings

    from skl0 import L0Classifier, L0Regressor
    from skl0._splice import screening_start, splice_from_starts
    from skl0._walk import Walk

    est = (L0Regressor if task == "regression" else L0Classifier)()
    walk = Walk(np.zeros(0), reader=lambda est, problem, gate, head, points: problem)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No feature was selected")
        est._fit(X, y, None, walk=walk)
    problem = walk.result
    support, _, _ = splice_from_starts(problem, [screening_start(problem, k)])
    mask = np.zeros(X.shape[1], bool)
    mask[support] = True
    return mask
