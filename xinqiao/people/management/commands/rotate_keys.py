"""``xinqiao rotate_keys``: re-encrypt every encrypted field with the primary data key and
recompute the blind indexes (docs/security.md "Key rotation").

Put the new key first in XINQIAO_DATA_KEYS (the old one after it), restart, run this, then
remove the old key. Lookups match either key's index until the command has finished."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from xinqiao.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the primary key; recompute blind indexes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args: Any, **options: Any) -> None:
        batch = options["batch"]
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            # Models with blind indexes recompute them from the decrypted values.
            indexed = hasattr(model, "refresh_blind_indexes")
            if indexed:
                fields += list(model.BLIND_INDEX_FIELDS)  # type: ignore[attr-defined]
            done = 0
            pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), batch):
                with transaction.atomic():
                    # Locked for the batch: an edit committed between the read and the write
                    # would otherwise be put back to its old value.
                    rows = list(
                        model._default_manager.select_for_update().filter(
                            pk__in=pks[start : start + batch]
                        )
                    )
                    for row in rows:  # values were decrypted with whichever key sealed them
                        if indexed:
                            row.refresh_blind_indexes()  # type: ignore[attr-defined]
                    model._default_manager.bulk_update(rows, fields)
                done += len(rows)
            self.stdout.write(f"{model._meta.label}: {done} rows re-encrypted")
