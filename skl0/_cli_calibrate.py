"""``skl0 calibrate``: fit a SparseCalibrator on a table of records."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._cli_io import (
    TABLE_SUFFIXES,
    UsageError,
    check_device,
    check_output_path,
    fit_quietly,
    quote_list,
    read_table,
    read_targets,
    write_table,
)
from .calibration import SparseCalibrator

__all__ = ["run_calibrate"]


def _calibration_inputs(args):
    M = read_table(args.matrix, what="M")
    targets = read_targets(args.targets, columns=M.columns)
    extra = [c for c in (args.id, args.weights) if c is not None]
    missing = [c for c in extra if c not in M.columns]
    if missing:
        raise UsageError(f"column {quote_list(missing)} not found in M '{args.matrix}'")
    for option, column in (("--id", args.id), ("--weights", args.weights)):
        if column is not None and column in targets.index:
            raise UsageError(
                f"target '{column}' is the {option} column of M; a total of that column "
                f"cannot be calibrated: drop it from the targets, or pass another {option}"
            )
    unknown = [t for t in targets.index if t not in M.columns]
    if unknown:
        raise UsageError(
            f"targets that are not columns of M '{args.matrix}': {quote_list(unknown)}; "
            f"its columns are {quote_list(M.columns)}"
        )
    used = list(targets.index)
    text = [c for c in used if not pd.api.types.is_numeric_dtype(M[c])]
    if text:
        raise UsageError(f"non-numeric columns of M: {quote_list(text)}")
    values = M[used].astype(float)
    bad = [c for c in used if not np.isfinite(values[c].to_numpy()).all()]
    if bad:  # the calibrator's own message names no column and speaks of fit()
        raise UsageError(
            f"columns of M '{args.matrix}' with missing or infinite values: "
            f"{quote_list(bad)}; fill them (0 where a record adds nothing to that total) "
            "or drop those records"
        )
    weights = None
    if args.weights is not None:
        weights = pd.to_numeric(M[args.weights], errors="coerce").to_numpy(dtype=float)
        if not (np.isfinite(weights) & (weights > 0)).all():  # also catches NaN
            raise UsageError(
                f"--weights column '{args.weights}' must hold finite numbers > 0"
            )
    if args.k is not None and args.k > len(M):
        raise UsageError(
            f"--k {args.k} is larger than the {len(M)} records of M; pass --k {len(M)} or less"
        )
    if args.k is not None and args.lam == 0:
        raise UsageError(
            f"--lam 0 with --k {args.k}: with --k, --lam is where the search for the price "
            "that keeps --k records starts, which cannot be 0; pass --lam > 0 (the default "
            "1e-6 serves), or leave out --k to fit with no price"
        )
    if args.id is not None:
        _check_ids(M[args.id], args.id)
    ids = M[args.id] if args.id is not None else pd.Series(range(len(M)), name="record")
    ignored = [c for c in M.columns if c not in used and c not in extra]
    return values, targets, weights, ids, ignored


def _check_ids(ids, column):
    """An ``--id`` column names each record once: OUT's rows are told apart by it.

    A repeated or missing id was written to OUT as is, two weights under
    one name, or a weight under no name.
    """
    missing = np.flatnonzero(ids.isna().to_numpy())
    if missing.size:
        raise UsageError(
            f"--id column '{column}' has {missing.size} missing value(s), the first in "
            f"record {int(missing[0])} (counted from 0); give every "
            "record an id, or leave out --id to number the records"
        )
    repeated = ids[ids.duplicated(keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        rows = np.flatnonzero((ids == first).to_numpy())
        raise UsageError(
            f"--id column '{column}' repeats {quote_list(list(repeated.unique()))} ({first!r} "
            f"in records {', '.join(str(int(r)) for r in rows[:3])}, counted from 0); give each "
            "record its own id, or leave out --id to number the records"
        )


#: The calibrator's parameters that its messages name, as the command's options.
CALIBRATE_OPTIONS = {"learning_rate": "--learning-rate", "max_iter": "--max-iter",
                     "polish_iter": "--polish-iter", "lam": "--lam"}


def run_calibrate(args, command):
    prog = f"skl0 {command}"
    check_device(args.device)
    out_suffix = None
    if args.output is not None:
        out_suffix = check_output_path(args.output, TABLE_SUFFIXES,
                                       inputs=[args.matrix, args.targets], force=args.force)
    M, targets, weights, ids, ignored = _calibration_inputs(args)
    print(f"M: '{args.matrix}', {M.shape[0]} records, {M.shape[1]} targets")
    if ignored:
        print(f"note: columns of M without a target are not used: {quote_list(ignored)}")
    cal = SparseCalibrator(
        k=args.k, lam=args.lam, max_iter=args.max_iter, polish_iter=args.polish_iter,
        learning_rate=args.learning_rate, random_state=args.random_state,
        device=args.device, verbose=args.verbose,
    )
    fit_quietly(cal, prog, M, targets, sample_weight=weights,
                options=CALIBRATE_OPTIONS)
    report = cal.calibration_report_
    err = report["relative_error"].abs()
    print(f"kept {cal.n_records_kept_} of {M.shape[0]} records; |relative error|: "
          f"mean {err.mean():.3g}, max {err.max():.3g} ('{err.idxmax()}')")
    shown = report if len(report) <= 30 else report.loc[err.sort_values(ascending=False).index[:15]]
    if len(shown) < len(report):
        print(f"the {len(shown)} targets with the largest errors:")
    width = max(len("target"), *(len(str(n)) for n in shown.index))
    print(f"  {'target':<{width}}  {'total':>12}  {'achieved':>12}  {'rel. error':>10}")
    for name, row in shown.iterrows():
        print(f"  {str(name):<{width}}  {row['target']:12.6g}  {row['achieved']:12.6g}  "
              f"{row['relative_error']:10.2e}")
    if out_suffix is not None:
        kept = np.flatnonzero(cal.support_)
        # A column of its own for the weights, also when the ids are called "weight".
        weight_name = "calibrated_weight" if str(ids.name) == "weight" else "weight"
        out = pd.DataFrame({ids.name: ids.to_numpy()[kept]})
        out[weight_name] = cal.weights_[kept]
        write_table(out, args.output, out_suffix)
        print(f"wrote {len(out)} record weights to {args.output}")
