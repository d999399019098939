"""Command-line options shared by the subcommands, generated from the package's own schemas.

The g(V) options come from the g families' dataclass fields (:data:`~dplm_explore.interactions.
G_FAMILIES`): one ``--<field>`` per parameter any family takes (``--V0``, ``--dV``, ``--G0``,
``--sigma-V``), each defaulting to the family's own default, and :func:`g_from_args` refuses an
option the chosen family does not take. A new g family is one class in ``interactions``.
"""

from __future__ import annotations

import argparse
import dataclasses

from .interactions import G_FAMILIES, make_g

__all__ = ["add_g_options", "g_from_args", "G_CLI_FAMILIES", "family_parameters"]

#: the families the command line offers (a tabulated g needs a table, not options)
G_CLI_FAMILIES = tuple(k for k in G_FAMILIES if k != "tabulated")


def family_parameters(family: str) -> dict[str, object]:
    """Parameter name -> default of a g family (its dataclass fields)."""
    return {f.name: f.default for f in dataclasses.fields(G_FAMILIES[family]) if f.init}


def _all_parameters() -> dict[str, list[tuple[str, object]]]:
    out: dict[str, list[tuple[str, object]]] = {}
    for fam in G_CLI_FAMILIES:
        for name, default in family_parameters(fam).items():
            out.setdefault(name, []).append((fam, default))
    return out


def add_g_options(p: argparse.ArgumentParser, *, default_family: str | None = "uniform") -> None:
    """``--g`` and one option per g parameter (default: the family's own)."""
    p.add_argument("--g", default=default_family, choices=G_CLI_FAMILIES, help=f"interaction distribution g(V) (default {default_family})")
    for name, users in _all_parameters().items():
        defaults = ", ".join(f"{fam}: {d:g}" for fam, d in users)
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=float, default=None, help=f"g parameter {name} ({defaults})")


def g_from_args(args: argparse.Namespace, *, family: str | None = None):
    """The g(V) the options describe; an option the family does not take is a ValueError."""
    family = family or args.g or "uniform"
    if family not in G_CLI_FAMILIES:
        raise ValueError(f"--g must be one of {', '.join(G_CLI_FAMILIES)}; got {family!r}")
    allowed = family_parameters(family)
    given = {name: getattr(args, name, None) for name in _all_parameters()}
    if any(v is not None and k not in allowed for k, v in given.items()):
        takes = ", ".join(f"--{k.replace('_', '-')}" for k in allowed)
        values = ", ".join(f"--{k.replace('_', '-')}={v:g}" for k, v in given.items() if v is not None and k not in allowed)
        raise ValueError(f"{values}: not a parameter of --g {family} (it takes {takes})")
    return make_g(family, **{k: v for k, v in given.items() if v is not None})


def add_dynamics_option(p: argparse.ArgumentParser, *, default: str | None = "hop") -> None:
    """``--dynamics hop|first-passage`` (see :data:`dplm_explore.kmc.engine.DYNAMICS`)."""
    from .kmc.engine import DYNAMICS

    p.add_argument("--dynamics", choices=DYNAMICS, default=default,
                   help="'hop': every hop one by one; 'first-passage': isolated two-configuration voids' sojourns drawn whole "
                        "(the same Markov chain in law, faster in a glass)" + ("" if default is None else f" (default {default})"))
