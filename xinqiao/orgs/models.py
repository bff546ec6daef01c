"""The org tree (属地管理), memberships (role in unit), staff profiles, teams and agreements.

MISSION.md R-ORG: city → district → street/township → community/village → grid, with
designated hospitals, psychiatric institutions, schools, hotline centres, service stations
(心灵驿站) and civil-affairs offices as units in the same tree (seed 002 篇6 二(一), seed 003).
MISSION.md R-TEAM: staff with qualifications, community teams of 3–5 (seed 000 三(二)
"各村、社区组建3-5人心理疏导小分队"), expert / application / volunteer teams (seed 003), and a
confidentiality agreement for anyone who handles files (seed 002 篇6 二(四)).
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinqiao.orgs.permissions import Role


class UnitKind(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District / county")
    STREET = "street", _("Street / township")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")
    DESIGNATED_HOSPITAL = "designated_hospital", _("Designated hospital")
    PSYCHIATRIC_INSTITUTION = "psychiatric_institution", _("Psychiatric institution")
    SCHOOL = "school", _("School")
    HOTLINE_CENTRE = "hotline_centre", _("Hotline centre")
    SERVICE_STATION = "service_station", _("Service station (心灵驿站)")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil-affairs office")
    # Seed 002 篇6 三(三)2: 集中隔离点 — staffed with 6–9 qualified counsellors or social
    # workers per 200 people in isolation (xinqiao.orgs.staffing).
    ISOLATION_SITE = "isolation_site", _("Centralised isolation site")


# Which kinds may sit directly under which (R-ORG; seed 002 篇6 三(二)2 puts service stations
# at street/township level and below; hospitals, hotlines and civil affairs are run by the city
# or a district; schools by any level of government down to the street).
ALLOWED_PARENT_KINDS: dict[str, frozenset[str]] = {
    UnitKind.CITY: frozenset(),
    UnitKind.DISTRICT: frozenset({UnitKind.CITY}),
    UnitKind.STREET: frozenset({UnitKind.DISTRICT}),
    UnitKind.COMMUNITY: frozenset({UnitKind.STREET}),
    UnitKind.GRID: frozenset({UnitKind.COMMUNITY}),
    UnitKind.DESIGNATED_HOSPITAL: frozenset({UnitKind.CITY, UnitKind.DISTRICT}),
    UnitKind.PSYCHIATRIC_INSTITUTION: frozenset({UnitKind.CITY, UnitKind.DISTRICT}),
    UnitKind.SCHOOL: frozenset({UnitKind.CITY, UnitKind.DISTRICT, UnitKind.STREET}),
    UnitKind.HOTLINE_CENTRE: frozenset({UnitKind.CITY, UnitKind.DISTRICT}),
    UnitKind.SERVICE_STATION: frozenset({UnitKind.DISTRICT, UnitKind.STREET, UnitKind.COMMUNITY}),
    UnitKind.CIVIL_AFFAIRS: frozenset({UnitKind.CITY, UnitKind.DISTRICT, UnitKind.STREET}),
    UnitKind.ISOLATION_SITE: frozenset({UnitKind.DISTRICT, UnitKind.STREET}),
}
ROOT_KINDS = frozenset({UnitKind.CITY})


class Unit(models.Model):
    """A node of the org tree. ``path`` is the chain of ids from the root ("/a/b/c/")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(
        _("administrative code"),
        max_length=32,
        blank=True,
        help_text=_("Optional official code, e.g. the administrative division code."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=700, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # The unit's own service telephone, shown (tappable) on its portal beside the 24-hour
    # hotline; a unit without one shows the nearest unit above it that has one (issue #8).
    service_phone = models.CharField(
        _("service telephone"), max_length=40, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                name="unit_root_is_city",
                condition=(Q(parent__isnull=True) & Q(kind="city"))
                | (Q(parent__isnull=False) & ~Q(kind="city")),
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="unit_sibling_name_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="unit_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """A grid's name is only unique within its community: "春晖社区 第一网格"."""
        if self.kind == UnitKind.GRID and self.parent is not None:
            return f"{self.parent.name} {self.name}"
        return self.name

    @property
    def kind_label(self) -> str:
        return str(UnitKind(self.kind).label)

    def is_within(self, other: Unit) -> bool:
        """True if this unit is ``other`` or below it."""
        return self.path.startswith(other.path)

    def ancestor_paths(self) -> list[str]:
        """The paths of this unit and every unit above it, root first ("/a/", "/a/b/", …)."""
        ids = [part for part in self.path.split("/") if part]
        return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]

    def ancestors(self) -> models.QuerySet[Unit]:
        ids = [part for part in self.path.strip("/").split("/") if part]
        return Unit.objects.filter(id__in=[uuid.UUID(i) for i in ids]).order_by("depth")


class Membership(models.Model):
    """A user holds a role in a unit; it applies to that unit's whole subtree."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.unit}"


class Profession(models.TextChoices):
    COUNSELLOR = "counsellor", _("Psychological counsellor")
    PSYCHIATRIST = "psychiatrist", _("Psychiatrist")
    PSYCHOTHERAPIST = "psychotherapist", _("Psychotherapist")
    NURSE = "nurse", _("Psychiatric nurse")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    TEACHER = "teacher", _("School psychology teacher")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    GRID_WORKER = "grid_worker", _("Grid worker")
    HOTLINE_OPERATOR = "hotline_operator", _("Hotline operator")
    CIVIL_SERVANT = "civil_servant", _("Government staff")
    VOLUNTEER = "volunteer", _("Volunteer")
    OTHER = "other", _("Other")


class Qualification(models.TextChoices):
    """Professional qualifications named in the seeds (000 三(二), 002 篇6 二(四))."""

    NONE = "none", _("None")
    COUNSELLOR_L2 = "counsellor_l2", _("National level-2 psychological counsellor")
    COUNSELLOR_L3 = "counsellor_l3", _("National level-3 psychological counsellor")
    PSYCHOTHERAPIST = "psychotherapist", _("Psychotherapist (health qualification)")
    PSYCHIATRIST = "psychiatrist", _("Licensed psychiatrist")
    SOCIAL_WORKER_ASSISTANT = "social_worker_assistant", _("Assistant social worker")
    SOCIAL_WORKER = "social_worker", _("Social worker (intermediate)")
    SOCIAL_WORKER_SENIOR = "social_worker_senior", _("Senior social worker")
    TEACHER_CERTIFICATE = "teacher_certificate", _("School psychology teacher certificate")
    OTHER = "other", _("Other")


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_profile"
    )
    profession = models.CharField(
        _("profession"), max_length=32, choices=Profession.choices, default=Profession.OTHER
    )
    qualification = models.CharField(
        _("qualification"),
        max_length=32,
        choices=Qualification.choices,
        default=Qualification.NONE,
    )
    qualification_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    # 专人负责服务对象档案管理 (seed 002 篇6 二(四)): a designated custodian of person files.
    is_file_custodian = models.BooleanField(_("designated file custodian"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_profession_display()})"

    @property
    def is_qualified_counsellor(self) -> bool:
        return self.qualification in {
            Qualification.COUNSELLOR_L2,
            Qualification.COUNSELLOR_L3,
            Qualification.PSYCHOTHERAPIST,
            Qualification.PSYCHIATRIST,
        }


class TeamKind(models.TextChoices):
    COMMUNITY = "community", _("Community counselling team (3–5)")
    EXPERT = "expert", _("Expert team")
    APPLICATION = "application", _("Application team")
    VOLUNTEER = "volunteer", _("Volunteer team")
    CRISIS = "crisis", _("Crisis intervention team")


# seed 000 三(二): "各村、社区组建3-5人心理疏导小分队".
COMMUNITY_TEAM_MIN = 3
COMMUNITY_TEAM_MAX = 5


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="teams")
    kind = models.CharField(_("kind"), max_length=32, choices=TeamKind.choices)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="team_name_unique_in_unit")
        ]

    def __str__(self) -> str:
        return self.name

    def staffing_problem(self, member_count: int) -> str:
        """A sentence saying what is wrong with the team's size, or "" if nothing."""
        if self.kind == TeamKind.COMMUNITY and member_count < COMMUNITY_TEAM_MIN:
            return str(
                _("A community team needs %(min)d–%(max)d members; it has %(n)d.")
                % {"min": COMMUNITY_TEAM_MIN, "max": COMMUNITY_TEAM_MAX, "n": member_count}
            )
        return ""


class TeamMember(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_memberships"
    )
    is_leader = models.BooleanField(_("team leader"), default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class ConfidentialityAgreement(models.Model):
    """A signed confidentiality agreement (保密协定), seed 002 篇6 二(四)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements"
    )
    signed_on = models.DateField(_("signed on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    document_reference = models.CharField(
        _("document reference"),
        max_length=100,
        help_text=_("Where the signed paper is kept, e.g. an archive number."),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("confidentiality agreement")
        verbose_name_plural = _("confidentiality agreements")
        ordering = ["-signed_on"]
        constraints = [
            models.CheckConstraint(
                name="agreement_valid_after_signed",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("signed_on")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_reference} ({self.signed_on})"

    def is_in_force(self, on: date | None = None) -> bool:
        day = on or timezone.localdate()
        return (
            self.revoked_at is None
            and self.signed_on <= day
            and (self.valid_until is None or day <= self.valid_until)
        )
