"""Drawing kit shared by the figure factories: one look for every paper figure.

Colours are the Okabe-Ito palette (colour-blind safe); every series gets its own colour and
marker; legends hang on renderers with data (so BokehJS draws their swatches) at 11 pt."""

from __future__ import annotations

import numpy as np

W, H = 460, 360
#: Okabe-Ito
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("circle", "square", "triangle", "diamond", "inverted_triangle", "hex", "star", "plus")
PAPER_COLOR = "#777777"
LEGEND_FONT = "11pt"
NOTE_FONT = "10pt"


def figure(title: str, x_label: str, y_label: str, **kw):
    from bokeh.models import BasicTickFormatter, LogTickFormatter
    from bokeh.plotting import figure as bk_figure

    kw.setdefault("width", W)
    kw.setdefault("height", H)
    p = bk_figure(title=title, x_axis_label=x_label, y_axis_label=y_label, tools="pan,box_zoom,wheel_zoom,reset,save,hover", **kw)
    p.toolbar.logo = None
    for ax in (p.xaxis, p.yaxis):
        if not isinstance(ax[0].formatter, LogTickFormatter):
            ax[0].formatter = BasicTickFormatter(power_limit_low=-3, power_limit_high=4)
        ax[0].ticker.desired_num_ticks = 5
    p.axis.major_label_text_font_size = "11pt"
    p.axis.axis_label_text_font_size = "12pt"
    return p


def finish(p) -> None:
    if p.legend:
        p.legend.click_policy = "hide"
        p.legend.label_text_font_size = LEGEND_FONT
        p.legend.background_fill_alpha = 0.7


def points(p, x, y, err=None, *, color, label, marker="circle", size=7, fill=True):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if err is not None:
        e = np.asarray(err, float)
        good = ok & np.isfinite(e)
        if good.any():
            p.segment(x[good], (y - e)[good], x[good], (y + e)[good], color=color, alpha=0.6)
    if ok.any():
        p.scatter(x[ok], y[ok], marker=marker, size=size, line_color=color, fill_color=color if fill else "white", line_width=1.5, legend_label=label)


def curve(p, x, y, *, color, label=None, dash="solid", width=2, step=False):
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return
    kw = {"legend_label": label} if label else {}
    if step:
        p.step(x[ok], y[ok], mode="after", color=color, line_dash=dash, line_width=width, **kw)
    else:
        p.line(x[ok], y[ok], color=color, line_dash=dash, line_width=width, **kw)


def paper_mark(p, x, y, text: str, *, marker="x", offset=(6, 4)):
    """A grey reference mark for a number the paper reports (never our result), labelled
    ``paper: text`` at ``offset`` (dx, dy) screen units from it: right of it and above when positive,
    left of it and below when negative."""
    from bokeh.models import Label

    dx, dy = offset
    p.scatter([x], [y], marker=marker, size=12, color=PAPER_COLOR, line_width=2, legend_label="paper (reference)")
    p.add_layout(Label(x=x, y=y, text=f"paper: {text}", text_font_size=NOTE_FONT, text_color=PAPER_COLOR, x_offset=dx, y_offset=dy,
                       text_align="right" if dx < 0 else "left", text_baseline="top" if dy < 0 else "bottom"))


def note(p, text: str):
    from bokeh.models import Title

    p.add_layout(Title(text=text, text_font_size=NOTE_FONT, text_font_style="italic", text_color=PAPER_COLOR), "below")
