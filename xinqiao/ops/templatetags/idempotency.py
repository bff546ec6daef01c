"""``{% idempotency_field %}``: the hidden idempotency key of a public form, a new random UUID
each time the form is shown (``xinqiao.lib.idempotency``)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from xinqiao.lib.idempotency import FIELD, new_key

register = template.Library()


@register.simple_tag
def idempotency_field() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_key())
