"""Issue 17 item 5, mandates (代办): at the counter a clerk records that a person authorises an
agent for named services until a date, with the signed power of attorney scanned in as the
person's material (level B). The counter and the agent's own account honour a mandate only
while it is in force and for its services, each use audited; a mandate that ended or does
not name the service is refused with 403 and nothing is started."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select, update

from tongban.forms import date_limits
from tongban.ledger_demo import CITIZEN_ID_NUMBER
from tongban.models import AuditEvent, Draft, Mandate, Material

from ..conftest import csrf_token
from .journey import PDF, errors_in
from .test_counter_desk import LISI, _create

NOT_COVERED = "该代办授权不包括此事项：上海市居住证积分申请。未开始任何办理。"


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(model)))


def _record(client, token: str, public_id: str, **changes):  # type: ignore[no-untyped-def]
    ends = (date_limits.today() + timedelta(days=90)).isoformat()
    data = {"csrf_token": token, "agent_number": CITIZEN_ID_NUMBER, "agent_name": "张三",
            "services": ["household-transfer"], "expires_on": ends,
            "file-mandate": (io.BytesIO(PDF), "委托书.pdf"), **changes}
    return client.post(f"/counter/people/{public_id}/mandates", data=data,
                       content_type="multipart/form-data")


def _principal(personas):  # type: ignore[no-untyped-def]
    client = personas.as_("clerk_xuhui")
    token = csrf_token(client, "/counter")
    return client, token, _create(client, token, LISI, "李四").rsplit("/", 1)[1]


def test_a_clerk_records_a_mandate_with_its_power_of_attorney(personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token, public_id = _principal(personas)
    response = _record(client, token, public_id)
    assert response.status_code == 303, errors_in(response.get_data(as_text=True))
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    assert mandate.services == ["household-transfer"]
    evidence = session.scalars(select(Material).where(
        Material.public_id == mandate.evidence)).one()
    assert evidence is not None
    assert (evidence.owner, evidence.type_code, evidence.trust_level, evidence.expires_on) == (
        LISI, "power-of-attorney", "B", mandate.expires_on)
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "mandate.create")) == 1
    page = client.get(f"/counter/people/{public_id}").get_data(as_text=True)
    assert "由代办人张三办理：户口迁入" in page


def test_a_bad_mandate_is_refused_with_its_reason_and_nothing_is_recorded(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token, public_id = _principal(personas)
    yesterday = (date_limits.today() - timedelta(days=1)).isoformat()
    for changes, message in [
            ({"services": []}, "请至少选择一个授权代办的事项"),
            ({"expires_on": yesterday}, "授权截止日期须晚于今天"),
            ({"expires_on": "明年"}, "请输入授权截止日期，例如 2027-06-30"),
            ({"agent_number": LISI}, "代办人不能是申请人本人"),
            ({"agent_number": CITIZEN_ID_NUMBER[:-1] + "1"}, "身份证号码校验位不正确，请核对最后一位。"),
            ({"file-mandate": (io.BytesIO(b"plain text"), "a.txt")},
             "所选文件必须是PDF、JPG或PNG格式")]:
        response = _record(client, token, public_id, **changes)
        assert response.status_code == 422, changes
        assert errors_in(response.get_data(as_text=True)) == [message]
    assert _count(session, Mandate) == 0
    assert _count(session, Material) == 0


def test_the_counter_honours_a_mandate_for_its_services_only(personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token, public_id = _principal(personas)
    assert _record(client, token, public_id).status_code == 303
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    response = client.post(f"/counter/people/{public_id}/services/residence-points/start",
                           data={"csrf_token": token, "mandate": mandate.public_id})
    assert response.status_code == 403
    assert NOT_COVERED in response.get_data(as_text=True)
    assert _count(session, Draft) == 0
    response = client.post(f"/counter/people/{public_id}/services/household-transfer/start",
                           data={"csrf_token": token, "mandate": mandate.public_id})
    assert response.status_code == 303
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    assert (draft.mandate_id, draft.person_id is not None) == (mandate.id, True)
    use = session.scalars(select(AuditEvent).where(AuditEvent.action == "mandate.use")).one()
    assert use.object_id == mandate.public_id
    assert use.after == {"service": "household-transfer", "draft": draft.id,
                         "channel": "counter"}


def test_the_agent_applies_online_until_the_mandate_ends(personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token, public_id = _principal(personas)
    assert _record(client, token, public_id).status_code == 303
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    agent = personas.as_("citizen")  # 张三, whose verified ID number is the agent's
    page = agent.get("/my/mandates").get_data(as_text=True)
    assert "为李四代办：户口迁入" in page
    token = csrf_token(agent, "/my/mandates")
    start = f"/my/mandates/{mandate.public_id}/services/household-transfer/start"
    response = agent.post(f"/my/mandates/{mandate.public_id}/services/residence-points/start",
                          data={"csrf_token": token})
    assert response.status_code == 403 and NOT_COVERED in response.get_data(as_text=True)
    response = agent.post(start, data={"csrf_token": token})
    assert response.status_code == 303
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    assert draft.answers["applicant"] == {"id_number": LISI, "name": "李四"}
    assert draft.clerk_id is None and draft.mandate_id == mandate.id
    transfer = agent.get(f"/apply/{draft.token}/pages/transfer").get_data(as_text=True)
    assert "是否有家庭成员随申请人一起迁入" in transfer
    assert "您正在受李四委托代为填写" in transfer
    assert session.scalars(select(AuditEvent.after).where(
        AuditEvent.action == "mandate.use")).one()["channel"] == "online"

    ended = date_limits.today() - timedelta(days=1)
    session.rollback()  # a fresh snapshot to write from
    session.execute(update(Mandate).values(expires_on=ended))
    session.commit()
    response = agent.post(start, data={"csrf_token": token})
    assert response.status_code == 403
    assert (f"该代办授权已于 {ended.isoformat()} 到期，不能再使用。未开始任何办理。"
            in response.get_data(as_text=True))
    assert _count(session, Draft) == 1


def test_someone_who_is_not_the_agent_cannot_use_a_mandate(personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token, public_id = _principal(personas)
    assert _record(client, token, public_id).status_code == 303
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    other = personas.as_("enterprise")
    assert "李四" not in other.get("/my/mandates").get_data(as_text=True)
    response = other.post(f"/my/mandates/{mandate.public_id}/services/household-transfer/start",
                          data={"csrf_token": csrf_token(other, "/my/mandates")})
    assert response.status_code == 404
    assert _count(session, Draft) == 0
