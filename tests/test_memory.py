"""Peak memory of fits and queries: no hidden copy of X.

numpy's allocations are measured by ``tracemalloc``; torch's (which
``tracemalloc`` does not see) by the autograd profiler's memory events:
the largest block any one torch operation allocated.
"""

import numpy as np
import pytest
import torch

from skl0 import L0Classifier


def _largest_torch_allocation(fn):
    """Bytes of the largest block one torch operation allocated while ``fn()`` ran."""
    with torch.autograd.profiler.profile(profile_memory=True, use_kineto=False) as prof:
        fn()
    return max([e.cpu_memory_usage for e in prof.function_events] or [0])


def test_columns_of_a_fortran_ordered_tensor_are_gathered_without_a_copy_of_it():
    from skl0._heads import select_columns

    X = torch.as_tensor(np.asfortranarray(np.random.RandomState(0).randn(2000, 100)))
    cols = torch.tensor([70, 3, 41])
    out = select_columns(X, cols)
    assert torch.equal(out, X.contiguous().index_select(1, cols)) and out.is_contiguous()
    assert _largest_torch_allocation(lambda: select_columns(X, cols)) < 0.1 * X.numel() * 8


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_fortran_ordered_x_is_not_copied_by_a_classifiers_refits(n_classes):
    # torch's index_select(1, cols) made a column-major X contiguous first:
    # every refit of a support copied all of X (1.0x X in one block; 96 MB
    # above X's 80 MB at n=5e4, p=200, against 18 MB for the C-ordered X).
    rng = np.random.RandomState(0)
    X = rng.randn(1500 if n_classes == 2 else 600, 200)
    y = np.digitize(X[:, 0] + X[:, 1], [0.0] if n_classes == 2 else [-0.5, 0.5])
    XF = np.asfortranarray(X)
    fit_c = L0Classifier(k=3, random_state=0).fit(X, y)
    fits = []
    big = _largest_torch_allocation(
        lambda: fits.append(L0Classifier(k=3, random_state=0).fit(XF, y)))
    assert big < 0.1 * X.nbytes
    # (the same model as for the C-ordered X, up to the order of numpy's sums)
    np.testing.assert_array_equal(fits[0].support_, fit_c.support_)
    np.testing.assert_allclose(fits[0].coef_, fit_c.coef_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fits[0].intercept_, fit_c.intercept_, rtol=1e-9, atol=1e-9)


def _traced_peak(fn):
    """numpy's peak traced memory while ``fn()`` ran, in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _sparse_bytes(X):
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes


@pytest.mark.parametrize("fmt, task", [("csr", "reg"), ("csc", "reg"), ("csc", "clf")])
def test_sparse_moments_and_statistics_take_blocks_not_copies(fmt, task):
    # The column spreads of a sparse X formed five float64 arrays of nnz
    # numbers at once (entries' columns, weights, deviations and two
    # products), scipy's row scaling went through a COO copy, and a CSC X
    # was copied to CSR and that copy back to CSC: 3.7 (CSR) and 4.8 (CSC)
    # times X in numpy's peak for a fit that adds a few p x p arrays.
    import scipy.sparse as sp

    from skl0 import L0Regressor

    rng = np.random.RandomState(0)
    X = sp.random(20000, 250, density=0.2, format=fmt, random_state=1)  # nnz 1e6, 12 MB
    y = np.asarray(X[:, :3].sum(1)).ravel() + 0.1 * rng.randn(20000)
    if task == "clf":
        est, target = L0Classifier(lam=0.02, random_state=0), (y > np.median(y)).astype(int)
    else:
        est, target = L0Regressor(k=3, random_state=0), y
    assert _traced_peak(lambda: est.fit(X, target)) < 2.2 * _sparse_bytes(X)
    np.testing.assert_array_equal(est.get_support(indices=True), [0, 1, 2])
