"""External channels: one adapter each, configured per deployment from the environment
(``XINQIAO_NOTIFY_CHANNELS`` and each channel's settings, docs/deployment.md).

An adapter says how a user is reached (``address``: empty when they cannot be) and sends one
message, raising ``DeliveryError`` when the other side did not take it (non-2xx, a refused
connection, a timeout): the delivery job then retries with back-off. Every message carries an
idempotency key (the notification's id; the batch's for the group chat), so a delivery run
again after a crash is harmless to a gateway that honours it.

Errors name no person, address or content: they are logged and kept as ``last_error``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from xinqiao.notify.models import Channel, NotifyPreference


class DeliveryError(Exception):
    """The channel did not take the message. The text is safe to log and to show."""


@dataclass(frozen=True)
class Outgoing:
    key: str  # idempotency key
    subject: str
    text: str  # plain text: the body and the absolute link


class Adapter(ABC):
    channel: ClassVar[Channel]
    # One message per notify() call (a group chat), not one per recipient.
    batched: ClassVar[bool] = False

    @abstractmethod
    def address(self, user: Any, preference: NotifyPreference | None) -> str:
        """Where ``user`` is reached on this channel ("" if they cannot be)."""

    @abstractmethod
    def send(self, *, address: str, message: Outgoing) -> None:
        """Deliver ``message``; raise on any failure, so the job retries it."""


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    """Plug in a channel (its ``Channel`` value must be listed in XINQIAO_NOTIFY_CHANNELS)."""
    ADAPTERS[adapter.channel] = adapter
    return adapter


def enabled_channels() -> list[str]:
    """The external channels this deployment sends through, in the order configured."""
    return [name for name in settings.XINQIAO_NOTIFY_CHANNELS if name in ADAPTERS]


# --- email --------------------------------------------------------------------------------------


class EmailAdapter(Adapter):
    """SMTP through Django's mail framework (EMAIL_HOST, EMAIL_PORT, …) to the account's
    address. The Message-ID is derived from the notification's id, so a message sent again
    after a crash is recognisably the same one."""

    channel = Channel.EMAIL

    def address(self, user: Any, preference: NotifyPreference | None) -> str:
        wanted = preference.by_email if preference is not None else True
        return str(user.email or "") if wanted else ""

    def send(self, *, address: str, message: Outgoing) -> None:
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "xinqiao.invalid"
        email = EmailMessage(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            headers={
                "Message-ID": f"<notify.{message.key}@{domain}>",
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
            },
        )
        try:
            with get_connection(fail_silently=False) as connection:
                accepted = connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("SMTP: recipient refused") from None
        except smtplib.SMTPResponseException as exc:  # its text may quote an address
            raise DeliveryError(f"SMTP {exc.smtp_code}") from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}") from None
        except OSError as exc:
            raise DeliveryError(f"SMTP: {_network_error(exc)}") from None
        if not accepted:
            raise DeliveryError("SMTP: message not accepted")


# --- HTTP (SMS gateway, group-chat robot) -------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects did not take the message: report the 3xx, do not follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _network_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__


def post_json(url: str, payload: dict[str, Any], *, headers: dict[str, str]) -> bytes:
    """POST ``payload`` as JSON; the response body, or DeliveryError unless the answer is 2xx.
    (The URL's scheme is checked at start-up: http or https only.)"""
    request = urllib.request.Request(  # noqa: S310
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Xinqiao-notify/1",
            **headers,
        },
        method="POST",
    )
    try:
        with _opener.open(request, timeout=settings.XINQIAO_NOTIFY_TIMEOUT) as response:
            return bytes(response.read(65536))
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, BaseException) else None
        raise DeliveryError(
            f"connection failed: {_network_error(reason) if reason else 'URLError'}"
        ) from None
    except OSError as exc:  # timeouts while reading, resets
        raise DeliveryError(f"connection failed: {_network_error(exc)}") from None


class SmsAdapter(Adapter):
    """An HTTP SMS gateway: POST ``{"to": number, "text": …}`` to XINQIAO_SMS_URL with
    ``Authorization: Bearer XINQIAO_SMS_TOKEN`` and ``Idempotency-Key: <notification id>``;
    any 2xx answer means accepted. Numbers come from the user's own notification settings."""

    channel = Channel.SMS

    def address(self, user: Any, preference: NotifyPreference | None) -> str:
        if preference is None or not preference.by_sms:
            return ""
        return preference.mobile or ""

    def send(self, *, address: str, message: Outgoing) -> None:
        post_json(
            settings.XINQIAO_SMS_URL,
            {"to": address, "text": message.text},
            headers={
                "Authorization": f"Bearer {settings.XINQIAO_SMS_TOKEN}",
                "Idempotency-Key": message.key,
            },
        )


class WebhookAdapter(Adapter):
    """A WeCom/DingTalk-style group-chat robot: POST ``{"msgtype": "text", "text":
    {"content": …}}`` to XINQIAO_WEBHOOK_URL with an ``Idempotency-Key`` header. One message
    per notify() call (the batch), since everyone it names reads the same group chat.

    Such robots answer 200 even when they refuse a message, with a non-zero ``errcode`` in the
    JSON body: that is a failure too. With XINQIAO_WEBHOOK_SECRET the URL is signed as
    DingTalk's "加签" setting requires (timestamp and HMAC-SHA256 ``sign``)."""

    channel = Channel.WEBHOOK
    batched = True

    def address(self, user: Any, preference: NotifyPreference | None) -> str:
        wanted = preference.by_webhook if preference is not None else True
        return "group" if wanted else ""

    def send(self, *, address: str, message: Outgoing) -> None:
        answer = post_json(
            signed_webhook_url(settings.XINQIAO_WEBHOOK_URL, settings.XINQIAO_WEBHOOK_SECRET),
            {"msgtype": "text", "text": {"content": message.text}},
            headers={"Idempotency-Key": message.key},
        )
        try:
            reply = json.loads(answer or b"{}")
        except ValueError:
            return  # not JSON: a 2xx is all a plain gateway says
        if isinstance(reply, dict) and reply.get("errcode") not in (None, 0, "0"):
            raise DeliveryError(f"robot refused the message: errcode {reply.get('errcode')}")


def signed_webhook_url(url: str, secret: str, *, now_ms: int | None = None) -> str:
    """DingTalk's signature: ``sign = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))``
    with the timestamp in milliseconds, both added to the query string."""
    if not secret:
        return url
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    query = urllib.parse.urlencode({"timestamp": timestamp, "sign": base64.b64encode(digest)})
    return f"{url}{'&' if '?' in url else '?'}{query}"


register(EmailAdapter())
register(SmsAdapter())
register(WebhookAdapter())
