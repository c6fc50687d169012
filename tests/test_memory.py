"""Peak memory of fits and queries: no hidden copy of X.

numpy's allocations are measured by ``tracemalloc``; torch's (which
``tracemalloc`` does not see) by the autograd profiler's memory events:
the largest block any one torch operation allocated.
"""

import numpy as np
import pytest
import torch

import skl0._host_design as host_design
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


def test_sparse_default_classifier_makes_its_reading_after_scoring_the_path(monkeypatch):
    # lam="auto" on a CSR X past the dense copy: the swap search reads X's
    # entries through a CSC copy (_SparseStandardized), made when the
    # refits were made, before the path's points were scored by refits of
    # their own dense columns. Both alive at once: 2.18x X's size at the
    # peak, against 1.90x before the reading existed. Now the reading is
    # made when the search first reads it.
    import scipy.sparse as sp

    import skl0._splice_multinomial as spm

    made = []
    original = spm._SparseStandardized.__init__

    def spy(self, problem):
        made.append(True)
        original(self, problem)

    monkeypatch.setattr(spm._SparseStandardized, "__init__", spy)
    rng = np.random.RandomState(0)
    X = sp.random(20000, 250, density=0.2, format="csr", random_state=1)  # nnz 1e6, 12 MB
    y = np.asarray(X[:, :3].sum(1)).ravel() + 0.1 * rng.randn(20000)
    est = L0Classifier(random_state=0)
    assert _traced_peak(lambda: est.fit(X, (y > np.median(y)).astype(int))) < 2.0 * _sparse_bytes(X)
    assert made  # (the search read the entries)
    np.testing.assert_array_equal(est.get_support(indices=True), [0, 1, 2])


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_weighted_squares_take_blocks_not_a_copy_of_x(fmt, dtype, monkeypatch):
    # IRLS on a large sparse X sums w @ X and w @ (X * X) at every step;
    # X.multiply(X) copied all of X's entries (99 MB at 40000 x 20000
    # text-like, which made an exact-k fit's peak 1.65x that of the joint
    # solve), and X.T @ w a float32 X's data as float64. Blocks of the stored
    # entries give the same sums; a non-canonical X (duplicate entries, whose
    # squares are not the square of their sum) takes the copies.
    import scipy.sparse as sp

    import skl0._problem as problem_module

    rng = np.random.RandomState(0)
    X = sp.random(4000, 300, density=0.05, format=fmt, random_state=1, dtype=dtype)
    X.data -= dtype(0.3)
    w = rng.uniform(0.0, 1.0, 4000)
    expect = np.asarray(X.astype(np.float64).multiply(X.astype(np.float64)).T @ w).ravel()
    monkeypatch.setattr(problem_module, "_SPARSE_BLOCK_ENTRIES", 1000)
    xw, sq = problem_module.weighted_sums(X, w)
    np.testing.assert_allclose(sq, expect, rtol=1e-12 if dtype == np.float64 else 1e-6)
    np.testing.assert_allclose(xw, np.asarray(X.astype(np.float64).T @ w).ravel(),
                               rtol=1e-12 if dtype == np.float64 else 1e-6)
    assert _traced_peak(lambda: problem_module.weighted_sums(X, w)) < 0.3 * _sparse_bytes(X)
    dup = sp.csr_matrix((np.array([1.0, 2.0]), np.array([0, 0]), np.array([0, 2, 2])),
                        shape=(2, 3))
    np.testing.assert_array_equal(problem_module.weighted_sums(dup, np.ones(2))[1], [9, 0, 0])


def _wide_sparse_design(n=200, p=8000):
    """``(design, d)``: the IRLS design of a sparse binary problem too large
    for a dense host copy (n p > 2^20 cells), and row weights."""
    import scipy.sparse as sp

    from skl0._datafits import BinaryLogLoss
    from skl0._host_design import _HostDesign
    from skl0._problem import DirectProblem, sparse_to_torch, weighted_moments

    rng = np.random.RandomState(0)
    host = sp.random(n, p, density=0.01, format="csr", random_state=1)
    w = torch.full((n,), 1.0 / n, dtype=torch.float64)
    mean, std = weighted_moments(torch.as_tensor(host.toarray()), w)
    y = torch.as_tensor((rng.rand(n) < 0.5).astype(float))
    problem = DirectProblem(sparse_to_torch(host, "cpu", torch.float64), y, w, mean, std,
                            BinaryLogLoss(), host=host)
    design = _HostDesign(problem)
    assert design.Xs is None  # (X itself, not a dense copy)
    return design, rng.uniform(0.0, 0.25, n)


def test_a_sparse_designs_gram_columns_are_formed_in_bounded_blocks():
    # IRLS's Gram columns of a sparse X were formed all at once, as many as
    # the vertex search asked for (a cold start's 512): the p x m product
    # and two more p x m temporaries (X'Z - mean (1'Z)', its scaling, and
    # the centring's outer product), then the buffer grown while they were
    # alive: 3.1 times the p x 512 columns kept, 172 MB at n=1000, p=2e4.
    # Now the buffer first, then blocks of a bounded size.
    from skl0._host_design import _LazyGram

    design, d = _wide_sparse_design()
    J = np.arange(512)
    lazy = _LazyGram(design, d, 0.5)
    peak = _traced_peak(lambda: lazy._slots(J))
    kept = lazy.buf.nbytes  # (p x 512 float64: 33 MB)
    assert kept == 512 * 8000 * 8
    assert peak < 1.4 * kept
    # The columns are those of the whole product, to the bit (one block).
    whole = _LazyGram(design, d, 0.5)

    mp = pytest.MonkeyPatch()
    mp.setattr(host_design, "_COLUMN_BLOCK_NUMBERS", 1 << 40)
    try:
        assert len(design.column_blocks(J)) == 1
        np.testing.assert_array_equal(whole.columns(J), lazy.columns(J))
    finally:
        mp.undo()


def test_a_lazy_gram_block_is_gathered_without_whole_rows():
    # G[rows][:, cols] took the cols' whole p-long rows first (a copy of
    # len(cols) x p) and then the rows: twice the block's size, and a search's
    # G[S][:, S] took s x p numbers for an s x s block.
    from skl0._host_design import _LazyGram
    from skl0._vertex import _gram_block

    design, d = _wide_sparse_design()
    lazy = _LazyGram(design, d, 0.5)
    S = np.arange(0, 1024, 2)
    C = np.setdiff1d(np.arange(8000), S)
    lazy._slots(S)
    out = []
    peak = _traced_peak(lambda: out.append(_gram_block(lazy, C, S)))
    assert out[0].shape == (C.size, S.size) and out[0].flags.f_contiguous
    assert peak < 1.2 * out[0].nbytes
    np.testing.assert_array_equal(out[0], lazy.buf[lazy.slot[S]][:, C].T)
    peak = _traced_peak(lambda: _gram_block(lazy, S[:50], S[:50]))
    assert peak < 0.05 * lazy.buf.nbytes


def test_the_forms_of_closed_columns_can_overwrite_their_gram_block():
    # The vertex search's C L^-T (the forms of its closed columns) was a second
    # array of the size of G[C][:, S], p x s: 82 MB at p=2e4, s=512.
    from scipy.linalg import cholesky

    from skl0._linalg import inverse_diagonal_and_forms

    rng = np.random.RandomState(0)
    A = rng.randn(600, 300)
    L = np.asfortranarray(cholesky(A.T @ A + np.eye(300), lower=True))
    C = np.asfortranarray(rng.randn(4000, 300))
    diag, forms = inverse_diagonal_and_forms(L, C.copy(order="F"))
    work = C.copy(order="F")
    out = []
    peak = _traced_peak(lambda: out.append(inverse_diagonal_and_forms(L, work, overwrite=True)))
    assert peak < 0.25 * C.nbytes
    np.testing.assert_array_equal(out[0][0], diag)
    np.testing.assert_array_equal(out[0][1], forms)


def test_a_wide_sparse_classifier_fit_holds_two_copies_of_its_gram_columns():
    # A fixed-lam binary fit on a wide sparse X (IRLS on X itself: at most 4
    # rows per column) opens 512 gates cold, whose p x 512 Gram columns it
    # keeps; the search's blocks added 1.2 times those (a block's whole rows,
    # its forms' copy, the buffer doubled while the old one lived): 2.15
    # times them at n=200, p=8000 (71 MB for a 0.2 MB X of 0/1 values), now 1.55.
    import scipy.sparse as sp

    n, p = 200, 8000
    X = sp.random(n, p, density=0.01, format="csr", random_state=1, data_rvs=np.ones)
    rng = np.random.RandomState(0)
    y = (np.asarray(X[:, :5].sum(1)).ravel() + 0.3 * rng.randn(n) > 0.5).astype(int)
    est = L0Classifier(lam=0.01, random_state=0)
    assert _traced_peak(lambda: est.fit(X, y)) < 1.8 * p * 512 * 8
    assert 0 < est.get_support().sum() < 50


@pytest.mark.parametrize("fmt, bound", [("csr", 2.8), ("csc", 3.3)])
def test_a_sparse_chunks_weighted_rows_share_its_indices(fmt, bound):
    # partial_fit's exact mode weighted a sparse chunk's rows with scipy's
    # multiply (a COO copy of the chunk, the gathered weights, the product,
    # then its CSR copy) after an astype copy of a float64 chunk, and a CSC
    # chunk's X' Xw converted Xw to CSC: 3.7 (CSR) and 4.0 (CSC) times the
    # chunk's stored size, now 2.3 and 2.9 (the weighted values, and one
    # transposed copy for the product).
    import scipy.sparse as sp

    from skl0 import L0Regressor

    rng = np.random.RandomState(0)
    X = sp.random(100000, 200, density=0.02, format=fmt, random_state=1, data_rvs=np.ones)
    y = np.asarray(X[:, :3].sum(1)).ravel() + 0.1 * rng.randn(100000)
    sw = rng.uniform(0.5, 2.0, 100000)
    est = L0Regressor(k=3, random_state=0)
    assert _traced_peak(lambda: est.partial_fit(X, y, sample_weight=sw)) < bound * _sparse_bytes(X)
    np.testing.assert_array_equal(est.get_support(indices=True), [0, 1, 2])


def test_the_inverse_factor_is_not_copied_to_clear_its_upper_triangle():
    # np.tril(L^-1) made a second s x s array beside L^-1: at a vertex
    # search's cold start on 2000 sparse columns (5000 rows, 1%), a fit's
    # numpy peak went 8.05 -> 6.95 p x p arrays without it.
    from scipy.linalg import cholesky

    from skl0._linalg import inverse_diagonal_and_forms, inverse_root

    rng = np.random.RandomState(0)
    A = rng.randn(900, 400)
    gram = A.T @ A + np.eye(400)
    L = np.asfortranarray(cholesky(gram, lower=True))
    C = np.asfortranarray(rng.randn(3, 400))
    square = 400 * 400 * 8
    out = []
    assert _traced_peak(lambda: out.append(inverse_diagonal_and_forms(L, C))) < 1.5 * square
    assert _traced_peak(lambda: out.append(inverse_root(gram))) < 2.5 * square  # (L and L^-1)
    inv = np.linalg.inv(gram)
    np.testing.assert_allclose(out[0][0], np.diag(inv), rtol=1e-10)
    R = out[1]
    assert np.all(np.triu(R, 1) == 0)
    np.testing.assert_allclose(R.T @ R, inv, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("task, size", [("binary", 100), ("binary", 300), ("multinomial", 300)])
def test_a_sparse_xs_log_loss_refit_does_not_make_its_columns_dense(task, size):
    # lam="auto" refits every path point of up to max_support_size columns;
    # on a sparse X each refit made its columns dense (n x |S| float64, and
    # for Newton's Hessian (|S| <= 128) a weighted copy, for the multinomial
    # objective a weighted copy too): 31-94 times X's bytes here, 12 times
    # (binary) and 50 times (3 classes) in a default fit of a 20000 x 2000
    # CSR X of density 1%. Past _DENSE_SUPPORT_NUMBERS the refit reads the
    # sparse columns (SparseColumns); the same refit up to round-off.
    import scipy.sparse as sp

    import skl0._refit as refit
    from skl0._datafits import BinaryLogLoss, MultinomialLogLoss
    from skl0._problem import DirectProblem, sparse_to_torch, weighted_moments

    rng = np.random.RandomState(0)
    n, p = 12000, 400  # (n x 100 dense columns: 1.2e6 numbers, past the 2^20 kept dense)
    host = sp.random(n, p, density=0.01, format="csr", random_state=1)
    w = torch.full((n,), 1.0 / n, dtype=torch.float64)
    mean, std = (torch.as_tensor(a) for a in weighted_moments(host, w.numpy()))
    eta = 3.0 * np.asarray(host[:, :5].sum(1)).ravel() + rng.randn(n)
    if task == "binary":
        y, datafit = torch.as_tensor((eta > 0.1).astype(float)), BinaryLogLoss()
    else:
        y, datafit = torch.as_tensor(np.digitize(eta, [0.0, 1.0])), MultinomialLogLoss(3)
    problem = DirectProblem(sparse_to_torch(host, "cpu", torch.float64), y, w, mean, std,
                            datafit, host=host)
    support = np.arange(size)
    fitted = []
    peak = _traced_peak(
        lambda: fitted.append(refit.refit_linear_head(problem, support, alpha=1e-4)))
    assert peak < 4 * _sparse_bytes(host)  # (the dense columns alone: 16-48 times)
    # The refit of the dense columns, to round-off.
    mp = pytest.MonkeyPatch()
    mp.setattr(refit, "_DENSE_SUPPORT_NUMBERS", 1 << 60)
    try:
        dense_head, dense_loss = refit.refit_linear_head(problem, support, alpha=1e-4)
    finally:
        mp.undo()
    head, loss = fitted[0]
    assert loss == pytest.approx(dense_loss, rel=1e-12)
    W, Wd = head.weight.detach().numpy(), dense_head.weight.detach().numpy()
    assert np.abs(W - Wd).max() < 1e-9 * np.abs(Wd).max()
    np.testing.assert_allclose(head.bias.detach().numpy(), dense_head.bias.detach().numpy(),
                               rtol=1e-9, atol=1e-12)
    assert not W[size:].any()
