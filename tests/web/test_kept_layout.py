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

    from tongban.web.urls import path_url

    for base in ("http://localhost/", "http://localhost/mounted/"):
        with app.test_request_context("/", base_url=base):
            for values in ({"token": "Ab-_9.~z", "page_id": "p1"},
                           {"token": "a b/c?", "page_id": "页面"}, {"token": "x", "page_id": "%"}):
                assert path_url("apply.page", **values) == url_for("apply.page", **values)
            assert path_url("apply.check", token="t") == url_for("apply.check", token="t")


def test_tokens_from_every_page_of_a_session_work_and_another_sessions_do_not(
        demo, app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    first = csrf(client.get("/").get_data(as_text=True))
    second = csrf(client.get("/login").get_data(as_text=True))
    other = csrf(app.test_client().get("/").get_data(as_text=True))
    for token in (first, second):
        assert client.post("/settings/elder", data={"csrf_token": token, "on": "1",
                                                    "next": "/"}).status_code == 302
    assert client.post("/settings/elder", data={"csrf_token": other, "on": "1",
                                                "next": "/"}).status_code == 400


def test_each_page_carries_a_token_flask_wtf_signed_when_the_page_was_drawn(
        demo, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 10: no kept tokens; every page gets Flask-WTF's own generate_csrf, so a page
    drawn later carries a token signed later, and each works."""
    import time

    import flask_wtf.csrf
    from itsdangerous import URLSafeTimedSerializer
    from itsdangerous.timed import TimestampSigner

    client = app.test_client()
    start = int(time.time())
    times = [start - 100, start]
    tokens = []
    for now in times:
        class Signer(TimestampSigner):  # the clock of Flask-WTF's tokens only
            def get_timestamp(self, now: int = now) -> int:
                return now

        class Serializer(URLSafeTimedSerializer):
            default_signer = Signer

        monkeypatch.setattr(flask_wtf.csrf, "URLSafeTimedSerializer", Serializer)
        tokens.append(csrf(client.get("/").get_data(as_text=True)))
    assert tokens[0] != tokens[1]
    signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    assert [int(signer.loads(t, return_timestamp=True)[1].timestamp()) for t in tokens] == times
    for token in tokens:
        assert client.post("/settings/elder", data={"csrf_token": token, "on": "1",
                                                    "next": "/"}).status_code == 302


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


PER_VISITOR_READS = ["{{ session.get('locale') }}", "{{ current_user.is_authenticated }}",
                     "{{ request.args.get('x') }}", "{{ request.form }}", "{{ csrf_token() }}",
                     "{{ g.get('request_id') }}", "{% if session %}x{% endif %}"]


def test_a_template_that_reads_the_visitor_while_drawing_a_shared_fragment_raises(app) -> None:  # type: ignore[no-untyped-def]
    """Issue 10: kept HTML is drawn under a guard; the same template draws normally outside."""
    import pytest
    from jinja2 import ChoiceLoader, DictLoader

    from tongban.fragments import PerVisitorRead, shared_draw
    from tongban.web import layout

    templates = {f"peek{n}.html": source for n, source in enumerate(PER_VISITOR_READS)}
    app.jinja_env.loader = ChoiceLoader([DictLoader(templates), app.jinja_env.loader])
    with app.test_request_context("/?x=1"):  # a blueprint's page: its own context processor
        for name, source in templates.items():
            layout.render_shared(name)  # outside a shared draw: fine
            app.jinja_env.from_string(source).render()
            with shared_draw("a test fragment"):
                with pytest.raises(PerVisitorRead):
                    layout.render_shared(name)  # as the layout and page frames are drawn
                with pytest.raises(PerVisitorRead):
                    app.jinja_env.from_string(source).render()  # as blank form pages are


def test_a_kept_page_frame_whose_template_reads_the_user_is_refused(demo, app) -> None:  # type: ignore[no-untyped-def]
    import pytest
    from jinja2 import ChoiceLoader, DictLoader

    from tongban.fragments import PerVisitorRead
    from tongban.web import layout

    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "peek.html": "{% extends 'base.html' %}{% block content %}{{ body }}"
                     "{{ current_user.display_name }}{% endblock %}",
        "fine.html": "{% extends 'base.html' %}{% block content %}{{ body }}{% endblock %}",
    }), app.jinja_env.loader])
    with app.test_request_context("/"):
        from markupsafe import Markup

        html = layout.framed("fine.html", "k", {"body": Markup("<p>mine</p>")})
        assert "<p>mine</p>" in html and "tbslot" not in html
        with pytest.raises(PerVisitorRead, match="current_user was read while drawing"):
            layout.framed("peek.html", "k", {"body": Markup("<p>mine</p>")})


def test_a_draft_cannot_be_read_while_a_shared_fragment_is_drawn(demo, app) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tongban.applications import load_draft
    from tongban.fragments import PerVisitorRead, shared_draw
    from tongban.policy import ANONYMOUS
    from tongban.web import database

    journey = Journey(app.test_client(), "urban-event-report")
    with app.test_request_context("/"):
        assert load_draft(database.request_session(), journey.token, ANONYMOUS).token == journey.token
        with shared_draw("a blank form page"), pytest.raises(PerVisitorRead):
            load_draft(database.request_session(), journey.token, ANONYMOUS)
