"""Closed forms for uniform g (A17) and the T_I -> 0 coefficients of Eq. (10)."""

from __future__ import annotations

import math

import numpy as np

from .._validate import positive as _positive, temperature as _temperature
from ._common import _out, _phi_v, _z


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
