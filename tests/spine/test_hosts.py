"""Links built from BASE_URL, unknown Host headers refused, https defaults (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban import create_app

from ..web.journey import Journey


def _app(app_config, tmp_path: Path, **settings):  # type: ignore[no-untyped-def]
    return create_app({**app_config, **settings}, instance_path=tmp_path / "instance")


def test_an_unknown_host_header_is_refused_with_the_400_page(demo, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "您的请求有问题" in page and "网址" in page
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200


def test_the_host_of_base_url_is_trusted_by_default(app_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = _app(app_config, tmp_path, BASE_URL="https://tongban.example.gov.cn")
    assert app.config["TRUSTED_HOSTS"] == ["tongban.example.gov.cn", "127.0.0.1", "localhost"]
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "tongban.example.gov.cn"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    app.extensions["tongban.engine"].dispose()


def test_the_resume_link_uses_base_url_not_the_host_header(app_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban.demo import load_demo

    app = _app(app_config, tmp_path, BASE_URL="https://tongban.example.gov.cn/portal/",
               TRUSTED_HOSTS="evil.example,localhost")  # even a host let through
    with app.app_context():
        load_demo(app.extensions["tongban.engine"], Path(app.config["DEFINITIONS_DIR"]))
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    response = journey.post("event", {"event.category": "facilities",
                                      "event.facility_kind": "manhole",
                                      "event.description": "人行道上的窨井盖缺失。",
                                      "action": "save"})
    saved = client.get(response.headers["Location"], headers={"Host": "evil.example"})
    page = saved.get_data(as_text=True)
    assert f"https://tongban.example.gov.cn/portal/apply/{journey.token}" in page
    assert "evil.example" not in page
    app.extensions["tongban.engine"].dispose()


@pytest.mark.parametrize("base_url,secure", [("https://tongban.example.gov.cn", True),
                                             ("http://127.0.0.1:5000", False)])
def test_https_base_url_turns_on_secure_cookies_and_hsts(app_config, tmp_path, base_url,
                                                         secure) -> None:  # type: ignore[no-untyped-def]
    app = _app(app_config, tmp_path, BASE_URL=base_url)
    client = app.test_client()
    response = client.get("/login", headers={"Host": "localhost"})
    cookie = response.headers["Set-Cookie"]
    assert ("; Secure" in cookie) is secure
    hsts = response.headers.get("Strict-Transport-Security")
    assert hsts == ("max-age=31536000; includeSubDomains" if secure else None)
    app.extensions["tongban.engine"].dispose()


@pytest.mark.parametrize("value", ["tongban.example.gov.cn", "ftp://x.example", "https://",
                                   "https://x.example/?q=1"])
def test_a_base_url_that_is_not_an_address_fails_at_start(app_config, tmp_path, value) -> None:  # type: ignore[no-untyped-def]
    from tongban.config import ConfigError

    with pytest.raises(ConfigError, match="Setting BASE_URL"):
        _app(app_config, tmp_path, BASE_URL=value)
