"""Issue 13 items 3 (public) and 4: the public rules pages and the self-check calculator, no
sign-in, in Chinese and English; nothing stored."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from tests.conftest import csrf_token
from tongban import create_app
from tongban.forms.formats import id_number_check_character
from tongban.models import Application, AuditEvent, Draft
from tongban.points import evaluate, rules_for
from tongban.worktime import TZ, local_day

CHECK = "/points/{}/check"
ID_17 = "31010419900307201"
ID_NUMBER = ID_17 + id_number_check_character(ID_17)  # born 1990-03-07


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _in_english(client: FlaskClient, path: str) -> str:
    client.post("/settings/language", data={"csrf_token": csrf_token(client, path),
                                            "locale": "en", "next": path})
    return client.get(path).get_data(as_text=True)


def _post(client: FlaskClient, rule_set: str, fields: dict[str, str]) -> Any:
    path = CHECK.format(rule_set)
    return client.post(path, data={"csrf_token": csrf_token(client, path), "action": "continue",
                                   **fields})


def _date(name: str, day: str) -> dict[str, str]:
    year, month, dd = day.split("-")
    return {f"{name}:year": year, f"{name}:month": str(int(month)), f"{name}:day": str(int(dd))}


CREDIT_POST = {**_date("enterprise.established_on", "2021-03-15"),
               "compliance.tax_rating": "B", "compliance.penalties": "2",
               "compliance.enforcement_records": "1", "compliance.si_arrears_months": "3"}
CREDIT_ANSWERS = {"enterprise": {"established_on": "2021-03-15"},
                  "compliance": {"tax_rating": "B", "penalties": 2, "enforcement_records": 1,
                                 "si_arrears_months": 3}}
RESIDENCE_POST = {"applicant.id_number": ID_NUMBER, "education.level": "bachelor_degree",
                  "qualification.kind": "none", "social_insurance.months": "84",
                  "social_insurance.base_band": "1_to_2", "social_insurance.base_months": "40",
                  "record.serious_crime": "false", **_date("record.detention_dates.0",
                                                           "2025-06-01")}
RESIDENCE_ANSWERS = {"applicant": {"id_number": ID_NUMBER, "birth_date": "1990-03-07"},
                     "education": {"level": "bachelor_degree"},
                     "qualification": {"kind": "none"},
                     "social_insurance": {"months": 84, "base_band": "1_to_2", "base_months": 40},
                     "record": {"serious_crime": False, "detention_dates": ["2025-06-01"]}}


def _stored(session: Session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model))  # type: ignore[return-value]
                 for model in (Draft, Application, AuditEvent))


def test_the_rule_sets_are_listed_without_sign_in_in_chinese_and_english(
        demo: Flask, client: FlaskClient) -> None:
    page = _text(client.get("/points").get_data(as_text=True))
    assert "上海市居住证积分 自 2026年1月1日 起施行 · 第 1 版" in page
    assert "企业信用评价（示例） 示例政策 自 2026年1月1日 起施行 · 第 1 版" in page
    english = _text(_in_english(client, "/points"))
    assert "Enterprise credit grading (example) Example policy In force from 1 January 2026 · " \
           "Version 1" in english


def test_the_rules_page_shows_the_rules_in_plain_language_with_version_and_dates(
        demo: Flask, client: FlaskClient) -> None:
    response = client.get("/points/sh-residence-points")
    page = _text(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "自 2026年1月1日 起施行 · 第 1 版" in page
    assert "年龄 43 周岁及以下 30 分；44 周岁 29 分；45 周岁 27 分；" in page
    assert "本科学历并获学士学位：90 分" in page
    assert "每次扣 150 分，只计最近 3 年内的记录" in page
    assert "总分达到 120 分的符合条件" in page
    assert "示例政策" not in page
    english = _text(_in_english(client, "/points/sh-residence-points"))
    assert "Age 43 years or under: 30 points; 44 years: 29 points;" in english
    assert "In force from 1 January 2026 · version 1" in english


def test_the_credit_example_is_labelled_an_example_policy_on_every_page(
        demo: Flask, client: FlaskClient) -> None:
    label = "示例政策：本规则仅用于演示，并非正式政策。"
    for path in ("/points/enterprise-credit", CHECK.format("enterprise-credit")):
        assert label in _text(client.get(path).get_data(as_text=True)), path
    assert label in _text(_post(client, "enterprise-credit", CREDIT_POST).get_data(as_text=True))
    assert "Example policy: these rules are for demonstration only and are not an official " \
           "policy." in _text(_in_english(client, "/points/enterprise-credit"))
    assert "An example policy, not an official rule" in _text(
        client.get("/services/enterprise-credit").get_data(as_text=True))


def test_the_calculator_asks_only_what_the_rules_read_from_the_service_form(
        demo: Flask, client: FlaskClient) -> None:
    html = client.get(CHECK.format("sh-residence-points")).get_data(as_text=True)
    names = set(re.findall(r'name="([^"]+)"', html))
    assert {"applicant.id_number", "education.level", "social_insurance.months",
            "record.serious_crime"} <= names
    # the form's other questions (contact, permit, materials) are not asked
    assert not names & {"applicant.name", "applicant.mobile", "applicant.permit_number",
                        "materials.id_card"}
    assert "居民身份证号码" in _text(html)  # the form's own label


def test_the_calculator_gives_the_same_total_as_evaluate_and_stores_nothing(
        demo: Flask, client: FlaskClient, session: Session) -> None:
    before = _stored(session)
    for rule_set, post, answers in (("enterprise-credit", CREDIT_POST, CREDIT_ANSWERS),
                                    ("sh-residence-points", RESIDENCE_POST, RESIDENCE_ANSWERS)):
        response = _post(client, rule_set, post)
        assert response.status_code == 200, _text(response.get_data(as_text=True))[:2000]
        expected = evaluate(rules_for(session, rule_set), answers, local_day(datetime.now(TZ))).to_json()
        page = _text(response.get_data(as_text=True))
        assert f"总分：{expected['total']} 分" in page
        for indicator in expected["indicators"]:
            assert indicator["explanation"]["zh"] in page
    assert _stored(session) == before


def test_the_credit_calculator_shows_grade_and_total(demo: Flask, client: FlaskClient) -> None:
    page = _text(_post(client, "enterprise-credit", CREDIT_POST).get_data(as_text=True))
    assert "您的结果" in page
    total = float(re.search(r"总分：([0-9.]+) 分", page).group(1))  # type: ignore[union-attr]
    grade = re.search(r"评价等级：([ABCD]) 级", page).group(1)  # type: ignore[union-attr]
    assert grade == ("A" if total >= 90 else "B" if total >= 75 else "C" if total >= 60 else "D")


def test_missing_answers_are_named_like_form_errors_and_no_score_is_shown(
        demo: Flask, client: FlaskClient) -> None:
    response = _post(client, "enterprise-credit", {"compliance.tax_rating": "A"})
    assert response.status_code == 422
    page = _text(response.get_data(as_text=True))
    summary = page.split("出现了问题", 1)[1].split("企业信用评价（示例）", 1)[0]
    assert summary.split() == ["请填写成立日期", "请填写近三年受到行政处罚的次数",
                               "请填写近三年被法院强制执行的记录数", "请填写社会保险费欠缴月数"]
    assert "总分" not in page
    english = _in_english(client, CHECK.format("enterprise-credit"))
    assert english
    response = _post(client, "enterprise-credit", {"compliance.tax_rating": "A"})
    page = _text(response.get_data(as_text=True))
    assert "Enter date of establishment" in page
    assert "Enter months of social insurance arrears" in page


def test_an_unknown_rule_set_is_not_found(demo: Flask, client: FlaskClient) -> None:
    assert client.get("/points/no-such-rules").status_code == 404
    assert client.get(CHECK.format("no-such-rules")).status_code == 404


def test_the_enterprise_credit_service_is_published_in_the_demo(
        demo: Flask, client: FlaskClient) -> None:
    page = _text(client.get("/services/enterprise-credit").get_data(as_text=True))
    assert "企业信用评价（示例）" in page
    assert "上海市市场监督管理局" in page


@pytest.fixture
def limited_app(app_config: dict[str, object], tmp_path: Path) -> Iterator[Flask]:
    from tongban.demo import load_demo

    config = {**app_config, "RATELIMIT_KEY_PREFIX": f"tongban-test-{uuid.uuid4().hex}",
              "SELF_CHECK_RATE_LIMIT": "2 per minute"}
    application = create_app(config, instance_path=tmp_path / "instance")
    with application.app_context():
        load_demo(application.extensions["tongban.engine"],
                  Path(str(application.config["DEFINITIONS_DIR"])))
    yield application
    application.extensions["tongban.engine"].dispose()


def test_the_calculator_is_rate_limited_like_other_public_endpoints(limited_app: Flask) -> None:
    client = limited_app.test_client()
    codes = [_post(client, "enterprise-credit", CREDIT_POST).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(CHECK.format("enterprise-credit")).status_code == 200  # reading is free
