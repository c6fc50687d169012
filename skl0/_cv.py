"""L0RegressorCV and L0ClassifierCV: choose ``lam`` by cross-validating the path.

For each fold the warm-started gate path (:func:`skl0._gate_path.gate_path`)
runs on the fold's training rows, exactly as an :class:`L0Regressor` fit on
those rows would set it up (its own target scaling and standardization;
a regressor's folds on a dense host X with more rows than columns build
their Gram problems from sums formed in one pass over X,
:mod:`skl0._fold_stats`, instead of gathering and preparing ``X[train]``);
the linear head is refitted on each distinct support of the path and
scored on the held-out rows with a scikit-learn scorer, or with the default
``scoring=None`` by the estimator's own score on rows validated once (a
regressor's R^2 in numpy, :class:`_GramR2`; a classifier's accuracy,
``L0Classifier._score_validated``, without ``accuracy_score``'s target
checks, 53 -> 3 ms of a 5-fold fit on breast cancer). One point of the
grid is chosen from the mean fold scores ("best" or "one_se"), and the
whole path is walked once more on all the data (``path_``), whose chosen
point is the fitted model.

Folds are independent jobs of ``joblib.Parallel``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from joblib.parallel import get_active_backend
from scipy.stats import rankdata
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    get_routing_for_object,
    process_routing,
)

from ._base import (
    RawWeightOverflow,
    ValidatedRows,
    _as_tensor,
    fresh_fit,
    names_unchecked_nonfinite,
    naming_columns,
)
from ._checks import check_fold_classes, is_dask_collection, weigh_classes
from ._classifier import L0Classifier
from ._compat import (
    _fit_context,
    _raise_for_params,
    _routing_enabled,
    scorer_with_labels,
)
from ._l0_path import PathReader, RefitCache, check_grid, pad_to
from ._layers import forward
from ._numerics import divide_columns
from ._params import (
    ATTRIBUTES,
    CLASSIFIER_CV,
    CLASSIFIER_HEAD,
    CV,
    CV_ATTRIBUTES,
    ESTIMATOR,
    PARAMS,
    REGRESSOR_HEAD,
    document_fit,
    hyperparameters,
)
from ._regressor import L0Regressor, R2Target
from ._warn import warn

__all__ = ["L0RegressorCV", "L0ClassifierCV"]

class _HeldOutScores:
    """Path reader of a fold: score each point's refitted head on held-out rows.

    A point whose model keeps a column with a weight that overflows float64
    in X's units (a column of subnormal values: :class:`RawWeightOverflow`)
    is scored in the fold fit's own column units instead: that column's
    held-out values divided by the fit's power of two (``_x_scale``, exact)
    and the model exported without it, so the predictions are the same
    numbers. A plain fit refuses such a model; a fold's model is only
    scored, and the final fit still refuses it if its chosen support keeps
    the column.
    """

    def __init__(self, X, y, sample_weight, scorer, n_lams):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.scorer, self.n_lams = scorer, n_lams
        self._unscaled = None  # (the held-out X in the fit's column units, formed once)

    def _score(self, est, X):
        if self.scorer is None:  # the estimator's own score, on rows validated once
            return est._score_validated(X, self.y, self.sample_weight)
        kw = {} if self.sample_weight is None else {"sample_weight": self.sample_weight}
        try:
            return self.scorer(est, X, self.y, **kw)
        except (ValueError, AttributeError) as exc:
            # A classification metric on a regressor's folds said only
            # "continuous is not supported" (or, wanting probabilities,
            # "L0Regressor has none of the following attributes"), naming no scorer.
            if is_classifier(est) or not any(
                    word in str(exc) for word in ("continuous", "predict_proba")):
                raise
            raise ValueError(
                f"The CV scorer {self.scorer!r} failed on the held-out rows of a fold "
                f"({exc}): a classification metric cannot score a regressor's "
                "predictions. Pass a regression scoring, e.g. scoring='r2' or "
                "'neg_mean_squared_error'."
            ) from exc

    def in_fit_units(self, est, export):
        """``export()`` (which sets ``est``'s raw-unit model), and the held-out X it is scored on.

        On :class:`RawWeightOverflow` the export is redone in the fit's
        column units (``est._x_scale`` set aside; a column can only
        overflow so where that scale divided it) and X is divided by the
        same powers of two.
        """
        import torch

        try:
            return export(), self.X
        except RawWeightOverflow:
            scale = getattr(est, "_x_scale", None)
            if scale is None:
                raise
            est._x_scale = None
            try:
                out = export()
            finally:
                est._x_scale = scale
        if self._unscaled is None:
            X = self.X
            if isinstance(X, torch.Tensor):
                X = X / torch.as_tensor(scale, dtype=X.dtype, device=X.device)
            else:
                X = divide_columns(X, scale)
            self._unscaled = X
        return out, self._unscaled

    def __call__(self, est, problem, gate, head, points):
        cache, refits = {}, RefitCache(problem, est.alpha)
        r2 = _GramR2(est, problem, self) if _GramR2.applies(est, problem, self.scorer) else None
        for pt in points:
            key = pt.support.tobytes()
            if key in cache:  # neighbouring points often share a support
                continue
            if r2 is not None:
                cache[key] = r2(pt.support)
                continue
            head_ = refits(pt.support)[0]
            _, X = self.in_fit_units(est, lambda: est._show_refit(problem, pt.support, head_))
            cache[key] = float(self._score(est, X))
        scores = pad_to([cache[pt.support.tobytes()] for pt in points], self.n_lams)
        sizes = pad_to([pt.support.size for pt in points], self.n_lams)
        return np.array(scores), np.array(sizes), sum(pt.n_iter for pt in points)


class _GramR2:
    """Held-out R^2 of a linear regressor refitted on a support, in numpy.

    What ``est._show_refit`` then ``est.score`` on the held-out rows give
    (the same refitted weights, :func:`skl0._refit.gram_refit_weights`,
    the same raw-unit layers, :meth:`_raw_layers`, and :func:`r2_of`),
    without building a torch head and exporting the estimator for each
    support: those made up about a fifth of a 5-fold CV of n=1000, p=200.
    The fold's target, its scale and total sum of squares are formed once
    (:class:`skl0._regressor.R2Target`, the same sums to the last bit:
    0.94-0.98x the CPU time of 5-fold CVs of 500 x 50 to 2000 x 100).
    For the default scoring of a linear regressor on a Gram problem on the CPU.
    """

    @staticmethod
    def applies(est, problem, scorer):
        return (scorer is None and isinstance(est, L0Regressor) and est._is_linear()
                and problem.kind == "gram" and problem.mean.device.type == "cpu")

    def __init__(self, est, problem, held_out):
        from ._objective import NumpyOps, data_term

        self.est, self.problem, self.held_out = est, problem, held_out
        self.term = data_term(problem, NumpyOps())
        self.mean = problem.mean.detach().double().numpy()
        self.std = problem.std.detach().double().numpy()
        self.q = problem.datafit.n_outputs
        self.r2 = R2Target(held_out.y, len(held_out.y), held_out.sample_weight)

    def __call__(self, support):
        from ._refit import gram_refit_weights

        p = self.mean.size
        weight, z = np.zeros((p, self.q)), np.zeros(p)
        mask = np.zeros(p, dtype=bool)
        if support.size:
            weight[support] = gram_refit_weights(self.problem, self.term, support, self.est.alpha)
            z[support], mask[support] = 1.0, True
        layers, X = self.held_out.in_fit_units(self.est, lambda: self.est._raw_layers(
            [weight], [np.zeros(self.q)], z, self.mean, self.std, mask))
        # (held_out.X: a tensor where the held-out rows are kept on the device)
        pred = forward(layers, self.est.activation, X)
        return self.r2(pred)  # (the fold's total sum of squares formed once)


class _AllClasses:
    """A fold's classifier as scorers see it when its training rows lacked some of ``y``'s classes.

    ``classes_`` are all of ``y``'s, and a class the fold never saw gets
    probability 0 in ``predict_proba``, as ``LogisticRegressionCV`` scores
    its folds (``predict_log_proba``: -inf there, the fold model's own
    logs elsewhere); ``predict`` is
    the fold model's own, and there is no ``decision_function`` (whose
    columns are the fold's classes), so that scorers that can take
    probabilities do. Everything else (``score``, ``support_``, ``coef_``,
    ...) is the fold model's, so that a callable
    ``scoring(estimator, X, y)`` reads on such a fold what it reads on the
    others (it failed on "'_AllClasses' object has no attribute 'score'").
    """

    #: Methods whose output has a column per class of the fold model.
    _hidden = frozenset({"decision_function"})

    def __init__(self, est, classes):
        self.est, self.classes_ = est, classes
        self._columns = np.searchsorted(classes, est.classes_)

    def __getattr__(self, name):
        # Only for names not found on the wrapper itself; "est" guards
        # against recursion before __init__ has set it.
        if name == "est" or name in self._hidden:
            raise AttributeError(
                f"{type(self).__name__} has no {name!r}" if name == "est" else
                f"{name!r} of a fold model without all of y's classes is not scored")
        return getattr(self.est, name)

    def __sklearn_tags__(self):
        return self.est.__sklearn_tags__()

    def predict_log_proba(self, X):
        # The fold model's own logs (finite where its probabilities
        # underflow), -inf for the classes it never saw.
        L = self.est.predict_log_proba(X)
        out = np.full((L.shape[0], self.classes_.size), -np.inf, dtype=L.dtype)
        out[:, self._columns] = L
        return out

    def predict(self, X):
        return self.est.predict(X)

    def predict_proba(self, X):
        P = self.est.predict_proba(X)
        out = np.zeros((P.shape[0], self.classes_.size), dtype=P.dtype)
        out[:, self._columns] = P
        return out


class _ClassifierScorer:
    """A scorer of a classifier's folds, any of which may lack some of ``y``'s classes.

    A training fold without a class fits a model without it
    (:class:`_AllClasses` adds it back; not with two classes, whose
    training folds hold both, see :func:`skl0._checks.check_fold_classes`),
    and held-out rows without a class need a metric told every class
    (:func:`skl0._compat.scorer_with_labels`), with two classes too, as
    ``LogisticRegressionCV`` scores its folds. A fold without a class used
    to make ``scoring="neg_log_loss"`` fail on "y_true and y_prob contain
    different number of classes", and, with two classes, a held-out fold of
    one class on "y_true contains only one label". On held-out rows of
    both classes the labels change no score (they are the classes the
    metric reads from the rows).
    """

    def __init__(self, scorer, classes):
        self.scorer = scorer_with_labels(scorer, classes)
        self.classes = classes

    def __call__(self, est, X, y, **kw):
        if est.classes_.size < self.classes.size:
            est = _AllClasses(est, self.classes)
        return self.scorer(est, X, y, **kw)


def _scorer_declines_weights(scorer):
    """With metadata routing on, whether ``scorer`` was told not to take ``sample_weight``.

    ``scorer.set_score_request(sample_weight=False)`` (or an alias):
    ``GridSearchCV`` then scores the folds without the weights, and so do
    the CV estimators (an unset or ``True`` request takes them, as
    documented).
    """
    if scorer is None or not _routing_enabled():
        return False
    try:
        request = get_routing_for_object(scorer).score.requests.get("sample_weight")
    except AttributeError:  # a plain callable: no request
        return False
    # True or unset: the weights; False or an alias (another key's metadata,
    # which the CV estimators do not route): GridSearchCV scores without them.
    return request is not True and request is not None


def _fold_path(est, X, y, sw, train, test, scorer, weighted, grid, score_weighted,
               X_device=None, statistics=None, names=None):
    """Walk the path on ``train`` and score it on ``test``: (scores, sizes, steps).

    ``weighted``: the fold's fit takes ``sw``; ``score_weighted``: its scores
    do. ``X_device``: X held on the fit's device (:func:`_rows_on_device`),
    from which the fold takes its training rows there, and its held-out
    rows too when it scores them itself (``scorer=None``). ``names``: X's
    column names, for the messages of the fold's fit on the array.
    """
    import torch

    from ._walk import Walk

    def rows(index, on_device):  # (index: row numbers, cv_splits')
        if not on_device:
            return X[index]
        return X_device.index_select(0, torch.as_tensor(index, device=X_device.device))

    on_device = X_device is not None
    walk = Walk(grid, warn_empty=False, export=False, reader=_HeldOutScores(
        rows(test, on_device and scorer is None), y[test], sw[test] if score_weighted else None,
        scorer, len(grid)
    ))
    if statistics is not None:
        X_train = ValidatedRows(statistics[0], statistics=statistics[1])
    else:
        X_train = rows(train, on_device)
        if on_device:  # (validated with the whole; the fold's own copy)
            X_train = ValidatedRows(X_train, owned=True)
    with naming_columns(names):  # (set in this job's thread)
        est._fit(X_train, y[train], sw[train] if weighted else None, walk=walk)
    return walk.result


def _check_fold_sizes(splits, cv, n_samples, r2):
    """Refuse a fold of fewer than 2 training rows, or (``r2``) held-out rows.

    A fit needs 2 rows, and R^2 (a regressor's default score) is undefined
    on fewer than 2 (NaN, which makes every lam's mean score NaN): such a
    fold failed with scikit-learn's "Found array with 1 sample(s)", about
    an X the caller did not pass, or, after every fold had run, with a
    message about classes for a regression.
    """
    for i, (train, test) in enumerate(splits):
        for rows, part, needs in ((train, "training", "a fit needs at least 2"),
                                  (test, "held-out", "R^2, the default score, is undefined "
                                   "on fewer than 2")):
            if len(rows) >= 2 or (part == "held-out" and not r2):
                continue
            fix = ("" if part == "training" else
                   ", or scoring='neg_mean_squared_error', which scores a single row")
            raise ValueError(
                f"Fold {i + 1} of {len(splits)} of cv={cv!r} has {len(rows)} {part} row(s) "
                f"of X's {n_samples}, and {needs}. Pass more rows or a cv whose every part "
                f"holds at least 2 rows (fewer folds){fix}."
            )


def _check_fold_weights(sample_weight, splits, cv, score_weighted):
    """Refuse a fold whose training rows, or scored held-out rows, all weigh zero.

    A fit needs some weight, and a weighted score divides by the held-out
    rows' total: such a fold failed inside a fold's fit or scorer with a
    message about the weights as a whole (or numpy's ZeroDivisionError, from
    the default R^2 or accuracy), not naming the fold of ``cv``.
    """
    for i, (train, test) in enumerate(splits):
        for rows, part in ((train, "training"), (test, "held-out")):
            if part == "held-out" and not score_weighted:
                continue
            w = sample_weight[rows]
            if w.size and not np.any(w > 0):
                raise ValueError(
                    f"Fold {i + 1} of {len(splits)} of cv={cv!r}: the sample_weight of its "
                    f"{w.size} {part} rows are all zero, and "
                    + ("a fit needs at least one non-zero weight. " if part == "training" else
                       "a weighted score of them is undefined (it divides by their total "
                       "weight, here 0, where at least one non-zero weight is needed). ")
                    + "Drop the rows of weight 0 before fitting, or pass a cv whose every "
                    "part holds weighted rows, e.g. KFold(n_splits, shuffle=True)."
                )


def _finite_rows(X_device):
    """Whether X held on the device is finite (False for None: not checked there)."""
    from ._problem import tensor_extremes

    if X_device is None:
        return False
    return X_device.numel() == 0 or tensor_extremes(X_device)[2]


def _rows_on_device(X, device, n_jobs):
    """``X`` copied once to an accelerator for a CV fit's folds, or None to keep it on the host.

    A dense X bound for a device whose fits prepare X there
    (:func:`skl0._problem.prepares_on_device`): the folds then gather
    their rows on the device and prepare them there, where each fold's
    ``X[train]`` was gathered, checked and prepared on the host and copied
    again (on an H200 at n=1e6, p=1000, about 8 s of host work per fold
    against 0.2 s of solving). Only where the folds share this process's
    memory (threads, or one job): a process-based joblib backend would
    pickle the device's copy to every worker; and only where the device
    has room for about twice X (the copy and one fold's rows), else the
    folds copy their own rows as before.
    """
    from ._problem import prepares_on_device

    if not prepares_on_device(X, device):
        return None
    backend, default_jobs = get_active_backend(prefer="threads")
    jobs = default_jobs if n_jobs is None else n_jobs
    if not (getattr(backend, "uses_threads", False) or backend.effective_n_jobs(jobs) == 1):
        return None
    # The copy, a fold's training rows and its held-out rows: about twice X
    # on the device at once, where each fold's X[train] alone went there.
    if not _device_has_room(2 * X.nbytes, device):
        return None
    return _as_tensor(X, device, None)


def _device_has_room(nbytes, device):
    """Whether ``nbytes`` fit in 80% of ``device``'s free memory (True where it is not known)."""
    import torch

    if device.type != "cuda":
        return True
    free, _total = torch.cuda.mem_get_info(device)
    return nbytes <= 0.8 * free


class CVFitMixin:
    """``fit`` and ``get_metadata_routing`` of an estimator whose ``fit`` splits its rows by ``cv``.

    ``fit`` takes the splitter's metadata as ``LassoCV.fit`` does and hands
    them to ``_fit_split(X, y, sample_weight, split_params)``.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    @names_unchecked_nonfinite
    @document_fit
    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validate the path over ``lams``, then fit all the data at the chosen point.

        A selector then keeps the features of that model.

        %(cv_fit_parameters)s

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _refuse_dask(self, X, y, sample_weight)
        return self._fit_split(X, y, sample_weight, routed_split_params(self, sample_weight, params))

    def get_metadata_routing(self):
        """The metadata this estimator's ``fit`` takes itself and routes to its ``cv`` splitter.

        As ``LassoCV``'s: ``sample_weight`` (when requested with
        ``set_fit_request``) and what the splitter's ``split`` asks for,
        such as ``GroupKFold``'s ``groups``.

        An iterable of ``(train, test)`` pairs takes no metadata, and is
        not read here: a generator of splits can be read only once, by the fit.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
            The routing of ``fit``'s metadata.
        """
        router = MetadataRouter(owner=type(self).__name__).add_self_request(self)
        if self.cv is None or isinstance(self.cv, Integral) or hasattr(self.cv, "split"):
            mapping = MethodMapping().add(caller="fit", callee="split")
            if hasattr(self, "fit_transform"):
                # A selector in a Pipeline: scikit-learn before 1.7 routes a
                # transformer step's metadata by its fit_transform.
                mapping.add(caller="fit_transform", callee="split")
            router.add(splitter=check_cv(self.cv), method_mapping=mapping)
        return router


def _refuse_dask(est, X, y, sample_weight):
    """Refuse Dask collections: the folds need the rows in memory, and nothing is gathered.

    A Dask fit of the plain estimators reads the rows on the workers; a CV
    estimator would have to gather them (its validation did, silently,
    where docs/scale.md says the CV estimators do not take them).
    """
    if any(is_dask_collection(a) for a in (X, y, sample_weight)):
        name = type(est).__name__
        plain = name.removesuffix("CV")
        raise TypeError(
            f"{name} does not take Dask collections: its folds need the rows in memory, "
            f"and skl0 does not gather a cluster's data by itself. If the data fits in "
            f"memory, pass X.compute() and y.compute() (joblib.parallel_backend('dask') "
            f"then runs the folds on the cluster); otherwise fit {plain} with lam or k on "
            f"the Dask collections, which reads the rows on the workers."
        )


def routed_split_params(est, sample_weight, params):
    """The part of ``fit``'s ``**params`` that the ``cv`` splitter's ``split`` takes.

    As ``LassoCV.fit``: metadata such as ``groups`` only with metadata
    routing enabled (scikit-learn's own ``ValueError`` otherwise), and
    only what the splitter requests (its ``TypeError`` for the rest).

    ``sample_weight`` is handed to the routing only when given: an estimator
    told ``set_fit_request(sample_weight=False)`` (in a ``Pipeline`` whose
    other steps take the weights) is fitted without them, and a ``None``
    passed on made scikit-learn refuse every such fit with "got unexpected
    argument(s) {'sample_weight'}" (``LassoCV`` too), groups or no groups.
    """
    _raise_for_params(params, est, "fit")
    if not _routing_enabled():
        return {}
    metadata = dict(params) if sample_weight is None else {"sample_weight": sample_weight,
                                                            **params}
    if not metadata:  # nothing to route (process_routing's stand-in has no "in")
        return {}
    routed = process_routing(est, "fit", **metadata)
    return routed.splitter.split if "splitter" in routed else {}  # (none for an iterable)


def _check_n_folds(est, X, y):
    """A number of folds ``cv`` that the rows (a classifier: its largest class) cannot hold.

    scikit-learn's "Cannot have number of splits n_splits=100 greater than
    the number of samples" and "n_splits=45 cannot be greater than the
    number of members in each class" named neither ``cv`` nor its limit.
    """
    folds = est.cv
    if not isinstance(folds, Integral) or isinstance(folds, bool):
        return
    n = X.shape[0]
    if folds > n:
        raise ValueError(
            f"cv={folds} asks for more folds than the {n} rows of X; pass cv={n} or fewer "
            "(each fold holds out at least one row)."
        )
    if is_classifier(est) and np.ndim(y) == 1:
        labels, counts = np.unique(np.asarray(y), return_counts=True)
        if folds > counts.max():
            top = int(np.argmax(counts))
            raise ValueError(
                f"cv={folds} asks for more stratified folds than the largest class of y "
                f"has rows ({int(counts[top])}, of class {labels.tolist()[top]!r}); pass "
                f"cv={int(counts[top])} or fewer, or a splitter such as KFold."
            )


def cv_splits(est, X, y, split_params):
    """The ``(train, test)`` pairs of ``est.cv`` on validated ``X`` and ``y``, as row numbers.

    Whatever form the splitter gives (boolean masks, negative or unsigned
    numbers, lists), each part comes back as the non-negative row numbers
    ``X[index]`` reads, in that order: the folds, their checks and their
    shared sums index rows one way.
    """
    _check_n_folds(est, X, y)
    cv = check_cv(est.cv, y, classifier=is_classifier(est))
    try:
        splits = list(cv.split(X, y, **split_params))
    except TypeError as exc:
        if isinstance(est.cv, Integral) or hasattr(est.cv, "split"):
            raise
        # scikit-learn's "cannot unpack non-iterable int object" for cv=[1]
        raise ValueError(
            f"cv={_short_repr(est.cv)} is not a number of folds, a splitter or an iterable "
            f"of (train, test) pairs of row numbers ({exc}); pass e.g. cv=5, "
            "cv=KFold(5, shuffle=True, random_state=0) or cv=list(KFold(5).split(X))."
        ) from exc
    except ValueError as exc:
        if "groups" not in str(exc) or "groups" in split_params:
            raise
        how = ("Pass them as" if _routing_enabled() else
               "Call sklearn.set_config(enable_metadata_routing=True) and pass them as")
        raise ValueError(
            f"cv={est.cv!r} splits the rows by sample groups, and fit was given none. "
            f"{how} fit(X, y, groups=...); the constructor's groups parameter groups "
            "features, not rows."
        ) from exc
    if not splits:
        raise ValueError(
            f"cv={est.cv!r} gave no (train, test) splits. A generator of splits is used "
            "up by the first fit that reads it; pass a list of them, e.g. "
            "cv=list(KFold(5).split(X)), or the splitter itself."
        )
    n = X.shape[0]
    rows_of = []
    for i, split in enumerate(splits):
        pair = []
        for part, index in zip(("training", "held-out"), split):
            try:
                rows = np.arange(n)[index]
            except IndexError as exc:
                raise ValueError(
                    f"cv split {i}: its {part} part does not index the {n} rows of X "
                    f"({exc}). Pass row numbers in [-{n}, {n}) or a boolean mask of "
                    f"length {n}."
                ) from exc
            if rows.size == 0:
                raise ValueError(
                    f"cv split {i} has no {part} rows; pass (train, test) pairs that "
                    "each hold both."
                )
            pair.append(rows)
        rows_of.append(tuple(pair))
    return rows_of


def _short_repr(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _CVMixin(CVFitMixin):
    """``fit`` of the CV estimators; left of L0Regressor / L0Classifier.

    A CV estimator keeps only some of its parent's hyperparameters: ``lam``
    and ``k`` are what it chooses, and the head is the linear one, always
    refitted on every column (the folds score refitted linear heads). The
    parent's fitting code reads the settings below, fixed here as class
    attributes with the parent's defaults (tests/test_cv_path.py checks
    that they are those defaults and that no parent hyperparameter is left
    out). ``lam`` is not among them: the final fit is a walk over ``lams``
    that keeps the chosen point (``lam_``).
    """

    # k, refit, batch_size, hidden_layer_sizes, activation, early_stopping,
    # validation_fraction and keep_redundant ("auto": False for the linear
    # head) are set below from the table of hyperparameters.

    _fold_class = None  # the plain estimator that walks a fold's path
    _supports_partial_fit = False  # lam is chosen by refitting folds: no streaming

    def _grid_values(self):
        from ._gate_path import lam_grid

        if self.lams is None:
            return lam_grid(n_lams=self.n_lams)
        return check_grid(self.lams)

    def _fold_estimator(self, seed, device, class_weight=None):
        names = set(self._fold_class().get_params())
        params = {k_: v for k_, v in self.get_params(deep=False).items() if k_ in names}
        if class_weight is not None:
            params["class_weight"] = class_weight
        return self._fold_class(**{**params, "random_state": seed, "device": device})

    def _fit_split(self, X, y, sample_weight, split_params):
        with fresh_fit(self):
            self._fit_unguarded(X, y, sample_weight, split_params)
        return self

    def _fit_unguarded(self, X, y, sample_weight, split_params):
        from ._device import resolve_device
        from ._threads import fit_threads

        Xv, yv, sw, plan = self._validate_fit_data(X, y, sample_weight)
        # device="auto" is resolved by the size of the whole X, so that the
        # folds run where the final fit will (each fold's X[train] is smaller).
        resolved = resolve_device(self.device, numbers=Xv.shape[0] * Xv.shape[1])
        # Small data: the folds' shared sums and scores on one BLAS thread
        # too, as each fold's and the final fit's preparation (fit_threads).
        with fit_threads(Xv.shape[0] * Xv.shape[1], resolved):
            return self._fit_validated_folds(Xv, yv, sw, plan, resolved, sample_weight,
                                             split_params)

    def _fit_validated_folds(self, Xv, yv, sw, plan, resolved, sample_weight, split_params):
        """:meth:`_fit_unguarded` from the validated data on: the folds' paths, then the final walk."""
        from ._criteria import choose_index
        from ._fold_stats import FoldStatistics
        from ._problem import host_prepared
        from ._walk import Walk

        device = str(resolved) if self.device == "auto" else self.device
        X_device = _rows_on_device(Xv, resolved, self.n_jobs)
        if plan.finite_unchecked and not _finite_rows(X_device):
            # Validation left X's finiteness to a fit's extremes on the
            # device; the folds (and the splitter, which may read X) come
            # first, so it is settled here, as validation would have.
            assert_all_finite(Xv, input_name="X", estimator_name=type(self).__name__)
        Y, _ = self._encode_targets(yv, sw)  # target errors before any fold runs
        if is_classifier(self) and np.ndim(yv) == 2:
            # A column vector of labels, ravelled (and warned about) just
            # above: each fold and the final fit warned again (cv + 2
            # warnings for one y; LogisticRegressionCV gives 1).
            yv = yv[:, 0]
        fold_class_weight = None
        if getattr(self, "class_weight", None) is not None:
            # As LogisticRegressionCV: the weights of all of y, checked there
            # (before any fold runs), for every fold and the final fit: a
            # fold's own totals would give "balanced" other weights, and a
            # dict that leaves out a class that some fold's training rows lack
            # was refused there as naming a label that is not a class of y.
            per_class = weigh_classes(sw, self.class_weight, self.classes_,
                                      Y.astype(np.intp))[1]
            fold_class_weight = dict(zip(self.classes_.tolist(), per_class.tolist()))
        grid = self._grid_values()
        splits = cv_splits(self, Xv, yv, split_params)
        scorer = check_scoring(self, scoring=self.scoring)
        score_weighted = sample_weight is not None and not _scorer_declines_weights(scorer)
        _check_fold_sizes(splits, self.cv, Xv.shape[0],
                          r2=not is_classifier(self) and self.scoring in (None, "r2"))
        if sample_weight is not None:
            _check_fold_weights(sw, splits, self.cv, score_weighted)
        if is_classifier(self):
            check_fold_classes(yv, sw, splits, self.cv)  # names the fold, not "y"
        if self.scoring is None and hasattr(self._fold_class, "_score_validated"):
            # score() itself, without revalidating the held-out rows for
            # every support (the scorer's checks cost more than the score).
            scorer = None
        if scorer is not None and is_classifier(self):
            scorer = _ClassifierScorer(scorer, self.classes_)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=len(splits)
        )
        weighted = sample_weight is not None
        shared = None
        if X_device is None and isinstance(self, L0Regressor) and host_prepared(resolved):
            shared = FoldStatistics.build(Xv, yv, sw, splits)
        fold_sums = [None] * len(splits) if shared is None else [
            (shared.stand_in(i, Xv.shape[1]), shared.fold(i)) for i in range(len(splits))]
        # Threads by default: the folds share X instead of copying it to
        # worker processes, whose start-up (importing torch) made a small CV
        # with n_jobs=-1 ten times slower than n_jobs=1; the solves release
        # the GIL in LAPACK and torch. A joblib backend set by the caller
        # (parallel_config(backend="loky") or "dask") still wins.
        # (formed here: joblib may draw later jobs from the generator in
        # another thread, where a selector's naming_columns is not set)
        names = self._column_names()
        out = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(_fold_path)(
                self._fold_estimator(seed, device, fold_class_weight), Xv, yv, sw, train, test,
                scorer, weighted,
                grid, score_weighted, X_device, sums, names
            )
            for seed, (train, test), sums in zip(seeds, splits, fold_sums)
        )
        scores = np.stack([o[0] for o in out])
        sizes = np.stack([o[1] for o in out])
        if np.all(np.isnan(scores.mean(0))):
            raise ValueError(
                f"Every cross-validated score is NaN (scoring={self.scoring!r}), so no lam "
                "can be chosen. Check that the scorer returns a number on each held-out "
                "fold (held-out rows of a single class, or without one of y's classes, leave "
                "some metrics such as roc_auc_ovr undefined), or pass another scoring."
            )
        self.lams_ = grid
        self.cv_results_ = _cv_results(grid, scores, sizes)
        self.best_index_ = choose_index(
            self.cv_results_["mean_test_score"], self.cv_results_["std_test_score"],
            self.cv_results_["mean_n_features"], len(splits), self.selection,
        )
        # The final walk on all the data, kept at the chosen point. Its
        # empty-model warning would name the point the walk stopped at and
        # advise a lower lam or k, which a CV estimator does not take.
        walk = Walk(grid, chosen=self.best_index_, reader=PathReader(grid), warn_empty=False)
        # On the rows validated above (n_features_in_, feature_names_in_ set):
        # their device copy where the folds had one; the host's X is not read
        # and checked a second time.
        rows = Xv if X_device is None else X_device
        whole = None if shared is None else shared.whole(Xv.shape[0])
        super()._fit_unguarded(ValidatedRows(rows, statistics=whole), yv, sample_weight, walk)
        self.path_ = walk.result
        self.n_features_selected_ = self.path_.n_features
        self.lam_ = float(grid[self.best_index_])
        if not self.support_.any():
            fix = "selection='best' or " if self.selection == "one_se" else ""
            warn(
                f"No feature was selected: cross-validation chose lam_={self.lam_:.3g} "
                f"(selection={self.selection!r}), where the model predicts the intercept "
                f"only. Held-out scores gave features no lead; pass {fix}smaller lams, or "
                "set k on the plain estimator to keep features anyway.",
            )
        return self


# The parent's hyperparameters that a CV estimator does not expose, at their
# defaults (lam excepted: the final fit is a walk over lams that keeps the
# chosen point, lam_).
for _name in ESTIMATOR:
    if _name not in CV and _name not in ("*", "lam"):
        setattr(_CVMixin, _name, PARAMS[_name].default)
del _name

# The CV attributes, then those a plain estimator also has (in the plain
# estimators' order; the texts that differ for a CV fit from CV_ATTRIBUTES).
CV_FITTED = [
    *(CV_ATTRIBUTES[n] for n in (
        "lam_", "lams_", "best_index_", "cv_results_", "n_features_selected_", "path_")),
    ATTRIBUTES["support_"],
    *(CV_ATTRIBUTES[n] for n in (
        "feature_importances_", "n_iter_", "loss_curve_", "hidden_layer_sizes_")),
    *(ATTRIBUTES[n] for n in (
        "group_labels_", "group_support_", "n_features_in_", "feature_names_in_")),
]


def _cv_results(grid, scores, sizes):
    mean, std = scores.mean(0), scores.std(0)
    results = {
        "param_lam": np.array(grid, dtype=float),  # (a copy: not lams_ nor path_.lams)
        "params": [{"lam": float(v)} for v in grid],
    }
    for i, row in enumerate(scores):
        results[f"split{i}_test_score"] = row
    ranked = np.where(np.isnan(mean), -np.inf, mean)
    results.update(
        mean_test_score=mean,
        std_test_score=std,
        rank_test_score=rankdata(-ranked, method="min").astype(np.int32),
        mean_n_features=sizes.mean(0),
    )
    return results


@hyperparameters(CV, attributes=[*REGRESSOR_HEAD, *CV_FITTED])
class L0RegressorCV(_CVMixin, L0Regressor):
    """Linear regression with L0 gates, ``lam`` chosen by cross-validation.

    Each fold fits the warm-started path of :func:`skl0.l0_path` over
    ``lams`` on its training rows, refits least squares on each support and
    scores it on its held-out rows; the point chosen by ``selection`` is
    then fitted on all the data (the same walk over the whole grid, ``path_``,
    whose chosen point is kept). Costs about
    ``n_splits + 1`` paths, each a few single fits, instead of
    ``n_splits * n_lams`` fits for ``GridSearchCV(L0Regressor(), {"lam": lams})``;
    with a dense X of more rows than columns on the CPU, the folds and the
    final fit take their statistics (``X'WX``, ``X'Wy``, moments) from one
    pass over X, not one pass over their own rows each, so on tall data the
    passes over X cost about one fit (see :doc:`/path_cv`).

    %(parameters)s

    %(attributes)s

    See Also
    --------
    L0Regressor : One ``lam`` or ``k``, or ``lam="auto"`` (EBIC, no CV).
    L0ClassifierCV : The same for classification.
    l0_path : The path itself.
    sklearn.linear_model.LassoCV : The L1 path, cross-validated the same way.

    Examples
    --------
    >>> from skl0 import L0RegressorCV
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(200, 8, 2, random_state=0)
    >>> reg = L0RegressorCV(n_lams=6, cv=3, max_iter=60, random_state=0).fit(X, y)
    >>> reg.get_support(indices=True).tolist() == support.tolist()
    True
    >>> sorted(reg.cv_results_)[:3]
    ['mean_n_features', 'mean_test_score', 'param_lam']
    """

    _fold_class = L0Regressor


@hyperparameters(CLASSIFIER_CV, attributes=[*CLASSIFIER_HEAD, *CV_FITTED])
class L0ClassifierCV(_CVMixin, L0Classifier):
    """Logistic classifier with L0 gates, ``lam`` chosen by cross-validation.

    As :class:`L0RegressorCV`, with a logistic (or multinomial) head refitted
    on each support; the folds are stratified when ``cv`` is an int.

    %(parameters)s

    %(attributes)s

    See Also
    --------
    L0Classifier : One ``lam`` or ``k``, or ``lam="auto"`` (EBIC, no CV).
    sklearn.linear_model.LogisticRegressionCV : L1 or L2 penalties, cross-validated.
    L0RegressorCV : The same for regression.

    Examples
    --------
    Which of the 30 measurements of the breast cancer data does the
    cross-validated ``lam`` keep, and how well do they classify?

    >>> from sklearn.datasets import load_breast_cancer
    >>> from skl0 import L0ClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = L0ClassifierCV(n_lams=6, cv=3, random_state=0).fit(X, y)
    >>> int(clf.get_support().sum()) < 30, clf.score(X, y) > 0.9
    (True, True)
    """

    _fold_class = L0Classifier

