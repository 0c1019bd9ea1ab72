"""Issue 17 items 6 and 7 in headless Chromium at 360 px: a signed-in citizen finds household
transfer by search, reads its guide, answers the pre-check (leaves one question out and is
told), is told they can apply with the materials for joining family, and starts the
application with the pre-check's answers in the draft; with JavaScript on (htmx swaps the
answer in place) and off (plain forms). axe on each page (with JavaScript on: it runs in the
page); nothing is wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from tongban.models import Draft

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import helpers
    from .axe import assert_clean
    from .flows import sign_in
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import assert_clean  # type: ignore[no-redef]

    from flows import sign_in  # type: ignore[no-redef]

NARROW = {"viewport": {"width": 360, "height": 740}}
WIDTH = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
UNANSWERED = "请选择“您是否已取得准予迁入证明？”的答案"


@pytest.fixture(params=["js", "nojs"])
def narrow_page(request: pytest.FixtureRequest, chromium: Browser,
                browser_errors: helpers.BrowserErrors) -> Iterator[tuple[Page, bool]]:
    js = request.param == "js"
    for page in helpers.new_page(chromium, browser_errors, java_script_enabled=js, **NARROW):
        yield page, js


def _fits(page: Page, js: bool, what: str) -> None:
    """Nothing scrolls sideways at 360 px; axe (which runs in the page, so with JavaScript on)
    finds nothing. With JavaScript off the page's main column is measured from outside (the
    same HTML is measured whole with JavaScript on)."""
    if js:
        assert page.evaluate(WIDTH) <= 0, f"{what} scrolls sideways at 360 px"
        assert_clean(page)
    else:
        box = page.locator("main").bounding_box()
        assert box is not None and box["x"] + box["width"] <= NARROW["viewport"]["width"], what


def test_search_guide_precheck_qualify_and_start(
        demo: Flask, live_server: helpers.LiveServer, narrow_page: tuple[Page, bool],
        screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = narrow_page
    base = live_server.url
    sign_in(page, base)

    # find by search (a GET form; with JavaScript the results follow the typing)
    page.goto(base + "/")
    page.get_by_label("搜索服务").fill("落户")
    if js:
        expect(page.get_by_role("status")).to_have_text("找到 2 项服务。")
    else:
        with page.expect_navigation():
            page.get_by_label("搜索服务").press("Enter")
    with page.expect_navigation():
        page.locator("#tb-search-results").get_by_role("link", name="户口迁入").click()

    # the guide: every element, the pre-check linked under who can apply
    expect(page.locator("main h1")).to_have_text("户口迁入")
    facts = page.locator("#tb-guide-facts")
    expect(facts).to_contain_text("XK-00412-000")
    expect(facts).to_contain_text("行政许可")
    for heading in ("办理流程", "特殊环节", "审批结果", "监督投诉", "行政救济途径"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    _fits(page, js, "the guide")
    with page.expect_navigation():
        page.locator("#tb-precheck-link").click()

    # the pre-check: one question left out, then all answered
    expect(page.locator("main h1")).to_have_text("检查是否符合申请条件")
    _fits(page, js, "the pre-check")
    page.get_by_role("radio", name="夫妻、父母子女投靠").check()
    page.get_by_role("group", name="您的户口现在已经在上海市吗？").get_by_role("radio", name="否").check()
    page.get_by_role("group", name="是否有家庭成员随您一起迁入？").get_by_role("radio", name="是").check()

    def press(name: str) -> None:
        button = page.locator("#tb-precheck form button", has_text=name).first
        if js:  # htmx swaps the main column: no navigation
            with page.expect_response(lambda r: r.request.method == "POST"):
                button.click()
        else:
            with page.expect_navigation():
                button.click()

    press("检查")
    summary = page.locator(".tb-error-summary")
    expect(summary.locator("a")).to_have_text([UNANSWERED])
    expect(summary).to_be_focused()  # autofocus: on load, and after htmx's swap
    expect(page.locator("#pc-has-approval-error")).to_contain_text(UNANSWERED)
    expect(page.get_by_role("radio", name="夫妻、父母子女投靠")).to_be_checked()  # kept
    _fits(page, js, "the pre-check's error")
    summary.locator("a").click()
    expect(page.locator("#pc-has-approval")).to_be_in_viewport()
    page.get_by_role("group", name="您是否已取得准予迁入证明？").get_by_role("radio", name="是").check()
    press("检查")

    result = page.locator("#tb-precheck-result")
    expect(result.locator("h2")).to_have_text("您符合申请条件")
    expect(result).to_contain_text("可以在网上申请户口迁入")
    expect(page.locator("#tb-precheck-materials li")).to_have_count(4)  # with proof of kinship
    expect(page.locator("#tb-precheck-materials")).to_contain_text("亲属关系证明")
    _fits(page, js, "you can apply")
    screenshot(page, "qualify-360-js" if js else "qualify-360-nojs")

    # start: the answers the form asks too are in the new draft
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="开始办理").click()
    expect(page.locator("main h1")).to_contain_text("申请人信息")
    token = page.url.split("/apply/", 1)[1].split("/", 1)[0]
    with Session(demo.extensions["tongban.engine"]) as session:
        draft = session.exec(select(Draft).where(col(Draft.token) == token)).one()
    assert draft.answers["transfer"]["reason"] == "family"
    assert draft.answers["transfer"]["with_family"] is True
    assert "has_approval" not in draft.answers
