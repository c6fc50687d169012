"""L0Linear / L0Conv2d: gate modes, initial sparsity, train/eval, noise, errors."""

import copy

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from skl0.nn import (
    FeatureGate,
    HardConcreteGate,
    L0Conv2d,
    L0Linear,
    set_generator,
    sparsity_report,
)

MODES = ["weight", "input", "output"]


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Seed torch's global generator: the layers' initial weights and the
    inputs drawn by torch.randn come from it (unseeded, they depended on
    which tests ran before in the same process)."""
    torch.manual_seed(0)


def _close(gate, index):
    with torch.no_grad():
        gate.log_alpha[index] = -20.0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("init_sparsity", [0.05, 0.3, 0.5, 0.9])
def test_linear_init_sparsity_is_exact(mode, init_sparsity):
    layer = L0Linear(7, 5, gate=mode, init_sparsity=init_sparsity)
    closed = 1 - layer.l0_gate.prob_open().detach()
    assert closed.mean().item() == pytest.approx(init_sparsity, abs=1e-6)
    # every gate starts the same, so the fraction is exact gate by gate
    assert torch.allclose(closed, torch.full_like(closed, init_sparsity), atol=1e-6)
    assert layer.init_sparsity == init_sparsity


@pytest.mark.parametrize("init_sparsity", [0.1, 0.75])
def test_conv_init_sparsity_is_exact(init_sparsity):
    conv = L0Conv2d(2, 6, 3, init_sparsity=init_sparsity)
    closed = 1 - conv.l0_gate.prob_open().detach()
    assert closed.mean().item() == pytest.approx(init_sparsity, abs=1e-6)


@pytest.mark.parametrize(
    "mode, shape", [("weight", (5, 7)), ("input", (7,)), ("output", (5,))]
)
def test_linear_gate_shapes(mode, shape):
    layer = L0Linear(7, 5, gate=mode)
    assert isinstance(layer.l0_gate, HardConcreteGate)
    assert tuple(layer.l0_gate.log_alpha.shape) == shape
    assert layer.weight_mask().shape == layer.weight.shape
    assert layer(torch.randn(3, 7)).shape == (3, 5)
    assert layer(torch.randn(2, 4, 7)).shape == (2, 4, 5)


def test_conv_gates_output_channels():
    conv = L0Conv2d(3, 4, 3, padding=1).eval()
    assert tuple(conv.l0_gate.log_alpha.shape) == (4,)
    _close(conv.l0_gate, [1, 3])
    out = conv(torch.randn(2, 3, 6, 6))
    assert out.shape == (2, 4, 6, 6)
    assert torch.all(out[:, [1, 3]] == 0)  # filter and bias switched off
    assert torch.all(out[:, [0, 2]] != 0)
    assert conv.weight_mask()[[1, 3]].sum() == 0


def test_closed_gates_switch_off_what_they_gate():
    x = torch.randn(4, 6)
    out_layer = L0Linear(6, 3, gate="output").eval()
    _close(out_layer.l0_gate, 1)
    assert torch.all(out_layer(x)[:, 1] == 0)

    in_layer = L0Linear(6, 3, gate="input").eval()
    _close(in_layer.l0_gate, 2)
    x2 = x.clone()
    x2[:, 2] = 100.0
    torch.testing.assert_close(in_layer(x), in_layer(x2))

    w_layer = L0Linear(6, 3, gate="weight").eval()
    _close(w_layer.l0_gate, (0, 4))
    assert not w_layer.weight_mask()[0, 4]
    assert w_layer.weight_mask().sum() == 17


@pytest.mark.parametrize("mode", MODES)
def test_eval_uses_deterministic_gates(mode):
    layer = L0Linear(5, 4, gate=mode).eval()
    x = torch.randn(3, 5)
    weight, bias = layer.folded_parameters()
    torch.testing.assert_close(layer(x), F.linear(x, weight, bias))
    torch.testing.assert_close(layer(x), layer(x))
    torch.testing.assert_close(layer.to_plain()(x), layer(x))


@pytest.mark.parametrize("make", [lambda: L0Linear(5, 4), lambda: L0Conv2d(5, 4, 1)])
def test_train_mode_samples_and_trains_gates(make):
    layer = make().train()
    layer.generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5) if isinstance(layer, L0Linear) else torch.randn(3, 5, 2, 2)
    first, second = layer(x), layer(x)
    assert not torch.equal(first, second)
    first.sum().backward()
    assert layer.l0_gate.log_alpha.grad is not None
    assert layer.weight.grad is not None


def test_masks_do_not_depend_on_mode_or_noise():
    layer = L0Linear(6, 5, gate="weight")
    with torch.no_grad():
        layer.l0_gate.log_alpha.normal_(
            0, 3, generator=torch.Generator().manual_seed(0)
        )
    layer.train()
    mask_train = layer.weight_mask().clone()
    report_train = sparsity_report(layer)
    layer(torch.randn(2, 6))  # draws noise
    layer.eval()
    assert torch.equal(mask_train, layer.weight_mask())
    assert report_train.equals(sparsity_report(layer))


def test_generator_makes_training_reproducible_without_global_seed():
    base = nn.Sequential(
        FeatureGate(4), L0Linear(4, 3, gate="input"), L0Conv2d(1, 2, 1)
    )

    def run():
        model = copy.deepcopy(base).train()
        set_generator(model, torch.Generator().manual_seed(42))
        x = torch.ones(2, 4)
        h = model[1](model[0](x))
        return h, model[2](h.reshape(2, 1, 3, 1))

    state = torch.get_rng_state()
    a, b = run(), run()
    assert torch.equal(torch.get_rng_state(), state)  # global RNG untouched
    for left, right in zip(a, b, strict=True):
        torch.testing.assert_close(left, right)


def test_generator_argument_and_property():
    gen = torch.Generator().manual_seed(3)
    layer = L0Linear(3, 2, generator=gen)
    assert layer.generator is gen and layer.l0_gate.generator is gen
    conv = L0Conv2d(1, 2, 1, generator=gen)
    assert conv.generator is gen
    copy.deepcopy(layer)  # the generator does not block copies


def test_reset_parameters_restores_init_sparsity():
    layer = L0Linear(4, 4, gate="output", init_sparsity=0.3)
    _close(layer.l0_gate, 0)
    layer.reset_parameters()
    closed = 1 - layer.l0_gate.prob_open().detach()
    assert torch.allclose(closed, torch.full_like(closed, 0.3), atol=1e-6)


def test_expected_l2_counts_bias_only_when_gated():
    layer = L0Linear(2, 2, gate="output", init_sparsity=0.5)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.fill_(2.0)
    assert layer.expected_l2().item() == pytest.approx(0.5 * (4 * 1 + 2 * 4))
    layer = L0Linear(2, 2, gate="input", init_sparsity=0.5)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    assert layer.expected_l2().item() == pytest.approx(0.5 * 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"init_sparsity": 0.0}, "init_sparsity=0.0"),
        ({"init_sparsity": 1}, "init_sparsity=1"),
        ({"init_sparsity": float("nan")}, "init_sparsity=nan"),
        ({"init_sparsity": True}, "init_sparsity=True"),
        ({"gate": "rows"}, "gate='rows'"),
        ({"temperature": 0.0}, "temperature=0.0"),
        ({"gamma": 0.5}, "gamma=0.5"),
        ({"zeta": 0.9}, "zeta=0.9"),
        ({"in_features": 0}, "in_features=0"),
        ({"out_features": 2.5}, "out_features=2.5"),
    ],
)
def test_linear_bad_arguments(kwargs, match):
    params = {"in_features": 3, "out_features": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        L0Linear(**params)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"out_channels": 0}, "out_channels=0"),
        ({"init_sparsity": -0.1}, "init_sparsity=-0.1"),
        ({"temperature": -1.0}, "temperature=-1.0"),
    ],
)
def test_conv_bad_arguments(kwargs, match):
    params = {"in_channels": 3, "out_channels": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        L0Conv2d(**params)


def test_set_generator_rejects_non_generator():
    with pytest.raises(ValueError, match="generator=0"):
        set_generator(L0Linear(2, 2), 0)


def test_layers_and_gates_accept_the_meta_device_for_deferred_initialisation():
    # device="meta" was refused ("skl0 runs on 'cpu' and 'cuda'"), though
    # torch's layers take it; to_empty then reset_parameters gives a layer
    # equal to one built on the CPU.
    from skl0.nn import HardConcreteGate

    layer = L0Linear(4, 3, gate="input", device="meta")
    assert layer.weight.is_meta and layer.l0_gate.log_alpha.is_meta
    assert HardConcreteGate(3, device=torch.device("meta")).log_alpha.is_meta
    layer.to_empty(device="cpu")
    torch.manual_seed(0)
    layer.reset_parameters()
    torch.manual_seed(0)
    ref = L0Linear(4, 3, gate="input")
    for a, b in zip(layer.state_dict().values(), ref.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="device='gpu'"):
        L0Linear(4, 3, device="gpu")


@pytest.mark.parametrize("bad", [5, "seed", torch.zeros(1)])
def test_generator_is_checked_when_set_as_when_constructed(bad):
    # layer.generator = 5 was taken and failed at the next forward with
    # torch's TypeError.
    with pytest.raises(ValueError) as made:
        L0Linear(3, 2, generator=bad)
    for module in (L0Linear(3, 2), L0Conv2d(1, 2, 1), FeatureGate(3), HardConcreteGate(2)):
        with pytest.raises(ValueError) as assigned:
            module.generator = bad
        assert str(assigned.value) == str(made.value)
        assert module.generator is None  # unchanged
    layer = L0Linear(3, 2)
    with pytest.raises(ValueError, match="is not a torch.Generator"):
        layer.l0_gate.generator = bad
    gen = torch.Generator().manual_seed(0)
    layer.generator = gen
    assert layer.l0_gate.generator is gen
    layer.generator = None
    assert layer.generator is None


def test_layers_take_device_auto_as_the_gates_do():
    # L0Linear(3, 2, device="auto") failed with torch's RuntimeError while
    # HardConcreteGate(3, device="auto") worked.
    from skl0._device import resolve_device
    from skl0.nn import L0DepthwiseConv2d

    auto = resolve_device("auto")
    assert HardConcreteGate(3, device="auto").log_alpha.device.type == auto.type
    for layer in (L0Linear(3, 2, device="auto"), L0Conv2d(2, 3, 3, device="auto"),
                  L0Conv2d(2, 3, 3, gate="weight", device="auto"),
                  L0DepthwiseConv2d(2, 3, device="auto")):
        assert layer.weight.device.type == auto.type
        assert layer.l0_gate.log_alpha.device.type == auto.type
    with pytest.raises(ValueError, match="device='gpu'"):
        L0Linear(3, 2, device="gpu")


@pytest.mark.parametrize("own_generator", [False, True])
def test_activation_checkpointing_gets_the_gradients_of_the_forward_only_without_generator(
        own_generator):
    # What docs/torch.md says of torch.utils.checkpoint: its recomputation
    # restores torch's default RNG state, not a torch.Generator's.
    from torch.utils.checkpoint import checkpoint

    layer = L0Linear(4, 3)
    x = torch.randn(5, 4)
    gen = torch.Generator().manual_seed(1) if own_generator else None
    set_generator(layer, gen)

    def grad(run):
        state = gen.get_state() if own_generator else torch.get_rng_state()
        layer.zero_grad()
        run().sum().backward()
        (gen.set_state if own_generator else torch.set_rng_state)(state)
        return layer.weight.grad.clone()

    checkpointed = grad(lambda: checkpoint(layer, x, use_reentrant=False))
    plain = grad(lambda: layer(x))
    assert torch.equal(checkpointed, plain) != own_generator
