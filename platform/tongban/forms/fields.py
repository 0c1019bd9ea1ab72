"""The field tree: a JSON Schema plus ui hints turned into the questions a page shows.

Built once per definition version (see ``definition.py``); rendering, coercion and state only
walk it. ``$ref``/``$defs``, ``allOf``, ``if/then/else``, ``dependentSchemas`` and object-level
``oneOf``/``anyOf`` alternatives are resolved here, so nothing per request touches the schema text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tongban.forms import paths, voice

LangText = Mapping[str, str]

RADIOS_MAX = 7
"""Single choices with more options than this render as a select (GOV.UK keeps radios short)."""

MAX_TREE_DEPTH = 12

WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "password",
        "email",
        "tel",
        "url",
        "number",
        "integer",
        "amount",
        "date",
        "time",
        "datetime",
        "region",
        "file",
        "radios",
        "select",
        "autocomplete",
        "checkbox",
        "checkboxes",
        "fieldset",
        "repeatable",
        "readonly",
        "hidden",
        "json",
    }
)
CHOICE_WIDGETS = frozenset({"radios", "select", "autocomplete"})
TEXT_WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "password",
        "email",
        "tel",
        "url",
        "date",
        "time",
        "datetime",
        "region",
        "amount",
        "file",
    }
)
ANY_WIDGETS = frozenset({"hidden", "readonly", "json"})

# Input attributes per format: the keyboard to show, what browsers may fill in, sensible limits.
FORMAT_ATTRS: dict[str, dict[str, str]] = {
    "cn-id-number": {
        "maxlength": "18",
        "autocomplete": "off",
        "spellcheck": "false",
        "autocapitalize": "characters",
    },
    "cn-uscc": {
        "maxlength": "18",
        "autocomplete": "off",
        "spellcheck": "false",
        "autocapitalize": "characters",
    },
    "cn-mobile": {"inputmode": "tel", "autocomplete": "tel-national", "spellcheck": "false"},
    "cn-postal-code": {
        "inputmode": "numeric",
        "maxlength": "6",
        "autocomplete": "postal-code",
        "spellcheck": "false",
    },
    "cn-region": {"inputmode": "numeric", "maxlength": "6", "spellcheck": "false"},
    "cn-amount": {"inputmode": "decimal", "spellcheck": "false"},
    "email": {"autocomplete": "email", "spellcheck": "false", "autocapitalize": "off"},
    "uri": {"spellcheck": "false", "autocapitalize": "off"},
}
FORMAT_WIDTHS = {
    "cn-id-number": "20",
    "cn-uscc": "20",
    "cn-mobile": "20",
    "cn-postal-code": "10",
    "cn-region": "10",
    "cn-amount": "10",
    "date": None,
}


def text_for(value: LangText | str | None, lang: str) -> str:
    """The text of a {zh, en} pair in ``lang``, falling back to Chinese, then to any."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else (
        value.get(lang) or value.get("zh") or next(iter(value.values()), ""))
    if text and voice.current() == voice.APPLICANT:  # a form filled in at the counter
        return voice.of_applicant(text, lang)
    return text


@dataclass(frozen=True)
class Option:
    value: Any
    token: str
    label: LangText | None = None
    msgid: str | None = None
    hint: LangText | None = None


@dataclass(eq=False)
class Condition:
    """When a conditional field applies: the ``if`` schema holds (or not) for the parent object."""

    test: Callable[[Any], bool]
    expect: bool
    client: tuple[tuple[str, tuple[Any, ...], bool], ...] | None = None

    def holds(self, parent_value: Any) -> bool:
        return self.test(parent_value) == self.expect

    def client_rule(self, parent_path: str) -> dict[str, Any] | None:
        """The same test as JsonLogic for the browser, or None when it cannot be expressed."""
        if self.client is None:
            return None
        parts: list[Any] = []
        for name, values, required in self.client:
            var = {"var": paths.child(parent_path, name)}
            test: Any = (
                {"in": [var, list(values)]} if len(values) > 1 else {"===": [var, values[0]]}
            )
            if not required:
                test = {"or": [{"==": [var, None]}, test]}
            parts.append(test)
        rule: Any = parts[0] if len(parts) == 1 else {"and": parts}
        return rule if self.expect else {"!": rule}


@dataclass(eq=False)
class Field:
    key: str
    name: str
    pointer: str
    schema: Mapping[str, Any]
    type: str | None
    widget: str
    label: LangText
    required: bool = False
    hint: LangText | None = None
    placeholder: LangText | None = None
    options: tuple[Option, ...] = ()
    children: tuple[Field, ...] = ()
    item: Field | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)
    format: str | None = None
    read_only: bool = False
    const: Any = None
    has_const: bool = False
    default: Any = None
    has_default: bool = False
    min_items: int = 0
    max_items: int | None = None
    conditions: tuple[Condition, ...] = ()
    required_when: tuple[Condition, ...] = ()
    dependent_on: tuple[str, ...] = ()
    variant: int = 0
    ui: Mapping[str, Any] = field(default_factory=dict)
    width: str | None = None
    is_item: bool = False

    @property
    def is_choice(self) -> bool:
        return bool(self.options) and self.widget in CHOICE_WIDGETS | {"checkboxes", "checkbox"}

    @property
    def accepts_input(self) -> bool:
        return self.widget not in ("readonly", "hidden") and not self.read_only

    def active_children(self, value: Any) -> list[Field]:
        """The children that apply to this object value: conditional fields whose condition
        holds, and only the first of several conditional fields sharing a name."""
        obj = value if isinstance(value, dict) else {}
        seen: set[str] = set()
        active = []
        for child in self.children:
            if child.conditions:
                if child.name in seen or not all(c.holds(obj) for c in child.conditions):
                    continue
            seen.add(child.name)
            active.append(child)
        return active

    def is_required(self, parent_value: Any) -> bool:
        """Required by the schema here: ``required``, a branch that applies, or a
        ``dependentRequired`` whose trigger is answered."""
        if self.required:
            return True
        obj = parent_value if isinstance(parent_value, dict) else {}
        if any(c.holds(obj) for c in self.required_when):
            return True
        return any(name in obj for name in self.dependent_on)

    def token_for(self, value: Any) -> str | None:
        for option in self.options:
            if option.value == value and type(option.value) is type(value):
                return option.token
        for option in self.options:
            if option.value == value:
                return option.token
        return None

    def option_for(self, token: str) -> Option | None:
        for option in self.options:
            if option.token == token:
                return option
        return None

    def walk(self) -> Iterator[Field]:
        yield self
        for child in self.children:
            yield from child.walk()
        if self.item is not None:
            yield from self.item.walk()
