"""Problems with a rules document, each placed at its file, line and column: the meta-schema
(schemas/rules.schema.json), then what a schema cannot say (bands that overlap or leave a gap,
a cap below zero, names of inputs, parameters and indicators that do not exist, derived values
that depend on themselves, JsonLogic the forms' checker refuses, effective ranges that overlap).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ..definitions.problems import Problem
from ..definitions.schemacheck import meta_validator, pointer_of, schema_problems
from ..definitions.yamlpos import Document
from ..forms.logic import check_rule, referenced_vars

Path = list[str | int]
NUMERIC = ("integer", "number")
# Names a JsonLogic rule of a rule set may read besides the inputs: "param.NAME".
PARAM_PREFIX = "param."


def check_document(document: Document, file: str, *, expected_id: str | None = None) -> list[Problem]:
    """Every problem of one rules document; none means `compile_rules` accepts it."""
    problems = schema_problems(document, meta_validator("rules"), file)
    if problems:
        return problems
    return _Checker(document, file).run(expected_id)


class _Checker:
    def __init__(self, document: Document, file: str) -> None:
        self.document = document
        self.file = file
        self.data: dict[str, Any] = document.data
        self.problems: list[Problem] = []
        self.inputs: dict[str, Any] = self.data["inputs"]
        self.parameters: dict[str, Any] = self.data.get("parameters") or {}

    def add(self, path: Path, message: str) -> None:
        line, column = self.document.position(path)
        self.problems.append(Problem(self.file, line, column, pointer_of(path), message))

    def run(self, expected_id: str | None) -> list[Problem]:
        data = self.data
        if expected_id is not None and data["id"] != expected_id:
            self.add(["id"], f'the id "{data["id"]}" differs from the file name '
                             f'"{expected_id}"; expected the same')
        effective = data["effective"]
        for key in ("from", "to"):
            if key in effective and not _is_day(effective[key]):
                self.add(["effective", key], f'"{effective[key]}" is not a date; expected '
                                             "YYYY-MM-DD")
        if _is_day(effective["from"]) and _is_day(effective.get("to", "9999-12-31")) \
                and effective.get("to", "9999-12-31") < effective["from"]:
            self.add(["effective", "to"], f'the effective range ends ({effective["to"]}) before '
                                          f'it starts ({effective["from"]})')
        for name, parameter in self.parameters.items():
            if name.endswith("_cap") and isinstance(parameter["value"], int | float) \
                    and not isinstance(parameter["value"], bool) and parameter["value"] < 0:
                self.add(["parameters", name, "value"],
                         f'the cap parameter "{name}" is {parameter["value"]}; a cap cannot be '
                         "below zero")
        self._inputs()
        self._indicators()
        self._outcome()
        return self.problems

    # --- inputs -------------------------------------------------------------------------------

    def _known_input(self, name: Any, path: Path) -> bool:
        if name in self.inputs:
            return True
        known = ", ".join(sorted(self.inputs))
        self.add(path, f'unknown input "{name}"; expected one of: {known}')
        return False

    def _logic(self, rule: Any, path: Path) -> None:
        for message in check_rule(rule):
            self.add(path, f"JsonLogic: {message}")
        for name in sorted(referenced_vars(rule)):
            if name.startswith(PARAM_PREFIX):
                self._known_param(name[len(PARAM_PREFIX):], path)
            elif name.split(".")[0] not in self.inputs:
                known = ", ".join(sorted(self.inputs))
                self.add(path, f'unknown input "{name}" in the rule; expected one of: {known} '
                               "(or param.NAME)")

    def _known_param(self, name: Any, path: Path) -> bool:
        if name in self.parameters:
            return True
        known = ", ".join(sorted(self.parameters)) or "none"
        self.add(path, f'unknown parameter "{name}"; expected one of: {known}')
        return False

    def _inputs(self) -> None:
        for name, spec in self.inputs.items():
            derive = spec.get("derive")
            if derive is None:
                continue
            ((how, arg),) = derive.items()
            where: Path = ["inputs", name, "derive", how]
            if how == "logic":
                self._logic(arg, where)
            elif how == "floor_div":
                if self._known_input(arg[0], [*where, 0]) \
                        and self.inputs[arg[0]]["type"] not in NUMERIC:
                    self.add([*where, 0], f'floor_div needs a number; the input "{arg[0]}" is '
                                          f'of type {self.inputs[arg[0]]["type"]}')
            elif self._known_input(arg, where):
                wanted = "date" if how == "age_on_reference_date" else "dates"
                if self.inputs[arg]["type"] != wanted:
                    self.add(where, f'{how} needs an input of type {wanted}; "{arg}" is of type '
                                    f'{self.inputs[arg]["type"]}')
        for cycle in _cycles({name: _depends_on(spec) & set(self.inputs)
                              for name, spec in self.inputs.items()}):
            self.add(["inputs", cycle[0], "derive"],
                     "the derived values depend on themselves: " + " → ".join(cycle))

    # --- indicators ---------------------------------------------------------------------------

    def _indicators(self) -> None:
        indicators: list[dict[str, Any]] = self.data["indicators"]
        ids: dict[str, int] = {}
        for index, indicator in enumerate(indicators):
            if indicator["id"] in ids:
                self.add(["indicators", index, "id"],
                         f'the indicator id "{indicator["id"]}" is already used by indicator '
                         f'{ids[indicator["id"]] + 1}')
            ids.setdefault(indicator["id"], index)
        grouped: dict[str, str] = {}
        for index, indicator in enumerate(indicators):
            where: Path = ["indicators", index]
            kind = indicator["type"]
            if "input" in indicator:
                self._known_input(indicator["input"], [*where, "input"])
            for key in ("when",):
                if key in indicator:
                    self._logic(indicator[key], [*where, key])
            enabled = indicator.get("enabled")
            if isinstance(enabled, dict):
                self._known_param(enabled["param"], [*where, "enabled", "param"])
            input_type = self.inputs.get(str(indicator.get("input")), {}).get("type")
            if kind == "bands":
                if input_type is not None and input_type not in NUMERIC:
                    self.add([*where, "input"], f'bands need a number input; "{indicator["input"]}" '
                                                f"is of type {input_type}")
                self._bands(indicator["bands"], [*where, "bands"], input_type == "integer")
            elif kind == "per_unit":
                if input_type is not None and input_type not in NUMERIC:
                    self.add([*where, "input"], f'per_unit needs a number input; '
                                                f'"{indicator["input"]}" is of type {input_type}')
                self._cap(indicator.get("cap"), [*where, "cap"])
            elif kind == "deduction":
                self._deduction(indicator, where, input_type)
            elif kind == "group_max":
                for position, member in enumerate(indicator["of"]):
                    member_where: Path = [*where, "of", position]
                    if member not in ids or member == indicator["id"]:
                        known = ", ".join(i for i in ids if i != indicator["id"])
                        self.add(member_where, f'unknown indicator "{member}"; expected one of: '
                                               f"{known}")
                    elif indicators[ids[member]]["type"] in ("group_max", "veto"):
                        self.add(member_where, f'"{member}" is a {indicators[ids[member]]["type"]} '
                                               "indicator; a group_max takes indicators that "
                                               "give points")
                    elif member in grouped:
                        self.add(member_where, f'"{member}" is already in the group_max '
                                               f'"{grouped[member]}"')
                    else:
                        grouped[member] = indicator["id"]
            elif kind == "weighted":
                for position, component in enumerate(indicator["components"]):
                    component_where: Path = [*where, "components", position]
                    if self._known_input(component["input"], [*component_where, "input"]) \
                            and self.inputs[component["input"]]["type"] not in NUMERIC:
                        self.add([*component_where, "input"], "a weighted component needs a "
                                 f'number input; "{component["input"]}" is of type '
                                 f'{self.inputs[component["input"]]["type"]}')
                    if component["max"] <= component["min"]:
                        self.add([*component_where, "max"], f'max ({component["max"]}) must be '
                                 f'greater than min ({component["min"]})')

    def _cap(self, cap: Any, where: Path) -> None:
        if isinstance(cap, dict):
            self._known_param(cap["param"], [*where, "param"])
        elif isinstance(cap, int | float) and cap < 0:
            self.add(where, f"the cap is {cap}; a cap cannot be below zero")

    def _deduction(self, indicator: dict[str, Any], where: Path, input_type: str | None) -> None:
        if indicator["points"] > 0:
            self.add([*where, "points"], f'a deduction takes points below zero, not '
                                         f'{indicator["points"]}')
        window = indicator.get("window")
        if window is not None:
            years = window["years"]
            if isinstance(years, dict):
                if self._known_param(years["param"], [*where, "window", "years", "param"]):
                    value = self.parameters[years["param"]]["value"]
                    if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                        self.add(["parameters", years["param"], "value"],
                                 f"a window is a whole number of years above zero, not {value}")
            elif not (isinstance(years, int) and years > 0):
                self.add([*where, "window", "years"],
                         f"a window is a whole number of years above zero, not {years}")
            if input_type is not None and input_type != "dates":
                self.add([*where, "input"], "a deduction with a window needs the dates of the "
                         f'events (an input of type dates); "{indicator["input"]}" is of type '
                         f"{input_type}")
        elif input_type is not None and input_type not in ("dates", "integer"):
            self.add([*where, "input"], "a deduction counts events: an input of type dates or "
                     f'integer; "{indicator["input"]}" is of type {input_type}')

    def _bands(self, bands: list[dict[str, Any]], where: Path, whole: bool) -> None:
        ranges = []
        for index, band in enumerate(bands):
            if "max" in band and "below" in band:
                self.add([*where, index, "below"], "a band has max or below, not both")
                continue
            low = band.get("min", float("-inf"))
            high = band.get("max", band.get("below", float("inf")))
            if high < low or ("below" in band and high == low):
                self.add([*where, index], f"the band starts ({low}) after it ends ({high})")
                continue
            ranges.append((low, high, "below" in band, index))
        ranges.sort()
        for (low, high, open_end, index), (next_low, _, _, next_index) in zip(ranges, ranges[1:],
                                                                              strict=False):
            if next_low < high or (next_low == high and not open_end):
                self.add([*where, next_index], f"the band from {_num(next_low)} overlaps the band "
                         f"{_range(low, high, open_end)} (band {index + 1})")
            elif (whole and not open_end and next_low > high + 1) \
                    or ((not whole or open_end) and next_low > high):
                missing = f"{_num(high + 1)} to {_num(next_low - 1)}" if whole and not open_end \
                    else f"{_num(high)} to {_num(next_low)}"
                self.add([*where, next_index], f"the bands leave a gap: {missing} is in no band")

    def _outcome(self) -> None:
        outcome = self.data["outcome"]
        if self.data["kind"] == "scorecard" and "threshold" not in outcome:
            self.add(["outcome"], 'a scorecard needs outcome.threshold (the pass mark)')
        if self.data["kind"] == "grading" and "grades" not in outcome:
            self.add(["outcome"], "a grading needs outcome.grades")
        grades = outcome.get("grades") or []
        for index, (first, second) in enumerate(zip(grades, grades[1:], strict=False)):
            if second["min"] >= first["min"]:
                self.add(["outcome", "grades", index + 1, "min"],
                         f'grades go from the highest min down: {second["min"]} is not below '
                         f'{first["min"]}')


def _is_day(value: Any) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _num(value: float) -> str:
    if value in (float("inf"), float("-inf")):
        return "any"
    return str(int(value)) if float(value).is_integer() else str(value)


def _range(low: float, high: float, open_end: bool) -> str:
    return f"{_num(low)} to {'below ' if open_end else ''}{_num(high)}"


def _depends_on(spec: Mapping[str, Any]) -> set[str]:
    derive = spec.get("derive")
    if not derive:
        return set()
    ((how, arg),) = derive.items()
    if how == "logic":
        return {name.split(".")[0] for name in referenced_vars(arg)
                if not name.startswith(PARAM_PREFIX)}
    if how == "floor_div":
        return {arg[0]}
    return {arg}


def derive_order(inputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Input ids so that each derived value comes after the values it is derived from."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in inputs:
            return
        seen.add(name)
        for other in sorted(_depends_on(inputs[name])):
            visit(other)
        order.append(name)

    for name in inputs:
        visit(name)
    return order


def _cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Each circle of derived values once, starting at its first input in file order."""
    found: list[list[str]] = []
    reported: set[frozenset[str]] = set()
    for start in graph:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for other in sorted(graph[node]):
                if other == start:
                    members = frozenset(path)
                    if members not in reported:
                        reported.add(members)
                        found.append([*path, start])
                elif other not in path and other in graph:
                    stack.append((other, [*path, other]))
    return found


def overlap_problems(document: Document, file: str,
                     others: Iterable[tuple[str, str, str | None]]) -> list[Problem]:
    """The document's effective range against other versions of the same rule set, each given
    as (what, from, to or None). A version whose range starts on the same day is a correction
    of that version and does not overlap it."""
    effective = document.data["effective"]
    start, end = effective["from"], effective.get("to") or "9999-12-31"
    problems = []
    for what, other_start, other_end in others:
        if other_start == start:
            continue
        if other_start <= end and start <= (other_end or "9999-12-31"):
            line, column = document.position(["effective", "from"])
            until = other_end or "open-ended"
            problems.append(Problem(file, line, column, "/effective",
                                    f"the effective range {start} to {effective.get('to') or 'open-ended'} "
                                    f"overlaps {what} ({other_start} to {until}); give the earlier "
                                    "version an end date or start this one later"))
    return problems
