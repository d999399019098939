"""TLS catalogue, Boltzmann check, traces, event replay (paper Figs. 2-3; docs/physics.md sections 4, 7)."""

import math

import numpy as np
import pytest

from dplm_explore import Simulation
from dplm_explore.analysis import (
    EventWindow,
    find_tls,
    hop_energies,
    measure_tls_boltzmann,
    measure_void_occupation,
    plant_tls,
    trace_voids,
)
from dplm_explore.results import load_result
from dplm_explore.schedules import constant

L = 10
SITES = [11, 66]  # (1, 1) and (6, 6): 10 lattice steps apart on the 10 x 10 torus
DIRS = [0, 1]  # partners at +x and +y
DES = [0.05, -0.08]


def planted(T, seed=3, dE=DES):
    occ, V = plant_tls(L, SITES, DIRS, dE)
    return Simulation.from_configuration(L, occ, V_table=V, seed=seed, program=constant(T))


def test_plant_tls_energies_and_validation():
    sim = planted(0.05)
    dE = hop_energies(sim)
    # the partner hop costs exactly dE; every other hop costs about 30 (frozen)
    assert dE[0, 0] == pytest.approx(0.05) and dE[1, 1] == pytest.approx(-0.08)
    others = np.delete(dE.ravel(), [0, 5])
    assert np.all(others > 29)
    # the configurational computation agrees with the engine's own table
    np.testing.assert_allclose(dE, sim.dEs, atol=1e-12)
    with pytest.raises(ValueError, match="closer than 5"):
        plant_tls(L, [11, 13], [0, 0], 0.1)
    with pytest.raises(ValueError, match="partner_dirs must be directions"):
        plant_tls(L, [11], [4], 0.1)


@pytest.mark.parametrize("T", [0.03, 0.1])
def test_planted_tls_obeys_boltzmann(T):
    """Two isolated TLS (dE = +0.05, -0.08): the catalogue finds exactly them, with the
    configurational dE, and p2/p1 = exp(-dE/T) within 4 standard errors (2 r / sqrt(n))."""
    sim = planted(T)
    cat = find_tls(sim, 200_000)
    assert len(cat) == 2 and cat.counts["tls"] == 2 and cat.counts["multi"] == 0 and cat.counts["frozen"] == 0
    np.testing.assert_array_equal(cat.void, [0, 1])
    np.testing.assert_array_equal(cat.site1, SITES)
    np.testing.assert_array_equal(cat.site2, [12, 76])
    np.testing.assert_allclose(cat.dE, DES, atol=1e-12)
    assert cat.T == pytest.approx(T)
    np.testing.assert_allclose(cat.p1 + cat.p2, 1.0, atol=1e-12)
    expected = np.exp(-np.array(DES) / T)
    np.testing.assert_allclose(cat.boltzmann, expected)
    assert np.all(np.abs(cat.ratio - expected) < 4 * cat.ratio_err), (cat.ratio, expected, cat.ratio_err)
    # the error bar is tight enough to matter: a 5 % wrong ratio would be rejected
    assert np.all(cat.ratio_err / cat.ratio < 0.0125)
    assert np.all(cat.n_transitions > 50_000)


def test_tls_boltzmann_fit_recovers_dE_and_round_trips(tmp_path):
    sim = planted(0.05)
    cat = find_tls(sim, 20_000)
    bz = measure_tls_boltzmann(sim, cat, [0.03, 0.05, 0.1], 60_000)
    assert bz.confined.all()
    np.testing.assert_allclose(bz.dE_config, DES, atol=1e-12)
    assert np.all(np.abs(bz.dE_fit - bz.dE_config) < 4 * bz.dE_fit_err), (bz.dE_fit, bz.dE_fit_err)
    assert np.all(bz.dE_fit_err < 0.002)
    # sim now holds 0.1 (the last temperature)
    assert sim.T == pytest.approx(0.1)
    p = bz.save(tmp_path / "bz")
    assert p.name == "bz.npz" and load_result(p).equals(bz)
    cp = cat.save(tmp_path / "cat.npz")
    assert load_result(cp).equals(cat)


def test_event_level_returns_are_one_for_planted_tls():
    """The only mobile voids are planted TLS: every hop after a void's first reverses the
    previous one, so the event-level P_ret = Q_ret = 1 exactly (engine counters and replay)."""
    sim = planted(0.05, seed=9)
    w = EventWindow(sim).run(50_000)
    b = sim.temperature_bins()
    pr, pn, vr, vn = (int(b[k].sum()) for k in ("p_returns", "p_nonreturns", "v_returns", "v_nonreturns"))
    assert pn == 0 and vn == 0 and pr == vr == 50_000 - 2
    np.testing.assert_array_equal(w.counts, [pr, pn, vr, vn])


def test_replay_counts_match_engine_on_a_liquid():
    """On an ordinary system the replayed return counts equal the engine's accumulators over the
    window, and the per-void visited-site classification is consistent."""
    sim = Simulation.create(12, 0.05, T_I=0.2, seed=4)
    sim.advance(5_000)
    w = EventWindow(sim).run(30_000, chunk=7_000)
    np.testing.assert_array_equal(w.counts, w.engine_counts())
    assert w.hops == 30_000 and w.hops_v.sum() == 30_000
    assert np.all(w.counts[[0, 2]] > 0) and np.all(w.counts[[1, 3]] > 0)
    ns = w.n_sites
    assert set(np.unique(ns)) <= {1, 2, 3}
    np.testing.assert_array_equal(ns == 1, w.hops_v == 0)
    # time fractions: voids seen on <= 2 sites spend all their time there
    two = ns <= 2
    np.testing.assert_allclose((w.p_a + w.p_b)[two], 1.0, atol=1e-9)


def test_occupation_map_of_planted_tls_matches_catalogue():
    sim = planted(0.05, seed=5)
    occ = measure_void_occupation(sim, 40_000)
    p = occ.p[0].ravel()
    assert p.sum() == pytest.approx(2.0)
    assert set(np.flatnonzero(p)) == {11, 12, 66, 76}
    np.testing.assert_array_equal(occ.initial_sites[0], SITES)
    np.testing.assert_array_equal(occ.initial_xy[0], [[1, 1], [6, 6]])
    # the state-2 / state-1 time ratio is Boltzmann as in the catalogue
    assert p[12] / p[11] == pytest.approx(math.exp(-0.05 / 0.05), rel=0.05)
    assert p[76] / p[66] == pytest.approx(math.exp(0.08 / 0.05), rel=0.05)


def test_trace_is_bistable():
    sim = planted(0.05, seed=6)
    tr = trace_voids(sim, [0, 1], interval=1e-6, hops=5_000, particles=[sim.occ[12]])
    assert tr.t.size > 100 and tr.void_xy.shape == (tr.t.size, 2, 2) and tr.particle_xy.shape == (tr.t.size, 1, 2)
    # the voids are always on one of their two sites: d is 0 or 1 (both seen)
    for j in range(2):
        assert set(np.round(tr.void_d[:, j], 12)) == {0.0, 1.0}
    # tracking switched off afterwards
    assert sim.tr_v.size == 0 and sim.tr_p.size == 0
    with pytest.raises(ValueError, match="needs hops or time"):
        trace_voids(sim, [0], interval=1e-6)
    with pytest.raises(ValueError, match="interval must be positive"):
        trace_voids(sim, [0], interval=0, hops=10)
    # non-integer ids are refused with the parameter's name, not truncated to another id
    h = sim.hops
    with pytest.raises(ValueError, match="voids must be integer ids"):
        trace_voids(sim, [0.5], interval=1e-6, hops=10)
    with pytest.raises(ValueError, match="voids must be integer ids"):
        trace_voids(sim, [True], interval=1e-6, hops=10)
    with pytest.raises(ValueError, match="particles must be integer ids"):
        trace_voids(sim, [0], particles=[1.5], interval=1e-6, hops=10)
    with pytest.raises(ValueError, match="hops must be an integer"):
        trace_voids(sim, [0], interval=1e-6, hops=10.5)
    assert sim.hops == h
    tr = trace_voids(sim, np.array([1.0]), interval=1e-6, hops=10)  # integral floats are ids
    assert tr.voids.tolist() == [1]


def test_find_tls_validation():
    sim = planted(0.05)
    with pytest.raises(ValueError, match="hops must be an integer"):
        find_tls(sim, 0)
    with pytest.raises(ValueError, match="min_transitions must be an integer"):
        find_tls(sim, 10, min_transitions=0)


def test_tls_of_an_ultrastable_state_are_equilibrium_subsystems():
    """Fig. 3b physics: in states built in equilibrium at T_I = 0.05 and held there, the voids
    confined to two sites have p2/p1 = exp(-dE/T) with dE computed from the configuration:
    every z-score is below 4 in size and their mean square is of order 1; the fitted dE across
    temperatures agrees with the configurational one for the TLS that stay two-level."""
    zs, fits = [], []
    for seed in (1, 3):
        sim = Simulation.create(40, 0.02, T_I=0.05, seed=seed)
        sim.advance(20_000)
        cat = find_tls(sim, 200_000, min_transitions=10)
        assert cat.counts["frozen"] > cat.counts["tls"] > 0  # most voids frozen, some TLS
        zs.extend(cat.z.tolist())
        bz = measure_tls_boltzmann(sim, cat, [0.04, 0.06], 100_000)
        ok = bz.confined.all(axis=0) & np.isfinite(bz.dE_fit_err)
        fits.extend(((bz.dE_fit - bz.dE_config) / bz.dE_fit_err)[ok].tolist())
    zs = np.array(zs)
    assert zs.size >= 5 and np.all(np.abs(zs) < 4) and np.mean(zs**2) < 3, zs
    fits = np.array(fits)
    assert fits.size >= 3 and np.all(np.abs(fits) < 4), fits


def planted_three_levels(T, dE_b=0.04, dE_c=0.02, L=12):
    """Void 0 at site (5, 7) with two partners: the particle at +x (hop costs dE_b) and the one
    at -x (hop costs dE_c); every other hop costs about 30: a linear three-level system."""
    from dplm_explore.lattice import neighbour_table

    a = 7 * L + 5
    occ, V = plant_tls(L, [a], [0], dE_b)
    nbr = neighbour_table(L)
    c = nbr[a, 2]
    p2 = occ[c]
    for dd in range(4):
        q = occ[nbr[c, dd]]
        if q >= 0:
            V[p2, q] = V[q, p2] = 0.0
    q3 = occ[nbr[a, 3]]
    V[p2, q3] = V[q3, p2] = dE_c
    return Simulation.from_configuration(L, occ, V_table=V, seed=11, program=constant(T)), a, nbr


def test_a_planted_three_level_system_is_listed_with_its_levels_energies_and_boltzmann_occupation():
    from dplm_explore.analysis import multilevel_systems, tls_from_window

    T = 0.05
    sim, a, nbr = planted_three_levels(T)
    w = EventWindow(sim, levels=6).run(300_000)
    cat = tls_from_window(sim, w)
    assert len(cat) == 0 and cat.counts["multi"] == 1  # not a TLS: three sites
    ml = multilevel_systems(sim, w)
    assert ml.void.tolist() == [0] and ml.n_levels.tolist() == [3] and ml.index(0) == 0 and ml.index(3) is None
    assert ml.loop.tolist() == [False]  # three sites in a line
    sites, E, f, b = ml.sites[0], ml.energy[0], ml.fraction[0], ml.boltzmann[0]
    assert set(sites.tolist()) == {a, int(nbr[a, 0]), int(nbr[a, 2])}
    assert f.sum() == pytest.approx(1.0, abs=1e-12) and b.sum() == pytest.approx(1.0, abs=1e-12)
    # energies from the configuration: relative to the most held level, the planted 0.04 and 0.02
    by_site = dict(zip(sites.tolist(), E - E[sites.tolist().index(a)]))
    assert by_site[int(nbr[a, 0])] == pytest.approx(0.04, abs=1e-12) and by_site[int(nbr[a, 2])] == pytest.approx(0.02, abs=1e-12)
    expected = np.exp(-np.array([by_site[s] for s in sites.tolist()]) / T)
    np.testing.assert_allclose(b, expected / expected.sum(), rtol=1e-12)
    np.testing.assert_allclose(f, b, atol=0.04)  # measured occupation follows Boltzmann
    # the outer levels can only go back to the middle: every hop from there is a return
    assert 0.5 < ml.q_ret[0] < 1.0
    with pytest.raises(ValueError, match="levels"):
        multilevel_systems(sim, EventWindow(sim))
    with pytest.raises(ValueError, match="min_fraction"):
        multilevel_systems(sim, w, min_fraction=1.5)
    with pytest.raises(ValueError, match="levels"):
        EventWindow(sim, levels=-1)


def test_level_tracking_changes_nothing_else_and_sees_a_tls_as_two_levels():
    sim_a, sim_b = planted(0.05), planted(0.05)
    wa = EventWindow(sim_a).run(50_000)
    wb = EventWindow(sim_b, levels=4).run(50_000)
    for k in ("site_a", "site_b", "hops_v", "counts"):
        np.testing.assert_array_equal(getattr(wa, k), getattr(wb, k))
    np.testing.assert_allclose(wb.level_fractions()[:, :2], np.stack([wb.p_a, wb.p_b], axis=1), atol=1e-12)
    assert wb.lv_n.tolist() == [2, 2]
    assert np.all(wb.v_ret[:, 1] == 0) and np.all(wb.v_ret[:, 0] == wb.hops_v - 1)  # a TLS only returns


def _python_replay(sim, hops, chunk):
    """The window's statistics replayed in plain Python on ``sim``'s log (the same chunks)."""
    nbr, occ, vpos = sim.nbr, sim.occ.copy(), [int(x) for x in sim.vpos]
    last_p, last_v = sim.last_p.copy(), sim.last_v.copy()
    t0 = sim.t
    arrive = [t0] * len(vpos)
    sites = [[y] for y in vpos]
    times = [[0.0] for _ in vpos]
    hops_v, v_ret, counts = [0] * len(vpos), [[0, 0] for _ in vpos], [0, 0, 0, 0]
    for start in range(0, hops, chunk):
        log, ts = sim.record_events(min(chunk, hops - start))
        for (v, d), t in zip(log.tolist(), ts.tolist()):
            y = vpos[v]
            s = int(nbr[y, d])
            p = occ[s]
            times[v][sites[v].index(y)] += t - arrive[v]
            arrive[v] = t
            if s not in sites[v]:
                sites[v].append(s)
                times[v].append(0.0)
            od = (d + 2) & 3
            if last_p[p] >= 0:
                counts[0 if last_p[p] == d else 1] += 1
            last_p[p] = od
            if last_v[v] >= 0:
                r = 0 if last_v[v] == od else 1
                counts[2 + r] += 1
                v_ret[v][r] += 1
            last_v[v] = d
            occ[y], occ[s] = p, -(v + 1)
            vpos[v] = s
            hops_v[v] += 1
    duration = sim.t - t0
    for v, y in enumerate(vpos):
        times[v][sites[v].index(y)] += sim.t - arrive[v]
    fractions = [[x / duration for x in tv] for tv in times]
    return sites, fractions, np.array(hops_v), np.array(v_ret), np.array(counts)


def test_window_with_and_without_levels_agree_with_a_python_replay_of_a_small_log():
    T, hops, chunk, K = 0.5, 3_000, 700, 3
    sims = [Simulation.create(6, 0.12, T_I=T, seed=5, program=constant(T)) for _ in range(3)]
    w = EventWindow(sims[0]).run(hops, chunk=chunk)
    wl = EventWindow(sims[1], levels=K).run(hops, chunk=chunk)
    sites, fractions, hops_v, v_ret, counts = _python_replay(sims[2], hops, chunk)
    assert w.hops == wl.hops == hops and max(len(s) for s in sites) > K  # some void left its first K sites
    for win in (w, wl):
        np.testing.assert_array_equal(win.hops_v, hops_v)
        np.testing.assert_array_equal(win.counts, counts)
        np.testing.assert_array_equal(win.v_ret, v_ret)
        np.testing.assert_array_equal(win.site_a, [s[0] for s in sites])
        np.testing.assert_array_equal(win.site_b, [s[1] if len(s) > 1 else -1 for s in sites])
        np.testing.assert_array_equal(win.n_sites, [min(len(s), 3) for s in sites])
        np.testing.assert_allclose(np.stack([win.p_a, win.p_b], axis=1), [(f + [0.0])[:2] for f in fractions], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(wl.lv_site, [(s + [-1] * K)[:K] for s in sites])
    np.testing.assert_array_equal(wl.lv_n, [min(len(s), K + 1) for s in sites])
    np.testing.assert_allclose(wl.level_fractions(), [(f + [0.0] * K)[:K] for f in fractions], rtol=1e-12, atol=1e-15)
    for name in ("lv_site", "lv_n"):
        with pytest.raises(ValueError, match="levels > 0"):
            getattr(w, name)


def test_level_sets_with_a_plaquette_are_loops():
    from dplm_explore.analysis.tls import _has_loop
    from dplm_explore.lattice import neighbour_table

    nbr = neighbour_table(8)
    assert not _has_loop(nbr, [9, 10, 11])  # a line
    assert not _has_loop(nbr, [9, 10, 18])  # an L
    assert _has_loop(nbr, [9, 10, 17, 18])  # a 2 x 2 plaquette
    assert _has_loop(nbr, [9, 10, 11, 17, 18, 19])  # 2 x 3
