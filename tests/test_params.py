"""Every hyperparameter is defined once, in skl0._params.PARAMS.

The estimators' signatures, validation constraints and docstrings come from
that table; l0_path keeps a written-out signature, checked here against it.
"""

import inspect
import re

import pytest
from sklearn.base import clone

import skl0
from skl0._params import (
    CLASSIFIER,
    CLASSIFIER_CV,
    CV,
    ESTIMATOR,
    PARAMS,
    SELECTOR,
    SELECTOR_CV,
)

SIGNATURES = [
    (skl0.L0Regressor, ESTIMATOR),
    (skl0.L0Classifier, CLASSIFIER),
    (skl0.L0FeatureSelector, SELECTOR),
    (skl0.L0RegressorCV, CV),
    (skl0.L0ClassifierCV, CLASSIFIER_CV),
    (skl0.L0FeatureSelectorCV, SELECTOR_CV),
]


@pytest.mark.parametrize("cls, names", SIGNATURES, ids=lambda c: getattr(c, "__name__", ""))
def test_signature_defaults_and_constraints_come_from_the_table(cls, names):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    star = names.index("*")
    assert [p.name for p in params] == [n for n in names if n != "*"]
    for i, p in enumerate(params):
        kind = p.POSITIONAL_OR_KEYWORD if i < star else p.KEYWORD_ONLY
        assert p.kind == kind, p.name
        assert p.default is PARAMS[p.name].default, p.name
    assert cls._parameter_constraints == {p.name: PARAMS[p.name].constraints for p in params}
    est = cls()
    assert est.get_params() == {p.name: PARAMS[p.name].default for p in params}
    assert clone(est).get_params() == est.get_params()


@pytest.mark.parametrize("cls, names", SIGNATURES, ids=lambda c: getattr(c, "__name__", ""))
def test_docstring_parameters_are_the_table_entries_in_signature_order(cls, names):
    # inspect.getdoc: Python 3.13 strips a docstring's indentation at compile
    # time (3.10-3.12 keep it), so read the text as help() and Sphinx do.
    doc = inspect.getdoc(cls)
    section = doc[doc.index("Parameters\n----------\n"):doc.index("Attributes\n----")]
    headers = re.findall(r"^(\w+) : ", section, flags=re.MULTILINE)
    assert headers == [n for n in names if n != "*"]
    for name in headers:
        assert "\n" + PARAMS[name].text() + "\n" in section, name
    assert "%(" not in doc


def test_written_defaults_are_the_defaults():
    for p in PARAMS.values():
        if p.shown is not None:
            assert eval(p.shown) == p.default, p.name
        assert f"default={p.shown or ''}" in p.header()


def test_generated_init_binds_like_a_written_one():
    est = skl0.L0Regressor(0.1, 3, max_iter=7)
    assert (est.lam, est.k, est.max_iter) == (0.1, 3, 7)
    with pytest.raises(TypeError, match="positional arguments"):
        skl0.L0Regressor(0.1, 3, 7)  # max_iter is keyword-only
    with pytest.raises(TypeError, match="lams"):
        skl0.L0Regressor(lams=[0.1])
    assert skl0.L0RegressorCV([0.1, 0.2]).lams == [0.1, 0.2]
    assert skl0.L0FeatureSelectorCV(task="regression").get_params()["task"] == "regression"


def test_l0_path_shares_the_table_defaults_and_constraints():
    sig = inspect.signature(skl0.l0_path).parameters
    shared = [n for n in sig if n in PARAMS]
    assert len(shared) >= 14
    # l0_path reads points off the path, unrefitted unless asked.
    differs = {"refit": False}
    for name in shared:
        assert sig[name].default == differs.get(name, PARAMS[name].default), name


@pytest.mark.parametrize("cls", [cls for cls, _ in SIGNATURES], ids=lambda c: c.__name__)
def test_fit_documents_its_arguments_from_the_table(cls):
    from skl0._params import FIT_PARAMS

    for name in ("X", "y", "sample_weight"):
        entry = FIT_PARAMS[name]
        assert entry.header() in cls.fit.__doc__ and entry.doc.splitlines()[-1] in cls.fit.__doc__
    for name in dir(cls):
        doc = getattr(getattr(cls, name, None), "__doc__", None) or ""
        assert "%(" not in doc, name


def test_no_public_docstring_keeps_a_placeholder():
    """Shared numpydoc text (skl0._numpydoc) is filled in everywhere it is asked for."""
    import importlib

    left = []
    for name in ("skl0", "skl0.nn", "skl0.l0", "skl0.calibration", "skl0.datasets", "skl0.plot"):
        module = importlib.import_module(name)
        for public in module.__all__:
            obj = getattr(module, public)
            docs = [(public, obj.__doc__)]
            if inspect.isclass(obj):
                docs += [(f"{public}.{m}", getattr(obj, m).__doc__) for m in dir(obj)
                         if not m.startswith("_") and callable(getattr(obj, m, None))]
            left += [where for where, doc in docs if doc and "%(" in doc]
    assert not left


def test_numpydoc_fill_indents_entries_and_takes_defaults_from_the_signature():
    from skl0._numpydoc import Entry, document

    def f(n=3, a=0.0, b=1.0):
        pass

    # Set, not a docstring: Python 3.13 would strip a docstring's indentation,
    # and this checks that the placeholder's indentation reaches every line.
    f.__doc__ = "Summary.\n\n        %(parameters)s\n        "
    document({"n": Entry("n", "int", "How many.")}, shared=Entry("a, b", "float", "Two at once."))(f)
    assert f.__doc__ == (
        "Summary.\n\n        Parameters\n        ----------\n        n : int, default=3\n"
        "            How many.\n        a, b : float\n            Two at once.\n        "
    )


def test_the_calibrator_takes_its_hyperparameters_from_its_table():
    from skl0.calibration import SparseCalibrator
    from skl0.calibration._params import CALIBRATOR
    from skl0.calibration._params import PARAMS as CAL

    params = list(inspect.signature(SparseCalibrator).parameters.values())
    assert [p.name for p in params] == [n for n in CALIBRATOR if n != "*"]
    assert params[0].kind == params[0].POSITIONAL_OR_KEYWORD
    assert all(p.kind == p.KEYWORD_ONLY for p in params[1:])
    assert SparseCalibrator().get_params() == {p.name: CAL[p.name].default for p in params}
    assert SparseCalibrator._parameter_constraints == {
        p.name: CAL[p.name].constraints for p in params
    }
    doc = inspect.getdoc(SparseCalibrator)  # indentation: Python 3.13 strips it
    for p in params:
        assert "\n" + CAL[p.name].text() + "\n" in doc, p.name


@pytest.mark.parametrize(
    ("call", "name"),
    [
        # scikit-learn's Interval(Integral, ...) takes True as 1: n_lams=True was a one-point path.
        (lambda X, y: skl0.l0_path(X, y, n_lams=True), "n_lams"),
        (lambda X, y: skl0.L0RegressorCV(n_lams=True).fit(X, y), "n_lams"),
        (lambda X, y: skl0.L0Regressor(k=True).fit(X, y), "k"),
        (lambda X, y: skl0.L0Regressor(max_iter=False).fit(X, y), "max_iter"),
        (lambda X, y: skl0.L0Regressor(batch_size=True).fit(X, y), "batch_size"),
    ],
)
def test_integer_hyperparameters_refuse_bools(call, name):
    from sklearn.utils._param_validation import InvalidParameterError

    from skl0.datasets import make_sparse_regression

    X, y, _, _ = make_sparse_regression(30, 4, 2, random_state=0)
    with pytest.raises(
        InvalidParameterError,
        match=rf"The '{name}' parameter of \w+ must be an int \(not a bool\) in the range "
        r"\[1, inf\).* Got (True|False) instead",
    ):
        call(X, y)


def test_integer_hyperparameters_take_numpy_integers():
    import numpy as np

    from skl0.datasets import make_sparse_regression

    X, y, _, _ = make_sparse_regression(30, 4, 2, random_state=0)
    assert len(skl0.l0_path(X, y, n_lams=np.int64(3), max_iter=np.int32(20))) == 3


def test_calibrator_integer_hyperparameters_refuse_bools():
    from sklearn.utils._param_validation import InvalidParameterError

    from skl0.calibration import SparseCalibrator

    est = SparseCalibrator(k=True)
    with pytest.raises(
        InvalidParameterError,
        match=r"'k' parameter of SparseCalibrator must be an int \(not a bool\).* Got True",
    ):
        est._validate_params()
    with pytest.raises(
        InvalidParameterError, match=r"'polish_iter' parameter .*\(not a bool\).* Got False"
    ):
        SparseCalibrator(polish_iter=False)._validate_params()


@pytest.mark.parametrize("cls", [c for c, _ in SIGNATURES], ids=lambda c: c.__name__)
def test_every_public_fitted_attribute_is_documented(cls):
    # The CV estimators set hidden_layer_sizes_ without documenting it.
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = X[:, 0] + 0.1 * rng.normal(size=60)
    if "Classifier" in cls.__name__:
        y = (y > 0).astype(int)
    est = cls(cv=3) if "CV" in cls.__name__ else cls()
    if "Selector" in cls.__name__:
        est.set_params(task="regression")
    est.fit(X, y)
    fitted = [a for a in vars(est) if a.endswith("_") and not a.startswith("_")]
    for name in fitted:
        assert re.search(rf"^{re.escape(name)} :", inspect.getdoc(cls), re.M), name


def _public_callables():
    """(where, obj) for every public name of the public modules, with the
    public methods that skl0 itself defines (not scikit-learn's)."""
    import importlib

    out, seen = [], set()
    for module_name in ("skl0", "skl0.nn", "skl0.l0", "skl0.calibration", "skl0.datasets",
                        "skl0.plot"):
        module = importlib.import_module(module_name)
        for public in module.__all__:
            obj = getattr(module, public)
            if not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{module_name}.{public}", obj))
            if inspect.isclass(obj):
                for name in dir(obj):
                    member = getattr(obj, name, None)
                    if (name.startswith("_") or not callable(member) or id(member) in seen
                            or not (getattr(member, "__module__", "") or "").startswith("skl0")):
                        continue
                    seen.add(id(member))
                    out.append((f"{module_name}.{public}.{name}", member))
    return out


def _parameter_entries(doc):
    """[(names, type)] of a numpydoc Parameters section, or None without one."""
    doc = inspect.cleandoc(doc or "")
    m = re.search(r"^Parameters\n-+\n(.*?)(?=^\w[\w ]*\n-+\n|\Z)", doc, re.S | re.M)
    if m is None:
        return None
    entries = []
    for line in m.group(1).splitlines():
        if not line.strip() or line[0].isspace():
            continue
        names, _, kind = line.partition(" : ")
        entries.append(([n.strip().lstrip("*") for n in names.split(",")], kind))
    return entries


def test_every_public_docstring_lists_its_signature_and_states_its_defaults():
    # make_group_regression, sample_gate and L0Linear.gated_parameters listed
    # parameters that have defaults without saying them.
    wrong = []
    for where, obj in _public_callables():
        entries = _parameter_entries(obj.__doc__)
        if entries is None:
            continue
        params = {n: p for n, p in inspect.signature(obj).parameters.items()
                  if n not in ("self", "cls")}
        documented = [n for names, _ in entries for n in names]
        if documented != list(params):
            wrong.append(f"{where}: documents {documented}, signature {list(params)}")
            continue
        for names, kind in entries:
            p = params[names[0]]
            if len(names) > 1 or p.default is p.empty:
                continue
            shown = re.search(r"default=(.+)$", kind)
            if shown is None:
                wrong.append(f"{where}: {names[0]} has default {p.default!r}, not stated")
            elif eval(shown.group(1)) != p.default:
                wrong.append(f"{where}: {names[0]} states {shown.group(1)}, is {p.default!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("cls, names", SIGNATURES, ids=lambda c: getattr(c, "__name__", ""))
def test_cached_param_names_are_scikit_learns_and_follow_each_init(cls, names):
    # The names are formed once per __init__ (not by inspect.signature at every
    # get_params): the same list scikit-learn forms, a new list each call, and
    # a subclass with an __init__ of its own gets its own names, also after the
    # base class's were cached.
    from sklearn.base import BaseEstimator

    expected = BaseEstimator._get_param_names.__func__(cls)
    assert cls._get_param_names() == expected == sorted(n for n in names if n != "*")
    cls._get_param_names().append("spoiled")
    assert cls._get_param_names() == expected

    class Narrower(cls):
        def __init__(self, lams=None):
            self.lams = lams

    class Inherits(cls):
        pass

    assert Narrower._get_param_names() == ["lams"]
    assert Narrower(lams=[1.0]).get_params() == {"lams": [1.0]}
    assert Inherits._get_param_names() == expected
    assert cls._get_param_names() == expected
