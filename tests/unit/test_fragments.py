"""HTML kept with markers for per-request values (tongban.fragments)."""

from __future__ import annotations

import pytest
from markupsafe import Markup, escape

from tongban.fragments import Fragment, FragmentCache, marker


def test_a_fragment_is_filled_at_each_marker_with_its_own_value() -> None:
    html = f'<a href="/apply/{marker("token")}/x">{marker("name")}</a>{marker("token")}more'
    fragment = Fragment(html)
    assert fragment.slots == {"token", "name"}
    filled = fragment.fill({"token": "T1", "name": escape("<b>")})
    assert filled == '<a href="/apply/T1/x">&lt;b&gt;</a>T1more'
    assert isinstance(filled, Markup)


def test_text_right_after_a_marker_is_not_taken_into_it() -> None:
    fragment = Fragment(f"{marker('csrf')}abcx0 {marker('page_id')}_0")
    assert fragment.fill({"csrf": "C", "page_id": "P"}) == "Cabcx0 P_0"


def test_markers_pass_escaping_and_url_quoting_unchanged() -> None:
    from urllib.parse import quote

    mark = marker("next")
    assert escape(str(mark)) == mark
    assert quote(str(mark), safe="") == mark


def test_text_that_looks_like_a_marker_without_the_process_prefix_is_left_alone() -> None:
    assert Fragment("tbslot0000000000000000csrf0").fill({}) == "tbslot0000000000000000csrf0"


@pytest.mark.parametrize("name", ["", "Csrf", "csrf1", "a-b", "a b"])
def test_slot_names_are_lowercase_letters_and_underscores(name: str) -> None:
    with pytest.raises(ValueError):
        marker(name)


def test_a_missing_value_is_an_error_not_an_empty_slot() -> None:
    with pytest.raises(KeyError):
        Fragment(f"x{marker('csrf')}").fill({})


def test_the_cache_renders_once_per_key_and_drops_the_least_recently_used() -> None:
    cache = FragmentCache(size=2)
    calls: list[str] = []

    def render(text: str):  # type: ignore[no-untyped-def]
        return lambda: calls.append(text) or text

    cache.get("a", render("A"))
    cache.get("b", render("B"))
    cache.get("a", render("A again"))  # kept: not rendered again, and now the most recent
    cache.get("c", render("C"))  # drops "b"
    assert calls == ["A", "B", "C"]
    assert cache.get("a", render("A3")).fill({}) == "A"
    assert cache.get("b", render("B2")).fill({}) == "B2"
    assert len(cache) == 2


def test_a_per_visitor_value_passes_through_except_while_a_shared_fragment_is_drawn() -> None:
    from tongban.fragments import PerVisitor, PerVisitorRead, drawing_shared, shared_draw

    session = PerVisitor("the session", lambda: {"elder": True})
    assert session["elder"] is True and session.get("elder") and "elder" in session
    with shared_draw("the page layout"):
        assert drawing_shared() == "the page layout"
        for use in (lambda: session["elder"], lambda: session.get("elder"), lambda: bool(session),
                    lambda: str(session), lambda: list(session), lambda: "elder" in session):
            with pytest.raises(PerVisitorRead, match="the session was read while drawing "
                                                     "the page layout"):
                use()
    assert drawing_shared() is None
    assert session.get("elder")


def test_the_cache_draws_a_fragment_as_a_shared_draw() -> None:
    from tongban.fragments import PerVisitorRead, refuse_in_shared_draw

    cache = FragmentCache(size=2)
    with pytest.raises(PerVisitorRead, match="the draft was read while drawing a test page"):
        cache.get("k", lambda: refuse_in_shared_draw("the draft") or "x", "a test page")
    assert len(cache) == 0  # nothing kept
    refuse_in_shared_draw("the draft")  # outside a draw: allowed
