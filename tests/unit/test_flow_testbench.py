"""The test bench itself: scripts are checked with file:line messages before anything runs,
the command's exits and --check/--out, and the examples in docs/flows.md run as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tongban.cli import main
from tongban.workflow.testbench import (
    ScriptError,
    first_difference,
    load_script,
    read_expected,
    run_script,
    trace_text,
)

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "flows.md").read_text("utf-8")
EXAMPLES = list(zip(re.findall(r"```yaml\n(.*?)```", GUIDE, re.S),
                    re.findall(r"```jsonl\n(.*?)```", GUIDE, re.S), strict=True))
WCP1 = ROOT / "tests" / "flows" / "wcp-01-sequence.yaml"

HEAD = """\
flow:
  code: test-flow
  name: {zh: 示例, en: Example}
  nodes:
    start: {type: start, next: review}
    review: {type: task, name: {zh: review, en: review}, who: {user: rev_a}, next: done}
    done: {type: end, outcome: approved}
departments: [{code: sh-rsj}]
users:
  zhang: {roles: [[citizen]]}
  rev_a: {roles: [[reviewer, sh-rsj]]}
applicant: zhang
start_at: 2026-10-09T09:00
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    return [str(p).replace(str(path), "s.yaml") for p in caught.value.problems]


def test_an_unknown_key_of_an_action_is_named_at_its_line(tmp_path: Path) -> None:
    assert problems_of(tmp_path, HEAD + "actions:\n  - {at: 2026-10-09T10:00, actor: rev_a, "
                       "action: approve, task: review, colour: red}\n") == [
        's.yaml:15:81: at /actions/0/colour unknown key "colour"; expected one of: action, '
        "actor, at, choose, comment, task, values"]


def test_an_unknown_action_and_a_missing_argument(tmp_path: Path) -> None:
    assert problems_of(tmp_path, HEAD + """\
actions:
  - {at: 2026-10-09T10:00, actor: rev_a, action: aprove, task: review}
  - {at: 2026-10-09T11:00, actor: rev_a, action: return, task: review}
""") == [
        's.yaml:15:50: at /actions/0/action expected one of: "claim", "release", "accept", '
        '"approve", "reject", "refuse_intake", "return", "vote", "request_correction", '
        '"resubmit", "submit_correction", "transfer", "add_signer", "withdraw", '
        '"withdraw_action", "comment", "cc", "remind", "run_outbox", "deliver", "repair", '
        '"migrate", "advance", "pause_clock", "resume_clock", "request_extension", '
        '"decide_extension"',
        's.yaml:16:5: at /actions/1 missing required key "target"']


def test_unknown_users_and_time_going_backwards(tmp_path: Path) -> None:
    assert problems_of(tmp_path, HEAD.replace("applicant: zhang", "applicant: wang") + """\
actions:
  - {at: 2026-10-09T10:00, actor: rev_a, action: approve, task: review}
  - {at: 2026-10-09T09:30, actor: rev_b, action: approve, task: review}
delegations:
  - {user: rev_a, delegate: zhang, from: 2026-10-09T10:00, until: 2026-10-09T10:00}
""") == [
        's.yaml:12:12: at /applicant "wang" is not in users',
        "s.yaml:18:67: at /delegations/0/until a delegation must end after it starts",
        's.yaml:16:35: at /actions/1/actor "rev_b" is not in users',
        "s.yaml:16:10: at /actions/1/at actions must be in time order; this one is before "
        "2026-10-09T10:00"]


def test_a_flow_or_a_service_but_not_both(tmp_path: Path) -> None:
    assert problems_of(tmp_path, HEAD + "service: residence-points\nactions: []\n") == [
        's.yaml:1:1: name either "flow" or "service" (exactly one)']


def test_yaml_errors_and_missing_flow_files_have_their_place(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "users: {zhang: {}\n") == [
        "s.yaml:2:1: YAML syntax error: expected ',' or '}', but got '<stream end>'"]
    path = tmp_path / "s.yaml"
    text = "flow: missing.yaml\ndepartments:" + HEAD.split("departments:", 1)[1]
    path.write_text(text + "actions: []\n", encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        run_script(path)
    assert [p.message for p in caught.value.problems] == [
        'no flow file "missing.yaml" (a path relative to the script, or a flow code under '
        "workflow_definitions/flows/)"]
    assert caught.value.problems[0].line == 1


def test_an_inline_flow_is_checked_like_a_flow_file(tmp_path: Path) -> None:
    """The shipped flow meta-schema and graph checks, at the script's own lines."""
    text = HEAD.replace("next: done}\n    done:", "next: dnoe}\n    done:")
    assert problems_for_run(tmp_path, text + "actions: []\n") == [
        's.yaml:6:84: at /nodes/review/next node "review" leads to "dnoe", which is not a node '
        "of this flow; expected one of: done, review, start"]


def problems_for_run(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        run_script(path)
    return [str(p).replace(str(path), "s.yaml") for p in caught.value.problems]


def test_first_difference_names_the_line_and_the_keys() -> None:
    got = [{"event": "started", "status": "submitted"}, {"event": "approved", "task": 1}]
    assert first_difference(got, got) is None
    assert first_difference(got, [got[0], {"event": "approved", "task": 2}]) == (
        "line 2 differs in task:\n"
        '  expected {"event": "approved", "task": 2}\n'
        '  got      {"event": "approved", "task": 1}')
    assert first_difference(got, got[:1]).startswith("line 2: expected the end of the trace")
    assert first_difference(got[:1], got).startswith("line 2: the trace ended; expected")


def test_the_command_writes_checks_and_fails_on_a_difference(tmp_path: Path) -> None:
    runner = CliRunner()
    expected = WCP1.with_name("wcp-01-sequence.expected.jsonl")
    out = tmp_path / "trace.jsonl"
    result = runner.invoke(main, ["flow", "run", str(WCP1), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert read_expected(out) == read_expected(expected)
    result = runner.invoke(main, ["flow", "run", str(WCP1), "--check", str(expected)])
    assert result.exit_code == 0, result.output
    assert "OK: the trace matches" in result.output
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(expected.read_text("utf-8").replace('"rev_b"', '"rev_c"', 1), "utf-8")
    result = runner.invoke(main, ["flow", "run", str(WCP1), "--check", str(wrong)])
    assert result.exit_code == 1
    assert "differs in actor" in result.output
    result = runner.invoke(main, ["flow", "run", str(WCP1)])
    assert result.exit_code == 0
    assert result.output == trace_text(run_script(WCP1))
    bad = tmp_path / "bad.yaml"
    bad.write_text("users: 3\n", "utf-8")
    result = runner.invoke(main, ["flow", "run", str(bad)])
    assert result.exit_code == 2
    assert "problem(s) found; the script did not run" in result.output


def test_the_guide_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_each_example_in_the_guide_runs_as_shown(index: int, tmp_path: Path) -> None:
    script, expected = EXAMPLES[index]
    (tmp_path / "example.yaml").write_text(script, encoding="utf-8")
    (tmp_path / "example.expected.jsonl").write_text(expected, encoding="utf-8")
    trace = run_script(tmp_path / "example.yaml")
    assert first_difference(trace, read_expected(tmp_path / "example.expected.jsonl")) is None


def test_a_refusal_that_changed_the_state_is_marked(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine promises to change nothing when it refuses; the bench checks the promise."""
    from tongban.workflow import errors, testbench

    def sloppy(state: object, actor_id: int, now: object, **args: object) -> None:
        state.instance.status = "approved"  # type: ignore[attr-defined]
        raise errors.invalid("comment_required")

    real = testbench.operation
    monkeypatch.setattr(testbench, "operation",
                        lambda name: sloppy if name == "reject" else real(name))
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "actions:\n  - {at: 2026-10-09T10:00, actor: rev_a, action: reject, "
                    "task: review}\n", encoding="utf-8")
    last = run_script(path)[-1]
    assert last == {"at": "2026-10-09T10:00", "event": "refused", "node": "review",
                    "actor": "rev_a", "task": 1, "status": "approved",
                    "error": "comment_required", "changed": True}


def test_an_operation_the_engine_lacks_is_a_script_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tongban.workflow import testbench

    def missing(name: str) -> object:
        raise LookupError(f"the engine has no operation {name!r}")

    real = testbench.operation
    monkeypatch.setattr(testbench, "operation",
                        lambda name: missing(name) if name == "remind" else real(name))
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "actions:\n  - {at: 2026-10-09T10:00, actor: zhang, action: remind, "
                    "task: review}\n", encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        run_script(path)
    assert [str(p).replace(str(path), "s.yaml") for p in caught.value.problems] == [
        "s.yaml:15:50: at /actions/0/action the engine has no operation 'remind'"]


def test_the_command_needs_no_app_and_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """From a fresh clone: no configuration, no instance folder, no database."""
    import tongban.cli

    def no_app() -> None:
        raise AssertionError("tongban flow run must not create the app")

    monkeypatch.setattr(tongban.cli, "create_app", no_app)
    result = CliRunner().invoke(main, ["flow", "run", str(WCP1), "--check",
                                       str(WCP1.with_name("wcp-01-sequence.expected.jsonl"))])
    assert result.exit_code == 0, result.output
