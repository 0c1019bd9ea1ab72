"""Issue 17 item 6: finding a service in Chromium at 360 px, typed at a person's speed with
JavaScript on (the results follow the typing, the count is announced), by the GET form with
JavaScript off, in standard and 长辈版; axe finds nothing (with JavaScript on: axe runs in the
page)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import helpers
    from .axe import assert_clean
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import assert_clean  # type: ignore[no-redef]

NARROW = {"viewport": {"width": 360, "height": 740}}
WIDTH = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


@pytest.fixture
def narrow_page_nojs(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, java_script_enabled=False, **NARROW)


def _elder(page: Page, base: str, on: bool) -> None:
    page.goto(base + "/", wait_until="networkidle")
    token = page.locator("header input[name=csrf_token]").first.input_value()
    page.request.post(base + "/settings/elder",
                      form={"csrf_token": token, "on": "1" if on else "0", "next": "/"})


def _type_like_a_person(page: Page, text: str, seed: int) -> None:
    pauses = random.Random(seed)
    box = page.get_by_label("搜索服务")
    box.click()
    for key in text:
        page.keyboard.type(key)
        page.wait_for_timeout(pauses.randint(50, 200))


def _results(page: Page) -> list[str]:
    return page.locator("#tb-search-results .tb-service-list__item h3").all_inner_texts()


@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_results_follow_the_typing_at_360_px(demo: Flask, live_server: helpers.LiveServer,
                                             narrow_page: Page, screenshot, elder: bool) -> None:  # type: ignore[no-untyped-def]
    page, base = narrow_page, live_server.url
    _elder(page, base, elder)
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="按人生事件")).to_be_visible()
    assert_clean(page)

    _type_like_a_person(page, "hkqr", seed=17)
    expect(page.get_by_role("status")).to_have_text("找到 1 项服务。")
    assert _results(page) == ["户口迁入"]
    assert page.url.endswith("/?q=hkqr")  # the address follows, for the back button and sharing
    assert page.evaluate(WIDTH) <= 0
    assert_clean(page)
    screenshot(page, "hkqr-elder" if elder else "hkqr")

    for _ in "hkqr":
        page.keyboard.press("Backspace")
        page.wait_for_timeout(80)
    _type_like_a_person(page, "落户", seed=6)
    expect(page.get_by_role("status")).to_have_text("找到 2 项服务。")
    assert _results(page) == ["户口迁入", "上海市居住证积分申请"]
    expect(page.get_by_label("搜索服务")).to_be_focused()  # typing never loses the box

    page.get_by_label("搜索服务").fill("")
    expect(page.get_by_role("heading", name="全部事项")).to_be_visible()
    expect(page.locator("#tb-search-status")).to_have_text("")

    page.get_by_role("link", name="落户 (1 项服务)").click()
    expect(page.locator("main")).to_contain_text("人生事件：落户")
    assert _results(page) == ["户口迁入"]
    page.get_by_role("link", name="户口迁入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("户口迁入")

    page.goto(base + "/?department=sh-gaj&q=落户")
    assert _results(page) == ["户口迁入"]
    assert page.evaluate(WIDTH) <= 0
    assert_clean(page)


def test_the_search_form_works_with_javascript_off(demo: Flask, live_server: helpers.LiveServer,
                                                   narrow_page_nojs: Page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, base = narrow_page_nojs, live_server.url
    page.goto(base + "/")
    page.get_by_label("搜索服务").fill("居住证")
    page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_url(lambda url: "q=" in url)
    expect(page.get_by_role("status")).to_have_text("找到 1 项服务。")
    assert _results(page) == ["上海市居住证积分申请"]
    screenshot(page, "nojs")  # axe and the width need JavaScript: the test above measures them

    page.goto(base + "/")
    page.get_by_role("link", name="上海市公安局 (2 项服务)").click()
    expect(page.locator("main")).to_contain_text("部门：上海市公安局")
    assert _results(page) == ["户口迁入", "新生儿出生登记"]
