"""Every number of the theory for one parameter set (the ``dplm-explore theory`` table)."""

from __future__ import annotations

import math


from .._validate import positive as _positive, temperature as _temperature
from ..interactions import Uniform
from ..schedules import NU_PAPER
from ..system import W0_DEFAULT
from ._common import _as_g, _phi_v, _z
from ._uniform import c1_c3_eq10
from ._hop_energy import P_derivatives_at_zero, dE_max, hop_energy_distribution
from ._cv import Cv_expansion, Cv_tls
from ._equilibrium import Cv_eq, e_eq


def theory_summary(g, T_I, phi_v, nu: float = NU_PAPER, w0: float = W0_DEFAULT, z: int = 4, T_eval=None) -> dict:
    """All headline numbers of the theory for one parameter set, as a JSON-ready dict.

    Keys: parameters (``g``, ``T_I``, ``phi_v``, ``z``, ``nu``, ``w0``, ``T_eval``);
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
    nu = _positive("nu", nu)
    w0 = _positive("w0", w0)
    Te = T_I if T_eval is None else _temperature("T_eval", T_eval)
    exp = Cv_expansion(g, T_I, phi_v, z)
    P = hop_energy_distribution(g, T_I, z)
    pz = P_derivatives_at_zero(g, T_I, z)
    dEm = float(dE_max(Te, nu, w0))
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
        "nu": nu,
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
        "Cv_at_T_next": float(Cv_tls(T_next, g, T_I, phi_v, z=z, nu=nu, w0=w0)),
        "e_eq": float(e_eq(T_I, g, phi_v, z)),
        "Cv_eq": float(Cv_eq(T_I, g, phi_v, z)),
    }
