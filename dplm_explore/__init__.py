"""dplm-explore: the distinguishable-particle lattice model (DPLM) of glass formers.

Public API (modules and names starting with ``_`` are private):

* g(V) families: :class:`Uniform`, :class:`UniformDelta`, :class:`FermiGauss`, :func:`g_from_pdf`,
  :func:`make_g` (``dplm_explore.interactions``).
* The engine: :class:`Simulation`, :class:`SystemParams` (``dplm_explore.kmc``).
* Temperature programs: :func:`constant`, :func:`cooling`, :func:`heating`, :func:`chain`,
  :class:`Hold`, :class:`Ramp`, :class:`Program` (``dplm_explore.schedules``).
* The paper's analytic theory: ``dplm_explore.theory``.
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("dplm-explore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.1.0+src"

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
from . import theory  # noqa: E402

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
]
