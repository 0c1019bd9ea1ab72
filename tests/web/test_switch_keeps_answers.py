"""Issue 10, section 4: switching language or 长辈版 on a form page keeps what was typed.

On a form page the header's switches are buttons of the page's own form: without JavaScript
the browser posts the page's answers with the choice to ``/apply/<token>/pages/<page>/switch``,
which keeps them as "save and come back later" does and shows the same page again.
"""

from __future__ import annotations

import re

from .journey import Journey, csrf

DESCRIPTION = "人行道上的窨井盖缺失，有人险些踩空。"


def _button(html: str, text: str) -> str:
    match = re.search(r"<button[^>]*>" + re.escape(text) + "</button>", html)
    assert match, text
    return match.group(0)


def test_a_form_pages_switches_are_buttons_of_its_form_that_post_to_its_switch_address(
        demo, client) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(client, "urban-event-report")
    html = client.get(journey.url("event")).get_data(as_text=True)
    assert '<form method="post" action="' + journey.url("event") + '" id="tb-page-form"' in html
    english = _button(html, "English")
    assert 'form="tb-page-form" name="action" value="save" formnovalidate' in english
    assert f'formaction="{journey.url("event")}/switch?locale=en"' in english
    elder = _button(html, "长辈版")
    assert f'formaction="{journey.url("event")}/switch?elder=1"' in elder
    # The Enter key still means Continue: the form's first button in the document.
    first = re.search(r'<button[^>]*form="tb-page-form"[^>]*>', html)
    assert first and 'value="continue"' in first.group(0) and "hidden" in first.group(0)


def test_pages_without_a_form_keep_switches_that_post_only_the_choice(
        demo, client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/services/urban-event-report").get_data(as_text=True)
    assert _button(html, "English").startswith('<button class="tb-link-button" name="locale" '
                                               'value="en"')
    assert 'form="tb-page-form"' not in html


def test_switching_to_english_on_a_form_page_keeps_the_typed_answers_without_judging_them(
        demo, client) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(client, "urban-event-report")
    html = client.get(journey.url("event")).get_data(as_text=True)
    # The description is too short to go on with: kept all the same, and not judged yet.
    response = client.post(journey.url("event") + "/switch?locale=en", data={
        "csrf_token": csrf(html), "action": "save", "event.category": "facilities",
        "event.facility_kind": "manhole", "event.description": "窨井盖"})
    assert response.status_code == 302
    assert response.headers["Location"] == journey.url("event")
    page = client.get(journey.url("event")).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert re.search(r'value="facilities" checked', page)
    assert re.search(r'value="manhole" checked', page)
    assert ">窨井盖</textarea>" in page
    assert 'class="tb-error-message"' not in page


def test_switching_to_the_elderly_friendly_version_from_check_answers_comes_back_there(
        demo, client) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(client, "urban-event-report")
    html = client.get(journey.url("event") + "?from=check").get_data(as_text=True)
    assert f'formaction="{journey.url("event")}/switch?from=check&amp;elder=1"' in html
    response = client.post(journey.url("event") + "/switch?from=check&elder=1", data={
        "csrf_token": csrf(html), "action": "save", "event.category": "facilities",
        "event.description": DESCRIPTION})
    assert response.headers["Location"] == journey.url("event") + "?from=check"
    page = client.get(journey.url("event") + "?from=check").get_data(as_text=True)
    assert '<body class="tb-elder"' in page
    assert f">{DESCRIPTION}</textarea>" in page
    assert _button(page, "标准版")


def test_a_switch_post_without_the_pages_token_changes_nothing(
        demo, client) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(client, "urban-event-report")
    response = client.post(journey.url("event") + "/switch?locale=en", data={
        "action": "save", "event.description": DESCRIPTION})
    assert response.status_code == 400
    page = client.get(journey.url("event")).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and DESCRIPTION not in page
