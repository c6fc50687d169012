"""Which pixels tell the digits apart? L0FeatureSelector(k=...) on 8x8 images.

Fits ``L0FeatureSelector(k=16)`` on scikit-learn's digits (1,797 images of
8 x 8 pixels, shipped with scikit-learn), compares a logistic regression on
the 16 kept pixels with one on all 64, and saves a picture of the kept
pixels (``skl0.plot.plot_mask_image``) when matplotlib is installed.

Run: python examples/digits_pixels.py [--k 16] [--out mask.png]
(SKL0_QUICK=1: fewer optimizer steps; without --out the picture goes to a
temporary folder, whose path is printed.)
"""

import argparse
import os
import tempfile
from pathlib import Path

import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skl0 import L0FeatureSelector

QUICK = os.environ.get("SKL0_QUICK") == "1"


def save_mask(selector, path):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no picture")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skl0.plot import plot_mask_image

    fig, ax = plt.subplots(figsize=(4, 3.4))
    plot_mask_image(selector, (8, 8), ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"saved the selected-pixel mask to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=16, help="pixels to keep (default: 16)")
    parser.add_argument("--out", type=Path, help="where to save the mask picture (.png)")
    args = parser.parse_args(argv)
    # 1,347 x 64 is small: torch's thread pool costs more than it saves here,
    # several times over on a busy machine.
    torch.set_num_threads(1)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    sel = L0FeatureSelector(k=args.k, max_iter=20 if QUICK else 150, random_state=0)
    sel.fit(X_train, y_train)
    pixels = sel.get_support(indices=True)
    print(f"kept {pixels.size} of 64 pixels (row, column):",
          " ".join(f"({p // 8},{p % 8})" for p in pixels))

    def accuracy(columns):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(X_train[:, columns], y_train)
        return model.score(X_test[:, columns], y_test)

    print(f"held-out accuracy, {pixels.size} pixels: {accuracy(pixels):.3f}")
    print(f"held-out accuracy, all 64 pixels: {accuracy(slice(None)):.3f}")

    out = args.out or Path(tempfile.mkdtemp(prefix="skl0_digits_")) / "digits_mask.png"
    save_mask(sel, out)


if __name__ == "__main__":
    main()
