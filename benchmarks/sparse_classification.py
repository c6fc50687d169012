"""Binary and multiclass selection on large sparse X (text-like counts): skl0 against its peers.

A sparse X too large for a dense float64 copy (more than
``skl0._host_design.SMALL_SPARSE_NUMBERS`` numbers when dense, after
screening) was searched by the generic row refits: abess's
orthogonal-design sacrifices and one refit per candidate, each alone
(a multinomial one an unpreconditioned L-BFGS-B solve of about 140
evaluations). The multinomial refits
(``skl0._splice_multinomial.MultinomialRefits``: second-order
sacrifices, preconditioned refits that stop once they cannot win, the
penalised ranking of ``LogisticRegression(C=1)`` for exact ``k``; since
session 44) and the binary ones (``skl0._splice_refits._BinaryRefits``: cached
Newton refits, batched and stopped once they cannot win, from the last
accepted support; since session 45) now read such an X through its
stored entries (``_SparseStandardized``: a support's columns dense while
they hold at most 2^20 numbers, else read sparse, as
``skl0._refit_newton.SparseColumns``). The rows "row refits" are the ablation:
the same checkout with that reading turned off, which is the code path
before it.

Data (``text_like``): ``n`` documents of ``p`` terms whose document
frequencies are log-uniform in [0.0005, 0.05]; an entry is ``log1p`` of
a count ``1 + Poisson(1)``. ``n_informative`` terms among those with
frequency in [0.005, 0.02] carry class scores ``N(0, 2^2)`` per class,
and each has a companion term that occurs in 70 % of its documents (and
in half of its own), with no score of its own; labels are drawn from the
softmax of ``X @ B``. Held-out accuracy is
``LogisticRegression`` refitted on the selected columns of a 70 % split
(``_common.heldout_score``), scored on the other 30 %.

CPU time is taken untraced; the numpy peak (tracemalloc) in a second
run of each fit, on the first seed only (tracing slows numpy's many
small calls: 0.96 -> 2.2 CPU s for a binary ``k=20`` fit; session 44's
multiclass table was timed under it).

Peers at the same ``k``: ``SelectFromModel`` over an L1 logistic
regression (saga, ``C=0.5``, ``tol=1e-3``, ``max_iter=300``,
``max_features=k``: the ``k`` largest coefficient norms) and
``SelectKBest(chi2)``.

Seeds: 0 and 1 of a similar generator were looked at while building the
sparse reading; the default ``--seeds`` 100 and 101 were not (for the
binary rows, added in session 45, seed 5 of ``text_like`` was looked at).

``--memory``: the numpy peak (tracemalloc) and CPU time of the default
fit and of ``k=20`` on a 20000 x 2000 CSR X of 1 % non-zeros with 3
classes and with 2, both ways of reading it, and with 3 classes the
stored entries' refits keeping the Hessian blocks of their last 8
supports (before session 46; ``_KEPT_SUPPORTS_SPARSE``), samples taken in
turn. ``--kept``: that ablation on held-out ``text_like`` sets
(``KEPT_SETS``), ``k=20`` and the default fit.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sparse_classification.py [--sizes all|binary|multiclass]
    OMP_NUM_THREADS=1 python benchmarks/sparse_classification.py --memory
    OMP_NUM_THREADS=1 python benchmarks/sparse_classification.py --kept
"""

from __future__ import annotations

import argparse
import tracemalloc
import warnings

import _common as C
import numpy as np
import scipy.sparse as sp
from sklearn.feature_selection import SelectFromModel, SelectKBest, chi2
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import skl0
import skl0._splice_multinomial as spm

#: (n, p, classes)
SIZES = {"multiclass": ((5000, 20000, 5), (10000, 20000, 10)),
         "binary": ((10000, 20000, 2), (40000, 20000, 2))}


def text_like(n, p, n_classes, n_informative=20, random_state=0):
    """Sparse CSR counts (``log1p``) and softmax labels; returns ``(X, y, support)``."""
    rng = np.random.default_rng(random_state)
    freq = np.exp(rng.uniform(np.log(5e-4), np.log(5e-2), p))
    counts = rng.binomial(n, freq)
    docs = [rng.choice(n, c, replace=False) for c in counts]
    support = np.sort(rng.choice(np.flatnonzero((freq >= 0.005) & (freq <= 0.02)),
                                 n_informative, replace=False))
    # Each informative term has a companion (another term) that occurs in
    # 70% of its documents and in its own others: it carries the signal
    # only through the shared documents, so that marginal rankings take it.
    others = np.setdiff1d(np.arange(p), support)
    companions = rng.choice(others, n_informative, replace=False)
    for j, c in zip(support, companions):
        shared = rng.choice(docs[j], int(0.7 * docs[j].size), replace=False)
        docs[c] = np.union1d(docs[c][: docs[c].size // 2], shared)
    rows = np.concatenate(docs)
    cols = np.repeat(np.arange(p), [d.size for d in docs])
    vals = np.log1p(1 + rng.poisson(1.0, rows.size))
    X = sp.csr_matrix((vals, (rows, cols)), shape=(n, p))
    B = np.zeros((p, n_classes))
    B[support] = rng.normal(0.0, 2.0, (n_informative, n_classes))
    F = np.asarray(X @ B)
    P = np.exp(F - F.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    y = (P.cumsum(1) > rng.random((n, 1))).argmax(1)
    return X, y, support


def with_row_refits(fit):
    """``fit`` with the refits' reading of a large sparse X turned off (the ablation)."""
    def ablated(X, y):
        applies = spm.sparse_design_applies
        spm.sparse_design_applies = lambda problem: False
        try:
            return fit(X, y)
        finally:
            spm.sparse_design_applies = applies

    return ablated


def with_kept_supports(fit, most=8):
    """``fit`` with a sparse X's multinomial refits keeping the statistics and Hessian
    blocks of their last ``most`` supports (8 before session 46; the ablation)."""
    def ablated(X, y):
        kept = spm._KEPT_SUPPORTS_SPARSE
        spm._KEPT_SUPPORTS_SPARSE = most
        try:
            return fit(X, y)
        finally:
            spm._KEPT_SUPPORTS_SPARSE = kept

    return ablated


def methods(k):
    def skl0_k(X, y):
        return skl0.L0Classifier(k=k, random_state=0).fit(X, y).get_support()

    def skl0_auto(X, y):
        return skl0.L0Classifier(random_state=0).fit(X, y).get_support()

    def l1(X, y):
        lr = LogisticRegression(penalty="l1", solver="saga", C=0.5, tol=1e-3, max_iter=300)
        return SelectFromModel(lr, max_features=k, threshold=-np.inf).fit(X, y).get_support()

    def kbest(X, y):
        return SelectKBest(chi2, k=k).fit(X, y).get_support()

    return [(f"skl0 L0Classifier(k={k})", skl0_k),
            (f"skl0 k={k}, row refits (ablation: before)", with_row_refits(skl0_k)),
            ("skl0 lam='auto'", skl0_auto),
            ("skl0 lam='auto', row refits (ablation: before)", with_row_refits(skl0_auto)),
            (f"SelectFromModel(L1 LR, max_features={k})", l1),
            (f"SelectKBest(chi2, k={k})", kbest)]


def traced_peak(fit, X, y):
    """The numpy peak (tracemalloc, bytes) of ``fit(X, y)``."""
    tracemalloc.start()
    try:
        fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare_arms(fits, X, y, repeats):
    """CPU medians (samples taken in turn, after one untimed fit each), numpy peaks and supports of ``fits``.

    Returns ``(cpu, peaks, supports, models)``: per fit its median CPU
    seconds over ``repeats`` samples, its traced peak (bytes, a further
    run), every sample's support, and its last fitted model.
    """
    for f in fits:  # (one-off costs fall on no sample)
        f(X, y)
    cpu, supports, models = [[] for _ in fits], [[] for _ in fits], [None] * len(fits)
    for _ in range(repeats):
        for i, f in enumerate(fits):
            with C.Timer() as t:
                models[i] = f(X, y)
            cpu[i].append(t.cpu_seconds)
            supports[i].append(np.flatnonzero(models[i].support_))
    peaks = [traced_peak(f, X, y) for f in fits]
    return [float(np.median(c)) for c in cpu], peaks, supports, models


def same_supports(supports):
    """Whether every support in the lists ``supports`` is the first."""
    first = supports[0][0]
    return all(np.array_equal(first, a) for arm in supports for a in arm)


def memory(n_classes, repeats=3):
    """The default fit and ``k=20`` on a 20000 x 2000 CSR X of 1% non-zeros: numpy peak."""
    n, p = 20000, 2000
    X = sp.random(n, p, density=0.01, format="csr", random_state=1)
    eta = 3.0 * np.asarray(X[:, :5].sum(1)).ravel() + 0.3 * np.random.RandomState(0).randn(n)
    y = np.digitize(eta, np.quantile(eta, np.arange(1, n_classes) / n_classes))
    x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    rows, same = [], {}
    arms = {"stored entries": lambda fit: fit, "row refits (before)": with_row_refits}
    if n_classes > 2:  # (the binary refits keep no Hessian blocks)
        arms["stored entries, 8 kept supports (before)"] = with_kept_supports
    for params in ({}, {"k": 20}):
        def fit(X, y, params=params):
            return skl0.L0Classifier(random_state=0, **params).fit(X, y)

        call = f"L0Classifier({'k=20' if params else ''})"
        cpu, peaks, supports, models = compare_arms([wrap(fit) for wrap in arms.values()],
                                                    X, y, repeats)
        same[call] = same_supports(supports)
        for arm, t, peak, model in zip(arms, cpu, peaks, models):
            rows.append([arm, call, f"{t:.2f}", f"{t / cpu[0]:.2f}x", f"{peak / 2**20:.1f}",
                         f"{peak / x_bytes:.1f}x", str(int(model.support_.sum()))])
    print(f"\n20000 x 2000 CSR, 1% non-zeros ({x_bytes / 2**20:.1f} MB), {n_classes} classes "
          f"(CPU s: median of {repeats}):\n")
    print(C.markdown_table(["refits read", "fit", "CPU s", "/ stored entries", "numpy peak MB",
                            "peak / X", "kept"], rows))
    for call, agree in same.items():
        print(f"{call}: {'the same support' if agree else 'different supports'} every way")


#: Held-out sets of ``--kept`` (not looked at before _KEPT_SUPPORTS_SPARSE was set):
#: (n, p, classes, seed) of ``text_like``.
KEPT_SETS = [(3000, 8000, 3, 102), (5000, 3000, 4, 103), (8000, 2000, 3, 104)]


def kept_supports(repeats=3):
    """The multinomial refits of a sparse X keeping 1 support's Hessian blocks against 8 (before)."""
    rows = []
    for n, p, K, seed in KEPT_SETS:
        X, y, _ = text_like(n, p, K, random_state=seed)
        x_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        for params in ({"k": 20}, {}):
            def fit(X, y, params=params):
                return skl0.L0Classifier(random_state=0, **params).fit(X, y)

            cpu, peaks, supports, _ = compare_arms([fit, with_kept_supports(fit)], X, y,
                                                   repeats)
            rows.append([f"{n} x {p}, {K} classes, seed {seed}",
                         f"L0Classifier({'k=20' if params else ''})",
                         f"{cpu[0]:.2f}", f"{cpu[1]:.2f}", f"{cpu[0] / cpu[1]:.2f}x",
                         f"{peaks[0] / x_bytes:.1f}x", f"{peaks[1] / x_bytes:.1f}x",
                         "yes" if same_supports(supports) else "NO"])
    print(f"\nSparse multinomial refits keeping 1 support's blocks against 8 (CPU s: median of "
          f"{repeats}, samples taken in turn):\n")
    print(C.markdown_table(["text_like set", "fit", "CPU s, 1 kept", "8 kept", "ratio",
                            "peak / X, 1 kept", "8 kept", "same support"], rows))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="100,101")
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--sizes", choices=("all", "binary", "multiclass"), default="all")
    ap.add_argument("--memory", action="store_true",
                    help="only the numpy peak of a 20000 x 2000 CSR X's fits (tracemalloc)")
    ap.add_argument("--kept", action="store_true",
                    help="only the held-out sets of the kept Hessian blocks' ablation")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("\n".join(C.environment_lines(("numpy", "scipy", "scikit-learn", "torch"))))
    warnings.simplefilter("ignore")
    if args.kept:
        kept_supports()
        return
    if args.memory:
        for n_classes in (3, 2):
            memory(n_classes)
        return
    sizes = [s for kind in ("multiclass", "binary") if args.sizes in ("all", kind)
             for s in SIZES[kind]]
    X, y, _ = text_like(600, 3000, 2, random_state=0)  # (one-off imports fall on no row)
    skl0.L0Classifier(k=2, random_state=0).fit(X, y)
    for n, p, K in sizes:
        results, peaks = {}, {}
        for seed in seeds:
            X, y, support = text_like(n, p, K, random_state=seed)
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed,
                                                  stratify=y)
            for name, fit in methods(args.k):
                with C.Timer() as t:
                    mask = fit(Xtr, ytr)
                if seed == seeds[0]:  # the peak in a second run: tracing slows numpy's calls
                    peaks[name] = traced_peak(fit, Xtr, ytr) / 2**20
                f1 = C.support_metrics(mask, support)["f1"]
                acc = C.heldout_score(Xtr, ytr, Xte, yte, mask, "classification")
                results.setdefault(name, []).append(
                    (t.cpu_seconds, int(mask.sum()), f1, acc))
                print(f"# n={n} p={p} K={K} seed {seed} {name}: "
                      f"{t.cpu_seconds:.2f} s, F1 {f1:.3f}, accuracy {acc:.3f}", flush=True)
        X_mb = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
        print(f"\n{n} x {p} sparse ({X.nnz} stored entries, {X_mb:.1f} MB as CSR), {K} classes, "
              f"seeds {args.seeds}, means:\n")
        rows = []
        for name, runs in results.items():
            cpu, kept, f1, acc = (np.mean([r[i] for r in runs]) for i in range(4))
            rows.append([name, f"{cpu:.2f}", f"{peaks[name]:.0f}", f"{kept:.0f}", f"{f1:.3f}",
                         f"{acc:.3f}"])
        print(C.markdown_table(["method", "CPU s", f"numpy peak MB (seed {seeds[0]})", "kept",
                                "F1", "held-out accuracy"], rows))
        print()


if __name__ == "__main__":
    main()
