"""The show/hide rules of a page as the page carries them: the JSON ``forms.js`` runs them from,
and the note over a question the rules hide for now but answers on the same page can reveal.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING, Any

from flask_babel import gettext
from markupsafe import Markup

from tongban.forms.display import display_value, key_of
from tongban.forms.fields import Field, text_for
from tongban.forms.formats_and_rules import referenced_vars
from tongban.forms.state import FormState, rule_reads
from tongban.i18n import N_

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition, Page

_APPLIES = N_("Answer this only if it applies to you.")
_IF_ANSWER = N_("Answer this if your answer to “%(question)s” is “%(answer)s”.")
_UNLESS_ANSWER = N_("Answer this unless your answer to “%(question)s” is “%(answer)s”.")


_client_rules: weakref.WeakKeyDictionary[Any, tuple[str, set[str]]] = (
    weakref.WeakKeyDictionary())


def client_json(form: FormDefinition, state: FormState, page: Page) -> Markup | None:
    """The show/hide/set rules and the answers they read, for ``forms.js``."""
    cached = _client_rules.get(form)
    if cached is None:
        rules = [{"action": r.action, "target": r.target, "when": r.when, "value": r.value}
                 for r in form.rules if r.action in ("show", "hide", "set")]
        reads: set[str] = set()
        for r in rules:
            for word in ("when", "value"):
                if r[word] is not None:
                    reads |= {v.split(".")[0] for v in referenced_vars(r[word])}
        # The rules as JSON once per form; only the answers they read change per page view.
        cached = (json.dumps(rules, ensure_ascii=False) if rules else "", reads)
        _client_rules[form] = cached
    rules_json, reads = cached
    if not rules_json:
        return None
    answers = state.answers if isinstance(state.answers, dict) else {}
    context = {k: answers[k] for k in reads if k in answers}
    text = f'{{"rules": {rules_json}, "answers": {json.dumps(context, ensure_ascii=False)}}}'
    # Safe inside <script>: no "</script>", no HTML comment openers.
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


def reveal_note(form: FormDefinition, state: FormState, fld: Field, page_id: str, lang: str) -> str:
    """When only rules reading answers on this same page hide ``fld`` (itself, not a group or
    page around it), the note that says when to answer it; else "" (it stays hidden)."""
    key = fld.key or ""
    if key not in state.hidden_keys or state.is_hidden(form, key.rpartition(".")[0]) \
            or not page_id:
        return ""
    rules = [r for r in form.rules if r.target == key and r.action in ("show", "hide")]
    reads = {read for rule in rules for read in rule_reads(rule)}
    if not reads or any(form.page_of.get(key_of(form, read) or "") != page_id
                        for read in reads):
        return ""
    said = _condition_text(form, rules[0].when, lang) if len(rules) == 1 \
        and rules[0].action == "show" else None
    return said or gettext(_APPLIES)


def branch_note(form: FormDefinition, fld: Field, when: Any, page_id: str, lang: str) -> str:
    """For a field of a schema branch (``if``/``then``, ``dependentSchemas``) that does not hold
    now: the note to draw it under, when every answer its condition (``when``, as ``forms.js``
    gets it) reads is on this page and no other field shares its name; else "" (it stays
    hidden until the page is shown again)."""
    if not page_id or len(form.fields.get(fld.key or "", ())) != 1:
        return ""
    reads = referenced_vars(when)
    if not reads or any(form.page_of.get(key_of(form, read) or "") != page_id for read in reads):
        return ""
    return _condition_text(form, when, lang) or gettext(_APPLIES)


def _condition_text(form: FormDefinition, when: Any, lang: str) -> str | None:
    """A condition in words, for the common shapes (one question equal to, one of, or not
    equal to some answers; a yes/no question); None for anything else."""
    if not isinstance(when, dict) or len(when) != 1:
        return None
    op, args = next(iter(when.items()))
    negate = False
    if op == "!" and isinstance(args, list) and len(args) == 1:
        args = args[0]
    if op == "!" and isinstance(args, dict) and set(args) == {"var"}:
        op, args = "==", [args, False]
    elif op == "var":
        op, args = "==", [when, True]
    if op in ("!=", "!=="):
        op, negate = "==", True
    if op == "===":
        op = "=="
    if op not in ("==", "in") or not isinstance(args, list) or len(args) != 2:
        return None
    ref, wanted = args
    if not (isinstance(ref, dict) and set(ref) == {"var"}):
        return None
    path = ref["var"][0] if isinstance(ref["var"], list) and ref["var"] else ref["var"]
    values = wanted if op == "in" and isinstance(wanted, list) else [wanted]
    key = key_of(form, str(path))
    fields = form.fields.get(key or "") or []
    if op == "in" and not isinstance(wanted, list) or not fields or not values:
        return None
    question = fields[0]
    if any(isinstance(v, (dict, list)) for v in values):
        return None
    joiner = "”或“" if lang == "zh" else "” or “"
    answer = joiner.join(display_value(question, v, lang) for v in values)
    template = _UNLESS_ANSWER if negate else _IF_ANSWER
    return gettext(template, question=text_for(question.label, lang), answer=answer)
