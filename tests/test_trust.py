"""Issue 15, "Trust: nothing lost, nothing silently wrong": one test (or more) per item.

docs/reliability.md lists the behaviours tested here.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from packaging.requirements import Requirement
from sklearn.base import clone

from skl0 import L0Classifier, L0FeatureSelector, L0FeatureSelectorCV, L0Regressor

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------- data loss


def _reg(n=240, p=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p)) * 3.0 + 50.0  # a mean, so a shift would show
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y


def _as_input(X, kind, tmp_path):
    """``X`` as a copy ("array") or as a memory map of X.npy opened in mode "r+" or "r"."""
    if kind == "array":
        return X.copy()
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64,
                                   shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    return np.load(tmp_path / "X.npy", mmap_mode=kind.split()[1])


@pytest.mark.parametrize("kind", ["array", "memmap r+", "memmap r"])
@pytest.mark.parametrize("head", [(), (3,)])
def test_partial_fit_never_writes_into_a_float64_X(kind, head, tmp_path):
    X, y = _reg()
    Xin = _as_input(X, kind, tmp_path)
    est = L0Regressor(k=2, hidden_layer_sizes=head, max_iter=20, random_state=0)
    for start in range(0, X.shape[0], 80):
        est.partial_fit(Xin[start : start + 80], y[start : start + 80])
    np.testing.assert_array_equal(np.asarray(Xin), X)
    if kind != "array":
        del Xin
        np.testing.assert_array_equal(np.load(tmp_path / "X.npy"), X)  # the file too
    if not head:
        full = L0Regressor(k=2, random_state=0).fit(X, y)
        np.testing.assert_array_equal(est.support_, full.support_)


@pytest.mark.parametrize("kind", ["array", "memmap r"])
@pytest.mark.parametrize("k", [None, 2])
def test_binary_classifier_never_writes_into_a_float64_X(kind, k, tmp_path):
    # The binary log loss on small data runs IRLS over vertices and numpy
    # refits from a standardized copy of X: the caller's X (a read-only
    # memory map would raise on any write) stays as it was.
    X, y = _reg()
    labels = (y > np.median(y)).astype(int)
    Xin = _as_input(X, kind, tmp_path)
    est = L0Classifier(k=k, random_state=0).fit(Xin, labels)
    np.testing.assert_array_equal(np.asarray(Xin), X)
    ref = L0Classifier(k=k, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(est.support_, ref.support_)


# ------------------------------------------------------------------ security


def test_pyarrow_floor_is_past_cve_2023_47248():
    """pyarrow < 14.0.1 runs code from an untrusted Parquet file (CVE-2023-47248)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the test extra's tomli
        import tomli as tomllib
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for extra in meta.get("optional-dependencies", {}).values()
            for r in extra]
    reqs += [Requirement(r) for r in meta.get("dependencies", [])]
    arrow = [r for r in reqs if r.name == "pyarrow"]
    assert arrow, "pyarrow should be an optional dependency (parquet extra)"
    for r in arrow:
        assert not r.specifier.contains("14.0.0"), str(r)
        assert not r.specifier.contains("13.0.0"), str(r)
        assert r.specifier.contains("14.0.1"), str(r)


# ------------------------------------------------------ silent wrong results


def _offset_data(n=600, seed=0):
    """A Unix timestamp within one day and a latitude within one city, plus noise columns."""
    rng = np.random.RandomState(seed)
    t = 1.7e9 + rng.uniform(0, 86400, n)
    lat = 45.5 + rng.uniform(-0.05, 0.05, n)
    Z = rng.standard_normal((n, 6))
    X = np.column_stack([t, lat, Z])
    y = (t - 1.7e9) / 86400 * 3 + (lat - 45.5) / 0.05 * 2 + Z[:, 0]
    y = y + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_large_offset_small_spread_columns_keep_their_signal(dtype):
    X, y = _offset_data()
    reg = L0Regressor(k=3, dtype=dtype, random_state=0).fit(X, y)
    assert reg.get_support(indices=True).tolist() == [0, 1, 2]
    assert reg.score(X, y) > 0.99  # was 0.50 in float32
    auto = L0Regressor(dtype=dtype, random_state=0).fit(X, y)
    assert auto.get_support(indices=True).tolist() == [0, 1, 2]
    yc = (y > np.median(y)).astype(int)
    clf = L0Classifier(k=3, dtype=dtype, random_state=0).fit(X, yc)
    assert clf.get_support(indices=True).tolist() == [0, 1, 2]  # kept the timestamp


@pytest.mark.parametrize("dtype", [None, "float32"])
def test_fit_and_partial_fit_agree_on_offset_columns(dtype):
    X, y = _offset_data()
    full = L0Regressor(k=3, dtype=dtype, random_state=0).fit(X, y)
    part = L0Regressor(k=3, dtype=dtype, random_state=0)
    for start in range(0, X.shape[0], 150):
        part.partial_fit(X[start : start + 150], y[start : start + 150])
    np.testing.assert_array_equal(part.support_, full.support_)
    rtol = 1e-9 if dtype is None else 1e-5  # float64 / float32 round-off
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=rtol)
    np.testing.assert_allclose(part.predict(X), full.predict(X), rtol=0, atol=rtol * y.std())


@pytest.mark.parametrize("Est", [L0Regressor, L0Classifier])
def test_dtype_none_computes_in_the_input_dtype(Est):
    X, y = _reg(n=120)
    if Est is L0Classifier:
        y = (y > np.median(y)).astype(int)
    for data, name in [(X, "float64"), (X.astype(np.float32), "float32")]:
        default = Est(k=2, random_state=0).fit(data, y)
        explicit = Est(k=2, dtype=name, random_state=0).fit(data, y)
        np.testing.assert_array_equal(default.coef_, explicit.coef_)
        np.testing.assert_array_equal(default.intercept_, explicit.intercept_)


def test_float32_fits_export_float64_and_transform_keeps_the_dtype():
    # As docs/reliability.md says: unlike scikit-learn's linear models (float32
    # coef_ and predictions for float32 X), the raw-unit model is float64, so
    # a column shifted by its mean in the fit keeps its digits in predict;
    # transform (a column selection) keeps X's dtype.
    X, y = _reg(n=120)
    X32, yc = X.astype(np.float32), (y > np.median(y)).astype(int)
    reg = L0Regressor(k=2, random_state=0).fit(X32, y)
    clf = L0Classifier(k=2, random_state=0).fit(X32, yc)
    for est in (reg, clf):
        assert est.coef_.dtype == np.asarray(est.intercept_).dtype == np.float64
        assert est.feature_importances_.dtype == np.float64
    assert reg.predict(X32).dtype == clf.decision_function(X32).dtype == np.float64
    assert clf.predict_proba(X32).dtype == np.float64
    sel = L0FeatureSelector(k=2, random_state=0).fit(X32, y)
    assert sel.transform(X32).dtype == np.float32


@pytest.mark.parametrize("Sel", [L0FeatureSelector, L0FeatureSelectorCV])
def test_selector_tags_declare_the_float32_that_transform_keeps(Sel):
    # transform is a column selection, so float32 X (dense or sparse) comes
    # back float32; the tag said float64 only (scikit-learn's default), so
    # check_transformer_preserve_dtypes never ran on float32 and a tool that
    # reads the tag was told the output would be cast.
    from sklearn.utils import get_tags
    from sklearn.utils.estimator_checks import check_transformer_preserve_dtypes

    assert get_tags(Sel()).transformer_tags.preserves_dtype == ["float64", "float32"]
    check_transformer_preserve_dtypes(Sel.__name__, Sel(random_state=0))
    X, y = _reg(n=120)
    sel = Sel(random_state=0).fit(X, y)  # fitted in float64, applied to float32
    assert sel.transform(sp.csr_matrix(X.astype(np.float32))).dtype == np.float32


def test_default_regressor_weights_equal_repetitions_at_sklearn_tolerance():
    """What check_sample_weight_equivalence_on_dense_data asks of the defaults (rtol 1e-7)."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 5)) + 10.0
    y = X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(60)
    sw = rng.randint(0, 3, size=60)
    weighted = L0Regressor().fit(X, y, sample_weight=sw)
    repeated = L0Regressor().fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_array_equal(weighted.support_, repeated.support_)
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-7)


# ------------------------------------------------------ crashes and messages


def _all_fits():
    """(name, callable) for one small fit of every kind of estimator."""
    import skl0
    from skl0.calibration import SparseCalibrator

    X, y = _reg(n=60, p=4)
    yc = (y > np.median(y)).astype(int)
    M = np.abs(X[:, :3])
    return {
        "L0Regressor": lambda: L0Regressor(k=2).fit(X, y),
        "L0Regressor(mlp)": lambda: L0Regressor(k=2, hidden_layer_sizes=(3,), max_iter=10,
                                                random_state=0).fit(X, y),
        "L0Classifier": lambda: L0Classifier().fit(X, yc),
        "L0FeatureSelector": lambda: skl0.L0FeatureSelector(k=2).fit(X, y),
        "L0RegressorCV": lambda: skl0.L0RegressorCV(cv=2, n_lams=3).fit(X, y),
        "partial_fit": lambda: L0Regressor(k=2).partial_fit(X, y),
        "partial_fit(clf)": lambda: L0Classifier(k=2, random_state=0).partial_fit(
            X, yc, classes=[0, 1]),
        "l0_path": lambda: skl0.l0_path(X, y, n_lams=3),
        "SparseCalibrator": lambda: SparseCalibrator(k=20, max_iter=20, polish_iter=5,
                                                     random_state=0).fit(M, M.sum(0)),
    }


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
@pytest.mark.parametrize("name", list(_all_fits()))
def test_fit_works_inside_no_grad_and_inference_mode(mode, name):
    import torch

    fit = _all_fits()[name]
    expected = fit()
    context = torch.no_grad() if mode == "no_grad" else torch.inference_mode()
    with context:
        got = fit()
        assert not torch.is_grad_enabled()  # the caller's mode is back
    for attr in ("support_", "coef_", "weights_"):
        if hasattr(expected, attr):
            np.testing.assert_array_equal(getattr(got, attr), getattr(expected, attr))


@pytest.mark.parametrize("Est", [L0Regressor, L0Classifier])
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_overflowing_weight_total_is_an_error(Est, how):
    X, y = _reg(n=40, p=3)
    if Est is L0Classifier:
        y = (y > np.median(y)).astype(int)
    sw = np.full(40, 1e307)
    est = Est(k=1)
    with pytest.raises(ValueError, match=r"sample_weight sums to inf .*overflows float64.*"
                                         r"sample_weight / sample_weight.max\(\)"):
        if how == "fit":
            est.fit(X, y, sample_weight=sw)
        elif Est is L0Classifier:
            est.partial_fit(X, y, classes=[0, 1], sample_weight=sw)
        else:
            est.partial_fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("Est", ["L0Classifier", "L0ClassifierCV", "L0FeatureSelector"])
def test_zero_weight_on_a_whole_class_is_an_error(Est):
    import skl0

    X, y = _reg(n=40, p=3)
    y = np.where(y > np.median(y), "b", "a")
    sw = np.where(y == "b", 0.0, 1.0)
    kw = {"task": "classification"} if Est == "L0FeatureSelector" else {}
    with pytest.raises(ValueError, match=r"sample_weight is zero on every sample of "
                                         r"class\(es\) \['b'\], so only class 'a'"):
        getattr(skl0, Est)(k=1, **kw).fit(X, y, sample_weight=sw) if Est != "L0ClassifierCV" \
            else skl0.L0ClassifierCV(cv=2, n_lams=2).fit(X, y, sample_weight=sw)


# ----------------------------------------------------------- command line


def _cli(argv, capsys):
    from skl0.cli import main

    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def _one_line(status, err, *fragments):
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture
def table(tmp_path):
    import pandas as pd

    X, y = _reg(n=60, p=4)
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["y"] = y
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def survey_files(tmp_path):
    import pandas as pd

    rng = np.random.RandomState(0)
    M = pd.DataFrame(rng.randint(0, 3, size=(50, 3)).astype(float), columns=["p", "q", "r"])
    M.insert(0, "weight", [f"id{i}" for i in range(50)])  # ids in a column called weight
    M.to_csv(tmp_path / "M.csv", index=False)
    totals = M[["p", "q", "r"]].sum() * 2.0
    pd.DataFrame({"name": totals.index, "value": totals.values}).to_csv(
        tmp_path / "T.csv", index=False)
    (tmp_path / "T_noheader.csv").write_text(
        "".join(f"{k},{v}\n" for k, v in totals.items()))
    return tmp_path, totals


CAL = ["--k", "10", "--max-iter", "40", "--polish-iter", "10"]
SEL = ["-t", "y", "--k", "2", "--max-iter", "20"]


def test_cli_select_refuses_to_write_over_its_input(table, capsys):
    before = table.read_bytes()
    for extra in ([], ["--force"]):
        status, out, err = _cli(["select", table, *SEL, "-o", table, *extra], capsys)
        _one_line(status, err, "is the input file", "never overwrites its input")
        assert "fitted" not in out  # refused before the fit
    assert table.read_bytes() == before
    # the same file under another spelling
    other = table.parent / "." / table.name
    _one_line(*_cli(["select", table, *SEL, "-o", other, "--force"], capsys)[::2],
              "is the input file")


def test_cli_calibrate_refuses_to_write_over_an_input(survey_files, capsys):
    root, _ = survey_files
    before = (root / "M.csv").read_bytes(), (root / "T.csv").read_bytes()
    for out_path in ("M.csv", "T.csv"):
        status, _, err = _cli(["calibrate", root / "M.csv", root / "T.csv", *CAL,
                                 "--id", "weight", "-o", root / out_path, "--force"], capsys)
        _one_line(status, err, "is the input file")
    assert ((root / "M.csv").read_bytes(), (root / "T.csv").read_bytes()) == before


@pytest.mark.parametrize("command", ["select", "calibrate"])
def test_cli_overwrites_an_existing_file_only_with_force(command, table, survey_files, capsys):
    root, _ = survey_files
    out_path = root / "existing.csv"
    out_path.write_text("precious\n")
    args = (["select", table, *SEL] if command == "select"
            else ["calibrate", root / "M.csv", root / "T.csv", *CAL, "--id", "weight"])
    status, out, err = _cli([*args, "-o", out_path], capsys)
    _one_line(status, err, "already exists", "--force")
    assert "fitted" not in out and "kept" not in out  # refused before the fit
    assert out_path.read_text() == "precious\n"
    status, _, err = _cli([*args, "-o", out_path, "--force"], capsys)
    assert status == 0, err
    assert out_path.read_text() != "precious\n"


def test_cli_calibrate_keeps_an_id_column_called_weight(survey_files, capsys):
    import pandas as pd

    root, _ = survey_files
    status, _, err = _cli(["calibrate", root / "M.csv", root / "T.csv", *CAL, "--id", "weight",
                           "-o", root / "w.csv"], capsys)
    assert status == 0, err
    out = pd.read_csv(root / "w.csv")
    assert list(out.columns) == ["weight", "calibrated_weight"]
    assert out["weight"].str.startswith("id").all()  # the ids, not the weights
    assert (out["calibrated_weight"] > 0).all() and len(out) == 10


def test_cli_targets_file_without_header_keeps_its_first_target(survey_files, capsys):
    root, _ = survey_files
    status, out, err = _cli(["calibrate", root / "M.csv", root / "T_noheader.csv", *CAL,
                             "--id", "weight"], capsys)
    assert status == 0, err
    assert "3 targets" in out  # p, q and r: the first line is not a header
    assert "'p'" not in err


@pytest.mark.parametrize("seed", ["-1", "4294967296", "x"])
@pytest.mark.parametrize("command", ["select", "calibrate"])
def test_cli_bad_random_state_is_one_line(seed, command, table, survey_files, capsys):
    root, _ = survey_files
    args = (["select", table, *SEL] if command == "select"
            else ["calibrate", root / "M.csv", root / "T.csv", *CAL])
    status, _, err = _cli([*args, "--random-state", seed], capsys)
    _one_line(status, err, "--random-state", "0 to 4294967295")


def test_cli_json_output_is_valid_json_without_nan(tmp_path, capsys):
    import json

    import pandas as pd

    # A held-out split of one row: R^2 is NaN there.
    X, y = _reg(n=5, p=3)
    frame = pd.DataFrame(X, columns=list("abc"))
    frame["y"] = y
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    status, _, err = _cli(["select", tmp_path / "tiny.csv", "-t", "y", "--k", "1",
                           "--max-iter", "10", "--test-size", "0.2",
                           "-o", tmp_path / "out.json"], capsys)
    assert status == 0, err
    text = (tmp_path / "out.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    info = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert info["held_out_score"] is None


def test_cli_one_hot_refuses_an_identifier_column(tmp_path, capsys):
    import pandas as pd

    X, y = _reg(n=80, p=2)
    frame = pd.DataFrame(X, columns=["a", "b"])
    frame["user_id"] = [f"u{i}" for i in range(80)]
    frame["colour"] = np.resize(["red", "green", "blue"], 80)
    frame["y"] = y
    frame.to_csv(tmp_path / "ids.csv", index=False)
    status, _, err = _cli(["select", tmp_path / "ids.csv", *SEL, "--one-hot"], capsys)
    _one_line(status, err, "--one-hot: column 'user_id' has 80 distinct values in 80 rows",
              "--drop it")
    status, _, err = _cli(["select", tmp_path / "ids.csv", *SEL, "--one-hot",
                             "--drop", "user_id"], capsys)
    assert status == 0, err  # a low-cardinality text column is still expanded


def test_cli_output_problems_come_before_the_fit(table, tmp_path, capsys):
    # --k 9 on a table of 4 feature columns is refused before any fit (the
    # estimator itself would warn and keep all 4); an output problem is
    # named even before that.
    bad_k = ["-t", "y", "--k", "9", "--max-iter", "20"]
    status, _, err = _cli(["select", table, *bad_k, "-o", tmp_path / "ok.csv"], capsys)
    _one_line(status, err, "--k 9 is larger than the 4 feature columns")
    (tmp_path / "adir.csv").mkdir()
    for out_path, fragment in [(tmp_path / "adir.csv", "is a folder"),
                               (tmp_path / "no" / "x.csv", "does not exist"),
                               (tmp_path / "x.xlsx", "must end in")]:
        status, _, err = _cli(["select", table, *bad_k, "-o", out_path], capsys)
        _one_line(status, err, fragment)
        assert "--k 9" not in err
    assert not (tmp_path / "ok.csv").exists()


def test_classifier_cv_names_the_fold_with_a_single_class():
    from sklearn.model_selection import KFold

    from skl0 import L0ClassifierCV

    X, _ = _reg(n=40, p=3)
    y = np.zeros(40, dtype=int)
    y[:3] = 1  # a rare class, all in the first KFold test fold
    with pytest.raises(ValueError, match=r"Fold 1 of 5 of cv=KFold\(.*\) has a single class "
                                         r"\(0\) in its training rows") as info:
        L0ClassifierCV(cv=KFold(5), n_lams=2).fit(X, y)
    assert "the rarest class, 1, has 3 sample(s) in y" in str(info.value)
    assert "StratifiedKFold" in str(info.value)
    # Stratified folds (an int cv) fit.
    L0ClassifierCV(cv=3, n_lams=2).fit(X, y)


# ------------------------------------------------------------ lam="auto"


def _sparse_signal(n, p, s, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:s] = rng.uniform(2, 4, s)
    return X, X @ beta + 0.01 * rng.standard_normal(n)


@pytest.mark.parametrize("scale", [10.0, 1000.0, 0.01])
def test_auto_warns_when_weights_are_not_on_the_frequency_scale(scale):
    """Rescaled weights change what lam="auto" keeps: that is never silent."""
    X, y = _sparse_signal(60, 20, 3)
    with pytest.warns(UserWarning, match=r"reads sample_weight as frequencies.*"
                                         r"sample_weight / sample_weight.mean\(\)"):
        L0Regressor().fit(X, y, sample_weight=np.full(60, scale))


@pytest.mark.parametrize("params, rule", [
    ({"k": 3, "keep_redundant": True}, "k=3 with keep_redundant=True"),
    ({"k": 3, "hidden_layer_sizes": (4,), "max_iter": 20}, "k=3 with an MLP head"),
    ({"hidden_layer_sizes": (4,), "max_iter": 20}, "lam='auto'"),
    ({"k": 3, "hidden_layer_sizes": "auto"}, "hidden_layer_sizes='auto'"),
])
def test_every_rule_that_counts_weights_as_rows_warns_about_their_scale(params, rule):
    # keep_redundant's F test, the validated point of an MLP head and the
    # automatic head's nonlinearity test read the total weight as their
    # sample size, as lam="auto"'s criterion does.
    X, y = _sparse_signal(60, 20, 3)
    with pytest.warns(UserWarning, match=re.escape(rule) + " reads sample_weight as frequencies"):
        L0Regressor(random_state=0, **params).fit(X, y, sample_weight=np.full(60, 10.0))


def test_partial_fit_warns_about_the_weights_scale_as_fit():
    # The stream's lam="auto" counts the total weight as its n, as fit does
    # (weights of 1000 keep 19 of 20 columns where weights of 1 keep the 3
    # true ones): fit warned, partial_fit said nothing (both modes).
    import warnings

    X, y = _sparse_signal(60, 20, 3)
    for est in (L0Regressor(random_state=0),  # exact mode
                L0Regressor(hidden_layer_sizes=(4,), random_state=0, max_iter=5)):
        with pytest.warns(UserWarning, match="lam='auto' reads sample_weight as frequencies"):
            est.partial_fit(X, y, sample_weight=np.full(60, 1000.0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # weights of mean 1, or k: no warning
            clone(est).partial_fit(X, y, sample_weight=np.full(60, 1.5))
            clone(est).set_params(k=3).partial_fit(X, y, sample_weight=np.full(60, 1000.0))


def test_exact_k_rules_that_read_the_total_weight_warn_about_its_scale():
    # Exact k with a linear head reads no sample size, but for two rules:
    # more columns than samples (lam="auto"'s screening keeps
    # max(n // 2, ...) columns, n the total weight) and a multinomial log
    # loss (its swap search ranks supports at the ridge 1 / (2n)). Weights
    # scaled by 7 changed the support there without a word.
    import warnings

    rng = np.random.RandomState(0)
    X = rng.standard_normal((24, 40))
    lin = X[:, 0] + 0.7 * X[:, 1] - 0.5 * X[:, 2]
    y3 = np.digitize(lin + 0.5 * rng.standard_normal(24), [-0.6, 0.6])
    sw = rng.uniform(0.5, 1.5, 24)
    cases = [
        (L0Regressor(k=2), lin + 0.5 * rng.standard_normal(24), X,
         "k=2 on more columns than samples"),
        (L0Classifier(k=2), y3, X[:, :8], "k=2 with 3 classes"),
        (L0Classifier(k=2, lam=1e-4), y3, X[:, :8], "k=2 with 3 classes"),
    ]
    for est, y, Xc, rule in cases:
        with pytest.warns(UserWarning, match=re.escape(rule) + ".* reads sample_weight as"):
            clone(est).fit(Xc, y, sample_weight=sw * 7.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            clone(est).fit(Xc, y, sample_weight=sw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cap at lam=0.3 does not bind: no k search
        L0Classifier(k=5, lam=0.3).fit(X[:, :8], y3, sample_weight=sw * 7.0)
        L0Regressor(k=2).fit(X[:, :8], lin, sample_weight=sw * 7.0)  # n > p: no screening


def test_keep_redundant_over_groups_reads_no_sample_size():
    # keep_redundant does not apply to exact k over groups (nor its F
    # test), so the weights' scale changes nothing there and no warning says
    # it does (it did: docs audit, session 30).
    import warnings

    X, y = _sparse_signal(60, 6, 2)
    fits = []
    for scale in (0.01, 1.0, 1000.0):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fits.append(L0Regressor(k=2, groups=[0, 0, 1, 1, 2, 2], keep_redundant=True).fit(
                X, y, sample_weight=np.full(60, scale)))
        said = [str(w.message) for w in caught]
        assert not [m for m in said if "reads sample_weight as frequencies" in m]
        assert [m for m in said if "keep_redundant=True has no effect with groups" in m]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.support_, fits[0].support_)


def test_auto_weights_rescaled_to_mean_one_select_as_unweighted():
    import warnings

    X, y = _sparse_signal(60, 20, 3)
    plain = L0Regressor().fit(X, y)
    design = np.random.RandomState(1).uniform(500, 1500, 60)  # survey design weights
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # weights of mean 1: no warning
        for sw in (design / design.mean(), np.ones(60), np.full(60, 2.0)):
            L0Regressor().fit(X, y, sample_weight=sw)
        # k (a linear regression on more rows than columns) and numeric lam
        # do not read the weights' scale: no warning either
        L0Regressor(k=3).fit(X, y, sample_weight=design)
        L0Regressor(lam=0.01).fit(X, y, sample_weight=design)
    rel = L0Regressor().fit(X, y, sample_weight=np.full(60, 7.0) / 7.0)
    np.testing.assert_array_equal(rel.support_, plain.support_)


@pytest.mark.parametrize("p", [100, 300])
def test_auto_weights_rescaled_to_mean_one_screen_as_unweighted(p):
    # Equal weights rescaled to mean 1 sum to 99.99999999999999 for 100 rows
    # (as about one draw in five of uneven weights does), which the screen
    # read as 99 rows: 49 columns screened instead of 50 at p=300, and a
    # square X (p = 100) was screened at all, unlike the unweighted fit.
    X, y = _sparse_signal(100, p, 3)
    sw = np.full(100, 0.7) / np.full(100, 0.7).mean()
    assert sw.sum() < 100
    plain = L0Regressor().fit(X, y)
    rel = L0Regressor().fit(X, y, sample_weight=sw)
    assert getattr(rel, "n_screened_", None) == getattr(plain, "n_screened_", None)
    np.testing.assert_array_equal(rel.support_, plain.support_)


@pytest.mark.parametrize("n, p, s, seed", [(40, 50, 10, 0), (63, 2308, 15, 1)])
def test_auto_warns_when_its_choice_sits_at_the_size_cap(n, p, s, seed):
    X, y = _sparse_signal(n, p, s, seed)
    # The documented cap (user guide, the warning): n / (log log n * log p).
    cap = int(n / (np.log(np.log(n)) * np.log(p)))
    with pytest.warns(UserWarning, match=rf"lam='auto' kept {cap} features, the most .*"
                                         rf"n=\d+ samples and p={p} features.*= {cap}\).*"
                                         r"k=.*L0RegressorCV"):
        reg = L0Regressor().fit(X, y)
    assert reg.support_.sum() == cap


# ------------------------------------------------------------ calibration


def _survey(n=50, q=4, seed=0):
    rng = np.random.RandomState(seed)
    M = rng.randint(0, 3, size=(n, q)).astype(float)
    return M, M.T @ rng.uniform(1, 3, n)


def _calibrate(M, targets, sw=None, **kw):
    from skl0.calibration import SparseCalibrator

    params = {"random_state": 0, "max_iter": 300, "polish_iter": 100}
    return SparseCalibrator(**{**params, **kw}).fit(M, targets, sample_weight=sw)


@pytest.mark.parametrize("design", [2.0, 20.0, 1000.0])
def test_calibration_l2_alone_never_empties_the_selection(design):
    """Design weights above the calibrated level: the pull used to close every gate."""
    import warnings

    M, targets = _survey()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "No record was kept", no missed targets
        cal = _calibrate(M, targets, np.full(50, design), l2=1.0, lam=0.0)
    assert cal.n_records_kept_ == 50
    assert np.abs(cal.relative_errors_).max() < 0.1


@pytest.mark.parametrize("k", [10, None])
@pytest.mark.parametrize("scale", [1e20, 1e30])
def test_calibration_with_huge_design_weights(k, scale):
    M, targets = _survey()
    cal = _calibrate(M, targets, np.full(50, scale), k=k)
    assert cal.n_records_kept_ == (k or 50)
    assert np.abs(cal.relative_errors_).max() < 1e-3


@pytest.mark.parametrize("dtype", ["float32", None])
def test_calibration_with_huge_totals(dtype):
    M, targets = _survey()
    cal = _calibrate(M.astype(np.float32) if dtype else M, targets * 1e25, k=10, dtype=dtype)
    assert np.abs(cal.relative_errors_).max() < 1e-3  # was -100% (weights stuck at 1)


def test_calibration_totals_beyond_float32_are_an_error_naming_dtype():
    M, targets = _survey()
    with pytest.raises(ValueError, match=r"beyond what dtype='float32' holds.*"
                                         r"dtype='float64'"):
        _calibrate(M, targets * 1e40, k=10, dtype="float32")
    cal = _calibrate(M, targets * 1e40, k=10, dtype="float64")
    assert np.abs(cal.relative_errors_).max() < 1e-3


def test_calibration_warns_when_it_misses_its_targets():
    M, targets = _survey()
    with pytest.warns(UserWarning, match=r"Calibration missed its targets: the relative "
                                         r"error of 'target_\d' is"):
        _calibrate(M, targets, k=10, max_iter=1, polish_iter=0, learning_rate=1e-6,
                   sw=np.full(50, 1e-3) * np.arange(1, 51))


# --------------------------------------------------------- random state


def test_random_state_and_numpy_global_rng_match_the_docs():
    """random_state=None draws one seed from numpy's global RNG (scikit-learn's
    convention); an int leaves it alone. docs/reliability.md says exactly that."""
    X, y = _reg(n=60, p=4)
    kw = {"k": 2, "hidden_layer_sizes": (3,), "max_iter": 5}
    np.random.seed(5)
    L0Regressor(random_state=3, **kw).fit(X, y)
    assert np.random.randint(1 << 30) == np.random.RandomState(5).randint(1 << 30)  # untouched

    np.random.seed(5)
    a = L0Regressor(**kw).fit(X, y)
    after = np.random.randint(1 << 30)
    np.random.seed(5)
    b = L0Regressor(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))  # np.random.seed reproduces
    ref = np.random.RandomState(5)
    ref.randint(np.iinfo(np.int32).max)  # the one draw of the fit
    assert after == ref.randint(1 << 30)

    text = " ".join((ROOT / "docs" / "reliability.md").read_text().split())
    assert "numpy's global random states are never touched" not in text
    assert "With `random_state=None` (the default) skl0 follows scikit-learn's convention" in text


def test_an_int_random_state_draws_the_seed_of_its_own_random_state():
    """draw_seed keeps an int's draw (making the RandomState cost ~0.2 ms a
    fit): the first draw of RandomState(seed), as check_random_state gives,
    for ints, numpy ints and bools, again on a second call; a RandomState
    instance and None are drawn from each time (never kept)."""
    from skl0._device import draw_seed

    top = np.iinfo(np.int32).max
    for seed in [0, 1, 3, 7, 2**32 - 1, np.int64(11), np.uint8(200), True]:
        want = int(np.random.RandomState(seed).randint(top))
        assert draw_seed(seed) == want and draw_seed(seed) == want
    rs = np.random.RandomState(4)
    assert [draw_seed(rs) for _ in range(2)] == list(np.random.RandomState(4).randint(top, size=2))
    np.random.seed(9)
    assert [draw_seed(None) for _ in range(2)] == list(np.random.RandomState(9).randint(top, size=2))
    with pytest.raises(ValueError):
        draw_seed(-1)


def _draws_taken(fit):
    """How many seeds ``fit`` drew from numpy's global RNG (random_state=None)."""
    np.random.seed(11)
    fit()
    after = np.random.get_state()
    np.random.seed(11)
    for n in range(10):
        state = np.random.get_state()
        if state[2] == after[2] and np.array_equal(state[1], after[1]):
            return n
        np.random.randint(np.iinfo(np.int32).max)
    raise AssertionError("more than 9 draws")


def test_random_state_none_draws_as_documented():
    """docs/reliability.md: one draw per fit; a CV estimator one per fold and
    one for the final fit; the exact partial_fit one per call, the stochastic
    one on its first call."""
    from skl0 import L0RegressorCV

    X, y = _reg(n=60, p=4)
    yc = (y > np.median(y)).astype(int)

    def stream(est, target, **first):
        for i in range(3):
            rows = slice(20 * i, 20 * (i + 1))
            est.partial_fit(X[rows], target[rows], **(first if i == 0 else {}))

    assert _draws_taken(lambda: L0Regressor(k=2).fit(X, y)) == 1
    assert _draws_taken(lambda: L0RegressorCV(n_lams=3, cv=3, max_iter=10).fit(X, y)) == 4
    assert _draws_taken(lambda: stream(L0Regressor(k=2), y)) == 3
    assert _draws_taken(lambda: stream(L0Classifier(k=2), yc, classes=[0, 1])) == 1
    text = " ".join((ROOT / "docs" / "reliability.md").read_text().split())
    assert ("a CV estimator's by one per fold and one for the final fit; the exact "
            "`partial_fit` of a linear `L0Regressor`, which re-runs the selection, by one "
            "per call; the stochastic `partial_fit` by one, on its first call") in text
