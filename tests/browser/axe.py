"""Accessibility scans with axe-core for the browser tests.

axe-core comes from npm (package.json pins it; ``npm ci`` installs it) and is never shipped in
``static/``: citizens' pages do not need it. It is injected through the DevTools protocol, so a
page's Content-Security-Policy does not get in the way.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# WCAG 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN_AXE = """async ([tags, needsReview]) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  if (!needsReview) return results.violations;
  const marked = results.incomplete.map((r) => ({...r, id: r.id + " [needs review]"}));
  return results.violations.concat(marked);
}"""


@cache
def axe_source() -> str:
    """The text of axe.min.js from node_modules."""
    if not AXE_JS.is_file():
        raise FileNotFoundError(
            f"{AXE_JS} is missing: run `npm ci` in the repository root to install axe-core"
        )
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(page: Page, *, needs_review: bool = False) -> list[dict[str, Any]]:
    """Scan the page's current document against WCAG 2.1 A/AA; return axe's violations.

    Each violation has ``id``, ``impact``, ``help``, ``helpUrl`` and ``nodes`` (each node
    with its ``target`` selector and ``html``). An empty list means none were found.
    With ``needs_review``, what axe could not decide by itself comes too, its ``id``
    suffixed " [needs review]".
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, [WCAG_TAGS, needs_review])
    return violations


def summarize(violations: list[dict[str, Any]]) -> str:
    """One line per violation and per offending element, for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']}")
        lines += [f"    {' '.join(map(str, node['target']))}" for node in violation["nodes"]]
    return "\n".join(lines)


def assert_clean(page: Page) -> None:
    """Fail with axe's findings when the page has any (JavaScript must be on: axe runs in
    the page)."""
    violations = run_axe(page)
    assert violations == [], summarize(violations)
