"""Issue 16 item 2: the public verification page in Chromium. A decision is sealed (OFD, GB/T
38540 SM2 seal); with JavaScript off a visitor types its code and reads "the seal is valid"
with who sealed it; with JavaScript on the file itself verifies, and the same file with one
byte changed is reported as changed. Each page passes axe (WCAG 2.1 A/AA)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session

from tongban import seals
from tongban.extend.manager import material_storage, signer
from tongban.plugin_api import DocumentDraft

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from .. import seal_plugins
    from . import helpers
    from .axe import run_axe, summarize
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import run_axe, summarize  # type: ignore[no-redef]
    from tests import seal_plugins  # type: ignore[no-redef]

DRAFT = DocumentDraft(title="准予行政许可决定书", paragraphs=("申请人张三：", "决定准予许可。"),
                      issuer="某市公安局", issued_on=date(2026, 12, 3),
                      reference="某公许〔2026〕001号", department="police")


@pytest.fixture
def app_config(app_config: dict[str, object], tmp_path: Path) -> dict[str, object]:
    return {**app_config, **seal_plugins.settings(tmp_path / "seals", tmp_path / "materials")}


@pytest.fixture
def no_js_page(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    yield from helpers.new_page(chromium, browser_errors, java_script_enabled=False,
                                **helpers.DESKTOP)


def _seal(app: Flask) -> tuple[str, bytes]:
    with app.app_context(), Session(app.extensions["tongban.engine"],
                                    expire_on_commit=False) as session:
        record = seals.issue(session, signer(app), material_storage(app), DRAFT,
                             purpose="decision")
        session.commit()
        return record.code, material_storage(app).get(record.storage_key)


def _no_axe_violations(page: Page) -> None:
    violations = run_axe(page)
    assert not violations, summarize(violations)


def test_a_code_typed_with_javascript_off_shows_the_seal_is_valid_and_who_sealed_it(
        app: Flask, live_server: helpers.LiveServer, no_js_page: Page) -> None:
    code, _ = _seal(app)
    page = no_js_page
    page.goto(f"{live_server.url}/verify")
    expect(page.get_by_role("heading", level=1)).to_have_text("核验电子印章文件")
    page.get_by_label("核验码").fill(seals.shown_code(code).lower())
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("heading", name="印章有效")).to_be_visible()
    expect(page.locator("main")).to_contain_text("某市公安局电子印章（仅供测试 test only）")
    expect(page.locator("main")).to_contain_text("准予行政许可决定书 (某公许〔2026〕001号)")


def test_the_file_itself_verifies_and_a_changed_byte_is_reported(
        app: Flask, live_server: helpers.LiveServer, page: Page, tmp_path: Path) -> None:
    code, content = _seal(app)
    good = tmp_path / "decision.ofd"
    good.write_bytes(content)
    changed = bytearray(content)
    changed[60] ^= 0x01
    bad = tmp_path / "changed.ofd"
    bad.write_bytes(bytes(changed))

    page.goto(f"{live_server.url}/verify")
    _no_axe_violations(page)
    page.get_by_label("或选择盖章文件").set_input_files(str(good))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("heading", name="印章有效")).to_be_visible()
    expect(page.locator("main")).to_contain_text(seals.shown_code(code))
    _no_axe_violations(page)

    page.get_by_label("或选择盖章文件").set_input_files(str(bad))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("heading", name="文件已被改动")).to_be_visible()
    _no_axe_violations(page)


def test_nothing_given_gets_the_error_summary_which_takes_focus(
        live_server: helpers.LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/verify")
    page.get_by_role("button", name="核验").click()
    summary = page.locator(".tb-error-summary")
    expect(summary).to_contain_text("请输入核验码或选择文件")
    expect(summary).to_be_focused()
    _no_axe_violations(page)
