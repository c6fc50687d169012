"""Sparse input, mini-batches and the Gram path agree with the dense direct path."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor
from skl0._datafits import SquaredLoss
from skl0._heads import LinearHead
from skl0._problem import DirectProblem, GramProblem, weighted_moments


@pytest.fixture(scope="module")
def sparse_data():
    rng = np.random.RandomState(0)
    X = sp.random(300, 40, density=0.25, format="csr", random_state=1)
    X.data[::7] = 0.0  # explicit zeros stay explicit
    coef = np.zeros(40)
    coef[:3] = [3.0, -2.0, 2.5]
    y = X @ coef + 0.05 * rng.randn(300)
    return X, y


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix, sp.csc_array])
@pytest.mark.parametrize("kw", [dict(k=3), dict(), dict(k=3, hidden_layer_sizes=(6,), max_iter=120)])
def test_sparse_matches_dense(sparse_data, container, kw):
    X, y = sparse_data
    Xs = container(X)
    a = L0Regressor(random_state=0, dtype="float64", **kw).fit(Xs, y)
    b = L0Regressor(random_state=0, dtype="float64", **kw).fit(X.toarray(), y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.predict(Xs), b.predict(X.toarray()), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(a.get_support(indices=True), [0, 1, 2])


def test_sparse_is_not_densified(sparse_data, monkeypatch):
    X, y = sparse_data

    def refuse(*a, **k):
        raise AssertionError("X was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    # k=None, lam=0.01 and n < p: direct sparse path without refit column access.
    Xw = sp.hstack([X] * 10, format="csr")  # p=400 > n=300
    est = L0Regressor(lam=0.01, refit=False, random_state=0).fit(Xw, y)
    # fitted without densifying, and still finds the signal columns (or copies of them)
    assert est.support_.shape == (400,) and 1 <= est.support_.sum() < 400
    assert set(np.flatnonzero(est.support_) % 40) >= {0, 1, 2}
    assert est.score(Xw, y) > 0.5


def test_sparse_classifier_and_selector(sparse_data):
    X, y = sparse_data
    labels = (y > np.median(y)).astype(int)
    clf = L0Classifier(k=3, random_state=0).fit(X, labels)
    assert clf.predict_proba(X).shape == (300, 2)
    sel = L0FeatureSelector(k=3, random_state=0).fit(X, y)
    out = sel.transform(X)
    assert sp.issparse(out) and out.shape == (300, 3)


def test_gram_and_direct_problems_have_the_same_loss(rng):
    X = torch.tensor(rng.randn(500, 7))
    Y = torch.tensor(rng.randn(500, 2))
    w = torch.full((500,), 1 / 500, dtype=torch.float64)
    mean, std = weighted_moments(X, w)
    Yc = Y - w @ Y
    head = LinearHead(7, 2).double()
    with torch.no_grad():
        head.weight.copy_(torch.tensor(rng.randn(7, 2)))
    z = torch.tensor(rng.uniform(0, 1, 7))
    with torch.no_grad():  # values only: no graph to build
        direct = DirectProblem(X, Yc, w, mean, std, SquaredLoss(2)).loss(head, z)
        gram = GramProblem(X, Yc, w, mean, std, SquaredLoss(2)).loss(head, z)
    assert float(direct) == pytest.approx(float(gram), rel=1e-10)


def test_gram_path_matches_direct_path(sparse_data, monkeypatch):
    import skl0._base as base

    X, y = sparse_data
    Xd = X.toarray()
    kinds = []
    fit_prepared = base.BaseL0._fit_prepared

    def spy(self, problem, *args, **kwargs):
        kinds.append((problem.kind, problem.n_features))
        return fit_prepared(self, problem, *args, **kwargs)

    monkeypatch.setattr(base.BaseL0, "_fit_prepared", spy)
    gram = L0Regressor(k=3, random_state=0, dtype="float64").fit(Xd, y)  # n > p: Gram
    # n <= p makes the problem a row (direct) one; zero columns leave the
    # data as it was. Past p > n, fit screens the columns and searches on
    # the Gram statistics of those it kept (a Gram path again), so the
    # screening is switched off: the gates are searched on the rows.
    wide = np.hstack([Xd, np.zeros((300, 300))])  # p=340 > n: direct path
    screened = L0Regressor(k=3, random_state=0, dtype="float64").fit(wide, y)
    monkeypatch.setattr(base.BaseL0, "_screened_columns", lambda self, problem, plan: None)
    direct = L0Regressor(k=3, random_state=0, dtype="float64").fit(wide, y)
    assert kinds == [("gram", 40), ("rows", 340), ("rows", 340)]
    for other in (direct, screened):
        np.testing.assert_array_equal(gram.get_support(indices=True),
                                      other.get_support(indices=True))
        np.testing.assert_allclose(gram.predict(Xd), other.predict(wide), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_mini_batches_recover_the_support(sparse_data, task):
    X, y = sparse_data
    Xd = np.hstack([X.toarray(), np.random.RandomState(2).randn(300, 300)])  # n < p: direct
    target = y if task == "regression" else (y > np.median(y)).astype(int)
    est = (L0Regressor if task == "regression" else L0Classifier)(
        k=3, batch_size=64, random_state=0
    ).fit(Xd, target)
    np.testing.assert_array_equal(est.get_support(indices=True), [0, 1, 2])


def test_mini_batches_are_reproducible(sparse_data):
    X, y = sparse_data
    a = L0Regressor(lam=0.01, batch_size=50, hidden_layer_sizes=(4,), max_iter=60, random_state=3).fit(X, y)
    b = L0Regressor(lam=0.01, batch_size=50, hidden_layer_sizes=(4,), max_iter=60, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss_curve_ == b.loss_curve_


def test_bad_batch_size_is_named(sparse_data):
    X, y = sparse_data
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        L0Regressor(batch_size=0).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_statistics_from_one_reused_block_buffer_equal_the_direct_sums(dtype, monkeypatch):
    # Many blocks, the last one partial, through the one float64 buffer that
    # the numpy moments and Gram statistics reuse (its rows are overwritten
    # block after block: a stale row would show here).
    import skl0._problem as P

    rng = np.random.default_rng(0)
    X = (rng.standard_normal((1003, 7)) * [1, 2, 3, 4, 5, 6, 7] + 1e3).astype(dtype)
    w = rng.uniform(0.5, 2, 1003)
    w /= w.sum()
    Y = rng.standard_normal((1003, 2))
    before = X.copy()
    monkeypatch.setattr(P, "_F64_BLOCK_ELEMENTS", 7 * 100)  # 100 rows a block: 11 blocks
    mean, std, sq = weighted_moments(X, w, second=True)
    X64 = X.astype(np.float64)
    ref_mean = w @ X64
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-13)
    np.testing.assert_allclose(sq, w @ (X64 - ref_mean) ** 2, rtol=1e-10)
    G, c = P._gram_blocks(X, w, Y, ref_mean)
    Xc = X64 - ref_mean
    np.testing.assert_allclose(G, Xc.T @ (Xc * w[:, None]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c, Xc.T @ (Y * w[:, None]), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(X, before)  # the caller's X untouched
