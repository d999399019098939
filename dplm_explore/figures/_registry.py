"""The registry of the paper's figures (Figs. 1-10 of Gao et al. 2021): how each is computed and drawn.

:data:`FIGURES` maps a name (``fig1`` ... ``fig10``, ``fig4a``, ``fig4b``) to a :class:`FigureSpec`
with two scales:

* ``"quick"`` — a recipe with small parameters (seconds to a minute, for CI and teaching): the
  figure's analyses run now, and the figure is labelled *quick scale*;
* ``"paper"`` — the paper's parameters, computed once by the campaign
  (:mod:`dplm_explore.campaign`, ``dplm-explore reproduce``) and shipped as
  ``dplm_explore/data/<name>_paper.npz``: :func:`figure_data` loads the shipped file in seconds
  (:func:`dplm_explore.reproduction.recompute_figure` runs the figure's campaign jobs again).

Example::

    from dplm_explore.figures import FIGURES, figure_data
    layout = FIGURES["fig1"].draw(figure_data("fig1", "paper"))
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..interactions import FermiGauss, Uniform, as_g
from ..schedules import NU_PAPER
from ..system import W0_DEFAULT
from . import _factories as F
from . import _kit as k
from ._data import FigureData, load_figure_data

__all__ = ["FIGURES", "FigureSpec", "SCALES", "DATA_DIR", "figure_data", "shipped_path"]

SCALES = ("quick", "paper")
#: shipped paper-scale data ``<name>_paper.npz`` (written by ``dplm-explore reproduce --assemble``)
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: root seed of the quick recipes
QUICK_SEED = 2021


def shipped_path(name: str) -> Path:
    return DATA_DIR / f"{name}_paper.npz"


# ================================================================================= quick recipes
def _bar(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not progress, leave=False)


def _seeds(seed, n: int) -> list[int]:
    from ..analysis import spawn_seeds

    return [int(s) for s in spawn_seeds(seed, n)[1]]


def _compute_cv_runs(p: dict, seed, progress: bool, vary: str) -> dict:
    """Cooling runs for Figs. 1, 7, 8: one HeatCapacity per value of ``p[vary]`` (a list)."""
    from ..analysis import measure_heat_capacity

    values = p[vary]
    out = {}
    with _bar(len(values), f"cooling runs ({vary})", progress) as bar:
        for v, s in zip(values, _seeds(seed, len(values))):
            kw = {k: p[k] for k in ("L", "phi_v", "T_I", "T_final", "nu", "n_replicas", "dT_bin", "w0") if k in p and k != vary}
            kw[vary] = v
            key = f"{'T_I' if vary == 'T_I' else 'φ_v'}={v:g}"
            out[key] = measure_heat_capacity(g=as_g(p["g"]), seed=s, progress=progress, **kw)
            bar.update()
    return out


def _compute_fig2(p, seed, progress):
    from ..analysis import cooling_simulation, find_tls, void_occupation_during_cooling
    from ..schedules import constant

    sim = cooling_simulation(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=as_g(p["g"]), seed=seed, w0=p["w0"])
    occ = void_occupation_during_cooling(sim, p["T_marks"], p["hops"], progress=progress)
    sim.set_program(constant(sim.T))
    tls = find_tls(sim, p["hops"], min_transitions=4, progress=progress, context={"after": "fig2 occupation windows"})
    return {"occupation": occ, "tls": tls}


def _compute_fig3(p, seed, progress):
    from ..analysis import cooling_simulation, find_tls, measure_tls_boltzmann, trace_voids
    from ..schedules import constant

    sim = cooling_simulation(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_hold"], nu=p["nu"], g=as_g(p["g"]), seed=seed, w0=p["w0"])
    sim.advance(progress=progress)
    sim.set_program(constant(p["T_hold"]))
    cat = find_tls(sim, p["hops"], min_transitions=p["min_transitions"], progress=progress,
                   context={"cooling": {"T_I": p["T_I"], "T_final": p["T_hold"], "nu": p["nu"]}, "T_hold": p["T_hold"]})
    if len(cat.void) == 0:
        raise RuntimeError(f"no TLS found at T = {p['T_hold']} in a {p['L']}x{p['L']} system over {p['hops']} hops; try another seed or a larger L")
    order = np.argsort(-cat.n_transitions)[: p["n_tls"]]
    chosen = dataclasses.replace(cat, **{f: getattr(cat, f)[order] for f in ("void", "site1", "site2", "xy1", "xy2", "p1", "p2", "ratio", "ratio_err", "n_transitions", "dE", "boltzmann", "z")})
    traces = trace_voids(sim, chosen.void, interval=p["trace_interval"], hops=p["trace_hops"], progress=progress)
    bz = measure_tls_boltzmann(sim, chosen, p["boltzmann_T"], p["boltzmann_hops"], progress=progress)
    return {"catalogue": cat, "traces": traces, "boltzmann": bz}


def _compute_fig4a(p, seed, progress):
    from ..analysis import measure_returns_during_cooling

    return {"returns": measure_returns_during_cooling(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=as_g(p["g"]),
                                                      snapshot_interval=p["snapshot_interval"], dT_bin=p["dT_bin"], seed=seed, w0=p["w0"], progress=progress)}


def _compute_fig4b(p, seed, progress):
    from ..analysis import measure_q_curve

    return {"q": measure_q_curve(p["L"], p["phi_v"], p["T_I"], g=as_g(p["g"]), n_states=p["n_states"], seed=seed, nu=p["nu"], w0=p["w0"])}


def _compute_fig5(p, seed, progress):
    from ..analysis import measure_diffusion

    return {"diffusion": measure_diffusion(p["L"], p["phi_v"], p["T"], g=as_g(p["g"]), hops=p["hops"], n_replicas=p["n_replicas"], seed=seed,
                                           w0=p["w0"], forms=tuple(p["forms"]), progress=progress)}


def _compute_fig6(p, seed, progress):
    from ..analysis import measure_diffusion, measure_heat_capacity

    s1, s2 = _seeds(seed, 2)
    g = as_g(p["g"])
    d = measure_diffusion(p["L_diffusion"], p["phi_v"], p["T_diffusion"], g=g, hops=p["hops_diffusion"], seed=s1, w0=p["w0"], progress=progress)
    hc = measure_heat_capacity(p["L"], p["phi_v"], T_I=p["T_I"], T_final=p["T_final"], nu=p["nu"], g=g, n_replicas=p["n_replicas"], dT_bin=p["dT_bin"],
                               seed=s2, w0=p["w0"], progress=progress)
    return {"diffusion": d, "cooling": hc}


def _draw_fig6(results):
    d = results["diffusion"]
    if not math.isfinite(d.T_g):
        raise ValueError(f"our D(T) does not cross D_r = {d.D_r:g} at the temperatures run ({d.T.tolist()}); cannot set the glycerol temperature unit")
    return F.glycerol_figure(results["cooling"], d.T_g)




def _compute_tls_set(p, seed, progress):
    """Figs. 9, 10 at quick scale: the TLS history of one cooling run, small parameters."""
    from ..analysis import measure_tls_history

    return measure_tls_history(**dict(p, g=as_g(p["g"])), seed=seed)


def _draw_fig9(r):
    return F.tls_temperatures_figure({key: tr for key, tr in r.items() if key.startswith("traces_T")})


def _draw_fig10(r):
    return F.multilevel_figure(r["multilevel"], r.get("occupation"), window=2 if r.get("occupation") is not None and r["occupation"].p.shape[0] > 2 else None)


def _draw_fig2(r):
    return F.occupation_figure(r["occupation"], r.get("chosen", r.get("tls")))


def _draw_fig3(r):
    return F.tls_figure(r.get("traces_T0.05", r.get("traces")), r["boltzmann"])


def _draw_fig4a(r):
    return F.returns_figure(r.get("windows", r.get("returns")), r.get("cooling"))


def _draw_fig5(r):
    return F.diffusion_figure(r["diffusion"], uniform=r.get("uniform"))



_UNIFORM = Uniform(V0=0.0, dV=1.0).to_dict()
_GLYCEROL = FermiGauss(G0=0.2, sigma_V=0.1, dV=1.0).to_dict()
_TLS_QUICK = {"L": 40, "phi_v": 0.01, "g": _UNIFORM, "T_I": 0.21, "T_final": 0.04, "nu": 1e-2, "T_marks": [0.2, 0.15, 0.1, 0.05], "hops": 200_000,
              "T_hold": 0.05, "min_transitions": 4, "max_attempts": 8, "max_log_ratio": 20.0, "trace_events": 2000, "multilevel_T": 0.1,
              "boltzmann_T": [0.04, 0.05, 0.065, 0.08], "boltzmann_hops": 200_000, "boltzmann_equilibrate_hops": 20_000, "w0": W0_DEFAULT}


@dataclass(frozen=True)
class FigureSpec:
    """How to compute and draw one paper figure. ``quick``: the quick recipe's parameters
    (JSON-able); ``seconds``: rough wall time of the quick recipe on one core."""

    name: str
    title: str
    section: str
    quick: Mapping[str, Any]
    _compute: Callable[[dict, Any, bool], dict]
    _draw: Callable[[dict], Any]
    seconds: float = 10.0

    @property
    def params(self) -> dict[str, dict]:
        """The quick recipe's parameters (the paper scale's are campaign jobs:
        :func:`dplm_explore.reproduction.paper_parameters`)."""
        return {"quick": dict(self.quick)}

    def parameters(self, scale: str = "quick", **overrides) -> dict:
        if scale != "quick":
            raise ValueError(f"scale must be 'quick' for a recipe (the paper scale is made by the campaign: dplm-explore reproduce); got {scale!r}")
        p = json.loads(json.dumps(self.quick))
        unknown = set(overrides) - set(p)
        if unknown:
            raise ValueError(f"unknown parameter(s) for {self.name}: {sorted(unknown)}; known: {sorted(p)}")
        p.update(overrides)
        return p

    def compute(self, scale: str = "quick", *, seed: int = QUICK_SEED, progress: bool = False, **overrides) -> FigureData:
        """Run the quick recipe now (the figure then says *quick scale*)."""
        from ..results import base_provenance

        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        p = self.parameters(scale, **overrides)
        t0 = time.perf_counter()
        results = self._compute(p, int(seed), progress)
        cmd = f"dplm-explore figure {self.name} --scale {scale} --seed {int(seed)}"
        if overrides:
            cmd += "  # with overrides " + shlex.quote(json.dumps(overrides))
        prov = base_provenance(figure=self.name, scale=scale, seed=int(seed), wall_s=time.perf_counter() - t0, command=cmd)
        return FigureData(self.name, scale, p, results, prov)

    def draw(self, data: FigureData | Mapping[str, Any]):
        """The Bokeh layout from a :class:`FigureData` (or its ``results`` mapping); a quick-scale
        figure says so under every panel."""
        from bokeh.plotting import figure as Figure

        results = data.results if isinstance(data, FigureData) else data
        layout = self._draw(results)
        scale = data.scale if isinstance(data, FigureData) else None
        if scale == "quick":
            for p in layout.select({"type": Figure}):
                k.note(p, "QUICK SCALE: small test parameters, not the paper's")
        elif scale == "paper":
            cpu = data.provenance.get("cpu_hours")
            prog = data.provenance.get("jobs_progress", {})
            missing = sum(p["done"] == 0 for p in prog.values())
            partial = sum(0 < p["done"] < p["planned"] for p in prog.values())
            for p in _panels(layout)[:1]:
                k.note(p, f"paper scale{f', {cpu:.2f} CPU-h' if cpu is not None else ''}")
                if missing or partial:
                    k.note(p, f"campaign running: {missing} of {len(prog)} jobs to come, {partial} partial")
        return layout


def _panels(layout) -> list:
    """The figures of ``layout`` in its reading order (rows, then columns; ``select`` has no
    order, and the scale note must sit under the same panel on every drawing)."""
    from bokeh.plotting import figure as Figure

    if isinstance(layout, Figure):
        return [layout]
    kids = [c[0] if isinstance(c, tuple) else c for c in getattr(layout, "children", [])]
    return [p for c in kids for p in _panels(c)]


FIGURES: dict[str, FigureSpec] = {}


def _register(spec: FigureSpec) -> None:
    FIGURES[spec.name] = spec


_register(FigureSpec(
    "fig1", "C_v of ultrastable glasses for several T_I (C_v vs T; C_v/T vs T^2)", "III",
    {"L": 64, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.03, 0.05, 0.07], "T_final": 0.004, "nu": 1e-3, "n_replicas": 3, "dT_bin": 0.002, "w0": W0_DEFAULT},
    lambda p, s, pr: _compute_cv_runs(p, s, pr, "T_I"), F.specific_heat_figure, 20))
_register(FigureSpec(
    "fig2", "void occupation maps p_i^void during cooling", "IV",
    {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.21, "T_final": 0.045, "nu": 1e-2, "T_marks": [0.2, 0.15, 0.1, 0.05], "hops": 200_000, "w0": W0_DEFAULT},
    _compute_fig2, _draw_fig2, 15))
_register(FigureSpec(
    "fig3", "two-level systems: void displacement traces and the Boltzmann check p2/p1 = exp(-dE/T)", "IV",
    {"L": 64, "phi_v": 0.01, "g": _UNIFORM, "T_I": 0.15, "T_hold": 0.05, "nu": 1e-2, "hops": 1_000_000, "min_transitions": 4, "n_tls": 2,
               "trace_interval": 2e-4, "trace_hops": 100_000, "boltzmann_T": [0.08, 0.065, 0.05, 0.04, 0.033], "boltzmann_hops": 300_000, "w0": W0_DEFAULT},
    _compute_fig3, _draw_fig3, 15))
_register(FigureSpec(
    "fig4a", "return probabilities P_ret, Q_ret vs 1/T during cooling", "IV",
    {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": 0.2, "T_final": 0.05, "nu": 1e-2, "snapshot_interval": 1e-3, "dT_bin": 0.025, "w0": W0_DEFAULT},
    _compute_fig4a, _draw_fig4a, 15))
_register(FigureSpec(
    "fig4b", "q, the probability that a hop is energetically possible, vs 1/T_I", "V",
    {"L": 64, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.03, 0.05, 0.07, 0.1, 0.15, 0.2], "n_states": 2, "nu": NU_PAPER, "w0": W0_DEFAULT},
    _compute_fig4b, lambda r: F.q_figure(r["q"]), 3))
_register(FigureSpec(
    "fig5", "Arrhenius plot of D for the Fermi-plus-Gaussian g (G0 = 0.2, sigma_V = 0.1)", "VI",
    {"L": 24, "phi_v": 0.01, "g": _GLYCEROL, "T": [0.4, 0.33, 0.29, 0.26, 0.24, 0.22], "hops": 1_000_000, "n_replicas": 4, "forms": ["vft"], "w0": W0_DEFAULT},
    _compute_fig5, _draw_fig5, 10))
_register(FigureSpec(
    "fig6", "C_v/T vs T^2 in glycerol units (phi_v = 0.031, nu = 1e-2)", "VI",
    {"L": 32, "L_diffusion": 24, "phi_v": 0.031, "g": _GLYCEROL, "T_diffusion": [0.4, 0.33, 0.29, 0.26, 0.24, 0.22, 0.2], "hops_diffusion": 600_000,
               "T_I": 0.2, "T_final": 0.002, "nu": 1e-2, "n_replicas": 3, "dT_bin": 0.001, "w0": W0_DEFAULT},
    _compute_fig6, _draw_fig6, 30))
_register(FigureSpec(
    "fig7", "C_v vs T at T_I = 0.05 for several void densities", "App. A",
    {"L": 64, "phi_v": [0.0025, 0.005, 0.01], "g": _UNIFORM, "T_I": 0.05, "T_final": 0.004, "nu": 1e-3, "n_replicas": 3, "dT_bin": 0.002, "w0": W0_DEFAULT},
    lambda p, s, pr: _compute_cv_runs(p, s, pr, "phi_v"), F.void_density_figure, 15))
_register(FigureSpec(
    "fig8", "C_v after cooling from T_I near T_g: C_v/T vs T^2 and log-log C_v vs T", "App. A",
    {"L": 40, "phi_v": 0.005, "g": _UNIFORM, "T_I": [0.08, 0.12, 0.16], "T_final": 0.004, "nu": 1e-2, "n_replicas": 2, "dT_bin": 0.002, "w0": W0_DEFAULT},
    lambda p, s, pr: _compute_cv_runs(p, s, pr, "T_I"), F.high_TI_figure, 40))


_register(FigureSpec(
    "fig9", "traces of the two TLS voids of Fig. 2 at T = 0.2, 0.15, 0.1, 0.05", "App. B", dict(_TLS_QUICK),
    _compute_tls_set, _draw_fig9, 30))
_register(FigureSpec(
    "fig10", "a four-level system at T = 0.1: its void and three particles, and p_void around it", "App. B", dict(_TLS_QUICK),
    _compute_tls_set, _draw_fig10, 30))


def figure_data(name: str, scale: str = "quick", *, seed: int = QUICK_SEED, progress: bool = False) -> FigureData:
    """The data of figure ``name``: paper scale, the shipped file (made by the campaign:
    ``dplm-explore reproduce``; :func:`dplm_explore.reproduction.recompute_figure` redoes it);
    quick scale, the recipe run now."""
    if name not in FIGURES:
        raise ValueError(f"name must be one of {', '.join(FIGURES)}; got {name!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
    if scale == "paper":
        path = shipped_path(name)
        if not path.exists():
            raise ValueError(f"no shipped paper-scale data for {name} ({path.name}); compute it with: dplm-explore reproduce --figures {name}")
        return load_figure_data(path)
    return FIGURES[name].compute(scale, seed=seed, progress=progress)
