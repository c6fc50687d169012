"""The predict side as a deployed model meets it: dtypes, memory, pickling."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

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


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_float32_predict_makes_no_float64_copy_of_its_values(fmt):
    # A float32 sparse X: its values (nnz) were copied to float64 by the
    # product (200000 x 50 at density 0.2, 8 MB of values: 17.6 MB peak, now
    # 4.3 csr / 3.5 csc); only the selected columns are taken. Row by row
    # the same products are summed in the same order, less the zero terms:
    # the predictions are the float64 X's exactly.
    X, y = _data()
    reg = L0Regressor(k=3, random_state=0).fit(X, y)
    clf = L0Classifier(k=3, random_state=0).fit(X, y > 0)
    X32 = sp.random(20000, 40, density=0.2, format=fmt, random_state=1, dtype=np.float32)
    X64 = X32.astype(np.float64)
    for method in (reg.predict, clf.decision_function, clf.predict_proba):
        out = method(X32)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, method(X64))
        # (beyond the float64 X's own peak: was about X32.data.nbytes and more)
        assert _peak_bytes(method, X32) < _peak_bytes(method, X64) + X32.data.nbytes / 2


def test_predict_on_a_frame_reads_its_dtypes_once_and_skips_duplicated(monkeypatch):
    # check_frame's hasattr(X, "dtypes") built pandas' dtypes Series, read
    # again for the column loop, and duplicated() built three Index objects
    # on every frame: 200 of a 1-row DataFrame predict's 1160 us (p=20), now
    # 90 (predict 0.80x its time, 0.87x at p=200; LinearRegression's: 840 us).
    pd = pytest.importorskip("pandas")
    X, y = _data(p=6)
    cols = [f"c{i}" for i in range(6)]
    reg = L0Regressor(k=2, random_state=0).fit(pd.DataFrame(X, columns=cols), y)
    reads = []
    dtypes = pd.DataFrame.dtypes
    monkeypatch.setattr(pd.DataFrame, "dtypes",
                        property(lambda self: reads.append(1) or dtypes.fget(self)))

    def refuse(self, keep="first"):
        raise AssertionError("duplicated() called on unique column names")

    monkeypatch.setattr(pd.Index, "duplicated", refuse)
    from skl0._checks import check_frame

    check_frame(pd.DataFrame(X[:1], columns=cols))
    assert len(reads) == 1
    reg.predict(pd.DataFrame(X[:1], columns=cols))  # (and predict still works)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="duplicated column names 'c1'"):
        reg.predict(pd.DataFrame(X[:1], columns=["c0", "c1", "c1", "c3", "c4", "c5"]))


@pytest.mark.parametrize("order", ["C", "F"])
def test_predict_on_wide_float64_X_multiplies_the_selected_columns_only(order, monkeypatch):
    # X @ coef_ multiplied every column of a float64 X, the unselected
    # ones by zero: 2000 columns with 3 selected cost 667x the products
    # needed (predict 0.48-0.56x the time at 20000 x 2000 or 2000 x 20000
    # with 10 selected). Few selected columns are now taken alone.
    import skl0._heads as heads

    X, y = _data(n=300, p=200)  # (3 of 200: at most one in 64 selected)
    reg = L0Regressor(k=3, random_state=0).fit(X, y)
    clf = L0Classifier(k=3, random_state=0).fit(X, y > 0)
    Xn = np.asarray(np.random.RandomState(2).standard_normal((50, 200)), order=order)
    want_reg = Xn @ reg.coef_ + reg.intercept_
    want_clf = Xn @ clf.coef_.ravel() + clf.intercept_[0]

    def whole(*args):
        raise AssertionError("predict read all of X's columns")

    monkeypatch.setattr(heads, "numpy_forward", whole)
    np.testing.assert_allclose(reg.predict(Xn), want_reg, rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.decision_function(Xn), want_clf, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(Xn), clf.classes_[(want_clf > 0).astype(int)])


def test_predict_reads_a_narrow_float64_X_whole():
    # With more than one column in 64 selected (one in 6 in Fortran order),
    # the whole product costs less than the gather: unchanged, the same
    # bits as before.
    X, y = _data(n=200, p=20)
    reg = L0Regressor(k=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), X @ reg.coef_ + reg.intercept_)


def test_an_unpickled_model_predicts_without_importing_torch(tmp_path):
    # Unpickling a fitted model imports its class's module; those modules
    # imported torch and the training core (and ran warm-up fits), so a
    # process that only loads a model and predicts took 1.66 CPU s and 365
    # MB instead of 0.85 s and 185 MB. Predictions need numpy only; a fit of
    # the unpickled model imports what it needs.
    import pickle
    import subprocess
    import sys

    from sklearn.datasets import load_breast_cancer

    from skl0 import (
        L0ClassifierCV,
        L0FeatureSelector,
        L0FeatureSelectorCV,
        L0RegressorCV,
    )

    X, y = _data(120, 8)
    Xc, yc = load_breast_cancer(return_X_y=True)
    Xc, yc = Xc[::3, :10], yc[::3]
    models = {
        "reg": (L0Regressor(k=2, random_state=0).fit(X, y), X, y),
        "mlp": (L0Regressor(k=2, hidden_layer_sizes=(3,), max_iter=20, random_state=0).fit(X, y),
                X, y),
        "clf": (L0Classifier(k=2, random_state=0).fit(Xc, yc), Xc, yc),
        # (these keep their skl0._groups.GroupLayout, whose module imported torch)
        "groups": (L0Regressor(k=2, groups=[0, 0, 1, 1, 2, 2, 3, 3], random_state=0).fit(X, y),
                   X, y),
        "costs": (L0Regressor(k=2, feature_costs=[1, 2] * 4, random_state=0).fit(X, y), X, y),
        "sel": (L0FeatureSelector(k=2, random_state=0).fit(Xc, yc), Xc, yc),
        "regcv": (L0RegressorCV(cv=2, n_lams=3, random_state=0).fit(X, y), X, y),
        "clfcv": (L0ClassifierCV(cv=2, n_lams=3, random_state=0).fit(Xc, yc), Xc, yc),
        "selcv": (L0FeatureSelectorCV(cv=2, n_lams=3, random_state=0).fit(Xc, yc), Xc, yc),
    }
    expected = {}
    for name, (model, Xm, ym) in models.items():
        with open(tmp_path / f"{name}.pkl", "wb") as f:
            pickle.dump((model, Xm, ym), f)
        out = model.transform(Xm) if hasattr(model, "transform") else model.predict(Xm)
        expected[name] = out
    np.save(tmp_path / "expected.npy", np.array(expected, dtype=object), allow_pickle=True)
    code = f"""
import pickle, sys
import numpy as np
try:
    import dask.array as dask
except ImportError:  # (the dask extra is optional)
    dask = None
expected = np.load({str(tmp_path / 'expected.npy')!r}, allow_pickle=True).item()
for name in {sorted(models)!r}:
    with open({str(tmp_path)!r} + "/" + name + ".pkl", "rb") as f:
        model, X, y = pickle.load(f)
    if hasattr(model, "transform"):
        out = model.transform(X)
        model.get_feature_names_out(); model.get_support()
    else:
        out = model.predict(X)
        model.score(X, y)
        if hasattr(model, "predict_proba"):
            model.predict_proba(X); model.predict_log_proba(X); model.decision_function(X)
    assert np.array_equal(out, expected[name]), name
    if dask is not None:  # the lazy Dask predictions, score and transform too
        Xd, yd = dask.from_array(X, chunks=40), dask.from_array(y, chunks=40)
        if hasattr(model, "transform"):
            assert np.array_equal(model.transform(Xd).compute(), out), name
        else:
            assert np.allclose(model.predict(Xd).compute(), out), name
            model.score(Xd, yd)
            if hasattr(model, "predict_proba"):
                model.predict_proba(Xd).compute()
print("torch" in sys.modules)
model.fit(X, y)  # (the last one: a selector CV) fits after unpickling
print("torch" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("code", [
    # partial_fit of an unpickled model: the stream binds the training core itself
    "import pickle\n"
    "from skl0._regressor import L0Regressor\n"
    "m = pickle.loads(pickle.dumps(L0Regressor(k=2)))\n"
    "m.partial_fit(X, y); m.partial_fit(X, y); print(m.get_support(indices=True).tolist())\n",
    # l0_path reached without the public names' warm-up (BaseL0._fit binds)
    "from skl0._l0_path import l0_path\n"
    "print(l0_path(X, y, ks=[2]).support[0].nonzero()[0].tolist())\n",
])
def test_training_entry_points_bind_the_training_core_in_a_fresh_process(code):
    # The training core is bound into skl0._base by the first fit
    # (bind_training); each way in must bind it first, also in a process
    # where no public name was looked up (nothing warmed up).
    import subprocess
    import sys

    setup = ("import numpy as np\n"
             "rng = np.random.RandomState(0)\n"
             "X = rng.standard_normal((100, 6)); y = X[:, 0] + 0.5 * X[:, 3]\n")
    out = subprocess.run([sys.executable, "-c", setup + code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[0, 3]"


def test_warm_up_fits_leave_the_process_warning_filters_alone():
    # The warm-up (the first `from skl0 import L0Regressor`) ran its fits
    # under warnings.catch_warnings() + simplefilter("ignore"), which change
    # the filters of every thread: another thread's warnings were dropped
    # meanwhile (505 of 505 issued during a lookup, shown 1), and one whose
    # own catch_warnings block spanned the warm-up restored "ignore" on
    # exit, silencing every warning of the process for good. The seeded
    # warm-up fits issue no warnings, so none need silencing.
    import warnings

    from skl0._base import warm_up

    seen = []

    class Probe:
        def fit(self, X, y):
            seen.append(list(warnings.filters))

    before = list(warnings.filters)
    warm_up(Probe())
    assert seen and all(filters == before for filters in seen)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        warm_up(L0Regressor(k=2, random_state=0))
        warm_up(L0Classifier(k=2, random_state=0), classify=True)
    assert [str(w.message) for w in said] == []
