"""Hop rate of an equilibrium hold in both dynamics (first passage must cost nothing where it cannot help).

    python benchmarks/fp_hold.py [--L 200] [--T 0.2] [--time 0.3]

Prints simulated hops per CPU second (the flips inside first-passage sojourns included) and the
first-passage sojourn counts. Same seed and initial state for both.
"""

from __future__ import annotations

import argparse
import time

from dplm_explore import Simulation
from dplm_explore.schedules import constant


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=200)
    ap.add_argument("--phi-v", dest="phi_v", type=float, default=0.005)
    ap.add_argument("--T", type=float, default=0.2)
    ap.add_argument("--time", type=float, default=0.3, help="simulated time of the timed hold")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    for dynamics in ("hop", "first-passage"):
        sim = Simulation.create(args.L, args.phi_v, T_I=args.T, seed=args.seed, program=constant(args.T), dynamics=dynamics)
        sim.advance(1000)  # compile / load the kernels
        h0 = sim.hops
        t0 = time.process_time()
        sim.advance(time=args.time)
        cpu = time.process_time() - t0
        print(f"{dynamics:>14}: {(sim.hops - h0) / cpu / 1e6:.2f} M hops/s ({sim.hops - h0:.3g} hops, {cpu:.2f} s CPU) {sim.sojourn_counts}")


if __name__ == "__main__":
    main()
