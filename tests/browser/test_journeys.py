"""The two demo journeys end to end in headless Chromium, once with JavaScript and once without.

Each run makes a mistake and corrects it (error summary at the top, taking focus and linking
to the field; the same words inline; every typed answer kept), sees a
conditional question appear (with JavaScript without a reload; without it the question is
there from the start under a note saying when it applies, and is asked for when it does),
uploads a real file, uses a 更改 link on check answers and comes back, ticks the declaration,
sends, and gets a reference number. Key pages are saved under test-output/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]

REFERENCE = re.compile(r"^[A-Z0-9][A-Z0-9-]{7,}$")
Screenshot = Callable[[Page, str], Path]


def _mark_document(page: Page) -> None:
    """Leave a mark in the current document: gone after any reload or navigation."""
    page.evaluate("window.__tbSameDocument = true")


def _same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__tbSameDocument === true"))


def _assert_error_shown(page: Page, field_id: str, message: str) -> None:
    """GOV.UK error pattern: title, summary above the heading, focus, link, same words inline."""
    assert page.title().startswith("错误")
    summary = page.locator(".tb-error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator(".tb-error-summary__title")).to_have_text("出现了问题")
    assert flows.error_summary_items(page) == [message]
    assert flows.inline_errors(page) == [message]
    heading = page.locator("main h1").first
    assert summary.bounding_box()["y"] < heading.bounding_box()["y"]  # type: ignore[index]
    # The summary takes focus: forms.js moves it, and its autofocus does so without JavaScript.
    expect(summary).to_be_focused()
    link = summary.locator("a")
    assert link.get_attribute("href") == f"#{field_id}"
    field = page.locator(f"#{field_id}")
    assert field.get_attribute("aria-invalid") == "true"
    assert f"{field_id}-error" in (field.get_attribute("aria-describedby") or "")
    link.click()
    expect(field).to_be_focused()
    assert page.url.endswith(f"#{field_id}")


# --------------------------------------------------------------------------- residence points


def test_residence_points_application_end_to_end(demo, live_server, browser_page, screenshot):
    page, js = browser_page
    base = live_server.url
    flows.sign_in(page, base)
    flows.start(page, base, "residence-points")
    expect(page.locator(".tb-task-list")).to_contain_text("申请人")
    screenshot(page, "task-list")
    flows.open_task(page, "申请人")

    # A wrong check digit: refused, explained twice in the same words, nothing typed is lost.
    applicant = dict(flows.RESIDENCE_PAGES[0][1])
    wrong_id = flows.VALID_ID[:-1] + ("0" if flows.VALID_ID[-1] != "0" else "1")
    flows.answer(page, {**applicant, "applicant.id_number": wrong_id})
    _assert_error_shown(page, "f-applicant-id_number", "身份证号码校验位不正确，请核对最后一位。")
    for name, value in {**applicant, "applicant.id_number": wrong_id}.items():
        expect(page.locator(f'[name="{name}"]')).to_have_value(value)
    screenshot(page, "applicant-error")
    flows.answer(page, applicant)
    assert flows.current_page_id(page) == "education"

    flows.answer(page, flows.RESIDENCE_PAGES[1][1])
    assert flows.current_page_id(page) == "qualification"

    # Choosing a skill level certificate asks which level.
    skill_level = page.locator("#f-qualification-skill_level-group")
    # The inline script that marks a page with JavaScript runs: the CSP allows it by its hash.
    assert page.evaluate("document.documentElement.classList.contains('tb-js')") is js
    if js:
        expect(skill_level).to_be_hidden()
    else:
        expect(skill_level).to_be_visible()
        expect(skill_level.locator(".tb-conditional-note")).to_have_text(
            "如果“是否持有专业技术职称或职业技能等级证书”选择了“职业技能等级（国家职业资格）”，请回答此问题。")
    if js:
        _mark_document(page)
        page.check('[name="qualification.kind"][value="skill"]')
        expect(skill_level).to_be_visible()
        assert _same_document(page), "the question appeared by reloading the page"
    else:
        page.check('[name="qualification.kind"][value="skill"]')
        flows.send(page)
        assert flows.current_page_id(page) == "qualification"
        expect(skill_level).to_be_visible()
        expect(page.locator('[name="qualification.kind"][value="skill"]')).to_be_checked()
    screenshot(page, "qualification-skill-level")
    flows.answer(page, {"qualification.skill_level": "3"})

    for page_id, answers in flows.RESIDENCE_PAGES[3:]:
        assert flows.current_page_id(page) == page_id, page.url
        flows.answer(page, answers)

    # Uploads: real PDF and PNG bytes, each to its question.
    assert flows.current_page_id(page) == "materials"
    accept = page.get_attribute('input[name="materials.diploma"]', "accept") or ""
    assert {"application/pdf", "image/jpeg", "image/png"} <= set(accept.split(",")), accept
    flows.upload(page, "materials.id_card", "身份证.pdf", flows.PDF, "application/pdf")
    flows.upload(page, "materials.residence_permit", "居住证.pdf", flows.PDF, "application/pdf")
    flows.upload(page, "materials.diploma", "学位证书.png", flows.PNG, "image/png")
    flows.upload(page, "materials.qualification_certificate", "技能证书.pdf", flows.PDF,
                 "application/pdf")
    screenshot(page, "materials")
    flows.send(page)

    _check_change_and_send(page, screenshot, expected=["计算机科学与技术", "身份证.pdf",
                                                           "学位证书.png", "三级（高级工）"],
                           change_page="education", change={"education.level": "doctor"},
                           changed_to="博士研究生学历学位")


# --------------------------------------------------------------------------- urban event report


def test_urban_event_report_end_to_end(demo, live_server, browser_page, screenshot):
    page, js = browser_page
    flows.start(page, live_server.url, "urban-event-report")  # no sign-in: anonymous reports
    assert flows.current_page_id(page) == "event"

    # The category decides which list of problems is asked.
    facility_kind = page.locator("#f-event-facility_kind-group")
    if js:
        expect(facility_kind).to_be_hidden()
    else:  # every sub-category list is there, each saying which category it is for
        expect(facility_kind).to_be_visible()
        expect(facility_kind.locator(".tb-conditional-note")).to_contain_text("市政设施")
    event = dict(flows.URBAN_PAGES[0][1])
    if js:
        _mark_document(page)
        page.check('[name="event.category"][value="facilities"]')
        expect(facility_kind).to_be_visible()
        expect(page.locator("#f-event-environment_kind-group")).to_be_hidden()
        assert _same_document(page), "the question appeared by reloading the page"
    else:
        flows.answer(page, {"event.category": "facilities",
                            "event.description": event["event.description"]})
        assert flows.current_page_id(page) == "event"
        expect(facility_kind).to_be_visible()
        expect(page.locator('[name="event.description"]')).to_have_value(
            event["event.description"])
    screenshot(page, "event-sub-category")
    flows.answer(page, event)

    assert flows.current_page_id(page) == "location"
    flows.choose_region(page, "location.region", "310104")
    flows.answer(page, {"location.address": flows.URBAN_PAGES[1][1]["location.address"]})

    assert flows.current_page_id(page) == "photos"
    assert "image/png" in (page.get_attribute('input[name="photos.photo"]', "accept") or "")
    flows.upload(page, "photos.photo", "现场照片.png", flows.PNG, "image/png")
    flows.send(page)

    # Reporting anonymously hides the contact questions; a wrong mobile number is refused.
    assert flows.current_page_id(page) == "reporter"
    contact = page.locator("#f-reporter-mobile-group")
    expect(contact).to_be_visible()
    if js:
        _mark_document(page)
        page.check('[name="reporter.anonymous"][value="true"]')
        expect(contact).to_be_hidden()
        expect(page.locator("#f-reporter-name-group")).to_be_hidden()
        page.check('[name="reporter.anonymous"][value="false"]')
        expect(contact).to_be_visible()
        assert _same_document(page)
    reporter = dict(flows.URBAN_PAGES[3][1])
    flows.answer(page, {**reporter, "reporter.mobile": "1380013"})
    _assert_error_shown(page, "f-reporter-mobile", "请输入11位手机号码。")
    expect(page.locator('[name="reporter.name"]')).to_have_value("王五")
    expect(page.locator('[name="reporter.mobile"]')).to_have_value("1380013")
    expect(page.locator('[name="reporter.anonymous"][value="false"]')).to_be_checked()
    screenshot(page, "reporter-error")
    flows.answer(page, reporter)

    _check_change_and_send(page, screenshot,
                           expected=["市政设施", "窨井盖缺损", "徐汇区", "现场照片.png", "王五"],
                           change_page="location",
                           change={"location.address": "漕溪北路 200 号对面"},
                           changed_to="漕溪北路 200 号对面")


def test_save_and_come_back_later_keeps_the_answers(demo, live_server, browser_page, screenshot):
    page, _js = browser_page
    flows.start(page, live_server.url, "urban-event-report")
    event = {"event.category": "facilities",
             "event.description": flows.URBAN_PAGES[0][1]["event.description"]}
    flows.fill(page, event)
    with page.expect_event("load"):
        page.click("button:has-text('保存，稍后再填')")

    assert page.url.endswith("/saved"), page.url
    expect(page.locator("h1")).to_have_text("您的回答已保存")
    resume_link = page.locator("#resume-link").input_value()
    screenshot(page, "saved")
    page.goto(resume_link)
    assert flows.current_page_id(page) == "location"
    with page.expect_event("load"):
        page.click("a.tb-back-link")
    assert flows.current_page_id(page) == "event"
    expect(page.locator('[name="event.category"][value="facilities"]')).to_be_checked()
    expect(page.locator('[name="event.description"]')).to_have_value(event["event.description"])


# --------------------------------------------------------------------------- shared ending


def _check_change_and_send(page: Page, screenshot: Screenshot, *, expected: list[str],
                           change_page: str, change: dict[str, str], changed_to: str) -> None:
    """Check answers: change one answer through its 更改 link and come back; the declaration
    must be ticked; then the confirmation with its reference number."""
    assert page.url.endswith("/check"), page.url
    main = page.locator("main")
    for text in expected:
        expect(main).to_contain_text(text)
    screenshot(page, "check-answers")

    [name] = change
    field_id = "f-" + name.replace(".", "-")
    link = page.locator(f'a[href*="/pages/{change_page}?from=check#{field_id}"]')
    expect(link).to_have_count(1)
    expect(link).to_contain_text("更改")
    with page.expect_event("load"):
        link.click()
    assert flows.current_page_id(page) == change_page
    assert "from=check" in page.url
    flows.answer(page, change)
    assert page.url.endswith("/check"), "更改 should come back to check answers"
    expect(main).to_contain_text(changed_to)

    # Sending without the declaration is refused with the GOV.UK error pattern.
    with page.expect_event("load"):
        page.click("button:has-text('确认并提交')")
    expect(page.locator(".tb-error-summary")).to_be_focused()
    expect(page.locator(".tb-error-summary a")).to_have_attribute("href", "#declaration")
    page.check("#declaration")
    with page.expect_event("load"):
        page.click("button:has-text('确认并提交')")

    assert page.url.endswith("/confirmation"), page.url
    expect(page.locator("h1")).to_have_text("申请已提交")
    reference = page.locator(".tb-reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    expect(main).to_contain_text("您的申请编号")
    screenshot(page, "confirmation")
