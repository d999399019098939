"""From the campaign's finished jobs to each paper figure's data and headline numbers.

:func:`assemble_figure` gathers the jobs a figure needs (:mod:`dplm_explore.campaign`) into one
:class:`~dplm_explore.figures.FigureData` with the CPU hours they took; :func:`headline_records`
turns a figure's data into the numbers the paper reports, one JSON-able record each:
``figure``, ``quantity``, ``ours``, ``error``, ``paper`` (None if the paper gives none), ``theory``
(None if none), plus the conditions (``T_I``, ``phi_v``, ``T``, ``g``, ``interval``, ...).

Statistics. Every error is a spread over independent replicas: c1, c3 from the standard error of
the per-replica fits (:meth:`HeatCapacity.fit`), return probabilities and D from the replica
standard error, T_g and m_k by jackknife over replicas. The low-T fit window is
:func:`~dplm_explore.analysis.low_T_fit_limit` (``T <= min(T_I, T_series) / 2``) for
equilibrium-started runs well below T_g and
:data:`~dplm_explore.analysis.NONEQ_FIT_T_MAX` for the others (Figs. 6, 8).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

from .campaign import CoolingGroup, load_replicas, plan, results_dir
from .analysis.diffusion import W0_REF

__all__ = ["assemble_figure", "headline_records", "paper_figure", "paper_parameters", "recompute_figure", "print_rows", "table_rows", "PAPER", "CV_DT_BIN", "cv_fit", "ASSEMBLED", "jackknife"]

#: temperature bins of the C_v curves (Figs. 1, 6, 7, 8)
CV_DT_BIN = 0.001
#: figures whose data the campaign assembles
ASSEMBLED = ("fig1", "fig2", "fig3", "fig4a", "fig4b", "fig5", "fig6", "fig7", "fig8", "fig9", "fig10")

#: numbers the paper reports (compared with, never shown as ours)
PAPER = {
    "fig4a": {("P_ret", 0.15): 0.8, ("P_ret", 0.1): 0.99, ("Q_ret", 0.01): 0.99},
    "fig4b": {("q", 0.03): 0.05},
    "fig5": {"m_k": 13.0, "m_k_ext": 50.0, "T_g_uniform": 0.15},
    "fig6": {"T_g": 0.24, "c1": 0.0178, "c1_phys": 1.835e-4, "c3_phys": 5.034e-8},
}


def jackknife(values_fn, R: int) -> tuple[float, float]:
    """``(estimate, error)`` of a statistic of R replicas: ``values_fn(mask)`` computes it from
    the replicas selected by the boolean mask; the error is the leave-one-out jackknife."""
    full = float(values_fn(np.ones(R, bool)))
    if R < 2:
        return full, float("nan")
    loo = []
    for i in range(R):
        m = np.ones(R, bool)
        m[i] = False
        loo.append(float(values_fn(m)))
    loo = np.array(loo)
    ok = np.isfinite(loo)
    if ok.sum() < 2:
        return full, float("nan")
    n = int(ok.sum())
    return full, float(math.sqrt((n - 1) / n * np.sum((loo[ok] - loo[ok].mean()) ** 2)))


# ===================================================================================== assembly
def _jobs(figure: str) -> list:
    return [j for j in plan() if figure in j.figures]


def _heat_capacity(group: CoolingGroup, results: Path, **binning):
    from .analysis import heat_capacity_from_replicas
    from .results import base_provenance

    reps = load_replicas(group, results)
    if not reps:
        return None, 0.0
    rows = [dict(r, seed=r["meta"]["seed"], drift=r["meta"]["drift"], wall_s=r["meta"]["wall_s"]) for r in reps]
    cpu = sum(r["meta"]["cpu_s"] for r in reps)
    prov = base_provenance(kind="heat capacity", campaign_job=group.describe(), cpu_s=cpu, replica_hops=[int(r["meta"]["n_hops"]) for r in reps],
                           replica_indices=[int(r["meta"]["replica"]) for r in reps])
    hc = heat_capacity_from_replicas(group.spec(), group.program(), rows, root_seed=int(group.describe()["root_seed"]), provenance=prov,
                                     **(binning or {"dT_bin": CV_DT_BIN}))
    return hc, cpu


def _label(group: CoolingGroup, figure: str) -> str:
    return f"φ_v={group.phi_v:g}" if figure == "fig7" else f"T_I={group.T_I:g}"


def _task(name: str, results: Path):
    job = next(j for j in plan() if j.name == name)
    d = job.load(results)
    return d, (d.provenance.get("cpu_s", 0.0) if d else 0.0)


def _windows_returns(group: CoolingGroup, results: Path):
    """Fig. 4a from the snapshot windows of ``group``'s replicas: a ReturnProbabilities per mark
    with counts pooled over replicas and errors from their scatter."""
    from .analysis import ReturnProbabilities
    from .analysis.returns import return_probability
    from .results import base_provenance

    reps = load_replicas(group, results)
    marks = list(group.marks)
    if not reps:
        return None
    R = len(reps)
    ce = np.zeros((R, len(marks), 4), np.int64)
    cs = np.zeros((R, len(marks), 4), np.int64)
    Tw = np.full((R, len(marks)), np.nan)
    for r, rep in enumerate(reps):
        for w in rep["meta"]["windows"]:
            k = marks.index(w["mark"])
            ce[r, k] = w["counts_event"]
            cs[r, k] = w["counts_snapshot"]
            Tw[r, k] = w["T"]
    out = {}
    for lev, c in (("event", ce), ("snapshot", cs)):
        pooled = c.sum(axis=0)
        for j, name in ((0, "P"), (2, "Q")):
            p, _ = return_probability(pooled[:, j], pooled[:, j + 1])
            per, _ = return_probability(c[:, :, j], c[:, :, j + 1])
            n_ok = np.isfinite(per).sum(axis=0)
            with np.errstate(invalid="ignore"):
                err = np.where(n_ok >= 2, np.nanstd(per, axis=0, ddof=1) / np.sqrt(np.maximum(n_ok, 1)), np.nan)
            out[f"{name}_{lev}"], out[f"{name}_{lev}_err"] = p, err
        out[f"counts_{lev}"] = pooled
    T = np.nanmean(Tw, axis=0)
    edges = np.concatenate([[T[-1] * 0.999], 0.5 * (T[1:] + T[:-1])[::-1], [T[0] * 1.001]])
    return ReturnProbabilities(
        T_edges=edges, T=T, counts_event=out["counts_event"], counts_snapshot=out["counts_snapshot"], P_ret_event=out["P_event"],
        P_ret_event_err=out["P_event_err"], Q_ret_event=out["Q_event"], Q_ret_event_err=out["Q_event_err"], P_ret_snapshot=out["P_snapshot"],
        P_ret_snapshot_err=out["P_snapshot_err"], Q_ret_snapshot=out["Q_snapshot"], Q_ret_snapshot_err=out["Q_snapshot_err"],
        snapshot_interval=group.snapshot_interval, n_snapshots=int(round(group.window_time / group.snapshot_interval)) * R, hops=0, t0=0.0,
        t1=group.window_time, system={"params": group.spec(), "n_replicas": R, "marks": marks},
        provenance=base_provenance(kind="return probabilities (campaign windows)", campaign_job=group.describe(), window_time=group.window_time,
                                   per_replica_counts_event=ce.tolist(), per_replica_counts_snapshot=cs.tolist()))


def assemble_figure(figure: str, folder: Path | None = None):
    """The :class:`FigureData` of ``figure`` (scale 'paper') from the finished campaign jobs in
    ``folder`` (see :func:`~dplm_explore.campaign.results_dir`); raises ValueError if a job it needs has no finished unit."""
    from .figures import FigureData
    from .results import base_provenance

    if figure not in ASSEMBLED:
        raise ValueError(f"figure must be one of {', '.join(ASSEMBLED)}; got {figure!r}")
    folder = results_dir(results=folder)
    results: dict[str, Any] = {}
    cpu: dict[str, float] = {}
    jobs = _jobs(figure)
    if figure in ("fig1", "fig7", "fig8"):
        for g in sorted((j for j in jobs if isinstance(j, CoolingGroup)), key=lambda g: (g.phi_v, g.T_I)):
            hc, c = _heat_capacity(g, folder)
            if hc is not None:
                results[_label(g, figure)] = hc
                cpu[g.name] = c
    elif figure == "fig4a":
        g = next(j for j in jobs if isinstance(j, CoolingGroup))
        hc, c = _heat_capacity(g, folder, dT_bin=0.01)
        w = _windows_returns(g, folder)
        if hc is not None and w is not None:
            results = {"cooling": hc, "windows": w}
            cpu[g.name] = c
    elif figure == "fig6":
        g = next(j for j in jobs if isinstance(j, CoolingGroup))
        hc, c = _heat_capacity(g, folder)
        d, c2 = _task("D-fg-L100-p0.031", folder)
        if hc is not None and d is not None:
            results = {"cooling": hc, "diffusion": d.results["diffusion"]}
            cpu = {g.name: c, "D-fg-L100-p0.031": c2}
    elif figure == "fig5":
        d, c = _task("D-fg-L100-p0.01", folder)
        u, cu = _task("D-u-L100-p0.005", folder)
        if d is not None:
            results = {"diffusion": d.results["diffusion"]}
            cpu["D-fg-L100-p0.01"] = c
        if u is not None and results:
            results["uniform"] = u.results["diffusion"]
            cpu["D-u-L100-p0.005"] = cu
    elif figure == "fig4b":
        d, c = _task("q-L200-p0.005", folder)
        if d is not None:
            results, cpu = {"q": d.results["q"]}, {"q-L200-p0.005": c}
    else:  # fig2, fig3, fig9, fig10: one job
        d, c = _task("tls-L40-p0.005-T0.25", folder)
        if d is not None:
            r = d.results
            keep = {"fig2": ("occupation", "chosen"), "fig3": ("traces_T0.05", "boltzmann", "chosen"),
                    "fig9": tuple(k for k in r if k.startswith("traces_T")) + ("chosen",), "fig10": ("multilevel", "occupation", "chosen")}[figure]
            results = {k: r[k] for k in keep}
            cpu = {"tls-L40-p0.005-T0.25": c}
    if not results:
        raise ValueError(f"no finished campaign job for {figure} in {folder}; run: dplm-explore reproduce --figures {figure}")
    jobs_desc = [j.describe() for j in jobs]
    from .campaign import unit_done

    progress = {j.name: {"done": sum(unit_done(j, u, folder) for u in j.units()), "planned": len(j.units())} for j in jobs}
    cmd = f"dplm-explore reproduce --figures {figure} && dplm-explore reproduce --figures {figure} --assemble --out-dir dplm_explore/data"
    prov = base_provenance(figure=figure, scale="paper", jobs=jobs_desc, jobs_progress=progress, cpu_s_by_job=cpu, cpu_hours=sum(cpu.values()) / 3600.0, command=cmd,
                           shared_jobs=[j.name for j in jobs if len(j.figures) > 1])
    return FigureData(figure, "paper", paper_parameters(figure), results, prov)


# ============================================================================== headline numbers
def _rec(figure, quantity, ours, error, paper=None, theory=None, **cond) -> dict[str, Any]:
    def num(x):
        return None if x is None or not math.isfinite(float(x)) else float(x)

    return {"figure": figure, "quantity": quantity, "ours": num(ours), "error": num(error), "paper": num(paper), "theory": num(theory), **cond}


def cv_fit(hc, figure: str):
    """The low-T fit of one HeatCapacity under the stated window rule (:func:`fit_window`;
    Fig. 8's runs all take the fixed window, also the T_I = 0.08 and 0.1 ones)."""
    from .analysis import NONEQ_FIT_T_MAX, fit_window

    return hc.fit(T_max=NONEQ_FIT_T_MAX if figure == "fig8" else fit_window(hc))


def _cv_records(figure, data, quantities=("c1", "c3")) -> list[dict]:
    out = []
    for key, hc in data.results.items():
        f = cv_fit(hc, figure)
        th = f.theory or {}
        cond = {"T_I": float(hc.system["T_I"]), "phi_v": float(hc.system["phi_v_realised"]), "L": int(hc.system["L"]), "n_replicas": int(hc.n_done),
                "g": hc.system["g"]["family"], "fit_T_max": f.T_max, "nu": _nu(hc)}
        for q in quantities:
            out.append(_rec(figure, q, getattr(f, q), getattr(f, f"{q}_err"), None, th.get(q), **cond))
    return out


def _nu(hc) -> float:
    ramps = [s for s in hc.program["segments"] if s["kind"] == "ramp"]
    return float(ramps[0]["nu"]) if ramps else float("nan")


def _diffusion_records(figure, d, *, g: str, paper_mk=None, paper_mk_ext=None, paper_Tg=None, with_D=True) -> list[dict]:
    from .analysis import fit_fragility, glass_transition

    out = []
    R = d.D_replicas.shape[1]

    def D_mean(mask):
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.where(mask[None, :], d.D_replicas, np.nan), axis=1) * (W0_REF / float(d.system["w0"]))

    def stat(mask, which):
        tg, mk = glass_transition(d.T, D_mean(mask), d.D_r)
        return tg if which == "T_g" else mk

    def fitted(mask, form, which):
        """``which`` of the ``form`` fit to the replicas in ``mask``; NaN when those points admit
        no fit (the jackknife then leaves that subset out)."""
        D = D_mean(mask)
        ok = np.isfinite(D) & (D > 0)
        try:
            return getattr(fit_fragility(d.T[ok], D[ok], form, d.D_r, d.D_r_ext), which)
        except (ValueError, RuntimeError, OverflowError, ZeroDivisionError, np.linalg.LinAlgError):
            return float("nan")

    tg, tg_err = jackknife(lambda m: stat(m, "T_g"), R)
    mk, mk_err = jackknife(lambda m: stat(m, "m_k"), R)
    cond = {"g": g, "phi_v": float(d.system["phi_v_realised"]), "L": int(d.system["L"]), "D_r": d.D_r, "n_replicas": R}
    out.append(_rec(figure, "T_g", tg, tg_err, paper_Tg, None, form=None, **cond))
    out.append(_rec(figure, "m_k", mk, mk_err, paper_mk, None, form=None, **cond))
    # each fitted form's m_k at D_r and its extrapolation to D_r_ext, with jackknife errors
    for which, paper, D_r in (("m_k", paper_mk, d.D_r), ("m_k_ext", paper_mk_ext, d.D_r_ext)):
        for form, fit in d.fits.items():
            if which in fit:
                _, err = jackknife(lambda m, form=form: fitted(m, form, which), R)
                out.append(_rec(figure, "m_k", fit[which], err, paper, None, form=form, **dict(cond, D_r=D_r)))
    if with_D:
        for i, T in enumerate(d.T):
            out.append(_rec(figure, "D", d.D_scaled[i], d.D_err[i] * (W0_REF / float(d.system["w0"])), None, None, T=float(T), **cond))
    return out


def headline_records(figure: str, data) -> list[dict[str, Any]]:
    """The headline numbers of ``figure`` from its data (see the module docstring). A fit of
    fewer than two replicas has no error: errors come from the spread over replicas only."""
    records = _headline_records(figure, data)
    for rec in records:
        if rec.get("n_replicas") is not None and rec["n_replicas"] < 2 and rec["quantity"] in ("c1", "c3"):
            rec["error"] = None
    return records


def _headline_records(figure: str, data) -> list[dict[str, Any]]:
    from . import theory

    r = data.results
    if figure in ("fig1", "fig7", "fig8"):
        return _cv_records(figure, data, ("c1",) if figure == "fig7" else ("c1", "c3"))
    if figure == "fig4a":
        w = r.get("windows", r.get("returns"))
        marks = w.system.get("marks", [None] * w.T.size)
        R = w.system.get("n_replicas", 1)
        out = []
        for j, T in enumerate(w.T):
            mark = marks[j]
            Tc = float(mark) if mark is not None else float(T)
            for q, ev, ev_e, sn, sn_e in (("P_ret", w.P_ret_event, w.P_ret_event_err, w.P_ret_snapshot, w.P_ret_snapshot_err),
                                          ("Q_ret", w.Q_ret_event, w.Q_ret_event_err, w.Q_ret_snapshot, w.Q_ret_snapshot_err)):
                paper = PAPER["fig4a"].get((q, mark))
                out.append(_rec(figure, q, ev[j], ev_e[j], None, None, T=Tc, T_window=float(T), interval=None, n_replicas=R))
                out.append(_rec(figure, q, sn[j], sn_e[j], paper, None, T=Tc, T_window=float(T), interval=w.snapshot_interval, n_replicas=R))
        return out
    if figure == "fig4b":
        qc = r["q"]
        return [_rec(figure, "q", qc.q[i], qc.q_err[i], PAPER["fig4b"].get(("q", round(float(T), 6))), qc.q_theory[i], T_I=float(T),
                     T_eval=qc.T_eval, nu=qc.nu, n_samples=int(qc.n_samples[i])) for i, T in enumerate(qc.T_I)]
    if figure == "fig5":
        out = _diffusion_records(figure, r["diffusion"], g="fermi-gauss", paper_mk=PAPER["fig5"]["m_k"], paper_mk_ext=PAPER["fig5"]["m_k_ext"])
        if "uniform" in r:
            out += [x for x in _diffusion_records(figure, r["uniform"], g="uniform", paper_Tg=PAPER["fig5"]["T_g_uniform"], with_D=False)
                    if x["quantity"] == "T_g"]
        return out
    if figure == "fig6":
        hc, d = r["cooling"], r["diffusion"]
        tg_rec = _diffusion_records(figure, d, g="fermi-gauss", paper_Tg=PAPER["fig6"]["T_g"], with_D=False)
        T_g = tg_rec[0]["ours"]
        f = cv_fit(hc, figure)
        cond = {"T_I": float(hc.system["T_I"]), "phi_v": float(hc.system["phi_v_realised"]), "g": "fermi-gauss", "nu": _nu(hc), "T_g": T_g,
                "fit_T_max": f.T_max, "n_replicas": int(hc.n_done)}
        out = [x for x in tg_rec if x["quantity"] == "T_g"]
        out.append(_rec(figure, "c1", f.c1, f.c1_err, PAPER["fig6"]["c1"], None, units="k_B", **cond))
        if T_g is not None:
            u = theory.GlassUnits(T_g)
            out.append(_rec(figure, "c1", u.c1(f.c1), u.c1(f.c1_err), PAPER["fig6"]["c1_phys"], None, units="J/(K^2 mol)", **cond))
            out.append(_rec(figure, "c3", u.c3(f.c3), u.c3(f.c3_err), PAPER["fig6"]["c3_phys"], None, units="J/(K^4 mol)", **cond))
        return out
    if figure in ("fig2", "fig3", "fig9", "fig10"):
        ch = r.get("chosen", r.get("tls"))
        if figure == "fig3":
            b = r["boltzmann"]
            return [_rec(figure, "dE", b.dE_fit[j], b.dE_fit_err[j], None, b.dE_config[j], tls="AB"[j], void=int(b.void[j]),
                         T=[float(t) for t in b.T]) for j in range(b.void.size)]
        if figure == "fig10":
            ml = r["multilevel"]
            return [_rec(figure, "levels", len([f for f in ml.system["levels_fraction"] if f >= 0.01]), None, 4, None, T=float(ml.T),
                         void=int(ml.system["void"]), tls=ml.system["tls_label"])]
        if figure == "fig2":
            occ = r["occupation"]
            ch = dataclasses.replace(ch, **{f: getattr(ch, f)[:2] for f in ("void", "ratio", "ratio_err", "boltzmann")}) if len(ch.void) > 2 else ch
            return [_rec(figure, "hops", int(occ.hops[k]), None, 1e7, None, T=float(occ.T_mean[k])) for k in range(occ.hops.size)] + \
                   [_rec(figure, "p2/p1", ch.ratio[j], ch.ratio_err[j], None, ch.boltzmann[j], tls="AB"[j], T=float(ch.T)) for j in range(ch.void.size)]
        return [_rec(figure, "transitions", int(np.count_nonzero(np.diff(tr.void_d[:, j]) != 0)), None, None, None, tls="AB"[j], T=float(tr.T))
                for key, tr in r.items() if key.startswith("traces_T") for j in range(tr.voids.size)]
    raise ValueError(f"figure must be one of {', '.join(ASSEMBLED)}; got {figure!r}")



# ============================================================================ reproduction table
_COND_KEYS = ("T_I", "phi_v", "T", "g", "interval", "form", "D_r", "units", "tls")


def _fmt(x, err=None) -> str:
    if x is None:
        return "–"
    if err is None or not math.isfinite(err) or err == 0:
        return f"{x:.4g}"
    digits = max(0, -int(math.floor(math.log10(abs(err)))) + 1)
    if abs(x) < 1e-3 or abs(x) >= 1e4:
        return f"{x:.3g} ± {err:.2g}"
    return f"{x:.{digits}f} ± {err:.{digits}f}"


def agreement(rec: dict[str, Any]) -> str | None:
    """'yes' / 'no' whether ``ours`` is within 2 errors of the paper's number (or, when the paper
    gives none, of the theory's); None when there is nothing to compare or no error."""
    ref = rec["paper"] if rec["paper"] is not None else rec["theory"]
    if ref is None or rec["ours"] is None or rec["error"] is None:
        return None
    err = max(rec["error"], 1e-3 * abs(ref))  # a count with no failures has a zero binomial error
    return "yes" if abs(rec["ours"] - ref) <= 2 * err else "no"


def table_rows(records: list[dict[str, Any]], data=None, all_records=None) -> list[str]:
    """Markdown rows: figure | quantity | conditions | paper | ours ± error | theory | agree | note
    (:func:`~dplm_explore.explanations.explanation`; ``data``: the records' figure data, which the
    notes compute their numbers from, the shipped file when None; ``all_records``: the figure's
    records when ``records`` are a selection of them, for notes that quote another row)."""
    from .explanations import explanation

    rows = []
    for r in records:
        keys = [k for k in _COND_KEYS if k != "D_r" or r["quantity"] in ("T_g", "m_k")]
        cond = ", ".join(f"{k}={r[k]}" for k in keys if k in r and r[k] is not None and not isinstance(r[k], list))
        if r.get("interval", 0) is None and "interval" in r:
            cond = (cond + ", " if cond else "") + "event level"
        a = agreement(r)
        note = explanation(r, data, records if all_records is None else all_records)
        rows.append(f"| {r['figure']} | {r['quantity']} | {cond} | {_fmt(r['paper'])} | {_fmt(r['ours'], r['error'])} | {_fmt(r['theory'])} | "
                    f"{a or '–'} | {note} |")
    return rows


def print_rows(figure: str, data=None, quantities=None) -> None:
    """Print ``figure``'s headline numbers as the rows of docs/reproduction.md (for notebooks)."""
    data = data or paper_figure(figure)
    if data is None:
        return
    all_recs = headline_records(figure, data)
    recs = [r for r in all_recs if quantities is None or r["quantity"] in quantities]
    rows = table_rows(recs, data, all_recs)
    print("\n".join(["| figure | quantity | conditions | paper | ours ± error | theory | agree (2σ) | note |", "|---|---|---|---|---|---|---|---|", *rows]))


def paper_figure(figure: str):
    """The shipped paper-scale data of ``figure`` (for notebooks), or None with a printed note
    when the campaign has not produced them yet."""
    from .figures import figure_data, shipped_path

    if not shipped_path(figure).exists():
        print(f"{figure}: the paper-scale data are not shipped yet (the campaign is still computing them: dplm-explore reproduce --figures {figure})")
        return None
    return figure_data(figure, "paper")


def paper_parameters(figure: str) -> dict:
    """The campaign jobs behind ``figure``'s paper-scale data (its ``params``)."""
    from .campaign import plan_for

    return {"jobs": [j.name for j in plan_for([figure])]}


def recompute_figure(figure: str, scale: str = "quick", *, work: Path | None = None, seed: int | None = None, progress: bool = False):
    """``figure``'s data computed now: ``"quick"`` runs its quick recipe (a minute); ``"paper"``
    runs its campaign jobs (hours on one core; resumable in ``work``) and assembles them."""
    from .campaign import run_campaign
    from .figures import FIGURES

    if figure not in FIGURES:
        raise ValueError(f"figure must be one of {', '.join(FIGURES)}; got {figure!r}")
    if scale == "quick":
        return FIGURES[figure].compute("quick", progress=progress, **({} if seed is None else {"seed": seed}))
    if scale != "paper":
        raise ValueError(f"scale must be 'quick' or 'paper'; got {scale!r}")
    run_campaign([figure], work=work, progress=progress)
    return assemble_figure(figure, results_dir(work))
