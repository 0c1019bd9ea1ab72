"""Compiled Jinja templates shared by every test's app.

Each test makes its own app, so its own Jinja environment, which compiled every template it
rendered again: a quarter of the page tests' time. Jinja's bytecode cache hook lets the
environments of one run share the compiled code; a template whose source changed has another
checksum and is compiled afresh. The key names the environment's compile-time settings, so an
app configured differently never gets another's code.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


class SharedTemplateCode(BytecodeCache):
    """Compiled templates in memory, for the life of the test process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


def _named(value: object) -> object:
    """A callable setting by its name: each app has its own bound method."""
    return getattr(value, "__qualname__", value)


class _KeyedBySettings(BytecodeCache):
    def __init__(self, shared: SharedTemplateCode, settings: str) -> None:
        self.shared, self.settings = shared, settings

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(f"{self.settings}\0{name}", filename)

    def load_bytecode(self, bucket: Bucket) -> None:
        self.shared.load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.shared.dump_bytecode(bucket)


def share_compiled_templates(environment: Environment, cache: SharedTemplateCode) -> None:
    """Let ``environment`` take compiled templates from ``cache`` and leave its own there."""
    settings = repr((
        sorted(environment.extensions), environment.block_start_string,
        environment.block_end_string, environment.variable_start_string,
        environment.variable_end_string, environment.comment_start_string,
        environment.comment_end_string, environment.line_statement_prefix,
        environment.line_comment_prefix, environment.trim_blocks, environment.lstrip_blocks,
        environment.newline_sequence, environment.keep_trailing_newline,
        environment.optimized, _named(environment.autoescape), _named(environment.finalize),
        environment.is_async))
    environment.bytecode_cache = _KeyedBySettings(cache, settings)
