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
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from xinqiao.audit.log import client_ip
from xinqiao.booking.actions import cancel
from xinqiao.booking.models import Appointment
from xinqiao.fields import blind_index
from xinqiao.lib.idempotency import idempotent
from xinqiao.lib.ratelimit import hit
from xinqiao.people.actions import phone_index
from xinqiao.people.idcard import InvalidNumber, normalise_phone
from xinqiao.people.models import Person
from xinqiao.portal import otp, sms
from xinqiao.portal.models import (
    AccountAssessment,
    AccountMessage,
    AccountPerson,
    PortalAccount,
    PortalPage,
    SignInCode,
)
from xinqiao.portal.page import portal_view, render_portal

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


def account_for(number: str) -> PortalAccount:
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
    account = account_for(number)
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


# --- what "my page" shows (every read starts from the account) ---------------------------------


def account_people(account: PortalAccount) -> QuerySet[Person]:
    return Person.objects.filter(
        pk__in=AccountPerson.objects.filter(account=account).values("person")
    )


def account_appointments(account: PortalAccount) -> QuerySet[Appointment]:
    return Appointment.objects.filter(person__in=account_people(account)).select_related(
        "counsellor", "unit"
    )


def access_appointment(account: PortalAccount, appointment_id: Any) -> Appointment:
    """The account's own appointment; 404 for any other (the same as "does not exist")."""
    appointment = account_appointments(account).filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404
    return appointment


def account_messages(account: PortalAccount) -> QuerySet[MailboxMessage]:
    from xinqiao.hotline.models import MailboxMessage

    return (
        MailboxMessage.objects.filter(
            pk__in=AccountMessage.objects.filter(account=account).values("message")
        )
        .select_related("unit")
        .order_by("-created_at")
    )


def access_message(account: PortalAccount, message_id: Any) -> MailboxMessage:
    message = account_messages(account).filter(pk=message_id).first()
    if message is None:
        raise Http404
    return message


def account_results(account: PortalAccount) -> list[dict[str, Any]]:
    """Completed self-assessments with the kind respondent message (never a raw clinical label
    for a serious result: ``respondent_message`` leaves the label out then)."""
    from xinqiao.assessments.interpretation import respondent_message
    from xinqiao.assessments.models import Assessment, AssessmentStatus

    rows = Assessment.objects.filter(
        pk__in=AccountAssessment.objects.filter(account=account).values("assessment"),
        status=AssessmentStatus.COMPLETED,
    ).order_by("-completed_at")
    zh = translation.get_language().startswith("zh")
    results = []
    for assessment in rows:
        try:
            instrument = assessment.instrument_definition
            name = instrument.zh if zh else instrument.en
        except (KeyError, LookupError):
            name = assessment.instrument
        results.append(
            {"assessment": assessment, "name": name, "said": respondent_message(assessment)}
        )
    return results


# --- pages --------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest, ref: str, value: str) -> str:
    """Only a page of this portal (``/p/<ref>/…``) is a place to go back to."""
    value = value or ""
    if value.startswith(f"/p/{ref}/") and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("portal:me", args=[ref])


def _client_limited(request: HttpRequest, scope: str, limit: int, window: int) -> bool:
    return not hit(
        cache,
        scope=scope,
        subject=client_ip(request) or "unknown",
        limit=limit,
        window_seconds=window,
    )


def _sign_in_page(
    request: HttpRequest, ref: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    context = dict(context or {})
    context.setdefault("next", _safe_next(request, ref, request.GET.get("next", "")))
    context.setdefault("phone", "")
    context.setdefault("errors", {})
    return render_portal(request, "portal/me/sign_in.html", context, status)


def _locked_text(until: datetime) -> str:
    local = timezone.localtime(until)
    return _(
        "Too many wrong codes were entered for this number. For your safety, signing in with "
        "it is paused until %(time)s. You can call the hotline at any time."
    ) % {"time": f"{local:%H:%M}"}


@portal_view(PortalPage.ME)
def me(request: HttpRequest, ref: str) -> HttpResponse:
    """My page when signed in, else the sign-in page (a mobile number, or a reference code)."""
    account = current_account(request)
    if account is None:
        return _sign_in_page(request, ref)
    now = timezone.now()
    appointments = list(account_appointments(account).order_by("starts_at"))
    upcoming = [a for a in appointments if a.is_active and a.starts_at > now]
    past = [a for a in reversed(appointments) if a not in upcoming]
    return render_portal(
        request,
        "portal/me/home.html",
        {
            "account": account,
            "masked": otp.mask_phone(account.phone),
            "upcoming": upcoming,
            "past": past,
            "threads": list(account_messages(account)),
            "results": account_results(account),
            "cancelled": request.GET.get("cancelled") == "1",
        },
    )


@portal_view(PortalPage.ME)
def send_code(request: HttpRequest, ref: str) -> HttpResponse:
    """POST a mobile number: a code is sent (the same answer for a new and a known number)."""
    if request.method != "POST":
        return redirect("portal:me", ref)
    next_url = _safe_next(request, ref, request.POST.get("next", ""))
    phone = (request.POST.get("phone") or "").strip()[:40]
    context: dict[str, Any] = {"next": next_url, "phone": phone}
    if _client_limited(request, "portal-code-req", CODE_REQUESTS_PER_HOUR, 3600):
        context["problem"] = _(
            "Many codes were asked for from this network in the last hour. Please try again "
            "later, or call the hotline."
        )
        return _sign_in_page(request, ref, context, 429)
    try:
        account = request_code(phone=phone, language=translation.get_language() or "zh-hans")
    except ValidationError as exc:
        context["errors"] = exc.message_dict
        return _sign_in_page(request, ref, context, 400)
    except Locked as exc:
        context["problem"] = _locked_text(exc.until)
        return _sign_in_page(request, ref, context, 429)
    except TooManyCodes:
        context["problem"] = _(
            "Several codes were already sent to this number in the last hour. Please use the "
            "latest one, or try again later."
        )
        return _sign_in_page(request, ref, context, 429)
    request.session[SESSION_PENDING] = str(account.pk)
    return redirect(reverse("portal:me_code", args=[ref]) + "?" + urlencode({"next": next_url}))


@portal_view(PortalPage.ME)
def enter_code(request: HttpRequest, ref: str) -> HttpResponse:
    """Enter the 6-digit code sent to the number."""
    pending = request.session.get(SESSION_PENDING)
    account = PortalAccount.objects.filter(pk=pending).first() if pending else None
    if account is None:
        return redirect("portal:me", ref)
    source = request.POST if request.method == "POST" else request.GET
    next_url = _safe_next(request, ref, source.get("next", ""))
    context: dict[str, Any] = {
        "next": next_url,
        "masked": otp.mask_phone(account.phone),
        "errors": {},
        "minutes": settings.XINQIAO_CODE_MINUTES,
    }
    if request.method != "POST":
        return render_portal(request, "portal/me/code.html", context)
    if _client_limited(request, "portal-code-try", CODE_ENTRIES_PER_10_MIN, 600):
        context["problem"] = _("Too many tries from this network. Please wait ten minutes.")
        return render_portal(request, "portal/me/code.html", context, 429)
    entered = request.POST.get("code", "")
    if not otp.normalise_code(entered):
        context["errors"] = {"code": [_("Enter the 6 digits of the code.")]}
        return render_portal(request, "portal/me/code.html", context, 400)
    result = check_code(account=account, code=entered)
    if result.outcome == "ok":
        sign_in(request, account)
        return redirect(next_url)
    if result.outcome == "locked":
        context["problem"] = _locked_text(result.until or timezone.now())
        context["void"] = True
        return render_portal(request, "portal/me/code.html", context, 429)
    if result.outcome == "none" or result.void:
        context["void"] = True
        context["problem"] = _(
            "This code can no longer be used (too many wrong tries, or it expired). Please ask "
            "for a new code."
        )
        return render_portal(request, "portal/me/code.html", context, 400)
    context["errors"] = {"code": [_("This code is not right. Please check the text message.")]}
    return render_portal(request, "portal/me/code.html", context, 400)


@portal_view(PortalPage.ME)
def sign_out_view(request: HttpRequest, ref: str) -> HttpResponse:
    if request.method == "POST":
        sign_out(request)
    return redirect("portal:me", ref)


def signed_in_or_redirect(
    request: HttpRequest, ref: str, *, own_item: bool = False
) -> PortalAccount | HttpResponse:
    """The signed-in account, or the way to sign in (coming back here afterwards). A page of
    one of the account's own items (``own_item``) answers not signed in exactly as for an item
    that does not exist: 404, here with the sign-in form (never a dead end)."""
    account = current_account(request)
    if account is None and own_item:
        context = {
            "next": _safe_next(request, ref, request.path),
            "problem": _("Please sign in to see this page."),
        }
        return _sign_in_page(request, ref, context, 404)
    if account is None:
        return redirect(
            reverse("portal:me", args=[ref]) + "?" + urlencode({"next": request.get_full_path()})
        )
    return account


@portal_view(PortalPage.ME)
def cancel_booking(request: HttpRequest, ref: str, appointment_id: Any) -> HttpResponse:
    """Cancel one's own upcoming appointment, with a reason (R-BOOK)."""
    account = signed_in_or_redirect(request, ref, own_item=True)
    if isinstance(account, HttpResponse):
        return account
    appointment = access_appointment(account, appointment_id)
    context: dict[str, Any] = {"appointment": appointment, "errors": {}, "reason": ""}
    if not appointment.is_active or appointment.starts_at <= timezone.now():
        context["closed"] = True
        return render_portal(request, "portal/me/cancel.html", context, 409)
    if request.method != "POST":
        return render_portal(request, "portal/me/cancel.html", context)
    reason = (request.POST.get("reason") or "").strip()
    context["reason"] = reason
    try:
        cancel(acting_user=None, appointment=appointment, reason=reason)
    except ValidationError as exc:
        context["errors"] = exc.message_dict
        return render_portal(request, "portal/me/cancel.html", context, 400)
    return redirect(reverse("portal:me", args=[ref]) + "?cancelled=1")


@portal_view(PortalPage.ME)
@idempotent("portal.me_message")
def thread_view(request: HttpRequest, ref: str, message_id: Any) -> HttpResponse:
    """One's own mailbox thread, without the reference code (written while signed in); writing
    again goes through ``mailbox_actions.follow_up`` like the code page."""
    from xinqiao.hotline import mailbox_actions
    from xinqiao.hotline.models import MessageStatus

    account = signed_in_or_redirect(request, ref, own_item=True)
    if isinstance(account, HttpResponse):
        return account
    message = access_message(account, message_id)
    closed = message.status == MessageStatus.CLOSED
    context: dict[str, Any] = {"message": message, "closed": closed, "errors": {}, "body": ""}
    status = 200
    if request.method == "POST" and not closed:
        body = request.POST.get("body", "")
        if _client_limited(request, "mailbox-h", settings.XINQIAO_MAILBOX_WRITES_PER_HOUR, 3600):
            context["problem"] = _("Many messages were sent from this network. Please wait.")
            status = 429
        else:
            try:
                mailbox_actions.follow_up(message=message, body=body)
            except ValidationError as exc:
                context["errors"] = exc.message_dict
                context["body"] = body
                status = 400
            else:
                return redirect(reverse("portal:me_message", args=[ref, message.pk]) + "?sent=1")
        message.refresh_from_db()
    context["entries"] = mailbox_actions.thread(message)
    context["sent"] = request.GET.get("sent") == "1"
    context["waiting"] = message.status in (MessageStatus.QUEUED, MessageStatus.IN_PROGRESS)
    return render_portal(request, "portal/me/thread.html", context, status)


urlpatterns: list[URLPattern] = [
    path("<str:ref>/me/", me, name="me"),
    path("<str:ref>/me/sign-in/", send_code, name="me_sign_in"),
    path("<str:ref>/me/code/", enter_code, name="me_code"),
    path("<str:ref>/me/sign-out/", sign_out_view, name="me_sign_out"),
    path(
        "<str:ref>/me/bookings/<uuid:appointment_id>/cancel/",
        cancel_booking,
        name="me_cancel",
    ),
    path("<str:ref>/me/messages/<uuid:message_id>/", thread_view, name="me_message"),
]
