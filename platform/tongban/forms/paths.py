"""Dotted paths: how fields are named in ui hints, logic rules, posted forms and errors.

A *key* names a field in the schema (``applicant.name``, ``members.name``: array items add no
segment). An *instance path* names a value in the answers (``members.0.name``). A ``.`` inside a
property name is written ``~1`` and a ``~`` is written ``~0``, as in JSON pointers.
"""

from __future__ import annotations

import copy
import re
from typing import Any

ROOT_NAME = "value"
"""HTML name of the answer when the schema's root is not an object."""

_ID_UNSAFE = re.compile(r"[^\w-]", re.UNICODE)


def escape(segment: str) -> str:
    return segment.replace("~", "~0").replace(".", "~1")


def unescape(segment: str) -> str:
    return segment.replace("~1", ".").replace("~0", "~")


def join(*segments: str | int) -> str:
    return ".".join(escape(str(s)) for s in segments)


def split(path: str) -> list[str]:
    if not path:
        return []
    return [unescape(s) for s in path.split(".")]


def child(parent: str, segment: str | int) -> str:
    seg = escape(str(segment))
    return f"{parent}.{seg}" if parent else seg


def html_name(instance_path: str) -> str:
    """The ``name`` attribute for a value; the root of a non-object schema is ``value``."""
    return instance_path or ROOT_NAME


def element_id(instance_path: str, suffix: str = "") -> str:
    """A stable element id for the input of a value (``f-members-0-name``)."""
    name = instance_path.replace(".", "-") if instance_path else ROOT_NAME
    return "f-" + _ID_UNSAFE.sub("-", name) + suffix


def is_index(segment: str) -> bool:
    return segment.isdigit() and (segment == "0" or not segment.startswith("0"))


def pointer(segments: list[str | int]) -> str:
    """A JSON pointer (RFC 6901) for the segments."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def get_in(data: Any, segments: list[str]) -> Any:
    """The value at ``segments`` inside nested answers, or None."""
    for segment in segments:
        if isinstance(data, dict):
            data = data.get(segment)
        elif isinstance(data, list) and is_index(segment) and int(segment) < len(data):
            data = data[int(segment)]
        else:
            return None
    return data


def copy_answers(value: Any) -> Any:
    """A deep copy of answers (JSON-like: dicts, lists, strings, numbers, booleans, None),
    several times faster than ``copy.deepcopy``, which it falls back to for anything else."""
    if isinstance(value, dict):
        return {key: copy_answers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_answers(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return copy.deepcopy(value)
