"""Groups of columns and feature costs (issue 20)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from skl0 import (
    L0Classifier,
    L0FeatureSelector,
    L0Regressor,
    L0RegressorCV,
    groups_from_column_transformer,
    l0_path,
)
from skl0.datasets import make_group_regression

CATS = list("abcdefgh")


def categorical_table(seed, n=300):
    """8 categorical columns of 5 levels and 10 numeric ones; c0, c3, x0, x4 are used."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {f"c{i}": rng.choice(list("vwxyz"), size=n) for i in range(8)}
        | {f"x{i}": rng.normal(size=n) for i in range(10)}
    )
    levels = {lv: i for i, lv in enumerate("vwxyz")}
    e0, e3 = rng.normal(size=5), rng.normal(size=5)
    e0, e3 = e0 - e0.mean(), e3 - e3.mean()
    y = (e0[frame.c0.map(levels).to_numpy()] * 1.5 + e3[frame.c3.map(levels).to_numpy()] * 1.5
         + frame.x0 - 0.8 * frame.x4 + 0.5 * rng.normal(size=n))
    return frame, y.to_numpy()


def encoder():
    cats = [f"c{i}" for i in range(8)]
    return ColumnTransformer(
        [("cat", OneHotEncoder(categories=[list("vwxyz")] * 8, sparse_output=False), cats)],
        remainder="passthrough",
    )


TRUE = {"c0", "c3", "x0", "x4"}


@pytest.fixture(scope="module")
def encoded():
    frame, y = categorical_table(0)
    ct = encoder().fit(frame)
    return ct.transform(frame), y, groups_from_column_transformer(ct)


def test_helper_labels_one_group_per_original_column(encoded):
    X, _, groups = encoded
    assert X.shape[1] == len(groups) == 50
    assert groups[:5].tolist() == ["c0"] * 5 and groups[-1] == "x9"
    assert len(set(groups)) == 18


@pytest.mark.parametrize("cls", [L0Regressor, L0FeatureSelector])
def test_exact_k_counts_groups_and_masks_whole_groups(encoded, cls):
    X, y, groups = encoded
    est = cls(k=4, groups=groups).fit(X, y)
    mask = est.get_support()
    kept = set(est.group_labels_[est.group_support_])
    assert kept == TRUE
    # whole groups: a column is kept exactly when its group is
    assert np.array_equal(mask, np.isin(groups, sorted(kept)))
    # importances per column, equal within a group
    imp = est.feature_importances_
    assert imp.shape == (50,)
    for g in set(groups):
        assert np.ptp(imp[groups == g]) == 0


def test_auto_with_groups_keeps_the_true_groups(encoded):
    X, y, groups = encoded
    est = L0Regressor(groups=groups).fit(X, y)
    assert set(est.group_labels_[est.group_support_]) == TRUE


def test_classifier_groups():
    frame, y = categorical_table(1, n=400)
    ct = encoder().fit(frame)
    X, groups = ct.transform(frame), groups_from_column_transformer(ct)
    clf = L0Classifier(k=4, groups=groups).fit(X, y > np.median(y))
    assert set(clf.group_labels_[clf.group_support_]) == TRUE


def test_column_transformer_groups_trace_indicators_and_keep_mixes_apart():
    # A missing-value flag was labelled with its transformer's name, and a
    # mix of inputs labelled with a transformer name that is also an input
    # column's merged with that column's group, without a word.
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 4)),
                         columns=["income", "h", "g", "age"])
    frame.loc[::7, "age"] = np.nan
    imputed = ColumnTransformer([("h", SimpleImputer(add_indicator=True), ["age", "g"]),
                                 ("p", "passthrough", ["h"])]).fit(frame)
    assert groups_from_column_transformer(imputed).tolist() == ["age", "g", "age", "h"]
    mixed = ColumnTransformer([("income", PCA(1), ["h", "g"]),
                               ("p", "passthrough", ["income"])]).fit(frame.fillna(0))
    assert groups_from_column_transformer(mixed).tolist() == ["income (mixed)", "income"]


def test_pipeline_with_grid_search_keeps_k_original_columns():
    frame, y = categorical_table(2)
    ct = encoder()
    groups = groups_from_column_transformer(ct.fit(frame))
    pipe = Pipeline([("enc", ct), ("sel", L0FeatureSelector(groups=groups)),
                     ("reg", LinearRegression())])
    search = GridSearchCV(pipe, {"sel__k": [2, 4]}, cv=3).fit(frame, y)
    assert search.best_params_ == {"sel__k": 4}
    sel = search.best_estimator_.named_steps["sel"]
    assert sel.group_support_.sum() == 4
    assert set(sel.group_labels_[sel.group_support_]) == TRUE


def test_groups_without_costs_match_columns_when_singletons():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 12))
    y = X[:, 1] - 2 * X[:, 5] + X[:, 7] + 0.5 * rng.normal(size=200)
    plain = L0Regressor(k=3).fit(X, y)
    grouped = L0Regressor(k=3, groups=np.arange(12)).fit(X, y)
    assert np.array_equal(plain.support_, grouped.support_)
    np.testing.assert_allclose(plain.coef_, grouped.coef_, rtol=1e-6, atol=1e-10)


def near_copies(seed, n=300):
    """A true column (0), a near-copy of it (1, corr ~0.98) and 6 noise columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    X[:, 1] = X[:, 0] + 0.2 * rng.normal(size=n)
    y = X[:, 0] + 0.7 * X[:, 2] + rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_costs_steer_exact_k_toward_the_cheap_copy(seed):
    X, y = near_copies(seed)
    costs = np.ones(8)
    costs[1] = 10.0  # the copy is expensive: the true column is kept
    kept = L0Regressor(k=2, feature_costs=costs).fit(X, y).get_support(indices=True)
    assert kept.tolist() == [0, 2]
    costs = np.ones(8)
    costs[0] = 1000.0  # the true column is expensive: the near-copy is kept instead
    kept = L0Regressor(k=2, feature_costs=costs).fit(X, y).get_support(indices=True)
    assert kept.tolist() == [1, 2]


def test_costs_raise_the_price_of_a_feature_under_a_fixed_lam():
    X, y = near_copies(0)
    free = L0Regressor(lam=0.05).fit(X, y)
    assert free.support_[2]
    costs = np.ones(8)
    costs[2] = 20.0
    priced = L0Regressor(lam=0.05, feature_costs=costs).fit(X, y)
    assert not priced.support_[2]


def test_costs_per_group_and_as_dict_agree(encoded):
    X, y, groups = encoded
    labels = list(dict.fromkeys(groups))
    per_group = np.ones(18)
    per_group[labels.index("x0")] = 50.0
    by_dict = {g: (50.0 if g == "x0" else 1.0) for g in labels}
    a = L0Regressor(k=3, groups=groups, feature_costs=per_group).fit(X, y)
    b = L0Regressor(k=3, groups=groups, feature_costs=by_dict).fit(X, y)
    assert np.array_equal(a.support_, b.support_)


def test_l0_path_over_ks_counts_groups(encoded):
    X, y, groups = encoded
    path = l0_path(X, y, ks=[4, 2], groups=groups)
    sizes = [len(set(groups[row])) for row in path.support]
    assert sizes == [4, 2]


def test_cv_with_groups_keeps_whole_groups(encoded):
    X, y, groups = encoded
    est = L0RegressorCV(n_lams=8, cv=3, groups=groups).fit(X, y)
    kept = set(est.group_labels_[est.group_support_])
    assert np.array_equal(est.support_, np.isin(groups, sorted(kept)))
    assert TRUE <= kept


def test_inputs_are_not_mutated(encoded):
    X, y, groups = encoded
    g, c = np.array(groups), np.linspace(0.5, 2.0, 50)
    X0, g0, c0 = X.copy(), g.copy(), c.copy()
    L0Regressor(k=2, groups=g, feature_costs=c).fit(X, y)
    assert np.array_equal(X, X0) and np.array_equal(g, g0) and np.array_equal(c, c0)


def test_a_series_of_costs_is_read_by_its_labels():
    # Keyed by group label in another order than the groups, a Series was
    # read by position: group 'f' got 'a''s price of 1000 and was dropped.
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = X.sum(1) + rng.normal(size=200)
    costs = pd.Series({"f": 1.0, "e": 1, "d": 1, "c": 1, "b": 1, "a": 1000})
    fit = dict(groups=list("abcdef"), lam=0.05, random_state=0)
    by_series = L0Regressor(feature_costs=costs, **fit).fit(X, y)
    by_dict = L0Regressor(feature_costs=costs.to_dict(), **fit).fit(X, y)
    np.testing.assert_array_equal(by_series.group_support_, by_dict.group_support_)
    assert not by_series.group_support_[0] and by_series.group_support_[1:].all()
    # the default index 0..n-1 is positional (an array's order), as before
    plain = L0Regressor(feature_costs=pd.Series([1000.0, 1, 1, 1, 1, 1]), lam=0.05,
                        random_state=0).fit(X, y)
    assert not plain.support_[0] and plain.support_[1:].all()
    # integer group labels: the index holds the labels, so by label (as a
    # groupby(...).sum() gives it), not by the order of group_labels_ [1 0 2]
    g = [1, 1, 0, 0, 2, 2]
    by_label = L0Regressor(groups=g, feature_costs=pd.Series({0: 1000.0, 1: 1.0, 2: 1.0}),
                           lam=0.2, random_state=0).fit(X, y)
    assert by_label.group_labels_.tolist() == [1, 0, 2]
    np.testing.assert_array_equal(by_label.group_support_, [True, False, True])
    with pytest.raises(ValueError, match=r"repeated labels \['a'\]"):
        L0Regressor(feature_costs=pd.Series([1.0, 2.0] * 3, index=list("aabcde")),
                    **fit).fit(X, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"groups": [0, 1, 2]}, r"groups has shape \(3,\), but X has 6 columns"),
        ({"groups": [0, 1, np.nan, 2, 2, 3]}, r"missing labels .* columns \[2\]"),
        ({"groups": ["a", None, "b", "b", "c", "c"]}, r"missing labels .* columns \[1\]"),
        ({"feature_costs": [1, 1, -1, 1, 1, 1]}, r"feature_costs must be finite and non-neg.*-1"),
        ({"feature_costs": [1, 1, np.nan, 1, 1, 1]}, r"feature_costs must be finite.*nan"),
        ({"feature_costs": [1, 2]}, r"feature_costs has shape \(2,\); pass 6 non-negative "
                                     r"numbers, one per column\.$"),  # was "6 ... or 6"
        ({"groups": [0, 0, 1, 1, 2, 2], "feature_costs": [1, 2]},
         r"pass 6 \(one per column\) or 3 \(one per group\)"),
        # the value as a number (was np.float64(-1.0)), and where it is
        ({"feature_costs": [1, 1, -1, 1, 1, 1]}, r"got -1\.0 at column 2\. Pass 0"),
        ({"groups": list("aabbcc"), "feature_costs": {"a": 1, "b": -2, "c": 1}},
         r"got -2\.0 for group 'b'\. Pass 0"),  # was "at position 1" of a dict
        ({"feature_costs": [0] * 6}, r"feature_costs are all zero"),
        ({"groups": [0, 0, 1, 1, 2, 2], "feature_costs": {0: 1, 1: 2}},
         r"no cost for the groups \[2\]"),
    ],
)
def test_bad_groups_and_costs_are_rejected(kwargs, match):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 6)), rng.normal(size=30)
    with pytest.raises(ValueError, match=match):
        L0Regressor(**kwargs).fit(X, y)


def test_helper_rejects_other_objects():
    with pytest.raises(TypeError, match="expects a fitted ColumnTransformer"):
        groups_from_column_transformer(OneHotEncoder())


def test_cli_one_hot_counts_original_columns(tmp_path, capsys):
    from skl0.cli import main

    frame, y = categorical_table(4)
    frame["y"] = y
    path = tmp_path / "table.csv"
    frame.to_csv(path, index=False)
    out_path = tmp_path / "kept.txt"
    status = main(["select", str(path), "-t", "y", "--k", "4", "--one-hot", "--test-size", "0",
                   "-o", str(out_path)])
    out = capsys.readouterr().out
    assert status == 0
    line = next(li for li in out.splitlines() if "original columns:" in li)
    assert "kept 4 of 18" in line and set(line.split(": ")[1].split(", ")) == TRUE
    kept = out_path.read_text().split()
    assert sorted({name.split("_")[0] for name in kept}) == sorted(TRUE)
    assert len(kept) == 12  # 5 + 5 dummies and 2 numeric columns
    status = main(["select", str(path), "-t", "y", "--k", "4", "--one-hot", "--no-groups",
                   "--test-size", "0"])
    assert status == 0 and "original columns" not in capsys.readouterr().out


def test_sparse_x_and_frequency_weights_with_groups(encoded):
    import scipy.sparse as sp

    X, y, groups = encoded
    dense = L0Regressor(k=4, groups=groups).fit(X, y)
    sparse = L0Regressor(k=4, groups=groups).fit(sp.csr_matrix(X), y)
    assert np.array_equal(dense.support_, sparse.support_)
    # a weight of 2 is a repeated row
    rng = np.random.default_rng(5)
    w = rng.integers(1, 3, size=len(y))
    rep = np.repeat(np.arange(len(y)), w)
    a = L0Regressor(groups=groups).fit(X, y, sample_weight=w.astype(float))
    b = L0Regressor(groups=groups).fit(X[rep], y[rep])
    assert np.array_equal(a.group_support_, b.group_support_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)


def test_mlp_head_selects_whole_groups(encoded):
    X, y, groups = encoded
    est = L0Regressor(k=4, groups=groups, hidden_layer_sizes=(16,), max_iter=150,
                      random_state=0).fit(X, y)
    kept = est.group_labels_[est.group_support_]
    assert kept.size == 4
    assert np.array_equal(est.support_, np.isin(groups, kept))
    assert len(TRUE & set(kept)) >= 3


def test_partial_fit_with_groups(encoded):
    X, y, groups = encoded
    whole = L0Regressor(k=4, groups=groups).fit(X, y)
    est = L0Regressor(k=4, groups=groups)
    for chunk in np.array_split(np.arange(len(y)), 3):
        est.partial_fit(X[chunk], y[chunk])
    assert np.array_equal(est.support_, whole.support_)  # exact mode: same as fit
    clf = L0Classifier(k=3, groups=groups, random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 3):
        clf.partial_fit(X[chunk], y[chunk] > 0, classes=[False, True])
    kept = clf.group_labels_[clf.group_support_]
    assert kept.size == 3 and np.array_equal(clf.support_, np.isin(groups, kept))


@pytest.mark.parametrize("seed", [0, 1])
def test_exact_k_groups_find_the_best_subset_of_groups(seed):
    """Exact k over correlated groups hits the exhaustive optimum of the refitted RSS."""
    from itertools import combinations

    rng = np.random.default_rng(seed)
    n, sizes = 150, [1, 2, 3, 1, 2, 3, 2]
    groups = np.repeat(np.arange(len(sizes)), sizes)
    latent = rng.normal(size=(n, 3))
    X = rng.normal(size=(n, groups.size)) + latent[:, rng.integers(0, 3, groups.size)]
    beta = np.zeros(groups.size)
    beta[groups == 1], beta[groups == 4], beta[groups == 5] = 0.8, -0.6, 0.5
    y = X @ beta + rng.normal(size=n)

    def rss(gs):
        cols = np.isin(groups, gs)
        return -LinearRegression().fit(X[:, cols], y).score(X[:, cols], y)

    best = min(combinations(range(len(sizes)), 3), key=rss)
    est = L0Regressor(k=3, groups=groups).fit(X, y)
    assert tuple(np.flatnonzero(est.group_support_)) == best


def _random_group_design(seed):
    """9 groups of 1-3 Toeplitz-correlated columns on 60 rows, 3 groups used."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(9), rng.integers(1, 4, 9))
    p, rho = groups.size, [0.0, 0.6, 0.9][seed % 3]
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.multivariate_normal(np.zeros(p), cov, size=60)
    beta = rng.standard_normal(p) * np.isin(groups, rng.choice(9, 3, replace=False))
    y = X @ beta + rng.standard_normal(60) * np.std(X @ beta)
    yb = (X @ beta + rng.logistic(size=60) > 0).astype(int)
    return X, y, yb, groups


@pytest.mark.parametrize(("seed", "k", "binary"), [(5, 2, False), (7, 2, False), (5, 3, True),
                                                    (11, 4, True)])
def test_exact_k_with_few_group_sets_scores_them_all(seed, k, binary):
    # With at most 256 sets of k groups, exact k refits every set (as exact
    # k's columns are scored): the group swap search stopped above the best
    # subset on these designs (RSS 0.2-0.8% higher; log loss 0.007-0.022).
    from itertools import combinations

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y, yb, groups = _random_group_design(seed)
    Z = StandardScaler().fit_transform(X)

    def loss(gs):
        cols = np.isin(groups, gs)
        if not binary:
            return -LinearRegression().fit(X[:, cols], y).score(X[:, cols], y)
        m = LogisticRegression(C=1 / (2e-4 * len(yb)), max_iter=5000, tol=1e-10)
        f = m.fit(Z[:, cols], yb).decision_function(Z[:, cols])
        return float(np.mean(np.logaddexp(0, f) - yb * f))

    best = min(combinations(range(9), k), key=loss)
    est = (L0Classifier(k=k, groups=groups).fit(X, yb) if binary
           else L0Regressor(k=k, groups=groups).fit(X, y))
    got = tuple(np.flatnonzero(est.group_support_))
    assert loss(got) <= loss(best) + 1e-6, (got, best)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_with_groups_can_keep_no_group(seed):
    # Pure noise: no group pays its way, and EBIC scores the empty model too
    # (the search over group counts started at 1 and kept a group whose
    # EBIC was 2.5-12 above the empty model's, on every seed).
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(200, 18)), rng.normal(size=200)
    with pytest.warns(UserWarning, match="No feature was selected"):
        reg = L0Regressor(groups=np.repeat(np.arange(6), 3), random_state=0).fit(X, y)
    assert not reg.group_support_.any() and not reg.get_support().any()


@pytest.mark.parametrize("Est", [L0Regressor, L0Classifier])
def test_ebic_charges_a_one_hot_group_its_rank(Est, monkeypatch):
    # A one-hot group of 3 levels has 3 columns but 2 free coefficients once
    # centred (the indicators sum to one, the intercept's direction): EBIC
    # charged it 3, one log(n) too many against a numeric column.
    import skl0._selection as selection
    from skl0._group_select import group_ranks

    seen = {}
    select = selection.select_groups_by_ebic

    def spy(problem, layout, points, alpha):
        seen.update(problem=problem, layout=layout)
        return select(problem, layout, points, alpha)

    monkeypatch.setattr(selection, "select_groups_by_ebic", spy)
    rng = np.random.default_rng(0)
    level = rng.integers(0, 3, 300)
    X = np.column_stack([np.eye(3)[level], rng.normal(size=(300, 3))])
    y = level + X[:, 3] + rng.normal(size=300)
    Est(groups=[0, 0, 0, 1, 1, 2], random_state=0).fit(X, y if Est is L0Regressor else y > 1.5)
    np.testing.assert_array_equal(group_ranks(seen["problem"], seen["layout"]), [2, 2, 1])


def test_auto_with_groups_prices_a_large_weak_group_at_a_fixed_count():
    # One single-column group with a moderate signal, one group of 25 weak
    # columns: at one kept group the large one has the lower loss, but EBIC
    # charges its 25 coefficients (53.7 against -17.5). The polish at each
    # group count minimised the loss alone and kept both groups (EBIC 26.1).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 30))
    y = 0.25 * X[:, 0] + 0.1 * X[:, 1:26].sum(1) + rng.normal(size=300)
    groups = np.array([0] + [1] * 25 + [2, 3, 4, 5])
    reg = L0Regressor(groups=groups, random_state=0).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(reg.group_support_), [0])


def test_auto_head_scores_its_linear_path_with_the_group_gate():
    # hidden_layer_sizes="auto" compares the MLP path with a linear one on the
    # same rows; with groups both walk the group gate, so the linear
    # candidate is the one the fit would make. Here the signal is an
    # interaction: the MLP is chosen and keeps whole groups.
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    y = X[:, 0] + X[:, 1] * X[:, 2] + 0.1 * rng.randn(300)
    est = L0Regressor(k=2, hidden_layer_sizes="auto", groups=[0, 0, 1, 1, 2, 2],
                      max_iter=150, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.get_support(indices=True), [0, 1, 2, 3])
    assert est.hidden_layer_sizes_ != ()
    sel = est.head_selection_
    assert sel["mlp_held_out_loss"] < sel["linear_held_out_loss"]


@pytest.mark.parametrize("n_groups", [2, 3])
def test_auto_with_groups_keeps_every_group_when_each_pays_its_way(n_groups):
    # Every column carries signal: the EBIC minimum is the model with all
    # groups, which the per-size polish (sizes below G) cannot propose; a
    # feature_costs-only layout (one column a group) took the same road.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 2 * n_groups))
    y = X.sum(1) + 0.3 * rng.standard_normal(500)
    groups = np.repeat(np.arange(n_groups), 2)
    reg = L0Regressor(groups=groups).fit(X, y)
    assert reg.group_support_.all()
    assert reg.score(X, y) == pytest.approx(L0Regressor().fit(X, y).score(X, y), abs=1e-6)
    clf = L0Classifier(groups=groups).fit(X, (y > 0).astype(int))
    assert clf.group_support_.all()
    costs = np.arange(1.0, 2 * n_groups + 1)  # unequal, so the layout stays
    assert L0Regressor(feature_costs=costs).fit(X, y).get_support().all()


@pytest.mark.parametrize("seed, kw", [(7, {}), (9, {}), (11, {"k": 3})])
def test_equal_feature_costs_fit_exactly_as_no_costs(seed, kw):
    # The costs are divided by their mean, so equal costs price every gate at
    # lam: the fit must be the column-level one, not the group search's
    # (which stopped elsewhere on these seeds).
    X, y = make_classification(150, 12, n_informative=4, random_state=seed)
    plain = L0Classifier(**kw).fit(X, y)
    for costs in (np.ones(12), np.full(12, 7.5)):
        costed = L0Classifier(feature_costs=costs, **kw).fit(X, y)
        np.testing.assert_array_equal(costed.get_support(), plain.get_support())
        np.testing.assert_array_equal(costed.predict_proba(X), plain.predict_proba(X))
        assert not hasattr(costed, "group_labels_")


def test_lam_auto_with_groups_reads_importances_next_to_the_chosen_support():
    # The group and cost selections skipped the re-solve at lam_ from the
    # chosen support that the column-level lam="auto" does: eight dropped
    # columns read P(open) ~ 1 (the path point's), contradicting the support.
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    for kw in ({"groups": np.arange(30)}, {"groups": np.arange(30) % 10},
               {"feature_costs": np.linspace(1, 2, 30)}):
        m = L0Classifier(**kw).fit(X, y)
        imp, kept = m.feature_importances_, m.support_
        assert not (imp[~kept] > 0.5).any(), kw
        assert (imp[kept] > 0.5).mean() >= 0.5, kw


@pytest.mark.parametrize("cls, kw", [(L0Regressor, {}), (L0Regressor, {"k": 2}),
                                     (L0Classifier, {}), (L0Classifier, {"k": 5})])
def test_one_column_per_group_is_the_fit_without_groups(cls, kw):
    # groups=list(X.columns) (which keys feature_costs by name) ran the group
    # engine: breast cancer lam="auto" kept [13 15 21 23 27 28] at lam_ 0.28
    # where the plain fit keeps [10 20 21 24 27] at 0.0053, and a toy with a
    # near-copy kept [0 6] instead of [0]. One column per group at equal
    # prices is the plain fit, as equal feature_costs without groups are.
    from sklearn.datasets import load_breast_cancer

    if cls is L0Classifier:
        X, y = load_breast_cancer(return_X_y=True)
    else:
        rng = np.random.default_rng(4)
        X = rng.normal(size=(60, 8))
        X[:, 1] = X[:, 0] + 0.3 * rng.normal(size=60)
        y = X[:, 0] + 0.3 * X[:, 2] + 0.2 * X[:, 3] + rng.normal(size=60)
    names = [f"c{j}" for j in range(X.shape[1])]
    plain = cls(**kw).fit(X, y)
    for extra in ({"groups": names}, {"groups": names, "feature_costs": dict.fromkeys(names, 3.0)}):
        grouped = cls(**extra, **kw).fit(X, y)
        np.testing.assert_array_equal(grouped.support_, plain.support_)
        np.testing.assert_array_equal(grouped.coef_, plain.coef_)
        np.testing.assert_array_equal(grouped.feature_importances_, plain.feature_importances_)
        assert grouped.lam_ == plain.lam_
        assert grouped.group_labels_.tolist() == names
        np.testing.assert_array_equal(grouped.group_support_, plain.support_)
    assert not hasattr(plain, "group_labels_")


def test_one_column_per_group_with_more_columns_than_rows_is_screened_as_without_groups():
    # The column-level fit of one-column groups screens when p > n; the
    # screened sub-fit exported group_support_ from its 25 columns against
    # the 100 labels (IndexError) in fit and partial_fit alike.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 100))
    y = 2 * X[:, 0] + X[:, 1] - X[:, 2] + 0.5 * rng.normal(size=50)
    names = [f"c{j}" for j in range(100)]
    plain = L0Regressor().fit(X, y)
    for grouped in (L0Regressor(groups=names).fit(X, y),
                    L0Regressor(groups=names).partial_fit(X, y)):
        np.testing.assert_array_equal(grouped.support_, plain.support_)
        np.testing.assert_array_equal(grouped.group_support_, plain.support_)
        assert grouped.n_screened_ == plain.n_screened_ == 25


def test_keep_redundant_does_not_apply_with_groups():
    # It skipped the linear head's group swap polish (a worse subset).
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    groups = np.arange(30) % 10
    auto = L0Classifier(k=3, groups=groups).fit(X, y)
    # It says so (it was silent; with k=None it already warned it had no effect).
    with pytest.warns(UserWarning, match="keep_redundant=True has no effect with groups or "
                                         "unequal feature_costs"):
        kept = L0Classifier(k=3, groups=groups, keep_redundant=True).fit(X, y)
    np.testing.assert_array_equal(kept.group_support_, auto.group_support_)


def test_keep_redundant_with_unequal_costs_warns_and_with_equal_costs_applies():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 9)
    X[:, 8] = X[:, 0] + 0.05 * rng.randn(80)  # a near-copy of column 0
    y = X[:, 0] + X[:, 1] + 0.3 * rng.randn(80)
    with pytest.warns(UserWarning, match="keep_redundant=True has no effect"):
        L0Regressor(k=3, keep_redundant=True, feature_costs=np.r_[np.ones(8), 1.5]).fit(X, y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # equal costs are the plain fit: it applies there
        equal = L0Regressor(k=3, keep_redundant=True, feature_costs=np.ones(9)).fit(X, y)
    plain = L0Regressor(k=3, keep_redundant=True).fit(X, y)
    np.testing.assert_array_equal(equal.support_, plain.support_)


def test_column_transformer_groups_of_prefixed_names_and_mixed_outputs():
    from sklearn.preprocessing import PolynomialFeatures

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.choice(["u", "b_c"], 40), "a_b": rng.choice(["p", "q"], 40),
                       "x0": rng.normal(size=40), "x1": rng.normal(size=40)})
    ct = ColumnTransformer([("oh", OneHotEncoder(), ["a", "a_b"])]).fit(df)
    # a_b_c is input a's level b_c (by name it looked like a_b's)
    assert groups_from_column_transformer(ct).tolist() == ["a", "a", "a_b", "a_b"]
    ct = ColumnTransformer([("poly", PolynomialFeatures(2, include_bias=False),
                             ["x0", "x1"])]).fit(df)
    assert groups_from_column_transformer(ct).tolist() == ["x0", "x1", "x0", "poly", "x1"]
    # names with spaces (breast cancer's): the interaction joins two inputs
    cols = ["mean radius", "mean texture", "mean"]
    named = pd.DataFrame(rng.normal(size=(40, 3)), columns=cols)
    ct = ColumnTransformer([("poly", PolynomialFeatures(2, include_bias=False),
                             cols[:2])]).fit(named)
    assert groups_from_column_transformer(ct).tolist() == [
        "mean radius", "mean texture", "mean radius", "poly", "mean texture"]
    ct = ColumnTransformer([("poly", PolynomialFeatures(2, include_bias=False), cols)]).fit(named)
    labels = dict(zip(ct.get_feature_names_out(), groups_from_column_transformer(ct)))
    assert labels["poly__mean radius mean"] == "poly"
    assert labels["poly__mean^2"] == "mean" and labels["poly__mean radius^2"] == "mean radius"
    # PCA's "pca0" is a mix of "p" and "t", not a column of "p"
    from sklearn.decomposition import PCA

    short = pd.DataFrame(rng.normal(size=(40, 3)), columns=["p", "t", "pc"])
    ct = ColumnTransformer([("dimred", PCA(2), ["p", "t"])], remainder="passthrough").fit(short)
    assert groups_from_column_transformer(ct).tolist() == ["dimred", "dimred", "pc"]
    # names made of other names: one reading per position, not per split
    from skl0._column_groups import _longest_first, _owner

    names = _longest_first(["a", "a a", "b"])
    assert _owner(" ".join(["a"] * 60) + " z", names) == "a a"  # longest prefix
    assert _owner(" ".join(["a"] * 60) + " b", names) is None  # a mix


@pytest.mark.parametrize("groups, match", [
    ([1, "1", 2, 2, 3, 3], r"mixes labels of different kinds \(number, str\)"),
    (pd.array(["a", "a", pd.NA, "b", "c", "c"], dtype="string"), r"missing labels .* \[2\]"),
    ([pd.NaT, 1, 1, 2, 2, 3], r"missing labels .* \[0\]"),
])
def test_group_labels_of_mixed_kinds_or_missing_are_refused(groups, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    with pytest.raises(ValueError, match=match):
        L0Regressor(k=1, groups=groups).fit(X, X[:, 0])


def test_nested_groups_are_refused_with_the_flat_form():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    with pytest.raises(ValueError, match=r"groups is a nested sequence \(1 entries, the first a "
                                         r"list of 5\).*e.g. groups=\[0, 0, 1, 1, 1\]"):
        L0Regressor(k=1, groups=[[0, 0, 1, 1, 1]]).fit(X, X[:, 0])


def test_groups_as_lists_of_member_columns_get_the_right_flat_form():
    # skglm's form, the columns of each group: the message suggested the
    # first entry, groups=[0, 1], which is no labelling of 5 columns.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    with pytest.raises(ValueError, match=r"if each entry lists the columns of one group, "
                                         r"that is groups=\[1, 0, 1, 0, 1\]\.$"):
        L0Regressor(k=1, groups=[[3, 1], [2, 0, 4]]).fit(X, X[:, 0])
    df = pd.DataFrame(X, columns=list("abcde"))
    with pytest.raises(ValueError, match=r"group_of = .*groups = \[group_of\[c\] for c in "
                                         r"X.columns\]") as info:
        L0Regressor(k=1, groups=[["a", "b"], ["c", "d", "e"]]).fit(df, X[:, 0])
    assert "e.g. groups=['a', 'b']" not in str(info.value)


def test_tuple_group_labels_in_a_list():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    m = L0Regressor(k=1, groups=[("a", 1), ("a", 1), ("b", 2), ("b", 2)]).fit(X, X[:, 2])
    assert m.group_labels_.tolist() == [("a", 1), ("b", 2)]
    assert m.get_support(indices=True).tolist() == [2, 3]


def test_feature_cost_dicts_name_their_keys():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 3)), columns=["age", "bmi", "bp"])
    y = df["age"] + rng.normal(size=60)
    with pytest.raises(ValueError, match=r"maps column indices 0..2 .* groups=list\(X.columns\)"):
        L0Regressor(k=1, feature_costs={"age": 1.0, "bmi": 5.0, "bp": 2.0}).fit(df, y)
    with pytest.raises(ValueError, match=r"costs for \['c_typo'\], which are not group labels"):
        L0Regressor(k=1, groups=["a", "a", "b"],
                    feature_costs={"a": 1.0, "b": 1.0, "c_typo": 9.0}).fit(df, y)
    by_name = L0Regressor(k=1, groups=list(df.columns),
                          feature_costs={"age": 1.0, "bmi": 5.0, "bp": 2.0}).fit(df, y)
    assert by_name.get_support(indices=True).tolist() == [0]


def test_l0_path_ks_count_groups():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 6))
    groups = [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match=r"ks=\[5\] holds values larger .*\(n_groups=3\)"):
        l0_path(X, X[:, 0], ks=[5], groups=groups)
    path = l0_path(X, X[:, 0], ks=[1, 3], groups=groups)
    assert path.n_features.tolist() == [2, 6]


def test_group_ebic_scores_the_path_own_supports(monkeypatch):
    # The group EBIC choice is at least as good, by its own criterion, as
    # every path point's set of groups up to the cap (as the column version
    # scores every path support), not only as the polished sets. With a
    # polish that proposes poor sets (the first s groups), the path's own
    # supports must still be candidates.
    import math

    import skl0._group_select as gs
    import skl0._selection as selection
    from skl0._criteria import _deviance, df_per_feature, ebic_gamma, max_support_size
    from skl0._refit import refit_linear_head

    def poor_polish(problem, layout, start, alpha=0.0, **kwargs):
        groups = np.arange(start.size)
        head, loss = refit_linear_head(problem, layout.columns(groups), alpha=alpha)
        return groups, head, loss

    seen = {}
    select = gs.select_groups_by_ebic

    def spy(problem, layout, points, alpha):
        out = select(problem, layout, points, alpha)
        seen.update(problem=problem, layout=layout, points=points, alpha=alpha, chosen=out[0])
        return out

    monkeypatch.setattr(gs, "splice_groups", poor_polish)
    monkeypatch.setattr(selection, "select_groups_by_ebic", spy)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 16))
    y = X[:, 12:16].sum(1) + 0.5 * rng.standard_normal(300)  # the last two groups
    L0Regressor(groups=np.repeat(np.arange(8), 2)).fit(X, y)

    problem, layout, alpha = seen["problem"], seen["layout"], seen["alpha"]
    n, q, G = problem.n_samples, df_per_feature(problem.datafit), layout.n_groups
    ranks, gamma = gs.group_ranks(problem, layout), ebic_gamma(n, G)

    def value(groups):
        head, loss = refit_linear_head(problem, layout.columns(groups), alpha=alpha)
        return (_deviance(problem, head, loss) + int(ranks[groups].sum()) * q * math.log(n)
                + 2 * gamma * gs._log_binom(G, groups.size))

    path = [layout.groups_of(pt.support) for pt in seen["points"]]
    admitted = [g for g in path if g.size <= max_support_size(n, G)]
    chosen = layout.groups_of(seen["chosen"].support)
    assert value(chosen) <= min(value(g) for g in admitted) + 1e-9
    np.testing.assert_array_equal(chosen, [6, 7])


@pytest.mark.parametrize("seed", [0, 20])
def test_group_swaps_on_more_columns_than_rows_end_where_no_single_swap_helps(seed):
    # Exact k over groups on a row problem of squared loss searches from its
    # X'WX (exact sacrifices, three groups swapped in a round), as on a Gram
    # problem. Before (session 26) the rows' search tried one group a round
    # and stopped where swapping one kept group for another lowered the
    # least-squares loss (on these seeds by 5% and 14%): 60 groups of 5
    # correlated columns on 100 rows, 4 groups carrying the signal.
    X, y, _, groups = make_group_regression(random_state=seed)

    def rss(gs):
        cols = np.flatnonzero(np.isin(groups, gs))
        Xc, yc = X[:, cols] - X[:, cols].mean(0), y - y.mean()
        r = yc - Xc @ np.linalg.lstsq(Xc, yc, rcond=None)[0]
        return r @ r

    kept = np.unique(groups[L0Regressor(k=8, groups=groups).fit(X, y).support_])
    assert kept.size == 8
    now = rss(kept)
    for a in kept:
        for b in np.setdiff1d(np.arange(60), kept):
            assert rss(np.where(kept == a, b, kept)) >= now * (1 - 1e-6), (a, b)


def test_auto_over_groups_keeps_no_more_columns_than_its_criterion_considers():
    # lam="auto" over groups also caps the kept groups' summed rank at the
    # support size EBIC considers over the columns. With unequal costs on 20
    # groups of 5 columns and 100 rows it had kept 19 groups (95 columns),
    # whose near-interpolating fit EBIC scored best.
    from skl0._criteria import max_support_size

    X, y, coef, groups = make_group_regression(100, 20, 5, 3, random_state=1)
    costs = np.random.RandomState(2).uniform(0.5, 2, 20)
    est = L0Regressor(groups=groups, feature_costs=costs, random_state=0).fit(X, y)
    assert 0 < est.support_.sum() <= max_support_size(100, 100)
    assert set(groups[est.support_]) <= set(groups[coef != 0])


def test_auto_over_groups_searches_sizes_past_the_paths_largest_set():
    # y = 10 x0 + 0.08 (x2 + ... + x5): groups 1 and 2 explain 1.3e-4 of y's
    # variance each, and even the path's densest point kept group 0 alone;
    # against the residual variance each is worth ~26 nats, above their
    # price 2 log n = 15.2. The search over sizes stopped at the
    # path's largest set (and at G - 1): group 0, 6.8 above the minimum.
    import itertools
    import math

    from skl0._criteria import ebic_gamma

    rng = np.random.RandomState(2)
    n, groups = 2000, np.array([0, 0, 1, 1, 2, 2])
    X = rng.randn(n, 6)
    y = 10 * X[:, 0] + 0.08 * X[:, 2:].sum(1) + rng.randn(n)

    def value(kept):
        A = np.column_stack([np.ones(n), X[:, np.isin(groups, kept)]])
        r = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
        return (n * math.log(r @ r / n) + 2 * len(kept) * math.log(n)
                + 2 * ebic_gamma(n, 3) * math.log(math.comb(3, len(kept))))

    lowest = min(value(G) for s in range(4) for G in itertools.combinations(range(3), s))
    est = L0Regressor(groups=groups).fit(X, y)
    assert value(tuple(np.flatnonzero(est.group_support_))) - lowest < 1e-6


def test_a_series_of_groups_keyed_by_column_names_in_another_order_is_refused():
    # Read by position, pd.Series({"a": "g1", "d": "g1", ...}) grouped a with b
    # and c with d, silently: the selector kept [a, b] for the signal in a and d.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6))
    y = 2 * X[:, 0] - X[:, 3] + 0.1 * rng.normal(size=80)
    df = pd.DataFrame(X, columns=list("abcdef"))
    groups = pd.Series({"a": "g1", "d": "g1", "b": "g2", "c": "g2", "e": "g3", "f": "g3"})
    for est in (L0FeatureSelector(k=1, groups=groups), L0Regressor(k=1, groups=groups)):
        with pytest.raises(ValueError, match=r"indexed by X's column names, but in another "
                                             r"order.*groups=groups\[X.columns\]"):
            est.fit(df, y)
        with pytest.raises(ValueError, match="in another order"):
            est.partial_fit(df, y)
        est.set_params(groups=groups[df.columns]).fit(df, y)  # X's order: read by position
        assert est.get_support(indices=True).tolist() == [0, 3]
    # without column names (numpy X) or keyed by other labels: by position, as before
    sel = L0FeatureSelector(k=1, groups=groups).fit(X, y)
    assert sel.get_support(indices=True).tolist() == [0, 1]


@pytest.mark.parametrize(("groups", "match"), [
    ({"a": [0, 1], "b": [2, 3, 4]}, r"groups is a dict \(2 keys\), but skl0 reads groups as "
                                     r"one label per column of X.*\(5 columns\); if it maps "
                                     r"each group to its columns, build group_of"),
    ({f"x{j}": j // 2 for j in range(5)}, r"if it maps each column to its group, pass "
                                          r"groups=\[groups\[c\] for c in X.columns\]"),
])
def test_a_dict_of_groups_gets_the_sequence_to_pass(groups, match):
    # was "groups has shape (), but X has 5 columns"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    with pytest.raises(ValueError, match=match):
        L0Regressor(k=1, groups=groups).fit(X, X[:, 0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_group_gate_prices_groups_at_the_fits_precision(dtype):
    """The gate's cost buffer was made in float32 and then cast, so a float64
    fit (an MLP head on float64 X) priced each group at its float32 rounding."""
    import torch

    from skl0._group_gate import GroupGate
    from skl0._groups import resolve_groups

    layout = resolve_groups(None, [1.0, 2.0, 3.0, 1.0, 1.7], 5)
    dt = getattr(torch, dtype)
    gate = GroupGate(layout).to(dtype=dt)
    costs = torch.as_tensor(layout.costs, dtype=torch.float64).to(dt)
    assert gate.costs.dtype == dt
    assert torch.equal(gate.costs, costs)
    expected = (costs * gate.group_prob_open()).sum()
    assert torch.equal(gate.expected_l0(), expected)
