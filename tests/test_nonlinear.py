"""MLP heads behind the gates (hidden_layer_sizes)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_friedman1

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


def test_fixed_lam_mlp_cut_short_warns_that_its_selection_is_still_moving(friedman):
    # As MLPClassifier(max_iter=2): a ConvergenceWarning, not a silent
    # all-features model (Adam's steps are a budget, not a solve).
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = friedman
    with pytest.warns(ConvergenceWarning, match=r"still changing .*max_iter=2 Adam steps"):
        short = L0Regressor(lam=0.01, hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)
    assert short.n_iter_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # this one settles
        full = L0Regressor(lam=0.01, hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, y)
    np.testing.assert_array_equal(full.get_support(indices=True), np.arange(5))


def test_selector_passes_hidden_layers(friedman):
    X, y = friedman
    sel = L0FeatureSelector(k=5, **KW).fit(X, y)
    assert sel.estimator_.hidden_layer_sizes == (16,)
    assert sel.transform(X).shape == (len(X), 5)


@pytest.mark.parametrize("bad", [(0,), (-3, 4), (8.7,), ("8",), (float("nan"),), ((4,),),
                                 (True,)])
def test_bad_hidden_layer_sizes(friedman, bad):
    # (8.7,) fitted 8 units and reported 8.7; NaN and nested tuples failed in int().
    X, y = friedman
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=.* must hold positive integers"):
        L0Regressor(hidden_layer_sizes=bad).fit(X, y)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=.* must hold positive integers"):
        L0Regressor(hidden_layer_sizes=bad).partial_fit(X, y)
    assert L0Regressor(hidden_layer_sizes=[np.int64(4)], k=2, max_iter=20,
                       random_state=0).fit(X, y).hidden_layer_sizes_ == (4,)


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


# ------------------------------------------------ issue 16: defaults that fill k, auto head


def test_mlp_defaults_fill_k_with_redundant_columns_not_noise():
    # 3 informative + 6 redundant (linear combinations) of 60 columns: the
    # network needs ~3 of them; the other slots of k=9 must still be relevant.
    X, y = make_classification(
        n_samples=600, n_features=60, n_informative=3, n_redundant=6, n_repeated=0,
        n_clusters_per_class=2, shuffle=False, random_state=1,
    )
    clf = L0Classifier(k=9, hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    assert (clf.get_support(indices=True) < 9).sum() >= 8


def test_association_threshold_is_the_f_quantile():
    from scipy.stats import f as f_dist

    from skl0._relevance import association_threshold

    n, m, cands = 600, 3, 57
    r2 = association_threshold(n, m, cands)
    F = (r2 / m) / ((1 - r2) / (n - m - 1))
    assert F == pytest.approx(f_dist.isf(0.05 / cands, m, n - m - 1))
    # more candidates, a stricter bar; more samples, a lower one
    assert association_threshold(n, m, 10 * cands) > r2 > association_threshold(10 * n, m, cands)
    assert association_threshold(3, 2, 5) == 1.0  # no residual degrees of freedom


def test_nonlinearity_test_rejects_curvature_and_interactions_only(rng):
    from sklearn.linear_model import LinearRegression

    from skl0._nonlinear import nonlinearity_test

    X = rng.uniform(-1, 1, (800, 12))
    sw = np.ones(800)
    for y, nonlinear in [
        (X[:, 0] - 2 * X[:, 3] + 0.3 * rng.normal(size=800), False),
        (X[:, 0] + 3 * X[:, 2] ** 2 + 0.3 * rng.normal(size=800), True),
        (2 * X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=800), True),
    ]:
        r = y - LinearRegression().fit(X, y).predict(X)
        stat, threshold = nonlinearity_test(X, r[:, None], sw)
        assert (stat > threshold) is nonlinear


def test_nonlinearity_test_past_its_column_cap_and_in_row_chunks(rng, monkeypatch):
    # Past NONLINEARITY_MAX_COLUMNS columns (1024; 3 here) the products are
    # formed among those whose squares alone are most associated with the
    # residuals: a curvature in x2 keeps x2 there, so the statistic is the
    # one over all columns, compared with the same threshold (the family is
    # every column's terms). The columns are standardized in row chunks
    # (_CHUNK_ELEMENTS, 2 MB; one row here), which changes no number.
    from scipy.stats import norm

    import skl0._nonlinear as nonlinear

    X = rng.uniform(-1, 1, (400, 12))
    r = (X[:, 2] ** 2 - 1 / 3 + 0.3 * rng.normal(size=400))[:, None]
    sw = rng.uniform(0.5, 2.0, 400)
    stat, threshold = nonlinear.nonlinearity_test(X, r, sw)
    assert threshold == pytest.approx(norm.isf(0.05 / (2 * 78)))
    monkeypatch.setattr(nonlinear, "_CHUNK_ELEMENTS", 1)
    assert nonlinear.nonlinearity_test(X, r, sw) == (stat, threshold)
    monkeypatch.setattr(nonlinear, "NONLINEARITY_MAX_COLUMNS", 3)
    capped, capped_threshold = nonlinear.nonlinearity_test(X, r, sw)
    assert capped == pytest.approx(stat, rel=1e-6) and capped > capped_threshold
    assert capped_threshold == threshold


@pytest.mark.parametrize("cap", [None, 4])
def test_nonlinearity_test_reads_weights_as_repeated_rows(rng, monkeypatch, cap):
    # Integer weights and the rows repeated that many times are the same
    # data (scikit-learn's frequency weights); the survey sandwich
    # sum w_i^2 a_i^2 put their t ratios sqrt(2) apart at weight 2. Also
    # past the column cap, whose screening uses the same variance.
    import skl0._nonlinear as nonlinear

    if cap is not None:
        monkeypatch.setattr(nonlinear, "NONLINEARITY_MAX_COLUMNS", cap)
    X = rng.uniform(-1, 1, (300, 8))
    r = (0.3 * X[:, 2] ** 2 + rng.normal(size=300))[:, None]
    for sw in (np.full(300, 2.0), rng.randint(1, 4, 300).astype(float)):
        rows = np.repeat(np.arange(300), sw.astype(int))
        weighted = nonlinear.nonlinearity_test(X, r, sw)
        repeated = nonlinear.nonlinearity_test(X[rows], r[rows], np.ones(rows.size))
        assert weighted[0] == pytest.approx(repeated[0], rel=1e-4)
        assert weighted[1] == repeated[1]


def test_nonlinearity_test_keeps_its_level_past_the_column_cap(monkeypatch):
    # The screening past the cap keeps the columns with the largest squares'
    # statistics on the same residuals; a threshold over the kept terms alone
    # (10 for 4 columns) rejected 28 of 200 pure-noise residuals at a nominal
    # 5%. Over the whole family (820 terms for 40 columns) Bonferroni holds.
    import skl0._nonlinear as nonlinear

    monkeypatch.setattr(nonlinear, "NONLINEARITY_MAX_COLUMNS", 4)
    rng = np.random.default_rng(0)
    rejections = 0
    for _ in range(200):
        X, r = rng.normal(size=(300, 40)), rng.normal(size=(300, 1))
        stat, threshold = nonlinear.nonlinearity_test(X, r, np.ones(300))
        rejections += stat > threshold
    assert rejections <= 10  # 5% of 200


def test_auto_head_stays_linear_on_linear_data(rng):
    X = rng.normal(size=(400, 20))
    y = X[:, 0] - 2 * X[:, 5] + 0.5 * rng.normal(size=400)
    reg = L0Regressor(k=2, hidden_layer_sizes="auto", random_state=0).fit(X, y)
    assert reg.hidden_layer_sizes_ == ()
    np.testing.assert_array_equal(reg.get_support(indices=True), [0, 5])
    assert reg.coef_.shape == (20,)
    info = reg.head_selection_
    assert info["nonlinearity_statistic"] <= info["nonlinearity_threshold"]


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_auto_head_tests_the_linear_fits_own_residuals(n_outputs):
    # On a skewed design (exponential columns, so E[x_i x_j x_l] != 0) the
    # test must see the linear fit's residuals y - predict(X). Residuals
    # taken against the standardized target kept a multiple of y, which is
    # linear in X, and its products with pairs of skewed columns rejected
    # this exactly linear model (statistic 10-13 against 3.2), then fitted
    # an MLP for nothing.
    from skl0._nonlinear import nonlinearity_test

    rng = np.random.default_rng(0)
    X = rng.exponential(size=(400, 8))
    Y = np.column_stack([2 * X[:, 0] - 3 * X[:, 3] + 10, X[:, 0] + X[:, 3] - 5])
    Y = (Y + 0.5 * rng.normal(size=Y.shape))[:, :n_outputs]
    y = Y[:, 0] if n_outputs == 1 else Y
    reg = L0Regressor(k=2, hidden_layer_sizes="auto", random_state=0).fit(X, y)
    R = (Y - reg.predict(X).reshape(Y.shape)) / Y.std(axis=0)
    info = reg.head_selection_
    assert info["nonlinearity_statistic"] == pytest.approx(
        nonlinearity_test(X, R, np.ones(400))[0], rel=1e-4)
    assert info["nonlinearity_statistic"] <= info["nonlinearity_threshold"]
    assert reg.hidden_layer_sizes_ == ()
    np.testing.assert_array_equal(reg.get_support(indices=True), [0, 3])


def test_auto_head_picks_the_mlp_for_an_interaction(rng):
    X = rng.uniform(-1, 1, (600, 6))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # no marginal signal at all
    clf = L0Classifier(k=2, hidden_layer_sizes="auto", max_iter=200, random_state=0).fit(X, y)
    assert clf.hidden_layer_sizes_ == (64,)
    np.testing.assert_array_equal(clf.get_support(indices=True), [0, 1])
    info = clf.head_selection_
    assert info["mlp_held_out_loss"] + info["mlp_held_out_se"] < info["linear_held_out_loss"]
    assert not hasattr(clf, "coef_")
    assert clf.score(X, y) > 0.9


def test_fixed_heads_report_their_hidden_layers(friedman):
    X, y = friedman
    assert L0Regressor(k=5, **KW).fit(X, y).hidden_layer_sizes_ == (16,)
    assert L0Regressor(k=5).fit(X, y).hidden_layer_sizes_ == ()


@pytest.mark.parametrize("bad", ["big", "Auto"])
def test_bad_hidden_layer_sizes_string(friedman, bad):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = friedman
    with pytest.raises(InvalidParameterError, match=rf"hidden_layer_sizes.*'auto'.*Got '{bad}'"):
        L0Regressor(hidden_layer_sizes=bad).fit(X, y)


def test_validated_point_ignores_a_lucky_dense_point():
    # The issue-16 failure of the one-SE rule: a 14-column point (noise columns
    # fitted) draws a held-out loss below the 5-column points' by more than the
    # best's own SE, but not by a significant paired margin once the
    # comparison's multiplicity is counted. The paired test keeps 5 columns; a
    # 4-column point that misses a feature is significantly worse and is not kept.
    from skl0._nonlinear import validated_point

    rng = np.random.default_rng(0)
    n = 100
    base = rng.gamma(1.0, 0.06, n)  # per-row difficulty shared by every point
    dense = base - 0.009 + rng.normal(0, 0.03, n)
    five = [base + rng.normal(0, 0.03, n) for _ in range(3)]
    four = base + 0.15 + rng.normal(0, 0.03, n)
    sizes = [14, 5, 5, 5, 4]
    losses = np.vstack([dense, *five, four])
    w = np.full(n, 1.0 / n)
    means = losses @ w
    assert np.argmin(means) == 0
    se0 = losses[0].std() / np.sqrt(n)
    assert min(means[1:4]) > means[0] + se0  # the one-SE rule would keep 14
    assert sizes[validated_point(sizes, losses, w, n)] == 5
    # identical sparse losses (no evidence of a difference) are admissible
    losses2 = np.vstack([dense, dense, dense, dense, four])
    assert validated_point(sizes, losses2, w, n) in (1, 2, 3)


@pytest.mark.parametrize("seed", [0, 1])
def test_mlp_lam_auto_on_pure_noise_validates_the_empty_model(seed):
    # Every point of the validated path kept all 6 columns of a network that
    # had fitted the noise (R^2 -2 to -4 on fresh rows, accuracy 0.50 for
    # the classifier); the empty model is now compared as the sparsest
    # point, and nothing beats it.
    rng = np.random.RandomState(seed)
    X, y = rng.randn(100, 6), rng.randn(100)
    labels = (rng.rand(100) > 0.5).astype(int)
    fresh = rng.randn(500, 6)
    with pytest.warns(UserWarning, match="No feature was selected"):
        reg = L0Regressor(hidden_layer_sizes=(16,), random_state=0).fit(X, y)
    assert reg.support_.sum() == 0 and reg.feature_importances_.max() < 0.01
    assert np.ptp(reg.predict(fresh)) < 1e-6  # the intercept alone
    assert reg.predict(fresh)[0] == pytest.approx(y.mean(), abs=0.25)
    with pytest.warns(UserWarning, match="No feature was selected"):
        clf = L0Classifier(hidden_layer_sizes=(16,), random_state=0).fit(X, labels)
    assert clf.support_.sum() == 0
    # exact k still fills its k slots (from the gates' survival order)
    assert L0Regressor(hidden_layer_sizes=(16,), k=2, random_state=0).fit(X, y).support_.sum() == 2


@pytest.mark.parametrize("value", [5.0, 0.1, -3e10])
def test_mlp_lam_auto_on_a_constant_target_keeps_no_column(value):
    # The target standardized to round-off (its weighted mean was not exactly
    # its value) or to zeros, and the held-out test compared the networks'
    # round-off-sized losses with no spread: every column of X was kept.
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = np.full(60, value)
    with pytest.warns(UserWarning, match="No feature was selected"):
        reg = L0Regressor(hidden_layer_sizes=(8,), max_iter=100, random_state=0).fit(X, y)
    assert reg.support_.sum() == 0
    assert np.ptp(reg.predict(X)) == 0
    sel = L0FeatureSelector(hidden_layer_sizes=(8,), max_iter=100, task="regression",
                            random_state=0)
    with pytest.warns(UserWarning, match="No feature was selected"):
        assert not sel.fit(X, y).get_support().any()
    # the linear head's intercept is the constant itself
    lin = L0Regressor(k=1, random_state=0).fit(X, y)
    assert lin.intercept_ == value and np.all(lin.coef_ == 0)


def test_an_empty_lam_auto_fit_names_the_fix_that_applies():
    # "Lower lam" is no advice to a user who left lam="auto": an MLP head
    # cut short by max_iter (nothing beat the intercept on the held-out
    # rows) is told to raise max_iter, a linear head to set k.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12))
    y = X[:, 0] + np.sin(2 * X[:, 4]) + 0.3 * rng.normal(size=200)
    with pytest.warns(UserWarning, match=r"No feature was selected.*held-out rows.*raise "
                                         r"max_iter \(=25\)"):
        short = L0Regressor(hidden_layer_sizes=(8,), max_iter=25, random_state=0).fit(X, y)
    assert short.support_.sum() == 0
    with pytest.warns(UserWarning, match=r"No feature was selected.*information criterion.*set k"):
        L0Regressor(random_state=0).fit(X, rng.normal(size=200))
    with pytest.warns(UserWarning, match=r"No feature was selected \(lam=1e\+03\).*Lower lam"):
        L0Regressor(lam=1e3, random_state=0).fit(X, y)


def test_validated_point_takes_the_empty_model_only_when_no_point_beats_it():
    from skl0._nonlinear import validated_point

    rng = np.random.default_rng(1)
    n = 200
    base = rng.gamma(1.0, 0.5, n)
    w = np.full(n, 1.0 / n)
    empty = base + rng.normal(0, 0.05, n)
    fitted = base - 0.3 + rng.normal(0, 0.05, n)  # clearly better: kept
    assert validated_point([3, 0], np.vstack([fitted, empty]), w, n) == 0
    overfit = base + 0.3 + rng.normal(0, 0.05, n)  # worse than the empty model
    assert validated_point([3, 0], np.vstack([overfit, empty]), w, n) == 1


def test_validated_point_holds_its_level_when_every_point_is_as_good():
    # The global null: 16 points whose held-out losses share one expectation.
    # The sparsest point should be rejected (declared worse than the best
    # chosen on the same rows) at most 5% of the time: Hsu's comparisons
    # with the best count all K - 1 others (counting only the points
    # sparser than the best rejected it 8.75% of the time here).
    from skl0._nonlinear import validated_point

    rng = np.random.default_rng(3)
    K, n, reps = 16, 200, 2000
    sizes = [K - i for i in range(K)]
    w = np.full(n, 1.0 / n)
    rejected = 0
    for _ in range(reps):
        losses = rng.exponential(size=n) + 0.3 * rng.standard_normal((K, n))
        rejected += validated_point(sizes, losses, w, n) != K - 1
    assert rejected / reps <= 0.05


def test_multinomial_refit_matches_sklearn():
    # The hand-written log-sum-exp of the numpy refit optimises the same
    # objective as sklearn's unpenalised multinomial logistic regression.
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
    clf = L0Classifier(k=4, random_state=0).fit(X, y)
    assert clf.coef_.shape[0] == 3
    S = clf.get_support(indices=True)
    ref = LogisticRegression(C=1e6, max_iter=5000, tol=1e-10).fit(X[:, S], y)
    p_ref = ref.predict_proba(X[:, S])
    p = clf.predict_proba(X)
    np.testing.assert_allclose(p, p_ref, atol=2e-3)


# ------------------------------------------------ cost of the MLP path (issue 16, LassoNet target)


def test_open_columns_product_equals_the_full_one_with_its_gradients():
    from skl0._heads import _gated_affine, _open_columns

    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 8, generator=g, dtype=torch.float64)
    W0 = torch.randn(8, 5, generator=g, dtype=torch.float64)
    # a sampled gate is the clip of a stretched value to [0, 1] (eq. 10): the
    # clip passes no gradient where the gate is 0, so neither does the column
    s0 = torch.tensor([-0.2, 0.3, -0.1, 1.4, -0.5, -0.3, 0.7, -0.05], dtype=torch.float64)
    mean, std = X.mean(0), X.std(0)
    outs = []
    for reduced in (True, False):
        W = W0.clone().requires_grad_()
        s = s0.clone().requires_grad_()
        scale = torch.clamp(s, 0.0, 1.0) / std
        if reduced:
            assert _open_columns(X, scale).tolist() == [1, 3, 6]
            out = _gated_affine(X, scale, mean * scale, W, torch.zeros(5, dtype=torch.float64))
        else:
            out = X @ (scale[:, None] * W) - (mean * scale) @ W
        out.pow(2).sum().backward()
        outs.append((out.detach(), W.grad, s.grad))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)
    # most gates open: the plain product
    assert _open_columns(X, torch.ones(8, dtype=torch.float64)) is None


def test_fused_adam_when_single_threaded_matches_the_plain_one():
    from skl0._train import make_adam

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        try:  # torch 2.1 has no fused Adam on the CPU: make_adam falls back
            torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], fused=True)
            has_fused = True
        except RuntimeError:
            has_fused = False
        results = []
        for fused in (True, False):
            p = torch.nn.Parameter(torch.linspace(-1, 1, 7, dtype=torch.float64))
            opt = make_adam([p], 0.1) if fused else torch.optim.Adam([p], lr=0.1, foreach=False)
            assert bool(opt.param_groups[0]["fused"]) is (fused and has_fused)
            for _ in range(20):
                opt.zero_grad()
                (p**4).sum().backward()
                opt.step()
            results.append(p.detach())
        torch.testing.assert_close(results[0], results[1])
    finally:
        torch.set_num_threads(threads)


def test_validated_path_stays_within_its_step_budget(friedman):
    from skl0._nonlinear import validated_path_budgets

    assert validated_path_budgets(16, 300) == [100] + [33] * 15
    X, y = friedman
    reg = L0Regressor(k=5, **KW).fit(X, y)
    assert reg.n_iter_ <= sum(validated_path_budgets(16, KW["max_iter"]))
    np.testing.assert_array_equal(reg.get_support(indices=True), np.arange(5))


def test_nonlinearity_statistic_matches_a_float64_reference(rng):
    # The products are formed in float32 over the whole (symmetric) matrix;
    # the statistic is the float64 max over the distinct terms.
    from scipy.stats import norm

    from skl0._nonlinear import nonlinearity_test

    X = rng.normal(size=(300, 12)) * 5.0 + 100.0
    r = rng.normal(size=(300, 1)) + 0.3 * X[:, [2]] * X[:, [5]] / 25.0
    sw = rng.uniform(0.5, 2.0, 300)
    stat, threshold = nonlinearity_test(X, r, sw)
    w = sw / sw.sum()
    Z = (X - w @ X) / np.sqrt(w @ (X - w @ X) ** 2)
    iu = np.triu_indices(12)
    num = (Z.T @ ((w * r[:, 0])[:, None] * Z))[iu]
    # frequency weights: the mean's variance is sum w a^2 / sum(sw)
    var = ((Z * Z).T @ ((w / sw.sum() * r[:, 0] ** 2)[:, None] * Z * Z))[iu]
    np.testing.assert_allclose(stat, np.max(np.abs(num) / np.sqrt(var)), rtol=1e-4)
    assert threshold == pytest.approx(norm.isf(0.05 / (2 * 78)))


def test_auto_head_needs_lam_auto_or_k(friedman):
    # It crashed with an AttributeError when the residual test rejected the
    # linear head at a fixed lam (no path to compare the heads along).
    X, y = friedman
    with pytest.raises(ValueError, match=r"hidden_layer_sizes='auto' .* not at a fixed lam=0.01"):
        L0Regressor(lam=0.01, hidden_layer_sizes="auto").fit(X, y)


def test_auto_head_refuses_a_fixed_lam_with_k_as_its_cap(rng):
    # k beside a number lam only caps it: that fit holds out no rows, and
    # where the residual test rejected the linear head (an interaction) the
    # MLP fit crashed with an AttributeError ('_head_losses').
    X = rng.uniform(-1, 1, (300, 5))
    y = 4 * X[:, 0] * X[:, 1] + X[:, 2] + 0.1 * rng.standard_normal(300)
    est = L0Regressor(lam=0.5, k=2, hidden_layer_sizes="auto", max_iter=20, random_state=0)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes='auto' .* not at a fixed "
                                         r"lam=0.5 \(k=2 only caps it\); pass lam='auto' "
                                         r"\(k=2 then keeps exactly 2 features\)"):
        est.fit(X, y)
    assert not hasattr(est, "support_")


def test_float32_raw_columns_hold_out_validation_fraction_of_the_rows(monkeypatch):
    # frac(|X g| 997) in float32 on columns of size 1e4 took few values, and
    # the ties held out 140 of 300 rows instead of 30.
    import skl0._selection as selection

    sizes = []
    real = selection.validation_split

    def spy(problem, gen, fraction):
        train, val = real(problem, gen, fraction)
        sizes.append((train.X.shape[0], val.X.shape[0]))
        return train, val

    monkeypatch.setattr(selection, "validation_split", spy)
    rng = np.random.RandomState(0)
    X = rng.rand(300, 5) * 1e4
    y = np.sin(X[:, 0] / 2e3) + (X[:, 1] / 1e4 - 0.5) ** 2 * 8 + 0.05 * rng.randn(300)
    for dtype in (np.float64, np.float32):
        L0Regressor(k=2, hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(
            X.astype(dtype), y)
    assert all(25 <= n_val <= 35 for _, n_val in sizes), sizes


def test_partial_fit_refuses_a_head_changed_mid_stream(friedman):
    # The stream kept training its first head while export read the new
    # settings (predictions with the wrong activation, a stale coef_).
    X, y = friedman
    est = L0Regressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    est.partial_fit(X[:200], y[:200])
    before = est.predict(X[:5])
    for change in ({"activation": "identity"}, {"hidden_layer_sizes": (16,)},
                   {"hidden_layer_sizes": ()}):
        est.set_params(**{"activation": "relu", "hidden_layer_sizes": (8,), **change})
        with pytest.raises(ValueError, match="changed since the first partial_fit call"):
            est.partial_fit(X[200:], y[200:])
        np.testing.assert_array_equal(est.predict(X[:5]), before)
    linear = L0Regressor(k=2).partial_fit(X[:200], y[:200])
    linear.set_params(activation="tanh")  # no hidden layer: activation plays no part
    linear.partial_fit(X[200:], y[200:])
    # A linear first head is named as such, not as "activation None".
    linear.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match=r"\(a linear head: no hidden layers, so no activation\)"):
        linear.partial_fit(X[200:], y[200:])


def test_selector_reports_the_head_it_chose(friedman):
    X, y = friedman
    sel = L0FeatureSelector(k=5, hidden_layer_sizes="auto", max_iter=60, random_state=0)
    sel.fit(X, y)
    assert sel.hidden_layer_sizes_ == sel.estimator_.hidden_layer_sizes_
    assert sel.head_selection_ == sel.estimator_.head_selection_
    linear = L0FeatureSelector(k=5).fit(X, y)
    assert linear.hidden_layer_sizes_ == () and not hasattr(linear, "validation_scores_")


def test_weight_two_splits_as_the_row_repeated_when_the_fraction_is_whole():
    # 150 rows, 20 of them weighted 2: a total of 170, whose validation_fraction
    # (0.1) is exactly 17 rows. The cumulated share landed on 0.1 itself and its
    # last bit put the held-out cut one row apart from the repeated rows' (held
    # out weight 17 against 16): other held-out rows, other scores and model.
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (150, 5))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.randn(150)
    w = np.ones(150)
    w[:20] = 2
    kw = dict(k=2, hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    weighted = L0Regressor(**kw).fit(X, y, sample_weight=w)
    rows = np.repeat(np.arange(150), w.astype(int))
    repeated = L0Regressor(**kw).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.validation_scores_, repeated.validation_scores_,
                               rtol=1e-9)
    np.testing.assert_array_equal(weighted.support_, repeated.support_)
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-9, atol=1e-9)


def test_auto_head_takes_one_seed_from_numpys_global_rng(rng):
    # random_state=None: one draw per fit (docs/reliability.md). Where the
    # residual test rejected the linear head, the MLP fit drew a second seed.
    X = rng.uniform(-1, 1, (300, 5))
    y = 4 * X[:, 0] * X[:, 1] + X[:, 2] + 0.1 * rng.standard_normal(300)
    np.random.seed(5)
    est = L0Regressor(k=2, hidden_layer_sizes="auto", max_iter=20).fit(X, y)
    after = np.random.randint(1 << 30)
    assert "linear_held_out_loss" in est.head_selection_  # the MLP was fitted too
    ref = np.random.RandomState(5)
    ref.randint(np.iinfo(np.int32).max)  # the one draw of the fit
    assert after == ref.randint(1 << 30)
    assert not any(name.startswith("_auto") for name in vars(est))



@pytest.mark.parametrize("case", ["mlp kept", "linear kept"])
def test_auto_head_sets_only_the_chosen_heads_record(fit_records, case):
    # Both heads' fits make records (_FitRecord) that leave the estimator as
    # it was, each fit told its head by a _FitPlan; one record, the chosen
    # head's, is then set. (Before, the heads were steered by private
    # attributes and the estimator's vars swapped between the two fits.)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 5))
    if case == "mlp kept":  # an interaction: the MLP wins
        y = 4 * X[:, 0] * X[:, 1] + X[:, 2] + 0.1 * rng.standard_normal(300)
    else:  # curvature the test sees, an MLP trained 2 iterations does not beat
        y = 2 * X[:, 0] - X[:, 2] + X[:, 1] ** 2 + 0.3 * rng.standard_normal(300)
    est = L0Regressor(k=2, hidden_layer_sizes="auto", max_iter=20 if case == "mlp kept" else 2,
                      random_state=0).fit(X, y)
    records, plans, installs = fit_records.records, fit_records.plans, fit_records.installs
    # the linear fit, then the MLP fit that also walks a linear path, one seed
    assert [(plan.hidden, plan.compare_heads) for plan in plans] == [((), False),
                                                                   ((64,), True)]
    assert plans[0].seed == plans[1].seed is not None
    assert len(installs) == 1
    lin, mlp, se = records[1].head_losses
    info = est.head_selection_
    assert (info["linear_held_out_loss"], info["mlp_held_out_loss"]) == (lin, mlp)
    chosen = records[1] if case == "mlp kept" else records[0]
    assert installs[0] is chosen and est.support_ is chosen.support
    assert est.hidden_layer_sizes_ == ((64,) if case == "mlp kept" else ())
    assert (mlp + se < lin) == (case == "mlp kept")
    # no attribute of the other head's fit, nor of the steering, is left
    assert hasattr(est, "coef_") == (case == "linear kept")
    assert not any(name.startswith(("_auto", "_compare", "_head_losses")) for name in vars(est))
    if case == "linear kept":
        np.testing.assert_array_equal(est.coef_, records[0].layers[0][0][:, 0])
        np.testing.assert_array_equal(est.get_support(indices=True), [0, 2])

@pytest.mark.parametrize("cls", [L0Regressor, L0Classifier])
def test_auto_head_fits_a_dataframe_without_a_feature_names_warning(rng, cls):
    # The residual test predicted with the linear head on the fit's validated
    # (nameless) X through predict's validation: scikit-learn's "X does not
    # have valid feature names" on every fit of a DataFrame.
    import warnings

    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(rng.uniform(-1, 1, (200, 4)), columns=list("abcd"))
    y = X["a"] + 0.5 * X["c"] + 0.1 * rng.standard_normal(200)
    if cls is L0Classifier:
        y = y > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = cls(k=2, hidden_layer_sizes="auto", max_iter=20, random_state=0).fit(X, y)
    assert est.hidden_layer_sizes_ == ()
    np.testing.assert_array_equal(est.feature_names_in_, list("abcd"))


def test_a_split_that_leaves_no_training_rows_names_the_fix_that_applies(rng):
    # With 2 samples no validation_fraction helps (one row is always held
    # out): the message said "lower it".
    X, y = rng.standard_normal((2, 3)), np.array([0.0, 1.0])
    est = L0Regressor(k=1, hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.raises(ValueError, match=r"validation_fraction=0.1 leaves fewer than 2 of "
                                         r"the 2 samples .* pass at least 3 samples"):
        est.fit(X, y)
    X, y = rng.standard_normal((100, 3)), rng.standard_normal(100)
    with pytest.raises(ValueError, match=r"validation_fraction=0.99 .* lower it \(below 0.985\)"):
        est.set_params(validation_fraction=0.99).fit(X, y)
    est.set_params(validation_fraction=0.984).fit(X, y)  # the bound named is enough
