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

import numpy as np

from .._jit import jit
from ..lattice import DIRECTIONS, site_xy
from .tls import Traces
from ._common import positive_int, window_start

__all__ = ["EventLog", "record_window"]


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
