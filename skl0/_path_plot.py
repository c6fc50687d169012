"""``plot_path``: number of features (and CV score) against ``lam``.

matplotlib is imported inside the function, so skl0 imports without it.
"""

from __future__ import annotations

import numpy as np

from ._path import L0Path

__all__ = ["plot_path"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plot_path needs matplotlib, which is not installed; install it with "
            "`pip install matplotlib` (or `pip install 'skl0[plot]'`)."
        ) from exc
    return plt


def _log_x(ax, lams):
    positive = lams[lams > 0]
    if positive.size == lams.size:
        ax.set_xscale("log")
    else:  # lam = 0 has no place on a log axis: linear near zero
        ax.set_xscale("symlog", linthresh=positive.min() if positive.size else 1.0)


def plot_path(path_or_cv_estimator, ax=None):
    """Draw the number of selected features, and the CV score, against ``lam``.

    Parameters
    ----------
    path_or_cv_estimator : L0Path or fitted L0RegressorCV, L0ClassifierCV or L0FeatureSelectorCV
        An :class:`L0Path` (from :func:`skl0.l0_path`) draws its number of
        features and its training loss (right axis). A fitted CV estimator
        draws the number of features of its whole-data path and the mean
        held-out score with a band of one standard error (right axis), and
        marks the chosen ``lam`` with a dashed line.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the number of features (``lam`` on a log scale); the
        score or loss is on its twin, ``ax.right_ax``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skl0 import l0_path
    >>> from skl0._path_plot import plot_path
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(100, 6, 2, random_state=0)
    >>> ax = plot_path(l0_path(X, y, n_lams=4, max_iter=50, random_state=0))
    >>> ax.get_xscale(), ax.get_ylabel()
    ('log', 'features selected')
    """
    plt = _pyplot()
    obj = path_or_cv_estimator
    if isinstance(obj, L0Path):
        lams, n_feat, chosen = np.asarray(obj.lams, float), obj.n_features, None
        right, right_label, band = obj.loss, "training loss", None
        if obj.ks is not None:  # one point per k: order by lam for the line
            order = np.argsort(lams, kind="stable")
            lams, n_feat, right = lams[order], n_feat[order], right[order]
    elif hasattr(obj, "cv_results_"):
        res = obj.cv_results_
        lams = np.asarray(obj.lams_, float)
        n_feat = obj.n_features_selected_
        right = res["mean_test_score"]
        n_splits = sum(k_.startswith("split") for k_ in res)
        band = res["std_test_score"] / np.sqrt(max(n_splits - 1, 1))
        right_label, chosen = "mean CV score", obj.lam_
    else:
        raise TypeError(
            "plot_path takes an L0Path (from skl0.l0_path) or a fitted L0RegressorCV, "
            f"L0ClassifierCV or L0FeatureSelectorCV; got {type(obj).__name__}. "
            "Fit the CV estimator first."
        )
    if ax is None:
        _, ax = plt.subplots()
    ax.step(lams, n_feat, where="mid", color="C0", label="features selected")
    ax.set_ylabel("features selected", color="C0")
    ax.set_xlabel("lam")
    _log_x(ax, lams)
    twin = ax.twinx()
    twin.plot(lams, right, "o-", color="C1", markersize=3, label=right_label)
    if band is not None:
        twin.fill_between(lams, right - band, right + band, color="C1", alpha=0.2)
    twin.set_ylabel(right_label, color="C1")
    if chosen is not None:
        ax.axvline(chosen, color="k", linestyle="--", linewidth=1, label=f"chosen lam={chosen:.3g}")
        ax.legend(loc="upper right", frameon=False)
    ax.right_ax = twin
    return ax
