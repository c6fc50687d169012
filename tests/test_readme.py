"""Every python block of the README runs as written, each in a fresh interpreter.

A reader copies one block at a time, so a block may not lean on names that
another block (or the surrounding text) defines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks():
    text = README.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 5


def _run(code, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def block_runs(tmp_path_factory):
    """Every block started at once, as many at a time as there are cores.

    Each block is a single-threaded interpreter (OMP_NUM_THREADS=1) and the
    test process only waits, so on a 2-core machine two blocks run side by
    side: the file takes about half the time of running them one by one.
    """
    workers = max(1, min(len(python_blocks()), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield {
            line: pool.submit(_run, code, tmp_path_factory.mktemp(f"readme{line}"))
            for line, code in python_blocks()
        }


@pytest.mark.parametrize("line, code", python_blocks(), ids=lambda v: f"line{v}"
                         if isinstance(v, int) else "")
def test_readme_block_runs_as_written(line, code, block_runs):
    out = block_runs[line].result()
    assert out.returncode == 0, f"README block at line {line} failed:\n{out.stderr[-3000:]}"
    assert "Warning" not in out.stderr, f"README block at line {line} warned:\n{out.stderr}"
