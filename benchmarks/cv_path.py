"""Cost of the regularization path and of the CV estimators, and what they select.

Three tables, each on the two tasks of issue 5 (the ``reg200`` and
``logit500`` tasks of ``selection.py``, without a held-out set):

1. **Path cost**: ``l0_path`` over ``--n-lams`` (30) values against one
   single fit, ``L0Regressor(lam=0.01)`` / ``L0Classifier(lam=0.01)``, same
   ``max_iter``, timed back to back ``--repeats`` (5) times: wall and CPU
   time ratios (the CPU ratio is what the ``<= 3x`` column judges; on a
   shared machine the wall ratio swings with other jobs) and the path's
   optimizer steps against the single fit's. Target: at most 3x.
2. **CV against GridSearchCV**: ``L0RegressorCV`` / ``L0ClassifierCV``
   against ``GridSearchCV(L0Regressor(...), {"lam": grid})`` with cold fits
   on the same grid, the same folds (``KFold(5, shuffle=True)``) and the same
   scorer, both serial and both refitting on all the data. Target: the CV
   estimator at least 4x faster. Also shows the lam each one chose and the
   F1 of its support.
3. **Selection quality**: F1 / precision / recall of the CV estimator's
   support against the true support over ``--seeds`` seeds, for
   ``selection="best"`` (the default) and ``"one_se"`` (read off the same
   fit: the final path holds every point's support), with the default
   scorer and, for classification, ``neg_log_loss``. Target: one-SE F1 >= 0.95.

Run ``python benchmarks/cv_path.py --quick`` (1 seed; ~4 minutes on 2 busy
CPUs) or without ``--quick`` (5 seeds for table 3).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import _common as C  # also puts the repository root on sys.path
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold

from skl0 import L0Classifier, L0ClassifierCV, L0Regressor, L0RegressorCV, l0_path
from skl0._gate_path import lam_grid
from skl0.datasets import make_sparse_classification, make_sparse_regression

MAX_ITER = 300
RULES = ("best", "one_se")  # the default first
SINGLE_LAM = 0.01


@dataclass(frozen=True)
class Task:
    name: str
    classification: bool
    data: tuple  # keyword arguments of the make_sparse_* function, as pairs

    def make(self, seed):
        make = make_sparse_classification if self.classification else make_sparse_regression
        X, y, _, support = make(random_state=seed, **dict(self.data))
        return X, y, support

    def describe(self):
        make = "make_sparse_classification" if self.classification else "make_sparse_regression"
        args = ", ".join(f"{k}={v}" for k, v in self.data)
        return f"{self.name}: {make}({args})"

    @property
    def single(self):
        return L0Classifier if self.classification else L0Regressor

    @property
    def cv_class(self):
        return L0ClassifierCV if self.classification else L0RegressorCV

    @property
    def scorers(self):
        # None is the estimator's own score: R^2 or accuracy.
        return [None, "neg_log_loss"] if self.classification else [None]


def _reg(n, p, snr=3.0, rho=0.5):
    return (("n_samples", n), ("n_features", p), ("n_informative", 10), ("rho", rho),
            ("snr", snr))


def _clf(n, p, coef_range=(1.0, 3.0)):
    return (("n_samples", n), ("n_features", p), ("n_informative", 10), ("rho", 0.5),
            ("coef_range", coef_range))


TASKS = {
    t.name: t
    for t in [
        # The two tasks of issue 5 (run by default).
        Task("reg200", False, _reg(1000, 200)),
        Task("logit500", True, _clf(2000, 500)),
        # Harder ones, for the best / one-SE comparison (--tasks ... --tables 3).
        Task("reg200-snr1", False, _reg(1000, 200, snr=1.0)),
        Task("reg2000", False, _reg(500, 2000)),
        Task("logit500-n600", True, _clf(600, 500)),
        Task("logit200-weak", True, _clf(1000, 200, coef_range=(0.3, 1.5))),
    ]
}


def log(msg, quiet):
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def folds_of(X, seed):
    return list(KFold(5, shuffle=True, random_state=seed).split(X))


def path_cost(task, grid, repeats, quiet):
    """One single fit against one path (seed 0 data), interleaved ``repeats`` times.

    Returns medians: single-fit and path wall seconds, the per-repeat
    path / fit ratios of wall and of CPU time (each ratio from one
    back-to-back pair, so slow spells of the machine cancel), the per-repeat
    wall ratios, and the path's optimizer steps.
    """
    X, y, _ = task.make(0)
    task.single(lam=SINGLE_LAM, max_iter=20, random_state=0).fit(X, y)  # warm-up
    single, path, wall_ratio, cpu_ratio, steps = [], [], [], [], []
    for r in range(repeats):
        with C.Timer() as t_single:
            task.single(lam=SINGLE_LAM, max_iter=MAX_ITER, random_state=r).fit(X, y)
        with C.Timer() as t_path:
            res = l0_path(X, y, lams=grid, max_iter=MAX_ITER, random_state=r)
        single.append(t_single.seconds)
        path.append(t_path.seconds)
        wall_ratio.append(t_path.seconds / t_single.seconds)
        cpu_ratio.append(t_path.cpu_seconds / t_single.cpu_seconds)
        steps.append(int(res.n_iter.sum()))
        log(f"  {task.name} path cost {r}: single {single[-1]:.2f}s, path {path[-1]:.2f}s "
            f"(wall {wall_ratio[-1]:.2f}x, CPU {cpu_ratio[-1]:.2f}x, {steps[-1]} steps; "
            f"{res.n_features[0]} -> {res.n_features[-1]} features)", quiet)
    return dict(
        single=float(np.median(single)), path=float(np.median(path)),
        wall_ratio=float(np.median(wall_ratio)), cpu_ratio=float(np.median(cpu_ratio)),
        wall_ratios=wall_ratio, steps=int(np.median(steps)),
    )


def cv_vs_grid_search(task, grid, seed, quiet):
    X, y, support = task.make(seed)
    folds = folds_of(X, seed)
    with C.Timer() as t_cv:
        cv = task.cv_class(
            lams=grid, cv=folds, selection="best", max_iter=MAX_ITER, random_state=seed
        ).fit(X, y)
    log(f"  {task.name} CV: {t_cv.seconds:.1f}s, lam={cv.lam_:.3g}", quiet)
    gs = GridSearchCV(
        task.single(max_iter=MAX_ITER, random_state=seed), {"lam": list(grid)}, cv=folds,
        error_score="raise",
    )
    with C.Timer() as t_gs:
        gs.fit(X, y)
    log(f"  {task.name} GridSearchCV: {t_gs.seconds:.1f}s, lam={gs.best_params_['lam']:.3g}",
        quiet)
    f1_cv = C.support_metrics(cv.support_, support)["f1"]
    f1_gs = C.support_metrics(gs.best_estimator_.support_, support)["f1"]
    return dict(
        cv_s=t_cv.seconds, gs_s=t_gs.seconds, lam_cv=cv.lam_, lam_gs=gs.best_params_["lam"],
        f1_cv=f1_cv, f1_gs=f1_gs, score_cv=cv.cv_results_["mean_test_score"][cv.best_index_],
        score_gs=gs.best_score_,
    )


def selection_quality(task, grid, seeds, quiet):
    """Per (scorer, rule): a MethodResult over seeds."""
    from skl0._criteria import choose_index

    results = {}
    for scoring in task.scorers:
        for rule in RULES:
            results[scoring, rule] = C.MethodResult(f"{rule}, scoring={scoring or 'default'}")
        for seed in seeds:
            X, y, support = task.make(seed)
            with C.Timer() as t:
                est = task.cv_class(
                    lams=grid, cv=folds_of(X, seed), scoring=scoring, max_iter=MAX_ITER,
                    random_state=seed,
                ).fit(X, y)
            res = est.cv_results_
            n_splits = sum(k_.startswith("split") for k_ in res)
            for rule in RULES:
                i = choose_index(res["mean_test_score"], res["std_test_score"],
                                 res["mean_n_features"], n_splits, rule)
                mask = est.path_.support[i]
                if rule == est.selection:
                    assert np.array_equal(mask, est.support_)
                results[scoring, rule].add(
                    C.support_metrics(mask, support), res["mean_test_score"][i], t.seconds
                )
            log(f"  {task.name} seed {seed} scoring={scoring}: F1 best "
                f"{results[scoring, 'best'].f1[-1]:.3f}, one-SE "
                f"{results[scoring, 'one_se'].f1[-1]:.3f}, {t.seconds:.1f}s", quiet)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed everywhere")
    parser.add_argument("--seeds", type=int, default=None, help="seeds for table 3 (default 5)")
    parser.add_argument("--n-lams", type=int, default=30, help="grid length (default 30)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timings per path-cost row (median; default 5, 1 with --quick)")
    parser.add_argument("--tasks", default="reg200,logit500",
                        help=f"comma-separated, from {', '.join(TASKS)}")
    parser.add_argument("--tables", default="1,2,3", help="which tables (default 1,2,3)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    n_seeds = args.seeds or (1 if args.quick else 5)
    repeats = args.repeats or (1 if args.quick else 5)
    tasks = [TASKS[name] for name in args.tasks.split(",")]
    tables = {int(t) for t in args.tables.split(",")}
    grid = lam_grid(n_lams=args.n_lams)

    print("# CV path benchmark\n")
    for line in C.environment_lines():
        print(f"- {line}")
    print(f"- grid: {args.n_lams} lams from {grid[0]:g} to {grid[-1]:g} (geometric); "
          f"max_iter={MAX_ITER}; folds KFold(5, shuffle=True, random_state=seed)")
    for task in tasks:
        print(f"- {task.describe()}")

    if 1 in tables:
        path_table(tasks, grid, repeats, args)
    if 2 in tables:
        grid_search_table(tasks, grid, args)
    if 3 in tables:
        quality_tables(tasks, grid, n_seeds, args)


def path_table(tasks, grid, repeats, args):
    rows = []
    for task in tasks:
        r = path_cost(task, grid, repeats, args.quiet)
        rows.append([
            task.name, f"{r['single']:.2f}", f"{r['path']:.2f}", f"{r['wall_ratio']:.1f}x",
            f"{r['cpu_ratio']:.1f}x", ", ".join(f"{v:.1f}x" for v in r["wall_ratios"]),
            f"{r['steps']} ({r['steps'] / MAX_ITER:.1f}x)",
            "yes" if r["cpu_ratio"] <= 3 else "no",
        ])
    print(f"\n## 1. Path cost: {args.n_lams}-point l0_path vs one fit at lam={SINGLE_LAM} "
          f"(median of {repeats} back-to-back pairs)\n")
    print(C.markdown_table(
        ["task", "single fit s", "path s", "path / fit (wall)", "path / fit (CPU)",
         "wall ratio per repeat", f"path steps (/ {MAX_ITER})", "<= 3x"],
        rows, align="lrrrrlrl",
    ))


def grid_search_table(tasks, grid, args):
    rows = []
    for task in tasks:
        r = cv_vs_grid_search(task, grid, 0, args.quiet)
        rows.append([
            task.name, f"{r['gs_s']:.1f}", f"{r['cv_s']:.1f}", f"{r['gs_s'] / r['cv_s']:.1f}x",
            "yes" if r["gs_s"] >= 4 * r["cv_s"] else "no",
            f"{r['lam_cv']:.3g} / {r['lam_gs']:.3g}",
            f"{r['score_cv']:.4f} / {r['score_gs']:.4f}",
            f"{r['f1_cv']:.3f} / {r['f1_gs']:.3f}",
        ])
    print(f"\n## 2. L0*CV vs GridSearchCV (cold fits), {args.n_lams} lams x 5 folds, "
          "selection='best', default scorer, seed 0\n")
    print(C.markdown_table(
        ["task", "GridSearchCV s", "CV s", "speed-up", ">= 4x", "lam (CV / GS)",
         "best mean score (CV / GS)", "F1 (CV / GS)"],
        rows, align="lrrrlrrr",
    ))


def quality_tables(tasks, grid, n_seeds, args):
    print(f"\n## 3. Selection quality of the CV estimators over {n_seeds} seed(s)\n")
    for task in tasks:
        results = selection_quality(task, grid, range(n_seeds), args.quiet)
        print(f"### {task.name}\n")
        print(C.summarize(list(results.values()), "mean CV score", n_seeds))
        f1 = np.mean(results[None, "one_se"].f1)
        print(f"\none-SE F1 (default scorer) {f1:.3f}: "
              f"{'meets' if f1 >= 0.95 else 'misses'} the 0.95 target\n")


if __name__ == "__main__":
    main()
