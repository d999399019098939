"""Paired check of the first-passage dynamics on cooling glasses: do they give off the same heat
as hop-by-hop dynamics between T = 0.05 and 0.02?

    python scripts/check_fp_cooling.py [--glasses 16] [--runs 4] [--work DIR]

Each glass (L = 100, phi_v = 0.005, uniform g) is built in equilibrium at T_I = 0.1 and cooled at
nu = 1e-4 to T = 0.056 once (first-passage dynamics). From that state the cooling continues to
T = 0.01 ``--runs`` times in each dynamics, each run with its own random stream. The heat given off
per particle, e(0.05) - e(0.02) (each the mean of the temperature steps within 5e-4 of it), and its
two halves at T = 0.035, are averaged per glass and dynamics. Per glass it prints the ratio
first passage / hop by hop with its error from the run scatter (pairing by glass removes the
glass-to-glass scatter of the two-level-system population; a glass with a relaxing void varies
from run to run by about its own heat), and over glasses the mean difference. Glass states are
kept in ``--work`` so that an interrupted check continues.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from dplm_explore._rng import seed_state
from dplm_explore.kmc import Simulation
from dplm_explore.schedules import make_program

L, PHI_V, T_I, NU, T_FINAL = 100, 0.005, 0.1, 1e-4, 0.01
#: the cooling continues in both dynamics from this temperature
T_SPLIT = 0.056
#: the heat is measured between these temperatures (and split at the middle one)
T_HI, T_MID, T_LO = 0.05, 0.035, 0.02
#: steps within this distance of a temperature give its energy
T_TOL = 5e-4
GLASS_SEED, RUN_SEED = 5000, 100_000
#: the random stream of run r of glass g in a dynamics: RUN_SEED + 1000 g + offset + r
STREAM_OFFSET = {"hop": 500, "first-passage": 0}
DYNAMICS = tuple(STREAM_OFFSET)


def heats(sim: Simulation) -> tuple[float, float, float]:
    """Heat given off per particle over (T_LO, T_HI), (T_MID, T_HI), (T_LO, T_MID)."""
    sim.settle()
    b = sim.temperature_bins()
    T, e = b["T"], b["E_mean"] / sim.params.n_particles

    def at(T0):
        return float(e[np.abs(T - T0) < T_TOL].mean())

    hi, mid, lo = at(T_HI), at(T_MID), at(T_LO)
    return hi - lo, hi - mid, mid - lo


def glass_state(g: int, work: Path) -> Path:
    path = work / f"glass{g}.npz"
    if not path.exists():
        sim = Simulation.create(L=L, phi_v=PHI_V, T_I=T_I, seed=GLASS_SEED + g, program=make_program(T_I, T_FINAL, NU), dynamics="first-passage")
        sim.advance(until_T=T_SPLIT)
        sim.save(path)
    return path


def run(state: Path, dynamics: str, stream: int) -> tuple[float, float, float]:
    sim = Simulation.load(state)
    sim.dynamics = dynamics
    sim._rng = seed_state(stream)
    sim.advance()
    return heats(sim)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glasses", type=int, default=16)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "dplm-explore" / "fp-cooling-check")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    per_glass = {d: [] for d in DYNAMICS}
    for g in range(args.glasses):
        state = glass_state(g, args.work)
        runs = {}
        for dyn in DYNAMICS:
            q = []
            for r in range(args.runs):
                t0 = time.process_time()
                q.append(run(state, dyn, RUN_SEED + 1000 * g + STREAM_OFFSET[dyn] + r))
                print(json.dumps({"glass": g, "dynamics": dyn, "run": r, "heat": q[-1], "cpu_s": round(time.process_time() - t0, 1)}), flush=True)
            runs[dyn] = np.array(q)[:, 0]
            per_glass[dyn].append(np.mean(q, axis=0))
        h, f = runs["hop"], runs["first-passage"]
        ratio = f.mean() / h.mean()
        err = abs(ratio) * math.sqrt(f.var(ddof=1) / f.size / f.mean() ** 2 + h.var(ddof=1) / h.size / h.mean() ** 2) if args.runs > 1 else float("nan")
        print(f"glass {g}: heat 0.05-0.02 hop {h.mean():.3e} (run sd {h.std(ddof=1) / abs(h.mean()):.0%}), first passage {f.mean():.3e}; "
              f"first passage / hop {ratio:.4f} +- {err:.4f}", flush=True)
        if g:
            h, f = np.array(per_glass["hop"]), np.array(per_glass["first-passage"])
            n = g + 1
            print(f"glasses {n}: hop heat (0.02-0.05, 0.035-0.05, 0.02-0.035) = {_pm(h, n)}; first passage - hop = {_pm(f - h, n)}", flush=True)


def _pm(x: np.ndarray, n: int) -> str:
    m, s = x.mean(axis=0), x.std(axis=0, ddof=1) / math.sqrt(n)
    return ", ".join(f"{a:.3g} +- {b:.2g}" for a, b in zip(m, s))


if __name__ == "__main__":
    main()
