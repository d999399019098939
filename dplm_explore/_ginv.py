"""The numerics under the g(V) families: monotone cdf nodes and their inversion, and the kernels'
inverse cdf of g and pair interaction (re-exported by :mod:`dplm_explore.interactions`)."""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._rng import _pair_uniform

#: kernel codes for the in-kernel inverse cdf
KIND_AFFINE, KIND_UNIFORM_DELTA, KIND_TABLE = 0, 1, 2


def _nodes_with_atoms(V, c, atoms):
    """Merge a continuous cdf c on grid V with atoms into monotone (V, cdf) nodes."""
    Vs = [np.asarray(V, float)]
    cs = [np.asarray(c, float) + sum(w * (np.asarray(V) > loc) for loc, w in atoms)]
    for loc, w in atoms:
        base = float(np.interp(loc, V, c, right=c[-1])) + sum(w2 for l2, w2 in atoms if l2 < loc)
        Vs.append(np.array([loc, loc]))
        cs.append(np.array([base, base + w]))
    allV, allc = np.concatenate(Vs), np.concatenate(cs)
    order = np.lexsort((allc, allV))
    return allV[order], np.maximum.accumulate(allc[order])


def _invert_cdf(nodes, u):
    """Generalised inverse of a monotone piecewise-linear cdf given by nodes (V, c)."""
    V, c = nodes
    u = np.asarray(u, float)
    c = c / c[-1]
    # smallest node index with c >= u, then interpolate on the segment before it
    j = np.searchsorted(c, u, side="left")
    j = np.clip(j, 1, c.size - 1)
    c0, c1 = c[j - 1], c[j]
    V0, V1 = V[j - 1], V[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(c1 > c0, (u - c0) / (c1 - c0), 1.0)
    out = V0 + np.clip(f, 0.0, 1.0) * (V1 - V0)
    out = np.where(u <= c[0], V[0], out)
    return out if out.ndim else float(out)


@jit(inline="always")
def _ginv(u, kind, par, table):
    """g's inverse cdf inside kernels. kind: 0 affine (par0 + par1 u), 1 uniform-delta
    (G0 = par0, dV = par1), 2 linear interpolation in ``table`` (float64[M], u-grid on [0, 1])."""
    if kind == 0:
        return par[0] + par[1] * u
    if kind == 1:
        if u < par[0]:
            return par[1] * u / par[0]
        return par[1]
    x = u * (table.size - 1)
    i = int(x)
    if i > table.size - 2:
        i = table.size - 2
    f = x - i
    return table[i] + f * (table[i + 1] - table[i])


@jit(inline="always")
def _pair_V(p, q, key, gen, dense, kind, par, table):
    """Interaction V between particles p and q (p != q).

    dense: float64[n, n] explicit table (used when n > 0, small test systems);
    gen float64[N, 8]: stored genesis bonds, one 64-byte row per particle: partners in columns
    0-3 (-1 = empty), their interactions in columns 4-7;
    otherwise g's inverse cdf of the hashed uniform of {p, q} under ``key``.
    """
    if dense.shape[0] > 0:
        return dense[p, q]
    for j in range(4):
        if gen[p, j] == q:
            return gen[p, 4 + j]
    return _ginv(_pair_uniform(key, p, q), kind, par, table)
