"""The live explorer: ipywidgets controls around the Bokeh figures of :mod:`.plots`.

The simulation runs on a background thread (:class:`~.runner.Runner`); an asyncio task on the
kernel's event loop draws the newest frame at up to ``fps`` frames per second, so Bokeh models are
only touched on that loop. Without a running loop (a plain script, the tests) call
:meth:`Explorer.pump_once` to draw.

Parameters that define the system (L, phi_v, g(V), the initial state, T_I, seed, w0) are *pending*
until Reset: the app says so next to the Reset button and never resets by itself. Program, frame
and window settings apply at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as W

from .plots import LivePlots, nearest_void
from ..interactions import g_parameters
from .runner import G_FAMILIES, MODES, ProgramConfig, Runner, SystemConfig

__all__ = ["Explorer", "load_bokehjs"]

_HOPS_CHOICES = [("10k", 10_000), ("30k", 30_000), ("100k", 100_000), ("300k", 300_000), ("1M", 1_000_000), ("3M", 3_000_000)]
_WINDOW_CHOICES = [("300k", 300_000), ("1M", 1_000_000), ("2M", 2_000_000), ("5M", 5_000_000), ("10M", 10_000_000), ("30M", 30_000_000)]
#: the g parameters of every family, as they declare them (one input each)
_G_FIELDS = tuple(p.name for p in g_parameters())
_SYSTEM_FIELDS = ("L", "phi_v", "g_family", *_G_FIELDS, "init", "T_I", "seed", "w0")
#: a widget bound may not be infinite; open bounds are kept just inside
_G_WIDGET_RANGE = 1e6
_G_OPEN_MARGIN = 1e-6


def _g_widget(p, value, style, layout):
    """A bounded numeric input for one declared g parameter."""
    lo, hi = p.bounds
    lo = max(-_G_WIDGET_RANGE, lo) + (_G_OPEN_MARGIN if p.lo_open else 0.0)
    hi = min(_G_WIDGET_RANGE, hi) - (_G_OPEN_MARGIN if p.hi_open else 0.0)
    return W.BoundedFloatText(value=value, min=lo, max=hi, step=0.01, description=p.name, tooltip=p.help, style=style, layout=layout)


#: BokehJS 3.x asks the CSS cascade for a ``--bk-*`` override of every colour, width and font of
#: every visual at every paint, and for the plot's font size at every layout (``getComputedStyle``
#: each time, which can force a style recalc of the whole page): 15-20 % of the browser's time per
#: frame in the explorer. The app defines no ``--bk-*`` variables, so the answer is always "none",
#: and its plots' font size never changes; this page-level switch says so without asking
#: (bokeh/bokeh#15286). Also, every renderer rewrites its position style sheet at every paint,
#: mostly with the text it already has, and each rewrite invalidates the page's styles, so that
#: the next canvas text (axis labels) forces a style recalculation: a rewrite with the same text is
#: skipped. And jupyter_bokeh 4.1 sends every change a kernel patch made back to the kernel
#: (whole images and traces, gzipped in the page, every frame): listeners that take single events
#: (jupyter_bokeh's; BokehJS's own sessions take batches and filter these themselves) no longer
#: hear changes that BokehJS marks as not to be synced. Changes made in the page (clicks, the
#: frame acknowledgement) still go to the kernel. Guarded: if BokehJS changes, it does nothing.
_NO_CSS_VISUALS_JS = """
(function patch(tries) {
  var B = window.Bokeh;
  if (B && B.require) {
    var V = null, P = null;
    try { V = B.require("core/visuals/visual").VisualProperties; } catch (e) { V = null; }
    if (V && typeof V.prototype._get_css_value === "function" && !V.prototype.__dplm_no_css) {
      V.prototype._get_css_value = function () { return ""; };
      V.prototype.__dplm_no_css = true;
    }
    try { P = B.require("models/plots/plot_canvas").PlotView; } catch (e) { P = null; }
    var d = P ? Object.getOwnPropertyDescriptor(P.prototype, "base_font_size") : null;
    if (d && d.get && d.configurable && !P.prototype.__dplm_font) {
      Object.defineProperty(P.prototype, "base_font_size", {configurable: true, get: function () {
        if (this.__dplm_bfs == null) { this.__dplm_bfs = d.get.call(this); }
        return this.__dplm_bfs;
      }});
      P.prototype.__dplm_font = true;
    }
    var D = null;
    try { D = B.require("core/dom").InlineStyleSheet; } catch (e) { D = null; }
    if (D && typeof D.prototype._update === "function" && !D.prototype.__dplm_same_css) {
      var update = D.prototype._update;
      D.prototype._update = function (css) { if (this.el.textContent !== css) { update.call(this, css); } };
      D.prototype.__dplm_same_css = true;
    }
    var EV = null, DOC = null;
    try { EV = B.require("document/events"); DOC = B.require("document/document").Document; } catch (e) { EV = null; }
    if (EV && DOC && EV.DocumentEventBatch && typeof DOC.prototype._trigger_on_change === "function" && !DOC.prototype.__dplm_no_echo) {
      var from_kernel = function (ev) {
        return ev.sync === false && (ev instanceof EV.ModelChangedEvent || ev instanceof EV.ColumnDataChangedEvent
          || ev instanceof EV.ColumnsStreamedEvent || ev instanceof EV.ColumnsPatchedEvent);
      };
      DOC.prototype._trigger_on_change = function (event) {
        for (const [callback, allow_batches] of this._callbacks) {
          if (allow_batches) { callback(event); continue; }
          const events = event instanceof EV.DocumentEventBatch ? event.events : [event];
          for (const ev of events) { if (!from_kernel(ev)) { callback(ev); } }
        }
      };
      DOC.prototype.__dplm_no_echo = true;
    }
    return;
  }
  if (tries > 0) { setTimeout(function () { patch(tries - 1); }, 50); }
})(600);
"""


#: the explorer's page styles (in the widget, so Voila and JupyterLab both get them): messages
#: wrap anywhere (absolute paths are long), text of at least 12 px
_CSS = """<style>
.dplm-message, .dplm-message * { overflow-wrap: anywhere; word-break: break-word; }
.dplm-explorer { font-size: 13px; }
.dplm-status { white-space: nowrap; }
.dplm-message, .dplm-controls .widget-html-content { line-height: 1.3; }
</style>"""

#: seconds without an acknowledgement from a page that did acknowledge before, with frames
#: waiting, after which the run pauses (the page is gone)
PAGE_GONE_S = 10.0
#: environment variable naming the folder a served explorer may export into (set by ``dplm-explore app``)
EXPORT_ROOT_ENV = "DPLM_EXPORT_ROOT"


def export_folder(name) -> Path:
    """The absolute export folder for ``name``: inside ``$DPLM_EXPORT_ROOT`` when that is set
    (a relative name is taken from there; a name that leaves it is a ValueError), else the
    name as given (relative to the working folder)."""
    root = os.environ.get(EXPORT_ROOT_ENV)
    p = Path(str(name)).expanduser()
    if not root:
        return p.resolve()
    root_p = Path(root).resolve()
    full = (root_p / p).resolve() if not p.is_absolute() else p.resolve()
    if full != root_p and root_p not in full.parents:
        raise ValueError(f"export folder {str(name)!r} lies outside {str(root_p)!r}, the folder this explorer may write to")
    return full


@dataclass(frozen=True)
class Preset:
    """A lesson in one click: a system (widget values), a program and what to look at."""

    title: str
    system: dict
    program: ProgramConfig
    caption: str


#: the explorer's lesson presets (L = 40 keeps sites large enough to see on a projector; the C_v
#: lesson takes L = 80, as the heat capacity of fewer voids is that of a handful of TLS). Cooling
#: rates lie on the ν slider's grid (10^(k/4)): a rate between its steps would be moved by the
#: page, and the program would then read as edited.
PRESETS: dict[str, Preset] = {
    "tls-emerge": Preset(
        "TLS emerge on cooling", {"L": 40, "phi_v": 0.02, "g_family": "uniform", "init": "equilibrium", "T_I": 0.2, "seed": 1},
        ProgramConfig("cool", 0.04, 1e-2),
        "A liquid at T = 0.2 is cooled into the glass. Watch p_void shrink from wandering voids to a few sites; "
        "below T ≈ 0.05 some voids rock between two sites: TLS appear in the catalogue."),
    "ultrastable": Preset(
        "Ultrastable glass (T_I = 0.05)", {"L": 40, "phi_v": 0.02, "g_family": "uniform", "init": "equilibrium", "T_I": 0.05, "seed": 2},
        ProgramConfig("cool", 0.005, 10**-2.75),
        "Built directly in equilibrium at T_I = 0.05 (far below T_g ≈ 0.15): almost every void is frozen; "
        "the few TLS are all there is, as the theory assumes."),
    "glycerol": Preset(
        "Glycerol-like g (Fermi plus Gaussian)", {"L": 40, "phi_v": 0.031, "g_family": "fermi-gauss", "G0": 0.2, "sigma_V": 0.1, "dV": 1.0,
                                                   "init": "equilibrium", "T_I": 0.3, "seed": 3},
        ProgramConfig("cool", 0.05, 1e-2),
        "The paper's glycerol parameters (G0 = 0.2, σ_V = 0.1, φ_v = 0.031): a more fragile glass. "
        "Compare g(V) with p_eq(V; T) as it cools, and D falling near T_g ≈ 0.24."),
    "cv-linear": Preset(
        "C_v linear in T", {"L": 80, "phi_v": 0.02, "g_family": "uniform", "init": "equilibrium", "T_I": 0.05, "seed": 4},
        ProgramConfig("cool", 0.01, 10**-3.5),
        "Slow cooling of an ultrastable glass (L = 80: enough TLS to average over). In the C_v / T against T² tab compare the "
        "points with the dashed line c1 + c3 T² of the theory: C_v ≈ c1 T, the TLS signature. At the lowest T the slowest "
        "TLS stop flipping within a frame and the points fall below it; the error bars shrink as the run goes on."),
}


def load_bokehjs() -> None:
    """Put BokehJS into the page from the installed bokeh package (inline: no CDN, works
    offline). Needed once per page before a BokehModel widget renders."""
    from bokeh.io import output_notebook
    from bokeh.resources import INLINE
    from IPython.display import Javascript, display

    output_notebook(resources=INLINE, hide_banner=True)
    display(Javascript(_NO_CSS_VISUALS_JS))


class Explorer:
    """The interactive DPLM explorer. ``Explorer().show()`` in JupyterLab or Voila.

    ``system``, ``program``: the starting configuration; ``hops_per_frame``, ``window_hops``:
    see :class:`~.runner.Runner`; ``fps``: the most frames drawn per second (12: on a 2-core
    machine, 15 left the simulation below half its batch speed with voids followed in JupyterLab)."""

    def __init__(self, system: SystemConfig | None = None, program: ProgramConfig | None = None, *, hops_per_frame: int = 100_000,
                 window_hops: int = 2_000_000, fps: float = 12.0, runner: Runner | None = None):
        if runner is not None:
            # a runner around a simulation of one's own (e.g. planted TLS); the System controls
            # describe what Reset would build
            self.system = runner.config or system or SystemConfig(L=runner.sim.params.L)
            program = runner.program
            hops_per_frame, window_hops = runner.hops_per_frame, runner.window_hops
        else:
            self.system = system or SystemConfig()
            program = program or ProgramConfig("hold", self.system.T_I)
            runner = Runner.create(self.system, program, hops_per_frame=hops_per_frame, window_hops=window_hops)
        if not (isinstance(fps, (int, float)) and 0 < fps <= 120):
            raise ValueError(f"fps must be in (0, 120]; got {fps!r}")
        self.fps = float(fps)
        self.runner = runner
        self.plots = LivePlots(runner.sim.params.L, on_tap=self.tap, on_select=self.follow_number)
        self._last_draw = 0.0
        self._status_t = 0.0
        self._draw_times: list[float] = []
        self._task: asyncio.Task | None = None
        self._closed = False
        self._export_future = None
        self._export_pool = None
        self._export_dir: Path | None = None
        self._build_widgets(program, hops_per_frame, window_hops)
        self._apply_system_plots()
        self.pump_once(force=True)
        # the widget takes the figures as they are now: draw first (patches sent before a view
        # exists are lost)
        self.bokeh = {k: _bokeh_widget(m) for k, m in self.plots.parts.items()}
        self._size_bokeh_boxes()
        # controls | map over the tabbed plots | traces, followed voids, catalogue: at 1280 x 720
        # the first screen holds the controls, the map, the traces and the catalogue. The row
        # wraps (a narrow notebook puts the columns under each other) and every box keeps its
        # figures' width, so nothing overlaps at any width.
        self.widget = W.VBox([
            W.HTML(_CSS),
            self.status,
            W.HBox([self.controls, W.VBox([self.bokeh["map"], self.bokeh["tabs"]], layout=W.Layout(min_width=self._box_px("map"))), self.bokeh["side"]],
                   layout=W.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="0px 8px")),
        ], layout=W.Layout(width="100%"))
        self.widget.add_class("dplm-explorer")

    @classmethod
    def from_env(cls, var: str = "DPLM_EXPLORER") -> "Explorer":
        """An explorer configured by the JSON in environment variable ``var`` (set by
        ``dplm-explore app``): ``{"system": {...SystemConfig fields}, "program": {...},
        "hops_per_frame": n, "window_hops": n}``; defaults when it is unset."""
        import json
        import os

        raw = os.environ.get(var, "")
        cfg = json.loads(raw) if raw.strip() else {}
        if not isinstance(cfg, dict) or set(cfg) - {"system", "program", "hops_per_frame", "window_hops", "fps"}:
            raise ValueError(f"{var} must be a JSON object with keys system, program, hops_per_frame, window_hops, fps; got {raw!r}")
        system = SystemConfig(**cfg.get("system", {}))
        program = ProgramConfig(**cfg["program"]) if "program" in cfg else None
        kw = {k: cfg[k] for k in ("hops_per_frame", "window_hops", "fps") if k in cfg}
        return cls(system, program, **kw)

    # ------------------------------------------------------------------ widgets
    def _build_widgets(self, program: ProgramConfig, hops_per_frame: int, window_hops: int) -> None:
        s = self.system
        style = {"description_width": "80px"}

        def lay():
            return W.Layout(width="230px")  # one Layout per widget: hiding one must not hide the others
        self.w = {
            "L": W.BoundedIntText(value=s.L, min=3, max=4000, description="L", style=style, layout=lay()),
            "phi_v": W.BoundedFloatText(value=s.phi_v, min=1e-5, max=0.9, step=0.001, description="φ_v", style=style, layout=lay()),
            "g_family": W.Dropdown(options=list(G_FAMILIES), value=s.g_family, description="g(V)", style=style, layout=lay()),
            **{p.name: _g_widget(p, getattr(s, p.name), style, lay()) for p in g_parameters()},
            "init": W.Dropdown(options=[("equilibrium at T_I", "equilibrium"), ("random (T = ∞)", "random")], value=s.init, description="start",
                               style=style, layout=lay()),
            "T_I": W.BoundedFloatText(value=s.T_I, min=1e-4, max=100.0, step=0.01, description="T_I", style=style, layout=lay()),
            "seed": W.BoundedIntText(value=s.seed, min=0, max=2**62, description="seed", style=style, layout=lay()),
            "w0": W.BoundedFloatText(value=s.w0, min=1e-6, max=1e12, description="w0", style=style, layout=lay()),
        }
        for name, wid in self.w.items():
            wid.observe(self._on_system_change, names="value")
        self.mode = W.ToggleButtons(options=list(MODES), value=program.mode, description="program", style={"button_width": "58px", **style})
        self.T_target = W.BoundedFloatText(value=program.T, min=1e-4, max=100.0, step=0.005, description="T", style=style, layout=lay())
        self.nu = W.FloatLogSlider(value=program.nu, base=10, min=-7, max=0, step=0.25, description="ν_cool", readout_format=".1e", style=style,
                                   layout=W.Layout(width="265px"))
        for wid in (self.mode, self.T_target, self.nu):
            wid.observe(self._on_program_edit, names="value")
        self.apply_button = W.Button(description="Apply", tooltip="start this temperature program now", layout=W.Layout(width="80px"))
        self.apply_button.on_click(lambda _: self._on_program_change())
        self.program_pending = W.HTML(value="")
        self.preset = W.Dropdown(options=[("lesson presets ...", "")] + [(p.title, key) for key, p in PRESETS.items()], value="", description="lesson",
                                 style=style, layout=lay())
        self.preset.observe(self._on_preset, names="value")
        self.preset_caption = W.HTML(value="", layout=W.Layout(width="100%"))
        self.follow_id = W.BoundedIntText(value=0, min=0, max=10**9, description="void #", style=style, layout=W.Layout(width="160px"))
        self.follow_button = W.Button(description="Follow", layout=W.Layout(width="70px"), tooltip="follow this void (or click it on the map)")
        self.follow_button.on_click(lambda _: self.follow_number(self.follow_id.value))
        self.hops_frame = W.Dropdown(options=_HOPS_CHOICES, value=_closest(_HOPS_CHOICES, hops_per_frame), description="hops/frame",
                                     style=style, layout=lay())
        self.window = W.Dropdown(options=_WINDOW_CHOICES, value=_closest(_WINDOW_CHOICES, window_hops), description="window", style=style,
                                 layout=lay())
        self.hops_frame.observe(self._on_frame_change, names="value")
        self.window.observe(self._on_frame_change, names="value")
        self.dynamics = W.ToggleButtons(options=[("hop by hop", "hop"), ("first passage", "first-passage")], value=self.runner.sim.dynamics,
                                        description="dynamics", style={"button_width": "95px", **style},
                                        tooltips=["every hop one by one", "isolated two-level voids' sojourns drawn whole: the same physics, "
                                                  "faster in a glass (energy fluctuations absent where sojourns end)"])
        self.dynamics.observe(self._on_dynamics, names="value")
        self.run_button = W.ToggleButton(value=False, description="Run", button_style="success", layout=W.Layout(width="90px"))
        self.run_button.observe(self._on_run_toggle, names="value")
        self.step_button = W.Button(description="Step", layout=W.Layout(width="80px"))
        self.step_button.on_click(lambda _: self.step())
        self.reset_button = W.Button(description="Reset", layout=W.Layout(width="80px"), tooltip="build a new system")
        self.reset_button.on_click(lambda _: self.reset())
        self.unfollow_button = W.Button(description="Clear followed", layout=W.Layout(width="120px"))
        self.unfollow_button.on_click(lambda _: self.follow(()))
        self.export_dir = W.Text(value="dplm-export", description="export to", style=style, layout=lay())
        self.export_button = W.Button(description="Export HTML + PNG", layout=W.Layout(width="160px"))
        self.export_button.on_click(lambda _: self.export_in_background())
        self.pending = W.HTML(value="", layout=W.Layout(width="100%"))
        # fixed height: a status line that changed height would make BokehJS lay the figures out again
        self.status = W.HTML(value="", layout=W.Layout(height="26px", width="100%", overflow="hidden"))
        self.status.add_class("dplm-status")
        self.message = W.HTML(value="", layout=W.Layout(width="100%"))
        self.message.add_class("dplm-message")
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0, description="program", style=style, layout=lay())
        g_box = W.VBox([self.w[k] for k in ("g_family", *_G_FIELDS)])
        # the sections share one tab widget so that the Run row, the lesson and the messages stay
        # on the first screen; Program is open first
        self.sections = W.Tab(children=[
            W.VBox([self.mode, self.T_target, self.nu, W.HBox([self.apply_button, self.program_pending]), self.progress]),
            W.VBox([W.HTML("changes apply on <b>Reset</b>"), *(self.w[k] for k in ("L", "phi_v")), g_box,
                    *(self.w[k] for k in ("init", "T_I", "seed", "w0")), self.pending]),
            W.VBox([W.HBox([self.follow_id, self.follow_button]), self.unfollow_button, self.hops_frame, self.window, self.dynamics,
                    self.export_dir, self.export_button]),
        ], titles=("Program", "System", "More"), layout=W.Layout(width="100%"))
        self.controls = W.VBox([
            W.HBox([self.run_button, self.step_button, self.reset_button]),
            self.preset, self.preset_caption, self.sections, self.message,
        ], layout=W.Layout(width="290px", min_width="290px"))
        self.controls.add_class("dplm-controls")
        self._show_g_fields()

    def _show_g_fields(self) -> None:
        used = {p.name for p in g_parameters(self.w["g_family"].value)}
        for k in _G_FIELDS:
            self.w[k].layout.display = None if k in used else "none"

    # ------------------------------------------------------------------ handlers (idempotent)
    def _on_dynamics(self, change=None) -> None:
        """Switch how the running system is advanced (takes effect at the next frame)."""
        self.runner.set_dynamics(self.dynamics.value)

    def _wanted_system(self) -> SystemConfig:
        return SystemConfig(**{k: self.w[k].value for k in _SYSTEM_FIELDS})

    def _on_system_change(self, change=None) -> None:
        self._show_g_fields()
        try:
            wanted = self._wanted_system()
            wanted.g()
        except ValueError as exc:
            self.pending.value = f"<span style='color:crimson'>{html.escape(str(exc))}</span>"
            self.reset_button.button_style = ""
            return
        changed = wanted.changed(self.system)
        if changed:
            items = ", ".join(f"{k} {getattr(self.system, k)!r} → {getattr(wanted, k)!r}" for k in changed)
            self.pending.value = (f"<span style='color:#b35900'>Needs a new system: {html.escape(items)}. "
                                  "Press <b>Reset</b> to apply; the current run goes on unchanged.</span>")
            self.reset_button.button_style = "warning"
        else:
            self.pending.value = ""
            self.reset_button.button_style = ""
        self._preview_g(wanted)

    def _on_program_edit(self, change=None) -> None:
        """An edited program waits for Apply (typing a target must not quench the system)."""
        try:
            prog = ProgramConfig(self.mode.value, self.T_target.value, self.nu.value)
        except ValueError as exc:
            self.program_pending.value = f"<span style='color:crimson'>{html.escape(str(exc))}</span>"
            return
        if prog == self.runner.program:
            self.program_pending.value = ""
            self.apply_button.button_style = ""
        else:
            self.program_pending.value = f"<span style='color:#b35900'>{html.escape(self._describe(prog))}: press Apply</span>"
            self.apply_button.button_style = "warning"

    def _on_preset(self, change=None) -> None:
        key = self.preset.value
        if not key:
            return
        self.apply_preset(key)

    def apply_preset(self, key: str) -> None:
        """One click for a lesson: the preset's system (a new one is built) and program, and
        its caption of what to look at."""
        if key not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}; got {key!r}")
        p = PRESETS[key]
        for name, value in p.system.items():
            self.w[name].value = value
        # the new system holds its T_I until the preset's program starts from there
        self.mode.value, self.T_target.value = "hold", p.system["T_I"]
        self.reset()
        self.mode.value, self.nu.value, self.T_target.value = p.program.mode, p.program.nu, p.program.T
        self._on_program_change()
        self.preset_caption.value = f"<div style='line-height:1.3;font-style:italic'>{html.escape(p.caption)}</div>"

    def follow_number(self, v: int) -> tuple[int, ...]:
        """Follow void ``v`` (as a click on it would), keeping the voids already followed."""
        n = self.runner.sim.params.n_voids
        if not 0 <= int(v) < n:
            self.message.value = f"<span style='color:crimson'>void # must lie in [0, {n}); got {int(v)}</span>"
            return self.runner.followed
        return self.follow(tuple(self.runner.followed) + (int(v),))

    def _on_program_change(self, change=None) -> None:
        prog = ProgramConfig(self.mode.value, self.T_target.value, self.nu.value)
        self.program_pending.value = ""
        self.apply_button.button_style = ""
        if prog == self.runner.program:
            return  # the same request delivered twice: nothing to restart
        try:
            self.runner.set_program(prog)
        except ValueError as exc:
            self.message.value = f"<span style='color:crimson'>Program not changed: {html.escape(str(exc))}</span>"
            return
        self._ramp_T0 = self.runner.sim.T  # the progress bar runs from here to the target
        self._say(f"Program: {self._describe(prog)} from T = {self._ramp_T0:.4g} (applied at hop {self.runner.sim.hops:,}).")

    def _on_frame_change(self, change=None) -> None:
        self.runner.set_frame(hops_per_frame=self.hops_frame.value, window_hops=self.window.value)

    def _on_run_toggle(self, change) -> None:
        if change["new"]:
            self.run()
        else:
            self.pause()

    # ------------------------------------------------------------------ actions
    def run(self) -> None:
        """Start the background run (and the drawing task when an event loop is running)."""
        if self.runner.sim.program_done:
            self._say("The program has ended: choose a new temperature program to go on.")
            self._set_run_button(False)
            return
        self.runner.start()
        self._set_run_button(True)
        self._ensure_pump()

    def pause(self) -> None:
        self.runner.pause()
        self._set_run_button(False)
        self.pump_once()

    def step(self) -> None:
        """One frame now (pauses a running simulation first)."""
        if self.runner.running:
            self.pause()
        self.runner.step()
        self.pump_once()

    def reset(self) -> None:
        """A new system from the System controls (the old one is discarded)."""
        try:
            wanted = self._wanted_system()
            wanted.g()
        except ValueError as exc:
            self.pending.value = f"<span style='color:crimson'>{html.escape(str(exc))}</span>"
            return
        was_running = self.runner.running
        self.runner.pause()
        try:
            prog = ProgramConfig(self.mode.value, self.T_target.value, self.nu.value)
            runner = Runner.create(wanted, prog, hops_per_frame=self.hops_frame.value, window_hops=self.window.value)
        except ValueError as exc:
            self.pending.value = f"<span style='color:crimson'>Not reset: {html.escape(str(exc))}</span>"
            return
        runner.set_dynamics(self.dynamics.value)
        self.runner = runner
        self.system = wanted
        self.pending.value = ""
        self.reset_button.button_style = ""
        new_plots = wanted.L != self.plots.L
        if new_plots:
            self.plots = LivePlots(wanted.L, on_tap=self.tap, on_select=self.follow_number)
        self.plots.drawn_seq = -1
        self._apply_system_plots()
        self.pump_once(force=True)
        if new_plots:
            self._rebind_bokeh()
        self._say(f"New system: L = {wanted.L}, φ_v = {wanted.phi_v}, g = {wanted.g_family}, {wanted.init} start, T_I = {wanted.T_I}, seed {wanted.seed}.")
        if was_running:
            self.run()

    def follow(self, voids) -> tuple[int, ...]:
        """Follow exactly these voids (an empty list stops following)."""
        ids = self.runner.follow(list(voids))
        self.pump_once()
        return ids

    def tap(self, x: float, y: float) -> int | None:
        """A click on the map at lattice coordinates (x, y): follow the void shown nearest to it.
        Clicking an already followed void changes nothing (safe to deliver twice)."""
        frame = self.runner.latest
        v = nearest_void(frame.void_xy, x, y, frame.L)
        if v is None:
            self._say(f"No void within 1.5 sites of ({x:.0f}, {y:.0f}).")
            return None
        if v not in self.runner.followed:
            # the answer first (one small message), then the redraw with the new trace
            self._say(f"Following void {v} (at {tuple(int(c) for c in frame.void_xy[v])}).")
            self.follow([*self.runner.followed, v])
        return v

    def export(self, directory=None, formats=("html", "png")) -> list[Path]:
        """Write the current figures to ``directory`` as standalone HTML (inline BokehJS) and
        PNG (without toolbars), on the caller's thread; file names carry the hop count, existing
        files are never replaced. Served by ``dplm-explore app``, the folder must lie inside the
        folder the app was started in (``$DPLM_EXPORT_ROOT``; a relative name is taken from
        there): a visitor cannot write anywhere else. The Export button uses
        :meth:`export_in_background`."""
        job = self._export_job_for(directory, formats)
        if job is None:
            return []
        out, failed = job()
        self._report_export(out, failed)
        return out

    def export_in_background(self, directory=None, formats=("html", "png")):
        """:meth:`export` on a worker thread, so that frames go on being drawn while the
        browser renders the PNG; the status line says when it is done (with the absolute
        paths). Returns the ``concurrent.futures.Future`` of ``(written, failures)``, or None
        when the folder was refused or an export is still running."""
        from concurrent.futures import ThreadPoolExecutor

        if self._export_future is not None and not self._export_future.done():
            self._say("An export is still running.")
            return None
        job = self._export_job_for(directory, formats)
        if job is None:
            return None
        if self._export_pool is None:
            self._export_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dplm-export")
        self.export_button.disabled = True
        self.message.value = f"Exporting into {html.escape(str(self._export_dir))} …"
        self._export_future = self._export_pool.submit(job)
        return self._export_future

    def _export_job_for(self, directory, formats):
        """A function writing the export, or None (after saying why) when the folder is refused."""
        from ..export import save_html, save_png

        try:
            d = export_folder(directory or self.export_dir.value)
        except ValueError as exc:
            self.message.value = f"<span style='color:crimson'>Export refused: {html.escape(str(exc))}</span>"
            return None
        self._export_dir = d
        stem = f"dplm_L{self.system.L}_seed{self.system.seed}_hop{self.runner.latest.hops}"
        frame, check, system, theory = self.runner.latest, self.plots.check.text, self.system, self.runner.theory

        def job():
            out, failed = [], []
            try:
                d.mkdir(parents=True, exist_ok=True)
                layout = self._snapshot(frame, check, system, theory)
            except (OSError, ValueError, RuntimeError) as exc:
                return out, [f"not written ({exc})"]
            for fmt in formats:
                try:
                    if fmt == "html":
                        out.append(save_html(layout, d / f"{stem}.html", title=f"dplm-explore {stem}"))
                    elif fmt == "png":
                        out.append(save_png(layout, d / f"{stem}.png"))
                except (OSError, ValueError, RuntimeError, ImportError) as exc:
                    failed.append(f"{fmt.upper()} not written ({exc})")
            return out, failed

        return job

    def _report_export(self, out, failed) -> None:
        if not out:
            self.message.value = f"<span style='color:crimson'>Export failed: {html.escape('; '.join(failed))}</span>"
            return
        self._say("Exported " + ", ".join(str(p) for p in out) + (". " + "; ".join(failed) if failed else ""))

    def _poll_export(self) -> bool:
        """Report a background export that has finished (on the drawing loop); returns whether
        it reported."""
        fut = self._export_future
        if fut is None or not fut.done():
            return False
        self._export_future = None
        self.export_button.disabled = False
        try:
            out, failed = fut.result()
        except Exception as exc:  # an unexpected failure is shown, not lost in the thread
            out, failed = [], [repr(exc)]
        self._report_export(out, failed)
        return True

    def snapshot(self):
        """The current figures as one new Bokeh layout (for export; the app's own figures stay
        where they are)."""
        return self._snapshot(self.runner.latest, self.plots.check.text, self.system, self.runner.theory)

    @staticmethod
    def _snapshot(frame, check: str, system: SystemConfig, theory):
        snap = LivePlots(frame.L)
        snap.set_theory(theory)
        snap.set_g(system.g(), system.T_I, frame.T)
        snap.draw(frame)
        snap.check.text = check
        return snap.snapshot_layout()

    def show(self):
        """Display the explorer (loads BokehJS inline first)."""
        from IPython.display import display

        load_bokehjs()
        self._rebind_bokeh()  # fresh bundles for a new view
        display(self.widget)
        self._ensure_pump()

    def close(self) -> None:
        self._closed = True
        self.runner.pause()
        if self._task is not None:
            self._task.cancel()
        if self._export_pool is not None:
            self._export_pool.shutdown(wait=False)
        self.widget.close()
        for b in self.bokeh.values():
            b.close()

    # ------------------------------------------------------------------ drawing
    def pump_once(self, force: bool = False) -> bool:
        """Draw the newest frame if it is not shown yet; returns whether it drew."""
        r = self.runner
        self._poll_export()
        if r.error is not None:
            err, r.error = r.error, None
            self.message.value = f"<span style='color:crimson'>The run stopped: {html.escape(repr(err))}</span>"
        if not r.running and self.run_button.value:
            self._set_run_button(False)
            if r.sim.program_done:
                self._say("The program has ended.")
        frame = r.latest
        if frame.seq == self.plots.drawn_seq and not force:
            return False
        now = time.perf_counter()
        self._last_draw = now
        self._draw_times = [t for t in self._draw_times if now - t < 2.0] + [now]
        with self._one_patch():
            self.plots.draw(frame)
            # p_eq(V; T now) follows a ramp once a second (each redraw repaints the g(V) plot)
            if frame.T != self._g_T and (force or not r.running or now - self._g_t >= 1.0):
                self._preview_g(self._g_shown)
        # the status line and progress bar are page DOM (each change restyles the page): 4 a second
        if force or not r.running or now - self._status_t >= 0.25:
            self._status_t = now
            self.status.value = self._status(frame)
            if r.program.mode != "hold":
                T0 = self._ramp_T0
                self.progress.value = min(1.0, max(0.0, abs(frame.T - T0) / max(abs(r.program.T - T0), 1e-300)))
                self.progress.description = r.program.mode
            else:
                self.progress.value = 0.0  # a hold has no end to progress towards
                self.progress.description = "hold"
        return True

    @contextlib.contextmanager
    def _one_patch(self):
        """Everything drawn inside goes to the page as one patch per Bokeh document. Sent change
        by change, a frame was 8-10 patches that the page applied in separate tasks, with a
        repaint between them (about two paints of the map and of the traces per frame)."""
        widgets = list(getattr(self, "bokeh", {}).values())
        for b in widgets:
            b.hold()
        try:
            yield
        finally:
            for b in widgets:
                b.flush()

    @property
    def fps_drawn(self) -> float:
        """Frames drawn per second over the last 2 s."""
        ts = self._draw_times
        return (len(ts) - 1) / (ts[-1] - ts[0]) if len(ts) > 1 and ts[-1] > ts[0] else 0.0

    def _status(self, f) -> str:
        run = "running" if self.runner.running else "paused"
        rate = f"{f.hops_per_s / 1e6:.2f} M hops/s" if f.hops_per_s == f.hops_per_s else "–"
        return (f"<b>{run}</b> &nbsp; hops {f.hops:,} &nbsp; t = {f.t:.4g} &nbsp; <b>T = {f.T:.4g}</b> &nbsp; e = {f.e:.5f} &nbsp; "
                f"{rate} &nbsp; {self.fps_drawn:.1f} frames/s drawn &nbsp; p_void over {f.occ_hops:,} hops")

    async def _pump(self) -> None:
        period = 1.0 / self.fps
        while not self._closed:
            try:
                # draw when the page has acknowledged enough of the frames sent (plots.may_draw;
                # or after 1 s without news, e.g. when no page is open), at most fps times a second
                since = time.perf_counter() - self._last_draw
                self.watch_page()
                self._poll_export()
                acked = self.plots.may_draw()
                if since >= period and (acked or since >= 1.0):
                    self.pump_once()
            except Exception as exc:  # keep drawing; show what went wrong
                self.message.value = f"<span style='color:crimson'>Drawing failed: {html.escape(repr(exc))}</span>"
            await asyncio.sleep(0.01)

    def watch_page(self, now: float | None = None) -> bool:
        """Pause a run whose page went away: once a page has acknowledged frames, a silence of
        PAGE_GONE_S with frames waiting (closed or reloaded tab, navigated away) pauses the
        simulation, so an abandoned kernel stops taking a core. Returns whether it paused."""
        now = time.perf_counter() if now is None else now
        pl = self.plots
        t_ack = getattr(pl, "acked_t", None)
        if not self.runner.running or t_ack is None or pl.drawn_n <= pl.acked_n or now - t_ack < PAGE_GONE_S:
            return False
        self.pause()
        self._say(f"Paused: the page stopped answering for {PAGE_GONE_S:g} s (press Run to go on).")
        return True

    def _ensure_pump(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (a script or the tests): call pump_once() to draw
        self._task = loop.create_task(self._pump())

    # ------------------------------------------------------------------ helpers
    def _rebind_bokeh(self) -> None:
        for k, b in self.bokeh.items():
            b.update_from_model(self.plots.parts[k])
        self._size_bokeh_boxes()

    def _box_px(self, part: str) -> str:
        """The width a Bokeh part needs on the page (its widest figure or table, and a margin)."""
        pl = self.plots
        w = {"map": pl.map.width, "tabs": max(f.width for f in pl.tab_figs.values()), "side": max(pl.trace.width, pl.table.width)}[part]
        return f"{int(w) + 12}px"

    def _size_bokeh_boxes(self) -> None:
        """Each Bokeh box at its figures' width: the page sizes a box before BokehJS has measured
        it, and a box that shrinks lets its figures cover their neighbours (the map over the
        controls, the colour bar under the catalogue)."""
        for k, b in self.bokeh.items():
            b.layout.min_width = b.layout.width = self._box_px(k)

    def _apply_system_plots(self) -> None:
        s = self.system
        self._preview_g(s)
        self.plots.set_theory(self.runner.theory)
        self._ramp_T0 = self.runner.sim.T

    def _preview_g(self, s: SystemConfig) -> None:
        self._g_shown, self._g_T, self._g_t = s, self.runner.latest.T, time.perf_counter()
        self.plots.set_g(s.g(), s.T_I, self._g_T)
        pending = s != self.system
        self.plots.gfig.title.text = "g(V) and p_eq(V; T)" + ("  [pending: Reset to apply]" if pending else "")

    def _describe(self, prog: ProgramConfig) -> str:
        if prog.mode == "hold":
            return f"hold T = {prog.T:g} (at once)"
        return f"{prog.mode} to T = {prog.T:g} at ν = {prog.nu:.2g}, then hold"

    def _say(self, text: str) -> None:
        self.message.value = html.escape(text)

    def _set_run_button(self, on: bool) -> None:
        if self.run_button.value != on:
            self.run_button.unobserve(self._on_run_toggle, names="value")
            self.run_button.value = on
            self.run_button.observe(self._on_run_toggle, names="value")
        self.run_button.description = "Pause" if on else "Run"
        self.run_button.button_style = "warning" if on else "success"


# attributes only the kernel sets: BokehJS echoes every patch it applies back to the kernel
# (jupyter_bokeh 4 queues the change events raised while a patch is applied and sends them after),
# and deserialising those echoes (whole images, every frame) would keep the kernel busy
_KERNEL_OWNED = frozenset({"data", "text", "start", "end", "location", "items", "title"})


def _patch_message(events):
    """One PATCH-DOC message for ``events`` (all of one document), with its arrays inline (base64
    in the JSON) rather than as binary buffers. jupyter_bokeh sends each part of a message as its
    own comm message: with buffers a frame of the explorer was 28 of them (header, metadata,
    content, then a reference and the bytes of every array), each handled by the kernel, the
    server and the page on its own; inline it is 3 per document. (Bokeh's own ``create`` with
    ``Serializer(deferred=False)``; if a Bokeh release moves these internals, the usual message
    with buffers.)"""
    from bokeh.protocol import Protocol

    try:
        from bokeh.core.serialization import Serializer
        from bokeh.protocol.messages.patch_doc import patch_doc

        doc = events[0].document
        models = doc.models
        ser = Serializer(references=models.synced_references, deferred=False)
        content = {"events": ser.encode(events)}
        models.flush_synced(lambda model: not ser.has_ref(model))
        return patch_doc(patch_doc.create_header(), {}, content)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - a future Bokeh
        return Protocol().create("PATCH-DOC", events)


def _bokeh_widget(layout):
    """A jupyter_bokeh BokehModel that ignores the browser's echoes of kernel-owned attributes.
    (``combine_events`` stays off: in JupyterLab it held every acknowledgement until the kernel
    reported idle.)"""
    from jupyter_bokeh import BokehModel

    class QuietBokehModel(BokehModel):
        _held: list | None = None

        def _sync_model(self, model, content, buffers):
            if content.get("kind") == "ModelChanged" and content.get("attr") in _KERNEL_OWNED:
                return
            super()._sync_model(model, content, buffers)

        def hold(self) -> None:
            """Collect the document's changes from now on instead of sending each at once."""
            if self._held is None:
                self._held = []

        def flush(self) -> None:
            """Send the changes collected since :meth:`hold` as one patch and stop collecting."""
            held, self._held = self._held, None
            if held:
                self._send_patch(held)

        def _document_patched(self, event) -> None:
            if event.setter is self:
                return
            if self._held is not None:
                self._held.append(event)
            else:
                self._send_patch([event])

        def _send_patch(self, events) -> None:
            msg = _patch_message(events)
            self.send({"msg": "patch", "payload": msg.header_json})
            self.send({"msg": "patch", "payload": msg.metadata_json})
            self.send({"msg": "patch", "payload": msg.content_json})
            for buffer in msg.buffers:
                self.send({"msg": "patch", "payload": json.dumps(buffer.ref)})
                self.send({"msg": "patch"}, [buffer.to_bytes()])

    return QuietBokehModel(layout)


def _closest(choices, value) -> int:
    return min((v for _, v in choices), key=lambda v: abs(math.log(v / value)))
