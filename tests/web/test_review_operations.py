"""Issue 11 (task page operations, citizen progress): every button through the real runtime, and
every refusal with its exact message and nothing changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import col

from tongban.models import AnswerVersion, Application, Delegation, FlowTask

from ..conftest import Personas
from . import review_world
from .journey import csrf, errors_in
from .page_text import text as _text

CORRECTION_CLOSED = "没有待答复的补正通知：补正期限已结束"


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    """The runtime keeps compiled flows by definition version id, for the life of the process;
    every test's database numbers its versions from 1 again."""
    review_world.forget_compiled_flows()


def _as(demo, username: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    return Personas(demo.test_client()).as_(username)


def _post(client: FlaskClient, task_id: int, op: str, *, version: int | None = None,
          **data: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    if version is None:
        found = re.search(r'name="version" value="(\d+)"', page)
        version = int(found.group(1)) if found else None
    payload = {"csrf_token": csrf(page), "op": op, **data}
    if version is not None:
        payload["version"] = str(version)
    return client.post(f"/review/tasks/{task_id}", data=payload)


def _task(run: review_world.Run, task_id: int) -> FlowTask:
    with run.session() as session:
        found = session.get(FlowTask, task_id)
        assert found is not None
        return found


def _engine(demo):  # type: ignore[no-untyped-def]
    return demo.extensions["tongban.engine"]


def test_an_approval_ends_the_flow_and_shows_everywhere(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    reviewer = _as(demo, "reviewer")
    inbox = reviewer.get("/review").get_data(as_text=True)
    assert run.reference in inbox and f'name="version-{task.id}" value="1"' in inbox
    response = _post(reviewer, task.id, "approve", comment="符合条件")
    assert response.status_code == 302
    assert review_world.status(run) == "approved"
    assert _task(run, task.id).state == "done"
    assert run.reference in reviewer.get("/review?tab=done").get_data(as_text=True)
    assert run.reference not in reviewer.get("/review").get_data(as_text=True)
    citizen = _as(demo, "citizen")
    text = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "已批准" in text and "符合条件" in text and "审核人员" in text
    assert "王审核" not in text


def test_a_stale_post_is_already_handled_by_whom_and_when(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    reviewer = _as(demo, "reviewer")
    assert _post(reviewer, task.id, "approve", version=1).status_code == 302
    done_at = _task(run, task.id).done_at
    again = _post(reviewer, task.id, "approve", version=1)
    assert again.status_code == 409
    from tongban.localtime import local_time

    with demo.test_request_context():
        when = local_time(done_at)
    assert f"此待办已由 王审核 于 {when} 办理" in again.get_data(as_text=True)


def test_someone_elses_task_is_refused_with_403_and_nothing_changes(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    refused = _post(_as(demo, "deptadmin"), task.id, "approve", version=1)
    assert refused.status_code == 403
    assert "此待办不是分配给您的" in refused.get_data(as_text=True)
    assert _task(run, task.id).state == "open" and review_world.status(run) == "in_progress"


@pytest.mark.parametrize(("op", "extra", "message"), [
    ("reject", {}, "请填写驳回理由"),
    ("return", {"target": "applicant"}, "请填写退回理由"),
    ("transfer", {"to_user": "deptadmin"}, "请填写转办理由"),
])
def test_reject_return_and_transfer_need_a_comment(demo, op, extra, message) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    if extra.get("to_user"):
        extra = {"to_user": str(run.users[extra["to_user"]])}
    response = _post(_as(demo, "reviewer"), task.id, op, comment="  ", **extra)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in errors_in(html)
    assert f'<details class="tb-action" id="op-{op}" open>' in html  # beside its field
    assert _task(run, task.id).version == 1 and review_world.status(run) == "in_progress"


def test_a_return_to_a_node_that_never_ran_is_refused(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-straight-back")
    task = review_world.open_task(run, "first")
    response = _post(_as(demo, "deptadmin"), task.id, "return", target="second",
                     comment="退回复审")
    assert response.status_code == 422
    assert "此申请尚未经过环节 复审，不能退回到该环节" in errors_in(
        response.get_data(as_text=True))
    assert _task(run, task.id).state == "open"


def test_the_applicant_cannot_be_added_as_a_signer(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    response = _post(_as(demo, "reviewer"), task.id, "add_signer",
                     users=str(run.users["citizen"]), where="after")
    assert response.status_code == 422
    assert "不能将申请人加为加签人" in errors_in(response.get_data(as_text=True))
    assert review_world.open_task(run, "review").id == task.id


def test_a_transfer_moves_the_task_to_the_person_chosen(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    response = _post(_as(demo, "reviewer"), task.id, "transfer",
                     to_user=str(run.users["deptadmin"]), comment="请赵管理办理")
    assert response.status_code == 302
    assert _task(run, task.id).state == "transferred"
    moved = review_world.open_task(run, "review", "deptadmin")
    assert moved is not None
    assert run.reference in _as(demo, "deptadmin").get("/review").get_data(as_text=True)


def test_a_withdrawn_application_cannot_be_acted_on(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    citizen = _as(demo, "citizen")
    page = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    assert "撤回申请" in page
    withdrawn = citizen.post(f"/my/applications/{run.reference}/withdraw",
                             data={"csrf_token": csrf(page)})
    assert withdrawn.status_code == 302
    assert review_world.status(run) == "withdrawn"
    refused = _post(_as(demo, "reviewer"), task.id, "approve", version=1)
    assert refused.status_code == 409
    assert review_world.status(run) == "withdrawn"


def test_claim_then_approve_a_group_task_and_release_it(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-intake", clerk=True)
    intake = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    refused = _post(clerk, intake.id, "refuse_intake", comment="")
    assert refused.status_code == 422
    assert "请填写不予受理的理由" in errors_in(refused.get_data(as_text=True))
    assert _post(clerk, intake.id, "accept", comment="材料齐全").status_code == 302
    assert review_world.status(run) == "in_progress"
    review = review_world.open_task(run, "review")
    reviewer = _as(demo, "reviewer")
    group = reviewer.get("/review?tab=group").get_data(as_text=True)
    assert run.reference in group
    page = reviewer.get(f"/review/tasks/{review.id}").get_data(as_text=True)
    assert "李窗口" in _text(page)  # the clerk who took it in
    assert _post(reviewer, review.id, "claim").status_code == 302
    assert _task(run, review.id).assignee_id == run.users["reviewer"]
    assert _post(reviewer, review.id, "release").status_code == 302
    assert _task(run, review.id).assignee_id is None
    assert _post(reviewer, review.id, "claim").status_code == 302
    assert _post(reviewer, review.id, "approve").status_code == 302
    assert review_world.status(run) == "approved"


def test_a_countersign_with_one_reject_ends_rejected(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-countersign")
    mine = review_world.open_task(run, "sign", "reviewer")
    theirs = review_world.open_task(run, "sign", "deptadmin")
    assert _post(_as(demo, "reviewer"), mine.id, "approve").status_code == 302
    assert review_world.status(run) == "in_progress"
    assert _post(_as(demo, "deptadmin"), theirs.id, "reject",
                 comment="材料不符").status_code == 302
    assert review_world.status(run) == "rejected"
    citizen_view = _text(_as(demo, "citizen").get(
        f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "未批准" in citizen_view and "材料不符" in citizen_view


def test_a_return_to_the_applicant_comes_straight_back(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-straight-back")
    first = review_world.open_task(run, "first")
    assert _post(_as(demo, "deptadmin"), first.id, "approve").status_code == 302
    second = review_world.open_task(run, "second")
    assert _post(_as(demo, "reviewer"), second.id, "return", target="applicant",
                 comment="请核对手机号").status_code == 302
    assert review_world.status(run) == "returned"
    citizen = _as(demo, "citizen")
    page = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    assert "您的申请已被退回" in page and "请核对手机号" in page
    assert f'action="/my/applications/{run.reference}/resubmit"' in page
    sent = citizen.post(f"/my/applications/{run.reference}/resubmit",
                        data={"csrf_token": csrf(page)})
    assert sent.status_code == 302
    # Straight back: the step that returned it has it again; the first step is not re-walked.
    assert review_world.status(run) == "in_progress"
    assert review_world.open_task(run, "first") is None
    assert review_world.open_task(run, "second", "reviewer") is not None
    timeline = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "重新提交" in timeline and "您的申请已被退回" not in timeline


def test_a_correction_request_is_answered_by_the_applicant(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-intake")
    intake = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    none = _post(clerk, intake.id, "correction", comment="缺材料")
    assert none.status_code == 422
    assert "请至少勾选一项需要补正的内容或材料" in errors_in(none.get_data(as_text=True))
    asked = _post(clerk, intake.id, "correction", questions="applicant.mobile",
                  comment="手机号无法接通")
    assert asked.status_code == 302
    assert review_world.status(run) == "correction_requested"
    citizen = _as(demo, "citizen")
    page = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    assert "您需要补正的内容" in page and "手机号无法接通" in page
    form = citizen.get(f"/my/applications/{run.reference}/correct").get_data(as_text=True)
    assert set(re.findall(r'name="(applicant\.[a-z_]+)"', form)) == {"applicant.mobile"}
    bad = citizen.post(f"/my/applications/{run.reference}/correct", data={
        "csrf_token": csrf(form), "applicant.mobile": "123"})
    assert bad.status_code == 422 and review_world.status(run) == "correction_requested"
    sent = citizen.post(f"/my/applications/{run.reference}/correct", data={
        "csrf_token": csrf(form), "applicant.mobile": "13900001111"})
    assert sent.status_code == 302
    assert review_world.status(run) == "submitted"  # back at intake, as before the request
    assert review_world.open_task(run, "intake") is not None
    again = citizen.post(f"/my/applications/{run.reference}/correct", data={
        "csrf_token": csrf(form), "applicant.mobile": "13700000000"})
    assert again.status_code == 409
    assert CORRECTION_CLOSED in again.get_data(as_text=True)
    with run.session() as session:
        application = session.get(Application, run.application_id)
        assert application is not None
        assert application.answers["applicant"]["mobile"] == "13900001111"
        assert application.answers["applicant"]["name"] == "张三"
        kept = session.scalars(select(AnswerVersion).where(
            col(AnswerVersion.application_id) == run.application_id)).one()
        assert kept.answers["applicant"]["mobile"] == "13812345678"
    timeline = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "已提交补正" in timeline


def test_an_approver_withdraws_their_action_while_the_next_step_has_not_acted(demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(_engine(demo), "web-straight-back")
    first = review_world.open_task(run, "first")
    admin = _as(demo, "deptadmin")
    assert _post(admin, first.id, "approve").status_code == 302
    page = admin.get(f"/review/tasks/{first.id}").get_data(as_text=True)
    assert 'name="op" value="withdraw_action"' in page
    assert _post(admin, first.id, "withdraw_action").status_code == 302
    assert review_world.open_task(run, "first") is not None
    assert review_world.open_task(run, "second") is None


def test_bulk_approval_reports_each_task(demo) -> None:  # type: ignore[no-untyped-def]
    one = review_world.start(_engine(demo), "web-approve", reference="2610-RSJ2-BLK1")
    two = review_world.start(_engine(demo), "web-approve", reference="2610-RSJ2-BLK2")
    first, second = review_world.open_task(one, "review"), review_world.open_task(two, "review")
    reviewer = _as(demo, "reviewer")
    inbox = reviewer.get("/review").get_data(as_text=True)
    response = reviewer.post("/review/bulk-approve", data={
        "csrf_token": csrf(inbox), "task": [str(first.id), str(second.id)],
        f"version-{first.id}": "1", f"version-{second.id}": "7", "comment": "批量同意"})
    assert response.status_code == 200
    text = _text(response.get_data(as_text=True))
    assert "已批准 1 项，未批准 1 项。" in text
    assert review_world.status(one) == "approved" and review_world.status(two) == "in_progress"
    assert "2610-RSJ2-BLK2 未批准" in text


def test_an_away_window_is_set_refused_when_reversed_and_cancelled(demo) -> None:  # type: ignore[no-untyped-def]
    reviewer = _as(demo, "reviewer")
    page = reviewer.get("/review/away").get_data(as_text=True)
    admin_id = re.search(r'<option value="(\d+)">赵管理', page).group(1)  # type: ignore[union-attr]
    reversed_ = reviewer.post("/review/away", data={
        "csrf_token": csrf(page), "delegate": admin_id, "starts_at": "2026-12-08T09:00",
        "ends_at": "2026-12-01T09:00"})
    assert reversed_.status_code == 422
    assert "委托的结束时间必须晚于开始时间" in errors_in(reversed_.get_data(as_text=True))
    with demo.extensions["tongban.engine"].connect() as connection:
        assert connection.execute(select(func.count()).select_from(Delegation)).scalar() == 0
    kept = reviewer.post("/review/away", data={
        "csrf_token": csrf(page), "delegate": admin_id, "starts_at": "2036-12-01T09:00",
        "ends_at": "2036-12-08T09:00"})
    assert kept.status_code == 302
    listed = reviewer.get("/review/away").get_data(as_text=True)
    assert "2036-12-01 09:00" in listed and "赵管理" in listed
    cancel = re.search(r'action="(/review/away/\d+/cancel)"', listed).group(1)  # type: ignore[union-attr]
    assert reviewer.post(cancel, data={"csrf_token": csrf(listed)}).status_code == 302
    assert "2036-12-01 09:00" not in reviewer.get("/review/away").get_data(as_text=True)
