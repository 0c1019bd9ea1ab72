"""Issue 13 item 3: the public self-check calculator in Chromium at phone width with JavaScript
on: the form engine's own questions (the birth date filled in from the ID number as the
application form does), missing answers named in the error summary, and the same total as the
engine's `evaluate`, with nothing sticking out sideways."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from tongban.forms.formats import id_number_check_character
from tongban.points import evaluate, rules_for
from tongban.worktime import TZ, local_day

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_narrow_screens import NARROW, OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

ID_17 = "31010419900307201"
ID_NUMBER = ID_17 + id_number_check_character(ID_17)


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """A 360x740 phone-sized window, JavaScript on, zh-CN."""
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def _no_sideways_scroll(page: Page) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["extra"] <= 0, found


def test_a_citizen_checks_residence_points_on_a_phone_without_signing_in(
        demo, live_server, narrow_page, session) -> None:  # type: ignore[no-untyped-def]
    page, base = narrow_page, live_server.url
    page.goto(base + "/points/sh-residence-points/check")
    expect(page.locator("h1")).to_have_text("回答积分规则用到的问题")
    _no_sideways_scroll(page)

    flows.fill(page, {"applicant.id_number": ID_NUMBER, "education.level": "master"})
    page.locator('[name="social_insurance.months"]').focus()
    # The form's own rule fills the birth date in from the ID number, as on the application.
    expect(page.locator("#f-applicant-birth_date")).to_contain_text("1990")
    flows.send(page)
    assert flows.error_summary_items(page) == [
        "请选择是否持有专业技术职称或职业技能等级证书", "请填写在本市缴纳职工社会保险的累计月数",
        "请选择近 4 年缴费基数相当于上年度本市职工平均工资的倍数", "请选择我有严重刑事犯罪记录"]
    expect(page.locator("#result")).to_have_count(0)
    _no_sideways_scroll(page)

    flows.fill(page, {"qualification.kind": "none", "social_insurance.months": "60",
                      "social_insurance.base_band": "1_to_2",
                      "social_insurance.base_months": "48", "record.serious_crime": "false"})
    flows.send(page)
    answers = {"applicant": {"id_number": ID_NUMBER, "birth_date": "1990-03-07"},
               "education": {"level": "master"}, "qualification": {"kind": "none"},
               "social_insurance": {"months": 60, "base_band": "1_to_2", "base_months": 48},
               "record": {"serious_crime": False}}
    expected = evaluate(rules_for(session, "sh-residence-points"), answers, local_day(datetime.now(TZ)))
    result = page.locator("#result")
    expect(result).to_be_visible()
    expect(result.locator(".tb-points-total")).to_have_text(f"总分：{expected.total} 分")
    rows = page.locator(".tb-points-explanation .tb-summary-list__value").all_inner_texts()
    assert rows == [i["explanation"]["zh"] for i in expected.to_json()["indicators"]]
    _no_sideways_scroll(page)
    # The answers stay on the page to change and work out again.
    expect(page.locator('[name="education.level"][value="master"]')).to_be_checked()


def test_the_public_points_pages_have_no_axe_violations(demo, live_server, page) -> None:  # type: ignore[no-untyped-def]
    try:
        from .test_accessibility import Scanner
    except ImportError:
        from test_accessibility import Scanner  # type: ignore[no-redef]

    base, scanner = live_server.url, Scanner(page)
    for path in ("/points", "/points/sh-residence-points", "/points/enterprise-credit",
                 "/points/enterprise-credit/check"):
        page.goto(base + path)
        scanner.scan(path)
    page.click("form[data-tb-form] button[value=continue]")
    scanner.scan("self-check with missing answers")
    flows.fill(page, {"enterprise.established_on:year": "2019",
                      "enterprise.established_on:month": "4",
                      "enterprise.established_on:day": "1", "compliance.tax_rating": "A",
                      "compliance.penalties": "0", "compliance.enforcement_records": "0",
                      "compliance.si_arrears_months": "0"})
    flows.send(page)
    expect(page.locator("#result")).to_be_visible()
    scanner.scan("self-check result")
    scanner.assert_clean()
