"""Bad input, table-driven: every case must give one clear line naming the parameter and the value.

Three surfaces: the Python API (ValueError), the command line (a subprocess: exit code 2, one line
on stderr, no traceback) and state files (damaged or crafted; Simulation.load refuses them).
The counts are printed by ``test_counts`` (run with -s) for the reliability note.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dplm_explore.analysis import fragility

from dplm_explore import FermiGauss, Simulation, Uniform, UniformDelta, constant, cooling, heating, make_g, theory
from dplm_explore.analysis import measure_diffusion, measure_heat_capacity, spawn_seeds, temperature_edges
from dplm_explore.schedules import Hold, Ramp


def _sim():
    return Simulation.create(L=10, phi_v=0.03, T_I=0.1, seed=1)


# ------------------------------------------------------------------------------------------ API
API = [
    # system
    (lambda: Simulation.create(L=-1, phi_v=0.01, T_I=0.1), ["L", "-1"]),
    (lambda: Simulation.create(L=2, phi_v=0.01, T_I=0.1), ["L", "2"]),
    (lambda: Simulation.create(L=10.5, phi_v=0.01, T_I=0.1), ["L", "10.5"]),
    (lambda: Simulation.create(L=True, phi_v=0.01, T_I=0.1), ["L", "True"]),
    (lambda: Simulation.create(L="20", phi_v=0.01, T_I=0.1), ["L", "'20'"]),
    (lambda: Simulation.create(L=10**5, phi_v=0.01, T_I=0.1), ["L=100000", "GB"]),
    (lambda: Simulation.create(L=20, phi_v=0.0, T_I=0.1), ["phi_v", "0.0"]),
    (lambda: Simulation.create(L=20, phi_v=1.0, T_I=0.1), ["phi_v", "1.0"]),
    (lambda: Simulation.create(L=20, phi_v=-0.1, T_I=0.1), ["phi_v", "-0.1"]),
    (lambda: Simulation.create(L=20, phi_v=float("nan"), T_I=0.1), ["phi_v", "nan"]),
    (lambda: Simulation.create(L=20, phi_v="x", T_I=0.1), ["phi_v", "'x'"]),
    (lambda: Simulation.create(L=20, phi_v=0.0001, T_I=0.1), ["phi_v", "0.0001"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=-0.1), ["T_I", "-0.1"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.0), ["T_I", "0.0"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=1e-300), ["T_I", "1e-300"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=1e300), ["T_I", "1e+300"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=float("inf")), ["T_I", "inf"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=None), ["T_I", "None"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I="hot"), ["T_I", "'hot'"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, w0=0), ["w0", "0"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, w0=1e308), ["w0", "1e+308"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, w0=1e-308), ["w0", "1e-308"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, w0=-1), ["w0", "-1"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, init="hot"), ["init", "'hot'"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, bonds="x"), ["bonds", "'x'"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, seed=-1), ["seed", "-1"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, seed=1.5), ["seed", "1.5"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, seed=True), ["seed", "True"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, seed="a"), ["seed", "'a'"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, g="uniform"), ["g", "'uniform'"]),
    (lambda: Simulation.create(L=20, phi_v=0.01, T_I=0.1, void_moves=-3), ["void_moves", "-3"]),
    # g families
    (lambda: Uniform(dV=0), ["dV", "0"]),
    (lambda: Uniform(dV=-1), ["dV", "-1"]),
    (lambda: Uniform(V0=float("nan")), ["V0", "nan"]),
    (lambda: UniformDelta(G0=1.5), ["G0", "1.5"]),
    (lambda: UniformDelta(G0=-0.1), ["G0", "-0.1"]),
    (lambda: FermiGauss(sigma_V=0), ["sigma_V", "0"]),
    (lambda: FermiGauss(G0=2), ["G0", "2"]),
    (lambda: make_g("gaussian"), ["g family", "'gaussian'"]),
    (lambda: make_g("uniform", G0=0.2), ["G0", "uniform"]),
    # programs
    (lambda: constant(-1), ["T", "-1"]),
    (lambda: constant(0), ["T", "0"]),
    (lambda: constant(1e-300), ["T", "1e-300"]),
    (lambda: constant(float("nan")), ["T", "nan"]),
    (lambda: constant(0.1, duration=-1), ["duration", "-1"]),
    (lambda: cooling(0.1, 0.0, 1e-4), ["T_final", "0.0"]),
    (lambda: cooling(0.1, 0.2, 1e-4), ["T_final", "0.2"]),
    (lambda: cooling(0.1, 0.05, 0), ["nu", "0"]),
    (lambda: cooling(0.1, 0.05, 1e-300), ["nu", "1e-300"]),
    (lambda: cooling(0.1, 0.05, 1e300), ["nu", "1e+300"]),
    (lambda: cooling(-0.1, 0.05, 1e-4), ["T_I", "-0.1"]),
    (lambda: cooling(0.1, 0.05, 1e-4, dT_step=0), ["dT_step", "0"]),
    (lambda: cooling(0.1, 0.05, 1e-4, dT_step=1e-12), ["dT_step", "1e-12"]),
    (lambda: heating(0.1, 0.05, 1e-4), ["T_end", "0.05"]),
    (lambda: heating(0.1, 0.2, -1), ["nu", "-1"]),
    (lambda: Ramp(0.1, 0.1, 1e-4), ["T_end", "0.1"]),
    (lambda: Hold(T="x"), ["T", "'x'"]),
    # engine calls
    (lambda: _sim().advance(-5), ["hops", "-5"]),
    (lambda: _sim().advance(1.5), ["hops", "1.5"]),
    (lambda: _sim().advance(time=-1.0), ["time", "-1.0"]),
    (lambda: _sim().advance(time=float("nan")), ["time", "nan"]),
    (lambda: _sim().advance(wall=-1), ["wall", "-1"]),
    (lambda: _sim().advance(until_T=0), ["until_T", "0"]),
    (lambda: _sim().advance(until_T=5.0), ["until_T", "5.0"]),
    (lambda: _sim().advance(chunk_hops=0), ["chunk_hops", "0"]),
    (lambda: _sim().advance(), ["advance() needs hops"]),
    (lambda: _sim().advance(time=1e300), ["1e+300", "give hops or wall"]),
    (lambda: _sim().pair_V(10**9, 0), ["p", "1000000000"]),
    (lambda: _sim().pair_V(-1, 0), ["p", "-1"]),
    (lambda: _sim().pair_V(0, -2), ["q", "-2"]),
    (lambda: _sim().pair_V(3, 3), ["p = q = 3"]),
    (lambda: _sim().pair_V(1.5, 2), ["p", "1.5"]),
    (lambda: _sim().record_events(-1), ["n", "-1"]),
    (lambda: _sim().time_at_T(-1) and _sim().advance(until_T=-1), ["until_T", "-1"]),
    (lambda: _sim().track(voids=[10**6], interval=1.0), ["10"]),
    (lambda: _sim().track(voids=[0], interval=-1.0), ["interval", "-1"]),
    # theory
    (lambda: theory.q(Uniform(), 1e-300), ["T_I", "1e-300"]),
    (lambda: theory.q(Uniform(), 1e300), ["T_I", "1e+300"]),
    (lambda: theory.q(Uniform(), 0.05, T_eval=-1), ["T_eval", "-1"]),
    (lambda: theory.Cv_expansion(Uniform(), 0.05, 2.0), ["phi_v", "2.0"]),
    (lambda: theory.Cv_expansion(Uniform(), -0.05, 0.005), ["T_I", "-0.05"]),
    (lambda: theory.Phi(1.0, -0.1), ["T", "-0.1"]),
    (lambda: theory.dE_max(0.05, nu=0), ["nu", "0"]),
    (lambda: theory.dE_max(0.05, w0=-1), ["w0", "-1"]),
    (lambda: theory.hop_energy_distribution(Uniform(), 0.0), ["T_I", "0.0"]),
    (lambda: theory.GlassUnits(-0.2), ["T_g", "-0.2"]),
    (lambda: fragility.fit_fragility([0.3, 0.2], [1.0, 0.1], form="arrhenius"), ["form", "'arrhenius'"]),
    # analyses
    (lambda: measure_heat_capacity(20, 0.01, T_I=0.05, T_final=0.05, nu=1e-2), ["T_final", "0.05"]),
    (lambda: measure_heat_capacity(20, 0.01, T_I=0.05, T_final=0.01, nu=0), ["nu", "0"]),
    (lambda: measure_heat_capacity(20, 0.01, T_I=0.05, T_final=0.01, nu=1e-2, n_replicas=0), ["n_replicas", "0"]),
    (lambda: measure_heat_capacity(20, 0.01, T_I=0.05, T_final=0.01, nu=1e-2, scheme="left"), ["scheme", "'left'"]),
    (lambda: measure_heat_capacity(20, 0.01, T_I=0.05, T_final=0.01, nu=1e-2, dT_bin=-1), ["dT_bin", "-1"]),
    (lambda: measure_heat_capacity(20, 0.01, T_I=0.05, T_final=0.01, nu=1e-2, resume=True), ["resume", "out"]),
    (lambda: measure_diffusion(20, 0.01, [0.2], hops=-1), ["hops", "-1"]),
    (lambda: measure_diffusion(20, 0.01, [], hops=100), ["temperatures"]),
    (lambda: measure_diffusion(20, 0.01, [0.2], time=[1.0, 2.0]), ["time", "[1.0, 2.0]"]),
    (lambda: measure_diffusion(20, 0.01, [-0.2], hops=100), ["temperature", "-0.2"]),
    (lambda: measure_diffusion(20, 0.01, [0.2], hops=100, forms=("arrhenius",)), ["forms", "'arrhenius'"]),
    (lambda: temperature_edges(0.1, 0.05, dT_bin=0.01), ["T_hi", "0.05"]),
    (lambda: spawn_seeds(1, 0), ["n_replicas", "0"]),
]


@pytest.mark.parametrize("call, fragments", API, ids=[f"api{i}" for i in range(len(API))])
def test_api_bad_input(call, fragments):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg, msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


# ------------------------------------------------------------------------------------------ CLI
RUN = ["run", "--L", "12", "--phi-v", "0.03", "--T-I", "0.1", "--hops", "100"]
CLI = [
    (["run", "--L", "-1", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "10"], ["L", "-1"]),
    (["run", "--L", "x"], ["--L", "'x'"]),
    (["run", "--L", "1000000", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1"], ["L=1000000", "GB"]),
    (["run", "--L", "20", "--phi-v", "2", "--T-I", "0.1", "--hops", "1"], ["phi_v", "2.0"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "-1", "--hops", "1"], ["--T-I", "-1.0"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--hops", "1"], ["--T-I"]),
    (["run", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1"], ["--L"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1"], ["--hops"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "-5"], ["hops", "-5"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "5.5"], ["--hops", "'5.5'"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--nu", "1e-3"], ["--T-final"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--nu", "0", "--T-final", "0.05"], ["--nu", "0.0"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--T", "0.2", "--nu", "1e-3", "--T-final", "0.05"], ["--T", "--nu"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--w0", "1e308"], ["w0", "1e+308"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--w0", "nan"], ["--w0", "nan"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--g", "uniform", "--G0", "0.9"], ["--G0=0.9", "uniform"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--g", "gauss"], ["--g", "'gauss'"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--g", "fermi-gauss", "--sigma-V", "0"], ["sigma_V", "0"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--seed", "-3"], ["seed", "-3"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--out", "/nonexistent/dir/x"], ["--out", "/nonexistent/dir"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--out", "{exists}"], ["--out", "exists"]),
    (["run", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--hops", "1", "--init", "cold"], ["--init", "'cold'"]),
    (["run", "--resume", "{missing}"], ["--resume", "missing"]),
    (["run", "--resume", "{text}", "--hops", "10"], ["text", "not a readable"]),
    (["run", "--resume", "{state}", "--L", "20", "--hops", "10"], ["--resume", "--L"]),
    (["run", "--bogus"], ["--bogus"]),
    (["theory", "--T-I", "1e-300", "--phi-v", "0.005"], ["T_I", "1e-300"]),
    (["theory", "--T-I", "1e300", "--phi-v", "0.005"], ["T_I", "1e+300"]),
    (["theory", "--T-I", "0.05", "--phi-v", "0"], ["phi_v", "0"]),
    (["theory", "--T-I", "0.05", "--phi-v", "0.005", "--nu", "-1"], ["nu", "-1"]),
    (["theory", "--T-I", "0.05", "--phi-v", "0.005", "--g", "fermi-gauss", "--V0", "1"], ["--V0=1", "fermi-gauss"]),
    (["theory", "--T-I", "0.05", "--phi-v", "0.005", "--z", "0"], ["z", "0"]),
    (["theory", "--T-I", "0.05", "--phi-v", "0.005", "--T-eval", "0"], ["T_eval", "0"]),
    (["theory", "--phi-v", "0.005"], ["--T-I"]),
    (["tls", "--state", "{missing}", "--hops", "10", "--out", "{tmp}/t.npz"], ["missing"]),
    (["tls", "--state", "{text}", "--hops", "10", "--out", "{tmp}/t.npz"], ["text", "not a readable"]),
    (["tls", "--state", "{metalist}", "--hops", "10", "--out", "{tmp}/t.npz"], ["metalist", "metadata"]),
    (["tls", "--state", "{floattr}", "--hops", "10", "--out", "{tmp}/t.npz"], ["floattr", "tr_p"]),
    (["tls", "--L", "20", "--phi-v", "0.01", "--T-I", "0.1", "--T-final", "0.05", "--nu", "1e-2", "--hops", "0", "--out", "{tmp}/t.npz"], ["hops", "0"]),
    (["cool", "--L", "20", "--phi-v", "0.01", "--T-I", "0.05", "--T-final", "0.05", "--nu", "1e-2", "--out", "{tmp}/c.npz"], ["T_final", "0.05"]),
    (["cool", "--L", "20", "--phi-v", "0.01", "--T-I", "0.05", "--T-final", "0.01", "--nu", "1e-2", "--replicas", "0", "--out", "{tmp}/c.npz"], ["n_replicas", "0"]),
    (["cool", "--L", "20", "--phi-v", "0.01", "--T-I", "0.05", "--T-final", "0.01", "--nu", "1e-2", "--out", "{exists}"], ["exists"]),
    (["diffusion", "--L", "20", "--phi-v", "0.01", "--T", "0.2", "--hops", "-1", "--out", "{tmp}/d.npz"], ["hops", "-1"]),
    (["sweep", "--task", "run", "--set", "L=20", "--set", "phi_v=0.01", "--set", "T_I=0.1", "--set", "hops=100.5", "--out", "{tmp}/sw"], ["hops", "100.5"]),
    (["sweep", "--task", "diffusion", "--set", "L=20", "--set", "phi_v=0.01", "--set", "T=0.2", "--set", "hops=100", "--set", "n_samples=3.5", "--out", "{tmp}/sw"],
     ["n_samples", "3.5"]),
    (["sweep", "--task", "diffusion", "--set", "L=20", "--set", "phi_v=0.01", "--set", "T=0.2", "--set", "hops=100", "--set", "equilibrate_hops=2.5",
      "--out", "{tmp}/sw"], ["equilibrate_hops", "2.5"]),
    (["sweep", "--task", "run", "--set", "L=20", "--set", "phii_v=0.01", "--out", "{tmp}/sw"], ["phii_v", "phi_v"]),
    (["sweep", "--task", "walk", "--out", "{tmp}/sw"], ["--task", "'walk'"]),
    (["app", "--hops-per-frame", "0"], ["--hops-per-frame", "0"]),
    (["app", "--host", "0.0.0.0"], ["0.0.0.0", "--allow-remote"]),
    (["app", "--port", "70000"], ["port", "70000"]),
    (["app", "--max-kernels", "0"], ["max_kernels", "0"]),
    (["figure", "fig99"], ["fig99"]),
    (["figure", "fig4b", "--format", "gif"], ["--format", "'gif'"]),
    (["reproduce", "--workers", "0"], ["--workers", "0"]),
    (["reproduce", "--assemble", "--figures", "fig99", "--out-dir", "{tmp}"], ["--figures", "fig99"]),
    (["reproduce", "--units-from", "{missing}", "--results", "{tmp}/units"], ["figure data", "missing.npz", "does not exist"]),
    (["reproduce", "--units-from", "{state}", "--results", "{tmp}/units"], ["state.npz", "figure data"]),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    sim = _sim()
    sim.advance(500)
    state = sim.save(d / "state.npz")
    (d / "text.npz").write_text("this is not a state\n")
    (d / "exists.npz").write_bytes(b"")
    data = _members(state)
    meta = json.loads(bytes(data["_meta"]).decode())
    _write(d / "metalist.npz", dict(data, _meta=_meta_bytes(list(meta))))
    _write(d / "floattr.npz", dict(data, tr_p=np.zeros(2, float)))
    return {"tmp": str(d), "state": str(state), "text": str(d / "text.npz"), "exists": str(d / "exists.npz"), "missing": str(d / "missing.npz"),
            "metalist": str(d / "metalist.npz"), "floattr": str(d / "floattr.npz")}


def _cli(argv):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "dplm_explore.cli", *argv], capture_output=True, text=True, env=env, timeout=300)


def test_cli_bad_input(files):
    """Every CLI case in a subprocess (two at a time): exit code 2, one line on stderr naming
    the option and the value, no traceback, nothing on stdout."""
    cases = [([a.format(**files) for a in argv], frags) for argv, frags in CLI]
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda c: _cli(c[0]), cases))
    bad = []
    for (argv, frags), p in zip(cases, procs):
        lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
        ok = p.returncode == 2 and len(lines) == 1 and "Traceback" not in p.stderr and "error" in lines[0] and all(f in lines[0] for f in frags)
        if not ok:
            bad.append((argv, p.returncode, p.stderr[-600:]))
    assert not bad, "\n".join(map(str, bad))


# ---------------------------------------------------------------------------------- state files
def _members(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _meta_bytes(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


def _write(path, data):
    np.savez(path, **data)
    return path


def _edit_meta(data, fn):
    meta = json.loads(bytes(data["_meta"]).decode())
    fn(meta)
    return dict(data, _meta=_meta_bytes(meta))


def _arr(data, name, fn):
    a = data[name].copy()
    fn(a)
    return dict(data, **{name: a})


def _set(d, k, v):
    d[k] = v


STATE_CASES = [
    ("no metadata", lambda d: {k: v for k, v in d.items() if k != "_meta"}, "no metadata"),
    ("metadata not JSON", lambda d: dict(d, _meta=np.frombuffer(b"{nope", dtype=np.uint8)), "corrupt metadata"),
    ("metadata a list", lambda d: dict(d, _meta=_meta_bytes([1, 2])), "JSON list"),
    ("metadata a number", lambda d: dict(d, _meta=_meta_bytes(3)), "JSON int"),
    ("wrong format", lambda d: _edit_meta(d, lambda m: _set(m, "format", "x/9")), "format 'x/9'"),
    ("no params", lambda d: _edit_meta(d, lambda m: m.pop("params")), r"without \['params'\]"),
    ("no seed", lambda d: _edit_meta(d, lambda m: m.pop("seed")), r"without \['seed'\]"),
    ("params L huge", lambda d: _edit_meta(d, lambda m: m["params"].update(L=20000)), "20000"),
    ("params L text", lambda d: _edit_meta(d, lambda m: m["params"].update(L="ten")), "'ten'"),
    ("params phi_v other", lambda d: _edit_meta(d, lambda m: m["params"].update(phi_v=0.2)), "shape"),
    ("params w0 other", lambda d: _edit_meta(d, lambda m: m["params"].update(w0=2e6)), "rates disagree"),
    ("params g other", lambda d: _edit_meta(d, lambda m: m["params"].update(g={"family": "uniform", "V0": 0.0, "dV": 2.0})), "disagree"),
    ("key other", lambda d: _edit_meta(d, lambda m: _set(m, "key", int(m["key"]) ^ 1)), "disagree"),
    ("key negative", lambda d: _edit_meta(d, lambda m: _set(m, "key", -1)), "key -1"),
    ("seed negative", lambda d: _edit_meta(d, lambda m: _set(m, "seed", -4)), "seed"),
    ("program other", lambda d: _edit_meta(d, lambda m: _set(m, "program", constant(0.2).to_dict())), "disagree with the program"),
    ("program garbage", lambda d: _edit_meta(d, lambda m: _set(m, "program", {"segments": [{"kind": "hold", "T": -1}]})), "invalid metadata"),
    ("program_t0 nan", lambda d: _edit_meta(d, lambda m: _set(m, "program_t0", float("nan"))), "program_t0"),
    ("negative step T", lambda d: _arr(d, "step_T", lambda a: a.__setitem__(0, -0.1)), "disagree with the program"),
    ("clock nan", lambda d: _arr(d, "fs", lambda a: a.__setitem__(0, np.nan)), "clock"),
    ("energy off", lambda d: _arr(d, "fs", lambda a: a.__setitem__(1, a[1] + 1.0)), "energy"),
    ("rates scaled", lambda d: _arr(d, "rates", lambda a: a.__imul__(1.5)), "rate"),
    ("dEs off", lambda d: _arr(d, "dEs", lambda a: a.__iadd__(0.1)), "rates disagree"),
    ("bond off", lambda d: _arr(d, "bond", lambda a: a.__iadd__(0.01)), "bond energies"),
    ("occ shuffled", lambda d: _arr(d, "occ", lambda a: a.__setitem__(slice(None), a[::-1])), "occupancy|positions"),
    ("occ duplicate", lambda d: _arr(d, "occ", lambda a: a.__setitem__(0, a[1])), "arrangement"),
    ("vpos out of range", lambda d: _arr(d, "vpos", lambda a: a.__setitem__(0, 10**6)), "positions|occupancy"),
    ("tr_p float", lambda d: dict(d, tr_p=np.zeros(2, float)), "tr_p"),
    ("tr_v out of range", lambda d: dict(d, tr_v=np.array([999], np.int32)), "tr_v"),
    ("missing array", lambda d: {k: v for k, v in d.items() if k != "rates"}, "lacks arrays"),
    ("acc_f inf", lambda d: _arr(d, "acc_f", lambda a: a.__setitem__((0, 1), np.inf)), "acc_f"),
    ("void_time nan", lambda d: _arr(d, "void_time", lambda a: a.__setitem__(0, np.nan)), "void_time"),
]


@pytest.fixture(scope="module")
def good_state(tmp_path_factory):
    sim = _sim()
    sim.set_program(cooling(0.1, 0.05, 1e-2))
    sim.advance(3000)
    return sim.save(tmp_path_factory.mktemp("good") / "good.npz")


@pytest.mark.parametrize("label, damage, fragment", STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_damaged_state_is_refused(label, damage, fragment, good_state, tmp_path):
    import re

    path = _write(tmp_path / "bad.npz", damage(_members(good_state)))
    with pytest.raises(ValueError) as info:
        Simulation.load(path)
    msg = str(info.value)
    assert "\n" not in msg and "bad.npz" in msg, msg
    assert re.search(fragment, msg), (fragment, msg)


def test_zip_bomb_is_refused_before_unpacking(good_state, tmp_path):
    """A small deflated member that declares 1 GiB is refused from the zip directory."""
    data = _members(good_state)
    path = tmp_path / "bomb.npz"
    _write(path, data)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("extra.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": (2**30,)})
            block = bytes(2**20)
            for _ in range(1024):
                fh.write(block)
    assert path.stat().st_size < 5 * 2**20
    with pytest.raises(ValueError, match="unpacks to"):
        Simulation.load(path)


def test_good_state_still_loads_and_continues(good_state):
    a = Simulation.load(good_state)
    b = Simulation.load(good_state)
    a.advance(500)
    b.advance(500)
    assert a.energy == b.energy and math.isfinite(a.energy)


def test_counts(capsys):
    n = len(API) + len(CLI) + len(STATE_CASES) + 1
    with capsys.disabled():
        print(f"\nbad inputs tried: {n} (API {len(API)}, CLI {len(CLI)}, state files {len(STATE_CASES) + 1})")
    assert n >= 150
