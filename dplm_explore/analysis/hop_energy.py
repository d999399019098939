"""Measured distribution P(dE) of hop attempts and the fraction q of possible hops (Fig. 4b).

A *hop attempt* is the move of a particle into a neighbouring void; its energy change ``dE``
(bonds formed minus bonds broken) is what the engine keeps in ``sim.dEs`` (float[Nv, 4]) for
every void and direction. The theory (Eq. A15, :func:`dplm_explore.theory.hop_energy_distribution`)
describes an attempt that breaks ``z - 1 = 3`` bonds and forms 3, i.e. one whose void has three
particle neighbours besides the mover and whose mover has three particle neighbours besides the
void: ``isolated_only=True`` (default) keeps only those attempts (at small phi_v nearly all).

``q`` is the fraction of attempts with ``dE <= dE_max(T_eval)`` (Eq. 5,
:func:`dplm_explore.theory.dE_max`), compared with :func:`dplm_explore.theory.q` for an
equilibrium state at ``T_I``. The histogram is compared with the theory's bin probabilities
(``cdf`` differences, atoms included) by a chi-square statistic, and the samples with the
theory's cdf by a Kolmogorov-Smirnov test. Attempts into the same void are correlated (the
attempts of neighbours ``p`` and ``q`` of one void both form the bond ``V(p, q)``), so the tests
use one attempt per void (the first valid direction: an independent sample, since which
directions are valid depends on the arrangement only, not on the interactions), and the errors
of ``mean`` and ``q`` are cluster-robust (voids as clusters); the histogram uses every attempt.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import theory
from ..results import Result, base_provenance, register_result
from ..schedules import NU_PAPER
from ..system import W0_DEFAULT
from ._common import as_g, positive, positive_int, spawn_seeds
from ..tasks import need, register_task, task_g

__all__ = ["HopEnergies", "hop_attempt_energies", "compare_hop_energies", "measure_hop_energies", "measure_q_curve", "QCurve"]


def hop_attempt_energies(sim, *, isolated_only: bool = True, return_voids: bool = False):
    """float[n]: dE of every possible hop attempt in the current state of ``sim`` (the
    particle-into-void moves; with ``isolated_only`` only those breaking and forming 3 bonds),
    ordered by void then direction; with ``return_voids`` also int64[n], the void of each."""
    sim.settle()
    nbr = sim.nbr
    vpos = sim.vpos
    nb = nbr[vpos]  # [Nv, 4] neighbour sites of each void
    occ = sim.occ
    valid = occ[nb] >= 0
    if isolated_only:
        void_ok = (occ[nb] >= 0).sum(axis=1) == 4  # all four neighbours of the void are particles
        # the mover at nb[v, d] must have particles on its three other neighbours
        mover_nb = nbr[nb]  # [Nv, 4, 4]
        mover_ok = (occ[mover_nb] >= 0).sum(axis=2) == 3  # the void itself is the one non-particle
        valid &= void_ok[:, None] & mover_ok
    dE = np.asarray(sim.dEs, float)[valid].copy()
    if return_voids:
        return dE, np.nonzero(valid)[0].astype(np.int64)
    return dE


@register_result
@dataclass
class HopEnergies(Result):
    """Measured hop-attempt energies against the theory at ``T_I``.

    ``dE`` float[n] samples; ``edges`` float[b + 1]; ``density``, ``density_err`` float[b]
    (histogram, Poisson errors); ``theory_density`` float[b] (theory bin probability / width,
    atoms included); ``chi2``, ``dof``, ``chi2_pvalue`` (bins with expected count >= 5);
    ``ks_stat``, ``ks_pvalue``; ``q``, ``q_err`` (binomial), ``q_theory``, ``dE_max``, ``T_eval``,
    ``nu``, ``w0``; ``mean`` (``mean_err`` cluster-robust), ``std`` of the samples and
    ``mean_theory``, ``std_theory``; ``groups`` int64[n] (void of each sample, numbered across
    states) and ``n_independent`` (samples used by the tests: one per group)."""

    dE: np.ndarray
    groups: np.ndarray
    edges: np.ndarray
    density: np.ndarray
    density_err: np.ndarray
    theory_density: np.ndarray
    chi2: float
    dof: int
    chi2_pvalue: float
    ks_stat: float
    ks_pvalue: float
    q: float
    q_err: float
    q_theory: float
    dE_max: float
    T_eval: float
    nu: float
    w0: float
    mean: float
    mean_err: float
    std: float
    n_independent: int
    mean_theory: float
    std_theory: float
    T_I: float
    g: dict
    n_states: int
    isolated_only: bool
    system: dict
    provenance: dict


def compare_hop_energies(dE, g, T_I: float, *, groups=None, bins: int | np.ndarray = 60, T_eval: float | None = None, nu: float = NU_PAPER, w0: float = W0_DEFAULT,
                         n_states: int = 1, isolated_only: bool = True, system: dict | None = None) -> HopEnergies:
    """Histogram the samples ``dE`` and compare them with the theory's P(dE) for an equilibrium
    state at ``T_I`` (see the module docstring). ``groups`` int[n]: cluster (void) of each
    sample (default: every sample its own); ``T_eval`` (default ``T_I``) sets dE_max."""
    from scipy import stats

    dE = np.asarray(dE, float).ravel()
    if dE.size < 2:
        raise ValueError(f"need at least 2 hop energies; got {dE.size}")
    groups = np.arange(dE.size, dtype=np.int64) if groups is None else np.asarray(groups, np.int64).ravel()
    if groups.shape != dE.shape:
        raise ValueError(f"groups must have one entry per sample; got {groups.size} for {dE.size}")
    _, first = np.unique(groups, return_index=True)
    indep = dE[np.sort(first)]
    g = as_g(g)
    T_I = positive("T_I", T_I)
    Te = T_I if T_eval is None else positive("T_eval", T_eval)
    P = theory.hop_energy_distribution(g, T_I)
    if np.ndim(bins) == 0:
        nb = positive_int("bins", bins)
        lo, hi = float(dE.min()), float(dE.max())
        pad = 1e-9 * max(1.0, hi - lo)
        edges = np.linspace(lo - pad, hi + pad, nb + 1)
    else:
        edges = np.asarray(bins, float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(f"bins must be a count or increasing edges; got {bins!r}")
    counts, _ = np.histogram(dE, edges)
    n = dE.size
    width = np.diff(edges)
    density = counts / (n * width)
    density_err = np.sqrt(counts) / (n * width)
    cdf = np.asarray(P.cdf(edges), float)
    probs = np.diff(cdf)
    # tests on the independent subsample (one attempt per void)
    ci, _ = np.histogram(indep, edges)
    expected = indep.size * probs
    ok = expected >= 5
    chi2 = float(np.sum((ci[ok] - expected[ok]) ** 2 / expected[ok]))
    dof = int(ok.sum()) - 1
    chi2_p = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    ks = stats.kstest(indep, lambda x: np.asarray(P.cdf(x), float))
    dEm = float(theory.dE_max(Te, nu, w0))
    below = (dE <= dEm).astype(float)
    qm = float(below.mean())
    mean_th = P.mean()
    return HopEnergies(
        dE=dE, groups=groups, edges=edges, density=density, density_err=density_err, theory_density=probs / width, chi2=chi2, dof=dof, chi2_pvalue=chi2_p,
        ks_stat=float(ks.statistic), ks_pvalue=float(ks.pvalue), q=qm, q_err=_cluster_se(below, groups), q_theory=float(P.cdf(dEm)), dE_max=dEm,
        T_eval=Te, nu=float(nu), w0=float(w0), mean=float(dE.mean()), mean_err=_cluster_se(dE, groups), std=float(dE.std(ddof=1)),
        n_independent=int(indep.size), mean_theory=float(mean_th),
        std_theory=float(math.sqrt(max(P.var(), 0.0))), T_I=T_I, g=g.to_dict(), n_states=int(n_states), isolated_only=bool(isolated_only),
        system=dict(system or {}), provenance=base_provenance(kind="hop energies"),
    )


def _cluster_se(x: np.ndarray, groups: np.ndarray) -> float:
    """Cluster-robust standard error of ``mean(x)`` with clusters ``groups``."""
    mu = float(x.mean())
    _, inv = np.unique(groups, return_inverse=True)
    r = np.bincount(inv, weights=x - mu)
    G = r.size
    if G < 2:
        return float("nan")
    return float(math.sqrt(G / (G - 1) * np.sum(r * r)) / x.size)


def measure_hop_energies(L: int, phi_v: float, *, T_I: float, g=None, n_states: int = 1, seed=None, bins: int = 60, isolated_only: bool = True,
                         T_eval: float | None = None, nu: float = NU_PAPER, w0: float = W0_DEFAULT, T_final: float | None = None,
                         T_ref: float | None = None) -> HopEnergies:
    """Hop-attempt energies of ``n_states`` independent states built in exact equilibrium at
    ``T_I`` (seeds from ``SeedSequence(seed).spawn``), optionally ramped to ``T_final`` at ``nu``
    first (then they are no longer in equilibrium), compared with the theory at ``T_ref``
    (default ``T_I``); ``nu`` is also the cooling rate of the cut-off dE_max (Eq. 5)."""
    from ..kmc import Simulation
    from ..schedules import make_program

    g = as_g(g)
    root, seeds = spawn_seeds(seed, n_states)
    t0 = time.perf_counter()
    samples, groups = [], []
    offset = 0
    for s in seeds:
        prog = make_program(T_I, T_final, nu) if T_final is not None else None
        sim = Simulation.create(L, phi_v, g=g, T_I=T_I, seed=int(s), w0=w0, program=prog)
        if prog is not None:
            sim.advance()
        dE, vs = hop_attempt_energies(sim, isolated_only=isolated_only, return_voids=True)
        samples.append(dE)
        groups.append(vs + offset)
        offset += sim.params.n_voids
    res = compare_hop_energies(np.concatenate(samples), g, T_I if T_ref is None else T_ref, groups=np.concatenate(groups), bins=bins, T_eval=T_eval, nu=nu, w0=w0,
                               n_states=n_states, isolated_only=isolated_only,
                               system={"L": int(L), "phi_v": float(phi_v), "T_I": float(T_I), "T_final": T_final, "nu": nu, "root_seed": root, "seeds": seeds.tolist()})
    res.provenance["wall_s"] = time.perf_counter() - t0
    return res


@register_result
@dataclass
class QCurve(Result):
    """q against T_I (Fig. 4b): measured ``q``, ``q_err`` and theory ``q_theory`` float[k] at
    ``T_I`` float[k] (dE_max at ``T_eval = T_I`` unless ``T_eval`` is fixed)."""

    T_I: np.ndarray
    q: np.ndarray
    q_err: np.ndarray
    q_theory: np.ndarray
    dE_max: np.ndarray
    n_samples: np.ndarray
    nu: float
    w0: float
    T_eval: float | None
    g: dict
    system: dict
    provenance: dict


def measure_q_curve(L: int, phi_v: float, T_I_values, *, g=None, n_states: int = 1, seed=None, nu: float = NU_PAPER, w0: float = W0_DEFAULT,
                    T_eval: float | None = None, isolated_only: bool = True) -> QCurve:
    """Measured and theoretical q at each ``T_I`` (equilibrium states built directly)."""
    Ts = np.atleast_1d(np.asarray(T_I_values, float))
    root, seeds = spawn_seeds(seed, Ts.size)
    rows = [measure_hop_energies(L, phi_v, T_I=float(T), g=g, n_states=n_states, seed=int(s), isolated_only=isolated_only, T_eval=T_eval, nu=nu, w0=w0)
            for T, s in zip(Ts, seeds)]
    return QCurve(T_I=Ts, q=np.array([r.q for r in rows]), q_err=np.array([r.q_err for r in rows]), q_theory=np.array([r.q_theory for r in rows]),
                  dE_max=np.array([r.dE_max for r in rows]), n_samples=np.array([r.dE.size for r in rows], np.int64), nu=float(nu), w0=float(w0),
                  T_eval=None if T_eval is None else float(T_eval), g=as_g(g).to_dict(), system={"L": int(L), "phi_v": float(phi_v), "root_seed": root},
                  provenance=base_provenance(kind="q curve"))


def _hop_energy_task(p: dict, seed: int, g) -> dict:
    """Sweep task: one state's hop-attempt statistics."""
    r = measure_hop_energies(p["L"], p["phi_v"], T_I=p["T_I"], g=g, n_states=1, seed=seed, isolated_only=p.get("isolated_only", True), T_eval=p.get("T_eval"),
                             nu=p.get("nu", NU_PAPER), w0=p.get("w0", W0_DEFAULT), T_final=p.get("T_final"))
    return {"q": r.q, "q_err": r.q_err, "q_theory": r.q_theory, "mean": r.mean, "std": r.std, "mean_theory": r.mean_theory, "std_theory": r.std_theory,
            "n_samples": int(r.dE.size), "ks_stat": r.ks_stat}


@register_task("hop-energy", {"T_I", "isolated_only", "T_eval", "nu", "T_final"})
def _sweep_hop_energy(p: dict, seed: int) -> dict:
    """Measured hop-attempt energies of an equilibrium state at ``T_I`` (after an optional ramp
    to ``T_final`` at ``nu``): mean, std, q at ``T_eval`` vs theory."""
    need(p, "L", "phi_v", "T_I")
    return _hop_energy_task(p, seed, task_g(p))
