"""Sensitive reads of assessments, invitations and campaigns: one place, 404 outside scope."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from xinqiao.assessments.models import Assessment, Campaign, Invitation
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, require_confidentiality_agreement, scoped
from xinqiao.people.access import access_person


def assessments_in_scope(
    user: Any, action: Action = Action.ASSESSMENT_VIEW
) -> QuerySet[Assessment]:
    """Assessments on files the user may see results of (anonymous ones never appear)."""
    return scoped(Assessment.objects.select_related("person__unit", "unit"), user, action)


def access_assessment(
    user: Any, assessment_id: Any, action: Action = Action.ASSESSMENT_VIEW
) -> Assessment:
    assessment = get_or_404(assessments_in_scope(user, action), assessment_id)
    require_confidentiality_agreement(user)
    return assessment


def access_invitation(
    user: Any, invitation_id: Any, action: Action = Action.ASSESSMENT_INVITE
) -> Invitation:
    """An invitation of the user's units; a personal one also needs its person's file in
    scope (after a transfer, the old unit no longer sees whom it invited)."""
    queryset = scoped(Invitation.objects.select_related("person", "campaign", "unit"), user, action)
    invitation = get_or_404(queryset, invitation_id)
    if invitation.person_id is not None:
        access_person(user, invitation.person_id)
    return invitation


def campaigns_in_scope(user: Any, action: Action = Action.CAMPAIGN_VIEW) -> QuerySet[Campaign]:
    return scoped(Campaign.objects.select_related("unit", "created_by"), user, action)


def access_campaign(user: Any, campaign_id: Any, action: Action = Action.CAMPAIGN_VIEW) -> Campaign:
    return get_or_404(campaigns_in_scope(user, action), campaign_id)


def suppress(count: int) -> int | None:
    """Small cells are hidden in aggregates (DESIGN.md "Data and privacy"; default below 5)."""
    return count if count == 0 or count >= settings.XINQIAO_SMALL_CELL_THRESHOLD else None


def portal_results(unit: Any, *, since: date) -> list[dict[str, Any]]:
    """Anonymous self-assessments completed on ``unit``'s portal since ``since``: per
    instrument, how many, and how many per band, small cells suppressed (the consent screen
    promises these statistics, and only these). For those who follow campaigns
    (``Action.CAMPAIGN_VIEW``); the caller checks it."""
    from collections import Counter

    from django.utils import timezone

    from xinqiao.assessments.models import AssessmentChannel, AssessmentStatus
    from xinqiao.instruments.library import get

    start = timezone.make_aware(datetime.combine(since, time.min))
    done = Assessment.objects.filter(
        unit=unit,
        channel=AssessmentChannel.PORTAL,
        status=AssessmentStatus.COMPLETED,
        completed_at__gte=start,
    )
    from xinqiao.reports.cells import suppress_table

    rows = []
    for code in sorted(set(done.values_list("instrument", flat=True))):
        instrument = get(code)
        bands = Counter(done.filter(instrument=code).values_list("band_code", flat=True))
        # Complementary suppression: with the total shown, one hidden band alone could be
        # worked out by subtraction (xinqiao.reports.cells).
        shown = suppress_table(
            [[bands[band.code]] for band in instrument.bands],
            threshold=settings.XINQIAO_SMALL_CELL_THRESHOLD,
        )
        rows.append(
            {
                "instrument": instrument,
                "completed": shown.column_totals[0],
                "bands": [(band, shown.cells[k][0]) for k, band in enumerate(instrument.bands)],
            }
        )
    return rows
