"""Issue 17 item 6: the service file's `life_events` and `keywords`, checked with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT
from tongban.definitions.loader import load_directory

FILE = "workflow_definitions/household-transfer.yaml"


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    for folder in ("form_definitions", "workflow_definitions"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    path = tmp_path / FILE
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
    return tmp_path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("life_events: [settling]", "life_events: [setling]",
     'workflow_definitions/household-transfer.yaml:16:15: at /life_events/0 unknown life event '
     '"setling" (did you mean "settling"?); expected one of: birth, schooling, employment, '
     'residence, settling, marriage, community, retirement, business-start, '
     'business-operation, business-closure'),
    ("life_events: [settling]", "life_events: [mars]",
     'workflow_definitions/household-transfer.yaml:16:15: at /life_events/0 unknown life event '
     '"mars"; expected one of: birth, schooling, employment, residence, settling, marriage, '
     'community, retirement, business-start, business-operation, business-closure'),
    ("life_events: [settling]", "life_events: []",
     "workflow_definitions/household-transfer.yaml:16:1: at /life_events expected at least 1 "
     "item(s)"),
    ("zh: [落户, 迁户口,", "zh: [" + "落" * 51 + ", 迁户口,",
     "workflow_definitions/household-transfer.yaml:18:8: at /keywords/zh/0 expected text of at "
     "most 50 characters"),
    ("zh: [落户, 迁户口,", "fr: [落户, 迁户口,",
     'workflow_definitions/household-transfer.yaml:18:3: at /keywords/fr unknown key "fr"; '
     "expected one of: en, zh"),
])
def test_a_wrong_life_event_or_keyword_is_refused_in_place(
        tmp_path: Path, old: str, new: str, message: str) -> None:
    found = load_directory(_copy(tmp_path, old, new))
    assert [str(p) for p in found.problems if p.file == FILE] == [message]
    assert "household-transfer" not in found.services


def test_the_shipped_services_name_life_events_and_keywords() -> None:
    found = load_directory(PROJECT_ROOT)
    assert found.ok
    assert found.services["household-transfer"].content["life_events"] == ["settling"]
    assert "落户" in found.services["household-transfer"].content["keywords"]["zh"]
