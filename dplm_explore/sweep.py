"""Parameter sweeps and replicas: local processes by default, a Dask distributed cluster on request
(the executor is :func:`dplm_explore.parallel.map_tasks`; results do not depend on where they ran:
every run is fully determined by its integer seed).

:func:`run_sweep` runs one *task* (``'run'``, ``'cool'``, ``'diffusion'``, ``'hop-energy'``,
``'tls'``: see :func:`sweep_tasks`) over the Cartesian product of parameter values times ``n_seeds``
seeds. The seeds come from ``np.random.SeedSequence(seed).spawn(n_seeds)`` and the same seed list
is used at every parameter point (common random numbers: differences between points are not
blurred by different initial states). With ``out_dir`` every finished task is written at once to
``out_dir/tasks/task-NNNNN.npz``, so an interrupted sweep keeps what it finished and
``resume=True`` runs only the rest; the collected :class:`SweepResult` is written to
``out_dir/sweep.npz``. Nothing is overwritten unless ``overwrite=True``. These and the workers
are one :class:`~dplm_explore.parallel.RunOptions` (``run=``), or its fields as keywords.

Local worker processes are started with the 'spawn' method (safe with threads, same on every
platform), so a script that calls these functions with ``workers > 1`` must guard its entry
point with ``if __name__ == "__main__":``, as :mod:`multiprocessing` requires. A Dask cluster's
workers must be able to import ``dplm_explore`` (same version).
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from .parallel import RunOptions, map_tasks  # noqa: F401 (map_tasks: the sweep's executor, imported from here by callers)
from .tasks import TASKS, need, register_task, task_g
from .results import Result, base_provenance, load_result, register_result, write_json
from .system import W0_DEFAULT

__all__ = ["run_sweep", "plan_sweep", "collect_sweep", "SweepResult", "SweepTask", "sweep_tasks"]


# ===================================================================================== tasks
@register_task("run", {"T_I", "init", "T", "hops", "time", "nu", "T_final", "dT_step"})
def _task_run(p: dict, seed: int) -> dict[str, Any]:
    """One run (constant ``T`` for ``hops``/``time``, or a ramp ``T_I -> T_final`` at ``nu``):
    final and mean energy per particle, hops, time, event-level return probabilities."""
    from .kmc import Simulation
    from .schedules import constant, make_program

    need(p, "L", "phi_v")
    if p.get("nu") is not None:
        need(p, "T_I", "T_final")
        prog = make_program(p["T_I"], p["T_final"], p["nu"], p.get("dT_step"))
    else:
        prog = constant(p.get("T", p.get("T_I")))
    sim = Simulation.create(p["L"], p["phi_v"], g=task_g(p), T_I=p.get("T_I"), init=p.get("init", "equilibrium"), seed=seed, w0=p.get("w0", W0_DEFAULT), program=prog)
    t0 = time.perf_counter()
    if p.get("nu") is not None:
        sim.advance()
    else:
        if p.get("hops") is None and p.get("time") is None:
            raise ValueError("a constant-temperature sweep task needs hops or time")
        sim.advance(None if p.get("hops") is None else int(p["hops"]), time=p.get("time"))
    b = sim.temperature_bins()
    tt = float(b["time"].sum())
    pr, pn, vr, vn = (int(b[k].sum()) for k in ("p_returns", "p_nonreturns", "v_returns", "v_nonreturns"))
    return {
        "e_final": sim.energy_per_particle,
        "e_mean": float(np.nansum(b["E_mean"] * b["time"]) / tt / sim.params.n_particles) if tt > 0 else float("nan"),
        "hops": sim.hops, "time": sim.t, "T_final": sim.T,
        "P_ret": pr / (pr + pn) if pr + pn else float("nan"), "Q_ret": vr / (vr + vn) if vr + vn else float("nan"),
        "wall_s": time.perf_counter() - t0,
    }



def sweep_tasks() -> dict:
    """Every sweep task by name (:class:`dplm_explore.tasks.Task`), the measurement modules
    imported so that they have registered theirs."""
    from . import analysis  # noqa: F401  (the measurements register their tasks on import)

    return TASKS


#: keys whose values count something: integers only (an integral float such as 1e6 is accepted)
_INT_KEYS = frozenset({"L", "hops", "n_samples", "equilibrate_hops", "n_log_bins", "min_transitions"})


def _check_keys(task: str, params: dict) -> None:
    """ValueError naming any key ``task`` does not read (misspelt, or ignored in this mode)."""
    import difflib

    allowed = sweep_tasks()[task].keys
    for k in params:
        if k not in allowed:
            close = difflib.get_close_matches(k, sorted(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"sweep task {task!r} does not use parameter {k!r}{hint}; it reads {sorted(allowed)}")
        v = params[k]
        if k in _INT_KEYS and v is not None:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer():
                raise ValueError(f"sweep parameter {k} must be an integer; got {v!r}")
    task_g(params)  # a g parameter its family does not take is refused before anything runs
    if task == "run":
        ramp = params.get("nu") is not None
        ignored = ("T", "hops", "time") if ramp else ("T_final", "dT_step")
        for k in ignored:
            if params.get(k) is not None:
                why = "a ramp (nu given) runs to its end" if ramp else "a constant-temperature run (no nu) has no ramp"
                raise ValueError(f"sweep task 'run' ignores parameter {k!r}: {why}")


def _execute(item) -> dict[str, Any]:
    """Worker entry point: ``item = (task, params, seed)``."""
    task, params, seed = item
    return sweep_tasks()[task].func(dict(params), int(seed))


# ===================================================================================== plan
@dataclass(frozen=True)
class SweepTask:
    """One unit of a sweep: grid point ``point``, seed number ``seed_index``, its ``seed`` and the
    full parameter dict."""

    index: int
    point: int
    seed_index: int
    seed: int
    params: dict


def plan_sweep(task: str, grid: dict[str, Sequence], *, base: dict | None = None, n_seeds: int = 1, seed=None) -> tuple[int, list[SweepTask]]:
    """``(root_seed, tasks)``: the Cartesian product of ``grid`` values (on top of ``base``) times
    ``n_seeds`` seeds, in row-major order (last grid key fastest, seeds fastest of all)."""
    from .analysis._common import positive_int, spawn_seeds

    if task not in sweep_tasks():
        raise ValueError(f"task must be one of {sorted(sweep_tasks())}; got {task!r}")
    base = dict(base or {})
    grid = {str(k): list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v] for k, v in (grid or {}).items()}
    for k, v in grid.items():
        if len(v) == 0:
            raise ValueError(f"grid values of {k!r} must be a non-empty list; got {v!r}")
    n_seeds = positive_int("n_seeds", n_seeds)
    root, seeds = spawn_seeds(seed, n_seeds)
    keys = list(grid)
    for k in set(base) | set(keys):
        if k not in sweep_tasks()[task].keys:
            _check_keys(task, {k: None})
    tasks = []
    for point, combo in enumerate(itertools.product(*(grid[k] for k in keys))):
        params = {**base, **dict(zip(keys, combo))}
        params = json.loads(json.dumps(params, default=_json_default))
        _check_keys(task, params)
        for si in range(n_seeds):
            tasks.append(SweepTask(len(tasks), point, si, int(seeds[si]), params))
    return root, tasks


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"sweep parameters must be JSON values; got {o!r}")


# ==================================================================================== result
@register_result
@dataclass
class SweepTaskResult(Result):
    """What one sweep task produced (``out_dir/tasks/task-NNNNN.npz``)."""

    task: str
    index: int
    point: int
    seed_index: int
    seed: int
    params: dict
    outputs: dict
    scalars: dict
    provenance: dict

    _array_dicts: ClassVar[tuple[str, ...]] = ("outputs",)


@register_result
@dataclass
class SweepResult(Result):
    """All tasks of a sweep. ``params[i]`` (JSON dicts), ``point``, ``seed_index``, ``seeds``
    int64[n]; ``outputs[name]``: every task's output stacked along axis 0 (float arrays, padded
    with NaN where tasks returned arrays of different lengths; NaN rows for tasks not done);
    ``done`` bool[n]. ``grid``, ``base``, ``task``, ``root_seed`` say what was swept."""

    task: str
    grid: dict
    base: dict
    root_seed: int
    params: list
    point: np.ndarray
    seed_index: np.ndarray
    seeds: np.ndarray
    done: np.ndarray
    outputs: dict
    provenance: dict

    _array_dicts: ClassVar[tuple[str, ...]] = ("outputs",)

    def table(self, name: str) -> np.ndarray:
        """``outputs[name]`` reshaped to ``[*grid shape, n_seeds, ...]``."""
        shape = [len(v) for v in self.grid.values()] + [int(self.seed_index.max()) + 1 if self.seed_index.size else 0]
        a = self.outputs[name]
        return a.reshape(tuple(shape) + a.shape[1:])


def _split_outputs(out: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    arrays, scalars = {}, {}
    for k, v in out.items():
        if isinstance(v, np.ndarray):
            arrays[k] = v
        elif isinstance(v, (list, tuple)):
            arrays[k] = np.asarray(v)
        else:
            scalars[k] = v.item() if isinstance(v, np.generic) else v
    return arrays, scalars


def _stack(values: list, n: int) -> np.ndarray:
    """Stack per-task values (None for tasks not done) into float[n, ...] padded with NaN."""
    arrs = [None if v is None else np.asarray(v) for v in values]
    present = [a for a in arrs if a is not None]
    if not present:
        return np.full(n, np.nan)
    shapes = {a.shape for a in present}
    same = len(shapes) == 1
    if same and all(a is not None for a in arrs) and all(a.dtype == present[0].dtype for a in present) and present[0].dtype.kind in "biuf":
        return np.stack(arrs)
    nd = max(a.ndim for a in present)
    full = tuple(max((a.shape[d] if a.ndim > d else 1) for a in present) for d in range(nd))
    out = np.full((n,) + full, np.nan)
    for i, a in enumerate(arrs):
        if a is None:
            continue
        a = np.asarray(a, float).reshape(a.shape + (1,) * (nd - a.ndim))
        out[(i,) + tuple(slice(0, s) for s in a.shape)] = a
    return out


def _collect(task: str, grid: dict, base: dict, root: int, tasks: list[SweepTask], per_task: dict[int, SweepTaskResult], provenance: dict) -> SweepResult:
    n = len(tasks)
    names: list[str] = []
    for r in per_task.values():
        for k in list(r.outputs) + list(r.scalars):
            if k not in names:
                names.append(k)
    outputs = {}
    for k in names:
        vals = []
        for t in tasks:
            r = per_task.get(t.index)
            if r is None:
                vals.append(None)
            elif k in r.outputs:
                vals.append(r.outputs[k])
            else:
                v = r.scalars.get(k)
                vals.append(None if v is None or isinstance(v, str) else float(v) if not isinstance(v, (bool, int)) else v)
        outputs[k] = _stack(vals, n)
    done = np.array([t.index in per_task for t in tasks], bool)
    return SweepResult(task=task, grid=grid, base=base, root_seed=int(root), params=[t.params for t in tasks],
                       point=np.array([t.point for t in tasks], np.int64), seed_index=np.array([t.seed_index for t in tasks], np.int64),
                       seeds=np.array([t.seed for t in tasks], np.int64), done=done, outputs=outputs, provenance=dict(provenance, complete=bool(done.all()), n_done=int(done.sum())))


def run_sweep(task: str, grid: dict[str, Sequence], *, base: dict | None = None, n_seeds: int = 1, seed=None, run: RunOptions | None = None,
              **run_keywords) -> SweepResult:
    """Run ``task`` (a key of :func:`sweep_tasks`) over ``grid`` x ``n_seeds`` seeds (see the module
    docstring); returns the :class:`SweepResult` (also written to ``out/sweep.npz``).

    How it runs: ``run`` (:class:`~dplm_explore.parallel.RunOptions`, ``out`` the output
    directory), or its fields as keywords (``workers`` default None: one process per core;
    ``out_dir`` is ``out``)."""
    run = RunOptions.resolve(run, run_keywords, caller="run_sweep", defaults={"workers": None}, renamed={"out_dir": "out"})
    out_dir, resume, overwrite = run.out, run.resume, run.overwrite
    root, tasks = plan_sweep(task, grid, base=base, n_seeds=n_seeds, seed=seed)
    grid_j = json.loads(json.dumps({k: list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v] for k, v in (grid or {}).items()}, default=_json_default))
    base_j = json.loads(json.dumps(base or {}, default=_json_default))
    plan = {"task": task, "grid": grid_j, "base": base_j, "n_seeds": int(n_seeds), "root_seed": root, "seeds": sorted({t.seed for t in tasks})}
    per_task: dict[int, SweepTaskResult] = {}
    tdir = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        tdir = out_dir / "tasks"
        plan_file = out_dir / "plan.json"
        final = out_dir / "sweep.npz"
        if resume:
            if not plan_file.exists():
                raise ValueError(f"resume=True but {plan_file} does not exist")
            old = json.loads(plan_file.read_text())
            if seed is None:
                # the root seed of the first run names the seeds: take it over
                root, tasks = plan_sweep(task, grid, base=base, n_seeds=n_seeds, seed=old["root_seed"])
                plan.update(root_seed=root, seeds=sorted({t.seed for t in tasks}))
            if old != plan:
                raise ValueError(f"{out_dir} holds a different sweep (plan.json differs); cannot resume it")
            for f in sorted(tdir.glob("task-*.npz")):
                r = load_result(f)
                per_task[r.index] = r
        else:
            if out_dir.exists() and any(out_dir.iterdir()):
                if not overwrite:
                    raise FileExistsError(f"{out_dir} exists and is not empty; pass overwrite=True (CLI: --overwrite) or resume=True (--resume)")
                for sub in ("tasks",):
                    if (out_dir / sub).exists():
                        shutil.rmtree(out_dir / sub)
                for f in (plan_file, final):
                    if f.exists():
                        f.unlink()
            out_dir.mkdir(parents=True, exist_ok=True)
            write_json(plan_file, plan)
        tdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    prov = base_provenance(kind="sweep", workers=run.workers, scheduler=None if run.scheduler is None else str(run.scheduler))
    todo = [t for t in tasks if t.index not in per_task]

    def on_result(j, res):
        t = todo[j]
        arrays, scalars = _split_outputs(res)
        r = SweepTaskResult(task=task, index=t.index, point=t.point, seed_index=t.seed_index, seed=t.seed, params=t.params, outputs=arrays, scalars=scalars,
                            provenance=base_provenance(kind="sweep task"))
        per_task[t.index] = r
        if tdir is not None:
            r.save(tdir / f"task-{t.index:05d}.npz", overwrite=True)

    try:
        run.map(_execute, [(task, t.params, t.seed) for t in todo], desc=f"sweep {task}", on_result=on_result)
    except ValueError:
        if out_dir is not None and not resume and not per_task:
            # nothing ran (the parameters were refused): leave no plan behind, so the corrected sweep starts afresh
            (out_dir / "plan.json").unlink(missing_ok=True)
            if tdir is not None and tdir.exists() and not any(tdir.iterdir()):
                tdir.rmdir()
        raise
    result = _collect(task, grid_j, base_j, root, tasks, per_task, dict(prov, wall_s=time.perf_counter() - t0))
    if out_dir is not None:
        result.save(out_dir / "sweep.npz", overwrite=True)
    return result


def collect_sweep(out_dir) -> SweepResult:
    """The (possibly partial) :class:`SweepResult` of the tasks finished in ``out_dir``."""
    out_dir = Path(out_dir)
    plan = json.loads((out_dir / "plan.json").read_text())
    root, tasks = plan_sweep(plan["task"], plan["grid"], base=plan["base"], n_seeds=plan["n_seeds"], seed=plan["root_seed"])
    per_task = {}
    for f in sorted((out_dir / "tasks").glob("task-*.npz")):
        r = load_result(f)
        per_task[r.index] = r
    return _collect(plan["task"], plan["grid"], plan["base"], root, tasks, per_task, base_provenance(kind="sweep (collected)"))
