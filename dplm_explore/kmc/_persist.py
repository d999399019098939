"""State files of :class:`~.engine.Simulation`: writing one, reading one back, and the checks that
a state read back is one the kernels can run. The kernels do no bounds checking, so a damaged
file must fail here with a clear message, not crash or drift later.

A state file is an ``.npz`` with a JSON ``_meta`` member (format, parameters, seed, program,
dynamics, versions) and every saved field of :mod:`._state`; tracer samples taken but not read
yet travel as three optional members.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .._io import atomic_write, check_writable, npz_path, read_npz
from .._rng import normalize_seed
from ..schedules import Program
from ..system import SystemParams
from . import _ops as K
from . import _state as ST
from . import _trap as T_

STATE_FORMAT = "dplm-explore-state/3"
#: a state of format 2 holds a one-entry back-and-forth cache and every bond twice (float[S, 4]);
#: it loads with empty node caches and each bond once (the same event order, so the run continues
#: on the same trajectory, only its cache-hit count differs)
FORMAT_2 = "dplm-explore-state/2"
_CACHE_FIELDS_2 = ("c_pw", "c_pos", "c_rates", "c_dE", "c_bond", "cown", "iso")
#: members of a state file holding tracer samples taken but not read yet (optional)
PENDING_SAMPLES = ("pending_t", "pending_p", "pending_v")
_MAX_PENDING_BYTES = 2**30
#: unpacked bytes read from a state file whose metadata does not say its size (then refused)
_UNSIZED_STATE_BYTES = 2**26
#: sample-buffer rows of a loaded state with tracers (the default of :meth:`~.engine.Simulation.track`)
TRACER_CAPACITY = 4096


def save_state(sim, path, meta: dict, *, overwrite: bool) -> Path:
    """Write ``sim``'s saved fields and ``meta`` to ``path`` (atomically; never over an existing
    file unless ``overwrite``)."""
    path = npz_path(path)
    check_writable(path, overwrite)
    arrays = {n: getattr(sim, "_" + n) for n in ST.SAVED}
    if sim._samples:
        arrays.update(zip(PENDING_SAMPLES, (np.concatenate([c[k] for c in sim._samples]) for k in range(3))))
    atomic_write(path, lambda fh: np.savez(fh, _meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays), overwrite=overwrite)
    return path


def load_state(cls, path):
    """The ``cls`` object (a :class:`~.engine.Simulation`) a state file holds, validated."""
    path = Path(path)
    where = f"state file {str(path)!r}"
    data = read_npz(path, "dplm-explore state", max_bytes=lambda meta, sizes: _state_size_limit(meta, sizes, path), meta_member="_meta")
    if "_meta" not in data:
        raise ValueError(f"{where} is not a dplm-explore state (no metadata)")
    try:
        meta = json.loads(bytes(data.pop("_meta")).decode())
    except Exception:
        raise ValueError(f"{where} has corrupt metadata") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{where} has corrupt metadata (a JSON {type(meta).__name__}, not an object)")
    fmt = meta.get("format")
    if fmt not in (STATE_FORMAT, FORMAT_2):
        raise ValueError(f"{where} has format {fmt!r}; expected {STATE_FORMAT!r} (or {FORMAT_2!r}, which loads with empty caches)")
    stored = [n for n in ST.SAVED if n not in ST.TRAPS and (fmt == STATE_FORMAT or n not in ST.CACHE)]
    needed = stored if fmt == STATE_FORMAT else stored + list(_CACHE_FIELDS_2)
    missing = [n for n in needed if n not in data]
    if missing:
        raise ValueError(f"{where} lacks arrays {missing}")
    lacking = [k for k in ("params", "seed", "program", "program_t0", "key") if k not in meta]
    if lacking:
        raise ValueError(f"{where} has metadata without {lacking}")
    try:
        params = SystemParams.from_dict(meta["params"])
        seed = normalize_seed(meta["seed"])
        program = Program.from_dict(meta["program"]) if meta["program"] else None
        key = int(meta["key"])
        program_t0 = float(meta["program_t0"])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"{where} has invalid metadata ({exc})") from None
    if not 0 <= key < 2**64 or not math.isfinite(program_t0):
        raise ValueError(f"{where} has invalid metadata (key {key!r}, program_t0 {program_t0!r})")
    S = params.L * params.L
    if data["occ"].shape != (S,):
        raise ValueError(f"{where}: array occ has shape {data['occ'].shape}, but the metadata says L = {params.L} ({S} sites)")
    sim = cls.__new__(cls)
    try:
        sim.dynamics = meta.get("dynamics", "hop")
    except ValueError as exc:
        raise ValueError(f"{where} has invalid metadata ({exc})") from None
    sim.params = params
    sim.seed = seed
    sim.program = program
    sim.program_t0 = program_t0
    sim.setup_s = 0.0
    sim._key = np.uint64(key)
    sim._structure()
    sim._gkind, sim._gpar, _ = params.g.kernel_spec()
    sim._fresh(ST.CACHE + ST.TRAPS)
    for n in stored:
        setattr(sim, "_" + n, np.ascontiguousarray(data[n]))
    if fmt == FORMAT_2 and sim._bond.ndim == 2 and sim._bond.shape[1] == 4:
        sim._bond = np.ascontiguousarray(sim._bond[:, :2])
    if sim._gen.ndim == 2 and sim._gen.shape[1:] == (8,):
        sim._gen = ST.pack_genesis(sim._gen[:, :4], sim._gen[:, 4:])
    if any(n in data for n in ST.TRAPS):
        _load_traps(sim, data, where)
    validate(sim, where)
    check_traps(sim, where)
    n_tr = sim._tr_p.size + sim._tr_v.size
    cap = TRACER_CAPACITY if n_tr else 1
    sim._samp_t = np.zeros(cap)
    sim._samp_p = np.zeros((cap, sim._tr_p.size, 2), dtype=np.int32)
    sim._samp_v = np.zeros((cap, sim._tr_v.size, 2), dtype=np.int32)
    sim._samples = []
    sim._max_samples = None
    if all(k in data for k in PENDING_SAMPLES):
        t, sp, sv = (data[k] for k in PENDING_SAMPLES)
        n = t.shape[0] if t.ndim == 1 else -1
        if not (t.dtype == np.float64 and sp.shape == (n, sim._tr_p.size, 2) and sv.shape == (n, sim._tr_v.size, 2)
                and sp.dtype == np.int32 and sv.dtype == np.int32 and np.all(np.isfinite(t))):
            raise ValueError(f"{where}: the pending tracer samples are damaged")
        sim._samples = [(t.copy(), sp.copy(), sv.copy())]
    sim._fs[K.F_SAMPLE_DT] = float(meta.get("tracer_interval", math.inf))
    return sim


def _load_traps(sim, data, where: str) -> None:
    """Open sojourns from a state file (shapes and types; :func:`check_traps` checks them against
    the lattice once that is validated)."""
    missing = [n for n in ST.TRAPS if n not in data]
    if missing:
        raise ValueError(f"{where} lacks arrays {missing}")
    for n in ST.TRAPS:
        a = np.ascontiguousarray(data[n])
        bad = ST.mismatch(n, a, sim._dims())
        if bad:
            raise ValueError(f"{where}: {bad}")
        setattr(sim, "_" + n, a.copy())


def check_traps(sim, where: str) -> None:
    """Open sojourns consistent with the (validated) lattice, node cache and rate tree."""
    on = sim._fp_i[:, T_.FP_ON]
    q = sim._xtree.shape[0] // 2
    leaves = sim._xtree[q:q + on.size]
    bad = ~np.isin(on, (0, 1)) | np.any(sim._fp_n < 0)
    tv = np.flatnonzero(on == 1)
    if tv.size:
        slot, dab, j = sim._fp_i[tv, T_.FP_SLOT], sim._fp_i[tv, T_.FP_DIR], sim._fp_i[tv, T_.FP_J]
        bad |= np.any((slot < 0) | (slot >= K.KC) | (dab < 0) | (dab > 3) | ~np.isin(j, (0, 1)) | (sim._fp_i[tv, T_.FP_FLIPS] < 0))
        if not bad.any():
            bad |= np.any(sim._c_key[tv, slot] < 0) | np.any(sim._nbr[sim._vpos[tv], dab] != sim._c_site[tv, slot])
            bad |= np.any(~(sim._fp_f[tv, T_.FP_T0] <= sim._fs[K.F_T])) | np.any(~(leaves[tv] >= sim._fp_f[tv, T_.FP_T0]))
            bad |= np.any(sim._tree[(sim._is_[K.I_P] - 1) // 3 + tv] != 0.0)
    if np.any(bad) or np.any(leaves[on == 0] != np.inf) or np.any(sim._xtree[q + on.size:] != np.inf):
        raise ValueError(f"{where}: the first-passage arrays (open sojourns) are damaged")
    for i in range(q - 1, 0, -1):  # the min-tree's inner nodes follow from its leaves
        sim._xtree[i] = min(sim._xtree[2 * i], sim._xtree[2 * i + 1])
    sim._xtree[0] = np.inf


def validate(sim, where: str) -> None:
    """Every field a kernel indexes checked: shape and dtype against the table, index ranges, and
    the derived fields (bonds, rates, tree, energy) against a recomputation."""
    p = sim.params
    S, N, Nv = p.L * p.L, p.n_particles, p.n_voids
    d = sim._dims()
    for name in ST.SAVED:
        if name in ST.TRAPS:
            continue
        bad = ST.mismatch(name, getattr(sim, "_" + name), d)
        if bad:
            raise ValueError(f"{where}: {bad}")
    K_steps = sim._step_T.shape[0]
    if K_steps < 1:
        raise ValueError(f"{where}: empty temperature program")
    if sim.program is not None:
        T_prog, tend_prog = sim.program.compile(sim.program_t0)
        if not (np.array_equal(T_prog, sim._step_T) and np.array_equal(tend_prog, sim._step_tend)):
            raise ValueError(f"{where}: the temperature steps disagree with the program in the metadata")
    for name, arr in (("step_T", sim._step_T), ("hist_T", sim._hist_T)):
        if arr.size and not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
            raise ValueError(f"{where}: {name} holds temperatures that are not positive and finite")
    t_now = sim._fs[K.F_T]
    if not (math.isfinite(t_now) and t_now >= sim.program_t0 - 1e-9 * max(1.0, abs(sim.program_t0))):
        raise ValueError(f"{where}: the clock reads {t_now!r}, before the program's start {sim.program_t0!r} or not finite")
    # the energy-square moment is NaN where first-passage sojourns ended (see :mod:`._trap`)
    moments = [(n, a[:, :2], a[:, 2]) for n, a in (("acc_f", sim._acc_f), ("hist_f", sim._hist_f))]
    if any(np.any(np.isinf(e2)) for _, _, e2 in moments):
        raise ValueError(f"{where}: an energy moment is infinite")
    for name, arr in (("acc_f", moments[0][1]), ("void_time", sim._void_time), ("v_arrive", sim._v_arrive), ("hist_f", moments[1][1])):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}: {name} holds values that are not finite")
    dense = sim._dense
    if not (dense.shape == (0, 0) or dense.shape == (N, N)):
        raise ValueError(f"{where}: array dense has shape {dense.shape}, expected (0, 0) or ({N}, {N})")
    if sim._gtab.size < 2 or not np.all(np.isfinite(sim._gtab)):
        raise ValueError(f"{where}: the tabulated inverse cdf is damaged")
    occ = sim._occ
    if not np.array_equal(np.sort(occ[occ >= 0]), np.arange(N)) or not np.array_equal(np.sort(-occ[occ < 0] - 1), np.arange(Nv)):
        raise ValueError(f"{where}: occupancy is not a valid arrangement")
    for name, arr in (("ppos", sim._ppos), ("vpos", sim._vpos)):
        if arr.size and (arr.min() < 0 or arr.max() >= S):
            raise ValueError(f"{where}: {name} holds sites out of range (positions disagree with the occupancy)")
    if not (np.array_equal(occ[sim._ppos], np.arange(N)) and np.array_equal(occ[sim._vpos], -(np.arange(Nv) + 1))):
        raise ValueError(f"{where}: positions disagree with the occupancy")
    partners = sim._gen[:, :4]
    if not np.all((partners == -1) | ((partners >= 0) & (partners < N) & (partners == np.round(partners)))):
        raise ValueError(f"{where}: genesis partners out of range")
    _validate_caches(sim, where)
    for name, arr, hi in (("cown", sim._cown, Nv), ("tr_p", sim._tr_p, N), ("tr_v", sim._tr_v, Nv)):
        if arr.size and (arr.min() < -1 or arr.max() >= hi or (name.startswith("tr") and arr.min() < 0)):
            raise ValueError(f"{where}: {name} holds indices out of range")
    for name, arr in (("ppos0", sim._ppos0), ("vpos0", sim._vpos0)):
        if arr.size and (arr.min() < 0 or arr.max() >= S):
            raise ValueError(f"{where}: {name} holds sites out of range")
    if not (0 <= sim._is_[K.I_STEP] <= K_steps) or sim._is_[K.I_PENDING] not in (0, 1):
        raise ValueError(f"{where}: program position out of range")
    if not (-1 <= sim._is_[K.I_HOT] < Nv and -1 <= sim._is_[K.I_PREV] < Nv):
        raise ValueError(f"{where}: hot void index out of range")
    # structural constants are rebuilt rather than trusted
    sim._is_[K.I_P] = ST.tree_leaves(Nv)
    sim._is_[K.I_L] = p.L
    sim._is_[K.I_NSAMP] = 0
    sim._is_[K.I_NLOG] = 0
    tree = np.empty_like(sim._tree)
    fs, is_ = sim._fs.copy(), sim._is_.copy()
    K._tree_build(tree, sim._is_[K.I_P], np.where(sim._fp_i[:, :1] == 1, 0.0, sim._rates), fs, is_)  # trapped voids' leaves hold 0
    if not (np.array_equal(tree, sim._tree) and fs[K.F_RHOT] == sim._fs[K.F_RHOT]):
        raise ValueError(f"{where}: the rate tree disagrees with the rates")
    if not np.array_equal(sim._bond, bonds_of(sim)):
        raise ValueError(f"{where}: bond energies disagree with the interactions")
    _check_rates(sim, where)
    if abs(sim.energy_from_scratch() - sim.energy) > 1e-6 * max(1.0, abs(sim.energy)):
        raise ValueError(f"{where}: stored energy disagrees with the configuration")


def _check_rates(sim, where: str) -> None:
    """The stored rates and hop energies against a recomputation from the configuration, g, the
    interaction key, w0 and the current temperature (a state that would run on another trajectory
    than the one it claims is refused)."""
    if sim.program_done:
        return
    T = float(sim._step_T[int(sim._is_[K.I_STEP])])
    rt, ca, pg = (ST.copied(ST.group(sim, name)) for name in ("rates", "cache", "program"))
    K._all_rates(ST.group(sim, "lattice"), ST.group(sim, "interactions"), rt, ca, pg, sim.params.w0, T)
    rates, dEs, pw = rt.rates, rt.dEs, rt.pw
    if not (np.allclose(rates, sim._rates, rtol=1e-9, atol=0.0) and np.allclose(dEs, sim._dEs, rtol=1e-9, atol=1e-12) and np.allclose(pw, sim._pw, rtol=1e-9, atol=1e-12)):
        raise ValueError(f"{where}: the stored rates disagree with the configuration, g, w0 and T = {T!r} in the file")


def _validate_caches(sim, where: str) -> None:
    """Node-cache slots: words within the depth limit, sites in range and marked, flags 0/1."""
    S = sim.params.L ** 2
    full = sim._c_key >= 0
    words = np.concatenate([sim._c_key[full], sim._word])
    if np.any(sim._c_key < -1) or np.any(words < 0) or np.any((words >> K.DEPTH_SHIFT) > K.MAX_DEPTH):
        raise ValueError(f"{where}: cache words out of range")
    sites = sim._c_site[full]
    if sites.size and (sites.min() < 0 or sites.max() >= S):
        raise ValueError(f"{where}: cache sites out of range")
    owners = np.nonzero(full)[0]
    if sites.size and not np.array_equal(sim._cown[sites], owners):
        raise ValueError(f"{where}: cache marks disagree with the cache slots")
    for name in ("c_clean", "iso"):
        if not np.all((getattr(sim, "_" + name) == 0) | (getattr(sim, "_" + name) == 1)):
            raise ValueError(f"{where}: {name} holds values other than 0 and 1")
    if not np.all(np.isfinite(sim._c_dat)):
        raise ValueError(f"{where}: cached rates are not finite")


def bonds_of(sim) -> np.ndarray:
    """The bond energies of ``sim``'s configuration, recomputed."""
    bond = np.zeros_like(sim._bond)
    K._init_bonds(sim._occ, sim._nbr, bond, ST.group(sim, "interactions"))
    return bond


def _state_size_limit(meta_bytes: bytes, sizes: dict, path) -> int:
    """Most bytes a state file may unpack to, from the lattice size its metadata claims (checked
    against the memory limit), before any array is read; pending tracer samples add their own
    size, up to :data:`_MAX_PENDING_BYTES` each."""
    pending = 0
    for k in PENDING_SAMPLES:
        n = sizes.get(f"{k}.npy", 0)
        if n > _MAX_PENDING_BYTES:
            raise ValueError(f"state file {str(path)!r}: member {k} declares {n} bytes, more than {_MAX_PENDING_BYTES}; refused")
        pending += n
    try:
        L = json.loads(meta_bytes.decode())["params"]["L"]
    except Exception:
        return _UNSIZED_STATE_BYTES + pending  # load_state() itself reports the damaged metadata
    if isinstance(L, bool) or not isinstance(L, int) or L < 3:
        raise ValueError(f"state file {str(path)!r} has invalid metadata (L = {L!r})")
    try:
        return 2 * ST.check_memory(L) + 2**20 + pending
    except ValueError as exc:
        raise ValueError(f"state file {str(path)!r}: {exc}") from None
