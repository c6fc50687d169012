"""L0FeatureSelectorCV: the transformer whose ``lam`` is chosen by cross-validation.

A separate class rather than ``L0FeatureSelector(lam="cv")``: cross-validation
brings its own parameters (``cv``, ``scoring``, ``selection``, ``lams``,
``n_jobs``) and fitted attributes (``cv_results_``, ...) that would be
dead weight or missing for every other ``lam``; scikit-learn keeps them
apart the same way (``Lasso`` / ``LassoCV``, ``RFE`` / ``RFECV``).
"""

from __future__ import annotations

from dataclasses import replace

from ._base import keep_state_on_failure
from ._cv import (
    CV_FITTED,
    CVFitMixin,
    L0ClassifierCV,
    L0RegressorCV,
)
from ._params import SELECTOR_CV, Param, hyperparameters
from ._selector import L0FeatureSelector

__all__ = ["L0FeatureSelectorCV"]

SELECTOR_CV_ESTIMATOR = Param(
    "estimator_", "L0RegressorCV or L0ClassifierCV", "The fitted cross-validated model."
)


_DOC = """Select features with L0 gates, ``lam`` chosen by cross-validating the path.

    Fits an :class:`L0RegressorCV` or :class:`L0ClassifierCV` (detected from
    ``y``, or set by ``task``) and keeps the features of the chosen model.
    ``transform``, ``get_feature_names_out`` and ``set_output`` come from
    scikit-learn's ``SelectorMixin``.

    %(parameters)s

    %(attributes)s

    See Also
    --------
    L0FeatureSelector : The same with a fixed ``lam``, ``k`` or EBIC.
    L0RegressorCV, L0ClassifierCV : The models behind the selector.

    Examples
    --------
    In a pipeline, before a model of any kind:

    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skl0 import L0FeatureSelectorCV
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(200, 8, 2, random_state=0)
    >>> selector = L0FeatureSelectorCV(n_lams=6, cv=3, random_state=0)
    >>> model = make_pipeline(selector, LinearRegression()).fit(X, y)
    >>> model[0].get_support(indices=True).tolist() == support.tolist()
    True
    >>> type(model[0].estimator_).__name__
    'L0RegressorCV'
    """


@hyperparameters(SELECTOR_CV, attributes=[SELECTOR_CV_ESTIMATOR, *CV_FITTED])
class L0FeatureSelectorCV(CVFitMixin, L0FeatureSelector):
    __doc__ = _DOC
    _supports_partial_fit = False  # lam is chosen by refitting folds: no streaming
    _estimators = {"classification": L0ClassifierCV, "regression": L0RegressorCV}
    _copied = ("lams_", "best_index_", "cv_results_", "n_features_selected_", "path_")

    def _fit_split(self, X, y, sample_weight, split_params):
        with keep_state_on_failure(self):
            return self._fit_unguarded(X, y, sample_weight, split_params)

    def _fit_unguarded(self, X, y, sample_weight, split_params=None):
        super()._fit_unguarded(X, y, sample_weight, split_params)
        for name in self._copied:
            setattr(self, name, getattr(self.estimator_, name))
        if hasattr(self, "feature_names_in_"):  # the estimator saw a plain array
            # (estimator_ too: its path_ had no names beside its feature_names_in_)
            self.path_ = self.estimator_.path_ = replace(
                self.path_, feature_names=self.feature_names_in_)
        return self
