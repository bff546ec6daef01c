"""Light accounts of the public portal (issue #8 item 5) and "my page".

Nothing is needed to read, to assess anonymously or to write to the mailbox. A visitor who
wants to see their own bookings, messages and results signs in with a mobile number and a
one-time code sent through the SMS adapter (``xinqiao.portal.sms``; the console in the embedded
default). The rules:

* A number gets at most XINQIAO_CODES_PER_HOUR codes an hour, a client address
  ``CODE_REQUESTS_PER_HOUR`` requests; the page answers the same whether or not the number
  had an account (no enumeration).
* A code is valid XINQIAO_CODE_MINUTES; XINQIAO_CODE_TRIES wrong entries void it; repeated
  failures lock the number for XINQIAO_CODE_LOCK_MINUTES (``xinqiao.portal.otp``).
* Signing in rotates the session id (``cycle_key``); the account stays signed in for
  ``IDLE_DAYS`` without use, until "sign out".
* Every read on "my page" starts from the signed-in account: another account's item is a 404.

Numbers are stored encrypted with a blind index; codes only as a keyed digest. Nothing here
logs a number or a code.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import URLPattern
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.fields import blind_index
from xinqiao.people.actions import phone_index
from xinqiao.people.idcard import InvalidNumber, normalise_phone
from xinqiao.portal import otp, sms
from xinqiao.portal.models import (
    AccountAssessment,
    AccountMessage,
    PortalAccount,
    SignInCode,
)

if TYPE_CHECKING:
    from xinqiao.assessments.models import Assessment
    from xinqiao.hotline.models import MailboxMessage

# Session keys (nothing else about the visitor is kept in the session).
SESSION_ACCOUNT = "xq_portal_account"
SESSION_SEEN = "xq_portal_seen"
SESSION_PENDING = "xq_portal_pending"
# Signed in until this long without use (the session cookie lasts as long, unless a staff
# member is signed in on the same browser: then the staff session's shorter rules stay).
IDLE_DAYS = 30
# Code requests one client address may make an hour (on top of the per-number limit).
CODE_REQUESTS_PER_HOUR = 10
# Code entries one client address may make in ten minutes.
CODE_ENTRIES_PER_10_MIN = 20


# --- the signed-in account ---------------------------------------------------------------------


def current_account(request: HttpRequest) -> PortalAccount | None:
    """The signed-in light account, or None (not signed in, idle too long, or gone)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    account_id = session.get(SESSION_ACCOUNT)
    if not account_id:
        return None
    now = timezone.now()
    seen = session.get(SESSION_SEEN)
    if not isinstance(seen, (int, float)) or now.timestamp() - seen > IDLE_DAYS * 86400:
        sign_out(request)
        return None
    account = PortalAccount.objects.filter(pk=account_id).first()
    if account is None:
        sign_out(request)
        return None
    session[SESSION_SEEN] = int(now.timestamp())
    return account


def sign_in(request: HttpRequest, account: PortalAccount) -> None:
    """Put ``account`` in the session under a new session id (no fixation)."""
    request.session.cycle_key()
    request.session.pop(SESSION_PENDING, None)
    request.session[SESSION_ACCOUNT] = str(account.pk)
    request.session[SESSION_SEEN] = int(timezone.now().timestamp())
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        request.session.set_expiry(IDLE_DAYS * 86400)


def sign_out(request: HttpRequest) -> None:
    for key in (SESSION_ACCOUNT, SESSION_SEEN, SESSION_PENDING):
        request.session.pop(key, None)
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        request.session.cycle_key()
        request.session.set_expiry(None)


# --- codes --------------------------------------------------------------------------------------


class Locked(Exception):
    """The number is locked after repeated wrong codes, until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__("locked")
        self.until = until


class TooManyCodes(Exception):
    """The number had XINQIAO_CODES_PER_HOUR codes in the last hour."""


def clean_mobile(value: str) -> str:
    """A mainland mobile number, normalised; ValidationError on ``phone`` otherwise (codes go
    by SMS, so a landline cannot sign in)."""
    try:
        number = normalise_phone(value or "")
    except InvalidNumber:
        number = ""
    if not otp.is_mobile(number):
        raise ValidationError(
            {"phone": _("Enter a mobile number of 11 digits, e.g. 138 0000 0000.")}
        )
    return number


def _account_for(number: str) -> PortalAccount:
    index = phone_index(number)
    account = PortalAccount.objects.filter(phone_index=index).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PortalAccount.objects.create(phone=number, phone_index=index)
    except IntegrityError:  # created by a concurrent request a moment ago
        return PortalAccount.objects.get(phone_index=index)


def _digest(code_id: Any, code: str) -> str:
    return blind_index(f"{code_id}:{code}", "portal.signin_code")


def request_code(*, phone: str, language: str, now: datetime | None = None) -> PortalAccount:
    """Send a new code to ``phone`` (the account is opened on the first request: the caller
    answers the same for a new and a known number). Earlier codes of the number are void.
    Raises ValidationError on ``phone`` (not a mobile number; the SMS could not be sent),
    ``Locked`` or ``TooManyCodes``."""
    number = clean_mobile(phone)
    now = now or timezone.now()
    account = _account_for(number)
    code = otp.new_code()
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().get(pk=account.pk)
        if account.locked_until is not None and otp.is_locked(account.locked_until, now):
            raise Locked(account.locked_until)
        recent = SignInCode.objects.filter(account=account, created_at__gt=now - timedelta(hours=1))
        if recent.count() >= settings.XINQIAO_CODES_PER_HOUR:
            raise TooManyCodes()
        _void_open_codes(account, now)
        row = SignInCode(
            account=account,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.XINQIAO_CODE_MINUTES),
        )
        row.digest = _digest(row.id, code)
        row.save()
    try:
        sms.send_code(number, code, language)
    except sms.SmsError:
        SignInCode.objects.filter(pk=row.pk).update(voided_at=now)
        raise ValidationError(
            {"phone": _("We could not send the code just now. Please try again in a few minutes.")}
        ) from None
    return account


def _void_open_codes(account: PortalAccount, now: datetime) -> None:
    SignInCode.objects.filter(account=account, used_at__isnull=True, voided_at__isnull=True).update(
        voided_at=now
    )


@dataclass(frozen=True)
class CodeCheck:
    """The answer to one code entry: ``ok``, or why not (``wrong`` with ``void`` when that was
    the code's last try, ``none`` when there is no valid code, ``locked`` with ``until``)."""

    outcome: str
    void: bool = False
    until: datetime | None = None


def check_code(*, account: PortalAccount, code: str, now: datetime | None = None) -> CodeCheck:
    """Check an entered code against the account's open code. A wrong entry is counted (and
    saved) before the answer; a right one uses the code up and clears the failures."""
    now = now or timezone.now()
    entered = otp.normalise_code(code)
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().get(pk=account.pk)
        if otp.is_locked(account.locked_until, now):
            return CodeCheck("locked", until=account.locked_until)
        row = (
            SignInCode.objects.select_for_update()
            .filter(
                account=account, used_at__isnull=True, voided_at__isnull=True, expires_at__gt=now
            )
            .order_by("-created_at")
            .first()
        )
        if row is None:
            return CodeCheck("none")
        if entered and hmac.compare_digest(row.digest, _digest(row.id, entered)):
            row.used_at = now
            row.save(update_fields=["used_at"])
            account.failed_codes = 0
            account.last_sign_in_at = now
            account.save(update_fields=["failed_codes", "last_sign_in_at"])
            return CodeCheck("ok")
        step = otp.after_wrong(
            code_tries=row.tries,
            failed_codes=account.failed_codes,
            max_tries=settings.XINQIAO_CODE_TRIES,
            lock_minutes=settings.XINQIAO_CODE_LOCK_MINUTES,
            now=now,
        )
        row.tries = step.code_tries
        row.voided_at = now if step.void_code else None
        row.save(update_fields=["tries", "voided_at"])
        account.failed_codes = step.failed_codes
        if step.locked_until is not None:
            account.locked_until = step.locked_until
            _void_open_codes(account, now)
        account.save(update_fields=["failed_codes", "locked_until"])
        if step.locked_until is not None:
            return CodeCheck("locked", void=True, until=step.locked_until)
        return CodeCheck("wrong", void=step.void_code)


# --- links for the history -----------------------------------------------------------------------


def remember_assessment(*, account: PortalAccount, assessment: Assessment) -> None:
    """Link a self-assessment done while signed in to the account (idempotent)."""
    with transaction.atomic():
        AccountAssessment.objects.get_or_create(
            assessment=assessment, defaults={"account": account}
        )


def remember_message(*, account: PortalAccount, message: MailboxMessage) -> None:
    """Link a mailbox thread written while signed in to the account (idempotent)."""
    with transaction.atomic():
        AccountMessage.objects.get_or_create(message=message, defaults={"account": account})


urlpatterns: list[URLPattern] = []
