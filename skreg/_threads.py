"""One BLAS thread inside the compiled kernels.

A few kernels call BLAS / LAPACK on small matrices (``np.dot``,
``np.linalg.cholesky`` inside ``@jit`` functions). Numba takes those
routines from SciPy (``scipy.linalg.cython_blas``), whose OpenBLAS is a
different library, with its own thread pool, from the one NumPy ships.
After a NumPy product (a Gram matrix, a fold's predictions) NumPy's worker
thread keeps spinning for a while on the other core; a kernel that then
calls SciPy's BLAS wakes SciPy's worker, which has to wait for that core,
and every small call in the kernel waits with it. On the 2-core machine of
the benchmarks, the Gram solve of ``bench_linear``'s problem (c) took 7 ms
after a pause and 7 to 110 ms right after the Gram matrix was computed.

Where the products inside the kernels are small, they run on one thread
(the project's default: one thread unless the user asks for more):
:func:`single_blas_thread` limits every BLAS library of the process to one
thread while a kernel runs, and restores the caller's settings afterwards.
The coordinate-descent solver uses it on the Gram backend
(:func:`skreg.linear_model._cd.kernel_blas_threads`); on the data backends
a kernel multiplies ``n_samples``-long columns, which gains from threads in
a single fit. ``RegularizedRegressorCV`` runs all its folds under it: their
products are small, and with ``n_jobs > 1`` BLAS threads would compete
with the folds' own.

The limit is process-wide, and threadpoolctl lets only one thread at a time
change it (its "controlling thread"), so the thread that sets it is the one
that restores it: while it is inside, kernels running in other threads
(``n_jobs`` with the threading backend) have the limit too and leave the
settings alone; once it has left they run with the caller's settings. Only
speed depends on that, never results, and no interleaving of threads can
leave the process limited. A limit the user set with threadpoolctl in
another thread takes precedence (ours is then a no-op).
"""

import contextlib
import threading

from threadpoolctl import ThreadpoolController

__all__ = ["single_blas_thread"]

_lock = threading.Lock()
_owner = None  # the thread that set the limit, or None
_depth = 0  # how many times the owner has entered (nested kernels)
_limiter = None
_controller = None


def _blas_controller():
    """The process's BLAS libraries (found once: SciPy and NumPy are loaded
    when skreg is imported, through scikit-learn)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


@contextlib.contextmanager
def single_blas_thread():
    """Run the enclosed kernel calls with one BLAS thread (see module doc)."""
    global _owner, _depth, _limiter
    me = threading.current_thread()
    with _lock:
        if _owner is None:
            _limiter = _blas_controller().limit(limits=1)
            _limiter.__enter__()
            _owner = me
        owns = _owner is me
        if owns:
            _depth += 1
    try:
        yield
    finally:
        if owns:
            with _lock:
                _depth -= 1
                if _depth == 0:
                    _limiter.__exit__(None, None, None)
                    _owner = _limiter = None
