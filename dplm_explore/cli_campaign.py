"""``dplm-explore reproduce``: run the paper-scale campaign (resumable) and build its data files."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _cmd_reproduce(args) -> int:
    from .campaign import DEFAULT_WORK_DIR, campaign_status, results_dir, run_campaign
    from .parallel import RunOptions

    work = Path(args.dir) if args.dir else DEFAULT_WORK_DIR
    results = results_dir(work, Path(args.results) if args.results else None)
    figures = args.figures or None
    if args.assemble:
        return _assemble(args, results, figures)
    if args.units_from:
        from .campaign import units_from_figure_data

        for f in args.units_from:
            for job, idx in units_from_figure_data(f, results).items():
                print(f"{f}: {len(idx)} replica(s) of {job} unpacked into {results / job}", file=sys.stderr)
        return 0
    if args.status:
        rows = campaign_status(figures, results)
        if args.json:
            print(json.dumps(rows))
        else:
            for r in rows:
                print(f"{r['job']:<26} {r['done']:>3}/{r['planned']:<3} {r['cpu_s'] / 3600:7.3f} CPU-h  {','.join(r['figures'])}")
        return 0
    if args.workers < 1:
        raise ValueError(f"--workers must be a positive integer; got {args.workers!r}")
    try:
        n = run_campaign(figures, work=work, checkpoint_s=args.checkpoint_s, max_units=args.max_units, log=lambda s: print(s, file=sys.stderr, flush=True),
                         run=RunOptions(workers=args.workers, out=results, progress=args.verbose))
    except KeyboardInterrupt:
        print(f"interrupted: the running replicas were checkpointed in {work}; run the same command again to continue", file=sys.stderr)
        return 130
    print(f"{n} job unit(s) run; work folder {work}, results in {results}", file=sys.stderr)
    return 0


def _assemble(args, results: Path, figures) -> int:
    from .reproduction import ASSEMBLED, assemble_figure

    names = figures or list(ASSEMBLED)
    bad = [f for f in names if f not in ASSEMBLED]
    if bad:
        raise ValueError(f"--figures must be among {', '.join(ASSEMBLED)}; got {bad}")
    out_dir = Path(args.out_dir)
    rows = []
    for name in names:
        try:
            data = assemble_figure(name, results)
        except ValueError as exc:
            print(f"{name}: skipped ({exc})", file=sys.stderr)
            continue
        path = data.save(out_dir / f"{name}_paper.npz", overwrite=args.overwrite)
        rows.append({"figure": name, "file": str(path), "cpu_hours": data.provenance["cpu_hours"]})
        print(f"{name}: {path} ({data.provenance['cpu_hours']:.3f} CPU-h)", file=sys.stderr)
    if args.json:
        print(json.dumps(rows))
    return 0


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="run the paper-scale campaign behind every figure (resumable, checkpointed)")
    p.add_argument("--figures", nargs="*", default=None, help="only the jobs these figures need (default: all)")
    p.add_argument("--dir", default=None, help="work folder for checkpoints (default $DPLM_CAMPAIGN_DIR or ~/.cache/dplm-explore/campaign)")
    p.add_argument("--results", default=None,
                   help="folder of finished units, small files worth keeping (default $DPLM_CAMPAIGN_RESULTS, else the work folder)")
    p.add_argument("--workers", type=int, default=1, help="replicas run at once on local processes (default 1)")
    p.add_argument("--checkpoint-s", dest="checkpoint_s", type=float, default=300.0, help="seconds between checkpoints of a running replica (300)")
    p.add_argument("--max-units", dest="max_units", type=int, default=None, help="stop after this many job units")
    p.add_argument("--status", action="store_true", help="print what is done and the CPU time spent, then exit")
    p.add_argument("--verbose", action="store_true", help="print a line per chunk of a running replica")
    p.add_argument("--assemble", action="store_true", help="build <fig>_paper.npz from the finished jobs into --out-dir instead of running jobs")
    p.add_argument("--out-dir", dest="out_dir", default=".", help="folder for --assemble (default .)")
    p.add_argument("--overwrite", action="store_true", help="--assemble: replace existing data files")
    p.add_argument("--units-from", dest="units_from", nargs="+", default=None, metavar="FILE",
                   help="unpack the cooling replicas of shipped figure data files (for example dplm_explore/data/fig7_paper.npz) into --results "
                        "as finished units, so that a campaign with more replicas extends them; then exit")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_reproduce)
