"""Issue 17 item 6: finding a service on the portal by life event, by department and by search
(jieba words, the service files' keywords as synonyms, pinyin and its initials)."""

from __future__ import annotations

import copy
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tongban.models import DefinitionVersion
from tongban.search.index import IndexCache

from .journey import csrf

RESULT = re.compile(r'<h3 class="tb-heading-m"><a href="/services/([a-z-]+)">')


def results(client: FlaskClient, query: str, **params: str) -> list[str]:
    """The service codes a search lists, in their order."""
    response = client.get("/", query_string={"q": query, **params})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="tb-search-results"' in html
    return RESULT.findall(html.split('id="tb-search-results"', 1)[1].split("按部门", 1)[0])


def status(html: str) -> str:
    found = re.search(r'<p [^>]*id="tb-search-status"[^>]*>(.*?)</p>', html, re.S)
    assert found is not None
    return found.group(1).strip()


@pytest.mark.parametrize(("query", "first"), [
    ("户口迁入", "household-transfer"),        # the name
    ("落户", "household-transfer"),            # a synonym from the service file's keywords
    ("我想办理落户", "household-transfer"),    # jieba cuts the sentence; 我想, 办理 say nothing
    ("hkqr", "household-transfer"),            # pinyin initials of 户口迁入
    ("hukou", "household-transfer"),           # pinyin / the English keyword
    ("jzz", "residence-points"),               # 居住证
    ("居住证积分", "residence-points"),
    ("residence permit", "residence-points"),  # English names are searched too
    ("Household registration", "household-transfer"),
    ("ＨＫＱＲ", "household-transfer"),        # full-width letters, upper case
    ("占道经营", "urban-event-report"),
    ("企业信用", "enterprise-credit"),
])
def test_a_search_finds_the_service_by_name_synonym_or_pinyin(
        demo: Flask, client: FlaskClient, query: str, first: str) -> None:
    assert results(client, query)[0] == first


def test_a_match_in_the_name_ranks_before_a_match_elsewhere(
        demo: Flask, client: FlaskClient) -> None:
    # 积分 is in the name of residence-points; household-transfer has it only in its
    # summary (居转户) or not at all; 上海市居住证积分申请 comes first.
    found = results(client, "积分")
    assert found[0] == "residence-points"
    found = results(client, "上海")  # in names and in every department's name
    assert found[0] == "residence-points"  # the only name with 上海 in it
    assert set(found) == {"residence-points", "household-transfer", "urban-event-report",
                          "enterprise-credit", "birth-certificate", "newborn-household",
                          "social-security-card"}


def test_each_result_shows_its_department_and_links_to_the_guide(
        demo: Flask, client: FlaskClient) -> None:
    html = client.get("/?q=落户").get_data(as_text=True)
    assert '<a href="/services/household-transfer">户口迁入</a>' in html
    assert "上海市公安局" in html
    # 积分落户 is a keyword of residence-points: found too, after the service named for it
    assert status(html) == "找到 2 项服务。"
    assert RESULT.findall(html) == ["household-transfer", "residence-points"]


def test_a_search_of_ten_thousand_characters_is_trimmed_without_error(
        demo: Flask, client: FlaskClient) -> None:
    response = client.get("/", query_string={"q": "落户" + "啊" * 9998})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    kept = re.search(r'id="q" name="q" type="search" value="([^"]*)"', html)
    assert kept is not None and kept.group(1) == "落户" + "啊" * 98  # 100 characters searched
    assert "啊" * 99 not in html


def test_nothing_found_says_so_and_offers_the_browse_lists(demo: Flask, client: FlaskClient) -> None:
    html = client.get("/?q=火星移民").get_data(as_text=True)
    assert status(html) == "未找到服务。"
    assert "按人生事件" in html and "按部门" in html
    assert results(client, "火星移民") == []


def test_an_empty_query_shows_the_browse_view(demo: Flask, client: FlaskClient) -> None:
    for query in ("", "   ", "\u3000"):
        html = client.get("/", query_string={"q": query}).get_data(as_text=True)
        assert status(html) == ""
        assert "按人生事件" in html and "全部事项" in html
        assert len(RESULT.findall(html)) == 7


def test_life_events_list_the_services_filed_under_them(demo: Flask, client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<a class="tb-chip" href="/?event=settling">落户' in html
    # the newborn bundle's three services (issue 17 item 8), and the bundle itself
    birth = client.get("/?event=birth").get_data(as_text=True)
    assert RESULT.findall(birth) == ["birth-certificate", "newborn-household",
                                     "social-security-card"]
    assert '<a href="/bundles/newborn">新生儿出生一件事</a>' in birth
    page = client.get("/?event=settling").get_data(as_text=True)
    assert "人生事件：落户" in page
    assert RESULT.findall(page) == ["household-transfer"]
    assert RESULT.findall(client.get("/?event=employment").get_data(as_text=True)) == [
        "residence-points"]


def test_departments_list_their_services(demo: Flask, client: FlaskClient) -> None:
    html = client.get("/?department=sh-gaj").get_data(as_text=True)
    assert "部门：上海市公安局" in html
    assert RESULT.findall(html) == ["household-transfer", "newborn-household"]
    # a query within a department keeps the department
    assert results(client, "积分", department="sh-gaj") == []
    assert results(client, "落户", department="sh-gaj") == ["household-transfer"]


def test_an_unknown_event_or_department_shows_the_browse_view(
        demo: Flask, client: FlaskClient) -> None:
    html = client.get("/?event=mars&department=nowhere").get_data(as_text=True)
    assert status(html) == "" and "全部事项" in html


def test_htmx_gets_the_results_and_the_count_for_the_live_region(
        demo: Flask, client: FlaskClient) -> None:
    response = client.get("/?q=hkqr", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert RESULT.findall(html) == ["household-transfer"]
    assert '<p id="tb-search-status" hx-swap-oob="innerHTML">找到 1 项服务。</p>' in html


def test_the_page_is_a_labelled_get_form_that_works_without_javascript(
        demo: Flask, client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert '<form class="tb-search" method="get" action="/" role="search"' in html
    assert '<label class="tb-label" for="q">搜索服务</label>' in html
    assert 'role="status" aria-live="polite"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html


def test_english_pages_search_and_show_english_names(demo: Flask, client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    client.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en", "next": "/"})
    html = client.get("/?q=hkqr").get_data(as_text=True)
    assert ">Household registration transfer</a>" in html
    assert status(html) == "1 service found."
    assert "Find a service" in html


def test_an_archived_service_is_not_found(personas, session: Session) -> None:  # type: ignore[no-untyped-def]
    from .test_services_admin import post

    admin = personas.as_("cgjadmin")
    assert post(admin, "/admin/services/urban-event-report/archive", {}).status_code == 302
    assert "urban-event-report" not in results(admin, "占道经营")
    assert "urban-event-report" not in admin.get("/?event=community").get_data(as_text=True)


def test_the_index_is_built_once_per_set_of_published_versions(
        demo: Flask, client: FlaskClient, session: Session) -> None:
    cache: IndexCache = demo.extensions["service_search"]
    for query in ("落户", "hkqr", "积分", ""):
        client.get("/", query_string={"q": query})
    assert cache.builds == 1
    # a new version of a service: its new keyword is found, after one more build
    row = session.exec(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == "service",
        col(DefinitionVersion.code) == "household-transfer")).one()
    content = copy.deepcopy(row.content)
    content["keywords"]["zh"].append("迁入户籍手续")
    session.add(DefinitionVersion(kind="service", code=row.code, version=row.version + 1,
                                  content_hash="n" * 64, content=content,
                                  source_path=row.source_path, author="test"))
    session.commit()
    assert results(client, "迁入户籍手续") == ["household-transfer"]
    assert results(client, "落户")[0] == "household-transfer"
    assert cache.builds == 2
