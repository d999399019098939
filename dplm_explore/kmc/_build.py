"""What a new :class:`~.engine.Simulation` starts from: the validated parameters, the recorded
seed and the initial arrangement with its stored bonds, for a system drawn at equilibrium (or at
random) and for one given site by site."""

from __future__ import annotations

import numpy as np

from .._rng import normalize_seed
from .._validate import is_count
from ..equilibrium import InitialState, equilibrium_state, genesis_bonds, occupied_pairs, random_state
from ..interactions import Uniform
from ..lattice import neighbour_table
from ..system import W0_DEFAULT, SystemParams
from ._state import check_memory


def _g(g):
    """g as given (SystemParams checks it is a distribution), Uniform if None."""
    return Uniform() if g is None else g


def new_system(L, phi_v, *, g=None, T_I=None, init="equilibrium", seed=None, w0=W0_DEFAULT, bonds="peq", void_moves=None):
    """(params, seed entropy, initial state) of a system at exact equilibrium at ``T_I`` or random."""
    if void_moves is not None and not is_count(void_moves):
        raise ValueError(f"void_moves must be a non-negative integer; got {void_moves!r}")
    params = SystemParams(L=L, phi_v=phi_v, g=_g(g), w0=w0, init=init, T_I=T_I, bonds=bonds)
    check_memory(params.L)
    entropy = normalize_seed(seed)
    rng = np.random.default_rng(np.random.SeedSequence(entropy).spawn(3)[0])
    if init == "equilibrium":
        state = equilibrium_state(params.L, params.n_voids, params.g, params.T_I, rng, void_moves=void_moves, bonds=bonds)
    elif init == "random":
        state = random_state(params.L, params.n_voids, rng)
    else:
        raise ValueError(f"init must be 'equilibrium' or 'random' for create(); got {init!r}")
    return params, entropy, state


def given_system(L, occ, *, g=None, V_table=None, genesis=None, seed=None, w0=W0_DEFAULT, T_I=None):
    """(params, seed entropy, initial state, dense interaction table or None) of the arrangement
    ``occ`` (see :meth:`~.engine.Simulation.from_configuration`)."""
    if is_count(L) and L >= 3:
        check_memory(int(L))
    occ = np.asarray(occ).reshape(-1)
    if occ.size != L * L:
        raise ValueError(f"occ must have L*L = {L * L} entries; got {occ.size}")
    n_voids = int((occ < 0).sum())
    labels = np.sort(occ[occ >= 0])
    if not np.array_equal(labels, np.arange(labels.size)):
        raise ValueError("occ must hold each particle label 0..N-1 exactly once (and -1 for voids)")
    params = SystemParams(L=L, phi_v=n_voids / (L * L), g=_g(g), w0=w0, init="given", T_I=T_I)
    occ32 = occ.astype(np.int32)
    vs = np.flatnonzero(occ32 < 0)
    occ32[vs] = -(np.arange(vs.size, dtype=np.int32) + 1)
    nbr = neighbour_table(L)
    N = labels.size
    if V_table is not None:
        V_table = np.asarray(V_table, dtype=np.float64)
        if V_table.shape != (N, N) or not np.array_equal(V_table, V_table.T) or not np.all(np.isfinite(V_table)):
            raise ValueError(f"V_table must be a finite symmetric array of shape ({N}, {N}); got shape {V_table.shape}")
    if genesis is not None:
        if V_table is not None:
            raise ValueError("give either V_table (every interaction) or genesis (stored neighbour bonds), not both")
        genesis = np.asarray(genesis, dtype=np.float64).reshape(-1)
        n_pairs = occupied_pairs(occ32, nbr)[0].size
        if genesis.size != n_pairs or not np.all(np.isfinite(genesis)):
            raise ValueError(f"genesis must hold {n_pairs} finite values (one per occupied neighbour pair); got {genesis.size}")
    gpart, gV = genesis_bonds(occ32, nbr, genesis, N)
    return params, normalize_seed(seed), InitialState(occ32, gpart, gV), V_table
