"""Benchmark: bulk import of person files into PostgreSQL, against PostgreSQL's own COPY.

    .venv/bin/python bench/import_people.py [--rows 1000000]

Generates N person rows (generated identities: address code 99xxxx, phones 1700000xxxx) as the
import template's CSV, then in the same run on the same machine:
  1. COPY of the same CSV into a bare table with the same columns (no checks, no encryption);
  2. Xinqiao's import: read, check every row (ID check digit, dates, phone, unit, duplicates
     in the file and in the system), encrypt four fields, compute two blind indexes, and write
     the files, their target groups and their timeline events.
Prints rows/second for both and the ratio. Needs PostgreSQL (XINQIAO_BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/xinqiao_bench; the database is recreated).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def generate_csv(rows: int, units: list[str]) -> bytes:
    from xinqiao.people.idcard import check_char
    from xinqiao.people.importing import COLUMNS

    headers = [h for h, _k, _r in COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    start = date(1940, 1, 1)
    for i in range(rows):
        born = start + timedelta(days=(i * 7919) % 29000)
        first17 = f"99{i // 1000 % 10000:04d}{born:%Y%m%d}{i % 1000:03d}"
        writer.writerow(
            [
                f"测试{i}",
                "男" if i % 1000 % 2 else "女",
                born.isoformat(),
                "居民身份证",
                first17 + check_char(first17),
                f"170{i:08d}",
                f"测试路{i % 997}号",
                units[i % len(units)],
                "",
                "",
                "普通公众" if i % 3 else "学生、患者家属",
                "",
            ]
        )
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    url = os.environ.get(
        "XINQIAO_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xinqiao_bench"
    )
    recreate_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["XINQIAO_DATA_DIR"] = tempfile.mkdtemp(prefix="xinqiao-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "xinqiao.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from xinqiao.ops.demo import build_demo_city
    from xinqiao.people import importing
    from xinqiao.people.models import ImportJob, ImportStatus, Person

    call_command("migrate", verbosity=0)
    demo = build_demo_city()
    user = demo.users["s1_admin"]  # street administrator of 东湖街道: communities 1 and 2
    units = [c.name for c in demo.communities[:2]]
    data = generate_csv(args.rows, units)
    print(f"rows: {args.rows:,}  file: {len(data) / 1e6:.1f} MB  (PostgreSQL, same machine)")

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_copy (name text, sex text, birth_date date, id_type text, "
            "id_number text, phone text, address text, unit text, grid text, ethnicity text, "
            "groups text, notes text)"
        )
        started = time.perf_counter()
        with cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in range(0, len(data), 1 << 20):
                copy.write(data[chunk : chunk + (1 << 20)])
        copy_seconds = time.perf_counter() - started
    copy_rate = args.rows / copy_seconds
    print(f"PostgreSQL COPY into a bare table: {copy_seconds:7.1f} s  {copy_rate:10,.0f} rows/s")

    importing.MAX_ROWS = max(importing.MAX_ROWS, args.rows)
    job = ImportJob.objects.create(unit=demo.streets[0], created_by=user, file_name="bench.csv")
    importing.store_upload(job, data)
    started = time.perf_counter()
    importing.run_check(job)
    checked = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != ImportStatus.CHECKED or job.error_count:
        sys.exit(f"check failed: {job.status} {job.message} {job.errors[:3]}")
    importing.run_import(job)
    total = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != ImportStatus.DONE or Person.objects.count() != args.rows:
        sys.exit(f"import failed: {job.status} {job.message}")
    rate = args.rows / total
    print(
        f"Xinqiao check (preview) alone:      {checked:7.1f} s  {args.rows / checked:10,.0f} rows/s"
    )
    print(
        f"Xinqiao check + import (all rows):  {total:7.1f} s  {rate:10,.0f} rows/s "
        "(the import checks every row again before it writes)"
    )
    print(f"ratio to COPY: {rate / copy_rate:.3f} (goal: at least 0.25)")

    # The ceiling any importer has with this schema: COPY of the rows Xinqiao wrote (already
    # checked, encrypted and indexed) back into its own tables, with their indexes and
    # constraints, instead of into a bare table.
    tables = ["people_person", "people_groupmembership", "people_personevent"]
    dumps = {}
    with connection.cursor() as cursor:
        for table in tables:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            dumps[table] = buffer.getvalue()
        cursor.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")  # nothing else is filled
        started = time.perf_counter()
        for table in tables:
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(dumps[table])
        ceiling = time.perf_counter() - started
    print(
        f"COPY of those rows into Xinqiao's tables: {ceiling:7.1f} s  "
        f"{args.rows / ceiling:10,.0f} rows/s  ({args.rows / ceiling / copy_rate:.3f} of bare COPY)"
    )


if __name__ == "__main__":
    main()
