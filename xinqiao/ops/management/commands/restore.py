"""``xinqiao restore FILE``: check a backup archive and load it into an empty instance.

Exit code 2 when the archive is refused (damaged, wrong key, another migration state, a data
key missing, the instance not empty); nothing is restored then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.ops.backup import (
    BackupError,
    check_compatible,
    describe_error,
    restore,
    verify,
)


class Command(BaseCommand):
    help = "Restore a backup archive into an empty instance (checks it completely first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive written by `xinqiao backup`")
        parser.add_argument(
            "--check",
            action="store_true",
            help="only verify the archive (keys, hashes, migrations); restore nothing",
        )
        parser.add_argument(
            "--no-migrate",
            action="store_true",
            help="do not run the migrations first (the database must already be migrated)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            if not path.is_file():
                raise BackupError(f"{path}: no such file")
            if options["check"]:
                manifest = verify(path)
                for warning in check_compatible(manifest):
                    self.stderr.write(f"warning: {warning}")
                self.stdout.write(
                    f"archive is sound: made {manifest['created_at']} from "
                    f"{manifest['database']}, {sum(manifest['tables'].values())} rows, "
                    f"{len(manifest['members'])} members"
                )
                return

            # The archive is checked completely before anything is touched; then the schema
            # is brought up to this code's, and the data loaded.
            def migrate() -> None:
                call_command("migrate", interactive=False, verbosity=0)

            result = restore(path, prepare=None if options["no_migrate"] else migrate)
        except BackupError as exc:
            raise CommandError(describe_error(exc), returncode=2) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(describe_error(exc), returncode=2) from exc
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(
            f"restored: {result.rows} rows, {result.files} files from the backup made "
            f"{result.manifest['created_at']} ({result.seconds:.1f} s)"
        )
