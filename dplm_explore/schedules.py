"""Temperature programs: constant T, linear cooling or heating, and chains of them.

A program is compiled into *steps* of piecewise-constant temperature (docs/physics.md section 1): a
ramp at rate ``nu`` from ``T_start`` to ``T_end`` is cut into steps of ``dT_step`` (the last one
shorter), each held at the temperature of its midpoint for ``dT / nu`` time units. The kernel
recomputes rates at each step boundary and accumulates observables per step, so the steps are also
the temperature bins of C_v(T).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._validate import positive as _positive, temperature as _temperature

__all__ = ["Hold", "Ramp", "Program", "constant", "cooling", "heating", "chain", "make_program", "NU_PAPER"]

#: the paper's cooling rate (temperature per time unit; Figs. 1, 4, 7 and 8 and its Eq. 5)
NU_PAPER = 1e-4


@dataclass(frozen=True)
class Hold:
    """Constant temperature ``T`` for ``duration`` time units (``inf``: until stopped)."""

    T: float
    duration: float = math.inf

    def __post_init__(self):
        object.__setattr__(self, "T", _temperature("T", self.T))
        object.__setattr__(self, "duration", _positive("duration", self.duration, allow_inf=True))

    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([self.T]), np.array([self.duration])

    @property
    def T_end(self) -> float:
        return self.T

    def to_dict(self):
        return {"kind": "hold", "T": self.T, "duration": self.duration}


@dataclass(frozen=True)
class Ramp:
    """Linear change of T from ``T_start`` to ``T_end`` at rate ``nu`` (> 0, temperature per time
    unit; cooling if ``T_end < T_start``), held piecewise constant over steps of ``dT_step``."""

    T_start: float
    T_end: float
    nu: float
    dT_step: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "T_start", _temperature("T_start", self.T_start))
        object.__setattr__(self, "T_end", _temperature("T_end", self.T_end))
        object.__setattr__(self, "nu", _rate("nu", self.nu))
        if self.T_end == self.T_start:
            raise ValueError(f"T_end must differ from T_start; got both {self.T_start!r}")
        span = abs(self.T_end - self.T_start)
        if self.dT_step is None:
            object.__setattr__(self, "dT_step", min(1e-4, span / 100))
        else:
            object.__setattr__(self, "dT_step", _positive("dT_step", self.dT_step))
        if span / self.dT_step > 1e7:
            raise ValueError(f"dT_step={self.dT_step!r} cuts a ramp of {span!r} into more than 1e7 steps")

    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        span = abs(self.T_end - self.T_start)
        n_full = int(math.floor(span / self.dT_step * (1 + 1e-12)))
        edges = list(np.arange(n_full + 1) * self.dT_step)
        if span - edges[-1] > 1e-12 * span:
            edges.append(span)
        edges = np.asarray(edges)
        sign = -1.0 if self.T_end < self.T_start else 1.0
        mids = self.T_start + sign * 0.5 * (edges[1:] + edges[:-1])
        durations = np.diff(edges) / self.nu
        return mids, durations

    def to_dict(self):
        return {"kind": "ramp", "T_start": self.T_start, "T_end": self.T_end, "nu": self.nu, "dT_step": self.dT_step}


Segment = Hold | Ramp


@dataclass(frozen=True)
class Program:
    """A chain of segments run one after the other."""

    segments: tuple

    def __post_init__(self):
        segs = tuple(self.segments)
        if not segs:
            raise ValueError("a temperature program needs at least one segment; got none")
        for i, s in enumerate(segs):
            if not isinstance(s, (Hold, Ramp)):
                raise ValueError(f"segment {i} must be a Hold or a Ramp; got {s!r}")
            if isinstance(s, Hold) and math.isinf(s.duration) and i != len(segs) - 1:
                raise ValueError(f"segment {i} holds forever, so the segments after it never run")
        object.__setattr__(self, "segments", segs)

    def compile(self, t0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(T of each step, absolute end time of each step) starting at time ``t0``."""
        Ts, durs = zip(*(s.steps() for s in self.segments))
        T = np.concatenate(Ts).astype(np.float64)
        d = np.concatenate(durs).astype(np.float64)
        with np.errstate(invalid="ignore"):
            tend = t0 + np.cumsum(d)
        return T, tend

    @property
    def T_initial(self) -> float:
        s = self.segments[0]
        return s.T if isinstance(s, Hold) else s.T_start

    @property
    def T_final(self) -> float:
        return self.segments[-1].T_end

    def to_dict(self) -> dict:
        return {"segments": [s.to_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, d: dict) -> "Program":
        segs = []
        for s in d["segments"]:
            s = dict(s)
            kind = s.pop("kind")
            segs.append(Hold(**s) if kind == "hold" else Ramp(**s))
        return cls(tuple(segs))


#: ramp rates accepted (temperature per time unit): slower ramps would never end in practice
NU_MIN = 1e-12
NU_MAX = 1e12


def _rate(name: str, value) -> float:
    v = _positive(name, value)
    if not NU_MIN <= v <= NU_MAX:
        raise ValueError(f"{name} must lie in [{NU_MIN:g}, {NU_MAX:g}] (temperature per time unit); got {value!r}")
    return v


def constant(T: float, duration: float = math.inf) -> Program:
    """Hold ``T`` (for ever by default)."""
    return Program((Hold(T, duration),))


def cooling(T_I: float, T_final: float, nu: float, *, dT_step: float | None = None, hold_after: float = 0.0) -> Program:
    """Linear cooling from ``T_I`` to ``T_final`` at ``nu``; optionally hold ``T_final``."""
    T_I, T_final, nu = _temperature("T_I", T_I), _temperature("T_final", T_final), _rate("nu", nu)
    if not float(T_final) < float(T_I):
        raise ValueError(f"T_final must be below T_I for cooling; got T_I={T_I!r}, T_final={T_final!r}")
    segs: list = [Ramp(T_I, T_final, nu, dT_step)]
    if hold_after:
        segs.append(Hold(T_final, hold_after))
    return Program(tuple(segs))


def heating(T_start: float, T_end: float, nu: float, *, dT_step: float | None = None) -> Program:
    """Linear heating from ``T_start`` to ``T_end`` at ``nu``."""
    T_start, T_end, nu = _temperature("T_start", T_start), _temperature("T_end", T_end), _rate("nu", nu)
    if not float(T_end) > float(T_start):
        raise ValueError(f"T_end must be above T_start for heating; got T_start={T_start!r}, T_end={T_end!r}")
    return Program((Ramp(T_start, T_end, nu, dT_step),))


def chain(*parts: "Program | Hold | Ramp | Sequence") -> Program:
    """Concatenate programs and segments into one program."""
    segs: list = []
    for p in parts:
        if isinstance(p, Program):
            segs.extend(p.segments)
        elif isinstance(p, (Hold, Ramp)):
            segs.append(p)
        else:
            segs.extend(p)
    return Program(tuple(segs))


def make_program(T_I: float, T_final: float, nu: float, dT_step: float | None = None, hold_after: float = 0.0) -> Program:
    """Cooling (``T_final < T_I``) or heating ramp from ``T_I`` to ``T_final`` at rate ``nu``."""
    if float(T_final) < float(T_I):
        return cooling(T_I, T_final, nu, dT_step=dT_step, hold_after=hold_after)
    if hold_after:
        raise ValueError(f"hold_after applies to cooling only; got hold_after={hold_after!r} with T_final >= T_I")
    return heating(T_I, T_final, nu, dT_step=dT_step)
