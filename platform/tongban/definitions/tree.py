"""A folder of definition files held in memory (a service's working copy over what is
published), read by the loader exactly as it reads a directory on disk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Union


@dataclass(frozen=True)
class MemoryTree:
    """The part of :class:`pathlib.Path` the loader uses, over ``files`` (relative POSIX path ->
    text). ``path`` is where this node is; the root is ``.``."""

    files: Mapping[str, str] = field(repr=False)
    path: PurePosixPath = PurePosixPath(".")

    def __truediv__(self, part: str) -> MemoryTree:
        return MemoryTree(self.files, self.path / part)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem

    def __str__(self) -> str:
        return str(self.path)

    def exists(self) -> bool:
        key = str(self.path)
        return key in self.files or any(p.startswith(key + "/") for p in self.files)

    def glob(self, pattern: str) -> list[MemoryTree]:
        """The files directly in this folder whose name matches ``pattern``."""
        found = []
        for path in self.files:
            candidate = PurePosixPath(path)
            if candidate.parent == self.path and fnmatchcase(candidate.name, pattern):
                found.append(MemoryTree(self.files, candidate))
        return sorted(found, key=lambda node: str(node.path))

    def read_text(self, encoding: str = "utf-8") -> str:
        try:
            return self.files[str(self.path)]
        except KeyError:
            raise FileNotFoundError(str(self.path)) from None

    def relative_to(self, root: MemoryTree) -> PurePosixPath:
        return self.path.relative_to(root.path)

    def __lt__(self, other: MemoryTree) -> bool:
        return str(self.path) < str(other.path)


Tree = Union[Path, MemoryTree]  # noqa: UP007 -- a runtime alias of two classes
