"""Void occupation maps p_i^void (paper Fig. 2 and the inset of Fig. 10).

``p_i^void`` is the fraction of a window's duration during which site ``i`` held a void
(docs/physics.md section 4); the window is a number of particle hops (paper: 1e7 hops on 40 x 40).
The maps add up to the number of voids. The void positions at the start of each window are
recorded (the black squares of Fig. 2). Maps are indexed ``[y, x]`` (site ``s = x + L y``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..lattice import site_xy
from ..results import Result, base_provenance, register_result
from ._common import positive, positive_int, window_start
from ..schedules import make_program
from ..system import W0_DEFAULT

__all__ = ["VoidOccupation", "measure_void_occupation", "void_occupation_during_cooling"]


@register_result
@dataclass
class VoidOccupation(Result):
    """Void occupation maps of ``k`` windows: ``p`` float[k, L, L] time fractions;
    ``initial_sites`` int64[k, Nv] and ``initial_xy`` int64[k, Nv, 2] void positions at each
    window's start; ``T_start``, ``T_end``, ``T_mean`` float[k]; ``t0``, ``t1`` float[k];
    ``hops`` int64[k] (hops in each window; fewer than asked if the program ended)."""

    p: np.ndarray
    initial_sites: np.ndarray
    initial_xy: np.ndarray
    T_start: np.ndarray
    T_end: np.ndarray
    T_mean: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    hops: np.ndarray
    hops_requested: int
    system: dict
    provenance: dict

    @property
    def visited(self) -> np.ndarray:
        """bool[k, L, L]: sites a void held at some time in the window."""
        return self.p > 0


def _window(sim, hops: int, progress: bool):
    L = sim.params.L
    sim.settle()
    sites = sim.vpos.astype(np.int64).copy()
    b0 = sim.temperature_bins()
    T0, t0, h0 = sim.T, sim.t, sim.hops
    sim.reset_void_occupation()
    sim.advance(hops, progress=progress)
    occ = sim.void_occupation()
    dur = sim.t - t0
    p = occ / dur if dur > 0 else np.zeros((L, L))
    b1 = sim.temperature_bins()
    n0 = b0["time"].size
    tw = b1["time"].copy()
    tw[:n0] -= b0["time"]
    Tm = float((b1["T"] * tw).sum() / tw.sum()) if tw.sum() > 0 else sim.T
    return p, sites, T0, sim.T, Tm, t0, sim.t, sim.hops - h0


def measure_void_occupation(sim, hops: int, *, progress: bool = False) -> VoidOccupation:
    """p_i^void over the next ``hops`` hops of ``sim`` (its program continues), one window."""
    hops = positive_int("hops", hops)
    start = window_start(sim)
    w0 = time.perf_counter()
    p, sites, Ts, Te, Tm, t0, t1, h = _window(sim, hops, progress)
    L = sim.params.L
    return VoidOccupation(p=p[None], initial_sites=sites[None], initial_xy=site_xy(sites, L)[None].astype(np.int64), T_start=np.array([Ts]), T_end=np.array([Te]),
                          T_mean=np.array([Tm]), t0=np.array([t0]), t1=np.array([t1]), hops=np.array([h], np.int64), hops_requested=hops,
                          system={"params": sim.params.to_dict(), "seed": int(sim.seed)},
                          provenance=base_provenance(kind="void occupation", program=sim.program.to_dict() if sim.program else None, wall_s=time.perf_counter() - w0, **start))


def void_occupation_during_cooling(sim, T_marks, hops: int, *, progress: bool = False) -> VoidOccupation:
    """Fig. 2: run ``sim``'s cooling program until it reaches each temperature of ``T_marks``
    (decreasing) and measure p_i^void over the next ``hops`` hops there (cooling continues during
    the window, as in the paper)."""
    hops = positive_int("hops", hops)
    marks = np.atleast_1d(np.asarray(T_marks, float))
    if marks.size == 0 or np.any(~(marks > 0)):
        raise ValueError(f"T_marks must be positive temperatures; got {T_marks!r}")
    if np.any(np.diff(marks) >= 0):
        raise ValueError(f"T_marks must be strictly decreasing (a cooling run); got {marks.tolist()}")
    start = window_start(sim)
    w0 = time.perf_counter()
    out = []
    for T in marks:
        if sim.T > T:
            sim.advance(until_T=float(T), progress=progress)
        out.append(_window(sim, hops, progress))
    L = sim.params.L
    p, sites, Ts, Te, Tm, t0, t1, h = zip(*out)
    sites = np.stack(sites)
    return VoidOccupation(p=np.stack(p), initial_sites=sites, initial_xy=site_xy(sites, L).astype(np.int64), T_start=np.array(Ts), T_end=np.array(Te),
                          T_mean=np.array(Tm), t0=np.array(t0), t1=np.array(t1), hops=np.array(h, np.int64), hops_requested=hops,
                          system={"params": sim.params.to_dict(), "seed": int(sim.seed), "T_marks": marks.tolist()},
                          provenance=base_provenance(kind="void occupation during cooling", program=sim.program.to_dict() if sim.program else None,
                                                     wall_s=time.perf_counter() - w0, **start))


def cooling_simulation(L: int, phi_v: float, *, T_I: float, T_final: float, nu: float, g=None, dT_step=None, seed=None, w0: float = W0_DEFAULT,
                       dynamics: str = "hop"):
    """A :class:`Simulation` in equilibrium at ``T_I`` with a cooling program to ``T_final``."""
    from ..kmc import Simulation
    from ._common import as_g

    positive("nu", nu)
    return Simulation.create(L, phi_v, g=as_g(g), T_I=T_I, seed=seed, w0=w0, program=make_program(T_I, T_final, nu, dT_step), dynamics=dynamics)
