"""Multinomial solves whose weights converge by Newton's method at the start's vertex (session 54).

After a multinomial IRLS start (``skl0._irls._irls_vertex_start``),
L-BFGS-B used to converge the weights in the joint coordinates
``(h, V, b)``: about 130 iterations a solve, up to its cap of 300, though
the open set did not move in any of them. Since session 54 Newton's method
solves the weights with the gates held at the start's vertex
(``skl0._irls._softmax_vertex_newton``), and L-BFGS-B runs only where
that is not a KKT point of the box; a warm start that no step lowers
still meets its cold competitor.

Every set runs both ways in one process: the checkout, and ``before``
(``skl0._engine._SOFTMAX_VERTEX_NEWTON`` patched to False: the code path
of 763b8fb). Columns:

- **path**: a 16-point ``l0_path`` (one sample each way): CPU time over
  ``before``'s, the points whose support differs from ``before``'s, and the
  gate solves (every ``solve_gates`` call: the points, their warm-start
  subsets and competitors) whose objective ``F`` ends lower or higher than
  ``before``'s by more than 1e-8 of it;
- **CV** (without ``--no-cv``): ``L0ClassifierCV()`` (5 folds, 16
  points): CPU time over ``before``'s, whether its support changed, and its
  F1 to the informative columns (``make_classification`` with
  ``shuffle=False`` puts them first).

Data: the five ``make_classification`` families of ``handover.py`` (seeds
0-3 were looked at while making the change; the default seeds 20-25 are
held out), ``--real`` its fixed sets (wine, iris, digits' first 600, all
digits, the 40 x 10 four-class set of scikit-learn's sparse-input check),
``--large`` larger sets for the Hessian's cost bound
``_VERTEX_NEWTON_MAX``: three it was chosen on (3000 x 100 with 5 classes,
5000 x 200 with 3, 2000 x 300 with 8) and three held out (4000 x 150 with
6, 1500 x 400 with 4, 2500 x 250 with 10), paths and fixed-``lam`` fits
(``lam=0.01``) only.

``OMP_NUM_THREADS=1 python benchmarks/vertex_newton.py [--seeds 20,21,22,23,24,25] [--no-cv] [--real] [--large [--repeats 3]]``
(about 8 minutes with CV; ``--no-cv --real --large --repeats 3 --seeds ""`` about 6).
The larger sets' single paths vary by up to 30% from run to run on a
shared machine: ``--repeats`` reports the median of interleaved runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import _common  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
from engine import log, table
from handover import CV_HEADERS, cv_cells, cv_total, families, real_sets
from sklearn.datasets import make_classification

import skl0._engine as engine
import skl0._train as train
from skl0 import L0Classifier, L0ClassifierCV, l0_path

#: A solve's F counts as changed past this share of it (at least 1e-8 absolute).
CHANGED = 1e-8


#: ``--large``'s sets: rows, columns, informative columns, classes, clusters
#: a class, ``random_state``, and whether the Hessian's cost bound was chosen on it.
LARGE_SETS = [
    (3000, 100, 10, 5, 1, 0, True),
    (5000, 200, 10, 3, 2, 1, True),
    (2000, 300, 12, 8, 1, 2, True),
    (4000, 150, 9, 6, 1, 3, False),
    (1500, 400, 8, 4, 2, 4, False),
    (2500, 250, 14, 10, 1, 5, False),
]


def large_sets():
    """``(name, X, y, tuned)``: the larger sets of ``--large``."""
    out = []
    for n, p, informative, classes, clusters, seed, tuned in LARGE_SETS:
        X, y = make_classification(n, p, n_informative=informative, n_classes=classes,
                                   n_clusters_per_class=clusters, random_state=seed)
        name = f"{n} x {p}, {classes} classes" + (" (chosen on)" if tuned else "")
        out.append((name, X, y, tuned))
    return out


def both_ways(fit):
    """``fit()`` with the Newton polish (the checkout) and without it.

    ``[(seconds, out, F of each gate solve), ...]``, the checkout first.
    """
    solve, values, out = train.solve_gates, [], []

    def recorded(*args, **kwargs):
        n_iter, curve = solve(*args, **kwargs)
        values.append(curve[-1])
        return n_iter, curve

    train.solve_gates = recorded
    try:
        for on in (True, False):
            engine._SOFTMAX_VERTEX_NEWTON = on
            values.clear()
            t = time.process_time()
            result = fit()
            out.append((time.process_time() - t, result, np.array(values)))
    finally:
        engine._SOFTMAX_VERTEX_NEWTON = True
        train.solve_gates = solve
    return out


def compare_solves(F1, F0):
    """``(lower, higher)`` solves of F1 against F0, or None when their counts differ."""
    if F1.size != F0.size:
        return None
    d = F1 - F0
    tol = CHANGED * np.maximum(1.0, np.abs(F0))
    return int((d < -tol).sum()), int((d > tol).sum())


def path_row(name, X, y, repeats=1):
    (t1, p1, F1), (t0, p0, F0) = both_ways(lambda: l0_path(X, y, task="classification"))
    if repeats > 1:  # (the median CPU time of each way, the two interleaved)
        times = [(t1, t0)] + [tuple(r[0] for r in both_ways(
            lambda: l0_path(X, y, task="classification"))) for _ in range(repeats - 1)]
        t1, t0 = np.median(times, axis=0)
    m = min(len(p1.lams), len(p0.lams))
    changed = int((np.asarray(p1.support[:m]) != np.asarray(p0.support[:m])).any(axis=1).sum())
    solves = compare_solves(F1, F0)
    return (t1, t0, changed, m, solves), [
        name, f"{t1 / t0:.2f}x", f"{changed} of {m}",
        "solves differ" if solves is None else f"{solves[0]} / {solves[1]} of {F1.size}"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="20,21,22,23,24,25")
    ap.add_argument("--no-cv", action="store_true", help="paths only")
    ap.add_argument("--real", action="store_true", help="add the fixed data sets (paths only)")
    ap.add_argument("--large", action="store_true",
                    help="the larger sets: paths and lam=0.01 fits")
    ap.add_argument("--repeats", type=int, default=1,
                    help="the larger sets' paths: median CPU time of this many runs each way")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # (convergence and empty-model warnings of noisy folds)
    # One untimed path and fit both ways first: the first in a process pays
    # one-off costs (lazy imports, caches) that would land on the checkout.
    Xw, yw = make_classification(200, 20, n_informative=4, n_redundant=0, n_classes=3,
                                 random_state=0)
    both_ways(lambda: (l0_path(Xw, yw, task="classification"),
                       L0Classifier(lam=0.01).fit(Xw, yw)))
    seeds = [int(s) for s in args.seeds.split(",") if s]
    sets = [(f"{name}, seed {s}", X, y, k) for s in seeds for name, X, y, k in families(s)]
    if args.real:
        sets += real_sets()
    rows, paths, cvs = [], [], []
    for name, X, y, n_true in sets:
        log(name)
        record, row = path_row(name, X, y)
        paths.append(record)
        if not args.no_cv and n_true is not None:
            record, cells = cv_cells(*[r[:2] for r in both_ways(
                lambda: L0ClassifierCV().fit(X, y))], n_true)
            cvs.append(record)
            row += cells
        elif not args.no_cv:
            row += ["", "", ""]
        rows.append(row)
    if rows:
        solves = [pt[4] for pt in paths if pt[4] is not None]
        total = ["all", f"{sum(pt[0] for pt in paths) / sum(pt[1] for pt in paths):.2f}x",
                 f"{sum(pt[2] for pt in paths)} of {sum(pt[3] for pt in paths)}",
                 f"{sum(s[0] for s in solves)} / {sum(s[1] for s in solves)}"
                 + (f" ({len(paths) - len(solves)} paths' solves differ)"
                    if len(solves) < len(paths) else "")]
        headers = ["data", "path CPU / before", "points with another support",
                   "solves F lower / higher"]
        if not args.no_cv:
            headers += CV_HEADERS
            total += cv_total(cvs)
        table(headers, rows + [total])
    if args.large:
        rows = []
        for name, X, y, _ in large_sets():
            log(name)
            row = path_row(name, X, y, args.repeats)[1]
            (f1, m1, _), (f0, m0, _) = both_ways(lambda: L0Classifier(lam=0.01).fit(X, y))
            row += [f"{f1 / f0:.2f}x ({f1:.2f} / {f0:.2f} s)",
                    "yes" if np.array_equal(m1.get_support(), m0.get_support()) else "no"]
            rows.append(row)
        print()
        table(["data", "path CPU / before", "points with another support",
               "solves F lower / higher", "lam=0.01 fit CPU / before", "same support"], rows)


if __name__ == "__main__":
    main()
