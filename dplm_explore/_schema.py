"""Declared parameters: a dataclass field that carries its bounds and help text.

A g(V) family declares each parameter once, as ``name: float = g_param(default, help=..., lo=...,
hi=...)``; :func:`declared_parameters` reads them back as :class:`GParameter` records, from which
the validation, the command-line options, the app's fields and the sweep keys are all derived.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ._validate import finite

__all__ = ["GParameter", "g_param", "declared_parameters"]

#: key of a field's metadata under which its :class:`GParameter` declaration is kept
_META_KEY = "dplm_parameter"


@dataclass(frozen=True)
class GParameter:
    """One declared parameter: ``name``, ``default``, bounds ``lo``/``hi`` (None: unbounded; open
    when ``lo_open``/``hi_open``) and ``help``."""

    name: str
    default: float
    help: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` with ``-inf``/``inf`` for a missing bound (what a bounded widget needs)."""
        return (-math.inf if self.lo is None else self.lo, math.inf if self.hi is None else self.hi)

    def interval(self) -> str:
        lo, hi = self.bounds
        left = "(" if self.lo is None or self.lo_open else "["
        right = ")" if self.hi is None or self.hi_open else "]"
        return f"{left}{lo:g}, {hi:g}{right}"

    def check(self, value: Any) -> float:
        """``value`` as a finite float inside the bounds; otherwise a ValueError naming both."""
        v = finite(self.name, value)
        lo, hi = self.bounds
        below = v <= lo if self.lo_open else v < lo
        above = v >= hi if self.hi_open else v > hi
        if below or above:
            if self.lo == 0 and self.lo_open and self.hi is None:
                raise ValueError(f"{self.name} must be positive; got {value!r}")
            raise ValueError(f"{self.name} must lie in {self.interval()}; got {value!r}")
        return v


def g_param(default: float, *, help: str, lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    """A dataclass field declaring a parameter (see :class:`GParameter`)."""
    spec = GParameter("", float(default), help, lo, hi, lo_open, hi_open)
    return dataclasses.field(default=float(default), metadata={_META_KEY: spec})


def declared_parameters(cls) -> tuple[GParameter, ...]:
    """The :class:`GParameter` of every field of dataclass ``cls`` declared with :func:`g_param`,
    in field order."""
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_META_KEY)
        if spec is not None:
            out.append(dataclasses.replace(spec, name=f.name))
    return tuple(out)
