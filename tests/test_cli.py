"""The ``skl0`` command line, run in-process through ``skl0.cli.main``."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import skl0
from skl0.calibration import make_survey
from skl0.cli import main
from skl0.datasets import make_sparse_classification, make_sparse_regression

FAST = ["--max-iter", "30"]


@pytest.fixture(scope="module")
def reg_frame():
    X, y, coef = make_sparse_regression(120, 6, 2, random_state=0)[:3]
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(6)])
    frame["y"] = y
    return frame, [f"f{j}" for j in np.flatnonzero(coef)]


@pytest.fixture(scope="module")
def clf_frame():
    X, y = make_sparse_classification(150, 5, 2, random_state=0)[:2]
    frame = pd.DataFrame(X, columns=[f"g{j}" for j in range(5)])
    frame["label"] = np.where(y == 1, "yes", "no")
    return frame


@pytest.fixture
def reg_csv(tmp_path, reg_frame):
    path = tmp_path / "reg.csv"
    reg_frame[0].to_csv(path, index=False)
    return str(path)


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out = capsys.readouterr()
    return status, out.out, out.err


def assert_one_line_error(status, err, *fragments, command="select"):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"skl0 {command}: error: ") or lines[0].startswith("skl0: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


# ------------------------------------------------------------------ select
def test_select_csv_regression_writes_reduced_csv(reg_csv, reg_frame, tmp_path, capsys):
    out_path = tmp_path / "reduced.csv"
    status, out, err = run(["select", reg_csv, "--target", "y", "--k", "2", *FAST,
                            "-o", out_path], capsys)
    assert status == 0, err
    assert "P(gate open)" in out and "held-out R^2" in out
    reduced = pd.read_csv(out_path)
    assert reduced.shape == (120, 3) and reduced.columns[-1] == "y"
    assert sorted(reduced.columns[:-1]) == sorted(reg_frame[1])  # the true support
    np.testing.assert_allclose(reduced["y"], reg_frame[0]["y"])
    for name in reduced.columns[:-1]:
        assert name in out


def test_select_parquet_classification_string_labels(tmp_path, clf_frame, capsys):
    data, out_path = tmp_path / "clf.parquet", tmp_path / "kept.parquet"
    clf_frame.to_parquet(data, index=False)
    status, out, err = run(["select", data, "-t", "label", "--lam", "0.01", *FAST,
                            "-o", out_path], capsys)
    assert status == 0, err
    assert "classification, 2 classes" in out and "held-out accuracy" in out
    score = float(out.split("held-out accuracy")[1].split(":")[1].split()[0])
    assert 0.5 < score <= 1
    reduced = pd.read_parquet(out_path)
    assert set(reduced["label"]) == {"yes", "no"} and len(reduced) == 150


def test_select_txt_and_json_lists(reg_csv, tmp_path, capsys):
    txt, js = tmp_path / "f.txt", tmp_path / "f.json"
    assert run(["select", reg_csv, "-t", "y", "--k", "2", *FAST, "-o", txt], capsys)[0] == 0
    names = txt.read_text().split()
    assert len(names) == 2
    assert run(["select", reg_csv, "-t", "y", "--k", "2", *FAST, "-o", js], capsys)[0] == 0
    info = json.loads(js.read_text())
    assert info["features"] == names and info["score_name"] == "R^2"
    assert set(info["gate_probabilities"]) == set(names) and info["task"] == "regression"


def test_select_test_size_0_fits_all_rows_without_score(reg_csv, capsys):
    status, out, _ = run(["select", reg_csv, "-t", "y", "--k", "1", "--test-size", "0",
                          *FAST], capsys)
    assert status == 0 and "held-out" not in out and "on 120 rows" in out


def test_select_one_hot_and_dropna(tmp_path, reg_frame, capsys):
    frame = reg_frame[0].copy()
    frame["colour"] = np.where(frame["f0"] > 0, "red", "blue")
    frame.loc[3, "f1"] = np.nan
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    status, err = run(["select", path, "-t", "y", "--k", "2", *FAST], capsys)[::2]
    assert_one_line_error(status, err, "'colour'", "--one-hot")
    status, err = run(["select", path, "-t", "y", "--k", "2", "--one-hot", *FAST], capsys)[::2]
    assert_one_line_error(status, err, "'f1'", "missing values", "--dropna")
    status, out, err = run(["select", path, "-t", "y", "--k", "2", "--one-hot", "--dropna",
                            *FAST], capsys)
    assert status == 0, err
    assert "dropped 1 rows" in out and "one-hot encoded 'colour'" in out
    status, out, err = run(["select", path, "-t", "y", "--k", "2", "--drop", "colour",
                            "--drop", "f1", *FAST], capsys)
    assert status == 0 and "6 features" not in out and "5 features" in out


def test_select_refuses_repeated_names_and_one_hot_name_clashes(tmp_path, reg_frame, capsys):
    frame = reg_frame[0].copy()
    path = tmp_path / "dup.csv"
    # pandas reads "y,y" as y and y.1: the target's copy would be a feature
    frame[["f0", "f1", "y", "y"]].to_csv(path, index=False)
    status, err = run(["select", path, "-t", "y", *FAST], capsys)[::2]
    assert_one_line_error(status, err, "duplicated column names 'y'", "rename")
    frame["town"] = np.where(frame["f0"] > 0, "a", "b")
    for clash in ("town_a", "y"):  # a numeric column, then the target, named like a level
        clashing = frame.rename(columns={"f2": "town_a"}) if clash == "town_a" else frame
        target = "y"
        if clash == "y":
            clashing = frame.assign(town=np.where(frame["f0"] > 0, "a", "b"))
            clashing = clashing.rename(columns={"y": "town_a"})
            target = "town_a"
        path = tmp_path / f"clash_{clash}.csv"
        clashing.to_csv(path, index=False)
        status, err = run(["select", path, "-t", target, "--one-hot", "-o",
                           tmp_path / f"out_{clash}.csv", *FAST], capsys)[::2]
        assert_one_line_error(status, err, "--one-hot would make columns named 'town_a'")
        assert not (tmp_path / f"out_{clash}.csv").exists()


def test_select_one_hot_refuses_or_drops_missing_text_values(tmp_path, reg_frame, capsys):
    # A missing text value was encoded as a row of zeros, neither refused nor dropped.
    frame = reg_frame[0].copy()
    frame["town"] = np.where(frame["f0"] > 0, "a", "b").astype(object)
    frame.loc[[2, 5, 9], "town"] = None
    path = tmp_path / "town_nan.csv"
    frame.to_csv(path, index=False)
    status, err = run(["select", path, "-t", "y", "--one-hot", *FAST], capsys)[::2]
    assert_one_line_error(status, err, "missing values: 'town'", "--dropna")
    status, out, err = run(["select", path, "-t", "y", "--one-hot", "--dropna", *FAST], capsys)
    assert status == 0, err
    assert "dropped 3 rows" in out and "117 rows" in out


def test_select_lam_must_be_finite_and_one_held_out_row_warns(tmp_path, reg_frame, capsys):
    frame = reg_frame[0].iloc[:5]
    path = tmp_path / "tiny.csv"
    frame.to_csv(path, index=False)
    status, err = run(["select", path, "-t", "y", "--lam", "inf"], capsys)[::2]
    assert_one_line_error(status, err, "--lam", "a finite number >= 0", "'inf'")
    out_path = tmp_path / "tiny.json"
    status, out, err = run(["select", path, "-t", "y", "--test-size", "0.2", "-o", out_path,
                            *FAST], capsys)
    assert status == 0
    assert err.strip().splitlines()[-1] == (
        "skl0 select: warning: R^2 is not defined on 1 held-out row; pass a larger --test-size")
    assert "UndefinedMetricWarning" not in err
    assert json.loads(out_path.read_text())["held_out_score"] is None


class _ClosedPipe:
    """A stdout whose reader has gone (``| head`` after its first line)."""

    def __init__(self):
        self.lines = 0

    def write(self, text):
        if self.lines:
            raise BrokenPipeError(32, "Broken pipe")
        self.lines += 1
        return len(text)

    def flush(self):
        pass

    def fileno(self):
        raise OSError("not a real file")


def test_a_closed_pipe_does_not_stop_the_command(monkeypatch, reg_csv, tmp_path):
    # The first print that could not be delivered ended the command with
    # status 0 before it wrote -o.
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    out_path = tmp_path / "kept.txt"
    assert main(["select", reg_csv, "-t", "y", "-o", str(out_path), *FAST]) == 0
    assert out_path.read_text().strip()


def test_an_unexpected_error_is_one_line_exit_1(monkeypatch, reg_csv, capsys):
    import skl0.cli as cli

    def broken(args):
        raise RuntimeError("something skl0 did not foresee\nsecond line")

    monkeypatch.setattr(cli, "_run", broken)
    status, _, err = run(["select", reg_csv, "-t", "y"], capsys)
    assert status == 1
    assert err.strip().splitlines() == [
        "skl0 select: error: unexpected RuntimeError: something skl0 did not foresee (a "
        "defect of skl0's; please report it with the command that raised it)"]


@pytest.mark.skipif(not hasattr(skl0, "L0FeatureSelectorCV"), reason="no L0FeatureSelectorCV")
def test_select_cv(reg_csv, capsys):
    status, out, err = run(["select", reg_csv, "-t", "y", "--cv", "3", *FAST], capsys)
    assert status == 0, err
    assert "fitted L0FeatureSelectorCV(cv=3)" in out and "held-out R^2" in out
    status, _, err = run(["select", reg_csv, "-t", "y", "--cv", "1"], capsys)
    assert_one_line_error(status, err, "--cv", "'1'")
    status, _, err = run(["select", reg_csv, "-t", "y", "--cv", "3", "--k", "2"], capsys)
    assert_one_line_error(status, err, "not allowed with")


@pytest.mark.parametrize(("data", "argv", "fragments"), [
    # scikit-learn's "Cannot have number of splits n_splits=1000 greater than
    # the number of samples", named no option
    ("reg", ["--cv", "1000"], ["--cv 1000 makes folds of fewer than 2 of the 90 rows",
                               "pass --cv 45 or less"]),
    # skl0's advice to pass scoring=, an option the command line has not
    ("reg", ["--cv", "46"], ["--cv 46", "pass --cv 45 or less"]),
    # "n_splits=100 cannot be greater than the number of members in each class"
    ("clf", ["--cv", "100"], ["--cv 100 makes more folds than the largest class",
                              "pass --cv"]),
])
def test_select_too_many_folds_names_the_option(data, argv, fragments, reg_csv, tmp_path,
                                                clf_frame, capsys):
    if data == "clf":
        path = tmp_path / "clf.csv"
        clf_frame.to_csv(path, index=False)
        data, target = str(path), "label"
    else:
        data, target = reg_csv, "y"
    status, _, err = run(["select", data, "-t", target, *argv, *FAST], capsys)
    assert_one_line_error(status, err, *fragments)


def test_select_date_columns_are_not_sent_to_one_hot(tmp_path, reg_frame, capsys):
    # A Parquet date column was "non-numeric: pass --one-hot", which then
    # refused it as an identifier (or made one column per date); a date
    # target was told "pass --task classification".
    frame = reg_frame[0].copy()
    frame["when"] = pd.date_range("2020-01-01", periods=len(frame))
    frame["span"] = pd.to_timedelta(np.arange(len(frame)), unit="D")
    path = tmp_path / "dates.parquet"
    frame.to_parquet(path, index=False)
    status, _, err = run(["select", path, "-t", "y", *FAST], capsys)
    assert_one_line_error(status, err, "date/time feature columns: 'when', 'span'; convert "
                          "them to numbers first")
    assert "--one-hot" not in err
    status, _, err = run(["select", path, "-t", "when", "--drop", "span", *FAST], capsys)
    assert_one_line_error(status, err, "target 'when' holds dates or times (datetime64",
                          "convert it to a number first")


def test_select_demo(capsys):
    status, out, err = run(["select", "--demo", "--k", "3", *FAST], capsys)
    assert status == 0, err
    assert "breast cancer" in out and "kept 3 of 30 features" in out
    assert "held-out accuracy" in out


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["select", "{tmp}/missing.csv", "-t", "y"], ["does not exist", "missing.csv"]),
        (["select", "{tmp}/data.xlsx", "-t", "y"], ["must end in .csv, .csv.gz, .tsv", ".pq"]),
        (["select", "{csv}", "-t", "nope"], ["target column 'nope' not found", "'f0'"]),
        (["select", "{csv}", "-t", "y", "--drop", "zz"], ["--drop column 'zz'"]),
        (["select", "{csv}", "-t", "y", "--k", "0"], ["--k", "'0'"]),
        (["select", "{csv}", "-t", "y", "--k", "two"], ["--k", "'two'"]),
        (["select", "{csv}", "-t", "y", "--k", "50"], ["--k 50", "6 feature columns"]),
        (["select", "{csv}", "-t", "y", "--k", "2", "--lam", "0.1"], ["not allowed with"]),
        (["select", "{csv}", "-t", "y", "--lam", "-1"], ["--lam", "'-1'"]),
        (["select", "{csv}", "-t", "y", "--test-size", "1.5"], ["--test-size"]),
        (["select", "{csv}"], ["missing --target"]),
        (["select", "-t", "y"], ["missing DATA"]),
        (["select", "{csv}", "--demo"], ["either DATA or --demo"]),
        (["select", "{csv}", "-t", "y", "--no-groups"], ["--no-groups applies only with --one-hot"]),
        (["select", "{csv}", "-t", "y", "-o", "{tmp}/out.xlsx"], ["must end in"]),
        (["select", "{csv}", "-t", "y", "-o", "{tmp}/no/dir/out.csv"], ["does not exist"]),
        (["select", "{csv}", "-t", "y", "--task", "magic"], ["--task"]),
        (["select", "{csv}", "-t", "y", "--bogus"], ["unrecognized arguments"]),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_select_errors_are_one_line_exit_2(argv, fragments, reg_csv, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path, csv=reg_csv) for a in argv]
    status, out, err = run(argv, capsys)
    assert_one_line_error(status, err, *fragments)


@pytest.mark.parametrize(
    "values, task",
    [
        (np.arange(120) * 3, "regression"),  # a whole-number amount, not 120 classes
        (np.arange(120) % 3, "classification"),
        (np.arange(120) % 2 == 0, "classification"),
        (np.linspace(0, 1, 120), "regression"),
    ],
)
def test_select_auto_task(values, task, tmp_path, reg_frame, capsys):
    frame = reg_frame[0].assign(y=values)
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    status, out, err = run(["select", path, "-t", "y", "--lam", "0.01", "--max-iter", "5"],
                           capsys)
    assert status == 0, err
    assert f"target 'y' ({task}" in out


def test_select_text_target_cannot_be_regressed(tmp_path, clf_frame, capsys):
    path = tmp_path / "clf.csv"
    clf_frame.to_csv(path, index=False)
    status, _, err = run(["select", path, "-t", "label", "--task", "regression"], capsys)
    assert_one_line_error(status, err, "--task classification")


def test_select_class_weight_balanced_is_the_selectors(tmp_path, clf_frame, capsys):
    from skl0 import L0FeatureSelector

    frame = clf_frame[(clf_frame.label == "yes") | (np.arange(len(clf_frame)) % 4 == 0)]
    path = tmp_path / "imbalanced.csv"
    frame.to_csv(path, index=False)
    out_json = tmp_path / "kept.json"
    argv = ["select", path, "-t", "label", "--k", "2", "--test-size", "0", "-o", out_json]
    status, _, err = run([*argv, "--class-weight", "balanced"], capsys)
    assert status == 0, err
    kept = json.loads(out_json.read_text())["features"]
    X, y = frame.drop(columns="label"), frame.label
    sel = L0FeatureSelector(k=2, class_weight="balanced", random_state=0).fit(X, y)
    assert kept == list(sel.get_feature_names_out())
    # and on a regression target it is refused, naming the fix
    status, _, err = run(["select", path, "-t", "g0", "--drop", "label",
                          "--class-weight", "balanced"], capsys)
    assert_one_line_error(status, err, "--class-weight balanced", "regression",
                          "--task classification")


def test_select_continuous_target_has_no_classes(tmp_path, reg_csv, capsys):
    # Before, sklearn's "Unknown label type: continuous" came out, naming no flag.
    status, _, err = run(["select", reg_csv, "-t", "y", "--task", "classification",
                          "-o", tmp_path / "out.csv"], capsys)
    assert_one_line_error(status, err, "--task regression", "target 'y'")
    assert not (tmp_path / "out.csv").exists()


def test_select_unreadable_file(tmp_path, capsys):
    path = tmp_path / "broken.parquet"
    path.write_text("not parquet at all")
    status, _, err = run(["select", path, "-t", "y"], capsys)
    assert_one_line_error(status, err, "cannot read DATA file")


@pytest.mark.parametrize(
    "value, task, fix",
    [("yes", "auto", "at least two labels"), (2, "classification", "--task regression")],
)
def test_select_single_label_target_names_the_column(value, task, fix, tmp_path, reg_frame,
                                                     capsys):
    # It was the classifier's "y holds a single class ('yes')", naming no column
    # (a numeric one under --task auto already had these words).
    path = tmp_path / "const.csv"
    reg_frame[0].drop(columns="y").assign(label=value).to_csv(path, index=False)
    status, _, err = run(["select", path, "-t", "label", "--task", task, *FAST], capsys)
    assert_one_line_error(status, err, "target 'label' holds a single value", fix)


def test_select_list_valued_target_is_a_usage_error(tmp_path, reg_frame, capsys):
    # A Parquet list column as the target was "unexpected TypeError: unhashable
    # type" with exit status 1, reported as a defect of skl0's.
    path = tmp_path / "lists.parquet"
    reg_frame[0].assign(y=[[1, 2]] * len(reg_frame[0])).to_parquet(path)
    status, _, err = run(["select", path, "-t", "y", "--k", "1", *FAST], capsys)
    assert_one_line_error(status, err, "target 'y'", "lists or arrays", "--target")


# --------------------------------------------------------------- calibrate
@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    M, targets, w0, names = make_survey(
        n_records=300, n_regions=2, n_age_bands=2, n_income_brackets=2, noise=0.0,
        random_state=0,
    )
    root = tmp_path_factory.mktemp("survey")
    frame = pd.DataFrame(M.toarray(), columns=names)
    frame.insert(0, "hh", [f"h{i}" for i in range(300)])
    frame["w0"] = w0
    frame.to_csv(root / "M.csv", index=False)
    pd.DataFrame({"name": names, "value": targets}).to_csv(root / "long.csv", index=False)
    pd.DataFrame([targets], columns=names).to_parquet(root / "wide.parquet", index=False)
    return root, names


CAL_FAST = ["--max-iter", "60", "--polish-iter", "30"]


def test_calibrate_long_targets_with_ids_and_weights(survey, tmp_path, capsys):
    root, names = survey
    out_path = tmp_path / "w.csv"
    status, out, err = run(["calibrate", root / "M.csv", root / "long.csv", "--k", "40",
                            "--weights", "w0", "--id", "hh", *CAL_FAST, "-o", out_path], capsys)
    assert status == 0, err
    assert "kept 40 of 300 records" in out
    assert all(name in out for name in names)
    weights = pd.read_csv(out_path)
    assert list(weights.columns) == ["hh", "weight"] and len(weights) == 40
    assert (weights["weight"] > 0).all() and weights["hh"].str.startswith("h").all()


def test_calibrate_wide_targets_notes_unused_columns(survey, tmp_path, capsys):
    root, _ = survey
    out_path = tmp_path / "w.parquet"
    status, out, err = run(["calibrate", root / "M.csv", root / "wide.parquet", "--k", "30",
                            *CAL_FAST, "-o", out_path], capsys)
    assert status == 0, err
    assert "not used: 'hh', 'w0'" in out
    weights = pd.read_parquet(out_path)
    assert list(weights.columns) == ["record", "weight"] and len(weights) == 30


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["{root}/M.csv", "{root}/nope.csv"], ["TARGETS file", "does not exist"]),
        (["{root}/M.csv", "{tmp}/bad_targets.csv"], ["not columns of M", "'ghost'"]),
        (["{root}/M.csv", "{tmp}/shape.csv"], ["3 rows and 3 columns", "name,value"]),
        (["{root}/M.csv", "{tmp}/text_values.csv"], ["not finite numbers"]),
        (["{root}/M.csv", "{root}/long.csv", "--k", "301"], ["--k 301", "300 records"]),
        (["{root}/M.csv", "{root}/long.csv", "--weights", "zz"], ["'zz' not found"]),
        (["{root}/M.csv", "{root}/long.csv", "--weights", "hh"], ["numbers > 0"]),
        (["{root}/M.csv", "{root}/long.csv", "-o", "{tmp}/w.txt"], ["must end in"]),
        (["{root}/M.csv"], ["TARGETS"]),
        (["{root}/M.csv", "{root}/long.csv", "--polish-iter", "-1"], ["--polish-iter", "'-1'"]),
        (["{root}/M.csv", "{root}/long.csv", "--lam", "auto"], ["--lam", "a number >= 0"]),
        # The calibrator's own words named lam=0, k=5 and k=None, no option.
        (["{root}/M.csv", "{root}/long.csv", "--k", "5", "--lam", "0"],
         ["--lam 0 with --k 5", "--lam > 0", "leave out --k"]),
        # Its message named no column and said "before calling fit".
        (["{tmp}/M_nan.csv", "{root}/long.csv", "--k", "5"],
         ["missing or infinite values: '{name1}'", "fill them"]),
        # An infinite design weight got through as sample_weight's error.
        (["{tmp}/M_nan.csv", "{tmp}/one_target.csv", "--k", "5", "--weights", "w0"],
         ["--weights column 'w0'", "finite numbers > 0"]),
    ],
)
def test_calibrate_errors_are_one_line_exit_2(argv, fragments, survey, tmp_path, capsys):
    root, names = survey
    pd.DataFrame({"name": [names[0], "ghost"], "value": [1.0, 2.0]}).to_csv(
        tmp_path / "bad_targets.csv", index=False)
    pd.DataFrame(np.ones((3, 3)), columns=names[:3]).to_csv(tmp_path / "shape.csv", index=False)
    pd.DataFrame({"name": names[:2], "value": ["1", "many"]}).to_csv(
        tmp_path / "text_values.csv", index=False)
    M = pd.read_csv(root / "M.csv")
    M.loc[3, names[1]] = np.nan
    M.loc[4, "w0"] = np.inf
    M.to_csv(tmp_path / "M_nan.csv", index=False)
    pd.DataFrame({"name": names[:1], "value": [1.0]}).to_csv(tmp_path / "one_target.csv",
                                                             index=False)
    argv = ["calibrate", *(a.format(root=root, tmp=tmp_path) for a in argv)]
    fragments = [f.format(name1=names[1]) for f in fragments]
    status, _, err = run(argv, capsys)
    assert_one_line_error(status, err, *fragments, command="calibrate")


def test_calibrate_divergence_names_the_option(survey, capsys):
    # The calibrator's message said "(learning_rate=...). Lower learning_rate".
    root, _ = survey
    status, _, err = run(["calibrate", root / "M.csv", root / "long.csv", "--k", "40",
                          "--learning-rate", "1e6", "--max-iter", "20", "--polish-iter", "5"],
                         capsys)
    assert_one_line_error(status, err, "diverged", "(--learning-rate 1000000.0)",
                          "Lower --learning-rate", command="calibrate")
    assert "learning_rate" not in err


def test_calibrate_warnings_name_the_options(survey, capsys):
    # The calibrator's warnings named its Python parameters (lam=..., max_iter,
    # polish_iter), which the command line spells --lam, --max-iter, --polish-iter.
    root, _ = survey
    status, _, err = run(["calibrate", root / "M.csv", root / "long.csv", "--lam", "1e9",
                          "--max-iter", "200", "--polish-iter", "5"], capsys)
    assert status == 0
    assert "warning: No record was kept with --lam 1000000000.0" in err
    assert "Pass a smaller --lam" in err and "lam=" not in err
    status, _, err = run(["calibrate", root / "M.csv", root / "long.csv", "--k", "3",
                          "--max-iter", "2", "--polish-iter", "1"], capsys)
    assert status == 0
    assert "Raise --max-iter or --polish-iter" in err and "max_iter" not in err


def test_calibrate_numeric_target_names_and_a_target_that_is_the_weights(tmp_path, capsys):
    # Long TARGETS whose names look like numbers (columns "2020", "2021") were
    # read as a wide file and refused; a target that is the --weights column
    # was reported as "not a column of M".
    rng = np.random.default_rng(0)
    M = pd.DataFrame({"2020": rng.uniform(1, 2, 40), "2021": rng.uniform(1, 2, 40),
                      "dw": np.full(40, 2.0)})
    M.to_csv(tmp_path / "M.csv", index=False)
    totals = {"2020": 2 * M["2020"].sum(), "2021": 2 * M["2021"].sum()}
    pd.DataFrame({"name": list(totals), "value": list(totals.values())}).to_csv(
        tmp_path / "t.csv", index=False)
    status, out, err = run(["calibrate", tmp_path / "M.csv", tmp_path / "t.csv", "--weights",
                            "dw", *CAL_FAST], capsys)
    assert status == 0, err
    assert "2 targets" in out
    pd.DataFrame({"name": ["2020", "dw"], "value": [1.0, 2.0]}).to_csv(
        tmp_path / "t_dw.csv", index=False)
    status, _, err = run(["calibrate", tmp_path / "M.csv", tmp_path / "t_dw.csv", "--weights",
                          "dw"], capsys)
    assert_one_line_error(status, err, "target 'dw' is the --weights column", command="calibrate")


# ------------------------------------------------------------ help, version
def test_version(capsys):
    status, out, _ = run(["--version"], capsys)
    assert status == 0 and out.strip() == f"skl0 {skl0.__version__}"


def test_help_lists_commands_and_options(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "select" in out and "calibrate" in out
    status, out, _ = run(["select", "--help"], capsys)
    assert status == 0
    for option in ["--target", "--k", "--lam", "--task", "--test-size", "--random-state",
                   "--max-iter", "--one-hot", "--dropna", "--drop", "--demo", "-o OUT",
                   ".txt", ".json", ".parquet", "examples:"]:
        assert option in out, option
    status, out, _ = run(["calibrate", "--help"], capsys)
    assert status == 0 and "name,value" in out and "--weights" in out


@pytest.mark.parametrize("wrapped", [False, True])
def test_an_interrupt_exits_130_also_when_an_import_wraps_it(wrapped, monkeypatch, capsys):
    # docs/cli.md: an interrupt exits with 130. A Ctrl-C while torch was
    # being imported (skl0 select --demo, ~1.5 s in) surfaced as "RuntimeError:
    # Error calling __set_name__ ..." caused by the KeyboardInterrupt, and the
    # command called it a defect of skl0's with exit status 1.
    import skl0.cli as cli

    def interrupted(args):
        if not wrapped:
            raise KeyboardInterrupt
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error calling __set_name__ on 'cached_property'") from exc

    monkeypatch.setattr(cli, "_run", interrupted)
    status, out, err = run(["select", "--demo"], capsys)
    assert status == 130 and err.strip() == "skl0: interrupted" and out == ""


def test_no_command_prints_help(capsys):
    status, out, _ = run([], capsys)
    assert status == 0 and "usage: skl0" in out


def test_python_dash_m_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "skl0", "select", str(tmp_path / "none.csv"), "-t", "y"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr


def test_help_and_argument_errors_import_neither_torch_nor_pandas():
    # skl0 --help, --version and argparse errors answer from the parser
    # alone; a missing input file too. Checked by the modules loaded, not by
    # a timing (a fresh interpreter per case).
    import subprocess

    code = (
        "import sys\n"
        "from skl0.cli import main\n"
        "for argv in (['--help'], ['select', '--k', 'x'], ['select', 'nofile.csv', '-t', 'y'],\n"
        "             ['calibrate', 'm.csv', 't.csv']):\n"
        "    try:\n"
        "        assert main(argv) in (0, 2), argv\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('torch', 'sklearn', 'pandas', 'scipy') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_public_names_load_on_first_use():
    import skl0

    assert {"L0Regressor", "l0_path", "L0FeatureSelectorCV"} <= set(dir(skl0))
    assert set(skl0.__all__) <= set(dir(skl0))
    from skl0 import L0Regressor
    from skl0._regressor import L0Regressor as defined

    assert L0Regressor is defined and skl0.L0Regressor is defined
    with pytest.raises(AttributeError, match="no attribute 'L0Nothing'"):
        skl0.L0Nothing  # noqa: B018


def test_public_submodules_load_on_first_attribute_access():
    # `import skl0` then skl0.datasets / skl0.nn / ... raised AttributeError
    # until the submodule was imported by name (scikit-learn's load lazily).
    code = (
        "import skl0\n"
        "names = dir(skl0)\n"
        "assert 'importlib' not in names and '_importlib' not in names, names\n"
        "assert {'nn', 'datasets', 'plot', 'calibration', 'l0'} <= set(names), names\n"
        "X, y, coef, support = skl0.datasets.make_sparse_regression(30, 4, 2, random_state=0)\n"
        "assert X.shape == (30, 4)\n"
        "assert skl0.nn.L0Linear.__name__ == 'L0Linear'\n"
        "assert skl0.calibration.SparseCalibrator.__name__ == 'SparseCalibrator'\n"
        "assert skl0.l0.SparseL0Linear.__name__ == 'SparseL0Linear'\n"
        "assert callable(skl0.plot.plot_path)\n"
        "print('OK')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr


@pytest.mark.parametrize("cols, header", [(["2020", "2021", "2022"], False),
                                          (["01", "02", "03"], True)])
def test_calibrate_headerless_numeric_names_and_leading_zero_codes(cols, header, tmp_path,
                                                                   capsys):
    # A headerless long file whose names look like numbers lost its first
    # line as a header; names with leading zeros ("01") were read as 1.
    rng = np.random.default_rng(0)
    M = pd.DataFrame(rng.integers(1, 3, (60, 3)).astype(float), columns=cols)
    M.to_csv(tmp_path / "M.csv", index=False)
    lines = "".join(f"{c},{5 * M[c].sum()}\n" for c in cols)
    (tmp_path / "t.csv").write_text(("name,value\n" if header else "") + lines)
    status, out, err = run(["calibrate", tmp_path / "M.csv", tmp_path / "t.csv", *CAL_FAST],
                           capsys)
    assert status == 0, err
    assert "3 targets" in out and all(f"  {c} " in out for c in cols)


def test_a_headerless_targets_line_with_a_numeric_name_is_a_target(tmp_path):
    from skl0._cli_io import read_targets

    (tmp_path / "one.csv").write_text("2020,7\n")
    assert read_targets(tmp_path / "one.csv").to_dict() == {"2020": 7.0}
    (tmp_path / "wide.csv").write_text("a,b,c\n1,2,3\n")  # wide files are unchanged
    assert read_targets(tmp_path / "wide.csv").to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}


def test_a_long_targets_file_of_one_numeric_name_under_a_header(tmp_path, capsys):
    # docs/cli.md: the long layout's header line is optional and "01" names
    # the column "01" of M. "name,value" over "01,5" was read as a wide file
    # of two targets "name" and "value", and refused as no columns of M.
    from skl0._cli_io import read_targets

    rng = np.random.default_rng(0)
    M = pd.DataFrame(rng.integers(1, 3, (60, 3)).astype(float), columns=["01", "x", "y"])
    M.to_csv(tmp_path / "M.csv", index=False)
    (tmp_path / "t.csv").write_text(f"name,value\n01,{5 * M['01'].sum()}\n")
    status, out, err = run(["calibrate", tmp_path / "M.csv", tmp_path / "t.csv", *CAL_FAST],
                           capsys)
    assert status == 0, err
    assert "1 targets" in out and "  01 " in out
    # Where both header names are columns of M, or M is not known, it stays wide.
    for text, wide in (("01,x\n3,4\n", {"01": 3.0, "x": 4.0}),
                       ("x,y\n01,5\n", {"x": 1.0, "y": 5.0})):
        (tmp_path / "wide.csv").write_text(text)
        assert read_targets(tmp_path / "wide.csv", columns=M.columns).to_dict() == wide
    assert read_targets(tmp_path / "t.csv").index.tolist() == ["name", "value"]


@pytest.mark.parametrize("command", ["select", "calibrate"])
def test_bad_device_is_refused_in_the_command_lines_words(command, reg_csv, survey, tmp_path,
                                                          capsys):
    # resolve_device names the Python parameter (device='cuda'); the CLI's
    # error names the flag, before any data is read or any output written.
    root, _ = survey
    out_path = tmp_path / "out.csv"
    inputs = ([reg_csv, "-t", "y"] if command == "select"
              else [root / "M.csv", root / "long.csv"])
    status, out, err = run([command, *inputs, "--device", "no_such_device",
                            "-o", out_path], capsys)
    assert_one_line_error(status, err, "--device no_such_device", command=command)
    assert "device=" not in err and out == "" and not out_path.exists()
    if not torch.cuda.is_available():
        status, _, err = run([command, *inputs, "--device", "cuda"], capsys)
        assert_one_line_error(status, err, "--device cuda", "pass --device cpu",
                              command=command)


@pytest.mark.parametrize(("edit", "fragments"), [
    # a repeated or missing id was written to OUT as is: two weights under one
    # name, or a weight under none
    (lambda ids: ids.replace("h7", "h3"), ["--id column 'hh' repeats 'h3'",
                                           "records 3, 7, counted from 0"]),
    (lambda ids: ids.where(ids != "h5"), ["--id column 'hh' has 1 missing value(s)",
                                          "record 5 (counted from 0)"]),
])
def test_calibrate_ids_must_name_each_record_once(edit, fragments, survey, tmp_path, capsys):
    root, _ = survey
    frame = pd.read_csv(root / "M.csv")
    frame["hh"] = edit(frame["hh"])
    path, out_path = tmp_path / "M.csv", tmp_path / "w.csv"
    frame.to_csv(path, index=False)
    status, _, err = run(["calibrate", path, root / "long.csv", "--id", "hh", *CAL_FAST,
                          "-o", out_path], capsys)
    assert_one_line_error(status, err, *fragments, "leave out --id", command="calibrate")
    assert not out_path.exists()


def test_calibrate_a_wide_targets_file_of_several_rows_is_named_so(survey, tmp_path, capsys):
    # Two target columns over two rows were read as name,value pairs, and the
    # message called the numbers of the first column targets missing from M.
    root, names = survey
    path = tmp_path / "wide2.csv"
    pd.DataFrame({names[0]: [1.0, 2.0], names[1]: [3.0, 4.0]}).to_csv(path, index=False)
    status, _, err = run(["calibrate", root / "M.csv", path, *CAL_FAST], capsys)
    assert_one_line_error(status, err, f"has a header naming columns of M ('{names[0]}', "
                          f"'{names[1]}') over 2 rows of numbers", "keep one row",
                          command="calibrate")
