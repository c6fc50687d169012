"""Fits on Dask collections, on a real LocalCluster (2 worker processes) started here.

The cluster's workers import skl0 themselves: the statistics are computed
there, and only p x p results come back.
"""

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

from sklearn.exceptions import ConvergenceWarning

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor
from skl0.datasets import make_sparse_regression


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's start-up chatter
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            memory_limit="1GiB",
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def reg():
    X, y, _, support = make_sparse_regression(1500, 12, 3, random_state=0)
    return X, y, support


@pytest.fixture(scope="module")
def clf():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 10)) * rng.uniform(0.5, 3, 10) + rng.normal(size=10)
    logit = (X[:, [1, 4, 7]] - X[:, [1, 4, 7]].mean(0)) @ [1.5, -1.0, 0.8] + 0.3
    y = np.where(rng.random(2000) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return X, y, np.array([1, 4, 7])


def _darr(a, rows=400):
    return da.from_array(a, chunks=(rows,) + a.shape[1:])


@pytest.mark.parametrize("kw", [{"k": 3}, {}, {"lam": 0.02}])
def test_regressor_equals_in_memory_fit(client, reg, kw):
    X, y, support = reg
    mem = L0Regressor(random_state=0, **kw).fit(X, y)
    dist = L0Regressor(random_state=0, **kw).fit(_darr(X), _darr(y))
    assert np.array_equal(dist.get_support(indices=True), support)
    assert np.array_equal(dist.support_, mem.support_)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    assert dist.intercept_ == pytest.approx(mem.intercept_, rel=1e-10, abs=1e-12)
    assert dist.lam_ == pytest.approx(mem.lam_, rel=1e-8)


def test_the_statistics_are_computed_on_the_workers(client, reg):
    X, y, _ = reg
    Xd = _darr(X)
    before = sum(client.run(lambda dask_worker: len(dask_worker.state.log)).values())
    L0Regressor(k=3).fit(Xd, _darr(y))
    after = sum(client.run(lambda dask_worker: len(dask_worker.state.log)).values())
    assert after > before  # the workers ran the block tasks


def test_uneven_chunks_float32_and_weights(client, reg):
    X, y, _ = reg
    X32 = X.astype(np.float32)
    w = np.random.default_rng(1).uniform(0.5, 1.5, X.shape[0])
    mem = L0Regressor(random_state=0).fit(X32, y, sample_weight=w)
    Xd = da.from_array(X32, chunks=((700, 13, 787), (5, 7)))  # columns split, too
    dist = L0Regressor(random_state=0).fit(Xd, y, sample_weight=w)  # numpy y and w
    assert np.array_equal(dist.support_, mem.support_)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-6, atol=1e-8)


def test_weights_are_repetitions(client, reg):
    X, y, _ = reg
    X2, y2 = np.vstack([X, X[:300]]), np.concatenate([y, y[:300]])
    w = np.ones(X.shape[0])
    w[:300] = 2.0
    a = L0Regressor(k=3).fit(_darr(X), _darr(y), sample_weight=_darr(w))
    b = L0Regressor(k=3).fit(_darr(X2), _darr(y2))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-12)


def test_dataframe_in_lazy_predict_and_transform(client, reg):
    X, y, support = reg
    names = [f"c{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names).assign(target=y)
    ddf = dd.from_pandas(frame, npartitions=3)
    Xd, yd = ddf[names], ddf["target"]
    mem = L0Regressor(k=3, random_state=0).fit(frame[names], y)
    dist = L0Regressor(k=3, random_state=0).fit(Xd, yd)
    assert list(dist.feature_names_in_) == names
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    pred = dist.predict(Xd)
    assert dask.is_dask_collection(pred)  # lazy: nothing computed yet
    np.testing.assert_allclose(pred.compute(), mem.predict(frame[names]), rtol=1e-10)

    sel = L0FeatureSelector(k=3, random_state=0).fit(Xd, yd)
    assert isinstance(sel.estimator_, L0Regressor)
    out = sel.transform(Xd)
    assert dask.is_dask_collection(out)
    assert list(out.columns) == [names[i] for i in support]
    arr = sel.transform(_darr(X))
    np.testing.assert_array_equal(arr.compute(), X[:, support])


def test_multi_output(client, reg):
    X, y, _ = reg
    Y = np.column_stack([y, X[:, 7] - y])
    mem = L0Regressor(k=4, random_state=0).fit(X, Y)
    dist = L0Regressor(k=4, random_state=0).fit(_darr(X), _darr(Y))
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    assert dist.predict(_darr(X)).compute().shape == Y.shape


@pytest.mark.parametrize("kw", [{"k": 3}, {}, {"lam": 0.01}])
def test_classifier_equals_in_memory_fit(client, clf, kw):
    X, y, support = clf
    mem = L0Classifier(random_state=0, **kw).fit(X, y)
    dist = L0Classifier(random_state=0, **kw).fit(_darr(X, 500), _darr(y, 500))
    assert np.array_equal(dist.get_support(indices=True), support)
    assert np.array_equal(dist.support_, mem.support_)
    assert list(dist.classes_) == ["no", "yes"]
    # both are the ridge-logistic maximum likelihood on the support
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dist.intercept_, mem.intercept_, rtol=1e-6, atol=1e-8)
    assert 2 <= dist.n_iter_ <= 15  # IRLS passes over X
    proba = dist.predict_proba(_darr(X, 500))
    assert dask.is_dask_collection(proba)
    np.testing.assert_allclose(proba.compute(), mem.predict_proba(X), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(dist.predict(_darr(X, 500)).compute(), mem.predict(X))


def test_classifier_selector_task_from_labels(client, clf):
    X, y, support = clf
    sel = L0FeatureSelector(k=3, random_state=0).fit(_darr(X, 500), _darr(y, 500))
    assert isinstance(sel.estimator_, L0Classifier)
    assert np.array_equal(sel.get_support(indices=True), support)


def test_mlp_head_streams_the_blocks(client, reg):
    X, y, _ = reg
    est = L0Regressor(k=3, hidden_layer_sizes=(8,), max_iter=20,
                      random_state=0).fit(_darr(X, 250), _darr(y, 250))
    assert est.n_features_in_ == X.shape[1]
    assert est.get_support().sum() == 3
    assert est.predict(_darr(X)).compute().shape == y.shape


def test_errors_name_the_problem(client, reg, clf):
    X, y, _ = reg
    with pytest.warns(UserWarning, match="k=20 is larger"):
        assert L0Regressor(k=20).fit(_darr(X), _darr(y)).support_.all()
    Xn = X.copy()
    Xn[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        L0Regressor(k=3).fit(_darr(Xn), _darr(y))
    with pytest.raises(ValueError, match="y has 10 rows but X has 1500"):
        L0Regressor(k=3).fit(_darr(X), y[:10])
    Xc, yc, _ = clf
    y3 = yc.astype(object)
    y3[:100] = "maybe"
    w = np.ones(len(y3))
    w[:100] = 0.0
    with pytest.raises(ValueError, match=r"zero on every sample of class\(es\) \['maybe'\]"):
        L0Classifier(k=3).fit(_darr(Xc), _darr(y3), sample_weight=_darr(w))
    est = L0Regressor(k=3).fit(_darr(X), _darr(y))
    with pytest.raises(ValueError, match="X has 11 features"):
        est.predict(_darr(X[:, :11]))


def test_failed_fit_leaves_the_estimator_as_it_was(client, reg):
    X, y, _ = reg
    est = L0Regressor(k=3).fit(X, y)
    coef = est.coef_.copy()
    Xn = X.copy()
    Xn[0, 0] = np.inf
    with pytest.raises(ValueError):
        est.fit(_darr(Xn), _darr(y))
    np.testing.assert_array_equal(est.coef_, coef)


def test_cross_validation_on_the_joblib_dask_backend(client, reg):
    import joblib
    from sklearn.model_selection import cross_val_score

    from skl0 import L0RegressorCV

    X, y, _ = reg
    with joblib.parallel_backend("dask"):
        scores = cross_val_score(L0Regressor(k=3, random_state=0), X, y, cv=3, n_jobs=-1)
        cv = L0RegressorCV(cv=3, n_jobs=-1, random_state=0).fit(X, y)
    local = cross_val_score(L0Regressor(k=3, random_state=0), X, y, cv=3)
    np.testing.assert_allclose(scores, local)
    ref = L0RegressorCV(cv=3, random_state=0).fit(X, y)
    assert np.array_equal(cv.support_, ref.support_)
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"],
                               ref.cv_results_["mean_test_score"])


@pytest.mark.parametrize("which", ["X", "y"])
def test_cv_estimators_refuse_dask_collections_instead_of_gathering_them(reg, which):
    # Their folds need the rows in memory: the validation gathered a Dask X
    # silently (no cluster needed for that), where docs/scale.md says the CV
    # estimators do not take Dask collections and a Dask fit gathers nothing.
    from skl0 import L0ClassifierCV, L0FeatureSelectorCV, L0RegressorCV

    X, y, _ = reg
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for est, target in ((L0RegressorCV(cv=3), y), (L0ClassifierCV(cv=3), y > 0),
                        (L0FeatureSelectorCV(cv=3), y)):
        Xa = dd.from_pandas(frame, npartitions=3) if which == "X" else X
        ya = da.from_array(target, chunks=500) if which == "y" else target
        with pytest.raises(TypeError, match=rf"{type(est).__name__} does not take Dask "
                                            r"collections.*X\.compute\(\).*parallel_backend"):
            est.fit(Xa, ya)
        assert not hasattr(est, "support_")


def test_constant_and_offset_columns(client, reg):
    X, y, _ = reg
    X = X.copy()
    X[:, 0] = 3.7  # constant: standardizes to zeros, never selected
    X[:, 4] = 1e6 + X[:, 4]  # a large offset keeps its spread (centred float64 sums)
    mem = L0Regressor(random_state=0).fit(X, y)
    dist = L0Regressor(random_state=0).fit(_darr(X), _darr(y))
    assert not dist.support_[0]
    assert np.array_equal(dist.support_, mem.support_)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-8, atol=1e-10)
    assert dist.intercept_ == pytest.approx(mem.intercept_, rel=1e-8)


def test_workers_run_numpy_only_block_functions():
    # The fit's tasks are functions of skl0._blocks, which imports numpy alone:
    # a worker does not pay ~0.35 GB of resident memory for torch to run them.
    import subprocess
    import sys

    from skl0 import _dask, _dask_rows

    for f in (_dask_rows._block_stats, _dask_rows._merge_all, _dask._column_min_max,
              _dask_rows._unique):
        assert f.__module__ == "skl0._blocks"
    code = ("import sys, skl0._blocks; "
            "print(sorted(m for m in ('torch', 'scipy', 'sklearn', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", ["moments", "logistic", "softmax"])
def test_block_functions_give_the_same_statistics_in_sub_blocks(kind, monkeypatch):
    # A worker's block is read in sub-blocks of _SUB_ELEMENTS numbers (2 MB);
    # a block of many sub-blocks (7 rows each here) gives the statistics of
    # one: moments merged by Chan's update, log-loss sums and Hessian pieces.
    from skl0 import _blocks

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)) * [1, 2, 3, 1, 1, 5] + [0, 1e3, 0, -2, 0, 3]
    w = rng.uniform(0.5, 1.5, 300)
    mean, std = X.mean(0), X.std(0)
    if kind == "moments":
        y = X[:, 0] - X[:, 3] + rng.normal(size=300)
        def run():
            return _blocks._block_stats(X, y, w)
    elif kind == "logistic":
        y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
        def run():
            return _blocks._block_stats(X, y, w, classes=np.array([0, 1]),
                                        coef=np.array([0.5, 0, 0, -0.3, 0, 0]) / std,
                                        intercept=0.1)
    else:
        y = rng.integers(0, 3, 300)
        coef = np.zeros((6, 3))
        coef[[0, 3]] = rng.normal(size=(2, 3))
        def run():
            return _blocks._softmax_block(X, y, w, np.arange(3), mean, std, coef,
                                          np.array([0.1, 0.0, -0.1]), hess=np.array([0, 3]))
    whole = run()
    monkeypatch.setattr(_blocks, "_SUB_ELEMENTS", 7 * 10)
    parts = run()
    assert parts.keys() == whole.keys()
    for key, value in whole.items():
        np.testing.assert_allclose(parts[key], value, rtol=1e-9, atol=1e-9, err_msg=key)


@pytest.fixture(scope="module")
def multi():
    rng = np.random.default_rng(2)
    n, p = 3000, 10
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3, p) + rng.normal(size=p)
    Z = (X - X.mean(0)) / X.std(0)
    logits = np.column_stack([1.2 * Z[:, 1] - Z[:, 4], 0.8 * Z[:, 7] - Z[:, 1], 0.5 * Z[:, 4]])
    prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.array(["a", "b", "c"])[(rng.random(n)[:, None] > prob.cumsum(1)).sum(1)]
    return X, y, np.array([1, 4, 7])


def _multinomial_gradient(X, y, w, coef, intercept, alpha):
    """Largest |gradient| of the in-memory refit's objective at (coef, intercept).

    The objective: weighted mean cross-entropy + alpha ||W||^2, W the
    coefficients on the standardized kept columns; with alpha > 0 it is
    strictly convex there, so a zero gradient means its unique minimiser.
    """
    from scipy.special import logsumexp

    w = w / w.sum()
    mean = w @ X
    std = np.sqrt(w @ (X - mean) ** 2)
    kept = np.flatnonzero(np.any(coef != 0, axis=0))
    codes = np.unique(y, return_inverse=True)[1]
    F = X @ coef.T + intercept
    G = w[:, None] * (np.exp(F - logsumexp(F, axis=1)[:, None]) - np.eye(coef.shape[0])[codes])
    Z = (X[:, kept] - mean[kept]) / std[kept]
    grad_W = Z.T @ G + 2 * alpha * (coef[:, kept] * std[kept]).T
    return max(np.abs(grad_W).max(), np.abs(G.sum(0)).max())


@pytest.mark.parametrize("kw", [{"k": 3}, {}, {"lam": 0.01}])
def test_multinomial_equals_in_memory_fit(client, multi, kw):
    X, y, support = multi
    mem = L0Classifier(random_state=0, **kw).fit(X, y)
    dist = L0Classifier(random_state=0, **kw).fit(_darr(X, 700), _darr(y, 700))
    assert np.array_equal(dist.get_support(indices=True), support)
    assert np.array_equal(dist.support_, mem.support_)
    assert list(dist.classes_) == ["a", "b", "c"] and dist.coef_.shape == (3, X.shape[1])
    # Both are the ridge-penalised multinomial maximum likelihood on the support:
    # the Dask fit (Newton steps) to round-off, the in-memory refit to its
    # L-BFGS-B stopping rule (projected gradient <= 1e-7: ~1e-6 in coefficients).
    ones = np.ones(len(y))
    assert _multinomial_gradient(X, y, ones, dist.coef_, dist.intercept_, dist.alpha) < 1e-13
    assert _multinomial_gradient(X, y, ones, mem.coef_, mem.intercept_, mem.alpha) < 1e-6
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(dist.intercept_, mem.intercept_, rtol=0, atol=1e-6)
    assert 2 <= dist.n_iter_ <= 15  # passes over X
    if "lam" in kw:
        assert dist.lam_ == pytest.approx(kw["lam"], rel=1e-12)
    proba = dist.predict_proba(_darr(X, 700))
    assert dask.is_dask_collection(proba)
    np.testing.assert_allclose(proba.compute(), dist.predict_proba(X), rtol=1e-13)
    np.testing.assert_allclose(proba.compute(), mem.predict_proba(X), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(dist.predict(_darr(X, 700)).compute(), mem.predict(X))


def test_multinomial_bound_steps_end_the_fit_past_the_hessian_size(client, monkeypatch):
    # Past _NEWTON_MAX_PARAMETERS coefficients ((s + 1) K) the multinomial fit
    # takes Boehning steps only. Only a Newton step could end it, so it ran
    # all _SOFTMAX_MAX_PASSES passes over X and warned that it had not
    # converged (e.g. 10 classes and 25 kept columns); a bound step on an
    # unchanged support that moves no coefficient by more than 1e-8 ends it.
    # (Weak classes here: Boehning's steps converge linearly, at a rate that
    # is slow when the class probabilities are far from uniform.)
    from sklearn.exceptions import ConvergenceWarning

    from skl0 import _dask

    rng = np.random.RandomState(0)
    X = rng.randn(600, 8)
    logits = X[:, [0, 3, 5]] * 0.6
    y = np.argmax(logits + rng.gumbel(size=logits.shape), 1)
    mem = L0Classifier(k=3).fit(X, y)
    monkeypatch.setattr(_dask, "_NEWTON_MAX_PARAMETERS", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dist = L0Classifier(k=3).fit(_darr(X, 300), _darr(y, 300))
    np.testing.assert_array_equal(dist.get_support(indices=True), [0, 3, 5])
    assert dist.n_iter_ < _dask._SOFTMAX_MAX_PASSES
    ones = np.ones(len(y))
    assert _multinomial_gradient(X, y, ones, dist.coef_, dist.intercept_, dist.alpha) < 1e-7
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-6)


def _uneven_six_classes():
    """600 x 12 with 6 classes of uneven probabilities (slow for Boehning's bound steps alone)."""
    rng = np.random.RandomState(0)
    X = rng.randn(600, 12)
    logits = X[:, :6] * 0.5 + X[:, 6:] @ rng.randn(6, 6) * 0.2
    return X, np.argmax(logits + rng.gumbel(size=logits.shape), 1)


def _converged_at_the_refit(X, y, mem):
    """The Dask ``L0Classifier(k=8)`` fit, with no ConvergenceWarning, at ``mem``'s support and optimum."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dist = L0Classifier(k=8).fit(_darr(X, 300), _darr(y, 300))
    np.testing.assert_array_equal(dist.support_, mem.support_)
    ones = np.ones(len(y))
    assert _multinomial_gradient(X, y, ones, dist.coef_, dist.intercept_, dist.alpha) < 1e-7
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-6)
    return dist


def test_multinomial_bound_steps_are_accelerated_by_lbfgs(client, monkeypatch):
    # Boehning's bound steps alone converge linearly: with 6 classes of
    # uneven probabilities and 8 kept columns (forced past the Hessian size)
    # they did not reach their end test in _SOFTMAX_MAX_PASSES passes (the
    # fit warned, 1e-5 from the in-memory refit). As the initial Hessian of
    # L-BFGS on an unchanged support they end it in about half the passes,
    # at the in-memory refit's optimum.
    from sklearn.exceptions import ConvergenceWarning

    from skl0 import _dask

    X, y = _uneven_six_classes()
    mem = L0Classifier(k=8).fit(X, y)
    monkeypatch.setattr(_dask, "_NEWTON_MAX_PARAMETERS", 0)
    monkeypatch.setattr(_dask, "_BOUND_LBFGS_MEMORY", 0)  # the bound's own steps
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        plain = L0Classifier(k=8).fit(_darr(X, 300), _darr(y, 300))
    assert plain.n_iter_ == _dask._SOFTMAX_MAX_PASSES
    monkeypatch.undo()
    monkeypatch.setattr(_dask, "_NEWTON_MAX_PARAMETERS", 0)
    dist = _converged_at_the_refit(X, y, mem)
    assert dist.n_iter_ <= 0.6 * _dask._SOFTMAX_MAX_PASSES


def test_multinomial_lbfgs_step_that_raises_the_objective_is_halved(client, monkeypatch):
    # An L-BFGS step from the bound that overshoots (here the first one,
    # made 50 times too long) raises the objective: it is halved back toward
    # the previous point, one pass at a time, and the fit still ends at the
    # in-memory refit's optimum (without the halving it reached the pass cap
    # and warned).
    from skl0 import _dask

    X, y = _uneven_six_classes()
    mem = L0Classifier(k=8).fit(X, y)
    monkeypatch.setattr(_dask, "_NEWTON_MAX_PARAMETERS", 0)
    direction = _dask._BoundLBFGS.direction
    calls = []

    def overshoot(self, x, grad, K):
        calls.append(len(self.pairs))
        d = direction(self, x, grad, K)
        return 50.0 * d if len(calls) == 1 else d

    monkeypatch.setattr(_dask._BoundLBFGS, "direction", overshoot)
    _converged_at_the_refit(X, y, mem)
    assert len(calls) > 1


def test_multinomial_weights_float32_and_frame(client, multi):
    X, y, support = multi
    w = np.random.default_rng(3).uniform(0.5, 1.5, len(y))
    X32 = X.astype(np.float32)
    names = [f"c{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X32, columns=names).assign(label=y, weight=w)
    ddf = dd.from_pandas(frame, npartitions=4)
    dist = L0Classifier(k=3, random_state=0).fit(ddf[names], ddf["label"],
                                                 sample_weight=ddf["weight"])
    assert list(dist.feature_names_in_) == names
    assert np.array_equal(dist.get_support(indices=True), support)
    X64 = X32.astype(np.float64)
    assert _multinomial_gradient(X64, y, w, dist.coef_, dist.intercept_, dist.alpha) < 1e-13
    mem = L0Classifier(k=3, random_state=0).fit(frame[names], y, sample_weight=w)
    assert np.array_equal(mem.support_, dist.support_)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=0, atol=1e-6)  # L-BFGS-B's stop


def test_score_is_computed_on_the_cluster(client, reg, clf, multi):
    X, y, _ = reg
    w = np.random.default_rng(4).uniform(0.5, 1.5, len(y))
    est = L0Regressor(k=3, random_state=0).fit(X, y)
    assert est.score(_darr(X, 300), _darr(y, 300), sample_weight=_darr(w, 300)) == pytest.approx(
        est.score(X, y, sample_weight=w), rel=1e-12)
    Y = np.column_stack([y, X[:, 7] - y])
    multi_out = L0Regressor(k=4, random_state=0).fit(X, Y)
    assert multi_out.score(_darr(X), Y) == pytest.approx(multi_out.score(X, Y), rel=1e-12)
    # targets near 1e200 (squares overflow): blocks scaled by powers of two, as in memory
    big = L0Regressor(k=3, random_state=0).fit(X, y * 1e200)
    assert big.score(_darr(X), _darr(y * 1e200)) == pytest.approx(big.score(X, y * 1e200),
                                                                  rel=1e-12)
    for Xc, yc, _ in (clf, multi):
        model = L0Classifier(k=3, random_state=0).fit(Xc, yc)
        frame = dd.from_pandas(pd.DataFrame(Xc).assign(label=yc), npartitions=3)
        cols = list(range(Xc.shape[1]))
        assert model.score(_darr(Xc), _darr(yc)) == model.score(Xc, yc)
        assert model.score(frame[cols], frame["label"]) == model.score(Xc, yc)  # partitions


def test_groups_and_feature_costs_as_in_memory(client, reg, clf, multi):
    # groups= and feature_costs= reach the selection on the cluster too (they
    # were silently ignored there): exact k counts groups, as in memory.
    X, y, _ = reg
    groups = np.arange(X.shape[1]) // 2
    costs = np.where(np.arange(X.shape[1]) == 7, 3.0, 1.0)
    for kw in ({"k": 2, "groups": groups}, {"groups": groups}, {"k": 3, "feature_costs": costs}):
        mem = L0Regressor(random_state=0, **kw).fit(X, y)
        dist = L0Regressor(random_state=0, **kw).fit(_darr(X), _darr(y))
        assert np.array_equal(dist.support_, mem.support_), kw
        np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
        if "groups" in kw:
            assert np.array_equal(dist.group_support_, mem.group_support_)
            assert dist.support_.sum() == 2 * dist.group_support_.sum()
    # binary: both Newton (as test_classifier_equals_in_memory_fit); 3 classes: the
    # in-memory L-BFGS-B stops at gtol 1e-7 (as test_multinomial_equals_in_memory_fit)
    for (Xc, yc, _), rtol, atol in ((clf, 1e-6, 1e-8), (multi, 0, 1e-6)):
        groups = np.arange(Xc.shape[1]) // 2
        mem = L0Classifier(k=2, groups=groups, random_state=0).fit(Xc, yc)
        dist = L0Classifier(k=2, groups=groups, random_state=0).fit(_darr(Xc, 500), _darr(yc, 500))
        assert dist.group_support_.sum() == 2 and dist.support_.sum() == 4
        assert np.array_equal(dist.group_support_, mem.group_support_)
        np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=rtol, atol=atol)
    with pytest.warns(UserWarning, match="k=7 is larger than the number of groups"):
        dist = L0Regressor(k=7, groups=np.arange(X.shape[1]) // 2).fit(_darr(X), _darr(y))
    assert dist.group_support_.all()


@pytest.mark.parametrize("k", [3, 4])
def test_binary_k_below_the_relevant_columns_converges_to_the_in_memory_fit(k):
    # 5 relevant columns, k < 5: the quadratic model at the k-column optimum
    # prefers another support whose exact loss is higher. The IRLS loop used
    # to halve across the two supports (a (k+1)-column point) and stop at the
    # pass cap with other coefficients; now the new support is tried on its
    # own and, having lost, the old one is kept.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 12))
    beta = np.zeros(12)
    beta[:5] = rng.uniform(1, 2, 5) * rng.choice([-1, 1], 5)
    y = (X @ beta + rng.standard_normal(3000) > 0).astype(int)
    mem = L0Classifier(k=k).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dist = L0Classifier(k=k).fit(_darr(X, 1000), _darr(y, 1000))
    np.testing.assert_array_equal(dist.get_support(), mem.get_support())
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-6, atol=1e-8)
    assert dist.n_iter_ < 30


def test_empty_row_blocks_add_nothing(reg):
    # A filtered DataFrame keeps its partitions, some of them empty.
    X, y, _ = reg
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    frame["t"], frame["i"] = y, np.arange(len(y))
    parts = dd.from_pandas(frame, npartitions=3)
    kept = parts[(parts.i < 500) | (parts.i >= 1000)]
    assert 0 in kept.map_partitions(len).compute().tolist()
    Xd, yd = kept.drop(columns=["t", "i"]), kept["t"]
    rows = (frame.i < 500) | (frame.i >= 1000)
    Xm, ym = frame.loc[rows, Xd.columns], y[rows.to_numpy()]
    mem = L0Regressor(k=3).fit(Xm, ym)
    dist = L0Regressor(k=3).fit(Xd, yd)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mem.predict(Xd).compute(), mem.predict(Xm), rtol=1e-12)
    assert mem.score(Xd, yd) == pytest.approx(mem.score(Xm, ym), rel=1e-12)
    clf = L0Classifier(k=3).fit(Xm, ym > 0)
    assert clf.predict_proba(Xd).compute().shape == (rows.sum(), 2)
    assert clf.score(Xd, yd > 0) == pytest.approx(clf.score(Xm, ym > 0), rel=1e-12)
    assert L0Classifier(k=3).fit(Xd, yd > 0).get_support().sum() == 3


def test_nan_labels_are_refused_as_in_memory(clf):
    X, y, _ = clf
    codes = (y == "yes").astype(float)
    codes[5] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        L0Classifier(k=2).fit(X, codes)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        L0Classifier(k=2).fit(_darr(X), _darr(codes))


def test_score_takes_unknown_chunk_sizes_pairing_blocks_with_y(reg, clf):
    X, y, _ = reg
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    ys = dd.from_pandas(pd.Series(y), npartitions=3)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    Xu, yu = frame.to_dask_array(), ys.to_dask_array()
    assert np.isnan(Xu.chunks[0]).all()
    mem = L0Regressor(k=4).fit(X, y)
    assert mem.score(Xu, yu) == pytest.approx(mem.score(X, y), rel=1e-12)
    ws = dd.from_pandas(pd.Series(w), npartitions=3)
    assert mem.score(Xu, ys, sample_weight=ws) == pytest.approx(
        mem.score(X, y, sample_weight=w), rel=1e-12)
    Xc, yc, _ = clf
    clf_mem = L0Classifier(k=3).fit(Xc, yc)
    Xcu = dd.from_pandas(pd.DataFrame(Xc), npartitions=4).to_dask_array()
    ycu = dd.from_pandas(pd.Series(yc), npartitions=4).to_dask_array()
    assert clf_mem.score(Xcu, ycu) == pytest.approx(clf_mem.score(Xc, yc), rel=1e-12)
    with pytest.raises(ValueError, match="so y must be a Dask array or Series split into the same 3"):
        mem.score(Xu, y)
    with pytest.raises(ValueError, match="a block of X has .* rows but its block of y has"):
        mem.score(Xu, da.from_array(y, chunks=(len(y) // 4, len(y) // 4, len(y) - len(y) // 2)))


def test_missing_text_labels_are_refused_by_name(clf):
    X, y, _ = clf
    labels = pd.Series(y, dtype="string")
    labels[5] = pd.NA
    match = "y has 1 missing label .*in a block of y; drop"
    with pytest.raises(ValueError, match=match):
        L0Classifier(k=2).fit(_darr(X), _darr(np.asarray(labels, dtype=object)))
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    with pytest.raises(ValueError, match=match):
        L0Classifier(k=2).fit(frame, dd.from_pandas(labels, npartitions=3))


def test_a_dask_dataframe_target_and_extension_dtypes(reg, clf):
    X, y, _ = reg
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    Y = pd.DataFrame({"a": y, "b": X[:, 5] - y})
    mem = L0Regressor(k=4).fit(frame, Y)
    dist = L0Regressor(k=4).fit(dd.from_pandas(frame, npartitions=3),
                                dd.from_pandas(Y, npartitions=3))
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    for dtype in ("Float64", "Int64"):  # a 1-d target of a nullable dtype
        target = pd.Series(np.round(y * 100) if dtype == "Int64" else y).astype(dtype)
        ext = L0Regressor(k=4).fit(dd.from_pandas(frame, npartitions=3),
                                   dd.from_pandas(target, npartitions=3))
        ref = L0Regressor(k=4).fit(frame, target.to_numpy(dtype=float))
        np.testing.assert_allclose(ext.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    Xc, yc, _ = clf
    for dtype in ("string", "Int64", "boolean"):
        labels = pd.Series(yc if dtype == "string" else (yc == "yes"), dtype=dtype)
        if dtype == "Int64":
            labels = labels.astype("int64").astype("Int64")
        sel = L0FeatureSelector(k=3).fit(dd.from_pandas(pd.DataFrame(Xc), npartitions=2),
                                         dd.from_pandas(labels, npartitions=2))
        assert type(sel.estimator_).__name__ == "L0Classifier", dtype


def test_pd_na_in_nullable_columns_is_refused_as_nan(reg):
    X, y, _ = reg
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])]).astype("Float64")
    frame.iloc[3, 2] = pd.NA
    with pytest.raises(ValueError, match=r"column\(s\) \['c2'\] contain NaN"):
        L0Regressor(k=3).fit(dd.from_pandas(frame, npartitions=3), y)


@pytest.fixture
def sync():
    with dask.config.set(scheduler="synchronous"):
        yield


def _public_fitted(est):
    return {a for a in vars(est) if a.endswith("_") and not a.startswith("_")}


@pytest.mark.parametrize("kw", [{}, {"k": 2}, {"lam": 0.01}])
@pytest.mark.parametrize("far", [1e16, 1e300])
def test_weightless_rows_with_huge_targets_fit_as_in_memory(sync, kw, far):
    # The target's unit (y_absmax) comes from the rows of positive weight, as
    # in memory, and weightless rows' targets enter no sum: with y = 1e16
    # there the others' spread fell under the constant-target floor (no
    # feature), and 1e300 ones overflowed the sums of squares (an error).
    rng = np.random.RandomState(0)
    X = rng.randn(400, 6)
    y = X[:, 0] + 2 * X[:, 1] + 0.5 * rng.randn(400)
    X[:100] /= 64.0  # a first block of small targets
    y[:100] /= 64.0
    sw = np.ones(400)
    sw[::8] = 0.0  # the first row of every block among them
    y_far = np.where(sw > 0, y, far)
    mem = L0Regressor(random_state=0, **kw).fit(X, y_far, sample_weight=sw)
    dist = L0Regressor(random_state=0, **kw).fit(_darr(X, 100), _darr(y_far, 100),
                                                 sample_weight=_darr(sw, 100))
    assert dist.get_support(indices=True).tolist() == [0, 1]
    assert np.array_equal(dist.support_, mem.support_)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-12)
    assert dist.intercept_ == pytest.approx(mem.intercept_, rel=1e-12, abs=1e-14)
    kept = sw > 0
    dropped = L0Regressor(random_state=0, **kw).fit(_darr(X[kept], 100), _darr(y[kept], 100))
    np.testing.assert_allclose(dist.coef_, dropped.coef_, rtol=1e-12)


@pytest.mark.parametrize("far", [1e20, -1e50])
def test_weightless_rows_with_huge_x_fit_as_in_memory(sync, far):
    # A weightless row first in its block was the block's shift: the
    # others' differences from 1e20 were all round-off (coefficients ~600
    # off). Each block now shifts by its first row of positive weight; a
    # near-constant column's exact range comes from such rows too.
    rng = np.random.RandomState(0)
    X = rng.randn(400, 6)
    X[:, 4] = 3.0  # constant where the weight is positive
    y = X[:, 0] + 2 * X[:, 1] + 0.5 * rng.randn(400)
    sw = np.ones(400)
    sw[::100] = 0.0  # the first row of every block
    X_far = X.copy()
    X_far[0, 1] = X_far[100, 0] = X_far[200, 4] = far
    kept = sw > 0
    mem = L0Regressor(k=2, random_state=0).fit(X[kept], y[kept])
    dist = L0Regressor(k=2, random_state=0).fit(_darr(X_far, 100), _darr(y, 100),
                                                sample_weight=_darr(sw, 100))
    assert dist.get_support(indices=True).tolist() == [0, 1]
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-9)
    assert dist.intercept_ == pytest.approx(mem.intercept_, rel=1e-9)
    clf_y = (y > np.median(y)).astype(int)
    mem_c = L0Classifier(k=2, random_state=0).fit(X[kept], clf_y[kept])
    dist_c = L0Classifier(k=2, random_state=0).fit(_darr(X_far, 100), _darr(clf_y, 100),
                                                   sample_weight=_darr(sw, 100))
    np.testing.assert_array_equal(dist_c.support_, mem_c.support_)
    np.testing.assert_allclose(dist_c.coef_, mem_c.coef_, rtol=1e-6, atol=1e-9)


def test_selector_task_auto_takes_an_in_memory_y_beside_a_dask_x(sync, reg, clf):
    # docs/scale.md: y may be Dask or numpy; task="auto" read y's blocks with
    # to_delayed, which a numpy array or pandas Series lacks.
    X, y, support = reg
    for target in (y, pd.Series(y)):
        sel = L0FeatureSelector(k=3).fit(_darr(X), target)
        assert isinstance(sel.estimator_, L0Regressor)
        np.testing.assert_array_equal(sel.get_support(indices=True), support)
    Xc, yc, _ = clf
    for target in (yc, pd.Series(yc, dtype="category"), (yc == "yes").astype(int)):
        sel = L0FeatureSelector(k=3).fit(_darr(Xc, 500), target)
        assert isinstance(sel.estimator_, L0Classifier)


def test_a_dask_fit_starts_afresh_with_the_in_memory_fits_attributes(sync):
    X, y, _, _ = make_sparse_regression(400, 6, 2, random_state=0)
    yc = (y > 0).astype(int)
    Xd = _darr(X, 100)
    groups = [0, 0, 1, 1, 2, 2]
    for make, target in [
        (lambda: L0Regressor(k=2), y),
        (lambda: L0Classifier(k=2), yc),
        (lambda: L0Classifier(k=2), np.digitize(y, [-0.5, 0.5])),
        (lambda: L0FeatureSelector(k=2), y),
        (lambda: L0FeatureSelector(groups=groups), y),
        (lambda: L0FeatureSelector(groups=groups), yc),
    ]:
        mem, dist = make().fit(X, target), make().fit(Xd, _darr(target, 100))
        assert _public_fitted(dist) == _public_fitted(mem), make()
        assert dist.hidden_layer_sizes_ == ()
    # An MLP head is streamed (one pass, no rows held out): no validation_scores_.
    mlp = {"k": 2, "hidden_layer_sizes": (4,), "max_iter": 20, "random_state": 0}
    mem, dist = L0Regressor(**mlp).fit(X, y), L0Regressor(**mlp).fit(Xd, _darr(y, 100))
    assert _public_fitted(mem) - _public_fitted(dist) == {"validation_scores_"}
    assert _public_fitted(dist) <= _public_fitted(mem) and dist.hidden_layer_sizes_ == (4,)
    # A Dask refit keeps nothing of an earlier fit's: here the groups' attributes.
    sel = L0FeatureSelector(groups=groups).fit(X, y)
    sel.set_params(groups=None).fit(Xd, _darr(y, 100))
    assert not hasattr(sel, "group_labels_") and not hasattr(sel, "group_support_")
    assert _public_fitted(sel) == _public_fitted(L0FeatureSelector().fit(X, y))


def test_automatic_head_is_refused_with_the_fix(sync, reg, clf):
    # The nonlinearity test needs the rows in memory: a Dask fit used to fit
    # the linear head silently, with no head_selection_.
    X, y, _ = reg
    Xc, yc, _ = clf
    match = r"hidden_layer_sizes='auto'.*Dask.*hidden_layer_sizes=\(\)"
    for est, XX, yy in [(L0Regressor(hidden_layer_sizes="auto"), X, y),
                        (L0Classifier(hidden_layer_sizes="auto"), Xc, yc),
                        (L0FeatureSelector(hidden_layer_sizes="auto"), X, y)]:
        with pytest.raises(ValueError, match=match):
            est.fit(_darr(XX), _darr(yy))
        assert not hasattr(est, "support_")


def test_a_two_column_y_is_refused_by_the_classifier_as_in_memory(sync, clf):
    X, y, _ = clf
    Y = np.column_stack([y, y])
    match = r"y should be a 1d array, got an array of shape \(2000, 2\)"
    with pytest.raises(ValueError, match=match):
        L0Classifier(k=2).fit(X, Y)
    with pytest.raises(ValueError, match=match):
        L0Classifier(k=2).fit(_darr(X), _darr(Y))
    with pytest.raises(ValueError, match=match):
        L0FeatureSelector(k=2, task="classification").fit(_darr(X), _darr(Y))
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=2)
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape \("):
        L0Classifier(k=2).fit(frame, dd.from_pandas(pd.DataFrame(Y), npartitions=2))


def test_mlp_classifier_reads_a_column_of_labels_without_a_warning_per_block():
    # The MLP head streams the blocks through partial_fit, which warns on a
    # column-vector y as fit does: the Dask fit (which reads one column as
    # labels silently, as its linear head does) passes the blocks raveled.
    rng = np.random.RandomState(0)
    X = rng.randn(400, 4)
    y = (X[:, 0] > 0).astype(int)
    kw = {"hidden_layer_sizes": (4,), "max_iter": 10, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        col = L0Classifier(**kw).fit(_darr(X, 100), _darr(y[:, None], 100))
    flat = L0Classifier(**kw).fit(_darr(X, 100), _darr(y, 100))
    np.testing.assert_array_equal(col.predict_proba(X), flat.predict_proba(X))


def test_dataframe_column_names_follow_scikit_learns_rule():
    # Integer column labels are no feature names (scikit-learn's rule, as in
    # memory): the Dask fit had kept feature_names_in_ = [0, 1, 2], so that
    # get_feature_names_out gave [0, 2] for ["x0", "x2"] and predicting the
    # same pandas frame warned "X does not have valid feature names".
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((60, 3)))
    y = 2 * X[0] - X[2] + 0.1 * rng.standard_normal(60)
    Xd, yd = dd.from_pandas(X, npartitions=2), dd.from_pandas(y, npartitions=2)
    with dask.config.set(scheduler="synchronous"):
        sel = L0FeatureSelector(k=2, random_state=0).fit(Xd, yd)
        mixed = dd.from_pandas(X.set_axis(["a", 1, "c"], axis=1), npartitions=2)
        with pytest.raises(TypeError, match="only supported if all input features have "
                                            "string names"):
            L0Regressor(k=2).fit(mixed, yd)
    assert not hasattr(sel, "feature_names_in_")
    assert not hasattr(sel.estimator_, "feature_names_in_")
    assert sel.get_feature_names_out().tolist() == ["x0", "x2"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sel.estimator_.predict(X)


def _frequency_warnings(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = fit()
    return est, [str(w.message).split(" reads ")[0] for w in caught
                 if "as frequencies" in str(w.message)]


def test_weight_scale_warnings_are_those_of_the_rules_a_dask_fit_reads(sync):
    # The in-memory fit warns where a rule reads the total weight as its
    # sample size (BaseL0._weight_counting_rule). A Dask fit reads it in
    # lam="auto" and keep_redundant's F test, and warns there alike. Of the
    # exact-k rules it reads neither: it needs more rows than columns (a
    # Gram problem, never screened, as in memory), and its multinomial
    # exact k ranks supports on Boehning's bound without the in-memory
    # refits' 1 / (2n) ridge: the same fit at any weight scale, no warning.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6))
    yr = X[:, 0] - X[:, 1] + rng.normal(size=150)
    y3 = np.digitize(X[:, 0] + 0.8 * X[:, 3] + 0.6 * rng.normal(size=150), [-0.5, 0.5])
    w = rng.uniform(0.5, 1.5, 150)
    D = functools.partial(_darr, rows=50)
    for make, y, rule in [
        (lambda: L0Regressor(random_state=0), yr, "lam='auto'"),
        (lambda: L0Regressor(k=2, keep_redundant=True, random_state=0), yr,
         "k=2 with keep_redundant=True"),
        (lambda: L0Classifier(random_state=0), y3, "lam='auto'"),
    ]:
        for data in [(X, y), (D(X), D(y))]:
            assert _frequency_warnings(lambda: make().fit(*data, sample_weight=10 * w))[1] == [rule]
    _, mem = _frequency_warnings(
        lambda: L0Classifier(k=2, random_state=0).fit(X, y3, sample_weight=10 * w))
    assert mem == ["k=2 with 3 classes"]
    fits = [_frequency_warnings(lambda: L0Classifier(k=2, random_state=0).fit(
        D(X), D(y3), sample_weight=D(c * w))) for c in (1e-2, 1.0, 1e2)]
    assert all(found == [] for _, found in fits)
    for est, _ in fits[1:]:
        np.testing.assert_array_equal(est.support_, fits[0][0].support_)
        np.testing.assert_allclose(est.coef_, fits[0][0].coef_, rtol=1e-8)


def _units_case(seed=0, n=600):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    return rng, X


@pytest.mark.parametrize("factor", [1e-30, 1e19, "ns"])
def test_regressor_columns_in_any_unit_fit_as_in_memory(sync, factor):
    # Columns far from 1 are fitted in power-of-two units, as in memory. A
    # column of mean past 2**53 (nanoseconds since 1970) got the range
    # mean +- 1, a point in float64: it was read as constant and dropped,
    # and columns near 1e-30 had their spread floored to nothing.
    rng, X = _units_case()
    y = X[:, 0] - 2 * X[:, 2] + 0.1 * rng.randn(len(X))
    if factor == "ns":
        X[:, 2] = 1.7e18 + 3e16 * X[:, 2]  # a timestamp column in ns
    else:
        X = X * factor
    mem = L0Regressor(k=2, random_state=0).fit(X, y)
    dist = L0Regressor(k=2, random_state=0).fit(_darr(X, 150), _darr(y, 150))
    assert mem.get_support(indices=True).tolist() == [0, 2]
    assert np.array_equal(dist.support_, mem.support_)
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-9)
    assert dist.intercept_ == pytest.approx(mem.intercept_, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("factor", [1e-30, 1e19])
def test_classifier_columns_in_any_unit_fit_as_in_memory(sync, classes, factor):
    rng, X = _units_case()
    f = 2 * X[:, 0] - 1.5 * X[:, 2] + 0.5 * rng.randn(len(X))
    y = np.digitize(f, [0.0] if classes == 2 else [-1.0, 1.0])
    ref = L0Classifier(k=2, random_state=0).fit(_darr(X, 150), _darr(y, 150))
    assert ref.get_support(indices=True).tolist() == [0, 2]
    dist = L0Classifier(k=2, random_state=0).fit(_darr(X * factor, 150), _darr(y, 150))
    # the same model in other column units: coefficients divided by the factor
    assert np.array_equal(dist.support_, ref.support_)
    np.testing.assert_allclose(dist.coef_ * factor, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dist.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("scale", [1e-250, 1e250])
def test_weights_of_any_scale_fit_as_in_memory(sync, scale):
    # Chan's merge of two blocks multiplied their weights (a["W"] * b["W"]),
    # which underflowed to 0 near 1e-200: the spread between the blocks' means
    # was lost (coefficients 2e-4 off, intercept 2e-5).
    rng, X = _units_case()
    y = X[:, 0] - 2 * X[:, 2] + 0.1 * rng.randn(len(X))
    w = rng.uniform(0.5, 1.5, len(X)) * scale
    mem = L0Regressor(k=2, random_state=0).fit(X, y, sample_weight=w)
    dist = L0Regressor(k=2, random_state=0).fit(_darr(X, 150), _darr(y, 150),
                                                sample_weight=_darr(w, 150))
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-12, atol=1e-14)
    assert dist.intercept_ == pytest.approx(mem.intercept_, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_a_callers_errstate_raise_fails_no_dask_fit_or_score(scheduler):
    # Both schedulers run the tasks under the caller's numpy error state
    # (the threaded one copies it into its threads); the in-memory code
    # marks its benign underflows itself, and so must the block functions and
    # the client's steps (they raised FloatingPointError: underflow).
    rng, X = _units_case()
    f = 2 * X[:, 0] - 1.5 * X[:, 2] + 0.5 * rng.randn(len(X))
    y = (X[:, 0] - 2 * X[:, 2] + 0.1 * rng.randn(len(X))) * 1e-160
    y3 = np.digitize(f, [-1.0, 1.0])
    Xs = X * 1e-150  # near the smallest columns a Dask fit takes
    with dask.config.set(scheduler=scheduler):
        mem = L0Regressor(k=2, random_state=0).fit(X, y)
        mem3 = L0Classifier(k=2, random_state=0).fit(Xs, y3)
        with np.errstate(all="raise"):
            dist = L0Regressor(k=2, random_state=0).fit(_darr(X, 150), _darr(y, 150))
            r2 = dist.score(_darr(X, 150), _darr(y, 150))
            dist3 = L0Classifier(k=2, random_state=0).fit(_darr(Xs, 150), _darr(y3, 150))
            binary = L0Classifier(k=2, random_state=0).fit(_darr(Xs, 150), _darr(y3 > 0, 150))
    np.testing.assert_allclose(dist.coef_, mem.coef_, rtol=1e-12)
    assert r2 == pytest.approx(mem.score(X, y), rel=1e-12)
    assert np.array_equal(dist3.support_, mem3.support_)
    assert binary.get_support(indices=True).tolist() == [0, 2]


def test_columns_too_small_for_float64_squares_are_refused_by_name(sync):
    rng, X = _units_case()
    y = X[:, 0] + 0.1 * rng.randn(len(X))
    X[:, 3] *= 1e-160
    frame = pd.DataFrame(X, columns=list("abcde"))
    with pytest.raises(ValueError, match=r"column\(s\) \['d'\] hold no value larger than "
                                         r"3.05e-151.*2\.0\*\*500"):
        L0Regressor(k=2).fit(dd.from_pandas(frame, npartitions=4), _darr(y, 150))
    with pytest.raises(ValueError, match=r"column\(s\) \[3\] hold no value"):
        L0Classifier(k=2).fit(_darr(X, 150), _darr(y > 0, 150))


@pytest.mark.parametrize("classes", [0, 2, 3])
def test_nan_in_a_chunk_is_refused_naming_the_column_without_a_runtime_warning(classes):
    # The message named "X, y or sample_weight"; a classifier's first pass
    # multiplied the NaN by a zero coefficient, so that every column's sums
    # were NaN. Under warnings-as-errors the workers' RuntimeWarnings
    # (invalid value in subtract, in sqrt) came out instead of the message.
    rng, X = _units_case(n=200)
    y = X[:, 0] + 0.1 * rng.randn(len(X))
    if classes:
        y = np.digitize(y, [0.0] if classes == 2 else [-0.5, 0.5])
    est = L0Classifier(k=1) if classes else L0Regressor(k=1)
    Xn = X.copy()
    Xn[170, 3] = np.nan
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"X's column\(s\) \[3\] contain NaN or infinity.*"
                                             r"da\.isfinite"):
            est.fit(_darr(Xn, 50), _darr(y, 50))
        if not classes:
            y_inf = y.copy()
            y_inf[120] = np.inf
            with pytest.raises(ValueError, match=r"^y contains NaN or infinity"):
                est.fit(_darr(X, 50), _darr(y_inf, 50))
        w = np.ones(len(X))
        w[60] = -1.0
        with pytest.raises(ValueError, match="sample_weight has negative values"):
            est.fit(_darr(X, 50), _darr(y, 50), sample_weight=_darr(w, 50))


def test_misaligned_dataframe_blocks_are_refused_with_the_fix(sync):
    # X filtered, y not: the same number of partitions but other rows. The
    # message said "align them"; a misaligned sample_weight failed inside
    # numpy (IndexError: boolean index did not match indexed array).
    rng, X = _units_case(n=200)
    frame = pd.DataFrame(X, columns=list("abcde")).assign(t=X[:, 0], w=1.0)
    ddf = dd.from_pandas(frame, npartitions=4)
    kept = ddf[ddf.a > -0.5]
    with pytest.raises(ValueError, match=r"A block of y has 50 rows where X's has \d+: .*"
                                         r"Take X and y from one DataFrame after any filter"):
        L0Regressor(k=1).fit(kept[list("abcde")], ddf["t"])
    with pytest.raises(ValueError, match=r"A block of sample_weight has 50 rows where X's has "):
        L0Regressor(k=1).fit(kept[list("abcde")], kept["t"], sample_weight=ddf["w"])


@pytest.mark.parametrize("which", ["regressor", "classifier"])
def test_mlp_heads_skip_empty_row_blocks(sync, which):
    # The linear fits skip a partition a filter emptied; an MLP head's stream
    # passed it to partial_fit, which refused it ("Found array with 0
    # sample(s)"): the fit is that of the blocks that hold rows.
    rng, X = _units_case(n=200)
    X[:50, 0] = -5.0  # the first partition, filtered out below
    frame = pd.DataFrame(X, columns=list("abcde")).assign(t=X[:, 1], lab=X[:, 1] > 0)
    ddf = dd.from_pandas(frame, npartitions=4)
    kept = ddf[ddf.a > -4]
    assert kept.map_partitions(len).compute().tolist()[0] == 0
    est = (L0Regressor if which == "regressor" else L0Classifier)(
        k=1, hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    target = "t" if which == "regressor" else "lab"
    est.fit(kept[list("abcde")], kept[target])
    rows = dd.from_pandas(frame[frame.a > -4], npartitions=3)
    same = type(est)(**est.get_params()).fit(rows[list("abcde")], rows[target])
    np.testing.assert_array_equal(est.predict(frame[list("abcde")]),
                                  same.predict(frame[list("abcde")]))
    with pytest.raises(ValueError, match=r"X has 0 row.*fitting needs at least 2"):
        est.fit(ddf[ddf.a > 100][list("abcde")], ddf[ddf.a > 100][target])


def _offset_case(n, seed=0):
    # Columns of other offsets and scales, a target far from 0 whose first
    # rows are not typical: a standardization from the first block is off.
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4) * [1.0, 30.0, 0.01, 5.0] + [0.0, 1e4, -3.0, 50.0]
    X[: n // 10, 1] += 200.0  # the first rows sit apart
    y = 500.0 + 100.0 * np.tanh((X[:, 1] - 1e4) / 30.0) + 50.0 * np.sin(X[:, 3] / 5.0)
    return X, y + rng.randn(n)


@pytest.mark.parametrize("which", ["regressor", "classifier"])
def test_mlp_standardization_is_all_the_rows_whatever_the_chunks(sync, which, monkeypatch):
    # An MLP head's Dask fit took the column means and spreads (and y's) from
    # its first block: with 1-row blocks every spread was 1 and y's mean its
    # first value (R^2 -3.7 on Friedman #1, test below). They are now those
    # of all the rows, and small blocks are joined into whole mini-batches,
    # so that chunks of 1, 7 and all the rows give one model.
    X, y = _offset_case(300)
    if which == "classifier":
        est, y = L0Classifier(k=2, hidden_layer_sizes=(4,), max_iter=6, random_state=0), y > 500
    else:
        est = L0Regressor(k=2, hidden_layer_sizes=(4,), max_iter=6, random_state=0)
    from skl0 import _streaming

    started, init = [], _streaming._SGDState.__init__

    def spy(state, *args, **kwargs):  # the stream's column standardization
        init(state, *args, **kwargs)
        started.append(state)

    monkeypatch.setattr(_streaming._SGDState, "__init__", spy)
    preds = []
    for rows in (1, 7, 300):
        est.fit(_darr(X, rows), _darr(y, rows))
        (state,) = started
        started.clear()
        np.testing.assert_allclose(state.mean, X.mean(0), rtol=1e-12)
        np.testing.assert_allclose(state.std, X.std(0), rtol=1e-10)
        if which == "regressor":
            assert est._y_mean == pytest.approx(y.mean(), rel=1e-12)
            assert est._y_std == pytest.approx(y.std(), rel=1e-10)
        assert est.n_iter_ == 6  # 2 steps a pass (200 rows, 100 rows), 3 passes
        preds.append(est.predict(X))
    # (the same up to the round-off of the moments, merged in another order)
    np.testing.assert_allclose(preds[1], preds[0], rtol=1e-13)
    np.testing.assert_allclose(preds[2], preds[0], rtol=1e-13)


def test_mlp_fit_on_small_blocks_scores_as_the_in_memory_fit(sync):
    # One pass over blocks of 50 rows (standardized by the first) scored R^2
    # 0.63 where the in-memory fit scores 0.94: the passes now go on until
    # max_iter Adam steps, from all the rows' standardization.
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=1500, n_features=8, noise=1.0, random_state=0)
    y = 100.0 * y + 500.0
    X[:, 3] = 1000.0 * X[:, 3] + 1e4
    kw = {"k": 5, "hidden_layer_sizes": (16,), "max_iter": 200, "random_state": 0}
    train, test = slice(0, 1000), slice(1000, None)
    mem = L0Regressor(**kw).fit(X[train], y[train]).score(X[test], y[test])
    dist = L0Regressor(**kw).fit(_darr(X[train], 50), _darr(y[train], 50))
    assert dist.score(X[test], y[test]) > mem - 0.03 and mem > 0.85  # 0.939 and 0.947
    assert dist.n_iter_ == 200  # 5 steps a pass, 40 passes
    assert dist.get_support(indices=True).tolist() == [0, 1, 2, 3, 4]


def test_block_stats_diagonal_is_the_full_statistics_diagonal():
    # An MLP head's standardization pass keeps the columns' sums of squares
    # alone (O(n p)): the same numbers as the linear fits' X'WX diagonal,
    # also merged across blocks.
    from skl0._blocks import _block_stats, _merge_all

    rng = np.random.RandomState(0)
    X = rng.randn(90, 4) * [1.0, 1e3, 1e-3, 5.0] + [0.0, 1e6, 2.0, -7.0]
    y, w = rng.randn(90, 2), rng.uniform(0, 2, 90)
    w[:5] = 0.0
    parts = [(X[a : a + 30], y[a : a + 30], w[a : a + 30]) for a in range(0, 90, 30)]
    full = _merge_all(*[_block_stats(*b) for b in parts])
    diag = _merge_all(*[_block_stats(*b, diagonal=True) for b in parts])
    assert diag["xx"].shape == (4,)
    np.testing.assert_allclose(diag["xx"], np.diag(full["xx"]), rtol=1e-12)
    for key in ("W", "mx", "my", "xy", "yy", "n", "total_w", "y_absmax"):
        np.testing.assert_allclose(diag[key], full[key], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_a_regressor_refuses_a_text_y_with_the_fix(sync, hidden):
    # The pass of statistics said numpy's "could not convert string to float"
    # alone (an MLP head's stream, which now starts with that pass, said
    # what the in-memory fit says).
    X = np.random.RandomState(0).randn(60, 3)
    for y in (_darr(np.array(["a", "b"] * 30), 20),
              dd.from_pandas(pd.Series(["a", "b"] * 30), npartitions=3)):
        with pytest.raises(ValueError, match=r"y must be numeric for a regressor, but could "
                                             r"not convert string.*use L0Classifier"):
            L0Regressor(hidden_layer_sizes=hidden, max_iter=5).fit(_darr(X, 20), y)
