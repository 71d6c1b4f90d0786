"""The BLAS thread limit around the compiled kernels (skreg/_threads.py)."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import skreg.linear_model._cd as cd_module
from skreg import RegularizedRegressor, RegularizedRegressorCV, regularization_path
from skreg._threads import single_blas_thread
from skreg.linear_model import _cv


def _blas_threads():
    return sorted({lib["num_threads"] for lib in threadpool_info()
                   if lib["user_api"] == "blas"})  # fmt: skip


@pytest.fixture
def two_blas_threads():
    """Start every test from 2 BLAS threads, whatever the machine has, so
    that the limit to one is observable."""
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != [2]:
            pytest.skip("the BLAS libraries of this process cannot be set to 2 threads")
        yield


def test_limit_holds_inside_and_is_restored(two_blas_threads):
    with single_blas_thread():
        assert _blas_threads() == [1]
        with single_blas_thread():  # nested: still one, and not restored early
            assert _blas_threads() == [1]
        assert _blas_threads() == [1]
    assert _blas_threads() == [2]


def test_restored_after_an_exception(two_blas_threads):
    with pytest.raises(RuntimeError, match="inside"):
        with single_blas_thread():
            raise RuntimeError("inside")
    assert _blas_threads() == [2]


def _in_thread(inside, leave):
    """Start a thread that enters the limit, records what it sees, sets
    ``inside`` and waits for ``leave`` before leaving."""
    seen = {}

    def run():
        with single_blas_thread():
            seen["inside"] = _blas_threads()
            inside.set()
            leave.wait(10)
        seen["left"] = True

    thread = threading.Thread(target=run)
    thread.start()
    return thread, seen


@pytest.mark.parametrize("owner_leaves_first", [True, False])
def test_overlapping_users_in_threads_never_leave_the_limit_behind(
    two_blas_threads, owner_leaves_first
):
    # the owner (this thread, which controls the limits) and a kernel in a
    # worker thread overlap, in both orders of leaving
    inside, leave = threading.Event(), threading.Event()
    with single_blas_thread():
        worker, seen = _in_thread(inside, leave)
        assert inside.wait(10)
        assert seen["inside"] == [1]  # the worker runs under the owner's limit
        if not owner_leaves_first:
            leave.set()
            worker.join(10)
            assert seen["left"]
            assert _blas_threads() == [1]  # the worker did not restore it
    assert _blas_threads() == [2]  # restored by the owner, on leaving
    leave.set()
    worker.join(10)
    assert seen["left"]
    assert _blas_threads() == [2]


def test_gram_solves_run_their_kernels_under_the_limit(two_blas_threads, monkeypatch):
    # record the BLAS threads that each compiled entry point is called with
    seen = []

    def spy(kernel):
        def call(*args):
            seen.append((args[0], _blas_threads()))  # (backend, threads)
            return kernel(*args)

        return call

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = X @ rng.standard_normal(8)
    # the path driver, called from _path (compiled first, with the real
    # cd_solve: patching cd_solve before would break its compilation)
    monkeypatch.setattr("skreg.linear_model._path.cd_path", spy(cd_module.cd_path))
    for precompute in (True, False):
        regularization_path(X, y, alphas=3, precompute=precompute)
    # single solves, called from enet_coordinate_descent
    monkeypatch.setattr(cd_module, "cd_solve", spy(cd_module.cd_solve))
    for precompute in (True, False):
        RegularizedRegressor(penalty="l1", alpha=0.01, precompute=precompute).fit(X, y)
    assert [kind for kind, _ in seen] == [cd_module.GRAM, cd_module.DENSE] * 2
    # one thread on the Gram backend, the caller's two on the data backend
    assert [threads for _, threads in seen] == [[1], [2]] * 2
    assert _blas_threads() == [2]


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_cv_folds_run_with_one_blas_thread(two_blas_threads, monkeypatch, n_jobs):
    """RegularizedRegressorCV runs its folds with one BLAS thread (in the
    folds' threads too) and gives the caller's settings back afterwards."""
    seen = []
    fold = _cv.RegularizedRegressorCV._fold

    def spy(self, *args):
        seen.append(_blas_threads())
        return fold(self, *args)

    monkeypatch.setattr(_cv.RegularizedRegressorCV, "_fold", spy)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = X @ rng.standard_normal(8) + 0.1 * rng.standard_normal(60)
    est = RegularizedRegressorCV(penalty="l1", alphas=5, cv=3, n_jobs=n_jobs)
    est.fit(X, y)
    assert seen == [[1]] * 3
    assert _blas_threads() == [2]
