"""Issue 15, "Trust: nothing lost, nothing silently wrong": one test (or more) per item.

docs/reliability.md lists the behaviours tested here.
"""

import tomllib
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement

from skl0 import L0Regressor

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------- data loss


def _reg(n=240, p=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p)) * 3.0 + 50.0  # a mean, so a shift would show
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("kind", ["array", "memmap r+", "memmap r"])
@pytest.mark.parametrize("head", [(), (3,)])
def test_partial_fit_never_writes_into_a_float64_X(kind, head, tmp_path):
    X, y = _reg()
    if kind == "array":
        Xin = X.copy()
    else:
        mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64,
                                       shape=X.shape)
        mm[:] = X
        mm.flush()
        del mm
        Xin = np.load(tmp_path / "X.npy", mmap_mode=kind.split()[1])
    est = L0Regressor(k=2, hidden_layer_sizes=head, max_iter=20, random_state=0)
    for start in range(0, X.shape[0], 80):
        est.partial_fit(Xin[start : start + 80], y[start : start + 80])
    np.testing.assert_array_equal(np.asarray(Xin), X)
    if kind != "array":
        del Xin
        np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), X)  # the file too
    if not head:
        full = L0Regressor(k=2, random_state=0).fit(X, y)
        np.testing.assert_array_equal(est.support_, full.support_)


# ------------------------------------------------------------------ security


def test_pyarrow_floor_is_past_cve_2023_47248():
    """pyarrow < 14.0.1 runs code from an untrusted Parquet file (CVE-2023-47248)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for extra in meta.get("optional-dependencies", {}).values()
            for r in extra]
    reqs += [Requirement(r) for r in meta.get("dependencies", [])]
    arrow = [r for r in reqs if r.name == "pyarrow"]
    assert arrow, "pyarrow should be an optional dependency (parquet extra)"
    for r in arrow:
        assert not r.specifier.contains("14.0.0"), str(r)
        assert not r.specifier.contains("13.0.0"), str(r)
        assert r.specifier.contains("14.0.1"), str(r)
