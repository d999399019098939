"""The live explorer: ipywidgets controls around the Bokeh figures of :mod:`.plots`.

The simulation runs on a background thread (:class:`~.runner.Runner`); an asyncio task on the
kernel's event loop draws the newest frame at up to ``fps`` frames per second, so Bokeh models are
only touched on that loop. Without a running loop (a plain script, the tests) call
:meth:`Explorer.pump_once` to draw.

Parameters that define the system (L, phi_v, g(V), the initial state, T_I, seed, w0) are *pending*
until Reset: the app says so next to the Reset button and never resets by itself. Program, frame
and window settings apply at once.

:class:`Explorer` wires its parts together and answers the controls: the widgets and their layout
come from :mod:`._controls`, the drawing loop from :mod:`._drawing`, exports from
:mod:`._exporting`, the lesson presets from :mod:`._presets` and BokehJS in the page from
:mod:`._bokeh_page`.
"""

from __future__ import annotations

import html
from pathlib import Path

from ._bokeh_page import bokeh_widget, load_bokehjs
from ._controls import Controls
from ._drawing import PAGE_GONE_S, Drawing  # noqa: F401 (the page-gone delay is the explorer's too)
from ._exporting import EXPORT_FORMATS, EXPORT_ROOT_ENV, ExportWorker, export_folder, export_job, snapshot_layout  # noqa: F401 (and the export root)
from ._presets import PRESETS, Preset  # noqa: F401 (and the presets' type)
from .plots import LivePlots, nearest_void
from .runner import ProgramConfig, Runner, SystemConfig

__all__ = ["Explorer", "load_bokehjs"]


class Explorer(Drawing, Controls):
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
        self._init_drawing(fps)
        self.runner = runner
        self.plots = LivePlots(runner.sim.params.L, on_tap=self.tap, on_select=self.follow_number)
        self._exports = ExportWorker()
        self._export_dir: Path | None = None
        self._build_widgets(self.system, program, hops_per_frame, window_hops, runner.sim.dynamics)
        self._wire_widgets()
        self._apply_system_plots()
        self.pump_once(force=True)
        # the widget takes the figures as they are now: draw first (patches sent before a view
        # exists are lost)
        self.bokeh = {k: bokeh_widget(m) for k, m in self.plots.parts.items()}
        self._build_page()

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

    # ------------------------------------------------------------------ wiring
    def _wire_widgets(self) -> None:
        """Each control to what it does."""
        for wid in self.w.values():
            wid.observe(self._on_system_change, names="value")
        for wid in (self.mode, self.T_target, self.nu):
            wid.observe(self._on_program_edit, names="value")
        self.apply_button.on_click(lambda _: self._on_program_change())
        self.preset.observe(self._on_preset, names="value")
        self.follow_button.on_click(lambda _: self.follow_number(self.follow_id.value))
        self.hops_frame.observe(self._on_frame_change, names="value")
        self.window.observe(self._on_frame_change, names="value")
        self.dynamics.observe(self._on_dynamics, names="value")
        self.run_button.observe(self._on_run_toggle, names="value")
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.unfollow_button.on_click(lambda _: self.follow(()))
        self.export_button.on_click(lambda _: self.export_in_background())

    # ------------------------------------------------------------------ handlers (idempotent)
    def _on_dynamics(self, change=None) -> None:
        """Switch how the running system is advanced (takes effect at the next frame)."""
        self.runner.set_dynamics(self.dynamics.value)

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

    # ------------------------------------------------------------------ export
    def export(self, directory=None, formats=EXPORT_FORMATS) -> list[Path]:
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

    def export_in_background(self, directory=None, formats=EXPORT_FORMATS):
        """:meth:`export` on a worker thread, so that frames go on being drawn while the
        browser renders the PNG; the status line says when it is done (with the absolute
        paths). Returns the ``concurrent.futures.Future`` of ``(written, failures)``, or None
        when the folder was refused or an export is still running."""
        if self._exports.busy:
            self._say("An export is still running.")
            return None
        job = self._export_job_for(directory, formats)
        if job is None:
            return None
        self.export_button.disabled = True
        self.message.value = f"Exporting into {html.escape(str(self._export_dir))} …"
        return self._exports.submit(job)

    def _export_job_for(self, directory, formats):
        """A function writing the export, or None (after saying why) when the folder is refused."""
        try:
            d = export_folder(directory or self.export_dir.value)
        except ValueError as exc:
            self.message.value = f"<span style='color:crimson'>Export refused: {html.escape(str(exc))}</span>"
            return None
        self._export_dir = d
        stem = f"dplm_L{self.system.L}_seed{self.system.seed}_hop{self.runner.latest.hops}"
        return export_job(d, stem, formats, self.runner.latest, self.plots.check.text, self.system, self.runner.theory)

    def _report_export(self, out, failed) -> None:
        if not out:
            self.message.value = f"<span style='color:crimson'>Export failed: {html.escape('; '.join(failed))}</span>"
            return
        self._say("Exported " + ", ".join(str(p) for p in out) + (". " + "; ".join(failed) if failed else ""))

    def _poll_export(self) -> bool:
        """Report a background export that has finished (on the drawing loop); returns whether
        it reported."""
        done = self._exports.finished()
        if done is None:
            return False
        self.export_button.disabled = False
        self._report_export(*done)
        return True

    def snapshot(self):
        """The current figures as one new Bokeh layout (for export; the app's own figures stay
        where they are)."""
        return snapshot_layout(self.runner.latest, self.plots.check.text, self.system, self.runner.theory)

    # ------------------------------------------------------------------ page
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
        self._exports.shutdown()
        self.widget.close()
        for b in self.bokeh.values():
            b.close()

    # ------------------------------------------------------------------ helpers
    def _describe(self, prog: ProgramConfig) -> str:
        if prog.mode == "hold":
            return f"hold T = {prog.T:g} (at once)"
        return f"{prog.mode} to T = {prog.T:g} at ν = {prog.nu:.2g}, then hold"

    def _set_run_button(self, on: bool) -> None:
        if self.run_button.value != on:
            self.run_button.unobserve(self._on_run_toggle, names="value")
            self.run_button.value = on
            self.run_button.observe(self._on_run_toggle, names="value")
        self.run_button.description = "Pause" if on else "Run"
        self.run_button.button_style = "warning" if on else "success"
