"""Dense X prepared where the fit runs, and the CV folds' rows kept there.

On an accelerator a dense X is copied there as given, and its column
extremes, power-of-two scale, float64 moments and shift are formed there
(:func:`skl0._problem.prepare_on_device`); a CV estimator copies X once
and its folds take their rows there. The CPU prepares numpy X on the host;
these tests run the device's path on the CPU (``HOST_PREPARED_DEVICES``
emptied) and check it against the host's.
"""

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.datasets import load_breast_cancer, load_diabetes

import skl0._problem as problem_module
from skl0 import L0Classifier, L0ClassifierCV, L0Regressor, L0RegressorCV
from skl0._cv import _rows_on_device
from skl0._device import resolve_dtype
from skl0._heads import numpy_forward, tensor_forward
from skl0._numerics import (
    column_extremes,
    column_scale,
    column_shift,
    divide_columns,
    subtract_columns,
)
from skl0._problem import prepare_on_device, prepares_on_device, weighted_moments


def awkward_columns(n=240, seed=0, dtype=np.float64):
    """Columns that need every step: a timestamp (shift), 1e32 and 1e-33 (scale), a constant."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 9)
    X[:, 0] = 1.7e9 + rng.randn(n) * 100
    X[:, 1] *= 1e32
    X[:, 2] = 3.0
    X[:, 3] *= 1e-33
    y = X[:, 0] / 100 + 2 * X[:, 1] / 1e32 + X[:, 4] + 0.1 * rng.randn(n)
    return X.astype(dtype), y


def host_preparation(X, w, dtype_name):
    """The host's steps of ``_BaseL0._fit_on_device``, for comparison."""
    extremes = column_extremes(X)
    scale = column_scale(X, extremes=extremes)
    Xs = divide_columns(X, scale)
    mean, std, var = weighted_moments(Xs, w, const=extremes[0] == extremes[1], second=True)
    shift = column_shift(mean, std, dtype_name)
    return Xs, scale, shift, mean, std, var, extremes[0] == extremes[1]


@pytest.fixture
def device_path(monkeypatch):
    """Fits on the CPU take the accelerator's path (X prepared as a tensor)."""
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_preparation_on_the_device_matches_the_hosts(dtype):
    X, _ = awkward_columns(dtype=dtype)
    w = np.random.RandomState(1).rand(X.shape[0])
    w /= w.sum()
    name = np.dtype(dtype).name
    Xs, scale, shift, mean, std, var, const = host_preparation(X, w, name)
    before = X.copy()
    prep = prepare_on_device(torch.from_numpy(X), w, resolve_dtype(None, X))
    np.testing.assert_array_equal(X, before)  # the caller's X is not touched
    assert prep.X.dtype == torch.from_numpy(X).dtype
    np.testing.assert_array_equal(prep.scale, scale)  # powers of two from the same extremes
    np.testing.assert_array_equal(prep.const, const)
    assert const[2]
    if dtype == np.float64:  # (in float32 the timestamp's spread is below its rounding)
        assert shift is not None and shift[0] != 0
    if shift is None:
        assert prep.shift is None
        shift = np.zeros_like(mean)
    else:
        np.testing.assert_allclose(prep.shift, shift, rtol=1e-12)
    np.testing.assert_allclose(prep.mean64, mean - shift, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(prep.std64, std, rtol=1e-12)
    # (a constant column's variance is round-off either way; it is not read)
    np.testing.assert_allclose(prep.var[~const], var[~const], rtol=1e-11)
    expected = subtract_columns(Xs, prep.shift)  # the same shift: the same numbers
    np.testing.assert_array_equal(prep.X.numpy(), expected)


def test_only_dense_x_off_the_host_devices_is_prepared_on_the_device(device_path):
    import scipy.sparse as sp

    X = np.ones((4, 2))
    assert prepares_on_device(X, torch.device("cpu"))
    assert prepares_on_device(torch.ones(4, 2), torch.device("cpu"))
    assert not prepares_on_device(sp.csr_matrix(X), torch.device("cpu"))


def test_host_devices_prepare_numpy_x_on_the_host():
    assert not prepares_on_device(np.ones((4, 2)), torch.device("cpu"))
    assert prepares_on_device(np.ones((4, 2)), torch.device("meta"))
    assert resolve_dtype(None, torch.ones(2, dtype=torch.float32)) == torch.float32
    assert resolve_dtype(None, torch.ones(2, dtype=torch.float64)) == torch.float64


def _fits(make, X, y, monkeypatch):
    host = make().fit(X, y)
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ())
    device = make().fit(X, y)
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ("cpu",))
    return host, device


@pytest.mark.parametrize("case", ["reg k", "reg auto f32", "clf auto", "clf k awkward"])
def test_fits_prepared_on_the_device_match_the_hosts(case, monkeypatch):
    if case.startswith("reg"):
        X, y = load_diabetes(return_X_y=True)
        if "f32" in case:
            X = X.astype(np.float32)
        make = ((lambda: L0Regressor(k=4, random_state=0)) if case == "reg k"
                else (lambda: L0Regressor(random_state=0)))
    elif case == "clf auto":
        X, y = load_breast_cancer(return_X_y=True)
        make = lambda: L0Classifier(random_state=0)  # noqa: E731
    else:
        X, y = awkward_columns()
        y = y > np.median(y)
        make = lambda: L0Classifier(k=3, random_state=0)  # noqa: E731
    host, device = _fits(make, X, y, monkeypatch)
    np.testing.assert_array_equal(device.get_support(), host.get_support())
    np.testing.assert_allclose(device.coef_, host.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(device.intercept_, host.intercept_, rtol=1e-9, atol=1e-12)
    if case.startswith("reg"):
        np.testing.assert_allclose(device.predict(X), host.predict(X), rtol=1e-9)
    elif case == "clf auto":  # (on the timestamp column a prediction is ill-conditioned)
        np.testing.assert_allclose(device.predict_proba(X), host.predict_proba(X), rtol=1e-9,
                                   atol=1e-12)


def test_awkward_columns_keep_their_units_through_the_devices_path(monkeypatch):
    # A timestamp (shifted) and columns of 1e32 and 1e-33 (scaled) must
    # come back in X's units: the export reads the device's scale and shift.
    X, y = awkward_columns()
    host, device = _fits(lambda: L0Regressor(k=3, random_state=0), X, y, monkeypatch)
    assert device.get_support(indices=True).tolist() == [0, 1, 4]
    np.testing.assert_allclose(device.coef_[[0, 1, 4]], host.coef_[[0, 1, 4]], rtol=1e-9)
    assert abs(device.coef_[1] * 1e32 - 2) < 0.05  # 2 per 1e32 of column 1


@pytest.mark.parametrize("hidden", [(), (5,)])
def test_tensor_forward_matches_numpy_forward(hidden):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 6).astype(np.float32)
    sizes = [6, *hidden, 2]
    layers = [(rng.randn(a, b), rng.randn(b)) for a, b in zip(sizes[:-1], sizes[1:])]
    layers[0][0][[1, 4]] = 0.0  # columns outside the support
    for act in ("identity", "logistic", "tanh", "relu"):
        got = tensor_forward(layers, act, torch.from_numpy(X))
        assert isinstance(got, np.ndarray) and got.dtype == np.float64
        np.testing.assert_allclose(got, numpy_forward(layers, act, X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ["reg", "reg weighted mse", "clf frame", "clf log loss"])
def test_cv_folds_on_device_rows_match_the_hosts(case, monkeypatch):
    kw = {}
    if case.startswith("reg"):
        X, y = load_diabetes(return_X_y=True)
        scoring = "neg_mean_squared_error" if "mse" in case else None
        make = lambda: L0RegressorCV(cv=3, n_lams=6, scoring=scoring, random_state=0)  # noqa: E731
        if "weighted" in case:
            kw["sample_weight"] = np.random.RandomState(0).rand(len(y)) + 0.5
    else:
        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        scoring = "neg_log_loss" if "log" in case else None
        make = lambda: L0ClassifierCV(cv=3, n_lams=5, scoring=scoring, random_state=0)  # noqa: E731
    host = make().fit(X, y, **kw)
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ())
    device = make().fit(X, y, **kw)
    assert device.lam_ == host.lam_
    np.testing.assert_array_equal(device.get_support(), host.get_support())
    np.testing.assert_allclose(device.cv_results_["mean_test_score"],
                               host.cv_results_["mean_test_score"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(device.coef_, host.coef_, rtol=1e-9, atol=1e-12)
    assert device.n_features_in_ == X.shape[1]
    if hasattr(X, "columns"):  # the final fit on device rows keeps the frame's names
        assert list(device.feature_names_in_) == list(X.columns)


def test_cv_keeps_device_rows_only_where_the_folds_share_memory(device_path):
    X = np.ones((10, 3))
    cpu = torch.device("cpu")
    held = _rows_on_device(X, cpu, None)
    assert torch.is_tensor(held) and held.shape == (10, 3)
    assert torch.is_tensor(_rows_on_device(X, cpu, 2))  # threads by default
    with parallel_config(backend="loky", n_jobs=2):
        assert _rows_on_device(X, cpu, None) is None  # workers would get a pickled copy
        assert torch.is_tensor(_rows_on_device(X, cpu, 1))  # one job: in this process


def test_cv_on_device_rows_refuses_nothing_it_took_before(device_path):
    # All-zero weights on a fold's rows are still refused by the fold's fit.
    X, y = load_diabetes(return_X_y=True)
    sw = np.ones(len(y))
    sw[:200] = 0.0
    # (scikit-learn >= 1.7 refuses them itself; older versions leave it to skl0)
    with pytest.raises(ValueError, match="(?i)sample.?weight.*non-zero|sample_weight must be"):
        L0RegressorCV(cv=[(np.arange(200), np.arange(200, 300))], n_lams=4).fit(
            X, y, sample_weight=sw)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("estimator", ["reg", "clf"])
def test_cuda_fits_and_cv_match_the_cpu(estimator):
    rng = np.random.RandomState(0)
    X = rng.randn(3000, 40).astype(np.float32)
    X[:, 0] = 1.7e9 + rng.randn(3000).astype(np.float32) * 100
    lin = X[:, 1] - 2 * X[:, 2] + 1.5 * X[:, 3] + (X[:, 0] - 1.7e9) / 100
    if estimator == "reg":
        y, one, cv = lin + rng.randn(3000), L0Regressor, L0RegressorCV
    else:
        y, one, cv = (lin + rng.randn(3000) > 0).astype(int), L0Classifier, L0ClassifierCV
    for make in (lambda d: one(k=4, random_state=0, device=d),
                 lambda d: cv(cv=3, n_lams=6, random_state=0, device=d)):
        on_cpu, on_cuda = make("cpu").fit(X, y), make("cuda").fit(X, y)
        np.testing.assert_array_equal(on_cuda.get_support(), on_cpu.get_support())
        np.testing.assert_allclose(on_cuda.coef_, on_cpu.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("estimator", [L0Regressor, L0Classifier])
def test_device_extremes_refuse_non_finite_x_with_scikit_learns_error(bad, estimator,
                                                                       monkeypatch):
    # X bound for an accelerator is not checked for NaN and infinity on the
    # host: its extremes on the device are. The error is scikit-learn's, word
    # for word, as the host's validation raises it.
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    X[7, 1] = bad
    y = (rng.randn(40) > 0).astype(int)
    with pytest.raises(ValueError) as on_host:
        estimator(k=1).fit(X, y)
    calls = []
    import skl0._base as base_module

    real = base_module.assert_all_finite
    monkeypatch.setattr(base_module, "assert_all_finite",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ())
    est = estimator(k=1)
    with pytest.raises(ValueError) as on_device:
        est.fit(X, y)
    assert str(on_device.value) == str(on_host.value)
    assert "Input X contains" in str(on_device.value)
    assert calls == [1]  # raised after the device's extremes, not by validation
    assert not hasattr(est, "coef_")
    est.fit(np.nan_to_num(X, posinf=0, neginf=0), y)  # the same estimator fits finite X
    assert est.coef_.shape[-1] == 3


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_cv_with_device_rows_refuses_non_finite_x_before_any_fold(backend, monkeypatch):
    # The CV estimator's validation leaves finiteness to the device too; its
    # folds read X before any fit's extremes, so it checks X itself: on its
    # device copy (threads) or on the host (a process backend: no copy).
    import skl0._cv as cv_module

    X, y = load_diabetes(return_X_y=True)
    X = X.copy()
    X[5, 2] = np.nan
    with pytest.raises(ValueError) as on_host:
        L0RegressorCV(cv=3, n_lams=4).fit(X, y)
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ())
    folds = []
    real = cv_module._fold_path
    monkeypatch.setattr(cv_module, "_fold_path", lambda *a: folds.append(1) or real(*a))
    with parallel_config(backend=backend, n_jobs=2):
        with pytest.raises(ValueError) as on_device:
            L0RegressorCV(cv=3, n_lams=4).fit(X, y)
    assert str(on_device.value) == str(on_host.value)
    assert "Input X contains NaN" in str(on_device.value)
    assert folds == []


def test_sparse_x_is_checked_for_nan_on_the_host_where_dense_would_be_on_the_device(
        device_path):
    # Validation leaves finiteness to the device only for dense X: a sparse
    # X (whose moments come from scipy) is checked on the host as before.
    import scipy.sparse as sp

    X = sp.random(50, 5, density=0.5, random_state=0, format="csr")
    X.data[3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        L0Regressor(k=1).fit(X, np.arange(50.0))


def test_an_owned_copy_is_scaled_and_shifted_in_place_with_the_same_numbers():
    # A numpy X's copy to the device is the fit's own: the scale and shift
    # overwrite it (one X-sized tensor on the device, not two); a shared
    # tensor (a CV estimator's copy) is left as it was.
    X, _ = awkward_columns()
    w = np.full(X.shape[0], 1.0 / X.shape[0])
    shared = torch.from_numpy(X.copy())
    before = shared.clone()
    kept = prepare_on_device(shared, w, torch.float64)
    assert torch.equal(shared, before)
    own = torch.from_numpy(X.copy())
    done = prepare_on_device(own, w, torch.float64, owned=True)
    assert done.X.data_ptr() == own.data_ptr()  # overwritten, not copied
    assert kept.X.data_ptr() != shared.data_ptr()
    assert torch.equal(done.X, kept.X)
    np.testing.assert_array_equal(done.shift, kept.shift)
    np.testing.assert_array_equal(done.mean64, kept.mean64)


def test_cv_copies_x_to_the_device_only_where_it_has_room(device_path, monkeypatch):
    import skl0._cv as cv_module

    X = np.ones((10, 3))
    monkeypatch.setattr(cv_module, "_device_has_room", lambda nbytes, device: False)
    assert _rows_on_device(X, torch.device("cpu"), None) is None
    asked = []
    monkeypatch.setattr(cv_module, "_device_has_room",
                        lambda nbytes, device: asked.append(nbytes) or True)
    assert torch.is_tensor(_rows_on_device(X, torch.device("cpu"), None))
    assert asked == [2 * X.nbytes]


@pytest.mark.parametrize("forced", [False, True])
def test_a_tensor_x_from_the_caller_is_validated_as_any_array(forced, monkeypatch):
    # Only the rows a CV estimator validated itself skip validation
    # (ValidatedRows), not any tensor: a caller's tensor with a NaN, of one
    # row, or of integers is refused or converted as its numpy array is.
    if forced:
        monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ())
    X, y = load_diabetes(return_X_y=True)
    bad = X.copy()
    bad[3, 3] = np.nan
    with pytest.raises(ValueError) as as_array:
        L0Regressor(k=3).fit(bad, y)
    with pytest.raises(ValueError) as as_tensor:
        L0Regressor(k=3).fit(torch.from_numpy(bad), y)
    assert str(as_tensor.value) == str(as_array.value)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        L0RegressorCV(cv=3, n_lams=3).fit(torch.from_numpy(bad), y)
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        L0Regressor(k=1).fit(torch.ones(1, 3), [1.0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        L0Regressor(k=1).fit(torch.ones(5, 3), [1.0, 2.0])
    Xi = np.round(X * 100).astype(np.int64)
    est = L0Regressor(k=3, random_state=0).fit(torch.from_numpy(Xi), y)
    ref = L0Regressor(k=3, random_state=0).fit(Xi, y)
    np.testing.assert_array_equal(est.get_support(), ref.get_support())
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-12)


def test_cv_device_rows_take_every_form_of_split_indices(device_path):
    # cv as a list of splits may give boolean masks, negative or unsigned
    # row numbers (numpy's X[index] takes them all): the device's gather
    # takes them too, with the host's results.
    from sklearn.model_selection import KFold

    X, y = load_diabetes(return_X_y=True)
    n = len(y)
    base = list(KFold(3).split(X))
    masks = [(np.isin(np.arange(n), tr), np.isin(np.arange(n), te)) for tr, te in base]
    forms = {
        "masks": masks,
        "negative": [(tr - n, te - n) for tr, te in base],
        "unsigned": [(tr.astype(np.uint32), te.astype(np.uint32)) for tr, te in base],
    }
    for name, cv in forms.items():
        got = L0RegressorCV(cv=cv, n_lams=4, random_state=0).fit(X, y)
        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ("cpu",))
        try:
            want = L0RegressorCV(cv=cv, n_lams=4, random_state=0).fit(X, y)
        finally:
            monkeypatch.undo()
        np.testing.assert_allclose(got.cv_results_["mean_test_score"],
                                   want.cv_results_["mean_test_score"], rtol=1e-10, err_msg=name)
        np.testing.assert_array_equal(got.get_support(), want.get_support())


def test_a_plain_fits_copy_of_x_is_not_held_through_the_solve(device_path, monkeypatch):
    # With dtype="float32" on a float64 X, the problem holds a float32 cast
    # of the copy of X made for the device; the float64 copy must be freed
    # before the solve (as the host path's was), not held by a local name:
    # on an accelerator the float64 copy (twice the float32 X) stayed
    # through the solve beside the float32 one.
    import weakref

    import skl0._base as base_module

    copies, alive = [], []
    real_as_tensor, real_fit_prepared = base_module._as_tensor, base_module.BaseL0._fit_prepared

    def as_tensor(X, device, dtype):
        out = real_as_tensor(X, device, dtype)
        copies.append(weakref.ref(out))
        return out

    def fit_prepared(self, problem, *a, **k):
        alive.append([ref() is not None for ref in copies])
        return real_fit_prepared(self, problem, *a, **k)

    monkeypatch.setattr(base_module, "_as_tensor", as_tensor)
    monkeypatch.setattr(base_module.BaseL0, "_fit_prepared", fit_prepared)
    X, y = load_diabetes(return_X_y=True)
    L0Regressor(k=3, dtype="float32", random_state=0).fit(X, y)
    assert alive == [[False]]


def test_cv_folds_scale_their_own_rows_in_place_and_leave_the_shared_copy(device_path,
                                                                           monkeypatch):
    # A fold's gathered rows are its own (prepare_on_device's owned=True:
    # no second X-sized tensor for the scale and shift); the CV estimator's
    # copy, which every fold and the final fit read, is never overwritten.
    import skl0._base as base_module
    import skl0._cv as cv_module

    X, y = awkward_columns()
    calls, held = [], []
    real_prepare, real_rows = base_module.prepare_on_device, cv_module._rows_on_device

    def prepare(Xt, w, dtype, owned=False):
        prep = real_prepare(Xt, w, dtype, owned=owned)
        calls.append((owned, prep.X.data_ptr() == Xt.data_ptr()))
        return prep

    def rows_on_device(*a):
        out = real_rows(*a)
        if out is not None:  # (None on the host path, below)
            held.append((out, out.clone()))
        return out

    monkeypatch.setattr(base_module, "prepare_on_device", prepare)
    monkeypatch.setattr(cv_module, "_rows_on_device", rows_on_device)
    est = L0RegressorCV(cv=3, n_lams=4, random_state=0).fit(X, y)
    assert calls == [(True, True)] * 3 + [(False, False)]  # three folds, then the final fit
    [(shared, before)] = held
    assert torch.equal(shared, before)
    n_calls = len(calls)
    monkeypatch.setattr(problem_module, "HOST_PREPARED_DEVICES", ("cpu",))
    host = L0RegressorCV(cv=3, n_lams=4, random_state=0).fit(X, y)
    assert len(calls) == n_calls
    np.testing.assert_allclose(est.cv_results_["mean_test_score"],
                               host.cv_results_["mean_test_score"], rtol=1e-10)
    np.testing.assert_allclose(est.coef_, host.coef_, rtol=1e-9, atol=1e-12)


def test_cv_refuses_non_finite_x_before_its_splitter_and_target_checks(device_path):
    # Validation leaves X's finiteness to the device; the CV estimator
    # settles it right after validation, as the host's validation does: a
    # splitter that reads X never sees a NaN, and a NaN X with a bad y gets
    # the host's error (X's), not the target's.
    class ReadsX:
        def split(self, X, y=None, groups=None):
            assert np.isfinite(X).all(), "the splitter saw a non-finite X"
            order = np.argsort(X[:, 0])
            for test in np.array_split(order, 3):
                yield np.setdiff1d(order, test), test

        def get_n_splits(self, *a, **k):
            return 3

    X, y = load_diabetes(return_X_y=True)
    X = X.copy()
    X[5, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        L0RegressorCV(cv=ReadsX(), n_lams=3).fit(X, y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        L0ClassifierCV(cv=3, n_lams=3).fit(X, np.zeros(len(y), dtype=int))
