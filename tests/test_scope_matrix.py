"""Walk every URL of the site and the API with every persona (issue #2 item 4).

Objects outside a persona's units answer 404 — never 403, never a 500, never their name — for
GET and for POST; objects inside never answer 404 or 500. A URL whose parameters this test does
not know how to fill fails the test, so every new page is covered as soon as it exists.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from xinqiao.accounts.actions import issue_api_token
from xinqiao.accounts.models import User
from xinqiao.assessments.models import Assessment, Campaign, Invitation
from xinqiao.orgs.models import (
    ConfidentialityAgreement,
    Membership,
    Team,
    TeamKind,
    TeamMember,
    Unit,
)
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import Consent, GroupMembership, ImportJob, Person, Transfer
from xinqiao.referrals.models import Referral
from xinqiao.risk.models import Alert, RiskSignal, SmiPatient
from xinqiao.test import PersonaTestCase

from . import (
    matrix_booking,
    matrix_content,
    matrix_counselling,
    matrix_followups,
    matrix_hotline,
    matrix_mailbox,
    matrix_portal,
    matrix_trends,
    matrix_work_reports,
)

# Each app's objects and need-to-know rules for the matrix, in its own file.
APP_MATRICES = [
    matrix_followups,
    matrix_counselling,
    matrix_booking,
    matrix_hotline,
    matrix_mailbox,
    matrix_trends,
    matrix_content,
    matrix_portal,
    matrix_work_reports,
]

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def all_routes() -> list[str]:
    routes: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns, "/")
    return routes


@dataclass
class Objects:
    """One of each scoped kind of object, all belonging to one community (or city)."""

    name: str
    unit: Any
    staff: User
    team: Team
    member: TeamMember
    membership: Membership
    agreement: ConfidentialityAgreement
    token_id: Any
    person: Person
    group: GroupMembership
    consent: Consent
    transfer: Transfer
    job: ImportJob
    assessment: Assessment
    invitation: Invitation
    campaign: Campaign
    alert: Alert
    referral: Referral
    extra: dict[str, Any]

    def params(self) -> dict[str, Any]:
        return {
            **{name: obj.pk for name, obj in self.extra.items()},
            "unit_id": self.unit.pk,
            "staff_id": self.staff.pk,
            "team_id": self.team.pk,
            "member_id": self.member.pk,
            "membership_id": self.membership.pk,
            "agreement_id": self.agreement.pk,
            "token_id": self.token_id,
            "person_id": self.person.pk,
            "group_id": self.group.pk,
            "consent_id": self.consent.pk,
            "transfer_id": self.transfer.pk,
            "job_id": self.job.pk,
            "assessment_id": self.assessment.pk,
            "invitation_id": self.invitation.pk,
            "campaign_id": self.campaign.pk,
            "alert_id": self.alert.pk,
            "referral_id": self.referral.pk,
            "code": "phq9",  # instrument codes are public definitions, not scoped data
            "table": "people_by_level",  # a dashboard table's code (a definition)
            "fmt": "png",
            # A self-assessment link is its own credential (public pages, tested in
            # test_assessments): whoever holds it may answer, signed in or not.
            "token": self.invitation.token,
        }

    def names(self) -> list[str]:
        return [
            self.unit.name,
            self.staff.name,
            self.team.name,
            self.person.name,
            self.campaign.title,
        ]


def person_objects(
    unit: Any, inner_unit: Any, staff: User, name: str, relief_office: Any
) -> dict[str, Any]:
    """A person file with one of each of its parts, and an open transfer to ``inner_unit``
    (so that only people who see ``unit`` can decide it)."""
    person = Person.objects.create(unit=unit, name=name, priority_level=2)
    group = GroupMembership.objects.create(
        person=person, group="close_contact", date_from=date(2026, 1, 1)
    )
    consent = Consent.objects.create(
        person=person,
        purpose="assessment",
        given_by="self",
        method="on_screen",
        given_on=date(2026, 1, 1),
    )
    transfer = Transfer.objects.create(
        person=person, from_unit=unit, to_unit=inner_unit, reason="矩阵测试", requested_by=staff
    )
    job = ImportJob.objects.create(unit=unit, created_by=staff, file_name="matrix.csv")
    assessment = Assessment.objects.create(
        person=person,
        unit=unit,
        instrument="phq9",
        mode="staff",
        status="completed",
        answers=[0] * 9,
        raw=0,
        total=0,
        band_code="minimal",
        band_index=0,
        intervention="none",
        completed_at=timezone.now(),
    )
    closes = timezone.now() + timedelta(days=7)
    campaign = Campaign.objects.create(
        unit=unit, title=f"矩阵活动{name}", instrument="phq9", closes_at=closes, created_by=staff
    )
    invitation = Invitation.objects.create(
        unit=unit,
        instrument="phq9",
        person=person,
        campaign=campaign,
        token=f"matrix-token-{uuid.uuid4().hex}",
        token_index=uuid.uuid4().hex,
        expires_at=closes,
        created_by=staff,
    )
    signal = RiskSignal.objects.create(
        person=person,
        unit=unit,
        source="concern_report",
        level=1,
        object_type="people.person",
        object_id=str(person.pk),
    )
    alert = Alert.objects.create(
        person=person, unit=unit, level=1, signal=signal, ack_deadline=closes
    )
    SmiPatient.objects.create(
        person=person,
        diagnosis="schizophrenia",
        next_followup_due=date(2027, 1, 1),
        registered_by=staff,
    )
    referral = Referral.objects.create(
        person=person,
        from_unit=unit,
        to_unit=relief_office,
        kind="relief",
        reason="矩阵测试",
        contact_phone="17000000000",
        sent_by=staff,
    )
    extra: dict[str, Any] = {}
    for matrix in APP_MATRICES:
        extra.update(matrix.objects(unit=unit, person=person, staff=staff))
    return {
        "extra": extra,
        "person": person,
        "group": group,
        "consent": consent,
        "transfer": transfer,
        "job": job,
        "assessment": assessment,
        "invitation": invitation,
        "campaign": campaign,
        "alert": alert,
        "referral": referral,
    }


# Which object sets lie outside each persona's scope.
OUTSIDE = {
    "city_admin": ["other_city"],
    "auditor": ["other_city"],
    "street_admin": ["other_city", "c3"],
    "c1_counsellor": ["other_city", "c2"],
    "c1_worker": ["other_city", "c2"],
    "c1_grid": ["other_city", "c2"],
    "volunteer": ["other_city", "c2"],
    "c2_counsellor": ["other_city", "c1"],
    "c2_grid": ["other_city", "c1"],
    "hotline": ["other_city", "c1", "c2"],
    "psychiatrist": ["other_city", "c1", "c2"],
    "outsider": ["c1", "c2", "c3"],
}


# Parameters that are not scoped objects: codes and tokens are their own credentials, and a
# portal's unit ("ref") is public by design (it is printed in the unit's QR code).
UNSCOPED = {"code", "fmt", "token", "ref"}
# The public portal: no staff scope applies; what is private there (a light account's bookings,
# messages and results) is scoped to the account and tested in tests/test_portal_*.py.
PUBLIC_PORTAL = "/p/"


def params_of(route: str) -> list[str]:
    return [m.group("name") for m in PARAM.finditer(route)]


def fill(route: str, params: dict[str, Any]) -> str | None:
    names = [m.group("name") for m in PARAM.finditer(route)]
    if any(n not in params for n in names):
        return None
    return PARAM.sub(lambda m: str(params[m.group("name")]), route)


class ScopeMatrixTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sets = {
            "c1": cls._community_objects("c1", 0),
            "c2": cls._community_objects("c2", 1),
            "c3": cls._community_objects("c3", 2),
            "other_city": cls._other_city_objects(),
        }

    @classmethod
    def _community_objects(cls, name: str, index: int) -> Objects:
        unit = cls.demo.communities[index]
        staff = cls.demo.users[f"{name}_counsellor"]
        team = Team.objects.get(unit=unit, kind=TeamKind.COMMUNITY)
        token, _raw = issue_api_token(user=staff, name="matrix")
        return Objects(
            name=name,
            unit=unit,
            staff=staff,
            team=team,
            member=TeamMember.objects.filter(team=team).first(),
            membership=Membership.objects.get(user=staff),
            agreement=ConfidentialityAgreement.objects.filter(user=staff).first(),
            token_id=token.pk,
            **person_objects(
                unit, cls.demo.grids[index + 1][0], staff, f"矩阵{name}", cls.demo.civil_affairs
            ),
        )

    @classmethod
    def _other_city_objects(cls) -> Objects:
        unit = cls.outside_city
        team = Team.objects.create(unit=unit, kind=TeamKind.EXPERT, name="外市专家组")
        member = TeamMember.objects.create(team=team, user=cls.outsider)
        agreement = ConfidentialityAgreement.objects.create(
            user=cls.outsider,
            signed_on=timezone.localdate(),
            document_reference="OUT-1",
            recorded_by=cls.outsider,
        )
        token, _raw = issue_api_token(user=cls.outsider, name="matrix")
        return Objects(
            name="other_city",
            unit=unit,
            staff=cls.outsider,
            team=team,
            member=member,
            membership=Membership.objects.get(user=cls.outsider),
            agreement=agreement,
            token_id=token.pk,
            **person_objects(
                Unit.objects.get(name="外社区"),
                Unit.objects.get(name="外街道"),
                cls.outsider,
                "矩阵外市",
                cls._outside_relief_office(),
            ),
        )

    @classmethod
    def _outside_relief_office(cls) -> Unit:
        city = cls.outside_city
        office = Unit(kind="civil_affairs", name="外市民政局", parent=city, depth=1)
        office.path = f"{city.path}{office.id.hex}/"
        office.save()
        return office

    def test_every_route_can_be_filled(self):
        params = self.sets["c1"].params()
        unknown = [r for r in all_routes() if fill(r, params) is None]
        self.assertEqual(unknown, [], "teach this test the new URL parameters")

    def test_outside_objects_answer_404_for_every_persona(self):
        routes = [
            r
            for r in all_routes()
            if set(params_of(r)) - UNSCOPED and not r.startswith(PUBLIC_PORTAL)
        ]
        for persona, user in self.personas().items():
            client = self.client_for(user)
            for set_name in OUTSIDE[persona]:
                objects = self.sets[set_name]
                for route in routes:
                    url = fill(route, objects.params())
                    missing = fill(route, {k: uuid.uuid4() for k in objects.params()})
                    assert url is not None
                    assert missing is not None
                    with self.subTest(persona=persona, url=route, objects=set_name):
                        got, posted = client.get(url), client.post(url, {})
                        # Exactly the answer for an object that does not exist: 404 where
                        # the method is allowed, 405 where it is not, never 403 or 500.
                        self.assertEqual(got.status_code, client.get(missing).status_code)
                        self.assertEqual(posted.status_code, client.post(missing, {}).status_code)
                        self.assertIn(got.status_code, (404, 405), url)
                        self.assertIn(posted.status_code, (404, 405), url)
                        self.assertIn(404, (got.status_code, posted.status_code), url)
                        for response in (got, posted):
                            body = response.content.decode()
                            for name in objects.names():
                                self.assertNotIn(name, body)

    def test_inside_objects_never_404_or_500(self):
        own = {
            "city_admin": "c1",
            "auditor": "c1",
            "street_admin": "c1",
            "c1_counsellor": "c1",
            "c1_worker": "c1",
            "c2_counsellor": "c2",
            "outsider": "other_city",
        }
        routes = [r for r in all_routes() if PARAM.search(r)]
        for persona, set_name in own.items():
            client = self.client_for(getattr(self, persona))
            params = self.sets[set_name].params()
            for route in routes:
                if any(part in route for part in ("token", "transfers/", "import/")):
                    continue  # their owner's or decider's only: test_accounts, test_people*
                if "people/" in route and not can(getattr(self, persona), Action.PERSON_VIEW):
                    continue  # need-to-know: e.g. auditors see units and staff, not files
                if route.startswith("/s/"):
                    continue  # public self-assessment pages: test_assessments
                if "assessments/" in route and not can(
                    getattr(self, persona), Action.ASSESSMENT_VIEW
                ):
                    continue  # need-to-know: results are for those who serve the person
                if route.startswith("/referrals/") and not can(
                    getattr(self, persona), Action.REFERRAL_SEND
                ):
                    continue  # referrals are for the two sides: test_referrals
                if route.startswith("/risk/") and not can(
                    getattr(self, persona), Action.ALERT_VIEW
                ):
                    continue  # need-to-know: crisis work
                if ("invitations/" in route or "sheet.pdf" in route) and not can(
                    getattr(self, persona), Action.ASSESSMENT_INVITE
                ):
                    continue  # links are for those who send them, not for oversight
                if any(m.skip_inside(route, getattr(self, persona)) for m in APP_MATRICES):
                    continue
                url = fill(route, params)
                assert url is not None
                with self.subTest(persona=persona, url=route):
                    status = client.get(url).status_code
                    self.assertNotIn(status, (404, 500), url)

    def test_pages_without_objects_never_fail(self):
        routes = [r for r in all_routes() if not PARAM.search(r)]
        for persona, user in self.personas().items():
            client = self.client_for(user)
            for route in routes:
                with self.subTest(persona=persona, url=route):
                    self.assertLess(client.get(route).status_code, 500, route)

    def test_anonymous_visitors_reach_only_public_pages(self):
        public = {
            *(fill(r, self.sets["c1"].params()) for r in all_routes() if r.startswith("/s/")),
            # A booking link and a calendar feed are their own credentials: test_booking.
            *(
                fill(r, self.sets["c1"].params())
                for r in all_routes()
                if r.startswith(("/booking/p/", "/booking/feed/"))
            ),
            # The worry mailbox: writing and reading with a reference code (test_mailbox).
            *(fill(r, self.sets["c1"].params()) for r in all_routes() if r.startswith("/mailbox/")),
            # The portal (issue #8): public pages; a light account's own pages answer 404 or
            # the sign-in form without one (test_portal_accounts).
            *(
                fill(r, self.sets["c1"].params())
                for r in all_routes()
                if r.startswith(PUBLIC_PORTAL)
            ),
            "/accounts/login/",
            "/accounts/logout/",
            "/healthz",
            "/api/v1/auth/token",
            "/i18n/setlang/",
        }
        client = Client()
        params = self.sets["c1"].params()
        for route in all_routes():
            url = fill(route, params)
            assert url is not None
            with self.subTest(url=route):
                status = client.get(url).status_code
                if url in public:
                    self.assertLess(status, 500)
                elif url.startswith("/api/v1/schema") or url.startswith("/api/v1/docs"):
                    self.assertIn(status, (200, 401, 403))
                elif url.startswith("/api/"):
                    self.assertIn(status, (401, 403))
                else:
                    self.assertEqual(status, 302)
                    self.assertTrue(client.get(url)["Location"].startswith("/accounts/login/"))

    def test_lists_show_only_what_is_in_scope(self):
        client = self.client_for(self.c1_worker)
        tree = client.get("/org/units/").content.decode()
        self.assertIn(self.c1.name, tree)
        self.assertNotIn(self.c2.name, tree)
        self.assertNotIn(self.demo.city.name + "</a>", tree)
        api = client.get("/api/v1/units/").json()
        self.assertEqual(
            {u["id"] for u in api["results"]},
            {str(self.c1.pk)} | {str(g.pk) for g in self.demo.grids[1]},
        )
        staff = client.get("/api/v1/staff/").json()
        usernames = {s["username"] for s in staff["results"]}
        self.assertIn("c1_counsellor", usernames)
        self.assertNotIn("c2_counsellor", usernames)
        self.assertNotIn("city_admin", usernames)
        outsider = self.client_for(self.outsider)
        self.assertNotIn(self.c1.name, outsider.get("/org/units/").content.decode())
        self.assertEqual(outsider.get("/api/v1/units/").json()["count"], 5)
