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
