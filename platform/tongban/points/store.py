"""Rule sets as published definitions (kind "rules", code = the rule-set id).

`rules_for` compiles a version once per DefinitionVersion row: versions are immutable, so the
cache never goes stale, and a newly published version is seen by the next call."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from ..models import DefinitionVersion
from .rules import RuleSet, compile_rules

KIND = "rules"

# (DefinitionVersion id, content hash) -> compiled rule set. The hash keeps two databases in
# one process (tests) from sharing an entry.
_compiled: dict[tuple[int, str], RuleSet] = {}


class UnknownRuleSet(LookupError):
    """No published version of a rule set (or no such version)."""

    def __init__(self, rule_set_id: str, known: list[str]) -> None:
        self.rule_set_id = rule_set_id
        self.known = known
        super().__init__(f'unknown rule set "{rule_set_id}"; published rule sets: '
                         f"{', '.join(known) or 'none'}")


@dataclass(frozen=True)
class PublishedRuleSet:
    id: str
    name: dict[str, str]
    versions: list[int]


def compile_version(row: DefinitionVersion) -> RuleSet:
    assert row.id is not None
    key = (row.id, row.content_hash)
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = compile_rules(dict(row.content), version=row.version,
                                               file=row.source_path or row.code)
    return found


def rules_for(session: Session, rule_set_id: str, version_id: int | None = None) -> RuleSet:
    """The rule set of DefinitionVersion `version_id`, or the latest published version of
    `rule_set_id` when no id is given. Raises UnknownRuleSet."""
    query = select(DefinitionVersion).where(col(DefinitionVersion.kind) == KIND,
                                            col(DefinitionVersion.code) == rule_set_id)
    if version_id is not None:
        query = query.where(col(DefinitionVersion.id) == version_id)
    row = session.scalars(query.order_by(col(DefinitionVersion.version).desc()).limit(1)).first()
    if row is None:
        raise UnknownRuleSet(rule_set_id, [item.id for item in published_rule_sets(session)])
    return compile_version(row)


def published_rule_sets(session: Session) -> list[PublishedRuleSet]:
    """Each published rule set, its latest name and its version numbers, by id."""
    rows = session.scalars(select(DefinitionVersion)
                           .where(col(DefinitionVersion.kind) == KIND)
                           .order_by(col(DefinitionVersion.code),
                                     col(DefinitionVersion.version))).all()
    found: dict[str, PublishedRuleSet] = {}
    for row in rows:
        entry = found.get(row.code)
        name = dict(row.content.get("name") or {})
        if entry is None:
            found[row.code] = PublishedRuleSet(row.code, name, [row.version])
        else:
            found[row.code] = PublishedRuleSet(row.code, name, [*entry.versions, row.version])
    return list(found.values())
