"""Sparse survey calibration: a small weighted subset of records matching totals.

:class:`SparseCalibrator` chooses which records to keep (Hard Concrete gates
from :mod:`skl0.nn`) and their non-negative weights so that the weighted
sums of the kept records reproduce known population totals;
:func:`make_survey` generates a synthetic survey to try it on.
"""

from ._estimator import SparseCalibrator
from ._survey import make_survey

__all__ = ["SparseCalibrator", "make_survey"]
