"""Whether an unpenalised logistic or multinomial log loss has a minimum.

Albert & Anderson (1984, Biometrika 71(1), "On the existence of maximum
likelihood estimates in logistic regression models") show that the
maximum likelihood estimate of a logistic model with an intercept exists
if and only if the classes overlap: no direction ``d`` of the coefficients
(intercept included) has ``s_i [x_i, 1] . d >= 0`` for every sample (``s_i``
its class as +-1) with at least one inequality strict. Along such a
direction no sample's log loss rises and some fall, so the loss has no
minimum: with every inequality strict the classes are *completely*
separated, with some samples on the boundary *quasi-completely*. The
multinomial case is the same with one margin per sample and other class
(Lesaffre & Albert 1989, JRSS B 51(1)): ``f_{i c_i} - f_{i j} >= 0`` along
``D`` for every sample ``i`` and class ``j != c_i``, one strict.

:func:`separating_direction` decides it by a linear program: maximise the
sum of those margins over directions in the box ``[-1, 1]``, subject to
each margin being non-negative. ``d = 0`` is feasible, so the optimum is
0 exactly when no such direction exists.
"""

from __future__ import annotations

import numpy as np

# The constraint matrix's largest size (stored numbers) for which the linear
# program is solved: HiGHS took 0.01 CPU s for 1000 x 11 and 0.85 s for
# 100000 x 11 (overlapping classes, one thread), so past about a million
# numbers the check would cost as much as an alpha=0 fit.
SEPARATION_CHECK_MAX_NUMBERS = 2**20

# A direction is accepted when every margin is at least -_SLACK times the
# largest it could be (HiGHS solves to an absolute feasibility tolerance of
# 1e-7) and one is above _STRICT times that.
_SLACK = 1e-7
_STRICT = 1e-6


def check_applies(n_rows, n_columns, n_classes):
    """Whether the linear program for ``n_rows`` samples and ``n_columns`` features is small enough."""
    per_row = n_columns + 1 if n_classes == 2 else 2 * (n_columns + 1) * (n_classes - 1)
    return n_rows * per_row <= SEPARATION_CHECK_MAX_NUMBERS


def separating_direction(X, codes, n_classes):
    """A direction along which no sample's log loss rises and some fall, or None.

    ``X`` (n, s): the samples' features (the rows of positive weight; any
    affine scaling of the columns gives the same answer, as the model has
    an intercept); ``codes`` (n,): each sample's class, ``0 .. n_classes -
    1``. Returns the direction as an ``(s + 1, n_classes - 1)`` array
    (the last row the intercept's; for more than two classes the last
    class's coefficients are held at 0, as only differences between
    classes count) where one exists, else None.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.intp)
    n, s = X.shape
    A = np.column_stack([X, np.ones(n)])  # each sample's features and the intercept's 1
    m = s + 1
    if n_classes == 2:
        M = np.where(codes == 1, 1.0, -1.0)[:, None] * A  # margin i: M[i] . d
    else:
        # One row per sample i and other class j: a_i in class c_i's block,
        # -a_i in class j's (the last class's block is dropped: held at 0).
        K1 = n_classes - 1
        i, j = np.nonzero(np.arange(n_classes)[None, :] != codes[:, None])
        c = codes[i]
        rows, cols, vals = [], [], []
        r = np.arange(i.size)
        for block, sign in ((c, 1.0), (j, -1.0)):
            keep = block < K1
            rows.append(np.repeat(r[keep], m))
            cols.append((block[keep, None] * m + np.arange(m)).ravel())
            vals.append((sign * A[i[keep]]).ravel())
        M = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(i.size, m * K1))
    objective = -np.asarray(M.sum(0)).ravel()
    res = linprog(objective, A_ub=-M, b_ub=np.zeros(M.shape[0]), bounds=(-1.0, 1.0),
                  method="highs")
    if res.status != 0 or res.x is None:
        return None
    d = res.x
    # Checked here in float64, not on the solver's word: every margin at
    # least -_SLACK and one above _STRICT times the largest a margin of a
    # direction of this size could be.
    margins = M @ d
    size = np.abs(d).max()
    bound = np.abs(A).sum(1).max() * size
    if not bound or margins.min() < -_SLACK * bound or margins.max() <= _STRICT * bound:
        return None
    return d.reshape(n_classes - 1, m).T if n_classes > 2 else d[:, None]
