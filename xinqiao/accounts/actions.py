"""Writes to accounts: staff creation, passwords, activation, lockout reset, API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.accounts.models import ApiToken, User
from xinqiao.audit.log import acting
from xinqiao.lib.crypto import digest_token
from xinqiao.orgs.actions import _require_staff_manage, grant_role, update_staff_profile
from xinqiao.orgs.models import Profession, Qualification, Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def _clean_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not username:
        raise ValidationError({"username": _("This field is required.")})
    if len(username) < 3 or len(username) > 40 or not set(username) <= USERNAME_CHARS:
        raise ValidationError(
            {"username": _("Use 3–40 lower-case letters, digits, dots, dashes or underscores.")}
        )
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    return username


@transaction.atomic
def create_staff(
    *,
    acting_user: Any | None,
    username: str,
    name: str,
    password: str,
    unit: Unit,
    role: str,
    email: str = "",
    profession: str = Profession.OTHER,
    qualification: str = Qualification.NONE,
    qualification_number: str = "",
    language: str = "zh-hans",
) -> User:
    """Create a staff account with its first role and its profile, in one transaction."""
    username = _clean_username(username)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    user = User(username=username, name=name, email=email, language=language)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    with acting(acting_user):
        user.save()
    grant_role(acting_user=acting_user, user=user, unit=unit, role=role)
    if acting_user is None:
        from xinqiao.orgs.models import StaffProfile

        StaffProfile.objects.create(
            user=user,
            profession=profession,
            qualification=qualification,
            qualification_number=qualification_number,
        )
    else:
        update_staff_profile(
            acting_user=acting_user,
            user=user,
            profession=profession,
            qualification=qualification,
            qualification_number=qualification_number,
        )
    return user


@transaction.atomic
def set_user_active(*, acting_user: Any, user: User, active: bool) -> User:
    """Deactivate or reactivate an account. Accounts are never deleted."""
    _require_staff_manage(acting_user, user)
    if user.pk == acting_user.pk and not active:
        raise ValidationError({"user": _("You cannot deactivate your own account.")})
    user.is_active = active
    with acting(acting_user):
        user.save(update_fields=["is_active"])
        if not active:
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
    return user


def unlock_user(*, acting_user: Any, user: User) -> int:
    """Clear failed-login lockouts for ``user``; returns how many records were cleared."""
    from axes.handlers.proxy import AxesProxyHandler

    _require_staff_manage(acting_user, user)
    return int(AxesProxyHandler.reset_attempts(username=user.username) or 0)


@transaction.atomic
def change_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": _("Your current password is not correct.")})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    with acting(user):
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def issue_api_token(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the raw token (shown only once)."""
    if not can(user, Action.API_TOKEN_OWN):
        raise ValidationError({"name": _("Your role may not use the API.")})
    name = (name or "").strip() or "api"
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    lifetime = days if days is not None else settings.XINQIAO_API_TOKEN_DAYS
    if lifetime < 1 or lifetime > 366:
        raise ValidationError({"days": _("A token lives between 1 and 366 days.")})
    raw = "xq_" + secrets.token_urlsafe(32)
    with acting(user):
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[3:11],
            digest=digest_token(raw),
            expires_at=timezone.now() + timedelta(days=lifetime),
        )
    return token, raw


@transaction.atomic
def revoke_api_token(*, user: User, token: ApiToken) -> None:
    if token.user_id != user.pk:
        raise ValidationError({"token": _("Not your token.")})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        with acting(user):
            token.save(update_fields=["revoked_at"])
