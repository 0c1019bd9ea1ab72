"""Building the field tree from a JSON Schema: resolving $ref, branches, options and widgets.

Runs once per form version (see definition.py); the result is the immutable tree of
:class:`~tongban.forms.fields.Field` that rendering, reading posts and validation walk.
:class:`TreeBuilder` resolves ``$ref`` and builds the fields here; it collects conditional
branches through :mod:`tongban.forms.schema_branches`, and picks widgets, types and options
and makes each field with the pure helpers in :mod:`tongban.forms.schema_widgets`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tongban.forms import paths
from tongban.forms.fields import (
    MAX_TREE_DEPTH,
    WIDGETS,
    Condition,
    Field,
    Option,
)
from tongban.forms.schema_branches import Branch, BranchMixin, all_of, anchor
from tongban.forms.schema_widgets import (
    YES_NO,
    default_widget,
    json_type,
    make_field,
    make_options,
    widget_fits,
)


class SchemaShapeError(Exception):
    """A schema shape the tree cannot follow (an unresolvable ``$ref``); reported by pointer."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


class _Recursive(Exception):
    """A $ref that leads back into itself: the field falls back to a JSON text area."""


class TreeBuilder(BranchMixin):
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
        if isinstance(schema, dict) and isinstance(schema.get("$id"), str) \
                and resolver is not None:
            resolver = resolver.in_subresource(schema)  # its $refs are relative to its $id
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

    def _resolve_part(
        self, schema: Any, resolver: Any, pointer: str, stack: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """The resolved sub-schema, or None when it leads back into itself (it is skipped)."""
        try:
            part, _, _, _ = self._resolve(schema, resolver, pointer, stack)
        except _Recursive:
            return None
        return part

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
            return make_field(
                key, name, pointer, {}, None, "json", ui, required, conditions, is_item, variant
            )
        schema, branches = self._flatten(schema, resolver, pointer, stack)
        jtype = json_type(schema)
        options = self._options(schema, resolver, pointer, stack, ui, jtype)
        widget = self._widget(schema, jtype, options, ui, key, pointer)
        if depth > MAX_TREE_DEPTH and widget in ("fieldset", "repeatable"):
            widget = "json"
        fld = make_field(
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

    def _children(
        self,
        schema: dict[str, Any],
        resolver: Any,
        key: str,
        pointer: str,
        depth: int,
        stack: tuple[str, ...],
        branches: list[Branch],
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
                    children[name].required_when += (all_of(conditions),)
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
        ordered = ordered_names(list(children), order)
        result = [children[n] for n in ordered]
        # Conditional fields follow the field they depend on when that is clear, else the end.
        for fld in extra:
            position = anchor(fld, result)
            result.insert(position, fld)
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
                return YES_NO
            return ()
        return make_options(raw, ui)

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
        default = default_widget(schema, jtype, options)
        if not wanted:
            return default
        if wanted not in WIDGETS:
            self.problems.append((key, f"unknown widget {wanted!r}"))
            return default
        if not widget_fits(wanted, default, jtype, options):
            self.problems.append(
                (key, f"widget {wanted!r} does not fit this field (it would be {default!r})")
            )
            return default
        return wanted


def ordered_names(names: list[str], order: Any) -> list[str]:
    """``names`` in the order a ui ``order`` list gives (``*`` for the rest, where it stands)."""
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


def _identity(target: Any, ref: str) -> str:
    return f"{id(target.contents)}:{ref}"


def _ref_pointer(ref: str, pointer: str) -> str:
    if ref.startswith("#/"):
        return "/schema" + ref[1:]
    return pointer + "/$ref"
