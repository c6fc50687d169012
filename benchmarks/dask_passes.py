"""Dask multinomial fits past the Hessian's size: passes over X, and the gap to the in-memory fit.

Past ``skl0._dask._NEWTON_MAX_PARAMETERS`` coefficients (``(s + 1) K``) the
Dask multinomial fit forms no Hessian. On an unchanged support its steps
are L-BFGS steps with Boehning's bound as the initial Hessian; the ablation
row takes the bound's own steps (``_BOUND_LBFGS_MEMORY = 0``), which
converge linearly. Data: ``--n`` x 30 Gaussian columns, 10 classes whose
logits use every column (weakly), ``L0Classifier(k=26)``: 270 coefficients.
Seed 0 was the development seed; 1-3 are held out. Each fit runs on dask's
synchronous scheduler (the passes, not the cluster, are measured) and is
compared with the in-memory ``L0Classifier(k=26)`` on the same rows (the
supports can differ: the Dask fit chooses on the bound, see
``docs/scale.md``), and its convergence is the largest gradient of the
refit's objective (mean cross-entropy + ``alpha ||W||^2`` on the
standardized kept columns) at its coefficients.

    OMP_NUM_THREADS=1 python benchmarks/dask_passes.py [--n 3000] [--seeds 0,1,2,3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import _common as C  # also puts the repository root on sys.path
import numpy as np


def data(n, seed, p=30, K=10):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    logits = X[:, :K] * 0.3 + X[:, K:2 * K] * 0.2 + X[:, 2 * K:] @ rng.randn(p - 2 * K, K) * 0.1
    return X, np.argmax(logits + rng.gumbel(size=logits.shape), 1)


def refit_gradient(X, y, coef, intercept, alpha):
    """Largest |gradient| of the ridge-penalised multinomial refit's objective at (coef, intercept)."""
    from scipy.special import logsumexp

    n = len(y)
    mean, std = X.mean(0), X.std(0)
    kept = np.flatnonzero(np.any(coef != 0, axis=0))
    F = X @ coef.T + intercept
    G = (np.exp(F - logsumexp(F, axis=1)[:, None]) - np.eye(coef.shape[0])[y]) / n
    Z = (X[:, kept] - mean[kept]) / std[kept]
    grad_W = Z.T @ G + 2 * alpha * (coef[:, kept] * std[kept]).T
    return max(np.abs(grad_W).max(), np.abs(G.sum(0)).max())


def main(argv=None):
    import dask
    import dask.array as da

    import skl0._dask as kd
    from skl0 import L0Classifier

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, default=3000)
    ap.add_argument("--seeds", default="0,1,2,3")
    args = ap.parse_args(argv)
    n = int(args.n)
    print("\n".join(C.environment_lines(("numpy", "scikit-learn", "torch", "dask"))))
    print()
    rows = []
    memory = kd._BOUND_LBFGS_MEMORY
    for seed in [int(s) for s in args.seeds.split(",")]:
        X, y = data(n, seed)
        mem = L0Classifier(k=26).fit(X, y)
        for label, m in [("L-BFGS from the bound", memory), ("bound steps alone", 0)]:
            kd._BOUND_LBFGS_MEMORY = m
            try:
                with dask.config.set(scheduler="synchronous"), \
                        warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    t = time.process_time()
                    est = L0Classifier(k=26).fit(da.from_array(X, chunks=(1000, X.shape[1])),
                                                 da.from_array(y, chunks=1000))
                    dt = time.process_time() - t
            finally:
                kd._BOUND_LBFGS_MEMORY = memory
            warned = any("did not converge" in str(w.message) for w in caught)
            rows.append([str(seed), label, str(est.n_iter_), "no" if warned else "yes",
                         f"{refit_gradient(X, y, est.coef_, est.intercept_, est.alpha):.1e}",
                         "yes" if np.array_equal(est.support_, mem.support_) else "no",
                         f"{np.abs(est.coef_ - mem.coef_).max():.1e}", f"{dt:.1f}"])
    print(C.markdown_table(
        [f"seed (n={n}, 10 classes, k=26)", "steps on an unchanged support", "passes over X",
         "converged", "refit gradient", "support as in memory", "max abs(coef - in-memory coef)",
         "CPU s"], rows))


if __name__ == "__main__":
    main()
