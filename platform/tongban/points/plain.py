"""A rule set in plain language (公开透明), generated from its YAML document.

Nothing here is written for one rule set: each indicator type has its own sentence pattern,
filled from the document (bands, tables, caps, windows, weights, the outcome) in Chinese or
English. The public rules page and the self-check calculator show it.

Units: a band or a per-unit rule names the unit of its input when the input has ``unit``
({zh, en}) or when the caller passes the unit of the form question the input reads (its
suffix, e.g. 个月); otherwise the numbers stand alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition

LangText = Mapping[str, str] | str | None

GROUP_ORDER = ("basic", "plus", "minus", "veto")

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "points": "{n} 分", "exact": "{v}{u}", "or_under": "{v}{u}及以下",
        "or_over": "{v}{u}及以上", "range": "{a}–{b}{u}", "band": "{range} {points}",
        "range_below": "{a}{u}至不足 {b}{u}",
        "band_bare": "{range}：{points}",
        "band_sep": "；", "table_item": "{label}：{points}",
        "per_unit": "每满 {per}{u}得 {points}", "cap": "，最高 {cap}", "no_cap": "，不设上限",
        "group_max": "{names}只计其中较高的一项（二选一，取较高者）",
        "name_sep": "、", "deduction": "每次扣 {points}", "window": "，只计最近 {years} 年内的记录",
        "no_window": "，不限年限",
        "veto": "一票否决：{condition}的，不论积分多少，均不符合条件。",
        "veto_plain": "一票否决：有此情形的，不论积分多少，均不符合条件。",
        "weight": "权重 {share}%：本项得分（0–100 分）乘以 {share}% 计入总分。",
        "weighted": "由以下各项加权计算，满分 100 分：",
        "component_up": "{input}（权重 {share}%）：{low}得 0，{high}{u}及以上得满分，其间按比例",
        "or_less": "{v}{u}及以下",
        "component_down": "{input}（权重 {share}%）：{low}得满分，{high}{u}及以上得 0，其间按比例",
        "below": "不足 {v}{u}",
        "normalise": "按{input}折算：{low}{u}及以下得 0 分，{high}{u}及以上得满分 100 分，其间按比例计分。",
        "normalise_zero": "按{input}折算：{high}{u}及以上得满分 100 分，不足的按比例计分。",
        "grade_bottom": "{grade} 级{title}：不足 {upper} 分",
        "threshold": "总分达到 {n} 分的符合条件；有一票否决情形的，不论总分多少均不符合条件。",
        "grade_top": "{grade} 级{title}：{min} 分及以上",
        "grade_mid": "{grade} 级{title}：{min} 分及以上，不足 {upper} 分",
        "grade_title": "（{name}）",
        "effective_from": "自 {start} 起施行", "effective_range": "自 {start} 起施行，至 {end} 止",
        "version": "第 {n} 版",
        "is": "{name}为“{value}”", "is_not": "{name}不为“{value}”", "yes": "是", "no": "否",
        "at_least": "{name}达到 {value}", "more_than": "{name}超过 {value}",
        "at_most": "{name}不超过 {value}", "less_than": "{name}不足 {value}",
        "and": "且", "or": "或", "no_value": "不设",
        "when": "{condition}的，", "off": "此项暂不启用（由政策参数关闭）。",
    },
    "en": {
        "points": "{n} points", "exact": "{v}{u}", "or_under": "{v}{u} or under",
        "or_over": "{v}{u} or over", "range": "{a} to {b}{u}", "band": "{range}: {points}",
        "range_below": "{a}{u} to under {b}{u}",
        "band_bare": "{range}: {points}",
        "band_sep": "; ", "table_item": "{label}: {points}",
        "per_unit": "{points} for each full {per}{u}", "cap": ", up to {cap}",
        "no_cap": ", with no upper limit",
        "group_max": "Only the higher of {names} counts (they do not add up)",
        "name_sep": ", ", "deduction": "{points} taken off for each one",
        "window": " in the last {years} years", "window_one": " in the last year",
        "points_one": "{n} point", "no_window": ", however long ago",
        "veto": "Veto: if {condition}, the result is ineligible whatever the points.",
        "veto_plain": "Veto: if this applies, the result is ineligible whatever the points.",
        "weight": "Weight {share}%: this indicator's score (0 to 100) times {share}% counts "
                  "towards the total.",
        "weighted": "Weighted from the following, out of 100:",
        "or_less": "{v}{u} or less",
        "component_up": "{input} (weight {share}%): {low} scores nothing, {high}{u} or "
                        "more scores in full, in proportion in between",
        "component_down": "{input} (weight {share}%): {low} scores in full, {high}{u} "
                          "or more scores nothing, in proportion in between",
        "below": "under {v}{u}",
        "normalise": "Scored on {input}: {low}{u} or less scores 0, {high}{u} or more scores the "
                     "full 100, in proportion in between.",
        "normalise_zero": "Scored on {input}: {high}{u} or more scores the full 100, less in "
                          "proportion.",
        "grade_bottom": "Grade {grade}{title}: under {upper}",
        "threshold": "A total of {n} points or more is eligible; a veto makes the result "
                     "ineligible whatever the total.",
        "grade_top": "Grade {grade}{title}: {min} or more",
        "grade_mid": "Grade {grade}{title}: {min} or more, under {upper}",
        "grade_title": " ({name})",
        "effective_from": "In force from {start}",
        "effective_range": "In force from {start} to {end}",
        "version": "version {n}",
        "is": "{name} is “{value}”", "is_not": "{name} is not “{value}”", "yes": "yes",
        "no": "no", "at_least": "{name} is {value} or more", "more_than": "{name} is over {value}",
        "at_most": "{name} is {value} or less", "less_than": "{name} is under {value}",
        "and": " and ", "or": " or ", "no_value": "none",
        "when": "If {condition}: ", "off": "Not in force: switched off by a policy choice.",
    },
}

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


@dataclass(frozen=True)
class PlainIndicator:
    id: str
    group: str
    type: str
    name: str
    sentences: tuple[str, ...]
    """Each a full sentence or clause about how the indicator counts."""
    items: tuple[str, ...] = ()
    """A table's rows (or a weighted indicator's), one per value, shown as a list."""
    reads: tuple[str, ...] = ()
    """The names of the inputs it reads."""


@dataclass(frozen=True)
class PlainParameter:
    id: str
    value: str
    note: str


@dataclass(frozen=True)
class PlainRules:
    id: str
    name: str
    kind: str
    example: bool
    description: str
    version: int | None
    version_text: str
    effective: str
    indicators: tuple[PlainIndicator, ...]
    parameters: tuple[PlainParameter, ...]
    outcome: tuple[str, ...]
    groups: tuple[tuple[str, tuple[PlainIndicator, ...]], ...] = field(default=())
    """The indicators by group, in the order basic, plus, minus, veto, then any other."""


def text(value: LangText, lang: str) -> str:
    """A {zh, en} pair in ``lang``, falling back to Chinese, then to any."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get("zh") or next(iter(value.values()), "")


def number(value: Any) -> str:
    """A number as people write it: whole numbers without a decimal point, else up to 2 places."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        rounded = round(value, 2)
        return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.2f}".rstrip("0")
    return str(value)


def date_text(value: Any, lang: str) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    if lang == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.year}年{day.month}月{day.day}日"


class _Describer:
    def __init__(self, content: Mapping[str, Any], lang: str,
                 units: Mapping[str, LangText] | None) -> None:
        self.content = content
        self.lang = "en" if lang.startswith("en") else "zh"
        self.words = _WORDS[self.lang]
        self.inputs: Mapping[str, Any] = content.get("inputs") or {}
        self.parameters: Mapping[str, Any] = content.get("parameters") or {}
        self.units = units or {}
        self.by_id = {i.get("id"): i for i in content.get("indicators") or []}

    def w(self, key: str, **values: Any) -> str:
        """The wording ``key`` with ``values``; a language with a singular form (``key_one``)
        uses it when the one value is 1 ("1 point", "the last year")."""
        if (len(values) == 1 and str(next(iter(values.values()))) in ("1", "-1")
                and f"{key}_one" in self.words):
            key = f"{key}_one"
        return self.words[key].format(**values)

    def value(self, raw: Any) -> Any:
        """A literal, or the value of the parameter ``{param: name}`` names."""
        if isinstance(raw, Mapping) and "param" in raw:
            found = self.parameters.get(raw["param"]) or {}
            return found.get("value") if isinstance(found, Mapping) else found
        return raw

    def points(self, raw: Any) -> str:
        return self.w("points", n=number(self.value(raw)))

    def unit(self, input_id: str | None) -> str:
        spec = self.inputs.get(input_id or "") or {}
        unit = text(spec.get("unit") or self.units.get(input_id or ""), self.lang)
        return f" {unit}" if unit else ""

    def input_name(self, input_id: str | None) -> str:
        spec = self.inputs.get(input_id or "") or {}
        return text(spec.get("name"), self.lang) or (input_id or "")

    def indicator_name(self, indicator_id: str) -> str:
        found = self.by_id.get(indicator_id) or {}
        return text(found.get("name"), self.lang) or indicator_id

    # --- pieces -------------------------------------------------------------------------

    def bands(self, bands: Sequence[Mapping[str, Any]], input_id: str | None, key: str) -> str:
        u = self.unit(input_id)
        pattern = "band" if u else "band_bare"
        lowest = min((self.value(b.get("min")) for b in bands
                      if self.value(b.get("min")) is not None), default=None)
        parts = []
        for band in bands:
            low, high = self.value(band.get("min")), self.value(band.get("max"))
            if band.get("below") is not None:
                high = self.value(band["below"])
                where = (self.w("below", v=number(high), u=u) if low is None
                         else self.w("range_below", a=number(low), b=number(high), u=u))
            elif low is not None and low == high:
                where = self.w("exact", v=number(low), u=u)
            elif high is not None and (low is None or low == lowest == 0):
                where = self.w("or_under", v=number(high), u=u)
            elif high is None:
                where = self.w("or_over", v=number(low), u=u)
            else:
                where = self.w("range", a=number(low), b=number(high), u=u)
            if self.lang == "zh" and not u:
                where = where.replace("及", " 及")
            parts.append(self.w(pattern, range=where, points=self.points(band.get(key))))
        return self.words["band_sep"].join(parts)

    def table(self, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
        rows = []
        for token, row in table.items():
            row = row if isinstance(row, Mapping) else {key: row}
            label = text(row.get("label"), self.lang) or str(token)
            rows.append(self.w("table_item", label=label, points=self.points(row.get(key))))
        return tuple(rows)

    def cap(self, raw: Any) -> str:
        cap = self.value(raw)
        return self.w("no_cap") if cap is None else self.w("cap", cap=self.points(cap))

    def condition(self, logic: Any) -> str | None:
        """A JsonLogic condition over the inputs in words, or None when it is not one of the
        simple shapes (comparisons of an input with a value, joined by and/or)."""
        if not isinstance(logic, Mapping) or len(logic) != 1:
            return None
        operator, args = next(iter(logic.items()))
        if operator in ("and", "or") and isinstance(args, list):
            parts = [self.condition(a) for a in args]
            if any(p is None for p in parts):
                return None
            return self.w(operator).join(p for p in parts if p)
        if operator == "var":
            return self.w("is", name=self.input_name(_var(args)), value=self.w("yes"))
        if operator == "!" and isinstance(args, Mapping | list):
            inner = args[0] if isinstance(args, list) and args else args
            if isinstance(inner, Mapping) and "var" in inner:
                return self.w("is", name=self.input_name(_var(inner["var"])), value=self.w("no"))
            return None
        words = {"==": "is", "===": "is", "!=": "is_not", "!==": "is_not", ">=": "at_least",
                 ">": "more_than", "<=": "at_most", "<": "less_than"}
        if operator not in words or not isinstance(args, list) or len(args) != 2:
            return None
        left, right = args
        if not (isinstance(left, Mapping) and "var" in left) or isinstance(right, Mapping | list):
            return None
        if isinstance(right, bool):
            shown = self.w("yes") if right else self.w("no")
        else:
            shown = number(right)
        return self.w(words[operator], name=self.input_name(_var(left["var"])), value=shown)

    # --- indicators -----------------------------------------------------------------------

    def indicator(self, spec: Mapping[str, Any], total_weight: float) -> PlainIndicator:
        kind = spec.get("type", "")
        input_id = spec.get("input")
        sentences: list[str] = []
        items: tuple[str, ...] = ()
        if kind == "bands":
            sentences.append(self.bands(spec.get("bands") or [], input_id, "points"))
        elif kind == "table":
            items = self.table(spec.get("table") or {}, "points")
        elif kind == "per_unit":
            per = self.value(spec.get("per", 1))
            u = self.unit(input_id)
            if per == 1 and self.lang == "en" and u.endswith("s"):
                u = u[:-1]  # "for each full year", not "each full 1 years"
            sentences.append(self.w("per_unit", per="" if per == 1 and self.lang == "en"
                                    else number(per), u=u.strip() if per == 1 and
                                    self.lang == "en" else u,
                                    points=self.points(spec.get("points")))
                             + self.cap(spec.get("cap")))
        elif kind == "group_max":
            names = [self.indicator_name(i) for i in spec.get("of") or []]
            joined = (self.words["name_sep"].join(names) if self.lang == "zh" or len(names) < 2
                      else ", ".join(names[:-1]) + " and " + names[-1])
            sentences.append(self.w("group_max", names=joined))
        elif kind == "deduction":
            years = self.value(_window_years(spec.get("window")))
            sentences.append(
                self.w("deduction", points=self.w("points", n=number(abs(self.value(
                    spec.get("points")) or 0))))
                + (self.w("window", years=number(years)) if years is not None
                   else self.w("no_window")))
        elif kind == "veto":
            said = self.condition(spec.get("when"))
            sentences.append(self.w("veto", condition=said) if said else self.w("veto_plain"))
        elif kind == "weighted":
            weight = float(self.value(spec.get("weight")) or 0)
            share = number(weight * 100 / total_weight) if total_weight else number(weight)
            sentences.append(self.w("weight", share=share))
            if spec.get("bands"):
                sentences.append(self.bands(spec["bands"], input_id, "score"))
            if spec.get("table"):
                items = self.table(spec["table"], "score")
            components = spec.get("components") or []
            if components:
                sentences = [self.w("weighted")]
                weights = sum(float(c.get("weight") or 0) for c in components)
                items = tuple(self.component(c, weights) for c in components)
            if spec.get("normalise"):
                scale = spec["normalise"]
                low = self.value(scale.get("min", 0))
                u = self.unit(input_id) or (" " if self.lang == "zh" else "")
                sentences.append(self.w(
                    "normalise_zero" if low == 0 else "normalise",
                    input=self.input_name(input_id), u=u,
                    low=number(self.value(scale.get("min", 0))),
                    high=number(self.value(scale.get("max")))))
        said = self.condition(spec.get("when")) if kind != "veto" and spec.get("when") else None
        if said and sentences:
            first = sentences[0]
            if self.lang == "en":
                first = first[:1].lower() + first[1:]
            sentences[0] = self.w("when", condition=said) + first
        if spec.get("note"):
            sentences.append(text(spec["note"], self.lang))
        enabled = self.value(spec.get("enabled", True))
        if enabled is False:
            sentences.append(self.w("off"))
        reads = tuple(self.input_name(i) for i in _reads(spec))
        return PlainIndicator(id=spec.get("id", ""), group=spec.get("group", ""), type=kind,
                              name=text(spec.get("name"), self.lang) or spec.get("id", ""),
                              sentences=tuple(s for s in sentences if s), items=items,
                              reads=reads)

    def component(self, spec: Mapping[str, Any], weights: float) -> str:
        input_id = spec.get("input")
        u = self.unit(input_id) or (" " if self.lang == "zh" else "")
        share = number(float(spec.get("weight") or 0) * 100 / weights) if weights else "0"
        key = "component_up" if spec.get("higher_is_better", True) else "component_down"
        low = self.value(spec.get("min"))
        low_text = (f"{number(low)}{u}" if low == 0
                    else self.w("or_less", v=number(low), u=u))
        low_text = low_text.strip() + (" " if self.lang == "zh" and not u.strip() else "")
        return self.w(key, input=self.input_name(input_id), share=share, u=u, low=low_text,
                      high=number(self.value(spec.get("max")))).replace("  ", " ")

    def outcome(self) -> tuple[str, ...]:
        outcome = self.content.get("outcome") or {}
        lines = []
        if outcome.get("threshold") is not None:
            lines.append(self.w("threshold", n=number(self.value(outcome["threshold"]))))
        grades = sorted(outcome.get("grades") or [], key=lambda g: -float(self.value(g["min"])))
        upper = None
        for index, grade in enumerate(grades):
            name = text(grade.get("label") or grade.get("name"), self.lang)
            title = self.w("grade_title", name=name) if name else ""
            low = number(self.value(grade["min"]))
            if upper is None:
                lines.append(self.w("grade_top", grade=grade["grade"], title=title, min=low))
            elif index == len(grades) - 1 and float(self.value(grade["min"])) <= 0:
                lines.append(self.w("grade_bottom", grade=grade["grade"], title=title,
                                    upper=upper))
            else:
                lines.append(self.w("grade_mid", grade=grade["grade"], title=title, min=low,
                                    upper=upper))
            upper = low
        return tuple(lines)

    def effective(self) -> str:
        effective = self.content.get("effective") or {}
        if not effective.get("from"):
            return ""
        start = date_text(effective["from"], self.lang)
        if effective.get("to"):
            return self.w("effective_range", start=start,
                          end=date_text(effective["to"], self.lang))
        return self.w("effective_from", start=start)

    def parameter_list(self) -> tuple[PlainParameter, ...]:
        found = []
        for name, spec in self.parameters.items():
            spec = spec if isinstance(spec, Mapping) else {"value": spec}
            value = spec.get("value")
            shown = (self.w("no_value") if value is None
                     else self.w("yes" if value else "no") if isinstance(value, bool)
                     else number(value))
            found.append(PlainParameter(
                id=name, value=shown,
                note=text(spec.get("note"), self.lang)))
        return tuple(found)


def _var(name: Any) -> str:
    return str(name[0] if isinstance(name, list) and name else name)


def _window_years(window: Any) -> Any:
    if isinstance(window, Mapping):
        return window.get("years")
    return None


def _reads(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("input"):
        return [spec["input"]]
    found: list[str] = [c["input"] for c in spec.get("components") or [] if c.get("input")]

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "var":
                    name = _var(value)
                    if name not in found:
                        found.append(name)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec.get("when"))
    return found


def describe(content: Mapping[str, Any], lang: str = "zh", *, version: int | None = None,
             units: Mapping[str, LangText] | None = None) -> PlainRules:
    """The rule-set document ``content`` in plain ``lang`` ("zh" or "en").

    ``version``: the published version's number, shown with the dates. ``units``: input id ->
    the unit of the form question it reads ({zh, en}), for inputs without their own ``unit``.
    """
    d = _Describer(content, lang, units)
    specs = list(content.get("indicators") or [])
    total_weight = sum(float(d.value(s.get("weight")) or 0) for s in specs
                       if s.get("type") == "weighted")
    indicators = tuple(d.indicator(s, total_weight) for s in specs)
    order = [*GROUP_ORDER, *sorted({i.group for i in indicators} - set(GROUP_ORDER))]
    groups = tuple((g, tuple(i for i in indicators if i.group == g)) for g in order
                   if any(i.group == g for i in indicators))
    return PlainRules(
        id=str(content.get("id", "")), name=text(content.get("name"), d.lang),
        kind=str(content.get("kind", "")), example=bool(content.get("example")),
        description=text(content.get("description"), d.lang),
        version=version, version_text=d.w("version", n=version) if version is not None else "",
        effective=d.effective(), indicators=indicators, parameters=d.parameter_list(),
        outcome=d.outcome(), groups=groups)


def form_units(form: FormDefinition, inputs: Mapping[str, Any]) -> dict[str, LangText]:
    """Input id -> the suffix (unit) of the form question its ``from`` path names, for the
    inputs that read a question with a suffix."""
    found: dict[str, LangText] = {}
    for input_id, spec in inputs.items():
        path = spec.get("from") if isinstance(spec, Mapping) else None
        fields = form.fields.get(path or "") if isinstance(path, str) else None
        if fields and fields[0].ui.get("suffix"):
            found[input_id] = fields[0].ui["suffix"]
    return found
