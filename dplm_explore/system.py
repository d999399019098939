"""The description of a system: :class:`SystemParams`, validated once, with one JSON form.

A system is the lattice size, the void density, the interaction distribution g(V) (any family of
:mod:`dplm_explore.interactions`), the attempt rate and how its initial state is made; the seed
and the temperature program are kept beside it. Every other description (the analyses' system
dicts, the app's configuration, a sweep's keys) is validated by building one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ._validate import temperature
from .interactions import GDistribution, Uniform, as_g

__all__ = ["SystemParams", "W0_DEFAULT", "W0_MIN", "W0_MAX", "INITS", "BONDS"]

#: the paper's attempt rate
W0_DEFAULT = 1e6
#: how an initial state is made: exact equilibrium at T_I, random (infinite T) or given
INITS = ("equilibrium", "random", "given")
#: how the neighbour bonds of the initial state are drawn: exact p_eq, or from g
BONDS = ("peq", "g")
#: attempt rates accepted (the paper's is 1e6): beyond them the total rate over- or underflows
W0_MIN = 1e-3
W0_MAX = 1e15


@dataclass(frozen=True)
class SystemParams:
    """Everything that defines a system (the seed is kept beside it).

    L: linear size (sites L x L, periodic); phi_v: void density in (0, 1) (the realised value is
    ``n_voids / L^2``, rounded to the nearest integer count); g: interaction distribution;
    w0: attempt rate (default 1e6); init: 'equilibrium' (at T_I), 'random' (infinite T) or
    'given' (explicit configuration); bonds: 'peq' (exact) or 'g' (neighbour bonds from g:
    deliberately out of equilibrium).
    """

    L: int
    phi_v: float
    g: GDistribution = field(default_factory=Uniform)
    w0: float = W0_DEFAULT
    init: str = "equilibrium"
    T_I: float | None = None
    bonds: str = "peq"

    def __post_init__(self):
        L = self.L
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)) or L < 3:
            raise ValueError(f"L must be an integer >= 3; got {L!r}")
        object.__setattr__(self, "L", int(L))
        try:
            phi = float(self.phi_v)
        except (TypeError, ValueError):
            raise ValueError(f"phi_v must be a number in (0, 1); got {self.phi_v!r}") from None
        if not 0.0 < phi < 1.0:
            raise ValueError(f"phi_v must lie in (0, 1); got {self.phi_v!r}")
        object.__setattr__(self, "phi_v", phi)
        nv = int(round(phi * L * L))
        if nv < 1:
            raise ValueError(f"phi_v={phi!r} on a {L}x{L} lattice gives no voids (phi_v * L^2 rounds to 0)")
        if nv >= L * L:
            raise ValueError(f"phi_v={phi!r} on a {L}x{L} lattice leaves no particles")
        if not isinstance(self.g, GDistribution):
            raise ValueError(f"g must be a g(V) distribution (e.g. Uniform(); as_g() makes one of a name or a dict); got {self.g!r}")
        try:
            w0 = float(self.w0)
        except (TypeError, ValueError):
            raise ValueError(f"w0 must be a positive number; got {self.w0!r}") from None
        if not (W0_MIN <= w0 <= W0_MAX):
            raise ValueError(f"w0 must lie in [{W0_MIN:g}, {W0_MAX:g}]; got {self.w0!r}")
        object.__setattr__(self, "w0", w0)
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {self.init!r}")
        if self.init == "equilibrium":
            if self.T_I is None:
                raise ValueError("T_I is required for an equilibrium initial state; got None")
            try:
                T_I = float(self.T_I)
            except (TypeError, ValueError):
                raise ValueError(f"T_I must be a positive number; got {self.T_I!r}") from None
            temperature("T_I", T_I)
            object.__setattr__(self, "T_I", T_I)
        if self.bonds not in BONDS:
            raise ValueError(f"bonds must be 'peq' or 'g'; got {self.bonds!r}")

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
