"""One two-level system: its heat capacity Phi (A4), energy (A3) and the integrals I_n (A12)."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special

from ._common import _out
from .._validate import positive_array as _positive_array


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
