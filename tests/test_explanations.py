"""The notes of docs/reproduction.md: each applies to a shipped record and computes the numbers it
quotes from the shipped data; the fictive temperature behind Fig. 8's note is the equilibrium
temperature of a directly built state."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from dplm_explore import theory
from dplm_explore.explanations import CV_WINDOWS, EXPLANATIONS, explanation, fictive_temperature, matches
from dplm_explore.figures import figure_data
from dplm_explore.kmc import Simulation
from dplm_explore.reproduction import ASSEMBLED, headline_records, table_rows


def _matching(match):
    """(record, its figure's data, the figure's records) for every shipped record that ``match``
    selects (a match without a figure looks at every figure)."""
    out = []
    for fig in [match["figure"]] if "figure" in match else ASSEMBLED:
        data = figure_data(fig, "paper")
        all_recs = headline_records(fig, data)
        out += [(r, data, all_recs) for r in all_recs if matches(r, match)]
    return out


@pytest.mark.parametrize("match,note", EXPLANATIONS, ids=[" ".join(f"{k}={v}" for k, v in m.items()) or "any row" for m, _ in EXPLANATIONS])
def test_every_note_applies_to_the_shipped_data_and_its_numbers_are_finite(match, note):
    """Each note selects shipped rows and has something to say about at least one of them with
    the data shipped now (a note that no longer applies anywhere is dead: this test says so)."""
    hits = _matching(match)
    assert hits, f"no shipped record matches {match}"
    texts = [note if isinstance(note, str) else note(rec, data, all_recs) for rec, data, all_recs in hits]
    # a note applies where its condition holds: to at least one of the rows it selects
    assert any(texts), f"the note for {match or 'any row'} applies to no shipped row"
    for text in texts:
        assert not re.search(r"\bnan\b|\binf\b", text, re.I), text


def test_the_fig8_note_quotes_window_means_and_replica_counts_computed_here():
    """Fig. 8's T_I = 0.2 c3 note: the C_v/T window means, computed here independently from the
    per-replica C_v, and the replica count of the shipped file appear in the table row."""
    data = figure_data("fig8", "paper")
    recs = headline_records("fig8", data)
    rec = next(r for r in recs if r["quantity"] == "c3" and r["T_I"] == 0.2)
    row = table_rows([rec], data)[0]
    hc = data.results["T_I=0.2"]
    for lo, hi in (CV_WINDOWS[0], CV_WINDOWS[2]):
        per = [np.mean([c / t for c, t in zip(rep, hc.T) if lo < t <= hi and np.isfinite(c)]) for rep in hc.Cv_replicas]
        assert f"{np.mean(per):.4f} +- {np.std(per, ddof=1) / math.sqrt(len(per)):.4f}" in row
    assert f"{hc.n_done} of " in row


def test_the_q_ret_note_gives_the_exact_binomial_bound():
    """When every snapshot void move at T = 0.01 is a return, the note's bound b solves
    b^n = 1 - 0.95 (the one-sided Clopper-Pearson bound for n successes in n)."""
    data = figure_data("fig4a", "paper")
    recs = headline_records("fig4a", data)
    rec = next(r for r in recs if r["quantity"] == "Q_ret" and r["T"] == 0.01 and r["interval"] is not None)
    w = data.results["windows"]
    k = int(np.argmin(np.abs(w.T - 0.01)))
    n, others = (int(x) for x in w.counts_snapshot[k, 2:4])
    text = explanation(rec, data, recs)
    if others:
        assert text == ""
        return
    b = float(re.search(r"lower bound \((0\.\d+)", text).group(1))
    assert b ** n == pytest.approx(0.05, rel=n * 5e-5)


@pytest.mark.parametrize("T", [0.05, 0.13, 0.3])
def test_fictive_temperature_inverts_the_equilibrium_energy(T):
    g = theory.Uniform(0.0, 1.0)
    assert fictive_temperature(float(theory.e_eq(T, g, 0.005)), g, 0.005) == pytest.approx(T, rel=1e-7)


def test_fictive_temperature_rejects_an_energy_no_equilibrium_has():
    with pytest.raises(ValueError, match="not an equilibrium energy"):
        fictive_temperature(5.0, theory.Uniform(0.0, 1.0), 0.005)


def test_a_directly_built_state_has_its_own_temperature_as_fictive_temperature():
    """Energy per particle of equilibrium states built at T_I = 0.12 and 0.16 (100 x 100): the
    fictive temperature is T_I within 0.003 (the scatter between seeds is about 5e-4), and the
    two states are told apart."""
    got = {}
    for T_I in (0.12, 0.16):
        sim = Simulation.create(L=100, phi_v=0.005, T_I=T_I, seed=17)
        got[T_I] = fictive_temperature(sim.energy / sim.params.n_particles, theory.Uniform(0.0, 1.0), sim.params.phi_v_realised)
        assert got[T_I] == pytest.approx(T_I, abs=0.003)
    assert got[0.16] - got[0.12] > 0.02


def test_a_rounded_reading_is_noted_only_where_ours_rounds_to_the_paper():
    """The rounding note: 0.8072 +- 0.0025 against the paper's 0.8 (2.9 errors off) rounds to it;
    0.9724 against 0.99 does not, nor does a row within 2 errors need it."""
    from dplm_explore.explanations import _rounded_reading

    rec = {"figure": "fig4a", "quantity": "P_ret", "ours": 0.8072, "error": 0.0025, "paper": 0.8, "theory": None}
    assert "rounds to it" in _rounded_reading(rec, None, [])
    assert _rounded_reading(dict(rec, ours=0.9724, paper=0.99), None, []) == ""
    assert _rounded_reading(dict(rec, ours=0.803), None, []) == ""
    assert "0 decimal places" in _rounded_reading(dict(rec, ours=13.3, error=0.1, paper=13.0), None, [])


def test_the_fig8_c1_note_quotes_the_glass_fictive_temperature():
    """Cooled from T_I = 0.2 at nu = 1e-4, each replica's energy in the lowest bin is that of an
    equilibrium well below T_I (the bulk falls out of equilibrium near T_g ~ 0.15), and the
    c1 note quotes their mean."""
    from dplm_explore.explanations import fictive_temperatures

    data = figure_data("fig8", "paper")
    recs = headline_records("fig8", data)
    tf = fictive_temperatures(data.results["T_I=0.2"])
    assert np.all((tf > 0.13) & (tf < 0.17)), tf
    rec = next(r for r in recs if r["quantity"] == "c1" and r["T_I"] == 0.2)
    assert f"e_eq({tf.mean():.4f} +- " in explanation(rec, data, recs)
