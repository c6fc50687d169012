"""The predict side as a deployed model meets it: dtypes, memory, pickling."""

import tracemalloc

import numpy as np
import pytest

from skl0 import L0Classifier, L0Regressor


def _data(n=200, p=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] + 0.5 * X[:, 3] + 0.1 * rng.standard_normal(n)
    return X, y


def _peak_bytes(f, *args):
    tracemalloc.start()
    try:
        f(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("hidden", [None, (4,)])
def test_float32_predict_makes_no_float64_copy_of_X(hidden):
    # predict on float32 X promoted the whole X to float64 inside the
    # product (twice X's bytes, 81.6 MB for a 40 MB X with 3 of 50 columns
    # selected); only the selected columns are promoted now, and the
    # predictions are the float64 ones (the same terms, summed in float64).
    X, y = _data()
    kw = dict(k=3, random_state=0, max_iter=30)
    if hidden is not None:
        kw["hidden_layer_sizes"] = hidden
    reg = L0Regressor(**kw).fit(X, y)
    clf = L0Classifier(**kw).fit(X, y > 0)
    X32 = np.random.RandomState(1).standard_normal((20000, 40)).astype(np.float32)
    X64 = X32.astype(np.float64)
    for method in (reg.predict, clf.decision_function, clf.predict_proba):
        out = method(X32)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, method(X64), rtol=1e-12, atol=1e-12)
        assert _peak_bytes(method, X32) < X32.nbytes  # (was 2 * X32.nbytes and more)
    np.testing.assert_array_equal(clf.predict(X32), clf.predict(X64))
