"""Synthetic data with a known sparse support, for tests, examples and benchmarks."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils import check_random_state, check_scalar

from ._checks import check_int_type, check_real_type
from ._numpydoc import Entry, document

__all__ = ["make_group_regression", "make_sparse_regression", "make_sparse_classification",
           "toeplitz_design"]

_PARAMS = [
    Entry("n_samples", "int", "Number of rows."),
    Entry("n_features", "int", "Number of columns."),
    Entry("n_informative", "int", "Number of columns with a non-zero coefficient."),
    Entry("rho", "float", "Toeplitz correlation, in [0, 1): ``corr(x_i, x_j) = rho ** |i - j|``."),
    Entry("snr", "float", "Signal-to-noise ratio ``var(X @ coef) / var(noise)``; 0 gives no noise."),
    Entry("coef_range", "tuple of float", """\
``(low, high)``, finite, with ``0 <= low <= high`` and ``high > 0``:
the informative coefficients' magnitudes are uniform in it."""),
    Entry("random_state", "int, RandomState instance or None", """\
Seed of the draw; ``None`` draws from numpy's global RandomState (and
advances it), as scikit-learn's generators do."""),
]


@document(_PARAMS)
def toeplitz_design(n_samples, n_features, rho=0.5, random_state=None):
    """Gaussian design with Toeplitz correlation ``corr(x_i, x_j) = rho**|i-j|``.

    Drawn as an AR(1) process along the features, so it costs O(n p) and
    never forms the p x p covariance.

    %(parameters)s

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> from skl0.datasets import toeplitz_design
    >>> toeplitz_design(5, 3, random_state=0).shape
    (5, 3)
    """
    _check_sizes(n_samples, n_features)
    _check_rho(rho)
    rng = _random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    scale = np.sqrt(1.0 - rho**2)
    for j in range(1, n_features):  # AR(1) recursion: one vector op per column
        X[:, j] = rho * X[:, j - 1] + scale * X[:, j]
    return X


def _random_state(random_state):
    """``check_random_state``, with a message that names ``random_state`` and the fix."""
    try:
        return check_random_state(random_state)
    except ValueError:
        raise ValueError(
            f"random_state={random_state!r} is invalid; pass an int seed, a "
            "numpy.random.RandomState or None, e.g. random_state=0 (from a "
            "numpy.random.Generator rng: random_state=int(rng.integers(2**31)))."
        ) from None


def _check_rho(rho):
    check_real_type("rho", rho)
    if not 0 <= rho < 1:  # NaN fails the test too
        raise ValueError(f"rho={rho!r} must lie in [0, 1); pass e.g. rho=0.5.")


def _check_sizes(n_samples, n_features, n_informative=None):
    """The integer arguments; a bool is refused (``check_scalar`` takes True for 1)."""
    for name, value, low in (("n_samples", n_samples, 1), ("n_features", n_features, 1)):
        check_int_type(name, value)
        check_scalar(value, name, Integral, min_val=low)
    if n_informative is not None:
        check_int_type("n_informative", n_informative)
        check_scalar(n_informative, "n_informative", Integral, min_val=0, max_val=n_features)


def _check_coef_range(coef_range):
    """``coef_range`` as ``(low, high)``, or a ValueError naming it."""
    try:
        lo, hi = coef_range
    except (TypeError, ValueError):
        lo = hi = None
    numbers = all(isinstance(v, Real) and not isinstance(v, bool) for v in (lo, hi))
    if not (numbers and np.isfinite([lo, hi]).all() and 0 <= lo <= hi and hi > 0):
        raise ValueError(
            f"coef_range={coef_range!r} is invalid; pass (low, high), finite with "
            "0 <= low <= high and high > 0 (the informative coefficients' magnitudes), "
            "e.g. coef_range=(1.0, 3.0)."
        )
    return float(lo), float(hi)


def _sparse_coef(rng, n_features, n_informative, coef_range):
    support = np.sort(rng.choice(n_features, n_informative, replace=False))
    lo, hi = coef_range
    coef = np.zeros(n_features)
    coef[support] = rng.uniform(lo, hi, n_informative) * rng.choice([-1.0, 1.0], n_informative)
    return coef, support


@document(_PARAMS)
def make_sparse_regression(
    n_samples=1000,
    n_features=200,
    n_informative=10,
    rho=0.5,
    snr=3.0,
    coef_range=(1.0, 3.0),
    random_state=None,
):
    """Sparse linear regression with correlated features and a known support.

    ``y = X @ coef + noise`` with ``X`` from :func:`toeplitz_design`,
    ``n_informative`` non-zero coefficients with random signs and
    magnitudes uniform in ``coef_range``, and Gaussian noise whose variance
    is ``var(X @ coef) / snr``.

    %(parameters)s

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)
    support : ndarray of int
        Sorted indices of the informative features.

    Examples
    --------
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(50, 20, 3, random_state=0)
    >>> X.shape, len(support), int((coef != 0).sum())
    ((50, 20), 3, 3)
    """
    _check_sizes(n_samples, n_features, n_informative)
    check_real_type("snr", snr)
    if not snr >= 0:  # NaN fails the test too
        raise ValueError(f"snr={snr!r} is invalid; pass a number >= 0 (0: no noise).")
    _check_rho(rho)  # before anything is drawn from a caller's RandomState
    coef_range = _check_coef_range(coef_range)
    rng = _random_state(random_state)
    X = toeplitz_design(n_samples, n_features, rho, rng)
    coef, support = _sparse_coef(rng, n_features, n_informative, coef_range)
    signal = X @ coef
    sigma = np.sqrt(signal.var() / snr) if snr > 0 else 0.0
    y = signal + sigma * rng.standard_normal(n_samples)
    return X, y, coef, support


@document(_PARAMS)
def make_sparse_classification(
    n_samples=2000,
    n_features=500,
    n_informative=10,
    rho=0.5,
    coef_range=(1.0, 3.0),
    random_state=None,
):
    """Sparse logistic regression with correlated features and a known support.

    ``X`` from :func:`toeplitz_design`, ``n_informative`` non-zero
    coefficients with random signs and magnitudes uniform in
    ``coef_range``; labels are drawn from ``Bernoulli(sigmoid(X @ coef))``.

    %(parameters)s

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) with values in {0, 1}
    coef : ndarray of shape (n_features,)
    support : ndarray of int
        Sorted indices of the informative features.

    Examples
    --------
    >>> from skl0.datasets import make_sparse_classification
    >>> X, y, coef, support = make_sparse_classification(40, 10, 2, random_state=0)
    >>> sorted(set(y.tolist()))
    [0, 1]
    """
    _check_sizes(n_samples, n_features, n_informative)
    _check_rho(rho)
    coef_range = _check_coef_range(coef_range)
    rng = _random_state(random_state)
    X = toeplitz_design(n_samples, n_features, rho, rng)
    coef, support = _sparse_coef(rng, n_features, n_informative, coef_range)
    prob = expit(X @ coef)  # (1 / (1 + exp(-t)) overflowed, with a RuntimeWarning, for t < -709)
    y = (rng.uniform(size=n_samples) < prob).astype(int)
    return X, y, coef, support


def make_group_regression(n_samples=100, n_groups=60, group_size=5, n_informative=4, rho=0.6,
                          noise=2.0, random_state=None):
    """Linear regression whose columns come in correlated groups, a few groups carrying the signal.

    Group ``g``'s columns are ``rho z_g + sqrt(1 - rho^2) e`` with ``z_g`` a
    standard normal column shared by the group and ``e`` independent
    standard normal noise per column (correlation ``rho^2`` inside a group,
    0 between groups). ``n_informative`` groups have every coefficient
    non-zero (magnitudes uniform in [0.5, 1.5], random signs), and ``y``
    gets Gaussian noise of standard deviation ``noise``. The data of
    ``groups=`` (:doc:`/groups`); with more columns than rows by default.

    Parameters
    ----------
    n_samples : int, default=100
        Number of rows.
    n_groups : int, default=60
        Number of groups.
    group_size : int, default=5
        Columns per group.
    n_informative : int, default=4
        Number of groups with non-zero coefficients (at most ``n_groups``).
    rho : float, default=0.6
        Weight of the shared column, in [0, 1).
    noise : float, default=2.0
        Standard deviation of the noise added to ``y`` (finite, >= 0).
    random_state : int, RandomState instance or None, default=None
        Seed of the draw; ``None`` draws from numpy's global RandomState
        (and advances it), as scikit-learn's generators do.

    Returns
    -------
    X : ndarray of shape (n_samples, n_groups * group_size)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_groups * group_size,)
    groups : ndarray of int of shape (n_groups * group_size,)
        The group of each column, ``0 .. n_groups - 1``.

    Examples
    --------
    >>> from skl0.datasets import make_group_regression
    >>> X, y, coef, groups = make_group_regression(30, 8, 3, 2, random_state=0)
    >>> X.shape, len(set(groups[coef != 0].tolist()))
    ((30, 24), 2)
    """
    for name, value, low in (("n_samples", n_samples, 1), ("n_groups", n_groups, 1),
                             ("group_size", group_size, 1)):
        check_int_type(name, value)
        check_scalar(value, name, Integral, min_val=low)
    check_int_type("n_informative", n_informative)
    check_scalar(n_informative, "n_informative", Integral, min_val=0, max_val=n_groups)
    _check_rho(rho)
    check_real_type("noise", noise)
    if not 0 <= noise < np.inf:  # NaN fails the test too; inf made y all inf and NaN
        raise ValueError(f"noise={noise!r} is invalid; pass a finite standard deviation >= 0.")
    rng = _random_state(random_state)
    p = n_groups * group_size
    Z = rng.standard_normal((n_samples, n_groups))
    X = np.repeat(Z, group_size, axis=1) * rho + rng.standard_normal((n_samples, p)) * np.sqrt(
        1 - rho**2)
    groups = np.repeat(np.arange(n_groups), group_size)
    coef = np.zeros(p)
    for g in rng.choice(n_groups, n_informative, replace=False):
        coef[groups == g] = (rng.uniform(0.5, 1.5, group_size)
                             * rng.choice([-1.0, 1.0], group_size))
    return X, X @ coef + noise * rng.standard_normal(n_samples), coef, groups
