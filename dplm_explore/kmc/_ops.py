"""Private Numba helpers of the rejection-free (BKL / n-fold way) kinetic Monte Carlo: the state
arrays' layout, rates, the sum tree and the node cache (:mod:`._kernel` runs the events).

Array conventions (S = L*L sites, N particles, Nv voids, P = leaves of the sum tree >= Nv):

* ``occ``  int32[S]: particle label p >= 0, or ``-(v + 1)`` for void v.
* ``nbr``  int32[S, 4]: neighbour of each site in direction d (+x, +y, -x, -y).
* ``ppos`` int32[N], ``vpos`` int32[Nv]: site of each particle / void.
* ``bond`` float64[S, 2]: interaction on the bond from site s to its +x (column 0) and +y
  (column 1) neighbour, 0 if either end is a void; each bond is stored once, so a hop writes 8
  numbers. The energy of the particle at s is :func:`_site_energy`.
* ``rates``, ``dEs`` float64[Nv, 4]: rate and energy change of the hop of the particle at
  ``nbr[vpos[v], d]`` into void v (0 rate if that neighbour is a void).
* ``pw`` float64[Nv, 6]: interactions of the 6 pairs among the neighbours of each void's site
  (index :func:`_pidx`); a hop into the void from direction d forms bonds with pairs (d, .).
* ``tree`` float64[(4P - 1) / 3]: 4-ary sum tree (P = 4^h leaves), root 0, children of node i at
  4i + 1 .. 4i + 4, leaf of void v at (P - 1) / 3 + v holding ``rates[v].sum()``, except the leaf
  of the *hot* void (``is_[I_HOT]``), which holds 0 while its total is kept in ``fs[F_RHOT]``.
  The total rate is ``fs[F_RHOT] + tree[0]``, and the event is chosen from the hot void first,
  then by descending the tree: still probability rate / total for every hop (BKL), but a void
  that keeps hopping (a TLS at low T) never touches the tree. A void becomes hot when it makes two
  hops in a row (``is_[I_PREV]`` is the void that made the last hop).
* node cache (per void, ``KC`` slots): when a void hops back to a configuration it has just been
  in, the rates, energy changes and pair table it had there are restored instead of recomputed.
  A void's configurations are named by *words*: the directions of its hops since a root, with a
  hop followed by the opposite one cancelled (it restores every particle exactly), packed as
  ``2 bits per hop | depth << 56`` in an int64 (``word[v]`` is the current one; at most
  ``MAX_DEPTH`` hops, then the current configuration becomes the new root and the slots are
  dropped). Slot j holds ``c_key[v, j]`` (the word, -1 = empty), ``c_site`` (the void's site
  there), ``c_stamp`` (hop count when written; the least recent slot is replaced),
  ``c_clean`` (1 when the scan that covered it found no other void nor other void's slot within
  reach) and ``c_dat[v, j]`` = pair table (0-5), rates (6-9) and energy changes (10-13).
  ``cown`` int32[S] marks the sites of every slot with its void. Only another void can make a
  slot stale: its scan finds the mark (or the void itself) within reach and drops all that void's
  slots. A void's own hops never do: its slots name configurations, not sites. The least recent
  slot is never on the path between the current configuration and another slot (a walk on a tree
  passes that path after leaving the other slot), so every site a slot's configuration depends on
  is marked.
* ``iso`` int8[Nv]: 1 when the scan that covered the void's current configuration found no other
  void nor slot within reach. A hit from such a configuration into a clean slot needs no scan:
  anything that entered that region since would have dropped the slot. The hot void with ``iso``
  1 rocking back and forth (an isolated TLS) runs in a register loop at the end of
  :func:`_advance`: nothing else in the lattice changes meanwhile, so its bookkeeping stays in
  registers and the lattice arrays are moved once, when it stops.
* ``offsets`` int32[4, 16, 2] and ``lin`` int64[4, 16]: sites within reach of a hop in direction d
  (:func:`dplm_explore.lattice.scan_offsets`), as (dx, dy) and as ``dx + L dy`` for sites at least
  3 away from the edges (no wrapping needed).
* ``fs`` float64[9]: t, E, E's Kahan compensation, pending event time, next sample time, sample
  interval, w0, current T, total rate of the hot void.
* ``is_`` int64[10]: total hops, program step, pending flag, samples written, events logged,
  cache hits, P (tree leaves), L, hot void (-1: none), void of the last hop (-1: none).

Kernels never validate and never allocate Python objects; the engine does both.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit, prefetch
from ..interactions import _pair_V

# status codes returned by _advance
STOP_HOPS, STOP_TIME, STOP_PROGRAM_END, STOP_SAMPLES_FULL, STOP_LOG_FULL, STOP_FROZEN = range(6)

# fs / is_ slots
F_T, F_E, F_EC, F_TNEXT, F_NEXT_SAMPLE, F_SAMPLE_DT, F_W0, F_TEMP, F_RHOT = range(9)
I_HOPS, I_STEP, I_PENDING, I_NSAMP, I_NLOG, I_CACHE_HITS, I_P, I_L, I_HOT, I_PREV = range(10)
N_FS, N_IS = 9, 10

#: node-cache slots per void; offsets of the pair table, rates and energy changes in a slot's row
KC = 4
C_PW, C_RATE, C_DE, C_WIDTH = 0, 6, 10, 16
DEPTH_SHIFT = 56
MAX_DEPTH = 28  # 2 bits per hop below the depth field


@jit(inline="always")
def _rate(dE, w0, T):
    if dE > 0.0:
        return w0 * math.exp(-dE / T)
    return w0


@jit(inline="always")
def _pidx(a, b):
    """Index 0..5 of the unordered pair of directions {a, b} (a != b)."""
    if a > b:
        a, b = b, a
    return a * (7 - a) // 2 + b - a - 1


@jit(inline="always")
def _V(p, q, itr):
    """Interaction of particles p and q; ``itr``: the system's :class:`._state.Interactions`."""
    return _pair_V(p, q, itr.key, itr.gen, itr.dense, itr.gkind, itr.gpar, itr.gtab)


@jit(inline="always")
def _set_pair(pw, v, y, a, b, occ, nbr, itr):
    pa = occ[nbr[y, a]]
    pb = occ[nbr[y, b]]
    if pa >= 0 and pb >= 0:
        pw[v, _pidx(a, b)] = _V(pa, pb, itr)
    else:
        pw[v, _pidx(a, b)] = 0.0


@jit(inline="always")
def _void_pairs(v, y, pw, occ, nbr, itr):
    """pw[v] = interactions of the 6 pairs among the neighbours of site y (0 where a void).

    The particle hopping into y from direction d would form its bonds with exactly the three
    other neighbours, so these 6 numbers serve all four hops of the void."""
    for a in range(3):
        for b in range(a + 1, 4):
            _set_pair(pw, v, y, a, b, occ, nbr, itr)


@jit(inline="always")
def _rates_from_pairs(v, y, pw, out_rates, out_dE, occ, nbr, bond, w0, T):
    """Rates of the four hops into void v at y from its pair table and the bond cache."""
    _one_rate(v, 0, occ[nbr[y, 0]], (pw[v, 0] + pw[v, 1]) + pw[v, 2], nbr[y, 0], out_rates, out_dE, bond, nbr, w0, T)
    _one_rate(v, 1, occ[nbr[y, 1]], (pw[v, 0] + pw[v, 3]) + pw[v, 4], nbr[y, 1], out_rates, out_dE, bond, nbr, w0, T)
    _one_rate(v, 2, occ[nbr[y, 2]], (pw[v, 1] + pw[v, 3]) + pw[v, 5], nbr[y, 2], out_rates, out_dE, bond, nbr, w0, T)
    _one_rate(v, 3, occ[nbr[y, 3]], (pw[v, 2] + pw[v, 4]) + pw[v, 5], nbr[y, 3], out_rates, out_dE, bond, nbr, w0, T)


@jit(inline="always")
def _site_energy(s, bond, nbr):
    """Sum of the bonds of the particle at site s, in the order +x, +y, -x, -y."""
    return bond[s, 0] + bond[s, 1] + bond[nbr[s, 2], 0] + bond[nbr[s, 3], 1]


@jit(inline="always")
def _one_rate(v, d, p, e_new, s, out_rates, out_dE, bond, nbr, w0, T):
    if p < 0:
        out_rates[v, d] = 0.0
        out_dE[v, d] = 0.0
        return
    e_old = _site_energy(s, bond, nbr)
    dE = e_new - e_old
    if dE == out_dE[v, d] and out_rates[v, d] > 0.0:
        return  # same energy change, same rate: no exp needed
    out_dE[v, d] = dE
    out_rates[v, d] = _rate(dE, w0, T)


@jit(inline="always")
def _void_rates(v, y, pw, out_rates, out_dE, occ, nbr, bond, itr, w0, T):
    """Everything of void v at site y from scratch: pair table, then rates."""
    _void_pairs(v, y, pw, occ, nbr, itr)
    _rates_from_pairs(v, y, pw, out_rates, out_dE, occ, nbr, bond, w0, T)


@jit(inline="always")
def _void_touched(v, y, c, pw, out_rates, out_dE, occ, nbr, bond, itr, w0, T):
    """Void v at y after site c (within distance 2) changed: only pairs involving c, if c is a
    neighbour of y, need new interactions; the rest follows from the bond cache."""
    for a in range(4):
        if nbr[y, a] == c:
            for b in range(4):
                if b != a:
                    _set_pair(pw, v, y, a, b, occ, nbr, itr)


@jit(inline="always")
def _tree_set(tree, P, v, value):
    """Set leaf v of the 4-ary sum tree and recompute its ancestors (each node is the sum of its
    four children in a fixed order, so the tree is a pure function of the leaves: no drift).
    Unsigned indices: no wraparound code for negative ones (a few % of the whole hop)."""
    one = np.uintp(1)
    i = np.uintp((P - 1) // 3 + v)
    tree[i] = value
    while i > 0:
        i = (i - one) >> np.uintp(2)
        c = np.uintp(4) * i + one
        tree[i] = ((tree[c] + tree[c + one]) + tree[c + np.uintp(2)]) + tree[c + np.uintp(3)]


@jit
def _tree_build(tree, P, rates, fs, is_):
    """Tree from the rates; the hot void's leaf is 0 and its total goes to ``fs[F_RHOT]``."""
    first = (P - 1) // 3
    hot = is_[I_HOT]
    tree[:] = 0.0
    for v in range(rates.shape[0]):
        tree[first + v] = rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3]
    fs[F_RHOT] = 0.0
    if hot >= 0:
        fs[F_RHOT] = tree[first + hot]
        tree[first + hot] = 0.0
    for i in range(first - 1, -1, -1):
        c = 4 * i + 1
        tree[i] = ((tree[c] + tree[c + 1]) + tree[c + 2]) + tree[c + 3]


@jit(inline="always")
def _dir4(r0, r1, r2, r3, x):
    """Direction of the hop into a void with rates r0..r3 (+x, +y, -x, -y) for x uniform in
    [0, their sum): the first one whose rate exceeds what is left of x; rounding past the end takes
    the last direction with a rate (-1 if none)."""
    last = -1
    d = 0
    for r in (r0, r1, r2, r3):
        if r > 0.0:
            last = d
            if x < r:
                return d
            x -= r
        d += 1
    return last


@jit(inline="always")
def _hop_direction(rates, v, x):
    """:func:`_dir4` for the rates of void v."""
    return _dir4(rates[v, 0], rates[v, 1], rates[v, 2], rates[v, 3], x)


@jit(inline="always")
def _tree_select(tree, P, rates, x):
    """Event (v, d) for x uniform in [0, tree[0]): descent of the 4-ary tree, branch-free but for
    the rare step back from an empty child (rounding). Unsigned indices, as in :func:`_tree_set`."""
    one = np.uintp(1)
    first = np.uintp((P - 1) // 3)
    i = np.uintp(0)
    while i < first:
        c = np.uintp(4) * i + one
        a0 = tree[c]
        a1 = tree[c + one]
        a2 = tree[c + np.uintp(2)]
        p1 = a0
        p2 = a0 + a1
        p3 = p2 + a2
        k = np.uintp((x >= p1) + (x >= p2) + (x >= p3))
        while k > 0 and tree[c + k] <= 0.0:
            k -= one
        x -= ((k >= 1) * a0 + (k >= 2) * a1) + (k >= 3) * a2
        i = c + k
    v = np.intp(i - first)
    return v, _hop_direction(rates, v, x)


@jit
def _init_bonds(occ, nbr, bond, itr):
    """Fill ``bond`` from the occupancy (used once at set-up and after loading)."""
    S = occ.shape[0]
    for s in range(S):
        p = occ[s]
        for d in range(2):
            q = occ[nbr[s, d]]
            if p >= 0 and q >= 0:
                bond[s, d] = _V(p, q, itr)
            else:
                bond[s, d] = 0.0


@jit
def _energy_from_scratch(occ, nbr, itr):
    """Total energy recomputed from the pair interactions (not from any cache)."""
    E = 0.0
    for s in range(occ.shape[0]):
        p = occ[s]
        if p < 0:
            continue
        for d in range(2):
            q = occ[nbr[s, d]]
            if q >= 0:
                E += _V(p, q, itr)
    return E


@jit
def _all_rates(lat, itr, rt, ca, pg, w0, T):
    """Recompute every rate from scratch at temperature T and drop every cache slot."""
    rates, dEs = rt.rates, rt.dEs
    rates[:] = 0.0
    dEs[:] = 0.0
    for v in range(lat.vpos.shape[0]):
        _void_rates(v, lat.vpos[v], rt.pw, rates, dEs, lat.occ, lat.nbr, lat.bond, itr, w0, T)
    ca.c_key[:] = -1
    ca.c_stamp[:] = -1
    ca.cown[:] = -1
    ca.word[:] = 0
    ca.iso[:] = 0
    _tree_build(rt.tree, pg.is_[I_P], rates, pg.fs, pg.is_)


@jit
def _retemper(rates, dEs, c_key, c_dat, tree, P, w0, T, fs, is_):
    """New temperature: rates follow from the stored energy changes, no interaction look-ups."""
    for v in range(rates.shape[0]):
        for d in range(4):
            # a particle neighbour has a positive rate or a non-zero energy change (a rate can
            # underflow to 0 at low T); a void neighbour has both zero
            if rates[v, d] > 0.0 or dEs[v, d] != 0.0:
                rates[v, d] = _rate(dEs[v, d], w0, T)
            for j in range(KC):
                if c_key[v, j] >= 0 and (c_dat[v, j, C_RATE + d] > 0.0 or c_dat[v, j, C_DE + d] != 0.0):
                    c_dat[v, j, C_RATE + d] = _rate(c_dat[v, j, C_DE + d], w0, T)
    _tree_build(tree, P, rates, fs, is_)


@jit(inline="always")
def _accumulate(acc_f, k, E, dt):
    """Time-weighted energy moments of program step k over a stretch dt at energy E."""
    acc_f[k, 0] += dt
    acc_f[k, 1] += E * dt
    acc_f[k, 2] += E * E * dt


@jit(inline="always")
def _sample_until(t_lim, fs, is_, tr_p, tr_v, disp_p, disp_v, samp_t, samp_p, samp_v):
    """Record the tracked displacements at every sample time before ``t_lim`` (the configuration
    does not change before then); False if the buffer filled first."""
    if tr_p.shape[0] + tr_v.shape[0] == 0:
        return True
    while fs[F_NEXT_SAMPLE] < t_lim:
        j = is_[I_NSAMP]
        if j >= samp_t.shape[0]:
            return False
        samp_t[j] = fs[F_NEXT_SAMPLE]
        for a in range(tr_p.shape[0]):
            samp_p[j, a, 0] = disp_p[tr_p[a], 0]
            samp_p[j, a, 1] = disp_p[tr_p[a], 1]
        for b in range(tr_v.shape[0]):
            samp_v[j, b, 0] = disp_v[tr_v[b], 0]
            samp_v[j, b, 1] = disp_v[tr_v[b], 1]
        is_[I_NSAMP] = j + 1
        fs[F_NEXT_SAMPLE] += fs[F_SAMPLE_DT]
    return True


@jit(inline="always")
def _unit(d):
    """Lattice step (dx, dy) of direction d (+x, +y, -x, -y)."""
    return (1 if d == 0 else (-1 if d == 2 else 0)), (1 if d == 1 else (-1 if d == 3 else 0))


@jit(inline="always")
def _dest_key(key, d):
    """Word of the configuration reached from word ``key`` by a hop in direction d: the last hop
    undone if d is its opposite, else d appended; -1 if that would pass ``MAX_DEPTH``."""
    depth = key >> DEPTH_SHIFT
    bits = key & ((1 << DEPTH_SHIFT) - 1)
    if depth > 0:
        sh = 2 * (depth - 1)
        if ((bits >> sh) & 3) == ((d + 2) & 3):
            return (bits & ~(3 << sh)) | ((depth - 1) << DEPTH_SHIFT)
    if depth >= MAX_DEPTH:
        return -1
    return bits | (d << (2 * depth)) | ((depth + 1) << DEPTH_SHIFT)


@jit(inline="always")
def _drop_cache(w, c_key, c_site, c_stamp, cown, word, iso):
    """Forget every slot of void w (and its marks); its current configuration becomes its root."""
    for j in range(KC):
        if c_key[w, j] >= 0:
            z = c_site[w, j]
            if cown[z] == w:
                cown[z] = -1
            c_key[w, j] = -1
            c_stamp[w, j] = -1
    word[w] = 0
    iso[w] = 0


@jit(inline="always")
def _unmark(v, z, c_key, c_site, cown):
    """Clear v's mark on site z unless another of v's slots is there."""
    if cown[z] == v:
        for j in range(KC):
            if c_key[v, j] >= 0 and c_site[v, j] == z:
                return
        cown[z] = -1


@jit(inline="always")
def _hop_bonds(v, d, y, s, pw, bond, nbr):
    """Bonds after void v hops from y to its neighbour s in direction d, read before ``pw[v]``
    changes: the particle arriving at y bonds with y's other neighbours, pairs (d, .) of v's
    table; s becomes a void."""
    bond[s, 0] = 0.0
    bond[s, 1] = 0.0
    bond[nbr[s, 2], 0] = 0.0
    bond[nbr[s, 3], 1] = 0.0
    bond[y, 0] = 0.0 if d == 0 else pw[v, _pidx(d, 0)]
    bond[y, 1] = 0.0 if d == 1 else pw[v, _pidx(d, 1)]
    bond[nbr[y, 2], 0] = 0.0 if d == 2 else pw[v, _pidx(d, 2)]
    bond[nbr[y, 3], 1] = 0.0 if d == 3 else pw[v, _pidx(d, 3)]


@jit(inline="always")
def _swap_slot(v, j, rates, dEs, pw, c_dat):
    """Exchange void v's pair table, rates and energy changes with those of slot j."""
    for a in range(6):
        e = c_dat[v, j, C_PW + a]
        c_dat[v, j, C_PW + a] = pw[v, a]
        pw[v, a] = e
    for dd in range(4):
        r = c_dat[v, j, C_RATE + dd]
        c_dat[v, j, C_RATE + dd] = rates[v, dd]
        rates[v, dd] = r
        e = c_dat[v, j, C_DE + dd]
        c_dat[v, j, C_DE + dd] = dEs[v, dd]
        dEs[v, dd] = e


@jit(inline="always")
def _enter_slot(v, j, left, arrived, rates, dEs, pw, c_key, c_site, c_dat, cown, word):
    """Void v hopped from site ``left`` into the configuration slot j holds (at ``arrived``): that
    slot's pair table, rates, energy changes and word become current, and the slot takes those
    of the configuration left."""
    _swap_slot(v, j, rates, dEs, pw, c_dat)
    k = c_key[v, j]
    c_key[v, j] = word[v]
    word[v] = k
    c_site[v, j] = left
    _unmark(v, arrived, c_key, c_site, cown)


@jit(inline="always")
def _store_slot(v, j, rates, dEs, pw, c_dat):
    """Copy void v's pair table, rates and energy changes into slot j."""
    for a in range(6):
        c_dat[v, j, C_PW + a] = pw[v, a]
    for dd in range(4):
        c_dat[v, j, C_RATE + dd] = rates[v, dd]
        c_dat[v, j, C_DE + dd] = dEs[v, dd]


@jit(inline="always")
def _prefetch_region(s, L, occ, cown, bond, nbr):
    """Start loading what a hop into fresh site s will read (the scan rows of ``occ`` and ``cown``
    within distance 2, the bonds of s's neighbours), so that the misses overlap instead of
    queueing one after another. Only a hint: results do not depend on it."""
    S = occ.shape[0]
    prefetch(nbr, s)
    for k in range(-2, 3):
        c = s + k * L
        if c < 0:
            c += S
        elif c >= S:
            c -= S
        prefetch(occ, c)
        prefetch(cown, c)
        if k >= -1 and k <= 1:
            prefetch(bond, c)
    prefetch(bond, s - 1 if s > 0 else s)
    prefetch(bond, s + 1 if s + 1 < S else s)
