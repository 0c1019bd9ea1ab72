"""The core never imports a first-party plugin, and never imports itself as `platform`."""

from __future__ import annotations

import ast
from pathlib import Path

from tongban import PROJECT_ROOT

CORE = PROJECT_ROOT / "platform" / "tongban"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_imports_no_plugin_and_no_module_named_platform() -> None:
    plugin_packages = {p.name for p in (PROJECT_ROOT / "plugins").iterdir() if p.is_dir()}
    offenders = []
    for path in CORE.rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in plugin_packages or top in {"plugins", "platform"}:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)} imports {name}")
    assert offenders == []
