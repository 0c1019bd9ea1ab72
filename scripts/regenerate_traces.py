"""Regenerate the expected traces of the flow conformance suite (tests/flows/*.expected.jsonl)
after a change of the trace format, and check that the change is only what it claims to be.

    PYTHONPATH=platform .venv/bin/python scripts/regenerate_traces.py --only-new-keys due app_due paused

With ``--only-new-keys K …`` every existing expected trace must equal the new one once the keys
K are left out of both (same lines, same order, same values): the script then writes
the new traces; otherwise it lists the scripts that differ in more and writes nothing. Scripts
without an expected trace yet get one written (review it by hand before committing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tongban.workflow.testbench import read_expected, run_script, trace_text

ROOT = Path(__file__).resolve().parents[1]
FLOWS = ROOT / "tests" / "flows"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only-new-keys", nargs="*", default=None, metavar="KEY",
                        help="fail unless the new traces differ from the old ones only by these keys")
    parser.add_argument("scripts", nargs="*", type=Path, help="default: every tests/flows/*.yaml")
    args = parser.parse_args()
    scripts = args.scripts or sorted(FLOWS.glob("*.yaml"))
    written: dict[Path, str] = {}
    bad: list[str] = []
    for script in scripts:
        expected = script.with_name(script.name.removesuffix(".yaml") + ".expected.jsonl")
        trace = run_script(script)
        if expected.is_file() and args.only_new_keys is not None:
            def strip(lines: list[dict[str, object]]) -> list[dict[str, object]]:
                return [{k: v for k, v in line.items() if k not in args.only_new_keys}
                        for line in lines]
            if strip(trace) != strip(read_expected(expected)):
                bad.append(script.name)
                continue
        written[expected] = trace_text(trace)
    if bad:
        print("these traces change in more than the new keys:", *bad, sep="\n  ")
        return 1
    changed = 0
    for path, text in written.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
    print(f"{len(written)} traces checked, {changed} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
