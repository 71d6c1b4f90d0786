"""The project decorator :func:`skreg._numba.jit`: caching, the fallback for
read-only installs, and one specialization per floating dtype."""

import importlib
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes

import skreg._numba
from skreg import RegularizedRegressor, regularization_path


def _run(script, env_updates, tmp_path):
    env = {**os.environ, **env_updates}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


def test_uncacheable_function_warns_and_still_compiles():
    src = "def plus_one_twice(a):\n    return 2 * (a + 1)\n"
    namespace = {}
    exec(compile(src, "<generated>", "exec"), namespace)
    func = namespace["plus_one_twice"]
    # Numba itself refuses to cache a function without a source file.
    with pytest.raises(RuntimeError, match="cannot cache"):
        numba.njit(cache=True)(func)
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR") as record:
        compiled = skreg._numba.jit(func)
    assert any("plus_one_twice" in str(w.message) for w in record)
    assert compiled(3) == 8
    assert compiled(np.float64(0.5)) == 3.0
    assert len(compiled.signatures) == 2
    # The decorator form with options goes through the same fallback.
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        compiled = skreg._numba.jit(boundscheck=False)(func)
    assert compiled(-1) == 0


_FIT_SCRIPT = """
    import json, warnings
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        from sklearn.datasets import load_diabetes
        from skreg import RegularizedRegressor
        X, y = load_diabetes(return_X_y=True)
        reg = RegularizedRegressor(penalty="l1", alpha=0.1).fit(X, y)
    cache_warning = any(
        issubclass(w.category, RuntimeWarning)
        and "cannot cache" in str(w.message)
        and "NUMBA_CACHE_DIR" in str(w.message)
        for w in record
    )
    print(json.dumps({
        "n_nonzero": int((reg.coef_ != 0).sum()),
        "coef": reg.coef_.tolist(),
        "intercept": reg.intercept_,
        "cache_warning": cache_warning,
        "warnings": [f"{w.category.__name__}: {w.message}" for w in record],
    }))
"""


def test_read_only_install_falls_back_to_uncached_compilation(tmp_path):
    assert hasattr(numba.core.config, "CACHE_LOCATOR_CLASSES"), (
        f"numba {numba.__version__} has no NUMBA_CACHE_LOCATOR_CLASSES option: "
        "this test cannot restrict the cache locators to NUMBA_CACHE_DIR"
    )
    blocker = tmp_path / "file"
    blocker.write_text("a regular file: no directory can be created below it")
    cache_dir = blocker / "cache"
    result = _run(
        _FIT_SCRIPT,
        {
            "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
            "NUMBA_CACHE_DIR": str(cache_dir),
        },
        tmp_path,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    X, y = load_diabetes(return_X_y=True)
    ref = RegularizedRegressor(penalty="l1", alpha=0.1).fit(X, y)
    assert out["n_nonzero"] == int((ref.coef_ != 0).sum())
    print("subprocess coef_:", out["coef"])
    print("in-process coef_:", ref.coef_.tolist())
    assert_allclose(out["coef"], ref.coef_, rtol=0, atol=1e-10)
    assert_allclose(out["intercept"], ref.intercept_, rtol=1e-12)
    assert out["cache_warning"], out["warnings"]
    assert blocker.is_file()


def test_cache_files_are_written(tmp_path):
    cache_dir = tmp_path / "numba_cache"
    _run(_FIT_SCRIPT, {"NUMBA_CACHE_DIR": str(cache_dir)}, tmp_path)
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in files}
    assert ".nbi" in suffixes and ".nbc" in suffixes, files
    # the coordinate-descent kernels of the fit are among them
    assert any(p.name.startswith("_cd.cd_solve") for p in files), files


# The kernels named in the design notes; each must exist and be compiled by
# the fits below. Every other compiled kernel of skreg.linear_model and
# skreg.neural_network is checked too, so that renamed or new kernels are
# covered. The MLP kernels are all called from Python.
_MLP_KERNELS = [
    "_kernels.bias_act_dropout",
    "_kernels.act_derivative",
    "_kernels.output_loss_delta",
    "_kernels.gather_rows",
    "_kernels.gather_rows_sparse",
    "_kernels.gather_targets",
    "_kernels.sparse_rows_matmul",
    "_kernels.sparse_rows_t_matmul",
    "_kernels._spread_bits",
    "_optimizers.adam_step",
    "_optimizers.sgd_step",
]

_KERNELS = [
    "_data.column_moments",
    "_data.residual",
    "_data.correlation",
    "_proximal.fista",
    "_proximal.lipschitz_constant",
    "_cd.cd_subproblem",
    "_cd.cd_solve",
    "_cd.cd_path",
    *_MLP_KERNELS,
]

_LINEAR_CALLED_FROM_PYTHON = [
    "_data.column_moments",
    "_proximal.fista",
    "_proximal.lipschitz_constant",
    "_cd.cd_solve",
    "_cd.cd_path",
]

_CALLED_FROM_PYTHON = [*_LINEAR_CALLED_FROM_PYTHON, *_MLP_KERNELS]

_SIGNATURE_SCRIPT = """
    import importlib, json, pkgutil
    import numba
    import numpy as np
    import skreg.linear_model
    import skreg.neural_network
    import scipy.sparse
    from skreg import DropoutMLPClassifier, RegularizedRegressor, regularization_path

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6))
    y = X @ rng.standard_normal(6) + 1.0
    readonly = X.copy()
    readonly.flags.writeable = False
    inputs = {
        "float64_C": np.ascontiguousarray(X),
        "float64_F": np.asfortranarray(X),
        "readonly": readonly,
        "int": (4 * X).astype(np.int64),
        "float32": X.astype(np.float32),
        "bool": X > 0,
    }
    sw = rng.uniform(0.5, 2.0, len(y))
    for solver in ("cd", "gd"):
        for penalty in ("l1", "elasticnet", "l2"):
            for Xi in inputs.values():
                for weights in (None, sw):
                    RegularizedRegressor(
                        penalty=penalty, alpha=0.05, solver=solver, tol=1e-6
                    ).fit(Xi, y, sample_weight=weights)

    # paths (compiled path driver) on the Gram, dense and sparse backends
    X_wide = rng.standard_normal((20, 30))
    y_wide = X_wide[:, :3].sum(axis=1)
    for Xi, yi in [(Xi, y) for Xi in inputs.values()] + [
        (X_wide, y_wide), (X_wide.astype(np.float32), y_wide),
        (scipy.sparse.csc_matrix(X_wide * (X_wide > 0.5)), y_wide),
    ]:
        for weights in (None, rng.uniform(0.5, 2.0, len(yi))):
            regularization_path(Xi, yi, penalty="elasticnet", alphas=4,
                                sample_weight=weights)

    y_class = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    X_sparse = scipy.sparse.csr_matrix(X * (X > 0))
    for Xi in [*inputs.values(), X_sparse, X_sparse.astype(np.float32)]:
        for options in (
            dict(solver="adam", dropout=0.5, input_dropout=0.2, l1=1e-3),
            dict(solver="sgd", dropout=0.0, max_norm=2.0, input_noise=0.1,
                 activation="tanh"),
            dict(augment="shift", image_shape=(2, 3), activation="logistic"),
            dict(dropout=0.2),  # sparse X: the first layer's sparse products
        ):
            for target in (y_class, y_class > 0):
                DropoutMLPClassifier(
                    hidden_layer_sizes=(5, 4), max_iter=2, batch_size=32,
                    random_state=0, **options,
                ).fit(Xi, target, sample_weight=sw).predict_proba(Xi)

    def describe(t):
        if isinstance(t, numba.types.Array):
            return ["array", str(t.dtype), t.ndim, t.layout, t.mutable]
        if isinstance(t, numba.types.BaseTuple):
            return ["tuple", [describe(e) for e in t.types]]
        return ["scalar", str(t)]

    out = {}
    for package in (skreg.linear_model, skreg.neural_network):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(package.__name__ + "." + info.name)
            for name, obj in vars(module).items():
                if (
                    isinstance(obj, numba.core.dispatcher.Dispatcher)
                    and obj.py_func.__module__ == module.__name__
                ):
                    out[info.name + "." + name] = [
                        [describe(a) for a in sig] for sig in obj.signatures
                    ]
    print(json.dumps(out))
"""


def _arrays(described):
    kind = described[0]
    if kind == "array":
        yield described[1:]
    elif kind == "tuple":
        for item in described[1]:
            yield from _arrays(item)


def test_only_float32_and_float64_specializations(tmp_path):
    # An empty cache: kernels called only from other kernels are compiled
    # (and show their signatures) only when their callers are compiled, not
    # when the callers are loaded from a warm cache.
    result = _run(_SIGNATURE_SCRIPT, {"NUMBA_CACHE_DIR": str(tmp_path / "cache")},
                  tmp_path)
    signatures = json.loads(result.stdout.strip().splitlines()[-1])
    missing = [k for k in _KERNELS if k not in signatures]
    assert not missing, f"kernels not found: {missing}"
    # residual and correlation may only be called from other kernels (then
    # a cached caller never compiles them through their own dispatcher)
    uncompiled = [k for k in _CALLED_FROM_PYTHON if not signatures[k]]
    assert not uncompiled, f"never compiled: {uncompiled}"
    for kernel, sigs in signatures.items():
        assert len(sigs) <= 2, (kernel, sigs)
        dtype_sets = []
        for sig in sigs:
            arrays = [a for arg in sig for a in _arrays(arg)]
            dtypes = {dtype for dtype, *_ in arrays}
            # floating data in float32/float64 only; integer arrays are
            # indices, boolean arrays masks, uint16 arrays dropout draws,
            # uint64 arrays the generator's raw words they are made from
            allowed = {"float32", "float64", "int32", "int64", "bool", "uint16",
                       "uint64"}  # fmt: skip
            assert dtypes <= allowed, (kernel, sig)
            dtype_sets.append(frozenset(dtypes))
            # scalar helpers (no arrays) are told apart by their float scalars
            if not arrays:
                dtype_sets[-1] = frozenset(
                    arg[1] for arg in sig if arg[0] == "scalar" and "float" in arg[1]
                )
        # two specializations must be for two dtypes, not two layouts/flags
        assert len(set(dtype_sets)) == len(dtype_sets), (kernel, sigs)


def test_kernels_in_this_process_have_float_array_arguments():
    """The same in-process, for whatever this session compiled so far."""
    allowed = (numba.float32, numba.float64, numba.int32, numba.int64)
    X, y = load_diabetes(return_X_y=True)
    for solver in ("cd", "gd"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            RegularizedRegressor(penalty="l1", alpha=0.1, solver=solver).fit(X, y)
    regularization_path(X, y, alphas=3)
    for qualified in _LINEAR_CALLED_FROM_PYTHON:
        module, name = qualified.split(".")
        kernel = getattr(importlib.import_module(f"skreg.linear_model.{module}"), name)
        assert kernel.signatures, name
        for sig in kernel.signatures:
            for arg in sig:
                if isinstance(arg, numba.types.Array):
                    assert arg.dtype in allowed, (name, sig)


_CALLEE_V1 = """
from skreg._numba import jit


@jit
def callee(x):
    return x + 1.0
"""

_CALLER = """
from skreg._numba import jit
from kpkg._callee import callee


@jit
def caller(x):
    return 10.0 * callee(x)
"""

_CALL_SCRIPT = """
    import json
    from kpkg._caller import caller
    value = caller(1.0)
    print(json.dumps({"value": value, "hits": sum(caller.stats.cache_hits.values()),
                      "misses": sum(caller.stats.cache_misses.values())}))
"""


def test_cached_caller_is_recompiled_when_a_callee_module_changes(tmp_path):
    # A kernel has the kernels it calls compiled into it. Numba stamps the
    # cache with the caller's own file only; skreg's stamp covers every
    # kernel module of the package, so editing the callee's module must
    # invalidate the caller's cached code.
    package = tmp_path / "kpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_callee.py").write_text(_CALLEE_V1)
    (package / "_caller.py").write_text(_CALLER)
    env = {
        "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }

    def call():
        result = _run(_CALL_SCRIPT, env, tmp_path)
        return json.loads(result.stdout.strip().splitlines()[-1])

    first = call()
    assert first["value"] == 20.0 and first["misses"] == 1, first
    second = call()  # unchanged sources: served from the cache
    assert second["value"] == 20.0 and second["hits"] == 1, second
    (package / "_callee.py").write_text(_CALLEE_V1.replace("x + 1.0", "x + 2.0"))
    third = call()
    assert third["value"] == 30.0 and third["misses"] == 1, third
    # a module without kernels does not take part in the stamp
    (package / "_plain.py").write_text("VALUE = 1\n")
    fourth = call()
    assert fourth["value"] == 30.0 and fourth["hits"] == 1, fourth
