"""Penalties, sparsity report, temperature schedules and set_temperature."""

import math

import pytest
import torch
from torch import nn

from skl0.nn import (
    BETA,
    GAMMA,
    ZETA,
    ExponentialTemperature,
    FeatureGate,
    L0Conv2d,
    L0Linear,
    LinearTemperature,
    SampleGate,
    l0_penalty,
    l0l2_penalty,
    set_temperature,
    sparsity_report,
)


class Mixed(nn.Module):
    """Every kind of gate, some outside any nn.Sequential."""

    def __init__(self):
        super().__init__()
        self.features = FeatureGate(5, init_prob=0.8)
        self.body = nn.Sequential(
            L0Linear(5, 4, gate="weight", init_sparsity=0.5),
            nn.ReLU(),
            L0Linear(4, 3, gate="input", init_sparsity=0.25),
        )
        self.head = L0Linear(3, 2, gate="output", init_sparsity=0.1)
        self.conv = L0Conv2d(1, 6, 1, init_sparsity=0.4)
        self.records = SampleGate(10, init_prob=0.6)


def test_l0_penalty_counts_every_gate():
    model = Mixed()
    expected = 5 * 0.8 + 20 * 0.5 + 4 * 0.75 + 2 * 0.9 + 6 * 0.6 + 10 * 0.6
    penalty = l0_penalty(model)
    assert penalty.item() == pytest.approx(expected, rel=1e-5)
    penalty.backward()
    for gate in [model.features, model.records, model.conv.l0_gate]:
        assert gate.log_alpha.grad is not None
    for layer in [model.body[0], model.body[2], model.head]:
        assert layer.l0_gate.log_alpha.grad is not None


def test_l0_penalty_without_gates_is_zero():
    assert l0_penalty(nn.Linear(3, 2)).item() == 0.0


def _hand_prob(log_alpha):
    shift = BETA * math.log(-GAMMA / ZETA)
    return [1 / (1 + math.exp(-(la - shift))) for la in log_alpha]


def test_l0l2_penalty_matches_hand_computation():
    layer = L0Linear(2, 3, gate="output")
    weight = [[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]]
    bias = [0.5, -1.0, 2.0]
    log_alpha = [-1.0, 0.5, 2.0]
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(weight))
        layer.bias.copy_(torch.tensor(bias))
        layer.l0_gate.log_alpha.copy_(torch.tensor(log_alpha))
    gate = FeatureGate(2, init_prob=0.7)
    model = nn.Sequential(gate, layer)

    prob = _hand_prob(log_alpha)
    l0, l2 = 0.3, 0.8
    sq = [sum(w * w for w in row) + b * b for row, b in zip(weight, bias, strict=True)]
    l0_part = l0 * (sum(prob) + 2 * 0.7)
    l2_part = l2 / 2 * sum(p * s for p, s in zip(prob, sq, strict=True))
    got = l0l2_penalty(model, l0=l0, l2=l2).item()
    assert got == pytest.approx(l0_part + l2_part, rel=1e-5)


def test_l0l2_weight_mode_uses_probabilities_not_logits():
    layer = L0Linear(2, 1, bias=False, gate="weight")
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[2.0, -3.0]]))
        layer.l0_gate.log_alpha.copy_(torch.tensor([[-2.0, 1.0]]))
    prob = _hand_prob([-2.0, 1.0])
    expected = 0.5 * (prob[0] * 4 + prob[1] * 9)
    assert l0l2_penalty(layer, l0=0.0, l2=1.0).item() == pytest.approx(
        expected, rel=1e-5
    )
    loss = l0l2_penalty(layer, l0=0.0, l2=1.0)
    loss.backward()
    assert layer.weight.grad is not None and layer.l0_gate.log_alpha.grad is not None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"l0": -1.0}, "l0=-1.0"),
        ({"l2": float("nan")}, "l2=nan"),
        ({"l0": "a"}, "l0='a'"),
    ],
)
def test_l0l2_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        l0l2_penalty(L0Linear(2, 2), **kwargs)


def test_sparsity_report_rows_and_counts():
    model = Mixed()
    with torch.no_grad():
        model.body[2].l0_gate.log_alpha[:2] = -20.0  # close 2 of 4 input columns
        model.features.log_alpha[0] = -20.0
    report = sparsity_report(model)
    assert list(report["layer"]) == [
        "features", "body.0", "body.2", "head", "conv", "records",
    ]  # fmt: skip
    row = report.set_index("layer").loc["body.2"]
    assert (row["n_gates"], row["open_gates"]) == (4, 2)
    assert (row["n_params"], row["kept_params"]) == (4 * 3 + 3, 2 * 3 + 3)
    assert row["expected_l0"] == pytest.approx(l0_penalty(model.body[2]).item())
    feat = report.set_index("layer").loc["features"]
    assert feat["gate"] == "features" and feat["open_gates"] == 4
    assert report["frac_kept"].between(0, 1).all()
    rows = sparsity_report(model, as_frame=False)
    assert isinstance(rows, list) and rows[2]["kept_params"] == 9


def test_sparsity_report_ignores_mode():
    model = Mixed()
    assert sparsity_report(model.train()).equals(sparsity_report(model.eval()))


def test_exponential_temperature():
    schedule = ExponentialTemperature(2.0, 0.5, n_steps=10)
    values = [schedule(step) for step in range(15)]
    assert values[0] == 2.0 and values[10] == 0.5 and values[14] == 0.5
    assert values[5] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(values[:10], values[1:11], strict=True))
    assert "ExponentialTemperature(start=2" in repr(schedule)


def test_linear_temperature():
    schedule = LinearTemperature(1.0, 0.2, n_steps=4)
    assert [schedule(s) for s in (0, 2, 4, 9)] == pytest.approx([1.0, 0.6, 0.2, 0.2])


@pytest.mark.parametrize(
    "args, match",
    [
        ((0.0, 0.5, 10), "start=0.0"),
        ((1.0, -0.5, 10), "end=-0.5"),
        ((1.0, 0.5, 0), "n_steps=0"),
        ((1.0, 0.5, 2.5), "n_steps=2.5"),
    ],
)
def test_schedule_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        ExponentialTemperature(*args)


def test_schedule_bad_step():
    with pytest.raises(ValueError, match="step=-1"):
        LinearTemperature(1.0, 0.5, 3)(-1)


def test_set_temperature_reaches_every_gate():
    model = Mixed()
    masks = [m.mask().clone() for m in model.modules() if hasattr(m, "mask")]
    before = l0_penalty(model).item()
    assert set_temperature(model, ExponentialTemperature(1.0, 0.3, 5)(5)) == 6
    temps = {m.temperature for m in model.modules() if hasattr(m, "temperature")}
    assert temps == {0.3}
    assert l0_penalty(model).item() != pytest.approx(before)  # eq. 12 uses beta
    after = [m.mask() for m in model.modules() if hasattr(m, "mask")]
    assert all(
        torch.equal(a, b) for a, b in zip(masks, after, strict=True)
    )  # eq. 13 does not


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), "hot"])
def test_set_temperature_rejects_bad_values_before_changing_anything(bad):
    model = Mixed()
    with pytest.raises(ValueError, match="temperature="):
        set_temperature(model, bad)
    temps = {m.temperature for m in model.modules() if hasattr(m, "temperature")}
    assert temps == {BETA}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_penalties_of_a_half_precision_model_are_summed_in_float32(dtype):
    # 131072 weight gates at P(open) = 0.9: a float16 sum overflowed to inf
    # (past 65504) and a bfloat16 one was 0.4% off.
    layer = L0Linear(512, 256, bias=False)
    with torch.no_grad():
        layer.weight.fill_(0.5)
    expected_l0 = 512 * 256 * 0.9
    half = layer.to(dtype)
    l0 = l0_penalty(half)
    assert l0.dtype == torch.float32
    assert math.isfinite(l0.item())
    # each P(open) is rounded to the half dtype (~0.9 +- 2e-3), not the sum
    assert l0.item() == pytest.approx(expected_l0, rel=3e-3)
    assert l0.item() == pytest.approx(half.l0_gate.prob_open().float().sum().item(), rel=1e-6)
    total = l0l2_penalty(half, l0=1.0, l2=1.0)
    assert total.item() == pytest.approx(expected_l0 * (1 + 0.5 * 0.25), rel=3e-3)
    total.backward()
    assert torch.isfinite(half.l0_gate.log_alpha.grad).all()
    assert sparsity_report(half)["expected_l0"].iloc[0] == pytest.approx(expected_l0, rel=3e-3)
