"""Backup and restore of a whole instance in one encrypted archive (issue #10 item 2).

What the archive holds (docs/deployment.md "Backup and restore"):

* every table of every installed app, model by model, rows in primary-key order, read inside
  one snapshot (PostgreSQL: a REPEATABLE READ, READ ONLY transaction; SQLite: one deferred read
  transaction, which WAL keeps consistent while others write). Values are the stored values —
  encrypted fields stay ciphertext, JSON stays its stored text — in a portable, column-typed
  encoding, so an archive from SQLite restores into PostgreSQL and back;
* the uploaded media (``MEDIA_ROOT``) and the sealed spreadsheets of unfinished imports
  (``<data dir>/imports``);
* a manifest: format version, creation time, the latest applied migration per app, rows per
  table, the high-water mark of every id sequence, the SHA-256 of every member, and the
  fingerprints of the data-encryption keys (never the keys) with the key ids the ciphertexts use.

The archive is sealed with AES-256-GCM (NIST SP 800-38D) in chunks of 1 MiB, in the manner of
the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption
and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015): each chunk's nonce is its counter plus a
last-chunk flag and the header is bound as associated data, so a chunk that is changed, moved,
dropped or cut off fails authentication. The chunk key is derived with HKDF-SHA256 (RFC 5869)
from the backup key and a random salt per archive. Nothing is used before its chunk is
authenticated, and a restore reads the archive twice: once to verify everything, once to load.

Restore refuses (exit code 2) a damaged archive, a wrong backup key, an archive from another
migration state, an instance that lacks a data key the archive's ciphertexts need, and an
instance that is not empty. The database part runs in one transaction; media files are staged
beside their directory and moved into place only after the commit.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import json
import os
import secrets
import shutil
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models.expressions import ExpressionWrapper, F
from django.utils import timezone

from xinqiao.fields import EncryptedTextField
from xinqiao.lib.crypto import decode_master_key
from xinqiao.lib.env import envstr
from xinqiao.lib.keys import read_or_create_key_file
from xinqiao.lib.storage import errno_name, is_disk_full

FORMAT_VERSION = 1
MAGIC = b"XQBACKUP"
_SALT_BYTES = 16
_HEADER = struct.Struct(">8sB16s32s")  # magic, version, salt, backup-key fingerprint
_CHUNK = 1024 * 1024
_LEN = struct.Struct(">I")
_FRAME = struct.Struct(">cI")
_FRAME_DATA = 256 * 1024
_BATCH = 1000

# Rows a fresh ``migrate`` writes itself: they are replaced by the archive's rows on restore.
# A data migration that seeds a table must be listed here (the restore test fails until it is).
MIGRATE_WRITES = {"contenttypes.contenttype", "auth.permission"}
# content/migrations/0002_starter_set: the built-in articles (``builtin`` slug set).
SEEDED = {"content.article": {"builtin": ""}}


class BackupError(Exception):
    """The archive cannot be written, or must not be restored (the message says why)."""


# --- keys -------------------------------------------------------------------------------------


def fingerprint(key: bytes, purpose: str) -> str:
    """A SHA-256 fingerprint of a key under a purpose label: names the key, reveals nothing."""
    return hashlib.sha256(f"xinqiao key fingerprint {purpose}\x00".encode() + key).hexdigest()


def backup_key() -> bytes:
    """The backup key: ``XINQIAO_BACKUP_KEY`` (or ``_FILE``); on the embedded default a key file
    ``<data dir>/keys/backup_key`` created 0600 on first use (as the other keys are)."""
    text = envstr("XINQIAO_BACKUP_KEY")
    if not text:
        if settings.PRODUCTION:
            raise BackupError(
                "XINQIAO_BACKUP_KEY must be set in production (32 random bytes, url-safe base64)"
            )
        text = read_or_create_key_file(Path(settings.DATA_DIR) / "keys" / "backup_key")
    try:
        return decode_master_key(text)
    except ValueError as exc:
        raise BackupError(f"XINQIAO_BACKUP_KEY: {exc}") from exc


def data_key_fingerprints() -> list[dict[str, str]]:
    """The data keys this instance holds: key id (as written in ciphertexts) and fingerprint."""
    return [
        {"key_id": hashlib.sha256(k).hexdigest()[:8], "fingerprint": fingerprint(k, "data")}
        for k in settings.DATA_KEYS
    ]


# --- the sealed stream ------------------------------------------------------------------------


def _stream_key(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"xinqiao backup v1"
    ).derive(key)
    return AESGCM(derived)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class SealedWriter:
    """Buffers plaintext and writes it as authenticated chunks."""

    def __init__(self, out: IO[bytes], key: bytes) -> None:
        salt = secrets.token_bytes(_SALT_BYTES)
        self.header = _HEADER.pack(
            MAGIC, FORMAT_VERSION, salt, bytes.fromhex(fingerprint(key, "backup"))
        )
        self._aead = _stream_key(key, salt)
        self._out = out
        self._buffer = bytearray()
        self._counter = 0
        out.write(self.header)

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > _CHUNK:
            self._emit(bytes(self._buffer[:_CHUNK]), last=False)
            del self._buffer[:_CHUNK]

    def _emit(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._counter, last), plain, self.header)
        self._out.write(_LEN.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()


def _read_exact(handle: IO[bytes], size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise BackupError("the archive is cut short (damaged or incomplete)")
    return data


def open_sealed(handle: IO[bytes], key: bytes) -> Iterator[bytes]:
    """Authenticated plaintext chunks of an archive; raises BackupError on any fault."""
    header = handle.read(_HEADER.size)
    if len(header) != _HEADER.size or not header.startswith(MAGIC):
        raise BackupError("this is not a Xinqiao backup archive")
    _magic, version, salt, key_print = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise BackupError(f"archive format {version} is not supported (this code reads 1)")
    ours = fingerprint(key, "backup")
    if key_print.hex() != ours:
        raise BackupError(
            "wrong backup key: the archive was sealed with the backup key whose fingerprint is "
            f"{key_print.hex()[:16]}…, this instance's backup key is {ours[:16]}… "
            "(set XINQIAO_BACKUP_KEY)"
        )
    aead = _stream_key(key, salt)
    counter = 0
    while True:
        length_bytes = handle.read(_LEN.size)
        if len(length_bytes) != _LEN.size:
            raise BackupError("the archive is cut short (its last chunk is missing)")
        (length,) = _LEN.unpack(length_bytes)
        if length > _CHUNK + 16:
            raise BackupError("the archive is damaged (a chunk has an impossible length)")
        sealed = _read_exact(handle, length)
        plain = None
        for last in (False, True):
            try:
                plain = aead.decrypt(_nonce(counter, last), sealed, header)
            except InvalidTag:
                continue
            break
        if plain is None:
            raise BackupError(
                f"the archive failed authentication at chunk {counter}: it was changed or "
                "damaged after it was written; nothing was restored"
            )
        counter += 1
        yield plain
        if last:
            if handle.read(1):
                raise BackupError("the archive has bytes after its last chunk (tampered)")
            return


# --- frames inside the stream ------------------------------------------------------------------
# B begin member (JSON), D data, E end member, Z manifest (JSON, last).


def _frame(kind: bytes, payload: bytes) -> bytes:
    return _FRAME.pack(kind, len(payload)) + payload


def _frames(chunks: Iterator[bytes]) -> Iterator[tuple[bytes, bytes]]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= _FRAME.size:
            kind, length = _FRAME.unpack_from(buffer)
            if len(buffer) < _FRAME.size + length:
                break
            yield kind, bytes(buffer[_FRAME.size : _FRAME.size + length])
            del buffer[: _FRAME.size + length]
    if buffer:
        raise BackupError("the archive ends inside a record (damaged)")


# --- column encoding -------------------------------------------------------------------------

_INT = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}  # fmt: skip
_STR = {
    "CharField", "TextField", "SlugField", "EmailField", "URLField", "FileField", "ImageField",
    "FilePathField", "GenericIPAddressField", "IPAddressField",
}  # fmt: skip
_SIMPLE = {
    "BooleanField": "bool", "FloatField": "float", "DecimalField": "decimal",
    "UUIDField": "uuid", "DateTimeField": "datetime", "DateField": "date", "TimeField": "time",
    "DurationField": "duration", "BinaryField": "bytes", "JSONField": "json",
}  # fmt: skip


def _kind(f: models.Field[Any, Any]) -> str:
    target: Any = f
    while target.is_relation:
        target = target.target_field
    if isinstance(f, EncryptedTextField):
        return "enc"
    internal = target.get_internal_type()
    if internal in _INT:
        return "int"
    if internal in _STR:
        if hasattr(target, "from_db_value") and not isinstance(target, models.FileField):
            raise BackupError(f"{f.model._meta.label}.{f.name}: unknown converting text field")
        return "str"
    if internal in _SIMPLE:
        if internal != "JSONField" and hasattr(target, "from_db_value"):
            raise BackupError(f"{f.model._meta.label}.{f.name}: unknown converting field")
        return _SIMPLE[internal]
    raise BackupError(f"{f.model._meta.label}.{f.name}: field type {internal} is not supported")


def _encode(kind: str, value: Any) -> Any:
    if value is None or kind in {"int", "str", "enc", "json", "bool", "float"}:
        return value
    if kind == "datetime":
        return value.astimezone(dt.UTC).isoformat()
    if kind in {"date", "time", "decimal", "uuid"}:
        return value.isoformat() if kind in {"date", "time"} else str(value)
    if kind == "duration":
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    raise BackupError(f"cannot encode a {kind} value")


def _decode(kind: str, value: Any) -> Any:
    if value is None or kind in {"int", "str", "enc", "json", "bool", "float"}:
        return value
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "time":
        return dt.time.fromisoformat(value)
    if kind == "decimal":
        return decimal.Decimal(value)
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "duration":
        return dt.timedelta(microseconds=value)
    if kind == "bytes":
        return base64.b64decode(value)
    raise BackupError(f"cannot decode a {kind} value")


# --- what is in this instance ---------------------------------------------------------------


def dumped_models() -> list[type[models.Model]]:
    """Every concrete table of every installed app (many-to-many tables included)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        found.append(model)
    return sorted(found, key=lambda m: m._meta.db_table)


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.local_concrete_fields if not getattr(f, "generated", False)]


def _auto_pk(model: type[models.Model]) -> bool:
    return isinstance(model._meta.pk, models.AutoField)


def migration_state() -> dict[str, str]:
    """The latest applied migration per app (by the migration graph's order)."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations or {})
    latest: dict[str, tuple[int, str]] = {}
    for app_label, name in applied:
        if (app_label, name) not in loader.graph.nodes:
            continue
        depth = len(loader.graph.forwards_plan((app_label, name)))
        if app_label not in latest or depth > latest[app_label][0]:
            latest[app_label] = (depth, name)
    return {app: name for app, (_depth, name) in sorted(latest.items())}


def code_migration_state() -> dict[str, str]:
    """The last migration per app in this code."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return dict(sorted(loader.graph.leaf_nodes()))


def _sequence_high_water() -> dict[str, int]:
    """The highest id each auto-id table ever handed out (not reused after a restore)."""
    marks: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            seqs = dict(cursor.fetchall())
            for model in dumped_models():
                if _auto_pk(model):
                    marks[model._meta.db_table] = int(seqs.get(model._meta.db_table) or 0)
        elif connection.vendor == "postgresql":
            for model in dumped_models():
                if not _auto_pk(model):
                    continue
                cursor.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)",
                    [model._meta.db_table, model._meta.pk.column],
                )
                (seq,) = cursor.fetchone()
                if seq is None:
                    continue
                cursor.execute(f"SELECT last_value, is_called FROM {seq}")  # noqa: S608
                last, called = cursor.fetchone()
                marks[model._meta.db_table] = int(last) if called else int(last) - 1
        else:
            raise BackupError(f"database {connection.vendor} is not supported")
    return marks


def _media_roots() -> dict[str, Path]:
    return {
        "media": Path(settings.MEDIA_ROOT),
        "imports": Path(settings.DATA_DIR) / "imports",
    }


def _files() -> Iterator[tuple[str, Path]]:
    for prefix, root in _media_roots().items():
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield f"{prefix}/{path.relative_to(root).as_posix()}", path


# --- backup -----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float


class _MemberWriter:
    def __init__(self, sink: SealedWriter, header: dict[str, Any], *, compress: bool) -> None:
        self._sink = sink
        self._hash = hashlib.sha256()
        self._size = 0
        self._pending = bytearray()
        self._zip = zlib.compressobj(6) if compress else None
        header = {**header, "codec": "zlib" if compress else "raw"}
        sink.write(_frame(b"B", json.dumps(header).encode()))

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)
        self._pending += self._zip.compress(data) if self._zip else data
        while len(self._pending) >= _FRAME_DATA:
            self._sink.write(_frame(b"D", bytes(self._pending[:_FRAME_DATA])))
            del self._pending[:_FRAME_DATA]

    def close(self) -> dict[str, Any]:
        if self._zip:
            self._pending += self._zip.flush()
        for start in range(0, len(self._pending), _FRAME_DATA):
            self._sink.write(_frame(b"D", bytes(self._pending[start : start + _FRAME_DATA])))
        self._sink.write(_frame(b"E", b""))
        return {"sha256": self._hash.hexdigest(), "size": self._size}


def _read_table(model: type[models.Model], member: _MemberWriter) -> tuple[int, set[str]]:
    columns = _columns(model)
    kinds = [_kind(f) for f in columns]
    # Stored values, not what the model's fields make of them: ciphertext stays ciphertext and
    # JSON stays its text (a plain TextField output has no converters).
    selects: list[Any] = [
        ExpressionWrapper(F(f.attname), output_field=models.TextField())
        if kind in {"enc", "json"}
        else f.attname
        for f, kind in zip(columns, kinds, strict=True)
    ]
    rows = 0
    key_ids: set[str] = set()
    enc_positions = [i for i, kind in enumerate(kinds) if kind == "enc"]
    query = model._base_manager.order_by("pk").values_list(*selects)
    for row in query.iterator(chunk_size=2000):
        for i in enc_positions:
            token = row[i]
            if token:
                key_ids.add(token.split(".", 2)[1] if token.count(".") >= 2 else "?")
        line = [_encode(kind, value) for kind, value in zip(kinds, row, strict=True)]
        member.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode())
        member.write(b"\n")
        rows += 1
    return rows, key_ids


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent read snapshot of the database for the whole dump."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    # Django's SQLite transactions here are IMMEDIATE (they take the write lock); a backup
    # only reads, so it opens a deferred transaction, whose snapshot WAL keeps while others
    # write.
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        cursor.execute("SELECT count(*) FROM sqlite_master")  # the snapshot starts here
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


def write_backup(out: Path, *, key: bytes | None = None) -> BackupResult:
    started = time.monotonic()
    key = backup_key() if key is None else key
    out = Path(out)
    if out.exists():
        raise BackupError(f"{out} exists; choose a new file name")
    tmp = out.with_name(out.name + ".partial")
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "members": {},
        "tables": {},
    }
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            sink = SealedWriter(handle, key)
            key_ids: set[str] = set()
            with _snapshot():
                manifest["migrations"] = migration_state()
                manifest["sequences"] = _sequence_high_water()
                for model in dumped_models():
                    columns = _columns(model)
                    name = f"db/{model._meta.db_table}"
                    member = _MemberWriter(
                        sink,
                        {
                            "name": name,
                            "type": "table",
                            "table": model._meta.db_table,
                            "model": model._meta.label_lower,
                            "columns": [f.column for f in columns],
                            "kinds": [_kind(f) for f in columns],
                        },
                        compress=True,
                    )
                    rows, used = _read_table(model, member)
                    key_ids |= used
                    manifest["members"][name] = member.close()
                    manifest["tables"][model._meta.db_table] = rows
            for name, path in _files():
                member = _MemberWriter(sink, {"name": name, "type": "file"}, compress=False)
                with path.open("rb") as source:
                    head = source.read(16)
                    if name.startswith("imports/") and head.count(b".") >= 2:
                        key_ids.add(head.split(b".", 2)[1].decode("ascii", "replace"))
                    member.write(head)
                    while chunk := source.read(_CHUNK):
                        member.write(chunk)
                manifest["members"][name] = member.close()
            manifest["keys"] = {
                "data_keys": data_key_fingerprints(),
                "data_keys_used": sorted(key_ids),
                "secret_key": fingerprint(settings.SECRET_KEY.encode(), "secret"),
            }
            sink.write(_frame(b"Z", json.dumps(manifest, sort_keys=True).encode()))
            sink.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise BackupError(
                f"no room for the archive in {out.parent} ({errno_name(exc)}): "
                "nothing was written; free space or choose another disk"
            ) from exc
        raise
    return BackupResult(out, manifest, time.monotonic() - started)


# --- reading an archive ----------------------------------------------------------------------


class _MemberReader:
    """The data of one member, hashed (uncompressed) as it is read."""

    def __init__(self, header: dict[str, Any], frames: Iterator[tuple[bytes, bytes]]) -> None:
        self.header = header
        self.frames = frames
        self.digest = hashlib.sha256()
        self.size = 0

    def _take(self, piece: bytes) -> bytes:
        self.digest.update(piece)
        self.size += len(piece)
        return piece

    def chunks(self) -> Iterator[bytes]:
        unzip = zlib.decompressobj() if self.header.get("codec") == "zlib" else None
        for kind, body in self.frames:
            if kind == b"E":
                if unzip:
                    tail = unzip.flush()
                    if tail:
                        yield self._take(tail)
                return
            if kind != b"D":
                raise BackupError("the archive's records are out of order (damaged)")
            yield self._take(unzip.decompress(body) if unzip else body)
        raise BackupError("the archive ends inside a member (damaged)")


def _members(
    path: Path, key: bytes, on_member: Callable[[dict[str, Any], Iterator[bytes]], Any]
) -> dict[str, Any]:
    """Walk the archive, calling ``on_member(header, data chunks)`` for each member in turn;
    returns the manifest. Each member's data is checked against the hash it must have."""
    with path.open("rb") as handle:
        frames = _frames(open_sealed(handle, key))
        manifest: dict[str, Any] | None = None
        seen: dict[str, dict[str, Any]] = {}
        for kind, payload in frames:
            if manifest is not None:
                raise BackupError("the archive has records after its manifest (damaged)")
            if kind == b"Z":
                manifest = json.loads(payload)
                continue
            if kind != b"B":
                raise BackupError("the archive's records are out of order (damaged)")
            header = json.loads(payload)
            reader = _MemberReader(header, frames)
            stream = reader.chunks()
            on_member(header, stream)
            for _rest in stream:  # whatever the callback did not read
                pass
            seen[header["name"]] = {"sha256": reader.digest.hexdigest(), "size": reader.size}
        if manifest is None:
            raise BackupError("the archive has no manifest (damaged or incomplete)")
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError("the archive's manifest has an unknown format")
    if seen != manifest["members"]:
        names = set(seen) | set(manifest["members"])
        bad = sorted(n for n in names if seen.get(n) != manifest["members"].get(n))
        raise BackupError(
            "the archive's members do not match their SHA-256 in the manifest: " + ", ".join(bad)
        )
    return manifest


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in chunks:
        rest += chunk
        *whole, rest = rest.split(b"\n")
        yield from whole
    if rest:
        yield rest


def verify(path: Path, *, key: bytes | None = None) -> dict[str, Any]:
    """Decrypt and check the whole archive (hashes, row counts); returns its manifest."""
    key = backup_key() if key is None else key
    rows: dict[str, int] = {}

    def count(header: dict[str, Any], chunks: Iterator[bytes]) -> None:
        if header["type"] == "table":
            rows[header["table"]] = sum(1 for _ in _lines(chunks))

    manifest = _members(Path(path), key, count)
    if rows != manifest["tables"]:
        raise BackupError("the archive's row counts do not match its manifest")
    return manifest


# --- restore ----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    rows: int
    files: int
    seconds: float
    warnings: list[str]


def check_compatible(manifest: dict[str, Any]) -> list[str]:
    """Refuse an archive this code and these keys cannot take; return warnings."""
    ours = code_migration_state()
    theirs = manifest["migrations"]
    if ours != theirs:
        differ = sorted(a for a in set(ours) | set(theirs) if ours.get(a) != theirs.get(a))
        detail = "; ".join(
            f"{a}: archive {theirs.get(a, '-')}, code {ours.get(a, '-')}" for a in differ
        )
        raise BackupError(
            "the archive was made at another migration state than this code's: "
            f"{detail}. Restore with the version of Xinqiao that made it, then upgrade."
        )
    held = {k["key_id"]: k["fingerprint"] for k in data_key_fingerprints()}
    named = {k["key_id"]: k["fingerprint"] for k in manifest["keys"]["data_keys"]}
    missing = []
    for key_id in manifest["keys"]["data_keys_used"]:
        if held.get(key_id) is None or held[key_id] != named.get(key_id, held[key_id]):
            missing.append(f"{key_id} (fingerprint {named.get(key_id, '?')[:16]}…)")
    if missing:
        raise BackupError(
            "this backup needs the data key(s) " + ", ".join(missing) + ", which this instance "
            "does not hold; add them to XINQIAO_DATA_KEYS (the encrypted fields could not be "
            "read otherwise)"
        )
    warnings = []
    if manifest["keys"]["secret_key"] != fingerprint(settings.SECRET_KEY.encode(), "secret"):
        warnings.append(
            "SECRET_KEY differs from the backed-up instance's: sessions and signed links made "
            "before the backup are no longer valid (everyone signs in again)"
        )
    return warnings


def _occupied() -> list[str]:
    """Tables with rows a fresh ``migrate`` does not write, and non-empty media folders."""
    found = []
    for model in dumped_models():
        label = model._meta.label_lower
        if label in MIGRATE_WRITES:
            continue
        rows = model._base_manager.all()
        if label in SEEDED:
            rows = rows.filter(**SEEDED[label])
        if rows.exists():
            found.append(model._meta.db_table)
    for prefix, root in _media_roots().items():
        if root.is_dir() and any(p.is_file() for p in root.rglob("*")):
            found.append(f"{prefix} folder {root}")
    return found


def _insert_sql(model: type[models.Model], columns: list[str], kinds: list[str]) -> str:
    qn = connection.ops.quote_name
    fields = {f.column: f for f in _columns(model)}
    marks = []
    for column, kind in zip(columns, kinds, strict=True):
        if kind == "json" and connection.vendor == "postgresql":
            marks.append(f"%s::{fields[column].db_type(connection)}")
        else:
            marks.append("%s")
    names = ", ".join(qn(c) for c in columns)
    return f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({', '.join(marks)})"  # noqa: S608


def _restore_sequences(marks: dict[str, int]) -> None:
    with connection.cursor() as cursor:
        for model in dumped_models():
            if not _auto_pk(model):
                continue
            table, column = model._meta.db_table, str(model._meta.pk.column)
            qn = connection.ops.quote_name
            cursor.execute(f"SELECT MAX({qn(column)}) FROM {qn(table)}")  # noqa: S608
            (top,) = cursor.fetchone()
            mark = max(int(top or 0), int(marks.get(table, 0)))
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
                (seq,) = cursor.fetchone()
                if seq is None:
                    continue
                if mark > 0:
                    cursor.execute("SELECT setval(%s, %s, true)", [seq, mark])
                else:
                    cursor.execute("SELECT setval(%s, 1, false)", [seq])
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                if mark > 0:
                    cursor.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, mark]
                    )


def _safe_relative(name: str) -> tuple[str, Path]:
    prefix, _, rest = name.partition("/")
    relative = Path(rest)
    if (
        prefix not in _media_roots()
        or not rest
        or relative.is_absolute()
        or any(part in {"", ".", ".."} for part in relative.parts)
    ):
        raise BackupError(f"the archive names a file outside the media folders: {name!r}")
    return prefix, relative


def restore(
    path: Path, *, key: bytes | None = None, prepare: Callable[[], None] | None = None
) -> RestoreResult:
    """Verify the whole archive, then (after ``prepare``, e.g. the migrations) load it."""
    started = time.monotonic()
    key = backup_key() if key is None else key
    path = Path(path)
    manifest = verify(path, key=key)
    warnings = check_compatible(manifest)
    if prepare is not None:
        prepare()
    models_by_table = {m._meta.db_table: m for m in dumped_models()}
    unknown = sorted(set(manifest["tables"]) - set(models_by_table))
    if unknown:
        raise BackupError("the archive has tables this code does not know: " + ", ".join(unknown))
    staging = {
        prefix: root.with_name(f".{root.name}.restore-{secrets.token_hex(4)}")
        for prefix, root in _media_roots().items()
    }
    rows = files = 0
    try:
        with transaction.atomic():
            occupied = _occupied()
            if occupied:
                raise BackupError(
                    "refusing to restore into an instance that is not empty (rows in "
                    + ", ".join(occupied[:8])
                    + (" …" if len(occupied) > 8 else "")
                    + "); restore into a freshly migrated, empty database"
                )
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                # The rows migrate wrote are replaced by the archive's (same ids as the source).
                for label in sorted(MIGRATE_WRITES | set(SEEDED), reverse=True):
                    model = apps.get_model(label)
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608

            def load(header: dict[str, Any], chunks: Iterator[bytes]) -> None:
                nonlocal rows, files
                if header["type"] == "file":
                    prefix, relative = _safe_relative(header["name"])
                    target = staging[prefix] / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with target.open("wb") as out:
                        for chunk in chunks:
                            out.write(chunk)
                    if prefix == "imports":
                        target.chmod(0o600)
                    files += 1
                    return
                model = models_by_table[header["table"]]
                fields = {f.column: f for f in _columns(model)}
                columns, kinds = header["columns"], header["kinds"]
                if set(columns) != set(fields):
                    raise BackupError(f"{header['table']}: the archive's columns differ")
                sql = _insert_sql(model, columns, kinds)
                plain = [kind in {"enc", "json"} for kind in kinds]
                targets = [fields[c] for c in columns]
                batch: list[list[Any]] = []
                with connection.cursor() as cursor:
                    for line in _lines(chunks):
                        values = json.loads(line)
                        batch.append(
                            [
                                value
                                if is_plain or value is None
                                else f.get_db_prep_save(_decode(kind, value), connection)
                                for value, kind, f, is_plain in zip(
                                    values, kinds, targets, plain, strict=True
                                )
                            ]
                        )
                        if len(batch) >= _BATCH:
                            cursor.executemany(sql, batch)
                            rows += len(batch)
                            batch = []
                    if batch:
                        cursor.executemany(sql, batch)
                        rows += len(batch)

            try:
                _members(path, key, load)
            except OSError as exc:
                if not is_disk_full(exc):
                    raise
                raise BackupError(
                    f"no room for the media files ({errno_name(exc)}): nothing was "
                    "restored; free space and run the restore again"
                ) from exc
            _restore_sequences(manifest["sequences"])
        for prefix, root in _media_roots().items():
            stage = staging[prefix]
            if not stage.exists():
                continue
            if root.is_dir():
                for item in stage.iterdir():
                    os.replace(item, root / item.name)
                stage.rmdir()
            else:
                root.parent.mkdir(parents=True, exist_ok=True)
                os.replace(stage, root)
    finally:
        for stage in staging.values():
            shutil.rmtree(stage, ignore_errors=True)
    return RestoreResult(manifest, rows, files, time.monotonic() - started, warnings)


def describe_error(exc: Exception) -> str:
    """One line for the operator (never row contents)."""
    if isinstance(exc, (binascii.Error, json.JSONDecodeError, UnicodeDecodeError)):
        return "the archive is damaged (a record cannot be read)"
    return str(exc)
