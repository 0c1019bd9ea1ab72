"""Flow diagrams on pages: the Jinja globals the `review/_flow_diagram.html` macro calls, the
guide page's flow lookup, and the check at start that Graphviz is installed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from markupsafe import Markup
from sqlmodel import Session

from ..i18n import current_lang
from ..workflow import diagram
from ..workflow.runtime import current_flow_version


def published_flow(session: Session, code: str) -> dict[str, Any] | None:
    """The content of the newest published version of flow CODE (what a new application pins)."""
    row = current_flow_version(session, code)
    return row.content if row is not None else None


GATEWAYS = frozenset({"exclusive", "inclusive", "parallel", "join"})


def where_it_stands(flow: dict[str, Any], current: Iterable[str]) -> frozenset[str]:
    """The nodes to mark: a split's token waits at its gateway while the branches run, but the
    application stands on the branches' steps, not on the gateway."""
    nodes = flow.get("nodes") or {}
    return frozenset(node for node in current
                     if node in nodes and (nodes[node] or {}).get("type") not in GATEWAYS)


def flow_diagram_svg(flow: dict[str, Any], current: Iterable[str] = ()) -> Markup:
    """The drawing as an image with its title as ``alt`` (see `diagram.diagram_img`)."""
    return diagram.diagram_img(flow, where_it_stands(flow, current), current_lang())


def flow_diagram_steps(flow: dict[str, Any], current: Iterable[str] = ()) -> list[str]:
    return diagram.diagram_steps(flow, current_lang(), where_it_stands(flow, current))


def init_app(app: Flask) -> None:
    # Fails the start with the install command, rather than a page without its diagram.
    diagram.require_graphviz()
    app.jinja_env.globals["flow_diagram_svg"] = flow_diagram_svg
    app.jinja_env.globals["flow_diagram_steps"] = flow_diagram_steps
