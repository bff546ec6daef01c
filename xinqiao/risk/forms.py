from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from xinqiao.risk.actions import ContactMode
from xinqiao.risk.models import (
    Compliance,
    ConcernBehaviour,
    CustodyRole,
    Insight,
    PhysicalIllness,
    RequiredAction,
    RiskLevel,
    Severity3,
    SmiDiagnosis,
    SocialFunction,
    Symptoms,
)

# The national definitions of the risk grades (CLINICAL.md; xinqiao/risk/smi.py).
SMI_GRADE_LABELS = {
    0: _("0 — none of the behaviours below"),
    1: _("1 — verbal threats, shouting, no smashing"),
    2: _("2 — smashing at home, against property, stops when persuaded"),
    3: _("3 — obvious smashing, anywhere, against property, does not stop when persuaded"),
    4: _(
        "4 — persistent smashing, anywhere, against property or people, does not stop when "
        "persuaded (includes self-harm and suicide)"
    ),
    5: _(
        "5 — any violence against people with a weapon, or arson or explosion, at home or in public"
    ),
}


class ConcernForm(forms.Form):
    behaviours = forms.MultipleChoiceField(
        label=_("What did you see?"),
        choices=ConcernBehaviour.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        label=_("In your words"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ContactForm(forms.Form):
    mode = forms.ChoiceField(label=_("How"), choices=ContactMode.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(
        label=pgettext_lazy("alert", "Outcome"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class LevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("Risk level"), choices=RiskLevel.choices, coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ResponseForm(forms.Form):
    alert = forms.BooleanField(label=_("Raises an alert"), required=False)
    ack_minutes = forms.IntegerField(label=_("Acknowledge within (minutes)"), min_value=1)
    notify_team = forms.BooleanField(label=_("Tell the community team"), required=False)
    notify_street = forms.BooleanField(
        label=_("Report to the street office at once"), required=False
    )
    action = forms.ChoiceField(label=_("Required action"), choices=RequiredAction.choices)
    followup_days = forms.IntegerField(
        label=_("Follow up every (days)"), min_value=1, max_value=180
    )

    def __init__(self, *args: Any, level: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"level{level}")
        super().__init__(*args, **kwargs)
        self.level = level


class SmiRegisterForm(forms.Form):
    diagnosis = forms.ChoiceField(label=_("Diagnosis"), choices=SmiDiagnosis.choices)
    diagnosed_on = forms.DateField(
        label=_("Diagnosed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    guardian_name = forms.CharField(label=_("Guardian"), required=False, max_length=100)
    guardian_phone = forms.CharField(label=_("Guardian's phone"), required=False, max_length=30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The custody group (监护小组): up to five members.
        for n in range(1, 6):
            self.fields[f"custody_{n}_name"] = forms.CharField(
                label=_("Custody group member %(n)d") % {"n": n}, required=False, max_length=100
            )
            self.fields[f"custody_{n}_role"] = forms.ChoiceField(
                label=_("Role"), choices=[("", "—"), *CustodyRole.choices], required=False
            )
            self.fields[f"custody_{n}_phone"] = forms.CharField(
                label=_("Phone"), required=False, max_length=30
            )

    def custody(self) -> list[tuple[str, str, str]]:
        data = self.cleaned_data
        rows = []
        for n in range(1, 6):
            name = (data.get(f"custody_{n}_name") or "").strip()
            role = data.get(f"custody_{n}_role") or ""
            if name or role:
                rows.append((name, role, data.get(f"custody_{n}_phone") or ""))
        return rows


class SmiFollowUpForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    risk_grade = forms.TypedChoiceField(
        label=_("Risk grade"),
        coerce=int,
        choices=list(SMI_GRADE_LABELS.items()),
        widget=forms.RadioSelect,
    )
    symptoms = forms.ChoiceField(label=_("Psychotic symptoms"), choices=Symptoms.choices)
    insight = forms.ChoiceField(label=_("Insight"), choices=Insight.choices)
    social_function = forms.ChoiceField(label=_("Social function"), choices=SocialFunction.choices)
    adverse_reaction = forms.ChoiceField(
        label=_("Adverse drug reaction"), choices=Severity3.choices
    )
    physical_illness = forms.ChoiceField(
        label=_("Physical illness"), choices=PhysicalIllness.choices
    )
    compliance = forms.ChoiceField(label=_("Takes the medication"), choices=Compliance.choices)
    medication = forms.CharField(
        label=_("Medication and doses"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    adverse_effects = forms.CharField(
        label=_("Adverse effects"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    guidance = forms.CharField(
        label=_("Guidance given (medication, family support)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
