"""Slow, obviously-correct pure-Python reference of the kinetic Monte Carlo (tests only).

It recomputes every rate from scratch before every event, selects the event by a linear scan and
uses the pure-Python twins of the random-number generator and pair hash, so that for the same seed
it must reproduce the Numba kernel event by event (same void, same direction, same time up to
rounding). Constant-temperature programs only.

The scan visits the events in the kernel's order: first the four hops into the *hot* void (the
last void that hopped twice in a row), then every other void in index order. Any fixed order gives
each event probability rate / total; this one lets the kernel skip its sum tree while one void
keeps hopping.
"""

from __future__ import annotations

import math

import numpy as np

from .._rng import py_exponential, py_pair_uniform, py_uniform
from ..interactions import KIND_AFFINE, KIND_UNIFORM_DELTA


class ReferenceKMC:
    """Copy of a freshly built :class:`~dplm_explore.kmc.Simulation` (before any hop)."""

    def __init__(self, sim):
        if sim.hops:
            raise ValueError("the reference must start from a simulation that has not hopped yet")
        if sim.step_T.size != 1:
            raise ValueError("the reference runs constant-temperature programs only")
        self.L = sim.params.L
        self.occ = [int(x) for x in sim.occ]
        self.nbr = [[int(x) for x in row] for row in sim.nbr]
        self.vpos = [int(x) for x in sim.vpos]
        self.key = int(sim.key)
        self.gpart = sim.gpart.tolist()
        self.gV = sim.gV.tolist()
        self.dense = sim.dense.tolist() if sim.dense.shape[0] else None
        self.kind = int(sim.gkind)
        self.par = [float(x) for x in sim.gpar]
        self.table = [float(x) for x in sim.gtab]
        self.rng = [int(x) for x in sim.rng]
        self.w0 = float(sim.params.w0)
        self.T = float(sim.step_T[0])
        self.t = 0.0
        self.E = sim.energy
        self.hot = -1  # void that last made two hops in a row
        self.prev = -1  # void of the last hop

    def V(self, p: int, q: int) -> float:
        if self.dense is not None:
            return self.dense[p][q]
        for j in range(4):
            if self.gpart[p][j] == q:
                return self.gV[p][j]
        u = py_pair_uniform(self.key, p, q)
        if self.kind == KIND_AFFINE:
            return self.par[0] + self.par[1] * u
        if self.kind == KIND_UNIFORM_DELTA:
            return self.par[1] * u / self.par[0] if u < self.par[0] else self.par[1]
        n = len(self.table)
        x = u * (n - 1)
        i = min(int(x), n - 2)
        f = x - i
        return self.table[i] + f * (self.table[i + 1] - self.table[i])

    def hop_dE(self, v: int, d: int) -> float | None:
        """Energy change of the hop of the particle at nbr[vpos[v], d] into void v (None if void)."""
        y = self.vpos[v]
        s = self.nbr[y][d]
        p = self.occ[s]
        if p < 0:
            return None
        e_old = 0.0
        for dd in range(4):
            q = self.occ[self.nbr[s][dd]]
            if q >= 0:
                e_old += self.V(p, q)
        # bonds the particle would form at y, summed in the kernel's order (pairs by index)
        others = [dd for dd in range(4) if dd != d]
        terms = []
        for dd in others:
            q = self.occ[self.nbr[y][dd]]
            terms.append(self.V(p, q) if q >= 0 else 0.0)
        e_new = (terms[0] + terms[1]) + terms[2]
        return e_new - e_old

    def rates(self) -> list[tuple[int, int, float, float]]:
        """(void, direction, rate, dE) of every possible hop, in selection order."""
        out = []
        order = ([self.hot] if self.hot >= 0 else []) + [v for v in range(len(self.vpos)) if v != self.hot]
        for v in order:
            for d in range(4):
                dE = self.hop_dE(v, d)
                if dE is None:
                    continue
                rate = self.w0 * math.exp(-dE / self.T) if dE > 0.0 else self.w0
                out.append((v, d, rate, dE))
        return out

    def step(self) -> tuple[int, int, float]:
        """One event: returns (void, direction, time)."""
        events = self.rates()
        total = sum(r for _, _, r, _ in events)
        self.t = self.t + py_exponential(self.rng) / total
        x = py_uniform(self.rng) * total
        chosen = events[-1]
        for ev in events:
            if x < ev[2]:
                chosen = ev
                break
            x -= ev[2]
        v, d, _, dE = chosen
        y = self.vpos[v]
        s = self.nbr[y][d]
        p = self.occ[s]
        self.occ[y] = p
        self.occ[s] = -(v + 1)
        self.vpos[v] = s
        self.E += dE
        if v == self.prev:
            self.hot = v
        self.prev = v
        return v, d, self.t


def record_events(sim, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Run ``n`` hops of the compiled kernel, logging (void, direction) and time of each."""
    return sim.record_events(n)
