"""Bokeh figures of the explorer, fed from :class:`~dplm_explore.app.runner.Frame` objects.

:class:`LivePlots` builds the figures and their ColumnDataSources once; :meth:`LivePlots.draw`
replaces the sources' data from a frame (on the kernel's event loop only). Drawing the same frame
twice gives the same figures. Nothing here runs the simulation or touches widgets.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
from bokeh import events
from bokeh.layouts import column, gridplot, row
from bokeh.models import (BasicTickFormatter, ColorBar, ColumnDataSource, CustomJS, DataTable, Div, HoverTool, Legend, LogColorMapper, NumberFormatter, Range1d,
                          Span, TableColumn, TabPanel, Tabs)
from bokeh.palettes import Category10_10, Viridis256
from bokeh.plotting import figure

from ..interactions import GDistribution
from .runner import MAX_FOLLOWED, Frame

__all__ = ["LivePlots", "nearest_void", "tls_rows", "g_curves", "scroll_range"]

_FOLLOW_COLORS = Category10_10[:MAX_FOLLOWED]
#: the page acknowledges every ACK_EVERY-th frame drawn; the kernel draws while fewer than
#: MAX_UNACKED frames are unacknowledged
ACK_EVERY = 2
MAX_UNACKED = 3
_TLS_COLS = ("void", "levels", "sites", "dE", "measured", "boltzmann", "hops")


def _glyph(fig, method: str, *fields, source: ColumnDataSource, legend: str | None = None, **kw):
    """``fig.<method>(*fields, source=source, **kw)``, with its legend entry (if any) on a twin
    renderer whose data never change (one NaN row, so the swatch is drawn). BokehJS 3.9 builds a legend's items again (page DOM, then a page
    layout) whenever anything its items refer to changes, data included; entries on twins that
    never change keep a live plot's legend still."""
    r = getattr(fig, method)(*fields, source=source, **kw)
    if legend is not None:
        # one NaN row: nothing is drawn in the plot, but BokehJS has a row to draw the swatch with
        getattr(fig, method)(*fields, source=ColumnDataSource({f: [float("nan")] for f in fields if isinstance(f, str)}), legend_label=legend, **kw)
    return r


#: smallest font of the explorer's plots (ticks and legends; a projector needs 12 px)
FONT = "12px"
_TITLE_FONT = "13px"


def _readable(fig, ticks: int = 5) -> None:
    """Fonts of ``fig`` at least :data:`FONT`, and few ticks (labels that fit without overlap)."""
    fig.title.text_font_size = _TITLE_FONT
    for ax in (*fig.xaxis, *fig.yaxis):
        ax.major_label_text_font_size = FONT
        ax.axis_label_text_font_size = _TITLE_FONT
        ax.ticker.desired_num_ticks = ticks
    for leg in fig.legend:
        leg.label_text_font_size = FONT
        leg.glyph_height = leg.glyph_width = 16
        leg.padding = 4
        leg.spacing = 0
        leg.background_fill_alpha = 0.7


def _ranges() -> dict:
    """Ranges set from Python (:func:`fit_range`): BokehJS auto-ranges (DataRange1d) would send
    their new bounds back to the kernel after every frame."""
    return {"x_range": Range1d(0, 1), "y_range": Range1d(0, 1)}


#: lattice spacings the trace axis spans at least (one hop and a margin)
TRACE_MIN_SPAN = 2.0


def fit_range(rng: Range1d, *arrays, pad: float = 0.05, grow: float = 0.25, min_span: float = 0.0) -> bool:
    """Make ``rng`` cover the finite values of ``arrays``, with headroom ``grow`` on each side
    when it must widen, and shrink it only when the data fill less than half of it; returns
    whether it changed (each change is a message to the browser). ``min_span``: the range is at
    least this wide (a frozen trace gets a readable axis, not one of width 1e-13)."""
    vals = [np.asarray(a, float).ravel() for a in arrays]
    vals = [v[np.isfinite(v)] for v in vals if v.size]
    vals = [v for v in vals if v.size]
    if not vals:
        return False
    lo = min(float(v.min()) for v in vals)
    hi = max(float(v.max()) for v in vals)
    if hi - lo < min_span:
        mid = 0.5 * (hi + lo)
        lo, hi = mid - 0.5 * min_span, mid + 0.5 * min_span
    span = hi - lo if hi > lo else max(abs(hi), 1e-12)
    start, end = rng.start, rng.end
    inside = start <= lo and hi <= end
    if inside and (hi - lo) >= 0.5 * (end - start):
        return False
    margin = (grow if not inside else pad) * span
    rng.update(start=lo - margin, end=hi + margin)
    return True


def scroll_range(rng: Range1d, lo: float, hi: float) -> bool:
    """Time axis of traces that grow at one end (and drop their oldest points at the other):
    [lo, lo + 2 (hi - lo)], kept until the newest point runs past its end or the data fill less
    than a quarter of it. That is one change per window of data rather than one every other frame
    (each change is a message and a new layout of the plot); returns whether it changed."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    span = hi - lo if hi > lo else max(abs(hi), 1e-12)
    if rng.start <= lo and hi <= rng.end and span >= 0.25 * (rng.end - rng.start):
        return False
    rng.update(start=lo, end=lo + 2.0 * span)
    return True


def nearest_void(void_xy: np.ndarray, x: float, y: float, L: int, max_dist: float = 1.5) -> int | None:
    """Id of the void nearest to the point (x, y) (periodic distance, lattice units), or None if
    none lies within ``max_dist``."""
    if void_xy.size == 0:
        return None
    d = np.abs(void_xy - np.array([x, y]))
    d = np.minimum(d % L, L - d % L)
    r = np.hypot(d[:, 0], d[:, 1])
    k = int(np.argmin(r))
    return k if r[k] <= max_dist else None


def _g2(x: float) -> str:
    return f"{x:.2g}" if x == x else "–"


def tls_rows(frame: Frame) -> dict[str, list]:
    """Table columns of the frame's catalogue: its TLS (``measured`` p2/p1 ± error against
    ``boltzmann`` exp(-dE/T)), then its multi-level systems (the occupation of each level, most
    held first, against the Boltzmann occupation; ``dE`` their energy spread). Empty lists when
    there is none yet."""
    out = {k: [] for k in _TLS_COLS}
    cat = frame.tls
    if cat is not None:
        for k in range(len(cat)):
            out["void"].append(int(cat.void[k]))
            out["levels"].append(2)
            out["sites"].append(f"{tuple(cat.xy1[k].tolist())} {tuple(cat.xy2[k].tolist())}")
            out["dE"].append(float(cat.dE[k]))
            out["measured"].append(f"{_g2(cat.ratio[k])} ± {_g2(cat.ratio_err[k])}")
            out["boltzmann"].append(_g2(cat.boltzmann[k]))
            out["hops"].append(int(cat.n_transitions[k]))
    ml = frame.mls
    if ml is not None:
        for k in range(len(ml)):
            E = ml.energy[k]
            out["void"].append(int(ml.void[k]))
            out["levels"].append(int(ml.n_levels[k]))
            out["sites"].append(" ".join(str(tuple(xy)) for xy in ml.xy[k].tolist()))
            out["dE"].append(float(np.nanmax(E) - np.nanmin(E)) if np.isfinite(E).any() else math.nan)
            out["measured"].append("/".join(f"{f:.2f}" for f in ml.fraction[k]))
            out["boltzmann"].append("/".join(f"{b:.2f}" for b in ml.boltzmann[k]))
            out["hops"].append(int(ml.hops[k]))
    return out


def g_curves(g: GDistribution, T_I: float, T: float, n: int = 400) -> dict[str, dict[str, np.ndarray]]:
    """Line data of g(V), p_eq(V; T_I) and p_eq(V; T) (continuous parts), and their atoms."""
    lo, hi = g.support
    pad = 0.05 * (hi - lo)
    V = np.linspace(lo - pad, hi + pad, n)
    out = {"g": {"V": V, "y": np.asarray(g.pdf(V), float)}}
    atoms = {"V": [], "w": [], "which": []}
    for name, TT in (("peq_TI", T_I), ("peq_T", T)):
        out[name] = {"V": V, "y": np.asarray(g.peq_pdf(V, TT), float)}
        for loc, w in g.peq_atoms(TT):
            atoms["V"].append(loc)
            atoms["w"].append(w)
            atoms["which"].append(name)
    for loc, w in g.atoms:
        atoms["V"].append(loc)
        atoms["w"].append(w)
        atoms["which"].append("g")
    out["atoms"] = {k: np.asarray(v) if k != "which" else v for k, v in atoms.items()}
    return out


class LivePlots:
    """The explorer's Bokeh layout in three documents (``parts``): the map; the side column
    (traces, the followed voids' panel, the catalogue); the tabbed plots (C_v / T against T², e(T),
    C_v(T), returns, g(V)). ``on_tap(x, y)`` is called with lattice coordinates when the map is
    clicked, ``on_select(void)`` when a catalogue row is. ``width``: the map's plot width,
    ``side_width``: the side column's."""

    def __init__(self, L: int, *, on_tap: Callable[[float, float], None] | None = None, on_select: Callable[[int], None] | None = None,
                 width: int = 350, side_width: int = 480):
        self.L = L
        self._on_tap = on_tap
        self._on_select = on_select
        self.drawn_seq = -1
        self._tls_seq = -1
        self._legend_for: tuple[int, ...] = ()
        self._hl: tuple = ([], [], [])
        self.curves_every_s = 1.0
        self._curves_t = -math.inf
        self.drawn_curves = False
        w = width
        sw = side_width
        pad = 0.5
        self.map = figure(width=w + 70, height=w + 40, title="voids and p_void", x_range=Range1d(-pad, L - pad),
                          y_range=Range1d(-pad, L - pad), tools="tap,pan,wheel_zoom,box_zoom,reset,save", match_aspect=True,
                          toolbar_location="above")
        self.map.toolbar.active_scroll = None
        self.p_src = ColumnDataSource({"image": [np.zeros((L, L), np.float32)]}, name="p_void")

        def cmap():
            return LogColorMapper(palette=Viridis256, low=1e-3, high=1.0, low_color=(0, 0, 0, 0), nan_color=(0, 0, 0, 0))

        img = self.map.image(image="image", x=-pad, y=-pad, dw=L, dh=L, source=self.p_src, color_mapper=cmap())
        img.nonselection_glyph = None
        # the colour bar gets a twin of the image's mapper (same fixed low and high): a mapper that
        # maps new data tells its colour bar, and BokehJS then lays the whole plot out again, at
        # every frame
        self.map.add_layout(ColorBar(color_mapper=cmap(), width=10, title="p_void", major_label_text_font_size=FONT, title_text_font_size=FONT), "right")
        _readable(self.map)
        self.tls_src = ColumnDataSource({"x": [], "y": [], "void": []})
        self.map.rect("x", "y", 1, 1, source=self.tls_src, fill_alpha=0, line_color="orange", line_width=1.5)
        self.mls_src = ColumnDataSource({"x": [], "y": [], "void": []}, name="mls")
        self.map.rect("x", "y", 1, 1, source=self.mls_src, fill_alpha=0, line_color="#CC79A7", line_width=1.5, line_dash="dashed")
        self.v0_src = ColumnDataSource({"x": [], "y": []})
        self.map.scatter("x", "y", source=self.v0_src, marker="x", size=6, color="grey", alpha=0.7)
        self.v_src = ColumnDataSource({"x": [], "y": [], "void": [], "color": [], "size": []}, name="voids")
        vr = self.map.scatter("x", "y", source=self.v_src, size="size", color="color", line_color="black")
        vr.nonselection_glyph = None
        vr.selection_glyph = None
        self.hl_src = ColumnDataSource({"x": [], "y": [], "color": []})
        self.map.rect("x", "y", 1, 1, source=self.hl_src, fill_color="color", fill_alpha=0.35, line_color="color", line_width=3)
        self.map.add_tools(HoverTool(renderers=[vr], tooltips=[("void", "@void"), ("site", "(@x, @y)")]))
        # a caption, not a legend: a legend is measured again at each data change, and that lays
        # out the whole page again
        self.map_caption = Div(text="○ void (coloured: followed) &nbsp; × initial void &nbsp; <span style='color:orange'>□</span> TLS site "
                                    "&nbsp; <span style='color:#CC79A7'>⬚</span> multi-level site &nbsp; filled □ followed void's levels "
                                    "&nbsp; colour: p_void over the window", width=w + 70,
                               styles={"font-size": FONT})
        self.map.on_event(events.Tap, self._tap)

        tw, th = w + 70, 250  # the tabbed plots, under the map
        self.gfig = figure(width=tw, height=th, title="g(V) and p_eq(V; T)", x_axis_label="V", tools="save", **_ranges())
        self.g_srcs = {k: ColumnDataSource({"V": [], "y": []}) for k in ("g", "peq_TI", "peq_T")}
        for k, col, lab in (("g", "black", "g(V)"), ("peq_TI", "royalblue", "p_eq(V; T_I)"), ("peq_T", "crimson", "p_eq(V; T now)")):
            _glyph(self.gfig, "line", "V", "y", source=self.g_srcs[k], color=col, line_width=2, legend=lab)
        self.atom_src = ColumnDataSource({"V": [], "w": [], "which": []})
        _glyph(self.gfig, "segment", "V", 0, "V", "w", source=self.atom_src, color="purple", line_width=3, legend="atoms (weight)")
        _readable(self.gfig)

        self.trace = figure(width=sw, height=210, title="followed voids: displacement d(t)", x_axis_label="t", y_axis_label="d", **_ranges(),
                            tools="pan,wheel_zoom,box_zoom,reset,save")
        self.trace_srcs = [ColumnDataSource({"t": [], "d": []}, name=f"trace{i}") for i in range(MAX_FOLLOWED)]
        self.trace_lines = [self.trace.step("t", "d", source=s, color=c, mode="after", line_width=1.5) for s, c in zip(self.trace_srcs, _FOLLOW_COLORS)]
        # legend entries on twins without data (see _glyph): the traces change at every frame
        self.trace_keys = [self.trace.step("t", "d", source=ColumnDataSource({"t": [math.nan], "d": [math.nan]}), color=c, mode="after", line_width=1.5)
                           for c in _FOLLOW_COLORS]
        self.trace_legend = Legend(items=[], location="top_left")
        self.trace.add_layout(self.trace_legend)
        _readable(self.trace)

        self.efig = figure(width=tw, height=th, title="energy per particle", x_axis_label="T", y_axis_label="e", tools="pan,box_zoom,reset,save",
                           **_ranges())
        self.curve_src = ColumnDataSource({k: [] for k in ("T", "e", "Cv_fluct", "P_ret", "Q_ret")})
        self.cv_src = ColumnDataSource({"T": [], "Cv": []})
        self.th_src = ColumnDataSource({"T": [], "Cv": []})
        _glyph(self.efig, "scatter", "T", "e", source=self.curve_src, size=4, legend="e(T), time average per bin")
        self.efig.legend.location = "top_left"
        self.efig.yaxis.formatter = BasicTickFormatter(use_scientific=False)
        _readable(self.efig, ticks=4)
        self.now_e = Span(location=math.nan, dimension="height", line_color="crimson", line_dash="dashed")
        self.efig.add_layout(self.now_e)

        self.cvfig = figure(width=tw, height=th, title="C_v per particle", x_axis_label="T", y_axis_label="C_v", tools="pan,box_zoom,reset,save",
                            **_ranges())
        _glyph(self.cvfig, "scatter", "T", "Cv", source=self.cv_src, size=4, legend="dE/dT between bins")
        _glyph(self.cvfig, "scatter", "T", "Cv_fluct", source=self.curve_src, size=4, marker="triangle", color="grey", legend="fluctuations (equilibrium)")
        _glyph(self.cvfig, "line", "T", "Cv", source=self.th_src, color="crimson", line_width=2, legend="theory c1 T + c3 T^3")
        self.cvfig.legend.location = "top_left"
        self.cvfig.yaxis.formatter = BasicTickFormatter(use_scientific=False)
        _readable(self.cvfig, ticks=4)

        # C_v / T against T^2: the TLS term c1 T makes C_v / T flat at c1 as T -> 0, and the theory
        # c1 T + c3 T^3 a straight line c1 + c3 T^2
        self.cvt_fig = figure(width=tw, height=th, title="C_v / T against T² (TLS: → c1 as T → 0)", x_axis_label="T²", y_axis_label="C_v / T",
                              tools="pan,box_zoom,reset,save", **_ranges())
        self.cvt_src = ColumnDataSource({"T2": [], "y": [], "lo": [], "hi": []}, name="cvt")
        self.cvt_th_src = ColumnDataSource({"T2": [], "y": []}, name="cvt_theory")
        _glyph(self.cvt_fig, "segment", "T2", "lo", "T2", "hi", source=self.cvt_src, color="#0072B2", line_width=1.5, legend="± batch-means error")
        _glyph(self.cvt_fig, "scatter", "T2", "y", source=self.cvt_src, size=6, color="#0072B2", legend="fluctuations per bin")
        _glyph(self.cvt_fig, "line", "T2", "y", source=self.cvt_th_src, color="#D55E00", line_width=2, line_dash="dashed", legend="theory c1 + c3 T²")
        self.cvt_fig.legend.location = "top_left"
        for ax in self.cvt_fig.xaxis:
            ax.formatter = BasicTickFormatter(use_scientific=False)
        for ax in self.cvt_fig.yaxis:
            ax.formatter = BasicTickFormatter(use_scientific=False)
        _readable(self.cvt_fig, ticks=4)

        self.rfig = figure(width=tw, height=th, title="return probabilities (event level)", x_axis_label="T", x_range=Range1d(0, 1), y_range=Range1d(0, 1.02),
                           tools="pan,box_zoom,reset,save")
        _glyph(self.rfig, "scatter", "T", "P_ret", source=self.curve_src, size=4, legend="P_ret (particles)")
        _glyph(self.rfig, "scatter", "T", "Q_ret", source=self.curve_src, size=4, color="darkorange", marker="square", legend="Q_ret (voids)")
        self.rfig.legend.location = "bottom_left"
        _readable(self.rfig)

        self.tls_table_src = ColumnDataSource({k: [] for k in _TLS_COLS}, name="tls_rows")
        fmt = NumberFormatter(format="0.000")
        cols = [TableColumn(field="void", title="void", width=40), TableColumn(field="levels", title="levels", width=42),
                TableColumn(field="sites", title="sites", width=100), TableColumn(field="dE", title="dE", formatter=fmt, width=56),
                TableColumn(field="measured", title="measured", width=112), TableColumn(field="boltzmann", title="Boltzmann", width=80),
                TableColumn(field="hops", title="hops", width=50)]
        # fixed column widths: autosizing measures every header cell at every new catalogue (a
        # forced page layout each time)
        self.table = DataTable(source=self.tls_table_src, columns=cols, width=sw, height=180, index_position=None, reorderable=False,
                               autosize_mode="none", row_height=24, name="tls_table", styles={"font-size": FONT})
        self.tls_title = Div(text="<b>TLS catalogue</b> (no window closed yet; click a row to follow its void)", width=sw, styles={"font-size": FONT})
        self.tls_help = Div(text="TLS: measured p2/p1 against exp(-dE/T). Multi-level: time on each level (most held first) against the "
                                 "Boltzmann occupation; dE their energy spread.", width=sw, styles={"font-size": FONT, "color": "#555"})
        self.check = Div(text="Click a void on the map (or a catalogue row) to follow it.", width=sw, name="check",
                         styles={"font-size": FONT, "max-height": "110px", "overflow-y": "auto"})
        self.tls_table_src.selected.on_change("indices", self._select)
        # back-pressure: the browser acknowledges every ACK_EVERY-th frame drawn once it has applied
        # it (frame_src carries the frame number and the count of frames drawn), and the kernel
        # keeps at most MAX_UNACKED frames unacknowledged, so it never queues frames faster than
        # the page can draw them. Not every frame: each message to the kernel makes it report
        # busy, then idle, and JupyterLab redraws its notebook toolbar and status bar at each
        # report (acknowledging every frame cost JupyterLab 9 instead of 12.5 frames/s).
        self.drawn_n = 0
        self.acked_n = 0
        # (a data source, not a Div: a Div's new text makes BokehJS lay out the whole page again)
        self.frame_src = ColumnDataSource({"seq": [-1], "n": [0]}, name="frame")
        # (the acknowledgement goes into a model that no view draws: a change to a Div's tags lays
        # out the Div's whole column again)
        self.ack = ColumnDataSource({}, name="ack")
        self.frame_src.js_on_change("data", CustomJS(args={"ack": self.ack, "every": ACK_EVERY},
                                                     code="const n = cb_obj.data.n[0]; if (n % every === 0) { ack.tags = [n]; }"))
        self.map.scatter("seq", "seq", source=self.frame_src, visible=False)  # puts frame_src into the document
        self.ack.on_change("tags", self._ack)
        # three separate documents in the app (a change in one never lays out the others) or one
        # layout for export
        self.tab_figs = {"C_v / T vs T²": self.cvt_fig, "e(T)": self.efig, "C_v(T)": self.cvfig, "returns": self.rfig, "g(V)": self.gfig}
        self.parts = {
            "map": column(self.map, self.map_caption),
            "side": column(self.trace, self.check, self.tls_title, self.table, self.tls_help),
            "tabs": Tabs(tabs=[TabPanel(child=f, title=k) for k, f in self.tab_figs.items()], styles={"font-size": FONT}),
        }

    def snapshot_layout(self):
        """All figures in one layout, the tabbed ones in a grid (for export: they must not be
        shown in the app at the same time)."""
        figs = list(self.tab_figs.values())
        return column(row(self.parts["map"], self.parts["side"]), gridplot([figs[:3], figs[3:]], toolbar_location=None))

    # ------------------------------------------------------------------ events
    def may_draw(self) -> bool:
        """Whether the page has acknowledged enough of the frames sent to take another."""
        return self.drawn_n - self.acked_n < MAX_UNACKED

    def _ack(self, attr, old, new) -> None:
        if new and isinstance(new[0], (int, float)):
            if int(new[0]) > self.acked_n:
                self.acked_t = time.perf_counter()
            self.acked_n = max(self.acked_n, int(new[0]))

    def _select(self, attr, old, new) -> None:
        """A click on a catalogue row: follow its void (the selection is cleared again, so the
        same row can be clicked twice)."""
        if not new:
            return
        voids = self.tls_table_src.data.get("void", [])
        k = int(new[0])
        if self._on_select is not None and 0 <= k < len(voids):
            self._on_select(int(voids[k]))
        self.tls_table_src.selected.indices = []

    def _tap(self, event: events.Tap) -> None:
        if self._on_tap is not None and event.x is not None and event.y is not None:
            self._on_tap(float(event.x), float(event.y))

    # ------------------------------------------------------------------ drawing
    def set_theory(self, theory: dict | None, T_max: float | None = None) -> None:
        """The c1 T + c3 T^3 line, drawn where the expansion holds (T up to its 10 % limit)."""
        self._theory = theory
        if not theory:
            self.th_src.data = {"T": [], "Cv": []}
            self.cvt_th_src.data = {"T2": [], "y": []}
            return
        hi = float(theory.get("T_series_10pct") or theory["T_I"])
        if T_max is not None:
            hi = min(hi, T_max)
        T = np.linspace(0.0, hi, 60)
        self.th_src.data = {"T": T, "Cv": theory["c1"] * T + theory["c3"] * T**3}
        fit_range(self.cvfig.x_range, T)
        fit_range(self.cvfig.y_range, self.th_src.data["Cv"])
        self.cvt_th_src.data = {"T2": T**2, "y": theory["c1"] + theory["c3"] * T**2}
        self.cvt_fig.x_range.update(start=0.0, end=float(hi * hi) * 1.05)
        y = self.cvt_th_src.data["y"]
        self.cvt_fig.y_range.update(start=0.0, end=float(np.nanmax(y)) * 1.6)

    def set_g(self, g: GDistribution, T_I: float, T: float) -> None:
        cur = g_curves(g, T_I, T)
        for k, src in self.g_srcs.items():
            src.data = cur[k]
        self.atom_src.data = cur["atoms"]
        fit_range(self.gfig.x_range, cur["g"]["V"], pad=0.0, grow=0.0)
        fit_range(self.gfig.y_range, [0.0], *(cur[k]["y"] for k in self.g_srcs), cur["atoms"]["w"], grow=0.05)

    def draw(self, frame: Frame) -> bool:
        """Show ``frame``; returns False (and changes nothing) if it is already shown."""
        if frame.seq == self.drawn_seq:
            return False
        self.drawn_seq = frame.seq
        self.p_src.data = {"image": [frame.p_void]}
        followed = {v: i for i, v in enumerate(frame.followed)}
        xy = frame.void_xy
        col = np.array(["white"] * len(xy), dtype=object)
        size = np.full(len(xy), 7.0)
        for v, i in followed.items():
            col[v] = _FOLLOW_COLORS[i]
            size[v] = 12.0
        self.v_src.data = {"x": xy[:, 0], "y": xy[:, 1], "void": np.arange(len(xy)), "color": col.tolist(), "size": size}
        if len(self.v0_src.data["x"]) != len(frame.void0_xy):
            self.v0_src.data = {"x": frame.void0_xy[:, 0], "y": frame.void0_xy[:, 1]}
        for i, src in enumerate(self.trace_srcs):
            if i < len(frame.followed):
                t, d = frame.traces[frame.followed[i]]
                src.data = {"t": t, "d": d}
            elif len(src.data["t"]):
                src.data = {"t": [], "d": []}
        if frame.followed != self._legend_for:
            # new LegendItem models make Bokeh re-walk the whole document: only on change
            self._legend_for = frame.followed
            self.trace_legend.items = [(f"void {v}", [self.trace_keys[i]]) for v, i in followed.items()]
        if frame.followed:
            tr = [frame.traces[v] for v in frame.followed]
            ts = [t for t, _ in tr if len(t)]
            if ts:
                scroll_range(self.trace.x_range, min(float(t[0]) for t in ts), max(float(t[-1]) for t in ts))
            fit_range(self.trace.y_range, [0.0], *(d for _, d in tr), min_span=TRACE_MIN_SPAN)
        now = time.perf_counter()
        if now - self._curves_t >= self.curves_every_s or frame.program_done or not self.drawn_curves:
            self._draw_curves(frame)
            self._curves_t = now
        if frame.tls_seq != self._tls_seq:
            self._tls_seq = frame.tls_seq
            self.tls_table_src.data = tls_rows(frame)
            cat = frame.tls
            if cat is not None:
                xy = np.concatenate([cat.xy1, cat.xy2]) if len(cat) else np.zeros((0, 2))
                self.tls_src.data = {"x": xy[:, 0], "y": xy[:, 1], "void": np.concatenate([cat.void, cat.void]).tolist()}
                ml = frame.mls
                n_ml = len(ml) if ml is not None else 0
                mxy = np.concatenate(ml.xy) if n_ml else np.zeros((0, 2), np.int64)
                self.mls_src.data = {"x": mxy[:, 0], "y": mxy[:, 1], "void": [int(v) for k, v in enumerate(ml.void) for _ in ml.sites[k]] if n_ml else []}
                n = cat.counts
                self.tls_title.text = (f"<b>TLS catalogue</b>: window of {cat.hops:,} hops at T = {cat.T:.4g}; {n['tls']} TLS, {n_ml} multi-level "
                                       f"(3-6 sites), {n['frozen']} frozen, {n['multi'] - n_ml} wandering, of {n['n_voids']} voids")
        self._draw_check(frame)
        self.drawn_n += 1
        self.frame_src.data = {"seq": [frame.seq], "n": [self.drawn_n]}  # last: the browser acknowledges the whole frame
        return True

    def _draw_curves(self, frame: Frame) -> None:
        """e(T), C_v(T), P_ret, Q_ret: aggregates over temperature bins that change slowly, drawn
        every ``curves_every_s`` seconds (each redraw costs the browser a repaint of 3 plots)."""
        self.drawn_curves = True
        c = frame.curves
        self.curve_src.data = {k: c[k] for k in ("T", "e", "Cv_fluct", "P_ret", "Q_ret")}
        self.cv_src.data = {"T": c["T_Cv"], "Cv": c["Cv"]}
        self.now_e.location = frame.T
        fit_range(self.efig.x_range, c["T"], [frame.T])
        fit_range(self.efig.y_range, c["e"])
        fit_range(self.cvfig.x_range, c["T_Cv"], c["T"], self.th_src.data["T"])
        fit_range(self.cvfig.y_range, c["Cv"], c["Cv_fluct"], self.th_src.data["Cv"])
        fit_range(self.rfig.x_range, c["T"])
        self._draw_cvt(c)

    def _draw_cvt(self, c: dict) -> None:
        """C_v / T per bin against T^2 with its error bars. The axes show the theory's range
        (T up to its 10 % limit) when there is a theory, else the low-T half of the data, and
        the y-axis spans the theory line and the points inside that range, at most three times
        the theory's largest value (liquid points at high T, or one noisy bin, would flatten the
        low-T region)."""
        T, y, err = (np.asarray(c.get(k, []), float) for k in ("T_b", "CvT", "CvT_err"))
        ok = np.isfinite(y) & np.isfinite(T)
        T, y, err = T[ok], y[ok], err[ok]
        e = np.where(np.isfinite(err), err, 0.0)
        self.cvt_src.data = {"T2": T**2, "y": y, "lo": y - e, "hi": y + e}
        th_T2 = np.asarray(self.cvt_th_src.data["T2"], float)
        if th_T2.size:
            x_hi = float(th_T2.max()) * 1.05
        elif T.size:
            x_hi = float(T.max() ** 2) * 1.05
        else:
            return
        self.cvt_fig.x_range.update(start=0.0, end=x_hi)
        inside = T**2 <= x_hi
        vals = [np.asarray(self.cvt_th_src.data["y"], float)]
        if inside.any():
            vals += [(y + e)[inside], (y - e)[inside]]
        v = np.concatenate(vals) if vals else np.zeros(0)
        v = v[np.isfinite(v)]
        if v.size:
            hi = float(v.max())
            top = hi * 1.15 if hi > 0 else 1.0
            if vals[0].size:  # noisy points far above the theory do not flatten it
                th_hi = float(np.nanmax(vals[0]))
                top = max(1.3 * th_hi, min(top, 3.0 * th_hi))
            if abs(self.cvt_fig.y_range.end - top) > 0.1 * top or self.cvt_fig.y_range.start != 0.0:
                self.cvt_fig.y_range.update(start=0.0, end=top)

    def _draw_check(self, frame: Frame) -> None:
        """The followed voids' panel: a TLS with its two levels' dE, measured p2/p1 and
        Boltzmann ratio; a multi-level system with a table of its levels (site, energy,
        measured and Boltzmann occupation); their sites filled on the map."""
        cat, ml = frame.tls, frame.mls
        hx, hy, hc, lines = [], [], [], []
        idx = {int(v): k for k, v in enumerate(cat.void)} if cat is not None else {}
        for i, v in enumerate(frame.followed):
            sw = f"<span style='color:{_FOLLOW_COLORS[i]}'>&#9632;</span>"
            k = idx.get(v)
            j = ml.index(v) if ml is not None else None
            if k is not None:
                hx += [cat.xy1[k, 0], cat.xy2[k, 0]]
                hy += [cat.xy1[k, 1], cat.xy2[k, 1]]
                hc += [_FOLLOW_COLORS[i]] * 2
                lines.append(
                    f"{sw} void {v} is a <b>TLS</b> between {tuple(cat.xy1[k].tolist())} and {tuple(cat.xy2[k].tolist())}: dE = {cat.dE[k]:.4f}; "
                    f"measured p2/p1 = {cat.ratio[k]:.3g} ± {cat.ratio_err[k]:.2g}; Boltzmann exp(-dE/T) = {cat.boltzmann[k]:.3g} at T = {cat.T:.4g} "
                    f"(z = {cat.z[k]:.1f}, {cat.n_transitions[k]} hops)")
            elif j is not None:
                xy = ml.xy[j]
                hx += xy[:, 0].tolist()
                hy += xy[:, 1].tolist()
                hc += [_FOLLOW_COLORS[i]] * len(xy)
                td = "<td style='padding:0 10px 0 0'>"
                rows = "".join(f"<tr>{td}{tuple(p.tolist())}</td>{td}{e:+.4f}</td>{td}{f:.3f}</td>{td}{b:.3f}</td></tr>"
                               for p, e, f, b in zip(xy, ml.energy[j], ml.fraction[j], ml.boltzmann[j]))
                lines.append(
                    f"{sw} void {v} is a <b>{ml.n_levels[j]}-level system</b> at T = {ml.T:.4g} ({ml.hops[j]} hops, return probability "
                    f"{ml.q_ret[j]:.2f})"
                    + ("; its sites form a loop, so a level's energy depends on the way round (E as reached the shortest way)" if ml.loop[j] else "")
                    + f":<table style='border-collapse:collapse;text-align:left'><tr><th>site</th><th>E − E₁</th><th>measured</th>"
                    f"<th>Boltzmann</th></tr>{rows}</table>")
            else:
                state = "not a TLS or multi-level system in the last window" if cat is not None else "waiting for the first window"
                lines.append(f"{sw} void {v}: {state}")
        text = "<br>".join(lines) if lines else "Click a void on the map (or a catalogue row) to follow it."
        # every change costs a document patch: send only what changed
        if (hx, hy, hc) != self._hl:
            self._hl = (hx, hy, hc)
            self.hl_src.data = {"x": hx, "y": hy, "color": hc}
        if text != self.check.text:
            self.check.text = text
