"""A calculated answer in the browser: forms.js never shows a value made from a refused answer."""

from __future__ import annotations

from playwright.sync_api import expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows
except ImportError:
    import flows  # type: ignore[no-redef]


def test_no_birth_date_is_shown_from_a_refused_id_number(demo, live_server, browser_page):
    page, js = browser_page
    flows.sign_in(page, live_server.url)
    flows.start(page, live_server.url, "residence-points")
    flows.open_task(page, "申请人")
    applicant = dict(flows.RESIDENCE_PAGES[0][1])
    wrong_id = flows.VALID_ID[:-1] + ("0" if flows.VALID_ID[-1] != "0" else "1")
    flows.answer(page, {**applicant, "applicant.id_number": wrong_id})
    assert flows.inline_errors(page) == ["身份证号码校验位不正确，请核对最后一位。"]
    birth_date = page.locator("#f-applicant-birth_date")
    expect(page.locator('[name="applicant.id_number"]')).to_have_value(wrong_id)
    expect(birth_date).to_have_text("—")  # not 1990-03-07, with or without forms.js
    if js:
        # Typing into the refused answer does not calculate from it either ...
        page.fill('[name="applicant.id_number"]', wrong_id[:-1] + "Y")
        expect(birth_date).to_have_text("—")
        # ... until the inline check, on leaving the question, accepts the corrected one.
        page.fill('[name="applicant.id_number"]', flows.VALID_ID)
        page.locator('[name="applicant.mobile"]').focus()
        expect(page.locator("#f-applicant-id_number-error")).to_have_count(0)
        expect(birth_date).to_have_text("1990-03-07")
