"""Helpers shared by every form-handling view: run an action, show its errors or success."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

T = TypeVar("T")


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put an action's ``ValidationError`` onto the form, by field where the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def submit(
    request: HttpRequest, form: forms.BaseForm, save: Callable[[dict[str, Any]], T], success: str
) -> T | None:
    """On a valid POST, call ``save(cleaned_data)``; errors go onto the form, success into a
    message. Returns what ``save`` returned, or None if nothing was saved."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = save(form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return None
    messages.success(request, success)
    return result


def report(request: HttpRequest, run: Callable[[], object], success: str) -> bool:
    """For buttons without a form: run the action and report the outcome as a message."""
    try:
        run()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


def person_form_page(
    request: HttpRequest, person: Any, form: forms.BaseForm, title: str
) -> HttpResponse:
    """A form about one person (a change to the file, a report, a referral …) on its own
    page, under the person's name."""
    return render(request, "people/subform.html", {"person": person, "form": form, "title": title})
