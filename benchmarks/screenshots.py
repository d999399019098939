"""Screenshots of the explorer in headless Chromium during a lesson preset, at projector sizes.

    python benchmarks/screenshots.py [--out screenshots] [--preset "TLS emerge on cooling"] [--seconds 40] [--sizes 1280x720 1600x1000]

Serves ``dplm-explore app`` (its defaults), and for each size opens a page, picks the preset,
runs it for ``--seconds``, follows the void of the first catalogue row (a multi-level one when
there is one) and saves ``explorer_<W>x<H>.png`` in ``--out``; prints the status line and what
the page shows (which parts lie inside the window) as JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import JS_MODEL_TEXT, JS_PART_RECTS, JS_SOURCE, JS_STATUS, bokeh_ready, chromium_page, overlaps, served_app  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="screenshots")
    ap.add_argument("--preset", default="TLS emerge on cooling")
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--sizes", nargs="+", default=["1280x720", "1600x1000"])
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with served_app() as (url, _):
        for size in a.sizes:
            w, h = (int(x) for x in size.lower().split("x"))
            with chromium_page(w, h) as page:
                page.goto(url, timeout=180_000)
                bokeh_ready(page)
                page.locator("select").first.select_option(label=a.preset)
                page.wait_for_function("() => document.querySelector('.dplm-controls').innerText.includes('Program:')", timeout=60_000)
                page.get_by_role("button", name="Run", exact=True).click()
                time.sleep(a.seconds)
                rows = page.evaluate(JS_SOURCE, "tls_rows")
                if rows and rows["void"]:
                    multi = [i for i, n in enumerate(rows["levels"]) if n > 2]
                    k = multi[0] if multi else 0
                    page.locator(".slick-row").nth(k).locator(".slick-cell").first.click()
                    time.sleep(3.0)
                rects = page.evaluate(JS_PART_RECTS)
                inside = {k: r[0] >= 0 and r[1] >= 0 and r[2] <= w and r[3] <= h for k, r in rects.items()}
                path = out / f"explorer_{w}x{h}.png"
                page.screenshot(path=str(path))
                print(json.dumps({"size": size, "file": str(path), "status": page.evaluate(JS_STATUS), "inside_window": inside,
                                  "overlaps": overlaps(rects), "followed": page.evaluate(JS_MODEL_TEXT, "check")[:300],
                                  "catalogue_rows": len(rows["void"]) if rows else 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
