"""Issue 10, section 4: switching language or 长辈版 on a form page keeps typed, unsaved answers,
with JavaScript and without; the Enter key still means Continue."""

from __future__ import annotations

from playwright.sync_api import Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]

DESCRIPTION = flows.URBAN_PAGES[0][1]["event.description"]


def _switch(page: Page, label: str) -> None:
    with page.expect_event("load"):
        page.click(f"header button:has-text('{label}')")


def _answers_kept(page: Page) -> None:
    assert flows.current_page_id(page) == "event", page.url
    expect(page.locator('[name="event.category"][value="facilities"]')).to_be_checked()
    expect(page.locator('[name="event.facility_kind"][value="manhole"]')).to_be_checked()
    expect(page.locator('[name="event.description"]')).to_have_value(DESCRIPTION)


def test_switching_language_and_mode_on_a_form_page_keeps_what_was_typed(
        demo, live_server, browser_page):
    page, _js = browser_page
    flows.start(page, live_server.url, "urban-event-report")
    assert flows.current_page_id(page) == "event"
    page.check('[name="event.category"][value="facilities"]')
    page.check('[name="event.facility_kind"][value="manhole"]')
    page.fill('[name="event.description"]', DESCRIPTION)

    _switch(page, "English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("What happened")
    _answers_kept(page)

    _switch(page, "Elderly-friendly version")
    expect(page.locator("body")).to_have_class("tb-elder")
    _answers_kept(page)

    _switch(page, "中文")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    _switch(page, "标准版")
    expect(page.locator("body")).not_to_have_class("tb-elder")
    _answers_kept(page)
    expect(page.locator(".tb-error-message")).to_have_count(0)  # nothing judged on the way


def test_the_enter_key_on_a_form_page_still_means_continue(demo, live_server, browser_page):
    page, _js = browser_page
    flows.start(page, live_server.url, "urban-event-report")
    flows.answer(page, flows.URBAN_PAGES[0][1])
    assert flows.current_page_id(page) == "location"
    page.fill('[name="location.address"]', "漕溪北路 100 号门口")
    with page.expect_event("load"):
        page.press('[name="location.address"]', "Enter")
    # Continue judged the page (the district is missing); the language did not change.
    assert flows.current_page_id(page) == "location"
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".tb-error-summary")).to_be_visible()
    expect(page.locator('[name="location.address"]')).to_have_value("漕溪北路 100 号门口")
