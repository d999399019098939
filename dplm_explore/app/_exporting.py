"""Exports of the explorer's figures: the folder an export may write into (:func:`export_folder`),
the layout it is made of (:func:`snapshot_layout`), the job that writes it (:func:`export_job`) and
a worker thread that runs one job at a time (:class:`ExportWorker`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .plots import LivePlots

#: environment variable naming the folder a served explorer may export into (set by ``dplm-explore app``)
EXPORT_ROOT_ENV = "DPLM_EXPORT_ROOT"
#: what an export writes: standalone HTML and a PNG
EXPORT_FORMATS = ("html", "png")


def export_folder(name) -> Path:
    """The absolute export folder for ``name``: inside ``$DPLM_EXPORT_ROOT`` when that is set
    (a relative name is taken from there; a name that leaves it is a ValueError), else the
    name as given (relative to the working folder)."""
    root = os.environ.get(EXPORT_ROOT_ENV)
    p = Path(str(name)).expanduser()
    if not root:
        return p.resolve()
    root_p = Path(root).resolve()
    full = (root_p / p).resolve() if not p.is_absolute() else p.resolve()
    if full != root_p and root_p not in full.parents:
        raise ValueError(f"export folder {str(name)!r} lies outside {str(root_p)!r}, the folder this explorer may write to")
    return full


def snapshot_layout(frame, check: str, system, theory):
    """``frame`` drawn into new figures (with the lattice check text ``check``, the g(V) of
    ``system`` and ``theory``), as one Bokeh layout."""
    snap = LivePlots(frame.L)
    snap.set_theory(theory)
    snap.set_g(system.g(), system.T_I, frame.T)
    snap.draw(frame)
    snap.check.text = check
    return snap.snapshot_layout()


def export_job(folder: Path, stem: str, formats, frame, check: str, system, theory):
    """A function writing the snapshot of ``frame`` into ``folder`` as ``stem``.html / .png (one
    file per format); it returns ``(written paths, failures)``."""
    from ..export import save_html, save_png

    def job():
        out, failed = [], []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            layout = snapshot_layout(frame, check, system, theory)
        except (OSError, ValueError, RuntimeError) as exc:
            return out, [f"not written ({exc})"]
        for fmt in formats:
            try:
                if fmt == "html":
                    out.append(save_html(layout, folder / f"{stem}.html", title=f"dplm-explore {stem}"))
                elif fmt == "png":
                    out.append(save_png(layout, folder / f"{stem}.png"))
            except (OSError, ValueError, RuntimeError, ImportError) as exc:
                failed.append(f"{fmt.upper()} not written ({exc})")
        return out, failed

    return job


class ExportWorker:
    """Export jobs on a worker thread, one at a time (the thread starts with the first job)."""

    def __init__(self):
        self._pool = None
        self._future = None

    @property
    def busy(self) -> bool:
        """Whether a job is still running."""
        return self._future is not None and not self._future.done()

    def submit(self, job):
        """Start ``job``; returns its ``concurrent.futures.Future``."""
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dplm-export")
        self._future = self._pool.submit(job)
        return self._future

    def finished(self):
        """The ``(written, failures)`` of the job that has finished, once; None while it runs or
        when there is none. A job that raised reports the exception as its one failure."""
        fut = self._future
        if fut is None or not fut.done():
            return None
        self._future = None
        try:
            return fut.result()
        except Exception as exc:  # an unexpected failure is shown, not lost in the thread
            return [], [repr(exc)]

    def shutdown(self) -> None:
        """Stop the thread once its job is done (without waiting)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
