"""Property-based tests (hypothesis): every fit succeeds with a valid model or raises a
scikit-learn style error, never another exception and never NaN output.

Shapes (n 1..40, p 1..8), dtypes (float16/32/64, int32/64), values (with an
occasional NaN or infinity and an occasional scaled column), targets,
sample weights and parameters (k None or 1..p+1, lam "auto" or a float,
negative ones included) are drawn at random. ``EXAMPLES`` counts the
examples that ran and how each ended; the last test checks that enough
ran and prints the tally (``pytest -s`` shows it).
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor

EXAMPLES = Counter()
MESSAGES = Counter()
MAX_EXAMPLES = 150
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: CI failures reproduce
)
ESTIMATORS = {"L0Regressor": L0Regressor, "L0Classifier": L0Classifier,
              "L0FeatureSelector": L0FeatureSelector}
DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64]
BAD = [np.nan, np.inf, -np.inf]
# About one draw in ten (hypothesis shrinks toward the first, harmless, entry).
RARELY = st.sampled_from([False] * 9 + [True])


@st.composite
def problems(draw, kind, scales=(1.0, 1.0, 1.0, 1e-4, 1e4)):
    n = draw(st.integers(1, 40))
    p = draw(st.integers(1, 8))
    # fill=st.nothing() draws every entry (hypothesis would otherwise fill
    # most of an array with one value, i.e. constant columns).
    values = draw(arrays(np.float64, (n, p), elements=st.floats(
        -100, 100, allow_nan=False, allow_subnormal=False), fill=st.nothing()))
    dtype = draw(st.sampled_from(DTYPES))
    col_scale = np.array(draw(st.lists(st.sampled_from(scales), min_size=p, max_size=p)))
    if dtype == np.float16:  # keep inside float16's range (65504)
        col_scale = np.minimum(col_scale, 100.0)
    X = values * col_scale
    if draw(RARELY) and np.issubdtype(dtype, np.floating):
        X[draw(st.integers(0, n - 1)), draw(st.integers(0, p - 1))] = draw(st.sampled_from(BAD))
    with np.errstate(invalid="ignore", over="ignore"):
        X = X.astype(dtype)
    if kind == "L0Classifier" or (kind == "L0FeatureSelector" and draw(st.booleans())):
        n_classes = draw(st.sampled_from([2, 3, 1]))
        y = (np.arange(n) % n_classes)[draw(st.permutations(range(n)))]
        if draw(st.booleans()):
            y = np.array(["no", "yes", "maybe"], dtype=object)[y]
    else:
        y = draw(arrays(np.float64, n, elements=st.floats(-1e3, 1e3, allow_subnormal=False),
                        fill=st.nothing()))
        if draw(RARELY):
            y[draw(st.integers(0, n - 1))] = draw(st.sampled_from(BAD))
    sw = None
    if draw(st.booleans()):
        sw = draw(arrays(np.float64, n, elements=st.floats(0.1, 5, allow_subnormal=False),
                         fill=st.nothing()))
        if draw(RARELY):
            sw[draw(st.integers(0, n - 1))] = draw(st.sampled_from([0.0, -1.0, *BAD]))
        if draw(RARELY):
            sw[:] = 0.0
    k = draw(st.sampled_from([None, *range(1, p + 2)]))  # p + 1 is one too many
    lam = draw(st.sampled_from(["auto", 1e-3, 0.05, 0.0, 10.0, -0.1]))
    dtype_param = draw(st.sampled_from(["float32", "float64"]))
    params = dict(k=k, lam=lam, max_iter=20, dtype=dtype_param, random_state=0)
    return X, y, sw, params


def check_fit(kind, X, y, sw, params):
    est = ESTIMATORS[kind](**params)
    X_in, y_in = X.copy(), y.copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y, sample_weight=sw)
    except (ValueError, TypeError) as exc:  # InvalidParameterError is a ValueError
        assert str(exc), "an error without a message"
        EXAMPLES[f"{kind}: {type(exc).__name__}"] += 1
        MESSAGES[str(exc)[:60]] += 1
        event(f"raised {type(exc).__name__}")
        return
    finally:
        np.testing.assert_array_equal(X, X_in)
        np.testing.assert_array_equal(y, y_in)
    EXAMPLES[f"{kind}: fitted"] += 1
    event("fitted")
    n, p = X.shape
    support = est.get_support()
    assert support.dtype == bool and support.shape == (p,)
    if params["k"] is not None:  # exactly k with lam="auto"; a cap on a numeric lam
        k = min(params["k"], p)  # (k = p + 1 keeps every column, with a warning)
        if params["lam"] == "auto":
            assert support.sum() == k
        else:
            assert support.sum() <= k
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "L0FeatureSelector":
            assert est.transform(X).shape == (n, support.sum())
            est = est.estimator_
        out = est.predict(X)
    assert out.shape[0] == n
    coef = np.asarray(est.coef_)
    assert np.all(np.isfinite(coef)) and np.all(coef[..., ~support] == 0)
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        assert proba.shape == (n, len(est.classes_))
        assert np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-9)
        assert set(np.unique(out)) <= set(est.classes_)
    else:
        assert np.all(np.isfinite(out)), out


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_fit_is_valid_or_a_clear_error(kind):
    before = Counter(EXAMPLES)

    @SETTINGS
    @given(problems(kind))
    def run(problem):
        check_fit(kind, *problem)

    run()
    # This test's own draws (not other tests'): enough of them ran, and some fitted.
    ran = Counter(EXAMPLES)
    ran.subtract(before)
    mine = {key: n for key, n in ran.items() if key.startswith(f"{kind}: ") and n > 0}
    print(f"\n{kind}: hypothesis examples {dict(sorted(mine.items()))}")
    assert sum(mine.values()) >= 0.9 * MAX_EXAMPLES
    assert mine.get(f"{kind}: fitted", 0) > 0, f"no {kind} fit succeeded"


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_power_of_two_column_scaling_changes_nothing(kind):
    """Standardization makes a column's scale irrelevant: scaling columns by 2**e
    (exact in floating point) must give the same support and predictions, even
    for e = +-100 (beyond float32 squares) or +-600 (beyond float64 squares)."""

    @settings(SETTINGS, max_examples=25, phases=[Phase.explicit, Phase.generate])
    @given(problems(kind, scales=(1.0,)), st.data())
    def run(problem, data):
        X, y, sw, params = problem
        X = X.astype(np.float64)
        X[np.abs(X) < 1e-6] = 0.0  # no underflow at 2**-600
        p = X.shape[1]
        exps = np.array(data.draw(st.lists(st.sampled_from([0, 100, -100, 600, -600]),
                                           min_size=p, max_size=p)))
        Xs = np.ldexp(X, exps)
        outcomes = []
        for Xi in (X, Xs):
            est = ESTIMATORS[kind](**params)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est.fit(Xi, y, sample_weight=sw)
                    est = getattr(est, "estimator_", est)
                    outcomes.append((est.support_, est.predict(Xi)))
            except (ValueError, TypeError) as exc:
                outcomes.append(type(exc))
        EXAMPLES[f"{kind}: scaled pair"] += 1
        (a, b) = outcomes
        if isinstance(a, type) or isinstance(b, type):
            assert a == b
            return
        np.testing.assert_array_equal(a[0], b[0])
        if a[1].dtype.kind == "f":
            np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-12)
        else:
            np.testing.assert_array_equal(a[1], b[1])

    run()
