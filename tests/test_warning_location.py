"""skl0's warnings point at the caller's line, however deep the fit runs.

``python -W error::UserWarning`` and the default "once per location"
filter both read a warning's file and line: a fixed ``stacklevel``
attributed them to skl0's or scikit-learn's own frames (``_base.py``,
``sklearn/base.py``), which differ between a plain fit, a Pipeline,
GridSearchCV and a Dask fit. Each case below triggers one warning and
checks it names this file, at the line that made the call.
"""

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor, _warn
from skl0._warn import user_stacklevel, warn
from skl0.calibration import SparseCalibrator

X, Y = make_regression(60, 8, n_informative=3, random_state=0)
# Every column informative and n=50: lam="auto" keeps the most it admits (12).
XW, YW = make_regression(50, 20, n_informative=20, noise=0.1, random_state=0)
# More columns than rows: the screened fits' warnings are held back and the
# kept fit's issued again (warnings.warn_explicit), at the caller's line still.
XS, YS = make_regression(40, 100, n_informative=30, noise=0.1, random_state=0)
TEN = np.full(60, 10.0)


def _caught(call):
    """``call()``'s warnings, and the lines of this file that ``call`` spans."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        call()
    return rec, {line for _, _, line in call.__code__.co_lines() if line is not None}


def _assert_here(rec, lines, match):
    hits = [w for w in rec if match in str(w.message)]
    assert hits, f"no warning matching {match!r}: {[str(w.message) for w in rec]}"
    for w in hits:
        assert w.filename == __file__ and w.lineno in lines, (w.filename, w.lineno, lines)


CASES = {
    "weight scale": (lambda: L0Regressor().fit(X, Y, sample_weight=TEN),
                     "reads sample_weight as frequencies"),
    "keep_redundant without k": (lambda: L0Regressor(lam=0.1, keep_redundant=True).fit(X, Y),
                                 "keep_redundant=True has no effect"),
    "empty support": (lambda: L0Regressor(lam=1e3).fit(X, Y), "No feature was selected"),
    "lam='auto' at its cap": (lambda: L0Regressor().fit(XW, YW), "the most its information"),
    "at its cap, screened": (lambda: L0Regressor().fit(XS, YS), "the most its information"),
    "column-vector y": (lambda: L0Classifier(lam=0.1).fit(X, (Y > 0)[:, None]),
                        "column-vector y"),
    "in a Pipeline": (lambda: make_pipeline(L0FeatureSelector(), LinearRegression()).fit(XW, YW),
                      "the most its information"),
    "in GridSearchCV": (lambda: GridSearchCV(L0Regressor(), {"lam": [1e3]}, cv=2).fit(X, Y),
                        "No feature was selected"),
    "automatic head": (lambda: L0Regressor(hidden_layer_sizes="auto", max_iter=50,
                                           random_state=0).fit(X, Y, sample_weight=TEN),
                       "reads sample_weight as frequencies"),
    "calibration": (lambda: SparseCalibrator(lam=1e3, max_iter=50, polish_iter=5,
                                             random_state=0).fit(
                        np.random.default_rng(0).random((40, 3)), np.full(3, 20.0)),
                    "No record was kept"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_warnings_name_the_callers_line(name):
    call, match = CASES[name]
    rec, lines = _caught(call)
    _assert_here(rec, lines, match)


def test_dask_fits_warn_at_the_callers_line():
    da = pytest.importorskip("dask.array")
    Xd, Yd = da.from_array(X, chunks=30), da.from_array(Y, chunks=30)
    rec, lines = _caught(lambda: L0Regressor(lam=1e3).fit(Xd, Yd))
    _assert_here(rec, lines, "No feature was selected")
    rec, lines = _caught(lambda: L0Regressor().fit(Xd, Yd, sample_weight=da.from_array(TEN, 30)))
    _assert_here(rec, lines, "reads sample_weight as frequencies")
    sel = L0FeatureSelector(lam=1e3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel.fit(X, Y)
    rec, lines = _caught(lambda: sel.transform(Xd))
    _assert_here(rec, lines, "No features were selected")


def test_user_stacklevel_counts_from_the_callers_caller():
    def inner():  # a function outside skl0 asking: its caller is level 2
        return user_stacklevel()

    assert inner() == 2
    rec, lines = _caught(lambda: warn("plain"))
    _assert_here(rec, lines, "plain")


def test_a_stack_of_internal_frames_stops_at_the_outermost(monkeypatch):
    # A worker thread's stack can be skl0/joblib frames all the way down:
    # the level must still name a frame that exists.
    monkeypatch.setattr(_warn, "_INTERNAL", ("",))  # every file counts as internal
    frames, frame = 0, sys._getframe(0)
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    assert (lambda: user_stacklevel())() == 1 + frames
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        warn("outermost")
    assert rec[0].filename != "sys"  # what warnings reports past the stack's end


def test_the_automatic_head_warns_once_per_fit():
    # hidden_layer_sizes="auto" fits a linear head and, when its residuals
    # show structure, an MLP head too; each fit checks the weights' scale.
    # Only the kept head's warnings are issued: the discarded one's used to
    # repeat the weight-scale warning.
    est = L0Regressor(hidden_layer_sizes="auto", max_iter=50, random_state=0)
    rec, lines = _caught(lambda: est.fit(X, Y, sample_weight=TEN))
    assert est.head_selection_.get("mlp_held_out_loss") is not None  # both heads were fitted
    _assert_here(rec, lines, "reads sample_weight as frequencies")
    assert sum("reads sample_weight as frequencies" in str(w.message) for w in rec) == 1
