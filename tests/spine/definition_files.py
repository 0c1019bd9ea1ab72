"""Editing a copied definition file in a test (the copy is the ``defs_copy`` fixture)."""

from __future__ import annotations

from pathlib import Path


def edit(root: Path, relative: str, old: str, new: str) -> None:
    """Replace the first ``old`` in a copied file; fails when the file no longer holds it."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
