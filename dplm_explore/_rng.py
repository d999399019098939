"""Counter-based hashing and a small fast generator, shared by kernels and references.

* ``xoshiro256+`` (Blackman & Vigna) drives the kinetic Monte Carlo. Its whole state is a
  ``uint64[4]`` array, so a run can be saved and resumed bit for bit.
* Waiting times are unit exponentials from Marsaglia & Tsang's ziggurat on the same stream (one
  draw and no ``log`` in 98.9 % of cases).
* ``splitmix64``'s finaliser hashes ``(run key, min(k, l), max(k, l))`` into the uniform number that
  g(V)'s inverse cdf turns into the pair interaction ``V_kl``; nothing of size N^2 is stored.

Every kernel function has a pure-Python twin (``py_*``) used by the slow reference and the tests.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53

_U_GOLDEN = np.uint64(_GOLDEN)
_U_M1 = np.uint64(_M1)
_U_M2 = np.uint64(_M2)
_U_11 = np.uint64(11)
_U_17 = np.uint64(17)
_U_27 = np.uint64(27)
_U_30 = np.uint64(30)
_U_31 = np.uint64(31)
_U_32 = np.uint64(32)
_U_45 = np.uint64(45)
_U_19 = np.uint64(19)


@jit(inline="always")
def _mix64(x):
    """splitmix64 finaliser of a uint64 (a bijection with full avalanche)."""
    z = x + _U_GOLDEN
    z = (z ^ (z >> _U_30)) * _U_M1
    z = (z ^ (z >> _U_27)) * _U_M2
    return z ^ (z >> _U_31)


@jit(inline="always")
def _pair_uniform(key, k, l):
    """Uniform number in [0, 1) for the unordered pair {k, l} of particle labels under ``key``."""
    lo = k if k < l else l
    hi = l if k < l else k
    packed = (np.uint64(lo) << _U_32) | np.uint64(hi)
    return np.float64(_mix64(_mix64(key ^ packed)) >> _U_11) * _TWO_M53


@jit(inline="always")
def _next_u64(s):
    """Advance the xoshiro256+ state ``s`` (uint64[4]) and return the next output."""
    result = s[0] + s[3]
    t = s[1] << _U_17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = (s[3] << _U_45) | (s[3] >> _U_19)
    return result


@jit(inline="always")
def _uniform(s):
    """Uniform double in [0, 1) from the top 53 bits."""
    return np.float64(_next_u64(s) >> _U_11) * _TWO_M53


# --------------------------------------------------------------------------- exponential variates
ZIG_R = 7.697117470131487  # right edge of the ziggurat's base layer (256 layers)


def _ziggurat_tables(n: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia & Tsang's (2000) ziggurat for the unit exponential, with 256 layers and 53-bit
    draws: ``k`` (uint64 acceptance thresholds), ``w`` (scale of layer i) and ``f`` (exp(-x_i)).
    Computed once, in float64, by the same code for the kernels and their Python twins."""
    m = float(1 << 53)
    de = ZIG_R
    te = de
    ve = 3.949659822581572e-3  # area of each layer
    k = np.zeros(n, dtype=np.uint64)
    w = np.zeros(n)
    f = np.zeros(n)
    q = ve / np.exp(-de)
    k[0] = np.uint64((de / q) * m)
    k[1] = 0
    w[0] = q / m
    w[n - 1] = de / m
    f[0] = 1.0
    f[n - 1] = np.exp(-de)
    for i in range(n - 2, 0, -1):
        de = -np.log(ve / de + np.exp(-de))
        k[i + 1] = np.uint64((de / te) * m)
        te = de
        f[i] = np.exp(-de)
        w[i] = de / m
    return k, w, f


ZIG_K, ZIG_W, ZIG_F = _ziggurat_tables()
_U_3 = np.uint64(3)
_U_255 = np.uint64(255)


@jit(inline="always")
def _exponential(s):
    """Unit exponential variate by the ziggurat: one draw and no ``log`` in 98.9 % of calls.
    Bits 3-10 of a draw pick the layer and its top 53 bits the abscissa (xoshiro256+'s lowest
    three bits are its weakest, so they are not used)."""
    while True:
        r = _next_u64(s)
        i = np.intp((r >> _U_3) & _U_255)
        j = r >> _U_11
        x = np.float64(j) * ZIG_W[i]
        if j < ZIG_K[i]:
            return x
        if i == 0:
            return ZIG_R - math.log(1.0 - _uniform(s))  # the tail beyond R, by memorylessness
        if ZIG_F[i] + _uniform(s) * (ZIG_F[i - 1] - ZIG_F[i]) < math.exp(-x):
            return x


# --------------------------------------------------------------------------- python twins
def py_mix64(x: int) -> int:
    z = (x + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def py_pair_uniform(key: int, k: int, l: int) -> float:
    lo, hi = (k, l) if k < l else (l, k)
    packed = (lo << 32) | hi
    return float(py_mix64(py_mix64(key ^ packed)) >> 11) * _TWO_M53


def py_next_u64(s: list[int]) -> int:
    result = (s[0] + s[3]) & _MASK
    t = (s[1] << 17) & _MASK
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = ((s[3] << 45) & _MASK) | (s[3] >> 19)
    return result


def py_uniform(s: list[int]) -> float:
    return float(py_next_u64(s) >> 11) * _TWO_M53


_ZK = [int(x) for x in ZIG_K]
_ZW = [float(x) for x in ZIG_W]
_ZF = [float(x) for x in ZIG_F]


def py_exponential(s: list[int]) -> float:
    while True:
        r = py_next_u64(s)
        i = (r >> 3) & 255
        j = r >> 11
        x = float(j) * _ZW[i]
        if j < _ZK[i]:
            return x
        if i == 0:
            return ZIG_R - math.log(1.0 - py_uniform(s))
        if _ZF[i] + py_uniform(s) * (_ZF[i - 1] - _ZF[i]) < math.exp(-x):
            return x


def seed_state(entropy: int) -> np.ndarray:
    """xoshiro256+ state (uint64[4], never all zero) from a 64-bit integer via splitmix64."""
    out = np.empty(4, dtype=np.uint64)
    x = entropy & _MASK
    for i in range(4):
        x = (x + _GOLDEN) & _MASK
        out[i] = py_mix64(x - _GOLDEN & _MASK)  # splitmix64 output sequence
    if not out.any():  # pragma: no cover - probability 2**-256
        out[0] = 1
    return out


def normalize_seed(seed) -> int:
    """The one place seeds are normalised: ``None`` (fresh entropy), an int, a
    ``np.random.SeedSequence`` or a ``np.random.Generator``; returns the recorded integer entropy."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"seed must be None, a non-negative int or a numpy Generator; got {seed!r}")
    if isinstance(seed, (int, np.integer)):
        if seed < 0:
            raise ValueError(f"seed must be non-negative; got {seed!r}")
        return int(seed)
    if isinstance(seed, np.random.SeedSequence):
        # children of one spawn share .entropy: draw from the sequence's own state instead
        return int(seed.generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    raise ValueError(f"seed must be None, a non-negative int or a numpy Generator; got {seed!r}")
