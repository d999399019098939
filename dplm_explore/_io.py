"""Files: atomic writes that never replace a file silently, and guarded ``.npz`` reading."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["check_writable", "atomic_write", "read_npz"]


def check_writable(path, overwrite: bool) -> Path:
    """``Path(path)``; raises ``FileExistsError`` if it exists and ``overwrite`` is false."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    return path


def atomic_write(path: Path, write: Callable) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it into place: an
    error part-way leaves any existing file untouched and no partial file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_npz(path, what: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (no pickles); anything unreadable is a ValueError that
    names the file and ``what`` it was expected to be."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(f"{str(path)!r} is not a readable {what} ({exc})") from None
