"""Warnings that point at the user's line, not into skl0 or scikit-learn.

A fixed ``stacklevel`` cannot do that in skl0: the same check runs below a
plain ``fit``, below scikit-learn's ``_fit_context`` wrapper, a Pipeline,
GridSearchCV, joblib's sequential backend or a Dask fit, each a different
number of frames deep. :func:`warn` counts the frames instead: it walks
out of skl0, scikit-learn and joblib and attributes the warning to the
first frame outside them (what ``warnings.warn``'s ``skip_file_prefixes``
does from Python 3.12 on), so ``python -W error`` and the "once per
location" filters see the caller's file and line.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings

__all__ = ["held", "held_result", "reissue", "warn"]


def _package_dirs(*names):
    """Directories of the installed packages ``names`` (found, not imported:
    ``skl0.nn`` imports this module without scikit-learn)."""
    dirs = [os.path.dirname(os.path.abspath(__file__))]
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            dirs.append(os.path.dirname(os.path.abspath(spec.origin)))
    # Each ends with a separator: "sklearn" must not also match "sklearn_extra".
    return tuple(d + os.sep for d in dirs)


#: Directories of the packages whose frames a warning skips.
_INTERNAL = _package_dirs("sklearn", "joblib")


def user_stacklevel():
    """The ``stacklevel`` of the first frame outside skl0, scikit-learn and joblib.

    Counted as ``warnings.warn`` called from the function that calls this
    one (level 1 would be that function itself). When every frame is
    internal (a worker thread's), the outermost frame.
    """
    frame, level = sys._getframe(2), 2  # the caller of our caller: level 2
    while frame.f_back is not None and _internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    return level


def _internal(filename):
    return os.path.abspath(filename).startswith(_INTERNAL)


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` at the user's line (:func:`user_stacklevel`)."""
    warnings.warn(message, category, stacklevel=user_stacklevel())


def held(fit, *args):
    """Run ``fit(*args)`` and return the warnings it issued instead of showing them.

    For fits of which only one is kept (the automatic head's two heads, the
    rounds of iterated screening): :func:`reissue` then shows the kept
    fit's, and a discarded fit's warnings, about a model the user never
    gets, are dropped.
    """
    return held_result(fit, *args)[1]


def held_result(fit, *args):
    """:func:`held` that also returns what ``fit(*args)`` returned: ``(result, warnings)``."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        result = fit(*args)
    return result, said


def reissue(said):
    """Issue warnings that :func:`held` kept back, where and as they were first issued."""
    for w in said:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
