"""``/api/v1/people/`` (DESIGN.md "Stable interfaces")."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, require, require_confidentiality_agreement, scoped
from xinqiao.people import actions
from xinqiao.people.access import access_person, people_in_scope
from xinqiao.people.models import FileStatus, IdType, Person, Sex, TargetGroup


class PersonSummary(serializers.ModelSerializer[Person]):
    groups = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "sex",
            "birth_date",
            "unit",
            "priority_level",
            "groups",
            "status",
            "is_deceased",
            "created_at",
        ]

    def get_groups(self, person: Person) -> list[str]:
        today = timezone.localdate()
        return [g.group for g in person.groups.all() if g.is_current(today)]


class PersonDetail(PersonSummary):
    class Meta(PersonSummary.Meta):
        fields = [
            *PersonSummary.Meta.fields,
            "id_type",
            "id_number",
            "phone",
            "address",
            "ethnicity",
            "contact_name",
            "contact_relation",
            "contact_phone",
            "notes",
            "date_of_death",
        ]


class PersonCreate(serializers.Serializer[Any]):
    unit = serializers.UUIDField()
    name = serializers.CharField(max_length=100)
    sex = serializers.ChoiceField(choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    ethnicity = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    groups = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetGroup.choices), required=False, default=list
    )


class PeopleList(generics.ListCreateAPIView[Person]):
    """Person files in the caller's scope (active ones; ``?status=archived`` for the others);
    ``?priority_level=1``, ``?q=name``. POST registers a file (409 if the document number has
    one already)."""

    serializer_class = PersonSummary

    def get_queryset(self) -> QuerySet[Person]:
        if getattr(self, "swagger_fake_view", False):
            return Person.objects.none()
        require(self.request.user, Action.PERSON_VIEW)
        require_confidentiality_agreement(self.request.user)
        people = (
            people_in_scope(self.request.user)
            .prefetch_related("groups")
            .filter(status=self.request.query_params.get("status") or FileStatus.ACTIVE)
        )
        level = self.request.query_params.get("priority_level")
        if level and level.isdigit():
            people = people.filter(priority_level=int(level))
        name = self.request.query_params.get("q")
        if name:
            people = people.filter(name__icontains=name)
        log_access(self.request._request, None, kind=AccessKind.LIST, object_type="people.person")
        return people.order_by("name")

    @extend_schema(request=PersonCreate, responses={201: PersonDetail})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PersonCreate(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        unit = get_or_404(
            scoped(Unit.objects.all(), request.user, Action.PERSON_EDIT), values.pop("unit")
        )
        require_confidentiality_agreement(request.user)
        try:
            person = actions.register_person(acting_user=request.user, unit=unit, **values)
        except actions.DuplicatePerson as exc:
            body: dict[str, Any] = {"id_number": exc.messages}
            if exc.person is not None:
                body["existing"] = str(exc.person.pk)
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(PersonDetail(person).data, status=status.HTTP_201_CREATED)


class PersonView(generics.RetrieveAPIView[Person]):
    serializer_class = PersonDetail

    def get_object(self) -> Person:
        person = access_person(self.request.user, self.kwargs["person_id"])
        log_access(self.request._request, person)
        return person
