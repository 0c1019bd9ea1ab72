"""Issue 16's "done when", end to end in headless Chromium, for the household registration
transfer and the residence points: a citizen submits the application in the browser, the
steps before the decision are taken in-process, a reviewer approves the last step in the
browser, the worker's own function (``decisions.seal_due``) seals the decision (GB/T 38540 SM2
seal on OFD), the applicant finds the document with its verification code on their application
page and downloads it, and a visitor with no account verifies it on /verify, by the code typed
at a person's speed and by the downloaded file; the same file with one byte changed reads as
changed. The applicant page, the task page and /verify pass axe (WCAG 2.1 A/AA)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from tests.spine.flow_world import open_tasks

from tongban import db, decisions, seals
from tongban.demo import DEMO_ACCOUNTS
from tongban.extend.manager import decision_sealing
from tongban.models import Application, FlowTask, SealedDocumentRecord, User, saved_id
from tongban.policy import Actor
from tongban.workflow import runtime
from tongban.workflow.errors import NotYours

try:  # tests/browser as a package, or rootdir-relative imports (pytest's default)
    from .. import seal_plugins
    from . import flows, helpers
    from .axe import run_axe, summarize
    from .test_review_in_chromium import _do, _open_task_from_inbox, _status
except ImportError:
    import helpers  # type: ignore[no-redef]
    from axe import run_axe, summarize  # type: ignore[no-redef]
    from test_review_in_chromium import _do, _open_task_from_inbox, _status  # type: ignore[no-redef]
    from tests import seal_plugins  # type: ignore[no-redef]

    import flows  # type: ignore[no-redef]

# Who takes each step before the decision, in-process (the review pages have their own browser
# tests): the first of these the step's rules let act. The decision itself is the demo
# reviewer's, in the browser; none of these is them, so four-eyes never refuses them.
STEP_OPERATION = {"intake": "accept", "kinship": "approve", "police": "approve", "hr": "approve",
                  "district": "approve", "initial_review": "approve",
                  "municipal_review": "approve"}
STAFF = ("clerk_pudong", "clerk_xuhui", "clerk", "mzj", "gaj_city", "rsj_city", "gaj_xuhui",
         "gajadmin", "rsj_xuhui", "rsj_pudong", "deptadmin")
SEAL_SUFFIX = "电子印章（仅供测试 test only）"
ROLES = {username: roles for username, _name, roles in DEMO_ACCOUNTS}


@dataclass(frozen=True)
class Journey:
    service: str
    decision_step: str          # the node the reviewer decides in the browser
    decision_heading: str
    document: str               # the decision document's title
    sealed_by: str              # the deciding department's seal
    kinds: tuple[str, ...]      # the documents the worker seals, in order


HOUSEHOLD = Journey("household-transfer", "decision", "审批决定", "准予行政许可决定书",
                    "上海市公安局" + SEAL_SUFFIX, ("acceptance", "approval"))
RESIDENCE = Journey("residence-points", "publicity", "积分公示", "积分结果通知书",
                    "上海市人力资源和社会保障局" + SEAL_SUFFIX,
                    ("acceptance", "points_result"))


@pytest.fixture
def app_config(app_config: dict[str, object], tmp_path: Path) -> dict[str, object]:
    return {**app_config, **seal_plugins.settings(tmp_path / "seals", tmp_path / "materials"),
            "DECISION_SIGNERS": "ofd-seal"}


@pytest.fixture
def visitor(chromium: Browser, browser_errors: helpers.BrowserErrors) -> Iterator[Page]:
    """A second browser context: nobody signed in, nothing shared with the applicant's."""
    yield from helpers.new_page(chromium, browser_errors, **helpers.DESKTOP)


def _no_axe_violations(page: Page) -> None:
    violations = run_axe(page)
    assert not violations, summarize(violations)


def _submit(page: Page, base: str, service: str) -> str:
    """The citizen's application, given in the browser as the journey tests give it."""
    flows.sign_in(page, base)
    token = flows.start(page, base, service)
    if service == "household-transfer":
        for page_id, answers in flows.HOUSEHOLD_PAGES:
            assert flows.current_page_id(page) == page_id, page.url
            flows.answer(page, answers)
        flows.send_to_check(page, flows.MEMBER)
    else:
        page.goto(f"{base}/apply/{token}/pages/applicant")
        flows.fill_residence_up_to_materials(page)
        for name in page.locator("input[type=file]").evaluate_all("els => els.map(e => e.name)"):
            flows.upload(page, name, f"{name}.pdf", flows.PDF, "application/pdf")
        flows.send(page)
        assert page.url.endswith("/check"), page.url
    page.check("#declaration")
    page.click("button:has-text('确认并提交')")
    page.wait_for_url("**/confirmation")
    return page.locator(".tb-reference").inner_text().strip()


def _user_ids(app: Flask) -> dict[str, int]:
    with db.new_session(app.extensions["tongban.engine"]) as session:
        return {u.username: saved_id(u) for u in session.scalars(select(User))}


def _take_steps_before_the_decision(app: Flask, reference: str, decision_step: str) -> None:
    """Accept at the counter, approve the kinship check and the joint review, deliver the
    other city's reply: until only the decision is open."""
    engine = app.extensions["tongban.engine"]
    users = _user_ids(app)
    for _ in range(12):
        with db.new_session(engine) as session:
            application = session.scalars(select(Application).where(
                Application.reference == reference)).one()
            tasks = open_tasks(session, saved_id(application))
            waiting = {t.node for t in tasks}
        if decision_step in waiting:
            return
        if not tasks:
            with db.new_session(engine) as session, db.unit_of_work(session):
                application = session.scalars(select(Application).where(
                    Application.reference == reference)).one()
                runtime.deliver_message(session, application, "origin_reply", "QC-2026-0815",
                                        {"agreed": True}, sender="迁出地公安局")
            continue
        task = tasks[0]
        _act_as_first_allowed(engine, users, task, STEP_OPERATION[task.node])
    raise AssertionError(f"the decision step never opened for {reference}")


def _act_as_first_allowed(engine: object, users: dict[str, int], task: FlowTask,
                          operation: str) -> None:
    refusals = []
    for username in STAFF:
        actor = Actor.of(users[username], ROLES[username])
        try:
            with db.new_session(engine) as session, db.unit_of_work(session):
                runtime.act(session, actor, saved_id(task), operation, version=None)
        except NotYours as refused:  # not their step: the next person may be allowed
            refusals.append(f"{username}: {refused}")
            continue
        return
    offered = f"{task.candidate_role}@{task.candidate_department}, user {task.assignee_id}"
    raise AssertionError(f"nobody could {operation} {task.node} ({offered}):\n"
                         + "\n".join(refusals))


def _seal_as_the_worker_does(app: Flask) -> list[decisions.Outcome]:
    with app.app_context():
        sealing = decision_sealing(app)
    assert sealing is not None, "DECISION_SIGNERS is set: the worker seals"
    return decisions.seal_due(app.extensions["tongban.engine"], *sealing)


def _switch_to(page: Page, base: str, username: str) -> None:
    if page.locator(".tb-header__user").count():
        page.click("header button:has-text('退出登录')")
        page.wait_for_url(f"{base}/")
    flows.sign_in(page, base, username)


@pytest.mark.parametrize("journey", [HOUSEHOLD, RESIDENCE], ids=lambda j: j.service)
def test_a_reviewer_s_approval_is_sealed_and_verifies_on_the_public_page(
        demo: Flask, live_server: helpers.LiveServer, page: Page, visitor: Page,
        tmp_path: Path, journey: Journey) -> None:
    base = live_server.url
    page.set_default_timeout(15000)
    reference = _submit(page, base, journey.service)
    _take_steps_before_the_decision(demo, reference, journey.decision_step)

    _switch_to(page, base, "reviewer")
    _open_task_from_inbox(page, base, reference, tab="group")
    expect(page.locator("main h1")).to_contain_text(journey.decision_heading)
    with page.expect_event("load"):
        page.click("button[value=claim]")  # a group's task: taken before it is decided
    _no_axe_violations(page)
    _do(page, "approve", "同意")
    assert _status(page) == "已批准"

    outcomes = _seal_as_the_worker_does(demo)
    assert [(o.kind, o.state) for o in outcomes] == [(kind, "done") for kind in journey.kinds]
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        decision = session.scalars(select(SealedDocumentRecord).where(
            SealedDocumentRecord.title == journey.document)).one()
    shown = seals.shown_code(decision.code)
    assert decision.sealed_by == journey.sealed_by

    _switch_to(page, base, "citizen")
    page.goto(f"{base}/my/applications/{reference}")
    documents = page.locator("section[aria-labelledby=documents-heading]")
    row = documents.locator("tr", has_text=journey.document)
    expect(row).to_contain_text(shown)
    expect(row).to_contain_text(decision.reference)
    _no_axe_violations(page)
    with page.expect_download() as download_info:
        row.locator("a[download]").click()
    download = download_info.value
    good = tmp_path / "decision.ofd"
    download.save_as(good)
    content = good.read_bytes()
    assert content[:2] == b"PK"  # an OFD package is a zip
    # ... and the sealed decision is in their material library, A-level (issued and sealed).
    page.goto(f"{base}/my/materials")
    filed = page.locator("main tr", has_text=f"{decision.reference}.ofd")
    expect(filed).to_contain_text("办理结果文书")
    expect(filed).to_contain_text("A级：由实施机关出具并加盖电子印章，可直接使用")
    expect(filed).to_contain_text(f"此件由{journey.sealed_by.removesuffix(SEAL_SUFFIX)}提供")
    _no_axe_violations(page)

    visitor.goto(f"{base}/verify")
    expect(visitor.locator(".tb-header__user")).to_have_count(0)
    _no_axe_violations(visitor)
    flows.type_like_a_person(visitor, "#code", shown.lower(), delay_ms=80)
    visitor.get_by_role("button", name="核验").click()
    expect(visitor.get_by_role("heading", name="印章有效")).to_be_visible()
    main = visitor.locator("main")
    expect(main).to_contain_text(journey.sealed_by)
    expect(main).to_contain_text(f"{journey.document} ({decision.reference})")
    _no_axe_violations(visitor)

    visitor.goto(f"{base}/verify")
    visitor.get_by_label("或选择盖章文件").set_input_files(str(good))
    visitor.get_by_role("button", name="核验").click()
    expect(visitor.get_by_role("heading", name="印章有效")).to_be_visible()
    expect(visitor.locator("main")).to_contain_text(shown)
    _no_axe_violations(visitor)

    changed = bytearray(content)
    changed[60] ^= 0x01
    bad = tmp_path / "changed.ofd"
    bad.write_bytes(bytes(changed))
    visitor.get_by_label("或选择盖章文件").set_input_files(str(bad))
    visitor.get_by_role("button", name="核验").click()
    expect(visitor.get_by_role("heading", name="文件已被改动")).to_be_visible()
    _no_axe_violations(visitor)
