"""Swap-search refits left unfinished once they cannot win, against finishing every one.

A round of the swap search (exact ``k``, ``lam="auto"``'s per-size search,
the fixed-``lam`` swaps of a binary log loss) refits every candidate support
and keeps only the lowest loss below the current one. Since session 20 a
candidate that cannot reach it stops early:

- binary log loss (batched Newton, ``skl0._splice_refits._BinaryRefits.fit_many``
  and ``skl0._refit_newton.newton_binary_batch``'s ``cutoff``): from the
  ``_DROP_AFTER``-th step, objective - ``_DROP_MARGIN`` x Newton decrement -
  ridge term above the best objective reached;
- multinomial log loss (preconditioned L-BFGS-B,
  ``skl0._splice_multinomial.MultinomialRefits.fit_many``): after the
  ``_STOP_AFTER``-th evaluation, objective - ``_STOP_MARGIN`` x ``g'H^-1 g``
  (``H`` the preconditioner) above the best loss before it; small problems'
  Newton refits by the binary rule (session 21).

The ablation ("every refit finished") patches ``fit_many`` to ignore the
cutoff, as before. Both run in this process, one thread, each fit timed
beside its ablation, after one untimed fit of each kind.

Tables (``--only``, default all):

1. ``binary``: supports chosen and CPU time, with and without the stops, on
   the development designs (breast cancer, two 455-row subsets, ``k`` =
   1..30, where the constants were chosen) and on held-out ones
   (``make_classification`` of 100-800 rows, 12-40 columns, seeds
   ``--first-seed`` .. + ``--seeds`` - 1, default 300-329: exact ``k`` at up
   to six sizes, ``lam="auto"`` and ``lam=0.01`` each);
2. ``multinomial``: the same on digits (``train_test_split(test_size=0.25,
   stratify=y, random_state=s)``, 20 of 64 pixels; development splits
   200-202, where the constants were chosen, and held-out splits 100-104),
   ``lam="auto"`` on held-out split 100, and on a family not looked at
   while choosing them (``make_classification`` with 4-6 classes, 1000-2000
   rows, 30-50 columns, redundant and repeated columns; seeds 400-405,
   ``k`` = 5 and 12);
3. ``newton``: small multinomial problems, refitted by Newton's method
   (``skl0._refit_newton.softmax_newton_applies``), whose refits stop by the
   binary rule (session 21): iris and wine, two 80% row subsets each,
   ``lam="auto"`` and ``k`` = 1, 2, 3, 5, 8 (development), and held-out
   ``make_classification`` sets of 100-600 rows, 8-20 columns and 3-5
   classes (seeds 500-529, ``lam="auto"`` and ``k`` = 2, 4);
4. ``fixedlam``: fixed-``lam`` binary fits (the single flips after the gate
   solve and their swaps, each group of flips asking only for an objective
   below the current one and the best flip so far) at ``lam`` = 0.01, 0.03,
   0.1, 0.2, 0.5 on breast cancer and on the ``make_classification`` sets of
   ``engine.py --only fixedlam`` (300 x 20, seeds 100, 102, 104, 106), each
   fit repeated three times;
5. ``grid``: a user's grid search, ``GridSearchCV(Pipeline([StandardScaler,
   L0FeatureSelector(k), LogisticRegression]), k = 1..30, cv=5)`` on
   breast cancer, both ways, beside ``SelectKBest`` in the same pipeline.

    OMP_NUM_THREADS=1 python benchmarks/refit_stops.py [--only binary,multinomial,newton,fixedlam,grid] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from contextlib import ExitStack
from unittest import mock

import _common as C  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
import torch
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skl0._splice_multinomial as splice_multinomial
import skl0._splice_refits as splice_refits
from skl0 import L0Classifier, L0FeatureSelector

_REFITS = (splice_refits._BinaryRefits, splice_multinomial.MultinomialRefits)
_REAL = {cls: cls.fit_many for cls in _REFITS}


def finished():
    """The ablation: every refit of a round solved to its optimum (no cutoff)."""
    stack = ExitStack()
    for cls in _REFITS:
        stack.enter_context(mock.patch.object(
            cls, "fit_many", lambda self, cands, cutoff=None, _real=_REAL[cls]: _real(self, cands)))
    return stack


def timed(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


def compare(fits):
    """Row cells: same supports, CPU with stops, CPU with every refit finished, ratio."""
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
        print(".", end="", file=sys.stderr, flush=True)
    return [f"{same} of {n}", f"{t_stop:.2f}", f"{t_full:.2f}", f"{t_stop / t_full:.2f}x"]


def binary_development(quick):
    X0, y0 = load_breast_cancer(return_X_y=True)
    X0 = StandardScaler().fit_transform(X0)
    for fold in range(1 if quick else 2):
        rows = np.random.RandomState(fold).permutation(len(y0))[:455]
        for k in range(1, 31, 4 if quick else 1):
            yield X0[rows], y0[rows], dict(k=k)


def binary_heldout(seeds):
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


def digits(splits, params):
    X, y = load_digits(return_X_y=True)
    for s in splits:
        X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=s)
        yield X_tr, y_tr, params


def multiclass_heldout(seeds):
    for seed in seeds:
        rng = np.random.RandomState(seed)
        X, y = make_classification(
            int(rng.choice([1000, 1500, 2000])), int(rng.choice([30, 40, 50])),
            n_informative=8, n_redundant=4, n_repeated=2, n_classes=int(rng.randint(4, 7)),
            n_clusters_per_class=int(rng.randint(1, 3)), flip_y=0.05, random_state=seed)
        for k in (5, 12):
            yield X, y, dict(k=k)


def newton_development(quick):
    """iris and wine, two 80% row subsets each: ``lam="auto"`` and exact ``k``."""
    rng = np.random.RandomState(0)
    for X, y in (load_iris(return_X_y=True), load_wine(return_X_y=True)):
        for _ in range(1 if quick else 2):
            rows = rng.choice(len(y), int(0.8 * len(y)), replace=False)
            for k in (None, 1, 2, 3, 5, 8):
                if k is None or k < X.shape[1]:
                    yield X[rows], y[rows], {} if k is None else dict(k=k)


def newton_heldout(seeds):
    """``make_classification`` of 100-600 rows, 8-20 columns and 3-5 classes."""
    for seed in seeds:
        rng = np.random.RandomState(seed)
        p = int(rng.choice([8, 12, 20]))
        X, y = make_classification(
            int(rng.choice([100, 200, 400, 600])), p, n_informative=int(rng.randint(3, 6)),
            n_redundant=int(rng.randint(0, 3)), n_classes=int(rng.randint(3, 6)),
            n_clusters_per_class=1, flip_y=float(rng.choice([0.01, 0.05, 0.1])),
            class_sep=float(rng.choice([1.0, 2.0])), random_state=seed)
        yield X, y, {}
        for k in (2, 4):
            yield X, y, dict(k=k)


def fixed_lam(quick):
    sets = [("breast cancer", *load_breast_cancer(return_X_y=True))]
    for seed in (100,) if quick else (100, 102, 104, 106):
        sets.append((f"make_classification 300 x 20, seed {seed}", *make_classification(
            300, 20, n_informative=4, n_redundant=4, class_sep=2.0, random_state=seed)))
    rows = []
    for name, X, y in sets:
        fits = [(X, y, dict(lam=lam)) for lam in (0.01, 0.03, 0.1, 0.2, 0.5)
                for _ in range(1 if quick else 3)]
        rows.append([name, *compare(fits)])
    return rows


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


def warm_up():
    """One untimed fit of each kind, both ways, for the process's one-time costs."""
    X, y = load_breast_cancer(return_X_y=True)
    Xd, yd = load_digits(return_X_y=True)
    for params in (dict(k=3), dict(lam=0.1)):
        for ablation in (False, True):
            with finished() if ablation else ExitStack():
                L0Classifier(random_state=0, **params).fit(X[:200], y[:200])
                L0Classifier(random_state=0, k=3).fit(Xd[:300], yd[:300])


HEADERS = ["designs", "same support", "CPU s, early stops", "CPU s, every refit finished",
           "ratio"]


def print_table(title, rows):
    """One table of ``compare`` rows under ``title``, flushed at once."""
    print(f"{title}:\n")
    print(C.markdown_table(HEADERS, rows))
    print(flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="binary,multinomial,newton,fixedlam,grid")
    ap.add_argument("--first-seed", type=int, default=300,
                    help="first held-out seed of the binary designs")
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    warm_up()
    if "binary" in only:
        seeds = range(args.first_seed, args.first_seed + (3 if args.quick else args.seeds))
        rows = [[f"development: breast cancer, {1 if args.quick else 2} x 455 rows, k = 1..30",
                 *compare(binary_development(args.quick))],
                [f"held out: make_classification, seeds {seeds.start}-{seeds.stop - 1}",
                 *compare(binary_heldout(seeds))]]
        print_table("Binary log loss", rows)
    if "multinomial" in only:
        dev, held = ((200,), (100,)) if args.quick else ((200, 201, 202), (100, 101, 102, 103, 104))
        fam = range(400, 402 if args.quick else 406)
        rows = [[f"development: digits k=20, splits {dev[0]}-{dev[-1]}",
                 *compare(digits(dev, dict(k=20)))],
                [f"held out: digits k=20, splits {held[0]}-{held[-1]}",
                 *compare(digits(held, dict(k=20)))],
                ["held out: digits lam='auto', split 100", *compare(digits((100,), {}))],
                [f"held out: make_classification 4-6 classes, seeds {fam.start}-{fam.stop - 1}, "
                 "k = 5, 12", *compare(multiclass_heldout(fam))]]
        print_table("Multinomial log loss", rows)
    if "newton" in only:
        seeds = range(500, 503 if args.quick else 530)
        rows = [[f"development: iris and wine, {1 if args.quick else 2} x 80% of the rows, "
                 "lam='auto' and k = 1, 2, 3, 5, 8", *compare(newton_development(args.quick))],
                [f"held out: make_classification 3-5 classes, seeds {seeds.start}-{seeds.stop - 1}, "
                 "lam='auto' and k = 2, 4", *compare(newton_heldout(seeds))]]
        print_table("Multinomial log loss, Newton refits (small problems)", rows)
    if "fixedlam" in only:
        print_table("Binary log loss, fixed lam (0.01, 0.03, 0.1, 0.2, 0.5)", fixed_lam(args.quick))
    if "grid" in only:
        ks, rows = grid_search(args.quick)
        print(f"GridSearchCV over k = {ks[0]}..{ks[-1]} ({len(ks)} values), cv=5, breast cancer "
              "(StandardScaler, selector, LogisticRegression):")
        print()
        print(C.markdown_table(["selector", "best k", "best score", "CPU s", "/ SelectKBest"],
                               rows))


if __name__ == "__main__":
    main()
