"""Glycerol units (Sec. VI) and the bond-excitation parameters of a two-component g."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import integrate, special

from .._validate import finite as _number, positive as _positive
from ..interactions import FermiGauss, GDistribution
from ._common import _as_g, _out
from .._validate import positive_array as _positive_array


#: molar gas constant (k_B per particle -> per mole, paper Sec. VI), J/(K mol) (CODATA 2018, exact; the paper rounds it to 8.314)
R_GAS = 8.314462618


@dataclass(frozen=True)
class GlassUnits:
    """Conversion of simulation units to physical ones by matching T_g (Sec. VI).

    ``T_unit = T_g_K / T_g_sim`` kelvin per simulation temperature unit, ``k_B -> R``:
    ``T_K = T_unit T``, ``C_v -> R C_v`` J/(K mol), ``c1 -> R c1 / T_unit`` J/(K^2 mol),
    ``c3 -> R c3 / T_unit^3`` J/(K^4 mol). Glycerol: ``T_g_K = 193``.
    """

    T_g_sim: float
    T_g_K: float = 193.0
    R: float = R_GAS

    def __post_init__(self):
        object.__setattr__(self, "T_g_sim", _positive("T_g_sim", self.T_g_sim))
        object.__setattr__(self, "T_g_K", _positive("T_g_K", self.T_g_K))
        object.__setattr__(self, "R", _positive("R", self.R))

    @property
    def T_unit(self) -> float:
        return self.T_g_K / self.T_g_sim

    def T(self, T_sim):
        return _out(np.asarray(T_sim, float) * self.T_unit)

    def T_sim(self, T_K):
        return _out(np.asarray(T_K, float) / self.T_unit)

    def Cv(self, Cv_sim):
        return _out(self.R * np.asarray(Cv_sim, float))

    def c1(self, c1_sim):
        return _out(self.R * np.asarray(c1_sim, float) / self.T_unit)

    def c3(self, c3_sim):
        return _out(self.R * np.asarray(c3_sim, float) / self.T_unit**3)

    def c1_sim(self, c1_phys):
        return _out(np.asarray(c1_phys, float) * self.T_unit / self.R)

    def c3_sim(self, c3_phys):
        return _out(np.asarray(c3_phys, float) * self.T_unit**3 / self.R)


@dataclass(frozen=True)
class BondExcitation:
    """Bond-excitation (Moynihan-Angell) parameters of a two-component g at ``T``.

    ``dS0`` in units of k_B, ``dH0`` in simulation energy units, ``dH0_over_T = dH0/T``;
    ``K`` is the equilibrium ratio excited/unexcited bonds at ``T`` (None for the paper form)."""

    dS0: float
    dH0: float
    dH0_over_T: float
    T: float
    method: str
    K: float | None = None


def bond_excitation_paper(G0, T_g, dV: float = 1.0) -> BondExcitation:
    """The paper's approximations (Sec. VI): ``dS0 = ln((1 - G0)/G0)``, ``dH0 = dV - T_g``
    (the excited delta/Gaussian bonds at ``dV`` versus unexcited bonds of mean energy ~ T_g).
    G0 = 0.2, T_g = 0.24 gives 1.386 and dH0/T_g = 3.167."""
    G0 = _number("G0", G0)
    if not 0.0 < G0 < 1.0:
        raise ValueError(f"G0 must lie in (0, 1); got {G0!r}")
    T_g = _positive("T_g", T_g)
    dV = _positive("dV", dV)
    dH0 = dV - T_g
    return BondExcitation(math.log((1.0 - G0) / G0), dH0, dH0 / T_g, T_g, "paper approximation")


def _components(g: GDistribution):
    """(unexcited, excited) parts of a two-component g as (density callable, atoms)."""
    if isinstance(g, FermiGauss):
        s, d, nrm = g.sigma_V, g.dV, g.norm

        def low(V):
            V = np.asarray(V, float)
            return np.where(V >= 0, g.G0 * special.expit(-(V - d) / s) / nrm, 0.0)

        def high(V):
            V = np.asarray(V, float)
            return np.where(V >= 0, (1 - g.G0) * np.exp(-((V - d) ** 2) / (2 * s * s)) / (math.sqrt(2 * math.pi) * s * nrm), 0.0)

        return (low, ()), (high, ())
    if g.atoms and g.continuous_mass > 0:
        return (g.density, ()), (None, g.atoms)
    raise ValueError(
        "a van 't Hoff analysis needs a two-component g (Fermi-plus-Gaussian, or a continuous part plus atoms); "
        f"got {g.describe()}"
    )


def _component_Z_mean(g: GDistribution, comp, T: float) -> tuple[float, float]:
    dens, atoms = comp
    lo, hi = g.support
    Z = 0.0
    m1 = 0.0
    if dens is not None:
        V = np.linspace(lo, hi, 40001)
        w = np.asarray(dens(V), float) * np.exp(-(V - lo) / T)
        Z += float(integrate.simpson(w, x=V))
        m1 += float(integrate.simpson((V - lo) * w, x=V))
    for loc, wt in atoms:
        b = wt * math.exp(-(loc - lo) / T)
        Z += b
        m1 += b * (loc - lo)
    return Z * math.exp(-lo / T), lo + m1 / Z


def bond_excitation_vant_hoff(g, T, T_fit: Sequence[float] | None = None) -> BondExcitation:
    """``dS0``, ``dH0`` from a van 't Hoff analysis of the two components of g.

    The equilibrium ratio of excited (delta / Gaussian) to unexcited (uniform / Fermi) bonds is
    ``K(T) = Z_exc(T)/Z_unexc(T)``, ``Z_c = int g_c(V) e^(-V/T) dV``. The bond-excitation model
    writes ``K = exp(dS0 - dH0/T)``. Without ``T_fit``: the local (exact) van 't Hoff slope at
    ``T``, ``dH0 = -d ln K / d(1/T) = <V>_exc - <V>_unexc`` and ``dS0 = ln K + dH0/T``. With
    ``T_fit``: a straight-line fit of ``ln K`` against ``1/T`` over those temperatures.
    """
    g = _as_g(g)
    T = _positive("T", T)
    unexc, exc = _components(g)
    if T_fit is None:
        Zu, mu = _component_Z_mean(g, unexc, T)
        Ze, me = _component_Z_mean(g, exc, T)
        K = Ze / Zu
        dH0 = me - mu
        return BondExcitation(math.log(K) + dH0 / T, dH0, dH0 / T, T, "van 't Hoff (local slope)", K)
    Tf = _positive_array("T_fit", T_fit).ravel()
    if Tf.size < 2:
        raise ValueError(f"T_fit needs at least two temperatures; got {T_fit!r}")
    lnK = np.array([math.log(_component_Z_mean(g, exc, t)[0] / _component_Z_mean(g, unexc, t)[0]) for t in Tf])
    slope, intercept = np.polyfit(1.0 / Tf, lnK, 1)
    dH0 = -float(slope)
    Ze = _component_Z_mean(g, exc, T)[0] / _component_Z_mean(g, unexc, T)[0]
    return BondExcitation(float(intercept), dH0, dH0 / T, T, f"van 't Hoff (fit over {Tf.size} temperatures)", Ze)
