"""The cascading province → city → district picker for ``cn-region`` answers.

The rules both sides share live here: which lists a person sees for the codes chosen so far
(the page render and the ``/regions`` fragments) and which posted choices make an answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from flask_babel import get_locale, gettext
from jinja2 import Environment
from markupsafe import Markup

from tongban.forms import paths, regions
from tongban.i18n import N_

LEVELS = ("province", "city", "district")
CODE_PLACEHOLDER = "__code__"
"""Stands for the chosen code in a list's ``hx-get`` URL; ``forms.js`` puts the code in."""

_LABELS = {"province": N_("Province"), "city": N_("City"), "district": N_("District or county")}
_WAITING = {"city": N_("Choose a province first"), "district": N_("Choose a city first")}
# Prefecture-level entries that only group counties; a name reads better without them.
_GROUPING_NAMES = ("市辖区", "县")
_GROUPING_SUFFIX = "直辖县级行政区划"


@dataclass
class Level:
    """One ``<select>`` of the picker as the template sees it."""

    level: str
    id: str
    name: str
    label: str
    placeholder: str
    options: list[regions.Region]
    selected: str = ""
    waiting: str = ""
    """What the empty list says while the level above is not chosen."""
    url: str | None = None
    """Where the lists below this one come from (``hx-get``), with :data:`CODE_PLACEHOLDER`."""
    below_id: str | None = None
    """The element the lists below this one are swapped into."""
    error: bool = False

    @property
    def disabled(self) -> bool:
        """Nothing to choose until the level above is chosen."""
        return not self.options


@dataclass(frozen=True)
class Choice:
    """What the posted lists mean: an answer (``code``), nothing, or a problem at a level."""

    code: str | None = None
    problem: str | None = None
    level: str | None = None


def chain(codes: Sequence[str]) -> list[str]:
    """The chosen codes that fit: each a current child of the one before, stopping at the first
    that is not. A list with one entry (北京市 → 市辖区) is then chosen for the person."""
    result: list[str] = []
    parent: str | None = None
    for code in codes[:len(LEVELS)]:
        if not code or code not in _codes(parent):
            break
        result.append(code)
        parent = code
    while result and len(result) < len(LEVELS):
        below = regions.children(result[-1])
        if len(below) != 1:
            break
        result.append(below[0][0])
    return result


def path_codes(code: object) -> list[str]:
    """The codes province → … → ``code`` of a stored answer; empty if it is not current."""
    return [c for c, _ in regions.path(code)] if isinstance(code, str) else []


def levels(name: str, base_id: str, codes: Sequence[str], *, first: str = "province",
           url: str | None = None, lang: str = "zh", error: bool = False) -> list[Level]:
    """The lists from ``first`` down for the chosen ``codes`` (any sequence; see :func:`chain`).

    A level whose parent is chosen but has no children is left out: the parent is the answer.
    A level whose parent is not chosen yet is there, empty. ``url`` is the ``/regions`` prefix
    for the htmx requests, none for no requests. ``error`` marks the first list left to choose.
    The region data never changes while the platform runs, so the lists are computed once per
    set of arguments (and interface language) and shared; callers must not change them.
    """
    return list(_levels(name, base_id, tuple(codes), first, url, lang, error, str(get_locale())))


def levels_html(templates: Environment, name: str, base_id: str, codes: Sequence[str], *,
                url: str | None = None, lang: str = "zh", error: bool = False,
                off: bool = False) -> Markup:
    """The picker's lists as HTML (``forms/_region_levels.html`` from ``templates``), rendered
    once per set of arguments: a page with a region question does not loop over the provinces
    each time."""
    return _levels_html(templates, name, base_id, tuple(codes), url, lang, error,
                        off, str(get_locale()))


@lru_cache(maxsize=4096)
def _levels_html(env: Environment, name: str, base_id: str, codes: tuple[str, ...], url: str | None,
                 lang: str, error: bool, off: bool, locale: str) -> Markup:
    found = _levels(name, base_id, codes, "province", url, lang, error, locale)
    return Markup(env.get_template("forms/_region_levels.html").render(levels=found, off=off))


@lru_cache(maxsize=4096)
def _levels(name: str, base_id: str, codes: tuple[str, ...], first: str, url: str | None,
            lang: str, error: bool, locale: str) -> tuple[Level, ...]:
    del locale  # part of the cache key: labels come from the active catalogue
    chosen = chain(codes)
    start = LEVELS.index(first)
    result: list[Level] = []
    for depth in range(start, len(LEVELS)):
        level = LEVELS[depth]
        if depth == 0:
            options = regions.children(None)
        elif depth <= len(chosen):
            options = regions.children(chosen[depth - 1])
            if not options:
                break
        else:
            options = []
        below = LEVELS[depth + 1] if depth + 1 < len(LEVELS) else None
        waiting = gettext(_WAITING[level]) if level in _WAITING else ""
        result.append(Level(
            level=level, id=level_id(base_id, level), name=f"{name}:{level}",
            label=gettext(_LABELS[level]),
            placeholder=waiting if not options and waiting else gettext("Choose an option"),
            options=options, selected=chosen[depth] if depth < len(chosen) else "",
            waiting=waiting,
            url=_children_url(url, name, base_id, below, lang) if url and below else None,
            below_id=f"{base_id}-below-{level}" if below else None))
    if error and result:
        next((lv for lv in result if not lv.selected), result[0]).error = True
    return tuple(result)


def level_id(base_id: str, level: str) -> str:
    """The province list takes the question's own id, so links to the question land on it."""
    return base_id if level == "province" else f"{base_id}-{level}"


def read_choice(posted: Mapping[str, str]) -> Choice:
    """The answer from the posted lists (``{"province": …, "city": …, "district": …}``): the
    deepest code, once it has nothing below it. Blank lists give no answer and no problem."""
    if not any(posted.get(level) for level in LEVELS):
        return Choice()
    parent: str | None = None
    for level in LEVELS:
        options = _codes(parent)
        if parent is not None and not options:
            return Choice(parent)
        code = posted.get(level, "")
        if not code:
            return Choice(problem="region_missing", level=level)
        if code not in options:
            if not regions.is_current(code):
                return Choice(problem="region_unknown", level=level)
            return Choice(problem="region_mismatch", level=level)
        parent = code
    return Choice(parent)


def full_name(code: str) -> str | None:
    """``上海市 徐汇区`` for 310104: the names province → … → code, without grouping entries
    such as 市辖区; None if the code is not current."""
    chain_ = regions.path(code)
    if not chain_:
        return None
    names = [name for depth, (_, name) in enumerate(chain_)
             if depth != 1 or len(chain_) == 2 or not _is_grouping(name)]
    return " ".join(names)


def _is_grouping(name: str) -> bool:
    return name in _GROUPING_NAMES or name.endswith(_GROUPING_SUFFIX)


def _codes(parent: str | None) -> set[str]:
    return {code for code, _ in regions.children(parent)}


def _children_url(prefix: str, name: str, base_id: str, level: str, lang: str) -> str:
    query = {"name": name, "level": level, "lang": lang}
    if base_id != paths.element_id(name):
        query["id"] = base_id
    return f"{prefix.rstrip('/')}/{CODE_PLACEHOLDER}/children?{urlencode(query)}"
