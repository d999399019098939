"""The explorer in a real browser: `dplm-explore app` (Voila) driven by Playwright in Debian's
headless Chromium. Skipped only when /usr/bin/chromium is missing (scripts/install-browser.sh)."""

import re
import time

import pytest

from browser import (_FIND, JS_MAP_POINT, JS_MODEL_TEXT, JS_PART_RECTS, JS_SOURCE, JS_STATUS, bokeh_ready, chromium_page, cpu_s, have_browser, kernel_pids, overlaps,
                     run_all_in_lab, served_app, served_lab)

from dplm_explore.app.plots import ACK_EVERY, MAX_UNACKED

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not have_browser(), reason="needs /usr/bin/chromium and playwright (bash scripts/install-browser.sh)")]


def _hops(page) -> int:
    m = re.search(r"hops ([\d,]+)", page.evaluate(JS_STATUS))
    return int(m.group(1).replace(",", "")) if m else -1


def _errors(page):
    return [c for c in page.console if c[0] in ("error", "pageerror")]


@pytest.fixture(scope="module")
def export_root(tmp_path_factory):
    return tmp_path_factory.mktemp("app-cwd")


@pytest.fixture(scope="module")
def app(export_root):
    with served_app("--L", "40", "--phi-v", "0.02", "--T-I", "0.08", "--hops-per-frame", "30000", "--window-hops", "300000", cwd=str(export_root)) as served:
        yield served


def _T(page) -> float:
    m = re.search(r"T = ([\d.e+-]+)", page.evaluate(JS_STATUS))
    return float(m.group(1)) if m else float("nan")


def _frames_drawn(page) -> int:
    return page.evaluate("() => { " + _FIND + " const f = find('frame'); return f == null ? -1 : f.data.n[0]; }")


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
    with served_lab(str(tmp_path)) as url, chromium_page(1024, 768) as page:
        run_all_in_lab(page, url, "explorer.ipynb")
        assert page.external == []  # offline: nothing but localhost
        # 1024 px wide with the file browser open: the explorer's parts wrap, none covers another
        if not page.locator(".jp-FileBrowser").first.is_visible():
            page.get_by_role("tab", name="File Browser").first.click()
        assert page.locator(".jp-FileBrowser").first.is_visible()
        time.sleep(1.0)
        rects = page.evaluate(JS_PART_RECTS)
        assert {"controls", "map", "traces", "table", "tabs"} <= set(rects), rects
        assert overlaps(rects) == [], rects
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


def test_projector_layout_shows_controls_map_traces_and_catalogue_at_1280x720(app):
    url, _ = app
    with chromium_page(1280, 720) as page:
        page.goto(url, timeout=180_000)
        bokeh_ready(page)
        time.sleep(1.0)
        rects = page.evaluate(JS_PART_RECTS)
        assert {"controls", "map", "traces", "table", "tabs"} <= set(rects), rects
        for name in ("controls", "map", "traces", "table"):
            left, top, right, bottom = rects[name]
            assert left >= 0 and top >= 0 and right <= 1280 and bottom <= 720, (name, rects[name])
        assert overlaps(rects) == [], rects
        for name in ("Run", "Step", "Reset"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 720, name
        # fonts of at least 12 px in the page's widgets
        small = page.evaluate("""() => [...document.querySelectorAll('.dplm-explorer *')]
            .filter(e => e.childElementCount === 0 && e.textContent.trim() && e.offsetParent !== null)
            .map(e => parseFloat(getComputedStyle(e).fontSize)).filter(f => f < 12).length""")
        assert small == 0


def test_reloads_and_close_leave_at_most_one_kernel_and_none_busy():
    with served_app("--L", "40", "--hops-per-frame", "30000") as served:
        url = served[0]
        with chromium_page(1280, 720) as page:
            page.goto(url, timeout=180_000)
            bokeh_ready(page)
            page.get_by_role("button", name="Run", exact=True).click()
            page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=30_000)
            for _ in range(3):
                page.reload(timeout=180_000)
                bokeh_ready(page)
                page.get_by_role("button", name="Run", exact=True).click()
                page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=30_000)
                t0 = time.time()
                while len(kernel_pids(served.pid)) > 1 and time.time() - t0 < 15:
                    time.sleep(0.5)
                assert len(kernel_pids(served.pid)) == 1, kernel_pids(served.pid)
            page.close(run_before_unload=True)
            # the page's kernel is shut down, or at least stops simulating (the page is gone)
            t0 = time.time()
            while kernel_pids(served.pid) and time.time() - t0 < 20:
                time.sleep(0.5)
            left = kernel_pids(served.pid)
            c0 = cpu_s(left)
            time.sleep(2.0)
            assert (cpu_s(left) - c0) / 2.0 < 0.15, left


def test_a_preset_run_cools_visibly(app):
    url, _ = app
    with chromium_page(1280, 720) as page:
        page.goto(url, timeout=180_000)
        bokeh_ready(page)
        page.locator("select").first.select_option(label="TLS emerge on cooling")
        page.wait_for_function(f"() => /T = 0.2\\b/.test(({JS_STATUS})())", timeout=60_000)
        page.wait_for_function("() => document.querySelector('.dplm-controls').innerText.includes('cooled into the glass')", timeout=30_000)
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=30_000)
        T0 = _T(page)
        time.sleep(20)
        T1 = _T(page)
        assert T0 <= 0.2 + 1e-9 and T1 < T0 - 0.02, (T0, T1)  # visibly colder within 20 s
        cvt = page.evaluate(JS_SOURCE, "cvt")
        assert len(cvt["T2"]) >= 2  # the C_v / T view has binned points
        assert _errors(page) == [], _errors(page)


def test_follow_a_void_from_a_catalogue_row(app):
    url, _ = app
    with chromium_page(1280, 720) as page:
        page.goto(url, timeout=180_000)
        bokeh_ready(page)
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_function(f"() => ({JS_SOURCE})('tls_rows').void.length > 0", timeout=120_000)
        # paused, the catalogue stays as it is while the row is clicked (a window closes every 0.1 s)
        page.get_by_role("button", name="Pause", exact=True).click()
        page.wait_for_function(f"() => /paused/.test(({JS_STATUS})())", timeout=30_000)
        v = page.evaluate(JS_SOURCE, "tls_rows")["void"][0]
        page.locator(".slick-row").first.locator(".slick-cell").first.click()
        page.wait_for_function(f"() => ({JS_MODEL_TEXT})('check').includes('void {v} ')", timeout=30_000)
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_function(f"() => ({JS_SOURCE})('trace0').t.length > 0", timeout=30_000)
        assert _errors(page) == [], _errors(page)


#: frames may pause during an export for this long, or this share of the export's duration
EXPORT_STALL_S, EXPORT_STALL_SHARE = 1.5, 0.5


def test_export_writes_into_the_start_folder_without_stalling_frames(app, export_root):
    url, _ = app
    with chromium_page(1280, 720) as page:
        page.goto(url, timeout=180_000)
        bokeh_ready(page)
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=30_000)
        time.sleep(2.0)
        page.get_by_role("tab", name="More").click()
        page.get_by_role("button", name="Export HTML + PNG").click()
        t0, last_n, last_t, worst = time.perf_counter(), _frames_drawn(page), time.perf_counter(), 0.0
        while time.perf_counter() - t0 < 90:
            n, now = _frames_drawn(page), time.perf_counter()
            if n != last_n:
                worst, last_n, last_t = max(worst, now - last_t), n, now
            if "Exported" in page.inner_text(".dplm-message"):
                break
            time.sleep(0.05)
        took = time.perf_counter() - t0
        worst = max(worst, time.perf_counter() - last_t)  # a stall that lasts to the end counts too
        msg = page.inner_text(".dplm-message")
        assert "Exported" in msg, msg
        written = sorted(export_root.glob("dplm-export/*.html"))
        assert written and str(written[0]) in msg.replace("\n", "")  # the absolute path, in full
        # an export that held the kernel would stall the frames for about its whole duration; the
        # bound grows with it, so that a loaded machine (slower export, slower frames) does not fail
        assert worst < max(EXPORT_STALL_S, EXPORT_STALL_SHARE * took), f"frames stalled {worst:.2f} s during an export of {took:.1f} s"
        print(f"longest gap between frames during the export {worst:.2f} s of {took:.1f} s; {msg}")
