"""Forms of the hotline's staff pages: the call form (built for speed, rendered by hand in
``hotline/call_form.html``) and the roster's seat, shift and training forms. Every field has
its own message; the actions check the same rules again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.hotline import categories
from xinqiao.hotline.callrisk import RiskAnswers
from xinqiao.hotline.models import (
    AgeBand,
    CallerType,
    CallReferral,
    Intervention,
    TextRisk,
)
from xinqiao.people.models import Sex, TargetGroup

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]

RISK_QUESTIONS: tuple[tuple[str, Any], ...] = (
    # C-SSRS screener (Posner et al. 2011), past month; behaviour: past 3 months.
    ("risk_wish_dead", _("Wished to be dead or not to wake up (past month)")),
    ("risk_ideation", _("Thoughts of killing themself (past month)")),
    ("risk_method", _("Has thought about how they might do it")),
    ("risk_intent", _("Has some intention of acting on these thoughts")),
    ("risk_plan", _("Has worked out a plan or started to prepare")),
    ("risk_behaviour", _("Attempted or prepared to end their life (past 3 months)")),
    ("risk_harm_others", _("Threatens to harm someone else")),
)


def _category_choices() -> list[tuple[str, str]]:
    return [(code, categories.label_of(code)) for code in categories.codes()]


class CallForm(forms.Form):
    caller_type = forms.ChoiceField(
        label=_("Caller"),
        choices=CallerType.choices,
        error_messages={
            "required": _("Choose who is calling."),
            "invalid_choice": _("Choose who is calling."),
        },
    )
    caller_sex = forms.ChoiceField(
        label=_("Sex"),
        choices=Sex.choices,
        initial=Sex.UNKNOWN,
        error_messages={
            "required": _("Choose the caller's sex, or unknown."),
            "invalid_choice": _("Choose the caller's sex, or unknown."),
        },
    )
    age_band = forms.ChoiceField(
        label=_("Age band"),
        choices=AgeBand.choices,
        initial=AgeBand.UNKNOWN,
        error_messages={
            "required": _("Choose an age band, or unknown."),
            "invalid_choice": _("Choose an age band, or unknown."),
        },
    )
    caller_group = forms.ChoiceField(
        label=_("Caller's group"),
        required=False,
        choices=[("", _("General public / not known")), *TargetGroup.choices],
        error_messages={"invalid_choice": _("Choose a group from the list.")},
    )
    area = forms.ChoiceField(
        label=_("Caller's street"),
        required=False,
        choices=[],
        error_messages={"invalid_choice": _("Choose a street from the list.")},
    )
    problems = forms.MultipleChoiceField(
        label=_("Problems"),
        choices=_category_choices,
        error_messages={
            "required": _("Choose at least one problem category."),
            "invalid_choice": _("Unknown problem category: %(value)s."),
        },
    )
    risk = forms.ChoiceField(
        label=_("Your judgement of the risk"),
        choices=TextRisk.choices,
        initial=TextRisk.NONE,
        error_messages={
            "required": _("Choose a risk level."),
            "invalid_choice": _("Choose a risk level."),
        },
    )
    interventions = forms.MultipleChoiceField(
        label=_("Intervention given"),
        required=False,
        choices=Intervention.choices,
        error_messages={"invalid_choice": _("Unknown intervention: %(value)s.")},
    )
    referral = forms.ChoiceField(
        label=_("Referral"),
        choices=CallReferral.choices,
        initial=CallReferral.NONE,
        error_messages={
            "required": _("Choose a referral from the list."),
            "invalid_choice": _("Choose a referral from the list."),
        },
    )
    callback_at = forms.DateTimeField(
        label=_("Call back at"),
        required=False,
        input_formats=DATETIME_FORMATS,
        error_messages={"invalid": _("Enter the call-back time like 2026-03-01 14:30.")},
    )
    callback_phone = forms.CharField(
        label=_("Call-back number"),
        required=False,
        max_length=40,
        error_messages={"max_length": _("Keep the number to 40 characters.")},
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=20000,
        strip=True,
        error_messages={"max_length": _("Keep the notes to 20,000 characters.")},
    )
    person = forms.UUIDField(
        label=_("Person file"),
        required=False,
        error_messages={"invalid": _("Choose a person file from the search results.")},
    )
    started_at = forms.DateTimeField(
        label=_("Started"),
        input_formats=DATETIME_FORMATS,
        error_messages={
            "required": _("Enter when the call started."),
            "invalid": _("Enter the start like 2026-03-01 14:30:00."),
        },
    )
    ended_at = forms.DateTimeField(
        label=_("Ended"),
        required=False,
        input_formats=DATETIME_FORMATS,
        error_messages={"invalid": _("Enter the end like 2026-03-01 14:45:00.")},
    )
    centre = forms.ChoiceField(
        label=_("Centre"),
        choices=[],
        error_messages={
            "required": _("Choose the centre."),
            "invalid_choice": _("Choose the centre."),
        },
    )

    def __init__(self, *args: Any, streets: list[Any], centres: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in RISK_QUESTIONS:
            self.fields[name] = forms.BooleanField(label=label, required=False)
        self.streets = {str(s.pk): s for s in streets}
        self.centres = {str(c.pk): c for c in centres}
        area = self.fields["area"]
        assert isinstance(area, forms.ChoiceField)  # noqa: S101 -- declared above
        area.choices = [("", _("Not said")), *[(k, s.name) for k, s in self.streets.items()]]
        centre = self.fields["centre"]
        assert isinstance(centre, forms.ChoiceField)  # noqa: S101 -- declared above
        centre.choices = [(k, c.name) for k, c in self.centres.items()]
        if len(self.centres) == 1:
            centre.initial = next(iter(self.centres))

    def answers(self) -> RiskAnswers:
        d = self.cleaned_data
        return RiskAnswers(
            wish_dead=bool(d.get("risk_wish_dead")),
            ideation=bool(d.get("risk_ideation")),
            method=bool(d.get("risk_method")),
            intent=bool(d.get("risk_intent")),
            plan=bool(d.get("risk_plan")),
            behaviour=bool(d.get("risk_behaviour")),
            harm_others=bool(d.get("risk_harm_others")),
        )


class SeatForm(forms.Form):
    name = forms.CharField(
        label=_("Seat name"),
        max_length=40,
        error_messages={
            "required": _("Give the seat a name."),
            "max_length": _("Keep the name to 40 characters."),
        },
    )


class ShiftForm(forms.Form):
    seat = forms.UUIDField(
        label=_("Seat"),
        error_messages={"required": _("Choose a seat."), "invalid": _("Choose a seat.")},
    )
    operator = forms.UUIDField(
        label=_("Operator"),
        error_messages={
            "required": _("Choose an operator."),
            "invalid": _("Choose an operator."),
        },
    )
    starts_at = forms.DateTimeField(
        label=_("From"),
        input_formats=DATETIME_FORMATS,
        error_messages={
            "required": _("Enter when the shift starts."),
            "invalid": _("Enter the start like 2026-03-01 08:00."),
        },
    )
    ends_at = forms.DateTimeField(
        label=_("Until"),
        input_formats=DATETIME_FORMATS,
        error_messages={
            "required": _("Enter when the shift ends."),
            "invalid": _("Enter the end like 2026-03-01 16:00."),
        },
    )


class TrainingForm(forms.Form):
    operator = forms.UUIDField(
        label=_("Operator"),
        error_messages={
            "required": _("Choose an operator."),
            "invalid": _("Choose an operator."),
        },
    )
    course = forms.CharField(
        label=_("Course"),
        max_length=200,
        error_messages={
            "required": _("Name the course."),
            "max_length": _("Keep the course name to 200 characters."),
        },
    )
    completed_on = forms.DateField(
        label=_("Completed on"),
        error_messages={
            "required": _("Enter the date the course was completed."),
            "invalid": _("Enter a date like 2026-03-01."),
        },
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        error_messages={"invalid": _("Enter a date like 2027-03-01.")},
    )
