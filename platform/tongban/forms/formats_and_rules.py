"""The form engine's access to the Chinese formats and the JsonLogic rules, in one place.

Keeps the engine's calls stable (and guarded) whatever those modules grow into.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import jsonschema

from tongban.forms import formats, logic


def format_checker() -> jsonschema.FormatChecker:
    return formats.format_checker()


def explain_format(format_name: str, value: Any) -> str | None:
    try:
        return formats.explain(format_name, value)
    except Exception:  # noqa: BLE001 - a faulty explanation must not hide the error itself
        return None


_COMPACT_FORMATS = {"cn-id-number", "cn-uscc", "cn-mobile", "cn-postal-code", "cn-region"}


def normalize_format(format_name: str | None, value: str) -> str:
    """Tidy a typed code: full-width to half-width, no spaces or hyphens (GOV.UK "ignore
    unwanted characters"), upper-case check letters."""
    if format_name in _COMPACT_FORMATS:
        value = unicodedata.normalize("NFKC", value)
        value = "".join(ch for ch in value if ch not in " -\u00a0\u200b()")
    elif format_name in ("email", "cn-amount"):
        value = unicodedata.normalize("NFKC", value).strip()
    if format_name:
        tidied = formats.normalise(format_name, value)
        if isinstance(tidied, str):
            value = tidied
    return value


def evaluate(rule: Any, data: Any) -> Any:
    return logic.evaluate(rule, data)


def check_rule(rule: Any) -> list[str]:
    return list(logic.check_rule(rule))


def referenced_vars(rule: Any) -> set[str]:
    return set(logic.referenced_vars(rule))
