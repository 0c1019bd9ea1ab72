"""The core never imports a first-party plugin: no module of platform/tongban imports a module
that lives under plugins/ (each plugin's packages and modules, whatever their names)."""

from __future__ import annotations

import ast
from pathlib import Path

from tongban import PROJECT_ROOT

CORE = PROJECT_ROOT / "platform" / "tongban"
PLUGINS = PROJECT_ROOT / "plugins"


def plugin_modules() -> set[str]:
    """Top-level import names of every plugin folder: its packages and single modules."""
    names = set()
    for folder in PLUGINS.iterdir():
        if not (folder / "pyproject.toml").exists():
            continue
        for path in folder.iterdir():
            if path.is_dir() and (path / "__init__.py").exists():
                names.add(path.name)
            elif path.suffix == ".py":
                names.add(path.stem)
    return names - {"conftest", "setup"}


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_every_plugin_folder_has_a_package_the_check_knows() -> None:
    assert {"tongban_local_storage", "tongban_null_signer",
            "tongban_example_connector"} <= plugin_modules()


def test_the_core_never_imports_a_first_party_plugin() -> None:
    plugins = plugin_modules()
    offenders = sorted(f"{path.relative_to(PROJECT_ROOT)} imports {name}"
                       for path in CORE.rglob("*.py") for name in imported_names(path)
                       if name.split(".")[0] in plugins | {"plugins"})
    assert offenders == []


def test_the_check_finds_an_import_of_a_plugin(tmp_path: Path) -> None:
    module = tmp_path / "reach_in.py"
    module.write_text("import json\nfrom tongban_local_storage import LocalStorage\n",
                      encoding="utf-8")
    assert "tongban_local_storage" in imported_names(module) & plugin_modules()
