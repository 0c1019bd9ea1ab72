"""The browser-test fixtures work on their own, against a one-page app defined here.

If these fail, every other browser test's result means nothing.
"""

from __future__ import annotations

import pytest
from flask import Flask, request

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>自检页面</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { margin: 0; padding: 24px; background: #fff; font: 18px/1.5 sans-serif; }
  #plain { color: #000; background: #fff; font-size: 20px; line-height: 30px; }
  #faded { color: #777; }
  .panel { background: rgba(0, 0, 0, 0.5); padding: 8px; }
  #on-panel { color: #fff; }
  button { min-width: 120px; min-height: 48px; font-size: 18px; color: #fff;
           background: #00703c; border: 0; }
</style></head>
<body>
  <h1>自检页面</h1>
  <p id="plain">黑字白底</p>
  <p id="faded">灰字</p>
  <div class="panel"><span id="on-panel">半透明底上的白字</span></div>
  <p id="js-status">JavaScript 已关闭</p>
  <form method="post" action="/submit" novalidate>
    <label for="name">姓名</label>
    <input id="name" name="name" autocomplete="name">
    <button type="submit">继续</button>
  </form>
  <script>document.getElementById('js-status').textContent = 'JavaScript 已开启';</script>
</body>
</html>
"""


@pytest.fixture
def app() -> Flask:
    """Stands in for the project's app fixture, so this module needs nothing from tongban."""
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return PAGE

    @app.post("/submit")
    def submit() -> str:
        return f"<!doctype html><title>已收到</title><p id='echo'>{request.form['name']}</p>"

    @app.get("/broken")
    def broken() -> str:
        return "<!doctype html><title>x</title><script>undefinedFunction()</script>"

    @app.get("/external")
    def external() -> str:
        return '<!doctype html><title>x</title><img src="https://cdn.example.com/a.png">'

    return app


def test_page_loads_from_the_live_server_with_javascript_on(live_server, page):
    response = page.goto(live_server.url + "/")

    assert response is not None and response.status == 200
    assert page.title() == "自检页面"
    assert page.locator("#js-status").inner_text() == "JavaScript 已开启"
    assert page.evaluate("navigator.language") == "zh-CN"
    assert page.viewport_size == {"width": 1280, "height": 900}


def test_javascript_off_context_does_not_run_scripts_and_the_form_still_posts(
    live_server, page_nojs
):
    page_nojs.goto(live_server.url + "/")

    assert page_nojs.locator("#js-status").inner_text() == "JavaScript 已关闭"

    page_nojs.fill("#name", "张三")
    page_nojs.click("button[type=submit]")

    assert page_nojs.title() == "已收到"
    assert page_nojs.locator("#echo").inner_text() == "张三"


def test_phone_page_is_a_small_touch_screen_at_double_density(live_server, phone_page):
    phone_page.goto(live_server.url + "/")

    assert phone_page.evaluate("[innerWidth, devicePixelRatio]") == [390, 2]
    assert phone_page.evaluate("matchMedia('(pointer: coarse)').matches") is True


def test_screenshot_writes_a_full_page_png_named_after_the_test(live_server, page, screenshot):
    page.goto(live_server.url + "/")

    path = screenshot(page, "home")

    assert path.name == "test_screenshot_writes_a_full_page_png_named_after_the_test-home.png"
    assert path.parent.parts[-2:] == ("test-output", "screenshots")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_measure_reports_target_size_type_and_contrast(live_server, page, measure):
    page.goto(live_server.url + "/")

    [button] = measure(page, "button")
    assert button["width"] >= 120 and button["height"] >= 48
    assert button["font_size"] == 18
    # Buttons do not inherit font from the body, so line-height is 'normal': measured.
    assert 18 < button["line_height"] < 30
    assert button["background"] == "#00703c"
    assert button["contrast"] == pytest.approx(6.21, abs=0.01)  # checked in Python

    [plain] = measure(page, "#plain")
    assert (plain["font_size"], plain["line_height"]) == (20, 30)
    assert (plain["color"], plain["background"]) == ("#000000", "#ffffff")
    assert plain["contrast"] == 21.0

    [faded] = measure(page, "#faded")
    assert faded["contrast"] == pytest.approx(4.48, abs=0.01)  # just under AA's 4.5

    # Half-transparent black over white paints as #808080 (or #7f7f7f, by rounding).
    [on_panel] = measure(page, "#on-panel")
    assert on_panel["background"] in ("#7f7f7f", "#808080")
    assert on_panel["contrast"] == pytest.approx(3.98, abs=0.05)

    assert measure(page, ".absent") == []


def test_javascript_errors_and_external_requests_are_collected(live_server, page, browser_errors):
    page.goto(live_server.url + "/broken")
    page.goto(live_server.url + "/external")

    errors = browser_errors.take()

    assert any("pageerror" in e and "undefinedFunction" in e for e in errors)
    assert any("external request refused: https://cdn.example.com/a.png" in e for e in errors)
    assert browser_errors.errors == []
