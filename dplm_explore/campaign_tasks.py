"""The functions behind the campaign's one-piece jobs (:class:`~dplm_explore.campaign.TaskJob`):
``task(params, seed, progress) -> dict of Results``. Fig. 4b's q curve, the TLS history of one
cooling run (Figs. 2/3/9/10), and D(T) run until the MSD is diffusive (Figs. 5, 6, T_g)."""

from __future__ import annotations


import numpy as np

__all__ = ["q_curve_task", "tls_history_task", "diffusion_task"]

def q_curve_task(p: dict, seed: int, progress: bool) -> dict:
    from .analysis import measure_q_curve
    from .interactions import as_g

    return {"q": measure_q_curve(p["L"], p["phi_v"], p["T_I"], g=as_g(p["g"]), n_states=p["n_states"], seed=seed, nu=p["nu"], w0=p["w0"])}


def tls_history_task(p: dict, seed: int, progress: bool) -> dict:
    from .analysis import measure_tls_history
    from .interactions import as_g

    return measure_tls_history(**dict(p, g=as_g(p["g"])), seed=seed)


def diffusion_task(p: dict, seed: int, progress: bool) -> dict:
    """D(T) with each temperature run until the MSD is about ``p["msd_target"]``: a pilot run of
    ``p["pilot_hops"]`` estimates D, then the measured runs (replicas) last
    ``msd_target / (4 D_pilot)`` (at most ``p["max_run_hops"]`` hops)."""
    from .analysis import measure_diffusion
    from .interactions import as_g

    g = as_g(p["g"])
    Ts = np.asarray(p["T"], float)
    pilot = measure_diffusion(p["L"], p["phi_v"], Ts, g=g, hops=p["pilot_hops"], n_replicas=1, seed=seed + 1, w0=p["w0"], forms=())
    rate = pilot.hops[:, 0] / np.nanmax(pilot.t[:, 0], axis=-1)  # hops per time unit
    times = p["msd_target"] / (4 * np.maximum(pilot.D, 1e-300))
    times = np.minimum(times, p["max_run_hops"] / rate)
    d = measure_diffusion(p["L"], p["phi_v"], Ts, g=g, time=times, n_replicas=p["n_replicas"], seed=seed, w0=p["w0"], forms=tuple(p["forms"]))
    return {"diffusion": d, "pilot": pilot}
