"""The logic engine over a set of answers: what is shown, required, calculated or blocked.

The server is the authority: values of hidden fields are dropped before anything is stored or
validated, a required field on a hidden page is not required, and validation of one page looks
only at that page's answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tongban.forms import date_limits, formats_and_rules, paths
from tongban.forms.errors import FieldError, schema_errors, sort_errors
from tongban.forms.fields import Field, LangText

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition, Page


@dataclass(frozen=True)
class Block:
    """A rule that stops the applicant going on, with the reason to show them."""

    rule_id: str
    message: LangText
    field: str | None
    page: str | None


@dataclass(frozen=True)
class FormState:
    answers: dict[str, Any]
    """The answers with hidden values dropped and calculated values filled in."""
    hidden_keys: frozenset[str]
    hidden_pages: frozenset[str]
    required_keys: frozenset[str]
    calculated: Mapping[str, Any]
    blocks: tuple[Block, ...]

    def is_hidden(self, form: FormDefinition, key: str) -> bool:
        page = form.page_of.get(key)
        if page is not None and page in self.hidden_pages:
            return True
        hidden = self.hidden_keys
        return bool(hidden) and any(prefix in hidden for prefix in _prefixes(key))

    def page_visible(self, page_id: str) -> bool:
        return page_id not in self.hidden_pages


@lru_cache(maxsize=4096)
def _prefixes(key: str) -> tuple[str, ...]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: the key and the groups around it."""
    parts = paths.split(key)
    return tuple(paths.join(*parts[:end]) for end in range(1, len(parts) + 1))


def evaluate(form: FormDefinition, answers: Mapping[str, Any] | Any, *,
             failed: Iterable[str] = ()) -> FormState:
    """Apply the form's logic to ``answers`` (never modified) until nothing changes.

    ``failed``: instance paths of answers refused on this post. A calculated value that would
    be made from one of them is left empty (see :func:`calculated_from`)."""
    empty = calculated_from(form, failed)
    data = paths.copy_answers(answers)
    if form.root_is_object and not isinstance(data, dict):
        data = {}  # a form of questions starts from no answers; a null answer stays null
    hidden_keys: set[str] = set()
    hidden_pages: set[str] = set()
    calculated: dict[str, Any] = {}
    seen: Any = None  # the answers the last visibility pass read, and what it found
    conditions: dict[int, Any] = {}
    for _ in range(len(form.rules) + 2):
        before = paths.copy_answers(data)
        calculated = _calculate(form, data, empty)
        conditions = {}
        hidden_keys, hidden_pages = _visibility(form, data, conditions)
        seen = data
        data = _prune(form, form.root, data, hidden_keys, hidden_pages)
        if data == before:
            break
    if seen != data:  # pruning changed what the conditions read: evaluate them again
        conditions = {}
    required: set[str] = set()
    blocks: list[Block] = []
    state = FormState(data, frozenset(hidden_keys), frozenset(hidden_pages), frozenset(),
                      calculated, ())
    for rule in form.rules:
        if rule.action == "require" and rule.target \
                and _truthy(_run(rule.when, data, conditions)):
            if not state.is_hidden(form, rule.target):
                required.add(rule.target)
        elif rule.action == "block" and _truthy(_run(rule.when, data, conditions)):
            if rule.field and state.is_hidden(form, rule.field):
                continue
            if rule.page and rule.page in hidden_pages:
                continue
            page = rule.page or (form.page_of.get(rule.field) if rule.field else None)
            blocks.append(Block(rule.id, rule.message or {"zh": ""}, rule.field, page))
    return FormState(data, frozenset(hidden_keys), frozenset(hidden_pages), frozenset(required),
                     calculated, tuple(blocks))


def drop_hidden(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers without values of hidden fields, with calculated values filled in."""
    return evaluate(form, answers).answers


def visible_pages(form: FormDefinition, state: FormState) -> list[Page]:
    return [p for p in form.pages if state.page_visible(p.id)]


def next_page(form: FormDefinition, page_id: str, state: FormState) -> str | None:
    """The page after ``page_id`` that applies, or None when the next stop is check answers."""
    pages = visible_pages(form, state)
    ids = [p.id for p in form.pages]
    position = ids.index(page_id)
    for page in pages:
        if ids.index(page.id) > position:
            return page.id
    return None


def previous_page(form: FormDefinition, page_id: str, state: FormState) -> str | None:
    ids = [p.id for p in form.pages]
    position = ids.index(page_id)
    earlier = [p.id for p in visible_pages(form, state) if ids.index(p.id) < position]
    return earlier[-1] if earlier else None


def validate_page(form: FormDefinition, page_id: str, answers: Mapping[str, Any],
                  state: FormState | None = None) -> list[FieldError]:
    """Errors for the answers on one page only; a hidden page has none."""
    state = state or evaluate(form, answers)
    if not state.page_visible(page_id):
        return []
    errors = [e for e in _all_errors(form, state, form.page_validator(page_id))
              if e.key is not None and form.page_of.get(e.key) == page_id]
    errors += [FieldError(_block_path(form, b), b.field, "block", {"message": b.message})
               for b in state.blocks if b.page == page_id]
    return sort_errors(errors, form)


def validate_submission(form: FormDefinition, answers: Mapping[str, Any],
                        state: FormState | None = None) -> list[FieldError]:
    """Errors for the whole application before it is sent: every visible page, the rules
    that block, and schema failures that belong to no single field."""
    state = state or evaluate(form, answers)
    errors = [e for e in _all_errors(form, state)
              if e.key is None or form.page_of.get(e.key) is None
              or state.page_visible(form.page_of[e.key])]
    errors += [FieldError(_block_path(form, b), b.field, "block", {"message": b.message})
               for b in state.blocks]
    return sort_errors(errors, form)


def is_valid(form: FormDefinition, answers: Any) -> bool:
    return not validate_submission(form, answers)


def _block_path(form: FormDefinition, block: Block) -> str:
    return block.field or ""


def _all_errors(form: FormDefinition, state: FormState, validator: Any = None
                ) -> list[FieldError]:
    errors = [e for e in [*schema_errors(form, state.answers, validator),
                          *date_limits.limit_errors(form, state.answers)]
              if e.key is None or not state.is_hidden(form, e.key)]
    for key in state.required_keys:
        if _is_empty(paths.get_in(state.answers, paths.split(key))):
            errors.append(FieldError(key, key, "required", {}))
    return errors


def calculated_from(form: FormDefinition, failed: Iterable[str]) -> set[str]:
    """The calculated fields whose `set` rule reads (in ``when`` or ``value``) an answer at one
    of the ``failed`` instance paths, or another such calculated field.

    Their values would be made from answers that were refused, so they are left empty: never
    shown, never stored. Paths overlap when one is the other or inside it."""
    tainted = {path for path in failed if path}
    found: set[str] = set()
    changed = bool(tainted)
    while changed:
        changed = False
        for rule in form.rules:
            if rule.action != "set" or not rule.target or rule.target in found:
                continue
            if any(_overlaps(read, path) for read in rule_reads(rule) for path in tainted):
                found.add(rule.target)
                tainted.add(rule.target)
                changed = True
    return found


def rule_reads(rule: Any) -> set[str]:
    """The answers a rule reads through ``var`` (and ``missing``), in ``when`` and ``value``."""
    reads: set[str] = set()
    for part in (rule.when, rule.value):
        if part is not None:
            reads |= formats_and_rules.referenced_vars(part)
    return reads


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _calculate(form: FormDefinition, data: Any, empty: set[str] | frozenset[str] = frozenset()
               ) -> dict[str, Any]:
    calculated: dict[str, Any] = {}
    for rule in form.rules:
        if rule.action != "set" or not rule.target:
            continue
        if rule.target in empty:  # made from a refused answer: left empty
            calculated[rule.target] = None
            _put(data, paths.split(rule.target), None)
            continue
        if rule.when is not None and not _truthy(_run(rule.when, data)):
            continue
        value = _run(rule.value, data)
        calculated[rule.target] = value
        _put(data, paths.split(rule.target), value)
    return calculated


def _visibility(form: FormDefinition, data: Any,
                conditions: dict[int, Any] | None = None) -> tuple[set[str], set[str]]:
    shown: dict[str, bool] = {}
    hidden: set[str] = set()
    for rule in form.rules:
        if rule.action in ("show", "show_page"):
            name = ("page:" if rule.action == "show_page" else "") + str(rule.target)
            shown[name] = shown.get(name, False) or _truthy(_run(rule.when, data, conditions))
        elif rule.action in ("hide", "hide_page") \
                and _truthy(_run(rule.when, data, conditions)):
            hidden.add(("page:" if rule.action == "hide_page" else "") + str(rule.target))
    hidden |= {name for name, visible in shown.items() if not visible}
    keys = {h for h in hidden if not h.startswith("page:")}
    pages = {h[5:] for h in hidden if h.startswith("page:")}
    return keys, pages


def _prune(form: FormDefinition, fld: Field, value: Any, hidden_keys: set[str],
           hidden_pages: set[str]) -> Any:
    if fld.widget == "fieldset" and isinstance(value, dict):
        active = {c.name: c for c in fld.active_children(value)}
        conditional = {c.name for c in fld.children if c.conditions}
        result = {}
        for name, item in value.items():
            child = active.get(name)
            if child is None:
                if name in conditional:
                    continue  # a conditional field whose condition does not hold
                result[name] = item
                continue
            if child.key in hidden_keys:
                continue
            page = form.page_of.get(child.key)
            if page is not None and page in hidden_pages and child.key not in form.calculated:
                continue
            result[name] = _prune(form, child, item, hidden_keys, hidden_pages)
        return result
    if fld.item is not None and fld.widget == "repeatable" and isinstance(value, list):
        return [_prune(form, fld.item, item, hidden_keys, hidden_pages) for item in value]
    return value


def _run(rule: Any, data: Any, conditions: dict[int, Any] | None = None) -> Any:
    """``rule`` applied to ``data``. With ``conditions``, results are kept there by the
    rule's identity, for one pass over unchanged answers: a condition written the same way
    in several rules is one object (the definition shares them) and runs once."""
    if rule is None:
        return None
    if conditions is None:
        return formats_and_rules.evaluate(rule, data)
    key = id(rule)
    if key not in conditions:
        conditions[key] = formats_and_rules.evaluate(rule, data)
    return conditions[key]


def _truthy(value: Any) -> bool:
    """JsonLogic truthiness: empty arrays are false, like empty strings and zero."""
    return bool(value)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}



def _put(data: Any, segments: list[str], value: Any) -> None:
    if not isinstance(data, dict) or not segments:
        return
    for segment in segments[:-1]:
        nxt = data.get(segment)
        if not isinstance(nxt, dict):
            nxt = {}
            data[segment] = nxt
        data = nxt
    if value is None:
        data.pop(segments[-1], None)
    else:
        data[segments[-1]] = value


def initial_answers(form: FormDefinition) -> Any:
    """The answers a new application starts with: the schema's ``default`` values."""
    value = _defaults(form.root)
    if value is None and form.root_is_object:
        return {}
    return value


def _defaults(fld: Field) -> Any:
    if fld.has_default:
        return copy.deepcopy(fld.default)
    if fld.widget == "fieldset":
        result = {}
        for child in fld.children:
            if child.conditions:
                continue
            value = _defaults(child)
            if value is not None:
                result[child.name] = value
        return result or None
    return None
