"""Groups and feature costs: whole original columns, and the cheaper of two copies.

Three tables, every number a mean over seeds (fixed seeds, printed):

1. ``groups``: 8 categorical columns of 5 levels (one-hot, 40 columns) and
   10 numeric ones; 2 categorical and 2 numeric columns are used. skl0 with
   ``groups=`` (``k=4`` and ``lam="auto"``) beside abess with its ``group``
   option (``support_size=4`` and its own EBIC path), and skl0 at the
   column level on the same data (``k=12``, the true groups' width, and
   ``lam="auto"``) for the time ratio. Columns: the share of seeds whose
   kept set is exactly the 4 true original columns, group-level F1,
   held-out R^2 of a least-squares refit on the kept columns, fit time.
2. ``costs``: a true column and a near-copy of it (correlation ~0.98)
   among noise columns, the copy 10x as expensive: how often exact k keeps
   the cheap true column with ``feature_costs`` and without.
3. ``timing`` (printed right after the ``groups`` table, under its heading):
   the group fit's time over the column-level fit's, median and worst seed.

Nothing here was tuned: skl0 runs with its defaults. Seeds 0-4 were used
while developing the feature (development seeds); the tables report the
held-out seeds 100-119 unless ``--seeds`` says otherwise.

    OMP_NUM_THREADS=1 python benchmarks/groups.py
"""

from __future__ import annotations

import argparse
import time
import warnings

import _common as C  # puts the repository root on sys.path
import numpy as np
from sklearn.linear_model import LinearRegression

from skl0 import L0Regressor

LEVELS = 5
N_CAT, N_NUM = 8, 10
TRUE_GROUPS = (0, 3, N_CAT + 0, N_CAT + 4)  # c0, c3, x0, x4


def group_table(seed, n):
    """One-hot X, y, the group of each column, and the true groups."""
    rng = np.random.default_rng(seed)
    cats = rng.integers(0, LEVELS, size=(n, N_CAT))
    num = rng.normal(size=(n, N_NUM))
    onehot = np.concatenate([np.eye(LEVELS)[cats[:, j]] for j in range(N_CAT)], axis=1)
    X = np.concatenate([onehot, num], axis=1)
    groups = np.concatenate([np.repeat(np.arange(N_CAT), LEVELS), N_CAT + np.arange(N_NUM)])
    e0, e3 = rng.normal(size=LEVELS), rng.normal(size=LEVELS)
    e0, e3 = e0 - e0.mean(), e3 - e3.mean()
    signal = 1.5 * e0[cats[:, 0]] + 1.5 * e3[cats[:, 3]] + num[:, 0] - 0.8 * num[:, 4]
    y = signal + 0.5 * rng.normal(size=n)
    return X, y, groups


def copy_table(seed, n, p=10, tie=False):
    """Column 0 true, column 1 a near-copy (corr ~0.98), column 2 true, the rest noise.

    ``tie``: columns 0 and 1 are both noisy copies of the signal (equally
    useful, corr ~0.98), and column 1 is the one the table prices higher.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    if tie:
        s = X[:, 0].copy()
        X[:, 0] = s + 0.14 * rng.normal(size=n)
        X[:, 1] = s + 0.14 * rng.normal(size=n)
        y = s + 0.7 * X[:, 2] + rng.normal(size=n)
    else:
        X[:, 1] = X[:, 0] + 0.2 * rng.normal(size=n)
        y = X[:, 0] + 0.7 * X[:, 2] + rng.normal(size=n)
    return X, y


def group_f1(kept, true):
    kept, true = set(kept), set(true)
    if not kept:
        return 0.0
    tp = len(kept & true)
    return 2 * tp / (len(kept) + len(true))


def refit_r2(X, y, Xt, yt, mask):
    if not mask.any():
        return 0.0
    return LinearRegression().fit(X[:, mask], y).score(Xt[:, mask], yt)


def timed(fn, repeat):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def run_groups(seeds, n, repeat):
    from abess.linear import LinearRegression as AbessLR

    methods = {
        "skl0 k=4, groups": lambda X, y, g: L0Regressor(k=4, groups=g).fit(X, y).support_,
        "skl0 lam='auto', groups": lambda X, y, g: L0Regressor(groups=g).fit(X, y).support_,
        "abess support_size=4, group": lambda X, y, g: AbessLR(
            support_size=[4], group=g).fit(X, y).coef_ != 0,
        # abess's default size range crashes (std::bad_alloc) with group=:
        # sizes 0..12 of the 18 groups are searched explicitly.
        "abess ebic path, group": lambda X, y, g: AbessLR(
            support_size=list(range(13)), group=g).fit(X, y).coef_ != 0,
        "skl0 k=12, columns": lambda X, y, g: L0Regressor(k=12).fit(X, y).support_,
        "skl0 lam='auto', columns": lambda X, y, g: L0Regressor().fit(X, y).support_,
    }
    rows, times = {m: [] for m in methods}, {m: [] for m in methods}
    for seed in seeds:
        X, y, g = group_table(seed, n + 2000)  # one draw of the effects: train, test
        X, y, Xt, yt = X[:n], y[:n], X[n:], y[n:]
        for name, fn in methods.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mask, sec = timed(lambda fn=fn, X=X, y=y, g=g: fn(X, y, g), repeat)
            kept = np.unique(g[mask])
            rows[name].append((
                float(set(kept) == set(TRUE_GROUPS)), group_f1(kept, TRUE_GROUPS),
                refit_r2(X, y, Xt, yt, mask), kept.size, sec,
            ))
            times[name].append(sec)
    table = []
    for name, vals in rows.items():
        a = np.array(vals)
        table.append([name, f"{a[:, 0].mean():.2f}", f"{a[:, 1].mean():.3f}",
                      f"{a[:, 2].mean():.3f}", f"{a[:, 3].mean():.1f}",
                      f"{1000 * np.median(a[:, 4]):.1f}"])
    print(C.markdown_table(
        ["method", "exact 4 true columns", "group F1", "held-out R^2", "groups kept",
         "median time (ms)"], table))
    print()
    ratio = [
        ("k=4 groups / k=12 columns", "skl0 k=4, groups", "skl0 k=12, columns"),
        ("auto groups / auto columns", "skl0 lam='auto', groups", "skl0 lam='auto', columns"),
        ("skl0 k=4 groups / abess k=4 group", "skl0 k=4, groups", "abess support_size=4, group"),
    ]
    lines = []
    for label, a, b in ratio:
        r = np.array(times[a]) / np.array(times[b])
        lines.append([label, f"{np.median(r):.2f}", f"{r.max():.2f}"])
    print(C.markdown_table(["time ratio", "median over seeds", "worst seed"], lines))


def run_costs(seeds, n):
    costs = np.ones(10)
    costs[1] = 10.0
    res = {}
    for tie in (False, True):
        what = "equally useful copies" if tie else "true column + near-copy"
        for label, fc in (("costs (column 1 costs 10x)", costs), ("no costs", None)):
            res[f"{what}, k=2, {label}"] = []
            for seed in seeds:
                X, y = copy_table(seed, n, tie=tie)
                kept = L0Regressor(k=2, feature_costs=fc).fit(X, y).support_
                res[f"{what}, k=2, {label}"].append((kept[0] and not kept[1], kept[2]))
    table = [[name, f"{np.mean([v[0] for v in vals]):.2f}", f"{np.mean([v[1] for v in vals]):.2f}"]
             for name, vals in res.items()]
    print(C.markdown_table(["data, method", "keeps column 0 (the cheap one)", "keeps column 2"],
                           table))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=(100, 120), metavar=("FROM", "TO"),
                        help="seeds FROM..TO-1 (default: the held-out seeds 100-119)")
    parser.add_argument("--n", type=int, default=300, help="training rows (default: 300)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timing: best of this many fits per seed (default: 3)")
    args = parser.parse_args()
    seeds = list(range(*args.seeds))
    print(f"seeds {args.seeds[0]}..{args.seeds[1] - 1}, n={args.n}")
    print()
    print("## groups: 8 categorical (5 levels, one-hot) + 10 numeric columns; 4 used\n")
    run_groups(seeds, args.n, args.repeat)
    print()
    print("## costs: a true column and a 10x dearer near-copy (corr ~0.98)\n")
    run_costs(seeds, args.n)


if __name__ == "__main__":
    main()
