"""The explorer's model side: what the user asked for, and a simulation running in chunks.

Nothing here touches widgets or Bokeh. :class:`SystemConfig` holds the parameters that define a
system (changing one needs a new system), :class:`ProgramConfig` the temperature program (it can
change mid-run). :class:`Runner` owns one :class:`~dplm_explore.kmc.Simulation` and advances it in
*frames* of hops, either synchronously (:meth:`Runner.step`) or on a background thread
(:meth:`Runner.start`): the kernels release the GIL, so the UI thread keeps drawing. Each frame
ends with an immutable :class:`Frame` (copies of what the plots need) that the UI picks up
whenever it is ready; every other access to the simulation goes through :meth:`Runner.call`,
which waits for the current frame to end (a few tens of ms) instead of racing the worker.

Every hop is logged and replayed by an :class:`~dplm_explore.analysis.EventWindow`, so the
TLS catalogue and the return probabilities are event-level and exact; windows are tumbling,
``window_hops`` long.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

import numpy as np

from .._validate import positive, positive_int
from ..analysis import (EventWindow, MultiLevelSystems, TLSCatalogue, batch_heat_capacity, bin_index, bin_steps, heat_capacity_from_bins, multilevel_systems,
                        return_probability, temperature_edges, theory_c1_c3, tls_from_window)
from ..analysis.tls import MAX_LEVELS
from ..interactions import DEFAULT_G_FAMILY, GDistribution, g_families, g_parameters, make_g
from ..kmc import Simulation
from ..system import W0_DEFAULT, SystemParams
from ..lattice import site_xy
from ..schedules import Program, chain, constant, make_program

__all__ = ["SystemConfig", "ProgramConfig", "Frame", "Runner", "G_FAMILIES", "MODES"]

#: the g(V) families the app offers (those described by their parameters alone)
G_FAMILIES = g_families()
MODES = ("hold", "cool", "heat")
#: the system the app starts with
DEFAULT_L = 100
DEFAULT_PHI_V = 0.01
DEFAULT_T_I = 0.1
DEFAULT_SEED = 1


def _with_g_fields(cls):
    """Insert one float field per declared g parameter (:func:`g_parameters`, default the
    declared one) right after ``g_family``, before :func:`dataclass` reads the annotations."""
    ann = {}
    for name, typ in cls.__annotations__.items():
        ann[name] = typ
        if name == "g_family":
            for p in g_parameters():
                ann[p.name] = float
                setattr(cls, p.name, p.default)
    cls.__annotations__ = ann
    return cls


@dataclass(frozen=True)
@_with_g_fields
class SystemConfig:
    """Parameters that define a system; any change needs a new one (``Reset`` in the app).

    ``g_family`` is one of :data:`G_FAMILIES`; every declared g parameter of every family is a
    field of its own (``V0``, ``dV``, ``G0``, ``sigma_V``, ...), of which the family's are used."""

    L: int = DEFAULT_L
    phi_v: float = DEFAULT_PHI_V
    g_family: str = DEFAULT_G_FAMILY
    init: str = "equilibrium"
    T_I: float = DEFAULT_T_I
    seed: int = DEFAULT_SEED
    w0: float = W0_DEFAULT

    def __post_init__(self):
        if self.g_family not in g_families():
            raise ValueError(f"g_family must be one of {g_families()}; got {self.g_family!r}")
        if self.init not in ("equilibrium", "random"):
            raise ValueError(f"init must be 'equilibrium' or 'random'; got {self.init!r}")
        # the engine's own checks (L >= 3, phi_v in (0, 1), at least one void, g's parameters, T_I, w0)
        SystemParams(L=self.L, phi_v=self.phi_v, g=self.g(), w0=self.w0, init=self.init, T_I=self.T_I)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}")

    def g_used(self) -> tuple[str, ...]:
        """Names of the g parameters of the chosen family."""
        return tuple(p.name for p in g_parameters(self.g_family))

    def g(self) -> GDistribution:
        """The interaction distribution (validates its parameters)."""
        return make_g(self.g_family, **{k: getattr(self, k) for k in self.g_used()})

    def changed(self, other: "SystemConfig") -> list[str]:
        """Names of the parameters that differ from ``other`` (g parameters that neither family
        uses are ignored)."""
        g_all = {p.name for p in g_parameters()}
        used = set(self.g_used()) | set(other.g_used())
        return [f.name for f in fields(self) if (f.name not in g_all or f.name in used) and getattr(self, f.name) != getattr(other, f.name)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProgramConfig:
    """What to do with temperature from now on: ``hold`` at ``T``, or ``cool``/``heat`` at rate
    ``nu`` from the current temperature to ``T`` and hold there."""

    mode: str = "hold"
    T: float = 0.1
    nu: float = 1e-2

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {self.mode!r}")
        object.__setattr__(self, "T", positive("T", self.T))
        object.__setattr__(self, "nu", positive("nu", self.nu))

    def build(self, T_now: float) -> Program:
        """The program starting at the current temperature ``T_now``."""
        if self.mode == "hold" or math.isclose(self.T, T_now, rel_tol=1e-12):
            return constant(self.T)
        if self.mode == "cool" and not self.T < T_now:
            raise ValueError(f"cooling needs a target T below the current T = {T_now:.4g}; got T={self.T!r}")
        if self.mode == "heat" and not self.T > T_now:
            raise ValueError(f"heating needs a target T above the current T = {T_now:.4g}; got T={self.T!r}")
        return chain(make_program(T_now, self.T, self.nu), constant(self.T))


@dataclass(frozen=True)
class Frame:
    """What the plots show after one frame (all arrays are copies the UI may keep).

    ``void_xy`` int[Nv, 2] current void sites (x, y); ``void0_xy`` the initial ones; ``p_void``
    float[L, L] fraction of time each site held a void over the last ``occ_hops`` hops (``[y, x]``;
    block means of at most :data:`MAX_MAP` x :data:`MAX_MAP` blocks when L is larger);
    ``curves``: per temperature bin ``T``, ``e`` (energy per particle), ``Cv`` (dE/dT between
    bins, per particle; ``T_Cv`` its temperatures), ``Cv_fluct`` ((<E^2> - <E>^2)/(N T^2) per
    bin), ``P_ret``, ``Q_ret`` (event level), and the batch-means fluctuation C_v of
    :class:`EnergySeries` (``T_b``, ``CvT``, ``CvT_err``: C_v / T per bin and its error);
    ``traces``: void id -> (t float[n], d float[n])
    distance from where it was first followed; ``tls``: the last closed window's catalogue,
    ``mls`` its multi-level systems."""

    seq: int
    hops: int
    t: float
    T: float
    e: float
    L: int
    void_xy: np.ndarray
    void0_xy: np.ndarray
    p_void: np.ndarray
    occ_hops: int
    curves: dict[str, np.ndarray]
    traces: dict[int, tuple[np.ndarray, np.ndarray]]
    tls: TLSCatalogue | None
    tls_seq: int
    followed: tuple[int, ...]
    hops_per_s: float
    program_done: bool
    mls: MultiLevelSystems | None = None


@dataclass
class _Trace:
    origin: np.ndarray
    t: deque = field(default_factory=lambda: deque(maxlen=_TRACE_POINTS))
    d: deque = field(default_factory=lambda: deque(maxlen=_TRACE_POINTS))


MAX_MAP = 256  # larger lattices send the map as block means (a 1000 x 1000 image is 4 MB a frame)


def coarse_grain(a: np.ndarray, m: int) -> np.ndarray:
    """``a`` (float[L, L]) as the means of k x k blocks, k = ceil(L / m), so the result is at most
    m x m (``a`` itself when L <= m; a last, partial block averages over the sites it has)."""
    L = a.shape[0]
    k = -(-L // m)
    if k == 1:
        return a
    n = -(-L // k)
    pad = np.zeros((n * k, n * k), a.dtype)
    pad[:L, :L] = a
    cnt = np.zeros((n * k, n * k), np.float32)
    cnt[:L, :L] = 1.0
    s = pad.reshape(n, k, n, k).sum(axis=(1, 3))
    c = cnt.reshape(n, k, n, k).sum(axis=(1, 3))
    return (s / c).astype(a.dtype)


_TRACE_POINTS = 1500  # per followed void; every frame sends them all
_SAMPLES_PER_FRAME = 200
#: temperature bins of the live e(T), C_v and return-probability curves
_CURVE_BINS = 60
#: tracer samples a frame may collect before the tracer thins them (doubling its interval)
_MAX_WAITING_SAMPLES = 4 * _SAMPLES_PER_FRAME
MAX_FOLLOWED = 8
#: records an :class:`EnergySeries` keeps before it merges neighbours in pairs
MAX_RECORDS = 8192


class EnergySeries:
    """The energy's time series of a run as records, one per frame: mean temperature ``T``, time
    ``dt``, time-averaged total energy ``E`` and the energy variance within the record ``var``,
    from what the engine accumulated per program step between two frames (differences are taken
    per step, so a long run's totals never cancel). Over :data:`MAX_RECORDS` records, neighbours
    are merged in pairs (law of total variance), so memory stays bounded and records get longer."""

    def __init__(self):
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.T, self.dt, self.E, self.var = (np.zeros(0) for _ in range(4))

    def update(self, b: dict) -> None:
        """Add the record since the last call from ``sim.temperature_bins()`` output ``b``."""
        tm = np.asarray(b["time"], float)
        f1 = np.where(tm > 0, np.asarray(b["E_mean"], float) * tm, 0.0)
        f2 = np.where(tm > 0, np.asarray(b["E2_mean"], float) * tm, 0.0)
        prev, self._prev = self._prev, (tm, f1, f2)
        if prev is None or prev[0].size > tm.size:
            return  # a first call (or a new history) sets the baseline
        k = max(prev[0].size - 1, 0)  # steps before the previous current one are closed
        d = [a[k:].copy() for a in (tm, f1, f2)]
        for a, pa in zip(d, prev):
            a[: pa.size - k] -= pa[k:]
        dt, d1, d2 = (float(a.sum()) for a in d)
        if not dt > 0:
            return
        T = float((np.asarray(b["T"], float)[k:] * d[0]).sum() / dt)
        E = d1 / dt
        var = max(d2 / dt - E * E, 0.0)
        self.T, self.dt, self.E, self.var = (np.append(a, x) for a, x in ((self.T, T), (self.dt, dt), (self.E, E), (self.var, var)))
        if self.T.size > MAX_RECORDS:
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        n = self.T.size // 2 * 2
        head = [a[:n].reshape(-1, 2) for a in (self.T, self.dt, self.E, self.var)]
        T, dt, E, var = head
        w = dt.sum(axis=1)
        Em = (dt * E).sum(axis=1) / w
        varm = (dt * (var + (E - Em[:, None]) ** 2)).sum(axis=1) / w
        Tm = (dt * T).sum(axis=1) / w
        self.T, self.dt, self.E, self.var = (np.concatenate([m, a[n:]]) for m, a in ((Tm, self.T), (w, self.dt), (Em, self.E), (varm, self.var)))


class Runner:
    """A simulation advanced in frames, on the caller's thread or a background thread.

    ``hops_per_frame``: hops per frame (a frame is also cut short after ``frame_s`` seconds of
    wall clock while running in the background, so the UI stays fluid on slow systems);
    ``window_hops``: length of the TLS windows and of the sliding void-occupation window;
    ``min_transitions``: hops a two-site void needs to count as a TLS."""

    def __init__(self, sim: Simulation, program: ProgramConfig, *, config: SystemConfig | None = None, hops_per_frame: int = 100_000,
                 window_hops: int = 2_000_000, min_transitions: int = 4, frame_s: float = 0.05):
        if not isinstance(sim, Simulation):
            raise ValueError(f"sim must be a Simulation; got {sim!r}")
        self.sim = sim
        self.config = config
        self.program = program
        self.hops_per_frame = positive_int("hops_per_frame", hops_per_frame)
        self.window_hops = positive_int("window_hops", window_hops)
        self.min_transitions = positive_int("min_transitions", min_transitions)
        self.frame_s = positive("frame_s", frame_s)
        p = sim.params
        self.theory = _theory(p.g, p.T_I, p.phi_v) if config is not None and config.init == "equilibrium" else None
        self._lock = threading.Lock()
        self._waiting = 0
        self._wait_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._seq = 0
        self._window = EventWindow(self.sim, levels=MAX_LEVELS)
        self._tls: TLSCatalogue | None = None
        self._mls: MultiLevelSystems | None = None
        self._tls_seq = 0
        self._occ_hist: deque = deque()
        self._traces: dict[int, _Trace] = {}
        self._rate = float("nan")
        self._frame_dt_sim = float("nan")
        self.energy = EnergySeries()
        self._mark_occupation()
        self.latest: Frame = self._make_frame()

    @classmethod
    def create(cls, config: SystemConfig, program: ProgramConfig, **kw) -> "Runner":
        """A new system from ``config`` running ``program`` (which starts at ``config.T_I``)."""
        sim = Simulation.create(config.L, config.phi_v, g=config.g(), T_I=config.T_I, init=config.init, seed=config.seed, w0=config.w0,
                                program=program.build(config.T_I))
        return cls(sim, program, config=config, **kw)

    # ------------------------------------------------------------------ control
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run frames on a background thread until :meth:`pause`, the program's end or an error."""
        if self.running:
            return
        self.error = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="dplm-explore-runner", daemon=True)
        self._thread.start()

    def pause(self, timeout: float = 5.0) -> None:
        """Stop the background thread after its current frame."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        self._thread = None

    def step(self) -> Frame:
        """One frame on the caller's thread (the runner must be paused)."""
        if self.running:
            raise RuntimeError("step() needs a paused runner; pause() first")
        with self._lock:
            return self._frame(self.hops_per_frame, math.inf)

    def call(self, fn: Callable[[Simulation], Any]) -> Any:
        """``fn(sim)`` with the simulation to itself (waits for the running frame to end)."""
        with self._wait_lock:
            self._waiting += 1
        try:
            with self._lock:
                return fn(self.sim)
        finally:
            with self._wait_lock:
                self._waiting -= 1

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                if self._waiting:
                    time.sleep(0.0005)
                    continue
                with self._lock:
                    if self.sim.program_done:
                        break
                    self._frame(self.hops_per_frame, self.frame_s)
        except BaseException as exc:  # shown by the UI; the runner stays usable after a reset
            self.error = exc

    # ------------------------------------------------------------------ actions (thread-safe)
    def set_program(self, program: ProgramConfig) -> Program:
        """Switch to ``program`` from the current temperature on (validated before anything
        changes); returns the compiled program."""

        def apply(sim):
            prog = program.build(sim.T)
            sim.set_program(prog)
            self.program = program
            return prog

        return self.call(apply)

    def set_dynamics(self, dynamics: str) -> None:
        """Advance the system hop by hop or in first passage from the next frame on (between
        frames: switching to hop settles open sojourns, which must not race a running frame)."""
        self.call(lambda sim: setattr(sim, "dynamics", dynamics))

    def follow(self, voids) -> tuple[int, ...]:
        """Follow these void ids (at most :data:`MAX_FOLLOWED`; the latest kept): their
        displacement traces are sampled from now on; traces of voids still followed go on."""
        ids: list[int] = []
        nv = self.sim.params.n_voids
        for v in voids:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= int(v) < nv:
                raise ValueError(f"void ids must be integers in [0, {nv}); got {v!r}")
            if int(v) not in ids:
                ids.append(int(v))
        ids = ids[-MAX_FOLLOWED:]

        def apply(sim):
            self._collect_samples(sim)
            pos = sim.void_positions()
            self._traces = {v: self._traces.get(v) or _Trace(origin=pos[v].astype(float)) for v in ids}
            self._retrack(sim)
            self.latest = self._make_frame()  # shows the new selection at once, also when paused
            return tuple(ids)

        return self.call(apply)

    @property
    def followed(self) -> tuple[int, ...]:
        return tuple(self._traces)

    def set_frame(self, *, hops_per_frame: int | None = None, window_hops: int | None = None) -> None:
        if hops_per_frame is not None:
            self.hops_per_frame = positive_int("hops_per_frame", hops_per_frame)
        if window_hops is not None:
            self.window_hops = positive_int("window_hops", window_hops)

    # ------------------------------------------------------------------ one frame (lock held)
    def _frame(self, hops: int, budget_s: float) -> Frame:
        sim = self.sim
        t_wall = time.perf_counter()
        done = 0
        # a frame is hops_per_frame hops, cut short after budget_s on the background thread
        while done < hops and not sim.program_done:
            n = hops - done
            if math.isfinite(budget_s) and self._rate == self._rate:
                n = min(n, max(1000, int(self._rate * budget_s)))
            h0 = self._window.hops
            self._window.run(n)
            done += self._window.hops - h0
            if self._window.hops - h0 < n or time.perf_counter() - t_wall >= budget_s:
                break
        wall = time.perf_counter() - t_wall
        if done and wall > 0:
            rate = done / wall
            self._rate = rate if self._rate != self._rate else 0.7 * self._rate + 0.3 * rate
        if self._window.hops >= self.window_hops or (sim.program_done and self._window.hops):
            self._tls = tls_from_window(sim, self._window, min_transitions=self.min_transitions)
            # levels held at least 1 % of the window (as the paper's multi-level example is picked)
            self._mls = multilevel_systems(sim, self._window, min_transitions=self.min_transitions, min_fraction=0.01)
            self._tls_seq += 1
            self._window = EventWindow(sim, levels=MAX_LEVELS)
        self._collect_samples(sim)
        self._mark_occupation()
        self.latest = self._make_frame()
        return self.latest

    def _mark_occupation(self) -> None:
        sim = self.sim
        self._occ_hist.append((sim.hops, sim.t, sim.void_occupation()))
        # keep the newest snapshot at least window_hops old, and at most 64 snapshots (fewer for
        # big lattices: about 64 MB of them in all)
        while len(self._occ_hist) > 2 and self._occ_hist[1][0] <= sim.hops - self.window_hops:
            self._occ_hist.popleft()
        L = sim.params.L
        if len(self._occ_hist) > max(3, min(64, int(64e6 // (8 * L * L)))):
            del self._occ_hist[1]

    def _collect_samples(self, sim) -> None:
        if not self._traces:
            return
        t, _, xv = sim.samples(clear=True)
        ids = list(self._traces)
        if t.size and xv.shape[1] == len(ids):
            for j, v in enumerate(ids):
                tr = self._traces[v]
                tr.t.extend(t.tolist())
                tr.d.extend(np.hypot(*(xv[:, j, :] - tr.origin).T).tolist())
        # aim for about _SAMPLES_PER_FRAME samples per frame as the simulated time per hop changes
        h0, t0, _ = self._occ_hist[-1] if self._occ_hist else (sim.hops, sim.t, None)
        if sim.hops > h0 and sim.t > t0:
            dt = (sim.t - t0) / _SAMPLES_PER_FRAME
            if not 0.25 < sim.sample_interval / dt < 4:
                self._retrack(sim, dt)

    def _retrack(self, sim, interval: float | None = None) -> None:
        if interval is None:
            interval = sim.sample_interval
            if not math.isfinite(interval):
                # first trace: from the simulated time per hop seen so far
                h0, t0, _ = self._occ_hist[0]
                per_hop = (sim.t - t0) / (sim.hops - h0) if sim.hops > h0 else 1.0 / (sim.params.n_voids * sim.params.w0)
                interval = max(per_hop * self.hops_per_frame / _SAMPLES_PER_FRAME, 1e-300)
        sim.track(voids=list(self._traces), interval=interval, capacity=4096, max_samples=_MAX_WAITING_SAMPLES)

    def _make_frame(self) -> Frame:
        sim = self.sim
        L = sim.params.L
        h0, t0, occ0 = self._occ_hist[0]
        h1, t1, occ1 = self._occ_hist[-1]
        if t1 > t0:
            p_void = ((occ1 - occ0) / (t1 - t0)).astype(np.float32)
        else:
            p_void = np.zeros((L, L), np.float32)
            p_void.flat[sim.vpos] = 1.0
        p_void = coarse_grain(p_void, MAX_MAP)
        self._seq += 1
        traces = {v: (np.fromiter(tr.t, float), np.fromiter(tr.d, float)) for v, tr in self._traces.items()}
        bins = sim.temperature_bins()
        self.energy.update(bins)
        return Frame(
            seq=self._seq, hops=sim.hops, t=sim.t, T=sim.T, e=sim.energy_per_particle, L=L,
            void_xy=site_xy(sim.vpos, L).astype(np.int64), void0_xy=site_xy(sim.vpos0, L).astype(np.int64),
            p_void=p_void, occ_hops=int(h1 - h0), curves=_curves(sim, bins, self.energy), traces=traces, tls=self._tls, tls_seq=self._tls_seq,
            followed=tuple(self._traces), hops_per_s=self._rate, program_done=sim.program_done, mls=self._mls,
        )


def _theory(g, T_I: float, phi_v: float) -> dict[str, Any] | None:
    """c1, c3 of the low-T theory for a glass made from equilibrium at T_I, or None when the
    theory cannot be evaluated for these parameters."""
    try:
        th = theory_c1_c3(g, T_I, phi_v)
    except (ValueError, ArithmeticError):
        return None
    return th


_CURVE_KEYS = ("T", "e", "Cv_fluct", "P_ret", "Q_ret", "T_Cv", "Cv", "T_b", "CvT", "CvT_err")


def _curves(sim, b: dict | None = None, series: EnergySeries | None = None) -> dict[str, np.ndarray]:
    """Per-temperature-bin curves of everything run so far (_CURVE_BINS bins over the range run),
    with the analyses' own definitions (:mod:`dplm_explore.analysis._binning`): C_v the midpoint
    difference quotient of bin energies, the fluctuation C_v from the within-step variance, and
    (from ``series``) the batch-means fluctuation C_v / T with its error. ``b``: the output of
    ``sim.temperature_bins()`` when the caller has it."""
    b = sim.temperature_bins() if b is None else b
    T = np.asarray(b["T"], float)
    tm = np.asarray(b["time"], float)
    ok = tm > 0
    N = sim.params.n_particles
    empty = np.zeros(0)
    if not ok.any():
        return {k: empty for k in _CURVE_KEYS}
    T_lo, T_hi = float(T[ok].min()), float(T[ok].max())
    lo, hi = T_lo * (1 - 1e-9), T_hi * (1 + 1e-9)
    edges = temperature_edges(lo, hi, dT_bin=(hi - lo) / _CURVE_BINS) if T_hi > T_lo else np.array([lo, hi])
    Em, E2m = np.asarray(b["E_mean"], float), np.asarray(b["E2_mean"], float)
    bins = bin_steps(T, tm, Em, E2m, edges)
    var = E2m - Em**2
    var_b = bin_steps(T, tm, var, var, edges)["E"]
    keep = bins["time"] > 0
    idx, inside = bin_index(T, edges)
    cnt = {k: np.bincount(idx[inside & ok], weights=np.asarray(b[k], float)[inside & ok], minlength=edges.size - 1)[keep]
           for k in ("p_returns", "p_nonreturns", "v_returns", "v_nonreturns")}
    Tb = bins["T"][keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        cv_f = np.maximum(var_b[keep], 0.0) / (N * Tb * Tb)
    P, _ = return_probability(cnt["p_returns"], cnt["p_nonreturns"])
    Q, _ = return_probability(cnt["v_returns"], cnt["v_nonreturns"])
    e = bins["E"][keep] / N
    T_cv, cv = heat_capacity_from_bins(Tb, e)
    out = {"T": Tb, "e": e, "Cv_fluct": cv_f, "P_ret": P, "Q_ret": Q, "T_Cv": T_cv, "Cv": cv, "T_b": empty, "CvT": empty, "CvT_err": empty}
    if series is not None and series.T.size:
        cb = batch_heat_capacity(series.T, series.dt, series.E, series.var, edges, n_particles=N)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.update(T_b=cb["T"], CvT=cb["Cv"] / cb["T"], CvT_err=cb["Cv_err"] / cb["T"])
    return out
