"""Multinomial path points whose IRLS start hands over to L-BFGS-B (session 53).

At a point of a path outside the estimators' own walks (``l0_path``, the
CV estimators' fold and final paths) a multinomial log loss starts from
IRLS steps over vertices, then L-BFGS-B polishes. Once the start's open
set stands still its isotropic steps only converge the weights, at a
linear rate, up to a 30-step cap. Since session 53 the start of a warm
point, and the cold start that competes with it, hand over to L-BFGS-B
once their open set has stood still for
``skl0._engine._IRLS_SOFTMAX_HANDOVER`` (2) steps (the path's first point
keeps the whole start).

Every set runs both ways in one process: the checkout, and ``before``
(the constant patched to 0: the start runs to its end, the code path of
efa1437 until session 54; since then both ways solve the weights by Newton's
method after the start, ``vertex_newton.py``). Columns:

- **path**: a 16-point ``l0_path``: its CPU time over ``before``'s (one
  sample each: these fits take 0.1-3 s), the points whose training loss
  (``path.loss``: the task loss without the penalty, not the objective
  ``F``) ends lower or higher than ``before``'s by more than
  1e-4 of it (round-off and L-BFGS-B's tolerance move the others by less),
  and the sums of those changes;
- **CV** (without ``--no-cv``): ``L0ClassifierCV()`` (5 folds, 16 points):
  CPU time over ``before``'s, whether its support changed, and its F1 to
  the informative columns (``make_classification`` with ``shuffle=False``
  puts them first; no redundant or repeated columns).

Data. Development families (seeds 0-3 were looked at while making the
change): ``make_classification`` 300 x 30 with 3 classes (5 informative
columns), 1000 x 60 with 5 (8, one cluster a class) and 200 x 100 with 4
(6, one cluster a class). Families no choice looked at: 400 x 50 with 3
classes (6 informative, 2 clusters a class, 5% flipped labels) and
600 x 40 with 6 (7 informative, ``class_sep=0.8``). ``--real`` adds wine,
iris, the first 600 digits, all digits and the 40 x 10 four-class set of
scikit-learn's sparse-input check (``engine.sparse_check_set``), paths
only. The default seeds 10-15 are held out.

``OMP_NUM_THREADS=1 python benchmarks/handover.py [--seeds 10,11,12,13,14,15] [--no-cv] [--real]``
(about 10 minutes with CV; ``--no-cv --real`` about 3).
"""

from __future__ import annotations

import argparse
import time
import warnings

import _common as C  # also puts the repository root on sys.path
import numpy as np
from engine import log, sparse_check_set, table
from sklearn.datasets import load_digits, load_iris, load_wine, make_classification

import skl0._engine as engine
from skl0 import L0ClassifierCV, l0_path

#: A point's training loss counts as changed past this share of it (at least 1e-4 absolute).
CHANGED = 1e-4


def families(seed):
    """``(name, X, y, number of informative columns)`` of each family at ``seed``."""
    mc = make_classification
    return [
        ("300 x 30, 3 classes", *mc(300, 30, n_informative=5, n_redundant=0, n_classes=3,
                                    shuffle=False, random_state=seed), 5),
        ("1000 x 60, 5 classes", *mc(1000, 60, n_informative=8, n_redundant=0, n_classes=5,
                                     n_clusters_per_class=1, shuffle=False,
                                     random_state=seed), 8),
        ("200 x 100, 4 classes", *mc(200, 100, n_informative=6, n_redundant=0, n_classes=4,
                                     n_clusters_per_class=1, shuffle=False,
                                     random_state=seed), 6),
        ("400 x 50, 3 classes, 2 clusters, 5% flipped", *mc(
            400, 50, n_informative=6, n_redundant=0, n_classes=3, n_clusters_per_class=2,
            flip_y=0.05, shuffle=False, random_state=seed), 6),
        ("600 x 40, 6 classes, class_sep 0.8", *mc(
            600, 40, n_informative=7, n_redundant=0, n_classes=6, n_clusters_per_class=1,
            class_sep=0.8, shuffle=False, random_state=seed), 7),
    ]


def real_sets():
    Xd, yd = load_digits(return_X_y=True)
    return [("wine", *load_wine(return_X_y=True), None), ("iris", *load_iris(return_X_y=True), None),
            ("digits, first 600", Xd[:600], yd[:600], None), ("digits", Xd, yd, None),
            ("40 x 10, 4 classes (sklearn check)", *sparse_check_set(), None)]


def both_ways(fit):
    """``fit()`` with the handover (the checkout) and without it: ``[(seconds, out), ...]``."""
    default, out = engine._IRLS_SOFTMAX_HANDOVER, []
    try:
        for handover in (default, 0):
            engine._IRLS_SOFTMAX_HANDOVER = handover
            t = time.process_time()
            result = fit()
            out.append((time.process_time() - t, result))
    finally:
        engine._IRLS_SOFTMAX_HANDOVER = default
    return out


#: The CV columns of both scripts' tables (this one's and ``vertex_newton.py``'s).
CV_HEADERS = ["L0ClassifierCV() CPU", "same support", "F1 / before"]


def cv_cells(checkout, before, n_true):
    """One set's ``L0ClassifierCV()`` fits, ``(seconds, model)`` each way: its record
    ``(t, t_before, same support, [F1, F1 before])`` and its table cells."""
    (c1, m1), (c0, m0) = checkout, before
    f1 = [C.support_metrics(m_.support_, np.arange(n_true))["f1"] for m_ in (m1, m0)]
    record = (c1, c0, np.array_equal(m1.support_, m0.support_), f1)
    return record, [f"{c1:.2f} / {c0:.2f} s ({c1 / c0:.2f}x)", "yes" if record[2] else "no",
                    f"{f1[0]:.2f} / {f1[1]:.2f}"]


def cv_total(cvs):
    """The CV cells of the table's last row, over the records of :func:`cv_cells`."""
    if not cvs:
        return ["", "", ""]
    c1, c0 = sum(cv[0] for cv in cvs), sum(cv[1] for cv in cvs)
    f1 = np.array([cv[3] for cv in cvs]).reshape(-1, 2)
    return [f"{c1:.1f} / {c0:.1f} s ({c1 / c0:.2f}x)", f"{sum(not cv[2] for cv in cvs)} changed",
            f"{f1[:, 0].mean():.3f} / {f1[:, 1].mean():.3f}"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="10,11,12,13,14,15")
    ap.add_argument("--no-cv", action="store_true", help="paths only")
    ap.add_argument("--real", action="store_true", help="add the fixed data sets (paths only)")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # (convergence and empty-model warnings of noisy folds)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    sets = [(f"{name}, seed {s}", X, y, k) for s in seeds for name, X, y, k in families(s)]
    if args.real:
        sets += real_sets()
    rows, paths, cvs = [], [], []  # (t, t_before, lower, higher, points); (t, t_before, same, F1s)
    for name, X, y, n_true in sets:
        log(name)
        (t1, p1), (t0, p0) = both_ways(lambda: l0_path(X, y, task="classification"))
        m = min(p1.loss.size, p0.loss.size)
        d = np.asarray(p1.loss[:m]) - np.asarray(p0.loss[:m])
        tol = CHANGED * np.maximum(1.0, np.abs(p0.loss[:m]))
        paths.append((t1, t0, d[d < -tol], d[d > tol], m))
        row = [name, f"{t1 / t0:.2f}x", f"{paths[-1][2].size} / {paths[-1][3].size}",
               f"{paths[-1][2].sum():.4f} / +{paths[-1][3].sum():.4f}"]
        if not args.no_cv and n_true is not None:
            record, cells = cv_cells(*both_ways(lambda: L0ClassifierCV().fit(X, y)), n_true)
            cvs.append(record)
            row += cells
        elif not args.no_cv:
            row += ["", "", ""]
        rows.append(row)
    headers = ["data", "path CPU / before", "points lower / higher", "sum of changes"]
    lower = np.concatenate([pt[2] for pt in paths])
    higher = np.concatenate([pt[3] for pt in paths])
    total = ["all", f"{sum(pt[0] for pt in paths) / sum(pt[1] for pt in paths):.2f}x",
             f"{lower.size} / {higher.size} of {sum(pt[4] for pt in paths)}",
             f"{lower.sum():.4f} / +{higher.sum():.4f}"]
    if not args.no_cv:
        headers += CV_HEADERS
        total += cv_total(cvs)
    table(headers, rows + [total])


if __name__ == "__main__":
    main()
