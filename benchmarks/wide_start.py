"""The IRLS start of fixed-``lam`` log-loss fits and paths past 512 columns.

Since session 48 a cold IRLS start of a fixed ``lam`` (and of ``l0_path``'s
and the CV estimators' first points, and ``lam="auto"``'s walk) opens only
the gates whose own Newton step on the first quadratic model lowers it by
more than their price (at most 512, as before), where it opened the 512 of
largest marginal gain; and each IRLS step's vertex search keeps at most
``max(512, 2^22 / p)`` gates open (each open gate is a Gram column of ``p``
numbers), where it opened as many as its model asked for.

Every fit here is run three ways in one process: the ``--base`` commit
(before both), the checkout with the cap lifted (``_IRLS_OPEN_NUMBERS``
patched past any ``p``: the priced start alone, an ablation) and the
checkout. Columns: CPU time over the base's (samples taken in turn,
``engine.cpu_times_interleaved``, one each), the traced numpy peak of a
second run (tracemalloc, not timed), the number of features kept and the
objective:

- a fixed ``lam``: the gate solve's final ``F`` (``loss_curve_[-1]``),
  as a difference to the base's (negative: the checkout's solution is lower);
- a 16-point ``l0_path``: each point's training loss plus ``lam`` times its
  number of features, the points where it is lower / higher than the
  base's by more than 1e-6, and the largest changes.

Data: ``scipy.sparse.random`` CSR sets of 1% non-zeros whose labels follow
5 columns (separable at small ``lam``), logistic data with 5 true
``N(0, 1)`` columns, ``make_classification`` (10 informative, 5
redundant) and the ``text_like`` CSR sets of ``sparse_classification.py``.
Seeds 0 and 1 were looked at while making the change; the default seeds
930 and 931 were not.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/wide_start.py --base a4d2c79 [--seeds 930,931] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import warnings
from unittest import mock

import _common as C
import numpy as np
import scipy.sparse as sp
import torch
from engine import cpu_times_interleaved, log, table
from revision_ab import import_revision
from sklearn.datasets import make_classification
from sparse_classification import text_like, traced_peak

import skl0
import skl0._irls

torch.set_num_threads(1)


def sparse_random(n, p, seed, density=0.01):
    """A CSR X of ``density`` non-zeros whose labels follow its first 5 columns."""
    rng = np.random.RandomState(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=seed)
    logit = 3 * np.asarray(X[:, :5].sum(1)).ravel() / density ** 0.5 - 1
    y = (rng.rand(n) < 1 / (1 + np.exp(-(logit - np.median(logit))))).astype(int)
    return X, y


def logistic(n, p, seed):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    logit = X[:, :5] @ np.array([1.5, -1.0, 1.0, 0.8, -0.8])
    return X, (rng.rand(n) < 1 / (1 + np.exp(-logit))).astype(int)


def cases(seeds, quick):
    """``[(label, X, y, kind, lams)]``: kind ``"fit"`` (one fit per lam) or ``"path"``."""
    out = []
    for seed in seeds:
        X, y = sparse_random(1000, 20000, seed)
        out.append((f"random CSR 1000 x 20000, seed {seed}", X, y, "fit", (0.03, 0.003, 1e-4)))
        out.append((f"random CSR 1000 x 20000, seed {seed}", X, y, "path", None))
        if quick:
            continue
        X, y = logistic(800, 600, seed)
        out.append((f"logistic 800 x 600, seed {seed}", X, y, "fit", (0.01, 0.003)))
        X, y = make_classification(2000, 1000, n_informative=10, n_redundant=5,
                                   random_state=seed)
        out.append((f"make_classification 2000 x 1000, seed {seed}", X, y, "fit", (0.01,)))
        X, y, _ = text_like(20000, 10000, 2, random_state=seed)
        out.append((f"text_like 20000 x 10000, seed {seed}", X, y, "fit", (0.002,)))
        X, y, _ = text_like(3000, 20000, 2, random_state=seed)
        out.append((f"text_like 3000 x 20000, seed {seed}", X, y, "fit", (0.005,)))
        out.append((f"text_like 3000 x 20000, seed {seed}", X, y, "path", None))
        X, y, _ = text_like(10000, 5000, 3, random_state=seed)
        out.append((f"text_like 10000 x 5000, 3 classes, seed {seed}", X, y, "fit", (0.002,)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="a4d2c79", help="the commit before the change")
    ap.add_argument("--seeds", default="930,931")
    ap.add_argument("--quick", action="store_true", help="the random CSR sets only")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    warnings.simplefilter("ignore")  # (empty models at large lam warn)
    print("\n".join(C.environment_lines(("numpy", "scipy", "scikit-learn", "torch"))))
    print(f"checkout: {skl0.__file__}; base: {args.base}\n")
    with tempfile.TemporaryDirectory() as tmp:
        base = import_revision(args.base, tmp)
        fit_rows, path_rows = [], []
        for label, X, y, kind, lams in cases(seeds, args.quick):
            for lam in (lams or (None,)):
                def runner(pkg, capped=True, lam=lam):
                    def run():
                        with (contextlib.nullcontext() if capped else
                              mock.patch.object(skl0._irls, "_IRLS_OPEN_NUMBERS", 1 << 62)):
                            if kind == "fit":
                                return pkg.L0Classifier(lam=lam, random_state=0).fit(X, y)
                            return pkg.l0_path(X, y, task="classification", n_lams=16,
                                               random_state=0)
                    return run

                fns = [runner(base), runner(skl0, capped=False), runner(skl0)]
                log("wide_start:", label, kind, lam)
                results = [fn() for fn in fns]
                times = cpu_times_interleaved(fns, 1)
                peaks = [traced_peak(lambda *_, fn=fn: fn(), None, None) / 2**20 for fn in fns]
                names = [args.base, "priced start, no cap (ablation)", "checkout"]
                if kind == "fit":
                    F0 = results[0].loss_curve_[-1]
                    for name, est, t, pk in zip(names, results, times, peaks):
                        fit_rows.append([label, f"lam={lam:g}", name, f"{t:.2f}",
                                         f"{t / times[0]:.2f}x", f"{pk:.0f}",
                                         int(est.get_support().sum()),
                                         f"{est.loss_curve_[-1] - F0:+.2e}"])
                else:
                    def penalised(path):
                        return np.asarray(path.loss) + np.asarray(path.lams) * np.asarray(
                            path.n_features)

                    P0 = penalised(results[0])
                    for name, path, t, pk in zip(names, results, times, peaks):
                        d = penalised(path) - P0
                        path_rows.append([label, name, f"{t:.2f}", f"{t / times[0]:.2f}x",
                                          f"{pk:.0f}", " ".join(map(str, path.n_features[:9])),
                                          f"{int((d < -1e-6).sum())} / {int((d > 1e-6).sum())}",
                                          f"{d.min():+.3f} / {d.max():+.3f}"])
        print("## Fixed lam (CPU time and traced peak; F less the base's)\n")
        table(["data", "lam", "revision", "CPU s", "/ base", "peak MB", "features",
               "F - base F"], fit_rows)
        print("\n## 16-point l0_path (penalised loss: training loss + lam x features)\n")
        table(["data", "revision", "CPU s", "/ base", "peak MB", "features, first 9 points",
               "points lower / higher", "largest change lower / higher"], path_rows)


if __name__ == "__main__":
    main()
