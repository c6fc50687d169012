"""Tests of the skl0.nn blocks added for l0-python users: per-weight and
depthwise convolution gates, the median gate, the cosine schedule,
HybridGate and PenaltyTracker."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from skl0.nn import (
    CosineTemperature,
    HybridGate,
    L0Conv2d,
    L0DepthwiseConv2d,
    L0Linear,
    PenaltyTracker,
    add_random,
    median_gate,
    prob_nonzero,
    prune,
    sample_gate,
    sparsity_report,
)


def test_median_gate_is_the_median_of_samples_and_open_iff_p_open_above_half():
    la = torch.linspace(-3, 3, 7, dtype=torch.float64)
    for beta in (0.25, 2 / 3, 1.5):
        z = sample_gate(
            la, beta, generator=torch.Generator().manual_seed(1), shape=(40001, 7)
        )
        assert torch.allclose(z.median(0).values, median_gate(la, beta), atol=0.02)
        open_ = median_gate(la, beta) > 0
        assert torch.equal(open_, prob_nonzero(la, beta) > 0.5)


def test_conv_weight_gates_zero_single_weights_and_keep_eval_output_after_prune():
    torch.manual_seed(0)
    conv = L0Conv2d(2, 3, kernel_size=2, gate="weight", init_sparsity=0.5)
    assert conv.l0_gate.log_alpha.shape == conv.weight.shape
    with torch.no_grad():
        conv.l0_gate.log_alpha.fill_(5.0)
        conv.l0_gate.log_alpha[0, 0, 0, 0] = -10.0
        conv.l0_gate.log_alpha[2] = -10.0  # a whole filter closed
    conv.eval()
    w, b = conv.folded_parameters()
    assert w[0, 0, 0, 0] == 0 and torch.all(w[2] == 0) and w[1].abs().sum() > 0
    assert torch.equal(b, conv.bias.detach())  # the bias is not gated
    assert conv.parameter_counts() == (24 + 3, 24 - 1 - 8 + 3)
    x = torch.randn(4, 2, 5, 5)
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(3 * 16, 1)).eval()
    with torch.no_grad():
        assert torch.allclose(prune(model)(x), model(x), atol=1e-5)
    assert sparsity_report(model)["gate"].tolist() == ["weight"]


def test_conv_rejects_unknown_gate():
    with pytest.raises(ValueError, match="gate='channel'"):
        L0Conv2d(1, 1, 3, gate="channel")


def test_depthwise_conv_closed_channel_is_exactly_zero():
    torch.manual_seed(0)
    conv = L0DepthwiseConv2d(4, kernel_size=3, padding=1)
    with torch.no_grad():
        conv.l0_gate.log_alpha[1] = -10.0
        conv.bias.fill_(0.3)
    out = conv.eval()(torch.randn(2, 4, 5, 5))
    assert torch.all(out[:, 1] == 0) and torch.all(out[:, 0] != 0)
    plain = conv.to_plain()
    assert plain.groups == 4
    x = torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        assert torch.allclose(plain(x), conv(x))


def test_cosine_schedule_values_and_monotone():
    s = CosineTemperature(2.0, 0.1, n_steps=100)
    assert s(0) == 2.0 and s(100) == 0.1 and s(1000) == 0.1
    assert math.isclose(s(50), 1.05)
    values = [s(t) for t in range(101)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    # flat at both ends: the first and last steps move less than the middle ones
    assert values[0] - values[1] < values[49] - values[50]
    with pytest.raises(ValueError, match="step"):
        s(-1)


def test_linear_and_exponential_schedules_end_exactly_at_end():
    from skl0.nn import ExponentialTemperature, LinearTemperature

    for cls in (LinearTemperature, ExponentialTemperature, CosineTemperature):
        assert cls(2.0, 0.1, n_steps=100)(100) == 0.1


def test_add_random_draws_only_free_items_reproducibly():
    chosen = torch.tensor([7, 2, 5])
    a = add_random(chosen, 20, 6, torch.Generator().manual_seed(3))
    b = add_random(chosen, 20, 6, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0])
    idx, from_chosen = a
    assert len(idx) == 9 and len(set(idx.tolist())) == 9
    assert set(idx[from_chosen].tolist()) == {2, 5, 7}
    assert torch.equal(idx, torch.sort(idx).values)
    # fewer free items than asked: all of them
    idx, from_chosen = add_random(chosen, 8, 10)
    assert idx.tolist() == list(range(8)) and int(from_chosen.sum()) == 3


def test_hybrid_gate_selects_open_gates_plus_random():
    gate = HybridGate(50, n_random=7, init_prob=0.05)
    with torch.no_grad():
        gate.log_alpha[[3, 9, 11]] = 6.0
    idx, from_gate = gate.select(torch.Generator().manual_seed(0))
    assert idx[from_gate].tolist() == [3, 9, 11] and int((~from_gate).sum()) == 7
    with pytest.raises(ValueError, match="n_random"):
        HybridGate(5, n_random=-1)


def test_penalty_tracker_logs_model_and_stats(tmp_path):
    layer = L0Linear(4, 2, init_sparsity=0.25)
    tracker = PenaltyTracker()
    for step in range(3):
        tracker.log_model(layer)
        tracker.log("loss", torch.tensor(3.0 - step))
    assert tracker.history["l0_penalty"] == pytest.approx([6.0] * 3)
    assert tracker.history["temperature"] == pytest.approx([2 / 3] * 3)
    assert tracker.stats("loss") == {
        "mean": 2.0,
        "std": pytest.approx(np.std([3, 2, 1])),
        "min": 1.0,
        "max": 3.0,
        "last": 1.0,
    }
    assert tracker.stats("missing") == {}
    tracker.log("extra", 1.0)
    frame = tracker.to_frame()
    assert frame.shape == (3, 5) and np.isnan(frame["extra"].iloc[1])
    tracker.clear()
    assert tracker.stats("loss") == {}


# --------------------------------------------- argument checks (session 13 audit)
def test_signal_fraction_is_zero_not_nan_where_both_moments_underflow():
    from skl0.nn import signal_fraction

    la = torch.tensor([-50.0, -104.0, -110.0, -1e4], requires_grad=True)
    h = signal_fraction(la)
    h.sum().backward()
    assert torch.isfinite(h).all() and torch.isfinite(la.grad).all()
    assert h[1:].eq(0).all() and la.grad[1:].eq(0).all()
    assert 0 < h[0] < 1e-20  # still the positive value where it is representable
    h64 = signal_fraction(np.array([-700.0, -750.0, -1e4, 0.0]))
    assert np.isfinite(h64).all() and (h64[1:3] == 0).all() and h64[3] > 0.5


@pytest.mark.parametrize("call, match", [
    (lambda: prob_nonzero(torch.zeros(2), temperature=-1.0), "temperature=-1.0"),
    (lambda: prob_nonzero(torch.zeros(2), gamma=0.1), "gamma=0.1"),
    (lambda: sample_gate(torch.zeros(2), temperature=0.0), "temperature=0.0"),
    (lambda: median_gate(torch.zeros(2), temperature=True), "temperature=True"),
    (lambda: __import__("skl0.nn", fromlist=["deterministic_gate"]).deterministic_gate(
        torch.zeros(2), gamma=0.5, zeta=0.8), "gamma=0.5"),
])
def test_the_free_hard_concrete_functions_check_their_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_add_random_refuses_what_it_cannot_honour():
    with pytest.raises(ValueError, match="n_random=-3"):
        add_random(torch.tensor([0]), 10, -3)
    with pytest.raises(ValueError, match=r"index -1, outside \[0, n_items=5\)"):
        add_random(torch.tensor([-1]), 5, 0)
    with pytest.raises(ValueError, match="repeated indices"):
        add_random(torch.tensor([1, 1]), 5, 0)
    idx, first = add_random(torch.tensor([3, 0]), 5, 2, generator=torch.Generator().manual_seed(0))
    assert idx.unique().numel() == 4 and {0, 3} <= set(idx.tolist()) and int(first.sum()) == 2


def test_feature_gate_checks_the_width_of_its_input():
    from skl0.nn import FeatureGate

    gate = FeatureGate(4).eval()
    for bad in (torch.ones(2, 1), torch.ones(2, 5), torch.tensor(1.0)):
        with pytest.raises(ValueError, match=r"n_features=4 \(gates of shape \(4,\)\), but"):
            gate(bad)
    assert gate(torch.ones(3, 2, 4)).shape == (3, 2, 4)
    grid = FeatureGate((2, 3)).eval()  # a gate per entry of the trailing (2, 3) axes
    assert grid(torch.ones(5, 2, 3)).shape == (5, 2, 3)
    with pytest.raises(ValueError, match=r"trailing dimensions are \(2, 3\)"):
        grid(torch.ones(5, 3))
    with pytest.raises(ValueError, match=r"n_features=\(\) is invalid"):
        FeatureGate(())


def test_gate_arguments_are_checked_where_they_are_given():
    from skl0.nn import HardConcreteGate, SampleGate

    with pytest.raises(ValueError, match="generator='x' is not a torch.Generator"):
        L0Linear(3, 2, generator="x")
    with pytest.raises(ValueError, match=r"init_prob=1.0 is invalid"):
        HardConcreteGate(3, init_prob=1.0)
    for gate in (SampleGate(3, dtype=torch.float64), HybridGate(3, 1, dtype=torch.float64)):
        assert gate.log_alpha.dtype == torch.float64


def test_sparsity_report_names_a_hybrid_gate_by_what_it_gates():
    report = sparsity_report(nn.Sequential(HybridGate(5, 2)))
    assert report["gate"].tolist() == ["records"]


def test_l0l2_penalty_charges_each_gate_once_whatever_it_covers():
    # The documented total: l0 * sum_gates P + l2 / 2 * sum_params P * theta^2.
    layer = L0Linear(4, 3, gate="input", bias=False, init_sparsity=0.5)
    with torch.no_grad():
        layer.weight.fill_(2.0)
    from skl0.nn import l0l2_penalty

    assert l0l2_penalty(layer, l0=1.0, l2=1.0).item() == pytest.approx(4 * 0.5 + 0.5 * 12 * 4 * 0.5)


def test_one_element_tensor_and_array_parameters_are_checked_by_value():
    # A schedule may keep its temperature as a tensor: checked by value, and
    # used as given (a gradient through gamma survives).
    from skl0.nn import FeatureGate, deterministic_gate

    gate = FeatureGate(3)
    gate.temperature = torch.tensor(0.5)
    assert torch.isfinite(gate.prob_open()).all()
    assert prob_nonzero(torch.zeros(2), temperature=np.array(0.5)).shape == (2,)
    gamma = torch.tensor(-0.1, requires_grad=True)
    deterministic_gate(torch.zeros(2), gamma=gamma).sum().backward()
    assert gamma.grad is not None
    for bad in (torch.tensor(-1.0), np.array(-1.0)):
        with pytest.raises(ValueError, match="temperature=-1.0 is invalid"):
            prob_nonzero(torch.zeros(1), temperature=bad)


def test_add_random_refuses_masks_and_floats_for_indices():
    # A boolean mask was read as the indices 0 and 1, and 1.7 as 1.
    with pytest.raises(ValueError, match=r"chosen has dtype torch.bool.*"
                                         r"mask\.nonzero\(\)\.squeeze\(1\)"):
        add_random(torch.tensor([True, False, True]), 3, 1)
    with pytest.raises(ValueError, match="chosen has dtype torch.float32.*integer indices"):
        add_random(torch.tensor([1.7]), 5, 1)
    with pytest.raises(ValueError, match="chosen has dtype"):
        add_random(np.array([0.0, 2.0]), 5, 1)
    mask = torch.tensor([True, False, True])
    idx, first = add_random(mask.nonzero().squeeze(1), 3, 0)
    assert idx.tolist() == [0, 2] and first.all()
    # any integer dtype, and an empty selection, still work
    idx, _ = add_random(torch.tensor([1, 2], dtype=torch.int32), 5, 0)
    assert idx.tolist() == [1, 2]
    idx, first = add_random([], 5, 2, generator=torch.Generator().manual_seed(0))
    assert len(idx) == 2 and not first.any()
