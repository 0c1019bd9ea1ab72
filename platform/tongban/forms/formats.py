"""Chinese field formats for form schemas: validators for JSON Schema ``format`` values.

``format_checker()`` asserts them (with jsonschema's standard draft 2020-12 formats) during
validation; ``explain()`` gives the specific reason a value fails, because jsonschema only says
pass or fail. Reasons are English msgids marked with ``N_`` and translated when rendered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Literal, TypeGuard

from jsonschema import Draft202012Validator, FormatChecker

from tongban.forms import regions
from tongban.i18n import N_

Check = Callable[[object], str | None]

# GB 11643-1999: weight of position i (1-based) is 2^(18-i) mod 11; the check character is
# indexed by the weighted sum mod 11 (ISO 7064 MOD 11-2).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"

# Codes 港澳台居民居住证 use in place of a mainland address code; 830000 is not a GB/T 2260 code.
RESIDENCE_PERMIT_CODES = frozenset({"810000", "820000", "830000"})

# GB 32100-2015: 31 characters (no I, O, S, V, Z), each worth its index; weight of position i
# (1-based) is 3^(i-1) mod 31.
USCC_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Birth dates are dates in China, whatever the server's clock zone; China has no summer time.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9Xx]")
_OLD_ID_SHAPE = re.compile(r"[0-9]{15}")
_DIGITS = re.compile(r"[0-9]*")
_MOBILE_SHAPE = re.compile(r"1[3-9][0-9]{9}")
_SIX_DIGITS = re.compile(r"[0-9]{6}")
_AMOUNT_SHAPE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_WHITESPACE = re.compile(r"\s+")


# -- 居民身份证号码 (GB 11643) -------------------------------------------------------------


def id_number_check_character(first_17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits of an ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARACTERS[total % 11]


def _today_in_china() -> date:
    return datetime.now(CHINA_STANDARD_TIME).date()


def _real_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def check_cn_id_number(value: object) -> str | None:
    """Check an 18-character citizen ID number; a lower-case x is accepted."""
    if not isinstance(value, str) or len(value) != 18:
        if isinstance(value, str) and _OLD_ID_SHAPE.fullmatch(value):
            return N_("This is an old 15-digit ID number. Enter the 18-character number.")
        return N_("Enter 18 characters.")
    if not _ID_SHAPE.fullmatch(value):
        return N_("The ID number can only contain digits, with X allowed as the last character.")
    address = value[:6]
    # Address codes are never reissued, so a code that has since been abolished is still good.
    if address not in RESIDENCE_PERMIT_CODES and not regions.ever_existed(address):
        return N_("The region code at the start of the ID number is not known.")
    birth = _real_date(value[6:14])
    if birth is None:
        return N_("The date of birth in the ID number is not a real date.")
    if birth > _today_in_china():
        return N_("The date of birth in the ID number is in the future.")
    if birth.year < 1900:
        return N_("The date of birth in the ID number is before 1900.")
    if id_number_check_character(value[:17]) != value[17].upper():
        return N_("The ID number's check character is wrong. Check the last character.")
    return None


def convert_15_to_18(value: str) -> str:
    """Turn a legacy 15-digit ID number (birth year without "19") into its 18-character form.

    Only the shape is checked here; validate the result with ``check_cn_id_number``.
    """
    if not _OLD_ID_SHAPE.fullmatch(value):
        raise ValueError(f"not a 15-digit ID number: {value!r}")
    first_17 = value[:6] + "19" + value[6:]
    return first_17 + id_number_check_character(first_17)


def _valid_18(value: str) -> str:
    number = convert_15_to_18(value) if _OLD_ID_SHAPE.fullmatch(value) else value
    reason = check_cn_id_number(number)
    if reason is not None:
        raise ValueError(reason)
    return number


def id_number_birth_date(value: str) -> date:
    """The date of birth in a valid ID number (18 characters, or a legacy 15 digits).

    Raises ``ValueError`` with the validation message if the number is not valid.
    """
    number = _valid_18(value)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_number_sex(value: str) -> Literal["male", "female"]:
    """The sex recorded in a valid ID number: an odd sequence number is male, even female.

    Raises ``ValueError`` with the validation message if the number is not valid.
    """
    return "male" if int(_valid_18(value)[16]) % 2 else "female"


# -- 统一社会信用代码 (GB 32100) -------------------------------------------------------------


def uscc_check_character(first_17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    total = sum(
        USCC_CHARACTERS.index(character) * weight
        for character, weight in zip(first_17, USCC_WEIGHTS, strict=True)
    )
    return USCC_CHARACTERS[-total % 31]


def check_cn_uscc(value: object) -> str | None:
    """Check an 18-character unified social credit code (upper case, as printed)."""
    if not isinstance(value, str) or len(value) != 18:
        return N_("Enter all 18 characters of the unified social credit code.")
    if any(character not in USCC_CHARACTERS for character in value):
        return N_(
            "The unified social credit code can only contain digits and capital letters, "
            "except I, O, S, V and Z."
        )
    if not value[2:8].isdigit():
        # Positions 3-8 are the registering authority's region code.
        return N_("Characters 3 to 8 of the unified social credit code must be digits.")
    if uscc_check_character(value[:17]) != value[17]:
        return N_(
            "The unified social credit code's check character is wrong. Check the last character."
        )
    return None


# -- contact and address fields ----------------------------------------------------------------


def check_cn_mobile(value: object) -> str | None:
    """Check a mainland mobile number: exactly 11 digits, no spaces, no +86."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        return N_("The mobile number can only contain digits.")
    if not isinstance(value, str) or len(value) != 11:
        return N_("Enter an 11-digit mobile number.")
    if not _MOBILE_SHAPE.fullmatch(value):
        return N_("The mobile number must start with 13 to 19.")
    return None


def check_cn_postal_code(value: object) -> str | None:
    """Check a 6-digit postal code."""
    if not isinstance(value, str) or not _SIX_DIGITS.fullmatch(value):
        return N_("Enter a 6-digit postal code.")
    return None


def check_cn_region(value: object) -> str | None:
    """Check a GB/T 2260 code of a current province, prefecture or county."""
    if not isinstance(value, str) or not _SIX_DIGITS.fullmatch(value):
        return N_("Enter a 6-digit region code.")
    if regions.is_current(value):
        return None
    if regions.ever_existed(value):
        return N_("This region code is no longer in use.")
    return N_("The region code is not known.")


# -- money -----------------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float | Decimal]:
    # bool is an int in Python but JSON true/false are not numbers.
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _amount(value: object) -> Decimal | None:
    if isinstance(value, str):
        return Decimal(value) if _AMOUNT_SHAPE.fullmatch(value) else None
    if not _is_number(value):
        return None
    # repr() keeps a float's shortest round-trip digits, so 0.1 stays 0.1, not 0.1000…055.
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return amount if amount.is_finite() else None


def check_cn_amount(value: object) -> str | None:
    """Check an amount in yuan: a number or numeric string, at least 0, at most 2 decimals."""
    amount = _amount(value)
    if amount is None:
        return N_("Enter the amount as a number, for example 1280.50.")
    if amount < 0:
        return N_("The amount cannot be negative.")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return N_("The amount can have at most 2 decimal places.")
    return None


# -- the format registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Format:
    check: Check
    message: str
    """What to say when no more specific reason applies."""
    numeric: bool = False
    """Whether the format also applies to numbers, not only to strings."""

    def applies_to(self, value: object) -> bool:
        # JSON Schema formats ignore instances of other types; "type" rejects those.
        return isinstance(value, str) or (self.numeric and _is_number(value))

    def conforms(self, value: object) -> bool:
        return not self.applies_to(value) or self.check(value) is None


FORMATS: Mapping[str, _Format] = {
    "cn-id-number": _Format(check_cn_id_number, N_("Enter a valid 18-character ID number.")),
    "cn-uscc": _Format(check_cn_uscc, N_("Enter a valid 18-character unified social credit code.")),
    "cn-mobile": _Format(check_cn_mobile, N_("Enter an 11-digit mobile number.")),
    "cn-postal-code": _Format(check_cn_postal_code, N_("Enter a 6-digit postal code.")),
    "cn-region": _Format(check_cn_region, N_("Choose a current region.")),
    "cn-amount": _Format(
        check_cn_amount, N_("Enter the amount as a number, for example 1280.50."), numeric=True
    ),
}

DEFAULT_MESSAGE = N_("Enter the value in the correct format.")

FORMAT_MESSAGES: Mapping[str, str] = {
    **{format_name: spec.message for format_name, spec in FORMATS.items()},
    "date": N_("Enter a real date, for example 2024-03-31."),
    "date-time": N_("Enter a real date and time."),
    "time": N_("Enter a real time."),
    "email": N_("Enter an email address in the correct format, like name@example.com."),
    "uri": N_("Enter a web address in the correct format, like https://www.example.com."),
}
"""The general message for each format, used when there is no more specific reason."""


def format_checker() -> FormatChecker:
    """A new checker with jsonschema's draft 2020-12 formats plus the Chinese ones.

    Pass it as ``format_checker=`` to a ``Draft202012Validator``: formats are only
    annotations in 2020-12 unless a checker asserts them.
    """
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)
    for format_name, spec in FORMATS.items():
        checker.checks(format_name)(spec.conforms)
    return checker


def explain(format_name: str, value: object) -> str | None:
    """Why ``value`` fails ``format_name`` (an English msgid), or ``None`` if it conforms.

    Agrees with ``format_checker()``: a value it accepts, including one of a type the format
    does not apply to, gets ``None``.
    """
    spec = FORMATS.get(format_name)
    if spec is not None:
        return spec.check(value) if spec.applies_to(value) else None
    if format_checker().conforms(value, format_name):
        return None
    return FORMAT_MESSAGES.get(format_name, DEFAULT_MESSAGE)


# -- tidying input -----------------------------------------------------------------------------


def _strip_country_code(number: str) -> str:
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            return number[len(prefix) :]
    return number


_NORMALISERS: Mapping[str, Callable[[str], str]] = {
    "cn-mobile": lambda text: _strip_country_code(text.replace("-", "")),
    "cn-id-number": str.upper,
    "cn-uscc": str.upper,
}


def normalise(format_name: str, value: object) -> object:
    """Tidy what a person typed before it is validated against one of the Chinese formats.

    Full-width characters from Chinese input methods become ASCII and spaces go; a mobile
    number also loses hyphens and a leading +86 or 0086, and ID numbers and credit codes are
    upper-cased. Other formats and non-string values are returned unchanged.
    """
    if format_name not in FORMATS or not isinstance(value, str):
        return value
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", value))
    tidy = _NORMALISERS.get(format_name)
    return tidy(text) if tidy is not None else text
