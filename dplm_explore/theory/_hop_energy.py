"""P(dE) of a hop attempt from equilibrium at T_I, for any g (grid convolution, A14-A16), and q (Eqs. 4, 5)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft
from scipy import integrate, interpolate

from .._validate import positive as _positive, temperature as _temperature
from ..interactions import GDistribution, Uniform
from ..schedules import NU_PAPER
from ..system import W0_DEFAULT
from ._common import _as_g, _out, _phi_v, _z
from .._validate import positive_array as _positive_array
from ._tls import Phi
from ._uniform import P_uniform


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
def dE_max(T, nu: float = NU_PAPER, w0: float = W0_DEFAULT):
    """Largest energy cost of a hop still possible while cooling through T (Eq. 5):
    ``dE_max = T ln(0.1 w0 T / nu)`` (hop rate ``w0 exp(-dE/T)`` >= ``1/tau``,
    ``tau = 0.1 T / nu``)."""
    T = _positive_array("T", T)
    nu = _positive("nu", nu)
    w0 = _positive("w0", w0)
    return _out(T * np.log(0.1 * w0 * T / nu))


def q(g, T_I, *, T_eval=None, nu: float = NU_PAPER, w0: float = W0_DEFAULT, z: int = 4) -> float:
    """Probability that a hop attempt from equilibrium at ``T_I`` is energetically possible
    (Eq. 4): ``q = Prob(dE <= dE_max(T_eval))``, atoms included.

    ``T_eval`` is the temperature at which Eq. (5) is evaluated; the paper's text implies
    ``T_eval = T_I`` (the default), which gives q(T_I = 0.03) = 0.038 for uniform g
    (``nu = NU_PAPER = 1e-4``), not the quoted 0.05 (see ``docs/physics.md`` section 5).
    """
    P = hop_energy_distribution(g, T_I, z)
    Te = P.T_I if T_eval is None else _temperature("T_eval", T_eval)
    return float(P.cdf(dE_max(Te, nu, w0)))


def phi_TLS(g, T_I, phi_v, *, T_eval=None, nu: float = NU_PAPER, w0: float = W0_DEFAULT, z: int = 4) -> float:
    """TLS density per site ``phi_TLS = z q phi_v`` (Sec. V)."""
    phi_v = _phi_v(phi_v)
    z = _z(z)
    return z * phi_v * q(g, T_I, T_eval=T_eval, nu=nu, w0=w0, z=z)
