"""Scale: fit time, peak memory and time per epoch of skl0 and its peers on large data.

Every fit runs in its own subprocess that loads the same seeded data from a
``.npy`` / ``.npz`` file, so that its peak resident memory (``ru_maxrss``)
is its own. Each table row reports the fit seconds (and the ratio to
skl0's), the peak resident memory above the process's baseline after its
imports (and as a multiple of the size of X), and the selection against
the true support. For skl0, the subprocess also times one full-data
training step (a full-batch epoch: gated forward pass and backward pass of
the linear head) against the floor any full-batch method must pay: one
``X @ w`` plus one ``X.T @ r`` on the same float32 X.

Run ``python benchmarks/scale.py --help`` for the options; see
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import _common as C  # also puts the repository root on sys.path
import numpy as np

K_TRUE = 10
SEED = 0


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Cell:
    task: str  # "regression" or "classification"
    n: int
    p: int
    density: float = 1.0  # < 1: scipy CSR with this fraction of non-zeros
    methods: tuple = ("skl0", "lasso-cv", "abess", "lassonet")
    epoch: bool = True  # also time skl0's full-data epoch against the floor

    @property
    def name(self):
        kind = "sparse CSR" if self.density < 1 else "dense"
        return f"{self.task}, {kind}, n={self.n:.0e}, p={self.p}" + (
            f", density {self.density:g}" if self.density < 1 else "")

    @property
    def x_bytes(self):
        if self.density < 1:
            return int(self.n * self.p * self.density) * (4 + 4) + (self.n + 1) * 4
        return self.n * self.p * 4


def _coef(p, rng):
    coef = np.zeros(p)
    support = np.sort(rng.choice(p, K_TRUE, replace=False))
    coef[support] = rng.uniform(1, 3, K_TRUE) * rng.choice([-1, 1], K_TRUE)
    return coef, support


def make_data(cell, folder):
    """Write X (float32, independent N(0, 1) columns or a sparse CSR) and y; return paths."""
    rng = np.random.default_rng(SEED)
    coef, support = _coef(cell.p, rng)
    if cell.density < 1:
        import scipy.sparse as sp

        nnz = int(cell.n * cell.p * cell.density)  # uniform positions (repeats summed)
        X = sp.csr_matrix((rng.standard_normal(nnz, dtype=np.float32),
                           (rng.integers(0, cell.n, nnz), rng.integers(0, cell.p, nnz))),
                          shape=(cell.n, cell.p))
        X.sum_duplicates()
        # A sparse column has little variance: give the true ones a signal worth finding.
        coef /= np.sqrt(cell.density)
        signal = X @ coef
        x_path = Path(folder) / "X.npz"
        sp.save_npz(x_path, X, compressed=False)
    else:
        x_path = Path(folder) / "X.npy"
        X = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32,
                                      shape=(cell.n, cell.p))
        signal = np.empty(cell.n)
        step = max(1, (1 << 24) // cell.p)
        for a in range(0, cell.n, step):
            block = rng.standard_normal((min(step, cell.n - a), cell.p), dtype=np.float32)
            X[a : a + block.shape[0]] = block
            signal[a : a + block.shape[0]] = block @ coef
        X.flush()
        del X
    if cell.task == "regression":  # SNR 3: var(signal) / var(noise)
        y = signal + rng.standard_normal(cell.n) * signal.std() / np.sqrt(3.0)
    else:  # logistic with the signal scaled to unit-ish log-odds spread
        logit = 2.0 * signal / signal.std()
        y = (rng.uniform(size=cell.n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    y_path = Path(folder) / "y.npy"
    np.save(y_path, y)
    return x_path, y_path, support


# --------------------------------------------------------------------------- child


def _rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak():
    """Restart the kernel's peak-RSS count (Linux), so import-time peaks are not charged."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mib():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _fit(method, task, X, y, quick):
    """Fit one method; return the boolean mask of the selected features."""
    if method == "skl0":
        from skl0 import L0Classifier, L0Regressor

        est = (L0Regressor if task == "regression" else L0Classifier)(random_state=SEED)
        est.fit(X, y)
        return est.get_support(), {"n_iter": int(est.n_iter_)}
    if method == "lasso-cv":
        from sklearn.linear_model import LassoCV, LogisticRegressionCV

        if task == "regression":
            # float64: on float32 X, LassoCV's own precomputed Gram fails its
            # own check at n >= 1e5 ("Gram matrix ... did not pass validation").
            X = X.astype(np.float64) if isinstance(X, np.ndarray) else X
            est = LassoCV(cv=5, random_state=SEED).fit(X, y)
        else:
            est = LogisticRegressionCV(Cs=10, l1_ratios=(1.0,), solver="liblinear", cv=5,
                                       scoring="neg_log_loss", use_legacy_attributes=False,
                                       random_state=SEED).fit(X, y)
        return np.abs(np.asarray(est.coef_)).reshape(-1, X.shape[1]).max(0) > 1e-5, {}
    if method == "abess":
        import abess
        import scipy.sparse as sp

        cls = abess.LinearRegression if task == "regression" else abess.LogisticRegression
        est = cls()
        if sp.issparse(X):
            est.fit(X, y, sparse_matrix=True)
        else:
            est.fit(X, y)
        return np.asarray(est.coef_).reshape(X.shape[1], -1).any(axis=1), {}
    if method == "lassonet":
        import torch
        from lassonet import LassoNetClassifier, LassoNetRegressor
        from sklearn.model_selection import train_test_split

        regression = task == "regression"
        X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.2, random_state=SEED)
        if regression:
            mu, sd = y_tr.mean(), y_tr.std()
            y_tr, y_val = (y_tr - mu) / sd, (y_val - mu) / sd
        cls = LassoNetRegressor if regression else LassoNetClassifier
        est = cls(hidden_dims=(10,), path_multiplier=1.25, n_iters=(100, 10),
                  patience=(10, 3), verbose=0, random_state=SEED, torch_seed=SEED)
        with torch.random.fork_rng():
            path = est.path(X_tr, y_tr, X_val=X_val, y_val=y_val)
        best = min(range(len(path)), key=lambda i: path[i].val_loss)
        return path[best].selected.cpu().numpy().astype(bool), {}
    raise ValueError(method)


def _best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _epoch_times(task, X, y):
    """(floor seconds, skl0 seconds per full-batch step) on the loaded X."""
    import scipy.sparse as sp
    import torch

    from skl0._datafits import BinaryLogLoss, SquaredLoss
    from skl0._heads import LinearHead
    from skl0._problem import DirectProblem, sparse_to_torch, weighted_moments
    from skl0._train import train_gates
    from skl0.nn import FeatureGate

    n, p = X.shape
    if sp.issparse(X):
        v = np.ones(p, np.float32)
        r = np.ones(n, np.float32)
        floor = _best_of(lambda: (X @ v, X.T @ r), 3)
        Xt = sparse_to_torch(X, "cpu", torch.float32)
        w_np = np.full(n, 1.0 / n)
        mean, std = (torch.as_tensor(a, dtype=torch.float32) for a in weighted_moments(X, w_np))
        host = X
    else:
        Xt = torch.from_numpy(X)
        v = torch.ones(p)
        floor = _best_of(lambda: Xt.t() @ (Xt @ v), 3)
        w = torch.full((n,), 1.0 / n)
        mean, std = weighted_moments(Xt, w)
        host = None
    w = torch.full((n,), 1.0 / n)
    datafit = SquaredLoss(1) if task == "regression" else BinaryLogLoss()
    if task == "regression":  # standardized (n, 1) targets, as the regressor's
        Y = torch.as_tensor(np.asarray(y, np.float32).reshape(n, 1))
        Y = (Y - Y.mean()) / Y.std()
    else:  # 0/1 codes of shape (n,), as the binary classifier's
        Y = torch.as_tensor(np.asarray(y, np.float32))
    problem = DirectProblem(Xt, Y, w, mean, std, datafit, host=host)
    gate, head = FeatureGate(p), LinearHead(p, 1)
    steps = 5

    def run():
        train_gates(problem, gate, head, lam=1e-3, max_iter=steps, check_every=steps,
                    generator=torch.Generator().manual_seed(0))

    return floor, _best_of(run, 2) / steps


# torch.optim imports torch._dynamo on the first optimizer (2-4 CPU s, once
# per process): counted with the imports, as sklearn's are.
_IMPORTS = {"skl0": ["torch", "torch._dynamo", "skl0"], "epoch": ["torch", "skl0"],
            "lasso-cv": ["sklearn.linear_model"], "abess": ["abess"], "lassonet": ["torch", "lassonet", "sklearn.model_selection"]}


def child(spec):
    import importlib

    import scipy.sparse as sp

    for name in ["sklearn", *_IMPORTS[spec["method"]]]:  # the baseline holds the libraries
        importlib.import_module(name)
    _reset_peak()
    base = _rss_mib()
    if spec["x"].endswith(".npz"):
        X = sp.load_npz(spec["x"]).tocsr()
    else:
        X = np.load(spec["x"])
    y = np.load(spec["y"])
    loaded = _rss_mib()
    if spec["method"] == "epoch":
        floor, epoch = _epoch_times(spec["task"], X, y)
        print("RESULT " + json.dumps(dict(floor=floor, epoch=epoch)), flush=True)
        return
    t, cpu = time.perf_counter(), time.process_time()
    mask, extra = _fit(spec["method"], spec["task"], X, y, spec["quick"])
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = _peak_mib()
    out = dict(seconds=seconds, cpu=cpu, peak=peak, base=base, loaded=loaded,
               mask=np.flatnonzero(mask).tolist(), **extra)
    print("RESULT " + json.dumps(out), flush=True)


# --------------------------------------------------------------------------- parent


def run_child(spec, timeout):
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    cmd = [sys.executable, __file__, "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                              check=False)
    except subprocess.TimeoutExpired:
        return None, f"timed out (> {timeout:.0f} s)"
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:]), ""
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:90]
    return None, f"error: {tail}"


def full_cells():
    """The issue's grid, most important first (the run budget may cut the tail)."""
    all4 = ("skl0", "lasso-cv", "abess", "lassonet")
    reg, clf = "regression", "classification"
    return [
        Cell(reg, 10_000, 100, methods=all4),
        Cell(reg, 100_000, 100, methods=all4),
        Cell(reg, 1_000_000, 100, methods=all4),  # the targets: support, vs LassoCV, memory
        Cell(reg, 10_000, 1000, methods=all4),
        Cell(reg, 100_000, 1000, methods=all4),
        Cell(clf, 10_000, 100, methods=all4),
        Cell(clf, 100_000, 100, methods=all4),
        Cell(clf, 10_000, 1000, methods=all4),
        Cell(reg, 1_000_000, 10_000, density=0.001, methods=("skl0", "lasso-cv", "abess")),
        # 4 GB of float32 X: the float64 peers would need 8-16 GB more on a shared
        # 24 GB machine, so skl0 runs alone.
        Cell(reg, 1_000_000, 1000, methods=("skl0",)),
        Cell(clf, 100_000, 1000, methods=all4),
        Cell(clf, 1_000_000, 100, methods=all4),
    ]


def quick_cells():
    return [
        Cell("regression", 3_000, 100, epoch=False),
        Cell("classification", 3_000, 100, methods=("skl0",), epoch=False),
        Cell("regression", 20_000, 500, density=0.002, methods=("skl0", "lasso-cv")),
    ]


LASSONET_MAX_N = 10_000  # LassoNet trains a network per path point: minutes beyond this


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only (< 1 minute)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per fit before it is stopped (default 120; 30 with --quick)")
    ap.add_argument("--budget", type=float, default=None,
                    help="total seconds after which the remaining cells are skipped "
                         "(default 1050; 50 with --quick)")
    ap.add_argument("--only", default="",
                    help="comma-separated 0-based indices of the cells to run (a rerun of "
                         "some cells of the full grid); default all")
    ap.add_argument("--methods", default="",
                    help="comma-separated subset of skl0,lasso-cv,abess,lassonet; default all")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        return child(spec)
    timeout = args.timeout or (30.0 if args.quick else 120.0)
    budget = args.budget or (50.0 if args.quick else 1050.0)
    cells = quick_cells() if args.quick else full_cells()
    if args.only:
        cells = [cells[int(i)] for i in args.only.split(",")]
    if args.methods:
        keep = set(args.methods.split(","))
        cells = [replace(c, methods=tuple(m for m in c.methods if m in keep)) for c in cells]
    start = time.perf_counter()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    print("# skl0 scale benchmark" + (" (--quick)" if args.quick else ""))
    print()
    for line in C.environment_lines(("numpy", "scipy", "scikit-learn", "torch", "abess",
                                     "lassonet")):
        print(f"- {line}")
    print(f"- OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; every fit in "
          f"its own subprocess, stopped after {timeout:.0f} s")
    print(f"- data: seed {SEED}, float32 X with independent N(0, 1) columns, {K_TRUE} true "
          "features with |coef| in [1, 3]; regression SNR 3, classification Bernoulli "
          "labels of a logistic model")
    print("- LassoCV gets X as float64 (converted inside its timed fit): on float32 X its "
          "precomputed Gram fails its own validation at n >= 1e5")
    print("- fit s: wall time of fit only; CPU s: its process CPU time (single-threaded "
          "fits, so CPU s is the time on an idle core; the ratio to skl0 uses it); "
          "peak MiB: peak resident memory (VmHWM, reset after the imports) minus "
          "the process's resident memory after its imports, X loaded in memory included; "
          "x X: that peak over the size of X")
    skipped_peers = []
    for name in ("abess", "lassonet"):
        mod, reason = C.try_import(name)
        if mod is None:
            skipped_peers.append(name)
            print(f"- skipped {name}: {reason}")
    print()
    epochs = []
    timed_out = set()
    seen = {}  # (method, task, p, sparse) -> (n, wall seconds) of the last fit
    for cell in cells:
        if time.perf_counter() - start > budget:
            print(f"## {cell.name}\n\nskipped: the run's time budget ({budget:.0f} s) is spent\n")
            continue
        log(f"{cell.name}: writing data")
        with tempfile.TemporaryDirectory(prefix="skl0_scale_") as folder:
            x_path, y_path, support = make_data(cell, folder)
            rows = []
            base_time = None
            for method in cell.methods:
                key = (method, cell.task, cell.p, cell.density < 1)
                note = ""
                if method in skipped_peers:
                    note = "not installed"
                elif method == "lassonet" and cell.n > LASSONET_MAX_N:
                    note = f"skipped: n > {LASSONET_MAX_N} (time budget)"
                elif key in timed_out:
                    note = "skipped: timed out at a smaller n"
                elif key in seen and seen[key][1] * cell.n / seen[key][0] > timeout:
                    n0, t0 = seen[key]
                    note = (f"skipped: ~{t0 * cell.n / n0:.0f} s predicted from n={n0:.0e} "
                            f"(> {timeout:.0f} s per fit)")
                elif time.perf_counter() - start > budget:
                    note = "skipped: run budget spent"
                res = None
                if not note:
                    log(f"  {method} ...")
                    spec = dict(method=method, task=cell.task, x=str(x_path), y=str(y_path),
                                quick=args.quick)
                    res, note = run_child(spec, timeout)
                    if res is None and note.startswith("timed out"):
                        timed_out.add(key)
                    if res is not None:
                        seen[key] = (cell.n, res["seconds"])
                if res is None:
                    rows.append([method, "-", "-", "-", "-", "-", "-", "-", note])
                    continue
                if method == "skl0":
                    base_time = res["cpu"]
                mask = np.zeros(cell.p, bool)
                mask[res["mask"]] = True
                m = C.support_metrics(mask, support)
                peak = res["peak"] - res["base"]
                ratio = f"{res['cpu'] / base_time:.2g}x" if base_time else "-"
                exact = "yes" if m["f1"] == 1.0 else "no"
                rows.append([method, f"{res['seconds']:.2f}", f"{res['cpu']:.2f}", ratio,
                             f"{peak:.0f}",
                             f"{peak * 2**20 / cell.x_bytes:.2f}", f"{m['f1']:.2f}",
                             f"{m['n_selected']} ({exact})", note])
                log(f"  {method}: {res['seconds']:.2f}s, peak {peak:.0f} MiB, F1 {m['f1']:.2f}")
            if cell.epoch and time.perf_counter() - start < budget:
                log("  epoch ...")
                spec = dict(method="epoch", task=cell.task, x=str(x_path), y=str(y_path),
                            quick=args.quick)
                res, note = run_child(spec, timeout)
                epochs.append((cell, res, note, dict(zip(cell.methods, rows)).get("skl0")))
        print(f"## {cell.name} (X: {cell.x_bytes / 2**20:.0f} MiB)")
        print()
        print(C.markdown_table(
            ["method", "fit s", "CPU s", "CPU / skl0", "peak MiB", "x X", "F1",
             "# selected (= true)", "notes"], rows, align="lrrrrrrrl"))
        print()
        sys.stdout.flush()

    if epochs:
        print("## skl0 time per full-data epoch against the floor")
        print()
        print("floor: best of 3 of one `X @ w` plus one `X.T @ r` (torch for dense, scipy "
              "for sparse, float32); skl0 epoch: one full-batch training step of the "
              "gates and the linear head on the same X (best of 2 runs of 5 steps), each in "
              "its own process. skl0's default regression fit with n > p does not take "
              "such epochs: it reads X once to form X'WX and then steps in O(p^2).")
        print()
        rows = []
        for cell, res, note, fit_row in epochs:
            head = [cell.task, "sparse" if cell.density < 1 else "dense", f"{cell.n:.0e}", cell.p]
            if res is None:
                rows.append(head + ["-", "-", "-", note])
                continue
            rows.append(head + [f"{res['floor'] * 1e3:.1f}", f"{res['epoch'] * 1e3:.1f}",
                                f"{res['epoch'] / res['floor']:.2f}", ""])
        print(C.markdown_table(["task", "X", "n", "p", "floor ms", "skl0 epoch ms",
                                "epoch / floor", "notes"], rows, align="llrrrrrl"))
        print()
    print(f"total wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
