"""Issue 11 (review inbox, task page, citizen progress): what the pages show of a flow run
(written as rows: tests/web/review_world.py), and where people land after signing in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.models import AuditEvent, FlowEvent, FlowTask

from ..conftest import Personas
from . import review_world
from .journey import csrf
from .page_text import text as _text

CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")


def _cells(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", TAG.sub(" ", c)).strip() for c in CELL.findall(html)]


def _english(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    client.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en",
                                            "next": path})
    return client.get(path).get_data(as_text=True)


@pytest.fixture
def run(demo):  # type: ignore[no-untyped-def]
    return review_world.build(demo.extensions["tongban.engine"])


@pytest.mark.parametrize(("username", "landing"), [
    ("reviewer", "/review"), ("clerk", "/review"), ("deptadmin", "/review"),
    ("admin", "/review"), ("citizen", "/my"), ("enterprise", "/my"), ("outsider", "/my")])
def test_staff_land_on_their_inbox_and_applicants_on_their_applications(
        personas, username: str, landing: str) -> None:  # type: ignore[no-untyped-def]
    response = personas.login(username)
    assert response.status_code == 302 and response.headers["Location"] == landing


def test_the_header_links_staff_to_the_inbox_with_counts_and_applicants_to_my(
        run, demo) -> None:  # type: ignore[no-untyped-def]
    reviewer = Personas(demo.test_client()).as_("reviewer")
    html = reviewer.get("/").get_data(as_text=True)
    link = re.search(r'<a class="tb-header__link" href="/review">(.*?)</a>', html, re.S)
    assert link, html
    assert "审核待办" in link.group(1) and ">1</span>" in link.group(1)  # the group task
    assert 'href="/my"' not in html
    citizen = Personas(demo.test_client()).as_("citizen")
    html = citizen.get("/").get_data(as_text=True)
    assert '<a class="tb-header__link" href="/my">我的申请</a>' in html
    assert 'href="/review"' not in html
    clerk = Personas(demo.test_client()).as_("clerk").get("/").get_data(as_text=True)
    assert 'href="/review"' in clerk and 'href="/my"' in clerk  # counter clerks have both


def test_the_inbox_lists_group_tasks_by_name_and_local_time(run, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tongban.web import deadline_views

    # Seen the day the task arrived: three working days before it is due, so no mark.
    monkeypatch.setattr(deadline_views, "now", lambda: review_world.T0)
    client = Personas(demo.test_client()).as_("reviewer")
    mine = client.get("/review").get_data(as_text=True)
    # Nothing of their own, one task waiting for their group: said, one click away.
    assert "这里没有任务。" not in mine
    assert "您没有自己的待办。 您的小组有 1 件任务待认领。" in _text(mine)
    assert re.search(r'<a class="tb-button" href="/review\?tab=group">查看小组待办并认领</a>', mine)
    html = client.get("/review?tab=group").get_data(as_text=True)
    assert _cells(html) == [
        run.reference, "上海市居住证积分申请 上海市人力资源和社会保障局", "初审", "审核中",
        "2026-10-14 10:00", "上海市人力资源和社会保障局"]
    assert f'href="/review/tasks/{run.tasks["review"]}"' in html
    english = _english(client, "/review?tab=group")
    assert _cells(english)[2:4] == ["Initial review", "Being reviewed"]


def test_the_inbox_filters_and_refuses_a_bad_due_date(run, demo) -> None:  # type: ignore[no-untyped-def]
    client = Personas(demo.test_client()).as_("reviewer")
    kept = client.get("/review?tab=group&service=residence-points&status=in_progress"
                      "&due=2026-10-14").get_data(as_text=True)
    assert run.reference in kept
    for query in ("service=urban-event-report", "status=accepted", "due=2026-10-13"):
        assert run.reference not in client.get(f"/review?tab=group&{query}").get_data(
            as_text=True), query
    bad = client.get("/review?tab=group&due=14/10/2026")
    assert bad.status_code == 422
    assert "请按年-月-日填写截止日期，例如 2026-12-31" in bad.get_data(as_text=True)
    assert client.get("/review?status=nonsense").status_code == 422


def test_applicants_and_outsiders_have_no_inbox(run, demo) -> None:  # type: ignore[no-untyped-def]
    assert Personas(demo.test_client()).as_("citizen").get("/review").status_code == 403
    assert Personas(demo.test_client()).as_("outsider").get("/review").status_code == 403
    anonymous = demo.test_client().get("/review")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_task_page_shows_answers_history_clerk_and_the_claim_button(
        demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], clerk=True)
    client = Personas(demo.test_client()).as_("reviewer")
    response = client.get(f"/review/tasks/{run.tasks['review']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    assert "张三" in text and "13812345678" in text  # the answers, read-only
    assert "初审" in text and "审核中" in text  # the current node and status in words
    assert "窗口受理 的" not in text
    # History: what, at which step, who with department and role, when (Shanghai time).
    assert re.search(r"受理了申请\s*</strong>\s*·\s*窗口受理", html)
    assert "2026-10-09 10:30" in text and "李窗口" in text and "材料齐全" in text
    assert "窗口受理人员" in text  # the clerk's role
    assert "窗口收件人" in text and "李窗口" in text  # which clerk took it in
    assert 'name="op" value="claim"' in html
    assert 'name="op" value="approve"' not in html  # not until it is claimed
    assert 'name="version" value="1"' in html


def test_the_task_page_of_a_claimed_task_offers_the_node_operations(run, demo) -> None:  # type: ignore[no-untyped-def]
    with run.session() as session, db.unit_of_work(session):
        task = session.get(FlowTask, run.tasks["review"])
        assert task is not None
        task.state, task.assignee_id = "claimed", run.users["reviewer"]
    html = Personas(demo.test_client()).as_("reviewer").get(
        f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    ops = re.findall(r'name="op" value="([a-z_]+)"', html)
    # Comment and cc appear once the engine has them: no button for an operation it lacks.
    from tongban.web.review import engine_has

    assert ops == ["release", "approve", "reject", "return", "correction", "transfer",
                   "add_signer"] + [op for op in ("cc", "comment") if engine_has(op)]
    # Return goes to the previous step, an earlier step that ran, or the applicant.
    targets = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>',
                         html.split('id="return-target"')[1].split("</select>")[0])
    assert targets == [("previous", "上一步"), ("intake", "窗口受理"), ("applicant", "申请人")]
    # A correction request names the questions and the materials to fix.
    assert 'name="questions" value="applicant.name"' in html
    assert 'name="materials" value="materials.id_card"' in html
    assert "王审核" not in html.split('id="transfer-to"')[1].split("</select>")[0]


def test_a_task_outside_the_reviewers_reach_is_refused(run, demo) -> None:  # type: ignore[no-untyped-def]
    from tongban.accounts import create_user
    from tongban.models import Role

    with db.new_session(demo.extensions["tongban.engine"]) as session, \
            db.unit_of_work(session):
        create_user(session, "cgj", "a-long-password-1", "城管审核", [(Role.REVIEWER, "sh-cgj")],
                    actor_name="test")
    client = Personas(demo.test_client())
    response = client.login("cgj", "a-long-password-1")
    assert response.status_code == 302
    refused = client.client.get(f"/review/tasks/{run.tasks['review']}")
    assert refused.status_code == 403
    assert "这个任务不是您的，也不在您所在的部门。" in refused.get_data(as_text=True)
    assert client.client.get("/review/tasks/999999").status_code == 404


def test_the_applicant_follows_the_steps_by_department_and_role_not_names(
        run, demo) -> None:  # type: ignore[no-untyped-def]
    client = Personas(demo.test_client()).as_("citizen")
    mine = client.get("/my").get_data(as_text=True)
    assert f'href="/my/applications/{run.reference}"' in mine
    assert "审核中" in _cells(mine)
    html = client.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    text = _text(html)
    assert "审核中" in text and "初审" in text
    assert "受理了申请" in text and "窗口受理人员" in text and "2026-10-09 10:30" in text
    assert "李窗口" not in text  # no private names unless the flow says show_names
    assert "撤回申请" not in text  # someone has acted: no withdraw
    other = Personas(demo.test_client()).as_("enterprise")
    assert other.get(f"/my/applications/{run.reference}").status_code == 404


def test_a_flow_may_show_names_and_nobody_acted_offers_withdraw(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], show_names=True)
    client = Personas(demo.test_client()).as_("citizen")
    text = _text(client.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "李窗口" in text
    fresh = review_world.build(demo.extensions["tongban.engine"], status="submitted",
                               reference="2610-RSJ2-FRSH")
    with fresh.session() as session, db.unit_of_work(session):
        from sqlalchemy import delete

        from tongban.models import FlowEvent
        session.execute(delete(FlowEvent).where(FlowEvent.instance_id == fresh.instance_id,
                                                FlowEvent.type == "accepted"))
    html = client.get(f"/my/applications/{fresh.reference}").get_data(as_text=True)
    assert f'action="/my/applications/{fresh.reference}/withdraw"' in html


def test_the_clerk_who_took_it_in_sees_it_among_their_applications(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.build(demo.extensions["tongban.engine"], clerk=True)
    client = Personas(demo.test_client()).as_("clerk")
    mine = client.get("/my").get_data(as_text=True)
    assert run.reference in mine and "本窗口收件" in mine
    assert client.get(f"/my/applications/{run.reference}").status_code == 200


def test_a_correction_request_lists_what_to_fix_and_opens_only_those_questions(
        run, demo) -> None:  # type: ignore[no-untyped-def]
    review_world.add_event(run, "correction_requested", node="review", actor="reviewer",
                           status="correction_requested", minutes=60, data={
                               "questions": ["applicant.mobile"],
                               "materials": ["materials.id_card"], "comment": "手机号无法接通"})
    client = Personas(demo.test_client()).as_("citizen")
    html = client.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    fix = html.split('id="fix-heading"')[1].split("</div>")[0]
    assert "您需要补正的内容" in fix and "手机号无法接通" in fix
    assert "手机号码" in fix and "身份证" in fix
    assert f'href="/my/applications/{run.reference}/correct"' in fix
    page = client.get(f"/my/applications/{run.reference}/correct").get_data(as_text=True)
    names = set(re.findall(r'name="([a-z_]+\.[a-z_.]+)"', page))
    assert names == {"applicant.mobile", "materials.id_card"}
    assert 'value="13812345678"' in page


def test_the_away_page_lists_staff_by_name(run, demo) -> None:  # type: ignore[no-untyped-def]
    html = Personas(demo.test_client()).as_("reviewer").get("/review/away").get_data(
        as_text=True)
    assert "赵管理" in html and 'type="datetime-local"' in html
    assert "王审核" not in html.split('id="delegate"')[1].split("</select>")[0]


def test_bulk_approval_needs_one_to_fifty_tasks(run, demo) -> None:  # type: ignore[no-untyped-def]
    client = Personas(demo.test_client()).as_("reviewer")
    token = csrf(client.get("/review/away").get_data(as_text=True))
    none = client.post("/review/bulk-approve", data={"csrf_token": token})
    assert none.status_code == 422 and "请至少选择一个要批准的任务" in none.get_data(as_text=True)
    many = client.post("/review/bulk-approve", data={
        "csrf_token": token, "task": [str(n) for n in range(1, 52)]})
    assert many.status_code == 422
    assert "每次最多选择 50 个任务" in many.get_data(as_text=True)


def test_a_copy_shows_under_copied_to_me_and_is_not_counted_as_work(run, demo) -> None:  # type: ignore[no-untyped-def]
    with run.session() as session, db.unit_of_work(session):
        session.add(FlowTask(instance_id=run.instance_id, seq=run.next_seq(), token_seq=1,
                             node="review", kind="cc", assignee_id=run.users["deptadmin"],
                             created_at=review_world.T0))
    client = Personas(demo.test_client()).as_("deptadmin")
    copied = client.get("/review?tab=cc").get_data(as_text=True)
    assert run.reference in copied and "抄送我的 (1)" in _text(copied)
    assert run.reference not in client.get("/review").get_data(as_text=True)
    # The header counts work only: the department admin holds no task of their own and is
    # no reviewer, so the group's review task is not theirs either.
    assert re.search(r'class="tb-header__count"[^>]*>0<', copied)


def test_opening_a_copy_reads_it_once_on_the_timeline_and_in_the_audit(run, demo) -> None:  # type: ignore[no-untyped-def]
    with run.session() as session, db.unit_of_work(session):
        copy = FlowTask(instance_id=run.instance_id, seq=run.next_seq(), token_seq=1,
                        node="review", kind="cc", assignee_id=run.users["deptadmin"],
                        created_at=review_world.T0)
        session.add(copy)
        session.flush()
        copy_id = copy.id
    client = Personas(demo.test_client()).as_("deptadmin")
    assert "抄送我的 (1)" in _text(client.get("/review?tab=cc").get_data(as_text=True))
    assert client.get(f"/review/tasks/{copy_id}").status_code == 200
    assert client.get(f"/review/tasks/{copy_id}").status_code == 200  # a second look: no change
    assert "抄送我的 (1)" not in _text(client.get("/review?tab=cc").get_data(as_text=True))
    with run.session() as session:
        read = session.get(FlowTask, copy_id)
        assert read is not None and (read.state, read.done_by) == ("done", run.users["deptadmin"])
        events = session.scalars(select(FlowEvent).where(
            col(FlowEvent.instance_id) == run.instance_id,
            col(FlowEvent.type) == "cc_read")).all()
        assert len(events) == 1
        assert session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.cc_read")).one().actor_name == "deptadmin"
