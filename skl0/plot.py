"""Pictures of fitted skl0 estimators and of their lam paths (matplotlib, optional).

matplotlib is imported inside each function, so ``import skl0.plot`` works
without it; calling a function without it raises an ``ImportError`` that
says ``pip install matplotlib``. Every function draws on ``ax`` (a new
figure when ``None``) and returns the matplotlib ``Axes``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._checks import is_count

__all__ = ["plot_gates", "plot_training_curve", "plot_mask_image", "plot_path"]

_KEPT, _DROPPED = "#1f77b4", "#c7c7c7"


def _pyplot(who="skl0.plot"):
    """``matplotlib.pyplot``; the one place it is imported, with what to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{who} needs matplotlib, which is not installed: pip install matplotlib "
            '(or pip install "skl0[plot]")'
        ) from exc
    return plt


def _axes(ax, figsize=None):
    """``ax``, or the axes of a new figure; anything but matplotlib Axes is refused.

    (A number or a Figure failed deep inside matplotlib, e.g. "'int' object
    has no attribute 'step'".)
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    elif not isinstance(ax, plt.Axes):
        hint = " (a Figure: pass fig.gca() or one of fig.axes)" if isinstance(
            ax, plt.Figure) else ""
        raise TypeError(
            f"ax must be matplotlib Axes or None; got {type(ax).__name__}{hint}. Pass "
            "the Axes to draw on, e.g. fig, ax = plt.subplots(), or None for a new figure."
        )
    return ax


def _pipeline_hint(estimator, caller):
    if not hasattr(estimator, "steps"):
        return ""
    return (f" For a Pipeline pass its gated step, e.g. {caller}(pipe[-1], ...) or "
            f"{caller}(pipe.named_steps['sel'], ...).")


def _fitted_with(estimator, attribute, caller, takes):
    """Refuse, in one short line, what has no ``attribute``; an unfitted estimator too.

    scikit-learn's checks would print the whole repr of a non-estimator
    (an :class:`~skl0.L0Path` and its arrays), and call a fitted estimator
    without the attribute (a ``Pipeline``) "not fitted yet".
    """
    if hasattr(estimator, attribute):
        return
    if not hasattr(estimator, "fit"):
        hint = (" Draw a path with skl0.plot.plot_path."
                if type(estimator).__name__ == "L0Path" else "")
        raise TypeError(
            f"{caller} takes a fitted estimator with {attribute} ({takes}); got "
            f"{type(estimator).__name__}.{hint}"
        )
    check_is_fitted(estimator)  # an unfitted estimator: scikit-learn's NotFittedError
    raise TypeError(
        f"{caller} takes a fitted estimator with {attribute} ({takes}); the fitted "
        f"{type(estimator).__name__} has none.{_pipeline_hint(estimator, caller)}"
    )


def _gate_probabilities(estimator, caller):
    _fitted_with(estimator, "feature_importances_", caller,
                 "L0Regressor, L0Classifier, L0FeatureSelector or their CV forms")
    return np.asarray(estimator.feature_importances_, dtype=float).ravel()


def _support(estimator, n):
    support = getattr(estimator, "support_", None)
    return np.ones(n, dtype=bool) if support is None else np.asarray(support, dtype=bool)


#: plot_gates' new figure is at most this many inches tall, and names at
#: most this many bars (10-point labels 0.15 inch apart at that height).
_GATES_MAX_HEIGHT = 16.0
_GATES_MAX_LABELS = 100


def plot_gates(estimator, feature_names=None, top=None, ax=None):
    """Bar chart of the probability that each feature's gate is open.

    Bars are sorted from the most to the least likely open gate, top to
    bottom; kept features (``support_``) are coloured, dropped ones grey.

    Parameters
    ----------
    estimator : fitted L0Regressor, L0Classifier or L0FeatureSelector
        Any fitted estimator with ``feature_importances_`` (and, optionally,
        ``support_``); a fitted one without them (a ``Pipeline``, a
        ``SparseCalibrator``) raises a TypeError, an unfitted one
        scikit-learn's ``NotFittedError``.
    feature_names : sequence of str or None, default=None
        Bar labels, one per feature (a single string is refused). ``None``
        uses ``feature_names_in_`` when the estimator was fitted on a
        DataFrame, else ``x0, x1, ...``.
    top : int or None, default=None
        Show only the ``top`` most probable gates; ``None`` shows all.
        At most 100 bars are labelled with their names: more are drawn
        unlabelled, the y-axis saying how many (pass ``top`` to name them).
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure sized to the bars, 0.22
        inch a bar, at most 16 inches tall (3,000 bars made a 661-inch
        figure); anything else that is not Axes: ``TypeError``.

    Returns
    -------
    ax : matplotlib Axes
        The axes with one horizontal bar per shown feature.

    See Also
    --------
    plot_mask_image : The same probabilities laid out as an image.
    plot_training_curve : How the training objective went down.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skl0 import L0Classifier
    >>> from skl0.plot import plot_gates
    >>> data = load_breast_cancer(as_frame=True)
    >>> clf = L0Classifier(lam=0.01, max_iter=50, random_state=0)
    >>> clf = clf.fit(data.data, data.target)
    >>> ax = plot_gates(clf, top=10)
    >>> len(ax.patches), ax.get_xlabel()
    (10, 'P(gate open)')
    """
    probs = _gate_probabilities(estimator, "plot_gates")
    n = probs.size
    if feature_names is None:
        feature_names = getattr(estimator, "feature_names_in_", None)
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(n)]
    if isinstance(feature_names, str):  # (its letters would become the names)
        raise TypeError(
            f"feature_names={feature_names!r} is one string; pass one name per feature "
            "(a list of str), or None."
        )
    feature_names = [str(name) for name in feature_names]
    if len(feature_names) != n:
        raise ValueError(
            f"feature_names has {len(feature_names)} names but the estimator has {n} "
            "features; pass one name per feature, or None."
        )
    if top is not None and not is_count(top):
        raise ValueError(f"top={top!r} must be a positive integer or None.")
    order = np.argsort(-probs, kind="stable")[: (n if top is None else int(top))]
    kept = _support(estimator, n)[order]
    ax = _axes(ax, figsize=(6.4, min(1.2 + 0.22 * order.size, _GATES_MAX_HEIGHT)))
    positions = np.arange(order.size)[::-1]  # the most probable gate on top
    ax.barh(positions, probs[order], color=np.where(kept, _KEPT, _DROPPED))
    if order.size <= _GATES_MAX_LABELS:
        ax.set_yticks(positions, [feature_names[j] for j in order])
    else:  # (illegible, and thousands of labels took seconds to draw)
        ax.set_yticks([])
        ax.set_ylabel(f"{order.size} features, most probable on top "
                      f"(top={_GATES_MAX_LABELS} names them)")
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(gate open)")
    ax.set_title(f"{int(_support(estimator, n).sum())} of {n} features kept")
    return ax


def plot_training_curve(estimator, ax=None):
    """Line plot of the training objective, ``loss_curve_``.

    With a fixed ``lam`` there is one point per optimizer step; under
    ``lam="auto"`` (with or without ``k``) and for the CV estimators there
    is one point per point of the ``lam`` path; after a stochastic
    ``partial_fit`` (a classifier, hidden layers, or more than 4096
    columns), one per call. The exact ``partial_fit`` of a linear
    regressor re-solves on all the rows seen, so its curve is that of
    ``fit`` on them. The x-axis label says which.

    Parameters
    ----------
    estimator : fitted estimator with ``loss_curve_``
        An L0 estimator, an L0FeatureSelector or a SparseCalibrator.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure (anything else that is not
        Axes: ``TypeError``).

    Returns
    -------
    ax : matplotlib Axes
        The axes with the curve.

    See Also
    --------
    plot_gates : Where the gates ended up.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skl0 import L0Regressor
    >>> from skl0.plot import plot_training_curve
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = L0Regressor(lam=0.01, max_iter=40, random_state=0).fit(X, y)
    >>> ax = plot_training_curve(reg)
    >>> len(ax.lines[0].get_xdata()) == reg.n_iter_  # one point per L-BFGS-B iteration
    True
    """
    _fitted_with(estimator, "loss_curve_", "plot_training_curve",
                 "an L0 estimator, an L0FeatureSelector or a SparseCalibrator")
    curve = np.asarray(estimator.loss_curve_, dtype=float).ravel()
    ax = _axes(ax)
    steps = np.arange(1, curve.size + 1)
    ax.plot(steps, curve, marker="o" if curve.size <= 40 else None, markersize=3)
    stream = getattr(estimator, "_stream", None)
    if stream is None:  # an L0FeatureSelector's stream is its estimator's
        stream = getattr(getattr(estimator, "estimator_", None), "_stream", None)
    if getattr(stream, "mode", None) == "stochastic":  # a point per partial_fit call
        label = "partial_fit call"
    elif hasattr(estimator, "cv_results_") or getattr(estimator, "lam", None) == "auto":
        # a walk over lams: one point per path point, however many steps
        # (a one-point path of one step has as many points as n_iter_)
        label = "point of the lam path"
    elif curve.size == getattr(estimator, "n_iter_", curve.size):
        label = "optimizer step"
    else:
        label = "point of the lam path"
    ax.set_xlabel(label)
    ax.set_ylabel("training objective")
    ax.set_title(f"{type(estimator).__name__}: training curve")
    return ax


def plot_mask_image(estimator, shape, ax=None):
    """Gate probabilities as an image, with the kept pixels outlined.

    For features that are pixels, such as the 8 x 8 images of
    :func:`sklearn.datasets.load_digits`: each pixel's grey level is the
    probability that its gate is open, and the kept pixels (``support_``)
    are framed.

    Parameters
    ----------
    estimator : fitted L0Regressor, L0Classifier or L0FeatureSelector
        Any fitted estimator with ``feature_importances_``.
    shape : tuple of int
        Image shape, such as ``(8, 8)``; its product must equal the number
        of features (pixels in row-major order, as ``reshape`` lays them).
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure (anything else that is not
        Axes: ``TypeError``).

    Returns
    -------
    ax : matplotlib Axes
        The axes with the image, a frame per kept pixel and a colour bar.

    See Also
    --------
    plot_gates : The same probabilities as sorted bars.

    Examples
    --------
    >>> import numpy as np
    >>> from skl0 import L0Classifier
    >>> from skl0.plot import plot_mask_image
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(100, 16)
    >>> y = (X[:, 5] > 0.5).astype(int)
    >>> clf = L0Classifier(k=2, max_iter=30, random_state=0).fit(X, y)
    >>> ax = plot_mask_image(clf, (4, 4))
    >>> len(ax.patches)  # one frame per kept pixel
    2
    """
    probs = _gate_probabilities(estimator, "plot_mask_image")
    if not (isinstance(shape, (tuple, list, np.ndarray)) and len(shape) == 2
            and all(is_count(s) for s in shape)):
        raise ValueError(
            f"shape={shape!r} must be two positive integers (rows, columns), e.g. (8, 8)."
        )
    shape = tuple(int(s) for s in shape)
    if int(np.prod(shape)) != probs.size:
        raise ValueError(
            f"shape={shape} holds {int(np.prod(shape))} pixels but the estimator has "
            f"{probs.size} features; pass a shape whose product is {probs.size}."
        )
    if len(shape) != 2:
        raise ValueError(f"shape={shape} must have two dimensions (rows, columns).")
    ax = _axes(ax)
    from matplotlib.patches import Rectangle

    image = ax.imshow(probs.reshape(shape), cmap="Greys", vmin=0, vmax=1)
    support = _support(estimator, probs.size).reshape(shape)
    for row, col in zip(*np.nonzero(support)):
        ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False,
                               edgecolor="tab:red", linewidth=2))
    ax.figure.colorbar(image, ax=ax, label="P(gate open)")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{int(support.sum())} of {probs.size} pixels kept")
    return ax


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
        Where to draw; ``None`` makes a new figure (anything else that is not
        Axes: ``TypeError``). Axes that ``plot_path``
        drew on before keep their right axis (``ax.right_ax``), so two paths
        (or two CV fits) drawn there share both scales; a CV fit drawn beside
        a path gets a second right axis, further out, for its score.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the number of features (``lam`` on a log scale); the
        score or loss is on its twin, ``ax.right_ax``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    TypeError
        If ``path_or_cv_estimator`` is neither a path nor a fitted CV
        estimator, or ``ax`` is not matplotlib Axes (as in every plot here).

    Examples
    --------
    >>> from skl0 import l0_path
    >>> from skl0.plot import plot_path
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(100, 6, 2, random_state=0)
    >>> ax = plot_path(l0_path(X, y, n_lams=4, max_iter=50, random_state=0))
    >>> ax.get_xscale(), ax.get_ylabel()
    ('log', 'features selected')
    """
    from ._l0_path import L0Path  # here, so that importing skl0.plot stays light

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
        if hasattr(obj, "steps"):
            hint = " For a Pipeline pass its CV step, e.g. plot_path(pipe[-1])."
        elif type(obj).__name__.endswith("CV") and hasattr(obj, "fit"):
            hint = " Fit the CV estimator first."
        else:
            hint = ""
        raise TypeError(
            "plot_path takes an L0Path (from skl0.l0_path) or a fitted L0RegressorCV, "
            f"L0ClassifierCV or L0FeatureSelectorCV; got {type(obj).__name__}.{hint}"
        )
    ax = _axes(ax)
    # (a step line through one point has no length: a marker shows it)
    ax.step(lams, n_feat, where="mid", color="C0", label="features selected",
            marker="o" if lams.size == 1 else None, markersize=4)
    ax.set_ylabel("features selected", color="C0")
    ax.set_xlabel("lam")
    _log_x(ax, lams)
    # A second path on the same axes shares its right axis (and scale) when
    # it draws the same quantity: a second twinx overlaid another scale,
    # unmarked, on the first. Another quantity (a CV score beside a training
    # loss) gets its own right axis, its spine set further out.
    twin = getattr(ax, "right_ax", None)
    if twin is None or twin.get_ylabel() != right_label:
        offset = twin is not None
        twin = ax.twinx()
        if offset:
            twin.spines["right"].set_position(("axes", 1.15))
    twin.plot(lams, right, "o-", color="C1", markersize=3, label=right_label)
    if band is not None:
        twin.fill_between(lams, right - band, right + band, color="C1", alpha=0.2)
    twin.set_ylabel(right_label, color="C1")
    if chosen is not None:
        ax.axvline(chosen, color="k", linestyle="--", linewidth=1, label=f"chosen lam={chosen:.3g}")
        ax.legend(loc="upper right", frameon=False)
    ax.right_ax = twin
    return ax
