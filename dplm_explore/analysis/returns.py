"""Return probabilities P_ret (particles) and Q_ret (voids) during a temperature program (Fig. 4a).

``P_ret`` is the probability that the next hop of a particle reverses its previous hop; ``Q_ret``
the same for voids (docs/physics.md section 4). Two levels are measured on the same run:

* **event level** (exact): the engine counts, in every program step, the hops that reverse the
  same particle's (void's) previous hop and those that do not (a hop counts only if the
  particle/void hopped before). The counts are summed over the temperature bins.
* **snapshot level** (the paper's Fig. 4a): positions (unwrapped) are read every
  ``snapshot_interval`` time units; for each particle (void) the sequence of *distinct*
  consecutive positions is formed, and a move from position ``x_k`` to ``x_{k+1}`` is a return
  if ``x_{k+1} == x_{k-1}``. Back-and-forth hops between two snapshots are invisible, so this is
  a lower bound of the event-level value, approached as the interval shrinks. The interval is
  recorded with the result.

Counts are attributed to the temperature bin of the program step in which the hop happened
(event level) or of the snapshot at which the new position is seen (snapshot level). Errors are
binomial, ``sqrt(p (1 - p) / n)`` (hops of one particle are correlated, so they understate the
scatter between independent runs).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..results import Result, base_provenance, register_result
from ._common import positive, window_start
from ..schedules import make_program
from ..system import W0_DEFAULT
from ._binning import return_probability, temperature_edges

__all__ = ["ReturnProbabilities", "SnapshotReturnCounter", "measure_return_probabilities", "measure_returns_during_cooling", "return_probability"]


class SnapshotReturnCounter:
    """Streaming snapshot-level return counter for ``n`` walkers.

    Feed unwrapped positions ``int/float[n, 2]`` with :meth:`update`; it keeps, per walker, the
    last two distinct positions seen, and returns the boolean masks ``(returned, not_returned)``
    of the walkers whose newly seen distinct position does / does not equal the one before the
    previous (walkers seen at fewer than two distinct positions before are in neither)."""

    def __init__(self, pos0):
        pos0 = np.asarray(pos0)
        if pos0.ndim != 2 or pos0.shape[1] != 2:
            raise ValueError(f"positions must have shape [n, 2]; got {pos0.shape}")
        self.last = pos0.copy()
        self.prev = pos0.copy()
        self.has_prev = np.zeros(pos0.shape[0], bool)

    def update(self, pos) -> tuple[np.ndarray, np.ndarray]:
        pos = np.asarray(pos)
        if pos.shape != self.last.shape:
            raise ValueError(f"positions must have shape {self.last.shape}; got {pos.shape}")
        moved = np.any(pos != self.last, axis=1)
        back = np.all(pos == self.prev, axis=1)
        ret = moved & self.has_prev & back
        non = moved & self.has_prev & ~back
        self.prev[moved] = self.last[moved]
        self.last[moved] = pos[moved]
        self.has_prev |= moved
        return ret, non


@register_result
@dataclass
class ReturnProbabilities(Result):
    """Event- and snapshot-level return probabilities per temperature bin.

    ``T_edges`` float[m + 1], ``T`` float[m] (time-weighted bin temperature); ``counts_event``,
    ``counts_snapshot`` int64[m, 4] (particle returns, particle non-returns, void returns, void
    non-returns); ``P_ret_event``, ``Q_ret_event``, ``P_ret_snapshot``, ``Q_ret_snapshot`` and
    their ``*_err`` float[m]; ``snapshot_interval``; ``n_snapshots``; ``hops``; ``t0``, ``t1``."""

    T_edges: np.ndarray
    T: np.ndarray
    counts_event: np.ndarray
    counts_snapshot: np.ndarray
    P_ret_event: np.ndarray
    P_ret_event_err: np.ndarray
    Q_ret_event: np.ndarray
    Q_ret_event_err: np.ndarray
    P_ret_snapshot: np.ndarray
    P_ret_snapshot_err: np.ndarray
    Q_ret_snapshot: np.ndarray
    Q_ret_snapshot_err: np.ndarray
    snapshot_interval: float
    n_snapshots: int
    hops: int
    t0: float
    t1: float
    system: dict
    provenance: dict


def _bin_of(T: float, edges: np.ndarray) -> int:
    i = int(np.searchsorted(edges, T, side="right")) - 1
    if T == edges[-1]:
        i = edges.size - 2
    return i if 0 <= i < edges.size - 1 else -1


def measure_return_probabilities(sim, *, snapshot_interval: float, T_edges=None, dT_bin: float | None = None, time: float | None = None,
                                 until_T: float | None = None, progress: bool = False) -> ReturnProbabilities:
    """Run ``sim``'s current program (to its end, for ``time`` time units, or until ``until_T``),
    reading positions every ``snapshot_interval``, and return both levels of P_ret, Q_ret per
    temperature bin (``T_edges``, or bins of ``dT_bin`` over the temperatures run, or one bin)."""
    dt = positive("snapshot_interval", snapshot_interval)
    if time is not None:
        positive("time", time)
    if until_T is not None:
        positive("until_T", until_T)
    if time is None and until_T is None and math.isinf(sim.step_tend[-1]):
        raise ValueError("the program never ends: give time or until_T")
    t_start = sim.t
    t_end = sim.step_tend[-1]
    if time is not None:
        t_end = min(t_end, t_start + float(time))
    if until_T is not None:
        t_T = sim.time_at_T(float(until_T))
        if math.isinf(t_T):
            # as Simulation.advance: a target the program never reaches is an error, not "run it all"
            raise ValueError(f"until_T={until_T!r} is never reached by the current program (T = {sim.T!r} now, "
                             f"{sim.program.T_final if sim.program else None!r} at its end)")
        t_end = min(t_end, t_T)
    # temperatures that will be visited: the program steps overlapping [t_start, t_end]
    starts = np.concatenate([[sim.program_t0], sim.step_tend[:-1]])
    vis = (sim.step_tend > t_start) & (starts < t_end)
    Tvis = sim.step_T[vis] if vis.any() else np.array([sim.T])
    if T_edges is not None:
        edges = np.asarray(T_edges, float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"T_edges must be increasing (>= 2 values); got {T_edges!r}")
    elif dT_bin is not None and Tvis.max() > Tvis.min():
        pad = 1e-9 * Tvis.max()
        edges = temperature_edges(Tvis.min() - pad, Tvis.max() + pad, dT_bin=dT_bin)
    else:
        lo, hi = float(Tvis.min()), float(Tvis.max())
        edges = np.array([lo * (1 - 1e-9), hi * (1 + 1e-9)])
    m = edges.size - 1
    start = window_start(sim)
    b0 = sim.temperature_bins()
    n0 = b0["T"].size
    hops0 = sim.hops
    pc = SnapshotReturnCounter(sim.particle_positions())
    vc = SnapshotReturnCounter(sim.void_positions())
    snap = np.zeros((m, 4), np.int64)
    n_snap = 0
    k = 0
    wall0 = _now()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=float(t_end - t_start), unit="t", dynamic_ncols=True, desc="snapshots")
    try:
        while True:
            target = t_start + (k + 1) * dt
            if target > t_end:
                break
            rep = sim.advance(time=max(0.0, target - sim.t))
            k += 1
            n_snap += 1
            i = _bin_of(sim.T, edges)
            pr, pn = pc.update(sim.particle_positions())
            vr, vn = vc.update(sim.void_positions())
            if i >= 0:
                snap[i] += (int(pr.sum()), int(pn.sum()), int(vr.sum()), int(vn.sum()))
            if bar is not None:
                bar.update(dt)
            if rep.reason in ("program-end", "frozen"):
                break
    finally:
        if bar is not None:
            bar.close()
    b1 = sim.temperature_bins()
    ev = np.zeros((m, 4), np.int64)
    Tw = np.zeros(m)
    tw = np.zeros(m)
    keys = ("p_returns", "p_nonreturns", "v_returns", "v_nonreturns")
    for j in range(b1["T"].size):
        c = np.array([b1[key][j] - (b0[key][j] if j < n0 else 0) for key in keys], np.int64)
        tj = b1["time"][j] - (b0["time"][j] if j < n0 else 0.0)
        i = _bin_of(float(b1["T"][j]), edges)
        if i < 0:
            continue
        ev[i] += c
        Tw[i] += b1["T"][j] * tj
        tw[i] += tj
    with np.errstate(invalid="ignore", divide="ignore"):
        Tm = np.where(tw > 0, Tw / tw, 0.5 * (edges[1:] + edges[:-1]))
    Pe, Pe_err = return_probability(ev[:, 0], ev[:, 1])
    Qe, Qe_err = return_probability(ev[:, 2], ev[:, 3])
    Ps, Ps_err = return_probability(snap[:, 0], snap[:, 1])
    Qs, Qs_err = return_probability(snap[:, 2], snap[:, 3])
    return ReturnProbabilities(
        T_edges=edges, T=Tm, counts_event=ev, counts_snapshot=snap, P_ret_event=Pe, P_ret_event_err=Pe_err, Q_ret_event=Qe, Q_ret_event_err=Qe_err,
        P_ret_snapshot=Ps, P_ret_snapshot_err=Ps_err, Q_ret_snapshot=Qs, Q_ret_snapshot_err=Qs_err, snapshot_interval=dt, n_snapshots=n_snap,
        hops=sim.hops - hops0, t0=float(t_start), t1=sim.t, system={"params": sim.params.to_dict(), "seed": int(sim.seed)},
        provenance=base_provenance(kind="return probabilities", program=sim.program.to_dict() if sim.program else None, wall_s=_now() - wall0, **start),
    )


def measure_returns_during_cooling(L: int, phi_v: float, *, T_I: float, T_final: float, nu: float, snapshot_interval: float, g=None, dT_step=None,
                                   dT_bin: float | None = None, seed=None, w0: float = W0_DEFAULT, init: str = "equilibrium", progress: bool = False,
                                   dynamics: str = "hop") -> ReturnProbabilities:
    """Build a system (equilibrium at ``T_I``), ramp it to ``T_final`` at ``nu`` and measure
    :func:`measure_return_probabilities` along the way."""
    from ..kmc import Simulation
    from ._common import as_g

    prog = make_program(T_I, T_final, nu, dT_step)
    sim = Simulation.create(L, phi_v, g=as_g(g), T_I=T_I, init=init, seed=seed, w0=w0, program=prog, dynamics=dynamics)
    return measure_return_probabilities(sim, snapshot_interval=snapshot_interval, dT_bin=dT_bin, progress=progress)


def _now() -> float:
    return time.perf_counter()
