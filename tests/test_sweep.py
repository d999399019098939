"""Sweeps and replicas: serial, local processes and a Dask LocalCluster give identical results."""

import json

import numpy as np
import pytest

from dplm_explore.sweep import collect_sweep, map_tasks, plan_sweep, run_sweep

GRID = {"phi_v": [0.03, 0.06], "nu": [20.0]}
BASE = {"L": 8, "T_I": 0.4, "T_final": 0.3, "dT_step": 0.02, "dT_bin": 0.05}


def _square(x):
    return x * x


def _fail_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


def test_map_tasks_serial_order_and_callbacks():
    seen = []
    out = map_tasks(_square, [3, 1, 2], workers=1, on_result=lambda i, r: seen.append((i, r)))
    assert out == [9, 1, 4] and seen == [(0, 9), (1, 1), (2, 4)]
    assert map_tasks(_square, []) == []
    with pytest.raises(ValueError, match="three"):
        map_tasks(_fail_on_three, [1, 3, 5], workers=0)
    with pytest.raises(ValueError, match="workers must be None or a non-negative integer"):
        map_tasks(_square, [1], workers=-2)


def test_plan_uses_spawned_seeds_at_every_point():
    root, tasks = plan_sweep("run", {"T": [0.2, 0.3], "L": [8]}, base={"phi_v": 0.05}, n_seeds=3, seed=42)
    assert root == 42 and len(tasks) == 6
    seeds = [t.seed for t in tasks]
    assert seeds[:3] == seeds[3:] and len(set(seeds[:3])) == 3
    expected = [int(k.generate_state(1, np.uint64)[0] >> np.uint64(1)) for k in np.random.SeedSequence(42).spawn(3)]
    assert seeds[:3] == expected
    assert tasks[4].params == {"phi_v": 0.05, "T": 0.3, "L": 8} and tasks[4].point == 1 and tasks[4].seed_index == 1
    with pytest.raises(ValueError, match="task must be one of"):
        plan_sweep("nope", {})
    with pytest.raises(ValueError, match="non-empty list"):
        plan_sweep("run", {"T": []})


def test_sweep_identical_serial_processes_and_dask_local_cluster():
    """The same sweep (C_v of one cooling replica per task) run in this process, on two local
    worker processes and on a Dask LocalCluster gives bit-identical outputs."""
    distributed = pytest.importorskip("distributed")
    serial = run_sweep("cool", GRID, base=BASE, n_seeds=2, seed=9, workers=1)
    assert serial.complete and serial.outputs["Cv"].shape[0] == 4 and np.all(np.isfinite(serial.outputs["Cv"]))
    procs = run_sweep("cool", GRID, base=BASE, n_seeds=2, seed=9, workers=2)
    # one worker process with two threads: tasks cross a process boundary, and start-up is cheap
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        dask = run_sweep("cool", GRID, base=BASE, n_seeds=2, seed=9, scheduler=cluster.scheduler_address)
    for other in (procs, dask):
        np.testing.assert_array_equal(other.seeds, serial.seeds)
        for k in ("T", "Cv", "e_bins", "hops"):
            np.testing.assert_array_equal(other.outputs[k], serial.outputs[k])
    # different seeds give different results
    assert not np.array_equal(serial.outputs["e_bins"][0], serial.outputs["e_bins"][1])
    assert serial.table("Cv").shape[:3] == (2, 1, 2)


def test_sweep_out_dir_partial_resume_and_no_overwrite(tmp_path):
    out = tmp_path / "sw"
    base = {"L": 8, "phi_v": 0.05, "T_I": 0.3, "hops": 2000}
    full = run_sweep("run", {"T": [0.3, 0.2]}, base=base, n_seeds=2, seed=3, workers=1, out_dir=out)
    assert (out / "sweep.npz").exists() and len(list((out / "tasks").glob("task-*.npz"))) == 4
    assert json.loads((out / "plan.json").read_text())["root_seed"] == 3
    with pytest.raises(FileExistsError, match="not empty"):
        run_sweep("run", {"T": [0.3, 0.2]}, base=base, n_seeds=2, seed=3, workers=1, out_dir=out)
    # an interrupted sweep: two tasks missing
    for f in sorted((out / "tasks").glob("task-*.npz"))[2:]:
        f.unlink()
    partial = collect_sweep(out)
    assert not partial.complete and partial.done.tolist() == [True, True, False, False]
    assert np.all(np.isnan(partial.outputs["e_final"][2:]))
    resumed = run_sweep("run", {"T": [0.3, 0.2]}, base=base, n_seeds=2, workers=1, out_dir=out, resume=True)
    assert resumed.complete
    np.testing.assert_array_equal(resumed.outputs["e_final"], full.outputs["e_final"])
    with pytest.raises(ValueError, match="different sweep"):
        run_sweep("run", {"T": [0.3, 0.25]}, base=base, n_seeds=2, workers=1, out_dir=out, resume=True)
    again = run_sweep("run", {"T": [0.3]}, base=base, n_seeds=1, seed=4, workers=1, out_dir=out, overwrite=True)
    assert again.seeds.size == 1 and len(list((out / "tasks").glob("*.npz"))) == 1


@pytest.mark.parametrize("task, grid, base, match", [
    ("run", {"T": [0.3]}, {"L": 8, "phi_v": 0.05, "hops": 10, "w_0": 1e4}, "parameter 'w_0' \\(did you mean 'w0'\\?\\)"),
    ("cool", {"dt_bin": [0.05]}, {"L": 8, "phi_v": 0.05, "T_I": 0.3, "T_final": 0.2, "nu": 1.0}, "parameter 'dt_bin'"),
    ("cool", {}, {"L": 8, "phi_v": 0.05, "T_I": 0.3, "T_final": 0.2, "nu": 1.0, "hops": 100}, "does not use parameter 'hops'"),
    ("diffusion", {"T": [0.3]}, {"L": 8, "phi_v": 0.05, "hops": 10, "n_log_bins": 3}, "parameter 'n_log_bins'"),
    ("tls", {}, {"L": 8, "phi_v": 0.05, "T_I": 0.3, "T_final": 0.2, "nu": 1.0, "hops": 10, "T": 0.1}, "parameter 'T'"),
    ("run", {}, {"L": 8, "phi_v": 0.05, "T_I": 0.3, "T_final": 0.2, "nu": 1.0, "hops": 10}, "ignores parameter 'hops'"),
    ("run", {}, {"L": 8, "phi_v": 0.05, "T": 0.3, "hops": 10, "T_final": 0.2}, "ignores parameter 'T_final'"),
])
def test_unknown_or_ignored_sweep_keys_are_refused_before_running(monkeypatch, task, grid, base, match):
    import dplm_explore.sweep as sw

    def no_runs(*a, **k):
        raise AssertionError("tasks were started")

    monkeypatch.setattr(sw, "map_tasks", no_runs)
    with pytest.raises(ValueError, match=match):
        run_sweep(task, grid, base=base, workers=1)


def test_sweep_task_errors_are_clear():
    with pytest.raises(ValueError, match="lack"):
        run_sweep("run", {"T": [0.3]}, base={"L": 8}, workers=1)
    with pytest.raises(ValueError, match="needs hops or time"):
        run_sweep("run", {"T": [0.3]}, base={"L": 8, "phi_v": 0.05, "T_I": 0.3}, workers=1)


def test_a_new_measurement_is_one_registration(monkeypatch):
    """A measurement defined anywhere (here, in this test) becomes a sweep task by registering
    it: the sweep plans it, checks its keys and runs it, with no table elsewhere to edit."""
    from dplm_explore import tasks
    from dplm_explore.analysis import build_simulation, system_spec

    monkeypatch.setattr(tasks, "TASKS", dict(tasks.TASKS))
    import dplm_explore.sweep as sweep_module

    monkeypatch.setattr(sweep_module, "TASKS", tasks.TASKS)

    @tasks.register_task("hold-energy", {"T", "hops"})
    def _hold_energy(p, seed):
        """Energy per particle after ``hops`` hops at T from equilibrium at T."""
        sim = build_simulation(system_spec(p["L"], p["phi_v"], g=tasks.task_g(p), T_I=p["T"]), seed)
        sim.advance(int(p["hops"]))
        return {"e": sim.energy_per_particle}

    res = run_sweep("hold-energy", {"T": [0.3, 0.1]}, base={"L": 10, "phi_v": 0.05, "hops": 500}, n_seeds=2, seed=9, workers=1)
    assert res.complete and res.outputs["e"].shape == (4,)
    assert np.mean(res.outputs["e"][2:]) < np.mean(res.outputs["e"][:2])  # colder holds lower energy
    with pytest.raises(ValueError, match="parameter 'nu'"):
        run_sweep("hold-energy", {"T": [0.3]}, base={"L": 10, "phi_v": 0.05, "hops": 500, "nu": 1.0}, workers=1)
