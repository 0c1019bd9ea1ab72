"""Pages of a form as HTML: the Python side of ``templates/forms/_page.html`` and ``_nodes.html``.

The field tree is compiled once per definition; a render only builds small view nodes from
it and the answers, then fills templates Flask has already compiled. Call these inside an
application context (``_()`` reads the request's language); the Jinja environment and the
CSRF token are arguments.
The check-answers summary and the task list are in :mod:`tongban.forms.overview`.
"""

from __future__ import annotations

import dataclasses
import json
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, TypedDict

from jinja2 import Environment, pass_environment
from markupsafe import Markup, escape

from tongban.forms import paths, region_picker, uploads, voice
from tongban.forms.display import display_value, input_text, key_of, option_label, parent_field
from tongban.forms.errors import FieldError, message, sort_errors
from tongban.forms.fields import Field, text_for
from tongban.forms.page_rules import branch_note, client_json, reveal_note
from tongban.forms.state import FormState, evaluate
from tongban.fragments import FragmentCache, marker
from tongban.i18n import current_lang

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition, Page

_TEMPLATES = {"textarea": "textarea", "radios": "radios", "select": "select",
              "autocomplete": "autocomplete", "checkbox": "checkbox", "checkboxes": "checkboxes",
              "date": "date", "file": "file", "fieldset": "fieldset", "repeatable": "repeatable",
              "readonly": "readonly", "hidden": "hidden", "json": "json", "region": "region"}
_INPUT_TYPES = {"password": "password", "email": "email", "tel": "tel", "url": "url"}


@dataclass
class OptionView:
    token: str
    label: str
    hint: str
    checked: bool
    id: str


@dataclass(frozen=True)
class StoredOffer:
    """A stored material a file question offers instead of an upload: ``token`` is what the
    choice posts (the material's public id), ``label`` and ``hint`` in the page's language
    ("Use the one you gave on 2026-09-03", its trust level)."""

    token: str
    label: str
    hint: str = ""


@dataclass
class Node:
    """One question (or group of questions) as a template sees it."""

    # Defaults use ``dataclasses.field`` by its module: inside this class body the bare name
    # ``field`` is the attribute below (the question), not the function.
    field: Field
    widget: str
    path: str
    name: str
    id: str
    label: str
    hint: str = ""
    placeholder: str = ""
    prefix: str = ""
    suffix: str = ""
    value: str = ""
    parts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    options: list[OptionView] = dataclasses.field(default_factory=list)
    error: str | None = None
    optional: bool = False
    hidden: bool = False
    heading: bool = False
    logic_key: str | None = None
    when: str | None = None
    group: str | None = None
    calc: bool = False
    children: list[Node] = dataclasses.field(default_factory=list)
    items: list[Node] = dataclasses.field(default_factory=list)
    add_action: str | None = None
    remove_action: str | None = None
    item_label: str = ""
    # The item's name inside a sentence ("Add another family member"): English drops the
    # capital a heading has ("Family member 1"), keeping an acronym's ("ID card").
    item_label_inline: str = ""
    attrs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    width: str | None = None
    display: str = ""
    levels: list[region_picker.Level] = dataclasses.field(default_factory=list)
    accept: str = ""
    """File questions: the ``accept`` attribute, so the file chooser offers what is taken."""
    offers: list[OptionView] = dataclasses.field(default_factory=list)
    """File questions naming a material type: the applicant's valid stored ones, offered
    instead of an upload (radios named ``<name>:material``)."""
    off: bool = False
    """This question or a group around it is hidden: its inputs are disabled."""
    reveal: str = ""
    """A question the rules hide for now but that answers on this same page can reveal: it is
    drawn without the ``hidden`` attribute, so it can be answered without JavaScript, under
    this note saying when it applies; with JavaScript it stays out of sight until it applies."""
    region: tuple[tuple[str, ...], str | None, str] = ((), None, "zh")
    """Region questions: the chosen codes, the ``/regions`` URL and the language."""

    @property
    def template(self) -> str:
        """The partial that draws this widget (``forms/_<template>.html``)."""
        return _TEMPLATES.get(self.widget, "input")

    @pass_environment  # called from _nodes.html: drawn with the page's own environment
    def levels_html(self, templates: Environment, off: bool = False) -> Markup:
        """Region questions: the lists as HTML (rendered once per choice, then cached)."""
        codes, url, lang = self.region
        return region_picker.levels_html(templates, self.name, self.id, codes, url=url,
                                         lang=lang, error=bool(self.error), off=off)

    @property
    def attrs_html(self) -> Markup:
        """The field's extra input attributes (``inputmode``, ``autocomplete``, …) as HTML."""
        return _attrs_html(tuple(sorted(self.attrs.items())))

    @property
    def input_type(self) -> str:
        return _INPUT_TYPES.get(self.widget, "text")

    @property
    def describedby(self) -> str:
        ids = []
        if self.hint:
            ids.append(self.id + "-hint")
        if self.error:
            ids.append(self.id + "-error")
        return " ".join(ids)

    @property
    def first_input_id(self) -> str:
        if self.widget == "date":
            return self.id + "-year"
        if self.widget == "region":
            return next((lv.id for lv in self.levels if lv.error), self.id)
        if self.widget in ("fieldset", "repeatable") and not self.error:
            for child in [*self.children, *self.items]:
                return child.first_input_id
        return self.id


@lru_cache(maxsize=1024)
def _attrs_html(attrs: tuple[tuple[str, str], ...]) -> Markup:
    return Markup("").join(Markup(' {}="{}"').format(k, v) for k, v in attrs if k != "rows")


@dataclass
class _Ctx:
    form: FormDefinition
    lang: str
    state: FormState
    raw: Mapping[str, list[str]] | None
    errors: Mapping[str, str]
    urls: Mapping[str, str]
    logic_keys: frozenset[str]
    page_id: str = ""
    files: Mapping[str, str] | None = None
    """Upload questions: public id -> the file's name, for the files the draft holds."""
    offers: Mapping[str, Sequence[StoredOffer]] | None = None
    """File questions by key: the stored materials they offer."""
    chosen: Mapping[str, str] | None = None
    """Public id of a draft's file -> the token of the stored material it is."""


def render_page(form: FormDefinition, page_id: str, answers: Any,
                errors: Iterable[FieldError] = (), *, lang: str = "zh",
                urls: Mapping[str, str] | None = None, raw: Mapping[str, list[str]] | None = None,
                state: FormState | None = None, files: Mapping[str, str] | None = None,
                csrf_token: str, templates: Environment, submit: str | None = None,
                offers: Mapping[str, Sequence[StoredOffer]] | None = None,
                chosen: Mapping[str, str] | None = None) -> Markup:
    """A whole page of questions inside ``<form method="post">``, with the error summary.

    ``urls``: ``action`` (where the form posts), optionally ``validate`` (the field endpoint
    for inline checks), ``back`` (the back link) and ``save`` (shows "Save and come back later").
    ``raw`` is :attr:`CoerceResult.raw`, so that what was typed is shown again on errors.
    ``files``: public id -> file name of the files the draft holds; an upload question shows
    the file its answer names, by name, and nothing for an id not among them.
    ``csrf_token``: the token the form posts back (the web layer's, e.g. Flask-WTF's).
    ``templates``: the Jinja environment that holds ``forms/*.html`` (the app's).
    ``submit``: the words on the submit button (default "Continue").
    A page that shows no answer and no error is drawn once per shape and kept (see below).
    """
    page = form.page_by_id[page_id]
    state = state or evaluate(form, answers)
    ordered = sort_errors(errors, form)
    ctx = _context(form, lang, state, raw, ordered, urls)
    ctx.page_id = page_id
    ctx.files = files
    ctx.offers, ctx.chosen = offers, chosen
    nodes = page_nodes(form, page, ctx)
    heading_node = nodes[0] if page.one_question and len(nodes) == 1 and nodes[0].widget not in (
        "checkbox", "readonly", "hidden") else None
    if heading_node is not None:
        heading_node.heading = True
    summary = _summary(form, ordered, nodes, lang)
    blocks = [text_for(b.message, lang) for b in state.blocks if b.page == page_id
              and not b.field]
    client = client_json(form, state, page)
    values = {name: escape(url) for name, url in ctx.urls.items() if name in _URL_SLOTS and url}
    values["csrf"] = escape(csrf_token)
    if client is not None:
        values["client"] = client

    def draw(urls: Mapping[str, str], csrf: str, client: str | None) -> str:
        return templates.get_template("forms/_page.html").render(
            form=form, page=page, lang=lang, nodes=nodes, summary=summary, blocks=blocks,
            urls=urls, title=text_for(page.title, lang) or text_for(form.title, lang),
            form_title=text_for(form.title, lang), page_hint=text_for(page.hint, lang),
            heading_node=heading_node, multipart=_has_file(nodes), client=client, csrf=csrf,
            submit=submit)

    shape = None if summary else _blank_shape(nodes)
    if shape is None:  # answers or errors to show: drawn for this request only
        return Markup(draw(ctx.urls, values["csrf"], client))
    key = (page_id, lang, current_lang(), ctx.urls.get("regions"), tuple(sorted(values)),
           tuple(blocks), shape, submit, voice.current())
    fragment = _blank_pages(form).get(key, lambda: draw(
        {**ctx.urls, **{name: marker(name) for name in values if name in _URL_SLOTS}},
        marker("csrf"), marker("client") if client is not None else None),
        "a blank form page")
    return fragment.fill(values)


# A page that shows no answer and no error (every applicant's first view of it) is drawn once
# per form version, language and state of its questions (shown, hidden, required, revealed)
# and kept; the draft's URLs, the CSRF token and the answers the page's rules read are put
# in per request. A page with answers or errors is drawn each time: answers are not kept.
_URL_SLOTS = frozenset({"action", "validate", "back", "save"})
_blank_page_caches: weakref.WeakKeyDictionary[Any, FragmentCache] = weakref.WeakKeyDictionary()


def _blank_pages(form: FormDefinition) -> FragmentCache:
    cache = _blank_page_caches.get(form)
    if cache is None:
        cache = _blank_page_caches.setdefault(form, FragmentCache(size=256))
    return cache


# How each field of Node takes part in a blank page's shape, derived from Node itself so that
# a field added later cannot be left out: a field that can carry an answer makes the page not
# kept when it does (the test says when); a field made only from others is left out; the
# nested nodes are walked; every other field, whatever it is, is part of the key.
_ANSWER_TESTS: dict[str, Callable[[Node], bool]] = {
    "value": lambda n: bool(n.value) and n.widget != "checkbox",  # a checkbox's is "true"
    "parts": lambda n: any(n.parts.values()),
    "options": lambda n: any(o.checked for o in n.options),
    "error": lambda n: bool(n.error),
    "display": lambda n: bool(n.display),
    "offers": lambda n: bool(n.offers),
    "region": lambda n: any(n.region[0]),
}
_DERIVED_FIELDS = frozenset({"levels"})
"""Made from other fields in the key (``region``, ``name``, ``id``, ``error``)."""
_NESTED_FIELDS = frozenset({"children", "items"})


@cache
def _key_fields(node_class: type[Node]) -> tuple[str, ...]:
    """Every field of ``node_class`` that is neither made from others nor nested nodes."""
    return tuple(f.name for f in dataclasses.fields(node_class)
                 if f.name not in _DERIVED_FIELDS | _NESTED_FIELDS)


def _shape_value(value: Any) -> Hashable:
    """A field's value as part of a cache key: a compiled question by identity (it lives as
    long as its form, which holds the cache), containers and dataclasses by their contents."""
    if isinstance(value, Field):
        return id(value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _shape_value(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_shape_value(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(_shape_value(getattr(value, f.name)) for f in dataclasses.fields(value))
    hash(value)  # anything else must be hashable as it is: fail here, not in the cache
    return value


def _blank_shape(nodes: list[Node]) -> tuple[Any, ...] | None:
    """What a page's HTML depends on beyond the form, the page and the language when none of
    its questions shows an answer or an error; None when one does."""
    shape: list[Hashable] = []
    for n in _walk(nodes):
        if any(shows(n) for shows in _ANSWER_TESTS.values()):
            return None
        # A class is hashable even when its instances are not (Node's are: eq without frozen);
        # mypy reads type[Node] as unhashable then (python/mypy#11470, open).
        fields = _key_fields(type(n))  # type: ignore[arg-type]
        shape.append((len(n.children), len(n.items),
                      *(_shape_value(getattr(n, name)) for name in fields)))
    return tuple(shape)


def render_field(form: FormDefinition, path: str, answers: Any,
                 errors: Iterable[FieldError] = (), *, lang: str = "zh",
                 urls: Mapping[str, str] | None = None,
                 raw: Mapping[str, list[str]] | None = None,
                 templates: Environment, files: Mapping[str, str] | None = None,
                 offers: Mapping[str, Sequence[StoredOffer]] | None = None,
                 chosen: Mapping[str, str] | None = None) -> Markup:
    """Only the fragment of one answer (its form group), for the inline-check endpoint and
    the correction page (``files`` as for ``render_page``: an upload already sent is kept)."""
    key = key_of(form, path)
    page_id = form.page_of.get(key or "") or form.pages[0].id
    state = evaluate(form, answers)
    ctx = _context(form, lang, state, raw, sort_errors(errors, form), urls)
    ctx.files = files
    ctx.offers, ctx.chosen = offers, chosen
    ctx.page_id = page_id
    for node in _walk(page_nodes(form, form.page_by_id[page_id], ctx)):
        if node.path == path:
            return Markup(templates.get_template("forms/_nodes.html").render(
                nodes=[node], urls=ctx.urls, lang=lang))
    return Markup("")


def page_nodes(form: FormDefinition, page: Page, ctx: _Ctx) -> list[Node]:
    nodes = []
    for key in page.keys:
        if key == "":
            nodes.append(_node(form.root, "", ctx.state.answers, None, ctx))
            continue
        segments = paths.split(key)
        parent_value = paths.get_in(ctx.state.answers, segments[:-1])
        variants = form.fields.get(key, [])
        if not variants:
            continue
        base = variants[0]
        if base.conditions:
            parent = parent_field(form, segments)
            active = {id(c) for c in parent.active_children(parent_value)}
            for fld in variants:
                nodes.append(_node(fld, key, paths.get_in(parent_value, [fld.name]), parent_value, ctx,
                                   hidden=id(fld) not in active))
        else:
            nodes.append(_node(base, key, paths.get_in(parent_value, [base.name]), parent_value, ctx))
    _mark_off(nodes, False)
    return nodes


def _mark_off(nodes: list[Node], off: bool) -> None:
    for node in nodes:
        node.off = off or node.hidden
        _mark_off(node.children, node.off)
        _mark_off(node.items, node.off)


def _context(form: FormDefinition, lang: str, state: FormState,
             raw: Mapping[str, list[str]] | None, errors: list[FieldError],
             urls: Mapping[str, str] | None) -> _Ctx:
    messages: dict[str, str] = {}
    for error in errors:
        messages.setdefault(error.path, message(error, form, lang))
    return _Ctx(form, lang, state, raw, messages, dict(urls or {}), form.rule_shown)


def _node(fld: Field, path: str, value: Any, parent_value: Any, ctx: _Ctx, *,
          hidden: bool = False) -> Node:
    lang = ctx.lang
    name = paths.html_name(path)
    ui = fld.ui
    node = Node(
        field=fld, widget=fld.widget, path=path, name=name,
        id=paths.element_id(path, f"--{fld.variant}" if fld.variant else ""),
        label=text_for(fld.label, lang), hint=text_for(fld.hint, lang),
        placeholder=text_for(ui.get("placeholder"), lang),
        prefix=text_for(ui.get("prefix"), lang) or ("¥" if fld.format == "cn-amount" else ""),
        suffix=text_for(ui.get("suffix"), lang), error=ctx.errors.get(path),
        attrs=fld.attrs, width=fld.width,
    )
    if fld.key in ctx.form.calculated:
        node.widget = "readonly"
        node.calc = True
    if fld.key in ctx.logic_keys:
        node.logic_key = fld.key
    by_branch = hidden  # a field of a schema branch that does not hold
    by_rule = bool(fld.key) and ctx.state.is_hidden(ctx.form, fld.key)
    hidden = by_branch or by_rule
    if by_rule and not by_branch and fld.key in ctx.logic_keys:
        node.reveal = reveal_note(ctx.form, ctx.state, fld, ctx.page_id, ctx.lang)
    if fld.conditions:
        parent_path = path.rsplit(".", 1)[0] if "." in path else ""
        rules = [c.client_rule(parent_path) for c in fld.conditions]
        if all(r is not None for r in rules):
            when = rules[0] if len(rules) == 1 else {"and": rules}
            node.when = json.dumps(when, ensure_ascii=False)
            if by_branch and not by_rule:
                node.reveal = branch_note(ctx.form, fld, when, ctx.page_id, ctx.lang)
        node.group = path
    node.hidden = hidden and not node.reveal
    required = fld.is_required(parent_value) or fld.key in ctx.state.required_keys or (
        # Hidden now, revealed live in the browser: it is required whenever it is shown.
        hidden and fld.key in ctx.form.rule_required)
    node.optional = not required and fld.widget not in ("checkbox", "readonly", "hidden",
                                                        "fieldset") and not fld.is_item
    raw = ctx.raw.get(name) if ctx.raw is not None else None
    widget = node.widget
    if widget == "fieldset":
        active = {id(c) for c in fld.active_children(value)}
        node.children = [
            _node(c, paths.child(path, c.name), paths.get_in(value, [c.name]), value, ctx,
                  hidden=bool(c.conditions) and id(c) not in active)
            for c in fld.children]
    elif widget == "repeatable":
        _repeatable(node, fld, path, value, ctx)
    elif widget == "checkboxes" or fld.options:
        chosen = raw if raw is not None else _tokens(fld, value)
        node.options = [OptionView(o.token, option_label(o, lang), text_for(o.hint, lang),
                                   o.token in chosen, node.id if i == 0 else f"{node.id}-{i}")
                        for i, o in enumerate(fld.options)]
        if widget == "checkbox":
            node.value = "true"
            node.options = [OptionView("true", node.label, node.hint,
                                       (raw is not None and "true" in raw) or value is True,
                                       node.id)]
    elif widget == "checkbox":
        node.value = "true"
        node.options = [OptionView("true", node.label, node.hint,
                                   (raw is not None and "true" in raw) or value is True, node.id)]
    elif widget == "date":
        node.parts = _date_parts(value, ctx.raw, name)
    elif widget == "region":
        codes = _region_codes(value, ctx.raw, name)
        node.levels = region_picker.levels(name, node.id, codes, url=ctx.urls.get("regions"),
                                           lang=lang, error=bool(node.error))
        node.region = (tuple(codes), ctx.urls.get("regions"), lang)
    elif widget == "readonly":
        node.display = display_value(fld, value, lang) if value is not None else ""
        node.value = input_text(value)
    elif widget == "file":
        # The file the saved answer names, never the post's value: the page then says what
        # check answers says, also after a replacement was refused.
        file_name = (ctx.files or {}).get(value) if isinstance(value, str) else None
        node.value = value if file_name else ""
        node.display = file_name or ""
        node.accept = _accept(fld)
        offered = (ctx.offers or {}).get(fld.key) or ()
        if offered:
            posted = (ctx.raw or {}).get(f"{name}:material")
            # No file yet: the newest stored one is chosen, so "continue" reuses it.
            choice = posted[-1] if posted else (ctx.chosen or {}).get(
                node.value, "upload") if node.value else offered[0].token
            node.offers = [OptionView(o.token, o.label, o.hint, o.token == choice,
                                      f"{node.id}-material-{index}")
                           for index, o in enumerate(offered, 1)]
            node.offers.append(OptionView("upload", "", "", choice not in
                                          {o.token for o in offered}, f"{node.id}-material-new"))
    else:
        node.value = raw[-1] if raw else input_text(value)
    return node


def _accept(fld: Field) -> str:
    """The file types an upload question takes (its ui ``accept``), as MIME types and
    extensions; any image for an image question without a list; else no filter. Never
    narrower than the server's check: a chooser that hides allowed files is a dead end."""
    kinds = [uploads.KINDS.get(uploads.ALIASES.get(str(k).lower(), str(k).lower()))
             for k in fld.ui.get("accept") or ()]
    if kinds and all(kinds):
        return ",".join(dict.fromkeys(
            part for kind in kinds if kind for part in (kind.mime, *kind.extensions)))
    if str(fld.schema.get("contentMediaType", "")).startswith("image/"):
        return "image/*"
    return ""


def _inline(name: str, lang: str) -> str:
    if lang == "en" and len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name


def _repeatable(node: Node, fld: Field, path: str, value: Any, ctx: _Ctx) -> None:
    items = value if isinstance(value, list) else []
    item = fld.item
    assert item is not None
    count = max(len(items), fld.min_items, 1 if not items else 0)
    item_name = text_for(fld.ui.get("item_label"), ctx.lang) or text_for(item.label, ctx.lang) \
        or node.label
    node.item_label = item_name
    node.item_label_inline = _inline(item_name, ctx.lang)
    for index in range(count):
        item_value = items[index] if index < len(items) else None
        item_path = paths.child(path, index)
        child = _node(item, item_path, item_value, items, ctx)
        child.label = f"{item_name} {index + 1}"
        child.optional = False
        if count > fld.min_items and fld.accepts_input:
            child.remove_action = f"remove:{item_path}"
        node.items.append(child)
    limit = fld.max_items
    if fld.accepts_input and (limit is None or count < limit):
        node.add_action = f"add:{path}"


def _tokens(fld: Field, value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    tokens = [fld.token_for(v) for v in values if v is not None]
    return [t for t in tokens if t is not None]


def _date_parts(value: Any, raw: Mapping[str, list[str]] | None, name: str) -> dict[str, str]:
    if raw is not None and any(f"{name}:{p}" in raw for p in ("year", "month", "day")):
        return {p: (raw.get(f"{name}:{p}") or [""])[-1] for p in ("year", "month", "day")}
    if raw is not None and name in raw:
        return {"year": raw[name][-1], "month": "", "day": ""}
    if isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-") if value.count("-") == 2 else (value, "", "")
        return {"year": year, "month": month.lstrip("0"), "day": day.lstrip("0")}
    return {"year": "", "month": "", "day": ""}


def _region_codes(value: Any, raw: Mapping[str, list[str]] | None, name: str) -> list[str]:
    """What the picker shows: the lists as posted, a plain code as posted, else the answer."""
    if raw is not None:
        posted = [raw.get(f"{name}:{level}") for level in region_picker.LEVELS]
        if any(p is not None for p in posted):
            return [(p or [""])[-1].strip() for p in posted]
        if name in raw:
            return region_picker.path_codes((raw[name] or [""])[-1].strip())
    return region_picker.path_codes(value)


class SummaryItem(TypedDict):
    """One line of the error summary (``forms/_error_summary.html``)."""

    href: str | None
    """The link to the question's first input; None when the question is not on the page."""
    text: str


def _summary(form: FormDefinition, errors: list[FieldError], nodes: list[Node],
             lang: str) -> list[SummaryItem]:
    if not errors:
        return []
    targets = {n.path: n.first_input_id for n in _walk(nodes) if not n.hidden}
    items: list[SummaryItem] = []
    for error in errors:
        href = ("#" + targets[error.path]) if error.path in targets else None
        items.append({"href": href, "text": message(error, form, lang)})
    return items


def _walk(nodes: Iterable[Node]) -> Iterable[Node]:
    for node in nodes:
        yield node
        yield from _walk(node.children)
        yield from _walk(node.items)


def _has_file(nodes: list[Node]) -> bool:
    return any(n.widget == "file" for n in _walk(nodes))
