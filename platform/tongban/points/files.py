"""Rule sets read straight from their files (no database), for the command line and tests:
workflow_definitions/rules/<id>.yaml. The platform uses the published versions (`store`)."""

from __future__ import annotations

from pathlib import Path

from ..definitions.problems import Problem
from ..definitions.yamlpos import ReadError, read_yaml
from .check import check_document
from .rules import RulesError, RuleSet, compile_rules

RULES_DIR = "workflow_definitions/rules"


def _project_root() -> Path:
    """The checkout (as tongban.PROJECT_ROOT, which this module cannot import: a cycle)."""
    return Path(__file__).resolve().parents[3]


def rules_path(rule_set_id: str, root: Path | None = None) -> Path | None:
    for suffix in (".yaml", ".yml"):
        path = (root or _project_root()) / RULES_DIR / f"{rule_set_id}{suffix}"
        if path.exists():
            return path
    return None


def file_rule_set_ids(root: Path | None = None) -> list[str]:
    return sorted(p.stem for p in ((root or _project_root()) / RULES_DIR).glob("*.y*ml"))


def read_rules_file(path: Path, file: str | None = None) -> RuleSet:
    """Compile one rules file; RulesError lists its problems with file:line."""
    name = file or str(path)
    try:
        document = read_yaml(path.read_text(encoding="utf-8"))
    except ReadError as exc:
        raise RulesError([Problem(name, exc.line, exc.column, "", exc.message)]) from None
    problems = check_document(document, name, expected_id=path.stem)
    if problems:
        raise RulesError(problems)
    return compile_rules(document.data, document=document, file=name)


def file_rules(rule_set_id: str, root: Path | None = None) -> RuleSet:
    """The rule set `rule_set_id` from its file. Raises LookupError for an unknown id."""
    path = rules_path(rule_set_id, root)
    if path is None:
        known = ", ".join(file_rule_set_ids(root)) or "none"
        raise LookupError(f'unknown rule set "{rule_set_id}"; rule set files: {known}')
    base = root or _project_root()
    return read_rules_file(path, str(path.relative_to(base)))
