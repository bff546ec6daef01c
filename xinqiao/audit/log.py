"""Writing the audit trail: client address, access entries, and the actor of a change."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from auditlog.cid import get_cid
from auditlog.context import auditlog_value, disable_auditlog, set_extra_data
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.db.models.signals import pre_save
from django.http import HttpRequest

from xinqiao.audit.models import AccessKind, AccessLog


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind ``XINQIAO_PROXY_COUNT`` trusted proxies, read it from
    X-Forwarded-For counting from the right; otherwise trust only the socket's address."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    candidate = request.META.get("REMOTE_ADDR", "")
    if proxies:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _unit_path_of(obj: Model) -> str:
    unit = getattr(obj, "unit", None)
    if unit is not None and hasattr(unit, "path"):
        return str(unit.path)
    path = getattr(obj, "path", None)
    return str(path) if isinstance(path, str) else ""


def log_access(
    request: HttpRequest,
    obj: Model | None = None,
    *,
    kind: AccessKind = AccessKind.VIEW,
    object_type: str = "",
    reason: str = "",
    unit_path: str = "",
) -> AccessLog:
    """Append one access entry. Only ids are stored, never names or other personal data."""
    user = request.user if request.user.is_authenticated else None
    return AccessLog.objects.create(
        user=user,
        kind=kind,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        unit_path=unit_path or (_unit_path_of(obj) if obj is not None else ""),
        method=request.method or "",
        path=request.path[:500],
        ip=client_ip(request),
        reason=reason,
    )


@contextmanager
def acting(user: Any) -> Iterator[None]:
    """Attribute change-log entries written inside the block to ``user``.

    Web requests get their actor from the middleware, but API calls authenticate after the
    middleware ran and background jobs have no request: actions wrap their writes in this.
    """
    try:
        previous: dict[str, Any] = auditlog_value.get()
    except LookupError:
        previous = {}
    data = {k: v for k, v in previous.items() if k != "signal_duid"}
    data["actor"] = user
    with set_extra_data(context_data=data):
        yield
    if previous:
        auditlog_value.set(previous)


def mask_value(value: str) -> str:
    """Change-log mask for sensitive fields: shows that a value changed, never any of it
    (django-auditlog's default would keep the second half, e.g. of an ID number)."""
    return "" if value in ("", "None") else "******"


@contextmanager
def change_logged(instances: Sequence[Model]) -> Iterator[None]:
    """Change ``instances`` (already read, under a lock) and write them inside the block —
    ``save(update_fields=…)`` or one UPDATE for many rows: the change log gets the same entry
    per instance as a plain save would, from the values they had when the block began, in one
    INSERT, without django-auditlog reading each row again first (one SELECT and one INSERT
    per save otherwise, on the paths where seconds count: a crisis alert's submission and its
    delivery)."""
    before = [copy.copy(instance) for instance in instances]
    with disable_auditlog():
        yield
    entries = []
    for old, new in zip(before, instances, strict=True):
        changes = model_instance_diff(
            old, new, use_json_for_changes=getattr(settings, "AUDITLOG_STORE_JSON_CHANGES", False)
        )
        if changes:
            entries.append(_update_entry(new, changes))
    LogEntry.objects.bulk_create(entries)


def _update_entry(instance: Model, changes: dict[str, Any]) -> LogEntry:
    """The entry ``LogEntry.objects.log_create`` would write for this update, unsaved; the
    audit context (actor, address) fills it through ``pre_save`` as it would on a save."""
    pk = instance.pk
    entry = LogEntry(
        content_type=ContentType.objects.get_for_model(instance),
        object_pk=str(pk),
        object_id=pk if isinstance(pk, int) else None,
        object_repr=str(instance),
        serialized_data=LogEntry.objects._get_serialized_data_or_none(instance),
        action=LogEntry.Action.UPDATE,
        changes=changes,
        cid=get_cid(),
    )
    pre_save.send(sender=LogEntry, instance=entry, raw=False, using="default", update_fields=None)
    return entry
