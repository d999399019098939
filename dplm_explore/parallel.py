"""Running independent tasks: serially, on local worker processes or on a Dask cluster.

:func:`map_tasks` is the one executor every measurement and the sweep use. Local workers are
spawned processes that die with their parent: a worker whose parent is killed (even with
SIGKILL) gets SIGTERM from the kernel (Linux ``PR_SET_PDEATHSIG``), so no orphan keeps a core
and its memory. :class:`RunOptions` says how a runner (a measurement, a sweep) runs its tasks
and where it keeps what it finished.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["map_tasks", "die_with_parent", "RunOptions"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to send SIGTERM to this process when its parent dies (Linux; elsewhere a
    no-op). Used as the worker initializer and as the ``preexec_fn`` of the app's server."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _default_workers(n_items: int) -> int:
    return max(1, min(n_items, os.cpu_count() or 1))


def map_tasks(func: Callable, items: Sequence, *, workers: int | None = None, scheduler=None, progress: bool = False, desc: str | None = None,
              on_result: Callable[[int, Any], None] | None = None) -> list:
    """``[func(item) for item in items]``, possibly in parallel.

    ``scheduler``: a Dask scheduler address (``'tcp://host:8786'``) or a ``distributed.Client``:
    run on that cluster (needs ``dask[distributed]``). Otherwise ``workers``: ``None`` (one
    process per core, at most one per item), ``0`` or ``1`` (serially in this process) or the
    number of local worker processes (spawned, so they import the package afresh). ``func`` must
    be a module-level function. ``on_result(i, result)`` is called in this process as each item
    finishes (in completion order); ``progress`` shows a tqdm bar. The first failing item's
    exception is re-raised after the other pending items are cancelled.
    """
    items = list(items)
    n = len(items)
    results: list = [None] * n
    if n == 0:
        return results
    _check_workers(workers)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=desc, unit="task", dynamic_ncols=True)

    def done(i, res):
        results[i] = res
        if on_result is not None:
            on_result(i, res)
        if bar is not None:
            bar.update(1)

    try:
        if scheduler is not None:
            _map_dask(func, items, scheduler, done)
        else:
            w = _default_workers(n) if workers is None else int(workers)
            if w <= 1:
                for i, item in enumerate(items):
                    done(i, func(item))
            else:
                _map_processes(func, items, min(w, n), done)
    finally:
        if bar is not None:
            bar.close()
    return results


def _map_processes(func, items, workers, done) -> None:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=die_with_parent) as pool:
        futs = {pool.submit(func, item): i for i, item in enumerate(items)}
        pending = set(futs)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in sorted(finished, key=lambda f: futs[f]):
                    done(futs[f], f.result())
        except BaseException:
            for f in pending:
                f.cancel()
            # stop the running tasks too (SIGTERM: a campaign replica checkpoints and its worker
            # leaves; any other task ends), instead of waiting for them to finish
            for proc in list((pool._processes or {}).values()):
                if proc.is_alive():
                    proc.terminate()
            raise


def _map_dask(func, items, scheduler, done) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("running on a Dask cluster needs dask[distributed] (pip install 'dplm-explore[distributed]')") from exc
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futs = client.map(func, items, pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        try:
            for f in as_completed(futs):
                done(index[f.key], f.result())
        except BaseException:
            client.cancel(futs)
            raise
    finally:
        if own:
            client.close()




def _check_workers(workers) -> None:
    if workers is None:
        return
    try:
        ok = not isinstance(workers, bool) and int(workers) == workers and workers >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"workers must be None or a non-negative integer; got {workers!r}")


@dataclass(frozen=True)
class RunOptions:
    """How a runner runs its independent tasks, and where it keeps them.

    ``workers``/``scheduler``: as :func:`map_tasks` takes them (``workers=None``: one local
    process per core; ``1``: in this process; ``scheduler``: a Dask cluster); ``out``: the result
    file or folder, written as tasks finish; ``overwrite``: replace an existing ``out``;
    ``resume``: continue the partial ``out`` of an identical earlier call; ``progress``: a
    progress bar. Nothing here changes a result: every task is fixed by its seed.
    """

    workers: int | None = 1
    scheduler: Any = None
    out: str | Path | None = None
    overwrite: bool = False
    resume: bool = False
    progress: bool = False

    def __post_init__(self):
        _check_workers(self.workers)
        for name in ("overwrite", "resume", "progress"):
            v = getattr(self, name)
            if not isinstance(v, bool):
                raise ValueError(f"{name} must be True or False; got {v!r}")
        if self.out is not None and not isinstance(self.out, (str, Path)):
            raise ValueError(f"out must be a path or None; got {self.out!r}")

    @classmethod
    def resolve(cls, run: "RunOptions | None", given: dict[str, Any], *, caller: str, defaults: dict[str, Any] | None = None,
                renamed: dict[str, str] | None = None, resumable: bool = True) -> "RunOptions":
        """The options of a runner called as ``caller(..., run=run, **given)``: ``run``, or the
        keywords ``given`` (each a field of this class, or an old name in ``renamed``) on top of
        the runner's ``defaults``; not both. ``resumable=False``: the runner cannot resume."""
        names = {f.name for f in fields(cls)}
        kw = {}
        for k, v in given.items():
            key = (renamed or {}).get(k, k)
            if key not in names:
                raise TypeError(f"{caller}() got an unexpected keyword argument {k!r}")
            kw[key] = v
        if run is not None:
            if not isinstance(run, cls):
                raise ValueError(f"run must be a RunOptions; got {run!r}")
            if kw:
                raise ValueError(f"give run=RunOptions(...) or the keywords {sorted(given)}, not both; got run={run!r}")
            opts = run
        else:
            opts = cls(**{**(defaults or {}), **kw})
        if opts.resume and not resumable:
            raise ValueError(f"{caller} cannot resume a partial result; got resume=True")
        return opts

    def map(self, func: Callable, items: Sequence, *, desc: str | None = None, on_result: Callable[[int, Any], None] | None = None) -> list:
        """:func:`map_tasks` with these workers, scheduler and progress bar."""
        return map_tasks(func, items, workers=self.workers, scheduler=self.scheduler, progress=self.progress, desc=desc, on_result=on_result)
