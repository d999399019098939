"""Binning and difference quotients shared by every measurement and by the explorer.

* :func:`temperature_edges` — linear or logarithmic temperature bins;
* :func:`bin_steps` — program steps (time, time-averaged E and E^2) grouped into temperature bins;
* :func:`heat_capacity_from_bins` — C_v as the difference quotient of bin energies;
* :func:`return_probability` — a return probability and its binomial error from counts;
* :func:`batch_heat_capacity` — fluctuation C_v per temperature bin from a time series of
  records, with errors from batch means over blocks of the run.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import positive, positive_int

__all__ = ["SCHEMES", "temperature_edges", "bin_index", "bin_steps", "heat_capacity_from_bins", "return_probability", "batch_heat_capacity"]

#: derivative schemes of :func:`heat_capacity_from_bins`
SCHEMES = ("midpoint", "central")


def temperature_edges(T_lo: float, T_hi: float, *, dT_bin: float | None = None, n_log_bins: int | None = None) -> np.ndarray:
    """Bin edges from ``T_lo`` to ``T_hi``: linear with width ``dT_bin`` (the last bin may be
    narrower) or ``n_log_bins`` logarithmically spaced bins (for the log-log view, Fig. 8b)."""
    T_lo = positive("T_lo", T_lo)
    T_hi = positive("T_hi", T_hi)
    if not T_hi > T_lo:
        raise ValueError(f"T_hi must exceed T_lo; got T_lo={T_lo!r}, T_hi={T_hi!r}")
    if (dT_bin is None) == (n_log_bins is None):
        raise ValueError(f"give exactly one of dT_bin and n_log_bins; got dT_bin={dT_bin!r}, n_log_bins={n_log_bins!r}")
    if dT_bin is not None:
        dT_bin = positive("dT_bin", dT_bin)
        n = max(1, int(math.ceil((T_hi - T_lo) / dT_bin - 1e-9)))
        edges = T_lo + dT_bin * np.arange(n + 1)
        edges[-1] = T_hi
        return edges
    n = positive_int("n_log_bins", n_log_bins)
    return np.geomspace(T_lo, T_hi, n + 1)


def bin_index(T, edges) -> tuple[np.ndarray, np.ndarray]:
    """``(idx, inside)``: the bin of each temperature (the last edge belongs to the last bin) and
    whether it lies inside ``edges`` at all (``idx`` is 0 where it does not)."""
    T = np.asarray(T, float)
    m = edges.size - 1
    idx = np.searchsorted(edges, T, side="right") - 1
    idx[T == edges[-1]] = m - 1
    inside = (idx >= 0) & (idx < m)
    return np.where(inside, idx, 0), inside


def bin_steps(T, time_, E, E2, edges) -> dict[str, np.ndarray]:
    """Group program steps into temperature bins.

    ``T`` float[s]: step temperatures; ``time_``, ``E``, ``E2`` float[s] or float[R, s]: time
    spent in each step and time-averaged E and E^2 (R replicas of the same program). ``edges``
    float[m + 1] increasing; a step belongs to the bin holding its temperature (the last edge
    included). Returns arrays of shape [m] or [R, m]: ``T`` (time-weighted mean temperature),
    ``E``, ``E2`` (time-weighted means) and ``time``; bins without time hold NaN (time 0)."""
    T = np.asarray(T, float)
    edges = np.asarray(edges, float)
    if T.ndim != 1:
        raise ValueError(f"T must be 1-d (the program's step temperatures); got shape {T.shape}")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be an increasing 1-d array of at least 2 values; got {edges!r}")
    one = np.asarray(time_).ndim == 1
    tm, Em, E2m = (np.atleast_2d(np.asarray(a, float)) for a in (time_, E, E2))
    if not (tm.shape == Em.shape == E2m.shape and tm.shape[-1] == T.size):
        raise ValueError(f"time_, E, E2 must have shape [s] or [R, s] with s = {T.size}; got {tm.shape}, {Em.shape}, {E2m.shape}")
    m = edges.size - 1
    idx, inside = bin_index(T, edges)
    out = {k: np.zeros((tm.shape[0], m)) for k in ("time", "T", "E", "E2")}
    for r in range(tm.shape[0]):
        w = np.where(inside & (tm[r] > 0) & np.isfinite(Em[r]), tm[r], 0.0)
        out["time"][r] = np.bincount(idx, weights=w, minlength=m)
        out["T"][r] = np.bincount(idx, weights=T * w, minlength=m)
        out["E"][r] = np.bincount(idx, weights=np.where(w > 0, Em[r], 0.0) * w, minlength=m)
        out["E2"][r] = np.bincount(idx, weights=np.where(w > 0, E2m[r], 0.0) * w, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in ("T", "E", "E2"):
            out[k] = np.where(out["time"] > 0, out[k] / out["time"], np.nan)
    if one:
        out = {k: v[0] for k, v in out.items()}
    return out


def heat_capacity_from_bins(T, e, scheme: str = "midpoint") -> tuple[np.ndarray, np.ndarray]:
    """``(T_eval, C_v)`` from bin temperatures ``T`` float[m] and per-particle bin energies
    ``e`` float[..., m] (see the module docstring for the schemes). Bins with NaN temperature are
    dropped; the output is sorted by increasing T."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
    T = np.asarray(T, float)
    e = np.asarray(e, float)
    keep = np.isfinite(T)
    T = T[keep]
    e = e[..., keep]
    order = np.argsort(T)
    T = T[order]
    e = e[..., order]
    if scheme == "midpoint":
        if T.size < 2:
            return np.zeros(0), np.zeros(e.shape[:-1] + (0,))
        return 0.5 * (T[1:] + T[:-1]), np.diff(e, axis=-1) / np.diff(T)
    if T.size < 3:
        return np.zeros(0), np.zeros(e.shape[:-1] + (0,))
    return T[1:-1], (e[..., 2:] - e[..., :-2]) / (T[2:] - T[:-2])


def return_probability(returns, nonreturns) -> tuple[np.ndarray, np.ndarray]:
    """``(p, err)``: ``returns / (returns + nonreturns)`` and its binomial standard error
    (NaN where there are no counts)."""
    r = np.asarray(returns, float)
    n = r + np.asarray(nonreturns, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, r / n, np.nan)
        err = np.where(n > 0, np.sqrt(p * (1 - p) / n), np.nan)
    return p, err


def batch_heat_capacity(T, time_, E, var, edges, *, n_particles: int, n_batches: int = 8) -> dict[str, np.ndarray]:
    """Fluctuation heat capacity per temperature bin with batch-means error bars.

    ``T``, ``time_``, ``E``, ``var`` float[n]: a time series of records in run order (program
    steps, or the stretches of a live run between two frames): mean temperature, time spanned,
    time-averaged total energy and the variance of the energy within the record. ``edges``
    float[m + 1] increasing. The records of each bin are cut, in run order, into up to
    ``n_batches`` batches of equal time; a batch's energy variance is the time-weighted within-record
    variance plus the spread of its records' means (law of total variance, taken about the bin's
    mean so that nothing cancels), and its C_v is that variance over ``n_particles T^2``. Per bin:
    ``Cv`` the mean over its batches and ``Cv_err`` their standard error (``ddof = 1``; NaN with
    fewer than two batches), ``e``, ``e_err`` the same for the energy per particle, ``T`` the
    time-weighted temperature, ``time``, ``n_batches``. As a run adds time to a bin its batches
    get longer and their spread, so the error, shrinks. Only bins with time are returned, in
    increasing T."""
    T, tm, E, var = (np.asarray(a, float) for a in (T, time_, E, var))
    edges = np.asarray(edges, float)
    if T.ndim != 1 or not (T.shape == tm.shape == E.shape == var.shape):
        raise ValueError(f"T, time_, E, var must be 1-d arrays of one length; got shapes {T.shape}, {tm.shape}, {E.shape}, {var.shape}")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be an increasing 1-d array of at least 2 values; got {edges!r}")
    N = positive_int("n_particles", n_particles)
    nb = positive_int("n_batches", n_batches)
    if nb < 2:
        raise ValueError(f"n_batches must be at least 2 (an error needs two batches); got {n_batches!r}")
    m = edges.size - 1
    idx, inside = bin_index(T, edges)
    ok = inside & (tm > 0) & np.isfinite(E) & np.isfinite(var) & np.isfinite(T)
    idx, tm, T, E, var = idx[ok], tm[ok], T[ok], E[ok], np.maximum(var[ok], 0.0)
    t_bin = np.bincount(idx, weights=tm, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        E_bin = np.bincount(idx, weights=tm * E, minlength=m) / t_bin
    # time already spent in the record's bin before the record's midpoint -> its batch
    order = np.argsort(idx, kind="stable")
    cum = np.empty_like(tm)
    cum[order] = np.cumsum(tm[order])
    start = np.concatenate([[0.0], np.cumsum(t_bin)[:-1]])
    mid = cum - start[idx] - 0.5 * tm
    batch = np.minimum((mid / t_bin[idx] * nb).astype(np.int64), nb - 1)
    key = idx * nb + batch
    w = np.bincount(key, weights=tm, minlength=m * nb)
    dE = E - E_bin[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        Tb = np.bincount(key, weights=tm * T, minlength=m * nb) / w
        dEb = np.bincount(key, weights=tm * dE, minlength=m * nb) / w
        varb = np.bincount(key, weights=tm * (var + dE * dE), minlength=m * nb) / w - dEb**2
        cvb = np.maximum(varb, 0.0) / (N * Tb * Tb)
    has = (w > 0).reshape(m, nb)
    cvb, dEb = cvb.reshape(m, nb), dEb.reshape(m, nb)
    k = has.sum(axis=1)
    keep = k > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        T_mean = np.bincount(idx, weights=tm * T, minlength=m) / t_bin
        cv = np.where(has, cvb, 0.0).sum(axis=1) / k
        cv_sd = np.sqrt(np.where(has, (cvb - cv[:, None]) ** 2, 0.0).sum(axis=1) / (k - 1))
        e_b = np.where(has, dEb, 0.0).sum(axis=1) / k
        e_sd = np.sqrt(np.where(has, (dEb - e_b[:, None]) ** 2, 0.0).sum(axis=1) / (k - 1))
        cv_err = np.where(k > 1, cv_sd / np.sqrt(k), np.nan)
        e_err = np.where(k > 1, e_sd / np.sqrt(k), np.nan) / N
    out = {"T": T_mean, "Cv": cv, "Cv_err": cv_err, "e": E_bin / N, "e_err": e_err, "time": t_bin, "n_batches": k}
    return {key_: (v[keep] if key_ != "n_batches" else v[keep].astype(np.int64)) for key_, v in out.items()}
