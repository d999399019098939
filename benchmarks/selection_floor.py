"""What event selection alone costs: the floor under every hop of the kinetic Monte Carlo.

    python benchmarks/selection_floor.py [--voids 200] [--iterations 5000000]

Each loop draws a waiting time and a uniform number, selects a void (and the direction of its hop)
with probability rate / total, changes that void's rates and updates the structure: the chain of
dependent work every hop of ``kmc._kernel._advance`` has to go through, without the lattice.

* ``rng``: the two random draws only;
* ``tree``: the kernel's 4-ary sum tree (:func:`_tree_select`, :func:`_tree_set`);
* ``tree+delta``: the same tree, ancestors updated by adding the change (no recomputation);
* ``prefix16``: 16-ary running sums, a leaf's group recomputed from the leaf on;
* ``cr``: composition-rejection (groups of totals within a factor 2, a random member accepted
  with probability total / group bound; not the kernel's event order).

Rates are uniform**6 (totals spread over about 11 factors of 2, as at T ~ 0.1). Results are
printed, not committed; numbers for one machine are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from dplm_explore._jit import jit
from dplm_explore._rng import _exponential, _uniform, seed_state
from dplm_explore.kmc._kernel import _hop_direction, _tree_build, _tree_select, _tree_set

N_GROUPS = 48


@jit(inline="always")
def _swap_two_rates(rates, v, d):
    """The 'new rates' of the selected void: two of its rates exchanged (its total is unchanged
    up to rounding, so the distribution stays put over millions of iterations)."""
    r = rates[v, d]
    rates[v, d] = rates[v, (d + 1) & 3]
    rates[v, (d + 1) & 3] = r
    return rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3]


@jit
def loop_rng(rng, n):
    t = 0.0
    for _ in range(n):
        t += _exponential(rng) + _uniform(rng)
    return t


@jit
def loop_tree(tree, P, rates, rng, delta, n):
    t = 0.0
    for _ in range(n):
        total = tree[0]
        t += _exponential(rng) / total
        v, d = _tree_select(tree, P, rates, _uniform(rng) * total)
        old = tree[(P - 1) // 3 + v]
        new = _swap_two_rates(rates, v, d)
        if delta:
            i = (P - 1) // 3 + v
            tree[i] += new - old
            while i > 0:
                i = (i - 1) >> 2
                tree[i] += new - old
        else:
            _tree_set(tree, P, v, new)
    return t


@jit
def loop_prefix16(lp, gp, G, leaf, rates, rng, n):
    t = 0.0
    for _ in range(n):
        total = gp[G - 1]
        t += _exponential(rng) / total
        x = _uniform(rng) * total
        g = 0
        for h in range(16):
            g += gp[h] <= x
        g = min(g, G - 1)
        x -= gp[g - 1] if g > 0 else 0.0
        base = g << 4
        i = 0
        for j in range(16):
            i += lp[base + j] <= x
        i = min(i, 15)
        x -= lp[base + i - 1] if i > 0 else 0.0
        v = base + i
        leaf[v] = _swap_two_rates(rates, v, _hop_direction(rates, v, x))
        acc = lp[v - 1] if i > 0 else 0.0
        for j in range(i, 16):
            acc += leaf[base + j]
            lp[base + j] = acc
        acc = gp[g - 1] if g > 0 else 0.0
        for h in range(g, G):
            acc += lp[(h << 4) + 15]
            gp[h] = acc
    return t


@jit(inline="always")
def _group(r, rtop):
    """Group g holds totals in (rtop 2^-(g+1), rtop 2^-g]; -1 for a zero total."""
    if r <= 0.0:
        return -1
    _, e = math.frexp(rtop / r)
    return min(max(e - 1, 0), N_GROUPS - 1)


@jit(inline="always")
def _cr_set(v, new, leaf, grp, gtot, gm, gcnt, gpos, rtop):
    """Move void v's total to ``new``; returns the change of the overall total."""
    old = leaf[v]
    g0 = grp[v]
    g1 = _group(new, rtop)
    leaf[v] = new
    if g0 == g1:
        if g0 >= 0:
            gtot[g0] += new - old
        return new - old
    if g0 >= 0:
        last = gm[g0, gcnt[g0] - 1]
        gm[g0, gpos[v]] = last
        gpos[last] = gpos[v]
        gcnt[g0] -= 1
        gtot[g0] = gtot[g0] - old if gcnt[g0] else 0.0
    if g1 >= 0:
        gpos[v] = gcnt[g1]
        gm[g1, gcnt[g1]] = v
        gcnt[g1] += 1
        gtot[g1] += new
    grp[v] = g1
    return new - old


@jit
def loop_cr(rates, leaf, grp, gtot, gm, gcnt, gpos, rtop, rng, n):
    tot = 0.0
    for v in range(rates.shape[0]):
        tot += _cr_set(v, rates[v, 0] + rates[v, 1] + rates[v, 2] + rates[v, 3], leaf, grp, gtot, gm, gcnt, gpos, rtop)
    t = 0.0
    rejected = 0
    for _ in range(n):
        t += _exponential(rng) / tot
        x = _uniform(rng) * tot
        g = 0
        while g < N_GROUPS - 1 and (x >= gtot[g] or gcnt[g] == 0):
            x -= gtot[g]
            g += 1
        bound = math.ldexp(rtop, -g)
        while True:
            m = gm[g, np.intp(_uniform(rng) * gcnt[g])]
            y = _uniform(rng) * bound
            if y < leaf[m]:
                break
            rejected += 1
        new = _swap_two_rates(rates, m, _hop_direction(rates, m, y))
        tot += _cr_set(m, new, leaf, grp, gtot, gm, gcnt, gpos, rtop)
    return rejected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voids", type=int, default=200)
    ap.add_argument("--iterations", type=int, default=5_000_000)
    a = ap.parse_args()
    nv, n = a.voids, a.iterations
    base_rates = np.random.default_rng(0).uniform(0, 1, (nv, 4)) ** 6

    def tree_case(delta):
        P = 1
        while P < nv:
            P *= 4
        rates = base_rates.copy()
        tree = np.zeros((4 * P - 1) // 3)
        is_ = np.zeros(10, np.int64)
        is_[8] = -1  # no hot void
        _tree_build(tree, P, rates, np.zeros(9), is_)
        return loop_tree, (tree, P, rates, seed_state(1), delta, n)

    def prefix_case():
        G = (nv + 15) // 16
        if G > 16:
            raise SystemExit("prefix16 handles at most 256 voids")
        rates = np.zeros((G * 16, 4))
        rates[:nv] = base_rates
        leaf = rates.sum(1)
        lp = np.concatenate([np.cumsum(leaf[g * 16:(g + 1) * 16]) for g in range(G)])
        gp = np.full(16, np.inf)
        gp[:G] = np.cumsum(lp[15::16])
        return loop_prefix16, (lp, gp, G, leaf, rates, seed_state(1), n)

    def cr_case():
        arrays = (np.zeros(nv), np.full(nv, -1, np.int64), np.zeros(N_GROUPS), np.zeros((N_GROUPS, nv), np.int64),
                  np.zeros(N_GROUPS, np.int64), np.zeros(nv, np.int64))
        return loop_cr, (base_rates.copy(), *arrays, 4.0, seed_state(1), n)

    cases = {
        "rng": lambda: (loop_rng, (seed_state(1), n)),
        "tree": lambda: tree_case(False),
        "tree+delta": lambda: tree_case(True),
        "prefix16": prefix_case,
        "cr": cr_case,
    }
    for name, make in cases.items():
        f, args = make()
        f(*args[:-1], 1000)  # compile
        f, args = make()
        t0 = time.perf_counter()
        out = f(*args)
        dt = time.perf_counter() - t0
        extra = f" ({out / n:.2f} rejections per selection)" if name == "cr" else ""
        print(f"{name:>11}: {dt / n * 1e9:6.1f} ns per selection{extra}")


if __name__ == "__main__":
    main()
