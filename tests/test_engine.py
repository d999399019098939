"""Engine unit tests: validation, determinism, reference agreement, save/resume, bookkeeping."""

import json
import math

import numpy as np
import pytest

from dplm_explore import FermiGauss, UniformDelta
from dplm_explore.kmc import Simulation
from dplm_explore.kmc import _kernel as K
from dplm_explore.kmc import _state as ST
from dplm_explore.kmc._reference import ReferenceKMC, record_events
from dplm_explore.schedules import Hold, Ramp, constant, cooling


def small(**kw):
    base = dict(L=12, phi_v=0.05, T_I=0.15, seed=7)
    base.update(kw)
    return Simulation.create(**base)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(L=2), "L must be an integer >= 3; got 2"),
        (dict(L=3.5), "L must be"),
        (dict(phi_v=0.0), "phi_v must lie in \\(0, 1\\); got 0.0"),
        (dict(phi_v=1.2), "phi_v must lie in"),
        (dict(phi_v=-0.1), "phi_v"),
        (dict(L=10, phi_v=0.001), "gives no voids"),
        (dict(T_I=-0.1), "T_I must be positive"),
        (dict(T_I=None), "T_I is required"),
        (dict(w0=0), "w0 must lie in"),
        (dict(init="hot"), "init must be"),
        (dict(bonds="maybe"), "bonds must be"),
        (dict(seed=-3), "seed must be non-negative"),
        (dict(seed="abc"), "seed must be"),
    ],
)
def test_bad_system_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        small(**kw)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: constant(-0.1), "T must be positive"),
        (lambda: constant(0.0), "T must be positive"),
        (lambda: cooling(0.1, 0.05, -1e-4), "nu must be positive"),
        (lambda: Ramp(0.1, 0.05, 0.0), "nu must be positive"),
        (lambda: cooling(0.05, 0.1, 1e-4), "T_final must be below T_I"),
        (lambda: Ramp(0.1, 0.05, 1e-3, dT_step=-1), "dT_step"),
        (lambda: Hold(0.1, duration=-1), "duration"),
    ],
)
def test_bad_programs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_advance_arguments():
    sim = small()
    with pytest.raises(ValueError, match="until_T=0.1 is never reached"):
        sim.advance(until_T=0.1)  # holds T_I = 0.15 for ever
    with pytest.raises(ValueError, match="never ends"):
        sim.advance(time=math.inf)
    with pytest.raises(ValueError, match="chunk_hops must be a positive integer"):
        sim.advance(100, chunk_hops=-1)
    with pytest.raises(ValueError, match="hops must be"):
        sim.advance(math.inf)
    with pytest.raises(ValueError, match="particles must be integer labels"):
        sim.track(particles=[1.7], interval=1.0)
    with pytest.raises(ValueError, match="void_moves"):
        small(void_moves=-5)
    with pytest.raises(ValueError, match="program is required"):
        Simulation.create(L=8, phi_v=0.1, init="random", seed=1)
    with pytest.raises(ValueError, match="hops must be a non-negative integer; got -5"):
        sim.advance(-5)
    with pytest.raises(ValueError, match="time must be a non-negative number; got -1.0"):
        sim.advance(time=-1.0)
    with pytest.raises(ValueError, match="never ends"):
        sim.advance()
    with pytest.raises(ValueError, match="particles must be labels"):
        sim.track(particles=[10**6], interval=1.0)


def test_from_configuration_validates():
    occ = np.arange(9) - 1  # labels -1 (void), 0..7
    with pytest.raises(ValueError, match="L\\*L"):
        Simulation.from_configuration(4, occ)
    with pytest.raises(ValueError, match="exactly once"):
        Simulation.from_configuration(3, np.array([0, 0, 1, 2, 3, 4, 5, 6, -1]))
    with pytest.raises(ValueError, match="V_table"):
        Simulation.from_configuration(3, occ, V_table=np.ones((3, 3)))
    occ16 = np.arange(16) - 2
    occ16[occ16 < 0] = -1
    n_pairs = 32 - 4 - 3  # 2 x 16 bonds, minus the 7 that touch the two adjacent voids
    for bad in (np.zeros(n_pairs - 1), np.zeros(n_pairs + 1), np.full(n_pairs, np.nan)):
        with pytest.raises(ValueError, match="genesis must hold 25 finite values"):
            Simulation.from_configuration(4, occ16, genesis=bad, program=constant(0.1))
    ok = Simulation.from_configuration(4, occ16, genesis=np.linspace(0, 1, n_pairs), program=constant(0.1), seed=1)
    ok.advance(2000)
    assert ok.energy == pytest.approx(ok.energy_from_scratch(), abs=1e-9)


def test_state_file_errors(tmp_path):
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable dplm-explore state"):
        Simulation.load(bogus)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.arange(3))
    with pytest.raises(ValueError, match="not a dplm-explore state"):
        Simulation.load(foreign)
    sim = small()
    sim.advance(2000)  # cache slots filled and marked
    assert np.any(sim.c_key >= 0)
    path = sim.save(tmp_path / "s.npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    data["occ"] = data["occ"][::-1].copy()
    tampered = tmp_path / "tampered.npz"
    np.savez(tampered, **data)
    with pytest.raises(ValueError, match="positions disagree|not a valid arrangement"):
        Simulation.load(tampered)
    with np.load(path) as z:
        good = {k: z[k] for k in z.files}
    for name, value, match in (
        ("tr_v", np.array([10**7], np.int32), "tr_v"),
        ("tree", np.zeros(1), "tree"),
        ("pw", np.zeros((1, 6)), "pw"),
        ("c_dat", np.zeros((1, K.KC, K.C_WIDTH)), "c_dat"),
        ("c_key", np.where(good["c_key"] >= 0, good["c_key"] | (K.MAX_DEPTH + 1) << K.DEPTH_SHIFT, -1), "cache words out of range"),
        ("c_site", np.where(good["c_key"] >= 0, sim.params.L ** 2, 0).astype(np.int32), "cache sites out of range"),
        ("cown", np.full_like(good["cown"], -1), "cache marks disagree"),
        ("iso", np.full_like(good["iso"], 2), "iso holds values other than 0 and 1"),
        ("bond", good["bond"] + 0.5, "bond energies"),
        ("gen", np.full_like(good["gen"], 1e9), "genesis partners"),
    ):
        damaged = dict(good, **{name: value})
        np.savez(tmp_path / f"damaged_{name}.npz", **damaged)
        with pytest.raises(ValueError, match=match):
            Simulation.load(tmp_path / f"damaged_{name}.npz")
    is_ = good["is_"].copy()
    is_[K.I_HOT] = 10**6
    fs = good["fs"].copy()
    fs[K.F_RHOT] += 1.0
    tree = good["tree"].copy()
    tree[-1] += 1.0
    for name, value, match in (("is_", is_, "hot void index"), ("fs", fs, "rate tree"), ("tree", tree, "rate tree")):
        np.savez(tmp_path / f"bad_{name}.npz", **dict(good, **{name: value}))
        with pytest.raises(ValueError, match=match):
            Simulation.load(tmp_path / f"bad_{name}.npz")
    # a state of the previous format (another event order) is refused, not resumed differently
    meta = json.loads(bytes(good["_meta"]).decode())
    old = dict(good, _meta=np.frombuffer(json.dumps(dict(meta, format="dplm-explore-state/1")).encode(), dtype=np.uint8))
    np.savez(tmp_path / "old.npz", **old)
    with pytest.raises(ValueError, match="format 'dplm-explore-state/1'; expected 'dplm-explore-state/3'"):
        Simulation.load(tmp_path / "old.npz")
    del data["rng"]
    np.savez(tmp_path / "partial.npz", **data)
    with pytest.raises(ValueError, match="lacks arrays"):
        Simulation.load(tmp_path / "partial.npz")


def test_save_never_overwrites(tmp_path):
    sim = small()
    p = sim.save(tmp_path / "run.npz")
    before = p.read_bytes()
    sim.advance(100)
    with pytest.raises(FileExistsError):
        sim.save(p)
    assert p.read_bytes() == before
    sim.save(p, overwrite=True)
    assert p.read_bytes() != before


# ---------------------------------------------------------------------------- construction
def test_realised_counts_and_labels():
    sim = Simulation.create(L=30, phi_v=0.031, T_I=0.2, seed=1)
    assert sim.params.n_voids == round(0.031 * 900) == 28
    assert sim.params.phi_v_realised == pytest.approx(28 / 900)
    occ = sim.occ
    assert sorted(occ[occ >= 0]) == list(range(sim.params.n_particles))
    assert sorted(-occ[occ < 0] - 1) == list(range(28))


def test_genesis_bonds_are_stored_for_every_neighbour_pair():
    sim = Simulation.create(L=10, phi_v=0.05, T_I=0.05, seed=2)
    occ, nbr = sim.occ, sim.nbr
    for s in range(occ.size):
        for d in range(4):
            p, q = occ[s], occ[nbr[s, d]]
            if p >= 0 and q >= 0:
                assert q in sim.gpart[p]
                j = list(sim.gpart[p]).index(q)
                assert sim.pair_V(p, q) == sim.gV[p, j] == sim.pair_V(q, p)


# ---------------------------------------------------------------------------- dynamics
REF_CASES = [
    dict(L=8, phi_v=0.1, T_I=0.3),
    dict(L=6, phi_v=0.25, T_I=0.05),  # crowded voids: neighbour updates and caches
    dict(L=7, phi_v=0.15, T_I=0.1, g=FermiGauss()),  # tabulated inverse cdf
    dict(L=5, phi_v=0.2, T_I=0.1, g=UniformDelta(0.3)),  # atom in g
    dict(L=3, phi_v=0.35, T_I=0.3),  # smallest lattice, 3 voids: scan regions wrap onto themselves
    dict(L=12, phi_v=0.03, T_I=0.08),  # 4 voids, mostly isolated TLS: the hot void and ~170 hand-overs
]


@pytest.mark.parametrize("kw", REF_CASES, ids=lambda kw: f"L{kw['L']}-phi{kw['phi_v']}")
def test_kernel_agrees_with_reference_event_by_event(kw):
    sim = Simulation.create(seed=11, **kw)
    ref = ReferenceKMC(sim)
    n = 1500
    log, ts = record_events(sim, n)
    assert len(log) == n
    for i in range(n):
        v, d, t = ref.step()
        assert (v, d) == tuple(log[i]), f"event {i} differs"
        assert t == pytest.approx(ts[i], rel=1e-10)
    assert list(sim.occ) == ref.occ
    assert sim.energy == pytest.approx(ref.E, abs=1e-9)
    assert sim.cache_hits > 0
    assert ref.hot >= 0 and sim.is_[K.I_HOT] == ref.hot


def test_incremental_energy_matches_recomputation_after_1e6_hops():
    sim = Simulation.create(L=32, phi_v=0.02, T_I=0.15, seed=5)
    N, Nv = sim.params.n_particles, sim.params.n_voids
    sim.advance(1_000_000)
    assert sim.hops == 1_000_000
    assert sim.energy == pytest.approx(sim.energy_from_scratch(), abs=1e-9)
    _assert_matches_rebuild(sim)
    # conservation: every label once, bond cache consistent
    occ = sim.occ
    assert np.array_equal(np.sort(occ[occ >= 0]), np.arange(N))
    assert np.array_equal(np.sort(-occ[occ < 0] - 1), np.arange(Nv))
    assert np.array_equal(occ[sim.ppos], np.arange(N))
    voids = occ < 0
    assert sim.bond[voids].sum() == 0 and sim.bond[sim.nbr[voids, 2], 0].sum() == 0 and sim.bond[sim.nbr[voids, 3], 1].sum() == 0
    assert sim.bond.sum() == pytest.approx(sim.energy, abs=1e-9)
    # displacements are consistent with positions (unwrapped mod L)
    L = sim.params.L
    xy = sim.particle_positions() % L
    assert np.array_equal(xy[:, 0] + L * xy[:, 1], sim.ppos)
    assert sim.hops_p.sum() == sim.hops_v.sum() == sim.hops


def test_spawned_seed_sequences_give_distinct_replicas():
    children = np.random.SeedSequence(5).spawn(3)
    sims = [small(seed=c) for c in children]
    assert len({s.seed for s in sims}) == 3
    assert not np.array_equal(sims[0].occ, sims[1].occ)
    # and a child always maps to the same recorded seed
    assert small(seed=np.random.SeedSequence(5).spawn(3)[1]).seed == sims[1].seed


def test_same_seed_same_trajectory_different_seed_different():
    a, b, c = (Simulation.create(L=16, phi_v=0.03, T_I=0.12, seed=s) for s in (3, 3, 4))
    for sim in (a, b, c):
        sim.advance(50_000)
    assert np.array_equal(a.occ, b.occ) and a.t == b.t and a.energy == b.energy
    assert np.array_equal(a.rng, b.rng)
    assert not np.array_equal(a.occ, c.occ)


def test_incremental_state_equals_a_rebuild_through_temperature_steps():
    """Dense voids on tiny lattices, low T (many cache hits), a program of random temperature
    steps: after every chunk the kernel's rates, energy changes, pair tables, bonds and tree equal
    a rebuild from scratch (stale caches would show up here as soon as one is restored)."""
    from dplm_explore.schedules import Program

    rng = np.random.default_rng(0)
    for L, phi in ((3, 0.35), (4, 0.4), (5, 0.3), (6, 0.5)):
        steps = tuple(Hold(float(T), 2e-7) for T in rng.uniform(0.03, 0.6, 40)) + (Hold(0.05),)
        sim = Simulation.create(L=L, phi_v=phi, T_I=0.1, seed=L, program=Program(steps))
        for _ in range(60):
            sim.advance(int(rng.integers(1, 40)))
            _assert_matches_rebuild(sim)
        assert sim.cache_hits > 0


def _assert_matches_rebuild(sim):
    """The incrementally kept bonds, rates, energy changes, pair tables and tree equal a rebuild
    from the configuration (stale caches would show up as soon as one is restored)."""
    from dplm_explore.kmc import _kernel as K

    itr = ST.group(sim, "interactions")
    bond = np.zeros_like(sim.bond)
    K._init_bonds(sim.occ, sim.nbr, bond, itr)
    assert np.array_equal(bond, sim.bond)
    rt, ca, pg = (ST.copied(ST.group(sim, name)) for name in ("rates", "cache", "program"))
    K._all_rates(ST.group(sim, "lattice"), itr, rt, ca, pg, sim.params.w0, sim.T)
    for n in ("rates", "dEs", "pw", "tree"):
        assert np.array_equal(getattr(rt, n), getattr(sim, n)), n
    assert pg.fs[K.F_RHOT] == sim.fs[K.F_RHOT]
    assert sim.energy == pytest.approx(sim.energy_from_scratch(), abs=1e-9)


def _word(key):
    """Directions of the hops a cache word names, from its root."""
    return [(int(key) >> (2 * i)) & 3 for i in range(int(key) >> K.DEPTH_SHIFT)]


def _assert_cache_slots_hold_their_configurations(sim):
    """Every filled slot, replayed: undo the void's hops back to the common root prefix, make the
    slot's hops, and the void's site, pair table, rates and energy changes there, recomputed from
    scratch, equal the slot's; its site carries the void's mark."""
    checked = 0
    for v in range(sim.params.n_voids):
        cur = _word(sim.word[v])
        for j in range(K.KC):
            if sim.c_key[v, j] < 0:
                continue
            target = _word(sim.c_key[v, j])
            n = 0
            while n < min(len(cur), len(target)) and cur[n] == target[n]:
                n += 1
            moves = [(d + 2) & 3 for d in reversed(cur[n:])] + target[n:]
            occ, vpos = sim.occ.copy(), sim.vpos.copy()
            for d in moves:  # void v hops in direction d: the particle there takes its place
                y = vpos[v]
                s = sim.nbr[y, d]
                assert occ[s] >= 0, "a slot's path runs through another void"
                occ[y], occ[s] = occ[s], -(v + 1)
                vpos[v] = s
            assert sim.c_site[v, j] == vpos[v]
            assert sim.cown[vpos[v]] == v
            itr = ST.group(sim, "interactions")
            bond = np.zeros_like(sim.bond)
            K._init_bonds(occ, sim.nbr, bond, itr)
            Nv = sim.params.n_voids
            rt = ST.Rates(rates=np.zeros((Nv, 4)), dEs=np.zeros((Nv, 4)), tree=np.zeros_like(sim.tree), pw=np.zeros((Nv, 6)))
            lat = ST.group(sim, "lattice")._replace(occ=occ, vpos=vpos, bond=bond)
            K._all_rates(lat, itr, rt, ST.copied(ST.group(sim, "cache")), ST.copied(ST.group(sim, "program")), sim.params.w0, sim.T)
            pw, rates, dEs = rt.pw, rt.rates, rt.dEs
            row = sim.c_dat[v, j]
            assert np.array_equal(row[K.C_PW:K.C_PW + 6], pw[v]), (v, j, moves)
            assert np.array_equal(row[K.C_RATE:K.C_RATE + 4], rates[v]), (v, j, moves)
            assert np.array_equal(row[K.C_DE:K.C_DE + 4], dEs[v]), (v, j, moves)
            checked += 1
    return checked


def test_every_cache_slot_holds_the_rates_of_its_configuration():
    """The node cache is a pure memo: crowded voids (slots dropped by neighbours), walks that come
    back by other ways (a site reached again after a loop is another configuration), random
    temperature steps (cached rates rescaled), checked slot by slot against a replay."""
    from dplm_explore.schedules import Program

    rng = np.random.default_rng(3)
    checked = deep = 0
    for L, phi, T in ((4, 0.25, 0.1), (6, 0.12, 0.3), (8, 0.05, 0.5), (10, 0.04, 0.15)):
        steps = tuple(Hold(float(T), 2e-7) for T in rng.uniform(0.05, 0.8, 40)) + (Hold(T),)
        sim = Simulation.create(L=L, phi_v=phi, T_I=T, seed=L, program=Program(steps))
        for _ in range(40):
            sim.advance(int(rng.integers(1, 300)))
            checked += _assert_cache_slots_hold_their_configurations(sim)
            full = sim.c_key[sim.c_key >= 0]
            deep += int(np.sum((full >> K.DEPTH_SHIFT) >= 3))
    assert checked > 300 and deep > 20


@pytest.mark.parametrize("L, phi_v, T, seed", [(16, 0.05, 0.05, 1), (24, 0.03, 0.08, 3), (32, 0.02, 0.15, 5)])
def test_incremental_state_equals_a_rebuild_on_larger_lattices(L, phi_v, T, seed):
    """Void pairs rocking a particle between them (restored neighbour states), isolated TLS
    (restored own states) and wandering voids, over 2e5 hops, checked every 2000 hops."""
    sim = Simulation.create(L=L, phi_v=phi_v, T_I=T, seed=seed)
    for _ in range(100):
        sim.advance(2000)
        _assert_matches_rebuild(sim)


def test_chunking_does_not_change_the_trajectory():
    a = small(seed=9)
    b = small(seed=9)
    a.advance(30_000)
    for n in (1, 2, 997, 10_000, 19_000):
        b.advance(n)
    b.advance(30_000 - b.hops)
    assert np.array_equal(a.occ, b.occ) and a.t == b.t and a.energy == b.energy
    # stopping by simulated time keeps the pending waiting time: still the same trajectory, and
    # tiny time chunks (shorter than most waiting times) still move the clock forward
    c = small(seed=9)
    dt = 0.3 / c.total_rate
    n_calls = 0
    while c.hops < 30_000:
        rep = c.advance(30_000 - c.hops, time=dt if n_calls % 2 else a.t / 7)
        n_calls += 1
        assert rep.reason in ("time", "hops")
    assert np.array_equal(a.occ, c.occ) and a.t == c.t and a.energy == c.energy


def test_isolated_tls_loop_equals_the_general_path_bit_for_bit():
    """Calls of one hop never enter the kernel's register loop for an isolated back-and-forth
    void; one long call mostly runs in it. Both must leave every state array, accumulator, tracer
    sample and logged event identical, through temperature-step ends and time limits."""
    from dplm_explore.kmc.engine import _STATE_ARRAYS

    def make():
        sim = Simulation.create(L=16, phi_v=0.02, T_I=0.06, seed=8, program=cooling(0.06, 0.04, 1e-5, dT_step=0.0005))
        sim.track(voids=[0, 2], particles=[int(sim.occ[sim.nbr[sim.vpos[0], 0]])], interval=0.5, capacity=100_000)
        return sim

    n = 10_000
    a, b = make(), make()
    log_a, t_a = a.record_events(n)
    logs = [b.record_events(1) for _ in range(n)]
    log_b = np.concatenate([lg for lg, _ in logs])
    assert np.array_equal(log_a, log_b) and np.array_equal(t_a, np.concatenate([t for _, t in logs]))
    # the register loop had work: long runs of one void rocking back and forth
    v, d = log_a[:, 0], log_a[:, 1]
    back = (v[1:] == v[:-1]) & (d[1:] == (d[:-1] + 2) % 4)
    assert back.mean() > 0.6
    for name in _STATE_ARRAYS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    # stops by time land on the same state as well (a stop splits a stretch of the clock in two,
    # which may move the last bit of the time-weighted energy sums, and only that)
    dt = 0.5 * a.t / n
    a.advance(5000)
    while b.hops < a.hops:
        b.advance(min(a.hops - b.hops, 3), time=dt)
    assert a.hops == n + 5000 and a.temperature_bins()["T"].size >= 4  # several program steps
    for name in _STATE_ARRAYS:
        if name == "acc_f":
            np.testing.assert_allclose(a.acc_f, b.acc_f, rtol=1e-12)
        else:
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for xa, xb in zip(a.samples(), b.samples()):
        assert xa.size > 0 and np.array_equal(xa, xb)


def test_time_limits_stop_the_clock_exactly_and_respect_step_ends():
    from dplm_explore.schedules import Program

    sim = small(seed=1, T_I=0.05)
    total = sim.total_rate
    sim.set_program(Program((Hold(0.05, 0.5 / total), Hold(0.5, 100 / total), Hold(0.05))))
    rep = sim.advance(time=0.1 / total)
    assert rep.reason == "time"
    assert sim.t == pytest.approx(0.1 / total) and sim.T == 0.05  # the step at 0.5 has not begun
    t_before = sim.t
    hops = sum(sim.advance(time=0.01 / total).hops for _ in range(20))
    assert sim.t == pytest.approx(t_before + 0.2 / total)  # no livelock: the clock moves
    assert hops >= 0
    # the bins account for every unit of time, stopped or not
    assert sim.temperature_bins()["time"].sum() == pytest.approx(sim.t - 0.0, rel=1e-12)


def test_save_resume_is_bit_for_bit(tmp_path):
    prog = cooling(0.2, 0.1, 2.0, dT_step=0.01)
    a = Simulation.create(L=16, phi_v=0.03, T_I=0.2, seed=21, program=prog)
    b = Simulation.create(L=16, phi_v=0.03, T_I=0.2, seed=21, program=prog)
    a.track(voids=[0, 1], particles=[5], interval=1e-5)
    b.track(voids=[0, 1], particles=[5], interval=1e-5)
    a.advance(40_000)
    b.advance(15_000)
    tb, pb, vb = b.samples()  # read before the save: the resumed run holds only what follows
    path = b.save(tmp_path / "mid.npz")
    c = Simulation.load(path)
    c.advance(25_000)
    assert c.hops == a.hops == 40_000
    ta, pa, va = a.samples()
    tc, pc, vc = c.samples()
    for name in ("occ", "rng", "fs", "is_", "acc_f", "acc_i", "void_time", "disp_p", "disp_v", "bond", "rates"):
        assert np.array_equal(getattr(a, name), getattr(c, name)), name
    assert ta.size > 100
    assert np.array_equal(ta, np.concatenate([tb, tc]))
    assert np.array_equal(va, np.concatenate([vb, vc]))
    assert c.provenance()["seed"] == 21 and "numba" in c.provenance()


def test_a_format_2_state_resumes_on_the_trajectory_format_2_ran():
    """Both files were written by the engine of commit 06496f6 (state format 2: one-entry
    back-and-forth cache, every bond stored twice), at hop 3000 and, continuing the same run, at
    hop 7000 of a cooling program. Loaded now (empty node caches) and advanced 4000 hops, the
    first must reach the second: caches are a memo, so only the cache-hit count may differ."""
    from pathlib import Path

    data = Path(__file__).parent / "data"
    sim = Simulation.load(data / "state_format2_hop3000.npz")
    assert sim.hops == 3000 and np.all(sim.c_key == -1) and sim.bond.shape[1] == 2
    sim.advance(4000)
    with np.load(data / "state_format2_hop7000.npz") as z:
        later = {k: z[k] for k in z.files}
    later["bond"] = later["bond"][:, :2]
    for name in ("occ", "rng", "fs", "acc_f", "acc_i", "void_time", "disp_p", "disp_v", "bond", "tree", "rates", "dEs", "pw", "hops_p"):
        assert np.array_equal(getattr(sim, name), later[name]), name
    is_ = sim.is_.copy()
    is_[K.I_CACHE_HITS] = later["is_"][K.I_CACHE_HITS]
    assert np.array_equal(is_, later["is_"]) and sim.T < sim.step_T[0]  # several program steps


def test_tabulated_g_resumes_bit_for_bit(tmp_path):
    from dplm_explore import g_from_pdf

    g = g_from_pdf(lambda v: 1 + np.sin(3 * v) ** 2, 0.0, 1.2, atoms=((0.9, 0.1),))
    a = Simulation.create(L=10, phi_v=0.1, g=g, T_I=0.2, seed=4)
    b = Simulation.create(L=10, phi_v=0.1, g=g, T_I=0.2, seed=4)
    a.advance(6000)
    b.advance(2500)
    c = Simulation.load(b.save(tmp_path / "tab.npz"))
    c.advance(3500)
    assert np.array_equal(a.occ, c.occ) and a.energy == c.energy and np.array_equal(a.rng, c.rng)


def test_program_steps_temperature_and_accumulators():
    prog = cooling(0.3, 0.1, 1e3, dT_step=0.05)  # 4 steps of 5e-5 time units
    sim = Simulation.create(L=16, phi_v=0.03, T_I=0.3, seed=2, program=prog)
    rep = sim.advance()
    assert rep.reason == "program-end"
    bins = sim.temperature_bins()
    assert np.allclose(bins["T"], [0.275, 0.225, 0.175, 0.125])
    assert np.allclose(bins["time"], 5e-5, rtol=1e-9)
    assert bins["hops"].sum() == sim.hops
    assert sim.t == pytest.approx(2e-4, rel=1e-12)
    # a new program continues from the current time; history is kept
    sim.set_program(constant(0.1, duration=1e-5))
    sim.advance()
    assert sim.temperature_bins()["T"].size == 5


def test_until_T_and_wall_limits():
    prog = cooling(0.3, 0.1, 1e3, dT_step=0.01)
    sim = Simulation.create(L=16, phi_v=0.03, T_I=0.3, seed=2, program=prog)
    sim.advance(until_T=0.2)
    # the ramp crosses 0.2 at t = 0.1 / nu, where the step held at 0.195 begins
    assert sim.T == pytest.approx(0.195)
    assert sim.t == pytest.approx(0.1 / 1e3, rel=1e-9)
    rep = sim.advance(wall=0.05)
    assert rep.reason in ("wall", "program-end")


def test_void_occupation_and_tracers():
    sim = small(seed=4)
    sim.track(voids=range(sim.params.n_voids), interval=1e-6, capacity=50)
    sim.advance(20_000)
    occ_time = sim.void_occupation()
    assert occ_time.sum() == pytest.approx(sim.params.n_voids * sim.t, rel=1e-9)
    t, xp, xv = sim.samples()
    assert t.size == int(sim.t / 1e-6) or t.size == int(sim.t / 1e-6) + 1
    assert np.all(np.diff(t) > 0)
    # the last sample's void positions are at most a few hops from the current positions
    assert np.abs(xv[-1] - sim.void_positions()).sum(-1).max() <= 20


def test_unread_tracer_samples_travel_with_a_saved_state(tmp_path):
    from dplm_explore import Simulation, constant

    sim = Simulation.create(L=20, phi_v=0.02, T_I=0.1, seed=4, program=constant(0.1))
    sim.track(voids=[0, 1], particles=[3], interval=1e-6)
    sim.advance(20_000)
    path = sim.save(tmp_path / "s.npz")
    t0, p0, v0 = sim.samples()
    assert t0.size > 0
    t1, p1, v1 = Simulation.load(path).samples()
    assert np.array_equal(t0, t1) and np.array_equal(p0, p1) and np.array_equal(v0, v1)
