"""skl0.datasets: a bad size or snr names the parameter instead of failing inside numpy."""

import warnings

import numpy as np
import pytest

from skl0.datasets import (
    make_group_regression,
    make_sparse_classification,
    make_sparse_regression,
    toeplitz_design,
)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_sparse_regression(10, 5, 8), "n_informative == 8, must be <= 5"),
        (lambda: make_sparse_classification(10, 5, 6), "n_informative == 6, must be <= 5"),
        (lambda: make_sparse_regression(-1, 5, 2), "n_samples == -1"),
        (lambda: toeplitz_design(10, 0), "n_features == 0"),
        # A negative snr used to give noise-free targets silently.
        (lambda: make_sparse_regression(10, 5, 2, snr=-1.0), r"snr=-1.0 is invalid; pass a number >= 0"),
        (lambda: toeplitz_design(10, 5, rho=float("nan")), r"rho=nan must lie in \[0, 1\)"),
        (lambda: make_sparse_classification(10, 5, 2, rho=1.0), r"rho=1.0 must lie in \[0, 1\)"),
        (lambda: make_sparse_regression(10, 5, 2, snr=float("nan")), "snr=nan is invalid"),
        (lambda: make_group_regression(10, 3, 2, 4), "n_informative == 4, must be <= 3"),
        (lambda: make_group_regression(10, 3, 0, 1), "group_size == 0"),
        (lambda: make_group_regression(10, 0, 2, 0), "n_groups == 0"),
        (lambda: make_group_regression(10, 3, 2, 1, rho=1.0), r"rho=1.0 must lie in \[0, 1\)"),
        (lambda: make_group_regression(10, 3, 2, 1, noise=-1.0), "noise=-1.0 is invalid"),
        # An infinite noise passed and gave y of inf and NaN.
        (lambda: make_group_regression(10, 3, 2, 1, noise=float("inf")),
         "noise=inf is invalid; pass a finite standard deviation >= 0"),
        (lambda: make_group_regression(10, 3, 2, 1, noise=float("nan")), "noise=nan is invalid"),
    ],
)
def test_bad_sizes_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        # check_scalar takes True for the int 1; numpy then failed on the shape.
        (lambda: toeplitz_design(True, 3), r"n_samples=True is invalid; pass an integer, not a bool"),
        (lambda: toeplitz_design(5, False), r"n_features=False is invalid; pass an integer"),
        (lambda: make_sparse_regression(10, True, 1), r"n_features=True is invalid"),
        (lambda: make_sparse_regression(10, 5, True), r"n_informative=True is invalid"),
        (lambda: make_sparse_classification(10, 5, False), r"n_informative=False is invalid"),
        (lambda: make_sparse_classification(True, 5, 2), r"n_samples=True is invalid"),
    ],
)
def test_bool_sizes_are_refused(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        # A string failed in a comparison that named neither; a bool passed as 0 or 1.
        (lambda: toeplitz_design(10, 3, rho="0.5"), r"rho='0.5' is invalid; pass a number, not str"),
        (lambda: make_sparse_regression(10, 5, 2, rho=False), r"rho=False is invalid; .* not a bool"),
        (lambda: make_sparse_classification(10, 5, 2, rho=None), r"rho=None is invalid"),
        (lambda: make_sparse_regression(10, 5, 2, snr=True), r"snr=True is invalid; .* not a bool"),
        (lambda: make_sparse_regression(10, 5, 2, snr="3"), r"snr='3' is invalid"),
    ],
)
def test_non_numbers_for_rho_and_snr_are_refused(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_bad_n_informative_leaves_the_callers_random_state_alone():
    # n_informative used to be checked after X was drawn from the caller's RandomState.
    rng = np.random.RandomState(0)
    before = rng.get_state()
    with pytest.raises(ValueError, match="n_informative == 8"):
        make_sparse_regression(10, 5, 8, random_state=rng)
    after = rng.get_state()
    assert np.array_equal(after[1], before[1]) and after[2] == before[2]


@pytest.mark.parametrize("make", [make_sparse_regression, make_sparse_classification])
@pytest.mark.parametrize(
    "coef_range",
    [(2, 1), (-1.0, 1.0), (0.0, 0.0), (1.0, float("inf")), (float("nan"), 1.0),
     (1.0,), (1.0, 2.0, 3.0), 3.0, ("1", "2"), (True, 2)],
)
def test_bad_coef_range_names_it(make, coef_range):
    # (2, 1) used to be drawn as uniform(2, 1) without a word.
    with pytest.raises(ValueError, match=r"coef_range=.* is invalid; pass \(low, high\)"):
        make(20, 5, 2, coef_range=coef_range, random_state=0)


def test_coef_range_message_shows_the_value():
    with pytest.raises(ValueError, match=r"coef_range=\(2, 1\) is invalid"):
        make_sparse_regression(20, 5, 2, coef_range=(2, 1))


def test_coef_range_bounds_are_kept():
    _, _, coef, support = make_sparse_regression(
        50, 30, 20, coef_range=np.array([0.5, 0.5]), random_state=0
    )
    assert np.allclose(np.abs(coef[support]), 0.5)
    _, _, coef, support = make_sparse_classification(
        50, 30, 20, coef_range=[0, 2], random_state=0
    )
    assert np.all(np.abs(coef[support]) <= 2)


def test_group_regression_has_its_groups_and_support():
    X, y, coef, groups = make_group_regression(200, 6, 4, 2, rho=0.8, noise=0.0, random_state=0)
    assert X.shape == (200, 24) and groups.tolist() == np.repeat(np.arange(6), 4).tolist()
    informative = np.unique(groups[coef != 0])
    assert informative.size == 2
    assert all((coef[groups == g] != 0).all() for g in informative)  # whole groups
    np.testing.assert_allclose(y, X @ coef)  # noise=0
    corr = np.corrcoef(X, rowvar=False)
    inside = corr[groups[:, None] == groups[None, :]]
    between = corr[groups[:, None] != groups[None, :]]
    assert abs(np.median(inside[inside < 0.999]) - 0.64) < 0.1  # rho^2
    assert np.abs(between).max() < 0.3
    again = make_group_regression(200, 6, 4, 2, rho=0.8, noise=0.0, random_state=0)
    np.testing.assert_array_equal(X, again[0])


def test_classification_with_large_coefficients_warns_nothing():
    # 1 / (1 + exp(-X @ coef)) overflowed in exp for X @ coef < -709, with a RuntimeWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, y, coef, _ = make_sparse_classification(
            200, 5, 2, coef_range=(400.0, 500.0), random_state=0
        )
    margin = X @ coef
    assert (margin < -709).any()
    sure = np.abs(margin) > 50  # P(y = 1) is 0 or 1 to double precision there
    np.testing.assert_array_equal(y[sure], (margin[sure] > 0).astype(int))


@pytest.mark.parametrize(
    "make",
    [lambda rs: toeplitz_design(5, 3, random_state=rs),
     lambda rs: make_sparse_regression(10, 5, 2, random_state=rs),
     lambda rs: make_sparse_classification(10, 5, 2, random_state=rs),
     lambda rs: make_group_regression(10, 3, 2, 1, random_state=rs)],
)
@pytest.mark.parametrize("random_state", [np.random.default_rng(0), "0", 1.5])
def test_a_bad_random_state_names_it_and_the_fix(make, random_state):
    # scikit-learn's message ("... cannot be used to seed a
    # numpy.random.RandomState instance") named neither the parameter nor a fix.
    with pytest.raises(ValueError, match=r"random_state=.* is invalid; pass an int seed"):
        make(random_state)


def test_int_and_random_state_draws_agree_and_leave_the_global_state_alone():
    before = np.random.get_state()[1].copy()
    a = make_sparse_regression(30, 6, 2, random_state=3)
    b = make_sparse_regression(30, 6, 2, random_state=np.random.RandomState(3))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize("make", [make_sparse_regression, make_sparse_classification])
def test_support_is_the_sorted_nonzeros_of_coef_with_both_signs(make):
    X, y, coef, support = make(60, 40, 12, coef_range=(0.5, 2.0), random_state=0)
    assert X.shape == (60, 40) and X.dtype == np.float64 and y.shape == (60,)
    assert support.dtype.kind == "i"
    np.testing.assert_array_equal(support, np.flatnonzero(coef))
    mags = np.abs(coef[support])
    assert mags.min() >= 0.5 and mags.max() <= 2.0
    assert (coef > 0).any() and (coef < 0).any()
