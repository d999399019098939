"""The explorer's drawing: the newest frame of the run onto the figures, at most ``fps`` times a
second, from an asyncio task on the kernel's event loop (so Bokeh models are only touched on that
loop); the status line and the program's progress bar; g(V) and p_eq(V; T) following T; and the
pause of a run whose page has gone away.
"""

from __future__ import annotations

import asyncio
import html
import time

from ._bokeh_page import one_patch
from .runner import SystemConfig

#: seconds without an acknowledgement from a page that did acknowledge before, with frames
#: waiting, after which the run pauses (the page is gone)
PAGE_GONE_S = 10.0
#: the most frames drawn per second that an explorer may ask for
MAX_FPS = 120
#: seconds over which the frames drawn per second are counted
_FPS_WINDOW_S = 2.0
#: seconds between redraws of p_eq(V; T now) while T follows a ramp
_G_FOLLOW_S = 1.0
#: seconds between updates of the status line and the progress bar while running
_STATUS_EVERY_S = 0.25
#: seconds without an acknowledgement from the page after which a frame is drawn anyway
_UNACKED_DRAW_S = 1.0
#: seconds the drawing task sleeps between looks at the run
_LOOK_EVERY_S = 0.01


class Drawing:
    """The explorer's drawing (a base of :class:`~.explorer.Explorer`). It draws the explorer's
    ``runner`` into its ``plots`` and ``bokeh`` widgets and its status, progress and message
    widgets, and calls its ``pause``, ``_say``, ``_set_run_button`` and ``_poll_export``."""

    def _init_drawing(self, fps: float) -> None:
        if not (isinstance(fps, (int, float)) and 0 < fps <= MAX_FPS):
            raise ValueError(f"fps must be in (0, {MAX_FPS}]; got {fps!r}")
        self.fps = float(fps)
        self._last_draw = 0.0
        self._status_t = 0.0
        self._draw_times: list[float] = []
        self._task: asyncio.Task | None = None
        self._closed = False

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
        self._draw_times = [t for t in self._draw_times if now - t < _FPS_WINDOW_S] + [now]
        # one patch per Bokeh document (the first frame is drawn before the widgets exist)
        with one_patch(getattr(self, "bokeh", {}).values()):
            self.plots.draw(frame)
            # p_eq(V; T now) follows a ramp once a second (each redraw repaints the g(V) plot)
            if frame.T != self._g_T and (force or not r.running or now - self._g_t >= _G_FOLLOW_S):
                self._preview_g(self._g_shown)
        # the status line and progress bar are page DOM (each change restyles the page): 4 a second
        if force or not r.running or now - self._status_t >= _STATUS_EVERY_S:
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
                if since >= period and (acked or since >= _UNACKED_DRAW_S):
                    self.pump_once()
            except Exception as exc:  # keep drawing; show what went wrong
                self.message.value = f"<span style='color:crimson'>Drawing failed: {html.escape(repr(exc))}</span>"
            await asyncio.sleep(_LOOK_EVERY_S)

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
