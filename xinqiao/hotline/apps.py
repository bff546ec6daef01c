from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """24-hour hotline, worry mailbox, text triage and trend detection (R-HOTLINE, R-MAILBOX)."""

    name = "xinqiao.hotline"
    verbose_name = "Hotline"
