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


REVOKED_USE = "该代办授权已于 {day} 撤销，不能再使用。未开始任何办理。"


def _audits(session, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.id)))


def _revoked_state(session) -> tuple:  # type: ignore[no-untyped-def]
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    return mandate.revoked_at, mandate.revoked_by, mandate.revoked_via, mandate.revoked_reason


def test_a_clerk_revokes_a_mandate_and_the_agent_is_refused_from_then_on(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    """At the counter, on the principal's page: without a reason the message and nothing
    changed; with one the mandate is 已撤销 with who, when and why, audited; the agent online
    and the counter are then refused as for an ended mandate (403, audited, nothing started);
    revoking twice is refused and changes nothing."""
    client, token, public_id = _principal(personas)
    assert _record(client, token, public_id).status_code == 303
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    revoke = f"/counter/people/{public_id}/mandates/{mandate.public_id}/revoke"
    page = client.get(f"/counter/people/{public_id}").get_data(as_text=True)
    assert f'action="{revoke}"' in page

    blank = client.post(revoke, data={"csrf_token": token, "reason": "   "})
    assert blank.status_code == 422
    assert errors_in(blank.get_data(as_text=True)) == ["请填写撤销代办授权的理由"]
    assert _revoked_state(session) == (None, None, None, None)
    assert _audits(session, "mandate.revoke") == []

    done = client.post(revoke, data={"csrf_token": token, "reason": "委托人改为本人办理"})
    assert done.status_code == 303, done.get_data(as_text=True)
    revoked_at, revoked_by, via, reason = _revoked_state(session)
    assert revoked_at is not None and (via, reason) == ("counter", "委托人改为本人办理")
    [event] = _audits(session, "mandate.revoke")
    assert (event.object_id, event.actor_name, event.after["via"], event.after["reason"]) == (  # type: ignore[index]
        mandate.public_id, "clerk_xuhui", "counter", "委托人改为本人办理")
    page = client.get(f"/counter/people/{public_id}").get_data(as_text=True)
    assert "已撤销" in page and "窗口工作人员 clerk_xuhui 于" in page
    assert "理由：委托人改为本人办理" in page
    assert "由代办人张三办理" not in page and f'action="{revoke}"' not in page

    day = date_limits.today().isoformat()
    agent = personas.as_("citizen")
    listed = agent.get("/my/mandates").get_data(as_text=True)
    assert "已撤销" in listed and "为李四代办" not in listed
    online = agent.post(f"/my/mandates/{mandate.public_id}/services/household-transfer/start",
                        data={"csrf_token": csrf_token(agent, "/my/mandates")})
    assert online.status_code == 403
    assert REVOKED_USE.format(day=day) in online.get_data(as_text=True)
    client = personas.as_("clerk_xuhui")  # one client: signed in as the clerk again
    token = csrf_token(client, "/counter")
    at_counter = client.post(f"/counter/people/{public_id}/services/household-transfer/start",
                             data={"csrf_token": token, "mandate": mandate.public_id})
    assert at_counter.status_code == 403
    assert REVOKED_USE.format(day=day) in at_counter.get_data(as_text=True)
    assert _count(session, Draft) == 0
    assert _audits(session, "mandate.use") == []
    assert [(e.after["reason"], e.after["channel"]) for e in _audits(  # type: ignore[index]
        session, "mandate.use_refused")] == [("revoked", "online"), ("revoked", "counter")]

    before = _revoked_state(session)
    again = client.post(revoke, data={"csrf_token": token, "reason": "再撤销一次"})
    assert again.status_code == 409
    assert f"该代办授权已于 {day} 撤销。未作任何更改。" in again.get_data(as_text=True)
    assert _revoked_state(session) == before
    assert len(_audits(session, "mandate.revoke")) == 1


def test_the_principal_revokes_their_own_mandate_online_and_no_one_else_can(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    """张三 (the citizen account, whose verified ID number is the principal's) sees the mandates
    they gave at /my/mandates and revokes one with a reason; another account, or a clerk on
    another person's page, is refused with the message and nothing changes. In English the
    refusal of a use is in English."""
    client = personas.as_("clerk_xuhui")
    token = csrf_token(client, "/counter")
    principal = _create(client, token, CITIZEN_ID_NUMBER, "张三").rsplit("/", 1)[1]
    other_person = _create(client, token, LISI, "李四").rsplit("/", 1)[1]
    assert _record(client, token, principal, agent_number=LISI, agent_name="李四",
                   **{"file-mandate": (io.BytesIO(PDF), "委托书.pdf")}).status_code == 303
    session.rollback()
    mandate = session.scalars(select(Mandate)).one()
    revoke = f"/my/mandates/{mandate.public_id}/revoke"

    outsider = personas.as_("enterprise")
    refused = outsider.post(revoke, data={"csrf_token": csrf_token(outsider, "/my/mandates"),
                                          "reason": "不是我的"})
    assert refused.status_code == 403
    assert "该代办授权不是此人给出的，不能在此撤销。未作任何更改。" in refused.get_data(as_text=True)
    client = personas.as_("clerk_xuhui")  # one client: signed in as the clerk again
    token = csrf_token(client, "/counter")
    wrong_page = client.post(f"/counter/people/{other_person}/mandates/{mandate.public_id}/revoke",
                             data={"csrf_token": token, "reason": "走错页面"})
    assert wrong_page.status_code == 403
    assert _revoked_state(session) == (None, None, None, None)
    assert _audits(session, "mandate.revoke") == []

    citizen = personas.as_("citizen")
    page = citizen.get("/my/mandates").get_data(as_text=True)
    assert "我给出的代办授权" in page and f'action="{revoke}"' in page
    too_long = citizen.post(revoke, data={"csrf_token": csrf_token(citizen, "/my/mandates"),
                                          "reason": "长" * 501})
    assert too_long.status_code == 422
    assert errors_in(too_long.get_data(as_text=True)) == ["理由不能超过 500 个字"]
    assert _revoked_state(session) == (None, None, None, None)
    done = citizen.post(revoke, data={"csrf_token": csrf_token(citizen, "/my/mandates"),
                                      "reason": "已自行办理"})
    assert done.status_code == 303, done.get_data(as_text=True)
    _at, by, via, reason = _revoked_state(session)
    assert (via, reason) == ("online", "已自行办理") and by is not None
    [event] = _audits(session, "mandate.revoke")
    assert event.actor_name == "citizen"
    page = citizen.get("/my/mandates").get_data(as_text=True)
    assert "授权人本人于" in page and "在线撤销。理由：已自行办理" in page
    assert f'action="{revoke}"' not in page

    client = personas.as_("clerk_xuhui")
    token = csrf_token(client, "/counter")
    client.post("/settings/language", data={"csrf_token": token, "locale": "en",
                                            "next": "/counter"})
    used = client.post(f"/counter/people/{principal}/services/household-transfer/start",
                       data={"csrf_token": token, "mandate": mandate.public_id})
    assert used.status_code == 403
    assert (f"This mandate was revoked on {date_limits.today().isoformat()} and can no longer "
            "be used. Nothing was started." in used.get_data(as_text=True))
    assert _count(session, Draft) == 0


def test_an_ended_mandate_has_nothing_to_revoke(personas, session) -> None:  # type: ignore[no-untyped-def]
    client, token, public_id = _principal(personas)
    assert _record(client, token, public_id).status_code == 303
    ended = date_limits.today() - timedelta(days=1)
    session.rollback()
    session.execute(update(Mandate).values(expires_on=ended))
    session.commit()
    mandate = session.scalars(select(Mandate)).one()
    response = client.post(f"/counter/people/{public_id}/mandates/{mandate.public_id}/revoke",
                           data={"csrf_token": token, "reason": "到期"})
    assert response.status_code == 409
    assert (f"该代办授权已于 {ended.isoformat()} 到期，无需撤销。未作任何更改。"
            in response.get_data(as_text=True))
    assert _revoked_state(session) == (None, None, None, None)
    assert _audits(session, "mandate.revoke") == []
