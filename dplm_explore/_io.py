"""Files: atomic writes that never replace a file silently, and guarded ``.npz`` reading."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

__all__ = ["check_writable", "atomic_write", "read_npz", "npz_path", "prepare_output", "FILE_MODE"]

#: permissions of the files the package writes (before the umask)
FILE_MODE = 0o644


def check_writable(path, overwrite: bool) -> Path:
    """``Path(path)``; raises ``FileExistsError`` if it exists and ``overwrite`` is false."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it")
    return path


def npz_path(path) -> Path:
    """``path`` as the ``.npz`` writers name it (``.npz`` appended when missing)."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def prepare_output(path, overwrite: bool, *, what: str = "--out") -> Path:
    """Check before any work that ``path`` can be written: not an existing file (unless
    ``overwrite``), its folder exists and accepts a new file. Raises ValueError naming ``what``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(f"{what} {str(path)!r} exists; pass --overwrite to replace it")
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder, not a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{what} {str(path)!r}: folder {str(folder)!r} does not exist")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".dplm-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{what} {str(path)!r}: cannot write in {str(folder)!r} ({exc.strerror})") from None
    return path


def atomic_write(path: Path, write: Callable, *, overwrite: bool = False) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, then put it in place atomically:
    with ``overwrite`` by rename (an existing file is replaced in one step), otherwise by a hard
    link, which fails if ``path`` exists, so of two writers racing for one name exactly one
    wins and the other gets ``FileExistsError`` (nothing silently lost). An error or signal
    part-way leaves any existing file untouched and no partial file behind. Files get mode
    0644 less the process umask, like any file the user creates."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it") from None
            except OSError:  # a file system without hard links: exclusive create, then copy
                _exclusive_copy(tmp, path)
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _exclusive_copy(src: str, dst: Path) -> None:
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        while chunk := inp.read(1 << 20):
            out.write(chunk)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_npz(path, what: str, *, max_bytes=None, meta_member: str | None = None) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (no pickles); anything unreadable is a ValueError that
    names the file and ``what`` it was expected to be. ``max_bytes``: a limit on the unpacked
    size of all members, checked from the zip directory before anything is unpacked; a number,
    or a function of the raw bytes of ``meta_member`` (read first, at most 1 MB) and the members'
    declared sizes (name -> bytes)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {str(path)!r} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            limit = max_bytes
            if callable(max_bytes):
                meta_info = next((i for i in infos if i.filename == f"{meta_member}.npy"), None)
                raw = b""
                if meta_info is not None and meta_info.file_size <= 2**20:
                    with zf.open(meta_info) as fh:
                        raw = bytes(np.lib.format.read_array(fh, allow_pickle=False))
                limit = max_bytes(raw, {i.filename: i.file_size for i in infos})
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"{str(path)!r} is not a readable {what} file ({exc})") from None
    if limit is not None:
        total = sum(i.file_size for i in infos)
        if total > limit:
            raise ValueError(f"{str(path)!r} unpacks to {total} bytes, more than the {int(limit)} a {what} of its size can hold; refused")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:
        raise ValueError(f"{str(path)!r} is not a readable {what} file ({exc})") from None
