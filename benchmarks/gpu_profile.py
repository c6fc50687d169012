"""Where a GPU fit and a GPU CV fit spend their time: cProfile tables.

On a CUDA machine, for the data of ``gpu_path.py`` (n=1e6, p=1000
float32, 10 true columns): one ``L0Regressor(lam=0.01)`` fit, one
``L0RegressorCV(cv=5)`` and one ``L0ClassifierCV(cv=5)``, each under
``cProfile``, printing the functions of largest own time and of largest
cumulative time. Session 30 ran it before moving X's preparation to the
device (docs/scale.md has the numbers); rerun it to see where the time
went after.

    python benchmarks/gpu_profile.py            # ~2.5 minutes on an H200
    python benchmarks/gpu_profile.py --n 20000 --p 100 --device cpu   # a smoke run
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import _common  # noqa: F401  (puts the repository root on sys.path)
import torch
from gpu_path import make_data

from skl0 import L0ClassifierCV, L0Regressor, L0RegressorCV


def profile(name, fn, device, own=25, cumulative=40):
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    prof.disable()
    print(f"\n===== {name}: {time.perf_counter() - start:.2f} s", flush=True)
    for key, count in (("tottime", own), ("cumulative", cumulative)):
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats(key).print_stats(count)
        print(text.getvalue(), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--p", type=int, default=1000)
    ap.add_argument("--device", default="cuda")
    # gpu_session.sh passes gpu_path.py's arguments on to this script too
    ap.add_argument("--n-lams", type=int, default=30, help="ignored (gpu_path.py's option)")
    ap.add_argument("--tasks", default="", help="ignored (gpu_path.py's option)")
    args = ap.parse_args(argv)
    X, y_reg, y_bin, _ = make_data(args.n, args.p, args.device)
    small = slice(0, min(args.n, 20000))
    L0Regressor(lam=0.01, device=args.device).fit(X[small], y_reg[small])  # warm-up
    dev = dict(device=args.device)
    profile("L0Regressor(lam=0.01) fit", lambda: L0Regressor(lam=0.01, **dev).fit(X, y_reg),
            args.device, own=15)
    profile("L0RegressorCV(cv=5)", lambda: L0RegressorCV(cv=5, **dev).fit(X, y_reg),
            args.device)
    profile("L0ClassifierCV(cv=5)", lambda: L0ClassifierCV(cv=5, **dev).fit(X, y_bin),
            args.device)


if __name__ == "__main__":
    main()
