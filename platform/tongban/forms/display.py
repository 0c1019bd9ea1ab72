"""Answers as text for people, and the field-tree lookups the page and overview renderers share.

Used by :mod:`tongban.forms.render` (read-only questions, option labels, input values),
:mod:`tongban.forms.page_rules` (the note saying when a question applies) and
:mod:`tongban.forms.overview` (the check-answers rows).
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from flask_babel import gettext

from tongban.forms import paths, region_picker
from tongban.forms.fields import Field, text_for

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition

_LOCALES = {"zh": "zh_CN", "en": "en"}


def display_value(fld: Field, value: Any, lang: str) -> str:
    """An answer as text for people (check answers, read-only fields)."""
    if value is None:
        return ""
    if fld.options:
        values = value if isinstance(value, list) else [value]
        labels = []
        for item in values:
            token = fld.token_for(item)
            option = fld.option_for(token) if token is not None else None
            labels.append(option_label(option, lang) if option else input_text(item))
        return "、".join(labels) if lang == "zh" else ", ".join(labels)
    if fld.widget == "date" and isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return value
        return format_date(day, format="long", locale=_LOCALES.get(lang, "zh_CN"))
    if fld.format == "cn-amount" or (fld.widget == "amount"):
        return f"¥{value}"
    if (fld.widget == "region" or fld.format == "cn-region") and isinstance(value, str):
        return region_picker.full_name(value) or value
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return input_text(value)


def option_label(option: Any, lang: str) -> str:
    if option.msgid:
        return str(gettext(option.msgid))
    return text_for(option.label, lang)


def input_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)


def key_of(form: FormDefinition, path: str) -> str | None:
    """The field key (item indexes dropped) of an instance path; None when no field has it."""
    parts = [p for p in paths.split(path)]
    key_parts: list[str] = []
    fld: Field | None = form.root
    for part in parts:
        if fld is None:
            return None
        if fld.widget == "fieldset":
            fld = next((c for c in fld.children if c.name == part), None)
            key_parts.append(part)
        elif fld.item is not None:
            fld = fld.item
        else:
            return None
    return paths.join(*key_parts)


def parent_field(form: FormDefinition, segments: list[str]) -> Field:
    """The fieldset holding the field at ``segments`` (the root when a segment is unknown)."""
    fld = form.root
    for segment in segments[:-1]:
        nxt = next((c for c in fld.children if c.name == segment), None)
        if nxt is None:
            return form.root
        fld = nxt
    return fld
