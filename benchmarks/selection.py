"""Selection quality of skl0 against its peers on data with a known support.

Every method sees the same seeded training data; each table row reports,
as the mean over seeds, the F1 / precision / recall of the selected set
against the true support, a held-out score of a plain linear model refit
on the selected columns, the fit time and the number of selected features.

Run ``python benchmarks/selection.py --help`` for the options, and see
``benchmarks/README.md`` for the tasks.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from dataclasses import dataclass, replace
from typing import Callable

import _common as C  # also puts the repository root on sys.path
import numpy as np

from skl0.datasets import make_sparse_classification, make_sparse_regression

N_TEST = 1000


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class Task:
    name: str
    task: str  # "regression" or "classification"
    n_train: int
    n_features: int
    rho: float
    snr: float | None  # regression only
    k: int = 10
    coef_range: tuple = (1.0, 3.0)

    @property
    def score_name(self):
        return "held-out R^2" if self.task == "regression" else "held-out acc"

    def describe(self):
        noise = f", SNR {self.snr:g}" if self.task == "regression" else ""
        kind = "linear" if self.task == "regression" else "logistic"
        return (f"{kind}, n_train={self.n_train}, n_test={N_TEST}, p={self.n_features}, "
                f"{self.k} true features, |coef| in {list(self.coef_range)}, "
                f"Toeplitz rho={self.rho:g}{noise}")

    def make(self, seed):
        """Train/test split of one draw of ``n_train + N_TEST`` samples."""
        n = self.n_train + N_TEST
        common = dict(n_samples=n, n_features=self.n_features, n_informative=self.k,
                      rho=self.rho, coef_range=self.coef_range, random_state=seed)
        if self.task == "regression":
            X, y, _, support = make_sparse_regression(snr=self.snr, **common)
        else:
            X, y, _, support = make_sparse_classification(**common)
        m = self.n_train
        return X[:m], y[:m], X[m:], y[m:], support


TASKS = {
    t.name: t
    for t in [
        Task("reg200", "regression", n_train=1000, n_features=200, rho=0.5, snr=3.0),
        Task("reg2000", "regression", n_train=500, n_features=2000, rho=0.5, snr=3.0),
        Task("logit500", "classification", n_train=2000, n_features=500, rho=0.5, snr=None),
        Task("hard", "regression", n_train=200, n_features=1000, rho=0.8, snr=1.0),
    ]
}


# --------------------------------------------------------------------------- methods


@dataclass
class Context:
    task: Task
    seed: int
    quick: bool


@dataclass
class Method:
    """A selection method; ``run`` may return several rows from one fit."""

    key: str  # name used by --methods
    family: str  # also accepted by --methods
    rows: list  # row names, in table order
    run: Callable  # run(X, y, ctx) -> list[C.Selection]
    available: Callable  # () -> None if usable, else the reason it is skipped
    note: str = ""  # printed once under the tables


def _needs(module, attr=None):
    def check():
        mod, reason = C.try_import(module)
        if mod is None:
            return f"`import {module}` failed ({reason})"
        if attr is not None and not hasattr(mod, attr):
            return f"`{module}.{attr}` does not exist yet"
        return None

    return check


def _skl0(k_from_task, **params):
    def run(X, y, ctx):
        from skl0 import L0FeatureSelector

        k = ctx.task.k if k_from_task else None
        sel = L0FeatureSelector(k=k, random_state=ctx.seed, **params).fit(X, y)
        return [C.Selection(None, np.asarray(sel.get_support(), bool))]

    return run


def _skl0_splice(X, y, ctx):
    return [C.Selection(None, C.splice_only_support(X, y, ctx.task.k, ctx.task.task))]


def _lasso_cv(X, y, ctx):
    from sklearn.feature_selection import SelectFromModel
    from sklearn.linear_model import LassoCV, LogisticRegressionCV

    if ctx.task.task == "regression":
        est = LassoCV(cv=5, random_state=ctx.seed)
    else:
        # l1_ratios=(1,) is sklearn >= 1.8's spelling of penalty="l1"; the
        # explicit scoring / use_legacy_attributes silence 1.8-1.9 FutureWarnings.
        est = LogisticRegressionCV(Cs=10, l1_ratios=(1.0,), solver="liblinear", cv=5,
                                   scoring="neg_log_loss", use_legacy_attributes=False,
                                   random_state=ctx.seed)
    sel = SelectFromModel(est).fit(X, y)
    return [C.Selection(None, sel.get_support())]


def _kbest(X, y, ctx):
    from sklearn.feature_selection import SelectKBest, f_classif, f_regression

    score = f_regression if ctx.task.task == "regression" else f_classif
    sel = SelectKBest(score, k=ctx.task.k).fit(X, y)
    return [C.Selection(None, sel.get_support())]


def _abess(k_from_task):
    def run(X, y, ctx):
        import abess

        cls = abess.LinearRegression if ctx.task.task == "regression" else abess.LogisticRegression
        # Defaults otherwise: path_type="seq", ic_type="ebic", support sizes
        # 0..min(p, n / (log log n * log p)) when support_size is None.
        est = cls(support_size=ctx.task.k) if k_from_task else cls()
        est.fit(X, y)
        mask = np.asarray(est.coef_).reshape(X.shape[1], -1).any(axis=1)
        return [C.Selection(None, mask)]

    return run


# LassoNet: hidden_dims=(10,), everything else at the package defaults
# (path_multiplier=1.02, n_iters=(1000, 100), patience=(100, 10)) in the full
# run; --quick coarsens the path and caps the epochs.
LASSONET_FULL = dict(hidden_dims=(10,))
LASSONET_QUICK = dict(hidden_dims=(10,), path_multiplier=1.25, n_iters=(100, 10), patience=(10, 3))
LASSONET_VAL_SIZE = 0.2


def _lassonet(X, y, ctx):
    import torch
    from lassonet import LassoNetClassifier, LassoNetRegressor
    from sklearn.model_selection import train_test_split

    regression = ctx.task.task == "regression"
    X_tr, X_val, y_tr, y_val = train_test_split(
        X, y, test_size=LASSONET_VAL_SIZE, random_state=ctx.seed,
        stratify=None if regression else y)
    if regression:  # LassoNet's examples standardize y; its MSE is not scale-free
        mu, sd = y_tr.mean(), y_tr.std()
        y_tr, y_val = (y_tr - mu) / sd, (y_val - mu) / sd
    cls = LassoNetRegressor if regression else LassoNetClassifier
    params = LASSONET_QUICK if ctx.quick else LASSONET_FULL
    est = cls(**params, verbose=0, random_state=ctx.seed, torch_seed=ctx.seed)
    with torch.random.fork_rng():  # LassoNet calls torch.manual_seed(torch_seed)
        path = est.path(X_tr, y_tr, X_val=X_val, y_val=y_val)
    best = min(range(len(path)), key=lambda i: path[i].val_loss)
    best_mask = path[best].selected.cpu().numpy().astype(bool)
    importances = np.asarray(est.feature_importances_, float)
    top = np.argsort(-importances, kind="stable")[: ctx.task.k]
    top_mask = np.zeros(X.shape[1], bool)
    top_mask[top] = True
    dense_note = "best-val was the dense model" if best == 0 else ""
    return [C.Selection("LassoNet best-val", best_mask, dense_note),
            C.Selection("LassoNet top-k", top_mask)]


def _methods():
    return [
        Method("skl0-k", "skl0", ["skl0 (k=true)"], _skl0(True),
               _needs("skl0", "L0FeatureSelector")),
        Method("skl0-auto", "skl0", ["skl0 (k=None, lam=auto)"], _skl0(False),
               _needs("skl0", "L0FeatureSelector")),
        Method("skl0-gates", "skl0", ["skl0 gates only (k=true)"], _skl0(True, refit=False),
               _needs("skl0", "L0FeatureSelector"),
               note="skl0 gates only: refit=False, the k longest-surviving gates of the "
                    "path, no swap search (ablation)."),
        Method("skl0-auto-head-k", "skl0", ["skl0 auto head (k=true)"],
               _skl0(True, hidden_layer_sizes="auto"), _needs("skl0", "L0FeatureSelector"),
               note="skl0 auto head: hidden_layer_sizes='auto' (the linear head unless its "
                    "residuals fail the nonlinearity test and an MLP's held-out loss is "
                    "lower); on these linear tasks it should keep the linear head at the "
                    "cost of the test (issue 16: at most 4x skl0 (k=true)'s time)."),
        Method("skl0-splice", "skl0", ["skl0 splice only (k=true)"], _skl0_splice,
               _needs("skl0", "L0FeatureSelector"),
               note="skl0 splice only: no gates; abess's screening start (the k columns "
                    "most correlated with the target), then skl0's swap search (ablation)."),
        Method("lasso-cv", "sklearn", ["sklearn L1-CV"], _lasso_cv, _needs("sklearn"),
               note="sklearn L1-CV: SelectFromModel(LassoCV(cv=5)) for regression, "
                    "SelectFromModel(LogisticRegressionCV(Cs=10, l1_ratios=(1,), "
                    "solver='liblinear', cv=5, scoring='neg_log_loss')) for classification."),
        Method("kbest", "sklearn", ["SelectKBest (k=true)"], _kbest, _needs("sklearn"),
               note="SelectKBest: f_regression / f_classif univariate scores."),
        Method("abess-k", "abess", ["abess (k=true)"], _abess(True), _needs("abess")),
        Method("abess-ic", "abess", ["abess (EBIC path)"], _abess(False), _needs("abess"),
               note="abess (EBIC path): package defaults, path_type='seq', ic_type='ebic', "
                    "default support-size range."),
        Method("lassonet", "lassonet", ["LassoNet best-val", "LassoNet top-k"], _lassonet,
               _needs("lassonet")),
    ]


def _lassonet_note(quick):
    params = LASSONET_QUICK if quick else LASSONET_FULL
    changed = ", ".join(f"{k}={v}" for k, v in params.items())
    return (f"LassoNet: one path fit per seed gives both rows (same fit time); {changed}, "
            f"other settings at package defaults; {int(LASSONET_VAL_SIZE * 100)}% of the "
            "training set held out as the path's validation set; y standardized for "
            "regression. best-val = path point with the lowest validation loss (dense "
            "point included); top-k = k largest feature_importances_ (lambda at which a "
            "feature leaves the path)."
            + (" --quick: coarse path, capped epochs (not LassoNet's defaults)." if quick else ""))


# --------------------------------------------------------------------------- running


def filter_methods(methods, spec, exclude):
    """The ``methods`` named (by key or family) in ``spec``, less those in ``exclude``."""
    def names(text):
        return [s.strip() for s in text.split(",") if s.strip()]

    def hit(m, wanted):
        return m.key in wanted or m.family in wanted

    if spec:
        known = {m.key for m in methods} | {m.family for m in methods}
        unknown = sorted(set(names(spec)) - known)
        if unknown:
            sys.exit(f"--methods: unknown {unknown}; choose from {sorted(known)}")
        methods = [m for m in methods if hit(m, names(spec))]
    if exclude:
        methods = [m for m in methods if not hit(m, names(exclude))]
    return methods


def add_run_args(ap, tasks, method_keys, quick_help, extra_tasks=""):
    """The options every selection benchmark script takes."""
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--tasks", default=",".join(tasks),
                    help=f"comma-separated subset of {','.join(tasks)}{extra_tasks}")
    ap.add_argument("--seeds", type=int, default=None,
                    help="number of seeds (default 5; 1 with --quick)")
    ap.add_argument("--methods", default="",
                    help=f"comma-separated method keys or families to run ({method_keys}); "
                         "default all")
    ap.add_argument("--exclude", default="", help="comma-separated keys or families to skip")
    ap.add_argument("--quiet", action="store_true", help="no per-seed progress on stderr")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds first-seed .. first-seed+N-1 (held-out seeds: 100)")


def print_header(title, quick, seeds, lines, skipped):
    """Title, environment, seeds, the script's own ``lines`` and the skipped methods."""
    print(title + (" (--quick)" if quick else ""))
    print()
    for line in C.environment_lines(("numpy", "scikit-learn", "torch", "abess", "lassonet")):
        print(f"- {line}")
    print(f"- seeds {seeds}; data and every method's random_state use the seed")
    for line in lines:
        print(f"- {line}")
    print("- mean over seeds; ± is the std over seeds")
    for m, reason in skipped:
        print(f"- skipped {m.key}: {reason}")
    print()


def print_notes(usable, quick):
    """The notes of the methods that ran, LassoNet's settings among them."""
    notes = [m.note for m in usable if m.note]
    if any(m.key == "lassonet" for m in usable):
        notes.append(_lassonet_note(quick))
    if notes:
        print("Notes:")
        print()
        for n in notes:
            print(f"- {n}")


def prepare_run(ap, args, tasks, methods, first_seed=0):
    """Check the options of :func:`add_run_args`.

    Returns the task names, the seeds, a ``log`` to stderr (silent with
    ``--quiet``), the methods that can run and ``(method, reason)`` for
    those that cannot.
    """
    names = [s.strip() for s in args.tasks.split(",") if s.strip()]
    unknown = [t for t in names if t not in tasks]
    if unknown:
        ap.error(f"--tasks: unknown {unknown}; choose from {list(tasks)}")
    n_seeds = args.seeds if args.seeds is not None else (1 if args.quick else 5)
    first_seed = getattr(args, "first_seed", first_seed) or first_seed
    seeds = list(range(first_seed, first_seed + n_seeds))

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    skipped, usable = [], []
    for m in filter_methods(methods, args.methods, args.exclude):
        reason = m.available()
        (skipped.append((m, reason)) if reason else usable.append(m))
    return names, seeds, log, usable, skipped


def warm_up(task, methods):
    """One untimed fit per method on a small draw of the task's kind.

    One-time costs (lazy imports, first-call allocations, thread pools) would
    otherwise land on whichever method and seed happens to run first.
    """
    small = replace(task, n_train=200, n_features=30)
    X, y, *_ = small.make(10_000)
    ctx = Context(small, 10_000, True)
    for m in methods:
        try:
            with C.record_warnings():
                m.run(X, y, ctx)
        except Exception:  # a failing peer is reported by the timed runs
            pass


def heldout_scorer(task):
    """The default per-seed scorer: a plain linear model refit on the selected columns."""
    def per_seed(X, y, X_te, y_te, support):
        def score(mask):
            value = C.heldout_score(X, y, X_te, y_te, mask, task.task)
            return value, value
        return score
    return per_seed


def run_task(task, methods, seeds, quick, log, scorer=None, warm=True):
    """Every method on every seed of ``task``; one ``C.MethodResult`` per row.

    ``scorer(X, y, X_te, y_te, support)`` is called once per seed and returns
    ``score(mask) -> (value recorded, value logged)``; the default is
    :func:`heldout_scorer`. ``warm`` runs :func:`warm_up` first.
    """
    scorer = scorer or heldout_scorer(task)
    results = {row: C.MethodResult(row) for m in methods for row in m.rows}
    if warm:
        warm_up(task, methods)
    for seed in seeds:
        X, y, X_te, y_te, support = task.make(seed)
        score = scorer(X, y, X_te, y_te, support)
        ctx = Context(task, seed, quick)
        for m in methods:
            try:
                with C.record_warnings() as w, C.Timer() as t:
                    selections = m.run(X, y, ctx)
            except Exception as exc:  # one peer failing must not end the run
                first = (str(exc).splitlines() or [""])[0][:80]
                msg = f"error: {type(exc).__name__}: {first}"
                for row in m.rows:
                    results[row].notes[msg] += 1
                log(f"  {task.name} seed {seed} {m.key}: {msg}")
                log("".join(traceback.format_exception(exc, limit=-3)).rstrip())
                continue
            for name, count in w.counts.items():
                for row in m.rows:
                    results[row].notes[name] += count
            shown = []
            for i, s in enumerate(selections):
                row = s.name or m.rows[i]
                metrics = C.support_metrics(s.mask, support)
                recorded, logged = score(s.mask)
                results[row].add(metrics, recorded, t.seconds)
                if s.note:
                    results[row].notes[s.note] += 1
                shown.append(f"{row} F1={metrics['f1']:.2f} n_sel={metrics['n_selected']} "
                             f"{task.score_name}={logged:.3f}")
            log(f"  {task.name} seed {seed} {m.key} {t.seconds:.2f}s: " + ", ".join(shown))
    return [results[row] for m in methods for row in m.rows]


def time_ratios(results):
    ref = next((r for r in results if r.name.startswith("skl0") and r.n_ok), None)
    if ref is None:
        return "time ratio vs skl0: skl0 did not run on this task."
    base = float(np.mean(ref.seconds))
    parts = [f"{r.name} {np.mean(r.seconds) / base:.2g}x" for r in results
             if r is not ref and r.n_ok]
    return f"time / time of {ref.name} ({base:.2f}s): " + ", ".join(parts)


# --------------------------------------------------------------------------- digits

# Pixel selection on scikit-learn's digits (1797 8x8 images, 10 classes):
# k=20 of the 64 pixels chosen on a stratified 75% training split, scored by
# the accuracy of a scaled LogisticRegression on those pixels over the other
# 25% (issue 16's protocol). There is no true support, so the table is the
# per-split accuracy and the fit time. Split seeds 200-202 were used while
# building the multinomial swap search; 100-104 are held out.
DIGITS_K = 20


@dataclass(frozen=True)
class DigitsTask:
    name: str = "digits"
    task: str = "classification"
    k: int = DIGITS_K
    score_name: str = "LR accuracy"

    def describe(self):
        return (f"sklearn load_digits, train_test_split(test_size=0.25, stratify=y, "
                f"random_state=seed), k={self.k} of 64 pixels, "
                "StandardScaler + LogisticRegression(max_iter=2000) on the selected pixels")

    def make(self, seed):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y,
                                                  random_state=seed)
        return X_tr, y_tr, X_te, y_te, np.arange(0)


def digits_accuracy(X, y, X_te, y_te, mask):
    """Test accuracy of StandardScaler + LogisticRegression on the selected columns."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mask = np.asarray(mask, bool)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return float(model.fit(X[:, mask], y).score(X_te[:, mask], y_te))


def _skl0_row_splice(X, y, ctx):
    """Ablation: the multinomial swap search as before issue 16a (abess's
    orthogonal-design sacrifices, no forward start), the rest at defaults."""
    from unittest import mock

    from skl0 import L0FeatureSelector
    from skl0._splice_multinomial import MultinomialRefits

    with mock.patch.object(MultinomialRefits, "applies", staticmethod(lambda *a: False)):
        sel = L0FeatureSelector(k=ctx.task.k, random_state=ctx.seed).fit(X, y)
    return [C.Selection(None, np.asarray(sel.get_support(), bool))]


def _skl0_no_forward(X, y, ctx):
    """Ablation: the second-order multinomial swap search from the gates' choice and
    screening only (no forward stepwise start), the rest at defaults."""
    from unittest import mock

    from skl0 import L0FeatureSelector
    from skl0._splice_multinomial import MultinomialRefits

    with mock.patch.object(MultinomialRefits, "forward", False):
        sel = L0FeatureSelector(k=ctx.task.k, random_state=ctx.seed).fit(X, y)
    return [C.Selection(None, np.asarray(sel.get_support(), bool))]


def _skl0_train_loss(X, y, ctx):
    """Ablation: the multinomial swap search ranked by the training log loss of
    ridge-``alpha`` refits (alpha=1e-4, before issue 16c) instead of the
    penalised objective at LogisticRegression(C=1)'s ridge, the rest at defaults."""
    from unittest import mock

    import skl0._base
    from skl0 import L0FeatureSelector
    from skl0._splice_refits import shared_refits

    def train_loss_refits(problem, alpha, size=None):  # selection_refits' signature
        return shared_refits(problem, alpha)

    with mock.patch.object(skl0._base, "selection_refits", train_loss_refits):
        sel = L0FeatureSelector(k=ctx.task.k, random_state=ctx.seed).fit(X, y)
    return [C.Selection(None, np.asarray(sel.get_support(), bool))]


def _abess_multinomial(X, y, ctx):
    import abess

    keep = np.flatnonzero(X.std(0) > 0)  # abess refuses constant columns
    est = abess.MultinomialRegression(support_size=ctx.task.k).fit(X[:, keep], y)
    mask = np.zeros(X.shape[1], bool)
    mask[keep[np.asarray(est.coef_).reshape(keep.size, -1).any(axis=1)]] = True
    return [C.Selection(None, mask)]


def _all_columns(X, y, ctx):
    return [C.Selection(None, np.ones(X.shape[1], bool))]


def _digits_methods():
    peers = {m.key: m for m in _methods()}
    return [
        peers["skl0-k"],
        replace(peers["skl0-gates"], note=""),
        Method("skl0-row-splice", "skl0", ["skl0 abess-style multinomial splice (k=true)"],
               _skl0_row_splice, _needs("skl0", "L0FeatureSelector"),
               note="skl0 abess-style multinomial splice: the swap search before issue 16a "
                    "(sacrifices beta^2 and gradient^2, starts: gates and screening), "
                    "the rest at defaults (ablation)."),
        Method("skl0-train-loss", "skl0", ["skl0 ranked by training loss (k=true)"],
               _skl0_train_loss, _needs("skl0", "L0FeatureSelector"),
               note="skl0 ranked by training loss: the multinomial swap search's criterion "
                    "before issue 16c (log loss of alpha=1e-4 refits, not the penalised "
                    "objective at LogisticRegression(C=1)'s ridge 1/(2n)), the rest at "
                    "defaults (ablation)."),
        Method("skl0-no-forward", "skl0", ["skl0 without the forward start (k=true)"],
               _skl0_no_forward, _needs("skl0", "L0FeatureSelector"),
               note="skl0 without the forward start: the second-order multinomial swap "
                    "search from the gates' choice and screening only (ablation)."),
        replace(peers["kbest"], note=""),
        Method("abess-k", "abess", ["abess (k=true)"], _abess_multinomial, _needs("abess"),
               note="abess (k=true) on digits: MultinomialRegression(support_size=k) on "
                    "the non-constant pixels."),
        Method("all", "reference", ["all 64 pixels"], _all_columns, _needs("sklearn")),
    ]


def digits_table(results, seeds):
    """Per-split accuracy, its mean, the fit time and its ratio to skl0's."""
    ref = next((r for r in results if r.name.startswith("skl0 (k") and r.n_ok), None)
    base = float(np.mean(ref.seconds)) if ref is not None else None
    headers = ["method", *(f"split {s}" for s in seeds), "mean", "fit s", "time / skl0"]
    rows = []
    for r in results:
        cells = [f"{v:.3f}" for v in r.score] + ["-"] * (len(seeds) - len(r.score))
        ratio = (f"{np.mean(r.seconds) / base:.2g}x" if base and r.n_ok
                 and not r.name.startswith("all ") else "-")
        rows.append([r.name, *cells, C.mean_std(r.score, with_std=False),
                     C.mean_std(r.seconds, fmt="{:.2f}"), ratio])
    return C.markdown_table(headers, rows, align="l" + "r" * (len(headers) - 1))


def run_digits(args, seeds, log):
    methods = filter_methods(_digits_methods(), args.methods, args.exclude)
    usable = [m for m in methods if m.available() is None]
    task = DigitsTask()

    def scorer(X, y, X_te, y_te, support):
        def score(mask):
            value = digits_accuracy(X, y, X_te, y_te, mask)
            return value, value
        return score

    log(f"digits: {task.describe()}")
    # Warm-up: one untimed fit per method on 300 rows of split 0 (neither a
    # development nor a held-out split), for the one-time costs.
    X, y, *_ = task.make(0)
    for m in usable:
        try:
            with C.record_warnings():
                m.run(X[:300], y[:300], Context(task, 0, True))
        except Exception:  # a failing method is reported by the timed runs
            pass
    results = run_task(task, usable, seeds, args.quick, log, scorer=scorer, warm=False)
    print(f"## digits: {task.describe()}")
    print()
    print(digits_table(results, seeds))
    print()
    notes = [m.note for m in usable if m.note]
    for n in notes:
        print(f"- {n}")
    if notes:
        print()
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(ap, TASKS, "skl0, skl0-k, skl0-auto, skl0-gates, skl0-auto-head-k, skl0-splice, "
                 "sklearn, lasso-cv, kbest, abess, "
                 "abess-k, abess-ic, lassonet; digits also skl0-train-loss, skl0-row-splice, "
                 "skl0-no-forward, all",
                 "smoke run: 1 seed and a coarse LassoNet path (< 2 minutes)",
                 extra_tasks=" (default), or digits (pixel selection, not run by default)")
    args = ap.parse_args(argv)
    keys = {m.key for m in _methods()}
    digits_only = [m for m in _digits_methods() if m.key not in keys]
    tasks, seeds, log, usable, skipped = prepare_run(
        ap, args, {**TASKS, "digits": DigitsTask()}, _methods() + digits_only)
    usable = [m for m in usable if m.key in keys]
    skipped = [(m, why) for m, why in skipped if m.key in keys]
    n_seeds = len(seeds)

    lines = [
        ("held-out score: a plain LinearRegression (R^2) / LogisticRegression() (accuracy) "
         "refit on each method's selected columns, for every method"),
        ("fit s: wall time of the selection fit only (time.perf_counter), after one untimed "
         "warm-up fit of every method on a small draw of each task"),
    ]
    if tasks == ["digits"]:  # the digits section states its own score and warm-up
        lines = ["fit s: wall time of the selection fit only (time.perf_counter)"]
    print_header("# skl0 selection benchmark", args.quick, seeds, lines, skipped)

    for name in tasks:
        if name == "digits":
            run_digits(args, seeds, log)
            continue
        task = TASKS[name]
        log(f"{name}: {task.describe()}")
        results = run_task(task, usable, seeds, args.quick, log)
        print(f"## {name}: {task.describe()}")
        print()
        print(C.summarize(results, task.score_name, n_seeds))
        print()
        print(time_ratios(results))
        print()
        sys.stdout.flush()

    if any(name != "digits" for name in tasks):
        print_notes(usable, args.quick)


if __name__ == "__main__":
    main()
