"""Tracked particles and voids: what a request to track may name, and the samples the kernel
writes into its buffer, collected (and thinned when a live view reads them slowly)."""

from __future__ import annotations

import math

import numpy as np

from .._validate import is_count


def tracer_request(particles, voids, interval, capacity, max_samples, n_particles: int, n_voids: int):
    """(particle labels, void ids, interval, capacity, max_samples) of a valid request to track;
    ValueError naming the first bad argument."""
    if max_samples is not None and not (is_count(max_samples) and max_samples >= 2):
        raise ValueError(f"max_samples must be an integer >= 2; got {max_samples!r}")
    particles = np.asarray(list(particles) if not isinstance(particles, np.ndarray) else particles).reshape(-1)
    voids = np.asarray(list(voids) if not isinstance(voids, np.ndarray) else voids).reshape(-1)
    for name, arr in (("particles", particles), ("voids", voids)):
        if arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)):
            raise ValueError(f"{name} must be integer labels; got {arr.tolist()}")
    particles = particles.astype(np.int64)
    voids = voids.astype(np.int64)
    if particles.size and (particles.min() < 0 or particles.max() >= n_particles):
        raise ValueError(f"particles must be labels in [0, {n_particles}); got {particles.tolist()}")
    if voids.size and (voids.min() < 0 or voids.max() >= n_voids):
        raise ValueError(f"voids must be ids in [0, {n_voids}); got {voids.tolist()}")
    if not (float(interval) > 0 and math.isfinite(float(interval))):
        raise ValueError(f"interval must be positive and finite; got {interval!r}")
    if int(capacity) < 1:
        raise ValueError(f"capacity must be >= 1; got {capacity!r}")
    return particles, voids, float(interval), int(capacity), None if max_samples is None else int(max_samples)


def drain(chunks: list, samp_t, samp_p, samp_v, n: int, max_samples: int | None) -> tuple[list, bool]:
    """``chunks`` with the buffer's first ``n`` samples appended; when more than ``max_samples``
    wait, every other one is dropped. Returns (chunks, whether the interval doubles)."""
    if n:
        chunks = chunks + [(samp_t[:n].copy(), samp_p[:n].copy(), samp_v[:n].copy())]
    if max_samples is not None and sum(c[0].size for c in chunks) > max_samples:
        t, p, v = (np.concatenate([c[k] for c in chunks]) for k in range(3))
        return [(t[1::2], p[1::2], v[1::2])], True
    return chunks, False


def joined(chunks: list, n_particles: int, n_voids: int):
    """(times, particle displacements, void displacements) of the collected ``chunks``."""
    if not chunks:
        return np.zeros(0), np.zeros((0, n_particles, 2), np.int32), np.zeros((0, n_voids, 2), np.int32)
    return tuple(np.concatenate([c[k] for c in chunks]) for k in range(3))
