"""The flow editor in Chromium, JavaScript on (htmx swaps the editor in place): an administrator
makes the example credit service a 3-step flow by clicking (adds a step, picks its actors and a
statutory time limit), sees the diagram redrawn, undoes and redoes; types into the text view's
CodeMirror at a person's speed, with completion from the flow schema and the server's problems
marked at the line; axe finds nothing and nothing scrolls sideways at 360 px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe import run_axe, summarize
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from tongban.console import workspace
from tongban.console.layout import parse

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from . import flows, helpers
    from .test_narrow_screens import NARROW, OVERFLOW
except ImportError:
    import helpers  # type: ignore[no-redef]
    from test_narrow_screens import NARROW, OVERFLOW  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

CODE = "enterprise-credit"
EDITOR = f"/admin/services/{CODE}/flow"
FLOW = f"workflow_definitions/flows/{CODE}.yaml"
KEY_DELAY_MS = 60  # a person typing: every key is its own event
SERVER_MS = 15000  # a save, or a check of the typed text, answered on a busy test machine


@pytest.fixture
def narrow_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, **NARROW)


def clean(page: Page) -> None:
    violations = run_axe(page)
    assert not violations, summarize(violations)


def _diagram(page: Page) -> str:
    return page.locator(".tb-flow-diagram__svg").get_attribute("src") or ""


def test_an_administrator_adds_a_third_step_with_its_actors_and_time_limit(
        demo: Any, live_server: Any, page: Page) -> None:
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + EDITOR)
    expect(page.locator("h1")).to_have_text("流程编辑")
    expect(page.locator(".tb-flow-step")).to_have_count(4)  # start, 2 steps, end
    clean(page)
    before = _diagram(page)

    page.click("#step-review summary")
    page.fill("#add-zh-review", "签发")
    page.fill("#add-en-review", "Sign-off")
    page.click("#step-review button:has-text('添加步骤')")
    expect(page.locator(".tb-flow-step")).to_have_count(5)
    expect(page.locator("#step-step_4 h3")).to_contain_text("签发")
    assert _diagram(page) != before  # redrawn with the new step

    expect(page.locator("#role-step_4")).to_be_visible()  # the new step's panel is open
    # A refusal comes back in place (htmx swaps the 400 page): the message at the step.
    page.select_option("#deadline-step_4", "working_days")
    page.fill("#days-step_4", "0")
    page.click("#step-step_4 button:has-text('保存步骤')")
    expect(page.locator("#step-step_4 .tb-error-message")).to_have_text(
        "错误： 请以工作日整数输入办理时限，范围为 1 至 999。")
    page.select_option("#role-step_4", "department_admin")
    page.select_option("#department-step_4", "sh-scjgj")
    page.select_option("#mode-step_4", "all")
    page.select_option("#deadline-step_4", "preset")
    page.select_option("#preset-step_4", "certificate_delivery")
    page.select_option("#timeout-step_4", "remind")
    page.click("#step-step_4 button:has-text('保存步骤')")
    expect(page.locator("#step-step_4 .tb-flow-step__meta")).to_contain_text(
        "办理时限：颁发、送达许可证件")
    expect(page.locator("#flow-problems")).to_have_count(0)
    clean(page)

    with Session(demo.extensions["tongban.engine"]) as session:
        draft = workspace.get_draft(session, CODE)
        assert draft is not None
        step = parse(FLOW, draft.files[FLOW])["nodes"]["step_4"]
    assert step["who"] == {"role": "department_admin", "department": "sh-scjgj"}
    assert step["mode"] == "all"
    assert step["deadline"] == {"preset": "certificate_delivery", "on_timeout": ["remind"]}

    page.click("button:has-text('撤销')")
    expect(page.locator("#step-step_4 .tb-flow-step__meta")).not_to_contain_text("颁发")
    page.click("button:has-text('重做')")
    expect(page.locator("#step-step_4 .tb-flow-step__meta")).to_contain_text("颁发")


def _draft_file(demo: Any, code: str, path: str) -> str:
    with Session(demo.extensions["tongban.engine"]) as session:
        draft = workspace.get_draft(session, code)
        assert draft is not None
        return draft.files[path]


def test_the_text_view_is_codemirror_with_schema_completion_and_the_checks_marks(
        demo: Any, live_server: Any, page: Page) -> None:
    """Issue 14, the flow editor's text view: typed at a person's speed, a key of a step is
    completed from schemas/flow.schema.json, a bad value is marked at its line with the
    server's message, undo and redo step through the typing, and the text saved is the text
    typed, step for step."""
    page.set_default_timeout(SERVER_MS)
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + EDITOR + "?view=text")
    editor = page.locator(".tb-code-editor .cm-content")
    expect(editor).to_contain_text("信用审核")
    expect(page.locator("#flow-text")).to_be_hidden()  # still the form's field, kept in step
    expect(page.locator(".cm-lint-marker")).to_have_count(0)  # the example has no problems
    clean(page)

    # A new line at the end of the review step: completion knows a task's keys.
    editor.click()
    page.keyboard.press("Control+End")  # CodeMirror draws the lines near the cursor only
    page.locator(".cm-line", has_text="next: graded").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # indented as the line above
    page.keyboard.type("mo", delay=KEY_DELAY_MS)
    completion = page.locator(".cm-tooltip-autocomplete")
    expect(completion).to_contain_text("mode")
    clean(page)
    page.keyboard.press("Escape")
    page.keyboard.type("de: sometimes", delay=KEY_DELAY_MS)
    page.keyboard.press("Escape")
    # The server's check of the text as typed marks the line (nothing saved yet).
    marker = page.locator(".cm-gutter-lint .cm-lint-marker-error")
    expect(marker).to_have_count(1, timeout=SERVER_MS)
    expect(page.locator(".cm-lintRange-error")).to_contain_text("sometimes")
    page.locator(".cm-lintRange-error").hover()  # the server's message at the mark
    expect(page.locator(".cm-tooltip-lint")).to_contain_text(
        'expected one of: "single", "sequential", "all", "any", "n_of_m"')
    clean(page)
    assert _draft_file(demo, CODE, FLOW).count("sometimes") == 0

    # Undo takes the typing back out; redo puts it back.
    editor.click()
    page.keyboard.press("Control+z")
    expect(editor).not_to_contain_text("sometimes")
    page.keyboard.press("Control+y")
    expect(editor).to_contain_text("mode: sometimes")
    for _ in "sometimes":
        page.keyboard.press("Backspace")
    page.keyboard.type("all", delay=KEY_DELAY_MS)
    page.keyboard.press("Escape")
    expect(marker).to_have_count(0, timeout=SERVER_MS)
    typed = page.locator("#flow-text").input_value()
    assert "    next: graded\n    mode: all\n" in typed

    page.click("button:has-text('保存文本')")
    expect(page.locator(".tb-editor-toolbar__revision")).to_contain_text("2", timeout=SERVER_MS)
    saved = _draft_file(demo, CODE, FLOW)
    assert saved == typed
    assert parse(FLOW, saved)["nodes"]["review"]["mode"] == "all"
    expect(page.locator(".tb-code-editor .cm-content")).to_contain_text("mode: all")
    clean(page)


def test_the_editor_and_the_guide_editor_fit_360_px(demo: Any, live_server: Any, narrow_page: Page) -> None:
    base = live_server.url
    flows.sign_in(narrow_page, base, "admin")
    for editor in (EDITOR, EDITOR + "?step=review", EDITOR + "?view=text",
                   "/admin/services/household-transfer/flow?step=reason"):  # a decision
        narrow_page.goto(base + editor)
        expect(narrow_page.locator("h1")).to_have_text("流程编辑")
        assert narrow_page.evaluate(OVERFLOW)["extra"] == 0, editor
        clean(narrow_page)
    # The guide editor shares the page's layout (a service with three materials).
    narrow_page.goto(base + "/admin/services/residence-points/guide")
    expect(narrow_page.locator("h1")).to_have_text("办事指南和材料")
    assert narrow_page.evaluate(OVERFLOW)["extra"] == 0
    clean(narrow_page)


def test_the_rules_editor_saves_a_band_and_simulates_the_draft(
        demo: Any, live_server: Any, page: Page) -> None:
    """Issue 14 item 4, in the flow editor's file to share its start-up: a band's points changed
    in the panel (htmx swaps the editor), then the simulation of the draft against live; axe
    finds nothing on the panel nor on the report."""
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + "/admin/services/residence-points/rules?indicator=age")
    expect(page.locator("h1")).to_have_text("积分规则编辑器")
    clean(page)
    page.fill("#c-row-1-points", "25")
    page.click("#panel button:has-text('保存指标')")
    expect(page.locator("#c-row-1-points")).to_have_value("25")
    expect(page.locator(".tb-editor-toolbar__revision")).to_contain_text("2", timeout=SERVER_MS)
    page.click("#simulation button:has-text('开始模拟')")
    expect(page.locator("#simulation")).to_contain_text("现不达标（按第 1 版达标）")
    expect(page.locator("#simulation .tb-chart svg")).to_be_visible()
    clean(page)


RULES_CODE = "residence-points"
RULES = "workflow_definitions/rules/sh-residence-points.yaml"


def test_the_rules_text_view_is_codemirror_with_schema_completion_and_the_checks_marks(
        demo: Any, live_server: Any, page: Page) -> None:
    """Issue 14, the rules editor's text view: a bad value typed at a person's speed is marked
    at its line with the server's message, completion offers the values the rules schema
    allows, and the text saved is the text typed."""
    page.set_default_timeout(SERVER_MS)
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + f"/admin/services/{RULES_CODE}/rules?view=text")
    expect(page.locator("h1")).to_have_text("积分规则编辑器")
    editor = page.locator(".tb-code-editor .cm-content")
    expect(editor).to_contain_text("sh-residence-points")
    expect(page.locator("#rules-text")).to_be_hidden()
    marker = page.locator(".cm-gutter-lint .cm-lint-marker-error")
    expect(marker).to_have_count(0)
    clean(page)

    page.locator(".cm-line", has_text="example: false").click()
    page.keyboard.press("End")
    for _ in "false":
        page.keyboard.press("Backspace")
    page.keyboard.type("maybe", delay=KEY_DELAY_MS)
    page.keyboard.press("Escape")
    expect(marker).to_have_count(1, timeout=SERVER_MS)
    page.locator(".cm-lintRange-error").hover()
    tooltip = page.locator(".cm-tooltip-lint")
    expect(tooltip).to_contain_text("expected true or false, found text")
    clean(page)
    for _ in "maybe":
        page.keyboard.press("Backspace")
    page.keyboard.type("t", delay=KEY_DELAY_MS)
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("true")
    page.keyboard.type("rue", delay=KEY_DELAY_MS)
    page.keyboard.press("Escape")
    expect(marker).to_have_count(0, timeout=SERVER_MS)
    typed = page.locator("#rules-text").input_value()
    assert "\nexample: true\n" in typed

    page.click("#text-view button:has-text('保存文本')")
    expect(page.locator(".tb-editor-toolbar__revision")).to_contain_text("2", timeout=SERVER_MS)
    saved = _draft_file(demo, RULES_CODE, RULES)
    assert saved == typed
    assert parse(RULES, saved)["example"] is True
    expect(page.locator("#rules-text")).to_have_value(saved)  # the page drawn again, saved
    expect(page.locator(".tb-code-editor")).to_have_count(1)
    clean(page)


def test_without_javascript_the_rules_text_view_is_the_text_area_and_saves(
        demo: Any, live_server: Any, page_nojs: Page) -> None:
    page = page_nojs
    page.set_default_timeout(SERVER_MS)
    base = live_server.url
    flows.sign_in(page, base, "admin")
    page.goto(base + f"/admin/services/{RULES_CODE}/rules")
    page.click("a:has-text('文本视图')")
    area = page.locator("textarea#rules-text")
    expect(area).to_be_visible()  # no CodeMirror: the text area
    text = area.input_value().replace("\nexample: false\n", "\nexample: true\n")
    area.fill(text)
    page.click("#text-view button:has-text('保存文本')")
    expect(page.locator(".tb-editor-toolbar__revision")).to_contain_text("2", timeout=SERVER_MS)
    assert _draft_file(demo, RULES_CODE, RULES) == text  # (axe needs JavaScript: not here)
