"""docs/forms.md stays true: every JSON example loads; every message has a Chinese translation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tongban.forms.definition import load_form
from tongban.i18n import CATALOGUE_ZH

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "forms.md"
FORMS = ROOT / "platform" / "tongban" / "forms"
TEMPLATES = ROOT / "platform" / "tongban" / "templates" / "forms"
EXAMPLES = re.findall(r"```json\n(.*?)```", DOC.read_text("utf-8"), re.S)


def test_the_guide_has_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_each_example_in_the_guide_loads(index: int) -> None:
    form = load_form(json.loads(EXAMPLES[index]), name=f"docs/forms.md example {index + 1}")
    assert form.pages


def _msgids() -> set[str]:
    found = set()
    for module in ("errors.py", "render.py", "overview.py", "page_rules.py", "fields.py", "state.py",
                   "coerce.py"):
        text = (FORMS / module).read_text("utf-8")
        for match in re.finditer(r'N_\(\s*((?:"[^"]*"\s*)+)\)', text):
            found.add("".join(re.findall(r'"([^"]*)"', match.group(1))))
    for template in TEMPLATES.glob("*.html"):
        found |= set(re.findall(r'_\("([^"]+)"', template.read_text("utf-8")))
    return found


def test_every_message_has_a_chinese_translation() -> None:
    with CATALOGUE_ZH.open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(i for i in _msgids() if not translated.get(i))
    assert missing == []
