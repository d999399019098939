"""The live explorer (JupyterLab and Voila): ``from dplm_explore.app import Explorer; Explorer().show()``.

* :mod:`.runner` — what the user asked for (:class:`SystemConfig`, :class:`ProgramConfig`) and the
  simulation advancing in frames on a background thread (:class:`Runner`, :class:`Frame`);
* :mod:`.plots` — the Bokeh figures, fed from frames (:class:`LivePlots`);
* :mod:`.explorer` — the explorer (:class:`Explorer`), wiring its controls to the run; its
  widgets and layout are in :mod:`._controls`, the drawing loop in :mod:`._drawing`, exports in
  :mod:`._exporting`, the lesson presets in :mod:`._presets` and BokehJS in the page in
  :mod:`._bokeh_page`;
* :mod:`.serve` — ``dplm-explore app``: the explorer served by Voila on localhost.

Needs the ``app`` extra (ipywidgets, bokeh, jupyter_bokeh, voila).
"""

from .runner import Frame, ProgramConfig, Runner, SystemConfig

__all__ = ["Explorer", "LivePlots", "Runner", "Frame", "SystemConfig", "ProgramConfig", "load_bokehjs"]


def __getattr__(name):
    # the widget and Bokeh parts import lazily, so the runner works without a Jupyter stack
    if name in ("Explorer", "load_bokehjs"):
        from . import explorer

        return getattr(explorer, name)
    if name == "LivePlots":
        from .plots import LivePlots

        return LivePlots
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
