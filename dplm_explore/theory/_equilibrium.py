"""Equilibrium thermodynamics: bonds per particle, e_eq(T), C_v,eq(T)."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from .._validate import positive as _positive
from ..interactions import GDistribution, Uniform
from ._common import _as_g, _out, _phi_v, _z
from .._validate import positive_array as _positive_array


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
