"""skl0's estimators inside scikit-learn's meta-estimators and inspection tools.

GridSearchCV and Pipeline basics are in test_selector.py / test_estimators.py;
here the other wrappers a user combines them with, each checked for a
result that can be wrong (the support, a score, a shape, names), not only
that it runs.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from skl0 import (
    L0Classifier,
    L0ClassifierCV,
    L0FeatureSelector,
    L0Regressor,
    L0RegressorCV,
)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_select_from_model_prefit_max_features_and_threshold(diabetes):
    from sklearn.feature_selection import SelectFromModel

    X, y = diabetes
    reg = L0Regressor(k=4, random_state=0).fit(X, y)
    kept = reg.get_support(indices=True)
    pre = SelectFromModel(reg, prefit=True, importance_getter="support_")
    np.testing.assert_array_equal(pre.get_support(indices=True), kept)
    np.testing.assert_array_equal(pre.fit(X, y).estimator_.coef_, reg.coef_)  # a copy, not refit
    np.testing.assert_array_equal(pre.transform(X), X.to_numpy()[:, kept])
    assert list(pre.get_feature_names_out()) == list(X.columns[kept])
    # max_features ranks by |coef_|: the closed gates (exact zeros) never come first
    top = SelectFromModel(L0Regressor(k=6, random_state=0), threshold=-np.inf,
                          max_features=3).fit(X, y)
    assert set(top.get_support(indices=True)) <= set(top.estimator_.get_support(indices=True))
    # a multi-output coef_ (2-D) is read by its norm, one support for both outputs
    two = SelectFromModel(L0Regressor(k=3, random_state=0), importance_getter="support_")
    assert two.fit(X, np.c_[y, 2 * y]).get_support().sum() == 3
    with pytest.raises(Exception, match="fitted"):
        SelectFromModel(L0Regressor(k=4), prefit=True).transform(X)


def test_rfe_and_sequential_selection_end_on_the_informative_columns(diabetes, iris):
    from sklearn.feature_selection import RFE, RFECV, SequentialFeatureSelector

    X, y = diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # k above the columns left: all are kept, with a warning
        rfe = RFE(L0Regressor(k=5, random_state=0), n_features_to_select=3).fit(X, y)
        cv = RFECV(L0Regressor(k=10, random_state=0), cv=3, step=2).fit(X, y)
        sfs = SequentialFeatureSelector(L0Classifier(k=3, random_state=0), n_features_to_select=2,
                                        direction="backward", cv=2).fit(*iris)
    # bmi, bp and s5 (columns 2, 3, 8) are what L0Regressor(k=3) keeps on diabetes
    assert set(rfe.get_support(indices=True)) == {2, 3, 8}
    assert cv.n_features_ >= 3 and cv.cv_results_["mean_test_score"].max() > 0.45
    assert set(sfs.get_support(indices=True)) == {2, 3}  # petal length and width


def test_multiclass_and_multioutput_wrappers(diabetes, cancer, iris):
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
    from sklearn.multioutput import (
        ClassifierChain,
        MultiOutputRegressor,
        RegressorChain,
    )

    Xi, yi = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[yi]
    ovr = OneVsRestClassifier(L0Classifier(k=2, random_state=0)).fit(Xi, yi)
    np.testing.assert_allclose(ovr.predict_proba(Xi).sum(axis=1), 1.0)
    assert ovr.score(Xi, yi) > 0.9
    ovo = OneVsOneClassifier(L0Classifier(k=2, random_state=0)).fit(Xi, labels)
    assert ovo.decision_function(Xi).shape == (150, 3) and ovo.score(Xi, labels) > 0.9
    X, y = diabetes
    Y = np.c_[y, np.sqrt(y)]
    mor = MultiOutputRegressor(L0Regressor(k=3, random_state=0))
    mor.fit(X, Y, sample_weight=np.linspace(0.5, 2, len(y)))
    chain = RegressorChain(L0Regressor(k=3, random_state=0), order=[1, 0]).fit(X, Y)
    for est in (mor, chain):
        assert est.predict(X).shape == Y.shape and est.score(X, Y) > 0.4
    Xc, yc = cancer
    Ym = np.c_[yc, (Xc[:, 0] > 14).astype(int)]
    cc = ClassifierChain(L0Classifier(k=3, random_state=0), chain_method="decision_function")
    proba = cc.fit(Xc, Ym).predict_proba(Xc)
    assert proba.shape == (len(yc), 2) and cc.score(Xc, Ym) > 0.9


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifier_cv_and_frozen(cancer, method):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    X, y = cancer
    cal = CalibratedClassifierCV(L0Classifier(k=4, random_state=0), method=method, cv=3)
    cal.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)))
    assert len(cal.calibrated_classifiers_) == 3 and cal.score(X, y) > 0.95
    fitted = L0Classifier(k=4, random_state=0).fit(X[:300], y[:300])
    frozen = CalibratedClassifierCV(FrozenEstimator(fitted), method=method).fit(X[300:], y[300:])
    np.testing.assert_array_equal(fitted.support_, frozen.estimator.estimator.support_)
    assert frozen.score(X[300:], y[300:]) > 0.9


def test_ensembles_stacking_voting_bagging(diabetes, cancer):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import (
        BaggingRegressor,
        StackingClassifier,
        StackingRegressor,
        VotingClassifier,
    )

    X, y = diabetes
    w = np.linspace(0.5, 2, len(y))
    stack = StackingRegressor([("a", L0Regressor(k=3, random_state=0)),
                               ("b", L0Regressor(k=6, random_state=0))],
                              final_estimator=L0Regressor(k=1, random_state=0), cv=3).fit(X, y)
    assert stack.score(X, y) > 0.45 and stack.final_estimator_.support_.sum() == 1
    bag = BaggingRegressor(L0Regressor(k=3, random_state=0), n_estimators=4, max_features=0.5,
                           random_state=0).fit(X, y, sample_weight=w)
    for est, cols in zip(bag.estimators_, bag.estimators_features_):
        assert est.n_features_in_ == len(cols) == 5
    assert bag.score(X, y) > 0.35
    ttr = TransformedTargetRegressor(L0Regressor(k=4, random_state=0), func=np.log,
                                     inverse_func=np.exp).fit(X, y, sample_weight=w)
    assert ttr.regressor_.support_.sum() == 4 and ttr.score(X, y) > 0.4
    Xc, yc = cancer
    soft = VotingClassifier([("a", L0Classifier(k=3, random_state=0)),
                             ("b", L0Classifier(k=6, random_state=0))], voting="soft").fit(Xc, yc)
    np.testing.assert_allclose(soft.predict_proba(Xc), np.mean(
        [e.predict_proba(Xc) for e in soft.estimators_], axis=0))
    sc = StackingClassifier([("a", L0Classifier(k=3, random_state=0))],
                            final_estimator=L0Classifier(k=1, random_state=0), cv=3).fit(Xc, yc)
    assert sc.score(Xc, yc) > 0.9


def test_selector_in_feature_union_and_column_transformer_names_and_output(diabetes):
    pl = pytest.importorskip("polars")
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = diabetes
    union = FeatureUnion([("sel", L0FeatureSelector(k=3, random_state=0)), ("pca", PCA(2))])
    names = ["sel__bmi", "sel__bp", "sel__s5", "pca__pca0", "pca__pca1"]
    assert list(union.fit(X, y).get_feature_names_out()) == names
    out = clone(union).set_output(transform="polars").fit(pl.from_pandas(X), y)
    assert out.transform(pl.from_pandas(X)).columns == names
    ct = ColumnTransformer([("sel", L0FeatureSelector(k=2, random_state=0),
                             ["age", "sex", "bmi", "bp"]),
                            ("sc", StandardScaler(), ["s1", "s2"])],
                           verbose_feature_names_out=False).set_output(transform="pandas")
    frame = ct.fit(X, y).transform(X)
    assert list(frame.columns) == ["bmi", "bp", "s1", "s2"]
    np.testing.assert_array_equal(frame["bmi"], X["bmi"])
    pipe = make_pipeline(StandardScaler(), union, L0Regressor(k=2, random_state=0))
    tuned = clone(pipe).set_params(featureunion__sel__k=2, l0regressor__lam=0.01)
    params = tuned.get_params(deep=True)
    assert params["featureunion__sel__k"] == 2 and params["l0regressor__lam"] == 0.01
    assert pipe.get_params()["featureunion__sel__k"] == 3  # the clone's change stays there
    assert tuned.fit(X, y)[:-1].get_feature_names_out().tolist()[:2] == ["sel__bmi", "sel__s5"]


def test_inspection_tools(diabetes, cancer):
    from sklearn.inspection import partial_dependence, permutation_importance

    X, y = diabetes
    reg = L0Regressor(k=3, random_state=0).fit(X, y)
    imp = permutation_importance(reg, X, y, n_repeats=2, random_state=0).importances_mean
    np.testing.assert_array_equal(np.flatnonzero(imp), reg.get_support(indices=True))
    flat = partial_dependence(reg, X, ["age"], kind="average")["average"]  # a closed gate
    slope = partial_dependence(reg, X, ["bmi"], kind="average")
    assert np.ptp(flat) == 0.0
    np.testing.assert_allclose(np.diff(slope["average"][0]) / np.diff(slope["grid_values"][0]),
                               reg.coef_[2], rtol=1e-6)
    Xc, yc = cancer
    clf = L0Classifier(k=3, random_state=0).fit(Xc, yc)
    both = partial_dependence(clf, Xc, [20], kind="both", response_method="decision_function")
    assert both["individual"].shape[:2] == (1, len(yc))


def test_model_selection_helpers(diabetes, iris):
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        check_cv,
        cross_val_predict,
        cross_val_score,
        cross_validate,
        validation_curve,
    )

    X, y = diabetes
    res = cross_validate(L0Regressor(k=3, random_state=0), X, y, cv=3, return_estimator=True,
                         return_indices=True)
    assert all(est.support_.sum() == 3 for est in res["estimator"])
    np.testing.assert_allclose(res["test_score"], [
        e.score(X.iloc[t], y.iloc[t]) for e, t in zip(res["estimator"], res["indices"]["test"])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lam=1 keeps no feature (warned)
        _, test = validation_curve(L0Regressor(random_state=0), X, y, param_name="lam",
                                   param_range=[1e-4, 1e-1, 1.0], cv=3)
    means = test.mean(axis=1)
    assert means[0] > means[1] > means[2] and abs(means[2]) < 0.05  # intercept only at lam=1
    groups = np.arange(len(y)) % 4
    scores = cross_val_score(L0Regressor(k=3, random_state=0), X, y,
                             cv=check_cv(GroupKFold(4)), groups=groups)
    assert len(scores) == 4 and scores.min() > 0.3
    Xi, yi = iris
    cv = KFold(3, shuffle=True, random_state=0)
    proba = cross_val_predict(L0Classifier(k=2, random_state=0), Xi, yi, cv=cv,
                              method="predict_proba")
    dec = cross_val_predict(L0Classifier(k=2, random_state=0), Xi, yi, cv=cv,
                            method="decision_function")
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), dec.argmax(axis=1))


def test_repr_html_and_nested_params():
    from sklearn.pipeline import make_pipeline
    from sklearn.utils import estimator_html_repr

    assert repr(L0Regressor()) == "L0Regressor()"
    est = L0Classifier(k=2, lam=0.01, hidden_layer_sizes=(8,), class_weight="balanced")
    assert repr(est) == ("L0Classifier(class_weight='balanced', hidden_layer_sizes=(8,), k=2, "
                         "lam=0.01)")
    pipe = make_pipeline(L0FeatureSelector(k=3, random_state=0), est)
    html = estimator_html_repr(pipe)
    assert "L0FeatureSelector" in html and "L0Classifier" in html
    deep = pipe.get_params(deep=True)
    assert deep["l0classifier__k"] == 2 and deep["l0featureselector__k"] == 3
    assert set(L0Regressor().get_params()) | {"task", "class_weight"} == set(
        L0FeatureSelector().get_params())


_FITS = {
    "reg": lambda: L0Regressor(k=2, random_state=0).fit,
    "partial_fit": lambda: L0Regressor(random_state=0).partial_fit,
    "selector": lambda: L0FeatureSelector(k=2, random_state=0).fit,
    "regcv": lambda: L0RegressorCV(cv=2, n_lams=3, random_state=0).fit,
    "clf": lambda: L0Classifier(k=2, random_state=0).fit,
    "clfcv": lambda: L0ClassifierCV(cv=2, n_lams=3, random_state=0).fit,
}


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("name, where", [
    *((name, where) for name in ["reg", "partial_fit", "selector", "regcv"] for where in "Xy"),
    ("clf", "X"), ("clfcv", "X"),  # (a NaN class label is refused before the fit)
])
def test_assume_finite_fit_on_nan_says_so_not_diverged(name, where, value):
    # Under sklearn.config_context(assume_finite=True) validation lets NaN and
    # infinity through, and the fit ended in NonFiniteLossError "training
    # diverged. Lower learning_rate_init, raise alpha..." or "X or y holds
    # values too large for the dtype": advice that does not fit the cause.
    import sklearn

    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 4))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)
    if name.startswith("clf"):
        y = (y > 0).astype(float)
    (X if where == "X" else y)[3] = value
    kind = "NaN" if np.isnan(value) else "infinity"
    fit = _FITS[name]()
    with sklearn.config_context(assume_finite=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=rf"(?s)Input {where} contains {kind}.*"
                                             r"assume_finite=True skipped"):
            fit(X, y)
    assert not hasattr(fit.__self__, "support_")  # left unfitted, as any failed fit


def test_threshold_classifiers(cancer):
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import (
        FixedThresholdClassifier,
        TunedThresholdClassifierCV,
    )

    X, y = cancer
    labels = np.array(["malignant", "benign"])[y]
    fixed = FixedThresholdClassifier(L0Classifier(k=3, random_state=0), threshold=0.2,
                                     pos_label="malignant").fit(X, labels)
    proba = fixed.estimator_.predict_proba(X)[:, list(fixed.classes_).index("malignant")]
    np.testing.assert_array_equal(fixed.predict(X) == "malignant", proba >= 0.2)
    fitted = L0Classifier(k=3, random_state=0).fit(X[:300], y[:300])
    tuned = TunedThresholdClassifierCV(FrozenEstimator(fitted), scoring="balanced_accuracy",
                                       cv=3).fit(X[300:], y[300:])
    np.testing.assert_array_equal(tuned.estimator_.estimator.coef_, fitted.coef_)  # not refit
    score = fitted.predict_proba(X[300:])[:, 1]
    np.testing.assert_array_equal(tuned.predict(X[300:]), score >= tuned.best_threshold_)
    assert 0 < tuned.best_threshold_ < 1 and tuned.best_score_ > 0.9


def test_successive_halving_and_randomized_search(diabetes):
    from scipy.stats import loguniform
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import (
        HalvingGridSearchCV,
        RandomizedSearchCV,
        learning_curve,
    )

    X, y = diabetes
    halving = HalvingGridSearchCV(L0Regressor(random_state=0),
                                  {"lam": [1e-3, 1e-1], "k": [1, 3, None]}, cv=3,
                                  random_state=0).fit(X, y)
    assert halving.n_resources_[-1] <= len(y) and halving.best_estimator_.n_features_in_ == 10
    assert halving.best_score_ > 0.4
    rand = RandomizedSearchCV(L0Regressor(k=3, random_state=0), {"lam": loguniform(1e-4, 1)},
                              n_iter=3, cv=3, random_state=0).fit(X, y)
    lams = rand.cv_results_["param_lam"]
    assert all(1e-4 <= lam <= 1 for lam in lams) and rand.best_estimator_.lam == rand.best_params_["lam"]
    sizes, _, test = learning_curve(L0Regressor(k=3, random_state=0), X, y, cv=3,
                                    train_sizes=[0.3, 1.0])
    assert list(sizes) == [88, 294] and test.mean(axis=1)[1] > 0.4


def test_global_transform_output_and_config_leave_fits_unchanged(diabetes):
    import sklearn

    pl = pytest.importorskip("polars")
    X, y = diabetes
    inputs = (X.to_numpy(), X, pl.from_pandas(X))
    # (polars gives a Fortran-ordered array: its last bits differ from a C-ordered X's)
    base = [L0FeatureSelector(k=3, random_state=0).fit(data, y).estimator_ for data in inputs]
    for out in ("pandas", "polars"):
        with sklearn.config_context(transform_output=out, assume_finite=True,
                                    skip_parameter_validation=True):
            for data, ref in zip(inputs, base):
                sel = L0FeatureSelector(k=3, random_state=0).fit(data, y)
                Xt = sel.transform(data)
                assert type(Xt).__module__.split(".")[0] == out
                assert list(Xt.columns) == (["bmi", "bp", "s5"] if data is not inputs[0]
                                            else ["x2", "x3", "x8"])
                np.testing.assert_array_equal(sel.estimator_.coef_, ref.coef_)
