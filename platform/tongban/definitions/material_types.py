"""The material catalogue (workflow_definitions/materials.yaml): the kinds of material the
library keeps, whose they are and how long one stays valid. Checked at load like every other
definition (problems name file and line) and published as the definition ``materials``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..i18n import N_
from .problems import Problem
from .schemacheck import pointer_of
from .yamlpos import Document

CATALOGUE_FILE = "workflow_definitions/materials.yaml"
CATALOGUE_KIND = "materials"
CATALOGUE_CODE = "materials"


@dataclass(frozen=True)
class MaterialType:
    """One kind of material: ``validity`` is ``permanent``, ``expiry_date`` (the document
    says until when) or a number of days after it was issued."""

    code: str
    name: Mapping[str, str]
    owner: str                    # person | enterprise
    issuer: str
    validity: str | int           # "permanent", "expiry_date" or days after issue

    def label(self, lang: str) -> str:
        return self.name.get(lang) or self.name["zh"]

    unknown_expiry_days: int = 180

    def expires_on(self, issued_on: date, stated: date | None = None) -> date | None:
        """The last day a material of this kind issued (or, for an upload, given) on
        ``issued_on`` is valid, or None when it never lapses. ``stated`` is the expiry date
        the document carries; it wins when given. A document that carries one which is not
        known (an upload) counts ``unknown_expiry_days`` from the day it was given."""
        if stated is not None:
            return stated
        if isinstance(self.validity, int):
            return issued_on + timedelta(days=self.validity)
        if self.validity == "expiry_date":
            return issued_on + timedelta(days=self.unknown_expiry_days)
        return None


Catalogue = dict[str, MaterialType]


def compile_catalogue(content: Mapping[str, Any] | None) -> Catalogue:
    """The catalogue's types by code, from the checked file (or its published version)."""
    types: Catalogue = {}
    unknown_days = int((content or {}).get("unknown_expiry_days") or 180)
    for entry in (content or {}).get("materials") or []:
        validity = entry["validity"]
        types[entry["code"]] = MaterialType(
            code=entry["code"], name=dict(entry["name"]), owner=entry["owner"],
            issuer=entry.get("issuer", ""),
            validity=validity["days"] if isinstance(validity, dict) else validity,
            unknown_expiry_days=unknown_days)
    return types


def check_catalogue(document: Document, file: str) -> list[Problem]:
    """What the meta-schema cannot say: a code listed twice."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(document.data["materials"]):
        code = entry["code"]
        if code in first:
            path: list[str | int] = ["materials", index, "code"]
            line, column = document.position(path)
            template = N_('material type "%(code)s" is listed twice (first as item %(first)s); '
                          "expected each code once")
            params = {"code": code, "first": first[code] + 1}
            problems.append(Problem(file, line, column, pointer_of(path), template % params,
                                    template, params))
        else:
            first[code] = index
    return problems


def unknown_type_problem(document: Document, file: str, path: list[str | int], code: str,
                         catalogue: Catalogue) -> Problem:
    """A form or service naming a material type the catalogue does not have."""
    line, column = document.position(path)
    template = N_('the material type "%(code)s" is not in %(file)s (types: %(known)s)')
    params = {"code": code, "file": CATALOGUE_FILE, "known": ", ".join(sorted(catalogue)) or "-"}
    return Problem(file, line, column, pointer_of(path), template % params, template, params)
