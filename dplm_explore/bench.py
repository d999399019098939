"""Engine benchmark: hops per second after compilation, set-up time and memory.

Used by ``dplm-explore bench`` and ``benchmarks/bench_engine.py``; numbers belong in docs/performance.md,
never in timed unit tests.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Iterable

from .kmc import Simulation

#: one mega (decimal): bytes per MB, hops per M hops
MEGA = 1e6
#: (L, n_voids, T) of the standard cases; L = 1000 is phi_v = 0.005
DEFAULT_CASES: tuple[tuple[int, int, float], ...] = (
    (100, 100, 0.2), (100, 100, 0.1), (100, 100, 0.05),
    (200, 200, 0.2), (200, 200, 0.1), (200, 200, 0.05),
    (1000, 5000, 0.1),
)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024.0 if sys.platform != "darwin" else ru / 1024.0 / 1024.0


def compile_kernels() -> float:
    """Seconds to compile (or load from the cache) every kernel on a tiny system."""
    t0 = time.perf_counter()
    sim = Simulation.create(L=8, phi_v=0.05, T_I=0.2, seed=0)
    sim.advance(100)
    sim.energy_from_scratch()
    return time.perf_counter() - t0


def bench_case(L: int, n_voids: int, T: float, *, hops: int = 3_000_000, warmup: int = 300_000, seed: int = 1, dynamics: str = "hop") -> dict:
    """Equilibrium at T (direct construction), ``warmup`` hops, then ``hops`` timed hops (in
    first-passage dynamics: hops made one by one; ``hops_per_s`` counts the sojourns' flips too)."""
    t0 = time.perf_counter()
    sim = Simulation.create(L=L, phi_v=n_voids / (L * L), T_I=T, seed=seed, dynamics=dynamics)
    setup = time.perf_counter() - t0
    sim.advance(warmup)
    h0 = sim.hops
    c0 = sim.cache_hits
    rep = sim.advance(hops)
    return {
        "L": L,
        "n_voids": sim.params.n_voids,
        "T": T,
        "dynamics": dynamics,
        "hops": sim.hops - h0,
        "hops_per_s": (sim.hops - h0) / rep.wall_s,
        "events_per_s": rep.hops / rep.wall_s,
        "setup_s": setup,
        "state_mb": sim.state_bytes() / MEGA,
        "peak_rss_mb": peak_rss_mb(),
        "cache_hit_fraction": (sim.cache_hits - c0) / max(sim.hops - h0, 1),
        "energy_drift": abs(sim.energy - sim.energy_from_scratch()),
    }


def run_benchmarks(cases: Iterable[tuple[int, int, float]] = DEFAULT_CASES, *, hops: int = 3_000_000, progress: bool = False, dynamics: str = "hop") -> list[dict]:
    compile_s = compile_kernels()
    out = []
    cases = list(cases)
    it = cases
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(cases, desc="bench", unit="case")
    for L, nv, T in it:
        rec = bench_case(L, nv, T, hops=hops, dynamics=dynamics)
        rec["compile_s"] = compile_s
        out.append(rec)
    return out


def format_table(records: list[dict]) -> str:
    head = f"{'L':>5} {'voids':>6} {'T':>5} {'Mhops/s':>8} {'setup s':>8} {'state MB':>9} {'peak RSS MB':>11} {'cache hits':>10}"
    lines = [head]
    for r in records:
        lines.append(f"{r['L']:>5} {r['n_voids']:>6} {r['T']:>5} {r['hops_per_s'] / MEGA:>8.2f} {r['setup_s']:>8.2f} {r['state_mb']:>9.1f} {r['peak_rss_mb']:>11.0f} {r['cache_hit_fraction']:>10.2f}")
    return "\n".join(lines)
