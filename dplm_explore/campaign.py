"""The paper-scale campaign: every figure's computation as resumable jobs, run once, shipped small.

The campaign is a list of *jobs* (:data:`PLAN`), each one unit of work that writes one small result
file into a work folder outside the repository (``--dir``, default :data:`DEFAULT_WORK_DIR`):

* :class:`CoolingGroup` — replicas of one cooling program (system, program, root seed). A replica is
  one job; its state is checkpointed every :data:`CHECKPOINT_S` seconds of wall clock (the engine
  saves and resumes bit for bit), so an interrupted replica continues where it stopped. One group
  serves every figure that needs its runs (``figures``): the T_I = 0.05 runs give Fig. 1 and Fig. 7,
  the T_I >= 0.08 runs give Fig. 8 and, with snapshot windows recorded on the way, Fig. 4a.
* :class:`TaskJob` — a measurement that is minutes long at the paper's scale (Figs. 2/3/9/10 on the
  paper's 40 x 40 lattice, 4b, 5, the glycerol T_g); it runs in one piece and is redone if killed.

``run_campaign`` walks the plan in order (cheap, headline jobs first) and skips what is finished;
``assemble_figure`` turns the finished jobs of one figure into a :class:`~dplm_explore.figures.
FigureData` (``dplm_explore/data/<fig>_paper.npz``) with the CPU time each figure took, the seeds,
the package version and the command that regenerates it.

Replica seeds are ``SeedSequence(root).spawn(n)`` (:func:`spawn_seeds`): replica ``i`` has the same
seed whatever ``n`` is, so a group can be extended with more replicas later.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from . import campaign_tasks as tasks
from ._io import atomic_write, read_npz
from .interactions import FermiGauss, Uniform
from .parallel import RunOptions, map_tasks
from .schedules import NU_PAPER
from .system import W0_DEFAULT

__all__ = [
    "CoolingGroup", "TaskJob", "plan", "CAMPAIGN_SEED", "CHECKPOINT_S", "DEFAULT_WORK_DIR", "plan_for",
    "run_campaign", "campaign_status", "load_replicas", "unit_done", "results_dir", "DEFAULT_RESULTS_DIR", "units_from_figure_data",
]

#: root of every job's seed (each job's own root is derived from it and the job's name)
CAMPAIGN_SEED = 2021
#: wall-clock seconds between checkpoints of a running replica
CHECKPOINT_S = 300.0
#: work folder of checkpoints (outside the repository)
DEFAULT_WORK_DIR = Path(os.environ.get("DPLM_CAMPAIGN_DIR", "~/.cache/dplm-explore/campaign")).expanduser()
#: folder of finished units (small files worth keeping, for example in a repository); the work folder by default
DEFAULT_RESULTS_DIR = Path(os.environ["DPLM_CAMPAIGN_RESULTS"]).expanduser() if os.environ.get("DPLM_CAMPAIGN_RESULTS") else None
REPLICA_FORMAT = "dplm-explore-campaign-replica/1"

UNIFORM = Uniform(V0=0.0, dV=1.0).to_dict()
GLYCEROL = FermiGauss(G0=0.2, sigma_V=0.1, dV=1.0).to_dict()
#: the groups started after the first-passage dynamics existed use it (the same chain in law, 2-24x
#: faster below T ~ 0.1; their energy-square moments are absent, so C_v is dE/dT only)
FP = "first-passage"
#: the cooling rate of the glycerol-like runs (Figs. 5, 6); the others cool at NU_PAPER
NU_GLYCEROL = 1e-2
#: snapshot windows for Fig. 4a: temperatures, snapshot interval and window length (time units)
RETURN_MARKS = (0.15, 0.1, 0.05, 0.01)
SNAPSHOT_INTERVAL = 1e-3
WINDOW_TIME = 2.0


def job_root_seed(name: str) -> int:
    """A job's root seed: the campaign seed mixed with the CRC-32 of its name."""
    return CAMPAIGN_SEED * 2**32 + zlib.crc32(name.encode())


# ================================================================================== cooling jobs
@dataclass(frozen=True)
class CoolingGroup:
    """``n_replicas`` cooling runs of one system from equilibrium at ``T_I`` to ``T_final`` at
    ``nu``. ``marks``: temperatures at which a snapshot window of ``window_time`` is recorded
    (snapshot- and event-level returns, Fig. 4a)."""

    name: str
    L: int
    phi_v: float
    T_I: float
    n_replicas: int
    figures: tuple[str, ...]
    g: dict = field(default_factory=lambda: dict(UNIFORM))
    T_final: float = 0.002
    nu: float = NU_PAPER
    marks: tuple[float, ...] = ()
    snapshot_interval: float = SNAPSHOT_INTERVAL
    window_time: float = WINDOW_TIME
    dynamics: str = "hop"

    kind = "cooling"

    def spec(self) -> dict[str, Any]:
        from .analysis import system_spec

        return system_spec(self.L, self.phi_v, g=self.g, T_I=self.T_I, dynamics=self.dynamics)

    def program(self):
        from .schedules import make_program

        return make_program(self.T_I, self.T_final, self.nu)

    def seeds(self) -> np.ndarray:
        from .analysis import spawn_seeds

        return spawn_seeds(job_root_seed(self.name), self.n_replicas)[1]

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "L": self.L, "phi_v": self.phi_v, "g": self.g, "T_I": self.T_I, "T_final": self.T_final,
                "nu": self.nu, "n_replicas": self.n_replicas, "marks": list(self.marks), "snapshot_interval": self.snapshot_interval,
                "window_time": self.window_time, "dynamics": self.dynamics, "root_seed": job_root_seed(self.name), "figures": list(self.figures)}

    def units(self) -> list[str]:
        return [f"{self.name}/r{i:03d}" for i in range(self.n_replicas)]

    def run_unit(self, unit: str, work: Path, results: Path, *, checkpoint_s: float, progress: bool) -> None:
        i = int(unit.rsplit("/r", 1)[1])
        _run_replica(self, i, work, results, checkpoint_s=checkpoint_s, progress=progress)


def results_dir(work: Path | None = None, results: Path | None = None) -> Path:
    """The folder of finished units: ``results``, else :data:`DEFAULT_RESULTS_DIR`, else the work folder."""
    if results is not None:
        return Path(results)
    return DEFAULT_RESULTS_DIR or Path(work or DEFAULT_WORK_DIR)


def _paths(work: Path, results: Path, group: str, i: int) -> dict[str, Path]:
    d = work / group
    return {"dir": d, "done": results / group / f"r{i:03d}.npz", "progress": d / f"r{i:03d}.progress.json"}


def _write_json(path: Path, obj) -> None:
    atomic_write(path, lambda fh: fh.write(json.dumps(obj).encode()), overwrite=True)


class _Stop(Exception):
    """SIGTERM while a job runs: checkpoint and leave."""


def _on_term(signum, frame):
    raise _Stop()


def _run_replica(group: CoolingGroup, i: int, work: Path, results: Path, *, checkpoint_s: float, progress: bool) -> None:
    """Run (or continue) replica ``i`` of ``group`` (checkpoints in ``work``); writes
    ``<results>/<group>/r<i>.npz`` when the program ends."""
    from .analysis import build_simulation, measure_return_probabilities
    from .kmc import Simulation

    p = _paths(work, results, group.name, i)
    if p["done"].exists():
        return
    p["dir"].mkdir(parents=True, exist_ok=True)
    p["done"].parent.mkdir(parents=True, exist_ok=True)
    seed = int(group.seeds()[i])
    if p["progress"].exists():
        prog = json.loads(p["progress"].read_text())
        sim = Simulation.load(p["dir"] / prog["state"])
        if sim.hops != prog["hops"] or sim.seed != seed:
            raise RuntimeError(f"checkpoint {p['dir'] / prog['state']} does not match its progress file {p['progress']}")
        prog["sessions"] += 1
    else:
        sim = build_simulation(group.spec(), seed, group.program())
        prog = {"state": None, "gen": 0, "hops": 0, "cpu_s": 0.0, "wall_s": 0.0, "windows": [], "sessions": 1, "group": group.describe(), "replica": i,
                "seed": seed}
    # a state file that the progress file does not name was written by a checkpoint cut short
    # (before its progress file); it is no checkpoint, and the next checkpoint may need its name
    for f in p["dir"].glob(f"r{i:03d}.state*.npz"):
        if f.name != prog["state"]:
            f.unlink()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    cpu_base, wall_base = prog["cpu_s"], prog["wall_s"]

    def checkpoint():
        old = prog["state"]
        prog["gen"] += 1
        name = f"r{i:03d}.state{prog['gen']}.npz"
        sim.save(p["dir"] / name)
        prog.update(state=name, hops=int(sim.hops), cpu_s=cpu_base + time.process_time() - cpu0, wall_s=wall_base + time.perf_counter() - wall0)
        _write_json(p["progress"], prog)
        if old and (p["dir"] / old).exists():
            (p["dir"] / old).unlink()

    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        done_marks = {w["mark"] for w in prog["windows"]}
        last_ckpt = time.perf_counter()
        while not sim.program_done:
            todo = [m for m in group.marks if m not in done_marks and m < sim.T]
            until = max(todo) if todo else None
            budget = max(1.0, checkpoint_s - (time.perf_counter() - last_ckpt))
            sim.advance(wall=budget, until_T=until, progress=False)
            if until is not None and sim.T <= until and not sim.program_done:
                r = measure_return_probabilities(sim, snapshot_interval=group.snapshot_interval, time=group.window_time)
                prog["windows"].append({"mark": until, "T": float(r.T[0]), "counts_event": r.counts_event[0].tolist(),
                                        "counts_snapshot": r.counts_snapshot[0].tolist(), "n_snapshots": int(r.n_snapshots),
                                        "snapshot_interval": group.snapshot_interval, "t0": r.t0, "t1": r.t1})
                done_marks.add(until)
            if progress:
                print(f"  {group.name} r{i:03d}: T = {sim.T:.4g}, {sim.hops:.3g} hops", flush=True)
            if time.perf_counter() - last_ckpt >= checkpoint_s and not sim.program_done:
                checkpoint()
                last_ckpt = time.perf_counter()
    except (KeyboardInterrupt, _Stop):
        # a second signal must not cut the checkpoint short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            checkpoint()
        finally:
            signal.signal(signal.SIGINT, sigint)
        raise KeyboardInterrupt from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _finish_replica(group, i, sim, prog, p, cpu_base + time.process_time() - cpu0, wall_base + time.perf_counter() - wall0)


def _finish_replica(group, i, sim, prog, p, cpu_s, wall_s) -> None:
    from .results import base_provenance

    b = sim.temperature_bins()
    e_inc, e_full = sim.energy, sim.energy_from_scratch()
    drift = abs(e_inc - e_full) / abs(e_full) if e_full else abs(e_inc - e_full)
    ret = np.stack([b["p_returns"], b["p_nonreturns"], b["v_returns"], b["v_nonreturns"]], axis=-1).astype(np.int64)
    meta = {"format": REPLICA_FORMAT, "group": group.describe(), "replica": i, "seed": prog["seed"], "n_hops": int(sim.hops), "cpu_s": cpu_s,
            "wall_s": wall_s, "sessions": prog["sessions"], "drift": float(drift), "windows": prog["windows"],
            "provenance": base_provenance(kind="campaign replica", simulation=sim.provenance())}
    arrays = {"T": b["T"], "time": b["time"], "E": b["E_mean"], "E2": b["E2_mean"], "hops": b["hops"].astype(np.int64), "returns": ret}

    def write(fh):
        np.savez_compressed(fh, _meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)

    atomic_write(p["done"], write)
    for f in p["dir"].glob(f"r{i:03d}.state*.npz"):
        f.unlink()
    p["progress"].unlink(missing_ok=True)


def load_replicas(group: CoolingGroup, results: Path | None = None) -> list[dict[str, Any]]:
    """The finished replicas of ``group`` in ``results`` (see :func:`results_dir`): dicts of the
    per-step arrays plus ``meta``."""
    results = results_dir(results=results)
    out = []
    for i in range(group.n_replicas):
        f = _paths(results, results, group.name, i)["done"]
        if not f.exists():
            continue
        data = read_npz(f, "campaign replica")
        meta = json.loads(bytes(data.pop("_meta")).decode())
        if meta.get("format") != REPLICA_FORMAT:
            raise ValueError(f"{f} has format {meta.get('format')!r}; expected {REPLICA_FORMAT!r}")
        data["meta"] = meta
        out.append(data)
    return out


def units_from_figure_data(path, results: Path | None = None) -> dict[str, list[int]]:
    """Unpack the cooling replicas stored in a figure data file (``dplm_explore/data/<fig>_paper.npz``)
    into finished units in ``results`` (see :func:`results_dir`), so that a campaign extends a
    shipped figure with more replicas instead of computing its replicas again. Only results made
    by a job of the current plan are unpacked, and only when their system, program, root seed and
    every replica's seed are that job's; units already present are left alone. Each unit's
    provenance is the shipped result's, plus ``unpacked_from``; its ``cpu_s`` is the result's CPU
    time shared out by the replicas' wall times (the result stores no per-replica CPU time).
    Returns job name -> replica indices written."""
    from .analysis import HeatCapacity
    from .figures import load_figure_data

    results = results_dir(results=results)
    data = load_figure_data(path)
    groups = {j.name: j for j in plan() if j.kind == "cooling"}
    written: dict[str, list[int]] = {}
    for key, hc in data.results.items():
        job = (hc.provenance or {}).get("campaign_job", {}) if isinstance(hc, HeatCapacity) else {}
        group = groups.get(job.get("name"))
        if group is None:
            continue
        _check_same_job(group, hc, f"{path} result {key!r}")
        indices = [int(i) for i in hc.provenance["replica_indices"]]
        wall = np.asarray(hc.provenance["replica_wall_s"], float)
        cpu = float(hc.provenance["cpu_s"]) * wall / wall.sum()
        seeds = group.seeds()
        for r, i in enumerate(indices):  # every replica checked before any is written
            if i >= group.n_replicas or int(hc.seeds[r]) != int(seeds[i]):
                raise ValueError(f"{path} result {key!r}: replica {i} has seed {int(hc.seeds[r])}, not job {group.name}'s")
        for r, i in enumerate(indices):
            done = _paths(results, results, group.name, i)["done"]
            if done.exists():
                continue
            done.parent.mkdir(parents=True, exist_ok=True)
            meta = {"format": REPLICA_FORMAT, "group": group.describe(), "replica": i, "seed": int(hc.seeds[r]), "n_hops": int(hc.provenance["replica_hops"][r]),
                    "cpu_s": float(cpu[r]), "wall_s": float(wall[r]), "sessions": 1, "drift": float(hc.energy_drift[r]), "windows": [],
                    "provenance": dict(hc.provenance, unpacked_from=str(Path(path).name), figure_data_created_utc=data.provenance.get("created_utc"))}
            arrays = {"T": hc.T_steps, "time": hc.time_steps[r], "E": hc.E_steps[r], "E2": hc.E2_steps[r], "hops": hc.hops_steps[r].astype(np.int64),
                      "returns": hc.returns_steps[r].astype(np.int64)}
            atomic_write(done, lambda fh: np.savez_compressed(fh, _meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays))
            written.setdefault(group.name, []).append(i)
    return written


def _check_same_job(group: CoolingGroup, hc, where: str) -> None:
    from .schedules import Program

    want_prog = group.program().to_dict()
    got_prog = Program.from_dict(hc.program).to_dict()
    spec = group.spec()
    got = dict(hc.system)
    got.setdefault("dynamics", "hop")  # a spec without dynamics ran hop by hop (as build_simulation reads it)
    differ = [k for k in spec if got.get(k) != spec[k]] + ["program"] * (got_prog != want_prog) + ["root seed"] * (int(hc.root_seed) != job_root_seed(group.name))
    if differ:
        raise ValueError(f"{where} was not made by job {group.name} of this plan (differs in {', '.join(differ)})")
    if group.marks:
        raise ValueError(f"{where}: job {group.name} records snapshot windows at T = {list(group.marks)}, which a heat capacity does not keep; "
                         "its replicas cannot be unpacked")


# ===================================================================================== task jobs
@dataclass(frozen=True)
class TaskJob:
    """A measurement run in one piece: ``func(params, seed, progress) -> dict of Results``; its
    results go to ``<results>/<name>.npz`` as a :class:`~dplm_explore.figures.FigureData`."""

    name: str
    figures: tuple[str, ...]
    params: dict
    func: Callable[[dict, int, bool], dict]

    kind = "task"

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "params": self.params, "root_seed": job_root_seed(self.name), "figures": list(self.figures)}

    def units(self) -> list[str]:
        return [self.name]

    def path(self, results: Path) -> Path:
        return Path(results) / f"{self.name}.npz"

    def run_unit(self, unit: str, work: Path, results: Path, *, checkpoint_s: float, progress: bool) -> None:
        from .figures import FigureData
        from .results import base_provenance

        out = self.path(results)
        if out.exists():
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        results = self.func(self.params, job_root_seed(self.name), progress)
        prov = base_provenance(job=self.describe(), cpu_s=time.process_time() - cpu0, wall_s=time.perf_counter() - wall0, seed=job_root_seed(self.name))
        FigureData(self.name, "paper", self.params, results, prov).save(out)

    def load(self, results: Path | None = None):
        """The job's finished result in ``results``, or None; ValueError when that file was made
        with other parameters than the plan's (it would otherwise stand for the plan's job)."""
        from .figures import load_figure_data

        f = self.path(results_dir(results=results))
        if not f.exists():
            return None
        data = load_figure_data(f)
        stored, planned = _plain(data.params), _plain(self.params)
        if stored != planned:
            diff = sorted(k for k in set(stored) | set(planned) if stored.get(k) != planned.get(k))
            raise ValueError(f"{f} was made with other parameters than job {self.name} plans (differing: {', '.join(diff)}); "
                             f"move it away to recompute the job")
        return data


def _plain(params: dict) -> dict:
    """``params`` as JSON gives them back (tuples become lists), for comparisons."""
    return json.loads(json.dumps(params))


# ========================================================================================= plan
#: q(T_I) from directly constructed states (Fig. 4b)
Q_T_I = (0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3)
#: each D(T) run lasts until the particles' MSD is about this (lattice spacings squared)
MSD_TARGET = 10.0
#: pilot hops that estimate D before the run length is chosen; cap on one run's hops
PILOT_HOPS = 20_000_000
MAX_RUN_HOPS = 600_000_000
#: the paper's Fig. 2 windows: marks and hops per window
FIG2_MARKS = (0.2, 0.15, 0.1, 0.05)
FIG2_HOPS = 10_000_000
#: TLS A and B of Figs. 2, 3 and 9 flip at least this often in the catalogue window (FIG2_HOPS
#: hops at T = 0.05), so that their traces in Fig. 3 (a) show them flipping; runs whose lattice
#: has fewer than two such TLS are rejected (up to TLS_ATTEMPTS seeds)
TLS_MIN_TRANSITIONS = 20
TLS_ATTEMPTS = 12


def _trace_events() -> int:
    from .analysis import trajectories

    return trajectories.TRACE_EVENTS


def _q_job() -> TaskJob:
    return TaskJob("q-L200-p0.005", ("fig4b",), {"L": 200, "phi_v": 0.005, "g": dict(UNIFORM), "T_I": list(Q_T_I), "n_states": 8, "nu": NU_PAPER,
                                               "w0": W0_DEFAULT}, tasks.q_curve_task)


def _tls_job() -> TaskJob:
    return TaskJob("tls-L40-p0.005-T0.25", ("fig2", "fig3", "fig9", "fig10"),
                   {"L": 40, "phi_v": 0.005, "g": dict(UNIFORM), "T_I": 0.25, "T_final": 0.04, "nu": NU_PAPER, "T_marks": list(FIG2_MARKS), "hops": FIG2_HOPS,
                    "T_hold": 0.05, "min_transitions": TLS_MIN_TRANSITIONS, "max_attempts": TLS_ATTEMPTS, "max_log_ratio": 20.0, "trace_events": _trace_events(), "multilevel_T": 0.1,
                    "boltzmann_T": [0.033, 0.04, 0.05, 0.065, 0.08, 0.1], "boltzmann_hops": 3_000_000, "boltzmann_equilibrate_hops": 300_000,
                    "w0": W0_DEFAULT}, tasks.tls_history_task)


def _dj(name, figures, L, phi_v, g, T, n_replicas, forms) -> TaskJob:
    return TaskJob(name, figures, {"L": L, "phi_v": phi_v, "g": dict(g), "T": list(T), "n_replicas": n_replicas, "forms": list(forms), "msd_target": MSD_TARGET,
                                   "pilot_hops": PILOT_HOPS, "max_run_hops": MAX_RUN_HOPS, "w0": W0_DEFAULT}, tasks.diffusion_task)


def _later_jobs() -> list[TaskJob]:
    return [
        _tls_job(),
        _dj("D-fg-L100-p0.01", ("fig5",), 100, 0.01, GLYCEROL, (0.5, 0.4, 0.35, 0.31, 0.28, 0.26, 0.245, 0.23), 2, ("vft", "myega", "parabolic")),
        _dj("D-fg-L100-p0.031", ("fig6",), 100, 0.031, GLYCEROL, (0.4, 0.33, 0.29, 0.27, 0.25, 0.24, 0.23, 0.22), 2, ("vft",)),
        _dj("D-u-L100-p0.005", ("fig5",), 100, 0.005, UNIFORM, (0.3, 0.25, 0.2, 0.18, 0.17, 0.16, 0.15, 0.14), 2, ("vft",)),
    ]


def _cool(name, L, phi_v, T_I, n, figures, **kw) -> CoolingGroup:
    return CoolingGroup(name, L, phi_v, T_I, n, tuple(figures), **kw)


def _plan() -> list:
    return [
        _q_job(),
        _cool("u-L200-p0.005-T0.05", 200, 0.005, 0.05, 72, ["fig1", "fig7"]),
        _cool("u-L200-p0.005-T0.03", 200, 0.005, 0.03, 240, ["fig1"]),
        *_later_jobs(),
        _cool("u-L200-p0.0025-T0.05", 200, 0.0025, 0.05, 128, ["fig7"]),
        _cool("u-L200-p0.0075-T0.05", 200, 0.0075, 0.05, 56, ["fig7"]),
        _cool("u-L200-p0.01-T0.05", 200, 0.01, 0.05, 32, ["fig7"]),
        _cool("u-L200-p0.0125-T0.05", 200, 0.0125, 0.05, 32, ["fig7"]),
        _cool("u-L200-p0.005-T0.07-fp", 200, 0.005, 0.07, 12, ["fig1"], dynamics=FP),
        _cool("u-L100-p0.005-T0.05", 100, 0.005, 0.05, 96, ["lattice-check"]),
        _cool("u-L100-p0.005-T0.1-fp", 100, 0.005, 0.1, 24, ["fig1", "fig8"], dynamics=FP),
        _cool("u-L100-p0.005-T0.1", 100, 0.005, 0.1, 24, ["dynamics-check"]),
        _cool("u-L100-p0.005-T0.08-fp", 100, 0.005, 0.08, 12, ["fig8"], dynamics=FP),
        _cool("u-L100-p0.005-T0.15-fp", 100, 0.005, 0.15, 12, ["fig8"], dynamics=FP),
        # 8, not the 12 of the other Fig. 8 groups: a replica costs about 30 CPU-min, three times a T_I = 0.15 one
        _cool("u-L100-p0.005-T0.2-fp", 100, 0.005, 0.2, 8, ["fig8", "fig4a"], marks=RETURN_MARKS, dynamics=FP),
        _cool("fg-L200-p0.031-T0.3-fp", 200, 0.031, 0.3, 8, ["fig6"], g=dict(GLYCEROL), nu=NU_GLYCEROL, dynamics=FP),
    ]


_PLAN_CACHE: list = []


def plan() -> list:
    """The campaign's jobs, in the order they run."""
    if not _PLAN_CACHE:
        _PLAN_CACHE.extend(_plan())
    return _PLAN_CACHE


def plan_for(figures: Iterable[str] | None = None) -> list:
    """The jobs that serve ``figures`` (all jobs when None)."""
    jobs = plan()
    if figures is None:
        return list(jobs)
    want = set(figures)
    return [j for j in jobs if want & set(j.figures)]




def unit_done(job, unit: str, results: Path) -> bool:
    """Whether ``unit`` of ``job`` has its result file in ``results`` (a measurement job's file
    must have the plan's parameters: ValueError otherwise, see :meth:`TaskJob.load`)."""
    if job.kind == "task":
        return job.load(results) is not None
    i = int(unit.rsplit("/r", 1)[1])
    return _paths(results, results, job.name, i)["done"].exists()


def campaign_status(figures=None, results: Path | None = None) -> list[dict[str, Any]]:
    """One row per job: units done / planned and the CPU seconds they took."""
    results = results_dir(results=results)
    rows = []
    for job in plan_for(figures):
        units = job.units()
        done = [u for u in units if unit_done(job, u, results)]
        cpu = 0.0
        if job.kind == "cooling":
            cpu = sum(r["meta"]["cpu_s"] for r in load_replicas(job, results))
        else:
            d = job.load(results)
            cpu = d.provenance.get("cpu_s", 0.0) if d else 0.0
        rows.append({"job": job.name, "kind": job.kind, "figures": list(job.figures), "done": len(done), "planned": len(units), "cpu_s": cpu})
    return rows


def run_campaign(figures=None, *, work: Path | None = None, checkpoint_s: float = CHECKPOINT_S, max_units: int | None = None,
                 log: Callable[[str], None] = print, run: RunOptions | None = None, **run_keywords) -> int:
    """Run every unfinished unit of the jobs serving ``figures`` in plan order; returns the
    number of units run. Checkpoints go to ``work``; interrupting (Ctrl-C, SIGTERM) checkpoints
    the running replicas, and the next call continues them.

    How it runs: ``run`` (:class:`~dplm_explore.parallel.RunOptions`), or its fields as keywords
    (``results`` is ``out``): ``workers`` as :func:`~dplm_explore.parallel.map_tasks` takes them
    (default 1: one unit at a time, in this process), ``out`` the folder of finished units (see
    :func:`results_dir`), ``progress`` a line per chunk of a running replica. A campaign always
    continues its folders (``resume`` changes nothing) and never replaces a finished unit; it
    runs on local processes only (its replicas checkpoint on SIGTERM). Several campaigns may
    share one work folder at once: each unit is claimed by the process that runs it, and the
    others skip it."""
    run = RunOptions.resolve(run, run_keywords, caller="run_campaign", renamed={"results": "out"})
    if run.scheduler is not None:
        raise ValueError(f"run_campaign runs on local processes (its replicas checkpoint on SIGTERM); got scheduler={run.scheduler!r}")
    if run.overwrite:
        raise ValueError("run_campaign never replaces a finished unit; got overwrite=True")
    results = results_dir(work, run.out)
    work = Path(work or DEFAULT_WORK_DIR)
    work.mkdir(parents=True, exist_ok=True)
    todo = [(job, unit) for job in plan_for(figures) for unit in job.units() if not unit_done(job, unit, results)]
    if max_units is not None:
        todo = todo[:max_units]
    items = [(job, unit, str(work), str(results), float(checkpoint_s), run.progress) for job, unit in todo]
    ran = map_tasks(_run_unit_item, items, workers=run.workers, on_result=lambda i, r: log(r[1]))
    return sum(r[0] for r in ran)


def _run_unit_item(item) -> tuple[bool, str]:
    """One unit (a top-level function, so that worker processes can run it), unless another
    process has claimed or finished it (see :func:`_claim`): (whether it ran, log line). A worker
    process whose unit was interrupted (checkpointed) leaves at once, taking no other unit."""
    import multiprocessing

    try:
        return _run_unit(*item)
    except KeyboardInterrupt:
        if multiprocessing.parent_process() is not None:
            sys.stderr.flush()
            os._exit(130)
        raise


def _run_unit(job, unit: str, work: str, results: str, checkpoint_s: float, progress: bool) -> tuple[bool, str]:
    claim = _claim(Path(work), unit)
    if isinstance(claim, str):
        return False, f"[{time.strftime('%H:%M:%S')}] {unit}: skipped, {claim}"
    try:
        if unit_done(job, unit, Path(results)):
            return False, f"[{time.strftime('%H:%M:%S')}] {unit}: skipped, finished by another process"
        t0 = time.perf_counter()
        print(f"[{time.strftime('%H:%M:%S')}] {unit}: start", file=sys.stderr, flush=True)
        job.run_unit(unit, Path(work), Path(results), checkpoint_s=checkpoint_s, progress=progress)
        return True, f"[{time.strftime('%H:%M:%S')}] {unit}: done in {time.perf_counter() - t0:.1f} s"
    finally:
        os.close(claim)


def _claim(work: Path, unit: str) -> "int | str":
    """Claim ``unit`` for this process: an exclusive lock on ``<work>/<unit>.claim``, which then
    holds this process's id. Returns the open descriptor (closing it releases the claim; the
    system releases it too when the process ends, however it ends), or, when another process
    holds the claim, why the unit is not ours."""
    import fcntl

    path = work / f"{unit}.claim"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        held = os.read(fd, 64).decode(errors="replace").strip()
        os.close(fd)
        return f"claimed by process {held or '?'} ({path})"
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
