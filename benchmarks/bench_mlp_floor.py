"""BLAS floor of one epoch of the MLP speed benchmark (benchmarks/bench_mlp.py):
how fast could any implementation of that epoch be if it did nothing but the
matrix products that scikit-learn's MLPClassifier and skreg's
DropoutMLPClassifier both must do?

Writes benchmarks/results/mlp_floor.md (or ``--out``). Run from the
repository root:

    python benchmarks/bench_mlp_floor.py                # full: 7 rounds
    python benchmarks/bench_mlp_floor.py --quick --out /tmp/mlp_floor_quick.md

The setup is bench_mlp's speed section: 50000 x 784 synthetic 10-class data,
hidden layers (256, 256), batch 128, float32 and float64. Per dtype, four
configurations are timed in each round, in an order rotated from round to
round: the *BLAS floor* (a Python loop over shuffled minibatches doing only
the eight matrix products of a forward and backward pass, with preallocated
buffers and ``np.matmul(..., out=...)``), skreg's DropoutMLPClassifier with
dropout 0 and 0.5, and MLPClassifier. Every configuration gets a one-epoch
warm-up on 5000 rows, then each timed call runs bench_mlp's 3 epochs
(the estimators through bench_mlp's own fit helpers); the table shows the
median seconds per epoch over the rounds that were quiet (bench_mlp's
detection of other processes' load and of the vCPUs' placement is reused),
and the ratios: ratio of the medians and median of the same-round ratios.
"""

import argparse
import statistics
import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
from _common import (  # benchmarks/_common.py
    blas_speedup,
    machine_description,
    placement,
    write_table,
)
from bench_mlp import (  # benchmarks/bench_mlp.py: the benchmark measured here
    BATCH,
    EPOCHS,
    HIDDEN,
    QUIET,
    cpu_snapshot,
    other_load,
    paired_ratio,
    placement_tables,
    sklearn_fit,
    skreg_fit,
    wait_for_quiet,
)
from sklearn.datasets import make_classification

RESULTS = Path(__file__).resolve().parent / "results" / "mlp_floor.md"
# bench_mlp's speed data (make_classification is called inline there)
DATA = dict(n_features=784, n_informative=100, n_redundant=100,
            n_clusters_per_class=2, n_classes=10, random_state=0)
WARMUP_ROWS = 5000  # bench_mlp's warm-up: a one-epoch fit on the first rows

FLOOR = "BLAS floor (matrix products only)"
SK0 = "skreg DropoutMLPClassifier, dropout=0"
SK5 = "skreg DropoutMLPClassifier, dropout=0.5"
MLP = "sklearn MLPClassifier"


def floor_fit(X, y, epochs, seed=0):
    """``epochs`` epochs of the matrix products alone of minibatch training.

    Per batch of ``BATCH`` shuffled rows: the gather of the rows (``np.take``
    into a preallocated buffer), the forward products ``A_l @ W_l`` and the
    backward ones ``A_l.T @ D_l`` (weight gradient) and ``D_l @ W_l.T`` (delta
    of the layer below, not for the input), all ``np.matmul(..., out=...)``
    into buffers allocated once. No biases, activations, loss, dropout or
    optimizer step: the output of the forward pass serves as its own delta
    and the weights never change. Weights: scikit-learn's Glorot-uniform
    initialization, so the values stay of order one (no denormals).
    """
    dtype = X.dtype
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], *HIDDEN, int(y.max()) + 1]
    W = []
    for fan_in, fan_out in pairwise(sizes):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        W.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype))
    W_T = [w.T for w in W]
    G = [np.empty_like(w) for w in W]
    Xb = np.empty((BATCH, sizes[0]), dtype)
    H = [np.empty((BATCH, k), dtype) for k in sizes[1:]]  # H[-1]: the output
    D = [np.empty((BATCH, k), dtype) for k in sizes[1:-1]]
    n = X.shape[0]
    views = {}  # rows -> (inputs of each layer, their transposes, outputs, deltas)
    for m in {BATCH, n % BATCH} - {0}:
        A = [Xb[:m]] + [h[:m] for h in H[:-1]]
        views[m] = (A, [a.T for a in A], [h[:m] for h in H], [d[:m] for d in D])
    n_layers = len(W)
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            idx = order[start : start + BATCH]
            A, A_T, Z, Dm = views[idx.shape[0]]
            np.take(X, idx, axis=0, out=A[0], mode="clip")  # "raise" buffers out
            for layer in range(n_layers):
                np.matmul(A[layer], W[layer], out=Z[layer])
            delta = Z[-1]
            for layer in range(n_layers - 1, -1, -1):
                np.matmul(A_T[layer], delta, out=G[layer])
                if layer > 0:
                    np.matmul(delta, W_T[layer], out=Dm[layer - 1])
                    delta = Dm[layer - 1]
    return G


CONFIGS = [
    (FLOOR, floor_fit),
    (SK0, skreg_fit(0.0)),
    (SK5, skreg_fit(0.5)),
    (MLP, sklearn_fit),
]

# (label, numerator, denominator): numerator time / denominator time
RATIOS = [
    ("MLPClassifier / floor (best ratio any implementation can reach)", MLP, FLOOR),
    ("skreg dropout=0 / floor (skreg's overhead above the floor)", SK0, FLOOR),
    ("skreg dropout=0.5 / floor", SK5, FLOOR),
    ("MLPClassifier / skreg dropout=0 (reached)", MLP, SK0),
    ("MLPClassifier / skreg dropout=0.5 (reached)", MLP, SK5),
]


def epoch_flops(n_samples, n_classes):
    """Floating-point operations of the floor's products in one epoch."""
    sizes = [DATA["n_features"], *HIDDEN, n_classes]
    per_row = sum(2 * a * b for a, b in pairwise(sizes))  # forward
    per_row += sum(2 * a * b for a, b in pairwise(sizes))  # weight gradients
    per_row += sum(2 * a * b for a, b in pairwise(sizes[1:]))  # deltas below
    return per_row * n_samples


def measure(X, y, rounds, max_wait):
    """Seconds per epoch of every configuration, per dtype, round by round.

    Returns ``runs[(dtype, name)]``: a list of ``(round, s/epoch, cores used by
    other processes, vCPU placement)``, one per timed call.
    """
    runs = {}
    for dtype in (np.float32, np.float64):
        Xd = np.ascontiguousarray(X, dtype=dtype)
        for _name, fit in CONFIGS:  # warm-up: compilation, threads, caches
            fit(Xd[:WARMUP_ROWS], y[:WARMUP_ROWS], 1)
        for round_no in range(rounds):
            shift = round_no % len(CONFIGS)
            for name, fit in CONFIGS[shift:] + CONFIGS[:shift]:
                wait_for_quiet(max_wait)
                probe_before = blas_speedup()
                start = cpu_snapshot()
                fit(Xd, y, EPOCHS)
                end = cpu_snapshot()
                state = placement(probe_before, blas_speedup())
                run = (round_no, (end[0] - start[0]) / EPOCHS,
                       other_load(start, end), state)
                runs.setdefault((dtype.__name__, name), []).append(run)
                print(f"  round {round_no} {dtype.__name__} {name}: {run[1]:.3f} "
                      f"s/epoch (other processes: {run[2]:.2f} cores; vCPUs "
                      f"{state})", flush=True)
    return runs


def summarize(runs):
    """Per ``(dtype, name)``: the median s/epoch over the quiet calls (over all
    calls if none was quiet), and the quiet calls by round and by placement."""
    medians, stats, by_round, by_state = {}, {}, {}, {}
    for key, calls in runs.items():
        quiet = [c for c in calls if c[2] < QUIET]  # as bench_mlp: NaN is not quiet
        used = quiet or calls
        times = [c[1] for c in used]
        medians[key] = statistics.median(times)
        states = [c[3] for c in used]
        stats[key] = (len(quiet), len(calls), min(times), max(times),
                      "/".join(str(states.count(s)) for s in
                               ("near", "far", "mixed")))
        by_round[key] = {c[0]: c[1] for c in quiet}
        for c in quiet:
            by_state.setdefault((*key, c[3]), []).append((c[0], c[1]))
    return medians, stats, by_round, by_state


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7,
                        help="timed rounds per dtype (every configuration once "
                             "per round)")
    parser.add_argument("--quick", action="store_true",
                        help="5000 samples, 2 rounds (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="results file (markdown)")
    args = parser.parse_args()

    n = 5000 if args.quick else 50000
    rounds = 2 if args.quick else args.rounds
    max_wait = 5.0 if args.quick else 90.0  # bench_mlp's default wait for quiet
    X, y = make_classification(n_samples=n, **DATA)
    lines = ["# BLAS floor of one epoch of the MLP benchmark", ""]
    lines += ["Generated by `benchmarks/bench_mlp_floor.py"
              + (" --quick`" if args.quick else "`")
              + f" on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", ""]
    lines += ["## Machine", ""] + machine_description()  # load before the runs

    print("speed", flush=True)
    runs = measure(X, y, rounds, max_wait)
    medians, stats, by_round, by_state = summarize(runs)
    loads = [c[2] for calls in runs.values() for c in calls]
    all_quiet = all(s[0] == s[1] for s in stats.values())
    lines += [
        f"- Other processes used {np.nanmean(loads):.2f} cores on average during "
        "the timed calls (from /proc/stat minus this process). A call counts as "
        f"quiet when they used less than {QUIET} cores; the medians are over the "
        "quiet calls (the `quiet/runs` column). "
        + ("Every timed call was quiet." if all_quiet else
           "**The machine was loaded during some calls: those were left out "
           "where quiet ones existed.**"),
        "",
    ]

    n_classes = int(y.max()) + 1
    gflop = epoch_flops(n, n_classes) / 1e9
    n_params = sum(a * b + b for a, b in pairwise([DATA["n_features"], *HIDDEN,
                                                   n_classes]))
    lines += [
        "## Seconds per epoch and the floor",
        "",
        f"{n} x 784 synthetic 10-class data (`make_classification(n_informative="
        "100, n_redundant=100, n_clusters_per_class=2)`), hidden layers "
        f"{HIDDEN}, batch {BATCH}, as in `bench_mlp.py`. Every configuration is "
        f"warmed up by one epoch on {min(n, WARMUP_ROWS)} rows; each timed call "
        f"runs {EPOCHS} epochs (the estimators: `fit` with `max_iter={EPOCHS}, "
        "tol=0`, through bench_mlp's helpers, Adam, default alpha); "
        f"{rounds} rounds per dtype, the four configurations in each round in an "
        "order rotated from round to round.",
        "",
        "The *BLAS floor* is a Python loop over the shuffled minibatches of an "
        "epoch that does nothing but what no implementation of this training "
        "can skip: gather the batch's rows (`np.take` into a preallocated "
        "buffer), the three forward products `Xb @ W1`, `H1 @ W2`, `H2 @ W3` "
        "and the five backward ones `H2.T @ D3`, `D3 @ W3.T`, `H1.T @ D2`, "
        "`D2 @ W2.T`, `Xb.T @ D1` (no gradient for the input), each "
        "`np.matmul(..., out=...)` into buffers allocated once. No biases, "
        "activations, loss, dropout or optimizer step. MLPClassifier and "
        "DropoutMLPClassifier both do exactly these products on every batch, "
        "with the same shapes and through the same OpenBLAS, so **MLPClassifier "
        "/ floor is the largest speed-up over MLPClassifier that any "
        "implementation doing these products can reach**, skreg / floor shows "
        "how much of skreg's epoch is spent outside them (1.00x would be none), "
        "and MLPClassifier / skreg is the speed-up reached. The real minimum is "
        "higher than the floor (the elementwise work - ReLU and its derivative, "
        f"softmax, the Adam update of all {n_params} parameters after every "
        "batch - cannot be skipped either), so the bound is an optimistic one; "
        "only doing the products differently (another BLAS or thread count, "
        f"fused kernels) could go below it. The products amount to {gflop:.1f} "
        "GFLOP per epoch (the floor's speed is given below); the Python loop "
        f"adds about {(n + BATCH - 1) // BATCH * 9} NumPy calls per epoch, a "
        "few milliseconds.",
        "",
        "Ratios: ratio of the medians, and in brackets the median of the "
        "same-round ratios (the two calls of a round run seconds apart, so the "
        "machine's slow swings of speed affect both alike) with the number of "
        "rounds in which both were quiet.",
    ]
    for d in ("float32", "float64"):
        lines += [
            "",
            f"### {d}",
            "",
            "| configuration | s/epoch | quiet/runs | range | vCPUs near/far/mixed |",
            "|---|---|---|---|---|",
        ]
        for name, _ in CONFIGS:
            q, total, lo, hi, states = stats[(d, name)]
            lines.append(f"| {name} | {medians[(d, name)]:.3f} | {q}/{total} | "
                         f"{lo:.3f}-{hi:.3f} | {states} |")
        lines += [
            "",
            f"Floor speed: {gflop / medians[(d, FLOOR)]:.1f} GFLOP/s.",
            "",
            "| ratio | ratio of medians [same-round median, rounds] |",
            "|---|---|",
        ]
        for label, num, den in RATIOS:
            paired, n_rounds = paired_ratio(by_round[(d, num)], by_round[(d, den)])
            lines.append(f"| {label} | {medians[(d, num)] / medians[(d, den)]:.2f}x "
                         f"[{paired:.2f}x, {n_rounds}] |")
    lines += placement_tables([name for name, _ in CONFIGS],
                              [(label.split(" (")[0], num, den)
                               for label, num, den in RATIOS], by_state)
    lines.append("")
    write_table(lines, args.out, quick=False)  # --out chooses the file
    return 0


if __name__ == "__main__":
    sys.exit(main())
