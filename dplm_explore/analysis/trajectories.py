"""Event-level trajectories: every hop of a window, replayed into exact displacement-time traces.

:func:`record_window` runs a simulation for a window of hops with the engine's hop log on and
replays the log once to name the particle of each hop. The :class:`EventLog` it returns gives,
for any voids and particles chosen *after* the window ran, their exact unwrapped positions at
every one of their hops (:meth:`EventLog.traces`): nothing between two samples can be missed, so a
two-level system that flips faster than any fixed sampling interval still shows every flip
(Figs. 3a, 9, 10). It also gives each void's sites with their time fractions
(:meth:`EventLog.levels`) and the particles that hopped with a void (:meth:`EventLog.partners`).
"""

from __future__ import annotations

from dataclasses import dataclass

import dataclasses

import numpy as np

from .._jit import jit
from ..lattice import DIRECTIONS, site_xy
from ..system import W0_DEFAULT
from .tls import Traces
from ._common import positive_int, window_start

__all__ = ["EventLog", "record_window", "measure_tls_history", "TRACE_EVENTS"]

#: events of the traced walkers kept per window by :func:`measure_tls_history`
TRACE_EVENTS = 4000


@jit
def _hopping_particles(log, nbr, occ, vpos, out):
    """Replay ``m`` logged hops: ``out[k]`` = the particle of hop ``k``. log: int64[m, 2] (void,
    direction); nbr: int32[S, 4]; occ: int32[S] (particle id, or -(v + 1) for void v) and vpos:
    int32[Nv], both updated in place; out: int64[m]."""
    for k in range(log.shape[0]):
        v = log[k, 0]
        y = vpos[v]
        s = nbr[y, log[k, 1]]
        p = occ[s]
        out[k] = p
        occ[y] = p
        occ[s] = -(v + 1)
        vpos[v] = s


@dataclass
class EventLog:
    """The hops of one window: ``void``, ``direction``, ``particle`` int64[m], ``t`` float[m]
    (event times); ``t0``, ``t1`` the window; ``vsite0`` int64[Nv] void sites and ``vxy0``,
    ``pxy0`` float[., 2] unwrapped void/particle positions at the window start; ``T_mean``
    time-weighted window temperature; ``L``; ``start``: :func:`window_start` of the window."""

    void: np.ndarray
    direction: np.ndarray
    particle: np.ndarray
    t: np.ndarray
    t0: float
    t1: float
    vsite0: np.ndarray
    vxy0: np.ndarray
    pxy0: np.ndarray
    T_mean: float
    end_T: float
    L: int
    start: dict

    @property
    def hops(self) -> int:
        return int(self.void.size)

    def _void_path(self, v: int):
        sel = np.flatnonzero(self.void == v)
        steps = DIRECTIONS[self.direction[sel]].astype(float)
        return sel, self.vxy0[v] + np.cumsum(steps, axis=0)

    def _particle_path(self, p: int):
        sel = np.flatnonzero(self.particle == p)
        steps = DIRECTIONS[(self.direction[sel] + 2) & 3].astype(float)
        return sel, self.pxy0[p] + np.cumsum(steps, axis=0)

    def levels(self, v: int) -> dict[str, np.ndarray]:
        """Sites void ``v`` held in the window: ``sites`` int64[n], ``xy`` int64[n, 2] (lattice
        coordinates) and ``fraction`` float[n] of the window's time on each, most held first."""
        v = int(v)
        sel, xy = self._void_path(v)
        times = np.concatenate([[self.t0], self.t[sel], [self.t1]])
        pos = np.concatenate([self.vxy0[v][None], xy]) % self.L
        sites = (pos[:, 0] + self.L * pos[:, 1]).astype(np.int64)
        dwell = np.diff(times)
        u, inv = np.unique(sites, return_inverse=True)
        frac = np.bincount(inv, weights=dwell, minlength=u.size) / max(self.t1 - self.t0, 1e-300)
        order = np.argsort(-frac)
        return {"sites": u[order], "xy": site_xy(u[order], self.L).astype(np.int64), "fraction": frac[order]}

    def partners(self, v: int, k: int = 3) -> np.ndarray:
        """int64[<= k]: the particles that hopped into void ``v`` most often in the window."""
        p = self.particle[self.void == int(v)]
        if p.size == 0:
            return np.zeros(0, np.int64)
        u, c = np.unique(p, return_counts=True)
        return u[np.argsort(-c, kind="stable")[:k]].astype(np.int64)

    def traces(self, voids=(), particles=(), *, max_events: int | None = None, system: dict | None = None) -> Traces:
        """Exact traces of ``voids`` and ``particles``: their unwrapped positions at the window
        start and after each of their hops, on the union of their event times (a step function;
        ``interval = 0`` marks event-level sampling). ``max_events``: keep the first this many of
        those times (the trace then ends early; its last time says where)."""
        from ..results import base_provenance

        voids = np.asarray(voids, np.int64).reshape(-1)
        particles = np.asarray(particles, np.int64).reshape(-1)
        paths = [self._void_path(int(v)) for v in voids] + [self._particle_path(int(p)) for p in particles]
        idx = np.unique(np.concatenate([s for s, _ in paths])) if paths else np.zeros(0, np.int64)
        if max_events is not None:
            idx = idx[: positive_int("max_events", max_events)]
        t = np.concatenate([[self.t0], self.t[idx]])
        cols = []
        for (sel, xy), x0 in zip(paths, [self.vxy0[v] for v in voids] + [self.pxy0[p] for p in particles]):
            # position after the last own hop at or before each time
            k = np.searchsorted(sel, np.concatenate([[-1], idx]), side="right") - 1
            full = np.concatenate([x0[None], xy])
            cols.append(full[k + 1])
        allxy = np.stack(cols, axis=1) if cols else np.zeros((t.size, 0, 2))
        nv = voids.size
        vxy, pxy = allxy[:, :nv], allxy[:, nv:]
        return Traces(t=t, void_xy=vxy, particle_xy=pxy, void_d=np.linalg.norm(vxy - vxy[:1], axis=-1), particle_d=np.linalg.norm(pxy - pxy[:1], axis=-1),
                      voids=voids, particles=particles, interval=0.0, T=float(self.T_mean), system=dict(system or {"L": self.L}),
                      provenance=base_provenance(kind="event-level traces", window={"t0": self.t0, "t1": self.t1, "hops": self.hops}, **self.start))


def record_window(sim, hops: int) -> EventLog:
    """Run ``sim`` for ``hops`` hops (its program continues) logging every hop; see
    :class:`EventLog`. Memory: about 32 bytes per hop."""
    hops = positive_int("hops", hops)
    sim.settle()
    start = window_start(sim)
    occ = np.ascontiguousarray(sim.occ).copy()
    vpos = np.ascontiguousarray(sim.vpos).copy()
    vsite0 = vpos.astype(np.int64).copy()
    vxy0, pxy0 = sim.void_positions().astype(float), sim.particle_positions().astype(float)
    b0 = sim.temperature_bins()
    t0 = sim.t
    log, ts = sim.record_events(hops)
    b1 = sim.temperature_bins()
    tw = b1["time"].copy()
    tw[: b0["time"].size] -= b0["time"]
    T_mean = float((b1["T"] * tw).sum() / tw.sum()) if tw.sum() > 0 else float(sim.T)
    part = np.empty(log.shape[0], np.int64)
    _hopping_particles(log, sim.nbr, occ, vpos, part)
    return EventLog(void=log[:, 0].copy(), direction=log[:, 1].copy(), particle=part, t=ts.copy(), t0=float(t0), t1=float(sim.t), vsite0=vsite0,
                    vxy0=vxy0, pxy0=pxy0, T_mean=T_mean, end_T=float(sim.T), L=int(sim.params.L), start=start)


def _pick_multilevel(logs_T, prefer) -> tuple[int, dict]:
    """The void of the T = 0.1 window to show as a multi-level system: the one with the most
    levels held at least 1 % of the window (at most four counted; among equals the first of
    ``prefer``, the TLS voids, then the one that hopped most)."""
    def n_levels(v):
        return min(4, int(np.count_nonzero(logs_T.levels(v)["fraction"] >= 0.01)))

    hops = np.bincount(logs_T.void, minlength=logs_T.vsite0.size)
    rank = {v: i for i, v in enumerate(prefer)}
    best = max(range(logs_T.vsite0.size), key=lambda v: (n_levels(v), -rank.get(v, len(rank)), int(hops[v])))
    return int(best), logs_T.levels(best)


def measure_tls_history(L: int, phi_v: float, *, g, T_I: float, T_final: float, nu: float, T_marks, hops: int, T_hold: float, seed: int,
                        min_transitions: int = 4, trace_events: int = TRACE_EVENTS, multilevel_T: float = 0.1, boltzmann_T=(0.05,),
                        boltzmann_hops: int = 1_000_000, boltzmann_equilibrate_hops: int = 0, max_attempts: int = 8, max_log_ratio: float = 20.0,
                        w0: float = W0_DEFAULT) -> dict:
    """The history of the TLS of one cooling run (paper Figs. 2, 3, 9, 10).

    A system in equilibrium at ``T_I`` is cooled at ``nu``; at each of ``T_marks`` (decreasing) a
    window of ``hops`` hops is recorded hop by hop (cooling continues) and gives the void
    occupation map. Then ``T_hold`` is held and the TLS catalogued over ``hops`` hops; the two
    with the most transitions (A, B) are traced exactly through every earlier window
    (``trace_events`` events each), a multi-level void at ``multilevel_T`` is picked (the void
    with most levels held >= 1 %, B or A among equals) with the three particles that hop with it,
    and A and B are held at each of ``boltzmann_T`` for the p2/p1 check. A and B are the two TLS
    whose levels are both held most (smallest |ln p2/p1|, at most ``max_log_ratio``: bistable
    traces like the paper's). The paper shows a run in which two such TLS emerged; a run with
    fewer is recorded in ``rejected`` and the next seed (``seed + attempt``) is tried.

    Returns a dict of Results: ``occupation``, ``tls`` (catalogue), ``chosen`` (A, B),
    ``traces_T<mark>`` per window, ``multilevel``, ``boltzmann``."""
    p = {"L": L, "phi_v": phi_v, "g": g, "T_I": T_I, "T_final": T_final, "nu": nu, "T_marks": list(T_marks), "hops": positive_int("hops", hops),
         "T_hold": T_hold, "min_transitions": min_transitions, "trace_events": trace_events, "multilevel_T": multilevel_T,
         "boltzmann_T": list(boltzmann_T), "boltzmann_hops": boltzmann_hops, "boltzmann_equilibrate_hops": boltzmann_equilibrate_hops, "w0": w0,
         "max_attempts": positive_int("max_attempts", max_attempts), "max_log_ratio": float(max_log_ratio)}
    if multilevel_T not in p["T_marks"]:
        raise ValueError(f"multilevel_T must be one of T_marks {p['T_marks']}; got {multilevel_T!r}")
    rejected = []
    for attempt in range(p["max_attempts"]):
        out = _history_once(p, int(seed) + attempt)
        if out is not None:
            out["chosen"].provenance["attempts"] = {"accepted_seed": seed + attempt, "rejected": rejected}
            return out
        rejected.append(int(seed) + attempt)
    raise RuntimeError(f"no run with two TLS at T = {p['T_hold']} in {p['max_attempts']} seeds ({rejected})")


def _history_once(p: dict, seed: int) -> dict | None:
    from ..lattice import site_xy
    from ..results import base_provenance
    from ..schedules import constant
    from .occupation import VoidOccupation, cooling_simulation
    from .tls import find_tls, measure_tls_boltzmann

    sim = cooling_simulation(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=p["g"], seed=seed, w0=p["w0"])
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
    # A and B: the two TLS whose levels are both held most (smallest |ln p2/p1|), as the
    # paper's bistable traces; a run with fewer than two within max_log_ratio is rejected
    balance = np.abs(np.log(np.where((cat.p1 > 0) & (cat.p2 > 0), cat.p2 / np.where(cat.p1 > 0, cat.p1, 1.0), np.inf)))
    eligible = np.flatnonzero(balance <= p["max_log_ratio"])
    if eligible.size < 2:
        return None
    order = eligible[np.argsort(balance[eligible], kind="stable")[:2]]
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
