"""Saving in the form editor: a 100-question form against a 10-question one, in the same run.

Builds two draft services on a fresh SQLite database with the demo loaded, each with a form
made by the editor's own edits (every fifth question a choice, every tenth shown by a
condition on the choice before it), then times, through the Flask test client signed in as
the platform administrator:

  save    POST an edit of one question (parse, edit, write back, workspace.save_file with the
          revision lock, audit) and its redirect
  page    GET the editor page that follows (check_draft over the draft with what is
          published, the question list and panel drawn)
  preview GET the preview frame (the form compiled and its first page drawn by the engine)

and prints the median of each in ms, the 100-question time as a ratio of the 10-question time
(the baseline), and whether save + page stays under one second:

    .venv/bin/python bench/form_editor.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from sqlmodel import Session, select  # noqa: E402

from tongban import create_app  # noqa: E402
from tongban.console import form_edit, workspace  # noqa: E402
from tongban.console.form_doc import Choice, Clause, Condition, dump  # noqa: E402
from tongban.demo import DEMO_PASSWORD, load_demo  # noqa: E402
from tongban.migrate import upgrade  # noqa: E402
from tongban.models import User  # noqa: E402

KINDS = ("text", "mobile", "integer", "date", "choice", "id_number", "textarea", "email",
         "yes_no", "choice")


def form_text(questions: int) -> str:
    doc: dict = {"title": {"zh": "基准表单", "en": "Benchmark form"},
                 "schema": {"type": "object", "properties": {}}}
    for number in range(1, questions + 1):
        kind = KINDS[(number - 1) % len(KINDS)]
        doc, key = form_edit.add_question(doc, kind, f"问题{number}", f"Question {number}")
        doc = form_edit.update_question(doc, key, form_edit.QuestionEdit(
            f"问题{number}", f"Question {number}", "提示", "Hint", required=number % 2 == 0,
            choices=(Choice("a", "甲", "A"), Choice("b", "乙", "B"), Choice("c", "丙", "C"))
            if kind == "choice" else None))
        if number % 10 == 0:
            doc = form_edit.set_condition(doc, key, Condition(
                "all", (Clause(f"q{number - 5}", "eq", "b"),)))
        if number % 25 == 0 and number < questions:
            doc = form_edit.split_page(doc, key, f"第{number // 25 + 1}部分")
    return dump(doc)


def make_service(session: Session, code: str, questions: int, admin: User) -> None:
    service = (ROOT / "workflow_definitions/urban-event-report.yaml").read_text("utf-8")
    service = service.replace("code: urban-event-report", f"code: {code}").replace(
        "form: urban-event-report", f"form: {code}")
    workspace.create_service(session, code, "sh-cgj", {
        f"workflow_definitions/{code}.yaml": service,
        f"form_definitions/{code}.json": form_text(questions)}, admin, source="bench")


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(client, code: str, rounds: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    editor = f"/admin/services/{code}/form"
    timings: dict[str, list[float]] = {"save": [], "page": [], "preview": []}
    html = client.get(editor + "?q=q3").get_data(as_text=True)
    for index in range(rounds + 2):  # two warm-up rounds
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        revision = re.search(r'name="revision" value="(\d+)"', html)
        assert token and revision
        started = time.perf_counter()
        response = client.post(editor + "/question/q3", data={
            "csrf_token": token.group(1), "revision": revision.group(1), "q": "q3",
            "label_zh": f"手机号码{index}", "label_en": "Mobile", "required": "1"})
        saved = time.perf_counter()
        assert response.status_code == 303, response.status_code
        page = client.get(response.headers["Location"])
        drawn = time.perf_counter()
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        preview = client.get(editor + "/preview")
        shown = time.perf_counter()
        assert preview.status_code == 200
        if index >= 2:
            timings["save"].append(saved - started)
            timings["page"].append(drawn - saved)
            timings["preview"].append(shown - drawn)
    return {name: median_ms(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                          "DEFINITIONS_DIR": str(ROOT), "UPLOAD_DIR": f"{folder}/uploads",
                          "LOGIN_RATE_LIMIT_ADDRESS": "10000 per minute",
                          "LOGIN_RATE_LIMIT_ACCOUNT": "10000 per minute"},
                         instance_path=Path(folder) / "instance")
        engine = app.extensions["tongban.engine"]
        with app.app_context():
            load_demo(engine, ROOT)
        with Session(engine) as session:
            admin = session.scalars(select(User).where(User.username == "admin")).one()
            make_service(session, "bench-ten", 10, admin)
            make_service(session, "bench-hundred", 100, admin)
            session.commit()
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD,
                                    "csrf_token": token.group(1)})
        ten = run(client, "bench-ten", args.rounds)
        hundred = run(client, "bench-hundred", args.rounds)
        engine.dispose()
    print(f"{'median ms':<10} {'10 questions':>13} {'100 questions':>14} {'ratio':>6}")
    for name in ("save", "page", "preview"):
        print(f"{name:<10} {ten[name]:>13.1f} {hundred[name]:>14.1f} "
              f"{hundred[name] / ten[name]:>6.2f}")
    total_ten = ten["save"] + ten["page"]
    total = hundred["save"] + hundred["page"]
    print(f"{'save+page':<10} {total_ten:>13.1f} {total:>14.1f} {total / total_ten:>6.2f}")
    print(f"100-question save and redraw under one second: {'yes' if total < 1000 else 'NO'} "
          f"({total:.0f} ms)")


if __name__ == "__main__":
    main()
