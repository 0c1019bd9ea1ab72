"""Issue 14 item 8 in Chromium: a department administrator grants a role and deactivates an
account (whose open browser is signed out at once); every staff administration page has no axe
violations and does not scroll sideways at 360 px, in Chinese and in English (with the plugin
page of issue 15)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest
from axe import run_axe, summarize
from playwright.sync_api import Browser, Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_narrow_screens import OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from test_narrow_screens import OVERFLOW  # type: ignore[no-redef]  # same module, rootdir-relative

    import flows  # type: ignore[no-redef]


def clean(page: Page, name: str) -> None:
    violations = run_axe(page, needs_review=True)
    assert not violations, f"{name}:\n{summarize(violations)}"


def fits(page: Page, name: str) -> None:
    overflow = page.evaluate(OVERFLOW)
    assert overflow["extra"] <= 0, f"{name} scrolls sideways: {overflow}"


@pytest.fixture
def other_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """A second browser: the person whose account is administered."""
    yield from helpers.new_page(chromium, browser_errors, **helpers.DESKTOP)


def test_a_department_admin_grants_a_role_and_deactivates_an_account(
        demo, live_server, page: Page, other_page: Page) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    flows.sign_in(other_page, base, "rsj_xuhui")
    other_page.goto(base + "/review")
    expect(other_page.locator(".tb-header__user")).to_be_visible()

    flows.sign_in(page, base, "deptadmin")
    page.goto(base + "/admin/users")
    page.fill("#q", "许初审")
    page.click("button:has-text('查找')")
    page.click("table a:has-text('rsj_xuhui')")
    expect(page.locator("h1")).to_contain_text("许初审")
    clean(page, "user page")

    # Only the administrator's own departments are offered; a role held already is refused.
    expect(page.locator("#grant-department option[value=sh-gaj-xuhui]")).to_have_count(0)
    expect(page.locator("#grant-role option[value=platform_admin]")).to_have_count(0)
    page.select_option("#grant-role", "reviewer")
    page.select_option("#grant-department", "sh-rsj-xuhui")
    page.click("button:has-text('授予角色')")
    expect(page.locator(".tb-error-summary")).to_contain_text("rsj_xuhui 在该部门已有此角色。")
    clean(page, "grant refused")

    page.select_option("#grant-role", "counter_clerk")
    page.select_option("#grant-department", "sh-rsj-xuhui")
    page.click("button:has-text('授予角色')")
    expect(page.locator("[role=status]")).to_contain_text("角色已授予。")
    expect(page.locator("#roles + table")).to_contain_text("窗口受理人员")
    clean(page, "granted")

    page.click("button:has-text('停用账号并在所有设备上退出登录')")
    expect(page.locator("[role=status]")).to_contain_text("账号已停用，其所有会话已结束。")
    expect(page.locator("#trail ~ table")).to_contain_text("user.deactivate")
    clean(page, "deactivated")

    other_page.goto(base + "/review")
    expect(other_page).to_have_url(base + "/login?next=%2Freview")
    expect(other_page.locator(".tb-header__user")).to_have_count(0)


def _submit(page: Page, fields: dict[str, str], button: str = "main form button.tb-button") -> None:
    for selector, value in fields.items():
        page.fill(selector, value)
    page.click(button)


def _sign_in(page: Page, base: str, password: str) -> None:
    page.goto(base + "/login")  # by the form's button: its label changes with the language
    _submit(page, {"#username": "admin", "#password": password})


def _visit_everything(page: Page, base: str, check) -> None:  # type: ignore[no-untyped-def]
    """Every staff administration page, with an error state where there is one."""

    def refused(fields: dict[str, str], name: str, button: str = "main form button.tb-button"
                ) -> None:
        _submit(page, fields, button)
        expect(page.locator(".tb-error-summary")).to_be_visible()
        check(page, name)

    _sign_in(page, base, flows.DEMO_PASSWORD)
    expect(page.locator(".tb-header__user")).to_be_visible()
    for path, name in [("/admin/users", "users"), ("/admin/departments", "departments"),
                       ("/admin/users/import", "import"), ("/admin/security", "security"),
                       ("/admin/plugins", "plugins"),  # issue 15: plugins and their health
                       ("/admin/notifications", "notifications")]:  # issue 15: deliveries
        page.goto(base + path)
        check(page, name)
    page.goto(base + "/admin/users?q=rsj_city2")
    page.click("table a:has-text('rsj_city2')")
    check(page, "user")
    page.click("main button:has-text('重置密码'), main button:has-text('Reset the password')")
    expect(page.locator(".tb-secret")).to_be_visible()
    check(page, "one-time password")
    heading = "username,display_name,department_code,roles\n"
    page.goto(base + "/admin/users/import")
    _submit(page, {"#text": heading + "li.ming,李明,sh-rsj-xuhui,reviewer;department_admin\n"},
            "main button[value=dry_run]")
    expect(page.locator("main form button.tb-button")).to_be_visible()
    check(page, "import dry run")
    page.goto(base + "/admin/users/import")
    refused({"#text": heading + "li.ming,李明,sh-x,reviewer\n"}, "import bad row",
            "main button[value=dry_run]")
    page.goto(base + "/admin/security")
    refused({"#min_length": "3"}, "security error")
    page.goto(base + "/account/two-step")
    check(page, "two-step enrolment")
    key = page.locator(".tb-secret").inner_text().replace(" ", "")
    refused({"#code": "000000"}, "two-step enrolment error")
    _submit(page, {"#code": pyotp.TOTP(key).now()})
    expect(page.locator(".tb-secret")).to_have_count(10)
    check(page, "recovery codes")
    page.click("main a.tb-button")
    check(page, "two-step status")
    page.goto(base + "/account/password")
    refused({"#current": "wrong"}, "change password error")
    new = "A-new-password-2026"
    _submit(page, {"#current": flows.DEMO_PASSWORD, "#new": new, "#again": new})
    expect(page.locator(".tb-panel--confirmation")).to_be_visible()
    check(page, "password changed")
    # Signing in again asks for the code: the second step, with an error.
    page.click("header form[action='/logout'] button")
    _sign_in(page, base, new)
    expect(page.locator("#code")).to_be_visible()
    check(page, "second step")
    refused({"#code": "12345"}, "second step error")
    _submit(page, {"#code": pyotp.TOTP(key).at(time.time() + 30)})
    expect(page.locator(".tb-header__user")).to_be_visible()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_staff_page_is_clean_and_fits_a_phone(demo, live_server, chromium: Browser,  # type: ignore[no-untyped-def]
                                                    browser_errors, language: str) -> None:
    pages = helpers.new_page(chromium, browser_errors, viewport={"width": 360, "height": 740})
    page = next(pages)
    base = live_server.url
    if language == "en":
        page.goto(base + "/")
        page.click("header button:has-text('English')")

    def check(page: Page, name: str) -> None:
        page.wait_for_load_state("load")
        fits(page, f"{name} ({language})")
        clean(page, f"{name} ({language})")

    flows.a_notification_for(demo, "admin", state="failed")  # the admin page lists it
    try:
        _visit_everything(page, base, check)
    finally:
        pages.close()
