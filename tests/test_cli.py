"""Command line: JSON outputs, error messages, never overwriting results."""

import json

import pytest

from dplm_explore.cli import main
from dplm_explore.kmc import Simulation


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_run_constant_T_json_summary(capsys, tmp_path):
    argv = ["run", "--L", "16", "--phi-v", "0.02", "--g", "uniform", "--T-I", "0.1", "--T", "0.1", "--hops", "20000", "--seed", "1", "--json"]
    d = run_json(capsys, argv)
    for key in ("n_particles", "n_voids", "hops", "time", "e_final", "e_mean"):
        assert key in d
    assert d["n_voids"] == 5 and d["n_particles"] == 251 and d["hops"] == 20000
    assert "out" not in d and not list(tmp_path.iterdir())
    # same seed, same result
    assert run_json(capsys, argv)["e_final"] == d["e_final"]


def test_run_cooling_writes_state_once(capsys, tmp_path):
    out = tmp_path / "cool.npz"
    argv = ["run", "--L", "12", "--phi-v", "0.05", "--g", "fermi-gauss", "--T-I", "0.3", "--nu", "100", "--T-final", "0.2", "--seed", "3", "--json", "--out", str(out)]
    d = run_json(capsys, argv)
    assert d["stop"] == "program-end" and d["T_final"] < 0.21
    sim = Simulation.load(out)
    assert sim.hops == d["hops"] and sim.params.g.family == "fermi-gauss"
    before = out.read_bytes()
    assert main(argv) == 2
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--phi-v", "1.5"], "phi_v must lie in"),
        (["--g", "gaussian"], "invalid choice: 'gaussian'"),
        (["--g", "uniform-delta", "--G0", "2"], "G0 must lie in"),
        (["--g", "fermi-gauss", "--sigma-V", "0"], "sigma_V must be positive"),
    ],
)
def test_run_bad_input_is_a_clear_error(capsys, extra, match):
    argv = ["run", "--L", "10", "--phi-v", "0.05", "--T-I", "0.1", "--hops", "10"] + extra
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_bench_json_records(capsys):
    recs = run_json(capsys, ["bench", "--quick", "--hops", "20000", "--json"])
    assert len(recs) == 3
    for r in recs:
        for key in ("L", "n_voids", "T", "hops_per_s", "setup_s", "state_mb", "peak_rss_mb"):
            assert key in r
        assert r["hops_per_s"] > 0 and r["energy_drift"] < 1e-8
