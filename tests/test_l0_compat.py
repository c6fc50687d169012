"""skl0.l0: l0-python's API over skl0.nn and skl0.calibration.

Each test pins one behaviour a user of l0-python relies on (a name, a
default, a formula, a checkpoint key) or one place where skl0.l0 differs on
purpose (see docs/migrating.md). Small, seeded, fast.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

import skl0.l0 as l0
import skl0.nn as snn
from skl0.l0 import (
    FeatureGate,
    HardConcrete,
    HybridGate,
    L0Conv2d,
    L0DepthwiseConv2d,
    L0Gate,
    L0Linear,
    PenaltyTracker,
    SampleGate,
    SparseCalibrationWeights,
    SparseL0Linear,
    SparseMLP,
    TemperatureScheduler,
)
from skl0.l0.calibration import _group_coefficients

# l0-python 0.6.2's top-level __all__.
ORIGINAL_NAMES = [
    "HardConcrete", "L0Linear", "L0Conv2d", "L0DepthwiseConv2d", "SparseMLP",
    "prune_model", "SparseL0Linear", "SparseCalibrationWeights", "L0Gate",
    "SampleGate", "FeatureGate", "HybridGate", "compute_l0_penalty",
    "compute_l2_penalty", "compute_l0l2_penalty", "get_sparsity_stats",
    "get_active_parameter_count", "TemperatureScheduler", "update_temperatures",
    "PenaltyTracker",
]  # fmt: skip


def median(la, temperature, gamma=-0.1, zeta=1.1):
    """l0-python's eval-mode gate, written out."""
    return torch.clamp(torch.sigmoid(la / temperature) * (zeta - gamma) + gamma, 0, 1)


def test_exports_match_the_original_package():
    assert sorted(l0.__all__) == sorted(ORIGINAL_NAMES)
    for name in ORIGINAL_NAMES:
        assert getattr(l0, name).__module__.startswith("skl0.l0")


@pytest.mark.parametrize("make, shape", [
    (lambda: L0Linear(3, 2), (4, 3)),
    (lambda: L0Conv2d(3, 2, 3, structured=True), (1, 3, 5, 5)),
    (lambda: L0DepthwiseConv2d(3, 3, padding=1), (1, 3, 5, 5)),
])
def test_layers_take_their_input_by_l0_pythons_keyword(make, shape):
    # l0-python's forward(self, input): layer(input=x) raised a TypeError
    # (the skl0.nn layers name it x).
    torch.manual_seed(0)
    layer = make().eval()
    x = torch.randn(*shape)
    torch.testing.assert_close(layer(input=x), layer(x), rtol=0, atol=0)


# -- distributions -------------------------------------------------------------


def test_hard_concrete_init_penalty_and_eval_gate_formulas():
    gate = HardConcrete(3, 4, temperature=0.3, stretch=0.2, init_mean=0.9)
    assert gate.gate_size == (3, 4) and (gate.gamma, gate.zeta) == (-0.2, 1.2)
    assert torch.allclose(gate.qz_logits, torch.full((3, 4), math.log(9.0)))
    with torch.no_grad():
        gate.qz_logits.copy_(torch.linspace(-3, 3, 12).reshape(3, 4))
    la = gate.qz_logits.detach()
    expected_p = torch.sigmoid(la - 0.3 * math.log(0.2 / 1.2))
    assert torch.allclose(gate.get_active_prob(), expected_p)
    assert math.isclose(
        gate.get_penalty().item(), expected_p.sum().item(), rel_tol=1e-6
    )
    assert torch.allclose(gate.eval()(), median(la, 0.3, -0.2, 1.2))
    assert gate((8, 3, 5, 5)).shape == (3, 4, 1, 1)
    assert gate.get_num_active() == int((expected_p > 0.5).sum())


def test_hard_concrete_clamps_logits_and_is_a_skl0_gate():
    gate = HardConcrete(4)
    with torch.no_grad():
        gate.qz_logits.copy_(torch.tensor([-1e3, -20.0, 20.0, 1e3]))
    p = gate.get_active_prob()
    assert p[0] == p[1] and p[2] == p[3] and torch.isfinite(gate.get_penalty())
    assert isinstance(gate, snn.HardConcreteGate)
    assert snn.l0_penalty(nn.Sequential(gate)).item() == gate.get_penalty().item()


def test_hard_concrete_samples_follow_the_global_seed():
    gate = HardConcrete(50, temperature=0.5).train()
    torch.manual_seed(3)
    a = gate()
    torch.manual_seed(3)
    b = gate()
    assert torch.equal(a, b) and not torch.equal(a, gate())
    assert ((a >= 0) & (a <= 1)).all() and (a == 0).any() and (a == 1).any()


# -- layers --------------------------------------------------------------------


def test_l0_linear_init_forward_and_checkpoint_names():
    torch.manual_seed(0)
    layer = L0Linear(6, 4, init_sparsity=0.3)
    torch.manual_seed(0)
    w = torch.empty(4, 6)
    nn.init.kaiming_normal_(w, mode="fan_out")
    assert torch.equal(layer.weight.detach(), w) and torch.all(layer.bias == 0)
    assert torch.allclose(
        layer.weight_gates.qz_logits, torch.full((4, 6), math.log(0.7 / 0.3))
    )
    with torch.no_grad():
        layer.weight_gates.qz_logits.normal_(0, 2)
    x = torch.randn(5, 6)
    gates = median(layer.weight_gates.qz_logits.detach(), 0.5)
    assert torch.allclose(
        layer.eval()(x), F.linear(x, layer.weight * gates, layer.bias)
    )
    state = layer.state_dict()
    assert sorted(state) == ["bias", "weight", "weight_gates.qz_logits"]
    other = L0Linear(6, 4)
    other.load_state_dict(state)
    assert torch.equal(other.weight_gates.qz_logits, layer.weight_gates.qz_logits)
    native_keys = {
        "l0_gate.qz_logits" if "gates" in k else k: v for k, v in state.items()
    }
    L0Linear(6, 4).load_state_dict(native_keys)  # skl0.nn names load too


def test_l0_linear_works_with_skl0_nn_prune():
    torch.manual_seed(1)
    model = nn.Sequential(L0Linear(5, 8), nn.ReLU(), L0Linear(8, 2)).eval()
    with torch.no_grad():
        model[0].weight_gates.qz_logits[:3].fill_(-10.0)  # close three hidden units
    x = torch.randn(7, 5)
    pruned = snn.prune(model)
    assert pruned[0].out_features == 5
    assert torch.allclose(pruned(x), model(x), atol=1e-5)


def test_l0_conv2d_per_weight_and_structured_gates():
    torch.manual_seed(0)
    conv = L0Conv2d(2, 3, kernel_size=3, padding=1)
    assert conv.weight_gates.qz_logits.shape == (3, 18) and not hasattr(
        conv, "channel_gates"
    )
    with torch.no_grad():
        conv.weight_gates.qz_logits.normal_(0, 2)
    x = torch.randn(2, 2, 4, 4)
    gates = median(conv.weight_gates.qz_logits.detach(), 0.5).view(conv.weight.shape)
    expected = F.conv2d(x, conv.weight * gates, conv.bias, 1, 1)
    assert torch.allclose(conv.eval()(x), expected, atol=1e-6)

    conv = L0Conv2d(2, 3, 3, structured=True)
    assert conv.channel_gates.qz_logits.shape == (3,) and not hasattr(
        conv, "weight_gates"
    )
    with torch.no_grad():
        conv.channel_gates.qz_logits.fill_(-30.0)
        conv.bias.fill_(0.5)
    # all channels closed: the bias is not gated, as in l0-python
    assert torch.allclose(conv.eval()(x), torch.full((2, 3, 2, 2), 0.5))
    assert sorted(conv.state_dict()) == ["bias", "channel_gates.qz_logits", "weight"]


def test_depthwise_gates_scale_the_input_channels():
    torch.manual_seed(0)
    conv = L0DepthwiseConv2d(3, kernel_size=3, padding=1)
    with torch.no_grad():
        conv.channel_gates.qz_logits.copy_(torch.tensor([-30.0, 0.3, 30.0]))
    x = torch.randn(2, 3, 5, 5)
    z = median(conv.channel_gates.qz_logits.detach(), 0.5).view(1, -1, 1, 1)
    plain = F.conv2d(x * z, conv.weight, conv.bias, 1, 1, 1, 3)
    assert torch.allclose(conv.eval()(x), plain, atol=1e-6)
    assert torch.allclose(conv(x)[:, 0], conv.bias[0].expand(2, 5, 5))  # closed: bias
    assert sorted(conv.state_dict()) == [
        "channel_gates.qz_logits",
        "depthwise_conv.bias",
        "depthwise_conv.weight",
    ]


@pytest.mark.parametrize("make, name", [
    (lambda: L0Linear(3, 2), "weight_gates"),
    (lambda: L0Conv2d(2, 3, 3), "weight_gates"),
    (lambda: L0Conv2d(2, 3, 3, structured=True), "channel_gates"),
    (lambda: L0DepthwiseConv2d(2, 3), "channel_gates"),
])
def test_assigning_a_layers_gate_replaces_the_gate_it_uses(make, name):
    # l0-python code swaps a gate by assigning it; the new gate must be the
    # one the layer runs and saves, not a stray child beside the old one.
    torch.manual_seed(0)
    layer = make().eval()
    old = getattr(layer, name)
    new = HardConcrete(*old.gate_size, init_mean=0.99)
    setattr(layer, name, new)
    assert getattr(layer, name) is new and layer.l0_gate is new
    assert [n for n, _ in layer.named_children()] == ["l0_gate"]
    assert torch.equal(layer.state_dict()[f"{name}.qz_logits"], new.qz_logits)
    assert layer.get_l0_penalty() == new.get_penalty()
    with pytest.raises(ValueError, match=rf"{name} has gate_size \(1,\)"):
        setattr(layer, name, HardConcrete(1))
    with pytest.raises(TypeError, match=rf"{name} must be a skl0.l0.HardConcrete"):
        setattr(layer, name, nn.Linear(2, 2))


def test_prune_model_zeroes_low_probability_weights_in_place():
    torch.manual_seed(0)
    model = nn.Sequential(L0Linear(4, 3), L0DepthwiseConv2d(2, 3))
    with torch.no_grad():
        model[0].weight_gates.qz_logits[1, 2] = -10.0
        model[1].channel_gates.qz_logits[0] = -10.0
    model.train()
    out = l0.prune_model(model, threshold=0.05)
    assert out is model and not model.training
    assert model[0].weight[1, 2] == 0 and int((model[0].weight == 0).sum()) == 1
    assert torch.all(model[1].weight[0] == 0) and torch.all(model[1].weight[1] != 0)


def test_sparse_mlp_losses_and_stats():
    torch.manual_seed(0)
    mlp = SparseMLP(6, 4, 2, init_sparsity=0.5, use_l2=True)
    assert mlp(torch.randn(3, 2, 3)).shape == (3, 2)
    per_layer = sum(m.get_l0_penalty() for m in (mlp.fc1, mlp.fc2, mlp.fc3))
    assert torch.allclose(mlp.get_l0_loss(), per_layer)
    l2 = sum((m.weight**2).sum() for m in (mlp.fc1, mlp.fc2, mlp.fc3))
    assert torch.allclose(mlp.get_l2_loss(), l2)
    assert sorted(mlp.get_sparsity_stats()) == ["fc1", "fc2", "fc3"]


# -- penalties -----------------------------------------------------------------


def test_l2_penalty_leaves_out_gate_logits():
    torch.manual_seed(0)
    model = nn.Sequential(L0Linear(3, 2, init_sparsity=0.1), nn.Linear(2, 1))
    weights = (model[0].weight ** 2).sum() + (model[1].weight ** 2).sum()
    assert model[0].weight_gates.qz_logits.abs().min() > 2  # l0-python would add them
    assert torch.allclose(l0.compute_l2_penalty(model), weights)
    l0_term = l0.compute_l0_penalty(model)
    assert torch.allclose(l0_term, model[0].get_l0_penalty())
    assert torch.allclose(
        l0.compute_l0l2_penalty(model), 1e-3 * l0_term + 1e-4 * weights
    )


def test_sparsity_stats_and_active_count():
    model = nn.Sequential(L0Linear(4, 3, init_sparsity=0.5), L0Linear(3, 2))
    stats = l0.get_sparsity_stats(model)
    assert stats["0"]["total_params"] == 12 and stats["1"]["total_params"] == 6
    p = torch.sigmoid(torch.tensor(0.5 * math.log(11)))  # logit 0 at temperature 0.5
    assert stats["0"]["active_params"] == pytest.approx(12 * p.item(), rel=1e-6)
    assert stats["0"]["sparsity"] == pytest.approx(1 - p.item(), rel=1e-6)
    # each layer's count is truncated on its own: int(9.22) + int(4.61)
    assert l0.get_active_parameter_count(model) == int(12 * p) + int(6 * p)


@pytest.mark.parametrize(
    "schedule, mid",
    [("linear", 1.05), ("exponential", math.sqrt(0.2)), ("cosine", 1.05)],
)
def test_temperature_scheduler(schedule, mid):
    s = TemperatureScheduler(2.0, 0.1, anneal_epochs=100, schedule=schedule)
    assert s.get_temperature(0) == 2.0 and s.get_temperature(100) == 0.1
    assert s.get_temperature(500) == 0.1
    assert s.get_temperature(50) == pytest.approx(mid)
    if schedule == "cosine":
        assert s.get_temperature(25) == pytest.approx(
            0.1 + 1.9 * (1 + math.cos(math.pi / 4)) / 2
        )
    with pytest.raises(ValueError, match="schedule"):
        TemperatureScheduler(schedule="step")


def test_update_temperatures_reaches_every_gate():
    model = nn.ModuleList(
        [L0Linear(2, 2), L0Conv2d(1, 2, 3, structured=True), FeatureGate(5, 2)]
    )
    l0.update_temperatures(model, 0.2)
    temps = [g.temperature for g in snn.hard_concrete_gates(model)]
    assert temps == [0.2, 0.2, 0.2]


def test_penalty_tracker_csv_with_uneven_histories(tmp_path):
    tracker = PenaltyTracker()
    for i in range(4):
        tracker.log("l0", torch.tensor(float(i)))
    tracker.log("sparsity", 0.5)
    assert tracker.get_stats("l0") == {
        "mean": 1.5, "std": pytest.approx(np.std([0, 1, 2, 3])),
        "min": 0.0, "max": 3.0, "last": 3.0,
    }  # fmt: skip
    assert tracker.get_history("sparsity") == [0.5] and tracker.get_stats("none") == {}
    path = tmp_path / "h.csv"
    tracker.save_to_csv(path)
    assert path.read_text().splitlines()[:3] == ["l0,sparsity", "0.0,0.5", "1.0,"]


# -- gates ---------------------------------------------------------------------


def test_l0_gate_selection_helpers():
    gate = L0Gate(6, init_mean=0.5).eval()
    with torch.no_grad():
        gate.gates.qz_logits.copy_(torch.tensor([-4.0, 4, -4, 4, 4, -4]))
    assert gate.get_active_indices().tolist() == [1, 3, 4]
    x = torch.ones(6, 2)
    assert torch.equal(
        gate.apply_gates(x, dim=0)[:, 0] > 0, torch.tensor([0, 1, 0, 1, 1, 0]).bool()
    )

    samples = SampleGate(6, target_samples=3).eval()
    assert samples.init_mean == 0.5
    samples.gates.load_state_dict(gate.gates.state_dict())
    data, idx = samples.select_samples(torch.arange(6.0))
    assert idx.tolist() == [1, 3, 4] and data.tolist() == [1.0, 3.0, 4.0]
    _, w, idx = samples.select_weighted_samples(torch.arange(6.0), torch.ones(6))
    assert idx.tolist() == [1, 3, 4] and torch.all(w > 0.9)

    feats = FeatureGate(6, max_features=6, temperature=0.1)
    assert feats.init_mean == 0.99  # min(6 / 6, 0.99)
    feats.gates.load_state_dict(gate.gates.state_dict())
    _, names = feats.eval().select_features_with_names(torch.ones(2, 6), list("abcdef"))
    assert names == ["b", "d", "e"]
    assert torch.allclose(feats.get_feature_importance(), feats.gates.get_active_prob())


def test_hybrid_gate_is_reproducible_without_touching_global_rng():
    gate = HybridGate(
        200, l0_fraction=0.25, random_fraction=0.5, target_items=40
    ).eval()
    assert (gate.n_l0, gate.n_random) == (10, 20)
    with torch.no_grad():
        gate.l0_gate.gates.qz_logits.fill_(-5.0)
        gate.l0_gate.gates.qz_logits[[7, 70, 170]] = 5.0
    state = torch.get_rng_state()
    a = gate.select(torch.arange(200.0), random_seed=1)
    b = gate.select(torch.arange(200.0), random_seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a[1], b[1]) and len(a[1]) == 23
    assert a[1][a[2] == "l0"].tolist() == [7, 70, 170]
    assert not torch.equal(a[1], gate.select(torch.arange(200.0), random_seed=2)[1])
    with pytest.raises(ValueError, match="add up to more than 1"):
        HybridGate(10, l0_fraction=0.6, random_fraction=0.6)


# -- sparse linear model -------------------------------------------------------


def test_sparse_l0_linear_seed_fit_and_predict():
    a, b = SparseL0Linear(8, seed=5), SparseL0Linear(8, seed=5)
    assert torch.equal(a.log_alpha, b.log_alpha)
    assert torch.allclose(a.log_alpha, torch.zeros(8), atol=0.05)
    rng = np.random.default_rng(0)
    X = sp.random(200, 8, density=0.6, format="csr", random_state=0)
    coef = np.array([3.0, 0, 0, -2.0, 0, 0, 0, 0])
    y = X @ coef + 1.0 + 0.01 * rng.standard_normal(200)
    torch.manual_seed(0)
    a.fit(X, y, lambda_reg=0.01, lr=0.05, epochs=400)
    assert set(a.get_selected_features().tolist()) >= {0, 3}
    assert a._cached_X_torch.is_sparse
    pred = a.predict(X)
    assert torch.equal(pred, a.predict(X))
    assert np.mean((pred.numpy() - y) ** 2) < 0.1 * np.var(y)
    no_bias = SparseL0Linear(8, fit_intercept=False)
    assert no_bias.bias is None


# -- calibration ---------------------------------------------------------------


def test_group_coefficients_match_the_documented_rule():
    groups = np.array([0, 0, 0, 1, 2, 2])
    coef = _group_coefficients(6, groups, True, {2: 4.0})
    assert coef.tolist() == [1 / 3, 1 / 3, 1 / 3, 1.0, 2.0, 2.0]
    assert _group_coefficients(6, groups, False, None).tolist() == [1.0] * 6
    with pytest.raises(ValueError, match="requires target_groups"):
        _group_coefficients(6, None, True, {0: 2.0})
    with pytest.raises(ValueError, match="key 9 not found"):
        _group_coefficients(6, groups, True, {9: 2.0})


def test_calibration_objective_is_l0_pythons():
    M = sp.random(4, 10, density=0.5, format="csr", random_state=1)
    y = np.array([1.0, 2.0, 3.0, 4.0])
    w0 = np.linspace(0.5, 2.0, 10)
    model = SparseCalibrationWeights(10, init_weights=w0, use_gates=False, seed=0)
    model.fit(M, y, lambda_l0=0.3, lambda_l2=0.01, lr=0.0, epochs=1, loss_type="relative",
              target_groups=[0, 0, 1, 1], group_multipliers={1: 2.0})  # fmt: skip
    achieved = M @ w0
    la = model.log_alpha.detach().double()
    expected = (
        np.sum(np.array([0.5, 0.5, 1.0, 1.0]) * ((y - achieved) / (y + 1)) ** 2)
        + 0.3 * torch.sigmoid(la - 2 / 3 * math.log(0.1 / 1.1)).sum().item()
        + 0.01 * np.sum(w0**2)
    )
    assert model.loss_curve_[0].item() == pytest.approx(expected, rel=1e-5)
    assert torch.allclose(model.predict(M), torch.tensor(achieved, dtype=torch.float32))


def test_calibration_init_options_and_errors():
    model = SparseCalibrationWeights(5, init_weights=2.5, init_keep_prob=[0.0, 0.2, 0.5, 0.8, 1.0],
                                     log_alpha_jitter_sd=0.0)  # fmt: skip
    assert torch.allclose(torch.exp(model.log_weight), torch.full((5,), 2.5))
    la = model.log_alpha.detach()
    assert (
        torch.isfinite(la).all()
        and la[2] == 0
        and la[1] == pytest.approx(math.log(0.25))
    )
    with pytest.raises(ValueError, match="must have shape"):
        SparseCalibrationWeights(5, init_weights=np.ones(4))
    # numpy scalars and 0-d arrays are scalars, as Python floats are
    for scalar in (np.float32(0.3), np.float64(0.3), np.array(0.3), torch.tensor(0.3)):
        m = SparseCalibrationWeights(5, init_keep_prob=scalar, init_weights=scalar,
                                     log_alpha_jitter_sd=0, seed=0)
        assert m.log_alpha.shape == (5,)
        np.testing.assert_allclose(m.log_alpha.detach(), math.log(0.3 / 0.7), rtol=1e-5)
        np.testing.assert_allclose(m.log_weight.detach().exp(), 0.3, rtol=1e-5)
    with pytest.raises(ValueError, match="init_keep_prob holds NaN"):
        SparseCalibrationWeights(5, init_keep_prob=[0.5, np.nan, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="init_weights holds negative"):
        SparseCalibrationWeights(5, init_weights=[1.0, -1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="loss_type"):
        model.fit(sp.eye(5, format="csr"), np.ones(5), loss_type="mae", epochs=1)


def test_calibration_fit_is_sparse_and_accurate():
    rng = np.random.default_rng(0)
    M = sp.random(8, 300, density=0.4, format="csr", random_state=0)
    M.data *= 10
    y = M @ rng.uniform(0.5, 1.5, 300)
    torch.manual_seed(0)
    model = SparseCalibrationWeights(300, seed=0, init_weights=1.0)
    model.fit(M, y, lambda_l0=2e-3, lr=0.1, epochs=400, loss_type="relative")
    active = model.get_active_weights()
    assert 0.1 < model.get_sparsity() < 0.95
    assert active["count"] == len(active["indices"]) and torch.all(active["values"] > 0)
    rel = np.abs(model.predict(M).numpy() - y) / y
    assert rel.mean() < 0.1  # about 0.5 before the fit (eval gates start at 0.5)
    # a dense M gives the same totals
    dense = model.predict(M.toarray())
    assert torch.allclose(dense, model.predict(M), rtol=1e-5)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: l0.HardConcrete(3, init_mean=1), "init_mean=1 is invalid"),
        (lambda: l0.SparseL0Linear(5, init_keep_prob=1.5), "init_keep_prob=1.5 is invalid"),
        (lambda: l0.SampleGate(5, target_samples=10), "target_samples=10 is invalid"),
        (lambda: l0.FeatureGate(5, max_features=0), "max_features=0 is invalid"),
        # session 13: the compat names, at construction (they named skl0.nn's
        # gamma, start, n_steps, or failed only at fit)
        (lambda: l0.HardConcrete(3, stretch=0), "stretch=0 is invalid"),
        (lambda: l0.HardConcrete(3, temperature=-1.0), "temperature=-1.0 is invalid"),
        (lambda: l0.TemperatureScheduler(initial_temp=0), "initial_temp=0 is invalid"),
        (lambda: l0.TemperatureScheduler(final_temp=-1), "final_temp=-1 is invalid"),
        (lambda: l0.TemperatureScheduler(anneal_epochs=-2), "anneal_epochs=-2 is invalid"),
        (lambda: l0.TemperatureScheduler().get_temperature(-1), "epoch=-1 is invalid"),
        (lambda: l0.SparseL0Linear(3, beta=0), "beta=0 is invalid"),
        (lambda: l0.SparseCalibrationWeights(3, gamma=0.2), "gamma=0.2 is invalid"),
        (lambda: l0.SparseCalibrationWeights(3, zeta=0.9), "zeta=0.9 is invalid"),
    ],
)
def test_bad_arguments_name_the_argument(make, match):
    # was "math domain error" or a ZeroDivisionError from the logit
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        # max_features > n_features was silently clamped to an initial mean of 0.99
        (lambda: l0.FeatureGate(10, 20), ValueError,
         r"max_features=20 is invalid for n_features=10; pass at most n_features"),
        # was "'>' not supported between instances of 'str' and 'int'"
        (lambda: l0.FeatureGate(10, "3"), TypeError,
         r"max_features='3' is invalid; pass an integer, not str"),
        (lambda: l0.FeatureGate(10, True), TypeError, r"max_features=True is invalid"),
        (lambda: l0.FeatureGate(True, 1), TypeError, r"n_features=True is invalid"),
        (lambda: l0.FeatureGate(0, 1), ValueError, r"n_features=0 is invalid"),
        (lambda: l0.SampleGate(10, "3"), TypeError, r"target_samples='3' is invalid"),
        (lambda: l0.SampleGate("10", 3), TypeError, r"n_samples='10' is invalid"),
        (lambda: l0.L0Gate(True), TypeError, r"size=True is invalid"),
        (lambda: l0.HybridGate(100, target_items=400), ValueError,
         r"target_items=400 is invalid for n_items=100"),
        (lambda: l0.HybridGate(100, target_items="40"), TypeError, r"target_items='40' is invalid"),
        (lambda: l0.HybridGate(100, l0_fraction="0.5"), ValueError,
         r"l0_fraction='0.5' is invalid; pass a float in \[0, 1\]"),
        # was SampleGate's "target_samples=0 is invalid", an argument HybridGate has not
        (lambda: l0.HybridGate(10), ValueError,
         r"target_items=2 and l0_fraction=0.25 give the gates .* = 0 of n_items=10"),
    ],
)
def test_bad_gate_sizes_name_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_gate_sizes_accept_numpy_integers_and_max_features_equal_to_n_features():
    gate = l0.FeatureGate(np.int64(5), np.int64(5))
    assert gate.init_mean == 0.99 and gate.gates.qz_logits.shape == (5,)
    assert l0.SampleGate(np.int32(10), np.int64(4)).init_mean == 0.4


# ------------------------------------------------ session 13 audit (l0-python 0.6.2)
def test_sparse_l0_linear_predicts_each_matrix_not_a_cached_one():
    X_train = sp.random(30, 5, density=0.4, format="csr", random_state=0)
    X_test = sp.random(30, 5, density=0.4, format="csr", random_state=1)
    assert X_train.shape == X_test.shape and X_train.nnz == X_test.nnz
    y = X_train @ np.array([1.0, -2.0, 0.0, 3.0, 0.5])
    torch.manual_seed(0)
    m = l0.SparseL0Linear(5, seed=0).fit(X_train, y, epochs=20)
    w = (m.weight * m.get_deterministic_gates()).detach().double().numpy()
    expected = X_test.toarray() @ w + m.bias.item()
    np.testing.assert_allclose(m.predict(X_test).double().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_sparse_calibration_weights_refuses_an_m_of_another_width():
    for ncols in (2, 4):
        M = sp.random(3, ncols, density=1.0, format="csr", random_state=0)
        with pytest.raises(ValueError, match=rf"M has shape \(3, {ncols}\).*n_features=3"):
            l0.SparseCalibrationWeights(3).fit(M, np.ones(3), epochs=1)


def test_sparse_calibration_weights_checks_y_and_reports_divergence():
    from skl0._train import NonFiniteLossError

    M = sp.random(4, 6, density=1.0, format="csr", random_state=0)
    with pytest.raises(ValueError, match="y has 3 entries but M has 4 rows"):
        l0.SparseCalibrationWeights(6).fit(M, np.ones(3), epochs=1)
    with pytest.raises(ValueError, match="y contains 1 NaN or infinite"):
        l0.SparseCalibrationWeights(6).fit(M, [1.0, np.nan, 1.0, 1.0], epochs=1)
    model = l0.SparseCalibrationWeights(6, seed=0)
    with pytest.raises(NonFiniteLossError, match=r"diverged.*lr=1e\+30"):
        model.fit(M, np.ones(4), lr=1e30, epochs=20)
    fine = l0.SparseCalibrationWeights(6, seed=0).fit(M, np.ones(4), epochs=20)
    assert torch.isfinite(fine.loss_curve_).all()


def test_prune_model_prunes_a_users_own_gated_layer():
    class Gated(torch.nn.Module):
        def __init__(self, shape, name):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(shape))
            setattr(self, name, l0.HardConcrete(*((shape[0],) if name == "channel_gates"
                                                 else shape)))

    dense = Gated((2, 3), "weight_gates")
    conv = Gated((3, 2, 2, 2), "channel_gates")
    with torch.no_grad():
        dense.weight_gates.qz_logits[0].fill_(-10.0)
        conv.channel_gates.qz_logits[1].fill_(-10.0)
    l0.prune_model(torch.nn.Sequential(dense, conv))
    assert dense.weight.tolist() == [[0.0] * 3, [1.0] * 3]
    assert conv.weight.sum((1, 2, 3)).tolist() == [8.0, 0.0, 8.0]


def test_temperature_scheduler_takes_fractional_epochs_as_l0_python():
    t0, t1, n = 2.0, 0.1, 10
    for epoch in (0, 2.5, 7, 9.99):
        p = epoch / n
        want = {"linear": t0 - (t0 - t1) * p,
                "exponential": np.exp(np.log(t0) - (np.log(t0) - np.log(t1)) * p),
                "cosine": t1 + (t0 - t1) * (1 + np.cos(np.pi * p)) / 2}
        for schedule, value in want.items():
            got = l0.TemperatureScheduler(t0, t1, n, schedule).get_temperature(epoch)
            assert got == pytest.approx(value, rel=1e-14)
    assert l0.TemperatureScheduler(t0, t1, 0).get_temperature(5) == t1
    assert l0.TemperatureScheduler(t0, t1, 10.0).get_temperature(3) == pytest.approx(
        np.exp(np.log(t0) - (np.log(t0) - np.log(t1)) * 0.3))


def test_reset_parameters_redraws_weights_and_leaves_the_gates():
    for layer in (l0.L0Linear(3, 2), l0.L0Conv2d(1, 2, 3, structured=True), l0.L0Conv2d(1, 2, 3)):
        with torch.no_grad():
            layer.l0_gate.qz_logits.fill_(5.0)
        before = layer.weight.detach().clone()
        layer.reset_parameters()
        assert layer.l0_gate.qz_logits.eq(5.0).all()
        assert not torch.equal(before, layer.weight)


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_seeded_models_copy_with_their_generator(how):
    # l0-python's seeded models keep a torch.Generator; older torch releases
    # (2.1) could neither pickle nor deep-copy one, so a seeded model could
    # not be saved. The copy draws what the original would, from its own.
    import copy
    import pickle

    m = l0.SparseL0Linear(5, seed=0)
    clone = pickle.loads(pickle.dumps(m)) if how == "pickle" else copy.deepcopy(m)
    assert isinstance(clone._generator, torch.Generator)
    assert clone._generator is not m._generator
    torch.testing.assert_close(clone.weight, m.weight)
    assert torch.equal(torch.randn(4, generator=clone._generator),
                       torch.randn(4, generator=m._generator))


# ------------------------------------------------ session 17 audit B
@pytest.mark.parametrize("fmt", ["csr", "csc", "dense"])
def test_sparse_calibration_weights_predicts_a_matrix_edited_in_place(fmt):
    M = sp.random(5, 40, density=0.5, format="csr", random_state=0)
    y = M @ np.ones(40)
    torch.manual_seed(0)
    model = SparseCalibrationWeights(40, seed=0).fit(M, y, lr=0.2, epochs=30)
    M = M.asformat(fmt) if fmt != "dense" else M.toarray()
    first = model.predict(M).numpy().copy()
    if fmt == "dense":
        M *= 2
    else:
        M.data *= 2  # the caller edits its matrix in place
    np.testing.assert_allclose(model.predict(M).numpy(), 2 * first, rtol=1e-6)


def test_sparse_l0_linear_predicts_a_matrix_edited_in_place():
    X = sp.random(30, 5, density=0.5, format="csr", random_state=0)
    y = X @ np.arange(5.0)
    torch.manual_seed(0)
    m = l0.SparseL0Linear(5, seed=0).fit(X, y, epochs=20)
    m.predict(X)
    X.data *= 2
    np.testing.assert_allclose(m.predict(X).numpy(), m.predict(X.copy()).numpy(), rtol=1e-6)
    w = (m.weight * m.get_deterministic_gates()).detach().double().numpy()
    np.testing.assert_allclose(m.predict(X).double().numpy(), X @ w + m.bias.item(),
                               rtol=1e-5, atol=1e-5)


def _nan_m(M):
    M = M.copy()
    M.data[0] = np.nan
    return M


@pytest.mark.parametrize("change, match", [
    (lambda M, y: dict(M=_nan_m(M)), r"M contains 1 NaN or infinite value"),
    (lambda M, y: dict(y=np.r_[-1.0, y[1:]], loss_type="relative"),
     r"y\[0\]=-1.0 with loss_type='relative'.*y \+ 1.*loss_type='mse'"),
    (lambda M, y: dict(target_groups=[0, 0, 1]),
     r"target_groups has 3 labels but M has 5 rows.*len == 5"),
])
def test_sparse_calibration_weights_fit_names_bad_input(change, match):
    M = sp.random(5, 40, density=0.5, format="csr", random_state=0)
    y = M @ np.ones(40)
    kw = dict(M=M, y=y, epochs=5)
    kw.update(change(M, y))
    with pytest.raises(ValueError, match=match):
        SparseCalibrationWeights(40, seed=0).fit(**kw)


def test_sparse_l0_linear_checks_x_and_y_and_takes_dense_x():
    # A wrong width, a y of another length and a y column (n, 1) failed with a
    # torch shape error, or not at all: y of shape (n, 1) broadcast against the
    # (n,) predictions into an (n, n) loss and fitted nonsense. A dense X fitted
    # once and then raised AttributeError ('ndarray' has no 'format').
    X = sp.random(40, 5, density=0.6, format="csr", random_state=0)
    y = X @ np.array([2.0, 0.0, -1.0, 0.0, 0.5]) + 1.0
    m = SparseL0Linear(5, seed=0)
    with pytest.raises(ValueError, match=r"X_sparse has 6 columns, but this model has n_features=5"):
        m.fit(sp.random(40, 6, density=0.5, format="csr", random_state=0), y, epochs=2)
    with pytest.raises(ValueError, match=r"X_sparse has 6 columns"):
        m.predict(sp.random(3, 6, density=0.5, format="csr", random_state=0))
    with pytest.raises(ValueError, match=r"y has 41 entries but X_sparse has 40 rows"):
        m.fit(X, np.append(y, 0.0), epochs=2)
    with pytest.raises(ValueError, match=r"y contains 1 NaN"):
        m.fit(X, np.where(np.arange(40) == 3, np.nan, y), epochs=2)
    fits = []
    for target in (y, y.reshape(-1, 1)):
        torch.manual_seed(0)
        fits.append(SparseL0Linear(5, seed=0).fit(X, target, epochs=30).predict(X))
    torch.testing.assert_close(fits[1], fits[0])
    dense = SparseL0Linear(5, seed=0)
    for _ in range(2):
        torch.manual_seed(0)
        dense.fit(X.toarray(), y, epochs=30)
    torch.manual_seed(0)
    sparse = SparseL0Linear(5, seed=0)
    sparse.fit(X, y, epochs=30)
    torch.manual_seed(0)
    sparse.fit(X, y, epochs=30)
    torch.testing.assert_close(dense.predict(X.toarray()), sparse.predict(X))


def test_penalty_tracker_plot_history_as_l0_python(tmp_path):
    # l0-python plots every metric for metrics=None or [] and labels each
    # panel "Step" / "Value"; skl0.l0 raised for [] and had no y label.
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tracker = PenaltyTracker()
    for v in (1.0, 2.0):
        tracker.log("l0", v)
    tracker.log("loss", 3.0)
    for metrics in (None, [], ["loss"]):
        plt.close("all")
        tracker.plot_history(metrics, save_path=tmp_path / "h.png")
        panels = [(a.get_title(), a.get_xlabel(), a.get_ylabel()) for a in plt.gcf().axes]
        names = ["loss"] if metrics else ["l0", "loss"]
        assert panels == [(n, "Step", "Value") for n in names]
    plt.close("all")
    with pytest.raises(ValueError, match="nothing to plot: no values were logged"):
        PenaltyTracker().plot_history(save_path=tmp_path / "e.png")


@pytest.mark.parametrize("cls", [SparseCalibrationWeights, l0.SparseL0Linear])
@pytest.mark.parametrize("kwargs, match", [
    (dict(n_features=-1), r"n_features=-1 is invalid; pass the number of .*an integer >= 1"),
    (dict(n_features=2.5), r"n_features=2.5 is invalid"),
    (dict(n_features=True), r"n_features=True is invalid"),
    (dict(n_features=4, device="tpu"), r"device='tpu' is not a device torch knows"),
    (dict(n_features=4, seed="x"), r"seed='x' is invalid; pass an integer seed or None"),
])
def test_sparse_models_name_a_bad_size_device_or_seed(cls, kwargs, match):
    # They were torch's errors: "Trying to create tensor with negative
    # dimension -1", "ones(): argument 'size' ... must be tuple of ints,
    # not float", "Expected one of cpu, cuda, ... device type at start of
    # device string: tpu", and int()'s "invalid literal".
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=-1), r"epochs=-1 is invalid; pass a number of Adam steps, an integer >= 0"),
    (dict(epochs=2.5), r"epochs=2.5 is invalid"),
    (dict(lr=-1.0), r"lr=-1.0 is invalid; pass a step size >= 0"),
    (dict(lr=np.inf), r"lr=inf is invalid"),
    (dict(lambda_l0=-0.5), r"lambda_l0=-0.5 is invalid; pass a penalty >= 0"),
    (dict(lambda_l2=np.nan), r"lambda_l2=nan is invalid"),
    (dict(verbose=True, verbose_freq=0), r"verbose_freq=0 is invalid"),
])
def test_sparse_calibration_weights_fit_names_bad_settings(kwargs, match):
    M = sp.random(5, 40, density=0.5, format="csr", random_state=0)
    model = SparseCalibrationWeights(40, seed=0)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        model.fit(M, M @ np.ones(40), **kwargs)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_a_diverged_calibration_keeps_the_weights_it_had():
    # A fit that raises NonFiniteLossError left NaN in log_weight and
    # log_alpha: predict gave NaN totals after the error.
    from skl0._train import NonFiniteLossError

    M = sp.random(4, 6, density=1.0, format="csr", random_state=0)
    # fit's gate noise comes from torch's global generator (as in
    # l0-python): seeded here, or this lr diverges on some draws only.
    with torch.random.fork_rng():
        torch.manual_seed(3)
        model = SparseCalibrationWeights(6, seed=0).fit(M, np.ones(4), epochs=2)
        before = model.predict(M).clone()
        curve = model.loss_curve_
        with pytest.raises(NonFiniteLossError):
            model.fit(M, np.ones(4), lr=1e30, epochs=20)
    assert torch.equal(model.predict(M), before)
    assert model.loss_curve_ is curve


def _torch_forms(A):
    """``A`` (a scipy sparse matrix) as float64 torch tensors: dense, COO, CSR."""
    dense = torch.tensor(A.toarray(), dtype=torch.float64)
    return {"dense": dense, "coo": dense.to_sparse(), "csr": dense.to_sparse_csr()}


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_sparse_models_take_torch_matrices_of_any_float_dtype():
    # SparseCalibrationWeights raised torch's "can't convert Sparse layout
    # tensor to numpy" for a torch sparse M (a dense one worked), and
    # SparseL0Linear.predict raised a dtype error for a float64 torch X (and
    # fit a numpy error for a sparse one): neither named the argument.
    M = sp.random(6, 30, density=0.4, format="csr", random_state=0)
    y = M @ np.ones(30)
    torch.manual_seed(0)
    cal = SparseCalibrationWeights(30, seed=0).fit(M, y, epochs=20, lr=0.05)
    expected = cal.predict(M)
    X = sp.random(25, 4, density=0.6, format="csr", random_state=1)
    t = X @ np.array([1.0, 0.0, -2.0, 0.0]) + 0.5
    torch.manual_seed(0)
    reg = SparseL0Linear(4, seed=0).fit(X, t, epochs=20)
    expected_reg = reg.predict(X)
    for kind, tM in _torch_forms(M).items():
        torch.testing.assert_close(cal.predict(tM), expected, msg=kind)
    for kind, tX in _torch_forms(X).items():
        torch.testing.assert_close(reg.predict(tX), expected_reg, msg=kind)
        torch.testing.assert_close(reg.predict(tX.float()), expected_reg, msg=kind)
    for kind, tM in _torch_forms(M).items():
        torch.manual_seed(0)
        again = SparseCalibrationWeights(30, seed=0).fit(tM, y, epochs=20, lr=0.05)
        torch.testing.assert_close(again.predict(M), expected, msg=kind)
    for kind, tX in _torch_forms(X).items():
        torch.manual_seed(0)
        again = SparseL0Linear(4, seed=0).fit(tX, t, epochs=20)
        torch.testing.assert_close(again.predict(X), expected_reg, msg=kind)
    with pytest.raises(ValueError, match=r"M has shape \(6, 29\)"):
        cal.predict(_torch_forms(M[:, :29])["coo"])
    with pytest.raises(ValueError, match=r"X_sparse has 3 columns"):
        reg.predict(_torch_forms(X)["dense"][:, :3])
    # A model moved to float64 takes a dense torch X in its own dtype.
    dense = torch.tensor(X.toarray())
    as_float32 = reg.predict(dense)
    reg.double()
    as_float64 = reg.predict(dense)
    assert as_float64.dtype == torch.float64
    torch.testing.assert_close(as_float64, as_float32.double(), rtol=1e-6, atol=1e-6)


def test_calibration_reads_labels_as_given_and_a_y_column_as_y():
    # docs/migrating.md: target_groups labels are compared as given (l0-python
    # casts them to int64, so 0.2 and 0.7 were one group and strings raised),
    # and y of shape (n_targets, 1) is read as (n_targets,) (l0-python
    # broadcast it into an (n_targets, n_targets) loss).
    floats = _group_coefficients(4, np.array([0.2, 0.7, 1.0, 1.0]), True, None)
    assert floats.tolist() == [1.0, 1.0, 0.5, 0.5]
    strings = _group_coefficients(4, np.array(["a", "b", "c", "c"]), True, {"c": 3.0})
    assert strings.tolist() == [1.0, 1.0, 1.5, 1.5]
    M = sp.random(5, 20, density=0.5, format="csr", random_state=2)
    y = M @ np.ones(20)
    fits = []
    for target in (y, y.reshape(-1, 1)):
        torch.manual_seed(0)
        model = SparseCalibrationWeights(20, seed=0)
        fits.append(model.fit(M, target, epochs=20, lr=0.05, loss_type="relative").predict(M))
    torch.testing.assert_close(fits[1], fits[0])


def test_sparse_models_name_a_matrix_with_more_than_two_dimensions():
    # A 3-d array or torch tensor got scipy's "CSR arrays don't yet support
    # 3D" (or "X_sparse has no columns"), which named neither the argument
    # nor the fix.
    M = sp.random(6, 30, density=0.4, format="csr", random_state=0)
    cal = SparseCalibrationWeights(30, seed=0).fit(M, M @ np.ones(30), epochs=2)
    X = sp.random(25, 4, density=0.6, format="csr", random_state=1)
    reg = SparseL0Linear(4, seed=0).fit(X, np.ones(25), epochs=2)
    for three_d in (np.ones((6, 30, 2)), torch.ones(6, 30, 2)):
        with pytest.raises(ValueError, match=r"^M has 3 dimensions \(shape \(6, 30, 2\)\); pass a 2-d"):
            cal.predict(three_d)
        with pytest.raises(ValueError, match=r"^M has 3 dimensions"):
            SparseCalibrationWeights(30).fit(three_d, np.ones(6), epochs=1)
    for three_d in (np.ones((25, 4, 2)), torch.ones(25, 4, 2)):
        with pytest.raises(ValueError, match=r"^X_sparse has 3 dimensions \(shape \(25, 4, 2\)\)"):
            reg.predict(three_d)
        with pytest.raises(ValueError, match=r"^X_sparse has 3 dimensions"):
            SparseL0Linear(4).fit(three_d, np.ones(25), epochs=1)
    # A 3-d sparse tensor names the argument too.
    with pytest.raises(ValueError, match=r"^M is a torch sparse tensor of shape \(6, 30, 2\)"):
        cal.predict(torch.ones(6, 30, 2).to_sparse())
    with pytest.raises(ValueError, match=r"^X_sparse is a torch sparse tensor"):
        SparseL0Linear(4).fit(torch.ones(25, 4, 2).to_sparse(), np.ones(25), epochs=1)


# ------------------------------------------------ bad-input audit (fuzz)
def _small_regression():
    X = sp.random(30, 4, density=0.6, format="csr", random_state=0)
    return X, X @ np.array([1.0, 0.0, -2.0, 0.0])


@pytest.mark.parametrize(("kwargs", "match"), [
    # epochs=-1 trained nothing without a word, 1.5 raised range()'s TypeError,
    # a NaN lambda_reg trained to NaN weights
    ({"epochs": -1}, r"epochs=-1 is invalid; pass a number of Adam steps"),
    ({"epochs": 1.5}, r"epochs=1.5 is invalid"),
    ({"lambda_reg": float("nan")}, r"lambda_reg=nan is invalid; pass a penalty >= 0"),
    ({"lr": -1.0}, r"lr=-1.0 is invalid; pass a step size >= 0"),
    ({"verbose": True, "verbose_freq": 0}, r"verbose_freq=0 is invalid"),
])
def test_sparse_l0_linear_fit_arguments_are_checked(kwargs, match):
    X, y = _small_regression()
    with pytest.raises(ValueError, match=match):
        SparseL0Linear(4, seed=0).fit(X, y, **kwargs)


def test_sparse_l0_linear_refuses_nan_x_and_no_rows():
    # NaN in X trained to NaN predictions; no rows started the bias at mean([]) = NaN
    X, y = _small_regression()
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match=r"X_sparse contains 1 NaN or infinite value"):
        SparseL0Linear(4, seed=0).fit(bad, y, epochs=2)
    with pytest.raises(ValueError, match=r"X_sparse has no rows \(shape \(0, 4\)\)"):
        SparseL0Linear(4, seed=0).fit(X[:0], y[:0], epochs=2)


def test_a_diverged_sparse_l0_linear_fit_raises_and_keeps_its_parameters():
    # lr=1e30 returned NaN weights and predictions without a word
    X, y = _small_regression()
    model = SparseL0Linear(4, seed=0).fit(X, y, epochs=5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(FloatingPointError, match=r"SparseL0Linear diverged.*lr=1e\+30"):
        model.fit(X, y, epochs=30, lr=1e30)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.isfinite(model.predict(X)).all()


@pytest.mark.parametrize(("groups", "multipliers", "match"), [
    # None raised numpy's "'<' not supported between ... 'NoneType' and 'int'",
    # a NaN label was a group of its own, mixed kinds numpy's TypeError
    ([0, None, 1, 1, 1], None, r"target_groups\[1\] is missing \(read as None"),
    ([0, np.nan, 1, 1, 1], None, r"target_groups\[1\] is missing \(read as nan"),
    (np.array([0, "a", 1, 1, 1], dtype=object), None,
     r"target_groups mixes labels that cannot be compared \(int, str\)"),
    # a negative multiplier made the objective unbounded below, NaN diverged
    # blaming lr, a string raised numpy's UFuncTypeError, a list an AttributeError
    ([0, 0, 1, 1, 1], {0: -2.0}, r"group_multipliers\[0\]=-2.0 is invalid; pass a finite"),
    ([0, 0, 1, 1, 1], {0: float("nan")}, r"group_multipliers\[0\]=nan is invalid"),
    ([0, 0, 1, 1, 1], {0: "2"}, r"group_multipliers\[0\]='2' is invalid"),
    ([0, 0, 1, 1, 1], [2.0, 3.0], r"group_multipliers is a list; pass a dict"),
])
def test_calibration_weights_check_groups_and_multipliers(groups, multipliers, match):
    M = sp.random(5, 20, density=0.5, format="csr", random_state=0)
    y = M @ np.ones(20)
    with pytest.raises(ValueError, match=match):
        SparseCalibrationWeights(20, seed=0).fit(M, y, epochs=2, target_groups=groups,
                                                 group_multipliers=multipliers)


@pytest.mark.parametrize("name", ["log_weight_jitter_sd", "log_alpha_jitter_sd"])
@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_calibration_weights_refuse_a_bad_jitter_sd(name, value):
    # fell through "sd > 0" to no jitter without a word
    with pytest.raises(ValueError, match=rf"{name}={value!r} is invalid; pass a standard"):
        SparseCalibrationWeights(10, **{name: value})


@pytest.mark.parametrize("threshold", [float("nan"), 1.0, 2.0, -0.5])
def test_prune_model_refuses_a_threshold_outside_0_1(threshold):
    # NaN compared False with every probability and zeroed the whole model
    # without a word, as 1 or more did (no probability exceeds 1)
    model = l0.SparseMLP(4, 3, 2)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=rf"threshold={threshold!r} is invalid; pass a "
                       r"probability in \[0, 1\)"):
        l0.prune_model(model, threshold=threshold)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("kwargs", [{"l0_lambda": -1.0}, {"l2_lambda": float("nan")}])
def test_compute_l0l2_penalty_refuses_a_negative_or_nan_weight(kwargs):
    # a negative weight rewarded open gates, NaN made the loss NaN
    (name, value), = kwargs.items()
    with pytest.raises(ValueError, match=rf"{name}={value!r} is invalid; pass a finite weight"):
        l0.compute_l0l2_penalty(l0.L0Linear(2, 2), **kwargs)
    # a tensor weight (a schedule's) is used as given
    layer = l0.L0Linear(2, 2)
    assert torch.isclose(l0.compute_l0l2_penalty(layer, torch.tensor(1.0), 0.0),
                         l0.compute_l0_penalty(layer))


@pytest.mark.parametrize(("args", "error", "match"), [
    ((0,), ValueError, r"input_dim=0 is invalid; pass the number of gates"),
    ((3, 0), ValueError, r"output_dim=0 is invalid"),
    ((2.5,), TypeError, r"input_dim=2.5 is invalid; pass an integer, not float"),
])
def test_hard_concrete_refuses_empty_or_fractional_sizes(args, error, match):
    # HardConcrete(0) made an empty gate without a word (L0Gate(0) is refused)
    with pytest.raises(error, match=match):
        l0.HardConcrete(*args)
