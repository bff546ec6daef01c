"""Production start-up gate: ``check --deploy`` must have nothing to say."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_deploy() -> None:
    if not settings.PRODUCTION:
        return
    problems = [
        message
        for message in checks.run_checks(include_deployment_checks=True)
        if message.level >= checks.WARNING and not message.is_silenced()
    ]
    if problems:
        text = "; ".join(f"{m.id}: {m.msg}" for m in problems)
        raise ImproperlyConfigured(f"refusing to start: check --deploy reports {text}")
