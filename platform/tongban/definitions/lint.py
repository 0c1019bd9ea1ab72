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
from ..i18n import N_
from .flowcheck import DepartmentInfo, covered, form_key
from .formcheck import segments
from .materials import always_required
from .problems import Phrase, Problem, Severity
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
    "guide-element-missing": "warning",
    "material-not-collected": "error",  # found by materials.py, tagged by the loader
    "optional-material-required": "error",
    "task-without-actor": "error",  # a warning when the answer is free text
}
"""Every rule and its usual severity, as docs/definitions.md ("Design-time lint") lists them."""

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": Phrase(N_("Chinese")), "en": Phrase(N_("English"))}
# Every message is an N_-marked template with its values (some of them phrases translated on
# their own): English on the command line, the page's language in the console.
_FIX_BOTH = N_('ui.fields["%(key)s"].%(what)s = {"zh": ..., "en": ...} with both texts')

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

    def add(self, path: Path, rule: str, template: str, params: dict[str, Any] | None = None,
            severity: Severity = "error") -> None:
        if rule not in RULES:
            raise ValueError(f"lint rule {rule!r} is not in RULES (and so not documented)")
        # A JSON file's position tree is read from its text when first asked for.
        line, column = self.document.position(path) \
            if self.document.tree is not None or self.document.text is not None else (1, 1)
        params = params or {}
        message = template % params if params else template
        problem = Problem(self.file, line, column, pointer_of(path), message, template, params,
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
        self.languages(["title"], self.data.get("title"), Phrase(N_("the form's title")))
        if self.data.get("description") is not None:
            described = Phrase(N_("the form's description"))
            self.languages(["description"], self.data["description"], described)
            self.colour_cue(["description"], self.data["description"], described)
        ui = _ui(self.data)
        for index, page in enumerate(ui.get("pages") or []):
            if not isinstance(page, Mapping):
                continue
            for key, template in (("title", N_('the title of page "%(page)s"')),
                                  ("hint", N_('the hint of page "%(page)s"'))):
                if page.get(key) is not None:
                    what = Phrase(template, {"page": page.get("id")})
                    self.languages(["ui", "pages", index, key], page[key], what)
                    self.colour_cue(["ui", "pages", index, key], page[key], what)
        for index, section in enumerate(ui.get("sections") or []):
            if isinstance(section, Mapping) and section.get("title") is not None:
                self.languages(["ui", "sections", index, "title"], section["title"],
                               Phrase(N_('the title of section "%(section)s"'),
                                      {"section": section.get("id")}))

    def languages(self, path: Path, text: Any, what: Phrase, fix: Phrase | None = None) -> None:
        """Both languages present: the interface is Chinese by default with English available,
        and an English page that falls back to Chinese in one place is a page nobody checked."""
        if isinstance(text, str):
            self.out.add(path, "text-missing-language",
                         N_('%(what)s has one text for every language; expected '
                            '{"zh": ..., "en": ...} with both the Chinese and the English text'),
                         {"what": what})
            return
        if not isinstance(text, Mapping):
            return
        for lang in LANGUAGES:
            if not str(text.get(lang) or "").strip():
                self.out.add(path, "text-missing-language",
                             N_("%(what)s has no %(language)s text; add %(fix)s"),
                             {"what": what, "language": LANGUAGE_NAMES[lang],
                              "fix": fix or Phrase(N_('"%(lang)s": the %(language)s wording'),
                                                   {"lang": lang,
                                                    "language": LANGUAGE_NAMES[lang]})})

    def colour_cue(self, path: Path, text: Any, what: Phrase) -> None:
        values = [text] if isinstance(text, str) else \
            list(text.values()) if isinstance(text, Mapping) else []
        for value in values:
            for pattern in COLOUR_CUES:
                found = pattern.search(str(value))
                if found:
                    self.out.add(path, "colour-only-cue",
                                 N_('%(what)s points at a colour ("%(found)s"); people who '
                                    "can't tell colours apart, and screen readers, miss it: say "
                                    "it in words (such as 必填, optional) instead"),
                                 {"what": what, "found": found.group(0)})
                    return

    # one question
    def question(self, fld: Field) -> None:
        key = {"key": fld.key}
        ui = _ui_field(self.data, fld.key)
        has_title = isinstance(fld.schema.get("title"), str) and fld.schema["title"].strip()
        if not has_title and not ui.get("label"):
            self.out.add(segments(fld.pointer), "label-missing",
                         N_('question "%(key)s" has no label, so people (and screen readers) '
                            'see only its key; add a "title" to its schema or a label in '
                            "ui.fields"), key)
        else:
            label = Phrase(N_('the label of question "%(key)s"'), key)
            self.languages(_text_path(self.data, fld, "label", None), fld.label, label,
                           self.fix(fld, "label"))
            self.length(fld, "label", DECLARATION_MAX if _is_declaration(fld) else LABEL_MAX)
            self.colour_cue(_text_path(self.data, fld, "label", None), fld.label, label)
        if fld.hint:
            hint = Phrase(N_('the hint of question "%(key)s"'), key)
            self.languages(_text_path(self.data, fld, "hint", None), fld.hint, hint,
                           self.fix(fld, "hint"))
            self.length(fld, "hint", HINT_MAX)
            self.colour_cue(_text_path(self.data, fld, "hint", None), fld.hint, hint)
        if fld.placeholder:
            self.out.add(["ui", "fields", fld.key, "placeholder"], "placeholder-text",
                         N_('question "%(key)s" has placeholder text, which disappears as people '
                            "type and is too faint for many to read: put it in the hint "
                            "instead"), key, severity="warning")
        self.options(fld, key)
        if fld.widget == "repeatable" and (fld.max_items is None or fld.max_items > REPEAT_MAX):
            where = segments(fld.pointer) + (["maxItems"] if fld.max_items else [])
            template = N_('question "%(key)s" allows any number of answers; people can\'t '
                          "check a list that long on a phone: expected maxItems of %(max)s or "
                          "fewer (GOV.UK Forms' limit), or an upload of a list instead") \
                if fld.max_items is None else \
                N_('question "%(key)s" allows %(count)s answers; people can\'t check a list '
                   "that long on a phone: expected maxItems of %(max)s or fewer (GOV.UK "
                   "Forms' limit), or an upload of a list instead")
            self.out.add(where, "too-many-answers", template,
                         {**key, "count": fld.max_items, "max": REPEAT_MAX}, severity="warning")

    @staticmethod
    def fix(fld: Field, what: str) -> Phrase:
        return Phrase(_FIX_BOTH, {"key": fld.key, "what": what})

    def length(self, fld: Field, what: str, limit: int) -> None:
        texts = fld.label if what == "label" else (fld.hint or {})
        kind = Phrase(N_("declaration")) if what == "label" and limit == DECLARATION_MAX \
            else Phrase(N_("label")) if what == "label" else Phrase(N_("hint"))
        move = Phrase(N_("the hint, the page or the service guide")) if what == "label" \
            else Phrase(N_("the service guide"))
        for lang in LANGUAGES:
            text = str(texts.get(lang) or "")
            if len(text) > limit:
                self.out.add(_text_path(self.data, fld, what, lang), f"{what}-too-long",
                             N_('the %(language)s %(kind)s of question "%(key)s" is %(length)s '
                                "characters; expected %(limit)s or fewer (GOV.UK Forms' "
                                "limit): move the detail to %(move)s"),
                             {"language": LANGUAGE_NAMES[lang], "kind": kind, "key": fld.key,
                              "length": len(text), "limit": limit, "move": move})

    def options(self, fld: Field, key: dict[str, Any]) -> None:
        if not fld.options or not fld.is_choice:
            return
        here = segments(fld.pointer)
        count = len(fld.options)
        if fld.widget == "checkboxes" and count > MULTIPLE_CHOICE_MAX:
            self.out.add(here, "too-many-choices",
                         N_('question "%(key)s" lets people tick from %(count)s options; '
                            "expected %(max)s or fewer (GOV.UK Forms' limit): split the "
                            "question, or ask for one choice with an autocomplete"),
                         {**key, "count": count, "max": MULTIPLE_CHOICE_MAX})
        elif fld.widget in ("radios", "select", "autocomplete") and count > SINGLE_CHOICE_MAX:
            self.out.add(here, "too-many-choices",
                         N_('question "%(key)s" has %(count)s options; expected %(max)s or '
                            "fewer (GOV.UK Forms' limit): narrow the list with an earlier "
                            "question"), {**key, "count": count, "max": SINGLE_CHOICE_MAX})
        elif fld.widget in ("radios", "select", "autocomplete") and count < 2:
            self.out.add(here, "too-few-choices",
                         N_('question "%(key)s" offers %(count)s option, so there is nothing to '
                            "choose: add the other answers, or drop the question (a box that "
                            'must be ticked is "type": "boolean", "const": true)'),
                         {**key, "count": count})
        elif fld.widget in ("radios", "select") and count > AUTOCOMPLETE_OVER:
            self.out.add(["ui", "fields", fld.key, "widget"] if "widget" in
                         _ui_field(self.data, fld.key) else here, "choices-need-autocomplete",
                         N_('question "%(key)s" has %(count)s options shown as %(widget)s; a '
                            "list over %(max)s is hard to scan: set "
                            '"widget": "autocomplete" in ui.fields["%(key)s"]'),
                         {**key, "count": count, "widget": fld.widget, "max": AUTOCOMPLETE_OVER})
        for option in fld.options:
            if option.msgid is None and option.label is not None \
                    and not str(option.label.get("en") or "").strip() \
                    and not _NEUTRAL.match(str(option.label.get("zh") or "")):
                where: Path = ["ui", "fields", fld.key, "options"] if "options" in \
                    _ui_field(self.data, fld.key) else here
                self.out.add(where, "text-missing-language",
                             N_('option "%(option)s" of question "%(key)s" has no English text; '
                                'add ui.fields["%(key)s"].options["%(option)s"] = '
                                '{"zh": ..., "en": ...}'), {**key, "option": option.token})
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
                         N_('page "%(page)s" asks %(count)s questions; expected %(max)s or '
                            "fewer: split it into pages (GOV.UK asks one question per page)"),
                         {"page": page_id, "count": len(inputs), "max": PAGE_QUESTIONS_MAX},
                         severity="warning")
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
                                     N_('questions "%(first)s" and "%(second)s" on page '
                                        '"%(page)s" have the same %(language)s label '
                                        '"%(label)s"; people (and the error summary) can\'t '
                                        "tell them apart: give each its own label"),
                                     {"first": first, "second": fld.key, "page": page_id,
                                      "language": LANGUAGE_NAMES[lang], "label": label})


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
                N_("the promised time (%(promised)s working days) is longer than the statutory "
                   "time (%(statutory)s); expected promised_days of %(statutory)s or fewer "
                   "(承诺时限 may only shorten 法定时限)"),
                {"promised": promised, "statutory": statutory})
    if not guide.get("contact"):
        out.add(["guide"], "guide-without-contact",
                N_("the guide has no contact; GOV.UK Forms asks for contact details before a "
                   "form goes live: add contact: {zh: ..., en: ...} (a telephone number or a "
                   "counter)"), severity="warning")
    return out.problems


# The national guide standard's elements (国办函〔2016〕108号, 行政许可标准化指引) that the
# service file gives and the service page shows; the rest come from elsewhere in the file (name,
# department, audience, flow) or from the platform (where to apply online, progress).
GUIDE_ELEMENTS = ("item_code", "item_type", "quantity_limit", "channels", "visits", "where",
                  "hours", "special_steps", "result", "complaints", "remedy", "rights")
MATERIAL_ELEMENTS = ("kind", "copies", "source")


def lint_guide_elements(document: Document, file: str) -> list[Problem]:
    """The 办事指南 elements the guide leaves out, in one warning; a material's own elements
    (原件/复印件, 份数, 来源) in one warning per material."""
    out = _Findings(document, file)
    guide = document.data.get("guide") or {}
    missing = [key for key in GUIDE_ELEMENTS if key not in guide]
    if missing:
        out.add(["guide"], "guide-element-missing",
                N_("the guide lacks elements of the national service guide standard (办事指南): "
                   "%(missing)s; add them so the service page shows every element"),
                {"missing": ", ".join(missing)}, severity="warning")
    for index, material in enumerate(document.data.get("materials") or []):
        missing = [key for key in MATERIAL_ELEMENTS if key not in material]
        if missing:
            out.add(["materials", index], "guide-element-missing",
                    N_('material "%(material)s" lacks elements of the service guide standard: '
                       "%(missing)s"),
                    {"material": material.get("code", index), "missing": ", ".join(missing)},
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
                N_('material "%(material)s" is optional in the guide, but the form question '
                   '"%(key)s" must always be answered: make the material required: true, or '
                   'take the question out of the schema\'s "required"'),
                {"material": material["code"], "key": key})
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
                        N_('nobody can act on task "%(task)s" for the answers %(answers)s of '
                           '"%(path)s" in service "%(service)s": no district office under '
                           '"%(under)s" serves them; add a district office with that region to '
                           "the department catalogue, or set \"when_empty: department_admin\" "
                           "on the task so the department's administrator takes those"),
                        under)
        elif "field" in department:
            self.choice(node_id, [*here, "field"], department["field"], fallback,
                        lambda value: value in self.departments,
                        N_('nobody can act on task "%(task)s" for the answers %(answers)s of '
                           '"%(path)s" in service "%(service)s": no department of the catalogue '
                           "is them; add the department to the department catalogue, or set "
                           '"when_empty: department_admin" on the task so the department\'s '
                           "administrator takes those"))

    def choice(self, node_id: str, here: Path, path: str, fallback: bool,
               serves: Callable[[Any], bool], lost_template: str, under: Any = None) -> None:
        if fallback:
            return
        fld = self.answer(path)
        if fld is None:
            return  # flowcheck reports an answer the form does not ask
        where = {"task": node_id, "path": path, "service": self.service}
        if fld.options:
            lost = [str(o.value) for o in fld.options if not serves(o.value)]
            if lost:
                self.out.add(here, "task-without-actor", lost_template,
                             {**where, "answers": ", ".join(lost), "under": under})
                return
        else:
            self.out.add(here, "task-without-actor",
                         N_('task "%(task)s" picks its department from the free answer '
                            '"%(path)s" in service "%(service)s", so an answer the catalogue '
                            "does not cover leaves nobody to act: ask it as a choice, or set "
                            '"when_empty: department_admin" on the task so the department\'s '
                            "administrator takes those"), where, severity="warning")
            return
        if not always_required(self.form, form_key(path)):
            self.out.add(here, "task-without-actor",
                         N_('nobody can act on task "%(task)s" when "%(path)s" is left empty in '
                            'service "%(service)s": make the question required, or set '
                            '"when_empty: department_admin" on the task so the department\'s '
                            "administrator takes those"), where)

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
                         N_('nobody can act on task "%(task)s": its only users (%(users)s) act '
                            "on the tasks it is exclusive_with; add another user to it or drop "
                            "exclusive_with"), {"task": node_id, "users": ", ".join(sorted(users))})

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
