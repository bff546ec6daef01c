"""Benchmark: the dashboards at city scale, against the naive GROUP BY (issue #9 item 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xq_bench .venv/bin/python bench/reports.py \\
        [--scale 1.0] [--runs 20] [--naive-runs 3] [--out /tmp/bench.md] [--keep]

1. Recreates the PostgreSQL database of DATABASE_URL (its name must start with ``xq_bench``)
   and migrates it; ``--keep`` keeps it and skips the generation when it already holds the
   bench's data.
2. Generates a city at ``--scale`` (1.0 = full): 1 city, 10 districts, 10 streets each,
   20 communities per street (× scale, at least 1); 10,000,000 person files spread unevenly
   over the communities, each in 1–2 target groups with the priority level those groups give;
   30,000,000 completed assessments over the last 400 days, scored by the instrument engine
   (some entered in error; a few anonymous ones on the public portal); 2,000,000 hotline calls
   with their problem categories; and crisis alerts with their risk signals, referrals,
   follow-up plans and visits, counselling sessions, mailbox messages and article statistics
   (every row count × scale). Generated data only: names like "测试人员0000123", no document
   or phone numbers (encrypted fields empty; the few required ones hold one fixed, clearly
   fake text encrypted with the field's own helper). The large tables are filled inside
   PostgreSQL by ``INSERT … SELECT … FROM generate_series`` with explicit column lists
   (every column of the model, its default where the generator sets nothing), their
   secondary indexes built after the load. Ids are made from a table number and a row
   number, so rows can point at each other by arithmetic instead of joins.
3. Creates three users: a city administrator, a district administrator, a community worker.
4. Runs ``xinqiao.reports.tally.rebuild()`` (the aggregate tables from the raw tables).
5. For each user on their own unit and the periods this_month, last_month and this_year:
   the dashboard page as the user gets it (Django test client, ``--runs`` times: p50, p95)
   and the naive query ``xinqiao.reports.naive.totals`` (``--naive-runs`` times: p50); then
   asserts ``tally.totals == naive.totals`` and exits non-zero when any differ.
6. Prints a Markdown table (and writes it to ``--out``) with the generation and rebuild
   times, the row counts and the machine.

``--check N`` runs ``full_clean()`` (database constraints included) on N rows of every
generated model; ``--no-fk-checks`` loads without the foreign-key triggers (about twice as
fast; the same SQL runs with them at small scale); ``--generate-only`` stops after step 2.
The keys that encrypt the fixed texts live in $TMPDIR/xinqiao-bench-<database>, kept between
runs for ``--keep``.
"""

# The SQL here is built from the bench's own constants and integers; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Row counts of the full city (scale 1.0).
FULL = {
    "people": 10_000_000,
    "assessments": 30_000_000,
    "calls": 2_000_000,
    "alerts": 300_000,
    "referrals": 200_000,
    "plans": 1_000_000,
    "visits": 3_000_000,
    "sessions": 1_000_000,
    "mailbox": 200_000,
    "article_stats": 1_000_000,
}
DISTRICTS = 10
STREETS_PER_DISTRICT = 10
COMMUNITIES_PER_STREET = 20
DAYS = 400  # the raw records span the last 400 days
PORTAL_SHARE = 0.03  # of the assessments: anonymous, on the public portal
TEMPLATES = 61  # scored answer sets (prime: see ``Plan``)
CHUNK = 1_000_000  # rows per INSERT statement
PERIODS = ("this_month", "last_month", "this_year")

# Ids: table number and row number, "tttttttt-0000-4000-8000-nnnnnnnnnnnn".
T_PERSON, T_GROUP1, T_GROUP2, T_GROUP_ENDED = 1, 2, 3, 4
T_ASSESSMENT, T_PORTAL = 10, 11
T_ALERT, T_SIGNAL = 20, 21
T_REFERRAL, T_CONSENT = 30, 31
T_PLAN, T_VISIT = 40, 41
T_SESSION, T_PARTICIPANT = 50, 51
T_MESSAGE, T_REPLY = 60, 61
T_CALL = 70

# Target groups, by how common they are in a community (weights out of 100).
GROUP_WEIGHTS = {
    "general_public": 34,
    "student": 10,
    "hardship": 7,
    "family_of_patient": 6,
    "close_contact": 5,
    "cured_patient": 4,
    "teacher": 4,
    "frontline_medical": 4,
    "frontline_police_community": 4,
    "women_special_period": 4,
    "disability": 3,
    "child_in_difficulty": 3,
    "confirmed_patient": 3,
    "suspected_patient": 3,
    "special_population": 2,
    "family_of_deceased": 2,
    "severe_mental_disorder": 2,
}
# Instruments and how many of the scored answer sets each gets (sum = TEMPLATES).
INSTRUMENT_TEMPLATES = {
    "phq9": 20,
    "gad7": 16,
    "phq4": 5,
    "who5": 5,
    "k6": 4,
    "pss10": 4,
    "ais": 3,
    "sds": 2,
    "sas": 2,
}
# Hotline calls by local hour (relative weights): few at night, peaks late morning and evening.
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 8, 8, 9, 9, 8, 8, 9, 10, 10, 8, 6, 4]
AGE_BANDS = ["unknown", "12_17", "18_24", "25_34", "35_44", "45_59", "60_plus", "under_12"]
FAKE_PHONE = "0000-00000000"  # not a number anyone has
DAY = "'1 day'"


def log(message: str) -> None:
    print(message, flush=True)


# --- the database ----------------------------------------------------------------------------


def database_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    if not name.startswith("xq_bench"):
        sys.exit(f"refusing to use database {name!r}: its name must start with xq_bench")
    return name


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(url: str) -> bool:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        return row is not None


def setup_django(url: str, data_dir: Path) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["XINQIAO_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "xinqiao.settings"
    os.environ["DEBUG"] = "0"
    os.environ.pop("XINQIAO_TESTING", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def execute(sql: str, params: dict[str, Any] | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def scalar(sql: str, params: dict[str, Any] | None = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return row[0] if row else None


SQL_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.h(n bigint, salt bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT hashint8extended(n, salt) & 9223372036854775807';
CREATE OR REPLACE FUNCTION pg_temp.uid(t int, n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$SELECT (lpad(to_hex(t), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid$$;
"""


def session_settings() -> None:
    execute("SET synchronous_commit = off")
    execute("SET work_mem = '256MB'")
    execute("SET maintenance_work_mem = '1GB'")
    execute(SQL_FUNCTIONS)


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, dict)):
        return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def insert(model: Any, values: dict[str, str], source: str, params: dict[str, Any]) -> int:
    """``INSERT INTO <model's table> (<every column>) SELECT <expressions> FROM <source>``.

    ``values`` maps a field's attname to its SQL expression; a field not given gets its
    model default as a literal (``now()`` for auto_now fields), and a field that has none
    stops the bench: every NOT NULL column is filled on purpose."""
    columns: list[str] = []
    expressions: list[str] = []
    given = dict(values)
    for field in model._meta.concrete_fields:
        name = field.attname
        if name in given:
            expression = given.pop(name)
        elif field.primary_key and getattr(field, "db_returning", False):
            continue  # an identity column numbers itself
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expression = "now()"
        else:
            default = field.get_default() if field.has_default() or not field.null else None
            if default is None and not field.null:
                if field.empty_strings_allowed:
                    default = ""
                else:
                    raise SystemExit(f"{model.__name__}.{name}: no value given and no default")
            if field.primary_key:
                raise SystemExit(f"{model.__name__}.{name}: the primary key must be given")
            expression = sql_literal(default)
        columns.append(f'"{field.column}"')
        expressions.append(f"{expression} AS {field.column}_")
    if given:
        raise SystemExit(f"{model.__name__}: unknown fields {sorted(given)}")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {source}"
    )
    return execute(sql, params)


def secondary_indexes(table: str) -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = %s AND NOT x.indisunique AND NOT x.indisprimary",
            [table],
        )
        return list(cursor.fetchall())


# --- the plan of the city: counts, strides and lookup arrays ------------------------------------


def coprime_stride(n: int, candidates: Iterable[int]) -> int:
    for candidate in candidates:
        if math.gcd(candidate, n) == 1:
            return candidate
    raise SystemExit(f"no stride coprime with {n}")


class Plan:
    """How many rows of each kind, and the arrays the SQL indexes into.

    A person is a number ``p`` in 0…people-1; its id is ``uid(T_PERSON, p)`` and its community
    ``slot_unit[p % W + 1]``, where the W slots list each community as often as its weight
    (the uneven sizes). Assessment ``n`` is of person ``n·S mod people`` and uses the scored
    answer set ``n mod TEMPLATES``; alert ``k`` comes from assessment ``k·TEMPLATES + severe``,
    so alerts fall on distinct people (TEMPLATES is prime and does not divide people)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.counts = {k: max(1, round(v * scale)) for k, v in FULL.items()}
        people = self.counts["people"]
        while people % TEMPLATES == 0:
            people += 1
        self.counts["people"] = people
        self.portal = max(1, round(self.counts["assessments"] * PORTAL_SHARE))
        self.counts["assessments"] -= self.portal
        if self.counts["alerts"] * TEMPLATES > self.counts["assessments"]:
            raise SystemExit("too few assessments for the alerts at this scale")
        self.communities_per_street = max(1, round(COMMUNITIES_PER_STREET * scale))
        primes = (15_485_863, 32_452_843, 49_979_687, 67_867_967, 86_028_121, 104_395_301)
        self.s_assessment = coprime_stride(people, primes)
        self.s_referral = coprime_stride(people, primes[1:])
        self.s_plan = coprime_stride(people, primes[2:])
        self.counts["plans"] = min(self.counts["plans"], people)


# --- the org tree, users and the few ORM rows ---------------------------------------------------


def make_unit(kind: str, name: str, parent: Any | None) -> Any:
    from xinqiao.orgs.models import Unit

    unit = Unit(
        kind=kind, name=name, parent=parent, depth=0 if parent is None else parent.depth + 1
    )
    unit.path = (parent.path if parent is not None else "/") + f"{unit.id.hex}/"
    return unit


def build_world(plan: Plan) -> dict[str, Any]:
    """Units, staff users, memberships, teams, seats and articles through the ORM; returns
    the lookup arrays the SQL generation uses."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from xinqiao.accounts.models import User
    from xinqiao.content.models import Article
    from xinqiao.hotline.models import HotlineTraining, Seat
    from xinqiao.orgs.models import (
        Membership,
        Profession,
        Qualification,
        StaffProfile,
        Team,
        TeamKind,
        TeamMember,
        Unit,
        UnitKind,
    )
    from xinqiao.orgs.permissions import Role

    rng = random.Random(2024)
    units: list[Unit] = []
    users: list[User] = []
    memberships: list[Membership] = []
    profiles: list[StaffProfile] = []
    unusable = make_password(None)

    def user(username: str, name: str, profession: str, qualification: str = "none") -> User:
        u = User(username=username, name=name, password=unusable)
        users.append(u)
        profiles.append(StaffProfile(user=u, profession=profession, qualification=qualification))
        return u

    def member(u: User, unit: Unit, role: str) -> None:
        memberships.append(Membership(user=u, unit=unit, role=role))

    city = make_unit(UnitKind.CITY, "测试市", None)
    units.append(city)
    centre = make_unit(UnitKind.HOTLINE_CENTRE, "测试市心理援助热线", city)
    psychiatric = make_unit(UnitKind.PSYCHIATRIC_INSTITUTION, "测试市精神卫生中心", city)
    units += [centre, psychiatric]
    districts, streets, communities, stations = [], [], [], []
    hospitals, civil, schools, sites = [], [], [], []
    street_staff: dict[Any, list[User]] = {}
    for d in range(DISTRICTS):
        district = make_unit(UnitKind.DISTRICT, f"测试区{d + 1:02d}", city)
        districts.append(district)
        hospitals.append(
            make_unit(UnitKind.DESIGNATED_HOSPITAL, f"测试区{d + 1:02d}定点医院", district)
        )
        civil.append(make_unit(UnitKind.CIVIL_AFFAIRS, f"测试区{d + 1:02d}民政局", district))
        schools.append(make_unit(UnitKind.SCHOOL, f"测试区{d + 1:02d}中学", district))
        sites.append(make_unit(UnitKind.ISOLATION_SITE, f"测试区{d + 1:02d}集中隔离点", district))
        for s in range(STREETS_PER_DISTRICT):
            street = make_unit(UnitKind.STREET, f"测试街道{d + 1:02d}{s + 1:02d}", district)
            streets.append(street)
            n = len(streets)
            staff = [
                user(
                    f"bench_s{n:03d}_counsellor",
                    f"测试咨询师{n:03d}",
                    Profession.COUNSELLOR,
                    Qualification.COUNSELLOR_L2,
                ),
                user(
                    f"bench_s{n:03d}_social",
                    f"测试社工{n:03d}",
                    Profession.SOCIAL_WORKER,
                    Qualification.SOCIAL_WORKER,
                ),
                user(
                    f"bench_s{n:03d}_worker1",
                    f"测试社区工作者{n:03d}A",
                    Profession.COMMUNITY_WORKER,
                ),
                user(
                    f"bench_s{n:03d}_worker2",
                    f"测试社区工作者{n:03d}B",
                    Profession.COMMUNITY_WORKER,
                ),
            ]
            street_staff[street.id] = staff
            member(staff[0], street, Role.COUNSELLOR)
            member(staff[1], street, Role.SOCIAL_WORKER)
            member(staff[2], street, Role.COMMUNITY_WORKER)
            member(staff[3], street, Role.COMMUNITY_WORKER)
            for c in range(plan.communities_per_street):
                community = make_unit(
                    UnitKind.COMMUNITY, f"测试社区{d + 1:02d}{s + 1:02d}{c + 1:02d}", street
                )
                communities.append(community)
                if rng.random() < 0.3:
                    stations.append(make_unit(UnitKind.SERVICE_STATION, "心灵驿站", community))
    units += districts + hospitals + civil + schools + sites + streets + communities + stations
    # Isolation sites: two counsellors of the district's first street (seed 002 篇6 三(三)2
    # asks 6–9 per 200 isolated people; the dashboard shows the ratio).
    for i, site in enumerate(sites):
        for u in street_staff[streets[i * STREETS_PER_DISTRICT].id][:2]:
            member(u, site, Role.COUNSELLOR)
    operators = [
        user(f"bench_hotline{i:02d}", f"测试接线员{i:02d}", Profession.HOTLINE_OPERATOR)
        for i in range(12)
    ]
    for u in operators:
        member(u, centre, Role.HOTLINE_OPERATOR)
    roles = {
        "city_admin": user("bench_city_admin", "测试市管理员", Profession.CIVIL_SERVANT),
        "district_admin": user("bench_district_admin", "测试区管理员", Profession.CIVIL_SERVANT),
        "community_worker": user(
            "bench_community_worker", "测试社区工作者", Profession.COMMUNITY_WORKER
        ),
    }
    member(roles["city_admin"], city, Role.CITY_ADMIN)
    member(roles["district_admin"], districts[0], Role.DISTRICT_ADMIN)
    member(roles["community_worker"], communities[0], Role.COMMUNITY_WORKER)

    with transaction.atomic():
        Unit.objects.bulk_create(units, batch_size=2000)
        User.objects.bulk_create(users, batch_size=2000)
        StaffProfile.objects.bulk_create(profiles, batch_size=2000)
        Membership.objects.bulk_create(memberships, batch_size=2000)
        teams, team_members = [], []
        for community in communities:
            staff = street_staff[community.parent_id]
            team = Team(unit=community, kind=TeamKind.COMMUNITY, name="心理疏导小分队")
            teams.append(team)
            size = 2 if rng.random() < 0.05 else rng.choice([3, 4])
            team_members += [
                TeamMember(team=team, user=u, is_leader=(j == 0))
                for j, u in enumerate(staff[:size])
            ]
        Team.objects.bulk_create(teams, batch_size=2000)
        TeamMember.objects.bulk_create(team_members, batch_size=2000)
        seats = [Seat(centre=centre, name=f"坐席{i + 1}") for i in range(4)]
        Seat.objects.bulk_create(seats)
        today = timezone.localdate()
        HotlineTraining.objects.bulk_create(
            [
                HotlineTraining(
                    operator=u,
                    centre=centre,
                    course="疫情心理援助热线培训（测试）",
                    completed_on=today - timedelta(days=500),
                )
                for u in operators
            ]
        )
        for i in range(14):
            Article.objects.create(
                kind="article",
                unit=city,
                title_zh=f"测试科普文章{i + 1:02d}",
                body_zh="<p>测试内容。</p>",
                status="published",
                publish_at=_now() - timedelta(days=DAYS),
            )

    # Slots: each community as often as its weight, round-robin (the uneven sizes).
    weights = [
        rng.choice([1, 1, 2, 2, 3, 4, 6]) * (4 if rng.random() < 0.03 else 1) for _ in communities
    ]
    index_of = {c.id: i for i, c in enumerate(communities)}
    street_of = {s.id: s for s in streets}
    district_index = {d.id: i for i, d in enumerate(districts)}
    slots: list[int] = []
    for rnd in range(max(weights)):
        slots += [i for i, w in enumerate(weights) if w > rnd]

    def per_slot(value: Callable[[Unit], Any]) -> list[Any]:
        return [value(communities[i]) for i in slots]

    def district_of(community: Unit) -> int:
        return district_index[street_of[community.parent_id].parent_id]

    articles = list(Article.objects.order_by("created_at").values_list("id", flat=True))
    return {
        "roles": {
            "city_admin": (roles["city_admin"], city),
            "district_admin": (roles["district_admin"], districts[0]),
            "community_worker": (roles["community_worker"], communities[0]),
        },
        "units": len(units),
        "users": len(users),
        "W": len(slots),
        "C": len(communities),
        "params": {
            "slot_unit": per_slot(lambda c: c.id),
            "slot_street": per_slot(lambda c: c.parent_id),
            "slot_district": per_slot(lambda c: districts[district_of(c)].id),
            "slot_hospital": per_slot(lambda c: hospitals[district_of(c)].id),
            "slot_civil": per_slot(lambda c: civil[district_of(c)].id),
            "slot_school": per_slot(lambda c: schools[district_of(c)].id),
            "slot_next": per_slot(
                lambda c: communities[(index_of[c.id] + 1) % len(communities)].id
            ),
            "slot_counsellor": per_slot(lambda c: street_staff[c.parent_id][0].id),
            "slot_worker": per_slot(lambda c: street_staff[c.parent_id][2].id),
            "comm_unit": [c.id for c in communities],
            "comm_counsellor": [street_staff[c.parent_id][0].id for c in communities],
            "comm_site": [sites[district_of(c)].id for c in communities],
            "streets": [s.id for s in streets],
            "sites": [s.id for s in sites],
            "operators": [u.id for u in operators],
            "seats": [s.id for s in seats],
            "articles": articles,
            "psychiatric": psychiatric.id,
            "centre": centre.id,
        },
    }


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


# --- scored answer sets ----------------------------------------------------------------------


def score_templates() -> tuple[list[tuple[Any, ...]], int]:
    """TEMPLATES answer sets scored by the instrument engine (most of them mild), and the
    index of the most severe PHQ-9 one (the alerts' assessments)."""
    from xinqiao.instruments.engine import score
    from xinqiao.instruments.library import get

    rng = random.Random(9)
    rows: list[tuple[Any, ...]] = []
    severe, severe_index = -1, -1
    for code, count in INSTRUMENT_TEMPLATES.items():
        instrument = get(code)
        for i in range(count):
            # Severity quantiles of a Beta(1, 4): most answer sets mild, few severe; the last
            # PHQ-9 one answers every item at the top (the alerts' assessments).
            level = 1 - (1 - (i + 0.5) / count) ** 0.25
            if code == "phq9" and i == count - 1:
                level = 1.0
            answers = []
            for item in instrument.items:
                values = sorted(item.values)
                # The worse end: the top value, unless the item or the scale counts the
                # other way (reverse-scored items; WHO-5, where higher is better).
                worse = 1 - level if item.reverse != instrument.higher_is_better else level
                position = round(worse * (len(values) - 1) + rng.uniform(-0.6, 0.6))
                answers.append(values[min(len(values) - 1, max(0, position))])
            result = score(instrument, answers)
            t = len(rows)
            if code == "phq9" and result.band_index > severe:
                severe, severe_index = result.band_index, t
            rows.append(
                (
                    t,
                    code,
                    str(instrument.meta.get("version") or ""),
                    json.dumps(answers),
                    len(answers),
                    result.raw,
                    result.total,
                    result.band.code,
                    result.band_index,
                    result.band.intervention,
                    json.dumps(result.subscales),
                    json.dumps(result.critical_items),
                    json.dumps(result.flags),
                )
            )
    if len(rows) != TEMPLATES:
        raise SystemExit("INSTRUMENT_TEMPLATES must add up to TEMPLATES")
    return rows, severe_index


# --- SQL expression helpers ------------------------------------------------------------------


def h(x: str, salt: int, m: int) -> str:
    """A pseudo-random number in 0…m-1 from row number ``x`` (deterministic)."""
    return f"mod(pg_temp.h({x}, {salt}), {m})"


def uid(table: int, x: str) -> str:
    return f"pg_temp.uid({table}, {x})"


def ago(x: str, salt: int, days: int = DAYS) -> str:
    """A moment in the last ``days`` days, from row number ``x``."""
    return f"(%(now)s::timestamptz - {h(x, salt, days * 86400)} * interval '1 second')"


def pick(array: str, index: str, kind: str = "text") -> str:
    return f"(%({array})s::{kind}[])[{index} + 1]"


def choice(x: str, salt: int, options: list[tuple[int, str]]) -> str:
    """CASE over cumulative percentages: [(30, "'a'"), (100, "'b'")]."""
    r = h(x, salt, 100)
    parts = " ".join(f"WHEN {r} < {limit} THEN {value}" for limit, value in options[:-1])
    return f"(CASE {parts} ELSE {options[-1][1]} END)"


def least_now(expression: str) -> str:
    return f"least({expression}, %(now)s::timestamptz)"


def series(lo: int, hi: int) -> str:
    return f"generate_series({lo}::bigint, {hi}::bigint) AS g"


# --- the generator ---------------------------------------------------------------------------


class Generator:
    def __init__(self, plan: Plan, world: dict[str, Any]) -> None:
        from django.utils import timezone

        from xinqiao.hotline.categories import TAXONOMY
        from xinqiao.hotline.models import MailboxMessage, MailboxReply
        from xinqiao.people.priority import LEVEL_RULES
        from xinqiao.referrals.models import Referral

        self.plan = plan
        self.world = world
        self.W = world["W"]
        self.C = world["C"]
        self.P = plan.counts["people"]
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.timings: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        groups = list(GROUP_WEIGHTS)
        group_pick = [i for i, g in enumerate(groups) for _ in range(GROUP_WEIGHTS[g])]
        hours = [hour for hour, w in enumerate(HOUR_WEIGHTS) for _ in range(w)]
        self.lw, self.lh = len(group_pick), len(hours)
        self.ncat = len(TAXONOMY)

        def encrypted(model: Any, name: str, text: str) -> str:
            return str(model._meta.get_field(name).encrypt(text))

        self.params: dict[str, Any] = {
            **world["params"],
            "now": self.now,
            "today": self.today,
            "groups": groups,
            "group_pick": group_pick,
            "group_level": [LEVEL_RULES[g][0] for g in groups],
            "hours": hours,
            "categories": [c.code for c in TAXONOMY],
            "category_sub": [f"{c.code}.{c.subs[0][0]}" if c.subs else c.code for c in TAXONOMY],
            "age_bands": AGE_BANDS,
            "tz": _tz_name(),
            # The required encrypted texts: one fixed, clearly fake text each.
            "enc_reason": encrypted(Referral, "reason", "测试数据：转介原因"),
            "enc_decline": encrypted(Referral, "decline_reason", "测试数据：不予接收原因"),
            "enc_outcome": encrypted(Referral, "outcome", "测试数据：转介结果"),
            "enc_body": encrypted(MailboxMessage, "body", "测试数据：来信内容"),
            "enc_reply": encrypted(MailboxReply, "body", "测试数据：回信内容"),
        }

    # -- bookkeeping --

    def chunks(self, total: int) -> Iterable[tuple[int, int]]:
        for lo in range(0, total, CHUNK):
            yield lo, min(total, lo + CHUNK) - 1

    def load(
        self, name: str, model: Any, total: int, build: Callable[[int, int], tuple[dict, str]]
    ) -> None:
        started = time.perf_counter()
        written = 0
        for lo, hi in self.chunks(total):
            values, source = build(lo, hi)
            written += insert(model, values, source, self.params)
        self.rows[name] = self.rows.get(name, 0) + written
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started
        log(f"  {name:<28} {written:>12,} rows {time.perf_counter() - started:8.1f} s")

    def load_select(self, name: str, model: Any, values: dict[str, str], source: str) -> None:
        started = time.perf_counter()
        written = insert(model, values, source, self.params)
        self.rows[name] = self.rows.get(name, 0) + written
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started
        log(f"  {name:<28} {written:>12,} rows {time.perf_counter() - started:8.1f} s")

    def slot(self, array: str, person: str) -> str:
        return f"(%({array})s::uuid[])[mod({person}, {self.W}) + 1]"

    # -- people --

    def people_source(self, lo: int, hi: int) -> str:
        created = ago("g", 9, 1100)

        def group(salt: int) -> str:
            return pick("group_pick", h("g", salt, self.lw), "int")

        return (
            f"(SELECT g, {group(3)} AS i1, {h('g', 4, 100)} < 40 AS has2, {group(5)} AS w2, "
            f"{h('g', 10, 100)} < 10 AS has_end, {group(11)} AS w3, "
            f"{created} AS created FROM {series(lo, hi)}) AS p"
        )

    def people(self) -> None:
        from xinqiao.people.models import GroupMembership, Person

        # A second (open) and an ended group: as common as the first, never the same as it.
        groups = len(GROUP_WEIGHTS)
        second = f"(CASE WHEN w2 = i1 THEN mod(i1 + 1, {groups}) ELSE w2 END)"
        ended = f"(CASE WHEN w3 = i1 THEN mod(i1 + 2, {groups}) ELSE w3 END)"

        def person(lo: int, hi: int) -> tuple[dict, str]:
            level = "(%(group_level)s::int[])"
            status = h("g", 8, 1000)
            values = {
                "id": uid(T_PERSON, "g"),
                "unit_id": self.slot("slot_unit", "g"),
                "name": f"(CASE WHEN {h('g', 12, 1000)} = 0 THEN '测试匿名来电' ELSE '测试人员' END"
                " || lpad(g::text, 7, '0'))",
                "sex": f"(CASE WHEN {h('g', 1, 2)} = 0 THEN 'female' ELSE 'male' END)",
                "birth_date": f"(date '1935-01-01' + {h('g', 2, 31000)}::int)",
                "id_type": "'none'",
                "unnamed_contact": f"({h('g', 12, 1000)} = 0)",
                "is_deceased": f"({h('g', 6, 1000)} < 2)",
                "date_of_death": f"(CASE WHEN {h('g', 6, 1000)} < 2 THEN "
                "(p.created + (%(now)s::timestamptz - p.created) / 2)::date END)",
                "priority_level": f"(CASE WHEN has2 THEN least({level}[i1 + 1], "
                f"{level}[{second} + 1]) ELSE {level}[i1 + 1] END)",
                "status": f"(CASE WHEN {status} < 950 THEN 'active' WHEN {status} < 995 "
                "THEN 'archived' ELSE 'erased' END)",
                "created_at": "p.created",
                "updated_at": "p.created",
                "archived_at": f"(CASE WHEN {status} >= 950 AND {status} < 995 THEN "
                "p.created + (%(now)s::timestamptz - p.created) / 2 END)",
                "erased_at": f"(CASE WHEN {status} >= 995 THEN "
                "p.created + (%(now)s::timestamptz - p.created) / 2 END)",
                "erasure_reason": f"(CASE WHEN {status} >= 995 THEN '测试数据：依法删除' "
                "ELSE '' END)",
            }
            return values, self.people_source(lo, hi)

        self.load("people_person", Person, self.P, person)

        def membership(table: int, group: str, where: str, ended: bool) -> Any:
            def build(lo: int, hi: int) -> tuple[dict, str]:
                values = {
                    "id": uid(table, "g"),
                    "person_id": uid(T_PERSON, "g"),
                    "group": pick("groups", group),
                    "date_from": "p.created::date",
                    "date_to": "least(p.created::date + 30, %(today)s::date)" if ended else "NULL",
                    "recorded_by_id": self.slot("slot_worker", "g"),
                    "recorded_at": "p.created",
                }
                return values, f"{self.people_source(lo, hi)} WHERE {where}"

            return build

        self.load(
            "people_groupmembership",
            GroupMembership,
            self.P,
            membership(T_GROUP1, "i1", "true", False),
        )
        self.load(
            "people_groupmembership",
            GroupMembership,
            self.P,
            membership(T_GROUP2, second, "has2", False),
        )
        self.load(
            "people_groupmembership",
            GroupMembership,
            self.P,
            membership(T_GROUP_ENDED, ended, "has_end", True),
        )

    # -- assessments --

    def completed(self, n: str) -> str:
        return ago(n, 3)

    def assessments(self) -> None:
        from xinqiao.assessments.models import Assessment

        rows, self.severe = score_templates()
        execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_tpl (t int PRIMARY KEY, instrument text, "
            "version text, answers jsonb, position int, raw int, total int, band_code text, "
            "band_index int, intervention text, subscales jsonb, critical_items jsonb, "
            "flags jsonb)"
        )
        execute("TRUNCATE bench_tpl")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_tpl VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, "
                "%s::jsonb, %s::jsonb, %s::jsonb)",
                rows,
            )
        execute("ANALYZE bench_tpl")
        people, sa = self.P, self.plan.s_assessment

        def common(n: str) -> dict[str, str]:
            error = f"({h(n, 2, 100)} = 0)"
            return {
                "instrument": "t.instrument",
                "instrument_version": "t.version",
                "status": f"(CASE WHEN {error} THEN 'entered_in_error' ELSE 'completed' END)",
                "language": "'zh'",
                "answers": "t.answers",
                "position": "t.position",
                "raw": "t.raw",
                "total": "t.total",
                "band_code": "t.band_code",
                "band_index": "t.band_index",
                "intervention": "t.intervention",
                "subscales": "t.subscales",
                "critical_items": "t.critical_items",
                "flags": "t.flags",
                "respondent": "'self'",
                "completed_at": self.completed(n),
                "started_at": f"({self.completed(n)} - (5 + {h(n, 4, 20)}) * interval '1 minute')",
                "updated_at": self.completed(n),
                "error_reason": f"(CASE WHEN {error} THEN '测试数据：录入错误' ELSE '' END)",
                "marked_in_error_at": f"(CASE WHEN {error} THEN "
                f"{least_now(self.completed(n) + ' + interval ' + repr('1 day'))} END)",
            }

        def staff(lo: int, hi: int) -> tuple[dict, str]:
            person = f"mod(g * {sa}, {people})"
            self_service = f"({h('g', 1, 10)} >= 6)"
            values = {
                **common("g"),
                "id": uid(T_ASSESSMENT, "g"),
                "person_id": uid(T_PERSON, person),
                "unit_id": self.slot("slot_unit", person),
                "mode": f"(CASE WHEN {self_service} THEN 'self_service' ELSE 'staff' END)",
                "administered_by_id": f"(CASE WHEN {self_service} THEN NULL ELSE "
                f"{self.slot('slot_counsellor', person)} END)",
                "marked_in_error_by_id": f"(CASE WHEN {h('g', 2, 100)} = 0 THEN "
                f"{self.slot('slot_counsellor', person)} END)",
            }
            return values, f"{series(lo, hi)} JOIN bench_tpl t ON t.t = mod(g, {TEMPLATES})"

        def portal(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                **common("(g + 1000000000)"),
                "id": uid(T_PORTAL, "g"),
                "person_id": "NULL",
                "unit_id": self.slot("slot_unit", "g"),
                "mode": "'self_service'",
                "channel": "'portal'",
                "marked_in_error_by_id": f"(CASE WHEN {h('(g + 1000000000)', 2, 100)} = 0 THEN "
                f"{self.slot('slot_counsellor', 'g')} END)",
            }
            return values, f"{series(lo, hi)} JOIN bench_tpl t ON t.t = mod(g, {TEMPLATES})"

        self.load("assessments_assessment", Assessment, self.plan.counts["assessments"], staff)
        self.load("assessments_assessment", Assessment, self.plan.portal, portal)

    # -- crisis alerts --

    def alert_source(self, lo: int, hi: int) -> str:
        people, sa, severe = self.P, self.plan.s_assessment, self.severe
        inner = (
            f"SELECT g, n, mod(n * {sa}, {people}) AS person, {self.completed('n')} "
            "+ interval '1 second' AS created, "
            f"(CASE WHEN {h('g', 1, 10)} < 3 THEN 1 WHEN {h('g', 1, 10)} < 9 THEN 2 ELSE 3 END)"
            f" AS level, {h('g', 2, 100)} AS s, "
            f"(CASE WHEN {h('g', 3, 100)} < 70 THEN 1 + {h('g', 4, 30)} "
            f"WHEN {h('g', 3, 100)} < 95 THEN 30 + {h('g', 4, 180)} "
            f"ELSE 210 + {h('g', 4, 1200)} END) AS d "
            f"FROM (SELECT g, g * {TEMPLATES} + {severe} AS n FROM {series(lo, hi)}) AS a0"
        )
        middle = (
            "SELECT a1.*, (CASE level WHEN 1 THEN 15 WHEN 2 THEN 60 ELSE 1440 END) AS win, "
            "(CASE WHEN created > %(now)s::timestamptz - interval '2 days' THEN "
            "(CASE WHEN s < 30 THEN 'open' WHEN s < 60 THEN 'acknowledged' "
            "ELSE 'in_intervention' END) "
            "ELSE (CASE WHEN s < 3 THEN 'open' WHEN s < 8 THEN 'acknowledged' "
            "WHEN s < 15 THEN 'in_intervention' WHEN s < 25 THEN 'referred' "
            f"ELSE 'resolved' END) END) AS status FROM ({inner}) AS a1"
        )
        outer = (
            "SELECT a2.*, (CASE WHEN status = 'open' THEN NULL ELSE "
            f"{least_now('created + d * interval ' + repr('1 minute'))} END) AS acked, "
            "(CASE WHEN status = 'open' THEN "
            "(CASE WHEN %(now)s::timestamptz - created > 2 * win * interval '1 minute' THEN 2 "
            "WHEN %(now)s::timestamptz - created > win * interval '1 minute' THEN 1 ELSE 0 END) "
            "ELSE (CASE WHEN d > 2 * win THEN 2 WHEN d > win THEN 1 ELSE 0 END) END) AS step "
            f"FROM ({middle}) AS a2"
        )
        return f"({outer}) AS a"

    def alerts(self) -> None:
        from xinqiao.risk.models import Alert, PersonRisk, RiskSignal

        total = self.plan.counts["alerts"]

        def signal(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "id": uid(T_SIGNAL, "g"),
                "person_id": uid(T_PERSON, "person"),
                "unit_id": self.slot("slot_unit", "person"),
                "source": "'assessment'",
                "level": "level",
                "rules": "'[\"phq9_severe\"]'::jsonb",
                "facts": "jsonb_build_object('instrument', 'phq9', 'generated', true)",
                "object_type": "'assessments.assessment'",
                "object_id": f"{uid(T_ASSESSMENT, 'n')}::text",
                "created_at": "created - interval '1 second'",
                "dispatched_at": "created",
            }
            return values, self.alert_source(lo, hi)

        def alert(lo: int, hi: int) -> tuple[dict, str]:
            contact = (
                "(CASE WHEN status IN ('in_intervention', 'referred', 'resolved') OR "
                "(status = 'acknowledged' AND mod(s, 2) = 0) THEN "
                f"{least_now('acked + ' + h('g', 5, 360) + ' * interval ' + repr('1 minute'))}"
                " END)"
            )
            values = {
                "id": uid(T_ALERT, "g"),
                "person_id": uid(T_PERSON, "person"),
                "unit_id": self.slot("slot_unit", "person"),
                "level": "level",
                "status": "status",
                "signal_id": uid(T_SIGNAL, "g"),
                "created_at": "created",
                "ack_deadline": "created + win * interval '1 minute'",
                "escalation_step": "step",
                "escalated_to_id": "(CASE step WHEN 0 THEN NULL WHEN 1 THEN "
                f"{self.slot('slot_street', 'person')} ELSE "
                f"{self.slot('slot_district', 'person')} END)",
                "acknowledged_at": "acked",
                "acknowledged_by_id": "(CASE WHEN status = 'open' THEN NULL ELSE "
                f"{self.slot('slot_counsellor', 'person')} END)",
                "first_contact_at": contact,
                "closed_at": "(CASE WHEN status = 'resolved' THEN "
                f"{least_now(contact + ' + (1 + ' + h('g', 6, 10) + ') * interval ' + DAY)} END)",
            }
            return values, self.alert_source(lo, hi)

        def risk(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "person_id": uid(T_PERSON, "person"),
                "level": "level",
                "since": "created",
                "reason": "'测试数据：评估结果'",
                "responsible_id": self.slot("slot_counsellor", "person"),
            }
            return values, self.alert_source(lo, hi)

        self.load("risk_risksignal", RiskSignal, total, signal)
        self.load("risk_alert", Alert, total, alert)
        self.load("risk_personrisk", PersonRisk, total, risk)

    # -- referrals --

    def referral_source(self, lo: int, hi: int) -> str:
        kind = choice(
            "g",
            1,
            [
                (20, "'outpatient'"),
                (30, "'admission'"),
                (35, "'green_channel'"),
                (55, "'relief'"),
                (65, "'school'"),
                (85, "'community'"),
                (100, "'discharge'"),
            ],
        )
        inner = (
            f"SELECT g, mod(g * {self.plan.s_referral}, {self.P}) AS person, {kind} AS kind, "
            f"{ago('g', 2)} AS sent, {h('g', 3, 100)} AS s, "
            f"(1 + {h('g', 4, 72)}) * interval '1 hour' AS wait FROM {series(lo, hi)}"
        )
        return (
            "(SELECT r0.*, kind IN ('outpatient', 'admission', 'green_channel') AS medical, "
            "(CASE WHEN sent > %(now)s::timestamptz - interval '3 days' THEN "
            "(CASE WHEN s < 70 THEN 'sent' ELSE 'accepted' END) ELSE "
            "(CASE WHEN s < 5 THEN 'sent' WHEN s < 20 THEN 'accepted' WHEN s < 80 THEN 'done' "
            "WHEN s < 92 THEN 'declined' ELSE 'cancelled' END) END) AS status "
            f"FROM ({inner}) AS r0) AS r"
        )

    def referrals(self) -> None:
        from xinqiao.people.models import Consent
        from xinqiao.referrals.models import Referral

        total = self.plan.counts["referrals"]

        def consent(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "id": uid(T_CONSENT, "g"),
                "person_id": uid(T_PERSON, "person"),
                "purpose": "'data_sharing_hospital'",
                "given_by": "'self'",
                "method": "'on_screen'",
                "given_on": "(sent - interval '1 hour')::date",
                "recorded_by_id": self.slot("slot_worker", "person"),
                "recorded_at": "sent - interval '1 hour'",
            }
            return values, f"{self.referral_source(lo, hi)} WHERE medical"

        def referral(lo: int, hi: int) -> tuple[dict, str]:
            hospital = (
                f"(CASE WHEN mod(g, 4) = 0 THEN %(psychiatric)s::uuid ELSE "
                f"{self.slot('slot_hospital', 'person')} END)"
            )
            community = self.slot("slot_unit", "person")
            decided = "sent + wait"
            values = {
                "id": uid(T_REFERRAL, "g"),
                "person_id": uid(T_PERSON, "person"),
                "from_unit_id": f"(CASE WHEN kind = 'discharge' THEN {hospital} "
                f"ELSE {community} END)",
                "to_unit_id": f"(CASE kind WHEN 'relief' THEN {self.slot('slot_civil', 'person')} "
                f"WHEN 'school' THEN {self.slot('slot_school', 'person')} "
                f"WHEN 'community' THEN {self.slot('slot_next', 'person')} "
                f"WHEN 'discharge' THEN {community} ELSE {hospital} END)",
                "kind": "kind",
                "urgency": choice(
                    "g", 5, [(80, "'routine'"), (97, "'urgent'"), (100, "'emergency'")]
                ),
                "reason": "%(enc_reason)s",
                "contact_phone": sql_literal(FAKE_PHONE),
                "consent_id": f"(CASE WHEN medical THEN {uid(T_CONSENT, 'g')} END)",
                "discharged_on": "(CASE WHEN kind = 'discharge' THEN sent::date END)",
                "status": "status",
                "sent_by_id": self.slot("slot_worker", "person"),
                "sent_at": "sent",
                "decided_by_id": "(CASE WHEN status = 'sent' THEN NULL ELSE "
                f"{self.slot('slot_worker', 'person')} END)",
                "decided_at": f"(CASE WHEN status = 'sent' THEN NULL ELSE {decided} END)",
                "decline_reason": "(CASE WHEN status = 'declined' THEN %(enc_decline)s "
                "ELSE '' END)",
                "completed_by_id": "(CASE WHEN status = 'done' THEN "
                f"{self.slot('slot_worker', 'person')} END)",
                "completed_at": f"(CASE WHEN status = 'done' THEN {decided} + wait END)",
                "outcome": "(CASE WHEN status = 'done' THEN %(enc_outcome)s ELSE '' END)",
                "outcome_on": f"(CASE WHEN status = 'done' THEN ({decided} + wait)::date END)",
                "updated_at": "sent",
            }
            return values, self.referral_source(lo, hi)

        self.load("people_consent", Consent, total, consent)
        self.load("referrals_referral", Referral, total, referral)

    # -- follow-ups --

    def plan_source(self, plan: str) -> str:
        return f"mod({plan} * {self.plan.s_plan}, {self.P})"

    def followups(self) -> None:
        from xinqiao.followups.models import FollowUpPlan, FollowUpVisit

        plans = self.plan.counts["plans"]

        def plan(lo: int, hi: int) -> tuple[dict, str]:
            person = self.plan_source("g")
            interval = choice("g", 1, [(70, "180"), (85, "30"), (90, "7"), (100, "90")])
            rule = choice(
                "g",
                1,
                [
                    (70, "'under_service'"),
                    (90, "'risk_level'"),
                    (97, "'smi_status'"),
                    (100, "'bereaved'"),
                ],
            )
            source = f"(SELECT g, {interval} AS days, {rule} AS rule FROM {series(lo, hi)}) AS f0"
            changed = "(%(today)s::date - mod(pg_temp.h(g, 2), days + days / 5 + 1)::int)"
            values = {
                "id": uid(T_PLAN, "g"),
                "person_id": uid(T_PERSON, person),
                "interval_days": "days",
                "rule": "rule",
                "changed_on": changed,
                "last_contact_on": f"(CASE WHEN {h('g', 3, 100)} < 95 THEN {changed} END)",
                "next_due": f"({changed} + days)",
                "responsible_id": self.slot("slot_counsellor", person),
                "failed_in_a_row": f"(CASE WHEN {h('g', 4, 100)} < 8 THEN 1 + {h('g', 5, 3)} "
                "ELSE 0 END)",
            }
            return values, source

        def visit(lo: int, hi: int) -> tuple[dict, str]:
            person = self.plan_source(f"mod(g, {plans})")
            reached = f"({h('g', 2, 100)} < 85)"
            visited = f"(%(today)s::date - {h('g', 1, DAYS)}::int)"
            state = choice(
                "g",
                5,
                [(50, "'stable'"), (75, "'improving'"), (95, "'unchanged'"), (100, "'worse'")],
            )
            values = {
                "id": uid(T_VISIT, "g"),
                "plan_id": uid(T_PLAN, f"mod(g, {plans})"),
                "person_id": uid(T_PERSON, person),
                "visited_on": visited,
                "mode": choice(
                    "g",
                    3,
                    [(40, "'home_visit'"), (85, "'phone'"), (90, "'video'"), (100, "'clinic'")],
                ),
                "visitor_id": self.slot("slot_worker", person),
                "outcome": f"(CASE WHEN {reached} THEN 'reached' ELSE 'could_not_reach' END)",
                "toolkit": f'(CASE WHEN {h("g", 4, 100)} < 30 THEN \'["handbook", "leaflet"]\' '
                "ELSE '[]' END)::jsonb",
                "state": f"(CASE WHEN NOT {reached} THEN 'unknown' ELSE {state} END)",
                "next_due": f"({visited} + 30)",
                "recorded_at": least_now(
                    f"(({visited})::timestamp + interval '10 hours') AT TIME ZONE %(tz)s"
                ),
            }
            return values, series(lo, hi)

        self.load("followups_followupplan", FollowUpPlan, plans, plan)
        self.load("followups_followupvisit", FollowUpVisit, self.plan.counts["visits"], visit)

    # -- counselling --

    def session_source(self, lo: int, hi: int) -> str:
        base = max(1, self.P - 3 * self.W)
        kind = choice("g", 2, [(70, "'individual'"), (85, "'family'"), (100, "'group'")])
        return (
            f"(SELECT g, {h('g', 1, base)} AS person, {kind} AS kind, "
            f"{ago('g', 3)} AS held FROM {series(lo, hi)}) AS s"
        )

    def counselling(self) -> None:
        from xinqiao.counselling.models import Session, SessionParticipant

        if self.P <= 3 * self.W:
            raise SystemExit("too few people per community for group sessions at this scale")
        total = self.plan.counts["sessions"]

        def session(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "id": uid(T_SESSION, "g"),
                "unit_id": self.slot("slot_unit", "person"),
                "kind": "kind",
                "format": f"(CASE WHEN {h('g', 4, 100)} < 75 THEN 'offline' ELSE 'online' END)",
                "held_at": "held",
                "minutes": "(CASE WHEN kind = 'group' THEN 90 ELSE 50 END)",
                "counsellor_id": self.slot("slot_counsellor", "person"),
                "techniques": "'[\"supportive_listening\"]'::jsonb",
                "recorded_by_id": self.slot("slot_counsellor", "person"),
                "created_at": least_now("held + interval '1 hour'"),
            }
            return values, self.session_source(lo, hi)

        def participant(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "id": uid(T_PARTICIPANT, "g * 4 + j"),
                "session_id": uid(T_SESSION, "g"),
                "person_id": uid(T_PERSON, f"person + j * {self.W}"),
                "role": "(CASE WHEN kind = 'family' AND j = 1 THEN 'family_member' "
                "ELSE 'client' END)",
                "attended": f"({h('g * 4 + j', 7, 100)} < 95)",
                "updated_at": "held",
            }
            source = (
                f"{self.session_source(lo, hi)} CROSS JOIN LATERAL generate_series(0, "
                "CASE kind WHEN 'individual' THEN 0 WHEN 'family' THEN 1 ELSE 3 END) AS j"
            )
            return values, source

        self.load("counselling_session", Session, total, session)
        self.load("counselling_sessionparticipant", SessionParticipant, total, participant)

    # -- mailbox --

    def message_source(self, lo: int, hi: int) -> str:
        inner = (
            f"SELECT g, {ago('g', 1)} AS created, {h('g', 2, 100)} AS s, "
            f"(10 + {h('g', 3, 2880)}) * interval '1 minute' AS wait, "
            f"{h('g', 4, 100)} AS r FROM {series(lo, hi)}"
        )
        return (
            "(SELECT m0.*, (CASE WHEN created > %(now)s::timestamptz - interval '1 day' THEN "
            "(CASE WHEN s < 60 THEN 'queued' WHEN s < 80 THEN 'in_progress' ELSE 'answered' END) "
            "ELSE (CASE WHEN s < 75 THEN 'answered' WHEN s < 95 THEN 'closed' WHEN s < 98 "
            "THEN 'queued' ELSE 'in_progress' END) END) AS status, "
            "(CASE WHEN r < 80 THEN 'none' WHEN r < 92 THEN 'low' WHEN r < 98 THEN 'medium' "
            f"ELSE 'high' END) AS risk FROM ({inner}) AS m0) AS m"
        )

    def mailbox(self) -> None:
        from xinqiao.hotline.models import MailboxMessage, MailboxReply

        total = self.plan.counts["mailbox"]
        answered = "(status = 'answered' OR (status = 'closed' AND s < 90))"

        def message(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "id": uid(T_MESSAGE, "g"),
                "number": "('M-' || lpad(g::text, 9, '0'))",
                "code_digest": "encode(sha256(convert_to('xq-bench-mailbox-' || g, 'UTF8')), "
                "'hex')",
                "unit_id": self.slot("slot_unit", "g"),
                "kind": f"(CASE WHEN {h('g', 5, 100)} < 80 THEN 'mailbox' ELSE 'consultation' END)",
                "body": "%(enc_body)s",
                "writer_group": f"(CASE WHEN {h('g', 6, 100)} < 50 THEN '' ELSE "
                f"{pick('groups', h('g', 7, len(GROUP_WEIGHTS)))} END)",
                "age_band": pick("age_bands", h("g", 8, len(AGE_BANDS))),
                "area_id": self.slot("slot_street", "g"),
                "text_risk": "risk",
                "priority": "(CASE risk WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END)",
                "category": f"(CASE WHEN status = 'queued' THEN '' ELSE "
                f"{pick('categories', h('g', 9, self.ncat))} END)",
                "status": "status",
                "assigned_to_id": "(CASE WHEN status = 'queued' THEN NULL ELSE "
                f"{self.slot('slot_counsellor', 'g')} END)",
                "created_at": "created",
                "last_writer_at": "created",
                "answered_at": f"(CASE WHEN {answered} THEN {least_now('created + wait')} END)",
                "closed_at": f"(CASE WHEN status = 'closed' THEN {least_now('created + 2 * wait')} "
                "END)",
            }
            return values, self.message_source(lo, hi)

        def reply(lo: int, hi: int) -> tuple[dict, str]:
            values = {
                "id": uid(T_REPLY, "g"),
                "message_id": uid(T_MESSAGE, "g"),
                "author_id": self.slot("slot_counsellor", "g"),
                "body": "%(enc_reply)s",
                "created_at": least_now("created + wait"),
            }
            return values, f"{self.message_source(lo, hi)} WHERE {answered}"

        self.load("hotline_mailboxmessage", MailboxMessage, total, message)
        self.load("hotline_mailboxreply", MailboxReply, total, reply)

    # -- hotline --

    def call_source(self, lo: int, hi: int) -> str:
        local = (
            f"((%(today)s::date - {h('g', 1, DAYS)}::int)::timestamp "
            f"+ {pick('hours', h('g', 2, self.lh), 'int')} * interval '1 hour' "
            f"+ {h('g', 3, 3600)} * interval '1 second') AT TIME ZONE %(tz)s"
        )
        return (
            f"(SELECT g, started - (CASE WHEN started > %(now)s::timestamptz - interval '1 hour' "
            "THEN interval '1 day' ELSE interval '0' END) AS started, r "
            f"FROM (SELECT g, {local} AS started, {h('g', 6, 1000)} AS r "
            f"FROM {series(lo, hi)}) AS c0) AS c"
        )

    def hotline(self) -> None:
        from xinqiao.hotline.models import Call, CallProblem

        total = self.plan.counts["calls"]

        def call(lo: int, hi: int) -> tuple[dict, str]:
            ended = f"(started + (180 + {h('g', 4, 2400)}) * interval '1 second')"
            values = {
                "id": uid(T_CALL, "g"),
                "reference": "('C' || lpad(g::text, 10, '0'))",
                "centre_id": "%(centre)s::uuid",
                "seat_id": pick("seats", "mod(g, 4)", "uuid"),
                "operator_id": pick("operators", h("g", 5, len(self.params["operators"])), "uuid"),
                "started_at": "started",
                "ended_at": ended,
                "caller_type": choice(
                    "g",
                    7,
                    [
                        (60, "'self'"),
                        (80, "'family'"),
                        (88, "'friend'"),
                        (92, "'professional'"),
                        (100, "'anonymous'"),
                    ],
                ),
                "caller_sex": choice(
                    "g", 8, [(45, "'male'"), (95, "'female'"), (100, "'unknown'")]
                ),
                "age_band": pick("age_bands", h("g", 9, len(AGE_BANDS))),
                "caller_group": f"(CASE WHEN {h('g', 10, 100)} < 40 THEN '' ELSE "
                f"{pick('groups', h('g', 11, len(GROUP_WEIGHTS)))} END)",
                "area_id": f"(CASE WHEN {h('g', 12, 100)} < 85 THEN "
                f"{pick('streets', h('g', 13, len(self.params['streets'])), 'uuid')} END)",
                "risk_wish_dead": "(r >= 700)",
                "risk_ideation": "(r >= 900)",
                "risk_method": "(r >= 950)",
                "risk_intent": "(r >= 970)",
                "risk_plan": "(r >= 980)",
                "risk_behaviour": "(r >= 990)",
                "risk_harm_others": f"({h('g', 14, 1000)} = 0)",
                "risk": "(CASE WHEN r < 700 THEN 'none' WHEN r < 900 THEN 'low' "
                "WHEN r < 970 THEN 'medium' ELSE 'high' END)",
                "interventions": '(CASE WHEN r >= 970 THEN \'["support", "crisis"]\' '
                "ELSE '[\"support\"]' END)::jsonb",
                "referral": "(CASE WHEN r >= 970 THEN 'counselling' ELSE 'none' END)",
                "created_at": ended,
            }
            return values, self.call_source(lo, hi)

        def problem(second: bool) -> Callable[[int, int], tuple[dict, str]]:
            def build(lo: int, hi: int) -> tuple[dict, str]:
                first = h("g", 15, self.ncat)
                index = f"mod({first} + 1 + {h('g', 16, self.ncat - 1)}, {self.ncat})"
                if second:
                    values = {
                        "call_id": uid(T_CALL, "g"),
                        "group": pick("categories", index),
                        "code": pick("categories", index),
                    }
                    return values, f"{series(lo, hi)} WHERE {h('g', 17, 100)} < 40"
                values = {
                    "call_id": uid(T_CALL, "g"),
                    "group": pick("categories", first),
                    "code": f"(CASE WHEN {h('g', 18, 2)} = 0 THEN {pick('categories', first)} "
                    f"ELSE {pick('category_sub', first)} END)",
                }
                return values, series(lo, hi)

            return build

        self.load("hotline_call", Call, total, call)
        self.load("hotline_callproblem", CallProblem, total, problem(False))
        self.load("hotline_callproblem", CallProblem, total, problem(True))

    # -- education --

    def articles(self) -> None:
        from xinqiao.content.models import ArticleStat

        articles = len(self.params["articles"])
        space = articles * self.C * DAYS
        total = min(self.plan.counts["article_stats"], space)
        stride = coprime_stride(space, (1_000_003, 998_244_353, 1_000_000_007))

        def stat(lo: int, hi: int) -> tuple[dict, str]:
            views = f"(1 + {h('g', 1, 40)})"
            values = {
                "article_id": pick("articles", f"mod(m, {articles})", "uuid"),
                "unit_id": pick("comm_unit", f"mod(m / {articles}, {self.C})", "uuid"),
                "day": f"(%(today)s::date - (m / {articles * self.C})::int)",
                "views": views,
                "completions": f"mod(pg_temp.h(g, 2), {views} + 1)",
            }
            return values, f"(SELECT g, mod(g * {stride}, {space}) AS m FROM {series(lo, hi)}) AS a"

        self.load("content_articlestat", ArticleStat, total, stat)

    # -- derived from what is already there --

    def derived(self) -> None:
        from xinqiao.people.models import IsolationRecord
        from xinqiao.risk.models import SmiPatient

        execute(
            "CREATE TEMP TABLE IF NOT EXISTS bench_comm "
            "(unit_id uuid PRIMARY KEY, counsellor_id uuid, site_id uuid)"
        )
        execute("TRUNCATE bench_comm")
        execute(
            "INSERT INTO bench_comm SELECT * FROM unnest(%(comm_unit)s::uuid[], "
            "%(comm_counsellor)s::uuid[], %(comm_site)s::uuid[])",
            self.params,
        )
        hashed = "abs(hashtext(m.person_id::text))"
        source = (
            "people_groupmembership m JOIN people_person p ON p.id = m.person_id "
            "JOIN bench_comm c ON c.unit_id = p.unit_id "
            "WHERE m.\"group\" = '{group}' AND m.date_to IS NULL"
        )
        self.load_select(
            "risk_smipatient",
            SmiPatient,
            {
                "person_id": "m.person_id",
                "diagnosis": f"(CASE mod({hashed}, 3) WHEN 0 THEN 'schizophrenia' "
                "WHEN 1 THEN 'bipolar' ELSE 'delusional' END)",
                "diagnosed_on": "m.date_from",
                "status": f"(CASE mod({hashed}, 5) WHEN 0 THEN 'unstable' WHEN 1 THEN 'stable' "
                "ELSE 'basically_stable' END)",
                "risk_grade": f"mod({hashed}, 4)",
                "next_followup_due": f"(%(today)s::date + mod({hashed}, 120)::int - 30)",
                "registered_by_id": "c.counsellor_id",
                "registered_at": "m.recorded_at",
            },
            source.format(group="severe_mental_disorder"),
        )
        centralised = f"(mod({hashed}, 2) = 0)"
        self.load_select(
            "people_isolationrecord",
            IsolationRecord,
            {
                "id": "gen_random_uuid()",
                "person_id": "m.person_id",
                "kind": f"(CASE WHEN {centralised} THEN 'centralised' ELSE 'home' END)",
                "place": "'测试隔离点'",
                "site_id": f"(CASE WHEN {centralised} THEN c.site_id END)",
                "started_on": "m.date_from",
                "ended_on": f"(CASE WHEN mod({hashed} / 7, 4) = 0 THEN NULL "
                "ELSE least(m.date_from + 14, %(today)s::date) END)",
                "recorded_by_id": "c.counsellor_id",
                "recorded_at": "m.recorded_at",
            },
            source.format(group="close_contact") + f" AND mod({hashed} / 11, 10) < 3",
        )


def _tz_name() -> str:
    from django.conf import settings

    return str(settings.TIME_ZONE)


# --- the whole generation ----------------------------------------------------------------------

BIG_TABLES = (
    "people_person",
    "people_groupmembership",
    "assessments_assessment",
    "risk_risksignal",
    "risk_alert",
    "people_consent",
    "referrals_referral",
    "followups_followupplan",
    "followups_followupvisit",
    "counselling_session",
    "counselling_sessionparticipant",
    "hotline_mailboxmessage",
    "hotline_mailboxreply",
    "hotline_call",
    "hotline_callproblem",
    "content_articlestat",
)
META_TABLE = "bench_reports_meta"


def generate(plan: Plan, fk_checks: bool) -> dict[str, Any]:
    from django.db import connection

    session_settings()
    started = time.perf_counter()
    world = build_world(plan)
    orm_seconds = time.perf_counter() - started
    log(
        f"  org tree, users, teams, articles (ORM): {world['units']} units, "
        f"{world['users']} users, {orm_seconds:.1f} s"
    )
    generator = Generator(plan, world)
    generator.timings["org tree and users (ORM)"] = orm_seconds
    dropped = {table: secondary_indexes(table) for table in BIG_TABLES}
    for indexes in dropped.values():
        for name, _definition in indexes:
            execute(f'DROP INDEX "{name}"')
    if not fk_checks:
        execute("SET session_replication_role = replica")  # no FK triggers during the load
    generator.people()
    generator.assessments()
    generator.alerts()
    generator.referrals()
    generator.followups()
    generator.counselling()
    generator.mailbox()
    generator.hotline()
    generator.articles()
    started = time.perf_counter()
    for table, indexes in dropped.items():
        table_started = time.perf_counter()
        for _name, definition in indexes:
            execute(definition)
        generator.timings[table] += time.perf_counter() - table_started
    log(f"  secondary indexes built after the load: {time.perf_counter() - started:.1f} s")
    generator.derived()
    execute("SET session_replication_role = DEFAULT")
    started = time.perf_counter()
    execute("ANALYZE")
    generator.timings["ANALYZE"] = time.perf_counter() - started
    roles = {
        role: {"user": str(user.pk), "unit": str(unit.pk)}
        for role, (user, unit) in world["roles"].items()
    }
    meta = {
        "scale": plan.scale,
        "generated_at": generator.now.isoformat(),
        "rows": generator.rows,
        "timings": generator.timings,
        "units": world["units"],
        "users": world["users"],
        "communities": world["C"],
        "roles": roles,
        "fk_checks": fk_checks,
    }
    execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (id int PRIMARY KEY, info jsonb NOT NULL)")
    execute(
        f"INSERT INTO {META_TABLE} VALUES (1, %(info)s::jsonb) "
        "ON CONFLICT (id) DO UPDATE SET info = EXCLUDED.info",
        {"info": json.dumps(meta)},
    )
    connection.close()  # measure on a fresh connection with the server's own settings
    return meta


def stored_meta() -> dict[str, Any] | None:
    exists = scalar("SELECT to_regclass(%(t)s) IS NOT NULL", {"t": META_TABLE})
    if not exists:
        return None
    info = scalar(f"SELECT info FROM {META_TABLE} WHERE id = 1")
    if info is None:
        return None
    return json.loads(info) if isinstance(info, str) else dict(info)


# --- checking the generated rows through the ORM ---------------------------------------------

CHECKED_MODELS = (
    "people.Person",
    "people.GroupMembership",
    "people.Consent",
    "people.IsolationRecord",
    "assessments.Assessment",
    "risk.RiskSignal",
    "risk.Alert",
    "risk.PersonRisk",
    "risk.SmiPatient",
    "referrals.Referral",
    "followups.FollowUpPlan",
    "followups.FollowUpVisit",
    "counselling.Session",
    "counselling.SessionParticipant",
    "hotline.MailboxMessage",
    "hotline.MailboxReply",
    "hotline.Call",
    "hotline.CallProblem",
    "content.ArticleStat",
    "orgs.Unit",
    "orgs.Team",
)


def check_rows(sample: int) -> int:
    """Load ``sample`` rows of each generated model (the first ones and a random few) and run
    ``full_clean()`` on them, database constraints included; print what fails."""
    from django.apps import apps
    from django.core.exceptions import ValidationError

    problems = 0
    for label in CHECKED_MODELS:
        model = apps.get_model(label)
        rows = list(model.objects.order_by("pk")[: sample // 2])
        rows += list(model.objects.order_by("?")[: sample - len(rows)])
        failed = 0
        for row in rows:
            try:
                row.full_clean()
            except ValidationError as exc:
                failed += 1
                if failed <= 3:
                    log(f"  {label} {row.pk}: {exc.message_dict}")
        problems += failed
        log(f"  {label:<32} {model.objects.count():>11,} rows, {len(rows)} checked, {failed} bad")
    return problems


# --- measuring ---------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def differences(a: dict[Any, Any], b: dict[Any, Any]) -> list[tuple[Any, Any, Any]]:
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def measure(meta: dict[str, Any], runs: int, naive_runs: int) -> list[dict[str, Any]]:
    from django.test import Client
    from django.utils import timezone

    from xinqiao.accounts.models import User
    from xinqiao.orgs.models import Unit
    from xinqiao.reports import naive, tally
    from xinqiao.reports.periods import named
    from xinqiao.test import login

    today = timezone.localdate()
    results = []
    for role, ids in meta["roles"].items():
        user = User.objects.get(pk=ids["user"])
        unit = Unit.objects.get(pk=ids["unit"])
        client = login(Client(raise_request_exception=False, HTTP_HOST="127.0.0.1"), user)
        for code in PERIODS:
            period = named(code, today)
            url = f"/reports/units/{unit.pk}/?period={code}"
            status = client.get(url).status_code  # warm-up: templates, translations, caches
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                status = status if status != 200 else response.status_code
            naive_times = []
            expected: dict[Any, Any] = {}
            for _ in range(naive_runs):
                started = time.perf_counter()
                expected = naive.totals(unit, period.start, period.end)
                naive_times.append((time.perf_counter() - started) * 1000)
            got = tally.totals(unit, period.start, period.end)
            diff = differences(got, expected)
            row = {
                "role": role,
                "unit": unit.kind,
                "unit_name": unit.name,
                "period": code,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "status": status,
                "p50": statistics.median(times) if times else float("nan"),
                "p95": p95(times) if times else float("nan"),
                "naive_p50": statistics.median(naive_times) if naive_times else float("nan"),
                "cells": len(expected),
                "equal": not diff,
                "diff": diff[:8],
                "ndiff": len(diff),
            }
            results.append(row)
            log(
                f"  {role:<17} {unit.kind:<10} {code:<11} HTTP {status}  dashboard p50 "
                f"{row['p50']:8.1f} ms p95 {row['p95']:8.1f} ms  naive p50 "
                f"{row['naive_p50']:9.1f} ms  cells {len(expected):>5}  "
                f"equal: {'yes' if row['equal'] else 'no'}"
            )
            for key, tallied, counted in row["diff"]:
                log(f"      differs {key}: aggregate {tallied} naive {counted}")
    return results


# --- the report --------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{int(mem) / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration):
        memory = "?"
    return {
        "cores": str(os.cpu_count()),
        "cpu": model or platform.processor(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": str(scalar("SHOW server_version")),
        "shared_buffers": str(scalar("SHOW shared_buffers")),
        "work_mem": str(scalar("SHOW work_mem")),
    }


def report(
    meta: dict[str, Any],
    rebuild: tuple[float, dict[str, int]] | None,
    results: list[dict[str, Any]],
    args: argparse.Namespace,
) -> str:
    lines = [
        "# Dashboards at city scale (bench/reports.py)",
        "",
        f"Scale {meta['scale']} (generated {meta['generated_at'][:19]}); "
        f"dashboard timings over {args.runs} requests each (after one warm-up), "
        f"the naive query over {args.naive_runs} runs.",
        "",
        "| role | unit kind | period | dashboard p50 ms | dashboard p95 ms | naive p50 ms "
        "| cells | equal |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        status = "" if r["status"] == 200 else f" (HTTP {r['status']})"
        lines.append(
            f"| {r['role']} | {r['unit']} | {r['period']} ({r['start']} – {r['end']}) "
            f"| {r['p50']:.1f}{status} | {r['p95']:.1f} | {r['naive_p50']:.1f} | {r['cells']} "
            f"| {'yes' if r['equal'] else 'no'} |"
        )
    if rebuild is not None:
        seconds, written = rebuild
        lines += [
            "",
            f"`tally.rebuild()`: {seconds:.1f} s, "
            + ", ".join(f"{k} {v:,}" for k, v in written.items()),
        ]
    timings: dict[str, float] = meta["timings"]
    rows: dict[str, int] = meta["rows"]
    lines += [
        "",
        "Generation (INSERT … SELECT in PostgreSQL; a table's time includes building its "
        f"secondary indexes; FK checks {'on' if meta.get('fk_checks') else 'off'}):",
        "",
        "| table | rows | seconds |",
        "|---|---:|---:|",
    ]
    for name, seconds in timings.items():
        count = f"{rows[name]:,}" if name in rows else ""
        lines.append(f"| {name} | {count} | {seconds:.1f} |")
    lines.append(f"| **total** | {sum(rows.values()):,} | {sum(timings.values()):.1f} |")
    lines.append("")
    lines.append(
        f"{meta['units']} units ({meta['communities']} communities), {meta['users']} users."
    )
    info = machine()
    lines += [
        "",
        f"Machine: {info['cores']} cores ({info['cpu']}), {info['memory']} RAM, {info['os']}; "
        f"PostgreSQL {info['postgresql']} (shared_buffers {info['shared_buffers']}, work_mem "
        f"{info['work_mem']}); Python {info['python']}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--naive-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database; generate only if it is empty"
    )
    parser.add_argument(
        "--no-fk-checks",
        action="store_true",
        help="load without foreign-key triggers (faster; the same SQL is checked at small scale)",
    )
    parser.add_argument(
        "--no-rebuild",
        action="store_true",
        help="with --keep: measure against the aggregate tables of the last run",
    )
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--check",
        type=int,
        default=0,
        metavar="N",
        help="full_clean() N rows of each generated model through the ORM",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xq_bench")
    name = database_name(url)
    # Stable per database, so that --keep finds the keys that encrypted its texts.
    data_dir = Path(tempfile_root()) / f"xinqiao-bench-{name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not args.keep or not database_exists(url):
        recreate_database(url)
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    setup_django(url, data_dir)
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    log(f"database {name}: migrated in {time.perf_counter() - started:.1f} s")
    meta = stored_meta() if args.keep else None
    if meta is None and scalar("SELECT EXISTS (SELECT 1 FROM people_person)"):
        sys.exit("the database holds data but no finished generation: run without --keep")
    if meta is None:
        plan = Plan(args.scale)
        log(
            f"generating the city at scale {args.scale}: "
            + ", ".join(f"{k} {v:,}" for k, v in plan.counts.items())
        )
        started = time.perf_counter()
        meta = generate(plan, fk_checks=not args.no_fk_checks)
        log(f"generated in {time.perf_counter() - started:.1f} s")
    else:
        log(f"kept the data of scale {meta['scale']} generated {meta['generated_at'][:19]}")
    if args.check:
        log(f"checking {args.check} rows of each model with full_clean():")
        if check_rows(args.check):
            sys.exit("generated rows failed full_clean()")
    if args.generate_only:
        return
    from xinqiao.reports import tally

    rebuild: tuple[float, dict[str, int]] | None = None
    if args.no_rebuild:
        log("aggregate tables kept as they are (--no-rebuild)")
    else:
        started = time.perf_counter()
        written = tally.rebuild()
        rebuild = (time.perf_counter() - started, written)
        log(f"tally.rebuild(): {rebuild[0]:.1f} s, {written}")
    results = measure(meta, args.runs, args.naive_runs)
    text = report(meta, rebuild, results, args)
    print()
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    failed = [r for r in results if not r["equal"] or r["status"] != 200]
    if failed:
        for r in failed:
            log(f"FAILED: {r['role']} {r['period']}: HTTP {r['status']}, {r['ndiff']} cells differ")
        sys.exit(1)


def tempfile_root() -> str:
    import tempfile

    return tempfile.gettempdir()


if __name__ == "__main__":
    main()
