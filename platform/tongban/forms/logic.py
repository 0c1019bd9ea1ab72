"""JsonLogic for form rules: the server-side evaluator, kept in step with the browser's.

Browsers run the same rules with json-logic-js 2.0.5 (``static/vendor/json-logic.js``).
panzi-json-logic supplies the evaluator and its control flow (``if``, ``and``, ``map``...);
the value operators below replace its built-ins because they follow JavaScript's coercion
rules, which is what json-logic-js does implicitly. tests/unit/test_jsonlogic_conformance.py
runs the same cases under Node and here and asserts identical results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from json_logic import jsonLogic as _apply
from json_logic.builtins import op_merge, to_bool

__all__ = ["OPERATORS", "RuleError", "check_rule", "evaluate", "referenced_vars"]


class RuleError(ValueError):
    """A rule failed to evaluate, for example because it names an unknown operator."""


_UNDEFINED: Any = object()  # JavaScript's undefined, as distinct from null (None)
_NAN = math.nan
_JS_DECIMAL = r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
_JS_NUMBER = re.compile(rf"{_JS_DECIMAL}|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_JS_FLOAT_PREFIX = re.compile(_JS_DECIMAL)


# --- JavaScript coercions (ECMAScript ToString, ToNumber, parseFloat, ==, <) ---


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _number_to_string(number: float) -> str:
    """Number.prototype.toString: shortest round-trip digits, JavaScript's exponent rules."""
    number = float(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    _, digit_tuple, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    size, point = len(digits), int(exponent) + len(digits)
    if size <= point <= 21:
        body = digits + "0" * (point - size)
    elif 0 < point <= 21:
        body = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        body = "0." + "0" * -point + digits
    else:
        mantissa = digits[0] + (f".{digits[1:]}" if size > 1 else "")
        body = f"{mantissa}e{'+' if point > 0 else '-'}{abs(point - 1)}"
    return ("-" if number < 0 else "") + body


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return _number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if item is None else _to_string(item) for item in value)
    return "[object Object]"


def _to_primitive(value: Any) -> Any:
    return _to_string(value) if isinstance(value, list | dict) else value


def _to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if not _JS_NUMBER.fullmatch(text):
            return _NAN
        if text[:2].lower() in ("0x", "0o", "0b"):
            return float(int(text, 0))
        return float(text.replace("Infinity", "inf"))
    if isinstance(value, list):
        return _to_number(_to_string(value))
    return _NAN


def _to_integer(value: Any) -> float:
    number = _to_number(value)
    if math.isnan(number):
        return 0
    return number if math.isinf(number) else int(number)


def _parse_float(value: Any) -> float:
    if isinstance(value, float):
        return value
    match = _JS_FLOAT_PREFIX.match(_to_string(value).lstrip())
    return float(match.group().replace("Infinity", "inf")) if match else _NAN


def _utf16(text: str) -> bytes:
    # JavaScript strings are UTF-16: index, measure and compare them by code unit.
    return text.encode("utf-16-be", "surrogatepass")


def _from_utf16(units: bytes) -> str:
    return units.decode("utf-16-be", "surrogatepass")


def _strict_equals(a: Any, b: Any) -> bool:
    kind = _js_type(a)
    if kind != _js_type(b):
        return False
    return a is b if kind == "object" else bool(a == b)


def _loose_equals(a: Any, b: Any) -> bool:
    if a.__class__ is str and b.__class__ is str:  # the commonest case: an answer and a choice
        return a == b
    kind_a, kind_b = _js_type(a), _js_type(b)
    if kind_a == kind_b:
        return _strict_equals(a, b)
    if "null" in (kind_a, kind_b):
        return False
    if kind_a == "boolean":
        return _loose_equals(float(a), b)
    if kind_b == "boolean":
        return _loose_equals(a, float(b))
    if "object" in (kind_a, kind_b):
        return _loose_equals(_to_primitive(a), _to_primitive(b))
    return _to_number(a) == _to_number(b)


def _less_than(a: Any, b: Any) -> bool | None:
    """JavaScript's abstract relational comparison; None stands for undefined (a NaN)."""
    a, b = _to_primitive(a), _to_primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return _utf16(a) < _utf16(b)
    x, y = _to_number(a), _to_number(b)
    if math.isnan(x) or math.isnan(y):
        return None
    return x < y


def _lt(a: Any, b: Any) -> bool:
    return _less_than(a, b) is True


def _le(a: Any, b: Any) -> bool:
    return _less_than(b, a) is False


def _property(value: Any, name: str) -> Any:
    if isinstance(value, dict):
        return value.get(name, _UNDEFINED)
    if isinstance(value, str):
        units = _utf16(value)
        value = [_from_utf16(units[i : i + 2]) for i in range(0, len(units), 2)]
    if isinstance(value, list):
        if name == "length":
            return len(value)
        if name.isascii() and name.isdigit() and str(int(name)) == name and int(name) < len(value):
            return value[int(name)]
    return _UNDEFINED


# --- Value operators, as json-logic-js 2.0.5 defines them. Called as op(data, *args). ---


def _var(data: Any, key: Any = None, default: Any = None, *_: Any) -> Any:
    if key is None or key == "":
        return data
    for name in _to_string(key).split("."):
        if data is None:
            return default
        data = _property(data, name)
        if data is _UNDEFINED:
            return default
    return data


def _missing(data: Any, *args: Any) -> list[Any]:
    keys = args[0] if args and isinstance(args[0], list) else args
    # json-logic-js looks each key up by applying {"var": key}, so a list key spreads.
    values = ((key, _apply({"var": key}, data, _OPERATIONS)) for key in keys)
    return [key for key, value in values if value is None or value == ""]


def _missing_some(data: Any, need: Any = None, options: Any = None, *_: Any) -> list[Any]:
    absent = _apply({"missing": options}, data, _OPERATIONS)
    if options is None:
        raise RuleError("'missing_some' needs a list of keys")
    count = len(options) if isinstance(options, list) else _property(options, "length")
    return [] if _less_than(_to_number(count) - len(absent), need) is False else absent


def _in(data: Any, needle: Any = None, haystack: Any = None, *_: Any) -> bool:
    if isinstance(haystack, list):
        return any(_strict_equals(needle, item) for item in haystack)
    if isinstance(haystack, str) and haystack:
        return _to_string(needle) in haystack
    return False


def _substr(
    data: Any, source: Any = None, start: Any = None, length: Any = _UNDEFINED, *_: Any
) -> str:
    units = _utf16(_to_string(source))
    size = len(units) // 2
    first = _to_integer(start)
    begin = int(min(max(size + first, 0) if first < 0 else first, size))
    end: float
    if length is _UNDEFINED:
        end = size
    elif _lt(length, 0):  # json-logic-js: a negative length drops characters from the end
        rest, length = size - begin, _to_primitive(length)
        # JavaScript's `rest + length` joins the two as text when length is a string.
        total = f"{rest}{length}" if isinstance(length, str) else rest + _to_number(length)
        count = _to_integer(total)
        end = begin + min(max(count, 0), rest)
    else:
        end = min(begin + max(_to_integer(length), 0), size)
    return _from_utf16(units[begin * 2 : int(end) * 2])


def _add(data: Any, *args: Any) -> float:
    total = 0.0
    for arg in args:
        total += _parse_float(arg)
    return total


def _multiply(data: Any, *args: Any) -> Any:
    if not args:
        raise RuleError("'*' needs at least one argument")
    product = args[0]  # like Array.reduce without a seed: one argument comes back as it is
    for arg in args[1:]:
        product = _parse_float(product) * _parse_float(arg)
    return product


def _subtract(data: Any, *args: Any) -> float:
    if len(args) == 1:
        return -_to_number(args[0])
    return _to_number(args[0]) - _to_number(args[1]) if args else _NAN


def _divide(data: Any, a: Any = None, b: Any = None, *_: Any) -> float:
    x, y = _to_number(a), _to_number(b)
    if y == 0:
        return _NAN if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1, y)
    return x / y


def _remainder(data: Any, a: Any = None, b: Any = None, *_: Any) -> float:
    try:
        return math.fmod(_to_number(a), _to_number(b))
    except ValueError:  # an infinite dividend or a zero divisor
        return _NAN


def _extreme(pick: Callable[..., float], empty: float) -> Callable[..., float]:
    def operator(data: Any, *args: Any) -> float:
        numbers = [_to_number(arg) for arg in args]
        return _NAN if any(map(math.isnan, numbers)) else pick(numbers, default=empty)

    return operator


_OPERATIONS: dict[str, Callable[..., Any]] = {
    "==": lambda data, a=None, b=None, *_: _loose_equals(a, b),
    "!=": lambda data, a=None, b=None, *_: not _loose_equals(a, b),
    "===": lambda data, a=None, b=None, *_: _strict_equals(a, b),
    "!==": lambda data, a=None, b=None, *_: not _strict_equals(a, b),
    "<": lambda data, a=None, b=None, *c: _lt(a, b) and (not c or _lt(b, c[0])),
    "<=": lambda data, a=None, b=None, *c: _le(a, b) and (not c or _le(b, c[0])),
    ">": lambda data, a=None, b=None, *_: _lt(b, a),
    ">=": lambda data, a=None, b=None, *_: _less_than(a, b) is False,
    "!": lambda data, a=None, *_: not to_bool(a),
    "!!": lambda data, a=None, *_: to_bool(a),
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
    "%": _remainder,
    "min": _extreme(min, math.inf),
    "max": _extreme(max, -math.inf),
    "cat": lambda data, *args: "".join("" if arg is None else _to_string(arg) for arg in args),
    "substr": _substr,
    "in": _in,
    "merge": op_merge,
    "var": _var,
    "missing": _missing,
    "missing_some": _missing_some,
}
_SCOPED = frozenset({"map", "filter", "reduce", "all", "some", "none"})
# 'log' is left out on purpose: it would print citizens' answers to the server's stdout.
OPERATORS = frozenset(_OPERATIONS) | _SCOPED | {"if", "?:", "and", "or"}
_ARITY: dict[str, tuple[int, int | None]] = {
    **dict.fromkeys(["==", "!=", "===", "!==", ">", ">=", "/", "%", "in", "missing_some"], (2, 2)),
    **dict.fromkeys(["map", "filter", "all", "some", "none"], (2, 2)),
    **dict.fromkeys(["<", "<=", "substr", "reduce"], (2, 3)),
    "!": (1, 1),
    "!!": (1, 1),
    "-": (1, 2),
    "*": (1, None),
    "var": (0, 2),
}


def _to_json(value: Any) -> Any:
    """Give results the shape JSON.stringify would: whole numbers as int, NaN/Infinity as None."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # Read back the digits JavaScript prints, so 1e20 + 1 shows as JSON.stringify shows it.
        return int(_number_to_string(value)) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    return value


def evaluate(rule: Any, data: Any = None) -> Any:
    """Apply a JsonLogic rule (already passed by check_rule) to JSON-like data."""
    try:
        direct = _direct_form(rule)
        return _to_json(direct(data) if direct is not None else _apply(rule, data, _OPERATIONS))
    except (ReferenceError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise RuleError(f"cannot evaluate rule: {exc}") from exc


# --- Operators applied directly to answers and constants ---
#
# Most conditions in forms are one value operator applied to answers and constants:
# {"==": [{"var": "event.category"}, "environment"]}, {"!": {"var": "reporter.anonymous"}}.
# For those the evaluator does nothing but look each answer up with `var` and call the
# operator with the results, so that is done here directly: the same operator functions,
# called with the same arguments, without the evaluator's walk over the rule. Everything
# else (control flow, nested operators, lists) goes to the evaluator. A test runs every
# official case of this shape both ways.

_SCALARS = (str, int, float, bool, type(None))
_NOT_DIRECT: Any = object()
_direct_forms: dict[int, tuple[Any, Any]] = {}  # id(rule) -> (rule, form); cleared when full
_DIRECT_FORMS_SIZE = 4096


def _direct_form(rule: Any) -> Callable[[Any], Any] | None:
    """The rule as a function of the data when it has that shape, else None. Worked out once
    per rule object (definitions are not changed once loaded)."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return None
    kept = _direct_forms.get(id(rule))
    if kept is not None and kept[0] is rule:  # the entry holds the rule: its id is its own
        return None if kept[1] is _NOT_DIRECT else kept[1]
    found = _make_direct(rule)
    if len(_direct_forms) >= _DIRECT_FORMS_SIZE:
        _direct_forms.clear()
    _direct_forms[id(rule)] = (rule, _NOT_DIRECT if found is None else found)
    return found


def _make_direct(rule: dict[str, Any]) -> Callable[[Any], Any] | None:
    ((op, args),) = rule.items()
    operation = _OPERATIONS.get(op) if isinstance(op, str) else None
    if operation is None:
        return None
    args = args if isinstance(args, list) else [args]
    getters: list[Callable[[Any], Any]] = []
    for arg in args:
        if isinstance(arg, _SCALARS):
            getters.append(_constant(arg))
            continue
        if not (isinstance(arg, dict) and len(arg) == 1 and "var" in arg):
            return None
        names = arg["var"] if isinstance(arg["var"], list) else [arg["var"]]
        if not all(isinstance(name, _SCALARS) for name in names):
            return None
        getters.append(_variable(tuple(names)))
    if len(getters) == 1:
        (only,) = getters
        return lambda data: operation(data, only(data))
    if len(getters) == 2:
        first, second = getters
        return lambda data: operation(data, first(data), second(data))
    return lambda data: operation(data, *(get(data) for get in getters))


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _data: value


def _variable(names: tuple[Any, ...]) -> Callable[[Any], Any]:
    return lambda data: _var(data, *names)


# --- Checks on rule definitions, run when a form definition is loaded ---


def _operation(node: Any) -> tuple[str, list[Any]] | None:
    if isinstance(node, dict) and len(node) == 1:
        ((op, args),) = node.items()
        return op, args if isinstance(args, list) else [args]
    return None


def _has_logic(node: Any) -> bool:
    if isinstance(node, list):
        return any(map(_has_logic, node))
    return _operation(node) is not None


def _reads_whole_scope(node: Any) -> bool:
    if isinstance(node, list):
        return any(map(_reads_whole_scope, node))
    operation = _operation(node)
    if operation is None:
        return False
    op, args = operation
    if op == "var":
        return not args or args[0] in ("", None, []) or _reads_whole_scope(args[1:])
    return _reads_whole_scope(args[:1] + args[2:] if op in _SCOPED else args)


def check_rule(rule: Any) -> list[str]:
    """Problems with a rule's shape, each naming its JSON pointer; an empty list means none."""
    problems: list[str] = []
    _check(rule, "", problems)
    return problems


def _check(node: Any, pointer: str, problems: list[str]) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check(item, f"{pointer}/{index}", problems)
        return
    if isinstance(node, dict) and len(node) > 1:
        problems.append(
            f"object with {len(node)} keys at {pointer or '/'} is not an operation "
            "(an operation has exactly one key)"
        )
        return
    operation = _operation(node)
    if operation is None:
        return
    op, args = operation
    here = f"{pointer}/{op.replace('~', '~0').replace('/', '~1')}"
    if op not in OPERATORS:
        problems.append(f"unknown operator {op!r} at {here}")
        return
    low, high = _ARITY.get(op, (0, None))
    if len(args) < low or (high is not None and len(args) > high):
        wanted = str(low) if low == high else f"{low} to {high}" if high else f"at least {low}"
        noun = "argument" if (high or low) == 1 else "arguments"
        problems.append(f"operator {op!r} takes {wanted} {noun}, not {len(args)}, at {here}")
    if op == "reduce" and len(args) == 3 and _has_logic(args[2]):
        # panzi-json-logic uses reduce's initial value as written; json-logic-js evaluates it.
        problems.append(f"the initial value of 'reduce' must be a plain value at {here}/2")
    if op == "reduce" and len(args) > 1 and _reads_whole_scope(args[1]):
        # panzi-json-logic reuses one context object, so returning it would make a cycle.
        problems.append(f"the rule of 'reduce' must read 'current' or 'accumulator' at {here}/1")
    for index, arg in enumerate(args):
        _check(arg, f"{here}/{index}", problems)


def referenced_vars(rule: Any) -> set[str]:
    """Data paths the rule reads through var, missing and missing_some.

    Rules inside map, filter, reduce, all, some and none read each item, not the form's
    data, so their paths are left out. A path computed by a rule cannot be known and is
    left out too.
    """
    paths: set[str] = set()
    _collect(rule, paths)
    return paths


def _collect(node: Any, paths: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, paths)
        return
    operation = _operation(node)
    if operation is None:
        return
    op, args = operation
    if op == "var" and args:
        _collect_keys(args[0], paths, single=True)
        _collect(args[1:], paths)
    elif op == "missing":
        _collect_keys(args[0] if len(args) == 1 else args, paths)
    elif op == "missing_some":
        _collect(args[:1], paths)
        _collect_keys(args[1:2], paths)
    elif op in _SCOPED:
        _collect(args[:1] + args[2:], paths)
    else:
        _collect(args, paths)


def _collect_keys(node: Any, paths: set[str], single: bool = False) -> None:
    """Collect literal keys, seeing through the merge/if idiom: {"missing": {"merge": [...]}}."""
    if isinstance(node, str | int | float) and not isinstance(node, bool):
        if node != "":
            paths.add(_to_string(node))
    elif isinstance(node, list) and not single:
        for item in node:
            _collect_keys(item, paths)
    elif (operation := _operation(node)) is not None and operation[0] in ("merge", "if", "?:"):
        op, args = operation
        if op == "merge":
            _collect_keys(args, paths)
            return
        for index, arg in enumerate(args):
            if index % 2 == 0 and index != len(args) - 1:  # a condition, not a branch
                _collect(arg, paths)
            else:
                _collect_keys(arg, paths)
    else:
        _collect(node, paths)
