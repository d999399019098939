"""Command line: ``dplm-explore {run, bench, theory, cool, diffusion, tls, returns, occupation, hop-energy, sweep}``."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def _cmd_run(args) -> int:
    from ._io import npz_path, prepare_output
    from .cli_options import g_from_args, g_options_given, option_flag, options_given
    from .kmc import Simulation
    from .schedules import constant, make_program

    out = prepare_output(npz_path(args.out), args.overwrite) if args.out else None
    if args.resume is not None:
        given = options_given(args, _RUN_SYSTEM_OPTIONS) + g_options_given(args)
        if given:
            raise ValueError(f"--resume continues a saved run; {', '.join(given)} describe a new one")
        if not Path(args.resume).is_file():
            raise ValueError(f"--resume {args.resume!r}: no such file")
        sim = Simulation.load(args.resume)
        if args.dynamics is not None:
            sim.dynamics = args.dynamics
    else:
        for name in ("L", "phi_v"):
            if getattr(args, name) is None:
                raise ValueError(f"{option_flag(name)} is required (or --resume a saved run)")
        if args.init == "equilibrium" and args.T_I is None:
            raise ValueError("--T-I is required for an equilibrium initial state (or --init random with --T)")
        for name in ("T", "T_final", "nu", "dT_step"):
            v = getattr(args, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(f"{option_flag(name)} must be a positive finite number; got {v!r}")
        g = g_from_args(args)
        if args.T is not None and args.nu is not None:
            raise ValueError("give either --T (constant temperature) or --nu with --T-final, not both")
        if args.nu is not None:
            if args.T_final is None:
                raise ValueError("--nu needs --T-final")
            if args.T_I is None:
                raise ValueError("--nu ramps from --T-I; give --T-I")
            prog = make_program(args.T_I, args.T_final, args.nu, args.dT_step)
        else:
            T = args.T if args.T is not None else args.T_I
            if T is None:
                raise ValueError("give --T (the run temperature) with --init random")
            prog = constant(T)
        sim = Simulation.create(args.L, args.phi_v, g=g, T_I=args.T_I, init=args.init, seed=args.seed, w0=args.w0, program=prog,
                                dynamics=args.dynamics or "hop")
    if args.hops is None and math.isinf(sim.step_tend[-1]):
        raise ValueError("a constant-temperature run needs --hops")
    try:
        rep = sim.advance(args.hops, progress=not args.json and sys.stderr.isatty())
    except KeyboardInterrupt:
        where = out or prepare_output(Path(f"dplm-explore-run-{sim.seed}-interrupted.npz"), False, what="interrupted state")
        sim.save(where, overwrite=args.overwrite)
        print(f"interrupted after {sim.hops} hops at T = {sim.T:.6g}; state saved to {where} "
              f"(continue: dplm-explore run --resume {where} [--hops N] --out NEW.npz)", file=sys.stderr)
        return 130
    bins = sim.temperature_bins()
    total_t = float(bins["time"].sum())
    e_mean = float((bins["E_mean"] * bins["time"]).sum() / total_t) / sim.params.n_particles if total_t > 0 else float("nan")
    summary = {
        "n_particles": sim.params.n_particles,
        "n_voids": sim.params.n_voids,
        "phi_v": sim.params.phi_v_realised,
        "hops": sim.hops,
        "time": sim.t,
        "T_final": sim.T,
        "e_final": sim.energy_per_particle,
        "e_mean": e_mean,
        "stop": rep.reason,
        "wall_s": rep.wall_s,
        "hops_per_s": rep.hops_per_s,
        "seed": sim.seed,
        "dynamics": sim.dynamics,
        **({"sojourns": sim.sojourn_counts} if sim.dynamics == "first-passage" else {}),
        "provenance": sim.provenance(),
    }
    if out is not None:
        summary["out"] = str(sim.save(out, overwrite=args.overwrite))
    if args.json:
        print(json.dumps(summary))
    else:
        for k, v in summary.items():
            if k != "provenance":
                print(f"{k:>12}: {v}")
    return 0


#: options of ``run`` that describe a new system (refused with --resume)
_RUN_SYSTEM_OPTIONS = ("L", "phi_v", "T_I", "T", "nu", "T_final")


def _cmd_bench(args) -> int:
    from .bench import DEFAULT_CASES, format_table, run_benchmarks

    cases = DEFAULT_CASES
    if args.quick:
        cases = [c for c in DEFAULT_CASES if c[0] <= 100]
    records = run_benchmarks(cases, hops=args.hops, progress=not args.json and sys.stderr.isatty(), dynamics=args.dynamics)
    if args.json:
        print(json.dumps(records))
    else:
        print(format_table(records))
        print(f"compile (or cache load) of the kernels: {records[0]['compile_s']:.2f} s")
    return 0


class UsageError(ValueError):
    """A command line argparse refuses (unknown option, bad type, missing value)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump): ``error: <prog>: <what is wrong>``."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from ._version import __version__

    parser = _Parser(prog="dplm-explore", description="Distinguishable-particle lattice model: kinetic Monte Carlo, theory and explorer.")
    parser.add_argument("--version", action="version", version=f"dplm-explore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one constant-temperature or cooling/heating run; prints a summary")
    from .cli_options import add_dynamics_option, add_g_options, add_system_options

    add_system_options(run)
    run.add_argument("--resume", default=None, help="continue a saved run (a state written by --out or by Ctrl-C) instead of building one")
    add_g_options(run)
    add_dynamics_option(run, default=None)
    run.add_argument("--T", type=float, default=None, help="constant run temperature (default T_I)")
    run.add_argument("--nu", type=float, default=None, help="cooling/heating rate from T_I to --T-final")
    run.add_argument("--T-final", dest="T_final", type=float, default=None)
    run.add_argument("--dT-step", dest="dT_step", type=float, default=None, help="temperature step of a ramp (default min(1e-4, span/100))")
    run.add_argument("--hops", type=int, default=None, help="number of hops (a ramp runs to its end by default)")
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--out", default=None, help="write the final state here (.npz); never overwritten without --overwrite")
    run.add_argument("--overwrite", action="store_true")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.set_defaults(func=_cmd_run)

    bench = sub.add_parser("bench", help="engine speed and memory on the standard cases")
    bench.add_argument("--hops", type=int, default=3_000_000, help="timed hops per case (default 3e6)")
    bench.add_argument("--quick", action="store_true", help="only the L = 100 cases")
    add_dynamics_option(bench)
    bench.add_argument("--json", action="store_true", help="print a JSON list of records")
    bench.set_defaults(func=_cmd_bench)

    try:
        from .cli_theory import register
    except ImportError:  # pragma: no cover - theory module not installed
        register = None
    if register is not None:
        register(sub)
    from .cli_measure import register as register_measure

    register_measure(sub)
    from .cli_app import register as register_app

    register_app(sub)
    from .cli_figure import register as register_figure
    register_figure(sub)
    from .cli_campaign import register as register_campaign
    register_campaign(sub)
    from .cli_binder import register as register_binder
    register_binder(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory (try a smaller --L or fewer --hops per call)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
