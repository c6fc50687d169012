"""skl0.nn.prune: smaller plain layers, same eval-mode output, original untouched."""

import copy

import pytest
import torch
from torch import nn

from skl0.nn import (
    FeatureGate,
    FixedScale,
    IndexSelect,
    L0Conv2d,
    L0Linear,
    hard_concrete_gates,
    prune,
)


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Seed torch's global generator: the layers' initial weights and the
    inputs drawn by torch.randn come from it (unseeded, they depended on
    which tests ran before in the same process)."""
    torch.manual_seed(0)


def _scramble(model, closed=0.5, seed=0):
    """Random gates (a fraction forced shut) and random batch-norm statistics."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for gate in hard_concrete_gates(model):
            la = torch.randn(gate.log_alpha.shape, generator=gen) * 2 + 1
            la[torch.rand(gate.log_alpha.shape, generator=gen) < closed] = -20.0
            gate.log_alpha.copy_(la)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.normal_(generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
                m.weight.normal_(generator=gen)
                m.bias.normal_(generator=gen)
    return model


def _plain_layers(model):
    return [m for m in model.modules() if type(m) in (nn.Linear, nn.Conv2d)]


def _n_params(model):
    return sum(p.numel() for p in model.parameters())


def _check_equivalent(model, x):
    state = copy.deepcopy(model.state_dict())
    training = model.training
    small = prune(model)
    model.eval()
    torch.testing.assert_close(small(x), model(x), rtol=1e-5, atol=1e-5)
    model.train(training)
    # the original is untouched and the copy holds no L0 gates
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert not hard_concrete_gates(small)
    assert not small.training
    return small


@pytest.mark.parametrize("mode", ["weight", "input", "output"])
@pytest.mark.parametrize("act", [nn.ReLU, nn.Sigmoid, nn.Tanh])
def test_prune_linear_chain(mode, act):
    torch.manual_seed(0)
    model = nn.Sequential(
        L0Linear(10, 16, gate=mode),
        act(),
        nn.BatchNorm1d(16),
        L0Linear(16, 12, gate=mode),
        act(),
        nn.Dropout(0.2),
        L0Linear(12, 3, gate=mode),
    )
    _scramble(model, closed=0.85 if mode == "weight" else 0.4)
    small = _check_equivalent(model.train(), torch.randn(7, 10))
    if mode != "weight":  # whole rows/columns close: the layers shrink
        assert _n_params(small) < _n_params(model) * 0.6
    hidden = [m for m in _plain_layers(small)]
    assert hidden[0].out_features == hidden[1].in_features < 16


def test_prune_removes_single_weights_as_zeros():
    layer = _scramble(L0Linear(8, 6, gate="weight"), closed=0.7)
    small = _check_equivalent(layer, torch.randn(5, 8))
    weights = [m.weight for m in _plain_layers(small)][0]
    assert int((weights != 0).sum()) == int(layer.weight_mask().sum())


def test_prune_standalone_input_gates_select_columns():
    layer = L0Linear(9, 4, gate="input")
    with torch.no_grad():
        layer.l0_gate.log_alpha[[0, 3, 4, 8]] = -20.0
    small = _check_equivalent(layer, torch.randn(6, 9))
    assert isinstance(small, nn.Sequential) and isinstance(small[0], IndexSelect)
    assert small[0].index.tolist() == [1, 2, 5, 6, 7]
    assert small[1].in_features == 5


def test_prune_standalone_output_gates_keep_shape():
    layer = L0Linear(5, 4, gate="output")
    with torch.no_grad():
        layer.l0_gate.log_alpha[1] = -20.0
    small = _check_equivalent(layer, torch.randn(3, 5))
    assert type(small) is nn.Linear and small.out_features == 4
    assert torch.all(small.weight[1] == 0) and small.bias[1] == 0


def test_prune_conv_chain():
    torch.manual_seed(1)
    model = nn.Sequential(
        L0Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        L0Conv2d(8, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.Sigmoid(),  # dead channels are a non-zero constant: folded into the bias
        nn.Flatten(),
        L0Linear(6 * 4 * 4, 5, gate="output"),
        nn.ReLU(),
        nn.Linear(5, 2),
    )
    _scramble(model, closed=0.5)
    small = _check_equivalent(model, torch.randn(2, 3, 8, 8))
    convs = [m for m in _plain_layers(small) if isinstance(m, nn.Conv2d)]
    assert convs[0].out_channels == convs[1].in_channels < 8
    assert convs[1].out_channels < 6
    assert _n_params(small) < _n_params(model)


def test_prune_conv_into_unpadded_conv_folds_constant_channels():
    torch.manual_seed(2)
    model = nn.Sequential(
        L0Conv2d(2, 6, 3), nn.Sigmoid(), L0Conv2d(6, 4, 3), nn.AdaptiveAvgPool2d(1)
    )
    _scramble(model, closed=0.5)
    small = _check_equivalent(model, torch.randn(3, 2, 9, 9))
    assert small[0].out_channels == small[2].in_channels < 6


def test_prune_folds_feature_gate_into_next_linear():
    model = nn.Sequential(FeatureGate(6), L0Linear(6, 3, gate="weight"), nn.ReLU())
    with torch.no_grad():
        model[0].log_alpha[[1, 2]] = -20.0
    small = _check_equivalent(model, torch.randn(4, 6))
    assert isinstance(small[0], nn.Identity)
    assert small[1][0].index.tolist() == [0, 3, 4, 5]


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = FeatureGate(4)
        self.fc = L0Linear(4, 3, gate="output")
        self.conv = L0Conv2d(1, 2, 1)

    def forward(self, x):
        h = self.fc(self.gate(x))
        return self.conv(h.reshape(-1, 1, 3, 1)).flatten(1)


def test_prune_outside_sequential_folds_gates_in_place():
    model = _scramble(Custom(), closed=0.3)
    small = _check_equivalent(model, torch.randn(5, 4))
    assert isinstance(small.gate, FixedScale)
    assert type(small.fc) is nn.Linear and small.fc.out_features == 3
    assert type(small.conv) is nn.Conv2d


def test_prune_keeps_a_unit_when_all_close():
    model = nn.Sequential(L0Linear(3, 4, gate="output"), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        model[0].l0_gate.log_alpha.fill_(-20.0)
    small = _check_equivalent(model, torch.randn(2, 3))
    assert small[0].out_features == 1


def test_pruned_model_can_be_fine_tuned():
    model = _scramble(nn.Sequential(L0Linear(4, 6, gate="output"), nn.ReLU(),
                                    nn.Linear(6, 1)), closed=0.5)  # fmt: skip
    small = prune(model).train()
    small(torch.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in small.parameters())


def test_prune_keeps_frozen_parameters_frozen():
    # prune and to_plain built every new layer trainable: a frozen (fine-
    # tuning) layer came back with requires_grad=True, sliced or not.
    model = _scramble(nn.Sequential(
        L0Linear(6, 8, gate="output"), nn.BatchNorm1d(8), nn.ReLU(),
        L0Linear(8, 5, gate="input"), nn.ReLU(), nn.Linear(5, 2)), closed=0.4)  # fmt: skip
    model[0].weight.requires_grad_(False)  # the producer, sliced to the kept units
    for p in model[1].parameters():  # the batch norm, sliced too
        p.requires_grad_(False)
    model[3].bias.requires_grad_(False)  # a layer folded to plain
    x = torch.randn(7, 6)
    small = _check_equivalent(model, x)
    plain = _plain_layers(small)
    assert plain[0].weight.shape[0] < 8  # (units were removed)
    assert not plain[0].weight.requires_grad and plain[0].bias.requires_grad
    bn = next(m for m in small.modules() if isinstance(m, nn.BatchNorm1d))
    assert bn.num_features < 8 and not bn.weight.requires_grad and not bn.bias.requires_grad
    assert plain[1].weight.requires_grad and not plain[1].bias.requires_grad
    assert plain[2].weight.requires_grad and plain[2].bias.requires_grad
    plain_layer = L0Linear(3, 2)
    plain_layer.weight.requires_grad_(False)
    assert not plain_layer.to_plain().weight.requires_grad


def test_prune_and_to_plain_leave_torch_global_random_state_alone():
    # Each new plain layer ran its random initialisation before its weights
    # were copied in, which moved later dropout and shuffling draws.
    torch.manual_seed(0)
    lin = _scramble(nn.Sequential(L0Linear(6, 8, gate="output"), nn.BatchNorm1d(8), nn.ReLU(),
                                  L0Linear(8, 3, gate="input")))
    conv = _scramble(nn.Sequential(L0Conv2d(3, 4, 3, gate="output"), nn.ReLU(),
                                   L0Conv2d(4, 2, 3, gate="weight")))
    for model, x in [(lin, torch.randn(5, 6)), (conv, torch.randn(2, 3, 7, 7))]:
        state = torch.get_rng_state()
        _check_equivalent(model, x)
        model[0].to_plain()
        assert torch.equal(torch.get_rng_state(), state)


def test_prune_rejects_non_modules():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        prune("model")


@pytest.mark.parametrize("padding", [0, 1])
def test_a_constant_filter_is_folded_only_into_an_unpadded_conv(padding):
    # A weight-gated filter with every weight closed outputs its bias. Its
    # constant is folded into the next convolution's bias when that one has
    # no padding; with zero padding the borders would see zeros, so it stays.
    torch.manual_seed(0)
    model = nn.Sequential(L0Conv2d(3, 4, 3, gate="weight"), nn.ReLU(),
                          L0Conv2d(4, 2, 3, padding=padding))
    with torch.no_grad():
        model[0].l0_gate.log_alpha[0].fill_(-20.0)
        model[0].bias[0] = 0.5
    small = _check_equivalent(model.eval(), torch.randn(2, 3, 8, 8))
    assert small[0].out_channels == small[2].in_channels == (3 if padding == 0 else 4)
