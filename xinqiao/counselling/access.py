"""Who sees a counselling session: one place, 404 outside scope (DESIGN.md, R-PRIVACY).

SESSION_VIEW in the session's unit's subtree sees that a session took place (date, kind,
format, counsellor, the participants they may see); only SESSION_NOTES_VIEW (the clinical
roles, seed 002 篇6 三(二)2) reads the content — the plan and the case records — and every
such read is written to the access log (``log_content_read``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.counselling.models import Programme, Session, SessionParticipant
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, require_confidentiality_agreement, scoped


def sessions_in_scope(user: Any, action: Action = Action.SESSION_VIEW) -> QuerySet[Session]:
    return scoped(Session.objects.select_related("unit", "counsellor", "programme"), user, action)


def access_session(user: Any, session_id: Any, action: Action = Action.SESSION_VIEW) -> Session:
    """The session, if in ``user``'s scope with ``action``; 404 otherwise (missing or not
    theirs, and for a user without SESSION_VIEW)."""
    session = get_or_404(sessions_in_scope(user, action), session_id)
    require_confidentiality_agreement(user)
    return session


def may_read_content(user: Any, session: Session) -> bool:
    return can(user, Action.SESSION_NOTES_VIEW, session.unit)


def access_participant(user: Any, session: Session, participant_id: Any) -> SessionParticipant:
    return get_or_404(
        SessionParticipant.objects.filter(session=session).select_related("person"),
        participant_id,
    )


def programmes_in_scope(user: Any, action: Action = Action.SESSION_VIEW) -> QuerySet[Programme]:
    return scoped(Programme.objects.select_related("unit"), user, action)


def access_programme(
    user: Any, programme_id: Any, action: Action = Action.SESSION_VIEW
) -> Programme:
    return get_or_404(programmes_in_scope(user, action), programme_id)


def log_content_read(request: HttpRequest, session: Session, *, reason: str = "") -> None:
    """Every read of case-record content goes to the access log (ids only)."""
    log_access(
        request,
        session,
        kind=AccessKind.VIEW,
        object_type="counselling.session",
        reason=reason or "case record",
    )
