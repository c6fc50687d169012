"""Quick start: which breast-cancer measurements predict the diagnosis?

Fits an L0FeatureSelector on scikit-learn's breast cancer data (shipped with
scikit-learn, no download), prints the selected feature names with the
probability that each gate is open, and the held-out accuracy of a
logistic regression on those features against one on all 30.

Run: python examples/quickstart.py
"""

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl0 import L0FeatureSelector


def main():
    data = load_breast_cancer(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, random_state=0, stratify=data.target
    )
    selector = L0FeatureSelector(random_state=0)  # lam="auto": no tuning
    model = make_pipeline(StandardScaler(), selector, LogisticRegression(max_iter=1000))
    model.set_output(transform="pandas")  # keep column names through the scaler
    model.fit(X_train, y_train)

    mask = selector.get_support()
    print(f"L0FeatureSelector kept {mask.sum()} of {mask.size} features (lam={selector.lam_:.3g}):")
    probs = selector.feature_importances_[mask]
    for name, prob in sorted(zip(selector.get_feature_names_out(), probs), key=lambda t: -t[1]):
        print(f"  {name:<25s} P(gate open) = {prob:.3f}")

    full = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    print(f"held-out accuracy with {mask.sum()} features: {model.score(X_test, y_test):.3f}")
    print(f"held-out accuracy with all {mask.size} features: {full.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
