"""Reading and exporting the audit trail (auditors and system administrators only)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, time
from typing import Any

from auditlog.models import LogEntry
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind, AccessLog
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, scope_paths


class AuditFilter(forms.Form):
    username = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)


def _require_audit(request: HttpRequest, action: Action = Action.AUDIT_VIEW) -> list[str]:
    paths = scope_paths(request.user, action)
    if not paths:
        raise Http404
    return paths


def _sees_everything(paths: list[str]) -> bool:
    roots = Unit.objects.filter(parent__isnull=True).values_list("path", flat=True)
    return any(root in paths for root in roots)


def _bounds(form: AuditFilter) -> tuple[datetime | None, datetime | None]:
    tz = timezone.get_current_timezone()
    start = end = None
    if form.is_valid():
        if form.cleaned_data["date_from"]:
            start = datetime.combine(form.cleaned_data["date_from"], time.min, tzinfo=tz)
        if form.cleaned_data["date_to"]:
            end = datetime.combine(form.cleaned_data["date_to"], time.max, tzinfo=tz)
    return start, end


def access_entries(
    request: HttpRequest, form: AuditFilter, paths: list[str]
) -> QuerySet[AccessLog]:
    entries = AccessLog.objects.select_related("user")
    if not _sees_everything(paths):
        scope = Q(pk__in=[])
        for path in paths:
            scope |= Q(unit_path__startswith=path)
        entries = entries.filter(scope)
    start, end = _bounds(form)
    if start:
        entries = entries.filter(at__gte=start)
    if end:
        entries = entries.filter(at__lte=end)
    if form.is_valid():
        if form.cleaned_data["username"]:
            entries = entries.filter(user__username=form.cleaned_data["username"].strip())
        if form.cleaned_data["object_id"]:
            entries = entries.filter(object_id=form.cleaned_data["object_id"].strip())
    return entries


def change_entries(request: HttpRequest, form: AuditFilter, paths: list[str]) -> QuerySet[LogEntry]:
    # Change-log entries carry no unit, so only city-level auditors read them.
    if not _sees_everything(paths):
        raise Http404
    entries: QuerySet[LogEntry] = LogEntry.objects.select_related("actor", "content_type").order_by(
        "-timestamp"
    )
    start, end = _bounds(form)
    if start:
        entries = entries.filter(timestamp__gte=start)
    if end:
        entries = entries.filter(timestamp__lte=end)
    if form.is_valid():
        if form.cleaned_data["username"]:
            entries = entries.filter(actor__username=form.cleaned_data["username"].strip())
        if form.cleaned_data["object_id"]:
            entries = entries.filter(object_pk=form.cleaned_data["object_id"].strip())
    return entries


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    paths = _require_audit(request)
    form = AuditFilter(request.GET or None)
    page = Paginator(access_entries(request, form, paths), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="audit.accesslog")
    return render(
        request,
        "audit/access_log.html",
        {
            "form": form,
            "page": page,
            "sees_changes": _sees_everything(paths),
            "can_export": can(request.user, Action.AUDIT_EXPORT),
        },
    )


@login_required
def change_log(request: HttpRequest) -> HttpResponse:
    paths = _require_audit(request)
    form = AuditFilter(request.GET or None)
    page = Paginator(change_entries(request, form, paths), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="auditlog.logentry")
    return render(
        request,
        "audit/change_log.html",
        {
            "form": form,
            "page": page,
            "sees_changes": True,
            "can_export": can(request.user, Action.AUDIT_EXPORT),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_response(rows: Iterator[list[Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    # A byte-order mark so that Excel opens the UTF-8 file with Chinese intact.
    stream = ("\ufeff" if i == 0 else "" for i in range(1))
    body = (writer.writerow(row) for row in rows)
    response = StreamingHttpResponse(
        (chunk for part in (stream, body) for chunk in part), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def access_log_csv(request: HttpRequest) -> StreamingHttpResponse:
    paths = _require_audit(request, Action.AUDIT_EXPORT)
    form = AuditFilter(request.GET or None)
    entries = access_entries(request, form, paths)
    log_access(request, None, kind=AccessKind.EXPORT, object_type="audit.accesslog")

    def rows() -> Iterator[list[Any]]:
        yield [
            _("time"),
            _("user"),
            _("access"),
            _("object type"),
            _("object id"),
            _("method"),
            _("page address"),
            _("client address"),
            _("reason"),
        ]
        for e in entries.iterator(chunk_size=2000):
            yield [
                timezone.localtime(e.at).isoformat(),
                e.user.username if e.user else "",
                e.kind,
                e.object_type,
                e.object_id,
                e.method,
                e.path,
                e.ip or "",
                e.reason,
            ]

    return _csv_response(rows(), "access-log.csv")


@login_required
def change_log_csv(request: HttpRequest) -> StreamingHttpResponse:
    paths = _require_audit(request, Action.AUDIT_EXPORT)
    form = AuditFilter(request.GET or None)
    entries = change_entries(request, form, paths)
    log_access(request, None, kind=AccessKind.EXPORT, object_type="auditlog.logentry")

    def rows() -> Iterator[list[Any]]:
        yield [
            _("time"),
            _("user"),
            _("action"),
            _("object type"),
            _("object id"),
            _("changes"),
            _("client address"),
        ]
        for e in entries.iterator(chunk_size=2000):
            yield [
                timezone.localtime(e.timestamp).isoformat(),
                e.actor.username if e.actor else "",
                e.get_action_display(),
                e.content_type.model,
                e.object_pk,
                e.changes_str,
                e.remote_addr or "",
            ]

    return _csv_response(rows(), "change-log.csv")
