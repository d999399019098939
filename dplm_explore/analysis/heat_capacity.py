"""Specific heat of temperature programs (paper Figs. 1, 7, 8): ``C_v = N^-1 dE/dT``.

Data flow. Each replica runs the same program from its own initial state; the engine accumulates
the time-averaged total energy ``E_mean`` in every program step (the steps of ``dT_step`` of a
ramp). The steps are grouped into coarser temperature bins (:func:`bin_steps`; time-weighted
means of T, E and E^2), and ``C_v`` is the difference quotient of the per-particle bin energies
(:func:`heat_capacity_from_bins`):

* ``scheme='midpoint'`` (default): ``C_v(T_{k+1/2}) = (e_{k+1} - e_k) / (T_{k+1} - T_k)`` at
  ``T_{k+1/2} = (T_k + T_{k+1}) / 2``, bins sorted by T. For a linear ramp the time-averaged
  energy of a bin is ``e(T_k) + O(dT^2)``, so this is a central difference, error ``O(dT^2)``.
  Neighbouring estimates share one bin (their noise is anti-correlated).
* ``scheme='central'``: ``C_v(T_k) = (e_{k+1} - e_{k-1}) / (T_{k+1} - T_{k-1})`` at the bin
  temperatures (interior bins), also ``O(dT^2)``, smoother and half as many independent points.

Replicas are independent (seeds from ``SeedSequence.spawn``); ``Cv`` is their mean and
``Cv_err`` the standard error of the mean (``ddof = 1``; NaN for one replica). ``Cv_fluct`` is the
fluctuation estimate ``(<E^2> - <E>^2) / (N T^2)`` with the variance taken within each program
step (where the ramp's drift is negligible) and averaged over the bin's steps: equal to ``C_v``
in equilibrium only, and too low if a step is shorter than the energy's correlation time (a
diagnostic).

Low-T view (Figs. 1b, 8a): :func:`fit_cv_low_T` fits ``C_v / T = c1 + c3 T^2`` by weighted
least squares and returns c1, c3 with standard errors next to the theory's values computed by
:func:`dplm_explore.theory.Cv_expansion` (Eq. A13) for the initial equilibrium at ``T_I``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import theory
from ..parallel import RunOptions
from .._io import npz_path
from ..results import Result, base_provenance, check_writable, register_result
from ..schedules import NU_PAPER, Program, make_program
from ..system import W0_DEFAULT
from ._binning import SCHEMES, bin_steps, heat_capacity_from_bins, temperature_edges
from ._common import as_g, build_simulation, positive, positive_int, spawn_seeds, system_spec
from ..tasks import need, register_task, task_g

__all__ = [
    "HeatCapacity",
    "CvFit",
    "measure_heat_capacity",
    "bin_steps",
    "heat_capacity_from_bins",
    "fit_cv_low_T",
    "temperature_edges",
    "heat_capacity_from_replicas",
    "low_T_fit_limit",
    "fit_window",
    "NONEQ_FIT_T_MAX",
    "theory_c1_c3",
]

# ==================================================================================== fitting
@dataclass(frozen=True)
class CvFit:
    """Fit of ``C_v / T = c1 + c3 T^2`` (paper Eq. 1) over ``T_min <= T <= T_max``.

    ``c1_err``, ``c3_err``: standard errors; ``method`` says how they were obtained:
    'replicas' (scatter of per-replica fits, see :func:`fit_cv_low_T`), 'weighted' (weighted
    least squares with weights ``(T/Cv_err)^2``, scaled by ``sqrt(chi2_red)`` when that exceeds
    1) or 'unweighted' (ordinary least squares with the residual variance). ``cov``: the 2x2 covariance (c1, c3). ``theory``: c1, c3
    of Eq. (A13) (and Eq. 10 for uniform g) for an equilibrium initial state at ``T_I``, computed
    by :func:`dplm_explore.theory.Cv_expansion`; empty when there is no ``T_I``.
    """

    c1: float
    c3: float
    c1_err: float
    c3_err: float
    cov: tuple
    chi2_red: float
    n_points: int
    T_min: float
    T_max: float
    weighted: bool
    theory: dict = dataclasses.field(default_factory=dict)
    method: str = "weighted"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["cov"] = [list(r) for r in self.cov]
        return d


def fit_cv_low_T(T, Cv, Cv_err=None, *, T_max: float, T_min: float = 0.0, theory_ref: dict | None = None, Cv_replicas=None) -> CvFit:
    """Fit ``C_v / T = c1 + c3 T^2`` to the points with ``T_min <= T <= T_max`` (see
    :class:`CvFit`). ``theory_ref``: optional dict stored as the fit's ``theory`` entry.

    With ``Cv_replicas`` float[R, k] (R >= 2 independent replicas, ``Cv`` their mean) the fit is
    ordinary least squares of the mean and its errors are the standard error of the R
    per-replica fits (the fit is linear, so their mean is the fit of the mean): this keeps the
    correlations between temperatures (the same TLS contribute at every T, neighbouring
    midpoint estimates share a bin) that a pointwise-weighted fit would ignore. ``method`` in
    the result: 'replicas', 'weighted' (``Cv_err``) or 'unweighted'."""
    T = np.asarray(T, float)
    Cv = np.asarray(Cv, float)
    if T.shape != Cv.shape or T.ndim != 1:
        raise ValueError(f"T and Cv must be 1-d arrays of the same length; got shapes {T.shape} and {Cv.shape}")
    T_max = positive("T_max", T_max)
    if not (float(T_min) >= 0):
        raise ValueError(f"T_min must be >= 0; got {T_min!r}")
    sel = (T >= T_min) & (T <= T_max) & np.isfinite(Cv) & (T > 0)
    if Cv_replicas is not None:
        reps = np.asarray(Cv_replicas, float)
        if reps.ndim != 2 or reps.shape[1] != T.size or reps.shape[0] < 2:
            raise ValueError(f"Cv_replicas must have shape [R >= 2, {T.size}]; got {reps.shape}")
        sel &= np.all(np.isfinite(reps), axis=0)
        n = int(sel.sum())
        if n < 3:
            raise ValueError(f"need at least 3 points with T in [{T_min}, {T_max}] to fit c1 and c3; got {n}")
        X = np.column_stack([np.ones(n), T[sel] ** 2])
        coef, *_ = np.linalg.lstsq(X, Cv[sel] / T[sel], rcond=None)
        per = np.array([np.linalg.lstsq(X, r[sel] / T[sel], rcond=None)[0] for r in reps])
        cov = np.cov(per.T, ddof=1) / per.shape[0]
        return CvFit(float(coef[0]), float(coef[1]), float(math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1])),
                     ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))), float("nan"), n,
                     float(T[sel].min()), float(T[sel].max()), False, dict(theory_ref or {}), "replicas")
    weighted = Cv_err is not None
    if weighted:
        err = np.asarray(Cv_err, float)
        if err.shape != T.shape:
            raise ValueError(f"Cv_err must have the shape of T; got {err.shape} and {T.shape}")
        sel &= np.isfinite(err) & (err > 0)
    n = int(sel.sum())
    if n < 3:
        raise ValueError(f"need at least 3 points with T in [{T_min}, {T_max}] to fit c1 and c3; got {n}")
    x = T[sel] ** 2
    y = Cv[sel] / T[sel]
    X = np.column_stack([np.ones(n), x])
    if weighted:
        s = err[sel] / T[sel]
        W = 1.0 / s**2
        A = X.T @ (X * W[:, None])
        coef = np.linalg.solve(A, X.T @ (W * y))
        r = (y - X @ coef) / s
        chi2_red = float(r @ r / (n - 2)) if n > 2 else float("nan")
        cov = np.linalg.inv(A) * max(1.0, chi2_red if math.isfinite(chi2_red) else 1.0)
    else:
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        r = y - X @ coef
        s2 = float(r @ r / (n - 2))
        cov = np.linalg.inv(X.T @ X) * s2
        chi2_red = float("nan")
    return CvFit(float(coef[0]), float(coef[1]), float(math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1])),
                 ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))), chi2_red, n,
                 float(T[sel].min()), float(T[sel].max()), weighted, dict(theory_ref or {}), "weighted" if weighted else "unweighted")


def theory_c1_c3(g, T_I: float, phi_v: float) -> dict[str, Any]:
    """c1, c3 of the theory for an equilibrium initial state at ``T_I`` (Eq. A13 for any g;
    Eq. 10 added for uniform g), computed by :mod:`dplm_explore.theory`."""
    g = as_g(g)
    ex = theory.Cv_expansion(g, T_I, phi_v)
    out: dict[str, Any] = {"source": "theory.Cv_expansion (Eq. A13)", "T_I": float(T_I), "phi_v": float(phi_v), "c1": ex.c1, "c3": ex.c3, "c2": ex.c2,
                           "T_series_10pct": ex.T_10pct}
    if isinstance(g, theory.Uniform):
        c1e, c3e = theory.c1_c3_eq10(T_I, phi_v, g.dV)
        out.update({"c1_eq10": c1e, "c3_eq10": c3e})
    return out


# ===================================================================================== result
@register_result
@dataclass
class HeatCapacity(Result):
    """C_v(T) of a temperature program averaged over replicas (see the module docstring).

    Arrays (R replicas, s program steps, m bins, k C_v points):

    * ``T`` float[k], ``Cv``, ``Cv_err`` float[k], ``Cv_replicas`` float[R, k]: the result;
    * ``T_bins`` float[m] (time-weighted mean over replicas), ``e_bins`` float[R, m] energy per
      particle, ``time_bins`` float[R, m], ``Cv_fluct`` float[m] (replica mean);
    * ``T_steps`` float[s], ``E_steps``, ``E2_steps``, ``time_steps`` float[R, s] (total energy,
      as the engine reports), ``hops_steps`` int64[R, s], ``returns_steps`` int64[R, s, 4]
      (p_returns, p_nonreturns, v_returns, v_nonreturns);
    * ``Cv_eq_theory`` float[k] (:func:`theory.Cv_eq`), ``Cv_tls_theory`` float[k]
      (:func:`theory.Cv_tls` with the Eq. 5 cut-off at the program's cooling rate; NaN without ``T_I``);
    * ``seeds`` int64[R] (``SeedSequence(root_seed).spawn``), ``done`` bool[R];
    * ``energy_drift`` float[R]: at the end of each replica, ``|E_incremental - E_scratch| /
      |E_scratch|`` (the engine's tracked energy against a full recomputation, docs/physics.md
      section 4; NaN for replicas not done, or in files written before it was recorded).

    ``system``: :func:`system_spec`; ``program``: the program's dict; ``binning``: edges rule;
    ``scheme``: derivative scheme; ``provenance``: versions, wall times, ``complete``.
    """

    T: np.ndarray
    Cv: np.ndarray
    Cv_err: np.ndarray
    Cv_replicas: np.ndarray
    T_bins: np.ndarray
    e_bins: np.ndarray
    time_bins: np.ndarray
    Cv_fluct: np.ndarray
    T_edges: np.ndarray
    T_steps: np.ndarray
    E_steps: np.ndarray
    E2_steps: np.ndarray
    time_steps: np.ndarray
    hops_steps: np.ndarray
    returns_steps: np.ndarray
    Cv_eq_theory: np.ndarray
    Cv_tls_theory: np.ndarray
    seeds: np.ndarray
    done: np.ndarray
    energy_drift: np.ndarray
    root_seed: int
    system: dict
    program: dict
    binning: dict
    scheme: str
    provenance: dict

    _array_dicts: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _missing_field(cls, name: str, kwargs: dict[str, Any]):
        """Files written before ``energy_drift`` existed load with NaN drifts."""
        if name == "energy_drift" and "seeds" in kwargs:
            return np.full(np.asarray(kwargs["seeds"]).size, np.nan)
        return super()._missing_field(name, kwargs)

    @property
    def n_particles(self) -> int:
        return int(self.system["n_particles"])

    @property
    def n_done(self) -> int:
        return int(np.count_nonzero(self.done))

    def fit(self, T_max: float, T_min: float = 0.0) -> CvFit:
        """:func:`fit_cv_low_T` on this result (errors from the per-replica fits when >= 2
        replicas are done), with the theory's c1, c3 for the initial state when it was an
        equilibrium state at ``T_I``."""
        ref = {}
        if self.system.get("T_I") is not None and self.system.get("init") == "equilibrium":
            ref = theory_c1_c3(self.system["g"], self.system["T_I"], self.system["phi_v_realised"])
        reps = self.Cv_replicas[self.done] if self.n_done >= 2 else None
        return fit_cv_low_T(self.T, self.Cv, T_max=T_max, T_min=T_min, theory_ref=ref, Cv_replicas=reps)

    def return_probabilities(self) -> dict[str, np.ndarray]:
        """Event-level P_ret and Q_ret per temperature bin (Fig. 4a), pooled over the finished
        replicas from the engine's return counters: ``T`` (bin temperature), ``P_ret``,
        ``P_ret_err``, ``Q_ret``, ``Q_ret_err`` (binomial), ``counts`` int64[m, 4]."""
        from ._binning import return_probability

        edges = self.T_edges
        m = edges.size - 1
        idx = np.searchsorted(edges, self.T_steps, side="right") - 1
        idx[self.T_steps == edges[-1]] = m - 1
        inside = (idx >= 0) & (idx < m)
        c = self.returns_steps[self.done].sum(axis=0)  # [s, 4]
        counts = np.zeros((m, 4), np.int64)
        for k in range(4):
            counts[:, k] = np.bincount(idx[inside], weights=c[inside, k], minlength=m).astype(np.int64)
        P, Pe = return_probability(counts[:, 0], counts[:, 1])
        Q, Qe = return_probability(counts[:, 2], counts[:, 3])
        return {"T": self.T_bins.copy(), "P_ret": P, "P_ret_err": Pe, "Q_ret": Q, "Q_ret_err": Qe, "counts": counts}

    def rebin(self, *, dT_bin: float | None = None, n_log_bins: int | None = None, T_edges=None, scheme: str | None = None) -> "HeatCapacity":
        """The same runs with other bins or another derivative scheme (recomputed from the steps)."""
        binning = _binning_rule(dT_bin, n_log_bins, T_edges)
        return _assemble(self.system, self.program, self.T_steps, self.E_steps, self.E2_steps, self.time_steps, self.hops_steps, self.returns_steps,
                         self.seeds, self.done, self.root_seed, binning, scheme or self.scheme, dict(self.provenance), energy_drift=self.energy_drift)


def _binning_rule(dT_bin, n_log_bins, T_edges) -> dict[str, Any]:
    given = sum(x is not None for x in (dT_bin, n_log_bins, T_edges))
    if given > 1:
        raise ValueError(f"give at most one of dT_bin, n_log_bins, T_edges; got dT_bin={dT_bin!r}, n_log_bins={n_log_bins!r}, T_edges={T_edges!r}")
    if T_edges is not None:
        e = np.asarray(T_edges, float)
        if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0) or e[0] <= 0:
            raise ValueError(f"T_edges must be increasing positive temperatures (>= 2 values); got {T_edges!r}")
        return {"rule": "edges", "edges": e.tolist()}
    if n_log_bins is not None:
        return {"rule": "log", "n_log_bins": positive_int("n_log_bins", n_log_bins)}
    if dT_bin is not None:
        return {"rule": "linear", "dT_bin": positive("dT_bin", dT_bin)}
    return {"rule": "steps"}


def _edges_for(binning: dict, T_steps: np.ndarray) -> np.ndarray:
    lo, hi = float(T_steps.min()), float(T_steps.max())
    rule = binning["rule"]
    if rule == "edges":
        return np.asarray(binning["edges"], float)
    if rule == "steps":
        # one bin per distinct step temperature
        u = np.unique(T_steps)
        if u.size == 1:
            return np.array([u[0] * (1 - 1e-9), u[0] * (1 + 1e-9)])
        mids = 0.5 * (u[1:] + u[:-1])
        return np.concatenate([[u[0] - (mids[0] - u[0])], mids, [u[-1] + (u[-1] - mids[-1])]])
    if rule == "linear":
        # edges at multiples of dT_bin, so that bins are the same for every ramp through them
        dT = binning["dT_bin"]
        lo_e = math.floor(lo / dT * (1 + 1e-12)) * dT
        hi_e = math.ceil(hi / dT * (1 - 1e-12)) * dT
        if hi_e <= hi:
            hi_e += dT
        if lo_e <= 0:
            lo_e = lo * (1 - 1e-9)
        return temperature_edges(lo_e, hi_e, dT_bin=dT)
    return temperature_edges(lo * (1 - 1e-9), hi * (1 + 1e-9), n_log_bins=binning["n_log_bins"])


def _assemble(system, program, T_steps, E_steps, E2_steps, time_steps, hops_steps, returns_steps, seeds, done, root_seed, binning, scheme, provenance, theory_cache=None,
              energy_drift=None) -> HeatCapacity:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    N = int(system["n_particles"])
    R = seeds.size
    edges = _edges_for(binning, T_steps)
    b = bin_steps(T_steps, time_steps, E_steps, E2_steps, edges)
    dn = np.asarray(done, bool)
    # bin temperatures: time-weighted over finished replicas (identical programs -> identical bins)
    if dn.any():
        tw = b["time"][dn]
        with np.errstate(invalid="ignore", divide="ignore"):
            T_bins = np.nansum(np.nan_to_num(b["T"][dn]) * tw, axis=0) / tw.sum(axis=0)
    else:
        T_bins = np.full(edges.size - 1, np.nan)
    e_bins = b["E"] / N
    # fluctuation estimate: within-step variance (a step's ramp drift is negligible), averaged
    # over the steps of each bin with time weights
    var_steps = E2_steps - E_steps**2
    vb = bin_steps(T_steps, time_steps, var_steps, var_steps, edges)["E"]
    with np.errstate(invalid="ignore", divide="ignore"):
        fl = vb / (N * b["T"] ** 2)
    flm = np.where(dn[:, None] & np.isfinite(fl), fl, 0.0)
    cnt = (dn[:, None] & np.isfinite(fl)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        Cv_fluct = np.where(cnt > 0, flm.sum(axis=0) / np.maximum(cnt, 1), np.nan)
    T_eval, Cv_r = heat_capacity_from_bins(T_bins, np.where(dn[:, None], e_bins, np.nan), scheme)
    k = T_eval.size
    Cv_rep = np.full((R, k), np.nan)
    Cv_rep[dn] = Cv_r[dn]
    nd = int(dn.sum())
    if nd:
        Cv = Cv_rep[dn].mean(axis=0)
        Cv_err = Cv_rep[dn].std(axis=0, ddof=1) / math.sqrt(nd) if nd > 1 else np.full(k, np.nan)
    else:
        Cv = np.full(k, np.nan)
        Cv_err = np.full(k, np.nan)
    if theory_cache is not None and theory_cache.get("T") is not None and np.array_equal(theory_cache["T"], T_eval):
        Cv_eq_th, Cv_tls_th = theory_cache["eq"], theory_cache["tls"]
    else:
        Cv_eq_th, Cv_tls_th = _theory_curves(system, program, T_eval)
        if theory_cache is not None:
            theory_cache.update({"T": T_eval.copy(), "eq": Cv_eq_th, "tls": Cv_tls_th})
    return HeatCapacity(
        T=T_eval, Cv=Cv, Cv_err=Cv_err, Cv_replicas=Cv_rep, T_bins=T_bins, e_bins=e_bins, time_bins=b["time"], Cv_fluct=Cv_fluct,
        T_edges=edges, T_steps=T_steps, E_steps=E_steps, E2_steps=E2_steps, time_steps=time_steps, hops_steps=hops_steps,
        returns_steps=returns_steps, Cv_eq_theory=Cv_eq_th, Cv_tls_theory=Cv_tls_th, seeds=seeds, done=dn.copy(),
        energy_drift=np.full(seeds.size, np.nan) if energy_drift is None else np.asarray(energy_drift, float).copy(),
        root_seed=int(root_seed), system=system, program=program, binning=binning, scheme=scheme, provenance=provenance,
    )


def heat_capacity_from_replicas(system: dict, program, replicas, *, root_seed: int, dT_bin: float | None = None, n_log_bins: int | None = None,
                                scheme: str = "midpoint", provenance: dict | None = None) -> HeatCapacity:
    """A :class:`HeatCapacity` from replicas run elsewhere (for example by the paper-scale
    campaign): ``replicas`` is a list of dicts with the per-step arrays ``T``, ``time``, ``E``,
    ``E2``, ``hops``, ``returns`` (as :meth:`Simulation.temperature_bins` gives them, ``returns``
    int64[s, 4]) and ``seed``, ``drift``, ``wall_s``; ``system``: :func:`system_spec`;
    ``program``: the :class:`Program` (or its dict) every replica ran."""
    prog = program if isinstance(program, Program) else Program.from_dict(program)
    T_steps, _ = prog.compile(0.0)
    if not replicas:
        raise ValueError("replicas must hold at least one finished replica; got none")
    for r in replicas:
        if r["T"].size != T_steps.size or not np.allclose(r["T"], T_steps):
            raise ValueError(f"replica with seed {r.get('seed')!r} ran {r['T'].size} steps; the program has {T_steps.size}")
    stack = {k: np.stack([np.asarray(r[k]) for r in replicas]) for k in ("time", "E", "E2", "hops", "returns")}
    R = len(replicas)
    prov = dict(provenance or {}, replica_wall_s=[float(r.get("wall_s", float("nan"))) for r in replicas], complete=True, n_done=R)
    return _assemble(system, prog.to_dict(), T_steps, stack["E"], stack["E2"], stack["time"], stack["hops"].astype(np.int64), stack["returns"].astype(np.int64),
                     np.array([int(r["seed"]) for r in replicas], np.int64), np.ones(R, bool), int(root_seed), _binning_rule(dT_bin, n_log_bins, None), scheme,
                     prov, energy_drift=np.array([float(r.get("drift", float("nan"))) for r in replicas]))


def low_T_fit_limit(system: dict) -> float:
    """Upper end of the low-T fit window of ``C_v / T = c1 + c3 T^2``: ``min(T_I, T_series) / 2``,
    with ``T_series`` the temperature below which the theory's series (Eq. A13) is within 10 %
    of the numerical C_v integral. Half of T_I keeps the excess of C_v near T ~ T_I (the
    relaxations that the initial equilibrium still allows) out of the fit, so it cannot pull c3."""
    T_I = float(system["T_I"])
    ref = theory_c1_c3(system["g"], T_I, system["phi_v_realised"])
    T_s = ref["T_series_10pct"]
    return 0.5 * min(T_I, T_s if math.isfinite(T_s) else T_I)


#: fit window of C_v/T = c1 + c3 T^2 for runs whose start is not an equilibrium well below T_g
#: (cooled from near or above T_g: Figs. 6, 8), where the theory's series limit does not apply
NONEQ_FIT_T_MAX = 0.025


def fit_window(hc: "HeatCapacity", T_I_ref: float | None = None) -> float:
    """The stated low-T fit window of a C_v curve: :func:`low_T_fit_limit` for a run started in
    equilibrium at ``T_I <= T_I_ref`` (default 0.1, the ultrastable regime of Figs. 1 and 7),
    :data:`NONEQ_FIT_T_MAX` otherwise."""
    ref = 0.1 if T_I_ref is None else float(T_I_ref)
    T_I = hc.system.get("T_I")
    if hc.system.get("init") == "equilibrium" and T_I is not None and float(T_I) <= ref:
        return low_T_fit_limit(hc.system)
    return NONEQ_FIT_T_MAX


def _theory_curves(system, program, T_eval) -> tuple[np.ndarray, np.ndarray]:
    g = as_g(system["g"])
    phi = system["phi_v_realised"]
    ok = np.isfinite(T_eval) & (T_eval > 0)
    eq = np.full(T_eval.shape, np.nan)
    tls = np.full(T_eval.shape, np.nan)
    if ok.any():
        eq[ok] = theory.Cv_eq(T_eval[ok], g, phi)
        if system.get("T_I") is not None and system.get("init") == "equilibrium":
            ramps = [s for s in program["segments"] if s["kind"] == "ramp"]
            nu = ramps[0]["nu"] if ramps else NU_PAPER
            tls[ok] = theory.Cv_tls(T_eval[ok], g, system["T_I"], phi, nu=nu, w0=system["w0"])
    return eq, tls


# ================================================================================ measurement
def _run_program_replica(item) -> dict[str, Any]:
    """One replica (top-level so that process pools and Dask can pickle it)."""
    spec, program_d, seed = item
    t0 = time.perf_counter()
    sim = build_simulation(spec, seed, Program.from_dict(program_d))
    sim.advance()
    b = sim.temperature_bins()
    ret = np.stack([b["p_returns"], b["p_nonreturns"], b["v_returns"], b["v_nonreturns"]], axis=-1).astype(np.int64)
    return {"seed": int(seed), "T": b["T"], "time": b["time"], "E": b["E_mean"], "E2": b["E2_mean"], "hops": b["hops"].astype(np.int64),
            "returns": ret, "n_hops": sim.hops, "wall_s": time.perf_counter() - t0, "drift": _relative_drift(sim)}


def _relative_drift(sim) -> float:
    """``|E_incremental - E_scratch| / |E_scratch|`` (absolute difference if E_scratch is 0)."""
    e_inc, e_full = sim.energy, sim.energy_from_scratch()
    diff = abs(e_inc - e_full)
    return float(diff / abs(e_full)) if e_full != 0 else float(diff)


def measure_heat_capacity(
    L: int,
    phi_v: float,
    *,
    T_I: float,
    T_final: float,
    nu: float,
    g=None,
    dT_step: float | None = None,
    n_replicas: int = 4,
    seed=None,
    w0: float = W0_DEFAULT,
    init: str = "equilibrium",
    dT_bin: float | None = None,
    n_log_bins: int | None = None,
    T_edges=None,
    scheme: str = "midpoint",
    dynamics: str = "hop",
    run: RunOptions | None = None,
    **run_keywords,
) -> HeatCapacity:
    """C_v(T) of a linear ramp from ``T_I`` to ``T_final`` at rate ``nu`` (cooling if
    ``T_final < T_I``, heating otherwise), averaged over ``n_replicas`` independent replicas.

    Each replica starts from its own initial state (exact equilibrium at ``T_I`` by default, or
    ``init='random'``) and seed ``SeedSequence(seed).spawn(n_replicas)[i]``. Bins: ``dT_bin``
    (linear), ``n_log_bins`` (logarithmic), explicit ``T_edges``, or one bin per program step
    (default). ``workers``/``scheduler``: replicas run on local processes or a Dask cluster
    (:func:`dplm_explore.parallel.map_tasks`); results do not depend on where they ran.
    ``dynamics``: 'hop' or 'first-passage' (the engine's, see :data:`~dplm_explore.kmc.engine.DYNAMICS`).

    How it runs: ``run`` (:class:`~dplm_explore.parallel.RunOptions`) or its fields as keywords
    (``workers`` default 1: in this process). ``out``: result file, written after every finished
    replica (``complete=False`` until the last), never replacing an existing file unless
    ``overwrite``; ``resume=True`` continues a partial file written by an identical earlier call
    (same system, program, seeds).
    """
    run = RunOptions.resolve(run, run_keywords, caller="measure_heat_capacity")
    out, overwrite, resume = run.out, run.overwrite, run.resume

    spec = system_spec(L, phi_v, g=g, T_I=T_I if init == "equilibrium" else None, init=init, w0=w0, dynamics=dynamics)
    if init != "equilibrium":
        spec["T_I"] = None
    T_I = positive("T_I", T_I)
    T_final = positive("T_final", T_final)
    if T_final == T_I:
        raise ValueError(f"T_final must differ from T_I; got both {T_I!r}")
    prog = make_program(T_I, T_final, positive("nu", nu), dT_step)
    prog_d = prog.to_dict()
    binning = _binning_rule(dT_bin, n_log_bins, T_edges)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    T_steps, _ = prog.compile(0.0)
    s = T_steps.size
    if resume:
        if out is None:
            raise ValueError("resume=True needs out (the partial result file)")
        if not npz_path(out).exists():
            raise ValueError(f"resume=True but {npz_path(out)} does not exist (run without resume to start it)")
        prev = HeatCapacity.load(npz_path(out))
        if prev.system != _jsonable(spec) or prev.program != _jsonable(prog_d) or prev.seeds.size != positive_int("n_replicas", n_replicas):
            raise ValueError(f"{out} was written for other parameters; cannot resume it")
        root, seeds = prev.root_seed, prev.seeds
        arrays = {k: getattr(prev, k).copy() for k in ("E_steps", "E2_steps", "time_steps", "hops_steps", "returns_steps")}
        done = prev.done.copy()
        drift = prev.energy_drift.copy()
        wall = list(prev.provenance.get("replica_wall_s", [None] * seeds.size))
    else:
        if out is not None:
            check_writable(npz_path(out), overwrite)
        root, seeds = spawn_seeds(seed, n_replicas)
        R = seeds.size
        arrays = {"E_steps": np.full((R, s), np.nan), "E2_steps": np.full((R, s), np.nan), "time_steps": np.zeros((R, s)),
                  "hops_steps": np.zeros((R, s), np.int64), "returns_steps": np.zeros((R, s, 4), np.int64)}
        done = np.zeros(R, bool)
        drift = np.full(R, np.nan)
        wall = [None] * R
    t_start = time.perf_counter()
    prov_base = base_provenance(kind="heat capacity", n_replicas=int(seeds.size))
    cache: dict[str, Any] = {}

    def current(complete: bool) -> HeatCapacity:
        prov = dict(prov_base, complete=complete, n_done=int(done.sum()), replica_wall_s=wall, wall_s=time.perf_counter() - t_start)
        return _assemble(spec, prog_d, T_steps, arrays["E_steps"], arrays["E2_steps"], arrays["time_steps"], arrays["hops_steps"], arrays["returns_steps"],
                         seeds, done, root, binning, scheme, prov, cache, energy_drift=drift)

    def on_result(i, res):
        n = res["T"].size
        if n != s or not np.allclose(res["T"], T_steps):
            raise RuntimeError(f"replica {i} ran {n} steps; expected {s}")
        arrays["E_steps"][i] = res["E"]
        arrays["E2_steps"][i] = res["E2"]
        arrays["time_steps"][i] = res["time"]
        arrays["hops_steps"][i] = res["hops"]
        arrays["returns_steps"][i] = res["returns"]
        done[i] = True
        drift[i] = res["drift"]
        wall[i] = res["wall_s"]
        if out is not None:
            current(bool(done.all())).save(out, overwrite=True)

    if out is not None and not resume:
        current(False).save(out, overwrite=overwrite)  # claims the name before any work (a concurrent writer gets FileExistsError)
    todo = [i for i in range(seeds.size) if not done[i]]
    run.map(_run_program_replica, [(spec, prog_d, int(seeds[i])) for i in todo], desc="replicas", on_result=lambda j, res: on_result(todo[j], res))
    result = current(True)
    if out is not None:
        result.save(out, overwrite=True)
    return result


def _jsonable(d):
    import json

    return json.loads(json.dumps(d))


@register_task("cool", {"T_I", "init", "T_final", "nu", "dT_step", "dT_bin", "n_log_bins", "scheme", "dynamics"})
def _sweep_cool(p: dict, seed: int) -> dict[str, Any]:
    """One replica of a ramp ``T_I -> T_final`` at ``nu``: its C_v(T) (``dT_bin`` or one bin per
    step, ``scheme``) and the bin energies."""
    need(p, "L", "phi_v", "T_I", "T_final", "nu")
    init = p.get("init", "equilibrium")
    spec = system_spec(p["L"], p["phi_v"], g=task_g(p), T_I=p["T_I"] if init == "equilibrium" else None, init=init, w0=p.get("w0", W0_DEFAULT),
                       dynamics=p.get("dynamics", "hop"))
    prog = make_program(p["T_I"], p["T_final"], p["nu"], p.get("dT_step"))
    r = _run_program_replica((spec, prog.to_dict(), seed))
    hc = heat_capacity_from_replicas(spec, prog, [r], root_seed=seed, dT_bin=p.get("dT_bin"), n_log_bins=p.get("n_log_bins"), scheme=p.get("scheme", "midpoint"))
    return {"T": hc.T, "Cv": hc.Cv, "T_bins": hc.T_bins, "e_bins": hc.e_bins[0], "Cv_eq_theory": hc.Cv_eq_theory, "hops": r["n_hops"], "wall_s": r["wall_s"],
            "energy_drift": float(hc.energy_drift[0])}
