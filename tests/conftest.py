import numpy as np
import pytest

from skl0.datasets import make_sparse_classification, make_sparse_regression


@pytest.fixture(scope="session")
def sparse_reg():
    """n=300, p=30, 4 true features, rho=0.5, SNR 3."""
    return make_sparse_regression(300, 30, 4, random_state=0)


@pytest.fixture(scope="session")
def sparse_clf():
    """n=600, p=30, 4 true features, rho=0.5."""
    return make_sparse_classification(600, 30, 4, random_state=0)


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture
def fit_records(monkeypatch):
    """Spy on a fit's records: ``BaseL0._fit_record`` (asserted to leave the
    estimator's attributes as it found them, the same objects) and
    ``BaseL0._install``. Returns a namespace of ``records`` (each record
    made), ``plans`` (the ``plan`` each was made with) and ``installs``.
    """
    from types import SimpleNamespace

    import skl0._base as base

    seen = SimpleNamespace(records=[], plans=[], installs=[])
    make_record, install = base.BaseL0._fit_record, base.BaseL0._install

    def unchanged(self, *args, **kwargs):
        before = dict(vars(self))
        out = make_record(self, *args, **kwargs)
        assert vars(self).keys() == before.keys()
        assert all(vars(self)[name] is value for name, value in before.items())
        seen.records.append(out)
        seen.plans.append(kwargs.get("plan"))
        return out

    def counted(self, fitted):
        seen.installs.append(fitted)
        return install(self, fitted)

    monkeypatch.setattr(base.BaseL0, "_fit_record", unchanged)
    monkeypatch.setattr(base.BaseL0, "_install", counted)
    return seen
