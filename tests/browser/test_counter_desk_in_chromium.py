"""Issue 17 items 1 and 2 in headless Chromium: the 徐汇 counter clerk looks a person up by ID
number (a mistyped check character first: the summary takes focus and links to the field),
types the name the register could not confirm, scans the ID card in after checking the
original (level B), sees it among the person's materials and starts the residence-points
application on their behalf: the form says 申请人, not 您. JS on and off; axe on each page;
the person's page at 360 px without sideways scrolling."""

from __future__ import annotations

from playwright.sync_api import expect

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from ..web.journey import PDF
    from . import flows
    from .axe import assert_clean
    from .test_narrow_screens import OVERFLOW
except ImportError:
    from axe import assert_clean  # type: ignore[no-redef]
    from test_narrow_screens import OVERFLOW  # type: ignore[no-redef]
    from tests.web.journey import PDF  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

NUMBER = "310101198805120028"
WRONG_CHECK = "身份证号码校验位不正确，请核对最后一位。"


def _press(page, name: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_a_clerk_looks_a_person_up_checks_materials_and_applies_for_them(
        demo, live_server, browser_page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page, js = browser_page
    base = live_server.url
    flows.sign_in(page, base, "clerk_xuhui")
    page.goto(base + "/counter")
    expect(page.locator("main h1")).to_have_text("综合窗口")
    flows.type_like_a_person(page, "#number", NUMBER[:-1] + "9")
    _press(page, "查询")
    summary = page.locator(".tb-error-summary")
    expect(summary.locator("a")).to_have_text([WRONG_CHECK])
    expect(page.locator("#number-error")).to_contain_text(WRONG_CHECK)
    if js:
        expect(summary).to_be_focused()
        assert_clean(page)

    flows.type_like_a_person(page, "#number", NUMBER)
    _press(page, "查询")
    expect(page.locator("#register-note")).to_contain_text("无法核验")
    flows.type_like_a_person(page, "#name", "李四")
    _press(page, "保存申请人")
    expect(page.locator("main h1")).to_have_text("李四")
    expect(page.locator("#person")).to_contain_text("未核验")
    if js:
        assert_clean(page)

    with page.expect_navigation():
        page.get_by_role("link", name="核对材料：户口迁入").click()
    expect(page.locator("main h1")).to_have_text("材料核验")
    page.set_input_files("#file-id-card", files=[{"name": "身份证.pdf",
                                                  "mimeType": "application/pdf",
                                                  "buffer": PDF}])
    page.check("#checked-id-card")
    _press(page, "保存扫描件：居民身份证")
    expect(page.locator("#checklist li").first).to_contain_text("已具备")
    expect(page.locator("#checklist li").first).to_contain_text("B 级")
    if js:
        assert_clean(page)

    with page.expect_navigation():
        page.get_by_role("link", name="返回李四").click()
    expect(page.locator("#materials + table")).to_contain_text("身份证.pdf")
    if not js:  # the person's page at a phone's width, once
        page.set_viewport_size({"width": 360, "height": 740})
        found = page.evaluate(OVERFLOW)
        assert found["extra"] <= 0, f"the person's page scrolls sideways: {found}"
        screenshot(page, "counter-person-360")
        page.set_viewport_size({"width": 1280, "height": 900})

    _press(page, "代为申请：上海市居住证积分申请")
    expect(page.locator("#on-behalf")).to_contain_text(f"窗口代申请人 李四（{NUMBER}）填写")
    page.goto(page.url.split("/tasks")[0] + "/pages/applicant")
    main = page.locator("main")
    expect(main).to_contain_text("由该区人才服务中心受理申请人的申请")
    expect(main).not_to_contain_text("受理您的申请")
    expect(page.locator("[name='applicant.id_number']")).to_have_value(NUMBER)
    expect(page.locator("[name='applicant.name']")).to_have_value("李四")
    if js:
        assert_clean(page)
    screenshot(page, "counter-form-js" if js else "counter-form-nojs")
