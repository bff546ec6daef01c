"""Writes of the worry mailbox and online consultation (R-MAILBOX; seed 003; seed 002 篇2
三(三)1 网络咨询). Keyword-only, one transaction each, validation before any write.

* A writer's message (``submit``) and follow-up (``follow_up``) pass text triage
  (``xinqiao.hotline.triage``) before they are queued: the thread keeps the highest level seen
  (``text_risk``), the signals of its first message (kinds and spans only) and its queue
  priority (0 high, 1 medium, 2 the rest). ``high`` raises a crisis alert at once through
  ``crisis.raise_contact_signal`` on an unnamed file at the unit (R-CRISIS).
* The writer holds a reference code (16 base32 characters, 80 bits from ``secrets``) shown
  once; only its digest is stored (``xinqiao.lib.crypto.digest_token``).
* Staff moves (claim, release, answer, close) go through ``MailboxMessage.TRANSITIONS`` under
  ``select_for_update`` so two counsellors cannot both take one message.

Bad input raises ``ValidationError`` naming the field. Nothing here logs message text.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.hotline import crisis
from xinqiao.hotline.categories import GROUPS
from xinqiao.hotline.models import (
    AgeBand,
    MailboxMessage,
    MailboxReply,
    MessageKind,
    MessageStatus,
    TextRisk,
)
from xinqiao.hotline.text import triage_text
from xinqiao.lib.crypto import digest_token
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import TargetGroup
from xinqiao.risk.models import SignalSource

# Limits of what a writer may send (characters). A message longer than MAX_BODY is refused
# with the field named, never cut.
MAX_BODY = 5000
MAX_SUBJECT = 200
MAX_CONTACT = 100
MAX_ANSWER = 10000

# Units that take messages: those where people are served by counsellors (communities,
# streets, service stations 心灵驿站, hotline centres, schools, isolation sites; seed 002 篇6
# 三(二)2, 三(三)2, 三(五)2). Districts, the city, hospitals and civil-affairs offices do not.
ACCEPTING_KINDS: frozenset[str] = frozenset(
    {
        UnitKind.COMMUNITY,
        UnitKind.STREET,
        UnitKind.SERVICE_STATION,
        UnitKind.HOTLINE_CENTRE,
        UnitKind.SCHOOL,
        UnitKind.ISOLATION_SITE,
    }
)

# The reference code: RFC 4648 base32 alphabet, 16 characters = 80 bits, shown in 4 groups.
CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CODE_LENGTH = 16
# Characters people mistype for base32 ones (0/O, 1/I, 8/B): read as the letter.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

RISK_ORDER: dict[str, int] = {"none": 0, "low": 1, "medium": 2, "high": 3}


def priority_of(risk: str) -> int:
    """Queue order: 0 high, 1 medium, 2 the rest (issue #7: medium comes first in the queue
    after high)."""
    order: dict[str, int] = {TextRisk.HIGH: 0, TextRisk.MEDIUM: 1}
    return order.get(risk, 2)


def higher(a: str, b: str) -> str:
    return a if RISK_ORDER.get(a, 0) >= RISK_ORDER.get(b, 0) else b


# --- reference codes --------------------------------------------------------------------------


def new_code() -> str:
    """A fresh reference code, ``ABCD-EFGH-IJKL-MNOP``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    """The code as typed, without spaces or dashes, upper case, lookalike digits read as
    letters; "" if it cannot be a code."""
    cleaned = re.sub(r"[\s\-_.·]", "", text or "").upper().translate(_LOOKALIKES)
    if len(cleaned) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return ""
    return cleaned


def code_digest(code: str) -> str:
    return digest_token("mailbox:" + normalise_code(code))


def find_thread(code: str) -> MailboxMessage | None:
    """The thread of ``code``, or None (the same answer for a malformed and a wrong code)."""
    normalised = normalise_code(code)
    if not normalised:
        return None
    return (
        MailboxMessage.objects.select_related("unit")
        .filter(code_digest=code_digest(normalised))
        .first()
    )


def _new_number() -> str:
    return "M-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(6))


# --- units --------------------------------------------------------------------------------------


def find_unit(ref: str) -> Unit:
    """The active unit that takes messages, by its administrative code or id; 404 otherwise."""
    ref = (ref or "").strip()
    queryset = Unit.objects.filter(is_active=True, kind__in=ACCEPTING_KINDS)
    unit = queryset.filter(code=ref).first() if ref else None
    if unit is None:
        try:
            unit = queryset.filter(pk=ref).first()
        except (ValueError, ValidationError):
            unit = None
    if unit is None:
        raise Http404
    return unit


def streets_for(unit: Unit) -> list[Unit]:
    """The streets of the unit's city (the writer may say where they live; used for trends)."""
    city_path = "/" + unit.path.strip("/").split("/")[0] + "/"
    return list(
        Unit.objects.filter(
            kind=UnitKind.STREET, is_active=True, path__startswith=city_path
        ).order_by("path")
    )


# --- triage ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    risk: str
    signals: list[dict[str, Any]]


def screen(*, body: str, subject: str = "") -> Screened:
    """Triage of a writer's text: the higher level of subject and body; the signals with the
    field they were found in (spans index that field's text)."""
    risk: str = TextRisk.NONE
    signals: list[dict[str, Any]] = []
    for field, text in (("subject", subject), ("body", body)):
        if not text.strip():
            continue
        result = triage_text(text).as_json()  # the stable contract (DESIGN.md "Text triage")
        level = str(result["risk"])
        risk = higher(level, risk) if level in RISK_ORDER else risk
        for signal in result["signals"]:
            start, end = (int(v) for v in signal["span"])
            signals.append({"kind": str(signal["kind"]), "span": [start, end], "field": field})
    return Screened(risk=str(risk), signals=signals)


# --- the writer -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    phone: str = ""
    email: str = ""
    wechat: str = ""

    def encode(self) -> str:
        pairs = (("phone", self.phone), ("email", self.email), ("wechat", self.wechat))
        values = {k: v for k, v in pairs if v}
        return json.dumps(values, ensure_ascii=False) if values else ""

    @classmethod
    def decode(cls, text: str) -> Contact:
        if not text:
            return cls()
        try:
            values = json.loads(text)
        except ValueError:
            return cls(phone=text)
        if not isinstance(values, dict):
            return cls()
        return cls(
            phone=str(values.get("phone", "")),
            email=str(values.get("email", "")),
            wechat=str(values.get("wechat", "")),
        )

    def __bool__(self) -> bool:
        return bool(self.phone or self.email or self.wechat)


def _clean_body(body: str, field: str = "body", limit: int = MAX_BODY) -> str:
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise ValidationError({field: _("The text contains characters that cannot be stored.")})
    if not text.strip():
        raise ValidationError({field: _("Please write your message.")})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _(
                    "The message is too long: at most %(limit)d characters (it has %(n)d). "
                    "Please shorten it or send it in two parts."
                )
                % {"limit": limit, "n": len(text)}
            }
        )
    return text.strip()


def _raise_alert(message: MailboxMessage, obj: Any) -> None:
    """The crisis alert of a high-risk text (R-CRISIS), at once, on an unnamed file at the
    unit (or the file the thread already has)."""
    _signal, person, alert = crisis.raise_contact_signal(
        obj=obj,
        unit=message.unit,
        person=message.person,
        source=SignalSource.MAILBOX,
        facts={"text_risk": "high"},
        actor=None,
        unnamed_label=f"匿名来信 {message.number}",
    )
    message.person = person
    if alert is not None:
        message.alert = alert


def submit(
    *,
    unit: Unit,
    body: str,
    kind: str = MessageKind.MAILBOX,
    subject: str = "",
    contact: Contact | None = None,
    age_band: str = AgeBand.UNKNOWN,
    writer_group: str = "",
    area: Unit | None = None,
) -> tuple[MailboxMessage, str]:
    """Store a writer's message, triaged; returns it and the reference code (shown once)."""
    if unit.kind not in ACCEPTING_KINDS or not unit.is_active:
        raise Http404
    body = _clean_body(body)
    subject = (subject or "").strip()
    if len(subject) > MAX_SUBJECT:
        raise ValidationError(
            {
                "subject": _("The subject is too long: at most %(limit)d characters.")
                % {"limit": MAX_SUBJECT}
            }
        )
    if kind not in MessageKind.values:
        raise ValidationError({"kind": _("Choose the worry mailbox or an online consultation.")})
    if age_band not in AgeBand.values:
        raise ValidationError({"age_band": _("Choose an age band from the list.")})
    if writer_group and writer_group not in TargetGroup.values:
        raise ValidationError({"writer_group": _("Choose a group from the list.")})
    if area is not None and area.pk not in {s.pk for s in streets_for(unit)}:
        raise ValidationError({"area": _("Choose a street from the list.")})
    encoded_contact = (contact or Contact()).encode()
    screened = screen(body=body, subject=subject)
    now = timezone.now()
    for _attempt in range(5):
        code = new_code()
        try:
            with transaction.atomic():
                message = MailboxMessage.objects.create(
                    number=_new_number(),
                    code_digest=code_digest(code),
                    unit=unit,
                    kind=kind,
                    subject=subject,
                    body=body,
                    contact=encoded_contact,
                    writer_group=writer_group,
                    age_band=age_band,
                    area=area,
                    text_risk=screened.risk,
                    signals=screened.signals,
                    priority=priority_of(screened.risk),
                    last_writer_at=now,
                )
                if screened.risk == TextRisk.HIGH:
                    _raise_alert(message, message)
                    message.save(update_fields=["person", "alert"])
            return message, code
        except IntegrityError:
            continue  # a number collision (1 in 10^9): draw again
    raise RuntimeError("could not draw a unique message number")


def follow_up(*, message: MailboxMessage, body: str) -> MailboxReply:
    """The writer writes again: triaged; an answered thread goes back to the queue."""
    body = _clean_body(body)
    screened = screen(body=body)
    with transaction.atomic():
        locked = (
            MailboxMessage.objects.select_for_update().select_related("unit").get(pk=message.pk)
        )
        if locked.status == MessageStatus.CLOSED:
            raise ValidationError(
                {"body": _("This conversation is closed. You can write a new message.")}
            )
        reply = MailboxReply.objects.create(message=locked, body=body, text_risk=screened.risk)
        was_high = locked.text_risk == TextRisk.HIGH
        locked.text_risk = higher(locked.text_risk, screened.risk)
        locked.priority = priority_of(locked.text_risk)
        locked.last_writer_at = timezone.now()
        if locked.status == MessageStatus.ANSWERED:
            _move(locked, MessageStatus.QUEUED)
            locked.assigned_to = None
        if screened.risk == TextRisk.HIGH:
            # A new crisis on the thread: raise it on this follow-up (one signal per object).
            _raise_alert(locked, reply if was_high else locked)
        locked.save()
    message.refresh_from_db()
    return reply


def thread(message: MailboxMessage) -> list[dict[str, Any]]:
    """The writer's view of the thread: their texts and the answers, oldest first."""
    entries: list[dict[str, Any]] = [
        {"from_writer": True, "body": message.body, "at": message.created_at}
    ]
    for reply in message.replies.all().order_by("created_at"):
        entries.append(
            {"from_writer": reply.from_writer, "body": reply.body, "at": reply.created_at}
        )
    return entries


# --- staff ---------------------------------------------------------------------------------


def _move(message: MailboxMessage, to: str) -> None:
    allowed = MailboxMessage.TRANSITIONS.get(message.status, frozenset())
    if to not in allowed:
        raise ValidationError(
            {
                "status": _("A message that is “%(from)s” cannot become “%(to)s”.")
                % {
                    "from": MessageStatus(message.status).label,
                    "to": MessageStatus(to).label,
                }
            }
        )
    message.status = to


def _locked(acting_user: Any, message: MailboxMessage) -> MailboxMessage:
    if not can(acting_user, Action.MAILBOX_ANSWER, message.unit):
        raise Http404
    return MailboxMessage.objects.select_for_update().select_related("unit").get(pk=message.pk)


def _taken_by_other(locked: MailboxMessage, acting_user: Any) -> bool:
    return (
        locked.status == MessageStatus.IN_PROGRESS
        and locked.assigned_to_id is not None
        and locked.assigned_to_id != acting_user.pk
    )


def _taken_error(locked: MailboxMessage) -> ValidationError:
    name = getattr(locked.assigned_to, "name", "") or getattr(locked.assigned_to, "username", "")
    return ValidationError(
        {"status": _("%(name)s is already answering this message.") % {"name": name}}
    )


def claim(*, acting_user: Any, message: MailboxMessage) -> MailboxMessage:
    """ "I'll answer this": the message is being answered by ``acting_user``."""
    with transaction.atomic(), acting(acting_user):
        locked = _locked(acting_user, message)
        if _taken_by_other(locked, acting_user):
            raise _taken_error(locked)
        if locked.status == MessageStatus.IN_PROGRESS:
            return locked  # already mine
        _move(locked, MessageStatus.IN_PROGRESS)
        locked.assigned_to = acting_user
        locked.save(update_fields=["status", "assigned_to"])
    return locked


def release(*, acting_user: Any, message: MailboxMessage) -> MailboxMessage:
    """Back to the queue, for someone else to answer."""
    with transaction.atomic(), acting(acting_user):
        locked = _locked(acting_user, message)
        _move(locked, MessageStatus.QUEUED)
        locked.assigned_to = None
        locked.save(update_fields=["status", "assigned_to"])
    return locked


def answer(*, acting_user: Any, message: MailboxMessage, body: str) -> MailboxReply:
    """The counsellor's answer: the writer sees it with their code."""
    body = _clean_body(body, field="answer", limit=MAX_ANSWER)
    with transaction.atomic(), acting(acting_user):
        locked = _locked(acting_user, message)
        if _taken_by_other(locked, acting_user):
            raise _taken_error(locked)
        if locked.status == MessageStatus.QUEUED:
            _move(locked, MessageStatus.IN_PROGRESS)
        _move(locked, MessageStatus.ANSWERED)
        reply = MailboxReply.objects.create(message=locked, author=acting_user, body=body)
        locked.assigned_to = acting_user
        locked.answered_at = timezone.now()
        locked.save(update_fields=["status", "assigned_to", "answered_at"])
    return reply


def set_category(*, acting_user: Any, message: MailboxMessage, category: str) -> MailboxMessage:
    """The first-level problem category (``xinqiao.hotline.categories``), or none."""
    if category and category not in GROUPS:
        raise ValidationError({"category": _("Choose a category from the list.")})
    with transaction.atomic(), acting(acting_user):
        locked = _locked(acting_user, message)
        locked.category = category
        locked.save(update_fields=["category"])
    return locked


def close(*, acting_user: Any, message: MailboxMessage) -> MailboxMessage:
    """Closed: the writer can read the thread but no longer write to it."""
    with transaction.atomic(), acting(acting_user):
        locked = _locked(acting_user, message)
        _move(locked, MessageStatus.CLOSED)
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
    return locked
