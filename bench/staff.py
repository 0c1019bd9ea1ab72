"""Staff administration speed (issue 14 item 8), on a scratch SQLite database:

    .venv/bin/python bench/staff.py [--users 20000] [--rows 500]

(a) The users list: `staff.directory.find` over N users, each with a role in one of 200
    departments, as a platform administrator (no filter, a text search, a department with its
    sub-departments and a role) and as a department administrator. Baseline: one user read by
    primary key. Goal: every query under 100 ms.
(b) The CSV import of R new users: the dry run (`bulk.plan`) and the import (`bulk.apply`),
    which hashes one random one-time password per new account (`hash_random_secret`: argon2id
    at t=1, m=1 MiB, enough for a random secret). Baseline: R hashes at the password cost
    (t=2, m=19 MiB), what the import cost before. Goal: 2,000 rows (MAX_ROWS) under 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from tongban import audit, db
from tongban.accounts import hash_password
from tongban.migrate import upgrade
from tongban.models import Department, Membership, Role, User, utcnow
from tongban.policy import Actor, DepartmentTree
from tongban.staff import bulk, directory


def _timed(call: Callable[[], object], repeat: int = 20) -> float:
    """The median time of ``call`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'staff.sqlite3'}"
    upgrade(url)
    engine = db.make_engine(url)
    audit.use_key(engine, audit.KeySource("k" * 40, folder / "audit_key"))
    with Session(engine) as session:
        session.execute(insert(Department), [
            {"id": 1, "code": "city", "name_zh": "市", "name_en": "City", "parent_id": None}] + [
            {"id": i, "code": f"d{i}", "name_zh": f"部门{i}", "name_en": f"Dept {i}",
             "parent_id": 1 if i <= 20 else 2 + (i % 19)} for i in range(2, 201)])
        now, digest = utcnow(), hash_password("not-used")
        session.execute(insert(User), [
            {"id": i, "username": f"user{i:06d}", "display_name": f"用户{i}",
             "password_hash": digest, "is_active": True, "failed_logins": 0,
             "created_at": now, "must_change_password": False}
            for i in range(1, args.users + 1)])
        session.execute(insert(Membership), [
            {"user_id": i, "role": "reviewer", "department_id": 2 + i % 199}
            for i in range(1, args.users + 1)])
        session.commit()
        tree = DepartmentTree.load(session)
        platform = directory.Who(Actor.of(1, [(Role.PLATFORM_ADMIN, None)]), tree, 1, "bench")
        local = directory.Who(Actor.of(2, [(Role.DEPARTMENT_ADMIN, "d3")]), tree, 2, "bench")
        print(f"(a) users list over {args.users:,} users (median ms)")
        print(f"    baseline, one user by id:          {_timed(lambda: session.get(User, 77)):7.2f}")
        for name, who, kwargs in [
                ("platform admin, no filter", platform, {}),
                ("platform admin, text search", platform, {"text": "用户123"}),
                ("platform admin, department tree", platform, {"department": "d3"}),
                ("platform admin, role", platform, {"role": "reviewer"}),
                ("department admin, no filter", local, {})]:
            ms = _timed(lambda who=who, kwargs=kwargs: directory.find(session, who, **kwargs))
            print(f"    {name + ':':35} {ms:7.2f}")
        rows = "\n".join(f"new{i:05d},新用户{i},d{2 + i % 199},reviewer" for i in range(args.rows))
        text = "username,display_name,department_code,roles\n" + rows + "\n"
        print(f"(b) CSV import of {args.rows} new users")
        start = time.perf_counter()
        for _ in range(args.rows):
            hash_password("x" * 14)
        baseline = time.perf_counter() - start
        print(f"    baseline, {args.rows} password hashes:   {baseline:7.2f} s")
        start = time.perf_counter()
        planned = bulk.plan(session, platform, text)
        print(f"    dry run:                           {time.perf_counter() - start:7.2f} s")
        assert not planned.problems
        session.rollback()
        start = time.perf_counter()
        with db.unit_of_work(session) as tx:
            created = bulk.apply(tx, platform, text)
        print(f"    import ({len(created)} accounts):             "
              f"{time.perf_counter() - start:7.2f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
