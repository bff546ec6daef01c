from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports (R-REPORT, issue #9): incremental aggregate tables, dashboards rolled up the
    tree, effect evaluation, work reports, open data; small cells suppressed (R-PRIVACY)."""

    name = "xinqiao.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from xinqiao.reports import tally

        tally.connect_signals()
