"""The search index over the services in effect, and finding services in it.

An index is built from one set of published service versions and never changes: versions are
immutable, so it is kept (:class:`IndexCache`) and built again only when a publication (or an
effective date) changes which versions are in effect. A request then costs one small query for
the version ids, and the matching, which runs in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..services import PublishedService
from .life_events import BY_ID, LIFE_EVENTS, LifeEvent
from .text import has_han, is_pinyin_query, normalise, pinyin, trim_query, words

# How much a match in each part of a service counts; a title match always ranks first.
TITLE, KEYWORDS, EVENTS, DEPARTMENT, SUMMARY = 10, 6, 4, 3, 1
MAX_TERMS = 12  # words of one query that are matched (a pasted paragraph is not a search)


@dataclass(frozen=True)
class _Field:
    weight: int
    text: str  # every language's text, normalised, " | " between the pieces
    words: frozenset[str]
    spellings: tuple[tuple[str, str], ...]  # (full pinyin, initials) of each Chinese piece

    @classmethod
    def of(cls, weight: int, pieces: Iterable[str]) -> _Field:
        texts = [normalise(p) for p in pieces if p]
        found: set[str] = set()
        for text in texts:
            found.update(words(text))
        spellings = tuple(pinyin(text) for text in texts if has_han(text))
        return cls(weight, " | ".join(texts), frozenset(found), spellings)

    def has_word(self, term: str) -> bool:
        if term in self.words or (has_han(term) and term in self.text):
            return True
        # a word being typed: "regis" already finds "registration"
        return term.isascii() and len(term) >= 3 and any(w.startswith(term) for w in self.words)

    def spelled(self, query: str) -> bool:
        return any(query in full or initials.startswith(query) or (len(query) >= 3 and query in initials)
                   for full, initials in self.spellings)


@dataclass(frozen=True)
class Entry:
    service: PublishedService
    department_code: str
    life_events: tuple[str, ...]
    fields: tuple[_Field, ...]  # title first

    @classmethod
    def of(cls, service: PublishedService) -> Entry:
        content = service.content
        keywords = content.get("keywords") or {}
        events = [BY_ID[e] for e in content.get("life_events") or [] if e in BY_ID]
        event_words = [w for e in events for lang in ("zh", "en")
                       for w in (e.name[lang], *e.words[lang])]
        department = content["department"]["name"]
        return cls(service, content["department"]["code"], tuple(e.id for e in events), (
            _Field.of(TITLE, service.name.values()),
            _Field.of(KEYWORDS, [*keywords.get("zh", []), *keywords.get("en", [])]),
            _Field.of(EVENTS, event_words),
            _Field.of(DEPARTMENT, department.values()),
            _Field.of(SUMMARY, content["summary"].values()),
        ))


@dataclass(frozen=True)
class Hit:
    service: PublishedService
    in_title: bool
    score: int


@dataclass(frozen=True)
class Department:
    code: str
    name: dict[str, str]
    count: int


@dataclass(frozen=True)
class EventCount:
    event: LifeEvent
    count: int


class ServiceIndex:
    """Every service of one set of published versions, analysed once."""

    def __init__(self, services: Iterable[PublishedService]):
        self.entries = tuple(Entry.of(s) for s in sorted(services, key=lambda s: s.code))

    @classmethod
    def of_entries(cls, entries: Iterable[Entry]) -> ServiceIndex:
        index = cls(())
        index.entries = tuple(sorted(entries, key=lambda e: e.service.code))
        return index

    def search(self, raw_query: str, offered: Callable[[str], bool] = lambda code: True) -> list[Hit]:
        """Services matching a query, best first: those whose name matches (in either language
        or in pinyin) before the rest, then by score. Every word of the query must match
        somewhere when any service matches them all; otherwise services matching some words."""
        query = trim_query(raw_query)
        if not query:
            return []
        terms = list(dict.fromkeys(words(query)))[:MAX_TERMS]
        spelled = is_pinyin_query(query)
        ranked: list[tuple[bool, bool, int, Hit]] = []
        for entry in self.entries:
            if not offered(entry.service.code):
                continue
            score, complete, in_title = 0, False, False
            for fld in entry.fields:
                if query in fld.text:
                    score += 10 * fld.weight
                    complete = True
                    in_title = in_title or fld.weight == TITLE
                if spelled and fld.spelled(query):
                    score += 8 * fld.weight
                    complete = True
                    in_title = in_title or fld.weight == TITLE
            matched = 0
            title_words = 0
            for term in terms:
                weights = [fld.weight for fld in entry.fields if fld.has_word(term)]
                if weights:
                    matched += 1
                    score += 2 * max(weights)
                    title_words += TITLE in weights
            if terms and matched == len(terms):
                complete = True
                in_title = in_title or title_words == len(terms)
            if score:
                ranked.append((complete, in_title, score, Hit(entry.service, in_title, score)))
        if any(complete for complete, *_ in ranked):
            ranked = [r for r in ranked if r[0]]
        ranked.sort(key=lambda r: (not r[0], not r[1], -r[2], r[3].service.code))
        return [hit for *_, hit in ranked]

    def with_event(self, event: str, offered: Callable[[str], bool] = lambda code: True
                   ) -> list[PublishedService]:
        return [e.service for e in self.entries if event in e.life_events and offered(e.service.code)]

    def in_department(self, code: str, offered: Callable[[str], bool] = lambda code: True
                      ) -> list[PublishedService]:
        return [e.service for e in self.entries
                if e.department_code == code and offered(e.service.code)]

    def events(self, offered: Callable[[str], bool] = lambda code: True) -> list[EventCount]:
        """The catalogue's life events that have services, in the catalogue's order."""
        counts = [EventCount(event, len(self.with_event(event.id, offered))) for event in LIFE_EVENTS]
        return [c for c in counts if c.count]

    def departments(self, offered: Callable[[str], bool] = lambda code: True) -> list[Department]:
        found: dict[str, Department] = {}
        for entry in self.entries:
            if not offered(entry.service.code):
                continue
            code = entry.department_code
            before = found.get(code)
            found[code] = Department(code, entry.service.content["department"]["name"],
                                     (before.count if before else 0) + 1)
        return sorted(found.values(), key=lambda d: d.code)


@dataclass
class IndexCache:
    """The indexes of the last few sets of versions in effect, by their version row ids, and
    each version's analysed entry: a publication that changes one service analyses only it."""

    keep: int = 4
    _indexes: dict[tuple[int, ...], ServiceIndex] = field(default_factory=dict)
    _entries: dict[int, Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    builds: int = 0  # how many indexes were built (tests and the benchmark read it)

    def get(self, ids: tuple[int, ...],
            load: Callable[[list[int]], dict[int, PublishedService]]) -> ServiceIndex:
        """The index of the versions ``ids``; ``load`` reads the versions not analysed yet."""
        key = tuple(sorted(ids))
        with self._lock:
            found = self._indexes.get(key)
            if found is not None:
                return found
            missing = [i for i in key if i not in self._entries]
        fresh = {i: Entry.of(service) for i, service in load(missing).items()} if missing else {}
        with self._lock:
            self._entries.update(fresh)
            index = ServiceIndex.of_entries([self._entries[i] for i in key])
            self.builds += 1
            self._indexes[key] = index
            while len(self._indexes) > self.keep:
                self._indexes.pop(next(iter(self._indexes)))
            in_use = {i for k in self._indexes for i in k}
            for stale in [i for i in self._entries if i not in in_use]:
                del self._entries[stale]
        return index
