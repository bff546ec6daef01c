"""Demo data of the portal (generated, no real person): fictional service phones on some
units (the reserved-looking ``0000-`` prefix: no real number starts so), a few call-back
requests in the hotline's queue (generated numbers in the unassigned ``139 0000 …`` range),
and two weeks of portal visit counts. The lead's demo builder calls ``add_demo_portal``."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinqiao.hotline import callbacks
from xinqiao.hotline.models import Call, CallbackRequest, CallbackSource
from xinqiao.orgs.models import Unit
from xinqiao.portal.models import PortalPage, PortalVisit

# (page, typical visits a day) for a community's portal.
DAILY = {
    PortalPage.HOME: 12,
    PortalPage.LEARN: 6,
    PortalPage.ASSESS: 3,
    PortalPage.BOOK: 2,
    PortalPage.MAILBOX: 2,
    PortalPage.HELP: 1,
    PortalPage.ME: 1,
}


@transaction.atomic
def add_demo_portal(demo: Any) -> None:
    if CallbackRequest.objects.exists():
        return  # already populated
    rng = random.Random(8)  # noqa: S311 -- reproducible demo data, not security
    phoned: list[Unit] = [*demo.streets[:1], *demo.communities[:2]]
    for n, unit in enumerate(phoned, start=1):
        unit.service_phone = f"0000-55501{n:02d}"
        unit.save(update_fields=["service_phone"])
    community = demo.communities[0]
    callbacks.request_callback(
        unit=community,
        phone="13900000101",
        source=CallbackSource.CRISIS,
        note="晚上一个人在家，心里很慌，想找人说说话。",
    )
    callbacks.request_callback(
        unit=demo.communities[1] if len(demo.communities) > 1 else community,
        phone="13900000102",
        source=CallbackSource.CRISIS,
    )
    operator = demo.users.get("hotline1")
    unreachable = callbacks.request_callback(
        unit=community, phone="13900000103", source=CallbackSource.CRISIS
    )
    if operator is not None:
        for _attempt in range(callbacks.MAX_ATTEMPTS):
            callbacks.take_callback(acting_user=operator, callback=unreachable)
            callbacks.no_answer(acting_user=operator, callback=unreachable)
        call = Call.objects.filter(operator=operator, callback__isnull=True).first()
        if call is not None:
            done = callbacks.request_callback(
                unit=community, phone="13900000104", source=CallbackSource.CRISIS
            )
            callbacks.take_callback(acting_user=operator, callback=done)
            callbacks.link_call(acting_user=operator, callback=done, call=call)
    today = timezone.localdate()
    rows = []
    for unit in demo.communities[:3]:
        for back in range(14):
            for page, typical in DAILY.items():
                count = max(0, typical + rng.randint(-typical // 2 - 1, typical // 2 + 1))
                if count:
                    rows.append(
                        PortalVisit(
                            unit=unit, day=today - timedelta(days=back), page=page, count=count
                        )
                    )
    PortalVisit.objects.bulk_create(rows, ignore_conflicts=True)
