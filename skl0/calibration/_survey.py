"""A synthetic survey to calibrate: households, their people and their income.

The generator draws a population of households, a hidden "true" weighting
of them, and the population totals that weighting implies (plus noise, so
the totals are slightly inconsistent, as real benchmarks from different
sources are). It returns the sparse record-by-target matrix ``M`` that a
calibrator needs, never a dense one.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._checks import check_int

__all__ = ["make_survey"]


def make_survey(
    n_records=10_000,
    n_regions=20,
    n_age_bands=8,
    n_income_brackets=6,
    noise=0.005,
    random_state=None,
):
    """Generate a synthetic household survey and the totals to calibrate it to.

    Each record is a household with a region, one to six people spread over
    age bands, and an income that falls into an income bracket. A hidden
    true weighting (the initial design weights times log-normal factors that
    depend on region, household size and income) defines the population;
    its totals, each multiplied by ``1 + noise * N(0, 1)``, are the targets.

    The targets, in this order:

    * ``people|region=r|age=a``: people of age band ``a`` in region ``r``
      (``n_regions * n_age_bands`` counts);
    * ``households|region=r|income=b``: households of income bracket ``b``
      in region ``r`` (``n_regions * n_income_brackets`` counts);
    * ``income|region=r``: total household income in region ``r``
      (``n_regions`` amounts, about 1e4 times larger than the counts);
    * ``people|age=a|income=b``: people of age band ``a`` living in
      households of income bracket ``b``, nationwide
      (``n_age_bands * n_income_brackets`` counts).

    So ``Q = n_regions * (n_age_bands + n_income_brackets + 1) +
    n_age_bands * n_income_brackets``; every record has at most
    ``2 * 6 + 2`` non-zero entries.

    Parameters
    ----------
    n_records : int, default=10_000
        Number of households ``N`` (1e4 to 1e6 are typical).
    n_regions : int, default=20
        Number of regions.
    n_age_bands : int, default=8
        Number of age bands.
    n_income_brackets : int, default=6
        Number of income brackets (quantiles of the sample income).
    noise : float, default=0.005
        Relative standard deviation of the noise on each total; 0 gives
        totals that the true weighting reproduces exactly.
    random_state : int, RandomState instance or None, default=None
        Seed for the draws.

    Returns
    -------
    M : scipy.sparse.csr_matrix of shape (n_records, Q)
        ``M[i, j]`` is what record ``i`` contributes to target ``j`` per
        unit of weight (float64).
    targets : ndarray of shape (Q,)
        Population totals.
    initial_weights : ndarray of shape (n_records,)
        Design weights (population size over sample size, with jitter).
    target_names : list of str
        One name per target, in column order.

    Examples
    --------
    >>> from skl0.calibration import make_survey
    >>> M, targets, w0, names = make_survey(n_records=1000, n_regions=3,
    ...                                     n_age_bands=4, n_income_brackets=2,
    ...                                     random_state=0)
    >>> M.shape, targets.shape, w0.shape, len(names)
    ((1000, 29), (29,), (1000,), 29)
    >>> names[0], names[-1]
    ('people|region=0|age=0', 'people|age=3|income=1')
    """
    n = check_int("n_records", n_records, 1)
    n_reg = check_int("n_regions", n_regions, 1)
    n_age = check_int("n_age_bands", n_age_bands, 1)
    n_inc = check_int("n_income_brackets", n_income_brackets, 1)
    if isinstance(noise, bool) or not isinstance(noise, Real) or not 0 <= noise < 1:
        raise ValueError(f"noise={noise!r} is invalid; pass a float in [0, 1).")
    rng = check_random_state(random_state)

    # Households: region, size, the age band of each person, income.
    region_p = rng.dirichlet(np.full(n_reg, 5.0))
    region = rng.choice(n_reg, size=n, p=region_p)
    size = 1 + rng.binomial(5, 0.3, size=n)
    age_p = rng.dirichlet(np.full(n_age, 4.0), size=n_reg)[region]  # (n, n_age)
    # Draw people one by one as a flat array, then count per (record, age band).
    person_hh = np.repeat(np.arange(n), size)
    cum = np.cumsum(age_p[person_hh], axis=1)
    person_age = (rng.random_sample(person_hh.size)[:, None] > cum).sum(axis=1)
    person_age = np.minimum(person_age, n_age - 1)
    region_level = rng.normal(0.0, 0.3, size=n_reg)
    income = np.exp(10.5 + region_level[region] + 0.1 * size + rng.normal(0, 0.6, n))
    edges = np.quantile(income, np.linspace(0, 1, n_inc + 1)[1:-1])
    bracket = np.searchsorted(edges, income, side="right")

    # Column blocks of M, each assembled as (row, column, value) triplets.
    off_inc = n_reg * n_age
    off_amt = off_inc + n_reg * n_inc
    off_nat = off_amt + n_reg
    q = off_nat + n_age * n_inc
    rows = np.concatenate([person_hh, np.arange(n), np.arange(n), person_hh])
    cols = np.concatenate(
        [
            region[person_hh] * n_age + person_age,
            off_inc + region * n_inc + bracket,
            off_amt + region,
            off_nat + person_age * n_inc + bracket[person_hh],
        ]
    )
    vals = np.concatenate(
        [np.ones(person_hh.size), np.ones(n), income, np.ones(person_hh.size)]
    )
    M = sp.csr_matrix((vals, (rows, cols)), shape=(n, q))  # duplicates are summed
    M.sum_duplicates()

    # Design weights, and a hidden true weighting that departs from them.
    population = 50.0 * n
    initial_weights = population / n * np.exp(rng.normal(0.0, 0.1, n))
    shift = rng.normal(0.0, 0.25, n_reg)[region] + 0.1 * (size - 2)
    shift += 0.15 * (bracket - (n_inc - 1) / 2) / max(n_inc - 1, 1)
    true_weights = initial_weights * np.exp(shift + rng.normal(0.0, 0.3, n))
    totals = M.T @ true_weights
    targets = totals * (1.0 + noise * rng.standard_normal(q))

    names = [f"people|region={r}|age={a}" for r in range(n_reg) for a in range(n_age)]
    names += [
        f"households|region={r}|income={b}" for r in range(n_reg) for b in range(n_inc)
    ]
    names += [f"income|region={r}" for r in range(n_reg)]
    names += [f"people|age={a}|income={b}" for a in range(n_age) for b in range(n_inc)]
    return M, targets, initial_weights, names
