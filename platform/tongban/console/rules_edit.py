"""The rules editor's edits: pure functions from a rule set file's text to its new text.

Like the flow editor's (console/flow_edit.py), each edit parses the text with ruamel.yaml's
round-trip loader (comments, key order and one-line maps are kept), changes the indicator or the
outcome it is about and dumps the text again; it never touches the database. The panel edits an
indicator as a table of cells: a refused edit raises :class:`RulesEditError` naming the row and
cell (``at``), with the English message translated by the page, and changes nothing. What the
rule-set checker (points/check.py) finds is not refused here: the draft keeps it and the page
shows it at the indicator, the cell and the line (docs/console.md, "Rules editor").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..i18n import N_
from .edits import plain, small
from .flow_edit import FlowEditError

KINDS = ("bands", "table", "per_unit", "group_max", "deduction", "veto", "weighted")
NUMERIC = ("integer", "number")
# What a row of each kind's table holds, in the order the panel's cells post them.
COLUMNS = {"bands": ("from", "to", "points"), "table": ("value", "points", "label_zh", "label_en"),
           "weighted": ("input", "weight", "min", "max", "higher_is_better")}


class RulesEditError(FlowEditError):
    """A refused edit; ``at`` names the field or cell ("row-2-points", "name_zh", "") the
    message belongs to. Nothing was changed."""

    def __init__(self, template: str, at: str = "", **params: Any) -> None:
        super().__init__(template, **params)
        self.at = at


def _null(representer: RoundTripRepresenter, _value: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml() -> YAML:
    """As the flow editor's, but long lines stay whole and a null stays written as null."""
    yaml = YAML(typ="rt")
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.brace_single_entry_mapping_in_flow_sequence = True
    yaml.representer.add_representer(type(None), _null)
    return yaml


def _equals_true(name: str) -> CommentedMap:
    """{"==": [{var: NAME}, true]}, as the files write a veto's condition."""
    args = CommentedSeq([small(var=name), True])
    args.fa.set_flow_style()
    return small(**{DoubleQuotedScalarString("=="): args})


def load(text: str) -> CommentedMap:
    """The rule set as a round-trip document; refused when it has no list of indicators."""
    try:
        doc = _yaml().load(text)
    except Exception:  # noqa: BLE001 - any YAML error: the text view says where
        doc = None
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("indicators"), CommentedSeq):
        raise RulesEditError(N_("The rules file cannot be read as a rule set: correct it in the "
                                "text view first."))
    return doc


@lru_cache(maxsize=16)
def _read(text: str) -> Any:
    """The rule set as plain dicts and lists, for the readers below, which do not change it:
    a page shows the indicators, the outcome, the inputs and the parameters of one text, and
    parsing it round-trip once costs more than building the rest of the page."""
    return plain(load(text))


def dump(doc: CommentedMap) -> str:
    from io import StringIO

    out = StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


# --- reading ---------------------------------------------------------------------------------

def _text(value: Any, lang: str) -> str:
    return str(value.get(lang) or "") if isinstance(value, Mapping) else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping) and "param" in value:
        return str(value["param"])
    return str(value)


@dataclass(frozen=True)
class Indicator:
    """One indicator as the list and the panel show it."""

    index: int
    id: str
    type: str
    group: str
    name_zh: str
    name_en: str
    input: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    per: str = ""
    points: str = ""
    cap: str = ""
    window: str = ""
    members: tuple[str, ...] = ()
    enabled: str = ""
    when_input: str = ""         # a veto's condition "this yes/no answer is yes", else ""
    when_other: bool = False     # a condition written another way: the text view changes it
    max_points: str = ""


def _band_row(band: Mapping[str, Any]) -> tuple[str, ...]:
    high = f"<{_cell(band['below'])}" if "below" in band else _cell(band.get("max"))
    return _cell(band.get("min")), high, _cell(band.get("points"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _max_points(raw: Mapping[str, Any], parameters: Mapping[str, Any],
                others: Mapping[str, str]) -> str:
    kind = raw.get("type")
    values: list[float] = []
    if kind == "bands":
        values = [v for b in raw.get("bands") or () if (v := _number(b.get("points"))) is not None]
    elif kind == "table":
        values = [v for r in (raw.get("table") or {}).values()
                  if isinstance(r, Mapping) and (v := _number(r.get("points"))) is not None]
    elif kind == "per_unit":
        cap = raw.get("cap")
        if isinstance(cap, Mapping):
            cap = (parameters.get(str(cap.get("param"))) or {}).get("value")
        return _cell(cap) if _number(cap) is not None else "∞"
    elif kind == "group_max":
        found = [others.get(str(m), "") for m in raw.get("of") or ()]
        return "∞" if "∞" in found else _cell(max((float(f) for f in found if f), default=0.0))
    elif kind == "weighted":
        return "100"
    elif kind in ("deduction", "veto"):
        return "0"
    return _cell(max(values)) if values else ""


def indicators(text: str) -> list[Indicator]:
    """The indicators in display order."""
    doc = _read(text)
    parameters = doc.get("parameters") or {}
    inputs = doc.get("inputs") or {}
    found: list[Indicator] = []
    maxima: dict[str, str] = {}
    for index, raw in enumerate(doc["indicators"]):
        if not isinstance(raw, Mapping):
            continue
        kind = str(raw.get("type", ""))
        values: dict[str, Any] = {}
        if kind == "bands":
            values["rows"] = tuple(_band_row(b) for b in raw.get("bands") or ()
                                   if isinstance(b, Mapping))
        elif kind == "table":
            values["rows"] = tuple(
                (str(key), _cell(row.get("points")), _text(row.get("label"), "zh"),
                 _text(row.get("label"), "en"))
                for key, row in (raw.get("table") or {}).items() if isinstance(row, Mapping))
        elif kind == "weighted":
            values["rows"] = tuple(
                (_cell(c.get("input")), _cell(c.get("weight")), _cell(c.get("min")),
                 _cell(c.get("max")), _cell(c.get("higher_is_better", True)))
                for c in raw.get("components") or () if isinstance(c, Mapping))
        elif kind == "per_unit":
            values.update(per=_cell(raw.get("per")), points=_cell(raw.get("points")),
                          cap=_cell(raw.get("cap")))
        elif kind == "deduction":
            window = raw.get("window")
            values.update(points=_cell(raw.get("points")),
                          window=_cell(window.get("years")) if isinstance(window, Mapping) else "")
        elif kind == "group_max":
            values["members"] = tuple(str(m) for m in raw.get("of") or ())
        elif kind == "veto":
            values["enabled"] = _cell(raw.get("enabled", True))
            when = raw.get("when")
            simple = _veto_input(when, inputs)
            values.update(when_input=simple or "", when_other=simple is None and when is not False)
        indicator = Indicator(index=index, id=str(raw.get("id", "")), type=kind,
                              group=str(raw.get("group", "")),
                              name_zh=_text(raw.get("name"), "zh"),
                              name_en=_text(raw.get("name"), "en"),
                              input=_cell(raw.get("input")),
                              max_points=_max_points(raw, parameters, maxima), **values)
        maxima[indicator.id] = indicator.max_points
        found.append(indicator)
    return found


def _veto_input(when: Any, inputs: Mapping[str, Any]) -> str | None:
    """The yes/no input of a condition "{==: [{var: X}, true]}" or "{var: X}"; None otherwise."""
    if isinstance(when, Mapping) and len(when) == 1:
        ((operator, args),) = when.items()
        if operator == "var" and isinstance(args, str):
            name: Any = args
        elif operator == "==" and isinstance(args, list) and len(args) == 2 \
                and isinstance(args[0], Mapping) and args[1] is True:
            name = args[0].get("var")
        else:
            return None
        if isinstance(name, str) and (inputs.get(name) or {}).get("type") == "boolean":
            return name
    return None


@dataclass(frozen=True)
class Outcome:
    kind: str
    threshold: str
    grades: tuple[tuple[str, ...], ...] = ()   # (min, grade, label zh, label en)


def outcome(text: str) -> Outcome:
    doc = _read(text)
    found = doc.get("outcome") or {}
    grades = tuple((_cell(g.get("min")), _cell(g.get("grade")), _text(g.get("label"), "zh"),
                    _text(g.get("label"), "en"))
                   for g in found.get("grades") or () if isinstance(g, Mapping))
    return Outcome(str(doc.get("kind", "")), _cell(found.get("threshold")), grades)


def inputs(text: str) -> dict[str, str]:
    """Input id -> its type, in file order."""
    found = _read(text).get("inputs") or {}
    return {str(k): str(v.get("type", "")) for k, v in found.items() if isinstance(v, Mapping)}


def parameters(text: str) -> list[str]:
    return [str(name) for name in _read(text).get("parameters") or {}]


# --- helpers for editing ---------------------------------------------------------------------

def _find(doc: CommentedMap, indicator_id: str) -> CommentedMap:
    for raw in doc["indicators"]:
        if isinstance(raw, CommentedMap) and raw.get("id") == indicator_id:
            return raw
    raise RulesEditError(N_('There is no indicator "%(indicator)s" in the rule set.'),
                         indicator=indicator_id)


def _parse_number(text: str, template: str, at: str, **params: Any) -> int | float:
    cleaned = text.strip().replace("，", ",").replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        raise RulesEditError(template, at, **params) from None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
        raise RulesEditError(template, at, **params)
    return int(value) if value.is_integer() and "." not in cleaned and "e" not in cleaned.lower() \
        else value


def _number_or_param(text: str, params: Sequence[str], template: str, at: str) -> Any:
    if text.strip() in params:
        return small(param=text.strip())
    return _parse_number(text, template, at)


def _names(node: CommentedMap, zh: str, en: str) -> None:
    zh, en = zh.strip(), en.strip()
    if not zh:
        raise RulesEditError(N_("Enter the Chinese name of the indicator."), "name_zh")
    if not en:
        raise RulesEditError(N_("Enter the English name of the indicator."), "name_en")
    name = node.get("name")
    if isinstance(name, CommentedMap):
        name["zh"], name["en"] = zh, en
    else:
        node["name"] = small(zh=zh, en=en)


def _show(value: float) -> str:
    return _cell(value)


# --- editing an indicator --------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorEdit:
    """What the panel posts: the names, and the cells of the indicator's kind."""

    name_zh: str
    name_en: str
    rows: tuple[tuple[str, ...], ...] = ()
    per: str = ""
    points: str = ""
    cap: str = ""
    window: str = ""
    members: tuple[str, ...] = field(default_factory=tuple)
    enabled: str = ""
    when_input: str = ""


def _bands(rows: Sequence[Sequence[str]]) -> CommentedSeq:
    bands = CommentedSeq()
    ranges: list[tuple[float, float, bool, int]] = []
    for number, (low_text, high_text, points_text) in enumerate(rows, start=1):
        band = CommentedMap()
        low = float("-inf")
        if low_text.strip():
            band["min"] = _parse_number(low_text, N_('Enter "from" of band %(row)s as a number, '
                                                     'or leave it empty for no lower bound.'),
                                        f"row-{number}-from", row=number)
            low = band["min"]
        high, below = float("inf"), high_text.strip().startswith("<")
        if high_text.strip():
            value = _parse_number(high_text.strip().removeprefix("<"),
                                  N_('Enter "to" of band %(row)s as a number ("<50" for below '
                                     '50), or leave it empty for no upper bound.'),
                                  f"row-{number}-to", row=number)
            band["below" if below else "max"] = value
            high = value
        band["points"] = _parse_number(points_text, N_("Enter the points of row %(row)s as a "
                                                       "number, for example 10."),
                                       f"row-{number}-points", row=number)
        if high < low or (below and high == low):
            raise RulesEditError(N_("Band %(row)s starts at %(start)s, after it ends at "
                                    "%(end)s."), f"row-{number}-to", row=number,
                                 start=_show(low), end=_show(high))
        ranges.append((low, high, below, number))
        band.fa.set_flow_style()
        bands.append(band)
    ordered = sorted(ranges)
    for (_low, high, below, number), (next_low, _high, _below, next_number) in zip(
            ordered, ordered[1:], strict=False):
        if next_low < high or (next_low == high and not below):
            first, second = sorted((number, next_number))
            raise RulesEditError(N_("Bands %(first)s and %(second)s overlap: a value can be in "
                                    "only one band."), f"row-{second}-from",
                                 first=first, second=second)
    if not bands:
        raise RulesEditError(N_("An indicator of bands needs at least one band."))
    return bands


def _table(rows: Sequence[Sequence[str]], old: Mapping[str, Any]) -> CommentedMap:
    table = CommentedMap()
    for number, (value, points_text, label_zh, label_en) in enumerate(rows, start=1):
        value = value.strip()
        if not value:
            raise RulesEditError(N_("Enter the answer of row %(row)s."), f"row-{number}-value",
                                 row=number)
        if value in table:
            raise RulesEditError(N_('The answer "%(value)s" is in the table twice (row '
                                    '%(row)s).'), f"row-{number}-value", value=value,
                                 row=number)
        points = _parse_number(points_text, N_("Enter the points of row %(row)s as a number, "
                                               "for example 10."),
                               f"row-{number}-points", row=number)
        if not label_zh.strip() or not label_en.strip():
            raise RulesEditError(N_("Enter what row %(row)s means in Chinese and in English."),
                                 f"row-{number}-label_{'zh' if not label_zh.strip() else 'en'}",
                                 row=number)
        row = old.get(value) if isinstance(old.get(value), CommentedMap) else None
        if row is None:
            row = small(points=points, label=small(zh=label_zh.strip(), en=label_en.strip()))
        else:  # only what changed is written again, so quoting as written is kept
            if row.get("points") != points:
                row["points"] = points
            label = row.get("label")
            if not isinstance(label, CommentedMap):
                row["label"] = small(zh=label_zh.strip(), en=label_en.strip())
            else:
                for lang, words in (("zh", label_zh.strip()), ("en", label_en.strip())):
                    if label.get(lang) != words:
                        label[lang] = words
        table[next((key for key in old if key == value), value)] = row  # the key as written
    if not table:
        raise RulesEditError(N_("A table needs at least one row."))
    return table


def _components(rows: Sequence[Sequence[str]], known: Mapping[str, str]) -> CommentedSeq:
    components = CommentedSeq()
    for number, (input_id, weight, low, high, better) in enumerate(rows, start=1):
        if known.get(input_id.strip()) not in NUMERIC:
            raise RulesEditError(N_("Choose the number input of row %(row)s."),
                                 f"row-{number}-input", row=number)
        message = N_("Enter the %(what)s of row %(row)s as a number.")
        component = small(
            input=input_id.strip(),
            weight=_parse_number(weight, message, f"row-{number}-weight", what="weight",
                                 row=number),
            min=_parse_number(low, message, f"row-{number}-min", what="min", row=number),
            max=_parse_number(high, message, f"row-{number}-max", what="max", row=number))
        if component["weight"] <= 0:
            raise RulesEditError(N_("The weight of row %(row)s must be above zero."),
                                 f"row-{number}-weight", row=number)
        if better.strip() == "false":
            component["higher_is_better"] = False
        components.append(component)
    if not components:
        raise RulesEditError(N_("A weighted score needs at least one component."))
    return components


def edit_indicator(text: str, indicator_id: str, edit: IndicatorEdit) -> str:
    """The indicator's names and the cells of its kind set as the panel says."""
    doc = load(text)
    node = _find(doc, indicator_id)
    _names(node, edit.name_zh, edit.name_en)
    kind = node.get("type")
    known = inputs(text)
    params = parameters(text)
    if kind == "bands":
        node["bands"] = _bands(edit.rows)
    elif kind == "table":
        node["table"] = _table(edit.rows, node.get("table") or {})
    elif kind == "weighted":
        node["components"] = _components(edit.rows, known)
    elif kind == "per_unit":
        node["per"] = _parse_number(edit.per, N_("Enter the unit as a number above zero, for "
                                                 "example 1."), "per")
        if node["per"] <= 0:
            raise RulesEditError(N_("Enter the unit as a number above zero, for example 1."),
                                 "per")
        node["points"] = _parse_number(edit.points, N_("Enter the points for each unit as a "
                                                       "number, for example 3."), "points")
        node["cap"] = None if not edit.cap.strip() else _number_or_param(
            edit.cap, params, N_("Enter the cap as a number, a parameter's name, or nothing "
                                 "for no cap."), "cap")
    elif kind == "deduction":
        points = _parse_number(edit.points, N_("Enter the points of each event as a number "
                                               "below zero, for example -10."), "points")
        if points >= 0:
            raise RulesEditError(N_("Enter the points of each event as a number below zero, "
                                    "for example -10."), "points")
        node["points"] = points
        if edit.window.strip():
            years = _number_or_param(edit.window, params, N_(
                "Enter the window as a whole number of years, a parameter's name, or nothing "
                "for every event."), "window")
            if not isinstance(years, CommentedMap) and (not isinstance(years, int) or years < 1):
                raise RulesEditError(N_("Enter the window as a whole number of years, a "
                                        "parameter's name, or nothing for every event."),
                                     "window")
            node["window"] = small(years=years)
        else:
            node.pop("window", None)
    elif kind == "group_max":
        members = [m for m in edit.members if m]
        ids = {str(i.get("id")): i.get("type") for i in doc["indicators"]
               if isinstance(i, Mapping)}
        if len(members) < 2 or any(ids.get(m) in (None, "veto", "group_max") or m == indicator_id
                                   for m in members):
            raise RulesEditError(N_("Choose at least two indicators that give points: this one "
                                    "counts the highest of them."), "members")
        of = CommentedSeq(members)
        of.fa.set_flow_style()
        node["of"] = of
    elif kind == "veto":
        enabled = edit.enabled.strip()
        if enabled in ("true", "false"):
            node["enabled"] = enabled == "true"
        elif enabled in params:
            node["enabled"] = small(param=enabled)
        else:
            raise RulesEditError(N_("Choose whether the veto applies."), "enabled")
        if node["enabled"] is True:
            del node["enabled"]
        if edit.when_input:
            if known.get(edit.when_input) != "boolean":
                raise RulesEditError(N_("Choose the yes/no answer that vetoes."), "when_input")
            node["when"] = _equals_true(edit.when_input)
    return dump(doc)


def add_row(text: str, indicator_id: str) -> str:
    """One more row at the end of the indicator's table, with starter cells that leave no gap
    (bands: the open last band is closed at its start and a new one opens after it)."""
    doc = load(text)
    node = _find(doc, indicator_id)
    kind = node.get("type")
    if kind == "bands":
        bands = node["bands"]
        last = bands[-1] if bands else None
        start: float = 0
        if isinstance(last, CommentedMap):
            if "max" in last:
                start = last["max"] + 1
            elif "below" in last:
                start = last["below"]
            else:
                low = last.get("min", 0)
                last["max"] = low
                start = low + 1
        band = small(min=start, points=0)
        bands.append(band)
    elif kind == "table":
        table = node["table"]
        number = len(table) + 1
        while f"value_{number}" in table:
            number += 1
        table[f"value_{number}"] = small(points=0, label=small(zh=f"新答案 {number}",
                                                                 en=f"New answer {number}"))
    elif kind == "weighted":
        numeric = [k for k, t in inputs(text).items() if t in NUMERIC]
        if not numeric:
            raise RulesEditError(N_("The rule set has no number input to weigh: add one in the "
                                    "text view first."))
        node["components"].append(small(input=numeric[0], weight=1, min=0, max=100))
    else:
        raise RulesEditError(N_('"%(indicator)s" has no rows to add.'), indicator=indicator_id)
    return dump(doc)


def remove_row(text: str, indicator_id: str, row: int) -> str:
    """Row ``row`` (from 1) removed; an indicator keeps one row."""
    doc = load(text)
    node = _find(doc, indicator_id)
    kind = node.get("type")
    key = {"bands": "bands", "table": "table", "weighted": "components"}.get(str(kind))
    rows = node.get(key) if key else None
    if rows is None or not 1 <= row <= len(rows):
        raise RulesEditError(N_("There is no row %(row)s to remove."), row=row)
    if len(rows) == 1:
        raise RulesEditError(N_("An indicator keeps at least one row: change this one "
                                "instead."), f"row-{row}-remove")
    if isinstance(rows, CommentedMap):
        del rows[list(rows)[row - 1]]
    else:
        del rows[row - 1]
    return dump(doc)


# --- the outcome -----------------------------------------------------------------------------

def edit_outcome(text: str, threshold: str, grades: Sequence[Sequence[str]]) -> str:
    """The pass mark of a scorecard, or the grades of a grading (highest min first)."""
    doc = load(text)
    block = doc.get("outcome")
    if not isinstance(block, CommentedMap):
        block = doc["outcome"] = CommentedMap()
    if doc.get("kind") == "scorecard" or "threshold" in block:
        block["threshold"] = _parse_number(threshold, N_("Enter the pass mark as a number, for "
                                                         "example 120."), "threshold")
    if doc.get("kind") == "grading" or "grades" in block:
        found = CommentedSeq()
        for number, (low, grade, label_zh, label_en) in enumerate(grades, start=1):
            entry = small(min=_parse_number(low, N_("Enter the lowest score of grade row "
                                                     "%(row)s as a number."),
                                             f"grade-{number}-min", row=number))
            if not grade.strip():
                raise RulesEditError(N_("Enter the grade of row %(row)s."),
                                     f"grade-{number}-grade", row=number)
            entry["grade"] = grade.strip()
            if label_zh.strip() and label_en.strip():
                entry["label"] = small(zh=label_zh.strip(), en=label_en.strip())
            if found and entry["min"] >= found[-1]["min"]:
                raise RulesEditError(N_("Grades go from the highest lowest score down: row "
                                        "%(row)s must be below row %(above)s."),
                                     f"grade-{number}-min", row=number, above=number - 1)
            found.append(entry)
        if not found:
            raise RulesEditError(N_("A grading needs at least one grade."))
        block["grades"] = found
    return dump(doc)


# --- adding, removing and moving indicators --------------------------------------------------

def _first(known: Mapping[str, str], types: Sequence[str]) -> str | None:
    return next((name for name, kind in known.items() if kind in types), None)


def _starter(doc: CommentedMap, kind: str, known: Mapping[str, str]) -> dict[str, Any]:
    """Content of a new indicator of ``kind`` that the rule-set checker accepts."""
    missing = N_("The rule set has no input a %(kind)s indicator can read: add one in the text "
                 "view first.")
    if kind in ("bands", "per_unit", "weighted"):
        number = _first(known, NUMERIC)
        if number is None:
            raise RulesEditError(missing, "kind", kind=kind)
        if kind == "bands":
            return {"input": number, "bands": [small(min=0, max=9, points=0),
                                               small(min=10, points=10)]}
        if kind == "per_unit":
            return {"input": number, "per": 1, "points": 1, "cap": 10}
        return {"components": [small(input=number, weight=1, min=0, max=100)]}
    if kind == "table":
        answer = _first(known, ("boolean", "string"))
        if answer is None:
            raise RulesEditError(missing, "kind", kind=kind)
        if known[answer] == "boolean":
            return {"input": answer, "table": {
                "true": small(points=10, label=small(zh="是", en="Yes")),
                "false": small(points=0, label=small(zh="否", en="No"))}}
        return {"input": answer, "table": {
            "none": small(points=0, label=small(zh="无", en="None"))}}
    if kind == "deduction":
        dates = _first(known, ("dates",))
        if dates is not None:
            return {"input": dates, "points": -10, "window": small(years=1)}
        count = _first(known, ("integer",))
        if count is None:
            raise RulesEditError(missing, "kind", kind=kind)
        return {"input": count, "points": -10}
    if kind == "veto":
        flag = _first(known, ("boolean",))
        when: Any = False
        if flag is not None:
            when = _equals_true(flag)
        return {"enabled": False, "when": when}
    if kind == "group_max":
        grouped = {str(m) for i in doc["indicators"] if isinstance(i, Mapping)
                   for m in i.get("of") or ()}
        free = [str(i["id"]) for i in doc["indicators"] if isinstance(i, Mapping)
                and i.get("type") not in ("veto", "group_max") and i.get("id") not in grouped]
        if len(free) < 2:
            raise RulesEditError(N_("A higher-of group needs two indicators that give points "
                                    "and are in no other group."), "kind")
        of = CommentedSeq(free[:2])
        of.fa.set_flow_style()
        return {"of": of}
    raise RulesEditError(N_("Choose the kind of the new indicator."), "kind")


def add_indicator(text: str, kind: str, name_zh: str, name_en: str) -> tuple[str, str]:
    """A new indicator of ``kind`` at the end, with starter content. Returns (text, its id)."""
    doc = load(text)
    if kind not in KINDS:
        raise RulesEditError(N_("Choose the kind of the new indicator."), "kind")
    ids = {str(i.get("id")) for i in doc["indicators"] if isinstance(i, Mapping)}
    number = len(ids) + 1
    while f"{kind}_{number}" in ids:
        number += 1
    new_id = f"{kind}_{number}"
    node = CommentedMap()
    node["id"] = new_id
    node["group"] = {"deduction": "minus", "veto": "veto"}.get(
        kind, "basic" if doc.get("kind") == "grading" else "plus")
    _names(node, name_zh, name_en)
    node["type"] = kind
    for key, value in _starter(doc, kind, inputs(text)).items():
        if isinstance(value, dict) and not isinstance(value, CommentedMap):
            value = CommentedMap(value)
        elif isinstance(value, list) and not isinstance(value, CommentedSeq):
            value = CommentedSeq(value)
        node[key] = value
    doc["indicators"].append(node)
    return dump(doc), new_id


def remove_indicator(text: str, indicator_id: str) -> str:
    doc = load(text)
    node = _find(doc, indicator_id)
    if len(doc["indicators"]) == 1:
        raise RulesEditError(N_("A rule set needs at least one indicator: add another before "
                                "removing this one."))
    for other in doc["indicators"]:
        if isinstance(other, Mapping) and indicator_id in (other.get("of") or ()):
            raise RulesEditError(N_('"%(indicator)s" is counted in the higher-of group '
                                    '"%(group)s": take it out of that group first.'),
                                 indicator=indicator_id, group=str(other.get("id")))
    doc["indicators"].remove(node)
    return dump(doc)


def move_indicator(text: str, indicator_id: str, direction: str) -> str:
    """The indicator one place up or down the list (the order results show them in)."""
    doc = load(text)
    node = _find(doc, indicator_id)
    items = doc["indicators"]
    index = items.index(node)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(items):
        raise RulesEditError(N_('"%(indicator)s" cannot move further that way.'),
                             indicator=indicator_id)
    items[index], items[target] = items[target], items[index]
    return dump(doc)
