"""Issue 17 item 7: the eligibility pre-check (/services/<code>/precheck): public, a plain
form, eligible / not eligible / see a clerk with the reason and the materials the answers call
for; from "you can apply" the application starts with the answers the form asks too. And the
rest of item 6: the service guide shows every element of the national guide standard."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, func, select

from tongban.models import AuditEvent, Draft

from .journey import csrf, errors_in

POINTS = "/services/residence-points/precheck"
TRANSFER = "/services/household-transfer/precheck"
QUALIFIES = {"has_permit": "yes", "work": "employee", "social_insurance.months": "36",
             "education.level": "master", "record.serious_crime": "no"}


def check(client: FlaskClient, url: str, answers: dict[str, str], **headers: str):  # type: ignore[no-untyped-def]
    token = csrf(client.get(url).get_data(as_text=True))
    return client.post(url, data={**answers, "csrf_token": token}, headers=headers)


def result(html: str) -> tuple[str, str]:
    found = re.search(r'id="tb-precheck-result" role="status">\s*<h2 class="tb-heading-l">(.*?)'
                      r'</h2>\s*<p class="tb-body">(.*?)</p>', html, re.S)
    assert found is not None, html[-2000:]
    return found.group(1), found.group(2)


def materials(html: str) -> list[str]:
    block = html.split('id="tb-precheck-materials"', 1)[1].split("</ul>", 1)[0]
    return [re.sub(r"<[^>]+>", "", item).split(":")[0].split(" (")[0].strip()
            for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


def counts(session: Session) -> tuple[int, int]:
    return (session.exec(select(func.count()).select_from(Draft)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one())


def test_the_guide_shows_every_element_of_the_guide_standard_and_links_the_precheck(
        demo: Flask, client: FlaskClient) -> None:
    html = client.get("/services/residence-points").get_data(as_text=True)
    facts = dict(re.findall(r'<dt class="tb-summary-list__key">(.*?)</dt><dd class="tb-summary-'
                            r'list__value">(.*?)</dd>', html, re.S))
    assert facts["事项编码"] == "GG-00117-000"
    assert facts["事项类型"] == "公共服务"
    assert facts["实施主体"] == "上海市人力资源和社会保障局"
    assert facts["服务对象"] == "个人"
    assert facts["数量限制"] == "无数量限制"
    assert facts["办理方式"] == "网上办理、窗口办理"
    assert facts["到现场次数"] == "最多 1 次"
    assert facts["法定时限"] == "20 个工作日"
    assert facts["承诺时限"] == "15 个工作日"
    assert facts["网上办理地址"] == (
        '<a class="tb-link" href="http://localhost/services/residence-points">'
        "http://localhost/services/residence-points</a>")
    assert 'href="/progress"' in facts["进度和结果查询"]
    for heading in ("申请条件", "所需材料", "办理流程", "特殊环节", "收费标准", "设定依据",
                    "审批结果", "办理地点", "咨询方式", "监督投诉", "行政救济途径",
                    "申请人权利和义务"):
        assert f'>{heading}</h2>' in html, heading
    assert "原件 或 电子件, 1 份, 来源：公安机关" in html
    assert 'href="/services/residence-points/precheck"' in html
    with client.session_transaction() as cookie:
        cookie["locale"] = "en"
    english = client.get("/services/residence-points").get_data(as_text=True)
    assert ">Item type</dt><dd class=\"tb-summary-list__value\">Public service<" in english
    assert "Check if you can apply and which documents you need" in english


def test_the_precheck_is_public_and_a_plain_form(demo: Flask, client: FlaskClient) -> None:
    response = client.get(POINTS)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form method="post" action="/services/residence-points/precheck" novalidate' in html
    assert '<legend class="tb-fieldset__legend">您是否持有有效的《上海市居住证》？</legend>' in html
    assert '<label class="tb-label" for="pc-social-insurance-months">在本市缴纳职工社会保险的累计月数' \
        in html
    assert client.get("/services/urban-event-report/precheck").status_code == 404  # none
    assert client.get("/services/no-such-service/precheck").status_code == 404


def test_answers_that_qualify_say_so_with_the_materials_they_call_for(
        demo: Flask, client: FlaskClient) -> None:
    html = check(client, POINTS, QUALIFIES).get_data(as_text=True)
    assert result(html) == ("您符合申请条件", "您符合申请条件，可以在网上申请。积分达到标准分值 120 分的，"
                                             "可以享受相应的公共服务待遇。")
    assert materials(html) == ["居民身份证", "上海市居住证", "学历（学位）证书"]
    assert 'action="/services/residence-points/precheck/start"' in html
    html = check(client, POINTS, {**QUALIFIES, "education.level": "none"}).get_data(as_text=True)
    assert materials(html) == ["居民身份证", "上海市居住证"]  # no diploma below college


def test_answers_that_do_not_qualify_or_need_a_clerk_give_the_reason(
        demo: Flask, client: FlaskClient) -> None:
    html = check(client, POINTS, {**QUALIFIES, "has_permit": "no"}).get_data(as_text=True)
    assert result(html)[0] == "您暂不符合申请条件"
    assert "请先办理居住证" in result(html)[1]
    assert "precheck/start" not in html
    html = check(client, POINTS, {**QUALIFIES, "social_insurance.months": "5"}).get_data(as_text=True)
    assert result(html)[1] == "申请积分需要在本市缴纳职工社会保险满 6 个月。"
    html = check(client, POINTS, {**QUALIFIES, "work": "own_business"}).get_data(as_text=True)
    assert result(html)[0] == "请到窗口咨询"
    assert "用人单位所在区的人才服务中心，或网上办理" in html  # where to ask
    html = check(client, TRANSFER, {"transfer.reason": "family", "registered_here": "no",
                                    "has_approval": "yes", "transfer.with_family": "no"}
                 ).get_data(as_text=True)
    assert result(html)[0] == "您符合申请条件"
    assert materials(html) == ["居民身份证", "居民户口簿", "准予迁入证明",
                               "亲属关系证明（结婚证、出生医学证明等）"]


def test_an_unanswered_question_is_named_and_nothing_changes(
        demo: Flask, client: FlaskClient, session: Session) -> None:
    before = counts(session)
    response = check(client, POINTS, {**QUALIFIES, "work": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_in(html) == ["请选择“您目前在本市的就业情况”的答案"]
    assert '<a href="#pc-work">请选择“您目前在本市的就业情况”的答案</a>' in html
    assert 'aria-describedby="pc-work-error"' in html
    assert 'id="pc-has-permit" name="has_permit" type="radio" value="yes" checked' in html  # kept
    assert "tb-precheck-result" not in html
    assert counts(session) == before


def test_bad_numbers_and_unknown_options_are_refused_in_the_page_language(
        demo: Flask, client: FlaskClient) -> None:
    response = check(client, POINTS, {**QUALIFIES, "social_insurance.months": "三年",
                                      "education.level": "phd"})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == [
        "“在本市缴纳职工社会保险的累计月数”请填写整数，例如 12",
        "请从“最高学历（学位）”列出的答案中选择一项"]
    response = check(client, POINTS, {**QUALIFIES, "social_insurance.months": "601"})
    assert errors_in(response.get_data(as_text=True)) == [
        "“在本市缴纳职工社会保险的累计月数”不能大于 600"]
    with client.session_transaction() as cookie:
        cookie["locale"] = "en"
    response = check(client, POINTS, {**QUALIFIES, "record.serious_crime": ""})
    assert errors_in(response.get_data(as_text=True)) == [
        "Select an answer for “Do you have a record of a serious crime?”"]
    # full-width digits are read as digits
    assert check(client, POINTS, {**QUALIFIES, "social_insurance.months": "３６"}).status_code == 200


def test_from_qualify_the_application_starts_with_the_answers_the_form_asks_too(
        personas, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    html = check(client, POINTS, QUALIFIES).get_data(as_text=True)
    start = html.split('action="/services/residence-points/precheck/start"', 1)[1]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', start))
    response = client.post("/services/residence-points/precheck/start", data=hidden)
    assert response.status_code == 302
    token = response.headers["Location"].split("/")[2]
    draft = session.exec(select(Draft).where(col(Draft.token) == token)).one()
    assert draft.answers["education"] == {"level": "master"}
    assert draft.answers["record"] == {"serious_crime": False}
    assert draft.answers["social_insurance"]["months"] == 36
    assert "has_permit" not in draft.answers and "work" not in draft.answers


def test_a_start_the_answers_do_not_allow_makes_no_draft(
        personas, session: Session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    before = counts(session)[0]
    token = csrf(client.get(POINTS).get_data(as_text=True))
    response = client.post("/services/residence-points/precheck/start",
                           data={**QUALIFIES, "has_permit": "no", "csrf_token": token})
    assert response.status_code == 200
    assert result(response.get_data(as_text=True))[0] == "您暂不符合申请条件"
    assert counts(session)[0] == before


def test_a_visitor_signs_in_and_comes_back_to_the_answers(demo: Flask, client: FlaskClient) -> None:
    token = csrf(client.get(POINTS).get_data(as_text=True))
    response = client.post("/services/residence-points/precheck/start",
                           data={**QUALIFIES, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    back = client.get(location.split("next=", 1)[1].replace("%2F", "/").replace("%3F", "?")
                      .replace("%3D", "=").replace("%26", "&").replace("%25", "%"))
    html = back.get_data(as_text=True)
    assert 'name="work" type="radio" value="employee" checked' in html
    assert 'name="social_insurance.months" type="text" inputmode="numeric" spellcheck="false" ' \
        'autocomplete="off" value="36"' in html


def test_htmx_gets_the_same_page_to_swap_its_part(demo: Flask, client: FlaskClient) -> None:
    html = check(client, POINTS, QUALIFIES, **{"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-select="#tb-precheck"' in html and 'id="tb-precheck"' in html
    assert result(html)[0] == "您符合申请条件"
