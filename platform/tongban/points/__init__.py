"""The points engine: rule sets in YAML (scorecards and gradings) compiled once, evaluated with a
sentence for every indicator; civic and green points ledgers in ``ledger/``. See docs/points.md."""

from .check import check_document
from .evaluate import BadInput, Evaluation, IndicatorResult, MissingInput, evaluate, full_years
from .rules import Indicator, Input, RulesError, RuleSet, compile_rules
from .store import PublishedRuleSet, UnknownRuleSet, published_rule_sets, rules_for

__all__ = [
    "BadInput", "Evaluation", "Indicator", "IndicatorResult", "Input", "MissingInput",
    "PublishedRuleSet", "RuleSet", "RulesError", "UnknownRuleSet", "check_document",
    "compile_rules", "evaluate", "full_years", "published_rule_sets", "rules_for",
]
