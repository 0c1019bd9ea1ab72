"""The guide editor's edits: pure functions from a service file's text to its new text.

The service file (`workflow_definitions/<code>.yaml`) holds the service's names, its guide
(办事指南: who may apply, legal basis, time limits, fee, where, contact, steps), its materials and
settings. Each edit parses the text with ruamel.yaml's round-trip loader, changes only what the
administrator changed (a value set to what it already is is not written again, so comments,
quotes and key order of everything else stay) and dumps the text. A refused edit raises
:class:`GuideEditError` naming the field it is about; nothing is changed (docs/console.md,
"Guide editor"). What the format accepts but the checks do not (a material's form question that
is not a file question, a promised time over the statutory one) is the checks' to report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from ..i18n import N_
from .edits import EditRefused, dump, put, round_trip_yaml, small

AUDIENCES = ("citizen", "enterprise")
AT_COUNTER = "@counter"  # a material checked at the counter (no form key starts with @)
MATERIAL_CODE = re.compile(r"^[a-z][a-z0-9-]*$")  # service.schema.json /materials/items/code
# The guide's keys in the order the schema and the shipped files write them: a new key goes
# before the first of the keys after it that the file has.
GUIDE_ORDER = ("eligibility", "legal_basis", "statutory_days", "promised_days", "fee", "where",
               "contact", "steps", "item_code", "item_type", "quantity_limit", "channels",
               "visits", "hours", "special_steps", "result", "complaints", "remedy", "rights")
TOP_ORDER = ("code", "name", "department", "summary", "calendar", "audience", "guide",
             "materials", "form", "flow", "rules", "settings", "precheck")
# Texts in both languages: (where in the file, required, message without Chinese, without English).
TEXTS: dict[str, tuple[tuple[str, ...], bool, str, str]] = {
    "name": (("name",), True, N_("Enter the service name in Chinese."),
             N_("Enter the service name in English.")),
    "summary": (("summary",), True, N_("Enter the summary in Chinese."),
                N_("Enter the summary in English.")),
    "eligibility": (("guide", "eligibility"), True, N_("Enter who may apply in Chinese."),
                    N_("Enter who may apply in English.")),
    "legal_basis": (("guide", "legal_basis"), True, N_("Enter the legal basis in Chinese."),
                    N_("Enter the legal basis in English.")),
    "fee": (("guide", "fee"), True, N_("Enter the fee in Chinese (for example 不收费)."),
            N_("Enter the fee in English (for example Free of charge).")),
    "where": (("guide", "where"), False, N_("Enter where and how to apply in Chinese."),
              N_("Enter where and how to apply in English.")),
    "contact": (("guide", "contact"), False, N_("Enter the contact in Chinese."),
                N_("Enter the contact in English.")),
}
DAYS = {"statutory_days": N_("Enter the statutory time limit as a whole number of working "
                             "days, from 0 to 365."),
        "promised_days": N_("Enter the promised time limit as a whole number of working days, "
                            "from 0 to 365.")}


class GuideEditError(EditRefused):
    """A refused edit of a service file; ``at`` is the field it is about ("" for the file)."""


@dataclass(frozen=True)
class Text:
    zh: str = ""
    en: str = ""

    @classmethod
    def of(cls, value: Any) -> Text:
        if isinstance(value, Mapping):
            return cls(str(value.get("zh") or ""), str(value.get("en") or ""))
        return cls(str(value), "") if value else cls()


@dataclass(frozen=True)
class GuideEdit:
    """The guide form's fields as posted (numbers as typed)."""

    texts: Mapping[str, Text]  # a key of TEXTS -> its two languages
    audience: tuple[str, ...] = ("citizen",)
    statutory_days: str = ""
    promised_days: str = ""
    steps_zh: str = ""          # 办理流程, one step a line
    steps_en: str = ""
    draft_expiry_days: str = ""  # "" = the platform's default


@dataclass(frozen=True)
class MaterialEdit:
    name: Text
    required: bool = True
    collected: str = ""         # "" not asked for, AT_COUNTER, or the form's file question key
    note: Text = Text()
    code: str = ""              # a new material's code ("" = made from its position)


@dataclass(frozen=True)
class Material:
    index: int
    code: str
    name: Text
    required: bool
    collected: str
    note: Text


@dataclass
class Guide:
    """The service file as the guide page shows it."""

    texts: dict[str, Text] = field(default_factory=dict)
    audience: tuple[str, ...] = ()
    statutory_days: str = ""
    promised_days: str = ""
    steps_zh: str = ""
    steps_en: str = ""
    draft_expiry_days: str = ""
    materials: list[Material] = field(default_factory=list)
    department: Text = Text()
    names: dict[str, str] = field(default_factory=dict)  # form, flow, rules, calendar


# Where long lines are folded: at 100 as the console writes files (layout.render), or never,
# as the shipped files are written; an edit keeps to the one that gives the file back as it is.
WIDTHS = (100, 10_000)


def _open(text: str) -> tuple[CommentedMap, int]:
    """The document and the line width its text was written with."""
    doc = load(text)
    for width in WIDTHS:
        if dump(doc, width=width) == text:
            return doc, width
    return doc, WIDTHS[-1]


def load(text: str) -> CommentedMap:
    try:
        doc = round_trip_yaml().load(text)
    except YAMLError:
        raise GuideEditError(N_("The service file is not valid YAML: correct it in the text "
                                "view first.")) from None
    if not isinstance(doc, CommentedMap):
        raise GuideEditError(N_("The service file does not hold the service's fields: correct "
                                "it in the text view first."))
    return doc


def _get(doc: Mapping[str, Any], where: tuple[str, ...]) -> Any:
    node: Any = doc
    for key in where:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _days_text(value: Any) -> str:
    return str(value) if value is not None else ""


def read(text: str) -> Guide:
    doc = load(text)
    guide = doc.get("guide") if isinstance(doc.get("guide"), Mapping) else {}
    settings = doc.get("settings") if isinstance(doc.get("settings"), Mapping) else {}
    steps = [Text.of(step) for step in guide.get("steps") or () if step]
    found = Guide(
        texts={key: Text.of(_get(doc, where)) for key, (where, *_rest) in TEXTS.items()},
        audience=tuple(str(a) for a in doc.get("audience") or ()),
        statutory_days=_days_text(guide.get("statutory_days")),
        promised_days=_days_text(guide.get("promised_days")),
        steps_zh="\n".join(s.zh for s in steps), steps_en="\n".join(s.en for s in steps),
        draft_expiry_days=_days_text(settings.get("draft_expiry_days")),
        department=Text.of(_get(doc, ("department", "name"))),
        names={kind: str(doc[kind]) for kind in ("form", "flow", "rules", "calendar")
               if doc.get(kind) is not None})
    for index, raw in enumerate(doc.get("materials") or ()):
        if not isinstance(raw, Mapping):
            continue
        collected = AT_COUNTER if raw.get("checked_at_counter") and not raw.get("form_field") \
            else str(raw.get("form_field") or "")
        found.materials.append(Material(index, str(raw.get("code") or ""), Text.of(raw.get("name")),
                                        bool(raw.get("required")), collected,
                                        Text.of(raw.get("note"))))
    return found


# --- checking what was posted ----------------------------------------------------------------

def _text_problems(key: str, value: Text, *, required: bool, missing_zh: str,
                   missing_en: str) -> list[GuideEditError]:
    zh, en = value.zh.strip(), value.en.strip()
    if not required and not zh and not en:
        return []
    found = []
    if not zh:
        found.append(GuideEditError(missing_zh, at=f"{key}_zh"))
    if not en:
        found.append(GuideEditError(missing_en, at=f"{key}_en"))
    return found


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def problems(edit: GuideEdit) -> list[GuideEditError]:
    """Every mistake of the guide form, one per field, in the order of the page."""
    found: list[GuideEditError] = []
    for key in ("name", "summary"):
        _where, required, zh, en = TEXTS[key]
        found += _text_problems(key, edit.texts.get(key, Text()), required=required,
                                missing_zh=zh, missing_en=en)
    if not edit.audience or set(edit.audience) - set(AUDIENCES):
        found.append(GuideEditError(N_("Choose who the service is for."), at="audience"))
    for key in ("eligibility", "legal_basis"):
        _where, required, zh, en = TEXTS[key]
        found += _text_problems(key, edit.texts.get(key, Text()), required=required,
                                missing_zh=zh, missing_en=en)
    for key, message in DAYS.items():
        if _whole(getattr(edit, key), 0, 365) is None:
            found.append(GuideEditError(message, at=key))
    for key in ("fee", "where", "contact"):
        _where, required, zh, en = TEXTS[key]
        found += _text_problems(key, edit.texts.get(key, Text()), required=required,
                                missing_zh=zh, missing_en=en)
    zh_steps, en_steps = _lines(edit.steps_zh), _lines(edit.steps_en)
    if len(zh_steps) != len(en_steps):
        found.append(GuideEditError(
            N_("Give each step in both languages, one a line: there are %(zh)d in Chinese and "
               "%(en)d in English."), at="steps_en" if zh_steps else "steps_zh",
            zh=len(zh_steps), en=len(en_steps)))
    if edit.draft_expiry_days.strip() and _whole(edit.draft_expiry_days, 1, 365) is None:
        found.append(GuideEditError(N_("Enter how many days an unfinished application is kept "
                                       "as a whole number from 1 to 365, or leave it empty."),
                                    at="draft_expiry_days"))
    return found


# --- writing ---------------------------------------------------------------------------------

def _set_text(node: CommentedMap, key: str, value: Text, *, before: Iterable[str],
              one_line: bool = False) -> None:
    """A two-language text set in place (its style and quotes kept when unchanged); both
    languages empty removes the key."""
    zh, en = value.zh.strip(), value.en.strip()
    if not zh and not en:
        node.pop(key, None)
        return
    old = node.get(key)
    if isinstance(old, CommentedMap):
        for lang, text in (("zh", zh), ("en", en)):
            if old.get(lang) != text:
                old[lang] = text
        return
    new = small(zh=zh, en=en) if one_line else CommentedMap(zh=zh, en=en)
    put(node, key, new, before=before)


def _after(order: tuple[str, ...], key: str) -> tuple[str, ...]:
    return order[order.index(key) + 1:]


def _set(node: CommentedMap, key: str, value: Any, order: tuple[str, ...]) -> None:
    if node.get(key) != value or type(node.get(key)) is not type(value):
        put(node, key, value, before=_after(order, key))


def _section(doc: CommentedMap, key: str) -> CommentedMap:
    found = doc.get(key)
    if not isinstance(found, CommentedMap):
        found = CommentedMap()
        put(doc, key, found, before=_after(TOP_ORDER, key))
    return found


def update_guide(text: str, edit: GuideEdit) -> str:
    """The names, summary, audience, guide and settings set as the form says; refused with the
    first mistake (:func:`problems` gives them all)."""
    found = problems(edit)
    if found:
        raise found[0]
    doc, width = _open(text)
    for key in ("name", "summary"):
        _set_text(doc, key, edit.texts[key], before=_after(TOP_ORDER, key))
    audience = doc.get("audience")
    wanted = [a for a in AUDIENCES if a in edit.audience]
    if isinstance(audience, CommentedSeq):
        if list(audience) != wanted:
            del audience[:]
            audience.extend(wanted)
    else:
        seq = CommentedSeq(wanted)
        seq.fa.set_flow_style()
        put(doc, "audience", seq, before=_after(TOP_ORDER, "audience"))
    guide = _section(doc, "guide")
    for key in ("eligibility", "legal_basis", "fee", "where", "contact"):
        _set_text(guide, key, edit.texts.get(key, Text()), before=_after(GUIDE_ORDER, key))
    for key in DAYS:
        _set(guide, key, int(getattr(edit, key).strip()), GUIDE_ORDER)
    steps = [Text(zh, en) for zh, en in zip(_lines(edit.steps_zh), _lines(edit.steps_en),
                                             strict=True)]
    old_steps = [Text.of(s) for s in guide.get("steps") or ()]
    if not steps:
        guide.pop("steps", None)
    elif steps != old_steps:
        put(guide, "steps", CommentedSeq([small(zh=s.zh, en=s.en) for s in steps]),
            before=_after(GUIDE_ORDER, "steps"))
    days = edit.draft_expiry_days.strip()
    settings = doc.get("settings")
    if days:
        _set(_section(doc, "settings"), "draft_expiry_days", int(days), ("draft_expiry_days",
                                                                          "allow_anonymous_start"))
    elif isinstance(settings, CommentedMap):
        settings.pop("draft_expiry_days", None)
        if not settings:
            del doc["settings"]
    return dump(doc, width=width)


# --- materials -------------------------------------------------------------------------------

def _materials(doc: CommentedMap) -> CommentedSeq:
    found = doc.get("materials")
    if not isinstance(found, CommentedSeq):
        found = CommentedSeq()
        put(doc, "materials", found, before=_after(TOP_ORDER, "materials"))
    return found


def _material(doc: CommentedMap, index: int) -> CommentedMap:
    materials = _materials(doc)
    if not 0 <= index < len(materials) or not isinstance(materials[index], CommentedMap):
        raise GuideEditError(N_("There is no material %(number)d in the list."),
                             number=index + 1)
    found: CommentedMap = materials[index]
    return found


def material_problems(edit: MaterialEdit, prefix: str) -> list[GuideEditError]:
    """Every mistake of a material's fields; ``prefix`` names the fields (material-0, new)."""
    found = _text_problems(f"{prefix}-name", edit.name, required=True,
                           missing_zh=N_("Enter the material's name in Chinese."),
                           missing_en=N_("Enter the material's name in English."))
    found += _text_problems(f"{prefix}-note", edit.note, required=False,
                            missing_zh=N_("Enter the note in Chinese."),
                            missing_en=N_("Enter the note in English."))
    return found


def _write_material(node: CommentedMap, edit: MaterialEdit) -> None:
    _set_text(node, "name", edit.name, before=("required",), one_line=True)
    if node.get("required") is not edit.required:
        put(node, "required", edit.required, before=("form_field", "checked_at_counter", "note"))
    if edit.collected == AT_COUNTER:
        node.pop("form_field", None)
        if node.get("checked_at_counter") is not True:
            put(node, "checked_at_counter", True, before=("note", "kind", "copies", "source"))
    elif edit.collected:
        node.pop("checked_at_counter", None)
        if node.get("form_field") != edit.collected:
            put(node, "form_field", edit.collected, before=("note", "kind", "copies", "source"))
    else:
        node.pop("form_field", None)
        node.pop("checked_at_counter", None)
    _set_text(node, "note", edit.note, before=(), one_line=True)


def add_material(text: str, edit: MaterialEdit) -> tuple[str, int]:
    """A new material at the end of the list. Returns (text, its index)."""
    found = material_problems(edit, "new")
    doc, width = _open(text)
    materials = _materials(doc)
    codes = {str(m.get("code")) for m in materials if isinstance(m, Mapping)}
    code = edit.code.strip()
    if not code:
        number = len(materials) + 1
        while f"material-{number}" in codes:
            number += 1
        code = f"material-{number}"
    elif not MATERIAL_CODE.fullmatch(code):
        found.insert(0, GuideEditError(N_("A material code is lower-case letters, digits and "
                                          "hyphens, starting with a letter (for example "
                                          "id-card)."), at="new-code"))
    elif code in codes:
        found.insert(0, GuideEditError(N_('The material code "%(code)s" is already used.'),
                                       at="new-code", code=code))
    if found:
        raise found[0]
    node = CommentedMap()
    node["code"] = code
    _write_material(node, edit)
    materials.append(node)
    return dump(doc, width=width), len(materials) - 1


def update_material(text: str, index: int, edit: MaterialEdit) -> str:
    found = material_problems(edit, f"material-{index}")
    if found:
        raise found[0]
    doc, width = _open(text)
    _write_material(_material(doc, index), edit)
    return dump(doc, width=width)


def remove_material(text: str, index: int) -> str:
    doc, width = _open(text)
    _material(doc, index)
    del doc["materials"][index]
    return dump(doc, width=width)


def move_material(text: str, index: int, direction: str) -> tuple[str, int]:
    """The material one place up or down the list. Returns (text, its new index)."""
    doc, width = _open(text)
    _material(doc, index)
    materials = doc["materials"]
    if direction not in ("up", "down"):
        raise GuideEditError(N_("Choose whether the material moves up or down."))
    to = index - 1 if direction == "up" else index + 1
    if not 0 <= to < len(materials):
        raise GuideEditError(N_("The material is already at the top of the list.")
                             if direction == "up"
                             else N_("The material is already at the bottom of the list."),
                             at=f"material-{index}")
    materials.insert(to, materials.pop(index))
    return dump(doc, width=width), to


# --- where a problem of the checks belongs ---------------------------------------------------

def field_of(pointer: str) -> str:
    """The field of the guide page a problem's JSON pointer is about, "" for none."""
    parts = pointer.split("/")[1:]
    if not parts:
        return ""
    lang = parts[-1] if parts[-1] in ("zh", "en") else "zh"
    if parts[0] in ("name", "summary"):
        return f"{parts[0]}_{lang}"
    if parts[0] == "audience":
        return "audience"
    if parts[0] == "guide" and len(parts) > 1:
        if parts[1] in DAYS:
            return parts[1]
        if parts[1] == "steps":
            return "steps_zh" if lang == "zh" else "steps_en"
        if parts[1] in TEXTS:
            return f"{parts[1]}_{lang}"
    if parts[0] == "materials" and len(parts) > 1 and parts[1].isdigit():
        return f"material-{parts[1]}"
    if parts[:2] == ["settings", "draft_expiry_days"]:
        return "draft_expiry_days"
    return ""
