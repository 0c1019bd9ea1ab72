"""Issue 14 item 9: the dashboards in Chromium. With JavaScript each figure is an ECharts
canvas with its table folded beneath; without it the tables are the page. No axe violations
either way, and nothing sticks out of a 360 px phone, with the tables unfolded too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from tests.console.history_world import NOW, seed

from tongban.web import dashboards

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_accessibility import Scanner
    from .test_narrow_screens import NARROW, OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from test_accessibility import Scanner  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

FIGURES = 7
QUERY = "from=2025-12-01&to=2026-11-30&period=month"


@pytest.fixture
def history(demo: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dashboards, "now", lambda: NOW)
    seed(demo, 400)
    return demo


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _open(page: Page, base: str) -> None:
    flows.sign_in(page, base, "admin")
    page.goto(f"{base}/admin/dashboards?{QUERY}")


def test_each_figure_is_a_chart_with_its_table_folded_and_axe_finds_nothing(
        history, live_server, page, browser_errors):
    _open(page, live_server.url)
    charts = page.locator(".tb-dash__chart canvas")
    charts.first.wait_for()
    assert charts.count() == FIGURES
    assert page.locator(".tb-dash__chart[hidden]").count() == 0
    assert page.locator("details.tb-dash__details[open]").count() == 0
    box = page.locator("#volumes .tb-dash__chart").bounding_box()
    assert box is not None and box["height"] >= 300 and box["width"] > 600
    scanner = Scanner(page)
    scanner.scan("dashboards with charts")
    page.locator("#returns summary").click()
    assert page.locator("#returns-table").is_visible()
    scanner.scan("dashboards with a table unfolded")
    page.goto(f"{live_server.url}/admin/dashboards?from=2026-13-01")
    scanner.scan("dashboards with a bad filter")
    assert [error for error in browser_errors.take() if "400 (BAD REQUEST)" not in error] == []
    scanner.assert_clean()


def test_without_javascript_the_tables_are_the_page_and_the_filters_work(
        history, live_server, page_nojs):
    page = page_nojs  # axe needs JavaScript: the tables' markup is scanned unfolded above
    _open(page, live_server.url)
    assert page.locator("canvas").count() == 0
    assert page.locator("details.tb-dash__details[open]").count() == FIGURES
    assert page.locator("#volumes-table").is_visible()
    assert page.locator("#closed_loop-table tbody tr").count() == 12
    page.select_option("#period", "week")
    page.select_option("#service", "urban-event-report")
    page.click("main button:has-text('查看数据')")
    assert "period=week" in page.url and "service=urban-event-report" in page.url
    assert page.locator("#volumes-table thead th").all_inner_texts() == \
        ["周（自周一起）", "城市管理事件上报", "合计"]


def test_the_dashboards_fit_a_360_px_phone_with_charts_and_with_tables(
        history, live_server, narrow_page):
    page = narrow_page
    _open(page, live_server.url)
    page.locator(".tb-dash__chart canvas").first.wait_for()
    assert page.locator(".tb-dash__chart canvas").count() == FIGURES
    overflow = page.evaluate(OVERFLOW)
    assert overflow["extra"] == 0, overflow
    for summary in page.locator("summary.tb-dash__summary").all():
        summary.click()
    assert page.locator("#volumes-table").is_visible()
    overflow = page.evaluate(OVERFLOW)
    assert overflow["extra"] == 0, overflow
    Scanner(page).scan("dashboards on a phone")
