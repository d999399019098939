"""The campaign's one-piece measurements (:class:`~dplm_explore.campaign.TaskJob`): Fig. 4b's q
curve, Figs. 2/3/9/10 on the paper's 40 x 40 lattice, Fig. 5's D(T), the glycerol T_g (Fig. 6)
and the T_g of the uniform g."""

from __future__ import annotations

import dataclasses

import numpy as np

from .campaign import GLYCEROL, NU_SLOW, UNIFORM, TaskJob

__all__ = ["q_job", "later_jobs", "Q_T_I", "MSD_TARGET"]

#: q(T_I) from directly constructed states (Fig. 4b)
Q_T_I = (0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3)
#: each D(T) run lasts until the particles' MSD is about this (lattice spacings squared)
MSD_TARGET = 10.0
#: pilot hops that estimate D before the run length is chosen; cap on one run's hops
PILOT_HOPS = 20_000_000
MAX_RUN_HOPS = 600_000_000
#: TLS trace length shown per window (event times of the traced walkers)
TRACE_EVENTS = 4000
#: the paper's Fig. 2 windows: marks and hops per window
FIG2_MARKS = (0.2, 0.15, 0.1, 0.05)
FIG2_HOPS = 10_000_000


def _q(p: dict, seed: int, progress: bool) -> dict:
    from .analysis import measure_q_curve
    from .interactions import make_g

    return {"q": measure_q_curve(p["L"], p["phi_v"], p["T_I"], g=make_g(**p["g"]), n_states=p["n_states"], seed=seed, nu_cool=p["nu_cool"], w0=p["w0"])}


def q_job() -> TaskJob:
    return TaskJob("q-L200-p0.005", ("fig4b",), {"L": 200, "phi_v": 0.005, "g": dict(UNIFORM), "T_I": list(Q_T_I), "n_states": 8, "nu_cool": NU_SLOW,
                                               "w0": 1e6}, _q)


# ------------------------------------------------------------------------------ Figs. 2, 3, 9, 10
def _pick_multilevel(logs_T, prefer) -> tuple[int, dict]:
    """The void of the T = 0.1 window to show as a multi-level system: among voids whose four
    most-held sites hold >= 99 % of the window with each >= 1 %, the first of ``prefer`` (the
    TLS voids), else the one with most hops; failing that, the preferred void as it is."""
    ok = []
    for v in range(logs_T.vsite0.size):
        lv = logs_T.levels(v)
        f = lv["fraction"]
        if f.size >= 4 and f[:4].sum() >= 0.99 and f[3] >= 0.01:
            ok.append(v)
    for v in prefer:
        if v in ok:
            return int(v), logs_T.levels(v)
    if ok:
        v = max(ok, key=lambda v: int(np.count_nonzero(logs_T.void == v)))
        return int(v), logs_T.levels(v)
    return int(prefer[-1]), logs_T.levels(prefer[-1])


def _tls40(p: dict, seed: int, progress: bool) -> dict:
    """Figs. 2/3/9/10 from one cooling run. The paper shows a run in which two TLS emerged; a run
    with fewer is recorded in ``rejected`` and the next seed (``seed + attempt``) is tried."""
    rejected = []
    for attempt in range(p["max_attempts"]):
        out = _tls40_once(p, seed + attempt)
        if out is not None:
            out["chosen"].provenance["attempts"] = {"accepted_seed": seed + attempt, "rejected": rejected}
            return out
        rejected.append(seed + attempt)
    raise RuntimeError(f"no run with two TLS at T = {p['T_hold']} in {p['max_attempts']} seeds ({rejected})")


def _tls40_once(p: dict, seed: int) -> dict | None:
    from .analysis import VoidOccupation, cooling_simulation, find_tls, measure_tls_boltzmann
    from .analysis.trajectories import record_window
    from .interactions import make_g
    from .lattice import site_xy
    from .results import base_provenance
    from .schedules import constant

    sim = cooling_simulation(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=make_g(**p["g"]), seed=seed, w0=p["w0"])
    logs, maps = [], []
    for T in p["T_marks"]:
        sim.advance(until_T=float(T))
        sim.reset_void_occupation()
        log = record_window(sim, p["hops"])
        maps.append(sim.void_occupation() / (log.t1 - log.t0))
        logs.append(log)
    L = sim.params.L
    sites = np.stack([lg.vsite0 for lg in logs])
    occ = VoidOccupation(p=np.stack(maps), initial_sites=sites, initial_xy=site_xy(sites, L).astype(np.int64),
                         T_start=np.array([lg.start["T_start"] for lg in logs]), T_end=np.array([lg.end_T for lg in logs]),
                         T_mean=np.array([lg.T_mean for lg in logs]), t0=np.array([lg.t0 for lg in logs]), t1=np.array([lg.t1 for lg in logs]),
                         hops=np.array([lg.hops for lg in logs], np.int64), hops_requested=int(p["hops"]),
                         system={"params": sim.params.to_dict(), "seed": int(sim.seed), "T_marks": list(p["T_marks"])},
                         provenance=base_provenance(kind="void occupation during cooling", program=sim.program.to_dict(), event_level=True))
    sim.set_program(constant(float(p["T_hold"])))
    cat = find_tls(sim, p["hops"], min_transitions=p["min_transitions"], context={"after": "fig2 occupation windows", "T_hold": p["T_hold"]})
    if len(cat.void) < 2:
        return None
    order = np.argsort(-cat.n_transitions, kind="stable")[:2]
    fields = ("void", "site1", "site2", "xy1", "xy2", "p1", "p2", "ratio", "ratio_err", "n_transitions", "dE", "boltzmann", "z")
    chosen = dataclasses.replace(cat, **{f: getattr(cat, f)[order] for f in fields})
    ab = [int(v) for v in chosen.void]
    out = {"occupation": occ, "tls": cat, "chosen": chosen}
    for T, lg in zip(p["T_marks"], logs):
        out[f"traces_T{T:g}"] = lg.traces(voids=ab, max_events=p["trace_events"], system={"L": L, "seed": int(sim.seed)})
    i_ml = [k for k, T in enumerate(p["T_marks"]) if abs(T - p["multilevel_T"]) < 1e-12][0]
    v_ml, lv = _pick_multilevel(logs[i_ml], ab[::-1])
    parts = logs[i_ml].partners(v_ml, 3)
    ml = logs[i_ml].traces(voids=[v_ml], particles=parts, max_events=p["trace_events"],
                           system={"L": L, "seed": int(sim.seed), "void": v_ml, "is_tls_void": v_ml in ab,
                                   "tls_label": "AB"[ab.index(v_ml)] if v_ml in ab else None, "levels_sites": lv["sites"].tolist(),
                                   "levels_xy": lv["xy"].tolist(), "levels_fraction": lv["fraction"].tolist()})
    out["multilevel"] = ml
    out["boltzmann"] = measure_tls_boltzmann(sim, chosen, p["boltzmann_T"], p["boltzmann_hops"], equilibrate_hops=p["boltzmann_equilibrate_hops"])
    return out


def tls_job() -> TaskJob:
    return TaskJob("tls-L40-p0.005-T0.25", ("fig2", "fig3", "fig9", "fig10"),
                   {"L": 40, "phi_v": 0.005, "g": dict(UNIFORM), "T_I": 0.25, "T_final": 0.04, "nu": NU_SLOW, "T_marks": list(FIG2_MARKS), "hops": FIG2_HOPS,
                    "T_hold": 0.05, "min_transitions": 4, "max_attempts": 8, "trace_events": TRACE_EVENTS, "multilevel_T": 0.1,
                    "boltzmann_T": [0.033, 0.04, 0.05, 0.065, 0.08, 0.1], "boltzmann_hops": 3_000_000, "boltzmann_equilibrate_hops": 300_000,
                    "w0": 1e6}, _tls40)


# --------------------------------------------------------------------------------- D(T) and T_g
def _diffusion(p: dict, seed: int, progress: bool) -> dict:
    """D(T) with each temperature run until MSD ~ MSD_TARGET: a pilot run estimates D, then the
    measured runs (replicas) last ``MSD_TARGET / (4 D_pilot)`` (at most MAX_RUN_HOPS hops)."""
    from .analysis import measure_diffusion
    from .interactions import make_g

    g = make_g(**p["g"])
    Ts = np.asarray(p["T"], float)
    pilot = measure_diffusion(p["L"], p["phi_v"], Ts, g=g, hops=p["pilot_hops"], n_replicas=1, seed=seed + 1, w0=p["w0"], forms=())
    rate = pilot.hops[:, 0] / np.nanmax(pilot.t[:, 0], axis=-1)  # hops per time unit
    times = p["msd_target"] / (4 * np.maximum(pilot.D, 1e-300))
    times = np.minimum(times, p["max_run_hops"] / rate)
    d = measure_diffusion(p["L"], p["phi_v"], Ts, g=g, time=times, n_replicas=p["n_replicas"], seed=seed, w0=p["w0"], forms=tuple(p["forms"]))
    return {"diffusion": d, "pilot": pilot}


def _dj(name, figures, L, phi_v, g, T, n_replicas, forms) -> TaskJob:
    return TaskJob(name, figures, {"L": L, "phi_v": phi_v, "g": dict(g), "T": list(T), "n_replicas": n_replicas, "forms": list(forms), "msd_target": MSD_TARGET,
                                   "pilot_hops": PILOT_HOPS, "max_run_hops": MAX_RUN_HOPS, "w0": 1e6}, _diffusion)


def later_jobs() -> list[TaskJob]:
    return [
        tls_job(),
        _dj("D-fg-L100-p0.01", ("fig5",), 100, 0.01, GLYCEROL, (0.5, 0.4, 0.35, 0.31, 0.28, 0.26, 0.245, 0.23), 2, ("vft", "myega", "parabolic")),
        _dj("D-fg-L100-p0.031", ("fig6",), 100, 0.031, GLYCEROL, (0.4, 0.33, 0.29, 0.27, 0.25, 0.24, 0.23, 0.22), 2, ("vft",)),
        _dj("D-u-L100-p0.005", ("Tg-uniform",), 100, 0.005, UNIFORM, (0.3, 0.25, 0.2, 0.18, 0.17, 0.16, 0.15, 0.14), 2, ("vft",)),
    ]
