"""class_weight on the classifiers and selectors: LogisticRegression's parameter.

The class weights multiply sample_weight for the fit, so every test compares
against the same fit given the products as sample_weight (which the rest of
the suite checks against repeated rows).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.model_selection import KFold
from sklearn.utils.class_weight import compute_sample_weight

from skl0 import (
    L0Classifier,
    L0ClassifierCV,
    L0FeatureSelector,
    L0FeatureSelectorCV,
    L0Regressor,
)


@pytest.fixture(scope="module")
def imbalanced():
    """Breast cancer's first 300 rows, with 3 of every 4 malignant (class 0) rows dropped."""
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[:300], y[:300]
    keep = (y == 1) | (np.cumsum(y == 0) % 4 == 0)
    return X[keep], y[keep]


@pytest.fixture(scope="module")
def three_classes():
    """Iris with classes of 50, 20 and 8 rows."""
    X, y = load_iris(return_X_y=True)
    keep = np.concatenate([np.arange(50), np.arange(50, 70), np.arange(100, 108)])
    return X[keep], y[keep]


def _same_fit(a, b):
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-9, atol=1e-12)
    assert a.lam_ == b.lam_


@pytest.mark.parametrize("params", [{"k": 3}, {}, {"lam": 0.01}], ids=["k", "auto", "lam"])
@pytest.mark.parametrize("data", ["imbalanced", "three_classes"])
def test_balanced_is_the_fit_with_balanced_sample_weights(params, data, request):
    X, y = request.getfixturevalue(data)
    a = L0Classifier(class_weight="balanced", random_state=0, **params).fit(X, y)
    b = L0Classifier(random_state=0, **params).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y))
    _same_fit(a, b)
    assert a.class_weight == "balanced"  # fit does not write back into it


def test_a_dict_multiplies_sample_weight_and_neither_is_changed(three_classes):
    X, y = three_classes
    sw = np.linspace(0.5, 1.5, y.size)
    sw_before = sw.copy()
    cw = {0: 0.5, 2: 4.0}  # class 1 left out: weight 1
    a = L0Classifier(k=2, class_weight=cw, random_state=0).fit(X, y, sample_weight=sw)
    b = L0Classifier(k=2, random_state=0).fit(
        X, y, sample_weight=sw * np.array([0.5, 1.0, 4.0])[y])
    _same_fit(a, b)
    np.testing.assert_array_equal(sw, sw_before)
    assert cw == {0: 0.5, 2: 4.0}


def test_balanced_with_sample_weight_uses_the_weighted_class_totals(imbalanced):
    # Frequency weights: a weight of 2 is a repeated row, so "balanced" must
    # count it twice, as it counts the repeated row.
    X, y = imbalanced
    sw = np.where(np.arange(y.size) % 3 == 0, 2, 1)
    rows = np.repeat(np.arange(y.size), sw)
    a = L0Classifier(k=3, class_weight="balanced", random_state=0).fit(X, y, sample_weight=sw)
    b = L0Classifier(k=3, class_weight="balanced", random_state=0).fit(X[rows], y[rows])
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6)
    totals = np.bincount(y, weights=sw)
    c = L0Classifier(k=3, random_state=0).fit(
        X, y, sample_weight=sw * (totals.sum() / (2 * totals))[y])
    _same_fit(a, c)


def test_balanced_weights_change_what_the_minority_class_gets(imbalanced):
    X, y = imbalanced
    plain = L0Classifier(k=3, random_state=0).fit(X, y)
    balanced = L0Classifier(k=3, class_weight="balanced", random_state=0).fit(X, y)
    minority = y == 0
    assert minority.mean() < 0.25
    # The minority class's mean predicted probability rises towards 1/2 of the weight.
    p_plain = plain.predict_proba(X)[minority, 0].mean()
    p_bal = balanced.predict_proba(X)[minority, 0].mean()
    assert p_bal > p_plain + 0.01


@pytest.mark.parametrize("cw, match", [
    ({0: 0}, r"class_weight\[0\]=0: each class weight must be a positive, finite"),
    ({1: -2.0}, r"class_weight\[1\]=-2.0"),
    ({0: np.nan}, r"class_weight\[0\]=nan"),
    ({0: True}, r"class_weight\[0\]=True"),
    ({0: "2"}, r"class_weight\[0\]='2'"),
    ({5: 1.0}, r"label\(s\) \[5\] that are not classes of y \[0, 1\]"),
    ({"yes": 1.0}, r"label\(s\) \['yes'\]"),
])
def test_bad_class_weights_are_refused_with_the_fix(imbalanced, cw, match):
    X, y = imbalanced
    with pytest.raises(ValueError, match=match):
        L0Classifier(k=2, class_weight=cw).fit(X, y)


def test_numpy_keys_and_values_are_shown_as_plain_numbers(imbalanced):
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"class_weight\[0\]=-1.0: each"):
        L0Classifier(k=2, class_weight={np.int64(0): np.float64(-1.0)}).fit(X, y)
    with pytest.raises(ValueError, match=r"label\(s\) \[5\] that are not classes"):
        L0Classifier(k=2, class_weight={np.int64(5): 1.0}).fit(X, y)


def test_class_weight_string_other_than_balanced_is_refused():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"'class_weight' parameter of L0Classifier.*'bal'"):
        L0Classifier(class_weight="bal").fit(X, y)


def test_a_dict_covering_every_class_may_have_more_labels(imbalanced):
    # scikit-learn's rule: a dict made on all of y serves a part of it.
    X, y = imbalanced
    a = L0Classifier(k=2, class_weight={0: 3.0, 1: 1.0, 7: 2.0}, random_state=0).fit(X, y)
    b = L0Classifier(k=2, class_weight={0: 3.0}, random_state=0).fit(X, y)
    _same_fit(a, b)


def test_string_labels_are_the_keys():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    a = L0Classifier(k=2, class_weight={"virginica": 3.0}, random_state=0).fit(X, labels)
    b = L0Classifier(k=2, class_weight={2: 3.0}, random_state=0).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)


def test_cv_balanced_weighs_every_fold_by_all_of_y(three_classes):
    X, y = three_classes
    counts = np.bincount(y)
    whole = dict(enumerate(y.size / (3 * counts)))
    a = L0ClassifierCV(class_weight="balanced", cv=3, random_state=0).fit(X, y)
    b = L0ClassifierCV(class_weight=whole, cv=3, random_state=0).fit(X, y)
    _same_fit(a, b)
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"],
                                  b.cv_results_["mean_test_score"])
    # The folds' own totals would give other weights (and another fit).
    plain = L0ClassifierCV(cv=3, random_state=0).fit(X, y)
    assert not np.array_equal(plain.cv_results_["mean_test_score"],
                              a.cv_results_["mean_test_score"])


def test_selectors_pass_class_weight_to_a_classifier(imbalanced):
    X, y = imbalanced
    sel = L0FeatureSelector(k=3, class_weight="balanced", random_state=0).fit(X, y)
    est = L0Classifier(k=3, class_weight="balanced", random_state=0).fit(X, y)
    np.testing.assert_array_equal(sel.get_support(), est.support_)
    assert sel.estimator_.class_weight == "balanced"
    cv = L0FeatureSelectorCV(class_weight={0: 2.0}, cv=3, random_state=0).fit(X, y)
    assert cv.estimator_.class_weight == {0: 2.0}


@pytest.mark.parametrize("cls", [L0FeatureSelector, L0FeatureSelectorCV])
def test_a_regression_selector_refuses_class_weight(cls):
    X, y = load_diabetes(return_X_y=True)
    sel = cls(class_weight="balanced")
    with pytest.raises(ValueError, match=r"class_weight='balanced' weighs the classes.*"
                                         r"task='auto' read y as numbers.*class_weight=None"):
        sel.fit(X, y)
    assert not hasattr(sel, "support_")
    # Read as class labels, the same target takes it.
    labels = (y > 150).astype(int)
    fitted = cls(class_weight="balanced", task="classification", cv=3, random_state=0) if (
        cls is L0FeatureSelectorCV) else cls(class_weight="balanced", task="classification",
                                             k=2, random_state=0)
    assert fitted.fit(X, labels).estimator_.class_weight == "balanced"


def test_regressors_have_no_class_weight():
    assert "class_weight" not in L0Regressor().get_params()


def test_partial_fit_takes_a_dict_and_refuses_balanced(imbalanced):
    X, y = imbalanced
    half = y.size // 2
    cw = {0: 3.0}
    a = L0Classifier(k=3, class_weight=cw, random_state=0)
    b = L0Classifier(k=3, random_state=0)
    w = np.where(y == 0, 3.0, 1.0)
    for rows in (slice(0, half), slice(half, None)):
        a.partial_fit(X[rows], y[rows], classes=[0, 1])
        b.partial_fit(X[rows], y[rows], classes=[0, 1], sample_weight=w[rows])
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)
    c = L0Classifier(class_weight="balanced")
    with pytest.raises(ValueError, match=r"class_weight='balanced' needs the class totals.*"
                                         r"pass a dict"):
        c.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(c, "coef_")


def test_dask_fit_refuses_class_weight_with_the_fix(imbalanced):
    da = pytest.importorskip("dask.array")
    X, y = imbalanced
    est = L0Classifier(k=2, class_weight="balanced")
    with pytest.raises(ValueError, match=r"class_weight='balanced' is not supported for a "
                                         r"Dask X: pass the class weights as sample_weight"):
        est.fit(da.from_array(X, chunks=100), da.from_array(y, chunks=100))


def test_auto_warns_about_class_weights_whose_products_are_not_on_the_frequency_scale(imbalanced):
    X, y = imbalanced
    with pytest.warns(UserWarning, match=r"reads sample_weight times class_weight as "
                                         r"frequencies.*products average about 1"):
        L0Classifier(class_weight={0: 10.0, 1: 10.0}, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L0Classifier(class_weight="balanced", random_state=0).fit(X, y)


@pytest.mark.parametrize("params", [{"k": 2}, {}], ids=["k", "auto"])
def test_class_weights_whose_products_overflow_are_refused_with_the_fix(imbalanced, params):
    # Each weight is finite, but their products (or total) are not: the fit
    # failed inside with a bare OverflowError.
    X, y = imbalanced
    est = L0Classifier(class_weight={0: 1e308, 1: 1e308}, random_state=0, **params)
    with pytest.raises(ValueError, match=r"sample_weight times class_weight=\{0: 1e\+308, "
                                         r"1: 1e\+308\} overflows float64.*total inf.*divide"):
        est.fit(X, y)
    assert not hasattr(est, "coef_")
    with pytest.raises(ValueError, match=r"largest product inf"):
        L0Classifier(class_weight={0: 1e10}, **params).fit(
            X, y, sample_weight=np.full(y.size, 1e300))


def test_partial_fit_refuses_class_weights_whose_products_overflow(imbalanced):
    # (was a ZeroDivisionError from inside the stochastic step)
    X, y = imbalanced
    est = L0Classifier(k=2, class_weight={0: 1e308}, random_state=0)
    with pytest.raises(ValueError, match=r"class_weight=\{0: 1e\+308\} overflows float64"):
        est.partial_fit(X, y, classes=[0, 1], sample_weight=np.full(y.size, 10.0))
    assert not hasattr(est, "coef_")


def test_class_weights_that_underflow_a_class_to_zero_are_refused(imbalanced):
    # Positive sample and class weights whose products are 0 leave one class:
    # the fit ran on it alone, as sample_weight zero on a class is refused.
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"is 0 on every sample of class\(es\) \[0\] \(the "
                                         r"products underflow float64\)"):
        L0Classifier(k=2, class_weight={0: 1e-300}).fit(
            X, y, sample_weight=np.full(y.size, 1e-300))


def test_cv_dict_serves_a_fold_whose_training_rows_lack_a_class():
    # Unshuffled KFold(3): the last fold trains without class 2. A dict valid
    # for all of y was refused there ("label(s) [2] that are not classes of y
    # [0, 1]"); LogisticRegressionCV takes it.
    rng = np.random.RandomState(0)
    X = rng.randn(90, 4)
    y = np.r_[np.zeros(40, int), np.ones(40, int), np.full(10, 2)]
    X[:, 0] += y
    cv = KFold(3)
    a = L0ClassifierCV(cv=cv, class_weight={2: 5.0}, lams=[1e-3, 1e-1], random_state=0)
    a.fit(X, y)
    b = L0ClassifierCV(cv=cv, class_weight={0: 1.0, 1: 1.0, 2: 5.0}, lams=[1e-3, 1e-1],
                       random_state=0).fit(X, y)
    _same_fit(a, b)
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"],
                                  b.cv_results_["mean_test_score"])
    assert a.class_weight == {2: 5.0}


def test_cv_checks_class_weight_on_all_of_y_before_any_fold():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"label\(s\) \[5\] that are not classes of y \[0, 1, 2\]"):
        L0ClassifierCV(cv=3, class_weight={5: 2.0}).fit(X, y)
