"""Kinetic fragility: fits of log10 D(T) by VFT, MYEGA or parabolic forms, their T_g and m_k at a
reference D_r and their extrapolation to another (paper Sec. VI, Fig. 5)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .._validate import positive as _positive, positive_array as _positive_array

__all__ = ["FRAGILITY_FORMS", "FragilityFit", "fit_fragility"]


def _out(a):
    a = np.asarray(a, float)
    return float(a) if a.ndim == 0 else a




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
