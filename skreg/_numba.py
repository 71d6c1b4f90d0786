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
  fused multiply-add only), elementwise updates ``fastmath=FMA_FLAGS``
  (fused multiply-add only); both keep NaN/inf semantics;
* random numbers come from a NumPy ``Generator`` seeded from
  ``random_state``; the kernels receive the drawn numbers, never a seed.
"""

import functools
import hashlib
import os
import warnings

import numba
import numpy as np

__all__ = ["FMA_FLAGS", "REDUCTION_FLAGS", "jit", "readonly_view"]

# LLVM fast-math flags that let reductions (dot products) be vectorized and
# use fused multiply-adds, and nothing more: unlike ``fastmath=True`` they
# keep NaN and inf semantics ("nnan" and "ninf" are not set), so a NaN
# still propagates. Only results' last bits change with the summation order.
REDUCTION_FLAGS = {"reassoc", "contract"}
# Fused multiply-add only (no reassociation): for elementwise updates, where
# it saves instructions and changes nothing but the last bit of a result.
FMA_FLAGS = {"contract"}


def _package_root(py_file):
    """The directory of the top-level package that contains ``py_file``."""
    root = os.path.dirname(os.path.abspath(py_file))
    while os.path.isfile(os.path.join(os.path.dirname(root), "__init__.py")):
        root = os.path.dirname(root)
    return root


@functools.cache
def _kernel_sources_hash(root):
    """SHA-256 of the modules under ``root`` that define kernels (once per
    process): those whose source contains ``@jit``, and this module."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                source = f.read()
            if b"@jit" in source or os.path.abspath(path) == os.path.abspath(__file__):
                digest.update(os.path.relpath(path, root).encode())
                digest.update(hashlib.sha256(source).digest())
    return digest.hexdigest()


def _package_function_cache():
    """A Numba ``FunctionCache`` class whose index is stamped with all of the
    package's kernel sources, or None if Numba's internals have changed.

    Numba stamps a cached function with the hash of its own source file only.
    A kernel that calls a kernel of another module has the callee compiled
    into it, so after an edit of the callee's module (a ``git pull`` in an
    editable install, an upgrade that leaves old cache files behind) Numba
    would keep loading the old callee. With this stamp, a change to any
    kernel module recompiles every cached kernel of the package once.
    """
    try:
        from numba.core import caching

        class _PackageStamp:
            def get_source_stamp(self):
                root = _package_root(self._py_file)
                return (super().get_source_stamp(), _kernel_sources_hash(root))

        class _UserProvided(_PackageStamp, caching.UserProvidedCacheLocator):
            pass

        class _InTree(_PackageStamp, caching.InTreeCacheLocator):
            pass

        class _UserWide(_PackageStamp, caching.UserWideCacheLocator):
            pass

        class _Impl(caching.CompileResultCacheImpl):
            # Numba's own order, without the IPython and zip locators
            _locator_classes = [_UserProvided, _InTree, _UserWide]

        class _PackageFunctionCache(caching.FunctionCache):
            _impl_class = _Impl

    except (ImportError, AttributeError):  # pragma: no cover - other Numba
        return None
    return _PackageFunctionCache


_PackageFunctionCache = _package_function_cache()


def _cached_njit(func, options):
    """``numba.njit(cache=True)`` with the package-wide source stamp.

    Raises RuntimeError, as Numba does, when no cache location is usable.
    """
    if _PackageFunctionCache is None:  # pragma: no cover - other Numba
        return numba.njit(cache=True, **options)(func)
    dispatcher = numba.njit(cache=False, **options)(func)
    # what ``cache=True`` does (Dispatcher.enable_caching), with our class
    dispatcher._cache = _PackageFunctionCache(func)
    return dispatcher


def jit(func=None, **options):
    """Compile ``func`` with ``numba.njit(cache=True, nogil=True)``.

    The cache index of every kernel is stamped with the sources of all the
    package's kernel modules, not only its own file: a kernel that calls
    kernels of other modules is recompiled when any of them changes (Numba
    alone would keep a stale copy of the callees).

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
        return _cached_njit(func, options)
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


def readonly_sparse_arrays(X):
    """``(data, indices, indptr)`` of the compressed sparse matrix ``X`` (CSR
    or CSC) as read-only views for the kernels.

    The index arrays are int32 whenever they fit (scipy's default, so usually
    no copy), int64 only for matrices too large for int32, so that one index
    type is compiled.
    """
    index_dtype = np.int32 if X.nnz < np.iinfo(np.int32).max else np.int64
    return (
        readonly_view(X.data),
        readonly_view(X.indices.astype(index_dtype, copy=False)),
        readonly_view(X.indptr.astype(index_dtype, copy=False)),
    )
