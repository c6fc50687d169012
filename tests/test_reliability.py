"""Reliability battery (issue 10).

Bad input gets a clear error (the input or parameter, the value seen, the
fix); nothing the caller passes is modified; a failed or interrupted fit
leaves the estimator as it was; a fitted model holds no torch state and
predicts without CUDA; the same seed gives the same result, in this
process and in another. Every public estimator runs through the same
cases; the cross-validated ones and ``SparseCalibrator`` join when they
are importable, and the command line through ``skl0.cli.main``.
docs/reliability.md lists every case with what happens.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import io
import json
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

import skl0
from skl0 import L0Classifier, L0FeatureSelector, L0Regressor
from skl0._train import NonFiniteLossError, _check_finite

# ------------------------------------------------------------------ set-up
FAST = dict(max_iter=20, random_state=0)
CV_FAST = dict(n_lams=3, cv=2, max_iter=15, random_state=0)

# name -> (factory, task, takes lam/k). The CV estimators choose lam
# themselves and have no k.
SPECS = {
    "L0Regressor": (lambda **kw: L0Regressor(**{**FAST, **kw}), "reg", True),
    "L0Classifier": (lambda **kw: L0Classifier(**{**FAST, **kw}), "clf", True),
    "L0FeatureSelector": (lambda **kw: L0FeatureSelector(**{**FAST, **kw}), "reg", True),
}


def _cv_factory(cls):
    return lambda **kw: cls(**{**CV_FAST, **kw})


for _name, _task in [
    ("L0RegressorCV", "reg"), ("L0ClassifierCV", "clf"), ("L0FeatureSelectorCV", "reg"),
]:
    if hasattr(skl0, _name):
        SPECS[_name] = (_cv_factory(getattr(skl0, _name)), _task, False)

ALL = list(SPECS)
WITH_K = [n for n in ALL if SPECS[n][2]]
PLAIN = ["L0Regressor", "L0Classifier", "L0FeatureSelector"]


def make(name, **params):
    return SPECS[name][0](**params)


def task(name):
    return SPECS[name][1]


def _data(n=40, p=5, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, p)
    y_reg = 2 * X[:, 0] - X[:, 1] + 0.1 * rng.randn(n)
    y_clf = (X[:, 0] - X[:, 1] + 0.3 * rng.randn(n) > 0).astype(int)
    return X, y_reg, y_clf


X0, Y_REG, Y_CLF = _data()


def target(name, n=None):
    y = Y_REG if task(name) == "reg" else Y_CLF
    return y if n is None else y[:n]


def output(est, X):
    """What a fitted estimator gives back: predictions, or the selected columns."""
    if hasattr(est, "predict"):
        out = est.predict(X)
        if hasattr(est, "predict_proba"):
            return np.column_stack([np.asarray(est.predict_proba(X)), out.astype(float)])
        return out
    return est.transform(X)


def assert_valid(est, X):
    """A usable fit: a boolean support of the right size, finite outputs of the right shape."""
    support = est.get_support()
    assert support.dtype == bool and support.shape == (np.shape(X)[1],)
    out = np.asarray(output(est, X), dtype=float)
    assert out.shape[0] == np.shape(X)[0]
    assert np.all(np.isfinite(out)), out
    coef = getattr(est, "coef_", None)
    if coef is not None:
        assert np.all(np.asarray(coef)[..., ~support] == 0)
    return out


def quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kw)


# ------------------------------------------------------- non-finite values
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nonfinite_X(name, value):
    X = X0.copy()
    X[3, 1] = value
    kind = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input X contains {kind}"):
        make(name).fit(X, target(name))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nonfinite_y(name, value):
    y = target(name).astype(float)
    y[3] = value
    kind = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input y contains {kind}"):
        make(name).fit(X0, y)


MISSING_LABELS = {
    "pd.NA in a string Series": lambda: pd.Series(["no", "yes"] * 20, dtype="string"),
    "None in an object array": lambda: np.array(["no", "yes"] * 20, dtype=object),
    "NaN in a text Series": lambda: pd.Series(["no", "yes"] * 20),
    "a missing category": lambda: pd.Series(pd.Categorical(["no", "yes"] * 20)),
}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("kind", list(MISSING_LABELS))
def test_missing_text_labels_are_refused_by_name(name, kind):
    # scikit-learn's own check compares the labels with themselves: pandas'
    # "boolean value of NA is ambiguous" (pd.NA) or a sort TypeError (None).
    y = MISSING_LABELS[kind]()
    y[7] = pd.NA if isinstance(y, pd.Series) else None
    y_before = y.copy()
    est = make(name, task="classification") if "Selector" in name else make(name)
    with pytest.raises(ValueError, match=r"y has 1 missing label .*first at row 7; drop"):
        est.fit(X0, y)
    assert not hasattr(est, "n_features_in_")
    if hasattr(est, "partial_fit"):
        kw = {} if name == "L0Regressor" else {"classes": ["no", "yes"]}
        with pytest.raises(ValueError, match="y has 1 missing label"):
            est.partial_fit(X0, y, **kw)
    assert y.equals(y_before) if isinstance(y, pd.Series) else (
        list(y) == list(y_before))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("columns", [1, 2])
def test_sparse_y_is_refused_with_the_fix(name, columns):
    # scikit-learn's validation passed a sparse y through: a classifier said
    # "got an array of shape () instead", the selector raised an IndexError
    # and a regressor "setting an array element with a sequence".
    import scipy.sparse as sp

    y = sp.csr_matrix(np.column_stack([Y_CLF] * columns))
    est = make(name)
    with pytest.raises(TypeError, match=rf"y is a scipy sparse matrix of shape \(40, {columns}\)"
                                        r"; skl0 takes a dense y\. Pass y\.toarray\(\)"):
        est.fit(X0, y)
    assert not hasattr(est, "n_features_in_")
    if hasattr(est, "partial_fit"):
        kw = {} if name != "L0Classifier" else {"classes": [0, 1]}
        with pytest.raises(TypeError, match="y is a scipy sparse matrix"):
            est.partial_fit(X0, y, **kw)
    if name == "L0FeatureSelector":
        with pytest.raises(TypeError, match="y is a scipy sparse matrix"):
            make(name, task="classification").fit(X0, y)


def test_missing_labels_are_refused_by_l0_path():
    y = pd.Series(["no", "yes"] * 20, dtype="string")
    y[3] = pd.NA
    with pytest.raises(ValueError, match="y has 1 missing label .*row 3"):
        skl0.l0_path(X0, y, n_lams=3)


def test_missing_labels_of_a_nullable_boolean_y_are_refused_with_the_fix():
    # pandas' "boolean" dtype passed as numeric: its pd.NA reached
    # scikit-learn's "Input y contains NaN", which names no fix.
    y = pd.Series(Y_CLF.astype(bool), dtype="boolean")
    y[5] = pd.NA
    for fit in (lambda: skl0.L0Classifier(k=1).fit(X0, y),
                lambda: skl0.L0FeatureSelector(k=1).fit(X0, y),
                lambda: skl0.L0FeatureSelector(k=1).partial_fit(X0, y)):
        with pytest.raises(ValueError, match="y has 1 missing label .*row 5.*y.notna"):
            fit()


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nonfinite_sample_weight(name, value):
    sw = np.ones(len(X0))
    sw[3] = value
    kind = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=f"Input sample_weight contains {kind}"):
        make(name).fit(X0, target(name), sample_weight=sw)


@pytest.mark.parametrize("name", ALL)
def test_negative_sample_weight(name):
    sw = np.ones(len(X0))
    sw[5] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        make(name).fit(X0, target(name), sample_weight=sw)


@pytest.mark.parametrize("name", ALL)
def test_all_zero_sample_weight(name):
    with pytest.raises(ValueError, match="(?i)sample.?weight.*non-zero|sample_weight must be"):
        make(name).fit(X0, target(name), sample_weight=np.zeros(len(X0)))


@pytest.mark.parametrize("name", PLAIN)
def test_some_zero_sample_weights_equal_dropping_rows(name):
    sw = np.ones(len(X0))
    sw[:5] = 0.0
    a = quiet_fit(make(name, dtype="float64"), X0, target(name), sample_weight=sw)
    b = quiet_fit(make(name, dtype="float64"), X0[5:], target(name)[5:])
    np.testing.assert_array_equal(a.get_support(), b.get_support())


@pytest.mark.parametrize("kw", [{}, {"k": 2}, {"lam": 0.01}])
@pytest.mark.parametrize("far", [1e16, 1e300])
def test_weightless_rows_with_huge_targets_equal_dropping_rows(kw, far):
    # A regression's target unit and moments come from the rows of positive
    # weight: weightless rows with y = 1e16 made the others' spread
    # round-off, so lam="auto" fitted a constant (no feature) where
    # dropping them kept the true two (streaming audit, session 30).
    rng = np.random.RandomState(0)
    X = rng.randn(200, 6)
    y = X[:, 0] + 2 * X[:, 1] + 0.5 * rng.randn(200)
    sw = np.ones(200)
    sw[:20] = 0.0
    y_far = y.copy()
    y_far[:20] = far
    a = L0Regressor(**kw).fit(X, y_far, sample_weight=sw)
    b = L0Regressor(**kw).fit(X[20:], y[20:])
    assert a.get_support(indices=True).tolist() == [0, 1]
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12)


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("far", [1e20, -1e50, 1e300])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_weightless_rows_with_huge_x_equal_dropping_rows(name, far, fmt):
    # A weight of 0 is a row left out: its values in X must not matter.
    # They set X's power-of-two column units and extremes, so 1e20 in one
    # column of a weightless row fitted that column at ~1e-22 of its spread
    # (diabetes k=4: coefficients 610 off the fit without the row).
    sw = np.ones(len(X0))
    sw[:5] = 0.0
    X = X0.copy()
    X[:5, 1] = far
    A = X if fmt == "dense" else sp.csr_matrix(X)
    a = quiet_fit(make(name, random_state=0), A, target(name), sample_weight=sw)
    b = quiet_fit(make(name, random_state=0), X0[5:], target(name)[5:])
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    est_a, est_b = (getattr(e, "estimator_", e) for e in (a, b))
    np.testing.assert_allclose(est_a.coef_, est_b.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(est_a.intercept_, est_b.intercept_, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ wrong types
@pytest.mark.parametrize("name", ALL)
def test_object_array_with_text(name):
    X = X0.astype(object)
    X[2, 3] = "abc"
    with pytest.raises(ValueError, match="could not convert string to float: 'abc'"):
        make(name).fit(X, target(name))


@pytest.mark.parametrize("name", ALL)
def test_object_array_of_numbers_fits_like_floats(name):
    a = quiet_fit(make(name), X0.astype(object), target(name))
    b = quiet_fit(make(name), X0, target(name))
    np.testing.assert_array_equal(a.get_support(), b.get_support())


def _frame(X=X0, columns=None):
    return pd.DataFrame(X, columns=columns or [f"f{j}" for j in range(X.shape[1])])


@pytest.mark.parametrize("name", ALL)
def test_text_column_is_a_value_error(name):
    df = _frame()
    df["city"] = ["Oslo", "Lima"] * (len(df) // 2)
    with pytest.raises(ValueError, match="(?i)string to float|non-numeric"):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("name", PLAIN)
def test_text_column_message_names_the_column_and_the_fix(name):
    df = _frame()
    df["city"] = ["Oslo", "Lima"] * (len(df) // 2)
    with pytest.raises(ValueError, match=r"non-numeric columns 'city'.*'Oslo'.*OneHotEncoder"):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("name", ALL)
def test_duplicated_column_names_are_a_value_error(name):
    df = _frame(columns=["a", "b", "a", "c", "d"])
    with pytest.raises(ValueError, match="(?i)unique column names|duplicated column"):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("name", PLAIN)
def test_duplicated_column_names_message_says_the_fix(name):
    df = _frame(columns=["a", "b", "a", "c", "d"])
    with pytest.raises(ValueError, match=r"duplicated column names 'a'.*unique name"):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("kind", ["datetime", "datetime_tz", "timedelta", "period", "interval",
                                  "arrow_timestamp", "arrow_duration", "arrow_time",
                                  "object_date", "object_time"])
def test_date_time_column_message_names_the_column_and_the_fix(name, kind):
    # numpy could not promote these to float (DTypePromotionError or a
    # TypeError on the Period, Timedelta or datetime.time objects), naming
    # neither X nor the column.
    import datetime

    df = _frame()
    n = len(df)
    days = pd.Series(pd.date_range("2020", periods=n))
    column = {
        "datetime": lambda: days,
        "datetime_tz": lambda: pd.date_range("2020", periods=n, tz="UTC"),
        "timedelta": lambda: pd.timedelta_range("1D", periods=n),
        "period": lambda: pd.period_range("2020", periods=n, freq="M"),
        "interval": lambda: pd.interval_range(0, n),
        "arrow_timestamp": lambda: days.astype("timestamp[us][pyarrow]"),
        "arrow_duration": lambda: (days - days.min()).astype("duration[us][pyarrow]"),
        "arrow_time": lambda: days.dt.time.astype("time64[us][pyarrow]"),
        "object_date": lambda: days.dt.date.astype(object),
        "object_time": lambda: [datetime.time(h % 24) for h in range(n)],
    }
    if kind.startswith("arrow"):
        pytest.importorskip("pyarrow")
    df["when"] = column[kind]()
    with pytest.raises(ValueError, match=r"date/time or interval columns 'when' \(e.g. dtype "
                                         r".*total_seconds"):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("kind", ["date", "datetime_tz", "duration", "time", "text", "category"])
def test_polars_frames_get_the_pandas_frames_refusals(name, kind):
    # scikit-learn reads a polars date, datetime or duration column as its
    # microseconds and fitted it without a word; text got numpy's "could not
    # convert string to float", naming neither X nor the column.
    pl = pytest.importorskip("polars")
    n = X0.shape[0]
    df = pl.DataFrame(X0, schema=[f"f{j}" for j in range(X0.shape[1])])
    days = pl.Series(18_000 + np.arange(n), dtype=pl.Int32).cast(pl.Date)
    column = {
        "date": days,
        "datetime_tz": days.cast(pl.Datetime("us", "UTC")),
        "duration": days - pl.date(2019, 1, 1),
        "time": pl.Series([f"{h % 24:02d}:00" for h in range(n)]).str.to_time("%H:%M"),
        "text": pl.Series(["Oslo", "Lima"] * (n // 2)),
        "category": pl.Series(["Oslo", "Lima"] * (n // 2), dtype=pl.Categorical),
    }[kind]
    df = df.with_columns(column.alias("when"))
    match = (r"non-numeric columns 'when' \(e.g. 'Oslo' in column 'when'\).*OneHotEncoder"
             if kind in ("text", "category") else
             r"date/time or interval columns 'when' \(e.g. dtype .*total_seconds")
    with pytest.raises(ValueError, match=match):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("make_y", [
    lambda n: pd.date_range("2020-01-01", periods=n),
    lambda n: pd.Series(pd.timedelta_range("1D", periods=n)),
    lambda n: pd.Series(pd.date_range("2020-01-01", periods=n, tz="UTC")),  # (objects)
])
@pytest.mark.parametrize("est", [L0Regressor, L0FeatureSelector, skl0.L0RegressorCV])
def test_a_date_or_time_regression_target_is_refused(est, make_y):
    # numpy read dates as nanoseconds since 1970 and the regressor fitted
    # those (all coefficients 0) without a word; a tz-aware target went to
    # the selector's classifier ("Unknown label type: unknown").
    y = make_y(X0.shape[0])
    with pytest.raises(ValueError, match=r"y holds dates or times \(dtype .*needs numbers\. "
                                         r"Convert y first, e.g. to seconds since"):
        est(max_iter=5).fit(X0, y)


def test_a_polars_lazy_frame_asks_for_collect():
    # numpy's "setting an array element with a sequence" named neither X nor the fix;
    # and the check resolved the query's schema first, so polars 2 warned
    # ("Resolving the schema of a LazyFrame is a potentially expensive operation")
    pl = pytest.importorskip("polars")
    lazy = pl.DataFrame(X0, schema=[f"f{j}" for j in range(X0.shape[1])]).lazy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no warning before the error)
        with pytest.raises(ValueError, match=r"X is a polars LazyFrame, a query not yet run; "
                                             r"pass X.collect\(\)"):
            L0Regressor(max_iter=5).fit(lazy, X0[:, 0])


@pytest.mark.parametrize("name", PLAIN)
def test_a_numeric_polars_frame_fits_as_its_array_with_its_names(name):
    pl = pytest.importorskip("polars")
    names = [f"f{j}" for j in range(X0.shape[1])]
    df = pl.DataFrame(X0, schema=names).with_columns(pl.col("f4").cast(pl.Float32))
    a = quiet_fit(make(name), df, target(name))
    b = quiet_fit(make(name), df.to_numpy(), target(name))
    assert list(a.feature_names_in_) == names
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    quiet_fit(make(name), df.with_columns(pl.Series("flag", [True, False] * (len(df) // 2))),
              target(name))


def test_check_frame_messages():
    from skl0._checks import check_frame

    df = _frame()
    check_frame(df)
    check_frame(X0)
    df["c"] = pd.Categorical(["u", "v"] * 20)
    with pytest.raises(ValueError, match=r"non-numeric columns 'c' \(e.g. 'u' in column 'c'\)"):
        check_frame(df)
    pa = pytest.importorskip("pyarrow")
    df["c"] = df["c"].astype(str).astype(pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string())))
    with pytest.raises(ValueError, match=r"non-numeric columns 'c' \(e.g. 'u' in column 'c'\)"):
        check_frame(df)  # numpy's "could not convert string to float" before
    with pytest.raises(ValueError, match="duplicated column names 'a'"):
        check_frame(_frame(columns=["a", "a", "b", "c", "d"]))
    check_frame(pd.DataFrame({"n": pd.Categorical([1, 2]), "o": pd.Series([1.0, 2.0], dtype=object)}))


@pytest.mark.parametrize("name", PLAIN)
def test_integer_column_names_fit_without_feature_names(name):
    df = pd.DataFrame(X0)  # columns 0..4: scikit-learn keeps no names
    est = quiet_fit(make(name), df, target(name))
    assert not hasattr(est, "feature_names_in_")
    assert_valid(est, df)


@pytest.mark.parametrize("name", PLAIN)
def test_mixed_column_name_types_say_how_to_fix(name):
    df = _frame(columns=["a", 1, "b", 2, "c"])
    with pytest.raises(TypeError, match=r"X.columns = X.columns.astype\(str\)"):
        make(name).fit(df, target(name))


@pytest.mark.parametrize("dtype", [object, str])
def test_regressor_with_text_target_points_to_the_classifier(dtype):
    # (a numpy string array's message named np.str_('lo'), numpy's repr)
    y = np.array(["lo", "hi"] * 20, dtype=dtype)
    with pytest.raises(ValueError, match=r"y must be numeric.*: 'lo'\. .*L0Classifier"):
        L0Regressor(**FAST).fit(X0, y)


# -------------------------------------------------------------------- shapes
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "shape, match",
    [
        ((0, 5), r"0 sample\(s\) \(shape=\(0, 5\)\) while a minimum of 2"),
        ((1, 5), r"1 sample\(s\) \(shape=\(1, 5\)\) while a minimum of 2"),
        ((40, 0), r"0 feature\(s\) \(shape=\(40, 0\)\) while a minimum of 1"),
    ],
)
def test_too_small_X(name, shape, match):
    X = np.zeros(shape) if shape[1] == 0 else X0[: shape[0]]
    with pytest.raises(ValueError, match=match):
        make(name).fit(X, target(name, shape[0]))


@pytest.mark.parametrize("name", PLAIN)
def test_two_samples_fit(name):
    y = np.array([0.0, 1.0]) if task(name) == "reg" else np.array([0, 1])
    assert_valid(quiet_fit(make(name), X0[:2], y), X0[:2])


@pytest.mark.parametrize("name", ALL)
def test_single_feature(name):
    est = quiet_fit(make(name), X0[:, :1], target(name))
    assert_valid(est, X0[:, :1])
    assert est.get_support().tolist() == [True]


@pytest.mark.parametrize("name", WITH_K)
def test_constant_columns_are_never_chosen_before_informative_ones(name):
    X = X0.copy()
    X[:, 2] = 7.0
    X[:, 4] = -1e-3
    est = quiet_fit(make(name, k=2), X, target(name))
    assert_valid(est, X)
    assert est.get_support(indices=True).tolist() == [0, 1]
    lam_est = quiet_fit(make(name), X, target(name))
    assert not lam_est.get_support()[[2, 4]].any()


@pytest.mark.parametrize("name", ["L0Regressor", "L0Classifier"])
def test_all_constant_X_predicts_the_weighted_base_rate(name):
    X = np.full((40, 3), 5.0)
    y = target(name)
    for k in (None, 2):
        est = quiet_fit(make(name, k=k), X, y)
        out = assert_valid(est, X)
        assert est.get_support().sum() == (0 if k is None else 2)
        if name == "L0Regressor":
            np.testing.assert_allclose(out, y.mean(), rtol=1e-5)
        else:
            np.testing.assert_allclose(est.predict_proba(X)[:, 1], y.mean(), rtol=1e-3)


@pytest.mark.parametrize("name", ["L0Regressor", "L0Classifier"])
def test_constant_columns_get_exactly_zero_coefficients(name):
    X = X0.copy()
    X[:, [1, 3]] = [5.0, -0.1]
    for Xi, k in ((X, 5), (np.full((40, 3), 5.0), 2)):
        est = quiet_fit(make(name, k=k), Xi, target(name))
        const = np.ptp(Xi, axis=0) == 0
        assert np.all(np.asarray(est.coef_)[..., const] == 0.0)


# --------------------------------------------------------------- parameters
@pytest.mark.parametrize("name", WITH_K)
def test_k_larger_than_n_features(name):
    with pytest.warns(UserWarning, match=r"k=6 is larger.*n_features=5.*all 5 are kept.*k <= 5"):
        est = make(name, k=6).fit(X0, target(name))
    assert est.get_support().all()
    # beside a number lam, k is a cap that no longer binds: lam selects
    if "lam" in make(name).get_params():
        with pytest.warns(UserWarning, match=r"k=6 is larger.*cap on lam=0.3 it does not bind"):
            est = make(name, k=6, lam=0.3).fit(X0, target(name))
        assert est.get_support().sum() < 5


@pytest.mark.parametrize("name", WITH_K)
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(k=0), r"'k' parameter.*>= 1|'k' parameter.*\[1, inf\).*Got 0"),
        (dict(k=-2), r"'k' parameter.*Got -2"),
        (dict(lam=-0.5), r"'lam' parameter.*\[0.0, inf\).*Got -0.5"),
        (dict(lam=float("nan")), r"'lam' parameter"),
        (dict(lam="big"), r"'lam' parameter.*'auto'"),
    ],
)
def test_bad_parameters_are_named(name, params, match):
    with pytest.raises(ValueError, match=match):
        make(name, **params).fit(X0, target(name))


@pytest.mark.parametrize("name", WITH_K)
@pytest.mark.parametrize("k", [1, 5])
def test_exactly_k_features(name, k):
    est = quiet_fit(make(name, k=k), X0, target(name))
    assert_valid(est, X0)
    assert est.get_support().sum() == k


@pytest.mark.parametrize("name", [n for n in ALL if task(n) == "clf"] + ["L0FeatureSelector"])
def test_single_class(name):
    with pytest.raises(ValueError, match=r"single class \(.*0.*\).*at least 2 classes"):
        make(name).fit(X0, np.zeros(len(X0), dtype=int))


def test_k_above_the_columns_keeps_them_all_with_a_warning_as_selectkbest():
    # Meta-estimators hand an estimator fewer columns than its k: Bagging's
    # max_features, RFE below k, SequentialFeatureSelector from one column.
    # fit raised "k=3 is larger than the number of features" there.
    from sklearn.ensemble import BaggingClassifier
    from sklearn.feature_selection import RFE, SequentialFeatureSelector

    rng = np.random.RandomState(0)
    X = rng.randn(120, 6)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    yr = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.randn(120)
    with pytest.warns(UserWarning, match=r"k=3 is larger than the number of features in X "
                                         r"\(n_features=2\); all 2 are kept.*k <= 2"):
        est = L0Classifier(k=3, random_state=0).fit(X[:, :2], y)
    assert est.support_.all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bag = BaggingClassifier(L0Classifier(k=3, random_state=0), n_estimators=3,
                                max_features=2, random_state=0).fit(X, y)
        assert bag.score(X, y) > 0.7
        rfe = RFE(L0Regressor(k=4, random_state=0), n_features_to_select=2).fit(X, yr)
        np.testing.assert_array_equal(rfe.get_support(indices=True), [0, 1])
        sfs = SequentialFeatureSelector(L0Classifier(k=3, random_state=0),
                                        n_features_to_select=2, cv=2).fit(X, y)
        assert sfs.get_support().sum() == 2
    # k counts groups with groups=: 4 of 3 groups keeps the 3
    with pytest.warns(UserWarning, match=r"k=4 is larger than the number of groups "
                                         r"\(n_groups=3\); all 3 are kept"):
        grouped = L0Regressor(k=4, groups=[0, 0, 1, 1, 2, 2], random_state=0).fit(X, yr)
    assert grouped.group_support_.all() and grouped.support_.all()
    assert grouped.get_params()["k"] == 4 and est.get_params()["k"] == 3  # params untouched


def test_lam_auto_size_cap_warning_only_where_features_are_left_out():
    from skl0._criteria import max_support_size

    rng = np.random.RandomState(0)
    x = rng.randn(100, 1)
    # One column kept of one: nothing more can be relevant (it warned, and
    # suggested k=2, which fit refuses).
    for est, y in ((L0Regressor(random_state=0), 2 * x[:, 0] + 0.1 * rng.randn(100)),
                   (L0Classifier(random_state=0), (x[:, 0] > 0).astype(int))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert est.fit(x, y).support_.sum() == 1
    # Five of six kept at the cap of 5: the warning's example k stays <= p.
    X = rng.randn(10, 6)
    y = X[:, :5] @ [3.0, -2.0, 2.0, 1.5, 2.5] + 0.01 * rng.randn(10)
    with pytest.warns(UserWarning, match=r"the most its information.*\(e\.g\. k=6\)"):
        assert L0Regressor(random_state=0).fit(X, y).support_.sum() == 5
    # Every path point past the cap (n=2, 3, 4): the choice stays within it
    # (n=2 kept 2 columns, past its cap of 1).
    for n in (2, 3, 4):
        X = rng.randn(n, 5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = L0Regressor(random_state=0).fit(X, X[:, 0] + 0.1 * rng.randn(n))
        assert 1 <= est.support_.sum() <= max_support_size(n, 5)


@pytest.mark.parametrize("Est", [L0Regressor, L0Classifier])
@pytest.mark.parametrize("n", [3, 4])
def test_lam_auto_keeps_no_support_whose_refit_interpolates(Est, n):
    from skl0._criteria import max_support_size

    # With 3 or 4 rows and 3 columns the cap n / log p admitted n - 1
    # features, whose refit with its intercept fits every row (RSS 0, or a
    # separable log loss near 0): EBIC scored that best whatever y, and
    # lam='auto' kept [1 2] (n=3) or every column (n=4) for y = x0 + noise.
    rng = np.random.RandomState(0)
    X = rng.randn(n, 3)
    y = X[:, 0] + 0.1 * rng.randn(n) if Est is L0Regressor else np.arange(n) % 2
    assert max_support_size(n, 3) == n - 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = Est(random_state=0).fit(X, y)
    assert est.support_.sum() <= n - 2
    said = [str(w.message) for w in caught if "the most its information" in str(w.message)]
    assert all(f"n - 2 = {n - 2}: one more, with the intercept, would interpolate" in m
               for m in said)


def test_a_constant_whole_number_target_under_task_auto_names_task_regression():
    # task="auto" reads whole numbers as class labels; a constant one was
    # refused as "a single class" without saying that task="regression"
    # fits it (as L0Regressor does).
    y = np.full(len(X0), 3.0)
    for fit in (lambda: L0FeatureSelector(k=2, max_iter=30, random_state=0).fit(X0, y),
                lambda: skl0.l0_path(X0, y, n_lams=3, max_iter=30, random_state=0)):
        with pytest.raises(ValueError, match=r"single class \(3\.0\).*task='regression'"):
            fit()
    sel = L0FeatureSelector(k=2, task="regression", max_iter=30, random_state=0).fit(X0, y)
    assert sel.get_support().sum() == 2


@pytest.mark.parametrize("name", [n for n in ALL if task(n) == "reg"])
def test_constant_regression_target_predicts_it(name):
    est = quiet_fit(make(name), X0, np.full(len(X0), 3.25))
    np.testing.assert_allclose(est.predict(X0) if hasattr(est, "predict")
                               else est.estimator_.predict(X0), 3.25)


@pytest.mark.parametrize("name", ALL)
def test_y_length_mismatch(name):
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[40, 30\]"):
        make(name).fit(X0, target(name, 30))


@pytest.mark.parametrize("name", ALL)
def test_sample_weight_length_mismatch(name):
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(30,\), expected \(40,\)"):
        make(name).fit(X0, target(name), sample_weight=np.ones(30))


# -------------------------------------------------------- extreme magnitudes
def _same_fit(a, b, Xa, Xb):
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    np.testing.assert_allclose(
        np.asarray(output(a, Xa), float) / (1 if hasattr(a, "predict") else np.abs(Xa).max()),
        np.asarray(output(b, Xb), float) / (1 if hasattr(b, "predict") else np.abs(Xb).max()),
        rtol=1e-3, atol=1e-3,  # float32 training on rounded-differently data
    )


@pytest.mark.parametrize("name", PLAIN)
@pytest.mark.parametrize("scale", [1e-30, 1e30, 1e-200, 1e200])
def test_extreme_X_fits_as_if_standardized(name, scale):
    ref = quiet_fit(make(name), X0, target(name))
    est = quiet_fit(make(name), X0 * scale, target(name))
    assert_valid(est, X0 * scale)
    _same_fit(ref, est, X0, X0 * scale)


@pytest.mark.parametrize("name", ALL)
def test_a_kept_subnormal_column_names_itself_instead_of_divergence(name):
    # Values near 1e-310 (subnormal floats) need a coefficient near 1e310 per
    # unit of X, past float64: reported as "training diverged", with advice
    # to lower learning_rate_init. The same column as noise fits as before.
    # The selectors and the CV estimators fit their estimator_ (and folds)
    # on the validated array: they named the column 0, not 'x0'.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=40)
    y = (y > 0).astype(int) if task(name) == "clf" else y
    Xs = X.copy()
    Xs[:, 0] *= 1e-310
    frame = pd.DataFrame(Xs, columns=[f"x{j}" for j in range(5)])
    for data, col in ((Xs, "column 0 "), (frame, "column 'x0' ")):
        est = make(name)
        with pytest.raises(ValueError, match=f"X's {col}does not fit in float64.*StandardScaler"):
            quiet_fit(est, data, y)
        assert not hasattr(est, "support_")  # nothing half-fitted is left behind
    if name == "L0FeatureSelector":  # its stream's estimator too
        with pytest.raises(ValueError, match="X's column 'x0' does not fit in float64"):
            make(name).partial_fit(frame, y)
    noise = X.copy()
    noise[:, 4] = rng.normal(size=40) * 1e-310
    # A CV fold's path starts dense: its small lams keep the noise column,
    # whose fold models were refused (and the whole fit with them). They are
    # scored in the fold fit's units: the choice is the one made on the
    # column rescaled by an exact power of two (here one that drops it).
    params = {} if name in PLAIN else {"n_lams": 6}
    est = quiet_fit(make(name, **params), noise, y)
    assert np.isfinite(output(est, noise)).all() and not est.get_support()[4]
    if name not in PLAIN:
        scaled = noise.copy()
        scaled[:, 4] = np.ldexp(scaled[:, 4], 1040)
        ref = quiet_fit(make(name, **params), scaled, y)
        assert est.lam_ == ref.lam_
        # (to round-off: the regressors' folds build their Gram problems
        # from shared sums, in which the two columns' units differ)
        np.testing.assert_allclose(est.cv_results_["mean_test_score"],
                                   ref.cv_results_["mean_test_score"], rtol=1e-13)
    if name == "L0RegressorCV":  # with 3 lams it chooses a support that keeps it: refused
        assert quiet_fit(make(name), scaled, y).get_support()[4]
        with pytest.raises(ValueError, match="X's column 4 does not fit in float64"):
            quiet_fit(make(name), noise, y)


@pytest.mark.parametrize("case", ["copies", "screened"])
def test_a_kept_subnormal_column_is_named_by_its_place_in_X_in_a_fit_on_some_columns(case):
    # A fit on the first copies of duplicated columns, or on the screened
    # columns, named the column by its place among those (2 / 'x2' here,
    # where X's column 3 or 50 holds the values).
    rng = np.random.default_rng(0)
    if case == "copies":
        X = rng.normal(size=(40, 6))
        X[:, 2] = X[:, 1]  # a later copy: not a candidate
        j, make_est = 3, lambda: L0Regressor(k=2)
    else:
        X = rng.normal(size=(40, 100))  # p > n with lam="auto": screened columns
        j, make_est = 50, lambda: L0Regressor()
    y = X[:, j] - X[:, 0] + 0.3 * rng.normal(size=40)
    X[:, j] *= 1e-310
    frame = pd.DataFrame(X, columns=[f"x{c}" for c in range(X.shape[1])])
    for data, col in ((X, f"column {j} "), (frame, f"column 'x{j}' ")):
        with pytest.raises(ValueError, match=f"X's {col}does not fit in float64"):
            quiet_fit(make_est(), data, y)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("view", ["rows", "columns", "flip"])
def test_negative_stride_views_fit_as_their_copies(name, view):
    # X[::-1], X[:, ::-1], np.flip(X) (and pandas' df[["b", "a"]] or
    # df.iloc[::-1]) are views torch cannot wrap; scikit-learn takes them.
    Xv = {"rows": X0[::-1], "columns": X0[:, ::-1], "flip": np.flip(X0)}[view]
    y = target(name)[::-1] if view in ("rows", "flip") else target(name)
    assert any(st < 0 for st in Xv.strides)
    est = quiet_fit(make(name), Xv, y)
    ref = quiet_fit(make(name), np.ascontiguousarray(Xv), y.copy())
    np.testing.assert_array_equal(est.get_support(), ref.get_support())
    # Exactly: the fit copies the view once validated (numpy would sum the
    # view in another order than the copy, and some kernels round that apart).
    np.testing.assert_array_equal(output(est, Xv), output(ref, Xv))


@pytest.mark.parametrize("head", [None, (4,)])
def test_negative_stride_views_in_partial_fit(head):
    kw = {} if head is None else {"hidden_layer_sizes": head}
    a = make("L0Classifier", **kw)
    b = make("L0Classifier", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.partial_fit(X0[:, ::-1], Y_CLF, classes=[0, 1])
        b.partial_fit(np.ascontiguousarray(X0[:, ::-1]), Y_CLF, classes=[0, 1])
    np.testing.assert_array_equal(a.predict_proba(X0), b.predict_proba(X0))


@pytest.mark.parametrize("name", PLAIN)
def test_extreme_X_never_gives_nan(name):
    """Whatever the base does with 1e30-sized columns, the result is finite or an error."""
    for scale in (1e30, 1e-30, 1e200):
        try:
            est = quiet_fit(make(name), X0 * scale, target(name))
        except (ValueError, FloatingPointError) as exc:
            assert "learning_rate_init" in str(exc) or "X" in str(exc)
        else:
            assert_valid(est, X0 * scale)


@pytest.mark.parametrize("name", [n for n in ALL if task(n) == "reg"])
@pytest.mark.parametrize("scale", [1e-30, 1e30, 1e-200, 1e200])
def test_extreme_y_fits_as_if_standardized(name, scale):
    ref = quiet_fit(make(name), X0, Y_REG)
    est = quiet_fit(make(name), X0, Y_REG * scale)
    np.testing.assert_array_equal(ref.get_support(), est.get_support())
    if hasattr(est, "predict"):
        pred = est.predict(X0)
        assert np.all(np.isfinite(pred))
        np.testing.assert_allclose(pred / scale, ref.predict(X0), rtol=1e-5, atol=1e-8)


def test_regressor_score_survives_huge_targets():
    est = quiet_fit(make("L0Regressor"), X0, Y_REG)
    ref = est.score(X0, Y_REG)
    big = quiet_fit(make("L0Regressor"), X0, Y_REG * 1e200)
    assert big.score(X0, Y_REG * 1e200) == pytest.approx(ref, rel=1e-6)
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples"):
        est.score(X0, Y_REG[:30])


def test_regressor_score_checks_y_as_r2_score_does():
    # It returned NaN for a NaN or infinite y, and numpy's reshape error for
    # a y with another number of outputs than the model's.
    est = quiet_fit(make("L0Regressor"), X0, Y_REG)
    for bad, match in [(np.nan, "Input y contains NaN"), (np.inf, "Input y contains infinity")]:
        y = Y_REG.copy()
        y[3] = bad
        with pytest.raises(ValueError, match=match):
            est.score(X0, y)
    with pytest.raises(ValueError, match=r"predicts 1 output\(s\).*shape \(n_samples,\)"):
        est.score(X0, np.column_stack([Y_REG, Y_REG]))
    assert est.score(X0, Y_REG[:, None]) == est.score(X0, Y_REG)  # one column is one output
    two = quiet_fit(make("L0Regressor"), X0, np.column_stack([Y_REG, -Y_REG]))
    with pytest.raises(ValueError, match=r"predicts 2 output\(s\).*\(n_samples, 2\)"):
        two.score(X0, Y_REG)


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith("CV")])
def test_cv_with_only_nan_scores_says_so(name):
    with pytest.raises(ValueError, match="(?i)score.*NaN"):
        quiet_fit(make(name, scoring=lambda est, X, y: np.nan), X0, target(name))


# ----------------------------------------------------------- dtypes, sparse
@pytest.mark.parametrize("name", PLAIN)
def test_float16_X(name):
    X16 = X0.astype(np.float16)
    est = quiet_fit(make(name), X16, target(name))
    ref = quiet_fit(make(name), X16.astype(np.float64), target(name))
    assert_valid(est, X16)
    np.testing.assert_array_equal(est.get_support(), ref.get_support())


@pytest.mark.parametrize("name", PLAIN)
def test_integer_X(name):
    Xi = np.round(X0 * 10).astype(np.int64)
    est = quiet_fit(make(name), Xi, target(name))
    ref = quiet_fit(make(name), Xi.astype(np.float64), target(name))
    assert_valid(est, Xi)
    np.testing.assert_array_equal(est.get_support(), ref.get_support())
    np.testing.assert_array_equal(output(est, Xi), output(ref, Xi.astype(float)))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_with_explicit_zeros(name, fmt):
    X = X0.copy()
    X[np.abs(X) < 0.5] = 0.0
    S = sp.csr_matrix(X)
    S.data[::7] = 0.0  # explicit zeros that stay in the structure
    assert S.nnz > np.count_nonzero(S.toarray())
    S = S.asformat(fmt)
    data_before = S.data.copy()
    try:
        est = quiet_fit(make(name, dtype="float64"), S, target(name))
    except (TypeError, ValueError) as exc:
        assert "parse" in str(exc)  # "Sparse data was passed ... dense data is required"
        return
    np.testing.assert_array_equal(S.data, data_before)
    ref = quiet_fit(make(name, dtype="float64"), S.toarray(), target(name))
    np.testing.assert_array_equal(est.get_support(), ref.get_support())
    out = output(est, S)
    out = out.toarray() if sp.issparse(out) else out
    np.testing.assert_allclose(out, output(ref, S.toarray()), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ predict
def _fitted(name, X=X0, **params):
    return quiet_fit(make(name, **params), X, target(name))


@pytest.fixture(scope="module")
def fitted():
    return {name: _fitted(name) for name in ALL}


@pytest.fixture(scope="module")
def fitted_frames():
    return {name: _fitted(name, _frame()) for name in ALL}


@pytest.mark.parametrize("name", ALL)
def test_predict_with_wrong_number_of_columns(name, fitted):
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 5 features"):
        output(fitted[name], X0[:, :4])


@pytest.mark.parametrize("name", ALL)
def test_predict_with_columns_in_another_order(name, fitted_frames):
    df = _frame()
    with pytest.raises(ValueError, match="(?s)feature names should match.*same order"):
        output(fitted_frames[name], df[df.columns[::-1]])


@pytest.mark.parametrize("name", ALL)
def test_predict_with_a_renamed_column(name, fitted_frames):
    df = _frame().rename(columns={"f2": "other"})
    with pytest.raises(ValueError, match="(?s)Feature names unseen at fit time.*other"):
        output(fitted_frames[name], df)


@pytest.mark.parametrize("name", ALL)
def test_predict_ndarray_after_frame_warns_but_works(name, fitted_frames):
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        out = output(fitted_frames[name], X0)
    np.testing.assert_allclose(out, output(fitted_frames[name], _frame()), rtol=1e-12)


@pytest.mark.parametrize("name", ALL)
def test_predict_before_fit(name):
    with pytest.raises(NotFittedError):
        output(make(name), X0)


@pytest.mark.parametrize("name", ALL)
def test_predict_with_nan(name, fitted):
    X = X0.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        output(fitted[name], X)


# ---------------------------------------------- pickling, torch state, CUDA
_TORCH_TYPES = (torch.Tensor, torch.nn.Module, torch.Generator, torch.device, torch.dtype)


def _torch_objects(obj, path="est", seen=None):
    """Paths of every torch object reachable from ``obj`` through attributes and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, _TORCH_TYPES):
        return [path]
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            found += _torch_objects(v, f"{path}[{k!r}]", seen)
    elif isinstance(obj, (list, tuple, set)):
        for i, v in enumerate(obj):
            found += _torch_objects(v, f"{path}[{i}]", seen)
    elif isinstance(obj, np.ndarray) and obj.dtype == object:
        for i, v in enumerate(obj.ravel()):
            found += _torch_objects(v, f"{path}.flat[{i}]", seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        for k, v in vars(obj).items():
            found += _torch_objects(v, f"{path}.{k}", seen)
    return found


class _ModuleRecorder(pickle.Unpickler):
    def __init__(self, blob):
        super().__init__(io.BytesIO(blob))
        self.modules = set()

    def find_class(self, module, name):
        self.modules.add(module)
        return super().find_class(module, name)


@pytest.mark.parametrize("name", ALL)
def test_fitted_state_holds_no_torch(name, fitted):
    est = fitted[name]
    assert _torch_objects(est) == []
    rec = _ModuleRecorder(pickle.dumps(est))
    rec.load()
    assert not any(m == "torch" or m.startswith("torch.") for m in rec.modules), rec.modules


@pytest.mark.parametrize("name", ALL)
def test_pickled_model_predicts_where_cuda_is_missing(name, fitted, monkeypatch):
    """Stands in for "fitted on CUDA, loaded on a CPU-only machine"."""
    est = fitted[name]
    blob = pickle.dumps(est)
    expected = output(est, X0)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    loaded = pickle.loads(blob)
    np.testing.assert_array_equal(output(loaded, X0), expected)
    assert loaded.get_params() == est.get_params()


@pytest.mark.parametrize("name", PLAIN)
def test_auto_device_falls_back_to_cpu(name, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    est = quiet_fit(make(name, device="auto"), X0, target(name))
    assert est.device == "auto"  # fit never writes back into a parameter
    assert_valid(est, X0)


# ------------------------------------------------------------------ devices
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "device, match",
    [
        ("tpu", r"device='tpu' is not a device torch knows.*'cpu', 'cuda'"),
        ("banana", r"device='banana' is not a device torch knows.*'cpu', 'cuda'"),
        ("CUDA", r"device='CUDA' is not a device torch knows"),
        ("meta", r"device='meta' is not available on this machine.*device='cpu'"),
        ("mps", r"device='mps' is not available on this machine.*device='cpu'"),
        ("cuda", r"device='cuda' was requested but CUDA is not available.*device='cpu'"),
        ("cuda:3", r"device='cuda:3' was requested but CUDA is not available"),
    ],
)
def test_missing_device(name, device, match, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ValueError, match=match):
        make(name, device=device).fit(X0, target(name))


def test_cuda_index_beyond_the_devices_present(monkeypatch):
    from skl0._device import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"device='cuda:3'.*only 1 CUDA device\(s\).*below 1"):
        resolve_device("cuda:3")
    assert resolve_device("cuda:0") == torch.device("cuda:0")


def test_device_must_be_a_string():
    with pytest.raises(ValueError, match="'device' parameter"):
        L0Regressor(device=0, **FAST).fit(X0, Y_REG)


# --------------------------------------------------------------- divergence
@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("lam", ["auto", 0.01])
@pytest.mark.parametrize("dtype", ["float32", None])
def test_divergence_raises_with_the_cause(name, lam, dtype):
    # Adam trains MLP heads; a linear head's deterministic L-BFGS-B solve
    # has no learning rate to blow up (next test). In float32 the loss ends
    # in nan/inf; in float64 (dtype=None on float64 X, issue 15) it stayed
    # finite (1e58) and returned a useless model: now "grew from ... to".
    if name.endswith("CV"):
        pytest.skip("CV estimators have linear heads only: no step size (next test)")
    params = dict(learning_rate_init=1e30, hidden_layer_sizes=(4,), dtype=dtype)
    if SPECS[name][2]:
        params["lam"] = lam
    elif lam != "auto":
        pytest.skip("the CV estimators choose lam")
    with pytest.raises(NonFiniteLossError, match=r"(became (nan|inf)|grew from .* training "
                                                 r"diverged).*lower learning_rate_init"):
        quiet_fit(make(name, **params), X0, target(name))


@pytest.mark.parametrize("name", ALL)
def test_linear_heads_ignore_the_learning_rate(name):
    # The gate engine of linear heads is L-BFGS-B on a deterministic
    # objective: learning_rate_init does not enter it.
    a = quiet_fit(make(name, learning_rate_init=1e30), X0, target(name))
    b = quiet_fit(make(name), X0, target(name))
    np.testing.assert_array_equal(a.get_support(), b.get_support())


def test_nonfinite_objective_of_the_gate_engine_is_detected():
    from skl0._datafits import SquaredLoss
    from skl0._engine import solve_gates
    from skl0._heads import LinearHead
    from skl0._problem import DirectProblem
    from skl0.nn import FeatureGate

    X = torch.tensor([[1.0, 2.0], [3.0, float("inf")], [0.0, 1.0]], dtype=torch.float64)
    y = torch.zeros(3, 1, dtype=torch.float64)
    w = torch.full((3,), 1 / 3, dtype=torch.float64)
    mean, std = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    problem = DirectProblem(X, y, w, mean, std, SquaredLoss())
    problem._second_moments = torch.ones(2, dtype=torch.float64)
    gate, head = FeatureGate(2).double(), LinearHead(2, 1).double()
    with torch.no_grad():
        head.weight.fill_(1.0)
    with pytest.raises(NonFiniteLossError, match="became (nan|inf)"):
        solve_gates(problem, gate, head, 0.01, alpha=0.0, max_iter=10,
                    check=lambda v, it: _check_finite(v, it, 0.01))


def test_nonfinite_loss_error_is_a_floating_point_error():
    assert issubclass(NonFiniteLossError, FloatingPointError)


def test_nonfinite_weights_are_refused_at_export():
    from skl0._numerics import check_finite_layers

    ok = [(np.ones((2, 1)), np.zeros(1))]
    assert check_finite_layers(ok) is ok
    with pytest.raises(NonFiniteLossError, match="non-finite weights.*layer 1"):
        check_finite_layers(ok + [(np.array([[np.nan]]), np.zeros(1))])


# ------------------------------------------- caller's data is never modified
@pytest.mark.parametrize("name", ALL)
def test_arrays_are_not_modified_and_may_be_read_only(name):
    X = np.asfortranarray(X0.astype(np.float32))
    y = target(name).copy()
    sw = np.linspace(0.5, 2.0, len(X))
    copies = [a.copy() for a in (X, y, sw)]
    for a in (X, y, sw):
        a.setflags(write=False)
    est = quiet_fit(make(name), X, y, sample_weight=sw)
    output(est, X)
    for a, c in zip((X, y, sw), copies):
        np.testing.assert_array_equal(a, c)
        assert a.dtype == c.dtype


def test_read_only_x_and_absent_weights_fit_as_their_writable_and_unit_forms():
    # The host problem wraps a writable X without silencing torch's warning
    # about read-only arrays (there is none to silence), a read-only one with
    # it; and no sample_weight skips the checks that unit weights always pass.
    # Both fit exactly as the other form, and no warning escapes.
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    frozen = X.copy()
    frozen.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fits = [L0Regressor(k=4).fit(X, y), L0Regressor(k=4).fit(frozen, y),
                L0Regressor(k=4).fit(X, y, sample_weight=np.ones(len(y)))]
    for est in fits[1:]:
        np.testing.assert_array_equal(est.coef_, fits[0].coef_)
        assert est.intercept_ == fits[0].intercept_
    with pytest.raises(ValueError, match="sample_weight"):  # (given weights: still checked)
        L0Regressor(k=4).fit(X, y, sample_weight=np.full(len(y), np.nan))


@pytest.mark.parametrize("name", ALL)
def test_frames_are_not_modified(name):
    df = _frame()
    df["f1"] = df["f1"].astype(np.float32)
    ys = pd.Series(target(name), name="target", index=np.arange(100, 140))
    df.index = ys.index
    df_copy, ys_copy = df.copy(deep=True), ys.copy(deep=True)
    est = quiet_fit(make(name), df, ys)
    output(est, df)
    pd.testing.assert_frame_equal(df, df_copy)
    pd.testing.assert_series_equal(ys, ys_copy)


# ----------------------------------- a failed or interrupted fit changes nothing
def _state(est):
    """Everything but the hyperparameters, as bytes."""
    params = est.get_params(deep=False)
    return pickle.dumps({k: v for k, v in vars(est).items() if k not in params})


_SKL0 = str(Path(skl0.__file__).parent)


class _CtrlC:
    """Ctrl-C at a chosen moment of a run: a KeyboardInterrupt at the ``at``-th
    call of a Python function of skl0 (from 1; ``None`` only counts the calls).

    Python's profiler hook (``sys.setprofile``) sees every call, so nothing of
    skl0 is patched or named: the fit runs as a user runs it, and the interrupt
    arrives where a real one can, between two Python calls. Generator frames
    are not counted: on Python 3.10 an exception raised by the hook as a
    generator starts is swallowed (``all(... for ...)`` then returns). With ``watch``,
    ``writes`` lists the calls at which an attribute of ``watch`` had changed
    since the call before (a fit writing its results).
    """

    def __init__(self, at=None, watch=None):
        self.at, self.calls, self.watch, self.writes = at, 0, watch, []
        self._seen = self._attributes()

    def _attributes(self):
        return None if self.watch is None else {k: id(v) for k, v in vars(self.watch).items()}

    def _hook(self, frame, event, arg):
        if (event != "call" or not frame.f_code.co_filename.startswith(_SKL0)
                or frame.f_code.co_flags & inspect.CO_GENERATOR):
            return
        self.calls += 1
        if self.watch is not None:
            seen = self._attributes()
            if seen != self._seen:
                self.writes.append(self.calls)
                self._seen = seen
        if self.at is not None and self.calls >= self.at:
            sys.setprofile(None)
            raise KeyboardInterrupt

    def run(self, fn, *args, **kwargs):
        sys.setprofile(self._hook)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(None)


def _moments(n_calls, n=6):
    """The first call, the last, and ``n - 2`` evenly between."""
    return sorted({int(c) for c in np.linspace(1, n_calls, n)})


def _warm_caches(est, X, y):
    """A fit of a copy of ``est`` before its calls are counted: skl0's caches
    filled on first use (the supports of each exhaustive size, for one) would
    otherwise make the counted run call more functions than the interrupted
    ones, whose count then never reaches the last moments (the tests failed
    when run alone, passing only after other tests had filled the caches)."""
    quiet_fit(copy.deepcopy(est), X, y)


def _interrupt_at(at, est, X, y):
    with pytest.raises(KeyboardInterrupt):
        _CtrlC(at).run(quiet_fit, est, X, y)


@pytest.mark.parametrize("name", ALL)
def test_interrupted_fit_leaves_a_fitted_estimator_as_it_was(name):
    est = _fitted(name, _frame())
    before = _state(est)
    expected = output(est, _frame())
    X2, _, _ = _data(n=40, p=6, seed=1)  # another shape: a partial fit would show
    y2 = target(name)
    _warm_caches(est, X2, y2)
    count = _CtrlC()
    count.run(quiet_fit, copy.deepcopy(est), X2, y2)
    assert count.calls > 1
    for at in _moments(count.calls):
        _interrupt_at(at, est, X2, y2)
        assert _state(est) == before, f"interrupted at call {at} of {count.calls}"
    np.testing.assert_array_equal(output(est, _frame()), expected)


@pytest.mark.parametrize("name", ALL)
def test_interrupted_fit_leaves_an_unfitted_estimator_unfitted(name):
    est = make(name)
    before = copy.deepcopy(vars(est))
    _warm_caches(make(name), X0, target(name))
    count = _CtrlC()
    count.run(quiet_fit, make(name), X0, target(name))
    for at in _moments(count.calls, n=3):
        _interrupt_at(at, est, X0, target(name))
        assert vars(est).keys() == before.keys()
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("name", ALL)
def test_interrupt_after_fit_began_writing_restores_partial_writes(name):
    """A fit writes lam_, n_iter_, support_, ... before it returns; an
    interrupt right after the first, a middle and the last such write undoes them."""
    est = _fitted(name)
    before = _state(est)
    X, y = X0[:, :4], target(name)
    _warm_caches(est, X, y)
    dry = copy.deepcopy(est)
    count = _CtrlC(watch=dry)
    count.run(quiet_fit, dry, X, y)
    writes = count.writes
    assert writes, "the fit wrote no attribute"
    for at in sorted({writes[0], writes[len(writes) // 2], writes[-1]}):
        _interrupt_at(at, est, X, y)
        assert _state(est) == before, f"interrupted at call {at}, writes at {writes}"


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", ["nan", "costs", "diverge", "device"])
def test_failed_fit_leaves_a_fitted_estimator_as_it_was(name, bad):
    est = _fitted(name)
    before = _state(est)
    X, y, params = X0[:, :3].copy(), target(name), {}
    if bad == "nan":
        X[0, 0] = np.nan
    elif bad == "costs":  # refused after validate_data has read X
        params = dict(feature_costs=[1.0, 2.0])
    elif bad == "diverge":  # Adam on an MLP head (linear heads have no step size)
        if name.endswith("CV"):
            pytest.skip("CV estimators have linear heads only")
        params = dict(learning_rate_init=1e30, hidden_layer_sizes=(4,))
    else:
        params = dict(device="banana")
    failing = clone(est).set_params(**params)
    vars(failing).update({k: v for k, v in vars(est).items() if k not in params})
    with pytest.raises((ValueError, FloatingPointError)):
        quiet_fit(failing, X, y)
    assert _state(failing) == before


def test_a_refit_keeps_nothing_that_only_the_earlier_fit_set():
    # scikit-learn's fit starts afresh: attributes only some fits set must
    # not survive a refit that does not set them.
    rng = np.random.default_rng(0)
    X_wide = rng.standard_normal((40, 100))
    y_wide = X_wide[:, 0] + 0.3 * rng.standard_normal(40)
    reg = quiet_fit(L0Regressor(), X_wide, y_wide)
    assert reg.n_screened_ == 20  # p > n: screened
    quiet_fit(reg, X0, Y_REG)
    assert not hasattr(reg, "n_screened_") and reg.n_features_in_ == X0.shape[1]

    mlp = quiet_fit(L0Regressor(k=2, hidden_layer_sizes=(4,), max_iter=10, random_state=0),
                    X0, Y_REG)
    assert hasattr(mlp, "validation_scores_")
    quiet_fit(mlp.set_params(k=None, hidden_layer_sizes=()), X0, Y_REG)
    assert not hasattr(mlp, "validation_scores_")

    auto = quiet_fit(L0Regressor(hidden_layer_sizes="auto", max_iter=10, random_state=0),
                     X0, Y_REG)
    assert hasattr(auto, "head_selection_")
    quiet_fit(auto.set_params(hidden_layer_sizes=()), X0, Y_REG)
    assert not hasattr(auto, "head_selection_")
    fresh = quiet_fit(L0Regressor(), X0, Y_REG)
    assert sorted(a for a in vars(auto) if not a.startswith("_")) == sorted(
        a for a in vars(fresh) if not a.startswith("_"))


# ----------------------------------------------------------- reproducibility
_HASH_SCRIPT = r"""
import hashlib, json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
sys.path.insert(0, {tests!r})
import test_reliability as t
print(json.dumps({{name: t.fit_hash(name) for name in {names!r}}}))
"""


def fit_hash(name):
    """sha256 of everything a fit decides: support, outputs, importances, coefficients."""
    est = quiet_fit(make(name, random_state=7), X0, target(name))
    h = hashlib.sha256()
    for part in (est.get_support(), np.asarray(output(est, X0), float),
                 getattr(est, "feature_importances_", np.zeros(0)),
                 getattr(est, "coef_", np.zeros(0)), np.float64(est.lam_)):
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_result_in_process(name):
    a = quiet_fit(make(name, random_state=3), X0, target(name))
    b = quiet_fit(make(name, random_state=3), X0, target(name))
    c = quiet_fit(clone(a), X0, target(name))
    quiet_fit(a, X0, target(name))  # refitting the same instance
    for other in (b, c):
        np.testing.assert_array_equal(a.get_support(), other.get_support())
        np.testing.assert_array_equal(output(a, X0), output(other, X0))
        np.testing.assert_array_equal(a.feature_importances_, other.feature_importances_)
        assert list(a.loss_curve_) == list(other.loss_curve_)


def test_same_seed_same_result_across_processes():
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()),
               MKL_NUM_THREADS=str(torch.get_num_threads()))
    script = _HASH_SCRIPT.format(tests=here, names=ALL)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    theirs = json.loads(res.stdout.strip().splitlines()[-1])
    ours = {name: fit_hash(name) for name in ALL}
    assert theirs == ours


def test_global_random_state_untouched():
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    for name in PLAIN:
        quiet_fit(make(name), X0, target(name))
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(np_state, np.random.get_state()[1])



def _fit_under_torch_default_dtype(dtype, fit):
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        return fit()
    finally:
        torch.set_default_dtype(before)


def _stream(est, X, y, **first):
    for i, start in enumerate(range(0, len(y), 20)):
        est.partial_fit(X[start:start + 20], y[start:start + 20], **(first if i == 0 else {}))
    return est


_MLP = dict(k=2, hidden_layer_sizes=(4,), max_iter=8, random_state=0)
_BY_DEFAULT_DTYPE = {
    # the MLP's initial weights and the validation split are drawn
    "mlp fit": lambda: quiet_fit(L0Regressor(**_MLP), X0, Y_REG),
    # one gate per group (GroupGate) in front of an MLP
    "group mlp fit": lambda: quiet_fit(L0Regressor(**_MLP, groups=[0, 0, 1, 2, 2]), X0, Y_REG),
    # the stochastic partial_fit's gates and head
    "stochastic partial_fit": lambda: _stream(
        L0Classifier(k=2, random_state=0), X0, Y_CLF, classes=[0, 1]),
    "group partial_fit": lambda: _stream(
        L0Classifier(k=2, groups=[0, 0, 1, 2, 2], random_state=0), X0, Y_CLF, classes=[0, 1]),
}


@pytest.mark.parametrize("case", list(_BY_DEFAULT_DTYPE))
def test_torch_default_dtype_does_not_change_a_fit(case):
    """A caller's torch.set_default_dtype(torch.float64) (common in scientific
    code) changed the noise and the initial gates, so the same random_state
    gave another model; docs/reliability.md promises the same result."""
    fit = _BY_DEFAULT_DTYPE[case]
    a = _fit_under_torch_default_dtype(torch.float32, fit)
    b = _fit_under_torch_default_dtype(torch.float64, fit)
    np.testing.assert_array_equal(a.get_support(), b.get_support())
    np.testing.assert_array_equal(output(a, X0), output(b, X0))
    assert list(a.loss_curve_) == list(b.loss_curve_)


# -------------------------------------------------------------- numerics unit
def test_column_scale_is_exact_and_lazy():
    from skl0._numerics import column_scale, divide_columns

    assert column_scale(X0) is None
    assert divide_columns(X0, None) is X0
    X = np.column_stack([X0[:, 0], X0[:, 1] * 1e30, X0[:, 2] * 1e-30, np.zeros(40)])
    scale = column_scale(X)
    assert scale[0] == 1.0 and scale[3] == 1.0
    assert np.all(np.log2(scale) == np.round(np.log2(scale)))
    Xs = divide_columns(X, scale)
    assert 0.5 <= np.abs(Xs[:, 1]).max() < 1 and 0.5 <= np.abs(Xs[:, 2]).max() < 1
    np.testing.assert_array_equal(Xs * scale, X)  # exact both ways
    S = sp.csc_matrix(X)
    S.data[0] = 0.0
    Ss = divide_columns(S, column_scale(S))
    assert Ss.format == "csr" and Ss.nnz == S.nnz
    np.testing.assert_array_equal(Ss.toarray(), divide_columns(S.toarray(), scale))
    X32 = (X0[:, :2] * [1.0, 1e30]).astype(np.float32)
    assert divide_columns(X32, column_scale(X32)).dtype == np.float32


def test_power_of_two_scale_stays_finite_at_the_float64_limit():
    # 2**1024 is not a float64: magnitudes from 2**1023 (~9e307) up get 2**1023.
    from skl0._numerics import column_scale, power_of_two_scale

    top = np.finfo(np.float64).max
    np.testing.assert_array_equal(power_of_two_scale([8e307, 9e307, 1e308, top]), 2.0**1023)
    X = X0.copy()
    X[0, 2] = 1e308
    Xs = X / column_scale(X)
    assert np.all(np.isfinite(Xs)) and 1 <= np.abs(Xs[:, 2]).max() < 2


@pytest.mark.parametrize(
    "name, where", [("L0Regressor", "X"), ("L0Regressor", "y"), ("L0Classifier", "X")])
def test_finite_values_near_the_float64_limit_fit(name, where):
    # Was a NonFiniteLossError ("training diverged"): the scale 2**1024 was inf.
    X, y = X0.copy(), target(name).copy()
    if where == "X":
        X[0, 2] = 1e308
    else:
        y[0] = 1e308
    est = quiet_fit(make(name), X, y)
    assert_valid(est, X)
    if where == "X":
        ref = quiet_fit(make(name), X0, y)
        np.testing.assert_array_equal(est.get_support(), ref.get_support())



def _raising_cases():
    from sklearn.datasets import load_breast_cancer, load_iris

    iris = load_iris(return_X_y=True)
    Xc, yc = load_breast_cancer(return_X_y=True)
    return {
        # (estimator, X, y): each stopped on an underflow before, in the
        # place named, harmless there (an exp of a large negative logit,
        # products with probabilities that round to 0).
        "multinomial": (L0Classifier(random_state=0), *iris),  # _class_softmax
        "selector": (L0FeatureSelector(task="classification", random_state=0), *iris),
        "binary_auto": (L0Classifier(lam="auto", random_state=0), Xc[:150], yc[:150]),
        "regression": (L0Regressor(lam="auto", random_state=0), X0, Y_REG),  # (was fine)
    }


@pytest.mark.parametrize("case", list(_raising_cases()))
def test_fits_under_a_raising_numpy_error_state(case):
    # A caller's np.errstate(all="raise") stopped fits with a
    # FloatingPointError on underflows skl0 expects and handles; its own
    # numerics now ignore underflow locally (invalid and overflow still follow
    # the caller's state). The fit is the same as under numpy's defaults.
    est, X, y = _raising_cases()[case]
    ref = quiet_fit(clone(est), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="raise"):
            quiet_fit(est, X, y)
            out = est.predict_log_proba(X) if hasattr(est, "predict_log_proba") else output(est, X)
    np.testing.assert_array_equal(est.get_support(), ref.get_support())
    assert np.all(np.isfinite(out))


def test_extreme_scales_fit_under_a_raising_numpy_error_state():
    # Values far below a column's power-of-two unit round to subnormals or 0
    # when divided by it (as designed); under np.errstate(all="raise") that
    # stopped the fit (divide_columns, the targets' unit, the moments, the
    # host engine's products), as did predict_log_proba's log(1 + tiny).
    X = X0.copy()
    X[0, 2] = 1e308
    y = Y_REG.copy()
    y[0] = 1e308
    far = np.array([[1.0, 0, 0, 0, 0]]) * np.array([30.0, -30.0, 1e3])[:, None]
    with np.errstate(all="raise"):
        for est, yy in [(make("L0Regressor"), Y_REG), (make("L0Classifier"), Y_CLF),
                        (make("L0Regressor"), y)]:
            assert_valid(quiet_fit(est, X if yy is not y else X0, yy), X)
        clf = L0Classifier(lam=1e-3, random_state=0).fit(X0, Y_CLF)
        assert np.all(np.isfinite(clf.predict_log_proba(far)))
        # task="auto" reads y by scikit-learn's type_of_target, whose cast of
        # NaN to int raised here before skl0's own message on y.
        y[0] = np.nan
        with pytest.raises(ValueError, match="Input y contains NaN"):
            L0FeatureSelector().fit(X0, y)


# ----------------------------------------------------------- SparseCalibrator
try:
    from skl0 import calibration
except ImportError:  # pragma: no cover - calibration is optional here
    calibration = None
pytestmark_cal = pytest.mark.skipif(calibration is None, reason="skl0.calibration missing")
CAL_FAST = dict(max_iter=30, polish_iter=10, random_state=0)


def _survey(n=40, q=3, seed=0):
    rng = np.random.RandomState(seed)
    M = rng.poisson(1.0, size=(n, q)).astype(float) + (rng.rand(n, q) < 0.2)
    return M, M.sum(0) * 1.1


M0, T0 = _survey()


def _cal(**params):
    return calibration.SparseCalibrator(**{**CAL_FAST, **params})


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda M, t, w: M.__setitem__((0, 0), np.nan), r"M contains 1 NaN value\(s\).*finite"),
        (lambda M, t, w: M.__setitem__((0, 0), np.inf), r"M contains 1 infinity value\(s\)"),
        (lambda M, t, w: t.__setitem__(1, np.nan), r"targets contains 1 NaN.*position 1"),
        (lambda M, t, w: w.__setitem__(2, np.inf), r"sample_weight contains 1 NaN or infinite"),
        (lambda M, t, w: w.__setitem__(2, -1.0), r"sample_weight\[2\]=-1.0.*drop records"),
        (lambda M, t, w: w.__setitem__(slice(None), 0.0), r"strictly positive.*sample_weight\[0\]"),
    ],
    ids=["nan-M", "inf-M", "nan-targets", "inf-weight", "negative-weight", "zero-weights"],
)
def test_calibrator_bad_values(edit, match):
    M, t, w = M0.copy(), T0.copy(), np.ones(len(M0))
    edit(M, t, w)
    with pytest.raises(ValueError, match=match):
        _cal().fit(M, t, sample_weight=w)


@pytest.mark.parametrize(
    "args, params, match",
    [
        ((np.empty((0, 3)), T0), {}, r"0 sample\(s\)"),
        ((M0, T0[:2]), {}, r"targets has 2 entries but M has 3.*len\(targets\) == 3"),
        ((M0, T0), dict(k=41), r"k=41 is larger than the 40 records.*k <= 40"),
        ((M0, T0), dict(k=0), r"'k' parameter"),
        ((M0, T0), dict(lam=-1.0), r"'lam' parameter"),
        ((M0, T0), dict(device="banana"), r"device='banana'"),
        ((M0, T0), dict(device="meta"), r"device='meta' is not available"),
    ],
)
def test_calibrator_bad_shapes_and_parameters(args, params, match, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=match):
        _cal(**params).fit(*args)


def test_calibrator_text_in_M():
    M = M0.astype(object)
    M[1, 1] = "many"
    with pytest.raises(ValueError, match="could not convert string to float: 'many'"):
        _cal().fit(M, T0)


@pytest.mark.parametrize("scale", [1e-30, 1e30])
def test_calibrator_extreme_magnitudes(scale):
    ref = _cal(k=10).fit(M0, T0)
    cal = _cal(k=10).fit(M0 * scale, T0 * scale)
    np.testing.assert_array_equal(cal.support_, ref.support_)
    np.testing.assert_allclose(cal.relative_errors_, ref.relative_errors_, atol=1e-6)


def test_calibrator_dtypes_and_sparse_explicit_zeros():
    ref = _cal(dtype="float64").fit(M0, T0)
    for M in (M0.astype(np.float16), M0.astype(np.int64)):
        cal = _cal(dtype="float64").fit(M, T0)
        assert np.all(np.isfinite(cal.weights_))
    S = sp.csr_matrix(M0)
    S.data[::5] = 0.0
    dense = _cal(dtype="float64").fit(S.toarray(), T0)
    cal = _cal(dtype="float64").fit(S, T0)
    np.testing.assert_allclose(cal.weights_, dense.weights_, rtol=1e-6)
    assert ref.weights_.shape == cal.weights_.shape


def test_calibrator_inputs_not_modified_and_read_only():
    M = pd.DataFrame(M0, columns=["a", "b", "c"])
    t = pd.Series(T0, index=["a", "b", "c"])
    w = np.linspace(1, 2, len(M0))
    w.setflags(write=False)
    M_copy, t_copy = M.copy(), t.copy()
    cal = _cal().fit(M, t, sample_weight=w)
    pd.testing.assert_frame_equal(M, M_copy)
    pd.testing.assert_series_equal(t, t_copy)
    np.testing.assert_array_equal(w, np.linspace(1, 2, len(M0)))
    assert _torch_objects(cal) == []
    rec = _ModuleRecorder(pickle.dumps(cal))
    rec.load()
    assert not any(m.startswith("torch") for m in rec.modules)


def test_calibrator_same_seed_same_weights():
    a = _cal(k=10).fit(M0, T0)
    b = _cal(k=10).fit(M0, T0)
    np.testing.assert_array_equal(a.weights_, b.weights_)


def test_calibrator_divergence_raises():
    with pytest.raises(NonFiniteLossError, match="learning_rate"):
        _cal(learning_rate=1e30).fit(M0, T0)


def test_calibrator_takes_negative_stride_views():
    ref = _cal(k=10).fit(M0[::-1].copy(), T0[::-1].copy())
    got = _cal(k=10).fit(M0[::-1][:, ::-1][:, ::-1], T0[::-1][::-1][::-1])
    np.testing.assert_array_equal(got.weights_, ref.weights_)
    flipped = _cal(k=10).fit(M0[:, ::-1], T0[::-1], sample_weight=np.ones(len(M0))[::-1])
    np.testing.assert_array_equal(flipped.support_, _cal(k=10).fit(
        np.ascontiguousarray(M0[:, ::-1]), T0[::-1].copy()).support_)


@pytest.mark.parametrize("failure", ["nan", "interrupt"])
def test_calibrator_failed_fit_leaves_it_as_it_was(failure):
    cal = _cal().fit(pd.DataFrame(M0, columns=["a", "b", "c"]), T0)
    before = _state(cal)
    M = M0[:, :2].copy()
    if failure == "nan":
        M[0, 0] = np.nan
        with pytest.raises(ValueError):
            cal.fit(M, T0[:2])
    else:  # Ctrl-C half way through the fit
        count = _CtrlC()
        count.run(_cal().fit, M, T0[:2])
        with pytest.raises(KeyboardInterrupt):
            _CtrlC(at=count.calls // 2).run(cal.fit, M, T0[:2])
    assert _state(cal) == before


# ------------------------------------------------------------ command line
try:
    from skl0.cli import main as cli_main
except ImportError:  # pragma: no cover - the command line is optional here
    cli_main = None
needs_cli = pytest.mark.skipif(cli_main is None, reason="skl0.cli missing")


def _csv(tmp_path, edit=None, rows=None):
    df = _frame(X0[:, :4], columns=list("abcd"))
    df["y"] = Y_REG
    if edit is not None:
        edit(df)
    if rows is not None:
        df = df.iloc[:rows]
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return str(path)


def _run_cli(capsys, *argv):
    status = cli_main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def _one_line_error(status, err, *fragments, command="select"):
    assert status == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"skl0 {command}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _set(column, row, value):
    def edit(df):
        df[column] = df[column].astype(object if isinstance(value, str) else float)
        df.loc[row, column] = value
    return edit


CLI_CASES = {
    "nan-feature": (_set("b", 3, np.nan), None, [], ["missing values: 'b'", "--dropna"]),
    "inf-feature": (_set("b", 3, np.inf), None, [], ["infinite values: 'b'"]),
    "nan-target": (_set("y", 3, np.nan), None, [], ["missing values: 'y'"]),
    "text-feature": (lambda df: df.insert(0, "city", ["Oslo", "Lima"] * 20), None, [],
                     ["non-numeric feature columns: 'city'", "--one-hot"]),
    "one-row": (None, 1, [], ["--test-size", "(of 1)"]),
    "header-only": (None, 0, [], ["holds no data rows"]),
    "k-too-large": (None, None, ["--k", 9], ["--k 9 is larger than the 4 feature columns"]),
    "k-zero": (None, None, ["--k", 0], ["--k", "expected an integer >= 1, got '0'"]),
    "lam-negative": (None, None, ["--lam", -1], ["--lam", "got '-1'"]),
    "lam-nan": (None, None, ["--lam", "nan"], ["--lam", "got 'nan'"]),
    "device-banana": (None, None, ["--device", "banana"], ["--device banana is not a device"]),
    "device-cuda": (None, None, ["--device", "cuda"], ["CUDA is not available"]),
    "device-cuda3": (None, None, ["--device", "cuda:3"], ["--device cuda:3", "pass --device cpu"]),
    "device-meta": (None, None, ["--device", "meta"], ["--device meta is not available"]),
    "single-class": (lambda df: df.__setitem__("y", 1), None, [], ["single value (1)", "--task regression"]),
}


@needs_cli
@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_input_is_one_line_exit_2(case, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    edit, rows, args, fragments = CLI_CASES[case]
    path = _csv(tmp_path, edit, rows)
    before = Path(path).read_bytes()
    status, _, err = _run_cli(capsys, "select", path, "--target", "y", "--max-iter", 20, *args)
    _one_line_error(status, err, *fragments)
    assert Path(path).read_bytes() == before


@needs_cli
def test_cli_infinite_target(tmp_path, capsys):
    path = _csv(tmp_path, _set("y", 3, np.inf))
    status, _, err = _run_cli(capsys, "select", path, "--target", "y", "--max-iter", 20)
    _one_line_error(status, err, "infinite values", "'y'")


@needs_cli
def test_cli_diverging_fit_is_one_line(tmp_path, capsys):
    # A step size no fit survives: the calibration's loss becomes infinite.
    M = pd.DataFrame(M0, columns=["a", "b", "c"])
    M.to_csv(tmp_path / "M.csv", index=False)
    pd.DataFrame([T0], columns=["a", "b", "c"]).to_csv(tmp_path / "T.csv", index=False)
    status, _, err = _run_cli(capsys, "calibrate", tmp_path / "M.csv", tmp_path / "T.csv",
                              "--max-iter", 20, "--learning-rate", 1e30)
    _one_line_error(status, err, "diverged", "Lower --learning-rate", command="calibrate")


@needs_cli
@pytest.mark.parametrize("scale", [1e30, 1e-30])
def test_cli_extreme_features_select_as_usual(scale, tmp_path, capsys):
    def edit(df):
        df[list("abcd")] *= scale

    status, out, err = _run_cli(
        capsys, "select", _csv(tmp_path, edit), "--target", "y", "--max-iter", 20, "--test-size", 0
    )
    assert status == 0, err
    assert "kept 2 of 4 features" in out


@needs_cli
def test_cli_interrupt_exits_130(tmp_path, capsys):
    argv = ("select", _csv(tmp_path), "--target", "y", "--max-iter", 20)
    count = _CtrlC()
    count.run(_run_cli, capsys, *argv)
    status, _, err = _CtrlC(at=count.calls // 2).run(_run_cli, capsys, *argv)
    assert status == 130 and "interrupted" in err


@needs_cli
def test_cli_is_reproducible_and_leaves_its_input_alone(tmp_path, capsys):
    path = _csv(tmp_path)
    before = Path(path).read_bytes()
    runs = []
    for i in range(2):
        out_path = tmp_path / f"kept{i}.csv"
        status, out, err = _run_cli(capsys, "select", path, "--target", "y", "--max-iter", 20,
                                    "-o", out_path)
        assert status == 0, err
        runs.append((out.replace(str(out_path), "OUT"), out_path.read_bytes()))
    assert runs[0] == runs[1]
    assert Path(path).read_bytes() == before


def test_private_sklearn_helpers_are_imported_in_compat_only():
    """A scikit-learn release that moves a private helper touches skl0/_compat.py only."""
    import ast
    import pathlib

    import skl0

    root = pathlib.Path(skl0.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                private = any(part.startswith("_") for part in node.module.split("."))
                names = [a.name for a in node.names if a.name.startswith("_")]
                if private or names:
                    offenders.append(f"{path.relative_to(root)}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.relative_to(root)}: import {a.name}" for a in node.names
                              if a.name.startswith("sklearn") and "._" in a.name]
    assert not offenders, offenders


def test_cv_folds_too_small_to_fit_or_score_are_refused_naming_the_fold():
    # A 1-row training fold failed with scikit-learn's "Found array with 1
    # sample(s)", about an X the caller did not pass; a 1-row held-out fold
    # made R^2 NaN and, after every fold ran, an error about classes.
    from skl0 import L0RegressorCV
    rng = np.random.RandomState(0)
    X = rng.randn(4, 3)
    y = X[:, 0] + 0.1 * rng.randn(4)
    with pytest.raises(ValueError, match=r"Fold 1 of 2 of cv=2 has 1 training row\(s\) of "
                                         r"X's 3, and a fit needs at least 2"):
        L0RegressorCV(cv=2, n_lams=3).fit(X[:3], y[:3])
    est = L0RegressorCV(cv=3, n_lams=3, random_state=0)
    with pytest.raises(ValueError, match=r"Fold 2 of 3 of cv=3 has 1 held-out row\(s\) of X's "
                                         r"4, and R\^2, the default score, is undefined.*"
                                         r"scoring='neg_mean_squared_error'"):
        est.fit(X, y)
    assert not hasattr(est, "lam_")
    est.set_params(scoring="neg_mean_squared_error").fit(X, y)
    assert np.isfinite(est.coef_).all() and np.isfinite(est.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("cls", [L0Regressor, L0Classifier])
@pytest.mark.parametrize("params", [
    {"k": 2, "hidden_layer_sizes": (8,)}, {"hidden_layer_sizes": (8,)},
    {"k": 2, "early_stopping": True},
], ids=["mlp-k", "mlp-auto", "early-stopping"])
def test_held_out_rows_do_not_depend_on_the_units_of_X(cls, params):
    # The held-out rows were drawn from a projection of the raw columns, so
    # X in other units (a column times 3, 1e-150, an offset) held out other
    # rows: an MLP head's predictions moved by a fifth of y's spread, where a
    # linear head's fit is the same in any units (test_extreme_X_fits_as_if_standardized).
    rng = np.random.RandomState(0)
    X = rng.randn(100, 5)
    y = 2 * X[:, 0] - X[:, 1] + 0.3 * rng.randn(100)
    y = (y > 0).astype(int) if cls is L0Classifier else y
    ref = quiet_fit(cls(max_iter=30, random_state=0, **params), X, y)
    Xs = X * np.array([3.0, 1e-150, 1.0, 7.0, 1e150]) + np.array([0.0, 0.0, 1e3, 0.0, 0.0])
    est = quiet_fit(cls(max_iter=30, random_state=0, **params), Xs, y)
    np.testing.assert_array_equal(est.get_support(), ref.get_support())
    got = est.predict_proba(Xs) if cls is L0Classifier else est.predict(Xs)
    want = ref.predict_proba(X) if cls is L0Classifier else ref.predict(X)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["L0RegressorCV", "L0ClassifierCV", "L0FeatureSelectorCV"])
def test_cv_fold_jobs_in_threads_see_the_frames_column_names(name, monkeypatch):
    # A fold fits on the validated array; its messages name the frame's
    # columns through a context variable set in its own joblib job (a thread
    # of n_jobs=2), not through an attribute set on the fold estimator.
    from skl0._base import BaseL0

    seen, fit = [], BaseL0._fit

    def recording_fit(self, *args, **kwargs):
        seen.append((self._column_names(), sorted(a for a in vars(self) if "name" in a)))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(BaseL0, "_fit", recording_fit)
    y = target("L0ClassifierCV" if name == "L0ClassifierCV" else "L0Regressor")
    frame = pd.DataFrame(X0, columns=[f"x{j}" for j in range(X0.shape[1])])
    quiet_fit(make(name, n_jobs=2, cv=3), frame, y)
    folds = [s_ for s_ in seen if s_[0] is not None]
    assert len(folds) >= 3  # (a selector's estimator_ is fitted by fit, not _fit)
    for names, attrs in folds:
        assert list(names) == list(frame.columns) and attrs == []


@pytest.mark.parametrize("name", ["L0Regressor", "L0Classifier", "L0FeatureSelector"])
def test_predict_refuses_text_and_lazy_frames_as_fit_does(name):
    # predict gave numpy's "could not convert string to float: 'x'" and
    # "setting an array element with a sequence", naming neither X nor the
    # fix; the selector's transform, scikit-learn's "Expected 2D array, got
    # scalar array instead" for a LazyFrame
    cols = [f"f{j}" for j in range(X0.shape[1])]
    est = quiet_fit(make(name), pd.DataFrame(X0, columns=cols), target(name))
    query = est.transform if name == "L0FeatureSelector" else est.predict
    text = pd.DataFrame(X0, columns=cols).assign(f0="x")
    with pytest.raises(ValueError, match=r"X has non-numeric columns 'f0'"):
        query(text)
    pl = pytest.importorskip("polars")
    with pytest.raises(ValueError, match=r"X is a polars LazyFrame.*X.collect\(\)"):
        query(pl.DataFrame(X0, schema=cols).lazy())


@pytest.mark.parametrize("dtype, params", [
    (None, {"k": 40}), (None, {"lam": 0}), ("float32", {"k": 5}), ("float32", {"lam": "auto"}),
])
def test_alpha_zero_on_linearly_dependent_columns_fits_least_squares(dtype, params):
    # 40 (or 12) columns of rank 3 and alpha=0: the refits' G_SS is singular and
    # its rounding (float32 statistics; sums of 40 columns) left it negative
    # definite beyond the jitter, so the fit raised LAPACK's "matrix is not
    # positive definite (potrf info=4)". Now the least-squares fit.
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(1 if dtype is None else 0)
    n, p = (300, 40) if dtype is None else (60, 12)
    B = rng.standard_normal((n, 3))
    X = B @ rng.standard_normal((3, p))
    y = B @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(n)
    model = L0Regressor(**params, alpha=0, dtype=dtype, random_state=0).fit(X, y)
    rss = np.sum((y - model.predict(X)) ** 2)
    best = np.sum((y - LinearRegression().fit(X, y).predict(X)) ** 2)
    assert np.all(np.isfinite(model.coef_))
    assert rss <= best * (1.0 + (1e-12 if dtype is None else 1e-2))


def test_alpha_zero_binary_refits_on_dependent_columns_raise_no_numpy_warning():
    # alpha=0, 40 float32 columns of rank 3: a support's near-null direction
    # separates the rows, a batched Newton step overflows ||W||^2 to inf and
    # 0 * inf leaked numpy's "RuntimeWarning: invalid value encountered in
    # multiply" (dozens of them) out of the fit.
    rng = np.random.default_rng(1)
    B = rng.standard_normal((300, 3))
    X = B @ rng.standard_normal((3, 40))
    y = (B[:, 0] + 0.3 * rng.standard_normal(300) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = L0Classifier(k=5, alpha=0, dtype="float32", random_state=0).fit(X, y)
    assert model.support_.sum() == 5
    assert np.all(np.isfinite(model.predict_proba(X)))
    assert model.score(X, y) > 0.9


def test_alpha_zero_multiclass_separated_rows_raise_no_numpy_warning():
    # 6 rows, 3 classes, alpha=0, lam="auto": an IRLS step reached a model
    # whose curvature underflowed to 0 on every row; the step was abandoned,
    # but only after numpy's "invalid value encountered in divide" (0 / 0) had
    # leaked out of the fit.
    rng = np.random.default_rng(2)
    rng.standard_normal(54)
    X = rng.standard_normal((6, 6))
    y = np.array([0, 1, 2, 0, 1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = L0Classifier(lam="auto", alpha=0, random_state=0).fit(X, y)
    # (the one warning left: the classes are separated, so the loss has no minimum)
    assert [w.category for w in caught] == [ConvergenceWarning]
    assert "separate the classes" in str(caught[0].message)
    assert np.all(np.isfinite(model.coef_))
    assert model.score(X, y) == 1.0


def test_alpha_zero_binary_refit_on_separable_rows_raises_no_numpy_warning():
    # Column 0 separates the classes, alpha=0: Newton's line search tried
    # points whose logits overflow (their NaN / inf values are rejected and
    # the step halved, as before), and numpy's "overflow encountered in
    # matmul" and "invalid value encountered in multiply" (70 warnings)
    # leaked out of the fit.
    rng = np.random.default_rng(0)
    X = rng.standard_cauchy((120, 6))
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = L0Classifier(lam=0.01, alpha=0, random_state=0).fit(X, y)
    assert [w.category for w in caught] == [ConvergenceWarning]
    assert "separate the classes" in str(caught[0].message)
    assert np.flatnonzero(model.support_).tolist() == [0]
    assert model.score(X, y) == 1.0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_alpha_zero_warns_where_the_selected_features_separate_the_classes(n_classes):
    # With alpha=0 and classes that the kept columns separate, the log loss
    # has no minimum: the exported coefficients are where the solver stopped.
    # The test reads the samples of positive weight only: one sample of the
    # wrong side, at weight 0, leaves them separated; at weight 1 it makes
    # the loss bounded (its minimum exists, and no warning is given).
    rng = np.random.default_rng(3)
    n = 90
    X = rng.standard_normal((n, 5))
    y = np.arange(n) % n_classes
    X[:, 0] += 4.0 * y  # column 0 alone separates the classes...
    X[:, 1] += 4.0 * (y == n_classes - 1)
    X[0, 0] = X[0, 1] = 4.0 * (n_classes - 1)  # ...but for sample 0 (class 0), on the last's side
    weights = np.ones(n)
    weights[0] = 0.0

    def caught(**fit_kwargs):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            model = L0Classifier(k=2, alpha=0, random_state=0).fit(X, y, **fit_kwargs)
        return model, [w for w in record if w.category is ConvergenceWarning]

    model, warned = caught(sample_weight=weights)
    assert len(warned) == 1
    message = str(warned[0].message)
    assert "alpha=0" in message and "separate the classes" in message and "alpha > 0" in message
    assert np.all(model.predict(X[1:]) == y[1:])
    model, warned = caught()  # sample 0 counts: not separated
    assert warned == []
    assert model.predict(X[:1])[0] != 0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        L0Classifier(k=2, random_state=0).fit(X, y, sample_weight=weights)  # alpha=1e-4
    assert not [w for w in record if w.category is ConvergenceWarning]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_alpha_zero_warns_where_the_selected_features_quasi_separate_the_classes(n_classes):
    # Column 0 is 1 on a third of the samples, all of the last class there;
    # elsewhere the classes mix. No model classifies every sample correctly
    # (so the complete-separation test stays silent), but the last class's
    # coefficient of column 0 can grow without bound and lower the loss
    # (quasi-complete separation): the unpenalised loss has no minimum.
    # A sample of every other class at column 0 = 1 (weight 1) gives it one
    # (with 3 classes one of class 0 alone would not: class 1's coefficient
    # could still fall without bound, which the check also finds).
    rng = np.random.default_rng(5)
    n = 150
    X = rng.standard_normal((n, 4))
    X[:, 0] = np.arange(n) % 3 == 0
    y = np.where(X[:, 0] == 1, n_classes - 1, rng.integers(0, n_classes, n))
    y[1:7] = np.arange(6) % n_classes  # (every class among the mixed rows)
    overlap = [3, 9]  # (column 0 = 1): classes 0 and 1, or 0 and 0
    y[overlap] = [0, 1 % (n_classes - 1)]
    weights = np.ones(n)
    weights[overlap] = 0.0

    def caught(**params):
        fit_params = params.pop("fit", {})
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            model = L0Classifier(random_state=0, **params).fit(X, y, **fit_params)
        return model, [str(w.message) for w in record if w.category is ConvergenceWarning]

    for params in (dict(k=1), dict(k=2), dict(lam=0.01), dict(k=1, refit=False)):
        model, warned = caught(alpha=0, fit=dict(sample_weight=weights), **params)
        assert model.support_[0]
        assert len(warned) == 1, params
        assert "quasi-completely separate the classes" in warned[0]
        assert "alpha > 0" in warned[0]
    # the sample at column 0 = 1 of class 0 counts: the loss has a minimum
    model, warned = caught(alpha=0, k=1)
    assert model.support_[0] and warned == []
    model, warned = caught(k=1, fit=dict(sample_weight=weights))  # alpha=1e-4
    assert warned == []


def test_separating_direction_matches_the_one_column_rule():
    # With one column and an intercept, a direction along which no sample's
    # margin falls and one rises exists exactly when one class's values all
    # lie at or below the other's (ties at the boundary allowed) and the
    # column is not constant: checked on small integer data, full of ties.
    from skl0._separation import separating_direction

    rng = np.random.default_rng(0)
    found = {True: 0, False: 0}
    for _ in range(300):
        n = int(rng.integers(3, 9))
        x = rng.integers(0, 4, n).astype(float)
        codes = rng.integers(0, 2, n)
        if codes.min() == codes.max():
            continue
        a, b = x[codes == 0], x[codes == 1]
        truth = bool((a.max() <= b.min() or b.max() <= a.min()) and np.ptp(x) > 0)
        d = separating_direction(x[:, None], codes, 2)
        assert (d is not None) == truth, (x, codes)
        found[truth] += 1
        if d is not None:
            margins = np.where(codes == 1, 1.0, -1.0) * (x * d[0, 0] + d[1, 0])
            assert margins.min() >= -1e-9 and margins.max() > 1e-6
    assert min(found.values()) >= 50  # both answers were tested often


def test_overlap_certificate_never_contradicts_the_one_column_rule():
    # Positive weights whose least-norm correction to M' lambda = 0 keeps
    # them positive prove that no separating direction exists (Stiemke's
    # lemma): on the one-column sets of the test above, with random weights
    # and with a logistic fit's (the start separating_direction takes), the
    # certificate holds only where the rule says the classes overlap, and
    # for the fit's weights on most such sets.
    from sklearn.linear_model import LogisticRegression

    from skl0._separation import _margins, overlap_certified, separating_direction

    rng = np.random.default_rng(3)
    held = {"random": 0, "fitted": 0}
    overlapping = 0
    for _ in range(300):
        n = int(rng.integers(4, 12))
        x = rng.integers(0, 4, n).astype(float)
        codes = rng.integers(0, 2, n)
        if codes.min() == codes.max() or np.ptp(x) == 0:
            continue
        a, b = x[codes == 0], x[codes == 1]
        separable = bool(a.max() <= b.min() or b.max() <= a.min())
        M, A, i, j = _margins(x[:, None], codes, 2)
        bound = np.abs(A).sum(1).max()
        random_ok = overlap_certified(M, rng.uniform(0.1, 1.0, n), bound)
        w = np.full(n, 1.0 / n)
        P = LogisticRegression(C=1e4).fit(x[:, None], codes).predict_proba(x[:, None])
        fitted_ok = overlap_certified(M, w[i] * P[i, j], bound)
        assert not (separable and (random_ok or fitted_ok)), (x, codes)
        if not separable:
            overlapping += 1
            held["random"] += random_ok
            held["fitted"] += fitted_ok
            # (the fit's start skips the program: the same answer)
            assert separating_direction(x[:, None], codes, 2, P=P, w=w) is None
    assert held["fitted"] >= 0.9 * overlapping and overlapping >= 50


def test_overlapping_classes_skip_the_linear_program(monkeypatch):
    # alpha=0 on classes that overlap everywhere (no sample far from the
    # others): the fitted probabilities certify it and no linear program is
    # solved; on iris (quasi-complete separation) it is, and warns.
    import scipy.optimize
    from sklearn.datasets import load_iris, make_classification

    solved = []
    linprog = scipy.optimize.linprog

    def spy(*args, **kwargs):
        solved.append(True)
        return linprog(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "linprog", spy)
    for n_classes in (2, 3):
        X, y = make_classification(600, 8, n_informative=3, n_classes=n_classes,
                                   flip_y=0.2, class_sep=0.5, random_state=4)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            L0Classifier(k=3, alpha=0, random_state=0).fit(X, y)
        assert solved == []
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="quasi-completely separate"):
        L0Classifier(k=1, alpha=0, random_state=0).fit(X, y)
    assert solved == [True]


def test_separating_direction_of_several_classes():
    # Three classes: the last lies alone at column 0 = 1 (separated from the
    # others along that column, quasi-completely: the mixed rows sit at 0);
    # a copy of each sample in another class removes every direction.
    from skl0._separation import separating_direction

    rng = np.random.default_rng(1)
    X = np.column_stack([np.arange(30) % 3 == 0, rng.standard_normal(30)]).astype(float)
    codes = np.where(X[:, 0] == 1, 2, rng.integers(0, 2, 30))
    codes[1:5] = [0, 1, 0, 1]
    D = separating_direction(X, codes, 3)
    assert D.shape == (3, 2)
    F = np.column_stack([X, np.ones(30)]) @ np.column_stack([D, np.zeros(3)])
    own = F[np.arange(30), codes]
    margins = own[:, None] - F
    assert margins.min() >= -1e-9 and margins.max() > 1e-6
    X2 = np.vstack([X, X])
    assert separating_direction(X2, np.concatenate([codes, (codes + 1) % 3]), 3) is None
    assert separating_direction(X[:, 1:], codes, 3) is None  # the noise column alone overlaps


@pytest.mark.parametrize("n, p, rule", [
    (2, 3, "one feature is always considered"),  # the floor: n - 2 = 0 features
    (8, 3000, "one feature is always considered"),  # the floor: the formula 0.999
    (5, 4, "n - 2 = 3"),
    (200, 60, "n / (log log n * log p) = 29"),
])
def test_the_size_cap_warning_states_the_rule_that_set_the_cap(n, p, rule):
    # With 2 rows the cap is max_support_size's floor of one feature; the
    # warning gave the formula "n / (log log n * log p) = 1", which is
    # negative at n=2.
    from skl0._criteria import max_support_size

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    n_true = min(max_support_size(n, p) + 2, p)
    y = X[:, :n_true] @ np.full(n_true, 3.0)
    with pytest.warns(UserWarning, match="the most its information criterion") as rec:
        L0Regressor(random_state=0).fit(X, y)
    message = next(str(w.message) for w in rec if "the most its" in str(w.message))
    assert rule in message
    assert rule.startswith("n / (log log") == ("n / (log log n * log p) = " in message)
