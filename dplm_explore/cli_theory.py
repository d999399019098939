"""``dplm-explore theory``: the analytic theory's headline numbers for one parameter set.

Example::

    dplm-explore theory --g uniform --T-I 0.05 --phi-v 0.005 --json

prints one JSON object (see :func:`dplm_explore.theory.theory_summary` for the keys: ``c1``,
``c3``, ``P0`` = P(0), ``P2`` = P''(0), ``q``, ``dE_max``, ``phi_TLS``, the next-term
diagnostics, ...). Without ``--json`` a readable table is printed. :func:`register` adds the
subcommand to the package's argparse subparsers (wired up in ``dplm_explore/cli.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .cli_options import add_g_options, add_system_options, g_from_args
from .schedules import NU_PAPER
from .theory import theory_summary

__all__ = ["register", "run"]

def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``theory`` subcommand to an argparse ``subparsers`` object; returns its parser."""
    p = subparsers.add_parser(
        "theory",
        help="analytic TLS theory: P(dE), q, c1, c3 (paper Sec. V, App. A)",
        description="Print the analytic theory's numbers (c1, c3, P(0), P''(0), q, ...) for one parameter set.",
    )
    add_system_options(p, ("T_I", "phi_v", "w0"), required=("T_I", "phi_v"))
    add_g_options(p)
    p.add_argument("--nu", type=float, default=NU_PAPER, help=f"cooling rate for dE_max, Eq. 5 (default {NU_PAPER:g})")
    p.add_argument("--z", dest="z", type=int, default=4, help="coordination number (default 4)")
    p.add_argument("--T-eval", dest="T_eval", type=float, default=None, help="temperature at which dE_max (Eq. 5) is evaluated (default T_I)")
    p.add_argument("--json", dest="json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run)
    return p


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


_LABELS = [
    ("g", "g(V)"),
    ("T_I", "T_I"),
    ("phi_v", "phi_v"),
    ("z", "z"),
    ("P0", "P(0)  [continuous part]"),
    ("P1", "P'(0) [= P(0)/(2 T_I)]"),
    ("P2", "P''(0)"),
    ("P_kink", "P'(0+) - P'(0-)"),
    ("P_atoms", "atoms of P(dE) [dE, weight]"),
    ("method", "P(0), P''(0) from"),
    ("c1", "c1 = pi^2 z phi_v P(0)/3"),
    ("c3", "c3 = 7 pi^4 z phi_v P''(0)/30"),
    ("c2", "c2 (kink term)"),
    ("c1_eq10", "c1, Eq. 10 (T_I -> 0)"),
    ("c3_eq10", "c3, Eq. 10 (T_I -> 0)"),
    ("T_eval", "T for dE_max"),
    ("dE_max", "dE_max, Eq. 5"),
    ("q", "q, Eq. 4"),
    ("phi_TLS", "phi_TLS = z q phi_v"),
    ("T_next", "T for next-term check"),
    ("next_term", "C_v - (c1 T + c3 T^3)"),
    ("next_term_rel", "  relative to C_v"),
    ("next_power", "next term ~ c_next T^k: k"),
    ("c_next", "  c_next"),
    ("T_series_1pct", "series within 1% below T ="),
    ("T_series_10pct", "series within 10% below T ="),
    ("Cv_at_T_next", "C_v(T_next), Eq. 5 cut-off"),
    ("e_eq", "e_eq(T_I)"),
    ("Cv_eq", "C_v,eq(T_I)"),
]


def run(args: argparse.Namespace) -> int:
    """Compute :func:`theory_summary` for the parsed options and print it; returns an exit code
    (0, or 2 with a message on stderr for invalid parameters)."""
    try:
        g = g_from_args(args)
        summary = theory_summary(g, args.T_I, args.phi_v, nu=args.nu, w0=args.w0, z=args.z, T_eval=args.T_eval)
    except ValueError as exc:
        print(f"dplm-explore theory: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, allow_nan=False))
        return 0
    width = max(len(label) for _, label in _LABELS)
    for key, label in _LABELS:
        if key in summary:
            print(f"{label:<{width}}  {_fmt(summary[key])}")
    return 0
