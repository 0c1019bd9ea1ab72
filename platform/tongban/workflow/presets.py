"""Statutory deadline presets and the compiling of a flow file's deadline blocks.

The presets (``workflow_definitions/deadline_presets.yaml``) are platform data shipped with the
code: periods set by law, such as 行政许可法 §42's 20 working days plus 10 with the 负责人's
approval. ``load_presets`` reads and checks them once; ``compile_deadline`` turns a node's
``deadline:`` block (or an application deadline) into a :class:`DeadlineSpec`, the block's own
fields winning over its preset's; ``describe`` says a period in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .deadline_spec import UNITS, ApplicationDeadline, DeadlineSpec, Remind, Span

# The checkout, as tongban.PROJECT_ROOT (not imported: the flow compiler imports this module,
# and the package's __init__ imports the web app, which imports the compiler).
PROJECT_ROOT = Path(__file__).resolve().parents[3]
PRESETS_PATH = PROJECT_ROOT / "workflow_definitions" / "deadline_presets.yaml"


@dataclass(frozen=True)
class Preset:
    id: str
    name: Mapping[str, str]
    raw: Mapping[str, Any]   # the entry as written, for checks that explain where a value came from
    spec: DeadlineSpec


class PresetsError(ValueError):
    """The presets file has problems; each is a definitions Problem (file:line:column)."""

    def __init__(self, problems: list[Any]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


def span(raw: Mapping[str, Any]) -> Span:
    """``{working_days: 5}`` as a Span (the meta-schema allows exactly one unit)."""
    ((unit, amount),) = raw.items()
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of: {', '.join(UNITS)}")
    return Span(unit, int(amount))


def _spec(block: Mapping[str, Any], base: DeadlineSpec | None, preset: Preset | None) -> DeadlineSpec:
    units = [unit for unit in UNITS if unit in block]
    if units:
        period = Span(units[0], int(block[units[0]]))
    elif "period" in block:
        period = span(block["period"])
    elif base is not None:
        period = base.period
    else:
        raise ValueError("a deadline needs a period or a preset")
    on_timeout = tuple(block["on_timeout"]) if "on_timeout" in block else (
        base.on_timeout if base else ())
    remind = base.remind if base else None
    if "remind" in block:
        raw = block["remind"] or {}
        remind = Remind(every=span(raw["every"]) if raw.get("every") else None,
                        times=int(raw.get("times", 1)))
    if "remind" in on_timeout and remind is None:
        remind = Remind()
    limit = base.extension_limit if base else 0
    approver = base.extension_approver if base else None
    if "extension" in block:
        limit = int(block["extension"]["limit"])
        approver = block["extension"].get("approver")
    raw = block.get("basis")
    basis: str | None
    basis_en: str | None
    if isinstance(raw, Mapping):     # {zh, en}
        basis, basis_en = str(raw["zh"]), str(raw["en"])
    elif raw is not None:
        basis, basis_en = str(raw), None
    else:
        basis, basis_en = (base.basis, base.basis_en) if base else (None, None)
    return DeadlineSpec(
        period=period,
        preset=preset.id if preset else None,
        basis=basis,
        basis_en=basis_en,
        extension_limit=limit,
        extension_approver=approver,
        due_soon=span(block["due_soon"]) if "due_soon" in block else (
            base.due_soon if base else None),
        on_timeout=on_timeout,
        remind=remind if "remind" in on_timeout else None,
        escalate_to=block.get("escalate_to", base.escalate_to if base else None)
        if "escalate" in on_timeout else None,
        tell_applicant=bool(block.get("tell_applicant",
                                      base.tell_applicant if base else False)))


def compile_deadline(block: Mapping[str, Any] | None,
                     presets: Mapping[str, Preset] | None = None) -> DeadlineSpec | None:
    """A node's checked ``deadline:`` block, with its preset filled in (the block wins)."""
    if block is None:
        return None
    preset = None
    if "preset" in block:
        table = load_presets() if presets is None else presets
        if block["preset"] not in table:
            raise ValueError(f"unknown deadline preset {block['preset']!r}")
        preset = table[block["preset"]]
    return _spec(block, preset.spec if preset else None, preset)


def compile_application_deadline(entry: Mapping[str, Any],
                                 presets: Mapping[str, Preset] | None = None) -> ApplicationDeadline:
    spec = compile_deadline(entry, presets)
    assert spec is not None
    return ApplicationDeadline(id=str(entry["id"]), spec=spec, starts_on=str(entry["starts_on"]),
                               ends_on=str(entry["ends_on"]))


def read_presets(text: str, file: str) -> tuple[dict[str, Preset], list[Any]]:
    """The presets of a file's text and its problems (meta-schema, then the action checks)."""
    from ..definitions.deadlinecheck import STAFF_ROLES, check_actions
    from ..definitions.problems import Problem
    from ..definitions.schemacheck import meta_validator, pointer_of, schema_problems
    from ..definitions.yamlpos import ReadError, read_yaml

    try:
        document = read_yaml(text)
    except ReadError as exc:
        return {}, [Problem(file, exc.line, exc.column, "", exc.message)]
    problems = schema_problems(document, meta_validator("deadline-presets"), file)
    if problems:
        return {}, problems
    for preset_id, entry in document.data.items():
        for path, message in check_actions(entry, [preset_id], f"preset \"{preset_id}\"", None,
                                           None, STAFF_ROLES, intake=None):
            line, column = document.position(path)
            problems.append(Problem(file, line, column, pointer_of(path), message))
    if problems:
        return {}, problems
    presets = {}
    for preset_id, entry in document.data.items():
        base = _spec(entry, None, None)
        presets[preset_id] = Preset(preset_id, dict(entry["name"]), entry,
                                    DeadlineSpec(**{**base.__dict__, "preset": preset_id}))
    return presets, []


@cache
def _load(path: str) -> Mapping[str, Preset]:
    file = Path(path)
    shown = str(file.relative_to(PROJECT_ROOT)) if file.is_relative_to(PROJECT_ROOT) else path
    presets, problems = read_presets(file.read_text(encoding="utf-8"), shown)
    if problems:
        raise PresetsError(problems)
    return MappingProxyType(presets)


def load_presets(path: Path | str | None = None) -> Mapping[str, Preset]:
    """The presets by id, read once per file. Raises PresetsError (file:line: problem)."""
    return _load(str(Path(path or PRESETS_PATH).resolve()))


_WORDS = {
    "zh": {"working_days": "{n} 个工作日", "natural_days": "{n} 个自然日", "hours": "{n} 小时",
           "working_hours": "{n} 个工作小时"},
    "en": {"working_days": "{n} working day{s}", "natural_days": "{n} day{s}",
           "hours": "{n} hour{s}", "working_hours": "{n} working hour{s}"},
}


def describe_span(value: Span, lang: str = "zh") -> str:
    words = _WORDS["en" if lang.startswith("en") else "zh"]
    return words[value.unit].format(n=value.amount, s="" if value.amount == 1 else "s")


def describe(spec: DeadlineSpec, lang: str = "zh") -> str:
    """The period in words: "5 个工作日", "20 working days (+10)" when an extension is allowed."""
    text = describe_span(spec.period, lang)
    if spec.extension_limit:
        text += f" (+{spec.extension_limit})" if lang.startswith("en") \
            else f"（可延长 {spec.extension_limit}）"
    return text
