"""The ``skl0`` command line: select features from a table, calibrate a survey.

``skl0 select DATA --target COLUMN`` fits an :class:`~skl0.L0FeatureSelector`
on a CSV or Parquet file and prints the kept features with the probability
that each gate is open and a held-out score; ``-o`` writes the reduced data
or the list of names. ``skl0 select --demo`` runs on scikit-learn's breast
cancer data. ``skl0 calibrate M TARGETS`` fits a
:class:`~skl0.calibration.SparseCalibrator` and writes the record weights.
Run ``skl0 --help`` or ``skl0 select --help`` for every option; the user
guide's command-line page has worked examples.

A problem with the input (a missing file, an unknown column, a non-numeric
feature column, a bad ``--k``) is reported as one line on stderr with exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from pathlib import Path

from . import __version__

__all__ = ["main"]


class UsageError(Exception):
    """A problem with the command line's input, shown as one line (exit 2)."""


# Command -> (module, function); imported only when the command runs, so
# that --help and argument errors answer without importing torch.
_COMMANDS = {
    "select": ("._cli_select", "run_select"),
    "calibrate": ("._cli_calibrate", "run_calibrate"),
}

# The input files of each command (argument name, what the messages call it).
_INPUTS = {
    "select": (("data", "DATA"),),
    "calibrate": (("matrix", "M"), ("targets", "TARGETS")),
}


#: The table formats the commands read and write, by file name ending.
TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq")
#: ... as the help and the errors list them.
TABLE_FORMATS = f"{', '.join(TABLE_SUFFIXES[:-1])} or {TABLE_SUFFIXES[-1]}"


def _check_inputs(args):
    """A missing input file is reported before the command's imports.

    Only for names with a table ending: the command itself reports the
    others (an unknown format comes first) with the same words.
    """
    for name, what in _INPUTS[args.command]:
        path = getattr(args, name, None)
        if path is not None and str(path).lower().endswith(TABLE_SUFFIXES):
            check_exists(path, what)


def check_exists(path, what):
    """One line naming ``what`` when the input ``path`` does not exist."""
    if not Path(path).exists():
        raise UsageError(f"{what} file '{path}' does not exist")


def _run(args):
    _check_inputs(args)
    module, func = _COMMANDS[args.command]
    getattr(importlib.import_module(module, __package__), func)(args, args.command)

_SELECT_HELP = f"""\
Select features of a table with L0 (Hard Concrete) gates.

Reads DATA ({TABLE_FORMATS}, by extension), uses every column except
--target and --drop as a feature, splits off --test-size of the rows,
fits skl0.L0FeatureSelector on the rest and prints the kept features with
their gate probabilities (P(gate open)) and the held-out score (accuracy
or R^2) of the refitted L0Classifier / L0Regressor on the kept features.

Feature columns must be numeric: text columns are refused, naming them,
unless --one-hot expands them into 0/1 columns. Rows with missing values
are refused unless --dropna.

With -o OUT: {TABLE_FORMATS} write the kept columns and the target for
all rows; .txt writes the kept names one per line; .json writes the names
with their probabilities, lam and the score (null where a number is not
finite). OUT must not be DATA, and an existing OUT is only replaced with
--force; both are checked before the fit."""

_SELECT_EPILOG = """\
examples:
  skl0 select --demo
  skl0 select data.csv --target price --k 10 -o reduced.parquet
  skl0 select data.parquet --target label --lam 0.01 -o features.txt"""

_CALIBRATE_HELP = f"""\
Keep a few survey records and weight them so that weighted sums match totals.

M ({TABLE_FORMATS}) has one row per record and one column per
characteristic: M[i, j] is what record i adds to total j per unit of
weight. TARGETS gives the population totals, either as one row with a
column per target, or as two columns name,value (one target per row); both
need a header line, except that name,value lines may come without one.
Target names must be columns of M; columns of M without a target are not
used. Fits skl0.calibration.SparseCalibrator and prints the mean and
largest relative error, then each target, the achieved total and the
relative error (with more than 30 targets, the 15 with the largest errors).

With -o OUT ({TABLE_FORMATS}): the kept records, one row each, with
their row number in M (or the --id column) and their weight (in a column
'weight', or 'calibrated_weight' when the --id column is called 'weight').
OUT must not be an input file, and an existing OUT is only replaced with
--force; both are checked before the fit."""

_CALIBRATE_EPILOG = """\
example:
  skl0 calibrate households.csv totals.csv --k 500 --weights design_weight -o weights.csv"""


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` (one line) instead of exiting."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def _int_at_least(minimum):
    """An argparse ``type``: an integer >= ``minimum``, or a one-line error."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


_steps, _positive_int, _folds = _int_at_least(0), _int_at_least(1), _int_at_least(2)


def _float_where(ok, expected):
    """An argparse ``type``: a number for which ``ok`` holds, or a one-line error."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan  # fails every test below
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_fraction = _float_where(lambda v: 0 <= v < 1, "a number in [0, 1)")
_step_size = _float_where(lambda v: 0 < v < math.inf, "a number > 0")
_lam_number = _float_where(lambda v: 0 <= v < math.inf, "'auto' or a finite number >= 0")
_price = _float_where(lambda v: 0 <= v < math.inf, "a number >= 0")


def _lam(text):
    return text if text == "auto" else _lam_number(text)


_MAX_SEED = 2**32 - 1


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= _MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"expected an integer seed from 0 to {_MAX_SEED}, got {text!r}"
        )
    return value


def _common_fit_options(p, max_iter, iterations):
    p.add_argument("--force", action="store_true",
                   help="overwrite OUT if it exists (never an input file)")
    p.add_argument("--max-iter", type=_positive_int, default=max_iter, metavar="N",
                   help=f"{iterations} (default: {max_iter})")
    p.add_argument("--random-state", type=_seed, default=0, metavar="SEED",
                   help=f"seed, 0 to {_MAX_SEED}, of the held-out split (select) and of "
                        "the gate noise where a fit samples gates (default: 0)")
    p.add_argument("--device", default="auto",
                   help="'auto' (CUDA when present; for select only where the table holds "
                        "more than 2^22 numbers), 'cpu', 'cuda' or 'cuda:N' (default: auto)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="report training progress on stderr")


def build_parser():
    """The argument parser of ``skl0`` (exposed for documentation tools)."""
    parser = _Parser(
        prog="skl0",
        description="L0 feature selection and sparse survey calibration with Hard "
                    "Concrete gates. Run 'skl0 COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"skl0 {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sel = sub.add_parser(
        "select", help="select features of a CSV/Parquet table",
        description=_SELECT_HELP, epilog=_SELECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sel.add_argument("data", nargs="?", metavar="DATA", help=f"input table ({TABLE_FORMATS})")
    sel.add_argument("--demo", action="store_true",
                     help="use scikit-learn's breast cancer data instead of DATA")
    sel.add_argument("-t", "--target", metavar="COLUMN", help="the column to predict")
    size = sel.add_mutually_exclusive_group()
    size.add_argument("--k", type=_positive_int, metavar="N", help="keep exactly N features")
    size.add_argument("--lam", type=_lam, metavar="X",
                      help="price of one open gate, or 'auto' (default: auto, no tuning)")
    size.add_argument("--cv", type=_folds, metavar="FOLDS",
                      help="choose lam by FOLDS-fold cross-validation "
                           "(skl0.L0FeatureSelectorCV)")
    sel.add_argument("--task", choices=("auto", "regression", "classification"),
                     default="auto",
                     help="auto (the default): classification when the target is text, "
                          "boolean, or has at most 20 distinct whole-number values; "
                          "regression otherwise")
    sel.add_argument("--class-weight", choices=("balanced",), default=None,
                     help="classification: weigh each class by the inverse of its "
                          "frequency (class_weight='balanced'), for imbalanced classes")
    sel.add_argument("--test-size", type=_fraction, default=0.25, metavar="F",
                     help="fraction of rows held out for the score; 0 fits on all rows "
                          "and reports no score (default: 0.25)")
    sel.add_argument("--drop", action="append", default=[], metavar="COLUMN",
                     help="leave COLUMN out of the features (repeatable)")
    sel.add_argument("--one-hot", action="store_true",
                     help="expand non-numeric feature columns into 0/1 columns; the "
                          "columns of one original column are kept or dropped together "
                          "and --k counts original columns")
    sel.add_argument("--no-groups", action="store_true",
                     help="with --one-hot: select single 0/1 columns, not whole "
                          "original columns")
    sel.add_argument("--dropna", action="store_true", help="drop rows with missing values")
    sel.add_argument("-o", "--output", metavar="OUT",
                     help=f"write the reduced data ({TABLE_FORMATS}) or the kept "
                          "names (.txt/.json)")
    _common_fit_options(sel, max_iter=300,
                        iterations="L-BFGS-B iterations per point of the lam path")

    cal = sub.add_parser(
        "calibrate", help="weight a few survey records to match population totals",
        description=_CALIBRATE_HELP, epilog=_CALIBRATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cal.add_argument("matrix", metavar="M", help=f"records x characteristics ({TABLE_FORMATS})")
    cal.add_argument("targets", metavar="TARGETS", help=f"population totals ({TABLE_FORMATS})")
    cal.add_argument("--k", type=_positive_int, metavar="N", help="keep exactly N records")
    cal.add_argument("--lam", type=_price, default=1e-6, metavar="X",
                     help="price of one kept record when --k is not given; with --k, "
                          "where the search for the price that keeps N records starts, "
                          "which must be > 0 (default: 1e-6)")
    cal.add_argument("--weights", metavar="COLUMN",
                     help="column of M holding the initial (design) weights, > 0")
    cal.add_argument("--id", metavar="COLUMN", help="column of M naming the records, each once")
    cal.add_argument("-o", "--output", metavar="OUT", help="write the kept records' weights")
    _common_fit_options(cal, max_iter=1000, iterations="gradient steps of the gate fit")
    cal.add_argument("--polish-iter", type=_steps, default=300, metavar="N",
                     help="steps of the final refit of the kept weights (default: 300)")
    cal.add_argument("--learning-rate", type=_step_size, default=0.1, metavar="X",
                     help="Adam step size of the weights and gates; lower it when "
                          "the fit diverges (default: 0.1)")
    return parser


def main(argv=None):
    """Run the ``skl0`` command line.

    The ``skl0`` console script and ``python -m skl0`` call this function;
    call it from Python with a list of arguments to get the same behaviour
    with the exit status as a return value instead of a process exit.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 for a problem with the input (reported as one line
        on stderr), 130 when interrupted, 1 for an unexpected error (a defect
        of skl0's, also reported as one line).

    See Also
    --------
    skl0.L0FeatureSelector : What ``skl0 select`` fits.
    skl0.calibration.SparseCalibrator : What ``skl0 calibrate`` fits.

    Examples
    --------
    >>> from skl0.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    skl0 ...
    0
    >>> main(["select", "no_such_file.csv", "--target", "y"])
    2
    """
    parser = build_parser()
    stdout = sys.stdout
    sys.stdout = _PipeSafe(stdout)  # `| head` must not stop the work (or -o) half-way
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        _run(args)
        sys.stdout.flush()
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        prog = f"skl0 {args.command}" if "args" in locals() else "skl0"
        message = str(exc)
        if not message.startswith("skl0"):
            message = f"{prog}: error: {message}"
        print(message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skl0: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        _silence_stdout()
        return 0
    except Exception as exc:  # a defect of skl0's: one line, not a traceback
        if _interrupted(exc):  # Ctrl-C inside an import, re-raised as another error
            print("skl0: interrupted", file=sys.stderr)
            return 130
        prog = f"skl0 {args.command}" if "args" in locals() else "skl0"
        first = (str(exc).strip().splitlines() or [""])[0]  # (as _cli_io.one_line)
        print(f"{prog}: error: unexpected {type(exc).__name__}: {first} (a defect "
              "of skl0's; please report it with the command that raised it)", file=sys.stderr)
        return 1
    finally:
        sys.stdout = stdout
    return 0


def _interrupted(exc):
    """True when ``exc`` was caused by a KeyboardInterrupt.

    A Ctrl-C that lands while a class body runs during an import (torch's,
    say) reaches the command as ``RuntimeError: Error calling __set_name__
    ...`` with the KeyboardInterrupt as its cause.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class _PipeSafe:
    """``sys.stdout`` that, once its reader has gone (``| head``), drops what follows.

    The command goes on (its fit, its ``-o`` file) instead of stopping at
    the first print that cannot be delivered.
    """

    def __init__(self, stream):
        self._stream, self._gone = stream, False

    def write(self, text):
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone = True
                _silence_stdout()
        return len(text)

    def flush(self):
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone = True
                _silence_stdout()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence_stdout():
    """Point stdout at devnull so Python's exit flush cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor
        pass
