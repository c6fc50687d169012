"""skl0._progress.progress: silent at verbose=0, tqdm or plain prints otherwise."""

import sys

import pytest

from skl0._progress import progress


@pytest.fixture
def no_tqdm(monkeypatch):
    """Make ``import tqdm`` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def run_loop(bar, steps, **postfix):
    for _ in range(steps):
        bar.update(**postfix)
    bar.close()
    return bar


def test_verbose_0_is_silent_and_counts(capsys):
    bar = run_loop(progress(0, total=50, desc="fit"), 50, loss=0.5)
    assert bar.n == 50
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_verbose_0_does_not_import_tqdm(no_tqdm, capsys):
    run_loop(progress(False, total=5, desc="fit"), 5)
    assert capsys.readouterr().err == ""


def test_tqdm_bar_on_stderr_with_postfix(capsys):
    pytest.importorskip("tqdm")
    bar = run_loop(progress(1, total=20, desc="L0Classifier"), 20, loss=0.123456, kept=7)
    out = capsys.readouterr()
    assert out.out == ""
    assert "L0Classifier" in out.err and "20/20" in out.err
    assert "loss=0.1235" in out.err and "kept=7" in out.err
    assert bar.n == 20


def test_tqdm_close_is_idempotent(capsys):
    pytest.importorskip("tqdm")
    bar = progress(2, total=3, desc="fit")
    bar.update(3)
    bar.close()
    first = capsys.readouterr().err
    bar.close()  # a second close neither raises nor draws the bar again
    assert "3/3" in first and capsys.readouterr().err == ""
    assert bar.n == 3


def test_fallback_prints_about_ten_lines(no_tqdm, capsys):
    bar = run_loop(progress(1, total=100, desc="fit"), 100, loss=0.25)
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 10
    assert lines[0] == "[fit] step 10/100 loss=0.25"
    assert lines[-1] == "[fit] step 100/100 loss=0.25"
    assert bar.n == 100


def test_fallback_short_loop_reports_every_step_and_the_end(no_tqdm, capsys):
    run_loop(progress(1, total=3, desc="fit"), 3)
    assert capsys.readouterr().err.splitlines() == [
        "[fit] step 1/3", "[fit] step 2/3", "[fit] step 3/3",
    ]


def test_fallback_big_updates_and_unknown_total(no_tqdm, capsys):
    bar = progress(1, total=None, desc="path")
    bar.update(25, lam=1e-3)  # crosses 10 and 20: one line
    bar.update(3)  # 28: no line
    bar.update(2)  # 30: a line
    bar.close()
    assert capsys.readouterr().err.splitlines() == [
        "[path] step 25 lam=0.001", "[path] step 30",
    ]


def test_fallback_odd_total_reports_the_last_step(no_tqdm, capsys):
    run_loop(progress(1, total=25, desc="fit"), 25)
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == "[fit] step 25/25"
    assert len(lines) == 13  # every 2 steps, plus step 25


@pytest.mark.parametrize("verbose", [0, 1])
def test_context_manager_closes(verbose, no_tqdm, capsys):
    with progress(verbose, total=4, desc="fit") as bar:
        bar.update(4)
    assert bar.n == 4
    if verbose:
        assert bar.closed


def test_fallback_prints_the_last_step_of_an_unknown_total_on_close(no_tqdm, capsys):
    # With total=None a line came every 10 steps only: a loop of fewer
    # steps printed nothing at all, a longer one never showed its end.
    run_loop(progress(1, total=None, desc="fit"), 3, loss=0.5)
    assert capsys.readouterr().err.splitlines() == ["[fit] step 3 loss=0.5"]
    bar = run_loop(progress(1, total=None, desc="fit"), 12)
    bar.close()  # a second close prints nothing more
    assert capsys.readouterr().err.splitlines() == ["[fit] step 10", "[fit] step 12"]
    run_loop(progress(1, total=None, desc="fit"), 10)  # the end already has its line
    assert capsys.readouterr().err.splitlines() == ["[fit] step 10"]
    run_loop(progress(1, total=None, desc="fit"), 0)  # no step: no line
    assert capsys.readouterr().err == ""


def test_verbose_fit_without_tqdm_shows_its_end_on_stderr(no_tqdm, capsys):
    # L0Regressor(lam=..., verbose=1) on a linear head takes a step or two:
    # without tqdm it printed nothing, on either stream.
    import numpy as np

    from skl0 import L0Regressor

    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = X[:, 0] + 0.1 * rng.randn(60)
    L0Regressor(lam=0.01, max_iter=20, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("[L0Regressor] step ")
    assert "loss=" in lines[0] and "open=1" in lines[0]
    L0Regressor(lam=0.01, max_iter=20, verbose=0, random_state=0).fit(X, y)
    assert capsys.readouterr() == ("", "")
