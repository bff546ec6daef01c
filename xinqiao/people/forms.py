from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinqiao.concurrency import VersionedForm
from xinqiao.orgs.forms import UnitChoiceField
from xinqiao.orgs.models import Unit
from xinqiao.people.actions import ErasureReason
from xinqiao.people.models import (
    ConsentGiver,
    ConsentMethod,
    ConsentPurpose,
    FileStatus,
    HospitalOutcome,
    IdType,
    ImportMode,
    IsolationKind,
    LinkKind,
    Relationship,
    Sex,
    TargetGroup,
)

DATE = forms.DateInput(attrs={"type": "date"})


class PersonForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit (or grid)"), queryset=Unit.objects.none())
    name = forms.CharField(label=_("Full name"), max_length=100)
    id_type = forms.ChoiceField(
        label=_("Document type"), choices=IdType.choices, initial=IdType.RESIDENT_ID
    )
    id_number = forms.CharField(label=_("Document number"), max_length=40, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=DATE,
        help_text=_("Taken from a resident ID number if left empty."),
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_relation = forms.CharField(
        label=_("Relation to the person"), max_length=50, required=False
    )
    contact_phone = forms.CharField(
        label=_("Contact person's phone"), max_length=30, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_deceased = forms.BooleanField(label=_("Deceased"), required=False)
    date_of_death = forms.DateField(label=_("Date of death"), required=False, widget=DATE)

    def __init__(self, *args: Any, units: Any, with_groups: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        if with_groups:
            self.fields["groups"] = forms.MultipleChoiceField(
                label=_("Target groups"),
                choices=TargetGroup.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )


class PersonEditForm(VersionedForm, PersonForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, units=Unit.objects.none(), with_groups=False, **kwargs)
        del self.fields["unit"]


class PersonFilterForm(forms.Form):
    # The two search fields are POSTed and kept out of URLs (xinqiao.people.search), and the
    # browser is asked not to keep them in its form history either.
    q = forms.CharField(
        label=_("Full name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    lookup = forms.CharField(
        label=_("ID number or phone (exact)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority level"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("All"))] + [(i, str(i)) for i in range(1, 5)],
    )
    group = forms.ChoiceField(
        label=_("Target group"), required=False, choices=[("", _("All")), *TargetGroup.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Active")),
            (FileStatus.ARCHIVED, _("Archived")),
            (FileStatus.ERASED, _("Erased")),
        ],
    )


class GroupForm(forms.Form):
    group = forms.ChoiceField(label=_("Target group"), choices=TargetGroup.choices)
    date_from = forms.DateField(label=_("From"), widget=DATE, initial=timezone.localdate)
    date_to = forms.DateField(label=_("Until"), required=False, widget=DATE)


class EndGroupForm(forms.Form):
    date_to = forms.DateField(label=_("Until"), widget=DATE, initial=timezone.localdate)


class HospitalForm(forms.Form):
    hospital = forms.CharField(label=_("Hospital"), max_length=100)
    admitted_on = forms.DateField(label=_("Admitted"), widget=DATE)
    discharged_on = forms.DateField(label=_("Discharged"), required=False, widget=DATE)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=HospitalOutcome.choices)


class IsolationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IsolationKind.choices)
    place = forms.CharField(label=_("Place"), max_length=200)
    site = forms.ModelChoiceField(
        label=_("Isolation site"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("For centralised isolation at a site of the org tree."),
    )
    started_on = forms.DateField(label=_("Start"), widget=DATE)
    ended_on = forms.DateField(label=_("End"), required=False, widget=DATE)

    def __init__(self, *args: Any, sites: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sites is not None:
            self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class FamilyForm(forms.Form):
    SIDES = [
        ("person", _("This person is the patient / deceased / minor")),
        ("relative", _("This person is the family member / guardian")),
    ]
    side = forms.ChoiceField(
        label=_("This file is"), choices=SIDES, initial="relative", widget=forms.RadioSelect
    )
    kind = forms.ChoiceField(label=_("Kind of link"), choices=LinkKind.choices)
    relationship = forms.ChoiceField(
        label=_("Relationship"),
        choices=Relationship.choices,
        help_text=_("What the family member or guardian is to the patient, deceased or minor."),
    )
    other_id_type = forms.ChoiceField(
        label=_("Other person's document type"), choices=IdType.choices, initial=IdType.RESIDENT_ID
    )
    other_id_number = forms.CharField(
        label=_("Other person's document number"),
        required=False,
        max_length=40,
        help_text=_("To link an existing file. Leave empty to record a new person below."),
    )
    other_name = forms.CharField(
        label=_("Or: name of a person without a file"), required=False, max_length=100
    )
    other_deceased = forms.BooleanField(label=_("That person has died"), required=False)
    other_date_of_death = forms.DateField(label=_("Date of death"), required=False, widget=DATE)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    given_by = forms.ChoiceField(label=_("Given by"), choices=ConsentGiver.choices)
    guardian_name = forms.CharField(label=_("Guardian's name"), required=False, max_length=100)
    method = forms.ChoiceField(label=_("Method"), choices=ConsentMethod.choices)
    witness = forms.CharField(
        label=_("Witness (for verbal consent)"), required=False, max_length=100
    )
    given_on = forms.DateField(label=_("Given on"), widget=DATE, initial=timezone.localdate)


class WithdrawForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class TransferForm(forms.Form):
    to_unit = UnitChoiceField(label=_("Receiving unit"), queryset=Unit.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = units  # type: ignore[attr-defined]


class RequestFileForm(TransferForm):
    id_type = forms.ChoiceField(widget=forms.HiddenInput, choices=IdType.choices)
    id_number = forms.CharField(widget=forms.HiddenInput, max_length=40)


class DecideForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda v: v == "1",
        choices=[("1", _("Accept")), ("0", _("Decline"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class EraseForm(forms.Form):
    legal_reason = forms.ChoiceField(label=_("Legal reason"), choices=ErasureReason.choices)
    note = forms.CharField(label=_("Request or decision (number, date, who)"), max_length=300)
    confirm = forms.BooleanField(
        label=_(
            "I understand that the personal data of this file will be destroyed and "
            "cannot be restored."
        ),
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (.xlsx or .csv)"))
    mode = forms.ChoiceField(
        label=_("If some rows have problems"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
