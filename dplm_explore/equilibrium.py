"""Initial states: exact equilibrium at T_I ("direct construction", docs/physics.md section 3) and the
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

from ._jit import jit
from ._rng import _uniform, seed_state
from .interactions import GDistribution
from .lattice import neighbour_table

__all__ = ["InitialState", "equilibrium_state", "random_state", "genesis_bonds", "occupied_pairs"]


@jit(_nrt=True)  # allocates its work arrays
def _relax_voids(is_void, nbr, n_moves, log_zb, rng):
    """Metropolis lattice gas of voids with weight Z_b per void-void contact (docs/physics.md 3.1).

    is_void: uint8[S] (modified in place); moves relocate a random void to a random particle site
    and are accepted with probability min(1, Z_b^(delta n_vv)). Returns accepted moves."""
    S = is_void.shape[0]
    voids = np.empty(S, dtype=np.int64)
    others = np.empty(S, dtype=np.int64)
    nv = 0
    no = 0
    for s in range(S):
        if is_void[s]:
            voids[nv] = s
            nv += 1
        else:
            others[no] = s
            no += 1
    if nv == 0 or no == 0:
        return 0
    accepted = 0
    for _ in range(n_moves):
        i = int(_uniform(rng) * nv)
        j = int(_uniform(rng) * no)
        a = voids[i]
        b = others[j]
        n_a = 0
        for d in range(4):
            n_a += is_void[nbr[a, d]]
        n_b = 0
        for d in range(4):
            nb = nbr[b, d]
            if nb != a:
                n_b += is_void[nb]
        delta = n_b - n_a
        x = delta * log_zb
        if x >= 0.0 or _uniform(rng) < math.exp(x):
            is_void[a] = 0
            is_void[b] = 1
            voids[i] = b
            others[j] = a
            accepted += 1
    return accepted


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
    log_zb = g.log_Z_b(T_I)
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
