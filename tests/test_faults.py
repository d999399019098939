"""Faults: Ctrl-C and kill during runs, saves and sweeps lose nothing and leave no orphans; two
writers racing for one file name never both succeed; the app refuses requests without its token."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dplm_explore import Simulation
from dplm_explore._io import atomic_write

CLI = [sys.executable, "-m", "dplm_explore.cli"]
LONG_RUN = ["run", "--L", "40", "--phi-v", "0.01", "--T-I", "0.1", "--hops", str(10**10), "--seed", "5"]


def _start(argv, **kw):
    return subprocess.Popen(CLI + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_running(proc, seconds=4.0):
    """Give the process time to import, load the compiled kernels and start hopping."""
    time.sleep(seconds)
    assert proc.poll() is None, proc.communicate()


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _no_temp_files(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_sigint_during_run_saves_a_resumable_state(tmp_path):
    out = tmp_path / "r.npz"
    p = _start(LONG_RUN + ["--out", str(out)])
    _wait_running(p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "state saved to" in err and str(out) in err
    sim = Simulation.load(out)
    assert sim.hops > 0
    assert _no_temp_files(tmp_path) == []
    # it continues: --resume
    out2 = tmp_path / "r2.npz"
    r = subprocess.run(CLI + ["run", "--resume", str(out), "--hops", "5000", "--out", str(out2), "--json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert Simulation.load(out2).hops == sim.hops + 5000


def test_sigint_without_out_saves_in_the_working_folder(tmp_path):
    p = _start(LONG_RUN, cwd=tmp_path)
    _wait_running(p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    saved = list(tmp_path.glob("dplm-explore-run-5-interrupted.npz"))
    assert saved and Simulation.load(saved[0]).hops > 0


def test_sigkill_during_run_leaves_no_result_and_no_partial_file(tmp_path):
    out = tmp_path / "r.npz"
    p = _start(LONG_RUN + ["--out", str(out)])
    _wait_running(p)
    p.kill()
    p.communicate(timeout=30)
    assert not out.exists()
    assert _no_temp_files(tmp_path) == []


def test_kill_during_save_never_leaves_a_partial_file(tmp_path):
    """A save killed part-way leaves either no file or a complete one, never a truncated one."""
    code = ("import sys, numpy as np\n"
            "from dplm_explore._io import atomic_write\n"
            "def slow(fh):\n"
            "    fh.write(b'x' * 1000)\n"
            "    fh.flush()\n"
            "    import time; time.sleep(30)\n"
            "atomic_write(__import__('pathlib').Path(sys.argv[1]), slow)\n")
    target = tmp_path / "f.bin"
    for sig in (signal.SIGINT, signal.SIGKILL):
        p = subprocess.Popen([sys.executable, "-c", code, str(target)], stderr=subprocess.PIPE)
        time.sleep(1.5)
        p.send_signal(sig)
        p.communicate(timeout=30)
        assert not target.exists()
        if sig == signal.SIGINT:  # the clean-up ran: no temporary file either
            assert [f.name for f in tmp_path.iterdir()] == []


def test_two_concurrent_saves_one_wins_and_nothing_is_lost(tmp_path):
    """Two writers creating the same file at the same moment: exactly one succeeds, the other
    gets FileExistsError, and the file holds the winner's complete content."""
    for trial in range(20):
        path = tmp_path / f"race{trial}.bin"
        barrier = threading.Barrier(2)
        results = {}

        def writer(tag):
            payload = bytes([tag]) * 200_000
            barrier.wait()
            try:
                atomic_write(path, lambda fh: fh.write(payload))
                results[tag] = "ok"
            except FileExistsError:
                results[tag] = "exists"

        ts = [threading.Thread(target=writer, args=(t,)) for t in (1, 2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(results.values()) == ["exists", "ok"], results
        winner = [t for t, r in results.items() if r == "ok"][0]
        assert path.read_bytes() == bytes([winner]) * 200_000
    assert _no_temp_files(tmp_path) == []


def test_two_processes_saving_one_state(tmp_path):
    """Simulation.save from two processes at once: one file, complete, one FileExistsError."""
    code = ("import sys, time\n"
            "from dplm_explore import Simulation\n"
            "s = Simulation.create(L=30, phi_v=0.02, T_I=0.1, seed=int(sys.argv[2]))\n"
            "t = float(sys.argv[3])\n"
            "time.sleep(max(0.0, t - time.time()))\n"
            "try:\n"
            "    s.save(sys.argv[1]); print('ok')\n"
            "except FileExistsError:\n"
            "    print('exists')\n")
    path = tmp_path / "s.npz"
    t0 = time.time() + 6
    ps = [subprocess.Popen([sys.executable, "-c", code, str(path), str(seed), str(t0)], stdout=subprocess.PIPE, text=True) for seed in (1, 2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in ps)
    assert outs == ["exists", "ok"], outs
    assert Simulation.load(path).params.L == 30


def test_sigkill_of_a_sweep_leaves_no_worker(tmp_path):
    argv = ["sweep", "--task", "run", "--set", "L=40", "--set", "phi_v=0.01", "--set", "T_I=0.1", "--set", f"hops={10**10}", "--seeds", "2",
            "--workers", "2", "--out", str(tmp_path / "sw"), "--no-progress"]
    p = _start(argv)
    deadline = time.time() + 60
    kids = []
    while time.time() < deadline and len(kids) < 2:
        time.sleep(1)
        kids = _children(p.pid)
    assert kids, "the sweep started no worker"
    time.sleep(2)
    p.kill()
    p.communicate(timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.5)
    assert not any(_alive(k) for k in kids), [k for k in kids if _alive(k)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    req = urllib.request.Request(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=120) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def test_app_refuses_requests_without_its_token_and_dies_with_its_parent():
    pytest.importorskip("voila")
    port = _free_port()
    p = subprocess.Popen(CLI + ["app", "--port", str(port), "--L", "20", "--phi-v", "0.02"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = None
    deadline = time.time() + 120
    lines = []
    while time.time() < deadline:
        line = p.stdout.readline()
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+/\?token=[\w-]{20,})", line)
        if m:
            url = m.group(1)
            break
    assert url, "".join(lines)
    base = url.split("?")[0]
    try:
        for _ in range(60):
            try:
                code = _status(base)
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(1)
        assert code in (302, 401, 403), code
        assert _status(base + "?token=wrong") in (302, 401, 403)
        assert _status(url) == 200
    finally:
        voila = _children(p.pid)
        p.kill()
        p.wait(30)
        p.stdout.close()
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(k) for k in voila):
        time.sleep(0.5)
    assert not any(_alive(k) for k in voila), "Voila outlived dplm-explore app"

