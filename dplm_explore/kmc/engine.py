"""The simulation engine: a small Python object owning the structure-of-arrays state and calling
the private kernel in chunks (by hops, simulated time, target temperature or wall-clock budget),
so a UI can draw between chunks and a background thread can run the GIL-free kernel.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from .._version import __version__
from .._io import atomic_write, check_writable, read_npz
from .._rng import seed_state
from ..equilibrium import InitialState, equilibrium_state, genesis_bonds, occupied_pairs, random_state
from ..interactions import GDistribution, Uniform
from ..system import W0_DEFAULT, W0_MAX, W0_MIN, SystemParams  # noqa: F401 (SystemParams and the w0 range are the engine's too)
from ..lattice import neighbour_table, scan_offsets, site_xy
from ..schedules import Program, constant
from . import _kernel as K
from . import _trap as T_

__all__ = ["SystemParams", "Simulation", "ChunkReport", "normalize_seed", "STATE_FORMAT"]

STATE_FORMAT = "dplm-explore-state/3"
#: format 2 had a one-entry back-and-forth cache and every bond twice (float[S, 4]); its files load
#: with empty node caches and each bond once (same event order, so the run continues on the same
#: trajectory, only its cache-hit count differs)
_CACHE_ARRAYS_2 = ("c_pw", "c_pos", "c_rates", "c_dE", "c_bond", "cown", "iso")
_CACHE_ARRAYS = ("c_key", "c_site", "c_stamp", "c_clean", "c_dat", "cown", "word", "iso")
#: how the Markov chain is advanced: every hop ("hop"), or with isolated two-configuration voids'
#: sojourns drawn whole ("first-passage", :mod:`dplm_explore.kmc._trap`); the same chain in law
DYNAMICS = ("hop", "first-passage")


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


#: an advance() without hops or wall that would take more hops than this (at the current total
#: rate, about a day on one core) is refused rather than left to run unseen
MAX_UNBOUNDED_HOPS = 1e12
#: members of a state file holding tracer samples taken but not read yet (optional)
_PENDING_SAMPLES = ("pending_t", "pending_p", "pending_v")
_MAX_PENDING_BYTES = 2**30
#: bytes a system needs per lattice site while it is built and run (its arrays hold about 140;
#: the construction doubles that for a moment), for the memory check before anything is allocated
BYTES_PER_SITE = 320
#: environment variable that raises (or lowers) the memory a system may take, in GB
MEMORY_LIMIT_ENV = "DPLM_MEMORY_LIMIT_GB"


def memory_limit_bytes() -> int:
    """``$DPLM_MEMORY_LIMIT_GB`` if set, else 80 % of the machine's physical memory."""
    env = os.environ.get(MEMORY_LIMIT_ENV)
    if env:
        try:
            gb = float(env)
        except ValueError:
            raise ValueError(f"{MEMORY_LIMIT_ENV} must be a number of GB; got {env!r}") from None
        return int(gb * 1e9)
    try:
        return int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no sysconf
        return 16 * 10**9


def check_memory(L: int) -> int:
    """The estimated bytes of an L x L system; ValueError (naming L) above :func:`memory_limit_bytes`."""
    need = BYTES_PER_SITE * L * L
    limit = memory_limit_bytes()
    if need > limit:
        raise ValueError(f"L={L} needs about {need / 1e9:.3g} GB, above the limit of {limit / 1e9:.3g} GB "
                         f"(set {MEMORY_LIMIT_ENV} to raise it)")
    return need


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

# first-passage arrays (open sojourns; a state file without them has none open)
_TRAP_ARRAYS = ("fp_f", "fp_i", "xtree", "fp_n")
# arrays that make up the dynamic state (saved and restored exactly)
_STATE_ARRAYS = (
    "occ", "ppos", "vpos", "bond", "gen", "dense", "rng", "rates", "dEs", "tree", "pw", *_CACHE_ARRAYS,
    "step_T", "step_tend", "fs", "is_",
    "acc_f", "acc_i", "void_time", "v_arrive", "disp_p", "disp_v", "last_p", "last_v",
    "hops_p", "hops_v", "ppos0", "vpos0", "tr_p", "tr_v", "hist_T", "hist_t0", "hist_t1",
    "hist_f", "hist_i", "gtab", *_TRAP_ARRAYS,
)


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
        L = params.L
        S = L * L
        self.nbr = neighbour_table(L)
        self.offsets = scan_offsets()
        self.lin = (self.offsets[..., 0] + L * self.offsets[..., 1]).astype(np.int64)
        ss = np.random.SeedSequence(seed)
        _, key_seq, kmc_seq = ss.spawn(3)
        self.key = np.uint64(key_seq.generate_state(1, np.uint64)[0])
        self.rng = seed_state(int(kmc_seq.generate_state(1, np.uint64)[0]))
        self.gkind, self.gpar, self.gtab = params.g.kernel_spec()
        self.occ = np.ascontiguousarray(init.occ, dtype=np.int32)
        N, Nv = params.n_particles, params.n_voids
        self.ppos = np.empty(N, dtype=np.int32)
        self.vpos = np.empty(Nv, dtype=np.int32)
        parts = self.occ >= 0
        self.ppos[self.occ[parts]] = np.flatnonzero(parts)
        self.vpos[-self.occ[~parts] - 1] = np.flatnonzero(~parts)
        self.ppos0 = self.ppos.copy()
        self.vpos0 = self.vpos.copy()
        self.gen = pack_genesis(init.gpart, init.gV)
        self.dense = np.zeros((0, 0)) if dense is None else np.ascontiguousarray(dense, dtype=np.float64)
        self.bond = np.zeros((S, 2))
        K._init_bonds(self.occ, self.nbr, self.bond, *self._inter())
        P = 1
        while P < Nv:
            P *= 4
        self.rates = np.zeros((Nv, 4))
        self.dEs = np.zeros((Nv, 4))
        self.tree = np.zeros((4 * P - 1) // 3)
        self.pw = np.zeros((Nv, 6))
        self._empty_caches()
        self._trap_arrays()
        self.fs = np.zeros(K.N_FS)
        self.is_ = np.zeros(K.N_IS, dtype=np.int64)
        self.is_[K.I_HOT] = -1
        self.is_[K.I_PREV] = -1
        self.is_[K.I_P] = P
        self.is_[K.I_L] = L
        self.fs[K.F_W0] = params.w0
        self.fs[K.F_E] = self.energy_from_scratch()
        self.void_time = np.zeros(S)
        self.v_arrive = np.zeros(Nv)
        self.disp_p = np.zeros((N, 2), dtype=np.int32)
        self.disp_v = np.zeros((Nv, 2), dtype=np.int32)
        self.last_p = np.full(N, -1, dtype=np.int8)
        self.last_v = np.full(Nv, -1, dtype=np.int8)
        self.hops_p = np.zeros(N, dtype=np.int64)
        self.hops_v = np.zeros(Nv, dtype=np.int64)
        # finished programs' accumulators (concatenated history)
        self.hist_T = np.zeros(0)
        self.hist_t0 = np.zeros(0)
        self.hist_t1 = np.zeros(0)
        self.hist_f = np.zeros((0, 3))
        self.hist_i = np.zeros((0, 5), dtype=np.int64)
        self._set_tracer_arrays(np.zeros(0, np.int32), np.zeros(0, np.int32), math.inf, 1)
        self.setup_s = _setup_s
        self.program: Program | None = None
        self.step_T = np.zeros(0)
        self.step_tend = np.zeros(0)
        self.acc_f = np.zeros((0, 3))
        self.acc_i = np.zeros((0, 5), dtype=np.int64)
        if program is None:
            if params.T_I is None:
                raise ValueError("program is required when there is no T_I to hold; got program=None, T_I=None (e.g. program=constant(0.1))")
            program = constant(params.T_I)
        self.set_program(program)

    @property
    def dynamics(self) -> str:
        """'hop' or 'first-passage' (see :data:`DYNAMICS`); may be switched between calls."""
        return self._dynamics

    @dynamics.setter
    def dynamics(self, value: str) -> None:
        if value not in DYNAMICS:
            raise ValueError(f"dynamics must be one of {DYNAMICS}; got {value!r}")
        if value == "hop" and getattr(self, "fp_i", None) is not None:
            self.settle()  # hop by hop knows no open sojourns
        self._dynamics = value

    def _trap_arrays(self) -> None:
        """Arrays of the first-passage dynamics with no void trapped (:mod:`._trap`)."""
        Nv = self.vpos.size
        self.fp_f = np.zeros((Nv, 2))
        self.fp_i = np.zeros((Nv, 5), dtype=np.int64)
        self.xtree = np.full(2 * _xtree_leaves(Nv), np.inf)
        self.fp_n = np.zeros(4, dtype=np.int64)

    @property
    def trapped(self) -> int:
        """Voids whose sojourn is open (first-passage dynamics); :meth:`settle` ends them."""
        return int(self.fp_i[:, 0].sum())

    def settle(self) -> int:
        """Put every trapped void in its place now (first-passage dynamics: a configuration drawn
        given that it has not left, its sojourn booked). Until then, :attr:`energy`, the lattice
        and the current step's accumulators show trapped voids where their sojourns began.
        The engine settles before a new program, new tracers and event logging; analyses settle
        at their window boundaries. Returns the voids settled (0 in hop dynamics)."""
        if not self.fp_i[:, 0].any():
            return 0
        return int(T_._settle(self.rng, self.occ, self.ppos, self.vpos, self.bond, self.nbr, self.rates, self.dEs, self.pw, self.c_key, self.c_site,
                              self.c_stamp, self.c_dat, self.cown, self.word, self.acc_f, self.acc_i, self.void_time, self.v_arrive, self.disp_p,
                              self.disp_v, self.last_p, self.last_v, self.hops_p, self.hops_v, self.fp_f, self.fp_i, self.xtree, self.tree,
                              self.is_[K.I_P], self.fs, self.is_, self.fp_n))

    @property
    def sojourn_counts(self) -> dict[str, int]:
        """First-passage bookkeeping since this object was made: sojourns begun, ended by an exit,
        ended by an interruption, and the flips they stood for."""
        n = self.fp_n
        return {"sojourns": int(n[0]), "exits": int(n[1]), "interruptions": int(n[2]), "flips": int(n[3])}

    def _empty_caches(self) -> None:
        """Node-cache arrays with every slot empty (see :mod:`dplm_explore.kmc._kernel`): a pure
        memo, so dropping it never changes a trajectory."""
        Nv, S = self.params.n_voids, self.params.L ** 2
        self.c_key = np.full((Nv, K.KC), -1, dtype=np.int64)
        self.c_site = np.zeros((Nv, K.KC), dtype=np.int32)
        self.c_stamp = np.full((Nv, K.KC), -1, dtype=np.int64)
        self.c_clean = np.zeros((Nv, K.KC), dtype=np.int8)
        self.c_dat = np.zeros((Nv, K.KC, K.C_WIDTH))
        self.cown = np.full(S, -1, dtype=np.int32)
        self.word = np.zeros(Nv, dtype=np.int64)
        self.iso = np.zeros(Nv, dtype=np.int8)

    @property
    def gpart(self) -> np.ndarray:
        """int32[N, 4] partners of the stored genesis bonds (-1 = empty)."""
        return self.gen[:, :4].astype(np.int32)

    @property
    def gV(self) -> np.ndarray:
        """float64[N, 4] interactions of the stored genesis bonds."""
        return self.gen[:, 4:].copy()

    def __repr__(self) -> str:
        p = self.params
        return (f"Simulation(L={p.L}, n_voids={p.n_voids} (phi_v={p.phi_v_realised:.4g}), g={p.g.describe()}, "
                f"w0={p.w0:g}, seed={self.seed}, T={self.T:.4g}, t={self.t:.6g}, hops={self.hops}, "
                f"e={self.energy_per_particle:.6f})")

    def _inter(self):
        return (self.key, self.gen, self.dense, self.gkind, self.gpar, self.gtab)

    @classmethod
    def create(cls, L: int, phi_v: float, *, g: GDistribution | None = None, T_I: float | None = None, init: str = "equilibrium", seed=None, w0: float = W0_DEFAULT, program: Program | None = None, bonds: str = "peq", void_moves: int | None = None,
               dynamics: str = "hop") -> "Simulation":
        """A new system: exact equilibrium at ``T_I`` (default) or a random start
        (``init='random'``). ``program`` defaults to holding ``T_I``; ``dynamics`` is one of
        :data:`DYNAMICS`."""
        t0 = time.perf_counter()
        if dynamics not in DYNAMICS:
            raise ValueError(f"dynamics must be one of {DYNAMICS}; got {dynamics!r}")
        if void_moves is not None and not _is_count(void_moves):
            raise ValueError(f"void_moves must be a non-negative integer; got {void_moves!r}")
        params = SystemParams(L=L, phi_v=phi_v, g=g if g is not None else Uniform(), w0=w0, init=init, T_I=T_I, bonds=bonds)
        check_memory(params.L)
        entropy = normalize_seed(seed)
        construction_seq = np.random.SeedSequence(entropy).spawn(3)[0]
        rng = np.random.default_rng(construction_seq)
        if init == "equilibrium":
            state = equilibrium_state(params.L, params.n_voids, params.g, params.T_I, rng, void_moves=void_moves, bonds=bonds)
        elif init == "random":
            state = random_state(params.L, params.n_voids, rng)
        else:
            raise ValueError(f"init must be 'equilibrium' or 'random' for create(); got {init!r}")
        return cls(params, entropy, state, program, _setup_s=time.perf_counter() - t0, dynamics=dynamics)

    @classmethod
    def from_configuration(cls, L: int, occ, *, g: GDistribution | None = None, V_table=None, genesis=None, seed=None, w0: float = W0_DEFAULT, program: Program | None = None, T_I: float | None = None,
                           dynamics: str = "hop") -> "Simulation":
        """A system with an explicit arrangement ``occ`` (int[L*L] or int[L, L]: particle label
        0..N-1, or -1 for a void). ``V_table`` (float[N, N], symmetric) fixes every interaction
        (small systems); otherwise pairs come from g by hashing, with ``genesis`` (float[M]
        values for the occupied neighbour pairs in :func:`occupied_pairs` order) stored."""
        if dynamics not in DYNAMICS:
            raise ValueError(f"dynamics must be one of {DYNAMICS}; got {dynamics!r}")
        if isinstance(L, (int, np.integer)) and not isinstance(L, bool) and L >= 3:
            check_memory(int(L))
        occ = np.asarray(occ).reshape(-1)
        if occ.size != L * L:
            raise ValueError(f"occ must have L*L = {L * L} entries; got {occ.size}")
        n_voids = int((occ < 0).sum())
        labels = np.sort(occ[occ >= 0])
        if not np.array_equal(labels, np.arange(labels.size)):
            raise ValueError("occ must hold each particle label 0..N-1 exactly once (and -1 for voids)")
        params = SystemParams(L=L, phi_v=n_voids / (L * L), g=g if g is not None else Uniform(), w0=w0, init="given", T_I=T_I)
        if params.n_voids != n_voids:  # pragma: no cover - rounding cannot change an exact count
            raise ValueError("void count mismatch")
        occ32 = occ.astype(np.int32)
        vs = np.flatnonzero(occ32 < 0)
        occ32[vs] = -(np.arange(vs.size, dtype=np.int32) + 1)
        nbr = neighbour_table(L)
        N = labels.size
        if V_table is not None:
            V_table = np.asarray(V_table, dtype=np.float64)
            if V_table.shape != (N, N) or not np.array_equal(V_table, V_table.T) or not np.all(np.isfinite(V_table)):
                raise ValueError(f"V_table must be a finite symmetric array of shape ({N}, {N}); got shape {V_table.shape}")
        if genesis is not None:
            if V_table is not None:
                raise ValueError("give either V_table (every interaction) or genesis (stored neighbour bonds), not both")
            genesis = np.asarray(genesis, dtype=np.float64).reshape(-1)
            n_pairs = occupied_pairs(occ32, nbr)[0].size
            if genesis.size != n_pairs or not np.all(np.isfinite(genesis)):
                raise ValueError(f"genesis must hold {n_pairs} finite values (one per occupied neighbour pair); got {genesis.size}")
        gpart, gV = genesis_bonds(occ32, nbr, genesis, N)
        entropy = normalize_seed(seed)
        return cls(params, entropy, InitialState(occ32, gpart, gV), program, dense=V_table, dynamics=dynamics)

    # ------------------------------------------------------------------ program
    def set_program(self, program: Program) -> None:
        """Run ``program`` from the current time on. The accumulators of the steps already run are
        kept in the history; a pending waiting time is dropped (the temperature changes now)."""
        if not isinstance(program, Program):
            raise ValueError(f"program must be a schedules.Program; got {program!r}")
        self.settle()
        self._archive_program()
        t = self.fs[K.F_T]
        self.program = program
        self.program_t0 = t
        self.step_T, self.step_tend = program.compile(t)
        self.acc_f = np.zeros((self.step_T.size, 3))
        self.acc_i = np.zeros((self.step_T.size, 5), dtype=np.int64)
        self.is_[K.I_STEP] = 0
        self.is_[K.I_PENDING] = 0
        self.fs[K.F_TEMP] = self.step_T[0]
        K._all_rates(self.vpos, self.pw, self.rates, self.dEs, self.tree, self.c_key, self.c_stamp, self.cown, self.word, self.iso, self.occ, self.nbr, self.bond, *self._inter(), self.params.w0, self.step_T[0], self.fs, self.is_)

    def _archive_program(self) -> None:
        if self.acc_f.shape[0] == 0:
            return
        k = min(int(self.is_[K.I_STEP]), self.step_T.size - 1)
        n = k + 1
        t0 = np.concatenate([[self.program_t0], self.step_tend[:-1]])[:n]
        t1 = np.minimum(self.step_tend[:n], self.fs[K.F_T])
        self.hist_T = np.concatenate([self.hist_T, self.step_T[:n]])
        self.hist_t0 = np.concatenate([self.hist_t0, t0])
        self.hist_t1 = np.concatenate([self.hist_t1, t1])
        self.hist_f = np.concatenate([self.hist_f, self.acc_f[:n]])
        self.hist_i = np.concatenate([self.hist_i, self.acc_i[:n]])

    @property
    def program_done(self) -> bool:
        return int(self.is_[K.I_STEP]) >= self.step_T.size

    def time_at_T(self, T_target: float) -> float:
        """Start time of the first program step, from the current one on, whose temperature is at
        or beyond ``T_target`` coming from the current temperature (``inf`` if none is)."""
        k = min(int(self.is_[K.I_STEP]), self.step_T.size - 1)
        T = self.step_T[k:]
        starts = np.concatenate([[self.program_t0], self.step_tend[:-1]])[k:]
        idx = np.flatnonzero(T <= T_target) if T_target <= self.T else np.flatnonzero(T >= T_target)
        if idx.size == 0:
            return math.inf
        return max(float(starts[idx[0]]), self.t)

    # ------------------------------------------------------------------ tracers
    def _set_tracer_arrays(self, tr_p, tr_v, interval, capacity, max_samples=None):
        self.tr_p = np.ascontiguousarray(tr_p, dtype=np.int32)
        self.tr_v = np.ascontiguousarray(tr_v, dtype=np.int32)
        self.samp_t = np.zeros(capacity)
        self.samp_p = np.zeros((capacity, self.tr_p.size, 2), dtype=np.int32)
        self.samp_v = np.zeros((capacity, self.tr_v.size, 2), dtype=np.int32)
        self.fs[K.F_SAMPLE_DT] = interval
        self.fs[K.F_NEXT_SAMPLE] = self.fs[K.F_T] + interval if self.tr_p.size + self.tr_v.size else math.inf
        self.is_[K.I_NSAMP] = 0
        self._samples: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._max_samples = max_samples

    def track(self, *, particles=(), voids=(), interval: float, capacity: int = 4096, max_samples: int | None = None) -> None:
        """Sample the unwrapped positions of chosen particles and voids every ``interval`` time
        units from now on (read them with :meth:`samples`). ``max_samples``: when more samples than
        this wait to be read, every other one is dropped and the interval doubled (a live view
        stays bounded however slow the dynamics gets; the kept samples are still exact)."""
        if max_samples is not None and not (_is_count(max_samples) and max_samples >= 2):
            raise ValueError(f"max_samples must be an integer >= 2; got {max_samples!r}")
        self.settle()

        particles = np.asarray(list(particles) if not isinstance(particles, np.ndarray) else particles).reshape(-1)
        voids = np.asarray(list(voids) if not isinstance(voids, np.ndarray) else voids).reshape(-1)
        for name, arr in (("particles", particles), ("voids", voids)):
            if arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)):
                raise ValueError(f"{name} must be integer labels; got {arr.tolist()}")
        particles = particles.astype(np.int64)
        voids = voids.astype(np.int64)
        if particles.size and (particles.min() < 0 or particles.max() >= self.params.n_particles):
            raise ValueError(f"particles must be labels in [0, {self.params.n_particles}); got {particles.tolist()}")
        if voids.size and (voids.min() < 0 or voids.max() >= self.params.n_voids):
            raise ValueError(f"voids must be ids in [0, {self.params.n_voids}); got {voids.tolist()}")
        if not (float(interval) > 0 and math.isfinite(float(interval))):
            raise ValueError(f"interval must be positive and finite; got {interval!r}")
        if int(capacity) < 1:
            raise ValueError(f"capacity must be >= 1; got {capacity!r}")
        self._set_tracer_arrays(particles, voids, float(interval), int(capacity), None if max_samples is None else int(max_samples))

    @property
    def sample_interval(self) -> float:
        """Interval of the tracer samples (:meth:`track`); ``inf`` when nothing is tracked."""
        return float(self.fs[K.F_SAMPLE_DT]) if self.tr_p.size + self.tr_v.size else math.inf

    def _drain_samples(self):
        n = int(self.is_[K.I_NSAMP])
        if n:
            self._samples.append((self.samp_t[:n].copy(), self.samp_p[:n].copy(), self.samp_v[:n].copy()))
            self.is_[K.I_NSAMP] = 0
        cap = self._max_samples
        if cap is not None and sum(c[0].size for c in self._samples) > cap:
            t, p, v = (np.concatenate([c[k] for c in self._samples]) for k in range(3))
            self._samples = [(t[1::2], p[1::2], v[1::2])]
            self.fs[K.F_SAMPLE_DT] *= 2.0

    def samples(self, clear: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times float[n], particle positions float[n, a, 2], void positions float[n, b, 2]) of the
        tracked particles and voids, unwrapped, in lattice units; ``clear`` empties the buffer."""
        self._drain_samples()
        if self._samples:
            t = np.concatenate([s[0] for s in self._samples])
            dp = np.concatenate([s[1] for s in self._samples])
            dv = np.concatenate([s[2] for s in self._samples])
        else:
            t = np.zeros(0)
            dp = np.zeros((0, self.tr_p.size, 2), np.int32)
            dv = np.zeros((0, self.tr_v.size, 2), np.int32)
        if clear:
            self._samples = []
        L = self.params.L
        xp = site_xy(self.ppos0[self.tr_p], L)[None] + dp
        xv = site_xy(self.vpos0[self.tr_v], L)[None] + dv
        return t, xp, xv

    # ------------------------------------------------------------------ running
    def _call(self, max_hops: int, t_stop: float, ev_log=None, ev_t=None):
        if ev_log is None:
            ev_log = np.zeros((0, 2), dtype=np.int64)
            ev_t = np.zeros(0)
        status, done = K._advance(
            self.nbr, self.offsets, self.lin, self.occ, self.ppos, self.vpos, self.bond,
            self.gen, self.dense, self.key, self.gkind, self.gpar, self.gtab,
            self.rng, self.rates, self.dEs, self.tree, self.pw, self.c_key, self.c_site, self.c_stamp, self.c_clean, self.c_dat, self.cown, self.word, self.iso,
            np.int64(self._dynamics == "first-passage"), self.fp_f, self.fp_i, self.xtree, self.fp_n,
            self.step_T, self.step_tend, self.fs, self.is_,
            self.acc_f, self.acc_i, self.void_time, self.v_arrive, self.disp_p, self.disp_v, self.last_p, self.last_v, self.hops_p, self.hops_v,
            self.tr_p, self.tr_v, self.samp_t, self.samp_p, self.samp_v, ev_log, ev_t,
            np.int64(max_hops), float(t_stop),
        )
        return int(status), int(done)

    def advance(self, hops: int | None = None, *, time: float | None = None, until_T: float | None = None, wall: float | None = None, progress: bool = False, chunk_hops: int | None = None) -> ChunkReport:
        """Run until the first of: ``hops`` more hops; simulated time advanced by ``time`` (the
        clock stops exactly there, the next event stays pending); the program reaching ``until_T``
        (from the current step on); ``wall`` seconds of wall clock; the end of the temperature
        program. With none given the program is run to its end (it must be finite). ``progress``
        shows a tqdm bar."""
        if hops is not None and not _is_count(hops):
            raise ValueError(f"hops must be a non-negative integer; got {hops!r}")
        for name, val in (("time", time), ("wall", wall)):
            if val is not None and not (_is_number(val) and float(val) >= 0):
                raise ValueError(f"{name} must be a non-negative number; got {val!r}")
        if until_T is not None and not (_is_number(until_T) and 0 < float(until_T) < math.inf):
            raise ValueError(f"until_T must be positive and finite; got {until_T!r}")
        if chunk_hops is not None and not (_is_count(chunk_hops) and chunk_hops >= 1):
            raise ValueError(f"chunk_hops must be a positive integer; got {chunk_hops!r}")
        t_start = float(self.fs[K.F_T])
        t_stop = math.inf
        if time is not None:
            t_stop = t_start + float(time)
        if until_T is not None:
            t_T = self.time_at_T(float(until_T))
            if math.isinf(t_T):
                raise ValueError(f"until_T={until_T!r} is never reached by the current program (T = {self.T!r} now, {self.program.T_final!r} at its end)")
            t_stop = min(t_stop, t_T)
        if hops is None and wall is None and math.isinf(t_stop) and math.isinf(self.step_tend[-1]):
            raise ValueError("advance() needs hops, a finite time, until_T or wall when the program never ends")
        if hops is None and wall is None:
            span = min(t_stop, float(self.step_tend[-1])) - t_start
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

            t_end = min(t_stop, float(self.step_tend[-1]))
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
        self.is_[K.I_NLOG] = 0
        done = 0
        while done < n and not self.program_done:
            status, _ = self._call(int(n) - done, math.inf, log, ts)
            done = int(self.is_[K.I_NLOG])
            if status == K.STOP_SAMPLES_FULL:
                self._drain_samples()
            elif status not in (K.STOP_HOPS, K.STOP_LOG_FULL):
                break
        m = int(self.is_[K.I_NLOG])
        self.is_[K.I_NLOG] = 0
        return log[:m], ts[:m]

    # ------------------------------------------------------------------ observables
    @property
    def t(self) -> float:
        """Simulated time (time of the last event or program step end)."""
        return float(self.fs[K.F_T])

    @property
    def T(self) -> float:
        """Current temperature."""
        return float(self.fs[K.F_TEMP])

    @property
    def hops(self) -> int:
        return int(self.is_[K.I_HOPS])

    @property
    def energy(self) -> float:
        """Total energy E, tracked incrementally (Kahan-compensated)."""
        return float(self.fs[K.F_E])

    @property
    def energy_per_particle(self) -> float:
        return self.energy / self.params.n_particles

    @property
    def total_rate(self) -> float:
        """Sum of the rates of every possible hop (the BKL total: mean waiting time 1 / total)."""
        return float(self.fs[K.F_RHOT] + self.tree[0])

    @property
    def cache_hits(self) -> int:
        """Hops into a configuration whose rates were restored from the void's node cache."""
        return int(self.is_[K.I_CACHE_HITS])

    def energy_from_scratch(self) -> float:
        """Total energy recomputed from every occupied bond's interaction (no cache)."""
        return float(K._energy_from_scratch(self.occ, self.nbr, *self._inter()))

    def pair_V(self, p: int, q: int) -> float:
        """Interaction between two distinct particles ``p`` and ``q`` (ids in ``[0, N)``) as the
        dynamics sees it."""
        from ..interactions import _pair_V

        N = self.params.n_particles
        for name, x in (("p", p), ("q", q)):
            if not _is_count(x) or int(x) >= N:
                raise ValueError(f"{name} must be a particle id in [0, {N}); got {x!r}")
        if int(p) == int(q):
            raise ValueError(f"p and q must be two different particles; got p = q = {int(p)}")
        return float(_pair_V(int(p), int(q), *self._inter()))

    def lattice(self) -> np.ndarray:
        """int32[L, L] copy of the occupancy: particle label, or -(v+1) for void v; ``[y, x]``.
        Reading the configuration settles trapped voids (:meth:`settle`), here and below."""
        self.settle()
        L = self.params.L
        return self.occ.reshape(L, L).copy()

    def void_occupation(self) -> np.ndarray:
        """Time each site held a void since the start (or the last reset), float[L, L], including
        the current stay of every void."""
        self.settle()
        vt = self.void_time.copy()
        np.add.at(vt, self.vpos, self.t - self.v_arrive)
        return vt.reshape(self.params.L, self.params.L)

    def reset_void_occupation(self) -> None:
        """Start a new void-occupation window now (the per-site times are zeroed)."""
        self.settle()
        self.void_time[:] = 0.0
        self.v_arrive[:] = self.t

    def temperature_bins(self) -> dict[str, np.ndarray]:
        """Accumulators per temperature step of every program run so far (history + current):
        T, t0, t1, time, E_mean (time-averaged E), E2_mean, hops, P_ret/Q_ret counts."""
        k = min(int(self.is_[K.I_STEP]), self.step_T.size - 1)
        n = k + 1
        starts = np.concatenate([[self.program_t0], self.step_tend[:-1]])[:n]
        T = np.concatenate([self.hist_T, self.step_T[:n]])
        t0 = np.concatenate([self.hist_t0, starts])
        t1 = np.concatenate([self.hist_t1, np.minimum(self.step_tend[:n], self.t)])
        f = np.concatenate([self.hist_f, self.acc_f[:n]])
        i = np.concatenate([self.hist_i, self.acc_i[:n]])
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
        return site_xy(self.ppos0, self.params.L) + self.disp_p

    def void_positions(self) -> np.ndarray:
        """float[Nv, 2] unwrapped void positions."""
        self.settle()
        return site_xy(self.vpos0, self.params.L) + self.disp_v

    def state_bytes(self) -> int:
        """Bytes held by the system's arrays."""
        return sum(getattr(self, n).nbytes for n in _STATE_ARRAYS) + self.nbr.nbytes + self.samp_t.nbytes + self.samp_p.nbytes + self.samp_v.nbytes

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
        """Write the complete state to ``path`` (``.npz``). Never overwrites an existing file
        unless ``overwrite``; written to a temporary file first, so an error loses nothing."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
        check_writable(path, overwrite)
        self._drain_samples()
        meta = {"format": STATE_FORMAT, **self.provenance(), "program_t0": self.program_t0, "key": int(self.key),
                "tracer_interval": float(self.fs[K.F_SAMPLE_DT])}
        arrays = {n: getattr(self, n) for n in _STATE_ARRAYS}
        if self._samples:  # tracer samples not read yet travel with the state
            arrays.update(zip(_PENDING_SAMPLES, (np.concatenate([c[k] for c in self._samples]) for k in range(3))))
        atomic_write(path, lambda fh: np.savez(fh, _meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays), overwrite=overwrite)
        return path

    @classmethod
    def load(cls, path) -> "Simulation":
        """Restore a state written by :meth:`save`; the run continues bit for bit."""
        path = Path(path)
        data = read_npz(path, "dplm-explore state", max_bytes=lambda meta, sizes: _state_size_limit(meta, sizes, path), meta_member="_meta")
        if "_meta" not in data:
            raise ValueError(f"state file {str(path)!r} is not a dplm-explore state (no metadata)")
        try:
            meta = json.loads(bytes(data.pop("_meta")).decode())
        except Exception:
            raise ValueError(f"state file {str(path)!r} has corrupt metadata") from None
        if not isinstance(meta, dict):
            raise ValueError(f"state file {str(path)!r} has corrupt metadata (a JSON {type(meta).__name__}, not an object)")
        fmt = meta.get("format")
        if fmt not in (STATE_FORMAT, "dplm-explore-state/2"):
            raise ValueError(f"state file {str(path)!r} has format {fmt!r}; expected {STATE_FORMAT!r} (or 'dplm-explore-state/2', which loads with empty caches)")
        needed = _STATE_ARRAYS if fmt == STATE_FORMAT else tuple(n for n in _STATE_ARRAYS if n not in _CACHE_ARRAYS) + _CACHE_ARRAYS_2
        missing = [n for n in needed if n not in data and n not in _TRAP_ARRAYS]
        if missing:
            raise ValueError(f"state file {str(path)!r} lacks arrays {missing}")
        lacking = [k for k in ("params", "seed", "program", "program_t0", "key") if k not in meta]
        if lacking:
            raise ValueError(f"state file {str(path)!r} has metadata without {lacking}")
        try:
            params = SystemParams.from_dict(meta["params"])
            seed = normalize_seed(meta["seed"])
            program = Program.from_dict(meta["program"]) if meta["program"] else None
            key = int(meta["key"])
            program_t0 = float(meta["program_t0"])
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"state file {str(path)!r} has invalid metadata ({exc})") from None
        if not 0 <= key < 2**64 or not math.isfinite(program_t0):
            raise ValueError(f"state file {str(path)!r} has invalid metadata (key {key!r}, program_t0 {program_t0!r})")
        S = params.L * params.L
        if data["occ"].shape != (S,):
            raise ValueError(f"state file {str(path)!r}: array occ has shape {data['occ'].shape}, but the metadata says L = {params.L} ({S} sites)")
        obj = cls.__new__(cls)
        try:
            obj.dynamics = meta.get("dynamics", "hop")
        except ValueError as exc:
            raise ValueError(f"state file {str(path)!r} has invalid metadata ({exc})") from None
        obj.params = params
        obj.seed = seed
        obj.program = program
        obj.program_t0 = program_t0
        obj.key = np.uint64(key)
        obj.nbr = neighbour_table(params.L)
        obj.offsets = scan_offsets()
        obj.lin = (obj.offsets[..., 0] + params.L * obj.offsets[..., 1]).astype(np.int64)
        obj.gkind, obj.gpar, _ = params.g.kernel_spec()
        obj.setup_s = 0.0
        for n in _STATE_ARRAYS:
            if (fmt == STATE_FORMAT or n not in _CACHE_ARRAYS) and n not in _TRAP_ARRAYS:
                setattr(obj, n, np.ascontiguousarray(data[n]))
        if fmt != STATE_FORMAT:
            obj._empty_caches()
            if obj.bond.ndim == 2 and obj.bond.shape[1] == 4:
                obj.bond = np.ascontiguousarray(obj.bond[:, :2])
        obj.gen = pack_genesis(obj.gen[:, :4], obj.gen[:, 4:]) if obj.gen.ndim == 2 and obj.gen.shape[1:] == (8,) else obj.gen
        obj._trap_arrays()
        if any(n in data for n in _TRAP_ARRAYS):
            obj._load_traps(data, path)
        obj._validate_loaded(path)
        obj._check_traps(path)
        interval = float(meta.get("tracer_interval", math.inf))
        n_tr = obj.tr_p.size + obj.tr_v.size
        cap = 4096 if n_tr else 1
        obj.samp_t = np.zeros(cap)
        obj.samp_p = np.zeros((cap, obj.tr_p.size, 2), dtype=np.int32)
        obj.samp_v = np.zeros((cap, obj.tr_v.size, 2), dtype=np.int32)
        obj._samples = []
        obj._max_samples = None
        if all(k in data for k in _PENDING_SAMPLES):
            t, sp, sv = (data[k] for k in _PENDING_SAMPLES)
            n = t.shape[0] if t.ndim == 1 else -1
            if not (t.dtype == np.float64 and sp.shape == (n, obj.tr_p.size, 2) and sv.shape == (n, obj.tr_v.size, 2)
                    and sp.dtype == np.int32 and sv.dtype == np.int32 and np.all(np.isfinite(t))):
                raise ValueError(f"state file {str(path)!r}: the pending tracer samples are damaged")
            obj._samples = [(t.copy(), sp.copy(), sv.copy())]
        obj.fs[K.F_SAMPLE_DT] = interval
        return obj

    def _load_traps(self, data, path) -> None:
        """Open sojourns from a state file (shapes and types; :meth:`_check_traps` checks them
        against the lattice once that is validated)."""
        where = f"state file {str(path)!r}"
        missing = [n for n in _TRAP_ARRAYS if n not in data]
        if missing:
            raise ValueError(f"{where} lacks arrays {missing}")
        for n in _TRAP_ARRAYS:
            a = np.ascontiguousarray(data[n])
            ref = getattr(self, n)
            if a.shape != ref.shape or a.dtype != ref.dtype:
                raise ValueError(f"{where}: array {n} has shape {a.shape} and dtype {a.dtype}; expected {ref.shape} and {ref.dtype}")
            setattr(self, n, a.copy())

    def _check_traps(self, path) -> None:
        """Open sojourns consistent with the (validated) lattice, node cache and rate tree."""
        where = f"state file {str(path)!r}"
        on = self.fp_i[:, T_.FP_ON]
        q = self.xtree.shape[0] // 2
        leaves = self.xtree[q:q + on.size]
        bad = ~np.isin(on, (0, 1)) | np.any(self.fp_n < 0)
        tv = np.flatnonzero(on == 1)
        if tv.size:
            slot, dab, j = self.fp_i[tv, T_.FP_SLOT], self.fp_i[tv, T_.FP_DIR], self.fp_i[tv, T_.FP_J]
            bad |= np.any((slot < 0) | (slot >= K.KC) | (dab < 0) | (dab > 3) | ~np.isin(j, (0, 1)) | (self.fp_i[tv, T_.FP_FLIPS] < 0))
            if not bad.any():
                bad |= np.any(self.c_key[tv, slot] < 0) | np.any(self.nbr[self.vpos[tv], dab] != self.c_site[tv, slot])
                bad |= np.any(~(self.fp_f[tv, T_.FP_T0] <= self.fs[K.F_T])) | np.any(~(leaves[tv] >= self.fp_f[tv, T_.FP_T0]))
                bad |= np.any(self.tree[(self.is_[K.I_P] - 1) // 3 + tv] != 0.0)
        if np.any(bad) or np.any(leaves[on == 0] != np.inf) or np.any(self.xtree[q + on.size:] != np.inf):
            raise ValueError(f"{where}: the first-passage arrays (open sojourns) are damaged")
        for i in range(q - 1, 0, -1):  # the min-tree's inner nodes follow from its leaves
            self.xtree[i] = min(self.xtree[2 * i], self.xtree[2 * i + 1])
        self.xtree[0] = np.inf

    def _validate_loaded(self, path) -> None:
        """Every array a kernel indexes gets its shape, dtype and index ranges checked: the kernels
        do no bounds checking, so a damaged file must fail here, not crash or drift later."""
        p = self.params
        S, N, Nv = p.L * p.L, p.n_particles, p.n_voids
        P = 1
        while P < Nv:
            P *= 4
        K_steps = self.step_T.shape[0]
        n_hist = self.hist_T.shape[0]
        where = f"state file {str(path)!r}"
        spec = {
            "occ": ((S,), np.int32), "ppos": ((N,), np.int32), "vpos": ((Nv,), np.int32),
            "bond": ((S, 2), np.float64), "gen": ((N, 8), np.float64), "rng": ((4,), np.uint64),
            "rates": ((Nv, 4), np.float64), "dEs": ((Nv, 4), np.float64), "tree": (((4 * P - 1) // 3,), np.float64),
            "pw": ((Nv, 6), np.float64), "c_key": ((Nv, K.KC), np.int64), "c_site": ((Nv, K.KC), np.int32),
            "c_stamp": ((Nv, K.KC), np.int64), "c_clean": ((Nv, K.KC), np.int8), "c_dat": ((Nv, K.KC, K.C_WIDTH), np.float64),
            "cown": ((S,), np.int32), "word": ((Nv,), np.int64), "iso": ((Nv,), np.int8), "step_T": ((K_steps,), np.float64),
            "step_tend": ((K_steps,), np.float64), "fs": ((K.N_FS,), np.float64), "is_": ((K.N_IS,), np.int64),
            "acc_f": ((K_steps, 3), np.float64), "acc_i": ((K_steps, 5), np.int64), "void_time": ((S,), np.float64),
            "v_arrive": ((Nv,), np.float64), "disp_p": ((N, 2), np.int32), "disp_v": ((Nv, 2), np.int32),
            "last_p": ((N,), np.int8), "last_v": ((Nv,), np.int8), "hops_p": ((N,), np.int64), "hops_v": ((Nv,), np.int64),
            "ppos0": ((N,), np.int32), "vpos0": ((Nv,), np.int32), "hist_T": ((n_hist,), np.float64),
            "hist_t0": ((n_hist,), np.float64), "hist_t1": ((n_hist,), np.float64), "hist_f": ((n_hist, 3), np.float64),
            "hist_i": ((n_hist, 5), np.int64),
        }
        for name, (shape, dtype) in spec.items():
            arr = getattr(self, name)
            if arr.shape != shape or arr.dtype != dtype:
                raise ValueError(f"{where}: array {name} has shape {arr.shape} and dtype {arr.dtype}, expected {shape} {np.dtype(dtype)}")
        for name in ("tr_p", "tr_v"):
            arr = getattr(self, name)
            if arr.ndim != 1 or arr.dtype != np.int32:
                raise ValueError(f"{where}: array {name} has shape {arr.shape} and dtype {arr.dtype}, expected (n,) int32")
        if K_steps < 1:
            raise ValueError(f"{where}: empty temperature program")
        if self.program is not None:
            T_prog, tend_prog = self.program.compile(self.program_t0)
            if not (np.array_equal(T_prog, self.step_T) and np.array_equal(tend_prog, self.step_tend)):
                raise ValueError(f"{where}: the temperature steps disagree with the program in the metadata")
        for name, arr in (("step_T", self.step_T), ("hist_T", self.hist_T)):
            if arr.size and not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
                raise ValueError(f"{where}: {name} holds temperatures that are not positive and finite")
        t_now = self.fs[K.F_T]
        if not (math.isfinite(t_now) and t_now >= self.program_t0 - 1e-9 * max(1.0, abs(self.program_t0))):
            raise ValueError(f"{where}: the clock reads {t_now!r}, before the program's start {self.program_t0!r} or not finite")
        # the energy-square moment is NaN where first-passage sojourns ended (see :mod:`._trap`)
        moments = [(n, a[:, :2], a[:, 2]) for n, a in (("acc_f", self.acc_f), ("hist_f", self.hist_f))]
        if any(np.any(np.isinf(e2)) for _, _, e2 in moments):
            raise ValueError(f"{where}: an energy moment is infinite")
        for name, arr in (("acc_f", moments[0][1]), ("void_time", self.void_time), ("v_arrive", self.v_arrive), ("hist_f", moments[1][1])):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{where}: {name} holds values that are not finite")
        d = self.dense
        if d.dtype != np.float64 or not (d.shape == (0, 0) or d.shape == (N, N)):
            raise ValueError(f"{where}: array dense has shape {d.shape}, expected (0, 0) or ({N}, {N})")
        if self.gtab.ndim != 1 or self.gtab.size < 2 or self.gtab.dtype != np.float64 or not np.all(np.isfinite(self.gtab)):
            raise ValueError(f"{where}: the tabulated inverse cdf is damaged")
        occ = self.occ
        if not np.array_equal(np.sort(occ[occ >= 0]), np.arange(N)) or not np.array_equal(np.sort(-occ[occ < 0] - 1), np.arange(Nv)):
            raise ValueError(f"{where}: occupancy is not a valid arrangement")
        for name, arr in (("ppos", self.ppos), ("vpos", self.vpos)):
            if arr.size and (arr.min() < 0 or arr.max() >= S):
                raise ValueError(f"{where}: {name} holds sites out of range (positions disagree with the occupancy)")
        if not (np.array_equal(occ[self.ppos], np.arange(N)) and np.array_equal(occ[self.vpos], -(np.arange(Nv) + 1))):
            raise ValueError(f"{where}: positions disagree with the occupancy")
        partners = self.gen[:, :4]
        if not np.all((partners == -1) | ((partners >= 0) & (partners < N) & (partners == np.round(partners)))):
            raise ValueError(f"{where}: genesis partners out of range")
        self._validate_caches(where)
        for name, arr, hi in (("cown", self.cown, Nv), ("tr_p", self.tr_p, N), ("tr_v", self.tr_v, Nv)):
            if arr.size and (arr.min() < -1 or arr.max() >= hi or (name.startswith("tr") and arr.min() < 0)):
                raise ValueError(f"{where}: {name} holds indices out of range")
        for name, arr in (("ppos0", self.ppos0), ("vpos0", self.vpos0)):
            if arr.size and (arr.min() < 0 or arr.max() >= S):
                raise ValueError(f"{where}: {name} holds sites out of range")
        if not (0 <= self.is_[K.I_STEP] <= K_steps) or self.is_[K.I_PENDING] not in (0, 1):
            raise ValueError(f"{where}: program position out of range")
        if not (-1 <= self.is_[K.I_HOT] < Nv and -1 <= self.is_[K.I_PREV] < Nv):
            raise ValueError(f"{where}: hot void index out of range")
        # structural constants are rebuilt rather than trusted
        self.is_[K.I_P] = P
        self.is_[K.I_L] = p.L
        self.is_[K.I_NSAMP] = 0
        self.is_[K.I_NLOG] = 0
        tree = np.empty_like(self.tree)
        fs, is_ = self.fs.copy(), self.is_.copy()
        K._tree_build(tree, P, np.where(self.fp_i[:, :1] == 1, 0.0, self.rates), fs, is_)  # trapped voids' leaves hold 0
        if not (np.array_equal(tree, self.tree) and fs[K.F_RHOT] == self.fs[K.F_RHOT]):
            raise ValueError(f"{where}: the rate tree disagrees with the rates")
        if not np.array_equal(self.bond, _bonds_of(self)):
            raise ValueError(f"{where}: bond energies disagree with the interactions")
        self._check_rates(where)
        if abs(self.energy_from_scratch() - self.energy) > 1e-6 * max(1.0, abs(self.energy)):
            raise ValueError(f"{where}: stored energy disagrees with the configuration")

    def _check_rates(self, where: str) -> None:
        """The stored rates and hop energies against a recomputation from the configuration, g,
        the interaction key, w0 and the current temperature (a state that would run on another
        trajectory than the one it claims is refused)."""
        if self.program_done:
            return
        T = float(self.step_T[int(self.is_[K.I_STEP])])
        pw, rates, dEs, tree = self.pw.copy(), self.rates.copy(), self.dEs.copy(), self.tree.copy()
        c_key, c_stamp, cown, word, iso = self.c_key.copy(), self.c_stamp.copy(), self.cown.copy(), self.word.copy(), self.iso.copy()
        fs, is_ = self.fs.copy(), self.is_.copy()
        K._all_rates(self.vpos, pw, rates, dEs, tree, c_key, c_stamp, cown, word, iso, self.occ, self.nbr, self.bond, *self._inter(), self.params.w0, T, fs, is_)
        if not (np.allclose(rates, self.rates, rtol=1e-9, atol=0.0) and np.allclose(dEs, self.dEs, rtol=1e-9, atol=1e-12) and np.allclose(pw, self.pw, rtol=1e-9, atol=1e-12)):
            raise ValueError(f"{where}: the stored rates disagree with the configuration, g, w0 and T = {T!r} in the file")

    def _validate_caches(self, where: str) -> None:
        """Node-cache slots: words within the depth limit, sites in range and marked, flags 0/1."""
        S = self.params.L ** 2
        full = self.c_key >= 0
        words = np.concatenate([self.c_key[full], self.word])
        if np.any(self.c_key < -1) or np.any(words < 0) or np.any((words >> K.DEPTH_SHIFT) > K.MAX_DEPTH):
            raise ValueError(f"{where}: cache words out of range")
        sites = self.c_site[full]
        if sites.size and (sites.min() < 0 or sites.max() >= S):
            raise ValueError(f"{where}: cache sites out of range")
        owners = np.nonzero(full)[0]
        if sites.size and not np.array_equal(self.cown[sites], owners):
            raise ValueError(f"{where}: cache marks disagree with the cache slots")
        for name in ("c_clean", "iso"):
            if not np.all((getattr(self, name) == 0) | (getattr(self, name) == 1)):
                raise ValueError(f"{where}: {name} holds values other than 0 and 1")
        if not np.all(np.isfinite(self.c_dat)):
            raise ValueError(f"{where}: cached rates are not finite")


#: unpacked bytes read from a state file whose metadata does not say its size (then refused)
_UNSIZED_STATE_BYTES = 2**26


def _state_size_limit(meta_bytes: bytes, sizes: dict, path) -> int:
    """Most bytes a state file may unpack to, from the lattice size its metadata claims (checked
    against the memory limit), before any array is read; pending tracer samples add their own
    size, up to :data:`_MAX_PENDING_BYTES` each."""
    pending = 0
    for k in _PENDING_SAMPLES:
        n = sizes.get(f"{k}.npy", 0)
        if n > _MAX_PENDING_BYTES:
            raise ValueError(f"state file {str(path)!r}: member {k} declares {n} bytes, more than {_MAX_PENDING_BYTES}; refused")
        pending += n
    try:
        L = json.loads(meta_bytes.decode())["params"]["L"]
    except Exception:
        return _UNSIZED_STATE_BYTES + pending  # load() itself reports the damaged metadata
    if isinstance(L, bool) or not isinstance(L, int) or L < 3:
        raise ValueError(f"state file {str(path)!r} has invalid metadata (L = {L!r})")
    try:
        return 2 * check_memory(L) + 2**20 + pending
    except ValueError as exc:
        raise ValueError(f"state file {str(path)!r}: {exc}") from None


def _bonds_of(sim) -> np.ndarray:
    bond = np.zeros_like(sim.bond)
    K._init_bonds(sim.occ, sim.nbr, bond, *sim._inter())
    return bond


def _xtree_leaves(n_voids: int) -> int:
    """Leaves of the exit-time min-tree: the first power of two >= the number of voids."""
    q = 1
    while q < n_voids:
        q *= 2
    return q


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) and not math.isnan(float(x))


def _is_count(x) -> bool:
    return _is_number(x) and math.isfinite(float(x)) and float(x) >= 0 and int(x) == x


def pack_genesis(gpart: np.ndarray, gV: np.ndarray) -> np.ndarray:
    """float64[N, 8] rows (4 partners, 4 values) aligned to 64 bytes: one cache line a particle."""
    n = gpart.shape[0]
    buf = np.empty(n * 8 + 8, dtype=np.float64)
    off = (-buf.ctypes.data % 64) // 8
    gen = buf[off : off + n * 8].reshape(n, 8)
    gen[:, :4] = gpart
    gen[:, 4:] = gV
    return gen


def _now() -> float:
    return time.perf_counter()
