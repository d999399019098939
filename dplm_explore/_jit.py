"""The one place that sets Numba compile options for every kernel in the package."""

from __future__ import annotations

import numba

#: Options shared by every private kernel: cached to disk, GIL released so a
#: background thread can run a kernel while the UI thread draws, no fastmath
#: (the pure-Python reference must agree with the kernels to the last bit).
JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": False, "_nrt": False}


def jit(func=None, **overrides):
    """``numba.njit`` with the package's options; usable bare or with overrides."""
    options = {**JIT_OPTIONS, **overrides}
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)
