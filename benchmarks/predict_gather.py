"""predict's column gather on float64 X: the product over the selected columns alone against
the product over all of X, in one process, samples taken in turn (numpy, one thread).

skl0's predict takes the selected columns alone where at most one column in
``skl0._layers._GATHER_FRACTION`` is selected in a C-ordered X (one in
``_GATHER_FRACTION_F`` in a Fortran-ordered one). The thresholds were set on
seeds 7 and 11 (p = 96-12000); the default ``--seed 17`` and its widths were
not looked at before. A ratio below 1 on the rows the rule gathers, and
above 1 on those it reads whole, says the rule chose well.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/predict_gather.py [--seed 17] [--numbers 2e7]
"""

from __future__ import annotations

import argparse
import time

import _common as C  # noqa: F401  (puts the repository root on sys.path)
import numpy as np

from skl0._layers import _GATHER_FRACTION, _GATHER_FRACTION_F


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--numbers", type=float, default=2e7, help="numbers in X")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    print("| p (rows) | selected | share | order | gathered / whole | the rule |")
    print("|---:|---:|---:|---|---:|---|")
    for p in (300, 1200, 20000):
        n = int(args.numbers) // p
        X = rng.standard_normal((n, p))
        for order, fracs in (("C", (32, 64, 100)), ("F", (4, 6, 8))):
            Xo = np.asarray(X, order=order)
            rule = _GATHER_FRACTION_F if order == "F" else _GATHER_FRACTION
            for frac in fracs:
                s = max(1, p // frac)
                rows = np.sort(rng.choice(p, s, replace=False))
                W = rng.standard_normal((p, 1))
                t = {"g": [], "w": []}
                for _ in range(args.repeats):
                    a = time.perf_counter()
                    Xo[:, rows] @ W[rows]
                    t["g"].append(time.perf_counter() - a)
                    a = time.perf_counter()
                    Xo @ W
                    t["w"].append(time.perf_counter() - a)
                ratio = np.median(t["g"]) / np.median(t["w"])
                print(f"| {p} ({n}) | {s} | 1/{p / s:.0f} | {order} | {ratio:.2f} | "
                      f"{'gather' if s * rule <= p else 'whole'} |")


if __name__ == "__main__":
    main()
