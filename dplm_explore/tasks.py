"""The registry of sweep tasks: each measurement registers the task it offers, the sweep runs them.

A task is ``func(params, seed) -> dict`` of numbers and arrays for one parameter point and seed;
it is registered with the parameter keys it reads (:func:`register_task`), so the sweep refuses a
misspelt or ignored key and a new measurement is added in its own module only. The parameters
of a system are the same for every task (:data:`SYSTEM_KEYS`; g given by family name and its
parameters, :func:`task_g`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["Task", "TASKS", "SYSTEM_KEYS", "G_KEYS", "register_task", "task_g", "need"]

def _g_parameter_names() -> tuple[str, ...]:
    import dataclasses

    from .interactions import G_FAMILIES

    return tuple(sorted({f.name for key, cls in G_FAMILIES.items() if key != "tabulated" for f in dataclasses.fields(cls) if f.init}))


#: g(V) parameters a task may take (beside ``g``, the family name or a g's dict): every
#: parameter of every g family (their dataclass fields)
G_KEYS = _g_parameter_names()
SYSTEM_KEYS = frozenset({"L", "phi_v", "g", *G_KEYS, "w0"})


@dataclass(frozen=True)
class Task:
    name: str
    func: Callable[[dict, int], dict]
    keys: frozenset
    doc: str


#: task name -> Task (filled by the measurement modules as they are imported)
TASKS: dict[str, Task] = {}


def register_task(name: str, keys):
    """Decorator: register ``func(params, seed)`` as sweep task ``name`` reading ``keys`` (plus
    the system keys)."""
    def deco(func):
        TASKS[name] = Task(name, func, SYSTEM_KEYS | frozenset(keys), (func.__doc__ or "").strip().split("\n")[0])
        return func
    return deco


def task_g(p: dict):
    """The g(V) of task parameters: ``g`` a family name (default uniform) with the G_KEYS given,
    or a g's dict."""
    from .interactions import g_from_dict, make_g

    fam = p.get("g", "uniform")
    if isinstance(fam, dict):
        return g_from_dict(fam)
    return make_g(fam, **{k: p[k] for k in G_KEYS if p.get(k) is not None})


def need(p: dict, *keys: str) -> None:
    missing = [k for k in keys if p.get(k) is None]
    if missing:
        raise ValueError(f"sweep task parameters lack {missing}; got {sorted(p)}")

