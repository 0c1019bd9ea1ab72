"""Boundaries kept by a machine: the core never imports a first-party plugin (nor itself as
`platform`), its modules import one another without cycles, and the domain modules (everything
outside the web layer) need no Flask request to be called (issue 10, "Layout")."""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

from tongban import PROJECT_ROOT

CORE = PROJECT_ROOT / "platform" / "tongban"

# Domain modules that may import Flask all the same, and why. Everything else outside web/
# takes what it needs (a Session, a user, a token) as arguments.
FLASK_ALLOWED = {
    "tongban": "the application factory: it builds the Flask app and wires every part to it",
    "tongban.cli": "the `tongban` command is Flask's CLI (FlaskGroup): commands run in an app "
                   "context, open their own Session, and purge the web layer's session table",
    "tongban.i18n": "Flask-Babel's wiring: the page's language comes from the request, the "
                    "visitor's session and the app's Jinja environment",
    "tongban.localtime": "registers the local-time Jinja filter on the app (Flask-Babel formats)",
    "tongban.extend.hookspecs": "the blueprint hook's signature names Flask's app and Blueprint",
    "tongban.extend.manager": "the plugin manager is built in the app factory, kept in "
                              "app.extensions, and registers the plugins' blueprints on the app",
    "tongban.testkit": "the plugin test kit starts the app and hands out its test client",
}
WEB_ONLY = ("flask", "flask_login", "flask_wtf", "tongban.web")


def _modules() -> dict[str, Path]:
    found = {}
    for path in CORE.rglob("*.py"):
        parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(name: str, path: Path, *, runtime_only: bool = False,
              modules: Collection[str] = ()) -> set[str]:
    """Every name ``name`` imports, at module level or inside functions, as absolute dotted
    names: ``from pkg import x`` gives ``pkg.x`` when that is one of ``modules``, else ``pkg``
    (and both when no ``modules`` are given). ``runtime_only`` leaves out imports under
    ``if TYPE_CHECKING:``, which never run and so cannot form a cycle."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if not modules:
                    names.update((module, submodule))
                else:
                    names.add(submodule if submodule in modules else module)
    return names


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {other for other in _imported(name, path, runtime_only=True, modules=modules)
                   if other in modules and other != name}
            for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per group of modules that import one another (Tarjan's strongly connected
    components, then a path round each group)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles = []
    for group in groups:
        start = min(group)
        path, seen = [start], {start}
        while True:  # walk inside the group until a module comes round again
            following = min(m for m in graph[path[-1]] if m in group)
            if following in seen:
                cycles.append(path[path.index(following):] + [following])
                break
            path.append(following)
            seen.add(following)
    return cycles


def test_the_core_imports_no_plugin_and_no_module_named_platform() -> None:
    plugin_packages = {p.name for p in (PROJECT_ROOT / "plugins").iterdir() if p.is_dir()}
    offenders = []
    for name, path in _modules().items():
        for imported in _imported(name, path):
            top = imported.split(".")[0]
            if top in plugin_packages or top in {"plugins", "platform"}:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)} imports {imported}")
    assert offenders == []


def test_the_cycle_finder_reports_a_cycle_it_is_given() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_core_modules_import_one_another_without_cycles() -> None:
    cycles = _cycles(_import_graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_domain_modules_import_nothing_from_flask_or_the_web_layer() -> None:
    """So that the flow engine, a worker and the CLI can call them without a request."""
    offenders = []
    for name, path in sorted(_modules().items()):
        if name == "tongban.web" or name.startswith("tongban.web.") or name in FLASK_ALLOWED:
            continue
        for imported in sorted(_imported(name, path)):
            if any(imported == web or imported.startswith(web + ".") for web in WEB_ONLY):
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_every_allowed_exception_is_still_needed() -> None:
    """An exception that no longer imports Flask is dropped from the list, so it cannot hide a
    new reach-in later."""
    modules = _modules()
    unneeded = [name for name in FLASK_ALLOWED
                if not any(imported == web or imported.startswith(web + ".")
                           for imported in _imported(name, modules[name]) for web in WEB_ONLY)]
    assert unneeded == []
