"""The explorer's widgets and their page layout: the controls (Run row, lesson, the Program,
System and More tabs, messages), the status line, and the boxes of the Bokeh figures, each at its
figures' width. :class:`Controls` builds them; :class:`~.explorer.Explorer` wires them to its
handlers.
"""

from __future__ import annotations

import html
import math

import ipywidgets as W

from ..interactions import g_parameters
from ..system import system_parameters
from ._presets import PRESETS
from .runner import G_FAMILIES, MODES, ProgramConfig, SystemConfig

_HOPS_CHOICES = [("10k", 10_000), ("30k", 30_000), ("100k", 100_000), ("300k", 300_000), ("1M", 1_000_000), ("3M", 3_000_000)]
_WINDOW_CHOICES = [("300k", 300_000), ("1M", 1_000_000), ("2M", 2_000_000), ("5M", 5_000_000), ("10M", 10_000_000), ("30M", 30_000_000)]
#: the g parameters of every family, as they declare them (one input each)
_G_FIELDS = tuple(p.name for p in g_parameters())
_SYSTEM_FIELDS = ("L", "phi_v", "g_family", *_G_FIELDS, "init", "T_I", "seed", "w0")
#: a widget bound may not be infinite; open bounds are kept just inside
_WIDGET_RANGE = 1e6
_OPEN_MARGIN = 1e-6
#: the largest lattice the explorer offers (L has no upper bound of its own; memory sets one)
APP_L_MAX = 4000
#: how the system inputs are labelled and stepped where the parameter's name is not enough
_LABELS = {"phi_v": "φ_v"}
_STEPS = {"phi_v": 0.001, "T_I": 0.01}
#: the folder the export box names at first
EXPORT_DIR = "dplm-export"


def _number_widget(p, value, style, layout, *, cap: float = _WIDGET_RANGE):
    """A bounded numeric input for one declared parameter (:class:`~dplm_explore._schema.Parameter`):
    its bounds, an infinite one capped at ``cap``, an open one kept just inside."""
    lo, hi = p.bounds
    label = _LABELS.get(p.name, p.name)
    if p.kind is int:
        return W.BoundedIntText(value=value, min=int(lo), max=int(min(hi, cap)), description=label, tooltip=p.help, style=style, layout=layout)
    lo = max(-cap, lo) + (_OPEN_MARGIN if p.lo_open else 0.0)
    hi = min(cap, hi) - (_OPEN_MARGIN if p.hi_open else 0.0)
    return W.BoundedFloatText(value=value, min=lo, max=hi, step=_STEPS.get(p.name, 0.01), description=label, tooltip=p.help, style=style, layout=layout)


#: the explorer's page styles (in the widget, so Voila and JupyterLab both get them): messages
#: wrap anywhere (absolute paths are long), text of at least 12 px
_CSS = """<style>
.dplm-message, .dplm-message * { overflow-wrap: anywhere; word-break: break-word; }
.dplm-explorer { font-size: 13px; }
.dplm-status { white-space: nowrap; }
.dplm-message, .dplm-controls .widget-html-content { line-height: 1.3; }
</style>"""
#: room a Bokeh box leaves around its widest figure (pixels)
_BOX_MARGIN_PX = 12


def _closest(choices, value) -> int:
    return min((v for _, v in choices), key=lambda v: abs(math.log(v / value)))


class Controls:
    """The explorer's widgets and their layout (a base of :class:`~.explorer.Explorer`). The page
    and the Bokeh boxes also take the explorer's ``plots`` (:class:`~.plots.LivePlots`) and
    ``bokeh`` (a widget per part of the plots)."""

    def _build_widgets(self, s: SystemConfig, program: ProgramConfig, hops_per_frame: int, window_hops: int, dynamics: str) -> None:
        """The widgets, showing system ``s``, ``program``, the frame settings and ``dynamics``."""
        style = {"description_width": "80px"}

        def lay():
            return W.Layout(width="230px")  # one Layout per widget: hiding one must not hide the others
        sp = system_parameters()

        def number(name, **kw):
            return _number_widget(sp[name], getattr(s, name), style, lay(), **kw)

        self.w = {
            "L": number("L", cap=APP_L_MAX),
            "phi_v": number("phi_v"),
            "g_family": W.Dropdown(options=list(G_FAMILIES), value=s.g_family, description="g(V)", style=style, layout=lay()),
            **{p.name: _number_widget(p, getattr(s, p.name), style, lay()) for p in g_parameters()},
            "init": W.Dropdown(options=[("equilibrium at T_I", "equilibrium"), ("random (T = ∞)", "random")], value=s.init, description="start",
                               style=style, layout=lay()),
            "T_I": number("T_I"),
            "seed": W.BoundedIntText(value=s.seed, min=0, max=2**62, description="seed", style=style, layout=lay()),
            "w0": number("w0", cap=math.inf),
        }
        self.mode = W.ToggleButtons(options=list(MODES), value=program.mode, description="program", style={"button_width": "58px", **style})
        self.T_target = W.BoundedFloatText(value=program.T, min=1e-4, max=100.0, step=0.005, description="T", style=style, layout=lay())
        self.nu = W.FloatLogSlider(value=program.nu, base=10, min=-7, max=0, step=0.25, description="ν_cool", readout_format=".1e", style=style,
                                   layout=W.Layout(width="265px"))
        self.apply_button = W.Button(description="Apply", tooltip="start this temperature program now", layout=W.Layout(width="80px"))
        self.program_pending = W.HTML(value="")
        self.preset = W.Dropdown(options=[("lesson presets ...", "")] + [(p.title, key) for key, p in PRESETS.items()], value="", description="lesson",
                                 style=style, layout=lay())
        self.preset_caption = W.HTML(value="", layout=W.Layout(width="100%"))
        self.follow_id = W.BoundedIntText(value=0, min=0, max=10**9, description="void #", style=style, layout=W.Layout(width="160px"))
        self.follow_button = W.Button(description="Follow", layout=W.Layout(width="70px"), tooltip="follow this void (or click it on the map)")
        self.hops_frame = W.Dropdown(options=_HOPS_CHOICES, value=_closest(_HOPS_CHOICES, hops_per_frame), description="hops/frame",
                                     style=style, layout=lay())
        self.window = W.Dropdown(options=_WINDOW_CHOICES, value=_closest(_WINDOW_CHOICES, window_hops), description="window", style=style,
                                 layout=lay())
        self.dynamics = W.ToggleButtons(options=[("hop by hop", "hop"), ("first passage", "first-passage")], value=dynamics,
                                        description="dynamics", style={"button_width": "95px", **style},
                                        tooltips=["every hop one by one", "isolated two-level voids' sojourns drawn whole: the same physics, "
                                                  "faster in a glass (energy fluctuations absent where sojourns end)"])
        self.run_button = W.ToggleButton(value=False, description="Run", button_style="success", layout=W.Layout(width="90px"))
        self.step_button = W.Button(description="Step", layout=W.Layout(width="80px"))
        self.reset_button = W.Button(description="Reset", layout=W.Layout(width="80px"), tooltip="build a new system")
        self.unfollow_button = W.Button(description="Clear followed", layout=W.Layout(width="120px"))
        self.export_dir = W.Text(value=EXPORT_DIR, description="export to", style=style, layout=lay())
        self.export_button = W.Button(description="Export HTML + PNG", layout=W.Layout(width="160px"))
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

    def _build_page(self) -> None:
        """The whole page (``widget``): the status line over the controls and the Bokeh boxes."""
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

    def _wanted_system(self) -> SystemConfig:
        return SystemConfig(**{k: self.w[k].value for k in _SYSTEM_FIELDS})

    def _rebind_bokeh(self) -> None:
        for k, b in self.bokeh.items():
            b.update_from_model(self.plots.parts[k])
        self._size_bokeh_boxes()

    def _box_px(self, part: str) -> str:
        """The width a Bokeh part needs on the page (its widest figure or table, and a margin)."""
        pl = self.plots
        w = {"map": pl.map.width, "tabs": max(f.width for f in pl.tab_figs.values()), "side": max(pl.trace.width, pl.table.width)}[part]
        return f"{int(w) + _BOX_MARGIN_PX}px"

    def _size_bokeh_boxes(self) -> None:
        """Each Bokeh box at its figures' width: the page sizes a box before BokehJS has measured
        it, and a box that shrinks lets its figures cover their neighbours (the map over the
        controls, the colour bar under the catalogue)."""
        for k, b in self.bokeh.items():
            b.layout.min_width = b.layout.width = self._box_px(k)

    def _say(self, text: str) -> None:
        self.message.value = html.escape(text)
