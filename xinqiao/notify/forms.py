from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.notify.models import Channel

_LABELS = {
    Channel.EMAIL: ("by_email", _("Send me an email as well")),
    Channel.SMS: ("by_sms", _("Send me a text message as well")),
    Channel.WEBHOOK: ("by_webhook", _("Post my notifications in the group chat")),
}


class PreferenceForm(forms.Form):
    """The user's own settings: only the channels this deployment has switched on."""

    def __init__(self, *args: Any, channels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if Channel.SMS in channels:
            self.fields["mobile"] = forms.CharField(
                label=_("Mobile number"),
                required=False,
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
                help_text=_("11 digits. Used only to send you text messages."),
            )
        for channel in channels:
            name, label = _LABELS[Channel(channel)]
            self.fields[name] = forms.BooleanField(label=label, required=False)
