"""Warm-started log-loss paths against the cold fit at each ``lam`` (session 49).

A log-loss path point starts from the previous point's solution (its
weights and open gates). Past the point where the open columns separate
the training labels, those weights are large and every gate looks
expensive to close in the IRLS model built there, so the path could carry
a local solution along: a 16-point path on a 1000 x 20000 random CSR kept
the same 217 columns at 7 points, at objectives up to 0.22 above a fit
started cold at the same ``lam``. Since session 49, a warm point also runs
the cold start of a fixed-``lam`` fit, and the start of lower objective
``F`` goes on to the polish (``skl0._engine.solve_gates``; not in the
estimators' own ``lam="auto"`` and exact-``k`` walks, whose points are only
candidates).

Every path runs two ways in one process: ``before``, the cold competitor
switched off (``skl0._engine._COLD_COMPETES`` patched to False: the code
path of f2785a8), and the checkout. (At d4ed718 the competitor ran only
where the warm start left its open set as it was; that commit's run of
this script has its rows as "checkout" and the competitor at every warm
point as an ablation.)

Columns: CPU time (samples taken in turn, ``engine.cpu_times_interleaved``)
over ``before``'s; the features of the first points; and each point's
final ``F`` against ``F`` of the cold fit at its ``lam`` (``l0_path`` with
that single ``lam``): the points above it by more than 1e-6 and the largest
excess, the points below it, and the mean of ``F - F_cold`` over the
points. ``L0ClassifierCV`` rows (3 folds, each fold a path) give the CPU
ratio, the number of kept features and the accuracy on a held-out quarter.

Data. Development families (looked at on seeds 0 and 1 while making the
change): logistic data with 5 true ``N(0, 1)`` columns, 200 x 400 and
500 x 5000; ``make_classification`` 300 x 200 and 2000 x 100 (10
informative, 5 redundant; the second not separable) and 400 x 300 with 3
classes; the random CSR of
``wide_start.py``; breast cancer (fixed data). Families not looked at:
``make_classification`` 500 x 300 with ``n_repeated=10`` and 3 clusters a
class, ``text_like`` 3000 x 20000 (binary) and 2000 x 5000 (3 classes)
from ``sparse_classification.py``, and digits (fixed data). The default
seeds 930 and 931 were not looked at.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/warm_path.py [--seeds 930,931] [--quick] [--only digits,...]
"""

from __future__ import annotations

import argparse
import warnings
from unittest import mock

import _common as C
import numpy as np
import torch
from engine import cpu_times_interleaved, log, table
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.model_selection import train_test_split
from sparse_classification import text_like
from wide_start import logistic, sparse_random

import skl0
import skl0._engine
import skl0._train

torch.set_num_threads(1)

MODES = {"before": False, "checkout": True}  # skl0._engine._COLD_COMPETES


class FinalF:
    """Records the final objective of every gate solve (``skl0._train.solve_gates``)."""

    def __init__(self):
        self.values = []
        self._solve = skl0._train.solve_gates

    def __call__(self, *args, **kwargs):
        out = self._solve(*args, **kwargs)
        self.values.append(out[1][-1])
        return out


def cases(seeds, quick):
    """``[(label, X, y, cv)]``: ``cv`` whether the L0ClassifierCV rows run on it."""
    out = []
    for seed in seeds:
        out.append((f"logistic 200 x 400, seed {seed}", *logistic(200, 400, seed), True))
        X, y = make_classification(300, 200, n_informative=10, n_redundant=5,
                                   random_state=seed)
        out.append((f"make_classification 300 x 200, seed {seed}", X, y, True))
        X, y = make_classification(500, 300, n_informative=6, n_redundant=4, n_repeated=10,
                                   n_clusters_per_class=3, random_state=seed)
        out.append((f"make_classification 500 x 300 repeated, seed {seed}", X, y, True))
        X, y = make_classification(2000, 100, n_informative=10, n_redundant=5,
                                   random_state=seed)
        out.append((f"make_classification 2000 x 100, seed {seed}", X, y, True))
        if quick:
            continue
        out.append((f"logistic 500 x 5000, seed {seed}", *logistic(500, 5000, seed), False))
        X, y = make_classification(400, 300, n_informative=8, n_classes=3, random_state=seed)
        out.append((f"make_classification 400 x 300, 3 classes, seed {seed}", X, y, True))
        X, y, _ = text_like(2000, 5000, 3, random_state=seed)
        out.append((f"text_like 2000 x 5000, 3 classes, seed {seed}", X, y, False))
        out.append((f"random CSR 1000 x 20000, seed {seed}", *sparse_random(1000, 20000, seed),
                    False))
        X, y, _ = text_like(3000, 20000, 2, random_state=seed)
        out.append((f"text_like 3000 x 20000, seed {seed}", X, y, False))
    out.append(("breast cancer", *load_breast_cancer(return_X_y=True), True))
    if not quick:
        out.append(("digits", *load_digits(return_X_y=True), True))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="930,931")
    ap.add_argument("--quick", action="store_true", help="the small sets only")
    ap.add_argument("--only", default="",
                    help="comma-separated parts of data labels: run only the sets that have one")
    args = ap.parse_args(argv)
    only = [part for part in args.only.split(",") if part]
    seeds = [int(s) for s in args.seeds.split(",")]
    warnings.simplefilter("ignore")  # (empty models at large lam warn)
    print("\n".join(C.environment_lines(("numpy", "scipy", "scikit-learn", "torch"))))
    print(f"checkout: {skl0.__file__}\n")
    path_rows, cv_rows = [], []
    for label, X, y, cv in cases(seeds, args.quick):
        if only and not any(part in label for part in only):
            continue
        log("warm_path:", label)

        def runner(competes, make):
            def run():
                with mock.patch.object(skl0._engine, "_COLD_COMPETES", competes):
                    return make()
            return run

        def path():
            return skl0.l0_path(X, y, task="classification", n_lams=16, random_state=0)

        fns = [runner(competes, path) for competes in MODES.values()]
        finals = []
        for fn in fns:
            rec = FinalF()
            with mock.patch.object(skl0._train, "solve_gates", rec):
                out = fn()
            finals.append((np.array(rec.values), out))
        cold = []
        for lam in finals[0][1].lams:
            rec = FinalF()
            with mock.patch.object(skl0._train, "solve_gates", rec):  # (a cold fit: no competitor)
                skl0.l0_path(X, y, lams=[lam], task="classification", random_state=0)
            cold.append(rec.values[-1])
        cold = np.array(cold)
        times = cpu_times_interleaved(fns, 1)
        for name, (F, out), t in zip(MODES, finals, times):
            k = min(F.size, cold.size)  # (a path ends once every gate is closed)
            d = F[:k] - cold[:k]
            path_rows.append([label, name, f"{t:.2f}", f"{t / times[0]:.2f}x",
                              " ".join(map(str, out.n_features[:10])),
                              f"{int((d > 1e-6).sum())} ({max(d.max(), 0.0):.3f})",
                              int((d < -1e-6).sum()), f"{d.mean():+.4f}"])
        if not cv:
            continue
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=y)

        def fit_cv():
            return skl0.L0ClassifierCV(cv=3, random_state=0).fit(Xtr, ytr)

        fns = [runner(MODES[name], fit_cv) for name in ("before", "checkout")]
        models = [fn() for fn in fns]
        times = cpu_times_interleaved(fns, 1)
        for name, m, t in zip(("before", "checkout"), models, times):
            cv_rows.append([label, name, f"{t:.2f}", f"{t / times[0]:.2f}x",
                            int(m.get_support().sum()), f"{m.score(Xte, yte):.3f}"])
    print("## 16-point l0_path: each point's F against the cold fit's at its lam\n")
    table(["data", "revision", "CPU s", "/ before", "features, first 10 points",
           "points above cold (max)", "points below cold", "mean F - F cold"], path_rows)
    print("## L0ClassifierCV(cv=3), held-out quarter\n")
    table(["data", "revision", "CPU s", "/ before", "features", "accuracy"], cv_rows)


if __name__ == "__main__":
    main()
