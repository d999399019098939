"""MSD, D(T), T_g and fragility (Fig. 5; docs/physics.md section 4)."""

import math

import numpy as np
import pytest

from dplm_explore.analysis import F_VACANCY, Diffusion, fit_diffusion_coefficient, glass_transition, glass_transition_chord, measure_diffusion
from dplm_explore.analysis import fragility
from dplm_explore.results import load_result


def test_high_T_diffusion_approaches_vacancy_limit(tmp_path):
    """Infinite-temperature limit (T = 1e4, random start) at phi_v = 0.005: D = phi_v w0 f with
    the square-lattice correlation factor f = 0.46694, within 5 % (replica scatter ~1 %); a
    random walk without correlations (f = 1) is excluded. w0 = 1 (D scales with w0)."""
    out = tmp_path / "d.npz"
    d = measure_diffusion(64, 0.005, [1e4], time=2e4, w0=1.0, n_replicas=4, seed=4, init="random", n_samples=20, out=out)
    limit = d.system["phi_v_realised"] * 1.0 * F_VACANCY
    assert d.D_f_limit == pytest.approx(limit)
    ratio = float(d.D[0] / limit)
    assert abs(ratio - 1) < 0.05, (ratio, d.D_err / limit)
    assert d.D_err[0] / limit < 0.03
    assert abs(d.D[0] / (limit / F_VACANCY) - 1) > 0.4
    # D scaled to w0 = 1e6
    assert d.D_scaled[0] == pytest.approx(d.D[0] * 1e6)
    # voids random-walk with D_v = w0 (4 unit hops per unit time in 2-d); 20 walkers: loose check
    assert d.D_voids[0] == pytest.approx(1.0, rel=0.5)
    got = load_result(out)
    assert isinstance(got, Diffusion) and got.complete and got.equals(d)


def test_fit_diffusion_coefficient():
    t = np.linspace(0, 10, 21)
    msd = 4 * 2.5 * t + 3.0  # plateau offset then diffusion
    assert fit_diffusion_coefficient(t, msd) == pytest.approx(2.5)
    assert fit_diffusion_coefficient(t, msd, method="ratio") == pytest.approx((100 + 3) / 40)
    with pytest.raises(ValueError, match="method must be"):
        fit_diffusion_coefficient(t, msd, method="other")
    with pytest.raises(ValueError, match="fit_from must lie"):
        fit_diffusion_coefficient(t, msd, fit_from=1.0)


def test_glass_transition_on_synthetic_vft_data():
    """Model-free T_g and m_k by interpolation reproduce a known VFT law between dense points,
    and fragility.fit_fragility (used for the fits) recovers the same."""
    A, B, T0 = 4.0, 0.5, 0.08
    T = np.linspace(0.13, 0.4, 40)
    D = 10 ** (A - B / (T - T0))
    Tg_exact = T0 + B / (A - math.log10(0.1))
    # log10 D = A - B u / (1 - T0 u), u = 1/T: m_k = (1/T_g) B / (1 - T0/T_g)^2
    mk_exact = B / (1 - T0 / Tg_exact) ** 2 / Tg_exact
    Tg, mk = glass_transition(T, D, 0.1)
    assert Tg == pytest.approx(Tg_exact, rel=1e-3)
    f = fragility.fit_fragility(T, D, "vft", 0.1)
    assert f.T_g == pytest.approx(Tg_exact, rel=1e-6)
    assert f.m_k == pytest.approx(mk_exact, rel=1e-6)
    assert mk == pytest.approx(mk_exact, rel=0.02)
    assert np.isnan(glass_transition(T, D, 1e-20)[0])


def test_glass_transition_local_derivative_on_coarse_grid():
    """On a coarse grid (dT = 0.05) the chord slope of the bracketing pair overestimates m_k by
    8 %; the local quadratic in 1/T (three nearest points, differentiated at 1/T_g) is within 3 %,
    and T_g is within 0.5 %."""
    A, B, T0 = 4.0, 0.5, 0.08
    T = np.arange(0.1, 0.401, 0.05)
    D = 10 ** (A - B / (T - T0))
    Tg_exact = T0 + B / (A - math.log10(0.1))
    mk_exact = B / (1 - T0 / Tg_exact) ** 2 / Tg_exact
    Tg, mk = glass_transition(T, D, 0.1)
    assert Tg == pytest.approx(Tg_exact, rel=5e-3)
    assert mk == pytest.approx(mk_exact, rel=0.03)
    # order does not matter; with only the bracketing pair the chord is all there is
    assert glass_transition(T[::-1], D[::-1], 0.1) == (Tg, mk)
    Tg2, mk2 = glass_transition(T[1:3], D[1:3], 0.1)
    u0, u1 = 1 / T[1], 1 / T[2]
    assert mk2 == pytest.approx(-(math.log10(D[2]) - math.log10(D[1])) / (u1 - u0) * (1 / Tg2))


def test_measure_diffusion_table_and_fits():
    """A small D(T) table at moderate T: D falls on cooling, every fit form is reported with its
    name, and T_g/m_k come out finite where D_r is bracketed (D_r chosen inside the data)."""
    d = measure_diffusion(16, 0.03, [0.25, 0.3, 0.4, 0.6], hops=60_000, n_samples=10, seed=1, forms=("vft", "parabolic"), D_r=300.0)
    assert np.all(np.diff(d.D) > 0)
    assert set(d.fits) == {"vft", "parabolic"} and all(v["form"] == k for k, v in d.fits.items())
    assert math.isfinite(d.T_g) and 0.25 < d.T_g < 0.6 and d.m_k > 0
    assert d.seeds.shape == (4, 1) and len(set(d.seeds.ravel().tolist())) == 4
    with pytest.raises(ValueError, match="exactly one of time and hops"):
        measure_diffusion(8, 0.05, [0.3], seed=1)
    with pytest.raises(ValueError, match="forms must be among"):
        measure_diffusion(8, 0.05, [0.3], hops=10, forms=("arrhenius",))


@pytest.mark.parametrize("kw, msg", [({"fit_from": 1.5}, "fit_from must lie"), ({"fit_from": "x"}, "fit_from must be a number"),
                                     ({"method": "other"}, "method must be"), ({"equilibrate_hops": 2.5}, "equilibrate_hops must be an integer")])
def test_measure_diffusion_validates_before_running(monkeypatch, kw, msg):
    """fit_from, method and the integer options are checked before any simulation runs."""
    import dplm_explore.sweep as sweep

    def no_runs(*a, **k):
        raise AssertionError("simulations were started")

    monkeypatch.setattr(sweep, "map_tasks", no_runs)
    with pytest.raises(ValueError, match=msg):
        measure_diffusion(8, 0.05, [0.3], hops=10, seed=1, **kw)


@pytest.mark.parametrize("kw, msg", [({"method": "other"}, "method must be"), ({"fit_from": -0.1}, "fit_from must lie"), ({"hops": 10.5}, "hops must be an integer")])
def test_measure_msd_validates_before_running(kw, msg):
    from dplm_explore import Simulation
    from dplm_explore.analysis import measure_msd
    from dplm_explore.schedules import constant

    sim = Simulation.create(8, 0.05, T_I=0.3, seed=1, program=constant(0.3))
    kw = {"hops": 200, **kw}
    with pytest.raises(ValueError, match=msg):
        measure_msd(sim, n_samples=4, **kw)
    assert sim.hops == 0


def test_glass_transition_chord_is_exact_on_an_arrhenius_law_and_overestimates_a_vft_law():
    """The chord of the bracketing pair: exact for log10 D linear in 1/T (Arrhenius: m_k =
    E / (T_g ln 10)); on the coarse VFT grid above it exceeds the exact m_k by 5-12 %, more than
    the local quadratic's error; it equals the two-point glass_transition."""
    E, A = 2.0, 5.0
    T = np.arange(0.1, 0.401, 0.05)
    D = 10 ** (A - E / (T * math.log(10)))
    Tg_exact = E / (math.log(10) * (A + 1))
    Tg, mk = glass_transition_chord(T, D, 0.1)
    assert Tg == pytest.approx(Tg_exact, rel=1e-12) and mk == pytest.approx(E / (Tg_exact * math.log(10)), rel=1e-12)
    Av, B, T0 = 4.0, 0.5, 0.08
    Dv = 10 ** (Av - B / (T - T0))
    Tg_v = T0 + B / (Av - math.log10(0.1))
    mk_v = B / (1 - T0 / Tg_v) ** 2 / Tg_v
    chord, local = glass_transition_chord(T, Dv, 0.1)[1], glass_transition(T, Dv, 0.1)[1]
    assert 1.05 < chord / mk_v < 1.12 and abs(chord - mk_v) > abs(local - mk_v)
    assert glass_transition_chord(T[1:3], Dv[1:3], 0.1) == pytest.approx(glass_transition(T[1:3], Dv[1:3], 0.1))
    assert np.isnan(glass_transition_chord(T, Dv, 1e-30)[1])
