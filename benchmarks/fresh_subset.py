"""Exact k and lam="auto" against the exhaustive best subset, on fresh data.

On designs small enough for every support to be refitted (4-18 columns),
the criterion of skl0's own search is minimised by brute force at every
size, and each table row counts how often ``L0Regressor(k=k)`` /
``L0Classifier(k=k)`` (binary and multinomial; ``k = 1 .. p' - 1``,
``random_state=0``; ``p'`` the columns left once exact copies are dropped,
as skl0 selects among the first copies) reaches that minimum, and how far ``lam="auto"``
(``random_state`` 0-9) lies above the exhaustive minimum of skl0's EBIC.
The ablation rows, on the same data in the same run: without the pair-swap
scan (``_splice._scores_pair_swaps`` returning False: exact k's best end is
not left by exchanging two features for two others; squared loss only, the
one loss that has the scan), without the second-order screen
(``_splice._screens_supports`` returning False: a log-loss search's best
end is not left by refitting the candidates that the quadratic model at
that end ranks lowest; binary and multinomial) and without any scan
(``_splice._scores_all_swaps`` returning False too: a round that finds no
better exchange among its candidates then stops instead of scoring every
single swap).

Criteria, computed here in numpy independently of skl0 (the self-checks
assert that they equal skl0's own refit values on a few supports):

- **regression**: training MSE of the ridge refit ``(G_SS + (2 alpha +
  jitter) I) b = c_S`` on standardized columns (``alpha = 1e-4``, the
  jitter ``10 eps max(mean diag G, 1)``), solved for every support of each
  size in batches; EBIC with deviance ``n log max(MSE, 1e-10 MSE_0)``.
- **binary**: mean log loss (the data term) of the ridge-``alpha`` logistic
  refit on standardized columns, intercept unpenalised, by a batched damped
  Newton solve; EBIC with deviance ``2 n loss``. (Its self-check compares
  the penalised objective both refits minimise: on near-separable sets
  their data terms differ by up to 1e-7.)
- **multinomial** (3-4 classes): exact k's criterion is the penalised
  objective, mean cross-entropy ``+ r ||W||_F^2`` (all classes' weights,
  intercepts unpenalised) at ``r = max(alpha, 1/(2n))``; lam="auto"'s the
  data term at ridge ``alpha``, EBIC with deviance ``2 n loss`` and
  ``K - 1`` degrees of freedom a column; both by batched damped Newton
  solves warm-started by size.

The EBICs are ``skl0._criteria.ebic`` with its ``gamma`` and size cap,
``p`` the number of columns.

Families: regression (10), Toeplitz designs (rho 0.5-0.95, 60-200 rows,
12-18 columns, Gaussian or t3 noise, arbitrary units and offsets),
``make_regression`` with ``effective_rank=4``, exact / near / scaled copies
of columns, a wine column on the other 12, a linnerud column on the other 5,
a breast-cancer column on 17 others; binary (8), logistic Toeplitz designs
(rho 0.5-0.95, 100-400 rows, 10-14 columns), wine class 0 against the rest,
12-14 breast-cancer columns on 250 rows, near-copies of columns;
multinomial (7), Toeplitz designs (rho 0.5 and 0.9, 150-400 rows, 9-10
columns, 3-4 classes), 10 of wine's 13 columns on 150 rows, iris on 120,
``make_classification`` 250 x 10 with 3 classes. Seeds: 700-709
(regression), 710-719 (binary) and 720-729 (multinomial): those of session
39's audits, whose misses led to the single-swap step, and the development
seeds of the pair-swap scan (session 40, which also looked at 800-809 with a
prototype) and of the second-order screen (session 41); 900-909 are held
out from both scans (the screen was built after session 40 found the
multinomial misses there, so for it they are not clean), 1000-1009 from
all three. ``--only pixels`` (not run by
default): a regression family that no choice of either scan looked at, a
digits pixel plus noise regressed on 16 other pixels of 300 random images
(seeds 950-969). ``--only clusters`` (not run by default either): a
multinomial family that no choice of the screen looked at,
``make_classification`` 200 x 10 with 3 classes of two clusters each
(seeds 1100-1119), and ``--only redundant`` a binary one,
``make_classification`` 150 x 12 with 4 informative columns and 3 linear
combinations of them (seeds 1200-1219). ``--only wider``: multinomial
designs of 13 columns, past 256 supports of a size for ``k = 4..9``
(``make_classification`` 200 x 13 with 3 classes, multinomial Toeplitz rho
0.8, all of wine's 13 columns on 150 rows), the development seeds 1300-1309
of session 42's screen of single and pair swaps for more than two classes
(``--seeds 1400-1409`` held out); ``--only four-classes``, a multinomial
family that no choice looked at, ``make_classification`` 300 x 14 with 4
classes of one cluster each (seeds 1500-1509). The multinomial parts have
two more ablation rows: without refitting the end's single swaps
(``_splice._end_singles`` answering 0: the screen ranks them with the pairs)
and session 41's screen (for more than two classes every support of a size
where there are at most 256, nothing past that). ``--quick``: 3 + 2 + 2
families (pixels, clusters, redundant, four-classes: their one; wider: two),
2 seeds, ``random_state`` 0-2 (about a minute a part).

    OMP_NUM_THREADS=1 python benchmarks/fresh_subset.py [--quick] [--only regression,binary,multinomial,pixels,clusters,redundant,wider,four-classes] [--seeds 700-709]
    OMP_NUM_THREADS=1 python benchmarks/fresh_subset.py --only multinomial --seeds 1005 --cost 3

``--cost ROUNDS`` times the shipped search against each ablation instead
(exact k for every k and one ``lam="auto"`` fit per set, the variants in
turn for ROUNDS rounds after a warm-up, in one process) and prints the
ratios of CPU time and whether the supports are the same.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import sys
import time
import warnings

import _common as C  # also puts the repository root on sys.path
import numpy as np
from scipy.special import expit, logsumexp, softmax
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_linnerud,
    load_wine,
    make_classification,
    make_regression,
)

import skl0._selection as selection
import skl0._splice as splice
from skl0 import L0Classifier, L0Regressor
from skl0._criteria import ebic, ebic_gamma, max_support_size
from skl0._splice_multinomial import MultinomialRefits

ALPHA = 1e-4  # the estimators' default alpha
EPS = np.finfo(np.float64).eps
# How far the criteria here may lie from skl0's own refit values (relative):
# the audits found ~1e-13 for the Gram refits and 2.4e-13 for the
# multinomial ones. The binary ones are compared by the penalised objective
# both refits minimise (LogLoss.check_gap): their data terms differed by up
# to 1.1e-7 on near-separable sets (wine class 0, seed 1007), where the
# Newton solves stop at slightly different points of a flat objective.
CHECK_TOL = {"regression": 1e-9, "binary": 1e-9, "multinomial": 1e-9}


# --------------------------------------------------------------------------- families


def toeplitz_X(rng, n, p, rho):
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.normal(size=(n, p)) @ np.linalg.cholesky(cov).T
    return X * rng.uniform(0.2, 5, p) + rng.normal(0, 3, p)  # arbitrary units and offsets


def coefficients(rng, p, s, lo, hi, classes=None, cols=None):
    """``s`` random columns (of ``cols``, else of all ``p``) get coefficients of random sign
    and size in ``[lo, hi)`` (one per class with ``classes``); the rest 0."""
    shape = s if classes is None else (s, classes)
    beta = np.zeros(p if classes is None else (p, classes))
    idx = rng.choice(p if cols is None else cols, s, replace=False)
    beta[idx] = rng.choice([-1, 1], shape) * rng.uniform(lo, hi, shape)
    return beta


def toeplitz_family(rho, n, p, target, *args):
    """Data sets of a Toeplitz design (:func:`toeplitz_X`) and ``target(rng, X, *args)``, by seed."""
    def make(seed):
        rng = np.random.default_rng(seed)
        X = toeplitz_X(rng, n, p, rho)
        return X, target(rng, X, *args)
    return make


def sparse_y(rng, X, s, snr, noise="gauss"):
    n, p = X.shape
    f = (X - X.mean(0)) / X.std(0) @ coefficients(rng, p, s, 0.5, 2)
    e = rng.standard_t(3, n) if noise == "t3" else rng.normal(size=n)
    e = e * math.sqrt(f.var() / snr) / e.std()
    return f + e + 7.0


def reg_toeplitz(rho, n, p, s, snr, noise="gauss"):
    return toeplitz_family(rho, n, p, sparse_y, s, snr, noise)


def reg_effrank(seed):
    return make_regression(150, 15, n_informative=5, effective_rank=4, tail_strength=0.3,
                           noise=1.0, random_state=seed)


def with_copies(rng, n, p):
    """``(B, X)``: ``p`` base columns (Toeplitz rho 0.5) and X, B with an exact copy of
    column 0, near copies of columns 1 and 2 (1e-3, 1e-2) and a scaled copy of column 3."""
    B = toeplitz_X(rng, n, p, 0.5)
    X = np.column_stack([B, B[:, 0], B[:, 1] + 1e-3 * B[:, 1].std() * rng.normal(size=n),
                         B[:, 2] + 1e-2 * B[:, 2].std() * rng.normal(size=n), -3 * B[:, 3] + 1])
    return B, X


def reg_dups(seed):
    # 10 base columns and their copies (with_copies); y from 4 of columns 0..5
    rng = np.random.default_rng(seed)
    B, X = with_copies(rng, 120, 10)
    return X, sparse_y(rng, B[:, :6], 4, 3.0)


def reg_wine(seed):
    X0 = load_wine().data
    rng = np.random.default_rng(seed)
    j = seed % 13
    rows = rng.choice(len(X0), 120, replace=False)
    return np.delete(X0[rows], j, 1), X0[rows, j]


def reg_linnerud(seed):
    d = load_linnerud()
    Z = np.column_stack([d.data, d.target])
    j = seed % 6
    return np.delete(Z, j, 1), Z[:, j]


def reg_breast_cancer(seed):
    # 17 random columns regress an 18th (often nearly collinear: radius / perimeter / area)
    X0 = load_breast_cancer().data
    rng = np.random.default_rng(seed)
    cols = rng.choice(30, 18, replace=False)
    rows = rng.choice(len(X0), 200, replace=False)
    Z = X0[rows][:, cols]
    return Z[:, 1:], Z[:, 0]


def reg_digits_pixels(seed):
    # A digits pixel (plus noise) regressed on 16 other pixels, 300 random images:
    # the "pixels" part, a family no choice of the swap search looked at
    X0 = load_digits().data
    rng = np.random.default_rng(seed)
    cols = rng.choice(np.flatnonzero(X0.std(0) > 2.0), 17, replace=False)
    rows = rng.choice(len(X0), 300, replace=False)
    Z = X0[rows][:, cols]
    X = Z[:, 1:]
    return X[:, X.std(0) > 0], Z[:, 0] + rng.normal(0, 0.5, len(rows))


REGRESSION = {
    "toep rho=.5 n=100 p=12 s=3 snr=1": reg_toeplitz(0.5, 100, 12, 3, 1.0),
    "toep rho=.8 n=200 p=15 s=4 snr=3": reg_toeplitz(0.8, 200, 15, 4, 3.0),
    "toep rho=.95 n=150 p=18 s=6 snr=10": reg_toeplitz(0.95, 150, 18, 6, 10.0),
    "toep rho=.95 n=60 p=16 s=5 snr=1": reg_toeplitz(0.95, 60, 16, 5, 1.0),
    "toep rho=.8 n=80 p=18 s=6 snr=3 t3": reg_toeplitz(0.8, 80, 18, 6, 3.0, "t3"),
    "make_regression eff_rank=4 p=15": reg_effrank,
    "dup/near-dup cols p=14": reg_dups,
    "wine col~others p=12 n=120": reg_wine,
    "linnerud col~others p=5": reg_linnerud,
    "breast cancer col~17 cols n=200": reg_breast_cancer,
}
PIXELS = {"digits pixel ~16 pixels n=300": reg_digits_pixels}
REGRESSION_QUICK = ("toep rho=.8 n=80 p=18 s=6 snr=3 t3", "breast cancer col~17 cols n=200",
                    "linnerud col~others p=5")


def logit_y(rng, X, s, lo=0.5, hi=1.5, cols=None):
    n, p = X.shape
    beta = coefficients(rng, p, s, lo, hi, cols=cols)
    return (rng.random(n) < expit((X - X.mean(0)) / X.std(0) @ beta - 0.3)).astype(int)


def bin_logit(rho, n, p, s, lo=0.5, hi=1.5):
    return toeplitz_family(rho, n, p, logit_y, s, lo, hi)


def bin_wine(seed):
    d = load_wine()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(d.target), 140, replace=False)
    return d.data[rows], (d.target[rows] == 0).astype(int)


def bin_breast_cancer(seed):
    d = load_breast_cancer()
    rng = np.random.default_rng(seed)
    p = 12 + seed % 3
    cols = np.sort(rng.choice(30, p, replace=False))
    rows = rng.choice(len(d.target), 250, replace=False)
    return d.data[rows][:, cols], d.target[rows]


def bin_dups(seed):
    # 9 base columns and their copies (with_copies); y from 4 of columns 0..5
    rng = np.random.default_rng(seed)
    B, X = with_copies(rng, 200, 9)
    return X, logit_y(rng, B, 4, cols=6)


BINARY = {
    "logit toep rho=.5 n=100 p=10 s=3": bin_logit(0.5, 100, 10, 3),
    "logit toep rho=.8 n=200 p=12 s=4": bin_logit(0.8, 200, 12, 4),
    "logit toep rho=.95 n=400 p=14 s=5": bin_logit(0.95, 400, 14, 5),
    "logit toep rho=.8 n=300 p=14 s=4": bin_logit(0.8, 300, 14, 4),
    "logit toep rho=.95 n=150 p=13 s=3 strong": bin_logit(0.95, 150, 13, 3, 1.0, 2.5),
    "wine class 0 vs rest 140 rows p=13": bin_wine,
    "breast cancer 12-14 cols 250 rows": bin_breast_cancer,
    "near-dup cols p=13 n=200": bin_dups,
}
BINARY_QUICK = ("breast cancer 12-14 cols 250 rows", "near-dup cols p=13 n=200")


def multi_y(rng, X, K, s, lo, hi):
    B = coefficients(rng, X.shape[1], s, lo, hi, classes=K)
    P = softmax(standardize(X) @ B + rng.normal(0, 0.3, K), axis=1)
    return np.array([rng.choice(K, p=pr) for pr in P])


def multi_logit(rho, n, p, K, s, lo=0.5, hi=1.5):
    return toeplitz_family(rho, n, p, multi_y, K, s, lo, hi)


def multi_wine(seed):
    d = load_wine()
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.choice(13, 10, replace=False))
    rows = rng.choice(len(d.target), 150, replace=False)
    return d.data[rows][:, cols], d.target[rows]


def multi_iris(seed):
    d = load_iris()
    rows = np.random.default_rng(seed).choice(150, 120, replace=False)
    return d.data[rows], d.target[rows]


def multi_make_classification(seed):
    return make_classification(n_samples=250, n_classes=3, n_informative=4, n_redundant=2,
                               n_features=10, random_state=seed)


MULTINOMIAL = {
    "mlogit toep rho=.5 n=150 p=10 K=3 s=3": multi_logit(0.5, 150, 10, 3, 3),
    "mlogit toep rho=.9 n=200 p=9 K=3 s=4": multi_logit(0.9, 200, 9, 3, 4),
    "mlogit toep rho=.9 n=400 p=10 K=4 s=5": multi_logit(0.9, 400, 10, 4, 5),
    "mlogit toep rho=.5 n=300 p=10 K=4 s=5 strong": multi_logit(0.5, 300, 10, 4, 5, 1.0, 2.5),
    "wine 10 of 13 cols 150 rows K=3": multi_wine,
    "iris 120 rows K=3": multi_iris,
    "make_classification 250x10 K=3 inf4 red2": multi_make_classification,
}
def multi_clusters(seed):
    # The "clusters" part: 3 classes of two clusters each (make_classification's
    # default), 200 x 10, a multinomial family no choice of the search looked at.
    return make_classification(n_samples=200, n_classes=3, n_informative=4, n_redundant=2,
                               n_features=10, random_state=seed)


CLUSTERS = {"make_classification 200x10 K=3, 2 clusters a class": multi_clusters}


def bin_redundant(seed):
    # The "redundant" part: two classes, 150 x 12, 4 informative columns and 3
    # linear combinations of them, a binary family no choice of the search
    # looked at.
    return make_classification(n_samples=150, n_features=12, n_informative=4, n_redundant=3,
                               random_state=seed)


REDUNDANT = {"make_classification 150x12 binary, 4 inf + 3 redundant": bin_redundant}


def multi_classification13(seed):
    return make_classification(n_samples=200, n_classes=3, n_informative=5, n_redundant=2,
                               n_features=13, random_state=seed)


def multi_wine13(seed):
    d = load_wine()
    rows = np.random.default_rng(seed).choice(len(d.target), 150, replace=False)
    return d.data[rows], d.target[rows]


# The "wider" part: multinomial designs of 13 columns, past 256 supports of
# a size for k = 4..9, where the screen's candidates are the single and pair
# swaps (session 42's development seeds, 1300-1309).
WIDER = {
    "make_classification 200x13 K=3 inf5 red2": multi_classification13,
    "mlogit toep rho=.8 n=200 p=13 K=3 s=4": multi_logit(0.8, 200, 13, 3, 4),
    "wine 13 cols 150 rows K=3": multi_wine13,
}


def multi_four_classes(seed):
    # The "four-classes" part: 4 classes of one cluster each, 300 x 14, a
    # multinomial family that no choice of the search looked at.
    return make_classification(n_samples=300, n_classes=4, n_informative=5, n_redundant=3,
                               n_features=14, n_clusters_per_class=1, random_state=seed)


FOUR_CLASSES = {"make_classification 300x14 K=4 inf5 red3, 1 cluster a class":
                multi_four_classes}
MULTINOMIAL_QUICK = ("mlogit toep rho=.9 n=200 p=9 K=3 s=4", "wine 10 of 13 cols 150 rows K=3")


# --------------------------------------------------------------------------- criteria


def standardize(X):
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)


def first_copies(X):
    """Columns that are not an exact copy of an earlier one (skl0._duplicates' rule)."""
    keep = []
    for j in range(X.shape[1]):
        if not any(np.array_equal(X[:, i], X[:, j]) for i in keep):
            keep.append(j)
    return np.array(keep)


def all_supports(p, k):
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    return np.array(list(itertools.combinations(range(p), k)), dtype=np.int64)


class RidgeMSE:
    """Training MSE of the ridge refit on standardized columns, from X'X."""

    def __init__(self, Xs, y):
        n = Xs.shape[0]
        yc = y - y.mean()
        self.G, self.c, self.yy = Xs.T @ Xs / n, Xs.T @ yc / n, yc @ yc / n
        self.ridge = 2 * ALPHA + EPS * 10 * max(float(np.mean(np.diag(self.G))), 1.0)

    def losses(self, cands):
        m, k = cands.shape
        if k == 0:
            return np.full(m, self.yy)
        out = np.empty(m)
        for i in range(0, m, 20000):
            S = cands[i:i + 20000]
            GS = self.G[S[:, :, None], S[:, None, :]]
            cs = self.c[S]
            b = np.linalg.solve(GS + self.ridge * np.eye(k), cs[..., None])[..., 0]
            Gb = np.einsum("mij,mj->mi", GS, b)
            out[i:i + 20000] = (self.yy - 2 * np.einsum("mi,mi->m", b, cs)
                                + np.einsum("mi,mi->m", b, Gb))
        return out

    def ebic(self, loss, s, n, p):
        return ebic(n * math.log(max(loss, 1e-10 * self.yy)), s, n, p, 1, ebic_gamma(n, p))

    def skl0_value(self, refits, S):
        """skl0's refit loss of ``S`` in this criterion's units (its y is standardized)."""
        return refits.fit(S)[1] / refits.fit(np.zeros(0, dtype=np.int64))[1] * self.yy

    def check_gap(self, refits, S, own):
        """How far (relative) skl0's refit of ``S`` lies from this criterion's value ``own``."""
        theirs = self.skl0_value(refits, S)
        return abs(theirs - own) / theirs


def softplus(f):
    return np.logaddexp(0.0, f)


def damped_newton(x, terms, direction, max_iter, atol):
    """Minimise each row of ``x`` by damped Newton steps (Armijo backtracking); the data terms.

    ``terms(x_, rows)`` gives (objective, data term, fitted values) of the
    rows ``rows`` (None: all); ``direction(idx, x_, f)`` the gradient and
    the Newton step of rows ``idx``.
    """
    val, data, f = terms(x, None)
    active = np.ones(x.shape[0], bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        g, step = direction(idx, x[idx], f[idx])
        dec = (g * step).sum(1)
        conv = dec <= 1e-26 * np.maximum(val[idx], 1e-300) + atol
        t = np.ones(idx.size)
        todo = ~conv
        newx = x[idx] - step
        nv, nd, nf = terms(newx, idx)
        for _ in range(60):  # backtracking (Armijo)
            bad = todo & (nv > val[idx] - 1e-4 * t * dec)
            if not bad.any():
                break
            t[bad] *= 0.5
            b = np.flatnonzero(bad)
            newx[b] = x[idx[b]] - t[b, None] * step[b]
            nv[b], nd[b], nf[b] = terms(newx[b], idx[b])
        improve = todo & (nv < val[idx])
        sel = idx[improve]
        x[sel], val[sel], data[sel], f[sel] = newx[improve], nv[improve], nd[improve], nf[improve]
        active[idx[conv | ~improve]] = False  # converged, or no decrease left
    return x, data


def newton_batch(XT, y, max_iter=200, objective=False):
    """Data term of ``mean log loss + alpha ||W||^2`` at its minimum, per support of ``XT`` (m, k, n).

    ``objective``: the whole objective there instead.
    """
    m, k, n = XT.shape
    ridge = np.full(k + 1, 2 * ALPHA)
    ridge[k] = 0.0  # the intercept is unpenalised

    def terms(x_, rows=None):
        Xr = XT if rows is None else XT[rows]
        f = np.matmul(x_[:, None, :k], Xr)[:, 0, :] + x_[:, k:]
        data = (softplus(f) - y * f).mean(1)
        return data + ALPHA * (x_[:, :k] ** 2).sum(1), data, f

    def direction(idx, x_, f):
        pr = expit(f)
        r = (pr - y) / n
        g = np.empty((idx.size, k + 1))
        g[:, :k] = np.matmul(XT[idx], r[:, :, None])[:, :, 0] + 2 * ALPHA * x_[:, :k]
        g[:, k] = r.sum(1)
        v = pr * (1 - pr) / n
        H = np.empty((idx.size, k + 1, k + 1))
        Xv = XT[idx] * v[:, None, :]
        H[:, :k, :k] = np.matmul(Xv, XT[idx].transpose(0, 2, 1))
        H[:, :k, k] = H[:, k, :k] = Xv.sum(2)
        H[:, k, k] = v.sum(1)
        H[:, np.arange(k + 1), np.arange(k + 1)] += ridge
        return g, np.linalg.solve(H, g[:, :, None])[:, :, 0]

    x, data = damped_newton(np.zeros((m, k + 1)), terms, direction, max_iter, 1e-300)
    return data + ALPHA * (x[:, :k] ** 2).sum(1) if objective else data


class LogLoss:
    """Mean log loss (data term) of the ridge-``alpha`` logistic refit on standardized columns."""

    def __init__(self, Xs, y):
        self.Xs, self.y = Xs, y.astype(np.float64)
        self.XT = np.ascontiguousarray(Xs.T)

    def losses(self, cands):
        m, k = cands.shape
        n = self.Xs.shape[0]
        if k == 0:
            b = math.log(self.y.mean() / (1 - self.y.mean()))
            return np.full(m, float(np.mean(softplus(np.full(n, b)) - self.y * b)))
        chunk = max(1, int(4e6 // (n * k)))
        out = np.empty(m)
        for i in range(0, m, chunk):
            out[i:i + chunk] = newton_batch(self.XT[cands[i:i + chunk]], self.y)
        return out

    def ebic(self, loss, s, n, p):
        return ebic(2.0 * n * loss, s, n, p, 1, ebic_gamma(n, p))

    def skl0_value(self, refits, S):
        assert np.allclose(refits.Xs, self.Xs, rtol=1e-12, atol=1e-12), "standardization differs"
        refits.cache.pop(S.tobytes(), None)
        return refits.fit(S)[1]

    def check_gap(self, refits, S, own):
        """How far (relative) skl0's refit of ``S`` lies from this criterion's, by the objective both minimise.

        Not by the data term (``own``): on near-separable sets the
        objective is flat along the weights' growth, where the two Newton
        solves stop at points whose data terms differ by up to 1e-7
        (relative; wine class 0, seed 1007) and whose objectives agree.
        """
        loss = self.skl0_value(refits, S)
        W = refits.fit(S)[0][0]
        theirs = loss + ALPHA * float(W @ W)
        mine = float(newton_batch(self.XT[S[None]], self.y, objective=True)[0])
        return abs(theirs - mine) / theirs


class MultinomialLoss:
    """Mean cross-entropy of the multinomial refit at ridge ``ridge`` on standardized columns.

    All ``K`` classes' weights are penalised, the intercepts not (solved in
    the reference parametrisation ``b_K = 0``, which leaves the objective
    unchanged). ``penalised``: a support's loss is the objective (exact k's
    criterion, ridge ``max(alpha, 1/(2n))``), else its data term
    (lam="auto"'s, ridge ``alpha``). The supports of one size are solved
    warm-started from those of the size before without their last column.
    """

    def __init__(self, Xs, y, ridge, penalised):
        self.Xs, self.ridge, self.penalised = Xs, ridge, penalised
        labels = np.unique(y, return_inverse=True)[1]
        self.K = int(labels.max()) + 1
        self.Y = np.eye(self.K)[labels]
        self.warm = {}  # size -> {support: solution}, for the next size's starts

    def solve(self, XS, x0, max_iter=300):
        m, n, s = XS.shape
        Y, K, r = self.Y, self.K, self.ridge
        ylab = Y.argmax(1)
        Z = np.concatenate([XS, np.ones((m, n, 1))], axis=2)
        keep = np.r_[np.arange(s * K), s * K + np.arange(K - 1)]

        def unpack(x_):
            b = np.concatenate([x_[:, s * K:], np.zeros((x_.shape[0], 1))], axis=1)
            return x_[:, :s * K].reshape(-1, s, K), b

        def terms(x_, rows=None):
            W, b = unpack(x_)
            F = np.matmul(XS if rows is None else XS[rows], W) + b[:, None, :]
            data = (logsumexp(F, axis=2) - F[:, np.arange(n), ylab]).mean(1)
            return data + r * (W ** 2).sum((1, 2)), data, F

        def direction(idx, x_, F):
            P = softmax(F, axis=2)
            Zi = Z[idx]
            G = np.matmul(Zi.transpose(0, 2, 1), (P - Y) / n)
            G[:, :s] += 2 * r * unpack(x_)[0]
            g = np.concatenate([G[:, :s].reshape(idx.size, -1), G[:, s, :K - 1]], axis=1)
            H = np.empty((idx.size, s + 1, K, s + 1, K))
            for c, e in itertools.combinations_with_replacement(range(K), 2):
                v = (-(P[:, :, c] * P[:, :, e]) + (P[:, :, c] if c == e else 0.0)) / n
                H[:, :, c, :, e] = H[:, :, e, :, c] = np.matmul(Zi.transpose(0, 2, 1),
                                                              Zi * v[:, :, None])
            H = H.reshape(idx.size, (s + 1) * K, -1)[:, keep][:, :, keep]
            H[:, np.arange(s * K), np.arange(s * K)] += 2 * r
            return g, np.linalg.solve(H, g[:, :, None])[:, :, 0]

        x = damped_newton(x0, terms, direction, max_iter, 1e-28)[0]
        obj, data, _ = terms(x)
        return x, (obj if self.penalised else data)

    def losses(self, cands):
        m, k = cands.shape
        K = self.K
        if k == 0:
            freq = self.Y.mean(0)
            return np.full(m, float(-(freq * np.log(freq)).sum()))
        x0 = np.zeros((m, k * K + K - 1))
        prev = self.warm.get(k - 1, {}) if m > 1 else {}  # a single support: from zero
        for i, S in enumerate(cands):
            xp = prev.get(tuple(S[:-1]))
            if xp is not None:
                x0[i, :(k - 1) * K], x0[i, k * K:] = xp[:(k - 1) * K], xp[(k - 1) * K:]
        out = np.empty(m)
        for i in range(0, m, 64):
            x, out[i:i + 64] = self.solve(self.Xs[:, cands[i:i + 64]].transpose(1, 0, 2),
                                         x0[i:i + 64])
            if m > 1:
                self.warm.setdefault(k, {}).update(zip(map(tuple, cands[i:i + 64]), x))
        if m > 1:
            self.warm.pop(k - 1, None)
        return out

    def ebic(self, loss, s, n, p):
        return ebic(2.0 * n * loss, s, n, p, self.K - 1, ebic_gamma(n, p))

    def skl0_value(self, refits, S):
        assert isinstance(refits, MultinomialRefits) and refits.penalised == self.penalised
        assert abs(refits.alpha - self.ridge) < 1e-15, "ridge differs"
        return LogLoss.skl0_value(self, refits, S)

    check_gap = RidgeMSE.check_gap


def criteria(task, Xs, y):
    """Exact k's criterion and lam="auto"'s (one and the same but for the multinomial)."""
    if task == "multinomial":
        ridge = max(ALPHA, 0.5 / Xs.shape[0])  # skl0's exact-k refits
        return MultinomialLoss(Xs, y, ridge, True), MultinomialLoss(Xs, y, ALPHA, False)
    crit = (RidgeMSE if task == "regression" else LogLoss)(Xs, y)
    return crit, crit


# --------------------------------------------------------------------------- the searches


@contextlib.contextmanager
def _replaced(**functions):
    """``splice.<name>`` replaced by the function given for it, for the duration."""
    originals = {name: getattr(splice, name) for name in functions}
    for name, function in functions.items():
        setattr(splice, name, function)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(splice, name, original)


def _turned_off(*names):
    """``splice.<name>`` answering False (0 for a count) for the duration, for each name
    (scans of the swap search off)."""
    return _replaced(**{name: lambda refits, p, k: False for name in names})


def without_pair_swap_scan():
    """The ablation: a round with no better single swap stops (no scan of every pair swap)."""
    return _turned_off("_scores_pair_swaps")


def without_swap_scans():
    """The ablation: a converged round of the swap search stops (no scan of every single or pair
    swap, no second-order screen of every support)."""
    return _turned_off("_scores_all_swaps", "_scores_pair_swaps", "_screens_supports")


def without_screen():
    """The ablation: a log-loss search's best end is not left by the second-order screen."""
    return _turned_off("_screens_supports")


def session_41_screen():
    """The ablation: the screen as session 41 left it, which for more than two classes scored
    every support of the size only (at most 256), nothing past that, and refitted none of the
    end's single swaps (``splice._screen_count`` and ``splice._end_singles`` replaced)."""
    count = splice._screen_count

    def screen_count(refits, p, k):
        if isinstance(refits, MultinomialRefits) and not splice._screens_every_support(p, k):
            return None
        return count(refits, p, k)

    return _replaced(_screen_count=screen_count, _end_singles=lambda refits, p, k: 0)


def without_end_singles():
    """The ablation: the screen of single and pair swaps ranks the singles too, refitting none
    but the two it ranks lowest (``splice._end_singles`` answering 0; session 42)."""
    return _turned_off("_end_singles")


def variants(task):
    """The searches compared on each set: shipped and its ablations.

    The pair-swap scan applies to squared loss only (Gram refits) and the
    second-order screen to log losses only, so the other tasks have no row
    without them (it would be the shipped one). Refitting the end's single
    swaps changes multinomial searches only: a binary search's own scan
    has refitted them already where there are at most 256 (the same cap of
    numbers); so does the pair
    neighbourhood for more than two classes (session 42), whose row is
    session 41's screen.
    """
    screen = [("without the second-order screen (ablation)", without_screen)]
    singles = [("without refitting the end's single swaps (ablation)", without_end_singles),
               ("session 41's screen: no pair swaps for more classes (ablation)",
                session_41_screen)]
    own = {"regression": [("without the pair-swap scan (ablation)", without_pair_swap_scan)],
           "binary": screen, "multinomial": singles + screen}
    return [("shipped", contextlib.nullcontext), *own.get(task, []),
            ("without any scan (ablation)", without_swap_scans)]

_seen = {}


@contextlib.contextmanager
def capture_refits():
    """Keep the problem and the refits of exact k's search (``selection_refits``) in ``_seen``."""
    original = selection.selection_refits

    def spy(problem, alpha, size=None):
        out = original(problem, alpha, size)
        _seen.update(problem=problem, refits=out)
        return out

    selection.selection_refits = spy
    try:
        yield
    finally:
        selection.selection_refits = original


def run_set(task, X, y, auto_seeds, rng, check):
    """Exact k and lam="auto" of every variant on one data set, against its exhaustive optimum."""
    n, p_all = X.shape
    keep = first_copies(X)  # skl0 selects among the first copies of exact copies
    pos = {int(j): i for i, j in enumerate(keep)}
    Xs = standardize(X[:, keep])
    p = Xs.shape[1]
    crit, auto_crit = criteria(task, Xs, y)
    best = {c: [float(c.losses(all_supports(p, k)).min()) for k in range(p + 1)]
            for c in {crit, auto_crit}}
    smax = min(max_support_size(n, p_all), p)
    lowest_ebic = min(auto_crit.ebic(best[auto_crit][s], s, n, p_all) for s in range(smax + 1))
    tol_hit = 1e-6 if task == "regression" else 1e-9  # the audits' tolerances
    Est = L0Regressor if task == "regression" else L0Classifier
    known = {}

    def loss(S, c=crit):
        if (c, S) not in known:
            known[c, S] = float(c.losses(np.array(S, dtype=np.int64).reshape(1, -1))[0])
        return known[c, S]

    out = {}
    worst_check = 0.0
    for label, variant in variants(task):
        hits, worst, missed, cpu = 0, 0.0, [], 0.0
        with variant():
            for k in range(1, p):
                t = time.process_time()
                with capture_refits():
                    m = Est(k=k, random_state=0).fit(X, y)
                cpu += time.process_time() - t
                S = tuple(sorted(pos[int(j)] for j in np.flatnonzero(m.support_)))
                excess = loss(S) / best[crit][k] - 1 if len(S) == k else math.inf
                hits += excess <= tol_hit
                if excess > tol_hit:
                    missed.append((k, excess))
                worst = max(worst, excess)
                if check and label == "shipped" and k in (2, p // 2, p - 2):
                    assert _seen["problem"].n_candidates == p_all, "skl0's EBIC p differs"
                    for _ in range(4):
                        size = int(rng.integers(1, p))
                        T = np.sort(rng.choice(p, size, replace=False)).astype(np.int64)
                        worst_check = max(worst_check,
                                          crit.check_gap(_seen["refits"], T, loss(tuple(T))))
            sups = []
            for rs in auto_seeds:
                t = time.process_time()
                m = Est(random_state=rs).fit(X, y)
                cpu += time.process_time() - t
                sups.append(tuple(sorted(pos[int(j)] for j in np.flatnonzero(m.support_))))
        gaps = [auto_crit.ebic(loss(S, auto_crit), len(S), n, p_all) - lowest_ebic
                for S in sups]
        out[label] = {"sizes": p - 1, "hits": hits, "worst": worst, "missed": missed,
                      "gap": max(gaps), "distinct": len(set(sups)), "cpu": cpu}
    assert worst_check <= CHECK_TOL[task], (
        f"criterion differs from skl0's refit by {worst_check:.1e} (relative)")
    return out, worst_check


def part(task, families, seeds, auto_seeds, quiet, title=None):
    rng = np.random.default_rng(12345)
    rows, misses, checks = {}, [], []
    t0 = time.time()
    for fam, make in families.items():
        for seed in seeds:
            X, y = make(seed)
            out, chk = run_set(task, X, y, auto_seeds, rng, check=True)
            checks.append(chk)
            for label, r in out.items():
                rows.setdefault((fam, label), []).append(r)
                if label == "shipped":
                    misses += [(fam, seed, k, e) for k, e in r["missed"]]
            if not quiet:
                s, *ab = (out[label] for label, _ in variants(task))
                hits = ", ".join(str(a["hits"]) for a in ab)
                gaps = ", ".join(format(a["gap"], ".3f") for a in ab)
                print(f"  {fam} seed {seed}: {s['hits']}/{s['sizes']} (ablations {hits}), "
                      f"gap {s['gap']:.3f} ({gaps}) [{time.time() - t0:.0f} s]",
                      file=sys.stderr, flush=True)
    table, totals = [], {label: [0, 0, 0, 0, 0, 0.0] for label, _ in variants(task)}
    for (fam, label), rs in rows.items():
        tot, hits = sum(r["sizes"] for r in rs), sum(r["hits"] for r in rs)
        below = sum(r["hits"] < 0.9 * r["sizes"] for r in rs)
        big = sum(r["gap"] > 0.5 for r in rs)
        cpu = sum(r["cpu"] for r in rs)
        for i, v in enumerate((hits, tot, below, len(rs), big, cpu)):
            totals[label][i] += v
        table.append([fam, label, f"{hits} / {tot}", f"{below} / {len(rs)}",
                      f"{max(r['worst'] for r in rs):.2e}", f"{max(r['gap'] for r in rs):.3f}",
                      f"{big} / {len(rs)}", max(r["distinct"] for r in rs), f"{cpu:.1f}"])
    for label, (hits, tot, below, sets, big, cpu) in totals.items():
        table.append(["**all**", label, f"{hits} / {tot}", f"{below} / {sets}", "", "",
                      f"{big} / {sets}", "", f"{cpu:.1f}"])
    crit = {"regression": "MSE of the ridge refit",
            "binary": "mean log loss of the ridge refit",
            "multinomial": "exact k, the penalised mean cross-entropy of the refit at ridge "
                           "max(alpha, 1/(2n)); lam=\"auto\", its data term at ridge alpha"}[task]
    print(f"## {title or task}: exact k (k = 1..p'-1, random_state=0) and lam=\"auto\" "
          f"(random_state {auto_seeds[0]}-{auto_seeds[-1]}), seeds {seeds[0]}-{seeds[-1]}\n")
    by = " (by the penalised objective both refits minimise)" if task == "binary" else ""
    print(f"Criterion: {crit}; skl0's refit values matched it{by} to {max(checks):.1e} "
          "(relative, largest over the checked supports).\n")
    print(C.markdown_table(
        ["family", "search", "sizes at the optimum", "seeds < 90% of sizes",
         "worst rel. excess", "auto: largest EBIC gap", "auto: sets with gap > 0.5",
         "auto: distinct supports", "CPU s"],
        table, align="llrrrrrrr"))
    print("\nExact-k misses of the shipped search (family, seed, k, relative excess):")
    for fam, seed, k, e in misses:
        print(f"- {fam}, seed {seed}, k={k}: {e:.2e}")
    print()


def cost(task, families, seeds, rounds, title=None):
    """CPU time of each ablation against the shipped search, interleaved in one process.

    For each family and seed: exact k for every k (``random_state=0``) and
    one ``lam="auto"`` fit, under each variant in turn (the order
    alternating from round to round) after a warm-up round; the ratio of
    the shipped search's summed process time to each ablation's, and
    whether every support is the same.
    """
    labels = [label for label, _ in variants(task)]
    Est = L0Regressor if task == "regression" else L0Classifier
    rows = []
    for fam, make in families.items():
        for seed in seeds:
            X, y = make(seed)
            p = X.shape[1]
            times = {(label, kind): 0.0 for label in labels for kind in ("k", "auto")}
            supports = {}
            for r in range(rounds + 1):
                for label, variant in (variants(task) if r % 2 else variants(task)[::-1]):
                    with variant():
                        t0 = time.process_time()
                        ks = [tuple(np.flatnonzero(Est(k=k, random_state=0).fit(X, y).support_))
                              for k in range(1, p)]
                        t1 = time.process_time()
                        auto = tuple(np.flatnonzero(Est(random_state=0).fit(X, y).support_))
                        t2 = time.process_time()
                    if r:  # round 0 warms up
                        times[label, "k"] += t1 - t0
                        times[label, "auto"] += t2 - t1
                    supports[label] = (ks, auto)
            row = [fam, seed]
            for label in labels[1:]:
                for kind in ("k", "auto"):
                    row.append(f"{times[labels[0], kind] / times[label, kind]:.2f}x")
                row.append("same" if supports[label] == supports[labels[0]] else "differ")
            rows.append(row)
    print(f"## {title or task}: CPU time of the shipped search against its ablations, "
          f"{rounds} interleaved rounds, seeds {seeds[0]}-{seeds[-1]}\n")
    head = ["family", "seed"]
    for label in labels[1:]:
        short = label.replace(" (ablation)", "")
        head += [f"exact k, every k: shipped / {short}", f"lam=\"auto\": shipped / {short}",
                 "supports"]
    print(C.markdown_table(head, rows, align="lr" + "rrl" * (len(labels) - 1)))
    print()


def seed_range(text):
    """``"FROM-TO"`` (or one seed) as the list of seeds; argparse's type for ``--seeds``."""
    lo, _, hi = text.partition("-")
    try:
        seeds = list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        seeds = []
    if not seeds:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a range of seeds; pass FROM-TO with FROM <= TO, e.g. 800-809")
    return seeds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="regression,binary,multinomial",
                    help="comma-separated parts: regression, binary, multinomial, pixels "
                         "(regression on digits pixels, held out; not run by default), "
                         "clusters (multinomial, held out), redundant (binary, held out), "
                         "wider (multinomial, 13 columns), four-classes (multinomial, "
                         "held out; none of these run by default)")
    ap.add_argument("--seeds", type=seed_range, default=None,
                    help="data seeds FROM-TO for every part (default 700-709 for regression, "
                         "710-719 for binary, 720-729 for multinomial; --quick: the first 2)")
    ap.add_argument("--auto-seeds", type=int, default=None,
                    help="lam='auto' fits with random_state 0..N-1 (default 10, --quick 3)")
    ap.add_argument("--quick", action="store_true",
                    help="3 + 2 + 2 families, 2 seeds (about a minute a part)")
    ap.add_argument("--quiet", action="store_true", help="no per-set progress on stderr")
    ap.add_argument("--cost", type=int, default=None, metavar="ROUNDS",
                    help="instead of the exhaustive comparison, time the shipped search "
                         "against each ablation (exact k for every k and one lam='auto' fit), "
                         "ROUNDS interleaved rounds in one process")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    parts = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(parts) - {"regression", "binary", "multinomial", "pixels", "clusters",
                            "redundant", "wider", "four-classes"}
    if unknown:
        ap.error(f"--only={args.only!r}: unknown part(s) {sorted(unknown)}; use regression, "
                 "binary, multinomial, pixels, clusters, redundant, wider and/or four-classes")
    if args.cost is not None and args.cost < 1:
        ap.error(f"--cost={args.cost}: pass 1 or more interleaved rounds")
    if args.auto_seeds is not None and args.auto_seeds < 1:
        ap.error(f"--auto-seeds={args.auto_seeds}: lam='auto' needs at least 1 fit; pass 1 or more")
    auto_seeds = list(range(args.auto_seeds or (3 if args.quick else 10)))
    print("\n".join(f"- {line}" for line in C.environment_lines()))
    print()
    for name, task, families, quick, default in [
            ("regression", "regression", REGRESSION, REGRESSION_QUICK, "700-709"),
            ("binary", "binary", BINARY, BINARY_QUICK, "710-719"),
            ("multinomial", "multinomial", MULTINOMIAL, MULTINOMIAL_QUICK, "720-729"),
            ("pixels", "regression", PIXELS, tuple(PIXELS), "950-969"),
            ("clusters", "multinomial", CLUSTERS, tuple(CLUSTERS), "1100-1119"),
            ("redundant", "binary", REDUNDANT, tuple(REDUNDANT), "1200-1219"),
            ("wider", "multinomial", WIDER, tuple(WIDER)[:2], "1300-1309"),
            ("four-classes", "multinomial", FOUR_CLASSES, tuple(FOUR_CLASSES), "1500-1509")]:
        if name not in parts:
            continue
        seeds = args.seeds or seed_range(default)
        if args.quick:
            families = {f: families[f] for f in quick}
            seeds = seeds[:2] if args.seeds is None else seeds
        title = None if name == task else f"{name} ({task})"
        if args.cost is not None:
            cost(task, families, seeds, args.cost, title)
        else:
            part(task, families, seeds, auto_seeds, args.quiet, title)


if __name__ == "__main__":
    main()
