"""scipy's L-BFGS-B for the refits, without ``scipy.optimize.minimize``'s wrappers.

The log-loss refits of the swap search are many small unbounded L-BFGS-B
solves: on digits (1797 rows, 10 classes) ``lam="auto"`` ran about 3500
of them, some 70000 evaluations of 0.2 ms each. ``minimize`` adds about
0.5 ms a call (its ``ScalarFunction`` and the ``MemoizeJac`` around the
objective, set up anew for each solve) and tens of microseconds an
evaluation (the caches that compare ``x`` with the last point, copies,
an ``OptimizeResult`` each iteration): about a third of the time of
those refits. (The bounded gate solves of :mod:`skl0._engine` still call
``minimize``: driven the same way, small multinomial fits such as iris
and wine measured 0.8-1.3x their time, no gain, so they were left.)

:func:`lbfgsb` drives scipy's own L-BFGS-B routine (``setulb``, the same
compiled code ``minimize`` calls) with the loop of scipy's
``_minimize_lbfgsb``: the same start, the same point asked for and given
at each step, the same stopping rules (``maxiter``, ``maxfun``), so the
result is the same to the last bit (``tests/test_engine.py`` checks it
against ``minimize``). That loop and the routine's signature are scipy's
internals, so the lean driver is used only on the scipy versions it was
checked on (:data:`_CHECKED`); elsewhere :func:`lbfgsb` calls ``minimize``.

numpy and scipy only.
"""

from __future__ import annotations

import numpy as np
import scipy
from scipy.optimize import minimize

__all__ = ["lbfgsb"]

#: scipy (major, minor) versions whose ``_minimize_lbfgsb`` loop and
#: ``setulb`` signature :func:`_lean` follows (read from 1.17.1's source).
_CHECKED = {(1, 17)}

#: ``minimize``'s L-BFGS-B defaults that the refits leave as they are.
_MAXCOR, _MAXLS, _MAXFUN = 10, 20, 15000


def _routine():
    """scipy's compiled ``setulb`` where its driving loop is known, else None."""
    try:
        version = tuple(int(v) for v in scipy.__version__.split(".")[:2])
        from scipy.optimize import _lbfgsb
    except (ImportError, ValueError):
        return None
    return getattr(_lbfgsb, "setulb", None) if version in _CHECKED else None


_SETULB = _routine()


def lbfgsb(fun, x0, max_iter, gtol, ftol):
    """Minimise ``fun`` (``x -> (value, gradient)``) from ``x0`` without bounds: ``(x, nit)``.

    What ``minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter":
    max_iter, "gtol": gtol, "ftol": ftol})`` returns as ``res.x`` and
    ``res.nit``, the same numbers. ``x0``: a 1-d float64 array (not
    modified). An exception that ``fun`` raises propagates, as from
    ``minimize``.
    """
    if _SETULB is None:
        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": gtol, "ftol": ftol})
        return res.x, int(res.nit)
    return _lean(fun, x0, max_iter, gtol, ftol)


def _value(fx):
    """The objective's value as ``ScalarFunction`` keeps it (a true scalar)."""
    if not np.isscalar(fx):
        try:
            fx = np.asarray(fx).item()
        except (TypeError, ValueError) as e:
            raise ValueError("The objective must return a scalar value.") from e
    return fx


def _lean(fun, x0, max_iter, gtol, ftol):
    """:func:`lbfgsb` by ``setulb`` directly: scipy 1.17's ``_minimize_lbfgsb``, step for step."""
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    n, m = x0.size, _MAXCOR
    # The first evaluation, at (a copy of) the start: ScalarFunction's, on
    # which the routine's first request then falls.
    last = x0.copy()
    fx, gx = fun(last.copy())
    fx, gx, nfev = _value(fx), np.atleast_1d(gx), 1
    factr = ftol / np.finfo(float).eps
    nbd = np.zeros(n, np.int32)  # no bounds
    low, up = np.zeros(n, np.float64), np.zeros(n, np.float64)
    x = np.array(x0, dtype=np.float64)
    f = np.array(0.0, dtype=np.float64)
    g = np.zeros((n,), dtype=np.float64)
    wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m, np.float64)
    iwa = np.zeros(3 * n, dtype=np.int32)
    task = np.zeros(2, dtype=np.int32)
    ln_task = np.zeros(2, dtype=np.int32)
    lsave = np.zeros(4, dtype=np.int32)
    isave = np.zeros(44, dtype=np.int32)
    dsave = np.zeros(29, dtype=np.float64)
    nit = 0
    while True:
        g = g.astype(np.float64)
        _SETULB(m, x, low, up, nbd, f, g, factr, gtol, wa, iwa, task, lsave, isave, dsave,
                _MAXLS, ln_task)
        if task[0] == 3:  # f and g wanted at x
            if not np.array_equal(x, last):  # (a new point: evaluated on a copy)
                last = x.astype(np.float64)
                fx, gx = fun(last.copy())
                fx, gx = _value(fx), np.atleast_1d(gx)
                nfev += 1
            f, g = fx, gx
        elif task[0] == 1:  # a new iteration
            nit += 1
            if nit >= max_iter:
                task[0], task[1] = 5, 504
            elif nfev > _MAXFUN:
                task[0], task[1] = 5, 502
        else:
            break
    return x, nit
