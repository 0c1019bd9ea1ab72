"""Pages, languages, error pages (full and htmx fragments) and health."""

from __future__ import annotations

import pytest

from ..conftest import csrf_token


def test_the_home_page_lists_the_demo_services_in_chinese(demo, client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    for name in ("上海市居住证积分申请", "城市管理事件上报", "户口迁入"):
        assert name in page
    assert 'href="#main-content"' in page  # skip link


def test_the_language_switch_is_kept_across_pages(demo, client) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/")
    response = client.post("/settings/language",
                           data={"locale": "en", "next": "/services/residence-points",
                                 "csrf_token": token})
    assert response.headers["Location"] == "/services/residence-points"
    page = client.get("/services/residence-points").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Shanghai residence permit points application" in page
    assert "Who can apply" in page
    assert "Find a service" in client.get("/").get_data(as_text=True)


def test_the_service_guide_shows_time_limits_in_working_days(demo, client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/services/residence-points").get_data(as_text=True)
    assert "15 个工作日" in page and "20 个工作日" in page


def test_an_unknown_url_gets_the_404_page(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_an_unknown_service_gets_the_404_page(demo, client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/services/nothing-here").status_code == 404


def test_an_htmx_request_gets_a_swappable_fragment(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<html" not in page and 'id="error-page"' in page


def test_a_post_without_csrf_token_gets_the_400_page_and_changes_nothing(demo, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/settings/language", data={"locale": "en"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("refusal", ["csrf", "size", "fields"])
def test_a_refused_post_names_its_reference_on_the_error_page(app, client, refusal: str) -> None:  # type: ignore[no-untyped-def]
    """The request id is assigned before any check that may refuse the request, so the error
    page's reference is the one in the response's X-Request-ID header (and in the logs)."""
    app.config["MAX_CONTENT_LENGTH"] = 2048
    data = {"csrf": "locale=en", "size": "username=" + "x" * 4096,
            "fields": "&".join(f"f{i}=1" for i in range(1500))}[refusal]
    response = client.post("/settings/language" if refusal == "csrf" else "/login", data=data,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 413)
    reference = response.headers["X-Request-ID"]
    assert len(reference) == 32
    assert f"参考编号: {reference}" in response.get_data(as_text=True).replace("：", ": ")


def test_a_body_over_the_limit_gets_the_413_page(app, client) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/login", data={"username": "x" * 4096})
    assert response.status_code == 413
    assert "超过了大小限制" in response.get_data(as_text=True)


def test_too_many_form_fields_get_the_413_page(app, client) -> None:  # type: ignore[no-untyped-def]
    body = "&".join(f"f{i}=1" for i in range(5000))
    response = client.post("/login", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


@pytest.mark.parametrize("code", [400, 403, 404, 409, 413, 422, 429, 500])
def test_every_error_page_renders_full_and_as_a_fragment(app, code: int) -> None:  # type: ignore[no-untyped-def]
    from tongban.web.errors import render_error

    for headers, full in (({}, True), ({"HX-Request": "true"}, False)):
        with app.test_request_context("/", headers=headers):
            body, status = render_error(code)
        assert status == code
        assert ("<html" in body) is full
        assert f"{code}" in body


def test_an_unexpected_exception_gets_the_500_page(app, client) -> None:  # type: ignore[no-untyped-def]
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    assert "服务出现问题" in response.get_data(as_text=True)


def test_health_reports_database_and_migration(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["migration"] == body["migration_head"]


def test_health_fails_when_migrations_are_not_applied(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                      "SECRET_KEY": "x"}, instance_path=tmp_path / "inst")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["migration"] is None


def test_security_headers_are_set(client) -> None:  # type: ignore[no-untyped-def]
    headers = client.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert len(headers["X-Request-ID"]) == 32
