"""Docs and tests keep step with the hooks mechanically: every hook specification has a
section in docs/plugins.md headed by its exact signature and a test_hook_<name> test in
tests/plugins; the guide's code is the example plugin's code, word for word."""

from __future__ import annotations

import ast
import re

import pytest

from tongban import PROJECT_ROOT
from tongban.extend import hookspecs

GUIDE = PROJECT_ROOT / "docs" / "plugins.md"
EXAMPLE = PROJECT_ROOT / "plugins" / "example_connector"


def specs() -> list[str]:
    return sorted(name for name in dir(hookspecs) if name.startswith("tongban_")
                  and hasattr(getattr(hookspecs, name), "tongban_spec"))


def signature(name: str) -> str:
    annotations = dict(getattr(hookspecs, name).__annotations__)
    returns = annotations.pop("return")
    params = ", ".join(f"{key}: {value}" for key, value in annotations.items())
    return f"{name}({params}) -> {returns}"


def hook_tests() -> set[str]:
    names = set()
    for path in (PROJECT_ROOT / "tests" / "plugins").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_"):
                names.add(node.name.removeprefix("test_hook_"))
    return names


def test_the_hook_specifications_are_found() -> None:
    assert {"tongban_connector_types", "tongban_health", "tongban_blueprints",
            "tongban_application_event"} <= set(specs())
    assert len(specs()) == 8


@pytest.mark.parametrize("name", specs())
def test_every_hook_has_a_section_in_the_guide(name: str) -> None:
    headings = re.findall(r"^#### `([^`]+)`$", GUIDE.read_text(encoding="utf-8"), re.MULTILINE)
    assert signature(name) in headings


@pytest.mark.parametrize("name", specs())
def test_every_hook_has_a_test(name: str) -> None:
    assert name in hook_tests()


def test_every_hook_docstring_says_when_it_is_called_and_whether_first_result() -> None:
    for name in specs():
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Called" in doc and "first-result" in doc, name


def test_the_guide_shows_the_example_plugin_s_code_as_it_is() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    source = (EXAMPLE / "tongban_example_connector" / "__init__.py").read_text(encoding="utf-8")
    snippets = re.findall(r"# -- start ([^-]+) --\n(.*?)# -- end \1 --\n", source, re.DOTALL)
    assert [name for name, _ in snippets] == ["options schema", "connector", "check", "hooks"]
    for name, code in snippets:
        assert code.rstrip("\n") in guide, f"the guide's {name!r} differs from the example"
    for path in ("tests/conftest.py", "tests/test_example_connector.py",
                 "tongban_example_connector/__init__.py"):
        text = (EXAMPLE / path).read_text(encoding="utf-8").rstrip("\n")
        assert text in guide, f"the guide's {path} differs from the example's"


def test_the_guide_s_package_declares_what_the_example_declares() -> None:
    pyproject = (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    guide = GUIDE.read_text(encoding="utf-8")
    for line in ('[project.entry-points."tongban.plugins"]',
                 'example_connector = "tongban_example_connector"',
                 'name = "tongban-example-connector"'):
        assert line in pyproject and line in guide
