from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.concurrency import VersionedForm
from xinqiao.followups.models import CurrentState, Toolkit, VisitMode, VisitOutcome


class VisitForm(VersionedForm):
    visited_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    mode = forms.ChoiceField(label=_("Mode"), choices=VisitMode.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=VisitOutcome.choices)
    assessment = forms.ChoiceField(label=_("Assessment given"), required=False, choices=())
    counselling = forms.CharField(
        label=_("Counselling given"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    guidance = forms.CharField(
        label=_("Health guidance"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    toolkit = forms.MultipleChoiceField(
        label=_("Toolkit handed out"),
        required=False,
        choices=Toolkit.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    state = forms.ChoiceField(label=_("Current state"), choices=CurrentState.choices)
    state_note = forms.CharField(
        label=_("Note on the current state"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_due = forms.DateField(
        label=_("Next follow-up due"),
        required=False,
        help_text=_("Empty: from the plan's interval."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, assessments: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessment"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(a.pk), f"{a.instrument} {a.completed_at or a.started_at:%Y-%m-%d}")
            for a in assessments
        ]
