"""Dask fits with an MLP head: held-out R^2 by chunking, against the in-memory fit.

A Dask fit with an MLP head takes its standardization from all the rows
(one moments pass) and makes whole epochs over the blocks until
``max_iter`` Adam steps (``docs/scale.md``). Data: Friedman #1 (2000 rows,
10 columns, noise 1, y times 100 plus 500, column 3 times 1000 plus 1e4 so
that the scaling matters), the first 1500 rows for training, the rest
held out; ``L0Regressor(k=5, hidden_layer_sizes=(16,), random_state=0)``
on dask's synchronous scheduler (the training, not the cluster, is
measured). The in-memory fit on the same rows is the reference row.

    OMP_NUM_THREADS=1 python benchmarks/dask_mlp.py [--chunks 1500,500,100,7,1] [--seeds 0]
"""

from __future__ import annotations

import argparse
import time
import warnings

import _common as C  # also puts the repository root on sys.path
import numpy as np


def data(seed):
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=seed)
    X[:, 3] = X[:, 3] * 1000 + 1e4
    return X[:1500], X[1500:], y[:1500] * 100 + 500, y[1500:] * 100 + 500


def main(argv=None):
    import dask
    import dask.array as da

    from skl0 import L0Regressor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", default="1500,500,100,7,1",
                    help="rows per block, comma-separated (1 is slow: ~20 s a fit)")
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args(argv)
    print("\n".join(C.environment_lines(("numpy", "scikit-learn", "torch", "dask"))))
    print()
    kw = dict(k=5, hidden_layer_sizes=(16,), random_state=0)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        Xtr, Xte, ytr, yte = data(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.process_time()
            mem = L0Regressor(**kw).fit(Xtr, ytr)
            rows.append([str(seed), "in memory", f"{mem.score(Xte, yte):.3f}",
                         str(np.flatnonzero(mem.support_).tolist()), str(mem.n_iter_),
                         f"{time.process_time() - t:.1f}"])
            for c in [int(a) for a in args.chunks.split(",")]:
                with dask.config.set(scheduler="synchronous"):
                    t = time.process_time()
                    est = L0Regressor(**kw).fit(da.from_array(Xtr, chunks=(c, -1)),
                                                da.from_array(ytr, chunks=c))
                    dt = time.process_time() - t
                rows.append([str(seed), f"Dask, blocks of {c} rows", f"{est.score(Xte, yte):.3f}",
                             str(np.flatnonzero(est.support_).tolist()), str(est.n_iter_),
                             f"{dt:.1f}"])
    print(C.markdown_table(["seed", "fit", "held-out R^2", "support", "Adam steps", "CPU s"],
                           rows))


if __name__ == "__main__":
    main()
