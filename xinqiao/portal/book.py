"""Booking a talk with a counsellor on the public portal (issue #8 item 4; R-BOOK).

``/p/<ref>/book/`` lists the free slots of the counsellors serving the portal's unit and the
units above it for the next 14 days, by day, with the counsellors' display names only (links,
no JavaScript). Picking a slot needs a light account (sign-in keeps the chosen slot in
``next``); the confirm page asks only what to call the person (required) and, if they like,
what it is about. Confirming opens (once per unit) the account's person file in the unit,
marked in its timeline as self-registered on the portal, and books through
``booking.actions.book`` with channel ``portal`` (which notifies the counsellor). A slot taken
a moment ago answers with a clear "just taken" message and the next free slots.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.accounts.models import User
from xinqiao.audit.log import client_ip
from xinqiao.booking.actions import Offer, SlotTaken, book, offers_in, tz
from xinqiao.booking.models import Appointment, Channel
from xinqiao.lib.idempotency import idempotent
from xinqiao.lib.ratelimit import hit
from xinqiao.orgs.models import Unit
from xinqiao.people.actions import phone_index
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, Person
from xinqiao.portal.accounts import access_appointment, signed_in_or_redirect
from xinqiao.portal.models import AccountPerson, PortalAccount, PortalPage
from xinqiao.portal.page import portal_view, render_portal

MAX_NAME = 50
MAX_ABOUT = 500
# Bookings one client address may confirm an hour.
BOOKINGS_PER_HOUR = 10


# --- the account's file in a unit ----------------------------------------------------------------


def file_for(*, account: PortalAccount, unit: Unit, name: str, about: str = "") -> Person:
    """The account's person file in ``unit``, opened on its first booking there: the given
    name, the account's phone, no document; the timeline says it was self-registered on the
    portal. The people app's ``register_person`` needs a staff member in scope, so the file is
    opened here, like the hotline's unnamed files (``hotline.crisis.unnamed_file``). ``about``
    goes to the file's (encrypted) notes, never to the timeline. One transaction."""
    name = (name or "").strip()
    about = (about or "").strip()
    if not name:
        raise ValidationError({"name": _("Tell us what we may call you (a name or nickname).")})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": _("At most %(n)d characters, please.") % {"n": MAX_NAME}})
    if len(about) > MAX_ABOUT:
        raise ValidationError({"about": _("At most %(n)d characters, please.") % {"n": MAX_ABOUT}})
    with transaction.atomic():
        link = (
            AccountPerson.objects.select_for_update()
            .select_related("person")
            .filter(account=account, unit=unit)
            .first()
        )
        if link is not None:
            person = link.person
            if about:
                _add_note(person, about)
            return person
        person = Person.objects.create(
            unit=unit,
            name=name,
            phone=account.phone,
            phone_index=phone_index(account.phone),
            created_by=None,
        )
        if about:
            _add_note(person, about)
        record_event(
            person=person,
            kind=EventKind.CREATED,
            actor=None,
            obj=person,
            summary=_("Self-registered on the public portal to book an appointment"),
        )
        try:
            with transaction.atomic():
                AccountPerson.objects.create(account=account, unit=unit, person=person)
        except IntegrityError:  # a concurrent first booking in the same unit won
            raise ValidationError({"name": _("Please try again in a moment.")}) from None
    return person


def _add_note(person: Person, about: str) -> None:
    day = timezone.localdate().isoformat()
    line = _("Booked on the portal (%(day)s): %(about)s") % {"day": day, "about": about}
    person.notes = f"{person.notes}\n{line}".strip()
    person.save(update_fields=["notes", "updated_at"])


def book_on_portal(
    *,
    account: PortalAccount,
    unit: Unit,
    counsellor: Any,
    starts_at: datetime,
    name: str,
    about: str = "",
) -> Appointment:
    """Open (or find) the account's file in the unit and book the slot, in one transaction:
    a refused booking leaves no new file behind. Raises ``SlotTaken`` or ValidationError."""
    with transaction.atomic():
        person = file_for(account=account, unit=unit, name=name, about=about)
        return book(
            acting_user=None,
            person=person,
            counsellor=counsellor,
            starts_at=starts_at,
            channel=Channel.PORTAL,
        )


# --- pages ------------------------------------------------------------------------------------


def _unit(request: HttpRequest) -> Unit:
    unit: Unit = request.portal.unit  # type: ignore[attr-defined]
    return unit


def _slot_key(offer: Offer) -> str:
    return str(int(offer.start.timestamp()))


def _by_day(offers: list[Offer]) -> list[tuple[date, list[Offer]]]:
    days: OrderedDict[date, list[Offer]] = OrderedDict()
    for offer in offers:
        days.setdefault(offer.start.astimezone(tz()).date(), []).append(offer)
    return list(days.items())


def _slot_url(ref: str, offer: Offer) -> str:
    return (
        reverse("portal:book_confirm", args=[ref])
        + f"?c={offer.counsellor.pk}&at={_slot_key(offer)}"
    )


def _start_page(
    request: HttpRequest,
    ref: str,
    *,
    offers: list[Offer] | None = None,
    taken: bool = False,
    status: int = 200,
) -> HttpResponse:
    unit = _unit(request)
    found = offers if offers is not None else offers_in(unit)
    days = [
        (day, [(o, _slot_url(ref, o)) for o in day_offers]) for day, day_offers in _by_day(found)
    ]
    return render_portal(request, "portal/book/start.html", {"days": days, "taken": taken}, status)


@portal_view(PortalPage.BOOK)
def start(request: HttpRequest, ref: str) -> HttpResponse:
    return _start_page(request, ref)


def _chosen(request: HttpRequest) -> tuple[Offer | None, Any]:
    """The slot named by ``c`` (counsellor id) and ``at`` (start, seconds): the offer if it is
    still free (else None), and the counsellor if the link named one."""
    source = request.POST if request.method == "POST" else request.GET
    try:
        counsellor = User.objects.filter(pk=source.get("c", ""), is_active=True).first()
        starts_at = datetime.fromtimestamp(int(source.get("at", "")), tz=tz())
    except (ValueError, ValidationError, OverflowError, OSError):
        return None, None
    if counsellor is None:
        return None, None
    unit = _unit(request)
    offer = next(
        (o for o in offers_in(unit) if o.counsellor.pk == counsellor.pk and o.start == starts_at),
        None,
    )
    return offer, counsellor


@portal_view(PortalPage.BOOK)
@idempotent("portal.book_confirm")
def confirm(request: HttpRequest, ref: str) -> HttpResponse:
    """Confirm the chosen slot: what to call you (required), what it is about (optional)."""
    account = signed_in_or_redirect(request, ref)
    if isinstance(account, HttpResponse):
        return account
    offer, counsellor = _chosen(request)
    if offer is None:
        # Gone since the list was shown: the list, saying so; a link naming no counsellor
        # (mistyped, cut off) is simply the list.
        if counsellor is None:
            return _start_page(request, ref, status=400)
        return _start_page(request, ref, taken=True, status=409)
    existing = AccountPerson.objects.filter(account=account, unit=_unit(request)).first()
    context: dict[str, Any] = {
        "offer": offer,
        "c": offer.counsellor.pk,
        "at": _slot_key(offer),
        "name": existing.person.name if existing else "",
        "about": "",
        "errors": {},
        "max_name": MAX_NAME,
        "max_about": MAX_ABOUT,
    }
    if request.method != "POST":
        return render_portal(request, "portal/book/confirm.html", context)
    context["name"] = (request.POST.get("name") or "").strip()
    context["about"] = (request.POST.get("about") or "").strip()
    if not hit(
        cache,
        scope="portal-book",
        subject=client_ip(request) or "unknown",
        limit=BOOKINGS_PER_HOUR,
        window_seconds=3600,
    ):
        context["problem"] = _(
            "Many bookings were made from this network in the last hour. Please call the "
            "service phone to book."
        )
        return render_portal(request, "portal/book/confirm.html", context, 429)
    try:
        appointment = book_on_portal(
            account=account,
            unit=request.portal.unit,  # type: ignore[attr-defined]
            counsellor=counsellor,
            starts_at=offer.start,
            name=context["name"],
            about=context["about"],
        )
    except SlotTaken as exc:
        return _start_page(request, ref, offers=exc.offers, taken=True, status=409)
    except ValidationError as exc:
        context["errors"] = exc.message_dict
        return render_portal(request, "portal/book/confirm.html", context, 400)
    return redirect("portal:book_done", ref, appointment.pk)


@portal_view(PortalPage.BOOK)
def done(request: HttpRequest, ref: str, appointment_id: Any) -> HttpResponse:
    account = signed_in_or_redirect(request, ref, own_item=True)
    if isinstance(account, HttpResponse):
        return account
    appointment = access_appointment(account, appointment_id)
    return render_portal(request, "portal/book/done.html", {"appointment": appointment})


urlpatterns: list[URLPattern] = [
    path("<str:ref>/book/", start, name="book"),
    path("<str:ref>/book/confirm/", confirm, name="book_confirm"),
    path("<str:ref>/book/done/<uuid:appointment_id>/", done, name="book_done"),
]
