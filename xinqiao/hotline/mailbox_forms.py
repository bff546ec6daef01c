"""Forms of the worry mailbox: the writer's message, the code to come back, the follow-up;
the counsellor's answer and category. Every field has its own message in the writer's
language; the actions check the same rules again."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xinqiao.hotline import mailbox_actions as actions
from xinqiao.hotline.categories import TAXONOMY
from xinqiao.hotline.models import AgeBand, MessageKind
from xinqiao.orgs.models import Unit
from xinqiao.people.models import TargetGroup

ANONYMOUS = "anonymous"
WITH_CONTACT = "contact"
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
WECHAT = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{5,19}$")


# Lazy: these strings are built when the module is imported, and must be translated when the
# page is shown, in the writer's language (a lazy string's % would freeze the import's).
def _too_long(limit: int) -> Any:
    return lazy(
        lambda: gettext("Too long: at most %(limit)d characters.") % {"limit": limit}, str
    )()


def _at_most(limit: int) -> Any:
    return lazy(lambda: gettext("At most %(limit)d characters.") % {"limit": limit}, str)()


class WriteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What would you like?"),
        choices=[
            (MessageKind.MAILBOX, _("Write to the worry mailbox (an answer in writing)")),
            (MessageKind.CONSULTATION, _("Ask for an online consultation (a counsellor replies)")),
        ],
        initial=MessageKind.MAILBOX,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the worry mailbox or an online consultation."),
            "invalid_choice": _("Choose the worry mailbox or an online consultation."),
        },
    )
    reach = forms.ChoiceField(
        label=_("Anonymous or with a contact"),
        choices=[
            (ANONYMOUS, _("Stay anonymous: I will come back with my reference code")),
            (WITH_CONTACT, _("Leave a contact so that a counsellor can reach me")),
        ],
        initial=ANONYMOUS,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether to stay anonymous."),
            "invalid_choice": _("Choose whether to stay anonymous."),
        },
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        required=False,
        max_length=actions.MAX_CONTACT,
        error_messages={"max_length": _too_long(actions.MAX_CONTACT)},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail (optional)"),
        required=False,
        max_length=actions.MAX_CONTACT,
        error_messages={
            "invalid": _("Enter an e-mail address like name@example.com."),
            "max_length": _too_long(actions.MAX_CONTACT),
        },
    )
    wechat = forms.CharField(
        label=_("WeChat ID (optional)"),
        required=False,
        max_length=actions.MAX_CONTACT,
        error_messages={"max_length": _too_long(actions.MAX_CONTACT)},
    )
    age_band = forms.ChoiceField(
        label=_("Age (optional)"),
        choices=[(AgeBand.UNKNOWN, _("Prefer not to say"))]
        + [(v, label) for v, label in AgeBand.choices if v != AgeBand.UNKNOWN],
        initial=AgeBand.UNKNOWN,
        required=False,
        error_messages={"invalid_choice": _("Choose an age band from the list.")},
    )
    writer_group = forms.ChoiceField(
        label=_("Are you one of these groups? (optional)"),
        choices=[("", _("Prefer not to say, or none of these")), *TargetGroup.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose a group from the list.")},
    )
    area = forms.ChoiceField(
        label=_("Where you live (optional)"),
        required=False,
        help_text=_("Only used to count which areas need more help."),
        error_messages={"invalid_choice": _("Choose a street from the list.")},
    )
    subject = forms.CharField(
        label=_("Subject (optional)"),
        required=False,
        max_length=actions.MAX_SUBJECT,
        error_messages={"max_length": _too_long(actions.MAX_SUBJECT)},
    )
    body = forms.CharField(
        label=_("Your message"),
        max_length=actions.MAX_BODY,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_at_most(actions.MAX_BODY),
        error_messages={
            "required": _("Please write your message."),
            "max_length": _(
                "The message is too long: at most %(limit_value)d characters "
                "(it has %(show_value)d). Please shorten it or send it in two parts."
            ),
        },
    )

    def __init__(self, *args: Any, streets: list[Unit] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.streets = {str(s.pk): s for s in streets or []}
        area = self.fields["area"]
        if isinstance(area, forms.ChoiceField):
            area.choices = [("", _("Prefer not to say"))] + [
                (pk, s.name) for pk, s in self.streets.items()
            ]

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data.get("phone") or "").strip()
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(
                _("Enter a phone number with digits only, e.g. 13800000000.")
            )
        return phone

    def clean_wechat(self) -> str:
        wechat = str(self.cleaned_data.get("wechat") or "").strip()
        if wechat and not WECHAT.match(wechat):
            raise forms.ValidationError(
                _("A WeChat ID has 6–20 letters, digits, - or _, starting with a letter.")
            )
        return wechat

    def clean_body(self) -> str:
        body = str(self.cleaned_data.get("body") or "")
        if not body.strip():
            raise forms.ValidationError(_("Please write your message."))
        return body

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contact_fields = ("phone", "email", "wechat")
        if (
            data.get("reach") == WITH_CONTACT
            and not any(data.get(f) for f in contact_fields)
            and not any(f in self.errors for f in contact_fields)
        ):
            self.add_error(
                "phone",
                _("Leave a phone number, an e-mail or a WeChat ID, or choose anonymous."),
            )
        return data

    def contact(self) -> actions.Contact:
        data = self.cleaned_data
        if data.get("reach") != WITH_CONTACT:
            return actions.Contact()
        return actions.Contact(
            phone=data.get("phone") or "",
            email=data.get("email") or "",
            wechat=data.get("wechat") or "",
        )

    def area_unit(self) -> Unit | None:
        return self.streets.get(self.cleaned_data.get("area") or "")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Your reference code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={
            "required": _("Enter the reference code you were given."),
            "max_length": _("Enter the reference code you were given."),
        },
    )


class FollowUpForm(forms.Form):
    body = forms.CharField(
        label=_("Write again"),
        max_length=actions.MAX_BODY,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": _("Please write your message."),
            "max_length": _(
                "The message is too long: at most %(limit_value)d characters "
                "(it has %(show_value)d). Please shorten it or send it in two parts."
            ),
        },
    )

    def clean_body(self) -> str:
        body = str(self.cleaned_data.get("body") or "")
        if not body.strip():
            raise forms.ValidationError(_("Please write your message."))
        return body


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=actions.MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": _("Write the answer."),
            "max_length": _too_long(actions.MAX_ANSWER),
        },
    )


def category_choices() -> list[tuple[str, Any]]:
    return [("", _("Not set"))] + [(c.code, c.label) for c in TAXONOMY]
