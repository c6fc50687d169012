"""Sparse survey calibration: skl0 against l0-python and a dense NNLS fit.

One run, one seeded synthetic survey (``skl0.calibration.make_survey``),
three methods side by side:

* ``skl0 SparseCalibrator``: keep exactly ``k`` records (10% by default);
  also a row with ``prune_tol=0`` (every record in every step) so the
  per-iteration cost without the active set is visible;
* ``l0-python SparseCalibrationWeights``: the same data (``M.T``, as that
  package expects), the same initial weights, the same total number of
  gradient steps, its relative loss; ``lambda_l0`` and ``lr`` fixed below;
* ``skl0.l0 SparseCalibrationWeights``: the same call through skl0's
  compatibility API (``import skl0.l0`` instead of ``import l0``), which
  runs l0-python's objective and Adam loop on skl0's calibration core; it
  runs whether or not l0-python is installed;
* dense, non-sparse calibration that keeps every record: classical raking
  (Deville & Saerndal's raking ratio, ``w_i = d_i * exp(x_i @ lam)``, by
  damped Newton on its dual with a tiny ridge since noisy totals are
  slightly inconsistent), and ``scipy.optimize.lsq_linear`` with bounds
  ``[0, inf)`` on the relative-error system (trf + lsmr, capped iterations).

Metrics per method: mean and max relative error of the totals (scale
``|target|``), records kept, seconds, iterations and seconds per iteration.
The markdown table goes to stdout, progress to stderr.

Usage::

    python benchmarks/calibration.py --quick     # N=2e4, Q=490, ~1 minute
    python benchmarks/calibration.py             # N=2e5, Q=2090

``SKL0_QUICK=1`` in the environment means ``--quick``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.optimize import lsq_linear

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch

from skl0.calibration import SparseCalibrator, make_survey

FULL = {
    "n_records": 200_000,
    "n_regions": 100,
    "n_age_bands": 10,
    "n_income_brackets": 9,
}
QUICK = {
    "n_records": 20_000,
    "n_regions": 20,
    "n_age_bands": 10,
    "n_income_brackets": 9,
}
# l0-python settings: its loss sums squared relative errors over the targets,
# so its lambda_l0 is on another scale than skl0's lam; these values keep
# roughly a tenth of the records on this survey (found by a small sweep).
L0_PYTHON = {"lambda_l0": 1e-3, "lr": 0.2, "init_keep_prob": 0.5}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def relative_errors(M, weights, targets):
    achieved = np.asarray(M.T @ weights).ravel()
    scale = np.where(targets != 0, np.abs(targets), 1.0)
    return np.abs(achieved - targets) / scale


def row(name, M, weights, targets, seconds, iters, note=""):
    err = relative_errors(M, weights, targets)
    return {
        "method": name,
        "mean rel. err": f"{100 * err.mean():.3f}%",
        "max rel. err": f"{100 * err.max():.2f}%",
        "records kept": f"{int((weights > 0).sum()):,} ({100 * np.mean(weights > 0):.1f}%)",
        "seconds": f"{seconds:.1f}",
        "iterations": "-" if iters is None else f"{iters}",
        "ms / iter": f"{1e3 * seconds / iters:.2f}" if iters else "-",
        "notes": note,
        "_s_per_iter": seconds / iters if iters else None,
    }


def run_skl0(M, targets, w0, k, max_iter, polish_iter, seed, **extra):
    cal = SparseCalibrator(
        k=k,
        max_iter=max_iter,
        polish_iter=polish_iter,
        device="cpu",
        random_state=seed,
        **extra,
    )
    start = time.perf_counter()
    cal.fit(M, targets, sample_weight=w0)
    return cal.weights_, time.perf_counter() - start, cal.n_iter_


def run_l0_python(M, targets, w0, epochs, seed, package="l0"):
    """Fit ``SparseCalibrationWeights`` from ``package`` ("l0" or "skl0.l0")."""
    SparseCalibrationWeights = importlib.import_module(
        f"{package}.calibration"
    ).SparseCalibrationWeights

    MT = sp.csr_matrix(M.T)
    model = SparseCalibrationWeights(
        M.shape[0],
        init_weights=w0,
        init_keep_prob=L0_PYTHON["init_keep_prob"],
        seed=seed,
        device="cpu",
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(
            MT,
            targets,
            lambda_l0=L0_PYTHON["lambda_l0"],
            lr=L0_PYTHON["lr"],
            epochs=epochs,
            loss_type="relative",
        )
    seconds = time.perf_counter() - start
    with torch.no_grad():
        weights = model.get_weights(deterministic=True).cpu().numpy().astype(np.float64)
    return weights, seconds


def run_lsq_linear(M, targets, max_iter):
    scale = np.where(targets != 0, np.abs(targets), 1.0)
    start = time.perf_counter()
    A = sp.csr_matrix(sp.diags(1.0 / scale) @ sp.csr_matrix(M.T))
    res = lsq_linear(
        A,
        targets / scale,
        bounds=(0, np.inf),
        lsq_solver="lsmr",
        max_iter=max_iter,
        tol=1e-8,
    )
    return res.x, time.perf_counter() - start, res.nit


def run_raking(M, targets, d, ridge=1e-8, max_iter=50):
    """Raking ratio: w = d * exp(X @ lam), Newton on the (ridged) convex dual

    ``D(lam) = sum(w) - t @ lam + ridge / 2 * |lam|^2`` on the relative scale
    (columns of M divided by |target|); its gradient is the calibration
    residual ``X.T @ w - t``.
    """
    start = time.perf_counter()
    scale = np.where(targets != 0, np.abs(targets), 1.0)
    X = sp.csr_matrix(sp.csr_matrix(M) @ sp.diags(1.0 / scale))
    t = targets / scale
    lam = np.zeros(X.shape[1])

    def dual(lam):
        w = d * np.exp(X @ lam)
        return w.sum() - t @ lam + 0.5 * ridge * lam @ lam, w

    value, w = dual(lam)
    for it in range(1, max_iter + 1):
        grad = X.T @ w - t + ridge * lam
        if np.abs(grad).max() < 1e-10:
            break
        hess = (X.T @ sp.diags(w) @ X).toarray()
        hess[np.diag_indices_from(hess)] += ridge
        step = -scipy.linalg.solve(hess, grad, assume_a="pos")
        size = 1.0
        while True:  # backtracking (Armijo) line search on the dual
            new_value, new_w = dual(lam + size * step)
            if new_value <= value + 1e-4 * size * grad @ step or size < 1e-8:
                break
            size /= 2
        lam, value, w = lam + size * step, new_value, new_w
    return w, time.perf_counter() - start, it


def markdown(rows):
    cols = [c for c in rows[0] if not c.startswith("_")]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(["---"] * len(cols)) + "|"]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=2e4, fewer steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep", type=float, default=0.10, help="share of records kept"
    )
    parser.add_argument("--max-iter", type=int, default=None)
    parser.add_argument("--polish-iter", type=int, default=300)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch.set_num_threads (default: torch's choice)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma list of rows to skip: l0-python,compat,noprune,raking,lsq",
    )
    parser.add_argument(
        "--lsq-iter",
        type=int,
        default=30,
        help="max trf iterations of lsq_linear (each runs lsmr)",
    )
    parser.add_argument(
        "--lsq",
        action="store_true",
        help="run lsq_linear on the full survey too (very slow)",
    )
    args = parser.parse_args(argv)
    args.quick = args.quick or os.environ.get("SKL0_QUICK", "") not in ("", "0")
    skip = set(filter(None, args.skip.split(",")))
    if args.threads:
        torch.set_num_threads(args.threads)

    size = QUICK if args.quick else FULL
    max_iter = args.max_iter or (600 if args.quick else 1000)
    M, targets, w0, _ = make_survey(**size, noise=0.005, random_state=args.seed)
    n, q = M.shape
    k = round(args.keep * n)
    total_iter = max_iter + args.polish_iter
    log(f"survey: N={n:,} records, Q={q:,} targets, nnz={M.nnz:,}; k={k:,}")

    # Warm up torch (first optimizer step, kernels) outside every timing.
    small = M[:2000]
    with warnings.catch_warnings():  # 5 + 5 steps miss their targets, as they may
        warnings.simplefilter("ignore")
        run_skl0(small, np.asarray(small.T @ w0[:2000]).ravel(), w0[:2000], 200, 5, 5, 0)

    rows = []
    log("skl0 ...")
    w, s, it = run_skl0(M, targets, w0, k, max_iter, args.polish_iter, args.seed)
    rows.append(row("skl0 SparseCalibrator", M, w, targets, s, it, f"k={k}"))
    if "noprune" not in skip:
        log("skl0, prune_tol=0 ...")
        w, s, it = run_skl0(
            M, targets, w0, k, max_iter, args.polish_iter, args.seed, prune_tol=0.0
        )
        rows.append(
            row("skl0, prune_tol=0", M, w, targets, s, it, "every record in every step")
        )
    if "l0-python" not in skip:
        try:
            import l0  # noqa: F401
        except ImportError as exc:
            log(f"l0-python skipped: {exc}")
            rows.append(
                {
                    **rows[0],
                    **dict.fromkeys(rows[0], "-"),
                    "method": "l0-python",
                    "notes": f"skipped: import failed ({exc})",
                    "_s_per_iter": None,
                }
            )
        else:
            log(f"l0-python, {total_iter} epochs ...")
            run_l0_python(
                small, np.asarray(small.T @ w0[:2000]).ravel(), w0[:2000], 5, 0
            )
            w, s = run_l0_python(M, targets, w0, total_iter, args.seed)
            note = ", ".join(f"{key}={val}" for key, val in L0_PYTHON.items())
            rows.append(
                row(
                    "l0-python SparseCalibrationWeights",
                    M,
                    w,
                    targets,
                    s,
                    total_iter,
                    note,
                )
            )
    if "compat" not in skip:
        log(f"skl0.l0 (l0-python's API on skl0), {total_iter} epochs ...")
        run_l0_python(
            small, np.asarray(small.T @ w0[:2000]).ravel(), w0[:2000], 5, 0, "skl0.l0"
        )
        w, s = run_l0_python(M, targets, w0, total_iter, args.seed, "skl0.l0")
        note = ", ".join(f"{key}={val}" for key, val in L0_PYTHON.items())
        rows.append(
            row(
                "skl0.l0 SparseCalibrationWeights (compat API)",
                M,
                w,
                targets,
                s,
                total_iter,
                note,
            )
        )
    if "raking" not in skip:
        log("raking ...")
        w, s, it = run_raking(M, targets, w0)
        rows.append(
            row(
                "dense: raking ratio (all records)",
                M,
                w,
                targets,
                s,
                it,
                "Newton on the dual; iterations are Newton steps",
            )
        )
    if "lsq" not in skip and not (args.quick or args.lsq):
        rows.append(
            {
                **dict.fromkeys(rows[0], "-"),
                "method": "dense: scipy lsq_linear, w >= 0",
                "notes": "not run: over 4 minutes for 10 trf iterations at this "
                "size; pass --lsq to run it",
                "_s_per_iter": None,
            }
        )
    elif "lsq" not in skip:
        log("lsq_linear ...")
        w, s, it = run_lsq_linear(M, targets, max_iter=args.lsq_iter)
        # lsq_linear returns lsmr's unbounded solution, with nit=0, when it
        # already lies within the bounds: then trf never ran
        how = (f"trf + lsmr, max_iter={args.lsq_iter}" if it else
               "lsmr's unbounded solution already has w >= 0: no trf iterations")
        rows.append(
            row(
                "dense: scipy lsq_linear, w >= 0",
                M,
                w,
                targets,
                s,
                it,
                how,
            )
        )

    print(
        f"Survey: N={n:,} records, Q={q:,} targets, nnz(M)={M.nnz:,}, "
        f"seed={args.seed}, k={k:,} ({100 * args.keep:.0f}%), "
        f"{max_iter} gated + {args.polish_iter} polish steps for skl0, "
        f"{total_iter} epochs for l0-python."
    )
    print(
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s), Python {platform.python_version()}.\n"
    )
    print(markdown(rows))
    ours = rows[0]["_s_per_iter"]
    others = [
        r for r in rows if r["method"].startswith("l0-python") and r["_s_per_iter"]
    ]
    if others:
        print(
            f"\nPer iteration, l0-python takes {others[0]['_s_per_iter'] / ours:.1f}x "
            "as long as skl0"
            + (
                f" ({others[0]['_s_per_iter'] / rows[1]['_s_per_iter']:.1f}x as long "
                "as skl0 with prune_tol=0)."
                if "noprune" not in skip
                else "."
            )
        )
    compat = [r for r in rows if r["method"].startswith("skl0.l0") and r["_s_per_iter"]]
    if others and compat:
        print(
            f"Through the compatibility API (skl0.l0, same objective and steps), "
            f"l0-python takes {others[0]['_s_per_iter'] / compat[0]['_s_per_iter']:.1f}x "
            "as long per iteration."
        )


if __name__ == "__main__":
    main()
