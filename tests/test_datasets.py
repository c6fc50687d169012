"""skl0.datasets: a bad size or snr names the parameter instead of failing inside numpy."""

import pytest

from skl0.datasets import (
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
        (lambda: make_sparse_regression(10, 5, 2, snr=-1.0), "snr == -1.0, must be >= 0"),
        (lambda: make_sparse_regression(10, 5, 2, snr=float("nan")), "snr=nan is invalid"),
    ],
)
def test_bad_sizes_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()
