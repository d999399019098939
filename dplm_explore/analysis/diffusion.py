"""Mean-squared displacement, diffusion coefficient D(T), T_g and kinetic fragility (Fig. 5).

At each temperature a system is built in exact equilibrium at that temperature (or at ``T_I``
and then held at T), optionally equilibrated further (``equilibrate_time`` / ``equilibrate_hops``
are run and discarded), and the particles' MSD is sampled at ``n_samples`` times over the
measurement (``time`` time units, one number or one per temperature, or ``hops`` hops). ``D`` is the slope of MSD(t) over the last
``1 - fit_from`` of the run divided by 4 (2-d; lattice spacing^2 per time unit; ``method='slope'``)
or ``MSD(t_end) / (4 t_end)`` (``method='ratio'``). Replicas give the error bar (standard error).

High-T check (docs/physics.md section 4): ``D -> phi_v w0 f`` with ``f = 0.46694`` for small phi_v.

T_g and m_k: ``D`` scales as ``w0`` (time is measured in units of 1/w0), so the comparison
with the reference value ``D_r`` (paper: 0.1 at ``w0 = 1e6``) uses ``D_scaled = D * 1e6 / w0``.
``T_g`` solves ``D_scaled(T_g) = D_r``; ``m_k = -(1/T_g) d log10 D / d(1/T)`` there. Two
estimates are reported: model-free (a local quadratic in 1/T through log10 D at the two measured
points bracketing ``D_r`` and the nearer neighbour, differentiated at 1/T_g; see
:func:`glass_transition`) and from fits of the chosen forms ('vft', 'myega',
'parabolic') by :func:`dplm_explore.fit_fragility`, which also extrapolate to
``D_r_ext`` (paper: 1e-14) — an extrapolation that depends strongly on the form, so every
fit records its form.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..parallel import RunOptions
from .._io import npz_path
from ..results import Result, base_provenance, check_writable, register_result
from ..schedules import constant
from ..system import W0_DEFAULT
from .._validate import finite
from .fragility import FRAGILITY_FORMS, FragilityFit, fit_fragility
from ._common import as_g, build_simulation, non_negative, positive, positive_int, spawn_seeds, system_spec, window_start
from ..tasks import need, register_task, task_g

__all__ = ["MSD", "Diffusion", "F_VACANCY", "measure_msd", "fit_diffusion_coefficient", "measure_diffusion", "glass_transition"]

#: tracer correlation factor of vacancy diffusion on the square lattice
F_VACANCY = 0.46694
#: the attempt rate D is scaled to (D_scaled), the one the reference D_r is quoted at (the paper's)
W0_REF = 1e6


def _check_method(method) -> str:
    if not isinstance(method, str) or method not in ("slope", "ratio"):
        raise ValueError(f"method must be 'slope' or 'ratio'; got {method!r}")
    return method


def _check_fit_from(fit_from) -> float:
    v = finite("fit_from", fit_from)
    if not 0 <= v < 1:
        raise ValueError(f"fit_from must lie in [0, 1); got {fit_from!r}")
    return v


def fit_diffusion_coefficient(t, msd, *, fit_from: float = 0.5, method: str = "slope") -> float:
    """D from MSD(t) (2-d): slope of a least-squares line through the points with
    ``t >= fit_from * t_max``, divided by 4 (``'slope'``), or ``msd[-1] / (4 t[-1])`` (``'ratio'``)."""
    t = np.asarray(t, float)
    msd = np.asarray(msd, float)
    if t.shape != msd.shape or t.ndim != 1 or t.size < 2:
        raise ValueError(f"t and msd must be 1-d of equal length >= 2; got shapes {t.shape} and {msd.shape}")
    if method == "ratio":
        return float(msd[-1] / (4.0 * t[-1])) if t[-1] > 0 else float("nan")
    if method != "slope":
        raise ValueError(f"method must be 'slope' or 'ratio'; got {method!r}")
    fit_from = _check_fit_from(fit_from)
    sel = t >= fit_from * t[-1]
    if sel.sum() < 2:
        sel = np.zeros(t.size, bool)
        sel[-2:] = True
    slope = np.polyfit(t[sel], msd[sel], 1)[0]
    return float(slope / 4.0)


@register_result
@dataclass
class MSD(Result):
    """MSD of one run: ``t`` float[n] (time since the measurement started), ``msd`` float[n]
    (particles), ``msd_voids`` float[n]; ``D`` (particles), ``D_voids``; ``T``; ``hops``."""

    t: np.ndarray
    msd: np.ndarray
    msd_voids: np.ndarray
    D: float
    D_voids: float
    T: float
    hops: int
    method: str
    fit_from: float
    system: dict
    provenance: dict


def measure_msd(sim, *, time: float | None = None, hops: int | None = None, n_samples: int = 40, fit_from: float = 0.5, method: str = "slope") -> MSD:
    """Sample the MSD of ``sim`` (from its current positions) ``n_samples`` times, evenly in
    time over ``time`` time units, or every ``hops / n_samples`` hops; fit D."""
    if (time is None) == (hops is None):
        raise ValueError(f"give exactly one of time and hops; got time={time!r}, hops={hops!r}")
    n_samples = positive_int("n_samples", n_samples, minimum=2)
    method = _check_method(method)
    fit_from = _check_fit_from(fit_from)
    if time is not None:
        time = positive("time", time)
    else:
        hops = positive_int("hops", hops)
    start = window_start(sim)
    t0, h0 = sim.t, sim.hops
    x0 = sim.particle_positions().astype(float)
    v0 = sim.void_positions().astype(float)
    ts, ms, mv = [], [], []
    w0 = _time.perf_counter()
    for k in range(1, n_samples + 1):
        if time is not None:
            target = t0 + time * k / n_samples
            rep = sim.advance(time=max(0.0, target - sim.t))
            t_k = target if rep.reason in ("time", "hops") else sim.t
        else:
            rep = sim.advance(hops * k // n_samples - (sim.hops - h0))
            t_k = sim.t
        dx = sim.particle_positions() - x0
        dv = sim.void_positions() - v0
        ts.append(t_k - t0)
        ms.append(float(np.mean(np.sum(dx * dx, axis=1))))
        mv.append(float(np.mean(np.sum(dv * dv, axis=1))))
        if rep.reason in ("program-end", "frozen"):
            break
    t = np.array(ts)
    msd = np.array(ms)
    msdv = np.array(mv)
    if t.size >= 2:
        D = fit_diffusion_coefficient(t, msd, fit_from=fit_from, method=method)
        Dv = fit_diffusion_coefficient(t, msdv, fit_from=fit_from, method=method)
    else:
        D = Dv = float("nan")
    return MSD(t=t, msd=msd, msd_voids=msdv, D=D, D_voids=Dv, T=float(sim.T), hops=sim.hops - h0, method=method, fit_from=float(fit_from),
               system={"params": sim.params.to_dict(), "seed": int(sim.seed)}, provenance=base_provenance(kind="MSD", wall_s=_time.perf_counter() - w0, **start))


def _diffusion_replica(item) -> dict[str, Any]:
    """One (temperature, replica) run (top-level for process pools and Dask)."""
    spec, T, seed, opts = item
    w = _time.perf_counter()
    sim = build_simulation(spec, seed, constant(T))
    if opts.get("equilibrate_time"):
        sim.advance(time=opts["equilibrate_time"])
    if opts.get("equilibrate_hops"):
        sim.advance(int(opts["equilibrate_hops"]))
    m = measure_msd(sim, time=opts.get("time"), hops=opts.get("hops"), n_samples=opts["n_samples"], fit_from=opts["fit_from"], method=opts["method"])
    return {"t": m.t, "msd": m.msd, "msd_voids": m.msd_voids, "D": m.D, "D_voids": m.D_voids, "hops": m.hops, "wall_s": _time.perf_counter() - w}


def _bracket(T, D, D_r: float):
    """``(u, y, i, slope, ug)``: ``u = 1/T`` and ``y = log10 D`` of the valid points sorted by T,
    the index ``i`` of the pair of neighbours whose ``y`` straddles ``log10 D_r`` (the pair at the
    lowest T if several do), the chord slope of that pair and the chord's crossing ``ug``; None
    if no pair brackets ``D_r``."""
    T = np.asarray(T, float)
    D = np.asarray(D, float)
    ok = np.isfinite(D) & (D > 0) & np.isfinite(T) & (T > 0)
    T, D = T[ok], D[ok]
    o = np.argsort(T)
    T, y = T[o], np.log10(D[o])
    u = 1.0 / T
    yr = math.log10(D_r)
    for i in range(T.size - 1):
        if (y[i] - yr) * (y[i + 1] - yr) <= 0 and y[i] != y[i + 1]:
            slope = (y[i + 1] - y[i]) / (u[i + 1] - u[i])
            return u, y, i, slope, u[i] + (yr - y[i]) / slope
    return None


def glass_transition(T, D, D_r: float = 0.1) -> tuple[float, float]:
    """Model-free ``(T_g, m_k)`` from measured points; NaN if no pair of points brackets ``D_r``.

    The bracketing pair is the pair of neighbouring points (in T) whose ``log10 D`` straddles
    ``log10 D_r`` (the pair at the lowest T if several do). A quadratic in ``u = 1/T`` is put
    through ``log10 D`` at the pair and at the neighbouring point nearer (in ``u``) to the
    crossing (three points; the chord of the pair when only two points exist). ``T_g`` is the
    root of that quadratic inside the pair (the linear interpolation if there is not exactly
    one), and ``m_k = -(1/T_g) d log10 D / d(1/T)`` is its derivative at ``1/T_g`` — a local
    derivative, not the chord slope of the pair (:func:`glass_transition_chord`), which is biased
    by the curvature of ``log10 D(1/T)`` on a coarse grid (VFT data with ``dT = 0.05``: chord
    +8 %, quadratic 2 %)."""
    D_r = positive("D_r", D_r)
    b = _bracket(T, D, D_r)
    if b is None:
        return float("nan"), float("nan")
    u, y, i, slope, ug = b
    yr = math.log10(D_r)
    nb = [j for j in (i - 1, i + 2) if 0 <= j < u.size]
    if nb:
        j = min(nb, key=lambda j: abs(u[j] - ug))
        idx = sorted((i, i + 1, j))
        c = np.polyfit(u[idx], y[idx], 2)
        roots = np.roots(c - np.array([0.0, 0.0, yr]))
        lo, hi = min(u[i], u[i + 1]), max(u[i], u[i + 1])
        roots = [float(r.real) for r in np.atleast_1d(roots) if abs(r.imag) <= 1e-12 * max(1.0, abs(r.real)) and lo <= r.real <= hi]
        if len(roots) == 1:
            ug = roots[0]
        slope = float(np.polyval(np.polyder(c), ug))
    return float(1.0 / ug), float(-slope * ug)


def glass_transition_chord(T, D, D_r: float = 0.1) -> tuple[float, float]:
    """``(T_g, m_k)`` from the chord of the two points that bracket ``D_r`` (see
    :func:`glass_transition`): ``T_g`` where the chord crosses ``D_r``, ``m_k`` from its slope;
    NaN if no pair brackets ``D_r``."""
    b = _bracket(T, D, positive("D_r", D_r))
    if b is None:
        return float("nan"), float("nan")
    _, _, _, slope, ug = b
    return float(1.0 / ug), float(-slope * ug)


@register_result
@dataclass
class Diffusion(Result):
    """D(T) table (Fig. 5). ``T`` float[k]; ``D``, ``D_err`` float[k] (replica mean and standard
    error); ``D_replicas`` float[k, R]; ``D_scaled = D * 1e6 / w0``; ``D_voids``; ``t``, ``msd``
    float[k, R, n] (NaN-padded); ``hops`` int64[k, R]; ``seeds`` int64[k, R]; ``done`` bool[k, R];
    ``T_g``, ``m_k``: model-free (:func:`glass_transition`); ``fits``: one entry per form with
    ``params``, ``T_g``, ``m_k``, ``T_g_ext``, ``m_k_ext``, ``rms`` (or ``error``); ``D_f_limit``
    = ``phi_v w0 f`` (the high-T limit)."""

    T: np.ndarray
    D: np.ndarray
    D_err: np.ndarray
    D_replicas: np.ndarray
    D_scaled: np.ndarray
    D_voids: np.ndarray
    t: np.ndarray
    msd: np.ndarray
    hops: np.ndarray
    seeds: np.ndarray
    done: np.ndarray
    T_g: float
    m_k: float
    fits: dict
    D_r: float
    D_r_ext: float
    D_f_limit: float
    root_seed: int
    system: dict
    options: dict
    provenance: dict

    def fit(self, form: str = "vft") -> FragilityFit:
        """:func:`fit_fragility` of this table (``D_scaled``) with ``form``."""
        ok = np.isfinite(self.D_scaled) & (self.D_scaled > 0)
        return fit_fragility(self.T[ok], self.D_scaled[ok], form, self.D_r, self.D_r_ext)


def _fits(T, Ds, forms, D_r, D_r_ext) -> dict:
    out = {}
    ok = np.isfinite(Ds) & (Ds > 0)
    for form in forms:
        try:
            f = fit_fragility(T[ok], Ds[ok], form, D_r, D_r_ext)
            out[form] = {"form": form, "params": dict(f.params), "T_g": f.T_g, "m_k": f.m_k, "T_g_ext": f.T_g_ext, "m_k_ext": f.m_k_ext, "rms": f.rms,
                         "n_points": f.n_points}
        except ValueError as exc:
            out[form] = {"form": form, "error": str(exc)}
    return out


def measure_diffusion(L: int, phi_v: float, temperatures, *, g=None, time=None, hops: int | None = None, n_samples: int = 40,
                      n_replicas: int = 1, seed=None, w0: float = W0_DEFAULT, T_I: float | None = None, init: str = "equilibrium", equilibrate_time: float = 0.0,
                      equilibrate_hops: int = 0, fit_from: float = 0.5, method: str = "slope", forms=("vft",), D_r: float = 0.1, D_r_ext: float = 1e-14,
                      run: RunOptions | None = None, **run_keywords) -> Diffusion:
    """D(T) at each temperature (see the module docstring). ``T_I=None`` builds each system in
    equilibrium at its own T; a number builds all at ``T_I``, then holds T (equilibrate!).
    Seeds: ``SeedSequence(seed).spawn(n_T * n_replicas)`` in (T, replica) order. How it runs:
    ``run`` (:class:`~dplm_explore.parallel.RunOptions`; no ``resume``) or its fields as keywords
    (``workers`` default 1). ``out``: result file written after every finished run
    (``complete=False`` until the last)."""
    run = RunOptions.resolve(run, run_keywords, caller="measure_diffusion", resumable=False)
    out, overwrite = run.out, run.overwrite

    Ts = np.atleast_1d(np.asarray(temperatures, float))
    if Ts.size == 0:
        raise ValueError("temperatures must hold at least one temperature; got none")
    for T in Ts:
        positive("temperature", T)
    if (time is None) == (hops is None):
        raise ValueError(f"give exactly one of time and hops; got time={time!r}, hops={hops!r}")
    times = None
    if time is not None:
        times = np.broadcast_to(np.asarray(time, float), Ts.shape).copy() if np.ndim(time) == 0 else np.asarray(time, float)
        if times.shape != Ts.shape:
            raise ValueError(f"time must be one number or one per temperature ({Ts.size}); got {time!r}")
        for tt in times:
            positive("time", tt)
    else:
        hops = positive_int("hops", hops)
    forms = tuple([forms] if isinstance(forms, str) else forms)
    for f in forms:
        if f not in FRAGILITY_FORMS:
            raise ValueError(f"forms must be among {FRAGILITY_FORMS}; got {f!r}")
    method = _check_method(method)
    fit_from = _check_fit_from(fit_from)
    equilibrate_time = non_negative("equilibrate_time", equilibrate_time)
    equilibrate_hops = positive_int("equilibrate_hops", equilibrate_hops, minimum=0)
    D_r = positive("D_r", D_r)
    D_r_ext = positive("D_r_ext", D_r_ext)
    g = as_g(g)
    R = positive_int("n_replicas", n_replicas)
    n_samples = positive_int("n_samples", n_samples, minimum=2)
    if out is not None:
        check_writable(npz_path(out), overwrite)
    root, flat = spawn_seeds(seed, Ts.size * R)
    seeds = flat.reshape(Ts.size, R)
    specs = []
    for T in Ts:
        TI = float(T) if T_I is None else positive("T_I", T_I)
        specs.append(system_spec(L, phi_v, g=g, T_I=TI if init == "equilibrium" else None, init=init, w0=w0))
    opts = {"time": None if times is None else (float(times[0]) if np.all(times == times[0]) else times.tolist()), "hops": None if hops is None else int(hops),
            "n_samples": n_samples, "fit_from": float(fit_from), "method": method, "equilibrate_time": float(equilibrate_time),
            "equilibrate_hops": int(equilibrate_hops)}
    items = [(specs[i], float(Ts[i]), int(seeds[i, r]), dict(opts, time=None if times is None else float(times[i]))) for i in range(Ts.size) for r in range(R)]
    res: dict[tuple[int, int], dict] = {}
    t_start = _time.perf_counter()
    prov = base_provenance(kind="diffusion")
    phi_real = specs[0]["phi_v_realised"]

    def current(complete: bool) -> Diffusion:
        n = max([len(r["t"]) for r in res.values()], default=1)
        t = np.full((Ts.size, R, n), np.nan)
        msd = np.full((Ts.size, R, n), np.nan)
        Drep = np.full((Ts.size, R), np.nan)
        Dv = np.full((Ts.size, R), np.nan)
        hop = np.zeros((Ts.size, R), np.int64)
        done = np.zeros((Ts.size, R), bool)
        for (i, r), d in res.items():
            t[i, r, : len(d["t"])] = d["t"]
            msd[i, r, : len(d["msd"])] = d["msd"]
            Drep[i, r] = d["D"]
            Dv[i, r] = d["D_voids"]
            hop[i, r] = d["hops"]
            done[i, r] = True
        cnt = done.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            D = np.where(cnt > 0, np.nansum(np.where(done, Drep, 0.0), axis=1) / np.maximum(cnt, 1), np.nan)
            sd = np.array([np.std(Drep[i, done[i]], ddof=1) if cnt[i] > 1 else np.nan for i in range(Ts.size)])
            D_err = sd / np.sqrt(np.maximum(cnt, 1))
            Dvm = np.where(cnt > 0, np.nansum(np.where(done, Dv, 0.0), axis=1) / np.maximum(cnt, 1), np.nan)
        Ds = D * (W0_REF / float(w0))
        Tg, mk = glass_transition(Ts, Ds, D_r)
        fits = _fits(Ts, Ds, forms, D_r, D_r_ext) if complete else {}
        return Diffusion(T=Ts, D=D, D_err=D_err, D_replicas=Drep, D_scaled=Ds, D_voids=Dvm, t=t, msd=msd, hops=hop, seeds=seeds, done=done, T_g=Tg, m_k=mk,
                         fits=fits, D_r=D_r, D_r_ext=D_r_ext, D_f_limit=phi_real * float(w0) * F_VACANCY, root_seed=int(root),
                         system={**specs[0], "T_I": T_I, "temperatures": Ts.tolist()}, options={**opts, "forms": list(forms), "n_replicas": R},
                         provenance=dict(prov, complete=complete, n_done=int(done.sum()), wall_s=_time.perf_counter() - t_start))

    def on_result(j, d):
        res[(j // R, j % R)] = d
        if out is not None:
            current(len(res) == len(items)).save(out, overwrite=True)

    if out is not None:
        current(False).save(out, overwrite=overwrite)  # claims the name before any work (a concurrent writer gets FileExistsError)
    run.map(_diffusion_replica, items, desc="D(T) runs", on_result=on_result)
    result = current(True)
    if out is not None:
        result.save(out, overwrite=True)
    return result


def _diffusion_task(p: dict, seed: int, g) -> dict:
    """Sweep task: D at one temperature."""
    T = float(p["T"])
    TI = float(p.get("T_I") or T)
    init = p.get("init", "equilibrium")
    spec = system_spec(p["L"], p["phi_v"], g=g, T_I=TI if init == "equilibrium" else None, init=init, w0=p.get("w0", W0_DEFAULT))
    if p.get("time") is None and p.get("hops") is None:
        raise ValueError("a diffusion sweep task needs time or hops")
    opts = {"time": p.get("time"), "hops": p.get("hops"), "n_samples": int(p.get("n_samples", 40)), "fit_from": float(p.get("fit_from", 0.5)),
            "method": p.get("method", "slope"), "equilibrate_time": float(p.get("equilibrate_time", 0.0)), "equilibrate_hops": int(p.get("equilibrate_hops", 0))}
    d = _diffusion_replica((spec, T, seed, opts))
    w0 = float(p.get("w0", W0_DEFAULT))
    return {"D": d["D"], "D_scaled": d["D"] * W0_REF / w0, "D_voids": d["D_voids"], "msd_final": float(d["msd"][-1]), "hops": d["hops"],
            "D_f_limit": spec["phi_v_realised"] * w0 * F_VACANCY, "t": d["t"], "msd": d["msd"]}


@register_task("diffusion", {"T", "T_I", "init", "time", "hops", "n_samples", "fit_from", "method", "equilibrate_time", "equilibrate_hops"})
def _sweep_diffusion(p: dict, seed: int) -> dict:
    """MSD and D at constant ``T`` (equilibrium start at T unless ``T_I`` is given)."""
    need(p, "L", "phi_v", "T")
    return _diffusion_task(p, seed, task_g(p))
