"""dplm_explore.figures: every factory builds from computed data; data bundles round-trip;
the shipped paper-scale data files regenerate through the same pipeline; physics sanity."""

import json
from pathlib import Path

import numpy as np
import pytest
from bokeh.model import Model
from bokeh.models import GlyphRenderer, Label, Legend

from dplm_explore import figures, theory
from dplm_explore.figures import FIGURES, load_figure_data

DATA_DIR = Path(figures.__file__).parent / "data"

# Smaller-than-quick overrides: the same pipeline in a few seconds per figure.
TINY = {
    "fig1": {"L": 32, "T_I": [0.03, 0.05], "nu": 1e-2, "n_replicas": 2},
    "fig2": {"L": 24, "phi_v": 0.01, "T_I": 0.16, "T_marks": [0.15, 0.08], "hops": 30_000},
    "fig3": {"L": 48, "hops": 400_000, "trace_hops": 30_000, "boltzmann_T": [0.065, 0.05, 0.04], "boltzmann_hops": 150_000},
    "fig4a": {"L": 24, "phi_v": 0.01, "T_I": 0.15, "T_final": 0.08, "nu": 5e-2, "dT_bin": 0.035},
    "fig4b": {"L": 40, "T_I": [0.03, 0.1, 0.2], "n_states": 1},
    "fig5": {"L": 16, "T": [0.4, 0.3, 0.25], "hops": 100_000},
    "fig6": {"L": 16, "L_diffusion": 16, "T_diffusion": [0.4, 0.3, 0.22, 0.18], "hops_diffusion": 100_000, "T_I": 0.1, "T_final": 0.005, "nu": 5e-2, "n_replicas": 2},
    "fig7": {"L": 32, "phi_v": [0.005, 0.01], "nu": 1e-2, "n_replicas": 2},
    "fig8": {"L": 24, "T_I": [0.08, 0.1], "nu": 5e-2},
}


@pytest.fixture(scope="module")
def tiny_data():
    return {}


def _tiny(name, cache):
    if name not in cache:
        cache[name] = FIGURES[name].compute("quick", seed=7, **TINY[name])
    return cache[name]


def test_registry_covers_every_paper_figure():
    assert set(FIGURES) == {"fig1", "fig2", "fig3", "fig4a", "fig4b", "fig5", "fig6", "fig7", "fig8"}
    for spec in FIGURES.values():
        assert set(spec.params) == set(figures.SCALES)
        assert set(spec.params["quick"]) == set(spec.params["paper"]), spec.name
        assert set(TINY[spec.name]) <= set(spec.params["quick"]), spec.name


@pytest.mark.parametrize("name", sorted(TINY))
def test_factory_builds_from_computed_data(name, tiny_data):
    data = _tiny(name, tiny_data)
    assert data.name == name and data.scale == "quick" and data.results
    assert data.provenance["seed"] == 7 and data.provenance["command"].startswith(f"dplm-explore figure {name} --scale quick --seed 7")
    layout = FIGURES[name].draw(data)
    assert isinstance(layout, Model)
    # something was drawn: at least one glyph renderer with data
    glyphs = [r for r in layout.select({"type": GlyphRenderer})]
    assert glyphs, f"{name}: no glyphs"


def test_figure_data_round_trip(tmp_path, tiny_data):
    data = _tiny("fig4b", tiny_data)
    path = data.save(tmp_path / "d.npz")
    back = load_figure_data(path)
    assert (back.name, back.scale, back.params, back.provenance) == (data.name, data.scale, data.params, data.provenance)
    assert back.results.keys() == data.results.keys()
    assert all(back.results[k].equals(data.results[k]) for k in data.results)
    with pytest.raises(FileExistsError):
        data.save(path)
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.arange(3))
    with pytest.raises(ValueError, match="not a dplm-explore figure data"):
        load_figure_data(bad)


def test_bad_parameters_are_value_errors():
    spec = FIGURES["fig4b"]
    with pytest.raises(ValueError, match="scale must be one of"):
        spec.parameters("huge")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) for fig4b: \['Lx'\]"):
        spec.parameters("quick", Lx=3)
    with pytest.raises(ValueError, match="seed must be a non-negative integer; got -1"):
        spec.compute("quick", seed=-1)


def test_factories_mark_paper_numbers_as_references(tiny_data):
    """Paper numbers appear only in labels that start with 'paper'."""
    layout = FIGURES["fig4b"].draw(_tiny("fig4b", tiny_data))
    texts = [lab.text for lab in layout.select({"type": Label})]
    assert texts and all(t.startswith("paper: ") for t in texts)
    legends = [it.label["value"] for lg in layout.select({"type": Legend}) for it in lg.items]
    assert "paper (reference)" in legends and "measured" in legends


# ------------------------------------------------------------------------------- physics sanity
def test_q_curve_follows_theory(tiny_data):
    """Fig. 4b: measured q rises with T_I and agrees with Eq. 4 within 4 binomial errors + 0.03."""
    qc = _tiny("fig4b", tiny_data).results["q"]
    assert np.all(np.diff(qc.q) > 0)
    assert np.all(np.abs(qc.q - qc.q_theory) <= 4 * qc.q_err + 0.03), (qc.q, qc.q_theory, qc.q_err)


def test_tls_boltzmann_fit_matches_configuration(tiny_data):
    """Fig. 3b: the fitted dE of each TLS equals the configuration's dE within 15 %."""
    bz = _tiny("fig3", tiny_data).results["boltzmann"]
    ok = np.isfinite(bz.dE_fit)
    assert ok.any()
    np.testing.assert_allclose(bz.dE_fit[ok], bz.dE_config[ok], rtol=0.15)


# ------------------------------------------------------------------------------ shipped data files
def _shipped():
    return sorted(DATA_DIR.glob("*.npz"))


def test_shipped_data_files_have_provenance():
    files = _shipped()
    assert files, "no data files shipped in dplm_explore/data"
    for f in files:
        d = load_figure_data(f)
        assert f.name == f"{d.name}_{d.scale}.npz"
        assert d.params == FIGURES[d.name].parameters(d.scale), f"{f.name}: parameters differ from the registry's"
        prov = d.provenance
        for key in ("dplm_explore", "numba", "seed", "wall_s", "command", "created_utc"):
            assert key in prov, (f.name, key)
        assert prov["command"].startswith(f"dplm-explore figure {d.name} --scale {d.scale} --seed {prov['seed']} --data")
        assert f.stat().st_size < 2_000_000


def test_shipped_q_curve_regenerates_at_small_scale(tmp_path):
    """Regenerate dplm_explore/data/fig4b_paper.npz at a small scale through the CLI: same keys,
    same array shapes per T_I, same provenance fields; and the physics (q vs theory) holds in both."""
    from dplm_explore.cli import main

    shipped = load_figure_data(DATA_DIR / "fig4b_paper.npz")
    out = tmp_path / "fig4b_small.npz"
    rc = main(["figure", "fig4b", "--scale", "quick", "--seed", str(shipped.provenance["seed"]), "--data", str(out), "--out-dir", str(tmp_path), "--json"])
    assert rc == 0
    small = load_figure_data(out)
    assert small.results.keys() == shipped.results.keys()
    a, b = small.results["q"], shipped.results["q"]
    assert type(a) is type(b)
    for field in ("T_I", "q", "q_err", "q_theory", "dE_max", "n_samples"):
        assert getattr(a, field).shape == (len(small.params["T_I"]),)
        assert getattr(b, field).shape == (len(shipped.params["T_I"]),)
    assert set(small.provenance) == set(shipped.provenance)
    for qc in (a, b):
        assert np.all(np.abs(qc.q - qc.q_theory) <= 4 * qc.q_err + 0.03)
        # the theory column is the theory, recomputed here
        g = figures.make_g(**qc.g)
        np.testing.assert_allclose(qc.q_theory, [theory.q(g, T, nu_cool=qc.nu_cool, w0=qc.w0) for T in qc.T_I], rtol=1e-6)
    json.dumps(small.provenance)
