import math

import numpy as np
import pytest
import torch
from torch import nn

from skl0.nn import (
    BETA,
    GAMMA,
    ZETA,
    FeatureGate,
    HardConcrete,
    HardConcreteGate,
    SampleGate,
    deterministic_gate,
    gate_moments,
    log_alpha_for_prob,
    log_alpha_for_signal,
    prob_nonzero,
    sample_gate,
    signal_fraction,
)


@pytest.mark.parametrize("p0", [0.05, 0.3, 0.5, 0.9, 0.99])
def test_feature_gate_init_prob_is_the_open_probability(p0):
    gate = FeatureGate(4, init_prob=p0)
    np.testing.assert_allclose(gate.prob_open().detach().numpy(), p0, rtol=1e-6)
    # ... and it is the empirical frequency of non-zero sampled gates.
    gen = torch.Generator().manual_seed(0)
    z = gate.sample((100_000,), generator=gen)
    np.testing.assert_allclose((z > 0).double().mean(0).numpy(), p0, atol=0.006)


def test_prob_nonzero_matches_monte_carlo_for_other_parameters():
    la = torch.tensor([-2.0, 0.0, 1.5])
    gen = torch.Generator().manual_seed(1)
    z = sample_gate(la, 0.4, -0.2, 1.3, generator=gen, shape=(200_000, 3))
    expected = prob_nonzero(la, 0.4, -0.2, 1.3).numpy()
    np.testing.assert_allclose((z > 0).double().mean(0).numpy(), expected, atol=0.005)


def test_eq12_closed_form():
    la = torch.tensor([0.3])
    want = 1 / (1 + math.exp(-(0.3 - BETA * math.log(-GAMMA / ZETA))))
    assert float(prob_nonzero(la)) == pytest.approx(want, rel=1e-6)


def test_eq13_deterministic_gate():
    la = torch.tensor([-10.0, 0.0, 10.0])
    z = deterministic_gate(la)
    assert z[0] == 0.0 and z[2] == 1.0
    assert float(z[1]) == pytest.approx(0.5 * (ZETA - GAMMA) + GAMMA)


def test_samples_in_unit_interval_with_exact_zeros_and_ones():
    gen = torch.Generator().manual_seed(0)
    z = HardConcrete(torch.zeros(10_000)).rsample(generator=gen)
    assert z.min() == 0.0 and z.max() == 1.0
    assert ((z > 0) & (z < 1)).any()


def test_sampling_is_reparameterized():
    la = torch.zeros(5, requires_grad=True)
    z = sample_gate(la, generator=torch.Generator().manual_seed(0))
    z.sum().backward()
    assert la.grad is not None and torch.isfinite(la.grad).all()


def test_generator_reproducible_and_global_rng_untouched():
    state = torch.get_rng_state()
    a = sample_gate(torch.zeros(7), generator=torch.Generator().manual_seed(3))
    b = sample_gate(torch.zeros(7), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert torch.equal(state, torch.get_rng_state())


def test_train_samples_eval_is_deterministic_and_mask_ignores_mode():
    gate = FeatureGate(6, init_prob=0.5)
    x = torch.ones(2, 6)
    gen = torch.Generator().manual_seed(0)
    gate.train()
    a, b = gate(x, generator=gen), gate(x, generator=gen)
    assert not torch.equal(a, b)
    m_train = gate.mask()
    gate.eval()
    assert torch.equal(gate(x), gate(x))
    assert torch.equal(m_train, gate.mask())


def test_log_alpha_for_prob_inverts_eq12():
    la = log_alpha_for_prob(0.37, 0.5, -0.05, 1.05)
    assert float(prob_nonzero(torch.tensor(la), 0.5, -0.05, 1.05)) == pytest.approx(0.37)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(temperature=0.0), "temperature=0.0"),
        (dict(temperature=-1.0), "temperature"),
        (dict(gamma=0.1), "gamma=0.1.*< 0"),
        (dict(zeta=0.9), "zeta=0.9.*> 1"),
    ],
)
def test_invalid_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HardConcrete(torch.zeros(2), **kwargs)
    with pytest.raises(ValueError, match=match):
        FeatureGate(2, **kwargs)


@pytest.mark.parametrize("p0", [0.0, 1.0, -0.1, 1.5])
def test_invalid_init_prob(p0):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        SampleGate(3, init_prob=p0)


def _copied(module, how, tmp_path):
    """``module`` through pickle, ``copy.deepcopy`` or ``torch.save`` / ``torch.load``."""
    import copy
    import pickle

    if how == "pickle":
        return pickle.loads(pickle.dumps(module))
    if how == "deepcopy":
        return copy.deepcopy(module)
    torch.save(module, tmp_path / "module.pt")
    return torch.load(tmp_path / "module.pt", weights_only=False)


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "torch.save"])
def test_gate_copies_keep_their_generator(how, tmp_path):
    """Issue 15: a copied gate draws from its own generator, not torch's global RNG."""
    gate = FeatureGate(3).train()
    gate.generator = torch.Generator().manual_seed(0)
    clone = _copied(gate, how, tmp_path)
    assert isinstance(clone.generator, torch.Generator)
    assert clone.generator is not gate.generator
    assert torch.equal(clone.log_alpha, gate.log_alpha)
    global_state = torch.get_rng_state()
    assert torch.equal(clone.sample(), gate.sample())  # same stream, drawn independently
    assert torch.equal(torch.get_rng_state(), global_state)


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "torch.save"])
def test_a_copied_model_shares_one_generator_as_the_original(how, tmp_path):
    # Each gate used to get its own copy of the shared stream, so two gates
    # of one shape drew the same noise at every step of the copy's training.
    import copy

    from skl0.nn import L0Linear, set_generator

    model = nn.Sequential(L0Linear(3, 3, gate="input"), nn.ReLU(),
                          L0Linear(3, 3, gate="input")).train()
    set_generator(model, torch.Generator().manual_seed(0))
    other = FeatureGate(3).train()
    other.generator = torch.Generator().manual_seed(0)  # equal state, another stream
    clone = _copied(nn.ModuleList([model, other]), how, tmp_path)
    first, second = clone[0][0].l0_gate, clone[0][2].l0_gate
    assert first.generator is second.generator is not model[0].generator
    assert clone[1].generator is not first.generator
    # The copy draws what the original draws, step after step.
    for _ in range(3):
        for a, b in [(first, model[0].l0_gate), (second, model[2].l0_gate), (clone[1], other)]:
            assert torch.equal(a.sample(), b.sample())
    assert not torch.equal(first.sample(), second.sample())
    # A later copy starts where the original's stream now is.
    again = copy.deepcopy(model)
    assert torch.equal(again[0].l0_gate.sample(), model[0].l0_gate.sample())


def test_gates_have_the_sample_shape_in_both_modes():
    # In eval mode gates(sample_shape) ignored sample_shape, so z.mean(0)
    # averaged over the gates instead of over the samples.
    gate = FeatureGate(3)
    assert gate.train().gates((8,)).shape == (8, 3)
    z = gate.eval().gates((8, 2))
    assert z.shape == (8, 2, 3)
    assert torch.equal(z.mean((0, 1)), gate.deterministic())
    assert gate.gates().shape == (3,)


def test_per_sample_feature_gate_over_trailing_axes_draws_one_gate_per_leading_index():
    # A gate shape (2, 3) and per_sample=True gave (2, 2, 3) for a (2, 3)
    # input and a size mismatch for (5, 2, 3).
    gate = FeatureGate((2, 3), per_sample=True, init_prob=0.5).train()
    gate.generator = torch.Generator().manual_seed(0)
    assert gate(torch.ones(2, 3)).shape == (2, 3)
    out = gate(torch.ones(5, 2, 3))
    assert out.shape == (5, 2, 3)
    assert not all(torch.equal(out[0], out[i]) for i in range(1, 5))  # a draw per row
    assert gate.eval()(torch.ones(5, 2, 3)).shape == (5, 2, 3)


def test_gate_reprs_name_what_changes_their_behaviour():
    from skl0.nn import HybridGate

    assert "per_sample=True" in repr(FeatureGate(3, per_sample=True))
    assert "per_sample" not in repr(FeatureGate(3))
    assert "n_random=2" in repr(HybridGate(5, 2))


def test_layer_copy_keeps_the_generator():
    import copy

    from skl0.nn import L0Linear

    layer = L0Linear(4, 2, gate="input", generator=torch.Generator().manual_seed(1))
    clone = copy.deepcopy(layer)
    assert isinstance(clone.l0_gate.generator, torch.Generator)
    assert torch.equal(clone.l0_gate.sample(), layer.l0_gate.sample())


@pytest.mark.parametrize("shape", [np.int64(3), np.int32(3), (np.int64(2), 3)])
def test_gate_shape_accepts_numpy_integers(shape):
    """Issue 15: FeatureGate(np.int64(3)) raised "not iterable"."""
    gate = FeatureGate(shape)
    expected = (3,) if np.ndim(shape) == 0 else (2, 3)
    assert tuple(gate.log_alpha.shape) == expected


@pytest.mark.parametrize("shape", [2.5, "3", None])
def test_gate_shape_rejects_non_integers(shape):
    with pytest.raises(TypeError, match="must be an integer or a tuple of integers"):
        FeatureGate(shape)


def _as_if_saved_on_cuda(monkeypatch):
    """Records made from now on say "cuda", as for a model trained on a GPU;
    and this machine has no CUDA (whether or not it has)."""
    from skl0.nn import gates

    make = gates._GeneratorRecord.of.__func__

    def of(cls, generator):
        record = make(cls, generator)
        record.device = "cuda"
        return record

    monkeypatch.setattr(gates._GeneratorRecord, "of", classmethod(of))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_a_generator_from_an_absent_device_loads_as_a_seeded_cpu_generator(how, monkeypatch):
    # A model saved with a CUDA generator failed to load on a CPU-only
    # machine ("Cannot get CUDA generator without ATen_cuda library").
    import io
    import pickle
    import warnings

    from skl0.nn import L0Linear, set_generator

    model = nn.Sequential(L0Linear(3, 3, gate="input"), nn.ReLU(), L0Linear(3, 2)).train()
    set_generator(model, torch.Generator().manual_seed(1234))
    _as_if_saved_on_cuda(monkeypatch)
    if how == "pickle":
        data = pickle.dumps(model)
        load = lambda: pickle.loads(data)  # noqa: E731
    else:
        buf = io.BytesIO()
        torch.save(model, buf)
        load = lambda: torch.load(io.BytesIO(buf.getvalue()), map_location="cpu",  # noqa: E731
                                  weights_only=False)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        clone = load()
    said = [w for w in said if "not available here" in str(w.message)]
    assert len(said) == 1  # one shared generator, one warning
    assert "initial_seed()" in str(said[0].message) and "set_generator" in str(said[0].message)
    gen = clone[0].generator
    assert gen is clone[2].generator  # still shared
    assert gen.device.type == "cpu" and gen.initial_seed() == 1234
    x = torch.ones(4, 3)
    with pytest.warns(UserWarning, match="not available here"):
        again = load()
    assert torch.equal(clone(x), again(x))  # deterministic: the same seed each time


def test_a_record_without_initial_seed_from_an_absent_device_still_loads(monkeypatch):
    # Records written before the initial seed was kept have two fields.
    from skl0.nn import gates

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    state = torch.Generator().manual_seed(0).get_state()
    with pytest.warns(UserWarning, match="computed from the saved state"):
        a = gates._GeneratorRecord("cuda", state).restore()
        b = gates._GeneratorRecord("cuda", state).restore()
    assert a.device.type == "cpu" and a.initial_seed() == b.initial_seed()


class _OtherDeviceGenerator(torch.Generator):
    """A CPU generator that says it is on CUDA: a CUDA generator, on any machine."""

    @property
    def device(self):
        return torch.device("cuda", 0)


def test_a_generator_on_another_device_is_a_clear_error_when_sampling():
    # torch's own error ("Expected a 'cuda' device type for generator but
    # found 'cpu'") names neither the gate's generator nor the fix.
    from skl0.nn import L0Linear

    with pytest.raises(ValueError, match=r"generator is on device 'cuda:0' but log_alpha is "
                                         r"on 'cpu'.*set_generator\(module, torch.Generator"):
        sample_gate(torch.zeros(3), generator=_OtherDeviceGenerator())
    layer = L0Linear(3, 2).train()
    layer.generator = _OtherDeviceGenerator()
    with pytest.raises(ValueError, match="generator is on device 'cuda:0'"):
        layer(torch.ones(1, 3))
    gate = FeatureGate(3).train()
    gate.generator = _OtherDeviceGenerator()
    with pytest.raises(ValueError, match="generator is on device 'cuda:0'"):
        gate(torch.ones(1, 3))
    assert gate.eval()(torch.ones(1, 3)).shape == (1, 3)  # eval mode draws nothing


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_samples_follow_the_hard_concrete_distribution(dtype):
    # Noise drawn and transformed in bfloat16 biased E[z] by ~0.0024 (over
    # ten standard errors of this Monte Carlo mean); float16 is checked too.
    from skl0.nn import gate_moments

    la = torch.tensor([-2.0, 0.0, 2.0])
    n = 1_000_000
    z = sample_gate(la.to(dtype), generator=torch.Generator().manual_seed(0), shape=(n, 3))
    assert z.dtype == dtype and z.shape == (n, 3)
    z = z.float()
    mean = gate_moments(la.double())[0].float()
    se = z.std(0) / math.sqrt(n)
    assert ((z.mean(0) - mean).abs() < 4 * se).all(), (z.mean(0) - mean, se)
    # gradients still reach a half-precision log_alpha, in its dtype
    la_h = la.to(dtype).requires_grad_()
    sample_gate(la_h, generator=torch.Generator().manual_seed(0)).sum().backward()
    assert la_h.grad.dtype == dtype


def test_sample_gate_shape_must_end_with_log_alpha_shape():
    # shape=(4, 1) broadcast against log_alpha of shape (4,) to (4, 4).
    with pytest.raises(ValueError, match=r"shape=\(4, 1\) is invalid.*must end with \(4,\)"):
        sample_gate(torch.zeros(4), shape=(4, 1))
    with pytest.raises(ValueError, match="must end with"):
        sample_gate(torch.zeros(2, 3), shape=(3,))
    assert sample_gate(torch.zeros(4), shape=(2, 4)).shape == (2, 4)
    assert sample_gate(torch.zeros(()), shape=(5,)).shape == (5,)  # a scalar gate repeated


@pytest.mark.parametrize("func", [prob_nonzero, sample_gate])
def test_an_unhashable_temperature_is_named(func):
    # An lru_cache raised "TypeError: unhashable type: 'list'".
    with pytest.raises(ValueError, match=r"temperature=\[0.5\]"):
        func(torch.zeros(2), temperature=[0.5])


@pytest.mark.parametrize("func", [prob_nonzero, sample_gate])
@pytest.mark.parametrize("temperature", [np.array([0.5]), np.array(0.5), torch.tensor([0.5])])
def test_a_one_element_temperature_is_read_as_its_value(func, temperature):
    # float(np.array([0.5])) is a TypeError in NumPy 2: the check of a
    # one-element array failed with "only 0-dimensional arrays can be converted";
    # past the check, a numpy temperature met the tensor in numpy (float64 out).
    la = torch.tensor([-1.0, 0.0, 2.0])

    def kw():
        return {} if func is prob_nonzero else {"generator": torch.Generator().manual_seed(0)}

    torch.testing.assert_close(func(la, temperature, **kw()), func(la, 0.5, **kw()))


@pytest.mark.parametrize("func", [gate_moments, signal_fraction, log_alpha_for_signal])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"temperature": True}, r"temperature=True is invalid"),
     ({"gamma": "a"}, r"gamma='a' is invalid"),
     ({"zeta": [1.1]}, r"zeta=\[1.1\] is invalid")],
)
def test_moment_functions_check_their_parameters_as_the_others_do(func, kwargs, match):
    # They read float(temperature) first: True ran as temperature 1.0, and a
    # string failed with numpy's "could not convert string to float".
    with pytest.raises(ValueError, match=match):
        func(np.array([0.5]), **kwargs)


def test_moment_functions_take_one_element_tensor_parameters():
    la = np.array([-1.0, 0.0, 2.0])
    expected = gate_moments(la, 0.5)[0]
    np.testing.assert_allclose(gate_moments(la, torch.tensor(0.5))[0], expected)
    np.testing.assert_allclose(signal_fraction(la, np.array([0.5])),
                               signal_fraction(la, 0.5))


@pytest.mark.parametrize("cls, shape", [(FeatureGate, True), (SampleGate, False),
                                        (FeatureGate, (2, True)), (HardConcreteGate, (2, True))])
def test_gate_shapes_reject_bools(cls, shape):
    # L0Linear(True, 2) is refused; FeatureGate(True) made one gate.
    with pytest.raises(TypeError, match="not bools"):
        cls(shape)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: FeatureGate(0), r"n_features=0 is invalid; pass the number of gates"),
    (lambda: SampleGate(-2), r"n_samples=-2 is invalid; pass the number of gates"),
    (lambda: HardConcreteGate((2, 0)), r"must have positive sizes; pass sizes >= 1"),
])
def test_an_empty_gate_shape_names_the_parameter_and_the_fix(make, match):
    # FeatureGate(0) said "Gate shape (0,) must have positive sizes.": neither
    # n_features nor what to pass.
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.skipif(not hasattr(torch.compiler, "is_compiling"),
                    reason="torch.compiler.is_compiling needs torch >= 2.3")
def test_torch_compile_traces_the_checks_without_a_warning():
    # The free functions' parameter check is cached by functools.lru_cache,
    # which Dynamo ignores with a "potential silent incorrectness" warning
    # on every first compile of a gated model; under compile the check runs
    # uncached (once, at trace time) and still raises its ValueError.
    import warnings

    from skl0.nn import L0Linear

    torch.manual_seed(0)
    model = nn.Sequential(L0Linear(6, 4), nn.ReLU(), L0Linear(4, 1)).eval()
    x = torch.randn(5, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # torch's own note on the interpreter (Python 3.13.0 exactly), not skl0's code
        warnings.filterwarnings("ignore", "Guards may run slower on Python", RuntimeWarning)
        compiled = torch.compile(model, backend="eager")
        torch.testing.assert_close(compiled(x), model(x))
    f = torch.compile(lambda la, t: prob_nonzero(la, temperature=t), backend="eager")
    torch.testing.assert_close(f(torch.zeros(2), 0.5), prob_nonzero(torch.zeros(2), 0.5))
    with pytest.raises(ValueError, match="temperature=-1.0 is invalid"):
        f(torch.zeros(2), -1.0)


def test_distribution_mean_and_variance_are_the_monte_carlo_moments():
    # HardConcrete.mean is E[z] as in torch.distributions, not the
    # deterministic test-time gate (eq. 13), which deterministic() returns.
    la = torch.tensor([-1.5, 0.0, 2.0, 4.0], dtype=torch.float64)
    d = HardConcrete(la, temperature=0.5)
    z = d.rsample((200_000,), generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(d.mean.numpy(), z.mean(0).numpy(), atol=3e-3)
    np.testing.assert_allclose(d.variance.numpy(), z.var(0).numpy(), atol=3e-3)
    assert torch.equal(d.deterministic(), deterministic_gate(la))
    assert (d.deterministic() - d.mean).abs().max() > 0.05


def test_mean_gate_is_a_deprecated_name_of_deterministic():
    d = HardConcrete(torch.tensor([2.0, -1.0]))
    with pytest.warns(FutureWarning, match="deterministic"):
        old = d.mean_gate()
    assert torch.equal(old, d.deterministic())


def test_variance_is_never_negative_where_the_moments_cancel():
    # E[z^2] - E[z]^2 cancels for gates nearly always open: in float32, 10
    # of these 601 gates came out slightly negative (their sqrt NaN).
    v = HardConcrete(torch.linspace(-30, 30, 601)).variance
    assert bool((v >= 0).all()) and not bool(v.sqrt().isnan().any())
