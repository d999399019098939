"""Command-line options shared by the subcommands, generated from the package's own schemas.

The system options come from :class:`~dplm_explore.system.SystemParams`' declared parameters
(:func:`~dplm_explore.system.system_parameters`): :func:`add_system_options` adds ``--L``,
``--phi-v``, ``--w0``, ``--init``, ``--T-I`` (or the ones a command takes) with the declared
help, bounds and defaults, a command overriding a default or requiring an option; a value out
of bounds is refused as the command line is read, in one line naming the option and the value.

The g(V) options come from the g families' declared parameters
(:func:`~dplm_explore.interactions.g_parameters`): ``--g`` chooses among
:func:`~dplm_explore.interactions.g_families`, and one ``--<parameter>`` per parameter any family
takes (``--V0``, ``--dV``, ``--G0``, ``--sigma-V``, ...), each defaulting to the family's own
default; :func:`g_from_args` refuses an option the chosen family does not take. A new g family is
one class in ``interactions``.
"""

from __future__ import annotations

import argparse
from typing import Any, Iterable, Sequence

from ._schema import Parameter
from .interactions import DEFAULT_G_FAMILY, g_families, g_parameters, make_g
from .system import INITS, system_parameters

__all__ = ["add_system_options", "add_g_options", "g_from_args", "g_options_given", "options_given", "option_flag", "G_CLI_FAMILIES", "CLI_INITS",
           "family_parameters"]

#: the families the command line offers (a tabulated g needs a table, not options)
G_CLI_FAMILIES = g_families()
#: the initial states the command line makes (a given configuration is passed in Python:
#: ``Simulation.from_configuration``)
CLI_INITS = tuple(i for i in INITS if i != "given")
#: choices the command line narrows from the declared ones
_CLI_CHOICES = {"init": CLI_INITS}
#: the system options of a command that takes them all
SYSTEM_OPTIONS = ("L", "phi_v", "w0", "init", "T_I")


def option_flag(name: str) -> str:
    """The option of parameter ``name`` (``phi_v`` -> ``--phi-v``, ``sigma_V`` -> ``--sigma-V``)."""
    return f"--{name.replace('_', '-')}"


def options_given(args: argparse.Namespace, names: Iterable[str]) -> list[str]:
    """The options among ``names`` given on the command line (not None)."""
    return [option_flag(n) for n in names if getattr(args, n, None) is not None]


def _value_type(par: Parameter):
    """argparse ``type`` of a numeric parameter: the text as a number, checked against the
    declaration (an ArgumentTypeError naming the parameter and the value)."""

    def parse(text: str):
        try:
            value = par.kind(text)
        except ValueError:
            value = text  # the check names the parameter and the text
        try:
            return par.check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_system_options(p: argparse.ArgumentParser, fields: Sequence[str] = SYSTEM_OPTIONS, *, defaults: dict[str, Any] | None = None,
                       required: Iterable[str] = ()) -> None:
    """One option per system parameter in ``fields`` (see the module docstring): the declared
    default unless ``defaults`` gives the command's own (None: the option is not given, and the
    command decides); the options in ``required`` must be given."""
    declared = system_parameters()
    defaults, required = dict(defaults or {}), set(required)
    unknown = set(fields) - set(declared)
    if unknown:
        raise ValueError(f"not system parameters: {sorted(unknown)}; a system has {sorted(declared)}")
    stray = (set(defaults) | required) - set(fields)
    if stray:
        raise ValueError(f"defaults or required options {sorted(stray)} are not among the fields {list(fields)}")
    for name in fields:
        par = declared[name]
        declared_default = None if par.required else par.default
        default = None if name in required else defaults.get(name, declared_default)
        shown = default if default is not None else declared_default
        helps = [par.help] if par.kind is str else [par.help, par.domain()]
        if shown is not None and name not in required:
            helps.append(f"default {shown:g}" if isinstance(shown, float) else f"default {shown}")
        kind = {"choices": _CLI_CHOICES.get(name, par.choices)} if par.kind is str else {"type": _value_type(par)}
        p.add_argument(option_flag(name), dest=name, default=default, required=name in required, help="; ".join(helps), **kind)


def family_parameters(family: str) -> dict[str, object]:
    """Parameter name -> default of a g family (its declared parameters)."""
    return {p.name: p.default for p in g_parameters(family)}


def _help(name: str) -> str:
    users = [(fam, p) for fam in g_families() for p in g_parameters(fam) if p.name == name]
    first = users[0][1]
    fams = ", ".join(fam for fam, _ in users)
    return f"g parameter: {first.help}; in {first.interval()}, default {first.default:g} ({fams})"


def add_g_options(p: argparse.ArgumentParser, *, default_family: str | None = DEFAULT_G_FAMILY) -> None:
    """``--g`` and one option per g parameter (default: the family's own)."""
    p.add_argument("--g", default=default_family, choices=g_families(), help=f"interaction distribution g(V) (default {default_family})")
    for par in g_parameters():
        p.add_argument(option_flag(par.name), dest=par.name, type=float, default=None, help=_help(par.name))


def g_options_given(args: argparse.Namespace) -> list[str]:
    """The g parameter options given on the command line (for commands that refuse them)."""
    return options_given(args, (par.name for par in g_parameters()))


def g_from_args(args: argparse.Namespace, *, family: str | None = None):
    """The g(V) the options describe; an option the family does not take is a ValueError."""
    family = family or args.g or DEFAULT_G_FAMILY
    if family not in g_families():
        raise ValueError(f"--g must be one of {', '.join(g_families())}; got {family!r}")
    allowed = family_parameters(family)
    given = {par.name: getattr(args, par.name, None) for par in g_parameters()}
    if any(v is not None and k not in allowed for k, v in given.items()):
        takes = ", ".join(option_flag(k) for k in allowed)
        values = ", ".join(f"{option_flag(k)}={v:g}" for k, v in given.items() if v is not None and k not in allowed)
        raise ValueError(f"{values}: not a parameter of --g {family} (it takes {takes})")
    return make_g(family, **{k: v for k, v in given.items() if v is not None})


def add_dynamics_option(p: argparse.ArgumentParser, *, default: str | None = "hop") -> None:
    """``--dynamics hop|first-passage`` (see :data:`dplm_explore.kmc.engine.DYNAMICS`)."""
    from .kmc.engine import DYNAMICS

    p.add_argument("--dynamics", choices=DYNAMICS, default=default,
                   help="'hop': every hop one by one; 'first-passage': isolated two-configuration voids' sojourns drawn whole "
                        "(the same Markov chain in law, faster in a glass)" + ("" if default is None else f" (default {default})"))
