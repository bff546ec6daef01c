"""Audit (R-PRIVACY): access log, field-level change log, masking, append-only, export."""

import csv
import io

from auditlog.models import LogEntry
from django.db import connection, transaction
from django.db.utils import DatabaseError

from xinqiao.accounts.models import User
from xinqiao.audit.log import acting, change_logged
from xinqiao.audit.models import AccessLog, AppendOnlyError
from xinqiao.orgs import actions
from xinqiao.orgs.models import StaffProfile
from xinqiao.test import PersonaTestCase


class AccessLogTests(PersonaTestCase):
    def test_viewing_a_staff_page_is_logged_with_who_what_where(self):
        client = self.client_for(self.c1_worker)
        response = client.get(f"/org/staff/{self.c1_counsellor.pk}/", REMOTE_ADDR="10.1.2.3")
        self.assertEqual(response.status_code, 200)
        entry = AccessLog.objects.get(object_id=str(self.c1_counsellor.pk))
        self.assertEqual(entry.user, self.c1_worker)
        self.assertEqual(entry.kind, "view")
        self.assertEqual(entry.object_type, "accounts.user")
        self.assertEqual(entry.ip, "10.1.2.3")
        self.assertEqual(entry.path, f"/org/staff/{self.c1_counsellor.pk}/")

    def test_api_object_reads_are_logged(self):
        client = self.client_for(self.c1_worker)
        client.get(f"/api/v1/staff/{self.c1_counsellor.pk}/")
        self.assertTrue(
            AccessLog.objects.filter(
                user=self.c1_worker, object_id=str(self.c1_counsellor.pk)
            ).exists()
        )

    def test_refused_access_is_not_logged_as_a_view(self):
        client = self.client_for(self.c1_worker)
        self.assertEqual(client.get(f"/org/staff/{self.c2_counsellor.pk}/").status_code, 404)
        entries = AccessLog.objects.filter(object_id=str(self.c2_counsellor.pk))
        self.assertFalse(entries.exclude(kind="refused").exists())
        self.assertEqual(entries.get().object_type, "orgs:staff")

    def test_forged_forwarded_for_is_ignored_without_trusted_proxies(self):
        client = self.client_for(self.c1_worker)
        client.get(
            f"/org/staff/{self.c1_counsellor.pk}/",
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_FORWARDED_FOR="1.1.1.1",
        )
        self.assertEqual(AccessLog.objects.get().ip, "10.1.2.3")

    def test_entries_cannot_be_changed_or_deleted_through_the_model(self):
        client = self.client_for(self.c1_worker)
        client.get(f"/org/staff/{self.c1_counsellor.pk}/")
        entry = AccessLog.objects.get()
        entry.reason = "rewritten"
        with self.assertRaises(AppendOnlyError):
            entry.save()
        with self.assertRaises(AppendOnlyError):
            entry.delete()


class ChangeLogTests(PersonaTestCase):
    def test_field_level_change_with_actor_and_address(self):
        client = self.client_for(self.street_admin)
        response = client.post(
            f"/org/units/{self.c1.pk}/edit/",
            {"name": "春晖东社区", "code": ""},
            REMOTE_ADDR="10.9.8.7",
        )
        self.assertEqual(response.status_code, 302)
        entry = LogEntry.objects.filter(object_pk=str(self.c1.pk)).latest("timestamp")
        self.assertEqual(entry.actor, self.street_admin)
        self.assertEqual(entry.changes_dict["name"], ["春晖社区", "春晖东社区"])
        self.assertEqual(entry.remote_addr, "10.9.8.7")

    def test_actions_called_outside_a_request_are_attributed(self):
        actions.rename_unit(acting_user=self.city_admin, unit=self.c2, name="杏林新社区")
        entry = LogEntry.objects.filter(object_pk=str(self.c2.pk)).latest("timestamp")
        self.assertEqual(entry.actor, self.city_admin)

    def test_a_change_logged_write_leaves_the_entry_a_plain_save_leaves(self):
        """``change_logged`` (one UPDATE for many rows, no re-read) must log exactly what
        django-auditlog's own save signal logs: changes, masking, actor, object."""
        first, second = StaffProfile.objects.filter(
            user__in=[self.c1_counsellor, self.c2_counsellor]
        ).order_by("pk")
        with acting(self.city_admin):
            first.qualification_number = "ZX-2026-112233"
            first.save(update_fields=["qualification_number"])
            with change_logged([second]):
                second.qualification_number = "ZX-2026-112233"
                StaffProfile.objects.filter(pk=second.pk).update(
                    qualification_number=second.qualification_number
                )
        plain, logged = (
            LogEntry.objects.filter(object_pk=str(profile.pk)).latest("timestamp")
            for profile in (first, second)
        )
        fields = ("action", "content_type_id", "actor_id", "changes", "object_repr")
        self.assertEqual(
            {f: getattr(plain, f) for f in fields if f != "object_repr"},
            {f: getattr(logged, f) for f in fields if f != "object_repr"},
        )
        self.assertEqual(logged.object_repr, str(second))
        self.assertNotIn("112233", str(logged.changes))
        self.assertEqual(logged.actor, self.city_admin)
        second.refresh_from_db()
        self.assertEqual(second.qualification_number, "ZX-2026-112233")

    def test_sensitive_values_are_masked_and_secrets_excluded(self):
        profile = StaffProfile.objects.get(user=self.c1_counsellor)
        actions.update_staff_profile(
            acting_user=self.city_admin,
            user=self.c1_counsellor,
            profession=profile.profession,
            qualification=profile.qualification,
            qualification_number="ZX-2026-778899",
        )
        entry = LogEntry.objects.filter(object_pk=str(profile.pk)).latest("timestamp")
        _old, new = entry.changes_dict["qualification_number"]
        self.assertNotIn("778899", new)
        self.assertIn("*", new)
        user = User.objects.get(pk=self.c1_worker.pk)
        user.set_password("another-long-password")
        user.save()
        for entry in LogEntry.objects.filter(object_pk=str(user.pk)):
            self.assertNotIn("password", entry.changes_dict)

    def test_postgresql_refuses_update_and_delete_of_audit_rows(self):
        if connection.vendor != "postgresql":
            self.skipTest("database triggers are installed on PostgreSQL only")
        actions.rename_unit(acting_user=self.city_admin, unit=self.c2, name="杏林新社区")
        client = self.client_for(self.c1_worker)
        client.get(f"/org/staff/{self.c1_counsellor.pk}/")
        for table in ("auditlog_logentry", "audit_accesslog"):
            with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(f"UPDATE {table} SET id = id")  # noqa: S608
            with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(f"DELETE FROM {table}")  # noqa: S608


class AuditViewerTests(PersonaTestCase):
    def test_only_auditors_and_system_admins_read_the_logs(self):
        for user in (self.c1_counsellor, self.city_admin, self.street_admin, self.hotline):
            self.assertEqual(self.client_for(user).get("/audit/access/").status_code, 404)
        self.assertEqual(self.client_for(self.auditor).get("/audit/access/").status_code, 200)
        sysadmin = self.demo.users["sysadmin"]
        self.assertEqual(self.client_for(sysadmin).get("/audit/changes/").status_code, 200)

    def test_export_is_itself_logged_and_has_the_entries(self):
        self.client_for(self.c1_worker).get(f"/org/staff/{self.c1_counsellor.pk}/")
        client = self.client_for(self.auditor)
        response = client.get("/audit/access.csv")
        self.assertEqual(response.status_code, 200)
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        self.assertTrue(any(str(self.c1_counsellor.pk) in row for row in rows))
        self.assertTrue(AccessLog.objects.filter(user=self.auditor, kind="export").exists())
        changes = client.get("/audit/changes.csv")
        self.assertEqual(changes.status_code, 200)

    def test_viewer_filters_by_user(self):
        self.client_for(self.c1_worker).get(f"/org/staff/{self.c1_counsellor.pk}/")
        self.client_for(self.c2_counsellor).get(f"/org/staff/{self.c2_grid.pk}/")
        page = self.client_for(self.auditor).get("/audit/access/", {"username": "c1_worker"})
        body = page.content.decode()
        self.assertIn(str(self.c1_counsellor.pk), body)
        self.assertNotIn(str(self.c2_grid.pk), body)

    def test_no_edit_or_delete_route_exists_for_audit_entries(self):
        from django.urls import get_resolver

        names = [str(p.pattern) for p in get_resolver().url_patterns]
        audit_routes = [n for n in names if "audit" in n]
        self.assertEqual(audit_routes, ["audit/"])
        client = self.client_for(self.auditor)
        for url in ("/audit/access/", "/audit/changes/"):
            self.assertNotIn('<form method="post"', client.get(url).content.decode())
