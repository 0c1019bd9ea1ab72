"""Issue 10 §4: "when you saw it" can't be in the future, in the browser too: the inline check
on leaving the date (JavaScript on) and the page's own check (JavaScript off)."""

from __future__ import annotations

import datetime

from playwright.sync_api import expect

from tongban.forms import date_limits

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]


def test_a_date_seen_in_the_future_is_refused_inline_and_on_the_page(
        demo, live_server, browser_page):  # type: ignore[no-untyped-def]
    page, js = browser_page
    later = date_limits.today() + datetime.timedelta(days=400)
    flows.sign_in(page, live_server.url)
    flows.start(page, live_server.url, "urban-event-report")
    flows.fill(page, {"event.category": "facilities", "event.facility_kind": "manhole"})
    boxes = {"year": later.year, "month": later.month, "day": later.day}
    if js:
        # Fill the three boxes, then leave the date (the inline check runs when focus leaves
        # the whole question; typing at human speed belongs to the date-typing tests).
        for part, value in boxes.items():
            page.fill(f'[name="event.happened_on:{part}"]', str(value))
        page.locator('[name="event.happened_on:day"]').press("Tab")
        expect(page.locator("#f-event-happened_on-error")).to_contain_text("发现日期不能晚于今天")
    else:
        flows.answer(page, {f"event.happened_on:{part}": value for part, value in boxes.items()})
        assert "发现日期不能晚于今天" in flows.inline_errors(page)
    assert flows.current_page_id(page) == "event"
    expect(page.locator('[name="event.happened_on:year"]')).to_have_value(str(later.year))
