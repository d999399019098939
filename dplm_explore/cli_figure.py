"""``dplm-explore figure``: the paper's figures as HTML, PNG or SVG, and their headline numbers.

``dplm-explore figure --list`` lists the figures. ``dplm-explore figure NAME`` draws NAME from the
shipped paper-scale data (``--scale paper``, the default: seconds) or from the quick recipe run
now (``--scale quick``), and writes ``NAME.html`` (standalone, BokehJS inline) and, with
``--format html,png,svg``, images through the system Chromium. ``--json`` prints the figure's
headline numbers as a JSON list of records and writes no file. ``--recompute`` runs the paper
scale's campaign jobs instead of loading the shipped file (hours; resumable). ``--data FILE``
reuses a data file or, when FILE does not exist yet, writes the computed data there. Nothing is
overwritten without ``--overwrite``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

FORMATS = ("html", "png", "svg")


def _formats(text: str) -> list[str]:
    fmts = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise ValueError(f"--format must be a comma-separated subset of {','.join(FORMATS)}; got {text!r}")
    return list(dict.fromkeys(fmts))


def _list(args) -> int:
    from .figures import FIGURES

    from .figures import shipped_path

    rows = [{"name": s.name, "section": s.section, "title": s.title, "quick_s": s.seconds, "paper_shipped": shipped_path(s.name).exists()} for s in FIGURES.values()]
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            shipped = "paper-scale data shipped" if r["paper_shipped"] else "paper scale not shipped yet"
            print(f"{r['name']:>6}  Sec. {r['section']:<7} {r['title']}  (quick ~{r['quick_s']:g} s; {shipped})")
    return 0


def _cmd_figure(args) -> int:
    from .export import browser, save_html, save_png, save_svg
    from .figures import FIGURES, figure_data, load_figure_data
    from .reproduction import headline_records, recompute_figure

    if args.list:
        return _list(args)
    if args.name is None:
        raise ValueError("give a figure NAME or --list")
    if args.name not in FIGURES:
        raise ValueError(f"unknown figure {args.name!r}; choose from {', '.join(FIGURES)}")
    spec = FIGURES[args.name]
    fmts = _formats(args.format)
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer; got {args.seed!r}")
    out_dir = Path(args.out_dir)
    if not args.json:
        out_dir.mkdir(parents=True, exist_ok=True)  # --out-dir names a folder to fill: made if missing
    outs = {f: out_dir / f"{args.name}.{f}" for f in fmts}
    taken = [str(p) for p in outs.values() if p.exists()]
    if taken and not args.overwrite and not args.json:
        raise ValueError(f"output exists: {', '.join(taken)}; pass --overwrite to replace")
    progress = not args.json and sys.stderr.isatty()

    t0 = time.perf_counter()
    data_path = Path(args.data) if args.data else None
    if data_path is not None and data_path.exists():
        data = load_figure_data(data_path)
        if data.name != spec.name:
            raise ValueError(f"--data {str(data_path)!r} holds data for {data.name}, not {spec.name}")
        source = "loaded"
    elif args.scale == "paper" and not args.recompute:
        data = figure_data(spec.name, "paper")
        source = "shipped"
    else:
        data = recompute_figure(spec.name, args.scale, work=Path(args.dir) if args.dir else None, seed=args.seed, progress=progress)
        source = "computed"
        if data_path is not None:
            if args.scale == "quick":
                data.provenance["command"] = f"dplm-explore figure {spec.name} --scale quick --seed {args.seed} --data {data_path}"
            data.save(data_path)
    t_data = time.perf_counter() - t0
    if args.json:
        print(json.dumps(headline_records(spec.name, data)))
        return 0

    layout = spec.draw(data)
    timings = {}
    written = {}
    title = f"dplm-explore {spec.name}: {spec.title} ({data.scale} scale)"
    if "html" in outs:
        t = time.perf_counter()
        written["html"] = str(save_html(layout, outs["html"], title=title, overwrite=args.overwrite))
        timings["html"] = time.perf_counter() - t
    images = [f for f in ("png", "svg") if f in outs]
    if images:
        with browser(scale_factor=args.png_scale) as drv:
            for f in images:
                t = time.perf_counter()
                if f == "png":
                    written[f] = str(save_png(layout, outs[f], overwrite=args.overwrite, scale=args.png_scale, driver=drv))
                else:
                    written[f] = str(save_svg(layout, outs[f], overwrite=args.overwrite, driver=drv))
                timings[f] = time.perf_counter() - t
    summary = {"figure": spec.name, "scale": data.scale, "data": source, "data_file": str(data_path) if data_path else None, "seed": data.provenance.get("seed"),
               "data_s": t_data, "export_s": timings, "outputs": written, "command": data.provenance.get("command")}
    for k, v in summary.items():
        print(f"{k:>10}: {v}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("figure", help="compute a paper figure and export it as standalone HTML, PNG or SVG (--list: the figures)",
                       description="Compute the data of one of the paper's figures with this package and export the Bokeh figure. "
                                   "HTML embeds BokehJS (works offline); PNG/SVG use the system Chromium (scripts/install-browser.sh).")
    p.add_argument("name", nargs="?", default=None, help="figure name (see --list)")
    p.add_argument("--list", action="store_true", help="list the figures and exit")
    p.add_argument("--scale", default="paper", choices=["quick", "paper"],
                   help="paper: the shipped paper-scale data (default); quick: small parameters computed now (labelled quick)")
    p.add_argument("--recompute", action="store_true", help="paper scale: run the figure's campaign jobs instead of loading the shipped data (hours)")
    p.add_argument("--dir", default=None, help="campaign work folder for --recompute (see dplm-explore reproduce)")
    p.add_argument("--data", default=None, help="data file: loaded if it exists, else the computed data are written there")
    p.add_argument("--out-dir", dest="out_dir", default=".", help="directory for NAME.html/.png/.svg (default .)")
    p.add_argument("--format", default="html", help="comma-separated: html,png,svg (default html)")
    p.add_argument("--png-scale", dest="png_scale", type=float, default=1.0, help="PNG pixel scale (default 1)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--seed", type=int, default=2021, help="root seed (default 2021)")
    p.add_argument("--json", action="store_true", help="print the headline numbers as a JSON list of records (no files written)")
    p.set_defaults(func=_cmd_figure)
