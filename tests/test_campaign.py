"""The paper-scale campaign on a tiny plan: replicas checkpoint and resume bit for bit, finished
units are skipped, a figure assembles from them with provenance and headline records."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from dplm_explore import campaign
from dplm_explore.campaign import CoolingGroup, TaskJob, campaign_status, load_replicas, run_campaign


def _q_task(p, seed, progress):
    from dplm_explore.analysis import measure_q_curve

    return {"q": measure_q_curve(p["L"], p["phi_v"], p["T_I"], n_states=1, seed=seed)}


TINY = [
    TaskJob("tiny-q", ("fig4b",), {"L": 24, "phi_v": 0.01, "T_I": [0.05, 0.1]}, _q_task),
    CoolingGroup("tiny-cool", 14, 0.02, 0.05, 3, ("fig1", "fig7"), T_final=0.01, nu=2e-2),
    CoolingGroup("tiny-marks", 14, 0.02, 0.12, 2, ("fig4a",), T_final=0.02, nu=5e-2, marks=(0.1, 0.05), window_time=0.01),
]


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(campaign, "_PLAN_CACHE", list(TINY))
    return TINY


def test_run_skip_status_and_assemble(tiny, tmp_path):
    from dplm_explore.reproduction import assemble_figure, headline_records

    n = run_campaign(["fig1", "fig4b", "fig4a"], work=tmp_path, log=lambda s: None)
    assert n == 1 + 3 + 2
    assert run_campaign(["fig1", "fig4b", "fig4a"], work=tmp_path, log=lambda s: None) == 0  # all done: nothing reruns
    rows = {r["job"]: r for r in campaign_status(None, tmp_path)}
    assert rows["tiny-cool"]["done"] == 3 and rows["tiny-cool"]["cpu_s"] > 0
    reps = load_replicas(tiny[1], tmp_path)
    assert [r["meta"]["replica"] for r in reps] == [0, 1, 2]
    assert all(r["meta"]["drift"] < 1e-9 for r in reps)
    assert len({r["meta"]["seed"] for r in reps}) == 3
    d = assemble_figure("fig1", tmp_path)
    assert d.scale == "paper" and d.provenance["cpu_hours"] > 0 and d.provenance["jobs_progress"]["tiny-cool"] == {"done": 3, "planned": 3}
    assert d.provenance["command"].startswith("dplm-explore reproduce --figures fig1")
    hc = d.results["T_I=0.05"]
    assert hc.n_done == 3 and hc.Cv_replicas.shape[0] == 3
    recs = headline_records("fig4a", assemble_figure("fig4a", tmp_path))
    assert {r["T"] for r in recs} == {0.1, 0.05}
    assert {r["interval"] for r in recs} == {None, campaign.SNAPSHOT_INTERVAL}
    json.dumps(recs)


def test_a_shipped_figure_unpacks_into_units_that_extend_it(tiny, tmp_path, monkeypatch):
    """The replicas of a figure data file unpack into finished units with the same arrays; a
    campaign with more planned replicas then runs only the new ones, and the extended figure
    holds the shipped replicas unchanged. A file whose seeds are not the job's is refused."""
    from dplm_explore.reproduction import assemble_figure

    first = tmp_path / "first"
    run_campaign(["fig7"], work=first, log=lambda s: None)
    shipped = assemble_figure("fig7", first).save(tmp_path / "fig7_paper.npz")
    second = tmp_path / "second"
    assert campaign.units_from_figure_data(shipped, second) == {"tiny-cool": [0, 1, 2]}
    assert campaign.units_from_figure_data(shipped, second) == {}  # present units are left alone
    for a, b in zip(load_replicas(tiny[1], first), load_replicas(tiny[1], second)):
        for k in ("T", "time", "E", "E2", "hops", "returns"):
            assert np.array_equal(a[k], b[k]), k
        assert b["meta"]["seed"] == a["meta"]["seed"] and b["meta"]["n_hops"] == a["meta"]["n_hops"]
        assert b["meta"]["provenance"]["unpacked_from"] == "fig7_paper.npz"

    more = CoolingGroup("tiny-cool", 14, 0.02, 0.05, 4, ("fig1", "fig7"), T_final=0.01, nu=2e-2)
    monkeypatch.setattr(campaign, "_PLAN_CACHE", [more])
    assert run_campaign(["fig7"], work=second, log=lambda s: None) == 1
    hc_old, hc_new = (assemble_figure("fig7", d).results["φ_v=0.02"] for d in (first, second))
    assert hc_new.n_done == 4 and np.array_equal(hc_new.E_steps[:3], hc_old.E_steps)

    other = CoolingGroup("tiny-cool", 14, 0.02, 0.05, 4, ("fig7",), T_final=0.01, nu=1e-2)  # another program
    monkeypatch.setattr(campaign, "_PLAN_CACHE", [other])
    with pytest.raises(ValueError, match="not made by job tiny-cool"):
        campaign.units_from_figure_data(shipped, tmp_path / "third")


def test_checkpointed_replica_continues_bit_for_bit(tiny, tmp_path):
    """A replica checkpointed at every chunk and interrupted, then continued, ends with exactly
    the arrays of the same replica run in one go."""
    group = CoolingGroup("tiny-long", 20, 0.03, 0.1, 1, ("fig1",), T_final=0.02, nu=2e-2)
    campaign._run_replica(group, 0, tmp_path / "a", tmp_path / "a", checkpoint_s=1e9, progress=False)
    assert load_replicas(group, tmp_path / "a")[0]["meta"]["n_hops"] > 2000
    # interrupted run: SIGTERM-like stop after the first checkpoint, then a second session
    calls = {"n": 0}

    from dplm_explore.kmc import Simulation

    orig = Simulation.advance

    def stop_after_two(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return orig(self, 300, **k)  # short chunks: a checkpoint after each

    Simulation.advance = stop_after_two
    try:
        with pytest.raises(KeyboardInterrupt):
            campaign._run_replica(group, 0, tmp_path / "b", tmp_path / "b", checkpoint_s=0.0, progress=False)
    finally:
        Simulation.advance = orig
    prog = json.loads((tmp_path / "b" / group.name / "r000.progress.json").read_text())
    assert prog["hops"] > 0 and not (tmp_path / "b" / group.name / "r000.npz").exists()
    campaign._run_replica(group, 0, tmp_path / "b", tmp_path / "b", checkpoint_s=1e9, progress=False)
    a = load_replicas(group, tmp_path / "a")[0]
    b = load_replicas(group, tmp_path / "b")[0]
    for k in ("T", "time", "E", "E2", "hops", "returns"):
        assert np.array_equal(a[k], b[k], equal_nan=True), k
    assert a["meta"]["n_hops"] == b["meta"]["n_hops"] and b["meta"]["sessions"] == 2
    assert list((tmp_path / "b" / group.name).glob("*.state*.npz")) == []


def test_a_checkpoint_cut_short_before_its_progress_file_does_not_block_the_replica(tmp_path, monkeypatch):
    """A state file without a progress file naming it (a checkpoint killed between the two
    writes), beside a fresh start or beside a valid checkpoint, is removed and the replica runs
    to the same end as one never interrupted."""
    group = CoolingGroup("tiny-long", 20, 0.03, 0.1, 1, ("fig1",), T_final=0.02, nu=2e-2)
    campaign._run_replica(group, 0, tmp_path / "a", tmp_path / "a", checkpoint_s=1e9, progress=False)
    d = tmp_path / "b" / group.name
    d.mkdir(parents=True)
    (d / "r000.state1.npz").write_bytes(b"cut short")  # fresh start: gen 1 is the first checkpoint's name
    (d / "r000.state7.npz").write_bytes(b"cut short")
    from dplm_explore.kmc import Simulation

    orig = Simulation.advance
    calls = {"n": 0}

    def short_chunks(self, *a, **k):  # three short chunks, a checkpoint after each, then the rest
        calls["n"] += 1
        return orig(self, 300, **k) if calls["n"] <= 3 else orig(self, *a, **k)

    monkeypatch.setattr(Simulation, "advance", short_chunks)
    campaign._run_replica(group, 0, tmp_path / "b", tmp_path / "b", checkpoint_s=0.0, progress=False)
    monkeypatch.undo()
    a, b = load_replicas(group, tmp_path / "a")[0], load_replicas(group, tmp_path / "b")[0]
    for k in ("T", "time", "E", "E2", "hops", "returns"):
        assert np.array_equal(a[k], b[k], equal_nan=True), k
    assert list(d.glob("*.state*.npz")) == []


def test_finished_units_go_to_the_results_folder_and_checkpoints_stay_in_work(tiny, tmp_path):
    """Checkpoints live in the work folder, finished units in the results folder; a new work
    folder (another machine) with the same results folder reruns nothing."""
    work, results = tmp_path / "work", tmp_path / "results"
    assert run_campaign(["fig1", "fig4b"], work=work, results=results, log=lambda s: None) == 1 + 3
    assert sorted(p.name for p in (results / "tiny-cool").iterdir()) == ["r000.npz", "r001.npz", "r002.npz"]
    assert (results / "tiny-q.npz").exists()
    assert not list(work.rglob("*.npz"))
    assert run_campaign(["fig1", "fig4b"], work=tmp_path / "elsewhere", results=results, log=lambda s: None) == 0
    assert {r["job"]: r["done"] for r in campaign_status(["fig1"], results)} == {"tiny-cool": 3}


def test_run_options_say_how_the_campaign_runs(tiny, tmp_path):
    """``run=RunOptions(out=...)`` is ``results=...``; options that do not apply are refused."""
    from dplm_explore.parallel import RunOptions

    work, results = tmp_path / "work", tmp_path / "results"
    lines = []
    assert run_campaign(["fig4b"], work=work, run=RunOptions(out=results), log=lines.append) == 1
    assert (results / "tiny-q.npz").exists() and len(lines) == 1 and "tiny-q: done" in lines[0]
    assert run_campaign(["fig4b"], work=work, results=results, log=lines.append) == 0
    for kw, match in [({"run": RunOptions(scheduler="tcp://127.0.0.1:1")}, "scheduler='tcp://127.0.0.1:1'"),
                      ({"run": RunOptions(overwrite=True)}, "overwrite=True"),
                      ({"run": RunOptions(out=results), "workers": 2}, "not both")]:
        with pytest.raises(ValueError, match=match):
            run_campaign(["fig4b"], work=work, log=lines.append, **kw)
    with pytest.raises(TypeError, match="run_campaign\\(\\) got an unexpected keyword argument 'wokers'"):
        run_campaign(["fig4b"], work=work, wokers=2)


def test_replica_seeds_do_not_depend_on_the_count():
    a = CoolingGroup("g", 14, 0.02, 0.05, 3, ("fig1",))
    b = CoolingGroup("g", 14, 0.02, 0.05, 7, ("fig1",))
    assert np.array_equal(a.seeds(), b.seeds()[:3])
    assert not np.array_equal(a.seeds(), CoolingGroup("h", 14, 0.02, 0.05, 3, ("fig1",)).seeds())


def test_the_real_plan_serves_every_figure():
    from dplm_explore.figures import FIGURES

    served = {f for j in campaign.plan() for f in j.figures}
    assert set(FIGURES) <= served
    names = [j.name for j in campaign.plan()]
    assert len(names) == len(set(names))


def test_a_unit_claimed_by_another_process_is_skipped_and_a_dead_claim_is_taken_over(tiny, tmp_path):
    """Two campaigns on one work folder never run the same unit: each unit is claimed with a lock
    that its process holds while it runs (and loses when it ends, however it ends)."""
    import subprocess
    import sys

    work = tmp_path / "work"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from dplm_explore.campaign import _claim; "
        f"fd = _claim(Path({str(work)!r}), 'tiny-cool/r001'); assert isinstance(fd, int); print('held', flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lines = []
        assert run_campaign(["fig7"], work=work, log=lines.append) == 2
        assert {r["meta"]["replica"] for r in load_replicas(tiny[1], work)} == {0, 2}
        assert any("tiny-cool/r001: skipped, claimed by process" in s and str(holder.pid) in s for s in lines)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert run_campaign(["fig7"], work=work, log=lambda s: None) == 1  # the holder is gone: its claim is free
    assert {r["meta"]["replica"] for r in load_replicas(tiny[1], work)} == {0, 1, 2}


_SLOW_CAMPAIGN = """
import signal, sys
from pathlib import Path
from dplm_explore import campaign
signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal (a background job starts with SIGINT ignored)
campaign._PLAN_CACHE[:] = [campaign.CoolingGroup("slow", 40, 0.02, 0.2, 3, ("fig1",), T_final=0.002, nu=1e-4)]
campaign.run_campaign(["fig1"], work=Path(sys.argv[1]), workers=2, checkpoint_s=3600.0)
"""


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _children(pid: int) -> list[int]:
    import os

    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_an_interrupted_campaign_checkpoints_the_replica_of_every_worker_and_starts_no_other(tmp_path, signum):
    """Ctrl-C (SIGINT) or kill (SIGTERM) of a campaign with two workers: both running replicas
    are checkpointed within seconds, the queued third never starts, and no worker outlives the
    campaign."""
    import os
    import signal
    import subprocess
    import time

    work = tmp_path / "work"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_CAMPAIGN, str(work)], stderr=subprocess.PIPE, text=True)
    try:
        started = set()
        deadline = time.monotonic() + 300
        while len(started) < 2 and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if line.rstrip().endswith(": start"):
                started.add(line.split("] ", 1)[1].split(":")[0])
        assert started == {"slow/r000", "slow/r001"}
        time.sleep(2.0)
        workers = _children(proc.pid)
        os.kill(proc.pid, getattr(signal, signum))
        t0 = time.monotonic()
        proc.wait(timeout=120)
        assert time.monotonic() - t0 < 60
        time.sleep(1.0)
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(workers) >= 2 and not any(_alive(pid) for pid in workers)
        for i in (0, 1):
            prog = json.loads((work / "slow" / f"r00{i}.progress.json").read_text())
            assert prog["hops"] > 0 and (work / "slow" / prog["state"]).exists()
        assert not (work / "slow" / "r002.claim").exists() and not (work / "slow" / "r002.progress.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_a_task_result_made_with_other_parameters_is_refused_not_used(tiny, tmp_path, monkeypatch):
    """A finished measurement job whose stored parameters differ from the plan's (the plan
    changed since) is neither loaded nor silently skipped: both say which parameter differs."""
    assert run_campaign(["fig4b"], work=tmp_path, log=lambda s: None) == 1
    assert TINY[0].load(tmp_path).results["q"].T_I.tolist() == [0.05, 0.1]
    changed = TaskJob("tiny-q", ("fig4b",), {"L": 24, "phi_v": 0.01, "T_I": [0.05, 0.08]}, _q_task)
    with pytest.raises(ValueError, match=r"tiny-q\.npz was made with other parameters .*differing: T_I"):
        changed.load(tmp_path)
    monkeypatch.setattr(campaign, "_PLAN_CACHE", [changed, *TINY[1:]])
    with pytest.raises(ValueError, match="differing: T_I"):
        run_campaign(["fig4b"], work=tmp_path, log=lambda s: None)
