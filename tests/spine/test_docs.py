"""Examples in the docs are real: each one is loaded and checked like a shipped file."""

from __future__ import annotations

import re
import shutil

from tongban import PROJECT_ROOT
from tongban.definitions import load_directory

EXAMPLE = re.compile(r"```yaml example\n(.*?)```", re.S)


def test_the_service_example_in_definitions_md_is_valid(tmp_path) -> None:  # type: ignore[no-untyped-def]
    examples = EXAMPLE.findall((PROJECT_ROOT / "docs" / "definitions.md").read_text("utf-8"))
    assert examples
    shutil.copytree(PROJECT_ROOT / "form_definitions", tmp_path / "form_definitions")
    (tmp_path / "workflow_definitions").mkdir()
    # The forms name material types of the material catalogue.
    shutil.copy(PROJECT_ROOT / "workflow_definitions" / "materials.yaml",
                tmp_path / "workflow_definitions" / "materials.yaml")
    for number, text in enumerate(examples):
        (tmp_path / "workflow_definitions" / f"example{number}.yaml").write_text(text, "utf-8")
    result = load_directory(tmp_path)
    assert result.problems == []
    assert "business-licence-change" in result.services
