"""The zh/en sentence that says why an indicator gave its points (also why it gave none).

Each function returns {"zh": ..., "en": ...}. Wording is built from the rule set's own names,
units and labels, so a new rule set needs no new code here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .rules import Band, Indicator, Input

Text = dict[str, str]
_CENT = Decimal("0.01")


def number(value: float | int) -> float | int:
    """Points as stored: an int when whole, else rounded to 2 decimals (half up)."""
    if isinstance(value, int):
        return value
    if value.is_integer():
        return int(value)
    rounded = float(Decimal(repr(float(value))).quantize(_CENT, rounding=ROUND_HALF_UP))
    return int(rounded) if rounded.is_integer() else rounded


def _n(value: Any) -> str:
    return str(number(value)) if isinstance(value, int | float) and not isinstance(value, bool) \
        else str(value)


def _pts(points: float) -> Text:
    return {"zh": f"{_n(points)} 分", "en": f"{_n(points)} point{'' if points in (1, -1) else 's'}"}


def _years_en(years: int | None) -> str:
    return "year" if years == 1 else f"{years} years"


def _unit(item: Input, lang: str) -> str:
    return item.unit.get(lang, "")


def _value(item: Input, value: Any, lang: str) -> str:
    return f"{_n(value)} {_unit(item, lang)}".rstrip()


def not_answered(indicator: Indicator, item: Input) -> Text:
    return {"zh": f"{indicator.name['zh']}：未填写{item.name['zh']}，不计分：0 分",
            "en": f"{indicator.name['en']}: {item.name['en']} not answered, no points: 0 points"}


def not_applicable(indicator: Indicator) -> Text:
    zh = indicator.otherwise.get("zh") or "不符合计分条件"
    en = indicator.otherwise.get("en") or "the condition for points is not met"
    return {"zh": f"{indicator.name['zh']}：{zh}：0 分",
            "en": f"{indicator.name['en']}: {en}: 0 points"}


def _band_range(band: Band, item: Input, lang: str) -> str:
    if band.label:
        return band.label[lang]
    unit = _unit(item, lang)
    low = None if band.low is None or (band.low == 0 and item.type == "integer") else band.low
    high = band.high
    sep = " " if unit else ""
    if lang == "zh":
        if high is not None and band.open_end:
            upper = f"不足 {_n(high)}{sep}{unit}"
            return upper if low is None else f"{_n(low)}{sep}{unit}及以上、{upper}"
        if low is None and high is not None:
            return f"{_n(high)}{sep}{unit}及以下"
        if high is None and low is not None:
            return f"{_n(low)}{sep}{unit}及以上"
        if low == high:
            return f"{_n(low)}{sep}{unit}"
        return f"{_n(low)}–{_n(high)}{sep}{unit}"
    if high is not None and band.open_end:
        upper = f"under {_n(high)}{sep}{unit}"
        return upper if low is None else f"{_n(low)} to {upper}"
    if low is None and high is not None:
        return f"{_n(high)}{sep}{unit} or under"
    if high is None and low is not None:
        return f"{_n(low)}{sep}{unit} or over"
    if low == high:
        return f"{_n(low)}{sep}{unit}"
    return f"{_n(low)} to {_n(high)}{sep}{unit}"


def band(indicator: Indicator, item: Input, value: Any, chosen: Band | None, points: float) -> Text:
    if chosen is None:
        return {"zh": f"{indicator.name['zh']} {_value(item, value, 'zh')}：不在任何分档内：0 分",
                "en": f"{indicator.name['en']} {_value(item, value, 'en')}: in no band: 0 points"}
    return {"zh": f"{indicator.name['zh']} {_value(item, value, 'zh')}"
                  f"（{_band_range(chosen, item, 'zh')}）：{_pts(points)['zh']}",
            "en": f"{indicator.name['en']} {_value(item, value, 'en')} "
                  f"({_band_range(chosen, item, 'en')}): {_pts(points)['en']}"}


def table(indicator: Indicator, value: Any, label: Mapping[str, str] | None,
          points: float) -> Text:
    if label is None:
        return {"zh": f"{indicator.name['zh']}：“{value}”不在计分表中：0 分",
                "en": f'{indicator.name["en"]}: "{value}" is not in the table: 0 points'}
    return {"zh": f"{label['zh']}：{_pts(points)['zh']}",
            "en": f"{label['en']}: {_pts(points)['en']}"}


def per_unit(indicator: Indicator, item: Input, value: Any, units: int, points: float,
             capped: bool) -> Text:
    per_zh = _value(item, indicator.per, "zh")
    per_en = _value(item, indicator.per, "en")
    if indicator.per == 1 and item.unit.get("en", "").endswith("s"):
        per_en = item.unit["en"][:-1]  # "per full year", not "per full 1 years"
    cap_zh = f"，最高 {_n(indicator.cap)} 分" if indicator.cap is not None else ""
    cap_en = f", at most {_n(indicator.cap)}" if indicator.cap is not None else ""
    reached_zh = "（已达上限）" if capped else ""
    reached_en = " (the cap)" if capped else ""
    return {"zh": f"{indicator.name['zh']} {_value(item, value, 'zh')}，每满 {per_zh}积 "
                  f"{_n(indicator.points)} 分{cap_zh}：{_pts(points)['zh']}{reached_zh}",
            "en": f"{indicator.name['en']} {_value(item, value, 'en')}, {_n(indicator.points)} "
                  f"per full {per_en}{cap_en}: {_pts(points)['en']}{reached_en}"}


def group_note(others: Sequence[Indicator]) -> Text:
    return {"zh": f"与{'、'.join(o.name['zh'] for o in others)}二选一，取较高者",
            "en": f"either this or {', '.join(o.name['en'] for o in others)}, "
                  "whichever is higher"}


def with_group_note(text: Text, note: Text) -> Text:
    return {"zh": f"{text['zh']}；{note['zh']}", "en": f"{text['en']}; {note['en']}"}


def group_max(indicator: Indicator, members: Sequence[tuple[Indicator, float]],
              points: float) -> Text:
    zh = "与".join(f"{m.name['zh']} {_pts(p)['zh']}" for m, p in members)
    en = " or ".join(f"{m.name['en']} {_pts(p)['en']}" for m, p in members)
    return {"zh": f"{zh}二选一，取较高者：{_pts(points)['zh']}",
            "en": f"{en}, whichever is higher: {_pts(points)['en']}"}


def deduction(indicator: Indicator, counted: int, ignored: int, start: date | None,
              as_of: date, points: float) -> Text:
    each = _n(indicator.points)
    if start is None:
        return {"zh": f"{indicator.name['zh']} {counted} 次，每次 {each} 分：{_pts(points)['zh']}",
                "en": f"{indicator.name['en']}: {counted}, {each} each: {_pts(points)['en']}"}
    years = indicator.window_years
    left_zh = f"（另有 {ignored} 次在 {start.isoformat()} 之前，不计）" if ignored else ""
    left_en = f" ({ignored} before {start.isoformat()} not counted)" if ignored else ""
    if counted == 0:
        return {"zh": f"{indicator.name['zh']}：近 {years} 年内（{start.isoformat()} 至 "
                      f"{as_of.isoformat()}）没有记录{left_zh}：0 分",
                "en": f"{indicator.name['en']}: none in the last {_years_en(years)} ({start.isoformat()} "
                      f"to {as_of.isoformat()}){left_en}: 0 points"}
    return {"zh": f"{indicator.name['zh']}：近 {years} 年内（{start.isoformat()} 至 "
                  f"{as_of.isoformat()}）{counted} 次，每次 {each} 分{left_zh}：{_pts(points)['zh']}",
            "en": f"{indicator.name['en']}: {counted} in the last {_years_en(years)} "
                  f"({start.isoformat()} to {as_of.isoformat()}), {each} each{left_en}: "
                  f"{_pts(points)['en']}"}


def veto(indicator: Indicator, triggered: bool) -> Text:
    if not indicator.enabled:
        # The parameter's name is for rule authors (docs, `points eval`'s rule id); the
        # applicant reads only that the current rules do not apply this item.
        return {"zh": f"{indicator.name['zh']}：现行规则未启用此项，不适用",
                "en": f"{indicator.name['en']}: not applied under the current rules"}
    if triggered:
        return {"zh": f"{indicator.name['zh']}：一票否决，无论积分多少均不符合条件",
                "en": f"{indicator.name['en']}: veto; not eligible whatever the points"}
    return {"zh": f"{indicator.name['zh']}：无，不影响资格",
            "en": f"{indicator.name['en']}: none; no effect on eligibility"}


def weighted(indicator: Indicator, parts: Sequence[tuple[Input, Any, float]],
             points: float) -> Text:
    zh = "；".join(f"{item.name['zh']} {_value(item, value, 'zh')}（权重 {_n(weight)}）"
                  for item, value, weight in parts)
    en = "; ".join(f"{item.name['en']} {_value(item, value, 'en')} (weight {_n(weight)})"
                   for item, value, weight in parts)
    return {"zh": f"{indicator.name['zh']}：{zh}；加权得分 {_n(points)}",
            "en": f"{indicator.name['en']}: {en}; weighted score {_n(points)}"}
