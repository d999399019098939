"""The registry of sweep tasks: each measurement registers the task it offers, the sweep runs them.

A task is ``func(params, seed) -> dict`` of numbers and arrays for one parameter point and seed;
it is registered with the parameter keys it reads (:func:`register_task`), so the sweep refuses a
misspelt or ignored key and a new measurement is added in its own module only. The parameters
of a system are the same for every task (:func:`system_keys`; g given by family name and its
parameters, :func:`task_g`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Task", "TASKS", "SYSTEM_KEYS", "G_KEYS", "register_task", "task_g", "system_keys", "need"]


def g_keys() -> frozenset:
    """The g(V) parameters a task may take beside ``g`` (the family name or a g's dict): every
    declared parameter of every g family."""
    from .interactions import g_parameters

    return frozenset(p.name for p in g_parameters())


def system_keys() -> frozenset:
    """The keys of a system, the same for every task: ``L``, ``phi_v``, ``w0``, ``g`` and the g
    parameters (:func:`g_keys`)."""
    return frozenset({"L", "phi_v", "g", "w0"}) | g_keys()


#: the g keys and system keys of the g families known when this module was imported
G_KEYS = tuple(sorted(g_keys()))
SYSTEM_KEYS = system_keys()


@dataclass(frozen=True)
class Task:
    """A sweep task: ``func(params, seed)``, the keys it reads beside the system's
    (``own_keys``) and the first line of its docstring."""

    name: str
    func: Callable[[dict, int], dict]
    own_keys: frozenset
    doc: str

    @property
    def keys(self) -> frozenset:
        """Every key the task reads: its own and the system's."""
        return self.own_keys | system_keys()


#: task name -> Task (filled by the measurement modules as they are imported)
TASKS: dict[str, Task] = {}


def register_task(name: str, keys):
    """Decorator: register ``func(params, seed)`` as sweep task ``name`` reading ``keys`` (plus
    the system keys)."""
    def deco(func):
        TASKS[name] = Task(name, func, frozenset(keys), (func.__doc__ or "").strip().split("\n")[0])
        return func
    return deco


def task_g(p: dict):
    """The g(V) of task parameters: ``g`` a family name (default uniform) with its parameters as
    keys, or a g's dict (:func:`~dplm_explore.interactions.as_g`)."""
    from .interactions import as_g

    return as_g(p.get("g"), **{k: p[k] for k in g_keys() if p.get(k) is not None})


def need(p: dict, *keys: str) -> None:
    missing = [k for k in keys if p.get(k) is None]
    if missing:
        raise ValueError(f"sweep task parameters lack {missing}; got {sorted(p)}")

