"""dplm-explore: the distinguishable-particle lattice model (DPLM) of glass formers.

Public API (modules and names starting with ``_`` are private):

* g(V) families: :class:`Uniform`, :class:`UniformDelta`, :class:`FermiGauss`, :func:`g_from_pdf`,
  :func:`make_g`, :func:`as_g`, their declared parameters :func:`g_parameters`
  (``dplm_explore.interactions``; a new family is one class there).
* A system: :class:`SystemParams` (``dplm_explore.system``); the engine: :class:`Simulation`
  (``dplm_explore.kmc``); how runners run: :class:`RunOptions` (``dplm_explore.parallel``).
* Temperature programs: :func:`constant`, :func:`cooling`, :func:`heating`, :func:`chain`,
  :class:`Hold`, :class:`Ramp`, :class:`Program` (``dplm_explore.schedules``).
* The paper's analytic theory: ``dplm_explore.theory``.
* Measurements behind the paper's figures: ``dplm_explore.analysis`` (C_v, occupation maps, TLS,
  return probabilities, hop energies, diffusion), results with provenance (``results``), sweeps
  over parameters and seeds on local processes or Dask (``sweep``).
"""

from ._version import __version__
from .interactions import (
    FermiGauss,
    GDistribution,
    TabulatedG,
    Uniform,
    UniformDelta,
    as_g,
    g_from_dict,
    g_from_pdf,
    g_parameters,
    make_g,
)
from .kmc import Simulation, SystemParams
from .schedules import Hold, Program, Ramp, chain, constant, cooling, heating
from . import analysis, results, sweep, theory
from .results import load_result
from .parallel import RunOptions, map_tasks
from .sweep import run_sweep

__all__ = [
    "__version__",
    "GDistribution",
    "Uniform",
    "UniformDelta",
    "FermiGauss",
    "TabulatedG",
    "g_from_pdf",
    "make_g",
    "g_from_dict",
    "as_g",
    "g_parameters",
    "Simulation",
    "SystemParams",
    "Hold",
    "Ramp",
    "Program",
    "constant",
    "cooling",
    "heating",
    "chain",
    "theory",
    "analysis",
    "results",
    "sweep",
    "load_result",
    "run_sweep",
    "map_tasks",
    "RunOptions",
]
