#!/usr/bin/env bash
# One run on a CUDA machine: the device's tests, then the GPU benchmark.
#
#     bash benchmarks/gpu_session.sh            # from the repository root
#
# About 5-6 minutes on an H200 (the tests ~1-2, benchmarks/gpu_path.py ~3-4).
# The tests: every test whose name or module mentions cuda, device or gpu
# (118 of the suite; the CUDA ones are skipped on a machine without CUDA),
# tests/test_device_rows.py among them, whose CUDA test fits and
# cross-validates on the GPU and on the CPU and compares them. Output goes to stdout and, when
# $OUT is set (the device tool's folder), to $OUT/tests.txt and
# $OUT/bench.txt; with PROFILE=1 also benchmarks/gpu_profile.py's cProfile
# tables to $OUT/profile.txt (then keep the run's timeout_s at 600). The
# arguments go to gpu_path.py and gpu_profile.py (--n, --p, --device; --n-lams
# and --tasks are gpu_path.py's), e.g. a CPU smoke run:
#     bash benchmarks/gpu_session.sh --n 5000 --p 50 --device cpu --n-lams 6
set -o pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
out="${OUT:-$(mktemp -d)}"
python -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
timeout 240 python -m pytest -q -p no:cacheprovider -rfEs tests -k "cuda or device or gpu" 2>&1 | tee "$out/tests.txt" | tail -25
timeout 330 python benchmarks/gpu_path.py "$@" 2>&1 | tee "$out/bench.txt"
if [ -n "$PROFILE" ]; then  # PROFILE=1: also benchmarks/gpu_profile.py (~1-3 minutes)
    timeout 170 python benchmarks/gpu_profile.py "$@" > "$out/profile.txt" 2>&1
    grep "=====" "$out/profile.txt"
fi
