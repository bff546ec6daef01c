from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """24-hour hotline, worry mailbox, text triage and trend detection (R-HOTLINE, R-MAILBOX)."""

    name = "xinqiao.hotline"
    verbose_name = "Hotline"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.urls import reverse

        from xinqiao.hotline import tasks  # noqa: F401 -- registers the periodic task
        from xinqiao.hotline.models import (
            Call,
            CallbackRequest,
            EmergingIssueReport,
            HotlineTraining,
            MailboxMessage,
            Seat,
            Shift,
        )
        from xinqiao.people.events import EVENT_LINKS

        if not auditlog.contains(Call):
            auditlog.register(Call, mask_fields=["notes", "callback_phone"])
            auditlog.register(MailboxMessage, mask_fields=["subject", "body", "contact"])
            auditlog.register(Seat)
            auditlog.register(Shift)
            auditlog.register(HotlineTraining)
            auditlog.register(EmergingIssueReport)
            auditlog.register(CallbackRequest, mask_fields=["phone", "note", "outcome"])
        EVENT_LINKS["hotline.call"] = lambda event: reverse(
            "hotline:call", kwargs={"call_id": event.object_id}
        )
