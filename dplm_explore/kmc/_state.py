"""The engine's state as one table.

Every array (and the few scalars) the kernels read or write is declared once in :data:`FIELDS`:
its name, the kernel argument group it travels in, dtype, shape, the value a fresh system starts
from and whether a state file holds it. :class:`~.engine.Simulation` allocates from the table,
saves and loads the saved fields, checks a loaded state's shapes and dtypes against it, and hands
the kernels their arguments as the named tuples of :data:`GROUPS` (``Lattice``, ``Interactions``,
``Rates``, ``Cache``, ``Traps``, ``Program``, ``Accumulators``, ``Tracers``, ``EventLog``).

Shapes name their dimensions: ``S`` sites, ``N`` particles, ``Nv`` voids, ``TREE`` nodes of the
4-ary rate sum tree, ``XTREE`` nodes of the exit-time min-tree, ``K`` steps of the current
program, ``H`` steps of finished programs, ``KC``/``CW`` node-cache slots and their width,
``FS``/``IS`` the float and int registers; ``None`` is a free dimension (checked by rank only).

The memory a system will take is checked here too, before anything is allocated.
"""

from __future__ import annotations

import os
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _ops as K


@dataclass(frozen=True)
class Field:
    """One entry of the state table (see the module docstring)."""

    name: str
    group: str | None  # kernel argument group; None: the engine's alone
    dtype: Any
    shape: tuple
    fill: float = 0
    saved: bool = True


_F = Field
#: the state table, in the order of the kernel groups' fields
FIELDS: tuple[Field, ...] = (
    # structure and configuration
    _F("nbr", "lattice", np.int32, ("S", 4), saved=False),
    _F("offsets", "lattice", np.int32, (4, 16, 2), saved=False),
    _F("lin", "lattice", np.int64, (4, 16), saved=False),
    _F("occ", "lattice", np.int32, ("S",)),
    _F("ppos", "lattice", np.int32, ("N",)),
    _F("vpos", "lattice", np.int32, ("Nv",)),
    _F("bond", "lattice", np.float64, ("S", 2)),
    # what fixes every interaction V(p, q)
    _F("gen", "interactions", np.float64, ("N", 8)),
    _F("dense", "interactions", np.float64, (None, None)),
    _F("key", "interactions", np.uint64, (), saved=False),
    _F("gkind", "interactions", np.int64, (), saved=False),
    _F("gpar", "interactions", np.float64, (None,), saved=False),
    _F("gtab", "interactions", np.float64, (None,)),
    # the random stream
    _F("rng", None, np.uint64, (4,)),
    # rates of every void's four hops, their energies, the sum tree, the pair tables
    _F("rates", "rates", np.float64, ("Nv", 4)),
    _F("dEs", "rates", np.float64, ("Nv", 4)),
    _F("tree", "rates", np.float64, ("TREE",)),
    _F("pw", "rates", np.float64, ("Nv", 6)),
    # node caches (a pure memo: emptying them never changes a trajectory)
    _F("c_key", "cache", np.int64, ("Nv", "KC"), fill=-1),
    _F("c_site", "cache", np.int32, ("Nv", "KC")),
    _F("c_stamp", "cache", np.int64, ("Nv", "KC"), fill=-1),
    _F("c_clean", "cache", np.int8, ("Nv", "KC")),
    _F("c_dat", "cache", np.float64, ("Nv", "KC", "CW")),
    _F("cown", "cache", np.int32, ("S",), fill=-1),
    _F("word", "cache", np.int64, ("Nv",)),
    _F("iso", "cache", np.int8, ("Nv",)),
    # open first-passage sojourns (:mod:`._trap`)
    _F("fp_f", "traps", np.float64, ("Nv", 2)),
    _F("fp_i", "traps", np.int64, ("Nv", 5)),
    _F("xtree", "traps", np.float64, ("XTREE",), fill=np.inf),
    _F("fp_n", "traps", np.int64, (4,)),
    # the temperature program and the registers (clock, energy, step, ...)
    _F("step_T", "program", np.float64, ("K",)),
    _F("step_tend", "program", np.float64, ("K",)),
    _F("fs", "program", np.float64, ("FS",)),
    _F("is_", "program", np.int64, ("IS",)),
    # accumulators: per program step, per site, per particle and void
    _F("acc_f", "accumulators", np.float64, ("K", 3)),
    _F("acc_i", "accumulators", np.int64, ("K", 5)),
    _F("void_time", "accumulators", np.float64, ("S",)),
    _F("v_arrive", "accumulators", np.float64, ("Nv",)),
    _F("disp_p", "accumulators", np.int32, ("N", 2)),
    _F("disp_v", "accumulators", np.int32, ("Nv", 2)),
    _F("last_p", "accumulators", np.int8, ("N",), fill=-1),
    _F("last_v", "accumulators", np.int8, ("Nv",), fill=-1),
    _F("hops_p", "accumulators", np.int64, ("N",)),
    _F("hops_v", "accumulators", np.int64, ("Nv",)),
    # tracked particles and voids, and the sample buffer
    _F("tr_p", "tracers", np.int32, (None,)),
    _F("tr_v", "tracers", np.int32, (None,)),
    _F("samp_t", "tracers", np.float64, (None,), saved=False),
    _F("samp_p", "tracers", np.int32, (None, None, 2), saved=False),
    _F("samp_v", "tracers", np.int32, (None, None, 2), saved=False),
    # start positions and finished programs' accumulators (the engine's alone)
    _F("ppos0", None, np.int32, ("N",)),
    _F("vpos0", None, np.int32, ("Nv",)),
    _F("hist_T", None, np.float64, ("H",)),
    _F("hist_t0", None, np.float64, ("H",)),
    _F("hist_t1", None, np.float64, ("H",)),
    _F("hist_f", None, np.float64, ("H", 3)),
    _F("hist_i", None, np.int64, ("H", 5)),
)
FIELD = {f.name: f for f in FIELDS}
#: fields a state file holds
SAVED = tuple(f.name for f in FIELDS if f.saved)
#: fields of the first-passage dynamics (a state file without them has no sojourn open)
TRAPS = tuple(f.name for f in FIELDS if f.group == "traps")
#: the node-cache fields (a state file of format 2 loads with them empty)
CACHE = tuple(f.name for f in FIELDS if f.group == "cache")

Lattice = namedtuple("Lattice", [f.name for f in FIELDS if f.group == "lattice"])
Interactions = namedtuple("Interactions", [f.name for f in FIELDS if f.group == "interactions"])
Rates = namedtuple("Rates", [f.name for f in FIELDS if f.group == "rates"])
Cache = namedtuple("Cache", CACHE)
Traps = namedtuple("Traps", TRAPS)
Program = namedtuple("Program", [f.name for f in FIELDS if f.group == "program"])
Accumulators = namedtuple("Accumulators", [f.name for f in FIELDS if f.group == "accumulators"])
Tracers = namedtuple("Tracers", [f.name for f in FIELDS if f.group == "tracers"])
EventLog = namedtuple("EventLog", ["ev_log", "ev_t"])
#: kernel argument group -> its named tuple
GROUPS = {"lattice": Lattice, "interactions": Interactions, "rates": Rates, "cache": Cache, "traps": Traps, "program": Program,
          "accumulators": Accumulators, "tracers": Tracers}


def tree_size(n_voids: int) -> int:
    """Nodes of the 4-ary sum tree over ``n_voids`` leaves."""
    return (4 * tree_leaves(n_voids) - 1) // 3


def tree_leaves(n_voids: int) -> int:
    """Leaves of the 4-ary sum tree: the first power of four >= the number of voids."""
    p = 1
    while p < n_voids:
        p *= 4
    return p


def xtree_leaves(n_voids: int) -> int:
    """Leaves of the exit-time min-tree: the first power of two >= the number of voids."""
    q = 1
    while q < n_voids:
        q *= 2
    return q


def dims(L: int, n_particles: int, n_voids: int, n_steps: int = 0, n_hist: int = 0) -> dict[str, int]:
    """The named dimensions of a system's fields."""
    return {"S": L * L, "N": n_particles, "Nv": n_voids, "TREE": tree_size(n_voids), "XTREE": 2 * xtree_leaves(n_voids), "K": n_steps,
            "H": n_hist, "KC": K.KC, "CW": K.C_WIDTH, "FS": K.N_FS, "IS": K.N_IS}


def shape_of(name: str, d: dict[str, int]) -> tuple:
    """The shape of field ``name`` under dimensions ``d`` (free dimensions stay None)."""
    return tuple(d[x] if isinstance(x, str) else x for x in FIELD[name].shape)


def fresh(name: str, d: dict[str, int]) -> np.ndarray:
    """Field ``name`` as a fresh system starts it (its fill value; free dimensions of size 0)."""
    f = FIELD[name]
    return np.full(tuple(0 if n is None else n for n in shape_of(name, d)), f.fill, dtype=f.dtype)


def mismatch(name: str, arr, d: dict[str, int]) -> str | None:
    """Why ``arr`` cannot be field ``name`` under dimensions ``d`` (None if it can)."""
    f = FIELD[name]
    want = shape_of(name, d)
    shape = np.shape(arr)
    ok = np.asarray(arr).dtype == f.dtype and len(shape) == len(want) and all(w is None or w == s for w, s in zip(want, shape))
    if ok:
        return None
    expected = "(" + ", ".join("n" if w is None else str(w) for w in want) + ("," if len(want) == 1 else "") + ")"
    return f"array {name} has shape {shape} and dtype {np.asarray(arr).dtype}, expected {expected} {np.dtype(f.dtype)}"


def group(obj, name: str):
    """Kernel argument group ``name`` of an engine object holding the fields as ``_<name>``."""
    cls = GROUPS[name]
    return cls(*(getattr(obj, "_" + n) for n in cls._fields))


def copied(grp):
    """The same kernel argument group with every array copied (a scratch set to compute into)."""
    return type(grp)(*(a.copy() if isinstance(a, np.ndarray) else a for a in grp))


def pack_genesis(gpart: np.ndarray, gV: np.ndarray) -> np.ndarray:
    """float64[N, 8] rows (4 partners, 4 values) aligned to 64 bytes: one cache line a particle."""
    n = gpart.shape[0]
    buf = np.empty(n * 8 + 8, dtype=np.float64)
    off = (-buf.ctypes.data % 64) // 8
    gen = buf[off : off + n * 8].reshape(n, 8)
    gen[:, :4] = gpart
    gen[:, 4:] = gV
    return gen


#: bytes a system needs per lattice site while it is built and run (its arrays hold about 140;
#: the construction doubles that for a moment), for the memory check before anything is allocated
BYTES_PER_SITE = 320
#: environment variable that raises (or lowers) the memory a system may take, in GB
MEMORY_LIMIT_ENV = "DPLM_MEMORY_LIMIT_GB"


def memory_limit_bytes() -> int:
    """``$DPLM_MEMORY_LIMIT_GB`` if set, else 80 % of the machine's physical memory."""
    env = os.environ.get(MEMORY_LIMIT_ENV)
    if env:
        try:
            gb = float(env)
        except ValueError:
            raise ValueError(f"{MEMORY_LIMIT_ENV} must be a number of GB; got {env!r}") from None
        return int(gb * 1e9)
    try:
        return int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no sysconf
        return 16 * 10**9


def check_memory(L: int) -> int:
    """The estimated bytes of an L x L system; ValueError (naming L) above :func:`memory_limit_bytes`."""
    need = BYTES_PER_SITE * L * L
    limit = memory_limit_bytes()
    if need > limit:
        raise ValueError(f"L={L} needs about {need / 1e9:.3g} GB, above the limit of {limit / 1e9:.3g} GB "
                         f"(set {MEMORY_LIMIT_ENV} to raise it)")
    return need
