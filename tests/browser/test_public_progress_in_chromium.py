"""Issue 17 item 9 in headless Chromium: a visitor who is not signed in opens the public
progress page from the service list, types the reference number and the applicant's name at a
person's speed, mistypes the name and is told so (the summary takes focus and links to the
field), corrects it and reads the timeline; with JavaScript on and off. axe on each page; at
360 px nothing scrolls sideways, and in 长辈版 targets and text are big enough."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..web import review_world
    from . import helpers
    from .axe import assert_clean
    from .test_elder_mode import SizeAudit
    from .test_narrow_screens import NARROW, OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import assert_clean  # type: ignore[no-redef]
    from test_elder_mode import SizeAudit  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW  # type: ignore[no-redef]
    from tests.web import review_world  # type: ignore[no-redef]

REFERENCE = "2610-RSJ2-WEB9"
NO_MATCH = "没有与您填写的内容相符的办件，请核对后重试。"
KEY_DELAY_MS = 120  # a person typing: about eight keys a second


@pytest.fixture
def run(demo):  # type: ignore[no-untyped-def]
    return review_world.build(demo.extensions["tongban.engine"], reference=REFERENCE, answers={
        "applicant": {"name": "张小明", "id_number": "310104199003071234",
                      "mobile": "13812345678"}})


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _type(page: Page, selector: str, text: str) -> None:
    field = page.locator(selector)
    field.click()
    field.fill("")
    field.press_sequentially(text, delay=KEY_DELAY_MS)


def _look_up(page: Page, reference: str, name: str) -> None:
    _type(page, "#reference", reference)
    _type(page, "#name", name)
    with page.expect_navigation():
        page.locator("form", has=page.locator("#reference")).get_by_role(
            "button", name="查询进度").click()


def _no_sideways_scroll(page: Page, what: str) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["extra"] <= 0, f"{what} scrolls sideways by {found['extra']} px: {found}"


def test_a_visitor_mistypes_the_name_corrects_it_and_reads_the_timeline(
        run, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    page.goto(live_server.url + "/")
    with page.expect_navigation():
        page.get_by_role("link", name="查询办件进度").click()
    expect(page.locator("main h1")).to_have_text("查询办件进度")
    if js:
        assert_clean(page)

    _look_up(page, "２６１０ rsj2 web9", "张晓明")  # full-width digits; 晓 for 小
    summary = page.locator(".tb-error-summary")
    expect(summary.locator("a")).to_have_text([NO_MATCH])
    if js:
        expect(summary).to_be_focused()
    expect(page.locator("#reference-error")).to_contain_text(NO_MATCH)
    expect(page.locator("#reference")).to_have_attribute(
        "aria-describedby", "reference-hint reference-error")
    expect(page.locator("#name")).to_have_value("张晓明")  # what was typed is kept
    if js:
        assert_clean(page)
    summary.locator("a").click()
    if js:
        expect(page.locator("#reference")).to_be_focused()

    _look_up(page, "２６１０ rsj2 web9", " 张小明 ")
    main = page.locator("main")
    expect(page.locator("main h1")).to_have_text(f"申请 {REFERENCE}")
    expect(main).to_contain_text("张*明")
    expect(main).to_contain_text("初审")
    expect(main).to_contain_text("上海市人力资源和社会保障局")
    for private in ("张小明", "310104199003071234", "13812345678", "材料齐全"):
        expect(main).not_to_contain_text(private)
    if js:
        assert_clean(page)
    screenshot(page, "timeline-js" if js else "timeline-nojs")


def test_the_page_fits_360_px_and_is_big_enough_in_elder_mode(
        run, live_server, narrow_page, measure, screenshot) -> None:  # type: ignore[no-untyped-def]
    page = narrow_page
    base = live_server.url
    page.goto(base + "/progress")
    _no_sideways_scroll(page, "the blank form at 360 px")
    _look_up(page, REFERENCE, "张小明")
    expect(page.locator("main")).to_contain_text("张*明")
    _no_sideways_scroll(page, "the timeline at 360 px")
    screenshot(page, "timeline-360")

    page.goto(base + "/progress")
    with page.expect_event("load"):
        page.click("header button:has-text('长辈版')")
    audit = SizeAudit(page, measure, True)
    audit.check("public progress form")
    _look_up(page, REFERENCE, "错的名字")
    expect(page.locator(".tb-error-summary")).to_be_visible()
    audit.check("public progress, error state")
    _no_sideways_scroll(page, "the error state in 长辈版 at 360 px")
    _look_up(page, REFERENCE, "张小明")
    audit.check("public progress, timeline")
    _no_sideways_scroll(page, "the timeline in 长辈版 at 360 px")
    screenshot(page, "elder-timeline-360")
    assert_clean(page)
    audit.assert_ok()
