"""Analyses behind the paper's figures, as tested library code (docs/physics.md section 4).

* :mod:`.heat_capacity` — C_v(T) of cooling/heating runs over replicas, the C_v/T vs T^2 fit of
  c1, c3 next to the theory (Figs. 1, 7, 8): :func:`measure_heat_capacity`,
  :func:`fit_cv_low_T`, :class:`HeatCapacity`, :class:`CvFit`.
* :mod:`.occupation` — void occupation maps p_i^void over windows of hops (Fig. 2):
  :func:`measure_void_occupation`, :func:`void_occupation_during_cooling`, :class:`VoidOccupation`.
* :mod:`.tls` — TLS catalogue, Boltzmann check across temperatures, displacement traces (Fig. 3):
  :func:`find_tls`, :func:`measure_tls_boltzmann`, :func:`trace_voids`, :func:`plant_tls`.
* :mod:`.returns` — event- and snapshot-level P_ret, Q_ret (Fig. 4a):
  :func:`measure_return_probabilities`, :func:`measure_returns_during_cooling`.
* :mod:`.hop_energy` — measured P(dE) of hop attempts and q against the theory (Fig. 4b):
  :func:`measure_hop_energies`, :func:`compare_hop_energies`, :func:`measure_q_curve`.
* :mod:`.diffusion` — MSD, D(T), T_g at D_r, kinetic fragility m_k (Fig. 5):
  :func:`measure_msd`, :func:`measure_diffusion`, :func:`glass_transition`, :func:`glass_transition_chord`.
* :mod:`.events` — hop-log replay underlying the TLS and event-level checks: :class:`EventWindow`.

Every measurement returns a :class:`dplm_explore.results.Result` (numpy arrays plus provenance,
``save``/``load`` round trip). Comparisons with theory use :mod:`dplm_explore.theory`.
"""

from ._common import build_simulation, spawn_seeds, system_spec
from .diffusion import F_VACANCY, MSD, Diffusion, fit_diffusion_coefficient, glass_transition, glass_transition_chord, measure_diffusion, measure_msd
from .events import EventWindow, run_event_window
from .fragility import FRAGILITY_FORMS, FragilityFit, fit_fragility
from ..schedules import make_program
from ._binning import batch_heat_capacity, bin_index, bin_steps, heat_capacity_from_bins, return_probability, temperature_edges
from .heat_capacity import CvFit, HeatCapacity, NONEQ_FIT_T_MAX, fit_cv_low_T, fit_window, heat_capacity_from_replicas, low_T_fit_limit, measure_heat_capacity, theory_c1_c3
from .hop_energy import HopEnergies, QCurve, compare_hop_energies, hop_attempt_energies, measure_hop_energies, measure_q_curve
from .occupation import VoidOccupation, cooling_simulation, measure_void_occupation, void_occupation_during_cooling
from .returns import ReturnProbabilities, SnapshotReturnCounter, measure_return_probabilities, measure_returns_during_cooling
from .trajectories import EventLog, measure_tls_history, record_window
from .tls import MultiLevelSystems, TLSBoltzmann, TLSCatalogue, Traces, find_tls, hop_energies, hop_energy, measure_tls_boltzmann, multilevel_systems, plant_tls, tls_from_window, trace_voids

__all__ = [
    "spawn_seeds", "system_spec", "build_simulation",
    "HeatCapacity", "CvFit", "heat_capacity_from_replicas", "low_T_fit_limit", "fit_window", "NONEQ_FIT_T_MAX", "measure_heat_capacity", "fit_cv_low_T", "bin_steps", "batch_heat_capacity", "heat_capacity_from_bins", "temperature_edges", "make_program", "bin_index", "theory_c1_c3",
    "VoidOccupation", "measure_void_occupation", "void_occupation_during_cooling", "cooling_simulation",
    "TLSCatalogue", "TLSBoltzmann", "Traces", "MultiLevelSystems", "multilevel_systems", "find_tls", "tls_from_window", "measure_tls_boltzmann", "trace_voids", "plant_tls", "hop_energy", "hop_energies",
    "ReturnProbabilities", "SnapshotReturnCounter", "measure_return_probabilities", "measure_returns_during_cooling", "return_probability",
    "HopEnergies", "QCurve", "hop_attempt_energies", "compare_hop_energies", "measure_hop_energies", "measure_q_curve",
    "MSD", "Diffusion", "F_VACANCY", "measure_msd", "fit_diffusion_coefficient", "measure_diffusion", "glass_transition", "glass_transition_chord",
    "EventWindow", "run_event_window", "FRAGILITY_FORMS", "FragilityFit", "fit_fragility", "EventLog", "record_window", "measure_tls_history",
]
