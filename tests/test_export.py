"""dplm_explore.export: offline HTML, PNG/SVG through the system Chromium, overwrite protection."""

import re
import struct

import pytest
from bokeh.layouts import row
from bokeh.plotting import figure

from dplm_explore import export


def _plot(width=300, height=200):
    p = figure(width=width, height=height, title="t", toolbar_location=None)
    p.line([0, 1, 2], [0, 1, 4])
    return p


needs_browser = pytest.mark.skipif(not export.browser_available(), reason="no Chromium/ChromeDriver at /usr/bin (DPLM_CHROMIUM/DPLM_CHROMEDRIVER); run bash scripts/install-browser.sh")


def test_html_is_standalone_with_inline_bokehjs(tmp_path):
    out = export.save_html(row(_plot(), _plot()), tmp_path / "f.html", title="my title")
    html = out.read_text()
    assert out == tmp_path / "f.html"
    assert "<title>my title</title>" in html
    # no external script at all, in particular none from a CDN
    assert not re.search(r"<script[^>]*\bsrc\s*=", html)
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']https?://", html)
    # BokehJS itself is embedded (its version banner and the Bokeh.embed entry point)
    import bokeh

    assert "Bokeh.embed" in html and bokeh.__version__ in html
    assert len(html) > 500_000  # the library, not a loader stub


def test_html_refuses_to_overwrite(tmp_path):
    path = tmp_path / "f.html"
    path.write_text("keep me")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        export.save_html(_plot(), path)
    with pytest.raises(FileExistsError):
        export.save_html(_plot(), path)
    assert path.read_text() == "keep me"
    export.save_html(_plot(), path, overwrite=True)
    assert "Bokeh" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["f.html"]  # no temporary file left behind


def test_rejects_non_layouts(tmp_path):
    with pytest.raises(ValueError, match="obj must be a Bokeh layout"):
        export.save_html([1, 2], tmp_path / "x.html")
    with pytest.raises(ValueError, match="obj must be a Bokeh layout"):
        export.save_png("fig", tmp_path / "x.png")
    with pytest.raises(ValueError, match="scale must be positive; got 0"):
        export.save_png(_plot(), tmp_path / "x.png", scale=0)
    assert list(tmp_path.iterdir()) == []


def test_missing_browser_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DPLM_CHROMIUM", str(tmp_path / "no-chromium"))
    assert not export.browser_available()
    with pytest.raises(export.BrowserMissingError, match=r"no-chromium.*DPLM_CHROMIUM.*install-browser\.sh"):
        export.save_png(_plot(), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.browser
@needs_browser
def test_png_and_svg_through_one_browser(tmp_path):
    layout = row(_plot(300, 200), _plot(150, 200))
    with export.browser(scale_factor=2) as drv:
        p1 = export.save_png(layout, tmp_path / "a.png", driver=drv)
        p2 = export.save_png(_plot(300, 200), tmp_path / "b.png", driver=drv, scale=2)
        s = export.save_svg(layout, tmp_path / "a.svg", driver=drv)
        with pytest.raises(ValueError, match="scale must not exceed"):
            export.save_png(layout, tmp_path / "c.png", driver=drv, scale=3)
    assert _png_size(p1.read_bytes()) == (450, 200)
    assert _png_size(p2.read_bytes()) == (600, 400)
    svg = s.read_text()
    assert svg.startswith("<svg") and 'width="450"' in svg and 'height="200"' in svg
    # the driver was quit on leaving the context
    with pytest.raises(Exception):
        drv.title  # noqa: B018


@pytest.mark.browser
@needs_browser
def test_png_without_driver_and_overwrite(tmp_path):
    path = export.save_png(_plot(200, 100), tmp_path / "x.png")
    assert _png_size(path.read_bytes()) == (200, 100)
    with pytest.raises(ValueError, match="exists"):
        export.save_png(_plot(200, 100), path)
    with pytest.raises(ValueError, match="exists"):
        export.save_svg(_plot(200, 100), path)
    export.save_png(_plot(100, 100), path, overwrite=True)
    assert _png_size(path.read_bytes()) == (100, 100)
