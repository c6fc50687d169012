"""How often the automatic head's nonlinearity test rejects a linear fit.

``hidden_layer_sizes="auto"`` fits the linear head, then tests its residuals
against every square and pairwise product of the columns
(:func:`skl0._nonlinear.nonlinearity_test`, family-wise 5%); a rejection
costs an MLP path (hundreds of times the linear fit at n=500, p=2000). On the
linear tasks of ``selection.py`` the test should rarely reject: this prints,
per task, how many seeds it rejected the exact-``k`` linear fit on, the
largest statistic and the threshold. Seeds 0-59 are development seeds;
100 and up are held out (``selection.py --first-seed 100``).

    OMP_NUM_THREADS=1 python benchmarks/nonlinearity_level.py [--tasks reg200,hard,logit500,reg2000] [--seeds 0:60]
"""

from __future__ import annotations

import argparse

import _common as C  # also puts the repository root on sys.path
import numpy as np
from selection import TASKS


def statistic(task, seed):
    """The test's statistic and threshold on the exact-k linear fit's residuals."""
    from skl0 import L0Classifier, L0Regressor
    from skl0._nonlinear import nonlinearity_test

    X, y, *_ = task.make(seed)
    if task.task == "regression":
        est = L0Regressor(k=task.k, random_state=seed).fit(X, y)
        R = y - est.predict(X)
    else:
        est = L0Classifier(k=task.k, random_state=seed).fit(X, y)
        R = y - est.predict_proba(X)[:, 1]
    return nonlinearity_test(X, R[:, None], np.ones(len(X)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default="reg200,hard,logit500,reg2000")
    ap.add_argument("--seeds", default="0:60", help="first:stop (development seeds 0-59)")
    args = ap.parse_args(argv)
    first, stop = (int(v) for v in args.seeds.split(":"))
    print("\n".join(f"- {line}" for line in C.environment_lines()))
    print()
    rows = []
    for name in args.tasks.split(","):
        stats, threshold = [], None
        for seed in range(first, stop):
            stat, threshold = statistic(TASKS[name], seed)
            stats.append(stat)
        stats = np.array(stats)
        rows.append([name, f"{first}-{stop - 1}", f"{int((stats > threshold).sum())} of {stats.size}",
                     f"{stats.max():.2f}", f"{threshold:.2f}"])
    print(C.markdown_table(["task", "seeds", "rejected", "largest statistic", "threshold"], rows))


if __name__ == "__main__":
    main()
