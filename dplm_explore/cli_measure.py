"""Measurement subcommands of ``dplm-explore``: batch runs and sweeps behind the paper's figures.

:func:`register` adds, to the package's argparse subparsers:

* ``cool``       — replicas of a cooling (or heating) ramp -> C_v(T) result file (``--out``) and the
  c1/c3 fit of C_v/T = c1 + c3 T^2 next to the theory (``--fit-out``, JSON) (Figs. 1, 7, 8);
* ``diffusion``  — D(T) at constant temperatures, T_g at D_r and m_k from the chosen fit forms (Fig. 5);
* ``tls``        — cool, then catalogue two-level systems over a window of hops; optionally their
  p2/p1 across temperatures (Fig. 3b) and displacement traces (Fig. 3a);
* ``returns``    — event- and snapshot-level P_ret, Q_ret during cooling (Fig. 4a);
* ``occupation`` — void occupation maps p_i^void at chosen temperatures during cooling (Fig. 2);
* ``hop-energy`` — measured P(dE) of hop attempts and q against the theory (Fig. 4b);
* ``sweep``      — any task over a parameter grid x seeds, on local processes or a Dask cluster.

Every subcommand writes its result with the library's atomic, never-overwriting save (exit code
2 and a message if a file exists, unless ``--overwrite``), shows tqdm progress bars on a terminal,
and with ``--json`` prints one JSON object on stdout. Handlers return an exit code: 0 success, 2
invalid input or existing output, 130 interrupted (partial results stay on disk).

Example::

    dplm-explore cool --L 40 --phi-v 0.005 --T-I 0.05 --T-final 0.002 --nu 1e-4 --replicas 8 \\
        --dT-bin 0.002 --workers 2 --out cv_TI0.05.npz --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ._io import npz_path
from .cli_options import add_dynamics_option, add_g_options, add_system_options, g_from_args, g_options_given, option_flag, options_given
from .schedules import NU_PAPER

__all__ = ["register"]


# ==================================================================================== helpers
def _add_ramp(p, *, required: bool = True) -> None:
    """--T-final, --nu and --dT-step of a linear temperature ramp from --T-I."""
    p.add_argument("--T-final", dest="T_final", type=float, required=required, default=None, help="final temperature of the ramp")
    p.add_argument("--nu", type=float, required=required, default=None, help="cooling/heating rate (temperature per time unit)")
    p.add_argument("--dT-step", dest="dT_step", type=float, default=None, help="temperature step of the ramp (default min(1e-4, span/100))")


def _add_system(p: argparse.ArgumentParser, *, init: bool = False, T_I_required: bool = True) -> None:
    """The options of a new system: --L and --phi-v (required), --w0, --T-I (and --init), g(V),
    dynamics and the root seed."""
    add_system_options(p, ("L", "phi_v", "w0", "T_I") + (("init",) if init else ()), required=("L", "phi_v") + (("T_I",) if T_I_required else ()))
    add_g_options(p)
    add_dynamics_option(p)
    p.add_argument("--seed", type=int, default=None, help="root seed (default: fresh entropy, recorded in the result)")


def _add_output(p: argparse.ArgumentParser, *, out_required: bool = True, what: str = "result file (.npz)") -> None:
    p.add_argument("--out", required=out_required, default=None, help=f"{what}; never overwritten without --overwrite")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--no-progress", dest="no_progress", action="store_true", help="no progress bars")


def _add_parallel(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core; 1 = in this process)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (e.g. tcp://host:8786): run on that cluster instead")


def _g(args):
    return g_from_args(args)


def _run_options(args, out, *, resume: bool = False):
    """The :class:`~dplm_explore.parallel.RunOptions` of ``--workers``, ``--scheduler``,
    ``--overwrite`` and the progress bars, writing to ``out``."""
    from .parallel import RunOptions

    return RunOptions(workers=args.workers, scheduler=args.scheduler, out=out, overwrite=args.overwrite, resume=bool(resume), progress=_progress(args))


def _progress(args) -> bool:
    return not getattr(args, "json", False) and not getattr(args, "no_progress", False) and sys.stderr.isatty()


def _sibling(out: Path, tag: str, ext: str) -> Path:
    """``cv.npz`` -> ``cv.<tag>.<ext>``."""
    return out.with_name(out.name[: -len(out.suffix)] + f".{tag}.{ext}" if out.suffix else out.name + f".{tag}.{ext}")


def _check_free(paths, overwrite: bool) -> None:
    for p in paths:
        if p is not None and Path(p).exists() and not overwrite:
            raise FileExistsError(f"{p} exists; pass --overwrite to replace it")


def _emit(args, summary: dict[str, Any]) -> None:
    """Print ``summary``: one standard-JSON object (NaN -> null) with ``--json``, else a table."""
    from .results import strict_json

    data = strict_json(summary)
    if args.json:
        print(json.dumps(data, allow_nan=False))
        return
    for k, v in data.items():
        if isinstance(v, float):
            v = f"{v:.6g}"
        elif isinstance(v, (list, dict)):
            v = json.dumps(v)
        print(f"{k:>16}: {v}")


def _handler(name: str, body):
    """Wrap ``body(args) -> int`` with the common error handling."""

    def run(args) -> int:
        try:
            return int(body(args) or 0)
        except (ValueError, FileExistsError) as exc:
            print(f"dplm-explore {name}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"dplm-explore {name}: interrupted; finished parts are saved in the output file(s)", file=sys.stderr)
            return 130

    run.__name__ = f"run_{name.replace('-', '_')}"
    return run


def _finite_list(a) -> list:
    return [None if not math.isfinite(float(x)) else float(x) for x in a]


# ======================================================================================= cool
def _cool(args) -> int:
    from .analysis.heat_capacity import measure_heat_capacity, theory_c1_c3
    from .results import write_json

    out = npz_path(args.out)
    fit_out = Path(args.fit_out) if args.fit_out else _sibling(out, "fit", "json")
    if not args.resume:
        _check_free([out, fit_out], args.overwrite)
    elif fit_out.exists() and not args.overwrite:
        raise FileExistsError(f"{fit_out} exists; pass --overwrite to replace it")
    g = _g(args)
    hc = measure_heat_capacity(args.L, args.phi_v, T_I=args.T_I, T_final=args.T_final, nu=args.nu, g=g, dT_step=args.dT_step, n_replicas=args.replicas,
                               seed=args.seed, w0=args.w0, init=args.init, dT_bin=args.dT_bin, n_log_bins=args.log_bins, scheme=args.scheme,
                               dynamics=args.dynamics, run=_run_options(args, out, resume=args.resume))
    fit: dict[str, Any]
    T_max = args.fit_T_max
    if T_max is None and args.init == "equilibrium":
        T_max = theory_c1_c3(g, args.T_I, hc.system["phi_v_realised"])["T_series_10pct"]
    try:
        if T_max is None:
            raise ValueError("no --fit-T-max given (and no theory default for a random start)")
        fit = hc.fit(T_max=T_max, T_min=args.fit_T_min).to_dict()
    except ValueError as exc:
        fit = {"error": str(exc)}
        if args.init == "equilibrium":
            fit["theory"] = theory_c1_c3(g, args.T_I, hc.system["phi_v_realised"])
    fit.update({"result_file": str(out), "fit_T_max_requested": T_max})
    write_json(fit_out, fit, overwrite=args.overwrite or args.resume)
    _emit(args, {"out": str(out), "fit_out": str(fit_out), "n_replicas": int(hc.seeds.size), "root_seed": hc.root_seed, "n_points": int(hc.T.size),
                 "T": _finite_list(hc.T), "Cv": _finite_list(hc.Cv), "Cv_err": _finite_list(hc.Cv_err), "fit": fit})
    return 0


def _add_cool(sub) -> None:
    p = sub.add_parser("cool", help="C_v(T) of a cooling/heating ramp over replicas, plus the c1/c3 fit (Figs. 1, 7, 8)",
                       description="Run replicas of a linear ramp T_I -> T_final at rate --nu (cooling if T_final < T_I), write C_v(T) = N^-1 dE/dT "
                                   "with error bars and a JSON fit of C_v/T = c1 + c3 T^2 next to the theory.")
    _add_system(p, init=True)
    _add_ramp(p)
    p.add_argument("--replicas", type=int, default=4, help="independent replicas (default 4)")
    b = p.add_mutually_exclusive_group()
    b.add_argument("--dT-bin", dest="dT_bin", type=float, default=None, help="linear temperature bins of this width (default: one per step)")
    b.add_argument("--log-bins", dest="log_bins", type=int, default=None, help="this many logarithmic temperature bins")
    p.add_argument("--scheme", default="midpoint", choices=["midpoint", "central"], help="derivative scheme (default midpoint)")
    p.add_argument("--fit-T-max", dest="fit_T_max", type=float, default=None, help="fit C_v/T = c1 + c3 T^2 for T <= this (default: theory's 10%% series limit)")
    p.add_argument("--fit-T-min", dest="fit_T_min", type=float, default=0.0, help="... and T >= this (default 0)")
    p.add_argument("--fit-out", dest="fit_out", default=None, help="fit JSON file (default: <out>.fit.json)")
    p.add_argument("--resume", action="store_true", help="continue a partial result file written by the same command")
    _add_parallel(p)
    _add_output(p)
    p.set_defaults(func=_handler("cool", _cool))


# ================================================================================== diffusion
def _diffusion(args) -> int:
    from .analysis.diffusion import measure_diffusion

    out = npz_path(args.out)
    _check_free([out], args.overwrite)
    d = measure_diffusion(args.L, args.phi_v, args.T, g=_g(args), time=args.time, hops=args.hops, n_samples=args.samples, n_replicas=args.replicas, seed=args.seed,
                          w0=args.w0, T_I=args.T_I, init=args.init, equilibrate_time=args.equilibrate_time, equilibrate_hops=args.equilibrate_hops,
                          fit_from=args.fit_from, method=args.method, forms=args.form, D_r=args.D_r, D_r_ext=args.D_r_ext,
                          run=_run_options(args, out))
    _emit(args, {"out": str(out), "T": _finite_list(d.T), "D": _finite_list(d.D), "D_err": _finite_list(d.D_err), "D_scaled": _finite_list(d.D_scaled),
                 "D_high_T_limit": d.D_f_limit, "D_r": d.D_r, "T_g_interp": d.T_g, "m_k_interp": d.m_k, "fits": d.fits, "root_seed": d.root_seed})
    return 0


def _add_diffusion(sub) -> None:
    p = sub.add_parser("diffusion", help="D(T) at constant temperatures, T_g at D_r and kinetic fragility m_k (Fig. 5)",
                       description="Measure the particle MSD and D = MSD/(4t) at each temperature (equilibrium start at that T unless --T-I), "
                                   "then T_g where D = D_r (D scaled to w0 = 1e6) and m_k, model-free and from the chosen fit forms.")
    _add_system(p, init=True, T_I_required=False)
    p.add_argument("--T", type=float, nargs="+", required=True, help="temperatures")
    m = p.add_mutually_exclusive_group(required=True)
    m.add_argument("--time", type=float, default=None, help="measurement duration per temperature (time units)")
    m.add_argument("--hops", type=int, default=None, help="measurement length per temperature (hops)")
    p.add_argument("--samples", type=int, default=40, help="MSD samples per run (default 40)")
    p.add_argument("--replicas", type=int, default=1, help="replicas per temperature (default 1)")
    p.add_argument("--equilibrate-time", dest="equilibrate_time", type=float, default=0.0, help="time run and discarded before measuring")
    p.add_argument("--equilibrate-hops", dest="equilibrate_hops", type=int, default=0, help="hops run and discarded before measuring")
    p.add_argument("--fit-from", dest="fit_from", type=float, default=0.5, help="D from the MSD slope over t >= this fraction of the run (default 0.5)")
    p.add_argument("--method", default="slope", choices=["slope", "ratio"], help="D from the late slope or from MSD(t)/(4t)")
    p.add_argument("--form", nargs="+", default=["vft"], choices=["vft", "myega", "parabolic"], help="fit forms for T_g and m_k (default vft)")
    p.add_argument("--D-r", dest="D_r", type=float, default=0.1, help="reference D for T_g (default 0.1, at w0 = 1e6)")
    p.add_argument("--D-r-ext", dest="D_r_ext", type=float, default=1e-14, help="extrapolation reference (default 1e-14)")
    _add_parallel(p)
    _add_output(p)
    p.set_defaults(func=_handler("diffusion", _diffusion))


# ======================================================================================== tls
#: options of ``tls`` that describe a new system (meaningless with --state)
_TLS_SYSTEM_OPTIONS = ("L", "phi_v", "g", "w0", "seed", "T_I", "dT_step")


def _cooled_or_loaded(args):
    from .kmc import Simulation
    from .schedules import make_program
    from .system import W0_DEFAULT

    if args.state is not None:
        if args.T_final is not None or args.nu is not None:
            raise ValueError("--state continues a saved system; --T-final/--nu apply to a new one")
        given = options_given(args, _TLS_SYSTEM_OPTIONS) + g_options_given(args)
        if given:
            raise ValueError(f"--state continues a saved system; {', '.join(given)} apply to a new one (the saved system's settings are used)")
        sim = Simulation.load(args.state)
        if args.dynamics is not None:
            sim.dynamics = args.dynamics
        return sim
    if args.dynamics is None:
        args.dynamics = "hop"
    if args.g is None:
        args.g = "uniform"
    if args.w0 is None:
        args.w0 = W0_DEFAULT
    missing = [option_flag(name) for name in ("L", "phi_v", "T_I", "T_final", "nu") if getattr(args, name) is None]
    if missing:
        raise ValueError(f"without --state, give {', '.join(missing)}")
    sim = Simulation.create(args.L, args.phi_v, g=_g(args), T_I=args.T_I, seed=args.seed, w0=args.w0,
                            program=make_program(args.T_I, args.T_final, args.nu, args.dT_step), dynamics=args.dynamics)
    sim.advance(progress=_progress(args))
    return sim


def _tls(args) -> int:
    from .analysis.tls import find_tls, measure_tls_boltzmann, trace_voids
    from .schedules import constant

    out = npz_path(args.out)
    bz_out = _sibling(out, "boltzmann", "npz") if args.boltzmann_T else None
    tr_out = _sibling(out, "traces", "npz") if args.trace else None
    _check_free([out, bz_out, tr_out], args.overwrite)
    sim = _cooled_or_loaded(args)
    T_hold = args.T if args.T is not None else sim.T
    sim.set_program(constant(T_hold))
    if args.state is not None:
        context = {"state_file": str(Path(args.state).resolve())}
    else:
        context = {"cooling": {"T_I": args.T_I, "T_final": args.T_final, "nu": args.nu, "dT_step": args.dT_step}}
    context["T_hold"] = T_hold
    cat = find_tls(sim, args.hops, min_transitions=args.min_transitions, progress=_progress(args), context=context)
    cat.save(out, overwrite=args.overwrite)
    summary: dict[str, Any] = {"out": str(out), "T": cat.T, "hops": cat.hops, "counts": cat.counts, "n_tls": len(cat),
                               "median_abs_z": float(_median_abs(cat.z))}
    if tr_out is not None and len(cat):
        k = min(args.trace, len(cat))
        tr = trace_voids(sim, cat.void[:k], interval=args.trace_interval, hops=args.trace_hops)
        tr.save(tr_out, overwrite=args.overwrite)
        summary["traces_out"] = str(tr_out)
    if bz_out is not None and len(cat):
        bz = measure_tls_boltzmann(sim, cat, args.boltzmann_T, args.boltzmann_hops, progress=_progress(args))
        bz.save(bz_out, overwrite=args.overwrite)
        summary.update({"boltzmann_out": str(bz_out), "dE_config": _finite_list(bz.dE_config), "dE_fit": _finite_list(bz.dE_fit),
                        "dE_fit_err": _finite_list(bz.dE_fit_err)})
    _emit(args, summary)
    return 0


def _median_abs(z):
    import numpy as np

    z = np.asarray(z, float)
    z = z[np.isfinite(z)]
    return float(np.median(np.abs(z))) if z.size else float("nan")


def _add_tls(sub) -> None:
    p = sub.add_parser("tls", help="catalogue two-level systems after cooling; p2/p1 vs exp(-dE/T) (Fig. 3)",
                       description="Cool a new system (or load --state), hold --T (default: the final temperature), find the voids confined to two "
                                   "sites over --hops hops, with measured p2/p1 and the configurational dE; optionally their p2/p1 at other "
                                   "temperatures (--boltzmann-T) and displacement traces (--trace).")
    p.add_argument("--state", default=None, help="a saved simulation state (dplm-explore run --out) instead of a new cooled system")
    add_system_options(p, ("L", "phi_v", "w0", "T_I"), defaults={"w0": None})
    add_g_options(p, default_family=None)
    add_dynamics_option(p, default=None)
    p.add_argument("--seed", type=int, default=None)
    _add_ramp(p, required=False)
    p.add_argument("--T", type=float, default=None, help="temperature held during the catalogue window (default: current)")
    p.add_argument("--hops", type=int, required=True, help="window length in hops")
    p.add_argument("--min-transitions", dest="min_transitions", type=int, default=4, help="hops a TLS must make in the window (default 4)")
    p.add_argument("--boltzmann-T", dest="boltzmann_T", type=float, nargs="+", default=None, help="temperatures for p2/p1 vs exp(-dE/T)")
    p.add_argument("--boltzmann-hops", dest="boltzmann_hops", type=int, default=200_000, help="hops per Boltzmann temperature (default 2e5)")
    p.add_argument("--trace", type=int, default=0, help="record d(t) traces of the first N TLS voids")
    p.add_argument("--trace-interval", dest="trace_interval", type=float, default=1e-6, help="trace sampling interval (default 1e-6)")
    p.add_argument("--trace-hops", dest="trace_hops", type=int, default=20_000, help="trace length in hops (default 2e4)")
    _add_output(p)
    p.set_defaults(func=_handler("tls", _tls))


# ===================================================================================== returns
def _returns(args) -> int:
    from .analysis.returns import measure_returns_during_cooling

    out = npz_path(args.out)
    _check_free([out], args.overwrite)
    r = measure_returns_during_cooling(args.L, args.phi_v, T_I=args.T_I, T_final=args.T_final, nu=args.nu, snapshot_interval=args.snapshot_interval, g=_g(args),
                                       dT_step=args.dT_step, dT_bin=args.dT_bin, seed=args.seed, w0=args.w0, progress=_progress(args), dynamics=args.dynamics)
    r.save(out, overwrite=args.overwrite)
    _emit(args, {"out": str(out), "snapshot_interval": r.snapshot_interval, "T": _finite_list(r.T), "P_ret_event": _finite_list(r.P_ret_event),
                 "Q_ret_event": _finite_list(r.Q_ret_event), "P_ret_snapshot": _finite_list(r.P_ret_snapshot), "Q_ret_snapshot": _finite_list(r.Q_ret_snapshot),
                 "hops": r.hops})
    return 0


def _add_returns(sub) -> None:
    p = sub.add_parser("returns", help="event- and snapshot-level return probabilities P_ret, Q_ret during cooling (Fig. 4a)")
    _add_system(p)
    _add_ramp(p)
    p.add_argument("--snapshot-interval", dest="snapshot_interval", type=float, required=True, help="time between configuration snapshots")
    p.add_argument("--dT-bin", dest="dT_bin", type=float, default=None, help="temperature bin width (default: one bin)")
    _add_output(p)
    p.set_defaults(func=_handler("returns", _returns))


# ================================================================================== occupation
def _occupation(args) -> int:
    from .analysis.occupation import cooling_simulation, void_occupation_during_cooling

    out = npz_path(args.out)
    _check_free([out], args.overwrite)
    sim = cooling_simulation(args.L, args.phi_v, T_I=args.T_I, T_final=args.T_final, nu=args.nu, g=_g(args), dT_step=args.dT_step, seed=args.seed, w0=args.w0,
                             dynamics=args.dynamics)
    vo = void_occupation_during_cooling(sim, sorted(args.at, reverse=True), args.hops, progress=_progress(args))
    vo.save(out, overwrite=args.overwrite)
    _emit(args, {"out": str(out), "T_start": _finite_list(vo.T_start), "T_end": _finite_list(vo.T_end), "hops": vo.hops.tolist(),
                 "sites_visited": [int(v) for v in vo.visited.sum(axis=(1, 2))]})
    return 0


def _add_occupation(sub) -> None:
    p = sub.add_parser("occupation", help="void occupation maps p_i^void at chosen temperatures during cooling (Fig. 2)")
    _add_system(p)
    _add_ramp(p)
    p.add_argument("--at", type=float, nargs="+", required=True, help="temperatures at which a window starts")
    p.add_argument("--hops", type=int, required=True, help="window length in particle hops (paper: 1e7)")
    _add_output(p)
    p.set_defaults(func=_handler("occupation", _occupation))


# ================================================================================== hop-energy
def _hop_energy(args) -> int:
    from .analysis.hop_energy import measure_hop_energies

    out = npz_path(args.out)
    _check_free([out], args.overwrite)
    h = measure_hop_energies(args.L, args.phi_v, T_I=args.T_I, g=_g(args), n_states=args.states, seed=args.seed, bins=args.bins,
                             isolated_only=not args.all_attempts, T_eval=args.T_eval, nu=args.nu, w0=args.w0, T_final=args.T_final)
    h.save(out, overwrite=args.overwrite)
    _emit(args, {"out": str(out), "n_samples": int(h.dE.size), "q": h.q, "q_err": h.q_err, "q_theory": h.q_theory, "dE_max": h.dE_max, "mean": h.mean,
                 "mean_theory": h.mean_theory, "std": h.std, "std_theory": h.std_theory, "chi2": h.chi2, "dof": h.dof, "chi2_pvalue": h.chi2_pvalue,
                 "ks_pvalue": h.ks_pvalue})
    return 0


def _add_hop_energy(sub) -> None:
    p = sub.add_parser("hop-energy", help="measured P(dE) of hop attempts and q against the theory (Fig. 4b)")
    _add_system(p)
    p.add_argument("--states", type=int, default=1, help="independent states pooled (default 1)")
    p.add_argument("--bins", type=int, default=60)
    p.add_argument("--all-attempts", dest="all_attempts", action="store_true", help="keep attempts next to other voids too")
    p.add_argument("--T-eval", dest="T_eval", type=float, default=None, help="temperature for dE_max (Eq. 5; default T_I)")
    p.add_argument("--nu", type=float, default=NU_PAPER, help=f"cooling rate: of Eq. 5's cut-off and of the ramp to --T-final (default {NU_PAPER:g})")
    p.add_argument("--T-final", dest="T_final", type=float, default=None, help="ramp the states to this temperature first")
    _add_output(p)
    p.set_defaults(func=_handler("hop-energy", _hop_energy))


# ======================================================================================= sweep
def _parse_value(s: str):
    try:
        return json.loads(s)
    except json.JSONDecodeError:
        return s


def _parse_pairs(items, *, multi: bool) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise ValueError(f"expected KEY=VALUE; got {it!r}")
        k, v = it.split("=", 1)
        k = k.strip().replace("-", "_")
        out[k] = [_parse_value(x) for x in v.split(",")] if multi else _parse_value(v)
    return out


def _sweep(args) -> int:
    from .sweep import run_sweep

    base = _parse_pairs(args.set, multi=False)
    grid = _parse_pairs(args.grid, multi=True)
    res = run_sweep(args.task, grid, base=base, n_seeds=args.seeds, seed=args.seed, run=_run_options(args, args.out, resume=args.resume))
    import numpy as np

    scal = {k: _finite_list(v) for k, v in res.outputs.items() if v.ndim == 1}
    _emit(args, {"out": str(Path(args.out) / "sweep.npz"), "task": res.task, "n_tasks": int(res.seeds.size), "root_seed": res.root_seed, "grid": res.grid,
                 "seeds": [int(s) for s in np.unique(res.seeds)], "outputs": scal})
    return 0


def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="a task over a parameter grid x seeds, on local processes or a Dask cluster",
                       description="Run TASK for every combination of --grid values (on top of --set values) and --seeds seeds. Tasks: run (constant T "
                                   "or ramp summary), cool (one replica's C_v), diffusion (D at T), hop-energy (q, P(dE) moments), tls (TLS counts "
                                   "after cooling). Every finished task is saved at once in OUT/tasks/, the collection in OUT/sweep.npz.")
    from .sweep import sweep_tasks

    p.add_argument("--task", required=True, choices=sorted(sweep_tasks()))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="fixed parameter, e.g. --set L=32 --set g=fermi-gauss")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...", help="swept parameter, e.g. --grid phi_v=0.005,0.01")
    p.add_argument("--seeds", type=int, default=1, help="seeds per parameter point (default 1)")
    p.add_argument("--seed", type=int, default=None, help="root seed")
    p.add_argument("--resume", action="store_true", help="run only the tasks missing in OUT")
    _add_parallel(p)
    _add_output(p, what="output directory")
    p.set_defaults(func=_handler("sweep", _sweep))


# ===================================================================================== register
def register(subparsers) -> None:
    """Add the measurement subcommands (cool, diffusion, tls, returns, occupation, hop-energy,
    sweep) to an argparse ``subparsers`` object."""
    for add in (_add_cool, _add_diffusion, _add_tls, _add_returns, _add_occupation, _add_hop_energy, _add_sweep):
        add(subparsers)
