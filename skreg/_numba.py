"""The project's one Numba decorator.

Every compiled kernel in skreg goes through :func:`jit`, so that caching,
GIL release and the fallback for read-only installs are decided in one place.

Conventions for kernels (see ``doc/developers.rst``):

* plain functions on plain arrays, no jitclass (it cannot be cached to disk);
* callers cast arrays to float32 or float64 and lay them out (C- or
  F-contiguous, as the kernel documents) before the call, and pass large
  inputs through :func:`readonly_view`, so that exactly one specialization
  per floating dtype is compiled whatever the caller's array flags are;
* no ``fastmath=True``: NaN and inf must propagate. Kernels dominated by
  dot products may pass ``fastmath=REDUCTION_FLAGS`` (reassociation and
  fused multiply-add only), which keeps NaN/inf semantics;
* random numbers come from a NumPy ``Generator`` seeded from
  ``random_state``; the kernels receive the drawn numbers, never a seed.
"""

import warnings

import numba
import numpy as np

__all__ = ["jit", "readonly_view", "REDUCTION_FLAGS"]

# LLVM fast-math flags that let reductions (dot products) be vectorized and
# use fused multiply-adds, and nothing more: unlike ``fastmath=True`` they
# keep NaN and inf semantics ("nnan" and "ninf" are not set), so a NaN
# still propagates. Only results' last bits change with the summation order.
REDUCTION_FLAGS = {"reassoc", "contract"}


def jit(func=None, **options):
    """Compile ``func`` with ``numba.njit(cache=True, nogil=True)``.

    When no cache location is writable (a read-only install with no writable
    ``NUMBA_CACHE_DIR`` or user cache directory), Numba refuses to create the
    cached dispatcher. We then compile without caching and warn once per
    function: the code still runs, only the first call in each process pays
    for compilation.

    Parameters
    ----------
    func : callable, optional
        The function to compile. When omitted, returns a decorator.
    **options
        Extra options for :func:`numba.njit` (``cache`` and ``nogil`` are
        set here and cannot be overridden).

    Returns
    -------
    dispatcher : numba.core.registry.CPUDispatcher
        The lazily compiled function.
    """
    if func is None:
        return lambda f: jit(f, **options)
    options = {**options, "nogil": True}
    try:
        return numba.njit(cache=True, **options)(func)
    except RuntimeError as exc:  # "cannot cache function ...: no locator"
        warnings.warn(
            f"Numba cannot cache {func.__qualname__!r} ({exc}); it will be "
            "compiled in every new process. Set NUMBA_CACHE_DIR to a writable "
            "directory to avoid this.",
            RuntimeWarning,
            stacklevel=2,
        )
        return numba.njit(cache=False, **options)(func)


def readonly_view(array):
    """Return a read-only view of ``array`` (no copy).

    Numba compiles one specialization per array type, and the writeable flag
    is part of the type. Kernels take their inputs through this view so that a
    caller's read-only or memory-mapped array and an ordinary one share the
    same compiled code. It also guarantees that no kernel writes to the
    caller's data.
    """
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view
