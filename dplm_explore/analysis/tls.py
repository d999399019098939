"""Two-level systems (paper Figs. 2-3, 9-10): catalogue, Boltzmann check, displacement traces.

A void is a **TLS** over a window of hops when every site it visits is one of exactly two sites
and it hopped at least ``min_transitions`` times (docs/physics.md section 4). State 1 is the site the
void held at the start of the window, state 2 the other one. For each TLS:

* ``p1``, ``p2``: measured time fractions (they add up to 1), ``ratio = p2 / p1``;
* ``ratio_err = 2 ratio / sqrt(n)`` with ``n`` the number of transitions: the standard error of a
  two-state telegraph process (the time fraction's variance over a window with ``n``
  transitions is ``4 p1^2 p2^2 / n``);
* ``dE = E2 - E1``: the energy difference of the two states computed from the configuration at
  the end of the window (:func:`hop_energy`, from the pair interactions the dynamics uses);
* ``boltzmann = exp(-dE / T)`` and ``z = (ratio - boltzmann) / ratio_err``.

:func:`measure_tls_boltzmann` repeats the measurement for chosen TLS at several temperatures and
fits ``ln(p2/p1) = -dE / T`` through the origin (Fig. 3b), to compare the fitted ``dE`` with the
configurational one. :func:`trace_voids` records unwrapped displacement-time traces d(t) of
chosen voids (and particles) at fixed time intervals (Fig. 3a).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..lattice import site_xy
from ..results import Result, base_provenance, register_result
from ..schedules import constant
from ..system import W0_DEFAULT
from ._common import positive, positive_int, window_start
from .events import EventWindow
from ..tasks import need, register_task, task_g

__all__ = ["TLSCatalogue", "TLSBoltzmann", "Traces", "MultiLevelSystems", "multilevel_systems", "find_tls", "tls_from_window", "measure_tls_boltzmann", "trace_voids", "hop_energy", "hop_energies"]


def hop_energy(sim, v: int, d: int) -> float:
    """Energy change of the hop of the particle at ``nbr[vpos[v], d]`` into void ``v``, summed
    from the pair interactions (``sim.pair_V``): bonds formed at the void's site minus bonds
    broken at the particle's site. NaN if that neighbour is a void."""
    sim.settle()
    y = int(sim.vpos[v])
    s = int(sim.nbr[y, d])
    p = int(sim.occ[s])
    if p < 0:
        return float("nan")
    old = 0.0
    for dd in range(4):
        q = int(sim.occ[sim.nbr[s, dd]])
        if q >= 0:
            old += sim.pair_V(p, q)
    new = 0.0
    for dd in range(4):
        if dd == d:
            continue
        q = int(sim.occ[sim.nbr[y, dd]])
        if q >= 0:
            new += sim.pair_V(p, q)
    return new - old


def hop_energies(sim) -> np.ndarray:
    """float[Nv, 4]: :func:`hop_energy` of every possible hop (NaN where the neighbour is a void)."""
    nv = sim.params.n_voids
    return np.array([[hop_energy(sim, v, d) for d in range(4)] for v in range(nv)]).reshape(nv, 4)


def _direction(nbr, a: int, b: int) -> int:
    for d in range(4):
        if int(nbr[a, d]) == b:
            return d
    raise ValueError(f"sites {a} and {b} are not neighbours")


def _state_dE(sim, v: int, site1: int, site2: int) -> float:
    """E(void at site2) - E(void at site1) from the current configuration (void v at either)."""
    sim.settle()
    cur = int(sim.vpos[v])
    if cur == site1:
        return hop_energy(sim, v, _direction(sim.nbr, site1, site2))
    if cur == site2:
        return -hop_energy(sim, v, _direction(sim.nbr, site2, site1))
    return float("nan")


@register_result
@dataclass
class TLSCatalogue(Result):
    """TLS found over one window (see the module docstring). Per TLS (k of them): ``void``,
    ``site1``, ``site2`` int64[k], ``xy1``, ``xy2`` int64[k, 2] (lattice coordinates), ``p1``,
    ``p2``, ``ratio``, ``ratio_err``, ``dE``, ``boltzmann``, ``z`` float[k], ``n_transitions``
    int64[k]. Per void: ``n_sites`` int64[Nv] (1 frozen, 2 two sites, 3 three or more),
    ``hops_v`` int64[Nv]. ``counts``: dict of class sizes; ``T``: time-weighted window
    temperature; ``hops``, ``t0``, ``t1``: the window; ``min_transitions``."""

    void: np.ndarray
    site1: np.ndarray
    site2: np.ndarray
    xy1: np.ndarray
    xy2: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    ratio: np.ndarray
    ratio_err: np.ndarray
    n_transitions: np.ndarray
    dE: np.ndarray
    boltzmann: np.ndarray
    z: np.ndarray
    n_sites: np.ndarray
    hops_v: np.ndarray
    counts: dict
    T: float
    hops: int
    t0: float
    t1: float
    min_transitions: int
    system: dict
    provenance: dict

    def __len__(self) -> int:
        return int(self.void.size)


def _catalogue_from_window(sim, w: EventWindow, min_transitions: int, wall: float, start: dict | None = None, context: dict | None = None) -> TLSCatalogue:
    ns = w.n_sites
    pa, pb = w.p_a, w.p_b
    sel = np.flatnonzero((ns == 2) & (w.hops_v >= min_transitions))
    L = sim.params.L
    T = w.T_mean
    s1 = w.site_a[sel]
    s2 = w.site_b[sel]
    p1 = pa[sel]
    p2 = pb[sel]
    n = w.hops_v[sel]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = p2 / p1
        err = 2.0 * ratio / np.sqrt(n)
    dE = np.array([_state_dE(sim, int(v), int(a), int(b)) for v, a, b in zip(sel, s1, s2)], float)
    boltz = np.exp(-dE / T)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (ratio - boltz) / err
    moving = w.hops_v > 0
    counts = {"n_voids": int(ns.size), "frozen": int(np.count_nonzero(~moving)), "two_sites": int(np.count_nonzero(ns == 2)),
              "tls": int(sel.size), "multi": int(np.count_nonzero(ns == 3))}
    return TLSCatalogue(
        void=sel.astype(np.int64), site1=s1.astype(np.int64), site2=s2.astype(np.int64), xy1=site_xy(s1, L).astype(np.int64).reshape(-1, 2),
        xy2=site_xy(s2, L).astype(np.int64).reshape(-1, 2), p1=p1, p2=p2, ratio=ratio, ratio_err=err, n_transitions=n.astype(np.int64), dE=dE,
        boltzmann=boltz, z=z, n_sites=ns.astype(np.int64), hops_v=w.hops_v.copy(), counts=counts, T=T, hops=int(w.hops), t0=float(w.t0), t1=float(w.t1),
        min_transitions=int(min_transitions), system={"params": sim.params.to_dict(), "seed": int(sim.seed)},
        provenance=base_provenance(kind="TLS catalogue", program=sim.program.to_dict() if sim.program else None, wall_s=wall, **(start or {}),
                                   context=dict(context or {})),
    )


#: most sites a void may hold in a window and still count as a multi-level system
MAX_LEVELS = 6


@dataclass
class MultiLevelSystems:
    """Voids confined to between three and :data:`MAX_LEVELS` sites over a window (a TLS has
    two): per system ``void``, ``n_levels`` and ``q_ret`` (the void's own return probability:
    the fraction of its hops that reverse its previous hop; 1 for a TLS) in arrays, and per
    system, most held first, ``sites`` int64[n], ``xy`` int64[n, 2], ``fraction`` float[n] (time
    on each), ``energy`` float[n] (E of the void on that site minus E on the most held one, from
    the configuration at the window end, the void moved there through the other levels; NaN
    where another void is in the way) and ``boltzmann`` float[n] (exp(-energy / T) normalised
    over the levels). ``loop`` bool per system: its sites hold a closed path (a plaquette); going
    round it moves particles to new places, so a level's energy depends on the way the void came
    and the one computed (the shortest way from where it is) may not be the one it had.
    ``T``: the window's time-weighted temperature."""

    void: np.ndarray
    n_levels: np.ndarray
    loop: np.ndarray
    q_ret: np.ndarray
    hops: np.ndarray
    sites: list
    xy: list
    fraction: list
    energy: list
    boltzmann: list
    T: float

    def __len__(self) -> int:
        return int(self.void.size)

    def index(self, v: int) -> int | None:
        """Position of void ``v`` in the lists, or None."""
        k = np.flatnonzero(self.void == int(v))
        return int(k[0]) if k.size else None


class _Overlay:
    """An array seen through a few changed entries (``changes``: index -> value), so that a
    hypothetical configuration costs a dict, not a copy of the lattice."""

    def __init__(self, base, changes: dict):
        self.base, self.changes = base, changes

    def __getitem__(self, i):
        i = int(i)
        return self.changes.get(i, self.base[i])


def _has_loop(nbr, sites) -> bool:
    """Whether a connected set of lattice sites holds a closed path: it does when it has at
    least as many neighbour pairs as sites (a tree has one fewer)."""
    members = {int(x) for x in sites}
    pairs = sum(1 for a in members for d in range(4) if int(nbr[a, d]) in members) // 2
    return pairs >= len(members)


def _level_energies(sim, v: int, sites: np.ndarray) -> np.ndarray:
    """E(void v on each of ``sites``) - E(on sites[0]), walking the void from where it is now
    through the other sites of the set (breadth first); each configuration on the way is the
    current one with the few sites the walk changed."""
    from types import SimpleNamespace

    sim.settle()  # the configuration as hop_energy sees it (trapped voids at their sites)
    sites = [int(x) for x in sites]
    cur = int(sim.vpos[v])
    E = {cur: 0.0}
    conf = {cur: {}}  # site -> the occupancy changes of the configuration with the void there
    queue = [cur]
    while queue:
        a = queue.pop(0)
        changes = conf[a]
        occ = _Overlay(sim.occ, changes)
        for d in range(4):
            b = int(sim.nbr[a, d])
            if b not in sites or b in E:
                continue
            scratch = SimpleNamespace(occ=occ, vpos=_Overlay(sim.vpos, {v: a}), nbr=sim.nbr, pair_V=sim.pair_V, settle=lambda: None)
            de = hop_energy(scratch, v, d)
            if not math.isfinite(de):
                continue
            E[b], conf[b] = E[a] + de, {**changes, a: occ[b], b: -(v + 1)}
            queue.append(b)
    out = np.array([E.get(x, math.nan) for x in sites])
    return out - out[0] if math.isfinite(out[0]) else out


def multilevel_systems(sim, window: EventWindow, *, min_transitions: int = 4, min_fraction: float = 0.0) -> MultiLevelSystems:
    """The multi-level systems of an :class:`EventWindow` run on ``sim`` with ``levels >= 3``:
    voids that held between 3 and ``window.levels`` sites, hopped at least ``min_transitions``
    times, and spent at least ``min_fraction`` of the window on each of three sites or more."""
    if not isinstance(window, EventWindow) or window.sim is not sim:
        raise ValueError(f"window must be an EventWindow run on this simulation; got {window!r}")
    if window.levels < 3:
        raise ValueError(f"window must track at least 3 levels (EventWindow(sim, levels=K), K >= 3); got levels={window.levels}")
    min_transitions = positive_int("min_transitions", min_transitions)
    if not (isinstance(min_fraction, (int, float)) and 0.0 <= min_fraction < 1.0):
        raise ValueError(f"min_fraction must lie in [0, 1); got {min_fraction!r}")
    frac = window.level_fractions()
    n = window.lv_n
    held = (np.where(window.lv_site >= 0, frac, 0.0) >= max(min_fraction, 1e-300)).sum(axis=1)
    sel = np.flatnonzero((n >= 3) & (n <= window.levels) & (window.hops_v >= min_transitions) & (held >= 3))
    T = window.T_mean
    L = sim.params.L
    out = {k: [] for k in ("sites", "xy", "fraction", "energy", "boltzmann")}
    loop = np.zeros(sel.size, bool)
    for i, v in enumerate(sel):
        k = int(n[v])
        order = np.argsort(-frac[v, :k], kind="stable")
        sites = window.lv_site[v, :k][order]
        f = frac[v, :k][order]
        E = _level_energies(sim, int(v), sites)
        loop[i] = _has_loop(sim.nbr, sites)
        with np.errstate(over="ignore", invalid="ignore"):
            w = np.exp(-(E - np.nanmin(E)) / T) if np.isfinite(E).any() else np.full(k, np.nan)
            w = np.where(np.isfinite(w), w, 0.0)
            b = w / w.sum() if w.sum() > 0 else np.full(k, np.nan)
        out["sites"].append(sites.astype(np.int64))
        out["xy"].append(site_xy(sites, L).astype(np.int64).reshape(-1, 2))
        out["fraction"].append(f)
        out["energy"].append(E)
        out["boltzmann"].append(b)
    r = window.v_ret[sel]
    with np.errstate(invalid="ignore", divide="ignore"):
        q = r[:, 0] / (r[:, 0] + r[:, 1])
    return MultiLevelSystems(void=sel.astype(np.int64), n_levels=n[sel].astype(np.int64), loop=loop, q_ret=q.astype(float),
                             hops=window.hops_v[sel].astype(np.int64), T=float(T), **out)


def tls_from_window(sim, window: EventWindow, *, min_transitions: int = 4) -> TLSCatalogue:
    """The TLS catalogue of an :class:`EventWindow` that has already been run on ``sim`` (for
    callers that drive the window in chunks themselves, like the live explorer)."""
    if not isinstance(window, EventWindow) or window.sim is not sim:
        raise ValueError(f"window must be an EventWindow run on this simulation; got {window!r}")
    return _catalogue_from_window(sim, window, positive_int("min_transitions", min_transitions), 0.0)


def find_tls(sim, hops: int, *, min_transitions: int = 4, progress: bool = False, context: dict | None = None) -> TLSCatalogue:
    """Run ``sim`` for ``hops`` more hops (its current program continues) and catalogue the voids
    confined to two sites with at least ``min_transitions`` hops (see the module docstring).

    The provenance records the simulation at the window start (:func:`window_start`: its
    provenance, hops, time, temperature history) and ``context``, a JSON-able dict saying how
    the state was made (e.g. ``{"cooling": {"T_I": .., "T_final": .., "nu": .., "dT_step": ..}}``
    or ``{"state_file": ..}``)."""
    if context is not None and not isinstance(context, dict):
        raise ValueError(f"context must be a dict; got {context!r}")
    hops = positive_int("hops", hops)
    min_transitions = positive_int("min_transitions", min_transitions)
    start = window_start(sim)
    t0 = time.perf_counter()
    w = EventWindow(sim).run(hops, progress=progress)
    return _catalogue_from_window(sim, w, min_transitions, time.perf_counter() - t0, start, context)


@register_result
@dataclass
class TLSBoltzmann(Result):
    """Chosen TLS measured at several temperatures (Fig. 3b). ``T`` float[nT]; per (T, TLS):
    ``ratio`` = p2/p1, ``ratio_err``, ``n_transitions``, ``confined`` (the void stayed on its two
    sites); per TLS: ``void``, ``site1``, ``site2``, ``dE_config`` (E2 - E1 from the
    configuration), ``dE_fit``, ``dE_fit_err`` (weighted fit of ``ln ratio = -dE/T`` through the
    origin over the confined points with transitions), ``chi2_red``."""

    T: np.ndarray
    void: np.ndarray
    site1: np.ndarray
    site2: np.ndarray
    ratio: np.ndarray
    ratio_err: np.ndarray
    n_transitions: np.ndarray
    confined: np.ndarray
    dE_config: np.ndarray
    dE_fit: np.ndarray
    dE_fit_err: np.ndarray
    chi2_red: np.ndarray
    hops: int
    system: dict
    provenance: dict


def measure_tls_boltzmann(sim, tls: TLSCatalogue, temperatures, hops: int, *, equilibrate_hops: int = 0, progress: bool = False) -> TLSBoltzmann:
    """Hold each temperature in turn (``sim`` gets a constant program; ``equilibrate_hops`` hops
    are discarded first) and measure p2/p1 of every TLS in ``tls`` over ``hops`` hops."""
    Ts = np.array([positive("temperature", t) for t in np.atleast_1d(np.asarray(temperatures, float))])
    if Ts.size == 0:
        raise ValueError("temperatures must hold at least one temperature; got none")
    hops = positive_int("hops", hops)
    equilibrate_hops = positive_int("equilibrate_hops", equilibrate_hops, minimum=0)
    start = window_start(sim)
    k = len(tls)
    ratio = np.full((Ts.size, k), np.nan)
    err = np.full((Ts.size, k), np.nan)
    ntr = np.zeros((Ts.size, k), np.int64)
    conf = np.zeros((Ts.size, k), bool)
    t_start = time.perf_counter()
    it = range(Ts.size)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc="temperatures", dynamic_ncols=True)
    for i in it:
        sim.set_program(constant(float(Ts[i])))
        if equilibrate_hops:
            sim.advance(int(equilibrate_hops))
        w = EventWindow(sim).run(hops)
        pa, pb, ns = w.p_a, w.p_b, w.n_sites
        for j in range(k):
            v, s1, s2 = int(tls.void[j]), int(tls.site1[j]), int(tls.site2[j])
            a, b = int(w.site_a[v]), int(w.site_b[v])
            if ns[v] == 3:
                continue
            if a == s1 and b in (s2, -1):
                p1, p2 = pa[v], pb[v]
            elif a == s2 and b in (s1, -1):
                p1, p2 = pb[v], pa[v]
            else:
                continue
            conf[i, j] = True
            ntr[i, j] = w.hops_v[v]
            if ntr[i, j] > 0 and p1 > 0:
                ratio[i, j] = p2 / p1
                err[i, j] = 2.0 * ratio[i, j] / math.sqrt(ntr[i, j])
    dE_cfg = np.array([_state_dE(sim, int(v), int(a), int(b)) for v, a, b in zip(tls.void, tls.site1, tls.site2)], float)
    dE_fit = np.full(k, np.nan)
    dE_err = np.full(k, np.nan)
    chi2 = np.full(k, np.nan)
    for j in range(k):
        ok = conf[:, j] & (ntr[:, j] > 0) & (ratio[:, j] > 0) & np.isfinite(ratio[:, j])
        if not ok.any():
            continue
        x = 1.0 / Ts[ok]
        y = np.log(ratio[ok, j])
        wgt = ntr[ok, j] / 4.0  # 1 / sigma(ln ratio)^2, sigma = 2 / sqrt(n)
        sxx = float(np.sum(wgt * x * x))
        slope = float(np.sum(wgt * x * y)) / sxx
        dE_fit[j] = -slope
        dE_err[j] = 1.0 / math.sqrt(sxx)
        if ok.sum() > 1:
            r = y - slope * x
            chi2[j] = float(np.sum(wgt * r * r) / (ok.sum() - 1))
    return TLSBoltzmann(T=Ts, void=tls.void.copy(), site1=tls.site1.copy(), site2=tls.site2.copy(), ratio=ratio, ratio_err=err, n_transitions=ntr,
                        confined=conf, dE_config=dE_cfg, dE_fit=dE_fit, dE_fit_err=dE_err, chi2_red=chi2, hops=int(hops),
                        system={"params": sim.params.to_dict(), "seed": int(sim.seed)},
                        provenance=base_provenance(kind="TLS Boltzmann", wall_s=time.perf_counter() - t_start, **start))


@register_result
@dataclass
class Traces(Result):
    """Displacement-time traces (Fig. 3a, 9, 10). ``t`` float[n] sample times; ``void_xy``
    float[n, b, 2], ``particle_xy`` float[n, a, 2] unwrapped positions; ``void_d``, ``particle_d``
    float[n, .] distance from the position at the first sample; ``voids``, ``particles`` the ids
    traced; ``interval`` the sampling interval; ``T`` the temperature while tracing."""

    t: np.ndarray
    void_xy: np.ndarray
    particle_xy: np.ndarray
    void_d: np.ndarray
    particle_d: np.ndarray
    voids: np.ndarray
    particles: np.ndarray
    interval: float
    T: float
    system: dict
    provenance: dict


def trace_voids(sim, voids=(), *, interval: float, hops: int | None = None, time: float | None = None, particles=(), progress: bool = False) -> Traces:
    """Sample the unwrapped positions of ``voids`` (and ``particles``) every ``interval`` time
    units while running ``sim`` for ``hops`` hops or ``time`` time units. Replaces any tracking
    set up before; tracking is switched off afterwards."""
    interval = positive("interval", interval)
    if hops is None and time is None:
        raise ValueError("trace_voids needs hops or time; got neither")
    voids = _int_ids("voids", voids)
    particles = _int_ids("particles", particles)
    if hops is not None:
        hops = positive_int("hops", hops)
    if time is not None:
        time = positive("time", time)
    if voids.size + particles.size == 0:
        raise ValueError("give at least one void or particle to trace; got none")
    start = window_start(sim)
    sim.track(particles=particles, voids=voids, interval=interval)
    try:
        sim.advance(hops, time=time, progress=progress)
        t, xp, xv = sim.samples(clear=True)
    finally:
        sim.track(interval=1.0)
    xv = np.asarray(xv, float)
    xp = np.asarray(xp, float)
    dv = np.linalg.norm(xv - xv[:1], axis=-1) if t.size else np.zeros((0, voids.size))
    dp = np.linalg.norm(xp - xp[:1], axis=-1) if t.size else np.zeros((0, particles.size))
    return Traces(t=np.asarray(t, float), void_xy=xv, particle_xy=xp, void_d=dv, particle_d=dp, voids=voids, particles=particles, interval=interval,
                  T=float(sim.T), system={"params": sim.params.to_dict(), "seed": int(sim.seed)}, provenance=base_provenance(kind="traces", **start))


def _int_ids(name: str, ids) -> np.ndarray:
    """int64[n] ids; non-integer values (1.5, True, "3") are refused, not truncated."""
    a = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids) if not np.isscalar(ids) else [ids]).reshape(-1)
    if a.size == 0:
        return np.zeros(0, np.int64)
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(np.mod(a, 1) == 0):
        return a.astype(np.int64)
    raise ValueError(f"{name} must be integer ids; got {a.tolist()!r}")


def _tls_task(p: dict, seed: int, g) -> dict:
    """Sweep task: cool, then catalogue TLS at T_final."""
    from ..kmc import Simulation
    from ..schedules import make_program

    prog = make_program(p["T_I"], p["T_final"], p["nu"], p.get("dT_step"))
    sim = Simulation.create(p["L"], p["phi_v"], g=g, T_I=p["T_I"], init=p.get("init", "equilibrium"), seed=seed, w0=p.get("w0", W0_DEFAULT), program=prog)
    sim.advance()
    sim.set_program(constant(float(p["T_final"])))
    cooling = {"T_I": p["T_I"], "T_final": p["T_final"], "nu": p["nu"], "dT_step": p.get("dT_step")}
    cat = find_tls(sim, p["hops"], min_transitions=p.get("min_transitions", 4), context={"cooling": cooling})
    c = cat.counts
    return {"n_tls": c["tls"], "n_frozen": c["frozen"], "n_multi": c["multi"], "n_voids": c["n_voids"], "tls_fraction": c["tls"] / c["n_voids"],
            "mean_abs_dE": float(np.mean(np.abs(cat.dE))) if len(cat) else float("nan"), "median_z": float(np.median(cat.z)) if len(cat) else float("nan"),
            "T": cat.T}


def plant_tls(L: int, void_sites, partner_dirs, dE, *, V_bond: float = -10.0) -> tuple[np.ndarray, np.ndarray]:
    """``(occ, V_table)`` for :meth:`Simulation.from_configuration`: isolated TLS planted in an
    otherwise frozen L x L system (a test and demonstration fixture).

    Void ``k`` sits at ``void_sites[k]``; its partner particle ``p_k`` at the neighbour in
    direction ``partner_dirs[k]``. Every occupied neighbour pair gets ``V_bond`` (strongly
    bound, so every other hop costs about ``3 |V_bond|``), except ``p_k``'s own bonds (0);
    ``V(p_k, q) = dE[k]`` for one neighbour ``q`` of the void site. Then the hop of ``p_k`` into
    void ``k`` costs exactly ``dE[k]`` (E2 - E1), its return ``-dE[k]``, and nothing else moves.
    Particles are labelled in site order. The TLS must be at least 5 lattice steps apart."""
    from ..lattice import neighbour_table

    L = positive_int("L", L, minimum=5)
    vs = np.asarray(void_sites, np.int64).reshape(-1)
    ds = np.asarray(partner_dirs, np.int64).reshape(-1)
    dEs = np.broadcast_to(np.asarray(dE, float), vs.shape)
    if ds.shape != vs.shape:
        raise ValueError(f"partner_dirs must have one entry per void; got {ds.size} for {vs.size} voids")
    if np.any((vs < 0) | (vs >= L * L)) or np.unique(vs).size != vs.size:
        raise ValueError(f"void_sites must be distinct sites in [0, {L * L}); got {vs.tolist()}")
    if np.any((ds < 0) | (ds > 3)):
        raise ValueError(f"partner_dirs must be directions 0..3; got {ds.tolist()}")
    xy = site_xy(vs, L)
    for i in range(vs.size):
        for j in range(i):
            dx = abs(int(xy[i, 0] - xy[j, 0]))
            dy = abs(int(xy[i, 1] - xy[j, 1]))
            if min(dx, L - dx) + min(dy, L - dy) < 5:
                raise ValueError(f"planted TLS at sites {int(vs[j])} and {int(vs[i])} are closer than 5 lattice steps")
    nbr = neighbour_table(L)
    occ = np.full(L * L, -1, np.int64)
    is_void = np.zeros(L * L, bool)
    is_void[vs] = True
    occ[~is_void] = np.arange(int((~is_void).sum()))
    N = int((~is_void).sum())
    V = np.zeros((N, N))
    for s in range(L * L):
        for d in (0, 1):
            a, b = occ[s], occ[nbr[s, d]]
            if a >= 0 and b >= 0:
                V[a, b] = V[b, a] = V_bond
    for a_site, d, de in zip(vs, ds, dEs):
        b_site = nbr[a_site, d]
        p = occ[b_site]
        for dd in range(4):
            q = occ[nbr[b_site, dd]]
            if q >= 0:
                V[p, q] = V[q, p] = 0.0
        q1 = occ[nbr[a_site, (d + 1) & 3]]
        V[p, q1] = V[q1, p] = float(de)
    return occ, V


@register_task("tls", {"T_I", "init", "T_final", "nu", "dT_step", "hops", "min_transitions"})
def _sweep_tls(p: dict, seed: int) -> dict:
    """Cool ``T_I -> T_final`` at ``nu``, then catalogue TLS over ``hops`` hops at T_final."""
    need(p, "L", "phi_v", "T_I", "T_final", "nu", "hops")
    return _tls_task(p, seed, task_g(p))
