"""Org tree, staff and team pages. Each view reads top to bottom: access → act → respond."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.accounts import actions as account_actions
from xinqiao.accounts.models import User
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs import actions
from xinqiao.orgs.forms import (
    AgreementForm,
    GrantForm,
    MoveForm,
    ProfileForm,
    RenameForm,
    StaffForm,
    TeamForm,
    TeamMemberForm,
    UnitForm,
)
from xinqiao.orgs.models import (
    ALLOWED_PARENT_KINDS,
    ConfidentialityAgreement,
    Membership,
    StaffProfile,
    Team,
    TeamMember,
    Unit,
    UnitKind,
)
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import (
    access_membership,
    access_staff,
    access_team,
    access_unit,
    can,
    can_act_on_staff,
    has_confidentiality_agreement,
    require,
    scoped,
)
from xinqiao.workbench import staffing
from xinqiao.workbench.forms import report, submit


def _tree(units: list[Unit]) -> list[dict[str, Any]]:
    """Nest a path-ordered list of units; units whose parent is not in the list are roots."""
    by_parent: dict[Any, list[Unit]] = defaultdict(list)
    ids = {u.id for u in units}
    roots = []
    for unit in units:
        if unit.parent_id in ids:
            by_parent[unit.parent_id].append(unit)
        else:
            roots.append(unit)

    def build(unit: Unit) -> dict[str, Any]:
        return {"unit": unit, "children": [build(c) for c in by_parent.get(unit.id, [])]}

    return [build(r) for r in roots]


@login_required
def unit_tree(request: HttpRequest) -> HttpResponse:
    show_inactive = request.GET.get("inactive") == "1"
    units = scoped(Unit.objects.all(), request.user)
    if not show_inactive:
        units = units.filter(is_active=True)
    return render(
        request,
        "orgs/unit_tree.html",
        {
            "tree": _tree(list(units)),
            "show_inactive": show_inactive,
            "can_manage": can(request.user, Action.UNIT_MANAGE),
        },
    )


@login_required
def unit_detail(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    children = unit.children.order_by("-is_active", "name")
    memberships = []
    if can(request.user, Action.STAFF_VIEW, unit):
        memberships = list(
            Membership.objects.filter(unit=unit).select_related("user").order_by("role")
        )
    teams = Team.objects.filter(unit=unit).annotate(n=Count("members"))
    addable = [k for k in UnitKind if unit.kind in ALLOWED_PARENT_KINDS[k]]
    site_check = None
    if unit.kind == UnitKind.ISOLATION_SITE and can(request.user, Action.STAFF_VIEW, unit):
        site_check = staffing.site_staffing(unit, timezone.localdate())
    team_problem = ""
    if unit.kind == UnitKind.COMMUNITY:
        community = [t for t in staffing.community_teams(request.user) if t.community == unit]
        team_problem = community[0].problem if community else ""
    return render(
        request,
        "orgs/unit_detail.html",
        {
            "unit": unit,
            "ancestors": unit.ancestors(),
            "children": children,
            "memberships": memberships,
            "teams": teams,
            "addable_kinds": addable,
            "can_manage": can(request.user, Action.UNIT_MANAGE, unit),
            "site_check": site_check,
            "team_problem": team_problem,
        },
    )


@login_required
def staffing_overview(request: HttpRequest) -> HttpResponse:
    """Community teams short of 3–5 members, isolation sites against 6–9 qualified staff per
    200 people, and each counsellor's caseload, in the user's scope (R-TEAM)."""
    require(request.user, Action.STAFF_VIEW)
    today = timezone.localdate()
    return render(
        request,
        "orgs/staffing.html",
        {
            "communities": staffing.community_teams(request.user),
            "sites": staffing.isolation_sites(request.user, today),
            "caseloads": staffing.caseloads(request.user, timezone.now()),
            "caseload_days": staffing.CASELOAD_DAYS,
        },
    )


@login_required
def unit_create(request: HttpRequest, unit_id: Any) -> HttpResponse:
    parent = access_unit(request.user, unit_id)
    require(request.user, Action.UNIT_MANAGE, parent)
    form = UnitForm(request.POST or None, initial={"kind": request.GET.get("kind")}, parent=parent)
    unit = submit(
        request,
        form,
        lambda data: actions.create_unit(acting_user=request.user, parent=parent, **data),
        _("Unit created."),
    )
    if unit is not None:
        return redirect("orgs:unit", unit_id=unit.id)
    return render(
        request, "orgs/unit_form.html", {"form": form, "parent": parent, "title": _("New unit")}
    )


@login_required
def unit_edit(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    require(request.user, Action.UNIT_MANAGE, unit)
    form = RenameForm(
        request.POST or None,
        initial={"name": unit.name, "code": unit.code, "service_phone": unit.service_phone},
    )
    if (
        submit(
            request,
            form,
            lambda data: actions.rename_unit(acting_user=request.user, unit=unit, **data),
            _("Unit renamed."),
        )
        is not None
    ):
        return redirect("orgs:unit", unit_id=unit.id)
    return render(
        request, "orgs/unit_form.html", {"form": form, "unit": unit, "title": _("Rename unit")}
    )


@login_required
def unit_move(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    require(request.user, Action.UNIT_MANAGE, unit)
    targets = (
        scoped(Unit.objects.filter(is_active=True), request.user, Action.UNIT_MANAGE)
        .filter(kind__in=ALLOWED_PARENT_KINDS[unit.kind])
        .exclude(path__startswith=unit.path)
    )
    form = MoveForm(request.POST or None, units=targets)
    if (
        submit(
            request,
            form,
            lambda data: actions.move_unit(
                acting_user=request.user, unit=unit, new_parent=data["parent"]
            ),
            _("Unit moved."),
        )
        is not None
    ):
        return redirect("orgs:unit", unit_id=unit.id)
    return render(
        request, "orgs/unit_form.html", {"form": form, "unit": unit, "title": _("Move unit")}
    )


@login_required
@require_POST
def unit_set_active(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    require(request.user, Action.UNIT_MANAGE, unit)
    if request.POST.get("active") == "1":
        report(
            request,
            lambda: actions.reactivate_unit(acting_user=request.user, unit=unit),
            _("Unit reactivated."),
        )
    else:
        report(
            request,
            lambda: actions.deactivate_unit(acting_user=request.user, unit=unit),
            _("Unit deactivated."),
        )
    return redirect("orgs:unit", unit_id=unit.id)


# --- staff ------------------------------------------------------------------------------------


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.STAFF_VIEW):
        raise Http404
    users = scoped(User.objects.all(), request.user, Action.STAFF_VIEW)
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(Q(name__icontains=query) | Q(username__icontains=query))
    users = users.select_related("staff_profile").prefetch_related("memberships__unit")
    signed = set(
        ConfidentialityAgreement.objects.filter(revoked_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    page = Paginator(users.order_by("username"), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="accounts.user")
    return render(
        request,
        "orgs/staff_list.html",
        {
            "page": page,
            "q": query,
            "signed": signed,
            "can_manage": can(request.user, Action.STAFF_MANAGE),
        },
    )


@login_required
def staff_detail(request: HttpRequest, staff_id: Any) -> HttpResponse:
    person = access_staff(request.user, staff_id)
    log_access(request, person)
    profile = StaffProfile.objects.filter(user=person).first()
    memberships = Membership.objects.filter(user=person).select_related("unit")
    manageable = can_act_on_staff(request.user, Action.STAFF_MANAGE, person)
    return render(
        request,
        "orgs/staff_detail.html",
        {
            "person": person,
            "profile": profile,
            "memberships": memberships,
            "agreements": ConfidentialityAgreement.objects.filter(user=person),
            "has_agreement": has_confidentiality_agreement(person),
            "teams": TeamMember.objects.filter(user=person).select_related("team__unit"),
            "can_manage": manageable and person.pk != request.user.pk,
            "can_record": can_act_on_staff(request.user, Action.AGREEMENT_RECORD, person),
        },
    )


@login_required
def staff_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.STAFF_MANAGE)
    units = scoped(Unit.objects.filter(is_active=True), request.user, Action.STAFF_MANAGE)
    form = StaffForm(request.POST or None, units=units)
    user = submit(
        request,
        form,
        lambda data: account_actions.create_staff(acting_user=request.user, **data),
        _("Account created."),
    )
    if user is not None:
        return redirect("orgs:staff", staff_id=user.pk)
    return render(request, "orgs/staff_form.html", {"form": form, "title": _("New staff account")})


def _staff_for(request: HttpRequest, staff_id: Any, action: Action) -> User:
    """The staff member (404 outside scope), if the user may do ``action`` to them (else 403)."""
    person = access_staff(request.user, staff_id)
    if not can_act_on_staff(request.user, action, person):
        raise PermissionDenied(_("You do not have permission to do this."))
    return person


def _staff_form_page(request: HttpRequest, form: Any, person: User, title: str) -> HttpResponse:
    return render(request, "orgs/staff_form.html", {"form": form, "person": person, "title": title})


@login_required
def staff_profile_edit(request: HttpRequest, staff_id: Any) -> HttpResponse:
    person = _staff_for(request, staff_id, Action.STAFF_MANAGE)
    profile = StaffProfile.objects.filter(user=person).first()
    initial = {}
    if profile is not None:
        initial = {
            "profession": profile.profession,
            "qualification": profile.qualification,
            "qualification_number": profile.qualification_number,
            "is_file_custodian": profile.is_file_custodian,
        }
    form = ProfileForm(request.POST or None, initial=initial)
    if (
        submit(
            request,
            form,
            lambda data: actions.update_staff_profile(
                acting_user=request.user, user=person, **data
            ),
            _("Profile saved."),
        )
        is not None
    ):
        return redirect("orgs:staff", staff_id=person.pk)
    return _staff_form_page(request, form, person, _("Profession and qualification"))


@login_required
def staff_grant(request: HttpRequest, staff_id: Any) -> HttpResponse:
    person = _staff_for(request, staff_id, Action.STAFF_MANAGE)
    units = scoped(Unit.objects.filter(is_active=True), request.user, Action.STAFF_MANAGE)
    form = GrantForm(request.POST or None, units=units)
    if (
        submit(
            request,
            form,
            lambda data: actions.grant_role(acting_user=request.user, user=person, **data),
            _("Role granted."),
        )
        is not None
    ):
        return redirect("orgs:staff", staff_id=person.pk)
    return _staff_form_page(request, form, person, _("Grant a role"))


@login_required
@require_POST
def membership_revoke(request: HttpRequest, membership_id: Any) -> HttpResponse:
    membership = access_membership(request.user, membership_id)
    report(
        request,
        lambda: actions.revoke_role(acting_user=request.user, membership=membership),
        _("Role removed."),
    )
    return redirect("orgs:staff", staff_id=membership.user_id)


@login_required
def agreement_add(request: HttpRequest, staff_id: Any) -> HttpResponse:
    person = _staff_for(request, staff_id, Action.AGREEMENT_RECORD)
    form = AgreementForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.record_agreement(acting_user=request.user, user=person, **data),
            _("Agreement recorded."),
        )
        is not None
    ):
        return redirect("orgs:staff", staff_id=person.pk)
    return _staff_form_page(request, form, person, _("Record a confidentiality agreement"))


@login_required
@require_POST
def agreement_revoke(request: HttpRequest, agreement_id: Any) -> HttpResponse:
    agreement = ConfidentialityAgreement.objects.filter(pk=agreement_id).first()
    if agreement is None:
        raise Http404
    access_staff(request.user, agreement.user_id)  # 404 outside scope
    report(
        request,
        lambda: actions.revoke_agreement(acting_user=request.user, agreement=agreement),
        _("Agreement revoked."),
    )
    return redirect("orgs:staff", staff_id=agreement.user_id)


@login_required
@require_POST
def staff_set_active(request: HttpRequest, staff_id: Any) -> HttpResponse:
    person = _staff_for(request, staff_id, Action.STAFF_MANAGE)
    active = request.POST.get("active") == "1"
    report(
        request,
        lambda: account_actions.set_user_active(
            acting_user=request.user, user=person, active=active
        ),
        _("Account updated."),
    )
    return redirect("orgs:staff", staff_id=person.pk)


@login_required
@require_POST
def staff_unlock(request: HttpRequest, staff_id: Any) -> HttpResponse:
    person = _staff_for(request, staff_id, Action.STAFF_MANAGE)
    report(
        request,
        lambda: account_actions.unlock_user(acting_user=request.user, user=person),
        _("Sign-in lockout cleared."),
    )
    return redirect("orgs:staff", staff_id=person.pk)


# --- teams ------------------------------------------------------------------------------------


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = (
        scoped(Team.objects.all(), request.user).select_related("unit").annotate(n=Count("members"))
    )
    rows = [{"team": t, "problem": t.staffing_problem(t.n)} for t in teams]
    return render(
        request,
        "orgs/team_list.html",
        {"rows": rows, "can_manage": can(request.user, Action.TEAM_MANAGE)},
    )


@login_required
def team_detail(request: HttpRequest, team_id: Any) -> HttpResponse:
    team = access_team(request.user, team_id)
    members = TeamMember.objects.filter(team=team).select_related("user__staff_profile")
    can_manage = can(request.user, Action.TEAM_MANAGE, team.unit)
    form = None
    if can_manage:
        candidates = scoped(
            User.objects.filter(is_active=True), request.user, Action.STAFF_VIEW
        ).exclude(team_memberships__team=team)
        form = TeamMemberForm(request.POST or None, users=candidates)
        if submit(
            request,
            form,
            lambda data: actions.add_team_member(acting_user=request.user, team=team, **data),
            _("Member added."),
        ):
            return redirect("orgs:team", team_id=team.id)
    elif request.method == "POST":
        require(request.user, Action.TEAM_MANAGE, team.unit)
    return render(
        request,
        "orgs/team_detail.html",
        {
            "team": team,
            "members": members,
            "form": form,
            "can_manage": can_manage,
            "problem": team.staffing_problem(len(members)),
        },
    )


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.TEAM_MANAGE)
    units = scoped(Unit.objects.filter(is_active=True), request.user, Action.TEAM_MANAGE)
    form = TeamForm(request.POST or None, units=units)
    team = submit(
        request,
        form,
        lambda data: actions.create_team(acting_user=request.user, **data),
        _("Team created."),
    )
    if team is not None:
        return redirect("orgs:team", team_id=team.id)
    return render(request, "orgs/staff_form.html", {"form": form, "title": _("New team")})


@login_required
@require_POST
def team_member_remove(request: HttpRequest, team_id: Any, member_id: Any) -> HttpResponse:
    team = access_team(request.user, team_id)
    member = TeamMember.objects.filter(team=team, pk=member_id).first()
    if member is None:
        raise Http404
    actions.remove_team_member(acting_user=request.user, member=member)
    messages.success(request, _("Member removed."))
    return redirect("orgs:team", team_id=team.id)
