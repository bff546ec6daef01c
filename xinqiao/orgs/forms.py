from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.accounts.models import User
from xinqiao.orgs.models import (
    ALLOWED_PARENT_KINDS,
    Profession,
    Qualification,
    TeamKind,
    Unit,
    UnitKind,
)
from xinqiao.orgs.permissions import Role


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{'　' * obj.depth}{obj.name} · {obj.kind_label}"


class UnitForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[c for c in UnitKind.choices if c[0] != "city"]
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Administrative code"), max_length=32, required=False)

    def __init__(self, *args: Any, parent: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the kinds that may sit under this parent (ALLOWED_PARENT_KINDS).
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (kind.value, kind.label)
            for kind in UnitKind
            if parent.kind in ALLOWED_PARENT_KINDS[kind]
        ]


class RenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Administrative code"), max_length=32, required=False)
    service_phone = forms.CharField(
        label=_("Service telephone"),
        max_length=40,
        required=False,
        help_text=_(
            "Shown on the unit's portal beside the 24-hour hotline (leave empty to show "
            "the nearest unit above that has one)."
        ),
    )


class MoveForm(forms.Form):
    parent = UnitChoiceField(label=_("New parent unit"), queryset=Unit.objects.none())

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = units  # type: ignore[attr-defined]


class StaffForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=40)
    name = forms.CharField(label=_("Full name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    profession = forms.ChoiceField(label=_("Profession"), choices=Profession.choices)
    qualification = forms.ChoiceField(label=_("Qualification"), choices=Qualification.choices)
    qualification_number = forms.CharField(
        label=_("Certificate number"), max_length=64, required=False
    )

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class ProfileForm(forms.Form):
    profession = forms.ChoiceField(label=_("Profession"), choices=Profession.choices)
    qualification = forms.ChoiceField(label=_("Qualification"), choices=Qualification.choices)
    qualification_number = forms.CharField(
        label=_("Certificate number"), max_length=64, required=False
    )
    is_file_custodian = forms.BooleanField(label=_("Designated file custodian"), required=False)


class GrantForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class AgreementForm(forms.Form):
    signed_on = forms.DateField(
        label=_("Signed on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    document_reference = forms.CharField(label=_("Document reference"), max_length=100)


class TeamForm(forms.Form):
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=TeamKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Staff member"), queryset=User.objects.none())
    is_leader = forms.BooleanField(label=_("Team leader"), required=False)

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
