"""First-passage treatment of trapped voids (``dynamics="first-passage"``), used by :func:`._kernel._advance`.

A void v that has just hopped from B into A, with both configurations clean (no other void and no
other void's cached configuration within reach, see :mod:`._ops`), is *trapped*: nothing else in
the lattice changes its rates or is changed by its hops between A and B until another void comes
within reach. Its whole sojourn in {A, B} is drawn at once (:func:`._basin._sample_exit`), its leaf
in the sum tree is set to 0 and its exit time goes into a min-tree of absolute times, so the event
loop sees the earliest of the tree's next hop and the earliest exit. Its lattice arrays stay those
of A meanwhile.

A sojourn ends

* at its exit: the void is put in the configuration it leaves from and makes the exit hop (one of
  its other hops, chosen by rate) through the ordinary path;
* at an interruption (a hop within reach of A or B, a temperature step, a tracer sample, or
  :func:`_settle`, which the engine calls before anything that needs every void in its place):
  its configuration at that moment is drawn given that it has not left
  (:func:`._basin._sample_survivor`) and it becomes an ordinary void again.

:func:`_end` books a sojourn: time-weighted energy (the time spent in B at A's energy plus the flip
energy), void occupation per site, hop and return counters, displacements. The energy-squared
moment of a program step in which a sojourn with time in B ends is set to NaN (it would need the
joint path of all trapped voids).

Min-tree layout: ``xtree`` float64[2 Q] (Q a power of two >= number of voids), root 1, children
of node i at 2i and 2i + 1, leaf of void v at Q + v holding its exit time (inf when not trapped).
``fp_f`` float64[Nv, 2]: start time of the sojourn, time in B until the drawn exit. ``fp_i``
int64[Nv, 5]: trapped flag, exit configuration (0 = A, 1 = B), flips until the exit, node-cache
slot holding B, direction of the hop from A to B.
"""

from __future__ import annotations

import math

from .._jit import jit
from .._rng import _uniform
from ._basin import _cycle_stop, _sample_exit, _sample_survivor
from ._ops import C_RATE, F_E, F_EC, F_T, I_CACHE_HITS, I_HOPS, I_P, I_PENDING, I_STEP, _enter_slot, _hop_bonds, _tree_set, _unit

#: a void is trapped only when a visit to A comes back to A with at least this probability (an
#: expected cycle or more before it leaves); below, the hop-by-hop path is cheaper
TRAP_MIN_RETURN = 0.8

FP_T0, FP_TB = 0, 1
FP_ON, FP_J, FP_FLIPS, FP_SLOT, FP_DIR = 0, 1, 2, 3, 4


@jit(inline="always")
def _xset(xtree, v, value):
    """Exit time of void v in the min-tree."""
    q = xtree.shape[0] // 2
    i = q + v
    xtree[i] = value
    i >>= 1
    while i >= 1:
        lo = xtree[2 * i]
        hi = xtree[2 * i + 1]
        xtree[i] = lo if lo < hi else hi
        i >>= 1


@jit(inline="always")
def _xargmin(xtree):
    """The void with the earliest exit time."""
    q = xtree.shape[0] // 2
    i = 1
    while i < q:
        i = 2 * i if xtree[2 * i] <= xtree[2 * i + 1] else 2 * i + 1
    return i - q


@jit(inline="always")
def _basin_rates(v, dab, jl, rates, c_dat):
    """(a, xA, b, xB) of void v: flip and exit rates at A (current) and at B (slot jl)."""
    dba = (dab + 2) & 3
    a = rates[v, dab]
    b = c_dat[v, jl, C_RATE + dba]
    xa = 0.0
    xb = 0.0
    for dd in range(4):
        if dd != dab:
            xa += rates[v, dd]
        if dd != dba:
            xb += c_dat[v, jl, C_RATE + dd]
    return a, xa, b, xb


@jit(inline="always")
def _trap(v, t, dab, jl, rng, rates, c_dat, fp_f, fp_i, xtree):
    """Trap void v (at A since time t, B one hop away in direction ``dab``, held by slot jl) if
    it is worth it: draw its sojourn and enter its exit time. Returns whether it was trapped."""
    a, xa, b, xb = _basin_rates(v, dab, jl, rates, c_dat)
    if a <= 0.0 or b <= 0.0 or 1.0 - _cycle_stop(a, xa, b, xb) < TRAP_MIN_RETURN:
        return False
    tau, tb, flips, j = _sample_exit(rng, a, xa, b, xb)
    fp_f[v, FP_T0] = t
    fp_f[v, FP_TB] = tb
    fp_i[v, FP_ON] = 1
    fp_i[v, FP_J] = j
    fp_i[v, FP_FLIPS] = flips
    fp_i[v, FP_SLOT] = jl
    fp_i[v, FP_DIR] = dab
    _xset(xtree, v, t + tau)
    return True


@jit
def _end(v, te, j, tb, flips, k, E, Ec, lat, rt, ca, ac, tp, is_):
    """End void v's sojourn at time ``te`` in configuration j (0 = A, 1 = B) after ``flips`` flips
    with ``tb`` time in B: book it in step k's accumulators, put the void in configuration j and
    back into the sum tree. Returns the new (E, Ec)."""
    occ, ppos, vpos, bond, nbr = lat.occ, lat.ppos, lat.vpos, lat.bond, lat.nbr
    rates, dEs, tree, pw = rt.rates, rt.dEs, rt.tree, rt.pw
    c_key, c_site, c_stamp, c_dat, cown, word = ca.c_key, ca.c_site, ca.c_stamp, ca.c_dat, ca.cown, ca.word
    acc_f, acc_i, void_time, v_arrive = ac.acc_f, ac.acc_i, ac.void_time, ac.v_arrive
    disp_p, disp_v, last_p, last_v, hops_p, hops_v = ac.disp_p, ac.disp_v, ac.last_p, ac.last_v, ac.hops_p, ac.hops_v
    fp_f, fp_i, xtree = tp.fp_f, tp.fp_i, tp.xtree
    P = is_[I_P]
    a_site = vpos[v]
    dab = fp_i[v, FP_DIR]
    jl = fp_i[v, FP_SLOT]
    b_site = nbr[a_site, dab]
    p = occ[b_site]
    de = dEs[v, dab]
    t0 = fp_f[v, FP_T0]
    if tb > 0.0:
        acc_f[k, 1] += de * tb
        acc_f[k, 2] = math.nan
    void_time[a_site] += (te - t0) - tb
    void_time[b_site] += tb
    v_arrive[v] = te
    if flips > 0:
        dba = (dab + 2) & 3
        # the first flip goes A -> B (the void moves in direction dab, the particle in dba); every
        # later one undoes the one before, a return for both
        rp = flips - 1
        nrp = 0
        if last_p[p] >= 0:
            if last_p[p] == dab:
                rp += 1
            else:
                nrp += 1
        rv = flips - 1
        nrv = 0
        if last_v[v] >= 0:
            if last_v[v] == dba:
                rv += 1
            else:
                nrv += 1
        acc_i[k, 0] += flips
        acc_i[k, 1] += rp
        acc_i[k, 2] += nrp
        acc_i[k, 3] += rv
        acc_i[k, 4] += nrv
        if j == 1:
            last_v[v] = dab
            last_p[p] = dba
        else:
            last_v[v] = dba
            last_p[p] = dab
        hops_p[p] += flips
        hops_v[v] += flips
        is_[I_HOPS] += flips
        is_[I_CACHE_HITS] += flips
        c_stamp[v, jl] = is_[I_HOPS] - 1
    if j == 1:
        ex, ey = _unit(dab)
        disp_v[v, 0] += ex
        disp_v[v, 1] += ey
        disp_p[p, 0] -= ex
        disp_p[p, 1] -= ey
        yk = de - Ec
        tk = E + yk
        Ec = (tk - E) - yk
        E = tk
        occ[a_site] = p
        occ[b_site] = -(v + 1)
        ppos[p] = a_site
        vpos[v] = b_site
        _hop_bonds(v, dab, a_site, b_site, pw, bond, nbr)
        _enter_slot(v, jl, a_site, b_site, rates, dEs, pw, c_key, c_site, c_dat, cown, word)
        cown[a_site] = v
    fp_i[v, FP_ON] = 0
    _xset(xtree, v, math.inf)
    _tree_set(tree, P, v, rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3])
    return E, Ec


@jit(inline="always")
def _exit_direction(v, j, rng, rates, fp_i):
    """Direction of void v's exit hop from configuration j (now current): one of its hops other
    than the flip back into the basin, by rate."""
    dab = fp_i[v, FP_DIR]
    back = dab if j == 0 else (dab + 2) & 3
    tot = 0.0
    for dd in range(4):
        if dd != back:
            tot += rates[v, dd]
    x = _uniform(rng) * tot
    last = -1
    for dd in range(4):
        if dd != back and rates[v, dd] > 0.0:
            last = dd
            if x < rates[v, dd]:
                return dd
            x -= rates[v, dd]
    return last


@jit
def _interrupt(v, te, k, E, Ec, rng, lat, rt, ca, ac, tp, is_):
    """End void v's sojourn at time ``te`` before its exit, in a configuration drawn given that
    it has not left. Returns the new (E, Ec)."""
    fp_f, fp_i = tp.fp_f, tp.fp_i
    a, xa, b, xb = _basin_rates(v, fp_i[v, FP_DIR], fp_i[v, FP_SLOT], rt.rates, ca.c_dat)
    j, tb, flips = _sample_survivor(rng, a, xa, b, xb, te - fp_f[v, FP_T0])
    E, Ec = _end(v, te, j, tb, flips, k, E, Ec, lat, rt, ca, ac, tp, is_)
    tp.fp_n[2] += 1
    tp.fp_n[3] += flips
    return E, Ec


@jit
def _sync(te, k, E, Ec, rng, lat, rt, ca, ac, tp, is_):
    """Interrupt every trapped void at time ``te``. Returns (E, Ec, voids interrupted)."""
    n = 0
    fp_i = tp.fp_i
    for v in range(fp_i.shape[0]):
        if fp_i[v, FP_ON] == 1:
            E, Ec = _interrupt(v, te, k, E, Ec, rng, lat, rt, ca, ac, tp, is_)
            n += 1
    return E, Ec, n


@jit
def _settle(rng, lat, rt, ca, ac, tp, pg):
    """Interrupt every trapped void now (``fs[F_T]``), booking into the current program step; a
    pending waiting time is dropped (the total rate changes). Returns the voids interrupted."""
    fs, is_ = pg.fs, pg.is_
    k = min(is_[I_STEP], ac.acc_f.shape[0] - 1)
    E, Ec, n = _sync(fs[F_T], k, fs[F_E], fs[F_EC], rng, lat, rt, ca, ac, tp, is_)
    fs[F_E] = E
    fs[F_EC] = Ec
    if n > 0:
        is_[I_PENDING] = 0
    return n
