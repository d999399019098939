"""The description of a system: :class:`SystemParams`, validated once, with one JSON form.

A system is the lattice size, the void density, the interaction distribution g(V) (any family of
:mod:`dplm_explore.interactions`), the attempt rate and how its initial state is made; the seed
and the temperature program are kept beside it. Every parameter but g is declared once, with its
default, bounds and help text (:func:`system_parameters`): the validation here and the
command-line options derive from the declaration. Every other description (the analyses' system
dicts, the app's configuration, a sweep's keys) is validated by building one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ._schema import Parameter, declared_parameters, param
from ._validate import T_MAX, T_MIN, temperature
from .interactions import GDistribution, Uniform, as_g

__all__ = ["SystemParams", "system_parameters", "W0_DEFAULT", "W0_MIN", "W0_MAX", "L_MIN", "INITS", "BONDS"]

#: the paper's attempt rate
W0_DEFAULT = 1e6
#: how an initial state is made: exact equilibrium at T_I, random (infinite T) or given
INITS = ("equilibrium", "random", "given")
#: how the neighbour bonds of the initial state are drawn: exact p_eq, or from g
BONDS = ("peq", "g")
#: attempt rates accepted (the paper's is 1e6): beyond them the total rate over- or underflows
W0_MIN = 1e-3
W0_MAX = 1e15
#: the smallest lattice: a void and its four neighbours on distinct sites
L_MIN = 3


@dataclass(frozen=True)
class SystemParams:
    """Everything that defines a system (the seed is kept beside it).

    L: linear size (sites L x L, periodic); phi_v: void density in (0, 1) (the realised value is
    ``n_voids / L^2``, rounded to the nearest integer count); g: interaction distribution;
    w0: attempt rate (default :data:`W0_DEFAULT`); init: 'equilibrium' (at T_I), 'random'
    (infinite T) or 'given' (explicit configuration); bonds: 'peq' (exact) or 'g' (neighbour
    bonds from g: deliberately out of equilibrium).
    """

    L: int = param(kind=int, lo=L_MIN, help="lattice size (L x L sites, periodic)")
    phi_v: float = param(lo=0.0, hi=1.0, lo_open=True, hi_open=True, help="void density (realised as the nearest whole number of voids)")
    g: GDistribution = field(default_factory=Uniform)
    w0: float = param(W0_DEFAULT, lo=W0_MIN, hi=W0_MAX, help="attempt rate w0")
    init: str = param("equilibrium", kind=str, choices=INITS,
                      help="how the initial state is made (equilibrium: exact, at T_I; random: infinite temperature; given: a configuration)")
    T_I: float | None = param(None, lo=T_MIN, hi=T_MAX, validate=temperature, help="temperature of the initial equilibrium state")
    bonds: str = param("peq", kind=str, choices=BONDS,
                       help="how the initial state's neighbour bonds are drawn (peq: exactly; g: from g, out of equilibrium)")

    def __post_init__(self):
        for name in ("L", "phi_v", "w0", "init", "bonds"):
            object.__setattr__(self, name, _DECLARED[name].check(getattr(self, name)))
        L, phi = self.L, self.phi_v
        nv = int(round(phi * L * L))
        if nv < 1:
            raise ValueError(f"phi_v={phi!r} on a {L}x{L} lattice gives no voids (phi_v * L^2 rounds to 0)")
        if nv >= L * L:
            raise ValueError(f"phi_v={phi!r} on a {L}x{L} lattice leaves no particles")
        if not isinstance(self.g, GDistribution):
            raise ValueError(f"g must be a g(V) distribution (e.g. Uniform(); as_g() makes one of a name or a dict); got {self.g!r}")
        if self.init == "equilibrium":
            if self.T_I is None:
                raise ValueError("T_I is required for an equilibrium initial state; got None")
            object.__setattr__(self, "T_I", _DECLARED["T_I"].check(self.T_I))

    @property
    def n_voids(self) -> int:
        return int(round(self.phi_v * self.L * self.L))

    @property
    def n_particles(self) -> int:
        return self.L * self.L - self.n_voids

    @property
    def phi_v_realised(self) -> float:
        return self.n_voids / (self.L * self.L)

    def to_dict(self) -> dict[str, Any]:
        """The one JSON form of a system (g as :meth:`GDistribution.to_dict`)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["g"] = self.g.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SystemParams":
        """Inverse of :meth:`to_dict` (``g`` as :func:`as_g` takes it); an unknown key is a
        ValueError."""
        unknown = set(d) - set(cls.keys())
        if unknown:
            raise ValueError(f"unknown system parameter(s) {sorted(unknown)}; a system has {list(cls.keys())}")
        return cls(**{**d, "g": as_g(d.get("g"))})

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The names of the parameters of a system, in their JSON order."""
        return tuple(f.name for f in fields(cls))


_DECLARED: dict[str, Parameter] = {p.name: p for p in declared_parameters(SystemParams)}


def system_parameters() -> dict[str, Parameter]:
    """Name -> declaration (:class:`~dplm_explore._schema.Parameter`: default, bounds or choices,
    help) of every parameter of :class:`SystemParams` but g (whose parameters its family declares)."""
    return dict(_DECLARED)
