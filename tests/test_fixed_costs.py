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


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("init_prob, temperature", [(0.9, 2.0 / 3.0), (np.float64(0.3), 1), (0.5, 0.25)])
def test_fit_gate_is_the_public_constructors(dtype, init_prob, temperature):
    import pickle

    import torch

    from skl0.nn import FeatureGate

    dtype, device = getattr(torch, dtype), torch.device("cpu")
    fast = FeatureGate._for_fit(7, init_prob, temperature, device, dtype)
    plain = FeatureGate(7, init_prob=init_prob, temperature=temperature, device=device,
                        dtype=dtype)
    assert list(vars(fast)) == list(vars(plain))  # the same attributes, in the same order
    for name, value in vars(plain).items():  # (torch's own: empty dicts and sets, training)
        if name == "_parameters":
            assert list(value) == list(fast._parameters) == ["log_alpha"]
        else:
            assert type(vars(fast)[name]) is type(value) and vars(fast)[name] == value, name
    la, la_plain = fast.log_alpha, plain.log_alpha
    assert type(la) is type(la_plain) and la.requires_grad and la.dtype == dtype
    assert torch.equal(la, la_plain)
    # (pickles differ only in the storage's key, its address)
    assert pickle.loads(pickle.dumps(fast)).per_sample is False
    torch.testing.assert_close(fast.prob_open(), torch.full((7,), float(init_prob), dtype=dtype))


@pytest.mark.parametrize("kw", [{"init_prob": 1.0}, {"init_prob": True}, {"temperature": 0.0},
                                {"temperature": float("nan")}])
def test_fit_gate_checks_its_arguments_as_the_public_constructor(kw):
    import torch

    from skl0.nn import FeatureGate

    args = {"init_prob": 0.9, "temperature": 2.0 / 3.0, **kw}
    with pytest.raises(ValueError) as plain:
        FeatureGate(3, **args)
    with pytest.raises(ValueError, match="^" + __import__("re").escape(str(plain.value)) + "$"):
        FeatureGate._for_fit(3, args["init_prob"], args["temperature"], torch.device("cpu"),
                             torch.float64)


def test_linear_head_registers_its_parameters_as_attribute_assignment_does():
    import torch
    from torch import nn

    from skl0._heads import LinearHead

    class Assigned(nn.Module):  # the straightforward construction
        def __init__(self, p, q, dtype):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(p, q, dtype=dtype))
            self.bias = nn.Parameter(torch.zeros(q, dtype=dtype))

    head, plain = LinearHead(5, 2, dtype=torch.float32), Assigned(5, 2, torch.float32)
    assert list(vars(head)) == list(vars(plain))
    assert [n for n, _ in head.named_parameters()] == ["weight", "bias"]
    for name, value in plain.state_dict().items():
        got = head.state_dict()[name]
        assert got.dtype == value.dtype and torch.equal(got, value) and got.requires_grad is False
    assert head.weight.requires_grad and isinstance(head.bias, nn.Parameter)
    assert "weight" not in vars(head)  # a parameter, read through nn.Module
    head.to(torch.float64)  # moved with the module
    assert head.weight.dtype == torch.float64 and head.bias.dtype == torch.float64


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("w_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("q", [1, 3])
def test_support_head_from_numpy_rows_equals_the_indexed_write(dtype, w_dtype, q):
    import types

    import torch

    from skl0._refit import support_head

    dtype = getattr(torch, dtype)
    p, S = 9, np.array([0, 2, 3, 7])
    problem = types.SimpleNamespace(mean=torch.zeros(p, dtype=dtype), n_features=p,
                                    datafit=types.SimpleNamespace(n_outputs=q))
    rng = np.random.default_rng(q)
    W = (rng.standard_normal((S.size, q)) / 3).astype(w_dtype)  # (float32 rounds them)
    b = rng.standard_normal(q)
    head = support_head(problem, S, W.ravel() if q == 1 else W, b)
    # The straightforward construction: zeros, then the rows written by index.
    weight = torch.zeros(p, q, dtype=dtype)
    weight[torch.as_tensor(S)] = torch.as_tensor(W, dtype=dtype).reshape(S.size, q)
    assert head.weight.dtype == dtype and head.weight.requires_grad
    assert torch.equal(head.weight, weight)
    assert torch.equal(head.bias, torch.as_tensor(b, dtype=dtype))
    empty = support_head(problem, S[:0], np.zeros((0, q)))
    assert not empty.weight.any() and not empty.bias.any()
