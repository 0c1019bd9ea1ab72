"""A problem found in a definition file: where it is (file, line, column, JSON pointer) and what
was expected. Its own module so that every checker can report one without importing the loader."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    pointer: str
    message: str

    def __str__(self) -> str:
        where = f" at {self.pointer}" if self.pointer else ""
        return f"{self.file}:{self.line}:{self.column}:{where} {self.message}"
