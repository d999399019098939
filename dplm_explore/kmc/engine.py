"""The simulation engine: a small Python object owning the structure-of-arrays state and calling
the private kernel in chunks (by hops, simulated time, target temperature or wall-clock budget),
so a UI can draw between chunks and a background thread can run the GIL-free kernel.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from .._version import __version__
from .._rng import normalize_seed, seed_state
from .._validate import is_count, is_number
from ..equilibrium import InitialState
from ..interactions import GDistribution
from ..system import W0_DEFAULT, W0_MAX, W0_MIN, SystemParams  # noqa: F401 (SystemParams and the w0 range are the engine's too)
from ..lattice import neighbour_table, scan_offsets, site_xy
from ..schedules import Program, constant
from . import _kernel as K
from . import _state as ST
from . import _trap as T_
from ._persist import STATE_FORMAT, TRACER_CAPACITY, check_traps, load_state, save_state, validate
from ._build import given_system, new_system
from ._state import pack_genesis
from ._tracers import drain, joined, tracer_request

__all__ = ["SystemParams", "Simulation", "ChunkReport", "normalize_seed", "STATE_FORMAT"]

#: how the Markov chain is advanced: every hop ("hop"), or with isolated two-configuration voids'
#: sojourns drawn whole ("first-passage", :mod:`dplm_explore.kmc._trap`); the same chain in law
DYNAMICS = ("hop", "first-passage")


#: an advance() without hops or wall that would take more hops than this (at the current total
#: rate, about a day on one core) is refused rather than left to run unseen
MAX_UNBOUNDED_HOPS = 1e12
@dataclass
class ChunkReport:
    """What one call of :meth:`Simulation.advance` did."""

    hops: int
    t: float
    T: float
    energy_per_particle: float
    reason: str
    wall_s: float

    @property
    def hops_per_s(self) -> float:
        return self.hops / self.wall_s if self.wall_s > 0 else float("nan")


_REASONS = {
    K.STOP_HOPS: "hops",
    K.STOP_TIME: "time",
    K.STOP_PROGRAM_END: "program-end",
    K.STOP_SAMPLES_FULL: "samples-full",
    K.STOP_LOG_FULL: "log-full",
    K.STOP_FROZEN: "frozen",
}

#: the fields a state file holds (:mod:`._state`)
_STATE_ARRAYS = ST.SAVED
#: the event log of a call that logs nothing
_NO_LOG = np.zeros((0, 2), dtype=np.int64)
_NO_LOG_T = np.zeros(0)


class Simulation:
    """A DPLM system and its kinetic Monte Carlo.

    Build one with :meth:`create` (equilibrium at ``T_I`` or random start) or
    :meth:`from_configuration` (explicit arrangement and, optionally, an explicit interaction
    table for small test systems); run it with :meth:`advance`; read observables from the
    accumulators; :meth:`save` and :meth:`load` round-trip exactly.
    """

    # ------------------------------------------------------------------ construction
    def __init__(self, params: SystemParams, seed: int, init: InitialState, program: Program | None, dense: np.ndarray | None = None, _setup_s: float = 0.0,
                 dynamics: str = "hop"):
        self.dynamics = dynamics
        self.params = params
        self.seed = seed
        L, Nv = params.L, params.n_voids
        self._fresh(ST.SAVED)
        self._structure()
        _, key_seq, kmc_seq = np.random.SeedSequence(seed).spawn(3)
        self._key = np.uint64(key_seq.generate_state(1, np.uint64)[0])
        self._rng = seed_state(int(kmc_seq.generate_state(1, np.uint64)[0]))
        self._gkind, self._gpar, self._gtab = params.g.kernel_spec()
        self._occ = np.ascontiguousarray(init.occ, dtype=np.int32)
        parts = self._occ >= 0
        self._ppos[self._occ[parts]] = np.flatnonzero(parts)
        self._vpos[-self._occ[~parts] - 1] = np.flatnonzero(~parts)
        self._ppos0 = self._ppos.copy()
        self._vpos0 = self._vpos.copy()
        self._gen = pack_genesis(init.gpart, init.gV)
        if dense is not None:
            self._dense = np.ascontiguousarray(dense, dtype=np.float64)
        K._init_bonds(self._occ, self._nbr, self._bond, self._group("interactions"))
        self._is_[K.I_HOT] = -1
        self._is_[K.I_PREV] = -1
        self._is_[K.I_P] = ST.tree_leaves(Nv)
        self._is_[K.I_L] = L
        self._fs[K.F_W0] = params.w0
        self._fs[K.F_E] = self.energy_from_scratch()
        self._set_tracer_arrays(np.zeros(0, np.int32), np.zeros(0, np.int32), math.inf, 1)
        self.setup_s = _setup_s
        self.program: Program | None = None
        if program is None:
            if params.T_I is None:
                raise ValueError("program is required when there is no T_I to hold; got program=None, T_I=None (e.g. program=constant(0.1))")
            program = constant(params.T_I)
        self.set_program(program)

    def _dims(self) -> dict[str, int]:
        p = self.params
        return ST.dims(p.L, p.n_particles, p.n_voids, self._step_T.shape[0], self._hist_T.shape[0])

    def _fresh(self, names) -> None:
        """Fields ``names`` as a new system starts them (:func:`._state.fresh`)."""
        d = ST.dims(self.params.L, self.params.n_particles, self.params.n_voids)
        for name in names:
            setattr(self, "_" + name, ST.fresh(name, d))

    def _structure(self) -> None:
        """The lattice's neighbour table and scan offsets (rebuilt, never saved)."""
        L = self.params.L
        self._nbr = neighbour_table(L)
        self._offsets = scan_offsets()
        self._lin = (self._offsets[..., 0] + L * self._offsets[..., 1]).astype(np.int64)

    def _group(self, name: str):
        return ST.group(self, name)

    @property
    def dynamics(self) -> str:
        """'hop' or 'first-passage' (see :data:`DYNAMICS`); may be switched between calls."""
        return self._dynamics

    @dynamics.setter
    def dynamics(self, value: str) -> None:
        _check_dynamics(value)
        if value == "hop" and getattr(self, "_fp_i", None) is not None:
            self.settle()  # hop by hop knows no open sojourns
        self._dynamics = value

    @property
    def trapped(self) -> int:
        """Voids whose sojourn is open (first-passage dynamics); :meth:`settle` ends them."""
        return int(self._fp_i[:, 0].sum())

    def settle(self) -> int:
        """Put every trapped void in its place now (first-passage dynamics: a configuration drawn
        given that it has not left, its sojourn booked). Until then, :attr:`energy`, the lattice
        and the current step's accumulators show trapped voids where their sojourns began.
        The engine settles before a new program, new tracers and event logging; analyses settle
        at their window boundaries. Returns the voids settled (0 in hop dynamics)."""
        if not self._fp_i[:, 0].any():
            return 0
        g = self._group
        return int(T_._settle(self._rng, g("lattice"), g("rates"), g("cache"), g("accumulators"), g("traps"), g("program")))

    @property
    def sojourn_counts(self) -> dict[str, int]:
        """First-passage bookkeeping since this object was made: sojourns begun, ended by an exit,
        ended by an interruption, and the flips they stood for."""
        n = self._fp_n
        return {"sojourns": int(n[0]), "exits": int(n[1]), "interruptions": int(n[2]), "flips": int(n[3])}

    @property
    def gpart(self) -> np.ndarray:
        """int32[N, 4] partners of the stored genesis bonds (-1 = empty)."""
        return self._gen[:, :4].astype(np.int32)

    @property
    def gV(self) -> np.ndarray:
        """float64[N, 4] interactions of the stored genesis bonds."""
        return self._gen[:, 4:].copy()

    def __repr__(self) -> str:
        p = self.params
        return (f"Simulation(L={p.L}, n_voids={p.n_voids} (phi_v={p.phi_v_realised:.4g}), g={p.g.describe()}, "
                f"w0={p.w0:g}, seed={self.seed}, T={self.T:.4g}, t={self.t:.6g}, hops={self.hops}, "
                f"e={self.energy_per_particle:.6f})")

    @classmethod
    def create(cls, L: int, phi_v: float, *, g: GDistribution | None = None, T_I: float | None = None, init: str = "equilibrium", seed=None,
               w0: float = W0_DEFAULT, program: Program | None = None, bonds: str = "peq", void_moves: int | None = None,
               dynamics: str = "hop") -> "Simulation":
        """A new system: exact equilibrium at ``T_I`` (default) or a random start
        (``init='random'``). ``program`` defaults to holding ``T_I``; ``dynamics`` is one of
        :data:`DYNAMICS`."""
        t0 = time.perf_counter()
        _check_dynamics(dynamics)
        params, entropy, state = new_system(L, phi_v, g=g, T_I=T_I, init=init, seed=seed, w0=w0, bonds=bonds, void_moves=void_moves)
        return cls(params, entropy, state, program, _setup_s=time.perf_counter() - t0, dynamics=dynamics)

    @classmethod
    def from_configuration(cls, L: int, occ, *, g: GDistribution | None = None, V_table=None, genesis=None, seed=None, w0: float = W0_DEFAULT,
                           program: Program | None = None, T_I: float | None = None, dynamics: str = "hop") -> "Simulation":
        """A system with an explicit arrangement ``occ`` (int[L*L] or int[L, L]: particle label
        0..N-1, or -1 for a void). ``V_table`` (float[N, N], symmetric) fixes every interaction
        (small systems); otherwise pairs come from g by hashing, with ``genesis`` (float[M]
        values for the occupied neighbour pairs in :func:`occupied_pairs` order) stored."""
        _check_dynamics(dynamics)
        params, entropy, state, dense = given_system(L, occ, g=g, V_table=V_table, genesis=genesis, seed=seed, w0=w0, T_I=T_I)
        return cls(params, entropy, state, program, dense=dense, dynamics=dynamics)

    # ------------------------------------------------------------------ program
    def set_program(self, program: Program) -> None:
        """Run ``program`` from the current time on. The accumulators of the steps already run are
        kept in the history; a pending waiting time is dropped (the temperature changes now)."""
        if not isinstance(program, Program):
            raise ValueError(f"program must be a schedules.Program; got {program!r}")
        self.settle()
        self._archive_program()
        t = self._fs[K.F_T]
        self.program = program
        self.program_t0 = t
        self._step_T, self._step_tend = program.compile(t)
        self._acc_f = np.zeros((self._step_T.size, 3))
        self._acc_i = np.zeros((self._step_T.size, 5), dtype=np.int64)
        self._is_[K.I_STEP] = 0
        self._is_[K.I_PENDING] = 0
        self._fs[K.F_TEMP] = self._step_T[0]
        g = self._group
        K._all_rates(g("lattice"), g("interactions"), g("rates"), g("cache"), g("program"), self.params.w0, self._step_T[0])

    def _archive_program(self) -> None:
        if self._acc_f.shape[0] == 0:
            return
        k = min(int(self._is_[K.I_STEP]), self._step_T.size - 1)
        n = k + 1
        t0 = np.concatenate([[self.program_t0], self._step_tend[:-1]])[:n]
        t1 = np.minimum(self._step_tend[:n], self._fs[K.F_T])
        self._hist_T = np.concatenate([self._hist_T, self._step_T[:n]])
        self._hist_t0 = np.concatenate([self._hist_t0, t0])
        self._hist_t1 = np.concatenate([self._hist_t1, t1])
        self._hist_f = np.concatenate([self._hist_f, self._acc_f[:n]])
        self._hist_i = np.concatenate([self._hist_i, self._acc_i[:n]])

    @property
    def program_done(self) -> bool:
        return int(self._is_[K.I_STEP]) >= self._step_T.size

    def time_at_T(self, T_target: float) -> float:
        """Start time of the first program step, from the current one on, whose temperature is at
        or beyond ``T_target`` coming from the current temperature (``inf`` if none is)."""
        k = min(int(self._is_[K.I_STEP]), self._step_T.size - 1)
        T = self._step_T[k:]
        starts = np.concatenate([[self.program_t0], self._step_tend[:-1]])[k:]
        idx = np.flatnonzero(T <= T_target) if T_target <= self.T else np.flatnonzero(T >= T_target)
        if idx.size == 0:
            return math.inf
        return max(float(starts[idx[0]]), self.t)

    # ------------------------------------------------------------------ tracers
    def _set_tracer_arrays(self, tr_p, tr_v, interval, capacity, max_samples=None):
        self._tr_p = np.ascontiguousarray(tr_p, dtype=np.int32)
        self._tr_v = np.ascontiguousarray(tr_v, dtype=np.int32)
        self._samp_t = np.zeros(capacity)
        self._samp_p = np.zeros((capacity, self._tr_p.size, 2), dtype=np.int32)
        self._samp_v = np.zeros((capacity, self._tr_v.size, 2), dtype=np.int32)
        self._fs[K.F_SAMPLE_DT] = interval
        self._fs[K.F_NEXT_SAMPLE] = self._fs[K.F_T] + interval if self._tr_p.size + self._tr_v.size else math.inf
        self._is_[K.I_NSAMP] = 0
        self._samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._max_samples = max_samples

    def track(self, *, particles=(), voids=(), interval: float, capacity: int = TRACER_CAPACITY, max_samples: int | None = None) -> None:
        """Sample the unwrapped positions of chosen particles and voids every ``interval`` time
        units from now on (read them with :meth:`samples`). ``max_samples``: when more samples than
        this wait to be read, every other one is dropped and the interval doubled (a live view
        stays bounded however slow the dynamics gets; the kept samples are still exact)."""
        request = tracer_request(particles, voids, interval, capacity, max_samples, self.params.n_particles, self.params.n_voids)
        self.settle()
        self._set_tracer_arrays(*request)

    @property
    def sample_interval(self) -> float:
        """Interval of the tracer samples (:meth:`track`); ``inf`` when nothing is tracked."""
        return float(self._fs[K.F_SAMPLE_DT]) if self._tr_p.size + self._tr_v.size else math.inf

    def _drain_samples(self):
        self._samples, halved = drain(self._samples, self._samp_t, self._samp_p, self._samp_v, int(self._is_[K.I_NSAMP]), self._max_samples)
        self._is_[K.I_NSAMP] = 0
        if halved:
            self._fs[K.F_SAMPLE_DT] *= 2.0

    def samples(self, clear: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times float[n], particle positions float[n, a, 2], void positions float[n, b, 2]) of the
        tracked particles and voids, unwrapped, in lattice units; ``clear`` empties the buffer."""
        self._drain_samples()
        t, dp, dv = joined(self._samples, self._tr_p.size, self._tr_v.size)
        if clear:
            self._samples = []
        L = self.params.L
        xp = site_xy(self._ppos0[self._tr_p], L)[None] + dp
        xv = site_xy(self._vpos0[self._tr_v], L)[None] + dv
        return t, xp, xv

    # ------------------------------------------------------------------ running
    def _call(self, max_hops: int, t_stop: float, ev_log=None, ev_t=None):
        ev = ST.EventLog(_NO_LOG, _NO_LOG_T) if ev_log is None else ST.EventLog(ev_log, ev_t)
        g = self._group
        status, done = K._advance(g("lattice"), g("interactions"), self._rng, g("rates"), g("cache"), g("traps"), g("program"), g("accumulators"),
                                  g("tracers"), ev, np.int64(self._dynamics == "first-passage"), np.int64(max_hops), float(t_stop))
        return int(status), int(done)

    def advance(self, hops: int | None = None, *, time: float | None = None, until_T: float | None = None, wall: float | None = None, progress: bool = False, chunk_hops: int | None = None) -> ChunkReport:
        """Run until the first of: ``hops`` more hops; simulated time advanced by ``time`` (the
        clock stops exactly there, the next event stays pending); the program reaching ``until_T``
        (from the current step on); ``wall`` seconds of wall clock; the end of the temperature
        program. With none given the program is run to its end (it must be finite). ``progress``
        shows a tqdm bar."""
        if hops is not None and not is_count(hops):
            raise ValueError(f"hops must be a non-negative integer; got {hops!r}")
        for name, val in (("time", time), ("wall", wall)):
            if val is not None and not (is_number(val) and float(val) >= 0):
                raise ValueError(f"{name} must be a non-negative number; got {val!r}")
        if until_T is not None and not (is_number(until_T) and 0 < float(until_T) < math.inf):
            raise ValueError(f"until_T must be positive and finite; got {until_T!r}")
        if chunk_hops is not None and not (is_count(chunk_hops) and chunk_hops >= 1):
            raise ValueError(f"chunk_hops must be a positive integer; got {chunk_hops!r}")
        t_start = float(self._fs[K.F_T])
        t_stop = math.inf
        if time is not None:
            t_stop = t_start + float(time)
        if until_T is not None:
            t_T = self.time_at_T(float(until_T))
            if math.isinf(t_T):
                raise ValueError(f"until_T={until_T!r} is never reached by the current program (T = {self.T!r} now, {self.program.T_final!r} at its end)")
            t_stop = min(t_stop, t_T)
        if hops is None and wall is None and math.isinf(t_stop) and math.isinf(self._step_tend[-1]):
            raise ValueError("advance() needs hops, a finite time, until_T or wall when the program never ends")
        if hops is None and wall is None:
            span = min(t_stop, float(self._step_tend[-1])) - t_start
            expected = span * self.total_rate
            if expected > MAX_UNBOUNDED_HOPS:
                raise ValueError(f"advance() would run about {expected:.3g} hops ({span:.3g} time units at the current total rate "
                                 f"{self.total_rate:.3g}); give hops or wall to bound it")
        remaining = math.inf if hops is None else int(hops)
        wall0 = _now()
        done_total = 0
        reason = "hops"
        bar = None
        by_time = False
        if progress:
            from tqdm.auto import tqdm

            t_end = min(t_stop, float(self._step_tend[-1]))
            if hops is None and math.isfinite(t_end):
                # a finite program: the bar follows simulated time, hops/s in the postfix
                by_time = True
                bar = tqdm(total=t_end - t_start, unit="t", dynamic_ncols=True, mininterval=0.5,
                           bar_format="{l_bar}{bar}| {n:.4g}/{total:.4g} [{elapsed}<{remaining}{postfix}]")
            else:
                bar = tqdm(total=None if hops is None else int(hops), unit="hop", unit_scale=True, dynamic_ncols=True, mininterval=0.5)
        chunk = chunk_hops or 200_000
        try:
            while True:
                if self.program_done:
                    reason = "program-end"
                    break
                if remaining <= 0:
                    reason = "hops"
                    break
                n = int(min(remaining, chunk))
                c0 = _now()
                status, done = self._call(n, t_stop)
                dt = _now() - c0
                done_total += done
                remaining -= done
                if bar is not None:
                    bar.update(self.t - bar.n - t_start if by_time else done)
                    bar.set_postfix(T=f"{self.T:.4g}", e=f"{self.energy_per_particle:.4f}", hops=f"{done_total:.3g}", refresh=False)
                if status == K.STOP_SAMPLES_FULL:
                    self._drain_samples()
                    continue
                if status != K.STOP_HOPS:
                    reason = _REASONS[status]
                    break
                if wall is not None:
                    elapsed = _now() - wall0
                    if elapsed >= wall:
                        reason = "wall"
                        break
                    # aim for about 20 ms per kernel call so the clock is checked often
                    if chunk_hops is None and dt > 0:
                        chunk = int(np.clip(done / dt * min(0.02, wall - elapsed + 1e-3), 1000, 5_000_000))
                elif chunk_hops is None and dt > 0:
                    chunk = int(np.clip(done / dt * 0.25, 10_000, 20_000_000))
        finally:
            if bar is not None:
                bar.close()
        return ChunkReport(done_total, self.t, self.T, self.energy_per_particle, reason, _now() - wall0)

    def record_events(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Run ``n`` hops (fewer if the program ends) logging each event: returns
        (int64[m, 2] of (void, direction d of the hopping particle's origin seen from the void),
        float[m] event times). The trajectory is the same as with :meth:`advance`."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer; got {n!r}")
        self.settle()  # logged runs trap nothing: every hop is an event
        log = np.zeros((int(n), 2), dtype=np.int64)
        ts = np.zeros(int(n))
        self._is_[K.I_NLOG] = 0
        done = 0
        while done < n and not self.program_done:
            status, _ = self._call(int(n) - done, math.inf, log, ts)
            done = int(self._is_[K.I_NLOG])
            if status == K.STOP_SAMPLES_FULL:
                self._drain_samples()
            elif status not in (K.STOP_HOPS, K.STOP_LOG_FULL):
                break
        m = int(self._is_[K.I_NLOG])
        self._is_[K.I_NLOG] = 0
        return log[:m], ts[:m]

    # ------------------------------------------------------------------ observables
    @property
    def t(self) -> float:
        """Simulated time (time of the last event or program step end)."""
        return float(self._fs[K.F_T])

    @property
    def T(self) -> float:
        """Current temperature."""
        return float(self._fs[K.F_TEMP])

    @property
    def hops(self) -> int:
        return int(self._is_[K.I_HOPS])

    @property
    def energy(self) -> float:
        """Total energy E, tracked incrementally (Kahan-compensated)."""
        return float(self._fs[K.F_E])

    @property
    def energy_per_particle(self) -> float:
        return self.energy / self.params.n_particles

    @property
    def total_rate(self) -> float:
        """Sum of the rates of every possible hop (the BKL total: mean waiting time 1 / total)."""
        return float(self._fs[K.F_RHOT] + self._tree[0])

    @property
    def cache_hits(self) -> int:
        """Hops into a configuration whose rates were restored from the void's node cache."""
        return int(self._is_[K.I_CACHE_HITS])

    def energy_from_scratch(self) -> float:
        """Total energy recomputed from every occupied bond's interaction (no cache)."""
        return float(K._energy_from_scratch(self._occ, self._nbr, self._group("interactions")))

    def pair_V(self, p: int, q: int) -> float:
        """Interaction between two distinct particles ``p`` and ``q`` (ids in ``[0, N)``) as the
        dynamics sees it."""
        N = self.params.n_particles
        for name, x in (("p", p), ("q", q)):
            if not is_count(x) or int(x) >= N:
                raise ValueError(f"{name} must be a particle id in [0, {N}); got {x!r}")
        if int(p) == int(q):
            raise ValueError(f"p and q must be two different particles; got p = q = {int(p)}")
        return float(K._V(int(p), int(q), self._group("interactions")))

    def lattice(self) -> np.ndarray:
        """int32[L, L] copy of the occupancy: particle label, or -(v+1) for void v; ``[y, x]``.
        Reading the configuration settles trapped voids (:meth:`settle`), here and below."""
        self.settle()
        L = self.params.L
        return self._occ.reshape(L, L).copy()

    def void_occupation(self) -> np.ndarray:
        """Time each site held a void since the start (or the last reset), float[L, L], including
        the current stay of every void."""
        self.settle()
        vt = self._void_time.copy()
        np.add.at(vt, self._vpos, self.t - self._v_arrive)
        return vt.reshape(self.params.L, self.params.L)

    def reset_void_occupation(self) -> None:
        """Start a new void-occupation window now (the per-site times are zeroed)."""
        self.settle()
        self._void_time[:] = 0.0
        self._v_arrive[:] = self.t

    def temperature_bins(self) -> dict[str, np.ndarray]:
        """Accumulators per temperature step of every program run so far (history + current):
        T, t0, t1, time, E_mean (time-averaged E), E2_mean, hops, P_ret/Q_ret counts."""
        k = min(int(self._is_[K.I_STEP]), self._step_T.size - 1)
        n = k + 1
        starts = np.concatenate([[self.program_t0], self._step_tend[:-1]])[:n]
        T = np.concatenate([self._hist_T, self._step_T[:n]])
        t0 = np.concatenate([self._hist_t0, starts])
        t1 = np.concatenate([self._hist_t1, np.minimum(self._step_tend[:n], self.t)])
        f = np.concatenate([self._hist_f, self._acc_f[:n]])
        i = np.concatenate([self._hist_i, self._acc_i[:n]])
        with np.errstate(invalid="ignore", divide="ignore"):
            E_mean = f[:, 1] / f[:, 0]
            E2_mean = f[:, 2] / f[:, 0]
        return {
            "T": T, "t0": t0, "t1": t1, "time": f[:, 0], "E_mean": E_mean, "E2_mean": E2_mean,
            "hops": i[:, 0], "p_returns": i[:, 1], "p_nonreturns": i[:, 2], "v_returns": i[:, 3], "v_nonreturns": i[:, 4],
        }

    def particle_positions(self) -> np.ndarray:
        """float[N, 2] unwrapped particle positions."""
        self.settle()
        return site_xy(self._ppos0, self.params.L) + self._disp_p

    def void_positions(self) -> np.ndarray:
        """float[Nv, 2] unwrapped void positions."""
        self.settle()
        return site_xy(self._vpos0, self.params.L) + self._disp_v

    def state_bytes(self) -> int:
        """Bytes held by the system's arrays."""
        return sum(getattr(self, "_" + n).nbytes for n in _STATE_ARRAYS) + self._nbr.nbytes + self._samp_t.nbytes + self._samp_p.nbytes + self._samp_v.nbytes

    def provenance(self) -> dict[str, Any]:
        return {
            "params": self.params.to_dict(),
            "seed": self.seed,
            "dynamics": self.dynamics,
            "program": self.program.to_dict() if self.program else None,
            "dplm_explore": __version__,
            "numba": numba.__version__,
            "numpy": np.__version__,
        }

    # ------------------------------------------------------------------ save / load
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the complete state to ``path`` (``.npz``, see :mod:`._persist`). Never overwrites
        an existing file unless ``overwrite``; written to a temporary file first, so an error loses
        nothing."""
        self._drain_samples()
        meta = {"format": STATE_FORMAT, **self.provenance(), "program_t0": self.program_t0, "key": int(self._key),
                "tracer_interval": float(self._fs[K.F_SAMPLE_DT])}
        return save_state(self, path, meta, overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "Simulation":
        """Restore a state written by :meth:`save`; the run continues bit for bit."""
        return load_state(cls, path)

    def check(self) -> None:
        """Raise ValueError unless every field is consistent: shapes, index ranges, and the bonds,
        rates, sum tree and energy equal to a recomputation from the configuration (the checks a
        loaded state passes, :func:`._persist.validate`). Trapped voids are checked where their
        sojourns began."""
        self._drain_samples()  # the checks reset the kernel's sample count
        validate(self, "the system")
        check_traps(self, "the system")


def _check_dynamics(dynamics) -> None:
    if dynamics not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}; got {dynamics!r}")


def _now() -> float:
    return time.perf_counter()


def _read_only(name: str) -> property:
    def get(self):
        value = getattr(self, "_" + name)
        if isinstance(value, np.ndarray):
            value = value.view()
            value.flags.writeable = False
        return value

    return property(get, doc=f"Read-only view of the state field ``{name}`` (see :mod:`dplm_explore.kmc._state`).")


for _field in ST.FIELDS:
    setattr(Simulation, _field.name, _read_only(_field.name))
del _field
