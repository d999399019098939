"""The package's argument checks: each raises ValueError naming the parameter and the value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["number", "finite", "positive", "non_negative", "unit_interval", "positive_int", "temperature", "positive_array", "T_MIN", "T_MAX"]

#: temperatures the package computes with, in units of the interaction scale (k_B = 1): below
#: T_MIN every Boltzmann factor of a unit energy underflows, above T_MAX the theory's grids do
T_MIN = 1e-6
T_MAX = 1e6


def number(name: str, value: Any) -> float:
    """``float(value)``; booleans and non-numbers are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number; got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None


def finite(name: str, value: Any) -> float:
    v = number(name, value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


def positive(name: str, value: Any, *, allow_inf: bool = False) -> float:
    """A positive number, finite unless ``allow_inf``."""
    v = number(name, value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite; got {value!r}")
    if not v > 0:
        raise ValueError(f"{name} must be positive; got {value!r}")
    return v


def non_negative(name: str, value: Any) -> float:
    v = number(name, value)
    if not (v >= 0 and math.isfinite(v)):
        raise ValueError(f"{name} must be non-negative and finite; got {value!r}")
    return v


def unit_interval(name: str, value: Any) -> float:
    v = finite(name, value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1]; got {value!r}")
    return v


def positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (an integral float is accepted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)) or not math.isfinite(float(value)) or int(value) != value or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def temperature(name: str, value: Any) -> float:
    """A temperature in ``[T_MIN, T_MAX]``."""
    v = positive(name, value)
    if not T_MIN <= v <= T_MAX:
        raise ValueError(f"{name} must lie in [{T_MIN:g}, {T_MAX:g}] (units of the interaction scale); got {value!r}")
    return v


def positive_array(name: str, value: Any) -> np.ndarray:
    """A float array of positive finite numbers (at least one)."""
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be positive numbers; got {value!r}") from None
    if a.size == 0 or not np.all(np.isfinite(a)) or not np.all(a > 0):
        raise ValueError(f"{name} must be positive and finite; got {value!r}")
    return a


def is_number(x) -> bool:
    """A real number, not a bool and not NaN."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) and not math.isnan(float(x))


def is_count(x) -> bool:
    """A finite non-negative whole number (int or integral float)."""
    return is_number(x) and math.isfinite(float(x)) and float(x) >= 0 and int(x) == x
