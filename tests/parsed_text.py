"""YAML and JSON definitions parsed once per test run.

ruamel.yaml's round-trip reading (kept for line and column numbers) is slow, and the tests read
the same shipped files again and again: every `load_directory` of a copied definitions folder
(one file changed, the rest as shipped), every conformance script on the bench and again through
the runtime. The readers the loader and the flow bench call are wrapped for the run: the same
text gives the same document (its data deep-copied, so no caller sees another's changes; the
position tree only read) or the same refusal. `yamlpos` itself is left alone, so its own tests
call the real thing every time.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tongban.definitions import loader
from tongban.definitions.yamlpos import Document, ReadError
from tongban.workflow import testbench

Reader = Callable[[str], Document]


def _once_per_text(reader: Reader) -> Reader:
    read: dict[str, Document | ReadError] = {}

    def cached(text: str) -> Document:
        found = read.get(text)
        if found is None:
            try:
                found = reader(text)
            except ReadError as exc:
                found = exc
            read[text] = found
        if isinstance(found, ReadError):
            raise ReadError(found.line, found.column, found.message)
        return Document(copy.deepcopy(found.data), found.tree, found.text)

    return cached


@contextmanager
def definitions_parsed_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        read_yaml = _once_per_text(loader.read_yaml)
        patch.setattr(loader, "read_yaml", read_yaml)
        patch.setattr(loader, "read_json", _once_per_text(loader.read_json))
        patch.setattr(testbench, "read_yaml", read_yaml)
        yield
