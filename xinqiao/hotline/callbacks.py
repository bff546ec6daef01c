"""Call-back requests left on the portal (issue #8 item 2), the hotline's most urgent queue.

``request_callback`` is the one way a request is made: by the portal's crisis path ("I need
help now" → leave a number) and by a self-assessment result page that offers a call-back.
The number is validated and normalised (people.idcard), stored encrypted with the blind index
of person files, and the note beside it is triaged like a mailbox message.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xinqiao.assessments.models import Assessment
from xinqiao.hotline.models import CallbackRequest, CallbackSource
from xinqiao.orgs.models import Unit
from xinqiao.people.actions import phone_index
from xinqiao.people.idcard import InvalidNumber, normalise_phone

MAX_NOTE = 1000


def clean_phone(value: str) -> str:
    """A mobile or landline number, normalised; ValidationError on ``phone`` otherwise."""
    if not (value or "").strip():
        raise ValidationError({"phone": _("Enter the number we should call.")})
    try:
        return normalise_phone(value)
    except InvalidNumber:
        raise ValidationError(
            {"phone": _("This does not look like a phone number. Check the digits.")}
        ) from None


def request_callback(
    *,
    unit: Unit,
    phone: str,
    source: str,
    note: str = "",
    assessment: Assessment | None = None,
) -> CallbackRequest:
    """Record a request for the hotline to call ``phone`` back; it waits in the call-back
    queue of the hotline centres serving ``unit``."""
    if source not in CallbackSource.values:
        raise ValueError(source)
    number = clean_phone(phone)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            {"note": _("Please keep it under %(n)d characters.") % {"n": MAX_NOTE}}
        )
    from xinqiao.hotline.text import triage_text

    risk = triage_text(note).risk if note else "none"
    with transaction.atomic():
        return CallbackRequest.objects.create(
            unit=unit,
            source=source,
            phone=number,
            phone_index=phone_index(number),
            note=note,
            text_risk=risk,
            assessment=assessment,
        )
