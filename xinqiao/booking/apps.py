from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "xinqiao.booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.urls import reverse

        from xinqiao.booking.actions import erase_appointments
        from xinqiao.booking.models import Appointment, AvailabilityChange, AvailabilityWindow
        from xinqiao.booking.sections import SECTION
        from xinqiao.people import sections
        from xinqiao.people.actions import ERASURE_STEPS
        from xinqiao.people.events import EVENT_LINKS

        sections.register(SECTION)
        if erase_appointments not in ERASURE_STEPS:
            ERASURE_STEPS.append(erase_appointments)
        if not auditlog.contains(Appointment):
            auditlog.register(Appointment, mask_fields=["reason"])
            auditlog.register(AvailabilityWindow)
            auditlog.register(AvailabilityChange)
        EVENT_LINKS["booking.appointment"] = lambda event: reverse(
            "booking:detail", kwargs={"appointment_id": event.object_id}
        )
