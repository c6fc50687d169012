"""L0FeatureSelector in the lines users type first: pandas, Pipeline, GridSearchCV."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor, l0_path


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer(as_frame=True)
    return data.data, data.target


def test_dataframe_in_names_out(cancer):
    X, y = cancer
    sel = L0FeatureSelector(k=5, random_state=0).fit(X, y)
    assert isinstance(sel.estimator_, L0Classifier)
    mask = sel.get_support()
    assert mask.shape == (X.shape[1],) and mask.sum() == 5
    np.testing.assert_array_equal(sel.get_feature_names_out(), X.columns[mask])
    np.testing.assert_array_equal(sel.feature_names_in_, X.columns)
    out = sel.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(X.columns[mask])
    pd.testing.assert_frame_equal(out, X.loc[:, mask])


def test_inverse_transform_puts_zeros_back(cancer):
    X, y = cancer
    sel = L0FeatureSelector(k=4, random_state=0).fit(X.to_numpy(), y.to_numpy())
    back = sel.inverse_transform(sel.transform(X.to_numpy()))
    assert back.shape == X.shape
    assert np.all(back[:, ~sel.get_support()] == 0)


def test_pipeline_with_logistic_regression(cancer):
    X, y = cancer
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("sel", L0FeatureSelector(k=20, random_state=0)),
        ("clf", LogisticRegression(max_iter=1000)),
    ]).fit(X, y)
    assert pipe.named_steps["sel"].get_support().sum() == 20
    assert pipe.score(X, y) > 0.95
    assert len(pipe[:-1].get_feature_names_out()) == 20


def test_grid_search_over_lam_runs_from_many_to_few(cancer):
    X, y = cancer
    pipe = Pipeline([
        ("sel", L0FeatureSelector(max_iter=150, random_state=0)),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    grid = GridSearchCV(pipe, {"sel__lam": [1e-4, 1e-2, 1.0]}, cv=KFold(3))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # lam=1.0 keeps nothing: warned
        grid.fit(X, y)
    assert grid.best_params_["sel__lam"] in (1e-4, 1e-2)
    sizes = {
        lam: L0FeatureSelector(lam=lam, max_iter=150, random_state=0).fit(X, y).get_support().sum()
        for lam in (1e-4, 1e-2)
    }
    assert sizes[1e-4] > sizes[1e-2] > 0


def test_k_caps_a_numeric_lam_so_a_grid_over_lam_tunes_something(cancer):
    """The README's pipeline: with k set, lam selects and k caps (issue 17)."""
    X, y = cancer
    sizes, supports = {}, {}
    for lam in (1e-4, 3e-2, 1e-1):
        sel = L0FeatureSelector(k=8, lam=lam).fit(X, y)
        sizes[lam], supports[lam] = sel.get_support().sum(), sel.get_support(indices=True)
        plain = L0FeatureSelector(lam=lam).fit(X, y)
        if plain.get_support().sum() <= 8:  # lam alone is within the cap: it stands
            np.testing.assert_array_equal(sel.get_support(), plain.get_support())
            assert sel.estimator_.lam_ == lam
        else:  # the cap binds: exactly k, found further along the path
            assert sizes[lam] == 8 and sel.estimator_.lam_ > lam
    assert sizes[1e-4] == 8 > sizes[3e-2] >= sizes[1e-1] >= 1
    assert len({tuple(s) for s in supports.values()}) == 3
    # lam="auto" with k is still exactly k
    assert L0FeatureSelector(k=8).fit(X, y).get_support().sum() == 8
    pipe = Pipeline([("sel", L0FeatureSelector(k=8)), ("scale", StandardScaler()),
                     ("clf", LogisticRegression())])
    grid = GridSearchCV(pipe, {"sel__lam": [1e-4, 3e-2, 1e-1]}, cv=KFold(3)).fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert len(set(np.round(scores, 6))) == 3  # different lam, different models


def test_select_from_model_keeps_the_support_read_from_support_(cancer):
    # README: SelectFromModel reads coef_ and by default keeps the columns
    # above the mean magnitude (3 of k=5 here); importance_getter="support_"
    # keeps exactly the support, also where a kept column's coef_ is tiny in
    # X's units (a threshold of 1e-5 on coef_ dropped it).
    from sklearn.feature_selection import SelectFromModel

    X, y = cancer
    by_mean = SelectFromModel(L0Classifier(k=5, random_state=0)).fit(X, y)
    assert by_mean.get_support().sum() == 3
    exact = SelectFromModel(L0Classifier(k=5, random_state=0),
                            importance_getter="support_").fit(X, y)
    np.testing.assert_array_equal(exact.get_support(), exact.estimator_.support_)
    assert exact.get_support().sum() == 5
    rng = np.random.RandomState(0)
    Xr = rng.randn(200, 3)
    Xr[:, 1] *= 1e6
    yr = Xr[:, 0] + Xr[:, 1] / 1e6
    sel = SelectFromModel(L0Regressor(k=2, random_state=0), importance_getter="support_")
    np.testing.assert_array_equal(sel.fit(Xr, yr).get_support(), [True, True, False])
    assert abs(sel.estimator_.coef_[1]) < 1e-5  # where the coef_ threshold fails


def test_task_detection_and_override():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 4)
    y_int = (X[:, 0] > 0).astype(int)
    assert isinstance(L0FeatureSelector(k=1, random_state=0).fit(X, y_int).estimator_, L0Classifier)
    sel = L0FeatureSelector(k=1, task="regression", random_state=0).fit(X, y_int)
    assert isinstance(sel.estimator_, L0Regressor)
    assert isinstance(L0FeatureSelector(k=1, random_state=0).fit(X, X[:, 1]).estimator_, L0Regressor)


def test_bad_task_is_named():
    with pytest.raises(ValueError, match="'task' parameter"):
        L0FeatureSelector(task="ranking").fit(np.eye(3), [0, 1, 0])


def test_text_labels_in_several_columns_say_one_classifier_per_column():
    # task="auto" reads a target of several columns as a regression; the
    # regressor's advice was task='classification', which then refused the
    # two columns ("y should be a 1d array").
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(30, 3), columns=["a", "b", "c"])
    Y = pd.DataFrame({"u": np.where(X["a"] > 0, "yes", "no"), "v": ["p", "q", "r"] * 10})
    with pytest.raises(ValueError, match=r"y has 2 columns: for class labels fit one "
                                         r"L0Classifier .* per column"):
        L0FeatureSelector(k=1).fit(X, Y)
    sel = L0FeatureSelector(k=1, task="classification", random_state=0).fit(X, Y["u"])
    assert sel.get_feature_names_out().tolist() == ["a"]


def test_wrong_columns_at_transform(cancer):
    X, y = cancer
    sel = L0FeatureSelector(k=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="feature names"):
        sel.transform(X[X.columns[::-1]])
    with pytest.raises(ValueError, match="features"):
        sel.transform(X.to_numpy()[:, :5])


@pytest.mark.parametrize(
    "y, expected",
    [
        (np.array([0, 1] * 20), "classification"),
        (np.array([0.0, 1.0, 2.0] * 10), "classification"),
        (np.array(["a", "b"] * 10, dtype=object), "classification"),
        (np.array([True, False] * 10), "classification"),
        (np.arange(40) * 100, "regression"),  # a whole-number quantity, many values
        (np.linspace(0, 1, 40), "regression"),
        (np.zeros((40, 2)), "regression"),
        # numbers in an object array (a Series of dtype object): the numeric rule
        (pd.Series(np.linspace(0, 1, 40), dtype=object), "regression"),
    ],
)
def test_task_auto_reads_labels_and_quantities(y, expected):
    X = np.random.default_rng(0).normal(size=(len(y), 3))
    sel = L0FeatureSelector(task="auto", k=1, max_iter=5, random_state=0).fit(X, y)
    kind = "classification" if hasattr(sel.estimator_, "classes_") else "regression"
    assert kind == expected


def test_task_auto_reads_numbers_in_an_object_array_by_the_numeric_rule():
    from skl0._checks import infer_task

    assert infer_task(np.linspace(0, 1, 40).astype(object)) == "regression"
    assert infer_task(np.array([0, 1, 2] * 10, dtype=object)) == "classification"
    assert infer_task(np.array([0.5, "a"] * 10, dtype=object)) == "classification"
    assert infer_task(np.array([True, False] * 10, dtype=object)) == "classification"
    from decimal import Decimal  # a SQL NUMERIC column

    assert infer_task(np.array([Decimal(f"{v:.3f}") for v in np.linspace(0, 1, 40)],
                               dtype=object)) == "regression"
    # ... and fitted as such: class labels as numbers (scikit-learn's label
    # checks call an object array of numbers "unknown"), a quantity by l0_path
    X = np.random.default_rng(0).normal(size=(60, 3))
    labels = pd.Series([int(v > 0) + int(v > 1) for v in X[:, 0]], dtype=object)
    sel = L0FeatureSelector(k=1, max_iter=20, random_state=0).fit(X, labels)
    assert isinstance(sel.estimator_, L0Classifier)
    assert sel.estimator_.classes_.tolist() == [0, 1, 2]
    amounts = pd.Series([Decimal(f"{v:.3f}") for v in 3 * X[:, 1]], dtype=object)
    path = l0_path(X, amounts, n_lams=3, max_iter=20, random_state=0)
    assert path.support[0, 1]  # the column carrying the amounts, at the first lam


def test_auto_task_reads_a_categorical_target_before_validation():
    # A categorical Series is class labels (infer_task's rule), even with
    # more numeric categories than MAX_AUTO_CLASSES; validation turns it
    # into plain integers, which alone would read as a regression target.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    codes = np.clip((X[:, 0] * 8 + 15).round(), 0, 29).astype(int)
    y = pd.Series(pd.Categorical(codes))
    assert y.nunique() > 20
    sel = L0FeatureSelector(k=2, max_iter=20, random_state=0).fit(X, y)
    assert isinstance(sel.estimator_, L0Classifier)
    plain = L0FeatureSelector(k=2, max_iter=20, random_state=0).fit(X, codes)
    assert isinstance(plain.estimator_, L0Regressor)  # the same numbers, not categorical


def test_selectors_declare_the_multi_output_targets_they_fit():
    from skl0 import L0FeatureSelectorCV

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6))
    Y = np.column_stack([X[:, 0], X[:, 0] - X[:, 3]]) + 0.1 * rng.standard_normal((80, 2))
    for sel in (L0FeatureSelector(k=2, max_iter=20), L0FeatureSelectorCV(n_lams=3, cv=2)):
        assert sel.__sklearn_tags__().target_tags.multi_output
        assert sel.fit(X, Y).transform(X).shape[0] == 80


def _reg_chunks():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 8))
    y = X[:, 0] - 2 * X[:, 3] + X[:, 5] + 0.1 * rng.standard_normal(400)
    return pd.DataFrame(X, columns=list("abcdefgh")), y


def test_partial_fit_applies_set_params_between_calls():
    # The inner estimator was built from get_params on the first call only:
    # a later k was ignored and a new head accepted silently.
    X, y = _reg_chunks()
    sel = L0FeatureSelector(random_state=0).partial_fit(X[:200], y[:200])
    sel.set_params(k=1).partial_fit(X[200:], y[200:])
    ref = L0Regressor(random_state=0).partial_fit(X.to_numpy()[:200], y[:200])
    ref.set_params(k=1).partial_fit(X.to_numpy()[200:], y[200:])
    assert sel.estimator_.k == 1
    np.testing.assert_array_equal(sel.get_support(), ref.get_support())
    params, names = sel.estimator_.get_params(), list(sel.estimator_.feature_names_in_)
    coef = sel.estimator_.coef_.copy()
    for change, match in [({"hidden_layer_sizes": (8,)}, "hidden_layer_sizes=\\(8,\\)"),
                          ({"groups": list("aabbccdd")}, "groups="),
                          ({"task": "classification"}, "task='classification'")]:
        sel.set_params(**change)
        with pytest.raises(ValueError, match=match + ".* changed since the first partial_fit"):
            sel.partial_fit(X[:100], y[:100])
        sel.set_params(hidden_layer_sizes=(), groups=None, task="auto")
        # A failed call leaves the stream's estimator as it was.
        assert sel.estimator_.get_params() == params
        assert list(sel.estimator_.feature_names_in_) == names
        np.testing.assert_array_equal(sel.estimator_.coef_, coef)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_partial_fit_on_frames_does_not_warn_about_feature_names(task):
    # Every call after the first warned "X does not have valid feature names".
    X, y = _reg_chunks()
    kw = {}
    if task == "classification":
        y, kw = (y > 0).astype(int), {"classes": [0, 1]}
    sel = L0FeatureSelector(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i, start in enumerate(range(0, 400, 100)):
            sel.partial_fit(X[start:start + 100], y[start:start + 100], **(kw if i == 0 else {}))
    assert list(sel.feature_names_in_) == list("abcdefgh")
    assert list(sel.estimator_.feature_names_in_) == list("abcdefgh")
    assert list(sel.get_feature_names_out()) == [c for c, s in zip("abcdefgh", sel.support_) if s]


def test_get_support_returns_a_copy_that_does_not_change_the_selector():
    # SelectorMixin.get_support returned support_ itself: editing the mask
    # (e.g. to add a column) changed support_, estimator_.support_ and transform.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    y = 2 * X[:, 0] - X[:, 3] + 0.1 * rng.normal(size=80)
    sel = L0FeatureSelector(k=2, random_state=0).fit(X, y)
    mask = sel.get_support()
    mask[:] = True
    assert sel.support_.tolist() == [True, False, False, True, False]
    assert sel.estimator_.support_.tolist() == [True, False, False, True, False]
    assert sel.transform(X).shape == (80, 2)


@pytest.mark.parametrize("kind", ["bool", "pandas boolean", "category"])
def test_partial_fit_auto_streams_a_classification_for_label_dtypes(kind):
    # fit on a boolean or categorical y fits a classifier; a stream of the
    # same y with task="auto" regressed on it (booleans as 0 / 1) unless
    # classes was passed, though the dtype tells every label.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6))
    hit = X[:, 0] + X[:, 1] > 0
    y = {"bool": hit, "pandas boolean": pd.Series(hit, dtype="boolean"),
         "category": pd.Series(pd.Categorical(np.where(hit, "a", "b"),
                                              categories=["a", "b", "c"]))}[kind]
    stream = L0FeatureSelector(k=2, random_state=0)
    for start in range(0, 200, 50):
        stream.partial_fit(X[start:start + 50], y[start:start + 50])
    assert isinstance(stream.estimator_, L0Classifier)
    want = ["a", "b", "c"] if kind == "category" else [False, True]
    assert stream.estimator_.classes_.tolist() == want
    np.testing.assert_array_equal(stream.get_support(), np.arange(6) < 2)


def test_partial_fit_auto_still_regresses_on_numbers_without_classes():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 5))
    y = (X[:, 0] > 0).astype(int)  # class codes or a 0 / 1 quantity: one chunk cannot tell
    stream = L0FeatureSelector(k=1, random_state=0).partial_fit(X, y)
    assert isinstance(stream.estimator_, L0Regressor)
