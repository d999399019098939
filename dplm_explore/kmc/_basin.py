"""Exact sampling of a trapped void: a two-configuration basin with exits, as an absorbing Markov chain.

A void whose two configurations A (where it is) and B (one hop away) lie out of reach of every other
void is, until something comes within reach, an independent continuous-time Markov chain on
{A, B} with flip rates ``a`` (A -> B), ``b`` (B -> A) and exit rates ``xA``, ``xB`` (the sum of its
other hops from A and from B). Its sub-generator on {A, B} is

    Q = [[-qA, a], [b, -qB]],   qA = a + xA,  qB = b + xB.

:func:`_sample_exit` draws the whole sojourn from A exactly: the number of A -> B -> A cycles is
geometric, the time spent in A and in B are Gamma variates of the numbers of visits, so the exit
time, the configuration it leaves from, the time spent in B and the number of flips are one exact
sample of the chain (MCAMC, Novotny 1995; first-passage KMC, Oppelstrup et al. 2006).

:func:`_sample_survivor` answers an interruption at time ``h`` after the sojourn began, given that
the void has not left: the configuration at ``h`` is drawn from ``exp(Q h)[A, .]`` normalised, and
the time spent in B and the number of flips are their conditional expectations given survival and
that end configuration (closed forms from the spectral decomposition of Q; ``exp(Q h)`` is never
formed, so nothing underflows when survival is small). The flip count is rounded stochastically, so
it is exact in expectation and has the parity of the end configuration.

Random numbers come from the engine's stream (:mod:`dplm_explore._rng`).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from .._rng import _exponential, _uniform

#: Gamma variates of integer shape up to this are sums of exponentials; above, Marsaglia-Tsang
GAMMA_SUM_MAX = 16
#: sojourns with more A -> B -> A cycles than this are left open (duration inf): an interruption
#: ends them first in any program this package runs
MAX_CYCLES = 1e15


@jit(inline="always")
def _std_normal(rng):
    """Standard normal variate (Box-Muller, one of the pair)."""
    u1 = 1.0 - _uniform(rng)  # (0, 1]
    u2 = _uniform(rng)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@jit(inline="always")
def _gamma(rng, n):
    """Gamma(n, 1) variate for a whole number n >= 0 (0 for n = 0)."""
    if n <= 0.0:
        return 0.0
    if n <= GAMMA_SUM_MAX:
        s = 0.0
        for _ in range(int(n)):
            s += _exponential(rng)
        return s
    d = n - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = _std_normal(rng)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - _uniform(rng)
        if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v


@jit(inline="always")
def _cycle_stop(a, xA, b, xB):
    """Probability that a visit to A does not come back to A (exit from A, or flip to B then exit
    from B), computed without cancellation: xA/qA + (a/qA)(xB/qB)."""
    qA = a + xA
    qB = b + xB
    return xA / qA + (a / qA) * (xB / qB)


@jit(inline="always")
def _sample_exit(rng, a, xA, b, xB):
    """One sojourn from A: (duration, time in B, flips, exit configuration 0 = A / 1 = B). The
    duration is inf when neither configuration has an exit (xA = xB = 0)."""
    qA = a + xA
    qB = b + xB
    stop = _cycle_stop(a, xA, b, xB)
    if stop <= 0.0:
        return math.inf, math.inf, 0, 0
    # cycles A -> B -> A completed before the visit to A that ends the sojourn (geometric)
    if stop >= 1.0:
        cycles = 0.0
    else:
        u = 1.0 - _uniform(rng)
        cycles = np.floor(math.log(u) / math.log1p(-stop))
        if cycles > MAX_CYCLES:
            return math.inf, math.inf, 0, 0
    # that last visit to A: exit from A with probability (xA / qA) / stop
    j = 0 if _uniform(rng) * stop < xA / qA else 1
    nA = cycles + 1.0
    nB = cycles + j
    tA = _gamma(rng, nA) / qA
    tB = _gamma(rng, nB) / qB if nB > 0 else 0.0
    flips = int(nA + nB) - 1
    return tA + tB, tB, flips, j


@jit(inline="always")
def _spectral(a, xA, b, xB):
    """(r, lam1, alpha, beta): exp(Q t) = e^{lam1 t} P1 + e^{lam2 t} P2 with lam2 = lam1 - r,
    P1 = [[alpha, a], [b, beta]] / r, P2 = I - P1 (alpha + beta = r), all without cancellation."""
    qA = a + xA
    qB = b + xB
    dq = qA - qB
    r = math.sqrt(dq * dq + 4.0 * a * b)
    s = qA + qB
    det = a * xB + xA * qB  # qA qB - a b
    lam1 = -2.0 * det / (s + r)
    # alpha = (qB - qA + r) / 2, beta = (qA - qB + r) / 2
    if dq <= 0.0:
        alpha = 0.5 * (r - dq)
        beta = 2.0 * a * b / (r - dq) if r - dq > 0.0 else 0.0
    else:
        beta = 0.5 * (r + dq)
        alpha = 2.0 * a * b / (r + dq)
    return r, lam1, alpha, beta


@jit(inline="always")
def _stochastic_round(rng, x):
    """floor(x) or floor(x) + 1, with mean x (x >= 0, at most MAX_CYCLES)."""
    x = min(x, MAX_CYCLES)
    f = np.floor(x)
    return int(f) + (1 if _uniform(rng) < x - f else 0)


@jit(inline="always")
def _sample_survivor(rng, a, xA, b, xB, h):
    """Interruption ``h`` after a sojourn began in A, given no exit so far: (configuration at h
    0 = A / 1 = B, expected time spent in B, flips exact in expectation)."""
    if h <= 0.0:
        return 0, 0.0, 0
    r, lam1, alpha, beta = _spectral(a, xA, b, xB)
    if r <= 0.0:  # a = b = 0: the void cannot flip
        return 0, 0.0, 0
    # everything below is divided by e^{lam1 h}; eps = e^{(lam2 - lam1) h}
    eps = math.exp(-r * h)
    one_m = -math.expm1(-r * h)  # 1 - eps
    i11 = h
    i12 = one_m / r
    i22 = h * eps
    pA = (alpha + beta * eps) / r
    pB = a * one_m / r
    j = 0 if _uniform(rng) * (pA + pB) < pA else 1
    r2 = r * r
    if j == 0:
        occ_b = a * b * (i11 - 2.0 * i12 + i22) / r2
        n_ab = a * b * (alpha * i11 + (beta - alpha) * i12 - beta * i22) / r2
        tB = occ_b / pA
        nab = n_ab / pA
        flips = 2 * _stochastic_round(rng, max(nab, 0.0))
    else:
        occ_b = a * (beta * i11 + (alpha - beta) * i12 - alpha * i22) / r2
        n_ab = a * (alpha * beta * i11 + (alpha * alpha + beta * beta) * i12 + alpha * beta * i22) / r2
        tB = occ_b / pB
        nab = n_ab / pB
        flips = 2 * _stochastic_round(rng, max(nab - 1.0, 0.0)) + 1
    tB = min(max(tB, 0.0), h)
    return j, tB, flips


# ------------------------------------------------------------------------ test entry points
@jit
def _exit_fill(rng, a, xA, b, xB, tau, tb, fl, jj):
    for i in range(tau.shape[0]):
        tau[i], tb[i], fl[i], jj[i] = _sample_exit(rng, a, xA, b, xB)


@jit
def _survivor_fill(rng, a, xA, b, xB, h, jj, tb, fl):
    for i in range(jj.shape[0]):
        jj[i], tb[i], fl[i] = _sample_survivor(rng, a, xA, b, xB, h)


@jit
def _gamma_fill(rng, shape, out):
    for i in range(out.shape[0]):
        out[i] = _gamma(rng, shape)


def exit_samples(rng, a, xA, b, xB, n):
    """``n`` sojourns from A (for tests): durations, times in B, flips, exit configurations."""
    tau, tb, fl, jj = np.empty(n), np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64)
    _exit_fill(rng, float(a), float(xA), float(b), float(xB), tau, tb, fl, jj)
    return tau, tb, fl, jj


def survivor_samples(rng, a, xA, b, xB, h, n):
    """``n`` interruptions at ``h`` (for tests): end configurations, times in B, flips."""
    jj, tb, fl = np.empty(n, np.int64), np.empty(n), np.empty(n, np.int64)
    _survivor_fill(rng, float(a), float(xA), float(b), float(xB), float(h), jj, tb, fl)
    return jj, tb, fl


def gamma_samples(rng, shape, n):
    """``n`` Gamma(shape, 1) variates (for tests)."""
    out = np.empty(n)
    _gamma_fill(rng, float(shape), out)
    return out
