"""skl0._elementwise: torch's kernels for large float64 arrays, numpy's for the rest, the same values.

Every test runs under both of the module's rules: numpy's AVX-512 kernels
for exp and log1p (``_NUMPY_AVX512``), and torch's from the threshold on
(the rule of CPUs without AVX-512), whichever this machine has.
"""

import warnings

import numpy as np
import pytest
import torch
from scipy.special import expit

from skl0 import _elementwise as E
from skl0 import _rows

REFERENCE = {"exp": np.exp, "log1p": np.log1p, "sigmoid": expit}
THRESHOLD = {"exp": E._TORCH_MIN_SIZE, "log1p": E._TORCH_MIN_SIZE_LOG1P,
             "sigmoid": E._TORCH_MIN_SIZE}


@pytest.fixture(autouse=True, params=[False, True], ids=["torch rule", "numpy avx512"])
def numpy_avx512(request, monkeypatch):
    """Each rule in turn; torch's kernels run only where torch has one thread (the module's rule)."""
    monkeypatch.setattr(E, "_NUMPY_AVX512", request.param)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield request.param
    torch.set_num_threads(before)


def _inputs(name, size, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(scale=20.0, size=size)
    if name == "log1p":
        a = np.exp(-np.abs(a))  # the callers' argument, exp(-|f|), in (0, 1]
    return a


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("offset", [-1, 0, 5])
def test_values_match_numpy_on_either_side_of_the_threshold(name, offset):
    fn, ref = getattr(E, name), REFERENCE[name]
    a = _inputs(name, THRESHOLD[name] + offset)
    before = a.copy()
    got = fn(a)
    assert got.dtype == np.float64 and got.shape == a.shape
    # SLEEF's kernels are within 1 ulp, as numpy's libm; 4 ulp of slack
    np.testing.assert_allclose(got, ref(a), rtol=4 * np.finfo(float).eps, atol=0)
    np.testing.assert_array_equal(a, before)  # the input is not written


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_out_is_written_and_returned_also_in_place(name):
    fn, ref = getattr(E, name), REFERENCE[name]
    a = _inputs(name, 2 * THRESHOLD[name], seed=1)
    out = np.empty_like(a)
    assert fn(a, out=out) is out
    np.testing.assert_allclose(out, ref(a), rtol=4 * np.finfo(float).eps, atol=0)
    b = a.copy()
    assert fn(b, out=b) is b  # in place, as the softmax's exp(FT, out=FT)
    np.testing.assert_array_equal(b, out)


def test_non_finite_entries_and_extremes_as_numpy():
    a = np.linspace(-800.0, 800.0, 4 * E._TORCH_MIN_SIZE)
    a[[3, 10, 20]] = [np.nan, np.inf, -np.inf]
    with np.errstate(over="ignore", under="ignore"):
        want_exp, want_sig = np.exp(a), expit(a)
    got_exp, got_sig = E.exp(a), E.sigmoid(a)
    np.testing.assert_array_equal(np.isnan(got_exp), np.isnan(want_exp))
    np.testing.assert_array_equal(np.isposinf(got_exp), np.isposinf(want_exp))
    np.testing.assert_array_equal(np.isnan(got_sig), np.isnan(want_sig))
    assert got_sig[10] == 1.0 and got_sig[20] == 0.0 and got_exp[20] == 0.0
    assert np.all((got_sig >= 0) & (got_sig <= 1) | np.isnan(got_sig))
    normal = np.isfinite(want_exp) & (want_exp > np.finfo(float).tiny)
    np.testing.assert_allclose(got_exp[normal], want_exp[normal], rtol=4 * np.finfo(float).eps)
    normal = want_sig > np.finfo(float).tiny
    np.testing.assert_allclose(got_sig[normal], want_sig[normal], rtol=8 * np.finfo(float).eps)


@pytest.mark.parametrize("kind", ["strided", "read-only", "float32", "list", "out float32"])
def test_other_arrays_take_numpy_with_its_result(kind):
    base = _inputs("exp", 4 * E._TORCH_MIN_SIZE, seed=2)
    out = None
    if kind == "strided":
        a = base[::2]
    elif kind == "read-only":
        a = base.copy()
        a.flags.writeable = False
    elif kind == "float32":
        a = (base / 10).astype(np.float32)
    elif kind == "list":
        a = list(base[:50])
    else:
        a, out = base, np.empty(base.shape, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (torch warns on a read-only array; it is not given one)
        with np.errstate(over="ignore"):
            got = E.exp(a, out=out) if out is not None else E.exp(a)
            want = np.exp(a, out=np.empty_like(out)) if out is not None else np.exp(a)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype


def test_row_softmax_and_logsumexp_as_the_numpy_rows():
    rng = np.random.default_rng(3)
    F = rng.normal(scale=5.0, size=(700, 4))  # 2800 numbers: the torch exp
    lse, P = E.row_softmax(F.copy())
    lse0, P0 = _rows.row_softmax(F.copy())
    np.testing.assert_allclose(lse, lse0, rtol=1e-14)
    np.testing.assert_allclose(P, P0, rtol=1e-13)
    np.testing.assert_allclose(E.row_logsumexp(F), _rows.row_logsumexp(F), rtol=1e-14)
    G = F.copy()
    assert E.row_softmax(G, overwrite=True)[1] is G


@pytest.mark.parametrize("name,kernel", [("exp", "exp"), ("log1p", "log1p"), ("sigmoid", "sigmoid")])
def test_torch_computes_from_the_threshold_only(name, kernel, numpy_avx512, monkeypatch):
    # With numpy's AVX-512 kernels exp and log1p never hand an array to
    # torch, at any size; the sigmoid (scipy's expit is scalar code) still does.
    calls = []
    real = getattr(torch, kernel)
    monkeypatch.setattr(torch, kernel, lambda *a, **k: calls.append(1) or real(*a, **k))
    fn = getattr(E, name)
    fn(_inputs(name, THRESHOLD[name] - 1))
    assert calls == []
    a = _inputs(name, 4 * THRESHOLD[name])
    out = np.empty_like(a)
    fn(a)
    fn(a, out=out)
    if numpy_avx512 and name != "sigmoid":
        assert calls == []
        np.testing.assert_array_equal(out, REFERENCE[name](a))  # numpy's own numbers
    else:
        assert calls == [1, 1]


@pytest.mark.parametrize("features,dispatch,baseline,expected", [
    ({"AVX512F": True, "AVX512_SKX": True}, ["X86_V3", "X86_V4", "AVX512_ICL"], ["X86_V2"], True),
    ({"AVX512F": True, "AVX512_SKX": True}, ["AVX2", "AVX512F", "AVX512_SKX"], ["SSE3"], True),
    ({"AVX512F": True, "AVX512_SKX": True}, [], ["X86_V4"], True),  # (a baseline build)
    ({"AVX2": True, "AVX512F": False, "AVX512_SKX": False}, ["X86_V3", "X86_V4"], [], False),
    ({"AVX512F": True, "AVX512_SKX": False}, ["AVX512F", "AVX512_SKX"], [], False),
    ({"AVX512F": True, "AVX512_SKX": True}, ["X86_V3"], ["X86_V2"], False),  # not built
    ({"ASIMD": True}, ["ASIMDHP", "SVE"], ["NEON"], False),  # (an ARM CPU)
])
def test_numpy_avx512_is_read_off_the_cpu_and_numpys_build(features, dispatch, baseline,
                                                         expected, monkeypatch):
    umath = E.numpy_cpu_module()
    monkeypatch.setattr(umath, "__cpu_features__", features)
    monkeypatch.setattr(umath, "__cpu_dispatch__", dispatch)
    monkeypatch.setattr(umath, "__cpu_baseline__", baseline)
    assert E._numpy_runs_avx512() is expected


def test_more_torch_threads_keep_numpy(monkeypatch):
    calls = []
    real = torch.exp
    monkeypatch.setattr(torch, "exp", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = _inputs("exp", 4 * E._TORCH_MIN_SIZE)
    torch.set_num_threads(2)  # (the fixture restores the count)
    np.testing.assert_array_equal(E.exp(a), np.exp(a))
    assert calls == []
