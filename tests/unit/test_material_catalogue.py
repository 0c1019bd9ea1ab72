"""The material catalogue (issue 16 item 1): checked like every definition, with file and line;
forms and services may name only its types; validity rules; the counter's checklist."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from tongban.definitions import load_directory
from tongban.definitions.material_types import compile_catalogue
from tongban.definitions.tree import MemoryTree
from tongban.materials.library import checklist
from tongban.models import Material, StoredUpload

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = "workflow_definitions/materials.yaml"


def _shipped() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
            for folder in ("workflow_definitions", "form_definitions")
            for p in (ROOT / folder).rglob("*") if p.is_file()}


def test_the_shipped_catalogue_loads_and_is_published_first() -> None:
    result = load_directory(MemoryTree(_shipped()))
    assert result.problems == []
    assert result.material_types is not None
    assert [d.kind for d in result.all()][:2] == ["departments", "materials"]


def test_a_type_listed_twice_is_refused_at_its_line() -> None:
    files = _shipped()
    files[CATALOGUE] += ("  - code: diploma\n    name: {zh: 毕业证, en: Diploma}\n"
                         "    owner: person\n    validity: permanent\n")
    line = files[CATALOGUE].count("\n") - 3
    result = load_directory(MemoryTree(files))
    assert [(p.file, p.line, p.message) for p in result.problems] == [
        (CATALOGUE, line, 'material type "diploma" is listed twice (first as item 3); expected '
                          "each code once")]


def test_a_validity_the_schema_does_not_know_is_refused() -> None:
    files = _shipped()
    files[CATALOGUE] = files[CATALOGUE].replace("validity: {days: 30}", "validity: monthly")
    result = load_directory(MemoryTree(files))
    assert [p.file for p in result.problems] == [CATALOGUE]


def test_a_form_naming_an_unknown_type_is_refused_at_its_ui_key() -> None:
    files = _shipped()
    form = "form_definitions/residence-points.json"
    files[form] = files[form].replace('"material": "diploma"', '"material": "passport"')
    result = load_directory(MemoryTree(files))
    problems = [p for p in result.problems if p.file == form]
    assert len(problems) == 1
    assert problems[0].pointer == "/ui/fields/materials.diploma/material"
    assert problems[0].message.startswith('the material type "passport" is not in '
                                          "workflow_definitions/materials.yaml (types: ")


def test_a_type_on_a_question_that_is_no_file_question_is_refused() -> None:
    files = _shipped()
    form = "form_definitions/residence-points.json"
    data = json.loads(files[form])
    data["ui"]["fields"]["applicant.name"]["material"] = "id-card"
    files[form] = json.dumps(data, ensure_ascii=False, indent=1)
    problems = [p for p in load_directory(MemoryTree(files)).problems if p.file == form]
    assert [p.message for p in problems] == [
        '"applicant.name" names a material type but is not a file question']


def test_a_service_naming_an_unknown_type_is_refused() -> None:
    files = _shipped()
    service = "workflow_definitions/household-transfer.yaml"
    files[service] = files[service].replace("type: hukou-booklet", "type: hukou")
    problems = [p for p in load_directory(MemoryTree(files)).problems if p.file == service]
    assert [p.pointer for p in problems] == ["/materials/1/type"]


def test_validity_follows_the_catalogue() -> None:
    types = compile_catalogue({"unknown_expiry_days": 10, "materials": [
        {"code": "a", "name": {"zh": "甲", "en": "A"}, "owner": "person",
         "validity": "permanent"},
        {"code": "b", "name": {"zh": "乙", "en": "B"}, "owner": "person",
         "validity": "expiry_date"},
        {"code": "c", "name": {"zh": "丙", "en": "C"}, "owner": "person",
         "validity": {"days": 30}}]})
    day = date(2026, 9, 3)
    assert types["a"].expires_on(day) is None
    assert types["b"].expires_on(day) == date(2026, 9, 13)
    assert types["b"].expires_on(day, date(2036, 1, 1)) == date(2036, 1, 1)
    assert types["c"].expires_on(day) == date(2026, 10, 3)


def _material(type_code: str, expires_on: date | None, number: int) -> Material:
    return Material(id=number, public_id=f"m{number}", owner="X", owner_kind="person",
                    type_code=type_code, sha256="0" * 64, size=1, mime="application/pdf",
                    original_name="a.pdf", storage="local", storage_key="k", source="uploaded",
                    trust_level="C", expires_on=expires_on,
                    created_at=datetime(2026, 9, 3, tzinfo=UTC))


def test_the_checklist_says_present_missing_and_expired() -> None:
    service = {"materials": [
        {"code": "id-card", "name": {"zh": "身份证"}, "required": True,
         "form_field": "materials.id_card", "type": "id-card"},
        {"code": "hukou", "name": {"zh": "户口簿"}, "required": True, "type": "hukou-booklet"},
        {"code": "diploma", "name": {"zh": "学历"}, "required": False, "type": "diploma"},
        {"code": "letter", "name": {"zh": "证明"}, "required": True}]}
    upload = StoredUpload(public_id="u1", field_key="materials.id_card", stored_name="x",
                          original_name="a.pdf", size=1, sha256="0" * 64, mime="application/pdf")
    today = date(2026, 12, 3)
    library = [_material("hukou-booklet", date(2026, 12, 2), 1), _material("diploma", None, 2)]
    rows = checklist(service, {"materials": {"id_card": "u1"}}, {"u1": upload}, library, today)
    assert [(r.code, r.state, r.in_application) for r in rows] == [
        ("id-card", "present", True), ("hukou", "expired", False),
        ("diploma", "present", False), ("letter", "missing", False)]
