"""Building the field tree from a JSON Schema: resolving $ref, branches, options and widgets.

Runs once per form version (see definition.py); the result is the immutable tree of
:class:`~tongban.forms.fields.Field` that rendering, reading posts and validation walk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tongban.forms import paths
from tongban.forms.fields import (
    ANY_WIDGETS,
    CHOICE_WIDGETS,
    FORMAT_ATTRS,
    FORMAT_WIDTHS,
    MAX_TREE_DEPTH,
    RADIOS_MAX,
    TEXT_WIDGETS,
    WIDGETS,
    Condition,
    Field,
    Option,
)
from tongban.i18n import N_


class SchemaShapeError(Exception):
    """A schema shape the tree cannot follow (an unresolvable ``$ref``); reported by pointer."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


class _Recursive(Exception):
    """A $ref that leads back into itself: the field falls back to a JSON text area."""


_YES_NO = (
    Option(True, "true", msgid=N_("Yes")),
    Option(False, "false", msgid=N_("No")),
)


class TreeBuilder:
    """Walks a schema once and produces the field tree."""

    def __init__(
        self,
        *,
        resolver: Any,
        ui_fields: Mapping[str, Mapping[str, Any]],
        ui_order: list[str] | None,
        make_test: Callable[[Any, Any], Callable[[Any], bool]],
        problems: list[tuple[str, str]],
    ) -> None:
        self._root_resolver = resolver
        self._ui = ui_fields
        self._root_order = ui_order
        self._make_test = make_test
        self.problems = problems

    def build(self, schema: Any) -> Field:
        return self._field(
            schema,
            self._root_resolver,
            key="",
            name="",
            pointer="/schema",
            required=True,
            depth=0,
            stack=(),
        )

    # -- schema plumbing -------------------------------------------------------------------
    def _resolve(
        self, schema: Any, resolver: Any, pointer: str, stack: tuple[str, ...]
    ) -> tuple[dict[str, Any], Any, str, tuple[str, ...]]:
        hops = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            target = resolver.lookup(ref) if resolver is not None else None
            if target is None:
                raise SchemaShapeError(pointer + "/$ref", f"$ref {ref!r} cannot be resolved")
            identity = _identity(target, ref)
            if identity in stack:
                raise _Recursive(ref)
            stack = (*stack, identity)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            contents = target.contents
            resolver = target.resolver
            schema = {**contents, **siblings} if isinstance(contents, dict) else contents
            pointer = _ref_pointer(ref, pointer)
            hops += 1
            if hops > 32:
                raise SchemaShapeError(pointer, f"$ref {ref!r} loops")
        if schema is True or schema is None:
            schema = {}
        if schema is False:
            schema = {"not": {}}
        if not isinstance(schema, dict):
            raise SchemaShapeError(pointer, "a schema must be an object or a boolean")
        return schema, resolver, pointer, stack

    def _flatten(
        self, schema: dict[str, Any], resolver: Any, pointer: str, stack: tuple[str, ...]
    ) -> tuple[dict[str, Any], list[_Branch]]:
        """Merge ``allOf`` parts into one schema and collect the conditional branches."""
        merged = {k: v for k, v in schema.items() if k not in ("allOf",)}
        props = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        branches: list[_Branch] = []
        for index, part in enumerate(schema.get("allOf") or []):
            part_pointer = f"{pointer}/allOf/{index}"
            try:
                part, _, _, _ = self._resolve(part, resolver, part_pointer, stack)
            except _Recursive:
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
    ) -> list[_Branch]:
        branches: list[_Branch] = []
        if "if" in schema and ("then" in schema or "else" in schema):
            test = self._make_test(schema["if"], resolver)
            client = _client_condition(schema["if"])
            for word, expect in (("then", True), ("else", False)):
                if word in schema:
                    branches.append(
                        _Branch(schema[word], f"{pointer}/{word}", Condition(test, expect, client))
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
            try:
                dep_schema, _, _, _ = self._resolve(dep, resolver, dep_pointer, stack)
            except _Recursive:
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
                branches.append(_Branch(dep_schema, dep_pointer, condition))
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
    ) -> list[_Branch]:
        """Object alternatives become branches, told apart by the properties they share with
        the parent (``names``); alternatives with no such property always apply."""
        branches: list[_Branch] = []
        for index, alt in enumerate(alternatives):
            alt_pointer = f"{pointer}/{word}/{index}"
            try:
                alt, _, _, _ = self._resolve(alt, resolver, alt_pointer, stack)
            except _Recursive:
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
            branches.append(_Branch(alt, alt_pointer, None, conditions))
        return branches

    # -- fields ------------------------------------------------------------------------------
    def _field(
        self,
        schema: Any,
        resolver: Any,
        *,
        key: str,
        name: str,
        pointer: str,
        required: bool,
        depth: int,
        stack: tuple[str, ...],
        conditions: tuple[Condition, ...] = (),
        is_item: bool = False,
        variant: int = 0,
        ui: Mapping[str, Any] | None = None,
    ) -> Field:
        ui = dict(ui if ui is not None else self._ui.get(key) or {})
        try:
            schema, resolver, pointer, stack = self._resolve(schema, resolver, pointer, stack)
        except _Recursive:
            return self._make(
                key, name, pointer, {}, None, "json", ui, required, conditions, is_item, variant
            )
        schema, branches = self._flatten(schema, resolver, pointer, stack)
        jtype = _json_type(schema)
        options = self._options(schema, resolver, pointer, stack, ui, jtype)
        widget = self._widget(schema, jtype, options, ui, key, pointer)
        if depth > MAX_TREE_DEPTH and widget in ("fieldset", "repeatable"):
            widget = "json"
        fld = self._make(
            key, name, pointer, schema, jtype, widget, ui, required, conditions, is_item, variant
        )
        fld.options = options
        if widget == "fieldset":
            fld.children = tuple(
                self._children(schema, resolver, key, pointer, depth, stack, branches, ui)
            )
        elif widget in ("repeatable", "checkboxes"):
            items = schema.get("items")
            if isinstance(items, (dict, bool)):
                item_key = key
                fld.item = self._field(
                    items,
                    resolver,
                    key=item_key,
                    name="*",
                    pointer=pointer + "/items",
                    required=True,
                    depth=depth + 1,
                    stack=stack,
                    is_item=True,
                    ui=ui.get("item") or {},
                )
                if fld.item.widget in ("fieldset",) and not fld.item.children:
                    fld.item.widget = "json"
            fld.min_items = int(schema.get("minItems") or 0)
            fld.max_items = schema.get("maxItems")
        return fld

    def _make(
        self,
        key: str,
        name: str,
        pointer: str,
        schema: Mapping[str, Any],
        jtype: str | None,
        widget: str,
        ui: Mapping[str, Any],
        required: bool,
        conditions: tuple[Condition, ...],
        is_item: bool,
        variant: int,
    ) -> Field:
        label: dict[str, str] = {}
        if isinstance(schema.get("title"), str):
            label["zh"] = schema["title"]
        label.update(ui.get("label") or {})
        if not label:
            label["zh"] = _humanize(name) if name not in ("", "*") else ""
        hint: dict[str, str] = {}
        if isinstance(schema.get("description"), str):
            hint["zh"] = schema["description"]
        hint.update(ui.get("hint") or {})
        fmt = schema.get("format") if isinstance(schema.get("format"), str) else None
        attrs = dict(FORMAT_ATTRS.get(fmt or "", {}))
        if jtype == "integer":
            attrs.setdefault("inputmode", "numeric")
        elif jtype == "number":
            attrs.setdefault("inputmode", "decimal")
        for word, attr in (
            ("minimum", "data-min"),
            ("maximum", "data-max"),
            ("exclusiveMinimum", "data-min-exclusive"),
            ("exclusiveMaximum", "data-max-exclusive"),
            ("multipleOf", "data-step"),
        ):
            if isinstance(schema.get(word), (int, float)) and not isinstance(schema[word], bool):
                attrs[attr] = _number_text(schema[word])
        if ui.get("autocomplete"):
            attrs["autocomplete"] = str(ui["autocomplete"])
        if widget == "textarea":
            attrs["rows"] = str(ui.get("rows") or 5)
        width = ui.get("width") or FORMAT_WIDTHS.get(fmt or "")
        if width is None and jtype in ("integer", "number") and widget in ("integer", "number"):
            width = "10"
        fld = Field(
            key=key,
            name=name,
            pointer=pointer,
            schema=schema,
            type=jtype,
            widget=widget,
            label=label,
            required=required,
            hint=hint or None,
            placeholder=ui.get("placeholder"),
            attrs=attrs,
            format=fmt,
            read_only=bool(schema.get("readOnly")),
            const=schema.get("const"),
            has_const="const" in schema,
            default=schema.get("default"),
            has_default="default" in schema,
            conditions=conditions,
            ui=ui,
            width=width,
            is_item=is_item,
            variant=variant,
        )
        return fld

    def _children(
        self,
        schema: dict[str, Any],
        resolver: Any,
        key: str,
        pointer: str,
        depth: int,
        stack: tuple[str, ...],
        branches: list[_Branch],
        ui: Mapping[str, Any],
    ) -> list[Field]:
        props = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        dependent = dict(schema.get("dependentRequired") or {})
        for name, dep in (schema.get("dependencies") or {}).items():
            if isinstance(dep, list):
                dependent[name] = dep
        object_alts = [
            w
            for w in ("oneOf", "anyOf")
            if isinstance(schema.get(w), list) and all(isinstance(a, dict) for a in schema[w])
        ]
        for word in object_alts:
            branches = branches + self._alternatives(
                schema[word], resolver, pointer, stack, word=word, base=(), names=set(props)
            )
        children: dict[str, Field] = {}
        for name, sub in props.items():
            child_key = paths.child(key, name)
            child_pointer = f"{pointer}/properties/{paths.pointer([name])[1:]}"
            child = self._field(
                sub,
                resolver,
                key=child_key,
                name=name,
                pointer=child_pointer,
                required=name in required,
                depth=depth + 1,
                stack=stack,
            )
            child.dependent_on = tuple(p for p, deps in dependent.items() if name in deps)
            children[name] = child
        extra: list[Field] = []
        variants: dict[str, int] = {}
        for branch in branches:
            try:
                bschema, bresolver, bpointer, bstack = self._resolve(
                    branch.schema, resolver, branch.pointer, stack
                )
            except _Recursive:
                continue
            bschema, nested = self._flatten(bschema, bresolver, bpointer, bstack)
            conditions = branch.conditions
            if branch.condition is not None:
                conditions = (*conditions, branch.condition)
            branch_required = set(bschema.get("required") or [])
            for name in branch_required & set(children):
                if conditions:
                    children[name].required_when += (_all_of(conditions),)
            for name, sub in (bschema.get("properties") or {}).items():
                if name in children:
                    continue
                child_key = paths.child(key, name)
                child_pointer = f"{bpointer}/properties/{paths.pointer([name])[1:]}"
                variant = variants.get(name, 0)
                variants[name] = variant + 1
                extra.append(
                    self._field(
                        sub,
                        bresolver,
                        key=child_key,
                        name=name,
                        pointer=child_pointer,
                        required=name in branch_required,
                        depth=depth + 1,
                        stack=bstack,
                        conditions=conditions,
                        variant=variant,
                    )
                )
            for inner in nested:
                inner.conditions = (*conditions, *inner.conditions)
                if inner.condition is not None:
                    inner.conditions = (*inner.conditions, inner.condition)
                    inner.condition = None
                branches.append(inner)
        order = ui.get("order") if key else (ui.get("order") or self._root_order)
        ordered = _ordered(list(children), order)
        result = [children[n] for n in ordered]
        # Conditional fields follow the field they depend on when that is clear, else the end.
        for fld in extra:
            anchor = _anchor(fld, result)
            result.insert(anchor, fld)
        return result

    def _options(
        self,
        schema: dict[str, Any],
        resolver: Any,
        pointer: str,
        stack: tuple[str, ...],
        ui: Mapping[str, Any],
        jtype: str | None,
    ) -> tuple[Option, ...]:
        source = schema
        if jtype == "array" and isinstance(schema.get("items"), dict):
            try:
                source, _, _, _ = self._resolve(
                    schema["items"], resolver, pointer + "/items", stack
                )
            except (_Recursive, SchemaShapeError):
                return ()
        raw: list[tuple[Any, Any, Any]] = []
        if isinstance(source.get("enum"), list):
            raw = [(v, None, None) for v in source["enum"]]
        else:
            for word in ("oneOf", "anyOf"):
                alts = source.get(word)
                if not isinstance(alts, list) or not alts:
                    continue
                resolved = []
                for index, alt in enumerate(alts):
                    try:
                        alt, _, _, _ = self._resolve(
                            alt, resolver, f"{pointer}/{word}/{index}", stack
                        )
                    except (_Recursive, SchemaShapeError):
                        return ()
                    resolved.append(alt)
                if all("const" in a for a in resolved):
                    raw = [(a["const"], a.get("title"), a.get("description")) for a in resolved]
                break
        if not raw:
            if jtype == "boolean" and not (source is schema and "const" in schema):
                return _YES_NO
            return ()
        if any(isinstance(v, (dict, list)) for v, _, _ in raw):
            return ()
        tokens = [v if isinstance(v, str) else json.dumps(v) for v, _, _ in raw]
        if len(set(tokens)) != len(tokens):
            tokens = [str(i) for i in range(len(raw))]
        labels = ui.get("options") or {}
        options = []
        for (value, title, description), token in zip(raw, tokens, strict=True):
            label: dict[str, str] = {}
            if isinstance(title, str):
                label["zh"] = title
            extra = labels.get(token) or labels.get(str(value))
            if isinstance(extra, dict):
                label.update(extra)
            elif isinstance(extra, str):
                label["zh"] = extra
            if not label:
                label["zh"] = _value_text(value)
            hint = {"zh": description} if isinstance(description, str) else None
            options.append(Option(value, token, label, None, hint))
        return tuple(options)

    def _widget(
        self,
        schema: Mapping[str, Any],
        jtype: str | None,
        options: tuple[Option, ...],
        ui: Mapping[str, Any],
        key: str,
        pointer: str,
    ) -> str:
        wanted = ui.get("widget")
        default = _default_widget(schema, jtype, options)
        if not wanted:
            return default
        if wanted not in WIDGETS:
            self.problems.append((key, f"unknown widget {wanted!r}"))
            return default
        if not _widget_fits(wanted, default, jtype, options):
            self.problems.append(
                (key, f"widget {wanted!r} does not fit this field (it would be {default!r})")
            )
            return default
        return wanted


@dataclass(eq=False)
class _Branch:
    schema: Any
    pointer: str
    condition: Condition | None
    conditions: tuple[Condition, ...] = ()


def _all_of(conditions: tuple[Condition, ...]) -> Condition:
    if len(conditions) == 1:
        return conditions[0]
    return Condition(lambda value: all(c.holds(value) for c in conditions), True, None)


def _default_widget(
    schema: Mapping[str, Any], jtype: str | None, options: tuple[Option, ...]
) -> str:
    fmt = schema.get("format")
    if schema.get("readOnly"):
        return "readonly"
    if "const" in schema:
        return "checkbox" if schema["const"] is True else "readonly"
    if jtype == "string" and (
        fmt == "data-url" or "contentMediaType" in schema or "contentEncoding" in schema
    ):
        return "file"
    if jtype == "object":
        return "fieldset" if schema.get("properties") or _has_alternatives(schema) else "json"
    if jtype == "array":
        items = schema.get("items")
        if options:
            return "checkboxes"
        if isinstance(items, (dict, bool)) and "prefixItems" not in schema:
            return "repeatable"
        return "json"
    if options:
        if jtype == "boolean":
            return "radios"
        return "radios" if len(options) <= RADIOS_MAX else "select"
    if jtype == "string":
        return {
            "date": "date",
            "date-time": "datetime",
            "time": "time",
            "email": "email",
            "uri": "url",
            "cn-mobile": "tel",
            "cn-region": "region",
            "cn-amount": "amount",
        }.get(fmt or "", "text")
    if jtype in ("number", "integer"):
        return jtype
    if jtype == "null":
        return "readonly"
    return "json"


def _has_alternatives(schema: Mapping[str, Any]) -> bool:
    return any(isinstance(schema.get(w), list) for w in ("oneOf", "anyOf", "allOf")) or (
        "if" in schema or "dependentSchemas" in schema
    )


def _widget_fits(wanted: str, default: str, jtype: str | None, options: tuple[Option, ...]) -> bool:
    if wanted == default or wanted in ANY_WIDGETS:
        return True
    if default == "checkboxes":
        return wanted == "checkboxes"
    if wanted in CHOICE_WIDGETS:
        return bool(options) and jtype != "array"
    if wanted == "checkbox":
        return jtype == "boolean"
    if wanted in ("fieldset",):
        return jtype == "object"
    if wanted == "repeatable":
        return jtype == "array"
    if wanted in ("number", "integer"):
        return jtype in ("number", "integer")
    if wanted in TEXT_WIDGETS:
        return jtype == "string" and not options
    return False


def _json_type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        concrete = [t for t in declared if t != "null"]
        declared = concrete[0] if len(concrete) == 1 else None
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    values = schema.get("enum") if isinstance(schema.get("enum"), list) else None
    if values is None and "const" in schema:
        values = [schema["const"]]
    if values is None:
        for word in ("oneOf", "anyOf"):
            alts = schema.get(word)
            if (
                isinstance(alts, list)
                and alts
                and all(isinstance(a, dict) and "const" in a for a in alts)
            ):
                values = [a["const"] for a in alts]
    if values:
        kinds = {_value_type(v) for v in values if v is not None}
        if len(kinds) == 1:
            return kinds.pop()
    return None


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


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


def _ordered(names: list[str], order: Any) -> list[str]:
    if not isinstance(order, list) or not order:
        return names
    listed = [n for n in order if n in names]
    rest = [n for n in names if n not in listed]
    if "*" in order:
        at = order.index("*")
        before = [n for n in order[:at] if n in names]
        after = [n for n in order[at + 1 :] if n in names]
        return before + rest + after
    return listed + rest


def _anchor(fld: Field, fields: list[Field]) -> int:
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


def _identity(target: Any, ref: str) -> str:
    return f"{id(target.contents)}:{ref}"


def _ref_pointer(ref: str, pointer: str) -> str:
    if ref.startswith("#/"):
        return "/schema" + ref[1:]
    return pointer + "/$ref"


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else name


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False)


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
