"""The kernels' exponential waiting times: ziggurat against its Python twin and against Exp(1)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from dplm_explore._rng import ZIG_F, ZIG_R, _exponential, py_exponential, seed_state


@numba.njit
def _draws(state, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = _exponential(state)
    return out


def test_kernel_and_twin_give_the_same_bits_and_consume_the_same_stream():
    state = seed_state(3)
    twin = [int(x) for x in state]
    xs = _draws(state, 20_000)  # enough for ~220 slow-path draws (tail and wedges)
    assert [py_exponential(twin) for _ in range(20_000)] == list(xs)
    assert twin == [int(x) for x in state]


@pytest.mark.parametrize("seed", [1, 2])
def test_waiting_times_are_unit_exponential(seed):
    xs = _draws(seed_state(seed), 400_000)
    assert stats.kstest(xs, "expon").pvalue > 1e-3
    # moments and the tail beyond the base layer (the slow paths) at 5 sigma
    n = xs.size
    assert abs(xs.mean() - 1.0) < 5 / np.sqrt(n)
    assert abs(np.mean(xs**2) - 2.0) < 5 * np.sqrt(20 / n)
    for x0 in (0.5, 3.0, 6.0, ZIG_R):
        p = np.exp(-x0)
        assert abs(np.mean(xs > x0) - p) < 5 * np.sqrt(p * (1 - p) / n) + 1 / n


def test_tables_describe_the_exponential_density():
    assert ZIG_F[0] == 1.0 and ZIG_F[-1] == pytest.approx(np.exp(-ZIG_R))
    assert np.all(np.diff(ZIG_F) < 0)
