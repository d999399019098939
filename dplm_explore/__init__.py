"""dplm-explore: the distinguishable-particle lattice model (DPLM) of glass formers.

Public API (everything else is private):

* g(V) families: :class:`Uniform`, :class:`UniformDelta`, :class:`FermiGauss`, :func:`g_from_pdf`,
  :func:`make_g`.
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
]
