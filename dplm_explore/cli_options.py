"""Command-line options shared by the subcommands, generated from the package's own schemas.

The g(V) options come from the g families' declared parameters
(:func:`~dplm_explore.interactions.g_parameters`): ``--g`` chooses among
:func:`~dplm_explore.interactions.g_families`, and one ``--<parameter>`` per parameter any family
takes (``--V0``, ``--dV``, ``--G0``, ``--sigma-V``, ...), each defaulting to the family's own
default; :func:`g_from_args` refuses an option the chosen family does not take. A new g family is
one class in ``interactions``.
"""

from __future__ import annotations

import argparse

from .interactions import DEFAULT_G_FAMILY, g_families, g_parameters, make_g

__all__ = ["add_g_options", "g_from_args", "g_options_given", "g_option_flag", "G_CLI_FAMILIES", "family_parameters"]

#: the families the command line offers (a tabulated g needs a table, not options)
G_CLI_FAMILIES = g_families()


def family_parameters(family: str) -> dict[str, object]:
    """Parameter name -> default of a g family (its declared parameters)."""
    return {p.name: p.default for p in g_parameters(family)}


def g_option_flag(name: str) -> str:
    """The option of g parameter ``name`` (``sigma_V`` -> ``--sigma-V``)."""
    return f"--{name.replace('_', '-')}"


def _help(name: str) -> str:
    users = [(fam, p) for fam in g_families() for p in g_parameters(fam) if p.name == name]
    first = users[0][1]
    fams = ", ".join(fam for fam, _ in users)
    return f"g parameter: {first.help}; in {first.interval()}, default {first.default:g} ({fams})"


def add_g_options(p: argparse.ArgumentParser, *, default_family: str | None = DEFAULT_G_FAMILY) -> None:
    """``--g`` and one option per g parameter (default: the family's own)."""
    p.add_argument("--g", default=default_family, choices=g_families(), help=f"interaction distribution g(V) (default {default_family})")
    for par in g_parameters():
        p.add_argument(g_option_flag(par.name), dest=par.name, type=float, default=None, help=_help(par.name))


def g_options_given(args: argparse.Namespace) -> list[str]:
    """The g parameter options given on the command line (for commands that refuse them)."""
    return [g_option_flag(par.name) for par in g_parameters() if getattr(args, par.name, None) is not None]


def g_from_args(args: argparse.Namespace, *, family: str | None = None):
    """The g(V) the options describe; an option the family does not take is a ValueError."""
    family = family or args.g or DEFAULT_G_FAMILY
    if family not in g_families():
        raise ValueError(f"--g must be one of {', '.join(g_families())}; got {family!r}")
    allowed = family_parameters(family)
    given = {par.name: getattr(args, par.name, None) for par in g_parameters()}
    if any(v is not None and k not in allowed for k, v in given.items()):
        takes = ", ".join(g_option_flag(k) for k in allowed)
        values = ", ".join(f"{g_option_flag(k)}={v:g}" for k, v in given.items() if v is not None and k not in allowed)
        raise ValueError(f"{values}: not a parameter of --g {family} (it takes {takes})")
    return make_g(family, **{k: v for k, v in given.items() if v is not None})


def add_dynamics_option(p: argparse.ArgumentParser, *, default: str | None = "hop") -> None:
    """``--dynamics hop|first-passage`` (see :data:`dplm_explore.kmc.engine.DYNAMICS`)."""
    from .kmc.engine import DYNAMICS

    p.add_argument("--dynamics", choices=DYNAMICS, default=default,
                   help="'hop': every hop one by one; 'first-passage': isolated two-configuration voids' sojourns drawn whole "
                        "(the same Markov chain in law, faster in a glass)" + ("" if default is None else f" (default {default})"))
