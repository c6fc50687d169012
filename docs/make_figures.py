"""Draw the documentation's figures into docs/_static/ (matplotlib, Agg).

Run from anywhere after changing what a figure shows, and commit the
pictures (docs/conf.py also runs it when a figure is missing):

    python docs/make_figures.py            # into docs/_static/
    python docs/make_figures.py --out DIR  # elsewhere (what CI does)

- gates_breast_cancer.png: P(gate open) per feature, breast cancer data;
- training_curve.png: the training objective of a fixed-lam fit;
- digits_mask.png: the 16 pixels L0FeatureSelector(k=16) keeps on digits;
- path_cv_diabetes.png: L0RegressorCV's path on diabetes, chosen point marked;
- cost_accuracy.png: total cost of the kept features vs held-out R^2 along a
  lam sweep, with feature_costs and without (synthetic measurements).

Every fit is seeded, so the pictures are the same from run to run on a CPU.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STATIC = Path(__file__).resolve().parent / "_static"
sys.path.insert(0, str(STATIC.parent.parent))  # the working tree's skl0

from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import numpy as np  # noqa: E402

from skl0 import L0Classifier, L0FeatureSelector, L0Regressor, L0RegressorCV  # noqa: E402
from skl0.plot import (  # noqa: E402
    plot_gates,
    plot_mask_image,
    plot_path,
    plot_training_curve,
)


#: Where save() writes: docs/_static/, or the folder given by --out.
OUT = STATIC


def save(fig, name):
    fig.tight_layout()
    path = OUT / name
    fig.savefig(path, dpi=100, metadata={"Software": None})  # no version stamp
    plt.close(fig)
    print(f"wrote {path}")


def cost_measurements(seed=0, n=2400):
    """Four signals, each measured twice: precisely (cost 10) or by a noisy proxy (cost 1).

    Columns 0-3 are the precise measurements, 4-7 the proxies, 8-13 free
    noise columns priced 1. Returns X, y and the cost of each column.
    """
    rng = np.random.default_rng(seed)
    s = rng.normal(size=(n, 4))
    precise = s + 0.1 * rng.normal(size=(n, 4))
    proxy = s + 0.6 * rng.normal(size=(n, 4))
    X = np.concatenate([precise, proxy, rng.normal(size=(n, 6))], axis=1)
    y = s @ np.array([1.0, 0.8, 0.6, 0.4]) + 0.5 * rng.normal(size=n)
    costs = np.array([10.0] * 4 + [1.0] * 4 + [1.0] * 6)
    return X, y, costs


def cost_accuracy_curve(ax, n_train=400):
    """Held-out R^2 against the kept set's total cost along a lam sweep."""
    X, y, costs = cost_measurements()
    Xtr, ytr, Xte, yte = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    lams = np.geomspace(1e-3, 0.5, 14)
    for label, fc, style in (("feature_costs=costs", costs, "o-"),
                             ("no costs (every feature priced alike)", None, "s--")):
        points = set()
        for lam in lams:
            with warnings.catch_warnings():  # the largest lam may keep nothing
                warnings.filterwarnings("ignore", message="No feature was selected")
                reg = L0Regressor(lam=float(lam), feature_costs=fc).fit(Xtr, ytr)
            points.add((float(costs[reg.support_].sum()), reg.score(Xte, yte)))
        cost, score = zip(*sorted(points))
        ax.plot(cost, score, style, label=label)
    ax.set_xlabel("total cost of the kept features")
    ax.set_ylabel("held-out R^2")
    ax.legend(loc="lower right")


def main():
    import torch

    torch.set_num_threads(1)  # small problems: threads cost more than they save
    OUT.mkdir(parents=True, exist_ok=True)
    data = load_breast_cancer(as_frame=True)
    X = StandardScaler().set_output(transform="pandas").fit_transform(data.data)

    clf = L0Classifier(random_state=0).fit(X, data.target)  # lam="auto"
    ax = plot_gates(clf, top=15)
    ax.set_title(f"breast cancer: {ax.get_title()} (lam='auto')")
    save(ax.figure, "gates_breast_cancer.png")

    fixed = L0Classifier(lam=0.03, max_iter=300, random_state=0).fit(X, data.target)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    plot_training_curve(fixed, ax=ax)
    ax.set_title("L0Classifier(lam=0.03) on breast cancer")
    save(fig, "training_curve.png")

    digits = load_digits()
    sel = L0FeatureSelector(k=16, max_iter=60, random_state=0)
    sel.fit(digits.data, digits.target)
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    plot_mask_image(sel, (8, 8), ax=ax)
    ax.set_title(f"digits: {ax.get_title()}")
    save(fig, "digits_mask.png")

    diabetes = load_diabetes(as_frame=True)
    cv = L0RegressorCV(cv=5, random_state=0).fit(diabetes.data, diabetes.target)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    plot_path(cv, ax=ax)
    ax.set_title(f"L0RegressorCV on diabetes: {cv.get_support().sum()} features chosen")
    save(fig, "path_cv_diabetes.png")

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    cost_accuracy_curve(ax)
    ax.set_title("L0Regressor over a lam sweep: precise (cost 10) vs proxy (cost 1)")
    save(fig, "cost_accuracy.png")


if __name__ == "__main__":
    # --out DIR draws into DIR instead (CI checks that the figures can be
    # drawn without rewriting the committed ones).
    if len(sys.argv) == 3 and sys.argv[1] == "--out":
        OUT = Path(sys.argv[2])
    elif len(sys.argv) != 1:
        sys.exit("usage: python docs/make_figures.py [--out DIR]")
    main()
