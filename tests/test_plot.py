"""skl0.plot: gate bars, training curve, pixel mask (Agg backend, no screen)."""

import importlib
import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

import skl0.plot  # noqa: E402
from skl0 import L0Classifier, L0FeatureSelector, L0Regressor  # noqa: E402
from skl0.plot import plot_gates, plot_mask_image, plot_training_curve  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def frame_fit(sparse_clf):
    X, y = sparse_clf[:2]
    X = pd.DataFrame(X[:, :12], columns=[f"col{j}" for j in range(12)])
    return L0Classifier(k=3, max_iter=30, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def lam_fit(sparse_reg):
    X, y = sparse_reg[:2]
    return L0Regressor(lam=0.05, max_iter=25, random_state=0).fit(X[:, :16], y)


def bar_labels(ax):
    """Tick labels from the top bar down."""
    ticks = zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels()))
    return [label for _, label in sorted(ticks, key=lambda t: -t[0])]


def test_plot_gates_sorted_bars_with_names_and_colours(frame_fit):
    ax = plot_gates(frame_fit)
    assert isinstance(ax, plt.Axes)
    bars = sorted(ax.patches, key=lambda b: -b.get_y())  # top to bottom
    widths = [b.get_width() for b in bars]
    assert len(bars) == 12 and widths == sorted(widths, reverse=True)
    np.testing.assert_allclose(sorted(widths), np.sort(frame_fit.feature_importances_))
    labels = bar_labels(ax)
    order = np.argsort(-frame_fit.feature_importances_, kind="stable")
    assert labels == [f"col{j}" for j in order]
    kept = [to_hex(b.get_facecolor()) != "#c7c7c7" for b in bars]
    assert sum(kept) == 3 and kept[:3] == [True] * 3
    assert ax.get_xlim() == (0, 1) and "3 of 12" in ax.get_title()


def test_plot_gates_top_names_and_given_axes(lam_fit):
    fig, ax0 = plt.subplots()
    names = [f"gene_{j}" for j in range(16)]
    ax = plot_gates(lam_fit, feature_names=names, top=4, ax=ax0)
    assert ax is ax0 and len(ax.patches) == 4
    assert set(bar_labels(ax)) <= set(names)
    ax = plot_gates(lam_fit)  # numpy input: x0, x1, ...
    assert all(label.startswith("x") for label in bar_labels(ax))


def test_plot_gates_caps_the_figure_of_many_features():
    # 3,000 features made a 661-inch figure (0.22 inch a bar) and took
    # seconds to label; at most 16 inches now, and over 100 bars unnamed.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 250))
    est = L0Regressor(lam=0.05, max_iter=3, random_state=0).fit(X, X[:, 0])
    ax = plot_gates(est)
    assert len(ax.patches) == 250 and ax.figure.get_size_inches()[1] == 16
    assert bar_labels(ax) == [] and ax.get_ylabel().startswith("250 features")
    ax = plot_gates(est, top=100)
    assert len(bar_labels(ax)) == 100 and ax.figure.get_size_inches()[1] == 16
    ax = plot_gates(est, top=20)  # sized to the bars below the cap
    assert len(bar_labels(ax)) == 20 and ax.figure.get_size_inches()[1] == pytest.approx(5.6)


def test_plot_gates_errors(lam_fit):
    with pytest.raises(ValueError, match="has 2 names but the estimator has 16"):
        plot_gates(lam_fit, feature_names=["a", "b"])
    with pytest.raises(ValueError, match="top=0"):
        plot_gates(lam_fit, top=0)
    # a string of as many letters as features was split into one-letter names
    with pytest.raises(TypeError, match=r"feature_names='abcdefghijklmnop' is one string"):
        plot_gates(lam_fit, feature_names="abcdefghijklmnop")
    with pytest.raises(NotFittedError):
        plot_gates(L0Regressor())
    # fitted, but without gates: says so (it said "not fitted yet")
    from sklearn.pipeline import make_pipeline

    from skl0 import L0FeatureSelector

    X, y = np.random.RandomState(0).randn(60, 4), np.arange(60.0)
    pipe = make_pipeline(L0FeatureSelector(k=2, max_iter=20)).fit(X, y)
    with pytest.raises(TypeError, match=r"fitted Pipeline has none.*plot_gates\(pipe\[-1\]"):
        plot_gates(pipe)
    with pytest.raises(TypeError, match="plot_mask_image takes a fitted estimator"):
        plot_mask_image(pipe, (2, 2))
    plot_gates(pipe[-1])


def test_plot_training_curve(lam_fit, frame_fit):
    ax = plot_training_curve(lam_fit)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), lam_fit.loss_curve_)
    assert ax.get_xlabel() == "optimizer step"
    ax = plot_training_curve(frame_fit)  # k: one point per path point
    assert len(ax.lines[0].get_xdata()) == len(frame_fit.loss_curve_)
    assert "lam path" in ax.get_xlabel()
    with pytest.raises(NotFittedError):
        plot_training_curve(L0Classifier())


def test_wrong_objects_are_named_in_one_short_line():
    # A fitted Pipeline or LinearRegression was "not fitted yet" for
    # plot_training_curve; an L0Path got scikit-learn's "... is not an
    # estimator instance" with the path's whole repr (every array) as message.
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    from skl0 import l0_path
    from skl0.plot import plot_path

    X, y = np.random.RandomState(0).randn(60, 4), np.arange(60.0)
    pipe = make_pipeline(L0Regressor(lam=0.01, max_iter=20)).fit(X, y)
    with pytest.raises(TypeError, match=r"fitted Pipeline has none.*\(pipe\[-1\]"):
        plot_training_curve(pipe)
    with pytest.raises(TypeError, match="the fitted LinearRegression has none"):
        plot_training_curve(LinearRegression().fit(X, y))
    path = l0_path(X, y, lams=[0.01], max_iter=20)
    for draw in (plot_gates, plot_training_curve, lambda p: plot_mask_image(p, (2, 2))):
        with pytest.raises(TypeError, match="got L0Path. Draw a path with") as info:
            draw(path)
        assert len(str(info.value)) < 300 and "array(" not in str(info.value)
    with pytest.raises(TypeError, match=r"got Pipeline. For a Pipeline pass its CV step"):
        plot_path(pipe)


def test_plot_mask_image_digits_like():
    rng = np.random.RandomState(0)
    X = rng.rand(120, 64)
    y = (X[:, 9] + X[:, 54] > 1).astype(int)
    sel = L0FeatureSelector(k=2, max_iter=20, random_state=0).fit(X, y)
    ax = plot_mask_image(sel, (8, 8))
    image = ax.images[0].get_array()
    assert image.shape == (8, 8)
    np.testing.assert_allclose(image.ravel(), sel.feature_importances_)
    corners = sorted((int(p.get_y() + 0.5), int(p.get_x() + 0.5)) for p in ax.patches)
    assert corners == sorted(divmod(int(j), 8) for j in np.flatnonzero(sel.support_))
    assert "2 of 64 pixels" in ax.get_title()


def test_plot_mask_image_bad_shape(lam_fit):
    with pytest.raises(ValueError, match="product is 16"):
        plot_mask_image(lam_fit, (3, 5))
    with pytest.raises(ValueError, match="must be two positive integers \\(rows, columns\\)"):
        plot_mask_image(lam_fit, (2, 2, 4))


def test_without_matplotlib_import_works_and_calls_say_what_to_install(
    monkeypatch, lam_fit
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    module = importlib.reload(skl0.plot)
    try:
        with pytest.raises(ImportError, match="pip install matplotlib"):
            module.plot_gates(lam_fit)
        with pytest.raises(ImportError, match="pip install matplotlib"):
            module.plot_training_curve(lam_fit)
    finally:
        monkeypatch.undo()
        importlib.reload(skl0.plot)


def test_plot_path_is_public_in_skl0_plot():
    from skl0.plot import plot_path

    assert "plot_path" in skl0.plot.__all__ and callable(plot_path)


@pytest.mark.parametrize("shape", [(2.5, 8), (-4, -4), 16, (4, 4, 1), (True, 16)])
def test_mask_image_shape_must_be_two_positive_ints(shape):
    rng = np.random.RandomState(0)
    X = rng.rand(60, 16)
    clf = L0Classifier(k=2, max_iter=20, random_state=0).fit(X, (X[:, 5] > 0.5).astype(int))
    with pytest.raises(ValueError, match=r"shape=.* must be two positive integers"):
        plot_mask_image(clf, shape)
    with pytest.raises(ValueError, match=r"top=.* must be a positive integer"):
        plot_gates(clf, top=float("nan"))
    plot_mask_image(clf, np.array([4, 4]))


def test_training_curve_of_a_stream_is_labelled_per_call():
    rng = np.random.RandomState(0)
    X = rng.rand(80, 4)
    reg = L0Regressor(hidden_layer_sizes=(4,), max_iter=3, batch_size=20, random_state=0)
    reg.partial_fit(X[:40], X[:40, 0]).partial_fit(X[40:], X[40:, 0])
    assert plot_training_curve(reg).get_xlabel() == "partial_fit call"
    sel = L0FeatureSelector(lam=0.01, max_iter=3, random_state=0)  # its estimator's stream
    y = (X[:, 0] > 0.5).astype(int)
    sel.partial_fit(X[:40], y[:40], classes=[0, 1]).partial_fit(X[40:], y[40:])
    assert len(sel.loss_curve_) == 2
    assert plot_training_curve(sel).get_xlabel() == "partial_fit call"


@pytest.mark.parametrize(("lam", "label"), [(0.01, "optimizer step"),
                                            ("auto", "point of the lam path")])
def test_training_curve_of_an_exact_stream_is_labelled_as_fit(lam, label):
    # A linear regressor's exact partial_fit re-solves on every row seen:
    # its loss_curve_ is fit's (per step or per path point), not one point
    # per call, and was labelled "partial_fit call".
    rng = np.random.RandomState(0)
    X = rng.randn(150, 5)
    y = X[:, 0] + 0.5 * X[:, 1] + 0.1 * rng.randn(150)
    reg = L0Regressor(lam=lam, max_iter=30, random_state=0)
    for rows in np.array_split(np.arange(150), 3):
        reg.partial_fit(X[rows], y[rows])
    fitted = L0Regressor(lam=lam, max_iter=30, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.loss_curve_, fitted.loss_curve_)
    assert plot_training_curve(reg).get_xlabel() == label
    assert plot_training_curve(fitted).get_xlabel() == label


def test_training_curve_label_follows_the_fit_not_the_curve_length():
    # Under lam="auto" (here with k) loss_curve_ holds one value per path
    # point; a one-point path that took one iteration has as many values as
    # n_iter_, and was labelled "optimizer step".
    rng = np.random.RandomState(0)
    X = rng.randn(120, 9)
    y = X[:, 0] * 2 - X[:, 3] + 0.1 * rng.randn(120)
    reg = L0Regressor(k=2, max_iter=30, random_state=0).fit(X, y)
    assert len(reg.loss_curve_) == reg.n_iter_ == 1  # the coincidence
    assert plot_training_curve(reg).get_xlabel() == "point of the lam path"
    fixed = L0Regressor(lam=0.05, k=2, max_iter=30, random_state=0).fit(X, y)
    assert plot_training_curve(fixed).get_xlabel() == "optimizer step"


def test_every_plot_without_matplotlib_says_what_to_install(monkeypatch, lam_fit):
    # plot_mask_image and plot_path were not covered; the penalty trackers'
    # plots raised Python's bare "No module named 'matplotlib'".
    import skl0.l0
    import skl0.nn
    from skl0 import l0_path
    from skl0.plot import plot_path

    X = np.random.RandomState(0).randn(40, 4)
    path = l0_path(X, X[:, 0], n_lams=2, max_iter=10, random_state=0)
    trackers = [skl0.nn.PenaltyTracker(), skl0.l0.PenaltyTracker()]
    for tracker in trackers:
        tracker.log("l0", 1.0)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    calls = [
        ("skl0.plot", lambda: plot_mask_image(lam_fit, (4, 4))),
        ("skl0.plot", lambda: plot_path(path)),
        ("PenaltyTracker.plot", trackers[0].plot),
        ("PenaltyTracker.plot_history", trackers[1].plot_history),
    ]
    for who, call in calls:
        with pytest.raises(ImportError, match=rf"{who} needs matplotlib.*pip install matplotlib"):
            call()


def test_plot_path_of_one_point_shows_its_number_of_features():
    # A step line through a single point has no length: the number of
    # features of a one-lam path (or a CV over one lam) was not drawn at all.
    from skl0 import L0RegressorCV, l0_path
    from skl0.plot import plot_path

    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = 2 * X[:, 0] + 0.1 * rng.randn(60)
    path = l0_path(X, y, lams=[0.01], max_iter=20, random_state=0)
    cv = L0RegressorCV(lams=[0.01], cv=2, max_iter=20, random_state=0).fit(X, y)
    for obj, n_feat in ((path, path.n_features[0]), (cv, cv.n_features_selected_[0])):
        line = plot_path(obj).lines[0]
        assert line.get_marker() not in ("None", "", None, " ")
        np.testing.assert_array_equal(line.get_ydata(), [n_feat])
    many = l0_path(X, y, lams=[0.01, 0.1], max_iter=20, random_state=0)
    assert plot_path(many).lines[0].get_marker() == "None"  # longer paths: the steps alone


def test_plot_path_twice_on_one_axes_shares_the_right_axis():
    # A second plot_path on the same axes made a second twin, whose own
    # scale overlaid the first one's: two losses read against one tick set.
    from skl0 import l0_path
    from skl0.plot import plot_path

    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = 2 * X[:, 0] + 0.1 * rng.randn(60)
    ax = plot_path(l0_path(X, y, lams=[0.01, 0.1], max_iter=20, random_state=0))
    twin = ax.right_ax
    assert plot_path(l0_path(10 * X, 10 * y, lams=[0.01, 0.1], max_iter=20,
                             random_state=0), ax=ax) is ax
    assert ax.right_ax is twin and len(ax.figure.axes) == 2
    assert len(twin.lines) == 2
    high = max(line.get_ydata().max() for line in twin.lines)
    assert twin.get_ylim()[1] >= high  # the scale covers both losses
    # A CV score is another quantity: its own right axis, not the losses'.
    from skl0 import L0RegressorCV

    cv = L0RegressorCV(lams=[0.01, 0.1], cv=2, max_iter=20, random_state=0).fit(X, y)
    plot_path(cv, ax=ax)
    assert len(ax.figure.axes) == 3 and ax.right_ax is not twin
    assert ax.right_ax.get_ylabel() == "mean CV score" and len(twin.lines) == 2
    assert twin.get_ylabel() == "training loss"
    plt.close(ax.figure)


@pytest.mark.parametrize("ax", [123, "left", "figure"])
def test_every_plot_refuses_an_ax_that_is_not_matplotlib_axes(ax):
    # plot_path(path, ax=123) failed inside matplotlib with "'int' object has
    # no attribute 'step'"; a Figure is the likely slip (plt.figure()).
    from skl0 import L0Regressor, l0_path
    from skl0.plot import plot_gates, plot_mask_image, plot_path, plot_training_curve

    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = 2 * X[:, 0] + 0.1 * rng.randn(60)
    reg = L0Regressor(k=1, random_state=0).fit(X, y)
    fig = plt.figure() if ax == "figure" else None
    bad = fig if ax == "figure" else ax
    calls = [lambda: plot_path(l0_path(X, y, lams=[0.01, 0.1], max_iter=20), ax=bad),
             lambda: plot_gates(reg, ax=bad), lambda: plot_training_curve(reg, ax=bad),
             lambda: plot_mask_image(reg, (2, 2), ax=bad)]
    for call in calls:
        with pytest.raises(TypeError, match="ax must be matplotlib Axes or None"
                           + (r".*fig\.gca\(\)" if fig is not None else "")):
            call()
    if fig is not None:
        plt.close(fig)
