"""partial_fit: exact statistics for linear regression, mini-batch Adam otherwise."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from skl0 import (
    L0Classifier,
    L0ClassifierCV,
    L0FeatureSelector,
    L0FeatureSelectorCV,
    L0Regressor,
    L0RegressorCV,
)
from skl0.datasets import make_sparse_classification, make_sparse_regression


@pytest.fixture(scope="module")
def reg_data():
    X, y, _, support = make_sparse_regression(1200, 25, 4, random_state=0)
    return X, y, support


@pytest.fixture(scope="module")
def clf_data():
    X, y, _, support = make_sparse_classification(3000, 20, 3, random_state=1)
    return X, y, support


def _stream(est, X, y, n_chunks, **kw):
    for rows in np.array_split(np.arange(X.shape[0]), n_chunks):
        est.partial_fit(X[rows], y[rows], **kw)
    return est


# ------------------------------------------------------------------ exact mode


@pytest.mark.parametrize("kw", [dict(), dict(k=4), dict(lam=0.01)])
def test_partial_fit_matches_fit_float64(reg_data, kw):
    X, y, support = reg_data
    full = L0Regressor(random_state=0, dtype="float64", **kw).fit(X, y)
    part = _stream(L0Regressor(random_state=0, dtype="float64", **kw), X, y, 7)
    np.testing.assert_array_equal(part.support_, full.support_)
    np.testing.assert_array_equal(part.get_support(indices=True), support)
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-9, atol=1e-12)
    assert part.intercept_ == pytest.approx(full.intercept_, rel=1e-9)
    # exact k starts its path at a lam computed from the statistics (round-off)
    assert part.lam_ == pytest.approx(full.lam_, rel=1e-9)


@pytest.mark.parametrize("n_chunks", [1, 3])
def test_partial_fit_screens_as_fit_does_with_more_columns_than_rows(n_chunks):
    # fit screens the columns under lam="auto" when p > n; the stream built
    # X'X from its sums and searched all 100 columns: [0 1 2 25 43 44 49]
    # at lam_ 0.0030 where fit keeps [0 1 2] at 0.0053, n_screened_ 25.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 100))
    y = 2 * X[:, 0] + X[:, 1] - X[:, 2] + 0.5 * rng.normal(size=150)
    for rows in (50, 150):  # screened, then (n > p) not
        full = L0Regressor(dtype="float64").fit(X[:rows], y[:rows])
        part = _stream(L0Regressor(dtype="float64"), X[:rows], y[:rows], n_chunks)
        np.testing.assert_array_equal(part.support_, full.support_)
        assert part.lam_ == pytest.approx(full.lam_, rel=1e-9)
        np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-9, atol=1e-12)
        assert getattr(part, "n_screened_", None) == getattr(full, "n_screened_", None)
    assert full.support_[:3].all() and not hasattr(full, "n_screened_")
    assert L0Regressor(dtype="float64").fit(X[:50], y[:50]).n_screened_ == 25
    # a stream that grows past p rows stops screening, as fit does
    grown = _stream(L0Regressor(dtype="float64"), X[:50], y[:50], 1)
    grown.partial_fit(X[50:], y[50:])
    assert not hasattr(grown, "n_screened_")
    np.testing.assert_allclose(grown.coef_, full.coef_, rtol=1e-9, atol=1e-12)


def test_a_sparse_chunk_after_a_dense_one_is_shifted_as_the_dense_ones():
    # The first dense chunk shifts the stream's sums by its means; a later
    # sparse chunk's sums were added unshifted: the exact stream kept the
    # column of mean 50 ([0 1 3], intercept -0.108, where fit keeps [0 1]),
    # and a stochastic one standardized its rows with the shifted means
    # (losses about 4e6 on a column of mean 1e8).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    X[:, 3] += 50
    y = X[:, 0] + X[:, 1] + 0.3 * rng.standard_normal(300)
    full = L0Regressor(random_state=0).fit(X, y)
    for order in ((X[:150], sp.csr_matrix(X[150:])), (sp.csr_matrix(X[:150]), X[150:])):
        part = L0Regressor(random_state=0).partial_fit(order[0], y[:150]).partial_fit(
            order[1], y[150:])
        np.testing.assert_array_equal(part.support_, full.support_)
        np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-9, atol=1e-12)
        assert part.intercept_ == pytest.approx(full.intercept_, rel=1e-9, abs=1e-12)

    X = rng.standard_normal((400, 4))
    X[:, 2] += 1e8
    labels = (X[:, 0] > 0).astype(int)
    mixed, dense = L0Classifier(random_state=0, lam=1e-3), L0Classifier(random_state=0, lam=1e-3)
    for epoch in range(3):
        classes = [0, 1] if epoch == 0 else None
        mixed.partial_fit(X[:200], labels[:200], classes=classes)
        mixed.partial_fit(sp.csr_matrix(X[200:]), labels[200:])
        dense.partial_fit(X[:200], labels[:200], classes=classes)
        dense.partial_fit(X[200:], labels[200:])
    np.testing.assert_allclose(mixed.loss_curve_, dense.loss_curve_, rtol=1e-6)
    assert max(mixed.loss_curve_) < 1.0
    np.testing.assert_allclose(mixed.coef_, dense.coef_, rtol=1e-6, atol=1e-9)


def test_partial_fit_matches_fit_float32(reg_data):
    X, y, _ = reg_data
    X = X.astype(np.float32)
    full = L0Regressor(random_state=0).fit(X, y)
    part = _stream(L0Regressor(random_state=0), X, y, 5)
    np.testing.assert_array_equal(part.support_, full.support_)
    np.testing.assert_allclose(part.predict(X), full.predict(X), rtol=1e-4, atol=1e-4)


def test_chunking_does_not_change_the_result(reg_data):
    X, y, _ = reg_data
    a = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), X, y, 2)
    b = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), X, y, 13)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-12)


def test_row_blocks_of_a_chunk_do_not_change_the_result(reg_data, monkeypatch):
    # A dense chunk's statistics are accumulated over blocks of rows (16 MB
    # each); a chunk of many blocks (3 rows each here) gives those of one.
    import skl0._streaming as streaming

    X, y, _ = reg_data
    a = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), X, y, 2)
    monkeypatch.setattr(streaming, "_BLOCK_ELEMENTS", 3 * X.shape[1])
    b = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), X, y, 2)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-12)


def test_linear_regression_past_the_gram_width_streams_by_adam(reg_data, monkeypatch):
    # Past GRAM_MAX_FEATURES columns (4096) a linear regressor keeps no p x p
    # statistics: it streams mini-batch Adam steps as the classifier does.
    import skl0._streaming as streaming

    X, y, support = reg_data
    monkeypatch.setattr(streaming, "GRAM_MAX_FEATURES", X.shape[1] - 1)
    est = L0Regressor(lam=0.01, random_state=0)
    _stream(est, X, y, 4)
    assert est._stream.mode == "stochastic"
    assert set(support) <= set(est.get_support(indices=True))
    assert est.score(X, y) > 0.6  # one pass; the exact fit scores 0.73 here


def test_partial_fit_on_a_memmap(reg_data, tmp_path):
    X, y, _ = reg_data
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                   shape=X.shape)
    mm[:] = X
    mm.flush()
    Xm = np.load(tmp_path / "X.npy", mmap_mode="r")
    est = L0Regressor(random_state=0)
    for start in range(0, Xm.shape[0], 256):  # the documented loop
        est.partial_fit(Xm[start : start + 256], y[start : start + 256])
    full = L0Regressor(random_state=0).fit(np.asarray(Xm), y)
    np.testing.assert_array_equal(est.support_, full.support_)


def test_partial_fit_sparse_matches_dense(reg_data):
    X, y, _ = reg_data
    Xs = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    dense = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), Xs.toarray(), y, 4)
    sparse = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), Xs, y, 4)
    np.testing.assert_array_equal(sparse.support_, dense.support_)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)


def test_partial_fit_weights_are_repetitions(reg_data):
    X, y, _ = reg_data
    X, y = X[:300], y[:300]
    sw = np.random.RandomState(0).randint(0, 3, 300).astype(float)
    rep = np.repeat(np.arange(300), sw.astype(int))
    a = L0Regressor(k=3, random_state=0, dtype="float64")
    a.partial_fit(X[:150], y[:150], sample_weight=sw[:150])
    a.partial_fit(X[150:], y[150:], sample_weight=sw[150:])
    b = L0Regressor(k=3, random_state=0, dtype="float64").fit(X[rep], y[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-10)


def test_partial_fit_multi_output(reg_data):
    X, y, _ = reg_data
    Y = np.column_stack([y, 0.5 * y + 0.1 * X[:, 0]])
    full = L0Regressor(k=4, random_state=0, dtype="float64").fit(X, Y)
    part = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), X, Y, 3)
    assert part.predict(X).shape == Y.shape
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-8, atol=1e-10)


def test_fit_discards_the_stream(reg_data):
    X, y, _ = reg_data
    est = L0Regressor(k=4, random_state=0, dtype="float64")
    est.partial_fit(X[:600], y[:600])
    est.fit(X[600:], y[600:])
    est.partial_fit(X[:600], y[:600])  # a new stream, not the first 600 rows twice
    ref = L0Regressor(k=4, random_state=0, dtype="float64").fit(X[:600], y[:600])
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)


def test_a_pickled_stream_goes_on(reg_data):
    X, y, _ = reg_data
    est = L0Regressor(random_state=0, dtype="float64")
    est.partial_fit(X[:500], y[:500])
    est = pickle.loads(pickle.dumps(est))
    est.partial_fit(X[500:], y[500:])
    full = L0Regressor(random_state=0, dtype="float64").fit(X, y)
    np.testing.assert_allclose(est.coef_, full.coef_, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ stochastic mode


def test_classifier_partial_fit_recovers_the_support(clf_data):
    X, y, support = clf_data
    est = L0Classifier(k=3, random_state=0)
    est.partial_fit(X[:300], y[:300], classes=[0, 1])
    first = est.score(X, y)
    for _ in range(3):  # three passes over the stream
        _stream(est, X, y, 6)
    np.testing.assert_array_equal(est.get_support(indices=True), support)
    assert est.score(X, y) > first
    assert est.score(X, y) > 0.8
    assert est.n_iter_ > 0 and len(est.loss_curve_) == 19


def test_classifier_partial_fit_closes_noise_gates(clf_data):
    X, y, support = clf_data
    est = L0Classifier(lam=0.01, random_state=0)
    for _ in range(3):
        _stream(est, X, y, 6, classes=[0, 1])
    assert set(support) <= set(est.get_support(indices=True))
    assert est.get_support().sum() <= 10  # half of the 17 noise gates closed


def test_multiclass_string_labels_stream():
    rng = np.random.RandomState(0)
    X = rng.randn(900, 8)
    labels = np.array(["ant", "bee", "cat"])[np.argmax(X[:, :3] * 3 + 0.3 * rng.randn(900, 3), 1)]
    est = L0Classifier(k=3, random_state=0)
    for _ in range(3):
        _stream(est, X, labels, 3, classes=["cat", "bee", "ant"])
    assert est.classes_.tolist() == ["ant", "bee", "cat"]
    assert est.predict_proba(X).shape == (900, 3)
    np.testing.assert_array_equal(est.get_support(indices=True), [0, 1, 2])
    assert est.score(X, labels) > 0.8


def test_stochastic_stream_is_reproducible_and_pickles(clf_data):
    X, y, _ = clf_data
    a = L0Classifier(random_state=3)
    b = L0Classifier(random_state=3)
    a.partial_fit(X[:1000], y[:1000], classes=[0, 1])
    b.partial_fit(X[:1000], y[:1000], classes=[0, 1])
    b = pickle.loads(pickle.dumps(b))
    a.partial_fit(X[1000:], y[1000:])
    b.partial_fit(X[1000:], y[1000:])
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))


def test_nonlinear_regressor_streams(reg_data):
    X, y, _ = reg_data
    est = L0Regressor(hidden_layer_sizes=(8,), lam=0.003, random_state=0)
    est.partial_fit(X[:200], y[:200])
    first = est.score(X, y)
    for _ in range(4):
        _stream(est, X, y, 6)
    assert est.score(X, y) > max(first, 0.65)  # the linear fit scores 0.73 here


def test_sparse_classifier_streams(clf_data):
    X, y, _ = clf_data
    Xs = sp.csr_matrix(X)
    a = L0Classifier(k=3, random_state=0)
    b = L0Classifier(k=3, random_state=0)
    _stream(a, Xs, y, 3, classes=[0, 1])
    _stream(b, X, y, 3, classes=[0, 1])
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), rtol=1e-4,
                               atol=1e-4)


def test_selector_partial_fit(reg_data, clf_data):
    X, y, support = reg_data
    sel = _stream(L0FeatureSelector(random_state=0), X, y, 4)
    assert isinstance(sel.estimator_, L0Regressor)
    np.testing.assert_array_equal(sel.get_support(indices=True), support)
    assert sel.transform(X).shape == (X.shape[0], support.size)
    Xc, yc, _ = clf_data
    sel = L0FeatureSelector(k=3, random_state=0)
    sel.partial_fit(Xc[:500], yc[:500], classes=[0, 1])
    assert isinstance(sel.estimator_, L0Classifier)


# ---------------------------------------------------------------------- errors


def test_classes_are_required_first(clf_data):
    X, y, _ = clf_data
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        L0Classifier().partial_fit(X, y)


def test_selector_stream_of_text_labels_without_classes_says_to_pass_classes(clf_data):
    # task="auto" starts a regression stream unless classes is passed: the
    # regressor's message advised task='classification', which alone fails too.
    X, y, _ = clf_data
    labels = np.where(y == 1, "yes", "no")
    sel = L0FeatureSelector(k=2, random_state=0)
    with pytest.raises(ValueError, match=r"class labels \(e.g. 'no', 'yes'\).*pass classes="):
        sel.partial_fit(X[:100], labels[:100])
    assert not hasattr(sel, "estimator_")  # the failed first call left no stream
    sel.partial_fit(X[:100], labels[:100], classes=["no", "yes"])
    assert isinstance(sel.estimator_, L0Classifier)


def test_unseen_label_and_changed_classes(clf_data):
    X, y, _ = clf_data
    est = L0Classifier(random_state=0, k=2).partial_fit(X[:100], y[:100], classes=[0, 1])
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match=r"label\(s\) \[2\] that are not in classes"):
        est.partial_fit(X[:3], [0, 1, 2])
    with pytest.raises(ValueError, match="differs from the classes"):
        est.partial_fit(X[:3], [0, 1, 1], classes=[0, 1, 2])
    np.testing.assert_array_equal(est.coef_, coef)  # failed calls change nothing


@pytest.mark.parametrize("classes", [[0, 1, np.nan], [0, 1, None], [0.0, 1.0, np.inf]])
def test_classes_with_a_missing_label_are_refused_with_the_fix(clf_data, classes):
    # NaN was kept as a third class that no chunk can hold (y's NaN is
    # refused): a 3-class model of 2-class data; None failed in np.unique's
    # sort ("'<' not supported between instances of 'NoneType' and 'int'").
    X, y, _ = clf_data
    est = L0Classifier(random_state=0, k=2)
    with pytest.raises(ValueError, match=r"classes=\[0.*\] holds a missing label .*"
                                         r"classes=np\.unique\(y_all\)"):
        est.partial_fit(X[:100], y[:100], classes=classes)
    assert not hasattr(est, "classes_")


def test_changed_features_and_targets_are_named(reg_data):
    X, y, _ = reg_data
    est = L0Regressor(random_state=0).partial_fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="X has 24 features, but L0Regressor is expecting 25"):
        est.partial_fit(X[:100, :-1], y[:100])
    with pytest.raises(ValueError, match="same shape in every call"):
        est.partial_fit(X[:100], np.column_stack([y[:100], y[:100]]))
    with pytest.warns(UserWarning, match="k=99 is larger.*all 25 are kept"):
        assert L0Regressor(k=99).partial_fit(X[:100], y[:100]).support_.all()
    with pytest.raises(ValueError, match="first chunk's sample_weight sums to 0"):
        L0Regressor().partial_fit(X[:10], y[:10], sample_weight=np.zeros(10))


@pytest.mark.parametrize("cls", [L0RegressorCV, L0ClassifierCV, L0FeatureSelectorCV])
def test_cv_estimators_do_not_stream(cls):
    assert not hasattr(cls(), "partial_fit")


def test_new_labels_after_fit_name_fit_as_the_source_of_the_classes(clf_data):
    # The user passed no classes: they came from fit, and the message said
    # they were "given on the first call to partial_fit".
    X, y, _ = clf_data
    clf = L0Classifier(k=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"not in classes=\[0, 1\], the classes_ of the earlier "
                                         r"fit.*pass every label"):
        clf.partial_fit(X[:50], np.where(y[:50] == 1, "pos", "neg"))
    stream = L0Classifier(k=2, random_state=0)
    stream.partial_fit(X[:50], y[:50], classes=[0, 1])
    with pytest.raises(ValueError, match=r"given on the first call to partial_fit"):
        stream.partial_fit(X[:50], y[:50] + 1)


def test_selector_partial_fit_after_a_classification_fit_keeps_classifying(clf_data, reg_data):
    # docs/scale.md: a partial_fit after fit starts a new stream, and a
    # classifier keeps fit's classes_; the selector re-inferred "regression".
    X, y, _ = clf_data
    labels = np.where(y == 1, "yes", "no")
    sel = L0FeatureSelector(k=2, random_state=0).fit(X, labels)
    assert isinstance(sel.estimator_, L0Classifier)
    sel.partial_fit(X[:100], labels[:100])
    assert isinstance(sel.estimator_, L0Classifier)
    assert list(sel.estimator_.classes_) == ["no", "yes"]
    codes = L0FeatureSelector(k=2, random_state=0).fit(X, y)  # 0/1 codes
    codes.partial_fit(X[:100], y[:100])
    assert isinstance(codes.estimator_, L0Classifier)
    Xr, yr, _ = reg_data
    reg = L0FeatureSelector(k=2, random_state=0).fit(Xr, yr)
    reg.partial_fit(Xr[:100], yr[:100])
    assert isinstance(reg.estimator_, L0Regressor)


@pytest.mark.parametrize("hidden", [(), (4,), "auto"])
def test_partial_fit_sets_hidden_layer_sizes_(hidden, reg_data):
    X, y, _ = reg_data
    X, y = X[:300], y[:300]
    est = L0Regressor(k=2, hidden_layer_sizes=hidden, max_iter=5, random_state=0)
    est.partial_fit(X, y)
    assert est.hidden_layer_sizes_ == (() if hidden == "auto" else hidden)
    est = L0Regressor(hidden_layer_sizes="auto", max_iter=5, random_state=0).fit(X, y)
    assert hasattr(est, "head_selection_")
    est.partial_fit(X, y)  # a new stream, with the linear head
    assert est.hidden_layer_sizes_ == () and not hasattr(est, "head_selection_")


def test_a_chunk_of_zero_weights_adds_nothing_and_a_first_one_says_so(reg_data):
    # scikit-learn's weight check refused an all-zero chunk with its own
    # message; a stream may carry one (a filter emptied it).
    X, y, _ = reg_data
    est = L0Regressor(k=3).partial_fit(X[:600], y[:600])
    before = est.predict(X)
    est.partial_fit(X[600:700], y[600:700], sample_weight=np.zeros(100))
    np.testing.assert_allclose(est.predict(X), before, rtol=1e-12)
    with pytest.raises(ValueError, match="first chunk's sample_weight sums to 0"):
        L0Regressor(k=3).partial_fit(X[:100], y[:100], sample_weight=np.zeros(100))


@pytest.mark.parametrize("where", ["X", "y", "tiny X"])
def test_a_later_chunk_with_larger_values_rescales_the_sums_exactly(reg_data, where):
    # The column and target units (powers of two) were fixed by the first
    # chunk: a later one near 1e160 overflowed the float64 sums and raised a
    # NonFiniteLossError. They now grow to fit's units on all the rows.
    X, y, _ = reg_data
    X, y = X.copy(), y.copy()
    if where == "X":
        X[600:, 3] *= 1e160
    elif where == "y":
        y[600:] *= 1e160
    else:  # a column near 1e-30 in the first chunk only: its unit grows to 1
        X[:600, 3] *= 1e-30
    full = L0Regressor(k=4, random_state=0, dtype="float64").fit(X, y)
    part = _stream(L0Regressor(k=4, random_state=0, dtype="float64"), X, y, 2)
    np.testing.assert_array_equal(part.support_, full.support_)
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-9, atol=0)
    assert part.intercept_ == pytest.approx(full.intercept_, rel=1e-9, abs=1e-9 * np.abs(y).max())
    np.testing.assert_allclose(part.predict(X), full.predict(X), rtol=1e-9,
                               atol=1e-9 * np.abs(y).max())


def _weightless_far(far, n=360, seed=0, small=1 / 64):
    # y = x0 + 2 x1 + noise; the first third of the rows scaled by ``small``
    # (so the unit widens when the later chunks come), every 6th row
    # weightless with y = far.
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6)
    y = X[:, 0] + 2 * X[:, 1] + 0.5 * rng.randn(n)
    X[: n // 3] *= small
    y[: n // 3] *= small
    sw = np.ones(n)
    sw[::6] = 0.0
    sw[n // 2 : n // 2 + 20] = 0.0  # a chunk of weightless rows alone, below
    y_far = np.where(sw > 0, y, far)
    return X, y, y_far, sw


@pytest.mark.parametrize("kw", [{}, {"k": 2}, {"lam": 0.01}])
@pytest.mark.parametrize("far", [1e16, 1e300])
def test_weightless_rows_with_huge_targets_stream_as_fit(kw, far):
    # The exact stream's target unit and moments come from the rows of
    # positive weight, as fit's: weightless rows with y = 1e16 or 1e300 set
    # the unit, in which the others' spread fell under the constant-target
    # floor (no feature with lam="auto" or a number lam). The unit still widens
    # (by powers of two, exactly) when a later chunk's weighted rows are
    # larger than the first chunk's.
    X, y, y_far, sw = _weightless_far(far)
    full = L0Regressor(random_state=0, **kw).fit(X, y_far, sample_weight=sw)
    part = L0Regressor(random_state=0, **kw)
    n = X.shape[0]
    for rows in (slice(0, n // 3), slice(n // 3, n // 2), slice(n // 2, n // 2 + 20),
                 slice(n // 2 + 20, n)):
        part.partial_fit(X[rows], y_far[rows], sample_weight=sw[rows])
    assert part._stream.mode == "exact"
    assert part.get_support(indices=True).tolist() == [0, 1]
    np.testing.assert_array_equal(part.support_, full.support_)
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-12)
    assert part.intercept_ == pytest.approx(full.intercept_, rel=1e-12, abs=1e-14)
    kept = sw > 0
    dropped = _stream(L0Regressor(random_state=0, **kw), X[kept], y[kept], 3)
    np.testing.assert_allclose(part.coef_, dropped.coef_, rtol=1e-12)


@pytest.mark.parametrize("far", [1e20, -1e50])
@pytest.mark.parametrize("sparse", [False, True])
def test_weightless_rows_with_huge_x_stream_as_fit(far, sparse):
    # A weightless row's X value set its column's units (the first chunk's
    # column_scale, a later chunk's widening) and the extremes, so the
    # others' spread fell to ~1e-22 of the unit and the exact stream kept
    # another support (coefficients ~600 off). The extremes now come from
    # the rows of positive weight, as fit's.
    X, y, _, sw = _weightless_far(1.0)
    X_far = X.copy()
    X_far[0, 1] = far  # the first chunk's (first_column_scale)
    X_far[204, 0] = far  # a later chunk's (_widen_scales)
    assert sw[0] == sw[204] == 0.0
    A = sp.csr_matrix(X_far) if sparse else X_far
    part = L0Regressor(k=2, random_state=0)
    n = X.shape[0]
    for rows in (slice(0, n // 3), slice(n // 3, n // 2), slice(n // 2, n)):
        part.partial_fit(A[rows], y[rows], sample_weight=sw[rows])
    assert part._stream.mode == "exact"
    kept = sw > 0
    dropped = L0Regressor(k=2, random_state=0).fit(X[kept], y[kept])
    assert part.get_support(indices=True).tolist() == [0, 1]
    np.testing.assert_allclose(part.coef_, dropped.coef_, rtol=1e-9)


@pytest.mark.parametrize("far", [1e16, 1e300])
def test_weightless_rows_with_huge_targets_do_not_set_the_stochastic_unit(far, monkeypatch):
    # The stochastic mode's unit and standardization (fixed by the first
    # chunk) come from its rows of positive weight, and weightless rows are
    # encoded as 0: with y = 1e16 (or 1e300) there, the mean and spread were
    # theirs and the model predicted 1e15 or more for targets near 1.
    # Rows of zero weight do not move the steps, so their targets cannot
    # change the fit.
    import skl0._streaming as streaming

    monkeypatch.setattr(streaming, "GRAM_MAX_FEATURES", 2)
    X, y, y_far, sw = _weightless_far(far, small=1.0)
    y_near = np.where(sw > 0, y, 0.5)  # weightless rows with ordinary targets
    fits = []
    for target in (y_far, y_near):
        est = L0Regressor(lam=0.01, random_state=0)
        for rows in np.array_split(np.arange(X.shape[0]), 3):
            est.partial_fit(X[rows], target[rows], sample_weight=sw[rows])
        assert est._stream.mode == "stochastic"
        fits.append(est)
    far_fit, near_fit = fits
    assert far_fit._y_std == pytest.approx(near_fit._y_std, rel=1e-12)
    np.testing.assert_allclose(far_fit.predict(X), near_fit.predict(X), rtol=1e-9, atol=1e-12)
    assert far_fit.score(X[sw > 0], y[sw > 0]) > 0.3  # one pass


def test_groups_feature_costs_and_k_are_checked_on_every_call(reg_data):
    # set_params between calls was ignored (groups, feature_costs: the first
    # call's layout stayed) or accepted where fit refuses (k).
    X, y, _ = reg_data
    groups = np.arange(25) // 5
    est = L0Regressor(random_state=0).partial_fit(X[:300], y[:300])
    coef = est.coef_.copy()
    for params in [dict(groups=groups), dict(feature_costs=np.arange(1.0, 26.0))]:
        est.set_params(**params)
        with pytest.raises(ValueError, match=r"changed since the first partial_fit call"):
            est.partial_fit(X[300:600], y[300:600])
        est.set_params(groups=None, feature_costs=None)
    np.testing.assert_array_equal(est.coef_, coef)  # failed calls change nothing
    est.set_params(k=26)
    with pytest.warns(UserWarning, match=r"k=26 is larger than the number of features.*all 25"):
        assert est.partial_fit(X[300:600], y[300:600]).support_.all()
    est.set_params(k=3).partial_fit(X[300:600], y[300:600])  # a valid k applies
    assert est.support_.sum() == 3

    grouped = L0Regressor(groups=groups, random_state=0).partial_fit(X[:300], y[:300])
    grouped.set_params(k=6)
    with pytest.warns(UserWarning, match=r"k=6 is larger than the number of groups.*all 5"):
        assert grouped.partial_fit(X[300:600], y[300:600]).group_support_.all()
    grouped.set_params(k=None, groups=None)
    with pytest.raises(ValueError, match=r"groups=None / feature_costs=None changed since the "
                                         r"first partial_fit call \(5 groups\)"):
        grouped.partial_fit(X[300:600], y[300:600])
    grouped.set_params(groups=list(groups)).partial_fit(X[300:600], y[300:600])  # same layout


@pytest.mark.parametrize("make, change", [
    (lambda: L0Regressor(random_state=0), {"k": -1}),
    (lambda: L0Regressor(random_state=0), {"lam": -5.0}),
    (lambda: L0FeatureSelector(random_state=0), {"k": 0}),
])
def test_partial_fit_checks_parameters_changed_between_calls(make, change):
    # scikit-learn's _fit_context checks the parameters only on an unfitted
    # estimator's first call; set_params between calls must be checked as
    # fit checks them (k=-1 was used as the slice [:-1]), and the failed
    # call leaves the stream as it was.
    from sklearn.utils._param_validation import InvalidParameterError

    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    y = X[:, 0] - X[:, 2] + 0.1 * rng.randn(300)
    est = make().partial_fit(X[:150], y[:150])
    before = est.get_support().copy()
    with pytest.raises(InvalidParameterError, match=next(iter(change))):
        est.set_params(**change).partial_fit(X[150:], y[150:])
    np.testing.assert_array_equal(est.get_support(), before)
    # A new stream after fit is checked too.
    fitted = make().fit(X, y)
    with pytest.raises(InvalidParameterError):
        fitted.set_params(**change).partial_fit(X[:150], y[:150])


def test_selector_partial_fit_checks_its_own_parameters_and_honours_skipping():
    # The selector's own parameters (task) were not checked on a fitted
    # selector's partial_fit (a bad task started a regression stream), and
    # skip_parameter_validation, which fit honours, was not honoured.
    import sklearn
    from sklearn.utils._param_validation import InvalidParameterError

    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    y = X[:, 0] - X[:, 2] + 0.1 * rng.randn(300)
    sel = L0FeatureSelector(random_state=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="task.*L0FeatureSelector"):
        sel.set_params(task="bogus").partial_fit(X[:150], y[:150])
    est = L0Regressor(random_state=0).partial_fit(X[:150], y[:150])
    with sklearn.config_context(skip_parameter_validation=True):
        est.set_params(k=2).partial_fit(X[150:], y[150:])  # not checked, as fit would not be
    assert est.get_support().sum() == 2


def test_classifier_stream_refuses_two_columns_of_labels_and_warns_on_a_column(clf_data):
    # y of shape (n, 2) passed check_classification_targets (multilabel) and
    # failed inside torch ("The size of tensor a (2) must match ..."); fit
    # says "y should be a 1d array". A single column is read as labels with
    # fit's DataConversionWarning (the stream was silent).
    from sklearn.exceptions import DataConversionWarning

    X, y, _ = clf_data
    Y = np.column_stack([y[:100], 1 - y[:100]])
    est = L0Classifier(random_state=0)
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape "
                                         r"\(100, 2\)"):
        est.partial_fit(X[:100], Y, classes=[0, 1])
    assert not hasattr(est, "coef_")
    with pytest.raises(ValueError, match="y should be a 1d array"):
        L0FeatureSelector(task="classification").partial_fit(X[:100], Y, classes=[0, 1])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        est.partial_fit(X[:100], y[:100, None], classes=[0, 1])
    plain = L0Classifier(random_state=0).partial_fit(X[:100], y[:100], classes=[0, 1])
    np.testing.assert_array_equal(est.coef_, plain.coef_)


def test_stochastic_stream_applies_learning_rate_and_temperature_set_between_calls(clf_data):
    # Adam's load_state_dict restored the first call's learning rate, so
    # set_params(learning_rate_init=...) between calls was ignored; the
    # gates kept the first call's temperature.
    X, y, _ = clf_data
    est = L0Classifier(random_state=0, learning_rate_init=0.05)
    est.partial_fit(X[:200], y[:200], classes=[0, 1])
    coef = est.coef_.copy()
    est.set_params(learning_rate_init=1e-12).partial_fit(X[200:400], y[200:400])
    np.testing.assert_allclose(est.coef_, coef, rtol=0, atol=1e-8)  # a step of ~1e-12
    est.set_params(temperature=0.25).partial_fit(X[400:600], y[400:600])
    assert est._stream.sgd.gate.temperature == 0.25
    # Unchanged settings stream as before.
    a = _stream(L0Classifier(random_state=0), X[:600], y[:600], 3, classes=[0, 1])
    b = _stream(L0Classifier(random_state=0), X[:600], y[:600], 3, classes=[0, 1])
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_stochastic_stream_weighs_rows_within_a_chunk_only(clf_data):
    # Documented in docs/scale.md: a chunk's total weight does not scale its
    # Adam steps (with a number lam it changes nothing at all).
    X, y, _ = clf_data
    coefs = []
    for scale in (1.0, 1e-4):
        est = L0Classifier(random_state=0, lam=0.01).partial_fit(X[:300], y[:300], classes=[0, 1])
        est.partial_fit(X[300:600], y[300:600], sample_weight=np.full(300, scale))
        coefs.append(est.coef_)
    np.testing.assert_allclose(coefs[0], coefs[1], rtol=1e-5, atol=1e-7)
