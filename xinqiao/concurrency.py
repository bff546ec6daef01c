"""Optimistic concurrency for edits (issue #10 item 5): a stale edit is refused with a message
showing what changed, never silently overwrites.

A model edited through a form has a ``version`` that every ``save()`` of an existing row bumps
(``bump_version``, called from the model's ``save``), whoever saves it: an edit, an import, a
recomputed priority level. The edit form carries, in hidden fields (``VersionedForm``), the
version it was read at and a signed token of keyed digests of the values the user saw. The
action locks the row (``select_for_update``, inside its transaction), and ``check_version``
compares:

* the same version: nothing was saved since — the edit goes ahead;
* another version: the digests say which of the form's fields changed since it was read. None
  (only something the form does not show changed, e.g. the priority level) — the edit goes
  ahead; some — ``StaleEdit`` names them, and the page (status 409) shows their current
  values above the user's own input, which is kept — the fields the user had not touched take
  the current values — with the new version: saving again overwrites knowingly.

Callers that pass no version (the API, imports, other actions) work as before. The row is saved
through ``save()`` (never ``QuerySet.update``): the aggregate tables watch saves through signals
(``xinqiao.reports.tally``). The digests are HMACs under the secret key; the token carries no
value, and the refusal's message names fields, never values (nothing personal reaches a log).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django import forms
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpRequest
from django.template.defaultfilters import yesno
from django.utils.crypto import salted_hmac
from django.utils.text import capfirst
from django.utils.translation import gettext as _

T = TypeVar("T")

VERSION = "version"
DIGESTS = "read_digests"
_SALT = "xinqiao.concurrency"
# Long free texts (case records) are cut in the refusal's list of current values.
SHOWN_CHARS = 300


def bump_version(instance: models.Model, kwargs: dict[str, Any]) -> None:
    """Call from ``save(self, *args, **kwargs)`` before ``super().save``: an existing row's
    version goes up by one (and joins ``update_fields`` when those are given)."""
    if instance._state.adding:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None:
        update_fields = list(update_fields)
        if not update_fields:
            return
        if VERSION not in update_fields:
            kwargs["update_fields"] = [*update_fields, VERSION]
    instance.version = (getattr(instance, VERSION, None) or 0) + 1  # type: ignore[attr-defined]


def _canonical(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return str(value)


def _raw(instance: models.Model, name: str) -> Any:
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist:
        return getattr(instance, name)
    return getattr(instance, getattr(field, "attname", name))


_UNSET = object()


def _digest(instance: models.Model, name: str, value: Any = _UNSET) -> str:
    """The keyed digest of a field's value (the stored one, or ``value``), bound to the row."""
    raw = _raw(instance, name) if value is _UNSET else value
    message = f"{instance._meta.label_lower}:{instance.pk}:{name}:{_canonical(raw)}"
    return salted_hmac(_SALT, message, algorithm="sha256").hexdigest()[:20]


def read_token(instance: models.Model, fields: Iterable[str]) -> str:
    """What the user saw, as a signed token of keyed digests (one per field)."""
    return signing.dumps(
        {name: _digest(instance, name) for name in fields}, salt=_SALT, compress=True
    )


def versioned_initial(instance: models.Model | None, fields: Iterable[str]) -> dict[str, Any]:
    """The hidden fields' initial values for an edit form of ``instance`` (none for None)."""
    if instance is None:
        return {}
    return {VERSION: instance.version, DIGESTS: read_token(instance, fields)}  # type: ignore[attr-defined]


def _read(token: str) -> dict[str, str] | None:
    try:
        value = signing.loads(token or "", salt=_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, dict) else None


class StaleEdit(ValidationError):
    """Someone saved the row after the user read it. ``changed`` lists the fields that differ
    from what the user saw (empty when that cannot be told: no token came with the version);
    ``current`` is the row as it is now (locked), ``fields`` the fields the edit covers."""

    def __init__(
        self,
        current: models.Model,
        changed: list[str],
        fields: Sequence[str],
        seen: dict[str, str] | None = None,
    ) -> None:
        self.current = current
        self.changed = changed
        self.fields = tuple(fields)
        self.seen = seen or {}
        if changed:
            message = _("Someone else changed this record while you were editing: %(fields)s.") % {
                "fields": "、".join(_label(current, name) for name in changed)
            }
        else:
            message = _("Someone else changed this record while you were editing.")
        super().__init__({NON_FIELD_ERRORS: [ValidationError(message, code="stale")]})


def check_version(
    current: models.Model, *, expected: int | None, token: str = "", fields: Sequence[str]
) -> None:
    """Raise ``StaleEdit`` when ``current`` (locked by the caller) moved on from the version
    ``expected`` in one of ``fields``. ``expected`` None: the caller does not ask for a check."""
    if expected is None or current.version == expected:  # type: ignore[attr-defined]
        return
    seen = _read(token)
    if seen is None:
        raise StaleEdit(current, [], fields)
    changed = [name for name in fields if seen.get(name) != _digest(current, name)]
    if changed:
        raise StaleEdit(current, changed, fields, seen)


# --- forms and views -----------------------------------------------------------------------


class VersionedForm(forms.Form):
    """Mixed into an edit form: the version it was read at and what the user saw."""

    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput, label="")
    read_digests = forms.CharField(
        required=False, max_length=4000, widget=forms.HiddenInput, label=""
    )


def _label(instance: models.Model, name: str, form: forms.BaseForm | None = None) -> str:
    if form is not None and name in form.fields and form.fields[name].label:
        return str(form.fields[name].label)
    try:
        return str(capfirst(instance._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
    except FieldDoesNotExist:
        return name


def shown(instance: models.Model, name: str) -> str:
    """A field's current value as the page shows it."""
    value = getattr(instance, name)
    try:
        field: Any = instance._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(yesno(value))  # Django's own catalogue: 是 / 否
    if field is not None and field.choices:
        labels = dict(field.flatchoices)
        if isinstance(value, list):
            return "、".join(str(labels.get(v, v)) for v in value)
        return str(labels.get(value, value))
    if isinstance(value, datetime.date | datetime.datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def _untouched(form: forms.BaseForm, exc: StaleEdit) -> list[str]:
    """The changed fields the user left as they read them (their input equals what they saw)."""
    cleaned = getattr(form, "cleaned_data", {})
    return [
        name
        for name in exc.changed
        if name in form.fields
        and name in cleaned
        and name in exc.seen
        and _digest(exc.current, name, cleaned[name]) == exc.seen[name]
    ]


def conflict_messages(form: forms.BaseForm, exc: StaleEdit, heading: str) -> list[str]:
    """The refusal as the page shows it: ``heading`` (with ``%(fields)s``, the changed fields'
    labels), each changed field's current value, and what to do next."""
    current = exc.current
    if not exc.changed:
        lines = [_("Someone else changed this record while you were editing.")]
    else:
        labels = "、".join(_label(current, name, form) for name in exc.changed)
        lines = [heading % {"fields": labels}]
        lines += [
            _("%(field)s is now: %(value)s")
            % {"field": _label(current, name, form), "value": shown(current, name)}
            for name in exc.changed
        ]
    lines.append(
        _(
            "Your input is kept below; the fields you had not changed show the current values. "
            "Check it and save again to replace the current values, or leave the page to keep "
            "them."
        )
    )
    return lines


def _put(data: Any, form: forms.BaseForm, name: str, value: Any) -> None:
    """Set a field of the re-shown form to the row's current value, as a browser would post it."""
    key = form.add_prefix(name)
    if isinstance(value, bool):
        if value:
            data[key] = "on"
        else:
            data.pop(key, None)
    elif isinstance(value, list | tuple):
        data.setlist(key, [str(v) for v in value])
    elif value is None:
        data[key] = ""
    elif isinstance(value, datetime.date):
        data[key] = value.isoformat()
    else:
        data[key] = str(value)


def _carry(form: forms.BaseForm, exc: StaleEdit) -> None:
    """The re-shown form carries the current version, the user's input in the fields they
    changed and the current values in the others: saving it again is a deliberate edit that
    undoes nobody's change unseen."""
    current = exc.current
    data = form.data.copy()  # type: ignore[attr-defined]
    for name in _untouched(form, exc):
        _put(data, form, name, _raw(current, name))
    data[form.add_prefix(VERSION)] = str(current.version)  # type: ignore[attr-defined]
    data[form.add_prefix(DIGESTS)] = read_token(current, exc.fields)
    form.data = data


def submit_edit(
    request: HttpRequest,
    form: forms.BaseForm,
    save: Callable[[dict[str, Any], int | None, str], T],
    success: str,
    *,
    heading: str,
) -> tuple[T | None, bool]:
    """``xinqiao.workbench.forms.submit`` for a ``VersionedForm``: ``save(data, expected_version,
    token)`` gets the cleaned data without the hidden fields. Returns (what ``save`` returned
    or None, whether the edit was refused as stale — answer 409 then)."""
    from xinqiao.workbench.forms import submit

    stale: list[StaleEdit] = []

    def guarded(data: dict[str, Any]) -> T:
        data = dict(data)
        expected = data.pop(VERSION, None)
        token = data.pop(DIGESTS, "") or ""
        try:
            return save(data, expected, token)
        except StaleEdit as exc:
            stale.append(exc)
            lines = conflict_messages(form, exc, heading)
            raise ValidationError({NON_FIELD_ERRORS: lines}) from None

    result = submit(request, form, guarded, success)
    if stale:
        _carry(form, stale[0])
    return result, bool(stale)
