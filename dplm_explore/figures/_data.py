"""Figure data: the computed results of one figure with its parameters and provenance, in one
``.npz`` (each result's own file stored as a byte array, plus JSON metadata)."""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import atomic_write, check_writable

__all__ = ["FigureData", "load_figure_data", "FIGURE_DATA_FORMAT"]

FIGURE_DATA_FORMAT = "dplm-explore-figure-data/1"

@dataclass
class FigureData:
    """The computed data of one figure: named results, parameters and provenance.

    ``results``: name -> :class:`~dplm_explore.results.Result`; ``params``: the parameters used;
    ``provenance``: package versions, seed, wall time, and ``command``, the command line that
    regenerates the file."""

    name: str
    scale: str
    params: dict
    results: dict
    provenance: dict = field(default_factory=dict)

    def save(self, path, *, overwrite: bool = False) -> Path:
        """One ``.npz``: each result's own file stored as a byte array, plus JSON metadata."""
        path = check_writable(path, overwrite)
        members = {}
        with tempfile.TemporaryDirectory(prefix="dplm-figdata-") as tmp:
            for key, res in self.results.items():
                members[f"result/{key}"] = np.frombuffer(res.save(Path(tmp) / f"{len(members)}.npz").read_bytes(), dtype=np.uint8)
        meta = {"format": FIGURE_DATA_FORMAT, "name": self.name, "scale": self.scale, "params": self.params, "provenance": self.provenance,
                "results": list(self.results)}
        members["__meta__"] = np.frombuffer(json.dumps(meta, allow_nan=True).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **members)
        atomic_write(path, lambda fh: fh.write(buf.getvalue()), overwrite=overwrite)
        return path


def load_figure_data(path) -> FigureData:
    """Read a file written by :meth:`FigureData.save`."""
    from ..results import load_result, read_tagged_npz

    path = Path(path)
    data, meta = read_tagged_npz(path, "figure data", FIGURE_DATA_FORMAT)
    results = {}
    with tempfile.TemporaryDirectory(prefix="dplm-figdata-") as tmp:
        for i, key in enumerate(meta["results"]):
            f = Path(tmp) / f"{i}.npz"
            f.write_bytes(data[f"result/{key}"].tobytes())
            results[key] = load_result(f)
    return FigureData(meta["name"], meta["scale"], meta["params"], results, meta["provenance"])


