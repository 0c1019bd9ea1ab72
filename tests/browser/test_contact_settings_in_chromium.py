"""Issue 15 in headless Chromium: a citizen opens their contact settings from the header, types an
email address and a mobile number at a person's speed, is told what is wrong beside the field
(the error summary takes focus), corrects it and switches to English; with JavaScript on and
off. Pages scanned with axe, and measured in 长辈版 (60 px targets, 18 px text)."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session, col

from tongban.models import AuditEvent, User

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
    from .axe import assert_clean
    from .test_elder_mode import SizeAudit
except ImportError:
    from axe import assert_clean  # type: ignore[no-redef]
    from test_elder_mode import SizeAudit  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

_type = flows.type_like_a_person


def _clean(page: Page, js: bool = True) -> None:
    if js:  # axe runs in the page: the pages are scanned in the JavaScript run
        assert_clean(page)


def _citizen(session: Session) -> User:
    session.rollback()  # a fresh read: the requests committed since the last one
    return session.scalars(select(User).where(col(User.username) == "citizen")).one()


def test_a_citizen_corrects_a_mistyped_number_and_switches_to_english(
        demo, live_server, browser_page, session) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    base = live_server.url
    flows.sign_in(page, base)
    with page.expect_navigation():
        page.click("header a:text-is('联系方式设置')")
    expect(page.locator("main h1")).to_have_text("联系方式设置")
    _clean(page, js)
    _type(page, "#email", "zhang.san@example.cn")
    _type(page, "#phone", "138 0013 800")  # one digit short
    page.check("#by_email")
    page.check("#by_sms")
    with page.expect_navigation():
        page.click("main button:has-text('保存设置')")
    summary = page.locator(".tb-error-summary")
    message = "请输入中国大陆手机号码：以 13 至 19 开头的 11 位数字，例如 13800138000"
    expect(summary.locator("a")).to_have_text([message])
    if js:
        expect(summary).to_be_focused()
    expect(page.locator("#phone-error")).to_contain_text(message)
    expect(page.locator("#phone")).to_have_attribute("aria-describedby", "phone-hint phone-error")
    expect(page.locator("#email")).to_have_value("zhang.san@example.cn")  # answers kept
    expect(page.locator("#by_sms")).to_be_checked()
    _clean(page, js)
    assert _citizen(session).phone is None  # nothing saved
    summary.locator("a").click()
    if js:
        expect(page.locator("#phone")).to_be_focused()
    _type(page, "#phone", "138 0013 8000")
    page.check("#language-en")
    with page.expect_navigation():
        page.click("main button:has-text('保存设置')")
    expect(page.locator("main [role=status]")).to_have_text("Your contact settings are saved.")
    expect(page.locator("main h1")).to_have_text("Contact settings")
    expect(page.locator("#phone")).to_have_value("13800138000")
    _clean(page, js)
    user = _citizen(session)
    assert (user.email, user.phone, user.language) == ("zhang.san@example.cn", "13800138000", "en")
    assert (user.notify_email, user.notify_sms) == (True, True)
    assert session.scalars(select(AuditEvent).where(col(AuditEvent.action) == "user.contact",
                                                    col(AuditEvent.actor_id) == user.id)).one()


def test_the_settings_page_is_big_enough_in_elder_mode(
        demo, live_server, page, measure, screenshot) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    page.goto(base + "/")
    with page.expect_event("load"):
        page.click("header button:has-text('长辈版')")
    flows.sign_in(page, base)
    audit = SizeAudit(page, measure, True)
    page.goto(base + "/my/settings")
    audit.check("contact settings")
    _type(page, "#email", "not an address")
    with page.expect_navigation():
        page.click("main button:has-text('保存设置')")
    expect(page.locator(".tb-error-summary")).to_be_visible()
    audit.check("contact settings, error state")
    screenshot(page, "elder-error")
    _clean(page)
    audit.assert_ok()
