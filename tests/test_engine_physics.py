"""Physics validation of the engine (fixed seeds, stated tolerances; docs/physics.md section 7)."""

import itertools
import math

import numpy as np
import pytest

from dplm_explore import Uniform
from dplm_explore.equilibrium import occupied_pairs
from dplm_explore.kmc import Simulation
from dplm_explore.lattice import neighbour_table
from dplm_explore.schedules import cooling, constant
from dplm_explore.theory import _equilibrium


def test_tiny_lattice_occupancies_follow_boltzmann():
    """3x3 torus, one void, a fixed interaction table with three 'A' particles (labels 0-2) and
    five 'B' particles: the state (void site, A sites) has 9 * C(8, 3) = 504 values. Their
    long-run occupancies, sampled at fixed time intervals, must match exp(-E/T) weights computed
    from the same table."""
    L, T = 3, 0.6
    V_AA, V_AB, V_BB = 0.9, 0.1, 0.5
    types = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    table = np.where(types[:, None] == types[None, :], np.where(types[:, None] == 0, V_AA, V_BB), V_AB)
    np.fill_diagonal(table, 0.0)
    occ = np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7])
    sim = Simulation.from_configuration(L, occ, V_table=table, seed=2024, w0=1.0, program=constant(T))
    sim.track(particles=[0, 1, 2], voids=[0], interval=2.0, capacity=50_000)
    sim.advance(time=2.0 * 150_000)
    t, xp, xv = sim.samples()
    sites_A = np.sort((xp[..., 0] % L) + L * (xp[..., 1] % L), axis=1)
    site_v = (xv[:, 0, 0] % L) + L * (xv[:, 0, 1] % L)
    nbr = neighbour_table(L)
    # exact Boltzmann weights over every arrangement of (void, 3 A's) on the torus
    states, energies = [], []
    for v in range(9):
        rest = [s for s in range(9) if s != v]
        for A in itertools.combinations(rest, 3):
            kind = np.full(9, 1)
            kind[v] = -1
            kind[list(A)] = 0
            E = 0.0
            for s in range(9):
                for d in (0, 1):
                    a, b = kind[s], kind[nbr[s, d]]
                    if a >= 0 and b >= 0:
                        E += V_AA if a == b == 0 else (V_BB if a == b == 1 else V_AB)
            states.append((v,) + A)
            energies.append(E)
    energies = np.array(energies)
    w = np.exp(-(energies - energies.min()) / T)
    p_exact = w / w.sum()
    index = {s: i for i, s in enumerate(states)}
    counts = np.zeros(len(states))
    for v, A in zip(site_v, sites_A):
        counts[index[(int(v),) + tuple(int(a) for a in A)]] += 1
    p_meas = counts / counts.sum()
    assert counts.min() > 0  # every state was visited
    # group states by energy level: occupancy of each level vs Boltzmann (sharp test of T)
    levels = np.unique(np.round(energies, 9))
    for E in levels:
        m = np.isclose(energies, E)
        exp_p = p_exact[m].sum()
        sd = math.sqrt(exp_p * (1 - exp_p) / counts.sum() * 4)  # x4: samples are correlated
        assert abs(p_meas[m].sum() - exp_p) < 5 * sd + 1e-3, f"level E={E}"
    # and state by state, in total-variation distance
    assert 0.5 * np.abs(p_meas - p_exact).sum() < 0.04
    # the same run at a wrong temperature would fail: the test has teeth
    w_wrong = np.exp(-(energies - energies.min()) / (1.5 * T))
    assert 0.5 * np.abs(p_meas - w_wrong / w_wrong.sum()).sum() > 0.06


def _e_eq(sim, T):
    """Equilibrium energy per particle for the current arrangement: bonds x <V>_{p_eq(T)}."""
    p, _ = occupied_pairs(sim.occ, sim.nbr)
    return p.size * sim.params.g.mean_peq(T) / sim.params.n_particles


def _window_means(sim, n_windows, hops_each):
    out = []
    for _ in range(n_windows):
        sim.set_program(constant(sim.T))
        sim.advance(hops_each)
        b = sim.temperature_bins()
        out.append(b["E_mean"][-1] / sim.params.n_particles)
    return np.array(out)


def test_constructed_equilibrium_holds_while_g_bonds_relax():
    T = 0.1
    kw = dict(L=48, phi_v=0.02, T_I=T, seed=77)
    eq = Simulation.create(**kw)
    e_eq0 = _e_eq(eq, T)
    e_sd = math.sqrt(eq.params.n_particles * 2) * 0.1 / eq.params.n_particles  # spread of the initial draw
    windows = _window_means(eq, 5, 400_000)
    # no drift: first and last windows agree, and both sit at e_eq(T) within the initial spread
    assert abs(windows[-1] - windows[0]) < 0.002
    assert abs(windows.mean() - e_eq0) < 4 * e_sd
    # same arrangement but neighbour bonds from g: starts far above and visibly relaxes
    bad = Simulation.create(bonds="g", **kw)
    assert bad.energy_per_particle - e_eq0 > 0.7  # ~ 2 bonds x (<V>_g - <V>_peq) = 0.8
    wb = _window_means(bad, 5, 400_000)
    assert wb[0] - e_eq0 > 0.3
    assert wb[0] - wb[-1] > 5 * abs(windows[-1] - windows[0]) + 0.004


def _cooling_curve(dT_step, seed):
    prog = cooling(0.5, 0.15, 20.0, dT_step=dT_step)
    sim = Simulation.create(L=24, phi_v=0.03, T_I=0.5, seed=seed, w0=1e6, program=prog)
    sim.advance()
    b = sim.temperature_bins()
    edges = np.linspace(0.15, 0.5, 8)
    idx = np.digitize(b["T"], edges) - 1
    E = np.array([(b["E_mean"][idx == i] * b["time"][idx == i]).sum() / b["time"][idx == i].sum() for i in range(7)])
    return E / sim.params.n_particles


def test_refining_the_temperature_step_changes_nothing_beyond_noise():
    coarse = np.array([_cooling_curve(0.05, s) for s in range(4)])
    fine = np.array([_cooling_curve(0.005, s + 100) for s in range(4)])
    diff = coarse.mean(0) - fine.mean(0)
    se = np.sqrt(coarse.var(0, ddof=1) / 4 + fine.var(0, ddof=1) / 4)
    assert np.all(np.abs(diff) < 4 * se + 2e-3), (diff, se)
    # the curves do depend on temperature (the comparison is not vacuous)
    assert fine.mean(0)[-1] - fine.mean(0)[0] > 10 * se.max()


def test_constructed_void_arrangement_has_the_lattice_gas_contact_density():
    """Void-void contacts of the direct construction follow the Z_b-weighted lattice gas
    (quasi-chemical estimate from the theory module), clearly below random placement."""

    L, phi, T_I = 60, 0.1, 0.05  # Z_b(0.05) = 0.05: contacts strongly suppressed
    g = Uniform()
    counts = []
    for seed in range(4):
        sim = Simulation.create(L=L, phi_v=phi, T_I=T_I, seed=seed, void_moves=400_000)
        isv = sim.occ < 0
        counts.append(sum(int((isv & isv[sim.nbr[:, d]]).sum()) for d in (0, 1)))
    s_meas = np.mean(counts) / (2 * L * L)  # fraction of lattice bonds joining two voids
    s_random = phi**2
    s_qc = _equilibrium._s_vv(phi, g.Z_b(T_I))
    assert s_meas < 0.5 * s_random
    assert s_meas == pytest.approx(s_qc, rel=0.25)
    # and at T_I = inf-like (Z_b -> 1 for tiny T-dependence) placement is random
    hot = [Simulation.create(L=L, phi_v=phi, T_I=50.0, seed=s) for s in range(4)]
    s_hot = np.mean([sum(int(((h.occ < 0) & (h.occ[h.nbr[:, d]] < 0)).sum()) for d in (0, 1)) for h in hot]) / (2 * L * L)
    assert s_hot == pytest.approx(s_random, rel=0.15)


def test_kernel_releases_the_gil():
    """A background thread runs the kernel while the main thread keeps executing Python."""
    import threading
    import time

    sim = Simulation.create(L=64, phi_v=0.01, T_I=0.1, seed=1)
    sim.advance(1000)  # compiled
    done = threading.Event()

    def work():
        sim.advance(wall=1.0, chunk_hops=2_000_000)
        done.set()

    th = threading.Thread(target=work)
    th.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.3:
        n += 1  # pure-Python work: needs the GIL
    alive_during = not done.is_set()
    th.join()
    assert alive_during
    assert n > 10_000  # with the GIL held by the kernel this loop would not run at all
