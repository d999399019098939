"""Void occupation maps p_i^void (Fig. 2) and generic result files."""

import json

import numpy as np
import pytest

from dplm_explore.analysis import cooling_simulation, measure_void_occupation, void_occupation_during_cooling
from dplm_explore.results import Result, load_result, write_json


def test_occupation_during_cooling_maps():
    """Maps are time fractions (each sums to N_v), start at the requested temperatures with the
    recorded initial void positions, and localise on cooling (fewer sites visited at low T for
    the same number of hops)."""
    # slow enough that every window gets its hops (at nu = 0.5 some seeds freeze first)
    sim = cooling_simulation(20, 0.02, T_I=0.3, T_final=0.02, nu=0.1, seed=2)
    nv = sim.params.n_voids
    vo = void_occupation_during_cooling(sim, [0.25, 0.08], 20_000)
    assert vo.p.shape == (2, 20, 20) and vo.initial_xy.shape == (2, nv, 2)
    np.testing.assert_allclose(vo.p.sum(axis=(1, 2)), nv, rtol=1e-9)
    assert np.all(vo.p >= 0) and np.all(vo.p <= 1 + 1e-12)
    assert vo.T_start[0] <= 0.25 + 1e-9 and vo.T_start[0] > 0.24
    assert vo.T_start[1] <= 0.08 + 1e-9
    assert np.all(vo.hops == 20_000)
    visited = vo.visited.sum(axis=(1, 2))
    assert visited[1] < visited[0]
    # each window's initial void sites are visited
    for k in range(2):
        ys, xs = vo.initial_xy[k, :, 1], vo.initial_xy[k, :, 0]
        assert np.all(vo.p[k, ys, xs] > 0)
    with pytest.raises(ValueError, match="strictly decreasing"):
        void_occupation_during_cooling(sim, [0.01, 0.02], 10)
    with pytest.raises(ValueError, match="hops must be an integer"):
        measure_void_occupation(sim, 0)


def test_result_files_are_never_silently_overwritten(tmp_path):
    sim = cooling_simulation(10, 0.05, T_I=0.3, T_final=0.2, nu=10.0, seed=1)
    vo = measure_void_occupation(sim, 2_000)
    p = vo.save(tmp_path / "occ.npz")
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        vo.save(p)
    assert p.read_bytes() == before
    vo.save(p, overwrite=True)
    got = load_result(p)
    assert got.equals(vo) and got.provenance["dplm_explore"] and got.complete
    assert not list(tmp_path.glob("*.tmp"))
    # JSON side files
    j = write_json(tmp_path / "x.json", {"a": np.float64(1.5), "b": np.arange(3)})
    assert json.loads(j.read_text()) == {"a": 1.5, "b": [0, 1, 2]}
    with pytest.raises(FileExistsError):
        write_json(j, {})
    # not a result file
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a dplm-explore result"):
        load_result(tmp_path / "plain.npz")
    with pytest.raises(ValueError, match="holds a VoidOccupation"):
        from dplm_explore.analysis import HeatCapacity

        HeatCapacity.load(p)
    assert isinstance(got, Result)
