"""Event- and snapshot-level return probabilities (Fig. 4a; docs/physics.md section 4)."""

import numpy as np
import pytest

from dplm_explore import Simulation
from dplm_explore.analysis import SnapshotReturnCounter, measure_return_probabilities, measure_returns_during_cooling, plant_tls, return_probability
from dplm_explore.results import load_result
from dplm_explore.schedules import constant


def test_snapshot_counter_on_handmade_sequences():
    # walker 0: a b a c c a -> distinct a b a c a: moves b(no prev) a(ret) c(non) a(ret)
    # walker 1: never moves; walker 2: a b b c c d along a line (x + 1 each move): the second and
    # third moves are non-returns although the new position shares a coordinate with x_{k-1}
    seq = np.array([
        [[0, 0], [5, 5], [1, 1]],
        [[1, 0], [5, 5], [2, 1]],
        [[0, 0], [5, 5], [2, 1]],
        [[0, 1], [5, 5], [3, 1]],
        [[0, 1], [5, 5], [3, 1]],
        [[0, 0], [5, 5], [4, 1]],
    ])
    c = SnapshotReturnCounter(seq[0])
    rets, nons = np.zeros(3, int), np.zeros(3, int)
    for pos in seq[1:]:
        r, n = c.update(pos)
        rets += r
        nons += n
    np.testing.assert_array_equal(rets, [2, 0, 0])
    np.testing.assert_array_equal(nons, [1, 0, 2])
    with pytest.raises(ValueError, match="shape"):
        c.update(np.zeros((2, 2)))


def test_return_probability_errors():
    p, e = return_probability([3, 0], [1, 0])
    assert p[0] == 0.75 and e[0] == pytest.approx(np.sqrt(0.75 * 0.25 / 4))
    assert np.isnan(p[1]) and np.isnan(e[1])


def test_snapshot_level_is_below_event_level_on_the_same_run(tmp_path):
    """During cooling, snapshot-level P_ret and Q_ret never exceed the event-level values
    (beyond 3 combined standard errors) in any temperature bin, and a longer snapshot interval
    lowers them further."""
    r = measure_returns_during_cooling(16, 0.03, T_I=0.3, T_final=0.1, nu=2.0, snapshot_interval=2e-4, dT_bin=0.05, seed=8)
    assert r.T.size == 4 and r.snapshot_interval == 2e-4 and r.n_snapshots >= 400
    assert r.counts_event.sum() > 0 and r.counts_snapshot[:, :2].sum() > 1000
    for lvl in ("P_ret", "Q_ret"):
        ev, sn = getattr(r, f"{lvl}_event"), getattr(r, f"{lvl}_snapshot")
        err = np.hypot(getattr(r, f"{lvl}_event_err"), getattr(r, f"{lvl}_snapshot_err"))
        ok = np.isfinite(sn)
        assert np.all(sn[ok] <= ev[ok] + 3 * err[ok]), (lvl, ev, sn)
    # event level: returns are more likely at lower T (bins sorted by increasing T), P_ret > Q_ret
    assert r.P_ret_event[0] > r.P_ret_event[-1] and r.Q_ret_event[0] > r.Q_ret_event[-1]
    assert np.all(r.P_ret_event > r.Q_ret_event)
    p = r.save(tmp_path / "r.npz")
    assert load_result(p).equals(r)
    coarse = measure_returns_during_cooling(16, 0.03, T_I=0.3, T_final=0.1, nu=2.0, snapshot_interval=2e-3, dT_bin=0.05, seed=8)
    np.testing.assert_array_equal(coarse.counts_event, r.counts_event)  # same run, same events
    ok = np.isfinite(coarse.P_ret_snapshot) & np.isfinite(r.P_ret_snapshot)
    assert np.all(coarse.P_ret_snapshot[ok] < r.P_ret_snapshot[ok])


def test_snapshot_level_of_planted_tls_is_one():
    occ, V = plant_tls(10, [11], [0], 0.02)
    sim = Simulation.from_configuration(10, occ, V_table=V, seed=1, program=constant(0.05))
    r = measure_return_probabilities(sim, snapshot_interval=3e-6, time=0.01)
    assert r.counts_snapshot[0, 2] > 100 and r.counts_snapshot[0, 3] == 0
    assert r.Q_ret_snapshot[0] == 1.0 and r.P_ret_snapshot[0] == 1.0
    assert r.Q_ret_event[0] == 1.0 and r.P_ret_event[0] == 1.0


def test_measure_return_probabilities_validation():
    sim = Simulation.create(8, 0.05, T_I=0.3, seed=1)
    with pytest.raises(ValueError, match="snapshot_interval must be positive"):
        measure_return_probabilities(sim, snapshot_interval=0, time=1.0)
    with pytest.raises(ValueError, match="never ends"):
        measure_return_probabilities(sim, snapshot_interval=1e-3)


def test_measure_return_probabilities_rejects_unreachable_until_T():
    """until_T that the program never reaches is an error before anything runs (as in
    Simulation.advance): on an endless constant program it would loop forever, on a cooling
    program (target above the current T) it would silently run the whole program."""
    from dplm_explore.schedules import cooling

    sim = Simulation.create(8, 0.05, T_I=0.3, seed=1, program=constant(0.3))
    with pytest.raises(ValueError, match="until_T=0.1 is never reached"):
        measure_return_probabilities(sim, snapshot_interval=1e-3, until_T=0.1)
    sim = Simulation.create(8, 0.05, T_I=0.3, seed=1, program=cooling(0.3, 0.1, 1.0))
    with pytest.raises(ValueError, match="until_T=0.4 is never reached"):
        measure_return_probabilities(sim, snapshot_interval=1e-3, until_T=0.4)
    assert sim.hops == 0 and sim.t == 0.0
    r = measure_return_probabilities(sim, snapshot_interval=1e-2, until_T=0.29)  # reachable: fine
    assert r.t1 < sim.step_tend[-1]
    # the live simulation is recorded at the window start
    assert r.provenance["hops_start"] == 0 and r.provenance["t_start"] == 0.0 and r.provenance["simulation"]["seed"] == 1
    r2 = measure_return_probabilities(sim, snapshot_interval=1e-2, time=0.05)
    assert r2.provenance["hops_start"] == r.hops and r2.provenance["t_start"] == r.t1 and r2.provenance["history"]["n_steps"] >= 1
