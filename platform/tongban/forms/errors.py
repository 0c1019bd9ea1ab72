"""Validation errors as people read them: one message per answer, GOV.UK wording.

Errors are data (:class:`FieldError`: where, what, limits) until shown; :func:`message`
turns one into words in the request's language, with the field's label put in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema
from jsonschema.exceptions import best_match

from tongban.forms import formats_and_rules, paths
from tongban.forms.fields import Field, text_for
from tongban.i18n import N_

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition


@dataclass(frozen=True)
class FieldError:
    """One problem with one answer. ``path`` is the instance path (``members.0.name``),
    ``""`` for the whole form; ``key`` is the field key (``members.name``) or None."""

    path: str
    key: str | None
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


# Which message wins when one answer has several problems.
_PRIORITY = {"block": -1, "required": 0, "too_many_fields": 0, "too_deep": 0, "comma": 1, "not_a_number": 1,
             "whole_number": 1, "nul": 1, "date_part_missing": 1, "date_year": 1, "real_date": 1,
             "date_format": 1, "json": 1, "region_missing": 1, "region_mismatch": 1,
             "region_unknown": 1, "enum": 2, "type": 2, "format": 3, "const": 3}

_MESSAGES: dict[str, str] = {
    "required": N_("Enter %(label)s"),
    "required_choice": N_("Select %(label)s"),
    "required_file": N_("Upload %(label)s"),
    "required_confirm": N_("Confirm %(label)s"),
    "comma": N_("Enter %(label)s without commas"),
    "nul": N_("%(label)s contains a hidden control character (NUL) that cannot be saved. "
              "Delete the answer and type it again"),
    "not_a_number": N_("%(label)s must be a number"),
    "whole_number": N_("%(label)s must be a whole number"),
    "minimum": N_("%(label)s must be %(limit)s or more"),
    "maximum": N_("%(label)s must be %(limit)s or less"),
    "exclusiveMinimum": N_("%(label)s must be more than %(limit)s"),
    "exclusiveMaximum": N_("%(label)s must be less than %(limit)s"),
    "multipleOf": N_("%(label)s must be a multiple of %(limit)s"),
    "minLength": N_("%(label)s must be %(limit)s characters or more"),
    "maxLength": N_("%(label)s must be %(limit)s characters or less"),
    "pattern": N_("Enter %(label)s in the correct format"),
    "format": N_("Enter %(label)s in the correct format"),
    "format_email": N_("Enter %(label)s in the correct format, like name@example.com"),
    "format_date": N_("%(label)s must be a real date"),
    "real_date": N_("%(label)s must be a real date"),
    "date_format": N_("Enter %(label)s as a date, like 2025-03-27"),
    "date_part_missing": N_("%(label)s must include a %(part)s"),
    "date_year": N_("The year of %(label)s must include 4 numbers"),
    "date_not_after_today": N_("%(label)s must be today or in the past"),
    "date_not_before_today": N_("%(label)s must be today or in the future"),
    "date_not_after": N_("%(label)s must be the same as or before %(date)s"),
    "date_not_before": N_("%(label)s must be the same as or after %(date)s"),
    "enum": N_("Select %(label)s from the list"),
    "const": N_("%(label)s must be %(value)s"),
    "minItems": N_("%(label)s must have %(limit)s or more answers"),
    "maxItems": N_("%(label)s must have %(limit)s or fewer answers"),
    "minItems_choice": N_("Select %(limit)s or more options for %(label)s"),
    "maxItems_choice": N_("Select %(limit)s or fewer options for %(label)s"),
    "uniqueItems": N_("%(label)s must not have the same answer twice"),
    "json": N_("Enter %(label)s in JSON format"),
    "region_missing_province": N_("Select the province for %(label)s"),
    "region_missing_city": N_("Select the city for %(label)s"),
    "region_missing_district": N_("Select the district or county for %(label)s"),
    "region_mismatch_province": N_("Select the province for %(label)s from the list"),
    "region_mismatch_city": N_("The city you chose for %(label)s is not in the province you "
                               "chose. Select the city again"),
    "region_mismatch_district": N_("The district or county you chose for %(label)s is not in "
                                   "the city you chose. Select it again"),
    "region_unknown": N_("The place you chose for %(label)s is not a current region. Select it "
                         "again"),
    "file": N_("%(label)s: %(detail)s"),
    "too_many_items": N_("%(label)s must have %(limit)s or fewer answers"),
    "too_many_fields": N_("The form sent more than %(limit)s answers. Go back and try again"),
    "too_deep": N_("The form sent answers nested more than %(limit)s levels deep. Go back and "
                   "try again"),
    "additionalProperties": N_("%(label)s has an answer that is not asked for"),
    "not": N_("%(label)s has an answer that is not allowed"),
    "schema": N_("Check %(label)s"),
    "type": N_("Enter %(label)s in the correct format"),
}
_DATE_PARTS = {"year": N_("year"), "month": N_("month"), "day": N_("day")}
_FORM_LABEL = N_("the form")


def message(error: FieldError, form: FormDefinition | None, lang: str) -> str:
    """The words for ``error`` in the current locale, with definition texts in ``lang``."""
    from flask_babel import gettext

    if error.code == "block":
        return text_for(error.params.get("message"), lang)
    fld = _field_for(form, error.key)
    label = _label(fld, error, lang, gettext)
    params: dict[str, Any] = {"label": label}
    for name, value in error.params.items():
        params[name] = _param_text(value)
    code = error.code
    if code == "format":
        detail = formats_and_rules.explain_format(str(error.params.get("format")), error.params.get("value"))
        if detail:
            translated = gettext(detail)
            return translated % params if "%(label)s" in translated else translated
        fmt = error.params.get("format")
        if fmt == "email":
            code = "format_email"
        elif fmt == "date":
            code = "format_date"
    elif code == "required" and fld is not None:
        if fld.widget == "file":
            code = "required_file"
        elif fld.widget == "checkbox" and fld.const is True:
            code = "required_confirm"
        elif fld.options or fld.widget in ("radios", "select", "autocomplete", "checkboxes",
                                           "region"):
            code = "required_choice"
    elif code in ("minItems", "maxItems") and fld is not None and fld.widget == "checkboxes":
        if code == "minItems" and error.params.get("limit") == 1:
            code = "required_choice"
        else:
            code += "_choice"
    elif code == "minLength" and error.params.get("limit") == 1:
        code = "required"
    elif code == "const" and error.params.get("value") is True:
        code = "required_confirm"
    elif code in ("region_missing", "region_mismatch"):
        code = f"{code}_{error.params.get('level')}"
    elif code == "date_part_missing":
        params["part"] = gettext(_DATE_PARTS.get(str(error.params.get("part")), "day"))
    template = _MESSAGES.get(code, _MESSAGES["schema"])
    text = str(gettext(template, **params))
    return text[:1].upper() + text[1:]


def _field_for(form: FormDefinition | None, key: str | None) -> Field | None:
    if form is None or key is None:
        return None
    if key == "":
        return form.root
    found = form.fields.get(key)
    return found[0] if found else None


def _label(fld: Field | None, error: FieldError, lang: str, gettext: Any) -> str:
    text = text_for(fld.label, lang) if fld is not None else ""
    if not text:
        if error.path:
            text = paths.split(error.path)[-1]
        else:
            return str(gettext(_FORM_LABEL))
    if lang == "en" and len(text) > 1 and text[0].isupper() and not text[1].isupper():
        # "Enter full name", not "Enter Full name"; acronyms such as "ID number" stay.
        text = text[0].lower() + text[1:]
    return text


def _param_text(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    return json.dumps(value, ensure_ascii=False)


def sort_errors(errors: Iterable[FieldError], form: FormDefinition | None = None) -> list[
        FieldError]:
    """One error per answer (the most useful), in the order the fields appear."""
    best: dict[str, FieldError] = {}
    for error in errors:
        current = best.get(error.path)
        if current is None or _PRIORITY.get(error.code, 5) < _PRIORITY.get(current.code, 5):
            best[error.path] = error
    if len(best) < 2:
        return list(best.values())
    order = _field_order(form)
    return sorted(best.values(), key=lambda e: (order.get(e.key or "", -1),
                                                 _path_sort_key(e.path)))


def _field_order(form: FormDefinition | None) -> dict[str, int]:
    if form is None:
        return {}
    return {fld.key: index for index, fld in enumerate(form.root.walk())}


def _path_sort_key(path: str) -> list[Any]:
    return [(0, int(s), "") if paths.is_index(s) else (1, 0, s) for s in paths.split(path)]


def schema_errors(form: FormDefinition, data: Any, validator: Any = None) -> list[FieldError]:
    """Run the compiled validator (or ``validator``, one of the form's page validators) and
    attribute each failure to the answer it is about."""
    result: list[FieldError] = []
    for error in (validator or form.validator).iter_errors(data):
        result.extend(_attribute(form, error, data))
    return result


def _attribute(form: FormDefinition, error: jsonschema.ValidationError,
               data: Any) -> list[FieldError]:
    segments = [str(s) for s in error.absolute_path]
    code = str(error.validator)
    value = error.validator_value
    if code == "required" and isinstance(error.instance, dict) and isinstance(value, list):
        return [_located(form, data, [*segments, name], "required", {})
                for name in value if name not in error.instance]
    if code in ("dependentRequired", "dependencies") and isinstance(error.instance, dict) and (
            isinstance(value, dict)):
        missing = []
        for trigger, needed in value.items():
            if trigger in error.instance and isinstance(needed, list):
                missing += [n for n in needed if n not in error.instance]
        if missing:
            return [_located(form, data, [*segments, n], "required", {}) for n in missing]
    if code in ("oneOf", "anyOf"):
        fld = _locate(form, data, segments)[0]
        if fld is not None and fld.options:
            return [_located(form, data, segments, "enum", {})]
        if error.context:
            return _attribute(form, best_match(error.context), data)
    params: dict[str, Any] = {}
    if code in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                "minLength", "maxLength", "minItems", "maxItems"):
        params["limit"] = value
    elif code == "format":
        params = {"format": value, "value": error.instance}
    elif code == "const":
        params["value"] = value
    elif code == "type":
        params["type"] = value
    elif code == "additionalProperties" and isinstance(error.instance, dict):
        params = {}
    known = set(_MESSAGES) | {"format"}
    return [_located(form, data, segments, code if code in known else "schema", params)]


def _located(form: FormDefinition, data: Any, segments: list[str], code: str,
             params: Mapping[str, Any]) -> FieldError:
    fld, depth = _locate(form, data, segments)
    path = paths.join(*segments[:depth]) if fld is not None else ""
    if fld is None or (fld is form.root and form.root_is_object):
        return FieldError(path, None, code, params)
    return FieldError(path, fld.key, code, params)


def _locate(form: FormDefinition, data: Any, segments: list[str]) -> tuple[Field | None, int]:
    """The deepest field on the path, and how many segments it consumed."""
    fld = form.root
    value = data
    depth = 0
    for segment in segments:
        nxt: Field | None = None
        if fld.widget == "fieldset":
            for candidate in fld.active_children(value):
                if candidate.name == segment:
                    nxt = candidate
                    break
            if nxt is None:
                nxt = next((c for c in fld.children if c.name == segment), None)
        elif fld.item is not None and paths.is_index(segment):
            nxt = fld.item
        if nxt is None:
            break
        value = _step(value, segment)
        fld = nxt
        depth += 1
    return fld, depth


def _step(value: Any, segment: str) -> Any:
    if isinstance(value, dict):
        return value.get(segment)
    if isinstance(value, list) and paths.is_index(segment) and int(segment) < len(value):
        return value[int(segment)]
    return None
