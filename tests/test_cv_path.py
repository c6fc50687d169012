"""l0_path, the CV estimators and plot_path: shapes, rules, agreement, errors."""

import inspect
import pickle
import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from skl0 import (
    L0Classifier,
    L0ClassifierCV,
    L0FeatureSelectorCV,
    L0Path,
    L0Regressor,
    L0RegressorCV,
    l0_path,
)
from skl0._criteria import choose_index
from skl0.datasets import make_sparse_classification, make_sparse_regression
from skl0.plot import plot_path

FAST = dict(max_iter=60, random_state=0)
GRID = np.geomspace(1e-3, 0.3, 6)


@pytest.fixture(scope="module")
def reg():
    """n=200, p=12, 3 true features."""
    return make_sparse_regression(200, 12, 3, random_state=1)


@pytest.fixture(scope="module")
def clf():
    return make_sparse_classification(300, 10, 2, random_state=0)


@pytest.fixture(scope="module")
def reg_cv(reg):
    X, y, _, _ = reg
    return L0RegressorCV(lams=GRID, cv=3, **FAST).fit(X, y)


# ------------------------------------------------------------------- l0_path
def test_path_shapes_and_sparsity(reg):
    X, y, _, support = reg
    path = l0_path(X, y, lams=GRID[::-1], **FAST)  # any order: walked increasing
    assert isinstance(path, L0Path) and len(path) == GRID.size
    np.testing.assert_allclose(path.lams, GRID)
    assert path.support.shape == path.prob_open.shape == (GRID.size, X.shape[1])
    np.testing.assert_array_equal(path.n_features, path.support.sum(1))
    assert path.loss.shape == path.n_iter.shape == (GRID.size,)
    # From many features to few; gates may reopen a little on the way.
    assert path.n_features[0] == path.n_features.max() >= path.n_features[-1]
    assert (np.diff(path.n_features) > 0).sum() <= 1
    assert set(support) <= set(np.flatnonzero(path.support[0]))


def test_path_repeated_lams_give_one_point_each(reg):
    # Documented: one point per distinct lam, sorted (len(path) != len(lams)).
    X, y, _, _ = reg
    path = l0_path(X, y, lams=[0.1, 0.01, 0.1, 0.01], **FAST)
    np.testing.assert_allclose(path.lams, [0.01, 0.1])
    assert len(path) == len(path.to_frame()) == 2


def test_path_ks_give_exactly_k_nested_features(reg):
    X, y, _, support = reg
    ks = [5, 1, 3]
    path = l0_path(X, y, ks=ks, refit=True, **FAST)
    np.testing.assert_array_equal(path.n_features, ks)
    np.testing.assert_array_equal(path.ks, ks)
    assert np.all(path.support[1] <= path.support[2]) and np.all(path.support[2] <= path.support[0])
    assert set(np.flatnonzero(path.support[2])) == set(support)
    assert path.loss[1] > path.loss[2] >= path.loss[0] - 1e-6  # refitted: more is better


def test_path_frame_uses_column_names_and_is_deterministic(reg):
    X, y, _, _ = reg
    Xdf = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    state = torch.get_rng_state()
    a = l0_path(Xdf, y, lams=GRID[:3], **FAST)
    b = l0_path(Xdf, y, lams=GRID[:3], **FAST)
    assert torch.equal(state, torch.get_rng_state())
    np.testing.assert_array_equal(a.support, b.support)
    np.testing.assert_array_equal(a.loss, b.loss)
    frame = a.to_frame()
    assert list(frame.columns) == ["lam", "n_features", "loss", "n_iter", "features"]
    assert all(name.startswith("f") for name in frame["features"][0])


def test_path_classification_and_stop_after_all_closed(clf):
    X, y, _, _ = clf
    lams = [1e-3, 50.0, 100.0, 200.0, 400.0, 800.0]
    path = l0_path(X, y, lams=lams, max_iter=150, random_state=0)
    # Once every gate has closed the walk stops; later points repeat the empty model.
    empty = np.flatnonzero(path.n_features == 0)
    assert 0 < empty[0] < len(lams) - 1
    assert np.all(path.n_features[empty[0]:] == 0)
    assert np.all(path.n_iter[empty[0] + 1:] == 0) and path.n_iter[empty[0]] > 0
    np.testing.assert_allclose(path.lams, lams)


def test_path_step_budgets():
    from skl0._walk import path_budgets

    grid = np.geomspace(1e-4, 0.5, 30)
    budgets = path_budgets(grid, 300)
    assert budgets[0] == 200 and len(budgets) == 30
    assert all(10 <= b <= 100 for b in budgets[1:]) and max(budgets[1:]) == 22
    # About the same total whatever the number of points, never above
    # the walk of lam="auto" (a third of max_iter a point).
    dense = path_budgets(np.geomspace(1e-4, 0.5, 60), 300)
    assert abs(sum(dense[1:]) - sum(budgets[1:])) <= 0.25 * sum(budgets[1:])
    assert path_budgets(np.geomspace(1e-4, 0.5, 3), 300)[1:] == [100, 100]
    assert path_budgets([0.0, 0.1], 60) == [40, 20]


def test_warm_path_points_converge_in_few_iterations(reg):
    # Linear heads: each point is solved to convergence by L-BFGS-B from the
    # previous one; a point where no gate moves costs a few iterations.
    X, y, _, support = reg
    grid = np.geomspace(1e-4, 0.5, 30)
    path = l0_path(X, y, lams=grid, max_iter=300, random_state=0)
    assert np.all(path.n_iter <= 300)
    assert path.n_iter.sum() <= 3 * 300  # the cost target of issue 5
    assert np.any(path.n_iter[1:] < 10)  # converged warm points stop early
    assert any(set(np.flatnonzero(row)) == set(support) for row in path.support)


@pytest.mark.parametrize(
    "task, solver",
    [("regression", None), ("classification", "numpy"), ("classification", "torch")],
)
def test_refit_cache_gives_the_same_heads(reg, clf, task, solver):
    from skl0._l0_path import RefitCache
    from skl0._refit import refit_linear_head
    from skl0._walk import Walk

    # solver="torch": the solver of the other devices, warm-started too.
    X, y, _, _ = reg if task == "regression" else clf
    cls = L0Regressor if task == "regression" else L0Classifier
    seen = {}

    def reader(est, problem, gate, head, points):
        cache = RefitCache(problem, est.alpha, solver=solver)
        for pt in points:
            cached_head, cached_loss = cache(pt.support)
            fresh_head, fresh_loss = refit_linear_head(
                problem, pt.support, alpha=est.alpha, solver=solver
            )
            # Squared loss: the same closed form; log loss: the same optimum
            # from a warm start.
            tol = 0 if task == "regression" else 1e-4
            np.testing.assert_allclose(cached_loss, fresh_loss, rtol=tol, atol=tol)
            np.testing.assert_allclose(
                cached_head.weight.detach(), fresh_head.weight.detach(), atol=10 * tol
            )
            assert cache(pt.support)[0] is cached_head  # no second refit
        seen["refits"] = cache.n_refits
        seen["supports"] = len({pt.support.tobytes() for pt in points})

    cls(**FAST)._fit(X, y, None, walk=Walk(np.geomspace(1e-3, 0.3, 8), reader=reader))
    assert seen["refits"] == seen["supports"]


def test_path_refit_losses_match_single_refits(reg):
    X, y, _, _ = reg
    path = l0_path(X, y, lams=GRID, refit=True, **FAST)
    for row, loss in zip(path.support, path.loss):
        # Least squares on the support, on the standardized target.
        cols = np.flatnonzero(row)
        Xs = (X - X.mean(0)) / X.std(0)
        ys = (y - y.mean()) / y.std()
        coef = np.linalg.lstsq(Xs[:, cols], ys, rcond=None)[0] if cols.size else []
        mse = np.mean((ys - Xs[:, cols] @ coef) ** 2) if cols.size else 1.0
        np.testing.assert_allclose(loss, mse, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_numpy_refit_matches_torch_refit(clf, n_classes):
    """The CPU solver of the logistic refit reaches the torch L-BFGS optimum."""
    from skl0._refit import refit_linear_head
    from skl0._walk import Walk

    X, y, _, _ = clf
    if n_classes == 3:
        score = X[:, :3].sum(1)
        y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    heads = {}

    def reader(est, problem, gate, head, points):
        support = points[-1].support
        heads["numpy"] = refit_linear_head(problem, support, alpha=1e-3)  # the CPU default
        heads["torch"] = refit_linear_head(problem, support, alpha=1e-3, solver="torch")

    L0Classifier(**FAST)._fit(X, y, None, walk=Walk(np.array([1e-3, 1e-2]), reader=reader))
    np.testing.assert_allclose(heads["numpy"][1], heads["torch"][1], rtol=1e-4)
    np.testing.assert_allclose(
        heads["numpy"][0].weight.detach(), heads["torch"][0].weight.detach(), atol=2e-3
    )


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(lams=[-1.0, 0.1]), "lams"),
        (dict(lams=[]), "lams"),
        (dict(ks=[0.5]), "ks"),
        (dict(ks=[99]), "ks"),
        (dict(n_lams=0), "n_lams"),
        (dict(task="ranking"), "task"),
        (dict(max_iter=0), "max_iter"),
    ],
)
def test_path_bad_parameters_are_named(reg, kw, match):
    X, y, _, _ = reg
    with pytest.raises(ValueError, match=match):
        l0_path(X, y, **kw)


# ---------------------------------------------------------- CV estimators
def test_cv_attributes(reg, reg_cv):
    X, y, _, support = reg
    est = reg_cv
    n = GRID.size
    np.testing.assert_allclose(est.lams_, GRID)
    res = est.cv_results_
    for key in ["param_lam", "mean_test_score", "std_test_score", "rank_test_score",
                "mean_n_features", "split0_test_score", "split2_test_score"]:
        assert res[key].shape == (n,), key
    assert "split3_test_score" not in res and len(res["params"]) == n
    assert res["rank_test_score"].min() == 1
    assert est.lam_ == est.lams_[est.best_index_] == est.path_.lams[est.best_index_]
    assert est.n_features_selected_.shape == (n,)
    assert est.support_.sum() == est.n_features_selected_[est.best_index_]
    assert pd.DataFrame(res).shape[0] == n
    # The chosen model is an ordinary fitted regressor.
    assert est.get_support(indices=True).tolist() == support.tolist()
    assert np.all(est.coef_[~est.support_] == 0) and est.score(X, y) > 0.7
    assert est.feature_importances_.shape == (X.shape[1],)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert not any(name.startswith("_path") or name in ("_grid", "_reader") for name in vars(est))


@pytest.mark.parametrize("cv_cls, parent", [(L0RegressorCV, L0Regressor),
                                            (L0ClassifierCV, L0Classifier)])
def test_cv_estimators_fix_the_parents_other_settings_at_its_defaults(cv_cls, parent):
    # The parent's fitting code reads every hyperparameter; those a CV
    # estimator does not expose are class attributes equal to the parent's
    # defaults (lam excepted: the CV estimator chooses it, as lam_).
    own = inspect.signature(cv_cls.__init__).parameters
    for name, par in inspect.signature(parent.__init__).parameters.items():
        if name in own or name in ("self", "lam"):
            continue
        assert hasattr(cv_cls, name), name
        assert getattr(cv_cls, name) == par.default, name
    est = cv_cls()
    assert "k" not in est.get_params() and est.k is None
    with pytest.raises(AttributeError):
        est.lam  # noqa: B018 -- never a silent default


def test_n_jobs_2_equals_n_jobs_1(reg, reg_cv):
    X, y, _, _ = reg
    par = L0RegressorCV(lams=GRID, cv=3, n_jobs=2, **FAST).fit(X, y)
    for key, value in reg_cv.cv_results_.items():
        if key != "params":
            np.testing.assert_allclose(par.cv_results_[key], value, rtol=1e-5, err_msg=key)
    assert par.lam_ == reg_cv.lam_
    np.testing.assert_array_equal(par.support_, reg_cv.support_)
    np.testing.assert_allclose(par.coef_, reg_cv.coef_, rtol=1e-5)


def test_one_se_is_sparser_or_equal_than_best(reg, reg_cv):
    X, y, _, _ = reg
    best = reg_cv  # the default
    one_se = L0RegressorCV(lams=GRID, cv=3, selection="one_se", **FAST).fit(X, y)
    res = best.cv_results_
    np.testing.assert_allclose(res["mean_test_score"], one_se.cv_results_["mean_test_score"])
    assert res["mean_test_score"][best.best_index_] == res["mean_test_score"].max()
    i, j = one_se.best_index_, best.best_index_
    assert res["mean_n_features"][i] <= res["mean_n_features"][j]
    se = res["std_test_score"][j] / np.sqrt(2)
    assert res["mean_test_score"][i] >= res["mean_test_score"][j] - se
    assert one_se.support_.sum() <= best.support_.sum()


def test_choose_index_rules():
    mean = np.array([0.80, 0.90, 0.89, 0.70, np.nan])
    std = np.array([0.02, 0.02, 0.02, 0.02, 0.0])
    n_feat = np.array([9, 5, 3, 1, 0])
    assert choose_index(mean, std, n_feat, 5, "best") == 1
    assert choose_index(mean, std, n_feat, 5, "one_se") == 2  # 0.89 >= 0.90 - 0.01
    assert choose_index(mean, std * 0.1, n_feat, 5, "one_se") == 1
    assert choose_index(mean, std, n_feat, 1, "one_se") == 1  # no spread, no SE
    # Equal scores: the sparser point wins even under "best".
    assert choose_index(np.array([0.5, 0.5]), np.zeros(2), np.array([4, 2]), 3, "best") == 1


@pytest.mark.parametrize("lams", [GRID, [1e-3, 1e-2, 0.05]])
def test_agrees_with_grid_search_over_l0_regressor(reg, lams):
    """Same grid, folds and scorer as GridSearchCV over cold fits.

    Warm-started and cold fits differ slightly: later path points take
    fewer steps, so at the sparse end a path point may still hold a feature
    that a cold fit at the same lam has dropped, and equal scores (the same
    support) often span several lams. So the chosen points must score alike
    and be the same model (or one GridSearchCV scores as well), and the
    chosen lams must be equal where both score curves have a clear winner
    (which the second grid has).
    """
    X, y, _, _ = reg
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    kw = dict(max_iter=150, random_state=0)
    ours = L0RegressorCV(lams=lams, cv=folds, scoring="r2", **kw).fit(X, y)
    grid = GridSearchCV(L0Regressor(**kw), {"lam": lams}, cv=folds, scoring="r2").fit(X, y)
    tol, margin = 0.015, 0.01
    mine, theirs = ours.cv_results_["mean_test_score"], grid.cv_results_["mean_test_score"]
    # The chosen models score alike and are the same model...
    assert mine[ours.best_index_] == pytest.approx(theirs[grid.best_index_], abs=tol)
    same_model = np.array_equal(ours.support_, grid.best_estimator_.support_)
    assert same_model or theirs[ours.best_index_] >= theirs[grid.best_index_] - tol
    # ...and where both score curves have a clear winner, it is the same lam.
    def clear(scores):
        top2 = np.sort(scores)[-2:]
        return top2[1] - top2[0] > margin

    if clear(mine) and clear(theirs):
        assert ours.lam_ == pytest.approx(grid.best_params_["lam"])


def test_sample_weight_of_ones_changes_nothing(reg, reg_cv):
    X, y, _, _ = reg
    weighted = L0RegressorCV(lams=GRID, cv=3, **FAST).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(
        weighted.cv_results_["mean_test_score"], reg_cv.cv_results_["mean_test_score"], rtol=1e-6
    )
    assert weighted.lam_ == reg_cv.lam_


def test_classifier_cv_with_string_labels_and_log_loss(clf):
    X, y, _, support = clf
    labels = np.array(["no", "yes"])[y]
    est = L0ClassifierCV(n_lams=5, cv=3, scoring="neg_log_loss", **FAST).fit(X, labels)
    assert set(support) <= set(est.get_support(indices=True))
    assert est.predict_proba(X).shape == (len(y), 2)
    assert set(est.predict(X)) <= {"no", "yes"}
    assert np.all(est.cv_results_["mean_test_score"] < 0)
    assert est.coef_.shape == (1, X.shape[1])


def test_multi_output_regression(rng):
    X = rng.randn(150, 6)
    Y = np.column_stack([X[:, 0] - X[:, 1], 2 * X[:, 1]]) + 0.1 * rng.randn(150, 2)
    est = L0RegressorCV(n_lams=5, cv=3, **FAST).fit(X, Y)
    assert est.coef_.shape == (2, 6) and est.predict(X).shape == (150, 2)
    assert est.get_support(indices=True).tolist() == [0, 1]


def test_selector_cv_with_dataframe(reg):
    X, y, _, support = reg
    Xdf = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    sel = L0FeatureSelectorCV(lams=GRID, cv=3, **FAST).fit(Xdf, y)
    assert type(sel.estimator_).__name__ == "L0RegressorCV"
    assert sel.get_feature_names_out().tolist() == [f"f{j}" for j in support]
    assert sel.transform(Xdf).shape == (len(y), support.size)
    for name in ["lam_", "lams_", "best_index_", "cv_results_", "n_features_selected_", "path_"]:
        assert hasattr(sel, name), name
    assert sel.path_.feature_names.tolist() == Xdf.columns.tolist()
    # estimator_, fitted on the validated array, has the names too (as an
    # L0RegressorCV fitted on Xdf itself): its path_ had none beside them.
    assert sel.estimator_.path_.feature_names.tolist() == Xdf.columns.tolist()
    assert (sel.estimator_.path_.to_frame()["features"].tolist()
            == sel.path_.to_frame()["features"].tolist())


@pytest.mark.parametrize("split, match", [
    ((np.arange(0, 150), np.arange(150, 205)), "cv split 0: its held-out part does not index the 200"),
    ((np.arange(150), np.zeros(199, dtype=bool)), "held-out part does not index"),
    ((np.arange(150), np.array([], dtype=int)), "cv split 0 has no held-out rows"),
    ((np.array([], dtype=int), np.arange(150)), "cv split 0 has no training rows"),
])
def test_cv_splits_that_do_not_index_x_are_named(reg, split, match):
    # They failed with a bare IndexError, or "Found array with 0 sample(s)".
    X, y, _, _ = reg
    with pytest.raises(ValueError, match=match):
        L0RegressorCV(lams=GRID, cv=[split], **FAST).fit(X, y)


@pytest.mark.parametrize("cls", [L0RegressorCV, L0FeatureSelectorCV])
def test_cv_that_is_not_a_list_of_pairs_or_leaves_one_training_row_is_named(cls):
    # cv=[1] raised scikit-learn's "cannot unpack non-iterable int object";
    # two rows in two folds, "Found array with 1 sample(s) ... required by
    # L0Regressor" (the fold's fit, not the estimator called).
    X = np.random.RandomState(0).standard_normal((30, 4))
    y = X[:, 0]
    for cv in ([1], (1,)):
        with pytest.raises(ValueError, match=re.escape(f"cv={cv!r} is not a number of folds")):
            cls(cv=cv, n_lams=3).fit(X, y)
    # (_check_fold_sizes: the fold, cv and the fix named)
    with pytest.raises(ValueError, match=r"Fold 1 of 2 of cv=2 has 1 training row\(s\) of "
                                         r"X's 2, and a fit needs at least 2"):
        cls(cv=2, n_lams=3).fit(X[:2], y[:2])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_l0_path_names_y_when_it_is_not_finite(bad):
    # task="auto" read y before validating it: "Input contains NaN."
    X = np.random.RandomState(0).standard_normal((30, 4))
    y = X[:, 0].copy()
    y[3] = bad
    with pytest.raises(ValueError, match=r"Input y contains (NaN|infinity)"):
        l0_path(X, y)


@pytest.mark.parametrize("lams", [["auto", 0.1], [0.1, None]])
def test_cv_lams_that_are_not_numbers_are_named(reg, lams):
    # numpy's "could not convert string to float: 'auto'" named no parameter.
    X, y, _, _ = reg
    with pytest.raises(ValueError, match=r"lams=.* must be a non-empty 1-d sequence"):
        L0RegressorCV(lams=lams, cv=3, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"lams=.* must be a non-empty 1-d sequence"):
        l0_path(X, y, lams=lams, **FAST)


def test_cv_grid_attributes_are_separate_arrays(reg):
    # lams_, cv_results_["param_lam"] and path_.lams were one array: writing
    # into one changed the others.
    X, y, _, _ = reg
    est = L0RegressorCV(lams=GRID, cv=3, **FAST).fit(X, y)
    arrays = [est.lams_, est.cv_results_["param_lam"], est.path_.lams]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
    assert not np.shares_memory(est.lams_, GRID)


def _cv_both_ways(monkeypatch, X, y, sample_weight=None, **kw):
    """L0RegressorCV with its folds' problems from shared sums, and with each fold's own rows."""
    import skl0._fold_stats as fold_stats

    built = []
    build = fold_stats.FoldStatistics.build

    def spy(*args):
        built.append(build(*args))
        return built[-1]

    monkeypatch.setattr(fold_stats.FoldStatistics, "build", spy)
    shared = L0RegressorCV(random_state=0, **kw).fit(X, y, sample_weight=sample_weight)
    monkeypatch.setattr(fold_stats.FoldStatistics, "build", lambda *args: None)
    own = L0RegressorCV(random_state=0, **kw).fit(X, y, sample_weight=sample_weight)
    return shared, own, built[0] is not None


def _offset_design():
    X, y, _, _ = make_sparse_regression(400, 12, 3, random_state=3)
    X[:, 5] = 7.0  # constant
    X[:, 6] += 1e6  # a large offset: shifted before the computation dtype
    return X, y


@pytest.mark.parametrize("case", ["int", "shuffled", "shuffle_split", "masks", "weights",
                                  "float32", "multi_output", "huge_y", "scaled_in_a_fold"])
def test_cv_folds_from_shared_sums_equal_folds_fitted_on_their_rows(monkeypatch, case):
    # A regressor's folds build their Gram problems from sums formed in one
    # pass over X (skl0._fold_stats), not from gathered rows: the same
    # scores, choice and model up to round-off.
    from sklearn.model_selection import ShuffleSplit

    X, y = _offset_design()
    kw, sw = dict(n_lams=8, cv=4), None
    if case == "shuffled":
        kw["cv"] = KFold(3, shuffle=True, random_state=1)
    elif case == "shuffle_split":  # rows in no held-out part, and overlapping parts
        kw["cv"] = ShuffleSplit(4, test_size=0.3, random_state=1)
    elif case == "masks":
        fold = np.arange(len(y)) % 3
        kw["cv"] = [(fold != i, fold == i) for i in range(3)]
    elif case == "weights":
        sw = np.random.RandomState(0).randint(0, 3, len(y)).astype(float)
    elif case == "float32":
        X = X.astype(np.float32)
    elif case == "multi_output":
        y = np.column_stack([y, 2 * X[:, 0] - y])
    elif case == "huge_y":
        y = 1e200 * y + 3e201
    elif case == "scaled_in_a_fold":  # under 2**-16 in fold 0's rows only: scaled there
        X[:, 2] = 1e-6 * X[:, 2]
        X[-1, 2] = 1.0
    shared, own, used = _cv_both_ways(monkeypatch, X, y, sw, **kw)
    assert used
    tol = 1e-5 if case == "float32" else 1e-9
    np.testing.assert_allclose(shared.cv_results_["mean_test_score"],
                               own.cv_results_["mean_test_score"], rtol=tol, atol=tol)
    np.testing.assert_array_equal(shared.cv_results_["mean_n_features"],
                                  own.cv_results_["mean_n_features"])
    assert shared.lam_ == own.lam_
    np.testing.assert_array_equal(shared.support_, own.support_)
    np.testing.assert_allclose(shared.coef_, own.coef_, rtol=tol, atol=tol * np.abs(own.coef_).max())
    np.testing.assert_allclose(shared.intercept_, own.intercept_, rtol=tol)


@pytest.mark.parametrize("case", ["repeated_row", "few_rows", "extreme_column", "leave_one_out"])
def test_cv_folds_prepare_their_own_rows_where_shared_sums_do_not_apply(monkeypatch, case):
    from sklearn.model_selection import LeaveOneOut

    X, y = _offset_design()
    kw = dict(n_lams=5, cv=3)
    if case == "repeated_row":  # a fold trains on row 0 twice: X[train] repeats it
        train = np.r_[0, np.arange(0, 300)]
        kw["cv"] = [(train, np.arange(300, 400))]
    elif case == "few_rows":  # a fold with no more rows than columns fits on its rows
        kw["cv"] = [(np.arange(12), np.arange(12, 400))]
    elif case == "extreme_column":  # squares past float64's range: each fold scales its rows
        X[:, 2] *= 1e200
    elif case == "leave_one_out":  # a group of rows per fold: past MAX_GROUPS
        X, y = X[:70], y[:70]
        kw.update(cv=LeaveOneOut(), scoring="neg_mean_squared_error")
    shared, own, used = _cv_both_ways(monkeypatch, X, y, **kw)
    assert not used
    np.testing.assert_array_equal(shared.cv_results_["mean_test_score"],
                                  own.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(shared.coef_, own.coef_)


def test_cv_folds_from_shared_sums_keep_a_spread_far_from_the_held_out_rows(monkeypatch):
    # Column 0 has spread 1e-9 in the first four folds' rows and sits near 1
    # in the fifth's: the fifth fold trains on a spread 1e-9 around 0, 0.2
    # from the data's mean. Sums about the data's mean lost (0.2 / 1e-9)**2
    # of float64's digits there: its spread came out wrong by orders of
    # magnitude, and so did its scores (relative difference 1.0, another
    # mean_n_features); each group's sums about its own mean lose none.
    rs = np.random.RandomState(0)
    X = rs.randn(500, 6)
    X[:400, 0] = 1e-9 * rs.randn(400)
    X[400:, 0] = 1.0 + rs.randn(100)
    y = X[:, 1] + 0.1 * rs.randn(500)
    y[:400] += 1e9 * X[:400, 0]
    shared, own, used = _cv_both_ways(monkeypatch, X, y, n_lams=8, cv=5)
    assert used
    np.testing.assert_allclose(shared.cv_results_["split4_test_score"],
                               own.cv_results_["split4_test_score"], rtol=1e-9)
    np.testing.assert_array_equal(shared.cv_results_["mean_n_features"],
                                  own.cv_results_["mean_n_features"])
    np.testing.assert_allclose(shared.coef_, own.coef_, rtol=1e-9)


def test_cv_folds_from_shared_sums_ignore_the_targets_of_weightless_rows(monkeypatch):
    # A row of weight 0 whose y is 1e154 where the others' are near 1e-160:
    # y / U (U set by the weighted rows) overflowed to inf in the shared
    # sums, inf * 0 made X'Wy NaN and every fit failed ("training loss
    # became nan"); a fit on the rows encodes such a row's target as 0.
    rs = np.random.RandomState(0)
    X = rs.randn(200, 5)
    y = 1e-160 * (X[:, 1] + 0.1 * rs.randn(200))
    sw = np.ones(200)
    sw[7], y[7] = 0.0, 1e154
    shared, own, used = _cv_both_ways(monkeypatch, X, y, sw, n_lams=5, cv=3)
    assert used
    np.testing.assert_allclose(shared.cv_results_["mean_test_score"],
                               own.cv_results_["mean_test_score"], rtol=1e-9)
    np.testing.assert_allclose(shared.coef_, own.coef_, rtol=1e-9)


def test_cv_folds_ignore_the_x_of_weightless_rows(monkeypatch):
    # A row of weight 0 holding 1e40 in column 1: its value set the
    # column's units in the shared sums' extremes (and in a fold's own
    # rows), so column 1 was fitted at ~1e-40 of its spread. Both ways now
    # fit as with an ordinary value in that row.
    rs = np.random.RandomState(0)
    X = rs.randn(200, 5)
    y = X[:, 1] + 0.5 * X[:, 3] + 0.1 * rs.randn(200)
    sw = np.ones(200)
    sw[7] = 0.0
    X_far = X.copy()
    X_far[7, 1] = 1e40
    shared, own, used = _cv_both_ways(monkeypatch, X_far, y, sw, n_lams=5, cv=3)
    assert used
    plain = L0RegressorCV(random_state=0, n_lams=5, cv=3).fit(X, y, sample_weight=sw)
    assert plain.get_support(indices=True).tolist() == [1, 3]
    for est in (shared, own):
        np.testing.assert_array_equal(est.get_support(), plain.get_support())
        np.testing.assert_allclose(est.cv_results_["mean_test_score"],
                                   plain.cv_results_["mean_test_score"], rtol=1e-9)
        np.testing.assert_allclose(est.coef_, plain.coef_, rtol=1e-9)


@pytest.mark.parametrize("heavy", ["all", "some"])
def test_cv_folds_from_shared_sums_take_weights_of_any_scale(monkeypatch, heavy):
    # Weights near 1e300 on a column near 1e5: w x^2 overflowed the shared
    # sums (scores 37% off the own-rows folds', another mean_n_features),
    # where a fit on the rows divides its weights by their total first.
    X, y = _offset_design()
    X[:, 4] *= 1e5
    sw = np.full(len(y), 1e300) if heavy == "all" else np.where(
        np.arange(len(y)) < 200, 1.0, 1e300)
    shared, own, used = _cv_both_ways(monkeypatch, X, y, sw, n_lams=5, cv=3)
    assert used
    np.testing.assert_allclose(shared.cv_results_["mean_test_score"],
                               own.cv_results_["mean_test_score"], rtol=1e-9)
    np.testing.assert_allclose(shared.coef_, own.coef_, rtol=1e-9)


def test_shared_sums_read_an_unshuffled_kfold_in_place():
    # KFold's groups come in runs of rows, in decreasing order of their
    # codes: the test for sorted groups missed them and gathered a copy of
    # every block (peak 2.16x X here, one 16 MB work block plus the copy, where
    # the folds preparing their own rows peaked at 1.9x X over a whole CV).
    import tracemalloc

    from skl0._fold_stats import FoldStatistics

    X = np.random.RandomState(0).randn(20000, 100)  # 16 MB: one work block
    y = X[:, 0].copy()
    splits = list(KFold(5).split(X))
    tracemalloc.start()
    try:
        FoldStatistics.build(X, y, np.ones(len(y)), splits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.nbytes


def test_a_fold_fitted_from_shared_sums_reads_no_rows():
    from skl0._fold_stats import FoldStatistics

    X, y = _offset_design()
    splits = list(KFold(3).split(X))
    sums = FoldStatistics.build(X, y, np.ones(len(y)), splits)
    stand_in = sums.stand_in(0, X.shape[1])
    assert stand_in.shape == (splits[0][0].size, X.shape[1]) and stand_in.dtype == X.dtype
    with pytest.raises(TypeError, match="no rows to read"):
        np.asarray(stand_in)
    # The sums of fold 0's rows are those of X[train] formed directly.
    fold, whole = sums.fold(0), sums.whole(len(y))
    Xt = X[splits[0][0]]
    np.testing.assert_allclose(fold.W, Xt.shape[0])
    np.testing.assert_allclose(fold.c0 + fold.s / fold.W, Xt.mean(0), rtol=1e-12)
    np.testing.assert_array_equal(fold.lo, Xt.min(0))
    np.testing.assert_array_equal(whole.hi, X.max(0))
    C = Xt - Xt.mean(0)
    d = Xt.mean(0) - fold.c0
    np.testing.assert_allclose(fold.S - fold.W * np.outer(d, d), C.T @ C, rtol=1e-9, atol=1e-6)


# ---------------------------------------------------- metadata for the splitter
@pytest.mark.parametrize("cls", [L0RegressorCV, L0ClassifierCV, L0FeatureSelectorCV])
def test_groups_reach_a_group_splitter_with_metadata_routing(reg, clf, cls):
    # As LassoCV: fit(X, y, groups=...) splits by the groups under routing,
    # the same folds as the explicit splits of GroupKFold.
    X, y, _, _ = clf if cls is L0ClassifierCV else reg
    groups = np.arange(len(y)) % 7
    splits = list(GroupKFold(3).split(X, y, groups))
    given = cls(lams=GRID, cv=splits, **FAST).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cls(lams=GRID, cv=GroupKFold(3), **FAST).fit(X, y, groups=groups)
    for name in ("split0_test_score", "split2_test_score", "mean_test_score"):
        np.testing.assert_array_equal(routed.cv_results_[name], given.cv_results_[name])
    assert routed.lam_ == given.lam_
    np.testing.assert_array_equal(routed.get_support(), given.get_support())


def test_groups_reach_the_inner_splitter_of_a_nested_cross_validation(reg):
    X, y, _, _ = reg
    groups = np.arange(len(y)) % 7
    outer = list(GroupKFold(2).split(X, y, groups))
    with sklearn.config_context(enable_metadata_routing=True):
        nested = cross_val_score(L0RegressorCV(lams=GRID, cv=GroupKFold(3), **FAST), X, y,
                                 cv=GroupKFold(2), params={"groups": groups})
    for (train, test), score in zip(outer, nested):
        inner = list(GroupKFold(3).split(X[train], y[train], groups[train]))
        est = L0RegressorCV(lams=GRID, cv=inner, **FAST).fit(X[train], y[train])
        assert est.score(X[test], y[test]) == score


def test_splitter_metadata_needs_routing_and_a_splitter_that_takes_it(reg):
    X, y, _, _ = reg
    groups = np.arange(len(y)) % 7
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        L0RegressorCV(lams=GRID, cv=GroupKFold(3), **FAST).fit(X, y, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match="groups"):  # KFold takes no groups
            L0RegressorCV(lams=GRID, cv=KFold(3), **FAST).fit(X, y, groups=groups)
    for routing in (False, True):
        with sklearn.config_context(enable_metadata_routing=routing):
            est = L0RegressorCV(lams=GRID, cv=GroupKFold(3), **FAST)
            with pytest.raises(ValueError, match=r"fit\(X, y, groups=\.\.\.\)") as err:
                est.fit(X, y)
            assert "GroupKFold" in str(err.value) and not hasattr(est, "coef_")
            # Only a user without routing is told to turn it on.
            assert ("set_config" in str(err.value)) is not routing


@pytest.mark.parametrize("routing", [False, True])
def test_a_generator_of_splits_is_read_once_by_the_fit(reg, routing):
    # Routing asks the estimator for its splitter's requests; that must not
    # use up a one-shot cv (it did: the fit then had no splits left).
    X, y, _, _ = reg
    listed = L0RegressorCV(lams=GRID, cv=list(KFold(3).split(X)), **FAST).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=routing):
        for cls in (L0RegressorCV, L0FeatureSelectorCV):
            est = cls(lams=GRID, cv=KFold(3).split(X), **FAST).fit(X, y)
            np.testing.assert_array_equal(est.cv_results_["mean_test_score"],
                                          listed.cv_results_["mean_test_score"])
            coef = est.estimator_.coef_ if cls is L0FeatureSelectorCV else est.coef_
            with pytest.raises(ValueError, match="gave no .train, test. splits.*list"):
                est.fit(X, y)  # the generator is used up
            np.testing.assert_array_equal(
                est.estimator_.coef_ if cls is L0FeatureSelectorCV else est.coef_, coef)


def _class_in_one_group():
    """Three classes, class 2 in the first of six groups of rows: a GroupKFold(3)
    training fold lacks it."""
    rng = np.random.RandomState(0)
    X = rng.randn(120, 5)
    y = (X[:, 0] > 0).astype(int)
    y[:5] = 2
    splits = list(GroupKFold(3).split(X, y, np.repeat(np.arange(6), 20)))
    assert any(2 not in y[train] for train, _ in splits)
    return X, y, splits


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.parametrize("scoring", ["neg_log_loss", "top_k_accuracy", "f1_macro"])
def test_classifier_cv_scores_folds_that_lack_a_class(scoring):
    # Class 2 lives in one group: one training fold lacks it, and the other
    # folds' held-out rows do. As LogisticRegressionCV, every fold is scored
    # with all three classes (it failed on "y_true and y_prob contain
    # different number of classes").
    X, y, splits = _class_in_one_group()
    assert any(2 not in y[test] for _, test in splits)
    est = L0ClassifierCV(n_lams=5, cv=splits, scoring=scoring, **FAST).fit(X, y)
    for i in range(3):
        assert np.all(np.isfinite(est.cv_results_[f"split{i}_test_score"]))
    assert est.classes_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("labels", [[0, 1], ["no", "yes"]])
def test_binary_classifier_cv_scores_a_held_out_fold_of_one_class(labels):
    # Two classes: every training fold holds both, but a held-out fold may
    # hold one. neg_log_loss then needs to be told both classes, as
    # LogisticRegressionCV tells it; it failed on "y_true contains only one
    # label". The fold that holds both scores as before.
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = np.array(labels)[(X[:, 0] + 0.5 * rng.randn(60) > 0).astype(int)]
    ones = np.flatnonzero(y == labels[1])[:8]
    both = np.r_[ones[:3], np.flatnonzero(y == labels[0])[:5]]
    folds = [(np.setdiff1d(np.arange(60), t), t) for t in (ones, both)]
    est = L0ClassifierCV(lams=[1e-3, 0.05, 0.5], cv=folds, scoring="neg_log_loss", **FAST)
    est.fit(X, y)
    assert np.all(np.isfinite(est.cv_results_["split0_test_score"]))
    alone = L0ClassifierCV(lams=[1e-3, 0.05, 0.5], cv=folds[1:], scoring="neg_log_loss",
                           **FAST).fit(X, y)
    np.testing.assert_array_equal(est.cv_results_["split1_test_score"],
                                  alone.cv_results_["split0_test_score"])


def test_a_fold_model_without_a_class_gives_it_probability_zero():
    from sklearn.metrics import get_scorer, log_loss

    from skl0._compat import scorer_with_labels
    from skl0._cv import _AllClasses

    rng = np.random.RandomState(1)
    X = rng.randn(90, 4)
    y = np.array(["a", "c"])[(X[:, 0] > 0).astype(int)]
    fold = L0Classifier(k=1, **FAST).fit(X, y)
    seen = _AllClasses(fold, np.array(["a", "b", "c"]))
    P = seen.predict_proba(X)
    np.testing.assert_array_equal(P[:, [0, 2]], fold.predict_proba(X))
    assert np.all(P[:, 1] == 0) and np.array_equal(seen.predict(X), fold.predict(X))
    assert not hasattr(seen, "decision_function")
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(seen.predict_log_proba(X), np.log(P))
    # Far from the boundary the fold model's probabilities underflow; its
    # own logs stay finite, and so do the wrapper's (-inf: the unseen class).
    far = X * 1e4
    logs = seen.predict_log_proba(far)
    np.testing.assert_array_equal(logs[:, [0, 2]], fold.predict_log_proba(far))
    assert np.all(np.isfinite(logs[:, [0, 2]])) and np.all(logs[:, 1] == -np.inf)
    assert seen.score(X, y) == fold.score(X, y) and seen.support_ is fold.support_
    scorer = scorer_with_labels(get_scorer("neg_log_loss"), seen.classes_)
    assert scorer(seen, X, y) == -log_loss(y, P, labels=seen.classes_)
    accuracy = get_scorer("accuracy")
    assert scorer_with_labels(accuracy, seen.classes_) is accuracy  # takes no labels


def test_a_callable_scoring_reads_a_fold_model_without_a_class_as_any_other():
    # A callable scoring(estimator, X, y) got, on a fold whose training rows
    # lacked a class, a wrapper with predict and predict_proba only:
    # estimator.score or estimator.support_ failed with AttributeError.
    X, y, splits = _class_in_one_group()
    seen = []

    def scoring(est, X_test, y_test):
        seen.append(est.classes_.tolist())
        return est.score(X_test, y_test) - 1e-3 * est.support_.sum()

    est = L0ClassifierCV(n_lams=4, cv=splits, scoring=scoring, **FAST).fit(X, y)
    assert all(c == [0, 1, 2] for c in seen)
    plain = L0ClassifierCV(n_lams=4, cv=splits, scoring="accuracy", **FAST).fit(X, y)
    sizes = np.stack([np.asarray(est.cv_results_[f"split{i}_test_score"]) for i in range(3)])
    accuracy = np.stack([plain.cv_results_[f"split{i}_test_score"] for i in range(3)])
    gap = accuracy - sizes  # 1e-3 per kept feature, 5 columns
    assert np.all(gap >= 0) and np.all(gap <= 5e-3 + 1e-12) and np.any(gap > 0)


def test_weights_under_metadata_routing_fit_as_without_it(reg, reg_cv):
    X, y, _, _ = reg
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    plain = L0RegressorCV(lams=GRID, cv=3, **FAST).fit(X, y, sample_weight=w)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = L0RegressorCV(lams=GRID, cv=3, **FAST).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(routed.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])
    assert not np.array_equal(plain.cv_results_["mean_test_score"],
                              reg_cv.cv_results_["mean_test_score"])  # the weights count


# ------------------------------------------------------------ API and errors
def test_clone_and_get_params():
    est = L0ClassifierCV(lams=[0.01, 0.1], cv=4, scoring="accuracy", selection="best", n_jobs=2)
    params = est.get_params()
    assert {"lams", "n_lams", "cv", "scoring", "selection", "n_jobs"} <= set(params)
    assert not {"lam", "k", "refit", "hidden_layer_sizes"} & set(params)
    cloned = clone(est)
    assert cloned.get_params() == params and cloned is not est
    assert cloned.set_params(selection="one_se").selection == "one_se"
    assert L0RegressorCV().selection == "best"
    assert "task" in L0FeatureSelectorCV().get_params()


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(selection="worst"), "selection"),
        (dict(cv="five"), "cv"),
        (dict(scoring="not_a_scorer"), "scoring"),
        (dict(n_lams=0), "n_lams"),
        (dict(n_jobs="all"), "n_jobs"),
        (dict(max_iter=0), "max_iter"),
    ],
)
def test_bad_parameters_are_named(reg, kw, match):
    X, y, _, _ = reg
    with pytest.raises(InvalidParameterError, match=match):
        L0RegressorCV(**kw).fit(X, y)


@pytest.mark.parametrize("lams", [[-0.1, 0.1], [np.inf], []])
def test_bad_lams_are_named(reg, lams):
    X, y, _, _ = reg
    with pytest.raises(ValueError, match="lams"):
        L0RegressorCV(lams=lams).fit(X, y)


@pytest.mark.parametrize("cls", [L0RegressorCV, L0ClassifierCV])
@pytest.mark.parametrize("part", ["training", "held-out"])
@pytest.mark.parametrize("scoring", [None, "accuracy"])
def test_a_fold_whose_weights_are_all_zero_is_named(cls, part, scoring):
    # Held-out rows of weight 0 have no weighted score: the default R^2 and
    # accuracy failed on numpy's ZeroDivisionError ("Weights sum to zero"),
    # a scorer on scikit-learn's message about the weights as a whole, and a
    # classifier's training fold of weight 0 was said to hold "a single
    # class ('none')". Each now names the fold and the fix.
    X, y, _, _ = make_sparse_regression(60, 5, 2, random_state=0)
    if cls is L0ClassifierCV:
        y = (y > np.median(y)).astype(int)
    scoring = scoring if cls is L0ClassifierCV else scoring and "r2"
    w = np.ones(60)
    rows = np.arange(20, 40)
    w[rows] = 0.0
    rest = np.setdiff1d(np.arange(60), rows)
    fold = (rows, rest) if part == "training" else (rest, rows)
    est = cls(lams=[1e-3, 0.1], cv=[(np.arange(30), np.arange(30, 60)), fold],
              scoring=scoring, **FAST)
    with pytest.raises(ValueError, match=rf"(?s)Fold 2 of 2 of cv=.*sample_weight of its 20 "
                                         rf"{part} rows are all zero.*shuffle=True"):
        est.fit(X, y, sample_weight=w)
    est.fit(X, y)  # unweighted: nothing to refuse
    if part == "held-out" and scoring is not None:
        # a scorer that declines the weights scores them unweighted
        from sklearn.metrics import get_scorer

        with sklearn.config_context(enable_metadata_routing=True):
            est.set_params(scoring=get_scorer(scoring).set_score_request(sample_weight=False))
            est.fit(X, y, sample_weight=w)


def test_all_nan_scores_are_named(reg):
    X, y, _, _ = reg
    with pytest.raises(ValueError, match="score is NaN"):
        L0RegressorCV(lams=GRID[:2], cv=2, scoring=lambda est, X, y: np.nan, **FAST).fit(X, y)
    # A NaN score at some points only (here the densest ones): never chosen.
    def scorer(est, X, y):
        return np.nan if est.support_.sum() > 2 else est.score(X, y)

    cv = L0RegressorCV(lams=GRID, cv=2, scoring=scorer, **FAST).fit(X, y)
    means = cv.cv_results_["mean_test_score"]
    assert np.isnan(means).any() and np.isfinite(means[cv.best_index_])
    assert cv.best_index_ == np.nanargmax(means)


def test_too_many_folds_fails_and_keeps_the_fit(reg, reg_cv):
    X, y, _, _ = reg
    est = clone(reg_cv).fit(X, y)
    with pytest.raises(ValueError, match=r"cv=\d+ asks for more folds than the \d+ rows of X"):
        est.set_params(cv=len(y) + 1).fit(X, y)
    assert est.lam_ == reg_cv.lam_


# ------------------------------------------------------------------- plot
def test_plot_path_for_path_and_cv_estimator(reg, reg_cv):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, _, _ = reg
    ax = plot_path(reg_cv)
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "features selected"
    assert ax.right_ax.get_ylabel() == "mean CV score"
    assert any(line.get_linestyle() == "--" for line in ax.get_lines())  # chosen lam
    _, ax2 = plt.subplots()
    path = l0_path(X, y, lams=[0.0, 0.01, 0.1], **FAST)
    assert plot_path(path, ax=ax2) is ax2 and ax2.get_xscale() == "symlog"
    plt.close("all")
    with pytest.raises(TypeError, match="L0Path"):
        plot_path(L0RegressorCV())


def test_plot_path_without_matplotlib(monkeypatch, reg_cv):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_path(reg_cv)


def test_default_scoring_equals_the_r2_scorer(reg):
    # scoring=None scores each support by score() on rows validated once;
    # it must give what scikit-learn's "r2" scorer gives, weights included.
    X, y, _, _ = reg
    sw = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    a = L0RegressorCV(lams=GRID, cv=folds, **FAST).fit(X, y, sample_weight=sw)
    b = L0RegressorCV(lams=GRID, cv=folds, scoring="r2", **FAST).fit(X, y, sample_weight=sw)
    for key in ("split0_test_score", "split2_test_score", "mean_test_score"):
        np.testing.assert_allclose(a.cv_results_[key], b.cv_results_[key], rtol=1e-10)
    assert a.best_index_ == b.best_index_


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_default_scoring_equals_the_accuracy_scorer(n_classes):
    # L0ClassifierCV's scoring=None scores each support by _score_validated
    # on rows validated once: it must give what scikit-learn's "accuracy"
    # scorer gives, fold by fold, with string labels and weights.
    from sklearn.datasets import make_classification

    X, y = make_classification(240, 8, n_informative=3, n_redundant=2, n_classes=n_classes,
                               flip_y=0.2, random_state=n_classes)
    labels = np.array(["ant", "bee", "cat"])[y]
    sw = np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    a = L0ClassifierCV(lams=GRID, cv=folds, **FAST).fit(X, labels, sample_weight=sw)
    b = L0ClassifierCV(lams=GRID, cv=folds, scoring="accuracy", **FAST).fit(
        X, labels, sample_weight=sw)
    for key in ("split0_test_score", "split2_test_score", "mean_test_score"):
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
    assert a.best_index_ == b.best_index_
    # Labels as a column vector (fitted with a DataConversionWarning): the
    # same scores, not a comparison broadcast to (n, n).
    with pytest.warns(Warning):
        column = L0ClassifierCV(lams=GRID, cv=folds, **FAST).fit(X, labels[:, None],
                                                                 sample_weight=sw)
    np.testing.assert_array_equal(column.cv_results_["mean_test_score"],
                                  a.cv_results_["mean_test_score"])
    # And on its own, against score() (which validates and uses accuracy_score).
    est = L0Classifier(lam=0.01, **FAST).fit(X, labels)
    assert est._score_validated(X, labels, sw) == est.score(X, labels, sample_weight=sw)
    assert est._score_validated(X, labels) == est.score(X, labels)
    assert 0.0 < est.score(X, labels) < 1.0  # some right and some wrong: the check can fail


@pytest.mark.parametrize("cls", [L0ClassifierCV, L0FeatureSelectorCV])
def test_a_column_vector_of_labels_warns_once_per_fit(clf, cls):
    # As LogisticRegressionCV: one DataConversionWarning for a one-column
    # DataFrame of labels; each fold and the final fit had warned again.
    from sklearn.exceptions import DataConversionWarning

    X, y, _, _ = clf
    Y = pd.DataFrame({"label": np.where(y == 1, "yes", "no")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = cls(lams=GRID[:3], cv=3, **FAST).fit(X, Y)
    assert [type(w.message) for w in caught] == [DataConversionWarning]
    fitted = est if cls is L0ClassifierCV else est.estimator_
    assert fitted.classes_.tolist() == ["no", "yes"]


@pytest.mark.parametrize("q, weighted", [(1, False), (1, True), (3, True)])
def test_r2_of_equals_scikit_learn(q, weighted):
    from sklearn.metrics import r2_score

    from skl0._regressor import r2_of

    rng = np.random.RandomState(q)
    y = rng.randn(40, q)
    pred = y + 0.5 * rng.randn(40, q)
    y[:, -1] = 3.0 if q > 1 else y[:, -1]  # a constant output (scored 0 unless exact)
    w = rng.uniform(0.1, 3.0, 40) if weighted else None
    yy, pp = (y[:, 0], pred[:, 0]) if q == 1 else (y, pred)
    assert r2_of(yy, pp, w) == pytest.approx(r2_score(yy, pp, sample_weight=w), rel=1e-12)
    assert r2_of(yy, yy, w) == pytest.approx(1.0)
    # The CV folds' form: one target, its total sum of squares formed once,
    # scores equal to r2_of's to the last bit for each prediction, also for
    # a target whose squares overflow.
    from skl0._regressor import R2Target

    for scale in (1.0, 1e200):
        target = R2Target(yy * scale, 40, w)
        for p_ in (pp, yy, pp + 1.0, np.zeros_like(pp)):
            assert target(p_ * scale) == r2_of(yy * scale, p_ * scale, w)


def test_folds_in_threads_leak_no_empty_model_warning(reg):
    # Grid points past the last feature give empty fold models; the folds
    # (run in threads, n_jobs=2) say nothing about them, and the final fit,
    # which keeps a non-empty point, says nothing either.
    import warnings

    X, y, _, _ = reg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = L0RegressorCV(lams=[1e-3, 1e-2, 50.0], cv=3, n_jobs=2, **FAST).fit(X, y)
    assert est.cv_results_["mean_n_features"][-1] == 0
    assert est.support_.any()


@pytest.mark.parametrize("case", ["weighted", "float32", "two outputs", "shifted frame"])
def test_numpy_fold_scores_equal_the_estimators_own_score(monkeypatch, case):
    """The default R^2 of a fold is computed in numpy (``_GramR2``), not by
    exporting the estimator for each support: the same numbers, bit for bit,
    as ``_show_refit`` then ``score`` on the held-out rows."""
    import skl0._cv as cv_module

    X, y, _, _ = make_sparse_regression(120, 12, 3, random_state=3)
    w = None
    if case == "weighted":
        w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    elif case == "float32":
        X = X.astype(np.float32)
    elif case == "two outputs":
        y = np.c_[y, 0.5 * y + np.random.default_rng(1).normal(size=len(y))]
    else:
        X, y = pd.DataFrame(X * 10 + 1e3), y * 1e3 - 7
    calls = []
    real = cv_module._GramR2.__call__

    def counted(self, support):
        calls.append(support.size)
        return real(self, support)

    monkeypatch.setattr(cv_module._GramR2, "__call__", counted)
    fast = L0RegressorCV(cv=3, n_lams=8).fit(X, y, sample_weight=w)
    assert len(calls) >= 3 * 2  # every fold scored several supports this way
    monkeypatch.setattr(cv_module._GramR2, "applies", staticmethod(lambda *a: False))
    slow = L0RegressorCV(cv=3, n_lams=8).fit(X, y, sample_weight=w)
    for key in [k for k in fast.cv_results_ if k.endswith("test_score")]:
        np.testing.assert_array_equal(fast.cv_results_[key], slow.cv_results_[key])
    assert fast.lam_ == slow.lam_


def test_cv_empty_model_warning_names_the_chosen_lam():
    # Noise only: the held-out scores favour the intercept. The warning used
    # to name the point where the final walk stopped (not lam_) and to
    # advise "lower lam or set k", parameters a CV estimator does not take.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    with pytest.warns(UserWarning, match="No feature was selected") as rec:
        reg = L0RegressorCV(cv=3).fit(X, y)
    assert not reg.get_support().any()
    msg = next(str(w.message) for w in rec if "No feature" in str(w.message))
    assert f"lam_={reg.lam_:.3g}" in msg
    assert "Lower lam" not in msg


def test_cv_folds_resolve_auto_device_by_the_whole_x(monkeypatch):
    # device="auto" weighs the size of X (CUDA only past 2^22 numbers); the
    # folds' X[train] is smaller than the final fit's X, so the CV estimator
    # resolves "auto" once, by the whole X, and the folds run where the
    # final fit does.
    import sys

    import skl0._cv as cv_module
    import skl0._device as device_module

    X, y, _, _ = make_sparse_regression(60, 5, 2, random_state=0)
    asked = []
    real = device_module.resolve_device

    def spy(device, numbers=None):
        if sys._getframe(1).f_globals["__name__"] == "skl0._cv":  # (the CV estimator's own)
            asked.append((device, numbers))
        return real(device, numbers=numbers)

    monkeypatch.setattr(device_module, "resolve_device", spy)
    devices = []
    real_path = cv_module._fold_path
    monkeypatch.setattr(cv_module, "_fold_path",
                        lambda est, *a: devices.append(est.device) or real_path(est, *a))
    L0RegressorCV(cv=3, n_lams=4).fit(X, y)
    assert asked == [("auto", 60 * 5)]
    assert devices == ["cpu"] * 3


@pytest.mark.parametrize("request_weights", [True, False])
def test_cv_scores_follow_the_scorers_sample_weight_request(request_weights):
    # With metadata routing on, a scorer told set_score_request(
    # sample_weight=False) scores GridSearchCV's folds without the weights;
    # the CV estimator's folds were scored with them regardless (QA pass of
    # session 29). Both now give GridSearchCV's numbers.
    from sklearn.metrics import make_scorer, r2_score

    X, y, _, _ = make_sparse_regression(150, 8, 3, random_state=0)
    w = np.random.default_rng(0).integers(1, 3, 150).astype(float)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    lams = [1e-3, 1e-2, 0.1]
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_scorer(r2_score).set_score_request(sample_weight=request_weights)
        cv = L0RegressorCV(cv=folds, lams=lams, scoring=scorer, random_state=0).fit(
            X, y, sample_weight=w)
        grid = GridSearchCV(L0Regressor(random_state=0).set_fit_request(sample_weight=True),
                            {"lam": lams}, cv=folds, scoring=scorer).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"],
                               grid.cv_results_["mean_test_score"], rtol=1e-9)


def test_a_cv_estimator_that_declines_weights_fits_under_metadata_routing(reg):
    # set_fit_request(sample_weight=False), as in a Pipeline whose other
    # steps take the weights: the fit gets none, and scikit-learn refused
    # the sample_weight=None that fit handed on ("got unexpected
    # argument(s) {'sample_weight'}"; LassoCV.fit does the same), with or
    # without groups for the splitter.
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline

    X, y, _, _ = reg
    groups = np.repeat(np.arange(6), len(y) // 6 + 1)[:len(y)]
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    folds = list(GroupKFold(3).split(X, y, groups))
    plain = L0FeatureSelectorCV(lams=GRID, cv=folds, **FAST).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        est = L0RegressorCV(lams=GRID, cv=3, **FAST).set_fit_request(sample_weight=False)
        est.fit(X, y)
        sel = L0FeatureSelectorCV(lams=GRID, cv=GroupKFold(3), **FAST)
        pipe = Pipeline([("sel", sel.set_fit_request(sample_weight=False)),
                         ("lr", LinearRegression().set_fit_request(sample_weight=True))])
        pipe.fit(X, y, sample_weight=w, groups=groups)
    np.testing.assert_array_equal(pipe[0].cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])


def test_cv_scores_without_weights_for_a_scorer_asking_them_under_an_alias():
    # set_score_request(sample_weight="w") asks for metadata the CV estimators
    # do not route: GridSearchCV scores such folds without the weights.
    from sklearn.metrics import make_scorer, r2_score

    X, y, _, _ = make_sparse_regression(150, 8, 3, random_state=0)
    w = np.random.default_rng(0).integers(1, 3, 150).astype(float)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    with sklearn.config_context(enable_metadata_routing=True):
        alias = make_scorer(r2_score).set_score_request(sample_weight="w")
        declined = make_scorer(r2_score).set_score_request(sample_weight=False)
        a = L0RegressorCV(cv=folds, lams=[1e-3, 1e-2], scoring=alias).fit(X, y, sample_weight=w)
        b = L0RegressorCV(cv=folds, lams=[1e-3, 1e-2], scoring=declined).fit(
            X, y, sample_weight=w)
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"],
                                  b.cv_results_["mean_test_score"])


@pytest.mark.parametrize("case", ["regressor", "classifier", "groups", "selector"])
def test_cv_walk_attributes_are_those_of_the_whole_data_path(reg, clf, case):
    # The CV docstrings' feature_importances_, n_iter_, loss_curve_ and
    # hidden_layer_sizes_ (they had the plain estimators' texts, about k,
    # lam="auto", MLP heads and partial_fit).
    X, y, _, _ = clf if case == "classifier" else reg
    grid = np.geomspace(1e-3, 2.0, 8)  # ends past the last open gate
    est = {
        "regressor": L0RegressorCV(lams=grid, cv=3, **FAST),
        "classifier": L0ClassifierCV(lams=grid, cv=3, **FAST),
        "groups": L0RegressorCV(lams=grid, cv=3, groups=np.arange(X.shape[1]) // 2, **FAST),
        "selector": L0FeatureSelectorCV(lams=grid, cv=3, **FAST),
    }[case].fit(X, y)
    path, i = est.path_, est.best_index_
    np.testing.assert_array_equal(est.feature_importances_, path.prob_open[i])
    assert est.n_iter_ == path.n_iter.sum()
    empty = np.flatnonzero(path.n_features == 0)
    assert empty.size and empty[0] < grid.size - 1  # the walk stopped early
    assert len(est.loss_curve_) == empty[0] + 1
    assert est.hidden_layer_sizes_ == ()


@pytest.mark.parametrize("Est", [L0RegressorCV, L0ClassifierCV])
def test_cv_folds_skip_their_export_and_the_results_are_unchanged(Est, monkeypatch):
    # A fold's fit is read only through its walk's held-out scores: it no
    # longer refits and exports its kept point (Walk(export=False)). The
    # CV's every fitted attribute equals that of a run whose folds export.
    import skl0._cv as cv_module
    import skl0._walk as walk_module
    from skl0._walk import Walk

    if Est is L0RegressorCV:
        X, y, _, _ = make_sparse_regression(150, 12, 3, random_state=0)
    else:
        X, y, _, _ = make_sparse_classification(150, 12, 3, random_state=0)
    folds, real = [], cv_module._fold_path

    def spy(est, *args):
        folds.append(est)
        return real(est, *args)

    monkeypatch.setattr(cv_module, "_fold_path", spy)
    est = Est(cv=3, n_lams=6, random_state=0).fit(X, y)
    assert len(folds) == 3
    for fold in folds:
        assert fold.n_iter_ >= 1 and np.isfinite(fold.lam_)
        assert not hasattr(fold, "feature_importances_")  # set by the export only
        if Est is L0RegressorCV:  # (its folds score in numpy: no model at all)
            assert not hasattr(fold, "coef_") and not hasattr(fold, "support_")
    monkeypatch.setattr(walk_module, "Walk", lambda *a, **kw: Walk(*a, **{**kw, "export": True}))
    folds.clear()
    ref = Est(cv=3, n_lams=6, random_state=0).fit(X, y)
    assert all(hasattr(fold, "feature_importances_") for fold in folds)  # they exported
    names = sorted(k for k in vars(ref) if k.endswith("_") and not k.startswith("_"))
    assert names == sorted(k for k in vars(est) if k.endswith("_") and not k.startswith("_"))
    for name in names:
        a, b = getattr(est, name), getattr(ref, name)
        if name == "cv_results_":
            assert a.keys() == b.keys()
            assert all(np.array_equal(a[k], b[k]) for k in a)
        elif name == "path_":
            assert all(np.array_equal(v, vars(b)[k]) for k, v in vars(a).items())
        else:
            assert np.array_equal(a, b), name


@pytest.mark.parametrize(("est", "target", "cv", "match"), [
    # scikit-learn's "Cannot have number of splits n_splits=100 greater than the
    # number of samples" / "n_splits=41 cannot be greater than the number of
    # members in each class" named neither cv nor its limit
    (L0RegressorCV, "reg", 100, r"cv=100 asks for more folds than the 60 rows of X; "
                                r"pass cv=60 or fewer"),
    (L0ClassifierCV, "clf", 41, r"cv=41 asks for more stratified folds than the largest "
                                r"class of y has rows \(40, of class 'no'\); pass cv=40"),
    (L0FeatureSelectorCV, "clf", 45, r"cv=45 asks for more stratified folds"),
])
def test_too_many_folds_name_cv_and_its_limit(est, target, cv, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] if target == "reg" else np.where(np.arange(60) < 40, "no", "yes")
    with pytest.raises(ValueError, match=match):
        est(cv=cv, max_iter=5).fit(X, y)


@pytest.mark.parametrize("scoring", ["accuracy", "roc_auc"])
@pytest.mark.parametrize("est", [L0RegressorCV, L0FeatureSelectorCV])
def test_a_classification_scoring_on_a_regression_names_the_scorer(est, scoring):
    # was "continuous is not supported" / "L0Regressor has none of the
    # following attributes: decision_function, predict_proba"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    with pytest.raises(ValueError, match=r"The CV scorer make_scorer\(.*failed on the held-out "
                                         r"rows of a fold .*Pass a regression scoring"):
        est(cv=3, scoring=scoring, max_iter=5).fit(X, X[:, 0])
