"""Issue 12 item 5 (deadlines on the pages): the inbox's due marks and order, the task page's
time-limit panel and its forms, the applicant's current deadline and §45 notice. The clocks are
written as rows (tests/web/review_world.py and :func:`clock_row`); "now" is fixed on Wednesday
2026-11-18 10:00 in Shanghai, in a November without holidays or make-up days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from tongban import db
from tongban.models import AuditEvent, FlowDeadline, FlowEvent
from tongban.web import deadline_views

from ..conftest import Personas
from . import review_world
from .deadline_world import NOW, clock_row, end_of, give_to, start_timed, world
from .journey import csrf

TAG = re.compile(r"<[^>]+>")
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", TAG.sub(" ", html)).strip()


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline_views, "now", lambda: NOW)


def _english(client: Any, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    client.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en",
                                            "next": path})
    return client.get(path).get_data(as_text=True)


def _rows(html: str) -> list[str]:
    return [_text(r) for r in ROW.findall(html.split("<tbody>", 1)[1])]


FOUR = (("2611-RSJ2-PAUS", {"due": None, "state": "paused", "elapsed": 2,
                            "paused_at": datetime(2026, 11, 16, 2, 0, tzinfo=UTC),
                            "pause_reason": "hearing"}),
        ("2611-RSJ2-LATE", {"due": date(2026, 11, 24)}),
        ("2611-RSJ2-SOON", {"due": date(2026, 11, 19)}),
        ("2611-RSJ2-OVER", {"due": date(2026, 11, 13)}))


def test_the_inbox_marks_overdue_due_soon_and_paused_in_words_overdue_first(demo) -> None:  # type: ignore[no-untyped-def]
    world(demo, *FOUR)
    client = Personas(demo.test_client()).as_("reviewer")
    html = client.get("/review").get_data(as_text=True)
    rows = _rows(html)
    assert [r.split(" ")[0] for r in rows] == [
        "2611-RSJ2-OVER", "2611-RSJ2-SOON", "2611-RSJ2-LATE", "2611-RSJ2-PAUS"]
    # Friday 13th passed: Monday, Tuesday and Wednesday are working days after it.
    assert "2026-11-13 已超期 3 个工作日" in rows[0]
    assert "2026-11-19 即将到期" in rows[1]
    assert rows[2].endswith("2026-11-24 2026-10-09 10:00")  # in time: no mark
    assert "已暂停计时" in rows[3] and "无截止时间" not in rows[3]
    # The mark is words in a tag, never a colour alone.
    assert '<strong class="tb-tag tb-tag--overdue">已超期 3 个工作日</strong>' in html
    assert '<strong class="tb-tag tb-tag--due-soon">即将到期</strong>' in html
    english = _rows(_english(client, "/review"))
    assert "Overdue by 3 working days" in english[0] and "Due soon" in english[1]
    assert "Clock paused" in english[3]


def test_the_overdue_filter_keeps_only_tasks_past_their_due_time(demo) -> None:  # type: ignore[no-untyped-def]
    world(demo, *FOUR)
    client = Personas(demo.test_client()).as_("reviewer")
    html = client.get("/review?overdue=1").get_data(as_text=True)
    assert [r.split(" ")[0] for r in _rows(html)] == ["2611-RSJ2-OVER"]
    assert 'id="filter-overdue" name="overdue" value="1" checked' in html
    assert "只看已超期（我的待办中有 1 项）" in html


def test_a_task_without_a_clock_row_is_marked_from_its_due_time(demo) -> None:  # type: ignore[no-untyped-def]
    review_world.build(demo.extensions["tongban.engine"])  # due 2026-10-14 10:00, long past
    client = Personas(demo.test_client()).as_("reviewer")
    rows = _rows(client.get("/review?tab=group").get_data(as_text=True))
    assert "2026-10-14 10:00 已超期 25 个工作日" in rows[0]  # Oct 15 to Nov 18, weekdays


def test_a_due_day_past_the_published_calendar_is_said_not_guessed(demo) -> None:  # type: ignore[no-untyped-def]
    run, = world(demo, ("2612-RSJ2-2027", {
        "due": None, "data": {"unknown": "calendar for 2027 not yet published"}}))
    reviewer = Personas(demo.test_client()).as_("reviewer")
    rows = _rows(reviewer.get("/review").get_data(as_text=True))
    assert "2027 年的工作日历尚未发布" in rows[0] and "无截止时间" not in rows[0]
    panel = _text(reviewer.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True))
    assert "截止时间 2027 年的工作日历尚未发布" in panel
    citizen = Personas(demo.test_client()).as_("citizen")
    page = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "办理时限 2027 年的工作日历尚未发布" in page


def test_the_task_page_shows_the_rule_the_days_used_and_left_and_the_pause(demo) -> None:  # type: ignore[no-untyped-def]
    run, = world(demo, ("2611-RSJ2-TASK", {
        "due": date(2026, 11, 24), "started_at": datetime(2026, 11, 17, 2, 0, tzinfo=UTC)}))
    clock_row(run, scope="application", due=date(2026, 11, 30), amount=20,
              extension_limit=10, purpose="licence_decision",
              data={"basis": "行政许可法第四十二条",
                    "basis_en": "Administrative Licensing Law, Art. 42"})
    client = Personas(demo.test_client()).as_("reviewer")
    html = client.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    panel = _text(html.split('id="time-limit"', 1)[1].split("</section>", 1)[0])
    # The step: 5 working days from Tuesday 17th, due Tuesday 24th: one used, four left.
    assert "本环节" in panel and "规则 5 个工作日" in panel
    assert "开始计时 2026-11-17 10:00 截止时间 2026-11-24" in panel
    assert "已用 1 个工作日，剩余 4 个工作日" in panel
    # The application: 20 working days, up to 10 more with approval, and its legal basis.
    assert "整个申请" in panel
    assert "20 个工作日 · 经批准最多可再延长 10 个工作日 · 行政许可法第四十二条" in panel
    assert "已用 12 个工作日，剩余 8 个工作日" in panel
    english = _text(_english(client, f"/review/tasks/{run.tasks['review']}"))
    assert "4 working days left" in english and "up to 10 working days more with approval" \
        in english
    assert "Administrative Licensing Law, Art. 42" in english and "行政许可法" not in english


def test_a_paused_clock_says_since_when_why_and_how_long_it_should_take(demo) -> None:  # type: ignore[no-untyped-def]
    run, = world(demo, ("2611-RSJ2-HEAR", {
        "due": None, "state": "paused", "elapsed": 2, "pause_reason": "expert_review",
        "pause_note": "请省专家库评审", "data": {"expected_days": 10},
        "paused_at": datetime(2026, 11, 16, 2, 0, tzinfo=UTC)}))
    client = Personas(demo.test_client()).as_("reviewer")
    panel = _text(client.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True))
    assert "已暂停计时" in panel and "截止时间 计时恢复后重新计算" in panel
    assert "自 2026-11-16 10:00 起 · 专家评审 · 请省专家库评审 · 预计需要 10 个工作日" in panel
    assert "已用 2 个工作日，剩余 3 个工作日" in panel


def test_the_applicant_sees_the_deadline_and_not_the_offices_reminders(demo) -> None:  # type: ignore[no-untyped-def]
    run, = world(demo, ("2611-RSJ2-CITZ", {"due": date(2026, 11, 24)}))
    clock_row(run, scope="application", due=date(2026, 12, 1), amount=20,
              data={"basis": "行政许可法第四十二条"})
    for kind, actor, data in (("deemed_accepted", None, {"reason": "timeout"}),
                              ("due_soon", None, {}),
                              ("reminded", None, {}), ("escalated", None, {}),
                              ("extension_requested", "reviewer", {"units": 5}),
                              ("extension_approved", "deptadmin",
                               {"due_at": end_of(date(2026, 12, 8)).isoformat()})):
        review_world.add_event(run, kind, node="review", actor=actor, status="in_progress",
                               minutes=60, data=data)
    citizen = Personas(demo.test_client()).as_("citizen")
    page = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "办理时限 应于 2026-12-01 前办结 20 个工作日 · 行政许可法第四十二条" in page
    assert "视为受理（逾期未答复）" in page
    assert "timeout" not in page  # the engine's code for why, not words for the applicant
    assert "办理时限已延长" in page and "新的截止日期：2026-12-08" in page
    for staff_only in ("即将到期", "已催办", "督办", "申请延期"):
        assert staff_only not in page, staff_only
    staff = _text(Personas(demo.test_client()).as_("reviewer").get(
        f"/review/tasks/{run.tasks['review']}").get_data(as_text=True))
    assert "督办" in staff and "申请延期" in staff


def test_the_applicant_is_told_in_writing_why_the_clock_stopped(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], reference="2611-RSJ2-S45")
    clock_row(run, scope="application", due=None, state="paused", amount=20, elapsed=7,
              pause_reason="hearing", data={"expected_days": 15},
              paused_at=datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    citizen = Personas(demo.test_client()).as_("citizen")
    path = f"/my/applications/{run.reference}"
    page = _text(citizen.get(path).get_data(as_text=True))
    assert "办理时限 已暂停计时 自 2026-11-16 起 · 听证" in page
    assert "根据《中华人民共和国行政许可法》第四十五条" in page
    assert "您的申请自 2026-11-16 起因“听证”暂停计时，预计需要 15 个工作日。" in page
    english = _text(_english(citizen, path))
    assert "The clock of your application stopped on 2026-11-16 for: Hearing." in english


def _audits(demo: Any) -> int:
    """Audit events of changes (a page shown records a read: not a change)."""
    from tongban.who_looked import APPLICATION_READ

    with db.new_session(demo.extensions["tongban.engine"]) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.action) != APPLICATION_READ)) or 0)


def _clock(demo: Any, run: review_world.Run, seq: int) -> dict[str, Any]:
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        row = session.scalars(select(FlowDeadline).where(
            col(FlowDeadline.instance_id) == run.instance_id,
            col(FlowDeadline.seq) == seq)).one()
        return row.model_dump(exclude={"created_at"})


PAUSE_REFUSED = [
    ({}, "reason", "请选择暂停计时的原因"),
    ({"reason": "other"}, "note", "请说明暂停计时的原因"),
    ({"reason": "hearing"}, "expected_days", "请填写预计需要的工作日数：将书面告知申请人"),
    ({"reason": "hearing", "expected_days": "0"}, "expected_days",
     "请填写 1 到 365 之间的整数工作日数"),
    ({"reason": "inspection", "expected_days": "十"}, "expected_days",
     "请填写 1 到 365 之间的整数工作日数"),
]
EXTENSION_REFUSED = [
    ({"units": "11", "reason": "需补充现场核查", "approver": "deptadmin"}, "units",
     "请填写 1 到 10 之间的整数天数"),
    ({"units": "0", "reason": "需补充现场核查", "approver": "deptadmin"}, "units",
     "请填写 1 到 10 之间的整数天数"),
    ({"units": "5", "reason": " ", "approver": "deptadmin"}, "extension_reason",
     "请填写需要延期的原因"),
    ({"units": "5", "reason": "需补充现场核查", "approver": "citizen"}, "approver",
     "请选择审批延期的人"),
    ({"units": "5", "reason": "需补充现场核查", "approver": "reviewer"}, "approver",
     "请选择审批延期的人"),  # not oneself
]


def test_clock_forms_with_bad_input_say_why_beside_the_field_and_change_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    run, = world(demo, ("2611-RSJ2-BAD1", {"due": date(2026, 11, 24), "extension_limit": 10}))
    seq = run.seq  # the clock row: the last row the world numbered
    client = Personas(demo.test_client()).as_("reviewer")
    url = f"/review/tasks/{run.tasks['review']}"
    token = csrf(client.get(url).get_data(as_text=True))
    before, audits = _clock(demo, run, seq), _audits(demo)
    cases = [("pause_clock", form, field, message) for form, field, message in PAUSE_REFUSED]
    cases += [("request_extension", dict(form, approver=str(run.users[form["approver"]])),
               field, message) for form, field, message in EXTENSION_REFUSED]
    for op, form, field, message in cases:
        response = client.post(f"{url}/clock", data={
            "csrf_token": token, "op": op, "deadline": str(seq), **form})
        assert response.status_code == 422, (op, form)
        html = response.get_data(as_text=True)
        assert f'<a href="#{field}-{seq}-error">{message}</a>' in html, (op, form)
        inline = re.search(rf'<p id="{field}-{seq}-error" class="tb-error-message">(.*?)</p>',
                           html, re.S)  # the same words beside the field, its form open
        assert inline and message in inline.group(1), (op, form)
        assert f'id="op-{op}-{seq}" open' in html
        assert _clock(demo, run, seq) == before and _audits(demo) == audits
    english = _english(client, url)  # the same refusal in the user's language
    response = client.post(f"{url}/clock", data={
        "csrf_token": csrf(english), "op": "pause_clock", "deadline": str(seq),
        "reason": "hearing", "expected_days": "400"})
    assert response.status_code == 422
    assert "Enter the working days needed as a whole number from 1 to 365" in \
        response.get_data(as_text=True)
    assert _clock(demo, run, seq) == before and _audits(demo) == audits


def test_a_clock_form_for_a_finished_clock_or_an_unknown_action_is_refused(demo) -> None:  # type: ignore[no-untyped-def]
    run, = world(demo, ("2611-RSJ2-DONE", {"due": date(2026, 11, 24), "state": "done"}))
    client = Personas(demo.test_client()).as_("reviewer")
    page = client.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    url = f"/review/tasks/{run.tasks['review']}/clock"
    finished = client.post(url, data={"csrf_token": csrf(page), "op": "pause_clock",
                                      "deadline": str(run.seq), "reason": "hearing",
                                      "expected_days": "5"})
    assert finished.status_code == 422
    assert "这个办理时限已不再计时。" in finished.get_data(as_text=True)
    unknown = client.post(url, data={"csrf_token": csrf(page), "op": "stop_time",
                                     "deadline": str(run.seq)})
    assert unknown.status_code == 400
    citizen = Personas(demo.test_client()).as_("citizen")
    token = csrf(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert citizen.post(url, data={"csrf_token": token, "op": "pause_clock",
                                   "deadline": str(run.seq)}).status_code == 403


def test_the_approver_finds_the_extensions_waiting_for_them_in_the_inbox(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], reference="2611-RSJ2-EXT1")
    give_to(run, "reviewer")
    clock_row(run, scope="application", due=date(2026, 12, 1), amount=20,
              extension_limit=10, pending_extension={
                  "units": 10, "reason": "需组织专家论证", "requested_by": run.users["reviewer"],
                  "approver_id": run.users["deptadmin"], "at": NOW.isoformat()})
    other = review_world.build(demo.extensions["tongban.engine"], reference="2611-RSJ2-EXT2")
    clock_row(other, scope="application", due=date(2026, 12, 1), amount=20)
    admin = Personas(demo.test_client()).as_("deptadmin")
    inbox = _text(admin.get("/review").get_data(as_text=True))
    assert "等待您审批的延期 2611-RSJ2-EXT1 · 再延长 10 个工作日，申请人 王审核 · 需组织专家论证" \
        in inbox
    assert "2611-RSJ2-EXT2" not in inbox
    # The header's count includes the decision waiting for them.
    tabs = [int(n) for n in re.findall(r"(?:我的待办|小组待办) \((\d+)\)", inbox)]
    header = re.search(r'tb-header__count" aria-label="[^"]*">(\d+)<',
                       admin.get("/review").get_data(as_text=True))
    assert len(tabs) == 2 and header is not None and int(header.group(1)) == sum(tabs) + 1
    reviewer = _text(Personas(demo.test_client()).as_("reviewer").get("/review")
                     .get_data(as_text=True))
    assert "等待您审批的延期" not in reviewer
    panel = _text(admin.get(f"/review/tasks/{run.tasks['review']}").get_data(as_text=True))
    assert "已申请延期 再延长 10 个工作日，等待 赵管理 审批 · 需组织专家论证" in panel


def test_the_timeline_says_why_a_clock_paused_in_words(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], reference="2611-RSJ2-TL1")
    review_world.add_event(run, "clock_paused", node="review", actor="reviewer",
                           status="in_progress", minutes=90,
                           data={"reason": "testing", "note": "送检样品"})
    citizen = _text(Personas(demo.test_client()).as_("citizen").get(
        f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "暂停计时 · 初审" in citizen and "检验检测 · 送检样品" in citizen
    assert "testing" not in citizen
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        assert session.scalars(select(FlowEvent).where(
            col(FlowEvent.type) == "clock_paused")).one().data["reason"] == "testing"


# --- Through the engine: a flow that keeps time, started on Monday 2026-11-16 ------------------

def _seqs(demo: Any, run: review_world.Run) -> dict[str, int]:
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        return {row.scope: row.seq for row in session.scalars(select(FlowDeadline).where(
            col(FlowDeadline.instance_id) == run.instance_id))}


def _events(demo: Any, run: review_world.Run) -> list[str]:
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        return [e.type for e in session.scalars(select(FlowEvent).where(
            col(FlowEvent.instance_id) == run.instance_id).order_by(col(FlowEvent.seq)))]


def test_pause_restart_and_an_approved_extension_through_the_pages(demo) -> None:  # type: ignore[no-untyped-def]
    run = start_timed(demo)
    seqs = _seqs(demo, run)
    reviewer = Personas(demo.test_client()).as_("reviewer")
    url = f"/review/tasks/{run.tasks['review']}"
    page = reviewer.get(url).get_data(as_text=True)
    panel = _text(page.split('id="time-limit"', 1)[1].split("</section>", 1)[0])
    assert "本环节 规则 5 个工作日 开始计时 2026-11-16 10:00 截止时间 2026-11-23" in panel
    assert "已用 2 个工作日，剩余 3 个工作日" in panel
    assert "20 个工作日 · 经批准最多可再延长 10 个工作日 · 行政许可法第四十二条" in panel
    assert f'id="op-pause_clock-{seqs["application"]}"' in page
    # Stop the statutory clock for an expert review (the applicant is told in writing).
    audits = _audits(demo)
    response = reviewer.post(f"{url}/clock", data={
        "csrf_token": csrf(page), "op": "pause_clock", "deadline": str(seqs["application"]),
        "reason": "expert_review", "note": "请省专家库评审", "expected_days": "10"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{url}?done=pause_clock#time-limit")
    assert _clock(demo, run, seqs["application"])["state"] == "paused"
    assert "clock_paused" in _events(demo, run) and _audits(demo) > audits
    citizen = Personas(demo.test_client()).as_("citizen")
    mine = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "办理时限 已暂停计时 自 2026-11-18 起 · 专家评审 · 请省专家库评审" in mine
    assert "您的申请自 2026-11-18 起因“专家评审”暂停计时，预计需要 10 个工作日。" in mine
    assert "已暂停计时 2026-11-18 10:00 · 上海市人力资源和社会保障局 审核人员 专家评审" in mine
    assert "撤回申请" not in mine  # someone is working on it
    # A second pause is the engine's to refuse: said on the page, nothing changed.
    page = reviewer.get(url).get_data(as_text=True)
    assert f'id="op-pause_clock-{seqs["application"]}"' not in page
    assert f'id="op-resume_clock-{seqs["application"]}"' in page
    before = _clock(demo, run, seqs["application"])
    again = reviewer.post(f"{url}/clock", data={
        "csrf_token": csrf(page), "op": "pause_clock", "deadline": str(seqs["application"]),
        "reason": "hearing", "expected_days": "5"})
    assert again.status_code == 422 and "计时已暂停" in again.get_data(as_text=True)
    assert _clock(demo, run, seqs["application"]) == before
    # Restart it, then ask the department's administrator for five more days.
    assert reviewer.post(f"{url}/clock", data={
        "csrf_token": csrf(page), "op": "resume_clock",
        "deadline": str(seqs["application"])}).status_code == 302
    assert _clock(demo, run, seqs["application"])["state"] == "running"
    page = reviewer.get(url).get_data(as_text=True)
    assert "赵管理（上海市人力资源和社会保障局 部门管理员）" in page  # the approver to choose
    assert reviewer.post(f"{url}/clock", data={
        "csrf_token": csrf(page), "op": "request_extension",
        "deadline": str(seqs["application"]), "units": "5", "reason": "需组织专家论证",
        "approver": str(run.users["deptadmin"])}).status_code == 302
    admin = Personas(demo.test_client()).as_("deptadmin")
    inbox = _text(admin.get("/review").get_data(as_text=True))
    assert f"等待您审批的延期 {run.reference} · 再延长 5 个工作日，申请人 王审核" in inbox
    page = admin.get(url).get_data(as_text=True)
    refused = admin.post(f"{url}/clock", data={
        "csrf_token": csrf(page), "op": "decide_extension",
        "deadline": str(seqs["application"]), "decision": "refuse"})
    assert refused.status_code == 422
    assert f'<a href="#decision_comment-{seqs["application"]}-error">请填写不同意延期的理由</a>' \
        in refused.get_data(as_text=True)
    assert admin.post(f"{url}/clock", data={
        "csrf_token": csrf(page), "op": "decide_extension",
        "deadline": str(seqs["application"]), "decision": "approve"}).status_code == 302
    row = _clock(demo, run, seqs["application"])
    assert row["extended"] == 5 and not row["pending_extension"]
    panel = _text(reviewer.get(url).get_data(as_text=True))
    assert "20 个工作日（+5，经批准） · 经批准最多可再延长 5 个工作日" in panel
    mine = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "办理时限已延长" in mine and "申请延期" not in mine
