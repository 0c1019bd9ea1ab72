"""The "other department" for development and tests: a population register (人口库) and a
social-insurance register (社保库) on a MariaDB server, with a few hundred synthetic people
drawn from a fixed seed. Creating and seeding is idempotent: a database already holding this
seed's rows is left as it is.

    python -m tongban_sql_connector.demo_registers [SERVER_URL] [DATABASE]
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306"
DATABASE = "tongban_demo_registers"
PEOPLE = 300
SEED = 15

# The demo citizen (张三, tongban's `citizen` persona, linked to this ID number by the demo
# data) is always the first person: born in Xuhui, household now in Suzhou.
FIRST_ID_NUMBER = "31010419900307123X"
FIRST = ("张三", "M", date(1990, 3, 7), "320505", "江苏省苏州市虎丘区", "狮山路88号3幢402室")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Current county-level codes (GB/T 2260) with their names: where the people's households are.
REGIONS = (
    ("320505", "江苏省苏州市虎丘区"), ("320106", "江苏省南京市鼓楼区"), ("330106", "浙江省杭州市西湖区"),
    ("340104", "安徽省合肥市蜀山区"), ("370202", "山东省青岛市市南区"), ("410105", "河南省郑州市金水区"),
    ("420106", "湖北省武汉市武昌区"), ("430104", "湖南省长沙市岳麓区"), ("510107", "四川省成都市武侯区"),
    ("610113", "陕西省西安市雁塔区"), ("350203", "福建省厦门市思明区"), ("440305", "广东省深圳市南山区"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
STREETS = ("人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "幸福路")
HOUSEHOLD_TYPES = ("家庭户", "集体户")
EMPLOYERS = (
    "上海浦江软件有限公司", "上海申城物流有限公司", "上海东方精密制造有限公司", "上海黄浦江餐饮管理有限公司",
    "上海明珠医疗器械有限公司", "上海静安商贸有限公司",
)


def id_check_character(first_17: str) -> str:
    """GB 11643: the check character of a citizen ID number's first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first_17, _ID_WEIGHTS, strict=True)) % 11]


def uscc_check_character(first_17: str) -> str:
    """GB 32100: the check character of a unified social credit code's first 17 characters."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first_17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    sex: str
    birth_date: date
    region_code: str
    district: str
    household_address: str
    household_type: str


def _person(rng: random.Random, index: int) -> Person:
    if index == 0:
        name, sex, birth, region, district, street = FIRST
    else:
        region, district = rng.choice(REGIONS)
        sex = rng.choice("MF")
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
        street = f"{rng.choice(STREETS)}{rng.randrange(1, 400)}号{rng.randrange(1, 30)}室"
    serial = f"{(index * 7) % 100:02d}"
    sex_digit = (2 * rng.randrange(5) + (1 if sex == "M" else 0)) % 10
    first_17 = f"{region}{birth:%Y%m%d}{serial}{sex_digit}"
    number = FIRST_ID_NUMBER if index == 0 else first_17 + id_check_character(first_17)
    return Person(number, name, sex, birth, region, district,
                  district + street, "家庭户" if index == 0 else rng.choice(HOUSEHOLD_TYPES))


def people(count: int = PEOPLE, seed: int = SEED) -> list[Person]:
    rng = random.Random(seed)
    found: dict[str, Person] = {}
    index = 0
    while len(found) < count:
        person = _person(rng, index)
        found.setdefault(person.id_number, person)
        index += 1
    return list(found.values())


def employers() -> list[tuple[str, str]]:
    rows = []
    for index, name in enumerate(EMPLOYERS):
        first_17 = f"913101{index + 1:02d}MA1F{index:03d}X{index % 10}"[:17]
        rows.append((first_17 + uscc_check_character(first_17), name))
    return rows


SCHEMA = (
    """CREATE TABLE IF NOT EXISTS register_meta (
         name VARCHAR(50) PRIMARY KEY, value VARCHAR(200) NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS people (
         id_number CHAR(18) PRIMARY KEY,
         name VARCHAR(30) NOT NULL,
         sex CHAR(1) NOT NULL,
         birth_date DATE NOT NULL,
         region_code CHAR(6) NOT NULL,
         district VARCHAR(60) NOT NULL,
         household_address VARCHAR(200) NOT NULL,
         household_type VARCHAR(10) NOT NULL) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS employers (
         uscc CHAR(18) PRIMARY KEY, name VARCHAR(100) NOT NULL) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE IF NOT EXISTS contributions (
         id_number CHAR(18) NOT NULL,
         employer_uscc CHAR(18) NOT NULL,
         month CHAR(7) NOT NULL,
         base DECIMAL(10, 2) NOT NULL,
         PRIMARY KEY (id_number, month),
         KEY ix_contributions_employer (employer_uscc)) DEFAULT CHARSET=utf8mb4""",
)


def _contributions(rng: random.Random, everyone: list[Person],
                   companies: list[tuple[str, str]]) -> list[dict[str, object]]:
    """Months of social insurance up to 2026-11, for about four people in five."""
    rows: list[dict[str, object]] = []
    for index, person in enumerate(everyone):
        if index != 0 and rng.random() < 0.2:
            continue
        months = 48 if index == 0 else rng.randrange(6, 85)
        employer = companies[0][0] if index == 0 else rng.choice(companies)[0]
        base = Decimal(9000 if index == 0 else rng.randrange(7310, 36549)).quantize(Decimal("1.00"))
        year, month = 2026, 11
        for _ in range(months):
            rows.append({"id_number": person.id_number, "employer_uscc": employer,
                         "month": f"{year:04d}-{month:02d}", "base": base})
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return rows


def seed(server_url: str = SERVER_URL, database: str = DATABASE, *, count: int = PEOPLE,
         seed_value: int = SEED) -> bool:
    """Create ``database`` on the server and fill it; False when it already held these rows."""
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", database):
        raise ValueError(f"not a plain database name: {database!r}")
    version = f"people={count};seed={seed_value};v2"
    server = create_engine(make_url(server_url).set(database=""), poolclass=NullPool)
    with server.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE IF NOT EXISTS `{database}` "
                                   "DEFAULT CHARACTER SET utf8mb4")
    server.dispose()
    engine = create_engine(make_url(server_url).set(database=database), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for statement in SCHEMA:
                connection.exec_driver_sql(statement)
            held = connection.execute(text("SELECT value FROM register_meta WHERE name = 'seed'"))
            if held.scalar() == version:
                return False
            for table in ("contributions", "employers", "people", "register_meta"):
                connection.exec_driver_sql(f"DELETE FROM {table}")
            rng = random.Random(seed_value)
            everyone = people(count, seed_value)
            companies = employers()
            connection.execute(text(
                "INSERT INTO people VALUES (:id_number, :name, :sex, :birth_date, :region_code, "
                ":district, :household_address, :household_type)"),
                [vars(p) for p in everyone])
            connection.execute(text("INSERT INTO employers VALUES (:uscc, :name)"),
                               [{"uscc": u, "name": n} for u, n in companies])
            connection.execute(text("INSERT INTO contributions VALUES (:id_number, "
                                    ":employer_uscc, :month, :base)"),
                               _contributions(rng, everyone, companies))
            connection.execute(text("INSERT INTO register_meta VALUES ('seed', :v)"),
                               {"v": version})
    finally:
        engine.dispose()
    return True


def drop(server_url: str, database: str) -> None:
    """Remove a scratch database (tests)."""
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", database):
        raise ValueError(f"not a plain database name: {database!r}")
    server = create_engine(make_url(server_url).set(database=""), poolclass=NullPool)
    with server.begin() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{database}`")
    server.dispose()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else SERVER_URL
    database = args[1] if len(args) > 1 else DATABASE
    made = seed(url, database)
    print(f"{database}: {'created and seeded' if made else 'already seeded'} "
          f"({PEOPLE} people, seed {SEED})")


if __name__ == "__main__":
    main()
