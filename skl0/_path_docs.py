"""Docstring text of the path function and the cross-validated estimators.

Parameters they share with the plain estimators are cut out of
:data:`skl0._docstrings.PARAMS` by name (:func:`pick`), so the text exists
once; the path- and CV-specific entries live here.
"""

from __future__ import annotations

import re

from ._docstrings import ATTRIBUTES, PARAMS

__all__ = ["pick", "CV_PARAMS", "CV_ATTRIBUTES", "fill_cv"]

_HEADER = re.compile(r"^ {0,4}(\w+) : ")


def _entries(block):
    """``{name: lines}`` of a numpydoc block as laid out in ``_docstrings``.

    The first header carries no indentation (the template indents it), later
    headers four spaces and descriptions eight.
    """
    out, name = {}, None
    for line in block.splitlines():
        match = _HEADER.match(line)
        if match:
            name = match.group(1)
            out[name] = [line.strip()]
        elif name is not None:
            out[name].append(line)
    return out


def pick(names, block=PARAMS):
    """The entries ``names`` of ``block``, in that order, laid out as ``block``.

    >>> print(pick(["dtype"]))
    dtype : {"float32", "float64"} or None, default=None
            Precision of the torch computation. ``None`` follows scikit-learn's
            convention: the input's floating dtype (float32 X is computed in
            float32, everything else in float64). Column means, spreads and
            ``X'X`` are accumulated in float64 from centred rows either way.
    """
    entries = _entries(block)
    missing = [n for n in names if n not in entries]
    if missing:
        raise KeyError(f"no docstring entry for {missing}")
    chunks = [entries[n] for n in names]
    lines = [chunks[0][0], *chunks[0][1:]]
    for chunk in chunks[1:]:
        lines += ["    " + chunk[0], *chunk[1:]]
    return "\n".join(lines)


SHARED = [
    "max_iter", "learning_rate_init", "init_prob", "temperature", "alpha",
    "groups", "feature_costs", "device", "dtype", "random_state", "verbose",
]

CV_PARAMS = """\
lams : array-like of float or None, default=None
        The ``lam`` values to cross-validate, walked in increasing order
        (from many features to few) with warm starts. ``None`` takes
        ``n_lams`` values spaced geometrically from 1e-4 to 0.5, the grid
        of ``lam="auto"``.
    n_lams : int, default=16
        Length of the default grid; ignored when ``lams`` is given.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn's ``check_cv``: an int gives (Stratified)KFold
        with that many folds (stratified for classifiers), or pass a
        splitter or an iterable of ``(train, test)`` index arrays (e.g. for
        groups).
    scoring : str, callable or None, default=None
        Score of a path point on a held-out fold, higher is better: a
        scikit-learn scorer name (``"neg_mean_squared_error"``,
        ``"neg_log_loss"``, ...) or a callable ``scorer(estimator, X, y)``.
        ``None`` uses the estimator's ``score`` (R^2 or accuracy).
    selection : {"best", "one_se"}, default="best"
        Which path point to keep. ``"best"``: the highest mean held-out
        score (ties: the sparser point). ``"one_se"``: the sparsest point
        (fewest features on average over the folds) whose mean score is
        within one standard error of the best, the standard error being the
        fold scores' sample standard deviation over ``sqrt(n_splits)``; it keeps
        fewer features but may drop weak true ones (see the user guide).
    n_jobs : int or None, default=None
        Folds run in parallel through ``joblib.Parallel``, in threads unless
        a ``joblib.parallel_config`` context names another backend (a Dask
        or Ray backend then spreads the folds with no change here); ``None``
        means 1 outside such a context. Threads share X and start at no
        cost, so ``n_jobs=-1`` is never much slower than 1."""

CV_ATTRIBUTES = """\
lam_ : float
        The chosen ``lam``.
    lams_ : ndarray of shape (n_lams,)
        The grid that was cross-validated, increasing.
    best_index_ : int
        Index of the chosen point in ``lams_`` and ``cv_results_``
        (scikit-learn's name; under ``"one_se"`` it is not the point with
        the highest score).
    cv_results_ : dict of ndarray
        One entry per path point, in the layout of ``GridSearchCV`` (so
        ``pandas.DataFrame(cv_results_)`` works): ``param_lam``,
        ``params``, ``split{i}_test_score``, ``mean_test_score``,
        ``std_test_score``, ``rank_test_score`` and ``mean_n_features``
        (features selected, averaged over the folds).
    n_features_selected_ : ndarray of shape (n_lams,)
        Features selected at each path point of the fit on all the data.
    path_ : L0Path
        That whole-data path (see :func:`skl0.l0_path`)."""


def fill_cv(doc):
    """Substitute the CV and shared text into ``doc``.

    ``%(cv_params)s``, ``%(shared_params)s``, ``%(cv_attributes)s`` and
    ``%(shared_attributes)s`` are replaced.
    """
    shared_attrs = pick(
        ["support_", "feature_importances_", "n_iter_", "loss_curve_",
         "group_labels_", "group_support_", "n_features_in_", "feature_names_in_"],
        ATTRIBUTES,
    )
    return (
        doc.replace("%(cv_params)s", CV_PARAMS)
        .replace("%(shared_params)s", pick(SHARED))
        .replace("%(cv_attributes)s", CV_ATTRIBUTES)
        .replace("%(shared_attributes)s", shared_attrs)
    )
