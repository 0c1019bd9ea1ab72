"""Chinese field formats: checksums, dates and region codes, and how jsonschema asserts them."""

from __future__ import annotations

import ast
import json
import random
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jsonschema import Draft202012Validator

from tongban.forms import formats, regions
from tongban.forms.formats import (
    check_cn_amount,
    check_cn_id_number,
    check_cn_mobile,
    check_cn_postal_code,
    check_cn_region,
    check_cn_uscc,
    convert_15_to_18,
    explain,
    format_checker,
    id_number_birth_date,
    id_number_sex,
    normalise,
)
from tongban.i18n import CATALOGUE_ZH

# -- independent checksums, written from the formulas in the standards -------------------------


def id_number(first_17: str) -> str:
    """Complete an ID number: GB 11643 weights 2^(17-j) mod 11, ISO 7064 MOD 11-2 check."""
    total = sum(int(digit) * (2 ** (17 - j) % 11) for j, digit in enumerate(first_17))
    return first_17 + "10X98765432"[total % 11]


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def uscc(first_17: str) -> str:
    """Complete a credit code: GB 32100 weights 3^j mod 31, check = (31 - sum mod 31) mod 31."""
    total = sum(USCC_ALPHABET.index(c) * (3**j % 31) for j, c in enumerate(first_17))
    return first_17 + USCC_ALPHABET[(31 - total % 31) % 31]


ID_VECTOR = "11010519491231002X"
USCC_VECTOR = "91350100M000100Y43"

# 110103 崇文区 was merged into 东城区 in 2010: it is in old ID numbers but no longer current.
ABOLISHED_COUNTY = "110103"


def test_the_test_checksums_reproduce_the_published_vectors():
    assert id_number(ID_VECTOR[:17]) == ID_VECTOR
    assert uscc(USCC_VECTOR[:17]) == USCC_VECTOR


def test_the_module_checksums_agree_with_the_formulas_on_many_numbers():
    rng = random.Random(11643)
    for _ in range(300):
        digits = "".join(rng.choice("0123456789") for _ in range(17))
        code = "".join(rng.choice(USCC_ALPHABET) for _ in range(17))
        assert formats.id_number_check_character(digits) == id_number(digits)[-1]
        assert formats.uscc_check_character(code) == uscc(code)[-1]


# -- cn-id-number ------------------------------------------------------------------------------

ID_VALID = [
    ID_VECTOR,
    ID_VECTOR.lower(),
    id_number("11010519491231001"),
    id_number("11010519000101001"),
    id_number("11010520000229002"),
    id_number("42900419881010003"),
    id_number(ABOLISHED_COUNTY + "19800101123"),
    id_number("81000019900101001"),
    id_number("82000019900101001"),
    id_number("83000019900101001"),
]

ID_INVALID = [
    ("", "Enter 18 characters."),
    (ID_VECTOR[:17], "Enter 18 characters."),
    (ID_VECTOR + "1", "Enter 18 characters."),
    (11010519491231002, "Enter 18 characters."),
    (None, "Enter 18 characters."),
    ("110105491231002", "This is an old 15-digit ID number. Enter the 18-character number."),
    (
        "1101051949 231002X",
        "The ID number can only contain digits, with X allowed as the last character.",
    ),
    (
        "X1010519491231002X",
        "The ID number can only contain digits, with X allowed as the last character.",
    ),
    (
        "11010519491231002A",
        "The ID number can only contain digits, with X allowed as the last character.",
    ),
    (
        "１１０１０５１９４９１２３１００２Ｘ",
        "The ID number can only contain digits, with X allowed as the last character.",
    ),
    (
        id_number("99999919900101001"),
        "The region code at the start of the ID number is not known.",
    ),
    (
        id_number("11019919900101001"),
        "The region code at the start of the ID number is not known.",
    ),
    (
        id_number("11010520250230001"),
        "The date of birth in the ID number is not a real date.",
    ),
    (
        id_number("11010519491301001"),
        "The date of birth in the ID number is not a real date.",
    ),
    (
        id_number("11010519000229001"),
        "The date of birth in the ID number is not a real date.",
    ),
    (
        id_number("11010529991231001"),
        "The date of birth in the ID number is in the future.",
    ),
    (
        id_number("11010518991231001"),
        "The date of birth in the ID number is before 1900.",
    ),
    (
        ID_VECTOR[:17] + "1",
        "The ID number's check character is wrong. Check the last character.",
    ),
    (
        "11010519491231020X",
        "The ID number's check character is wrong. Check the last character.",
    ),
]


@pytest.mark.parametrize("value", ID_VALID)
def test_valid_id_numbers_pass(value):
    assert check_cn_id_number(value) is None


@pytest.mark.parametrize(("value", "message"), ID_INVALID)
def test_invalid_id_numbers_get_the_specific_reason(value, message):
    assert check_cn_id_number(value) == message


def test_a_birth_date_of_today_in_china_is_accepted_and_tomorrow_is_not(monkeypatch):
    monkeypatch.setattr(formats, "_today_in_china", lambda: date(2024, 6, 1))
    assert check_cn_id_number(id_number("11010520240601001")) is None
    assert check_cn_id_number(id_number("11010520240602001")) == (
        "The date of birth in the ID number is in the future."
    )


def test_an_abolished_county_is_good_in_an_id_number_but_not_as_a_current_region():
    assert check_cn_id_number(id_number(ABOLISHED_COUNTY + "19700101002")) is None
    assert check_cn_region(ABOLISHED_COUNTY) == "This region code is no longer in use."


def test_id_number_helpers_read_birth_date_and_sex():
    assert id_number_birth_date(ID_VECTOR) == date(1949, 12, 31)
    assert id_number_sex(ID_VECTOR) == "female"
    assert id_number_sex(id_number("11010519491231001")) == "male"
    assert id_number_birth_date("110105491231002") == date(1949, 12, 31)
    assert id_number_sex("110105491231001") == "male"


def test_id_number_helpers_refuse_an_invalid_number_with_its_reason():
    with pytest.raises(ValueError, match="not a real date"):
        id_number_birth_date(id_number("11010520250230001"))
    with pytest.raises(ValueError, match=re.escape("check character is wrong")):
        id_number_sex(ID_VECTOR[:17] + "1")


def test_a_15_digit_number_converts_to_18_characters():
    assert convert_15_to_18("110105491231002") == ID_VECTOR
    with pytest.raises(ValueError):
        convert_15_to_18("11010549123100")


# -- cn-uscc -----------------------------------------------------------------------------------


def _uscc_with_check_zero() -> str:
    for serial in range(1000):
        code = uscc(f"91110108MA{serial:07d}")
        if code.endswith("0"):
            return code
    raise AssertionError("no code with check character 0")


USCC_VALID = [
    USCC_VECTOR,
    uscc("91110108MA01ABCD1"),
    uscc("12100000400000624"),
    uscc("Y1440300MJL000001"),
    _uscc_with_check_zero(),
]

USCC_CHARSET_MESSAGE = (
    "The unified social credit code can only contain digits and capital letters, "
    "except I, O, S, V and Z."
)

USCC_INVALID = [
    ("", "Enter all 18 characters of the unified social credit code."),
    (USCC_VECTOR[:17], "Enter all 18 characters of the unified social credit code."),
    (12345, "Enter all 18 characters of the unified social credit code."),
    (USCC_VECTOR.lower(), USCC_CHARSET_MESSAGE),
    ("91350100I000100Y43", USCC_CHARSET_MESSAGE),
    ("91350100M000100Z43", USCC_CHARSET_MESSAGE),
    ("91350100M000100Y4 ", USCC_CHARSET_MESSAGE),
    (
        uscc("91A50100M000100Y4"),
        "Characters 3 to 8 of the unified social credit code must be digits.",
    ),
    (
        USCC_VECTOR[:17] + "4",
        "The unified social credit code's check character is wrong. Check the last character.",
    ),
]


@pytest.mark.parametrize("value", USCC_VALID)
def test_valid_credit_codes_pass(value):
    assert check_cn_uscc(value) is None


@pytest.mark.parametrize(("value", "message"), USCC_INVALID)
def test_invalid_credit_codes_get_the_specific_reason(value, message):
    assert check_cn_uscc(value) == message


# -- cn-mobile, cn-postal-code -----------------------------------------------------------------

MOBILE_VALID = ["13800138000", "14500000000", "19912345678"]

MOBILE_INVALID = [
    ("", "Enter an 11-digit mobile number."),
    ("1380013800", "Enter an 11-digit mobile number."),
    ("138001380001", "Enter an 11-digit mobile number."),
    (13800138000, "Enter an 11-digit mobile number."),
    ("138 0013 8000", "The mobile number can only contain digits."),
    ("+8613800138000", "The mobile number can only contain digits."),
    ("１３８００１３８０００", "The mobile number can only contain digits."),
    ("12800138000", "The mobile number must start with 13 to 19."),
    ("23800138000", "The mobile number must start with 13 to 19."),
]


@pytest.mark.parametrize("value", MOBILE_VALID)
def test_valid_mobile_numbers_pass(value):
    assert check_cn_mobile(value) is None


@pytest.mark.parametrize(("value", "message"), MOBILE_INVALID)
def test_invalid_mobile_numbers_get_the_specific_reason(value, message):
    assert check_cn_mobile(value) == message


POSTAL_VALID = ["100000", "518000", "999077"]
POSTAL_INVALID = ["", "10000", "1000000", "10000A", "100 000", 100000]


@pytest.mark.parametrize("value", POSTAL_VALID)
def test_valid_postal_codes_pass(value):
    assert check_cn_postal_code(value) is None


@pytest.mark.parametrize("value", POSTAL_INVALID)
def test_invalid_postal_codes_are_refused(value):
    assert check_cn_postal_code(value) == "Enter a 6-digit postal code."


# -- cn-region ---------------------------------------------------------------------------------

REGION_VALID = ["110000", "110100", "110101", "429000", "429004", "441900", "710000", "810000"]

REGION_INVALID = [
    ("", "Enter a 6-digit region code."),
    ("11010", "Enter a 6-digit region code."),
    (110101, "Enter a 6-digit region code."),
    (ABOLISHED_COUNTY, "This region code is no longer in use."),
    ("340221", "This region code is no longer in use."),
    ("999999", "The region code is not known."),
    ("830000", "The region code is not known."),
]


@pytest.mark.parametrize("value", REGION_VALID)
def test_current_region_codes_pass(value):
    assert check_cn_region(value) is None


@pytest.mark.parametrize(("value", "message"), REGION_INVALID)
def test_other_region_codes_get_the_specific_reason(value, message):
    assert check_cn_region(value) == message


# -- cn-amount ---------------------------------------------------------------------------------

AMOUNT_VALID = [0, 0.0, 1280, 1280.5, 10**12, "0", "0.01", "1280.50", Decimal("99.99")]

AMOUNT_NOT_A_NUMBER = "Enter the amount as a number, for example 1280.50."

AMOUNT_INVALID = [
    ("", AMOUNT_NOT_A_NUMBER),
    ("abc", AMOUNT_NOT_A_NUMBER),
    ("1,280.00", AMOUNT_NOT_A_NUMBER),
    ("1e3", AMOUNT_NOT_A_NUMBER),
    (" 12", AMOUNT_NOT_A_NUMBER),
    (True, AMOUNT_NOT_A_NUMBER),
    (None, AMOUNT_NOT_A_NUMBER),
    (float("nan"), AMOUNT_NOT_A_NUMBER),
    (float("inf"), AMOUNT_NOT_A_NUMBER),
    (-1, "The amount cannot be negative."),
    ("-0.01", "The amount cannot be negative."),
    ("1.234", "The amount can have at most 2 decimal places."),
    (0.1 + 0.2, "The amount can have at most 2 decimal places."),
    (Decimal("1.000"), "The amount can have at most 2 decimal places."),
]


@pytest.mark.parametrize("value", AMOUNT_VALID)
def test_valid_amounts_pass(value):
    assert check_cn_amount(value) is None


@pytest.mark.parametrize(("value", "message"), AMOUNT_INVALID)
def test_invalid_amounts_get_the_specific_reason(value, message):
    assert check_cn_amount(value) == message


# -- normalise ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format_name", "typed", "tidied"),
    [
        ("cn-mobile", "+86 138 0013 8000", "13800138000"),
        ("cn-mobile", "0086-138-0013-8000", "13800138000"),
        ("cn-mobile", "＋８６１３８００１３８０００", "13800138000"),
        ("cn-id-number", " 110105 19491231 002x ", ID_VECTOR),
        ("cn-uscc", "91350100m000100y43", USCC_VECTOR),
        ("cn-postal-code", "100 000", "100000"),
        ("cn-mobile", 13800138000, 13800138000),
        ("email", " name@example.com ", " name@example.com "),
    ],
)
def test_normalise_tidies_typed_input_for_the_chinese_formats(format_name, typed, tidied):
    assert normalise(format_name, typed) == tidied


def test_normalised_mobile_numbers_then_validate():
    assert check_cn_mobile(normalise("cn-mobile", "+86 139 1234 5678")) is None


# -- the jsonschema format checker -------------------------------------------------------------

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "id_number": {"type": "string", "format": "cn-id-number"},
        "credit_code": {"type": "string", "format": "cn-uscc"},
        "mobile": {"type": "string", "format": "cn-mobile"},
        "postcode": {"type": "string", "format": "cn-postal-code"},
        "county": {"type": "string", "format": "cn-region"},
        "fee": {"type": ["number", "string"], "format": "cn-amount"},
        "start": {"type": "string", "format": "date"},
        "email": {"type": "string", "format": "email"},
    },
}

GOOD_ANSWERS = {
    "id_number": ID_VECTOR,
    "credit_code": USCC_VECTOR,
    "mobile": "13800138000",
    "postcode": "100000",
    "county": "110101",
    "fee": 1280.5,
    "start": "2024-02-29",
    "email": "name@example.com",
}

BAD_ANSWERS = {
    "id_number": id_number("11010520250230001"),
    "credit_code": USCC_VECTOR[:17] + "4",
    "mobile": "12800138000",
    "postcode": "10000",
    "county": ABOLISHED_COUNTY,
    "fee": "12.345",
    "start": "2025-02-30",
    "email": "not an email",
}


def test_the_format_checker_accepts_good_answers_in_a_2020_12_validation():
    validator = Draft202012Validator(SCHEMA, format_checker=format_checker())
    assert list(validator.iter_errors(GOOD_ANSWERS)) == []


def test_the_format_checker_rejects_each_bad_answer_and_explain_says_why():
    validator = Draft202012Validator(SCHEMA, format_checker=format_checker())
    reasons = {
        error.path[-1]: explain(error.validator_value, error.instance)
        for error in validator.iter_errors(BAD_ANSWERS)
        if error.validator == "format"
    }
    assert reasons == {
        "id_number": "The date of birth in the ID number is not a real date.",
        "credit_code": (
            "The unified social credit code's check character is wrong. Check the last character."
        ),
        "mobile": "The mobile number must start with 13 to 19.",
        "postcode": "Enter a 6-digit postal code.",
        "county": "This region code is no longer in use.",
        "fee": "The amount can have at most 2 decimal places.",
        "start": "Enter a real date, for example 2024-03-31.",
        "email": "Enter an email address in the correct format, like name@example.com.",
    }


def test_without_the_checker_2020_12_treats_formats_as_annotations_only():
    assert Draft202012Validator(SCHEMA).is_valid(BAD_ANSWERS)


def test_string_formats_leave_other_types_to_the_type_keyword():
    validator = Draft202012Validator({"format": "cn-mobile"}, format_checker=format_checker())
    assert validator.is_valid(13800138000)
    assert explain("cn-mobile", 13800138000) is None
    assert explain("cn-amount", -5) == "The amount cannot be negative."


def test_explain_says_nothing_for_unknown_formats():
    assert explain("no-such-format", "anything") is None


TABLES = [
    ("cn-id-number", ID_VALID + [value for value, _ in ID_INVALID]),
    ("cn-uscc", USCC_VALID + [value for value, _ in USCC_INVALID]),
    ("cn-mobile", MOBILE_VALID + [value for value, _ in MOBILE_INVALID]),
    ("cn-postal-code", POSTAL_VALID + POSTAL_INVALID),
    ("cn-region", REGION_VALID + [value for value, _ in REGION_INVALID]),
    ("cn-amount", AMOUNT_VALID + [value for value, _ in AMOUNT_INVALID]),
]


@pytest.mark.parametrize(("format_name", "values"), TABLES, ids=[name for name, _ in TABLES])
def test_explain_agrees_with_the_format_checker(format_name, values):
    checker = format_checker()
    for value in values:
        assert checker.conforms(value, format_name) == (explain(format_name, value) is None)


# -- region tree -------------------------------------------------------------------------------


def test_provinces_are_the_top_of_the_tree():
    provinces = regions.children(None)
    assert len(provinces) == 34
    assert provinces[0] == ("110000", "北京市")
    assert ("710000", "台湾省") in provinces
    assert ("810000", "香港特别行政区") in provinces
    assert ("820000", "澳门特别行政区") in provinces


def test_municipalities_have_a_three_level_picker():
    assert regions.children("110000") == [("110100", "市辖区")]
    assert ("110105", "朝阳区") in regions.children("110100")
    assert regions.children("500000") == [("500100", "市辖区"), ("500200", "县")]
    assert regions.path("110105") == [
        ("110000", "北京市"),
        ("110100", "市辖区"),
        ("110105", "朝阳区"),
    ]


def test_counties_governed_by_the_province_hang_on_a_placeholder_prefecture():
    assert regions.children("420000")[-1] == ("429000", "省直辖县级行政区划")
    assert ("429004", "仙桃市") in regions.children("429000")
    assert regions.name("659000") == "自治区直辖县级行政区划"


def test_a_prefecture_without_counties_is_a_leaf():
    assert regions.children("441900") == []
    assert regions.path("441900") == [("440000", "广东省"), ("441900", "东莞市")]


def test_names_and_status_of_current_historical_and_unknown_codes():
    assert regions.name("330106") == "西湖区"
    assert regions.is_current("330106")
    assert regions.name(ABOLISHED_COUNTY) is None
    assert not regions.is_current(ABOLISHED_COUNTY)
    assert regions.ever_existed(ABOLISHED_COUNTY)
    assert regions.path(ABOLISHED_COUNTY) == []
    assert regions.children(ABOLISHED_COUNTY) == []
    assert not regions.ever_existed("999999")


def test_every_current_code_is_reachable_from_the_provinces():
    data = json.loads(regions.DATA_FILE.read_text(encoding="utf-8"))
    seen = []
    frontier = regions.children(None)
    while frontier:
        code, _ = frontier.pop()
        seen.append(code)
        frontier.extend(regions.children(code))
    assert sorted(seen) == sorted(data["current"])


def test_the_region_data_stays_compact():
    assert regions.DATA_FILE.stat().st_size < 300_000


def test_importing_the_modules_does_not_read_the_region_data():
    script = (
        "import tongban.forms.formats, tongban.forms.regions as r;"
        "print(r._load.cache_info().currsize)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "0"


# -- messages ----------------------------------------------------------------------------------


def _marked_messages() -> set[str]:
    tree = ast.parse(Path(formats.__file__).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_"
    }


def test_every_message_has_a_chinese_translation_and_none_is_stale():
    po_path = CATALOGUE_ZH
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale="zh_CN")
    translations = {message.id: message.string for message in catalog if message.id}
    assert _marked_messages() <= set(translations)
    assert all(translations[m] for m in _marked_messages())


def test_every_message_the_checks_return_is_marked_for_translation():
    marked = _marked_messages()
    tables = ID_INVALID + USCC_INVALID + MOBILE_INVALID + REGION_INVALID + AMOUNT_INVALID
    assert {message for _, message in tables} <= marked
    assert set(formats.FORMAT_MESSAGES.values()) <= marked
