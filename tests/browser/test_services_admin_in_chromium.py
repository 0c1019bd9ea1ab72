"""/admin/services in Chromium: a department administrator lists their services, creates one
from the blank template, opens its publish page (checks and diff) and publishes it; axe finds
nothing on any of these pages, an error state included, and none scrolls sideways at 360 px."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe import run_axe, summarize
from playwright.sync_api import Browser, Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
except ImportError:
    import helpers  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]


def clean(page: Page, name: str, found: dict[str, str]) -> None:
    violations = run_axe(page, needs_review=True)
    if violations:
        found[name] = summarize(violations)


def test_list_create_and_publish_a_service(demo, live_server, page: Page) -> None:  # type: ignore[no-untyped-def]
    base, found = live_server.url, {}
    flows.sign_in(page, base, "cgjadmin")
    page.goto(base + "/admin/services")
    expect(page.locator("h1")).to_have_text("服务事项")
    expect(page.locator("main")).to_contain_text("urban-event-report")
    clean(page, "list", found)

    page.click("main a:has-text('新建服务')")
    page.click("main button:has-text('创建服务')")  # nothing filled in
    expect(page.locator(".tb-error-summary")).to_contain_text("请输入服务的中文名称。")
    clean(page, "new, with errors", found)
    page.fill("#code", "street-stall")
    page.fill("#name_zh", "临时摊位申请")
    page.fill("#name_en", "Temporary stall permit")
    page.select_option("#department", "sh-cgj")
    page.click("main button:has-text('创建服务')")
    expect(page.locator("h1")).to_have_text("临时摊位申请")
    expect(page.locator(".tb-tag")).to_have_text("草稿")
    clean(page, "service page", found)

    page.click("main a:has-text('检查并发布')")
    expect(page.locator("main")).to_contain_text("全部检查通过。")
    expect(page.locator("main")).to_contain_text("新文件")
    clean(page, "publish", found)
    page.fill("#comment", "首次上线")
    page.click("main button:has-text('发布')")
    expect(page.get_by_role("status")).to_contain_text("已发布。")
    expect(page.locator(".tb-tag")).to_have_text("已发布")
    clean(page, "service page, published", found)

    page.goto(base + "/admin/services/street-stall/files/form_definitions/street-stall.json")
    clean(page, "file view", found)
    page.goto(base + "/services/street-stall")
    expect(page.locator("h1")).to_contain_text("临时摊位申请")
    assert not found, "\n".join(f"{name}:\n{report}" for name, report in found.items())


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, viewport={"width": 360, "height": 740})


def test_the_workspace_pages_fit_a_phone(demo, live_server, narrow_page: Page) -> None:  # type: ignore[no-untyped-def]
    base, page = live_server.url, narrow_page
    flows.sign_in(page, base, "admin")
    wide: dict[str, int] = {}
    for path in ("/admin/services", "/admin/services/new",
                 "/admin/services/household-transfer",
                 "/admin/services/household-transfer/publish",
                 "/admin/services/household-transfer/files/workflow_definitions/flows/"
                 "household-transfer.yaml"):
        page.goto(base + path)
        extra = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if extra > 0:
            wide[path] = extra
    assert not wide, wide
