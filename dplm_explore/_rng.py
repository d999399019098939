"""Counter-based hashing and a small fast generator, shared by kernels and references.

* ``xoshiro256+`` (Blackman & Vigna) drives the kinetic Monte Carlo. Its whole state is a
  ``uint64[4]`` array, so a run can be saved and resumed bit for bit.
* ``splitmix64``'s finaliser hashes ``(run key, min(k, l), max(k, l))`` into the uniform number that
  g(V)'s inverse cdf turns into the pair interaction ``V_kl``; nothing of size N^2 is stored.

Every kernel function has a pure-Python twin (``py_*``) used by the slow reference and the tests.
"""

from __future__ import annotations

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


@jit(inline="always")
def _uniform_open0(s):
    """Uniform double in (0, 1]: safe inside ``log``."""
    return (np.float64(_next_u64(s) >> _U_11) + 1.0) * _TWO_M53


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


def py_uniform_open0(s: list[int]) -> float:
    return (float(py_next_u64(s) >> 11) + 1.0) * _TWO_M53


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
