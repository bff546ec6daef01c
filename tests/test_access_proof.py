"""Access-control proof (issue #10 item 8), beyond the scope matrix (tests/test_scope_matrix.py):
every refusal audited, horizontal and vertical refusals, anonymous visitors, object ids that
cannot be guessed, and break-glass access for emergencies (xinqiao/people/breakglass.py)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import time_machine
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from xinqiao.accounts.actions import issue_api_token
from xinqiao.accounts.models import User
from xinqiao.audit.models import AccessKind, AccessLog
from xinqiao.counselling.models import Session, SessionParticipant
from xinqiao.notify.models import Channel, Notification
from xinqiao.orgs.models import (
    ConfidentialityAgreement,
    Membership,
    StaffProfile,
    Team,
    TeamMember,
    Unit,
)
from xinqiao.people.breakglass import GRANT_HOURS, MIN_REASON_LENGTH
from xinqiao.people.models import BreakGlassGrant, BreakGlassReview, Person
from xinqiao.test import PersonaTestCase

from .test_scope_matrix import PARAM, PUBLIC_PORTAL, all_routes, fill


def marker() -> str:
    """A generated text no page would show by accident."""
    return f"标记{uuid.uuid4().hex[:12]}"


class RefusalsAreAuditedTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.name_c2 = marker()
        cls.person_c2 = Person.objects.create(unit=cls.c2, name=cls.name_c2, priority_level=2)

    def refusals(self) -> Any:
        return AccessLog.objects.filter(kind=AccessKind.REFUSED)

    def test_a_file_outside_scope_is_refused_and_logged_with_ids_only(self):
        url = f"/people/{self.person_c2.pk}/"
        response = self.client_for(self.c1_counsellor).get(url)
        self.assertEqual(response.status_code, 404)
        entry = self.refusals().get()
        self.assertEqual(entry.user, self.c1_counsellor)
        self.assertEqual(entry.object_type, "people:detail")
        self.assertEqual(entry.object_id, str(self.person_c2.pk))
        self.assertEqual(entry.reason, "404")
        self.assertEqual(entry.path, url)
        self.assertEqual(entry.method, "GET")
        # Scoped to the refused user's unit: the auditor over them reads it.
        self.assertEqual(entry.unit_path, self.c1.path)
        for value in (entry.object_type, entry.object_id, entry.path, entry.reason):
            self.assertNotIn(self.name_c2, value)

    def test_a_file_that_does_not_exist_is_logged_the_same_way(self):
        missing = uuid.uuid4()
        self.client_for(self.c1_counsellor).post(f"/people/{missing}/edit/", {"name": "x"})
        entry = self.refusals().get()
        self.assertEqual((entry.object_id, entry.method), (str(missing), "POST"))

    def test_api_refusals_are_logged_after_token_authentication(self):
        _token, raw = issue_api_token(user=self.c1_counsellor, name="proof")
        api = Client(HTTP_AUTHORIZATION=f"Token {raw}")
        self.assertEqual(api.get(f"/api/v1/people/{self.person_c2.pk}/").status_code, 404)
        entry = self.refusals().get()
        self.assertEqual(entry.user, self.c1_counsellor)
        self.assertEqual(entry.object_id, str(self.person_c2.pk))
        self.assertTrue(entry.object_type.endswith("person"), entry.object_type)

    def test_a_forbidden_action_inside_scope_is_logged_as_403(self):
        grid = Membership.objects.get(user=self.c1_grid).unit
        response = self.client_for(self.c1_grid).post(
            f"/org/units/{grid.pk}/edit/", {"name": "改名"}
        )
        self.assertEqual(response.status_code, 403)
        entry = self.refusals().get()
        self.assertEqual((entry.object_type, entry.object_id), ("orgs:unit_edit", str(grid.pk)))
        self.assertEqual(entry.reason, "403")

    def test_what_is_not_a_refusal_is_not_logged(self):
        self.client_for(self.c1_counsellor).get(f"/people/{self.person_c2.pk}/")
        self.assertEqual(self.refusals().count(), 1)
        # Anonymous visitors (redirected to sign in), a page that does not exist, a page seen.
        Client().get(f"/people/{self.person_c2.pk}/")
        self.client_for(self.c2_counsellor).get("/no-such-page/")
        self.client_for(self.c2_counsellor).get(f"/people/{self.person_c2.pk}/")
        self.assertEqual(self.refusals().count(), 1)

    def test_a_page_refused_without_an_object_is_logged_too(self):
        self.assertEqual(self.client_for(self.c1_grid).get("/audit/access/").status_code, 404)
        entry = self.refusals().get()
        self.assertEqual((entry.object_type, entry.object_id), ("audit:access", ""))

    def test_a_link_token_in_the_address_is_not_written_to_the_log(self):
        token = f"secret{uuid.uuid4().hex}"
        response = self.client_for(self.c1_counsellor).get(f"/booking/p/{token}/confirm/")
        self.assertEqual(response.status_code, 404)
        entry = self.refusals().get()
        self.assertEqual(entry.path, "/booking/p/<token>/confirm/")
        self.assertFalse(AccessLog.objects.filter(path__contains=token).exists())

    def test_a_code_in_the_address_is_not_written_to_the_log_either(self):
        code = f"X{uuid.uuid4().hex[:9].upper()}"
        response = self.client_for(self.c1_counsellor).get(f"/mailbox/{code}/")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.refusals().get().path, "/mailbox/<code>/")
        self.assertFalse(AccessLog.objects.filter(path__contains=code).exists())


# Pages of the org tree every staff member reads (a POST there renders the page, changes nothing).
READ_PAGES = {
    "units/",
    "units/<uuid:unit_id>/",
    "staff/",
    "staff/<uuid:staff_id>/",
    "teams/",
    "staffing/",
}
# Buttons whose action refuses a user without the right (a ValidationError shown as a message
# after a redirect, not a 403): the DB check below proves nothing changed.
REFUSED_BY_THE_ACTION = {
    "/org/memberships/<uuid:membership_id>/revoke/",
    "/org/agreements/<uuid:agreement_id>/revoke/",
}


class HorizontalAndVerticalTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.notes = {}
        cls.sessions = {}
        for name, unit, counsellor in (
            ("c1", cls.c1, cls.c1_counsellor),
            ("c2", cls.c2, cls.c2_counsellor),
        ):
            person = Person.objects.create(unit=unit, name=marker(), priority_level=2)
            session = Session.objects.create(
                unit=unit,
                kind="individual",
                format="offline",
                held_at=timezone.now() - timedelta(days=1),
                counsellor=counsellor,
                recorded_by=counsellor,
            )
            note = marker()
            participant = SessionParticipant.objects.create(
                session=session, person=person, basic_situation=note, advice=note
            )
            cls.notes[name] = note
            cls.sessions[name] = (session, participant)

    def urls(self, name: str) -> list[str]:
        session, participant = self.sessions[name]
        return [
            f"/counselling/{session.pk}/",
            f"/counselling/{session.pk}/participants/{participant.pk}/",
        ]

    def test_a_counsellor_reads_the_case_notes_of_their_own_unit(self):
        client = self.client_for(self.c1_counsellor)
        for url in self.urls("c1"):
            response = client.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertIn(self.notes["c1"], response.content.decode())

    def test_counsellor_a_cannot_open_counsellor_bs_case_notes(self):
        for reader, other in ((self.c1_counsellor, "c2"), (self.c2_counsellor, "c1")):
            client = self.client_for(reader)
            for url in self.urls(other):
                for response in (client.get(url), client.post(url, {"basic_situation": "x"})):
                    self.assertEqual(response.status_code, 404, url)
                    self.assertNotIn(self.notes[other], response.content.decode())
        _session, participant = self.sessions["c1"]
        participant.refresh_from_db()
        self.assertEqual(participant.basic_situation, self.notes["c1"])

    def test_a_psychiatrist_elsewhere_cannot_read_them_either(self):
        client = self.client_for(self.psychiatrist)
        for url in self.urls("c1"):
            self.assertEqual(client.get(url).status_code, 404, url)

    def test_a_non_clinical_worker_of_the_unit_sees_the_session_but_not_its_notes(self):
        client = self.client_for(self.c1_worker)
        detail, record = self.urls("c1")
        response = client.get(detail)
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self.notes["c1"], response.content.decode())
        self.assertIn(client.get(record).status_code, (403, 404))

    def snapshot(self) -> list[Any]:
        tables: list[Any] = []
        for model in (Unit, Membership, Team, TeamMember, ConfidentialityAgreement, StaffProfile):
            tables.append(sorted(map(str, model.objects.values_list())))
        tables.append(
            sorted(map(str, User.objects.values_list("pk", "username", "name", "is_active")))
        )
        return tables

    def test_a_grid_worker_cannot_call_any_administrative_action(self):
        own = Membership.objects.get(user=self.c1_grid)
        grid = own.unit
        agreement = ConfidentialityAgreement.objects.filter(user=self.c1_grid).first()
        team = Team.objects.filter(unit=self.c1).first()
        params = {
            "unit_id": grid.pk,  # their own grid: in scope, so the answer is 403
            "staff_id": self.c1_grid.pk,  # themselves: no escalation of their own account
            "membership_id": own.pk,
            "agreement_id": agreement.pk if agreement else uuid.uuid4(),
            "team_id": team.pk if team else uuid.uuid4(),
            "member_id": uuid.uuid4(),
        }
        # One body that would be valid for each form: a new unit, an account, a role (city
        # administrator, for themselves), an agreement, a team, deactivation.
        body = {
            "kind": "grid",
            "name": "越权",
            "code": "",
            "username": "escalated",
            "password": "Very-long-passw0rd!",
            "role": "city_admin",
            "unit": str(self.demo.city.pk),
            "signed_on": "2026-01-01",
            "document_reference": "X-1",
            "profession": "other",
            "qualification": "none",
            "active": "0",
            "user": str(self.c1_grid.pk),
            "parent": str(self.demo.city.pk),
        }
        before = self.snapshot()
        client = self.client_for(self.c1_grid)
        routes = [
            r
            for r in all_routes()
            if r.startswith(("/org/", "/people/break-glass/review"))
            and r.removeprefix("/org/") not in READ_PAGES
        ]
        self.assertGreater(len(routes), 10)
        refused = 0
        for route in routes:
            url = fill(route, params)
            assert url is not None, route
            with self.subTest(url=route):
                status = client.post(url, body).status_code
                allowed = (302, 403, 404) if route in REFUSED_BY_THE_ACTION else (403, 404, 405)
                self.assertIn(status, allowed, url)
                refused += status in (403, 404)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(AccessLog.objects.filter(kind=AccessKind.REFUSED).count(), refused)

    def test_anonymous_posts_change_nothing_and_the_api_answers_401(self):
        public = ("/s/", "/booking/p/", "/booking/feed/", "/mailbox/", PUBLIC_PORTAL, "/i18n/")
        public_exact = {"/accounts/login/", "/accounts/logout/", "/healthz", "/api/v1/auth/token"}
        params = {name: uuid.uuid4() for _conv, name in PARAM.findall(" ".join(all_routes()))}
        before = self.snapshot()
        client = Client()
        for route in all_routes():
            if route.startswith(public) or route in public_exact:
                continue
            url = fill(route, params)
            assert url is not None
            with self.subTest(url=route):
                if url.startswith("/api/v1/schema") or url.startswith("/api/v1/docs"):
                    continue  # the API's description is public
                if url.startswith("/api/"):
                    self.assertEqual(client.get(url).status_code, 401, url)
                    self.assertEqual(client.post(url, {}).status_code, 401, url)
                else:
                    response = client.post(url, {"name": "x"})
                    # GET-only pages refuse the method before asking who is there.
                    self.assertIn(response.status_code, (302, 405), url)
                    if response.status_code == 302:
                        self.assertTrue(response["Location"].startswith("/accounts/login/"), url)
        self.assertEqual(self.snapshot(), before)


# Route parameters that are not object ids, each with why guessing it gains nothing.
NOT_OBJECT_IDS = {
    "token": "a random credential of its own (self-assessment and booking links), 128+ bits",
    "code": "a public definition (an instrument's code) or a mailbox reference code",
    "ref": "a unit's public portal reference, printed in its QR code by design",
    "table": "a dashboard table's code (a definition, not data)",
    "fmt": "a file format",
}


# Scoped models with sequential keys, each never addressed by a URL (shown inside the page of
# the object they belong to, by that object's UUID).
SEQUENTIAL_KEYS = {
    "risk.RiskLevelChange": "history rows on the person's risk page",
    "risk.ResponsePolicy": "the response matrix, edited as one page per unit",
    "risk.SmiFollowUp": "visits listed on the patient's page (addressed by the person's UUID)",
    "portal.PortalVisit": "visit counters, never shown one by one",
}


class ObjectIdsAreNotGuessableTests(PersonaTestCase):
    def test_every_object_id_in_a_route_is_a_uuid(self):
        wrong: list[str] = []

        def walk(patterns: list[Any], prefix: str) -> None:
            for p in patterns:
                pattern = str(p.pattern)
                if type(p.pattern).__name__ != "RoutePattern":
                    wrong.append(f"{prefix}{pattern}: a regular expression, not checked")
                if isinstance(p, URLResolver):
                    walk(p.url_patterns, prefix + pattern)
                    continue
                assert isinstance(p, URLPattern)
                for m in re.finditer(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", pattern):
                    name, conv = m.group("name"), m.group("conv") or "str"
                    if name.endswith("_id") or name == "pk":
                        if conv != "uuid":
                            wrong.append(f"{prefix}{pattern}: {name} is {conv}")
                    elif name not in NOT_OBJECT_IDS:
                        wrong.append(f"{prefix}{pattern}: {name} is neither a uuid nor listed")

        walk(get_resolver().url_patterns, "/")
        self.assertEqual(wrong, [])

    def test_every_scoped_model_has_a_random_uuid_key(self):
        scoped = [m for m in apps.get_models() if hasattr(m, "scope_path_lookup")]
        self.assertGreater(len(scoped), 10)
        for model in scoped:
            label = model._meta.label
            with self.subTest(model=label):
                pk = model._meta.pk
                if isinstance(pk, models.OneToOneField):
                    pk = pk.related_model._meta.pk  # shares its key with the person file
                if label in SEQUENTIAL_KEYS:
                    self.assertIsInstance(pk, models.BigAutoField)
                    continue
                self.assertIsInstance(pk, models.UUIDField)
                self.assertIs(pk.default, uuid.uuid4)
        # The listed ones are addressed by no route: no URL parameter could carry their key.
        names = {name for _conv, name in PARAM.findall(" ".join(all_routes()))}
        for label in SEQUENTIAL_KEYS:
            stem = label.split(".")[1].lower()
            self.assertFalse([n for n in names if n.replace("_", "").startswith(stem)], label)


REASON = "来电者称今晚有自杀计划，需立即查看其档案中的监护人联系方式"


class BreakGlassTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.s1_admin = cls.demo.users["s1_admin"]
        cls.s2_admin = cls.demo.users["s2_admin"]
        cls.name_c3 = marker()
        # c3 lies in another street (s2): outside c1's counsellor and s1's administrator.
        cls.person_c3 = Person.objects.create(unit=cls.c3, name=cls.name_c3, priority_level=2)
        outside_community = Unit.objects.get(name="外社区")
        cls.person_elsewhere = Person.objects.create(
            unit=outside_community, name=marker(), priority_level=2
        )

    def open_glass(self, user: User, file: Any, reason: str = REASON) -> Any:
        return self.client_for(user).post(
            "/people/break-glass/", {"file": str(file), "reason": reason}
        )

    def test_without_a_grant_the_file_is_outside_scope(self):
        self.assertEqual(
            self.client_for(self.c1_counsellor).get(f"/people/{self.person_c3.pk}/").status_code,
            404,
        )
        self.assertFalse(BreakGlassGrant.objects.exists())

    def test_a_counsellor_opens_a_file_of_the_city_with_a_reason_for_a_few_hours(self):
        response = self.open_glass(self.c1_counsellor, self.person_c3.pk)
        self.assertRedirects(
            response, f"/people/{self.person_c3.pk}/", fetch_redirect_response=False
        )
        grant = BreakGlassGrant.objects.get()
        self.assertEqual((grant.user, grant.person), (self.c1_counsellor, self.person_c3))
        self.assertEqual(grant.reason, REASON)
        self.assertEqual(grant.expires_at - grant.created_at, timedelta(hours=GRANT_HOURS))
        self.assertEqual(grant.review, BreakGlassReview.PENDING)

        client = self.client_for(self.c1_counsellor)
        page = client.get(f"/people/{self.person_c3.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.name_c3, page.content.decode())
        client.get(f"/people/{self.person_c3.pk}/timeline/")
        # Every opening under the grant is logged with the grant's id.
        entries = AccessLog.objects.filter(
            kind=AccessKind.BREAK_GLASS, object_id=str(self.person_c3.pk)
        )
        self.assertEqual(entries.filter(reason=f"break-glass {grant.pk}").count(), 2)
        self.assertEqual(entries.filter(reason=f"break-glass {grant.pk} opened").count(), 1)
        self.assertFalse(entries.exclude(user=self.c1_counsellor).exists())

        # Read-only: editing is still refused, and changes nothing.
        edit = client.post(f"/people/{self.person_c3.pk}/edit/", {"name": "改"})
        self.assertIn(edit.status_code, (403, 404))
        self.person_c3.refresh_from_db()
        self.assertEqual(self.person_c3.name, self.name_c3)

        # Other files stay outside.
        other = Person.objects.create(unit=self.c3, name=marker(), priority_level=2)
        self.assertEqual(client.get(f"/people/{other.pk}/").status_code, 404)

    def test_the_grant_ends_after_its_hours(self):
        self.open_glass(self.c1_counsellor, self.person_c3.pk)
        url = f"/people/{self.person_c3.pk}/"
        later = timezone.now() + timedelta(hours=GRANT_HOURS, minutes=1)
        with time_machine.travel(later - timedelta(minutes=2), tick=False):
            self.assertEqual(self.client_for(self.c1_counsellor).get(url).status_code, 200)
        with time_machine.travel(later, tick=False):
            self.assertEqual(self.client_for(self.c1_counsellor).get(url).status_code, 404)

    def test_a_grant_is_for_its_holder_only(self):
        self.open_glass(self.c1_counsellor, self.person_c3.pk)
        url = f"/people/{self.person_c3.pk}/"
        for user in (self.c2_counsellor, self.c1_grid, self.s1_admin):
            self.assertEqual(self.client_for(user).get(url).status_code, 404, user.username)

    def test_a_reason_is_required_and_must_say_something(self):
        for reason in ("", "急" * (MIN_REASON_LENGTH - 1), " " * 20):
            with self.subTest(reason=reason):
                response = self.open_glass(self.c1_counsellor, self.person_c3.pk, reason)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.context["form"].errors)
        self.assertFalse(BreakGlassGrant.objects.exists())
        self.assertEqual(
            self.client_for(self.c1_counsellor).get(f"/people/{self.person_c3.pk}/").status_code,
            404,
        )

    def test_only_within_the_same_city(self):
        response = self.open_glass(self.c1_counsellor, self.person_elsewhere.pk)
        self.assertEqual(response.status_code, 200)
        self.assertIn("file", response.context["form"].errors)
        self.assertFalse(BreakGlassGrant.objects.exists())
        probe = AccessLog.objects.get(kind=AccessKind.REFUSED, user=self.c1_counsellor)
        self.assertEqual(probe.object_type, "people.breakglassgrant")
        self.assertNotIn(str(self.person_elsewhere.pk), probe.path + probe.reason)
        # The same answer as for a file that does not exist.
        missing = self.open_glass(self.c1_counsellor, uuid.uuid4())
        self.assertEqual(
            missing.context["form"].errors["file"], response.context["form"].errors["file"]
        )

    def test_roles_without_break_glass_do_not_get_the_page(self):
        for user in (self.c1_grid, self.c1_worker, self.hotline, self.s1_admin, self.auditor):
            with self.subTest(user=user.username):
                client = self.client_for(user)
                self.assertEqual(client.get("/people/break-glass/").status_code, 404)
                response = self.open_glass(user, self.person_c3.pk)
                self.assertEqual(response.status_code, 404)
        self.assertFalse(BreakGlassGrant.objects.exists())

    def test_a_psychiatrist_may_break_glass_too(self):
        self.open_glass(self.psychiatrist, self.person_c3.pk)
        self.assertEqual(BreakGlassGrant.objects.get().user, self.psychiatrist)

    def test_a_file_in_scope_needs_no_glass(self):
        own = Person.objects.create(unit=self.c1, name=marker(), priority_level=2)
        response = self.open_glass(self.c1_counsellor, own.pk)
        self.assertRedirects(response, f"/people/{own.pk}/", fetch_redirect_response=False)
        self.assertFalse(BreakGlassGrant.objects.exists())

    def test_the_files_administrators_are_told_without_a_name(self):
        self.open_glass(self.c1_counsellor, self.person_c3.pk)
        told = Notification.objects.filter(channel=Channel.IN_APP)
        self.assertEqual({n.recipient for n in told}, {self.s2_admin})
        note = told.get()
        self.assertEqual(note.url, "/people/break-glass/review/")
        self.assertNotIn(self.name_c3, note.subject + note.body)
        self.assertNotIn(REASON, note.subject + note.body)

    def test_review_page_lists_the_grant_for_administrators_and_auditors_over_the_file(self):
        self.open_glass(self.c1_counsellor, self.person_c3.pk)
        grant = BreakGlassGrant.objects.get()
        for user in (self.s2_admin, self.auditor, self.city_admin):
            with self.subTest(user=user.username):
                page = self.client_for(user).get("/people/break-glass/review/")
                self.assertEqual(page.status_code, 200)
                self.assertIn(str(grant.pk), page.content.decode())
                self.assertIn(REASON, page.content.decode())
        # Not the street of the counsellor (the file is not theirs), not the clinicians.
        page = self.client_for(self.s1_admin).get("/people/break-glass/review/")
        self.assertNotIn(str(grant.pk), page.content.decode())
        for user in (self.c1_counsellor, self.c1_grid, self.outsider):
            page = self.client_for(user).get("/people/break-glass/review/")
            self.assertIn(page.status_code, (200, 404))
            self.assertNotIn(str(grant.pk), page.content.decode())

    def test_mark_as_reviewed_once_by_a_reviewer_in_scope(self):
        self.open_glass(self.c1_counsellor, self.person_c3.pk)
        grant = BreakGlassGrant.objects.get()
        wrong = self.client_for(self.s1_admin).post(
            "/people/break-glass/review/", {"grant": grant.pk, "note": "x"}
        )
        self.assertEqual(wrong.status_code, 404)
        grant.refresh_from_db()
        self.assertEqual(grant.review, BreakGlassReview.PENDING)

        client = self.client_for(self.s2_admin)
        client.post("/people/break-glass/review/", {"grant": grant.pk, "note": "已核实"})
        grant.refresh_from_db()
        self.assertEqual(grant.review, BreakGlassReview.REVIEWED)
        self.assertEqual((grant.reviewed_by, grant.review_note), (self.s2_admin, "已核实"))
        self.assertIsNotNone(grant.reviewed_at)
        # Reviewed once: a second review changes nothing.
        client.post("/people/break-glass/review/", {"grant": grant.pk, "note": "再次"})
        grant.refresh_from_db()
        self.assertEqual((grant.reviewed_by, grant.review_note), (self.s2_admin, "已核实"))
        pending = client.get("/people/break-glass/review/").content.decode()
        self.assertNotIn(str(grant.pk), pending)
        everything = client.get("/people/break-glass/review/?all=1").content.decode()
        self.assertIn(str(grant.pk), everything)

    def test_the_reason_is_encrypted_at_rest(self):
        self.open_glass(self.c1_counsellor, self.person_c3.pk)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT reason FROM people_breakglassgrant")
            (stored,) = cursor.fetchone()
        self.assertNotIn(REASON[:6], stored)
