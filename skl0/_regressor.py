"""L0Regressor: a linear regressor whose features pass through L0 gates."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from ._base import (
    BaseL0,
    checks_params_each_call,
    names_unchecked_nonfinite,
    scores_dask_rows,
    streamable,
)
from ._checks import is_dask_collection, numeric_target
from ._compat import _check_sample_weight, _fit_context
from ._numerics import check_finite_layers, power_of_two_scale, target_moments
from ._params import ATTRIBUTES, REGRESSOR_HEAD, hyperparameters

__all__ = ["L0Regressor", "r2_of"]


def r2_of(y, pred, sample_weight=None):
    """scikit-learn's ``r2_score(y, pred, sample_weight=...)``, uniform over outputs.

    Computed on ``y / 2**e`` (exact) with ``2**e`` near ``max|y|`` per
    output, so that targets near 1e200, whose squares overflow, still get a
    finite score (R^2 does not depend on the unit of y). As scikit-learn
    (``force_finite=True``): an output whose ``y`` is constant scores 1
    when predicted exactly, else 0. Inputs are not checked (callers have).
    """
    return R2Target(y, len(pred), sample_weight)(pred)


class R2Target:
    """:func:`r2_of` against one ``y``, its scale and total sum of squares formed once.

    For many predictions of the same rows (a CV fold's held-out rows, one
    per support of the path): each call then forms only the residual sum,
    with the same arithmetic as :func:`r2_of`, so the scores are equal to
    the last bit. ``n`` is the number of rows; with fewer than 2, R^2 is
    not defined: scikit-learn's own warning and NaN.
    """

    @np.errstate(under="ignore")  # values far below the unit round to subnormals or 0 (expected)
    def __init__(self, y, n, sample_weight=None):
        self.few = (y, sample_weight) if n < 2 else None
        if self.few is not None:
            return
        Y = np.asarray(y, dtype=np.float64).reshape(n, -1)
        self.scale = power_of_two_scale(np.max(np.abs(Y), axis=0))
        self.Y = Y / self.scale
        self.w = 1.0 if sample_weight is None else np.asarray(sample_weight, np.float64)[:, None]
        # The sums as scikit-learn forms them (equal to the last bit).
        self.den = np.sum(self.w * (self.Y - np.average(self.Y, axis=0, weights=sample_weight))
                          ** 2, axis=0)

    @np.errstate(under="ignore")  # values far below the unit round to subnormals or 0 (expected)
    def __call__(self, pred):
        if self.few is not None:
            return float(r2_score(self.few[0], pred, sample_weight=self.few[1]))
        P = np.asarray(pred, dtype=np.float64).reshape(self.Y.shape) / self.scale
        return r2_from_sums(np.sum(self.w * (self.Y - P) ** 2, axis=0), self.den)


def r2_from_sums(num, den):
    """Mean over outputs of ``1 - num / den`` (residual and total sums of
    squares per output), with scikit-learn's ``force_finite`` rule."""
    ok = den != 0
    r2 = np.where(num == 0, 1.0, 0.0)
    r2[ok] = 1.0 - num[ok] / den[ok]
    return float(r2.mean())


@hyperparameters(attributes=[*REGRESSOR_HEAD, *ATTRIBUTES.values()])
class L0Regressor(RegressorMixin, BaseL0):
    """Linear regression with Hard Concrete L0 gates on the features.

    Minimises the weighted mean squared error on standardized data plus
    ``lam`` times the expected number of open gates, then refits least
    squares on the kept features. Multi-output ``y`` (2-D) is supported:
    a feature is kept or dropped for all outputs together.

    %(parameters)s

    %(attributes)s

    See Also
    --------
    L0Classifier : The same gates with a logistic head.
    L0FeatureSelector : A transformer that keeps the selected columns.

    Examples
    --------
    >>> from skl0 import L0Regressor
    >>> from skl0.datasets import make_sparse_regression
    >>> X, y, coef, support = make_sparse_regression(200, 20, 3, random_state=0)
    >>> reg = L0Regressor(k=3, random_state=0).fit(X, y)
    >>> reg.get_support(indices=True).tolist() == support.tolist()
    True
    >>> round(reg.score(X, y), 2) > 0.6
    True
    """

    _fit_dask = "fit_regressor"  # statistics on the cluster, see docs/scale.md

    @np.errstate(under="ignore")  # values far below the unit round to subnormals or 0 (expected)
    def _encode_targets(self, y, sw):
        from ._datafits import SquaredLoss

        y = numeric_target(y, type(self).__name__)
        self._y_ndim = y.ndim
        Y = y.reshape(len(y), -1)
        # Moments of y / 2**e with 2**e near max|y|: exact, and neither a
        # y near 1e200 (whose square overflows) nor one near 1e-30 (under
        # the constant-target floor) loses its signal.
        # The unit and the moments come from the rows of positive weight
        # alone: weightless rows with y = 1e16 made the others' spread
        # round-off in a unit set by them, and lam="auto" then fitted a
        # "constant" target (no feature) where dropping them kept the true
        # ones. They get 0 (any finite value: their weight is 0).
        pos = sw > 0
        # Every weight positive (no weights given): the rows themselves, not
        # copies selected by a mask (a C-ordered Y: the copies' layout, so
        # the moments' sums run in the same order).
        every = Y.flags.c_contiguous and bool(pos.all())
        rows = Y if every else Y[pos]
        scale = power_of_two_scale(np.max(np.abs(rows), axis=0))
        kept = rows / scale
        mean, std = target_moments(kept, (sw if every else sw[pos]) / sw.sum())
        std[np.all(kept == kept[:1], axis=0)] = 1.0  # (exactly constant, whatever round-off)
        self._y_mean, self._y_std = mean * scale, std * scale
        if every:
            return (kept - mean) / std, SquaredLoss(Y.shape[1])
        Ys = np.zeros_like(Y, dtype=np.float64)
        Ys[pos] = (kept - mean) / std
        return Ys, SquaredLoss(Y.shape[1])

    def _output_layers(self, layers):
        W, b = layers[-1]  # back from standardized targets to y's units
        return check_finite_layers(
            [*layers[:-1], (W * self._y_std, b * self._y_std + self._y_mean)]
        )

    def _set_linear(self, coef, intercept):
        if self._y_ndim == 1:
            self.coef_, self.intercept_ = coef[0], np.float64(intercept[0])
        else:
            self.coef_, self.intercept_ = coef, intercept

    @available_if(streamable)
    @checks_params_each_call
    @_fit_context(prefer_skip_nested_validation=True)
    @names_unchecked_nonfinite
    def partial_fit(self, X, y, sample_weight=None):
        """Add one chunk of rows to the fit, for data that do not fit in memory.

        With a linear head and at most 4096 features the fit is exact: the
        chunk's weighted sums of ``x``, ``x x'``, ``x y`` and ``y^2`` join
        float64 running statistics, and the gates are selected again on all
        the rows seen so far (each step costs O(p^2), whatever their
        number). After the last chunk the model is the one ``fit`` gives on
        the concatenated rows, up to float round-off, however the rows were
        split (with a number ``lam`` only where there are more rows than
        columns: with no more, ``fit`` solves on the rows and the stream
        on its Gram matrix, the same objective searched otherwise, which
        may end at another local optimum). Otherwise (``hidden_layer_sizes``,
        wider X) each call is one pass of mini-batch Adam over the chunk,
        with the standardization of the first chunk; see :doc:`/scale`.
        ``fit`` discards this state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of rows (dense, or scipy sparse CSR/CSC).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : L0Regressor
        """
        from ._streaming import partial_fit

        return partial_fit(self, X, y, sample_weight)

    def predict(self, X):
        """Predict with the selected features; needs no GPU.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            A lazy dask array for a Dask array or DataFrame ``X``.
        """
        if is_dask_collection(X):
            from ._dask_rows import map_rows

            check_is_fitted(self, "support_")
            q = None if self._y_ndim == 1 else self._layers[-1][0].shape[1]
            return map_rows(self.predict, self, X, q, np.float64)
        out = self._decision(X)
        return out[:, 0] if self._y_ndim == 1 else out

    @scores_dask_rows
    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of ``predict(X)``, as scikit-learn's.

        Computed on ``y / 2**e`` (exact) with ``2**e`` near ``max|y|`` per
        output, so that targets near 1e200, whose squares overflow, still
        get a finite score (R^2 does not depend on the unit of y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            For a Dask ``X``, computed on the cluster from per-block sums
            (the predictions are not gathered).
        """
        pred = self.predict(X)
        # r2_score's checks of y: finite numbers, as many outputs as predicted.
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        check_consistent_length(pred, y, sample_weight)
        outputs = [1 if a.ndim == 1 else a.shape[1] for a in (y, pred)]
        if y.ndim > 2 or outputs[0] != outputs[1]:
            raise ValueError(
                f"y has shape {y.shape}, but the model predicts {outputs[1]} output(s) per "
                f"sample (it was fitted on a y of {outputs[1]} column(s)); pass y of shape "
                f"(n_samples,{' ' + str(outputs[1]) if outputs[1] > 1 else ''})."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, pred, dtype=np.float64)
        return r2_of(y, pred, sample_weight)

    def _score_validated(self, X, y, sample_weight=None):
        """:meth:`score` on ``X``, ``y`` and weights already validated (the CV folds)."""
        return r2_of(y, self._forward(X), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

