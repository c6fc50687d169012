"""DataFrames in, DataFrames out: masks, names and coefficients by column.

An L0 estimator fitted on a pandas DataFrame remembers the column names
(``feature_names_in_``); its boolean mask ``get_support()`` is aligned with
those columns, ``get_feature_names_out()`` gives the kept names, and
``set_output(transform="pandas")`` makes ``transform`` return a DataFrame.
Data: scikit-learn's diabetes regression set (shipped with scikit-learn).

Run: python examples/pandas_masks.py   (SKL0_QUICK=1: a lower iteration cap,
which the linear heads here, solved exactly by the gate engine, do not reach)
"""

import os

import pandas as pd
from sklearn.datasets import load_diabetes

from skl0 import L0FeatureSelector, L0Regressor

QUICK = os.environ.get("SKL0_QUICK") == "1"
MAX_ITER = 60 if QUICK else 300


def main():
    X, y = load_diabetes(return_X_y=True, as_frame=True)  # X: DataFrame, 10 columns

    # A selector: the mask is aligned with X.columns. The target holds whole
    # numbers with many distinct values, which task="auto" reads as a
    # regression target; task="regression" says so outright.
    sel = L0FeatureSelector(k=4, task="regression", max_iter=MAX_ITER, random_state=0)
    sel.fit(X, y)
    report = pd.DataFrame(
        {"kept": sel.get_support(), "P(gate open)": sel.feature_importances_.round(3)},
        index=sel.feature_names_in_,
    )
    print(report.sort_values(["kept", "P(gate open)"], ascending=False).to_string(), "\n")
    print("kept columns:", list(sel.get_feature_names_out()))
    # Under exact k, P(gate open) is read at the path point where at most k
    # gates stayed open; the swap search that follows may keep a column whose
    # gate had closed there (the README, "Fitted attributes").
    closed = report.index[report["kept"] & (report["P(gate open)"] < 0.5)]
    if len(closed):
        print("kept by the swap search after the gates had closed:", list(closed))

    # set_output: transform returns a DataFrame with the kept columns only.
    X_small = sel.set_output(transform="pandas").transform(X)
    print(f"transform -> {type(X_small).__name__} of shape {X_small.shape}, "
          f"columns {list(X_small.columns)}")
    assert list(X_small.columns) == list(X.columns[sel.get_support()])

    # The regressor's coefficients are in the units of X, exactly 0 where a
    # gate is closed: put them next to the column names.
    reg = L0Regressor(lam=0.01, max_iter=MAX_ITER, random_state=0).fit(X, y)
    coef = pd.Series(reg.coef_, index=reg.feature_names_in_, name="coef")
    print(f"\nL0Regressor(lam=0.01) keeps {int((coef != 0).sum())} of {coef.size}:")
    print(coef[coef != 0].round(1).to_string())
    print(f"R^2 on the training data: {reg.score(X, y):.3f}")


if __name__ == "__main__":
    main()
