"""Regenerate, from the shipped paper-scale data only, the README gallery (docs/figures/*.png and
the README section between the gallery markers) and the tables of docs/reproduction.md.

    python scripts/make_gallery.py            # after `dplm-explore reproduce --assemble`

A figure whose paper-scale data are not shipped yet gets no image (an old one is removed) and is
listed as pending: the gallery never shows quick-scale results under the paper's figure names. An
image whose pixels differ from the committed one by at most PIXEL_TOLERANCE levels (another
machine's font rendering) is kept as it is, so that unchanged figures are not rewritten.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from dplm_explore._io import atomic_write
from dplm_explore.export import browser, save_png
from dplm_explore.figures import FIGURES, figure_data, shipped_path
from dplm_explore.reproduction import agreement, headline_records, table_rows

ROOT = Path(__file__).resolve().parents[1]
FIG_DIR = ROOT / "docs" / "figures"
README = ROOT / "README.md"
REPRO = ROOT / "docs" / "reproduction.md"
#: largest per-channel difference (0-255) between two renders of an unchanged figure
PIXEL_TOLERANCE = 4


def _same_image(a: Path, b: Path) -> bool:
    if not (a.exists() and b.exists()):
        return False
    x, y = np.asarray(Image.open(a), dtype=np.int16), np.asarray(Image.open(b), dtype=np.int16)
    return x.shape == y.shape and int(np.abs(x - y).max(initial=0)) <= PIXEL_TOLERANCE


def _save_if_changed(fig, png: Path, drv) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        new = Path(tmp) / png.name
        save_png(fig, new, driver=drv)
        if not _same_image(new, png):
            data = new.read_bytes()
            atomic_write(png, lambda fh: fh.write(data), overwrite=True)


def _replace(text: str, marker: str, body: str) -> str:
    pat = re.compile(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"markers <!-- {marker}:start/end --> not found")
    return pat.sub(lambda m: m.group(1) + body + m.group(2), text)


def main() -> None:
    FIG_DIR.mkdir(parents=True, exist_ok=True)
    gallery, rows, cpu, pending = [], [], [], []
    with browser() as drv:
        for name, spec in FIGURES.items():
            png = FIG_DIR / f"{name}.png"
            if not shipped_path(name).exists():
                png.unlink(missing_ok=True)
                pending.append(name)
                continue
            data = figure_data(name, "paper")
            _save_if_changed(spec.draw(data), png, drv)
            hours = data.provenance.get("cpu_hours", float("nan"))
            gallery.append(f"**{name} — {spec.title}** (paper scale, {hours:.2f} CPU-h) — "
                           f"`dplm-explore figure {name} --format png --out-dir docs/figures`\n\n![{name}](docs/figures/{name}.png)\n")
            recs = headline_records(name, data)
            rows += table_rows(recs, data)
            n_cmp = sum(agreement(r) is not None for r in recs)
            n_ok = sum(agreement(r) == "yes" for r in recs)
            jobs = ", ".join(f"{j} ({s / 3600:.2f})" for j, s in data.provenance.get("cpu_s_by_job", {}).items())
            cpu.append(f"| {name} | {hours:.2f} | {jobs} | {n_ok} / {n_cmp} |")
    if pending:
        gallery.append("Not shipped yet (the campaign is still computing them; `dplm-explore reproduce --status` shows progress): "
                       + ", ".join(pending) + ".\n")
    README.write_text(_replace(README.read_text(), "gallery", "\n".join(gallery)))
    head = ["| figure | quantity | conditions | paper | ours ± error | theory | agree (2σ) | note |", "|---|---|---|---|---|---|---|---|"]
    text = _replace(REPRO.read_text(), "table", "\n".join(head + rows) + "\n")
    cpu_head = ["| figure | CPU-h | campaign jobs (CPU-h; a job shared by figures counts in each) | rows within 2σ |", "|---|---|---|---|"]
    text = _replace(text, "cpu", "\n".join(cpu_head + cpu) + ("\n\nPending: " + ", ".join(pending) + "\n" if pending else "\n"))
    REPRO.write_text(text)
    print(f"gallery: {len(gallery) - bool(pending)} figures, pending: {pending}")


if __name__ == "__main__":
    main()
