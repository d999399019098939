"""Square-lattice geometry with periodic boundaries (z = 4).

Sites are numbered ``s = x + L * y``. Directions ``d = 0, 1, 2, 3`` are ``+x, +y, -x, -y``; the
opposite of ``d`` is ``(d + 2) & 3``.
"""

from __future__ import annotations

import numpy as np

Z = 4
DIRECTIONS = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.int32)


def neighbour_table(L: int) -> np.ndarray:
    """int32[L*L, 4]: ``nbr[s, d]`` is the neighbour of site ``s`` in direction ``d``."""
    s = np.arange(L * L, dtype=np.int64)
    x, y = s % L, s // L
    out = np.empty((L * L, 4), dtype=np.int32)
    for d, (dx, dy) in enumerate(DIRECTIONS):
        out[:, d] = (x + dx) % L + L * ((y + dy) % L)
    return out


def site_xy(sites, L: int) -> np.ndarray:
    """(..., 2) integer coordinates of sites."""
    sites = np.asarray(sites)
    return np.stack([sites % L, sites // L], axis=-1)


def scan_offsets() -> np.ndarray:
    """int32[4, 16, 2]: for a hop from site y to its neighbour y + e_d, the offsets (from y) of all
    sites within Manhattan distance 2 of y or of y + e_d, excluding those two sites.

    A void there has a rate that depends on the two sites that changed (the rate of a hop into a
    void at x depends on every site within distance 2 of x)."""
    out = np.zeros((4, 16, 2), dtype=np.int32)
    for d, (ex, ey) in enumerate(DIRECTIONS):
        pts = []
        for dx in range(-3, 4):
            for dy in range(-3, 4):
                near_y = abs(dx) + abs(dy) <= 2
                near_s = abs(dx - ex) + abs(dy - ey) <= 2
                if (near_y or near_s) and (dx, dy) not in ((0, 0), (int(ex), int(ey))):
                    pts.append((dx, dy))
        assert len(pts) == 16
        out[d] = pts
    return out
