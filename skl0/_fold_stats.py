"""A CV regressor's folds from one pass over X: each fold's Gram problem from shared sums.

A fold of :class:`skl0.L0RegressorCV` that trains a linear head on more
rows than columns needs only its training rows' sufficient statistics
(:class:`skl0._problem.GramProblem`): column extremes, weighted means and
spreads, ``X'WX`` and ``X'Wy``. Each fold used to gather ``X[train]`` and
form them again, so a 5-fold CV read X about six times over (gather,
extremes, two moment passes and the Gram of 0.8 n rows per fold, and all
of it again for the final fit): on n=2e5, p=100 about 5.9 fits' time.

Here the rows are split by the set of folds that train on them (with
``KFold`` and its kin, one group per held-out fold) and each group's
sums are formed once, about the group's own weighted means ``c_g`` of
``x`` and ``y_g`` of the targets (in float64, from centred blocks as the
Gram problem's own; the targets in a power-of-two unit ``U`` of their
largest magnitude):

    W_g = sum w,   s_g = sum w (x - c_g),   S_g = sum w (x - c_g)(x - c_g)',
    t_g = sum w (x - c_g)(y - y_g)' / U,   v_g = sum w (y - y_g) / U,
    yy_g = sum w ((y - y_g) / U)^2,

with the column minima and maxima (each group's ``w`` in a power-of-two
unit of its largest, so that ``w x x'`` neither overflows nor underflows
where a fit would have divided the weights by their total). A fold's
sums are those of the groups it trains on, each moved to the fold's
centre ``c`` (the weighted mean of its groups' ``c_g``; ``a_g = c_g - c``,
``b_g = (y_g - y_c) / U``):

    s = sum_g (s_g + W_g a_g),
    S = sum_g (S_g + s_g a_g' + a_g s_g' + W_g a_g a_g'),
    t = sum_g (t_g + s_g b_g' + a_g v_g' + W_g a_g b_g'),   v = sum_g (v_g + W_g b_g),
    yy = sum_g (yy_g + 2 v_g b_g + W_g b_g^2),

its mean is ``c + s / W``, and the statistics about any centre ``m``
follow exactly (``d = m - c``):

    sum w (x - m)(x - m)' = S - s d' - d s' + W d d',
    sum w (x - m)(y - y_c)' / U = t - d v'.

``s_g`` is round-off, so the spread of a fold is a sum of positive
terms, its groups' spreads and the spread of their means: no digits
cancel, whatever the folds' means. (Sums about the data's mean instead
lost ``(offset / spread)**2`` of float64's digits in a column whose
training rows sit far from the held-out rows relative to their spread:
a column of spread 1e-9 in four folds of an unshuffled 5-fold split and
near 1 in the fifth's rows got that fold's spread wrong by orders of
magnitude, and its scores with it.)
A fold's sums, centred on its own weighted means, are what a Dask fit
reduces its blocks to, and :class:`skl0._streaming._Moments` builds the
fold's problem from them as it builds that one's: what
:meth:`skl0._base.BaseL0._fit_on_device` builds from the fold's rows, up
to round-off (the same power-of-two column scale, constant columns,
spread floor, shift, standardization and target encoding). Only for a
dense host X with more rows than columns, no column past 2**200 or under
2**-200, no fold training on a row twice and at most :data:`MAX_GROUPS`
groups; otherwise the folds prepare their own rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._checks import numeric_target
from ._numerics import column_scale, power_of_two_scale, weighted_extremes
from ._problem import _f64_buffer, weighted_cross

__all__ = ["FoldStatistics", "MAX_GROUPS"]

#: The most groups of rows (distinct sets of folds training on a row) for
#: which the folds share sums: KFold gives one per fold, ShuffleSplit one
#: more (rows in no held-out part); leave-one-out gives one per row.
MAX_GROUPS = 64


class _Shape:
    """What a fold's fit reads of its X when its problem comes from :class:`FoldStatistics`.

    Shape and dtype only: reading its values fails loudly (``__array__``),
    so no part of the fit can silently use rows it was not given.
    """

    def __init__(self, n, p, dtype):
        self.shape, self.dtype, self.ndim = (n, p), dtype, 2

    def __len__(self):
        return self.shape[0]

    def __array__(self, *args, **kwargs):
        raise TypeError("a fold fitted from shared statistics has no rows to read")


class RowStatistics:
    """The sums of one set of rows (a fold's training rows, or all), and how to build its problem.

    ``W``, ``s``, ``S``, ``t``, ``v``, ``yy``: the module docstring's sums
    about the centre ``c0`` (``y0`` for the targets, in the unit ``U``),
    ``lo``/``hi`` the columns' and ``y_lo``/``y_hi`` the scaled targets'
    extremes (rows of positive weight).
    """

    def __init__(self, sums, centre, y_range, n_rows, shared):
        self.W, self.s, self.S, self.t, self.v, self.yy, self.lo, self.hi = sums
        self.y_lo, self.y_hi = y_range
        self.n_rows = n_rows
        # (c0, y0: the rows' centre, near their weighted means; see the module's docstring)
        self.c0, self.y0 = centre
        self.unit, self.dtype = shared.unit, shared.dtype

    def gram_problem(self, est, datafit, dtype, device):
        """The fit's :class:`skl0._problem.GramProblem`, with its export (``_x_scale``, ``_x_shift``,
        ``_y_mean``, ``_y_std``) set on ``est``.

        The sums, centred on the rows' own weighted means, are what a Dask
        fit reduces its blocks to: :class:`skl0._streaming._Moments` builds
        the problem from them by ``fit``'s rules (spread floor, constant
        columns, shift, target encoding), after the columns past 2**16 or
        under 2**-16 in these rows are divided by the powers of two that
        ``_prepare_on_host`` divides them by (exact: so are the sums).
        """
        from ._streaming import _exponent, _Moments

        W, s, v = self.W, self.s, self.v
        moments = _Moments.from_centred(
            W, self.c0 + s / W, self.S - np.outer(s, s) / W, self.y0 / self.unit + v / W,
            self.t - np.outer(s, v) / W, self.yy - v * v / W, (self.lo, self.hi),
            (self.y_lo, self.y_hi))
        moments.rows = self.n_rows
        scale = column_scale(np.empty((1, s.size)), extremes=(self.lo, self.hi))
        if scale is not None:
            moments.rescale(_exponent(scale) - 1, np.zeros(v.size, dtype=np.intc))
        # (the spread floor of weighted_moments: X's dtype, not the computation's)
        problem, y_mean, y_std, est._x_shift = moments.problem(datafit, dtype, device,
                                                                floor_dtype=self.dtype)
        est._x_scale = scale
        est._y_mean, est._y_std = y_mean * self.unit, y_std * self.unit
        return problem


class FoldStatistics:
    """Sums of X's rows grouped by the folds that train on them (see the module's docstring).

    Build with :meth:`build`, which returns None where the folds must
    prepare their own rows. ``fold(i)`` and ``whole()`` give the
    :class:`RowStatistics` of fold ``i``'s training rows and of all rows.
    """

    @classmethod
    def build(cls, X, y, sw, splits):
        """The shared sums, or None where they do not apply (see the module's docstring).

        ``splits``: ``(train, test)`` pairs of row numbers (:func:`skl0._cv.cv_splits`).
        """
        n, p = X.shape
        if not isinstance(X, np.ndarray) or n <= p:
            return None
        trains = [train for train, _test in splits]  # (row numbers: cv_splits')
        for rows in trains:
            if rows.size <= p or np.bincount(rows, minlength=n).max() > 1:
                return None  # (the fold fits on rows, or trains on a row twice)
        if len(trains) > 62:
            return None
        code = np.zeros(n, dtype=np.int64)
        for i, rows in enumerate(trains):
            code[rows] |= np.int64(1) << i
        if len(trains) <= 16:  # (a table of the codes: one pass, no sort)
            keys = np.flatnonzero(np.bincount(code, minlength=1 << len(trains)))
            lookup = np.zeros(1 << len(trains), dtype=np.intp)
            lookup[keys] = np.arange(keys.size)
            group = lookup[code]
        else:
            keys, group = np.unique(code, return_inverse=True)
        # Memory: the groups' p x p sums, at most X's size (each fold's copy
        # of its rows, 0.8 of X for 5 folds, is what they replace).
        if keys.size > MAX_GROUPS or keys.size * p * p * 8 > X.nbytes:
            return None
        # Columns whose squares could overflow or underflow float64 sums
        # (|x| past 2**200 or under 2**-200): each fold scales its own rows.
        # (Past 2**16 or under 2**-16 the sums are divided by the fold's
        # powers of two, as its rows would be.)
        if column_scale(X, low=2.0**-200, high=2.0**200,
                        extremes=(np.min(X, axis=0), np.max(X, axis=0))) is not None:
            return None
        return cls(X, y, sw, trains, keys, group)

    def __init__(self, X, y, sw, trains, keys, group):
        n, p = X.shape
        w = np.asarray(sw, dtype=np.float64)
        Y = numeric_target(y, "L0RegressorCV").reshape(n, -1).astype(np.float64, copy=False)
        pos = w > 0
        self.unit = power_of_two_scale(np.max(np.abs(Y[pos]), axis=0))
        # Rows of weight 0 count as targets 0, as the fits encode them: their
        # y / U could overflow (U is set by the others), and inf * 0 is NaN.
        Yu = np.divide(Y, self.unit, out=np.zeros_like(Y), where=pos[:, None])
        self.trains, self.keys, self.dtype = trains, keys, X.dtype
        q = Y.shape[1]
        G = keys.size
        # Each group's weights in a power-of-two unit of its largest (exact,
        # 1 for weights up to 2): w x x' of weights near 1e300 overflowed
        # (a fit on the rows divides its weights by their total first).
        wmax = np.zeros(G)
        np.maximum.at(wmax, group, w)
        self._wunit = np.where(wmax > 0, power_of_two_scale(wmax) / 2, 1.0)
        w = w / self._wunit[group]
        W = np.zeros(G)
        cg = np.zeros((G, p))  # (the groups' weighted means: sums first)
        yg = np.zeros((G, q))
        s = np.zeros((G, p))
        S = np.zeros((G, p, p))
        t = np.zeros((G, p, q))
        v = np.zeros((G, q))
        yy = np.zeros((G, q))
        lo = np.full((G, p), np.inf)
        hi = np.full((G, p), -np.inf)
        y_lo = np.full((G, q), np.inf)
        y_hi = np.full((G, q), -np.inf)
        buf, rows = _f64_buffer(X)
        # Rows in runs of a group, X then read in place as views of its
        # blocks, where they already come so (KFold's unshuffled groups: in
        # decreasing order of their codes, which the test of sorted groups
        # missed, gathering a copy of every block); otherwise in the order
        # of their group (a gathered block at a time).
        n_runs = np.count_nonzero(group[1:] != group[:-1]) + 1
        order = None if n_runs <= 2 * keys.size else np.argsort(group, kind="stable")
        gs = group if order is None else group[order]

        def runs():  # (block rows, then each group's run of rows in the block)
            for start in range(0, n, rows):
                idx = slice(start, start + rows) if order is None else order[start : start + rows]
                g_block = gs[start : start + rows]
                cuts = np.flatnonzero(np.diff(g_block)) + 1
                yield idx, g_block, zip(np.r_[0, cuts], np.r_[cuts, g_block.size])

        # The groups' weighted means, X read in place in its own order (a
        # block's rows summed into their groups by a one-hot matrix, not
        # gathered: a shuffled split's extra pass cost a copy of X).
        for start in range(0, n, rows):
            Xb = buf[: min(rows, n - start)]
            np.copyto(Xb, X[start : start + rows])  # (float64 blocks: no float64 copy of X)
            m = Xb.shape[0]
            wb, gb = w[start : start + m], group[start : start + m]
            onehot = sp.csr_matrix((wb, (gb, np.arange(m))), shape=(G, m))
            W += np.bincount(gb, weights=wb, minlength=G)
            cg += onehot @ Xb
            yg += onehot @ Yu[start : start + m]
        held = W > 0  # (a group of weight 0 adds nothing to any sum: centre 0)
        cg[held] /= W[held, None]
        yg[held] /= W[held, None]
        for idx, g_block, parts in runs():
            raw = X[idx]
            Xb = buf[: raw.shape[0]]
            wb, Yu_b = w[idx], Yu[idx]
            for a, b in parts:
                g = g_block[a]
                # (the extremes of the rows of positive weight, as a fit
                # without the others forms them: they set the column units)
                x_lo, x_hi = weighted_extremes(raw[a:b], wb[a:b])
                lo[g], hi[g] = np.minimum(lo[g], x_lo), np.maximum(hi[g], x_hi)
                np.subtract(raw[a:b], cg[g], out=Xb[a:b])
                Yb = Yu_b[a:b] - yg[g]
                s[g] += wb[a:b] @ Xb[a:b]
                v[g] += wb[a:b] @ Yb
                yy[g] += wb[a:b] @ (Yb * Yb)
                t_lo, t_hi = weighted_extremes(Yu_b[a:b], wb[a:b])
                y_lo[g], y_hi[g] = np.minimum(y_lo[g], t_lo), np.maximum(y_hi[g], t_hi)
                S_b, t_b = weighted_cross(Xb[a:b], wb[a:b], Yb)  # (overwrites Xb[a:b])
                S[g] += S_b
                t[g] += t_b
        self._sums = (W, s, S, t, v, yy, lo, hi, y_lo, y_hi)
        self._centres = (cg, yg)

    @np.errstate(under="ignore")  # tiny weights times values round to subnormals or 0 (expected)
    def _total(self, member, n_rows):
        """The sums of the groups in ``member``, moved to their weighted mean (the docstring's)."""
        W, s, S, t, v, yy, lo, hi, y_lo, y_hi = (a[member] for a in self._sums)
        cg, yg = (a[member] for a in self._centres)
        # In the unit of the groups' largest (W, s, S, t, v and yy alike: the
        # problem built from them reads only their ratios to W).
        r = self._wunit[member] / self._wunit[member].max()
        W, s, v, yy = W * r, s * r[:, None], v * r[:, None], yy * r[:, None]
        S, t = S * r[:, None, None], t * r[:, None, None]
        Wf = W.sum()
        c, yc = (W @ cg) / Wf, (W @ yg) / Wf
        a, b = cg - c, yg - yc
        Wa = W[:, None] * a
        sums = (Wf, s.sum(0) + Wa.sum(0), S.sum(0) + s.T @ a + a.T @ s + Wa.T @ a,
                t.sum(0) + s.T @ b + a.T @ v + Wa.T @ b, v.sum(0) + W @ b,
                yy.sum(0) + 2 * (v * b).sum(0) + W @ (b * b), lo.min(0), hi.max(0))
        return RowStatistics(sums, (c, yc * self.unit), (y_lo.min(0), y_hi.max(0)), n_rows,
                             self)

    def fold(self, i):
        """The sums of fold ``i``'s training rows."""
        return self._total((self.keys >> i) & 1 == 1, self.trains[i].size)

    def whole(self, n_rows):
        """The sums of all the rows (the final fit's)."""
        return self._total(np.ones(self.keys.size, dtype=bool), n_rows)

    def stand_in(self, i, p):
        """What fold ``i``'s fit takes as X: its shape and dtype, no values."""
        return _Shape(self.trains[i].size, p, self.dtype)
