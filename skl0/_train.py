"""Training core: fit gates and head for one ``lam``.

Plain functions over torch objects (a problem, a gate, a head, a
generator); no scikit-learn. The objective is

    task loss + lam * (number of open gates) + alpha * ||W||^2

Linear heads: the expectation over the gates in closed form, solved by
the gate engine (``_engine.py``: vertex search, IRLS or L-BFGS-B; the
price of a gate is explained there). MLP heads: Adam on sampled gates
with ``E[open gates]`` from eq. 12 of Louizos et al. (2017). Exact ``k``
is not solved here: the estimators walk a ``lam`` path until ``k`` gates
are left (``_gate_path.gate_path``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ._adam import fused_where_possible
from ._engine import solve_gates
from ._numerics import NonFiniteLossError

__all__ = ["TrainResult", "adam_steps", "make_adam", "train_gates", "NonFiniteLossError"]


@dataclass
class TrainResult:
    """What :func:`train_gates` did: steps, ``lam``, the objective at each step.

    ``settled`` (Adam only): the mask of open gates was the same at the last
    two checks (``check_every`` steps apart); False when it was still
    changing, or when the run had fewer than two checks.
    """

    n_iter: int = 0
    lam: float = 0.0
    loss_curve: list = field(default_factory=list)
    settled: bool = True


_ADAM_ADVICE = (
    "The data may hold extreme values or the step is too large: lower "
    "learning_rate_init, or check X and y for huge magnitudes."
)
_ENGINE_ADVICE = (
    "The linear head's objective has no step size to lower: X or y holds values "
    "too large for the dtype; check them for huge magnitudes or pass dtype='float64'."
)


def _check_finite(value, it, lam, advice=_ADAM_ADVICE):
    if not math.isfinite(value):
        raise NonFiniteLossError(
            f"The training loss became {value} at iteration {it} (lam={lam:g}). {advice}"
        )


# An Adam objective (standardized data: it starts near 1) that grows past
# this many times its first value has diverged. In float32 such a run ends
# in inf; in float64 it can stay finite (1e58 after 20 steps at
# learning_rate_init=1e30) and would return a useless model.
_BLOWUP = 1e8


def _check_growth(value, first, it, lam, advice=_ADAM_ADVICE):
    if value > _BLOWUP * max(abs(first), 1.0):
        raise NonFiniteLossError(
            f"The training loss grew from {first:.3g} to {value:.3g} by iteration {it} "
            f"(lam={lam:g}): training diverged. {advice}"
        )


def make_adam(params, lr):
    """Adam over ``params``; torch's fused kernel where it pays.

    The fused kernel updates every tensor in one call instead of about ten
    calls per tensor (an MLP head's step on a small problem spent a fifth
    of its time in those); on the CPU it is parallel, and waking the other
    threads for a few thousand numbers costs more than the update, so there
    it is used with one thread only (``torch.set_num_threads(1)``,
    ``OMP_NUM_THREADS=1``). The same update rule either way (equal to rounding).

    Parameters
    ----------
    params : iterable of torch.Tensor
        The tensors to train (not empty); the first one's device decides.
    lr : float
        Learning rate.

    Returns
    -------
    skl0._adam.Adam
        ``torch.optim.Adam``'s update without its first-use import of
        ``torch._dynamo``; fused where the device and thread count allow,
        else per-tensor (``foreach=False``).
    """
    params = list(params)
    fused = params[0].device.type != "cpu" or torch.get_num_threads() == 1
    return fused_where_possible(params, lr, fused)


def adam_steps(problem, gate, head, opt, *, lam, alpha, generator, batches=None):
    """Adam steps on sampled gates, without end: the one loop of the MLP heads.

    Each step draws the gates (eq. 10 of Louizos et al. 2017, with
    ``generator``), takes the datafit on the whole problem or on the next
    of ``batches``, adds ``lam * E[open gates]`` (eq. 12) and
    ``alpha * head.l2()``, and steps ``opt``. ``lam`` is a number or a
    callable read before each step (``partial_fit`` prices a gate by the
    evidence seen so far). Yields ``(objective, data loss, E[open gates],
    lam)`` after each step, the tensors detached: :func:`train_gates` and
    ``partial_fit``'s passes differ only in how many steps they take and
    what they check between them.

    Parameters
    ----------
    problem : DirectProblem or GramProblem
        The datafit's problem, when ``batches`` is None.
    gate : skl0.nn.FeatureGate
    head : torch.nn.Module
    opt : skl0._adam.Adam
        Over the gate's and the head's trainable tensors (:func:`make_adam`).
    lam : float or callable
        Price of an open gate, or ``lam()`` giving it before each step.
    alpha : float
        L2 penalty on the head's weights.
    generator : torch.Generator or None
        Noise for the gates.
    batches : iterator of DirectProblem or None
        Mini-batches (:meth:`DirectProblem.batches`); None: the whole problem.

    Yields
    ------
    objective, data, l0 : torch.Tensor
        Detached scalars of the step just taken.
    lam : float
        The price used in that step.
    """
    while True:
        z = gate.sample(generator=generator)
        data = (problem if batches is None else next(batches)).loss(head, z)
        l0 = gate.expected_l0()
        lam_t = lam() if callable(lam) else lam
        obj = data + lam_t * l0
        if alpha:
            obj = obj + alpha * head.l2()
        opt.zero_grad(set_to_none=True)
        obj.backward()
        opt.step()
        yield obj.detach(), data.detach(), l0.detach(), lam_t


def train_gates(
    problem,
    gate,
    head,
    *,
    lam,
    max_iter=300,
    learning_rate=0.05,
    alpha=0.0,
    generator=None,
    check_every=25,
    tol=None,
    patience=2,
    batch_size=None,
    callback=None,
    compare_start=False,
    sample_rows=False,
    settle=0,
    walk=False,
    compete=False,
):
    """Minimise task loss + lam * E[L0] (+ alpha * L2), in place.

    A linear head is solved by the deterministic gate engine
    (:func:`skl0._engine.solve_gates`: the expected objective in closed
    form, by vertex search, IRLS or L-BFGS-B; ``learning_rate``, ``generator``,
    ``batch_size``, ``check_every``, ``tol``, ``patience`` and
    ``compare_start`` do not apply). Other heads are trained by Adam on
    sampled gates, as below.

    Parameters
    ----------
    problem : DirectProblem or GramProblem
    gate : skl0.nn.FeatureGate
    head : torch.nn.Module
    lam : float
        L0 price per open gate.
    max_iter : int
    learning_rate : float
    alpha : float
        L2 penalty on the head's weights.
    generator : torch.Generator
        Noise for the gates.
    check_every : int
        Steps between checks of finiteness and convergence (each check
        synchronises the device).
    tol : float or None
        Stop early once the deterministic mask is unchanged and the expected
        number of open gates moved by less than ``tol`` over ``patience``
        consecutive checks. ``None`` runs all ``max_iter`` steps.
    patience : int
    batch_size : int or None
        Rows per step, drawn as shuffled epochs with ``generator``; ``None``
        (or a size of at least n) takes the whole batch. Ignored by the Gram
        problem, whose full loss is already cheap.
    callback : callable or None
        ``callback(iteration, loss, n_open)`` at every check.
    compare_start : bool
        Count the state at entry as the first check, so that a warm start
        that is already converged can stop after ``patience * check_every``
        steps (the warm-started points of a path).
    sample_rows : bool
        Linear head: passed to :func:`skl0._engine.solve_gates` (a cold
        start on many rows first solves on a sample of them).
    settle : int
        Linear head: passed to :func:`skl0._engine.solve_gates` (a row
        problem's solve ends once its gates have settled at their bounds
        for ``settle`` iterations; 0 solves to convergence).
    walk : False, "auto" or an int
        Linear head: passed to :func:`skl0._engine.solve_gates` (a point of
        an estimator's own ``lam="auto"`` walk, or exact ``k``'s: its ``k``).
    compete : bool
        Linear head: passed to :func:`skl0._engine.solve_gates` (a point of
        a path after its first: a warm IRLS start has the cold start of a
        fixed-``lam`` fit run beside it).

    Returns
    -------
    TrainResult
    """
    if getattr(head, "is_linear", False):
        # Linear head: the deterministic expected objective (``_engine``:
        # vertex search, IRLS or L-BFGS-B); no noise, so ``generator`` and ``batch_size`` play no
        # part and ``learning_rate`` is not used.
        n_iter, curve = solve_gates(
            problem, gate, head, lam, alpha=alpha, max_iter=max_iter,
            check=lambda value, it: _check_finite(value, it, float(lam), _ENGINE_ADVICE),
            sample_rows=sample_rows, settle=settle, walk=walk, compete=compete,
        )
        if callback is not None:
            with torch.no_grad():
                callback(n_iter, curve[-1], int(gate.mask().sum()))
        return TrainResult(n_iter=n_iter, lam=float(lam), loss_curve=curve)
    params = [gate.log_alpha, *(p_ for p_ in head.parameters() if p_.requires_grad)]
    opt = make_adam(params, learning_rate)
    gate.train()
    losses = torch.empty(max_iter, dtype=gate.log_alpha.dtype, device=gate.log_alpha.device)
    lam_t = float(lam)
    it, prev, still = 0, None, 0
    if compare_start and tol is not None:
        with torch.no_grad():
            prev = (gate.mask(), float(gate.expected_l0()))
    batches = None
    if batch_size is not None and hasattr(problem, "batches") and batch_size < problem.X.shape[0]:
        batches = problem.batches(batch_size, generator)
    steps = adam_steps(problem, gate, head, opt, lam=lam_t, alpha=alpha, generator=generator,
                       batches=batches)
    last_mask, settled = None, False
    for it, (obj, _, l0, _) in zip(range(max_iter), steps):
        losses[it] = obj
        if (it + 1) % check_every == 0 or it + 1 == max_iter:
            value = float(obj)
            _check_finite(value, it + 1, lam_t)
            _check_growth(value, float(losses[0]), it + 1, lam_t)
            with torch.no_grad():
                mask = gate.mask()
            settled = last_mask is not None and torch.equal(mask, last_mask)
            last_mask = mask
            if callback is not None:
                callback(it + 1, value, int(mask.sum()))
            if tol is not None:
                # Converged: the selection and the expected count of open
                # gates have stood still over the last `patience` checks.
                state = (mask, float(l0))
                if prev is not None and torch.equal(state[0], prev[0]) and abs(
                    state[1] - prev[1]
                ) < tol:
                    still += 1
                    if still >= patience:
                        break
                else:
                    still = 0
                prev = state
    n_iter = it + 1
    return TrainResult(n_iter=n_iter, lam=lam_t, loss_curve=losses[:n_iter].tolist(),
                       settled=settled)
