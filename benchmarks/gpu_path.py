"""Path and CV on a GPU: wall time per optimizer step against reading X once.

Issue 14's GPU line: on n=1e6, p=1000 (float32), ``l0_path`` (30 points)
and ``L0RegressorCV`` / ``L0ClassifierCV`` (``cv=5``) should cost per step
within 2x of one pass over X. The floor is timed on the same device: one
``X @ w`` plus one ``X.T @ r`` on X held there (what any full-batch
gradient step pays). For each task the table gives the wall time of one
fit at ``lam=0.01``, of the path and of the CV fit, the path's optimizer
steps (``L0Path.n_iter``, summed) and its wall time per step over the
floor (the whole path's time, the host's preparation of X included, so
an upper bound on a step's cost, not the cost itself).
A squared loss is solved from its Gram matrix (one pass over X to form
it, then p x p work), so its per-step column compares Gram steps with a
pass over X; the log loss reads X at each step.

Data: standard normal X (drawn on the device, seeded), 10 true columns;
``y = X_S beta + noise`` (SNR 3) or a logistic draw from the same linear
predictor. Wall times include the copy of X to the device and skl0's
input checks, as a user sees them; one small fit of each kind runs first,
untimed, so that the process's one-off costs fall on none of the rows.

    python benchmarks/gpu_path.py                      # n=1e6, p=1000 on CUDA
    python benchmarks/gpu_path.py --n 20000 --p 200 --device cpu   # a smoke run
"""

from __future__ import annotations

import argparse
import time

import _common as C  # also puts the repository root on sys.path
import numpy as np
import torch

from skl0 import L0Classifier, L0ClassifierCV, L0Regressor, L0RegressorCV, l0_path

K_TRUE = 10


def make_data(n, p, device, seed=0):
    """``(X float32 numpy, y_regression, y_binary, support)`` drawn on ``device``."""
    g = torch.Generator(device=device).manual_seed(seed)
    Xt = torch.randn(n, p, generator=g, device=device, dtype=torch.float32)
    support = np.sort(np.random.RandomState(seed).choice(p, K_TRUE, replace=False))
    beta = torch.linspace(1.0, 2.0, K_TRUE, device=device) * torch.tensor(
        [(-1.0) ** i for i in range(K_TRUE)], device=device)
    signal = Xt[:, torch.as_tensor(support, device=device)] @ beta
    noise = torch.randn(n, generator=g, device=device) * signal.std() / 3.0
    y_reg = (signal + noise).double().cpu().numpy()
    prob = torch.sigmoid(signal / signal.std() * 2.0)
    y_bin = (torch.rand(n, generator=g, device=device) < prob).long().cpu().numpy()
    return Xt.cpu().numpy(), y_reg, y_bin, support


def floor_seconds(X, device, repeats=10):
    """Median wall time of ``X @ w`` plus ``X.T @ r`` with X on ``device``."""
    Xt = torch.from_numpy(X).to(device)
    w = torch.randn(X.shape[1], device=device)
    r = torch.randn(X.shape[0], device=device)
    times = []
    for _ in range(repeats + 1):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        (Xt @ w).sum().item()
        (Xt.T @ r).sum().item()
        times.append(time.perf_counter() - t)
    del Xt
    return float(np.median(times[1:]))


def timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=1000)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--n-lams", type=int, default=30)
    ap.add_argument("--tasks", default="regression,classification")
    args = ap.parse_args(argv)
    unknown = set(args.tasks.split(",")) - {"regression", "classification"}
    if unknown:
        ap.error(f"unknown --tasks {sorted(unknown)}: regression, classification")
    torch.manual_seed(0)
    print("# GPU path benchmark\n")
    for line in C.environment_lines():
        print(f"- {line}")
    if args.device.startswith("cuda"):
        print(f"- device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    t_data, (X, y_reg, y_bin, support) = timed(lambda: make_data(args.n, args.p, args.device))
    print(f"- data: n={args.n}, p={args.p}, float32, {K_TRUE} true columns "
          f"({X.nbytes / 2**30:.2f} GiB; drawn in {t_data:.1f} s)")
    floor = floor_seconds(X, args.device)
    print(f"- floor: X @ w + X.T @ r on {args.device}: {floor * 1e3:.2f} ms\n")
    # One small fit of each kind first: the process's one-off costs (CUDA
    # kernels' first launches, and torch.optim's lazy import of torch._dynamo
    # by the logistic refit's L-BFGS, 5 s on a fresh device machine) are
    # then not counted in whichever timed fit comes first.
    small = slice(0, min(args.n, 20000))
    L0Regressor(lam=0.01, device=args.device).fit(X[small], y_reg[small])
    L0Classifier(lam=0.01, device=args.device).fit(X[small], y_bin[small])
    rows = []
    for task in args.tasks.split(","):
        if task == "regression":
            y, one, cv, kind = y_reg, L0Regressor, L0RegressorCV, "regression"
        else:
            y, one, cv, kind = y_bin, L0Classifier, L0ClassifierCV, "classification"
        dev = dict(device=args.device)
        t1, est = timed(lambda: one(lam=0.01, **dev).fit(X, y))
        tp, path = timed(lambda: l0_path(X, y, n_lams=args.n_lams, task=kind, **dev))
        tc, cvest = timed(lambda: cv(cv=5, **dev).fit(X, y))
        steps = int(np.sum(path.n_iter))
        per = tp / max(steps, 1)
        rows.append([kind, f"{t1:.2f}", f"{tp:.2f} ({tp / t1:.1f}x)", f"{tc:.2f} ({tc / t1:.1f}x)",
                     str(steps), f"{per * 1e3:.2f}", f"{per / floor:.1f}x",
                     f"{C.support_metrics(est.get_support(), support)['f1']:.2f}",
                     f"{C.support_metrics(cvest.get_support(), support)['f1']:.2f}"])
        print(f"  {kind} done", flush=True)
    head = ["task", "one fit s", "path s (/ fit)", "CV s (/ fit)", "path steps",
            "ms / step", "step / floor", "fit F1", "CV F1"]
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
