"""Demo data for the portal's light accounts (issue #8 item 5): one account with a generated
mobile number, a booking made on the portal and a linked mailbox thread. Generated data only:
a made-up number of the 199 0000 block, only ever "sent" a code through the console adapter."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.exceptions import ValidationError

from xinqiao.booking.actions import offers_in
from xinqiao.hotline import mailbox_actions
from xinqiao.portal.accounts import account_for, clean_mobile, remember_message
from xinqiao.portal.book import book_on_portal
from xinqiao.portal.models import PortalAccount

DEMO_PHONE = "19900000001"


def add_demo_accounts(demo: Any) -> PortalAccount | None:
    """The demo account in the first community (``demo`` is ``xinqiao.ops.demo.DemoCity``);
    sign in on its portal with DEMO_PHONE and the code printed by the console SMS adapter."""
    if not demo.communities:
        return None
    unit = demo.communities[0]
    account = account_for(clean_mobile(DEMO_PHONE))
    offers = offers_in(unit)
    if offers:
        offer = offers[len(offers) // 2]
        # A slot gone meanwhile: the demo account simply has no booking.
        with contextlib.suppress(ValidationError):
            book_on_portal(
                account=account,
                unit=unit,
                counsellor=offer.counsellor,
                starts_at=offer.start,
                name="演示访客",
                about="最近睡眠不好",
            )
    message, _reference = mailbox_actions.submit(
        unit=unit,
        body="这是演示账号写的一封信：最近工作压力大，晚上睡不着，想和人聊聊。",
    )
    remember_message(account=account, message=message)
    return account
