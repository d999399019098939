"""The paper's figures (Figs. 1-10 of Gao et al. 2021), drawn with Bokeh from our own results.

* :mod:`._factories` — one factory per figure, pure drawing (results in, layout out);
* :mod:`._data` — :class:`FigureData`, the results of one figure with provenance, in one file;
* :mod:`._registry` — :data:`FIGURES`: each figure's quick recipe, its paper-scale campaign jobs
  and its drawing; :func:`figure_data` loads the shipped paper-scale data.
"""

from ._data import FIGURE_DATA_FORMAT, FigureData, load_figure_data
from ._factories import (diffusion_figure, glycerol_figure, high_TI_figure, multilevel_figure, occupation_figure, q_figure, returns_figure,
                         specific_heat_figure, tls_figure, tls_temperatures_figure, void_density_figure)
from ._registry import DATA_DIR, FIGURES, SCALES, FigureSpec, figure_data, shipped_path

__all__ = [
    "FIGURES", "FigureSpec", "FigureData", "SCALES", "FIGURE_DATA_FORMAT", "DATA_DIR", "load_figure_data", "figure_data", "shipped_path",
    "specific_heat_figure", "occupation_figure", "tls_figure", "returns_figure", "q_figure", "diffusion_figure", "glycerol_figure",
    "void_density_figure", "high_TI_figure", "tls_temperatures_figure", "multilevel_figure",
]
