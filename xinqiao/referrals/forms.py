"""Forms of the referral pages. They check shape only; the rules are in ``actions``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.referrals.actions import MAX_TEXT
from xinqiao.referrals.models import SENDABLE_KINDS, ReferralKind, Urgency

DATE = forms.DateInput(attrs={"type": "date"})
# The receiving units offered, by kind: hospitals first (the crisis path, seed 000 二(六)).
DESTINATION_ORDER = (
    UnitKind.DESIGNATED_HOSPITAL,
    UnitKind.PSYCHIATRIC_INSTITUTION,
    UnitKind.CIVIL_AFFAIRS,
    UnitKind.SCHOOL,
    UnitKind.COMMUNITY,
)


def _text(label: Any, *, required: bool = True, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of referral"),
        choices=[(k, ReferralKind(k).label) for k in SENDABLE_KINDS],
    )
    # Offered grouped by kind of unit (hospitals, civil affairs, schools, communities).
    to_unit = forms.ModelChoiceField(label=_("Receiving unit"), queryset=Unit.objects.none())
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    reason = _text(
        _("Reason for the referral"),
        help_text=_("What the receiving unit needs to know: the problem, what was done so far."),
    )
    contact_phone = forms.CharField(
        label=_("Your contact phone"),
        max_length=32,
        help_text=_("The receiving unit calls this number with questions."),
    )
    emergency_reason = _text(
        _("Emergency reason (only without consent)"),
        required=False,
        help_text=_(
            "Only for a referral to a hospital when the person has not consented to sharing "
            "their data and it cannot wait. It is kept and written to the access log."
        ),
    )

    def __init__(self, *args: Any, units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Unit]", self.fields["to_unit"])
        # Every unit of the city is accepted (so that a deactivated one is refused by the
        # action with a clear message); only active ones are offered.
        field.queryset = units
        groups: dict[str, list[tuple[Any, str]]] = {kind: [] for kind in DESTINATION_ORDER}
        for unit in units:
            if unit.is_active and unit.kind in groups:
                groups[unit.kind].append((unit.pk, unit.name))
        field.choices = [
            ("", "---------"),
            *[(UnitKind(kind).label, rows) for kind, rows in groups.items() if rows],
        ]


class DeclineForm(forms.Form):
    decline_reason = _text(
        _("Why the referral is declined"),
        help_text=_("The referring unit reads this, to find the person another way."),
    )


class OutcomeForm(forms.Form):
    outcome = _text(
        _("Outcome"),
        help_text=_("What was done and what the referring unit should do next."),
    )
    outcome_on = forms.DateField(label=_("Outcome date"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome_on"].initial = timezone.localdate()


class DischargeForm(forms.Form):
    discharged_on = forms.DateField(label=_("Discharged on"), widget=DATE)
    follow_up_plan = _text(
        _("Follow-up plan for the community"),
        help_text=_(
            "Rehabilitation assessment at discharge, medication, how often to follow up, "
            "warning signs of relapse."
        ),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    contact_phone = forms.CharField(
        label=_("Your contact phone"),
        max_length=32,
        help_text=_("The community calls this number with questions."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["discharged_on"].initial = timezone.localdate()
