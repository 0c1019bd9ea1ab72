"""Service, form and rule definitions: load and check files, publish immutable versions."""

from .loader import DefinitionSet, Problem, load_directory
from .publish import PublishResult, current_version, publish

__all__ = ["DefinitionSet", "Problem", "PublishResult", "current_version", "load_directory",
           "publish"]
