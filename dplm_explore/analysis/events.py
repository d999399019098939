"""Event-level analysis: run the engine with its hop log switched on and replay the log.

:class:`EventWindow` runs a simulation for a window of hops, logging every hop (void,
direction, time) in chunks, and replays the log on its own copy of the occupancy in a small
compiled kernel. Per void it records the first sites it holds (the start site and the first
other one, or the first ``levels`` of them) and whether it visited more, the time spent on each,
and the number of hops; per particle and per void it counts *returns* (a hop that reverses the
same particle's/void's previous hop) exactly as the engine's accumulators do, so the two can be
checked against each other. This is what the TLS catalogue (Fig. 3) and the multi-level systems
are built on.

Direction convention (engine): log entry ``(v, d)`` is the hop of the particle at
``nbr[vpos[v], d]`` into void ``v``; the void moves in direction ``d``, the particle in
``(d + 2) & 3``.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

__all__ = ["EventWindow", "run_event_window"]


#: sites a window tracks per void at least: the start site and the first other one (a TLS's two)
_MIN_LEVELS = 2


@jit
def _replay(log, ts, nbr, occ, vpos, arrive, lv_site, lv_time, lv_n, last_p, last_v, hops_v, v_ret, counts):
    """Replay ``m`` logged hops; returns ``m``.

    log: int64[m, 2] (void, direction); ts: float64[m] event times; nbr: int32[S, 4];
    occ: int32[S] and vpos: int32[Nv] (updated in place); arrive: float64[Nv] arrival time at
    the current site; lv_site: int64[Nv, K] the first K sites each void holds (-1 unused),
    lv_time: float64[Nv, K] the time spent on each, lv_n: int64[Nv] the sites seen (``K + 1``:
    more than K); last_p: int8[N], last_v: int8[Nv] previous hop direction or -1; hops_v:
    int64[Nv]; v_ret: int64[Nv, 2] each void's own returns (a hop reversing its previous hop)
    and non-returns; counts: int64[4] (particle returns, particle non-returns, void returns,
    void non-returns)."""
    m = log.shape[0]
    K = lv_site.shape[1]
    for k in range(m):
        v = log[k, 0]
        d = log[k, 1]
        t = ts[k]
        y = vpos[v]
        s = nbr[y, d]
        p = occ[s]
        dt = t - arrive[v]
        for j in range(K):
            if lv_site[v, j] == y:
                lv_time[v, j] += dt
                break
        arrive[v] = t
        if lv_n[v] <= K:
            found = False
            for j in range(lv_n[v]):
                if lv_site[v, j] == s:
                    found = True
                    break
            if not found:
                if lv_n[v] < K:
                    lv_site[v, lv_n[v]] = s
                lv_n[v] += 1
        od = (d + 2) & 3
        if last_p[p] >= 0:
            if last_p[p] == d:
                counts[0] += 1
            else:
                counts[1] += 1
        last_p[p] = od
        if last_v[v] >= 0:
            if last_v[v] == od:
                counts[2] += 1
                v_ret[v, 0] += 1
            else:
                counts[3] += 1
                v_ret[v, 1] += 1
        last_v[v] = d
        occ[y] = p
        occ[s] = -(v + 1)
        vpos[v] = s
        hops_v[v] += 1
    return m


class EventWindow:
    """Per-void site statistics and return counts over a window of hops (see the module docstring).

    After :meth:`run`: ``site_a``, ``site_b`` int64[Nv] (start site; first other site or -1),
    ``p_a``, ``p_b`` float[Nv] time fractions on them, ``n_sites`` int[Nv] (1, 2, or 3 meaning
    "three or more"), ``hops_v`` int64[Nv], ``v_ret`` int64[Nv, 2] each void's own returns and
    non-returns, ``counts`` int64[4] (particle returns, non-returns, void returns, non-returns),
    ``t0``, ``t1``, ``hops``, ``T_mean`` (time-weighted temperature of the program steps run in
    the window). With ``levels = K > 0`` also the levels of every void: ``lv_site`` int64[Nv, K]
    its first K sites, ``lv_n`` int64[Nv] the sites it held (``K + 1``: more) and
    :meth:`level_fractions`. One replay of the log serves both: it tracks the first
    ``max(K, 2)`` sites of every void, of which ``site_a``, ``site_b`` are the first two.
    """

    def __init__(self, sim, *, levels: int = 0):
        self.sim = sim
        nv = sim.params.n_voids
        if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 0:
            raise ValueError(f"levels must be a non-negative integer (0: no level tracking); got {levels!r}")
        sim.settle()
        self.levels = int(levels)
        tracked = max(self.levels, _MIN_LEVELS)
        self.occ = sim.occ.copy()
        self.vpos = sim.vpos.astype(np.int32).copy()
        self.t0 = sim.t
        self.arrive = np.full(nv, self.t0)
        self._site = np.full((nv, tracked), -1, np.int64)
        self._site[:, 0] = self.vpos
        self._time = np.zeros((nv, tracked))
        self._n = np.ones(nv, np.int64)
        self.hops_v = np.zeros(nv, np.int64)
        self.v_ret = np.zeros((nv, 2), np.int64)
        self.last_p = sim.last_p.copy()
        self.last_v = sim.last_v.copy()
        self.counts = np.zeros(4, np.int64)
        self.hops = 0
        self.t1 = self.t0
        self._bins0 = _bin_totals(sim)

    def run(self, hops: int, *, chunk: int = 500_000, progress: bool = False) -> "EventWindow":
        """Advance the simulation by up to ``hops`` hops (fewer if its program ends), replaying
        every hop. Can be called repeatedly to extend the window."""
        if isinstance(hops, bool) or int(hops) != hops or hops < 0:
            raise ValueError(f"hops must be a non-negative integer; got {hops!r}")
        remaining = int(hops)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=remaining, unit="hop", unit_scale=True, dynamic_ncols=True, desc="event window")
        try:
            while remaining > 0:
                n = min(remaining, int(chunk))
                log, ts = self.sim.record_events(n)
                m = int(log.shape[0])
                if m:
                    _replay(log, ts, self.sim.nbr, self.occ, self.vpos, self.arrive, self._site, self._time, self._n, self.last_p, self.last_v,
                            self.hops_v, self.v_ret, self.counts)
                self.hops += m
                remaining -= m
                if bar is not None:
                    bar.update(m)
                if m < n:  # the program ended or the clock stopped (record_events drains full tracer buffers itself)
                    break
        finally:
            if bar is not None:
                bar.close()
        if not np.array_equal(self.occ, self.sim.occ):  # pragma: no cover - would be an engine/log bug
            raise RuntimeError("replayed occupancy disagrees with the engine's")
        self.t1 = self.sim.t
        return self

    # ------------------------------------------------------------------ derived
    @property
    def duration(self) -> float:
        return self.t1 - self.t0

    def _fractions(self) -> np.ndarray:
        """float[Nv, tracked]: the fraction of the window's time each void spent on each tracked
        site, the current stay included."""
        tm = self._time.copy()
        stay = self.t1 - self.arrive
        hit = self._site == self.vpos[:, None]
        tm[hit] += np.broadcast_to(stay[:, None], tm.shape)[hit]
        return tm / self.duration if self.duration > 0 else np.full(tm.shape, np.nan)

    @property
    def site_a(self) -> np.ndarray:
        return self._site[:, 0]

    @property
    def site_b(self) -> np.ndarray:
        return self._site[:, 1]

    @property
    def p_a(self) -> np.ndarray:
        return self._fractions()[:, 0]

    @property
    def p_b(self) -> np.ndarray:
        return self._fractions()[:, 1]

    @property
    def n_sites(self) -> np.ndarray:
        return np.minimum(self._n, _MIN_LEVELS + 1)

    def _need_levels(self, what: str) -> None:
        if not self.levels:
            raise ValueError(f"{what} needs an EventWindow made with levels > 0")

    @property
    def lv_site(self) -> np.ndarray:
        """int64[Nv, levels]: the first ``levels`` sites each void held (-1 unused)."""
        self._need_levels("lv_site")
        return self._site[:, :self.levels]

    @property
    def lv_n(self) -> np.ndarray:
        """int64[Nv]: the sites each void held (``levels + 1``: more than ``levels``)."""
        self._need_levels("lv_n")
        return np.minimum(self._n, self.levels + 1)

    def level_fractions(self) -> np.ndarray:
        """float[Nv, levels]: the fraction of the window's time each void spent on each of its
        tracked sites (``lv_site``), the current stay included (needs ``levels > 0``)."""
        self._need_levels("level_fractions")
        return self._fractions()[:, :self.levels]

    @property
    def T_mean(self) -> float:
        b1 = _bin_totals(self.sim)
        dt = b1[0] - self._bins0[0]
        return float((b1[1] - self._bins0[1]) / dt) if dt > 0 else float(self.sim.T)

    def engine_counts(self) -> np.ndarray:
        """The engine's own return counters accumulated over the window (for cross-checks)."""
        return (_bin_totals(self.sim)[2] - self._bins0[2]).astype(np.int64)


def _bin_totals(sim) -> tuple[float, float, np.ndarray]:
    b = sim.temperature_bins()
    c = np.array([b["p_returns"].sum(), b["p_nonreturns"].sum(), b["v_returns"].sum(), b["v_nonreturns"].sum()], np.int64)
    return float(b["time"].sum()), float((b["T"] * b["time"]).sum()), c


def run_event_window(sim, hops: int, *, progress: bool = False) -> EventWindow:
    """:class:`EventWindow` of the next ``hops`` hops of ``sim``."""
    return EventWindow(sim).run(hops, progress=progress)
