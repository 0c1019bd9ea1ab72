"""Bad calendar files: each problem with its file, line, column and exact message."""

from __future__ import annotations

import pytest

from tongban.definitions.loader import calendar_schema_problems
from tongban.definitions.yamlpos import read_yaml
from tongban.worktime import file_calendar
from tongban.worktime.check import check_documents, region_allowed
from tongban.worktime.files import catalogue_regions

HEAD = """id: local
name: {zh: 本地, en: Local}
region: CN
timezone: Asia/Shanghai
weekend: [saturday, sunday]
"""


def problems(text: str, known: dict | None = None) -> list[str]:
    _, found = check_documents([("local.yaml", "local", read_yaml(text))],
                               schema=calendar_schema_problems, regions=catalogue_regions(), known=known)
    return [str(p) for p in found]


def year(body: str) -> str:
    return HEAD + "years:\n  2026:\n    source: test\n" + body


def test_a_good_file_has_no_problems():
    assert problems(year("    holidays:\n      - {name: 国庆, from: 2026-10-01, to: 2026-10-07}\n"
                         "    workdays: [2026-10-10]\n")) == []


@pytest.mark.parametrize(("body", "message"), [
    ("    holidays:\n      - {name: 国庆, from: 2026-10-01, to: 2026-10-07}\n"
     "    workdays: [2026-10-03]\n",
     "local.yaml:11:16: at /years/2026/workdays/0 2026-10-03 is both a holiday (国庆) and a "
     "make-up working day; expected one or the other"),
    ("    workdays: [2025-10-11]\n",
     "local.yaml:9:16: at /years/2026/workdays/0 2025-10-11 is not in 2026; expected a day of "
     "the year it is listed under"),
    ("    holidays:\n      - {name: 元旦, from: 2027-01-01, to: 2027-01-01}\n",
     "local.yaml:10:26: at /years/2026/holidays/0/from 2027-01-01 is not in 2026; expected a "
     "day of the year it is listed under\nlocal.yaml:10:42: at /years/2026/holidays/0/to "
     "2027-01-01 is not in 2026; expected a day of the year it is listed under"),
    ("    holidays:\n      - {name: 国庆, from: 2026-10-07, to: 2026-10-01}\n",
     "local.yaml:10:26: at /years/2026/holidays/0/from from 2026-10-07 is after to 2026-10-01"),
    ("    holidays:\n      - {name: 国庆, from: 2026-10-01, to: 2026-10-07}\n"
     "      - {name: 中秋, from: 2026-10-06, to: 2026-10-08}\n",
     "local.yaml:11:26: at /years/2026/holidays/1/from 中秋 (2026-10-06 … 2026-10-08) overlaps "
     "国庆 (2026-10-01 … 2026-10-07)"),
    ("    holidays:\n      - {name: 国庆, from: 2026-10-01, to: 2026-10-07}\n"
     "      - {name: 中秋, from: 2026-09-25, to: 2026-09-27}\n",
     "local.yaml:11:26: at /years/2026/holidays/1/from holidays are not in date order: 中秋 "
     "(2026-09-25) is listed after 国庆 (2026-10-01)"),
    ("    workdays: [2026-10-12]\n",
     "local.yaml:9:16: at /years/2026/workdays/0 2026-10-12 is a monday, a working day anyway; "
     "a make-up working day must fall on the weekend"),
    ("    workdays: ['2026-02-30']\n",
     'local.yaml:9:16: at /years/2026/workdays/0 "2026-02-30" is not a date; expected '
     "YYYY-MM-DD"),
])
def test_bad_days(body, message):
    assert "\n".join(problems(year(body))) == message


def test_an_unquoted_impossible_date_is_a_read_error():
    from tongban.definitions.yamlpos import ReadError

    with pytest.raises(ReadError) as caught:
        read_yaml(year("    workdays: [2026-02-30]\n"))
    assert (caught.value.line, caught.value.column) == (9, 16)
    assert caught.value.message == '"2026-02-30" is not a date; expected YYYY-MM-DD'


def test_unknown_region():
    text = year("").replace("region: CN", 'region: "990000"')
    assert problems(text) == [
        'local.yaml:3:9: at /region unknown region "990000"; expected "CN" or a region code of '
        "the department catalogue (workflow_definitions/departments.yaml) or a province or "
        "city containing one"]


def test_without_a_catalogue_any_current_region_code():
    text = year("").replace("region: CN", 'region: "990000"')
    _, found = check_documents([("local.yaml", "local", read_yaml(text))],
                               schema=calendar_schema_problems, regions=set())
    assert [str(p) for p in found] == [
        'local.yaml:3:9: at /region unknown region "990000"; expected "CN" or a current '
        "administrative region code"]
    _, found = check_documents([("local.yaml", "local", read_yaml(text.replace("990000", "110000")))],
                               schema=calendar_schema_problems, regions=set())
    assert found == []


def test_regions_of_the_catalogue_and_what_contains_them():
    regions = catalogue_regions()
    assert "310104" in regions
    assert region_allowed("310104", regions) and region_allowed("310000", regions)
    assert region_allowed("310100", regions) and region_allowed("CN", regions)
    assert not region_allowed("110000", regions) and not region_allowed("310199", regions)


def test_unknown_extends():
    text = ("id: local\nname: {zh: 本地, en: Local}\nregion: CN\ntimezone: Asia/Shanghai\n"
            "extends: nowhere\n")
    assert problems(text, known={"cn": file_calendar("cn")}) == [
        'local.yaml:5:10: at /extends unknown calendar "nowhere" in extends; known calendars: cn']


def test_a_derived_calendar_stays_in_its_parents_years():
    text = ("id: local\nname: {zh: 本地, en: Local}\nregion: \"310000\"\ntimezone: Asia/Shanghai\n"
            "extends: cn\nyears:\n  2027:\n    source: test\n")
    assert problems(text, known={"cn": file_calendar("cn")}) == [
        'local.yaml:7:3: at /years/2027 year 2027 is not in the calendar it extends ("cn": '
        "2025–2026); publish it there first"]


def test_years_follow_each_other_and_a_root_calendar_names_them():
    text = HEAD + "years:\n  2025: {source: a}\n  2027: {source: b}\n"
    assert problems(text) == [
        "local.yaml:8:3: at /years/2027 year 2026 is missing between 2025 and 2027; years must "
        "follow each other"]
    assert problems(HEAD) == [
        'local.yaml:1:1: missing required key "years" (a calendar that extends no other must '
        "name its weekend and years)"]


def test_the_schema_speaks_first():
    assert problems(year("    holiday: []\n")) == [
        'local.yaml:9:5: at /years/2026/holiday unknown key "holiday"; expected one of: '
        "holidays, source, workdays"]
    assert problems(year("").replace("Asia/Shanghai", "Europe/Paris")) == [
        'local.yaml:4:11: at /timezone expected one of: "Asia/Shanghai"']


def test_the_id_is_the_file_name():
    assert problems(year("").replace("id: local", "id: other")) == [
        'local.yaml:1:5: at /id the id "other" differs from the file name "local"; expected '
        "the same"]


def test_a_calendar_extending_another_in_the_same_set():
    child = ("id: child\nname: {zh: 子, en: Child}\nregion: CN\ntimezone: Asia/Shanghai\n"
             "extends: local\nextra_days_off:\n  - {date: 2026-07-20, name: 台风停工}\n")
    compiled, found = check_documents(
        [("child.yaml", "child", read_yaml(child)), ("local.yaml", "local", read_yaml(year("")))],
        schema=calendar_schema_problems, regions=catalogue_regions())
    assert found == []
    assert list(compiled) == ["local", "child"]
    assert compiled["child"].holidays[__import__("datetime").date(2026, 7, 20)] == "台风停工"


def test_file_calendars_follow_their_files(tmp_path):
    import os
    import shutil

    from tongban import PROJECT_ROOT
    from tongban.worktime import DEFAULT_CALENDAR, calendar_id_of

    shutil.copytree(PROJECT_ROOT / "workflow_definitions", tmp_path / "workflow_definitions")
    shanghai = file_calendar("shanghai", root=tmp_path)
    assert file_calendar("shanghai", root=tmp_path) is shanghai  # compiled once
    cn = tmp_path / "workflow_definitions/calendars/cn.yaml"
    cn.write_text(cn.read_text("utf-8") + "extra_days_off:\n  - {date: 2026-07-20, name: 停工}\n",
                  "utf-8")
    os.utime(cn, ns=(cn.stat().st_atime_ns, cn.stat().st_mtime_ns + 10**9))
    changed = file_calendar("shanghai", root=tmp_path)
    assert changed is not shanghai
    assert __import__("datetime").date(2026, 7, 20) in changed.holidays
    assert DEFAULT_CALENDAR == "shanghai" == calendar_id_of({"code": "x"})
    assert calendar_id_of({"calendar": "cn"}) == "cn"
