from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Reports (R-REPORT, issue #9): incremental aggregate tables, dashboards rolled up the
    tree, effect evaluation, work reports, open data; small cells suppressed (R-PRIVACY)."""

    name = "xinqiao.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from xinqiao.reports import tally, tasks  # noqa: F401  (the job handlers)
        from xinqiao.reports.work_models import WorkReport, WorkReportComment

        tally.connect_signals()
        # Work reports and their comments in the change log (the documents themselves and
        # the snapshot are not diffed: they are bytes and large JSON).
        if not auditlog.contains(WorkReport):
            auditlog.register(
                WorkReport, exclude_fields=["snapshot", "pdf", "xlsx", "updated_at", "attempts"]
            )
            auditlog.register(WorkReportComment)
