"""Shared helpers of the benchmark scripts: machine description, timing, data."""

import importlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits


def machine_description():
    """Markdown lines naming the CPU, core count and library versions."""
    cpu = platform.processor() or "unknown"
    details = {}
    try:
        # the model name of a VM's CPU can be as vague as "AMD EPYC": the
        # family / model numbers and the L3 size tell the generations apart
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model"):
                    details.setdefault(key, value.strip())
        cpu = details.get("model name", cpu)
        extra = [f"{k} {details[k]}" for k in ("cpu family", "model") if k in details]
        l3 = "/sys/devices/system/cpu/cpu0/cache/index3/size"
        if os.path.exists(l3):
            with open(l3) as f:
                extra.append(f"L3 {f.read().strip()}")
        if extra:
            cpu = f"{cpu} ({', '.join(extra)})"
    except OSError:
        pass
    versions = []
    for name in ("numpy", "scipy", "sklearn", "numba", "skglm", "celer", "torch"):
        try:
            versions.append(f"{name} {importlib.import_module(name).__version__}")
        except ImportError:
            versions.append(f"{name} (not installed)")
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads, "
            f"{i.get('architecture', 'unknown')} kernels)"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        )
    except Exception:  # pragma: no cover - informational only
        blas = "unknown"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; load average at start {load:.2f}",
        f"- Python {platform.python_version()} on {platform.system()}",
        f"- Libraries: {', '.join(versions)}",
        f"- BLAS: {blas}",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
    ]


def write_table(lines, path, quick):
    """Print the result table; write it to ``path`` unless ``quick``."""
    if not quick:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines))
    print("\n".join(lines))


def timed(fn, repeat=5):
    """``(first, median)`` wall times of ``fn``: one warm-up call, then ``repeat``."""
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), result


def ar1_design(n_samples, n_features, rho, rng, dtype=np.float64):
    """Gaussian design with column correlation ``rho ** |i - j|`` (C order)."""
    X = np.empty((n_samples, n_features), dtype=dtype)
    X[:, 0] = rng.standard_normal(n_samples)
    scale = np.sqrt(1.0 - rho**2)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + scale * rng.standard_normal(n_samples)
    return X


def sparse_target(X, n_nonzero, rng, snr=5.0):
    """``y = X w + noise`` with ``n_nonzero`` random non-zero coefficients."""
    w = np.zeros(X.shape[1])
    support = rng.choice(X.shape[1], n_nonzero, replace=False)
    w[support] = rng.standard_normal(n_nonzero)
    signal = X @ w
    noise = rng.standard_normal(X.shape[0])
    return signal + noise * np.linalg.norm(signal) / (snr * np.linalg.norm(noise))


def first_fit_compile_time(snippet, repeat=5):
    """Seconds the first fit in a new process spends beyond a second fit.

    Runs ``snippet`` (which must define ``fit()``) in fresh processes: the
    first fills the Numba cache, the next ``repeat`` measure with a warm
    cache. Returns the medians of ``(total, numba_init)``: ``total`` is the
    first fit's extra time; ``numba_init`` is the part of it Numba spends
    once per process at its first compiled call, whatever the function
    (importing its lowering registries), measured on a trivial cached
    function run before the fit in a second set of processes.
    """
    probe = (
        "import time, numba\n"
        "@numba.njit(cache=True)\n"
        "def _probe(x):\n    return x + 1.0\n"
    )
    code = (
        "import time\n" + snippet + "\n"
        "t0 = time.perf_counter(); fit(); t1 = time.perf_counter()\n"
        "fit(); t2 = time.perf_counter()\n"
        "print((t1 - t0) - (t2 - t1))\n"
    )
    code_after_probe = probe + (
        "t0 = time.perf_counter(); _probe(1.0); t1 = time.perf_counter()\n"
        "print(t1 - t0)\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        scripts = []
        for name, text in (("fit_twice.py", code), ("probe.py", code_after_probe)):
            path = os.path.join(tmp, name)  # a file: Numba caches only those
            with open(path, "w") as f:
                f.write(text)
            scripts.append([sys.executable, path])
        for script in scripts:  # fill the caches
            subprocess.run(script, check=True, capture_output=True)
        results = [[], []]
        for _ in range(repeat):
            for script, out in zip(scripts, results, strict=True):
                proc = subprocess.run(script, check=True, capture_output=True,
                                      text=True)  # fmt: skip
                out.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(results[0]), statistics.median(results[1])


# The VM's two vCPUs are moved by the host between two placements every few
# seconds: "near" (a cache line passes between them in about 50 ns; a
# two-thread BLAS product runs about 1.75x faster than one thread) and "far"
# (about 280 ns; 1.1-1.3x). Only multi-threaded work notices: single-threaded
# compute and memory loops run at the same speed in both. Each timed fit is
# bracketed by a probe of the two-thread speed-up, and labelled by it.
NEAR = 1.5  # two-thread / one-thread speed-up of the probe product


def blas_speedup():
    """One-thread time / two-thread time of a 128 x 784 @ 784 x 256 float32
    product (the first layer of the MLP benchmark): about 1.75 when the
    vCPUs are near, 1.1-1.3 when they are far (about 0.1 s)."""
    rng = np.random.default_rng(0)
    A = rng.random((128, 784), dtype=np.float32)
    W = rng.random((784, 256), dtype=np.float32)
    out = np.empty((128, 256), np.float32)

    def timed():
        start = time.perf_counter()
        for _ in range(20):
            np.matmul(A, W, out=out)
        return time.perf_counter() - start

    timed()
    two, one = [], []
    for _ in range(5):
        two.append(timed())
        with threadpool_limits(1, user_api="blas"):
            one.append(timed())
    return statistics.median(one) / statistics.median(two)


def placement(before, after):
    """"near" / "far" when the probes before and after a fit agree, else "mixed"."""
    if min(before, after) >= NEAR:
        return "near"
    if max(before, after) < NEAR:
        return "far"
    return "mixed"
