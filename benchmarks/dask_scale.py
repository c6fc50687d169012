"""Dask: L0Regressor and L0Classifier on an X that lives on the workers, never gathered.

A ``LocalCluster`` of 2 single-thread worker processes holds a seeded
float32 X of ``--n`` x 60 (persisted, spread over both) and its target;
the script times one distributed ``X'X`` (``(X.T @ X).compute()``, the
floor any Gram method pays), then ``L0Regressor(k=6)``,
``L0Classifier(k=6)`` (2 classes) and ``L0Classifier(k=6)`` on 3 classes
(multinomial, the same 6 features), and reports each time as a multiple of that floor,
the peak resident memory of each worker (its lifetime ``ru_maxrss``, the
persisted X included; the workers run only ``skl0._blocks``, numpy, and
never import torch: the script checks), whether a worker was restarted (a
changed process id), and whether the true support of 6 features was found.

Each worker is capped at ``--memory`` GiB (default: 0.5 + 1.0 * n / 6e6,
1.5 GiB at the issue's 6e6 rows); spilling and pausing are off, so the
cap is the nanny's kill threshold (95% of it) and a worker that needs
more is restarted (and counted).

    OMP_NUM_THREADS=1 python benchmarks/dask_scale.py            # n = 6e6 (1.4 GB)
    OMP_NUM_THREADS=1 python benchmarks/dask_scale.py --n 2e6
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import _common as C  # also puts the repository root on sys.path
import numpy as np

P, K, SEED = 60, 6, 0


def _import_blocks():
    import skl0._blocks  # noqa: F401  (numpy only: what the fit's tasks run)


def _has_torch():
    import sys

    return "torch" in sys.modules


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, default=6e6, help="rows of X (default 6e6)")
    ap.add_argument("--memory", type=float, default=None, help="GiB per worker")
    ap.add_argument("--chunk", type=int, default=250_000, help="rows per block")
    args = ap.parse_args()
    n = int(args.n)
    memory = args.memory or 0.5 + 1.0 * n / 6e6

    import dask
    import dask.array as da
    import distributed

    from skl0 import L0Classifier, L0Regressor

    dask.config.set({"distributed.worker.memory.target": False,
                     "distributed.worker.memory.spill": False,
                     "distributed.worker.memory.pause": False,
                     "distributed.worker.memory.terminate": 0.95})
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        memory_limit=f"{memory}GiB", silence_logs=40,
    )
    client = distributed.Client(cluster)
    pids = client.run(os.getpid)

    rs = da.random.RandomState(SEED)
    X = rs.standard_normal((n, P), chunks=(args.chunk, P)).astype(np.float32)
    support = np.sort(np.random.default_rng(SEED).choice(P, K, replace=False))
    beta = np.zeros(P, dtype=np.float32)
    beta[support] = np.array([1.0, -0.8, 0.6, -0.5, 0.4, 0.3], dtype=np.float32)
    signal = X @ beta
    y_reg = signal + rs.standard_normal(n, chunks=args.chunk).astype(np.float32)
    y_clf = (rs.random_sample(n, chunks=args.chunk) < 1 / (1 + da.exp(-2 * signal))).astype(np.int8)
    # 3 classes: logits (2 X beta, 2 X beta', 0), beta' = beta's values reversed
    # on the same support; drawn by the Gumbel-max trick.
    beta2 = np.zeros(P, dtype=np.float32)
    beta2[support] = beta[support][::-1]
    logits = da.stack([2 * signal, 2 * (X @ beta2), da.zeros_like(signal)], axis=1)
    gumbel = -da.log(-da.log(rs.random_sample((n, 3), chunks=(args.chunk, 3))))
    y_mc = da.argmax(logits + gumbel, axis=1).astype(np.int8)
    X, y_reg, y_clf, y_mc = client.persist([X, y_reg, y_clf, y_mc])
    distributed.wait([X, y_reg, y_clf, y_mc])

    rows = []

    def peak():
        return max(client.run(_peak_mib).values())

    # Workers import the block functions (numpy only) once, on their first
    # task; a real cluster pays that once per worker, not per fit.
    t = time.perf_counter()
    client.run(_import_blocks)
    imported = time.perf_counter() - t
    floor = np.inf
    for _ in range(3):  # the best of 3: the floor is short and the machine shared
        t = time.perf_counter()
        (X.T @ X).compute()
        floor = min(floor, time.perf_counter() - t)
    rows.append(["one distributed X'X (float32)", f"{floor:.2f}", "1.0", f"{peak():.0f}", "-"])

    for name, est, y in [("L0Regressor(k=6)", L0Regressor(k=K), y_reg),
                         ("L0Classifier(k=6)", L0Classifier(k=K), y_clf),
                         ("L0Classifier(k=6), 3 classes", L0Classifier(k=K), y_mc)]:
        t = time.perf_counter()
        est.fit(X, y)
        sec = time.perf_counter() - t
        found = np.array_equal(est.get_support(indices=True), support)
        extra = f" ({est.n_iter_} passes)" if name.startswith("L0Classifier") else ""
        rows.append([name + extra, f"{sec:.2f}", f"{sec / floor:.1f}", f"{peak():.0f}",
                     "yes" if found else f"no: {est.get_support(indices=True).tolist()}"])

    torch_on_workers = any(client.run(_has_torch).values())
    restarted = client.run(os.getpid) != pids or len(client.scheduler_info()["workers"]) != 2
    client.close()
    cluster.close()
    size = n * P * 4 / 2**30
    print(f"X: {n:.3g} x {P} float32 ({size:.2f} GiB), 2 workers x 1 thread, "
          f"capped at {memory:.2f} GiB each, blocks of {args.chunk} rows")
    print(C.markdown_table(
        ["fit", "seconds", "x one X'X", "peak worker RSS, MiB", "true support"], rows))
    print(f"worker restarted: {'yes' if restarted else 'no'}; torch imported on a worker: "
          f"{'yes' if torch_on_workers else 'no'}; importing skl0._blocks on the workers "
          f"(once, before the timings): {imported:.1f} s")
    for line in C.environment_lines(("numpy", "torch", "dask", "distributed")):
        print(line)


if __name__ == "__main__":
    main()
