"""Binary swap search: refits left unfinished once they cannot win, against finishing every one.

Exact ``k``, ``lam="auto"`` and the fixed-``lam`` swaps of a binary log
loss on small data refit every candidate support of a swap round by
batched Newton (``skl0._splice._BinaryRefits.fit_many``) and keep only the
lowest loss below the current one. Since session 20 a candidate whose
Newton decrement shows it cannot reach that loss stops early
(``skl0._refit.newton_binary_batch``'s ``cutoff``: from the
``_DROP_AFTER``-th step, objective - ``_DROP_MARGIN`` x decrement - ridge
term above the best objective reached). The ablation ("every refit
finished") patches ``fit_many`` to ignore the cutoff, as before. Both run
in this process, one thread, fits timed in turn.

Tables:

1. supports chosen and CPU time, with and without the early stops, on the
   development designs (breast cancer, two 455-row subsets, ``k`` = 1..30,
   where the constants were chosen) and on held-out ones
   (``make_classification`` of 100-800 rows, 12-40 columns, seeds
   ``--first-seed`` .. + ``--seeds`` - 1, default 300-329: exact ``k`` at
   up to six sizes, ``lam="auto"`` and ``lam=0.01`` each);
2. a user's grid search: ``GridSearchCV(Pipeline([StandardScaler,
   L0FeatureSelector(k), LogisticRegression]), k = 1..30, cv=5)`` on
   breast cancer, both ways, beside ``SelectKBest`` in the same pipeline.

    OMP_NUM_THREADS=1 python benchmarks/binary_refits.py [--seeds 30] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings
from unittest import mock

import _common as C  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skl0._splice as splice
from skl0 import L0Classifier, L0FeatureSelector

_REAL_FIT_MANY = splice._BinaryRefits.fit_many


def finished():
    """The ablation: every refit of a round solved to its optimum (no cutoff)."""
    return mock.patch.object(splice._BinaryRefits, "fit_many",
                             lambda self, cands, cutoff=None: _REAL_FIT_MANY(self, cands))


def timed(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def development_fits(quick):
    X0, y0 = load_breast_cancer(return_X_y=True)
    X0 = StandardScaler().fit_transform(X0)
    for fold in range(1 if quick else 2):
        rows = np.random.RandomState(fold).permutation(len(y0))[:455]
        for k in range(1, 31, 4 if quick else 1):
            yield (X0[rows], y0[rows], dict(k=k))


def heldout_fits(seeds):
    for seed in seeds:
        rng = np.random.RandomState(seed)
        n, p = int(rng.choice([100, 200, 400, 800])), int(rng.choice([12, 20, 30, 40]))
        n = min(n, 2**15 // p)  # the second-order search's size
        X, y = make_classification(
            n, p, n_informative=int(rng.randint(2, 8)), n_redundant=int(rng.randint(0, 5)),
            flip_y=float(rng.choice([0.01, 0.1, 0.2])),
            class_sep=float(rng.choice([0.5, 1.0, 2.0])), random_state=seed)
        for k in sorted({k for k in (2, 4, 7, 10, 15, p // 2) if k < p}):
            yield X, y, dict(k=k)
        yield X, y, {}
        yield X, y, dict(lam=0.01)


def compare(fits):
    same = n = 0
    t_stop = t_full = 0.0
    for X, y, params in fits:
        def fit():
            return L0Classifier(random_state=0, **params).fit(X, y).get_support()
        a, ta = timed(fit)
        with finished():
            b, tb = timed(fit)
        same += bool(np.array_equal(a, b))
        n += 1
        t_stop += ta
        t_full += tb
    return [f"{same} of {n}", f"{t_stop:.2f}", f"{t_full:.2f}", f"{t_stop / t_full:.2f}x"]


def grid_search(quick):
    X, y = load_breast_cancer(return_X_y=True)
    ks = list(range(1, 31, 3 if quick else 1))

    def search(selector):
        pipe = Pipeline([("scale", StandardScaler()), ("sel", selector),
                         ("clf", LogisticRegression(max_iter=1000))])
        gs = GridSearchCV(pipe, {"sel__k": ks}, cv=5).fit(X, y)
        return gs.best_params_["sel__k"], gs.best_score_

    (k_a, s_a), ta = timed(lambda: search(L0FeatureSelector(random_state=0)))
    with finished():
        (k_b, s_b), tb = timed(lambda: search(L0FeatureSelector(random_state=0)))
    (k_c, s_c), tc = timed(lambda: search(SelectKBest()))
    rows = [["L0FeatureSelector, early stops", k_a, f"{s_a:.4f}", f"{ta:.1f}", f"{ta / tc:.1f}x"],
            ["L0FeatureSelector, every refit finished", k_b, f"{s_b:.4f}", f"{tb:.1f}",
             f"{tb / tc:.1f}x"],
            ["SelectKBest(f_classif)", k_c, f"{s_c:.4f}", f"{tc:.1f}", "1.0x"]]
    return ks, rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first-seed", type=int, default=300)
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    seeds = range(args.first_seed, args.first_seed + (3 if args.quick else args.seeds))
    rows = [[f"development: breast cancer, {1 if args.quick else 2} x 455 rows, k = 1..30",
             *compare(development_fits(args.quick))],
            [f"held out: make_classification, seeds {seeds.start}-{seeds.stop - 1}",
             *compare(heldout_fits(seeds))]]
    print(C.markdown_table(["designs", "same support", "CPU s, early stops",
                            "CPU s, every refit finished", "ratio"], rows))
    print()
    ks, rows = grid_search(args.quick)
    print(f"GridSearchCV over k = {ks[0]}..{ks[-1]} ({len(ks)} values), cv=5, breast cancer "
          "(StandardScaler, selector, LogisticRegression):")
    print()
    print(C.markdown_table(["selector", "best k", "best score", "CPU s", "/ SelectKBest"], rows))


if __name__ == "__main__":
    main()
