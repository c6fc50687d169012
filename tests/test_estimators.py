"""L0Regressor and L0Classifier: reference models, recovery, determinism, errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression, LogisticRegression

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor, L0RegressorCV

# ------------------------------------------------------------ reference models
# With lam=0 every gate stays open and the refit is plain least squares or
# unpenalized maximum likelihood, so predictions must match scikit-learn's.
# Tolerances: float64 normal equations on well-conditioned standardized data
# agree with sklearn's lstsq to ~1e-10; L-BFGS stops at a gradient of 1e-7,
# which moves probabilities by far less than 1e-5.

def test_lam0_matches_linear_regression(rng):
    X = rng.randn(200, 6) * [1, 10, 0.1, 5, 1, 2] + 3
    y = X @ rng.randn(6) + rng.randn(200)
    ours = L0Regressor(lam=0.0, alpha=0.0, dtype="float64", random_state=0).fit(X, y)
    ref = LinearRegression().fit(X, y)
    assert ours.support_.all()
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)
    # the same type as LinearRegression's: a numpy float64 scalar for a 1-d y
    assert type(ours.intercept_) is type(ref.intercept_) is np.float64


def test_k_equal_p_matches_linear_regression_with_weights(rng):
    X = rng.randn(150, 4)
    y = X @ [1.0, -2.0, 0.5, 0.0] + rng.randn(150)
    sw = rng.uniform(0.1, 3, 150)
    ours = L0Regressor(k=4, alpha=0.0, dtype="float64", random_state=0).fit(X, y, sample_weight=sw)
    ref = LinearRegression().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_lam0_matches_logistic_regression(rng, n_classes):
    X = rng.randn(300, 5)
    logits = X @ rng.randn(5, n_classes)
    y = np.array([rng.choice(n_classes, p=np.exp(l) / np.exp(l).sum()) for l in logits])
    ours = L0Classifier(lam=0.0, alpha=0.0, dtype="float64", random_state=0).fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    assert ours.support_.all()
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_multi_output_regression(rng):
    X = rng.randn(200, 8)
    Y = np.column_stack([X[:, 0] - X[:, 1], 2 * X[:, 1] + X[:, 2]]) + 0.1 * rng.randn(200, 2)
    reg = L0Regressor(random_state=0).fit(X, Y)
    assert reg.coef_.shape == (2, 8) and reg.intercept_.shape == (2,)
    assert reg.predict(X).shape == (200, 2)
    np.testing.assert_array_equal(reg.get_support(indices=True), [0, 1, 2])


# ------------------------------------------------------------------- recovery
@pytest.mark.parametrize("k", [4, None])
def test_regressor_recovers_known_support(sparse_reg, k):
    X, y, coef, support = sparse_reg
    reg = L0Regressor(k=k, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.get_support(indices=True), support)
    assert np.all(reg.coef_[~reg.support_] == 0.0)
    np.testing.assert_allclose(reg.coef_[support], coef[support], rtol=0.3)


def test_classifier_recovers_known_support(sparse_clf):
    X, y, coef, support = sparse_clf
    clf = L0Classifier(k=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.get_support(indices=True), support)
    assert clf.coef_.shape == (1, X.shape[1])
    assert np.all(clf.coef_[:, ~clf.support_] == 0.0)


def _logistic_ebic(X, y, cols, alpha=1e-4):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from skl0._criteria import ebic

    n, p = X.shape
    Xs = StandardScaler().fit_transform(X)[:, cols]
    m = LogisticRegression(C=1 / (2 * alpha * n), tol=1e-10, max_iter=10_000).fit(Xs, y)
    nll = -np.sum(np.log(np.clip(m.predict_proba(Xs)[np.arange(n), y], 1e-300, None)))
    return ebic(2 * nll, len(cols), n, p)


def test_classifier_auto_keeps_the_true_support_at_its_ebic_minimum(sparse_clf):
    # On this draw a noise column ties with the true support (EBIC 375.950
    # against 375.957): lam="auto" must keep the true features and pick a
    # support whose EBIC is not above the true support's.
    X, y, coef, support = sparse_clf
    chosen = L0Classifier(random_state=0).fit(X, y).get_support(indices=True)
    assert set(support) <= set(chosen) and len(chosen) <= len(support) + 1
    assert _logistic_ebic(X, y, chosen) <= _logistic_ebic(X, y, support) + 1e-3


@pytest.mark.parametrize("k", [1, 3, 7])
def test_exactly_k_features(sparse_reg, k):
    X, y, _, _ = sparse_reg
    reg = L0Regressor(k=k, max_iter=100, random_state=1).fit(X, y)
    assert reg.support_.sum() == k
    assert np.count_nonzero(reg.coef_) <= k


def test_lam_orders_sparsity(sparse_reg):
    X, y, _, _ = sparse_reg
    sizes = [L0Regressor(lam=lam, random_state=0).fit(X, y).support_.sum() for lam in (1e-4, 1e-2, 1.0)]
    assert sizes[0] > sizes[1] > sizes[2] == 0


def test_rescaling_a_column_does_not_change_selection(sparse_reg):
    X, y, _, _ = sparse_reg
    X2 = X.copy()
    X2[:, 3] *= 1000.0
    X2[:, 7] *= 1e-3
    a = L0Regressor(k=4, dtype="float64", random_state=0).fit(X, y)
    b = L0Regressor(k=4, dtype="float64", random_state=0).fit(X2, y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.predict(X), b.predict(X2), rtol=1e-6)


def test_constant_column_is_never_selected(rng):
    X = rng.randn(100, 4)
    X[:, 2] = 5.0
    y = X[:, 0] + 0.1 * rng.randn(100)
    reg = L0Regressor(random_state=0).fit(X, y)
    assert not reg.support_[2]
    # Nor at a tiny positive lam, where the cold start's open gate sat within
    # the search's round-off tolerance (lam=1e-12 kept it, and
    # L0RegressorCV(lams=[1e-12, ...]) reported it in support_).
    labels = (y > 0).astype(int)
    for est, target in ((L0Regressor(lam=1e-12), y), (L0Classifier(lam=1e-12), labels),
                        (L0RegressorCV(lams=[1e-12, 1e6], cv=3), y)):
        assert not est.fit(X, target).support_[2]
    # ... also in a group of its own or at a price of its own (the group
    # search, and a classifier's joint solve, kept it at lam=1e-12 and 1e-6)
    for lam in (1e-12, 1e-6):
        for layout in (dict(groups=[0, 1, 2, 3]), dict(feature_costs=[1.0, 1.0, 2.0, 1.0])):
            for cls, target in ((L0Regressor, y), (L0Classifier, labels)):
                assert not cls(lam=lam, **layout).fit(X, target).support_[2]
    assert L0Regressor(lam=0.0).fit(X, y).support_.all()  # lam=0 prices nothing: all kept


# ------------------------------------------------------ classifier specifics
def test_string_labels_and_proba(sparse_clf):
    X, y, _, _ = sparse_clf
    labels = np.array(["no", "yes"])[y]
    clf = L0Classifier(k=4, random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.decision_function(X).shape == (len(X),)
    assert clf.score(X, labels) > 0.8


def test_multiclass_shapes(rng):
    X = rng.randn(300, 6)
    y = np.argmax(X[:, :3] * 2 + 0.3 * rng.randn(300, 3), axis=1)
    clf = L0Classifier(random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 6)
    assert clf.predict_proba(X).shape == (300, 3)
    assert clf.score(X, y) > 0.8
    assert clf.support_[:3].all()


def test_log_proba_finite_where_proba_underflows(rng):
    # Rows far from the boundary: 1 - expit(d) rounded to 0 from a logit of
    # about 37 (predict_proba then read 0 where the probability is 1e-20),
    # and predict_log_proba was log(0) = -inf there and beyond 745.
    X = rng.randn(80, 3)
    yb = np.where(X[:, 0] + 0.3 * rng.randn(80) > 0, "pos", "neg")
    y3 = np.array(["a", "b", "c"])[np.digitize(X[:, 0] + 0.3 * rng.randn(80), [-0.5, 0.5])]
    far = np.array([[1.0, 0.0, 0.0]]) * np.array([1.0, -1.0, 30.0, -30.0, 1e3, -1e3])[:, None]
    for y in (yb, y3):
        clf = L0Classifier(lam=1e-3).fit(X, y)
        d = clf.decision_function(far)
        P, L = clf.predict_proba(far), clf.predict_log_proba(far)
        assert np.all(np.isfinite(L)) and np.all(L <= 0)
        np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-14)
        assert np.array_equal(clf.classes_[L.argmax(1)], clf.predict(far))
        if d.ndim == 1:
            assert np.abs(d).max() > 800  # both regimes reached
            exact = -np.logaddexp(0, np.column_stack([d, -d]))
            assert np.any((np.abs(d) > 40) & (np.abs(d) < 700))
            assert np.all((P > 0) | (np.abs(d) > 745)[:, None])
        else:
            exact = d - np.logaddexp.reduce(d, axis=1, keepdims=True)
            assert np.any(P == 0)
        np.testing.assert_allclose(L, exact, rtol=1e-12, atol=1e-15)
        with np.errstate(divide="ignore"):
            np.testing.assert_array_equal(L[P > 0], np.log(P[P > 0]))
        near = clf.predict_proba(X)  # ordinary rows: log is log(predict_proba) as before
        np.testing.assert_array_equal(clf.predict_log_proba(X), np.log(near))


def test_single_class_error(rng):
    with pytest.raises(ValueError, match="single class"):
        L0Classifier().fit(rng.randn(10, 2), np.ones(10))
    # The label as the user wrote it, not numpy's repr (np.str_('yes'), np.int64(0)).
    for labels, shown in ((np.repeat("yes", 10), "'yes'"), (np.zeros(10, int), "0"),
                          (["yes"] * 10, "'yes'")):
        for est in (L0Classifier(), L0FeatureSelector(task="classification")):
            with pytest.raises(ValueError, match=rf"^y holds a single class \({shown}\); a "):
                est.fit(rng.randn(10, 2), labels)


# -------------------------------------------------------- determinism, state
def test_same_seed_same_result_and_global_rng_untouched(sparse_reg):
    X, y, _, _ = sparse_reg
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = L0Regressor(random_state=3).fit(X, y)
    b = L0Regressor(random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.feature_importances_, b.feature_importances_)
    assert a.loss_curve_ == b.loss_curve_
    assert torch.equal(torch_state, torch.get_rng_state())
    np.testing.assert_array_equal(np_state, np.random.get_state()[1])


def test_sample_weight_equals_repetition_float32(rng):
    X = rng.randn(40, 5)
    y = X[:, 0] - X[:, 1] + 0.1 * rng.randn(40)
    sw = rng.randint(1, 4, 40)
    a = L0Regressor(k=2, random_state=0).fit(X, y, sample_weight=sw)
    b = L0Regressor(k=2, random_state=0).fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-4, atol=1e-5)


def test_pickle_roundtrip_holds_no_torch_state(sparse_clf):
    X, y, _, _ = sparse_clf
    clf = L0Classifier(k=4, random_state=0).fit(X, y)
    blob = pickle.dumps(clf)
    assert not any(isinstance(v, torch.Tensor) for v in vars(clf).values())
    clone = pickle.loads(blob)
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))


def test_inputs_not_modified(sparse_reg):
    X, y, _, _ = sparse_reg
    X32 = np.asarray(X, dtype=np.float32)
    Xc, yc = X32.copy(), y.copy()
    sw = np.ones(len(y))
    L0Regressor(k=3, random_state=0).fit(X32, y, sample_weight=sw)
    np.testing.assert_array_equal(X32, Xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(sw, 1.0)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(lam=-1.0), "'lam' parameter"),
        (dict(lam="big"), "'lam' parameter"),
        (dict(k=0), "'k' parameter"),
        (dict(max_iter=0), "'max_iter' parameter"),
        (dict(init_prob=1.0), "'init_prob' parameter"),
        (dict(temperature=0.0), "'temperature' parameter"),
        (dict(dtype="float16"), "'dtype' parameter"),
    ],
)
def test_bad_parameters_are_named(sparse_reg, params, match):
    X, y, _, _ = sparse_reg
    with pytest.raises(ValueError, match=match):
        L0Regressor(**params).fit(X, y)


def test_k_larger_than_p_says_the_fix(rng):
    with pytest.warns(UserWarning, match=r"k=5 is larger.*n_features=3.*k <= 3"):
        L0Regressor(k=5).fit(rng.randn(20, 3), rng.randn(20))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_missing_cuda_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="CUDA is not available"):
        L0Regressor(device="cuda").fit(rng.randn(20, 3), rng.randn(20))


def test_auto_device_runs_small_data_on_the_cpu(rng, monkeypatch):
    # device="auto" takes CUDA only for an X of more than 2^22 numbers: a
    # small fit runs on the CPU (its host-side solves and second-order
    # refits), even where CUDA is present (simulated here: were CUDA taken,
    # this CPU-only machine would fail to make the generator or tensors).
    import skl0._device as device_module

    really_cuda = torch.cuda.is_available()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device_module.resolve_device("auto", numbers=300 * 30).type == "cpu"
    assert device_module.resolve_device("auto", numbers=(1 << 22) + 1).type == "cuda"
    assert device_module.resolve_device("auto").type == "cuda"  # no size: as before
    X = rng.randn(300, 30)
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.randn(300) > 0).astype(int)
    clf = L0Classifier(k=2).fit(X, y)
    assert clf.get_support(indices=True).tolist() == [0, 1]
    monkeypatch.setattr(device_module, "AUTO_CUDA_MIN_NUMBERS", 100)
    if not really_cuda:  # past the threshold "auto" takes CUDA, absent here
        with pytest.raises(RuntimeError, match="CUDA"):
            L0Classifier(k=2).fit(X, y)


def test_all_zero_sample_weight(rng):
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        L0Regressor().fit(rng.randn(20, 3), rng.randn(20), sample_weight=np.zeros(20))


def test_failed_fit_keeps_previous_model(sparse_reg, rng):
    X, y, _, _ = sparse_reg
    reg = L0Regressor(k=3, random_state=0).fit(X, y)
    coef = reg.coef_.copy()
    with pytest.raises(ValueError):
        reg.fit(X[:, :2], y[:-1])  # inconsistent numbers of rows
    np.testing.assert_array_equal(reg.coef_, coef)
    assert reg.n_features_in_ == X.shape[1]


def test_verbose_reports_progress_and_silent_by_default(sparse_reg, capsys):
    X, y, _, _ = sparse_reg
    L0Regressor(k=4, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""
    L0Regressor(k=4, verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "L0Regressor" in err and "open=" in err



def test_verbose_fits_the_same_model_as_silent(capsys):
    # verbose=0 passes no per-step callback (the points and steps skip the
    # counts they would report); the fits are those of verbose=1, which
    # reports them: a Gram problem's vertex path and a row problem's solves.
    from sklearn.datasets import load_breast_cancer, load_diabetes

    for make, (X, y) in ((lambda **kw: L0Regressor(**kw), load_diabetes(return_X_y=True)),
                         (lambda **kw: L0Classifier(k=3, **kw),
                          load_breast_cancer(return_X_y=True))):
        silent, shown = make(random_state=0).fit(X, y), make(verbose=1, random_state=0).fit(X, y)
        assert "open=" in capsys.readouterr().err
        for name in ("coef_", "intercept_", "feature_importances_", "lam_", "n_iter_"):
            np.testing.assert_array_equal(getattr(silent, name), getattr(shown, name))


def test_n_iter_counts_at_least_the_pass_that_confirms_a_solution():
    # A Gram problem whose cold start (every gate open) is already the
    # vertex the search ends at takes no flip and no L-BFGS-B step; the fit
    # still reports one iteration, as scikit-learn's checks require.
    from sklearn.utils.estimator_checks import (
        check_non_transformer_estimators_n_iter,
        check_transformer_n_iter,
    )

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    y = X @ [1.0, 2.0, 3.0]
    for kw in (dict(lam=0.001), dict(k=3)):
        assert L0Regressor(**kw).fit(X, y).n_iter_ == 1
    check_transformer_n_iter("L0FeatureSelector",
                             L0FeatureSelector(task="regression", lam=0.001))
    check_non_transformer_estimators_n_iter("L0Regressor", L0Regressor(lam=0.001))


def test_auto_reads_the_open_gates_as_the_path_points_do(monkeypatch):
    # lam="auto" solves the gates again at lam_ only when the chosen
    # support is not what the point's gates keep open. A point's support is
    # gate.mask() (the deterministic gate above 0, log_alpha > -2.40); the
    # check read prob_open() > 0.5 (log_alpha > -1.60) instead, and took a
    # gate between the two for closed.
    import skl0._selection as selection
    from skl0.nn import FeatureGate

    def no_solve(*args, **kwargs):
        raise AssertionError("the gates were solved again")

    monkeypatch.setattr(selection, "train_gates", no_solve)
    monkeypatch.setattr(selection, "set_support_vertex", no_solve)
    gate = FeatureGate(3)
    with torch.no_grad():
        gate.log_alpha.copy_(torch.tensor([8.0, -2.0, -8.0]))
    assert gate.mask().tolist() == [True, True, False]
    assert float(gate.prob_open()[1]) < 0.5
    selection.gates_at_support(None, gate, None, np.array([0, 1]), None, 0.01, {}, None)


def test_auto_solved_again_from_the_support_forms_no_point_logits(monkeypatch):
    # Diabetes' lam="auto" keeps the best subset of 5 columns, which the
    # reported point's gates do not keep open: the gates are solved again
    # from the support and every logit set there. The point's logits (a
    # tensor a vertex point makes per read) were formed, copied into the
    # gate and read back by open_gates first, then overwritten (~3% of the
    # fit); the point's own open gates (PathPoint.opened) tell the same.
    from sklearn.datasets import load_diabetes

    import skl0._gate_path as gate_path

    X, y = load_diabetes(return_X_y=True)
    reads = []
    make = gate_path._Vertex.log_alpha
    monkeypatch.setattr(gate_path._Vertex, "log_alpha",
                        lambda vertex: reads.append(1) or make(vertex))
    model = L0Regressor(random_state=0).fit(X, y)
    assert reads == []
    assert model.support_.sum() == 5


def _fitted(est):
    """The public fitted attributes (names ending in ``_``) of ``est``."""
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


def _assert_same_fit(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(np.asarray(a[k]), np.asarray(b[k])), k


def test_walks_leave_the_modules_to_the_chosen_point(monkeypatch):
    # lam="auto" and exact k walk their Gram path without setting the gate
    # and head at its last vertex (leave_at_last=False): every branch after
    # the walk sets them from the chosen point (or replaces the head by the
    # refit). Every fitted attribute equals that of the walk that sets them.
    from sklearn.datasets import load_diabetes

    import skl0._selection as selection

    X, y = load_diabetes(return_X_y=True)
    X, y = X[::2], y[::2]
    cases = [{}, {"k": 4}, {"refit": False}, {"k": 4, "refit": False},
             {"lam": 0.001, "k": 2}, {"lam": 0.001, "k": 2, "refit": False}]
    skipping = [_fitted(L0Regressor(**kw).fit(X, y)) for kw in cases]
    walk = selection.gate_path
    monkeypatch.setattr(selection, "gate_path",
                        lambda *a, **kw: walk(*a, **{**kw, "leave_at_last": True}))
    for kw, fitted in zip(cases, skipping):
        _assert_same_fit(fitted, _fitted(L0Regressor(**kw).fit(X, y)))


def test_encoded_targets_of_positive_weights_are_those_of_the_selected_rows():
    # With every weight positive the targets are scaled and standardized
    # from Y itself, not from copies of its rows of positive weight: the
    # same numbers, to the bit, as that selection gives (1-d, C- and
    # F-ordered 2-d targets, a constant output, huge and tiny values), and
    # a weightless row still gets 0 and no say.
    from skl0._numerics import power_of_two_scale, target_moments

    def selected(Y, sw):
        pos = sw > 0
        scale = power_of_two_scale(np.max(np.abs(Y[pos]), axis=0))
        kept = Y[pos] / scale
        mean, std = target_moments(kept, sw[pos] / sw.sum())
        std[np.all(kept == kept[:1], axis=0)] = 1.0
        Ys = np.zeros_like(Y, dtype=np.float64)
        Ys[pos] = (kept - mean) / std
        return Ys, mean * scale, std * scale

    rng = np.random.default_rng(0)
    y = rng.normal(size=50) * 1e3 + 7
    Y = np.c_[y, rng.normal(size=50) * 1e-200, np.full(50, 0.625), rng.normal(size=50) * 1e200]
    ones, uneven = np.ones(50), rng.uniform(0.1, 3.0, 50)
    zero = uneven.copy()
    zero[3] = 0.0
    for target in (y, Y, np.asfortranarray(Y)):
        for sw in (ones, uneven, zero):
            est = L0Regressor()
            Ys, _ = est._encode_targets(target, sw)
            want = selected(target.reshape(50, -1), sw)
            assert np.array_equal(Ys, want[0]) and Ys.strides == want[0].strides
            assert np.array_equal(est._y_mean, want[1]) and np.array_equal(est._y_std, want[2])


def test_unit_weights_are_scikit_learns_weights_of_none():
    # fit without sample_weight takes float64 ones (unit_weights) instead of
    # asking scikit-learn's weight check: the same array for dense, float32,
    # sparse and torch rows.
    import scipy.sparse as sp

    from skl0._base import unit_weights
    from skl0._compat import _check_sample_weight

    X = np.random.default_rng(0).normal(size=(7, 3))
    for rows in (X, X.astype(np.float32), sp.csr_matrix(X), sp.csc_matrix(X),
                 torch.as_tensor(X)):
        want = _check_sample_weight(None, rows, dtype=np.float64, ensure_non_negative=True)
        got = unit_weights(rows)
        assert np.array_equal(got, want) and got.dtype == want.dtype
        assert got.flags.c_contiguous and got.flags.writeable
