"""First-passage dynamics (``dynamics="first-passage"``): the sojourn sampler against the exact
master equation of a trapped void, and the engine against the hop-by-hop engine and Boltzmann.

Fixed seeds; the stated tolerances are several standard errors of the estimates. Each test has a
negative control that the same statistic rejects."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

from dplm_explore._rng import seed_state
from dplm_explore.kmc import Simulation
from dplm_explore.kmc import _basin as B
from dplm_explore.schedules import constant, make_program

# flip and exit rates (a, xA, b, xB) of a trapped void: one where the exits matter on the time
# scale of the flips, one stiff case like a low-temperature TLS
BASINS = [(3.0, 0.4, 1.5, 0.9), (2.0e3, 0.02, 7.0e2, 0.3)]


def _Q(a, xA, b, xB):
    return np.array([[-(a + xA), a], [b, -(b + xB)]])


def _survival(Q, t):
    """P(no exit by t | start in A) and P(in A / in B at t, no exit)."""
    row = expm(Q * t)[0]
    return row.sum(), row


@pytest.mark.parametrize("rates", BASINS)
def test_exit_time_and_configuration_follow_the_master_equation(rates):
    a, xA, b, xB = rates
    Q = _Q(*rates)
    tau, tb, flips, j = B.exit_samples(seed_state(11), a, xA, b, xB, 40_000)
    # exit time: KS against 1 - S(t), S from the matrix exponential
    cdf = np.vectorize(lambda t: 1.0 - _survival(Q, t)[0])
    assert stats.kstest(tau, cdf).pvalue > 1e-3
    # exit configuration and the mean time in B and flips: from the fundamental matrix N = (-Q)^-1
    N = np.linalg.inv(-Q)
    p_exit_A = xA * N[0, 0]
    n = tau.size
    assert abs((j == 0).mean() - p_exit_A) < 5 * math.sqrt(p_exit_A * (1 - p_exit_A) / n)
    assert tb.mean() == pytest.approx(N[0, 1], rel=5 * tb.std() / N[0, 1] / math.sqrt(n))
    mean_flips = a * N[0, 0] + b * N[0, 1]  # expected jumps A->B plus B->A
    assert flips.mean() == pytest.approx(mean_flips, rel=5 * flips.std() / mean_flips / math.sqrt(n))
    assert np.all(tb <= tau) and np.all((flips % 2) == j)  # an exit from B follows an odd number of flips
    # negative control: the law of a chain that cannot leave from B is rejected
    Qc = _Q(a, xA + xB, b, 0.0)
    cdf_c = np.vectorize(lambda t: 1.0 - _survival(Qc, t)[0])
    assert stats.kstest(tau, cdf_c).pvalue < 1e-6


@pytest.mark.parametrize("rates", BASINS)
def test_configuration_after_survival_follows_the_master_equation(rates):
    """Interrupted at h without having left: the configuration is drawn from exp(Qh)[A, .]
    normalised (chi-square), the time in B and the flips are the conditional expectations (Van
    Loan integrals, to rounding)."""
    a, xA, b, xB = rates
    Q = _Q(*rates)
    h = 1.5 / (xA + xB)
    S, row = _survival(Q, h)
    p = row / S
    jj, tb, flips = B.survivor_samples(seed_state(5), a, xA, b, xB, h, 40_000)
    counts = np.bincount(jj, minlength=2)
    assert stats.chisquare(counts, p * jj.size).pvalue > 1e-3

    def van_loan(M):
        Z = np.zeros((4, 4))
        Z[:2, :2] = Q
        Z[2:, 2:] = Q
        Z[:2, 2:] = M
        return expm(Z * h)[:2, 2:][0] / row

    occ_b = van_loan(np.diag([0.0, 1.0]))
    n_ab = van_loan(np.array([[0.0, a], [0.0, 0.0]]))
    for k in (0, 1):
        np.testing.assert_allclose(tb[jj == k], occ_b[k], rtol=1e-8)
        expected_flips = 2 * n_ab[k] - k  # end in A: as many A->B as B->A; end in B: one more A->B
        assert flips[jj == k].mean() == pytest.approx(expected_flips, rel=0.01, abs=0.02)
        assert np.all(flips[jj == k] % 2 == k)
    # negative control: drop the conditioning on survival (the chain without exits); it matters
    # where exits compete with flips (the first basin), not in the stiff one
    if rates == BASINS[0]:
        row0 = expm(_Q(a, 0.0, b, 0.0) * h)[0]
        assert stats.chisquare(counts, row0 * jj.size).pvalue < 1e-6


def test_gamma_variates():
    for shape in (1.0, 7.0, 40.0, 5e4):
        g = B.gamma_samples(seed_state(3), shape, 20_000)
        assert stats.kstest(g, stats.gamma(shape).cdf).pvalue > 1e-3
    assert stats.kstest(B.gamma_samples(seed_state(3), 40.0, 20_000), stats.gamma(41.0).cdf).pvalue < 1e-6


#: 3 x 3 torus with one void and three particle types (2, 3 and 3 particles): type-pair
#: interactions chosen so that some configurations have one fast way back (trapped voids)
TINY_TYPES = np.array([0, 0, 1, 1, 1, 2, 2, 2])
TINY_W0 = 100.0  # attempt rate: the samples, 2 time units apart, are nearly independent
TINY_V = np.array([[0.0, 0.35, 0.9], [0.35, 0.15, 0.6], [0.9, 0.6, 1.0]])


def _tiny_states():
    """Every state (void site, sites of each type) of the tiny torus and its energy."""
    import itertools

    from dplm_explore.lattice import neighbour_table

    nbr = neighbour_table(3)
    states, energies = [], []
    for v in range(9):
        rest = [s for s in range(9) if s != v]
        for A in itertools.combinations(rest, 2):
            rest2 = [s for s in rest if s not in A]
            for Bs in itertools.combinations(rest2, 3):
                kind = np.full(9, 2)
                kind[v] = -1
                kind[list(A)] = 0
                kind[list(Bs)] = 1
                E = sum(TINY_V[kind[s], kind[nbr[s, d]]] for s in range(9) for d in (0, 1) if kind[s] >= 0 and kind[nbr[s, d]] >= 0)
                states.append((v, A, Bs))
                energies.append(E)
    return {s: i for i, s in enumerate(states)}, np.array(energies)


def _tiny_occupancy(T, dynamics, seed, n_samples):
    table = TINY_V[TINY_TYPES[:, None], TINY_TYPES[None, :]].copy()
    np.fill_diagonal(table, 0.0)
    sim = Simulation.from_configuration(3, np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7]), V_table=table, seed=seed, w0=TINY_W0, program=constant(T), dynamics=dynamics)
    sim.track(particles=range(8), voids=[0], interval=2.0, capacity=n_samples)
    sim.advance(time=2.0 * n_samples)
    _, xp, xv = sim.samples()
    sites = (xp[..., 0] % 3) + 3 * (xp[..., 1] % 3)
    site_v = (xv[:, 0, 0] % 3) + 3 * (xv[:, 0, 1] % 3)
    index, energies = _tiny_states()
    counts = np.zeros(energies.size)
    for v, row in zip(site_v, sites):
        counts[index[(int(v), tuple(sorted(int(x) for x in row[:2])), tuple(sorted(int(x) for x in row[2:5])))]] += 1
    return sim, counts, energies


def _level_z(counts, energies, T):
    """Largest |measured - Boltzmann| / sd over the energy levels (sd x2: samples are correlated)."""
    w = np.exp(-(energies - energies.min()) / T)
    p = w / w.sum()
    n = counts.sum()
    z = 0.0
    for E in np.unique(np.round(energies, 9)):
        m = np.isclose(energies, E)
        q = p[m].sum()
        z = max(z, abs(counts[m].sum() / n - q) / (2 * math.sqrt(q * (1 - q) / n) + 1e-4))
    return z


def _mean_energy(energies, T):
    w = np.exp(-(energies - energies.min()) / T)
    return float((w * energies).sum() / w.sum())


def test_first_passage_follows_boltzmann_on_a_tiny_lattice():
    """Occupancies at the sample times (configurations) and the time-averaged energy of the
    engine's accumulators (the sojourns' booking) against the Boltzmann weights."""
    T = 0.12
    sim, counts, energies = _tiny_occupancy(T, "first-passage", 2024, 100_000)
    assert sim.sojourn_counts["sojourns"] > 10_000  # the mode had work
    assert _level_z(counts, energies, T) < 5
    sim.settle()
    e_time = sim.temperature_bins()["E_mean"][-1]
    e_samples = np.repeat(energies, counts.astype(int))
    se = 2 * e_samples.std() / math.sqrt(e_samples.size)  # x2: samples are correlated
    assert abs(e_time - _mean_energy(energies, T)) < 5 * se
    # negative controls: a 15 % wrong temperature is rejected by both
    assert _level_z(counts, energies, 1.15 * T) > 8
    assert abs(e_time - _mean_energy(energies, 1.15 * T)) > 10 * se


def test_constructed_equilibrium_holds_in_first_passage():
    T = 0.06
    sim = Simulation.create(L=40, phi_v=0.01, T_I=T, seed=77, dynamics="first-passage")
    from dplm_explore.equilibrium import occupied_pairs

    pairs, _ = occupied_pairs(sim.occ, sim.nbr)
    e_eq = pairs.size * sim.params.g.mean_peq(T) / sim.params.n_particles
    e_sd = math.sqrt(sim.params.n_particles * 2) * 0.1 / sim.params.n_particles
    means = []
    for _ in range(4):
        sim.set_program(constant(T))
        sim.advance(time=20.0)
        sim.settle()
        b = sim.temperature_bins()
        means.append(b["E_mean"][-1] / sim.params.n_particles)
    assert sim.sojourn_counts["flips"] > 0.2 * sim.hops  # a good part of the hops were flips of sojourns
    assert abs(means[-1] - means[0]) < 0.002
    assert abs(np.mean(means) - e_eq) < 4 * e_sd


def _cool(dynamics, seed, scale=1.0):
    """One cooling replica; ``scale`` runs the rates at scale x the nominal temperature."""
    sim = Simulation.create(L=24, phi_v=0.02, T_I=0.07 * scale, seed=seed, program=make_program(0.07 * scale, 0.01 * scale, 5e-3 * scale), dynamics=dynamics)
    sim.advance()
    b = sim.temperature_bins()
    b["T"] = b["T"] / scale
    edges = np.linspace(0.01, 0.07, 7)
    idx = np.digitize(b["T"], edges) - 1
    E = np.array([(b["E_mean"][idx == i] * b["time"][idx == i]).sum() / b["time"][idx == i].sum() for i in range(6)])
    occupied = (sim.void_occupation() > 0).sum()
    return E / sim.params.n_particles, sim.hops, occupied, sim


def test_cooling_statistics_match_the_hop_engine():
    """Energy per particle in six temperature bins, log of the hops and the number of sites a void
    ever occupied, over 8 replicas of each dynamics (different seeds): equal within 4 standard
    errors. Negative control: first-passage runs whose rates are those of a 10 % higher
    temperature are told apart by the same energy comparison."""
    hop = [_cool("hop", 500 + s) for s in range(8)]
    fp = [_cool("first-passage", 900 + s) for s in range(8)]
    assert sum(r[3].sojourn_counts["flips"] for r in fp) > 0.3 * sum(r[1] for r in fp)  # the mode had work

    def compare(x, y):
        x, y = np.asarray(x, float), np.asarray(y, float)
        se = np.sqrt(x.var(0, ddof=1) / len(x) + y.var(0, ddof=1) / len(y))
        return np.abs(x.mean(0) - y.mean(0)) / np.maximum(se, 1e-12)

    assert np.all(compare([r[0] for r in hop], [r[0] for r in fp]) < 4)
    assert compare([math.log(r[1]) for r in hop], [math.log(r[1]) for r in fp]) < 4
    assert compare([r[2] for r in hop], [r[2] for r in fp]) < 4
    wrong = [_cool("first-passage", 1300 + s, scale=1.1) for s in range(8)]
    assert np.max(compare([r[0] for r in hop], [r[0] for r in wrong])) > 6


def test_chunks_and_resume_do_not_change_a_first_passage_trajectory(tmp_path):
    """Open sojourns outlive kernel calls and travel with a saved state: a run cut into many
    calls, and one saved and resumed mid-way, end bit for bit where one call ends (but the last
    bit of the time-weighted energy sums, which a stop of the clock splits in two)."""
    from dplm_explore.kmc.engine import _STATE_ARRAYS

    def same(x, y):
        for name in _STATE_ARRAYS:
            if name == "acc_f":
                np.testing.assert_allclose(x.acc_f, y.acc_f, rtol=1e-12)
            else:
                assert np.array_equal(getattr(x, name), getattr(y, name), equal_nan=True), name

    def make():
        return Simulation.create(L=20, phi_v=0.02, T_I=0.05, seed=31, program=make_program(0.05, 0.02, 5e-3), dynamics="first-passage")

    a, b = make(), make()
    a.advance()
    while not b.program_done:
        b.advance(97, time=0.37)
    same(a, b)
    c = make()
    c.advance(time=1.333)  # inside a program step (steps last 0.1)
    assert c.trapped > 0  # the save holds open sojourns
    d = Simulation.load(c.save(tmp_path / "mid.npz"))
    assert d.dynamics == "first-passage" and d.trapped == c.trapped
    d.advance()
    same(a, d)
    assert a.sojourn_counts["sojourns"] > 50 and abs(a.energy - a.energy_from_scratch()) < 1e-9


@pytest.mark.parametrize("L, phi_v, T, seed, hops", [(40, 0.02, 0.15, 5, 40_000), (24, 0.04, 0.1, 11, 60_000), (30, 0.03, 0.2, 3, 60_000)])
def test_interrupted_sojourns_leave_a_consistent_state(L, phi_v, T, seed, hops):
    """A void hopping into reach of a trapped one ends that sojourn mid-hop; when it ends in B,
    the hopping void's rates and its cache were computed with the other void at A and must be
    redone. Dense voids make such interrupts frequent: the tracked energy, every rate and the
    sum tree must stay those of the configuration (as loading a saved state checks)."""
    sim = Simulation.create(L=L, phi_v=phi_v, T_I=T, seed=seed, dynamics="first-passage")
    for _ in range(4):
        sim.advance(hops)
        assert abs(sim.energy - sim.energy_from_scratch()) < 1e-8
        sim.check()
    assert sim.sojourn_counts["interruptions"] > 20
    sim.settle()
    assert abs(sim.energy - sim.energy_from_scratch()) < 1e-8
    sim.check()


def test_energy_square_moment_is_absent_where_sojourns_ended():
    """The fluctuation moment needs the joint path of every trapped void: NaN in the program
    steps where a sojourn with time in B ended, finite elsewhere, and always finite in hop."""
    _, _, _, fp = _cool("first-passage", 7)
    _, _, _, hop = _cool("hop", 7)
    e2_fp = fp.temperature_bins()["E2_mean"]
    assert np.isnan(e2_fp).any() and np.isfinite(fp.temperature_bins()["E_mean"]).all()
    assert np.isfinite(hop.temperature_bins()["E2_mean"]).all()


def test_every_program_command_takes_the_dynamics(capsys, tmp_path):
    """run, cool, returns, occupation and tls accept --dynamics first-passage; what they run and
    record says so; the same seed gives the same result."""
    import json

    from dplm_explore.cli import main

    def run(argv):
        assert main(argv) == 0
        return json.loads(capsys.readouterr().out)

    ramp = ["--L", "20", "--phi-v", "0.02", "--T-I", "0.05", "--T-final", "0.02", "--seed", "4"]
    d = run(["run", *ramp[:6], "--nu", "5e-3", *ramp[6:], "--dynamics", "first-passage", "--json", "--out", str(tmp_path / "s.npz")])
    assert d["dynamics"] == "first-passage" and d["provenance"]["dynamics"] == "first-passage" and d["sojourns"]["sojourns"] > 0
    assert Simulation.load(tmp_path / "s.npz").dynamics == "first-passage"
    assert run(["run", *ramp[:6], "--nu", "5e-3", *ramp[6:], "--dynamics", "first-passage", "--json"])["e_final"] == d["e_final"]
    c = run(["cool", *ramp, "--nu", "5e-3", "--replicas", "2", "--workers", "1", "--dynamics", "first-passage", "--out", str(tmp_path / "c.npz"), "--json",
             "--no-progress"])
    assert c["n_replicas"] == 2
    from dplm_explore.analysis.heat_capacity import HeatCapacity

    assert HeatCapacity.load(tmp_path / "c.npz").system["dynamics"] == "first-passage"
    for cmd, extra in (("returns", ["--snapshot-interval", "0.01"]), ("occupation", ["--at", "0.04", "--hops", "2000"])):
        run([cmd, *ramp, "--nu", "5e-3", *extra, "--dynamics", "first-passage", "--out", str(tmp_path / f"{cmd}.npz"), "--json", "--no-progress"])
    t = run(["tls", "--state", str(tmp_path / "s.npz"), "--hops", "20000", "--out", str(tmp_path / "t.npz"), "--json", "--no-progress"])
    assert "n_tls" in t


def test_switching_to_hop_settles_open_sojourns():
    sim = Simulation.create(L=20, phi_v=0.02, T_I=0.05, seed=31, program=make_program(0.05, 0.02, 5e-3), dynamics="first-passage")
    sim.advance(time=1.333)
    assert sim.trapped > 0
    sim.dynamics = "hop"
    assert sim.trapped == 0
    h = sim.hops
    sim.advance(20_000)
    assert sim.hops == h + 20_000 and abs(sim.energy - sim.energy_from_scratch()) < 1e-9
    sim.check()


#: held-glass comparison: glasses, paired runs per glass and dynamics, hold per temperature
HELD_GLASSES, HELD_RUNS, HELD_TIME = 12, 4, 50.0
HELD_T = (0.03, 0.025, 0.02, 0.015)


def _held_heat_content(seed, dynamics, run, tmp_path):
    """Energy per particle at T = 0.03 above that at 0.015 of one glass (L = 40, phi_v = 0.02,
    cooled from 0.1 to 0.04 at 1e-3 and held there), held at each temperature of HELD_T in turn,
    with the dynamics' own random stream ``run``."""
    from dplm_explore.schedules import Hold, chain

    state = tmp_path / f"glass{seed}.npz"
    if not state.exists():
        sim = Simulation.create(L=40, phi_v=0.02, T_I=0.1, seed=seed, program=chain(make_program(0.1, 0.04, 1e-3), Hold(0.04, 20.0)),
                                dynamics="first-passage")
        sim.advance()
        sim.save(state)
    sim = Simulation.load(state)
    sim.dynamics = dynamics
    sim._rng = seed_state(1000 * seed + run)
    sim.set_program(chain(*[Hold(T, HELD_TIME) for T in HELD_T]))
    sim.advance()
    sim.settle()
    e = sim.temperature_bins()["E_mean"][-len(HELD_T):] / sim.params.n_particles
    return e[0] - e[-1]


@pytest.mark.slow
def test_held_glasses_have_the_same_tls_heat_content_in_both_dynamics(tmp_path):
    """Frozen glasses held at T <= 0.03 (where only two-level systems move) take up the same heat
    between T = 0.015 and 0.03 in both dynamics: paired runs from the same glasses, the difference
    averaged over glasses within 3 standard errors of zero, while the heat content itself is
    resolved (above 3 standard errors). About 15 minutes on one core."""
    diffs, heats = [], []
    for g in range(HELD_GLASSES):
        h = [_held_heat_content(100 + g, "hop", r, tmp_path) for r in range(HELD_RUNS)]
        f = [_held_heat_content(100 + g, "first-passage", r, tmp_path) for r in range(HELD_RUNS)]
        diffs.append(np.mean(f) - np.mean(h))
        heats.append(np.mean(h))
    diffs, heats = np.array(diffs), np.array(heats)
    se_d = diffs.std(ddof=1) / math.sqrt(diffs.size)
    se_h = heats.std(ddof=1) / math.sqrt(heats.size)
    print(f"heat content {heats.mean():.3g} +- {se_h:.2g}; first passage - hop {diffs.mean():.3g} +- {se_d:.2g} per particle")
    assert heats.mean() > 3 * se_h, (heats.mean(), se_h)
    assert abs(diffs.mean()) < 3 * se_d, (diffs.mean(), se_d, heats.mean())
