"""Design-time lint: what a service needs before it goes live, beyond a file that loads.

The format and graph checks say whether a definition can run; these rules say whether people can
use it: GOV.UK Forms' content limits, both languages, no colour-only cues, questions a screen
reader can tell apart, a guide whose promise keeps within the law, and a flow whose every task has
someone who can act on it. The loader runs them (so `defs check`, `defs publish` and the console's
draft check all see them); each finding is a Problem with its rule id and a severity: "error"
blocks publishing, "warning" is shown and does not. docs/definitions.md lists every rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..forms import paths
from ..forms.definition import FormDefinition
from ..forms.fields import Field
from .flowcheck import DepartmentInfo, covered, form_key
from .formcheck import segments
from .materials import always_required
from .problems import Problem, Severity
from .schemacheck import pointer_of
from .yamlpos import Document

# GOV.UK Forms' limits (alphagov/forms-admin; see ../shared/reference/admin-counter-anchors.md §A
# and forms-anchors.md §1.1).
LABEL_MAX = 250
"""Question text: forms-admin app/models/page.rb (question_text, 250 characters)."""
HINT_MAX = 500
"""Hint text: forms-admin app/models/page.rb (hint_text, 500 characters)."""
DECLARATION_MAX = 2000
"""A declaration (a box that must be ticked): forms-admin app/input_objects/forms/
declaration_input.rb (2,000 characters)."""
AUTOCOMPLETE_OVER = 30
"""Single-choice lists longer than this render as an autocomplete in forms-runner
(app/models/question/selection.rb); radios or a bare select that long are hard to use."""
MULTIPLE_CHOICE_MAX = 30
"""Multiple choice: at most 30 options (forms-admin selection/base_options_input.rb)."""
SINGLE_CHOICE_MAX = 3000
"""Single choice: at most 3,000 options (forms-admin selection/base_options_input.rb)."""
REPEAT_MAX = 50
"""Answers to one repeatable question: forms-runner app/models/repeatable_step.rb MAX_ANSWERS."""
PAGE_QUESTIONS_MAX = 10
"""Questions on one page. GOV.UK asks one question per page; the platform allows more (a page of
an address or a contact block), but a page past ten is a wall of inputs for a 长辈版 user who
reads at 18 px and more, and one error summary per page grows with it (our number)."""

RULES: dict[str, Severity] = {
    "label-missing": "error",
    "label-too-long": "error",
    "hint-too-long": "error",
    "text-missing-language": "error",
    "colour-only-cue": "error",
    "choices-need-autocomplete": "error",
    "too-many-choices": "error",
    "too-few-choices": "error",
    "duplicate-label": "error",
    "too-many-answers": "warning",
    "page-too-many-questions": "warning",
    "placeholder-text": "warning",
    "promised-over-statutory": "error",
    "guide-without-contact": "warning",
    "material-not-collected": "error",  # found by materials.py, tagged by the loader
    "optional-material-required": "error",
    "task-without-actor": "error",  # a warning when the answer is free text
}
"""Every rule and its usual severity, as docs/definitions.md ("Design-time lint") lists them."""

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}

# Words that point at a colour instead of a text or a symbol: "red fields", "标红的项". WCAG 1.4.1
# and the 适老化 spec (colour never the only signal) refuse them.
_COLOURS_ZH = "红|绿|黄|蓝|橙"
_COLOURS_EN = "red|green|yellow|blue|orange"
COLOUR_CUES = (
    re.compile(rf"标(?:{_COLOURS_ZH})|(?:{_COLOURS_ZH})(?:框|字|星)|以(?:{_COLOURS_ZH})色|"
               rf"(?:{_COLOURS_ZH})色(?:的)?(?:字段|项|部分|标记|文字|字体|字|星号|框|边框|提示|"
               "标注|内容|选项)"),
    re.compile(rf"\b(?:{_COLOURS_EN})\s+(?:fields?|text|box(?:es)?|asterisks?|marks?|items?|"
               r"borders?|labels?|questions?|parts?)\b|\b(?:marked|shown|highlighted|"
               rf"outlined|coloured|colored)\s+(?:in\s+)?(?:{_COLOURS_EN})\b", re.IGNORECASE),
)

# An option shown as its own value in digits and signs (a year, 310101, 1-5) reads the same in
# both languages: no English needed.
_NEUTRAL = re.compile(r"^[\d\s.,:/%+\-–~]+$")

Path = list[str | int]


class _Findings:
    """Problems of one file, each placed at the deepest existing node of its path."""

    def __init__(self, document: Document, file: str) -> None:
        self.document = document
        self.file = file
        self.problems: list[Problem] = []

    def add(self, path: Path, rule: str, message: str, severity: Severity = "error") -> None:
        if rule not in RULES:
            raise ValueError(f"lint rule {rule!r} is not in RULES (and so not documented)")
        # A JSON file's position tree is read from its text when first asked for.
        line, column = self.document.position(path) \
            if self.document.tree is not None or self.document.text is not None else (1, 1)
        problem = Problem(self.file, line, column, pointer_of(path), message,
                          severity=severity, rule=rule)
        if problem not in self.problems:
            self.problems.append(problem)


# --- forms ------------------------------------------------------------------------------------


def _ui(data: Mapping[str, Any]) -> Mapping[str, Any]:
    ui = data.get("ui")
    return ui if isinstance(ui, Mapping) else {}


def _ui_field(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    fields = _ui(data).get("fields")
    found = fields.get(key) if isinstance(fields, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _questions(form: FormDefinition) -> Iterator[Field]:
    """Every field people see a label for: the root and the items of a list are left out (an
    item is named by its list's item_label), and so is a hidden field."""
    seen: set[tuple[str, int]] = set()
    for fld in form.root.walk():
        if fld is form.root or fld.is_item or fld.widget == "hidden":
            continue
        if (fld.key, fld.variant) in seen:
            continue
        seen.add((fld.key, fld.variant))
        yield fld


def _is_declaration(fld: Field) -> bool:
    return fld.widget == "checkbox" and fld.has_const and fld.const is True


def _text_path(data: Mapping[str, Any], fld: Field, what: str, lang: str | None) -> Path:
    """Where a field's label or hint is written: in ui.fields when it is there, else the
    schema's title or description."""
    ui_key = "label" if what == "label" else "hint"
    ui_value = _ui_field(data, fld.key).get(ui_key)
    if ui_value is not None:
        path: Path = ["ui", "fields", fld.key, ui_key]
        return [*path, lang] if lang and isinstance(ui_value, Mapping) and lang in ui_value \
            else path
    return [*segments(fld.pointer), "title" if what == "label" else "description"]


def _quote(value: Any) -> str:
    return f'"{value}"'


def _shown_when(form: FormDefinition) -> dict[str, tuple[str, str]]:
    """Questions that one show rule of the shape {"==": [{"var": X}, value]} shows, as
    (X, value): two of them with the same X and different values are never on screen together."""
    found: dict[str, list[tuple[str, str]]] = {}
    for rule in form.rules:
        if rule.target is None or rule.action not in ("show", "hide"):
            continue
        test = rule.when if isinstance(rule.when, Mapping) and len(rule.when) == 1 else {}
        operator, args = next(iter(test.items()), ("", None))
        shape = None
        if rule.action == "show" and operator in ("==", "===") and isinstance(args, list) \
                and len(args) == 2 and isinstance(args[0], Mapping) \
                and isinstance(args[0].get("var"), str) \
                and isinstance(args[1], str | int | bool):
            shape = (args[0]["var"], repr(args[1]))
        found.setdefault(rule.target, []).append(shape or ("", ""))
    return {key: shapes[0] for key, shapes in found.items()
            if len(shapes) == 1 and shapes[0][0]}


class _FormLint:
    def __init__(self, document: Document, file: str, form: FormDefinition) -> None:
        self.data: Mapping[str, Any] = document.data
        self.form = form
        self.out = _Findings(document, file)
        self.shown_when = _shown_when(form)

    def apart(self, first: str, second: str) -> bool:
        """Never shown together: each shown by one rule on the same answer, for other values."""
        a, b = self.shown_when.get(first), self.shown_when.get(second)
        return a is not None and b is not None and a[0] == b[0] and a[1] != b[1]

    def run(self) -> list[Problem]:
        self.form_texts()
        for fld in _questions(self.form):
            self.question(fld)
        for index, page in enumerate(self.form.pages):
            self.page(index, page.id, page.keys)
        return self.out.problems

    # texts outside questions: the title, the description, pages and sections
    def form_texts(self) -> None:
        self.languages(["title"], self.data.get("title"), "the form's title")
        if self.data.get("description") is not None:
            self.languages(["description"], self.data["description"], "the form's description")
            self.colour_cue(["description"], self.data["description"], "the form's description")
        ui = _ui(self.data)
        for index, page in enumerate(ui.get("pages") or []):
            if not isinstance(page, Mapping):
                continue
            name = f"page {_quote(page.get('id'))}"
            for key in ("title", "hint"):
                if page.get(key) is not None:
                    what = f"the {key} of {name}"
                    self.languages(["ui", "pages", index, key], page[key], what)
                    self.colour_cue(["ui", "pages", index, key], page[key], what)
        for index, section in enumerate(ui.get("sections") or []):
            if isinstance(section, Mapping) and section.get("title") is not None:
                self.languages(["ui", "sections", index, "title"], section["title"],
                               f"the title of section {_quote(section.get('id'))}")

    def languages(self, path: Path, text: Any, what: str, fix: str = "") -> None:
        """Both languages present: the interface is Chinese by default with English available,
        and an English page that falls back to Chinese in one place is a page nobody checked."""
        if isinstance(text, str):
            self.out.add(path, "text-missing-language",
                         f"{what} has one text for every language; expected "
                         '{"zh": ..., "en": ...} with both the Chinese and the English text')
            return
        if not isinstance(text, Mapping):
            return
        for lang in LANGUAGES:
            if not str(text.get(lang) or "").strip():
                self.out.add(path, "text-missing-language",
                             f"{what} has no {LANGUAGE_NAMES[lang]} text; add "
                             + (fix or f'"{lang}": the {LANGUAGE_NAMES[lang]} wording'))

    def colour_cue(self, path: Path, text: Any, what: str) -> None:
        values = [text] if isinstance(text, str) else \
            list(text.values()) if isinstance(text, Mapping) else []
        for value in values:
            for pattern in COLOUR_CUES:
                found = pattern.search(str(value))
                if found:
                    self.out.add(path, "colour-only-cue",
                                 f"{what} points at a colour ({_quote(found.group(0))}); people "
                                 "who can't tell colours apart, and screen readers, miss it: "
                                 "say it in words (such as 必填, optional) instead")
                    return

    # one question
    def question(self, fld: Field) -> None:
        name = f"question {_quote(fld.key)}"
        ui = _ui_field(self.data, fld.key)
        has_title = isinstance(fld.schema.get("title"), str) and fld.schema["title"].strip()
        if not has_title and not ui.get("label"):
            self.out.add(segments(fld.pointer), "label-missing",
                         f"{name} has no label, so people (and screen readers) see only its "
                         f'key; add a "title" to its schema or a label in ui.fields')
        else:
            self.languages(_text_path(self.data, fld, "label", None), fld.label,
                           f"the label of {name}", self.fix(fld, "label"))
            self.length(fld, "label", DECLARATION_MAX if _is_declaration(fld) else LABEL_MAX)
            self.colour_cue(_text_path(self.data, fld, "label", None), fld.label,
                            f"the label of {name}")
        if fld.hint:
            self.languages(_text_path(self.data, fld, "hint", None), fld.hint,
                           f"the hint of {name}", self.fix(fld, "hint"))
            self.length(fld, "hint", HINT_MAX)
            self.colour_cue(_text_path(self.data, fld, "hint", None), fld.hint,
                            f"the hint of {name}")
        if fld.placeholder:
            self.out.add(["ui", "fields", fld.key, "placeholder"], "placeholder-text",
                         f"{name} has placeholder text, which disappears as people type and is "
                         "too faint for many to read: put it in the hint instead",
                         severity="warning")
        self.options(fld, name)
        if fld.widget == "repeatable" and (fld.max_items is None or fld.max_items > REPEAT_MAX):
            allows = "any number of" if fld.max_items is None else str(fld.max_items)
            where = segments(fld.pointer) + (["maxItems"] if fld.max_items else [])
            self.out.add(where, "too-many-answers",
                         f"{name} allows {allows} answers; people can't check a list that "
                         f"long on a phone: expected maxItems of {REPEAT_MAX} or fewer "
                         "(GOV.UK Forms' limit), or an upload of a list instead",
                         severity="warning")

    @staticmethod
    def fix(fld: Field, what: str) -> str:
        return (f'ui.fields[{_quote(fld.key)}].{what} = {{"zh": ..., "en": ...}} with both '
                "texts")

    def length(self, fld: Field, what: str, limit: int) -> None:
        texts = fld.label if what == "label" else (fld.hint or {})
        kind = "declaration" if what == "label" and limit == DECLARATION_MAX else what
        move = "the hint, the page or the service guide" if what == "label" \
            else "the service guide"
        for lang in LANGUAGES:
            text = str(texts.get(lang) or "")
            if len(text) > limit:
                self.out.add(_text_path(self.data, fld, what, lang), f"{what}-too-long",
                             f"the {LANGUAGE_NAMES[lang]} {kind} of question {_quote(fld.key)} "
                             f"is {len(text)} characters; expected {limit} or fewer (GOV.UK "
                             f"Forms' limit): move the detail to {move}")

    def options(self, fld: Field, name: str) -> None:
        if not fld.options or not fld.is_choice:
            return
        here = segments(fld.pointer)
        count = len(fld.options)
        if fld.widget == "checkboxes" and count > MULTIPLE_CHOICE_MAX:
            self.out.add(here, "too-many-choices",
                         f"{name} lets people tick from {count} options; expected "
                         f"{MULTIPLE_CHOICE_MAX} or fewer (GOV.UK Forms' limit): split the "
                         "question, or ask for one choice with an autocomplete")
        elif fld.widget in ("radios", "select", "autocomplete") and count > SINGLE_CHOICE_MAX:
            self.out.add(here, "too-many-choices",
                         f"{name} has {count} options; expected {SINGLE_CHOICE_MAX} or fewer "
                         "(GOV.UK Forms' limit): narrow the list with an earlier question")
        elif fld.widget in ("radios", "select", "autocomplete") and count < 2:
            self.out.add(here, "too-few-choices",
                         f"{name} offers {count} option, so there is nothing to choose: add the "
                         "other answers, or drop the question (a box that must be ticked is "
                         '"type": "boolean", "const": true)')
        elif fld.widget in ("radios", "select") and count > AUTOCOMPLETE_OVER:
            self.out.add(["ui", "fields", fld.key, "widget"] if "widget" in
                         _ui_field(self.data, fld.key) else here, "choices-need-autocomplete",
                         f"{name} has {count} options shown as {fld.widget}; a list over "
                         f"{AUTOCOMPLETE_OVER} is hard to scan: set "
                         f'"widget": "autocomplete" in ui.fields[{_quote(fld.key)}]')
        for option in fld.options:
            if option.msgid is None and option.label is not None \
                    and not str(option.label.get("en") or "").strip() \
                    and not _NEUTRAL.match(str(option.label.get("zh") or "")):
                where: Path = ["ui", "fields", fld.key, "options"] if "options" in \
                    _ui_field(self.data, fld.key) else here
                self.out.add(where, "text-missing-language",
                             f"option {_quote(option.token)} of {name} has no English text; add "
                             f'ui.fields[{_quote(fld.key)}].options[{_quote(option.token)}] = '
                             '{"zh": ..., "en": ...}')
                break

    # one page
    def page(self, index: int, page_id: str, keys: tuple[str, ...]) -> None:
        here: Path = ["ui", "pages", index] if _ui(self.data).get("pages") else []
        fields = [self.form.fields[key][0] for key in keys if key in self.form.fields]
        inputs = [f for top in fields for f in top.walk()
                  if not f.is_item and f.accepts_input
                  and f.widget not in ("fieldset", "repeatable")]
        if len(inputs) > PAGE_QUESTIONS_MAX:
            self.out.add([*here, "fields"] if here else here, "page-too-many-questions",
                         f"page {_quote(page_id)} asks {len(inputs)} questions; expected "
                         f"{PAGE_QUESTIONS_MAX} or fewer: split it into pages (GOV.UK asks one "
                         "question per page)", severity="warning")
        groups: dict[tuple[str, str, str], str] = {}
        for top in fields:
            for fld in top.walk():
                if fld.is_item or fld.widget == "hidden" or fld.conditions:
                    continue
                parent = paths.join(*paths.split(fld.key)[:-1]) if "." in fld.key else ""
                for lang in LANGUAGES:
                    label = str(fld.label.get(lang) or "").strip()
                    if not label:
                        continue
                    first = groups.setdefault((parent, lang, label), fld.key)
                    if first != fld.key and not self.apart(first, fld.key):
                        self.out.add(_text_path(self.data, fld, "label", lang),
                                     "duplicate-label",
                                     f"questions {_quote(first)} and {_quote(fld.key)} on page "
                                     f"{_quote(page_id)} have the same "
                                     f"{LANGUAGE_NAMES[lang]} label {_quote(label)}; people "
                                     "(and the error summary) can't tell them apart: give each "
                                     "its own label")


def lint_form(document: Document, file: str, form: FormDefinition) -> list[Problem]:
    """The design-time findings of a form that loads."""
    return _FormLint(document, file, form).run()


# --- services ---------------------------------------------------------------------------------


def lint_service(document: Document, file: str) -> list[Problem]:
    """The guide's own promises: a promised time within the statutory one, a contact."""
    out = _Findings(document, file)
    guide = document.data.get("guide") or {}
    statutory, promised = guide.get("statutory_days"), guide.get("promised_days")
    if isinstance(statutory, int) and isinstance(promised, int) and promised > statutory:
        out.add(["guide", "promised_days"], "promised-over-statutory",
                f"the promised time ({promised} working days) is longer than the statutory time "
                f"({statutory}); expected promised_days of {statutory} or fewer (承诺时限 may "
                "only shorten 法定时限)")
    if not guide.get("contact"):
        out.add(["guide"], "guide-without-contact",
                "the guide has no contact; GOV.UK Forms asks for contact details before a form "
                "goes live: add contact: {zh: ..., en: ...} (a telephone number or a counter)",
                severity="warning")
    return out.problems


def lint_materials(document: Document, file: str, form: FormDefinition) -> list[Problem]:
    """An optional material whose upload question the form insists on: the service page says
    "if it applies to you" while the form will not go on without it."""
    out = _Findings(document, file)
    for index, material in enumerate(document.data.get("materials") or []):
        key = material.get("form_field")
        if material.get("required") or key not in form.file_keys \
                or not always_required(form, key):
            continue
        out.add(["materials", index, "required"], "optional-material-required",
                f'material "{material["code"]}" is optional in the guide, but the form question '
                f'"{key}" must always be answered: make the material required: true, or take '
                'the question out of the schema\'s "required"')
    return out.problems


# --- flows ------------------------------------------------------------------------------------


class _FlowLint:
    def __init__(self, document: Document, file: str, form: FormDefinition, service: str,
                 departments: Mapping[str, DepartmentInfo]) -> None:
        self.nodes: Mapping[str, Any] = document.data["nodes"]
        self.form = form
        self.service = service
        self.departments = departments
        self.out = _Findings(document, file)

    def run(self) -> list[Problem]:
        for node_id, node in self.nodes.items():
            if node.get("type") != "task" or not isinstance(node.get("who"), Mapping):
                continue
            here: Path = ["nodes", node_id, "who"]
            fallback = node.get("when_empty", "error") != "error"
            who = node["who"]
            for at, holder in ((here, who), ([*here, "from"], who.get("from"))):
                if isinstance(holder, Mapping) and isinstance(holder.get("department"), Mapping):
                    self.department(node_id, [*at, "department"], holder["department"], fallback)
            self.exclusive(node_id, node)
        return self.out.problems

    def answer(self, path: str) -> Field | None:
        fields = self.form.fields.get(form_key(path))
        return fields[0] if fields else None

    def department(self, node_id: str, here: Path, department: Mapping[str, Any],
                   fallback: bool) -> None:
        """A department picked by an answer: every answer the form allows must find one."""
        if "district_of" in department and department.get("under") in self.departments:
            under = department["under"]
            regions = {self.departments[c].region for c in covered(under, self.departments)
                       if c in self.departments and self.departments[c].region}
            self.choice(node_id, [*here, "district_of"], department["district_of"], fallback,
                        lambda value: value in regions,
                        f"no district office under {_quote(under)} serves",
                        "a district office with that region")
        elif "field" in department:
            self.choice(node_id, [*here, "field"], department["field"], fallback,
                        lambda value: value in self.departments,
                        "no department of the catalogue is", "the department")

    def choice(self, node_id: str, here: Path, path: str, fallback: bool,
               serves: Callable[[Any], bool], missing: str, remedy: str) -> None:
        if fallback:
            return
        fld = self.answer(path)
        if fld is None:
            return  # flowcheck reports an answer the form does not ask
        task = f"task {_quote(node_id)}"
        advice = ('or set "when_empty: department_admin" on the task so the department\'s '
                  "administrator takes those")
        if fld.options:
            lost = [str(o.value) for o in fld.options if not serves(o.value)]
            if lost:
                self.out.add(here, "task-without-actor",
                             f"nobody can act on {task} for the answers {', '.join(lost)} of "
                             f"{_quote(path)} in service {_quote(self.service)}: {missing} "
                             f"them; add {remedy} to the department catalogue, {advice}")
                return
        else:
            self.out.add(here, "task-without-actor",
                         f"{task} picks its department from the free answer {_quote(path)} in "
                         f"service {_quote(self.service)}, so an answer the catalogue does not "
                         f"cover leaves nobody to act: ask it as a choice, {advice}",
                         severity="warning")
            return
        if not always_required(self.form, form_key(path)):
            self.out.add(here, "task-without-actor",
                         f"nobody can act on {task} when {_quote(path)} is left empty in service "
                         f"{_quote(self.service)}: make the question required, {advice}")

    def exclusive(self, node_id: str, node: Mapping[str, Any]) -> None:
        """Four-eyes over named users: the only possible actor of this task did another one."""
        users = self.users(node)
        if users is None:
            return
        taken: set[str] = set()
        for other in node.get("exclusive_with", []):
            other_users = self.users(self.nodes.get(other) or {})
            if other_users is not None and len(other_users) == 1:
                taken |= other_users
        if users <= taken:
            self.out.add(["nodes", node_id, "exclusive_with"], "task-without-actor",
                         f"nobody can act on task {_quote(node_id)}: its only users "
                         f"({', '.join(sorted(users))}) act on the tasks it is exclusive_with; "
                         "add another user to it or drop exclusive_with")

    @staticmethod
    def users(node: Mapping[str, Any]) -> set[str] | None:
        who = node.get("who")
        if isinstance(who, Mapping) and isinstance(who.get("users"), list):
            return set(who["users"])
        return None


def lint_flow(document: Document, file: str, form: FormDefinition, service: str,
              departments: Mapping[str, DepartmentInfo]) -> list[Problem]:
    """Tasks of a flow (as a service with that form uses it) that nobody can act on."""
    return _FlowLint(document, file, form, service, departments).run()
