"""Regularization path: the gated model at a sequence of ``lam`` (or ``k``) values.

:func:`l0_path` is to the L0 estimators what ``lasso_path`` is to ``Lasso``:
one warm-started walk from many features to few (:func:`skl0._gate_path.gate_path`),
read off point by point. The walk runs inside an ordinary estimator fit,
passed to it as a :class:`skl0._walk.Walk` (``est._fit(X, y, w, walk=walk)``),
so validation, target encoding, standardization and the device set-up are
those of :class:`L0Regressor` / :class:`L0Classifier`, not a copy of them.
The cross-validated estimators (``_cv.py``) run the same walk once per fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import infer_task, numbers_of_object_array
from ._classifier import L0Classifier
from ._compat import validate_params
from ._params import PARAMS
from ._regressor import L0Regressor

__all__ = ["L0Path", "l0_path"]

# Hyperparameters l0_path shares with the estimators (and passes on to them);
# tests/test_params.py checks its defaults against the table.
_ESTIMATOR_PARAMS = (
    "max_iter", "learning_rate_init", "init_prob", "temperature", "alpha",
    "groups", "feature_costs", "device", "dtype", "random_state",
)

@dataclass
class L0Path:
    """The points of a regularization path, as numpy arrays.

    Made by :func:`l0_path` (and kept by the CV estimators as ``path_``);
    there is no need to build one by hand.

    Parameters
    ----------
    lams, n_features, support, loss, n_iter, prob_open : ndarray
        The attributes of the same names, below.
    ks, feature_names : ndarray or None, default=None
        The attributes of the same names, below.

    Attributes
    ----------
    lams : ndarray of shape (n_points,)
        ``lam`` of each point (increasing). For a path over ``ks``: the
        first ``lam`` of the walk at which at most ``k`` gates were open
        (the last ``lam`` of a given ``lams`` grid that ends with more open).
    n_features : ndarray of shape (n_points,)
        Number of selected features.
    support : ndarray of shape (n_points, n_features_in), dtype=bool
        The selected features.
    loss : ndarray of shape (n_points,)
        Training task loss (no penalty) of the point's model in the units of
        the training objective: mean squared error of the standardized
        target (1 is the intercept-only model) or mean cross-entropy in
        nats. With ``refit=False`` the model is the path's own head behind
        its deterministic gates restricted to ``support``; with
        ``refit=True`` the head refitted on ``support``. Over ``ks``, a
        point whose walk jumped from more than ``k`` open gates to fewer
        has fewer than ``k`` of its gates open, so its ``refit=False`` loss
        is that of the sparser model (1 for an empty one); pass
        ``refit=True`` for the loss of the ``k`` features.
    n_iter : ndarray of shape (n_points,)
        Solver iterations (L-BFGS-B iterations, accepted flips of the
        open/closed search, IRLS steps of a log loss, from both of a warm
        point's starts, the warm one and the cold one that competes with
        it, or Adam steps) spent on the point (0 for points after every gate had closed, which
        repeat the empty model, and for points inside the previous one's
        interval of optimality).
    prob_open : ndarray of shape (n_points, n_features_in)
        Probability that each gate is open.
    ks : ndarray of shape (n_points,) or None
        The requested ``k`` of each point, for a path over ``ks``.
    feature_names : ndarray of str or None
        Column names of a DataFrame ``X``.

    Examples
    --------
    >>> from skl0 import l0_path
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(200, 8, 2, random_state=0)
    >>> path = l0_path(X, y, n_lams=5, max_iter=60, random_state=0)
    >>> len(path), path.support.shape
    (5, (5, 8))
    >>> bool((path.n_features == path.support.sum(axis=1)).all())
    True
    >>> list(path.to_frame().columns)
    ['lam', 'n_features', 'loss', 'n_iter', 'features']
    """

    lams: np.ndarray
    n_features: np.ndarray
    support: np.ndarray
    loss: np.ndarray
    n_iter: np.ndarray
    prob_open: np.ndarray
    ks: np.ndarray | None = None
    feature_names: np.ndarray | None = field(default=None)

    def __len__(self):
        return len(self.lams)

    def to_frame(self):
        """One row per point: ``lam``, (``k``), ``n_features``, ``loss``, ``n_iter``, ``features``.

        ``features`` holds the selected column names (or indices) as tuples.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        names = self.feature_names
        if names is None:
            names = np.arange(self.support.shape[1])
        data = {"lam": self.lams}
        if self.ks is not None:
            data["k"] = self.ks
        data.update(
            n_features=self.n_features, loss=self.loss, n_iter=self.n_iter,
            features=[tuple(names[row].tolist()) for row in self.support],
        )
        return pd.DataFrame(data)


class RefitCache:
    """Refitted linear heads of the supports of one walk, each fitted once.

    ``cache(support)`` gives ``(head, loss)`` of :func:`refit_linear_head`
    (with ``solver``);
    a support met before (neighbouring points of a path often share one)
    is not refitted again. A new support's solver starts from the head
    refitted last (the walk goes from dense to sparse, so that is usually
    the refit of a superset missing a few features).
    """

    def __init__(self, problem, alpha, solver=None):
        self.problem, self.alpha, self.solver = problem, alpha, solver
        self.heads, self.last = {}, None
        self.n_refits = 0

    def __call__(self, support):
        from ._refit import refit_linear_head

        key = np.asarray(support, dtype=np.int64).tobytes()
        if key not in self.heads:
            self.heads[key] = refit_linear_head(
                self.problem, support, alpha=self.alpha, init=self.last, solver=self.solver
            )
            self.last = self.heads[key][0]
            self.n_refits += 1
        return self.heads[key]


def pad_to(values, n):
    """``values`` (a path that stopped early) padded to ``n`` by its last entry."""
    return list(values) + [values[-1]] * (n - len(values))


class PathReader:
    """Reader of a :class:`skl0._walk.Walk`: the :class:`L0Path` over ``grid`` or ``ks``."""

    def __init__(self, grid, ks=None, refit=False):
        self.grid, self.ks, self.refit = grid, ks, refit
        self.n_lams = len(grid)

    def __call__(self, est, problem, gate, head, points):
        import torch

        from ._gate_path import survival_ranking
        from ._objective import NumpyOps, data_term
        from ._walk import load_point

        if self.ks is None:
            at = pad_to(list(range(len(points))), self.n_lams)
            supports = [points[i].support for i in at]
        elif getattr(gate, "layout", None) is not None:  # groups: k counts groups
            layout = gate.layout
            ranking = layout.group_order(survival_ranking(points))
            at = [next((i for i, pt in enumerate(points) if layout.count(pt.support) <= k),
                       len(points) - 1) for k in self.ks]
            supports = [layout.columns(ranking[:k]) for k in self.ks]
        else:
            ranking = survival_ranking(points)
            at = [next((i for i, pt in enumerate(points) if pt.support.size <= k),
                       len(points) - 1) for k in self.ks]
            supports = [np.sort(ranking[:k]) for k in self.ks]
        p = problem.n_features
        losses, refits = [], RefitCache(problem, est.alpha)
        for i, support in zip(at, supports):
            if self.refit:
                losses.append(refits(support)[1])
                continue
            if points[i].weights is not None:  # a vertex: its gates are 0 or 1
                V = np.zeros_like(points[i].weights)
                V[support] = points[i].weights[support]
                losses.append(data_term(problem, NumpyOps()).value_grad(V, 0.0)[0])
                continue
            load_point(gate, head, points[i])
            with torch.no_grad():
                mask = torch.zeros(p, dtype=gate.log_alpha.dtype, device=gate.log_alpha.device)
                mask[torch.as_tensor(support, device=mask.device, dtype=torch.long)] = 1
                losses.append(float(problem.loss(head, gate.deterministic() * mask)))
        support = np.zeros((len(supports), p), dtype=bool)
        for row, s in zip(support, supports):
            row[s] = True
        n_iter = np.array([pt.n_iter for pt in points] + [0] * (self.n_lams - len(points)))
        return L0Path(
            lams=(np.array(self.grid, dtype=float) if self.ks is None  # (its own copy)
                  else np.array([points[i].lam for i in at])),
            n_features=support.sum(1),
            support=support,
            loss=np.array(losses),
            n_iter=n_iter if self.ks is None else np.array([points[i].n_iter for i in at]),
            prob_open=np.stack([points[i].prob_open for i in at]),
            ks=None if self.ks is None else np.asarray(self.ks),
            feature_names=getattr(est, "feature_names_in_", None),
        )


# --------------------------------------------------------- the function
def path_estimator(task, y, params):
    """An :class:`L0Regressor` or :class:`L0Classifier` for ``task``."""
    if task == "auto":
        task = infer_task(y)
    cls = L0Classifier if task == "classification" else L0Regressor
    return cls(**params)


def check_grid(lams, name="lams"):
    """``lams`` as a sorted, unique, finite, non-negative 1-d float array."""
    try:
        arr = np.asarray(lams, dtype=np.float64)
    except (TypeError, ValueError):  # ("auto" among numbers, None, text)
        arr = np.empty(0)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(
            f"{name}={lams!r} must be a non-empty 1-d sequence of finite values >= 0, "
            "e.g. numpy.geomspace(1e-4, 0.5, 16); or pass None for that default."
        )
    return np.unique(arr)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "lams": ["array-like", None],
        "ks": ["array-like", None],
        "sample_weight": ["array-like", None],
        **{name: PARAMS[name].constraints for name in ("n_lams", "task", "refit")},
        **{name: PARAMS[name].constraints for name in _ESTIMATOR_PARAMS},
    },
    prefer_skip_nested_validation=True,
)
def l0_path(
    X, y, *, lams=None, ks=None, n_lams=16, task="auto", sample_weight=None, refit=False,
    max_iter=300, learning_rate_init=0.1, init_prob=0.9, temperature=2.0 / 3.0,
    alpha=1e-4, groups=None, feature_costs=None, device="auto", dtype=None, random_state=None,
):
    """Fit the gated linear model along a path of ``lam`` (or ``k``) values.

    The gates are fitted at increasing ``lam`` (from many features to few),
    each point warm-started from the previous one and solved to
    convergence by the deterministic gate engine (docs/gates.md: for
    squared loss with more rows than columns an exact search over open /
    closed gates, otherwise L-BFGS-B, at most ``max_iter`` iterations a
    point); the walk stops once every gate has closed (later points repeat
    the empty model). Over ``ks`` the same walk runs until at most
    ``min(ks)`` gates are open and each ``k`` keeps the ``k`` features that
    stayed open longest, so the supports are nested and have exactly ``k``
    features.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
    lams : array-like of float or None, default=None
        ``lam`` values, in the units of the estimators' ``lam``, walked in
        increasing order: the path has one point per distinct value, sorted
        (``path.lams``), whatever the order or repeats given. ``None``:
        ``n_lams`` values from 1e-4 to 0.5 spaced geometrically, or 32 such
        values for a path over ``ks``.
    ks : array-like of int or None, default=None
        Exact support sizes, each in ``[0, n_features]``; the path then has
        one point per ``k``, in the given order. Later copies of exactly
        duplicated columns are never kept (see ``support_`` of
        :class:`L0Regressor`), so a ``k`` past the number of distinct
        columns keeps those columns: fewer than ``k``.
    n_lams : int, default=16
        Length of the default ``lams`` grid.
    task : {"auto", "regression", "classification"}, default="auto"
        As in :class:`L0FeatureSelector`: ``"auto"`` treats text, boolean
        and categorical targets, and whole-number targets with at most 20
        distinct values, as class labels; everything else as regression.
    sample_weight : array-like of shape (n_samples,), default=None
    refit : bool, default=False
        Report the training loss of the head refitted on each support (what
        the estimators predict with) instead of the path's own gated head.
        Costs one refit per distinct support (points that share a support
        share the refit; each refit starts from the previous one).
    max_iter, learning_rate_init, init_prob, temperature, alpha, groups, \
feature_costs, device, dtype, random_state
        As in :class:`L0Regressor`. With ``groups``, ``ks`` count groups and
        each point's support covers whole groups.

    Returns
    -------
    path : L0Path
        ``lams``, ``n_features``, ``support``, ``loss``, ``n_iter``,
        ``prob_open`` (and ``ks``) per point; ``path.to_frame()`` gives a
        pandas DataFrame.

    See Also
    --------
    L0RegressorCV, L0ClassifierCV : Choose a point of this path by cross-validation.
    skl0.plot.plot_path : Draw a path.

    Examples
    --------
    >>> from skl0 import l0_path
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(100, 8, 2, random_state=0)
    >>> path = l0_path(X, y, lams=[1e-3, 1e-2, 0.1], max_iter=100, random_state=0)
    >>> path.support.shape
    (3, 8)
    >>> bool(path.n_features[0] >= path.n_features[-1])
    True
    >>> l0_path(X, y, ks=[3, 1], max_iter=100, random_state=0).n_features.tolist()
    [3, 1]
    """
    from ._gate_path import lam_grid
    from ._groups import resolve_groups
    from ._walk import Walk

    grid = check_grid(lams) if lams is not None else lam_grid(
        n_lams=32 if ks is not None else n_lams
    )
    params = dict(
        max_iter=max_iter, learning_rate_init=learning_rate_init, init_prob=init_prob,
        temperature=temperature, alpha=alpha, groups=groups, feature_costs=feature_costs,
        device=device, dtype=dtype, random_state=random_state,
    )
    est = path_estimator(task, y, params)
    stop = 0
    if ks is not None:
        ks = np.asarray(ks)
        n_cols = np.shape(X)[1] if len(np.shape(X)) == 2 else None
        bad = ks.ndim != 1 or ks.size == 0 or ks.dtype.kind not in "iu" or np.any(ks < 0)
        if bad or (n_cols is not None and np.any(ks > n_cols)):
            raise ValueError(
                f"ks={ks.tolist()!r} must be a non-empty 1-d sequence of ints in "
                f"[0, n_features={n_cols}]; e.g. ks=[1, 2, 5]."
            )
        if groups is not None and n_cols is not None:  # ks count groups
            n_groups = resolve_groups(groups, feature_costs, n_cols).n_groups
            if np.any(ks > n_groups):
                raise ValueError(
                    f"ks={ks.tolist()!r} holds values larger than the number of groups "
                    f"(n_groups={n_groups}); with groups, ks count groups: pass values "
                    f"<= {n_groups}."
                )
        stop = int(ks.min())
    walk = Walk(grid, stop_size=stop, warn_unbounded=False,
                reader=PathReader(grid, ks=None if ks is None else ks.tolist(), refit=refit))
    if getattr(y, "dtype", None) == object:  # numbers as objects: as numbers (infer_task)
        y = numbers_of_object_array(np.asarray(y))
    est._fit(X, y, sample_weight, walk=walk)  # parameters were checked above
    return walk.result
