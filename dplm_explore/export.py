"""Export Bokeh layouts for slides: standalone HTML (BokehJS inline, works offline), PNG and SVG.

* :func:`save_html` writes one self-contained HTML file; BokehJS is embedded
  (``bokeh.resources.INLINE``), so the file opens without a network.
* :func:`save_png` and :func:`save_svg` render through Bokeh's exporter
  (:func:`bokeh.io.export.get_screenshot_as_png`, :func:`bokeh.io.export.get_svg`, the machinery
  behind ``export_png``/``export_svg``) in a headless Chromium driven by Selenium. The browser is
  Debian's ``/usr/bin/chromium`` with ``/usr/bin/chromedriver`` (override with the environment
  variables ``DPLM_CHROMIUM`` and ``DPLM_CHROMEDRIVER``); the driver path is passed to Selenium, so
  Selenium Manager never downloads anything. ``bash scripts/install-browser.sh`` installs both.
* :func:`browser` is a context manager holding one webdriver for many exports (always quit on exit)::

      with browser() as drv:
          save_png(fig1, "fig1.png", driver=drv)
          save_svg(fig2, "fig2.svg", driver=drv)

Every writer is atomic (a temporary file beside the target, then a rename) and refuses to replace
an existing file unless ``overwrite=True`` (:class:`OutputExistsError`, a ``ValueError`` and a
``FileExistsError`` naming the path). Each returns the written :class:`pathlib.Path`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from . import _validate
from ._io import atomic_write, check_writable

__all__ = [
    "save_html",
    "save_png",
    "save_svg",
    "browser",
    "browser_paths",
    "browser_available",
    "BrowserMissingError",
    "OutputExistsError",
    "CHROME_ARGS",
]

#: Chromium switches: headless, no sandbox (containers), and nothing that talks to the network.
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
)

_DEFAULT_CHROMIUM = "/usr/bin/chromium"
_DEFAULT_CHROMEDRIVER = "/usr/bin/chromedriver"
_INSTALL_HINT = "run `bash scripts/install-browser.sh` to install Debian's chromium and chromium-driver"


class OutputExistsError(FileExistsError, ValueError):
    """The output file exists and ``overwrite`` was not given."""


class BrowserMissingError(RuntimeError):
    """Chromium or ChromeDriver is not installed where export looks for it."""


def _check_layout(obj) -> None:
    from bokeh.model import Model

    if not isinstance(obj, Model):
        raise ValueError(f"obj must be a Bokeh layout (figure, row, column, gridplot); got {type(obj).__name__}")


def _target(path, overwrite: bool) -> Path:
    try:
        return check_writable(path, overwrite)
    except FileExistsError:
        raise OutputExistsError(f"{str(path)!r} exists; pass overwrite=True (CLI: --overwrite) to replace it") from None


def save_html(obj, path, *, title: str = "dplm-explore", overwrite: bool = False) -> Path:
    """Write ``obj`` (any Bokeh layout) as one standalone HTML file with BokehJS inline."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    _check_layout(obj)
    if not isinstance(title, str):
        raise ValueError(f"title must be a string; got {title!r}")
    path = _target(path, overwrite)
    html = file_html(obj, resources=INLINE, title=title).encode("utf-8")
    atomic_write(path, lambda fh: fh.write(html), overwrite=overwrite)
    return path


# ---------------------------------------------------------------------------------- the browser
def browser_paths() -> tuple[Path, Path]:
    """``(chromium, chromedriver)``: ``$DPLM_CHROMIUM`` / ``$DPLM_CHROMEDRIVER`` or Debian's paths."""
    return (Path(os.environ.get("DPLM_CHROMIUM") or _DEFAULT_CHROMIUM),
            Path(os.environ.get("DPLM_CHROMEDRIVER") or _DEFAULT_CHROMEDRIVER))


def _missing() -> list[str]:
    missing = []
    for (label, env), p in zip((("Chromium", "DPLM_CHROMIUM"), ("ChromeDriver", "DPLM_CHROMEDRIVER")), browser_paths()):
        if not (p.is_file() and os.access(p, os.X_OK)):
            missing.append(f"{label} at {p} (set ${env} to use another path)")
    return missing


def browser_available() -> bool:
    """True when both the browser and its driver are installed (see :func:`browser_paths`)."""
    return not _missing()


def _create_driver(scale_factor: float, user_data_dir: str):
    try:
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.chrome.webdriver import WebDriver
    except ImportError:
        raise BrowserMissingError("PNG/SVG export needs selenium: pip install 'dplm-explore[export]'") from None
    missing = _missing()
    if missing:
        raise BrowserMissingError("PNG/SVG export needs a local Chromium; missing: " + "; ".join(missing) + f". {_INSTALL_HINT}")
    chromium, chromedriver = browser_paths()
    options = Options()
    options.binary_location = str(chromium)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--force-device-scale-factor={scale_factor:g}")
    options.add_argument(f"--user-data-dir={user_data_dir}")
    # an explicit driver path: Selenium Manager is skipped, nothing is downloaded
    return WebDriver(service=Service(executable_path=str(chromedriver)), options=options)


@contextlib.contextmanager
def browser(*, scale_factor: float = 1) -> Iterator:
    """One headless Chromium webdriver (fresh temporary profile) for a sequence of exports;
    quit and its profile removed on exit, also on errors. ``scale_factor`` is the device pixel
    ratio, the largest ``scale`` that :func:`save_png` can use with this driver."""
    scale_factor = _validate.positive("scale_factor", scale_factor)
    profile = tempfile.mkdtemp(prefix="dplm-chromium-")
    driver = None
    try:
        driver = _create_driver(scale_factor, profile)
        driver.dplm_scale_factor = scale_factor
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def _driver_for(driver, scale_factor: float = 1):
    if driver is not None:
        yield driver
    else:
        with browser(scale_factor=scale_factor) as drv:
            yield drv


def _without_toolbars(obj) -> None:
    """Images show the plots only: every toolbar of ``obj`` is hidden (the layout is changed)."""
    from bokeh.models import GridPlot, Plot

    for m in obj.select({"type": Plot}):
        m.toolbar_location = None
    for m in obj.select({"type": GridPlot}):
        m.toolbar_location = None


def save_png(obj, path, *, overwrite: bool = False, scale: float = 1, driver=None, timeout: int = 30) -> Path:
    """Render ``obj`` to a PNG of (layout width x scale) by (layout height x scale) pixels.

    ``driver``: a webdriver from :func:`browser` (created with ``scale_factor >= scale``); without
    one a browser is started and quit for this call."""
    _check_layout(obj)
    scale = _validate.positive("scale", scale)
    path = _target(path, overwrite)
    _without_toolbars(obj)
    if driver is not None and getattr(driver, "dplm_scale_factor", scale) < scale:
        raise ValueError(f"scale must not exceed the browser's scale_factor {driver.dplm_scale_factor:g}; got {scale!r}")
    from bokeh.io.export import get_screenshot_as_png

    with _driver_for(driver, scale) as drv:
        image = get_screenshot_as_png(obj, driver=drv, scale_factor=scale, timeout=timeout)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    atomic_write(path, lambda fh: fh.write(buf.getvalue()), overwrite=overwrite)
    return path


def save_svg(obj, path, *, overwrite: bool = False, driver=None, timeout: int = 30) -> Path:
    """Render ``obj`` (the whole layout, one file) as SVG. ``driver`` as in :func:`save_png`."""
    _check_layout(obj)
    path = _target(path, overwrite)
    _without_toolbars(obj)
    from bokeh.io.export import get_svg

    with _driver_for(driver) as drv:
        svgs = get_svg(obj, driver=drv, timeout=timeout)
    if len(svgs) != 1:
        raise RuntimeError(f"expected one SVG document for the layout; the browser returned {len(svgs)}")
    data = svgs[0].encode("utf-8")
    atomic_write(path, lambda fh: fh.write(data), overwrite=overwrite)
    return path
