"""``xinqiao backup FILE``: one encrypted, integrity-checked archive of the whole instance
(database, uploaded media, key fingerprints; xinqiao/ops/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.ops.backup import BackupError, write_backup


class Command(BaseCommand):
    help = "Write a consistent, encrypted backup archive of the database and the media."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive to write (must not exist yet)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = write_backup(Path(options["file"]))
        except BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        manifest = result.manifest
        tables = manifest["tables"]
        files = sum(1 for name in manifest["members"] if not name.startswith("db/"))
        self.stdout.write(
            f"backup written: {result.path} ({result.path.stat().st_size} bytes, "
            f"{len(tables)} tables, {sum(tables.values())} rows, {files} files, "
            f"{result.seconds:.1f} s)"
        )
        keys = ", ".join(k["key_id"] for k in manifest["keys"]["data_keys"])
        used = ", ".join(manifest["keys"]["data_keys_used"]) or "none"
        self.stdout.write(f"data keys held: {keys}; used by the data: {used}")
        self.stdout.write("a restore needs the backup key and the data keys used: keep them apart")
