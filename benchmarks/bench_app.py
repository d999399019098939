"""Explorer responsiveness in a real browser: frames drawn per second, click and widget latency,
and streaming against batch speed.

    python benchmarks/bench_app.py [--L 100] [--phi-v 0.01] [--T 0.1] [--seconds 10] [--lab] [--follow 3] [--profile 4]

Serves ``dplm-explore app`` on localhost, drives it with Playwright in Debian's headless Chromium
(/usr/bin/chromium, see scripts/install-browser.sh) and prints one JSON record. The batch figure is
the same system advanced by ``Simulation.advance`` in this process (no browser, no UI);
``cpu_cores`` is how many cores each process kept busy while the run streamed (Linux)."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser import JS_MAP_POINT, JS_SOURCE, JS_STATUS, bokeh_ready, chromium_page, run_all_in_lab, served_app, served_lab  # noqa: E402


def _status(page) -> dict:
    s = page.evaluate(JS_STATUS)
    hops = re.search(r"hops ([\d,]+)", s)
    fps = re.search(r"([\d.]+) frames/s", s)
    return {"hops": int(hops.group(1).replace(",", "")) if hops else -1, "fps": float(fps.group(1)) if fps else float("nan"), "text": s}


def process_cpu_s() -> dict[str, float]:
    """CPU seconds used so far by the browser's processes, the Voila or JupyterLab server and its kernels
    (Linux /proc), to show where a 2-core machine's time goes while the explorer streams."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if "chrom" in cmd:
            key = "browser_renderer" if "--type=renderer" in cmd else "browser_other"
        elif "ipykernel" in cmd:
            key = "kernel"
        elif "voila" in cmd or "jupyter lab" in cmd or "jupyter-lab" in cmd:
            key = "server"
        else:
            continue
        out[key] = out.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def batch_rate(L: int, phi_v: float, T: float, hops: int = 3_000_000) -> float:
    from dplm_explore import Uniform
    from dplm_explore.kmc import Simulation
    from dplm_explore.schedules import constant

    sim = Simulation.create(L, phi_v, g=Uniform(), T_I=T, seed=1, program=constant(T))
    sim.advance(200_000)
    t = time.perf_counter()
    sim.advance(hops)
    return hops / (time.perf_counter() - t)


def _measure_stream(page, seconds: float) -> dict:
    """Once the run streams: frames drawn per second (median of the page's own 1 s readings),
    hops per second, and the cores each process keeps busy (a 2-core machine has 2.0)."""
    page.wait_for_function(f"() => /running/.test(({JS_STATUS})())", timeout=60_000)
    time.sleep(2.0)
    s0, w0, c0 = _status(page), time.perf_counter(), process_cpu_s()
    fps = []
    while time.perf_counter() - w0 < seconds:
        time.sleep(1.0)
        fps.append(_status(page)["fps"])
    s1, w1, c1 = _status(page), time.perf_counter(), process_cpu_s()
    return {"cpu_cores": {k: round((c1[k] - c0.get(k, 0.0)) / (w1 - w0), 2) for k in sorted(c1)},
            "frames_per_s_drawn": round(statistics.median(fps), 2),
            "streaming_hops_per_s": round((s1["hops"] - s0["hops"]) / (w1 - w0))}


def _follow(page, n: int, rec: dict) -> None:
    """Hunting TLS: click the first ``n`` voids on the map, so that their traces are drawn at every
    frame."""
    if n:
        vs = page.evaluate(JS_SOURCE, "voids")
        for k in range(n):
            page.mouse.click(*page.evaluate(JS_MAP_POINT, [vs["x"][k], vs["y"][k]]))
            time.sleep(0.5)
        rec["followed"] = n


def js_profile(page, seconds: float, top: int = 30) -> list[dict]:
    """Chromium's sampling profile of the page's main thread over ``seconds`` of the run: self
    time per JavaScript function (name, file, line), largest first, as milliseconds per second."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    cdp.send("Profiler.start")
    time.sleep(seconds)
    prof = cdp.send("Profiler.stop")["profile"]
    frames = {n["id"]: n["callFrame"] for n in prof["nodes"]}
    self_us: dict[tuple, float] = {}
    for node, dt in zip(prof["samples"], prof["timeDeltas"]):
        f = frames[node]
        key = (f["functionName"] or "(anonymous)", f["url"].rsplit("/", 1)[-1][:40], f["lineNumber"])
        self_us[key] = self_us.get(key, 0.0) + dt
    span = (prof["endTime"] - prof["startTime"]) / 1e6
    rows = sorted(self_us.items(), key=lambda kv: -kv[1])[:top]
    return [{"function": k[0], "file": k[1], "line": k[2], "ms_per_s": round(v / 1e3 / span, 1)} for k, v in rows]


def timeline(page, seconds: float, top: int = 20) -> list[dict]:
    """Chromium's own timeline over ``seconds`` of the run: time per kind of renderer work (script,
    style recalculation, layout, paint, compositing ...) on every thread, as milliseconds per
    second, so the work that the JavaScript profile shows only as "(program)" is named too."""
    browser = page.context.browser
    browser.start_tracing(page=page, categories=["devtools.timeline", "disabled-by-default-devtools.timeline"])
    time.sleep(seconds)
    events = json.loads(browser.stop_tracing())["traceEvents"]
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    total: dict[tuple, float] = {}
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            key = (threads.get((e["pid"], e["tid"]), "?"), e["name"])
            total[key] = total.get(key, 0.0) + e["dur"]
    rows = sorted(total.items(), key=lambda kv: -kv[1])[:top]
    return [{"thread": k[0], "event": k[1], "ms_per_s": round(v / 1e3 / seconds, 1)} for k, v in rows]


def lab_record(a) -> dict:
    """The same system in a JupyterLab 4 notebook (``Explorer(...).show()``): frames drawn per
    second, streaming speed and cores per process over ``a.seconds`` of a run."""
    import tempfile

    rec = {"where": "jupyterlab", "L": a.L, "phi_v": a.phi_v, "T": a.T, "hops_per_frame": a.hops_per_frame}
    code = (f"from dplm_explore.app import Explorer, SystemConfig\n"
            f"Explorer(SystemConfig(L={a.L}, phi_v={a.phi_v}, T_I={a.T}), hops_per_frame={a.hops_per_frame}).show()")
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "bench", "metadata": {}, "outputs": [], "source": code}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    with tempfile.TemporaryDirectory() as root:
        Path(root, "bench.ipynb").write_text(json.dumps(nb))
        with served_lab(root) as url, chromium_page() as page:
            t0 = time.perf_counter()
            run_all_in_lab(page, url, "bench.ipynb")
            rec["page_ready_s"] = round(time.perf_counter() - t0, 2)
            _follow(page, a.follow, rec)
            page.get_by_role("button", name="Run", exact=True).click()
            rec.update(_measure_stream(page, a.seconds))
            if a.profile > 0:
                rec["js_self_time"] = js_profile(page, a.profile)
                rec["timeline"] = timeline(page, a.profile)
            page.get_by_role("button", name="Pause", exact=True).click()
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=100)
    ap.add_argument("--phi-v", type=float, default=0.01)
    ap.add_argument("--T", type=float, default=0.1)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--hops-per-frame", type=int, default=100_000)
    ap.add_argument("--lab", action="store_true", help="measure the explorer notebook in JupyterLab instead of Voila")
    ap.add_argument("--follow", type=int, default=0, metavar="N", help="follow N voids before the run starts")
    ap.add_argument("--profile", type=float, default=0.0, metavar="S",
                    help="also record S seconds of the page's JavaScript CPU profile and S seconds of Chromium's timeline while it streams")
    a = ap.parse_args(argv)
    rec = lab_record(a) if a.lab else voila_record(a)
    rec["batch_hops_per_s"] = round(batch_rate(a.L, a.phi_v, a.T))
    rec["streaming_over_batch"] = round(rec["streaming_hops_per_s"] / rec["batch_hops_per_s"], 3)
    print(json.dumps(rec))
    return 0


def voila_record(a) -> dict:
    """The app served by ``dplm-explore app`` (Voila): frames drawn per second, streaming speed,
    cores per process, click and widget latency."""
    rec = {"where": "voila", "L": a.L, "phi_v": a.phi_v, "T": a.T, "hops_per_frame": a.hops_per_frame}
    with served_app("--L", str(a.L), "--phi-v", str(a.phi_v), "--T-I", str(a.T), "--hops-per-frame", str(a.hops_per_frame)) as (url, _):
        with chromium_page() as page:
            t0 = time.perf_counter()
            page.goto(url, timeout=180_000)
            bokeh_ready(page)
            rec["page_ready_s"] = round(time.perf_counter() - t0, 2)
            page.evaluate("() => { window.__raf = 0; const f = () => { window.__raf++; requestAnimationFrame(f); }; requestAnimationFrame(f); }")
            _follow(page, a.follow, rec)
            page.get_by_role("button", name="Run").click()
            w0 = time.perf_counter()
            rec.update(_measure_stream(page, a.seconds))
            if a.profile > 0:
                rec["js_self_time"] = js_profile(page, a.profile)
                rec["timeline"] = timeline(page, a.profile)
            # click a void: time until the page says it is followed, and until its trace is drawn
            lat, trace = [], []
            for k in range(3):
                vs = page.evaluate(JS_SOURCE, "voids")
                xy = page.evaluate(JS_MAP_POINT, [vs["x"][k], vs["y"][k]])
                t = time.perf_counter()
                page.mouse.click(*xy)
                page.wait_for_function("(k) => Array.from(document.querySelectorAll('.widget-html-content')).some(e => /Following void/.test(e.innerText))",
                                       arg=k, timeout=30_000)
                lat.append(time.perf_counter() - t)
                page.wait_for_function(f"() => ({JS_SOURCE})('trace0').t.length > 0", timeout=30_000)
                trace.append(time.perf_counter() - t)
                page.get_by_role("tab", name="More").click()
                page.get_by_role("button", name="Clear followed").click()
                page.wait_for_function(f"() => ({JS_SOURCE})('trace0').t.length === 0", timeout=30_000)
                page.get_by_role("tab", name="Program").click()
                time.sleep(0.5)
            rec["click_latency_s"] = [round(x, 3) for x in lat]
            rec["click_to_trace_s"] = [round(x, 3) for x in trace]
            # a program change (mode, then Apply): time until the app reports the new program
            wl = []
            for mode in ("cool", "hold", "cool"):
                page.get_by_role("button", name=mode, exact=True).click()
                t = time.perf_counter()
                page.get_by_role("button", name="Apply", exact=True).click()
                page.wait_for_function("(m) => Array.from(document.querySelectorAll('.widget-html-content')).some(e => e.innerText.startsWith('Program: ' + m))",
                                       arg=mode, timeout=30_000)
                wl.append(time.perf_counter() - t)
                time.sleep(0.5)
            rec["widget_latency_s"] = [round(x, 3) for x in wl]
            rec["browser_raf_per_s"] = round(page.evaluate("() => window.__raf") / (time.perf_counter() - w0), 1)
    return rec


if __name__ == "__main__":
    sys.exit(main())
