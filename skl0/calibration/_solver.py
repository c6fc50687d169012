"""Training core of sparse calibration: plain torch functions, no scikit-learn.

Three steps:

1. :func:`fit_gated` learns ``weight_i = exp(log_w_i) * z_i`` with
   ``z_i`` a Hard Concrete gate of a :class:`skl0.nn.SampleGate`, minimising
   ``datafit(M.T @ weight) + lam * E[L0] + l2 * pull(log_w)`` by Adam on
   ``log_w`` and the gates' ``log_alpha`` together. With a record count
   ``k``, ``lam`` follows a :class:`SizeController`. Records whose gates
   are all but closed leave the computation (an active set).
2. :func:`select_records` keeps the ``k`` most probable records, or those
   whose deterministic gate is open.
3. :func:`polish` refits the weights of the kept records alone (gates
   fixed, ``weight = exp(v)`` so they stay positive) with Adam, to cut the
   error that the noisy gates left.

Losses are collected on the device and copied to the host once at the end.
"""

from __future__ import annotations

import torch

from .._adam import cosine_lr, fused_where_possible
from ._penalty import SizeController, log_pull

__all__ = ["fit_gated", "polish", "select_records"]


def _adam(params, lr):
    """Adam, fused where that pays: on CUDA, or on large CPU tensors.

    On the CPU the fused kernel is parallel whatever the size, and waking
    OpenMP threads for a few thousand numbers costs more than the update.
    """
    big = sum(p.numel() for p in params) >= 65536
    return fused_where_possible(params, lr, params[0].device.type != "cpu" or big)


class _ActiveSet:
    """The records still in play: their operator, log-weights, gates, optimizer.

    Records whose gate has ``P(gate != 0) < prune_tol`` are almost never
    sampled open again and get no data gradient while closed, so
    :meth:`compact` drops them from the computation: every later step costs
    O(records still in play) instead of O(N). Their last log-weights and
    ``log_alpha`` are written back to the full-length arrays.
    """

    def __init__(self, op, log_w, make_gate, learning_rate):
        n = log_w.numel()
        self.make_gate, self.lr = make_gate, learning_rate
        self.index = torch.arange(n, device=log_w.device)
        self.op = op
        self.log_w = log_w.detach().clone().requires_grad_(True)
        self.gate = make_gate(n)
        self.full_log_w = self.log_w.detach().clone()
        self.full_log_alpha = self.gate.log_alpha.detach().clone()
        self.optimizer = _adam([self.log_w, self.gate.log_alpha], learning_rate)

    def sync(self):
        """Write the current values back into the full-length arrays."""
        self.full_log_w[self.index] = self.log_w.detach()
        self.full_log_alpha[self.index] = self.gate.log_alpha.detach()

    def compact(self, keep):
        """Keep only the records where the boolean tensor ``keep`` is True."""
        self.sync()
        sub = torch.nonzero(keep).squeeze(1)
        self.index = self.index[sub]
        self.op = self.op.restrict(sub.cpu().numpy())
        old_params = [self.log_w, self.gate.log_alpha]
        self.log_w = self.log_w.detach()[sub].clone().requires_grad_(True)
        gate = self.make_gate(sub.numel())
        with torch.no_grad():
            gate.log_alpha.copy_(self.gate.log_alpha[sub])
        self.gate = gate
        new_params = [self.log_w, self.gate.log_alpha]
        old_state = self.optimizer.state
        self.optimizer = _adam(new_params, self.lr)
        for old, new in zip(old_params, new_params):
            if old in old_state:
                self.optimizer.state[new] = {
                    key: (val[sub].clone() if val.ndim == 1 else val.clone())
                    for key, val in old_state[old].items()
                }


def fit_gated(
    op,
    datafit,
    log_w,
    make_gate,
    *,
    lam,
    k=None,
    l2=0.0,
    ref_log_w=None,
    max_iter=1000,
    learning_rate=0.05,
    anneal_fraction=0.5,
    prune_tol=1e-2,
    check_every=25,
    temperature=None,
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
    make_gate : callable
        ``make_gate(n) -> skl0.nn.SampleGate`` on the device, in the dtype.
    lam : float
        Penalty per kept record (initial dual variable when ``k`` is set).
    k : int or None
        Number of records to keep; ``None`` keeps ``lam`` fixed.
    l2 : float
        Strength of the log-scale pull toward ``ref_log_w``.
    ref_log_w : torch.Tensor or None
        Reference log-weights for the pull (needed when ``l2 > 0``).
        ``log(N / k)`` (``log(N / E[L0])`` without ``k``) is added so the
        kept records can carry the dropped ones' share.
    max_iter : int
    learning_rate : float
    anneal_fraction : float
        Share of ``max_iter`` over which the target count falls to ``k``.
    prune_tol : float
        Records whose ``P(gate != 0)`` falls below it leave the computation
        (checked every ``check_every`` steps; never fewer than ``k`` stay).
        0 disables pruning.
    check_every : int
    temperature : callable or None
        ``temperature(step) -> beta`` (e.g. a
        :class:`skl0.nn.ExponentialTemperature`) applied to the gates before
        each step; ``None`` keeps the gates' own temperature.
    generator : torch.Generator or None
        Noise source of the gates.
    callback : callable or None
        ``callback(step, loss_tensor, expected_l0_tensor)`` after each step.

    Returns
    -------
    log_w : torch.Tensor of shape (N,)
        Trained log-weights (detached).
    log_alpha : torch.Tensor of shape (N,)
        Trained gate parameters; pruned records keep their last values.
    loss_curve : torch.Tensor of shape (max_iter,)
        Objective (data fit plus penalties) at each step.
    lam : float
        Final ``lam``.
    """
    act = _ActiveSet(op, log_w, make_gate, learning_rate)
    n = log_w.numel()
    floor = 1 if k is None else int(k)
    lam_t = torch.tensor(float(lam), device=log_w.device, dtype=log_w.dtype)
    controller = None
    if k is not None:
        start = float(act.gate.expected_l0().detach())
        controller = SizeController(lam_t, k, start, anneal_fraction * max_iter)
    losses = torch.empty(max_iter, device=log_w.device, dtype=log_w.dtype)
    for step in range(max_iter):
        if temperature is not None:
            act.gate.set_temperature(temperature(step))
        act.optimizer.zero_grad(set_to_none=True)
        weights = torch.exp(act.log_w) * act.gate.sample(generator=generator)
        expected_l0 = act.gate.expected_l0()
        loss = datafit(act.op.totals(weights)) + lam_t * expected_l0
        if l2 > 0:
            kept = float(k) if k is not None else expected_l0.detach().clamp_min(1.0)
            shift = torch.log(n / torch.as_tensor(kept, device=log_w.device))
            ref = torch.index_select(ref_log_w, 0, act.index) + shift
            # Averaged over all n records (a pruned record's term is a
            # constant): over the active ones, each pruning would strengthen
            # the pull on the rest by n / n_active.
            loss = loss + l2 * log_pull(act.log_w, ref, n)
        loss.backward()
        act.optimizer.step()
        losses[step] = loss.detach()
        if controller is not None:
            controller.update(step, expected_l0.detach())
        if callback is not None:
            callback(step, losses[step], expected_l0.detach())
        if (
            prune_tol > 0
            and (step + 1) % check_every == 0
            and act.index.numel() > floor
        ):
            with torch.no_grad():
                prob = act.gate.prob_open()
                # A diverged run (NaN gates) prunes nothing: the caller's
                # finiteness check then reports the divergence by name.
                finite = bool(torch.isfinite(prob).all())
                # A record whose deterministic gate is still open stays, so
                # pruning never changes the selection (P(gate != 0) of an
                # open gate is at least ~0.31; prune_tol may be above that).
                keep = (prob >= prune_tol) | act.gate.mask()
                n_keep = int(keep.sum())
                if finite and n_keep < floor:
                    keep = prob >= torch.topk(prob, floor).values[-1]
                    n_keep = int(keep.sum())
            if finite and n_keep <= 0.7 * act.index.numel():
                act.compact(keep)
    act.sync()
    return act.full_log_w, act.full_log_alpha, losses, float(lam_t)


def select_records(gate, log_w, k=None):
    """The records to keep, and the log-weights the polish starts from.

    Parameters
    ----------
    gate : skl0.nn.SampleGate
        Gates of all ``N`` records, trained.
    log_w : torch.Tensor of shape (N,)
        Trained log-weights.
    k : int or None
        Keep the ``k`` records with the highest ``P(gate != 0)`` (ties go to
        the lower index); ``None`` keeps those whose deterministic gate is
        open.

    Returns
    -------
    kept : torch.Tensor of int64
        Sorted indices of the kept records.
    start : torch.Tensor
        ``log_w + log(z)`` of the kept records, where ``z`` is the
        deterministic (predict-time) gate, or ``P(gate != 0)`` where that
        gate is closed (a record kept by ``k`` whose deterministic gate is
        0 starts from its expected weight). An open gate keeps its own
        value: taking the larger of the two raised a half-open gate's
        weight from 0.5 to ~0.83 of ``exp(log_w)``, and those are the
        returned weights when ``polish_iter=0``.
    prob : torch.Tensor of shape (N,)
        ``P(gate != 0)`` of every record.
    """
    with torch.no_grad():
        prob = gate.prob_open()
        if k is None:
            kept = torch.nonzero(gate.mask()).squeeze(1)
        else:
            order = torch.argsort(prob, descending=True, stable=True)
            kept = torch.sort(order[:k]).values
        det = gate.deterministic()[kept]
        z = torch.where(det > 0, det, prob[kept])
        return kept, log_w[kept] + torch.log(z), prob


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
    group = optimizer.param_groups[0]  # its rate by CosineAnnealingLR(T_max=max_iter)'s rule
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
        group["lr"] = cosine_lr(learning_rate, learning_rate / 10, max_iter, step + 1, group["lr"])
        if callback is not None:
            callback(step, losses[step])
    # The last step's result has not been scored yet; compare it too.
    with torch.no_grad():
        last = datafit(op.totals(torch.exp(v)))
        if l2 > 0:
            last = last + l2 * log_pull(v, ref_log_w)
        best_v = torch.where(last < best, v.detach(), best_v)
    return best_v, losses
