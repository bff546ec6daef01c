from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xinqiao.assessments.actions import DEFAULT_INVITATION_DAYS, MAX_INVITATION_DAYS
from xinqiao.assessments.models import Respondent
from xinqiao.instruments.engine import Instrument, Item
from xinqiao.instruments.library import library
from xinqiao.orgs.forms import UnitChoiceField
from xinqiao.orgs.models import Unit
from xinqiao.people.models import TargetGroup

DATE = forms.DateInput(attrs={"type": "date"})


def zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def instrument_choices() -> list[tuple[str, str]]:
    return [(code, i.zh if zh() else i.en) for code, i in sorted(library().items())]


def option_choices(item: Item) -> list[tuple[int, str]]:
    return [(o.value, f"{o.zh if zh() else o.en}") for o in item.options]


class InstrumentForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Instrument"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = instrument_choices()  # type: ignore[attr-defined]


class AdministerForm(forms.Form):
    """One radio group per item (arrow keys move within a group, Tab to the next), or the
    whole paper form typed as digits in "quick entry"."""

    quick = forms.CharField(
        label=_("Quick entry"),
        required=False,
        max_length=200,
        help_text=_(
            "Optional: type the answers in item order, e.g. 1 2 1 0 … or 1210…; "
            "it replaces the choices below."
        ),
    )

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.zh if zh() else item.en}",
                choices=option_choices(item),
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def item_fields(self) -> list[Any]:
        return [self[f"item_{item.number}"] for item in self.instrument.items]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        quick = (data.get("quick") or "").strip()
        items = self.instrument.items
        answers: list[int | None]
        if quick:
            parts = re.split(r"[\s,，、;；]+", quick)
            if len(parts) == 1 and all(i.values and max(i.values) < 10 for i in items):
                parts = list(parts[0])
            if not all(re.fullmatch(r"-?\d+", p) for p in parts if p):
                raise forms.ValidationError({"quick": _("Type only digits.")})
            answers = [int(p) for p in parts if p]
        else:
            answers = [data.get(f"item_{item.number}") for item in items]
            for item, answer in zip(items, answers, strict=True):
                if answer is None and not item.optional:
                    self.add_error(f"item_{item.number}", _("Choose an answer."))
            while answers and answers[-1] is None:
                answers.pop()
        data["answers"] = answers
        return data


class InviteForm(forms.Form):
    instrument = forms.ChoiceField(label=_("Instrument"), choices=())
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=MAX_INVITATION_DAYS,
        initial=DEFAULT_INVITATION_DAYS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = instrument_choices()  # type: ignore[attr-defined]


class CampaignForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=100, help_text=_("E.g. Class 3-2, spring screening.")
    )
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    instrument = forms.ChoiceField(label=_("Instrument"), choices=())
    closes_on = forms.DateField(label=_("Closes on"), widget=DATE)
    anonymous = forms.BooleanField(
        label=_("Anonymous: one open link, no files, results only as aggregates"), required=False
    )
    expected_count = forms.IntegerField(
        label=_("People invited (anonymous campaigns)"), required=False, min_value=1
    )
    group = forms.ChoiceField(
        label=_("Invite (campaigns with files)"),
        required=False,
        choices=(),
        help_text=_("A personal link for every active file of the unit, or of one target group."),
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["instrument"].choices = instrument_choices()  # type: ignore[attr-defined]
        self.fields["group"].choices = [  # type: ignore[attr-defined]
            ("", _("Everyone with a file in the unit")),
            *TargetGroup.choices,
        ]
        self.fields["closes_on"].initial = timezone.localdate() + timedelta(days=14)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class StartForm(forms.Form):
    """The consent screen of a self-assessment (R-CONSENT; PIPL Art. 29, 31)."""

    respondent = forms.ChoiceField(
        label=_("Who is answering?"),
        choices=(),
        widget=forms.RadioSelect,
        initial=Respondent.SELF,
    )
    guardian_name = forms.CharField(label=_("Guardian's name"), required=False, max_length=100)
    agree = forms.BooleanField(label=_("I have read the above and agree to take part."))

    def __init__(self, *args: Any, personal: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if personal:
            choices = [
                (Respondent.SELF, _("I am answering for myself")),
                (Respondent.GUARDIAN, _("I am the guardian, answering with the child")),
            ]
        else:
            del self.fields["guardian_name"]
            choices = [
                (Respondent.SELF, _("I am 14 or older")),
                (Respondent.GUARDIAN, _("I am under 14, and my parent or guardian agrees")),
            ]
        self.fields["respondent"].choices = choices  # type: ignore[attr-defined]


def posted_answer(data: Any) -> dict[str, Any] | None:
    """One self-service question's posted answer as ``save_answer``'s keywords (``number``,
    ``value``, ``skipped``); None when it is not a number (the page asks again). Shared by the
    link pages and the portal; the action checks the value against the item's options."""
    try:
        skipped = "skip" in data
        return {
            "number": int(data.get("number", "")),
            "value": None if skipped else int(data.get("answer", "")),
            "skipped": skipped,
        }
    except ValueError:
        return None


def question_context(assessment: Any, language: str) -> dict[str, Any]:
    """What a self-service question screen shows for the current question, in ``language``
    ("zh" or "en"). Shared by the link pages and the portal."""
    instrument = assessment.instrument_definition
    position = min(assessment.position, len(instrument.items) - 1)
    item = instrument.items[position]
    zh = language == "zh"
    return {
        "name": instrument.zh if zh else instrument.en,
        "instructions": (instrument.meta.get("instructions") or {}).get(language, ""),
        "item": item,
        "text": item.zh if zh else item.en,
        "options": [(o.value, o.zh if zh else o.en) for o in item.options],
        "chosen": assessment.answers[position],
        "number": position + 1,
        "count": len(instrument.items),
    }
