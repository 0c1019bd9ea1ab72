"""Read every definition file, check it against its meta-schema, and report problems in place.

A problem names the file, the line and column, the JSON pointer and what was expected. Nothing
here touches the database: `tongban defs check` and `publish` both start from `load_directory`.
The design-time lint (lint.py) runs here too: its errors join the problems (they block
publishing), its warnings are kept apart in `warnings`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..forms.definition import FormDefinitionError, load_form
from ..i18n import N_
from .deadlinecheck import PRESETS_FILE
from .flowcheck import (
    DepartmentInfo,
    check_departments,
    check_flow,
    check_flow_answers,
    check_flow_points,
    department_infos,
)
from .formcheck import check_form_document
from .lint import lint_flow, lint_form, lint_guide_elements, lint_materials, lint_service
from .material_types import (
    CATALOGUE_CODE as MATERIALS_CODE,
)
from .material_types import (
    CATALOGUE_FILE as MATERIALS_FILE,
)
from .material_types import (
    CATALOGUE_KIND as MATERIALS_KIND,
)
from .material_types import (
    Catalogue,
    check_catalogue,
    compile_catalogue,
    unknown_type_problem,
)
from .materials import check_materials
from .problems import Phrase, Problem
from .schemacheck import meta_validator, pointer_of, schema_problems
from .tree import MemoryTree, Tree
from .yamlpos import Document, ReadError, read_json, read_yaml

SERVICE_DIR = "workflow_definitions"
FORM_DIR = "form_definitions"
FLOW_DIR = "workflow_definitions/flows"
DEPARTMENTS_FILE = "workflow_definitions/departments.yaml"
CALENDAR_DIR = "workflow_definitions/calendars"
RULES_DIR = "workflow_definitions/rules"
LEDGER_DIR = "workflow_definitions/ledgers"
CATALOGUE_CODE = "departments"


@dataclass
class LoadedDefinition:
    kind: str  # "service" | "form" | "flow" | "departments" | "calendar" | "rules" | "ledger"
    code: str
    path: str
    content: dict[str, Any]
    # The parsed file with its positions, kept where publishing checks it again (rule sets'
    # effective ranges against the database).
    document: Document | None = field(default=None, repr=False, compare=False)


@dataclass
class DefinitionSet:
    services: dict[str, LoadedDefinition] = field(default_factory=dict)
    forms: dict[str, LoadedDefinition] = field(default_factory=dict)
    flows: dict[str, LoadedDefinition] = field(default_factory=dict)
    departments: LoadedDefinition | None = None  # the catalogue, when the folder has one
    material_types: LoadedDefinition | None = None  # materials.yaml, when the folder has one
    calendars: dict[str, LoadedDefinition] = field(default_factory=dict)  # parents first
    rules: dict[str, LoadedDefinition] = field(default_factory=dict)  # points rule sets
    ledgers: dict[str, LoadedDefinition] = field(default_factory=dict)  # points ledgers
    bundles: dict[str, LoadedDefinition] = field(default_factory=dict)  # 一件事 bundles
    problems: list[Problem] = field(default_factory=list)  # errors: each blocks publishing
    warnings: list[Problem] = field(default_factory=list)  # lint warnings: shown, never blocking

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def findings(self) -> list[Problem]:
        """Errors and warnings together, by file and place (for a problems panel)."""
        return sorted([*self.problems, *self.warnings],
                      key=lambda p: (p.file, p.line, p.column))

    def keep(self, found: list[Problem]) -> list[Problem]:
        """Put a checker's warnings aside; return its errors (what stops a definition)."""
        self.warnings.extend(p for p in found if p.severity == "warning")
        return [p for p in found if p.severity != "warning"]

    def all(self) -> list[LoadedDefinition]:
        """Publishing order: the catalogue first (departments exist before services name them),
        then the calendars (a calendar after the one it extends), the rule sets before the
        services that name them."""
        catalogue = [item for item in (self.departments, self.material_types) if item is not None]
        return [*catalogue, *self.calendars.values(), *self.rules.values(), *self.forms.values(),
                *self.flows.values(), *self.services.values(), *self.ledgers.values(),
                *self.bundles.values()]


def _read(path: Tree, reader: Callable[[str], Document], file: str,
          problems: list[Problem]) -> Document | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(_problem(file, 1, 1, "", N_("the file is not UTF-8 text")))
        return None
    try:
        return path.read_document(reader) if isinstance(path, MemoryTree) else reader(text)
    except ReadError as exc:
        problems.append(Problem(file, exc.line, exc.column, "", exc.message, exc.template,
                                exc.params))
        return None


FormChecker = Callable[[Document, str], list[Problem]]


def _material_problems(document: Document, file: str,
                       form: LoadedDefinition) -> list[Problem]:
    """The guide's materials that the form does not collect, and an applicant_name that is not
    one of its text questions, placed in the service file."""
    compiled = load_form(form.content, name=form.path)
    problems = []
    for path, template, params in check_materials(document.data, compiled):
        line, column = document.position(path)
        # A required material with neither a question nor a counter check is the one finding
        # placed at the material's code: the lint rule material-not-collected.
        rule = "material-not-collected" if path[-1] == "code" else ""
        problems.append(Problem(file, line, column, pointer_of(path), template % params,
                                template, params, rule=rule))
    return problems


def _form_lint(document: Document, file: str) -> list[Problem]:
    try:
        compiled = load_form(document.data, name=file)
    except FormDefinitionError:
        return []  # a custom form checker let through what the engine refuses: nothing to lint
    return lint_form(document, file, compiled)


def _load_catalogue(root: Tree, result: DefinitionSet) -> dict[str, DepartmentInfo]:
    path = root / DEPARTMENTS_FILE
    if not path.exists():
        return {}
    document = _read(path, read_yaml, DEPARTMENTS_FILE, result.problems)
    if document is None:
        return {}
    found = schema_problems(document, meta_validator("departments"), DEPARTMENTS_FILE)
    if found:
        result.problems.extend(found)
        return {}
    found = check_departments(document, DEPARTMENTS_FILE)
    result.problems.extend(found)
    if not found:
        result.departments = LoadedDefinition("departments", CATALOGUE_CODE, DEPARTMENTS_FILE,
                                              document.data)
    return department_infos(document.data)


def _load_material_types(root: Tree, result: DefinitionSet) -> Catalogue | None:
    """The material catalogue's types: empty when the tree has none (then no form or service
    may name a material type), None when the file has problems of its own (reported; the
    forms and services naming its types are not judged against a broken list)."""
    path = root / MATERIALS_FILE
    if not path.exists():
        return {}
    document = _read(path, read_yaml, MATERIALS_FILE, result.problems)
    if document is None:
        return None
    found = schema_problems(document, meta_validator("materials"), MATERIALS_FILE)
    if not found:
        found = check_catalogue(document, MATERIALS_FILE)
    result.problems.extend(found)
    if found:
        return None
    result.material_types = LoadedDefinition(MATERIALS_KIND, MATERIALS_CODE, MATERIALS_FILE,
                                             document.data)
    return compile_catalogue(document.data)


def _form_material_problems(document: Document, file: str,
                            catalogue: Catalogue | None) -> list[Problem]:
    """Each file question's ui ``material`` names a type of the catalogue."""
    ui_fields = (document.data.get("ui") or {}).get("fields") or {}
    named = {key: hints["material"] for key, hints in ui_fields.items()
             if isinstance(hints, dict) and isinstance(hints.get("material"), str)}
    if not named or catalogue is None:
        return []
    try:
        file_keys = set(load_form(document.data, name=file).file_keys)
    except FormDefinitionError:
        return []  # the form's own problems are reported
    problems = []
    for key, code in named.items():
        path: list[str | int] = ["ui", "fields", key, "material"]
        if key not in file_keys:
            line, column = document.position(path)
            problems.append(_problem(file, line, column, pointer_of(path),
                                     N_('"%(key)s" names a material type but is not a file '
                                        "question"), key=key))
        elif code not in catalogue:
            problems.append(unknown_type_problem(document, file, path, code, catalogue))
    return problems


def _service_material_problems(document: Document, file: str,
                               catalogue: Catalogue | None) -> list[Problem]:
    """Each of the service's materials that names a ``type`` names one of the catalogue."""
    if catalogue is None:
        return []
    return [unknown_type_problem(document, file, ["materials", index, "type"],
                                 material["type"], catalogue)
            for index, material in enumerate(document.data.get("materials") or [])
            if "type" in material and material["type"] not in catalogue]


def calendar_schema_problems(document: Document, file: str) -> list[Problem]:
    """A calendar file against platform/tongban/schemas/calendar.schema.json."""
    return schema_problems(document, meta_validator("calendar"), file)


def _load_calendars(root: Tree, result: DefinitionSet,
                    departments: dict[str, DepartmentInfo]) -> None:
    """The calendars of workflow_definitions/calendars/ (kind "calendar", code = id = the file
    name), checked together so that one may extend another."""
    from ..worktime.check import check_documents

    documents = []
    for path in sorted([*(root / CALENDAR_DIR).glob("*.yaml"), *(root / CALENDAR_DIR).glob("*.yml")]):
        file = str(path.relative_to(root))
        document = _read(path, read_yaml, file, result.problems)
        if document is not None:
            documents.append((file, path.stem, document))
    regions = {info.region for info in departments.values() if info.region}
    compiled, problems = check_documents(documents, schema=calendar_schema_problems,
                                         regions=regions)
    result.problems.extend(problems)
    by_id = {document.data["id"]: (file, document) for file, _, document in documents
             if isinstance(document.data, dict) and document.data.get("id") in compiled}
    for calendar_id in compiled:  # compiled in dependency order
        file, document = by_id[calendar_id]
        result.calendars[calendar_id] = LoadedDefinition("calendar", calendar_id, file,
                                                         document.data)


def _load_rules(root: Tree, result: DefinitionSet) -> None:
    """The points rule sets of workflow_definitions/rules/ (kind "rules", code = id = the file
    name), each checked on its own (docs/points.md)."""
    from ..points.check import check_document

    for path in sorted([*(root / RULES_DIR).glob("*.yaml"), *(root / RULES_DIR).glob("*.yml")]):
        file = str(path.relative_to(root))
        document = _read(path, read_yaml, file, result.problems)
        if document is None:
            continue
        found = check_document(document, file, expected_id=path.stem)
        result.problems.extend(found)
        if not found:
            result.rules[path.stem] = LoadedDefinition("rules", path.stem, file, document.data,
                                                       document)


def _load_ledgers(root: Tree, result: DefinitionSet) -> None:
    """The points ledgers of workflow_definitions/ledgers/ (kind "ledger", code = the file name)."""
    from ..points.ledger.definition import check_ledger

    for path in sorted([*(root / LEDGER_DIR).glob("*.yaml"), *(root / LEDGER_DIR).glob("*.yml")]):
        file = str(path.relative_to(root))
        document = _read(path, read_yaml, file, result.problems)
        if document is None:
            continue
        found = schema_problems(document, meta_validator("ledger"), file)
        if not found:
            found = check_ledger(document, file, path.stem)
        result.problems.extend(found)
        if not found:
            result.ledgers[path.stem] = LoadedDefinition("ledger", path.stem, file, document.data)


def _load_presets(root: Tree, result: DefinitionSet) -> dict[str, Any]:
    """The deadline presets flows may name: the tree's own file when it has one (its problems
    reported with the rest), else the platform's."""
    from ..workflow.presets import load_presets, read_presets

    path = root / PRESETS_FILE
    if not path.exists():
        return {key: preset.raw for key, preset in load_presets().items()}
    presets, problems = read_presets(path.read_text(encoding="utf-8"), PRESETS_FILE)
    result.problems.extend(problems)
    return {key: preset.raw for key, preset in presets.items()}


@cache
def installed_connector_types() -> Mapping[str, Any]:
    """The connector types of the installed plugins (entry points), what definitions are
    checked against (the app's plugin manager loads the same entry points)."""
    from ..extend.manager import build, connector_types

    return connector_types(build())


def load_directory(root: Path | str | MemoryTree,
                   form_checker: FormChecker | None = None, *,
                   connector_types: Mapping[str, Any] | None = None) -> DefinitionSet:
    """Load every form JSON, the department catalogue, every flow and every service YAML under
    root (a directory, or a :class:`MemoryTree` of files in memory); collect every problem.
    A service's ``connectors:`` are checked against ``connector_types`` (by default the
    installed plugins': :func:`installed_connector_types`)."""
    root = Path(root) if isinstance(root, str) else root
    result = DefinitionSet()
    check_form = form_checker or check_form_document

    material_types = _load_material_types(root, result)
    for path in sorted([*(root / FORM_DIR).glob("*.json")]):
        file = str(path.relative_to(root))
        document = _read(path, read_json, file, result.problems)
        if document is None:
            continue
        found = check_form(document, file)
        if not found:
            found = _form_material_problems(document, file, material_types)
        if not found:
            found = result.keep(_form_lint(document, file))
        result.problems.extend(found)
        if not found:
            result.forms[path.stem] = LoadedDefinition("form", path.stem, file, document.data)

    departments = _load_catalogue(root, result)
    _load_calendars(root, result, departments)
    _load_rules(root, result)
    presets = _load_presets(root, result)
    _load_ledgers(root, result)

    services: list[tuple[str, Document, list[Problem]]] = []
    service_paths = [*(root / SERVICE_DIR).glob("*.yaml"), *(root / SERVICE_DIR).glob("*.yml")]
    for path in sorted(service_paths):
        file = str(path.relative_to(root))
        if file in (DEPARTMENTS_FILE, PRESETS_FILE, MATERIALS_FILE):
            continue
        document = _read(path, read_yaml, file, result.problems)
        if document is None:
            continue
        found = schema_problems(document, meta_validator("service"), file)
        services.append((file, document, found))
        if not found:  # a service's own department is known to flows as well
            own = document.data["department"]
            departments.setdefault(own["code"],
                                   DepartmentInfo(own["code"], own.get("parent"), None))

    flow_documents: dict[str, tuple[Document, str]] = {}
    for path in sorted([*(root / FLOW_DIR).glob("*.yaml"), *(root / FLOW_DIR).glob("*.yml")]):
        file = str(path.relative_to(root))
        document = _read(path, read_yaml, file, result.problems)
        if document is None:
            continue
        found = schema_problems(document, meta_validator("flow"), file)
        if not found:
            found = check_flow(document, file, path.stem, departments, presets)
        result.problems.extend(found)
        if not found:
            flow_documents[path.stem] = (document, file)
            result.flows[path.stem] = LoadedDefinition("flow", path.stem, file, document.data)

    seen_codes: dict[str, str] = {}
    for file, document, found in services:
        if not found:
            data = document.data
            code = data["code"]
            if code in seen_codes:
                line, column = document.position(["code"])
                found.append(_problem(file, line, column, "/code",
                                      N_('service code "%(code)s" is already used by %(other)s'),
                                      code=code, other=seen_codes[code]))
            form_file = root / FORM_DIR / f"{data['form']}.json"
            if not form_file.exists():
                line, column = document.position(["form"])
                found.append(_problem(file, line, column, "/form",
                                      N_('the form "%(form)s" does not exist: expected '
                                         "%(folder)s/%(form)s.json"),
                                      form=data["form"], folder=FORM_DIR))
            elif data["form"] in result.forms:
                form = result.forms[data["form"]]
                found.extend(_material_problems(document, file, form)
                             or lint_materials(document, file,
                                               load_form(form.content, name=form.path)))
            found.extend(_flow_problems(root, document, file, result, flow_documents,
                                        departments))
            found.extend(result.keep(lint_service(document, file)))
            found.extend(result.keep(lint_guide_elements(document, file)))
            found.extend(_calendar_problems(root, document, file))
            found.extend(_service_material_problems(document, file, material_types))
            found.extend(_rules_problems(root, document, file))
            found.extend(_life_event_problems(document, file))
            if data.get("precheck"):
                found.extend(_precheck_problems(document, file, result))
            if data.get("connectors"):
                found.extend(_connector_problems(document, file, result, connector_types))
            seen_codes.setdefault(code, file)
        result.problems.extend(found)
        if not found:
            result.services[document.data["code"]] = LoadedDefinition(
                "service", document.data["code"], file, document.data)
    _load_bundles(root, result, {document.data.get("code") for _, document, _ in services
                                 if isinstance(document.data, dict)})
    return result


def _load_bundles(root: Tree, result: DefinitionSet, service_codes: set[Any]) -> None:
    """The 一件事 bundles of workflow_definitions/bundles/ (kind "bundle", code from the file),
    checked against the services loaded (docs/bundles.md). A bundle naming a service whose
    own file has problems is not loaded, and says nothing more: the service's problems do."""
    from .bundles import BUNDLE_DIR, check_bundle

    folder = root / BUNDLE_DIR
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        file = str(path.relative_to(root))
        document = _read(path, read_yaml, file, result.problems)
        if document is None:
            continue
        found, complete = check_bundle(document, file, result.services, result.forms,
                                       service_codes)
        result.problems.extend(found)
        if not found and complete:
            code = document.data["code"]
            result.bundles[code] = LoadedDefinition("bundle", code, file, document.data)


def _connector_problems(document: Document, file: str, result: DefinitionSet,
                        types: Mapping[str, Any] | None) -> list[Problem]:
    """The service's ``connectors:`` against the plugins' connector types and its form."""
    from ..connectors.check import check_connectors

    form = result.forms.get(document.data["form"])
    keys = set(load_form(form.content, name=form.path).fields) if form is not None else None
    return check_connectors(document, file,
                            installed_connector_types() if types is None else types, keys)


def _precheck_problems(document: Document, file: str, result: DefinitionSet) -> list[Problem]:
    """The service's eligibility pre-check (``precheck:``) against its form and materials."""
    from ..precheck.check import check_precheck

    form = result.forms.get(document.data["form"])
    return check_precheck(document, file,
                          load_form(form.content, name=form.path) if form is not None else None)


def _problem(file: str, line: int, column: int, pointer: str, template: str,
             **params: Any) -> Problem:
    """A problem whose message the console shows in the page's language."""
    return Problem(file, line, column, pointer, template % params if params else template,
                   template, params)


def _known(folder: Tree) -> str | Phrase:
    """The names of the YAML files in ``folder``, or "none"."""
    return ", ".join(sorted(p.stem for p in folder.glob("*.y*ml"))) or Phrase(N_("none"))


def _calendar_problems(root: Tree, document: Document, file: str) -> list[Problem]:
    """The service's `calendar:` names a calendar file."""
    calendar = document.data.get("calendar")
    if calendar is None:
        return []
    folder = root / CALENDAR_DIR
    if (folder / f"{calendar}.yaml").exists() or (folder / f"{calendar}.yml").exists():
        return []
    line, column = document.position(["calendar"])
    return [_problem(file, line, column, "/calendar",
                     N_('the calendar "%(name)s" does not exist: expected %(folder)s/%(name)s.yaml '
                        "(calendars: %(known)s)"),
                     name=calendar, folder=CALENDAR_DIR, known=_known(folder))]


def _rules_problems(root: Tree, document: Document, file: str) -> list[Problem]:
    """The service's `rules:` names a rule set file."""
    rules = document.data.get("rules")
    if rules is None:
        return []
    folder = root / RULES_DIR
    if (folder / f"{rules}.yaml").exists() or (folder / f"{rules}.yml").exists():
        return []
    line, column = document.position(["rules"])
    return [_problem(file, line, column, "/rules",
                     N_('the rule set "%(name)s" does not exist: expected %(folder)s/%(name)s.yaml '
                        "(rule sets: %(known)s)"),
                     name=rules, folder=RULES_DIR, known=_known(folder))]


def _life_event_problems(document: Document, file: str) -> list[Problem]:
    """Each of the service's `life_events:` is an event of the portal's catalogue."""
    from difflib import get_close_matches

    from ..search.life_events import BY_ID

    problems = []
    for index, event in enumerate(document.data.get("life_events") or []):
        if event in BY_ID:
            continue
        close = get_close_matches(event, list(BY_ID), n=1)
        line, column = document.position(["life_events", index])
        known = ", ".join(BY_ID)
        if close:
            problems.append(_problem(
                file, line, column, f"/life_events/{index}",
                N_('unknown life event "%(event)s" (did you mean "%(close)s"?); expected one of: '
                   "%(known)s"), event=event, close=close[0], known=known))
        else:
            problems.append(_problem(file, line, column, f"/life_events/{index}",
                                     N_('unknown life event "%(event)s"; expected one of: %(known)s'),
                                     event=event, known=known))
    return problems


def _flow_problems(root: Tree, document: Document, file: str, result: DefinitionSet,
                   flow_documents: dict[str, tuple[Document, str]],
                   catalogue: dict[str, DepartmentInfo]) -> list[Problem]:
    """The service's `flow:` names a flow file, the flow reads only questions of the
    service's form, and every task has someone to act on it with the answers that form allows
    (those problems are placed in the flow file)."""
    data = document.data
    flow = data.get("flow")
    if flow is None:
        return []
    if not (root / FLOW_DIR / f"{flow}.yaml").exists() \
            and not (root / FLOW_DIR / f"{flow}.yml").exists():
        line, column = document.position(["flow"])
        return [_problem(file, line, column, "/flow",
                         N_('the flow "%(name)s" does not exist: expected %(folder)s/%(name)s.yaml '
                            "(flows: %(known)s)"),
                         name=flow, folder=FLOW_DIR, known=_known(root / FLOW_DIR))]
    if flow not in flow_documents or data["form"] not in result.forms:
        return []  # the flow's or the form's own problems are already reported
    flow_document, flow_file = flow_documents[flow]
    compiled = load_form(result.forms[data["form"]].content, name=data["form"])
    found = check_flow_answers(flow_document, flow_file, compiled, data["form"], data["code"])
    found += check_flow_points(flow_document, flow_file, data["code"], data.get("rules"))
    if not found:
        found = result.keep([p for p in lint_flow(flow_document, flow_file, compiled,
                                                  data["code"], catalogue)
                             if p not in result.warnings])
    if found:
        result.flows.pop(flow, None)
        result.problems.extend(p for p in found if p not in result.problems)
    return []
