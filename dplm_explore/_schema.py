"""Declared parameters: a dataclass field that carries its default, bounds and help text.

A parameter is declared once, as a field ``name: float = param(default, help=..., lo=...,
hi=...)`` (a g(V) family's with :func:`g_param`); :func:`declared_parameters` reads the
declarations back as :class:`Parameter` records, from which the validation, the command-line
options, the app's fields and the sweep keys are all derived.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ._validate import finite

__all__ = ["Parameter", "REQUIRED", "param", "g_param", "declared_parameters"]

#: key of a field's metadata under which its :class:`Parameter` declaration is kept
_META_KEY = "dplm_parameter"
#: the default of a parameter that has none (it must be given)
REQUIRED = dataclasses.MISSING


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: ``name``, ``default`` (:data:`REQUIRED`: none) and ``help``.

    A number (``kind`` float or int) has bounds ``lo``/``hi`` (None: unbounded; open when
    ``lo_open``/``hi_open``); a name (``kind`` str) is one of ``choices``. ``validate(name,
    value)``, when given, is the check instead of the bounds (which then only describe it)."""

    name: str
    default: Any
    help: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    kind: type = float
    choices: tuple = ()
    validate: Callable[[str, Any], Any] | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` with ``-inf``/``inf`` for a missing bound (what a bounded widget needs)."""
        return (-math.inf if self.lo is None else self.lo, math.inf if self.hi is None else self.hi)

    def interval(self) -> str:
        lo, hi = self.bounds
        left = "(" if self.lo is None or self.lo_open else "["
        right = ")" if self.hi is None or self.hi_open else "]"
        return f"{left}{lo:g}, {hi:g}{right}"

    def domain(self) -> str:
        """The values accepted, in words: ``in [0, 1]``, ``an integer >= 3``, ``one of a, b``."""
        if self.kind is str:
            return "one of " + ", ".join(self.choices)
        if self.kind is int:
            return f"an integer >= {self.lo:g}" if self.hi is None else f"an integer in {self.interval()}"
        return f"in {self.interval()}"

    def check(self, value: Any) -> Any:
        """``value`` as the declared kind inside the bounds (or among the choices); otherwise a
        ValueError naming the parameter and the value."""
        if self.validate is not None:
            return self.validate(self.name, value)
        if self.kind is str:
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {self.choices}; got {value!r}")
            return value
        if self.kind is int:
            return self._check_int(value)
        v = finite(self.name, value)
        lo, hi = self.bounds
        below = v <= lo if self.lo_open else v < lo
        above = v >= hi if self.hi_open else v > hi
        if below or above:
            if self.lo == 0 and self.lo_open and self.hi is None:
                raise ValueError(f"{self.name} must be positive; got {value!r}")
            raise ValueError(f"{self.name} must lie in {self.interval()}; got {value!r}")
        return v

    def _check_int(self, value: Any) -> int:
        lo, hi = self.bounds
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise ValueError(f"{self.name} must be {self.domain()}; got {value!r}")
        return int(value)


def param(default: Any = REQUIRED, *, help: str, lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
          kind: type = float, choices: tuple = (), validate: Callable[[str, Any], Any] | None = None):
    """A dataclass field declaring a parameter (see :class:`Parameter`); without ``default`` the
    field must be given."""
    spec = Parameter("", default, help, lo, hi, lo_open, hi_open, kind, tuple(choices), validate)
    if default is REQUIRED:
        return dataclasses.field(metadata={_META_KEY: spec})
    return dataclasses.field(default=default, metadata={_META_KEY: spec})


def g_param(default: float, *, help: str, lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    """A dataclass field declaring a g(V) parameter: a float with a default (see :func:`param`)."""
    return param(float(default), help=help, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)


def declared_parameters(cls) -> tuple[Parameter, ...]:
    """The :class:`Parameter` of every field of dataclass ``cls`` declared with :func:`param`,
    in field order."""
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_META_KEY)
        if spec is not None:
            out.append(dataclasses.replace(spec, name=f.name))
    return tuple(out)
