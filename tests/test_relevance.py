"""keep_redundant: exact k filled all-relevant (skl0/_relevance.py)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor
from skl0._datafits import SquaredLoss
from skl0._problem import DirectProblem, GramProblem, weighted_moments
from skl0._relevance import redundancy_ranking, signal_carriers


def _problem(X, kind):
    Xt = torch.as_tensor(X, dtype=torch.float64)
    n = X.shape[0]
    w = torch.full((n,), 1.0 / n, dtype=torch.float64)
    Y = torch.zeros(n, 1, dtype=torch.float64)
    mean, std = weighted_moments(Xt, w)
    cls = GramProblem if kind == "gram" else DirectProblem
    return cls(Xt, Y, w, mean, std, SquaredLoss(1))


@pytest.mark.parametrize("kind", ["direct", "gram"])
def test_uncorrelated_columns_keep_the_persistence_order(rng, kind):
    X = rng.normal(size=(300, 30))
    order = rng.permutation(30)
    got = redundancy_ranking(_problem(X, kind), order, 10)
    np.testing.assert_array_equal(got, order[:10])


@pytest.mark.parametrize("kind", ["direct", "gram"])
def test_combinations_of_chosen_columns_come_first(rng, kind):
    # Columns 0-2 carry the signal, 3-5 are combinations of them (plus a
    # little noise), 6-29 are noise; the persistence order puts the
    # combinations last.
    Z = rng.normal(size=(400, 3))
    copies = Z @ rng.uniform(-1, 1, (3, 3)) + 0.05 * rng.normal(size=(400, 3))
    X = np.hstack([Z, copies, rng.normal(size=(400, 24))])
    order = np.r_[0, 1, 2, np.arange(6, 30), 3, 4, 5]
    got = redundancy_ranking(_problem(X, kind), order, 6)
    assert sorted(got) == list(range(6))
    # an exact copy of a chosen column counts as explained, not as a new direction
    X2 = np.hstack([X, X[:, :1]])
    got = redundancy_ranking(_problem(X2, kind), np.r_[order, 30], 7)
    assert sorted(got) == [*range(6), 30]


def test_constant_columns_are_never_pulled_in(rng):
    X = rng.normal(size=(200, 8))
    X[:, 3] = 2.5
    order = np.r_[0, 1, 2, 4, 5, 6, 7, 3]
    got = redundancy_ranking(_problem(X, "direct"), order, 8)
    assert got[-1] == 3


@pytest.mark.parametrize("seed", [1, 2])
def test_mlp_keep_redundant_fills_k_with_the_redundant_columns(seed):
    # 3 informative columns, 6 exact linear combinations of them, 51 noise
    # columns: the network needs about 3 columns, and by persistence alone
    # the other 6 slots go mostly to noise.
    X, y = make_classification(
        n_samples=600, n_features=60, n_informative=3, n_redundant=6, n_repeated=0,
        n_clusters_per_class=2, shuffle=False, random_state=seed,
    )
    kw = dict(k=9, hidden_layer_sizes=(16,), activation="tanh", alpha=0.1, max_iter=200,
              random_state=0)
    plain = L0Classifier(keep_redundant=False, **kw).fit(X, y)
    full = L0Classifier(keep_redundant=True, **kw).fit(X, y)
    assert (full.get_support(indices=True) < 9).sum() >= 8
    assert (full.get_support(indices=True) < 9).sum() > (plain.get_support(indices=True) < 9).sum()
    assert full.support_.sum() == 9
    # "auto", the default, fills an MLP head's slots all-relevant
    default = L0Classifier(**kw).fit(X, y)
    np.testing.assert_array_equal(default.support_, full.support_)


def test_linear_head_keep_redundant_takes_the_copy(rng):
    # y depends on x0 and x1; x2 is a noisy copy of x0, the rest is noise.
    X = rng.normal(size=(500, 20))
    X[:, 2] = X[:, 0] + 0.3 * rng.normal(size=500)
    y = X[:, 0] + X[:, 1] + 0.5 * rng.normal(size=500)
    plain = L0Regressor(k=3, random_state=0).fit(X, y)
    full = L0Regressor(k=3, keep_redundant=True, random_state=0).fit(X, y)
    assert 2 not in plain.get_support(indices=True)
    np.testing.assert_array_equal(full.get_support(indices=True), [0, 1, 2])


def test_screened_fit_counts_every_column_in_the_bonferroni_family(monkeypatch):
    # p > n: the linear fit runs on the columns screened by their marginal
    # association with y, the ones most associated with the signal column the
    # test then regresses them on. The family is all p columns; counting the
    # ~100 screened ones let 75-85% of fits on independent columns take a
    # noise column.
    import skl0._relevance as relevance

    seen = []
    threshold = relevance.association_threshold
    monkeypatch.setattr(relevance, "association_threshold",
                        lambda n, m, c, level: seen.append(c) or threshold(n, m, c, level))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2000))
    y = X[:, 0] + 0.1 * rng.standard_normal(200)
    reg = L0Regressor(k=5, keep_redundant=True, random_state=0).fit(X, y)
    assert reg.get_support().sum() == 5 and reg.get_support()[0]
    assert seen and min(seen) >= 2000 - 5


def test_selector_passes_keep_redundant():
    X, y = make_classification(200, 20, n_informative=2, n_redundant=2, random_state=0)
    sel = L0FeatureSelector(k=4, keep_redundant=True, max_iter=50, random_state=0).fit(X, y)
    assert sel.estimator_.keep_redundant is True
    assert sel.transform(X).shape == (200, 4)


def test_sparse_x_ranks_as_dense(rng):
    import scipy.sparse as sp

    from skl0._problem import sparse_to_torch

    Z = rng.normal(size=(300, 3))
    X = np.hstack([Z, Z @ rng.uniform(-1, 1, (3, 2)), rng.normal(size=(300, 15))])
    X[np.abs(X) < 0.3] = 0.0  # some structural zeros
    order = np.r_[0, 1, 2, np.arange(5, 20), 3, 4]
    dense = redundancy_ranking(_problem(X, "direct"), order, 5)
    S = sp.csr_matrix(X)
    n = X.shape[0]
    w_np = np.full(n, 1.0 / n)
    mean, std = (torch.as_tensor(a, dtype=torch.float64) for a in weighted_moments(S, w_np))
    problem = DirectProblem(
        sparse_to_torch(S, "cpu", torch.float64), torch.zeros(n, 1, dtype=torch.float64),
        torch.as_tensor(w_np), mean, std, SquaredLoss(1), host=S,
    )
    np.testing.assert_array_equal(redundancy_ranking(problem, order, 5), dense)
    assert sorted(dense) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("flag", [True, np.True_])  # (numpy's bool warned nothing)
def test_keep_redundant_without_k_warns_and_changes_nothing(rng, flag):
    X = rng.standard_normal((120, 6))
    y = X[:, 0] - 2 * X[:, 3] + 0.1 * rng.standard_normal(120)
    plain = L0Regressor(lam=0.01, random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match=r"keep_redundant=True has no effect with k=None"):
        flagged = L0Regressor(lam=0.01, keep_redundant=flag, random_state=0).fit(X, y)
    np.testing.assert_array_equal(flagged.support_, plain.support_)
    np.testing.assert_allclose(flagged.coef_, plain.coef_)


@pytest.mark.parametrize("kind", ["direct", "gram"])
def test_signal_carriers_take_the_combinations_and_stop(rng, kind):
    # Column 0 is chosen; 3 and 4 are combinations of 0 with the other
    # informative columns 1 and 2, which then join (explained by 0, 3, 4);
    # the 20 noise columns are not associated with them and stay out.
    Z = rng.normal(size=(400, 3))
    combos = np.c_[Z[:, 0] + Z[:, 1], Z[:, 0] - Z[:, 2]] + 0.05 * rng.normal(size=(400, 2))
    X = np.hstack([Z, combos, rng.normal(size=(400, 20))])
    got = signal_carriers(_problem(X, kind), [0])
    assert got[0] == 0
    assert sorted(got) == [0, 1, 2, 3, 4]
    # independent columns: nothing to add
    assert list(signal_carriers(_problem(rng.normal(size=(400, 10)), kind), [2, 7])) == [2, 7]


def test_mlp_lam_auto_completes_the_validated_support(rng):
    # y depends on x0 (through a square) and x1; x2 and x3 are noisy copies
    # of them, x4..x9 noise. The validated support needs one of each pair;
    # keep_redundant (the MLP default) adds the copies, False does not.
    Z = rng.uniform(-1, 1, (500, 2))
    X = np.hstack([Z, Z + 0.1 * rng.normal(size=(500, 2)), rng.uniform(-1, 1, (500, 6))])
    y = 3 * Z[:, 0] ** 2 + Z[:, 1] + 0.1 * rng.normal(size=500)
    kw = dict(hidden_layer_sizes=(16,), max_iter=200, random_state=0)
    full = L0Regressor(**kw).fit(X, y)
    plain = L0Regressor(keep_redundant=False, **kw).fit(X, y)
    np.testing.assert_array_equal(full.get_support(indices=True), [0, 1, 2, 3])
    assert set(plain.get_support(indices=True)) < {0, 1, 2, 3}


def test_keep_redundant_true_with_mlp_lam_auto_does_not_warn(rng):
    X = rng.normal(size=(200, 5))
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        L0Regressor(keep_redundant=True, hidden_layer_sizes=(8,), max_iter=60,
                    random_state=0).fit(X, y)
