"""numpy's float64 exp, log, log1p and scipy's expit against torch's CPU kernels, by array size.

``skl0._elementwise`` hands arrays of at least ``_TORCH_MIN_SIZE`` numbers
(``log1p``: ``_TORCH_MIN_SIZE_LOG1P``) to torch (the log losses' host-side
objectives: the refits, IRLS starts and swap-search candidates). This
prints the microseconds a call of each, on one thread, and the ratio torch
/ numpy, for the sizes around that crossover and the sizes of the fits
(digits' 1797 rows x 10 classes: 17970 logits). numpy vectorizes these
float64 functions only on AVX-512 CPUs; the machine's SIMD extensions are
printed first.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/elementwise.py [--sizes 256,512,1024,2048,17970,100000]
"""

from __future__ import annotations

import argparse
import timeit

import _common as C  # (also puts the checkout on sys.path)
import numpy as np
import torch
from scipy.special import expit

from skl0._elementwise import _TORCH_MIN_SIZE, _TORCH_MIN_SIZE_LOG1P, numpy_cpu_module


def per_call(fn, size):
    number = max(20, int(4e6 / size))
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="256,512,1024,2048,4096,17970,100000")
    args = ap.parse_args()
    torch.set_num_threads(1)
    features = getattr(numpy_cpu_module(), "__cpu_features__", None)
    simd = ("unknown" if features is None else
            ", ".join(k for k in ("AVX2", "AVX512F", "AVX512_SKX") if features.get(k)))
    print(f"numpy {np.__version__}, torch {torch.__version__}, SIMD: {simd}; "
          f"skl0._elementwise: _TORCH_MIN_SIZE {_TORCH_MIN_SIZE}, "
          f"_TORCH_MIN_SIZE_LOG1P {_TORCH_MIN_SIZE_LOG1P}")
    rng = np.random.default_rng(0)
    names = ["exp", "log", "log1p", "sigmoid"]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        f = rng.normal(scale=3.0, size=size)
        e = np.exp(-np.abs(f))
        out = np.empty(size)
        pairs = {
            "exp": (lambda: np.exp(f, out=out),
                    lambda: torch.exp(torch.from_numpy(f), out=torch.from_numpy(out))),
            "log": (lambda: np.log(e, out=out),
                    lambda: torch.log(torch.from_numpy(e), out=torch.from_numpy(out))),
            "log1p": (lambda: np.log1p(e, out=out),
                      lambda: torch.log1p(torch.from_numpy(e), out=torch.from_numpy(out))),
            "sigmoid": (lambda: expit(f, out=out),
                        lambda: torch.sigmoid(torch.from_numpy(f), out=torch.from_numpy(out))),
        }
        cells = [str(size)]
        for name in names:
            a, b = (per_call(fn, size) for fn in pairs[name])
            cells.append(f"{a * 1e6:.1f} / {b * 1e6:.1f} ({b / a:.2f}x)")
        rows.append(cells)
    headers = ["numbers"] + [f"{n}: numpy / torch us (ratio)" for n in names]
    print(C.markdown_table(headers, rows, align="r" * len(headers)))


if __name__ == "__main__":
    main()
