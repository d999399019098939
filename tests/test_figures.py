"""dplm_explore.figures: every factory builds from computed data; data bundles round-trip;
the shipped paper-scale data load with complete provenance and draw; physics sanity."""

import json

import numpy as np
import pytest
from bokeh.model import Model
from bokeh.models import GlyphRenderer, Label, Legend

from dplm_explore import figures
from dplm_explore.figures import FIGURES, load_figure_data
from dplm_explore.reproduction import paper_parameters

DATA_DIR = figures.DATA_DIR

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
    "fig9": {"L": 40, "hops": 60_000, "trace_events": 300, "boltzmann_T": [0.05, 0.065], "boltzmann_hops": 40_000, "boltzmann_equilibrate_hops": 2000},
    "fig10": {"L": 40, "hops": 60_000, "trace_events": 300, "boltzmann_T": [0.05], "boltzmann_hops": 40_000, "boltzmann_equilibrate_hops": 2000},
}


@pytest.fixture(scope="module")
def tiny_data():
    return {}


def _tiny(name, cache):
    if name not in cache:
        cache[name] = FIGURES[name].compute("quick", seed=7, **TINY[name])
    return cache[name]


def test_registry_covers_every_paper_figure():
    assert set(FIGURES) == {f"fig{i}" for i in (1, 2, 3, 5, 6, 7, 8, 9, 10)} | {"fig4a", "fig4b"}
    for spec in FIGURES.values():
        # every figure's paper scale is made of campaign jobs, each serving that figure
        jobs = paper_parameters(spec.name)["jobs"]
        assert jobs, spec.name
        assert set(TINY[spec.name]) <= set(spec.params["quick"]), spec.name


@pytest.mark.parametrize("name", sorted(TINY))
def test_factory_builds_from_computed_data(name, tiny_data):
    data = _tiny(name, tiny_data)
    assert data.name == name and data.scale == "quick" and data.results
    assert data.provenance["seed"] == 7 and data.provenance["command"].startswith(f"dplm-explore figure {name} --scale quick --seed 7")
    layout = FIGURES[name].draw(data)
    assert isinstance(layout, Model)
    # a quick-scale figure says so under its panels
    from bokeh.models import Title
    assert any("QUICK SCALE" in t.text for t in layout.select({"type": Title})), name
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
    with pytest.raises(ValueError, match="scale must be 'quick' for a recipe"):
        spec.parameters("huge")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) for fig4b: \['Lx'\]"):
        spec.parameters("quick", Lx=3)
    with pytest.raises(ValueError, match="seed must be a non-negative integer; got -1"):
        spec.compute("quick", seed=-1)
    with pytest.raises(ValueError, match="scale must be 'quick' for a recipe"):
        spec.parameters("paper")


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
    return sorted(DATA_DIR.glob("*_paper.npz"))


def test_shipped_data_files_have_provenance_and_draw():
    """Every shipped paper-scale file loads, names its campaign jobs (parameters, root seeds,
    replica counts), its CPU time and the command that regenerates it, and draws."""
    files = _shipped()
    assert files, "no data files shipped in dplm_explore/data"
    for f in files:
        d = load_figure_data(f)
        assert f.name == f"{d.name}_paper.npz" and d.scale == "paper"
        assert d.params == paper_parameters(d.name), f"{f.name}: its jobs differ from the campaign plan's"
        prov = d.provenance
        for key in ("dplm_explore", "numba", "created_utc", "command", "cpu_hours", "cpu_s_by_job", "jobs"):
            assert key in prov, (f.name, key)
        assert prov["command"].startswith(f"dplm-explore reproduce --figures {d.name}")
        assert prov["cpu_hours"] > 0
        for job in prov["jobs"]:
            assert "root_seed" in job and job["figures"], (f.name, job)
        assert f.stat().st_size < 5_000_000, f.name
        FIGURES[d.name].draw(d)


def test_shipped_records_are_complete():
    """``figure NAME --json`` records: the required keys, finite numbers or None."""
    from dplm_explore.reproduction import headline_records

    for f in _shipped():
        d = load_figure_data(f)
        recs = headline_records(d.name, d)
        assert recs, f.name
        for r in recs:
            assert {"figure", "quantity", "ours", "error", "paper", "theory"} <= set(r), r
            assert r["figure"] == d.name
        json.dumps(recs)


def test_the_paper_scale_note_sits_under_the_first_panel():
    """Fig. 9 (a grid of four panels): the scale note is under panel (a), on every drawing (the
    layout's own order, not an unordered selection)."""
    from bokeh.models import Title

    for _ in range(3):
        lay = FIGURES["fig9"].draw(figures.figure_data("fig9", "paper"))
        panels = [c[0] for c in lay.children]
        noted = [p.title.text for p in panels if any(isinstance(t, Title) and t.text.startswith("paper scale") for t in p.below)]
        assert noted == [panels[0].title.text] and noted[0].startswith("(a)")


def test_occupation_maps_put_each_void_on_its_own_site():
    """Fig. 2 and Fig. 10 draw p_void with the site (x, y) at image row y, column x, where the
    black squares (voids at the window start, at x + 0.5, y + 0.5) sit: by the end of a window at
    T = 0.05 the voids have hardly moved, so the image is high under every square."""
    from bokeh.models import GlyphRenderer, Image

    data = figures.figure_data("fig2", "paper")
    occ = data.results["occupation"]
    grid = FIGURES["fig2"].draw(data)
    last = [c[0] for c in grid.children][-1]
    img = next(r.data_source.data["image"][0] for r in last.select({"type": GlyphRenderer}) if isinstance(r.glyph, Image))
    xy = occ.initial_xy[-1]
    under = np.array([img[y, x] for x, y in xy])
    assert np.all(under > 0.05), under
    assert np.array_equal(np.nan_to_num(img), occ.p[-1])
