"""The 一件事 bundles the portal offers beside the services a search finds: a bundle is found
by its name, summary and keywords (both languages) and by its life events, matched on the
same jieba words as services. Bundles are few (a handful per region), so they are matched
directly rather than indexed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .life_events import BY_ID
from .text import normalise, words


@dataclass(frozen=True)
class BundleHit:
    code: str
    content: dict[str, Any]


def _texts(content: dict[str, Any]) -> str:
    pieces = [*content["name"].values(), *content["summary"].values()]
    for keywords in (content.get("keywords") or {}).values():
        pieces.extend(keywords)
    for event in content.get("life_events") or []:
        if event in BY_ID:
            pieces.extend(BY_ID[event].name.values())
            for more in BY_ID[event].words.values():
                pieces.extend(more)
    return normalise(" ".join(pieces))


def find_bundles(bundles: Iterable[dict[str, Any]], *, query: str = "", event: str = "",
                 department: str = "") -> list[BundleHit]:
    """The bundles for a query and/or a life event; all of them when nothing is asked. A
    department's list shows none: a bundle belongs to several departments."""
    if department:
        return []
    found = []
    for content in sorted(bundles, key=lambda c: c["code"]):
        if event and event not in (content.get("life_events") or []):
            continue
        if query:
            text = _texts(content)
            asked = words(query) or [normalise(query)]
            if normalise(query) not in text and not all(word in text for word in asked):
                continue
        found.append(BundleHit(content["code"], content))
    return found
