"""A walk: the gate path run inside an estimator's fit, for whoever reads it.

:func:`skl0.l0_path` and the cross-validated estimators need the whole path
of an ordinary fit (same validation, target encoding, standardization and
device set-up as :class:`L0Regressor` / :class:`L0Classifier`), not just
the point the estimator keeps. They describe what they want as a
:class:`Walk` and pass it to the estimator's ``_fit(X, y, sample_weight,
walk=walk)``; the fit then runs :func:`run_walk` on its problem instead of
its own selection, hands the path points to ``walk.reader`` while the torch
problem exists, and keeps ``walk.chosen``. Nothing is set on the estimator
to steer it.

Torch, numpy and the standard library only (no scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import torch

from ._gate_path import WARM_STOP, gate_path
from ._selection import Selection

__all__ = ["Walk", "path_budgets", "run_walk"]

# The step budgets of a walk with an MLP head (a linear head's points are
# each solved to convergence by the gate engine). The first point, a cold
# start at the smallest lam, takes two thirds of max_iter: at that lam the
# gates close slowly and the next points go on closing them, so the last
# third would mostly be spent on gates the walk closes anyway (on the
# benchmark tasks the path reaches the true support at the same point
# either way). A warm-started point gets a step budget proportional to how
# far lam moved since the previous point, max_iter * _STEPS_PER_LOG_LAM *
# log(lam_i / lam_{i-1}), so that a path costs about the same whatever its
# number of points, never more than the third of max_iter that the walk of
# lam="auto" gives a point; it stops early once its mask and expected
# number of open gates have stood still over WARM_STOP["check_every"]
# steps, counting from the warm start. On a 30-point grid from 1e-4 to 0.5
# with max_iter=300: 200 steps, then at most 22 a point.
_FIRST_FRACTION = 2 / 3
_STEPS_PER_LOG_LAM = 0.25


def path_budgets(lams, max_iter):
    """Optimizer steps allowed at each point of a walk over ``lams`` (increasing)."""
    cap = max(1, max_iter // 3)
    floor = min(cap, 2 * WARM_STOP["check_every"])
    budgets = [max(1, round(max_iter * _FIRST_FRACTION))]
    for prev, lam in pairwise(lams):
        if prev <= 0:
            budgets.append(cap)
            continue
        steps = round(max_iter * _STEPS_PER_LOG_LAM * math.log(max(lam, prev) / prev))
        budgets.append(int(min(cap, max(floor, steps))))
    return budgets


@dataclass
class Walk:
    """What a caller wants from the gate path of one fit.

    Attributes
    ----------
    grid : ndarray
        Increasing ``lam`` values (may be empty: the reader then sees the
        problem with no point fitted).
    stop_size : int
        Stop once at most this many gates are open.
    chosen : int or None
        Index of the point the estimator keeps (clipped to the points
        walked); ``None`` keeps the sparsest non-empty point, so that no
        empty-model warning fires.
    warn_empty : bool
        Warn when the kept point selects no feature (a cross-validation
        fold's fit, whose points are only scored, does not).
    warn_unbounded : bool
        With ``alpha=0``, warn when the kept point's classifier separates
        the training classes (its log loss has no minimum: the estimator's
        ``_warn_if_no_minimum``). False for :func:`skl0.l0_path`, whose
        internal estimator's model is not what it returns.
    export : bool
        Refit and export the kept point's model (``coef_``, ``support_``,
        ``predict``). False: a cross-validation fold's fit, of which only
        :attr:`result` is read; the estimator then keeps only the walk's
        ``n_iter_``, ``loss_curve_`` and ``lam_`` (and what ``reader`` set).
    reader : callable or None
        ``reader(est, problem, gate, head, points)``, called once the walk
        has ended and while the torch problem exists; its result lands in
        :attr:`result`. Must be picklable when the fit runs in a joblib
        worker.
    result : object
        What ``reader`` returned (set by the fit).
    """

    grid: np.ndarray
    stop_size: int = 0
    chosen: int | None = None
    warn_empty: bool = True
    warn_unbounded: bool = True
    export: bool = True
    reader: Callable | None = None
    result: Any = None


def run_walk(est, walk, problem, gate, head, common):
    """Walk ``walk.grid`` on ``problem``; return the kept point as a :class:`skl0._selection.Selection`.

    Its support is sorted, and ``lam``, ``n_iter`` and ``loss_curve`` are
    what the estimator reports (``lam_`` NaN for an empty grid); nothing is
    set on ``est``, which is read for ``max_iter`` and handed to
    ``walk.reader``. Stores the reader's result in ``walk.result`` and
    leaves ``gate`` and ``head`` at the kept point (anywhere, for a walk
    that does not export it: ``walk.export=False``).
    """
    common = dict(common)
    report = common.pop("report", None)  # per-step progress, when verbose
    if report is not None:
        common["step_callback"] = report
    points = gate_path(
        problem, gate, head, walk.grid, max_iter=est.max_iter, stop_size=walk.stop_size,
        budgets=path_budgets(walk.grid, est.max_iter), warm_stop=WARM_STOP,
        leave_at_last=False, **common,  # (readers load the points they read; the kept one: below)
    )
    n_iter, loss_curve = sum(pt.n_iter for pt in points), [pt.loss for pt in points]
    if walk.reader is not None:
        walk.result = walk.reader(est, problem, gate, head, points)
    if not points:
        return Selection(np.zeros(0, dtype=np.int64), None, math.nan, n_iter, loss_curve)
    if walk.chosen is None:
        nonempty = [i for i, pt in enumerate(points) if pt.support.size]
        chosen = points[nonempty[-1] if nonempty else -1]
    else:
        chosen = points[min(walk.chosen, len(points) - 1)]
    if walk.export:
        load_point(gate, head, chosen)
    return Selection(chosen.support, None, chosen.lam, n_iter, loss_curve)


def load_point(gate, head, point):
    """Put ``gate`` and ``head`` back at a path point."""
    with torch.no_grad():
        gate.log_alpha.copy_(point.log_alpha)
    head.load_state_dict(point.head_state)
