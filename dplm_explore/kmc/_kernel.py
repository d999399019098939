"""The event loop of the rejection-free (BKL / n-fold way) kinetic Monte Carlo (:func:`_advance`).

The state arrays' layout and the helpers it uses are in :mod:`._ops`; the first-passage treatment
of trapped voids (``dynamics="first-passage"``) in :mod:`._trap`. Kernels never validate and
never allocate Python objects; the engine does both.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from .._rng import _exponential, _uniform
from ._trap import FP_FLIPS, FP_J, FP_ON, FP_TB, _end, _exit_direction, _interrupt, _sync, _trap, _xargmin
from ._ops import (  # noqa: F401 (the engine reads the layout and helpers through this module)
    STOP_HOPS, STOP_TIME, STOP_PROGRAM_END, STOP_SAMPLES_FULL, STOP_LOG_FULL, STOP_FROZEN, F_T, F_E,
    F_EC, F_TNEXT, F_NEXT_SAMPLE, F_SAMPLE_DT, F_W0, F_TEMP, F_RHOT, I_HOPS, I_STEP, I_PENDING,
    I_NSAMP, I_NLOG, I_CACHE_HITS, I_P, I_L, I_HOT, I_PREV, N_FS, N_IS, KC, C_PW, C_RATE, C_DE,
    C_WIDTH, DEPTH_SHIFT, MAX_DEPTH, _rate, _pidx, _V, _set_pair, _void_pairs, _rates_from_pairs,
    _site_energy, _one_rate, _void_rates, _void_touched, _tree_set, _tree_build, _dir4,
    _hop_direction, _tree_select, _init_bonds, _energy_from_scratch, _all_rates, _retemper,
    _accumulate, _sample_until, _unit, _dest_key, _drop_cache, _unmark, _hop_bonds, _swap_slot,
    _enter_slot, _store_slot, _prefetch_region,
)


@jit
def _advance(lat, itr, rng, rt, ca, tp, pg, ac, tc, ev, fp, max_hops, t_stop):
    """Run the KMC until ``max_hops`` more hops, simulated time ``t_stop`` (the next event would
    come later), the end of the temperature program, a full sample or event buffer.

    Random numbers are drawn only for events that happen or for waiting times that are kept
    pending, so how a run is cut into calls never changes its trajectory. Accumulators (per program
    step k: ``acc_f[k] = (time, sum E dt, sum E^2 dt)``, ``acc_i[k] = (hops, particle returns,
    particle non-returns, void returns, void non-returns)``) are updated at events and step ends.
    With ``fp`` = 1 (first-passage dynamics, :mod:`._trap`) isolated voids rocking between two
    configurations are trapped: their sojourns are drawn whole, the next event is the earliest of
    the tree's next hop and the earliest exit, and every trapped void is brought back into the
    lattice at temperature steps, tracer samples and when a hop comes within reach. Sojourns
    outlive the call (their state is in ``fp_f``, ``fp_i``, ``xtree``), so how a run is cut into
    calls does not change its trajectory here either. Hops done count the hops made one by one,
    not the flips inside sojourns (those are in the hop counters).
    Returns (status, hops done in this call).
    """
    nbr, offsets, lin, occ, ppos, vpos, bond = lat.nbr, lat.offsets, lat.lin, lat.occ, lat.ppos, lat.vpos, lat.bond
    rates, dEs, tree, pw = rt.rates, rt.dEs, rt.tree, rt.pw
    c_key, c_site, c_stamp, c_clean, c_dat, cown, word, iso = ca.c_key, ca.c_site, ca.c_stamp, ca.c_clean, ca.c_dat, ca.cown, ca.word, ca.iso
    fp_f, fp_i, xtree, fp_n = tp.fp_f, tp.fp_i, tp.xtree, tp.fp_n
    step_T, step_tend, fs, is_ = pg.step_T, pg.step_tend, pg.fs, pg.is_
    acc_f, acc_i, void_time, v_arrive = ac.acc_f, ac.acc_i, ac.void_time, ac.v_arrive
    disp_p, disp_v, last_p, last_v, hops_p, hops_v = ac.disp_p, ac.disp_v, ac.last_p, ac.last_v, ac.hops_p, ac.hops_v
    tr_p, tr_v, samp_t, samp_p, samp_v = tc.tr_p, tc.tr_v, tc.samp_t, tc.samp_p, tc.samp_v
    ev_log, ev_t = ev.ev_log, ev.ev_t
    P = is_[I_P]
    L = is_[I_L]
    w0 = fs[F_W0]
    T = fs[F_TEMP]
    t = fs[F_T]
    E = fs[F_E]
    Ec = fs[F_EC]
    k = is_[I_STEP]
    hot = is_[I_HOT]
    prev = is_[I_PREV]
    rhot = fs[F_RHOT]
    K = step_T.shape[0]
    cap_log = ev_t.shape[0]
    done = 0
    status = STOP_HOPS
    ntr = tr_p.shape[0] + tr_v.shape[0]
    have_x = False  # the isolated-TLS loop below left an event draw x for the general path
    x = 0.0
    ntrap = 0  # trapped voids (first-passage dynamics); their sojourns outlive the call
    if fp == 1:
        for w in range(fp_i.shape[0]):
            ntrap += fp_i[w, FP_ON]
    forced = False  # the event is a trapped void's exit hop (v, d) chosen above
    v = -1
    d = -1
    while True:
        if have_x:
            have_x = False
            t_next = fs[F_TNEXT]
        else:
            if done >= max_hops:
                status = STOP_HOPS
                break
            if is_[I_PENDING] == 0:
                total = rhot + tree[0]
                if total > 0.0:
                    fs[F_TNEXT] = t + _exponential(rng) / total
                else:
                    fs[F_TNEXT] = np.inf
                is_[I_PENDING] = 1
            t_next = fs[F_TNEXT]
            tend = step_tend[k]
            exit_first = False
            if ntrap > 0:
                if xtree[1] < t_next:
                    t_next = xtree[1]
                    exit_first = True
                # a tracer sample before anything else happens sees every void in its place
                if ntr > 0 and fs[F_NEXT_SAMPLE] < min(t_next, tend, t_stop):
                    ts = fs[F_NEXT_SAMPLE]
                    _accumulate(acc_f, k, E, ts - t)
                    t = ts
                    E, Ec, n = _sync(t, k, E, Ec, rng, lat, rt, ca, ac, tp, is_)
                    ntrap = 0
                    is_[I_PENDING] = 0
                    continue
            if t_stop < tend and t_next > t_stop:
                # stop the clock at t_stop; the pending event time stays (memorylessness is not
                # used here, so the trajectory does not depend on where runs are cut)
                if t_stop > t:
                    if not _sample_until(t_stop, fs, is_, tr_p, tr_v, disp_p, disp_v, samp_t, samp_p, samp_v):
                        status = STOP_SAMPLES_FULL
                        break
                    dt = t_stop - t
                    _accumulate(acc_f, k, E, dt)
                    t = t_stop
                status = STOP_TIME
                break
            if t_next >= tend:
                if tend == np.inf:
                    status = STOP_FROZEN
                    break
                # the program step ends first; by memorylessness the pending draw is simply dropped
                if not _sample_until(tend, fs, is_, tr_p, tr_v, disp_p, disp_v, samp_t, samp_p, samp_v):
                    status = STOP_SAMPLES_FULL
                    break
                dt = tend - t
                _accumulate(acc_f, k, E, dt)
                t = tend
                if ntrap > 0:
                    E, Ec, n = _sync(t, k, E, Ec, rng, lat, rt, ca, ac, tp, is_)
                    ntrap = 0
                k += 1
                is_[I_PENDING] = 0
                if k >= K:
                    status = STOP_PROGRAM_END
                    break
                T = step_T[k]
                is_[I_HOT] = hot
                _retemper(rates, dEs, c_key, c_dat, tree, P, w0, T, fs, is_)
                rhot = fs[F_RHOT]
                continue
            # tracer samples strictly before the event see the configuration before it
            if not _sample_until(t_next, fs, is_, tr_p, tr_v, disp_p, disp_v, samp_t, samp_p, samp_v):
                status = STOP_SAMPLES_FULL
                break
            if cap_log > 0 and is_[I_NLOG] >= cap_log:
                status = STOP_LOG_FULL
                break

            if exit_first:
                # a trapped void leaves: it ends its sojourn where it leaves from, then hops out
                v = _xargmin(xtree)
                _accumulate(acc_f, k, E, t_next - t)
                t = t_next
                j = fp_i[v, FP_J]
                flips = fp_i[v, FP_FLIPS]
                E, Ec = _end(v, t, j, fp_f[v, FP_TB], flips, k, E, Ec, lat, rt, ca, ac, tp, is_)
                ntrap -= 1
                fp_n[1] += 1
                fp_n[3] += flips
                d = _exit_direction(v, j, rng, rates, fp_i)
                forced = True
            else:
                x = _uniform(rng) * (rhot + tree[0])

        # ---------------------------------------------------------------- the event
        if forced:
            forced = False
        elif x < rhot:
            v = hot
            d = _hop_direction(rates, v, x)
        else:
            v, d = _tree_select(tree, P, rates, x - rhot)
        is_[I_PENDING] = 0
        y = vpos[v]
        s = nbr[y, d]
        kc = word[v]
        kd = _dest_key(kc, d)
        if kd < 0:  # the word is full: this configuration becomes v's new root
            _drop_cache(v, c_key, c_site, c_stamp, cown, word, iso)
            kc = 0
            kd = _dest_key(kc, d)
        js = -1
        for jj in range(KC):
            if c_key[v, jj] == kd:
                js = jj
        hit = js >= 0  # into a configuration whose rates are cached
        if not hit:
            _prefetch_region(s, L, occ, cown, bond, nbr)
        p = occ[s]
        dE = dEs[v, d]
        dt = t_next - t
        _accumulate(acc_f, k, E, dt)
        void_time[y] += t_next - v_arrive[v]
        v_arrive[v] = t_next
        t = t_next
        # Kahan-compensated energy
        yk = dE - Ec
        tk = E + yk
        Ec = (tk - E) - yk
        E = tk
        if cap_log > 0:
            j = is_[I_NLOG]
            ev_log[j, 0] = v
            ev_log[j, 1] = d
            ev_t[j] = t
            is_[I_NLOG] = j + 1

        # returns: the particle moves in direction od, the void in direction d
        od = (d + 2) & 3
        acc_i[k, 0] += 1
        if last_p[p] >= 0:
            if last_p[p] == d:
                acc_i[k, 1] += 1
            else:
                acc_i[k, 2] += 1
        last_p[p] = od
        if last_v[v] >= 0:
            if last_v[v] == od:
                acc_i[k, 3] += 1
            else:
                acc_i[k, 4] += 1
        last_v[v] = d
        hops_p[p] += 1
        hops_v[v] += 1
        ex, ey = _unit(d)
        disp_v[v, 0] += ex
        disp_v[v, 1] += ey
        disp_p[p, 0] -= ex
        disp_p[p, 1] -= ey

        # move: particle p from s to y, void v from y to s
        occ[y] = p
        occ[s] = -(v + 1)
        ppos[p] = y
        vpos[v] = s

        # p's new bonds at y are pairs already in v's table (V(p, q) for q around y)
        _hop_bonds(v, d, y, s, pw, bond, nbr)
        dclean = 0
        if hit:
            dclean = c_clean[v, js]
            _enter_slot(v, js, y, s, rates, dEs, pw, c_key, c_site, c_dat, cown, word)
            jl = js
            is_[I_CACHE_HITS] += 1
        else:
            jl = 0  # the least recently written slot takes the configuration v leaves
            for jj in range(1, KC):
                if c_stamp[v, jj] < c_stamp[v, jl]:
                    jl = jj
            if c_key[v, jl] >= 0:
                c_key[v, jl] = -1
                _unmark(v, c_site[v, jl], c_key, c_site, cown)
            _store_slot(v, jl, rates, dEs, pw, c_dat)
            _void_rates(v, s, pw, rates, dEs, occ, nbr, bond, itr, w0, T)
            c_key[v, jl] = kc
            c_site[v, jl] = y
            word[v] = kd
        c_stamp[v, jl] = is_[I_HOPS]
        w = cown[y]
        if w >= 0 and w != v:  # another void's slot described y, which just changed
            _drop_cache(w, c_key, c_site, c_stamp, cown, word, iso)
            iso[v] = 0
        cown[y] = v
        if v == hot:
            rhot = rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3]
        else:
            _tree_set(tree, P, v, rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3])

        # A hop between two configurations whose scans found no other void nor slot nearby can
        # skip the scan: anything entering those regions since would have dropped the slot.
        if not (hit and iso[v] == 1 and dclean == 1):
            found = 0
            moved = False
            # other voids within reach of the two changed sites: recompute, drop their caches;
            # a void whose cache refers to a site within reach: drop that cache
            cy = y // L
            cx = y - cy * L
            interior = cx >= 3 and cx < L - 3 and cy >= 3 and cy < L - 3
            for j in range(16):
                if interior:
                    site = y + lin[d, j]
                else:
                    xx = (cx + offsets[d, j, 0]) % L
                    yy = (cy + offsets[d, j, 1]) % L
                    site = xx + L * yy
                if ntrap > 0:
                    # a trapped void within reach (at A, or B's mark) takes its place first; its
                    # sites are two or more away from y and s, so the hop just made does not
                    # touch what its sojourn's end writes, and the scan below treats it as usual.
                    # If it ends in B, its move changes what v's rates at s and v's slot for y
                    # were computed from: v is recomputed after the scan.
                    w = cown[site]
                    if w < 0 or w == v or fp_i[w, FP_ON] == 0:
                        o = occ[site]
                        w = -o - 1 if o < 0 else -1
                    if w >= 0 and w != v and fp_i[w, FP_ON] == 1:
                        a_w = vpos[w]
                        E, Ec = _interrupt(w, t, k, E, Ec, rng, lat, rt, ca, ac, tp, is_)
                        ntrap -= 1
                        if vpos[w] != a_w:
                            moved = True
                w = cown[site]
                if w >= 0 and w != v:
                    _drop_cache(w, c_key, c_site, c_stamp, cown, word, iso)
                    found = 1
                o = occ[site]
                if o < 0:
                    w = -o - 1
                    if w != v:
                        found = 1
                        _void_touched(w, site, y, pw, rates, dEs, occ, nbr, bond, itr, w0, T)
                        _void_touched(w, site, s, pw, rates, dEs, occ, nbr, bond, itr, w0, T)
                        _rates_from_pairs(w, site, pw, rates, dEs, occ, nbr, bond, w0, T)
                        _drop_cache(w, c_key, c_site, c_stamp, cown, word, iso)
                        if w == hot:
                            rhot = rates[w, 0] + rates[w, 1] + rates[w, 2] + rates[w, 3]
                        else:
                            _tree_set(tree, P, w, rates[w, 0] + rates[w, 1] + rates[w, 2] + rates[w, 3])
            if moved:
                _drop_cache(v, c_key, c_site, c_stamp, cown, word, iso)
                _void_rates(v, s, pw, rates, dEs, occ, nbr, bond, itr, w0, T)
                if v == hot:
                    rhot = rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3]
                else:
                    _tree_set(tree, P, v, rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3])
            # cached sites at the two changed sites themselves (y is v's own cache, s is v)
            w = cown[s]
            if w >= 0 and w != v:
                _drop_cache(w, c_key, c_site, c_stamp, cown, word, iso)
                found = 1
            iso[v] = 1 - found
            c_clean[v, jl] = 1 - found
        else:
            c_clean[v, jl] = 1
        # a void that hops twice in a row becomes the hot void: the old one goes back into the tree
        if v == prev and v != hot:
            if hot >= 0:
                _tree_set(tree, P, hot, rhot)
            rhot = rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3]
            _tree_set(tree, P, v, 0.0)
            hot = v
        prev = v
        done += 1
        is_[I_HOPS] += 1

        # ------------------------------------------------ first passage: trap an isolated rocking void
        # (a void not worth trapping goes on through the register loop below)
        if fp == 1 and cap_log == 0 and iso[v] == 1 and c_clean[v, jl] == 1:
            if _trap(v, t, (d + 2) & 3, jl, rng, rates, c_dat, fp_f, fp_i, xtree):
                ntrap += 1
                fp_n[0] += 1
                if v == hot:
                    hot = -1
                    rhot = 0.0
                else:
                    _tree_set(tree, P, v, 0.0)
                prev = -1
                continue

        # ------------------------------------------------ isolated two-level system, in registers
        # The hot void v just hopped y -> s, slot jl holds everything about y, and no other void
        # or slot is within reach (iso). While it keeps hopping back and forth, nothing else in
        # the lattice changes: the same draws, in the same order, with the same arithmetic as the
        # general path above, but the per-hop bookkeeping stays in registers and the lattice
        # arrays are moved once at the end (two hops restore them exactly), so the trajectory
        # and every accumulator are bit-for-bit those of the general path.
        if v == hot and iso[v] == 1 and done < max_hops:
            cur = s
            oth = y
            dc = (d + 2) & 3  # direction of the hop back, from cur to oth
            e_cur = dEs[v, dc]
            e_oth = c_dat[v, jl, C_DE + d]
            ra0 = rates[v, 0]
            ra1 = rates[v, 1]
            ra2 = rates[v, 2]
            ra3 = rates[v, 3]
            rb0 = c_dat[v, jl, C_RATE + 0]
            rb1 = c_dat[v, jl, C_RATE + 1]
            rb2 = c_dat[v, jl, C_RATE + 2]
            rb3 = c_dat[v, jl, C_RATE + 3]
            r_oth = rb0 + rb1 + rb2 + rb3
            r_cur = rhot
            tree0 = tree[0]
            a0 = acc_f[k, 0]
            a1 = acc_f[k, 1]
            a2 = acc_f[k, 2]
            n0 = acc_i[k, 0]
            n1 = acc_i[k, 1]
            n2 = acc_i[k, 2]
            n3 = acc_i[k, 3]
            n4 = acc_i[k, 4]
            lp = last_p[p]
            lv = last_v[v]
            dvx = disp_v[v, 0]
            dvy = disp_v[v, 1]
            dpx = disp_p[p, 0]
            dpy = disp_p[p, 1]
            va = v_arrive[v]
            nlog = is_[I_NLOG]
            done0 = done
            hops0 = is_[I_HOPS]
            flips = 0
            while done < max_hops:
                total = rhot + tree0
                if total > 0.0:
                    t_next = t + _exponential(rng) / total
                else:
                    t_next = np.inf
                fs[F_TNEXT] = t_next
                is_[I_PENDING] = 1
                tend = step_tend[k]
                if (t_stop < tend and t_next > t_stop) or t_next >= tend:
                    break
                if ntr > 0 and fs[F_NEXT_SAMPLE] < t_next:
                    break
                if cap_log > 0 and nlog >= cap_log:
                    break
                if ntrap > 0 and xtree[1] < t_next:  # a trapped void leaves first
                    break
                x = _uniform(rng) * (rhot + tree0)
                if x >= rhot:
                    have_x = True
                    break
                if flips:
                    dsel = _dir4(rb0, rb1, rb2, rb3, x)
                else:
                    dsel = _dir4(ra0, ra1, ra2, ra3, x)
                if dsel != dc:
                    have_x = True
                    break
                is_[I_PENDING] = 0
                dt = t_next - t
                a0 += dt
                a1 += E * dt
                a2 += E * E * dt
                void_time[cur] += t_next - va
                va = t_next
                t = t_next
                yk = e_cur - Ec
                tk = E + yk
                Ec = (tk - E) - yk
                E = tk
                if cap_log > 0:
                    ev_log[nlog, 0] = v
                    ev_log[nlog, 1] = dc
                    ev_t[nlog] = t
                    nlog += 1
                od = (dc + 2) & 3
                n0 += 1
                if lp >= 0:
                    if lp == dc:
                        n1 += 1
                    else:
                        n2 += 1
                lp = od
                if lv >= 0:
                    if lv == od:
                        n3 += 1
                    else:
                        n4 += 1
                lv = dc
                ex, ey = _unit(dc)
                dvx += ex
                dvy += ey
                dpx -= ex
                dpy -= ey
                done += 1
                flips ^= 1
                cur, oth = oth, cur
                e_cur, e_oth = e_oth, e_cur
                r_cur, r_oth = r_oth, r_cur
                rhot = r_cur
                dc = od
            m = done - done0  # hops made in this loop
            hops_p[p] += m
            hops_v[v] += m
            is_[I_HOPS] += m
            is_[I_CACHE_HITS] += m
            acc_f[k, 0] = a0
            acc_f[k, 1] = a1
            acc_f[k, 2] = a2
            acc_i[k, 0] = n0
            acc_i[k, 1] = n1
            acc_i[k, 2] = n2
            acc_i[k, 3] = n3
            acc_i[k, 4] = n4
            last_p[p] = lp
            last_v[v] = lv
            disp_v[v, 0] = dvx
            disp_v[v, 1] = dvy
            disp_p[p, 0] = dpx
            disp_p[p, 1] = dpy
            v_arrive[v] = va
            is_[I_NLOG] = nlog
            if m > 0:
                c_stamp[v, jl] = hops0 + m - 1  # written by the loop's last hop
            if flips:
                # the void is at y again: one back hop of the lattice arrays and the slot
                occ[s] = p
                occ[y] = -(v + 1)
                ppos[p] = s
                vpos[v] = y
                _hop_bonds(v, (d + 2) & 3, s, y, pw, bond, nbr)
                _enter_slot(v, jl, s, y, rates, dEs, pw, c_key, c_site, c_dat, cown, word)
                cown[s] = v

    fs[F_T] = t
    fs[F_E] = E
    fs[F_EC] = Ec
    fs[F_TEMP] = T
    fs[F_RHOT] = rhot
    is_[I_STEP] = k
    is_[I_HOT] = hot
    is_[I_PREV] = prev
    return status, done
