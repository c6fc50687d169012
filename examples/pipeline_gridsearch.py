"""Tune lam with GridSearchCV, with L0FeatureSelector inside a Pipeline.

The selector is a plain scikit-learn transformer, so ``GridSearchCV`` can
search its ``lam`` (the price of one open gate) through the pipeline's
``sel__lam`` parameter, with the downstream classifier scored on each fold.
Data: scikit-learn's breast cancer set (shipped with scikit-learn).

Run: python examples/pipeline_gridsearch.py   (SKL0_QUICK=1: a smaller grid)
"""

import os

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skl0 import L0FeatureSelector

QUICK = os.environ.get("SKL0_QUICK") == "1"


def main():
    data = load_breast_cancer(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("sel", L0FeatureSelector(max_iter=60 if QUICK else 300, random_state=0)),
        ("clf", LogisticRegression(max_iter=1000)),
    ])
    pipe.set_output(transform="pandas")  # column names survive the scaler
    lams = [1e-3, 3e-2] if QUICK else [1e-4, 1e-3, 1e-2, 3e-2, 1e-1]
    grid = GridSearchCV(pipe, {"sel__lam": lams}, cv=3 if QUICK else 5)
    grid.fit(X_train, y_train)

    # How many features each lam keeps, refitted on the whole training split.
    kept = [
        int(pipe.set_params(sel__lam=lam).fit(X_train, y_train)["sel"].get_support().sum())
        for lam in lams
    ]
    table = pd.DataFrame({
        "lam": lams,
        "features kept": kept,
        "CV accuracy": grid.cv_results_["mean_test_score"].round(3),
        "+/-": grid.cv_results_["std_test_score"].round(3),
    })
    print(table.to_string(index=False))

    best = grid.best_estimator_
    names = best[:-1].get_feature_names_out()
    print(f"\nbest: lam={grid.best_params_['sel__lam']:g}, {len(names)} features: "
          + ", ".join(names))
    print(f"held-out accuracy: {best.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
