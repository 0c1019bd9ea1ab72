"""The layout and the page frame are drawn once and kept (web/layout.py): every visitor
still gets their own CSRF token, return address and name, never another visitor's."""

from __future__ import annotations

import re

from .journey import Journey, csrf

HEADER = re.compile(r"<header.*?</header>", re.S)


def _tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', html))


def test_two_visitors_on_the_same_page_each_get_their_own_token_and_addresses(
        demo, app) -> None:  # type: ignore[no-untyped-def]
    pages = []
    for _ in range(2):
        client = app.test_client()
        journey = Journey(client, "urban-event-report")
        html = client.get(journey.url("location")).get_data(as_text=True)
        pages.append((journey, html))
    (one, first), (two, second) = pages
    assert _tokens(first) == {csrf(first)} and _tokens(second) == {csrf(second)}
    assert csrf(first) != csrf(second)
    assert one.token in first and one.token not in second
    assert second.count(f"/apply/{two.token}/") == first.count(f"/apply/{one.token}/") > 0
    for journey, html in pages:
        assert f'name="next" value="/apply/{journey.token}/pages/location"' in html
        assert "tbslot" not in html
        with app.test_request_context("/"):
            from flask import url_for

            field_url = url_for("apply.field", token=journey.token, page_id="location")
        assert f'hx-post="{field_url}"' in html


def test_a_signed_in_header_shows_each_user_their_own_name(demo, app) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Personas

    headers = {}
    for username in ("citizen", "clerk", "reviewer"):
        client = app.test_client()
        Personas(client).as_(username)
        headers[username] = HEADER.search(client.get("/").get_data(as_text=True)).group(0)
    assert "张三" in headers["citizen"] and "李窗口" not in headers["citizen"]
    assert "李窗口" in headers["clerk"] and "张三" not in headers["clerk"]
    assert "王审核" in headers["reviewer"]
    assert all("退出" in h for h in headers.values())


def test_the_layout_follows_language_and_elderly_mode(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "长辈版" in page and 'class=""' in page
    client.post("/settings/elder", data={"csrf_token": csrf(page), "on": "1", "next": "/"})
    elder = client.get("/").get_data(as_text=True)
    assert '<body class="tb-elder"' in elder and "标准版" in elder
    client.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en",
                                            "next": "/"})
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and "Standard version" in english
    assert "Sign in" in english and '<body class="tb-elder"' in english
    # and the first visitor's kept Chinese standard layout is still what a new visitor gets
    assert '<html lang="zh-CN">' in app.test_client().get("/").get_data(as_text=True)


def test_a_page_with_answers_or_files_is_still_drawn_for_its_own_draft(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    response = journey.post("location", {"location.region": "310104",
                                         "location.address": "漕溪北路 100 号门口"})
    assert response.status_code == 302
    html = client.get(journey.url("location")).get_data(as_text=True)
    assert "漕溪北路 100 号门口" in html
    other = app.test_client()
    blank = other.get(Journey(other, "urban-event-report").url("location")).get_data(
        as_text=True)
    assert "漕溪北路" not in blank


def test_urls_built_from_kept_patterns_are_url_fors_urls(app) -> None:  # type: ignore[no-untyped-def]
    from flask import url_for

    from tongban.web import path_url

    for base in ("http://localhost/", "http://localhost/mounted/"):
        with app.test_request_context("/", base_url=base):
            for values in ({"token": "Ab-_9.~z", "page_id": "p1"},
                           {"token": "a b/c?", "page_id": "页面"}, {"token": "x", "page_id": "%"}):
                assert path_url("apply.page", **values) == url_for("apply.page", **values)
            assert path_url("apply.check", token="t") == url_for("apply.check", token="t")


def test_a_session_keeps_one_signed_csrf_token_and_it_works(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    first = csrf(client.get("/").get_data(as_text=True))
    assert csrf(client.get("/login").get_data(as_text=True)) == first
    other = app.test_client()
    assert csrf(other.get("/").get_data(as_text=True)) != first
    response = client.post("/settings/elder", data={"csrf_token": first, "on": "1", "next": "/"})
    assert response.status_code == 302


def test_a_token_from_before_sign_in_is_refused_after_it(demo, app) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import Personas

    client = app.test_client()
    before = csrf(client.get("/").get_data(as_text=True))
    Personas(client).as_("citizen")
    after = csrf(client.get("/").get_data(as_text=True))
    assert after != before
    refused = client.post("/settings/elder", data={"csrf_token": before, "on": "1", "next": "/"})
    assert refused.status_code == 400
    assert client.post("/settings/elder", data={"csrf_token": after, "on": "1",
                                                "next": "/"}).status_code == 302


def test_with_a_csrf_time_limit_every_page_signs_afresh(demo, app) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    client = app.test_client()
    token = csrf(client.get("/").get_data(as_text=True))
    assert client.post("/settings/elder", data={"csrf_token": token, "on": "1",
                                                "next": "/"}).status_code == 302
    assert len(app.extensions["tongban.csrf_tokens"]._items) == 0  # noqa: SLF001


def test_switching_mode_from_a_page_with_errors_comes_back_to_that_page(demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    journey = Journey(client, "urban-event-report")
    response = journey.post("event", {})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'name="next" value="/apply/{journey.token}/pages/event"' in html
    switched = client.post("/settings/elder", data={"csrf_token": csrf(html), "on": "1",
                                                    "next": f"/apply/{journey.token}/pages/event"})
    assert switched.headers["Location"] == f"/apply/{journey.token}/pages/event"
    # a post-only address (submitting with errors) still comes back to the home page
    check = client.post(f"/apply/{journey.token}/submit", data={"csrf_token": csrf(html)})
    assert check.status_code == 422
    assert 'name="next" value="/"' in check.get_data(as_text=True)


def test_after_a_change_of_secret_key_pages_carry_tokens_signed_with_the_new_key(
        demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    before = csrf(client.get("/").get_data(as_text=True))
    app.secret_key = "rotated-secret-key"
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]  # the session itself is kept
    after = csrf(client.get("/").get_data(as_text=True))
    assert after != before
    assert client.post("/settings/elder", data={"csrf_token": after, "on": "1",
                                                "next": "/"}).status_code == 302
