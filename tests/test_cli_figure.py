"""``dplm-explore figure``: --list, one quick figure end to end, data reuse, overwrite protection."""

import json
import re

import pytest

from dplm_explore import export
from dplm_explore.cli import main
from dplm_explore.figures import FIGURES


def test_list(capsys):
    assert main(["figure", "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(FIGURES)
    assert main(["figure", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(re.search(rf"^\s*{n}\s+Sec\.", out, re.M) for n in FIGURES)


def test_quick_figure_html_end_to_end_and_reuse(tmp_path, capsys):
    data = tmp_path / "q.npz"
    args = ["figure", "fig4b", "--scale", "quick", "--out-dir", str(tmp_path / "out"), "--data", str(data), "--seed", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    html = tmp_path / "out" / "fig4b.html"
    assert "computed" in out and str(html) in out
    text = html.read_text()
    assert "Bokeh.embed" in text and not re.search(r"<script[^>]*\bsrc\s*=", text)
    assert data.exists()
    # never overwritten without --overwrite: exit code 2, file untouched
    before = html.stat().st_mtime_ns
    assert main(args) == 2
    assert "output exists" in capsys.readouterr().err and html.stat().st_mtime_ns == before
    # with --overwrite the saved data are loaded, not recomputed
    assert main(args + ["--overwrite"]) == 0
    out = capsys.readouterr().out
    assert "loaded" in out and "dplm-explore figure fig4b --scale quick --seed 3 --data" in out
    # --json: the headline records of the same data, no file written
    assert main(args + ["--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert [r["quantity"] for r in recs] == ["q"] * 6 and all(r["figure"] == "fig4b" for r in recs)
    # data written for another figure are refused
    assert main(["figure", "fig5", "--scale", "quick", "--data", str(data), "--out-dir", str(tmp_path / "o5")]) == 2
    assert "holds data for fig4b" in capsys.readouterr().err


@pytest.mark.parametrize("argv, msg", [
    (["figure", "fig99"], "unknown figure 'fig99'"),
    (["figure"], "give a figure NAME or --list"),
    (["figure", "fig4b", "--format", "html,gif"], "--format must be a comma-separated subset"),
    (["figure", "fig4b", "--seed", "-1"], "--seed must be a non-negative integer; got -1"),
])
def test_bad_arguments(argv, msg, capsys, tmp_path):
    assert main(argv + ["--out-dir", str(tmp_path)]) == 2
    assert msg in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.browser
@pytest.mark.skipif(not export.browser_available(), reason="no Chromium/ChromeDriver at /usr/bin; run bash scripts/install-browser.sh")
def test_png_and_svg(tmp_path, capsys):
    assert main(["figure", "fig4b", "--scale", "quick", "--format", "png,svg", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    png = (tmp_path / "fig4b.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert (tmp_path / "fig4b.svg").read_text().startswith("<svg")
    assert "'png'" in out and "'svg'" in out


@pytest.mark.parametrize("name", ["fig1", "fig4b"])
def test_paper_json_from_shipped_data(name, capsys):
    """The paper scale is the default and answers from the shipped file."""
    from dplm_explore.figures import shipped_path

    if not shipped_path(name).exists():
        pytest.skip(f"{name} not shipped yet")
    assert main(["figure", name, "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert recs and all(r["figure"] == name for r in recs)
