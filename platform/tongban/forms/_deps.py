"""Lazy access to the sibling modules for Chinese formats and JsonLogic.

``formats``/``regions`` and ``logic`` are written alongside this engine; until they exist the
engine falls back to jsonschema's own format checker and to panzi-json-logic directly.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

import jsonschema


@functools.cache
def _formats_module() -> Any:
    try:
        from tongban.forms import formats
    except ImportError:
        return None
    return formats


@functools.cache
def _logic_module() -> Any:
    try:
        from tongban.forms import logic
    except ImportError:
        return None
    return logic


def format_checker() -> jsonschema.FormatChecker:
    module = _formats_module()
    if module is not None and hasattr(module, "format_checker"):
        return module.format_checker()
    return jsonschema.Draft202012Validator.FORMAT_CHECKER


def explain_format(format_name: str, value: Any) -> str | None:
    module = _formats_module()
    if module is None or not hasattr(module, "explain"):
        return None
    try:
        return module.explain(format_name, value)
    except Exception:  # noqa: BLE001 - a faulty explanation must not hide the error itself
        return None


_COMPACT_FORMATS = {"cn-id-number", "cn-uscc", "cn-mobile", "cn-postal-code", "cn-region"}


def normalize_format(format_name: str | None, value: str) -> str:
    """Tidy a typed code: full-width to half-width, no spaces or hyphens (GOV.UK "ignore
    unwanted characters"), upper-case check letters."""
    if format_name in _COMPACT_FORMATS:
        value = unicodedata.normalize("NFKC", value)
        value = "".join(ch for ch in value if ch not in " -\u00a0\u200b()")
        if format_name in ("cn-id-number", "cn-uscc"):
            value = value.upper()
    elif format_name in ("email", "cn-amount"):
        value = unicodedata.normalize("NFKC", value).strip()
    module = _formats_module()
    if format_name and module is not None and hasattr(module, "normalise"):
        tidied = module.normalise(format_name, value)
        if isinstance(tidied, str):
            value = tidied
    return value


def evaluate(rule: Any, data: Any) -> Any:
    module = _logic_module()
    if module is not None and hasattr(module, "evaluate"):
        return module.evaluate(rule, data)
    from json_logic import jsonLogic

    return jsonLogic(rule, data)


def check_rule(rule: Any) -> list[str]:
    module = _logic_module()
    if module is not None and hasattr(module, "check_rule"):
        return list(module.check_rule(rule))
    return []


# Operators whose later arguments are evaluated against each element, not the form data.
_SCOPED_OPERATORS = {"map", "filter", "reduce", "all", "none", "some"}


def referenced_vars(rule: Any) -> set[str]:
    module = _logic_module()
    if module is not None and hasattr(module, "referenced_vars"):
        return set(module.referenced_vars(rule))
    found: set[str] = set()
    _walk_vars(rule, found)
    return found


def _walk_vars(node: Any, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk_vars(item, found)
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    ((op, args),) = node.items()
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if isinstance(name, str) and name:
            found.add(name)
        return
    if op in _SCOPED_OPERATORS and isinstance(args, list) and args:
        _walk_vars(args[0], found)
        return
    _walk_vars(args, found)

