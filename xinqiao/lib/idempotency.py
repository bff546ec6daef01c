"""Idempotent public submissions (issue #10 item 4): a phone on a flaky network that sends the
same form twice creates one record.

Every public form carries a hidden ``idempotency_key`` (a random UUID rendered each time the
form is shown: ``{% load idempotency %}{% idempotency_field %}``); API-like clients send an
``Idempotency-Key`` header instead. A view decorated with ``@idempotent("scope")`` then:

- without a key (an old cached page, a client that sends none) runs exactly as before;
- with a key seen on the same route within 24 hours replays the first response — the same
  status, redirect location and cookies — without running the action again;
- with a new key runs the view in one transaction that first inserts the key's row (unique per
  scope and key digest) and, after the view succeeded, stores the response to replay in it. The
  row and the action's writes commit together or not at all, so a request killed halfway
  leaves nothing and its retry runs afresh; two identical requests at once collide on the
  unique constraint and the loser waits for the winner's commit and replays its response.

Only successes are kept: a redirect (any 3xx), or a page the view marked with ``remember()``
and knows how to show again (``replay=``). An error page (400, 409, 429 …) keeps no row, so a
retry runs again. A key reused with a different form body replays the first response (the key
names the submission, not its content — the second body is never acted on).

Nothing personal is stored in clear: the key is kept as an HMAC digest (with the route), and
what the replay needs that could matter — the redirect location (a link token may be in it),
cookies (a resume key), a reference code shown once — is sealed with AES-GCM under a key
derived from the raw idempotency key, which only the client holds. A database dump alone
cannot open it. Rows older than 24 hours are deleted daily (``xinqiao.ops.tasks``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.crypto import salted_hmac

FIELD = "idempotency_key"
HEADER = "Idempotency-Key"
# How long a key is remembered (the usual window of idempotency keys, e.g. Stripe's).
TTL = timedelta(hours=24)
MIN_KEY, MAX_KEY = 16, 200
_NONCE = 12

View = Callable[..., HttpResponse]
Replayer = Callable[..., HttpResponse]


def new_key() -> str:
    return str(uuid.uuid4())


def posted_key(request: HttpRequest) -> str:
    """The request's idempotency key, or "" (none, or not a plausible key: then the request
    runs as if it had none)."""
    key = request.headers.get(HEADER) or request.POST.get(FIELD) or ""
    key = key.strip()
    if not MIN_KEY <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        return ""
    return key


def key_digest(scope: str, path: str, key: str) -> str:
    """HMAC-SHA256 over the route and the key (the key itself is never stored)."""
    return salted_hmac(
        "xinqiao.idempotency", f"{scope}\0{path}\0{key}", algorithm="sha256"
    ).hexdigest()


def _seal_key(key: str) -> bytes:
    return salted_hmac("xinqiao.idempotency.seal", key, algorithm="sha256").digest()


def seal(key: str, data: dict[str, Any]) -> bytes:
    nonce = os.urandom(_NONCE)
    plain = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return nonce + AESGCM(_seal_key(key)).encrypt(nonce, plain, b"xinqiao.idempotency")


def unseal(key: str, blob: bytes) -> dict[str, Any]:
    blob = bytes(blob)
    if not blob:
        return {}
    try:
        plain = AESGCM(_seal_key(key)).decrypt(blob[:_NONCE], blob[_NONCE:], b"xinqiao.idempotency")
    except InvalidTag:  # the server secret changed since: nothing to replay but the status
        return {}
    data: dict[str, Any] = json.loads(plain)
    return data


@dataclass
class Replay:
    """What a replay knows of the first response."""

    status: int
    location: str = ""
    cookies: list[dict[str, Any]] = field(default_factory=list)
    secret: str = ""
    object_type: str = ""
    object_id: str = ""

    def object(self) -> models.Model | None:
        """The object the first request created (None if it is gone)."""
        if not self.object_type:
            return None
        model = apps.get_model(self.object_type)
        found: models.Model | None = model._default_manager.filter(pk=self.object_id).first()
        return found


def remember(request: HttpRequest, *, obj: models.Model | None = None, secret: str = "") -> None:
    """Mark the response the view is about to return as one to replay: ``obj`` is the record
    it created (kept as a reference), ``secret`` something shown once (sealed)."""
    request._idempotency = {"obj": obj, "secret": secret}  # type: ignore[attr-defined]


def _cookies(response: HttpResponse) -> list[dict[str, Any]]:
    found = []
    for name, morsel in response.cookies.items():
        attrs = {k: morsel[k] for k in morsel if morsel[k] not in ("", None)}
        found.append({"name": name, "value": morsel.value, "attrs": attrs})
    return found


def _redirect_replay(request: HttpRequest, replay: Replay) -> HttpResponse:
    response = HttpResponseRedirect(replay.location or request.path)
    response.status_code = replay.status if 300 <= replay.status < 400 else 302
    return response


def _replay(
    request: HttpRequest,
    row: Any,
    key: str,
    replayer: Replayer | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> HttpResponse:
    data = unseal(key, row.sealed)
    replay = Replay(
        status=row.status,
        location=data.get("location", ""),
        cookies=data.get("cookies", []),
        secret=data.get("secret", ""),
        object_type=row.object_type,
        object_id=row.object_id,
    )
    if 300 <= replay.status < 400 or replayer is None:
        response = _redirect_replay(request, replay)
    else:
        response = replayer(request, replay, *args, **kwargs)
    for cookie in replay.cookies:
        response.cookies[cookie["name"]] = cookie["value"]
        for attr, value in cookie["attrs"].items():
            response.cookies[cookie["name"]][attr] = value
    response[f"{HEADER}-Replayed"] = "true"
    return response


def _kept(response: HttpResponse, request: HttpRequest) -> bool:
    if response.status_code >= 400 or getattr(response, "streaming", False):
        return False
    return 300 <= response.status_code < 400 or hasattr(request, "_idempotency")


def idempotent(scope: str, *, replay: Replayer | None = None) -> Callable[[View], View]:
    """Make a POST view idempotent by key (see the module's docstring). ``replay(request,
    Replay, *args, **kwargs)`` shows again a non-redirect page the view ``remember()``-ed."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            key = posted_key(request) if request.method == "POST" else ""
            if not key:
                return view(request, *args, **kwargs)
            return _once(request, scope, key, view, replay, args, kwargs)

        return wrapped

    return decorate


def _once(
    request: HttpRequest,
    scope: str,
    key: str,
    view: View,
    replayer: Replayer | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> HttpResponse:
    from xinqiao.ops.models import IdempotentRequest

    digest = key_digest(scope, request.path, key)
    rows = IdempotentRequest.objects.filter(scope=scope, key_digest=digest)
    earlier = rows.filter(created_at__gte=timezone.now() - TTL).first()
    if earlier is not None:
        return _replay(request, earlier, key, replayer, args, kwargs)
    try:
        with transaction.atomic():
            rows.filter(created_at__lt=timezone.now() - TTL).delete()
            # The key's row first, in the transaction of the action's writes: a concurrent
            # twin blocks on the unique index here until this commits, then replays.
            with transaction.atomic():
                row = IdempotentRequest.objects.create(scope=scope, key_digest=digest, status=0)
            response = view(request, *args, **kwargs)
            if not _kept(response, request):
                row.delete()
                return response
            marked = getattr(request, "_idempotency", {}) or {}
            obj = marked.get("obj")
            row.status = response.status_code
            if obj is not None:
                row.object_type = obj._meta.label_lower
                row.object_id = str(obj.pk)
            row.sealed = seal(
                key,
                {
                    "location": response.get("Location", ""),
                    "cookies": _cookies(response),
                    "secret": marked.get("secret", ""),
                },
            )
            row.save(update_fields=["status", "object_type", "object_id", "sealed"])
            return response
    except IntegrityError:
        winner = rows.filter(created_at__gte=timezone.now() - TTL).first()
        if winner is None or winner.status == 0:
            raise
        return _replay(request, winner, key, replayer, args, kwargs)


def forget_expired() -> int:
    """Delete the keys older than 24 hours (daily, ``xinqiao.ops.tasks``); how many."""
    from xinqiao.ops.models import IdempotentRequest

    deleted, _by_model = IdempotentRequest.objects.filter(
        created_at__lt=timezone.now() - TTL
    ).delete()
    return deleted
