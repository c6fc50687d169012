"""Adam without ``torch.optim.Optimizer``: torch's update, none of its one-off import.

``torch.optim.Optimizer``'s methods are wrapped by ``torch._disable_dynamo``,
whose first call in a process imports ``torch._dynamo`` (and sympy): about
1.1 CPU s, several seconds of wall time on a loaded machine, paid by the
first MLP-head fit, ``partial_fit`` stream or calibration of every process
(the CLI's, every joblib worker's), against ~50 ms for the fit itself.
:class:`Adam` keeps the optimizer's state itself and steps it by torch's
functional ``torch.optim.adam.adam`` with the arguments ``Adam.step``
passes (the state made as ``Adam._init_group`` makes it), so the updates
are torch's, bit for bit; :func:`cosine_lr` is ``CosineAnnealingLR``'s
recursion. Only what skl0 uses is here: one parameter group, default
betas, ``eps`` and no weight decay.
"""

from __future__ import annotations

import inspect
import math
from functools import lru_cache

import torch
from torch.optim.adam import adam as _adam_update

__all__ = ["Adam", "cosine_lr", "fused_where_possible"]


@lru_cache(maxsize=1)
def _update_arguments():
    """The keyword arguments this torch's functional ``adam`` takes (they grew over releases)."""
    return frozenset(inspect.signature(_adam_update).parameters)


def _fused_devices():
    """Device types with a fused Adam kernel in this torch (none where it cannot say)."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # pragma: no cover - older torch
        return []
    return list(_get_fused_kernels_supported_devices())


def _scalar_dtype(fused):
    """The dtype of the ``step`` count, as ``torch.optim.optimizer._get_scalar_dtype``."""
    if fused:
        return torch.float32
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class Adam:
    """``torch.optim.Adam(params, lr=lr, foreach=foreach, fused=fused)``, its update and state.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The tensors to train.
    lr : float
    foreach, fused : bool or None
        As for ``torch.optim.Adam``. A ``fused=True`` that this torch has no
        kernel for (the device or a non-float dtype) raises ``RuntimeError``
        here, as the caller's fallback expects.
    """

    def __init__(self, params, lr, *, foreach=None, fused=None):
        params = list(params)
        if fused:
            devices = _fused_devices()
            if not all(p.device.type in devices and torch.is_floating_point(p) for p in params):
                raise RuntimeError(f"no fused Adam kernel here (devices with one: {devices})")
        self.param_groups = [{
            "params": params, "lr": lr, "betas": (0.9, 0.999), "eps": 1e-8,
            "weight_decay": 0, "amsgrad": False, "maximize": False, "foreach": foreach,
            "capturable": False, "differentiable": False, "fused": fused,
            "decoupled_weight_decay": False,
        }]
        self.state = {}

    def zero_grad(self, set_to_none=True):
        """Clear the gradients (to None, or to zeros)."""
        for p in self.param_groups[0]["params"]:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_().zero_()

    def _new_state(self, p, group):
        state_on_device = group["capturable"] or group["fused"]
        return {
            # (torch keeps the count on the CPU unless fused or capturable)
            "step": (torch.zeros((), dtype=_scalar_dtype(group["fused"]), device=p.device)
                     if state_on_device else torch.tensor(0.0, dtype=_scalar_dtype(None))),
            "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
        }

    @torch.no_grad()
    def step(self):
        """One Adam update of the parameters that have a gradient."""
        group = self.param_groups[0]
        params, grads, avgs, sqs, steps = [], [], [], [], []
        has_complex = False
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("Adam does not take sparse gradients.")
            has_complex |= torch.is_complex(p)
            state = self.state.get(p)
            if not state:
                state = self.state[p] = self._new_state(p, group)
            params.append(p)
            grads.append(p.grad)
            avgs.append(state["exp_avg"])
            sqs.append(state["exp_avg_sq"])
            steps.append(state["step"])
        beta1, beta2 = group["betas"]
        options = {
            "foreach": group["foreach"], "capturable": group["capturable"],
            "differentiable": group["differentiable"], "fused": group["fused"],
            "grad_scale": None, "found_inf": None, "has_complex": has_complex,
            "decoupled_weight_decay": group["decoupled_weight_decay"],
        }
        known = _update_arguments()
        _adam_update(
            params, grads, avgs, sqs, [], steps,
            **{k: v for k, v in options.items() if k in known},
            amsgrad=group["amsgrad"], beta1=beta1, beta2=beta2, lr=group["lr"],
            weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
        )

    def state_dict(self):
        """``torch.optim.Optimizer.state_dict``'s layout: state keyed by parameter index."""
        group = self.param_groups[0]
        index = {id(p): i for i, p in enumerate(group["params"])}
        return {
            "state": {index[id(p)]: dict(s) for p, s in self.state.items()},
            "param_groups": [{**{k: v for k, v in group.items() if k != "params"},
                              "params": list(range(len(group["params"])))}],
        }

    def load_state_dict(self, state_dict):
        """Take a :meth:`state_dict` (or ``torch.optim.Adam``'s) for the same parameters.

        ``Optimizer.load_state_dict``'s rule: the moments take their
        parameter's dtype and device; a fused (or capturable) state's step
        count becomes float32 on the parameter's device; otherwise the step
        count is kept as saved.
        """
        group = self.param_groups[0]
        saved = state_dict["param_groups"][0]
        if len(saved["params"]) != len(group["params"]):
            raise ValueError("the saved state is for another number of parameters")
        params = dict(zip(saved["params"], group["params"]))
        for k in group:
            if k != "params" and k in saved:
                group[k] = saved[k]
        on_device = group["capturable"] or group["fused"]
        self.state = {}
        for i, values in state_dict["state"].items():
            p = params[i]
            state = {}
            for key, v in values.items():
                if key == "step":
                    state[key] = v.to(dtype=torch.float32, device=p.device) if on_device else v
                elif torch.is_floating_point(p):
                    state[key] = v.to(dtype=p.dtype, device=p.device)
                else:
                    state[key] = v.to(device=p.device)
            self.state[p] = state


def fused_where_possible(params, lr, fused):
    """:class:`Adam` fused if ``fused`` and this torch has the kernel for ``params``, else per-tensor.

    The callers decide when fusing pays (:func:`skl0._train.make_adam`, the
    calibration's solver); the fallback (``foreach=False``) is the same
    update rule, equal up to rounding.
    """
    params = list(params)
    if fused:
        try:
            return Adam(params, lr, fused=True)
        except RuntimeError:  # no fused kernel for this device or dtype
            pass
    return Adam(params, lr, foreach=False)


def cosine_lr(base, eta_min, t_max, step, lr):
    """The learning rate after ``step`` steps of ``CosineAnnealingLR(T_max=t_max, eta_min=eta_min)``.

    ``lr`` is the rate before this step (``base`` at step 0); torch's
    recursive form (``CosineAnnealingLR.get_lr``), not the closed form, so
    the rates are torch's to the last bit.
    """
    if step == 0:
        return base
    if (step - 1 - t_max) % (2 * t_max) == 0:
        return lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
    return ((1 + math.cos(math.pi * step / t_max))
            / (1 + math.cos(math.pi * (step - 1) / t_max)) * (lr - eta_min) + eta_min)
