"""Person files (issue #3): encryption and blind index, duplicates, consent, groups and
levels, family, timeline, transfer, archive and erasure, export, API."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client, TransactionTestCase
from django.utils import timezone, translation

from tests.people_data import phone, resident_id
from xinqiao.audit.models import AccessLog
from xinqiao.ops.demo import build_demo_city
from xinqiao.people import actions
from xinqiao.people.access import ConsentMissing, has_consent, require_consent
from xinqiao.people.models import (
    EventKind,
    FileStatus,
    Person,
    PersonEvent,
    TransferStatus,
)
from xinqiao.test import PersonaTestCase

BORN = date(1980, 5, 17)


class PeopleTestCase(PersonaTestCase):
    def register(self, user=None, unit=None, serial=1, **extra):
        values = {
            "name": "测试甲",
            "id_number": resident_id(BORN, serial),
            "phone": phone(serial),
            "address": "测试路1号",
            "notes": "曾有自伤念头",
            "groups": ["confirmed_patient"],
        } | extra
        return actions.register_person(
            acting_user=user or self.c1_counsellor, unit=unit or self.c1, **values
        )


class EncryptionTests(PeopleTestCase):
    def test_sensitive_columns_hold_no_plaintext(self):
        person = self.register()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id_number, phone, address, notes, id_number_index, phone_index "
                "FROM people_person WHERE id = %s",
                [person.pk.hex if connection.vendor == "sqlite" else person.pk],
            )
            raw = cursor.fetchone()
        for column in raw[:4]:
            self.assertTrue(column.startswith("v1."))
        stored = " ".join(raw)
        for secret in (resident_id(BORN, 1), "17000000001", "测试路1号", "自伤"):
            self.assertNotIn(secret, stored)
        again = Person.objects.get(pk=person.pk)
        self.assertEqual(again.id_number, resident_id(BORN, 1))
        self.assertEqual(again.notes, "曾有自伤念头")

    def test_blind_index_lookup_without_decrypting(self):
        person = self.register()
        found = actions.find_by_document("resident_id", resident_id(BORN, 1).lower())
        self.assertEqual(found, person)
        self.assertEqual(
            list(Person.objects.filter(actions.document_or_phone_q("+86 170 0000 0001"))),
            [person],
        )
        self.assertFalse(Person.objects.filter(actions.document_or_phone_q("17000000002")))

    def test_search_pages_find_by_id_number_and_name_within_scope(self):
        person = self.register()
        client = self.client_for(self.c1_worker)
        search = "/people/search/"  # POSTed, never in the URL: tests/test_people_search.py
        page = client.post(search, {"lookup": resident_id(BORN, 1)}, follow=True)
        self.assertContains(page, person.name)
        self.assertTrue(AccessLog.objects.filter(user=self.c1_worker, kind="search").exists())
        self.assertContains(client.post(search, {"q": "测试"}, follow=True), person.name)
        other = self.client_for(self.c2_counsellor)
        found = other.post(search, {"lookup": resident_id(BORN, 1)}, follow=True)
        self.assertNotContains(found, person.name)
        self.assertNotContains(other.post(search, {"q": "测试"}, follow=True), person.name)


class RegistrationTests(PeopleTestCase):
    def test_birth_date_and_sex_come_from_the_id_number(self):
        person = self.register()
        self.assertEqual(person.birth_date, BORN)
        self.assertEqual(person.sex, "male")
        with self.assertRaises(ValidationError) as ctx:
            self.register(serial=2, birth_date=date(1981, 1, 1))
        self.assertIn("birth_date", ctx.exception.message_dict)

    def test_bad_input_is_named(self):
        cases = [
            ({"id_number": "110105194912310021"}, "id_number"),
            ({"phone": "12345"}, "phone"),
            ({"name": " "}, "name"),
            ({"id_type": "none", "id_number": "", "birth_date": date(2999, 1, 1)}, "birth_date"),
            ({"id_type": "passport", "id_number": "E1"}, "id_number"),
        ]
        for extra, field in cases:
            with self.subTest(field=field), self.assertRaises(ValidationError) as ctx:
                self.register(serial=3, **extra)
            self.assertIn(field, ctx.exception.message_dict)
        self.assertFalse(Person.objects.exists())

    def test_other_documents_and_no_document(self):
        passport = self.register(serial=4, id_type="passport", id_number="E12345678")
        self.assertEqual(passport.id_number, "E12345678")
        nobody = self.register(serial=5, id_type="none", id_number="")
        self.assertIsNone(nobody.id_number_index)

    def test_grid_worker_registers_only_in_their_grid(self):
        grid = self.demo.grids[1][0]
        self.register(user=self.c1_grid, unit=grid)
        with self.assertRaises(ValidationError) as ctx:
            self.register(user=self.c1_grid, unit=self.demo.grids[1][1], serial=2)
        self.assertIn("unit", ctx.exception.message_dict)


class DuplicateTests(PeopleTestCase):
    def test_in_scope_duplicate_points_at_the_file(self):
        person = self.register()
        with self.assertRaises(actions.DuplicatePerson) as ctx:
            self.register(user=self.c1_worker, name="另一个名字")
        self.assertEqual(ctx.exception.person, person)

    def test_out_of_scope_duplicate_names_only_the_unit(self):
        self.register()
        with self.assertRaises(actions.DuplicatePerson) as ctx:
            self.register(user=self.c2_counsellor, unit=self.c2)
        self.assertIsNone(ctx.exception.person)
        self.assertEqual(ctx.exception.unit_name, self.c1.name)
        self.assertEqual(Person.objects.count(), 1)

    def test_registration_page_offers_a_transfer_request(self):
        self.register()
        client = self.client_for(self.c2_counsellor)
        response = client.post(
            "/people/new/",
            {
                "unit": self.c2.pk,
                "name": "重复",
                "id_type": "resident_id",
                "id_number": resident_id(BORN, 1),
                "sex": "unknown",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, self.c1.name)
        self.assertContains(response, "/people/transfers/request/")
        response = client.post(
            "/people/transfers/request/",
            {
                "id_type": "resident_id",
                "id_number": resident_id(BORN, 1),
                "to_unit": self.c2.pk,
                "reason": "已搬到本社区",
            },
        )
        self.assertRedirects(response, "/people/transfers/", fetch_redirect_response=False)
        transfer = Person.objects.get().transfers.get()
        self.assertTrue(transfer.requested_by_receiver)
        # The owning unit decides.
        inbox = self.client_for(self.c1_worker).get("/people/transfers/")
        self.assertContains(inbox, "已搬到本社区")


class ConcurrentRegistrationTests(TransactionTestCase):
    """Two registrations of one document number at the same moment: exactly one file."""

    def test_two_concurrent_registrations_make_one_file(self):
        if connection.vendor != "postgresql":
            # The in-memory SQLite test database locks whole tables across threads; the
            # embedded default (a file in WAL mode) serialises writers instead.
            self.skipTest("concurrent writers are tested on PostgreSQL")
        demo = build_demo_city()
        users = [demo.users["c1_counsellor"], demo.users["c1_worker"]]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def register(user):
            try:
                barrier.wait(timeout=10)
                actions.register_person(
                    acting_user=user,
                    unit=demo.communities[0],
                    name="并发",
                    id_number=resident_id(BORN, 9),
                )
                outcomes.append("created")
            except actions.DuplicatePerson:
                outcomes.append("duplicate")
            finally:
                connection.close()

        threads = [threading.Thread(target=register, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(outcomes), ["created", "duplicate"])
        self.assertEqual(Person.objects.count(), 1)


class ConsentTests(PeopleTestCase):
    def test_consent_gates_and_can_be_withdrawn(self):
        person = self.register()
        self.assertFalse(has_consent(person, "assessment"))
        with translation.override("zh-hans"), self.assertRaises(ConsentMissing) as ctx:
            require_consent(person, "assessment")
        self.assertIn("同意", str(ctx.exception))
        consent = actions.give_consent(
            acting_user=self.c1_counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="on_screen",
            given_on=timezone.localdate(),
        )
        self.assertTrue(has_consent(person, "assessment"))
        self.assertFalse(has_consent(person, "counselling"))
        actions.withdraw_consent(acting_user=self.c1_counsellor, consent=consent)
        self.assertFalse(has_consent(person, "assessment"))
        kinds = list(person.events.values_list("kind", flat=True))
        self.assertIn(EventKind.CONSENT_GIVEN, kinds)
        self.assertIn(EventKind.CONSENT_WITHDRAWN, kinds)

    def test_under_14_needs_a_guardian(self):
        born = timezone.localdate() - timedelta(days=365 * 10)
        child = self.register(serial=7, id_number=resident_id(born, 7), groups=["student"])
        with self.assertRaises(ValidationError) as ctx:
            actions.give_consent(
                acting_user=self.c1_counsellor,
                person=child,
                purpose="assessment",
                given_by="self",
                method="on_screen",
                given_on=timezone.localdate(),
            )
        self.assertIn("given_by", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            actions.give_consent(
                acting_user=self.c1_counsellor,
                person=child,
                purpose="assessment",
                given_by="guardian",
                method="verbal_witnessed",
                guardian_name="测试监护人",
                given_on=timezone.localdate(),
            )
        self.assertIn("witness", ctx.exception.message_dict)
        actions.give_consent(
            acting_user=self.c1_counsellor,
            person=child,
            purpose="assessment",
            given_by="guardian",
            method="signed_paper",
            guardian_name="测试监护人",
            given_on=timezone.localdate(),
        )
        self.assertTrue(has_consent(child, "assessment"))


class GroupTests(PeopleTestCase):
    def test_level_follows_the_groups(self):
        person = self.register(groups=["family_of_patient"])
        self.assertEqual(person.priority_level, 3)
        membership = actions.add_group(
            acting_user=self.c1_counsellor,
            person=person,
            group="close_contact",
            date_from=timezone.localdate() - timedelta(days=3),
        )
        person.refresh_from_db()
        self.assertEqual(person.priority_level, 2)
        actions.end_group(
            acting_user=self.c1_counsellor,
            membership=membership,
            date_to=timezone.localdate() - timedelta(days=1),
        )
        person.refresh_from_db()
        self.assertEqual(person.priority_level, 3)
        with self.assertRaises(ValidationError):
            actions.add_group(
                acting_user=self.c1_counsellor,
                person=person,
                group="family_of_patient",
                date_from=timezone.localdate(),
            )

    def test_list_filters_by_level(self):
        self.register(serial=1, groups=["confirmed_patient"])
        self.register(serial=2, name="测试乙", groups=["student"])
        client = self.client_for(self.c1_counsellor)
        page = client.get("/people/", {"priority": 1}).content.decode()
        self.assertIn("测试甲", page)
        self.assertNotIn("测试乙", page)

    def test_impossible_dates_are_refused(self):
        person = self.register()
        with self.assertRaises(ValidationError) as ctx:
            actions.record_hospital_stay(
                acting_user=self.c1_counsellor,
                person=person,
                hospital="测试医院",
                admitted_on=date(2026, 3, 1),
                discharged_on=date(2026, 2, 1),
            )
        self.assertIn("discharged_on", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            actions.record_isolation(
                acting_user=self.c1_counsellor,
                person=person,
                kind="home",
                place="家中",
                started_on=date(2026, 3, 1),
                ended_on=date(2026, 2, 1),
            )
        self.assertIn("ended_on", ctx.exception.message_dict)


class FamilyAndTimelineTests(PeopleTestCase):
    def test_deceased_without_file_fields_and_bereaved_family(self):
        relative = self.register()
        client = self.client_for(self.c1_counsellor)
        response = client.post(
            f"/people/{relative.pk}/family/new/",
            {
                "side": "relative",
                "kind": "bereaved",
                "relationship": "spouse",
                "other_id_type": "resident_id",
                "other_id_number": "",
                "other_name": "逝者测试",
                "other_deceased": "on",
                "other_date_of_death": "2026-02-01",
            },
        )
        self.assertEqual(response.status_code, 302)
        deceased = Person.objects.get(name="逝者测试")
        self.assertTrue(deceased.is_deceased)
        self.assertEqual(deceased.id_number, "")
        page = client.get(f"/people/{relative.pk}/")
        self.assertContains(page, "逝者测试")
        self.assertContains(client.get(f"/people/{deceased.pk}/"), relative.name)

    def test_guardian_link_by_document_number(self):
        child = self.register(serial=11, id_number=resident_id(date(2016, 1, 1), 11))
        guardian = self.register(serial=12, name="测试监护人")
        actions.link_family(
            acting_user=self.c1_counsellor,
            person=child,
            relative=guardian,
            kind="guardian",
            relationship="parent",
        )
        with self.assertRaises(ValidationError):
            actions.link_family(
                acting_user=self.c1_counsellor,
                person=child,
                relative=guardian,
                kind="guardian",
                relationship="parent",
            )

    def test_timeline_is_newest_first_paginated_and_linked(self):
        person = self.register()
        for _ in range(60):
            actions.add_group(
                acting_user=self.c1_counsellor,
                person=person,
                group="student",
                date_from=date(2020, 1, 1),
                date_to=date(2020, 6, 1),
            )
        client = self.client_for(self.c1_counsellor)
        with self.assertNumQueries(13):
            page = client.get(f"/people/{person.pk}/timeline/")
        events = page.context["page"]
        self.assertEqual(len(events), 50)
        self.assertEqual(events[0].kind, EventKind.GROUP_ADDED)
        self.assertContains(page, f"/people/{person.pk}/#groups")
        second = client.get(f"/people/{person.pk}/timeline/", {"page": 2}).context["page"]
        self.assertEqual(second[len(second) - 1].kind, EventKind.CREATED)

    def test_events_cannot_be_rewritten(self):
        event = self.register().events.first()
        event.summary = "changed"
        with self.assertRaises(RuntimeError):
            event.save()


class TransferTests(PeopleTestCase):
    def test_move_accepted_by_the_receiving_unit(self):
        person = self.register()
        transfer = actions.propose_transfer(
            acting_user=self.c1_worker, person=person, to_unit=self.c3, reason="搬家"
        )
        with self.assertRaises(PermissionDenied):
            actions.decide_transfer(acting_user=self.c1_worker, transfer=transfer, accept=True)
        c3_worker = self.demo.users["c3_worker"]
        client = self.client_for(c3_worker)
        self.assertContains(client.get("/people/transfers/"), "搬家")
        self.assertEqual(client.get(f"/people/{person.pk}/").status_code, 404)
        client.post(f"/people/transfers/{transfer.pk}/decide/", {"accept": "1"})
        transfer.refresh_from_db()
        self.assertEqual(transfer.status, TransferStatus.ACCEPTED)
        self.assertEqual(client.get(f"/people/{person.pk}/").status_code, 200)
        self.assertEqual(
            self.client_for(self.c1_worker).get(f"/people/{person.pk}/").status_code, 404
        )
        kinds = list(PersonEvent.objects.filter(person=person).values_list("kind", flat=True))
        self.assertIn(EventKind.TRANSFERRED, kinds)

    def test_decline_keeps_the_file_and_only_one_open_transfer(self):
        person = self.register()
        transfer = actions.propose_transfer(
            acting_user=self.c1_worker, person=person, to_unit=self.c3, reason="搬家"
        )
        with self.assertRaises(ValidationError):
            actions.propose_transfer(
                acting_user=self.c1_worker, person=person, to_unit=self.c2, reason="再次"
            )
        actions.decide_transfer(
            acting_user=self.demo.users["c3_worker"],
            transfer=transfer,
            accept=False,
            note="不在本辖区",
        )
        person.refresh_from_db()
        self.assertEqual(person.unit, self.c1)
        with self.assertRaises(ValidationError):
            actions.decide_transfer(
                acting_user=self.demo.users["c3_worker"], transfer=transfer, accept=True
            )


class ArchiveAndErasureTests(PeopleTestCase):
    def test_archived_files_leave_the_lists_but_stay(self):
        person = self.register()
        actions.set_archived(acting_user=self.c1_worker, person=person, archived=True)
        client = self.client_for(self.c1_worker)
        self.assertNotContains(client.get("/people/"), person.name)
        self.assertContains(client.get("/people/", {"status": "archived"}), person.name)
        self.assertEqual(client.get(f"/people/{person.pk}/").status_code, 200)

    def test_erasure_destroys_personal_fields_and_keeps_statistics_and_audit(self):
        person = self.register()
        actions.give_consent(
            acting_user=self.c1_counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="on_screen",
            given_on=timezone.localdate(),
        )
        audit_before = AccessLog.objects.count()
        with self.assertRaises(PermissionDenied):
            actions.erase_person(
                acting_user=self.c1_counsellor,
                person=person,
                legal_reason="consent_withdrawn",
                note="申请编号 2026-01",
            )
        with self.assertRaises(ValidationError) as ctx:
            actions.erase_person(
                acting_user=self.street_admin,
                person=person,
                legal_reason="",
                note="申请编号 2026-01",
            )
        self.assertIn("legal_reason", ctx.exception.message_dict)
        actions.erase_person(
            acting_user=self.street_admin,
            person=person,
            legal_reason="consent_withdrawn",
            note="申请编号 2026-01",
        )
        person = Person.objects.get(pk=person.pk)
        self.assertEqual(person.status, FileStatus.ERASED)
        for field in ("id_number", "phone", "address", "notes", "contact_phone"):
            self.assertEqual(getattr(person, field), "", field)
        self.assertNotEqual(person.name, "测试甲")
        self.assertIsNone(person.id_number_index)
        self.assertEqual(person.sex, "male")
        self.assertEqual(person.birth_date, date(1980, 1, 1))
        self.assertEqual(person.priority_level, 1)
        self.assertTrue(person.groups.exists())
        self.assertFalse(has_consent(person, "assessment"))
        self.assertGreaterEqual(AccessLog.objects.count(), audit_before)
        self.assertTrue(person.events.filter(kind=EventKind.ERASED).exists())
        # The document number can be registered again (e.g. registered in error).
        self.register(serial=1)


class ExportTests(PeopleTestCase):
    def rows(self, response):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]

    def test_de_identified_by_default_and_names_only_when_allowed(self):
        self.register()
        city = self.client_for(self.city_admin).get("/people/export.xlsx", {"names": "1"})
        rows = self.rows(city)
        self.assertEqual(len(rows), 2)
        flat = " ".join(str(c) for c in rows[1])
        self.assertNotIn("测试甲", flat)
        self.assertNotIn(resident_id(BORN, 1), flat)
        self.assertIn("1980", flat)
        named = self.rows(
            self.client_for(self.c1_counsellor).get("/people/export.xlsx", {"names": "1"})
        )
        self.assertIn("测试甲", named[1])
        self.assertTrue(AccessLog.objects.filter(kind="export", user=self.city_admin).exists())
        self.assertEqual(self.client_for(self.c1_grid).get("/people/export.xlsx").status_code, 403)


class AgreementGateTests(PeopleTestCase):
    def test_no_agreement_no_file(self):
        unsigned = self.demo.users["c2_grid2"]  # the demo leaves this one unsigned
        person = self.register(unit=self.demo.grids[2][1], user=self.c2_counsellor)
        client = self.client_for(unsigned)
        self.assertEqual(client.get(f"/people/{person.pk}/").status_code, 403)
        self.assertEqual(client.get("/people/").status_code, 403)
        self.assertEqual(client.get(f"/api/v1/people/{person.pk}/").status_code, 403)


class PeopleApiTests(PeopleTestCase):
    def test_list_create_detail(self):
        client = self.client_for(self.c1_counsellor)
        created = client.post(
            "/api/v1/people/",
            {
                "unit": str(self.c1.pk),
                "name": "接口测试",
                "id_number": resident_id(BORN, 21),
                "groups": ["close_contact"],
            },
            content_type="application/json",
        )
        self.assertEqual(created.status_code, 201, created.content)
        body = created.json()
        self.assertEqual(body["priority_level"], 2)
        self.assertEqual(body["birth_date"], "1980-05-17")
        listing = client.get("/api/v1/people/").json()
        self.assertEqual(set(listing), {"count", "next", "results"})
        self.assertEqual(listing["results"][0]["name"], "接口测试")
        self.assertNotIn("id_number", listing["results"][0])
        detail = client.get(f"/api/v1/people/{body['id']}/").json()
        self.assertEqual(detail["id_number"], resident_id(BORN, 21))
        again = client.post(
            "/api/v1/people/",
            {
                "unit": str(self.c1.pk),
                "name": "重复",
                "id_number": resident_id(BORN, 21),
            },
            content_type="application/json",
        )
        self.assertEqual(again.status_code, 409)
        self.assertEqual(again.json()["existing"], body["id"])
        bad = client.post(
            "/api/v1/people/",
            {"unit": str(self.c1.pk), "name": "坏", "id_number": "123"},
            content_type="application/json",
        )
        self.assertEqual(bad.status_code, 400)
        self.assertIn("id_number", bad.json())
        outside = self.client_for(self.c2_counsellor).get(f"/api/v1/people/{body['id']}/")
        self.assertEqual(outside.status_code, 404)
        foreign_unit = client.post(
            "/api/v1/people/",
            {"unit": str(self.c2.pk), "name": "越界"},
            content_type="application/json",
        )
        self.assertEqual(foreign_unit.status_code, 404)

    def test_anonymous_api_is_refused(self):
        self.assertEqual(Client().get("/api/v1/people/").status_code, 401)


class KeyRotationTests(PeopleTestCase):
    def test_rotation_re_encrypts_and_lookups_work_throughout(self):
        import secrets

        from django.conf import settings
        from django.core.management import call_command
        from django.test import override_settings

        from xinqiao.assessments.actions import find_invitation, invite_person
        from xinqiao.fields import keyring

        person = self.register()
        invitation = invite_person(acting_user=self.c1_counsellor, person=person, instrument="phq9")
        old_keys = list(settings.DATA_KEYS)
        new_key = secrets.token_bytes(32)
        try:
            with override_settings(DATA_KEYS=[new_key, *old_keys]):
                keyring.cache_clear()
                # Before rotation: still found, still readable.
                self.assertEqual(
                    actions.find_by_document("resident_id", resident_id(BORN, 1)), person
                )
                out = io.StringIO()
                call_command("rotate_keys", stdout=out)
                self.assertIn("people.Person: 1 rows", out.getvalue())
            with override_settings(DATA_KEYS=[new_key]):
                keyring.cache_clear()
                again = Person.objects.get(pk=person.pk)
                self.assertEqual(again.notes, "曾有自伤念头")
                self.assertEqual(
                    actions.find_by_document("resident_id", resident_id(BORN, 1)), person
                )
                with self.assertRaises(actions.DuplicatePerson):
                    self.register(serial=1)
                # Self-assessment links still open: their token index was recomputed too.
                self.assertEqual(find_invitation(invitation.token), invitation)
        finally:
            keyring.cache_clear()
