"""The estimators" hyperparameters, each defined once, and their docstrings.

Every hyperparameter is one :class:`Param` of :data:`PARAMS`: name, default,
validation constraints and numpydoc text. :func:`hyperparameters` makes from
it, for each estimator, the ``__init__`` (generated with an explicit
signature, as scikit-learn requires and as :mod:`dataclasses` does),
``_parameter_constraints`` and the docstring"s Parameters section; the
fitted attributes' text (:data:`ATTRIBUTES`, :data:`CV_ATTRIBUTES`) fills
its Attributes section. ``l0_path`` keeps a written-out signature, checked
against the table by tests/test_params.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

from sklearn.metrics import get_scorer_names

from ._compat import Interval, IntInterval, StrOptions, cached_param_names
from ._numpydoc import Entry, document, fill

__all__ = [
    "ATTRIBUTES", "CLASSIFIER", "CLASSIFIER_CV", "CLASSIFIER_HEAD", "CV", "CV_ATTRIBUTES",
    "ESTIMATOR", "FIT_PARAMS", "PARAMS", "REGRESSOR_HEAD", "SELECTOR", "SELECTOR_CV", "Param", "document_fit", "hyperparameters",
]


@dataclass(frozen=True)
class Param(Entry):
    """A hyperparameter (an :class:`~skl0._numpydoc.Entry` with its validation
    constraints) or a fitted attribute (no default, no constraints)."""

    constraints: list | None = None


def _table(*params):
    return {p.name: p for p in params}


PARAMS = _table(
    Param(
        "lam", 'float or "auto"', default="auto",
        constraints=[Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        doc="""\
Price of one open gate, in units of the task loss: for regression
the targets are standardized, so ``lam`` is the fraction of the
target's variance a feature must explain to be kept (1e-4 keeps
almost everything, 1e-2 keeps features worth 1% of the variance,
1.0 keeps none); for classification it is in nats of mean
cross-entropy (with K classes a feature carries K - 1 coefficients
against one price, so a given ``lam`` keeps more as K grows).
``"auto"`` fits a warm-started path of 16 values
from 1e-4 to 0.5 and, for every size, scores the best support found
(the path's, polished by a swap search; for squared loss, where a
size has at most 256 supports, the best of them all) by the extended
BIC (Chen & Chen 2008), keeping the lowest; see the user guide. With ``k``
set, a number ``lam`` selects and ``k`` caps (see ``k``).""",
    ),
    Param(
        "k", "int or None", default=None,
        constraints=[IntInterval(1, None, closed="left"), None],
        doc="""\
With ``lam="auto"``: keep exactly ``k`` features. The gates are
fitted along a warm-started path of increasing ``lam`` until at
most ``k`` stay open; the ``k`` that stay open longest are kept, and
(linear heads, ``refit=True``) a swap search as in abess exchanges
kept and dropped features while the refitted loss falls (on small
problems until no exchange of one feature for another lowers it, and
for squared loss on up to 20 columns none of two for two); for squared
loss with at most 256 supports of ``k`` features (and for a binary
log loss where they also hold at most 2^17 numbers of X together;
with ``groups``, at most 256 sets of ``k`` groups), the one with the
lowest refitted loss is found by scoring them all. With a
number ``lam``: keep at most ``k`` features, as
``SelectFromModel``'s ``max_features`` beside its threshold: the
fit at ``lam`` stands when it keeps ``k`` or fewer, otherwise the
exact-``k`` walk above goes on from ``lam`` (``lam_`` then says
where it stopped). So ``GridSearchCV`` over ``lam`` with ``k`` set
tunes the size below the cap. A ``k`` above the number of features
(or, with ``groups``, of groups) is read as that number, with a
warning: under ``lam="auto"`` all of them are kept, as
``SelectKBest`` does; beside a number ``lam`` the cap does not bind
and ``lam`` alone selects.""",
    ),
    Param(
        "task", '{"auto", "regression", "classification"}', default="auto",
        constraints=[StrOptions({"auto", "regression", "classification"})],
        doc="""\
``"auto"`` treats text, boolean and categorical targets, and
whole-number targets (integer or float, or numbers in an object
array) with at most 20 distinct values, as class labels; everything
else (a count or a price with many values, any continuous or
multi-output target) as regression.""",
    ),
    Param(
        "max_iter", "int", default=300,
        constraints=[IntInterval(1, None, closed="left")],
        doc="""\
Linear heads: L-BFGS-B iterations per point of the ``lam`` path (a
point stops earlier once converged, usually after a few; in the
exact-``k`` and ``lam="auto"`` walks with ``refit=True``, also once
its gates have sat at their bounds for 10 iterations). Squared
loss with more rows than columns is solved by an exact open/closed
search that ends by itself (every accepted flip lowers the
objective); L-BFGS-B, capped by ``max_iter``, then runs only if
that search did not end at a KKT point. MLP
heads: Adam steps of one fit, and of the refit; the path of ``k``
and ``lam="auto"`` (16 points) gives its dense first point
``max_iter / 3`` steps and each warm-started point ``max_iter / 9``
(about ``2 * max_iter`` in all). A Dask fit with an MLP head makes
whole passes over the blocks until it has taken at least ``max_iter``
Adam steps.""",
    ),
    Param(
        "learning_rate_init", "float", default=0.1,
        constraints=[Interval(Real, 0, None, closed="neither")],
        doc="""\
Adam step size for gates and head of an MLP head. In ``fit``, linear
heads are trained without sampling by L-BFGS-B, which has no step
size. The stochastic ``partial_fit`` (a classifier, a regressor with
hidden layers, or one with more than 4096 columns) trains every head
by Adam at this step size.""",
    ),
    Param(
        "init_prob", "float", default=0.9,
        constraints=[Interval(Real, 0, 1, closed="neither")],
        doc="""\
Initial probability that each gate is open, in (0, 1).""",
    ),
    Param(
        "temperature", "float", default=2.0 / 3.0, shown="2/3",
        constraints=[Interval(Real, 0, None, closed="neither")],
        doc="""\
Hard Concrete temperature ``beta`` (Louizos et al. 2017).""",
    ),
    Param(
        "alpha", "float", default=1e-4, shown="1e-4",
        constraints=[Interval(Real, 0, None, closed="left")],
        doc="""\
L2 penalty on the head's weights (standardized scale), used in
training and in the refit. With hidden layers it is the network's
weight decay, ``alpha * sum(W**2)`` over all layers, not divided by
the number of samples as in ``MLPRegressor``; raising it trades
weak curved effects for robustness to noise columns (see the user
guide's "Nonlinear heads"). With ``k`` and more than two classes the
swap search compares supports at the ridge ``max(alpha, 1/(2 n))``,
``LogisticRegression(C=1)``'s on standardized columns; the exported
head is refitted at ``alpha``. With ``alpha=0`` a linear classifier
warns (``ConvergenceWarning``) where its selected features separate
the training classes, completely or quasi-completely (some samples
on the boundary; tested where that linear program holds at most 2^20
numbers): the log loss then has no minimum, and the coefficients are
where the solver stopped.""",
    ),
    Param(
        "class_weight", 'dict, "balanced" or None', default=None,
        constraints=[dict, StrOptions({"balanced"}), None],
        doc="""\
Classification only (a regression refuses it). Weights of the
classes, ``{label: weight}``, each positive and finite (a class
left out weighs 1), or ``"balanced"``: ``total / (n_classes *
class_total)`` from the sample weights' totals per class, so every
class carries the same total weight, as in
``LogisticRegression``. They multiply ``sample_weight`` for the
fit (gates, swap search, refit); ``score`` and the CV estimators'
held-out scores keep ``sample_weight`` alone. Under ``lam="auto"``
the information criterion's sample size is the total of the
products: ``"balanced"`` keeps the total, a dict changes it by its
scale (weights that average about 1 keep it). The CV estimators
compute ``"balanced"`` on all of ``y``, as ``LogisticRegressionCV``,
and check a dict there (a fold without one of its classes takes it).
``partial_fit`` takes a dict only (a stream does not know its class
totals), and a Dask fit refuses it (pass the products as
``sample_weight``).""",
    ),
    Param(
        "refit", "bool", default=True,
        constraints=["boolean"],
        doc="""\
Refit the head on the kept features with their gates fully open
(removes shrinkage). ``lam="auto"`` scores refitted supports either
way; with ``refit=False`` the exported model is the path's own head
behind its deterministic gates, and exact ``k`` skips the swap search.""",
    ),
    Param(
        "batch_size", "int or None", default=None,
        constraints=[IntInterval(1, None, closed="left"), None],
        doc="""\
Rows per Adam step of an MLP head, drawn as shuffled epochs with the
estimator's generator; ``None`` means ``min(n_samples, 512)`` (the
refit always uses the whole batch). In ``fit``, linear heads ignore
it: their deterministic objective is evaluated on all rows (or on X'X
for squared loss with n > p). The stochastic ``partial_fit`` (a
classifier, a regressor with hidden layers, or one with more than
4096 columns) takes mini-batches of ``batch_size`` rows for every
head; there ``None`` means ``min(200, rows in the chunk)``. A Dask fit
with an MLP head joins consecutive blocks into mini-batches of
``batch_size`` rows (``None``: 200).""",
    ),
    Param(
        "hidden_layer_sizes", 'tuple of int or "auto"', default=(),
        constraints=["array-like", StrOptions({"auto"})],
        doc="""\
Hidden layers of an MLP head behind the gates (scikit-learn's
``MLPRegressor`` name). ``()`` keeps the linear head. With hidden
layers, ``coef_`` is not offered, ``lam="auto"`` keeps the sparsest
path point whose held-out loss is not significantly worse than the
best's (paired test, family-wise 5%) instead of EBIC, and the refit
retrains the network on the kept features. ``"auto"`` fits the linear head, tests
its residuals for curvature and interactions (family-wise 5%) and,
only if they show any, an MLP head of one 64-unit layer, which is
kept when its held-out loss beats the linear path's by more than one
standard error; ``hidden_layer_sizes_`` holds the choice and
``head_selection_`` the numbers behind it (``partial_fit`` and
``l0_path`` keep the linear head; a fit on Dask collections refuses
``"auto"``). ``"auto"`` needs ``lam="auto"``,
with or without ``k`` (the heads are compared along its path); a
number ``lam`` is refused, also with ``k`` as its cap.""",
    ),
    Param(
        "activation", '{"identity", "logistic", "tanh", "relu"}', default="relu",
        constraints=[StrOptions({"identity", "logistic", "tanh", "relu"})],
        doc="""\
Activation of the hidden layers.""",
    ),
    Param(
        "early_stopping", "bool", default=False,
        constraints=["boolean"],
        doc="""\
For nonlinear heads: keep the refit's weights with the lowest loss on
a held-out ``validation_fraction`` of the rows.""",
    ),
    Param(
        "validation_fraction", "float", default=0.1,
        constraints=[Interval(Real, 0, 1, closed="neither")],
        doc="""\
Share of rows held out with hidden layers: the path of ``lam="auto"``
or exact ``k`` is fitted on the rest and scored on them, and
``early_stopping`` scores the refit on a share of this size drawn
again by the same rule (not necessarily the same rows).
``hidden_layer_sizes="auto"`` compares the linear and MLP paths on the
same held-out rows.""",
    ),
    Param(
        "keep_redundant", 'bool or "auto"', default="auto",
        constraints=["boolean", StrOptions({"auto"})],
        doc="""\
With ``k``: fill the ``k`` slots *all-relevant* instead of
*minimal-optimal*. After the columns the selection needs, a feature
associated with those already taken (an F test of its regression on
them, family-wise 5% over the remaining features) is taken before
the next feature in gate-survival order, so redundant copies and
combinations of the selected signal come before features kept only
by chance; with uncorrelated features each step takes a noise column
with probability at most 5% (family-wise, Gaussian columns), so the
slots mostly follow the survival order as without it. With an
MLP head and ``lam="auto"`` (no ``k``): keep the held-out-validated
support and every feature that passes the same test. ``"auto"``
is True for MLP heads (whose first columns are those of the
held-out-validated support) and False for the linear head, whose
best-subset polish it would skip. With ``groups`` or unequal
``feature_costs`` it does not apply (``True`` then warns so): an MLP
head's ``k`` groups are taken in the order of their columns (validated
support first, then gate survival). See the user guide's "Nonlinear
heads".""",
    ),
    Param(
        "groups", "array-like of shape (n_features,) or None", default=None,
        constraints=["array-like", None],
        doc="""\
One group label per column of X (str or int); columns with the same
label share one gate and are kept or dropped together, e.g. the 0/1
columns of a one-hot encoded categorical column (see
:func:`skl0.groups_from_column_transformer`). ``k`` then counts
groups, ``get_support`` covers whole groups, ``group_support_`` says
which groups were kept, and ``lam="auto"``'s information criterion
counts the rank of a group's columns as its parameters (``L - 1`` for
a one-hot group of ``L`` levels) and groups in its combinatorial
term. Read by position; a pandas Series indexed by X's column names
in another order than X's is refused (pass ``groups[X.columns]``).
``None``: one gate per column.""",
    ),
    Param(
        "feature_costs", "array-like or dict or None", default=None,
        constraints=["array-like", dict, None],
        doc="""\
Non-negative price of each feature: one number per column (a group
costs the sum of its columns'), one per group (in the order of the
groups' first columns), or a dict from group label (column index
without ``groups``) to price; a pandas Series is read by its labels, as
that dict (by position only when its index is the default ``0..n-1``
and not the group labels). Each gate's share of ``lam`` is
``lam * cost / mean(cost)``, so an expensive feature must explain
more to be kept; under ``k`` the swap search minimises the refitted
loss plus ``lam_`` times the kept set's cost, so of two near-equally
useful features the cheaper one is kept. ``None``: every feature
costs the same.""",
    ),
    Param(
        "device", "str", default="auto",
        constraints=[str],
        doc="""\
``"auto"`` (CUDA when available and X holds more than 2^22, about 4.2
million, numbers, zeros of a sparse X included; smaller data runs on
the CPU, where the float64 host-side solves and refits apply and a fit
is faster; ``partial_fit`` and Dask fits, which do not see the whole
X, take CUDA whenever it is available), ``"cpu"``, ``"cuda"`` or
``"cuda:N"``. Fitted attributes are numpy arrays either way.""",
    ),
    Param(
        "dtype", '{"float32", "float64"} or None', default=None,
        constraints=[StrOptions({"float32", "float64"}), None],
        doc="""\
Precision of the torch computation. ``None`` follows scikit-learn's
convention: the input's floating dtype (float32 X is computed in
float32, everything else in float64). Column means, spreads and
``X'X`` are accumulated in float64 from centred rows either way.""",
    ),
    Param(
        "random_state", "int, RandomState instance or None", default=None,
        constraints=["random_state"],
        doc="""\
Seeds a local ``torch.Generator`` for the gate noise and the
initial weights of an MLP head; torch's global RNG is never
touched. ``None`` draws the seed from numpy's global RNG (one draw
per fit, scikit-learn's convention, so ``np.random.seed`` makes it
reproducible; the CV estimators draw one seed per fold and one for
the final fit, the exact ``partial_fit`` of a linear regressor one
per call, the stochastic one on its first call); an int or a
``RandomState`` leaves numpy's global state alone. In ``fit``, linear heads draw no random numbers: their
selection is the same for every seed. The stochastic ``partial_fit``
(a classifier, a regressor with hidden layers, or one with more than
4096 columns) draws gate noise and the order of the rows from it for
every head.""",
    ),
    Param(
        "verbose", "int", default=0,
        constraints=["verbose"],
        doc="""\
0 prints nothing; 1 shows a progress bar (tqdm when installed, else
a line on stderr every tenth of the run, or every 10 optimizer steps
where the run's length is not known in advance) with the loss and
the number of open gates.""",
    ),
    Param(
        "lams", "array-like of float or None", default=None,
        constraints=["array-like", None],
        doc="""\
The ``lam`` values to cross-validate, walked in increasing order
(from many features to few) with warm starts. ``None`` takes
``n_lams`` values spaced geometrically from 1e-4 to 0.5, the grid
of ``lam="auto"``.""",
    ),
    Param(
        "n_lams", "int", default=16,
        constraints=[IntInterval(1, None, closed="left")],
        doc="""\
Length of the default grid; ignored when ``lams`` is given.""",
    ),
    Param(
        "cv", "int, cross-validation generator or iterable", default=5,
        constraints=["cv_object"],
        doc="""\
As in scikit-learn's ``check_cv``: an int gives (Stratified)KFold
with that many folds (stratified for classifiers), or pass a
splitter or an iterable of ``(train, test)`` index arrays (e.g. for
groups).""",
    ),
    Param(
        "scoring", "str, callable or None", default=None,
        constraints=[StrOptions(set(get_scorer_names())), callable, None],
        doc="""\
Score of a path point on a held-out fold, higher is better: a
scikit-learn scorer name (``"neg_mean_squared_error"``,
``"neg_log_loss"``, ...) or a callable ``scorer(estimator, X, y)``.
``None`` uses the estimator's ``score`` (R^2 or accuracy).""",
    ),
    Param(
        "selection", '{"best", "one_se"}', default="best",
        constraints=[StrOptions({"one_se", "best"})],
        doc="""\
Which path point to keep. ``"best"``: the highest mean held-out
score (ties: the sparser point). ``"one_se"``: the sparsest point
(fewest features on average over the folds) whose mean score is
within one standard error of the best, the standard error being the
fold scores' sample standard deviation over ``sqrt(n_splits)``; it keeps
fewer features but may drop weak true ones (see the user guide).""",
    ),
    Param(
        "n_jobs", "int or None", default=None,
        constraints=[Integral, None],
        doc="""\
Folds run in parallel through ``joblib.Parallel``, in threads unless
a ``joblib.parallel_config`` context names another backend (a Dask
or Ray backend then spreads the folds with no change here); ``None``
means 1 outside such a context. Threads share X and start at no
cost, but a fold's path is mostly small numpy and Python work that
holds the GIL, so threads rarely gain: ``L0RegressorCV(cv=5)`` took
1.2-2.4x the wall time with ``n_jobs=2`` as with 1 at 2000-20000 rows
and 40-200 columns (a 2-core machine, another job on it). Keep the
default unless each fold is large.""",
    ),
)

ATTRIBUTES = _table(
    Param("support_", "ndarray of shape (n_features_in,), dtype=bool", """\
Mask of the selected features. Of columns that are exact copies of each
other (equal value by value), only the first (lowest index) is a
candidate: a later copy is never selected in its place (it is only where
``k`` asks for more columns than X has distinct ones); with ``groups`` or
``feature_costs`` copies are candidates like any column."""),
    Param("feature_importances_", "ndarray of shape (n_features_in,)", """\
Probability that each feature's gate is open (eq. 12), at ``lam_``.
Under ``k`` (``refit=True``) the kept features are the best ``k`` found by
the gate path and a final swap search, and the gates reported are those
the refitted model applies: open on the support (0.9999) and closed
elsewhere (0.0017), whatever the path point at ``lam_`` held open; with
``refit=False`` they are that point's. Under ``lam="auto"`` (linear
head, ``refit=True``) the gates are solved at ``lam_`` from the chosen
support when the path's point had other gates open, so a kept feature
is typically open; a feature left out may be open too, where ``lam_``
prices it in but the criterion did not keep it."""),
    Param("lam_", "float", """\
The ``lam`` of the chosen path point (under ``"auto"`` and ``k``),
else ``lam``."""),
    Param("n_iter_", "int", """\
Optimizer iterations taken (for linear heads the vertex search's flips
and L-BFGS-B iterations, with those of the row-sample start of a log
loss on many rows, see docs/gates.md; Adam steps for MLP heads), summed
over the path; at least 1, the pass that confirms a start that already
was the solution."""),
    Param("loss_curve_", "list of float", """\
With a numeric ``lam``: the training objective after each
iteration. Under ``"auto"`` or ``k``: the training objective at each
path point. After a stochastic ``partial_fit``: the mean objective
of each call's pass over its chunk."""),
    Param("n_screened_", "int", """\
Only when X had more columns than rows (``lam="auto"``, with or
without ``k``; linear head): the number of columns kept by screening, those with
the largest marginal loss reduction; the gates chose among these,
and the information criterion counted all columns."""),
    Param("validation_scores_", "list of float", """\
Only with hidden layers and ``lam="auto"`` (with or without ``k``; a
fixed ``lam``, with ``k`` as a cap or not, holds out no rows): the
mean held-out loss of each point of the gate path (see
``validation_fraction``). In-memory ``fit`` only: ``partial_fit`` and
a fit on Dask collections train the MLP in one stream and hold out no
rows."""),
    Param("hidden_layer_sizes_", "tuple of int", """\
The hidden layers of the fitted head: ``()`` for the linear head;
with ``hidden_layer_sizes="auto"``, the one chosen."""),
    Param("head_selection_", "dict", """\
Only with ``hidden_layer_sizes="auto"``: ``nonlinearity_statistic``
and ``nonlinearity_threshold`` (the residual test), and, when the
test rejected the linear head, ``linear_held_out_loss``,
``mlp_held_out_loss`` and ``mlp_held_out_se``."""),
    Param("group_labels_", "ndarray of shape (n_groups,)", """\
Only with ``groups``: the group labels, in the order of their first
column."""),
    Param("group_support_", "ndarray of shape (n_groups,), dtype=bool", """\
Only with ``groups``: which groups were kept."""),
    Param("n_features_in_", "int", """\
Number of features seen in ``fit``."""),
    Param("feature_names_in_", "ndarray of shape (n_features_in,)", """\
Names of features seen in ``fit``, when X has string column names."""),
)

CV_ATTRIBUTES = _table(
    Param("lam_", "float", """\
The chosen ``lam``."""),
    Param("lams_", "ndarray of shape (n_lams,)", """\
The grid that was cross-validated, increasing."""),
    Param("best_index_", "int", """\
Index of the chosen point in ``lams_`` and ``cv_results_``
(scikit-learn's name; under ``"one_se"`` it is not the point with
the highest score)."""),
    Param("cv_results_", "dict of ndarray", """\
One entry per path point, in the layout of ``GridSearchCV`` (so
``pandas.DataFrame(cv_results_)`` works): ``param_lam``,
``params``, ``split{i}_test_score``, ``mean_test_score``,
``std_test_score``, ``rank_test_score`` and ``mean_n_features``
(features selected, averaged over the folds)."""),
    Param("n_features_selected_", "ndarray of shape (n_lams,)", """\
Features selected at each path point of the fit on all the data."""),
    Param("path_", "L0Path", """\
That whole-data path (see :func:`skl0.l0_path`)."""),
    # The plain estimators' texts speak of k, lam="auto", MLP heads and
    # partial_fit, none of which a CV fit has: these say what it sets.
    Param("feature_importances_", "ndarray of shape (n_features_in,)", """\
Probability that each feature's gate is open (eq. 12) at ``lam_``, the
chosen point of the whole-data walk: ``path_.prob_open[best_index_]``."""),
    Param("n_iter_", "int", """\
Optimizer iterations of the whole-data walk (the vertex search's flips,
Newton steps and L-BFGS-B iterations, see docs/gates.md), summed over
its points: ``path_.n_iter.sum()``."""),
    Param("loss_curve_", "list of float", """\
The training objective at each point of the whole-data walk, in the
order of ``lams_``, up to the first point at which every gate had
closed (the walk stops there)."""),
    Param("hidden_layer_sizes_", "tuple of int", """\
``()``: the CV estimators fit the linear head."""),
)

#: The head's fitted attributes (linear heads), before :data:`ATTRIBUTES`.
_COEF = """\
Coefficients in the units of X, exactly zero where a gate is closed."""
REGRESSOR_HEAD = (
    Param("coef_", "ndarray of shape (n_features_in,) or (n_targets, n_features_in)", _COEF),
    Param("intercept_", "float or ndarray of shape (n_targets,)"),
)
CLASSIFIER_HEAD = (
    Param("classes_", "ndarray of shape (n_classes,)"),
    Param("coef_", "ndarray of shape (1, n_features_in) or (n_classes, n_features_in)", _COEF),
    Param("intercept_", "ndarray of shape (1,) or (n_classes,)"),
)

#: The arguments of every estimator's ``fit``.
_FIT = (
    Param("X", "array-like of shape (n_samples, n_features)", doc="""\
Dense, scipy sparse (CSR or CSC; densified only when small, at most
2^20 entries, where a dense copy is the faster way to X'X or to a
small log-loss solve), a pandas or polars DataFrame (its column
names are kept); a Dask array or DataFrame
is fitted on the cluster where the estimator can (see :doc:`/scale`)."""),
    Param("y", "array-like of shape (n_samples,) or (n_samples, n_targets)", doc="""\
Targets: numbers for regression (2-D for several outputs sharing
one support), class labels (numbers or strings) for classification."""),
    Param(
        "sample_weight", "array-like of shape (n_samples,)", default=None,
        doc="""\
Frequency weights, as in scikit-learn: a weight of 3 counts as
3 repeated rows. Under ``lam="auto"`` the information
criterion's sample size is their total, so rescaling them
changes the selection (so it does for the other rules that read a
sample size, exact ``k`` among them on more columns than samples
or with three or more classes: see the README); pass relative
weights (survey design, importance weights) rescaled to mean 1 (a
warning names the rule when their mean is outside [0.5, 2]). The CV estimators weight every
fold's fit and score, and the final fit.""",
    ),
)
FIT_PARAMS = {
    **_table(*_FIT),
    "fit_parameters": "Parameters\n----------\n" + "\n".join(p.text() for p in _FIT),
}
#: The CV estimators' ``fit`` also takes metadata for their splitter.
_CV_FIT = (*_FIT, Param("**params", "dict", doc="""\
Metadata for the ``cv`` splitter, such as the sample ``groups``
of ``GroupKFold`` (not the constructor's ``groups``, which group
features), as ``LassoCV.fit`` takes them: only with
``sklearn.set_config(enable_metadata_routing=True)``; without it
any such argument is refused with a ``ValueError``."""))
FIT_PARAMS["cv_fit_parameters"] = (
    "Parameters\n----------\n" + "\n".join(p.text() for p in _CV_FIT))

#: The signatures, in order; ``*`` starts the keyword-only parameters.
_MODEL = (
    "max_iter", "learning_rate_init", "init_prob", "temperature", "alpha", "refit",
    "batch_size", "hidden_layer_sizes", "activation", "early_stopping",
    "validation_fraction", "keep_redundant", "groups", "feature_costs", "device",
    "dtype", "random_state", "verbose",
)
ESTIMATOR = ("lam", "k", "*", *_MODEL)


def _with_class_weight(names):
    """``names`` with ``class_weight`` after ``alpha``: the classifiers' and selectors' own."""
    i = names.index("alpha") + 1
    return (*names[:i], "class_weight", *names[i:])


_CLASS_MODEL = _with_class_weight(_MODEL)
CLASSIFIER = ("lam", "k", "*", *_CLASS_MODEL)
SELECTOR = ("lam", "k", "*", "task", *_CLASS_MODEL)
# The CV estimators choose lam (and k) and keep the linear head, refitted.
_CV_OWN = ("lams", "*", "n_lams", "cv", "scoring", "selection", "n_jobs")
_CV_MODEL = (
    "max_iter", "learning_rate_init", "init_prob", "temperature", "alpha",
    "groups", "feature_costs", "device", "dtype", "random_state", "verbose",
)
_CV_CLASS_MODEL = _with_class_weight(_CV_MODEL)
CV = (*_CV_OWN, *_CV_MODEL)
CLASSIFIER_CV = (*_CV_OWN, *_CV_CLASS_MODEL)
SELECTOR_CV = (*_CV_OWN, "task", *_CV_CLASS_MODEL)


def _make_init(names, table):
    """An ``__init__`` storing ``names``, with their defaults from ``table``.

    Generated from source, as :mod:`dataclasses` does, so that the signature
    is explicit (scikit-learn reads the parameters from it) and a wrong
    argument fails as in hand-written code.
    """
    args = ", ".join(n if n == "*" else f"{n}=_defaults[{n!r}]" for n in names)
    body = "".join(f"\n    self.{n} = {n}" for n in names if n != "*")
    source = f"def __init__(self, {args}):{body}\n"
    namespace = {"_defaults": {n: table[n].default for n in names if n != "*"}}
    exec(compile(source, f"<skl0 __init__ of {names[0]}, ...>", "exec"), namespace)  # noqa: S102
    return namespace["__init__"]


def _attributes_section(attributes):
    return "Attributes\n----------\n" + "\n".join(a.text() for a in attributes)


def hyperparameters(names=None, attributes=(), table=PARAMS):
    """Class decorator: the estimator's hyperparameters come from a table.

    ``table``: :data:`PARAMS` (the gated estimators) or another estimator's
    own (``SparseCalibrator``'s). With ``names`` (a signature as
    :data:`ESTIMATOR`): ``__init__``, ``_parameter_constraints`` and
    ``_get_param_names`` (:func:`skl0._compat.cached_param_names`). Always,
    in the class docstring: ``%(parameters)s``, the Parameters section of
    ``__init__`` (in its order), and ``%(attributes)s``, the Attributes
    section of ``attributes``.
    """

    def decorate(cls):
        if names is not None:
            init = _make_init(names, table)
            init.__qualname__ = f"{cls.__qualname__}.__init__"
            init.__module__ = cls.__module__
            cls.__init__ = init
            cls._parameter_constraints = {
                n: table[n].constraints for n in names if n != "*"
            }
            # scikit-learn's names of the parameters, formed once per __init__
            # (not by inspect.signature at every get_params, which fit calls).
            cls._get_param_names = classmethod(cached_param_names)
        return document(table, attributes=_attributes_section(attributes))(cls)

    return decorate


def document_fit(method):
    """Method decorator: ``fit``'s X, y and sample_weight from :data:`FIT_PARAMS`."""
    method.__doc__ = fill(method.__doc__, FIT_PARAMS)
    return method
