"""Result objects: dataclasses of plain numpy arrays plus provenance, saved and reloaded exactly.

Every measurement in :mod:`dplm_explore.analysis` returns a subclass of :class:`Result`. A result
is written as one ``.npz`` file: each array field is an npz member, each ``dict`` of arrays is
stored member by member (``field/key``), and every other field (numbers, strings, lists, dicts of
plain values, ``None``) goes into one JSON metadata member together with the format tag, the
result's kind (class name) and its provenance. Floats survive JSON exactly (``repr`` round
trip), arrays keep dtype and shape, so :meth:`Result.save` followed by :func:`load_result` gives
an equal object (:meth:`Result.equals`).

Writing is atomic (a temporary file in the target folder, then ``os.replace``) and never
overwrites an existing file unless ``overwrite=True`` (``FileExistsError`` otherwise). Long
measurements save a partial result after each finished unit of work (``complete=False`` in the
provenance), so an interrupted run leaves a readable file behind.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ._io import atomic_write, check_writable, read_npz

__all__ = ["Result", "RESULT_FORMAT", "load_result", "register_result", "base_provenance", "write_json", "strict_json", "check_writable"]

RESULT_FORMAT = "dplm-explore-result/1"

_REGISTRY: dict[str, type] = {}


def register_result(cls):
    """Class decorator: make ``cls`` loadable by :func:`load_result` under its class name."""
    _REGISTRY[cls.__name__] = cls
    return cls


def base_provenance(**extra) -> dict[str, Any]:
    """Package, numpy, numba and Python versions, the platform and a UTC timestamp, plus ``extra``."""
    import numba

    from ._version import __version__

    prov = {
        "dplm_explore": __version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    prov.update(extra)
    return prov


def _to_json(value: Any) -> Any:
    """Plain-JSON copy of ``value`` (numpy scalars to Python numbers, tuples to lists)."""
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return _to_json(value.tolist())
    if value is None or isinstance(value, (int, float, str)):
        return value
    if hasattr(value, "to_dict"):
        return _to_json(value.to_dict())
    raise TypeError(f"cannot store a value of type {type(value).__name__} in result metadata: {value!r}")


def strict_json(value: Any) -> Any:
    """:func:`_to_json` with non-finite floats replaced by ``None`` (standard JSON)."""
    value = _to_json(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict_json(v) for v in value]
    return value


def write_json(path, obj: Any, *, overwrite: bool = False) -> Path:
    """Write ``obj`` as indented standard JSON (NaN and infinities as ``null``), atomically,
    never silently replacing a file."""
    path = check_writable(path, overwrite)
    data = json.dumps(strict_json(obj), indent=2, allow_nan=False).encode()
    atomic_write(path, lambda fh: fh.write(data), overwrite=overwrite)
    return path


def _arrays_equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _arrays_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@dataclasses.dataclass
class Result:
    """Base of every result: subclasses are dataclasses whose fields are numpy arrays, dicts of
    numpy arrays, or JSON-able values; ``provenance`` (a dict) is always the last field."""

    #: fields that hold ``dict[str, np.ndarray]`` (stored member by member)
    _array_dicts: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _missing_field(cls, name: str, kwargs: dict[str, Any]) -> Any:
        """Value of field ``name`` when a file lacks it (one written by an older version);
        ``kwargs`` holds the fields read so far. Raise ``KeyError`` when there is none."""
        raise KeyError(name)

    # ------------------------------------------------------------------ comparison
    def equals(self, other: "Result") -> bool:
        """Field-by-field equality (arrays: same dtype, shape and values, NaN equal to NaN)."""
        if type(self) is not type(other):
            return False
        return all(_values_equal(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self))

    @property
    def complete(self) -> bool:
        """False for a partial result saved by an interrupted or unfinished measurement."""
        return bool(getattr(self, "provenance", {}).get("complete", True))

    # ------------------------------------------------------------------ save / load
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write to ``path`` (``.npz`` appended if missing); atomic; ``FileExistsError`` if the
        file exists and ``overwrite`` is false."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        check_writable(path, overwrite)
        arrays: dict[str, np.ndarray] = {}
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in self._array_dicts:
                keys = []
                for k, a in v.items():
                    arrays[f"{f.name}/{k}"] = np.asarray(a)
                    keys.append(str(k))
                fields[f.name] = {"__array_dict__": keys}
            elif isinstance(v, np.ndarray):
                if v.dtype == object:
                    raise TypeError(f"field {f.name} is an object array; results hold numeric arrays only")
                arrays[f.name] = v
            else:
                fields[f.name] = _to_json(v)
        meta = {"format": RESULT_FORMAT, "kind": type(self).__name__, "fields": fields}
        blob = np.frombuffer(json.dumps(meta, allow_nan=True).encode(), dtype=np.uint8)

        def write(fh):
            np.savez_compressed(fh, __meta__=blob, **arrays)

        atomic_write(path, write, overwrite=overwrite)
        return path

    @classmethod
    def load(cls, path) -> "Result":
        """Read a file written by :meth:`save`; checks that it holds this kind of result."""
        obj = load_result(path)
        if not isinstance(obj, cls):
            raise ValueError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj

    def summary(self) -> dict[str, Any]:
        """JSON-ready dict of the scalar fields (no arrays)."""
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) or f.name in self._array_dicts:
                continue
            out[f.name] = _to_json(v)
        return out


def read_tagged_npz(path, what: str, fmt: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, metadata)`` of an .npz written with a JSON ``__meta__`` member whose
    ``format`` is ``fmt``; ValueError naming the file when it is not one (``what``: e.g. 'result')."""
    path = Path(path)
    data = read_npz(path, what)
    if "__meta__" not in data:
        raise ValueError(f"{str(path)!r} is not a dplm-explore {what} file (no metadata)")
    meta = json.loads(bytes(data.pop("__meta__")).decode())
    if meta.get("format") != fmt:
        raise ValueError(f"{str(path)!r} has format {meta.get('format')!r}; expected {fmt!r}")
    return data, meta


def load_result(path) -> Result:
    """Load any result written by :meth:`Result.save` (the class is read from the file)."""
    path = Path(path)
    data, meta = read_tagged_npz(path, "result", RESULT_FORMAT)
    # the result classes register themselves when their modules are imported, which the
    # package's __init__ does before any of its modules can be used
    kind = meta.get("kind")
    cls = _REGISTRY.get(kind)
    if cls is None:
        raise ValueError(f"{str(path)!r} holds an unknown result kind {kind!r}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = data[f.name]
        elif f.name in meta["fields"]:
            v = meta["fields"][f.name]
            if isinstance(v, dict) and "__array_dict__" in v:
                v = {k: data[f"{f.name}/{k}"] for k in v["__array_dict__"]}
            kwargs[f.name] = v
        else:
            try:
                kwargs[f.name] = cls._missing_field(f.name, kwargs)
            except KeyError:
                raise ValueError(f"{str(path)!r} lacks field {f.name!r} of {kind}") from None
    return cls(**kwargs)
