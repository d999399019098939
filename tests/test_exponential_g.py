"""The exponential g(V), added as one class in ``interactions``: its sampling as physics (KS tests
against its closed-form cdf, with negative controls), and every consumer taking it unchanged
(command line, SystemParams' JSON form, state files, the sweep, the app's configuration)."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from dplm_explore import Simulation
from dplm_explore.app.runner import SystemConfig
from dplm_explore.cli import main
from dplm_explore.interactions import Exponential, Uniform, _ginv, g_families, g_from_dict, make_g
from dplm_explore.sweep import plan_sweep, run_sweep
from dplm_explore.system import SystemParams

LAM, DV = 0.2, 1.0
#: KS p-values: a correct sampler must pass at this level, a wrong one must fail far below it
P_PASS, P_FAIL = 1e-3, 1e-8


def truncated_exponential_cdf(lam, V0=0.0, dV=DV):
    """Closed form of P(V' <= V) for a density proportional to exp(-(V - V0)/lam) on [V0, V0 + dV]."""
    def cdf(V):
        x = np.clip(np.asarray(V, float) - V0, 0.0, dV)
        return np.expm1(-x / lam) / math.expm1(-dV / lam)
    return cdf


@pytest.fixture
def g():
    return make_g("exponential", lambda_V=LAM, dV=DV)


def test_samples_follow_the_closed_form_cdf(g):
    x = g.sample(20_000, np.random.default_rng(7))
    assert x.min() >= 0.0 and x.max() <= DV
    assert stats.kstest(x, truncated_exponential_cdf(LAM)).pvalue > P_PASS
    # negative controls: the same samples against a 25 % longer decay, and against uniform g
    assert stats.kstest(x, truncated_exponential_cdf(1.25 * LAM)).pvalue < P_FAIL
    assert stats.kstest(x, Uniform(dV=DV).cdf).pvalue < P_FAIL
    lam_hat = np.mean(x)  # mean of the truncated exponential: lam - dV / (exp(dV/lam) - 1)
    assert lam_hat == pytest.approx(LAM - DV / math.expm1(DV / LAM), abs=4 * x.std() / math.sqrt(x.size))


def test_interactions_the_dynamics_sees_follow_g(g):
    # bonds="g": neighbour bonds are drawn from g too, so every pair's V is a draw from g
    sim = Simulation.create(40, 0.02, g=g, T_I=0.3, seed=11, bonds="g")
    rng = np.random.default_rng(3)
    N = sim.params.n_particles
    pairs = {tuple(sorted(rng.choice(N, 2, replace=False))) for _ in range(6000)}
    V = np.array([sim.pair_V(p, q) for p, q in sorted(pairs)])
    assert stats.kstest(V, truncated_exponential_cdf(LAM)).pvalue > P_PASS
    assert stats.kstest(V, truncated_exponential_cdf(0.8 * LAM)).pvalue < P_FAIL
    # the kernel's inverse cdf of g is the Python one
    kind, par, table = g.kernel_spec()
    for u in np.linspace(0.0, 1.0 - 1e-12, 41):
        assert _ginv(u, kind, par, table) == pytest.approx(g.ppf(u), abs=1e-9)


@pytest.mark.parametrize("T", [0.05, 0.3])
def test_equilibrium_bonds_are_boltzmann_weighted_g(g, T):
    # g(V) exp(-V/T) is again a truncated exponential, with 1/lam' = 1/lam + 1/T
    lam_eq = 1.0 / (1.0 / LAM + 1.0 / T)
    x = g.sample_peq(20_000, T, np.random.default_rng(5))
    assert stats.kstest(x, truncated_exponential_cdf(lam_eq)).pvalue > P_PASS
    assert stats.kstest(x, truncated_exponential_cdf(LAM)).pvalue < P_FAIL
    assert g.Z_b(T) == pytest.approx(lam_eq * -math.expm1(-DV / lam_eq) / (LAM * -math.expm1(-DV / LAM)), rel=1e-6)


def test_declared_and_validated_by_name():
    assert "exponential" in g_families()
    assert Exponential() == make_g("exponential", V0=0.0, dV=1.0, lambda_V=0.3)
    for kw, match in [({"lambda_V": 0.0}, "lambda_V must be positive; got 0.0"), ({"lambda_V": -1}, "lambda_V.*-1"), ({"dV": 0}, "dV.*0"),
                      ({"V0": float("inf")}, "V0.*inf"), ({"G0": 0.2}, "G0")]:
        with pytest.raises(ValueError, match=match):
            make_g("exponential", **kw)


def test_system_params_json_round_trip(g, tmp_path):
    p = SystemParams(L=12, phi_v=0.05, g=g, T_I=0.3)
    d = json.loads(json.dumps(p.to_dict()))
    assert d["g"] == {"family": "exponential", "V0": 0.0, "dV": DV, "lambda_V": LAM}
    assert SystemParams.from_dict(d) == p and g_from_dict(d["g"]) == g
    sim = Simulation.create(12, 0.05, g=g, T_I=0.3, seed=2)
    sim.advance(2000)
    back = Simulation.load(sim.save(tmp_path / "s.npz"))
    assert back.params == sim.params and back.energy == sim.energy
    assert back.advance(500).hops == sim.advance(500).hops and back.energy == sim.energy


def test_command_line(capsys, tmp_path):
    out = tmp_path / "run.npz"
    argv = ["run", "--L", "12", "--phi-v", "0.05", "--g", "exponential", "--lambda-V", str(LAM), "--T-I", "0.3", "--T", "0.3", "--hops", "2000",
            "--seed", "1", "--json", "--out", str(out)]
    assert main(argv) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["hops"] == 2000 and d["provenance"]["params"]["g"]["lambda_V"] == LAM
    assert Simulation.load(out).params.g == Exponential(lambda_V=LAM)
    for extra, match in [(["--G0", "0.3"], "--G0"), (["--lambda-V", "0"], "lambda_V")]:
        assert main(argv[:-2] + extra) == 2
        assert match in capsys.readouterr().err


def test_sweep(tmp_path):
    base = {"L": 12, "phi_v": 0.05, "g": "exponential", "T_I": 0.3, "T": 0.3, "hops": 3000}
    res = run_sweep("run", {"lambda_V": [0.1, 0.6]}, base=base, n_seeds=2, seed=9, workers=1, out_dir=tmp_path / "sw")
    assert res.done.all()
    e = res.table("e_mean")
    assert np.all(e[0] < e[1])  # a faster decay of g gives lower bond energies at every seed
    with pytest.raises(ValueError, match="lambda_V"):
        plan_sweep("run", {"lambda_V": [0.1]}, base={**base, "g": "uniform"})


def test_app_configuration():
    cfg = SystemConfig(L=12, phi_v=0.05, g_family="exponential", lambda_V=LAM, T_I=0.3)
    assert cfg.g() == Exponential(lambda_V=LAM)
    assert SystemConfig(**{**cfg.to_dict(), "lambda_V": 0.5}).changed(cfg) == ["lambda_V"]
    assert SystemConfig(**{**cfg.to_dict(), "G0": 0.5}).changed(cfg) == []
    with pytest.raises(ValueError, match="lambda_V"):
        SystemConfig(L=12, phi_v=0.05, g_family="exponential", lambda_V=-1.0, T_I=0.3)
