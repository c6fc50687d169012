"""scikit-learn's own estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skl0 import (
    L0Classifier,
    L0ClassifierCV,
    L0FeatureSelector,
    L0FeatureSelectorCV,
    L0Regressor,
    L0RegressorCV,
)

# Small iteration budgets keep the ~50 checks per estimator fast; the
# checks exercise the API, not selection quality. dtype="float64" because
# check_sample_weight_equivalence_on_dense_data compares weighted and
# repeated fits at rtol=1e-7, beyond float32 arithmetic (float32 fits agree
# to about 1e-6, see test_sample_weight_equals_repetition_float32 in
# tests/test_estimators.py).
KW = dict(max_iter=30, random_state=0, dtype="float64")
ESTIMATORS = [
    L0Regressor(**KW),
    L0Classifier(**KW),
    L0FeatureSelector(**KW),
    L0Regressor(k=2, **KW),
    L0Classifier(lam=0.01, **KW),
    # The CV estimators on a short grid: each fit walks cv + 1 paths.
    L0RegressorCV(cv=3, n_lams=4, **KW),
    L0ClassifierCV(cv=3, n_lams=4, **KW),
    L0FeatureSelectorCV(cv=3, n_lams=4, **KW),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
