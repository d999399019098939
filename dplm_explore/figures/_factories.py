"""One factory per paper figure: computed results in, a Bokeh layout out (pure drawing).

Theory curves come from :mod:`dplm_explore.theory`; numbers the paper reports appear only as grey
reference marks labelled ``paper: ...``, never as our data."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import theory
from ..analysis.fragility import fit_fragility
from ..analysis.diffusion import W0_REF
from ..interactions import as_g
from . import _kit as k

__all__ = [
    "specific_heat_figure", "occupation_figure", "tls_figure", "returns_figure", "q_figure", "diffusion_figure", "glycerol_figure",
    "void_density_figure", "high_TI_figure", "tls_temperatures_figure", "multilevel_figure",
]

_TLS_NAMES = "ABCDEFGH"


def _fit(hc, T_max: float | None = None):
    """c1, c3 fit of a HeatCapacity (None when it cannot be fitted) under the stated window."""
    from ..analysis import fit_window

    try:
        return hc.fit(T_max=fit_window(hc) if T_max is None else T_max)
    except ValueError:
        return None


def _cv_panel(runs: Mapping[str, Any], *, title: str, T_max: float | None = None, log=False):
    """C_v against T for each run, theory C_v (Eq. A5/A6 numerical integral) dashed."""
    kw = {"x_axis_type": "log", "y_axis_type": "log"} if log else {}
    p = k.figure(title, "T", "C_v  (k_B per particle)", **kw)
    for i, (key, hc) in enumerate(runs.items()):
        c, m = k.COLORS[i % len(k.COLORS)], k.MARKERS[i % len(k.MARKERS)]
        if log:
            hc = hc.rebin(n_log_bins=40)
        sel = np.ones(hc.T.size, bool) if T_max is None else hc.T <= T_max
        if log:
            sel &= hc.Cv > 0
        k.points(p, hc.T[sel], hc.Cv[sel], None if log else hc.Cv_err[sel], color=c, marker=m, label=f"{key} ({hc.n_done} runs)", size=6)
        if not log and np.isfinite(hc.Cv_tls_theory).any():
            k.curve(p, hc.T[sel], hc.Cv_tls_theory[sel], color=c, dash="dashed", width=1.5)
    k.finish(p)
    if p.legend:
        p.legend.location = "top_left"
    return p


def _cv_over_T_panel(runs: Mapping[str, Any], *, title: str, theory_dash="dashed", theory_label="theory Eq. A13", T_max: float | None = None):
    """C_v/T against T^2 with the fitted line c1 + c3 T^2 (solid) and the theory's (dashed)."""
    p = k.figure(title, "T²", "C_v / T")
    for i, (key, hc) in enumerate(runs.items()):
        c, m = k.COLORS[i % len(k.COLORS)], k.MARKERS[i % len(k.MARKERS)]
        fit = _fit(hc, T_max)
        T_hi = fit.T_max if fit is not None else float(np.nanmax(hc.T))
        sel = (hc.T <= T_hi) & (hc.T > 0)
        k.points(p, hc.T[sel] ** 2, hc.Cv[sel] / hc.T[sel], hc.Cv_err[sel] / hc.T[sel], color=c, marker=m, label=key, size=6)
        x = np.linspace(0, T_hi**2, 50)
        if fit is not None:
            k.curve(p, x, fit.c1 + fit.c3 * x, color=c, label=f"{key}: c1={fit.c1:.3g}±{fit.c1_err:.2g}")
            if fit.theory:
                k.curve(p, x, fit.theory["c1"] + fit.theory["c3"] * x, color=c, dash=theory_dash, width=1.5, label=f"{theory_label}" if i == 0 else None)
    k.finish(p)
    if p.legend:
        p.width += 230
        p.add_layout(p.legend[0], "right")
    return p


def specific_heat_figure(runs: Mapping[str, Any]):
    """Fig. 1: (a) C_v vs T for several T_I (dashed: theory C_v integral, Eqs. A5/A6), (b) C_v/T vs
    T^2 over each run's fit window with the fitted c1 + c3 T^2 (solid) and Eq. (A13) (dashed).
    ``runs``: label -> HeatCapacity."""
    from bokeh.layouts import row

    T_max = max(0.5 * float(hc.system["T_I"]) for hc in runs.values())
    a = _cv_panel(runs, title="(a) C_v vs T (dashed: theory)", T_max=T_max)
    b = _cv_over_T_panel(runs, title="(b) C_v/T vs T² (solid: fit, dashed: Eq. A13)")
    return row(a, b)


def void_density_figure(runs: Mapping[str, Any]):
    """Fig. 7: C_v vs T at T_I = 0.05 for several void densities; dashed: theory (Eqs. A10, A19)."""
    from bokeh.layouts import row

    T_max = max(0.5 * float(hc.system["T_I"]) for hc in runs.values())
    a = _cv_panel(runs, title="C_v vs T for several φ_v (dashed: theory)", T_max=T_max)
    b = _cv_over_T_panel(runs, title="C_v/T vs T² (solid: fit, dashed: Eq. A13)")
    return row(a, b)


def high_TI_figure(runs: Mapping[str, Any]):
    """Fig. 8: cooling from T_I near or above T_g. (a) C_v/T vs T^2 over the fixed window, fits
    (solid) and the equilibrium theory at T_I (dotted) that no longer applies; (b) C_v vs T in
    log-log over the whole range, with slope-1 and slope-3 guides drawn through our data."""
    from bokeh.layouts import row

    from ..analysis import NONEQ_FIT_T_MAX

    a = _cv_over_T_panel(runs, title="(a) C_v/T vs T² (solid: fit, dotted: Eq. A13 at T_I)", theory_dash="dotted", T_max=NONEQ_FIT_T_MAX)
    b = _cv_panel(runs, title="(b) C_v vs T, log-log", log=True)
    fits = [f for f in (_fit(hc, NONEQ_FIT_T_MAX) for hc in runs.values()) if f is not None and f.c1 > 0]
    if fits:
        f = fits[len(fits) // 2]
        x1 = np.array([0.002, 0.01])
        k.curve(b, x1, f.c1 * x1, color="black", dash="dashed", width=1, label="slope 1")
        hc = list(runs.values())[len(runs) // 2].rebin(n_log_bins=40)
        ok = (hc.T > 0.03) & (hc.T < 0.06) & (hc.Cv > 0)
        if ok.any():
            T0, C0 = float(hc.T[ok][0]), float(hc.Cv[ok][0])
            x3 = np.array([T0 / 2.5, T0])
            k.curve(b, x3, C0 * (x3 / T0) ** 3, color="black", width=1, label="slope 3")
    k.paper_mark(b, 0.2, 1.6, "C_v up to 1.6 at high T", offset=(-10, 0))
    k.finish(b)
    b.width += 170
    b.add_layout(b.legend[0], "right")
    return row(a, b)


def occupation_figure(occ, tls=None):
    """Fig. 2: void occupation maps p_i^void (one panel per window); white: never visited; black
    squares: void positions at the window start; open circles: the sites of the TLS in ``tls``
    (a :class:`~dplm_explore.analysis.TLSCatalogue`) on the last panel, labelled A, B, ..."""
    from bokeh.layouts import gridplot
    from bokeh.models import ColorBar, Label, LogColorMapper

    L = occ.p.shape[-1]
    pos = occ.p[occ.p > 0]
    mapper = LogColorMapper(palette="Viridis256", low=float(pos.min()) if pos.size else 1e-6, high=float(occ.p.max()) if pos.size else 1.0, nan_color="white")
    panels = []
    for j in range(occ.p.shape[0]):
        p = k.figure(f"({'abcdefgh'[j % 8]}) T ≈ {occ.T_mean[j]:.3f}, {int(occ.hops[j]):.2g} hops", "x", "y", width=330, height=320,
                     x_range=(0, L), y_range=(0, L), match_aspect=True)
        # p[j] is indexed [y, x] (site = y L + x), as Bokeh draws an image: [row = y, col = x]
        img = np.where(occ.p[j] > 0, occ.p[j], np.nan)
        p.image(image=[img], x=0, y=0, dw=L, dh=L, color_mapper=mapper)
        xy = occ.initial_xy[j]
        p.scatter(xy[:, 0] + 0.5, xy[:, 1] + 0.5, marker="square", size=6, color="black", legend_label="void at window start")
        if tls is not None and len(tls.void) and j == occ.p.shape[0] - 1:
            for i in range(len(tls.void)):
                for s in (tls.xy1[i], tls.xy2[i]):
                    p.scatter([s[0] + 0.5], [s[1] + 0.5], marker="circle", size=14, fill_alpha=0, line_color=k.COLORS[1], line_width=2,
                              legend_label="TLS sites")
                p.add_layout(Label(x=float(tls.xy1[i][0]) + 1.5, y=float(tls.xy1[i][1]) + 1.5, text=_TLS_NAMES[i], text_font_size="12pt",
                                   text_color=k.COLORS[1]))
        p.grid.visible = False
        k.finish(p)
        p.add_layout(p.legend[0], "below")
        p.legend.orientation = "horizontal"
        p.height += 40
        panels.append(p)
    panels[-1].add_layout(ColorBar(color_mapper=mapper, title="p_void", width=10), "right")
    return gridplot(panels, ncols=2, toolbar_location="right")


def _trace_panel(tr, title: str, *, offset: float = 1.5, names=None, particles: bool = False):
    """Displacement d(t) of each traced walker, shifted by ``offset`` each; event-level traces
    (``interval == 0``) are drawn as steps (exact positions between events)."""
    p = k.figure(title, "t", "d (+ offset)")
    step = tr.interval == 0
    cols = [(tr.void_d[:, j], f"void {int(tr.voids[j])}" if names is None else names[j]) for j in range(tr.voids.size)]
    if particles:
        cols += [(tr.particle_d[:, j], f"particle {j + 1} (id {int(tr.particles[j])})") for j in range(tr.particles.size)]
    for j, (d, lab) in enumerate(cols):
        k.curve(p, tr.t, d + offset * j, color=k.COLORS[j % len(k.COLORS)], width=1.5, label=lab, step=step)
    if step and tr.t.size:
        k.note(p, f"every hop of the traced walkers ({tr.t.size - 1} events from t = {tr.t[0]:.4g})")
    k.finish(p)
    p.legend.location = "top_left"
    return p


def tls_figure(traces, boltzmann):
    """Fig. 3: (a) void displacement d(t) of the two TLS at T = 0.05 (B shifted upward); (b)
    |ln(p2/p1)| vs 1/T with the Boltzmann line |dE|/T from the configuration (solid) and the fit
    through the origin (dashed)."""
    from bokeh.layouts import row

    names = [f"TLS {_TLS_NAMES[j]} (void {int(traces.voids[j])})" for j in range(traces.voids.size)]
    a = _trace_panel(traces, f"(a) TLS void displacement at T = {traces.T:.3g}", names=names)
    b = k.figure("(b) |ln(p2/p1)| vs 1/T", "1/T", "|ln(p2/p1)|")
    inv = 1.0 / np.asarray(boltzmann.T, float)
    x = np.linspace(0, inv.max() * 1.05, 50)
    for j in range(boltzmann.void.size):
        c, m = k.COLORS[j % len(k.COLORS)], k.MARKERS[j % len(k.MARKERS)]
        ok = boltzmann.confined[:, j] & (boltzmann.n_transitions[:, j] > 0)
        r = boltzmann.ratio[:, j]
        lr = np.abs(np.log(np.where(ok, r, np.nan)))
        err = np.where(ok, boltzmann.ratio_err[:, j] / r, np.nan)
        k.points(b, inv, lr, err, color=c, marker=m, label=f"TLS {_TLS_NAMES[j]}")
        if np.isfinite(boltzmann.dE_config[j]):
            k.curve(b, x, abs(boltzmann.dE_config[j]) * x, color=c, width=1.5, label=f"{_TLS_NAMES[j]}: ΔE={boltzmann.dE_config[j]:.3f} (configuration)")
        if np.isfinite(boltzmann.dE_fit[j]):
            k.curve(b, x, abs(boltzmann.dE_fit[j]) * x, color=c, dash="dashed", width=1)
    b.legend.location = "top_left"
    k.finish(b)
    return row(a, b)


def tls_temperatures_figure(traces: Mapping[str, Any]):
    """Fig. 9: displacement d(t) of the two TLS voids of Fig. 2 in each occupation window
    (T = 0.2, 0.15, 0.1, 0.05), B shifted upward; ``traces``: label -> Traces."""
    from bokeh.layouts import gridplot

    panels = []
    for j, (key, tr) in enumerate(traces.items()):
        names = [f"{_TLS_NAMES[i]} (void {int(tr.voids[i])})" for i in range(tr.voids.size)]
        panels.append(_trace_panel(tr, f"({'abcd'[j % 4]}) T ≈ {tr.T:.3g}", names=names, offset=max(1.5, float(np.nanmax(tr.void_d)) + 0.5)))
    return gridplot(panels, ncols=2, toolbar_location="right")


def multilevel_figure(ml, occ=None, window: int | None = None):
    """Fig. 10: displacement d(t) of a void at T = 0.1 and the three particles that hop with it
    (shifted upward), and the void occupation map p_void around it (window ``window`` of
    ``occ``). The levels found (sites and time fractions) are in ``ml.system``."""
    from bokeh.layouts import row
    from bokeh.models import ColorBar, LogColorMapper

    lv = [f for f in ml.system.get("levels_fraction", []) if f >= 0.01]
    label = ml.system.get("tls_label")
    who = f"void {ml.system.get('void')}" + (f" (TLS {label} of Fig. 2)" if label else "")
    a = _trace_panel(ml, f"{len(lv)}-level system at T ≈ {ml.T:.3g}: {who}", particles=True)
    a.add_layout(a.legend[0], "right")
    a.width += 190
    if len(lv) != 4:
        k.note(a, f"{len(lv)} levels held >= 1 % of the window (the paper's void: 4)")
    if occ is None:
        return a
    w = occ.p.shape[0] - 1 if window is None else window
    L = occ.p.shape[-1]
    xy = np.asarray(ml.system.get("levels_xy", [[L // 2, L // 2]]), float)
    cx, cy = xy[:, 0].mean(), xy[:, 1].mean()
    half = 4
    b = k.figure(f"p_void near {who}", "x", "y", width=330, height=320, x_range=(cx - half, cx + half + 1), y_range=(cy - half, cy + half + 1),
                 match_aspect=True)
    img = np.where(occ.p[w] > 0, occ.p[w], np.nan)
    pos = occ.p[w][occ.p[w] > 0]
    mapper = LogColorMapper(palette="Viridis256", low=float(pos.min()) if pos.size else 1e-6, high=float(pos.max()) if pos.size else 1.0, nan_color="white")
    b.image(image=[img], x=0, y=0, dw=L, dh=L, color_mapper=mapper)  # [y, x], as Bokeh draws it
    v0 = ml.void_xy[0, 0] % L if ml.void_xy.size else xy[0]
    b.scatter([v0[0] + 0.5], [v0[1] + 0.5], marker="square", size=10, color="black", legend_label="void at t = 0")
    if ml.particle_xy.size:
        from bokeh.models import Label

        for j in range(ml.particle_xy.shape[1]):
            q = ml.particle_xy[0, j] % L
            b.add_layout(Label(x=float(q[0]) + 0.3, y=float(q[1]) + 0.3, text=str(j + 1), text_font_size="12pt", text_color="white"))
    b.add_layout(ColorBar(color_mapper=mapper, title="p_void", width=10), "right")
    b.grid.visible = False
    k.finish(b)
    b.add_layout(b.legend[0], "below")
    return row(a, b)


def returns_figure(ret, cooling=None):
    """Fig. 4a: P_ret (particles) and Q_ret (voids) vs 1/T; filled: event level (exact), open:
    at the snapshot interval (the paper's method, a lower bound). ``cooling``: optional
    HeatCapacity of the same runs whose event-level counts give the continuous curves."""
    p = k.figure(f"(a) return probabilities (snapshots every {ret.snapshot_interval:g})", "1/T", "return probability")
    if cooling is not None:
        rp = cooling.return_probabilities()
        k.curve(p, 1 / rp["T"], rp["P_ret"], color=k.COLORS[0], width=1, dash="dotted", label="P_ret, events (all hops)")
        k.curve(p, 1 / rp["T"], rp["Q_ret"], color=k.COLORS[1], width=1, dash="dotted", label="Q_ret, events (all hops)")
    inv = 1.0 / ret.T
    k.points(p, inv, ret.P_ret_event, ret.P_ret_event_err, color=k.COLORS[0], label="P_ret, events")
    k.points(p, inv, ret.Q_ret_event, ret.Q_ret_event_err, color=k.COLORS[1], label="Q_ret, events", marker="square")
    k.points(p, inv, ret.P_ret_snapshot, ret.P_ret_snapshot_err, color=k.COLORS[0], label="P_ret, snapshots", marker="triangle", fill=False, size=9)
    k.points(p, inv, ret.Q_ret_snapshot, ret.Q_ret_snapshot_err, color=k.COLORS[1], label="Q_ret, snapshots", marker="diamond", fill=False, size=9)
    k.paper_mark(p, 1 / 0.15, 0.8, "P_ret ≈ 0.8 at T=0.15", offset=(8, -4))
    k.paper_mark(p, 1 / 0.10, 0.99, "P_ret ≈ 0.99 at T=0.10", offset=(8, -22))
    k.paper_mark(p, 1 / 0.01, 0.99, "Q_ret ≈ 0.99 at T=0.01", offset=(-8, -6))
    k.finish(p)
    p.width += 190
    p.add_layout(p.legend[0], "right")
    return p


def q_figure(qc):
    """Fig. 4b: q (probability that a hop attempt is energetically possible) vs 1/T_I; points:
    measured from directly constructed states; line: theory (Eq. 4) with dE_max of Eq. 5."""
    p = k.figure("(b) q vs 1/T_I", "1/T_I", "q", y_axis_type="log")
    inv = 1.0 / qc.T_I
    ok = qc.q > 0
    k.points(p, inv[ok], qc.q[ok], qc.q_err[ok], color=k.COLORS[0], label="measured")
    grid = np.linspace(float(qc.T_I.min()), float(qc.T_I.max()), 40)
    g = as_g(qc.g)
    q_th = [theory.q(g, T, T_eval=qc.T_eval, nu=qc.nu, w0=qc.w0) for T in grid]
    k.curve(p, 1.0 / grid, q_th, color=k.COLORS[1], label=f"theory Eq. 4 (dE_max at {'T_I' if qc.T_eval is None else f'T={qc.T_eval:g}'})")
    k.paper_mark(p, 1 / 0.03, 0.05, "q ≈ 0.05 at T_I=0.03")
    p.legend.location = "bottom_left"
    k.finish(p)
    return p


def diffusion_figure(diff, *, paper_note: str | None = "paper (φ_v=0.01): m_k = 13 at D_r = 0.1, 50 extrapolated", uniform=None):
    """Fig. 5: Arrhenius plot of D (scaled to w0 = 1e6) vs 1/T with the fitted forms, D_r and
    our T_g, m_k; ``uniform``: optional D(T) of the uniform g, drawn for its T_g."""
    p = k.figure("D vs 1/T (Fermi-plus-Gaussian g)", "1/T", "D  (w0 = 1e6 units)", y_axis_type="log")
    ok = np.isfinite(diff.D_scaled) & (diff.D_scaled > 0)
    k.points(p, 1 / diff.T[ok], diff.D_scaled[ok], diff.D_err[ok] * W0_REF / float(diff.system["w0"]), color=k.COLORS[0], label="measured D")
    grid = np.linspace(float(diff.T[ok].min()) * 0.97, float(diff.T[ok].max()), 60) if ok.sum() >= 2 else np.array([])
    for i, (form, fit) in enumerate(diff.fits.items()):
        if "params" not in fit or grid.size == 0:
            continue
        try:
            ff = fit_fragility(diff.T[ok], diff.D_scaled[ok], form=form, D_r=diff.D_r)
        except ValueError:
            continue
        k.curve(p, 1 / grid, 10 ** ff.log10_D(grid), color=k.COLORS[(i + 1) % len(k.COLORS)], dash="dashed", label=f"{form} fit: T_g={ff.T_g:.3f}, m_k={ff.m_k:.1f}")
    if uniform is not None:
        u = np.isfinite(uniform.D_scaled) & (uniform.D_scaled > 0)
        k.points(p, 1 / uniform.T[u], uniform.D_scaled[u], None, color=k.COLORS[4], marker="square", label=f"uniform g: T_g = {uniform.T_g:.3f}")
    if grid.size:
        k.curve(p, [1 / grid.max(), 1 / grid.min()], [diff.D_r, diff.D_r], color="black", dash="dotted", width=1, label=f"D_r = {diff.D_r:g}")
    k.note(p, f"ours (model-free): T_g = {diff.T_g:.3f}, m_k = {diff.m_k:.1f}" + (f"   |   {paper_note}" if paper_note else ""))
    p.legend.location = "bottom_left"
    k.finish(p)
    return p


def glycerol_figure(hc, T_g_sim: float, *, T_g_K: float = 193.0):
    """Fig. 6: C_v/T vs T^2 of a Fermi-plus-Gaussian glass in glycerol units (T_g -> 193 K,
    k_B -> R), with the fitted c1 + c3 T^2; right: g(V). ``T_g_sim``: our measured T_g."""
    from bokeh.layouts import row

    units = theory.GlassUnits(T_g_sim, T_g_K)
    fit = _fit(hc)
    T_hi = fit.T_max if fit is not None else float(np.nanmax(hc.T))
    sel = (hc.T <= T_hi) & (hc.T > 0)
    TK = units.T(hc.T[sel])
    a = k.figure(f"C_v/T vs T² in glycerol units (T_g = {T_g_sim:.3f} → {T_g_K:g} K)", "T² (K²)", "C_v/T  (J K⁻² mol⁻¹)")
    k.points(a, TK**2, units.Cv(hc.Cv[sel]) / TK, units.Cv(hc.Cv_err[sel]) / TK, color=k.COLORS[0], label=f"ours ({hc.n_done} runs)")
    if fit is not None:
        x = np.linspace(0, float(TK.max()) ** 2, 50)
        c1, c3 = float(units.c1(fit.c1)), float(units.c3(fit.c3))
        k.curve(a, x, c1 + c3 * x, color=k.COLORS[0], label=f"fit: c1={c1:.3g} J/(K² mol), c3={c3:.3g} J/(K⁴ mol)")
    k.paper_mark(a, 0.0, 1.835e-4, "c1 = 1.835e-4 (expt. 1.84e-4)", marker="diamond")
    a.legend.location = "bottom_right"
    k.finish(a)
    g = as_g(hc.system["g"])
    V = np.linspace(0, 1.6 * float(getattr(g, "dV", 1.0)), 400)
    b = k.figure("g(V)", "V", "g(V)", width=280, height=k.H)
    k.curve(b, V, g.pdf(V), color=k.COLORS[2], label="g(V)")
    k.finish(b)
    return row(a, b)

