"""L0 pruning of a digits MLP against magnitude pruning: the full run.

One implementation: this script runs ``examples/torch_pruning.py`` in full
mode (``SKL0_QUICK`` is ignored). The markdown table goes to stdout.

Usage::

    python benchmarks/torch_pruning.py     # about 20 s on 2 CPUs
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # measure this checkout, installed or not
    sys.path.insert(0, str(REPO_ROOT))

EXAMPLE = REPO_ROOT / "examples" / "torch_pruning.py"


def main():
    example = runpy.run_path(str(EXAMPLE), run_name="torch_pruning_example")
    return example["main"](["--full"])


if __name__ == "__main__":
    main()
