"""Administrators: published definition versions (editing in the browser comes later)."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlmodel import col

from ..models import DefinitionVersion, Role
from .access import require_role
from .database import request_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/definitions")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def definitions() -> str:
    versions = request_session().scalars(
        select(DefinitionVersion).order_by(col(DefinitionVersion.kind), col(DefinitionVersion.code),
                                           col(DefinitionVersion.version).desc())).all()
    return render_template("admin/definitions.html", versions=versions)
