"""The python blocks of the README and of the docs pages run as a reader runs them.

README: every block runs as written, each in a fresh interpreter. A reader
copies one block at a time, so a block may not lean on names that another
block (or the surrounding text) defines.

Docs pages: a page is read top to bottom, so a page's blocks run one after
another in one fresh interpreter (a block may use what an earlier block of
the same page defined, as `path_cv.md`'s plotting block uses its CV fit). A
block that needs what a reader brings and a test cannot (a Dask cluster,
files of the reader's own, another package) is marked by the line
``<!-- not run: REASON -->`` just above it; such blocks are few and listed
in ``NOT_RUN``, so that a new one is a choice.
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
DOCS = README.parent / "docs"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\n\Z")

# (page, first line of the block): the docs blocks marked not run, on purpose.
NOT_RUN = {
    ("migrating.md", "# before"),                      # imports l0-python itself
    ("scale.md", "import numpy as np"),                 # reads the reader's X.npy
    ("scale.md", "import dask.dataframe as dd"),        # a Dask scheduler's address
    ("scale.md", "import joblib"),                      # starts a Dask cluster
}


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


# ------------------------------------------------------------------ docs pages


def page_blocks(page):
    """(code, not-run reason or None) of each python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in _BLOCK.finditer(text):
        marker = _NOT_RUN.search(text[: m.start()])
        out.append((m.group(1), marker.group(1) if marker else None))
    return out


def pages():
    return sorted(p.name for p in DOCS.glob("*.md") if page_blocks(p))


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory):
    """Every page started at once, as many at a time as there are cores."""
    workers = max(1, min(len(pages()), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield {
            name: pool.submit(
                _run,
                "\n".join(code for code, reason in page_blocks(DOCS / name) if reason is None),
                tmp_path_factory.mktemp(name.replace(".", "_")),
            )
            for name in pages()
        }


def test_the_docs_have_python_blocks_and_few_are_not_run():
    marked = {(name, code.splitlines()[0]) for name in pages()
              for code, reason in page_blocks(DOCS / name) if reason is not None}
    assert marked == NOT_RUN
    assert sum(len(page_blocks(DOCS / name)) for name in pages()) >= 3 * len(NOT_RUN)


@pytest.mark.parametrize("name", pages())
def test_docs_page_blocks_run_in_order(name, page_runs):
    out = page_runs[name].result()
    assert out.returncode == 0, f"docs/{name}'s python blocks failed:\n{out.stderr[-3000:]}"
    assert "Warning" not in out.stderr, f"docs/{name}'s python blocks warned:\n{out.stderr}"


def test_the_quick_start_prints_what_the_readme_shows():
    """The README's first output block is what ``examples/quickstart.py`` prints.

    The set-up's first command runs it; a change to the search (session 39's
    single-swap scan) moved its features while the README kept the old ones,
    and only the fresh-venv check of the set-up commands saw it.
    """
    text = README.read_text(encoding="utf-8")
    shown = re.search(r"^```\n(L0FeatureSelector kept .*?)^```", text, re.S | re.M)
    assert shown is not None, "the README's quick-start output block is gone"
    run = _run(f"import runpy; runpy.run_path({str(README.parent / 'examples' / 'quickstart.py')!r}, "
               "run_name='__main__')", README.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout == shown.group(1)


@pytest.mark.parametrize("page", ["README.md", "docs/cli.md"])
def test_the_cli_demo_prints_what_the_docs_show(page):
    """``skl0 select --demo``'s output block in the README and docs/cli.md is what it prints."""
    text = (README.parent / page).read_text(encoding="utf-8")
    shown = re.search(r"^\$ skl0 select --demo\n(.*?)^```", text, re.S | re.M)
    assert shown is not None, f"{page}'s demo output block is gone"
    run = _run("import sys; from skl0.cli import main; sys.exit(main(['select', '--demo']))",
               README.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout == shown.group(1)
