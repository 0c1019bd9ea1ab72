"""Shared pieces of the browser tests: the live server, error collection and measurements.

The fixtures in ``conftest.py`` wire these together; tests normally use the fixtures
(``live_server``, ``page``, ``screenshot``, ``measure``) rather than importing from here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

CHROMIUM_PATH = Path("/usr/bin/chromium")

# Flags that keep Debian's Chromium quiet and offline in a container: no sandbox (we run as
# root), no GPU, and no background calls home that would make runs slow or flaky.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# A 1280x900 desktop window zoomed to 200%: what the page has to lay out in (WCAG 1.4.4/1.4.10).
ZOOMED = {"viewport": {"width": 640, "height": 450}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# Anything but loopback is refused: government intranet deployments have no CDN, so a page
# that needs one is broken, and the tests must not depend on the outside world.
EXTERNAL_URL = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$))https?://")

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-output" / "screenshots"


# --------------------------------------------------------------------------- live server


@dataclass(frozen=True)
class LiveServer:
    url: str


class _QuietRequestHandler(WSGIRequestHandler):
    """Keeps one access-log line per request out of the captured output; errors still log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(app: Any, *, threaded: bool = True) -> Iterator[LiveServer]:
    """Serve a WSGI app on a free loopback port in a daemon thread until the block ends
    (``threaded``: a thread per request; otherwise one thread answers them in turn)."""
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=threaded, request_handler=_QuietRequestHandler
    )
    # A short poll interval: shutdown() waits for the loop to notice, once per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- JS errors


@dataclass
class BrowserErrors:
    """JavaScript errors and refused external requests seen by every page of one test.

    The ``pytest_runtest_call`` wrapper in ``conftest.py`` fails the test if any remain.
    A test that provokes an error on purpose calls ``take()`` to claim it.
    """

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        # A form sent with mistakes comes back as 422 by design (htmx 4 swaps it; GOV.UK
        # shows the page again); Chromium logs every 4xx response as a console error.
        if message.type == "error" and not message.text.endswith("status of 422 (UNPROCESSABLE ENTITY)"):
            self.errors.append(f"console.error: {message.text} ({message.location.get('url')})")

    def refuse_external(self, route: Any) -> None:
        self.errors.append(f"external request refused: {route.request.url}")
        route.abort("blockedbyclient")

    def take(self) -> list[str]:
        taken, self.errors = self.errors, []
        return taken


# --------------------------------------------------------------------------- measuring

# Runs in the page. Colours are read back through a 1x1 canvas so any CSS colour syntax
# (rgb, hsl, oklch, color(...)) comes out as sRGB bytes. Translucent backgrounds are
# composited up the ancestor chain onto the white canvas, as the browser paints them.
# Background images and gradients are not seen; the result reports them so a test can
# decide what to do.
_MEASURE_JS = """
(elements) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    // getImageData un-premultiplies, so the channels are the colour itself.
    return {r, g, b, a: a / 255};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({r, g, b}) => {
    const lin = (c) => {
      c = c / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const effectiveBackground = (el) => {
    const layers = [];
    let backgroundImage = false;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== 'none') backgroundImage = true;
      const colour = rgba(style.backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a >= 1) break;
    }
    let result = {r: 255, g: 255, b: 255, a: 1};
    for (const layer of layers.reverse()) result = over(layer, result);
    return {colour: result, backgroundImage};
  };
  const lineHeightPx = (el, style) => {
    const value = parseFloat(style.lineHeight);
    if (!Number.isNaN(value)) return value;
    // 'normal' depends on the font; measure one line of the same font.
    const probe = document.createElement('div');
    probe.textContent = 'X\u6c49';
    probe.style.cssText = 'position:absolute;visibility:hidden;padding:0;border:0;'
      + 'line-height:normal;white-space:nowrap';
    probe.style.font = style.font;
    probe.style.lineHeight = 'normal';
    document.body.appendChild(probe);
    const height = probe.getBoundingClientRect().height;
    probe.remove();
    return height;
  };
  const hex = ({r, g, b}) =>
    '#' + [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('');

  return elements.map((el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const {colour: background, backgroundImage} = effectiveBackground(el);
    const text = over(rgba(style.color), background);
    const [l1, l2] = [luminance(text), luminance(background)].sort((a, b) => b - a);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.innerText || el.value || '').trim().slice(0, 60),
      width: box.width,
      height: box.height,
      font_size: parseFloat(style.fontSize),
      line_height: lineHeightPx(el, style),
      color: hex(text),
      background: hex(background),
      background_image: backgroundImage,
      contrast: (l1 + 0.05) / (l2 + 0.05),
    };
  });
}
"""


def measure(page: Any, selector: str) -> list[dict[str, Any]]:
    """Size, type and colour contrast of every element matching ``selector``.

    Each dict has ``tag``, ``text``, ``width`` and ``height`` (CSS px of the bounding box),
    ``font_size`` and ``line_height`` (px; ``normal`` is measured), ``color`` and
    ``background`` (effective sRGB hex), ``background_image`` (contrast is then only
    indicative) and ``contrast`` (WCAG 2 ratio, rounded to 2 places, 1.0 to 21.0).
    """
    results: list[dict[str, Any]] = page.eval_on_selector_all(selector, _MEASURE_JS)
    for result in results:
        result["contrast"] = round(result["contrast"], 2)
    return results


# --------------------------------------------------------------------------- screenshots


def screenshot_path(test_name: str, name: str) -> Path:
    """Where a screenshot goes: one flat folder, names safe on every file system."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{test_name}-{name}").strip("_")
    return SCREENSHOT_DIR / f"{safe}.png"


# Fail fast: Playwright's 30 s default turns one wrong selector into a long wait.
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 15_000


def new_page(chromium: Browser, errors: BrowserErrors, **options: Any) -> Iterator[Page]:
    """A page in a fresh zh-CN context of its own, errors watched, outside addresses refused;
    the context is closed when the caller is done with the page."""
    context: BrowserContext = chromium.new_context(locale="zh-CN", **options)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    context.route(EXTERNAL_URL, errors.refuse_external)
    page = context.new_page()
    errors.watch(page)
    try:
        yield page
    finally:
        context.close()
