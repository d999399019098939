"""Interaction distributions g(V) and the lazily hashed pair-interaction table.

Every family is a *continuous part* (a density on ``support``, possibly carrying less than unit
mass) plus optional *atoms* (point masses ``(location, weight)``). From that one description the
base class derives the cdf, the inverse cdf, sampling, the bond partition function
``Z_b(T) = integral g(V) exp(-V/T) dV`` and the equilibrium bond distribution
``p_eq(V; T) = g(V) exp(-V/T) / Z_b(T)`` (paper Eq. A14) with its sampler. The three families of the
paper override the numerics with closed forms where they exist.

A family is one class: a frozen dataclass with a ``family`` name, its parameters declared as
fields with :func:`g_param` (default, bounds, help text), a :attr:`~GDistribution.support` and a
:meth:`~GDistribution.density` (see :class:`Exponential`). Defining the class registers it in
:data:`G_FAMILIES`; the validation, the JSON form (:meth:`~GDistribution.to_dict`,
:func:`g_from_dict`), the command-line options, the app's fields and the sweep keys all derive from
the declaration (:func:`g_parameters`). :func:`as_g` is the one normalisation of a g given as an
object, a dict or a family name. A density known only numerically: :func:`g_from_pdf`.

Definitions follow ``docs/physics.md`` section 2 (units: k_B = 1, energies in units of the
interaction scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, ClassVar

import numpy as np
from scipy import integrate, special

from ._schema import Parameter, declared_parameters, g_param
from ._validate import finite, positive
from ._ginv import KIND_AFFINE, KIND_TABLE, KIND_UNIFORM_DELTA, _ginv, _invert_cdf, _nodes_with_atoms, _pair_V  # noqa: F401 (the kernels import them from here)

__all__ = [
    "GDistribution",
    "Uniform",
    "UniformDelta",
    "FermiGauss",
    "Exponential",
    "TabulatedG",
    "Parameter",
    "g_param",
    "g_from_pdf",
    "make_g",
    "g_from_dict",
    "as_g",
    "g_families",
    "g_parameters",
    "G_FAMILIES",
    "DEFAULT_G_FAMILY",
]

_N_TABLE = 1 << 16  # nodes of a tabulated inverse cdf (512 kB)
_N_GRID = 1 << 15  # nodes of a tabulated density


#: family name -> class, filled as each family class is defined (:meth:`GDistribution.__init_subclass__`)
G_FAMILIES: dict[str, type["GDistribution"]] = {}
_ALIASES: dict[str, type["GDistribution"]] = {}
#: family of a g given as None
DEFAULT_G_FAMILY = "uniform"


def _check_T(T: Any) -> float:
    return positive("T", T)


@dataclass(frozen=True)
class GDistribution:
    """Base class of an interaction distribution g(V).

    Subclasses set ``family`` (registering the class in :data:`G_FAMILIES`; ``aliases``: other
    accepted names), declare their parameters as :func:`g_param` fields (checked against their
    bounds on construction) and define :meth:`density` (the continuous part, atoms excluded),
    :attr:`support` ``(lo, hi)`` of the continuous part (finite) and :attr:`atoms`. Masses must
    add up to one. ``parametric = False`` marks a family that is not described by numbers alone
    (a table): it is not offered as options.
    """

    family: ClassVar[str] = "abstract"
    aliases: ClassVar[tuple[str, ...]] = ()
    parametric: ClassVar[bool] = True

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        name = cls.__dict__.get("family")
        if name is None:
            return
        for key in (name, *cls.__dict__.get("aliases", ())):
            old = G_FAMILIES.get(key) or _ALIASES.get(key)
            if old is not None and old.__qualname__ != cls.__qualname__:
                raise ValueError(f"g family name {key!r} is taken by {old.__qualname__}")
        G_FAMILIES[name] = cls
        for alias in cls.__dict__.get("aliases", ()):
            _ALIASES[alias] = cls

    def __post_init__(self):
        for p in declared_parameters(type(self)):
            object.__setattr__(self, p.name, p.check(getattr(self, p.name)))

    # ------------------------------------------------------------------ to be provided
    @property
    def support(self) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def atoms(self) -> tuple[tuple[float, float], ...]:
        """Point masses ``((location, weight), ...)``; empty for a purely continuous g."""
        return ()

    def density(self, V):  # pragma: no cover - abstract
        """Density of the continuous part of g at ``V`` (zero outside the support)."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """The declared parameters and their values (with ``family``, the JSON form)."""
        return {p.name: getattr(self, p.name) for p in declared_parameters(type(self))}

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "GDistribution":
        """Inverse of :meth:`params`; a key the family does not declare is a ValueError."""
        allowed = [p.name for p in declared_parameters(cls)]
        unknown = set(params) - set(allowed)
        if unknown:
            given = ", ".join(f"{k}={params[k]!r}" for k in sorted(unknown))
            raise ValueError(f"unknown parameter(s) {given} for g family {cls.family!r}; allowed: {sorted(allowed)}")
        return cls(**params)

    # ------------------------------------------------------------------ derived numerics
    def pdf(self, V):
        """Continuous part of g(V); the atoms (see :attr:`atoms`) carry the rest of the mass."""
        return self.density(V)

    @cached_property
    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(V grid, cdf of the continuous part on it) for the generic numerics."""
        lo, hi = self.support
        V = np.linspace(lo, hi, _N_GRID + 1)
        c = integrate.cumulative_trapezoid(np.asarray(self.density(V), float), V, initial=0.0)
        return V, c

    @property
    def continuous_mass(self) -> float:
        return 1.0 - sum(w for _, w in self.atoms)

    def cdf(self, V):
        """P(V' <= V), atoms included (right-continuous)."""
        Vg, c = self._grid
        V = np.asarray(V, float)
        out = np.interp(V, Vg, c, left=0.0, right=c[-1])
        for loc, w in self.atoms:
            out = out + w * (V >= loc)
        return out if out.ndim else float(out)

    def ppf(self, u):
        """Inverse cdf: the smallest V with cdf(V) >= u, for u in [0, 1]."""
        return self._ppf_from_table(u, self.inverse_cdf_table)

    @staticmethod
    def _ppf_from_table(u, table):
        u = np.asarray(u, float)
        x = u * (table.size - 1)
        i = np.clip(x.astype(np.int64), 0, table.size - 2)
        f = x - i
        out = table[i] + f * (table[i + 1] - table[i])
        return out if out.ndim else float(out)

    @cached_property
    def inverse_cdf_table(self) -> np.ndarray:
        """Inverse cdf on ``_N_TABLE + 1`` equally spaced u in [0, 1] (linear in between)."""
        return _invert_cdf(self._cdf_nodes(), np.linspace(0.0, 1.0, _N_TABLE + 1))

    def _cdf_nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Monotone (V, cdf) nodes with atoms as vertical jumps, for inversion."""
        Vg, c = self._grid
        return _nodes_with_atoms(Vg, c, self.atoms)

    def sample(self, size, rng: np.random.Generator):
        """``size`` independent draws from g."""
        return self.ppf(rng.random(size))

    def mean(self) -> float:
        Vg, _ = self._grid
        m = float(integrate.trapezoid(Vg * self.density(Vg), Vg))
        return m + sum(loc * w for loc, w in self.atoms)

    # -------------------------------------------------------------- equilibrium bonds (A14)
    def _peq_grid(self, T: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Grid resolving exp(-V/T) on the support: (V, density * exp(-(V - lo)/T), lo)."""
        lo, hi = self.support
        top = min(hi, lo + 80.0 * T)
        V = np.linspace(lo, top, _N_GRID + 1)
        w = np.asarray(self.density(V), float) * np.exp(-(V - lo) / T)
        return V, w, lo

    def Z_b(self, T) -> float:
        """Bond partition function Z_b(T) = integral g(V) exp(-V/T) dV."""
        T = _check_T(T)
        V, w, lo = self._peq_grid(T)
        cont = float(integrate.trapezoid(w, V)) * math.exp(-lo / T)
        return cont + sum(wt * math.exp(-loc / T) for loc, wt in self.atoms)

    def log_Z_b(self, T) -> float:
        """log Z_b(T), computed with the Boltzmann factor shifted to the lowest V so that it
        neither underflows at low T nor overflows for negative interactions."""
        T = _check_T(T)
        lo = min([self.support[0]] + [loc for loc, _ in self.atoms])
        V, w, lo_c = self._peq_grid(T)
        cont = float(integrate.trapezoid(w, V)) * math.exp(-(lo_c - lo) / T)
        total = cont + sum(wt * math.exp(-(loc - lo) / T) for loc, wt in self.atoms)
        return -lo / T + math.log(total)

    def peq_pdf(self, V, T):
        """Continuous part of p_eq(V; T) = g(V) exp(-V/T) / Z_b(T)."""
        T = _check_T(T)
        V = np.asarray(V, float)
        return self.density(V) * np.exp(-V / T) / self.Z_b(T)

    def peq_atoms(self, T) -> tuple[tuple[float, float], ...]:
        """Atoms of p_eq at temperature T: ``((location, weight), ...)``."""
        T = _check_T(T)
        Z = self.Z_b(T)
        return tuple((loc, w * math.exp(-loc / T) / Z) for loc, w in self.atoms)

    def peq_ppf(self, u, T):
        """Inverse cdf of p_eq(V; T)."""
        T = _check_T(T)
        V, w, lo = self._peq_grid(T)
        Z = self.Z_b(T)
        c = integrate.cumulative_trapezoid(w, V, initial=0.0) * (math.exp(-lo / T) / Z)
        return _invert_cdf(_nodes_with_atoms(V, c, self.peq_atoms(T)), np.asarray(u, float))

    def sample_peq(self, size, T, rng: np.random.Generator):
        """``size`` independent draws from p_eq(V; T)."""
        return self.peq_ppf(rng.random(size), T)

    def mean_peq(self, T) -> float:
        """<V> under p_eq(V; T)."""
        T = _check_T(T)
        V, w, lo = self._peq_grid(T)
        cont = float(integrate.trapezoid(V * w, V)) * math.exp(-lo / T)
        cont += sum(loc * wt * math.exp(-loc / T) for loc, wt in self.atoms)
        return cont / self.Z_b(T)

    # ------------------------------------------------------------------ kernel & io
    def kernel_spec(self) -> tuple[int, np.ndarray, np.ndarray]:
        """(kind, params float64[4], table float64[M]) for the in-kernel inverse cdf."""
        return KIND_TABLE, np.zeros(4), np.ascontiguousarray(self.inverse_cdf_table)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, **self.params()}

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params().items() if not isinstance(v, list))
        return f"{self.family}({args})"


# ============================================================================ families
@dataclass(frozen=True)
class Uniform(GDistribution):
    """g(V) uniform on [V0, V0 + dV] (paper: V0 = 0, dV = 1)."""

    V0: float = g_param(0.0, help="lower end V0 of the interaction range")
    dV: float = g_param(1.0, lo=0.0, lo_open=True, help="width dV of the interaction range")
    family = "uniform"

    @property
    def support(self):
        return (self.V0, self.V0 + self.dV)

    def density(self, V):
        V = np.asarray(V, float)
        return np.where((V >= self.V0) & (V <= self.V0 + self.dV), 1.0 / self.dV, 0.0)

    def cdf(self, V):
        out = np.clip((np.asarray(V, float) - self.V0) / self.dV, 0.0, 1.0)
        return out if out.ndim else float(out)

    def ppf(self, u):
        out = self.V0 + self.dV * np.asarray(u, float)
        return out if out.ndim else float(out)

    def mean(self):
        return self.V0 + 0.5 * self.dV

    def Z_b(self, T):
        T = _check_T(T)
        return T / self.dV * math.exp(-self.V0 / T) * -math.expm1(-self.dV / T)

    def log_Z_b(self, T):
        T = _check_T(T)
        return -self.V0 / T + math.log(T / self.dV * -math.expm1(-self.dV / T))

    def peq_pdf(self, V, T):
        T = _check_T(T)
        V = np.asarray(V, float)
        x = V - self.V0
        inside = (x >= 0) & (x <= self.dV)
        return np.where(inside, np.exp(-np.clip(x, 0, None) / T) / (T * -math.expm1(-self.dV / T)), 0.0)

    def peq_ppf(self, u, T):
        # truncated exponential on [V0, V0 + dV]
        T = _check_T(T)
        u = np.asarray(u, float)
        out = self.V0 - T * np.log1p(u * math.expm1(-self.dV / T))
        out = np.clip(out, self.V0, self.V0 + self.dV)
        return out if out.ndim else float(out)

    def mean_peq(self, T):
        T = _check_T(T)
        a = self.dV / T
        if a > 700:
            return self.V0 + T
        # <x> of exp(-x/T) on [0, dV] = T - dV / (exp(a) - 1)
        return self.V0 + T - self.dV / math.expm1(a)

    def kernel_spec(self):
        return KIND_AFFINE, np.array([self.V0, self.dV, 0.0, 0.0]), np.zeros(2)


@dataclass(frozen=True)
class UniformDelta(GDistribution):
    """Uniform-plus-delta, paper Eq. (11): weight G0 uniform on [0, dV], weight 1 - G0 at V = dV."""

    G0: float = g_param(0.2, lo=0.0, hi=1.0, help="weight G0 of the low-energy (continuous) part")
    dV: float = g_param(1.0, lo=0.0, lo_open=True, help="width dV of the interaction range (the delta sits at dV)")
    family = "uniform-delta"
    aliases = ("uniform-plus-delta",)

    @property
    def support(self):
        return (0.0, self.dV)

    @property
    def atoms(self):
        return ((self.dV, 1.0 - self.G0),) if self.G0 < 1.0 else ()

    def density(self, V):
        V = np.asarray(V, float)
        return np.where((V >= 0) & (V <= self.dV), self.G0 / self.dV, 0.0)

    def cdf(self, V):
        V = np.asarray(V, float)
        out = np.clip(V / self.dV, 0.0, 1.0) * self.G0 + (1.0 - self.G0) * (V >= self.dV)
        return out if out.ndim else float(out)

    def ppf(self, u):
        u = np.asarray(u, float)
        if self.G0 > 0:
            out = np.where(u < self.G0, self.dV * u / self.G0, self.dV)
        else:
            out = np.full_like(u, self.dV)
        return out if out.ndim else float(out)

    def mean(self):
        return self.G0 * 0.5 * self.dV + (1 - self.G0) * self.dV

    def Z_b(self, T):
        T = _check_T(T)
        return self.G0 * T / self.dV * -math.expm1(-self.dV / T) + (1 - self.G0) * math.exp(-self.dV / T)

    def log_Z_b(self, T):
        return math.log(self.Z_b(T))

    def peq_ppf(self, u, T):
        T = _check_T(T)
        u = np.asarray(u, float)
        Z = self.Z_b(T)
        w_cont = self.G0 * T / self.dV * -math.expm1(-self.dV / T) / Z
        if w_cont > 0:
            v = -T * np.log1p(np.minimum(u / w_cont, 1.0) * math.expm1(-self.dV / T))
        else:
            v = np.full_like(u, self.dV)
        out = np.where(u < w_cont, np.clip(v, 0.0, self.dV), self.dV)
        return out if out.ndim else float(out)

    def kernel_spec(self):
        return KIND_UNIFORM_DELTA, np.array([self.G0, self.dV, 0.0, 0.0]), np.zeros(2)


@dataclass(frozen=True)
class FermiGauss(GDistribution):
    """Fermi-plus-Gaussian, paper Eqs. (12)-(14) with the sigma_V erratum, normalised on V >= 0.

    g(V) proportional to G0 / (1 + exp((V - dV)/sigma_V))
    + (1 - G0) exp(-(V - dV)^2 / (2 sigma_V^2)) / (sqrt(2 pi) sigma_V), V >= 0.
    """

    G0: float = g_param(0.2, lo=0.0, hi=1.0, help="weight G0 of the low-energy (Fermi) part")
    sigma_V: float = g_param(0.1, lo=0.0, lo_open=True, help="width sigma_V of the Fermi edge and of the Gaussian")
    dV: float = g_param(1.0, lo=0.0, lo_open=True, help="position dV of the Fermi edge and of the Gaussian peak")
    family = "fermi-gauss"
    aliases = ("fermi-plus-gaussian", "fermi-gaussian")

    @property
    def support(self):
        return (0.0, self.dV + 40.0 * self.sigma_V)

    def _raw(self, V):
        V = np.asarray(V, float)
        s = self.sigma_V
        fermi = special.expit(-(V - self.dV) / s)
        gau = np.exp(-((V - self.dV) ** 2) / (2 * s * s)) / (math.sqrt(2 * math.pi) * s)
        return np.where(V >= 0, self.G0 * fermi + (1 - self.G0) * gau, 0.0)

    @cached_property
    def norm(self) -> float:
        """Integral of the unnormalised g over V >= 0 (1 + O(1e-6) for the paper's parameters)."""
        s, d = self.sigma_V, self.dV
        fermi = s * np.logaddexp(0.0, d / s)  # integral_0^inf of the Fermi function
        gau = special.ndtr(d / s)  # integral_0^inf of the normalised Gaussian
        return float(self.G0 * fermi + (1 - self.G0) * gau)

    def density(self, V):
        return self._raw(V) / self.norm


@dataclass(frozen=True)
class Exponential(GDistribution):
    """Exponential g on the interaction range [V0, V0 + dV]:
    g(V) = exp(-(V - V0)/lambda_V) / (lambda_V (1 - exp(-dV/lambda_V))).

    Only the density is given: the cdf, sampling, Z_b, p_eq and the kernel's inverse-cdf table
    are the base class's numerics."""

    V0: float = g_param(0.0, help="lower end V0 of the interaction range")
    dV: float = g_param(1.0, lo=0.0, lo_open=True, help="width dV of the interaction range")
    lambda_V: float = g_param(0.3, lo=0.0, lo_open=True, help="decay energy lambda_V of g(V) above V0")
    family = "exponential"

    @property
    def support(self):
        return (self.V0, self.V0 + self.dV)

    def density(self, V):
        x = np.asarray(V, float) - self.V0
        norm = self.lambda_V * -math.expm1(-self.dV / self.lambda_V)
        return np.where((x >= 0) & (x <= self.dV), np.exp(-np.clip(x, 0.0, None) / self.lambda_V) / norm, 0.0)


@dataclass(frozen=True)
class TabulatedG(GDistribution):
    """Any g(V) given by its density on a grid (normalised here) plus optional atoms.

    This is how a new family is added: only a density is needed (see :func:`g_from_pdf`).
    """

    V: tuple = field(default=())
    values: tuple = field(default=())
    atom_list: tuple = field(default=())
    name: str = "tabulated"
    family = "tabulated"
    parametric = False

    def __post_init__(self):
        V = np.asarray(self.V, float)
        vals = np.asarray(self.values, float)
        if V.ndim != 1 or V.size < 2 or V.shape != vals.shape:
            raise ValueError(f"V and values must be 1-d of equal length >= 2; got shapes {V.shape}, {vals.shape}")
        if not np.all(np.diff(V) > 0):
            raise ValueError("V must be strictly increasing")
        if np.any(vals < 0) or not np.all(np.isfinite(vals)):
            raise ValueError("values (the density) must be finite and non-negative")
        atoms = tuple((float(a), float(w)) for a, w in self.atom_list)
        for a, w in atoms:
            if not (w >= 0 and math.isfinite(a)):
                raise ValueError(f"atom ({a!r}, {w!r}) needs a finite location and non-negative weight")
        w_atoms = sum(w for _, w in atoms)
        if w_atoms > 1:
            raise ValueError(f"atom weights add up to {w_atoms!r} > 1")
        mass = float(integrate.trapezoid(vals, V))
        if mass <= 0 and w_atoms < 1:
            raise ValueError("the density integrates to zero")
        scale = (1 - w_atoms) / mass if mass > 0 else 0.0
        object.__setattr__(self, "V", tuple(V.tolist()))
        object.__setattr__(self, "values", tuple((vals * scale).tolist()))
        object.__setattr__(self, "atom_list", atoms)

    @cached_property
    def _arrays(self):
        return np.asarray(self.V), np.asarray(self.values)

    @property
    def support(self):
        return (self.V[0], self.V[-1])

    @property
    def atoms(self):
        return self.atom_list

    def density(self, V):
        Vg, vals = self._arrays
        return np.interp(np.asarray(V, float), Vg, vals, left=0.0, right=0.0)

    def params(self):
        return {"name": self.name, "V": list(self.V), "values": list(self.values), "atom_list": [list(a) for a in self.atom_list]}

    @classmethod
    def from_params(cls, params):
        d = dict(params)
        return cls(V=tuple(d.pop("V")), values=tuple(d.pop("values")), atom_list=tuple(tuple(a) for a in d.pop("atom_list", ())),
                   name=d.pop("name", "tabulated"), **d)

    def describe(self):
        return f"tabulated({self.name}, {len(self.V)} nodes, {len(self.atom_list)} atoms)"


def g_from_pdf(pdf: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, *, atoms=(), n: int = 4097, name: str = "custom") -> TabulatedG:
    """Build a g(V) family from a density callable on [lo, hi] (normalised numerically)."""
    lo = finite("lo", lo)
    hi = finite("hi", hi)
    if not hi > lo:
        raise ValueError(f"hi must exceed lo; got lo={lo!r}, hi={hi!r}")
    V = np.linspace(lo, hi, int(n))
    return TabulatedG(V=tuple(V), values=tuple(np.asarray(pdf(V), float)), atom_list=tuple(atoms), name=name)


def g_families() -> tuple[str, ...]:
    """Names of the families described by their parameters alone (what the command line, the
    app and the sweep offer), in the order they were defined."""
    return tuple(k for k, cls in G_FAMILIES.items() if cls.parametric)


def _family_class(family: Any, *, parametric: bool = True) -> type[GDistribution]:
    key = str(family).lower().replace("_", "-")
    cls = G_FAMILIES.get(key) or _ALIASES.get(key)
    if cls is None or (parametric and not cls.parametric):
        names = ", ".join(repr(k) for k in g_families())
        raise ValueError(f"g family must be one of {names}; got {family!r}")
    return cls


def g_parameters(family: str | None = None) -> tuple[Parameter, ...]:
    """The declared parameters of ``family`` (:class:`Parameter`: ``name``, ``default``,
    ``bounds``, ``help``), or with no family those of every family of :func:`g_families` (each
    name once, first declaration; a name shared by families has one default and one range).

    A form for g is built from these: one numeric input per parameter of ``g_parameters()``
    (default ``p.default``, limits ``p.bounds``, tooltip ``p.help``), shown when it is among
    ``g_parameters(family)`` of the chosen family, and the values passed to ``make_g``.
    """
    if family is not None:
        return declared_parameters(_family_class(family))
    seen: dict[str, Parameter] = {}
    for fam in g_families():
        for p in declared_parameters(G_FAMILIES[fam]):
            first = seen.setdefault(p.name, p)
            if (first.default, first.bounds) != (p.default, p.bounds):
                raise ValueError(f"g parameter {p.name!r} of family {fam!r} has default {p.default!r} and range {p.interval()}; "
                                 f"another family declares {first.default!r} and {first.interval()}")
    return tuple(seen.values())


def make_g(family: str = DEFAULT_G_FAMILY, **params) -> GDistribution:
    """A g(V) by family name (:func:`g_families`; aliases accepted) and its parameters (the
    family's defaults for those not given). Unknown names and parameters raise ValueError."""
    return _family_class(family).from_params(params)


def g_from_dict(d: dict[str, Any]) -> GDistribution:
    """Inverse of :meth:`GDistribution.to_dict` (the one JSON form of a g)."""
    if not isinstance(d, dict) or "family" not in d:
        raise ValueError(f"a g's dict needs a 'family' key; got {d!r}")
    d = dict(d)
    return _family_class(d.pop("family"), parametric=False).from_params(d)


def as_g(g: Any = None, **params) -> GDistribution:
    """The one normalisation of a g(V): an instance (returned as it is), its dict
    (:meth:`~GDistribution.to_dict`), a family name with ``params``, or None (the
    :data:`DEFAULT_G_FAMILY` with ``params``)."""
    if g is None or isinstance(g, str):
        return make_g(DEFAULT_G_FAMILY if g is None else g, **params)
    if isinstance(g, (GDistribution, dict)):
        if params:
            raise ValueError(f"g parameters {sorted(params)} given with a g that already has its own; got g={g!r}")
        return g if isinstance(g, GDistribution) else g_from_dict(g)
    raise ValueError(f"g must be a GDistribution, its dict or a family name; got {g!r}")
