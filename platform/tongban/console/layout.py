"""Where a service's files live in the repository layout, and their text.

A working copy, an export zip and the text view of an editor all hold exactly these files:
`workflow_definitions/<code>.yaml` (the service), the form, flow and rule set it names, and the
service's test cases `workflow_definitions/tests/<code>/<case>.yaml` (never published: they
travel with the working copy and are run before each publish, console/service_cases.py).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from io import StringIO
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ..definitions.loader import FLOW_DIR, FORM_DIR, RULES_DIR, SERVICE_DIR
from ..models import DefinitionVersion

SERVICE_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$"  # service.schema.json /code
CASES_DIR = f"{SERVICE_DIR}/tests"
CASE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"  # a test case's file name, without .yaml
# What a service file names, in publishing order (a rule set before the service naming it).
NAMED_KINDS = ("rules", "form", "flow")
_CACHE_LOCK = threading.Lock()  # for _RENDERED and _PARSED
_RENDERED: dict[tuple[str, str], str] = {}  # (kind, content hash) -> the text


def path_of(kind: str, code: str) -> str:
    folder, suffix = {"service": (SERVICE_DIR, "yaml"), "form": (FORM_DIR, "json"),
                      "flow": (FLOW_DIR, "yaml"), "rules": (RULES_DIR, "yaml")}[kind]
    return f"{folder}/{code}.{suffix}"


def kind_of(path: str) -> tuple[str, str] | None:
    """(kind, code) of a service's file path, None for any other path."""
    for kind in ("service", *NAMED_KINDS):
        folder, _, suffix = path_of(kind, "\0").partition("\0")
        if path.startswith(folder) and path.endswith(suffix):
            code = path[len(folder):-len(suffix)]
            if code and "/" not in code and "\\" not in code and not code.startswith("."):
                return kind, code
    return None


def case_path(code: str, name: str) -> str:
    return f"{CASES_DIR}/{code}/{name}.yaml"


def case_of(path: str) -> tuple[str, str] | None:
    """(service code, case name) of a test case's path, None for any other path."""
    if not path.startswith(CASES_DIR + "/") or not path.endswith(".yaml"):
        return None
    code, _, name = path[len(CASES_DIR) + 1:-len(".yaml")].partition("/")
    if re.fullmatch(SERVICE_CODE_PATTERN, code) and re.fullmatch(CASE_NAME_PATTERN, name):
        return code, name
    return None


def is_case_of(path: str, code: str) -> bool:
    found = case_of(path)
    return found is not None and found[0] == code


def case_files(code: str, files: dict[str, str]) -> dict[str, str]:
    """name -> text of the service's test cases among ``files``, by name."""
    return {case[1]: files[path] for path in sorted(files)
            if (case := case_of(path)) is not None and case[0] == code}


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def render_version(row: DefinitionVersion) -> str:
    """A published version's text, rendered once per content: checking a working copy renders
    what is published on every save. (Keyed by the content's hash, not the row's id: another
    database, or the same one reset, reuses ids.)"""
    key = (row.kind, row.content_hash)
    with _CACHE_LOCK:
        text = _RENDERED.get(key)
    if text is None:
        text = render(row.kind, row.content)
        with _CACHE_LOCK:
            _RENDERED[key] = text
            while len(_RENDERED) > 256:
                del _RENDERED[next(iter(_RENDERED))]
    return text


def render(kind: str, content: Any) -> str:
    """A published content as its file's text (JSON: 2-space indent; YAML: block style)."""
    if kind == "form":
        return json.dumps(content, ensure_ascii=False, indent=2) + "\n"
    out = StringIO()
    _yaml().dump(content, out)
    return out.getvalue()


_PARSED: dict[str, Any] = {}
_NOT_PARSED = object()


def parse(path: str, text: str) -> Any:
    """The plain data of a file's text, None when it does not parse (the loader says why).
    A YAML text read before is not read again (every page of a working copy reads its service
    file, and ruamel's reading is the slow part): the newest 256 results are kept, and each
    caller gets its own copy of the data."""
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    with _CACHE_LOCK:
        data = _PARSED.get(text)
    if data is None:
        try:
            data = _plain(YAML(typ="safe").load(text))
        except (ValueError, YAMLError):
            data = _NOT_PARSED
        with _CACHE_LOCK:
            _PARSED[text] = data
            while len(_PARSED) > 256:
                del _PARSED[next(iter(_PARSED))]
    return None if data is _NOT_PARSED else copy.deepcopy(data)


def _plain(value: Any) -> Any:
    """YAML dates and numbers-as-keys as the loader's JSON-like data holds them."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def named_files(code: str, service_text: str | None) -> dict[str, tuple[str, str]]:
    """path -> (kind, code) of the service file and the files its text names."""
    found = {path_of("service", code): ("service", code)}
    data = parse(path_of("service", code), service_text) if service_text else None
    if isinstance(data, dict):
        for kind in NAMED_KINDS:
            name = data.get(kind)
            if isinstance(name, str) and kind_of(path_of(kind, name)) == (kind, name):
                found[path_of(kind, name)] = (kind, name)
    return found
