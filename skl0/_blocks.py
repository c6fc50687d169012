"""Per-block statistics of the Dask fits: the functions the workers run.

Numpy only, so that a worker running them imports numpy and this module,
not torch or scikit-learn (``skl0/__init__`` loads its estimators lazily):
a worker's resident memory stays its share of X plus ~0.1 GB, where
importing the estimators' modules would add ~0.35 GB per worker.
:mod:`skl0._dask` builds the task graphs from these functions and merges
the results on the client.
"""

from __future__ import annotations

import numpy as np

from ._rows import row_softmax

# Float64 elements per sub-block inside a block (2 MB temporaries, which
# stay in cache between the subtraction and the product).
_SUB_ELEMENTS = 1 << 18


def _misaligned(name, m, n):
    """The message for a block of ``name`` whose ``m`` rows are not X's ``n``."""
    return (
        f"A block of {name} has {m} rows where X's has {n}: the Dask collections are split "
        f"into blocks of other rows (e.g. X was filtered and {name} was not). Take X and "
        f"{name} from one DataFrame after any filter (X = df.drop(columns='target'), "
        f"y = df['target']), or pass {name} as a numpy array, which is split as X is."
    )


def _unique(y, limit):
    y = np.asarray(y)
    if y.dtype.kind == "O":  # None or pd.NA would fail np.unique's sort
        from ._checks import check_missing_labels

        check_missing_labels(y, where="in a block of y")
    u = np.unique(y.ravel())
    return None if limit is not None and u.size > limit else u


def _union(limit, *parts):
    if any(u is None for u in parts):
        return None
    u = np.unique(np.concatenate(parts))
    return None if limit is not None and u.size > limit else u


def _empty_stats(p, q, diagonal=False):
    return {
        "W": 0.0, "mx": np.zeros(p), "my": np.zeros(q),
        "xx": np.zeros(p) if diagonal else np.zeros((p, p)),
        "xy": np.zeros((p, q)), "yy": np.zeros(q), "n": 0, "total_w": 0.0, "n_pos": 0,
        "w_pos": 0.0, "negative": False, "loss": 0.0, "r0": 0.0, "y_absmax": np.zeros(q),
        "y_min": np.full(q, np.inf), "y_max": np.full(q, -np.inf),
    }


_MOMENTS = ("W", "mx", "my", "xx", "xy", "yy")
_Y_MOMENTS = ("W", "my", "yy")


# Every function here runs in a Dask task, whose thread reads numpy's error
# state from wherever the scheduler runs it (the caller's, copied, under the
# local threaded or synchronous scheduler; numpy's default on a distributed
# worker): each one that may underflow says so itself, as the in-memory
# code does, so that a caller's np.errstate(under="raise") or "warn" (with
# warnings as errors) fails neither.
@np.errstate(under="ignore", over="ignore", invalid="ignore")  # (as _block_stats)
def _merge_moments(a, b):
    """Chan, Golub & LeVeque's pairwise update of centred weighted sums.

    ``a`` and ``b`` hold the total weight ``W``, the weighted means ``my``
    and centred sums of squares ``yy`` of the columns of Y and, where they
    have ``mx``, the means of X and the centred ``xx`` and ``xy`` (the
    fits' statistics; a score's have Y's alone).
    """
    keys = _MOMENTS if "mx" in a else _Y_MOMENTS
    diagonal = "mx" in a and np.ndim(a["xx"]) == 1  # (_block_stats(diagonal=True))
    W = a["W"] + b["W"]
    if a["W"] == 0 or b["W"] == 0:
        src = b if a["W"] == 0 else a
        return {**{k: src[k] for k in keys}, "W": W}
    frac = b["W"] / W
    f = a["W"] * frac  # (a["W"] * b["W"] underflowed for weights near 1e-200)
    e = b["my"] - a["my"]
    out = {"W": W, "my": a["my"] + frac * e, "yy": a["yy"] + b["yy"] + f * e * e}
    if "mx" in a:
        d = b["mx"] - a["mx"]
        out["mx"] = a["mx"] + frac * d
        out["xx"] = a["xx"] + b["xx"] + f * (d * d if diagonal else np.outer(d, d))
        out["xy"] = a["xy"] + b["xy"] + f * np.outer(d, e)
    return out


def _merge(a, b):
    """Two blocks' statistics merged: counts added, moments by :func:`_merge_moments`."""
    out = {k: a[k] + b[k] for k in ("n", "total_w", "n_pos", "w_pos", "loss", "r0")}
    out["negative"] = a["negative"] or b["negative"]
    out["y_absmax"] = np.maximum(a["y_absmax"], b["y_absmax"])
    out["y_min"] = np.minimum(a["y_min"], b["y_min"])
    out["y_max"] = np.maximum(a["y_max"], b["y_max"])
    out.update(_merge_moments(a, b))
    return out


def _merge_all(*parts):
    out = parts[0]
    for part in parts[1:]:
        out = _merge(out, part)
    return out


def _logistic(f):
    """``(p, p (1 - p), log(1 + e^f))`` of the logits ``f``, without overflow."""
    e = np.exp(-np.abs(f))
    inv = 1.0 / (1.0 + e)
    prob = np.where(f >= 0, inv, e * inv)
    return prob, e * inv * inv, np.maximum(f, 0.0) + np.log1p(e)


# (exp(-|f|) and tiny probabilities: benign underflow; NaN, infinity and
# squares that overflow go on into the sums, which the client refuses with a
# message: no RuntimeWarning, an error under warnings-as-errors, first)
@np.errstate(under="ignore", over="ignore", invalid="ignore")
def _block_stats(X, y, w, classes=None, coef=None, intercept=0.0, onehot=False,
                 diagonal=False):
    """Centred float64 statistics of one block of rows (runs on a worker).

    Without ``coef``: weights ``w`` and targets ``y`` (with ``onehot``, y's
    class indicators, one column per entry of ``classes``). With ``coef``
    (the logistic IRLS pass, ``y`` coded by ``classes``): weights
    ``v = w p (1 - p)`` and working response ``z = f + (y - p) / (p (1 - p))``
    at ``f = X coef + intercept``, plus the block's log loss and
    ``sum w (y - p)^2 / (p (1 - p))``.

    Each sub-block goes once into a float64 buffer ``[x - x0, y - y0, 1]``
    (shifted by its first row, exact for float32 X), its rows scaled by
    ``sqrt(w)``, whose one symmetric product ``B'B`` (BLAS syrk) holds the
    weight, the sums and the shifted second moments; they are centred
    there and merged (Chan's update). With ``diagonal`` (an MLP head's
    standardization, which needs no ``X'WX``) ``xx`` is its diagonal alone,
    the centred weighted sums of squares of the columns (O(rows p), not
    O(rows p^2)). Column ranges are not taken here (two
    more passes over X): a near-constant column is checked exactly
    afterwards by ``_dask._column_ranges``.
    """
    X = np.asarray(X)
    if X.dtype == object:
        # Nullable pandas columns (Float64, Int64) arrive as objects: pd.NA
        # becomes NaN, which the statistics carry to the fit's refusal.
        import pandas as pd

        X = np.where(pd.isna(X), np.nan, X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    n, p = X.shape
    y = np.asarray(y)
    if classes is not None:
        y = np.searchsorted(classes, y.ravel())
        if onehot:
            y = y[:, None] == np.arange(len(classes))
    try:
        Y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:  # (only a regression's y is not coded)
        raise ValueError(
            f"y must be numeric for a regressor, but {exc}. For class labels use "
            "L0Classifier (or L0FeatureSelector with task='classification')."
        ) from None
    Y = Y[:, None] if Y.ndim == 1 else Y.reshape(Y.shape[0], -1)  # (an empty block too)
    weighted = w is not None or coef is not None
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    for name, m in (("y", Y.shape[0]), ("sample_weight", w.shape[0])):
        if m != n:
            raise ValueError(_misaligned(name, m, n))
    q = Y.shape[1]
    out = _empty_stats(p, q, diagonal)
    out["n"] = n
    if n == 0:
        return out
    out["negative"] = bool((w < 0).any())
    pos = w > 0
    # A regression's target unit (2**e near max|y|) comes from the rows of
    # positive weight, as in memory, and weightless rows' (finite) targets
    # are read as 0: a y = 1e16 there set a unit in which the others' spread
    # fell under the constant-target floor, and a (y - y0)**2 near 1e600
    # overflowed even at weight 0. NaN and infinity stay, to be refused.
    out["y_absmax"] = np.abs(Y[pos]).max(0, initial=0.0)
    if classes is None and not pos.all():
        Y = np.where((w == 0)[:, None] & np.isfinite(Y), 0.0, Y)
    out["n_pos"], out["w_pos"] = int(pos.sum()), float(w[pos].sum())
    if pos.any():
        out["y_min"], out["y_max"] = Y[pos].min(0), Y[pos].max(0)
    out["total_w"] = float(w.sum())
    rows = max(1, _SUB_ELEMENTS // (p + q + 1))
    buf = np.empty((min(rows, n), p + q + 1))
    nz = None if coef is None else np.flatnonzero(coef)
    for a in range(0, n, rows):
        Xb, Yb, wb = X[a : a + rows], Y[a : a + rows], w[a : a + rows]
        m = Xb.shape[0]
        B = buf[:m]
        # The block's shift: its first row of positive weight (a weightless
        # row's 1e20 left the others' differences from it all round-off).
        first = int(np.argmax(wb > 0))
        x0 = Xb[first].astype(np.float64)
        np.subtract(Xb, x0, out=B[:, :p], dtype=np.float64)
        B[:, p + q] = 1.0
        if coef is not None:
            # the support's columns alone: a NaN elsewhere (times a zero
            # coefficient) would make every column's sums NaN, not its own
            f = B[:, nz] @ coef[nz] + (x0[nz] @ coef[nz] + intercept)
            prob, var, softplus = _logistic(f)
            resid = Yb[:, 0] - prob
            safe = np.maximum(var, 1e-300)
            out["loss"] += float(wb @ (softplus - Yb[:, 0] * f))
            out["r0"] += float(wb @ (resid * resid / safe))
            Yb = (f + resid / safe)[:, None]
            wb = wb * var
        y0 = Yb[first].copy()
        np.subtract(Yb, y0, out=B[:, p : p + q])
        if weighted:  # B' diag(w) B as (sqrt(w) B)'(sqrt(w) B): a syrk, half a gemm
            np.multiply(B, np.sqrt(wb)[:, None], out=B)
        if diagonal:  # sums of squares and X'WY alone, O(m (p + q)) per row
            W = float(B[:, -1] @ B[:, -1])
            if W <= 0:  # (NaN goes on, as below)
                continue
            s = (B[:, -1] @ B[:, :-1]) / W  # shifted means
            B[:, :-1] -= np.outer(B[:, -1], s)  # sqrt(w) times the centred values
            xx = np.einsum("ij,ij->j", B[:, :p], B[:, :p])
            xy = B[:, :p].T @ B[:, p : p + q]
            yy = np.einsum("ij,ij->j", B[:, p : p + q], B[:, p : p + q])
            part = {"W": W, "mx": x0 + s[:p], "my": y0 + s[p:], "xx": xx, "xy": xy, "yy": yy}
            out.update(_merge_moments(out, part))
            continue
        G = B.T @ B
        W = G[-1, -1]
        if W <= 0:  # (a NaN, from NaN or negative weights, goes on: refused later)
            continue
        s = G[:-1, -1] / W  # shifted means
        C = G[:-1, :-1] - W * np.outer(s, s)
        part = {"W": float(W), "mx": x0 + s[:p], "my": y0 + s[p:],
                "xx": C[:p, :p], "xy": C[:p, p:], "yy": np.diag(C)[p:].copy()}
        out.update(_merge_moments(out, part))  # (counts were set once per block)
    return out


def _column_min_max(X, cols, w=None):
    X = np.asarray(X)[:, cols]
    if w is not None:  # (the rows of positive weight, as a fit without the others)
        X = X[np.asarray(w, dtype=np.float64).reshape(-1) > 0]
    return (X.min(0).astype(np.float64), X.max(0).astype(np.float64)) if len(X) else (
        np.full(len(cols), np.inf), np.full(len(cols), -np.inf))


def _min_max_merge(*parts):
    return (np.min([a for a, _ in parts], axis=0), np.max([b for _, b in parts], axis=0))


@np.errstate(under="ignore")  # exp(-|f|) and tiny probabilities: benign underflow
def _softmax_block(X, y, w, classes, mean, std, coef, intercept, hess=None):
    """One pass of the multinomial fit over a block of rows (runs on a worker).

    At the logits ``F = x~ coef + intercept`` (``x~ = (x - mean) / std``,
    ``coef`` p x K, zero off the support) returns the weighted log loss,
    ``g = sum w x~' (Y - P)`` (p x K, Y the class indicators, P the softmax
    probabilities), ``gsum = sum w (Y - P)`` and ``r2 = sum w (Y - P)^2``
    per class; with ``hess`` (columns), the pieces of the exact Hessian on
    ``a = [x~_hess, 1]``: ``UU = sum w (a (x) p)(a (x) p)'`` and
    ``D = sum w a (a (x) p)'`` (index ``j * K + k``).
    """
    X = np.asarray(X)
    n, p = X.shape
    K = len(classes)
    codes = np.searchsorted(classes, np.asarray(y).ravel())
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    support = np.flatnonzero(np.any(coef != 0, axis=1))
    scaled = coef[support] / std[support, None]
    h = -1 if hess is None else len(hess)
    out = {"n": n, "loss": 0.0, "g": np.zeros((p, K)), "gsum": np.zeros(K),
           "r2": np.zeros(K), "UU": np.zeros(((h + 1) * K,) * 2),
           "D": np.zeros((h + 1, (h + 1) * K))}
    rows = max(1, _SUB_ELEMENTS // p)
    buf = np.empty((min(rows, n), p))
    classes_k = np.arange(K)
    for a in range(0, n, rows):
        wb, cb = w[a : a + rows], codes[a : a + rows]
        m = wb.shape[0]
        B = buf[:m]
        np.subtract(X[a : a + rows], mean, out=B, dtype=np.float64)
        F = B[:, support] @ scaled + intercept
        lse, P = row_softmax(F)
        out["loss"] += float(wb @ (lse - F[np.arange(m), cb]))
        R = (cb[:, None] == classes_k) - P
        WR = R * wb[:, None]
        out["g"] += B.T @ WR
        out["gsum"] += wb @ R
        out["r2"] += wb @ (R * R)
        if hess is not None:
            A = np.empty((m, h + 1))
            np.divide(B[:, hess], std[hess], out=A[:, :h])
            A[:, h] = 1.0
            UU, D = softmax_hessian_terms(A, P, wb)
            out["UU"] += UU
            out["D"] += D
    out["g"] /= std[:, None]
    return out


def softmax_hessian_terms(A, P, w):
    """The pieces of the weighted multinomial log loss's Hessian on the columns ``A``.

    ``A`` (n, a) the columns (the intercept's a column of ones), ``P`` (n, K)
    the class probabilities, ``w`` (n,) the row weights. Returns
    ``UU = sum_i w_i (a_i (x) p_i)(a_i (x) p_i)'`` and
    ``D = sum_i w_i a_i (a_i (x) p_i)'`` (index ``u * K + c``), sums over
    rows that blocks of rows add up; :func:`softmax_hessian` assembles them.
    ``A`` (m, n, a) and ``P`` (m, n, K) give the terms of ``m`` supports at
    once, (m, ...) each (:func:`skl0._refit_newton.newton_softmax_batch`).
    """
    U = (A[..., :, None] * P[..., None, :]).reshape(*A.shape[:-1], -1)
    D = np.swapaxes(A, -1, -2) @ (U * w[:, None])
    U *= np.sqrt(w)[:, None]
    return np.swapaxes(U, -1, -2) @ U, D


def softmax_hessian(UU, D, K):
    """``H[(u, c), (v, d)] = sum_i w_i a_iu a_iv (delta_cd P_ic - P_ic P_id)`` from
    :func:`softmax_hessian_terms`' ``UU`` and ``D`` (a new array; with a leading
    axis of supports, one Hessian each)."""
    lead, a = D.shape[:-2], D.shape[-2]
    H = -UU.reshape(*lead, a, K, a, K)
    classes = np.arange(K)
    # (the indexed axes, split by a slice, come first: (K, *lead, a, a))
    H[..., classes, :, classes] += np.moveaxis(D.reshape(*lead, a, a, K), -1, 0)
    return H.reshape(*lead, a * K, a * K)


def _sum_all(*parts):
    """Sum of dicts of numbers and arrays, key by key."""
    return {k: sum(part[k] for part in parts) for k in parts[0]}
