"""The paper's figures, drawn with Bokeh from our own measurements (Figs. 1-8 of Gao et al. 2021).

Two layers:

* **Factories** — one per figure, pure drawing: they take our computed results (the
  :class:`~dplm_explore.results.Result` objects of :mod:`dplm_explore.analysis`) and return a
  Bokeh layout. Theory curves come from :mod:`dplm_explore.theory`. Numbers reported by the paper
  appear only as grey reference marks labelled ``paper: ...``, never as our data.
  :func:`specific_heat_figure` (Fig. 1), :func:`occupation_figure` (Fig. 2), :func:`tls_figure`
  (Fig. 3), :func:`returns_figure` (Fig. 4a), :func:`q_figure` (Fig. 4b), :func:`diffusion_figure`
  (Fig. 5), :func:`glycerol_figure` (Fig. 6), :func:`void_density_figure` (Fig. 7),
  :func:`high_TI_figure` (Fig. 8).
* **Registry** — :data:`FIGURES` maps a name (``fig1`` ... ``fig8``, ``fig4a``, ``fig4b``) to a
  :class:`FigureSpec` that knows the parameters at two scales (``"quick"``: seconds to a minute,
  for CI and teaching; ``"paper"``: the paper's parameters, often hours), how to *compute* its data
  by calling the analysis functions, and how to *draw* it. ``spec.compute(...)`` returns a
  :class:`FigureData` (named results plus provenance) that saves to and loads from one ``.npz``.

Example::

    from dplm_explore.figures import FIGURES
    data = FIGURES["fig4b"].compute("quick", seed=1)
    layout = FIGURES["fig4b"].draw(data)
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import shlex
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from . import theory
from ._io import atomic_write, check_writable
from .interactions import make_g

__all__ = [
    "FIGURES", "FigureSpec", "FigureData", "SCALES", "FIGURE_DATA_FORMAT", "DATA_DIR", "load_figure_data", "figure_data",
    "specific_heat_figure", "occupation_figure", "tls_figure", "returns_figure", "q_figure", "diffusion_figure",
    "glycerol_figure", "void_density_figure", "high_TI_figure",
]

SCALES = ("quick", "paper")
#: shipped data files ``<name>_<scale>.npz`` (computed by ``dplm-explore figure NAME --data ...``)
DATA_DIR = Path(__file__).parent / "data"
FIGURE_DATA_FORMAT = "dplm-explore-figure-data/1"

_W, _H = 430, 340
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_PAPER_COLOR = "#777777"


# ===================================================================================== drawing kit
def _figure(title: str, x_label: str, y_label: str, **kw):
    from bokeh.plotting import figure

    kw.setdefault("width", _W)
    kw.setdefault("height", _H)
    p = figure(title=title, x_axis_label=x_label, y_axis_label=y_label, tools="pan,box_zoom,wheel_zoom,reset,save,hover", **kw)
    p.toolbar.logo = None
    return p


def _finish(p) -> None:
    if p.legend:
        p.legend.click_policy = "hide"
        p.legend.label_text_font_size = "8pt"
        p.legend.background_fill_alpha = 0.6


def _points(p, x, y, err=None, *, color, label, marker="circle", size=6):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if err is not None:
        e = np.asarray(err, float)
        good = ok & np.isfinite(e)
        if good.any():
            p.segment(x[good], (y - e)[good], x[good], (y + e)[good], color=color, alpha=0.6)
    p.scatter(x[ok], y[ok], marker=marker, size=size, color=color, legend_label=label)


def _curve(p, x, y, *, color, label=None, dash="solid", width=2):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    kw = {"legend_label": label} if label else {}
    p.line(x[ok], y[ok], color=color, line_dash=dash, line_width=width, **kw)


def _paper_mark(p, x, y, text: str, *, marker="x"):
    """A grey reference mark for a number the paper reports (never our result)."""
    from bokeh.models import Label

    p.scatter([x], [y], marker=marker, size=11, color=_PAPER_COLOR, line_width=2, legend_label="paper (reference)")
    p.add_layout(Label(x=x, y=y, text=f"paper: {text}", text_font_size="8pt", text_color=_PAPER_COLOR, x_offset=6, y_offset=4))


def _note(p, text: str):
    from bokeh.models import Title

    p.add_layout(Title(text=text, text_font_size="8pt", text_font_style="italic", text_color=_PAPER_COLOR), "below")


def _fit(hc, T_max: float | None = None):
    """c1, c3 fit of a HeatCapacity and the theory's values (None when it cannot be fitted)."""
    from .analysis.heat_capacity import fit_cv_low_T, theory_c1_c3

    T_I = hc.system.get("T_I")
    ref = theory_c1_c3(make_g(**hc.system["g"]), T_I, hc.system["phi_v_realised"]) if hc.system.get("init") == "equilibrium" and T_I else None
    if T_max is None:
        T_max = min(ref["T_series_10pct"], 0.5 * T_I) if ref and math.isfinite(ref["T_series_10pct"]) else 0.3 * float(np.nanmax(hc.T))
    try:
        return fit_cv_low_T(hc.T, hc.Cv, hc.Cv_err, T_max=T_max, theory_ref=ref, Cv_replicas=hc.Cv_replicas if hc.Cv_replicas.shape[0] >= 2 else None)
    except ValueError:
        return None


def _cv_panel(runs: Mapping[str, Any], *, title: str, T_max: float | None = None, theory_dash="dashed", log=False):
    """C_v against T for each run, theory C_v (Eq. A5/A6 numerical integral) dashed."""
    kw = {"x_axis_type": "log", "y_axis_type": "log"} if log else {}
    p = _figure(title, "T", "C_v  (k_B per particle)", **kw)
    for i, (key, hc) in enumerate(runs.items()):
        c = _COLORS[i % len(_COLORS)]
        sel = np.ones(hc.T.size, bool) if T_max is None else hc.T <= T_max
        if log:
            sel &= hc.Cv > 0
        _points(p, hc.T[sel], hc.Cv[sel], None if log else hc.Cv_err[sel], color=c, label=key, size=5)
        if not log and np.isfinite(hc.Cv_tls_theory).any():
            _curve(p, hc.T[sel], hc.Cv_tls_theory[sel], color=c, dash=theory_dash, width=1.5)
    _finish(p)
    return p


def _cv_over_T_panel(runs: Mapping[str, Any], *, title: str, theory_dash="dashed", theory_label="theory Eq. A13"):
    """C_v/T against T^2 with the fitted line c1 + c3 T^2 (solid) and the theory's (dashed)."""
    p = _figure(title, "T²", "C_v / T")
    for i, (key, hc) in enumerate(runs.items()):
        c = _COLORS[i % len(_COLORS)]
        fit = _fit(hc)
        T_hi = fit.T_max if fit is not None else float(np.nanmax(hc.T))
        sel = (hc.T <= T_hi) & (hc.T > 0)
        _points(p, hc.T[sel] ** 2, hc.Cv[sel] / hc.T[sel], hc.Cv_err[sel] / hc.T[sel], color=c, label=key, size=5)
        x = np.linspace(0, T_hi**2, 50)
        if fit is not None:
            _curve(p, x, fit.c1 + fit.c3 * x, color=c, label=f"{key}: fit c1={fit.c1:.3g}, c3={fit.c3:.3g}")
            if fit.theory:
                _curve(p, x, fit.theory["c1"] + fit.theory["c3"] * x, color=c, dash=theory_dash, width=1.5,
                       label=f"{key}: {theory_label}" if i == 0 else None)
    _finish(p)
    return p


# ====================================================================================== factories
def specific_heat_figure(runs: Mapping[str, Any]):
    """Fig. 1: (a) C_v vs T for several T_I (dashed: theory C_v integral, Eqs. A5/A6), (b) C_v/T vs
    T^2 with the fitted c1 + c3 T^2 (solid) and Eq. (A13) (dashed). ``runs``: label -> HeatCapacity."""
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
    """Fig. 8: cooling from T_I near or above T_g. (a) C_v/T vs T^2, fits (solid) and the
    equilibrium theory (dotted) that no longer applies; (b) C_v vs T in log-log over the whole
    range, with slope-1 and slope-3 guides."""
    from bokeh.layouts import row

    a = _cv_over_T_panel(runs, title="(a) C_v/T vs T² (solid: fit, dotted: Eq. A13 at T_I)", theory_dash="dotted")
    b = _cv_panel(runs, title="(b) C_v vs T, log-log", log=True)
    lo = min(float(np.nanmin(hc.T[hc.Cv > 0])) for hc in runs.values() if (hc.Cv > 0).any()) if runs else 1e-3
    y0 = min(float(np.nanmin(hc.Cv[hc.Cv > 0])) for hc in runs.values() if (hc.Cv > 0).any()) if runs else 1e-6
    x = np.array([lo, 4 * lo])
    _curve(b, x, y0 * x / lo, color="black", dash="dashed", width=1, label="slope 1")
    _curve(b, x, y0 * (x / lo) ** 3, color="black", width=1, label="slope 3")
    _paper_mark(b, 0.2, 1.6, "C_v up to 1.6 at high T")
    _finish(b)
    return row(a, b)


def occupation_figure(occ, tls=None):
    """Fig. 2: void occupation maps p_i^void (one panel per window); white: never visited; black
    squares: void positions at the window start; open circles: TLS sites from ``tls`` (optional
    :class:`~dplm_explore.analysis.TLSCatalogue` found at the end)."""
    from bokeh.layouts import gridplot
    from bokeh.models import ColorBar, LogColorMapper

    L = occ.p.shape[-1]
    pos = occ.p[occ.p > 0]
    mapper = LogColorMapper(palette="Viridis256", low=float(pos.min()) if pos.size else 1e-6, high=float(occ.p.max()) if pos.size else 1.0, nan_color="white")
    panels = []
    for k in range(occ.p.shape[0]):
        p = _figure(f"({'abcdefgh'[k % 8]}) T ≈ {occ.T_mean[k]:.3f}, {int(occ.hops[k]):.2g} hops", "x", "y", width=300, height=300,
                    x_range=(0, L), y_range=(0, L), match_aspect=True)
        img = np.where(occ.p[k] > 0, occ.p[k], np.nan)
        # p[k] is indexed [x, y]; Bokeh images are [row = y, col = x]
        p.image(image=[img.T], x=0, y=0, dw=L, dh=L, color_mapper=mapper)
        xy = occ.initial_xy[k]
        p.scatter(xy[:, 0] + 0.5, xy[:, 1] + 0.5, marker="square", size=5, color="black")
        if tls is not None and len(tls.void) and k == occ.p.shape[0] - 1:
            for j, name in zip(range(len(tls.void)), "ABCDEFGH"):
                for s in (tls.xy1[j], tls.xy2[j]):
                    p.scatter([s[0] + 0.5], [s[1] + 0.5], marker="circle", size=12, fill_alpha=0, line_color="red", line_width=2)
        p.grid.visible = False
        panels.append(p)
    panels[-1].add_layout(ColorBar(color_mapper=mapper, title="p_void", width=8), "right")
    return gridplot(panels, ncols=2, toolbar_location="right")


def tls_figure(traces, boltzmann):
    """Fig. 3: (a) void displacement d(t) of the traced TLS (shifted upward for clarity); (b)
    |ln(p2/p1)| vs 1/T with the Boltzmann line dE/T from the configuration (solid) and the fit
    through the origin (dashed)."""
    from bokeh.layouts import row

    a = _figure(f"(a) TLS void displacement at T = {traces.T:.3g}", "t", "d (+ offset)")
    for j in range(traces.void_d.shape[1]):
        c = _COLORS[j % len(_COLORS)]
        _curve(a, traces.t, traces.void_d[:, j] + 1.5 * j, color=c, width=1.5, label=f"TLS {'ABCDEFGH'[j % 8]} (void {int(traces.voids[j])})")
    _finish(a)
    b = _figure("(b) |ln(p2/p1)| vs 1/T", "1/T", "|ln(p2/p1)|")
    inv = 1.0 / np.asarray(boltzmann.T, float)
    x = np.linspace(0, inv.max() * 1.05, 50)
    for j in range(boltzmann.void.size):
        c = _COLORS[j % len(_COLORS)]
        ok = boltzmann.confined[:, j] & (boltzmann.n_transitions[:, j] > 0)
        r = boltzmann.ratio[:, j]
        lr = np.abs(np.log(np.where(ok, r, np.nan)))
        err = np.where(ok, boltzmann.ratio_err[:, j] / r, np.nan)
        _points(b, inv, lr, err, color=c, label=f"TLS {'ABCDEFGH'[j % 8]}")
        if np.isfinite(boltzmann.dE_config[j]):
            _curve(b, x, abs(boltzmann.dE_config[j]) * x, color=c, width=1.5, label=f"{'ABCDEFGH'[j % 8]}: ΔE={boltzmann.dE_config[j]:.3f} (configuration)")
        if np.isfinite(boltzmann.dE_fit[j]):
            _curve(b, x, abs(boltzmann.dE_fit[j]) * x, color=c, dash="dashed", width=1)
    b.legend.location = "top_left"
    _finish(b)
    return row(a, b)


def returns_figure(ret):
    """Fig. 4a: P_ret (particles) and Q_ret (voids) vs 1/T; filled: event level (exact), open:
    at the snapshot interval (the paper's method, a lower bound)."""
    p = _figure(f"(a) return probabilities (snapshots every {ret.snapshot_interval:g})", "1/T", "return probability")
    inv = 1.0 / ret.T
    _points(p, inv, ret.P_ret_event, ret.P_ret_event_err, color=_COLORS[0], label="P_ret, events")
    _points(p, inv, ret.Q_ret_event, ret.Q_ret_event_err, color=_COLORS[1], label="Q_ret, events", marker="square")
    _points(p, inv, ret.P_ret_snapshot, ret.P_ret_snapshot_err, color=_COLORS[0], label="P_ret, snapshots", marker="circle_x")
    _points(p, inv, ret.Q_ret_snapshot, ret.Q_ret_snapshot_err, color=_COLORS[1], label="Q_ret, snapshots", marker="square_x")
    _paper_mark(p, 1 / 0.15, 0.8, "P_ret ≈ 0.8 at T=0.15")
    _paper_mark(p, 1 / 0.10, 0.99, "P_ret ≈ 0.99 at T=0.10")
    p.legend.location = "bottom_right"
    _finish(p)
    return p


def q_figure(qc):
    """Fig. 4b: q (probability that a hop attempt is energetically possible) vs 1/T_I; points:
    measured from directly constructed states; line: theory (Eq. 4) with dE_max of Eq. 5."""
    p = _figure("(b) q vs 1/T_I", "1/T_I", "q", y_axis_type="log")
    inv = 1.0 / qc.T_I
    ok = qc.q > 0
    _points(p, inv[ok], qc.q[ok], qc.q_err[ok], color=_COLORS[0], label="measured")
    grid = np.linspace(float(qc.T_I.min()), float(qc.T_I.max()), 40)
    g = make_g(**qc.g)
    q_th = [theory.q(g, T, T_eval=qc.T_eval, nu_cool=qc.nu_cool, w0=qc.w0) for T in grid]
    _curve(p, 1.0 / grid, q_th, color=_COLORS[1], label=f"theory Eq. 4 (dE_max at {'T_I' if qc.T_eval is None else f'T={qc.T_eval:g}'})")
    _paper_mark(p, 1 / 0.03, 0.05, "q ≈ 0.05 at T_I=0.03")
    p.legend.location = "bottom_left"
    _finish(p)
    return p


def diffusion_figure(diff, *, paper_note: str | None = "paper (φ_v=0.01): m_k = 13 at D_r = 0.1"):
    """Fig. 5: Arrhenius plot of D (scaled to w0 = 1e6) vs 1/T with the fitted forms, D_r and
    our T_g, m_k."""
    p = _figure("D vs 1/T (Fermi-plus-Gaussian g)", "1/T", "D  (w0 = 1e6 units)", y_axis_type="log")
    ok = np.isfinite(diff.D_scaled) & (diff.D_scaled > 0)
    _points(p, 1 / diff.T[ok], diff.D_scaled[ok], None, color=_COLORS[0], label="measured D")
    grid = np.linspace(float(diff.T[ok].min()) * 0.97, float(diff.T[ok].max()), 60) if ok.sum() >= 2 else np.array([])
    for i, (form, fit) in enumerate(diff.fits.items()):
        if "params" not in fit or grid.size == 0:
            continue
        try:
            ff = theory.fit_fragility(diff.T[ok], diff.D_scaled[ok], form=form, D_r=diff.D_r)
        except ValueError:
            continue
        _curve(p, 1 / grid, 10 ** ff.log10_D(grid), color=_COLORS[(i + 1) % len(_COLORS)], dash="dashed", label=f"{form} fit: T_g={ff.T_g:.3f}, m_k={ff.m_k:.1f}")
    if grid.size:
        _curve(p, [1 / grid.max(), 1 / grid.min()], [diff.D_r, diff.D_r], color="black", dash="dotted", width=1, label=f"D_r = {diff.D_r:g}")
    _note(p, f"ours (model-free): T_g = {diff.T_g:.3f}, m_k = {diff.m_k:.1f}" + (f"   |   {paper_note}" if paper_note else ""))
    p.legend.location = "bottom_left"
    _finish(p)
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
    a = _figure(f"C_v/T vs T² in glycerol units (T_g = {T_g_sim:.3f} → {T_g_K:g} K)", "T² (K²)", "C_v/T  (J K⁻² mol⁻¹)")
    _points(a, TK**2, units.Cv(hc.Cv[sel]) / TK, units.Cv(hc.Cv_err[sel]) / TK, color=_COLORS[0], label="ours")
    if fit is not None:
        x = np.linspace(0, float(TK.max()) ** 2, 50)
        c1, c3 = float(units.c1(fit.c1)), float(units.c3(fit.c3))
        _curve(a, x, c1 + c3 * x, color=_COLORS[0], label=f"fit: c1={c1:.3g} J/(K² mol), c3={c3:.3g} J/(K⁴ mol)")
    _paper_mark(a, 0.0, 1.835e-4, "c1 = 1.835e-4 (expt. 1.84e-4)", marker="diamond")
    a.legend.location = "bottom_right"
    _finish(a)
    g = make_g(**hc.system["g"])
    V = np.linspace(0, 1.6 * float(getattr(g, "dV", 1.0)), 400)
    b = _figure("g(V)", "V", "g(V)", width=260, height=_H)
    _curve(b, V, g.pdf(V), color=_COLORS[2])
    return row(a, b)


# ====================================================================================== data bundle
@dataclass
class FigureData:
    """The computed data of one figure: named results, parameters and provenance.

    ``results``: name -> :class:`~dplm_explore.results.Result`; ``params``: the parameters used;
    ``provenance``: package versions, seed, wall time, and ``command``, the command line that
    regenerates the file."""

    name: str
    scale: str
    params: dict
    results: dict
    provenance: dict = field(default_factory=dict)

    def save(self, path, *, overwrite: bool = False) -> Path:
        """One ``.npz``: each result's own file stored as a byte array, plus JSON metadata."""
        path = check_writable(path, overwrite)
        members = {}
        with tempfile.TemporaryDirectory(prefix="dplm-figdata-") as tmp:
            for key, res in self.results.items():
                members[f"result/{key}"] = np.frombuffer(res.save(Path(tmp) / f"{len(members)}.npz").read_bytes(), dtype=np.uint8)
        meta = {"format": FIGURE_DATA_FORMAT, "name": self.name, "scale": self.scale, "params": self.params, "provenance": self.provenance,
                "results": list(self.results)}
        members["__meta__"] = np.frombuffer(json.dumps(meta, allow_nan=True).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, **members)
        atomic_write(path, lambda fh: fh.write(buf.getvalue()))
        return path


def load_figure_data(path) -> FigureData:
    """Read a file written by :meth:`FigureData.save`."""
    from .results import load_result, read_tagged_npz

    path = Path(path)
    data, meta = read_tagged_npz(path, "figure data", FIGURE_DATA_FORMAT)
    results = {}
    with tempfile.TemporaryDirectory(prefix="dplm-figdata-") as tmp:
        for i, key in enumerate(meta["results"]):
            f = Path(tmp) / f"{i}.npz"
            f.write_bytes(data[f"result/{key}"].tobytes())
            results[key] = load_result(f)
    return FigureData(meta["name"], meta["scale"], meta["params"], results, meta["provenance"])


# ======================================================================================= registry
def _bar(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not progress, leave=False)


def _seeds(seed, n: int) -> list[int]:
    from .analysis import spawn_seeds

    return [int(s) for s in spawn_seeds(seed, n)[1]]


def _compute_cv_runs(p: dict, seed, progress: bool, vary: str) -> dict:
    """Cooling runs for Figs. 1, 7, 8: one HeatCapacity per value of ``p[vary]`` (a list)."""
    from .analysis import measure_heat_capacity

    values = p[vary]
    out = {}
    with _bar(len(values), f"cooling runs ({vary})", progress) as bar:
        for v, s in zip(values, _seeds(seed, len(values))):
            kw = {k: p[k] for k in ("L", "phi_v", "T_I", "T_final", "nu", "n_replicas", "dT_bin", "w0") if k in p and k != vary}
            kw[vary] = v
            key = f"{'T_I' if vary == 'T_I' else 'φ_v'}={v:g}"
            out[key] = measure_heat_capacity(g=make_g(**p["g"]), seed=s, progress=progress, **kw)
            bar.update()
    return out


def _compute_fig2(p, seed, progress):
    from .analysis import cooling_simulation, find_tls, void_occupation_during_cooling
    from .schedules import constant

    sim = cooling_simulation(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=make_g(**p["g"]), seed=seed, w0=p["w0"])
    occ = void_occupation_during_cooling(sim, p["T_marks"], p["hops"], progress=progress)
    sim.set_program(constant(sim.T))
    tls = find_tls(sim, p["hops"], min_transitions=4, progress=progress, context={"after": "fig2 occupation windows"})
    return {"occupation": occ, "tls": tls}


def _compute_fig3(p, seed, progress):
    from .analysis import cooling_simulation, find_tls, measure_tls_boltzmann, trace_voids
    from .schedules import constant

    sim = cooling_simulation(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_hold"], nu=p["nu"], g=make_g(**p["g"]), seed=seed, w0=p["w0"])
    sim.advance(progress=progress)
    sim.set_program(constant(p["T_hold"]))
    cat = find_tls(sim, p["hops"], min_transitions=p["min_transitions"], progress=progress,
                   context={"cooling": {"T_I": p["T_I"], "T_final": p["T_hold"], "nu": p["nu"]}, "T_hold": p["T_hold"]})
    if len(cat.void) == 0:
        raise RuntimeError(f"no TLS found at T = {p['T_hold']} in a {p['L']}x{p['L']} system over {p['hops']} hops; try another seed or a larger L")
    order = np.argsort(-cat.n_transitions)[: p["n_tls"]]
    chosen = dataclasses.replace(cat, **{f: getattr(cat, f)[order] for f in ("void", "site1", "site2", "xy1", "xy2", "p1", "p2", "ratio", "ratio_err", "n_transitions", "dE", "boltzmann", "z")})
    traces = trace_voids(sim, chosen.void, interval=p["trace_interval"], hops=p["trace_hops"], progress=progress)
    bz = measure_tls_boltzmann(sim, chosen, p["boltzmann_T"], p["boltzmann_hops"], progress=progress)
    return {"catalogue": cat, "traces": traces, "boltzmann": bz}


def _compute_fig4a(p, seed, progress):
    from .analysis import measure_returns_during_cooling

    return {"returns": measure_returns_during_cooling(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=make_g(**p["g"]),
                                                      snapshot_interval=p["snapshot_interval"], dT_bin=p["dT_bin"], seed=seed, w0=p["w0"], progress=progress)}


def _compute_fig4b(p, seed, progress):
    from .analysis import measure_q_curve

    return {"q": measure_q_curve(p["L"], p["phi_v"], p["T_I"], g=make_g(**p["g"]), n_states=p["n_states"], seed=seed, nu_cool=p["nu_cool"], w0=p["w0"])}


def _compute_fig5(p, seed, progress):
    from .analysis import measure_diffusion

    return {"diffusion": measure_diffusion(p["L"], p["phi_v"], p["T"], g=make_g(**p["g"]), hops=p["hops"], n_replicas=p["n_replicas"], seed=seed,
                                           w0=p["w0"], forms=tuple(p["forms"]), progress=progress)}


def _compute_fig6(p, seed, progress):
    from .analysis import measure_diffusion, measure_heat_capacity

    s1, s2 = _seeds(seed, 2)
    g = make_g(**p["g"])
    d = measure_diffusion(p["L_diffusion"], p["phi_v"], p["T_diffusion"], g=g, hops=p["hops_diffusion"], seed=s1, w0=p["w0"], progress=progress)
    hc = measure_heat_capacity(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=g, n_replicas=p["n_replicas"], dT_bin=p["dT_bin"],
                               seed=s2, w0=p["w0"], progress=progress)
    return {"diffusion": d, "cooling": hc}


def _draw_fig6(results):
    d = results["diffusion"]
    if not math.isfinite(d.T_g):
        raise ValueError(f"our D(T) does not cross D_r = {d.D_r:g} at the temperatures run ({d.T.tolist()}); cannot set the glycerol temperature unit")
    return glycerol_figure(results["cooling"], d.T_g)


_UNIFORM = {"family": "uniform", "V0": 0.0, "dV": 1.0}
_GLYCEROL = {"family": "fermi-gauss", "G0": 0.2, "sigma_V": 0.1, "dV": 1.0}


@dataclass(frozen=True)
class FigureSpec:
    """How to compute and draw one paper figure. ``params[scale]``: the parameters (JSON-able);
    ``seconds``: rough wall time per scale on one core (for progress messages and docs)."""

    name: str
    title: str
    section: str
    params: Mapping[str, dict]
    _compute: Callable[[dict, Any, bool], dict]
    _draw: Callable[[dict], Any]
    seconds: Mapping[str, float] = field(default_factory=dict)

    def parameters(self, scale: str = "quick", **overrides) -> dict:
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
        p = json.loads(json.dumps(self.params[scale]))
        unknown = set(overrides) - set(p)
        if unknown:
            raise ValueError(f"unknown parameter(s) for {self.name}: {sorted(unknown)}; known: {sorted(p)}")
        p.update(overrides)
        return p

    def compute(self, scale: str = "quick", *, seed: int = 2021, progress: bool = False, **overrides) -> FigureData:
        """Run the measurements behind the figure (see :meth:`parameters`)."""
        from .results import base_provenance

        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        p = self.parameters(scale, **overrides)
        t0 = time.perf_counter()
        results = self._compute(p, int(seed), progress)
        cmd = f"dplm-explore figure {self.name} --scale {scale} --seed {int(seed)}"
        if overrides:
            cmd += "  # with overrides " + shlex.quote(json.dumps(overrides))
        prov = base_provenance(figure=self.name, scale=scale, seed=int(seed), wall_s=time.perf_counter() - t0, command=cmd)
        return FigureData(self.name, scale, p, results, prov)

    def draw(self, data: FigureData | Mapping[str, Any]):
        """The Bokeh layout from a :class:`FigureData` (or its ``results`` mapping)."""
        results = data.results if isinstance(data, FigureData) else data
        return self._draw(results)


FIGURES: dict[str, FigureSpec] = {}


def _register(spec: FigureSpec) -> None:
    FIGURES[spec.name] = spec


_register(FigureSpec(
    "fig1", "C_v of ultrastable glasses for several T_I (C_v vs T; C_v/T vs T^2)", "III",
    {"quick": {"L": 64, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.03, 0.05, 0.07], "T_final": 0.004, "nu": 1e-3, "n_replicas": 3, "dT_bin": 0.002, "w0": 1e6},
     "paper": {"L": 200, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.03, 0.05, 0.07, 0.1], "T_final": 0.004, "nu": 1e-4, "n_replicas": 3, "dT_bin": 0.002, "w0": 1e6}},
    lambda p, s, pr: _compute_cv_runs(p, s, pr, "T_I"), specific_heat_figure, {"quick": 20, "paper": 5000}))
_register(FigureSpec(
    "fig2", "void occupation maps p_i^void during cooling", "IV",
    {"quick": {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.21, "T_final": 0.045, "nu": 1e-2, "T_marks": [0.2, 0.15, 0.1, 0.05], "hops": 200_000, "w0": 1e6},
     "paper": {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.25, "T_final": 0.04, "nu": 1e-4, "T_marks": [0.2, 0.15, 0.1, 0.05], "hops": 10_000_000, "w0": 1e6}},
    _compute_fig2, lambda r: occupation_figure(r["occupation"], r.get("tls")), {"quick": 15, "paper": 3000}))
_register(FigureSpec(
    "fig3", "two-level systems: void displacement traces and the Boltzmann check p2/p1 = exp(-dE/T)", "IV",
    {"quick": {"L": 64, "phi_v": 0.01, "g": _UNIFORM, "T_I": 0.15, "T_hold": 0.05, "nu": 1e-2, "hops": 1_000_000, "min_transitions": 4, "n_tls": 2,
               "trace_interval": 2e-4, "trace_hops": 100_000, "boltzmann_T": [0.08, 0.065, 0.05, 0.04, 0.033], "boltzmann_hops": 300_000, "w0": 1e6},
     "paper": {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.25, "T_hold": 0.05, "nu": 1e-4, "hops": 10_000_000, "min_transitions": 4, "n_tls": 2,
               "trace_interval": 1e-4, "trace_hops": 1_000_000, "boltzmann_T": [0.2, 0.15, 0.1, 0.08, 0.065, 0.05], "boltzmann_hops": 3_000_000, "w0": 1e6}},
    _compute_fig3, lambda r: tls_figure(r["traces"], r["boltzmann"]), {"quick": 15, "paper": 3000}))
_register(FigureSpec(
    "fig4a", "return probabilities P_ret, Q_ret vs 1/T during cooling", "IV",
    {"quick": {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.2, "T_final": 0.05, "nu": 1e-2, "snapshot_interval": 1e-3, "dT_bin": 0.025, "w0": 1e6},
     "paper": {"L": 200, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.2, "T_final": 0.01, "nu": 1e-4, "snapshot_interval": 1e-3, "dT_bin": 0.01, "w0": 1e6}},
    _compute_fig4a, lambda r: returns_figure(r["returns"]), {"quick": 15, "paper": 1e5}))
_register(FigureSpec(
    "fig4b", "q, the probability that a hop is energetically possible, vs 1/T_I", "V",
    {"quick": {"L": 64, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.03, 0.05, 0.07, 0.1, 0.15, 0.2], "n_states": 2, "nu_cool": 1e-4, "w0": 1e6},
     "paper": {"L": 200, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3], "n_states": 4, "nu_cool": 1e-4, "w0": 1e6}},
    _compute_fig4b, lambda r: q_figure(r["q"]), {"quick": 3, "paper": 30}))
_register(FigureSpec(
    "fig5", "Arrhenius plot of D for the Fermi-plus-Gaussian g (G0 = 0.2, sigma_V = 0.1)", "VI",
    {"quick": {"L": 24, "phi_v": 0.01, "g": _GLYCEROL, "T": [0.4, 0.33, 0.29, 0.26, 0.24, 0.22], "hops": 1_000_000, "n_replicas": 4, "forms": ["vft"], "w0": 1e6},
     "paper": {"L": 100, "phi_v": 0.01, "g": _GLYCEROL, "T": [0.5, 0.4, 0.35, 0.31, 0.28, 0.26, 0.245, 0.23], "hops": 20_000_000, "n_replicas": 2,
               "forms": ["vft", "myega", "parabolic"], "w0": 1e6}},
    _compute_fig5, lambda r: diffusion_figure(r["diffusion"]), {"quick": 10, "paper": 300}))
_register(FigureSpec(
    "fig6", "C_v/T vs T^2 in glycerol units (phi_v = 0.031, nu = 1e-2)", "VI",
    {"quick": {"L": 32, "L_diffusion": 24, "phi_v": 0.031, "g": _GLYCEROL, "T_diffusion": [0.4, 0.33, 0.29, 0.26, 0.24, 0.22, 0.2], "hops_diffusion": 600_000,
               "T_I": 0.2, "T_final": 0.002, "nu": 1e-2, "n_replicas": 3, "dT_bin": 0.001, "w0": 1e6},
     "paper": {"L": 200, "L_diffusion": 100, "phi_v": 0.031, "g": _GLYCEROL, "T_diffusion": [0.5, 0.4, 0.33, 0.29, 0.26, 0.24, 0.22], "hops_diffusion": 20_000_000,
               "T_I": 0.3, "T_final": 0.002, "nu": 1e-2, "n_replicas": 3, "dT_bin": 0.001, "w0": 1e6}},
    _compute_fig6, _draw_fig6, {"quick": 30, "paper": 1e5}))
_register(FigureSpec(
    "fig7", "C_v vs T at T_I = 0.05 for several void densities", "App. A",
    {"quick": {"L": 64, "phi_v": [0.0025, 0.005, 0.01], "g": _UNIFORM, "T_I": 0.05, "T_final": 0.004, "nu": 1e-3, "n_replicas": 3, "dT_bin": 0.002, "w0": 1e6},
     "paper": {"L": 200, "phi_v": [0.0025, 0.005, 0.0075, 0.01, 0.0125], "g": _UNIFORM, "T_I": 0.05, "T_final": 0.004, "nu": 1e-4, "n_replicas": 3, "dT_bin": 0.002, "w0": 1e6}},
    lambda p, s, pr: _compute_cv_runs(p, s, pr, "phi_v"), void_density_figure, {"quick": 15, "paper": 600}))
_register(FigureSpec(
    "fig8", "C_v after cooling from T_I near T_g: C_v/T vs T^2 and log-log C_v vs T", "App. A",
    {"quick": {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.08, 0.12, 0.16], "T_final": 0.004, "nu": 1e-2, "n_replicas": 2, "dT_bin": 0.002, "w0": 1e6},
     "paper": {"L": 200, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.08, 0.1, 0.15, 0.2], "T_final": 0.002, "nu": 1e-4, "n_replicas": 3, "dT_bin": 0.002, "w0": 1e6}},
    lambda p, s, pr: _compute_cv_runs(p, s, pr, "T_I"), high_TI_figure, {"quick": 40, "paper": 1e5}))


def figure_data(name: str, scale: str = "quick", *, seed: int = 2021, progress: bool = False) -> FigureData:
    """The data of figure ``name``: the shipped file ``DATA_DIR/<name>_<scale>.npz`` when it
    exists and was made with ``seed``, otherwise computed now (:meth:`FigureSpec.compute`)."""
    if name not in FIGURES:
        raise ValueError(f"name must be one of {', '.join(FIGURES)}; got {name!r}")
    shipped = DATA_DIR / f"{name}_{scale}.npz"
    if shipped.exists():
        data = load_figure_data(shipped)
        if data.provenance.get("seed") == seed and data.params == FIGURES[name].parameters(scale):
            return data
    return FIGURES[name].compute(scale, seed=seed, progress=progress)
