"""Argument checks and small helpers shared by the theory modules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import finite as _number
from ..interactions import as_g as _as_g  # noqa: F401 (the theory modules import it from here)


def _phi_v(value: Any) -> float:
    v = _number("phi_v", value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"phi_v must lie in (0, 1); got {value!r}")
    return v


def _z(value: Any) -> int:
    msg = f"z must be an integer >= 2; got {value!r}"
    if isinstance(value, bool):
        raise ValueError(msg)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if not (math.isfinite(f) and f.is_integer() and f >= 2):
        raise ValueError(msg)
    return int(f)


def _out(a):
    a = np.asarray(a, dtype=float)
    return float(a) if a.ndim == 0 else a
