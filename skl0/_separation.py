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

Most fits need no program: by Stiemke's lemma (the alternative to the
system above) no such direction exists if and only if some weights
``lambda > 0``, one per margin, have ``M' lambda = 0`` (``M`` the margins'
rows). A fitted model gives weights that nearly do: ``lambda_ij = w_i
P_ij``, sample ``i``'s weight times its fitted probability of the other
class ``j`` (floored at ``_WEIGHT_FLOOR`` of their mean), for which
``M' lambda`` is minus the log loss's gradient (the score equations, up
to the floor). Where the smallest correction that cancels that
gradient (the least-norm ``delta`` with ``M' delta = -M' lambda``) leaves
every weight at least half of what it was, the classes overlap, and the
program is not solved (:func:`overlap_certified`). Near separation the
fitted probabilities of the separated samples' other classes are tiny, the
certificate fails, and the program decides.
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

# The floor of the certificate's starting weights, as a share of their mean
# (separating_direction).
_WEIGHT_FLOOR = 1e-3


def check_applies(n_rows, n_columns, n_classes):
    """Whether the linear program for ``n_rows`` samples and ``n_columns`` features is small enough."""
    per_row = n_columns + 1 if n_classes == 2 else 2 * (n_columns + 1) * (n_classes - 1)
    return n_rows * per_row <= SEPARATION_CHECK_MAX_NUMBERS


def _margins(X, codes, n_classes):
    """``(M, A, i, j)``: the margins' rows ``M`` (one per sample ``i`` and other class
    ``j``, in that order), ``A = [X, 1]``, and each row's sample and other class."""
    from scipy import sparse

    n, s = X.shape
    A = np.column_stack([X, np.ones(n)])  # each sample's features and the intercept's 1
    m = s + 1
    if n_classes == 2:
        M = np.where(codes == 1, 1.0, -1.0)[:, None] * A  # margin i: M[i] . d
        return M, A, np.arange(n), 1 - codes
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
    return M, A, i, j


def overlap_certified(M, weights, bound):
    """Whether ``weights`` (> 0, one per row of ``M``) corrected to ``M' lambda = 0`` stay positive.

    The least-norm correction ``delta = -M (M'M)^+ M' weights`` (through the
    small ``M'M``): where ``lambda = weights + delta >= weights / 2`` row by
    row, ``lambda > 0`` has ``M' lambda = e``, a residual of round-off, and
    by Stiemke's lemma no direction ``d`` has every margin ``>= 0`` and one
    ``> 0``. Made exact for the test that matters: such a ``d`` in the box
    ``[-1, 1]`` would have ``lambda' M d = e' d <= ||e||_1``, so none has a
    margin above ``||e||_1 / min(lambda)``; the certificate holds only where
    that is below ``_STRICT`` times ``bound`` (the largest margin a
    direction in the box can have, :func:`separating_direction`'s threshold).
    """
    r = np.asarray(M.T @ weights).ravel()
    MtM = M.T @ M
    MtM = MtM.toarray() if hasattr(MtM, "toarray") else np.asarray(MtM)
    lam = weights - np.asarray(M @ (np.linalg.pinv(MtM, hermitian=True) @ r)).ravel()
    if not np.all(lam >= 0.5 * weights):
        return False
    # The residual as computed, plus a bound on that product's own round-off.
    e = np.abs(np.asarray(M.T @ lam).ravel()).sum()
    e += 1e-14 * np.asarray(abs(M).T @ lam).sum()
    return bool(e < _STRICT * bound * lam.min())


def separating_direction(X, codes, n_classes, P=None, w=None):
    """A direction along which no sample's log loss rises and some fall, or None.

    ``X`` (n, s): the samples' features (the rows of positive weight; any
    affine scaling of the columns gives the same answer, as the model has
    an intercept); ``codes`` (n,): each sample's class, ``0 .. n_classes -
    1``. ``P`` (n, n_classes) and ``w`` (n,): a fitted model's class
    probabilities and the samples' weights, or None: where given, the
    linear program is skipped when they certify that the classes overlap
    (:func:`overlap_certified`). Returns the direction as an ``(s + 1,
    n_classes - 1)`` array (the last row the intercept's; for more than two
    classes the last class's coefficients are held at 0, as only
    differences between classes count) where one exists, else None.
    """
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.intp)
    M, A, i, j = _margins(X, codes, n_classes)
    m = X.shape[1] + 1
    bound = np.abs(A).sum(1).max()  # the largest margin of a direction in [-1, 1]
    if P is not None:
        weights = np.asarray(w, dtype=np.float64)[i] * np.asarray(P, dtype=np.float64)[i, j]
        # Floored at _WEIGHT_FLOOR of their mean: a confidently classified
        # sample's weight (P of another class 1e-6 to 1e-30 on the data sets
        # measured) would leave the round-off test's smallest weight tiny.
        # Any positive weights are a valid start; this one only changes how
        # often the certificate holds (which data need the program).
        weights = np.maximum(weights, _WEIGHT_FLOOR * weights.mean())
        if np.all(weights > 0) and overlap_certified(M, weights, bound):
            return None
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
    bound *= np.abs(d).max()
    if not bound or margins.min() < -_SLACK * bound or margins.max() <= _STRICT * bound:
        return None
    return d.reshape(n_classes - 1, m).T if n_classes > 2 else d[:, None]
