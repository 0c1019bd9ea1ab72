"""What a new service starts from: the blank template (a guide, a one-page form, a one-step
flow, all passing the checks), or a copy of a published service under a new code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from ..definitions.publish import current_version
from ..i18n import N_
from ..models import Department
from .layout import parse, path_of, render
from .workspace import WorkspaceRefused, live_files


@dataclass(frozen=True)
class NewService:
    code: str
    name_zh: str
    name_en: str
    department: Department


def _service(new: NewService) -> dict[str, Any]:
    department = new.department
    return {
        "code": new.code,
        "name": {"zh": new.name_zh, "en": new.name_en},
        "department": {"code": department.code,
                       "name": {"zh": department.name_zh, "en": department.name_en}},
        "summary": {"zh": f"办理{new.name_zh}。", "en": f"Apply for {new.name_en}."},
        "audience": ["citizen"],
        "guide": {
            "eligibility": {"zh": "（请填写申请条件）", "en": "(Who may apply)"},
            "legal_basis": {"zh": "（请填写设定依据）", "en": "(The legal basis)"},
            "statutory_days": 20,
            "promised_days": 10,
            "fee": {"zh": "不收费", "en": "Free of charge"},
        },
        "materials": [],
        "form": new.code,
        "flow": new.code,
    }


def _form(new: NewService) -> dict[str, Any]:
    return {
        "title": {"zh": new.name_zh, "en": new.name_en},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["request"],
            "properties": {
                "request": {
                    "type": "object", "title": "申请事项", "required": ["details"],
                    "properties": {
                        "details": {"type": "string", "title": "申请事项说明", "maxLength": 500},
                    },
                },
            },
        },
        "ui": {
            "fields": {
                "request": {"label": {"zh": "申请事项", "en": "Your request"}},
                "request.details": {"label": {"zh": "申请事项说明", "en": "What you apply for"},
                                    "widget": "textarea"},
            },
            "pages": [{"id": "request", "title": {"zh": "申请事项", "en": "Your request"},
                       "fields": ["request"]}],
        },
    }


def _flow(new: NewService) -> dict[str, Any]:
    return {
        "code": new.code,
        "name": {"zh": new.name_zh, "en": new.name_en},
        "nodes": {
            "start": {"type": "start", "next": "review"},
            "review": {
                "type": "task",
                "name": {"zh": "审核", "en": "Review"},
                "who": {"role": "reviewer", "department": new.department.code},
                "operations": ["approve", "reject", "return", "comment"],
                "deadline": {"working_days": 5},
                "next": "approved",
            },
            "approved": {"type": "end", "name": {"zh": "办结", "en": "Done"},
                         "outcome": "approved"},
        },
    }


def blank(new: NewService) -> dict[str, str]:
    """The blank template's files."""
    return {path_of("service", new.code): render("service", _service(new)),
            path_of("form", new.code): render("form", _form(new)),
            path_of("flow", new.code): render("flow", _flow(new))}


def copy_of(session: Session, source: str, new: NewService) -> dict[str, str]:
    """A published service's files under the new code, name and department: its form and flow
    copied under the new code too (so editing the copy never changes the original); a rule set
    is shared, named as it was."""
    if current_version(session, "service", source) is None:
        raise WorkspaceRefused(N_('There is no service "%(code)s".'), code=source)
    files = live_files(session, source)
    service = parse(path_of("service", source), files.pop(path_of("service", source)))
    assert isinstance(service, dict)  # a published service is a mapping
    service.update(code=new.code, name={"zh": new.name_zh, "en": new.name_en},
                   department={"code": new.department.code,
                               "name": {"zh": new.department.name_zh,
                                        "en": new.department.name_en}})
    copied = {path_of("service", new.code): ""}
    for kind in ("form", "flow"):
        name = service.get(kind)
        if isinstance(name, str) and path_of(kind, name) in files:
            content = parse(path_of(kind, name), files[path_of(kind, name)])
            if kind == "flow" and isinstance(content, dict):
                content["code"] = new.code
            copied[path_of(kind, new.code)] = render(kind, content)
            service[kind] = new.code
    copied[path_of("service", new.code)] = render("service", service)
    return copied


TEMPLATES = {"blank": N_("Blank: a guide, a one-page form and a one-step review")}
