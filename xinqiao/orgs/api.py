from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import generics, serializers

from xinqiao.accounts.models import User
from xinqiao.audit.log import log_access
from xinqiao.orgs.models import Membership, Team, Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import access_staff, access_team, access_unit, require, scoped


class UnitSerializer(serializers.ModelSerializer[Unit]):
    class Meta:
        model = Unit
        fields = ["id", "kind", "name", "code", "parent", "depth", "is_active"]


class UnitList(generics.ListAPIView[Unit]):
    """Units in the caller's scope, in tree order."""

    serializer_class = UnitSerializer
    filterset_fields = ["kind", "is_active", "parent"]

    def get_queryset(self) -> QuerySet[Unit]:
        return scoped(Unit.objects.all(), self.request.user)


class UnitDetail(generics.RetrieveAPIView[Unit]):
    serializer_class = UnitSerializer

    def get_object(self) -> Unit:
        return access_unit(self.request.user, self.kwargs["unit_id"])


class MembershipSerializer(serializers.ModelSerializer[Membership]):
    class Meta:
        model = Membership
        fields = ["id", "unit", "role"]


class StaffSerializer(serializers.ModelSerializer[User]):
    memberships = MembershipSerializer(many=True, read_only=True)
    profession = serializers.CharField(source="staff_profile.profession", default="")
    qualification = serializers.CharField(source="staff_profile.qualification", default="")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "is_active",
            "profession",
            "qualification",
            "memberships",
        ]


class StaffList(generics.ListAPIView[User]):
    """Staff who hold a role in the caller's scope."""

    serializer_class = StaffSerializer

    def get_queryset(self) -> QuerySet[User]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return User.objects.none()
        require(self.request.user, Action.STAFF_VIEW)
        users = User.objects.select_related("staff_profile").prefetch_related("memberships")
        return scoped(users, self.request.user, Action.STAFF_VIEW)


class StaffDetail(generics.RetrieveAPIView[User]):
    serializer_class = StaffSerializer

    def get_object(self) -> User:
        user = access_staff(self.request.user, self.kwargs["staff_id"])
        log_access(self.request._request, user)
        return user


class TeamSerializer(serializers.ModelSerializer[Team]):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "unit", "kind", "name", "is_active", "members"]

    def get_members(self, team: Team) -> list[dict[str, Any]]:
        return [{"user": str(m.user_id), "is_leader": m.is_leader} for m in team.members.all()]


class TeamList(generics.ListAPIView[Team]):
    serializer_class = TeamSerializer

    def get_queryset(self) -> QuerySet[Team]:
        return scoped(Team.objects.prefetch_related("members"), self.request.user)


class TeamDetail(generics.RetrieveAPIView[Team]):
    serializer_class = TeamSerializer

    def get_object(self) -> Team:
        return access_team(self.request.user, self.kwargs["team_id"])
