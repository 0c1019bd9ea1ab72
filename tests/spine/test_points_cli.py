"""`tongban points eval` and `tongban points list`: the published version when the database has
it, else the file; bad input is one line on stderr and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

from tongban import PROJECT_ROOT
from tongban.definitions import load_directory, publish

ANSWERS = {"applicant": {"name": "张三", "birth_date": "1982-12-02"},
           "education": {"level": "bachelor_degree"}, "qualification": {"kind": "none"},
           "social_insurance": {"months": 0, "base_band": "below_0_8"},
           "record": {"serious_crime": False}}


def write(tmp_path: Path, data: object, name: str = "answers.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_eval_prints_the_result_from_the_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("points", "eval", "sh-residence-points", "--inputs", write(tmp_path, ANSWERS),
                 "--as-of", "2026-12-02")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("rule set sh-residence-points from its file (database without a "
                             "published sh-residence-points)\n")
    printed = json.loads(result.stdout)
    assert (printed["total"], printed["eligible"], printed["threshold"]) == (119, False, 120)
    assert printed["version"] is None and printed["as_of"] == "2026-12-02"
    age = printed["indicators"][0]
    assert (age["id"], age["points"], age["explanation"]["zh"]) == (
        "age", 29, "年龄 44 周岁（44 周岁）：29 分")


def test_eval_uses_the_published_version(cli, session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    publish(session, load_directory(PROJECT_ROOT), author="ops")
    session.commit()
    result = cli("points", "eval", "sh-residence-points", "--inputs", write(tmp_path, ANSWERS),
                 "--as-of", "2026-12-03")
    assert result.exit_code == 0, result.output
    assert result.stderr == "rule set sh-residence-points version 1 from the database\n"
    assert json.loads(result.stdout)["version"] == 1
    assert json.loads(result.stdout)["total"] == 119

    listed = cli("points", "list")
    assert listed.stdout == ("sh-residence-points\tv1\t上海市居住证积分\t"
                             "Shanghai residence permit points\n")
    assert listed.stderr == "published rule sets (database):\n"


def test_list_shows_the_files_when_nothing_is_published(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("points", "list")
    assert result.exit_code == 0
    assert "sh-residence-points\tfile\t上海市居住证积分\tShanghai residence permit points\n" \
        in result.stdout
    assert result.stderr == "rule set files (no rule set published in the database):\n"


def test_bad_input_is_one_line_and_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = {key: value for key, value in ANSWERS.items() if key != "social_insurance"}
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    cases = [
        (("sh-residence-points", "--inputs", write(tmp_path, missing, "missing.json")),
         'error: the required input "si_months" (Months of social insurance) is missing: '
         "expected at social_insurance.months in the answers"),
        (("sh-residence-points", "--inputs", write(tmp_path, [1], "list.json")),
         f"error: {tmp_path / 'list.json'}: expected a JSON object (the answers), found list"),
        (("sh-residence-points", "--inputs", str(tmp_path / "broken.json")),
         f"error: {tmp_path / 'broken.json'} is not JSON: Expecting property name enclosed in "
         "double quotes: line 1 column 2 (char 1)"),
        (("sh-residence-points", "--inputs", str(tmp_path / "nowhere.json")),
         f"error: {tmp_path / 'nowhere.json'}: no such file"),
        (("sh-residence-points", "--inputs", write(tmp_path, ANSWERS), "--as-of", "2026-02-30"),
         'error: --as-of "2026-02-30" is not a date; expected YYYY-MM-DD'),
        (("sh-points", "--inputs", write(tmp_path, ANSWERS)),
         'error: unknown rule set "sh-points"; rule set files: sh-residence-points'),
        (("sh-residence-points", "--inputs",
          write(tmp_path, {**ANSWERS, "social_insurance": {"months": "many",
                                                           "base_band": "1_to_2"}},
                "many.json")),
         "error: the answer at social_insurance.months ('many') cannot be read as \"si_months\": "
         "expected a whole number"),
    ]
    for args, message in cases:
        result = cli("points", "eval", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert result.stderr.splitlines()[-1] == message


def test_defs_check_counts_the_rule_sets(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("defs", "check")
    assert result.exit_code == 0, result.output
    rule_sets = len(list((PROJECT_ROOT / "workflow_definitions/rules").glob("*.yaml")))
    assert rule_sets >= 1
    assert result.stdout.endswith(f"form(s) and {rule_sets} rule set(s) in {PROJECT_ROOT}.\n")
