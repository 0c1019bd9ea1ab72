"""Conditional parts of a schema for the tree builder: allOf, if/then/else, dependencies, oneOf/anyOf.

:class:`BranchMixin` merges ``allOf`` parts and collects the branches whose properties show only
under a :class:`~tongban.forms.fields.Condition`; :class:`~tongban.forms.schema_tree.TreeBuilder`
turns those branches into conditional fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tongban.forms import paths
from tongban.forms.fields import Condition, Field


@dataclass(eq=False)
class Branch:
    schema: Any
    pointer: str
    condition: Condition | None
    conditions: tuple[Condition, ...] = ()


class BranchMixin:
    """Flattening and branch collection for :class:`~tongban.forms.schema_tree.TreeBuilder`.

    The host supplies ``_make_test`` (compiles a schema into a value test) and ``_resolve_part``
    (resolves a sub-schema's ``$ref``, or gives None when it leads back into itself).
    """

    _make_test: Callable[[Any, Any], Callable[[Any], bool]]
    _resolve_part: Callable[[Any, Any, str, tuple[str, ...]], dict[str, Any] | None]

    def _flatten(
        self, schema: dict[str, Any], resolver: Any, pointer: str, stack: tuple[str, ...]
    ) -> tuple[dict[str, Any], list[Branch]]:
        """Merge ``allOf`` parts into one schema and collect the conditional branches."""
        merged = {k: v for k, v in schema.items() if k not in ("allOf",)}
        props = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        branches: list[Branch] = []
        for index, part in enumerate(schema.get("allOf") or []):
            part_pointer = f"{pointer}/allOf/{index}"
            part = self._resolve_part(part, resolver, part_pointer, stack)
            if part is None:
                continue
            part, sub_branches = self._flatten(part, resolver, part_pointer, stack)
            for name, sub in (part.get("properties") or {}).items():
                if name in props and isinstance(props[name], dict) and isinstance(sub, dict):
                    props[name] = {**sub, **props[name]}
                else:
                    props.setdefault(name, sub)
            required += [r for r in part.get("required") or [] if r not in required]
            for k, v in part.items():
                if k not in ("properties", "required", "if", "then", "else", "oneOf", "anyOf"):
                    merged.setdefault(k, v)
            branches += sub_branches
            branches += self._own_branches(part, resolver, part_pointer, stack)
        if props:
            merged["properties"] = props
        if required:
            merged["required"] = required
        branches += self._own_branches(schema, resolver, pointer, stack)
        return merged, branches

    def _own_branches(
        self, schema: dict[str, Any], resolver: Any, pointer: str, stack: tuple[str, ...]
    ) -> list[Branch]:
        branches: list[Branch] = []
        if "if" in schema and ("then" in schema or "else" in schema):
            test = self._make_test(schema["if"], resolver)
            client = _client_condition(schema["if"])
            for word, expect in (("then", True), ("else", False)):
                if word in schema:
                    branches.append(
                        Branch(schema[word], f"{pointer}/{word}", Condition(test, expect, client))
                    )
        dependent = dict(schema.get("dependentSchemas") or {})
        for name, dep in (schema.get("dependencies") or {}).items():
            if isinstance(dep, dict):
                dependent[name] = dep
        for name, dep in dependent.items():
            base = (
                "dependentSchemas"
                if name in (schema.get("dependentSchemas") or {})
                else ("dependencies")
            )
            dep_pointer = f"{pointer}/{base}/{paths.pointer([name])[1:]}"
            presence = self._make_test({"required": [name]}, resolver)
            condition = Condition(presence, True, None)
            dep_schema = self._resolve_part(dep, resolver, dep_pointer, stack)
            if dep_schema is None:
                continue
            alternatives = dep_schema.get("oneOf") or dep_schema.get("anyOf")
            if alternatives and not dep_schema.get("properties"):
                branches += self._alternatives(
                    alternatives,
                    resolver,
                    dep_pointer,
                    stack,
                    word="oneOf" if "oneOf" in dep_schema else "anyOf",
                    base=(condition,),
                    names={name},
                )
            else:
                branches.append(Branch(dep_schema, dep_pointer, condition))
        return branches

    def _alternatives(
        self,
        alternatives: list[Any],
        resolver: Any,
        pointer: str,
        stack: tuple[str, ...],
        *,
        word: str,
        base: tuple[Condition, ...],
        names: set[str],
    ) -> list[Branch]:
        """Object alternatives become branches, told apart by the properties they share with
        the parent (``names``); alternatives with no such property always apply."""
        branches: list[Branch] = []
        for index, alt in enumerate(alternatives):
            alt_pointer = f"{pointer}/{word}/{index}"
            alt = self._resolve_part(alt, resolver, alt_pointer, stack)
            if alt is None:
                continue
            props = alt.get("properties") or {}
            keys = [n for n in props if n in names]
            conditions = base
            if keys:
                discriminator = {"properties": {n: props[n] for n in keys}, "required": keys}
                conditions = (
                    *base,
                    Condition(
                        self._make_test(discriminator, resolver),
                        True,
                        _client_condition(discriminator),
                    ),
                )
            branches.append(Branch(alt, alt_pointer, None, conditions))
        return branches


def all_of(conditions: tuple[Condition, ...]) -> Condition:
    if len(conditions) == 1:
        return conditions[0]
    return Condition(lambda value: all(c.holds(value) for c in conditions), True, None)


def _client_condition(schema: Any) -> tuple[tuple[str, tuple[Any, ...], bool], ...] | None:
    """The subset of ``if`` schemas the browser can test: properties with const or enum."""
    if not isinstance(schema, dict) or set(schema) - {"properties", "required", "type"}:
        return None
    required = set(schema.get("required") or [])
    props = schema.get("properties") or {}
    parts = []
    for name, sub in props.items():
        if not isinstance(sub, dict) or set(sub) - {"const", "enum", "type"}:
            return None
        if "const" in sub:
            values: tuple[Any, ...] = (sub["const"],)
        elif isinstance(sub.get("enum"), list) and sub["enum"]:
            values = tuple(sub["enum"])
        else:
            return None
        parts.append((name, values, name in required))
    if not parts or required - set(props):
        return None
    return tuple(parts)


def anchor(fld: Field, fields: list[Field]) -> int:
    """Place a conditional field just after the last field its condition reads."""
    names: set[str] = set()
    for condition in fld.conditions:
        for name, _, _ in condition.client or ():
            names.add(name)
    position = len(fields)
    if names:
        hits = [i for i, f in enumerate(fields) if f.name in names]
        if hits:
            position = hits[-1] + 1
            while position < len(fields) and fields[position].conditions:
                position += 1
    return position
