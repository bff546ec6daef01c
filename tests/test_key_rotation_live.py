"""Key rotation while the platform runs (issue #10 item 9; docs/security.md "Key rotation").

A new data key is put first in the keyring, ``rotate_keys`` re-encrypts in small batches and,
on PostgreSQL, another thread keeps registering people and editing files through the actions
meanwhile. Afterwards every encrypted field of every model decrypts with the new key alone, no
ciphertext still names the old key (token format ``v1.<key id>.<body>``, xinqiao/lib/crypto.py),
and everything written during the rotation reads back as written."""

from __future__ import annotations

import io
import secrets
import threading
from datetime import date

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase, override_settings

from tests.people_data import phone, resident_id
from xinqiao.fields import EncryptedTextField, keyring
from xinqiao.lib.crypto import Keyring
from xinqiao.ops.demo import build_demo_city
from xinqiao.people import actions
from xinqiao.people.models import IdType, Person

BORN = date(1971, 3, 9)  # generated identities, region 990199 is not a real one
REGION = "990199"


def encrypted_models() -> list[tuple[type, list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def raw_values(model: type, field: EncryptedTextField) -> list[str]:
    """The stored ciphertexts of one column, bypassing decryption."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(field.column)} FROM {qn(model._meta.db_table)}"  # noqa: S608 -- names from the model
        )
        return [row[0] for row in cursor.fetchall() if row[0]]


class LiveKeyRotationTests(TransactionTestCase):
    def test_rotation_in_batches_while_files_are_written(self):
        concurrent = connection.vendor == "postgresql"
        demo = build_demo_city(people_per_community=3)
        community = demo.communities[0]
        counsellor = demo.users["c1_counsellor"]
        # Files sealed with the old key that the writer edits during the rotation: three
        # registered through the actions, plus the demo's files whose identity validates.
        editable = [
            actions.register_person(
                acting_user=counsellor,
                unit=community,
                name=f"旧钥{serial}",
                id_number=resident_id(BORN, 400 + serial, region=REGION),
                notes="旧钥登记",
            )
            for serial in range(3)
        ]
        editable += [
            p
            for p in Person.objects.filter(unit=community).exclude(pk__in=[e.pk for e in editable])
            if p.id_number or p.id_type == IdType.NONE
        ]
        models = encrypted_models()
        self.assertIn(Person, [m for m, _ in models])

        old_keys = list(settings.DATA_KEYS)
        old_ids = {Keyring([k]).primary_id for k in old_keys}
        new_key = secrets.token_bytes(32)
        new_id = Keyring([new_key]).primary_id
        before = sum(len(raw_values(m, f)) for m, fields in models for f in fields)
        self.assertGreater(before, 0)

        registered: dict[str, str] = {}  # person pk -> notes written during rotation
        edited: dict[str, str] = {}
        errors: list[BaseException] = []
        started, stop = threading.Event(), threading.Event()

        def write_files() -> None:
            try:
                serial = 0
                while serial < 200 and (serial < 3 or not stop.is_set()):
                    serial += 1
                    person = actions.register_person(
                        acting_user=counsellor,
                        unit=community,
                        name=f"轮换{serial}",
                        id_number=resident_id(BORN, serial, region=REGION),
                        phone=phone(9000 + serial),
                        address=f"轮换路{serial}号",
                        notes=f"轮换中登记{serial}",
                    )
                    registered[str(person.pk)] = f"轮换中登记{serial}"
                    target = editable[serial % len(editable)]
                    text = f"轮换中修改{serial}"
                    actions.update_person(acting_user=counsellor, person=target, notes=text)
                    edited[str(target.pk)] = text
                    started.set()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
            finally:
                started.set()
                connection.close()

        try:
            with override_settings(DATA_KEYS=[new_key, *old_keys]):
                keyring.cache_clear()
                out = io.StringIO()
                if concurrent:
                    writer = threading.Thread(target=write_files)
                    writer.start()
                    self.assertTrue(started.wait(timeout=20))
                    call_command("rotate_keys", "--batch", "2", stdout=out)
                    stop.set()
                    writer.join(timeout=30)
                    self.assertFalse(writer.is_alive())
                else:
                    call_command("rotate_keys", "--batch", "2", stdout=out)
                    stop.set()
                    write_files()  # the same writes, after the rotation, on the one connection
                self.assertEqual(errors, [])
                self.assertIn("people.Person:", out.getvalue())
                self.assertTrue(registered)

            # Retire the old key: only the new one is left.
            with override_settings(DATA_KEYS=[new_key]):
                keyring.cache_clear()
                stale = {}
                for model, fields in models:
                    for field in fields:
                        ids = {v.split(".", 2)[1] for v in raw_values(model, field)}
                        if ids - {new_id}:
                            stale[f"{model._meta.label}.{field.name}"] = ids & old_ids
                        # Every row decrypts with the new key alone.
                        for _ in model._default_manager.values_list(field.name, flat=True):
                            pass
                self.assertEqual(stale, {})
                for pk, notes in (registered | edited).items():
                    self.assertEqual(Person.objects.get(pk=pk).notes, notes)
                # Blind indexes were recomputed: lookups work without the old key.
                for serial in (1, len(registered)):
                    found = actions.find_by_document(
                        "resident_id", resident_id(BORN, serial, region=REGION)
                    )
                    self.assertIsNotNone(found)
                    self.assertEqual(found.notes, f"轮换中登记{serial}")
                after = sum(len(raw_values(m, f)) for m, fields in models for f in fields)
                self.assertGreaterEqual(after, before)
        finally:
            keyring.cache_clear()
