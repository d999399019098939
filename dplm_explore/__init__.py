"""dplm-explore: the distinguishable-particle lattice model (DPLM) of glass formers.

Public API (modules and names starting with ``_`` are private):

* g(V) families: :class:`Uniform`, :class:`UniformDelta`, :class:`FermiGauss`, :func:`g_from_pdf`,
  :func:`make_g` (``dplm_explore.interactions``).
* The engine: :class:`Simulation`, :class:`SystemParams` (``dplm_explore.kmc``).
* Temperature programs: :func:`constant`, :func:`cooling`, :func:`heating`, :func:`chain`,
  :class:`Hold`, :class:`Ramp`, :class:`Program` (``dplm_explore.schedules``).
* The paper's analytic theory: ``dplm_explore.theory``.
* Measurements behind the paper's figures: ``dplm_explore.analysis`` (C_v, occupation maps, TLS,
  return probabilities, hop energies, diffusion), results with provenance (``results``), sweeps
  over parameters and seeds on local processes or Dask (``sweep``).
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("dplm-explore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.2.0+src"

from .interactions import (  # noqa: E402
    FermiGauss,
    GDistribution,
    TabulatedG,
    Uniform,
    UniformDelta,
    g_from_dict,
    g_from_pdf,
    make_g,
)
from .kmc import Simulation, SystemParams  # noqa: E402
from .schedules import Hold, Program, Ramp, chain, constant, cooling, heating  # noqa: E402
from . import analysis, results, sweep, theory  # noqa: E402
from .results import load_result  # noqa: E402
from .parallel import map_tasks  # noqa: E402
from .sweep import run_sweep  # noqa: E402

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
]
