"""The totals scorer as one generated Python function per rule set: every answer read, every
table looked up and every indicator added up in straight-line code, with no call per input or
per indicator. Built once per rule set from the same pieces as the closures in totals.py (the
JsonLogic, band and deduction closures are called from it); anything else it does not know
raises NotGenerated and the closures are used instead."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from .evaluate import _MISSING, MissingInput, _coerce, full_years
from .explain import number
from .rules import RuleSet


class NotGenerated(Exception):
    pass


def _slow(node: Any, key: str) -> Any:
    """One step down the answers when the node is not a plain dict."""
    if isinstance(node, Mapping) and key in node:
        return node[key]
    return _MISSING


def _truthy(value: Any) -> bool:
    return value not in (False, None, 0, "", [])


def _condition(rule_set: RuleSet, names: dict[str, str], env: dict[str, Any], key: str,
               rule: Any, logic: Callable[[Any], Callable[[dict[str, Any]], Any]]) -> str:
    """A condition as a Python expression. A yes/no answer read alone, or compared with true
    or false, is the value itself (a boolean input holds only True, False or None, which
    compare in JavaScript as in Python); anything else calls the compiled JsonLogic."""
    booleans = {item.id for item in rule_set.inputs if item.type == "boolean"}

    def boolean_var(node: Any) -> str | None:
        if isinstance(node, dict) and list(node) == ["var"]:
            name = node["var"][0] if isinstance(node["var"], list) and len(node["var"]) == 1 \
                else node["var"]
            if isinstance(name, str) and name in booleans and name in names:
                return names[name]
        return None

    found = boolean_var(rule)
    if found is not None:
        return f"{found} is True"
    if isinstance(rule, dict) and len(rule) == 1:
        ((op, args),) = rule.items()
        if op in ("==", "===", "!=", "!==") and isinstance(args, list) and len(args) == 2:
            for side, other in ((args[0], args[1]), (args[1], args[0])):
                found = boolean_var(side)
                if found is not None and isinstance(other, bool):
                    test = "is" if op in ("==", "===") else "is not"
                    return f"{found} {test} {other!r}"
    env[key] = logic(rule)
    return f"_truthy({key}(values))"


def generate(rule_set: RuleSet, logic: Callable[[Any], Callable[[dict[str, Any]], Any]],
             value_points: Callable[[Any, Any], Callable[[Any, date], float]],
             weighted: Callable[[Any], Callable[[dict[str, Any], date], tuple[float, bool]]],
             total_type: type) -> Callable[[Mapping[str, Any], date], Any]:
    env: dict[str, Any] = {"M": _MISSING, "MissingInput": MissingInput, "_coerce": _coerce,
                           "fromiso": date.fromisoformat, "full_years": full_years,
                           "floor": math.floor, "number": number, "Total": total_type,
                           "_slow": _slow, "_truthy": _truthy}
    out = ["def score(answers, as_of):", "    values = {}"]
    names: dict[str, str] = {}
    for k, item in enumerate(rule_set.inputs):
        var = f"v{k}"
        names[item.id] = var
        env[f"I{k}"] = item
        if item.derived is not None:
            ((how, arg),) = item.derived.items()
            if how == "logic":
                env[f"L{k}"] = logic(arg)
                same = {"string": "str", "integer": "int", "boolean": "bool"}.get(item.type)
                out.append(f"    r = L{k}(values)")
                if same is not None:  # already what _coerce would give
                    out.append(f"    {var} = r if type(r) is {same} else "
                               f"(None if r is None else _coerce(I{k}, r))")
                else:
                    out.append(f"    {var} = None if r is None else _coerce(I{k}, r)")
            elif how == "age_on_reference_date":
                out.append(f"    {var} = None if {names[arg]} is None else "
                           f"full_years({names[arg]}, as_of)")
            elif how == "floor_div":
                out.append(f"    {var} = None if {names[arg[0]]} is None else "
                           f"int(floor({names[arg[0]]} / {arg[1]!r}))")
            elif how == "count":
                out.append(f"    {var} = None if {names[arg]} is None else len({names[arg]})")
            else:
                raise NotGenerated
        else:
            if item.path is None or item.path.split(".", 1)[0] == "connector":
                raise NotGenerated
            out.append("    n = answers")
            for segment in item.path.split("."):
                out.append(f"    n = n.get({segment!r}, M) if type(n) is dict "
                           f"else _slow(n, {segment!r})")
            out.append('    if n is M or n is None or n == "":')
            if item.required:
                env[f"P{k}"] = item.path
                out.append(f"        raise MissingInput({item.id!r}, P{k}, I{k}.name)")
            else:
                env[f"D{k}"] = None if item.default is None else _coerce(item, item.default)
                out.append(f"        {var} = D{k}")
            if item.type in ("integer", "string", "boolean"):
                kind = {"integer": "int", "string": "str", "boolean": "bool"}[item.type]
                out += [f"    elif type(n) is {kind}:", f"        {var} = n"]
            elif item.type == "date":
                out += ["    elif type(n) is str:", "        try:",
                        f"            {var} = fromiso(n)", "        except ValueError:",
                        f"            {var} = _coerce(I{k}, n)"]
            out += ["    else:", f"        {var} = _coerce(I{k}, n)"]
        out.append(f"    values[{item.id!r}] = {var}")
    out += ["    total = 0", "    vetoes = []"]
    points: dict[str, str] = {}
    for k, indicator in enumerate(rule_set.indicators):
        if indicator.type == "group_max":
            continue
        var = f"p{k}"
        points[indicator.id] = var
        if indicator.type == "veto":
            if indicator.enabled:
                out += [f"    if {_condition(rule_set, names, env, f'C{k}', indicator.when, logic)}:",
                        f"        vetoes.append({indicator.id!r})"]
            out.append(f"    {var} = 0")
            continue
        if indicator.type == "weighted":
            env[f"W{k}"] = weighted(indicator)
            out.append(f"    {var} = W{k}(values, as_of)[0]")
        else:
            assert indicator.input is not None
            item = rule_set.input(indicator.input)
            x = names[indicator.input]
            indent = "    "
            if indicator.when is not None:
                condition = _condition(rule_set, names, env, f"A{k}", indicator.when, logic)
                out += [f"    {var} = 0", f"    if {condition}:"]
                indent = "        "
            if indicator.type == "deduction":
                env[f"V{k}"] = value_points(indicator, item)
                # None, no dates and a count of 0 all deduct nothing
                out.append(f"{indent}{var} = V{k}({x}, as_of) if {x} else 0")
            else:
                out += [f"{indent}if {x} is None:", f"{indent}    {var} = 0", f"{indent}else:"]
                inner = indent + "    "
                if indicator.type == "table":
                    env[f"T{k}"] = {key: entry[0] for key, entry in indicator.table.items()}
                    out.append(f'{inner}{var} = T{k}.get((("true" if {x} else "false") if '
                               f"type({x}) is bool else str({x})), 0)")
                elif indicator.type == "per_unit":
                    out.append(f"{inner}{var} = max(0, int(floor({x} / {indicator.per!r}))) "
                               f"* {indicator.points!r}")
                    if indicator.cap is not None:
                        out += [f"{inner}if {var} > {indicator.cap!r}:",
                                f"{inner}    {var} = {indicator.cap!r}"]
                elif indicator.type == "bands":
                    env[f"B{k}"] = value_points(indicator, item)
                    out.append(f"{inner}{var} = B{k}({x}, as_of)")
                else:
                    raise NotGenerated
        out.append(f"    if type({var}) is not int:")
        out.append(f"        {var} = number({var})")
        if indicator.in_group is None:
            out.append(f"    total += {var}")
    for indicator in rule_set.indicators:
        if indicator.type == "group_max":
            members = ", ".join(points[member] for member in indicator.of)
            out += [f"    g = max({members})", "    if type(g) is not int:",
                    "        g = number(g)", "    total += g"]
    out += ["    if type(total) is not int:", "        total = number(total)"]
    threshold = rule_set.threshold
    out.append("    eligible = not vetoes" + (
        f" and total >= {threshold!r}" if threshold is not None else ""))
    env["GRADES"] = [(g.min, g.grade) for g in rule_set.grades]
    out.append("    grade = next((g for low, g in GRADES if total >= low), None)")
    out.append("    return Total(total, eligible, grade, tuple(vetoes))")
    source = "\n".join(out) + "\n"
    code = compile(source, f"<totals of {rule_set.id}>", "exec")
    exec(code, env)  # noqa: S102  (source built above from the checked rule set, no answers)
    scorer: Callable[[Mapping[str, Any], date], Any] = env["score"]
    return scorer
