"""``/metrics``: the platform's figures in the Prometheus text format, behind authentication.

Two kinds of figures (docs/deployment.md "Monitoring"):

* **per request**, counted by ``RequestMetricsMiddleware`` in the process that served it: a
  latency histogram and a response counter per view name (the URL pattern's name, never the
  path, so no identifier ends up in a label). With one process (the embedded default) the
  figures live in memory. Under gunicorn with several processes set ``PROMETHEUS_MULTIPROC_DIR``
  to an empty directory private to the server: each process then writes its figures to files
  there and every scrape adds up all processes of the machine (prometheus_client's
  multiprocess mode). Each machine is scraped on its own and Prometheus sums over them
  (``sum by (view) (rate(xinqiao_http_request_duration_seconds_count[5m]))``).
* **from the database**, read at scrape time and the same from every process: jobs by status
  and the age of the oldest due job, open crisis alerts and the age of the oldest one, failed
  and pending notifications, worker heartbeats. Counts only: no personal data.

Who may read it: a scraper sending ``Authorization: Bearer <XINQIAO_METRICS_TOKEN>``, or a
signed-in staff member with the audit permission in every top-level unit (the figures cover
the whole platform). A wrong token answers 401, a signed-in user without that permission 404,
and anybody else is sent to the sign-in page like on every staff page.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

# Seconds; the page budget is 500 ms at p99 (issue #10 item 6), so the buckets are fine below it.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Not registered in the global registry: each scrape builds its own (see ``_registry``).
REQUEST_SECONDS = Histogram(
    "xinqiao_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by view name.",
    ["view"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
RESPONSES = Counter(
    "xinqiao_http_responses",
    "Responses by view name and status class (2xx, 3xx, 4xx, 5xx).",
    ["view", "status"],
    registry=None,
)


def view_label(request: HttpRequest) -> str:
    """The URL pattern's name (``hotline:call_new``), never the path: bounded and anonymous."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return str(match.view_name)
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unresolved"


class RequestMetricsMiddleware:
    """First in ``MIDDLEWARE``: times everything below it, redirects and errors included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        REQUEST_SECONDS.labels(view=view).observe(time.perf_counter() - started)
        RESPONSES.labels(view=view, status=f"{response.status_code // 100}xx").inc()
        return response


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time (the same whichever process answers)."""

    def collect(self) -> Iterator[Metric]:
        from xinqiao.notify.models import Channel, Notification, NotificationStatus
        from xinqiao.ops.models import Job, JobStatus, WorkerHeartbeat
        from xinqiao.risk.models import Alert, AlertStatus

        now = timezone.now()

        jobs = GaugeMetricFamily(
            "xinqiao_jobs", "Background jobs (xinqiao/ops) by status.", labels=["status"]
        )
        by_status = dict(Job.objects.values_list("status").annotate(n=Count("id")))
        for status in JobStatus.values:
            jobs.add_metric([status], by_status.get(status, 0))
        yield jobs
        due = Job.objects.filter(status=JobStatus.PENDING, run_at__lte=now).aggregate(
            n=Count("id"), oldest=Min("run_at")
        )
        yield _gauge(
            "xinqiao_job_queue_depth",
            "Pending jobs whose time has come (waiting for a worker).",
            due["n"],
        )
        yield _gauge(
            "xinqiao_job_queue_oldest_seconds",
            "How long the oldest due pending job has waited (0: none waiting).",
            _age(now, due["oldest"]),
        )

        alerts = Alert.objects.filter(status=AlertStatus.OPEN).aggregate(
            n=Count("id"), oldest=Min("created_at")
        )
        yield _gauge("xinqiao_alerts_open", "Crisis alerts not yet acknowledged.", alerts["n"])
        yield _gauge(
            "xinqiao_alerts_open_overdue",
            "Unacknowledged crisis alerts past their acknowledgement deadline.",
            Alert.objects.filter(status=AlertStatus.OPEN, ack_deadline__lt=now).count(),
        )
        yield _gauge(
            "xinqiao_alert_oldest_unacknowledged_seconds",
            "Age of the oldest unacknowledged crisis alert (0: none open).",
            _age(now, alerts["oldest"]),
        )

        external = Notification.objects.exclude(channel=Channel.IN_APP)
        for status, help_text in (
            (NotificationStatus.FAILED, "External notifications whose last attempt failed."),
            (NotificationStatus.PENDING, "External notifications waiting to be delivered."),
        ):
            family = GaugeMetricFamily(
                f"xinqiao_notifications_{status}", help_text, labels=["channel"]
            )
            counts = dict(
                external.filter(status=status).values_list("channel").annotate(n=Count("id"))
            )
            for channel in Channel.values:
                if channel != Channel.IN_APP:
                    family.add_metric([channel], counts.get(channel, 0))
            yield family

        beats = GaugeMetricFamily(
            "xinqiao_worker_heartbeat_age_seconds",
            "Seconds since each background worker last stamped its heartbeat.",
            labels=["worker"],
        )
        for name, last_seen in WorkerHeartbeat.objects.values_list("name", "last_seen"):
            beats.add_metric([name], _age(now, last_seen))
        yield beats


def _age(now: Any, then: Any) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every process of this machine, from the files they write (prometheus_client docs,
        # "Multiprocess Mode"); our own process's objects would count it twice.
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(RESPONSES)
    registry.register(DatabaseCollector())
    return registry


def may_read_metrics(user: Any) -> bool:
    """The audit permission in every top-level unit: the figures cover the whole platform."""
    from xinqiao.orgs.models import Unit
    from xinqiao.orgs.permissions import Action
    from xinqiao.orgs.scope import can

    roots = list(Unit.objects.filter(parent__isnull=True))
    return bool(roots) and all(can(user, Action.AUDIT_VIEW, unit) for unit in roots)


def _bearer_ok(header: str) -> bool:
    expected = settings.XINQIAO_METRICS_TOKEN
    scheme, _sep, value = header.partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), expected.encode())


@require_GET
def metrics(request: HttpRequest) -> HttpResponseBase:
    header = request.headers.get("Authorization", "")
    if header:
        if not _bearer_ok(header):
            response = HttpResponse("401 Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    elif not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    elif not may_read_metrics(request.user):
        raise Http404
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
