"""Whose voice a form speaks in. Definition texts are written to the applicant ("您", "you");
a form a counter clerk fills in for someone speaks of the applicant (申请人) instead: the clerk
reads the questions about the person in front of them (docs/counter.md). The web layer turns
it on around drawing such a draft's pages; :func:`tongban.forms.fields.text_for` asks here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

APPLICANT = "applicant"
_VOICE: ContextVar[str | None] = ContextVar("tongban_form_voice", default=None)

_ZH = (("您的", "申请人的"), ("您", "申请人"))
_EN = tuple((re.compile(pattern), replacement) for pattern, replacement in (
    (r"\byou are\b", "the applicant is"), (r"\bYou are\b", "The applicant is"),
    (r"\byou have\b", "the applicant has"), (r"\bYou have\b", "The applicant has"),
    (r"\byours\b", "the applicant's"), (r"\byour\b", "the applicant's"),
    (r"\bYour\b", "The applicant's"), (r"\byou\b", "the applicant"),
    (r"\bYou\b", "The applicant")))


def current() -> str | None:
    """The voice in force (None: the applicant's own, the texts as written)."""
    return _VOICE.get()


@contextmanager
def speaking_of_applicant(on: bool = True) -> Iterator[None]:
    """Within the block, definition texts speak of the applicant (when ``on``)."""
    token = _VOICE.set(APPLICANT if on else None)
    try:
        yield
    finally:
        _VOICE.reset(token)


def of_applicant(text: str, lang: str) -> str:
    """``text`` speaking of the applicant instead of to them."""
    if lang == "en":
        for pattern, replacement in _EN:
            text = pattern.sub(replacement, text)
        return text
    for before, after in _ZH:
        text = text.replace(before, after)
    return text
