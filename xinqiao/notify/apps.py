from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "xinqiao.notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from xinqiao.notify import actions  # noqa: F401 -- registers the delivery job handler
