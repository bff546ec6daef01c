"""Backup and restore (issue #10 item 2), end to end through the ``xinqiao`` console script.

A source instance (its own database and data directory) gets the demo city; ``xinqiao backup``
writes the archive; ``xinqiao restore`` loads it into a second, freshly migrated, empty
instance, and every table of both databases is compared row by row, every column, as stored
(ciphertexts included). On SQLite the instances are two data directories; on PostgreSQL two
databases beside the test database (``test_h6_source``, ``test_h6_restore``), dropped after.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from xinqiao.ops import backup

REPO = Path(__file__).resolve().parent.parent
PG = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Written by migrate in each instance at its own time: compared by (app, name) only.
MIGRATIONS = "django_migrations"


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _pg_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgresql://{user}@{host}:{port}/{name}"


def _pg_admin(*statements: str) -> None:
    import time

    import psycopg

    with psycopg.connect(_pg_url("postgres"), autocommit=True) as conn:
        for statement in statements:
            for attempt in range(40):
                try:
                    conn.execute(statement)
                    break
                except psycopg.errors.ObjectInUse:
                    # A template still in use: the backend of a process that just ended.
                    if attempt == 39:
                        raise
                    time.sleep(0.25)


@dataclass
class Instance:
    data_dir: Path
    database: str  # SQLite file path or PostgreSQL database name

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "XINQIAO_DATA_KEYS", "XINQIAO_MEDIA_DIR"}
        }
        env |= {"XINQIAO_DATA_DIR": str(self.data_dir), "DB_CONN_MAX_AGE": "0", **KEYS}
        if PG:
            env["DATABASE_URL"] = _pg_url(self.database)
        return env | extra

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "xinqiao.cli", *args],
            cwd=REPO,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows as stored, sorted; id sequences' high-water marks beside them."""
        if PG:
            import psycopg

            with psycopg.connect(_pg_url(self.database)) as conn:
                names = [
                    r[0]
                    for r in conn.execute(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                    )
                ]
                out = {n: list(conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names}  # noqa: S608
                out["(sequences)"] = list(
                    conn.execute("SELECT sequencename, last_value FROM pg_sequences").fetchall()
                )
        else:
            conn = sqlite3.connect(self.database)
            try:
                names = [
                    r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                ]
                out = {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}  # noqa: S608
            finally:
                conn.close()
            # A zero mark and no mark mean the same to SQLite (the next id is 1).
            out["sqlite_sequence"] = [r for r in out["sqlite_sequence"] if r[1]]
        return {name: sorted(rows, key=repr) for name, rows in out.items()}

    def files(self) -> dict[str, bytes]:
        found = {}
        for folder in ("media", "imports"):
            root = self.data_dir / folder
            if root.is_dir():
                for path in root.rglob("*"):
                    if path.is_file():
                        found[f"{folder}/{path.relative_to(root)}"] = path.read_bytes()
        return found


def _comparable(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Drop what each instance's own migrate wrote at its own time (applied timestamps)."""
    out = dict(tables)
    migrations = out.pop(MIGRATIONS)
    out["(migrations)"] = sorted((r[1], r[2]) for r in migrations)
    if PG:
        out["(sequences)"] = [r for r in out["(sequences)"] if not r[0].startswith(MIGRATIONS)]
    else:
        out["sqlite_sequence"] = [r for r in out["sqlite_sequence"] if r[0] != MIGRATIONS]
    return out


def _data_rows(tables: dict[str, list[tuple[Any, ...]]]) -> int:
    """Rows beyond what a fresh migrate writes (content types, permissions, starter articles)."""
    skip = {MIGRATIONS, "sqlite_sequence", "(sequences)", "django_content_type"}
    skip |= {"auth_permission", "content_article"}
    return sum(len(rows) for name, rows in tables.items() if name not in skip)


TARGETS = ["test_h6_restore", "test_h6_refusals", "test_h6_restore3", "test_h6_restore4"]
OTHERS = ["test_h6_empty", "test_h6_source"]
KEYS = {
    "XINQIAO_DATA_KEY": _key(),
    "SECRET_KEY": secrets.token_urlsafe(60),
    "XINQIAO_BACKUP_KEY": _key(),
}


@dataclass
class World:
    source: Instance
    archive: Path
    tmp: Path
    empty_sqlite: Path | None
    made: int = 0

    def fresh_target(self) -> Instance:
        """A second instance, migrated and empty."""
        self.made += 1
        data_dir = self.tmp / f"target{self.made}"
        data_dir.mkdir()
        if PG:
            name = TARGETS[self.made - 1]
            # FILE_COPY: a copy of the files after a checkpoint, quicker than WAL_LOG here.
            _pg_admin(
                f"DROP DATABASE IF EXISTS {name}",
                f"CREATE DATABASE {name} TEMPLATE test_h6_empty STRATEGY FILE_COPY",
            )
            return Instance(data_dir, name)
        assert self.empty_sqlite is not None
        shutil.copyfile(self.empty_sqlite, data_dir / "xinqiao.sqlite3")
        return Instance(data_dir, str(data_dir / "xinqiao.sqlite3"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("backup")
    source_dir = tmp / "source"
    source_dir.mkdir()
    if PG:
        _pg_admin(
            *(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in [*TARGETS, *OTHERS]),
            "CREATE DATABASE test_h6_source",
        )
        source = Instance(source_dir, "test_h6_source")
    else:
        source = Instance(source_dir, str(source_dir / "xinqiao.sqlite3"))
    try:
        done = source.run("migrate", "--verbosity", "0")
        assert done.returncode == 0, done.stderr
        empty = None
        if PG:
            _pg_admin("CREATE DATABASE test_h6_empty TEMPLATE test_h6_source STRATEGY FILE_COPY")
        else:
            empty = tmp / "empty.sqlite3"
            shutil.copyfile(source.database, empty)
        # The demo city with people: build_demo_city(people_per_community=3).
        done = source.run("demo", "--people", "3")
        assert done.returncode == 0, done.stderr
        # Media beside the demo's own lesson: bytes of every value, and an import's upload.
        lesson = source_dir / "media" / "content" / "lesson with space.mp4"
        lesson.parent.mkdir(parents=True, exist_ok=True)
        lesson.write_bytes(bytes(range(256)) * 4096 + secrets.token_bytes(999))
        (source_dir / "imports").mkdir(exist_ok=True)
        sealed = f"v1.{_key_id(KEYS['XINQIAO_DATA_KEY'])}.".encode() + bytes(64)
        (source_dir / "imports" / "pending.sealed").write_bytes(sealed)
        archive = tmp / "city.xqb"
        done = source.run("backup", str(archive))
        assert done.returncode == 0, done.stderr
        assert "backup written" in done.stdout
        yield World(source, archive, tmp, empty)
    finally:
        if PG:
            _pg_admin(
                *(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in [*TARGETS, *OTHERS])
            )


@pytest.fixture(scope="module")
def restored(world: World) -> tuple[Instance, subprocess.CompletedProcess[str]]:
    target = world.fresh_target()
    assert _data_rows(target.tables()) == 0
    return target, target.run("restore", str(world.archive))


@pytest.fixture(scope="module")
def empty_target(world: World) -> Instance:
    """One empty instance for the refusals: each must leave it empty."""
    return world.fresh_target()


def test_restore_gives_back_every_table_row_by_row(world: World, restored: Any) -> None:
    target, done = restored
    assert done.returncode == 0, done.stderr
    assert "restored:" in done.stdout
    before = world.source.tables()
    assert _data_rows(before) > 5000  # the demo city is there to be compared
    source, copy = _comparable(before), _comparable(target.tables())
    assert sorted(copy) == sorted(source)
    differ = [name for name in source if source[name] != copy[name]]
    assert differ == []
    assert target.files() == world.source.files()
    assert "media/content/lesson with space.mp4" in target.files()
    assert oct((target.data_dir / "imports" / "pending.sealed").stat().st_mode & 0o777) == "0o600"


def test_restored_instance_reads_its_encrypted_fields(world: World, restored: Any) -> None:
    """Ciphertexts were copied, not re-encrypted, and decrypt with the same data key."""
    target, _done = restored
    script = (
        "from xinqiao.people.models import Person;"
        "print(sorted((p.name, p.phone) for p in Person.objects.exclude(phone='')))"
    )
    shown = [inst.run("shell", "-c", script) for inst in (world.source, target)]
    assert shown[0].returncode == 0, shown[0].stderr
    assert shown[0].stdout.count("'1") > 5  # phone numbers, decrypted
    assert shown[1].stdout == shown[0].stdout


def _refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    for word in words:
        assert word in done.stderr


def test_a_tampered_archive_is_refused(world: World) -> None:
    data = world.archive.read_bytes()
    key = base64.urlsafe_b64decode(KEYS["XINQIAO_BACKUP_KEY"])
    cases = {
        "failed authentication": [
            data[:p] + bytes([data[p] ^ 0x01]) + data[p + 1 :]
            for p in (len(data) // 2, 20, len(data) - 3)  # a chunk, the salt, the last tag
        ],
        "wrong backup key": [data[:40] + bytes([data[40] ^ 0x80]) + data[41:]],
        "cut short": [data[: len(data) - 1000], data[:200]],
        "after its last chunk": [data + b"\x00"],
        "not a Xinqiao backup": [b"Y" + data[1:]],
    }
    for message, variants in cases.items():
        for number, variant in enumerate(variants):
            bad = world.tmp / f"bad-{number}.xqb"
            bad.write_bytes(variant)
            with pytest.raises(backup.BackupError, match=message):
                backup.verify(bad, key=key)


def test_the_console_refuses_a_flipped_byte_and_restores_nothing(
    world: World, empty_target: Instance
) -> None:
    data = bytearray(world.archive.read_bytes())
    data[len(data) // 3] ^= 0x04
    bad = world.tmp / "flipped.xqb"
    bad.write_bytes(bytes(data))
    _refused(empty_target.run("restore", str(bad)), "failed authentication", "nothing")
    assert _data_rows(empty_target.tables()) == 0
    assert empty_target.files() == {}


def test_a_wrong_backup_key_is_refused(world: World, empty_target: Instance) -> None:
    done = empty_target.run("restore", str(world.archive), XINQIAO_BACKUP_KEY=_key())
    _refused(done, "wrong backup key")
    assert _data_rows(empty_target.tables()) == 0


def test_an_instance_without_the_data_key_is_told_which_key_it_needs(
    world: World, empty_target: Instance
) -> None:
    done = empty_target.run("restore", str(world.archive), XINQIAO_DATA_KEY=_key())
    _refused(done, "needs the data key", _key_id(KEYS["XINQIAO_DATA_KEY"]))
    assert _data_rows(empty_target.tables()) == 0


def test_restore_into_a_non_empty_instance_is_refused(world: World) -> None:
    before = world.source.tables()
    done = world.source.run("restore", "--no-migrate", str(world.archive))
    _refused(done, "not empty")
    assert world.source.tables() == before


def _key_id(text: str) -> str:
    import hashlib

    from xinqiao.lib.crypto import decode_master_key

    return hashlib.sha256(decode_master_key(text)).hexdigest()[:8]


def test_the_archive_names_key_fingerprints_never_keys(world: World) -> None:
    raw = world.archive.read_bytes()
    backup_key = base64.urlsafe_b64decode(KEYS["XINQIAO_BACKUP_KEY"])
    with world.archive.open("rb") as handle:
        plain = b"".join(backup.open_sealed(handle, backup_key))
    data_key = base64.urlsafe_b64decode(KEYS["XINQIAO_DATA_KEY"])
    for secret in (data_key, backup_key, KEYS["SECRET_KEY"].encode()):
        for form in (secret, base64.urlsafe_b64encode(secret), base64.b64encode(secret)):
            assert form not in plain
            assert form.rstrip(b"=") not in plain
            assert form not in raw
    assert b"accounts_user" in plain  # the table names are inside ...
    assert b"accounts_user" not in raw  # ... and sealed
    [manifest] = [json.loads(body) for kind, body in backup._frames(iter([plain])) if kind == b"Z"]
    [held] = manifest["keys"]["data_keys"]
    assert held == {
        "key_id": _key_id(KEYS["XINQIAO_DATA_KEY"]),
        "fingerprint": backup.fingerprint(data_key, "data"),
    }
    assert manifest["keys"]["data_keys_used"] == [held["key_id"]]
    assert manifest["tables"]["people_person"] > 20
    assert set(manifest["migrations"]) >= {"people", "auth", "content"}
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())


def test_another_migration_state_is_refused(world: World) -> None:
    backup_key = base64.urlsafe_b64decode(KEYS["XINQIAO_BACKUP_KEY"])
    with world.archive.open("rb") as handle:
        plain = b"".join(backup.open_sealed(handle, backup_key))
    [manifest] = [json.loads(body) for kind, body in backup._frames(iter([plain])) if kind == b"Z"]
    assert manifest["migrations"] == backup.code_migration_state()
    manifest["migrations"]["people"] = "0001_initial"
    with pytest.raises(backup.BackupError, match="people: archive 0001_initial"):
        backup.check_compatible(manifest)


def test_check_only_verifies_and_touches_nothing(world: World, empty_target: Instance) -> None:
    done = empty_target.run("restore", "--check", str(world.archive))
    assert done.returncode == 0, done.stderr
    assert "archive is sound" in done.stdout
    assert _data_rows(empty_target.tables()) == 0


def test_the_snapshot_is_consistent_while_the_platform_writes(world: World) -> None:
    """A writer commits a session and a worker heartbeat together, again and again, while the
    backup runs; the two tables are dumped far apart (django_… and ops_…), so only one
    snapshot for the whole dump gives both the same set of writer rows."""
    import threading
    import time as clock

    busy_dir = world.tmp / "busy"
    busy_dir.mkdir()
    if PG:
        _pg_admin(
            "DROP DATABASE IF EXISTS test_h6_busy WITH (FORCE)",
            "CREATE DATABASE test_h6_busy TEMPLATE test_h6_source STRATEGY FILE_COPY",
        )
        busy = Instance(busy_dir, "test_h6_busy")
    else:
        shutil.copyfile(world.source.database, busy_dir / "xinqiao.sqlite3")
        busy = Instance(busy_dir, str(busy_dir / "xinqiao.sqlite3"))
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:
        if PG:
            import psycopg

            conn: Any = psycopg.connect(_pg_url(busy.database), autocommit=True)
            mark = "%s"
        else:
            conn = sqlite3.connect(busy.database, isolation_level=None, timeout=20)
            mark = "?"
        try:
            n = 0
            while not stop.is_set():
                n += 1
                conn.execute("BEGIN")
                conn.execute(
                    f"INSERT INTO django_session (session_key, session_data, expire_date) "  # noqa: S608
                    f"VALUES ({mark}, 'x', '2030-01-01 00:00:00')",
                    [f"h6busy{n:08d}"],
                )
                conn.execute(
                    f"INSERT INTO ops_workerheartbeat (name, last_seen, hostname) "  # noqa: S608
                    f"VALUES ({mark}, '2030-01-01 00:00:00', '')",
                    [f"h6busy{n:08d}"],
                )
                conn.execute("COMMIT")
                written.append(n)
                clock.sleep(0.002)
        finally:
            conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            clock.sleep(0.01)
        archive = world.tmp / "busy.xqb"
        done = busy.run("backup", str(archive))
        at_end = len(written)
    finally:
        stop.set()
        writer.join()
        if PG:
            _pg_admin("DROP DATABASE IF EXISTS test_h6_busy WITH (FORCE)")
    assert done.returncode == 0, done.stderr
    key = base64.urlsafe_b64decode(KEYS["XINQIAO_BACKUP_KEY"])
    found: dict[str, set[str]] = {}

    def collect(header: dict[str, Any], chunks: Iterator[bytes]) -> None:
        if header.get("table") in {"django_session", "ops_workerheartbeat"}:
            rows = [json.loads(line)[0] for line in backup._lines(chunks)]
            found[header["table"]] = {r for r in rows if r.startswith("h6busy")}

    backup._members(archive, key, collect)
    sessions, beats = found["django_session"], found["ops_workerheartbeat"]
    assert len(sessions) >= 20
    assert len(sessions) < at_end  # the writer went on during the backup …
    assert sessions == beats  # … and the dump saw one moment
