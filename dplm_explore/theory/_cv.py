"""C_v of the TLS (A5/A6) and its low-T expansion c1, c3 (A13)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import temperature as _temperature
from ..interactions import GDistribution
from ..schedules import NU_PAPER
from ..system import W0_DEFAULT
from ._common import _as_g, _out, _phi_v, _z
from .._validate import positive_array as _positive_array
from ._tls import _J
from ._uniform import _c1, _c3
from ._hop_energy import P_derivatives_at_zero, dE_max, hop_energy_distribution


def Cv_tls(T, g, T_I, phi_v, *, z: int = 4, dE_max_mode: Any = "eq5", nu: float = NU_PAPER, w0: float = W0_DEFAULT):
    """TLS specific heat per particle ``C_v(T) = z phi_v int_{-inf}^{dE_max} P(dE) Phi(dE; T)``
    (Eq. A5), by quadrature of the numerically convolved ``P``.

    ``dE_max_mode``: 'eq5' (default; Eq. 5 at the current T with ``nu``, ``w0``),
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
                cut = float(dE_max(Tk, nu, w0))
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
