"""Writes of assessments: staff-administered results, invitations, campaigns, self-service.

Keyword-only, one transaction each; the timeline event, the change-log entry and the risk
signal are written in the same transaction as the result (R-ASSESS, R-CONSENT, R-RISK). The
score is always computed here by the pure engine: a total sent by a client is never read.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.assessments.models import (
    TOKEN_PURPOSE,
    Assessment,
    AssessmentChannel,
    AssessmentMode,
    AssessmentStatus,
    Campaign,
    CampaignStatus,
    Invitation,
    Respondent,
)
from xinqiao.audit.log import acting, change_logged
from xinqiao.fields import blind_index, blind_indexes
from xinqiao.instruments.engine import AnswerError, Instrument, Score, score
from xinqiao.instruments.library import get
from xinqiao.lib.crypto import digest_token
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import require
from xinqiao.people.access import require_consent
from xinqiao.people.actions import GUARDIAN_CONSENT_BELOW_AGE, record_consent_on_screen
from xinqiao.people.events import record_event
from xinqiao.people.models import Consent, ConsentPurpose, EventKind, FileStatus, Person
from xinqiao.risk.actions import raise_signal
from xinqiao.risk.models import SignalSource
from xinqiao.risk.rules import assessment_facts, evaluate

# Personal links last a week by default, campaigns until they close (at most half a year).
DEFAULT_INVITATION_DAYS = 7
MAX_INVITATION_DAYS = 90
MAX_CAMPAIGN_DAYS = 180
MAX_CAMPAIGN_PEOPLE = 2000


class InvitationUnavailable(Exception):
    """The link cannot be used. ``reason`` is one of: unknown, revoked, expired, used,
    closed. The respondent is told kindly, without saying whose link it was."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def instrument_or_error(code: str) -> Instrument:
    try:
        return get(code)
    except AnswerError as exc:
        raise ValidationError({"instrument": _("Choose an instrument from the library.")}) from exc


def _score(instrument: Instrument, answers: Sequence[int | None]) -> Score:
    try:
        return score(instrument, list(answers))
    except AnswerError as exc:
        if exc.item is not None:
            message = _("Item %(item)d: choose one of its answers.") % {"item": exc.item}
        else:
            message = _("%(instrument)s needs an answer to each of its %(n)d items.") % {
                "instrument": instrument.code.upper(),
                "n": len([i for i in instrument.items if not i.optional]),
            }
        raise ValidationError({"answers": message}) from exc


def _apply(assessment: Assessment, result: Score) -> None:
    assessment.raw = result.raw
    assessment.total = result.total
    assessment.band_code = result.band.code
    assessment.band_index = result.band_index
    assessment.intervention = result.band.intervention
    assessment.subscales = result.subscales
    assessment.critical_items = result.critical_items
    assessment.flags = result.flags
    assessment.status = AssessmentStatus.COMPLETED
    assessment.completed_at = timezone.now()


def _after_completion(assessment: Assessment, actor: Any) -> None:
    """Timeline event and, when the risk rules call for it (a critical item, a severe band),
    a risk signal in the same transaction (``xinqiao.risk``)."""
    instrument = assessment.instrument_definition
    band = assessment.band
    if assessment.person is not None:
        record_event(
            person=assessment.person,
            kind=EventKind.ASSESSMENT,
            actor=actor,
            obj=assessment,
            summary=f"{instrument.code.upper()} {assessment.total}"
            + (f" · {band.zh}" if band else ""),
        )
    facts = assessment_facts(
        instrument=instrument.code,
        critical={n: assessment.answers[n - 1] for n in assessment.critical_items},
        flags=assessment.flags,
        band_code=assessment.band_code,
        band_index=assessment.band_index or 0,
        band_count=len(instrument.bands),
        intervention=assessment.intervention,
    )
    if evaluate(facts) is not None:
        raise_signal(
            person=assessment.person,
            unit=assessment.unit,
            source=SignalSource.ASSESSMENT,
            facts=facts,
            obj=assessment,
            actor=actor,
        )


def _consent_in_force(person: Person) -> Consent | None:
    return Consent.objects.filter(
        person=person, purpose=ConsentPurpose.ASSESSMENT, withdrawn_at__isnull=True
    ).first()


def _require_active(person: Person) -> None:
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"person": _("This file is not active: reactivate it first.")})


def age_warning(instrument: Instrument, person: Person | None) -> str:
    """A note when the person's age is outside the instrument's validated range."""
    if person is None or person.birth_date is None:
        return ""
    age = person.age(timezone.localdate())
    limits = instrument.meta.get("age") or {}
    low, high = limits.get("min"), limits.get("max")
    if age is None or ((low is None or age >= low) and (high is None or age <= high)):
        return ""
    values = {"instrument": instrument.code.upper(), "low": low, "high": high, "age": age}
    if high is None:
        return _("%(instrument)s is validated from age %(low)s; this person is %(age)d.") % values
    return (
        _("%(instrument)s is validated for ages %(low)s–%(high)s; this person is %(age)d.") % values
    )


@transaction.atomic
def record_assessment(
    *,
    acting_user: Any,
    person: Person,
    instrument: str,
    answers: Sequence[int | None],
    language: str = "zh",
) -> Assessment:
    """An assessment administered by staff (R-ASSESS). Consent first (R-CONSENT: raises
    ``ConsentMissing`` without it); bad answers raise ValidationError naming the item."""
    require(acting_user, Action.ASSESSMENT_ADMINISTER, person.unit)
    definition = instrument_or_error(instrument)
    _require_active(person)
    require_consent(person, ConsentPurpose.ASSESSMENT)
    result = _score(definition, answers)
    with acting(acting_user):
        assessment = Assessment(
            person=person,
            unit=person.unit,
            instrument=definition.code,
            instrument_version=str(definition.meta.get("version") or ""),
            mode=AssessmentMode.STAFF,
            language="zh" if language.startswith("zh") else "en",
            answers=list(answers),
            consent=_consent_in_force(person),
            administered_by=acting_user,
        )
        _apply(assessment, result)
        assessment.save()
    _after_completion(assessment, acting_user)
    return assessment


@transaction.atomic
def mark_entered_in_error(*, acting_user: Any, assessment: Assessment, reason: str) -> Assessment:
    """Withdraw a result entered by mistake; it stays on record (FHIR "entered-in-error")."""
    if assessment.person is not None:
        require(acting_user, Action.ASSESSMENT_ADMINISTER, assessment.person.unit)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the result is wrong.")})
    if AssessmentStatus.ENTERED_IN_ERROR not in Assessment.TRANSITIONS[assessment.status]:
        raise ValidationError({"status": _("Only a completed assessment can be withdrawn.")})
    assessment.status = AssessmentStatus.ENTERED_IN_ERROR
    assessment.error_reason = reason[:200]
    assessment.marked_in_error_by = acting_user
    assessment.marked_in_error_at = timezone.now()
    with acting(acting_user):
        assessment.save(
            update_fields=[
                "status",
                "error_reason",
                "marked_in_error_by",
                "marked_in_error_at",
                "updated_at",
            ]
        )
    if assessment.person is not None:
        record_event(
            person=assessment.person,
            kind=EventKind.ASSESSMENT,
            actor=acting_user,
            obj=assessment,
            summary=_("%(instrument)s withdrawn: entered in error")
            % {"instrument": assessment.instrument.upper()},
        )
    return assessment


def erase_answers(person: Person) -> None:
    """Erasure of a file (PIPL Art. 47): the item answers go, the scores stay for statistics;
    the person's open links stop working."""
    Assessment.objects.filter(person=person).update(answers=[], error_reason="")
    Invitation.objects.filter(person=person, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# --- invitations and campaigns ------------------------------------------------------------


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, blind_index(token, TOKEN_PURPOSE)


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


@transaction.atomic
def invite_person(
    *,
    acting_user: Any,
    person: Person,
    instrument: str,
    valid_days: int = DEFAULT_INVITATION_DAYS,
) -> Invitation:
    """A single-use self-assessment link for one person's file. Consent is asked for on the
    person's phone, before the first question."""
    require(acting_user, Action.ASSESSMENT_INVITE, person.unit)
    definition = instrument_or_error(instrument)
    _require_active(person)
    if not 1 <= valid_days <= MAX_INVITATION_DAYS:
        raise ValidationError(
            {"valid_days": _("A link is valid for 1 to %(n)d days.") % {"n": MAX_INVITATION_DAYS}}
        )
    token, index = _new_token()
    with acting(acting_user):
        invitation = Invitation.objects.create(
            unit=person.unit,
            instrument=definition.code,
            person=person,
            token=token,
            token_index=index,
            expires_at=_end_of(timezone.localdate() + timedelta(days=valid_days)),
            created_by=acting_user,
        )
    return invitation


@transaction.atomic
def create_campaign(
    *,
    acting_user: Any,
    unit: Unit,
    title: str,
    instrument: str,
    closes_on: date,
    anonymous: bool,
    expected_count: int | None = None,
    people: Iterable[Person] = (),
) -> Campaign:
    """A campaign for a unit: one personal link per listed person, or (anonymous) one open
    link for everyone, whose answers are seen only as aggregates."""
    require(acting_user, Action.ASSESSMENT_INVITE, unit)
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit is deactivated.")})
    definition = instrument_or_error(instrument)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the campaign a title.")})
    today = timezone.localdate()
    if closes_on < today:
        raise ValidationError({"closes_on": _("The closing date is in the past.")})
    if closes_on > today + timedelta(days=MAX_CAMPAIGN_DAYS):
        raise ValidationError(
            {"closes_on": _("A campaign runs for at most %(n)d days.") % {"n": MAX_CAMPAIGN_DAYS}}
        )
    chosen = list(people)
    if anonymous:
        if chosen:
            raise ValidationError({"people": _("An anonymous campaign has no list of people.")})
        if expected_count is None or expected_count < 1:
            raise ValidationError(
                {"expected_count": _("Say how many people are invited (at least 1).")}
            )
    else:
        if not chosen:
            raise ValidationError({"people": _("Choose the people to invite.")})
        if len(chosen) > MAX_CAMPAIGN_PEOPLE:
            raise ValidationError(
                {"people": _("At most %(n)d people per campaign.") % {"n": MAX_CAMPAIGN_PEOPLE}}
            )
        for person in chosen:
            if not person.unit.is_within(unit) or person.status != FileStatus.ACTIVE:
                raise ValidationError(
                    {"people": _("Everyone invited must have an active file in this unit.")}
                )
        expected_count = len(chosen)
    with acting(acting_user):
        campaign = Campaign.objects.create(
            unit=unit,
            title=title[:100],
            instrument=definition.code,
            anonymous=anonymous,
            expected_count=expected_count,
            closes_at=_end_of(closes_on),
            created_by=acting_user,
        )
        targets: list[Person | None] = [None] if anonymous else list(chosen)
        invitations = []
        for target in targets:
            token, index = _new_token()
            invitations.append(
                Invitation(
                    unit=target.unit if target is not None else unit,
                    instrument=definition.code,
                    person=target,
                    campaign=campaign,
                    token=token,
                    token_index=index,
                    expires_at=campaign.closes_at,
                    created_by=acting_user,
                )
            )
        Invitation.objects.bulk_create(invitations)
    return campaign


@transaction.atomic
def close_campaign(*, acting_user: Any, campaign: Campaign) -> Campaign:
    """Close a campaign: its links stop working; what was answered stays."""
    require(acting_user, Action.ASSESSMENT_INVITE, campaign.unit)
    if CampaignStatus.CLOSED not in Campaign.TRANSITIONS[campaign.status]:
        raise ValidationError({"status": _("This campaign is already closed.")})
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    with acting(acting_user):
        campaign.save(update_fields=["status", "closed_at"])
    return campaign


@transaction.atomic
def revoke_invitation(*, acting_user: Any, invitation: Invitation) -> Invitation:
    require(acting_user, Action.ASSESSMENT_INVITE, invitation.unit)
    if invitation.revoked_at is not None:
        raise ValidationError({"invitation": _("This link has already been revoked.")})
    invitation.revoked_at = timezone.now()
    with acting(acting_user):
        invitation.save(update_fields=["revoked_at"])
    return invitation


# --- self-service (the respondent's phone; nobody is signed in) -----------------------------


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation behind ``token``, usable or not. The respondent's every page comes
    through here: one indexed query (the person and the unit are loaded only where a page
    needs them)."""
    token = (token or "").strip()
    if not 16 <= len(token) <= 64:
        return None
    invitation = (
        Invitation.objects.select_related("campaign")
        .annotate(person_status=F("person__status"))
        .filter(token_index__in=blind_indexes(token, TOKEN_PURPOSE))
        .first()
    )
    if invitation is None or not secrets.compare_digest(invitation.token, token):
        return None
    return invitation


def find_invitation(token: str) -> Invitation:
    """The usable invitation behind ``token``, or InvitationUnavailable with the reason."""
    invitation = invitation_by_token(token)
    if invitation is None:
        raise InvitationUnavailable("unknown")
    if invitation.revoked_at is not None:
        raise InvitationUnavailable("revoked")
    campaign = invitation.campaign
    if campaign is not None and campaign.status == CampaignStatus.CLOSED:
        raise InvitationUnavailable("closed")
    if invitation.expires_at <= timezone.now():
        raise InvitationUnavailable("expired")
    person_status = invitation.person_status  # type: ignore[attr-defined]
    if person_status is not None and person_status != FileStatus.ACTIVE:
        raise InvitationUnavailable("revoked")
    if invitation.used_at is not None:
        raise InvitationUnavailable("used")
    return invitation


def resumable(invitation: Invitation, resume_key: str) -> Assessment | None:
    """The respondent's unfinished assessment on this link, if any. A personal link resumes
    on any device (the link is the person's); an open link only in the same browser."""
    mine = Assessment.objects.filter(invitation=invitation, status=AssessmentStatus.IN_PROGRESS)
    if invitation.person_id is None:
        if not resume_key:
            return None
        mine = mine.filter(resume_digest=digest_token(resume_key))
    return mine.first()


def needs_guardian(invitation: Invitation) -> bool:
    """PIPL Art. 31: a child under 14 takes part only with a guardian's consent."""
    person = invitation.person
    if person is None or person.birth_date is None:
        return False
    age = person.age(timezone.localdate())
    return age is not None and age < GUARDIAN_CONSENT_BELOW_AGE


@transaction.atomic
def begin_self_assessment(
    *,
    invitation: Invitation,
    respondent: str,
    resume_key: str,
    guardian_name: str = "",
    language: str = "zh",
) -> Assessment:
    """The respondent has read the consent text and agreed: record the consent (on the file,
    for a personal link) and open the assessment, unanswered."""
    if invitation.person_id is not None:
        # A personal link is single-use: two tabs starting at once must not both open one.
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("person", "campaign", "unit")
            .get(pk=invitation.pk)
        )
    if respondent not in Respondent.values:
        raise ValidationError({"respondent": _("Say who is answering.")})
    guardian_name = (guardian_name or "").strip()
    if needs_guardian(invitation) and respondent != Respondent.GUARDIAN:
        raise ValidationError(
            {
                "respondent": _(
                    "You are under 14: please ask your parent or guardian to read this with you "
                    "and agree."
                )
            }
        )
    existing = resumable(invitation, resume_key)
    if existing is not None:
        return existing
    if invitation.person is not None and invitation.assessments.exists():
        raise InvitationUnavailable("used")
    person = invitation.person
    consent = None
    if person is not None:
        if respondent == Respondent.GUARDIAN and not guardian_name:
            raise ValidationError({"guardian_name": _("Enter the guardian's name.")})
        consent = _consent_in_force(person) or record_consent_on_screen(
            person=person,
            purpose=ConsentPurpose.ASSESSMENT,
            given_by="guardian" if respondent == Respondent.GUARDIAN else "self",
            guardian_name=guardian_name,
        )
    definition = invitation.instrument_definition
    try:
        with transaction.atomic():
            return Assessment.objects.create(
                person=person,
                unit=person.unit if person is not None else invitation.unit,
                instrument=definition.code,
                instrument_version=str(definition.meta.get("version") or ""),
                mode=AssessmentMode.SELF_SERVICE,
                language="zh" if language.startswith("zh") else "en",
                answers=[None] * len(definition.items),
                respondent=respondent,
                consent=consent,
                invitation=invitation,
                campaign=invitation.campaign,
                resume_digest=digest_token(resume_key) if resume_key else "",
            )
    except IntegrityError as exc:  # a second tab raced this one on a personal link
        raise InvitationUnavailable("used") from exc


def move_to_browser(*, assessment: Assessment, resume_key: str) -> Assessment:
    """A personal link's unfinished assessment, continued in another browser."""
    assessment.resume_digest = digest_token(resume_key)
    assessment.save(update_fields=["resume_digest", "updated_at"])
    return assessment


@transaction.atomic
def save_answer(
    *, assessment: Assessment, number: int, value: int | None, skipped: bool = False
) -> Assessment:
    """One answer on the respondent's phone, to the current question or one before it (after
    going back). ``skipped`` leaves an optional question empty. Moves on to the next one; the
    answer to the last question finishes the assessment in the same transaction (scored on
    the server, with its risk signal and any crisis alert: the submission)."""
    assessment = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("person__unit", "unit", "invitation")
        .get(pk=assessment.pk)
    )
    if assessment.status != AssessmentStatus.IN_PROGRESS:
        raise ValidationError({"answers": _("This assessment is already finished.")})
    items = assessment.instrument_definition.items
    if not 1 <= number <= min(assessment.position + 1, len(items)):
        raise ValidationError({"item": _("There is no such question.")})
    item = items[number - 1]
    if skipped:
        if not item.optional:
            raise ValidationError({"answer": _("Question %(n)d needs an answer.") % {"n": number}})
        value = None
    elif value is None or value not in item.values:
        raise ValidationError({"answer": _("Choose one of the answers.")})
    answers = list(assessment.answers)
    answers[number - 1] = value
    if number == len(items):  # the last question: the submission
        assessment.answers = answers
        assessment.position = number
        _complete(assessment)
        return assessment
    with change_logged([assessment]):
        assessment.answers = answers
        assessment.position = number
        assessment.save(update_fields=["answers", "position", "updated_at"])
    return assessment


@transaction.atomic
def step_back(*, assessment: Assessment) -> Assessment:
    """Back to the previous question (its answer is kept and shown)."""
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.status == AssessmentStatus.IN_PROGRESS and assessment.position > 0:
        assessment.position -= 1
        assessment.save(update_fields=["position", "updated_at"])
    return assessment


@transaction.atomic
def finish_self_assessment(*, assessment: Assessment) -> Assessment:
    """Score the completed answers on the server and close the link if it was personal."""
    assessment = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("person__unit", "unit", "invitation")
        .get(pk=assessment.pk)
    )
    if assessment.status == AssessmentStatus.IN_PROGRESS:
        _complete(assessment)
    return assessment


def _complete(assessment: Assessment) -> None:
    """Score a self-assessment read under its lock, close a personal link, and act on the
    result (timeline, risk signal) — each row written once, the change log kept."""
    definition = assessment.instrument_definition
    answers = list(assessment.answers)
    while answers and answers[-1] is None and definition.items[len(answers) - 1].optional:
        answers.pop()
    result = _score(definition, answers)
    invitation = assessment.invitation
    if invitation is not None and invitation.person_id is None:
        invitation = None  # an open link stays open; a personal one is used once
    changed: list[Model] = [assessment] if invitation is None else [assessment, invitation]
    with change_logged(changed):
        _apply(assessment, result)
        assessment.save()
        if invitation is not None:
            invitation.used_at = assessment.completed_at
            invitation.save(update_fields=["used_at"])
    _after_completion(assessment, None)


# --- the public portal (issue #8 item 4): anonymous, no link, no campaign ------------------


def portal_resumable(unit: Unit, resume_key: str) -> Assessment | None:
    """The portal visitor's latest assessment in this browser on ``unit``'s portal (found only
    through the resume key: nobody else can reach it), unfinished or finished."""
    if not resume_key:
        return None
    return (
        Assessment.objects.filter(
            channel=AssessmentChannel.PORTAL,
            unit=unit,
            resume_digest=digest_token(resume_key),
        )
        .exclude(status=AssessmentStatus.ENTERED_IN_ERROR)
        .order_by("-started_at")
        .first()
    )


@transaction.atomic
def begin_portal_assessment(
    *,
    unit: Unit,
    instrument: str,
    respondent: str,
    resume_key: str,
    under_14: bool,
    language: str = "zh",
) -> Assessment:
    """An anonymous self-assessment on ``unit``'s portal (issue #8 item 4): no name, no birth
    date, no file. The visitor has read what happens to the answers and agreed; a child under
    14 only with a parent or guardian (PIPL Art. 31: the visitor says so, nothing else is
    asked). Answered with ``save_answer`` / ``step_back`` / ``finish_self_assessment``."""
    definition = instrument_or_error(instrument)
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit is deactivated.")})
    if respondent not in Respondent.values:
        raise ValidationError({"respondent": _("Say who is answering.")})
    if under_14 and respondent != Respondent.GUARDIAN:
        raise ValidationError(
            {
                "respondent": _(
                    "You are under 14: please ask your parent or guardian to read this with you "
                    "and agree."
                )
            }
        )
    if not resume_key:
        raise ValueError("a portal assessment needs a resume key")
    existing = portal_resumable(unit, resume_key)
    if (
        existing is not None
        and existing.status == AssessmentStatus.IN_PROGRESS
        and existing.instrument == definition.code
    ):
        return existing
    return Assessment.objects.create(
        person=None,
        unit=unit,
        instrument=definition.code,
        instrument_version=str(definition.meta.get("version") or ""),
        mode=AssessmentMode.SELF_SERVICE,
        channel=AssessmentChannel.PORTAL,
        language="zh" if language.startswith("zh") else "en",
        answers=[None] * len(definition.items),
        respondent=respondent,
        resume_digest=digest_token(resume_key),
    )


@transaction.atomic
def request_assessment_callback(*, assessment: Assessment, phone: str, note: str = "") -> Any:
    """The call-back offered by a serious portal result (issue #8 item 4: "after a severe
    self-assessment result the page offers an immediate call-back"): once per assessment, and
    only for a completed serious one. Returns the ``hotline.CallbackRequest``; ValidationError
    on ``phone``/``note`` (nothing written) or on ``assessment``."""
    from xinqiao.assessments.interpretation import is_serious
    from xinqiao.hotline.callbacks import request_callback
    from xinqiao.hotline.models import CallbackRequest, CallbackSource

    # Locked: two taps on the button must not leave two requests.
    assessment = (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=assessment.pk)
    )
    if assessment.status != AssessmentStatus.COMPLETED or not is_serious(assessment):
        raise ValidationError({"assessment": _("A call-back is offered after a serious result.")})
    if CallbackRequest.objects.filter(assessment=assessment).exists():
        raise ValidationError(
            {"assessment": _("You have already asked for a call-back: we will call you soon.")}
        )
    return request_callback(
        unit=assessment.unit,
        phone=phone,
        source=CallbackSource.SELF_ASSESSMENT,
        note=note,
        assessment=assessment,
    )
