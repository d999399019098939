"""Measurement subcommands (cli_measure.register): JSON outputs, files, never overwriting."""

import argparse
import json

import numpy as np
import pytest

from dplm_explore import Simulation
from dplm_explore.cli import main
from dplm_explore.cli_measure import register
from dplm_explore.results import load_result
from dplm_explore.schedules import constant


def run_json(capsys, argv):
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return json.loads(cap.out)


def test_register_adds_subcommands_next_to_the_existing_ones():
    from dplm_explore.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"cool", "diffusion", "tls", "returns", "occupation", "hop-energy", "sweep"} <= set(sub.choices)
    assert {"run", "bench", "theory"} <= set(sub.choices)
    fresh = argparse.ArgumentParser().add_subparsers()
    register(fresh)
    assert set(fresh.choices) == {"cool", "diffusion", "tls", "returns", "occupation", "hop-energy", "sweep"}
    args = parser.parse_args(["cool", "--L", "8", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.2", "--nu", "1", "--out", "x.npz"])
    assert callable(args.func) and args.replicas == 4 and args.scheme == "midpoint"


def test_cool_writes_result_and_fit_and_never_overwrites(capsys, tmp_path):
    out = tmp_path / "cv.npz"
    argv = ["cool", "--L", "10", "--phi-v", "0.05", "--T-I", "0.4", "--T-final", "0.2", "--nu", "20", "--dT-step", "0.01", "--dT-bin", "0.05",
            "--replicas", "2", "--seed", "1", "--workers", "1", "--fit-T-max", "0.4", "--out", str(out), "--json"]
    d = run_json(capsys, argv)
    fit_file = tmp_path / "cv.fit.json"
    assert d["out"] == str(out) and d["fit_out"] == str(fit_file) and d["n_replicas"] == 2 and d["root_seed"] == 1
    hc = load_result(out)
    assert hc.complete and np.allclose(hc.Cv, d["Cv"])
    fit = json.loads(fit_file.read_text())
    assert {"c1", "c3", "c1_err", "c3_err", "theory"} <= set(fit) and fit["theory"]["T_I"] == 0.4
    assert fit["theory"]["c1"] > 0 and "c1_eq10" in fit["theory"]
    before = out.read_bytes(), fit_file.read_bytes()
    assert main(argv) == 2
    assert "exists" in capsys.readouterr().err
    assert (out.read_bytes(), fit_file.read_bytes()) == before
    # a fit file alone also blocks
    out.unlink()
    assert main(argv) == 2 and "cv.fit.json exists" in capsys.readouterr().err
    assert run_json(capsys, argv + ["--overwrite"])["Cv"] == d["Cv"]


def test_diffusion_returns_occupation_hop_energy(capsys, tmp_path):
    d = run_json(capsys, ["diffusion", "--L", "12", "--phi-v", "0.05", "--T", "0.3", "0.5", "--hops", "20000", "--samples", "5", "--seed", "2", "--workers", "1",
                          "--out", str(tmp_path / "d.npz"), "--json"])
    assert len(d["D"]) == 2 and d["D"][0] < d["D"][1] and "vft" in d["fits"]
    r = run_json(capsys, ["returns", "--L", "12", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.2", "--nu", "5", "--snapshot-interval", "1e-3",
                          "--seed", "3", "--out", str(tmp_path / "r.npz"), "--json"])
    assert r["snapshot_interval"] == 1e-3 and 0 < r["P_ret_event"][0] < 1
    o = run_json(capsys, ["occupation", "--L", "12", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.1", "--nu", "5", "--at", "0.15", "0.25",
                          "--hops", "3000", "--seed", "3", "--out", str(tmp_path / "o.npz"), "--json"])
    assert o["T_start"][0] > o["T_start"][1] and o["hops"] == [3000, 3000]
    h = run_json(capsys, ["hop-energy", "--L", "20", "--phi-v", "0.02", "--T-I", "0.1", "--states", "2", "--seed", "4", "--out", str(tmp_path / "h.npz"), "--json"])
    assert h["n_samples"] > 10 and 0 < h["q"] <= 1 and h["q_theory"] == pytest.approx(0.8829, abs=1e-3)


def test_tls_from_saved_state(capsys, tmp_path):
    from dplm_explore.analysis import plant_tls

    occ, V = plant_tls(10, [11], [0], 0.04)
    sim = Simulation.from_configuration(10, occ, V_table=V, seed=1, program=constant(0.05))
    state = sim.save(tmp_path / "state.npz")
    out = tmp_path / "tls.npz"
    d = run_json(capsys, ["tls", "--state", str(state), "--T", "0.05", "--hops", "20000", "--boltzmann-T", "0.04", "0.08", "--boltzmann-hops", "20000",
                          "--trace", "1", "--trace-interval", "1e-6", "--trace-hops", "2000", "--out", str(out), "--json"])
    assert d["n_tls"] == 1 and d["counts"]["tls"] == 1
    assert d["dE_config"] == [pytest.approx(0.04)] and abs(d["dE_fit"][0] - 0.04) < 4 * d["dE_fit_err"][0]
    assert load_result(tmp_path / "tls.boltzmann.npz").T.tolist() == [0.04, 0.08]
    assert load_result(tmp_path / "tls.traces.npz").void_d.shape[1] == 1
    assert main(["tls", "--state", str(state), "--hops", "10", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    # provenance names the state file and the simulation at the window start
    prov = load_result(out).provenance
    assert prov["context"]["state_file"] == str(state.resolve()) and prov["context"]["T_hold"] == 0.05
    assert prov["hops_start"] == 0 and prov["simulation"]["seed"] == 1
    # system options are meaningless with --state: an error, not silently ignored
    for extra in (["--w0", "1e4"], ["--L", "12"], ["--g", "uniform"], ["--seed", "3"]):
        assert main(["tls", "--state", str(state), "--hops", "10", "--out", str(tmp_path / "x.npz"), *extra]) == 2
        err = capsys.readouterr().err
        assert extra[0] in err and "saved system" in err


def test_tls_after_cooling_records_the_cooling(capsys, tmp_path):
    out = tmp_path / "tls.npz"
    run_json(capsys, ["tls", "--L", "10", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.1", "--nu", "20", "--dT-step", "0.05", "--seed", "2",
                      "--hops", "2000", "--out", str(out), "--json"])
    prov = load_result(out).provenance
    assert prov["context"]["cooling"] == {"T_I": 0.3, "T_final": 0.1, "nu": 20.0, "dT_step": 0.05}
    # the program at the window is the constant hold; the history still shows the ramp
    assert prov["program"]["segments"][0]["kind"] == "hold" or len(prov["program"]["segments"]) == 1
    h = prov["history"]
    assert 0.25 < h["T_first"] <= 0.3 and 0.1 <= h["T_last"] < 0.15 and h["n_steps"] >= 4  # step temperatures are step midpoints
    assert prov["T_start"] == prov["context"]["T_hold"] < 0.15
    assert prov["hops_start"] > 0 and prov["t_start"] > 0


def test_cool_resume_without_file_is_a_clear_error(capsys, tmp_path):
    argv = ["cool", "--L", "8", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.2", "--nu", "10", "--replicas", "1", "--out", str(tmp_path / "none.npz"),
            "--resume"]
    assert main(argv) == 2
    assert "does not exist" in capsys.readouterr().err


def test_sweep_command(capsys, tmp_path):
    out = tmp_path / "sw"
    argv = ["sweep", "--task", "run", "--set", "L=8", "--set", "T_I=0.3", "--set", "hops=2000", "--grid", "phi_v=0.03,0.06", "--seeds", "2", "--seed", "5",
            "--workers", "1", "--out", str(out), "--json"]
    d = run_json(capsys, argv)
    assert d["n_tasks"] == 4 and d["grid"] == {"phi_v": [0.03, 0.06]} and len(d["outputs"]["e_final"]) == 4
    assert main(argv) == 2 and "not empty" in capsys.readouterr().err
    assert run_json(capsys, argv + ["--resume"])["outputs"]["e_final"] == d["outputs"]["e_final"]


@pytest.mark.parametrize(
    "argv, match",
    [
        (["cool", "--L", "8", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.3", "--nu", "1", "--out", "{tmp}/a.npz"], "T_final must differ"),
        (["cool", "--L", "8", "--phi-v", "0.05", "--T-I", "0.3", "--T-final", "0.2", "--nu", "1", "--sigma-V", "0.1", "--out", "{tmp}/a.npz"], "not a parameter of --g"),
        (["diffusion", "--L", "8", "--phi-v", "0.05", "--T", "0.3", "--hops", "10", "--form", "vft", "--D-r", "-1", "--out", "{tmp}/d.npz"], "D_r must be positive"),
        (["tls", "--hops", "10", "--out", "{tmp}/t.npz"], "without --state"),
        (["sweep", "--task", "run", "--set", "L8", "--out", "{tmp}/s"], "KEY=VALUE"),
    ],
)
def test_bad_input_is_a_clear_error(capsys, tmp_path, argv, match):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    assert match in capsys.readouterr().err
