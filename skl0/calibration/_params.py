"""``SparseCalibrator``'s hyperparameters and fitted attributes, each written once.

The same table form as the gated estimators' (:mod:`skl0._params`), from
which the calibrator gets its ``__init__``, ``_parameter_constraints`` and
the Parameters and Attributes sections of its docstring.
"""

from __future__ import annotations

from numbers import Real

from .._compat import Interval, IntInterval, StrOptions
from .._params import Param, _table

__all__ = ["ATTRIBUTES", "CALIBRATOR", "PARAMS"]


#: The signature; ``*`` starts the keyword-only parameters.
CALIBRATOR = (
    "k", "*", "lam", "target_weights", "target_groups", "l2", "max_iter", "polish_iter",
    "learning_rate", "prune_tol", "device", "dtype", "random_state", "verbose",
)

PARAMS = _table(
    Param(
        "k", "int or None", default=None,
        constraints=[IntInterval(1, None, closed="left"), None],
        doc="""\
Number of records to keep, exactly. ``None`` lets ``lam`` decide.""",
    ),
    Param(
        "lam", "float", default=1e-6, shown="1e-6",
        constraints=[Interval(Real, 0, None, closed="left")],
        doc="""\
Penalty per kept record, in units of the loss (a mean squared
relative error). Ignored as a fixed value when ``k`` is set; it
is then only the starting point of the dual ascent on ``log(lam)``,
so it must be > 0.""",
    ),
    Param(
        "target_weights", "array-like of shape (n_targets,) or None", default=None,
        constraints=["array-like", None],
        doc="""\
Non-negative importance of each target in the loss. A pandas
Series is aligned to the target names by label, as ``targets`` is;
when no target is named (array ``targets``, array or sparse ``M``)
only the default index ``0..Q-1`` is accepted, read by position.""",
    ),
    Param(
        "target_groups", "array-like of shape (n_targets,) or None", default=None,
        constraints=["array-like", None],
        doc="""\
Group label of each target; each group's squared errors are
averaged, so every group counts alike however many targets it has.
A pandas Series is aligned to the target names by label, as
``targets`` is; when no target is named (array ``targets``, array or
sparse ``M``) only the default index ``0..Q-1`` is accepted, read by
position.""",
    ),
    Param(
        "l2", "float", default=0.0,
        constraints=[Interval(Real, 0, None, closed="left")],
        doc="""\
Strength of an L2 pull of ``log(weight_i)`` toward
``log(a * initial_weight_i * N / n_kept)``, averaged over records:
``a`` is the one common factor that best fits the totals (where
the weights start), and ``N / n_kept`` scales the reference up so
the kept records carry the dropped ones' share. A pull on the log
(relative) scale, so a weight twice its reference costs as much as
one half of it. It does not keep records by itself: with ``lam=0``
the gates carry no price, but the pull still closes a few
(``SparseCalibrator(lam=0, l2=l2, random_state=0)`` fitted on
``make_survey(3000, random_state=0)`` with its initial weights
keeps 3000, 2857 and 2800 of 3000 records at ``l2`` = 0, 0.1 and 1).""",
    ),
    Param(
        "max_iter", "int", default=1000,
        constraints=[IntInterval(0, None, closed="left")],
        doc="""\
Gradient steps of the gated stage.""",
    ),
    Param(
        "polish_iter", "int", default=300,
        constraints=[IntInterval(0, None, closed="left")],
        doc="""\
Gradient steps of the final refit of the kept records' weights
(0 skips it).""",
    ),
    Param(
        "learning_rate", "float", default=0.1,
        constraints=[Interval(Real, 0, None, closed="neither")],
        doc="""\
Adam step size for log-weights and gate parameters.""",
    ),
    Param(
        "prune_tol", "float", default=0.05,
        constraints=[Interval(Real, 0, 1, closed="left")],
        doc="""\
During training, records whose ``P(gate != 0)`` falls below
``prune_tol`` leave the computation for good, so later steps cost
less (never fewer than ``k`` stay). A record whose deterministic
gate is still open stays whatever its ``P(gate != 0)``, so pruning
does not change the selection. 0 keeps every record in every step.""",
    ),
    Param(
        "device", "str", default="auto",
        constraints=[StrOptions({"auto", "cpu"}), str],
        doc="""\
``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or
``"cuda:N"``. Asking for CUDA without it raises a ``ValueError``.""",
    ),
    Param(
        "dtype", '{"float32", "float64"} or None', default=None,
        constraints=[StrOptions({"float32", "float64"}), None],
        doc="""\
Floating point type of the computation; ``None`` follows ``M``
(float32 for a float32 ``M``, else float64), as scikit-learn does.""",
    ),
    Param(
        "random_state", "int, RandomState instance or None", default=None,
        constraints=["random_state"],
        doc="""\
Seeds a local ``torch.Generator`` for the gate noise; torch's global
random state is never touched. ``None`` draws the seed from numpy's
global RNG (one draw per fit, as scikit-learn does); an int or a
``RandomState`` leaves numpy's global state alone.""",
    ),
    Param(
        "verbose", "int", default=0,
        constraints=["verbose"],
        doc="""\
0 is silent; 1 shows a tqdm progress bar with the loss and the
number of kept records (periodic prints when tqdm is missing).""",
    ),
)

ATTRIBUTES = (
    Param("weights_", "ndarray of shape (n_records,)", """\
Calibrated weights, >= 0, exactly 0 for dropped records."""),
    Param("support_", "ndarray of bool of shape (n_records,)", """\
True for kept records (``weights_ > 0``)."""),
    Param("n_records_kept_", "int", """\
Number of kept records (``k`` when ``k`` is set)."""),
    Param("gate_probs_", "ndarray of shape (n_records,)", """\
``P(gate != 0)`` of each record at the end of the gated stage."""),
    Param("totals_", "ndarray of shape (n_targets,)", """\
Achieved totals ``M.T @ weights_``."""),
    Param("relative_errors_", "ndarray of shape (n_targets,)", """\
``(totals_ - targets) / scale``: the relative error of each target
(for a zero target the scale is its total under the calibrated
starting weights, see ``docs/calibration.md``)."""),
    Param("calibration_report_", "pandas.DataFrame", """\
One row per target, indexed by target name (the columns of a
DataFrame ``M``, the index of a Series ``targets`` unless it is the
default ``0..Q-1``, else ``target_0``, ...), with columns ``target``, ``achieved`` and
``relative_error``."""),
    Param("lam_", "float", """\
``lam`` at the end of the gated stage (tuned when ``k`` is set)."""),
    Param("n_iter_", "int", """\
Gradient steps run (gated stage plus polish)."""),
    Param("loss_curve_", "ndarray of shape (n_iter,)", """\
Objective at each step: the gated stage, then the polish. In the gated
stage it counts the records still in the computation: a record pruned
by ``prune_tol`` takes its ``lam * P(gate != 0)`` and ``l2`` terms
with it, so the curve steps down where records are pruned."""),
    Param("n_features_in_", "int", """\
Number of targets ``Q`` (columns of ``M``)."""),
    Param("feature_names_in_", "ndarray of shape (n_features_in,)", """\
Target names, when ``M`` is a DataFrame with string columns."""),
)
