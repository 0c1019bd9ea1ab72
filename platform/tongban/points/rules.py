"""A rules document (the YAML's plain data) compiled into an immutable :class:`RuleSet`: the
inputs in the order they are worked out, the indicators with their parameters resolved. The
policy lives in the document; this module only knows the kinds of indicator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from ..definitions.problems import Problem
from ..definitions.yamlpos import Document
from .check import check_document, derive_order

Text = MappingProxyType  # {"zh": ..., "en": ...}, read-only


class RulesError(ValueError):
    """A rules document with problems; .problems lists them, str() one a line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _text(value: Any) -> MappingProxyType[str, str]:
    return MappingProxyType(dict(value)) if value else MappingProxyType({})


@dataclass(frozen=True)
class Input:
    id: str
    type: str  # date | integer | number | string | boolean | dates
    path: str | None  # dotted path into the answers (or an `extra` source); None when derived
    required: bool
    name: MappingProxyType[str, str]
    derived: MappingProxyType[str, Any] | None  # {"age_on_reference_date": "birth_date"} ...
    default: Any = None
    unit: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Band:
    low: float | None
    high: float | None
    open_end: bool  # `below`: high is not in the band
    points: float
    label: MappingProxyType[str, str]

    def holds(self, value: float) -> bool:
        if self.low is not None and value < self.low:
            return False
        if self.high is None:
            return True
        return value < self.high if self.open_end else value <= self.high


@dataclass(frozen=True)
class Component:
    input: str
    weight: float
    low: float
    high: float
    higher_is_better: bool


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str  # basic | plus | minus | veto
    type: str  # bands | table | per_unit | group_max | deduction | veto | weighted
    name: MappingProxyType[str, str]
    input: str | None = None
    note: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    when: Any = None  # JsonLogic; a veto's condition, else when the indicator applies
    otherwise: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    enabled: bool = True
    enabled_by: str | None = None  # the parameter that switches it, if any
    bands: tuple[Band, ...] = ()
    table: MappingProxyType[str, tuple[float, MappingProxyType[str, str]]] = field(
        default_factory=lambda: MappingProxyType({}))
    per: float = 1
    points: float = 0
    cap: float | None = None
    cap_param: str | None = None
    of: tuple[str, ...] = ()
    window_years: int | None = None
    window_param: str | None = None
    components: tuple[Component, ...] = ()
    in_group: str | None = None  # the group_max this indicator belongs to


@dataclass(frozen=True)
class Grade:
    min: float
    grade: str
    label: MappingProxyType[str, str]


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: int | None
    name: MappingProxyType[str, str]
    kind: str  # scorecard | grading
    example: bool
    effective_from: date
    effective_to: date | None
    threshold: float | None
    grades: tuple[Grade, ...]
    inputs: tuple[Input, ...]  # ordered: every derived input after what it is derived from
    indicators: tuple[Indicator, ...]  # in the file's order
    parameters: MappingProxyType[str, Any]  # name -> value
    parameter_notes: MappingProxyType[str, MappingProxyType[str, str]]
    content: MappingProxyType[str, Any]  # the document it was compiled from

    def input(self, input_id: str) -> Input:
        return next(item for item in self.inputs if item.id == input_id)

    def indicator(self, indicator_id: str) -> Indicator:
        return next(item for item in self.indicators if item.id == indicator_id)


def _resolve(value: Any, parameters: dict[str, Any]) -> tuple[Any, str | None]:
    if isinstance(value, dict) and "param" in value:
        return parameters[value["param"]], value["param"]
    return value, None


def _indicator(spec: dict[str, Any], parameters: dict[str, Any],
               groups: dict[str, str]) -> Indicator:
    cap, cap_param = _resolve(spec.get("cap"), parameters)
    window = spec.get("window")
    years, window_param = _resolve(window["years"], parameters) if window else (None, None)
    enabled, enabled_by = _resolve(spec.get("enabled", True), parameters)
    return Indicator(
        id=spec["id"], group=spec["group"], type=spec["type"], name=_text(spec["name"]),
        input=spec.get("input"), note=_text(spec.get("note")), when=spec.get("when"),
        otherwise=_text(spec.get("otherwise")), enabled=bool(enabled), enabled_by=enabled_by,
        bands=tuple(Band(band.get("min"), band.get("max", band.get("below")), "below" in band,
                         band["points"], _text(band.get("label")))
                    for band in spec.get("bands") or ()),
        table=MappingProxyType({str(key): (entry["points"], _text(entry["label"]))
                                for key, entry in (spec.get("table") or {}).items()}),
        per=spec.get("per", 1), points=spec.get("points", 0), cap=cap, cap_param=cap_param,
        of=tuple(spec.get("of") or ()), window_years=years, window_param=window_param,
        components=tuple(Component(c["input"], c["weight"], c["min"], c["max"],
                                   c.get("higher_is_better", True))
                         for c in spec.get("components") or ()),
        in_group=groups.get(spec["id"]),
    )


def compile_rules(content: dict[str, Any], *, version: int | None = None,
                  document: Document | None = None, file: str = "<rules>") -> RuleSet:
    """Check a rules document and compile it. Raises RulesError listing every problem (placed
    in `file` when `document`, the parsed file with positions, is given)."""
    problems = check_document(document or Document(content, None), file)
    if problems:
        raise RulesError(problems)
    parameters = {name: spec["value"] for name, spec in (content.get("parameters") or {}).items()}
    groups = {member: spec["id"] for spec in content["indicators"] if spec["type"] == "group_max"
              for member in spec["of"]}
    specs = content["inputs"]
    inputs = tuple(
        Input(id=name, type=specs[name]["type"], path=specs[name].get("from"),
              required=bool(specs[name].get("required", False)), name=_text(specs[name]["name"]),
              derived=MappingProxyType(dict(specs[name]["derive"])) if "derive" in specs[name]
              else None,
              default=specs[name].get("default"), unit=_text(specs[name].get("unit")))
        for name in derive_order(specs))
    outcome = content["outcome"]
    effective = content["effective"]
    return RuleSet(
        id=content["id"], version=version, name=_text(content["name"]), kind=content["kind"],
        example=bool(content.get("example", False)),
        effective_from=date.fromisoformat(effective["from"]),
        effective_to=date.fromisoformat(effective["to"]) if effective.get("to") else None,
        threshold=outcome.get("threshold"),
        grades=tuple(Grade(g["min"], g["grade"], _text(g.get("label")))
                     for g in outcome.get("grades") or ()),
        inputs=inputs,
        indicators=tuple(_indicator(spec, parameters, groups) for spec in content["indicators"]),
        parameters=MappingProxyType(parameters),
        parameter_notes=MappingProxyType({name: _text(spec["note"]) for name, spec
                                          in (content.get("parameters") or {}).items()}),
        content=MappingProxyType(content),
    )
