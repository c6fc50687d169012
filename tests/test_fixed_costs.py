"""Shortcuts that cut a small fit's fixed costs give what the plain computation gives."""

import numpy as np
import pytest

from skl0 import _numerics


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape", [(1, 2), (7, 3), (442, 10), (1000, 16), (333, 5)])
def test_narrow_column_extremes_equal_numpys(dtype, shape, monkeypatch):
    # Small blocks, so that most shapes span several of them and end on a
    # partial one; each column's extremes sit in a random row.
    monkeypatch.setattr(_numerics, "_NARROW_BLOCK", 64)
    rng = np.random.default_rng(shape[0])
    X = (rng.standard_normal(shape) * 100).astype(dtype)
    X[-1, 0] = 10**6  # the last row holds a maximum and a minimum
    X[-1, -1] = -(10**6)
    lo, hi = _numerics.column_extremes(X)
    assert lo.dtype == X.dtype and hi.dtype == X.dtype
    np.testing.assert_array_equal(lo, np.min(X, axis=0))
    np.testing.assert_array_equal(hi, np.max(X, axis=0))
    assert not np.shares_memory(lo, X) and X[-1, 0] == 10**6  # X untouched


def test_narrow_column_extremes_is_taken_and_other_layouts_are_not(monkeypatch):
    calls = []
    real = _numerics._narrow_extremes
    monkeypatch.setattr(_numerics, "_narrow_extremes", lambda X: calls.append(X.shape) or real(X))
    X = np.arange(60.0).reshape(20, 3)
    _numerics.column_extremes(X)
    for other in (np.asfortranarray(X), X[:, ::2], np.ones((20, 17)), np.ones((20, 1))):
        lo, hi = _numerics.column_extremes(other)
        np.testing.assert_array_equal(lo, other.min(axis=0))
    assert calls == [(20, 3)]
