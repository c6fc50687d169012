"""Training core of sparse calibration: plain torch functions, no scikit-learn.

Two stages:

1. :func:`fit_gated` learns ``weight_i = exp(log_w_i) * z_i`` with
   ``z_i`` a Hard Concrete gate of a :class:`skl0.nn.SampleGate`, minimising
   ``datafit(M.T @ weight) + lam * E[L0] + l2 * pull(log_w)`` by Adam on
   ``log_w`` and the gates' ``log_alpha`` together. With a record count
   ``k``, ``lam`` follows a :class:`SizeController`.
2. :func:`polish` refits the weights of the kept records alone (gates
   fixed, ``weight = exp(v)`` so they stay positive) with Adam, to cut the
   error that the noisy gates left.

Losses are collected on the device and copied to the host once at the end.
"""

from __future__ import annotations

import math

import torch

from ._penalty import SizeController, log_pull

__all__ = ["fit_gated", "polish"]


def _adam(params, lr):
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # fused Adam unavailable for this device
        return torch.optim.Adam(params, lr=lr, foreach=True)


def fit_gated(
    op,
    datafit,
    log_w,
    gate,
    *,
    lam,
    k=None,
    l2=0.0,
    ref_log_w=None,
    max_iter=1000,
    learning_rate=0.05,
    anneal_fraction=0.5,
    generator=None,
    callback=None,
):
    """Learn gated weights; return the trained tensors and the loss curve.

    Parameters
    ----------
    op : TotalsOperator
        Computes ``M.T @ w`` with a gradient.
    datafit : callable
        ``datafit(totals) -> scalar loss``.
    log_w : torch.Tensor of shape (N,)
        Initial log-weights (copied, not modified).
    gate : skl0.nn.SampleGate
        The record gates, already on the device; trained in place.
    lam : float
        Penalty per kept record (initial dual variable when ``k`` is set).
    k : int or None
        Number of records to keep; ``None`` keeps ``lam`` fixed.
    l2 : float
        Strength of the log-scale pull toward ``ref_log_w``.
    ref_log_w : torch.Tensor or None
        Reference log-weights for the pull (needed when ``l2 > 0``). With
        ``k`` set, ``log(N / k)`` is added so the kept records can carry
        the dropped ones' share.
    max_iter : int
    learning_rate : float
    anneal_fraction : float
        Share of ``max_iter`` over which the target count falls to ``k``.
    generator : torch.Generator or None
        Noise source of the gates.
    callback : callable or None
        ``callback(step, loss_tensor, gate)`` after each step.

    Returns
    -------
    log_w : torch.Tensor
        Trained log-weights (detached).
    loss_curve : torch.Tensor of shape (max_iter,)
        Objective (data fit plus penalties) at each step.
    lam : float
        Final ``lam``.
    """
    log_w = log_w.detach().clone().requires_grad_(True)
    gate.train()
    optimizer = _adam([log_w, gate.log_alpha], learning_rate)
    lam_t = torch.tensor(float(lam), device=log_w.device, dtype=log_w.dtype)
    controller = None
    if k is not None:
        start = float(gate.expected_l0())
        controller = SizeController(lam_t, k, start, anneal_fraction * max_iter)
        if ref_log_w is not None:
            ref_log_w = ref_log_w + math.log(log_w.numel() / k)
    losses = torch.empty(max_iter, device=log_w.device, dtype=log_w.dtype)
    for step in range(max_iter):
        optimizer.zero_grad(set_to_none=True)
        weights = torch.exp(log_w) * gate.sample(generator=generator)
        expected_l0 = gate.expected_l0()
        loss = datafit(op.totals(weights)) + lam_t * expected_l0
        if l2 > 0:
            loss = loss + l2 * log_pull(log_w, ref_log_w)
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
        if controller is not None:
            controller.update(step, expected_l0.detach())
        if callback is not None:
            callback(step, losses[step], gate)
    gate.eval()
    return log_w.detach(), losses, float(lam_t)


def polish(
    op,
    datafit,
    log_w,
    *,
    l2=0.0,
    ref_log_w=None,
    max_iter=200,
    learning_rate=0.05,
    callback=None,
):
    """Refit positive weights ``exp(v)`` of the kept records, gates fixed.

    Parameters
    ----------
    op : TotalsOperator
        Operator restricted to the kept records.
    datafit : callable
    log_w : torch.Tensor of shape (n_kept,)
        Initial log-weights of the kept records.
    l2, ref_log_w : see :func:`fit_gated`
        ``ref_log_w`` is already the reference of the kept records.
    max_iter : int
    learning_rate : float
        Initial Adam step; decays by cosine to a tenth of it.
    callback : callable or None
        ``callback(step, loss_tensor)`` after each step.

    Returns
    -------
    log_w : torch.Tensor
        Polished log-weights (the best iterate seen).
    loss_curve : torch.Tensor of shape (max_iter,)
    """
    v = log_w.detach().clone().requires_grad_(True)
    losses = torch.empty(max_iter, device=v.device, dtype=v.dtype)
    if max_iter == 0 or v.numel() == 0:
        return v.detach(), losses[:0]
    optimizer = _adam([v], learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max_iter, eta_min=learning_rate / 10
    )
    best_v, best = v.detach().clone(), None
    for step in range(max_iter):
        optimizer.zero_grad(set_to_none=True)
        loss = datafit(op.totals(torch.exp(v)))
        if l2 > 0:
            loss = loss + l2 * log_pull(v, ref_log_w)
        loss.backward()
        losses[step] = loss.detach()
        if best is None:
            best = losses[step].clone()
        improved = losses[step] < best
        best = torch.where(improved, losses[step], best)
        best_v = torch.where(improved, v.detach(), best_v)
        optimizer.step()
        schedule.step()
        if callback is not None:
            callback(step, losses[step])
    # The last step's result has not been scored yet; compare it too.
    with torch.no_grad():
        last = datafit(op.totals(torch.exp(v)))
        if l2 > 0:
            last = last + l2 * log_pull(v, ref_log_w)
        best_v = torch.where(last < best, v.detach(), best_v)
    return best_v, losses
