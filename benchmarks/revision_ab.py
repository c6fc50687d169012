"""The checkout's skl0 against an earlier commit's, both in this one process.

Machines shared with other jobs move the same fit's CPU time by 1.5-2x
between processes, so a speed change is measured here as a ratio inside
one process: the base commit's ``skl0/`` is exported by ``git archive``
into a temporary folder as the package ``skl0_base`` (skl0 imports itself
only relatively), and each fit of the checkout and of the base takes its
samples in turn (``engine.cpu_times_interleaved``: at least 0.05 CPU s of
back-to-back fits a sample, median of ``--repeats``). "same" compares the
two fits' ``support_`` and ``coef_`` (an MLP head's predictions on the
training rows instead, a classifier's probabilities), and ``feature_importances_`` where the estimator
has them, and a CV estimator's mean test scores and mean numbers of
features at every path point, exactly, and "close" to 1e-6
relative (a change of round-off, such as another BLAS call order, gives
"no" and "yes"); "same support" compares ``support_`` alone, and
"training loss ratio" is the checkout's training mean squared error (log
loss for a classifier) over the base's: below 1 where a changed search
found a support of lower loss.

Case sets (``--cases``):

- ``binary``: exact ``k`` and ``lam="auto"`` of ``L0Classifier`` on
  breast cancer and on 600 x 40 ``make_classification`` sets (8
  informative and 4 redundant columns), the swap search's batched Newton
  refits (``skl0._refit_newton.newton_binary_batch``);
- ``binary_large``: ``L0Classifier`` exact ``k`` = 30 and 100 on 1000 x
  200 and ``k`` = 50 on 600 x 100 ``make_classification`` sets (10 / 8
  informative, 5 / 4 redundant columns): first-order sacrifices and a
  hundred or more swap candidates a round, each refitted (fits of up to
  ten seconds: pass ``--repeats 1``);
- ``regression``: ``L0Regressor`` exact ``k`` and ``lam="auto"`` on
  diabetes and on 1000 x 200 ``make_sparse_regression`` sets;
- ``regpaths``: ``L0RegressorCV(cv=5)`` on diabetes and on 1000 x 200 and
  300 x 100 (``rho=0.8``) ``make_sparse_regression`` sets: the squared
  loss's vertex paths (five fold paths and the final one), issue 14's
  ``l0_path`` / CV cost (session 51);
- ``wide``: ``L0Regressor`` exact ``k`` of many columns (``k`` = 60-250)
  on ``make_sparse_regression`` sets (10 informative columns) with as many
  rows as columns or fewer (row problems; 400 x 500 is screened to 450
  columns) and on one with a row more (a Gram problem): the swap search's
  large-``k`` rounds. Before session 27 a base fit took up to a minute;
  pass ``--repeats 1``;
- ``wide_groups``: ``L0Regressor(k=4)`` and ``k=8`` over 60 groups of 5
  correlated columns on 100 rows (4 groups carry the signal): the group
  swap search on a row problem;
- ``strong``: ``L0Classifier`` exact ``k`` = 1, 2, 3, 4 and 6 on 300
  random rows of breast cancer and on 300 x 30 ``make_classification``
  sets with ``class_sep=2`` (4 informative, 6 redundant columns): strong,
  correlated columns, whose marginal gains place exact ``k``'s path
  start (``skl0._gate_path.k_path_start``) above ``K_START_MAX`` at
  small ``k`` (session 44);
- ``fixedlam``: ``L0Classifier`` at ``lam`` 0.01 and 0.001 and
  ``lam="auto"`` on breast cancer, wine, iris and ``make_classification``
  sets of 120 x 40 (5 informative columns, one cluster a class: separable),
  300 x 200 and 400 x 100 (3 classes): the solves a fixed ``lam``'s flip
  polish and ``lam="auto"``'s gates at its support start from a support
  they chose (session 50);
- ``paths``: ``L0ClassifierCV(cv=3)`` on breast cancer, logistic 200 x 400
  (``wide_start.logistic``, as in ``warm_path.py``), ``make_classification`` 300 x 200, 500 x 300 (10
  repeated columns, 3 clusters a class) and 400 x 300 (3 classes), and
  ``logit500`` (2000 x 500, the first seed only): log-loss fold and final
  paths, whose warm points run the cold competitor (session 49) and
  whose cold starts share their first IRLS model (session 50);
- ``binary_wide``: ``L0Classifier`` ``lam="auto"``, exact ``k=10`` and
  ``k=5, refit=False`` on logistic data with 5 true columns of ``N(0, 1)``
  columns (800 x 600, 3000 x 2000 and 4000 x 1500: more than 512 columns,
  the last past the host copy's 2^22 numbers), ``lam="auto"`` and
  ``k=10`` on 2000 x 1000 ``make_classification`` sets (10 informative, 5
  redundant columns) and ``lam="auto"`` and ``k=20`` on 20000 x 10000
  ``text_like`` CSR sets (``sparse_classification.py``): the binary IRLS
  start in the estimators' walks past 512 columns (session 47; seed 0 of
  the logistic sets and seed 5 of a 40000 x 20000 ``text_like`` set were
  the development cases). Fits of up to a minute: pass ``--repeats 1``;
- ``sparse_irls``: ``L0Classifier`` ``lam="auto"``, ``k=20`` and
  ``lam=0.002`` on 20000 x 10000 ``text_like`` CSR sets, ``lam=0.002`` on
  10000 x 5000 sets of 3 classes and ``lam=0.005`` on 3000 x 20000 sets:
  the IRLS starts' Gram columns of a sparse X too large for a dense copy
  (session 47). Pass ``--repeats 1``;
- ``multiclass``: ``L0Classifier`` on digits (``k=20`` and
  ``lam="auto"``) and on 1000 x 200 ``make_classification`` sets of 10
  classes (10 informative columns) at fixed ``lam`` 0.001 and 0.01 and
  ``k=10``: the multinomial refits and their second-order sacrifices (a
  small fixed ``lam`` keeps nearly every column, where each flip round's
  sacrifices handle 200 x 9 coefficients). Fits of several seconds: pass
  ``--repeats 1``;
- ``smallsparse``: CSR copies of small data, which the host-side solves
  copy dense but the row objective reads sparse: ``L0ClassifierCV()`` on
  a 40 x 10 set of 4 random classes (scikit-learn's sparse-input check's
  shape), ``L0ClassifierCV(cv=3)`` and ``lam="auto"`` on wine,
  ``lam="auto"`` and ``k=5`` on breast cancer, and ``lam="auto"`` and
  ``lam=0.01`` on 150 x 30 ``make_classification`` sets of 3 classes
  with 60% of the entries zeroed (session 52: the objective's kept
  transpose);
- ``mlp``: MLP heads, ``L0Regressor(hidden_layer_sizes=(8,), k=4)`` on
  diabetes, ``L0Classifier(hidden_layer_sizes=(32,), k=20, max_iter=100)``
  on digits' first 600 rows and ``L0Regressor(hidden_layer_sizes=(16,),
  k=5)`` on 500 x 30 ``make_sparse_regression`` sets: Adam steps on small
  data, whose cost depends on torch's thread count (session 55; with
  ``--torch-threads 2``, the default count on a 2-core machine).

``--torch-threads`` sets torch's intra-op thread count for both revisions
(default 1, the count under ``OMP_NUM_THREADS=1``).

Seeds 0 and 1 of the simulated sets were looked at while making session
24's change (the refits' Hessians against a transposed view); the default
``--seeds`` 930-933 were not.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/revision_ab.py --base ad4312e --cases binary
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import _common as C
import numpy as np
import torch
from engine import cpu_times_interleaved, log, sparse_check_set, table
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
)
from sklearn.metrics import log_loss, mean_squared_error

import skl0
from skl0.datasets import make_group_regression, make_sparse_regression

torch.set_num_threads(1)  # (--torch-threads sets another count)


def import_revision(rev, into):
    """The package ``skl0/`` of commit ``rev``, imported as ``skl0_base`` from folder ``into``."""
    archive = Path(into) / "base.tar"
    with open(archive, "wb") as fh:
        subprocess.run(["git", "-C", str(C.REPO_ROOT), "archive", rev, "skl0"], stdout=fh,
                       check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    (Path(into) / "skl0").rename(Path(into) / "skl0_base")
    sys.path.insert(0, str(into))
    return importlib.import_module("skl0_base")


#: The case sets of :func:`cases`, as --cases names them.
CASE_SETS = ("binary", "binary_large", "binary_wide", "sparse_irls", "regression", "regpaths",
             "wide", "wide_groups", "multiclass", "strong", "fixedlam", "paths", "smallsparse",
             "mlp")
_CASE_NAMES = ", ".join(repr(name) for name in CASE_SETS)


def cases(name, seeds):
    """``[(label, X, y, estimator class name, params), ...]`` of case set ``name``."""
    out = []
    if name == "binary":
        Xb, yb = load_breast_cancer(return_X_y=True)
        sets = [("breast cancer", Xb, yb)]
        for seed in seeds:
            X, y = make_classification(600, 40, n_informative=8, n_redundant=4,
                                       random_state=seed)
            sets.append((f"600 x 40, seed {seed}", X, y))
        for label, X, y in sets:
            for params in ({"k": 5}, {"k": 12}, {"k": 20}, {}):
                out.append((label, X, y, "L0Classifier", params))
    elif name == "binary_large":
        for seed in seeds:
            X, y = make_classification(1000, 200, n_informative=10, n_redundant=5,
                                       random_state=seed)
            for params in ({"k": 30}, {"k": 100}):
                out.append((f"1000 x 200, seed {seed}", X, y, "L0Classifier", params))
            X, y = make_classification(600, 100, n_informative=8, n_redundant=4,
                                       random_state=seed)
            out.append((f"600 x 100, seed {seed}", X, y, "L0Classifier", {"k": 50}))
    elif name in ("regression", "regpaths"):
        Xd, yd = load_diabetes(return_X_y=True)
        sets = [("diabetes", Xd, yd)]
        for seed in seeds:
            X, y, _, _ = make_sparse_regression(1000, 200, 10, random_state=seed)
            sets.append((f"1000 x 200, seed {seed}", X, y))
            if name == "regpaths":
                X, y, _, _ = make_sparse_regression(300, 100, 8, rho=0.8, random_state=seed)
                sets.append((f"300 x 100, rho 0.8, seed {seed}", X, y))
        fits = ([("L0Regressor", params) for params in ({"k": 4}, {"k": 10}, {})]
                if name == "regression" else [("L0RegressorCV", {"cv": 5})])
        for label, X, y in sets:
            for cls, params in fits:
                out.append((label, X, y, cls, params))
    elif name == "wide":
        for seed in seeds:
            for n, p, k in ((200, 200, 60), (200, 300, 80), (500, 500, 150), (500, 500, 250),
                            (400, 500, 150), (501, 500, 150)):
                X, y, _, _ = make_sparse_regression(n, p, 10, random_state=seed)
                out.append((f"{n} x {p}, seed {seed}", X, y, "L0Regressor", {"k": k}))
    elif name == "wide_groups":
        for seed in seeds:
            X, y, _, groups = make_group_regression(random_state=seed)
            for k in (4, 8):
                out.append((f"100 x 300 (60 groups), seed {seed}", X, y, "L0Regressor",
                            {"k": k, "groups": groups}))
    elif name == "multiclass":
        Xd, yd = load_digits(return_X_y=True)
        for params in ({"k": 20}, {}):
            out.append(("digits", Xd, yd, "L0Classifier", params))
        for seed in seeds:
            X, y = make_classification(1000, 200, n_informative=10, n_classes=10,
                                       random_state=seed)
            for params in ({"lam": 0.001}, {"lam": 0.01}, {"k": 10}):
                out.append((f"1000 x 200 (10 classes), seed {seed}", X, y, "L0Classifier",
                            params))
    elif name == "binary_wide":
        from sparse_classification import text_like

        for seed in seeds:
            rng = np.random.RandomState(seed)
            for n, p in ((800, 600), (3000, 2000), (4000, 1500)):
                X = rng.randn(n, p)
                logit = X[:, :5] @ np.array([1.5, -1.0, 1.0, 0.8, -0.8])
                y = (rng.rand(n) < 1 / (1 + np.exp(-logit))).astype(int)
                for params in ({}, {"k": 10}, {"k": 5, "refit": False}):
                    out.append((f"{n} x {p} logistic, seed {seed}", X, y, "L0Classifier",
                                params))
            X, y = make_classification(2000, 1000, n_informative=10, n_redundant=5,
                                       random_state=seed)
            for params in ({}, {"k": 10}):
                out.append((f"make_classification 2000 x 1000, seed {seed}", X, y,
                            "L0Classifier", params))
            X, y, _ = text_like(20000, 10000, 2, random_state=seed)
            for params in ({}, {"k": 20}):
                out.append((f"text_like 20000 x 10000 CSR, seed {seed}", X, y,
                            "L0Classifier", params))
    elif name == "sparse_irls":
        from sparse_classification import text_like

        for seed in seeds:
            X, y, _ = text_like(20000, 10000, 2, random_state=seed)
            for params in ({}, {"k": 20}, {"lam": 0.002}):
                out.append((f"text_like 20000 x 10000 CSR, seed {seed}", X, y,
                            "L0Classifier", params))
            X, y, _ = text_like(10000, 5000, 3, random_state=seed)
            out.append((f"text_like 10000 x 5000 CSR, 3 classes, seed {seed}", X, y,
                        "L0Classifier", {"lam": 0.002}))
            X, y, _ = text_like(3000, 20000, 2, random_state=seed)
            out.append((f"text_like 3000 x 20000 CSR, seed {seed}", X, y,
                        "L0Classifier", {"lam": 0.005}))
    elif name == "fixedlam":
        from sklearn.datasets import load_iris, load_wine

        sets = [("breast cancer", *load_breast_cancer(return_X_y=True)),
                ("wine", *load_wine(return_X_y=True)), ("iris", *load_iris(return_X_y=True))]
        for seed in seeds:
            X, y = make_classification(120, 40, n_informative=5, n_clusters_per_class=1,
                                       random_state=seed)
            sets.append((f"120 x 40, 1 cluster a class, seed {seed}", X, y))
            X, y = make_classification(300, 200, n_informative=10, n_redundant=5,
                                       random_state=seed)
            sets.append((f"300 x 200, seed {seed}", X, y))
            X, y = make_classification(400, 100, n_informative=8, n_classes=3,
                                       random_state=seed)
            sets.append((f"400 x 100, 3 classes, seed {seed}", X, y))
        for label, X, y in sets:
            for params in ({"lam": 0.01}, {"lam": 0.001}, {"lam": "auto"}):
                out.append((label, X, y, "L0Classifier", params))
    elif name == "paths":
        from wide_start import logistic

        from skl0.datasets import make_sparse_classification

        Xb, yb = load_breast_cancer(return_X_y=True)
        sets = [("breast cancer", Xb, yb)]
        for seed in seeds:
            sets.append((f"logistic 200 x 400, seed {seed}", *logistic(200, 400, seed)))
            X, y = make_classification(300, 200, n_informative=10, n_redundant=5,
                                       random_state=seed)
            sets.append((f"300 x 200, seed {seed}", X, y))
            X, y = make_classification(500, 300, n_informative=8, n_redundant=4, n_repeated=10,
                                       n_clusters_per_class=3, random_state=seed)
            sets.append((f"500 x 300, 10 repeated, seed {seed}", X, y))
            X, y = make_classification(400, 300, n_informative=8, n_classes=3,
                                       random_state=seed)
            sets.append((f"400 x 300, 3 classes, seed {seed}", X, y))
        X, y, *_ = make_sparse_classification(n_samples=2000, n_features=500, n_informative=10,
                                              rho=0.5, coef_range=(1.0, 3.0),
                                              random_state=seeds[0])
        sets.append((f"logit500 (2000 x 500), seed {seeds[0]}", X, y))
        for label, X, y in sets:
            out.append((label, X, y, "L0ClassifierCV", {"cv": 3}))
    elif name == "strong":
        Xb, yb = load_breast_cancer(return_X_y=True)
        for seed in seeds:
            rows = np.random.default_rng(seed).choice(len(yb), 300, replace=False)
            X, y = make_classification(300, 30, n_informative=4, n_redundant=6,
                                       class_sep=2.0, random_state=seed)
            for label, Xs, ys in ((f"breast cancer, 300 rows, seed {seed}", Xb[rows], yb[rows]),
                                  (f"300 x 30, class_sep=2, seed {seed}", X, y)):
                for k in (1, 2, 3, 4, 6):
                    out.append((label, Xs, ys, "L0Classifier", {"k": k}))
    elif name == "smallsparse":
        from scipy.sparse import csr_matrix
        from sklearn.datasets import load_wine

        Xt, yt = sparse_check_set()
        Xw, yw = load_wine(return_X_y=True)
        Xb, yb = load_breast_cancer(return_X_y=True)
        out += [("40 x 10, 4 classes, CSR", csr_matrix(Xt), yt, "L0ClassifierCV", {}),
                ("wine, CSR", csr_matrix(Xw), yw, "L0ClassifierCV", {"cv": 3}),
                ("wine, CSR", csr_matrix(Xw), yw, "L0Classifier", {}),
                ("breast cancer, CSR", csr_matrix(Xb), yb, "L0Classifier", {}),
                ("breast cancer, CSR", csr_matrix(Xb), yb, "L0Classifier", {"k": 5})]
        for seed in seeds:
            X, y = make_classification(150, 30, n_informative=5, n_classes=3,
                                       random_state=seed)
            X[np.random.RandomState(seed).uniform(size=X.shape) < 0.6] = 0.0
            for params in ({}, {"lam": 0.01}):
                out.append((f"150 x 30, 3 classes, CSR, seed {seed}", csr_matrix(X), y,
                            "L0Classifier", params))
    elif name == "mlp":
        Xd, yd = load_diabetes(return_X_y=True)
        Xg, yg = load_digits(return_X_y=True)
        out += [("diabetes", Xd, yd, "L0Regressor",
                 {"hidden_layer_sizes": (8,), "k": 4, "random_state": 0}),
                ("digits, first 600 rows", Xg[:600], yg[:600], "L0Classifier",
                 {"hidden_layer_sizes": (32,), "k": 20, "max_iter": 100, "random_state": 0})]
        for seed in seeds:
            X, y, _, _ = make_sparse_regression(500, 30, 5, random_state=seed)
            out.append((f"500 x 30, seed {seed}", X, y, "L0Regressor",
                        {"hidden_layer_sizes": (16,), "k": 5, "random_state": seed}))
    else:
        raise SystemExit(f"--cases: unknown case set {name!r}; use one of {_CASE_NAMES}")
    return out


def training_loss(model, X, y):
    """The fitted model's training loss: mean squared error, or log loss for a classifier."""
    if hasattr(model, "predict_proba"):
        return log_loss(y, model.predict_proba(X), labels=model.classes_)
    return mean_squared_error(y, model.predict(X))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the commit to compare against (e.g. HEAD~1)")
    ap.add_argument("--cases", default="binary",
                    help=f"{_CASE_NAMES}, comma-separated")
    ap.add_argument("--seeds", default="930,931,932,933",
                    help="seeds of the simulated sets (0 and 1 were the development seeds)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch's intra-op threads (default 1, as OMP_NUM_THREADS=1)")
    args = ap.parse_args(argv)
    if args.torch_threads < 1:
        ap.error(f"--torch-threads must be at least 1, got {args.torch_threads}")
    torch.set_num_threads(args.torch_threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("\n".join(C.environment_lines(("numpy", "scikit-learn", "torch"))))
    print(f"checkout: {skl0.__file__}; base: {args.base}; "
          f"torch threads {torch.get_num_threads()}\n")
    with tempfile.TemporaryDirectory() as tmp:
        base = import_revision(args.base, tmp)
        rows = []
        for name in args.cases.split(","):
            for label, X, y, cls, params in cases(name, seeds):
                fit_head = lambda: getattr(skl0, cls)(**params).fit(X, y)  # noqa: E731
                fit_base = lambda: getattr(base, cls)(**params).fit(X, y)  # noqa: E731
                log("revision_ab:", label, cls, params)
                a, b = fit_head(), fit_base()
                same = all(np.array_equal(getattr(a, f), getattr(b, f))
                           for f in ("support_", "coef_", "feature_importances_")
                           if hasattr(a, f))
                if hasattr(a, "cv_results_"):  # (the folds' paths, through their scores)
                    same = same and all(
                        np.array_equal(a.cv_results_[key], b.cv_results_[key], equal_nan=True)
                        for key in ("mean_test_score", "mean_n_features"))
                # (an MLP head has no coef_: its predictions stand for it,
                # a classifier's probabilities)
                predict = "predict_proba" if hasattr(a, "predict_proba") else "predict"
                weights = ((a.coef_, b.coef_) if hasattr(a, "coef_")
                           else (np.asarray(getattr(a, predict)(X)),
                                 np.asarray(getattr(b, predict)(X))))
                same = same and np.array_equal(*weights)
                same_support = np.array_equal(a.support_, b.support_)
                close = same_support and np.allclose(*weights, rtol=1e-6, atol=1e-12)
                ratio = training_loss(a, X, y) / training_loss(b, X, y)
                head, old = cpu_times_interleaved([fit_head, fit_base], args.repeats)
                shown = {k: ("..." if k == "groups" else v) for k, v in params.items()}
                call = f"{cls}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"
                rows.append([label, call, f"{head * 1e3:.1f}", f"{old * 1e3:.1f}",
                             f"{head / old:.2f}x", "yes" if same else "no",
                             "yes" if close else "no", "yes" if same_support else "no",
                             f"{ratio:.4f}"])
        table(["data", "fit", "checkout CPU ms", f"{args.base} CPU ms", "ratio", "same",
               "close", "same support", "training loss ratio"], rows)


if __name__ == "__main__":
    main()
