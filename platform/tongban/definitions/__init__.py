"""Service, form and rule definitions: load and check files, publish immutable versions."""

from .loader import DefinitionSet, load_directory
from .problems import Problem
from .publish import PublishResult, current_version, publish

__all__ = ["DefinitionSet", "Problem", "PublishResult", "current_version", "load_directory",
           "publish"]
