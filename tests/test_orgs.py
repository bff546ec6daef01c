"""Org tree actions (R-ORG) and teams/agreements (R-TEAM)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinqiao.accounts.actions import create_staff
from xinqiao.orgs import actions
from xinqiao.orgs.models import Membership, Team, TeamKind, Unit, UnitKind
from xinqiao.orgs.permissions import Role
from xinqiao.orgs.scope import has_confidentiality_agreement, scoped
from xinqiao.test import PersonaTestCase


class UnitActionTests(PersonaTestCase):
    def test_create_under_allowed_parent_builds_path(self):
        grid = actions.create_unit(
            acting_user=self.street_admin, kind=UnitKind.GRID, name="第三网格", parent=self.c1
        )
        self.assertEqual(grid.path, f"{self.c1.path}{grid.id.hex}/")
        self.assertEqual(grid.depth, self.c1.depth + 1)

    def test_kind_rules_name_the_field(self):
        with self.assertRaises(ValidationError) as ctx:
            actions.create_unit(
                acting_user=self.city_admin, kind=UnitKind.GRID, name="错位", parent=self.demo.city
            )
        self.assertIn("parent", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            actions.create_unit(
                acting_user=self.city_admin, kind=UnitKind.GRID, name="", parent=self.c1
            )
        self.assertIn("name", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            actions.create_unit(
                acting_user=self.city_admin, kind=UnitKind.GRID, name="第一网格", parent=self.c1
            )
        self.assertIn("name", ctx.exception.message_dict)

    def test_only_set_up_commands_create_a_root(self):
        with self.assertRaises(ValidationError):
            actions.create_unit(
                acting_user=self.city_admin, kind=UnitKind.CITY, name="新市", parent=None
            )

    def test_database_refuses_a_second_kind_of_root(self):
        unit = Unit(kind=UnitKind.DISTRICT, name="孤儿区", path="/orphan/")
        with self.assertRaises(IntegrityError), transaction.atomic():
            unit.save()

    def test_street_admin_cannot_create_outside_their_street(self):
        with self.assertRaises(Exception) as ctx:
            actions.create_unit(
                acting_user=self.street_admin, kind=UnitKind.GRID, name="越权", parent=self.c3
            )
        self.assertEqual(type(ctx.exception).__name__, "PermissionDenied")

    def test_move_rewrites_the_whole_subtree_and_scope_follows(self):
        street_b = self.demo.streets[1]  # 南岸街道 (c3, c4)
        grids = list(Unit.objects.filter(parent=self.c1))
        moved = actions.move_unit(acting_user=self.city_admin, unit=self.c1, new_parent=street_b)
        self.assertTrue(moved.path.startswith(street_b.path))
        for grid in grids:
            grid.refresh_from_db()
            self.assertTrue(grid.path.startswith(moved.path))
            self.assertEqual(grid.depth, moved.depth + 1)
        # The old street administrator no longer sees c1; the new street's does.
        self.street_admin = type(self.street_admin).objects.get(pk=self.street_admin.pk)
        self.assertFalse(scoped(Unit.objects.filter(pk=self.c1.pk), self.street_admin).exists())
        s2_admin = self.demo.users["s2_admin"]
        self.assertTrue(scoped(Unit.objects.filter(pk=self.c1.pk), s2_admin).exists())
        # c1's own counsellor keeps seeing c1 and its grids.
        self.assertEqual(scoped(Unit.objects.all(), self.c1_counsellor).count(), 1 + len(grids))

    def test_move_refuses_cycles_and_wrong_kinds(self):
        with self.assertRaises(ValidationError):
            actions.move_unit(
                acting_user=self.city_admin, unit=self.demo.streets[0], new_parent=self.c1
            )
        with self.assertRaises(ValidationError):
            actions.move_unit(
                acting_user=self.city_admin, unit=self.c1, new_parent=self.demo.districts[1]
            )

    def test_deactivate_needs_children_deactivated_and_never_deletes(self):
        with self.assertRaises(ValidationError):
            actions.deactivate_unit(acting_user=self.city_admin, unit=self.c1)
        for grid in Unit.objects.filter(parent=self.c1):
            actions.deactivate_unit(acting_user=self.city_admin, unit=grid)
        actions.deactivate_unit(acting_user=self.city_admin, unit=self.c1)
        self.c1.refresh_from_db()
        self.assertFalse(self.c1.is_active)
        # Memberships in a deactivated unit no longer give scope.
        counsellor = type(self.c1_counsellor).objects.get(pk=self.c1_counsellor.pk)
        self.assertFalse(scoped(Unit.objects.all(), counsellor).exists())
        actions.reactivate_unit(acting_user=self.city_admin, unit=self.c1)

    def test_delete_refused_when_unit_owns_records(self):
        with self.assertRaises(ValidationError) as ctx:
            actions.delete_unit(acting_user=self.city_admin, unit=self.c1)
        self.assertIn("unit", ctx.exception.message_dict)
        self.assertTrue(Unit.objects.filter(pk=self.c1.pk).exists())
        spare = actions.create_unit(
            acting_user=self.city_admin, kind=UnitKind.GRID, name="临时", parent=self.c1
        )
        actions.delete_unit(acting_user=self.city_admin, unit=spare)
        self.assertFalse(Unit.objects.filter(pk=spare.pk).exists())

    def test_rename(self):
        actions.rename_unit(acting_user=self.street_admin, unit=self.c1, name="春晖新社区")
        self.c1.refresh_from_db()
        self.assertEqual(self.c1.name, "春晖新社区")

    def test_service_phone_is_set_on_the_unit_form_and_checked(self):
        client = self.client_for(self.street_admin)
        url = f"/org/units/{self.c1.pk}/edit/"
        bad = client.post(url, {"name": self.c1.name, "service_phone": "电话"})
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, "这似乎不是有效的电话号码")
        self.c1.refresh_from_db()
        self.assertEqual(self.c1.service_phone, "")
        good = client.post(url, {"name": self.c1.name, "service_phone": "0000-555 0199"})
        self.assertEqual(good.status_code, 302)
        self.c1.refresh_from_db()
        self.assertEqual(self.c1.service_phone, "0000-5550199")
        home = self.client.get(f"/p/{self.c1.pk}/")
        self.assertContains(home, 'href="tel:0000-5550199"')


class RoleGrantTests(PersonaTestCase):
    def test_street_admin_grants_frontline_roles_in_their_street_only(self):
        user = create_staff(
            acting_user=self.street_admin,
            username="new_grid",
            name="新网格员",
            password="a-long-pass-123",
            unit=Unit.objects.filter(parent=self.c1).first(),
            role=Role.GRID_WORKER,
        )
        self.assertTrue(Membership.objects.filter(user=user, role=Role.GRID_WORKER).exists())
        with self.assertRaises(ValidationError) as ctx:
            actions.grant_role(
                acting_user=self.street_admin, user=user, unit=self.c3, role=Role.COUNSELLOR
            )
        self.assertIn("role", ctx.exception.message_dict)
        with self.assertRaises(ValidationError):
            actions.grant_role(
                acting_user=self.street_admin, user=user, unit=self.c1, role=Role.CITY_ADMIN
            )

    def test_role_must_fit_the_kind_of_unit(self):
        with self.assertRaises(ValidationError) as ctx:
            actions.grant_role(
                acting_user=self.city_admin,
                user=self.c1_worker,
                unit=self.demo.hotline,
                role=Role.GRID_WORKER,
            )
        self.assertIn("unit", ctx.exception.message_dict)

    def test_weak_password_and_bad_username_are_named(self):
        with self.assertRaises(ValidationError) as ctx:
            create_staff(
                acting_user=self.city_admin,
                username="Bad Name!",
                name="x",
                password="a-long-pass-123",
                unit=self.c1,
                role=Role.COUNSELLOR,
            )
        self.assertIn("username", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            create_staff(
                acting_user=self.city_admin,
                username="goodname",
                name="x",
                password="123",
                unit=self.c1,
                role=Role.COUNSELLOR,
            )
        self.assertIn("password", ctx.exception.message_dict)

    def test_failed_creation_leaves_nothing_behind(self):
        from xinqiao.accounts.models import User

        before = User.objects.count()
        with self.assertRaises(ValidationError):
            create_staff(
                acting_user=self.street_admin,
                username="halfway",
                name="半途",
                password="a-long-pass-123",
                unit=self.c3,
                role=Role.COUNSELLOR,
            )
        self.assertEqual(User.objects.count(), before)


class TeamAndAgreementTests(PersonaTestCase):
    def test_community_team_holds_at_most_five(self):
        team = actions.create_team(
            acting_user=self.street_admin, unit=self.c2, kind=TeamKind.COMMUNITY, name="第二小分队"
        )
        people = [
            self.c2_counsellor,
            self.c2_grid,
            self.demo.users["c2_grid2"],
            self.demo.users["c2_worker"],
            self.demo.users["c2_social"],
        ]
        for person in people:
            actions.add_team_member(acting_user=self.street_admin, team=team, user=person)
        self.assertEqual(team.staffing_problem(5), "")
        with self.assertRaises(ValidationError) as ctx:
            actions.add_team_member(
                acting_user=self.street_admin, team=team, user=self.demo.users["s1_admin"]
            )
        self.assertIn("user", ctx.exception.message_dict)

    def test_understaffed_community_team_is_flagged(self):
        team = Team.objects.get(unit=self.demo.communities[7], kind=TeamKind.COMMUNITY)
        self.assertTrue(team.staffing_problem(team.members.count()))

    def test_member_must_work_in_or_above_the_unit(self):
        team = Team.objects.get(unit=self.c1, kind=TeamKind.COMMUNITY)
        with self.assertRaises(ValidationError):
            actions.add_team_member(acting_user=self.city_admin, team=team, user=self.c2_counsellor)

    def test_agreement_gate(self):
        grid_worker = self.demo.users["c2_grid2"]  # the demo leaves this one unsigned
        self.assertFalse(has_confidentiality_agreement(grid_worker))
        today = timezone.localdate()
        with self.assertRaises(ValidationError) as ctx:
            actions.record_agreement(
                acting_user=self.street_admin,
                user=grid_worker,
                signed_on=today + timedelta(days=1),
                document_reference="BM-1",
            )
        self.assertIn("signed_on", ctx.exception.message_dict)
        agreement = actions.record_agreement(
            acting_user=self.street_admin,
            user=grid_worker,
            signed_on=today,
            document_reference="BM-1",
        )
        self.assertTrue(has_confidentiality_agreement(grid_worker))
        actions.revoke_agreement(acting_user=self.street_admin, agreement=agreement)
        self.assertFalse(has_confidentiality_agreement(grid_worker))

    def test_agreement_only_by_someone_managing_the_person(self):
        with self.assertRaises(ValidationError):
            actions.record_agreement(
                acting_user=self.street_admin,
                user=self.demo.users["c8_grid2"],
                signed_on=timezone.localdate(),
                document_reference="X",
            )
