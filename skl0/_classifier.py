"""L0Classifier: a logistic classifier whose features pass through L0 gates."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._base import (
    BaseL0,
    checks_params_each_call,
    names_unchecked_nonfinite,
    scores_dask_rows,
    streamable,
)
from ._checks import is_dask_collection, label_column, weigh_classes
from ._compat import _fit_context
from ._numerics import check_finite_layers
from ._params import ATTRIBUTES, CLASSIFIER, CLASSIFIER_HEAD, hyperparameters
from ._warn import warn

__all__ = ["L0Classifier"]


@hyperparameters(CLASSIFIER, attributes=[*CLASSIFIER_HEAD, *ATTRIBUTES.values()])
class L0Classifier(ClassifierMixin, BaseL0):
    """Logistic (binary) or multinomial classifier with L0 gates on the features.

    Minimises the weighted mean cross-entropy on standardized features plus
    ``lam`` times the expected number of open gates, then refits the
    logistic head on the kept features. Labels may be strings.

    %(parameters)s

    %(attributes)s

    See Also
    --------
    L0Regressor : The same gates with a least-squares head.
    L0FeatureSelector : A transformer that keeps the selected columns.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skl0 import L0Classifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = L0Classifier(k=5, random_state=0).fit(X, y)
    >>> int(clf.get_support().sum())
    5
    >>> clf.score(X, y) > 0.9
    True
    """

    _fit_dask = "fit_classifier"  # IRLS passes on the cluster, see docs/scale.md

    def _encode_targets(self, y, sw):
        y = label_column(y)
        check_classification_targets(y)
        enc = LabelEncoder()
        codes = enc.fit_transform(y)  # (one pass: fit, then transform, checked y twice)
        self.classes_ = enc.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y holds a single class ({self.classes_.tolist()[0]!r}); a classifier needs at "
                "least 2 classes in y."
            )
        totals = np.bincount(codes, weights=sw, minlength=len(self.classes_))
        if np.count_nonzero(totals > 0) < 2:
            zero = self.classes_[totals <= 0].tolist()
            kept = self.classes_[totals > 0].tolist()
            raise ValueError(
                f"sample_weight is zero on every sample of class(es) {zero!r}, so only "
                f"class {kept[0]!r} carries weight; a classifier needs at least 2 classes "
                "with positive weight. Give some samples of another class a positive "
                "weight, or drop the zero-weight rows (a single class has nothing to "
                "separate)."
            )
        from ._datafits import BinaryLogLoss, MultinomialLogLoss

        if len(self.classes_) == 2:
            return codes.astype(np.float64), BinaryLogLoss()
        return codes, MultinomialLogLoss(len(self.classes_))

    def _warn_if_no_minimum(self, problem, head, z, fitted):
        """``alpha=0``: warn where the selected features separate the training classes.

        If the exported linear model classifies every training sample of
        positive weight correctly (each sample's own class has the strictly
        largest logit), scaling its coefficients and intercept up by any
        ``t > 1`` lowers every such sample's log loss, so the unpenalised
        loss has no minimum: its infimum, 0, is approached only as the
        coefficients grow without bound, and ``coef_`` is where the solver
        stopped. That test is exact (no threshold) and one pass over the
        rows. Otherwise, where the linear program is small enough
        (:func:`skl0._separation.check_applies`: at most about a million
        numbers), the selected columns are tested for quasi-complete
        separation as well (some samples on the boundary, the others
        separated: Albert & Anderson 1984), by
        :func:`skl0._separation.separating_direction`, whose linear program
        is skipped where the fitted probabilities certify that the classes
        overlap (:func:`skl0._separation.overlap_certified`). Only problems of
        rows are tested (a classifier's are; ``partial_fit``'s streamed
        batches are not).
        """
        if getattr(problem, "kind", None) != "rows":
            return
        import torch

        with torch.no_grad():
            d = problem.predict(head, z).detach().cpu().double().numpy()
        Y = problem.Y.detach().cpu().numpy()
        w = problem.w.detach().cpu().double().numpy()
        weighted = w > 0
        # The fitted class probabilities (before d is overwritten below).
        P = (np.column_stack([expit(-d[:, 0]), expit(d[:, 0])]) if d.shape[1] == 1
             else softmax(d, axis=1))
        codes = ((Y.reshape(-1) > 0.5) if d.shape[1] == 1 else Y).astype(np.intp, copy=False)
        if d.shape[1] == 1:
            margin = np.where(codes == 1, d[:, 0], -d[:, 0])
        else:
            rows = np.arange(d.shape[0])
            own = d[rows, codes]
            d[rows, codes] = -np.inf
            margin = own - d.max(1)
        n_kept = int(fitted.support.sum())
        W = fitted.layers[0][0]  # coef_'s values, transposed (not yet set)
        largest = float(np.abs(W).max()) if W.size else 0.0
        stopped = (f"coef_ is where the solver stopped (largest |coef_| {largest:.3g}) and, "
                   "like the selection, may change with round-off. Set alpha > 0 (the default "
                   "is 1e-4) for a finite, unique solution.")
        if np.all(margin[weighted] > 0):
            warn(
                f"alpha=0 and the {n_kept} selected feature(s) separate the classes: the model "
                "classifies every training sample correctly, so the unpenalised log loss has "
                f"no minimum (scaling the coefficients up lowers it towards 0). {stopped}",
                ConvergenceWarning,
            )
            return
        from ._separation import check_applies, separating_direction

        cols = torch.nonzero(z).reshape(-1)
        if not cols.numel() or not check_applies(int(weighted.sum()), cols.numel(),
                                                 len(self.classes_)):
            return
        Xs = problem.columns(cols).detach().cpu().double().numpy()[weighted]
        # (the fitted model's probabilities mostly certify overlap without the program)
        if separating_direction(Xs, codes[weighted], len(self.classes_),
                                P=P[weighted], w=w[weighted]) is None:
            return
        warn(
            f"alpha=0 and the {n_kept} selected feature(s) quasi-completely separate the "
            "classes: along one direction of the coefficients no training sample's log loss "
            "rises and some fall (the others lie on the boundary between classes), so the "
            f"unpenalised log loss has no minimum (Albert & Anderson 1984). {stopped}",
            ConvergenceWarning,
        )

    def _fit_weights(self, Y, sw):
        if self.class_weight is None:
            return sw
        return weigh_classes(sw, self.class_weight, self.classes_,
                             Y.astype(np.intp, copy=False))[0]

    def _target_tensor(self, Y, device, dtype):
        import torch

        if Y.dtype.kind == "f":
            return torch.as_tensor(Y, device=device, dtype=dtype)
        return torch.as_tensor(Y, device=device, dtype=torch.long)

    def _output_layers(self, layers):
        return check_finite_layers(layers)

    def _set_linear(self, coef, intercept):
        self.coef_, self.intercept_ = coef, intercept

    @available_if(streamable)
    @checks_params_each_call
    @_fit_context(prefer_skip_nested_validation=True)
    @names_unchecked_nonfinite
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass of mini-batch Adam over a chunk of rows, for streamed data.

        The first call fixes the standardization (from its chunk) and the
        classes; gates, head and optimizer state carry over between calls.
        ``lam="auto"`` prices a feature by the extended BIC of the rows
        seen so far; with ``k`` the ``k`` gates most likely open are kept.
        ``batch_size=None`` means ``min(200, n_samples)`` here. See
        :doc:`/scale`. ``fit`` discards this state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of rows (dense, or scipy sparse CSR/CSC).
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label the stream may hold; required on the first call
            (unless the estimator was fitted: a new stream then takes
            ``fit``'s ``classes_``), optional (and then checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : L0Classifier
        """
        from ._streaming import partial_fit

        return partial_fit(self, X, y, sample_weight, classes=classes, classifier=True)

    def _lazy(self, method, X, kind):
        """``method`` mapped over the row blocks of a Dask ``X`` (nothing computed)."""
        from ._dask_rows import map_rows

        check_is_fitted(self, "support_")
        k = len(self.classes_)
        if kind == "labels":
            return map_rows(method, self, X, None, self.classes_.dtype)
        n_out = None if kind == "logits" and k == 2 else k
        return map_rows(method, self, X, n_out, np.float64)

    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes, else (n_samples, n_classes).

        Lazy (a dask array) for a Dask ``X``, as the other prediction methods.
        """
        if is_dask_collection(X):
            return self._lazy(self.decision_function, X, "logits")
        out = self._decision(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``.

        With two classes the first column is ``1 - p`` (as scikit-learn's
        ``LogisticRegression``) except where that rounds to 0 (a logit above
        about 37): there it is ``expit(-logit)``, the probability itself
        (``1e-20`` at a logit of 46), and rows still sum to 1.
        """
        if is_dask_collection(X):
            return self._lazy(self.predict_proba, X, "proba")
        return self._proba(self.decision_function(X))

    @staticmethod
    def _proba(d):
        """:meth:`predict_proba` from the logits ``d`` of :meth:`decision_function`."""
        if d.ndim == 1:
            p1 = expit(d)
            p0 = 1 - p1
            lost = p0 == 0  # (1 - p1 rounds to 0 where p1 rounds to 1)
            p0[lost] = expit(-d[lost])
            return np.column_stack([p0, p1])
        return softmax(d, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, finite where a probability underflows to 0.

        ``np.log(predict_proba(X))`` wherever the probability is positive;
        where it underflows (a logit beyond about 745, or a softmax column
        that far below the largest) the log is formed from the logits
        (``-log(1 + exp(-logit))``, or ``log_softmax``), so a far-away row
        reads, e.g., ``-800`` rather than ``-inf`` (scikit-learn's
        ``LogisticRegression`` gives ``-inf`` there).
        """
        if is_dask_collection(X):
            return self._lazy(self.predict_log_proba, X, "proba")
        d = self.decision_function(X)
        P = self._proba(d)
        with np.errstate(divide="ignore", under="ignore"):  # (log(1 + tiny) underflows)
            out = np.log(P)
            lost = P == 0
            if lost.any():
                exact = (-np.logaddexp(0.0, np.column_stack([d, -d])) if d.ndim == 1
                         else log_softmax(d, axis=1))
                out[lost] = exact[lost]
        return out

    @scores_dask_rows
    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)``, as scikit-learn's.

        For a Dask ``X``, computed on the cluster from per-block counts
        (the predictions are not gathered).
        """
        return super().score(X, y, sample_weight=sample_weight)

    def _score_validated(self, X, y, sample_weight=None):
        """:meth:`score` on ``X``, ``y`` and weights already validated (the CV folds).

        The mean accuracy as scikit-learn's ``accuracy_score`` computes it
        for one column of labels (``np.average`` of the matches, weighted),
        without its checks of the targets: in a 5-fold ``L0ClassifierCV`` on
        breast cancer those took a fifth of the fit, more than the refits
        they scored.
        """
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:  # a column vector (as accuracy_score ravels it)
            y = y[:, 0]
        labels = self._labels(self._forward(X))
        return float(np.average(labels == y, weights=sample_weight))

    def _labels(self, d):
        """Most probable class of each row of the model's output ``d`` (n, 1) or (n, K)."""
        idx = (d[:, 0] > 0).astype(int) if d.shape[1] == 1 else d.argmax(1)
        return self.classes_[idx]

    def predict(self, X):
        """Most probable class per sample."""
        if is_dask_collection(X):
            return self._lazy(self.predict, X, "labels")
        return self._labels(self._decision(X))

