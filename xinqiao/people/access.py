"""Sensitive reads of person files: one place, 404 outside scope (DESIGN.md)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, require_confidentiality_agreement, scoped
from xinqiao.people.models import Consent, FileStatus, Person


def people_in_scope(user: Any, action: Action = Action.PERSON_VIEW) -> QuerySet[Person]:
    return scoped(Person.objects.select_related("unit__parent"), user, action)


def access_person(user: Any, person_id: Any, action: Action = Action.PERSON_VIEW) -> Person:
    """The file, if ``user`` may do ``action`` on it; 404 otherwise (missing or not theirs).
    Opening any file needs a confidentiality agreement in force (seed 002 篇6 二(四)).

    Outside scope, a break-glass grant in force lets its holder read (``PERSON_VIEW`` only) the
    one file it names; each such opening is access-logged with the grant's id
    (``xinqiao.people.breakglass``). One extra query, and only when the file is not in scope."""
    try:
        person = get_or_404(people_in_scope(user, action), person_id)
    except Http404:
        if action != Action.PERSON_VIEW:
            raise
        from xinqiao.people.breakglass import person_under_grant

        person = person_under_grant(user, person_id)
    require_confidentiality_agreement(user)
    return person


class ConsentMissing(Exception):
    """Raised when an action needs consent that is not on file (R-CONSENT)."""

    def __init__(self, purpose: str) -> None:
        from xinqiao.people.models import ConsentPurpose

        label = ConsentPurpose(purpose).label
        super().__init__(
            _(
                "No consent for %(purpose)s is on file for this person. Record the person's (or "
                "guardian's) consent first."
            )
            % {"purpose": label}
        )
        self.purpose = purpose


def has_consent(person: Person, purpose: str) -> bool:
    """Consent for ``purpose`` given and not withdrawn (seed 000 二(四) 知情同意、自愿)."""
    if person.status == FileStatus.ERASED:
        return False
    return Consent.objects.filter(
        person=person, purpose=purpose, withdrawn_at__isnull=True
    ).exists()


def require_consent(person: Person, purpose: str) -> None:
    if not has_consent(person, purpose):
        raise ConsentMissing(purpose)
