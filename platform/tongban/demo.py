"""Demo data for the embedded default: the shipped services and one account per role."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from . import db
from .accounts import create_user, hash_password
from .counter_intake import seed_credit_bars
from .definitions import load_directory, publish
from .ledger_demo import seed_points
from .migrate import upgrade
from .models import Role, User

DEMO_PASSWORD = "tongban-demo-2026"  # noqa: S105 - printed on purpose; demo installs only

# username, display name, roles (role, department code or None)
DEMO_ACCOUNTS: list[tuple[str, str, list[tuple[Role, str | None]]]] = [
    ("citizen", "张三", [(Role.CITIZEN, None)]),
    ("enterprise", "上海示例科技有限公司", [(Role.ENTERPRISE, None)]),
    ("clerk", "李窗口", [(Role.COUNTER_CLERK, None)]),
    ("reviewer", "王审核", [(Role.REVIEWER, "sh-rsj"), (Role.REVIEWER, "sh-cgj"),
                            (Role.REVIEWER, "sh-gaj")]),
    ("deptadmin", "赵管理", [(Role.DEPARTMENT_ADMIN, "sh-rsj")]),
    ("admin", "平台管理员", [(Role.PLATFORM_ADMIN, None)]),
    ("outsider", "无权限用户", []),
    # The demo flows (workflow_definitions/flows/), acted out in 徐汇区 (310104) and 浦东新区
    # (310115): district counters and reviewers, municipal reviewers, and a second reviewer
    # wherever a node is exclusive with another (four-eyes).
    ("clerk_xuhui", "徐窗口", [(Role.COUNTER_CLERK, "sh-rsj-xuhui"),
                               (Role.COUNTER_CLERK, "sh-cgj-xuhui"),
                               (Role.COUNTER_CLERK, "sh-gaj-xuhui")]),
    ("clerk_pudong", "浦窗口", [(Role.COUNTER_CLERK, "sh-rsj-pudong"),
                                (Role.COUNTER_CLERK, "sh-cgj-pudong"),
                                (Role.COUNTER_CLERK, "sh-gaj-pudong")]),
    ("rsj_xuhui", "许初审", [(Role.REVIEWER, "sh-rsj-xuhui")]),
    ("rsj_pudong", "潘初审", [(Role.REVIEWER, "sh-rsj-pudong")]),
    ("rsj_city", "钱复核", [(Role.REVIEWER, "sh-rsj")]),
    ("rsj_city2", "孙复核", [(Role.REVIEWER, "sh-rsj")]),
    ("cgj_xuhui", "周城管", [(Role.REVIEWER, "sh-cgj-xuhui")]),
    ("cgj_xuhui2", "吴核查", [(Role.REVIEWER, "sh-cgj-xuhui")]),
    ("lhsrj_xuhui", "郑市容", [(Role.REVIEWER, "sh-lhsrj-xuhui")]),
    ("zjw_xuhui", "冯建管", [(Role.REVIEWER, "sh-zjw-xuhui")]),
    ("gaj_city", "陈户政", [(Role.REVIEWER, "sh-gaj")]),
    ("gaj_city2", "褚审批", [(Role.REVIEWER, "sh-gaj")]),
    ("gaj_xuhui", "卫分局", [(Role.REVIEWER, "sh-gaj-xuhui")]),
    ("mzj", "蒋民政", [(Role.REVIEWER, "sh-mzj")]),
    ("scjgj", "林信用", [(Role.REVIEWER, "sh-scjgj")]),  # the example credit grading
    ("wjw", "何卫健", [(Role.REVIEWER, "sh-wjw")]),  # the newborn bundle's birth certificate
    ("cgjadmin", "沈管理", [(Role.DEPARTMENT_ADMIN, "sh-cgj")]),
    ("gajadmin", "韩管理", [(Role.DEPARTMENT_ADMIN, "sh-gaj")]),
    ("cityadmin", "杨管理", [(Role.DEPARTMENT_ADMIN, "sh-lhsrj"),
                             (Role.DEPARTMENT_ADMIN, "sh-zjw")]),
]


class DemoRefused(RuntimeError):
    """The database holds real accounts: demo accounts with a published password would be a
    way in."""


def load_demo(engine: Engine, definitions_dir: Path, *, force: bool = False) -> list[str]:
    """Bring a database to a demo-ready state; safe to run again. Returns lines to print.

    Refuses (before changing anything) when the database holds accounts other than the demo
    ones, unless ``force``."""
    upgrade(engine.url.render_as_string(hide_password=False))
    with db.new_session(engine) as session:
        return _load(session, definitions_dir, force=force)


def _load(session: Session, definitions_dir: Path, *, force: bool) -> list[str]:
    demo_names = [username for username, _name, _roles in DEMO_ACCOUNTS]
    others = session.scalars(select(col(User.username))
                                  .where(col(User.username).not_in(demo_names))
                                  .limit(3)).all()
    session.rollback()  # end the read before the writes below
    if others and not force:
        raise DemoRefused(
            f"This database already has accounts other than the demo ones ({', '.join(others)}"
            f"{', ...' if len(others) == 3 else ''}); the demo accounts share a published "
            "password. Nothing was changed. Use --force to create them anyway.")
    lines = []
    definitions = load_directory(definitions_dir)
    if not definitions.ok:
        raise RuntimeError("shipped definitions have problems:\n"
                           + "\n".join(str(p) for p in definitions.problems))
    with db.unit_of_work(session) as tx:
        result = publish(tx, definitions, author="demo", comment="demo services")
    lines.append(f"Definitions: {len(result.created)} new version(s), "
                 f"{len(result.unchanged)} unchanged.")
    lines.extend(result.kept)
    with db.unit_of_work(session) as tx:
        existing = set(tx.scalars(select(col(User.username))
                                  .where(col(User.username).in_(demo_names))))
        hashed = hash_password(DEMO_PASSWORD) if len(existing) < len(demo_names) else None
        for username, display_name, roles in DEMO_ACCOUNTS:
            if username not in existing:
                create_user(tx, username, DEMO_PASSWORD, display_name, roles, actor_name="demo",
                            password_hash=hashed)
    with db.unit_of_work(session) as tx:
        lines.extend(seed_points(tx))
    with db.unit_of_work(session) as tx:
        lines.extend(seed_credit_bars(tx))
    lines.append(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, display_name, roles in DEMO_ACCOUNTS:
        described = ", ".join(f"{r.value}@{d}" if d else r.value for r, d in roles) or "no role"
        lines.append(f"  {username:11} {display_name:12} {described}")
    return lines
