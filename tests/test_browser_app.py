"""The explorer in a real browser: `dplm-explore app` (Voila) driven by Playwright in Debian's
headless Chromium. Skipped only when /usr/bin/chromium is missing (scripts/install-browser.sh)."""

import re
import time

import pytest

from browser import _FIND, JS_MAP_POINT, JS_MODEL_TEXT, JS_SOURCE, JS_STATUS, bokeh_ready, chromium_page, have_browser, run_all_in_lab, served_app, served_lab

from dplm_explore.app.plots import ACK_EVERY, MAX_UNACKED

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_browser(), reason="needs /usr/bin/chromium and playwright (bash scripts/install-browser.sh)")]


def _hops(page) -> int:
    m = re.search(r"hops ([\d,]+)", page.evaluate(JS_STATUS))
    return int(m.group(1).replace(",", "")) if m else -1


def _errors(page):
    return [c for c in page.console if c[0] in ("error", "pageerror")]


@pytest.fixture(scope="module")
def app():
    with served_app("--L", "40", "--phi-v", "0.02", "--T-I", "0.08", "--hops-per-frame", "30000", "--window-hops", "300000") as served:
        yield served


def test_explorer_streams_follows_a_clicked_void_and_survives_widget_storms(app):
    url, server_log = app
    with chromium_page() as page:
        page.goto(url, timeout=180_000)
        bokeh_ready(page)
        assert page.external == []  # offline: nothing but localhost
        # the page-level BokehJS switches are on (if a BokehJS upgrade renames what they patch,
        # this says so: re-check bokeh/bokeh#15286 and the profile in docs/performance.md)
        assert page.evaluate("""() => {
            const B = window.Bokeh;
            return B.require("core/visuals/visual").VisualProperties.prototype.__dplm_no_css === true
                && B.require("models/plots/plot_canvas").PlotView.prototype.__dplm_font === true
                && B.require("core/dom").InlineStyleSheet.prototype.__dplm_same_css === true
                && B.require("document/document").Document.prototype.__dplm_no_echo === true; }""")
        v0 = page.evaluate(JS_SOURCE, "voids")
        p0 = page.evaluate(JS_SOURCE, "p_void")
        page.get_by_role("button", name="Run").click()
        page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=30_000)
        time.sleep(1.5)
        v1 = page.evaluate(JS_SOURCE, "voids")
        p1 = page.evaluate(JS_SOURCE, "p_void")
        assert (v1["x"], v1["y"]) != (v0["x"], v0["y"]) or p1 != p0  # the map's data changed between frames
        h1 = _hops(page)
        time.sleep(1.0)
        assert _hops(page) > h1 > 0
        # the page acknowledges every ACK_EVERY-th frame drawn
        # (the newest one it applied, n - 1 or n), and the kernel keeps drawing on them
        n, acked = page.evaluate("() => { " + _FIND + " return [find('frame').data.n[0], find('ack').tags]; }")
        assert n > 2 * MAX_UNACKED and acked and acked[0] % ACK_EVERY == 0 and n - ACK_EVERY < acked[0] <= n, (n, acked)

        # click a void: it is followed and its trace appears
        vs = page.evaluate(JS_SOURCE, "voids")
        k = 0
        xy = page.evaluate(JS_MAP_POINT, [vs["x"][k], vs["y"][k]])
        assert xy is not None
        t_click = time.perf_counter()
        page.mouse.click(*xy)
        page.wait_for_function(f"() => ({JS_SOURCE})('trace0').t.length > 0", timeout=20_000)
        latency = time.perf_counter() - t_click
        check = page.evaluate(JS_MODEL_TEXT, "check")
        assert re.search(r"void \d+", check)
        print(f"click-to-trace latency {latency:.3f} s")

        # flip widgets 100 times while it runs
        buttons = [page.get_by_role("button", name=n, exact=True) for n in ("cool", "hold")]
        for i in range(100):
            buttons[i % 2].click()
        h2 = _hops(page)
        time.sleep(1.5)
        assert _hops(page) > h2  # the kernel is alive and still streaming
        status = page.evaluate(JS_STATUS)
        assert "running" in status
        assert _errors(page) == [], _errors(page)
        assert not any("Traceback" in line for line in server_log), "".join(server_log)


def test_explorer_notebook_runs_offline_in_jupyterlab(tmp_path):
    """The explorer notebook in JupyterLab 4: BokehJS comes inline, a click on a void follows it."""
    import json
    import shutil
    from pathlib import Path

    nb = Path(__file__).resolve().parents[1] / "notebooks" / "00_explorer.ipynb"
    shutil.copy(nb, tmp_path / "explorer.ipynb")
    (tmp_path / "explorer.ipynb").write_text(json.dumps(json.loads((tmp_path / "explorer.ipynb").read_text())))
    with served_lab(str(tmp_path)) as url, chromium_page() as page:
        run_all_in_lab(page, url, "explorer.ipynb")
        assert page.external == []  # offline: nothing but localhost
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=60_000)
        vs = page.evaluate(JS_SOURCE, "voids")
        page.mouse.click(*page.evaluate(JS_MAP_POINT, [vs["x"][0], vs["y"][0]]))
        page.wait_for_function(f"() => ({JS_SOURCE})('trace0').t.length > 0", timeout=60_000)
        page.get_by_role("button", name="Pause", exact=True).click()
        # JupyterLab itself sometimes asks its server for things that are not there (a 404 on
        # /api/... or /lab/api/...); anything else failing, or any other error, is ours
        assert all("/api/" in u for _, u in page.failed), page.failed
        errors = [e for e in _errors(page) if not e[1].startswith("Failed to load resource")]
        assert errors == [], errors
