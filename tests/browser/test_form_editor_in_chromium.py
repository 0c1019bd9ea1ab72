"""The form editor in Chromium, JavaScript on: an administrator builds an 8-question form with a
condition by clicking and typing only (no JSON), the preview beside it shows the questions in
both languages and reveals the conditional one; the text view is CodeMirror over the same
file; axe finds nothing and nothing scrolls sideways at 360 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe import run_axe, summarize
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from tongban import PROJECT_ROOT
from tongban.console import workspace
from tongban.models import User

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_narrow_screens import NARROW, OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

CODE = "pet-registration"
EDITOR = f"/admin/services/{CODE}/form"
QUESTIONS = [  # type, Chinese, English
    ("text", "宠物名字", "Pet's name"),
    ("id_number", "主人身份证号", "Owner's ID card number"),
    ("mobile", "主人手机号码", "Owner's mobile number"),
    ("date", "宠物出生日期", "Pet's date of birth"),
    ("choice", "宠物种类", "Kind of pet"),
    ("integer", "宠物体重（公斤）", "Weight (kg)"),
    ("address", "饲养地址", "Where the pet lives"),
    ("text", "犬只免疫证号", "Dog vaccination number"),
]


@pytest.fixture
def new_service(demo: Any) -> str:
    """A service in draft whose service file names a form nobody has written yet."""
    service = (PROJECT_ROOT / "workflow_definitions/urban-event-report.yaml").read_text("utf-8")
    service = service.replace("code: urban-event-report", f"code: {CODE}").replace(
        "form: urban-event-report", f"form: {CODE}")
    with Session(demo.extensions["tongban.engine"]) as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        workspace.create_service(session, CODE, "sh-cgj",
                                 {f"workflow_definitions/{CODE}.yaml": service}, admin,
                                 source="test")
        session.commit()
    return CODE


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def clean(page: Page) -> None:
    violations = run_axe(page)
    assert not violations, summarize(violations)


def _add(page: Page, kind: str, zh: str, en: str) -> None:
    page.select_option("#add-kind", kind)
    page.fill("#add-zh", zh)
    page.fill("#add-en", en)
    page.click("button:has-text('添加此问题')")
    expect(page.locator(".tb-editor-question__title", has_text=zh)).to_be_visible()


def test_an_administrator_builds_an_8_question_form_with_a_condition(
        new_service: str, live_server: Any, page: Page) -> None:
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + EDITOR)
    expect(page.locator("h1")).to_have_text("表单编辑")
    page.click("button:has-text('添加此问题')")  # no Chinese question typed
    expect(page.locator(".tb-error-summary")).to_contain_text("请填写问题的中文。")
    clean(page)
    for kind, zh, en in QUESTIONS:
        _add(page, kind, zh, en)
    expect(page.locator(".tb-editor-question")).to_have_count(8)

    # The choices of 宠物种类, typed into the question's panel.
    page.click("a:has-text('编辑 宠物种类')")
    page.fill("#e-choice-0-zh", "猫")
    page.fill("#e-choice-0-en", "Cat")
    page.fill("#e-choice-1-zh", "狗")
    page.fill("#e-choice-1-en", "Dog")
    page.check("#e-required")
    page.click("button:has-text('保存问题')")
    expect(page.locator("#q-q5 .tb-editor-question__meta")).to_contain_text("必填")

    # 犬只免疫证号 only for dogs: a condition from three dropdowns.
    page.click("a:has-text('编辑 犬只免疫证号')")
    page.select_option("#c-0-question", label="宠物种类")
    page.select_option("#c-0-operator", "eq")
    expect(page.locator("#c-0-value")).to_be_hidden()  # the answer is chosen, not typed
    page.select_option("#c-0-answer", label="狗")
    page.click("button:has-text('保存条件')")
    expect(page.locator("#q-q8 .tb-editor-question__meta")).to_contain_text(
        "显示条件： “宠物种类” 是 “狗”")

    # The preview is the applicants' page: the dog question appears once 狗 is chosen.
    preview = page.frame_locator("[data-preview-frame]")
    expect(preview.get_by_label("宠物名字")).to_be_visible()
    expect(preview.get_by_label("犬只免疫证号")).to_be_hidden()
    preview.get_by_label("狗").check()
    expect(preview.get_by_label("犬只免疫证号")).to_be_visible()
    clean(page)

    # English and 长辈版 switch the preview, not the editor.
    page.select_option("#preview-lang", "en")
    expect(page.frame_locator("[data-preview-frame]").locator("legend", has_text="Kind of pet")
           ).to_be_visible()
    expect(page.frame_locator("[data-preview-frame]").get_by_text("Dog", exact=True)).to_be_visible()
    page.check("#preview-elder")
    expect(page.frame_locator("[data-preview-frame]").locator("body.tb-elder")).to_be_attached()
    page.check("#preview-phone")
    expect(page.locator("[data-preview-frame]")).to_have_class(re.compile("tb-preview-frame--phone"))
    assert page.locator("[data-preview-frame]").bounding_box()["width"] == 360
    expect(page.locator("h1")).to_have_text("表单编辑")

    # Undo takes the condition away, redo brings it back.
    page.click("button:has-text('撤销')")
    expect(page.locator("#q-q8 .tb-editor-question__meta")).not_to_contain_text("显示条件")
    page.click("button:has-text('重做')")
    expect(page.locator("#q-q8 .tb-editor-question__meta")).to_contain_text("显示条件")

    # The text view: CodeMirror over the same file.
    page.click("a:has-text('文本视图')")
    expect(page.locator(".cm-editor")).to_be_visible()
    expect(page.locator(".cm-content")).to_contain_text('"宠物名字"')
    expect(page.locator("#form-text")).to_be_hidden()  # still the form's field, kept in step
    expect(page.locator("#form-text")).to_have_value(re.compile('"show": "q8"'))
    clean(page)
    page.screenshot(path=str(helpers.screenshot_path("form_editor", "text")), full_page=True)
    # Completion knows the form file format: a new top-level key offers "description".
    page.click(".cm-content")
    page.keyboard.press("Control+Home")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type('"de')
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("description")


def test_the_editor_does_not_scroll_sideways_at_360_px(new_service: str, live_server: Any,
                                                       narrow_page: Page) -> None:
    base = live_server.url
    flows.sign_in(narrow_page, base, "admin")
    for query in ("", "?q=q1", "?view=text"):
        narrow_page.goto(base + EDITOR + query)
        if query == "":
            _add(narrow_page, "choice", "宠物种类", "Kind of pet")
        overflow = narrow_page.evaluate(OVERFLOW)
        assert overflow["extra"] <= 0, (query, overflow)


def test_without_javascript_every_edit_is_a_plain_post(new_service: str, live_server: Any,
                                                       page_nojs: Page) -> None:
    page = page_nojs
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + EDITOR)
    page.click("button:has-text('添加此问题')")  # no Chinese question typed
    expect(page.locator(".tb-error-summary")).to_contain_text("请填写问题的中文。")
    _add(page, "text", "宠物名字", "Pet's name")
    _add(page, "choice", "宠物种类", "Kind of pet")
    page.click("button:has-text('上移 宠物种类')")
    expect(page.locator(".tb-editor-question__title").first).to_have_text("宠物种类")
    page.click("button:has-text('撤销')")
    expect(page.locator(".tb-editor-question__title").first).to_have_text("宠物名字")
    page.click("a:has-text('文本视图')")
    expect(page.locator("textarea#form-text")).to_be_visible()  # no CodeMirror: the text area
    expect(page.frame_locator("[data-preview-frame]").get_by_label("宠物名字")).to_be_visible()
