"""Exactly duplicated columns: the fit keeps the first copy (skl0._duplicates).

Each case appends or inserts a copy of one column of a real data set; the
fit must select the copy with the lower index (never the later one), for
every way of selecting. The cases are ones where, before the rule, the
solvers kept the later copy by round-off.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import KFold

from skl0 import (
    L0Classifier,
    L0ClassifierCV,
    L0FeatureSelector,
    L0Regressor,
    L0RegressorCV,
    l0_path,
)
from skl0._duplicates import later_copies


def _with_copy(X, j, pos):
    """X with a copy of column ``j`` inserted at ``pos``; (X2, first index, later index)."""
    X2 = np.insert(X, pos, X[:, j], axis=1)
    orig = j + (j >= pos)
    return X2, min(pos, orig), max(pos, orig)


def _diabetes():
    return load_diabetes(return_X_y=True)


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:, :10], y


def _wine():
    return load_wine(return_X_y=True)


def _assert_first_copy(support, first, later):
    support = np.asarray(support)
    assert not support[later], f"kept the later copy {later}: {np.flatnonzero(support)}"
    assert support[first], f"kept neither copy ({first}, {later}): {np.flatnonzero(support)}"


def test_later_copies_marks_only_exact_copies_after_the_first():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 5))
    X2 = np.column_stack([X, X[:, 2], X[:, 0], X[:, 2]])
    expected = np.zeros(8, dtype=bool)
    expected[[5, 6, 7]] = True
    np.testing.assert_array_equal(later_copies(X2), expected)
    np.testing.assert_array_equal(later_copies(torch.as_tensor(X2)), expected)
    assert later_copies(X) is None
    near = X2.copy()
    near[4999, 5] += 1e-12  # one entry differs (in the last block of rows): not a copy
    np.testing.assert_array_equal(np.flatnonzero(later_copies(near)), [6, 7])
    scaled = np.column_stack([X, 2 * X[:, 1], X[:, 1] + 1])  # equal up to scale or offset
    assert later_copies(scaled) is None
    assert later_copies(np.ones((4, 3))) is None  # constant columns: their own rule
    B = (rng.random((300, 6)) < 0.3).astype(float)
    B = np.column_stack([B, B[:, 4], -0.0 * B[:, 1] + B[:, 1]])  # -0.0 equals 0.0
    for A in (B, sp.csr_matrix(B), sp.csc_matrix(B)):
        np.testing.assert_array_equal(np.flatnonzero(later_copies(A)), [6, 7])


@pytest.mark.parametrize("scan", [0, 10**9])  # a CSC X column by column, or by row slices
def test_csc_blocks_either_way_find_the_copies(monkeypatch, scan):
    import skl0._duplicates as dup

    monkeypatch.setattr(dup, "_SCAN_PER_COLUMN", scan)
    rng = np.random.default_rng(1)
    B = (rng.random((700, 40)) < 0.05).astype(float)  # indicators: many equal extremes
    B = np.column_stack([B, B[:, 3], B[:, 30], B[:, 3]])
    B[650, 41] = 1.0 - B[650, 41]  # differs from column 30 past the first blocks
    expected = np.flatnonzero(later_copies(B))
    assert 40 in expected and 42 in expected and 41 not in expected
    np.testing.assert_array_equal(np.flatnonzero(later_copies(sp.csc_matrix(B))), expected)
    # An explicit zero in the copy 40 only (and a -0.0 in 42) is still a zero.
    C = sp.coo_matrix(B)
    r = int(np.flatnonzero(B[:, 40] == 0)[0])
    A = sp.csc_matrix((np.r_[C.data, 0.0, -0.0], (np.r_[C.row, r, r], np.r_[C.col, 40, 42])),
                      shape=B.shape)
    assert A.nnz == C.nnz + 2
    np.testing.assert_array_equal(np.flatnonzero(later_copies(A)), expected)


@pytest.mark.parametrize("j, pos, params", [
    (3, 5, dict(k=4)), (4, 3, dict(k=4)),  # the copy after, then before the original
    (3, 5, dict(lam="auto")), (3, 4, dict(lam="auto")),
    (8, 10, dict(lam=0.01)), (2, 0, dict(lam=0.01)),
])
def test_regressor_keeps_the_first_copy(j, pos, params):
    X, y = _diabetes()
    X2, first, later = _with_copy(X, j, pos)
    est = L0Regressor(random_state=0, **params).fit(X2, y)
    _assert_first_copy(est.support_, first, later)
    assert est.coef_[later] == 0.0 and est.feature_importances_[later] == 0.0


def test_regressor_with_a_copy_fits_as_without_it():
    X, y = _diabetes()
    X2, first, later = _with_copy(X, 3, 5)
    est = L0Regressor(k=4, random_state=0).fit(X2, y)
    plain = L0Regressor(k=4, random_state=0).fit(X, y)
    np.testing.assert_allclose(np.delete(est.coef_, later), plain.coef_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(est.predict(X2), plain.predict(X), rtol=1e-9)


def test_sparse_regressor_keeps_the_first_copy():
    X, y = _diabetes()
    X2, first, later = _with_copy(X, 3, 5)
    est = L0Regressor(k=4, random_state=0).fit(sp.csr_matrix(X2), y)
    _assert_first_copy(est.support_, first, later)


@pytest.mark.parametrize("params", [dict(k=4), dict(lam="auto"), dict(lam=0.01)])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_columns_that_differ_only_in_rows_of_zero_weight_are_copies(params, fmt):
    # A weight of zero is a row left out (scikit-learn's convention): the
    # copy at 10 differs from column 3 in row 0 only, so with that row's
    # weight 0 the fit is the one without the row, which keeps column 3.
    X, y = _diabetes()
    X2 = np.column_stack([X, X[:, 3]])
    X2[0, 10] += 1.0
    w = np.ones(len(y))
    w[0] = 0.0
    A = X2 if fmt == "dense" else sp.csr_matrix(X2)
    est = L0Regressor(random_state=0, **params).fit(A, y, sample_weight=w)
    plain = L0Regressor(random_state=0, **params).fit(X2[1:], y[1:])
    _assert_first_copy(est.support_, 3, 10)
    np.testing.assert_array_equal(est.support_, plain.support_)
    np.testing.assert_allclose(est.coef_, plain.coef_, rtol=1e-9, atol=1e-9)
    Xc, yc = _cancer()
    Xc = np.column_stack([Xc, Xc[:, 7]])
    Xc[5, 10] *= 2.0
    wc = np.ones(len(yc))
    wc[5] = 0.0
    clf = L0Classifier(k=3, random_state=0).fit(Xc, yc, sample_weight=wc)
    np.testing.assert_array_equal(
        clf.support_, L0Classifier(k=3, random_state=0).fit(np.delete(Xc, 5, 0),
                                                            np.delete(yc, 5)).support_)


def test_cv_final_fit_from_sums_compares_only_weighted_rows():
    # A CV regressor's final fit is built from its fold sums, with X's rows
    # as given: its copy search skips the weightless row itself.
    X, y = _diabetes()
    X2 = np.column_stack([X, X[:, 3]])
    X2[0, 10] += 1.0
    w = np.ones(len(y))
    w[0] = 0.0
    est = L0RegressorCV(cv=KFold(3), n_lams=8, random_state=0).fit(X2, y, sample_weight=w)
    _assert_first_copy(est.support_, 3, 10)


def test_k_past_the_distinct_columns_fills_with_the_lowest_index_copies():
    X, y = _diabetes()
    X3 = np.column_stack([X[:, :3], X[:, 1], X[:, 0]])  # 3 distinct columns, copies at 3, 4
    est = L0Regressor(k=4, random_state=0).fit(X3, y)
    np.testing.assert_array_equal(est.support_, [True, True, True, True, False])


@pytest.mark.parametrize("j, pos, params", [
    (7, 10, dict(k=3)), (7, 5, dict(k=3)), (1, 0, dict(lam="auto")),
])
def test_binary_classifier_keeps_the_first_copy(j, pos, params):
    X, y = _cancer()
    X2, first, later = _with_copy(X, j, pos)
    est = L0Classifier(random_state=0, **params).fit(X2, y)
    _assert_first_copy(est.support_, first, later)
    assert np.all(est.coef_[:, later] == 0.0)


@pytest.mark.parametrize("j, pos, params", [
    (6, 13, dict(k=2)), (6, 13, dict(k=3)), (6, 13, dict(lam="auto")), (12, 0, dict(lam="auto")),
])
def test_multiclass_classifier_keeps_the_first_copy(j, pos, params):
    X, y = _wine()
    X2, first, later = _with_copy(X, j, pos)
    est = L0Classifier(random_state=0, **params).fit(X2, y)
    _assert_first_copy(est.support_, first, later)


def test_selector_keeps_the_first_copy():
    X, y = _cancer()
    X2, first, later = _with_copy(X, 7, 10)
    sel = L0FeatureSelector(k=3, random_state=0).fit(X2, y)
    _assert_first_copy(sel.get_support(), first, later)


@pytest.mark.parametrize("j, pos", [(2, 0), (3, 5)])
def test_path_keeps_the_first_copy(j, pos):
    X, y = _diabetes()
    X2, first, later = _with_copy(X, j, pos)
    path = l0_path(X2, y, n_lams=8, random_state=0)
    assert path.support.shape == path.prob_open.shape == (8, X2.shape[1])
    assert not path.support[:, later].any() and path.support[:, first].any()
    assert np.all(path.prob_open[:, later] == 0.0)
    path = l0_path(X2, y, ks=[1, 2, 3, 4], random_state=0)
    _assert_first_copy(path.support[-1], first, later)
    assert path.support[:, first].any() and not path.support[:, later].any()


def test_path_over_ks_past_the_distinct_columns_keeps_no_copy():
    # ks reaching past the 3 distinct columns released copies for the whole
    # walk, and its small ks then kept a copy in place of the original
    # (k=1: column 3, a copy of 0; k=2: columns 1 and 3).
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    X = np.column_stack([X, X[:, 0], X[:, 1]])
    y = X[:, 0] + X[:, 1] + 0.1 * rng.randn(60)
    path = l0_path(X, y, ks=[1, 2, 3, 4, 5], random_state=0)
    assert not path.support[:, 3:].any()
    assert path.n_features.tolist() == [1, 2, 3, 3, 3]
    assert path.support[1, :2].all()
    est = L0Regressor(k=4, random_state=0).fit(X, y)  # (an estimator's k still fills)
    np.testing.assert_array_equal(est.support_, [True, True, True, True, False])


def test_cv_estimators_keep_the_first_copy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (convergence notes of the small folds)
        X, y = _diabetes()
        X2, first, later = _with_copy(X, 2, 0)
        est = L0RegressorCV(cv=3, random_state=0).fit(X2, y)
        _assert_first_copy(est.support_, first, later)
        assert not est.path_.support[:, later].any()
        X, y = _wine()
        X2, first, later = _with_copy(X, 6, 13)
        est = L0ClassifierCV(cv=3, random_state=0).fit(X2, y)
        _assert_first_copy(est.support_, first, later)
