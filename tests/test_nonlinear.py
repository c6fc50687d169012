"""MLP heads behind the gates (hidden_layer_sizes)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_friedman1

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor

KW = dict(hidden_layer_sizes=(16,), max_iter=200, random_state=0)


@pytest.fixture(scope="module")
def friedman():
    # y depends on x0..x4 only, through sin(x0 x1), (x2 - 0.5)^2, x3, x4.
    return make_friedman1(400, 15, noise=0.5, random_state=0)


def test_k_selects_the_friedman_features(friedman):
    X, y = friedman
    reg = L0Regressor(k=5, **KW).fit(X, y)
    np.testing.assert_array_equal(reg.get_support(indices=True), np.arange(5))
    assert reg.score(X, y) > 0.8
    assert not hasattr(reg, "coef_")


def test_auto_uses_validation_and_keeps_the_friedman_features(friedman):
    X, y = friedman
    reg = L0Regressor(**KW).fit(X, y)
    assert set(range(5)) <= set(reg.get_support(indices=True))
    assert reg.support_.sum() <= 7
    assert len(reg.validation_scores_) >= 2


def test_xor_needs_the_nonlinear_head(rng):
    X = rng.uniform(-1, 1, (600, 6))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # invisible to any linear model
    clf = L0Classifier(k=2, hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.get_support(indices=True), [0, 1])
    assert clf.score(X, y) > 0.9
    assert clf.predict_proba(X).shape == (600, 2)


def test_dropped_features_do_not_change_predictions(friedman):
    X, y = friedman
    reg = L0Regressor(k=5, **KW).fit(X, y)
    X2 = X.copy()
    X2[:, ~reg.support_] = 123.0
    np.testing.assert_allclose(reg.predict(X2), reg.predict(X))


def test_pickle_and_predict_without_torch_state(friedman):
    X, y = friedman
    reg = L0Regressor(k=5, **KW).fit(X, y)
    assert not any(isinstance(v, (torch.Tensor, torch.nn.Module)) for v in vars(reg).values())
    clone = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(clone.predict(X), reg.predict(X))


def test_early_stopping_and_refit_false(friedman):
    X, y = friedman
    a = L0Regressor(k=5, early_stopping=True, **KW).fit(X, y)
    b = L0Regressor(k=5, refit=False, **KW).fit(X, y)
    assert a.score(X, y) > 0.7 and b.score(X, y) > 0.3
    np.testing.assert_array_equal(a.support_, b.support_)


def test_selector_passes_hidden_layers(friedman):
    X, y = friedman
    sel = L0FeatureSelector(k=5, **KW).fit(X, y)
    assert sel.estimator_.hidden_layer_sizes == (16,)
    assert sel.transform(X).shape == (len(X), 5)


@pytest.mark.parametrize("bad", [(0,), (-3, 4)])
def test_bad_hidden_layer_sizes(friedman, bad):
    X, y = friedman
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        L0Regressor(hidden_layer_sizes=bad).fit(X, y)


def test_bad_activation_is_named(friedman):
    X, y = friedman
    with pytest.raises(ValueError, match="'activation' parameter"):
        L0Regressor(hidden_layer_sizes=(4,), activation="gelu").fit(X, y)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weight_decay_keeps_redundant_relevant_columns(seed):
    # 3 informative columns and 3 exact linear combinations of them, then 34
    # noise columns. Past the 3 the network needs, only weight decay (which
    # spreads weight over redundant copies) prefers the copies to noise
    # columns that correlate with y by chance (docs/heads.md).
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=600, n_features=40, n_informative=3, n_redundant=3, n_repeated=0,
        n_clusters_per_class=2, shuffle=False, random_state=seed,
    )
    clf = L0Classifier(
        k=6, hidden_layer_sizes=(16,), activation="tanh", alpha=0.1, max_iter=200,
        random_state=0,
    ).fit(X, y)
    assert (clf.get_support(indices=True) < 6).sum() >= 5


def test_refit_on_the_kept_columns_equals_the_masked_full_refit(rng):
    # The refit trains on the kept columns only; it must be the same fit as
    # training the whole first layer with the dropped rows masked.
    import copy

    from skl0._datafits import SquaredLoss
    from skl0._heads import MLPHead
    from skl0._problem import DirectProblem, weighted_moments
    from skl0._refit import _refit_loop, refit_nonlinear_head

    X = torch.as_tensor(rng.normal(size=(120, 9)))
    Y = torch.as_tensor(rng.normal(size=(120, 1)))
    w = torch.full((120,), 1 / 120, dtype=torch.float64)
    mean, std = weighted_moments(X, w)
    problem = DirectProblem(X, Y, w, mean, std, SquaredLoss(1))
    head = MLPHead(9, (5,), 1, "tanh", generator=torch.Generator().manual_seed(0)).double()
    mask = torch.tensor([1, 0, 1, 1, 0, 0, 1, 0, 0], dtype=torch.float64)
    ref = copy.deepcopy(head)
    with torch.no_grad():
        ref.weight.mul_(mask[:, None])
    _refit_loop(problem, None, ref, mask, 40, 0.05, 1e-3)
    refit_nonlinear_head(problem, head, mask, max_iter=40, learning_rate=0.05, alpha=1e-3)
    for a, b in zip(head.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)
    assert (head.weight[mask == 0] == 0).all()


def test_mlp_head_default_batch_is_512_rows(rng):
    X = rng.normal(size=(700, 6))
    y = X[:, 0] + np.sin(3 * X[:, 1])
    kw = dict(k=2, hidden_layer_sizes=(8,), max_iter=40, random_state=0)
    default = L0Regressor(**kw).fit(X, y)
    rows512 = L0Regressor(batch_size=512, **kw).fit(X, y)
    whole = L0Regressor(batch_size=700, **kw).fit(X, y)
    np.testing.assert_array_equal(default.feature_importances_, rows512.feature_importances_)
    assert not np.array_equal(default.feature_importances_, whole.feature_importances_)
    # at most 512 rows the default is the whole batch
    small = L0Regressor(**kw).fit(X[:500], y[:500])
    whole_small = L0Regressor(batch_size=500, **kw).fit(X[:500], y[:500])
    np.testing.assert_array_equal(small.feature_importances_, whole_small.feature_importances_)
