"""One schema for a system: declared g parameters, the one normalisation of g, SystemParams'
JSON form, and the run options."""

import argparse
import json
import math
from dataclasses import dataclass

import numpy as np
import pytest

from dplm_explore.app.runner import SystemConfig
from dplm_explore.cli_options import add_g_options, g_from_args
from dplm_explore.interactions import (G_FAMILIES, FermiGauss, GDistribution, Uniform, UniformDelta, as_g, g_families, g_from_dict, g_param,
                                       g_parameters, make_g)
from dplm_explore.parallel import RunOptions
from dplm_explore.system import SystemParams
from dplm_explore.tasks import system_keys, task_g


@pytest.mark.parametrize("family", g_families())
def test_declared_parameters_are_complete(family):
    params = g_parameters(family)
    assert params, family
    g = make_g(family)
    assert g.to_dict() == {"family": family, **{p.name: p.default for p in params}}
    for p in params:
        assert p.help and p.check(p.default) == p.default
        lo, hi = p.bounds
        assert lo < hi
        if math.isfinite(lo) and p.lo_open:
            with pytest.raises(ValueError, match=rf"^{p.name} must .*got {lo!r}$"):
                make_g(family, **{p.name: lo})
        if math.isfinite(hi):
            with pytest.raises(ValueError, match=p.name):
                make_g(family, **{p.name: hi + 1.0})
        with pytest.raises(ValueError, match=rf"^{p.name} must be finite; got nan$"):
            make_g(family, **{p.name: float("nan")})


def test_every_consumer_offers_every_declared_parameter():
    names = {p.name for p in g_parameters()}
    assert names == {p.name for fam in g_families() for p in g_parameters(fam)}
    parser = argparse.ArgumentParser()
    add_g_options(parser)
    dests = {a.dest for a in parser._actions}
    assert names <= dests and "g" in dests
    assert names <= system_keys()
    cfg_fields = set(SystemConfig.__dataclass_fields__)
    assert names <= cfg_fields
    for fam in g_families():
        cfg = SystemConfig(L=10, phi_v=0.05, g_family=fam)
        assert cfg.g() == make_g(fam)
        args = parser.parse_args(["--g", fam])
        assert g_from_args(args) == make_g(fam)


def test_as_g_is_the_one_rule_set():
    fg = FermiGauss(0.3, 0.05, 1.0)
    assert as_g() == Uniform()
    assert as_g(None, dV=2.0) == Uniform(dV=2.0)
    assert as_g("uniform-delta", G0=0.4) == UniformDelta(0.4)
    assert as_g("fermi-plus-gaussian") == FermiGauss()
    assert as_g(fg) is fg
    assert as_g(fg.to_dict()) == fg
    assert task_g({"g": "fermi-gauss", "G0": 0.3, "sigma_V": 0.05}) == fg
    assert task_g({"g": fg.to_dict()}) == fg
    bad = [
        (lambda: as_g(fg, G0=0.1), "G0"),
        (lambda: as_g(fg.to_dict(), dV=2.0), "dV"),
        (lambda: as_g(3.0), "g must be a GDistribution.*3.0"),
        (lambda: as_g({"G0": 0.2}), "'family'"),
        (lambda: as_g("lorentzian"), "g family .*'lorentzian'"),
        (lambda: as_g("uniform", sigma_V=0.1), "sigma_V"),
        (lambda: task_g({"g": fg.to_dict(), "G0": 0.1}), "G0"),
    ]
    for call, match in bad:
        with pytest.raises(ValueError, match=match):
            call()


def test_a_new_family_is_one_class():
    @dataclass(frozen=True)
    class Triangle(GDistribution):
        dV: float = g_param(1.0, lo=0.0, lo_open=True, help="width dV of the interaction range")
        family = "test-triangle"

        @property
        def support(self):
            return (0.0, self.dV)

        def density(self, V):
            V = np.asarray(V, float)
            return np.where((V >= 0) & (V <= self.dV), 2.0 * (self.dV - V) / self.dV**2, 0.0)

    try:
        assert "test-triangle" in g_families()
        g = make_g("test-triangle", dV=2.0)
        assert g_from_dict(json.loads(json.dumps(g.to_dict()))) == g
        assert g.mean() == pytest.approx(2.0 / 3.0, rel=1e-6)
        parser = argparse.ArgumentParser()
        add_g_options(parser)
        assert g_from_args(parser.parse_args(["--g", "test-triangle", "--dV", "2"])) == g
        with pytest.raises(ValueError, match="--G0"):
            g_from_args(parser.parse_args(["--g", "test-triangle", "--G0", "0.5"]))
        assert task_g({"g": "test-triangle", "dV": 2.0}) == g
        with pytest.raises(ValueError, match="dV must be positive; got -1"):
            make_g("test-triangle", dV=-1)
        with pytest.raises(ValueError, match="taken"):
            type("Other", (Uniform,), {"family": "test-triangle"})
    finally:
        G_FAMILIES.pop("test-triangle", None)


def test_system_params_json_form():
    p = SystemParams(L=12, phi_v=0.05, g=FermiGauss(0.3), T_I=0.2, w0=1e5)
    d = json.loads(json.dumps(p.to_dict()))
    assert list(d) == list(SystemParams.keys())
    assert SystemParams.from_dict(d) == p
    with pytest.raises(ValueError, match="'colour'"):
        SystemParams.from_dict({**d, "colour": "red"})
    with pytest.raises(ValueError, match="g must be a g\\(V\\) distribution.*'uniform'"):
        SystemParams(L=12, phi_v=0.05, g="uniform", T_I=0.2)


def test_run_options():
    assert RunOptions.resolve(None, {}, caller="f") == RunOptions()
    assert RunOptions.resolve(None, {"workers": 2, "out_dir": "x"}, caller="f", renamed={"out_dir": "out"}) == RunOptions(workers=2, out="x")
    assert RunOptions.resolve(None, {}, caller="f", defaults={"workers": None}).workers is None
    r = RunOptions(workers=0, progress=False)
    assert RunOptions.resolve(r, {}, caller="f") is r
    with pytest.raises(ValueError, match="not both"):
        RunOptions.resolve(r, {"workers": 2}, caller="f")
    with pytest.raises(TypeError, match="f\\(\\) got an unexpected keyword argument 'wokers'"):
        RunOptions.resolve(None, {"wokers": 2}, caller="f")
    with pytest.raises(ValueError, match="f cannot resume"):
        RunOptions.resolve(RunOptions(resume=True, out="x"), {}, caller="f", resumable=False)
    for kw, match in [({"workers": -1}, "workers.*-1"), ({"workers": 1.5}, "workers.*1.5"), ({"resume": "yes"}, "resume.*'yes'"), ({"out": 3}, "out.*3")]:
        with pytest.raises(ValueError, match=match):
            RunOptions(**kw)


def test_measurements_take_run_options(tmp_path):
    from dplm_explore.analysis import measure_diffusion
    from dplm_explore.sweep import run_sweep

    base = {"L": 10, "phi_v": 0.05, "T_I": 0.3, "hops": 200}
    a = run_sweep("run", {"T": [0.3]}, base=base, seed=4, run=RunOptions(workers=1, out=tmp_path / "a"))
    b = run_sweep("run", {"T": [0.3]}, base=base, seed=4, workers=1, out_dir=tmp_path / "b")
    assert (tmp_path / "a" / "sweep.npz").exists() and (tmp_path / "b" / "sweep.npz").exists()
    assert np.array_equal(a.outputs["e_final"], b.outputs["e_final"])
    with pytest.raises(ValueError, match="measure_diffusion cannot resume"):
        measure_diffusion(10, 0.05, [0.3], hops=100, run=RunOptions(out=tmp_path / "d.npz", resume=True))


def test_continuing_a_saved_system_refuses_every_g_option(tmp_path, capsys):
    from dplm_explore import Simulation
    from dplm_explore.cli import main

    state = Simulation.create(10, 0.05, T_I=0.3, seed=1).save(tmp_path / "s.npz")
    for p in g_parameters():
        flag = f"--{p.name.replace('_', '-')}"
        assert main(["run", "--resume", str(state), flag, str(p.default), "--hops", "10", "--json"]) == 2
        assert flag in capsys.readouterr().err
        assert main(["tls", "--state", str(state), flag, str(p.default), "--hops", "10", "--out", str(tmp_path / "t.npz"), "--json"]) == 2
        assert flag in capsys.readouterr().err


def test_every_command_takes_its_system_options_from_the_declaration():
    """One flag, help text, check and default per system parameter (SystemParams' declaration),
    a command overriding only defaults and which options it requires."""
    from dplm_explore.cli import UsageError, build_parser
    from dplm_explore.cli_options import option_flag
    from dplm_explore.system import W0_DEFAULT, system_parameters

    declared = system_parameters()
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    takes: dict[str, set] = {}
    for cmd, p in sub.choices.items():
        for a in p._actions:
            if a.dest in declared and a.option_strings:
                takes.setdefault(a.dest, set()).add(cmd)
                assert a.option_strings == [option_flag(a.dest)] and a.help.startswith(declared[a.dest].help), (cmd, a.dest)
    new_system = {"run", "app", "cool", "diffusion", "tls", "returns", "occupation", "hop-energy"}
    assert takes["L"] == new_system and takes["w0"] == new_system | {"theory"} and takes["init"] == {"run", "app", "cool", "diffusion"}

    def option(cmd, name):
        return next(a for a in sub.choices[cmd]._actions if a.dest == name)

    assert [option("run", k).default for k in ("L", "phi_v", "T_I", "w0", "init")] == [None, None, None, W0_DEFAULT, "equilibrium"]
    assert [option("app", k).default for k in ("L", "phi_v", "T_I", "w0")] == [40, 0.02, 0.1, W0_DEFAULT]
    assert option("tls", "w0").default is None and "default 1e+06" in option("tls", "w0").help
    assert all(option("cool", k).required for k in ("L", "phi_v", "T_I")) and not option("diffusion", "T_I").required
    assert option("run", "init").choices == ("equilibrium", "random")
    parser = build_parser()
    for argv, words in [(["run", "--w0", "0"], ["--w0", "w0 must lie in", "got 0.0"]), (["app", "--L", "2"], ["--L", "L must be an integer >= 3", "got 2"]),
                        (["theory", "--phi-v", "1"], ["--phi-v", "phi_v must lie in (0, 1)", "got 1.0"]),
                        (["cool", "--T-I", "-1"], ["--T-I", "T_I must be positive", "got -1.0"]), (["tls", "--L", "x"], ["--L", "got 'x'"])]:
        with pytest.raises(UsageError) as info:
            parser.parse_args(argv)
        msg = str(info.value)
        assert "\n" not in msg and all(w in msg for w in words), (argv, msg)
