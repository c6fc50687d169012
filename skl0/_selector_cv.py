"""L0FeatureSelectorCV: the transformer whose ``lam`` is chosen by cross-validation.

A separate class rather than ``L0FeatureSelector(lam="cv")``: cross-validation
brings its own parameters (``cv``, ``scoring``, ``selection``, ``lams``,
``n_jobs``) and fitted attributes (``cv_results_``, ...) that would be
dead weight or missing for every other ``lam``; scikit-learn keeps them
apart the same way (``Lasso`` / ``LassoCV``, ``RFE`` / ``RFECV``).
"""

from __future__ import annotations

from dataclasses import replace

from ._compat import StrOptions
from ._cv import L0ClassifierCV, L0RegressorCV
from ._path_docs import fill_cv
from ._selector import L0FeatureSelector

__all__ = ["L0FeatureSelectorCV"]


_DOC = """Select features with L0 gates, ``lam`` chosen by cross-validating the path.

    Fits an :class:`L0RegressorCV` or :class:`L0ClassifierCV` (detected from
    ``y``, or set by ``task``) and keeps the features of the chosen model.
    ``transform``, ``get_feature_names_out`` and ``set_output`` come from
    scikit-learn's ``SelectorMixin``.

    Parameters
    ----------
    %(cv_params)s
    task : {"auto", "regression", "classification"}, default="auto"
        ``"auto"`` as in :class:`L0FeatureSelector`: text, boolean,
        categorical and few-valued whole-number targets are classes,
        everything else is regressed.
    %(shared_params)s

    Attributes
    ----------
    estimator_ : L0RegressorCV or L0ClassifierCV
        The fitted cross-validated model.
    %(cv_attributes)s
    %(shared_attributes)s

    See Also
    --------
    L0FeatureSelector : The same with a fixed ``lam``, ``k`` or EBIC.
    L0RegressorCV, L0ClassifierCV : The models behind the selector.

    Examples
    --------
    >>> from skl0 import L0FeatureSelectorCV
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(200, 8, 2, random_state=0)
    >>> sel = L0FeatureSelectorCV(n_lams=6, cv=3, max_iter=60, random_state=0).fit(X, y)
    >>> sel.transform(X).shape
    (200, 2)
    >>> type(sel.estimator_).__name__
    'L0RegressorCV'
    """


class L0FeatureSelectorCV(L0FeatureSelector):
    __doc__ = fill_cv(_DOC)

    _parameter_constraints = {
        **L0RegressorCV._parameter_constraints,
        "task": [StrOptions({"auto", "regression", "classification"})],
    }
    _supports_partial_fit = False  # lam is chosen by refitting folds: no streaming
    _estimators = {"classification": L0ClassifierCV, "regression": L0RegressorCV}
    _copied = ("lams_", "best_index_", "cv_results_", "n_features_selected_", "path_")

    def __init__(
        self,
        lams=None,
        *,
        n_lams=16,
        cv=5,
        scoring=None,
        selection="best",
        n_jobs=None,
        task="auto",
        max_iter=300,
        learning_rate_init=0.1,
        init_prob=0.9,
        temperature=2.0 / 3.0,
        alpha=1e-4,
        groups=None,
        feature_costs=None,
        device="auto",
        dtype=None,
        random_state=None,
        verbose=0,
    ):
        self.lams = lams
        self.n_lams = n_lams
        self.cv = cv
        self.scoring = scoring
        self.selection = selection
        self.n_jobs = n_jobs
        self.task = task
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.init_prob = init_prob
        self.temperature = temperature
        self.alpha = alpha
        self.groups = groups
        self.feature_costs = feature_costs
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _fit_unguarded(self, X, y, sample_weight):
        super()._fit_unguarded(X, y, sample_weight)
        for name in self._copied:
            setattr(self, name, getattr(self.estimator_, name))
        if hasattr(self, "feature_names_in_"):  # the estimator saw a plain array
            self.path_ = replace(self.path_, feature_names=self.feature_names_in_)
        return self
