"""Helpers for the browser tests: the explorer served by ``dplm-explore app`` and a headless
Chromium (Debian's /usr/bin/chromium, driven by Playwright; nothing is downloaded)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = os.environ.get("DPLM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def have_browser() -> bool:
    if not Path(CHROMIUM).exists():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


class Served(tuple):
    """``(url, server_log)`` of :func:`served_app`, with the server's process id as ``pid``."""

    pid: int


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def kernel_pids(root: int) -> list[int]:
    """The ipykernel processes started (at any depth) by process ``root``."""
    kids, out, todo = _children(), [], [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            todo.append(c)
            try:
                if b"ipykernel" in Path(f"/proc/{c}/cmdline").read_bytes():
                    out.append(c)
            except OSError:
                pass
    return sorted(out)


def cpu_s(pids) -> float:
    """CPU seconds (user + system) used so far by ``pids`` (those still alive)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(f[11]) + int(f[12])) / tick
    return total


@contextmanager
def served_app(*args: str, timeout: float = 240.0, cwd: str | None = None):
    """``dplm-explore app`` on a free port, started in ``cwd`` (where exports go); yields a
    :class:`Served` ``(url, server_log)`` (the URL taken from what the command prints)."""
    from dplm_explore.app.serve import free_port

    port = free_port("127.0.0.1", 8900)
    cmd = [sys.executable, "-c", "import sys; from dplm_explore.cli import main; sys.exit(main())", "app", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
    url = None
    lines = []
    reader = None
    t0 = time.time()
    try:
        while time.time() - t0 < timeout:
            line = proc.stdout.readline()
            if not line:
                if proc.poll() is not None:
                    break
                continue
            lines.append(line)
            m = re.search(r"the explorer is at (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            raise RuntimeError("dplm-explore app did not print its URL:\n" + "".join(lines))
        while time.time() - t0 < timeout:  # wait until Voila answers (any HTTP status will do)
            try:
                urllib.request.urlopen(url.rstrip("/") + "/api", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.3)
        # keep reading the server's output so its pipe never fills
        reader = threading.Thread(target=lambda: [lines.append(x) for x in proc.stdout], daemon=True)
        reader.start()
        served = Served((url, lines))
        served.pid = proc.pid
        yield served
    finally:
        proc.terminate()  # the app stops Voila, which shuts its kernels down
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if reader is not None:
            reader.join(10)
        proc.stdout.close()


@contextmanager
def served_lab(root: str, timeout: float = 120.0):
    """JupyterLab on a free port serving ``root`` (no token); yields its base URL."""
    from dplm_explore.app.serve import free_port

    port = free_port("127.0.0.1", 8960)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
           "--ServerApp.password=", f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--allow-root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        t0 = time.time()
        while time.time() - t0 < timeout:
            try:
                urllib.request.urlopen(url + "api", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_all_in_lab(page, url: str, notebook: str) -> None:
    """Open ``notebook`` (under the served root) in JupyterLab, run all its cells (Run > Run All
    Cells) and wait until the explorer's Bokeh figures are on the page."""
    page.goto(url + "lab/tree/" + notebook, timeout=180_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator, #jp-main-statusbar') != null", timeout=60_000)
    time.sleep(3)  # the kernel connects
    page.keyboard.press("Escape")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    bokeh_ready(page, timeout=180)
    # JupyterLab's "get notified about news?" toast covers the lower right corner: say no
    no = page.locator(".jp-toast-button", has_text="No")
    if no.count():
        no.first.click()


@contextmanager
def chromium_page(width: int = 1500, height: int = 1300):
    """A Playwright page in headless Chromium; ``page.console`` collects (type, text)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.console = []
            page.external = []
            page.failed = []
            page.on("response", lambda r: page.failed.append((r.status, r.url)) if r.status >= 400 else None)
            page.on("console", lambda m: page.console.append((m.type, m.text)))
            page.on("pageerror", lambda e: page.console.append(("pageerror", str(e))))
            page.on("request", lambda r: page.external.append(r.url) if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
            yield page
        finally:
            # leave the page as a user would (its unload handlers run: a Voila page shuts its
            # kernel down, so the app's kernel cap is not used up by pages closed long ago)
            try:
                page.goto("about:blank", timeout=10_000)
            except Exception:  # a page that asks before unloading (JupyterLab), or one already gone
                pass
            browser.close()


# JavaScript run in the page: the Bokeh document the explorer renders into
# the explorer renders into several Bokeh documents: look a model up in all of them
_FIND = "const find = (name) => { for (const d of Bokeh.documents) { const m = d.get_model_by_name(name); if (m != null) return m; } return null; };"
JS_SOURCE = "(name) => { " + _FIND + " const s = find(name); return s == null ? null : s.data; }"
JS_MODEL_TEXT = "(name) => { " + _FIND + " return find(name).text; }"
JS_STATUS = "() => { const e = document.querySelector('.dplm-status'); return e == null ? '' : e.innerText; }"
# page coordinates of lattice point (x, y) on the map (scrolled into view first)
JS_MAP_POINT = """([x, y]) => {
  const walk = function* (v) { yield v; for (const c of (v.child_views ?? [])) yield* walk(c); };
  for (const root of Bokeh.index.roots) {
    for (const v of walk(root)) {
      if (v.model.type === "Figure" && v.model.title != null && String(v.model.title.text).startsWith("voids")) {
        v.el.scrollIntoView({block: "center", inline: "nearest"});
        const r = v.canvas_view.el.getBoundingClientRect();
        return [r.left + v.frame.x_scale.compute(x), r.top + v.frame.y_scale.compute(y)];
      }
    }
  }
  return null;
}"""


# page rectangles (left, top, right, bottom) of the explorer's main parts: the controls, the map,
# the traces, the TLS table and the tabbed plots
JS_PART_RECTS = """() => {
  const walk = function* (v) { yield v; for (const c of (v.child_views ?? [])) yield* walk(c); };
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const out = {};
  const c = document.querySelector('.dplm-controls');
  if (c != null) out.controls = box(c);
  for (const root of Bokeh.index.roots) {
    for (const v of walk(root)) {
      const title = v.model.title != null && v.model.title.text != null ? String(v.model.title.text) : "";
      if (v.model.type === "Figure" && title.startsWith("voids")) out.map = box(v.el);
      if (v.model.type === "Figure" && title.startsWith("followed voids")) out.traces = box(v.el);
      if (v.model.type === "DataTable" && v.model.name === "tls_table") out.table = box(v.el);
      if (v.model.type === "Tabs") out.tabs = box(v.el);
    }
  }
  return out;
}"""


def overlaps(rects: dict) -> list[tuple[str, str]]:
    """Pairs of parts whose rectangles overlap by more than 2 px each way."""
    names = sorted(rects)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = rects[a], rects[b]
            if min(r1, r2) - max(l1, l2) > 2 and min(b1, b2) - max(t1, t2) > 2:
                out.append((a, b))
    return out


def bokeh_ready(page, timeout: float = 120.0) -> None:
    page.wait_for_function("() => { if (window.Bokeh === undefined) return false; " + _FIND + " return find('voids') != null && find('trace0') != null; }",
                           timeout=timeout * 1000)
