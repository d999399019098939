"""Initial states: exact equilibrium at T_I ("direct construction", physics.md section 3) and the
random (infinite-temperature) start.

Integrating the quenched interactions out gives P(arrangement) ~ Z_b(T_I)^(n_vv), n_vv the number
of void-void contacts. So: (1) voids as a lattice gas with that weight, (2) particle labels in a
uniformly random permutation, (3) every occupied nearest-neighbour pair gets V ~ p_eq(V; T_I),
stored per particle (the *genesis bonds*), (4) every other pair is drawn lazily from g by hashing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._rng import seed_state
from .interactions import GDistribution
from .kmc._kernel import _relax_voids
from .lattice import neighbour_table

__all__ = ["InitialState", "equilibrium_state", "random_state", "genesis_bonds"]


@dataclass
class InitialState:
    """occ int32[S] (label or -(v+1)), genesis partners int32[N, 4] and values float64[N, 4]."""

    occ: np.ndarray
    gpart: np.ndarray
    gV: np.ndarray
    void_moves_accepted: int = 0


def _place_voids(L: int, n_voids: int, rng: np.random.Generator) -> np.ndarray:
    S = L * L
    is_void = np.zeros(S, dtype=np.uint8)
    is_void[rng.choice(S, size=n_voids, replace=False)] = 1
    return is_void


def _label(is_void: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    S = is_void.size
    occ = np.empty(S, dtype=np.int32)
    void_sites = np.flatnonzero(is_void)
    part_sites = np.flatnonzero(is_void == 0)
    occ[void_sites] = -(np.arange(void_sites.size, dtype=np.int32) + 1)
    occ[part_sites] = rng.permutation(part_sites.size).astype(np.int32)
    return occ


def genesis_bonds(occ: np.ndarray, nbr: np.ndarray, V: np.ndarray | None, n_particles: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-particle tables of the occupied nearest-neighbour pairs of ``occ`` with values ``V``
    (one per pair, in the order of :func:`occupied_pairs`); ``V=None`` gives empty tables."""
    gpart = np.full((n_particles, 4), -1, dtype=np.int32)
    gV = np.zeros((n_particles, 4), dtype=np.float64)
    if V is None:
        return gpart, gV
    p, q = occupied_pairs(occ, nbr)
    owners = np.concatenate([p, q])
    partners = np.concatenate([q, p])
    values = np.concatenate([V, V])
    order = np.argsort(owners, kind="stable")
    owners, partners, values = owners[order], partners[order], values[order]
    first = np.searchsorted(owners, owners, side="left")
    slot = np.arange(owners.size) - first
    gpart[owners, slot] = partners
    gV[owners, slot] = values
    return gpart, gV


def occupied_pairs(occ: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (p, q) of every occupied nearest-neighbour pair, each once (+x and +y bonds)."""
    ps, qs = [], []
    for d in (0, 1):
        a = occ
        b = occ[nbr[:, d]]
        m = (a >= 0) & (b >= 0)
        ps.append(a[m])
        qs.append(b[m])
    return np.concatenate(ps), np.concatenate(qs)


def equilibrium_state(L: int, n_voids: int, g: GDistribution, T_I: float, rng: np.random.Generator, *, void_moves: int | None = None, bonds: str = "peq") -> InitialState:
    """Exact equilibrium at ``T_I``. ``bonds='g'`` draws the neighbour bonds from g instead of
    p_eq (a deliberately wrong state used to show relaxation)."""
    nbr = neighbour_table(L)
    is_void = _place_voids(L, n_voids, rng)
    if void_moves is None:
        void_moves = max(100 * n_voids, 20000)
    log_zb = math.log(g.Z_b(T_I))
    accepted = int(_relax_voids(is_void, nbr, int(void_moves), log_zb, seed_state(int(rng.integers(2**63)))))
    occ = _label(is_void, rng)
    n_particles = L * L - n_voids
    if bonds == "peq":
        p, _ = occupied_pairs(occ, nbr)
        V = np.asarray(g.sample_peq(p.size, T_I, rng), dtype=np.float64)
        gpart, gV = genesis_bonds(occ, nbr, V, n_particles)
    elif bonds == "g":
        gpart, gV = genesis_bonds(occ, nbr, None, n_particles)
    else:
        raise ValueError(f"bonds must be 'peq' or 'g'; got {bonds!r}")
    return InitialState(occ, gpart, gV, accepted)


def random_state(L: int, n_voids: int, rng: np.random.Generator) -> InitialState:
    """Infinite-temperature start: voids uniformly placed, labels random, every bond from g."""
    is_void = _place_voids(L, n_voids, rng)
    occ = _label(is_void, rng)
    gpart, gV = genesis_bonds(occ, neighbour_table(L), None, L * L - n_voids)
    return InitialState(occ, gpart, gV, 0)
