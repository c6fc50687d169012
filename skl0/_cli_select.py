"""``skl0 select``: fit an L0FeatureSelector on a table and report it."""

from __future__ import annotations

import math
import sys

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

from ._checks import SingleValueTarget, _temporal_kind, infer_task
from ._cli_io import (
    LIST_SUFFIXES,
    TABLE_SUFFIXES,
    UsageError,
    check_device,
    check_output_path,
    feature_matrix,
    fit_quietly,
    read_table,
    write_list,
    write_table,
)
from ._selector import L0FeatureSelector

__all__ = ["run_select"]


def _load_select_data(args):
    if getattr(args, "no_groups", False) and not args.one_hot:
        raise UsageError("--no-groups applies only with --one-hot (it selects single 0/1 "
                         "columns of the encoded text columns); pass both, or neither")
    if args.demo:
        if args.data is not None:
            raise UsageError("pass either DATA or --demo, not both")
        frame = load_breast_cancer(as_frame=True).frame
        return frame, args.target or "target", "breast cancer (scikit-learn)"
    if args.data is None:
        raise UsageError("missing DATA: pass a .csv/.parquet file, or --demo")
    if args.target is None:
        raise UsageError("missing --target COLUMN: name the column to predict")
    return read_table(args.data), args.target, f"'{args.data}'"


def _task_of(y, task):
    """``--task auto``: the estimators' rule (:func:`skl0._checks.infer_task`)."""
    if task == "auto":
        try:
            task = infer_task(y)
        except SingleValueTarget:  # a constant of whole numbers: the CLI's words
            value = y.iloc[0].item() if hasattr(y.iloc[0], "item") else y.iloc[0]
            raise UsageError(
                f"target '{y.name}' holds a single value ({value!r}), so it has "
                "no classes to separate; pass --task regression to fit a constant target"
            ) from None
    kind = _temporal_kind(y)
    if kind is not None:  # "pass --task classification" fitted a class per date
        raise UsageError(
            f"target '{y.name}' holds dates or times ({kind}); convert it to a number "
            "first (e.g. days since a reference date), or pick another --target"
        )
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise UsageError(
            f"target '{y.name}' is not numeric, so it cannot be regressed; "
            "pass --task classification"
        )
    if task == "classification" and y.nunique() < 2:
        # The classifier's own words name the parameter y, not the column.
        value = y.iloc[0].item() if hasattr(y.iloc[0], "item") else y.iloc[0]
        fix = ("pass --task regression to fit a constant target"
               if pd.api.types.is_numeric_dtype(y) else
               "pass a --target column with at least two labels")
        raise UsageError(
            f"target '{y.name}' holds a single value ({value!r}), so it has no classes "
            f"to separate; {fix}"
        )
    if task == "classification" and type_of_target(y.to_numpy()).startswith("continuous"):
        raise UsageError(
            f"target '{y.name}' holds non-integer numbers ({y.nunique()} distinct values), "
            "so it has no classes; pass --task regression (or --task auto)"
        )
    return task


def _check_folds(folds, y, task):
    """``--cv`` against the rows fitted on, in the command line's words.

    Too many folds raised scikit-learn's "Cannot have number of splits
    n_splits=..." or "n_splits=... cannot be greater than the number of
    members in each class", or skl0's advice to pass ``scoring=``, an
    option the command line does not have.
    """
    if task == "classification":  # stratified: the largest class bounds the folds
        counts = y.value_counts()
        limit = int(counts.iloc[0])
        why = (f"more folds than the largest class of the {len(y)} rows fitted on has "
               f"rows ({limit} of {counts.index[0]!r})")
    else:  # R^2 needs 2 held-out rows in every fold
        limit = len(y) // 2
        why = (f"folds of fewer than 2 of the {len(y)} rows fitted on (R^2 is undefined "
               "on one row)")
    if folds > limit:
        raise UsageError(f"--cv {folds} makes {why}; pass --cv {limit} or less")


def _split(X, y, test_size, task, seed):
    if test_size == 0:
        return X, None, y, None
    n_test = int(-(-test_size * len(y) // 1))
    if n_test < 1 or len(y) - n_test < 2:
        raise UsageError(
            f"--test-size {test_size} leaves no rows to test or fewer than 2 to fit "
            f"(of {len(y)}); change --test-size, or pass 0 to skip the held-out score"
        )
    kwargs = dict(test_size=test_size, random_state=seed)
    if task == "classification":
        try:
            return train_test_split(X, y, stratify=y, **kwargs)
        except ValueError:  # a class too small to stratify
            pass
    return train_test_split(X, y, **kwargs)


def run_select(args, command):
    prog = f"skl0 {command}"
    check_device(args.device)
    out_suffix = None
    if args.output is not None:
        out_suffix = check_output_path(args.output, TABLE_SUFFIXES + LIST_SUFFIXES,
                                       inputs=[args.data], force=args.force)
    frame, target, label = _load_select_data(args)
    X, y, notes, groups = feature_matrix(frame, target, args.drop, args.one_hot,
                                         args.dropna, with_groups=True)
    if getattr(args, "no_groups", False):
        groups = None  # one gate per 0/1 column
    p = X.shape[1]
    n_units = p if groups is None else len(set(groups))
    if args.k is not None and args.k > n_units:
        what = "feature columns" if groups is None else "original feature columns"
        raise UsageError(
            f"--k {args.k} is larger than the {n_units} {what}; pass --k {n_units} or less"
        )
    task = _task_of(y, args.task)
    class_weight = getattr(args, "class_weight", None)
    if class_weight is not None and task != "classification":
        raise UsageError(
            f"--class-weight {class_weight} weighs the classes of a classification, but "
            f"the target '{target}' is read as a regression target; drop --class-weight, "
            "or pass --task classification if it holds class labels"
        )
    X_train, X_test, y_train, y_test = _split(X, y, args.test_size, task, args.random_state)

    kind = f"{task}, {y.nunique()} classes" if task == "classification" else task
    print(f"data: {label}, {len(y)} rows, {p} features, target '{target}' ({kind})")
    for note in notes:
        print(f"note: {note}")
    lam = "auto" if args.lam is None else args.lam
    common = dict(task=task, max_iter=args.max_iter, random_state=args.random_state,
                  device=args.device, verbose=args.verbose, groups=groups)
    if class_weight is not None:
        common["class_weight"] = class_weight
    if groups is not None:
        notes_groups = (f"the 0/1 columns of each one-hot encoded column form one group: "
                        f"--k counts the {n_units} original columns (--no-groups: single "
                        "0/1 columns)")
        print(f"note: {notes_groups}")
    folds = getattr(args, "cv", None)
    if folds is not None:
        _check_folds(folds, y_train, task)
    if folds is not None:
        from ._selector_cv import L0FeatureSelectorCV

        sel = L0FeatureSelectorCV(cv=folds, **common)
        how = f"cv={folds}"
    else:
        sel = L0FeatureSelector(lam=lam, k=args.k, **common)
        how = f"k={args.k}" if args.k is not None else f"lam={lam!r}"
    fit_quietly(sel, prog, X_train, y_train)
    mask = sel.get_support()
    names = list(X.columns[mask])
    probs = sel.feature_importances_[mask]
    print(f"fitted {type(sel).__name__}({how}) on {len(y_train)} rows: kept {len(names)} "
          f"of {p} features (lam_={sel.lam_:.3g})")
    if groups is not None:
        kept = [str(g) for g in sel.group_labels_[sel.group_support_]]
        print(f"  kept {len(kept)} of {n_units} original columns: {', '.join(kept)}")
    if names:
        width = max(len("feature"), *(len(n) for n in names))
        print(f"  {'feature':<{width}}  P(gate open)")
        for name, prob in sorted(zip(names, probs), key=lambda t: -t[1]):
            print(f"  {name:<{width}}  {prob:12.3f}")

    info = {"target": target, "task": task, "lam": float(sel.lam_)}
    if X_test is not None:
        metric = "accuracy" if task == "classification" else "R^2"
        if len(y_test) < 2 and task != "classification":  # R^2 needs two rows
            print(f"{prog}: warning: R^2 is not defined on 1 held-out row; pass a "
                  "larger --test-size", file=sys.stderr)
            score = math.nan
        else:
            score = float(sel.estimator_.score(X_test, y_test))
        head = type(sel.estimator_).__name__
        print(f"held-out {metric} of the refitted {head} on {len(names)} features: "
              f"{score:.3f} ({len(y_test)} rows)")
        info.update(score_name=metric, held_out_score=score, n_test=len(y_test))
    info["gate_probabilities"] = dict(zip(names, (float(v) for v in probs)))
    if out_suffix in LIST_SUFFIXES:
        write_list(args.output, out_suffix, names, info)
        print(f"wrote {len(names)} feature names to {args.output}")
    elif out_suffix is not None:
        reduced = X.loc[:, mask].copy()
        reduced[target] = y
        write_table(reduced, args.output, out_suffix)
        print(f"wrote {reduced.shape[0]} rows x {reduced.shape[1]} columns "
              f"({len(names)} features and '{target}') to {args.output}")
