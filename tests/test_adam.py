"""skl0._adam: torch.optim.Adam's updates without torch.optim.Optimizer's first-use import."""

import math
import subprocess
import sys

import pytest
import torch

from skl0._adam import Adam, cosine_lr


def _params(dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(5, 3, generator=g, dtype=dtype).requires_grad_(True),
            torch.randn(3, generator=g, dtype=dtype).requires_grad_(True)]


def _train(opt, params, steps=25, seed=1):
    g = torch.Generator().manual_seed(seed)
    targets = [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params]
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = sum(((p - t) ** 2 * (1 + p.abs())).sum() for p, t in zip(params, targets))
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kw", [dict(fused=True), dict(foreach=False), dict()])
def test_adam_steps_are_torch_adams_bit_for_bit(dtype, kw):
    ours, theirs = _params(dtype), _params(dtype)
    got = _train(Adam(ours, 0.05, **kw), ours)
    want = _train(torch.optim.Adam(theirs, lr=0.05, **kw), theirs)
    for a, b in zip(got, want):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kw", [dict(fused=True), dict()])
def test_adam_state_dict_continues_as_torch_adams(kw):
    # partial_fit keeps the optimizer's state between calls (and in pickles
    # made when it was torch.optim.Adam's): both layouts load either way.
    ours, theirs = _params(torch.float64), _params(torch.float64)
    opt, ref = Adam(ours, 0.05, **kw), torch.optim.Adam(theirs, lr=0.05, **kw)
    _train(opt, ours, steps=7)
    _train(ref, theirs, steps=7)
    ours2 = [p.detach().clone().requires_grad_(True) for p in ours]
    theirs2 = [p.detach().clone().requires_grad_(True) for p in theirs]
    resumed = Adam(ours2, 0.05, **kw)
    resumed.load_state_dict(ref.state_dict())  # torch's layout into ours
    again = torch.optim.Adam(theirs2, lr=0.05, **kw)
    again.load_state_dict(opt.state_dict())  # ours into torch's
    a = _train(resumed, ours2, steps=6, seed=2)
    b = _train(again, theirs2, steps=6, seed=2)
    for x, y in zip(a, b):
        assert torch.equal(x, y)


def test_fused_adam_refused_where_torch_has_no_kernel():
    with pytest.raises(RuntimeError, match="fused"):
        Adam([torch.zeros(3, dtype=torch.int64)], 0.1, fused=True)


def test_cosine_lr_is_cosine_annealing_lrs_recursion():
    base, t_max = 0.3, 17
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=base / 10)
    lr = base
    for step in range(1, 3 * t_max):
        opt.step()
        sched.step()
        lr = cosine_lr(base, base / 10, t_max, step, lr)
        assert lr == opt.param_groups[0]["lr"]
    assert lr != base and math.isfinite(lr)


def test_fits_that_train_by_adam_do_not_import_torch_dynamo():
    # torch.optim.Optimizer's first method call imports torch._dynamo and
    # sympy (1.1 CPU s, against 0.05 s for the fit), in every fresh process.
    code = """
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from skl0 import L0Regressor
from skl0.calibration import SparseCalibrator
rng = np.random.default_rng(0)
X = rng.standard_normal((120, 5)); y = X[:, 0] ** 2 + X[:, 1]
L0Regressor(hidden_layer_sizes=(4,), k=2, max_iter=20, random_state=0).fit(X, y)
L0Regressor(hidden_layer_sizes=(4,), k=2, random_state=0).partial_fit(X, y)
M = np.abs(rng.standard_normal((200, 3)))
SparseCalibrator(random_state=0, max_iter=20, polish_iter=5).fit(M, M.sum(0))
from skl0.l0 import SparseCalibrationWeights, SparseL0Linear
SparseL0Linear(5, seed=0).fit(X, y, epochs=5)
SparseCalibrationWeights(200).fit(M.T, M.sum(0), epochs=5)
print(sorted(m for m in sys.modules if m.startswith(("torch._dynamo", "sympy")))[:3])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
