"""Sparse survey calibration: keep 10% of the households, still hit the totals.

A synthetic survey (``make_survey``) has households with a region, people in
age bands and an income. ``SparseCalibrator`` keeps exactly ``k`` of them and
re-weights those so that the weighted counts (people per region and age
band, households per region and income bracket, ...) and amounts (income
per region) match the population totals.

Set ``SKL0_QUICK=1`` for a smaller, faster run (as CI does).
"""

import os
import time

import numpy as np
import pandas as pd

from skl0.calibration import SparseCalibrator, make_survey

quick = os.environ.get("SKL0_QUICK") == "1"
M, targets, design_weights, names = make_survey(
    n_records=5_000 if quick else 20_000,
    n_regions=10 if quick else 30,
    n_age_bands=8,
    n_income_brackets=6,
    noise=0.005,
    random_state=0,
)
n_records, n_targets = M.shape
print(f"{n_records} records, {n_targets} totals, {M.nnz} non-zeros in M")

# Before: the design weights, scaled to the population, miss the totals.
scale = targets.sum() / (M.T @ design_weights).sum()
before = np.abs(M.T @ (scale * design_weights) - targets) / np.abs(targets)
print(f"design weights, all records: mean relative error {before.mean():.2%}")

calibrator = SparseCalibrator(
    k=n_records // 10,  # keep exactly 10% of the records
    max_iter=300 if quick else 800,
    polish_iter=200,
    random_state=0,
)
start = time.perf_counter()
calibrator.fit(M, pd.Series(targets, index=names), sample_weight=design_weights)
seconds = time.perf_counter() - start

errors = calibrator.calibration_report_["relative_error"].abs()
print(
    f"SparseCalibrator: kept {calibrator.n_records_kept_} records "
    f"({calibrator.n_records_kept_ / n_records:.0%}), mean relative error "
    f"{errors.mean():.3%}, max {errors.max():.2%}, in {seconds:.1f} s"
)
assert (calibrator.weights_[~calibrator.support_] == 0).all()  # exact zeros

print("\nThe five hardest totals:")
print(calibrator.calibration_report_.loc[errors.nlargest(5).index].to_string())
