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
:func:`bond_excitation_vant_hoff`, :func:`theory_summary`. (Fragility fits are in
:mod:`dplm_explore.analysis.fragility`.)
"""

from __future__ import annotations

from ..interactions import FermiGauss, GDistribution, Uniform, UniformDelta, make_g  # noqa: F401 (the g families, beside the theory of them)
from ._tls import I_n, I_n_exact, Phi, eps_TLS
from ._uniform import P_uniform, P_uniform_low_T, c1_c3_eq10
from ._hop_energy import HopEnergyDistribution, PZero, P_derivatives_at_zero, dE_max, hop_energy_distribution, phi_TLS, q
from ._cv import CvExpansion, Cv_expansion, Cv_tls
from ._equilibrium import Cv_eq, bonds_per_particle, e_eq
from ._glass import BondExcitation, GlassUnits, R_GAS, bond_excitation_paper, bond_excitation_vant_hoff
from ._summary import theory_summary

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
    "theory_summary",
]
