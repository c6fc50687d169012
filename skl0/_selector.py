"""L0FeatureSelector: a transformer that keeps the features whose gates stay open."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import (
    FitMixin,
    checks_params_each_call,
    keep_state_on_failure,
    names_unchecked_nonfinite,
    naming_columns,
    streamable,
)
from ._checks import (
    check_frame,
    check_missing_labels,
    infer_task,
    is_dask_collection,
    numbers_of_object_array,
    numeric_target,
)
from ._classifier import L0Classifier
from ._compat import _fit_context, validate_data
from ._params import ATTRIBUTES, SELECTOR, Param, hyperparameters
from ._regressor import L0Regressor

__all__ = ["L0FeatureSelector"]

SELECTOR_ESTIMATOR = Param("estimator_", "L0Regressor or L0Classifier", "The fitted gated model.")


def _classes_of_label_dtype(y):
    """Every label a 1-D ``y`` may hold, where its dtype tells them, else None.

    A boolean ``y`` (numpy or pandas ``"boolean"``) can only hold False and
    True, and a categorical Series lists its categories: ``partial_fit``
    with ``task="auto"`` then streams a classification, as ``fit`` on the
    same ``y`` fits one, without ``classes``.
    """
    import pandas as pd

    dtype = getattr(y, "dtype", None)
    if dtype is None or getattr(y, "ndim", 1) != 1:
        return None
    if isinstance(dtype, pd.CategoricalDtype):
        return np.asarray(dtype.categories)
    if dtype == bool or isinstance(dtype, pd.BooleanDtype):
        return np.array([False, True])
    return None


def _check_stream_target_is_numeric(y):
    """``partial_fit`` with ``task="auto"`` and no ``classes``: refuse text labels with the fix.

    The stream is then a regression (one chunk cannot tell class codes from
    a numeric target), and the regressor's own message ("For class labels
    use ... task='classification'") left out the ``classes`` that the first
    call of a classification stream needs.
    """
    try:
        numeric_target(y, "a regression stream")
    except ValueError:
        labels = np.unique(np.asarray(y, dtype=object).ravel()[:1000].astype(str))[:3]
        raise ValueError(
            f"y holds class labels (e.g. {', '.join(map(repr, labels.tolist()))}), but "
            "partial_fit with task='auto' starts a regression stream unless classes is "
            "passed on the first call; pass classes= every label of the stream (e.g. "
            "classes=np.unique(y_all)) on the first call, with task='auto' or "
            "'classification'."
        ) from None


@hyperparameters(SELECTOR, attributes=[SELECTOR_ESTIMATOR, *ATTRIBUTES.values()])
class L0FeatureSelector(SelectorMixin, FitMixin, BaseEstimator):
    """Select features with Hard Concrete L0 gates trained for the task.

    Trains an :class:`L0Regressor` or :class:`L0Classifier` (detected from
    ``y``, or set by ``task``) and keeps the features whose gates are open,
    or exactly ``k`` of them. ``transform``, ``inverse_transform``,
    ``get_feature_names_out`` and ``set_output`` come from scikit-learn's
    ``SelectorMixin``, so a DataFrame in gives the selected column names out.

    %(parameters)s

    %(attributes)s

    See Also
    --------
    L0Regressor, L0Classifier : The gated predictors behind the selector.
    sklearn.feature_selection.SelectFromModel : Selection by a threshold.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skl0 import L0FeatureSelector
    >>> data = load_breast_cancer(as_frame=True)
    >>> sel = L0FeatureSelector(k=3, random_state=0).fit(data.data, data.target)
    >>> sel.transform(data.data).shape
    (569, 3)
    >>> len(sel.get_feature_names_out())
    3
    """

    _fit_dask = "fit_selector"  # statistics on the cluster, see docs/scale.md
    #: The estimator fitted for each task (the CV selector swaps in the CV ones).
    _estimators = {"classification": L0Classifier, "regression": L0Regressor}

    def _make_estimator(self, y):
        task = self.task
        if task == "auto":
            task = infer_task(y)
        cls = self._estimators[task]
        return cls(**self._estimator_params(cls))

    def _fit(self, X, y, sample_weight):
        with keep_state_on_failure(self):
            return self._fit_unguarded(X, y, sample_weight)

    def transform(self, X):
        """Keep the selected columns of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A Dask array or DataFrame gives a lazy Dask collection of the
            selected columns (a DataFrame keeps their names).

        Returns
        -------
        X_r : array-like of shape (n_samples, n_selected_features)
        """
        if is_dask_collection(X):
            from ._dask_rows import select_columns

            return select_columns(self, X)
        check_frame(X)  # a polars LazyFrame, text or date/time columns named as in fit
        return super().transform(X)

    def _fit_unguarded(self, X, y, sample_weight, split_params=None):
        """Validate, then fit ``estimator_``; ``split_params``: the CV selector's, for its splitter."""
        from ._groups import check_groups_order

        check_frame(X)
        check_missing_labels(y)
        y_given = y  # task="auto" reads its dtype (a categorical Series is class labels)
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
            multi_output=True, ensure_min_samples=2, y_numeric=False,
        )
        y = numbers_of_object_array(y)  # (scikit-learn's label checks refuse them as objects)
        # est sees the numpy X, without the names that groups may be keyed by.
        check_groups_order(self.groups, getattr(self, "feature_names_in_", None))
        est = self._make_estimator(y_given)
        with naming_columns(getattr(self, "feature_names_in_", None)):
            est.fit(X, y, sample_weight=sample_weight, **(split_params or {}))
        if hasattr(self, "feature_names_in_"):
            # est saw the validated numpy X; give it the names too, so that
            # sel.estimator_.predict(frame) checks columns as the selector does.
            est.feature_names_in_ = self.feature_names_in_
        self._take_fitted(est)
        return self

    #: What the selector reads of its estimator_: always, and where the fit set it.
    _ALWAYS = ("support_", "feature_importances_", "lam_", "n_iter_", "loss_curve_")
    _IF_SET = ("group_labels_", "group_support_", "hidden_layer_sizes_", "head_selection_",
               "validation_scores_", "n_screened_")

    def _take_fitted(self, est):
        """``estimator_ = est`` and its fitted attributes (the documented ones) on the selector."""
        self.estimator_ = est
        for name in self._ALWAYS:
            setattr(self, name, getattr(est, name))
        for name in self._IF_SET:
            if hasattr(est, name):
                setattr(self, name, getattr(est, name))
            else:
                vars(self).pop(name, None)

    @available_if(streamable)
    @checks_params_each_call
    @_fit_context(prefer_skip_nested_validation=True)
    @names_unchecked_nonfinite
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add one chunk of rows: :meth:`L0Regressor.partial_fit` or :meth:`L0Classifier.partial_fit`.

        With ``task="auto"`` the stream is a classification exactly when
        ``classes`` is passed on the first call (one chunk's labels cannot
        tell integer class codes from a numeric target), when the first
        chunk's ``y`` is boolean (classes False and True) or a categorical
        Series (its categories), or, on the first call after ``fit``, when
        ``fit`` chose a classifier: the new stream then keeps ``fit``'s
        ``classes_`` (as ``L0Classifier.partial_fit`` does). ``fit``
        discards this state. The selector's settings reach its estimator
        on every call, so ``set_params`` between calls acts as on the
        estimator's own stream (``k`` and ``lam`` apply; a changed
        head, ``groups`` or ``feature_costs`` is refused); ``task`` may not
        change mid-stream.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        classes : array-like of shape (n_classes,), default=None
            Every label of the stream, on the first call, for classification.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : L0FeatureSelector
        """
        from ._groups import check_groups_order

        with keep_state_on_failure(self):
            est = getattr(self, "estimator_", None)
            first = est is None or getattr(est, "_stream", None) is None
            check_frame(X)
            check_missing_labels(y)
            dtype_classes = _classes_of_label_dtype(y)
            X, y = validate_data(
                self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                multi_output=True, y_numeric=False, reset=first,
            )
            check_groups_order(self.groups, getattr(self, "feature_names_in_", None))
            if first:
                task = self.task
                fitted_classes = getattr(est, "classes_", None)  # fit chose a classifier
                if task == "auto" and classes is None and fitted_classes is None:
                    classes = dtype_classes
                if task == "auto":
                    classifies = classes is not None or fitted_classes is not None
                    task = "classification" if classifies else "regression"
                    if not classifies:
                        _check_stream_target_is_numeric(y)
                if task == "classification" and classes is None:
                    classes = fitted_classes
                if task == "regression" and classes is not None:
                    raise ValueError(
                        "classes was passed but task='regression'; pass classes only for "
                        "classification (task='classification' or 'auto')."
                    )
                cls = L0Classifier if task == "classification" else L0Regressor
                est = cls(**self._estimator_params(cls))
                self._stream_step(est, X, y, classes, sample_weight)
            else:
                self._check_stream_task(est)
                # est is the stream: its own checks and state, restored if it fails.
                saved = est.get_params(deep=False)
                names = vars(est).pop("feature_names_in_", None)
                try:
                    # set_params since the first call applies, as in est.partial_fit
                    # (a changed head or groups is refused there, with the fix).
                    est.set_params(**self._estimator_params(type(est)))
                    self._stream_step(est, X, y, classes, sample_weight)
                except BaseException:
                    est.set_params(**saved)
                    if names is not None:
                        est.feature_names_in_ = names
                    raise
            if hasattr(self, "feature_names_in_"):
                est.feature_names_in_ = self.feature_names_in_
            self._take_fitted(est)
            return self

    def _estimator_params(self, cls):
        """The selector's settings for its estimator of class ``cls``: all but ``task``.

        ``class_weight`` only for a classifier: a regression refuses one that is set.
        """
        params = {k_: v for k_, v in self.get_params().items() if k_ != "task"}
        if "class_weight" not in cls._parameter_constraints:
            class_weight = params.pop("class_weight")
            if class_weight is not None:
                source = "" if self.task != "auto" else " (task='auto' read y as numbers)"
                raise ValueError(
                    f"class_weight={class_weight!r} weighs the classes of a classification, "
                    f"but this selector fits a regression{source}; pass class_weight=None, "
                    "or task='classification' when y holds class labels."
                )
        return params

    def _stream_step(self, est, X, y, classes, sample_weight):
        # X is the validated numpy array: est holds no feature names while it
        # checks it (they would make it warn that X has none); its messages
        # name the columns by the selector's names.
        with naming_columns(getattr(self, "feature_names_in_", None)):
            if isinstance(est, L0Classifier):
                est.partial_fit(X, y, classes=classes, sample_weight=sample_weight)
            else:
                est.partial_fit(X, y, sample_weight=sample_weight)

    def _check_stream_task(self, est):
        streamed = "classification" if isinstance(est, L0Classifier) else "regression"
        if self.task not in ("auto", streamed):
            raise ValueError(
                f"task={self.task!r} changed since the first partial_fit call, whose stream "
                f"is a {streamed}; set task back (or to 'auto'), or call fit (or a new "
                "selector) to start again."
            )

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        # A copy, as the predictors' get_support gives: SelectorMixin.get_support
        # returns this mask itself, and editing it changed support_ (shared with
        # estimator_) and every later transform.
        return self.support_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True  # a 2-d y selects for every output (regression)
        tags.input_tags.sparse = True
        # transform selects columns: float32 X stays float32 (dense or sparse)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
