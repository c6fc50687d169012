"""examples/torch_pruning.py keeps running (a tiny configuration)."""

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "torch_pruning.py"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/ not shipped")
def test_torch_pruning_example_runs():
    example = runpy.run_path(str(EXAMPLE), run_name="torch_pruning_example")
    cfg = example["Config"](hidden=8, epochs=2, finetune_epochs=1, timing_repeats=2)
    rows = example["run"](cfg)
    assert [r["method"] for r in rows][0] == "dense" and len(rows) == 7
    table = example["format_table"](rows)
    assert table.count("\n") == len(rows) + 1
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and r["weights"] <= rows[0]["weights"]
