"""The notes of docs/reproduction.md: each applies to a shipped record and computes the numbers it
quotes from the shipped data; the fictive temperature behind Fig. 8's note is the equilibrium
temperature of a directly built state."""

from __future__ import annotations

import re

import pytest

from dplm_explore import theory
from dplm_explore.explanations import EXPLANATIONS, explanation, fictive_temperature
from dplm_explore.figures import figure_data
from dplm_explore.kmc import Simulation
from dplm_explore.reproduction import headline_records, table_rows

_MISSING = object()


def _matching(match):
    data = figure_data(match["figure"], "paper")
    all_recs = headline_records(match["figure"], data)
    return [r for r in all_recs if all(r.get(k, _MISSING) == v for k, v in match.items())], data, all_recs


@pytest.mark.parametrize("match,note", EXPLANATIONS, ids=[" ".join(f"{k}={v}" for k, v in m.items()) for m, _ in EXPLANATIONS])
def test_every_note_applies_to_a_shipped_record_and_its_numbers_are_finite(match, note):
    recs, data, all_recs = _matching(match)
    assert recs, f"no shipped record matches {match}"
    for rec in recs:
        text = note if isinstance(note, str) else note(rec, data, all_recs)
        assert text, f"the note for {match} does not apply to the shipped data"
        assert not re.search(r"\bnan\b|\binf\b", text, re.I), text
        assert text in explanation(rec, data, all_recs)


def test_a_computed_note_quotes_the_row_it_explains():
    """Fig. 8's T_I = 0.2 c3 note quotes the replica count of the shipped data, and the table row
    carries it."""
    data = figure_data("fig8", "paper")
    rec = next(r for r in headline_records("fig8", data) if r["quantity"] == "c3" and r["T_I"] == 0.2)
    row = table_rows([rec], data)[0]
    assert f"{rec['n_replicas']} of " in row and "C_v/T" in row


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
