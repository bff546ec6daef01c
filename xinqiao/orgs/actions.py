"""Writes to the org tree, memberships, staff profiles, teams and agreements.

Every function is keyword-only, checks the actor's permission and scope, validates, and runs in
one transaction; the change log entry is written by django-auditlog in the same transaction and
attributed to ``acting_user``. Bad input raises ``ValidationError`` keyed by field name.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.ops import jobs
from xinqiao.orgs.models import (
    ALLOWED_PARENT_KINDS,
    COMMUNITY_TEAM_MAX,
    ConfidentialityAgreement,
    Membership,
    StaffProfile,
    Team,
    TeamKind,
    TeamMember,
    Unit,
    UnitKind,
)
from xinqiao.orgs.permissions import ROLE_UNIT_KINDS, Action, Role
from xinqiao.orgs.scope import can, can_act_on_staff, can_grant, forget_grants, require


def _clean_name(name: str, field: str = "name") -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({field: _("This field is required.")})
    if len(name) > 100:
        raise ValidationError({field: _("At most 100 characters.")})
    return name


def _check_parent(kind: str, parent: Unit | None) -> None:
    if parent is None:
        if kind != UnitKind.CITY:
            raise ValidationError({"parent": _("Only a city can be the root of the tree.")})
        return
    allowed = ALLOWED_PARENT_KINDS[kind]
    if parent.kind not in allowed:
        raise ValidationError(
            {
                "parent": _("A %(kind)s cannot be placed under a %(parent)s.")
                % {"kind": UnitKind(kind).label, "parent": UnitKind(parent.kind).label}
            }
        )
    if not parent.is_active:
        raise ValidationError({"parent": _("The parent unit is deactivated.")})


def _check_sibling_name(name: str, parent: Unit | None, exclude: Unit | None = None) -> None:
    siblings = Unit.objects.filter(parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        raise ValidationError({"name": _("Another unit with this name already exists here.")})


@transaction.atomic
def create_unit(
    *, acting_user: Any | None, kind: str, name: str, parent: Unit | None, code: str = ""
) -> Unit:
    if kind not in UnitKind.values:
        raise ValidationError({"kind": _("Choose a valid kind of unit.")})
    name = _clean_name(name)
    if parent is None:
        # Only the set-up commands (acting_user None) create a root.
        if acting_user is not None:
            raise ValidationError({"parent": _("Choose the parent unit.")})
    else:
        require(acting_user, Action.UNIT_MANAGE, parent)
    _check_parent(kind, parent)
    _check_sibling_name(name, parent)
    code = (code or "").strip()
    if code and Unit.objects.filter(code=code).exists():
        raise ValidationError({"code": _("This administrative code is already in use.")})
    unit = Unit(kind=kind, name=name, parent=parent, code=code)
    unit.path = f"{parent.path if parent else '/'}{unit.id.hex}/"
    unit.depth = (parent.depth + 1) if parent else 0
    with acting(acting_user):
        unit.save()
    return unit


@transaction.atomic
def rename_unit(
    *,
    acting_user: Any,
    unit: Unit,
    name: str,
    code: str | None = None,
    service_phone: str | None = None,
) -> Unit:
    """Rename a unit; also set its administrative code and the service telephone its portal
    shows (issue #8 item 2), when given."""
    require(acting_user, Action.UNIT_MANAGE, unit)
    name = _clean_name(name)
    _check_sibling_name(name, unit.parent, exclude=unit)
    fields = ["name", "updated_at"]
    unit.name = name
    if code is not None:
        code = code.strip()
        if code and Unit.objects.filter(code=code).exclude(pk=unit.pk).exists():
            raise ValidationError({"code": _("This administrative code is already in use.")})
        unit.code = code
        fields.append("code")
    if service_phone is not None:
        unit.service_phone = _clean_service_phone(service_phone)
        fields.append("service_phone")
    with acting(acting_user):
        unit.save(update_fields=fields)
    return unit


def _clean_service_phone(value: str) -> str:
    from xinqiao.people.idcard import InvalidNumber, normalise_phone

    value = (value or "").strip()
    if not value:
        return ""
    try:
        normalise_phone(value)
    except InvalidNumber:
        raise ValidationError(
            {"service_phone": _("This does not look like a phone number. Check the digits.")}
        ) from None
    # Kept as written, without spaces (a dash may stay: "0571-87654321"), so it reads as the
    # unit prints it and still makes a valid tel: link.
    return "".join(value.split())


@transaction.atomic
def move_unit(*, acting_user: Any, unit: Unit, new_parent: Unit) -> Unit:
    """Move ``unit`` and its whole subtree under ``new_parent``; records move with it."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    require(acting_user, Action.UNIT_MANAGE, unit)
    require(acting_user, Action.UNIT_MANAGE, new_parent)
    if unit.parent_id is None:
        raise ValidationError({"parent": _("The root of the tree cannot be moved.")})
    if new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": _("A unit cannot be moved under itself.")})
    _check_parent(unit.kind, new_parent)
    _check_sibling_name(unit.name, new_parent, exclude=unit)
    old_path = unit.path
    new_path = f"{new_parent.path}{unit.id.hex}/"
    depth_change = (new_parent.depth + 1) - unit.depth
    with acting(acting_user):
        unit.parent = new_parent
        unit.save(update_fields=["parent", "updated_at"])
        # Rewrite the path prefix of the whole subtree in one statement.
        Unit.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1, Length("path"))),
            depth=F("depth") + depth_change,
        )
        # The dashboards' tree rows sum each unit into its ancestors: recount them all in the
        # worker once the move is committed (issue #9 item 5; a move is rare).
        jobs.enqueue("reports.rebuild_tallies", {}, key="reports.rebuild_tallies")
    unit.refresh_from_db()
    forget_grants(acting_user)
    return unit


@transaction.atomic
def deactivate_unit(*, acting_user: Any, unit: Unit) -> Unit:
    """Deactivate (never delete) a unit; its records stay, visible to the levels above."""
    require(acting_user, Action.UNIT_MANAGE, unit)
    if unit.parent_id is None:
        raise ValidationError({"unit": _("The root of the tree cannot be deactivated.")})
    active_children = Unit.objects.filter(parent=unit, is_active=True).count()
    if active_children:
        raise ValidationError(
            {"unit": _("Deactivate its %(n)d active sub-units first.") % {"n": active_children}}
        )
    unit.is_active = False
    with acting(acting_user):
        unit.save(update_fields=["is_active", "updated_at"])
    return unit


@transaction.atomic
def reactivate_unit(*, acting_user: Any, unit: Unit) -> Unit:
    require(acting_user, Action.UNIT_MANAGE, unit)
    if unit.parent is not None and not unit.parent.is_active:
        raise ValidationError({"unit": _("Reactivate the parent unit first.")})
    unit.is_active = True
    with acting(acting_user):
        unit.save(update_fields=["is_active", "updated_at"])
    return unit


@transaction.atomic
def delete_unit(*, acting_user: Any, unit: Unit) -> None:
    """Delete a unit created by mistake. Refused if anything at all refers to it."""
    require(acting_user, Action.UNIT_MANAGE, unit)
    if unit.parent_id is None:
        raise ValidationError({"unit": _("The root of the tree cannot be deleted.")})
    try:
        with acting(acting_user), transaction.atomic():
            unit.delete()
    except ProtectedError:
        raise ValidationError(
            {
                "unit": _(
                    "This unit owns records or sub-units and cannot be deleted; "
                    "deactivate it instead."
                )
            }
        ) from None


@transaction.atomic
def grant_role(*, acting_user: Any | None, user: Any, unit: Unit, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    # acting_user None: the set-up commands (first administrator, demo data).
    if acting_user is not None and not can_grant(acting_user, Role(role), unit):
        raise ValidationError({"role": _("You may not grant this role in this unit.")})
    if unit.kind not in ROLE_UNIT_KINDS[Role(role)]:
        raise ValidationError(
            {
                "unit": _("The role %(role)s cannot be held in a %(kind)s.")
                % {"role": Role(role).label, "kind": UnitKind(unit.kind).label}
            }
        )
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit is deactivated.")})
    if Membership.objects.filter(user=user, unit=unit, role=role).exists():
        raise ValidationError({"role": _("This person already holds this role here.")})
    with acting(acting_user):
        membership = Membership.objects.create(
            user=user, unit=unit, role=role, created_by=acting_user
        )
    forget_grants(user)
    return membership


@transaction.atomic
def revoke_role(*, acting_user: Any, membership: Membership) -> None:
    if not can_grant(acting_user, Role(membership.role), membership.unit):
        raise ValidationError({"role": _("You may not remove this role.")})
    if membership.user_id == acting_user.pk and membership.role in {
        Role.SYSTEM_ADMIN,
        Role.CITY_ADMIN,
    }:
        raise ValidationError({"role": _("You cannot remove your own administrator role.")})
    with acting(acting_user):
        membership.delete()
    forget_grants(membership.user)


@transaction.atomic
def update_staff_profile(
    *,
    acting_user: Any,
    user: Any,
    profession: str,
    qualification: str,
    qualification_number: str = "",
    is_file_custodian: bool = False,
) -> StaffProfile:
    _require_staff_manage(acting_user, user)
    profile, _created = StaffProfile.objects.get_or_create(user=user)
    profile.profession = profession
    profile.qualification = qualification
    profile.qualification_number = (qualification_number or "").strip()
    profile.is_file_custodian = is_file_custodian
    try:
        profile.full_clean(exclude=["user"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    with acting(acting_user):
        profile.save()
    return profile


def _require_staff_manage(acting_user: Any, user: Any) -> None:
    """The actor must manage staff in a unit where ``user`` holds a role (or, for someone who
    holds none yet, anywhere: ``grant_role`` then checks the unit)."""
    if Membership.objects.filter(user=user).exists():
        allowed = can_act_on_staff(acting_user, Action.STAFF_MANAGE, user)
    else:
        allowed = can(acting_user, Action.STAFF_MANAGE)
    if not allowed:
        raise ValidationError({"user": _("This person is outside the units you manage.")})


@transaction.atomic
def record_agreement(
    *,
    acting_user: Any,
    user: Any,
    signed_on: date,
    document_reference: str,
    valid_until: date | None = None,
) -> ConfidentialityAgreement:
    if not can_act_on_staff(acting_user, Action.AGREEMENT_RECORD, user):
        raise ValidationError({"user": _("This person is outside the units you manage.")})
    document_reference = (document_reference or "").strip()
    if not document_reference:
        raise ValidationError({"document_reference": _("This field is required.")})
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("The signing date cannot be in the future.")})
    if valid_until is not None and valid_until < signed_on:
        raise ValidationError({"valid_until": _("The end date is before the signing date.")})
    with acting(acting_user):
        return ConfidentialityAgreement.objects.create(
            user=user,
            signed_on=signed_on,
            valid_until=valid_until,
            document_reference=document_reference,
            recorded_by=acting_user,
        )


@transaction.atomic
def revoke_agreement(*, acting_user: Any, agreement: ConfidentialityAgreement) -> None:
    if not can_act_on_staff(acting_user, Action.AGREEMENT_RECORD, agreement.user):
        raise ValidationError({"user": _("This person is outside the units you manage.")})
    if agreement.revoked_at is not None:
        raise ValidationError({"agreement": _("This agreement is already revoked.")})
    agreement.revoked_at = timezone.now()
    with acting(acting_user):
        agreement.save(update_fields=["revoked_at"])


@transaction.atomic
def create_team(*, acting_user: Any, unit: Unit, kind: str, name: str) -> Team:
    require(acting_user, Action.TEAM_MANAGE, unit)
    if kind not in TeamKind.values:
        raise ValidationError({"kind": _("Choose a valid kind of team.")})
    if kind == TeamKind.COMMUNITY and unit.kind != UnitKind.COMMUNITY:
        raise ValidationError({"unit": _("A community team belongs to a community.")})
    name = _clean_name(name)
    if Team.objects.filter(unit=unit, name=name).exists():
        raise ValidationError({"name": _("A team with this name already exists in this unit.")})
    with acting(acting_user):
        return Team.objects.create(unit=unit, kind=kind, name=name)


@transaction.atomic
def add_team_member(
    *, acting_user: Any, team: Team, user: Any, is_leader: bool = False
) -> TeamMember:
    # Lock the team row so two concurrent additions cannot both pass the size check.
    team = Team.objects.select_for_update().select_related("unit").get(pk=team.pk)
    require(acting_user, Action.TEAM_MANAGE, team.unit)
    if not team.is_active:
        raise ValidationError({"team": _("This team is inactive.")})
    user_units = [m.unit for m in Membership.objects.filter(user=user).select_related("unit")]
    if not any(
        u.path.startswith(team.unit.path) or team.unit.path.startswith(u.path) for u in user_units
    ):
        raise ValidationError({"user": _("This person holds no role in or above this unit.")})
    count = TeamMember.objects.filter(team=team).count()
    # seed 000 三(二): community teams have 3–5 members.
    if team.kind == TeamKind.COMMUNITY and count >= COMMUNITY_TEAM_MAX:
        raise ValidationError(
            {
                "user": _("A community team has at most %(max)d members.")
                % {"max": COMMUNITY_TEAM_MAX}
            }
        )
    try:
        with acting(acting_user), transaction.atomic():
            return TeamMember.objects.create(team=team, user=user, is_leader=is_leader)
    except IntegrityError:
        raise ValidationError({"user": _("This person is already in the team.")}) from None


@transaction.atomic
def remove_team_member(*, acting_user: Any, member: TeamMember) -> None:
    require(acting_user, Action.TEAM_MANAGE, member.team.unit)
    with acting(acting_user):
        member.delete()


@transaction.atomic
def set_team_active(*, acting_user: Any, team: Team, active: bool) -> Team:
    require(acting_user, Action.TEAM_MANAGE, team.unit)
    team.is_active = active
    with acting(acting_user):
        team.save(update_fields=["is_active"])
    return team
