"""Counselling pages (R-SESSION): record, detail, lists, programmes with their outcomes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.booking.access import access_appointment
from xinqiao.concurrency import submit_edit, versioned_initial
from xinqiao.counselling import actions
from xinqiao.counselling.access import (
    access_participant,
    access_programme,
    access_session,
    log_content_read,
    may_read_content,
    programmes_in_scope,
    sessions_in_scope,
)
from xinqiao.counselling.forms import CaseRecordForm, ProgrammeForm, SessionForm
from xinqiao.counselling.models import SessionParticipant, Technique, Toolkit
from xinqiao.counselling.outcomes import programme_outcomes, programme_people, small
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require, require_confidentiality_agreement, scoped
from xinqiao.people.access import access_person, people_in_scope
from xinqiao.people.models import FileStatus
from xinqiao.workbench.forms import submit


def _need(request: HttpRequest, action: Action) -> None:
    if not can(request.user, action):
        raise Http404


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    _need(request, Action.SESSION_VIEW)
    sessions = sessions_in_scope(request.user)
    mine = request.GET.get("mine") == "1"
    if mine:
        sessions = sessions.filter(Q(counsellor=request.user) | Q(co_counsellors=request.user))
    page = Paginator(sessions.distinct().order_by("-held_at"), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="counselling.session")
    return render(
        request,
        "counselling/list.html",
        {
            "page": page,
            "mine": mine,
            "can_record": can(request.user, Action.SESSION_RECORD),
        },
    )


@login_required
def session_new(request: HttpRequest, person_id: Any = None) -> HttpResponse:
    """Individual from a person's file (?person=<uuid> or the person-scoped URL); otherwise a
    family or group session with participants picked from those in scope."""
    _need(request, Action.SESSION_RECORD)
    require_confidentiality_agreement(request.user)
    person_id = person_id or request.GET.get("person")
    person = access_person(request.user, person_id, Action.SESSION_RECORD) if person_id else None
    # Recorded for an appointment (from its page): the session's time and format start
    # from the appointment's, and recording it marks the appointment attended.
    appointment = None
    initial: dict[str, Any] = {}
    if person is not None and _is_uuid(request.GET.get("appointment", "")):
        appointment = access_appointment(request.user, request.GET["appointment"])
        if appointment.person_id != person.pk:
            raise Http404
        initial = {
            "kind": "individual",
            "format": appointment.format,  # the same two values in both apps
            "held_at": timezone.localtime(appointment.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "minutes": int((appointment.ends_at - appointment.starts_at).total_seconds() // 60),
        }
    people = None
    query = (request.GET.get("q") or "").strip()
    if person is None:
        candidates = people_in_scope(request.user, Action.SESSION_RECORD).filter(
            status=FileStatus.ACTIVE
        )
        if query:
            candidates = candidates.filter(name__icontains=query)
        people = list(candidates.order_by("name")[:200])
        if request.method == "POST":
            picked = request.POST.getlist("participants")
            extra = people_in_scope(request.user, Action.SESSION_RECORD).filter(
                pk__in=[p for p in picked if _is_uuid(p)]
            )
            people = list({p.pk: p for p in [*people, *extra]}.values())
    form = SessionForm(
        request.POST or None,
        initial=initial,
        programmes=programmes_in_scope(request.user, Action.SESSION_RECORD),
        people=people,
    )

    def save(data: dict[str, Any]) -> Any:
        if person is not None:
            participants = [{"person": person, **{f: data.get(f, "") for f in actions.CASE_FIELDS}}]
        else:
            participants = [{"person": pk} for pk in data.get("participants", [])]
        return actions.record_session(
            acting_user=request.user,
            kind=data["kind"],
            format=data["format"],
            held_at=data["held_at"],
            minutes=data["minutes"],
            title=data["title"],
            techniques=data["techniques"],
            toolkit=data["toolkit"],
            plan=data["plan"],
            programme=data["programme"],
            participants=participants,
            appointment=appointment,
        )

    session = submit(request, form, save, _("Session recorded."))
    if session is not None:
        return redirect("counselling:detail", session_id=session.pk)
    return render(
        request,
        "counselling/new.html",
        {"form": form, "person": person, "query": query, "appointment": appointment},
    )


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@login_required
def session_detail(request: HttpRequest, session_id: Any) -> HttpResponse:
    session = access_session(request.user, session_id)
    content = may_read_content(request.user, session)
    visible = set(
        people_in_scope(request.user, Action.PERSON_VIEW)
        .filter(counselling_participations__session=session)
        .values_list("pk", flat=True)
    )
    participants = list(session.participants.select_related("person"))
    for p in participants:
        p.visible = p.person_id in visible  # type: ignore[attr-defined]
    if content:
        log_content_read(request, session)
    else:
        log_access(request, session, object_type="counselling.session", reason="took place")
    return render(
        request,
        "counselling/detail.html",
        {
            "session": session,
            "content": content,
            "participants": participants,
            "co_counsellors": list(session.co_counsellors.all()),
            "techniques": [Technique(t).label for t in session.techniques] if content else [],
            "toolkit": [Toolkit(t).label for t in session.toolkit] if content else [],
            "can_edit": content and can(request.user, Action.SESSION_RECORD, session.unit),
        },
    )


@login_required
def case_record_edit(request: HttpRequest, session_id: Any, participant_id: Any) -> HttpResponse:
    session = access_session(request.user, session_id, Action.SESSION_NOTES_VIEW)
    require(request.user, Action.SESSION_RECORD, session.unit)
    participant = access_participant(request.user, session, participant_id)
    log_content_read(request, session, reason="case record edit")
    fields = actions.CASE_FIELDS
    form = CaseRecordForm(
        request.POST or None,
        initial={f: getattr(participant, f) for f in fields}
        | versioned_initial(participant, fields),
    )
    saved, stale = submit_edit(
        request,
        form,
        lambda data, version, token: actions.update_case_record(
            acting_user=request.user,
            participant=participant,
            expected_version=version,
            read_digests=token,
            **data,
        ),
        _("Case record corrected."),
        heading=_(
            "Someone else changed this case record while you were editing: %(fields)s changed."
        ),
    )
    if saved is not None:
        return redirect("counselling:detail", session_id=session.pk)
    return render(
        request,
        "counselling/case_record.html",
        {"session": session, "participant": participant, "form": form},
        status=409 if stale else 200,  # Conflict: the record changed since the form was read
    )


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    _need(request, Action.SESSION_VIEW)
    form = ProgrammeForm(request.POST or None) if can(request.user, Action.SESSION_RECORD) else None
    units = scoped(Unit.objects.all(), request.user, Action.SESSION_RECORD)
    if request.method == "POST":
        if form is None:
            raise Http404
        unit = units.order_by("depth").first()
        if unit is None:
            raise Http404
        programme = submit(
            request,
            form,
            lambda data: actions.create_programme(acting_user=request.user, unit=unit, **data),
            _("Programme created."),
        )
        if programme is not None:
            return redirect("counselling:programme", programme_id=programme.pk)
    return render(
        request,
        "counselling/programmes.html",
        {"programmes": programmes_in_scope(request.user), "form": form},
    )


@login_required
def programme_detail(request: HttpRequest, programme_id: Any) -> HttpResponse:
    programme = access_programme(request.user, programme_id)
    outcomes = programme_outcomes(programme)
    # Small counts are suppressed for those above the programme's unit (R-REPORT small cells).
    inside = can(request.user, Action.SESSION_RECORD, programme.unit)
    rows = []
    for outcome in outcomes:
        s = outcome.summary
        cells = [
            (_("With a baseline and a later score"), s.people),
            (_("Reliably improved"), s.reliably_improved),
            (_("Reliably deteriorated"), s.reliably_deteriorated),
            (_("No reliable change"), outcome.no_reliable_change),
            (_("Cases at baseline"), s.cases_at_first),
            (_("Recovered"), s.recovered),
            (_("Reliable recovery"), s.reliably_recovered),
        ]
        suppressed = not inside and small(s.people)
        rows.append(
            {
                "instrument": outcome.instrument,
                "cells": [
                    (label, None if suppressed and value else value) for label, value in cells
                ],
                "rates": None
                if suppressed
                else [
                    (_("Reliable improvement rate"), s.reliable_improvement_rate),
                    (_("Recovery rate"), s.recovery_rate),
                    (_("Reliable recovery rate"), s.reliable_recovery_rate),
                ],
            }
        )
    sessions = sessions_in_scope(request.user).filter(programme=programme).order_by("-held_at")
    return render(
        request,
        "counselling/programme.html",
        {
            "programme": programme,
            "rows": rows,
            "sessions": sessions,
            "participants": programme_people(programme).count() if inside else None,
        },
    )


def participant_rows(person: Any) -> Any:
    return SessionParticipant.objects.filter(person=person).select_related(
        "session__counsellor", "session__unit"
    )
