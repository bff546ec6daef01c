"""Forms of counselling pages; errors name the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.concurrency import VersionedForm
from xinqiao.counselling.models import (
    Programme,
    SessionFormat,
    SessionKind,
    Technique,
    Toolkit,
)

CASE_WIDGET = forms.Textarea(attrs={"rows": 3})


class SessionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of session"), choices=SessionKind.choices)
    format = forms.ChoiceField(label=_("Format"), choices=SessionFormat.choices)
    held_at = forms.DateTimeField(
        label=_("Held at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    minutes = forms.IntegerField(label=_("Minutes"), initial=50, min_value=1, max_value=600)
    title = forms.CharField(label=_("Topic"), max_length=200, required=False)
    techniques = forms.MultipleChoiceField(
        label=_("Techniques used"),
        choices=Technique.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    toolkit = forms.MultipleChoiceField(
        label=_("Toolkit handed out"),
        choices=Toolkit.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    plan = forms.CharField(label=_("Plan"), required=False, widget=CASE_WIDGET)
    programme = forms.ModelChoiceField(
        label=_("Programme"), queryset=Programme.objects.none(), required=False
    )
    basic_situation = forms.CharField(
        label=_("Basic situation"), required=False, widget=CASE_WIDGET
    )
    self_evaluation = forms.CharField(
        label=_("Self-evaluation"), required=False, widget=CASE_WIDGET
    )
    life_events = forms.CharField(
        label=_("Life events that caused distress"), required=False, widget=CASE_WIDGET
    )
    advice = forms.CharField(label=_("Counselling advice"), required=False, widget=CASE_WIDGET)
    note = forms.CharField(label=_("Note"), required=False, widget=CASE_WIDGET)
    participants = forms.MultipleChoiceField(
        label=_("Participants"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, programmes: Any, people: list[Any] | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes  # type: ignore[attr-defined]
        if people is None:  # one person, from their file
            del self.fields["participants"]
            kind_field: Any = self.fields["kind"]
            kind_field.choices = [(SessionKind.INDIVIDUAL, SessionKind.INDIVIDUAL.label)]
        else:
            self.fields["participants"].choices = [(str(p.pk), p.name) for p in people]  # type: ignore[attr-defined]
            kind_choices: Any = self.fields["kind"]
            kind_choices.choices = [
                (SessionKind.FAMILY, SessionKind.FAMILY.label),
                (SessionKind.GROUP, SessionKind.GROUP.label),
            ]
            for name in ("basic_situation", "self_evaluation", "life_events", "advice", "note"):
                del self.fields[name]


class CaseRecordForm(VersionedForm):
    basic_situation = forms.CharField(
        label=_("Basic situation"), required=False, widget=CASE_WIDGET
    )
    self_evaluation = forms.CharField(
        label=_("Self-evaluation"), required=False, widget=CASE_WIDGET
    )
    life_events = forms.CharField(
        label=_("Life events that caused distress"), required=False, widget=CASE_WIDGET
    )
    advice = forms.CharField(label=_("Counselling advice"), required=False, widget=CASE_WIDGET)
    note = forms.CharField(label=_("Note"), required=False, widget=CASE_WIDGET)


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Programme.Kind.choices)
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
