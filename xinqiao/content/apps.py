from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    """Education (R-EDU): articles and micro-lessons for the public portal (issue #8)."""

    name = "xinqiao.content"
    label = "content"
    verbose_name = _("Education")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from xinqiao.content.models import Article

        # Staff changes to articles in the change log (articles hold no personal data).
        if not auditlog.contains(Article):
            auditlog.register(Article)
