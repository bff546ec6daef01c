"""Typed access to the signed-in user (after ``login_required``), as healthchecks'
``hc/accounts/http.py`` does."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from xinqiao.accounts.models import User


def signed_in(request: HttpRequest) -> User:
    return cast(User, request.user)
