"""Engine benchmark: prints hops/s (after compile, excluding set-up), set-up time and memory.

    python benchmarks/bench_engine.py            # all standard cases (L = 100, 200, 1000)
    python benchmarks/bench_engine.py --quick    # L = 100 only
    python benchmarks/bench_engine.py --compile  # also numba compile time: cold vs cached

Run it on an otherwise idle machine; results are printed, not committed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from dplm_explore.bench import DEFAULT_CASES, format_table, run_benchmarks


def compile_times() -> tuple[float, float]:
    """(cold compile, load from cache) seconds, each in a fresh interpreter with its own cache."""
    code = "import time; t=time.perf_counter(); from dplm_explore.bench import compile_kernels; compile_kernels(); print(time.perf_counter()-t)"
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = float(subprocess.check_output([sys.executable, "-c", code], env=env).decode().split()[-1])
        warm = float(subprocess.check_output([sys.executable, "-c", code], env=env).decode().split()[-1])
    return cold, warm


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--hops", type=int, default=3_000_000)
    ap.add_argument("--compile", action="store_true")
    args = ap.parse_args()
    cases = [c for c in DEFAULT_CASES if not args.quick or c[0] <= 100]
    t0 = time.perf_counter()
    records = run_benchmarks(cases, hops=args.hops, progress=True)
    print(format_table(records))
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.compile:
        cold, warm = compile_times()
        print(f"numba: first call compiles in {cold:.1f} s; with the cache {warm:.1f} s (import + load)")


if __name__ == "__main__":
    main()
