"""Sending one-time sign-in codes to the public (issue #8 item 5): the SMS adapter.

``XINQIAO_PUBLIC_SMS``:

* ``console`` (the embedded default): the text is printed to the terminal of ``xinqiao run``
  with the number masked (``138****5678``) and kept in ``sent`` (the last messages, for tests).
  The code never goes to the logging system.
* ``http``: POST ``{"to": number, "text": …}`` to XINQIAO_SMS_URL with ``Authorization: Bearer
  XINQIAO_SMS_TOKEN`` — the same gateway shape as the staff SMS channel
  (``xinqiao.notify.channels.SmsAdapter``), with its timeout. Any failure raises ``SmsError``;
  the page then says kindly that the code could not be sent.
"""

from __future__ import annotations

import logging
import secrets
import sys
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from xinqiao.portal.otp import mask_phone

log = logging.getLogger(__name__)

# The console outbox: the last OUTBOX_SIZE messages (tests clear it).
OUTBOX_SIZE = 50


@dataclass(frozen=True)
class SentCode:
    phone: str
    code: str
    text: str


sent: list[SentCode] = []


class SmsError(Exception):
    """The code could not be handed to the SMS gateway."""


def code_text(code: str, language: str) -> str:
    with translation.override(language or settings.LANGUAGE_CODE):
        return _(
            "Your Xinqiao code is %(code)s. It is valid for %(minutes)d minutes. If you did "
            "not ask for it, please ignore this message."
        ) % {"code": code, "minutes": settings.XINQIAO_CODE_MINUTES}


def send_code(phone: str, code: str, language: str) -> None:
    """Send ``code`` to the mobile number ``phone`` (normalised) in ``language``."""
    text = code_text(code, language)
    if settings.XINQIAO_PUBLIC_SMS == "http":
        from xinqiao.notify.channels import DeliveryError, post_json

        try:
            post_json(
                settings.XINQIAO_SMS_URL,
                {"to": phone, "text": text},
                headers={
                    "Authorization": f"Bearer {settings.XINQIAO_SMS_TOKEN}",
                    "Idempotency-Key": secrets.token_hex(16),
                },
            )
        except DeliveryError as exc:
            # The reason only (a status or a network error), never the number or the code.
            log.warning("portal sign-in code not sent: %s", exc)
            raise SmsError(str(exc)) from None
        return
    sent.append(SentCode(phone=phone, code=code, text=text))
    del sent[:-OUTBOX_SIZE]
    # The terminal of `xinqiao run` only (stdout, not the logging system), number masked.
    sys.stdout.write(f"Xinqiao sign-in code for {mask_phone(phone)}: {code}\n")
    sys.stdout.flush()
