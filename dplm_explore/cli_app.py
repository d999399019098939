"""``dplm-explore app``: start the live explorer on localhost (Voila) and print its URL."""

from __future__ import annotations

import argparse


def _cmd_app(args) -> int:
    from .app.runner import ProgramConfig, SystemConfig
    from .app.serve import serve

    from .cli_options import g_from_args

    g = g_from_args(args)  # validates the g(V) parameters before anything starts
    system = SystemConfig(L=args.L, phi_v=args.phi_v, g_family=args.g, init=args.init, T_I=args.T_I, seed=args.seed, w0=args.w0,
                          **{k: v for k, v in g.to_dict().items() if k != "family"})
    program = ProgramConfig("hold", args.T_I)
    config = {"system": system.to_dict(), "program": {"mode": program.mode, "T": program.T, "nu": program.nu},
              "hops_per_frame": args.hops_per_frame, "window_hops": args.window_hops}
    if args.port < 1 or args.port > 65535:
        raise ValueError(f"port must be in [1, 65535]; got {args.port!r}")
    if args.hops_per_frame < 1:
        raise ValueError(f"--hops-per-frame must be a positive integer; got {args.hops_per_frame!r}")
    if args.window_hops < 1:
        raise ValueError(f"--window-hops must be a positive integer; got {args.window_hops!r}")
    return serve(host=args.host, port=args.port, config=config, open_browser=args.open, allow_remote=args.allow_remote, max_kernels=args.max_kernels,
                 token="" if args.no_token else None)


#: the first system the explorer shows (40 x 40 sites are large enough for a projector)
_FIRST_SYSTEM = {"L": 40, "phi_v": 0.02, "T_I": 0.1}


def register(sub: argparse._SubParsersAction) -> None:
    from .cli_options import add_g_options, add_system_options

    p = sub.add_parser("app", help="start the live explorer on localhost (Voila) and print its URL")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8866, help="first port to try (default 8866; the next free one is used)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    p.add_argument("--allow-remote", dest="allow_remote", action="store_true", help="allow a --host other than a loopback address (prints a warning)")
    p.add_argument("--no-token", dest="no_token", action="store_true", help="no token in the URL (loopback hosts only; any local user can then open it)")
    p.add_argument("--max-kernels", dest="max_kernels", type=int, default=4, help="explorer pages served at once (default 4)")
    add_system_options(p, defaults=_FIRST_SYSTEM)
    add_g_options(p)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--hops-per-frame", dest="hops_per_frame", type=int, default=100_000)
    p.add_argument("--window-hops", dest="window_hops", type=int, default=2_000_000)
    p.set_defaults(func=_cmd_app)
