"""Nonlinear selection: an MLP head behind the gates finds curved and interacting features.

Friedman #1 (``sklearn.datasets.make_friedman1``) makes
``y = 10 sin(pi x0 x1) + 20 (x2 - 0.5)^2 + 10 x3 + 5 x4 + noise`` from the
first 5 of many uniform columns. ``x2`` acts only through a parabola
centred in its range, so a linear model sees almost nothing of it, and
``x0`` and ``x1`` act through their product. The script asks three
selectors for exactly 5 columns:

- ``SelectKBest(f_regression)``: one linear, univariate test per column;
- ``L0FeatureSelector(k=5)``: L0 gates with the default linear head;
- ``L0FeatureSelector(k=5, hidden_layer_sizes=(32,))``: the same gates in
  front of a one-hidden-layer perceptron;

then prints the kept columns and the held-out R^2 of a k-nearest-neighbours
regressor refit on them.

Run: python examples/nonlinear_selection.py   (SKL0_QUICK=1: fewer samples and columns)
"""

import os

from sklearn.datasets import make_friedman1
from sklearn.feature_selection import SelectKBest, f_regression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl0 import L0FeatureSelector

QUICK = os.environ.get("SKL0_QUICK") == "1"


def main():
    n, p = (600, 30) if QUICK else (1500, 100)
    X, y = make_friedman1(n_samples=n, n_features=p, noise=1.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=1 / 3, random_state=0)
    print(f"Friedman #1: {X_train.shape[0]} training rows, {p} columns, relevant: [0 1 2 3 4]")

    selectors = {
        "SelectKBest(f_regression)": SelectKBest(f_regression, k=5),
        "L0, linear head": L0FeatureSelector(k=5, random_state=0),
        "L0, MLP head (32,)": L0FeatureSelector(k=5, hidden_layer_sizes=(32,), random_state=0),
    }
    for name, selector in selectors.items():
        model = make_pipeline(selector, StandardScaler(), KNeighborsRegressor())
        model.fit(X_train, y_train)
        kept = selector.get_support(indices=True)
        print(f"{name:<27s} keeps {kept}  kNN held-out R^2 = {model.score(X_test, y_test):.3f}")

    mlp = selectors["L0, MLP head (32,)"].estimator_
    print("P(gate open) of columns 0-4 under the MLP head:",
          mlp.feature_importances_[:5].round(3))


if __name__ == "__main__":
    main()
