"""skl0: L0 regularization with Hard Concrete gates for scikit-learn.

Estimators: :class:`L0Regressor`, :class:`L0Classifier`,
:class:`L0FeatureSelector`, and their cross-validated versions
:class:`L0RegressorCV`, :class:`L0ClassifierCV`, :class:`L0FeatureSelectorCV`.
Paths: :func:`l0_path` (an :class:`L0Path`). Groups of one-hot columns:
:func:`groups_from_column_transformer`. Torch building blocks: :mod:`skl0.nn`.

The public names load on first use (PEP 562), as scikit-learn's
submodules do: ``import skl0`` and the ``skl0`` command's ``--help`` and
argument errors do not pay for importing torch and scikit-learn. So do the
public submodules (``skl0.nn``, ``skl0.datasets``, ``skl0.plot``,
``skl0.calibration``, ``skl0.l0``): ``import skl0`` then
``skl0.datasets.make_sparse_regression(...)`` works, as with scikit-learn.

The estimators' modules import torch and the training code only when a
fit starts (``skl0._base.bind_training``): unpickling a fitted model (whose pickle names
``skl0._regressor.L0Regressor``, say) and predicting with it never
imports torch. Looking up an estimator here (``from skl0 import
L0Regressor``) does import them and runs a few warm-up fits, so that the
first fit of a process costs what the next ones do.
"""

import importlib as _importlib

__version__ = "0.1.0"

# Public name -> module that defines it.
_WHERE = {
    "L0Classifier": "._classifier",
    "L0Regressor": "._regressor",
    "L0FeatureSelector": "._selector",
    "L0ClassifierCV": "._cv",
    "L0RegressorCV": "._cv",
    "L0FeatureSelectorCV": "._selector_cv",
    "L0Path": "._l0_path",
    "l0_path": "._l0_path",
    "groups_from_column_transformer": "._column_groups",
}

#: Public submodules, imported on first attribute access (not in __all__:
#: ``from skl0 import *`` gives the names above, as scikit-learn's does).
_SUBMODULES = ("calibration", "datasets", "l0", "nn", "plot")

__all__ = [*_WHERE, "__version__"]


#: The public names that fit models: their first lookup also imports torch
#: and the training core and warms them up (skl0._base.prepare_training),
#: which their modules do not do, so that unpickling a fitted model and
#: predicting with it never imports torch.
_TRAINS = frozenset(_WHERE) - {"groups_from_column_transformer"}


def __getattr__(name):
    if name in _WHERE:
        value = getattr(_importlib.import_module(_WHERE[name], __name__), name)
        if name in _TRAINS:
            _importlib.import_module("._base", __name__).prepare_training()
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _SUBMODULES:  # (the import binds it in this module's namespace)
        return _importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'skl0' has no attribute {name!r}")


def __dir__():
    # (dunders kept, private helpers such as _importlib left out)
    return sorted({*(n for n in globals() if not n.startswith("_") or n.startswith("__")),
                   *_WHERE, *_SUBMODULES})
