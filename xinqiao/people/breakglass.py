"""Break-glass: emergency access to a person file outside one's scope (issue #10 item 8).

Need-to-know by unit (R-PRIVACY; seed 002 篇6 二(四) 严格保密) must not stand between a person
in crisis and the clinician who could help (seed 000 二(六) 心理危机干预). So a counsellor or
psychiatrist (``Action.BREAK_GLASS``: the clinical roles that may set a risk level) may open a
file of their own city that lies outside their units:

* only with a reason (at least ``MIN_REASON_LENGTH`` characters, stored encrypted);
* for ``GRANT_HOURS`` hours, read-only (``Action.PERSON_VIEW`` through ``access_person``);
* the administrators nearest the file's unit are told at once (in-app notification);
* every opening under the grant is written to the access log with the grant's id;
* administrators and auditors over the file's unit review each grant
  (``Action.BREAK_GLASS_REVIEW``) on the review page and mark it reviewed.

Outside the city, or without a grant in force, a file still answers 404 like any other.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinqiao.audit.log import acting, log_access
from xinqiao.audit.models import AccessKind, AccessLog
from xinqiao.orgs.models import Membership
from xinqiao.orgs.permissions import ADMIN_ROLES, Action, Role
from xinqiao.orgs.scope import (
    can,
    get_or_404,
    require_confidentiality_agreement,
    scope_paths,
    scoped,
)
from xinqiao.people.models import BreakGlassGrant, BreakGlassReview, Person

# The platform's own rules (no seed fixes them): long enough for a crisis shift, short enough
# that a grant is not a second scope; a reason that says something.
GRANT_HOURS = 4
MIN_REASON_LENGTH = 10


def city_root(path: str) -> str:
    """The path of the city (the tree's root) a unit path lies in."""
    parts = [p for p in path.split("/") if p]
    return f"/{parts[0]}/" if parts else ""


def _cities(user: Any) -> set[str]:
    return {city_root(path) for path in scope_paths(user, Action.BREAK_GLASS)}


def grant_in_force(user: Any, person_id: Any) -> BreakGlassGrant | None:
    """The user's grant on this file in force now, if any (and they still hold the role)."""
    if not getattr(user, "is_authenticated", False) or not can(user, Action.BREAK_GLASS):
        return None
    now = timezone.now()
    try:
        grant = (
            BreakGlassGrant.objects.filter(
                user=user, person_id=person_id, created_at__lte=now, expires_at__gt=now
            )
            .select_related("person__unit__parent")
            .order_by("-expires_at")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None
    if grant is None or city_root(grant.person.unit.path) not in _cities(user):
        return None
    return grant


def person_under_grant(user: Any, person_id: Any) -> Person:
    """For ``access_person``: the file under a grant in force, logged with the grant's id;
    404 (as for any file outside scope) without one."""
    grant = grant_in_force(user, person_id)
    if grant is None:
        raise Http404
    from xinqiao.audit.middleware import current_request

    request = current_request.get()
    reason = f"break-glass {grant.pk}"
    if request is not None:
        log_access(request, grant.person, kind=AccessKind.BREAK_GLASS, reason=reason)
    else:
        AccessLog.objects.create(
            user=user,
            kind=AccessKind.BREAK_GLASS,
            object_type="people.person",
            object_id=str(grant.person.pk),
            unit_path=grant.person.unit.path,
            reason=reason,
        )
    return grant.person


# --- writes ---------------------------------------------------------------------------------------


def administrators_of(person: Person) -> list[Any]:
    """The administrators nearest the file's unit (its street, else district, else city)."""
    by_depth: dict[int, list[Any]] = {}
    for m in Membership.objects.filter(
        unit__in=person.unit.ancestors(),
        role__in=[r for r in ADMIN_ROLES if r != Role.SYSTEM_ADMIN],
        user__is_active=True,
    ).select_related("user", "unit"):
        by_depth.setdefault(m.unit.depth, []).append(m.user)
    return by_depth[max(by_depth)] if by_depth else []


def _notify(grant: BreakGlassGrant) -> None:
    """In the caller's transaction. Names nobody: the file is identified by the link only."""
    from xinqiao.notify.actions import notify

    url = reverse("people:break_glass_review")
    by_language: dict[str, list[Any]] = {}
    for user in administrators_of(grant.person):
        by_language.setdefault(user.language or "zh-hans", []).append(user)
    for language, users in by_language.items():
        with translation.override(language):
            subject = _("Emergency access (break-glass) to a file of your area")
            body = _(
                "A staff member opened a person file outside their scope with break-glass "
                "access, for %(hours)d hours. Review it on the break-glass review page."
            ) % {"hours": GRANT_HOURS}
        notify(recipients=users, subject=str(subject), body=str(body), url=url, obj=grant)


@transaction.atomic
def open_grant(*, request: HttpRequest, user: Any, person: Person, reason: str) -> BreakGlassGrant:
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            _("Give a reason of at least %(n)d characters.") % {"n": MIN_REASON_LENGTH}
        )
    now = timezone.now()
    with acting(user):
        grant = BreakGlassGrant.objects.create(
            user=user,
            person=person,
            unit_path=person.unit.path,
            reason=reason,
            created_at=now,
            expires_at=now + timedelta(hours=GRANT_HOURS),
        )
    log_access(
        request, person, kind=AccessKind.BREAK_GLASS, reason=f"break-glass {grant.pk} opened"
    )
    _notify(grant)
    return grant


@transaction.atomic
def mark_reviewed(*, user: Any, grant_id: Any, note: str) -> BreakGlassGrant:
    grant = get_or_404(
        scoped(BreakGlassGrant.objects.select_for_update(), user, Action.BREAK_GLASS_REVIEW),
        grant_id,
    )
    if grant.review != BreakGlassReview.PENDING:
        raise ValidationError(_("This access has already been reviewed."))
    grant.review = BreakGlassReview.REVIEWED
    grant.reviewed_by = user
    grant.reviewed_at = timezone.now()
    grant.review_note = note.strip()
    with acting(user):
        grant.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_note"])
    return grant


# --- pages ---------------------------------------------------------------------------------------


class BreakGlassForm(forms.Form):
    file = forms.CharField(
        label=gettext_lazy("File number or resident ID number"),
        max_length=64,
        help_text=gettext_lazy(
            "The file number from an alert, a referral or a call, or the person's resident ID."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for emergency access"),
        min_length=MIN_REASON_LENGTH,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Why this cannot wait for the file's own unit. The reason is kept, your area's "
            "administrators are told, and the access is reviewed."
        ),
    )


def find_in_city(user: Any, value: str) -> Person | None:
    """A file of the user's city by its number or its resident ID; None if there is none."""
    from xinqiao.people.actions import id_indexes

    value = value.strip()
    people = Person.objects.select_related("unit__parent")
    try:
        person = people.filter(pk=uuid.UUID(value)).first()
    except ValueError:
        person = people.filter(id_number_index__in=id_indexes("resident_id", value.upper())).first()
    if person is None or city_root(person.unit.path) not in _cities(user):
        return None
    return person


@login_required
def break_glass(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.BREAK_GLASS):
        raise Http404
    require_confidentiality_agreement(request.user)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = find_in_city(request.user, form.cleaned_data["file"])
        if person is None:
            # A failed look-up is kept too (never what was typed): probing leaves a trace.
            log_access(
                request,
                None,
                kind=AccessKind.REFUSED,
                object_type="people.breakglassgrant",
                reason="no such file in the city",
            )
            form.add_error("file", _("No file with this number in your city."))
        elif can(request.user, Action.PERSON_VIEW, person.unit):
            return redirect("people:detail", person_id=person.pk)  # in scope: no glass to break
        else:
            try:
                open_grant(
                    request=request,
                    user=request.user,
                    person=person,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as e:
                form.add_error("reason", e)
            else:
                messages.warning(
                    request,
                    _(
                        "Emergency access is open for %(hours)d hours. Your administrators "
                        "have been told."
                    )
                    % {"hours": GRANT_HOURS},
                )
                return redirect("people:detail", person_id=person.pk)
    mine = BreakGlassGrant.objects.filter(
        user_id=str(request.user.pk), expires_at__gt=timezone.now()
    )
    return render(
        request,
        "people/break_glass.html",
        {"form": form, "mine": mine, "hours": GRANT_HOURS},
    )


class ReviewForm(forms.Form):
    grant = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(label=gettext_lazy("Review note"), max_length=500, required=False)


@login_required
def break_glass_review(request: HttpRequest) -> HttpResponse:
    if not scope_paths(request.user, Action.BREAK_GLASS_REVIEW):
        raise Http404
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if not form.is_valid():
            raise Http404
        try:
            mark_reviewed(
                user=request.user,
                grant_id=form.cleaned_data["grant"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, _("Marked as reviewed."))
        return redirect("people:break_glass_review")
    show_all = request.GET.get("all") == "1"
    entries = scoped(
        BreakGlassGrant.objects.select_related("user", "reviewed_by", "person__unit"),
        request.user,
        Action.BREAK_GLASS_REVIEW,
    )
    if not show_all:
        entries = entries.filter(review=BreakGlassReview.PENDING)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="people.breakglassgrant")
    return render(
        request,
        "people/break_glass_review.html",
        {"page": page, "show_all": show_all, "now": timezone.now(), "form": ReviewForm()},
    )
