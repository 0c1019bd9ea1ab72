"""A folder of definition files held in memory (a service's working copy over what is
published), read by the loader exactly as it reads a directory on disk."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Union

from .yamlpos import Document, ReadError

Reader = Callable[[str], Document]


class ParsedTexts:
    """Documents already read, by reader and text, the newest ``size`` kept. A working copy is
    checked on every save, and all its files but the one just saved, and everything published,
    are the same text as the time before: ruamel's round-trip reading is the slow part."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._found: OrderedDict[tuple[Reader, str], Document | ReadError] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, reader: Reader, text: str) -> Document:
        key = (reader, text)
        with self._lock:
            found = self._found.get(key)
            if found is not None:
                self._found.move_to_end(key)
        if found is None:
            try:
                found = reader(text)
            except ReadError as exc:
                found = exc
            with self._lock:
                self._found[key] = found
                while len(self._found) > self.size:
                    self._found.popitem(last=False)
        if isinstance(found, ReadError):
            raise ReadError(found.line, found.column, found.message, found.template,
                            found.params)
        # The data deep-copied (checkers may change it); the position tree is only read (a JSON
        # file's is read from its text when a position is first asked for).
        return Document(copy.deepcopy(found.data), found.tree, found.text)


@dataclass(frozen=True)
class MemoryTree:
    """The part of :class:`pathlib.Path` the loader uses, over ``files`` (relative POSIX path ->
    text). ``path`` is where this node is; the root is ``.``."""

    files: Mapping[str, str] = field(repr=False)
    path: PurePosixPath = PurePosixPath(".")
    parsed: ParsedTexts | None = field(default=None, repr=False, compare=False)

    def __truediv__(self, part: str) -> MemoryTree:
        return MemoryTree(self.files, self.path / part, self.parsed)

    def read_document(self, reader: Reader) -> Document:
        """The file read by ``reader``, from ``parsed`` when it has read the same text."""
        text = self.read_text()
        return self.parsed.read(reader, text) if self.parsed else reader(text)

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
                found.append(MemoryTree(self.files, candidate, self.parsed))
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
