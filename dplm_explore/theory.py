"""Analytic theory of the DPLM two-level systems (paper Secs. V-VI and Appendix A).

Everything here follows ``docs/physics.md`` section 5, including the paper's errata:

* ``Phi`` peaks at ``|dE| = 2.3994 T`` (root of ``x tanh(x/2) = 2``), not 2.35 T;
* Eq. (A16) is the convolution evaluated at ``dE + 3 dV``; the shift belongs to (A17) only.
  Here ``P(dE)`` is computed directly as the distribution of ``dE = sum_{i<z} (V'_i - V_i)``
  with ``V' ~ g`` and ``V ~ p_eq(T_I)`` (Eq. A15), so no shift appears anywhere;
* ``c3 = 7 pi^4 z phi_v P''(0) / 30`` (Eq. A13), not the ``/15`` of main-text Eq. (9).

Units: k_B = 1, energies and temperatures in units of the interaction scale, time in units of
1/w0. Specific heats are per particle (k_B = 1).

Conventions for distributions with atoms
----------------------------------------
``g`` may carry point masses (the uniform-plus-delta family). ``P(dE)`` is then a continuous
density plus atoms; a term in which every one of the ``2(z-1)`` bonds comes from an atom of g or
of p_eq is an atom of ``P`` (for uniform-plus-delta one atom at ``dE = 0``), every other term is
continuous. ``P(0)``, ``P'(0)``, ``P''(0)`` and hence ``c1``, ``c3`` always refer to the
**continuous density**; atoms are reported separately. An atom at ``dE = 0`` carries no heat
capacity (``Phi(0) = 0``) but counts in ``q``. The identity ``P(-x) = exp(-x/T_I) P(x)`` holds
for the continuous density and for the atom weights separately.

Public API (see each docstring): :func:`Phi`, :func:`eps_TLS`, :func:`I_n`, :func:`P_uniform`,
:func:`P_uniform_low_T`, :func:`hop_energy_distribution` (-> :class:`HopEnergyDistribution`),
:func:`P_derivatives_at_zero`, :func:`dE_max`, :func:`q`, :func:`phi_TLS`, :func:`Cv_tls`,
:func:`Cv_expansion` (-> :class:`CvExpansion`), :func:`c1_c3_eq10`, :func:`bonds_per_particle`,
:func:`e_eq`, :func:`Cv_eq`, :class:`GlassUnits`, :func:`bond_excitation_paper`,
:func:`bond_excitation_vant_hoff`, :func:`fit_fragility` (-> :class:`FragilityFit`),
:func:`theory_summary`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from scipy import fft as sp_fft
from scipy import integrate, interpolate, optimize, special

from ._validate import finite as _number, positive as _positive, temperature as _temperature
from .interactions import FermiGauss, GDistribution, Uniform, make_g

__all__ = [
    "R_GAS",
    "Phi",
    "eps_TLS",
    "I_n",
    "I_n_exact",
    "P_uniform",
    "P_uniform_low_T",
    "HopEnergyDistribution",
    "hop_energy_distribution",
    "PZero",
    "P_derivatives_at_zero",
    "dE_max",
    "q",
    "phi_TLS",
    "Cv_tls",
    "CvExpansion",
    "Cv_expansion",
    "c1_c3_eq10",
    "bonds_per_particle",
    "e_eq",
    "Cv_eq",
    "GlassUnits",
    "BondExcitation",
    "bond_excitation_paper",
    "bond_excitation_vant_hoff",
    "FragilityFit",
    "FRAGILITY_FORMS",
    "fit_fragility",
    "theory_summary",
]

#: molar gas constant (k_B per particle -> per mole, paper Sec. VI), J/(K mol) (CODATA 2018, exact; the paper rounds it to 8.314)
R_GAS = 8.314462618


# =================================================================================== validation
def _positive_array(name: str, value: Any) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be positive numbers; got {value!r}") from None
    if a.size == 0 or not np.all(np.isfinite(a)) or not np.all(a > 0):
        raise ValueError(f"{name} must be positive and finite; got {value!r}")
    return a


def _phi_v(value: Any) -> float:
    v = _number("phi_v", value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"phi_v must lie in (0, 1); got {value!r}")
    return v


def _z(value: Any) -> int:
    msg = f"z must be an integer >= 2; got {value!r}"
    if isinstance(value, bool):
        raise ValueError(msg)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if not (math.isfinite(f) and f.is_integer() and f >= 2):
        raise ValueError(msg)
    return int(f)


def _as_g(g: Any) -> GDistribution:
    """A g(V) instance from an instance or a family name (unknown names raise ValueError)."""
    if isinstance(g, GDistribution):
        return g
    if isinstance(g, str):
        return make_g(g)
    raise ValueError(f"g must be a GDistribution or a family name; got {g!r}")


def _out(a):
    a = np.asarray(a, dtype=float)
    return float(a) if a.ndim == 0 else a


# ====================================================================== single TLS (A3, A4, A12)
def Phi(dE, T):
    """Heat capacity of one TLS with splitting ``dE`` at temperature ``T`` (Eq. A4).

    ``Phi = dE^2 sech^2(dE / 2T) / (4 T^2)``, evaluated in the overflow-free form
    ``x^2 e^{-|x|} / (1 + e^{-|x|})^2`` with ``x = dE/T``. Even in ``dE``; maximum
    ``0.4392`` at ``|dE| = 2.3994 T`` (the paper's 2.35 T is an erratum).
    """
    T = _positive_array("T", T)
    x = np.abs(np.asarray(dE, dtype=float)) / T
    e = np.exp(-x)
    return _out(x * x * e / (1.0 + e) ** 2)


def eps_TLS(E1, E2, T):
    """Thermal average energy of a TLS with levels ``E1``, ``E2`` at temperature ``T`` (Eq. A3).

    Overflow-free: ``E1 + (E2 - E1) / (1 + exp((E2 - E1)/T))``. Its T-derivative is :func:`Phi`.
    """
    T = _positive_array("T", T)
    E1 = np.asarray(E1, dtype=float)
    dE = np.asarray(E2, dtype=float) - E1
    return _out(E1 + dE * special.expit(-dE / T))


def I_n_exact(n: int) -> float:
    """``I_n = int_0^inf x^(n+1) sech^2(x/2) dx = 4 (n+1)! eta(n+1)`` (eta: Dirichlet eta).

    ``I_1 = 2 pi^2/3``, ``I_3 = 14 pi^4/15``, ``I_5 = 62 pi^6/21`` (Eq. A12)."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}")
    s = int(n) + 1
    eta = (1.0 - 2.0 ** (1 - s)) * float(special.zeta(s)) if s > 1 else math.log(2.0)
    return 4.0 * math.factorial(s) * eta


def I_n(n: int) -> float:
    """``I_n`` of Eq. (A12) by adaptive quadrature (compare :func:`I_n_exact`)."""
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer; got {n!r}")
    k = int(n) + 1

    def f(x):
        e = math.exp(-x)
        return x**k * 4.0 * e / (1.0 + e) ** 2

    val, _ = integrate.quad(f, 0.0, np.inf, epsabs=0.0, epsrel=1e-13, limit=200)
    return float(val)


def _J(k: int) -> float:
    """``int_0^inf y^k Phi(y; T) dy / T^(k+1) = (k+2)! eta(k+2) = I_(k+1)/4``."""
    return I_n_exact(k + 1) / 4.0


# ============================================================= closed form for uniform g (A17)
def _J_trunc(qp: int, rp: int, A, B, beta: float):
    """``int_{max(A,B)}^inf (w-A)^qp (w-B)^rp exp(-beta w) dw`` (elementwise; needs B >= 0 so
    that ``exp(-beta max(A, B))`` cannot overflow). Every term of the sum is positive."""
    A = np.asarray(A, float)
    B = np.asarray(B, float)
    d = np.abs(A - B)
    out = np.zeros(np.broadcast(A, B).shape)
    a_ge = A >= B
    L = np.where(a_ge, A, B)
    pref = np.exp(-beta * L)
    s1 = np.zeros_like(out)  # A >= B: t^qp (t + d)^rp
    for i in range(rp + 1):
        s1 = s1 + math.comb(rp, i) * d ** (rp - i) * math.factorial(qp + i) / beta ** (qp + i + 1)
    s2 = np.zeros_like(out)  # A < B: (t + d)^qp t^rp
    for i in range(qp + 1):
        s2 = s2 + math.comb(qp, i) * d ** (qp - i) * math.factorial(rp + i) / beta ** (rp + i + 1)
    out = pref * np.where(a_ge, s1, s2)
    return out


def P_uniform(dE, T_I, dV: float = 1.0, z: int = 4, deriv: int = 0):
    """Closed form of ``P(dE)`` (or its ``deriv``-th derivative) for uniform g (Eq. A17).

    ``dE = U - W`` with ``U`` the sum of ``n = z-1`` uniforms on ``[0, dV]`` and ``W`` the sum of
    ``n`` exponentials truncated to ``[0, dV]`` (``p_eq`` at ``T_I``; ``V0`` cancels). Writing both
    densities as Irwin-Hall sums of truncated powers gives

    ``P(x) = C sum_{k,j} (-1)^(k+j) C(n,k) C(n,j) int (w + x - k dV)_+^(n-1) (w - j dV)_+^(n-1)
    e^(-w/T_I) dw``,  ``C = (beta/(1 - e^(-beta dV)))^n / (dV^n ((n-1)!)^2)``,

    each integral being elementary. Derivatives are exact for ``deriv <= z - 2``.
    """
    T_I = _temperature("T_I", T_I)
    dV = _positive("dV", dV)
    z = _z(z)
    n = z - 1
    p = n - 1
    if isinstance(deriv, bool) or int(deriv) != deriv or not 0 <= deriv <= p:
        raise ValueError(f"deriv must be an integer in [0, z-2] = [0, {p}]; got {deriv!r}")
    m = int(deriv)
    x = np.asarray(dE, dtype=float)
    beta = 1.0 / T_I
    # (beta/(1 - e^{-beta dV}))^n / dV^n = (beta/dV)^n / (1 - e^{-beta dV})^n
    C = (beta / dV) ** n / (-math.expm1(-beta * dV)) ** n / math.factorial(p) ** 2
    C *= math.factorial(p) / math.factorial(p - m)
    total = np.zeros(x.shape)
    for k in range(n + 1):
        for j in range(n + 1):
            sgn = -1.0 if (k + j) % 2 else 1.0
            total = total + sgn * math.comb(n, k) * math.comb(n, j) * _J_trunc(p - m, p, k * dV - x, j * dV, beta)
    return _out(C * total)


def P_uniform_low_T(T_I, dV: float = 1.0, z: int = 4) -> tuple[float, float]:
    """``(P(0), P''(0))`` for uniform g in the limit ``T_I -> 0`` (Eqs. A18, A20 generalised).

    With ``n = z - 1``: ``P(0) = (2n-2)! T_I^(n-1) / ((n-1)!^2 dV^n)`` and
    ``P''(0) = (2n-4)! T_I^(n-3) / ((n-1)! (n-3)! dV^n)`` (needs ``z >= 4``); corrections are
    ``O(exp(-dV/T_I))``. z = 4 gives ``6 T_I^2/dV^3`` and ``1/dV^3``; z = 6 gives
    ``70 T_I^4/dV^5`` and ``15 T_I^2/dV^5``.
    """
    T_I = _temperature("T_I", T_I)
    dV = _positive("dV", dV)
    z = _z(z)
    n = z - 1
    if n < 3:
        raise ValueError(f"P''(0) of uniform g exists only for z >= 4; got z={z!r}")
    P0 = math.factorial(2 * n - 2) * T_I ** (n - 1) / (math.factorial(n - 1) ** 2 * dV**n)
    P2 = math.factorial(2 * n - 4) * T_I ** (n - 3) / (math.factorial(n - 1) * math.factorial(n - 3) * dV**n)
    return P0, P2


def c1_c3_eq10(T_I, phi_v, dV: float = 1.0, z: int = 4) -> tuple[float, float]:
    """``(c1, c3)`` of Eq. (10)/(A19) (z = 4) and (A21) (z = 6): A13 with :func:`P_uniform_low_T`.

    Exact for uniform g as ``T_I -> 0``; for z = 4: ``c1 = 8 pi^2 phi_v T_I^2 / dV^3``,
    ``c3 = 14 pi^4 phi_v / (15 dV^3)``.
    """
    phi_v = _phi_v(phi_v)
    P0, P2 = P_uniform_low_T(T_I, dV, z)
    return _c1(P0, phi_v, z), _c3(P2, phi_v, z)


def _c1(P0: float, phi_v: float, z: int) -> float:
    return math.pi**2 * z * phi_v * P0 / 3.0


def _c3(P2: float, phi_v: float, z: int) -> float:
    return 7.0 * math.pi**4 * z * phi_v * P2 / 30.0


# ======================================================= P(dE) for any g: grid convolution
@dataclass(frozen=True)
class PZero:
    """Value and first two derivatives at ``dE = 0`` of the continuous part of ``P(dE)``.

    Where P has a kink at 0, ``P1`` and ``P2`` are the means of the one-sided derivatives and
    ``kink = P'(0+) - P'(0-)``, so that ``P~(y) = 2 P0 + kink y + P2 y^2 + ...`` (Eq. A9 with
    the kink term). ``P1 = P0 / (2 T_I)`` exactly (detailed balance). ``method``: 'closed form'
    (uniform g) or 'grid convolution'."""

    P0: float
    P1: float
    P2: float
    method: str
    kink: float = 0.0


@dataclass(frozen=True, eq=False)
class HopEnergyDistribution:
    """``P(dE)``: energy change of a hop attempt from equilibrium at ``T_I`` (Eqs. A14-A16).

    ``density`` is the continuous part on the uniform grid ``x`` (spacing ``h``, ``x = 0`` is a
    node); ``atoms`` are exact point masses ``((dE, weight), ...)``. Both are normalised
    together: ``trapezoid(density, x) + sum(weights) = 1``. Densities are linear-interpolated
    between nodes and zero outside the grid.
    """

    g: GDistribution
    T_I: float
    z: int
    h: float
    x: np.ndarray = field(repr=False)
    density: np.ndarray = field(repr=False)
    atoms: tuple = ()

    # ---------------------------------------------------------------- evaluation
    def pdf(self, dE):
        """Continuous density of ``P`` at ``dE`` (atoms excluded, see :attr:`atoms`)."""
        return _out(np.interp(np.asarray(dE, float), self.x, self.density, left=0.0, right=0.0))

    def _spline(self, dE):
        """Cubic-spline interpolant of the density (O(h^4); used for integrals against Phi)."""
        sp = self.__dict__.get("_spline_cache")
        if sp is None:
            sp = interpolate.CubicSpline(self.x, self.density, extrapolate=False)
            object.__setattr__(self, "_spline_cache", sp)
        return np.nan_to_num(sp(np.asarray(dE, float)), nan=0.0)

    @property
    def _cum(self) -> np.ndarray:
        c = self.__dict__.get("_cum_cache")
        if c is None:
            c = integrate.cumulative_trapezoid(self.density, self.x, initial=0.0)
            object.__setattr__(self, "_cum_cache", c)
        return c

    def cdf(self, dE):
        """``Prob(Delta E <= dE)``, atoms included (right-continuous); divided by :meth:`mass`
        so that it reaches exactly 1 (the quadrature mass error is ~1e-8 at most)."""
        dE = np.asarray(dE, float)
        out = np.interp(dE, self.x, self._cum, left=0.0, right=float(self._cum[-1]))
        for loc, w in self.atoms:
            out = out + w * (dE >= loc)
        return _out(out / self.mass())

    @property
    def atom_mass(self) -> float:
        return float(sum(w for _, w in self.atoms))

    def mass(self) -> float:
        """Total probability (1 up to quadrature error)."""
        return float(self._cum[-1]) + self.atom_mass

    def moment(self, k: int) -> float:
        """Raw moment ``<dE^k>`` (continuous part by trapezoid, plus atoms)."""
        cont = float(integrate.trapezoid(self.x**k * self.density, self.x))
        return cont + sum(w * loc**k for loc, w in self.atoms)

    def mean(self) -> float:
        return self.moment(1)

    def var(self) -> float:
        m = self.mean()
        return self.moment(2) - m * m

    # ------------------------------------------------------------- TLS splitting (A7)
    def split_pdf(self, abs_dE):
        """``P~(|dE|) = P(dE) + P(-dE)`` (Eq. A7), continuous part, for ``|dE| >= 0``."""
        a = np.asarray(abs_dE, float)
        if np.any(a < 0):
            raise ValueError(f"abs_dE must be >= 0; got {abs_dE!r}")
        return _out(self.pdf(a) + self.pdf(-a))

    def split_atoms(self) -> tuple[tuple[float, float], ...]:
        """Atoms of the distribution of ``|dE|`` (weights at ``+a`` and ``-a`` merged)."""
        acc: dict[float, float] = {}
        for loc, w in self.atoms:
            key = round(abs(loc), 12)
            acc[key] = acc.get(key, 0.0) + w
        return tuple(sorted(acc.items()))

    # ------------------------------------------------------------- derivatives at 0
    def derivatives_at_zero(self, L: float | None = None, deg: int = 6) -> PZero:
        """``P(0)`` and one-sided derivatives of the continuous density at 0.

        Each side is fitted by a degree-``deg`` polynomial on ``[0, L]`` (default
        ``L = min(T_I/4, span/8, d/2)``, ``d`` the nearest non-zero point where P may be
        non-smooth, see :meth:`_nearest_singular_point`; at least ``deg + 4`` grid steps).
        ``P1``/``P2`` are the means of the one-sided first/second
        derivatives (``P1 = P0/(2 T_I)`` by detailed balance even at a kink); ``kink`` is
        ``P'(0+) - P'(0-)`` (zero when P is smooth at 0, as for uniform or Fermi-Gauss g;
        non-zero for uniform-plus-delta: the terms with one bond from the uniform part of g,
        one from the continuous part of p_eq and all others from the deltas are kinked at 0, and
        those with a single continuous bond jump there in pairs that cancel, leaving a kink).
        """
        i0 = int(np.argmin(np.abs(self.x)))
        if L is None:
            L = min(self.T_I / 4.0, float(self.x[-1]) / 8.0, 0.5 * self._nearest_singular_point())
        L = _positive("L", L)
        j = max(int(round(L / self.h)), deg + 4)
        j = min(j, self.x.size - 1 - i0, i0)
        L = j * self.h
        d = self.density
        # the node dE = 0 itself is left out: where support edges of two factors coincide there
        # (g with atoms) its discrete value carries an O(h) error; P0 is the mean of the two
        # one-sided extrapolations instead.
        u = np.arange(1, j + 1) / j
        right = np.polynomial.polynomial.polyfit(u, d[i0 + 1 : i0 + j + 1], deg)
        left = np.polynomial.polynomial.polyfit(u, d[i0 - j : i0][::-1], deg)
        d1p, d1m = right[1] / L, -left[1] / L
        d2p, d2m = 2 * right[2] / L**2, 2 * left[2] / L**2
        P0 = 0.5 * (right[0] + left[0])
        return PZero(float(P0), float(0.5 * (d1p + d1m)), float(0.5 * (d2p + d2m)), "grid convolution", float(d1p - d1m))

    def _nearest_singular_point(self) -> float:
        """Smallest non-zero ``|sum_{z-1} e' - sum_{z-1} e|`` over e, e' in {support edges,
        atom locations}: where terms with few continuous factors can have jumps or kinks."""
        lo, hi = self.g.support
        E = sorted({float(lo), float(hi), *(float(a) for a, _ in self.g.atoms)})
        sums = {0.0}
        for _ in range(self.z - 1):
            sums = {round(s + e, 12) for s in sums for e in E}
        # the smallest non-zero |s' - s| within one set is its smallest gap
        gaps = np.diff(np.array(sorted(sums)))
        gaps = gaps[gaps > 1e-9]
        return float(gaps.min()) if gaps.size else np.inf

    # ------------------------------------------------------------- integrals
    def expect_Phi(self, T: float, dE_max: float = np.inf, n_nodes: int = 6001) -> float:
        """``int_{-inf}^{dE_max} P(dE) Phi(dE; T) ddE`` (atoms included).

        Integrated on a grid adapted to T (``dE = T u``, ``|u| <= 60``) with ``P``
        interpolated, so T may be far below the convolution grid spacing."""
        T = _positive("T", T)
        hi = min(60.0 * T, float(dE_max), float(self.x[-1]))
        lo = max(-60.0 * T, float(self.x[0]))
        cont = 0.0
        if hi > lo:
            u = np.linspace(lo, hi, n_nodes)
            cont = float(integrate.trapezoid(self._spline(u) * Phi(u, T), u))
        at = sum(w * float(Phi(loc, T)) for loc, w in self.atoms if loc <= dE_max)
        return cont + at


def _grid_K(g: GDistribution, T_I: float, points_per_T: float, h: float | None) -> int:
    """Number of (even) lattice steps across g's support for target spacing h."""
    lo, hi = g.support
    span = hi - lo
    if h is None:
        h = min(T_I / points_per_T, span / 2000.0)
    K = max(4, int(math.ceil(span / h)))
    K = min(K + (K % 2), 1 << 19)  # caps memory/time: ~3e6-point FFTs at most
    return K


def _atom_nodes(atoms, lo: float, h: float) -> list[tuple[int, float, float]]:
    """Atoms as lattice masses ``(index, location, weight)`` (split linearly when off-lattice)."""
    out = []
    for loc, w in atoms:
        u = (loc - lo) / h
        k = int(round(u))
        if abs(u - k) < 1e-9 * max(1.0, abs(u)):
            out.append((k, loc, w))
        else:
            k0 = int(math.floor(u))
            f = u - k0
            out.append((k0, loc, w * (1 - f)))
            out.append((k0 + 1, loc, w * f))
    return out


def _sparse_power(d: dict[int, float], n: int) -> dict[int, float]:
    res = {0: 1.0}
    for _ in range(n):
        nxt: dict[int, float] = {}
        for i, a in res.items():
            for j, b in d.items():
                nxt[i + j] = nxt.get(i + j, 0.0) + a * b
        res = nxt
    return res


def _exact_atoms(g_atoms, p_atoms, n: int) -> tuple[tuple[float, float], ...]:
    """Atoms of ``dE = sum_n V' - sum_n V`` from the all-atom terms (exact locations)."""
    combos: dict[float, float] = {0.0: 1.0}
    for sign, factor in [(1.0, g_atoms)] * n + [(-1.0, p_atoms)] * n:
        nxt: dict[float, float] = {}
        for a, wa in combos.items():
            for loc, w in factor:
                key = round(a + sign * loc, 12) + 0.0  # merge equal locations (and -0.0)
                nxt[key] = nxt.get(key, 0.0) + wa * w
        combos = nxt
    return tuple(sorted((loc, w) for loc, w in combos.items() if w > 0.0))


def _convolve(g: GDistribution, T_I: float, n: int, K: int):
    """Discrete P on the lattice of spacing ``(hi - lo)/K``: (x, continuous density, atoms)."""
    lo, hi = g.support
    h = (hi - lo) / K
    atoms = tuple((float(a), float(w)) for a, w in g.atoms if w > 0)
    nodes = _atom_nodes(atoms, lo, h)
    kmin = min([0] + [k for k, _, _ in nodes])
    kmax = max([K] + [k for k, _, _ in nodes])
    Kk = kmax - kmin + 1
    V = lo + h * np.arange(kmin, kmax + 1)
    # continuous part of g: trapezoid masses on the lattice, scaled to its exact mass
    Vc = lo + h * np.arange(K + 1)
    wc = np.asarray(g.density(Vc), float) * h
    wc[0] *= 0.5
    wc[-1] *= 0.5
    m_cont = 1.0 - sum(w for _, w in atoms)
    if wc.sum() > 0:
        wc *= m_cont / wc.sum()
    mg_c = np.zeros(Kk)
    mg_c[-kmin : -kmin + K + 1] = wc
    mg_a: dict[int, float] = {}
    for k, _, w in nodes:
        mg_a[k - kmin] = mg_a.get(k - kmin, 0.0) + w
    # discrete p_eq = discrete g tilted by exp(-(V - Vref)/T_I), normalised by its own sum
    Vref = float(V[0])
    with np.errstate(under="ignore"):
        boltz = np.exp(-(V - Vref) / T_I)
    Zd = float(np.sum(mg_c * boltz) + sum(w * boltz[i] for i, w in mg_a.items()))
    p_atoms = tuple((loc, w * math.exp(-(loc - Vref) / T_I) / Zd) for loc, w in atoms)

    M = 2 * n * (Kk - 1) + 1
    r0 = n * (Kk - 1)  # result index of dE = 0
    x = (np.arange(M) - r0) * h
    Nfft = sp_fft.next_fast_len(M, real=True)
    best_rel = np.full(M, -np.inf)
    logP = np.full(M, -np.inf)
    for lam in (0.0, -0.5 / T_I, -1.0 / T_I):
        with np.errstate(under="ignore"):
            wa = np.exp(lam * (V - Vref))
            wb = np.exp(-(1.0 / T_I + lam) * (V - Vref)) / Zd
        A = mg_c * wa
        B = mg_c * wb
        Aa = {i: w * wa[i] for i, w in mg_a.items()}
        Ba = {i: w * wb[i] for i, w in mg_a.items()}
        for i, w in Aa.items():
            A[i] += w
        for i, w in Ba.items():
            B[i] += w
        FA = sp_fft.rfft(A, Nfft)
        FB = sp_fft.rfft(B[::-1], Nfft)
        Q = sp_fft.irfft(FA**n * FB**n, Nfft)[:M]
        if mg_a:  # remove the all-atom terms (returned exactly as atoms)
            Brev = {Kk - 1 - i: w for i, w in Ba.items()}
            pa = _sparse_power(Aa, n)
            pb = _sparse_power(Brev, n)
            for i, a in pa.items():
                for j, b in pb.items():
                    Q[i + j] -= a * b
        qmax = float(Q.max())
        if not qmax > 0:
            continue
        pos = Q > 0
        with np.errstate(divide="ignore"):
            rel = np.where(pos, Q / qmax, -np.inf)
            lq = np.where(pos, np.log(np.where(pos, Q, 1.0)), -np.inf)
        better = rel > best_rel
        logP = np.where(better, lq - lam * x, logP)
        best_rel = np.where(better, rel, best_rel)
    # below ~1e-14 of every tilted maximum the FFT result is round-off: set to zero
    logP = np.where(best_rel > 1e-14, logP, -np.inf)
    with np.errstate(under="ignore"):
        dens = np.exp(logP) / h
    return x, dens, _exact_atoms(atoms, p_atoms, n)


@lru_cache(maxsize=16)
def _hop_energy_cached(g: GDistribution, T_I: float, z: int, points_per_T: float, h: float | None):
    n = z - 1
    K = _grid_K(g, T_I, points_per_T, h)
    x_f, d_f, atoms = _convolve(g, T_I, n, K)
    x_c, d_c, _ = _convolve(g, T_I, n, K // 2)
    # Richardson extrapolation of the O(h^2) discretisation error, on the coarse nodes
    fine = np.interp(x_c, x_f, d_f)
    dens = np.maximum((4.0 * fine - d_c) / 3.0, 0.0)
    x_c.flags.writeable = False
    dens.flags.writeable = False
    return HopEnergyDistribution(g=g, T_I=T_I, z=z, h=float(x_c[1] - x_c[0]), x=x_c, density=dens, atoms=atoms)


def hop_energy_distribution(g, T_I, z: int = 4, *, points_per_T: float = 400.0, h: float | None = None) -> HopEnergyDistribution:
    """``P(dE)`` for any ``g`` by numerical convolution (Eqs. A14-A16), atoms handled exactly.

    ``dE = sum_{i=1}^{z-1} (V'_i - V_i)``, ``V' ~ g``, ``V ~ p_eq(T_I)``. g (continuous part) is
    discretised on a lattice aligned with its support (and its atoms) with spacing
    ``h = min(T_I/points_per_T, span/2000)`` (or ``h``); p_eq is the same lattice measure tilted
    by ``exp(-V/T_I)``, so the discrete ``P`` obeys detailed balance exactly. The ``2(z-1)``-fold
    convolution is done by FFT three times, with exponential tilts ``exp(lambda dE)``,
    ``lambda in {0, -1/(2 T_I), -1/T_I}``, and each ``dE`` takes the tilt under which it is
    best resolved: the density keeps ~1e-13 relative accuracy far into both tails. The all-atom
    terms are subtracted and returned as exact atoms. The O(h^2) discretisation error is removed
    by Richardson extrapolation between spacings h and 2h; the result lives on the 2h grid
    (uniform g, T_I = 0.05: max error 5e-13 against :func:`P_uniform`). Results are cached
    (g is immutable).
    """
    g = _as_g(g)
    T_I = _temperature("T_I", T_I)
    z = _z(z)
    points_per_T = _positive("points_per_T", points_per_T)
    return _hop_energy_cached(g, T_I, z, float(points_per_T), None if h is None else _positive("h", h))


def P_derivatives_at_zero(g, T_I, z: int = 4, method: str = "auto") -> PZero:
    """``P(0), P'(0), P''(0)`` (continuous density). ``method``: 'auto' (closed form for
    :class:`Uniform` with z >= 4, grid otherwise), 'closed' or 'grid'."""
    g = _as_g(g)
    T_I = _temperature("T_I", T_I)
    z = _z(z)
    if method not in ("auto", "closed", "grid"):
        raise ValueError(f"method must be 'auto', 'closed' or 'grid'; got {method!r}")
    closed_ok = isinstance(g, Uniform) and z >= 4
    if method == "closed" and not closed_ok:
        raise ValueError(f"the closed form needs uniform g and z >= 4; got {g.describe()}, z={z}")
    if method == "closed" or (method == "auto" and closed_ok):
        vals = [float(P_uniform(0.0, T_I, g.dV, z, deriv=m)) for m in range(3)]
        return PZero(vals[0], vals[1], vals[2], "closed form")
    return hop_energy_distribution(g, T_I, z).derivatives_at_zero()


# =============================================================================== q and phi_TLS
def dE_max(T, nu_cool: float = 1e-4, w0: float = 1e6):
    """Largest energy cost of a hop still possible while cooling through T (Eq. 5):
    ``dE_max = T ln(0.1 w0 T / nu_cool)`` (hop rate ``w0 exp(-dE/T)`` >= ``1/tau``,
    ``tau = 0.1 T / nu_cool``)."""
    T = _positive_array("T", T)
    nu_cool = _positive("nu_cool", nu_cool)
    w0 = _positive("w0", w0)
    return _out(T * np.log(0.1 * w0 * T / nu_cool))


def q(g, T_I, *, T_eval=None, nu_cool: float = 1e-4, w0: float = 1e6, z: int = 4) -> float:
    """Probability that a hop attempt from equilibrium at ``T_I`` is energetically possible
    (Eq. 4): ``q = Prob(dE <= dE_max(T_eval))``, atoms included.

    ``T_eval`` is the temperature at which Eq. (5) is evaluated; the paper's text implies
    ``T_eval = T_I`` (the default), which gives q(T_I = 0.03) = 0.038 for uniform g
    (``nu_cool = 1e-4``), not the quoted 0.05 (see ``docs/physics.md`` section 5).
    """
    P = hop_energy_distribution(g, T_I, z)
    Te = P.T_I if T_eval is None else _temperature("T_eval", T_eval)
    return float(P.cdf(dE_max(Te, nu_cool, w0)))


def phi_TLS(g, T_I, phi_v, *, T_eval=None, nu_cool: float = 1e-4, w0: float = 1e6, z: int = 4) -> float:
    """TLS density per site ``phi_TLS = z q phi_v`` (Sec. V)."""
    phi_v = _phi_v(phi_v)
    z = _z(z)
    return z * phi_v * q(g, T_I, T_eval=T_eval, nu_cool=nu_cool, w0=w0, z=z)


# ======================================================================= C_v of the TLS (A5)
def Cv_tls(T, g, T_I, phi_v, *, z: int = 4, dE_max_mode: Any = "eq5", nu_cool: float = 1e-4, w0: float = 1e6):
    """TLS specific heat per particle ``C_v(T) = z phi_v int_{-inf}^{dE_max} P(dE) Phi(dE; T)``
    (Eq. A5), by quadrature of the numerically convolved ``P``.

    ``dE_max_mode``: 'eq5' (default; Eq. 5 at the current T with ``nu_cool``, ``w0``),
    ``'inf'`` / ``np.inf`` (Eq. A6, the limit whose low-T expansion is c1 T + c3 T^3), or a
    number (a fixed cut-off).
    """
    Ts = _positive_array("T", T)
    phi_v = _phi_v(phi_v)
    z = _z(z)
    P = hop_energy_distribution(g, T_I, z)
    out = np.empty(Ts.shape)
    for idx, Tk in np.ndenumerate(Ts):
        if isinstance(dE_max_mode, str):
            if dE_max_mode == "eq5":
                cut = float(dE_max(Tk, nu_cool, w0))
            elif dE_max_mode == "inf":
                cut = np.inf
            else:
                raise ValueError(f"dE_max_mode must be 'eq5', 'inf' or a number; got {dE_max_mode!r}")
        elif isinstance(dE_max_mode, (int, float, np.integer, np.floating)) and not isinstance(dE_max_mode, bool):
            cut = float(dE_max_mode)
            if math.isnan(cut):
                raise ValueError(f"dE_max_mode must be 'eq5', 'inf' or a number; got {dE_max_mode!r}")
        else:
            raise ValueError(f"dE_max_mode must be 'eq5', 'inf' or a number; got {dE_max_mode!r}")
        out[idx] = z * phi_v * P.expect_Phi(float(Tk), cut)
    return _out(out)


@dataclass(frozen=True)
class CvExpansion:
    """Low-T expansion ``C_v = c1 T + c3 T^3`` (Eq. A13) and where it stops being accurate.

    ``c1 = pi^2 z phi_v P(0)/3``, ``c3 = 7 pi^4 z phi_v P''(0)/30`` from the continuous density.
    ``c2 = z phi_v [P'(0+) - P'(0-)] (9/2) zeta(3)`` is the T^2 term that a kink of P at 0 adds
    (zero for smooth P, as the paper assumes; non-zero for uniform-plus-delta g at T_I where
    the delta carries equilibrium weight). :meth:`series` is the paper's ``c1 T + c3 T^3``.
    The truncation error is measured against the exact integral (Eq. A6, ``dE_max = inf``):
    ``remainder(T) = C_v(T) - c1 T - c3 T^3``. ``next_power``/``c_next`` fit it as
    ``c_next T^next_power`` between ``T_I/32`` and ``T_I/16`` (uniform g: ``T^6``, because
    ``P~(y) = 2P(0) + P''(0) y^2 - y^5/(120 T_I^3) + ...``); ``T_1pct`` / ``T_10pct`` are the
    largest ``T <= T_I`` below which the series is within 1 % / 10 % of the exact integral
    (``T_I`` if it stays within up to ``T_I``).
    """

    g: GDistribution
    T_I: float
    phi_v: float
    z: int
    P0: float
    P2: float
    c1: float
    c3: float
    c2: float
    method: str
    c_next: float
    next_power: float
    T_1pct: float
    T_10pct: float

    def series(self, T):
        T = _positive_array("T", T)
        return _out(self.c1 * T + self.c3 * T**3)

    def exact(self, T):
        """The integral (A6) with ``dE_max = inf``."""
        return Cv_tls(T, self.g, self.T_I, self.phi_v, z=self.z, dE_max_mode="inf")

    def remainder(self, T):
        return _out(np.asarray(self.exact(T)) - np.asarray(self.series(T)))

    def rel_error(self, T):
        ex = np.asarray(self.exact(T))
        return _out((np.asarray(self.series(T)) - ex) / ex)


def Cv_expansion(g, T_I, phi_v, z: int = 4) -> CvExpansion:
    """c1, c3 from (A13) for any g (closed form for uniform), plus the size of the next term."""
    g = _as_g(g)
    T_I = _temperature("T_I", T_I)
    phi_v = _phi_v(phi_v)
    z = _z(z)
    pz = P_derivatives_at_zero(g, T_I, z)
    c1, c3 = _c1(pz.P0, phi_v, z), _c3(pz.P2, phi_v, z)
    P = hop_energy_distribution(g, T_I, z)

    def exact(T):
        return z * phi_v * P.expect_Phi(T)

    def rel(T):
        ex = exact(T)
        return (c1 * T + c3 * T**3 - ex) / ex

    T1, T2 = T_I / 32.0, T_I / 16.0
    r1 = exact(T1) - (c1 * T1 + c3 * T1**3)
    r2 = exact(T2) - (c1 * T2 + c3 * T2**3)
    if r1 != 0 and r2 != 0 and (r1 > 0) == (r2 > 0):
        k = math.log(r2 / r1) / math.log(T2 / T1)
        c_next = r2 / T2**k
    else:
        k, c_next = float("nan"), float("nan")
    Ts = T_I * np.logspace(-3, 0, 61)
    errs = np.array([abs(rel(float(t))) for t in Ts])

    def t_limit(tol):
        bad = np.nonzero(errs > tol)[0]
        if bad.size == 0:
            return float(T_I)
        i = bad[0]
        if i == 0:
            return float(Ts[0])
        # log-log interpolation of the crossing
        f = (math.log(tol) - math.log(errs[i - 1])) / (math.log(errs[i]) - math.log(errs[i - 1]))
        return float(math.exp(math.log(Ts[i - 1]) + f * (math.log(Ts[i]) - math.log(Ts[i - 1]))))

    c2 = z * phi_v * pz.kink * _J(1)
    return CvExpansion(g, T_I, phi_v, z, pz.P0, pz.P2, c1, c3, c2, pz.method, float(c_next), float(k), t_limit(0.01), t_limit(0.10))


# ==================================================================== equilibrium thermodynamics
def bonds_per_particle(phi_v, z: int = 4, Z_b: float = 1.0) -> float:
    """Mean number of particle-particle bonds per particle in equilibrium.

    In exact equilibrium the void arrangement is a lattice gas with weight ``Z_b(T)`` per
    void-void contact (``docs/physics.md`` section 3). With ``s`` the fraction of lattice bonds joining
    two voids, ``N_pp / N = (z/2)(1 - 2 phi_v + s)/(1 - phi_v)``. ``s`` is taken from the
    quasi-chemical (Bethe) approximation ``s (1 - 2phi_v + s) = Z_b (phi_v - s)^2``, exact to
    O(phi_v^3); ``Z_b = 1`` gives random placement, ``s = phi_v^2``, ``N_pp/N = (z/2)(1-phi_v)``.
    """
    phi = _phi_v(phi_v)
    z = _z(z)
    w = _positive("Z_b", Z_b)
    return 0.5 * z * (1.0 - 2.0 * phi + _s_vv(phi, w)) / (1.0 - phi)


def _s_vv(phi: float, w: float) -> float:
    # (1 - w) s^2 + (1 - 2phi + 2 w phi) s - w phi^2 = 0, root in [0, phi]
    a, b, c = 1.0 - w, 1.0 - 2.0 * phi + 2.0 * w * phi, -w * phi * phi
    if abs(a) < 1e-14:
        return -c / b
    disc = math.sqrt(b * b - 4 * a * c)
    # numerically stable root: 2c / (-b - disc) (positive since c <= 0)
    return (2 * c) / (-b - disc) if b > 0 else (-b + disc) / (2 * a)


def _peq_moments(g: GDistribution, T: float) -> tuple[float, float, float]:
    """(Z_b, <V>, Var V) under p_eq(T) (closed forms for uniform g, Simpson otherwise)."""
    if isinstance(g, Uniform):
        e = math.exp(-g.dV / T)  # truncated exponential on [0, dV]; overflow-free forms
        one_m = -math.expm1(-g.dV / T)
        mean = T - g.dV * e / one_m
        var = T * T - g.dV**2 * e / one_m**2
        return g.Z_b(T), g.V0 + mean, var
    lo, hi = g.support
    top = min(hi, lo + 60.0 * T)
    V = np.linspace(lo, top, 20001)
    w = np.asarray(g.density(V), float) * np.exp(-(V - lo) / T)
    m0 = integrate.simpson(w, x=V)
    m1 = integrate.simpson((V - lo) * w, x=V)
    m2 = integrate.simpson((V - lo) ** 2 * w, x=V)
    for loc, wt in g.atoms:
        b = wt * math.exp(-(loc - lo) / T)
        m0 += b
        m1 += b * (loc - lo)
        m2 += b * (loc - lo) ** 2
    mean = m1 / m0
    return float(m0 * math.exp(-lo / T)), float(lo + mean), float(m2 / m0 - mean * mean)


def e_eq(T, g, phi_v, z: int = 4, void_pairing: str = "quasi-chemical"):
    """Equilibrium energy per particle ``e_eq(T) = (N_pp/N) <V>_{p_eq(T)}``.

    Every occupied bond carries an independent ``V ~ p_eq(T)`` (Eq. A14); ``N_pp/N`` is
    :func:`bonds_per_particle` with ``Z_b(T)`` ('quasi-chemical', default) or with random void
    placement ('random', ``Z_b = 1``).
    """
    g = _as_g(g)
    Ts = _positive_array("T", T)
    phi_v = _phi_v(phi_v)
    z = _z(z)
    if void_pairing not in ("quasi-chemical", "random"):
        raise ValueError(f"void_pairing must be 'quasi-chemical' or 'random'; got {void_pairing!r}")
    out = np.empty(Ts.shape)
    for idx, Tk in np.ndenumerate(Ts):
        Z, mean, _ = _peq_moments(g, float(Tk))
        w = Z if void_pairing == "quasi-chemical" else 1.0
        out[idx] = bonds_per_particle(phi_v, z, w) * mean
    return _out(out)


def Cv_eq(T, g, phi_v, z: int = 4, void_pairing: str = "quasi-chemical"):
    """Equilibrium specific heat per particle ``d e_eq / dT`` (analytic):
    ``b Var_eq(V)/T^2 + <V> db/dT``, with ``db/dT`` from the quasi-chemical void pairing
    (``dZ_b/dT = Z_b <V>/T^2``); zero for 'random'."""
    g = _as_g(g)
    Ts = _positive_array("T", T)
    phi = _phi_v(phi_v)
    z = _z(z)
    if void_pairing not in ("quasi-chemical", "random"):
        raise ValueError(f"void_pairing must be 'quasi-chemical' or 'random'; got {void_pairing!r}")
    out = np.empty(Ts.shape)
    for idx, Tk in np.ndenumerate(Ts):
        Tk = float(Tk)
        Z, mean, var = _peq_moments(g, Tk)
        w = Z if void_pairing == "quasi-chemical" else 1.0
        b = bonds_per_particle(phi, z, w)
        c = b * var / Tk**2
        if void_pairing == "quasi-chemical":
            s = _s_vv(phi, w)
            Fs = 2 * (1 - w) * s + 1 - 2 * phi + 2 * w * phi
            ds_dT = (phi - s) ** 2 / Fs * Z * mean / Tk**2
            c += mean * 0.5 * z / (1 - phi) * ds_dT
        out[idx] = c
    return _out(out)


# ============================================================================ glycerol (Sec. VI)
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


# ================================================================================ fragility fits
FRAGILITY_FORMS = ("vft", "myega", "parabolic")


def _log10D(form: str, p: dict[str, float], T):
    T = np.asarray(T, float)
    if form == "vft":
        return p["A"] - p["B"] / (T - p["T0"])
    if form == "myega":
        return p["A"] - p["K"] / T * np.exp(p["C"] / T)
    return p["A"] - p["J"] * (1.0 / T - 1.0 / p["T0"]) ** 2


def _dlog10D_dinvT(form: str, p: dict[str, float], T: float) -> float:
    u = 1.0 / T
    if form == "vft":  # A - B u / (1 - T0 u)
        return -p["B"] / (1.0 - p["T0"] * u) ** 2
    if form == "myega":  # A - K u e^{C u}
        return -p["K"] * math.exp(p["C"] * u) * (1.0 + p["C"] * u)
    return -2.0 * p["J"] * (u - 1.0 / p["T0"])


@dataclass(frozen=True)
class FragilityFit:
    """A fit of ``log10 D(T)`` and the kinetic fragility it implies.

    ``form``: 'vft' ``A - B/(T - T0)``, 'myega' ``A - (K/T) exp(C/T)``, 'parabolic'
    ``A - J (1/T - 1/T0)^2``; ``params`` the fitted constants. ``T_g`` solves ``D(T_g) = D_r``;
    ``m_k = -(1/T_g) d log10 D / d(1/T)`` at ``T_g``. ``T_g_ext``, ``m_k_ext``: the same at
    ``D_r_ext`` (an extrapolation when ``D_r_ext`` lies outside the data: depends on ``form``).
    """

    form: str
    params: dict
    D_r: float
    T_g: float
    m_k: float
    D_r_ext: float
    T_g_ext: float
    m_k_ext: float
    rms: float
    n_points: int

    def log10_D(self, T):
        return _out(_log10D(self.form, self.params, T))

    def at(self, D_r) -> tuple[float, float]:
        """``(T_g, m_k)`` for another reference diffusion coefficient ``D_r``."""
        return _tg_mk(self.form, self.params, _positive("D_r", D_r))


def _tg_mk(form: str, p: dict[str, float], D_r: float) -> tuple[float, float]:
    y = math.log10(D_r)
    Tg = float("nan")
    if form == "vft":
        if p["A"] > y:
            Tg = p["T0"] + p["B"] / (p["A"] - y)
    elif form == "parabolic":
        if p["A"] > y and p["J"] > 0:
            Tg = 1.0 / (1.0 / p["T0"] + math.sqrt((p["A"] - y) / p["J"]))
    else:
        if p["A"] > y and p["K"] > 0:
            f = lambda u: p["A"] - p["K"] * u * math.exp(min(p["C"] * u, 700.0)) - y  # noqa: E731
            hi = 1.0
            while f(hi) > 0 and hi < 1e12:
                hi *= 2.0
            if f(hi) < 0:
                Tg = 1.0 / optimize.brentq(f, 0.0, hi, xtol=1e-15, rtol=1e-14)
    if not (math.isfinite(Tg) and Tg > 0):
        return float("nan"), float("nan")
    return Tg, -_dlog10D_dinvT(form, p, Tg) / Tg


def fit_fragility(T, D, form: str = "vft", D_r: float = 0.1, D_r_ext: float = 1e-14) -> FragilityFit:
    """Fit ``log10 D(T)`` with ``form`` ('vft', 'myega', 'parabolic') by least squares and
    return ``T_g``, ``m_k`` at ``D_r`` and their extrapolation to ``D_r_ext``.

    Each form is linear in two constants given one nonlinear one (``T0``; ``C``; ``1/T0``), so
    the fit scans that one on a grid and refines it by bounded 1-d minimisation (variable
    projection): no starting values needed. VFT needs ``T0 < min T``; parabolic ``T0 >= max T``.
    """
    if form not in FRAGILITY_FORMS:
        raise ValueError(f"form must be one of {FRAGILITY_FORMS}; got {form!r}")
    T = _positive_array("T", T).ravel()
    D = _positive_array("D", D).ravel()
    if T.shape != D.shape:
        raise ValueError(f"T and D must have the same length; got {T.size} and {D.size}")
    if T.size < 4:
        raise ValueError(f"need at least 4 (T, D) points; got {T.size}")
    D_r = _positive("D_r", D_r)
    D_r_ext = _positive("D_r_ext", D_r_ext)
    y = np.log10(D)
    Tmin, Tmax = float(T.min()), float(T.max())

    def basis(theta):
        if form == "vft":
            return 1.0 / (T - theta)
        if form == "myega":
            return np.exp(np.minimum(theta / T, 700.0)) / T
        return (1.0 / T - theta) ** 2

    def solve(theta):
        X = np.column_stack([np.ones_like(T), -basis(theta)])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        r = X @ coef - y
        return float(r @ r), coef

    if form == "vft":
        bounds = (0.0, Tmin * (1 - 1e-6))
    elif form == "myega":
        bounds = (0.0, 40.0 * Tmax)
    else:
        bounds = (0.0, 1.0 / Tmax)
    grid = np.linspace(*bounds, 401)
    sse = np.array([solve(t)[0] for t in grid])
    i = int(np.argmin(sse))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    if b > a:
        res = optimize.minimize_scalar(lambda t: solve(t)[0], bounds=(a, b), method="bounded", options={"xatol": 1e-12 * max(1.0, abs(b))})
        theta = float(res.x) if res.fun <= sse[i] else float(grid[i])
    else:
        theta = float(grid[i])
    s, (A, c) = solve(theta)
    if form == "vft":
        params = {"A": float(A), "B": float(c), "T0": theta}
    elif form == "myega":
        params = {"A": float(A), "K": float(c), "C": theta}
    else:
        params = {"A": float(A), "J": float(c), "T0": (1.0 / theta) if theta > 0 else float("inf")}
    Tg, mk = _tg_mk(form, params, D_r)
    Tge, mke = _tg_mk(form, params, D_r_ext)
    return FragilityFit(form, params, D_r, Tg, mk, D_r_ext, Tge, mke, math.sqrt(s / T.size), int(T.size))


# ==================================================================================== summary
def theory_summary(g, T_I, phi_v, nu_cool: float = 1e-4, w0: float = 1e6, z: int = 4, T_eval=None) -> dict:
    """All headline numbers of the theory for one parameter set, as a JSON-ready dict.

    Keys: parameters (``g``, ``T_I``, ``phi_v``, ``z``, ``nu_cool``, ``w0``, ``T_eval``);
    ``P0``, ``P1``, ``P2`` (continuous density of P(dE) and its derivatives at 0, ``method``),
    ``P_atoms`` (atoms of P as [dE, weight] pairs), ``c1``, ``c3`` (A13), ``c1_eq10``,
    ``c3_eq10`` (uniform g only, else None), ``dE_max`` (Eq. 5 at ``T_eval``, default T_I),
    ``q``, ``phi_TLS``; the next-term diagnostics ``next_term`` and ``next_term_rel``
    (``C_v - c1 T - c3 T^3`` and its ratio to ``C_v``, at ``T_next = T_I/2``, dE_max = inf),
    ``c_next``, ``next_power``, ``T_series_1pct``, ``T_series_10pct``; ``Cv_at_T_next`` (with the
    Eq. 5 cut-off) and ``e_eq``, ``Cv_eq`` at ``T_I``.
    """
    g = _as_g(g)
    T_I = _temperature("T_I", T_I)
    phi_v = _phi_v(phi_v)
    z = _z(z)
    nu_cool = _positive("nu_cool", nu_cool)
    w0 = _positive("w0", w0)
    Te = T_I if T_eval is None else _temperature("T_eval", T_eval)
    exp = Cv_expansion(g, T_I, phi_v, z)
    P = hop_energy_distribution(g, T_I, z)
    pz = P_derivatives_at_zero(g, T_I, z)
    dEm = float(dE_max(Te, nu_cool, w0))
    qv = float(P.cdf(dEm))
    T_next = T_I / 2.0
    ex = z * phi_v * P.expect_Phi(T_next)
    nxt = ex - float(exp.series(T_next))
    c1e = c3e = None
    if isinstance(g, Uniform) and z >= 4:
        c1e, c3e = c1_c3_eq10(T_I, phi_v, g.dV, z)

    def fin(v):
        return None if v is None or not math.isfinite(v) else float(v)

    return {
        "g": g.to_dict(),
        "T_I": T_I,
        "phi_v": phi_v,
        "z": z,
        "nu_cool": nu_cool,
        "w0": w0,
        "T_eval": Te,
        "P0": pz.P0,
        "P1": pz.P1,
        "P2": pz.P2,
        "method": pz.method,
        "P_atoms": [[float(a), float(w)] for a, w in P.atoms],
        "c1": exp.c1,
        "c3": exp.c3,
        "c2": exp.c2,
        "P_kink": pz.kink,
        "c1_eq10": c1e,
        "c3_eq10": c3e,
        "dE_max": dEm,
        "q": qv,
        "phi_TLS": z * qv * phi_v,
        "T_next": T_next,
        "next_term": float(nxt),
        "next_term_rel": float(nxt / ex),
        "c_next": fin(exp.c_next),
        "next_power": fin(exp.next_power),
        "T_series_1pct": exp.T_1pct,
        "T_series_10pct": exp.T_10pct,
        "Cv_at_T_next": float(Cv_tls(T_next, g, T_I, phi_v, z=z, nu_cool=nu_cool, w0=w0)),
        "e_eq": float(e_eq(T_I, g, phi_v, z)),
        "Cv_eq": float(Cv_eq(T_I, g, phi_v, z)),
    }
