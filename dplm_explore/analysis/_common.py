"""Shared helpers of the analyses: replica seeds, system specifications, validation."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import non_negative, positive, positive_int
from ..system import W0_DEFAULT
from ..interactions import as_g

__all__ = ["spawn_seeds", "system_spec", "build_simulation", "as_g", "positive", "positive_int", "non_negative", "window_start"]


def spawn_seeds(seed, n: int) -> tuple[int, np.ndarray]:
    """``(root, seeds)``: the recorded root entropy and ``n`` independent integer seeds from
    ``np.random.SeedSequence(root).spawn(n)`` (each child's first 63-bit state word).

    The children's *integers* are recorded (``SeedSequence.entropy`` is the same for every
    spawned child, so it cannot name a replica); passing ``seeds[i]`` to
    :meth:`Simulation.create` reproduces replica ``i`` exactly.
    """
    from .._rng import normalize_seed

    n = positive_int("n_replicas", n)
    root = normalize_seed(seed)
    kids = np.random.SeedSequence(root).spawn(n)
    seeds = np.array([int(k.generate_state(1, np.uint64)[0] >> np.uint64(1)) for k in kids], dtype=np.int64)
    return root, seeds


def system_spec(L: int, phi_v: float, *, g=None, T_I: float | None = None, init: str = "equilibrium", w0: float = W0_DEFAULT, bonds: str = "peq",
                dynamics: str = "hop") -> dict[str, Any]:
    """The JSON form of a system (:meth:`SystemParams.to_dict`: everything
    :meth:`Simulation.create` needs but the seed and program) with its realised sizes
    ``n_particles``, ``n_voids`` and ``phi_v_realised`` and how it is run (``dynamics``, one of
    :data:`~dplm_explore.kmc.engine.DYNAMICS`); ``g`` as :func:`as_g` takes it."""
    from ..kmc.engine import DYNAMICS
    from ..system import SystemParams

    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}; got {dynamics!r}")
    params = SystemParams(L=L, phi_v=phi_v, g=as_g(g), w0=w0, init=init, T_I=T_I, bonds=bonds)
    return {**params.to_dict(), "n_particles": params.n_particles, "n_voids": params.n_voids, "phi_v_realised": params.phi_v_realised, "dynamics": dynamics}


def build_simulation(spec: dict[str, Any], seed: int, program=None):
    """The :class:`Simulation` a :func:`system_spec` describes, with ``seed`` and ``program``."""
    from ..kmc import Simulation
    from ..system import SystemParams

    p = SystemParams.from_dict({k: spec[k] for k in SystemParams.keys() if k in spec})
    return Simulation.create(p.L, p.phi_v, g=p.g, T_I=p.T_I, init=p.init, seed=int(seed), w0=p.w0, program=program, bonds=p.bonds,
                             dynamics=spec.get("dynamics", "hop"))


def window_start(sim) -> dict[str, Any]:
    """What an analysis of a live ``sim`` records about it at the start of its window:
    ``simulation`` (``sim.provenance()``: params, seed, current program, versions), ``hops_start``,
    ``t_start``, ``T_start`` and ``history`` (the temperature steps run so far, all programs:
    ``T_first``, ``T_last``, ``T_min``, ``T_max``, ``n_steps``, ``time``), so that a
    measurement made after a cooling run (then a constant hold) still names the cooling."""
    b = sim.temperature_bins()
    T = np.asarray(b["T"], float)
    hist = {"n_steps": int(T.size), "time": float(np.sum(b["time"])) if T.size else 0.0}
    if T.size:
        hist.update(T_first=float(T[0]), T_last=float(T[-1]), T_min=float(T.min()), T_max=float(T.max()))
    return {"simulation": sim.provenance(), "hops_start": int(sim.hops), "t_start": float(sim.t), "T_start": float(sim.T), "history": hist}
