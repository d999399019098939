"""The explorer without a browser: runner frames, thread safety, following, TLS, parameter changes."""

import math
import time

import numpy as np
import pytest

from dplm_explore.analysis import plant_tls
from dplm_explore.app import Explorer, ProgramConfig, Runner, SystemConfig
from dplm_explore.app.plots import nearest_void, scroll_range, tls_rows
from dplm_explore.kmc import Simulation
from dplm_explore.schedules import constant

SMALL = SystemConfig(L=24, phi_v=0.04, T_I=0.08, seed=3)


def small_runner(**kw):
    kw.setdefault("hops_per_frame", 20_000)
    kw.setdefault("window_hops", 100_000)
    return Runner.create(SMALL, ProgramConfig("hold", 0.08), **kw)


def planted(T=0.05, dE=0.04):
    """One TLS (void 0 at site 7*12+3, its partner particle to the right) in a frozen 12 x 12 system."""
    occ, V = plant_tls(12, [7 * 12 + 3], [0], dE)
    sim = Simulation.from_configuration(12, occ, V_table=V, seed=5, program=constant(T))
    return Runner(sim, ProgramConfig("hold", T), hops_per_frame=20_000, window_hops=60_000), dE


def test_frames_advance_and_void_occupation_adds_up_to_the_void_count():
    r = small_runner()
    f0 = r.latest
    f1 = r.step()
    f2 = r.step()
    assert f1.seq == f0.seq + 1 and f2.seq == f1.seq + 1
    assert f2.hops == 40_000 and f2.t > f1.t > 0
    nv = r.sim.params.n_voids
    # every void sits on exactly one site at every instant: the fractions add up to Nv
    assert f2.p_void.shape == (24, 24)
    assert f2.p_void.sum() == pytest.approx(nv, rel=1e-9)
    assert f2.occ_hops == 40_000
    assert f2.void_xy.shape == (nv, 2) and f2.void0_xy.shape == (nv, 2)
    assert np.array_equal(np.sort(f2.void_xy[:, 0] + 24 * f2.void_xy[:, 1]), np.sort(r.sim.vpos))


def test_big_lattices_send_a_coarse_grained_map():
    from dplm_explore.app.runner import coarse_grain

    a = np.arange(25.0).reshape(5, 5)
    c = coarse_grain(a, 3)  # k = 2: blocks 2x2, the last row/column partial
    assert c.shape == (3, 3)
    assert c[0, 0] == np.mean(a[:2, :2]) and c[2, 2] == a[4, 4] and c[0, 2] == np.mean(a[:2, 4])
    assert coarse_grain(a, 5) is a
    r = Runner.create(SystemConfig(L=300, phi_v=0.001, T_I=0.08), ProgramConfig("hold", 0.08), hops_per_frame=5_000, window_hops=10_000)
    f = r.step()
    assert f.p_void.shape == (150, 150)
    assert f.p_void.sum() * 4 == pytest.approx(r.sim.params.n_voids, rel=1e-6)  # block means of 2 x 2 sites


def test_occupation_window_slides():
    r = small_runner(window_hops=50_000)
    for _ in range(8):
        f = r.step()
    # the window keeps the newest snapshot that is at least window_hops old
    assert 50_000 <= f.occ_hops <= 70_000
    assert f.p_void.sum() == pytest.approx(r.sim.params.n_voids, rel=1e-9)


def test_background_run_equals_the_same_hops_run_in_one_go():
    a = small_runner()
    a.start()
    time.sleep(1.0)
    a.pause()
    assert not a.running and a.error is None
    H = a.sim.hops
    assert H > 40_000  # several frames, cut by the wall-clock budget
    b = small_runner(hops_per_frame=H)
    b.step()
    assert b.sim.hops == H
    assert np.array_equal(a.sim.occ, b.sim.occ)
    assert a.sim.energy == b.sim.energy


def test_call_gets_the_simulation_between_frames_while_running():
    r = small_runner()
    r.start()
    try:
        seen = [r.call(lambda sim: sim.hops) for _ in range(5)]
        assert r.running
    finally:
        r.pause()
    assert seen == sorted(seen)
    assert r.sim.energy == pytest.approx(r.sim.energy_from_scratch(), abs=1e-9)


def test_follow_records_traces_and_is_idempotent():
    r = small_runner()
    r.step()
    assert r.follow([2, 5, 2]) == (2, 5)
    for _ in range(3):
        f = r.step()
    assert f.followed == (2, 5)
    for v in (2, 5):
        t, d = f.traces[v]
        assert t.size > 10 and np.all(np.diff(t) > 0) and np.all(d >= 0)
    # following again keeps the traces that go on
    n_before = f.traces[2][0].size
    r.follow([2])
    f = r.step()
    assert f.followed == (2,) and f.traces[2][0].size > n_before
    with pytest.raises(ValueError, match="void ids"):
        r.follow([10_000])


def test_planted_tls_is_catalogued_with_its_boltzmann_ratio():
    r, dE = planted()
    r.follow([0])
    for _ in range(3):
        f = r.step()
    cat = f.tls
    assert cat is not None and f.tls_seq >= 1
    assert cat.void.tolist() == [0]
    assert cat.dE[0] == pytest.approx(dE, abs=1e-12)
    # measured p2/p1 against exp(-dE/T): within 4 standard errors
    assert abs(cat.ratio[0] - math.exp(-dE / 0.05)) < 4 * cat.ratio_err[0]


def test_program_changes_apply_from_the_current_temperature():
    r = small_runner()
    r.step()
    prog = r.set_program(ProgramConfig("cool", 0.04, 1e-1))
    assert prog.T_final == pytest.approx(0.04) and r.sim.program is prog
    for _ in range(20):
        f = r.step()
    assert f.T < 0.08
    with pytest.raises(ValueError, match="below the current T"):
        r.set_program(ProgramConfig("cool", 0.2, 1e-2))
    assert r.program.mode == "cool"


@pytest.mark.parametrize("kw, name", [({"L": 2}, "L"), ({"phi_v": 0.0}, "phi_v"), ({"g_family": "gauss"}, "g_family"), ({"init": "hot"}, "init"),
                                      ({"T_I": -1.0}, "T_I"), ({"seed": -1}, "seed"), ({"w0": 0.0}, "w0"),
                                      ({"L": 3, "phi_v": 0.01}, "void"), ({"g_family": "uniform-delta", "G0": 1.5}, "G0")])
def test_system_config_rejects_bad_values_by_name(kw, name):
    with pytest.raises(ValueError, match=name):
        SystemConfig(**{**SMALL.to_dict(), **kw})


@pytest.mark.parametrize("kw, name", [({"mode": "quench"}, "mode"), ({"T": 0.0}, "T"), ({"nu": -1e-3}, "nu")])
def test_program_config_rejects_bad_values_by_name(kw, name):
    with pytest.raises(ValueError, match=name):
        ProgramConfig(**{"mode": "hold", "T": 0.1, "nu": 1e-3, **kw})


def test_nearest_void_is_periodic():
    xy = np.array([[0, 0], [5, 5]])
    assert nearest_void(xy, 9.6, 0.2, 10) == 0
    assert nearest_void(xy, 5, 6, 10) == 1
    assert nearest_void(xy, 2.5, 2.5, 10) is None


# ---------------------------------------------------------------------------------- the widgets
@pytest.fixture
def ex():
    e = Explorer(SMALL, hops_per_frame=20_000, window_hops=100_000)
    yield e
    e.close()


def test_explorer_tap_follows_a_void_and_highlights_its_tls():
    r, dE = planted()
    ex = Explorer(runner=r)
    try:
        x, y = r.latest.void_xy[0]
        assert ex.tap(x + 0.3, y - 0.2) == 0
        assert ex.tap(x, y) == 0  # delivered twice: same state
        assert r.followed == (0,)
        for _ in range(3):
            ex.step()
        src = ex.plots.trace_srcs[0].data
        assert len(src["t"]) > 10
        hl = ex.plots.hl_src.data
        assert sorted(zip(hl["x"], hl["y"])) == sorted(map(tuple, [r.latest.tls.xy1[0].tolist(), r.latest.tls.xy2[0].tolist()]))
        assert "is a <b>TLS</b>" in ex.plots.check.text and f"dE = {dE:.4f}" in ex.plots.check.text
        assert ex.plots.tls_table_src.data["void"] == [0]
        assert ex.plots.tls_table_src.data["levels"] == [2]
        # ratios far below 1e-3 (a TLS with dE ~ 1 at T = 0.08) must not print as 0.000
        cat = r.latest.tls
        cat.ratio[0], cat.ratio_err[0], cat.boltzmann[0] = 4.2e-6, 3.1e-7, 3.7e-6
        rows = tls_rows(r.latest)
        assert rows["measured"] == ["4.2e-06 ± 3.1e-07"] and rows["boltzmann"] == ["3.7e-06"]
        assert ex.tap(x + 6, y + 6) is None and "No void" in ex.message.value
    finally:
        ex.close()


def test_explorer_says_when_a_change_needs_a_new_system_and_never_resets_by_itself(ex):
    ex.run()
    sim = ex.runner.sim
    ex.w["L"].value = 30
    ex.w["g_family"].value = "fermi-gauss"
    assert "Needs a new system" in ex.pending.value and "L 24 → 30" in ex.pending.value and "g_family" in ex.pending.value
    assert ex.reset_button.button_style == "warning"
    time.sleep(0.3)
    assert ex.runner.sim is sim and ex.runner.running  # still the old system, still running
    ex.w["L"].value = 24
    ex.w["g_family"].value = "uniform"
    assert ex.pending.value == ""  # back to the running system: nothing pending
    ex.w["L"].value = 30
    ex.reset()
    assert ex.runner.sim is not sim and ex.runner.sim.params.L == 30 and ex.plots.L == 30
    assert ex.runner.running  # a running app keeps running with the new system
    assert ex.pending.value == ""


def test_explorer_program_widgets_apply_on_apply_or_explain_why_not(ex):
    ex.step()
    before = ex.runner.program
    ex.mode.value = "cool"
    ex.T_target.value = 0.05  # typing a target does not quench: it waits for Apply
    assert ex.runner.program == before and "press Apply" in ex.program_pending.value
    ex.apply_button.click()
    assert ex.runner.program == ProgramConfig("cool", 0.05, ex.nu.value) and ex.program_pending.value == ""
    assert "cool to T = 0.05" in ex.message.value
    prog = ex.runner.sim.program
    ex._on_program_change()  # delivered twice: the ramp is not restarted
    assert ex.runner.sim.program is prog
    ex.mode.value = "heat"  # heating to a lower T is impossible: said, program unchanged
    ex.apply_button.click()
    assert "Program not changed" in ex.message.value and ex.runner.program.mode == "cool"
    for _ in range(5):
        ex.step()
    assert ex.runner.latest.T < 0.08


def test_drawing_the_same_frame_twice_changes_nothing(ex):
    ex.step()
    before = dict(ex.plots.v_src.data)
    assert ex.plots.draw(ex.runner.latest) is False
    assert ex.pump_once() is False
    assert ex.plots.v_src.data == before
    ex.step()
    assert ex.plots.drawn_seq == ex.runner.latest.seq


def test_explorer_from_env(monkeypatch):
    monkeypatch.setenv("DPLM_EXPLORER", '{"system": {"L": 16, "phi_v": 0.05}, "hops_per_frame": 5000}')
    ex = Explorer.from_env()
    try:
        assert ex.runner.sim.params.L == 16 and ex.runner.hops_per_frame == 5000
    finally:
        ex.close()
    monkeypatch.setenv("DPLM_EXPLORER", '{"sytem": {}}')
    with pytest.raises(ValueError, match="DPLM_EXPLORER"):
        Explorer.from_env()


def test_export_writes_offline_html_of_the_current_figures_and_never_overwrites(ex, tmp_path):
    ex.step()
    (html_path,) = ex.export(tmp_path, formats=("html",))
    text = html_path.read_text()
    assert "hop20000" in html_path.name
    assert "cdn.bokeh.org" not in text and "Bokeh" in text
    assert "voids and p_void" in text  # the map is in the snapshot
    before = html_path.read_bytes()
    assert ex.export(tmp_path, formats=("html",)) == []  # same hop: refused, said, kept
    assert "Export failed" in ex.message.value
    assert html_path.read_bytes() == before


def test_app_command_rejects_bad_parameters_before_starting(capsys, monkeypatch):
    import dplm_explore.app.serve as serve
    from dplm_explore.cli import main

    monkeypatch.setattr(serve, "serve", lambda **kw: pytest.fail("the server must not start with bad parameters"))
    assert main(["app", "--L", "2"]) == 2
    assert "L must be" in capsys.readouterr().err
    assert main(["app", "--g", "uniform-delta", "--G0", "1.5"]) == 2
    assert "G0" in capsys.readouterr().err


def test_trace_time_axis_scrolls_in_pages():
    """A trace that slides (newest point added, oldest dropped, window W) moves the time axis
    once per window, always covering the data; a trace much shorter than the axis resets it."""
    from bokeh.models import Range1d

    rng = Range1d(0, 1)
    W, dt = 1.0, 0.02
    changes, lo, hi = 0, 0.0, 0.0
    for i in range(1, 2001):  # 40 windows of data
        hi = i * dt
        lo = max(0.0, hi - W)
        changes += scroll_range(rng, lo, hi)
        assert rng.start <= lo and hi <= rng.end
        assert rng.end - rng.start <= 2 * max(hi - lo, dt) + 1e-12  # the data fill at least half at each change
    assert 35 <= changes <= 50  # about one change per window while sliding (an update per point would be 2000)
    # a new, short trace (another void followed) gets an axis of its own
    assert scroll_range(rng, hi + 5.0, hi + 5.1)
    assert rng.start == hi + 5.0 and rng.end == pytest.approx(hi + 5.2)
    assert not scroll_range(rng, float("nan"), 1.0)


def test_a_frame_reaches_each_page_document_as_one_patch_that_rebuilds_the_kernel_figures(ex):
    """Sent change by change, one frame was several patches that the page applied in separate
    tasks, repainting between them, and each array was two more comm messages. Now one PATCH-DOC
    per document per frame, in three comm messages, and applying it to the document as the page
    had it gives the kernel's figures."""
    import asyncio

    from bokeh.document import Document
    from bokeh.protocol import Protocol
    from bokeh.protocol.receiver import Receiver

    ex.follow([0, 1])
    ex.step()
    pages, sent = {}, {}
    for name, b in ex.bokeh.items():
        (dj,) = type(b)._model_to_traits(ex.plots.parts[name])["docs_json"].values()
        pages[name] = Document.from_json(dj)  # the page's copy before the next frame
        sent[name] = []
        b.send = lambda content, buffers=None, log=sent[name]: log.append((content, buffers))
    ex.step()

    async def decode(log):
        r, out = Receiver(Protocol()), []
        for content, buffers in log:
            m = await r.consume(buffers[0] if buffers else content["payload"])
            if m is not None:
                out.append(m)
        return out

    msgs = {name: asyncio.run(decode(log)) for name, log in sent.items()}
    for name, log in sent.items():
        assert len(msgs[name]) <= 1, (name, len(msgs[name]))
        # arrays inline: header, metadata and content are the only comm messages of a patch
        assert len(log) == 3 * len(msgs[name]) and not any(buffers for _, buffers in log), (name, len(log))
        for m in msgs[name]:
            m.apply_to_document(pages[name])
    (msg,) = msgs["map"]
    assert len(msg.content["events"]) >= 3  # p_void, the voids and the frame number at least
    page = pages["map"]
    assert np.array_equal(page.get_model_by_name("p_void").data["image"][0], ex.plots.p_src.data["image"][0])
    assert list(page.get_model_by_name("voids").data["color"]) == ex.plots.v_src.data["color"]
    assert list(page.get_model_by_name("frame").data["seq"]) == [ex.runner.latest.seq]
    for i in range(2):
        assert np.array_equal(pages["side"].get_model_by_name(f"trace{i}").data["t"], ex.plots.trace_srcs[i].data["t"])
    assert len(ex.plots.trace_srcs[0].data["t"]) > 0


def test_the_kernel_keeps_at_most_max_unacked_frames_unacknowledged(ex):
    from dplm_explore.app.plots import ACK_EVERY, MAX_UNACKED

    p = ex.plots
    n0 = p.drawn_n
    p.acked_n = n0  # as if the page had acknowledged everything so far
    for _ in range(MAX_UNACKED):
        assert p.may_draw()
        ex.step()
    assert p.drawn_n == n0 + MAX_UNACKED and not p.may_draw()
    assert p.frame_src.data["n"] == [p.drawn_n] and p.frame_src.data["seq"] == [ex.runner.latest.seq]
    p.ack.tags = [n0 + ACK_EVERY]  # the page's acknowledgement arrives
    assert p.may_draw()
    p.ack.tags = [n0]  # a late duplicate of an older one changes nothing
    assert p.acked_n == n0 + ACK_EVERY and p.may_draw()


def test_followed_voids_after_a_deep_quench_keep_frames_small_and_fast():
    """Quenched from T = 0.1 to 1e-3 and 1e-4 with every void followed, the total rate falls by
    up to 60 orders of magnitude within a frame; the tracer thins itself, so a frame stays a few
    hundred samples per void (not billions: that used to exhaust memory). Run in a child process
    limited to 3 GB so that a regression fails instead of taking the machine."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
        from dplm_explore.app import runner as R
        r = R.Runner.create(R.SystemConfig(L=60, phi_v=0.02, T_I=0.1), R.ProgramConfig("hold", 0.1), hops_per_frame=20_000, window_hops=50_000)
        r.follow(list(range(72)))
        r.step(); r.step()
        for T in (1e-3, 1e-4):
            r.set_program(R.ProgramConfig("hold", T))
            before = {v: len(tr.t) for v, tr in r._traces.items()}
            r.step()
            grown = max(len(tr.t) - before[v] for v, tr in r._traces.items())
            assert grown <= 2 * R._MAX_WAITING_SAMPLES, (T, grown)
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr[-2000:]


def test_tracer_with_max_samples_thins_and_doubles_its_interval():
    from dplm_explore import Simulation, constant

    sim = Simulation.create(L=20, phi_v=0.02, T_I=0.1, seed=3, program=constant(0.1))
    dt = 1e-7
    sim.track(voids=[0, 1], interval=dt, max_samples=100)
    sim.advance(50_000)
    t, _, xv = sim.samples()
    assert 50 <= t.size <= 100 + 4096
    assert sim.sample_interval > dt and np.all(np.diff(t) > 0)
    with pytest.raises(ValueError, match="max_samples must be an integer >= 2; got 1"):
        sim.track(voids=[0], interval=1.0, max_samples=1)


def test_served_exports_stay_inside_the_export_root(tmp_path, monkeypatch):
    from dplm_explore.app.explorer import export_folder

    monkeypatch.setenv("DPLM_EXPORT_ROOT", str(tmp_path))
    assert export_folder("slides") == (tmp_path / "slides").resolve()
    assert export_folder(str(tmp_path / "a" / "b")) == (tmp_path / "a" / "b").resolve()
    for bad in ("../outside", "/etc", str(tmp_path / ".." / "x"), "~"):
        with pytest.raises(ValueError, match="lies outside"):
            export_folder(bad)
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(ValueError, match="lies outside"):
        export_folder("link/x")
    monkeypatch.delenv("DPLM_EXPORT_ROOT")
    assert export_folder("rel").is_absolute()


def test_lesson_presets_set_system_and_program_in_one_click():
    from dplm_explore.app.explorer import PRESETS

    e = Explorer(SystemConfig(L=16, phi_v=0.04, T_I=0.1, seed=1), ProgramConfig("hold", 0.1), hops_per_frame=2_000, window_hops=4_000)
    try:
        for key, p in PRESETS.items():
            e.preset.value = key
            assert e.system.L == p.system["L"] and e.system.T_I == p.system["T_I"] and e.system.g_family == p.system["g_family"]
            assert e.runner.program == p.program and p.program.mode == "cool" and p.program.T < p.system["T_I"]
            assert e.preset_caption.value and e.pending.value == ""
            # the rate lies on the slider's grid, so the page keeps it (no false "press Apply")
            k = (math.log10(p.program.nu) - e.nu.min) / e.nu.step
            assert abs(k - round(k)) < 1e-9, (key, p.program.nu)
            assert e.program_pending.value == "" and e.apply_button.button_style == ""
            # the run starts from the preset's T_I (the liquid at 0.2 is cooled from 0.2, not
            # first quenched to whatever the T field held)
            assert e.runner.sim.T == pytest.approx(p.system["T_I"], abs=1e-3)
            assert e._ramp_T0 == pytest.approx(p.system["T_I"], abs=1e-3)
            e.step()
            e.step()
            assert p.system["T_I"] - 0.01 < e.runner.latest.T < p.system["T_I"]  # it cools from the first frames
            e.preset.value = ""
    finally:
        e.close()


def test_follow_a_void_by_number(ex):
    ex.step()
    assert ex.follow_number(1) == (1,)
    assert ex.follow_number(0) == (1, 0)
    n = ex.runner.sim.params.n_voids
    assert ex.follow_number(n) == (1, 0) and "void # must lie in" in ex.message.value


def test_a_run_whose_page_went_away_pauses_itself(ex):
    from dplm_explore.app import explorer as E

    ex.run()
    try:
        assert ex.watch_page() is False  # no page has acknowledged anything yet: a script, keep going
        ex.plots._ack("data", None, [ex.plots.drawn_n])  # a page acknowledges
        t_ack = ex.plots.acked_t
        ex.plots.drawn_n = ex.plots.acked_n + 3  # frames sent since, none acknowledged
        assert ex.watch_page(t_ack + E.PAGE_GONE_S / 2) is False
        assert ex.watch_page(t_ack + E.PAGE_GONE_S + 1) is True
        assert not ex.runner.running and "stopped answering" in ex.message.value
    finally:
        ex.pause()


def test_frozen_trace_gets_a_readable_axis():
    from bokeh.models import Range1d

    from dplm_explore.app.plots import TRACE_MIN_SPAN, fit_range

    r = Range1d(-1e-13, 1e-13)
    fit_range(r, [0.0], np.zeros(50), min_span=TRACE_MIN_SPAN)
    assert r.end - r.start >= TRACE_MIN_SPAN


def _px(size) -> float:
    size = str(size)
    return float(size[:-2]) * (4 / 3 if size.endswith("pt") else 1) if size.endswith(("pt", "px")) else 0.0


def test_ticks_and_labels_are_at_least_12px_and_the_tables_text_too(ex):
    from bokeh.models import Axis, DataTable, Div

    axes = [a for part in ex.plots.parts.values() for a in part.select({"type": Axis})]
    assert len(axes) >= 14  # two for each of the seven figures
    for a in axes:
        assert _px(a.major_label_text_font_size) >= 12 and _px(a.axis_label_text_font_size) >= 12, a
    for m in [m for part in ex.plots.parts.values() for m in part.select({"type": (DataTable, Div)})]:
        assert _px(m.styles["font-size"]) >= 12, m


def test_every_legend_entry_has_a_swatch(ex):
    """A legend entry whose renderers hold no data is drawn by BokehJS without a glyph; every
    entry of every live plot has a renderer with at least one row, and legends are >= 12 px."""
    from bokeh.models import Legend

    ex.follow([0, 1])
    ex.step()
    legends = [lg for part in ex.plots.parts.values() for lg in part.select({"type": Legend})]
    assert len(legends) == 6  # g(V), traces, e(T), C_v, C_v / T, returns
    assert len(ex.plots.trace_legend.items) == 2
    for lg in legends:
        assert _px(lg.label_text_font_size) >= 12, lg.label_text_font_size
        for item in lg.items:
            assert any(len(next(iter(r.data_source.data.values()), [])) >= 1 for r in item.renderers), item.label


def _total_variance(s):
    w = s.dt.sum()
    Em = (s.dt * s.E).sum() / w
    return w, Em, (s.dt * (s.var + (s.E - Em) ** 2)).sum() / w


def test_energy_series_records_add_up_to_the_engines_step_accumulators(monkeypatch):
    from dplm_explore.app import runner as R

    r = small_runner()
    for _ in range(6):
        r.step()
    s = r.energy
    assert s.T.size == 6 and s.T == pytest.approx(np.full(6, 0.08), rel=1e-12) and np.all(s.var > 0)
    b = r.sim.temperature_bins()
    w, Em, var = _total_variance(s)
    assert w == pytest.approx(b["time"].sum(), rel=1e-12)
    assert Em == pytest.approx(b["E_mean"][-1], rel=1e-12)
    assert var == pytest.approx(b["E2_mean"][-1] - b["E_mean"][-1] ** 2, rel=1e-6)
    # merging neighbours keeps time, mean and variance
    monkeypatch.setattr(R, "MAX_RECORDS", 4)
    r.step()
    assert s.T.size == 4
    assert _total_variance(s) == pytest.approx((w + r.energy.dt[-1], *_total_variance(s)[1:]), rel=1e-12)
    w2, Em2, var2 = _total_variance(s)
    b = r.sim.temperature_bins()
    assert var2 == pytest.approx(b["E2_mean"][-1] - b["E_mean"][-1] ** 2, rel=1e-6) and w2 == pytest.approx(b["time"].sum(), rel=1e-12)


def test_live_curves_carry_cv_over_t_with_batch_errors_across_a_program_change():
    r = small_runner()
    for _ in range(10):
        r.step()
    r.set_program(ProgramConfig("cool", 0.06, 0.05))
    for _ in range(10):
        r.step()
    c = r.latest.curves
    assert c["T_b"].size >= 2 and np.all((c["T_b"] >= 0.06 - 1e-9) & (c["T_b"] <= 0.08 + 1e-9))
    assert np.all(c["CvT"][np.isfinite(c["CvT"])] > 0)
    assert np.isfinite(c["CvT_err"]).any()
    # the records cover the whole run once: no step counted twice at the program change
    assert r.energy.dt.sum() == pytest.approx(r.sim.temperature_bins()["time"].sum(), rel=1e-12)


def test_a_multi_level_void_is_listed_followed_from_its_catalogue_row_and_shows_its_levels():
    from test_analysis_tls import planted_three_levels

    sim, a, nbr = planted_three_levels(0.05)
    r = Runner(sim, ProgramConfig("hold", 0.05), hops_per_frame=30_000, window_hops=60_000)
    ex = Explorer(runner=r)
    try:
        for _ in range(2):
            ex.step()
        rows = ex.plots.tls_table_src.data
        assert rows["void"] == [0] and rows["levels"] == [3]
        assert len(rows["measured"][0].split("/")) == 3 and len(rows["boltzmann"][0].split("/")) == 3
        assert len(ex.plots.mls_src.data["x"]) == 3
        assert "1 multi-level" in ex.plots.tls_title.text
        # a click on the row (the page sets the selection) follows the void and clears the selection
        ex.plots.tls_table_src.selected.indices = [0]
        assert r.followed == (0,) and ex.plots.tls_table_src.selected.indices == []
        ex.step()
        text = ex.plots.check.text
        assert "3-level system" in text and text.count("<tr>") == 4  # header and three levels
        assert "+0.0400" in text and "+0.0200" in text  # the planted level energies
        assert len(ex.plots.hl_src.data["x"]) == 3
    finally:
        ex.close()


def test_cv_over_t_view_has_error_bars_and_keeps_the_theory_readable():
    ex = Explorer(SMALL, hops_per_frame=20_000, window_hops=100_000)
    try:
        for _ in range(8):  # a hold: eight records in one bin
            ex.step()
        ex.runner.set_program(ProgramConfig("cool", 0.05, 0.05))
        for _ in range(8):
            ex.step()
        ex.plots._draw_curves(ex.runner.latest)
        d = ex.plots.cvt_src.data
        assert len(d["T2"]) >= 2 and np.all(np.asarray(d["lo"]) <= np.asarray(d["y"])) and np.all(np.asarray(d["y"]) <= np.asarray(d["hi"]))
        assert np.any(np.asarray(d["hi"]) > np.asarray(d["lo"]))  # some error bars have length
        th = ex.plots.cvt_th_src.data
        assert len(th["T2"]) > 10
        # a straight line: c1 + c3 T^2
        c = ex.runner.theory
        np.testing.assert_allclose(th["y"], c["c1"] + c["c3"] * np.asarray(th["T2"]), rtol=1e-12)
        yr, xr = ex.plots.cvt_fig.y_range, ex.plots.cvt_fig.x_range
        assert yr.start == 0.0 and xr.start == 0.0 and yr.end <= 3.0 * max(th["y"]) + 1e-12 and yr.end >= max(th["y"])
        # a wild point does not flatten the theory
        frame = ex.runner.latest
        curves = dict(frame.curves, CvT=np.append(frame.curves["CvT"], 1e3), CvT_err=np.append(frame.curves["CvT_err"], 1.0),
                      T_b=np.append(frame.curves["T_b"], 0.01))
        ex.plots._draw_cvt(curves)
        assert yr.end <= 3.0 * max(th["y"]) + 1e-12
    finally:
        ex.close()


def test_export_runs_on_a_worker_thread_while_frames_go_on(ex, tmp_path, monkeypatch):
    import dplm_explore.export as E

    real = E.save_html

    def slow(*a, **kw):
        time.sleep(1.5)
        return real(*a, **kw)

    monkeypatch.setattr(E, "save_html", slow)
    ex.step()
    t0 = time.perf_counter()
    fut = ex.export_in_background(tmp_path / "out", formats=("html",))
    assert time.perf_counter() - t0 < 0.5 and fut is not None
    assert ex.export_button.disabled and "Exporting into" in ex.message.value
    assert ex.export_in_background(tmp_path / "out", formats=("html",)) is None  # one at a time
    drawn = ex.plots.drawn_n
    ex.step()
    ex.step()
    assert ex.plots.drawn_n == drawn + 2 and not fut.done()  # frames drawn while the export runs
    out, failed = fut.result(30)
    assert failed == [] and out[0].is_absolute() and out[0].exists()
    ex.pump_once(force=True)
    assert not ex.export_button.disabled
    assert str(out[0]) in html_unescape(ex.message.value) and "Exported" in ex.message.value


def html_unescape(s):
    import html

    return html.unescape(s)


def test_layout_keeps_run_and_lesson_outside_the_tabs_and_boxes_at_their_figures_width(ex):
    c = ex.controls.children
    assert ex.run_button in c[0].children and ex.step_button in c[0].children and ex.reset_button in c[0].children
    assert c[1] is ex.preset and ex.sections in c and ex.message in c
    assert ex.sections.titles == ("Program", "System", "More") and ex.sections.selected_index == 0
    row = ex.widget.children[-1]
    assert row.layout.flex_flow == "row wrap"  # a narrow page puts the columns under each other
    for name, b in ex.bokeh.items():
        assert b.layout.min_width == b.layout.width == ex._box_px(name)
    # at 1280 px: controls, map column and side column in one row (margins and gaps included)
    total = int(ex.controls.layout.width[:-2]) + sum(int(ex._box_px(k)[:-2]) for k in ("map", "side")) + 2 * 8
    assert total <= 1240, total


def test_dynamics_switch_applies_to_the_running_system_and_survives_reset(ex):
    assert ex.runner.sim.dynamics == "hop"
    ex.dynamics.value = "first-passage"
    assert ex.runner.sim.dynamics == "first-passage"
    ex.step()
    assert ex.latest_frame().hops > 0 if hasattr(ex, "latest_frame") else ex.runner.sim.hops > 0
    ex.w["seed"].value = ex.w["seed"].value + 1
    ex.reset()
    assert ex.runner.sim.dynamics == "first-passage"


def test_every_declared_g_family_can_be_chosen(ex):
    """The g inputs come from the families' declarations: choosing any family shows exactly its
    parameters, and Reset builds its system."""
    from dplm_explore.interactions import g_families, g_parameters

    for family in g_families():
        ex.w["g_family"].value = family
        shown = {k for k in ex.w if ex.w[k].layout.display != "none" and k in {p.name for p in g_parameters()}}
        assert shown == {p.name for p in g_parameters(family)}, family
        ex.reset()
        assert ex.system.g_family == family


def test_the_system_inputs_take_their_bounds_and_help_from_the_system_schema(ex):
    """L, phi_v, T_I and w0 are declared once (SystemParams); the inputs accept what the schema
    accepts (open bounds just inside, L capped at the explorer's largest lattice) and show its help."""
    from dplm_explore.app._controls import APP_L_MAX
    from dplm_explore.system import system_parameters

    sp = system_parameters()
    for name in ("L", "phi_v", "T_I", "w0"):
        p, w = sp[name], ex.w[name]
        lo, hi = p.bounds
        assert w.tooltip == p.help, name
        assert lo <= w.min <= lo + 1e-5 and (w.max == APP_L_MAX if name == "L" else hi - 1e-5 <= w.max <= hi), (name, w.min, w.max)
        p.check(w.min), p.check(w.max)  # both ends are systems the engine builds
